//! `Microsoft.Network/privateDnsZones/virtualNetworkLinks` (location `global`).

use super::{Placement, SubResource, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Network/privateDnsZones/virtualNetworkLinks";

/// PUT body of a zone's VNet link.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VirtualNetworkLink {
    /// Always `global`.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// Properties.
    pub properties: LinkProperties,
}

/// `properties` of a VNet link.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkProperties {
    /// The linked VNet.
    pub virtual_network: SubResource,
    /// Auto-registration of VM records (off: these zones hold private endpoint records).
    pub registration_enabled: bool,
}

/// Comparison rules: the linked VNet cannot change.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&["/properties/virtualNetwork/id"]),
        immutable: super::paths(&["/properties/virtualNetwork/id"]),
        ..DiffRules::default()
    }
}

/// The spec of a VNet link (a tracked resource: taggable).
pub fn spec(at: Placement, body: &VirtualNetworkLink) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
