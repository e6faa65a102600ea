//! An in-memory backend that behaves like ARM where the engine cares: GET returns
//! read-only fields (id, name, type, etag, provisioningState), server defaults,
//! generated principal IDs, lower-cased locations, re-cased resource IDs,
//! reordered set-like arrays, floats for integers, and never returns write-only
//! values. It counts reads and writes, tracks concurrency, and rejects
//! concurrent writes under one parent (like Cognitive Services accounts).
#![allow(dead_code)]

use async_trait::async_trait;
use owui_deploy::engine::{
    Address, Api, Backend, BackendError, DiffRules, DiscoveredResource, Discovery, Mode, OWNER_TAG,
    Observer, ResourceSpec, Stage,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An ARM-like error.
#[derive(Debug)]
pub struct FakeError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl fmt::Display for FakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HTTP {} {}: {} (x-ms-request-id: fake-request-1)",
            self.status, self.code, self.message
        )
    }
}

impl std::error::Error for FakeError {}

pub fn fake_error(status: u16, code: &str, message: &str) -> BackendError {
    BackendError::new(
        FakeError {
            status,
            code: code.into(),
            message: message.into(),
        },
        Some(code.into()),
        Some(status),
    )
}

/// One recorded call.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    Write(String),
    Delete(String),
}

#[derive(Default)]
pub struct State {
    pub store: BTreeMap<String, Value>,
    pub apis: BTreeMap<String, Api>,
    pub reads: usize,
    pub lists: usize,
    pub calls: Vec<Call>,
    pub bodies: Vec<(String, Value)>,
    pub in_flight: usize,
    pub max_in_flight: usize,
    pub reads_in_flight: usize,
    pub max_reads_in_flight: usize,
    pub parents_busy: BTreeSet<String>,
    pub conflicts: usize,
    pub started: HashMap<String, Instant>,
    pub finished: HashMap<String, Instant>,
    pub fail: HashMap<String, (u16, String, String)>,
    pub principal_not_found: HashMap<String, usize>,
    pub role_exists: BTreeSet<String>,
    pub etag_counter: u64,
    pub uuid_counter: u64,
}

pub struct Fake {
    pub state: Mutex<State>,
    pub read_delay: Duration,
    pub write_delay: Duration,
    pub forbid_writes: bool,
    /// Keys ARM never returns.
    pub write_only_keys: Vec<&'static str>,
    /// Arrays (by key) ARM returns in another order.
    pub reordered_keys: Vec<&'static str>,
    /// Types whose children may not be written concurrently (by parent).
    pub serial_parent_types: Vec<&'static str>,
}

fn key(a: &Address) -> String {
    a.as_str().to_ascii_lowercase()
}

impl Default for Fake {
    fn default() -> Self {
        Fake {
            state: Mutex::new(State::default()),
            read_delay: Duration::from_millis(0),
            write_delay: Duration::from_millis(0),
            forbid_writes: false,
            write_only_keys: vec!["adminPassword", "value"],
            reordered_keys: vec!["subnets", "addressPrefixes", "securityRules"],
            serial_parent_types: vec!["deployments"],
        }
    }
}

impl Fake {
    pub fn new() -> Self {
        Fake::default()
    }

    pub fn with_delays(read: u64, write: u64) -> Self {
        Fake {
            read_delay: Duration::from_millis(read),
            write_delay: Duration::from_millis(write),
            ..Fake::default()
        }
    }

    pub fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    pub fn fail_writes(&self, addr: &str, status: u16, code: &str) {
        self.st().fail.insert(
            addr.to_ascii_lowercase(),
            (status, code.into(), format!("{code} injected by the test")),
        );
    }

    pub fn get(&self, addr: &str) -> Option<Value> {
        self.st().store.get(&addr.to_ascii_lowercase()).cloned()
    }

    pub fn writes(&self) -> Vec<Call> {
        self.st().calls.clone()
    }

    /// Puts a resource directly (as if created earlier, e.g. by another run).
    pub fn seed(&self, addr: &str, api: Api, body: Value) {
        let mut st = self.st();
        let live = arm_view(&mut st, &Address::from(addr), &api, &body, None, self);
        st.apis.insert(addr.to_ascii_lowercase(), api);
        st.store.insert(addr.to_ascii_lowercase(), live);
    }

