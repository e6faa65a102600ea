//! The request journal: test instrumentation exposed at `GET /_sandbox/journal` (admin
//! token required).
//!
//! It records every ARM, Graph and token request (not the admin API), with the request
//! body as sent but secret fields redacted ([`redact`]: passwords, secret values, keys,
//! connection strings, the token endpoint's `client_secret`). It is in memory only, never
//! persisted, and bounded: at most [`MAX_ENTRIES`] entries and [`MAX_BYTES`] of bodies,
//! the oldest dropped first. The unredacted bodies are kept only for entries where
//! something was redacted, for [`crate::sandbox::Sandbox::journal_unredacted`] (in-process).

use serde::Serialize;
use serde_json::Value;

/// One journal entry.
#[derive(Clone, Serialize)]
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
    /// The body as sent, when redaction changed it (never served over HTTP).
    #[serde(skip)]
    pub unredacted_body: Option<Value>,
}

/// Most entries kept.
pub(crate) const MAX_ENTRIES: usize = 100_000;
/// Most bytes of request bodies kept (redacted and unredacted, as JSON text).
pub(crate) const MAX_BYTES: usize = 128 * 1024 * 1024;

/// Entries in order, bounded by [`MAX_ENTRIES`] and [`MAX_BYTES`].
pub(crate) struct Journal {
    entries: std::collections::VecDeque<(Entry, usize)>,
    next: u64,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

impl Default for Journal {
    fn default() -> Self {
        Journal::with_bounds(MAX_ENTRIES, MAX_BYTES)
    }
}

impl Journal {
    /// An empty journal keeping at most `max_entries` entries and `max_bytes` of bodies.
    pub fn with_bounds(max_entries: usize, max_bytes: usize) -> Self {
        Journal {
            entries: std::collections::VecDeque::new(),
            next: 0,
            bytes: 0,
            max_entries,
            max_bytes,
        }
    }

    /// Append an entry, assigning its sequence number; drop the oldest beyond the bounds.
    pub fn push(&mut self, mut e: Entry) {
        self.next += 1;
        e.seq = self.next;
        let size = json_len(&e.request_body) + e.unredacted_body.as_ref().map_or(0, json_len);
        self.bytes += size;
        self.entries.push_back((e, size));
        while self.entries.len() > self.max_entries
            || (self.bytes > self.max_bytes && self.entries.len() > 1)
        {
            if let Some((_, n)) = self.entries.pop_front() {
                self.bytes -= n;
            }
        }
    }

    /// Every entry as JSON with the unredacted bodies (in-process use only).
    pub fn unredacted(&self) -> Vec<Value> {
        self.entries
            .iter()
            .map(|(e, _)| {
                let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                if let Some(raw) = &e.unredacted_body {
                    v["request_body"] = raw.clone();
                }
                v
            })
            .collect()
    }

    /// Entries with `seq > since`.
    pub fn since(&self, since: u64) -> Vec<Entry> {
        self.entries
            .iter()
            .filter(|(e, _)| e.seq > since)
            .map(|(e, _)| e.clone())
            .collect()
    }

    /// Forget every entry (sequence numbers keep counting).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }
}

fn json_len(v: &Value) -> usize {
    match v {
        Value::Null => 0,
        Value::String(s) => s.len(),
        other => other.to_string().len(),
    }
}

/// What a redacted value reads as.
pub(crate) const REDACTED: &str = "(redacted)";

/// Whether a field called `key` holds a secret: its name (case, `_` and `-` ignored, one
/// plural `s` dropped) ends with a password, secret, key, connection string, assertion or
/// token word (`administratorLoginPassword`, `client_secret`, `secrets`, `accountKey`;
/// not `passwordAuth`, whose value is `Enabled`/`Disabled`).
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['_', '-'], "");
    let k = k.strip_suffix('s').unwrap_or(&k);
    const PARTS: &[&str] = &[
        "password",
        "secret",
        "connectionstring",
        "accountkey",
        "primarykey",
        "secondarykey",
        "sharedkey",
        "apikey",
        "subscriptionkey",
        "clientassertion",
        "accesstoken",
        "refreshtoken",
    ];
    PARTS.iter().any(|p| k.ends_with(p))
}

