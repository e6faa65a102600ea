//! `Microsoft.Network/privateEndpoints`.

use super::{Placement, SubResource, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Network/privateEndpoints";

/// PUT body of a private endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrivateEndpoint {
    /// Region (the region of the subnet's VNet).
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// Properties.
    pub properties: PrivateEndpointProperties,
}

/// `properties` of a private endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateEndpointProperties {
    /// Subnet the endpoint's NIC goes into.
    pub subnet: SubResource,
    /// The connection to the target resource (auto-approved: same tenant, caller's rights).
    pub private_link_service_connections: Vec<PrivateLinkServiceConnection>,
}

/// One private link service connection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrivateLinkServiceConnection {
    /// Connection name.
    pub name: String,
    /// Properties.
    pub properties: ConnectionProperties,
}

/// `properties` of a connection.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionProperties {
    /// Target resource ID.
    pub private_link_service_id: String,
    /// Sub-resources, e.g. `postgresqlServer`, `account`.
    pub group_ids: Vec<String>,
}

/// Comparison rules: subnet and target are fixed at creation.
pub fn rules() -> DiffRules {
    DiffRules {
        set_arrays: super::paths(&[
            "/properties/privateLinkServiceConnections",
            "/properties/privateLinkServiceConnections/*/properties/groupIds",
        ]),
        case_insensitive: super::paths(&[
            "/properties/subnet/id",
            "/properties/privateLinkServiceConnections/*/properties/privateLinkServiceId",
        ]),
        immutable: super::paths(&[
            "/properties/subnet/id",
            "/properties/privateLinkServiceConnections/*/properties/privateLinkServiceId",
        ]),
        ..DiffRules::default()
    }
}

/// The spec of a private endpoint.
pub fn spec(at: Placement, body: &PrivateEndpoint) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
