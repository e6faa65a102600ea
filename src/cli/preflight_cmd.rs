//! `owui-deploy preflight`, and the preflight gate `plan`, `up`, the stage
//! commands and `apply FILE` pass before anything else: a failed check stops
//! them before any write (exit 1), listing every problem at once. Whenever
//! `GITHUB_STEP_SUMMARY` is set, a failed gate and every `preflight` run append
//! the Markdown report to it.

use super::args::{Cli, OutputFormat, PlanFormat, PreflightArgs, StageArg};
use super::deploy;
use super::session::Session;
use crate::engine::Model;
use crate::engine::preflight::{self, CheckKind, PreflightOptions, Report};
use anyhow::Result;
use std::process::ExitCode;

/// What the gate does.
pub(super) struct Gate {
    /// `--skip-preflight`.
    pub skip: bool,
    /// `--register-providers` (already confirmed with `--yes`).
    pub register_providers: bool,
    /// Permission findings do not stop the command (`plan`: it writes
    /// nothing, and pipelines often plan with a read-only identity).
    pub advisory_permissions: bool,
}

/// Whether `report` stops a command gated by `gate`.
fn stops(report: &Report, gate: &Gate) -> bool {
    report
        .failures()
        .any(|f| !(gate.advisory_permissions && f.check == CheckKind::Permission))
}

/// Refuses `--register-providers` without `--yes` (it is a write).
pub(super) fn confirm_registration(register_providers: bool, yes: bool) -> Result<()> {
    if register_providers && !yes {
        anyhow::bail!(
            "--register-providers registers resource providers in the subscription (a write): add --yes to confirm"
        );
    }
    Ok(())
}

fn options(cli: &Cli, register_providers: bool) -> PreflightOptions {
    PreflightOptions {
        parallelism: cli.parallelism.max(1),
        register_providers,
        ..PreflightOptions::default()
    }
}

/// [`gate`] as the commands use it: `Some(result)` when the command must stop
/// before any write (the report or the error says why), `None` to go on.
pub(super) async fn stop_before_writes(
    cli: &Cli,
    session: &Session,
    model: &Model,
    gate_options: &Gate,
) -> Option<Result<ExitCode>> {
    match gate(cli, session, model, gate_options).await {
        Ok(None) => None,
        other => Some(other.map(|code| code.unwrap_or(ExitCode::from(1)))),
    }
}

/// Run the preflight for `model` unless skipped. `Some(exit code)` when it
/// failed (the report is printed); `None` to go on.
pub(super) async fn gate(
    cli: &Cli,
    session: &Session,
    model: &Model,
    gate: &Gate,
) -> Result<Option<ExitCode>> {
    if gate.skip {
        eprintln!(
            "Preflight skipped (--skip-preflight): names, quota, providers and permissions were not checked; Azure may refuse a write part-way."
        );
        return Ok(None);
    }
    let report = preflight::run(
        &session.backend,
        model,
        &options(cli, gate.register_providers),
    )
    .await;
    if !stops(&report, gate) {
        if cli.output == OutputFormat::Human {
            eprint!("{}", preflight::render_human(&report, false));
            if !report.passed() {
                eprintln!(
                    "The plan goes on: it writes nothing, but the identity that applies it needs these permissions."
                );
            }
        }
        return Ok(None);
    }
    write_step_summary(&report)?;
    match cli.output {
        OutputFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&preflight::report_json(&report))?
        )?,
        OutputFormat::Human => {
            eprint!("{}", preflight::render_human(&report, false));
            eprintln!(
                "Nothing was changed. Fix the problems above and run again (`owui-deploy preflight` checks them alone; `--skip-preflight` skips the checks)."
            );
        }
    }
    Ok(Some(ExitCode::from(1)))
}

/// Append the Markdown report to `$GITHUB_STEP_SUMMARY` when it is set.
fn write_step_summary(report: &Report) -> Result<()> {
    deploy::append_step_summary(preflight::render_markdown(report))
}

fn print(cli: &Cli, args: &PreflightArgs, report: &Report) -> Result<()> {
    match (cli.output, args.output.plan_format()) {
        (OutputFormat::Json, _) => outln!(
            "{}",
            serde_json::to_string_pretty(&preflight::report_json(report))?
        )?,
        (OutputFormat::Human, PlanFormat::Markdown) => {
            out!("{}", preflight::render_markdown(report))?
        }
        (OutputFormat::Human, PlanFormat::Human | PlanFormat::Brief) => {
            out!("{}", preflight::render_human(report, true))?
        }
    }
    Ok(())
}

/// `owui-deploy preflight [STAGE]`: exit 0 when nothing failed, 1 otherwise.
pub(super) async fn run(cli: &Cli, args: &PreflightArgs) -> Result<ExitCode> {
    confirm_registration(args.register_providers, args.yes)?;
    let loaded = match deploy::load_env(cli)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let stages = deploy::stage_list(args.stage.unwrap_or(StageArg::All));
    // With the certificate resources: they are checked whether or not one is given.
    let model = deploy::build_model(&loaded, &stages, true, false)?;
    let session = Session::open(loaded, cli.auth, cli.sandbox_url.as_deref()).await?;
    let report = preflight::run(
        &session.backend,
        &model,
        &options(cli, args.register_providers),
    )
    .await;
    session.close().await;
    print(cli, args, &report)?;
    write_step_summary(&report)?;
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
