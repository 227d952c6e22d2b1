//! `/export/query.csv`: the rows of a persisted query's one connection as a spreadsheet. The query is named by
//! its SHA-256 (`id`, the `sha256Hash` of the persisted-query API) and runs exactly as persisted, page after page
//! through the path `/graphql` takes — the same token, scope, masks, partners' allow-list, cost limit (per page)
//! and audit trail (per page) — passing each page's `endCursor` in the variable of the connection's `after`
//! argument. Rows are streamed as the pages come, so the first page's refusal (a `FORBIDDEN` field, a bad
//! variable) is still an HTTP error, while a failure after the first row breaks the transfer instead of ending
//! a file that would look complete.

mod connection;

use std::time::Instant;

use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::export::{field, status_of};
use super::graphql::{self, ResponseType, Transport};
use super::{AppState, RequestId};
use crate::auth::viewer::Identity;
use crate::error::code;
use crate::limits::analysis::Rejection;
use connection::Plan;

/// What an export asks for: the persisted query, its variables and, for a document with several operations, the
/// operation's name.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// The persisted query's SHA-256 in hex.
    id: String,
    #[serde(default)]
    variables: Option<Map<String, Value>>,
    #[serde(default, rename = "operationName")]
    operation_name: Option<String>,
}

impl ExportRequest {
    /// The request of `GET /export/query.csv?id=…&variables=…&operationName=…`.
    fn from_parameters(parameters: &[(String, String)]) -> Result<Self, Rejection> {
        let mut seen = std::collections::BTreeSet::new();
        let (mut id, mut variables, mut operation_name) = (None, None, None);
        for (name, value) in parameters {
            if !seen.insert(name.as_str()) {
                return Err(Rejection::bad_input(format!("`{name}` is given twice")));
            }
            match name.as_str() {
                "id" => id = Some(value.clone()),
                "variables" => {
                    let parsed = serde_json::from_str::<Map<String, Value>>(value).map_err(|err| {
                        Rejection::bad_input(format!("`variables` must be a JSON object: {err}"))
                    })?;
                    variables = Some(parsed);
                }
                "operationName" => operation_name = Some(value.clone()),
                other => {
                    return Err(Rejection::bad_input(format!(
                        "unknown parameter `{other}`: the parameters are id, variables and operationName"
                    )));
                }
            }
        }
        let Some(id) = id else { return Err(Rejection::bad_input("`id` is required")) };
        ExportRequest { id, variables, operation_name }.checked()
    }

    fn checked(self) -> Result<Self, Rejection> {
        if self.id.len() != 64 || !self.id.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            return Err(Rejection::bad_input(
                "`id` must be a persisted query's sha256Hash: the SHA-256 of its text in 64 hex digits",
            ));
        }
        Ok(self)
    }

    /// The GraphQL request of one page: the query by hash, the caller's variables and the cursor, if any, in the
    /// variable `after_variable`.
    fn page(&self, cursor: Option<(&str, &str)>) -> async_graphql::Request {
        let mut variables = self.variables.clone().unwrap_or_default();
        if let Some((after_variable, cursor)) = cursor {
            variables.insert(after_variable.to_owned(), Value::String(cursor.to_owned()));
        }
        let mut request = async_graphql::Request::new(String::new())
            .variables(async_graphql::Variables::from_json(Value::Object(variables)));
        request.extensions.0.insert(
            "persistedQuery".into(),
            async_graphql::value!({ "version": 1, "sha256Hash": self.id.to_ascii_lowercase() }),
        );
        if let Some(name) = &self.operation_name {
            request = request.operation_name(name.clone());
        }
        request
    }
}

/// Why an export stopped after its first row was sent: the transfer is broken off with it.
#[derive(Debug, thiserror::Error)]
enum ExportFailed {
    #[error("page {page} was refused ({code}): {message}")]
    Refused { page: u64, code: String, message: String },
    #[error("page {page}: {reason}")]
    Malformed { page: u64, reason: String },
    #[error("the export did not finish within its time budget of {0} ms")]
    OutOfTime(u64),
}

