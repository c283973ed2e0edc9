//! Readable numbers for the page, shared with the CLI's text output.

pub use crate::output::{human_bytes, thousands};

pub fn duration_ms(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{:.0} min {:.0} s", (ms / 60_000.0).floor(), (ms % 60_000.0) / 1000.0)
    }
}

pub fn u(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

pub fn s(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

/// A report time for people: `2026-11-26 10:30:50 UTC`, to the second (the exact time stays in
/// the report and in the flow table's hover text).
pub fn when(t: &str) -> String {
    match crate::browser::state::report_seconds(t) {
        Some(secs) => format!("{} UTC", crate::browser::state::clock(secs, 0)),
        None => t.to_string(),
    }
}

/// A report value for people rather than as JSON: `531 ×21, 1045 ×3` for (length, count) pairs,
/// `records 21, application data records 21` for an object, lists joined by commas.
pub fn readable(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_string(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item.as_array().map(Vec::as_slice) {
                Some([value, Value::Number(count)]) if !value.is_array() => format!("{} ×{count}", readable(value)),
                _ => readable(item),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(map) => {
            map.iter().map(|(k, v)| format!("{} {}", k.replace('_', " "), readable(v))).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}
