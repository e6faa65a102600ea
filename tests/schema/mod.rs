//! ARM JSON Schema harness: validates request bodies against
//! `../shared/arm-schemas/{api-version}/{Provider}.json` (offline), and walks each
//! body against the schema's `properties` to catch unknown property names (the
//! schemas seldom set `additionalProperties: false`, so a misspelt name would
//! otherwise pass).
#![allow(dead_code)]

use owui_deploy::engine::{Api, REF_OPEN, ResourceSpec, SECRET_OPEN};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// URL under which the provider files reference the common definitions.
pub const COMMON_URL: &str = "https://schema.management.azure.com/schemas/common/definitions.json";

/// `../shared` relative to the crate root (or `$OWUI_SHARED_DIR`, for checkouts
/// elsewhere, e.g. git worktrees), or `None` (with the reason printed) when it is
/// absent.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("OWUI_SHARED_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    };
    if dir.join("arm-schemas").is_dir() {
        Some(dir)
    } else {
        // Straight to standard error: libtest hides what passing tests print.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!(
                "skipping {test}: {} not found (the shared test data is present in CI)\n",
                dir.join("arm-schemas").display()
            )
            .as_bytes(),
        );
        None
    }
}

/// Where a resource definition was found.
#[derive(Debug, Clone)]
pub struct Definition {
    /// Provider file.
    pub file: PathBuf,
    /// `resourceDefinitions`, `extension_resourceDefinitions`, ...
    pub group: String,
    /// Key, e.g. `virtualNetworks_subnets`.
    pub key: String,
}

/// Loaded schema files and compiled validators.
pub struct Schemas {
    root: PathBuf,
    common: Arc<Value>,
    files: HashMap<PathBuf, Arc<Value>>,
    validators: HashMap<(PathBuf, String, String), Arc<jsonschema::Validator>>,
}

/// A retriever that never touches the network: the common definitions are
/// served from the local copy, anything else is an error naming the URI.
struct LocalOnly {
    common: Arc<Value>,
}

impl jsonschema::Retrieve for LocalOnly {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        if uri.as_str().trim_end_matches('#') == COMMON_URL {
            Ok((*self.common).clone())
        } else {
            Err(format!("schema {uri} is not available offline").into())
        }
    }
}

/// The key of a resource type in a provider file: the type's segments after the
/// namespace joined by `_` (`Microsoft.Network/virtualNetworks/subnets` ->
/// `virtualNetworks_subnets`).
pub fn definition_key(type_name: &str) -> String {
    type_name.split('/').skip(1).collect::<Vec<_>>().join("_")
}

/// The `name` to validate: the resource's own name, i.e. the last segment of
/// its ID (`subnets/a` -> `a`, a resource group -> its name). In a template a
/// top-level child resource is written `parent/child`, but the schemas' name
/// patterns describe the resource's own name (e.g. `vaults_secrets` requires
/// `^[a-zA-Z0-9-]{1,127}$`, which `vault/secret` fails), and the own name is what
/// the REST request carries in its URL.
pub fn resource_name(address: &str) -> String {
    address.rsplit('/').next().unwrap_or_default().to_string()
}

/// Whether a definition's `name` patterns describe the template form
/// `parent/child` (a pattern with a `/`) rather than the resource's own name.
pub fn name_is_template_form(definition: &Value) -> bool {
    let name = &definition["properties"]["name"];
    let mut patterns = vec![name.get("pattern")];
    if let Some(branches) = name.get("oneOf").and_then(Value::as_array) {
        patterns.extend(branches.iter().map(|b| b.get("pattern")));
    }
    patterns
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .any(|p| p.contains('/'))
}

/// The template form of a resource's name: its own name prefixed by its parents'
/// names (`service/apis/policies` -> `apim/openai/policy`).
pub fn template_form_name(address: &str) -> String {
    let lower = address.to_ascii_lowercase();
    match lower.rfind("/providers/") {
        None => resource_name(address),
        Some(i) => address[i + "/providers/".len()..]
            .split('/')
            .skip(1)
            .enumerate()
            .filter(|(n, _)| n % 2 == 1)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join("/"),
    }
}

