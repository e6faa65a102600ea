//! The engine's unit of work: one desired resource, its body, dependencies and
//! the values it exposes to others.
//!
//! Bodies are produced by typed serde structs in `stages::resources` and turned
//! into JSON here. A value that is not known until another resource is applied
//! (a principal ID, a subnet ID, an FQDN) is written into the body as a
//! *reference* (see [`Reference`]); the engine resolves it from the live state of
//! the referenced resource, or shows it as `(known after apply)` in a plan.
//! Secrets are written as [`SecretRef`]s: the engine substitutes them only in
//! the request it sends, never in a plan, a log or an event.

use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeSet;
use std::fmt;

/// The stage a resource belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Hub networking, DNS, monitoring, APIM.
    Hub,
    /// Foundry, Key Vault, storage, PostgreSQL, Container Apps, Entra app.
    Spoke,
    /// APIM wiring, RBAC, DNS records, App Gateway.
    Finalize,
}

impl Stage {
    /// All stages in deployment order.
    pub const ALL: [Stage; 3] = [Stage::Hub, Stage::Spoke, Stage::Finalize];

    /// The stage's command name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Hub => "hub",
            Stage::Spoke => "spoke",
            Stage::Finalize => "finalize",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a resource lives: an ARM resource ID (`/subscriptions/...`) or a
/// Microsoft Graph path (`graph:/applications(uniqueName='x')`).
///
/// Compared case-insensitively, as ARM compares IDs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Address(pub String);

impl Address {
    /// The address as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl PartialEq for Address {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}
impl Eq for Address {}
impl std::hash::Hash for Address {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state)
    }
}
impl PartialOrd for Address {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Address {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}
impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl From<String> for Address {
    fn from(s: String) -> Self {
        Address(s)
    }
}
impl From<&str> for Address {
    fn from(s: &str) -> Self {
        Address(s.to_string())
    }
}

/// A value of another resource, known after that resource exists:
/// `address` + a JSON pointer into its live (GET) representation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reference {
    /// The resource the value comes from.
    pub address: Address,
    /// JSON pointer into the resource's live body, e.g. `/properties/principalId`.
    pub pointer: String,
}

/// Marker prefix of a reference inside a body string: `${ref:ADDRESS#POINTER}`.
pub const REF_OPEN: &str = "${ref:";
/// Marker prefix of a secret inside a body string: `${secret:NAME}`.
pub const SECRET_OPEN: &str = "${secret:";

impl Reference {
    /// A reference to `pointer` in the live body of `address`.
    pub fn new(address: impl Into<Address>, pointer: &str) -> Self {
        Reference {
            address: address.into(),
            pointer: pointer.to_string(),
        }
    }
    /// The marker string that stands for this reference inside a body.
    pub fn marker(&self) -> String {
        format!("{REF_OPEN}{}#{}}}", self.address, self.pointer)
    }
    /// A string with this reference embedded, e.g. `https://${ref:..}/openai/v1`.
    pub fn within(&self, prefix: &str, suffix: &str) -> String {
        format!("{prefix}{}{suffix}", self.marker())
    }
}

/// A secret value the engine substitutes only when it sends a request, by name
/// from the [`crate::engine::Secrets`] store. Plans show `(sensitive)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SecretRef(pub String);

impl SecretRef {
    /// The marker string that stands for this secret inside a body.
    pub fn marker(&self) -> String {
        format!("{SECRET_OPEN}{}}}", self.0)
    }
}

/// A body value that is either known now, the value of another resource, or a secret.
/// Serializes to the value itself or to the marker string.
#[derive(Debug, Clone, PartialEq)]
pub enum Input<T> {
    /// Known when the body is built.
    Known(T),
    /// Known after `reference.address` exists.
    Ref(Reference),
    /// A secret, substituted only in the request sent to Azure.
    Secret(SecretRef),
}

impl<T: Serialize> Serialize for Input<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Input::Known(v) => v.serialize(s),
            Input::Ref(r) => s.serialize_str(&r.marker()),
            Input::Secret(r) => s.serialize_str(&r.marker()),
        }
    }
}

impl<T> From<T> for Input<T> {
    fn from(v: T) -> Self {
        Input::Known(v)
    }
}

