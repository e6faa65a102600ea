//! What `owui-deploy validate` prints: a summary of a valid environment (subscriptions,
//! cloud, stages and what each deploys) or the list of problems, as text or JSON.

use crate::config::{
    CloudSetting, ConfigErrors, Environment, LoadedEnvironment, NamedCloud, Problem,
};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// How many resources of one kind a stage deploys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceCount {
    /// Kind of resource, e.g. `virtual network`, `model deployment`.
    pub kind: String,
    /// How many.
    pub count: usize,
}

/// One stage (`hub`, `spoke`, `finalize`) and what it deploys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageSummary {
    /// Stage name.
    pub name: String,
    /// Subscription the stage deploys into.
    pub subscription: String,
    /// Resource group the stage deploys into.
    pub resource_group: String,
    /// Resources by kind, in deployment order.
    pub resources: Vec<ResourceCount>,
    /// Sum of `resources`.
    pub total: usize,
}

/// The short summary of a valid environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Environment name.
    pub environment: String,
    /// The environment file.
    pub file: PathBuf,
    /// SHA-256 of the file.
    pub digest: String,
    /// `AzureCloud`, `AzureUSGovernment`, `AzureChinaCloud`, `sandbox` or `custom`.
    pub cloud: String,
    /// Hub subscription (`azure.subscription_id`).
    pub subscription: String,
    /// Spoke subscription (same as `subscription` unless `spoke.subscription_id` is set).
    pub spoke_subscription: String,
    /// Entra tenant.
    pub tenant: String,
    /// Normalised hub region.
    pub hub_location: String,
    /// Normalised spoke region.
    pub spoke_location: String,
    /// Normalised region of the main Foundry account.
    pub foundry_location: String,
    /// Model deployment names.
    pub model_deployments: Vec<String>,
    /// Stages in order: `hub`, `spoke`, `finalize`.
    pub stages: Vec<StageSummary>,
    /// Resources over all stages.
    pub total_resources: usize,
    /// Things worth knowing that are not errors (where secrets will come from, SKU caveats).
    pub notes: Vec<String>,
}

struct Counter(Vec<ResourceCount>);

impl Counter {
    fn add(&mut self, kind: &str, count: usize) -> &mut Self {
        if count > 0 {
            self.0.push(ResourceCount {
                kind: kind.into(),
                count,
            });
        }
        self
    }

    fn stage(self, name: &str, subscription: &str, resource_group: &str) -> StageSummary {
        let total = self.0.iter().map(|r| r.count).sum();
        StageSummary {
            name: name.into(),
            subscription: subscription.into(),
            resource_group: resource_group.into(),
            resources: self.0,
            total,
        }
    }
}

/// Summarises what deploying `loaded` creates, stage by stage (counts follow the
/// reference architecture: fixed resources plus model deployments and pool members).
pub fn summarize(loaded: &LoadedEnvironment) -> Summary {
    let env = &loaded.env;
    let shape = Shape::of(env);
    let hub_sub = env.azure.subscription_id.to_ascii_lowercase();
    let spoke_sub = env.spoke_subscription_id().to_ascii_lowercase();
    let stages = vec![
        hub_resources(env, &shape).stage("hub", &hub_sub, &env.hub.resource_group),
        spoke_resources(&shape).stage("spoke", &spoke_sub, &env.spoke.resource_group),
        finalize_resources(env, &shape).stage("finalize", &hub_sub, &env.hub.resource_group),
    ];
    let total_resources = stages.iter().map(|s| s.total).sum();
    Summary {
        environment: env.name.clone(),
        file: loaded.path.clone(),
        digest: loaded.digest.clone(),
        cloud: cloud_name(&env.azure.cloud),
        subscription: hub_sub,
        spoke_subscription: spoke_sub,
        tenant: env.azure.tenant_id.to_ascii_lowercase(),
        hub_location: env.hub_location(),
        spoke_location: env.spoke_location(),
        foundry_location: env.foundry_location(),
        model_deployments: env
            .foundry
            .deployments
            .iter()
            .map(|d| d.name.clone())
            .collect(),
        stages,
        total_resources,
        notes: notes(loaded),
    }
}

/// The options of an environment that decide how many resources of a kind each
/// stage deploys.
#[derive(Clone, Copy)]
struct Shape {
    /// 1 when the Key Vault gets a private DNS zone and endpoint, else 0.
    kv_dns: usize,
    /// 1 when Azure Managed Redis is deployed, else 0.
    redis: usize,
    /// Private DNS zones the hub holds (and the spoke links).
    zones: usize,
    /// Foundry accounts in the backend pool besides the main one.
    pool: usize,
    /// Foundry accounts: the main one plus the pool.
    accounts: usize,
    /// Model deployments per account.
    deployments: usize,
    /// Hub and spoke share one resource group (the spoke creates none).
    same_rg: bool,
}

