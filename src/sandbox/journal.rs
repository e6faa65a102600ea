//! The request journal: test instrumentation exposed at `GET /_sandbox/journal`.
//!
//! It records every ARM, Graph and token request (not the admin API), with the request
//! body as sent. It holds secrets the tool sends (it is in memory only, never persisted);
//! only the token endpoint's `client_secret` is masked.

use serde::Serialize;
use serde_json::Value;

/// One journal entry.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Entry {
    /// Sequence number from 1, in order of completion.
    pub seq: u64,
    /// Start time (RFC 3339, UTC).
    pub time: String,
    /// HTTP method.
    pub method: String,
    /// Path and query as sent.
    pub path: String,
    /// Response status; `null` when the connection was dropped.
    pub status: Option<u16>,
    /// Wall time spent serving it (ms).
    pub duration_ms: u64,
    /// Request body: JSON as sent, the token form as an object, else a string or null.
    pub request_body: Value,
    /// `x-ms-correlation-request-id` of the response.
    pub correlation_id: Option<String>,
    /// Faults that fired.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<String>,
}

/// Entries in order.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    entries: Vec<Entry>,
    next: u64,
}

impl Journal {
    /// Append an entry, assigning its sequence number.
    pub fn push(&mut self, mut e: Entry) {
        self.next += 1;
        e.seq = self.next;
        self.entries.push(e);
    }

    /// Entries with `seq > since`.
    pub fn since(&self, since: u64) -> Vec<Entry> {
        self.entries
            .iter()
            .filter(|e| e.seq > since)
            .cloned()
            .collect()
    }

    /// Forget every entry (sequence numbers keep counting).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// The body as the journal shows it.
pub(crate) fn body_value(bytes: &[u8], content_type: Option<&str>) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return v;
    }
    let text = String::from_utf8_lossy(bytes).into_owned();
    if content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
        let mut map = serde_json::Map::new();
        for (k, v) in url_decode_pairs(&text) {
            let v = if k == "client_secret" {
                "(redacted)".to_string()
            } else {
                v
            };
            map.insert(k, Value::String(v));
        }
        return Value::Object(map);
    }
    Value::String(text)
}

/// Decode `a=b&c=d` (form or query string; `+` is a space).
pub(crate) fn url_decode_pairs(s: &str) -> Vec<(String, String)> {
    let Ok(mut url) = reqwest::Url::parse("http://sandbox.invalid/") else {
        return Vec::new();
    };
    url.set_query(Some(s));
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
