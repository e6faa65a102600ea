//! After `spoke` (or `up`) without `--grant-admin-consent`: tell the operator that
//! the Entra application's Microsoft Graph permissions still need an administrator's
//! consent, with the exact URL. Everything is read from Microsoft Graph: the
//! application's `appId`, its service principal (and the tenant owning it), and
//! whether the tenant-wide grant already exists (then nothing is printed).

use super::args::{ApplyArgs, Cli, OutputFormat};
use super::session::Session;
use crate::engine::{Address, Api, Backend, Stage};
use crate::stages::entra;
use crate::stages::resources::{
    graph_application, graph_permission_grant, graph_service_principal,
};
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::process::ExitCode;

/// The pending consent step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentNeeded {
    /// Directory (tenant) ID.
    pub tenant_id: String,
    /// Application (client) ID.
    pub app_id: String,
    /// The admin consent URL.
    pub url: String,
}

async fn read_graph(backend: &dyn Backend, address: String, kind: &str) -> Result<Option<Value>> {
    let api = Api::Graph { kind: kind.into() };
    backend
        .read(&Address::from(address.as_str()), &api)
        .await
        .with_context(|| format!("cannot read {address} from Microsoft Graph"))
}

/// Whether the environment's application still lacks the tenant-wide consent.
/// `None` when it is granted, or when the application or its service principal
/// does not exist (nothing to consent to yet).
pub async fn pending(session: &Session) -> Result<Option<ConsentNeeded>> {
    let env = &session.loaded.env;
    let backend = session.backend.as_ref();
    let Some(app) = read_graph(
        backend,
        entra::application_address(env),
        graph_application::KIND,
    )
    .await?
    else {
        return Ok(None);
    };
    let Some(app_id) = app["appId"].as_str().map(str::to_string) else {
        return Ok(None);
    };
    let Some(sp) = read_graph(
        backend,
        graph_service_principal::address(&app_id),
        graph_service_principal::KIND,
    )
    .await?
    else {
        return Ok(None);
    };
    let tenant_id = sp["appOwnerOrganizationId"]
        .as_str()
        .filter(|t| !t.is_empty())
        .unwrap_or(&env.azure.tenant_id)
        .to_string();
    let graph_sp = read_graph(
        backend,
        entra::graph_service_principal_address(),
        graph_service_principal::KIND,
    )
    .await?;
    if let (Some(client), Some(resource)) = (
        sp["id"].as_str(),
        graph_sp.as_ref().and_then(|g| g["id"].as_str()),
    ) {
        let grant = read_graph(
            backend,
            graph_permission_grant::address(client, resource),
            graph_permission_grant::KIND,
        )
        .await?;
        let granted = grant
            .as_ref()
            .and_then(|g| g["scope"].as_str())
            .is_some_and(|scope| {
                entra::GRAPH_SCOPES.split_whitespace().all(|needed| {
                    scope
                        .split_whitespace()
                        .any(|s| s.eq_ignore_ascii_case(needed))
                })
            });
        if granted {
            return Ok(None);
        }
    }
    let url = entra::consent_url_for(env, &tenant_id, &app_id);
    Ok(Some(ConsentNeeded {
        tenant_id,
        app_id,
        url,
    }))
}

/// Print the consent step if it is still pending (human text on stdout, or one
/// JSON line `{"type": "admin_consent_required", ...}` with `--output json`).
pub async fn report(cli: &Cli, session: &Session) -> Result<()> {
    let Some(c) = pending(session).await? else {
        return Ok(());
    };
    match cli.output {
        OutputFormat::Json => outln!(
            "{}",
            json!({
                "type": "admin_consent_required",
                "tenant_id": c.tenant_id,
                "app_id": c.app_id,
                "url": c.url,
                "scopes": entra::GRAPH_SCOPES,
            })
        )?,
        OutputFormat::Human => outln!(
            "\nNext step: admin consent. The Entra application {} ({}) needs an administrator's consent \
             to the Microsoft Graph permissions {} before users can sign in.\n\
             An administrator of tenant {} opens:\n  {}\n\
             or re-run with --grant-admin-consent as a user allowed to grant it.",
            session.loaded.env.entra.app_name,
            c.app_id,
            entra::GRAPH_SCOPES,
            c.tenant_id,
            c.url
        )?,
    }
    Ok(())
}

/// After an apply of stages including the spoke (not `--dry-run`):
/// - it changed something and succeeded without `--grant-admin-consent`: report
///   the pending consent step (not after `No changes`, so that it appears once);
/// - it failed with `--grant-admin-consent` (e.g. the caller may not grant it):
///   still name the manual step when the grant is missing, and keep the error.
pub async fn after_apply(
    cli: &Cli,
    session: &Session,
    stages: &[Stage],
    args: &ApplyArgs,
    applied: bool,
    outcome: Result<ExitCode>,
) -> Result<ExitCode> {
    if !stages.contains(&Stage::Spoke) || args.dry_run {
        return outcome;
    }
    match outcome {
        Ok(code) if code == ExitCode::SUCCESS && !args.grant_admin_consent && applied => {
            report(cli, session).await.map(|()| code)
        }
        Err(err) if args.grant_admin_consent => {
            if let Err(e) = report(cli, session).await {
                tracing::warn!("cannot check the admin consent: {e:#}");
            }
            Err(err)
        }
        other => other,
    }
}
