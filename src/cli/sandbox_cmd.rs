//! `owui-deploy sandbox`: serve the emulator until interrupted; `sandbox reset
//! --env F`: empty the embedded sandbox of an environment.

use super::args::{Cli, SandboxAction, SandboxArgs};
use crate::config::CloudSetting;
use crate::config::NamedCloud;
use crate::sandbox::{FaultPlan, Sandbox, SandboxOptions};
use anyhow::{Context, Result};
use std::process::ExitCode;

/// The largest state file `reset` reads to check it is one.
const MAX_STATE_BYTES: u64 = 256 * 1024 * 1024;

pub(super) async fn run(cli: &Cli, args: &SandboxArgs) -> Result<ExitCode> {
    match args.action {
        Some(SandboxAction::Reset) => reset(cli),
        None => serve(args).await,
    }
}

/// `sandbox reset`: delete the state file the environment's embedded sandbox
/// keeps, after checking it is one (so a mistaken `state_file` deletes nothing else).
fn reset(cli: &Cli) -> Result<ExitCode> {
    let loaded = match super::deploy::load_env(cli)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let azure = &loaded.env.azure;
    if !matches!(azure.cloud, CloudSetting::Named(NamedCloud::Sandbox)) {
        anyhow::bail!(
            "{} does not use the embedded sandbox (azure.cloud is not \"sandbox\"): nothing to reset",
            loaded.path.display()
        );
    }
    let state = loaded.resolve_path(&azure.sandbox.state_file);
    let size = match std::fs::metadata(&state) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            outln!(
                "The sandbox of {} is already empty (no {}).",
                loaded.path.display(),
                state.display()
            )?;
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", state.display()));
        }
    };
    if size > MAX_STATE_BYTES || !is_sandbox_state(&state) {
        anyhow::bail!(
            "{} is not a sandbox state file; not deleting it (check [azure.sandbox] state_file)",
            state.display()
        );
    }
    std::fs::remove_file(&state).with_context(|| format!("cannot delete {}", state.display()))?;
    outln!(
        "Reset the sandbox of {}: deleted {}; the next run starts from nothing.",
        loaded.path.display(),
        state.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Whether `path` holds a sandbox state (a JSON object with `version` and `world`).
fn is_sandbox_state(path: &std::path::Path) -> bool {
    let Ok(text) = std::fs::read(path) else {
        return false;
    };
    serde_json::from_slice::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .is_some_and(|o| o.contains_key("version") && o.contains_key("world"))
}

async fn serve(args: &SandboxArgs) -> Result<ExitCode> {
    if !(args.time_scale > 0.0 && args.time_scale.is_finite()) {
        anyhow::bail!(
            "--time-scale must be a positive number, got {}",
            args.time_scale
        );
    }
    let faults = match &args.faults {
        Some(path) => Some(
            FaultPlan::from_file(path)
                .with_context(|| format!("cannot read fault rules from {}", path.display()))?,
        ),
        None => None,
    };
    let sandbox = Sandbox::start(SandboxOptions {
        listen: args.listen,
        state_file: args.state.clone(),
        time_scale: args.time_scale,
        faults,
        seed: args.seed,
        admin_token: None,
        allow_remote: args.allow_remote,
    })
    .await
    .context("cannot start the sandbox")?;
    crate::cli::write_private_file(&args.ca_file, sandbox.ca_pem().as_bytes()).with_context(
        || {
            format!(
                "cannot write the CA certificate to {}",
                args.ca_file.display()
            )
        },
    )?;
    let token_file = args.admin_token_file.clone().unwrap_or_else(|| {
        args.ca_file
            .parent()
            .unwrap_or(std::path::Path::new(""))
            .join("admin-token")
    });
    crate::cli::write_private_file(&token_file, sandbox.admin_token().as_bytes())
        .with_context(|| format!("cannot write the admin token to {}", token_file.display()))?;
    // The sandbox keeps serving when nobody reads these lines (`sandbox | head -1`).
    let _ = outln!("listening on {}", sandbox.url());
    let _ = outln!(
        "CA certificate: {} (trust it with OWUI_SANDBOX_CA)",
        args.ca_file.display()
    );
    let _ = outln!(
        "admin token: {} (also in {}; send it as 'Authorization: Bearer TOKEN' to /_sandbox/...)",
        sandbox.admin_token(),
        token_file.display()
    );
    let _ = outln!(
        "use it: OWUI_SANDBOX_URL={} OWUI_SANDBOX_CA={} owui-deploy ...",
        sandbox.url(),
        args.ca_file.display()
    );
    let signal = super::stop_signal().await?;
    eprintln!("stopping ({signal})");
    sandbox.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
