//! A session: the loaded environment plus a connection to its cloud (Azure, a
//! running sandbox named by `OWUI_SANDBOX_URL`, or the embedded sandbox started
//! for `cloud = "sandbox"`).

use crate::config::{CloudSetting, LoadedEnvironment, NamedCloud};
use crate::engine::{AuthMethod, AzureBackend, ClientSettings, Endpoints};
use crate::sandbox::{Sandbox, SandboxOptions};
use anyhow::{Context, Result};
use std::sync::Arc;

/// `OWUI_SANDBOX_URL`: point a `cloud = "sandbox"` environment at a running sandbox
/// (any other environment only with `--sandbox-url`).
pub const SANDBOX_URL_VAR: &str = "OWUI_SANDBOX_URL";
/// `OWUI_SANDBOX_CA`: the CA certificate (PEM file) that sandbox was started with.
pub const SANDBOX_CA_VAR: &str = "OWUI_SANDBOX_CA";

/// An open connection for one environment.
pub struct Session {
    /// The environment file.
    pub loaded: LoadedEnvironment,
    /// ARM + Graph.
    pub backend: Arc<AzureBackend>,
    /// The endpoints connected to (the Retail Prices API URL derives from them).
    pub endpoints: Endpoints,
    auth: AuthMethod,
    embedded: Option<Sandbox>,
    /// The embedded sandbox's state file lock (one process at a time).
    state_lock: Option<super::lock::EnvLock>,
}

impl Session {
    /// Resolve endpoints and credentials: `sandbox_url` (`--sandbox-url`) when given;
    /// else for `cloud = "sandbox"` the running sandbox named by `OWUI_SANDBOX_URL`, or
    /// the embedded sandbox when that is unset; else the environment's cloud.
    pub async fn open(
        loaded: LoadedEnvironment,
        auth: AuthMethod,
        sandbox_url: Option<&str>,
    ) -> Result<Session> {
        let (endpoints, embedded, state_lock) = resolve_endpoints(&loaded, sandbox_url).await?;
        tracing::info!(
            resource_manager = %endpoints.resource_manager,
            graph = %endpoints.graph,
            "connecting"
        );
        let settings = ClientSettings::default();
        let backend =
            match crate::engine::connect(&endpoints, auth, &loaded.env.azure.tenant_id, settings)
                .context("cannot set up the Azure clients")
            {
                Ok(b) => b,
                Err(e) => {
                    if let Some(sandbox) = embedded {
                        sandbox.shutdown().await;
                    }
                    super::lock::release(state_lock).await;
                    return Err(e);
                }
            };
        Ok(Session {
            loaded,
            backend: Arc::new(backend),
            endpoints,
            auth,
            embedded,
            state_lock,
        })
    }

    /// How much faster than Azure the cloud runs: the embedded sandbox's
    /// `time_scale`, else 1 (Azure, or a sandbox server whose scale is unknown).
    pub fn time_scale(&self) -> f64 {
        if self.embedded.is_some() {
            self.loaded.env.azure.sandbox.time_scale
        } else {
            1.0
        }
    }

    /// A client for the cloud's Azure Monitor Logs query API (same credential choice).
    pub fn logs(&self) -> Result<crate::engine::LogsClient> {
        crate::engine::connect_logs(
            &self.endpoints,
            self.auth,
            &self.loaded.env.azure.tenant_id,
            ClientSettings::default(),
        )
        .context("cannot set up the Logs query client")
    }

    /// Whether this session runs the embedded sandbox (locked by its state file).
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// Close the session; an embedded sandbox saves its state file.
    pub async fn close(self) {
        if let Some(sandbox) = self.embedded {
            sandbox.shutdown().await;
        }
        super::lock::release(self.state_lock).await;
    }
}

/// The running sandbox to use: `--sandbox-url`, else `OWUI_SANDBOX_URL` for a
/// `cloud = "sandbox"` environment only (any other cloud is never redirected by it).
fn running_sandbox_url(loaded: &LoadedEnvironment, explicit: Option<&str>) -> Option<String> {
    if let Some(url) = explicit {
        return Some(url.to_string());
    }
    let from_env = std::env::var(SANDBOX_URL_VAR)
        .ok()
        .filter(|u| !u.is_empty())?;
    if loaded.env.azure.cloud.is_sandbox() {
        return Some(from_env);
    }
    tracing::warn!(
        "{SANDBOX_URL_VAR} is ignored: {} does not say cloud = \"sandbox\" (pass --sandbox-url to send its requests to a sandbox)",
        loaded.path.display()
    );
    None
}

/// The endpoints, the embedded sandbox when one is started, and the lock of
/// its state file.
type Resolved = (Endpoints, Option<Sandbox>, Option<super::lock::EnvLock>);

async fn resolve_endpoints(
    loaded: &LoadedEnvironment,
    sandbox_url: Option<&str>,
) -> Result<Resolved> {
    if let Some(url) = running_sandbox_url(loaded, sandbox_url) {
        let ca_path = std::env::var(SANDBOX_CA_VAR).with_context(|| {
            format!(
                "{SANDBOX_URL_VAR} is set but {SANDBOX_CA_VAR} is not: name the CA file the sandbox wrote (its --ca-file)"
            )
        })?;
        let ca = crate::files::read_capped_to_string(ca_path.as_ref(), crate::files::MAX_CA_FILE)
            .with_context(|| format!("cannot read {SANDBOX_CA_VAR}={ca_path}"))?;
        return Ok((Endpoints::sandbox(&url, ca), None, None));
    }
    let azure = &loaded.env.azure;
    match &azure.cloud {
        CloudSetting::Default | CloudSetting::Named(NamedCloud::AzureCloud) => {
            Ok((Endpoints::azure_public(), None, None))
        }
        CloudSetting::Named(NamedCloud::AzureUSGovernment) => {
            Ok((Endpoints::us_government(), None, None))
        }
        CloudSetting::Named(NamedCloud::AzureChinaCloud) => Ok((Endpoints::china(), None, None)),
        CloudSetting::Named(NamedCloud::Sandbox) => {
            let state = loaded.resolve_path(&azure.sandbox.state_file);
            // The state is taken before it is loaded and kept until it is
            // saved: two processes would each save their own copy.
            let state_lock =
                super::lock::acquire_file(loaded, &state, &super::lock::command_name())??;
            let started = Sandbox::start(SandboxOptions {
                state_file: Some(state.clone()),
                time_scale: azure.sandbox.time_scale,
                ..SandboxOptions::default()
            })
            .await
            .with_context(|| {
                format!(
                    "cannot start the embedded sandbox (state file {})",
                    state.display()
                )
            });
            let sandbox = match started {
                Ok(s) => s,
                Err(e) => {
                    state_lock.release().await;
                    return Err(e);
                }
            };
            let endpoints = Endpoints::sandbox(&sandbox.url(), sandbox.ca_pem());
            Ok((endpoints, Some(sandbox), Some(state_lock)))
        }
        CloudSetting::Custom(custom) => {
            let ca = match &custom.ca_file {
                Some(path) => {
                    let bytes = loaded
                        .read_file(path, crate::files::MAX_CA_FILE)
                        .context("cannot read the CA file (azure.cloud.ca_file)")?;
                    Some(String::from_utf8(bytes).context("the CA file is not UTF-8 text")?)
                }
                None => None,
            };
            Ok((
                Endpoints::custom(
                    &custom.resource_manager,
                    &custom.graph,
                    &custom.authority,
                    custom.resource_manager_audience.as_deref(),
                    ca,
                ),
                None,
                None,
            ))
        }
    }
}
