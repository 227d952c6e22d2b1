//! What the API can answer when something goes wrong, and the one place where each failure gets its stable
//! `extensions.code`. Resolvers return [`ApiError`]; database and internal errors are logged here with their
//! detail and answered with a generic message, so nothing about the schema or the data leaks to the caller.

use async_graphql::ErrorExtensions;

/// The stable `extensions.code` values; frontends switch on these strings.
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const INSUFFICIENT_FUNDS: &str = "INSUFFICIENT_FUNDS";
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    pub const INTERNAL: &str = "INTERNAL";
    /// A persisted query's hash is unknown: send the query text with it (Apollo's automatic persisted queries).
    pub const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// Over the caller's rate limit (HTTP 429, with `extensions.retryAfterSeconds`).
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// The database could not be reached; nothing was changed that the caller cannot safely retry (HTTP 503 with
    /// `Retry-After`; mutations are resent with the same idempotency key).
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
}

/// An error a resolver answers with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required: {0}")]
    Unauthenticated(String),
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("invalid value for `{field}`: {message}")]
    BadInput { field: String, message: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("insufficient funds: {0}")]
    InsufficientFunds(String),
    #[error("query too complex: {0}")]
    TooComplex(String),
    #[error("{}", database_message(.0))]
    Database(#[from] sea_orm::DbErr),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A `BAD_USER_INPUT` error naming the offending field or argument.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadInput { field: field.into(), message: message.into() }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => code::UNAUTHENTICATED,
            Self::Forbidden(_) => code::FORBIDDEN,
            Self::BadInput { .. } => code::BAD_USER_INPUT,
            Self::NotFound(_) => code::NOT_FOUND,
            Self::Conflict(_) => code::CONFLICT,
            Self::InsufficientFunds(_) => code::INSUFFICIENT_FUNDS,
            Self::TooComplex(_) => code::QUERY_TOO_COMPLEX,
            Self::Database(err) if crate::db::is_unavailable(err) => code::UNAVAILABLE,
            Self::Database(_) | Self::Internal(_) => code::INTERNAL,
        }
    }

    /// Maps a database error, turning unique-constraint violations into `CONFLICT`.
    pub fn from_db(err: sea_orm::DbErr, what: &str) -> Self {
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                Self::Conflict(format!("{what} already exists"))
            }
            _ => Self::Database(err),
        }
    }
}

/// What a database error says to the caller: nothing about the statement or the data.
fn database_message(err: &sea_orm::DbErr) -> &'static str {
    if crate::db::is_unavailable(err) {
        "the database is unavailable: retry later (mutations with the same idempotency key)"
    } else {
        "internal error"
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        match self {
            Self::Database(err) => tracing::error!(error = %err, "database error"),
            Self::Internal(detail) => tracing::error!(detail = %detail, "internal error"),
            _ => {}
        }
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code());
            if let Self::BadInput { field, .. } = self {
                ext.set("field", field.as_str());
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.extend()
    }
}

/// The result type of resolvers.
pub type ApiResult<T> = Result<T, async_graphql::Error>;

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(err: ApiError) -> String {
        let gql: async_graphql::Error = err.into();
        let ext = gql.extensions.expect("extensions are set");
        match ext.get("code") {
            Some(async_graphql::Value::String(code)) => code.clone(),
            other => panic!("no string code: {other:?}"),
        }
    }

    #[test]
    fn every_variant_has_its_code() {
        assert_eq!(code_of(ApiError::Unauthenticated("x".into())), "UNAUTHENTICATED");
        assert_eq!(code_of(ApiError::Forbidden("x".into())), "FORBIDDEN");
        assert_eq!(code_of(ApiError::bad_input("first", "too big")), "BAD_USER_INPUT");
        assert_eq!(code_of(ApiError::NotFound("region")), "NOT_FOUND");
        assert_eq!(code_of(ApiError::Conflict("x".into())), "CONFLICT");
        assert_eq!(code_of(ApiError::InsufficientFunds("x".into())), "INSUFFICIENT_FUNDS");
        assert_eq!(code_of(ApiError::TooComplex("x".into())), "QUERY_TOO_COMPLEX");
        assert_eq!(code_of(ApiError::Internal("secret detail".into())), "INTERNAL");
        let closed = sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(
            sea_orm::sqlx::Error::PoolClosed,
        )));
        assert_eq!(code_of(ApiError::Database(closed)), "UNAVAILABLE");
        assert_eq!(code_of(ApiError::Database(sea_orm::DbErr::Custom("x".into()))), "INTERNAL");
    }

    #[test]
    fn internal_errors_do_not_leak_detail() {
        let gql: async_graphql::Error =
            ApiError::Database(sea_orm::DbErr::Custom("table volunteer broke".into())).into();
        assert_eq!(gql.message, "internal error");
    }

    #[test]
    fn bad_input_names_the_field() {
        let gql: async_graphql::Error = ApiError::bad_input("first", "at most 500").into();
        assert!(gql.message.contains("`first`"));
        let ext = gql.extensions.expect("extensions are set");
        assert_eq!(ext.get("field"), Some(&async_graphql::Value::from("first")));
    }
}
