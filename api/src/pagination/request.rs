//! The standard Relay arguments of a connection, validated once.

use async_graphql::Context;

use super::{CursorKey, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::error::ApiError;

/// The standard Relay arguments, validated. Hashable, so nested connections can batch by them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<CursorKey>,
    pub before: Option<CursorKey>,
    /// `last` was given: take the page from the end.
    pub backward: bool,
    /// The selection reads `totalCount`: a top-level page statement carries it (see [`PageRequest::counting`]).
    pub count_total: bool,
}

impl PageRequest {
    /// Validates `first`/`after`/`last`/`before`: at most one of `first` and `last`, sizes 0..=500.
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Self, ApiError> {
        let size = |value: i32, argument: &str| -> Result<u64, ApiError> {
            let value =
                u64::try_from(value).map_err(|_| ApiError::bad_input(argument, "must not be negative"))?;
            if value > MAX_PAGE_SIZE {
                return Err(ApiError::bad_input(
                    argument,
                    format!("at most {MAX_PAGE_SIZE} items per page, asked for {value}"),
                ));
            }
            Ok(value)
        };
        let (limit, backward) = match (first, last) {
            (Some(_), Some(_)) => {
                return Err(ApiError::bad_input("last", "pass either `first` or `last`, not both"));
            }
            (Some(first), None) => (size(first, "first")?, false),
            (None, Some(last)) => (size(last, "last")?, true),
            (None, None) => (DEFAULT_PAGE_SIZE, before.is_some()),
        };
        Ok(Self {
            limit,
            after: after.as_deref().map(|c| CursorKey::decode(c, "after")).transpose()?,
            before: before.as_deref().map(|c| CursorKey::decode(c, "before")).transpose()?,
            backward,
            count_total: false,
        })
    }

    /// Notes whether the connection's selection reads `totalCount`, so that the page statement can count
    /// the matching rows itself instead of a second statement counting them afterwards.
    pub fn counting(mut self, ctx: &Context<'_>) -> Self {
        self.count_total = ctx.look_ahead().field("totalCount").exists();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_are_capped() {
        assert_eq!(PageRequest::new(None, None, None, None).unwrap().limit, DEFAULT_PAGE_SIZE);
        assert_eq!(PageRequest::new(Some(500), None, None, None).unwrap().limit, 500);
        let err = PageRequest::new(Some(501), None, None, None).unwrap_err();
        assert!(matches!(err, ApiError::BadInput { ref field, .. } if field == "first"));
        assert!(PageRequest::new(Some(-1), None, None, None).is_err());
        assert!(PageRequest::new(Some(1), None, Some(1), None).is_err());
        assert!(PageRequest::new(None, None, Some(10), None).unwrap().backward);
    }
}
