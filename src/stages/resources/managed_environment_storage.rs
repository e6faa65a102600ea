//! `Microsoft.App/managedEnvironments/storages`: an SMB share the apps can mount.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.App/managedEnvironments/storages";

/// PUT body of an environment storage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvironmentStorage {
    /// Properties.
    pub properties: EnvironmentStorageProperties,
}

/// `properties` of an environment storage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentStorageProperties {
    /// Azure Files share.
    pub azure_file: AzureFile,
}

/// `properties.azureFile`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureFile {
    /// Storage account name.
    pub account_name: String,
    /// Account key (always an [`Input::Secret`]; the CLI fetches it with listKeys).
    pub account_key: Input<String>,
    /// Share name.
    pub share_name: String,
    /// `ReadWrite`.
    pub access_mode: String,
}

/// Comparison rules: the key is write-only.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&["/properties/azureFile/accessMode"]),
        write_only: super::paths(&["/properties/azureFile/accountKey"]),
        ..DiffRules::default()
    }
}

/// The spec of an environment storage (child resource: not taggable).
pub fn spec(at: Placement, body: &EnvironmentStorage) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
