//! `Microsoft.ApiManagement/service` (stv2, VNet-injected).

use super::{ManagedIdentity, Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.ApiManagement/service";

/// PUT body of an API Management service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiManagementService {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// SKU and units.
    pub sku: ApimSku,
    /// System-assigned identity.
    pub identity: ManagedIdentity,
    /// Properties.
    pub properties: ApimProperties,
}

/// `sku` of the service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApimSku {
    /// `Developer`, `Premium`, ...
    pub name: String,
    /// Units.
    pub capacity: u32,
}

/// `properties` of the service.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApimProperties {
    /// Publisher e-mail.
    pub publisher_email: String,
    /// Publisher name.
    pub publisher_name: String,
    /// `Internal` (gateway reachable only inside the VNet).
    pub virtual_network_type: String,
    /// Subnet the service is injected into.
    pub virtual_network_configuration: VirtualNetworkConfiguration,
    /// Public IP resource stv2 requires for management traffic.
    pub public_ip_address_id: String,
}

/// `properties.virtualNetworkConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualNetworkConfiguration {
    /// Subnet ID.
    pub subnet_resource_id: String,
}

/// Comparison rules: SKU, VNet type and identity type are case-insensitive enums;
/// IDs too. The VNet type and subnet can be changed in place (a long update).
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&[
            "/sku/name",
            "/identity/type",
            "/properties/virtualNetworkType",
            "/properties/virtualNetworkConfiguration/subnetResourceId",
            "/properties/publicIpAddressId",
        ]),
        ..DiffRules::default()
    }
}

/// The spec of the service.
pub fn spec(at: Placement, body: &ApiManagementService) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
