//! `plan`, `hub`, `spoke`, `finalize`, `up`: build the desired model of the chosen
//! stages, plan it against live state, and (unless planning) apply it.

use super::args::{ApplyArgs, Cli, OutputFormat, PlanArgs, PlanFormat, StageArg};
use super::progress::{Progress, ProgressMode};
use super::secrets;
use super::session::Session;
use crate::config::LoadedEnvironment;
use crate::engine::{
    self, ApplyOptions, CancelToken, EngineError, EventSink, Model, Plan, PlanOptions, Stage,
};
use crate::stages::{self, StageOptions};
use anyhow::{Context, Result};
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

/// Exit code of `plan --detailed-exitcode` when there are changes.
pub(super) const EXIT_CHANGES: u8 = 2;
/// Exit code of `apply FILE` when the plan is stale (nothing was changed).
pub(super) const EXIT_STALE: u8 = 3;
/// What a plan compares, printed under a human-readable `plan`.
const MANAGED_NOTE: &str = "Compared: the properties the environment file sets; other properties \
(Azure's defaults, read-only values) are left as they are. Tags: the keys of [tags] \
(listed in the tag owui-deploy-tags) and owui-deploy-env; tags set by others and those \
in ignore_tags are kept.";

/// Exit code of `apply FILE` when the plan file holds a change the
/// configuration does not produce (nothing was changed).
pub(super) const EXIT_MISMATCH: u8 = 4;

/// The variable GitHub Actions names its job summary file with.
pub(super) const STEP_SUMMARY_VAR: &str = "GITHUB_STEP_SUMMARY";

/// Load the environment file or print every problem (no network call is made).
pub(super) fn load_env(cli: &Cli) -> Result<Result<LoadedEnvironment, ExitCode>> {
    load_env_at(cli, super::env_path(cli)?)
}

/// [`load_env`] for the environment file at `path`.
pub(super) fn load_env_at(
    cli: &Cli,
    path: &std::path::Path,
) -> Result<Result<LoadedEnvironment, ExitCode>> {
    match crate::config::load_with(path, &super::load_options(cli)) {
        Ok(loaded) => Ok(Ok(loaded)),
        Err(errors) => {
            let report = crate::config::ValidationReport::from_result(&Err(errors));
            match cli.output {
                OutputFormat::Json => {
                    outln!("{}", serde_json::to_string_pretty(&report.to_json())?)?
                }
                OutputFormat::Human => eprint!("{}", report.render_human()),
            }
            Ok(Err(ExitCode::from(1)))
        }
    }
}

pub(super) fn stage_list(stage: StageArg) -> Vec<Stage> {
    match stage {
        StageArg::Hub => vec![Stage::Hub],
        StageArg::Spoke => vec![Stage::Spoke],
        StageArg::Finalize => vec![Stage::Finalize],
        StageArg::All => Stage::ALL.to_vec(),
    }
}

pub(super) fn build_model(
    loaded: &LoadedEnvironment,
    stages_wanted: &[Stage],
    certificate: bool,
    grant_admin_consent: bool,
) -> Result<Model> {
    let opts = StageOptions {
        environment_dir: loaded.dir.clone(),
        without_certificate: !certificate,
        grant_admin_consent,
    };
    stages::model(&loaded.env, &opts, stages_wanted).with_context(|| {
        format!(
            "cannot build the desired resources of {}",
            loaded.path.display()
        )
    })
}

pub(super) async fn make_plan(
    cli: &Cli,
    session: &Session,
    model: &Model,
    force: &std::collections::BTreeSet<engine::Address>,
    destroy: bool,
) -> Result<Plan> {
    let opts = PlanOptions {
        parallelism: cli.parallelism,
        environment: Some(session.loaded.env.name.clone()),
        ignore_tags: session.loaded.env.ignore_tags.clone(),
        force_write: force.clone(),
        destroy,
    };
    engine::plan(session.backend.as_ref(), model, &opts)
        .await
        .context("planning failed (nothing was changed)")
}

