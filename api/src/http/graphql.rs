//! `/graphql` per the GraphQL-over-HTTP specification: the body is read with a cap (413 before it is read
//! whole), only JSON (and `application/graphql`) bodies are accepted (415), the response type is negotiated
//! from `Accept` (`application/graphql-response+json` or `application/json`), mutations are refused over GET
//! (405), batches are capped. The caller is decoded once and held to its rate limit (429). Each operation's
//! persisted query is resolved ([`super::persisted`]), partners are held to the allow-list, and the text is
//! measured against the query limits before it runs. Then the request's data is attached, the operation
//! executed within its time budget, its reads audited, and metrics recorded. WebSocket subscriptions go through
//! the same [`prepare`] (see [`super::ws`]).

use std::time::{Duration, Instant};

use actix_web::http::{StatusCode, header};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, ServerError};
use futures_util::StreamExt;
use tracing::Instrument;

use super::persisted;
use super::rate_limit::Decision;
use super::{AppState, RequestId};
use crate::auth::jwt::TokenError;
use crate::auth::viewer::Identity;
use crate::auth::{Role, Viewer};
use crate::error::code;
use crate::limits::analysis::{self, Rejection};
use crate::request::RequestData;

/// [`operation_index`]'s answer for mutations.
const OPERATION_MUTATION: usize = 1;
/// [`operation_index`]'s answer for requests that never ran.
const OPERATION_INVALID: usize = 3;

/// Header in which a caller states why they access personal data.
pub const PURPOSE_HEADER: &str = "x-access-purpose";

/// The GraphQL-over-HTTP response media type.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The response media type the caller accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// `application/graphql-response+json`: request errors get 400.
    GraphqlResponse,
    /// `application/json` (legacy): every well-formed request gets 200.
    Json,
}

impl ResponseType {
    fn content_type(self) -> &'static str {
        match self {
            ResponseType::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            ResponseType::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response type from `Accept`: `application/graphql-response+json` when it is accepted at least as
/// much as `application/json`, otherwise `application/json` (also without `Accept`, or for types we do not
/// serve).
pub fn negotiate(http: &HttpRequest) -> ResponseType {
    let Some(accept) = http.headers().get(header::ACCEPT).and_then(|value| value.to_str().ok()) else {
        return ResponseType::Json;
    };
    let (mut graphql, mut json) = (0.0f32, 0.0f32);
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let quality = parts
            .filter_map(|param| param.strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()))
            .next()
            .unwrap_or(1.0);
        match media.as_str() {
            GRAPHQL_RESPONSE_JSON => graphql = graphql.max(quality),
            "application/json" | "application/*" | "*/*" => json = json.max(quality),
            _ => {}
        }
    }
    if graphql > 0.0 && graphql >= json { ResponseType::GraphqlResponse } else { ResponseType::Json }
}

/// One executed (or refused) operation.
pub(super) struct Outcome {
    pub(super) response: async_graphql::Response,
    /// The operation never ran (unparseable, invalid, over a limit): no `data` entry, 400 under
    /// `application/graphql-response+json`.
    request_error: bool,
    /// A mutation sent with GET: 405.
    method_not_allowed: bool,
    /// Must not be cached (an unknown persisted query: the client registers it next).
    no_store: bool,
}

