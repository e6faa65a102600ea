//! `owui-deploy apply FILE [--yes]`: apply a saved plan exactly, or refuse
//! (exit code 3, nothing written) when the tool version, the environment file,
//! the templates or any planned live resource changed since it was made, and
//! (exit code 4, nothing written) when the file holds a change the
//! configuration does not produce (see [`crate::engine::plan_check`]).

use super::args::{ApplyFileArgs, Cli, OutputFormat, PlanFormat};
use super::deploy::{self, EXIT_MISMATCH, EXIT_STALE, RunApply};
use super::plan_file::{PlanFile, template_digests};
use super::secrets;
use super::session::Session;
use crate::engine::plan_check::{self, Mismatch};
use crate::engine::{self, EngineError};
use anyhow::{Context, Result};
use std::process::ExitCode;

fn refuse(err: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {}", crate::engine::secrets::scrub(&err.to_string()));
    eprintln!("Nothing was changed. Plan again, review the new plan and apply it.");
    ExitCode::from(EXIT_STALE)
}

/// Refuse a plan file holding changes the configuration does not produce.
fn refuse_mismatch(mismatches: &[Mismatch]) -> ExitCode {
    eprintln!("error: the plan file does not match the configuration:");
    for m in mismatches.iter().take(20) {
        eprintln!("  - {m}");
    }
    if mismatches.len() > 20 {
        eprintln!("  ... and {} more", mismatches.len() - 20);
    }
    eprintln!(
        "Nothing was changed. The plan file was edited after it was made, or was not made \
         from this environment file; plan again and review the new plan."
    );
    ExitCode::from(EXIT_MISMATCH)
}

/// A plan file checked offline against the configuration it names: what
/// `apply FILE` needs once it connects.
struct Checked {
    file: PlanFile,
    loaded: crate::config::LoadedEnvironment,
    model: engine::Model,
    plan: engine::Plan,
    secret_set: secrets::SecretSet,
}

/// Run `apply FILE`: check the file offline, then connect, take the lock, run
/// the preflight, check the live state and apply.
pub(super) async fn run(cli: &Cli, args: &ApplyFileArgs) -> Result<ExitCode> {
    let Checked {
        file,
        loaded,
        model,
        plan,
        secret_set,
    } = match check_offline(cli, args)? {
        Ok(checked) => checked,
        Err(code) => return Ok(code),
    };
    let session = Session::open(loaded, cli.auth, cli.sandbox_url.as_deref()).await?;
    let (session, lock) = match super::lock::take(session, "apply").await? {
        Ok(taken) => taken,
        Err(code) => return Ok(code),
    };
    let gate = super::preflight_cmd::Gate {
        skip: args.skip_preflight,
        register_providers: false,
        advisory_permissions: false,
    };
    if let Some(stop) = super::preflight_cmd::stop_before_writes(cli, &session, &model, &gate).await
    {
        session.close().await;
        super::lock::release(lock).await;
        return stop;
    }
    let mut outcome = verify_and_apply(
        cli,
        args,
        &session,
        &model,
        &plan,
        &secret_set,
        file.destroy,
    )
    .await;
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
    super::lock::release(lock).await;
    outcome
}

/// Read the plan file and check it without any request: the environment file,
/// the templates and every change against the model the configuration builds.
/// `Err(code)` when it is refused (already reported).
fn check_offline(cli: &Cli, args: &ApplyFileArgs) -> Result<Result<Checked, ExitCode>> {
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
    let loaded = match load_environment(cli, &file)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(Err(code)),
    };
    if let Err(e) = file.check_inputs(&loaded) {
        return Ok(Err(refuse(&e)));
    }
    let now = template_digests(&loaded, &file.stages)?;
    if let Err(e) = file.check_templates(&now) {
        return Ok(Err(refuse(&e)));
    }
    let mut plan = file.plan.clone();
    // Nothing in the file is trusted beyond what the configuration produces:
    // every change is checked against the model rebuilt from the same inputs,
    // before any request.
    let model = deploy::build_model(&loaded, &file.stages, file.certificate, false)?;
    let mismatches = if file.destroy {
        plan_check::check_deletions_against_model(&plan, &model)
    } else {
        plan_check::check_against_model(&plan, &model, secrets::OMITTED_ON_UPDATE)
    };
    if !mismatches.is_empty() {
        return Ok(Err(refuse_mismatch(&mismatches)));
    }
    plan.restore_blobs(&model)
        .context("the plan does not match the templates it was made from")?;
    let mut secret_set = secrets::gather(&loaded, &file.stages, false)?;
    // A plan that sets a new password everywhere after an interrupted run.
    secret_set.rotating = secrets::interrupted_password(&plan, &secret_set);
    secrets::check_plan(&mut plan, &secret_set)?;
    Ok(Ok(Checked {
        file,
        loaded,
        model,
        plan,
        secret_set,
    }))
}

/// The environment file: `--env` when given, else the one the plan recorded.
/// `Err(code)` when it does not load (the problems are reported).
fn load_environment(
    cli: &Cli,
    file: &PlanFile,
) -> Result<Result<crate::config::LoadedEnvironment, ExitCode>> {
    let env_path = cli
        .env
        .clone()
        .unwrap_or_else(|| file.environment_file.clone());
    deploy::load_env_at(cli, &env_path)
}

async fn verify_and_apply(
    cli: &Cli,
    args: &ApplyFileArgs,
    session: &Session,
    model: &engine::Model,
    plan: &engine::Plan,
    secret_set: &secrets::SecretSet,
    destroy: bool,
) -> Result<ExitCode> {
    // Checked before showing the plan and asking, so nobody confirms a stale plan.
    match engine::verify_plan(session.backend.as_ref(), plan, cli.parallelism).await {
        Ok(()) => {}
        Err(e @ EngineError::StalePlan { .. }) => return Ok(refuse(&e)),
        Err(e) => return Err(anyhow::Error::new(e).context("cannot read the planned resources")),
    }
    // The live state is as planned: a plan made now must reproduce every saved
    // change (action, diffs, targets and the live values apply will use).
    let mut fresh = if destroy {
        super::destroy::deletion_plan(cli, session, model).await?
    } else {
        deploy::make_plan(cli, session, model, &Default::default(), false).await?
    };
    if !destroy && secret_set.generated_password && secrets::password_interrupted_in(&fresh) {
        let force = secrets::rotation_targets(model);
        fresh = deploy::make_plan(cli, session, model, &force, false).await?;
    }
    let cmp = plan_check::compare_with_fresh(plan, &fresh, secrets::OMITTED_ON_UPDATE);
    if !cmp.mismatches.is_empty() {
        return Ok(refuse_mismatch(&cmp.mismatches));
    }
    if !cmp.missing.is_empty() {
        let reasons = cmp.missing.iter().map(ToString::to_string).collect();
        return Ok(refuse(&super::plan_file::PlanFileError::Stale { reasons }));
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
