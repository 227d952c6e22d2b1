//! The schema's date and time scalars, named and described as frontend tooling expects them (graphql-scalars'
//! `Date` and `DateTime`, each `@specifiedBy` RFC 3339) instead of after the Rust types behind them. They wrap
//! chrono's `NaiveDate` and `DateTime<Utc>`; resolvers convert at the edge and work with chrono inside.

use std::ops::Deref;

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{NaiveDate, Utc};

/// A calendar day: `Date` in the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

/// A calendar date, RFC 3339 `full-date`: `"2026-12-06"`. Days are days in Zhoushan (China Standard Time,
/// UTC+8) wherever the API counts or compares them.
#[Scalar(name = "Date", specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom(format!("{text:?} is not a date like \"2026-12-06\""))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// An instant: `DateTime` in the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub chrono::DateTime<Utc>);

/// An instant, RFC 3339 `date-time` with its offset: `"2026-12-06T08:30:00+00:00"`. Any offset is accepted
/// (`"2026-12-06T16:30:00+08:00"` is the same instant); answers are in UTC.
#[Scalar(name = "DateTime", specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339")]
impl ScalarType for Timestamp {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
                .map(|instant| Timestamp(instant.with_timezone(&Utc)))
                .map_err(|_| {
                    InputValueError::custom(format!(
                        "{text:?} is not an RFC 3339 date-time like \"2026-12-06T16:30:00+08:00\""
                    ))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339())
    }
}

impl Deref for Date {
    type Target = NaiveDate;
    fn deref(&self) -> &NaiveDate {
        &self.0
    }
}

impl Deref for Timestamp {
    type Target = chrono::DateTime<Utc>;
    fn deref(&self) -> &chrono::DateTime<Utc> {
        &self.0
    }
}

impl From<NaiveDate> for Date {
    fn from(day: NaiveDate) -> Self {
        Date(day)
    }
}

impl From<Date> for NaiveDate {
    fn from(day: Date) -> Self {
        day.0
    }
}

impl From<chrono::DateTime<Utc>> for Timestamp {
    fn from(instant: chrono::DateTime<Utc>) -> Self {
        Timestamp(instant)
    }
}

impl From<Timestamp> for chrono::DateTime<Utc> {
    fn from(instant: Timestamp) -> Self {
        instant.0
    }
}

// Bound as SQL values and compared as what they wrap, so that filters and checks read the same as before.
impl From<Date> for sea_orm::Value {
    fn from(day: Date) -> Self {
        day.0.into()
    }
}

impl From<Timestamp> for sea_orm::Value {
    fn from(instant: Timestamp) -> Self {
        instant.0.into()
    }
}

impl PartialEq<NaiveDate> for Date {
    fn eq(&self, other: &NaiveDate) -> bool {
        self.0 == *other
    }
}

impl PartialOrd<NaiveDate> for Date {
    fn partial_cmp(&self, other: &NaiveDate) -> Option<std::cmp::Ordering> {
        self.0.partial_cmp(other)
    }
}

impl PartialEq<chrono::DateTime<Utc>> for Timestamp {
    fn eq(&self, other: &chrono::DateTime<Utc>) -> bool {
        self.0 == *other
    }
}

impl PartialOrd<chrono::DateTime<Utc>> for Timestamp {
    fn partial_cmp(&self, other: &chrono::DateTime<Utc>) -> Option<std::cmp::Ordering> {
        self.0.partial_cmp(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_instants_read_and_write_rfc_3339() {
        let day = <Date as ScalarType>::parse(Value::String("2026-12-06".into())).unwrap();
        assert_eq!(day.to_value(), Value::String("2026-12-06".into()));
        assert!(<Date as ScalarType>::parse(Value::String("2026-13-01".into())).is_err());
        assert!(<Date as ScalarType>::parse(Value::from(20261206)).is_err());
        let local =
            <Timestamp as ScalarType>::parse(Value::String("2026-12-06T16:30:00+08:00".into())).unwrap();
        assert_eq!(local.to_value(), Value::String("2026-12-06T08:30:00+00:00".into()));
        assert!(<Timestamp as ScalarType>::parse(Value::String("yesterday".into())).is_err());
    }
}