    /// Changes a stored resource behind the engine's back (bumps the etag).
    pub fn tamper(&self, addr: &str, f: impl FnOnce(&mut Value)) {
        let mut st = self.st();
        st.etag_counter += 1;
        let etag = format!("W/\"{}\"", st.etag_counter);
        let v = st
            .store
            .get_mut(&addr.to_ascii_lowercase())
            .expect("exists");
        f(v);
        if v.get("etag").is_some() {
            v["etag"] = json!(etag);
        }
    }

    fn parent_of(&self, addr: &str) -> Option<String> {
        let lower = addr.to_ascii_lowercase();
        for t in &self.serial_parent_types {
            let needle = format!("/{t}/");
            if let Some(pos) = lower.rfind(&needle) {
                return Some(lower[..pos].to_string());
            }
        }
        None
    }
}

fn recase_id(s: &str) -> String {
    // ARM often returns resource group segments in another case.
    s.replace("/resourceGroups/", "/resourcegroups/")
}

fn normalise(v: &Value, key: Option<&str>, fake: &Fake) -> Value {
    match v {
        Value::Object(o) => {
            let mut m = serde_json::Map::new();
            for (k, x) in o {
                if fake.write_only_keys.contains(&k.as_str()) {
                    continue;
                }
                m.insert(k.clone(), normalise(x, Some(k), fake));
            }
            Value::Object(m)
        }
        Value::Array(a) => {
            let mut items: Vec<Value> = a.iter().map(|x| normalise(x, None, fake)).collect();
            if key.is_some_and(|k| fake.reordered_keys.contains(&k)) {
                items.reverse();
            }
            Value::Array(items)
        }
        Value::String(s) if key == Some("location") => {
            Value::String(s.to_lowercase().replace(' ', ""))
        }
        Value::String(s) if s.starts_with("/subscriptions/") => Value::String(recase_id(s)),
        Value::Number(n) if key == Some("capacity") => json!(n.as_f64().unwrap_or(0.0)),
        other => other.clone(),
    }
}

fn arm_view(
    st: &mut State,
    address: &Address,
    api: &Api,
    body: &Value,
    previous: Option<&Value>,
    fake: &Fake,
) -> Value {
    let mut live = normalise(body, None, fake);
    let Value::Object(m) = &mut live else {
        return live;
    };
    let name = address
        .as_str()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string();
    match api {
        Api::Arm { type_name, .. } => {
            m.insert("id".into(), json!(recase_id(address.as_str())));
            m.insert("name".into(), json!(name));
            m.insert("type".into(), json!(type_name));
            st.etag_counter += 1;
            m.insert("etag".into(), json!(format!("W/\"{}\"", st.etag_counter)));
            let props = m
                .entry("properties")
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("properties object");
            props.insert("provisioningState".into(), json!("Succeeded"));
            props.insert("serverDefault".into(), json!("on"));
            if let Some(sku) = m.get_mut("sku").and_then(Value::as_object_mut) {
                sku.entry("tier").or_insert(json!("Standard"));
            }
            if type_name.eq_ignore_ascii_case("Microsoft.ManagedIdentity/userAssignedIdentities") {
                let pid = previous
                    .and_then(|p| p.pointer("/properties/principalId").cloned())
                    .unwrap_or_else(|| {
                        st.uuid_counter += 1;
                        json!(format!("00000000-0000-0000-0000-{:012}", st.uuid_counter))
                    });
                m["properties"]["principalId"] = pid;
            }
            let system = m
                .get("identity")
                .and_then(|i| i.get("type"))
                .and_then(Value::as_str)
                .is_some_and(|t| t.contains("SystemAssigned"));
            if system {
                let pid = previous
                    .and_then(|p| p.pointer("/identity/principalId").cloned())
                    .unwrap_or_else(|| {
                        st.uuid_counter += 1;
                        json!(format!("11111111-0000-0000-0000-{:012}", st.uuid_counter))
                    });
                m["identity"]["principalId"] = pid;
                m["identity"]["tenantId"] = json!("tenant");
            }
        }
        Api::Graph { .. } => {
            let id = previous
                .and_then(|p| p.get("id").cloned())
                .unwrap_or_else(|| {
                    st.uuid_counter += 1;
                    json!(format!("22222222-0000-0000-0000-{:012}", st.uuid_counter))
                });
            m.insert("id".into(), id.clone());
            if !m.contains_key("appId") {
                m.insert(
                    "appId".into(),
                    json!(format!("app-{}", id.as_str().unwrap_or(""))),
                );
            } else if let Some(prev) = previous.and_then(|p| p.get("appId")) {
                m.insert("appId".into(), prev.clone());
            }
            m.insert("@odata.context".into(), json!("https://graph/$metadata"));
        }
    }
    live
}

