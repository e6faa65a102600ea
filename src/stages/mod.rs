//! Stages: the desired resources of `hub`, `spoke` and `finalize`, built from the
//! environment file. Values that only Azure knows flow as references resolved by
//! the engine from live reads; nobody copies outputs between stages.
//!
//! [`desired`] builds every stage's resources (all [`Mode::Managed`], each tagged
//! with its [`Stage`]); [`select`] keeps the stages a command works on and turns
//! what they need from other stages into read-only [`Mode::Data`] resources. That
//! is how `spoke` alone reads the hub from Azure.
//!
//! Each stage's builder reads as the list of its concerns (network, private DNS,
//! monitoring, identity and RBAC, secrets, data, Foundry, compute, gateway...),
//! one small function each, in the order of the plan: adding a resource touches
//! one of them plus its builder file in [`resources`]. The hub and spoke share
//! their scaffolding (region, resource group, tags, NSG, Key Vault, private DNS
//! zone links) through `scaffold::StageScope`.

pub mod entra;
pub mod finalize;
pub mod hub;
pub mod ids;
pub mod openapi;
pub mod policy;
pub mod resources;
mod scaffold;
pub mod spoke;
pub mod usage;

pub use ids::Ids;

use crate::config::{Environment, normalize_location};
use crate::engine::{Address, Discovery, Mode, Model, ResourceSpec, Stage};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// Why the desired resources could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// A resource type is missing from `azure::api_versions::API_VERSIONS`.
    #[error("no pinned API version for resource type {type_name} (add it to azure::api_versions)")]
    NoApiVersion {
        /// The resource type.
        type_name: String,
    },
    /// A body did not serialize to JSON.
    #[error("cannot build the request body of {address}: {source}")]
    Body {
        /// The resource.
        address: String,
        /// The serde error.
        source: serde_json::Error,
    },
    /// A data file under `templates/` is invalid.
    #[error("invalid template file {file}: {message}")]
    Template {
        /// The file, relative to the project root.
        file: String,
        /// What is wrong (with line and column where the parser gives them).
        message: String,
    },
    /// The API policy failed rendering or its checks (finalize).
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    /// The OpenAPI document could not be used (finalize).
    #[error(transparent)]
    OpenApi(#[from] openapi::OpenApiError),
    /// A setting of the environment file cannot be honoured.
    #[error("{key}: {message}")]
    Setting {
        /// The setting, e.g. `foundry.pool[0]` or `apim.policy_file`.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// Two resources have the same address.
    #[error("resource {address} is declared twice ({first} and {second})")]
    DuplicateAddress {
        /// The address.
        address: String,
        /// Label of the first declaration.
        first: String,
        /// Label of the second declaration.
        second: String,
    },
}

/// What the stages need that is not in the environment file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageOptions {
    /// Directory of the environment file: relative paths in it resolve from here.
    pub environment_dir: PathBuf,
    /// No TLS certificate is available (none provided and none in Key Vault yet,
    /// e.g. in the sandbox): the spoke leaves out the certificate secret, the
    /// environment certificate and the app's custom domain binding. The default
    /// (`false`) is the full architecture.
    pub without_certificate: bool,
    /// Create the tenant-wide admin consent (`oauth2PermissionGrant`) for the Entra
    /// application's Microsoft Graph permissions (`--grant-admin-consent`).
    pub grant_admin_consent: bool,
}

/// Builds the resources of one stage.
pub type StageBuilder = fn(&Environment, &StageOptions) -> Result<Vec<ResourceSpec>, StageError>;

/// The stages' builders, in deployment order. A new stage adds one line.
pub const STAGE_BUILDERS: &[(Stage, StageBuilder)] = &[
    (Stage::Hub, hub::resources),
    (Stage::Spoke, spoke::resources),
    (Stage::Spoke, entra::resources),
    (Stage::Finalize, finalize::resources),
];

/// Every desired resource of every stage, all [`Mode::Managed`], in stage order.
/// Fails on a duplicate address.
pub fn desired(env: &Environment, opts: &StageOptions) -> Result<Vec<ResourceSpec>, StageError> {
    let mut all: Vec<ResourceSpec> = Vec::new();
    let mut seen: BTreeMap<Address, String> = BTreeMap::new();
    for (_, build) in STAGE_BUILDERS {
        for spec in build(env, opts)? {
            if let Some(first) = seen.get(&spec.address) {
                return Err(StageError::DuplicateAddress {
                    address: spec.address.to_string(),
                    first: first.clone(),
                    second: spec.label.clone(),
                });
            }
            seen.insert(spec.address.clone(), spec.label.clone());
            all.push(spec);
        }
    }
    Ok(all)
}

