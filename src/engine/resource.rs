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
    /// The address for people: a reference to a value not known yet (e.g. the
    /// Container Apps environment's domain in its DNS zone's name) reads
    /// `(known after apply)`; never an internal marker. Use where the value is
    /// not known; where it is, show the resolved address instead.
    pub fn readable(&self) -> String {
        readable_text(&self.0)
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
    /// The reference for people: `/appId of graph:/applications(uniqueName='x')`.
    pub fn describe(&self) -> String {
        format!("{} of {}", self.pointer, self.address.readable())
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

impl Api {
    /// The ARM resource type, or `None` for Graph objects.
    pub fn type_name(&self) -> Option<&str> {
        match self {
            Api::Arm { type_name, .. } => Some(type_name),
            Api::Graph { .. } => None,
        }
    }
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
    /// XML documents (e.g. API policies), compared by their canonical form
    /// ([`crate::engine::xml::canonicalize`]): the service may reformat them.
    #[serde(default)]
    pub xml: Vec<String>,
    /// ARM IDs of resources that exist once per tenant whatever the scope they are
    /// written under (role definitions): compared by provider, type and name only,
    /// so `/subscriptions/{any}/providers/Microsoft.Authorization/roleDefinitions/{guid}`
    /// equals the tenant-level `/providers/Microsoft.Authorization/roleDefinitions/{guid}`
    /// that ARM answers (see [`crate::engine::diff::unscoped_id`]).
    #[serde(default)]
    pub unscoped_ids: Vec<String>,
    /// JSON documents held as strings (e.g. a workbook's `serializedData`),
    /// compared parsed: the service may re-serialize them (spacing, key order).
    #[serde(default)]
    pub json: Vec<String>,
    /// Pointer to an inline OpenAPI document (JSON text) in the desired body,
    /// for APIs imported from one: when the document changes, the plan lists the
    /// API's live `{address}/operations` and shows the operations the import adds
    /// (`+ /operations = "POST /x"`) and removes (`- /operations = ...`).
    #[serde(default)]
    pub openapi: Option<String>,
    /// Properties owned by separately declared children (e.g. a VNet's
    /// `/properties/virtualNetworkPeerings`, owned by peerings declared as
    /// their own resources): when the desired body does not declare the path,
    /// an update keeps its live value (so that the parent's PUT, which replaces
    /// the whole list, does not delete the children), and nothing compares it.
    /// See [`crate::engine::diff::keep_owned_by_children`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owned_by_children: Vec<OwnedByChildren>,
}

/// A property of a parent resource that separately declared children own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OwnedByChildren {
    /// JSON pointer of the list in the parent's body, e.g. `/properties/virtualNetworkPeerings`.
    pub path: String,
    /// ARM type of the children, e.g. `Microsoft.Network/virtualNetworks/virtualNetworkPeerings`.
    pub child_type: String,
    /// The children's writable properties (under each element's `properties`):
    /// what the parent's PUT may carry back; everything else a GET returns is read-only.
    pub writable: Vec<String>,
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
    /// Every dependency: explicit ones plus every resource referenced in the body
    /// or in the address (a Graph address may embed a reference, e.g.
    /// `graph:/servicePrincipals(appId='${ref:graph:/applications(uniqueName='x')#/appId}')`).
    pub fn dependencies(&self) -> BTreeSet<Address> {
        let mut deps = self.depends_on.clone();
        let in_address = references_in(&serde_json::Value::String(self.address.0.clone()));
        for r in references_in(&self.body).into_iter().chain(in_address) {
            if r.address != self.address {
                deps.insert(r.address);
            }
        }
        deps
    }
}

/// What people see in place of a value not known until apply.
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";

/// A string for people: each reference marker reads [`KNOWN_AFTER_APPLY`], each
/// secret marker `(sensitive)`.
pub fn readable_text(s: &str) -> String {
    parse_markers(s)
        .into_iter()
        .map(|seg| match seg {
            Segment::Text(t) => t,
            Segment::Ref(_) => KNOWN_AFTER_APPLY.to_string(),
            Segment::Secret(_) => "(sensitive)".to_string(),
        })
        .collect()
}

/// One piece of a body string: literal text, a reference marker or a secret marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Literal text.
    Text(String),
    /// `${ref:ADDRESS#POINTER}`.
    Ref(Reference),
    /// `${secret:NAME}`.
    Secret(SecretRef),
}

