//! Checks of user input shared by the mutations. Each returns a `BAD_USER_INPUT` error naming the field.

use chrono::{Duration, NaiveDate, Utc};

use crate::auth::Viewer;
use crate::auth::viewer::Identity;

use crate::error::ApiError;

/// Today in Zhoushan (China Standard Time, UTC+8, no daylight saving): the day that dates entered by people
/// refer to. With the UTC date, today's date would count as "in the future" every morning before 08:00.
pub fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

/// A date that must not lie after [`today`].
pub fn not_future(field: &str, day: NaiveDate) -> Result<NaiveDate, ApiError> {
    if day > today() {
        return Err(ApiError::bad_input(field, "must not be in the future"));
    }
    Ok(day)
}

/// The name recorded as visitor or assessor: the token's `name` claim, else its subject (at most 64 characters).
pub fn actor_name(viewer: &Viewer) -> String {
    let name = match &viewer.identity {
        Identity::Token { claims, .. } => {
            claims.name.as_deref().map(str::trim).filter(|name| !name.is_empty())
        }
        _ => None,
    };
    name.unwrap_or_else(|| viewer.subject()).chars().take(64).collect()
}

/// The GB 11643-1999 check character of the first 17 digits of an identity card number (ISO 7064 MOD 11-2).
pub fn id_check_char(first17: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (ch, weight) in first17.chars().zip(WEIGHTS) {
        sum += ch.to_digit(10)? * weight;
    }
    Some(CHECK[(sum % 11) as usize])
}

/// Whether an 18-character identity card number is well formed: digits, a real birth date, the right check
/// character.
pub fn id_number_is_valid(id: &str) -> bool {
    if id.len() != 18 || !id.is_ascii() {
        return false;
    }
    let (body, check) = id.split_at(17);
    let birth_ok = NaiveDate::parse_from_str(&body[6..14], "%Y%m%d").is_ok();
    birth_ok && id_check_char(body).is_some_and(|c| check.starts_with(c))
}

/// A Chinese identity card number; returns it upper-cased (a final `x` is common in typed input).
pub fn id_number(field: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim().to_ascii_uppercase();
    if id_number_is_valid(&value) {
        Ok(value)
    } else {
        Err(ApiError::bad_input(field, "not a valid 18-character identity card number (check digit or date)"))
    }
}

/// A mainland mobile number: 11 digits starting with 1.
pub fn mobile(field: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.len() == 11 && value.starts_with('1') && value.chars().all(|c| c.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad_input(field, "not an 11-digit mobile number"))
    }
}

/// The longest code of a region, team, fund or person (`varchar(32)` in every table).
pub const MAX_CODE_CHARS: usize = 32;

/// A code naming a row (a grid, a team, a fund): trimmed, not blank, at most [`MAX_CODE_CHARS`] characters. A
/// longer one cannot name anything, and is refused before any lookup.
pub fn code<'a>(field: &str, value: &'a str) -> Result<&'a str, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::bad_input(field, "must not be blank"));
    }
    if value.chars().count() > MAX_CODE_CHARS {
        return Err(ApiError::bad_input(field, format!("a code has at most {MAX_CODE_CHARS} characters")));
    }
    Ok(value)
}

/// Free text that must not be blank and must fit its column.
pub fn text(field: &str, value: &str, max_chars: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::bad_input(field, "must not be blank"));
    }
    if value.chars().count() > max_chars {
        return Err(ApiError::bad_input(field, format!("at most {max_chars} characters")));
    }
    Ok(value.to_owned())
}

/// Optional free text: blank becomes `None`.
pub fn optional_text(field: &str, value: Option<&str>, max_chars: usize) -> Result<Option<String>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(value) => text(field, value, max_chars).map(Some),
        None => Ok(None),
    }
}

/// The longest an idempotency key may be.
pub const MAX_KEY_CHARS: usize = 128;

/// Validates an idempotency key: 1 to 128 characters, kept exactly as sent, no control characters, not blank.
pub fn idempotency_key(field: &str, key: &str) -> Result<String, ApiError> {
    let chars = key.chars().count();
    if chars == 0 || chars > MAX_KEY_CHARS {
        return Err(ApiError::bad_input(field, format!("1 to {MAX_KEY_CHARS} characters")));
    }
    if key.trim().is_empty() || key.chars().any(char::is_control) {
        return Err(ApiError::bad_input(field, "must not be blank or contain control characters"));
    }
    Ok(key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_numbers() {
        assert!(id_number_is_valid("11010519491231002X"));
        assert!(!id_number_is_valid("110105194912310021"));
        assert_eq!(id_number("idNumber", " 11010519491231002x ").unwrap(), "11010519491231002X");
        assert!(id_number("idNumber", "12345").is_err());
    }

    #[test]
    fn phones_and_text() {
        assert_eq!(mobile("phone", "13812345678").unwrap(), "13812345678");
        assert!(mobile("phone", "0580-123456").is_err());
        assert!(text("name", "  ", 10).is_err());
        assert!(text("name", "张三", 1).is_err());
        assert_eq!(optional_text("note", Some("  "), 10).unwrap(), None);
    }

    #[test]
    fn keys_are_bounded() {
        assert!(idempotency_key("k", "a").is_ok());
        assert!(idempotency_key("k", &"x".repeat(128)).is_ok());
        assert!(idempotency_key("k", &"x".repeat(129)).is_err());
        assert!(idempotency_key("k", "").is_err());
        assert!(idempotency_key("k", "   ").is_err());
        assert!(idempotency_key("k", "a\nb").is_err());
        assert!(idempotency_key("k", "付款-2026-0001").is_ok());
    }
}
