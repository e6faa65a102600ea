//! Stages: the desired resources of `hub`, `spoke` and `finalize`, built from the
//! environment file. Values that only Azure knows flow as references resolved by
//! the engine from live reads; nobody copies outputs between stages.
//!
//! [`desired`] builds every stage's resources (all [`Mode::Managed`], each tagged
//! with its [`Stage`]); [`select`] keeps the stages a command works on and turns
//! what they need from other stages into read-only [`Mode::Data`] resources. That
//! is how `spoke` alone reads the hub from Azure.

pub mod entra;
pub mod finalize;
pub mod hub;
pub mod ids;
pub mod openapi;
pub mod policy;
pub mod resources;
pub mod spoke;

pub use ids::Ids;

use crate::config::{Environment, normalize_location};
use crate::engine::{Address, Mode, ResourceSpec, Stage};
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

/// Keeps the resources of `stages` as they are ([`Mode::Managed`]) and turns
/// every resource of another stage that one of them references or depends on
/// directly into [`Mode::Data`] (read from Azure; it must exist). Everything
/// else is dropped. Order is preserved.
///
/// A data resource keeps its address, label, stage, API and rules; its body is
/// emptied (`{}`) and its explicit dependencies cleared, because it is only
/// read: it neither waits for nor references anything.
pub fn select(all: Vec<ResourceSpec>, stages: &[Stage]) -> Vec<ResourceSpec> {
    let wanted = |s: &ResourceSpec| stages.contains(&s.stage);
    let needed: BTreeSet<Address> = all
        .iter()
        .filter(|s| wanted(s))
        .flat_map(|s| s.dependencies())
        .collect();
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

/// The tags of every taggable resource: the environment's tags plus the
/// ownership tag `owui-deploy-env = <name>`.
pub fn tags(env: &Environment) -> resources::Tags {
    let mut t = env.tags.clone();
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
