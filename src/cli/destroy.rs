//! `owui-deploy destroy [STAGE] [--yes] [--purge]`: delete what this environment
//! deployed, dependents first (finalize, spoke, hub), then purge or report the
//! soft-deleted Key Vaults, Foundry accounts and API Management services.
//!
//! Only resources of this environment's model that exist and carry its ownership
//! tag (untaggable ones such as the Entra application are identified by their
//! deterministic address), plus resources tagged for it in its resource groups,
//! are deleted. A resource group is deleted last, and only when it holds
//! nothing but what this run deletes.

use super::args::{Cli, DestroyArgs, OutputFormat, PlanFormat, StageArg};
use super::deploy::{self, RunApply};
use super::session::Session;
use crate::engine::{self, Action, Address, Api, Backend, Mode, Model, NoObserver, Plan, Secrets};
use anyhow::{Context, Result};
use serde_json::Value;
use std::process::ExitCode;

const RESOURCE_GROUP_TYPE: &str = "Microsoft.Resources/resourceGroups";
const KEY_VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";
const COGNITIVE_TYPE: &str = "Microsoft.CognitiveServices/accounts";
const APIM_TYPE: &str = "Microsoft.ApiManagement/service";
/// How long Azure keeps a deleted API Management service.
const APIM_RETENTION_HOURS: u32 = 48;
/// How long Azure keeps a deleted Cognitive Services (Foundry) account.
const COGNITIVE_RETENTION_HOURS: u32 = 48;
/// Key Vault's retention when the vault does not say.
const DEFAULT_VAULT_RETENTION_DAYS: u64 = 90;

/// A soft-deletable resource of the model.
struct SoftDeletable {
    kind: SoftKind,
    name: String,
    location: String,
    /// The soft-deleted object's ID.
    deleted_id: String,
    api_version: String,
}

enum SoftKind {
    Vault { retention_days: u64 },
    Account { resource_group: String },
    Service,
}

impl SoftDeletable {
    fn describe(&self) -> String {
        match self.kind {
            SoftKind::Vault { .. } => format!("Key Vault {}", self.name),
            SoftKind::Account { .. } => format!("Foundry account {}", self.name),
            SoftKind::Service => format!("API Management service {}", self.name),
        }
    }

    fn reserved_for(&self) -> String {
        match self.kind {
            SoftKind::Vault { retention_days } => format!("{retention_days} days"),
            SoftKind::Account { .. } => format!("{COGNITIVE_RETENTION_HOURS} hours"),
            SoftKind::Service => format!("{APIM_RETENTION_HOURS} hours"),
        }
    }

    fn api(&self) -> Api {
        let type_name = match self.kind {
            SoftKind::Vault { .. } => "Microsoft.KeyVault/deletedVaults",
            SoftKind::Account { .. } => "Microsoft.CognitiveServices/deletedAccounts",
            SoftKind::Service => "Microsoft.ApiManagement/deletedservices",
        };
        Api::Arm {
            type_name: type_name.into(),
            api_version: self.api_version.clone(),
        }
    }

    async fn purge(&self, backend: &dyn Backend) -> Result<()> {
        let address = Address(self.deleted_id.clone());
        match self.kind {
            SoftKind::Vault { .. } => backend
                .action(&address, &self.api_version, "purge")
                .await
                .map(|_| ()),
            SoftKind::Account { .. } | SoftKind::Service => {
                backend.delete(&address, &self.api(), &NoObserver).await
            }
        }
        .with_context(|| format!("purging the soft-deleted {} failed", self.describe()))
    }
}

fn subscription_of(address: &str) -> Option<&str> {
    address
        .strip_prefix("/subscriptions/")?
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
}

fn segment_after<'a>(address: &'a str, key: &str) -> Option<&'a str> {
    let mut parts = address.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case(key) {
            return parts.next();
        }
    }
    None
}

