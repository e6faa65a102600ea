//! The monthly cost estimate shown with `plan` and by `owui-deploy cost`: prices from the
//! Azure Retail Prices API (the sandbox's sample prices for the sandbox), cached a day in
//! `.owui-cache/retail-prices.json` beside the environment file. See docs/cost.md.

use super::args::{Cli, CostArgs, CostCmdArgs, OutputFormat, PlanFormat, StageArg};
use super::deploy;
use super::session::Session;
use crate::engine::{self, Assumptions, CostReport, Model, Plan, PriceCache, PriceClient};
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The cache file, relative to the environment file's folder.
pub const CACHE_FILE: &str = ".owui-cache/retail-prices.json";
/// Largest cache file read or written; a larger one is ignored (prices are fetched again).
const MAX_CACHE_BYTES: usize = 8 * 1024 * 1024;
/// Time the whole estimate may take; beyond it the plan is shown without one.
const ESTIMATE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn cache_path(session: &Session) -> PathBuf {
    session.loaded.dir.join(CACHE_FILE)
}

/// The cache at `path`; empty when missing, too large or unreadable (a cache is only
/// an optimisation).
fn load_cache(path: &Path) -> PriceCache {
    let too_large = std::fs::metadata(path).map_or(true, |m| m.len() > MAX_CACHE_BYTES as u64);
    if too_large {
        return PriceCache::default();
    }
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Writes the cache atomically (0600), dropping the oldest entries until it fits
/// [`MAX_CACHE_BYTES`]. A failure only costs a refetch next time: it is logged.
fn save_cache(path: &Path, cache: &mut PriceCache) {
    loop {
        let Ok(bytes) = serde_json::to_vec(cache) else {
            return;
        };
        if bytes.len() <= MAX_CACHE_BYTES {
            if let Err(e) = super::write_private_file(path, &bytes) {
                tracing::warn!("cannot write the price cache {}: {e}", path.display());
            }
            return;
        }
        let oldest = cache
            .entries
            .iter()
            .min_by_key(|(_, e)| e.fetched_at)
            .map(|(k, _)| k.clone());
        match oldest {
            Some(k) => cache.entries.remove(&k),
            None => return,
        };
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The estimate of `plan` (never an error: a failure is [`CostReport::Unavailable`]).
pub(super) async fn estimate(
    session: &Session,
    model: &Model,
    plan: &Plan,
    args: &CostArgs,
) -> CostReport {
    let assumptions = Assumptions {
        log_gb_per_month: args.log_gb_per_month,
    };
    let billing = engine::cost::billing(model, plan, &assumptions);
    let url = session.endpoints.retail_prices();
    let ca = session
        .endpoints
        .is_sandbox
        .then_some(session.endpoints.extra_ca_pem.as_deref())
        .flatten();
    let client = match PriceClient::new(&url, ca) {
        Ok(c) => c,
        Err(e) => return CostReport::Unavailable(e.to_string()),
    };
    let path = cache_path(session);
    let mut cache = load_cache(&path);
    let mut source = engine::PriceSource {
        client: &client,
        cache: &mut cache,
        currency: args.currency.clone(),
        now: now_secs(),
    };
    let report = tokio::time::timeout(
        ESTIMATE_TIMEOUT,
        engine::cost::estimate(&billing, &mut source, &assumptions),
    )
    .await
    .unwrap_or_else(|_| {
        CostReport::Unavailable(format!(
            "the Retail Prices API did not answer within {} s",
            ESTIMATE_TIMEOUT.as_secs()
        ))
    });
    save_cache(&path, &mut cache);
    report
}

/// Show a plan followed by its estimate (one JSON document with a `cost` member for
/// `--output json`), and append both to `$GITHUB_STEP_SUMMARY`.
pub(super) fn print_plan_with_cost(
    cli: &Cli,
    plan: &Plan,
    format: PlanFormat,
    cost: Option<&CostReport>,
) -> Result<()> {
    let Some(cost) = cost else {
        deploy::print_plan(cli, plan, format, false)?;
        return deploy::write_step_summary(plan);
    };
    match (cli.output, format) {
        (OutputFormat::Json, _) => {
            let mut doc = engine::plan_json(plan);
            doc["cost"] = engine::cost_json(cost);
            outln!("{}", serde_json::to_string_pretty(&doc)?)?;
        }
        (OutputFormat::Human, PlanFormat::Markdown) => {
            deploy::print_plan(cli, plan, format, false)?;
            out!("\n{}", engine::render_cost_markdown(cost))?;
        }
        (OutputFormat::Human, _) => {
            deploy::print_plan(cli, plan, format, false)?;
            out!("\n{}", engine::render_cost_human(cost))?;
        }
    }
    let markdown = format!(
        "{}\n{}",
        engine::render_plan_markdown(plan),
        engine::render_cost_markdown(cost)
    );
    deploy::append_step_summary(markdown)
}

/// `owui-deploy cost`: plan every stage (reading Azure, changing nothing) and print
/// the estimate alone.
pub(super) async fn run(cli: &Cli, args: &CostCmdArgs) -> Result<ExitCode> {
    let loaded = match deploy::load_env(cli)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let stages_wanted = deploy::stage_list(StageArg::All);
    // The certificate only changes listeners and bindings, never a billed dimension.
    let model = deploy::build_model(&loaded, &stages_wanted, false, false)?;
    let session = Session::open(loaded, cli.auth, cli.sandbox_url.as_deref()).await?;
    let plan = deploy::make_plan(cli, &session, &model, &Default::default(), false).await;
    let report = match &plan {
        Ok(plan) => Some(estimate(&session, &model, plan, &args.cost).await),
        Err(_) => None,
    };
    session.close().await;
    plan?;
    let Some(report) = report else {
        return Ok(ExitCode::from(1));
    };
    match (cli.output, args.output.plan_format()) {
        (OutputFormat::Json, _) => outln!(
            "{}",
            serde_json::to_string_pretty(&engine::cost_json(&report))?
        )?,
        (OutputFormat::Human, PlanFormat::Markdown) => {
            out!("{}", engine::render_cost_markdown(&report))?
        }
        (OutputFormat::Human, _) => out!("{}", engine::render_cost_human(&report))?,
    }
    Ok(match report {
        CostReport::Estimate(_) => ExitCode::SUCCESS,
        CostReport::Unavailable(_) => ExitCode::from(1),
    })
}