/// Keep the resources of `stages` as [`Mode::Managed`]; every resource of another
/// stage that they depend on (directly, or through a reference inside the address
/// of such a resource) becomes [`Mode::Data`]: read from Azure, must exist, never
/// written. Other resources are dropped.
pub fn select(all: Vec<ResourceSpec>, stages: &[Stage]) -> Vec<ResourceSpec> {
    let wanted = |s: &ResourceSpec| stages.contains(&s.stage);
    let by_address: BTreeMap<Address, &ResourceSpec> =
        all.iter().map(|s| (s.address.clone(), s)).collect();
    let mut needed: BTreeSet<Address> = all
        .iter()
        .filter(|s| wanted(s))
        .flat_map(|s| s.dependencies())
        .collect();
    // A data resource whose address holds a reference (e.g. a service principal
    // keyed by its application's appId) needs that referenced resource read too.
    let mut frontier: Vec<Address> = needed.iter().cloned().collect();
    while let Some(address) = frontier.pop() {
        let Some(spec) = by_address.get(&address) else {
            continue;
        };
        if wanted(spec) {
            continue;
        }
        for r in crate::engine::references_in(&serde_json::Value::String(
            spec.address.as_str().to_string(),
        )) {
            if needed.insert(r.address.clone()) {
                frontier.push(r.address);
            }
        }
    }
    drop(by_address);
    all.into_iter()
        .filter_map(|mut s| {
            if wanted(&s) {
                Some(s)
            } else if needed.contains(&s.address) {
                s.mode = Mode::Data;
                s.body = serde_json::Value::Object(serde_json::Map::new());
                s.depends_on.clear();
                s.serial_key = None;
                Some(s)
            } else {
                None
            }
        })
        .collect()
}

/// The engine model of `stages`: [`select`]ed resources plus where to look for
/// resources this environment owns that the configuration no longer wants:
/// - the model deployments of every Foundry account of a selected stage (a
///   deployment removed from the file is deleted);
/// - a resource group, for resources tagged `owui-deploy-env = <name>`, only when
///   every resource the configuration places in that group belongs to a selected
///   stage (so planning one stage never deletes another stage's resources).
pub fn model(
    env: &Environment,
    opts: &StageOptions,
    stages: &[Stage],
) -> Result<Model, StageError> {
    let all = desired(env, opts)?;
    let mut discoveries = Vec::new();
    for spec in &all {
        if spec.mode == Mode::Managed
            && stages.contains(&spec.stage)
            && spec.api.type_name() == Some(resources::cognitive_account::TYPE)
        {
            let child_type = resources::model_deployment::TYPE;
            discoveries.push(Discovery::Children {
                parent: spec.address.clone(),
                child_type: child_type.to_string(),
                api_version: api_version_of(child_type)?,
                serial_key: Some(spec.address.as_str().to_ascii_lowercase()),
                stage: spec.stage,
            });
        }
    }
    let ids = Ids::new(env);
    let mut groups = vec![(ids.hub_rg.clone(), Stage::Hub)];
    if !ids.spoke_rg.eq_ignore_ascii_case(&ids.hub_rg) {
        groups.push((ids.spoke_rg.clone(), Stage::Spoke));
    }
    for (group, stage) in groups {
        let prefix = format!("{}/", group.to_ascii_lowercase());
        let all_selected = all
            .iter()
            .filter(|s| s.address.as_str().to_ascii_lowercase().starts_with(&prefix))
            .all(|s| stages.contains(&s.stage));
        if all_selected && stages.contains(&stage) {
            discoveries.push(Discovery::Tagged {
                resource_group: Address::from(group.as_str()),
                env: env.name.clone(),
                api_version: api_version_of("Microsoft.Resources/resourceGroups")?,
                stage,
            });
        }
    }
    Ok(Model {
        resources: select(all, stages),
        discoveries,
    })
}

fn api_version_of(type_name: &str) -> Result<String, StageError> {
    crate::azure::api_versions::api_version(type_name)
        .map(str::to_string)
        .ok_or_else(|| StageError::NoApiVersion {
            type_name: type_name.to_string(),
        })
}

/// The tags of every taggable resource: the environment's tags, the ownership
/// tag `owui-deploy-env = <name>`, and (when there are any) `owui-deploy-tags`
/// listing the environment's tag keys, so that a later plan removes a key the
/// file no longer sets (see [`crate::engine::tags`]).
pub fn tags(env: &Environment) -> resources::Tags {
    let mut t = env.tags.clone();
    if !env.tags.is_empty() {
        t.insert(
            crate::engine::MANAGED_TAGS_TAG.to_string(),
            crate::engine::tags::managed_tags_value(env.tags.keys()),
        );
    }
    t.insert(OWNER_TAG.to_string(), env.name.clone());
    t
}

/// The ownership tag.
pub const OWNER_TAG: &str = "owui-deploy-env";

/// Region of the hub resources.
pub fn hub_location(env: &Environment) -> String {
    normalize_location(env.hub.location.as_deref().unwrap_or(&env.azure.location))
}

/// Region of the spoke resources.
pub fn spoke_location(env: &Environment) -> String {
    normalize_location(env.spoke.location.as_deref().unwrap_or(&env.azure.location))
}

/// Region of the main Foundry account.
pub fn foundry_location(env: &Environment) -> String {
    match &env.foundry.location {
        Some(l) => normalize_location(l),
        None => spoke_location(env),
    }
}
