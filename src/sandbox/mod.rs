//! The embedded ARM + Microsoft Graph + token-endpoint emulator.
//!
//! Used through HTTP only: the CLI (`owui-deploy sandbox`), `cloud = "sandbox"`
//! environments and the tests all start it and talk to it over HTTPS. One base URL serves
//! the token endpoint (`/{tenant}/oauth2/v2.0/token`), ARM (`/subscriptions/...`),
//! Microsoft Graph (`/v1.0/...`) and the admin API (`/_sandbox/...`). See `docs/sandbox.md`.
//!
//! Internals: `server` (TLS listener, dispatch, common headers, faults, journal),
//! `token` (token endpoint and checks), `arm` (routing and generic CRUD), `types` (the
//! per-type behaviour table), `lro` (operations), `graph`, `faults`, `journal`, `state`.

mod admin;
mod arm;
mod faults;
mod graph;
mod ids;
mod journal;
mod kql;
mod logs;
mod lro;
mod preflight;
mod retail_prices;
mod server;
mod state;
mod tls;
mod token;
mod types;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use faults::{FaultKind, FaultPlan, FaultRule};

/// Client ID the sandbox's token endpoint accepts by default.
pub const DEFAULT_CLIENT_ID: &str = "sandbox";
/// Client secret the sandbox's token endpoint accepts by default.
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox";

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// File that keeps the sandbox's contents across restarts (written atomically).
    /// Its CA is kept next to it (`FILE.ca.pem`, `FILE.ca-key.pem`).
    pub state_file: Option<PathBuf>,
    /// Multiplier applied to every realistic duration (LROs, replication delay, Retry-After).
    pub time_scale: f64,
    /// Faults to inject from the start.
    pub faults: Option<FaultPlan>,
    /// Seed of the random generator behind probabilistic faults.
    pub seed: u64,
    /// Token the admin API (`/_sandbox/...`) and the journal require
    /// (`Authorization: Bearer TOKEN`); `None` generates a random one ([`Sandbox::admin_token`]).
    pub admin_token: Option<String>,
    /// Allow a listen address that is not loopback (`sandbox --allow-remote`): anyone who
    /// can reach it can then use the sandbox's ARM and Graph.
    pub allow_remote: bool,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_file: None,
            time_scale: 1.0,
            faults: None,
            seed: 0,
            admin_token: None,
            allow_remote: false,
        }
    }
}

/// Errors starting or stopping a sandbox.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// A file (state file, CA) could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The state file exists but is not a sandbox state.
    #[error("{}: not a sandbox state file: {message}", path.display())]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Generating or loading the CA or server certificate failed.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// A fault plan is invalid.
    #[error("invalid fault plan{}: {message}", source_name.as_ref().map(|s| format!(" {s}")).unwrap_or_default())]
    Faults {
        /// The file the plan came from, when it came from one.
        source_name: Option<String>,
        /// What is wrong (with line and column for TOML/JSON syntax errors).
        message: String,
    },
    /// An invalid option value.
    #[error("invalid sandbox option: {0}")]
    Options(String),
}

/// A running sandbox. Dropping it without [`Sandbox::shutdown`] stops serving too, but
/// does not write the state file a last time.
pub struct Sandbox {
    addr: SocketAddr,
    ca_pem: String,
    handle: axum_server::Handle<SocketAddr>,
    shared: Arc<server::Shared>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.handle.shutdown();
        self.shared.stop_persister();
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("addr", &self.addr).finish()
    }
}

impl Sandbox {
    /// Bind the listen address and start serving HTTPS in the background.
    pub async fn start(opts: SandboxOptions) -> Result<Sandbox, SandboxError> {
        server::start(opts).await
    }

    /// Base URL, e.g. `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// PEM of the CA that signed the server certificate (SAN `127.0.0.1`, `localhost`).
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    /// The token the admin API and the journal require (`Authorization: Bearer TOKEN`).
    pub fn admin_token(&self) -> String {
        self.shared.admin_token.clone()
    }

    /// Every journal entry as JSON with the request bodies as sent, secrets included.
    /// In-process only (tests that compare the secret values a run sent); the journal
    /// served over HTTP has secret fields redacted.
    pub fn journal_unredacted(&self) -> Vec<serde_json::Value> {
        server::lock(&self.shared.journal).unredacted()
    }

    /// Stop serving, and write the state file if one is configured.
    pub async fn shutdown(mut self) {
        self.handle
            .graceful_shutdown(Some(Duration::from_millis(200)));
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.shared.stop_persister();
        self.shared.persist_now();
    }
}

/// The realistic (unscaled) duration of a write of `method` (`PUT`, `PATCH`, `DELETE`) on
/// resources of `type_name` (e.g. `Microsoft.ApiManagement/service`, case-insensitive),
/// from the sandbox's single duration table (see `docs/sandbox.md`). The benchmark uses
/// it to compute the critical-path bound; multiply by the time scale for sandbox time.
pub fn default_duration(type_name: &str, method: &str) -> Duration {
    types::default_duration(type_name, method)
}
