//! The span of each HTTP request, the root of its trace (or a child of the caller's span when the request
//! carries a W3C `traceparent`).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use tracing::Instrument;

use super::TARGET;

/// Runs the request inside its span when traces are exported; otherwise passes it on untouched.
pub async fn trace_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !super::enabled() {
        return next.call(req).await;
    }
    // The route's pattern, not the path: an unknown path is the caller's text.
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let span = tracing::info_span!(
        target: TARGET,
        "request",
        otel.name = %format_args!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    );
    super::continue_callers_trace(&span, req.headers());
    let result = next.call(req).instrument(span.clone()).await;
    let status = match &result {
        Ok(response) => response.status(),
        Err(err) => err.as_response_error().status_code(),
    };
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    result
}
