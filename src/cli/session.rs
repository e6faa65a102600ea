//! A session: the loaded environment plus a connection to its cloud (Azure, a
//! running sandbox named by `OWUI_SANDBOX_URL`, or the embedded sandbox started
//! for `cloud = "sandbox"`).

use crate::config::{CloudSetting, LoadedEnvironment, NamedCloud};
use crate::engine::{AuthMethod, AzureBackend, ClientSettings, Endpoints};
use crate::sandbox::{Sandbox, SandboxOptions};
use anyhow::{Context, Result};
use std::sync::Arc;

/// `OWUI_SANDBOX_URL`: point any environment at a running sandbox.
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
    embedded: Option<Sandbox>,
}

impl Session {
    /// Resolve endpoints and credentials, starting the embedded sandbox if the
    /// environment says `cloud = "sandbox"` and no `OWUI_SANDBOX_URL` is set.
    pub async fn open(loaded: LoadedEnvironment, auth: AuthMethod) -> Result<Session> {
        let (endpoints, embedded) = resolve_endpoints(&loaded).await?;
        tracing::info!(
            resource_manager = %endpoints.resource_manager,
            graph = %endpoints.graph,
            "connecting"
        );
        let settings = ClientSettings::default();
        let backend =
            crate::engine::connect(&endpoints, auth, &loaded.env.azure.tenant_id, settings)
                .context("cannot set up the Azure clients")?;
        Ok(Session {
            loaded,
            backend: Arc::new(backend),
            endpoints,
            embedded,
        })
    }

    /// Close the session; an embedded sandbox saves its state file.
    pub async fn close(self) {
        if let Some(sandbox) = self.embedded {
            sandbox.shutdown().await;
        }
    }
}

async fn resolve_endpoints(loaded: &LoadedEnvironment) -> Result<(Endpoints, Option<Sandbox>)> {
    if let Ok(url) = std::env::var(SANDBOX_URL_VAR) {
        let ca_path = std::env::var(SANDBOX_CA_VAR).with_context(|| {
            format!(
                "{SANDBOX_URL_VAR} is set but {SANDBOX_CA_VAR} is not: name the CA file the sandbox wrote (its --ca-file)"
            )
        })?;
        let ca = std::fs::read_to_string(&ca_path)
            .with_context(|| format!("cannot read {SANDBOX_CA_VAR}={ca_path}"))?;
        return Ok((Endpoints::sandbox(&url, ca), None));
    }
    let azure = &loaded.env.azure;
    match &azure.cloud {
        CloudSetting::Default | CloudSetting::Named(NamedCloud::AzureCloud) => {
            Ok((Endpoints::azure_public(), None))
        }
        CloudSetting::Named(NamedCloud::AzureUSGovernment) => {
            Ok((Endpoints::us_government(), None))
        }
        CloudSetting::Named(NamedCloud::AzureChinaCloud) => Ok((Endpoints::china(), None)),
        CloudSetting::Named(NamedCloud::Sandbox) => {
            let state = loaded.resolve_path(&azure.sandbox.state_file);
            let sandbox = Sandbox::start(SandboxOptions {
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
            })?;
            let endpoints = Endpoints::sandbox(&sandbox.url(), sandbox.ca_pem());
            Ok((endpoints, Some(sandbox)))
        }
        CloudSetting::Custom(custom) => {
            let ca =
                match &custom.ca_file {
                    Some(path) => {
                        let path = loaded.resolve_path(path);
                        Some(std::fs::read_to_string(&path).with_context(|| {
                            format!("cannot read the CA file {}", path.display())
                        })?)
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
            ))
        }
    }
}