/// The HTTP status of an export refused with `code`.
fn export_status(code: &str) -> StatusCode {
    if code == code::PERSISTED_QUERY_NOT_FOUND { StatusCode::NOT_FOUND } else { status_of(code) }
}

/// The `extensions.code` of an error (`INTERNAL` without one, which [`graphql::ensure_codes`] never leaves).
fn code_of(error: &async_graphql::ServerError) -> String {
    match error.extensions.as_ref().and_then(|extensions| extensions.get("code")) {
        Some(async_graphql::Value::String(text)) => text.clone(),
        _ => code::INTERNAL.to_owned(),
    }
}

/// The refusal of an export before its first row: the errors only (a partial page is not an export), with the
/// status of the first one, 503 and `Retry-After` when the database could not be reached.
fn refusal(errors: &[async_graphql::ServerError]) -> HttpResponse {
    let codes: Vec<String> = errors.iter().map(code_of).collect();
    let unavailable = codes.iter().any(|code| code == code::UNAVAILABLE);
    let status = if unavailable {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        codes.first().map_or(StatusCode::INTERNAL_SERVER_ERROR, |code| export_status(code))
    };
    let mut response = HttpResponse::build(status);
    if unavailable {
        response.insert_header((header::RETRY_AFTER, graphql::UNAVAILABLE_RETRY_AFTER_SECONDS.to_string()));
    }
    response
        .content_type("application/json; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(serde_json::json!({ "errors": errors }).to_string())
}

fn rejected(status: StatusCode, rejection: &Rejection) -> HttpResponse {
    graphql::http_error(status, ResponseType::Json, rejection)
}

/// `GET /export/query.csv?id=<sha256Hash>&variables=<JSON>&operationName=…`.
pub async fn get(
    state: web::Data<AppState>,
    http: HttpRequest,
    parameters: Result<web::Query<Vec<(String, String)>>, actix_web::Error>,
) -> HttpResponse {
    if http.query_string().len() > state.limits.max_body_bytes {
        let limit = state.limits.max_body_bytes;
        let measured = http.query_string().len();
        let rejection = Rejection::exceeded(
            "bytes",
            u64::try_from(limit).unwrap_or(u64::MAX),
            u64::try_from(measured).unwrap_or(u64::MAX),
        );
        return rejected(StatusCode::URI_TOO_LONG, &rejection);
    }
    let parameters = match parameters {
        Ok(parameters) => parameters.into_inner(),
        Err(err) => {
            let rejection = Rejection::bad_input(format!("the parameters cannot be read: {err}"));
            return rejected(StatusCode::BAD_REQUEST, &rejection);
        }
    };
    match ExportRequest::from_parameters(&parameters) {
        Ok(request) => export(state, http, request).await,
        Err(rejection) => rejected(StatusCode::BAD_REQUEST, &rejection),
    }
}

/// `POST /export/query.csv` with `{"id": …, "variables": {…}, "operationName": …}` (variables too long for a
/// URL).
pub async fn post(state: web::Data<AppState>, http: HttpRequest, payload: web::Payload) -> HttpResponse {
    let content_type = http
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if content_type != "application/json" {
        let rejection = Rejection::bad_input("the body must be application/json");
        return rejected(StatusCode::UNSUPPORTED_MEDIA_TYPE, &rejection);
    }
    let body = match graphql::read_body(&http, payload, state.limits.max_body_bytes).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let request = serde_json::from_slice::<ExportRequest>(&body)
        .map_err(|err| Rejection::bad_input(format!("the body is not an export request: {err}")))
        .and_then(ExportRequest::checked);
    match request {
        Ok(request) => export(state, http, request).await,
        Err(rejection) => rejected(StatusCode::BAD_REQUEST, &rejection),
    }
}

/// Runs the export: every check of the first page before the response starts, then the rows page by page.
async fn export(state: web::Data<AppState>, http: HttpRequest, request: ExportRequest) -> HttpResponse {
    let started = Instant::now();
    let deadline = started + state.limits.request_timeout();
    let identity = graphql::identify(&state, &http);
    // One request, one token from the bucket: the pages belong to it, and a bucket emptied half-way would break
    // the file off. The cost limit holds each page, the request timeout the whole.
    if let Some(refused) = graphql::throttle(&state, &http, &identity, 1, ResponseType::Json).await {
        return refused;
    }
    let mut prepared =
        match graphql::prepare(&state, &identity, request.page(None), Transport::QueryExport).await {
            Ok(prepared) => prepared,
            Err(refused) => return refusal(&graphql::refused(&state, refused, started).response.errors),
        };
    let plan = match prepared.request.parsed_query() {
        Ok(document) => connection::plan(document, request.operation_name.as_deref(), &state.model),
        Err(error) => Err(Rejection::bad_input(error.message)),
    };
    let plan = match plan {
        Ok(plan) => plan,
        Err(rejection) => return rejected(StatusCode::BAD_REQUEST, &rejection),
    };
    let time_left = deadline.saturating_duration_since(Instant::now());
    let outcome = graphql::execute(&state, &http, &identity, prepared, started, time_left).await;
    if !outcome.response.errors.is_empty() {
        return refusal(&outcome.response.errors);
    }
    let data = outcome.response.data.into_json().unwrap_or_default();
    let page = match plan.page(&data) {
        Ok(page) => page,
        Err(reason) => return rejected(StatusCode::BAD_REQUEST, &Rejection::bad_input(reason)),
    };
    let limit = state.limits.max_export_rows;
    let name = request
        .operation_name
        .clone()
        .unwrap_or_else(|| request.id.get(..12).unwrap_or_default().to_ascii_lowercase());
    let request_id = http.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default();
    let mut pager = Pager {
        state,
        http,
        identity,
        request,
        rows_left: limit,
        limit,
        deadline,
        pages: 1,
        cursor: None,
        failed: false,
        request_id,
        plan,
    };
    let mut first = String::from('\u{feff}');
    let header: Vec<String> = pager.plan.columns.iter().map(|column| field(&column.name)).collect();
    first.push_str(&header.join(","));
    first.push_str("\r\n");
    first.push_str(&pager.take(page));
    let first = Bytes::from(first);
    let rest = futures_util::stream::unfold(pager, |mut pager| async move {
        let chunk = pager.next().await?;
        Some((chunk, pager))
    });
    let body = futures_util::StreamExt::chain(
        futures_util::stream::once(std::future::ready(Ok::<_, ExportFailed>(first))),
        rest,
    );
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}.csv\"", file_name(&name)),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-export-row-limit", limit.to_string()))
        .streaming(body)
}