/// `POST /graphql`.
pub async fn post(state: web::Data<AppState>, http: HttpRequest, payload: web::Payload) -> HttpResponse {
    let response_type = negotiate(&http);
    let content_type = http
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if content_type != "application/json" && content_type != "application/graphql" {
        return http_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            response_type,
            &Rejection::bad_input("the body must be application/json (or application/graphql)"),
        );
    }
    let body = match read_body(&http, payload, state.limits.max_body_bytes).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let batch = if content_type == "application/graphql" {
        match String::from_utf8(body.to_vec()) {
            Ok(query) => BatchRequest::Single(async_graphql::Request::new(query)),
            Err(_) => {
                let rejection = Rejection::bad_input("the body is not UTF-8");
                return http_error(StatusCode::BAD_REQUEST, response_type, &rejection);
            }
        }
    } else {
        // Decided by the first character: serde would also read an array as one request's fields in order.
        let is_array = body.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'[');
        let parsed = if is_array {
            serde_json::from_slice::<Vec<async_graphql::Request>>(&body).map(BatchRequest::Batch)
        } else {
            serde_json::from_slice::<async_graphql::Request>(&body).map(BatchRequest::Single)
        };
        match parsed {
            Ok(batch) => batch,
            Err(err) => {
                let rejection = Rejection::bad_input(format!("the body is not a GraphQL request: {err}"));
                return http_error(StatusCode::BAD_REQUEST, response_type, &rejection);
            }
        }
    };
    let identity = identify(&state, &http);
    let operations = match &batch {
        BatchRequest::Single(_) => 1,
        BatchRequest::Batch(requests) => requests.len(),
    };
    if let Some(refused) = throttle(&state, &http, &identity, operations, response_type).await {
        return refused;
    }
    match batch {
        BatchRequest::Single(request) => {
            let outcome = run(&state, &http, &identity, request, Transport::Post).await;
            respond(response_type, outcome)
        }
        BatchRequest::Batch(requests) => {
            let size = requests.len();
            if size == 0 || size > state.limits.max_batch {
                let rejection = if size == 0 {
                    Rejection::bad_input("the batch is empty")
                } else {
                    Rejection::exceeded("batch", count(state.limits.max_batch), count(size))
                };
                return http_error(StatusCode::BAD_REQUEST, response_type, &rejection);
            }
            let mut bodies = Vec::with_capacity(size);
            for request in requests {
                let outcome = run(&state, &http, &identity, request, Transport::Post).await;
                bodies.push(body_of(outcome));
            }
            HttpResponse::Ok()
                .content_type(response_type.content_type())
                .body(serde_json::Value::Array(bodies).to_string())
        }
    }
}

/// `GET /graphql`: a WebSocket for subscriptions when it asks for an upgrade ([`super::ws`]), GraphiQL for a
/// browser, otherwise a query in the URL (never a mutation: 405).
pub async fn get(state: web::Data<AppState>, http: HttpRequest, body: web::Payload) -> HttpResponse {
    if super::ws::is_upgrade(&http) {
        return super::ws::upgrade(state, http, body).await;
    }
    let wants_html = http
        .headers()
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html && http.query_string().is_empty() {
        return super::graphiql::page();
    }
    let response_type = negotiate(&http);
    if http.query_string().len() > state.limits.max_body_bytes {
        let rejection = Rejection::exceeded(
            "bytes",
            count(state.limits.max_body_bytes),
            count(http.query_string().len()),
        );
        return http_error(StatusCode::URI_TOO_LONG, response_type, &rejection);
    }
    let request = match async_graphql::http::parse_query_string(http.query_string()) {
        Ok(request) => request,
        Err(err) => {
            let rejection = Rejection::bad_input(format!("the URL is not a GraphQL request: {err}"));
            return http_error(StatusCode::BAD_REQUEST, response_type, &rejection);
        }
    };
    let identity = identify(&state, &http);
    if let Some(refused) = throttle(&state, &http, &identity, 1, response_type).await {
        return refused;
    }
    let outcome = run(&state, &http, &identity, request, Transport::Get).await;
    if outcome.method_not_allowed {
        let rejection = Rejection::bad_input("mutations must be sent with POST");
        let mut response = http_error(StatusCode::METHOD_NOT_ALLOWED, response_type, &rejection);
        response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return response;
    }
    respond(response_type, outcome)
}

