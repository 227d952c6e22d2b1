//! Cursors: the position of a row in its page's order, opaque to callers; and the keys of nested loaders.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ApiError;

/// The value of the sort key a cursor points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CursorKey {
    Int(i64),
    Text(String),
    Date(chrono::NaiveDate),
    Instant(chrono::DateTime<chrono::Utc>),
    /// A sort value with the row id that breaks ties, for connections ordered by a non-unique column.
    Sorted(Box<CursorKey>, i64),
}

impl CursorKey {
    /// The opaque cursor handed to callers.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.raw())
    }

    fn raw(&self) -> String {
        match self {
            CursorKey::Int(n) => format!("i:{n}"),
            CursorKey::Text(s) => format!("s:{s}"),
            CursorKey::Date(d) => format!("d:{d}"),
            CursorKey::Instant(t) => format!("t:{}", t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            CursorKey::Sorted(value, id) => format!("o:{id}:{}", value.raw()),
        }
    }

    fn from_raw(raw: &str) -> Option<Self> {
        match raw.split_once(':')? {
            ("i", n) => n.parse().ok().map(CursorKey::Int),
            ("s", s) => Some(CursorKey::Text(s.to_owned())),
            ("d", d) => d.parse().ok().map(CursorKey::Date),
            ("t", t) => chrono::DateTime::parse_from_rfc3339(t).ok().map(|t| CursorKey::Instant(t.to_utc())),
            ("o", rest) => {
                let (id, value) = rest.split_once(':')?;
                let value = CursorKey::from_raw(value).filter(|v| !matches!(v, CursorKey::Sorted(..)))?;
                Some(CursorKey::Sorted(Box::new(value), id.parse().ok()?))
            }
            _ => None,
        }
    }

    /// Reads a cursor back; `argument` names the argument in the error.
    pub fn decode(cursor: &str, argument: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::bad_input(argument, "not a cursor returned by this API");
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let raw = String::from_utf8(bytes).map_err(|_| invalid())?;
        CursorKey::from_raw(&raw).ok_or_else(invalid)
    }

    /// The sort value a cursor points at, as a statement value (a sorted key's value without its tie-breaking id).
    pub fn into_value(self) -> sea_orm::Value {
        match self {
            CursorKey::Int(n) => n.into(),
            CursorKey::Text(s) => s.into(),
            CursorKey::Date(d) => d.into(),
            CursorKey::Instant(t) => t.into(),
            CursorKey::Sorted(value, _) => value.into_value(),
        }
    }
}

/// The key of a nested connection's loader: the parent and the field's arguments. Siblings asked for with the
/// same arguments share one statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NestedKey<A> {
    pub parent: i64,
    pub args: A,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for key in [
            CursorKey::Int(42),
            CursorKey::Int(-1),
            CursorKey::Text("330902001".into()),
            CursorKey::Date(chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
            CursorKey::Instant(chrono::DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap()),
            CursorKey::Sorted(Box::new(CursorKey::Text("王:芳".into())), 7),
        ] {
            assert_eq!(CursorKey::decode(&key.encode(), "after").unwrap(), key);
        }
        assert!(CursorKey::decode("not base64!", "after").is_err());
        assert!(CursorKey::decode(&URL_SAFE_NO_PAD.encode("x:1"), "after").is_err());
    }
}
