//! `Microsoft.CognitiveServices/accounts` (Microsoft Foundry, kind `AIServices`).

use super::{ManagedIdentity, Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.CognitiveServices/accounts";

/// PUT body of an account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// `AIServices`.
    pub kind: String,
    /// SKU.
    pub sku: AccountSku,
    /// System-assigned identity.
    pub identity: ManagedIdentity,
    /// Properties.
    pub properties: AccountProperties,
}

/// `sku` of an account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountSku {
    /// `S0`.
    pub name: String,
}

/// `properties` of an account.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountProperties {
    /// Custom subdomain (globally unique; needed for Entra auth and private endpoints).
    pub custom_sub_domain_name: String,
    /// Keys off: Entra only.
    pub disable_local_auth: bool,
    /// Foundry projects may be created on the account.
    pub allow_project_management: bool,
    /// `Disabled`: reachable only through its private endpoint.
    pub public_network_access: String,
    /// Firewall.
    pub network_acls: AccountNetworkAcls,
}

/// `properties.networkAcls`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountNetworkAcls {
    /// `Deny`.
    pub default_action: String,
}

/// Comparison rules: kind and subdomain are fixed at creation.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&[
            "/kind",
            "/sku/name",
            "/identity/type",
            "/properties/customSubDomainName",
            "/properties/publicNetworkAccess",
            "/properties/networkAcls/defaultAction",
        ]),
        immutable: super::paths(&["/kind", "/properties/customSubDomainName"]),
        ..DiffRules::default()
    }
}

/// The spec of an account. Others read `/properties/endpoint` and
/// `/identity/principalId` from it.
pub fn spec(at: Placement, body: &Account) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