/// [`make_plan`]; when an earlier run on the generated-password path stopped
/// before the password was in use ([`secrets::interrupted_password`]), plans
/// again with a new password set on the server and in Key Vault together.
pub(super) async fn make_plan_repairing_password(
    cli: &Cli,
    session: &Session,
    model: &Model,
    force: &std::collections::BTreeSet<engine::Address>,
    secret_set: &mut secrets::SecretSet,
) -> Result<Plan> {
    let plan = make_plan(cli, session, model, force, false).await?;
    if !secrets::interrupted_password(&plan, secret_set) {
        return Ok(plan);
    }
    secret_set.rotating = true;
    if cli.output == OutputFormat::Human {
        eprintln!(
            "note: an earlier run stopped before the generated PostgreSQL password was in use; \
             a new one is set on the server and in Key Vault together"
        );
    }
    let mut force = force.clone();
    force.extend(secrets::rotation_targets(model));
    make_plan(cli, session, model, &force, false).await
}

/// Colours only on a terminal and without `NO_COLOR`.
pub(super) fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Show a plan: the JSON document (pretty for `plan`, one line before an
/// apply's event lines), Markdown, or text ([`PlanFormat::Brief`] shows every
/// property with `-v`).
pub(super) fn print_plan(cli: &Cli, plan: &Plan, format: PlanFormat, one_line: bool) -> Result<()> {
    match (cli.output, format) {
        (OutputFormat::Json, _) => {
            let doc = engine::plan_json(plan);
            if one_line {
                outln!("{doc}")?;
            } else {
                outln!("{}", serde_json::to_string_pretty(&doc)?)?;
            }
        }
        (OutputFormat::Human, PlanFormat::Markdown) => {
            out!("{}", engine::render_plan_markdown(plan))?
        }
        (OutputFormat::Human, PlanFormat::Brief) if cli.verbose == 0 => {
            out!("{}", engine::render_plan_brief(plan, use_color()))?;
        }
        (OutputFormat::Human, PlanFormat::Human | PlanFormat::Brief) => {
            out!("{}", engine::render_plan_human(plan, use_color()))?;
        }
    }
    Ok(())
}

/// Append the Markdown plan to `$GITHUB_STEP_SUMMARY` when it is set.
pub(super) fn write_step_summary(plan: &Plan) -> Result<()> {
    append_step_summary(engine::render_plan_markdown(plan))
}

/// Append `text` (Markdown) and a blank line to `$GITHUB_STEP_SUMMARY` when it is set.
pub(super) fn append_step_summary(mut text: String) -> Result<()> {
    let Some(path) = std::env::var_os(STEP_SUMMARY_VAR).filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let path = std::path::PathBuf::from(path);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open {STEP_SUMMARY_VAR}={}", path.display()))?;
    text.push('\n');
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {STEP_SUMMARY_VAR}={}", path.display()))?;
    Ok(())
}

/// `owui-deploy plan [STAGE]`.
pub(super) async fn plan_cmd(cli: &Cli, args: &PlanArgs) -> Result<ExitCode> {
    let loaded = match load_env(cli)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let stages_wanted = stage_list(args.stage.unwrap_or(StageArg::All));
    let mut secret_set = secrets::gather(&loaded, &stages_wanted, false)?;
    let model = build_model(&loaded, &stages_wanted, secret_set.has_certificate, false)?;
    let session = Session::open(loaded, cli.auth, cli.sandbox_url.as_deref()).await?;
    // A certificate stored in Key Vault by an earlier run keeps HTTPS in the model.
    let certificate_stored = !secret_set.has_certificate
        && match super::certificate::in_key_vault(&session).await {
            Ok(stored) => stored,
            Err(e) => {
                session.close().await;
                return Err(e);
            }
        };
    let model = if certificate_stored {
        build_model(&session.loaded, &stages_wanted, true, false)?
    } else {
        model
    };
    let certificate = secret_set.has_certificate || certificate_stored;
    let gate = super::preflight_cmd::Gate {
        skip: args.skip_preflight,
        register_providers: false,
        advisory_permissions: true,
    };
    if let Some(stop) = super::preflight_cmd::stop_before_writes(cli, &session, &model, &gate).await
    {
        session.close().await;
        return stop;
    }
    let result =
        make_plan_repairing_password(cli, &session, &model, &Default::default(), &mut secret_set)
            .await;
    let cost = match (&result, args.no_cost) {
        (Ok(plan), false) => Some(super::cost::estimate(&session, &model, plan, &args.cost).await),
        _ => None,
    };
    let loaded = session.loaded.clone();
    session.close().await;
    let mut plan = result?;
    // A blocker `up` would refuse (a server whose generated password Key Vault
    // does not hold) is an error here too, never a plan with pending changes.
    secrets::check_plan(&mut plan, &secret_set).context(
        "planning found a blocker that a plain run cannot resolve (nothing was changed)",
    )?;
    if let Some(out) = &args.out {
        let file =
            super::plan_file::PlanFile::new(&loaded, &stages_wanted, certificate, plan.clone())?;
        file.write(out)?;
    }
    super::cost::print_plan_with_cost(cli, &plan, args.output.plan_format(), cost.as_ref())?;
    if args.output.output == super::args::PlanOutput::Human {
        outln!("{MANAGED_NOTE}")?;
    }
    if let (Some(out), OutputFormat::Human) = (&args.out, cli.output) {
        eprintln!(
            "Plan saved to {}; apply it with: owui-deploy apply {}",
            out.display(),
            out.display()
        );
    }
    // Resources still in progress are not converged: the apply job must run (and wait).
    let not_converged = plan.has_changes() || !plan.in_progress().is_empty();
    Ok(if args.detailed_exitcode && not_converged {
        ExitCode::from(EXIT_CHANGES)
    } else {
        ExitCode::SUCCESS
    })
}

/// `owui-deploy hub|spoke|finalize|up`.
pub(super) async fn apply_cmd(cli: &Cli, stage: StageArg, args: &ApplyArgs) -> Result<ExitCode> {
    let loaded = match load_env(cli)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    super::preflight_cmd::confirm_registration(args.register_providers, args.yes)?;
    let stages_wanted = stage_list(stage);
    let secret_set = secrets::gather(&loaded, &stages_wanted, args.rotate_secrets)?;
    let model = build_model(
        &loaded,
        &stages_wanted,
        secret_set.has_certificate,
        args.grant_admin_consent,
    )?;
    let session = Session::open(loaded, cli.auth, cli.sandbox_url.as_deref()).await?;
    // `--dry-run` only plans: no lock, like `plan`.
    let (session, lock) = if args.dry_run {
        (session, None)
    } else {
        match super::lock::take(session, stage_command(stage)).await? {
            Ok(taken) => taken,
            Err(code) => return Ok(code),
        }
    };
    let (model, certificate) = match with_stored_certificate(
        &session,
        model,
        &stages_wanted,
        &secret_set,
        args.grant_admin_consent,
    )
    .await
    {
        Ok(m) => m,
        Err(e) => {
            session.close().await;
            super::lock::release(lock).await;
            return Err(e);
        }
    };
    let force = if args.rotate_secrets {
        secrets::rotation_targets(&model)
    } else {
        Default::default()
    };
    let gate = super::preflight_cmd::Gate {
        skip: args.skip_preflight,
        register_providers: args.register_providers,
        advisory_permissions: false,
    };
    if let Some(stop) = super::preflight_cmd::stop_before_writes(cli, &session, &model, &gate).await
    {
        session.close().await;
        super::lock::release(lock).await;
        return stop;
    }
    let save = args.out.as_deref().map(|path| SaveAs {
        path,
        stages: &stages_wanted,
        certificate,
    });
    let outcome = plan_and_apply(cli, args, &session, &model, &force, secret_set, save).await;
    let applied = matches!(outcome, Ok((_, true)));
    let outcome = outcome.map(|(code, _)| code);
    let outcome =
        super::consent::after_apply(cli, &session, &stages_wanted, args, applied, outcome).await;
    session.close().await;
    super::lock::release(lock).await;
    outcome
}

fn stage_command(stage: StageArg) -> &'static str {
    match stage {
        StageArg::Hub => "hub",
        StageArg::Spoke => "spoke",
        StageArg::Finalize => "finalize",
        StageArg::All => "up",
    }
}