impl Shape {
    /// The shape of `env`.
    fn of(env: &Environment) -> Self {
        let kv_dns = usize::from(env.hub.key_vault_private_dns);
        let redis = usize::from(env.redis.is_some());
        let zones = 5 + kv_dns + redis;
        let pool = env.foundry.pool.len();
        let accounts = 1 + pool;
        let deployments = env.foundry.deployments.len();
        let hub_sub = env.azure.subscription_id.to_ascii_lowercase();
        let spoke_sub = env.spoke_subscription_id().to_ascii_lowercase();
        let same_rg = hub_sub == spoke_sub
            && env
                .hub
                .resource_group
                .eq_ignore_ascii_case(&env.spoke.resource_group);
        Shape {
            kv_dns,
            redis,
            zones,
            pool,
            accounts,
            deployments,
            same_rg,
        }
    }
}

/// What the hub stage deploys.
fn hub_resources(env: &Environment, shape: &Shape) -> Counter {
    let Shape { kv_dns, zones, .. } = *shape;
    let mut hub = Counter(Vec::new());
    hub.add("resource group", 1)
        .add("network security group", 1)
        .add("route table", 1)
        .add("virtual network", 1)
        .add("subnet", 3)
        .add("private DNS zone", zones)
        .add("private DNS zone VNet link", zones)
        .add("Log Analytics workspace", 1)
        .add("Application Insights", 1)
        .add("public IP address", 2)
        .add("API Management service", 1)
        .add("managed identity", 1)
        .add("Key Vault", 1)
        .add("private endpoint", kv_dns)
        .add(
            "Key Vault secret",
            usize::from(env.domain.trusted_root_certificate_path.is_some()),
        );
    hub
}

/// What the spoke stage deploys.
fn spoke_resources(shape: &Shape) -> Counter {
    let Shape {
        kv_dns,
        redis,
        zones,
        accounts,
        deployments,
        same_rg,
        ..
    } = *shape;
    let mut spoke = Counter(Vec::new());
    spoke
        .add("resource group", usize::from(!same_rg))
        .add("network security group", 1)
        .add("virtual network", 1)
        .add("subnet", 1)
        .add("VNet peering", 2)
        .add("private DNS zone VNet link", zones)
        .add("Key Vault", 1)
        .add("Key Vault secret", 3 + redis)
        .add("storage account", 1)
        .add("file share", 1)
        .add("PostgreSQL flexible server", 1)
        .add("PostgreSQL database", 1)
        .add("PostgreSQL server parameter", 1)
        .add("Azure Managed Redis", redis)
        .add("Redis database", redis)
        .add("Foundry account", accounts)
        .add("model deployment", deployments * accounts)
        .add("private endpoint", 1 + accounts + redis + kv_dns)
        .add("managed identity", 1)
        .add("role assignment", 2)
        .add("Container Apps environment", 1)
        .add("Container Apps environment storage", 1)
        .add("Container Apps environment certificate", 1)
        .add("container app", 1)
        .add("Entra application", 1)
        .add("service principal", 1);
    spoke
}

/// What the finalize stage deploys.
fn finalize_resources(env: &Environment, shape: &Shape) -> Counter {
    let Shape { pool, accounts, .. } = *shape;
    let mut fin = Counter(Vec::new());
    fin.add("APIM named value", 2)
        .add("APIM backend", if pool > 0 { accounts + 1 } else { 1 })
        .add("APIM product", 1)
        .add("APIM API", 1)
        .add("APIM product API link", 1)
        .add("APIM API policy", 1)
        .add("APIM logger", 1)
        .add("APIM API diagnostic", 2)
        .add("diagnostic setting", 1)
        .add("role assignment", 2 * accounts + 1 + 2)
        .add("private DNS zone", 1)
        .add("private DNS A record", 2)
        .add("private DNS zone VNet link", 1)
        .add("WAF policy", usize::from(env.app_gateway.sku == "WAF_v2"))
        .add("Application Gateway", 1);
    fin
}

/// The name `validate` reports for the cloud the environment deploys to.
fn cloud_name(cloud: &CloudSetting) -> String {
    match cloud {
        CloudSetting::Custom(_) => "custom".to_string(),
        c => match c.named().unwrap_or(NamedCloud::AzureCloud) {
            NamedCloud::AzureCloud => "AzureCloud",
            NamedCloud::AzureUSGovernment => "AzureUSGovernment",
            NamedCloud::AzureChinaCloud => "AzureChinaCloud",
            NamedCloud::Sandbox => "sandbox",
        }
        .to_string(),
    }
}

