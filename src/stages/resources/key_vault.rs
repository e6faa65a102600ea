//! `Microsoft.KeyVault/vaults` in RBAC mode.

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.KeyVault/vaults";

/// PUT body of a vault.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vault {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// Properties.
    pub properties: VaultProperties,
}

/// `properties` of a vault.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultProperties {
    /// Entra tenant.
    pub tenant_id: String,
    /// SKU.
    pub sku: VaultSku,
    /// Access by Azure RBAC instead of access policies.
    pub enable_rbac_authorization: bool,
    /// Soft delete (always on in current Azure; stated explicitly).
    pub enable_soft_delete: bool,
    /// Days a deleted vault stays recoverable (name reserved).
    pub soft_delete_retention_in_days: u32,
    /// Purge protection; only `true` may be sent (it cannot be turned off), so
    /// `None` leaves it off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_purge_protection: Option<bool>,
}

/// `properties.sku`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VaultSku {
    /// `A`.
    pub family: String,
    /// `standard` or `premium`.
    pub name: String,
}

impl VaultSku {
    /// The standard SKU.
    pub fn standard() -> Self {
        VaultSku {
            family: "A".into(),
            name: "standard".into(),
        }
    }
}

/// Comparison rules: the retention period is fixed once the vault exists.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&["/properties/sku/name", "/properties/tenantId"]),
        immutable: super::paths(&["/properties/softDeleteRetentionInDays"]),
        ..DiffRules::default()
    }
}

/// The spec of a vault.
pub fn spec(at: Placement, body: &Vault) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
