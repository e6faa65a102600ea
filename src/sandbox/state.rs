//! The sandbox's contents (the "cloud") and their persistence.
//!
//! Everything lives in one [`World`] behind a mutex, never held across an await.
//! With a state file, the world is written atomically (temporary file + rename) after
//! writes and at shutdown, and read back at start.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SandboxError;

/// Format version of the state file.
const STATE_VERSION: u32 = 1;

/// One ARM resource.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Resource {
    /// Canonical ID (provider casing).
    pub id: String,
    /// Canonical type name, e.g. `Microsoft.Network/virtualNetworks/subnets`.
    pub type_name: String,
    /// The GET view without the provisioning state overlay (secrets never stored).
    pub body: Value,
    /// Creation time (unix ms).
    pub created_ms: u64,
    /// Creation order, for stable listing.
    pub seq: u64,
    /// Operation in progress on it, if any.
    #[serde(default)]
    pub pending: Option<String>,
    /// Outcome of the last operation: `None` fine, `Some(error)` failed.
    #[serde(default)]
    pub failed: Option<Value>,
}

/// What finishing an operation does.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "action", rename_all = "snake_case")]
pub(crate) enum OpAction {
    /// A create or update of the resource (store key) completes.
    Write { key: String, create: bool },
    /// The resource (store key) and everything below it go away.
    Delete { key: String },
    /// A soft-deleted Key Vault (key in `deleted_vaults`) is purged.
    PurgeVault { key: String },
    /// A soft-deleted Cognitive Services account (key in `deleted_accounts`) is purged.
    PurgeAccount { key: String },
    /// A soft-deleted API Management service (key in `deleted_services`) is purged.
    PurgeService { key: String },
}

/// Status of an operation.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) enum OpStatus {
    /// Still running.
    InProgress,
    /// Done.
    Succeeded,
    /// Done, with an error.
    Failed,
}

/// A long-running operation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Operation {
    /// Operation ID (in the status URLs).
    pub id: String,
    /// What it does when it finishes.
    pub action: OpAction,
    /// Start (unix ms).
    pub started_ms: u64,
    /// Scaled duration (ms).
    pub duration_ms: u64,
    /// Scaled poll interval (ms) announced in Retry-After.
    pub retry_after_ms: u64,
    /// Error it ends with (a `fail_lro` fault), ARM error object.
    pub fail: Option<Value>,
    /// HTTP status of the failure on the Location URL.
    #[serde(default)]
    pub fail_status: Option<u16>,
    /// Current status.
    pub status: OpStatus,
    /// End time (unix ms) once finished.
    pub ended_ms: Option<u64>,
}

/// A principal role assignments can name.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Principal {
    /// `ServicePrincipal`, `User`, `Group`.
    pub kind: String,
    /// When it was created (unix ms); replication delay counts from here.
    pub created_ms: u64,
}

/// A soft-deleted Key Vault, Cognitive Services account or API Management service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Deleted {
    /// The resource as it was (with its children).
    pub resources: Vec<Resource>,
    /// Deletion time (unix ms).
    pub deleted_ms: u64,
    /// Normalised location.
    pub location: String,
    /// Subscription ID.
    pub sub: String,
    /// Resource group name.
    pub rg: String,
    /// Name.
    pub name: String,
    /// Retention (days) for the scheduled purge date.
    pub retention_days: u64,
    /// A purge in progress.
    #[serde(default)]
    pub purging: Option<String>,
}

/// Graph objects.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct GraphStore {
    /// Applications by object ID.
    pub applications: BTreeMap<String, Value>,
    /// Service principals by object ID.
    pub service_principals: BTreeMap<String, Value>,
    /// OAuth2 permission grants by ID.
    pub grants: BTreeMap<String, Value>,
}

/// Everything the sandbox holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct World {
    /// Resources by lower-cased ID.
    pub resources: BTreeMap<String, Resource>,
    /// Operations by ID.
    pub operations: BTreeMap<String, Operation>,
    /// Principals by lower-cased object ID.
    pub principals: BTreeMap<String, Principal>,
    /// Soft-deleted vaults by lower-cased name.
    pub deleted_vaults: BTreeMap<String, Deleted>,
    /// Soft-deleted Cognitive Services accounts by `sub/location/rg/name` (lower-cased).
    pub deleted_accounts: BTreeMap<String, Deleted>,
    /// Soft-deleted API Management services by lower-cased name.
    #[serde(default)]
    pub deleted_services: BTreeMap<String, Deleted>,
    /// What the preflight APIs answer from (names held by others, providers,
    /// model catalogs, quota limits, permissions).
    #[serde(default)]
    pub preflight: super::preflight::PreflightWorld,
    /// Microsoft Graph.
    pub graph: GraphStore,
    /// Issued tokens: token ID -> expiry (unix seconds).
    pub tokens: BTreeMap<String, u64>,
    /// Monotonic counter for creation order.
    pub seq: u64,
    /// Tags of subscriptions (`Microsoft.Resources/tags/default` at subscription
    /// scope) by lower-cased subscription ID.
    #[serde(default)]
    pub subscription_tags: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    version: u32,
    world: World,
}

impl World {
    /// Next creation sequence number.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Serialise for the state file.
    pub fn to_state_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        #[derive(Serialize)]
        struct Ref<'a> {
            version: u32,
            world: &'a World,
        }
        serde_json::to_vec(&Ref {
            version: STATE_VERSION,
            world: self,
        })
    }

    /// Read a state file; `Ok(None)` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<World>, SandboxError> {
        let bytes = match crate::files::read_capped(path, crate::files::MAX_SANDBOX_STATE) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(SandboxError::Io {
                    path: path.to_path_buf(),
                    source: e,
                });
            }
        };
        let file: StateFile = serde_json::from_slice(&bytes).map_err(|e| SandboxError::State {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if file.version != STATE_VERSION {
            return Err(SandboxError::State {
                path: path.to_path_buf(),
                message: format!("version {} (expected {STATE_VERSION})", file.version),
            });
        }
        Ok(Some(file.world))
    }
}

/// Write `bytes` to `path` atomically, readable by the owner only, never following a
/// symlink ([`crate::files::write_private`]).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SandboxError> {
    crate::files::write_private(path, bytes).map_err(|e| SandboxError::Io {
        path: path.to_path_buf(),
        source: e,
    })
}
