//! Fields of the JSON exports of comment services (Waline, Twikoo, Valine), as their
//! storages write them: ids as strings or numbers, dates in several shapes.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// A non-empty string field, trimmed.
pub fn text(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// An id: a string, a number (SQL storages; 0 is none), or MongoDB's `{"$oid": ...}`.
pub fn id(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) if n.as_u64() != Some(0) => Some(n.to_string()),
        Value::Object(o) => o.get("$oid").and_then(text),
        _ => text(value),
    }
}

/// A date: a string as [`parse_date`](super::parse_date) reads it (RFC 3339,
/// `2024-03-05T10:20:30.000Z`; SQL's `2024-03-05 10:20:30`, UTC, as Waline writes it),
/// Unix milliseconds, LeanCloud's `{"__type": "Date", "iso": ...}` or MongoDB's
/// `{"$date": ...}`.
pub fn date(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::String(s) => super::parse_date(s),
        Value::Number(n) => DateTime::from_timestamp_millis(n.as_i64()?),
        Value::Object(o) => date(o.get("iso").or_else(|| o.get("$date"))?),
        _ => None,
    }
}
