//! `Microsoft.Storage/storageAccounts`.

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Storage/storageAccounts";

/// PUT body of a storage account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StorageAccount {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// `StorageV2`.
    pub kind: String,
    /// SKU.
    pub sku: StorageSku,
    /// Properties.
    pub properties: StorageProperties,
}

/// `sku` of a storage account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StorageSku {
    /// e.g. `Standard_LRS`.
    pub name: String,
}

/// `properties` of a storage account.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageProperties {
    /// HTTPS only.
    pub supports_https_traffic_only: bool,
    /// Anonymous blob access.
    pub allow_blob_public_access: bool,
    /// Shared key access (SMB mounts of Container Apps need the account key).
    pub allow_shared_key_access: bool,
    /// e.g. `TLS1_2`.
    pub minimum_tls_version: String,
    /// Firewall.
    pub network_acls: StorageNetworkAcls,
}

/// `properties.networkAcls`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageNetworkAcls {
    /// `AzureServices`, ...
    pub bypass: String,
    /// `Deny`.
    pub default_action: String,
    /// Allowed subnets.
    pub virtual_network_rules: Vec<StorageVnetRule>,
}

/// One VNet rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StorageVnetRule {
    /// Subnet ID.
    pub id: String,
    /// `Allow`.
    pub action: String,
}

/// Comparison rules: VNet rules are a set; the kind is fixed at creation.
pub fn rules() -> DiffRules {
    DiffRules {
        set_arrays: super::paths(&["/properties/networkAcls/virtualNetworkRules"]),
        case_insensitive: super::paths(&[
            "/kind",
            "/sku/name",
            "/properties/minimumTlsVersion",
            "/properties/networkAcls/bypass",
            "/properties/networkAcls/defaultAction",
            "/properties/networkAcls/virtualNetworkRules/*/id",
            "/properties/networkAcls/virtualNetworkRules/*/action",
        ]),
        immutable: super::paths(&["/kind"]),
        ..DiffRules::default()
    }
}

/// The spec of a storage account.
pub fn spec(at: Placement, body: &StorageAccount) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