/// The model's Key Vaults, Foundry accounts and API Management services with
/// where their soft-deleted
/// selves live.
fn soft_deletables(model: &Model) -> Vec<(Address, SoftDeletable)> {
    let mut out = Vec::new();
    for spec in model.resources.iter().filter(|s| s.mode == Mode::Managed) {
        let (Some(type_name), Api::Arm { api_version, .. }) = (spec.api.type_name(), &spec.api)
        else {
            continue;
        };
        let address = spec.address.as_str();
        let Some(name) = address.rsplit('/').next().map(str::to_string) else {
            continue;
        };
        let (Some(sub), Some(location)) = (
            subscription_of(address),
            spec.body.get("location").and_then(Value::as_str),
        ) else {
            continue;
        };
        let location = engine::diff::normalise_location(location);
        let entry = if type_name.eq_ignore_ascii_case(KEY_VAULT_TYPE) {
            let retention_days = spec
                .body
                .pointer("/properties/softDeleteRetentionInDays")
                .and_then(Value::as_u64)
                .unwrap_or(DEFAULT_VAULT_RETENTION_DAYS);
            SoftDeletable {
                deleted_id: format!(
                    "/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{location}/deletedVaults/{name}"
                ),
                kind: SoftKind::Vault { retention_days },
                name,
                location,
                api_version: api_version.clone(),
            }
        } else if type_name.eq_ignore_ascii_case(COGNITIVE_TYPE) {
            let Some(rg) = segment_after(address, "resourceGroups") else {
                continue;
            };
            SoftDeletable {
                deleted_id: format!(
                    "/subscriptions/{sub}/providers/Microsoft.CognitiveServices/locations/{location}/resourceGroups/{rg}/deletedAccounts/{name}"
                ),
                kind: SoftKind::Account {
                    resource_group: rg.to_string(),
                },
                name,
                location,
                api_version: api_version.clone(),
            }
        } else if type_name.eq_ignore_ascii_case(APIM_TYPE) {
            SoftDeletable {
                deleted_id: format!(
                    "/subscriptions/{sub}/providers/Microsoft.ApiManagement/locations/{location}/deletedservices/{name}"
                ),
                kind: SoftKind::Service,
                name,
                location,
                api_version: api_version.clone(),
            }
        } else {
            continue;
        };
        out.push((spec.address.clone(), entry));
    }
    out
}

fn is_inside(child: &str, parent: &str) -> bool {
    child.len() > parent.len()
        && child
            .get(..parent.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(parent))
        && child.as_bytes().get(parent.len()) == Some(&b'/')
}

fn acted_on(c: &engine::Change) -> &Address {
    c.target.as_ref().unwrap_or(&c.address)
}

/// Keeps resource groups that hold anything this run does not delete: their
/// deletion is dropped from the plan, with a warning naming what they hold.
async fn keep_shared_groups(backend: &dyn Backend, plan: &mut Plan) -> Result<()> {
    let deleted: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| acted_on(c).as_str().to_string())
        .collect();
    let mut keep = Vec::new();
    for c in plan.changes.iter().filter(|c| {
        c.action == Action::Delete
            && c.api
                .type_name()
                .is_some_and(|t| t.eq_ignore_ascii_case(RESOURCE_GROUP_TYPE))
    }) {
        let Api::Arm { api_version, .. } = &c.api else {
            continue;
        };
        let group = acted_on(c).as_str();
        let listing = backend
            .read(
                &Address(format!("{group}/resources")),
                &Api::Arm {
                    type_name: "Microsoft.Resources/resources".into(),
                    api_version: api_version.clone(),
                },
            )
            .await
            .with_context(|| format!("cannot list the resources of {group}"))?;
        let items = listing
            .as_ref()
            .and_then(|v| v.get("value"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let more_pages = listing
            .as_ref()
            .and_then(|v| v.get("nextLink"))
            .is_some_and(|n| !n.is_null());
        let others: Vec<String> = items
            .iter()
            .filter_map(|i| i.get("id").and_then(Value::as_str))
            .filter(|id| {
                !deleted
                    .iter()
                    .filter(|d| !d.eq_ignore_ascii_case(group))
                    .any(|d| d.eq_ignore_ascii_case(id) || is_inside(id, d))
            })
            .map(str::to_string)
            .collect();
        if !others.is_empty() || more_pages {
            let examples: Vec<&str> = others.iter().take(3).map(String::as_str).collect();
            keep.push((
                c.address.clone(),
                format!(
                    "{} ({group}) is kept: it also holds {} resource(s) this environment does not delete ({})",
                    c.label,
                    others.len(),
                    examples.join(", ")
                ),
            ));
        }
    }
    for (address, warning) in keep {
        plan.changes.retain(|c| c.address != address);
        for c in &mut plan.changes {
            c.depends_on.remove(&address);
        }
        plan.warnings.push(warning);
    }
    Ok(())
}

/// Lists the deletions in the order they run: later stages first (finalize,
/// spoke, hub), and within a stage dependents before what they depend on (the
/// model lists parents first). Execution follows `depends_on` either way.
fn deletion_order(plan: &mut Plan) {
    plan.changes.reverse();
    plan.changes.sort_by_key(|c| std::cmp::Reverse(c.stage));
}

fn note(cli: &Cli, line: &str) -> Result<()> {
    match cli.output {
        OutputFormat::Human => outln!("{line}")?,
        OutputFormat::Json => eprintln!("{line}"),
    }
    Ok(())
}

/// Run `destroy`.
pub(super) async fn run(cli: &Cli, args: &DestroyArgs) -> Result<ExitCode> {
    let loaded = match deploy::load_env(cli)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let stages = deploy::stage_list(args.stage.unwrap_or(StageArg::All));
    // With the certificate resources, so that they are deleted too when present.
    let model = deploy::build_model(&loaded, &stages, true, false)?;
    let session = Session::open(loaded, cli.auth, cli.sandbox_url.as_deref()).await?;
    let (session, lock) = match super::lock::take(session, "destroy").await? {
        Ok(taken) => taken,
        Err(code) => return Ok(code),
    };
    let outcome = match deletion_plan(cli, &session, &model).await {
        Ok(plan) if args.dry_run => preview(cli, args, &session.loaded, &stages, &plan),
        Ok(plan) => destroy(cli, args, &session, &model, plan).await,
        Err(e) => Err(e),
    };
    session.close().await;
    super::lock::release(lock).await;
    outcome
}

/// What `destroy` deletes, in the order it runs (reads only).
pub(super) async fn deletion_plan(cli: &Cli, session: &Session, model: &Model) -> Result<Plan> {
    let mut plan = deploy::make_plan(cli, session, model, &Default::default(), true).await?;
    keep_shared_groups(session.backend.as_ref(), &mut plan).await?;
    deletion_order(&mut plan);
    Ok(plan)
}

/// `destroy --dry-run`: show the deletions (and save them with `--out`) like
/// `plan` does, without writing anything to Azure.
fn preview(
    cli: &Cli,
    args: &DestroyArgs,
    loaded: &crate::config::LoadedEnvironment,
    stages: &[engine::Stage],
    plan: &Plan,
) -> Result<ExitCode> {
    if let Some(out) = &args.out {
        let mut file = super::plan_file::PlanFile::new(loaded, stages, true, plan.clone())?;
        file.destroy = true;
        file.write(out)?;
    }
    deploy::print_plan(cli, plan, PlanFormat::Human, false)?;
    if cli.output == OutputFormat::Human {
        if !plan.has_changes() {
            outln!("Nothing to destroy.")?;
        }
        if let Some(out) = &args.out {
            eprintln!(
                "Deletion plan saved to {}; apply it with: owui-deploy apply {}",
                out.display(),
                out.display()
            );
        }
    }
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitCode::from(deploy::EXIT_CHANGES)
    } else {
        ExitCode::SUCCESS
    })
}

