//! The secret store: name -> value, substituted only into the request body sent.
//!
//! A secret is either a value known before the apply (a password from the
//! environment, a certificate) or the result of an action on a resource that may
//! only exist during the apply (a storage account key from `listKeys`): such a
//! secret is fetched right before the write that needs it, and that write waits
//! for the resource.

use super::resource::Address;
use azure_core::credentials::Secret;
use std::collections::BTreeMap;
use std::fmt;

/// A secret obtained from an ARM action (POST `{address}/{action}`) when needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretAction {
    /// The resource the action is invoked on.
    pub address: Address,
    /// API version of the action.
    pub api_version: String,
    /// The action, e.g. `listKeys`.
    pub action: String,
    /// JSON pointer to the secret in the action's result, e.g. `/keys/0/value`.
    pub pointer: String,
}

#[derive(Clone)]
enum Source {
    Value(Secret),
    /// The action, and whether its result is percent-encoded before use.
    Action(SecretAction, bool),
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for the
/// userinfo and path of a URL).
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Secret values by name (the `NAME` of `${secret:NAME}` markers).
/// Debug prints the names only.
#[derive(Clone, Default)]
pub struct Secrets {
    values: BTreeMap<String, Source>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Secrets {
    /// An empty store.
    pub fn new() -> Self {
        Secrets::default()
    }

    /// Adds or replaces a secret known now.
    pub fn insert(&mut self, name: impl Into<String>, value: Secret) {
        self.values.insert(name.into(), Source::Value(value));
    }

    /// Adds or replaces a secret fetched by an ARM action when a write needs it
    /// (that write then also waits for `action.address`).
    pub fn insert_action(&mut self, name: impl Into<String>, action: SecretAction) {
        self.values
            .insert(name.into(), Source::Action(action, false));
    }

    /// As [`Secrets::insert_action`], but the fetched value is percent-encoded
    /// (for the userinfo of a URL, e.g. an access key inside `rediss://:KEY@HOST`).
    pub fn insert_action_url_encoded(&mut self, name: impl Into<String>, action: SecretAction) {
        self.values
            .insert(name.into(), Source::Action(action, true));
    }

    /// Whether the secret called `name` is percent-encoded once fetched.
    pub fn is_url_encoded(&self, name: &str) -> bool {
        matches!(self.values.get(name), Some(Source::Action(_, true)))
    }

    /// The value of the secret called `name`, when it is known now.
    pub fn get(&self, name: &str) -> Option<&Secret> {
        match self.values.get(name) {
            Some(Source::Value(s)) => Some(s),
            _ => None,
        }
    }

    /// The action that yields the secret called `name`, when it is fetched on demand.
    pub fn action(&self, name: &str) -> Option<&SecretAction> {
        match self.values.get(name) {
            Some(Source::Action(a, _)) => Some(a),
            _ => None,
        }
    }

    /// Whether a secret called `name` is present (known or fetched on demand).
    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// The names of all secrets.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_names_not_values() {
        let mut s = Secrets::new();
        s.insert("pg-password", Secret::new("hunter2-very-secret"));
        s.insert_action(
            "storage-key",
            SecretAction {
                address: "/subscriptions/s/x".into(),
                api_version: "2025-01-01".into(),
                action: "listKeys".into(),
                pointer: "/keys/0/value".into(),
            },
        );
        let d = format!("{s:?}");
        assert!(d.contains("pg-password") && d.contains("storage-key"));
        assert!(!d.contains("hunter2"));
        assert_eq!(
            s.get("pg-password").map(|x| x.secret()),
            Some("hunter2-very-secret")
        );
        assert!(s.get("storage-key").is_none() && s.contains("storage-key"));
        assert_eq!(s.action("storage-key").unwrap().action, "listKeys");
        assert!(!s.is_url_encoded("storage-key") && !s.is_url_encoded("pg-password"));
    }

    #[test]
    fn url_encoded_actions_are_marked_and_encoding_keeps_only_unreserved() {
        let mut s = Secrets::new();
        let action = SecretAction {
            address: "/subscriptions/s/redis/databases/default".into(),
            api_version: "2025-07-01".into(),
            action: "listKeys".into(),
            pointer: "/primaryKey".into(),
        };
        s.insert_action_url_encoded("redis-key", action.clone());
        assert!(s.is_url_encoded("redis-key"));
        assert_eq!(s.action("redis-key"), Some(&action));
        assert_eq!(percent_encode("a+b/c=d"), "a%2Bb%2Fc%3Dd");
        assert_eq!(percent_encode("Az09-_.~"), "Az09-_.~");
    }
}
