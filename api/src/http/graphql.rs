//! `/graphql`: decodes the caller once, attaches the request's data, executes, records metrics.

use std::time::Instant;

use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql_actix_web::{GraphQLRequest, GraphQLResponse};

use super::{AppState, RequestId};
use crate::auth::jwt::TokenError;
use crate::auth::viewer::Identity;
use crate::auth::{Role, Viewer};
use crate::request::RequestData;

/// [`operation_type`]'s answer for mutations.
const OPERATION_MUTATION: usize = 1;

/// Header in which a caller states why they access personal data.
pub const PURPOSE_HEADER: &str = "x-access-purpose";

/// `POST /graphql`.
pub async fn post(state: web::Data<AppState>, http: HttpRequest, request: GraphQLRequest) -> GraphQLResponse {
    execute(&state, &http, request.into_inner()).await
}

/// `GET /graphql`: GraphiQL for a browser, otherwise a query in the URL.
pub async fn get(state: web::Data<AppState>, http: HttpRequest, payload: web::Payload) -> HttpResponse {
    let wants_html = http
        .headers()
        .get(header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html && http.query_string().is_empty() {
        let page = GraphiQLSource::build().endpoint("/graphql").title("govgraph").finish();
        return HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page);
    }
    match GraphQLRequest::from_request(&http, &mut payload.into_inner()).await {
        Ok(request) => {
            let response = execute(&state, &http, request.into_inner()).await;
            actix_web::Responder::respond_to(response, &http).map_into_boxed_body()
        }
        Err(err) => HttpResponse::from_error(err),
    }
}

async fn execute(state: &AppState, http: &HttpRequest, request: async_graphql::Request) -> GraphQLResponse {
    let started = Instant::now();
    let operation = operation_type(&request);
    let request_id = http.extensions().get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default();
    let purpose = http
        .headers()
        .get(PURPOSE_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().chars().take(200).collect::<String>());
    let viewer = Viewer::new(identify(state, http), purpose, request_id);
    let read_log = viewer.read_log.clone();
    let data = RequestData::new(state.db.clone(), viewer);
    if operation == OPERATION_MUTATION {
        data.disable_caching();
    }
    let viewer = data.viewer.clone();
    let mut response = state.schema.execute(request.data(data)).await;
    // Protected data leaves only with its audit event written; if that fails, nothing leaves.
    if let Some(reads) = read_log.take()
        && let Err(err) = crate::audit::record_reads(&state.db, &viewer, reads).await
    {
        tracing::error!(error = %err, request_id = %viewer.request_id, "could not write the audit event");
        response = async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(
            "internal error: the access could not be audited",
            None,
        )]);
        response.errors[0].extensions = Some({
            let mut ext = async_graphql::ErrorExtensionValues::default();
            ext.set("code", crate::error::code::INTERNAL);
            ext
        });
    }
    state.metrics.record_graphql(operation, started.elapsed(), response.is_err());
    response.into()
}

/// The caller behind the `Authorization` header.
fn identify(state: &AppState, http: &HttpRequest) -> Identity {
    let Some(value) = http.headers().get(header::AUTHORIZATION) else {
        return Identity::Anonymous;
    };
    let token = value
        .to_str()
        .ok()
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

/// Index into the metrics' operation types of the operation the request will run.
fn operation_type(request: &async_graphql::Request) -> usize {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return 3;
    };
    let operation = match &document.operations {
        DocumentOperations::Single(operation) => Some(operation.node.ty),
        DocumentOperations::Multiple(operations) => match &request.operation_name {
            Some(name) => operations.get(name.as_str()).map(|operation| operation.node.ty),
            None => operations.values().next().map(|operation| operation.node.ty),
        },
    };
    match operation {
        Some(OperationType::Query) => 0,
        Some(OperationType::Mutation) => 1,
        Some(OperationType::Subscription) => 2,
        None => 3,
    }
}