/// The body with secret fields replaced by [`REDACTED`]: strings under a secret-named key
/// (see [`is_secret_key`]), and the `value` fields inside such a key's object or list
/// (Container Apps `secrets[].value`) or of a Key Vault secret (path `.../secrets/NAME`).
pub(crate) fn redact(body: &Value, path: &str) -> Value {
    let path = path
        .split('?')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut segs = path.rsplit('/');
    let _name = segs.next();
    let in_secret = segs.next() == Some("secrets");
    let mut out = body.clone();
    redact_in(&mut out, in_secret);
    out
}

fn redact_in(v: &mut Value, in_secret: bool) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                let secret_key = is_secret_key(k);
                let value_of_secret = in_secret && k == "value";
                match child {
                    Value::String(s) if secret_key || value_of_secret => *s = REDACTED.into(),
                    _ => redact_in(child, in_secret || secret_key),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| redact_in(i, in_secret)),
        _ => {}
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
            let v = if is_secret_key(&k) {
                REDACTED.to_string()
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_fields_are_redacted_and_the_rest_is_kept() {
        let server = json!({"location": "uksouth", "properties": {
            "administratorLogin": "owui", "administratorLoginPassword": "pw-1"}});
        let r = redact(
            &server,
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/x?api-version=1",
        );
        assert_eq!(r["properties"]["administratorLoginPassword"], REDACTED);
        assert_eq!(r["properties"]["administratorLogin"], "owui");
        let auth = json!({"properties": {"authConfig": {"passwordAuth": "Enabled"}}});
        assert_eq!(
            redact(&auth, "/x/flexibleServers/y"),
            auth,
            "an enum, not a secret"
        );
        assert_eq!(r["location"], "uksouth");

        let kv =
            json!({"properties": {"value": "postgres://u:pw@h/db", "contentType": "text/plain"}});
        let r = redact(
            &kv,
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.KeyVault/vaults/v/secrets/pg-connection",
        );
        assert_eq!(r["properties"]["value"], REDACTED);
        assert_eq!(r["properties"]["contentType"], "text/plain");

        let app = json!({"properties": {"configuration": {"secrets": [
            {"name": "k", "value": "v-1"}, {"name": "r", "keyVaultUrl": "https://x"}]},
            "template": {"containers": [{"env": [{"name": "A", "value": "plain"}]}]}}});
        let r = redact(
            &app,
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.App/containerApps/a",
        );
        assert_eq!(
            r["properties"]["configuration"]["secrets"][0]["value"],
            REDACTED
        );
        assert_eq!(r["properties"]["configuration"]["secrets"][0]["name"], "k");
        assert_eq!(
            r["properties"]["template"]["containers"][0]["env"][0]["value"],
            "plain"
        );

        let storage =
            json!({"properties": {"azureFile": {"accountName": "st", "accountKey": "k=="}}});
        let r = redact(&storage, "/x/storages/s");
        assert_eq!(r["properties"]["azureFile"]["accountKey"], REDACTED);
    }

    #[test]
    fn the_journal_is_bounded() {
        let mut j = Journal::with_bounds(4, 100);
        let entry = |body: Value| Entry {
            seq: 0,
            time: String::new(),
            method: "PUT".into(),
            path: "/x".into(),
            status: Some(200),
            duration_ms: 0,
            request_body: body,
            correlation_id: None,
            faults: Vec::new(),
            unredacted_body: None,
        };
        for _ in 0..6 {
            j.push(entry(Value::String("x".repeat(26))));
        }
        assert!(j.bytes <= 100);
        assert_eq!(j.entries.len(), 3, "bytes bound");
        assert_eq!(j.since(0).first().map(|e| e.seq), Some(4));
        for _ in 0..6 {
            j.push(entry(Value::Null));
        }
        assert_eq!(j.entries.len(), 4, "count bound");
        assert_eq!(j.since(0).first().map(|e| e.seq), Some(9));
    }
}
