//! `Microsoft.Network/virtualNetworks/virtualNetworkPeerings`: the hub -> spoke
//! peering (the spoke -> hub one belongs to the spoke stage).

use super::apim_common::{BuildError, IdRef, arm_spec, ptrs};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::Ids;
use serde::Serialize;

/// Resource type.
pub const TYPE: &str = "Microsoft.Network/virtualNetworks/virtualNetworkPeerings";

/// Request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeeringBody {
    /// Properties.
    pub properties: PeeringProperties,
}

/// `properties` of a peering.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeeringProperties {
    /// The remote VNet.
    pub remote_virtual_network: IdRef,
    /// VMs of both VNets can talk.
    pub allow_virtual_network_access: bool,
    /// Accept traffic forwarded from the remote VNet.
    pub allow_forwarded_traffic: bool,
    /// No gateway transit.
    pub allow_gateway_transit: bool,
    /// No remote gateways.
    pub use_remote_gateways: bool,
}

/// Peering `name` of `local_vnet_id` to `remote_vnet_id`.
pub fn peering(
    local_vnet_id: &str,
    name: &str,
    remote_vnet_id: &str,
) -> Result<ResourceSpec, BuildError> {
    arm_spec(
        TYPE,
        Ids::child(local_vnet_id, "virtualNetworkPeerings", name),
        format!("VNet peering {name}"),
        &PeeringBody {
            properties: PeeringProperties {
                remote_virtual_network: IdRef::new(remote_vnet_id),
                allow_virtual_network_access: true,
                allow_forwarded_traffic: true,
                allow_gateway_transit: false,
                use_remote_gateways: false,
            },
        },
        DiffRules {
            case_insensitive: ptrs(&["/properties/remoteVirtualNetwork/id"]),
            immutable: ptrs(&["/properties/remoteVirtualNetwork/id"]),
            ..DiffRules::default()
        },
        vec![local_vnet_id.to_string(), remote_vnet_id.to_string()],
    )
}