/// A file name from an operation name: letters, digits, `-` and `_` only.
fn file_name(name: &str) -> String {
    let kept: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).collect();
    if kept.is_empty() { "export".to_owned() } else { kept }
}

/// The pages after the first, as the response body asks for them.
struct Pager {
    state: web::Data<AppState>,
    http: HttpRequest,
    identity: Identity,
    request: ExportRequest,
    plan: Plan,
    /// Rows the file may still take.
    rows_left: u64,
    limit: u64,
    deadline: Instant,
    /// Pages run so far.
    pages: u64,
    /// The cursor of the next page; `None` once the file is complete.
    cursor: Option<String>,
    /// A page failed: the stream has ended with its error.
    failed: bool,
    request_id: String,
}

impl Pager {
    /// The CSV lines of a page's rows (up to the row limit, then the line that says the file was cut), and the
    /// cursor of the next page when rows remain within the limit.
    fn take(&mut self, page: connection::Page<'_>) -> String {
        let mut out = String::new();
        let mut nodes = page.nodes.into_iter();
        while self.rows_left > 0 {
            let Some(node) = nodes.next() else { break };
            let cells: Vec<String> = self.plan.cells(node).iter().map(|cell| field(cell)).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
            self.rows_left -= 1;
        }
        let more = nodes.next().is_some() || page.next.is_some();
        if self.rows_left == 0 && more {
            out.push_str(&field(&format!(
                "TRUNCATED: the export stops at its limit of {} rows and more rows remain; narrow the query's \
                 filter to export the rest",
                self.limit
            )));
            out.push_str("\r\n");
            self.cursor = None;
        } else {
            self.cursor = page.next;
        }
        out
    }

