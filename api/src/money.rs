//! The `Money` scalar: amounts in yuan as decimal strings with two decimals (`"5000.00"`), stored and computed as
//! integer fen (`i64`). Floating point never touches money: input is parsed digit by digit.
//!
//! A malformed amount is not rejected by the scalar itself, because GraphQL's own coercion errors carry no
//! `extensions.code`; it is kept as invalid and the resolver reports it as `BAD_USER_INPUT` naming the argument
//! ([`Money::fen`], [`Money::positive_fen`]).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

use crate::error::ApiError;

/// The largest amount accepted: 999,999,999,999.99 yuan, far above any fund, far below `i64` overflow in sums.
pub const MAX_FEN: i64 = 99_999_999_999_999;

/// An amount of money in yuan (or the reason it could not be read, for input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money(Result<i64, String>);

impl Money {
    /// An amount of `fen` fen (1 yuan = 100 fen).
    pub fn from_fen(fen: i64) -> Self {
        Money(Ok(fen))
    }

    /// The amount in fen, or `BAD_USER_INPUT` naming `field` when the input was malformed.
    pub fn fen(&self, field: &str) -> Result<i64, ApiError> {
        self.0.clone().map_err(|reason| ApiError::bad_input(field, reason))
    }

    /// Like [`Money::fen`], and the amount must be more than zero.
    pub fn positive_fen(&self, field: &str) -> Result<i64, ApiError> {
        match self.fen(field)? {
            0 => Err(ApiError::bad_input(field, "must be more than 0.00")),
            fen => Ok(fen),
        }
    }
}

/// Formats fen as yuan with exactly two decimals: `500000` → `"5000.00"`, `-5` → `"-0.05"`.
pub fn format_fen(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Parses a non-negative amount of yuan: digits, optionally a point and one or two more digits. No sign, no
/// exponent, no spaces, no thousands separators, no leading zeros (except a lone `0`), at most [`MAX_FEN`].
pub fn parse_yuan(text: &str) -> Result<i64, String> {
    let malformed = || format!("{text:?} is not an amount of yuan like \"5000.00\" (at most two decimals)");
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || (whole.len() > 1 && whole.starts_with('0')) {
        return Err(malformed());
    }
    let cents = match fraction {
        None => 0,
        Some(fraction) if all_digits(fraction) && fraction.len() <= 2 => {
            let value: i64 = fraction.parse().map_err(|_| malformed())?;
            if fraction.len() == 1 { value * 10 } else { value }
        }
        Some(_) => return Err(malformed()),
    };
    if whole.len() > 12 {
        return Err(format!("{text:?} is more than the largest amount, {}", format_fen(MAX_FEN)));
    }
    let yuan: i64 = whole.parse().map_err(|_| malformed())?;
    Ok(yuan * 100 + cents)
}

/// An amount of money in yuan: a string with exactly two decimals, e.g. `"5000.00"` (五千元). Input accepts at
/// most two decimals and no sign, exponent or separators; a malformed amount is a `BAD_USER_INPUT` error.
#[Scalar(name = "Money")]
impl ScalarType for Money {
    fn parse(value: Value) -> InputValueResult<Self> {
        match value {
            Value::String(text) => Ok(Money(parse_yuan(&text))),
            Value::Number(_) => Ok(Money(Err(
                "give amounts as a decimal string like \"5000.00\", never as a number".to_owned(),
            ))),
            other => Err(InputValueError::expected_type(other)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(_) | Value::Number(_))
    }

    fn to_value(&self) -> Value {
        match &self.0 {
            Ok(fen) => Value::String(format_fen(*fen)),
            Err(_) => Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_two_decimals() {
        assert_eq!(format_fen(500_000), "5000.00");
        assert_eq!(format_fen(0), "0.00");
        assert_eq!(format_fen(7), "0.07");
        assert_eq!(format_fen(1_050), "10.50");
        assert_eq!(format_fen(-5), "-0.05");
        assert_eq!(format_fen(-123_456), "-1234.56");
        assert_eq!(format_fen(MAX_FEN), "999999999999.99");
    }

    #[test]
    fn parses_strictly() {
        assert_eq!(parse_yuan("5000.00"), Ok(500_000));
        assert_eq!(parse_yuan("5000"), Ok(500_000));
        assert_eq!(parse_yuan("5000.5"), Ok(500_050));
        assert_eq!(parse_yuan("0.01"), Ok(1));
        assert_eq!(parse_yuan("0"), Ok(0));
        assert_eq!(parse_yuan("999999999999.99"), Ok(MAX_FEN));
        for bad in [
            "",
            "-1",
            "+1",
            "1e3",
            "1E3",
            "1.234",
            "1.",
            ".5",
            " 1",
            "1 ",
            "1,000",
            "01",
            "00.10",
            "1.2.3",
            "NaN",
            "inf",
            "１",
            "1.-1",
            "1000000000000",
            "0x10",
        ] {
            assert!(parse_yuan(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn round_trips() {
        for fen in [0, 1, 99, 100, 12_345, 500_000, MAX_FEN] {
            assert_eq!(parse_yuan(&format_fen(fen)), Ok(fen));
        }
    }

    #[test]
    fn scalar_keeps_bad_input_for_the_resolver() {
        let ok = <Money as ScalarType>::parse(Value::String("12.30".into())).unwrap();
        assert_eq!(ok.fen("amount").unwrap(), 1_230);
        assert_eq!(ok.to_value(), Value::String("12.30".into()));
        let float = <Money as ScalarType>::parse(Value::from(12.3)).unwrap();
        assert_eq!(float.fen("amount").unwrap_err().code(), "BAD_USER_INPUT");
        let exponent = <Money as ScalarType>::parse(Value::String("1e2".into())).unwrap();
        assert_eq!(exponent.fen("amount").unwrap_err().code(), "BAD_USER_INPUT");
        let zero = <Money as ScalarType>::parse(Value::String("0.00".into())).unwrap();
        assert_eq!(zero.fen("amount").unwrap(), 0);
        assert_eq!(zero.positive_fen("amount").unwrap_err().code(), "BAD_USER_INPUT");
        assert!(<Money as ScalarType>::parse(Value::Boolean(true)).is_err());
    }
}
