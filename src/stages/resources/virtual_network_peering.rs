//! `Microsoft.Network/virtualNetworks/virtualNetworkPeerings`.

use super::{Placement, SubResource, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings";

/// Writable properties of a peering (everything else in a GET is read-only):
/// what a VNet PUT carries back for peerings it keeps.
pub const WRITABLE: &[&str] = &[
    "remoteVirtualNetwork",
    "allowVirtualNetworkAccess",
    "allowForwardedTraffic",
    "allowGatewayTransit",
    "useRemoteGateways",
];

/// PUT body of a peering.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VirtualNetworkPeering {
    /// Properties.
    pub properties: PeeringProperties,
}

/// `properties` of a peering.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeeringProperties {
    /// The VNet at the other end.
    pub remote_virtual_network: SubResource,
    /// Traffic between the VNets.
    pub allow_virtual_network_access: bool,
    /// Traffic forwarded from outside the remote VNet.
    pub allow_forwarded_traffic: bool,
    /// Use of this VNet's gateway by the remote one.
    pub allow_gateway_transit: bool,
    /// Use of the remote VNet's gateway.
    pub use_remote_gateways: bool,
}

/// Comparison rules: the remote VNet cannot change (a new peering is needed).
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&["/properties/remoteVirtualNetwork/id"]),
        immutable: super::paths(&["/properties/remoteVirtualNetwork/id"]),
        ..DiffRules::default()
    }
}

/// The spec of a peering (not taggable: a child of the VNet).
pub fn spec(at: Placement, body: &VirtualNetworkPeering) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
