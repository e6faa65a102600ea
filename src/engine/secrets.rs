//! The secret store: name -> value, substituted only into the request body sent.

use azure_core::credentials::Secret;
use std::collections::BTreeMap;
use std::fmt;

/// Secret values by name (the `NAME` of `${secret:NAME}` markers).
/// Debug prints the names only.
#[derive(Clone, Default)]
pub struct Secrets {
    values: BTreeMap<String, Secret>,
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

    /// Adds or replaces a secret.
    pub fn insert(&mut self, name: impl Into<String>, value: Secret) {
        self.values.insert(name.into(), value);
    }

    /// The secret called `name`.
    pub fn get(&self, name: &str) -> Option<&Secret> {
        self.values.get(name)
    }

    /// Whether a secret called `name` is present.
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
        let d = format!("{s:?}");
        assert!(d.contains("pg-password"));
        assert!(!d.contains("hunter2"));
        assert_eq!(
            s.get("pg-password").map(|x| x.secret()),
            Some("hunter2-very-secret")
        );
    }
}
