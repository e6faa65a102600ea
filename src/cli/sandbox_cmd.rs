//! `owui-deploy sandbox`: serve the emulator until interrupted.

use super::args::SandboxArgs;
use crate::sandbox::{FaultPlan, Sandbox, SandboxOptions};
use anyhow::{Context, Result};
use std::process::ExitCode;

pub(super) async fn run(args: &SandboxArgs) -> Result<ExitCode> {
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
    // The sandbox keeps serving when nobody reads these lines (`sandbox | head -1`).
    let _ = outln!("listening on {}", sandbox.url());
    let _ = outln!(
        "CA certificate: {} (trust it with OWUI_SANDBOX_CA)",
        args.ca_file.display()
    );
    let _ = outln!(
        "use it: OWUI_SANDBOX_URL={} OWUI_SANDBOX_CA={} owui-deploy ...",
        sandbox.url(),
        args.ca_file.display()
    );
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    eprintln!("stopping");
    sandbox.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