/// Things worth knowing that are not errors: where the secrets come from, SKU caveats.
fn notes(loaded: &LoadedEnvironment) -> Vec<String> {
    let env = &loaded.env;
    let mut notes = vec![format!(
        "PostgreSQL admin password: from {} if set, else generated on first deploy and kept only in Key Vault",
        crate::config::POSTGRES_PASSWORD_ENV_VAR
    )];
    match &env.domain.certificate_pfx_path {
        Some(p) => notes.push(format!(
            "TLS certificate: from the file {}",
            loaded.resolve_path(p).display()
        )),
        None if env.azure.cloud.is_sandbox() => notes.push(format!(
            "TLS certificate: from {} if set, else none (the sandbox does not need one)",
            crate::config::CERTIFICATE_ENV_VAR
        )),
        None => notes.push(format!(
            "TLS certificate: from {} at deploy time (domain.certificate_pfx_path is not set)",
            crate::config::CERTIFICATE_ENV_VAR
        )),
    }
    if matches!(env.apim.sku.as_str(), "Basic" | "Standard") {
        notes.push(format!(
            "APIM {}: Azure offers internal VNet injection on the Developer and Premium tiers; check that your subscription allows it for {}",
            env.apim.sku, env.apim.sku
        ));
    }
    notes
}

impl Summary {
    /// Replaces what stage `name` deploys (e.g. with the counts of the model the
    /// engine plans, so that `validate` and `plan` agree) and updates the totals.
    pub fn set_stage_resources(&mut self, name: &str, resources: Vec<ResourceCount>) {
        if let Some(stage) = self.stages.iter_mut().find(|s| s.name == name) {
            stage.total = resources.iter().map(|r| r.count).sum();
            stage.resources = resources;
        }
        self.total_resources = self.stages.iter().map(|s| s.total).sum();
    }
}

/// The result of validating one environment file, as `owui-deploy validate` reports it
/// (`--output json` serialises this struct: `{"valid", "environment", "summary", "problems"}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationReport {
    /// True when there are no problems.
    pub valid: bool,
    /// Environment name (when valid).
    pub environment: Option<String>,
    /// Summary (when valid).
    pub summary: Option<Summary>,
    /// Every problem (empty when valid).
    pub problems: Vec<Problem>,
}

impl ValidationReport {
    /// Builds the report from the result of [`crate::config::load`].
    pub fn from_result(result: &Result<LoadedEnvironment, ConfigErrors>) -> Self {
        match result {
            Ok(loaded) => {
                let summary = summarize(loaded);
                ValidationReport {
                    valid: true,
                    environment: Some(summary.environment.clone()),
                    summary: Some(summary),
                    problems: Vec::new(),
                }
            }
            Err(e) => ValidationReport {
                valid: false,
                environment: None,
                summary: None,
                problems: e.problems.clone(),
            },
        }
    }

    /// Loads and validates `path` (no network calls).
    pub fn for_file(path: &Path) -> Self {
        Self::from_result(&crate::config::load(path))
    }

    /// The JSON document of `--output json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(
            |e| serde_json::json!({"valid": false, "problems": [], "error": e.to_string()}),
        )
    }

    /// The human-readable text: a short summary, or one `error: FILE:LINE:COL: KEY: MESSAGE`
    /// line per problem followed by `N problems`.
    pub fn render_human(&self) -> String {
        let mut out = String::new();
        if let Some(s) = &self.summary {
            let _ = writeln!(
                out,
                "environment {} ({}) is valid",
                s.environment,
                s.file.display()
            );
            let _ = writeln!(out, "  cloud:         {}", s.cloud);
            if s.subscription == s.spoke_subscription {
                let _ = writeln!(out, "  subscription:  {}", s.subscription);
            } else {
                let _ = writeln!(
                    out,
                    "  subscriptions: {} (hub), {} (spoke)",
                    s.subscription, s.spoke_subscription
                );
            }
            let _ = writeln!(out, "  tenant:        {}", s.tenant);
            let _ = writeln!(
                out,
                "  regions:       hub {}, spoke {}, foundry {}",
                s.hub_location, s.spoke_location, s.foundry_location
            );
            let models = if s.model_deployments.is_empty() {
                "(none)".to_string()
            } else {
                s.model_deployments.join(", ")
            };
            let _ = writeln!(out, "  models:        {models}");
            let stages: Vec<String> = s
                .stages
                .iter()
                .map(|st| format!("{} ({} in {})", st.name, st.total, st.resource_group))
                .collect();
            let _ = writeln!(out, "  stages:        {}", stages.join(" -> "));
            let _ = writeln!(out, "  resources:     {}", s.total_resources);
            for n in &s.notes {
                let _ = writeln!(out, "note: {n}");
            }
        } else {
            for p in &self.problems {
                let _ = writeln!(out, "error: {p}");
            }
            let n = self.problems.len();
            let _ = writeln!(out, "{n} problem{}", if n == 1 { "" } else { "s" });
        }
        out
    }
}