/// The definition groups to look in for a resource at `address`, by its scope.
/// Resource groups are subscription-scope resources; resources directly under a
/// resource group are `resourceDefinitions`; resources whose parent scope is
/// another resource (role assignments) are extension resources. Providers that
/// publish no `extension_resourceDefinitions` (Microsoft.Authorization at
/// 2022-04-01) describe the same body under `resourceDefinitions`, which a
/// template deploys with a `scope` property: that is the fallback, by design.
pub fn groups_for(address: &str) -> Vec<&'static str> {
    let lower = address.to_ascii_lowercase();
    let prefix = match lower.rfind("/providers/") {
        None => return vec!["subscription_resourceDefinitions"],
        Some(i) => &lower[..i],
    };
    let depth = prefix.split('/').filter(|s| !s.is_empty()).count();
    match depth {
        2 => vec!["subscription_resourceDefinitions"],
        4 => vec!["resourceDefinitions"],
        _ => vec!["extension_resourceDefinitions", "resourceDefinitions"],
    }
}

/// Known defects of the generated template schemas, corrected before compiling:
/// `(definition, property, corrected schema, reason)`. Each one is a property
/// whose REST API type (in the service's OpenAPI document and its examples)
/// differs from what the schema generator emitted. Nothing else is relaxed.
pub const SCHEMA_CORRECTIONS: &[(&str, &str, &str, &str)] = &[(
    "ContainerResources",
    "cpu",
    "number",
    "Microsoft.App's OpenAPI types `cpu` as number/double (the REST examples send 0.5); \
     the template schema generator emitted `integer`, which would reject 0.25/0.5/1.5 vCPU",
)];

fn apply_corrections(definitions: &mut Value) {
    for (def, prop, ty, _reason) in SCHEMA_CORRECTIONS {
        if let Some(node) = definitions
            .get_mut(*def)
            .and_then(|d| d.get_mut("properties"))
            .and_then(|p| p.get_mut(*prop))
        {
            *node = json!({"oneOf": [
                {"type": ty},
                {"$ref": format!("{COMMON_URL}#/definitions/expression")}
            ]});
        }
    }
}

/// A plausible value for a reference marker, by what it points at.
fn plausible_ref(address: &str, pointer: &str) -> String {
    let p = pointer.to_ascii_lowercase();
    if p.ends_with("principalid") || p.ends_with("/appid") || p.ends_with("clientid") {
        "11111111-2222-3333-4444-555555555555".into()
    } else if p == "/id" {
        address.to_string()
    } else if p.ends_with("secreturi") {
        "https://kv-example.vault.azure.net/secrets/example".into()
    } else if p.ends_with("gatewayurl") {
        "https://apim-example.azure-api.net".into()
    } else if p.ends_with("connectionstring") {
        "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://uksouth-1.in.applicationinsights.azure.com/".into()
    } else {
        "plausible-value".into()
    }
}