/// Splits a string into literal text and markers. Markers nest (an address may
/// itself contain a reference marker); an unterminated marker is literal text.
pub fn parse_markers(s: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    loop {
        let next_ref = rest.find(REF_OPEN);
        let next_secret = rest.find(SECRET_OPEN);
        let (start, is_ref) = match (next_ref, next_secret) {
            (Some(r), Some(x)) if r <= x => (r, true),
            (Some(_), Some(x)) => (x, false),
            (Some(r), None) => (r, true),
            (None, Some(x)) => (x, false),
            (None, None) => break,
        };
        let open_len = if is_ref {
            REF_OPEN.len()
        } else {
            SECRET_OPEN.len()
        };
        let after = &rest[start + open_len..];
        let Some(end) = matching_close(after) else {
            break;
        };
        let inner = &after[..end];
        let segment = if is_ref {
            split_ref(inner).map(|(addr, ptr)| Segment::Ref(Reference::new(addr, ptr)))
        } else {
            Some(Segment::Secret(SecretRef(inner.to_string())))
        };
        match segment {
            Some(seg) => {
                text.push_str(&rest[..start]);
                if !text.is_empty() {
                    out.push(Segment::Text(std::mem::take(&mut text)));
                }
                out.push(seg);
            }
            None => text.push_str(&rest[..start + open_len + end + 1]),
        }
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Segment::Text(text));
    }
    out
}

/// Position of the `}` closing a marker whose opening was just consumed,
/// skipping nested `${...}`.
fn matching_close(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            depth += 1;
            i += 2;
            continue;
        }
        if bytes[i] == b'}' {
            if depth == 0 {
                return Some(i);
            }
            depth -= 1;
        }
        i += 1;
    }
    None
}

/// Splits `ADDRESS#POINTER` at the last `#` outside nested markers.
fn split_ref(inner: &str) -> Option<(&str, &str)> {
    let bytes = inner.as_bytes();
    let mut depth = 0usize;
    let mut split = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            depth += 1;
            i += 2;
            continue;
        }
        match bytes[i] {
            b'}' => depth = depth.saturating_sub(1),
            b'#' if depth == 0 => split = Some(i),
            _ => {}
        }
        i += 1;
    }
    split.map(|i| (&inner[..i], &inner[i + 1..]))
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
            for seg in parse_markers(s) {
                if let Segment::Ref(r) = seg {
                    out.push(r);
                }
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
    fn readable_addresses_hold_no_marker() {
        let app = Reference::new("graph:/applications(uniqueName='x')", "/appId");
        let sp = Address(format!(
            "graph:/servicePrincipals(appId='{}')",
            app.marker()
        ));
        assert_eq!(
            sp.readable(),
            "graph:/servicePrincipals(appId='(known after apply)')"
        );
        assert_eq!(
            app.describe(),
            "/appId of graph:/applications(uniqueName='x')"
        );
        assert_eq!(readable_text("a ${secret:pw} b"), "a (sensitive) b");
        assert_eq!(
            Address("/subscriptions/s".into()).readable(),
            "/subscriptions/s"
        );
    }

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

    #[test]
    fn markers_nest_and_mix_with_text() {
        let app = Reference::new("graph:/applications(uniqueName='owui')", "/appId");
        let sp_addr = format!("graph:/servicePrincipals(appId='{}')", app.marker());
        let sp = Reference::new(sp_addr.as_str(), "/id");
        let s = format!("x{}y${{secret:pw}}{}", sp.marker(), "${ref:broken");
        let segs = parse_markers(&s);
        assert_eq!(
            segs,
            vec![
                Segment::Text("x".into()),
                Segment::Ref(sp.clone()),
                Segment::Text("y".into()),
                Segment::Secret(SecretRef("pw".into())),
                Segment::Text("${ref:broken".into()),
            ]
        );
        // A spec whose address embeds a reference depends on the referenced resource.
        let spec = ResourceSpec {
            address: Address(sp_addr),
            label: "sp".into(),
            stage: Stage::Spoke,
            api: Api::Graph {
                kind: "servicePrincipal".into(),
            },
            body: serde_json::json!({}),
            depends_on: BTreeSet::new(),
            rules: DiffRules::default(),
            mode: Mode::Managed,
            serial_key: None,
            taggable: false,
        };
        assert!(spec.dependencies().contains(&app.address));
    }
}