struct Guard<'a> {
    fake: &'a Fake,
    parent: Option<String>,
    addr: String,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        let mut st = self.fake.st();
        st.in_flight -= 1;
        if let Some(p) = &self.parent {
            st.parents_busy.remove(p);
        }
        st.finished.insert(self.addr.clone(), Instant::now());
    }
}

impl Fake {
    fn begin(&self, addr: &Address) -> Result<Guard<'_>, BackendError> {
        let mut st = self.st();
        let parent = self.parent_of(addr.as_str());
        if let Some(p) = &parent
            && !st.parents_busy.insert(p.clone())
        {
            st.conflicts += 1;
            return Err(fake_error(
                409,
                "Conflict",
                "Another operation is being performed on the parent resource",
            ));
        }
        st.in_flight += 1;
        st.max_in_flight = st.max_in_flight.max(st.in_flight);
        st.started.insert(key(addr), Instant::now());
        Ok(Guard {
            fake: self,
            parent,
            addr: key(addr),
        })
    }
}

#[async_trait]
impl Backend for Fake {
    async fn read(&self, address: &Address, _api: &Api) -> Result<Option<Value>, BackendError> {
        {
            let mut st = self.st();
            st.reads += 1;
            st.reads_in_flight += 1;
            st.max_reads_in_flight = st.max_reads_in_flight.max(st.reads_in_flight);
        }
        if !self.read_delay.is_zero() {
            tokio::time::sleep(self.read_delay).await;
        }
        let mut st = self.st();
        st.reads_in_flight -= 1;
        Ok(st.store.get(&key(address)).cloned())
    }

    async fn write(
        &self,
        address: &Address,
        api: &Api,
        body: &Value,
        observer: &dyn Observer,
    ) -> Result<Value, BackendError> {
        if self.forbid_writes {
            panic!("write during a plan: {address}");
        }
        {
            let mut st = self.st();
            st.calls.push(Call::Write(address.to_string()));
            st.bodies.push((address.to_string(), body.clone()));
        }
        let _guard = self.begin(address)?;
        let t0 = Instant::now();
        if !self.write_delay.is_zero() {
            tokio::time::sleep(self.write_delay).await;
        }
        observer.polled("InProgress", t0.elapsed());
        let mut st = self.st();
        let k = key(address);
        if let Some((status, code, message)) = st.fail.get(&k).cloned() {
            return Err(fake_error(status, &code, &message));
        }
        if let Some(n) = st.principal_not_found.get_mut(&k)
            && *n > 0
        {
            *n -= 1;
            return Err(fake_error(
                400,
                "PrincipalNotFound",
                "Principal 0000 does not exist in the directory",
            ));
        }
        if st.role_exists.contains(&k) {
            return Err(fake_error(
                409,
                "RoleAssignmentExists",
                "The role assignment already exists.",
            ));
        }
        let previous = st.store.get(&k).cloned();
        let live = arm_view(&mut st, address, api, body, previous.as_ref(), self);
        st.store.insert(k.clone(), live.clone());
        st.apis.insert(k, api.clone());
        Ok(live)
    }

    async fn delete(
        &self,
        address: &Address,
        _api: &Api,
        observer: &dyn Observer,
    ) -> Result<(), BackendError> {
        if self.forbid_writes {
            panic!("delete during a plan: {address}");
        }
        self.st().calls.push(Call::Delete(address.to_string()));
        let _guard = self.begin(address)?;
        let t0 = Instant::now();
        if !self.write_delay.is_zero() {
            tokio::time::sleep(self.write_delay).await;
        }
        observer.polled("Deleting", t0.elapsed());
        let mut st = self.st();
        let k = key(address);
        let prefix = format!("{k}/");
        st.store.retain(|a, _| a != &k && !a.starts_with(&prefix));
        Ok(())
    }