/// Replaces every reference and secret marker inside strings with a plausible value.
pub fn replace_markers(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(replace_in(s)),
        Value::Array(a) => Value::Array(a.iter().map(replace_markers).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), replace_markers(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn replace_in(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    loop {
        let r = rest.find(REF_OPEN);
        let q = rest.find(SECRET_OPEN);
        let (start, is_ref) = match (r, q) {
            (None, None) => break,
            (Some(a), None) => (a, true),
            (None, Some(b)) => (b, false),
            (Some(a), Some(b)) => (a.min(b), a < b),
        };
        let open = if is_ref { REF_OPEN } else { SECRET_OPEN };
        let after = &rest[start + open.len()..];
        let Some(end) = after.find('}') else { break };
        out.push_str(&rest[..start]);
        let inner = &after[..end];
        if is_ref {
            let (addr, ptr) = inner.split_once('#').unwrap_or((inner, ""));
            out.push_str(&plausible_ref(addr, ptr));
        } else {
            out.push_str("secret-value");
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The body a template would hold for `spec`: its body (markers replaced) plus
/// `type`, `apiVersion` and `name` (see [`resource_name`]).
pub fn template_body(spec: &ResourceSpec) -> Value {
    let Api::Arm {
        type_name,
        api_version,
    } = &spec.api
    else {
        panic!("{} is not an ARM resource", spec.address);
    };
    let mut body = match replace_markers(&spec.body) {
        Value::Object(o) => o,
        other => panic!("body of {} is not an object: {other}", spec.address),
    };
    let mut full = Map::new();
    full.insert("type".into(), json!(type_name));
    full.insert("apiVersion".into(), json!(api_version));
    full.insert("name".into(), json!(resource_name(spec.address.as_str())));
    full.append(&mut body);
    Value::Object(full)
}

impl Schemas {
    /// Loads the common definitions from `shared/arm-schemas`.
    pub fn new(shared: &Path) -> Self {
        let root = shared.join("arm-schemas");
        let text = std::fs::read_to_string(root.join("common/definitions.json"))
            .expect("read common/definitions.json");
        let common: Value = serde_json::from_str(&text).expect("parse common/definitions.json");
        Schemas {
            root,
            common: Arc::new(common),
            files: HashMap::new(),
            validators: HashMap::new(),
        }
    }

    fn file(&mut self, path: &Path) -> Arc<Value> {
        if let Some(v) = self.files.get(path) {
            return v.clone();
        }
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let v: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()));
        let v = Arc::new(v);
        self.files.insert(path.to_path_buf(), v.clone());
        v
    }

    /// Finds the definition of `type_name` at `api_version` in the given groups
    /// (in order): every provider file of the version whose name starts with the
    /// namespace is searched, and the definition's `type` enum must name the type.
    pub fn find(
        &mut self,
        type_name: &str,
        api_version: &str,
        groups: &[&str],
    ) -> Result<Definition, String> {
        let namespace = type_name.split('/').next().unwrap_or_default();
        let dir = self.root.join(api_version);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| format!("no schema directory {}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with(&format!("{namespace}.")) && n.ends_with(".json")
                })
            })
            .collect();
        files.sort();
        let key = definition_key(type_name);
        for group in groups {
            let mut found = Vec::new();
            for f in &files {
                let doc = self.file(f);
                let Some(def) = doc.get(*group).and_then(|g| g.get(&key)) else {
                    continue;
                };
                let names_type = def
                    .pointer("/properties/type/enum")
                    .and_then(Value::as_array)
                    .is_some_and(|e| {
                        e.iter().any(|t| {
                            t.as_str()
                                .is_some_and(|t| t.eq_ignore_ascii_case(type_name))
                        })
                    });
                if names_type {
                    found.push(f.clone());
                }
            }
            match found.len() {
                0 => continue,
                1 => {
                    return Ok(Definition {
                        file: found.remove(0),
                        group: group.to_string(),
                        key,
                    });
                }
                _ => {
                    return Err(format!(
                        "{type_name} {api_version} is defined in several files: {found:?}"
                    ));
                }
            }
        }
        Err(format!(
            "no schema for {type_name} at {api_version} in {} ({})",
            dir.display(),
            groups.join(", ")
        ))
    }

    fn validator(&mut self, def: &Definition) -> Arc<jsonschema::Validator> {
        let k = (def.file.clone(), def.group.clone(), def.key.clone());
        if let Some(v) = self.validators.get(&k) {
            return v.clone();
        }
        let doc = self.file(&def.file);
        let mut schema = doc[&def.group][&def.key].clone();
        let obj = schema.as_object_mut().expect("definition is an object");
        obj.insert(
            "$schema".into(),
            json!("http://json-schema.org/draft-04/schema#"),
        );
        let mut definitions = doc["definitions"].clone();
        apply_corrections(&mut definitions);
        obj.insert("definitions".into(), definitions);
        let common = jsonschema::Resource::from_contents((*self.common).clone())
            .expect("common definitions are a schema");
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .with_resource(COMMON_URL, common)
            .with_retriever(LocalOnly {
                common: self.common.clone(),
            })
            .build(&schema)
            .unwrap_or_else(|e| panic!("compile schema {:?}: {e}", k));
        let validator = Arc::new(validator);
        self.validators.insert(k, validator.clone());
        validator
    }

    /// Validates the body of `spec` (see [`template_body`]): schema errors and
    /// unknown property names, each as one message.
    pub fn check(&mut self, spec: &ResourceSpec) -> Vec<String> {
        let Api::Arm {
            type_name,
            api_version,
        } = &spec.api
        else {
            return vec![format!("{} is not an ARM resource", spec.address)];
        };
        let def = match self.find(type_name, api_version, &groups_for(spec.address.as_str())) {
            Ok(d) => d,
            Err(e) => return vec![e],
        };
        let mut body = template_body(spec);
        // A few definitions describe `name` in its template form `parent/child`
        // (APIM policies: `^.*/policy$`); validate that form for them.
        let doc = self.file(&def.file);
        if name_is_template_form(&doc[&def.group][&def.key]) {
            body["name"] = json!(template_form_name(spec.address.as_str()));
        }
        let validator = self.validator(&def);
        let mut errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| format!("{}: schema: {} at {}", spec.address, e, e.instance_path))
            .collect();
        let walker = Walker {
            provider: &doc,
            common: &self.common,
        };
        let root = (&*doc, &doc[&def.group][&def.key]);
        walker.unknown(&[root], &body, "", &mut errors, &spec.address.to_string());
        errors
    }
}