async fn destroy(
    cli: &Cli,
    args: &DestroyArgs,
    session: &Session,
    model: &Model,
    plan: Plan,
) -> Result<ExitCode> {
    let backend: &dyn Backend = session.backend.as_ref();
    deploy::print_plan(cli, &plan, PlanFormat::Brief, true)?;
    let soft = soft_deletables(model);
    if plan.has_changes() {
        let run = RunApply {
            yes: args.yes,
            verify_fingerprints: false,
            done: "Destroy complete",
        };
        let code = deploy::run_apply(cli, session, &plan, &Secrets::new(), &run).await?;
        if code != ExitCode::SUCCESS {
            return Ok(code);
        }
    } else if cli.output == OutputFormat::Human {
        outln!("Nothing to destroy.")?;
    }
    let deleted_now: Vec<&SoftDeletable> = soft
        .iter()
        .filter(|(address, _)| {
            plan.changes
                .iter()
                .any(|c| c.action == Action::Delete && &c.address == address)
        })
        .map(|(_, s)| s)
        .collect();
    if args.purge {
        // Also purges what an earlier destroy without --purge left soft-deleted.
        for (_, s) in &soft {
            let found = backend
                .read(&Address(s.deleted_id.clone()), &s.api())
                .await
                .with_context(|| format!("cannot look for the soft-deleted {}", s.describe()))?;
            if found.is_some() {
                s.purge(backend).await?;
                note(cli, &format!("Purged the soft-deleted {}.", s.describe()))?;
            }
        }
    } else {
        for s in deleted_now {
            let hint = match &s.kind {
                SoftKind::Vault { .. } => format!(
                    "az keyvault purge --name {} --location {}",
                    s.name, s.location
                ),
                SoftKind::Account { resource_group } => format!(
                    "az cognitiveservices account purge --name {} --location {} --resource-group {resource_group}",
                    s.name, s.location
                ),
                SoftKind::Service => format!(
                    "az apim deletedservice purge --service-name {} --location {}",
                    s.name, s.location
                ),
            };
            note(
                cli,
                &format!(
                    "{} is soft-deleted: its name stays reserved for {} (purge it with `owui-deploy destroy --purge` or `{hint}`).",
                    s.describe(),
                    s.reserved_for()
                ),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