    async fn action(
        &self,
        address: &Address,
        _api_version: &str,
        action: &str,
    ) -> Result<Value, BackendError> {
        let st = self.st();
        if !st.store.contains_key(&key(address)) {
            return Err(fake_error(404, "ResourceNotFound", "no such resource"));
        }
        match action {
            "listKeys" => Ok(json!({"keys": [
                {"keyName": "key1", "value": format!("KEY1-of-{}", address.as_str().rsplit('/').next().unwrap_or(""))},
                {"keyName": "key2", "value": "KEY2"}
            ]})),
            other => Err(fake_error(
                400,
                "InvalidAction",
                &format!("unknown action {other}"),
            )),
        }
    }

    async fn find_equivalent(
        &self,
        address: &Address,
        api: &Api,
        body: &Value,
    ) -> Result<Option<Value>, BackendError> {
        let Api::Arm { type_name, .. } = api else {
            return Ok(None);
        };
        if type_name != "Microsoft.Authorization/roleAssignments" {
            return Ok(None);
        }
        let k = key(address);
        let scope = &k[..k.rfind("/providers/microsoft.authorization/").unwrap_or(0)];
        let st = self.st();
        st.store
            .iter()
            .find(|(a, v)| {
                a.starts_with(&format!(
                    "{scope}/providers/microsoft.authorization/roleassignments/"
                )) && v["properties"]["principalId"] == body["properties"]["principalId"]
                    && v["properties"]["roleDefinitionId"] == body["properties"]["roleDefinitionId"]
            })
            .map(|(_, v)| Ok(Some(v.clone())))
            .unwrap_or(Ok(None))
    }

    async fn list(&self, discovery: &Discovery) -> Result<Vec<DiscoveredResource>, BackendError> {
        let mut st = self.st();
        st.lists += 1;
        let mut out = Vec::new();
        match discovery {
            Discovery::Children {
                parent,
                child_type,
                api_version,
                ..
            } => {
                // Like ARM: listing under a parent that does not exist is a 404.
                if !st.store.contains_key(&key(parent)) {
                    return Err(fake_error(
                        404,
                        "ParentResourceNotFound",
                        "parent not found",
                    ));
                }
                let last = child_type
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let prefix = format!("{}/{last}/", key(parent));
                for (a, v) in &st.store {
                    if a.starts_with(&prefix) && !a[prefix.len()..].contains('/') {
                        out.push(DiscoveredResource {
                            address: Address(v["id"].as_str().unwrap_or(a).to_string()),
                            api: Some(Api::Arm {
                                type_name: child_type.clone(),
                                api_version: api_version.clone(),
                            }),
                            tags: None,
                        });
                    }
                }
            }
            Discovery::Tagged {
                resource_group,
                env,
                ..
            } => {
                let prefix = format!("{}/providers/", key(resource_group));
                for (a, v) in &st.store {
                    let tagged = v
                        .get("tags")
                        .and_then(|t| t.get(OWNER_TAG))
                        .and_then(Value::as_str)
                        == Some(env.as_str());
                    if a.starts_with(&prefix) && tagged {
                        out.push(DiscoveredResource {
                            address: Address(v["id"].as_str().unwrap_or(a).to_string()),
                            api: st.apis.get(a).cloned(),
                            tags: v.get("tags").and_then(Value::as_object).cloned(),
                        });
                    }
                }
            }
        }
        Ok(out)
    }
}

pub const SUB: &str = "/subscriptions/00000000-aaaa-bbbb-cccc-000000000000";

pub fn rg() -> String {
    format!("{SUB}/resourceGroups/rg-hub")
}

pub fn arm(type_name: &str) -> Api {
    Api::Arm {
        type_name: type_name.into(),
        api_version: "2024-01-01".into(),
    }
}

/// A managed ARM resource spec.
pub fn spec(address: &str, type_name: &str, body: Value) -> ResourceSpec {
    ResourceSpec {
        address: address.into(),
        label: format!(
            "{} {}",
            type_name.rsplit('/').next().unwrap_or(""),
            address.rsplit('/').next().unwrap_or("")
        ),
        stage: Stage::Hub,
        api: arm(type_name),
        body,
        depends_on: BTreeSet::new(),
        rules: DiffRules::default(),
        mode: Mode::Managed,
        serial_key: None,
        taggable: true,
    }
}

pub fn res(name: &str) -> String {
    format!("{}/providers/Microsoft.Test/things/{name}", rg())
}

/// A simple independent resource called `name`.
pub fn thing(name: &str) -> ResourceSpec {
    spec(
        &res(name),
        "Microsoft.Test/things",
        json!({"location": "UK South", "tags": {OWNER_TAG: "dev"}, "properties": {"size": 1}}),
    )
}