/// Walks a body against schema nodes, reporting property names no node knows.
struct Walker<'a> {
    provider: &'a Value,
    common: &'a Value,
}

type Node<'a> = (&'a Value, &'a Value); // (document, schema node)

impl<'a> Walker<'a> {
    fn resolve(&self, doc: &'a Value, node: &'a Value) -> Node<'a> {
        let mut cur = (doc, node);
        for _ in 0..32 {
            let Some(r) = cur.1.get("$ref").and_then(Value::as_str) else {
                return cur;
            };
            let (target_doc, fragment) = match r.split_once('#') {
                Some(("", frag)) => (cur.0, frag),
                Some((url, frag)) if url == COMMON_URL => (self.common, frag),
                _ => panic!("unexpected $ref {r}"),
            };
            let target = target_doc
                .pointer(fragment)
                .unwrap_or_else(|| panic!("unresolvable $ref {r}"));
            cur = (target_doc, target);
        }
        panic!("$ref chain too long")
    }

    /// The node and every allOf/oneOf/anyOf branch under it, resolved.
    fn flatten(&self, node: Node<'a>, out: &mut Vec<Node<'a>>) {
        let node = self.resolve(node.0, node.1);
        out.push(node);
        for k in ["allOf", "oneOf", "anyOf"] {
            if let Some(branches) = node.1.get(k).and_then(Value::as_array) {
                for b in branches {
                    self.flatten((node.0, b), out);
                }
            }
        }
    }

    fn unknown(
        &self,
        nodes: &[Node<'a>],
        value: &Value,
        path: &str,
        errors: &mut Vec<String>,
        addr: &str,
    ) {
        let mut all = Vec::new();
        for n in nodes {
            self.flatten(*n, &mut all);
        }
        match value {
            Value::Object(obj) => {
                let mut typed = false;
                let mut free = false;
                let mut additional: Vec<Node<'a>> = Vec::new();
                for (doc, n) in &all {
                    let has_props = n
                        .get("properties")
                        .and_then(Value::as_object)
                        .is_some_and(|p| !p.is_empty());
                    match n.get("additionalProperties") {
                        Some(Value::Object(_)) => {
                            additional.push((doc, &n["additionalProperties"]))
                        }
                        Some(Value::Bool(true)) => free = true,
                        Some(Value::Bool(false)) => typed = true,
                        _ => {}
                    }
                    if has_props {
                        typed = true;
                    }
                    let objecty = n.get("type").is_none_or(|t| t == "object");
                    let bare = !has_props
                        && n.get("additionalProperties").is_none()
                        && n.get("allOf").is_none()
                        && n.get("oneOf").is_none()
                        && n.get("anyOf").is_none()
                        && n.get("properties").is_none()
                        && n.get("enum").is_none();
                    if objecty && bare {
                        free = true;
                    }
                }
                for (k, v) in obj {
                    let sub: Vec<Node<'a>> = all
                        .iter()
                        .filter_map(|(doc, n)| {
                            n.get("properties")
                                .and_then(|p| p.get(k))
                                .map(|s| (*doc, s))
                        })
                        .collect();
                    let here = format!("{path}/{k}");
                    if !sub.is_empty() {
                        self.unknown(&sub, v, &here, errors, addr);
                    } else if !additional.is_empty() {
                        self.unknown(&additional, v, &here, errors, addr);
                    } else if typed && !free {
                        errors.push(format!("{addr}: unknown property {here}"));
                    }
                }
            }
            Value::Array(items) => {
                let sub: Vec<Node<'a>> = all
                    .iter()
                    .filter_map(|(doc, n)| n.get("items").map(|s| (*doc, s)))
                    .collect();
                if !sub.is_empty() {
                    for (i, item) in items.iter().enumerate() {
                        self.unknown(&sub, item, &format!("{path}/{i}"), errors, addr);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A complete environment exercising every option the stages read (pool
/// accounts, a separate spoke subscription, extra settings, the vault DNS zone).
pub const FIXTURE_ENV: &str = r#"
name = "fixture"

[azure]
subscription_id = "00000000-0000-0000-0000-0000000000a1"
tenant_id = "00000000-0000-0000-0000-0000000000c1"
location = "UK South"

[tags]
project = "owui"
cost-centre = "42"

[hub]
resource_group = "rg-owui-hub"
address_space = "10.0.0.0/24"
apim_public_ip_dns_label = "apim-owui-fixture"
key_vault_name = "kv-owui-hub-fx"
key_vault_private_dns = true

[hub.subnets]
apim = "10.0.0.0/27"
appgw = "10.0.0.64/26"
private_endpoints = "10.0.0.128/27"

[apim]
name = "apim-owui-fixture"
publisher_email = "ops@example.com"
publisher_name = "Contoso"

[spoke]
resource_group = "rg-owui-spoke"
subscription_id = "00000000-0000-0000-0000-0000000000b2"
address_space = "10.0.4.0/22"
container_apps_subnet = "10.0.4.0/23"
key_vault_name = "kv-owui-spoke-fx"
storage_account_name = "stowuifixture"

[foundry]
name = "ai-owui-fixture"
location = "Sweden Central"

[[foundry.deployments]]
name = "gpt-4o"
format = "OpenAI"
model = "gpt-4o"
version = "2024-11-20"
capacity = 50

[[foundry.deployments]]
name = "Mistral-Large-3"
format = "Mistral AI"
model = "Mistral-Large-3"
version = "1"
capacity = 1

[[foundry.pool]]
name = "ai-owui-fixture-us"
location = "eastus2"
priority = 2

[postgres]
server_name = "psql-owui-fixture"

[container_app]
environment_name = "cae-owui-fixture"

[container_app.extra_env]
WEBUI_NAME = "Contoso Chat"
ENABLE_WEB_SEARCH = "false"

[app_gateway]

[domain]
custom_domain = "chat.example.com"

[entra]
app_name = "Open WebUI (fixture)"
unique_name = "owui-fixture"
"#;

/// The fixture environment, loaded through the strict loader (so it is an
/// environment users could write).
pub fn fixture_env() -> owui_deploy::config::Environment {
    match owui_deploy::config::load_str(Path::new("tests/fixture.toml"), FIXTURE_ENV) {
        Ok(loaded) => loaded.env,
        Err(e) => panic!("the fixture environment is invalid: {e}"),
    }
}
