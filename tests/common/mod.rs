//! Shared test helpers: start an in-process sandbox and build clients for it, read its
//! journal, inject faults, change its configuration.
#![allow(dead_code)]

use owui_deploy::azure::{
    ArmClient, AuthMethod, ClientSettings, Endpoints, GraphClient, LroObserver, credential,
};
use owui_deploy::sandbox::{Sandbox, SandboxOptions};
use serde_json::Value;
use std::sync::Mutex;
use std::time::Duration;

/// A bearer token for `scope` from the sandbox at `base` (client credentials
/// `sandbox`/`sandbox`, the sandbox's own).
pub async fn sandbox_token(http: &reqwest::Client, base: &str, scope: &str) -> String {
    let v: Value = http
        .post(format!("{base}/t/oauth2/v2.0/token"))
        .form(&[
            ("client_id", "sandbox"),
            ("client_secret", "sandbox"),
            ("grant_type", "client_credentials"),
            ("scope", scope),
        ])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("token JSON");
    v["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// Subscription used by tests (any GUID works in the sandbox).
pub const SUB: &str = "00000000-0000-0000-0000-00000000a2e0";
/// Tenant used by tests.
pub const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";

/// Retry settings for tests: fast backoff (azure_core adds up to 256 ms jitter per retry),
/// generous bounds.
pub fn fast_settings() -> ClientSettings {
    ClientSettings {
        max_retries: 6,
        max_retry_time: Duration::from_secs(30),
        initial_retry_delay: Duration::from_millis(1),
        max_retry_delay: Duration::from_secs(1),
        lro_timeout: Duration::from_secs(60),
        user_agent_suffix: None,
    }
}

/// Start a sandbox with `time_scale` on 127.0.0.1:0.
pub async fn sandbox(time_scale: f64) -> Sandbox {
    Sandbox::start(SandboxOptions {
        time_scale,
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox starts")
}

/// Endpoints of a running sandbox.
pub fn endpoints(sb: &Sandbox) -> Endpoints {
    Endpoints::sandbox(&sb.url(), sb.ca_pem())
}

/// ARM and Graph clients for a sandbox, authenticated the way the tool does it
/// (`--auth auto` against sandbox endpoints: ClientSecretCredential sandbox/sandbox).
pub fn clients(sb: &Sandbox, settings: ClientSettings) -> (ArmClient, GraphClient) {
    let eps = endpoints(sb);
    let cred = credential(AuthMethod::Auto, &eps, TENANT).expect("credential");
    let arm = ArmClient::new(&eps, cred.clone(), settings.clone()).expect("arm client");
    let graph = GraphClient::new(&eps, cred, settings).expect("graph client");
    (arm, graph)
}

/// Start a sandbox and build clients with [`fast_settings`].
pub async fn start_sandbox(time_scale: f64) -> (Sandbox, ArmClient, GraphClient) {
    let sb = sandbox(time_scale).await;
    let (arm, graph) = clients(&sb, fast_settings());
    (sb, arm, graph)
}

/// HTTPS client for the admin API (`/_sandbox/...`), sending the sandbox's admin token.
pub struct Admin {
    http: reqwest::Client,
    base: String,
}

impl Admin {
    /// Admin client for a running sandbox.
    pub fn new(sb: &Sandbox) -> Self {
        let ca = reqwest::Certificate::from_pem(sb.ca_pem().as_bytes()).expect("CA PEM");
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {}", sb.admin_token())
                .parse()
                .expect("admin token header"),
        );
        let http = reqwest::Client::builder()
            .tls_certs_only([ca])
            .default_headers(headers)
            .build()
            .expect("admin client");
        Self {
            http,
            base: sb.url(),
        }
    }

    /// Every journal entry so far.
    pub async fn journal(&self) -> Vec<Value> {
        let v: Value = self
            .http
            .get(format!("{}/_sandbox/journal", self.base))
            .send()
            .await
            .expect("journal")
            .json()
            .await
            .expect("journal JSON");
        v.as_array().cloned().unwrap_or_default()
    }

    /// Forget the journal.
    pub async fn clear_journal(&self) {
        let r = self
            .http
            .delete(format!("{}/_sandbox/journal", self.base))
            .send()
            .await
            .expect("clear journal");
        assert!(r.status().is_success());
    }

    /// Replace the fault rules (`{"rules": [...]}`).
    pub async fn faults(&self, plan: Value) {
        let r = self
            .http
            .post(format!("{}/_sandbox/faults", self.base))
            .json(&plan)
            .send()
            .await
            .expect("set faults");
        assert!(
            r.status().is_success(),
            "faults rejected: {:?}",
            r.text().await
        );
    }

    /// Merge-patch the runtime configuration (`token_lifetime_secs`, `time_scale`, ...).
    pub async fn config(&self, patch: Value) {
        let r = self
            .http
            .post(format!("{}/_sandbox/config", self.base))
            .json(&patch)
            .send()
            .await
            .expect("set config");
        assert!(
            r.status().is_success(),
            "config rejected: {:?}",
            r.text().await
        );
    }
}

/// Journal entries whose method is `method` and whose path (query excluded) satisfies `pred`.
pub fn entries<'a>(
    journal: &'a [Value],
    method: &str,
    pred: impl Fn(&str) -> bool,
) -> Vec<&'a Value> {
    journal
        .iter()
        .filter(|e| e["method"].as_str() == Some(method))
        .filter(|e| {
            let path = e["path"].as_str().unwrap_or("");
            pred(path.split('?').next().unwrap_or(path))
        })
        .collect()
}

/// Records what an [`LroObserver`] is told.
#[derive(Default)]
pub struct Recorder {
    /// Statuses of polls, in order.
    pub polls: Mutex<Vec<String>>,
    /// Retries: reason and announced delay.
    pub retries: Mutex<Vec<(String, Duration)>>,
}

impl LroObserver for Recorder {
    fn polled(&self, status: &str, _elapsed: Duration) {
        self.polls.lock().unwrap().push(status.to_string());
    }
    fn retrying(&self, reason: &str, delay: Duration) {
        self.retries
            .lock()
            .unwrap()
            .push((reason.to_string(), delay));
    }
}

/// `/subscriptions/{SUB}/resourceGroups/{name}`.
pub fn rg_id(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{name}")
}
