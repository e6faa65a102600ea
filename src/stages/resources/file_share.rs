//! `Microsoft.Storage/storageAccounts/fileServices/shares`.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Storage/storageAccounts/fileServices/shares";

/// PUT body of a file share.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileShare {
    /// Properties.
    pub properties: FileShareProperties,
}

/// `properties` of a file share.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileShareProperties {
    /// Quota in GiB.
    pub share_quota: u32,
    /// `SMB`.
    pub enabled_protocols: String,
}

/// Comparison rules: the protocol is fixed at creation.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&["/properties/enabledProtocols"]),
        immutable: super::paths(&["/properties/enabledProtocols"]),
        ..DiffRules::default()
    }
}

/// The spec of a file share (a child resource: not taggable).
pub fn spec(at: Placement, body: &FileShare) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