/// `model`, or, when no certificate was given but an earlier run stored one in
/// Key Vault, the model with the resources that use it (see [`super::certificate`]);
/// and whether the certificate resources are in it.
async fn with_stored_certificate(
    session: &Session,
    model: Model,
    stages_wanted: &[Stage],
    secret_set: &secrets::SecretSet,
    grant_admin_consent: bool,
) -> Result<(Model, bool)> {
    if secret_set.has_certificate {
        return Ok((model, true));
    }
    if !super::certificate::in_key_vault(session).await? {
        return Ok((model, false));
    }
    let model = build_model(&session.loaded, stages_wanted, true, grant_admin_consent)?;
    Ok((model, true))
}

/// Where `--out` saves the whole plan of an apply, and what it was made from.
struct SaveAs<'a> {
    path: &'a std::path::Path,
    stages: &'a [Stage],
    certificate: bool,
}

/// Plan, show and apply; also says whether anything was applied.
async fn plan_and_apply(
    cli: &Cli,
    args: &ApplyArgs,
    session: &Session,
    model: &Model,
    force: &std::collections::BTreeSet<engine::Address>,
    mut secret_set: secrets::SecretSet,
    save: Option<SaveAs<'_>>,
) -> Result<(ExitCode, bool)> {
    let mut plan =
        make_plan_repairing_password(cli, session, model, force, &mut secret_set).await?;
    secrets::check_plan(&mut plan, &secret_set)?;
    if let Some(save) = save {
        super::plan_file::PlanFile::new(
            &session.loaded,
            save.stages,
            save.certificate,
            plan.clone(),
        )?
        .write(save.path)?;
        if cli.output == OutputFormat::Human {
            eprintln!("Whole plan saved to {}.", save.path.display());
        }
    }
    let format = if args.dry_run {
        PlanFormat::Human
    } else {
        PlanFormat::Brief
    };
    print_plan(cli, &plan, format, true)?;
    let waits_only = !plan.has_changes() && !plan.in_progress().is_empty();
    if args.dry_run || (!plan.has_changes() && !waits_only) {
        return Ok((ExitCode::SUCCESS, false));
    }
    let opts = RunApply {
        // Waiting for resources still in progress writes nothing: nothing to confirm.
        yes: args.yes || waits_only,
        verify_fingerprints: false,
        done: "Apply complete",
    };
    let code = run_apply(cli, session, &plan, &secret_set.secrets, &opts).await?;
    Ok((code, plan.has_changes()))
}

