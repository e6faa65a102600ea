//! `plan`, `hub`, `spoke`, `finalize`, `up`: build the desired model of the chosen
//! stages, plan it against live state, and (unless planning) apply it.

use super::args::{ApplyArgs, Cli, OutputFormat, PlanArgs, StageArg};
use super::progress::{Progress, ProgressMode};
use super::secrets;
use super::session::Session;
use crate::config::LoadedEnvironment;
use crate::engine::{self, ApplyOptions, CancelToken, EventSink, Model, Plan, PlanOptions, Stage};
use crate::stages::{self, StageOptions};
use anyhow::{Context, Result};
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

/// Exit code of `plan --detailed-exitcode` when there are changes.
const EXIT_CHANGES: u8 = 2;

/// Load the environment file or print every problem (no network call is made).
pub(super) fn load_env(cli: &Cli) -> Result<Result<LoadedEnvironment, ExitCode>> {
    let path = super::env_path(cli)?;
    match crate::config::load(path) {
        Ok(loaded) => Ok(Ok(loaded)),
        Err(errors) => {
            let report = crate::config::ValidationReport::from_result(&Err(errors));
            match cli.output {
                OutputFormat::Json => {
                    println!("{}", serde_json::to_string_pretty(&report.to_json())?)
                }
                OutputFormat::Human => eprint!("{}", report.render_human()),
            }
            Ok(Err(ExitCode::from(1)))
        }
    }
}

fn stage_list(stage: StageArg) -> Vec<Stage> {
    match stage {
        StageArg::Hub => vec![Stage::Hub],
        StageArg::Spoke => vec![Stage::Spoke],
        StageArg::Finalize => vec![Stage::Finalize],
        StageArg::All => Stage::ALL.to_vec(),
    }
}

fn build_model(
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

async fn make_plan(
    cli: &Cli,
    session: &Session,
    model: &Model,
    force: &std::collections::BTreeSet<engine::Address>,
) -> Result<Plan> {
    let opts = PlanOptions {
        parallelism: cli.parallelism,
        environment: Some(session.loaded.env.name.clone()),
        force_write: force.clone(),
        ..PlanOptions::default()
    };
    engine::plan(session.backend.as_ref(), model, &opts)
        .await
        .context("planning failed (nothing was changed)")
}

fn print_plan(cli: &Cli, plan: &Plan) -> Result<()> {
    match cli.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&engine::plan_json(plan))?
        ),
        OutputFormat::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            print!("{}", engine::render_plan_human(plan, color));
        }
    }
    Ok(())
}

/// `owui-deploy plan [STAGE]`.
pub(super) async fn plan_cmd(cli: &Cli, args: &PlanArgs) -> Result<ExitCode> {
    let loaded = match load_env(cli)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let stages_wanted = stage_list(args.stage.unwrap_or(StageArg::All));
    let secret_set = secrets::gather(&loaded, &stages_wanted, false)?;
    let model = build_model(&loaded, &stages_wanted, secret_set.has_certificate, false)?;
    let session = Session::open(loaded, cli.auth).await?;
    let model =
        match with_stored_certificate(&session, model, &stages_wanted, &secret_set, false).await {
            Ok(m) => m,
            Err(e) => {
                session.close().await;
                return Err(e);
            }
        };
    let result = make_plan(cli, &session, &model, &Default::default()).await;
    session.close().await;
    let mut plan = result?;
    secrets::keep_server_password(&mut plan, &secret_set);
    print_plan(cli, &plan)?;
    Ok(if args.detailed_exitcode && plan.has_changes() {
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
    let stages_wanted = stage_list(stage);
    let secret_set = secrets::gather(&loaded, &stages_wanted, args.rotate_secrets)?;
    let model = build_model(
        &loaded,
        &stages_wanted,
        secret_set.has_certificate,
        args.grant_admin_consent,
    )?;
    let session = Session::open(loaded, cli.auth).await?;
    let model = match with_stored_certificate(
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
            return Err(e);
        }
    };
    let force = if args.rotate_secrets {
        secrets::rotation_targets(&model)
    } else {
        Default::default()
    };
    let outcome = plan_and_apply(cli, args, &session, &model, &force, secret_set).await;
    let outcome = super::consent::after_apply(cli, &session, &stages_wanted, args, outcome).await;
    session.close().await;
    outcome
}

/// `model`, or, when no certificate was given but an earlier run stored one in
/// Key Vault, the model with the resources that use it (see [`super::certificate`]).
async fn with_stored_certificate(
    session: &Session,
    model: Model,
    stages_wanted: &[Stage],
    secret_set: &secrets::SecretSet,
    grant_admin_consent: bool,
) -> Result<Model> {
    if secret_set.has_certificate || !super::certificate::in_key_vault(session).await? {
        return Ok(model);
    }
    build_model(&session.loaded, stages_wanted, true, grant_admin_consent)
}

async fn plan_and_apply(
    cli: &Cli,
    args: &ApplyArgs,
    session: &Session,
    model: &Model,
    force: &std::collections::BTreeSet<engine::Address>,
    secret_set: secrets::SecretSet,
) -> Result<ExitCode> {
    let mut plan = make_plan(cli, session, model, force).await?;
    secrets::check_plan(&mut plan, &secret_set)?;
    print_plan(cli, &plan)?;
    if args.dry_run || !plan.has_changes() {
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes {
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
    let s = plan.summary();
    let writes = s.add + s.change + s.replace + s.destroy;
    let progress = Arc::new(Progress::new(mode, writes as u64));
    let sink = {
        let progress = progress.clone();
        EventSink::new(move |e| progress.event(&e))
    };
    let cancel = CancelToken::new();
    let ctrl_c = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted: no new work is started; re-run to converge");
                cancel.cancel();
            }
        })
    };
    let opts = ApplyOptions {
        parallelism: cli.parallelism,
        ..ApplyOptions::default()
    };
    let result = engine::apply(
        session.backend.clone(),
        &plan,
        &opts,
        &secret_set.secrets,
        sink,
        cancel,
    )
    .await;
    ctrl_c.abort();
    progress.finish();
    let report = result.context("apply failed")?;
    if cli.output == OutputFormat::Human {
        println!(
            "Apply complete: {} change(s) in {:.1}s.",
            report.changed(),
            report.elapsed.as_secs_f64()
        );
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
