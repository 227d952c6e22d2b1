//! CORS: off unless origins are configured (`GOVGRAPH_CORS_ORIGINS`). Allowed origins get the CORS headers and
//! preflights are answered; everyone else gets none, so browsers keep other sites' pages out. Because
//! `/graphql` accepts only JSON bodies (415 otherwise) and refuses mutations over GET (405), every cross-origin
//! request that could change something needs a preflight.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use super::AppState;

/// Headers a browser may send cross-origin.
const ALLOWED_HEADERS: &str = "authorization, content-type, accept, x-access-purpose, x-request-id";

/// Adds CORS headers for allowed origins and answers their preflights.
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let origin = req.headers().get(header::ORIGIN).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let allowed = match (&origin, req.app_data::<web::Data<AppState>>()) {
        (Some(origin), Some(state)) => {
            state.limits.cors_origins.iter().any(|allowed| allowed == "*" || allowed == origin)
        }
        _ => false,
    };
    let Some(origin) = origin.filter(|_| allowed) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let preflight =
        req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let response = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .finish();
        req.into_response(response)
    } else {
        next.call(req).await?.map_into_boxed_body()
    };
    let headers = response.headers_mut();
    if let Ok(value) = header::HeaderValue::from_str(&origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    }
    headers.insert(header::VARY, header::HeaderValue::from_static("Origin"));
    Ok(response)
}