    /// The next page's lines; `None` once the file is complete.
    async fn next(&mut self) -> Option<Result<Bytes, ExportFailed>> {
        if self.failed {
            return None;
        }
        let cursor = self.cursor.take()?;
        let result = self.run(&cursor).await;
        if let Err(err) = &result {
            self.failed = true;
            tracing::warn!(
                request_id = %self.request_id,
                error = %err,
                "an export broke off after its first rows"
            );
        }
        Some(result)
    }

    async fn run(&mut self, cursor: &str) -> Result<Bytes, ExportFailed> {
        let time_left = self.deadline.saturating_duration_since(Instant::now());
        if time_left.is_zero() {
            return Err(ExportFailed::OutOfTime(self.state.limits.request_timeout_ms));
        }
        self.pages += 1;
        let page = self.pages;
        let request = self.request.page(Some((&self.plan.after_variable, cursor)));
        let outcome = graphql::run_within(
            &self.state,
            &self.http,
            &self.identity,
            request,
            Transport::QueryExport,
            time_left,
        )
        .await;
        if let Some(error) = outcome.response.errors.first() {
            let code = code_of(error);
            let out_of_time = error
                .extensions
                .as_ref()
                .and_then(|extensions| extensions.get("measure"))
                .is_some_and(|measure| *measure == async_graphql::Value::from("timeoutMs"));
            if out_of_time {
                return Err(ExportFailed::OutOfTime(self.state.limits.request_timeout_ms));
            }
            return Err(ExportFailed::Refused { page, code, message: error.message.clone() });
        }
        let data = outcome.response.data.into_json().unwrap_or_default();
        let page = self.plan.page(&data).map_err(|reason| ExportFailed::Malformed { page, reason })?;
        Ok(Bytes::from(self.take(page)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn parameters_are_read_and_bad_ones_named() {
        let hash = "A".repeat(64);
        let request =
            ExportRequest::from_parameters(&pairs(&[("id", &hash), ("variables", r#"{"first": 5}"#)]))
                .unwrap();
        assert_eq!(request.variables.as_ref().and_then(|v| v.get("first")), Some(&Value::from(5)));
        let page = request.page(Some(("after", "c1")));
        assert_eq!(page.variables.get("after"), Some(&async_graphql::Value::from("c1")));
        assert_eq!(page.variables.get("first"), Some(&async_graphql::Value::from(5)));
        assert!(page.query.is_empty(), "the query goes by its hash");
        for (bad, named) in [
            (vec![("variables", "{}")], "`id` is required"),
            (vec![("id", "abc")], "64 hex digits"),
            (vec![("id", &hash), ("variables", "[1]")], "JSON object"),
            (vec![("id", &hash), ("query", "{ x }")], "unknown parameter `query`"),
            (vec![("id", &hash), ("id", &hash)], "twice"),
        ] {
            let rejection = ExportRequest::from_parameters(&pairs(&bad)).unwrap_err();
            assert!(rejection.message.contains(named), "{}", rejection.message);
        }
        assert_eq!(file_name("Volunteers-2025"), "Volunteers-2025");
        assert_eq!(file_name("\"; rm"), "rm");
        assert_eq!(file_name("区"), "export");
    }
}
