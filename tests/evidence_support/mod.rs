//! Shared by the deployment benchmark (`benches/deploy.rs`) and the fault-matrix
//! soak (`tests/soak.rs`): an in-process sandbox, environment variants, the
//! secrets the CLI gathers, `up` through the library (the path the CLI takes:
//! `config::load` -> `stages::model` -> `engine::plan` -> `engine::apply`), the
//! sandbox journal and the "exactly once" checks.
#![allow(dead_code)]

use azure_core::credentials::Secret;
use owui_deploy::config::{self, LoadedEnvironment};
use owui_deploy::engine::{
    self, Action, ApplyOptions, ApplyReport, AuthMethod, AzureBackend, CancelToken, ClientSettings,
    Endpoints, EngineError, EventSink, Model, Plan, PlanOptions, SecretAction, Secrets, Stage,
};
use owui_deploy::sandbox::{Sandbox, SandboxOptions};
use owui_deploy::stages::{self, Ids, StageOptions};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The three stages as one graph: what `owui-deploy up` deploys.
pub const UP: &[Stage] = &[Stage::Hub, Stage::Spoke, Stage::Finalize];

/// The crate root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped sandbox environment file's text.
pub fn sandbox_env_text() -> String {
    std::fs::read_to_string(repo().join("environments/sandbox.toml"))
        .expect("environments/sandbox.toml")
}

/// A variant of the sandbox environment with distinct names and resource groups
/// (`i = 0` is the file as shipped).
pub fn env_variant(base: &str, i: usize) -> String {
    if i == 0 {
        return base.to_string();
    }
    base.replace("name = \"sandbox\"", &format!("name = \"sandbox{i}\""))
        .replace("-sandbox\"", &format!("-sandbox{i}\""))
        .replace("stowuisandbox", &format!("stowuisbx{i}"))
        .replace("-sbx\"", &format!("-sb{i}\""))
        .replace("(sandbox)", &format!("(sandbox {i})"))
        .replace("chat.sandbox.", &format!("chat.sandbox{i}."))
}

/// The environment with its model deployments replaced by `n` small ones.
pub fn with_deployments(base: &str, n: usize) -> String {
    let start = base
        .find("[[foundry.deployments]]")
        .expect("the environment has deployments");
    let end = base[start..]
        .find("\n[postgres]")
        .map(|e| start + e + 1)
        .expect("[postgres] follows the deployments");
    let mut blocks = String::new();
    for k in 0..n {
        blocks.push_str(&format!(
            "[[foundry.deployments]]\nname = \"model-{k:02}\"\nformat = \"OpenAI\"\nmodel = \"gpt-4o-mini\"\nversion = \"2024-07-18\"\ncapacity = 1\n\n"
        ));
    }
    format!("{}{}{}", &base[..start], blocks, &base[end..])
}

/// One environment ready to deploy: the loaded file and its desired model.
pub struct Deployment {
    /// The loaded environment (as `config::load` returns it).
    pub loaded: LoadedEnvironment,
    /// Secrets as the CLI gathers them.
    pub secrets: Secrets,
    /// The secret values known before the run (to search for leaks).
    pub secret_values: Vec<String>,
}

/// Write `text` to `dir/name.toml` and load it the way the CLI does.
pub fn load_env(dir: &Path, name: &str, text: &str, password: &str) -> Deployment {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write environment");
    let loaded = match config::load(&path) {
        Ok(l) => l,
        Err(e) => panic!(
            "environment {name} is invalid:\n{}",
            config::ValidationReport::from_result(&Err(e)).render_human()
        ),
    };
    let (secrets, secret_values) = secrets_for(&loaded, password);
    Deployment {
        loaded,
        secrets,
        secret_values,
    }
}

impl Deployment {
    /// The desired model of `stages` (no certificate: the sandbox environment has none).
    pub fn model(&self, stages_wanted: &[Stage]) -> Model {
        let opts = StageOptions {
            environment_dir: self.loaded.dir.clone(),
            without_certificate: true,
            grant_admin_consent: false,
        };
        stages::model(&self.loaded.env, &opts, stages_wanted).expect("stage model")
    }
}

