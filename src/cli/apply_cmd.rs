//! `owui-deploy apply FILE [--yes]`: apply a saved plan exactly, or refuse
//! (exit code 3, nothing written) when the tool version, the environment file,
//! the templates or any planned live resource changed since it was made.

use super::args::{ApplyFileArgs, Cli, OutputFormat, PlanFormat};
use super::deploy::{self, EXIT_STALE, RunApply};
use super::plan_file::{PlanFile, template_digests};
use super::secrets;
use super::session::Session;
use crate::engine::{self, EngineError};
use anyhow::{Context, Result};
use std::process::ExitCode;

fn refuse(err: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {}", crate::engine::secrets::scrub(&err.to_string()));
    eprintln!("Nothing was changed. Plan again, review the new plan and apply it.");
    ExitCode::from(EXIT_STALE)
}

/// Run `apply FILE`.
pub(super) async fn run(cli: &Cli, args: &ApplyFileArgs) -> Result<ExitCode> {
    let file = PlanFile::read(&args.file)?;
    if cli.output == OutputFormat::Human {
        eprintln!(
            "Plan {}: environment {}, stages {}, made {} by owui-deploy {}.",
            args.file.display(),
            file.environment,
            file.stages
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            file.created_at,
            file.tool_version
        );
    }
    // The environment file: `--env` when given, else the one the plan recorded.
    let env_path = cli
        .env
        .clone()
        .unwrap_or_else(|| file.environment_file.clone());
    let loaded = match crate::config::load_with(&env_path, &super::load_options(cli)) {
        Ok(loaded) => loaded,
        Err(errors) => {
            let report = crate::config::ValidationReport::from_result(&Err(errors));
            match cli.output {
                OutputFormat::Json => {
                    outln!("{}", serde_json::to_string_pretty(&report.to_json())?)?
                }
                OutputFormat::Human => eprint!("{}", report.render_human()),
            }
            return Ok(ExitCode::from(1));
        }
    };
    if let Err(e) = file.check_inputs(&loaded) {
        return Ok(refuse(&e));
    }
    let now = template_digests(&loaded, &file.stages)?;
    if let Err(e) = file.check_templates(&now) {
        return Ok(refuse(&e));
    }
    let mut plan = file.plan.clone();
    // The model only supplies the large contents the plan holds as digests; with
    // the certificate resources it covers every plan of these stages. A write
    // that needs a secret not available now is refused before any write.
    let model = deploy::build_model(&loaded, &file.stages, true, false)?;
    plan.restore_blobs(&model)
        .context("the plan does not match the templates it was made from")?;
    let secret_set = secrets::gather(&loaded, &file.stages, false)?;
    secrets::check_plan(&mut plan, &secret_set)?;

    let session = Session::open(loaded, cli.auth, cli.sandbox_url.as_deref()).await?;
    let gate = super::preflight_cmd::Gate {
        skip: args.skip_preflight,
        register_providers: false,
        advisory_permissions: false,
    };
    match super::preflight_cmd::gate(cli, &session, &model, &gate).await {
        Ok(None) => {}
        other => {
            session.close().await;
            return other.map(|code| code.unwrap_or(ExitCode::from(1)));
        }
    }
    let mut outcome = verify_and_apply(cli, args, &session, &plan, &secret_set).await;
    // As after `spoke`/`up`: say when the Entra application still needs admin
    // consent (text only, so a JSON stream holds the plan and events alone).
    if matches!(outcome, Ok(ExitCode::SUCCESS))
        && plan
            .changes
            .iter()
            .any(|c| c.action.writes() && c.action != engine::Action::Delete)
        && file.stages.contains(&crate::engine::Stage::Spoke)
        && cli.output == OutputFormat::Human
    {
        outcome = super::consent::report(cli, &session)
            .await
            .map(|()| ExitCode::SUCCESS);
    }
    session.close().await;
    outcome
}

async fn verify_and_apply(
    cli: &Cli,
    args: &ApplyFileArgs,
    session: &Session,
    plan: &engine::Plan,
    secret_set: &secrets::SecretSet,
) -> Result<ExitCode> {
    // Checked before showing the plan and asking, so nobody confirms a stale plan.
    match engine::verify_plan(session.backend.as_ref(), plan, cli.parallelism).await {
        Ok(()) => {}
        Err(e @ EngineError::StalePlan { .. }) => return Ok(refuse(&e)),
        Err(e) => return Err(anyhow::Error::new(e).context("cannot read the planned resources")),
    }
    deploy::print_plan(cli, plan, PlanFormat::Brief, true)?;
    let waits_only = !plan.has_changes() && !plan.in_progress().is_empty();
    if !plan.has_changes() && !waits_only {
        if cli.output == OutputFormat::Human {
            outln!("Nothing to apply.")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let run = RunApply {
        // Waiting for resources still in progress writes nothing: nothing to confirm.
        yes: args.yes || waits_only,
        verify_fingerprints: true,
        done: "Apply complete",
    };
    deploy::run_apply(cli, session, plan, &secret_set.secrets, &run).await
}