/// Reads the body, refusing one larger than `limit` bytes with 413: at once when `Content-Length` says so,
/// otherwise as soon as the bytes read pass the limit.
pub(super) async fn read_body(
    http: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Vec<u8>, HttpResponse> {
    let response_type = negotiate(http);
    let too_large = |measured: usize| {
        let rejection = Rejection::exceeded("bytes", count(limit), count(measured));
        http_error(StatusCode::PAYLOAD_TOO_LARGE, response_type, &rejection)
    };
    let declared = http
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if let Some(declared) = declared
        && declared > limit
    {
        return Err(too_large(declared));
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|err| {
            http_error(
                StatusCode::BAD_REQUEST,
                response_type,
                &Rejection::bad_input(format!("the body could not be read: {err}")),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(body.len() + chunk.len()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Takes `operations` from the caller's rate-limit bucket; the 429 response when it is empty.
pub(super) async fn throttle(
    state: &AppState,
    http: &HttpRequest,
    identity: &Identity,
    operations: usize,
    response_type: ResponseType,
) -> Option<HttpResponse> {
    let limiter = &state.traffic.limiter;
    let caller = limiter.caller(identity, http);
    let (decision, failed_open) = limiter.check(&caller, operations).await;
    if failed_open {
        state.metrics.record_rate_limit_failed_open();
    }
    let Decision::Limited { retry_after_seconds } = decision else {
        return None;
    };
    state.metrics.record_rate_limited(caller.is_token());
    let error = serde_json::to_value(rate_limited(retry_after_seconds)).unwrap_or_default();
    Some(
        HttpResponse::build(StatusCode::TOO_MANY_REQUESTS)
            .content_type(response_type.content_type())
            .insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(serde_json::json!({ "errors": [error] }).to_string()),
    )
}

/// How an operation reached the server, which decides the operation types it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `POST /graphql`: queries and mutations.
    Post,
    /// `GET /graphql?query=…`: queries only (a mutation is 405).
    Get,
    /// A `subscribe` message over WebSocket: subscriptions only.
    WebSocket,
    /// `GET /export/statistics.csv`: the server's own fixed query of an export, run as if allow-listed; queries
    /// only.
    Export,
    /// `/export/query.csv`: a caller's persisted query, run page after page; queries only, and held to the
    /// partners' allow-list like any query of theirs.
    QueryExport,
}

/// An operation that passed every check made before execution: its persisted query resolved, the partners'
/// allow-list, the query limits and the caller's cost budget.
pub struct Prepared {
    /// The request, carrying its parsed document.
    pub request: async_graphql::Request,
    /// Index of its operation type among [`super::metrics::OPERATION_TYPES`].
    pub operation: usize,
    /// Its cost and the caller's budget.
    pub cost: (u64, u64),
}

/// An operation refused before execution.
pub struct Refusal {
    pub rejection: Rejection,
    /// Index of its operation type among [`super::metrics::OPERATION_TYPES`] (`invalid` when unknown).
    pub operation: usize,
    /// Its cost and the caller's budget, when it got as far as costing.
    pub cost: Option<(u64, u64)>,
    /// A mutation sent with GET: 405.
    pub method_not_allowed: bool,
}

impl Refusal {
    fn new(rejection: Rejection, operation: usize, cost: Option<(u64, u64)>) -> Self {
        Self { rejection, operation, cost, method_not_allowed: false }
    }
}

/// Resolves one operation's persisted query and measures it against the limits and the caller's budget, before
/// any database work: what HTTP requests and WebSocket subscriptions share.
pub async fn prepare(
    state: &AppState,
    identity: &Identity,
    request: async_graphql::Request,
    transport: Transport,
) -> Result<Prepared, Refusal> {
    let limits = &state.limits;
    let mut request = request;
    let store = &state.traffic.persisted;
    let resolution = match store.resolve(&mut request).await {
        Ok(resolution) => resolution,
        Err(rejection) => return Err(Refusal::new(rejection, OPERATION_INVALID, None)),
    };
    let partner = matches!(identity, Identity::Token { roles, .. } if roles.contains(&Role::Partner));
    let allow_listed = resolution.allow_listed || transport == Transport::Export;
    if partner && store.partner_allow_list_only() && !allow_listed {
        return Err(Refusal::new(persisted::partner_refused(), OPERATION_INVALID, None));
    }
    let document = match state.documents.get(&request.query) {
        Some(document) => {
            state.metrics.record_parsed_document(true);
            document
        }
        None => {
            if let Err(rejection) = analysis::check_scan(&request.query, limits) {
                return Err(Refusal::new(rejection, OPERATION_INVALID, None));
            }
            state.metrics.record_parsed_document(false);
            match async_graphql::parser::parse_query(&request.query) {
                Ok(document) => {
                    state.documents.keep(&request.query, &document);
                    document
                }
                Err(err) => {
                    return Err(Refusal::new(Rejection::bad_input(err.to_string()), OPERATION_INVALID, None));
                }
            }
        }
    };
    let analysis = match analysis::analyze(
        &document,
        request.operation_name.as_deref(),
        &request.variables,
        &state.model,
        limits,
    ) {
        Ok(analysis) => analysis,
        Err(rejection) => return Err(Refusal::new(rejection, OPERATION_INVALID, None)),
    };
    // The schema executes the document parsed here instead of parsing the query a second time.
    request.set_parsed_query(document);
    let operation = operation_index(analysis.operation);
    match (transport, analysis.operation) {
        (Transport::QueryExport, OperationType::Mutation | OperationType::Subscription) => {
            return Err(Refusal::new(Rejection::bad_input("an export runs a query"), operation, None));
        }
        (Transport::Get | Transport::Export, OperationType::Mutation) => {
            let rejection = Rejection::bad_input("mutations must be sent with POST");
            return Err(Refusal { method_not_allowed: true, ..Refusal::new(rejection, operation, None) });
        }
        (Transport::Post | Transport::Get | Transport::Export, OperationType::Subscription) => {
            let rejection = Rejection::bad_input(
                "subscriptions are served over WebSocket at /graphql (subprotocol graphql-transport-ws)",
            );
            return Err(Refusal::new(rejection, operation, None));
        }
        (Transport::WebSocket, OperationType::Query | OperationType::Mutation) => {
            let rejection = Rejection::bad_input(
                "only subscriptions are served over WebSocket: send queries and mutations over HTTP",
            );
            return Err(Refusal::new(rejection, operation, None));
        }
        _ => {}
    }

    let roles: &[Role] = match identity {
        Identity::Token { roles, .. } => roles,
        _ => &[],
    };
    let budget = limits.complexity_for(roles);
    let requested = analysis.measures.cost;
    if requested > budget {
        let rejection = Rejection::exceeded("complexity", budget, requested);
        return Err(Refusal::new(rejection, operation, Some((requested, budget))));
    }
    let authenticated = matches!(identity, Identity::Token { .. });
    if !authenticated && !limits.allow_anonymous_introspection {
        if analysis.measures.introspection {
            let rejection = Rejection {
                code: code::UNAUTHENTICATED,
                message: "introspection requires authentication".into(),
                measure: None,
                limit: None,
                measured: None,
            };
            return Err(Refusal::new(rejection, operation, Some((requested, budget))));
        }
        request = request.disable_introspection();
    }

    if let Some(hash) = &resolution.register {
        store.register(hash, &request.query).await;
    }
    Ok(Prepared { request, operation, cost: (requested, budget) })
}

/// The error of a caller over its rate limit.
pub fn rate_limited(retry_after_seconds: u64) -> ServerError {
    let mut error = ServerError::new(
        format!("rate limit exceeded: too many requests, retry in {retry_after_seconds} s"),
        None,
    );
    error.extensions = Some({
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", code::RATE_LIMITED);
        ext.set("retryAfterSeconds", retry_after_seconds);
        ext
    });
    error
}

/// Resolves one operation's persisted query, measures it against the limits and, when it passes, executes it
/// within the request timeout.
pub(super) async fn run(
    state: &AppState,
    http: &HttpRequest,
    identity: &Identity,
    request: async_graphql::Request,
    transport: Transport,
) -> Outcome {
    run_within(state, http, identity, request, transport, state.limits.request_timeout()).await
}

/// [`run`] with `time_left` for the execution: what remains of the request timeout for one page of an export.
pub(super) async fn run_within(
    state: &AppState,
    http: &HttpRequest,
    identity: &Identity,
    request: async_graphql::Request,
    transport: Transport,
    time_left: Duration,
) -> Outcome {
    let started = Instant::now();
    match prepare(state, identity, request, transport)
        .instrument(tracing::info_span!(target: crate::telemetry::TARGET, "graphql.prepare"))
        .await
    {
        Ok(prepared) => execute(state, http, identity, prepared, started, time_left).await,
        Err(refusal) => refused(state, refusal, started),
    }
}

/// The outcome of an operation refused before execution (`started` when its request arrived).
pub(super) fn refused(state: &AppState, refusal: Refusal, started: Instant) -> Outcome {
    state.metrics.record_graphql(refusal.operation, started.elapsed(), true);
    let mut response = async_graphql::Response::from_errors(vec![refusal.rejection.to_server_error()]);
    if let Some((requested, limit)) = refusal.cost {
        response.extensions.insert("cost".into(), cost_value(requested, limit));
    }
    Outcome {
        response,
        request_error: true,
        method_not_allowed: refusal.method_not_allowed,
        no_store: refusal.rejection.code == code::PERSISTED_QUERY_NOT_FOUND,
    }
}

/// Executes a prepared operation within `time_left` and audits its reads (`started` when its request arrived).
pub(super) async fn execute(
    state: &AppState,
    http: &HttpRequest,
    identity: &Identity,
    prepared: Prepared,
    started: Instant,
    time_left: Duration,
) -> Outcome {
    let limits = &state.limits;
    let refuse = |refusal: Refusal| refused(state, refusal, started);
    let Prepared { request, operation, cost: (requested, budget) } = prepared;

    let request_id = http.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default();
    let purpose = match stated_purpose(http) {
        Ok(purpose) => purpose,
        Err(rejection) => return refuse(Refusal::new(rejection, operation, Some((requested, budget)))),
    };
    let viewer = Viewer::new(identity.clone(), purpose, request_id, state.regions.clone());
    let read_log = viewer.read_log.clone();
    let data = RequestData::new(state.db.clone(), viewer, state.events.clone());
    if operation == OPERATION_MUTATION {
        data.disable_caching();
    }
    let viewer = data.viewer.clone();
    // Running out of time drops the execution: its pending statements are cancelled and an open transaction
    // rolls back. Nothing was read for the caller, so there is nothing to audit.
    let executed = tokio::time::timeout(time_left, state.schema.execute(request.data(data))).await;
    let mut response = match executed {
        Ok(response) => response,
        Err(_) => {
            read_log.take();
            let timeout = limits.request_timeout_ms;
            let mut rejection = Rejection::exceeded(
                "timeoutMs",
                timeout,
                u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            );
            rejection.message = format!("the request did not finish within its time budget of {timeout} ms");
            let mut response = async_graphql::Response::from_errors(vec![rejection.to_server_error()]);
            response.extensions.insert("cost".into(), cost_value(requested, budget));
            state.metrics.record_graphql(operation, started.elapsed(), true);
            return Outcome { response, request_error: false, method_not_allowed: false, no_store: false };
        }
    };
    // Protected data leaves only with its audit event written; if that fails, nothing leaves.
    if let Err(error) = audit_reads(state, &viewer).await {
        response = async_graphql::Response::from_errors(vec![error]);
    }
    state.metrics.record_graphql(operation, started.elapsed(), response.is_err());
    let request_error = classify_errors(&mut response);
    response.extensions.insert("cost".into(), cost_value(requested, budget));
    Outcome { response, request_error, method_not_allowed: false, no_store: false }
}

/// Writes the audit events of the protected fields `viewer` returned in clear since the last call. When they
/// cannot be written, the error to answer with instead of the data (`UNAVAILABLE` or `INTERNAL`).
pub async fn audit_reads(state: &AppState, viewer: &Viewer) -> Result<(), ServerError> {
    let Some(reads) = viewer.read_log.take() else { return Ok(()) };
    let Err(err) = crate::audit::record_reads(&state.read_audit, &state.db, viewer, reads).await else {
        return Ok(());
    };
    tracing::error!(error = %err, request_id = %viewer.request_id, "could not write the audit event");
    let (message, code) = if err.unavailable() {
        ("the database is unavailable: the access could not be audited; retry later", code::UNAVAILABLE)
    } else {
        ("internal error: the access could not be audited", code::INTERNAL)
    };
    let mut error = ServerError::new(message, None);
    error.extensions = Some({
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", code);
        ext
    });
    Err(error)
}

/// Gives every error of `response` a code, and tells whether the operation never ran: validation errors of
/// async-graphql (unknown fields, wrong argument types) come without a path or a code, and nothing ran; they
/// are `BAD_USER_INPUT`. Every other error without a code goes through [`ensure_codes`].
pub fn classify_errors(response: &mut async_graphql::Response) -> bool {
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| {
            error.path.is_empty() && error.extensions.as_ref().is_none_or(|ext| ext.get("code").is_none())
        });
    if request_error {
        for error in &mut response.errors {
            error.extensions.get_or_insert_with(Default::default).set("code", code::BAD_USER_INPUT);
        }
    }
    ensure_codes(&mut response.errors);
    request_error
}

/// Gives every error that has none an `extensions.code`. Errors raised while async-graphql coerces a literal or
/// a variable during execution (an `Int` out of range, a malformed custom scalar, a required variable not sent)
/// carry a path but no code: those are `BAD_USER_INPUT`. Anything else without a code did not come through [`crate::error::ApiError`]:
/// it is logged and answered as `INTERNAL` with a generic message, so that no internal detail leaks.
pub fn ensure_codes(errors: &mut [ServerError]) {
    for error in errors {
        if error.extensions.as_ref().is_some_and(|ext| ext.get("code").is_some()) {
            continue;
        }
        let coercion = error.message.starts_with("Failed to parse ")
            || (error.message.starts_with("Variable ") && error.message.ends_with(" is not defined."));
        let code = if coercion {
            code::BAD_USER_INPUT
        } else {
            tracing::error!(message = %error.message, "an error without a code; answered as INTERNAL");
            error.message = "internal error".to_owned();
            code::INTERNAL
        };
        error.extensions.get_or_insert_with(Default::default).set("code", code);
    }
}

/// The purpose of access the request states in `X-Access-Purpose`: at most
/// [`MAX_PURPOSE_CHARS`](crate::auth::jwt::MAX_PURPOSE_CHARS) characters of UTF-8, recorded whole in the audit
/// trail (never shortened: a shortened purpose would misstate why someone looked).
pub fn stated_purpose(http: &HttpRequest) -> Result<Option<String>, Rejection> {
    let Some(value) = http.headers().get(PURPOSE_HEADER) else { return Ok(None) };
    let text = std::str::from_utf8(value.as_bytes())
        .map_err(|_| Rejection::bad_input("the X-Access-Purpose header is not UTF-8"))?;
    checked_purpose(text)
}

/// A stated purpose of access, trimmed: at most [`MAX_PURPOSE_CHARS`](crate::auth::jwt::MAX_PURPOSE_CHARS)
/// characters; `None` when empty.
pub fn checked_purpose(text: &str) -> Result<Option<String>, Rejection> {
    let text = text.trim();
    let max = crate::auth::jwt::MAX_PURPOSE_CHARS;
    if text.chars().count() > max {
        return Err(Rejection::bad_input(format!(
            "the X-Access-Purpose header has at most {max} characters"
        )));
    }
    Ok(Some(text.to_owned()).filter(|text| !text.is_empty()))
}

fn cost_value(requested: u64, limit: u64) -> async_graphql::Value {
    async_graphql::value!({ "requested": requested, "limit": limit })
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The JSON of one outcome: without `data` when the operation never ran.
fn body_of(outcome: Outcome) -> serde_json::Value {
    let mut body = serde_json::to_value(&outcome.response).unwrap_or_else(|err| {
        tracing::error!(error = %err, "could not serialize a GraphQL response");
        serde_json::json!({ "errors": [{ "message": "internal error", "extensions": { "code": code::INTERNAL } }] })
    });
    if outcome.request_error
        && let Some(object) = body.as_object_mut()
    {
        object.remove("data");
    }
    body
}

/// Seconds a client is asked to wait before resending a request the database could not serve.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u32 = 1;

/// The HTTP response of one operation: 503 with `Retry-After` when the database could not be reached.
pub(super) fn respond(response_type: ResponseType, outcome: Outcome) -> HttpResponse {
    let unavailable = outcome.response.errors.iter().any(|error| {
        error.extensions.as_ref().and_then(|ext| ext.get("code"))
            == Some(&async_graphql::Value::from(code::UNAVAILABLE))
    });
    let status = if unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else if outcome.request_error && response_type == ResponseType::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut builder = HttpResponse::build(status);
    if unavailable {
        builder.insert_header((header::RETRY_AFTER, UNAVAILABLE_RETRY_AFTER_SECONDS.to_string()));
    }
    builder.content_type(response_type.content_type());
    if outcome.no_store || unavailable {
        builder.insert_header((header::CACHE_CONTROL, "no-store"));
    } else if let Some(cache_control) = outcome.response.cache_control.value() {
        builder.insert_header((header::CACHE_CONTROL, cache_control));
    }
    for (name, value) in &outcome.response.http_headers {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_str().as_bytes()),
            header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            builder.append_header((name, value));
        }
    }
    builder.body(body_of(outcome).to_string())
}

/// An HTTP-level refusal with a GraphQL error body.
pub(super) fn http_error(
    status: StatusCode,
    response_type: ResponseType,
    rejection: &Rejection,
) -> HttpResponse {
    let error = serde_json::to_value(rejection.to_server_error()).unwrap_or_default();
    HttpResponse::build(status)
        .content_type(response_type.content_type())
        .body(serde_json::json!({ "errors": [error] }).to_string())
}

/// The caller behind the `Authorization` header.
pub(super) fn identify(state: &AppState, http: &HttpRequest) -> Identity {
    match http.headers().get(header::AUTHORIZATION) {
        None => Identity::Anonymous,
        Some(value) => identify_authorization(state, value.to_str().ok()),
    }
}

/// The caller behind an `Authorization` value (`Bearer <token>`; `None` when it is not text), verified as every
/// transport verifies it.
pub fn identify_authorization(state: &AppState, value: Option<&str>) -> Identity {
    let token = value
        .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
        .map(str::trim);
    let Some(token) = token else {
        return Identity::Refused(TokenError::Invalid);
    };
    match state.verifier.verify(token) {
        Ok(claims) => {
            let mut roles: Vec<Role> =
                claims.roles.iter().filter_map(|name| Role::from_claim(name)).collect();
            roles.sort();
            roles.dedup();
            Identity::Token { claims: Box::new(claims), roles }
        }
        Err(reason) => Identity::Refused(reason),
    }
}

/// Index into the metrics' operation types.
pub fn operation_index(operation: OperationType) -> usize {
    match operation {
        OperationType::Query => 0,
        OperationType::Mutation => OPERATION_MUTATION,
        OperationType::Subscription => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(error: &ServerError) -> Option<String> {
        match error.extensions.as_ref()?.get("code")? {
            async_graphql::Value::String(code) => Some(code.clone()),
            _ => None,
        }
    }

    #[test]
    fn every_error_leaves_with_a_code_and_internal_ones_with_no_detail() {
        let mut coded = ServerError::new("not allowed", None);
        coded.extensions = Some({
            let mut ext = async_graphql::ErrorExtensionValues::default();
            ext.set("code", code::FORBIDDEN);
            ext
        });
        let mut errors = vec![
            ServerError::new(
                "Failed to parse \"Int\": Only integers from -2147483648 to 2147483647 are accepted.",
                None,
            ),
            ServerError::new("Variable code is not defined.", None),
            ServerError::new("relation \"volunteer\" does not exist", None),
            coded,
        ];
        ensure_codes(&mut errors);
        let codes: Vec<Option<String>> = errors.iter().map(code_of).collect();
        assert_eq!(
            codes,
            [Some("BAD_USER_INPUT"), Some("BAD_USER_INPUT"), Some("INTERNAL"), Some("FORBIDDEN")]
                .map(|c| c.map(str::to_owned))
        );
        assert_eq!(errors[2].message, "internal error");
        assert_eq!(errors[3].message, "not allowed");
    }
}