/// The secrets `owui-deploy up` gathers (see `src/cli/secrets.rs`): the PostgreSQL
/// admin password (given, as with `OWUI_POSTGRES_ADMIN_PASSWORD`), its
/// percent-encoded form and the connection string built from it (the stages use
/// one or the other, depending on the version), and the storage account key
/// fetched with `listKeys` when the Container Apps environment storage is written.
/// Returns the store and the values to search for leaks.
pub fn secrets_for(loaded: &LoadedEnvironment, password: &str) -> (Secrets, Vec<String>) {
    let env = &loaded.env;
    let mut secrets = Secrets::new();
    let encoded = url_encode(password);
    let connection = format!(
        "postgresql://{}:{}@{}.postgres.database.azure.com:5432/{}?sslmode=require",
        url_encode(&env.postgres.admin_login),
        encoded,
        env.postgres.server_name,
        url_encode(&env.postgres.database)
    );
    secrets.insert(
        stages::ids::SECRET_PG_PASSWORD,
        Secret::new(password.to_string()),
    );
    secrets.insert(
        "postgres-admin-password-url-encoded",
        Secret::new(encoded.clone()),
    );
    secrets.insert(
        stages::ids::SECRET_PG_CONNECTION,
        Secret::new(connection.clone()),
    );
    secrets.insert_action(
        stages::spoke::SECRET_STORAGE_KEY,
        SecretAction {
            address: Ids::new(env).storage_account().as_str().into(),
            api_version: owui_deploy::azure::api_versions::api_version(
                "Microsoft.Storage/storageAccounts",
            )
            .expect("storage API version")
            .to_string(),
            action: "listKeys".into(),
            pointer: "/keys/0/value".into(),
        },
    );
    // WEBUI_SECRET_KEY as the CLI generates it (a fresh value each run, written to Key
    // Vault only while it is missing there), and the Redis key fetched like the storage key.
    let webui_key = format!("Wk-{}", uuid::Uuid::new_v4().simple());
    secrets.insert(
        stages::ids::SECRET_WEBUI_KEY,
        Secret::new(webui_key.clone()),
    );
    if let Some(action) = stages::spoke::redis_key_action(env).expect("Redis API version") {
        secrets.insert_action_url_encoded(stages::spoke::SECRET_REDIS_KEY_URL_ENCODED, action);
    }
    // The password's random core catches it in any encoding.
    let core = password
        .split('-')
        .next_back()
        .unwrap_or(password)
        .trim_end_matches('!')
        .to_string();
    (
        secrets,
        vec![password.to_string(), encoded, connection, core, webui_key],
    )
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A password that is easy to find in text and valid for PostgreSQL.
pub fn test_password(tag: &str) -> String {
    format!("Pw-{tag}-Zq8xK2mV7rT4wY9n!")
}

/// Client settings as the CLI uses them, with the backoff floor scaled like the
/// sandbox's durations (so a 500 costs milliseconds, as the sandbox's LROs do).
pub fn client_settings(time_scale: f64) -> ClientSettings {
    ClientSettings {
        initial_retry_delay: scaled(Duration::from_millis(800), time_scale),
        max_retry_time: Duration::from_secs(120),
        lro_timeout: Duration::from_secs(600),
        ..ClientSettings::default()
    }
}

/// The engine's own waits (PrincipalNotFound retries, waiting for a resource still
/// provisioning) scaled like the sandbox: they are sized for Azure's real delays.
pub fn apply_options(time_scale: f64) -> ApplyOptions {
    let d = ApplyOptions::default();
    ApplyOptions {
        principal_retry_timeout: scaled(d.principal_retry_timeout, time_scale)
            .max(Duration::from_secs(5)),
        retry_initial_delay: scaled(d.retry_initial_delay, time_scale),
        retry_max_delay: scaled(d.retry_max_delay, time_scale),
        ..d
    }
}

/// `d` multiplied by `scale`, at least 1 ms.
pub fn scaled(d: Duration, scale: f64) -> Duration {
    Duration::from_secs_f64(d.as_secs_f64() * scale).max(Duration::from_millis(1))
}

/// A sandbox plus an admin client.
pub struct World {
    /// The sandbox.
    pub sandbox: Sandbox,
    /// Its time scale.
    pub time_scale: f64,
    admin: reqwest::Client,
}

impl World {
    /// Start a sandbox.
    pub async fn start(time_scale: f64, seed: u64) -> World {
        let sandbox = Sandbox::start(SandboxOptions {
            time_scale,
            seed,
            ..SandboxOptions::default()
        })
        .await
        .expect("sandbox starts");
        let cert = reqwest::Certificate::from_pem(sandbox.ca_pem().as_bytes()).expect("ca pem");
        let admin = reqwest::Client::builder()
            .tls_certs_only([cert])
            .build()
            .expect("admin client");
        World {
            sandbox,
            time_scale,
            admin,
        }
    }

    /// A backend for `tenant`, built like the CLI's session (`engine::connect`).
    pub fn backend(&self, tenant: &str, settings: ClientSettings) -> Arc<AzureBackend> {
        let eps = Endpoints::sandbox(&self.sandbox.url(), self.sandbox.ca_pem());
        Arc::new(engine::connect(&eps, AuthMethod::Auto, tenant, settings).expect("connect"))
    }

    /// GET an admin path (with the admin token).
    pub async fn get(&self, path: &str) -> Value {
        self.admin
            .get(format!("{}{path}", self.sandbox.url()))
            .bearer_auth(self.sandbox.admin_token())
            .send()
            .await
            .expect("admin GET")
            .json()
            .await
            .expect("admin JSON")
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) {
        let mut req = self
            .admin
            .request(method, format!("{}{path}", self.sandbox.url()))
            .bearer_auth(self.sandbox.admin_token());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("admin request");
        assert!(
            resp.status().is_success(),
            "admin {path}: {}",
            resp.status()
        );
    }

    /// Replace the fault rules.
    pub async fn set_faults(&self, rules: Value) {
        self.send(
            reqwest::Method::POST,
            "/_sandbox/faults",
            Some(json!({ "rules": rules })),
        )
        .await
    }

    /// Remove every fault rule.
    pub async fn clear_faults(&self) {
        self.send(reqwest::Method::DELETE, "/_sandbox/faults", None)
            .await
    }

    /// Forget everything.
    pub async fn reset(&self) {
        self.send(reqwest::Method::POST, "/_sandbox/reset", None)
            .await
    }

    /// Clear the journal.
    pub async fn clear_journal(&self) {
        self.send(reqwest::Method::DELETE, "/_sandbox/journal", None)
            .await
    }

    /// Merge sandbox configuration.
    pub async fn config(&self, patch: Value) {
        self.send(reqwest::Method::POST, "/_sandbox/config", Some(patch))
            .await
    }

    /// Journal entries with `seq` > `since` (all when `since` is 0).
    pub async fn journal_since(&self, since: u64) -> Vec<Value> {
        let v = self.get(&format!("/_sandbox/journal?since={since}")).await;
        as_array(v, "entries")
    }

    /// The whole journal.
    pub async fn journal(&self) -> Vec<Value> {
        as_array(self.get("/_sandbox/journal").await, "entries")
    }

    /// Every resource: `{id, type, provisioningState}`.
    pub async fn resources(&self) -> Vec<Value> {
        as_array(self.get("/_sandbox/resources").await, "resources")
    }

    /// A bearer token for `scope` from the sandbox's token endpoint.
    pub async fn token(&self, scope: &str) -> String {
        let v: Value = self
            .admin
            .post(format!("{}/t/oauth2/v2.0/token", self.sandbox.url()))
            .form(&[
                ("client_id", "sandbox"),
                ("client_secret", "sandbox"),
                ("grant_type", "client_credentials"),
                ("scope", scope),
            ])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token JSON");
        v["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// GET an ARM or Graph path with a token for `scope`.
    pub async fn get_with_token(&self, scope: &str, path: &str) -> Value {
        let token = self.token(scope).await;
        self.admin
            .get(format!("{}{path}", self.sandbox.url()))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    }
}

fn as_array(v: Value, key: &str) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        Value::Object(mut o) => match o.remove(key) {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Whether a journal entry is an ARM or Graph request (not the token endpoint,
/// nor the environment lock: the subscription's tags).
pub fn is_api(e: &Value) -> bool {
    let path = e["path"].as_str().unwrap_or_default();
    !path.contains("/oauth2/")
        && !path.starts_with("/_sandbox")
        && !path
            .to_ascii_lowercase()
            .contains("/providers/microsoft.resources/tags/default")
}

/// Whether a journal entry is an ARM/Graph write (the preflight's read-only
/// `checkNameAvailability`/`checkDomainAvailability` POSTs are not).
pub fn is_write(e: &Value) -> bool {
    let path = e["path"].as_str().unwrap_or_default();
    let bare = path.split('?').next().unwrap_or(path).to_ascii_lowercase();
    is_api(e)
        && matches!(
            e["method"].as_str().unwrap_or_default(),
            "PUT" | "PATCH" | "POST" | "DELETE"
        )
        && !bare.ends_with("/checknameavailability")
        && !bare.ends_with("/checkdomainavailability")
}

/// Whether a journal entry polls an operation (status or result URL).
pub fn is_poll(e: &Value) -> bool {
    let p = e["path"].as_str().unwrap_or_default().to_ascii_lowercase();
    e["method"] == "GET" && (p.contains("/operationstatuses/") || p.contains("/operationresults/"))
}

/// Counts of a journal slice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traffic {
    /// ARM + Graph requests.
    pub requests: usize,
    /// Writes among them.
    pub writes: usize,
    /// GETs that are not operation polls.
    pub reads: usize,
    /// Operation polls.
    pub polls: usize,
    /// Requests on which a fault fired.
    pub faulted: usize,
}

/// Count a journal slice.
pub fn traffic(entries: &[Value]) -> Traffic {
    let mut t = Traffic::default();
    for e in entries.iter().filter(|e| is_api(e)) {
        t.requests += 1;
        if is_write(e) {
            t.writes += 1;
        } else if is_poll(e) {
            t.polls += 1;
        } else {
            t.reads += 1;
        }
        if e["faults"].as_array().is_some_and(|f| !f.is_empty()) {
            t.faulted += 1;
        }
    }
    t
}

/// What one `up` did.
pub struct UpRun {
    /// The plan (None when planning failed).
    pub plan: Option<Plan>,
    /// The apply's outcome (None when planning failed or nothing changed).
    pub result: Option<Result<ApplyReport, EngineError>>,
    /// The planning error, if any.
    pub plan_error: Option<EngineError>,
    /// Wall time of plan + apply.
    pub elapsed: Duration,
    /// Wall time of the apply alone.
    pub apply_elapsed: Duration,
}

impl UpRun {
    /// Whether planning and applying succeeded.
    pub fn ok(&self) -> bool {
        self.plan_error.is_none() && !matches!(self.result, Some(Err(_)))
    }

    /// The error text, if any.
    pub fn error_text(&self) -> Option<String> {
        if let Some(e) = &self.plan_error {
            return Some(format!("{e}\n{e:?}"));
        }
        match &self.result {
            Some(Err(e)) => Some(format!("{e}\n{e:?}")),
            _ => None,
        }
    }
}

/// `up`: plan the model against live state, then apply that plan (as
/// `owui-deploy up --yes` does).
pub async fn up(
    backend: Arc<AzureBackend>,
    model: &Model,
    environment: &str,
    secrets: &Secrets,
    opts: &ApplyOptions,
    events: EventSink,
    cancel: CancelToken,
) -> UpRun {
    let t0 = Instant::now();
    let popts = PlanOptions {
        environment: Some(environment.to_string()),
        ..PlanOptions::default()
    };
    let plan = match engine::plan(backend.as_ref(), model, &popts).await {
        Ok(p) => p,
        Err(e) => {
            return UpRun {
                plan: None,
                result: None,
                plan_error: Some(e),
                elapsed: t0.elapsed(),
                apply_elapsed: Duration::ZERO,
            };
        }
    };
    // Like the CLI: resources still in progress are waited for even with nothing to write.
    if !plan.has_changes() && plan.in_progress().is_empty() {
        return UpRun {
            plan: Some(plan),
            result: None,
            plan_error: None,
            elapsed: t0.elapsed(),
            apply_elapsed: Duration::ZERO,
        };
    }
    let t1 = Instant::now();
    let result = engine::apply(backend, &plan, opts, secrets, events, cancel).await;
    UpRun {
        plan: Some(plan),
        result: Some(result),
        plan_error: None,
        elapsed: t0.elapsed(),
        apply_elapsed: t1.elapsed(),
    }
}

/// A plan of `model` (no writes).
pub async fn plan_only(
    backend: &AzureBackend,
    model: &Model,
    environment: &str,
) -> Result<Plan, EngineError> {
    let popts = PlanOptions {
        environment: Some(environment.to_string()),
        ..PlanOptions::default()
    };
    engine::plan(backend, model, &popts).await
}

/// The writes a plan would make, as `action address` strings.
pub fn plan_writes(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
        .map(|c| format!("{:?} {}", c.action, c.address))
        .collect()
}

/// Duplicates found in the sandbox.
#[derive(Debug, Default)]
pub struct Duplicates {
    /// ARM resource IDs listed more than once.
    pub resources: Vec<String>,
    /// Role assignments with the same (scope, role, principal).
    pub role_assignments: Vec<String>,
    /// Graph applications sharing a uniqueName / displayName.
    pub applications: Vec<String>,
    /// Service principals sharing an appId.
    pub service_principals: Vec<String>,
    /// Role assignments checked.
    pub role_assignments_checked: usize,
    /// Graph objects checked.
    pub graph_objects_checked: usize,
}

impl Duplicates {
    /// How many duplicates in all.
    pub fn count(&self) -> usize {
        self.resources.len()
            + self.role_assignments.len()
            + self.applications.len()
            + self.service_principals.len()
    }
}

/// Look for duplicated resources, role assignments and Graph objects.
pub async fn find_duplicates(world: &World) -> Duplicates {
    let mut d = Duplicates::default();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let resources = world.resources().await;
    for r in &resources {
        let id = r["id"].as_str().unwrap_or_default().to_ascii_lowercase();
        *seen.entry(id).or_default() += 1;
    }
    d.resources = seen
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(id, n)| format!("{id} x{n}"))
        .collect();

    let arm = "https://management.azure.com/.default";
    let ra_version =
        owui_deploy::azure::api_versions::api_version(engine::ROLE_ASSIGNMENT_TYPE).unwrap_or("");
    let mut keys: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for r in &resources {
        if !r["type"]
            .as_str()
            .unwrap_or_default()
            .eq_ignore_ascii_case(engine::ROLE_ASSIGNMENT_TYPE)
        {
            continue;
        }
        let id = r["id"].as_str().unwrap_or_default();
        let v = world
            .get_with_token(arm, &format!("{id}?api-version={ra_version}"))
            .await;
        let lower = id.to_ascii_lowercase();
        let scope = v["properties"]["scope"]
            .as_str()
            .map(str::to_ascii_lowercase)
            .unwrap_or_else(|| {
                lower
                    .split("/providers/microsoft.authorization/")
                    .next()
                    .unwrap_or_default()
                    .to_string()
            });
        let role = v["properties"]["roleDefinitionId"]
            .as_str()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let principal = v["properties"]["principalId"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        keys.entry((scope.trim_end_matches('/').to_string(), role, principal))
            .or_default()
            .push(lower);
        d.role_assignments_checked += 1;
    }
    d.role_assignments = keys
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(k, v)| format!("{k:?}: {v:?}"))
        .collect();

    let graph = "https://graph.microsoft.com/.default";
    let apps = as_array(
        world.get_with_token(graph, "/v1.0/applications").await,
        "value",
    );
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for a in &apps {
        let key = a["uniqueName"]
            .as_str()
            .or_else(|| a["displayName"].as_str())
            .unwrap_or_default()
            .to_string();
        *names.entry(key).or_default() += 1;
        let display = format!("displayName:{}", a["displayName"].as_str().unwrap_or(""));
        *names.entry(display).or_default() += 1;
    }
    d.applications = names
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, n)| format!("{k} x{n}"))
        .collect();
    let sps = as_array(
        world.get_with_token(graph, "/v1.0/servicePrincipals").await,
        "value",
    );
    let mut by_app: BTreeMap<String, usize> = BTreeMap::new();
    for s in &sps {
        *by_app
            .entry(s["appId"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    d.service_principals = by_app
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, n)| format!("appId {k} x{n}"))
        .collect();
    d.graph_objects_checked = apps.len() + sps.len();
    d
}

/// Where each of `needles` occurs in `haystack` (by index), if anywhere.
pub fn leaked(haystack: &str, needles: &[String]) -> Vec<usize> {
    needles
        .iter()
        .enumerate()
        .filter(|(_, n)| n.len() >= 8 && haystack.contains(n.as_str()))
        .map(|(i, _)| i)
        .collect()
}

/// The set of stages as a label.
pub fn stage_label(s: &[Stage]) -> String {
    s.iter()
        .map(|s| format!("{s:?}").to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("+")
}

/// Distinct resource types of a model, for reports.
pub fn types_of(model: &Model) -> BTreeSet<String> {
    model
        .resources
        .iter()
        .filter_map(|r| r.api.type_name().map(str::to_string))
        .collect()
}