/// Which API a resource is managed through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "api", rename_all = "lowercase")]
pub enum Api {
    /// Azure Resource Manager: GET/PUT/DELETE `address?api-version=...`.
    Arm {
        /// Resource type, e.g. `Microsoft.Network/virtualNetworks`.
        type_name: String,
        /// Pinned API version (from the single table in `azure::api_versions`).
        api_version: String,
    },
    /// Microsoft Graph v1.0.
    Graph {
        /// Object kind: `application`, `servicePrincipal`, `oauth2PermissionGrant`.
        kind: String,
    },
}

/// Whether the engine manages a resource or only reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Created, updated and (when no longer wanted) deleted by this run.
    Managed,
    /// Read only: must exist (deployed by an earlier stage); its values flow to
    /// the managed resources that reference it. Missing data fails the plan
    /// before any write, naming `needed_by`.
    Data,
}

/// How the engine compares desired and live bodies of one resource type.
/// Pointers may use `*` for "every array element / every key" (e.g.
/// `/properties/subnets/*/properties/serviceEndpoints`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiffRules {
    /// Arrays compared as sets (order does not matter). Elements that are objects
    /// with a `name` are matched by name.
    pub set_arrays: Vec<String>,
    /// String values ARM treats case-insensitively (enums, IDs not starting with `/subscriptions`).
    pub case_insensitive: Vec<String>,
    /// Values ARM never returns (secrets, passwords): compared by presence only.
    pub write_only: Vec<String>,
    /// Values that cannot change after creation: a change is a replace.
    pub immutable: Vec<String>,
    /// Desired values not to compare at all (e.g. import-only fields whose effect is checked another way).
    pub ignore: Vec<String>,
}

/// One desired resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceSpec {
    /// ARM ID or Graph address.
    pub address: Address,
    /// Short human label, e.g. `hub VNet vnet-hub`.
    pub label: String,
    /// The stage this resource belongs to.
    pub stage: Stage,
    /// ARM or Graph, with type and API version.
    pub api: Api,
    /// The desired body (may contain reference and secret markers).
    pub body: serde_json::Value,
    /// Explicit dependencies (references in the body add their own).
    pub depends_on: BTreeSet<Address>,
    /// Comparison rules of the type.
    pub rules: DiffRules,
    /// Managed or read-only data.
    pub mode: Mode,
    /// Resources of the same key are written one at a time (e.g. deployments of one
    /// Cognitive Services account), in spec order.
    pub serial_key: Option<String>,
    /// Whether the type takes `tags` (ownership is recorded in the tag `owui-deploy-env`).
    pub taggable: bool,
}

impl ResourceSpec {
    /// Every dependency: explicit ones plus every resource referenced in the body.
    pub fn dependencies(&self) -> BTreeSet<Address> {
        let mut deps = self.depends_on.clone();
        for r in references_in(&self.body) {
            if r.address != self.address {
                deps.insert(r.address);
            }
        }
        deps
    }
}

/// Every reference marker found in a JSON value.
pub fn references_in(value: &serde_json::Value) -> Vec<Reference> {
    let mut out = Vec::new();
    collect_refs(value, &mut out);
    out
}

fn collect_refs(value: &serde_json::Value, out: &mut Vec<Reference>) {
    match value {
        serde_json::Value::String(s) => {
            let mut rest = s.as_str();
            while let Some(start) = rest.find(REF_OPEN) {
                let after = &rest[start + REF_OPEN.len()..];
                let Some(end) = after.find('}') else { break };
                let inner = &after[..end];
                if let Some((addr, ptr)) = inner.split_once('#') {
                    out.push(Reference::new(addr, ptr));
                }
                rest = &after[end + 1..];
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        serde_json::Value::Object(o) => o.values().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found_inside_strings_and_nested_values() {
        let a = Reference::new("/subscriptions/s/resourceGroups/rg", "/id");
        let b = Reference::new("/x/y", "/properties/fqdn");
        let body = serde_json::json!({
            "p": a.marker(),
            "q": [{"u": b.within("https://", "/openai/v1")}],
        });
        let found = references_in(&body);
        assert_eq!(found, vec![a, b]);
    }

    #[test]
    fn input_serializes_to_value_or_marker() {
        let k: Input<u32> = Input::Known(3);
        assert_eq!(serde_json::to_value(&k).unwrap(), serde_json::json!(3));
        let s: Input<String> = Input::Secret(SecretRef("pg-password".into()));
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            serde_json::json!("${secret:pg-password}")
        );
    }
}