/// How [`run_apply`] behaves.
pub(super) struct RunApply {
    /// Do not ask for confirmation.
    pub yes: bool,
    /// Re-read every planned resource first; refuse (exit 3) when one changed.
    pub verify_fingerprints: bool,
    /// First words of the final line (`Apply complete`, `Destroy complete`).
    pub done: &'static str,
}

/// Confirm (unless `--yes`; refused without a terminal), then apply `plan`
/// with progress (bars, lines or JSON events) and Ctrl-C handling.
pub(super) async fn run_apply(
    cli: &Cli,
    session: &Session,
    plan: &Plan,
    secrets: &engine::Secrets,
    run: &RunApply,
) -> Result<ExitCode> {
    if !run.yes {
        if !std::io::stdin().is_terminal() {
            anyhow::bail!(
                "refusing to apply without --yes: standard input is not a terminal, so nobody can confirm"
            );
        }
        if !confirm()? {
            eprintln!("Apply cancelled: nothing was changed.");
            return Ok(ExitCode::from(1));
        }
    }
    let mode = ProgressMode::choose(cli.output == OutputFormat::Json, cli.no_progress);
    let progress = Arc::new(Progress::new(mode, plan, session.time_scale()));
    let sink = {
        let progress = progress.clone();
        EventSink::new(move |e| progress.event(&e))
    };
    let cancel = CancelToken::new();
    let ctrl_c = {
        let cancel = cancel.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            if super::stop_signal().await.is_ok() {
                progress.interrupted("interrupted: no new work is started; re-run to converge");
                cancel.cancel();
            }
        })
    };
    let opts = ApplyOptions {
        parallelism: cli.parallelism,
        verify_fingerprints: run.verify_fingerprints,
        ..ApplyOptions::default()
    };
    let result = engine::apply(session.backend.clone(), plan, &opts, secrets, sink, cancel).await;
    ctrl_c.abort();
    progress.finish();
    let report = match result {
        Err(e @ EngineError::StalePlan { .. }) => {
            eprintln!("error: {}", engine::secrets::scrub(&e.to_string()));
            eprintln!("Nothing was changed. Plan again, review the new plan and apply it.");
            return Ok(ExitCode::from(EXIT_STALE));
        }
        other => other.context("apply failed")?,
    };
    if cli.output == OutputFormat::Human {
        outln!(
            "{}: {} change(s) in {:.1}s.",
            run.done,
            report.changed(),
            report.elapsed.as_secs_f64()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn confirm() -> Result<bool> {
    eprint!("Do you want to apply these changes? Only 'yes' will be accepted: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim() == "yes")
}
