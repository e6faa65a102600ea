//! `Microsoft.Network/virtualNetworks` with its subnets (and, where the remote end
//! exists first, its peerings) declared inline: a VNet PUT replaces those lists, so
//! a separately managed subnet or peering would be wiped by the next VNet update.

use super::{Placement, SubResource, Tags, arm_spec};
use crate::engine::{DiffRules, OwnedByChildren, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Network/virtualNetworks";

/// PUT body of a VNet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualNetwork {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// Properties.
    pub properties: VirtualNetworkProperties,
}

/// `properties` of a VNet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VirtualNetworkProperties {
    /// Address space.
    pub address_space: AddressSpace,
    /// Every subnet.
    pub subnets: Vec<Subnet>,
    /// Peerings declared inline (a VNet PUT without them deletes existing ones);
    /// omitted when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub virtual_network_peerings: Vec<InlinePeering>,
}

/// One inline peering.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InlinePeering {
    /// Peering name.
    pub name: String,
    /// Peering properties.
    pub properties: super::virtual_network_peering::PeeringProperties,
}

/// `addressSpace`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressSpace {
    /// CIDR prefixes.
    pub address_prefixes: Vec<String>,
}

/// One inline subnet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subnet {
    /// Subnet name.
    pub name: String,
    /// Subnet properties.
    pub properties: SubnetProperties,
}

/// `properties` of a subnet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubnetProperties {
    /// CIDR prefix.
    pub address_prefix: String,
    /// Attached NSG.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_security_group: Option<SubResource>,
    /// Attached route table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_table: Option<SubResource>,
    /// Service endpoints.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service_endpoints: Vec<ServiceEndpoint>,
    /// Delegations (e.g. `Microsoft.App/environments`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub delegations: Vec<Delegation>,
    /// `Enabled` / `Disabled` network policies for private endpoints.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_endpoint_network_policies: Option<String>,
}

impl SubnetProperties {
    /// A plain subnet with only its prefix.
    pub fn prefix(address_prefix: impl Into<String>) -> Self {
        SubnetProperties {
            address_prefix: address_prefix.into(),
            network_security_group: None,
            route_table: None,
            service_endpoints: Vec::new(),
            delegations: Vec::new(),
            private_endpoint_network_policies: None,
        }
    }
}

/// A service endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceEndpoint {
    /// Service, e.g. `Microsoft.Storage`.
    pub service: String,
}

/// A subnet delegation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delegation {
    /// Delegation name.
    pub name: String,
    /// Delegation properties.
    pub properties: DelegationProperties,
}

/// `properties` of a delegation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DelegationProperties {
    /// Service name, e.g. `Microsoft.App/environments`.
    pub service_name: String,
}

/// Comparison rules: prefixes, subnets (by name), service endpoints and
/// delegations are sets; NSG/route table IDs case-insensitive; peerings not
/// declared inline are owned by the peering resources and kept on a rewrite.
pub fn rules() -> DiffRules {
    DiffRules {
        set_arrays: super::paths(&[
            "/properties/addressSpace/addressPrefixes",
            "/properties/subnets",
            "/properties/subnets/*/properties/serviceEndpoints",
            "/properties/subnets/*/properties/delegations",
            "/properties/virtualNetworkPeerings",
        ]),
        case_insensitive: super::paths(&[
            "/properties/subnets/*/properties/networkSecurityGroup/id",
            "/properties/subnets/*/properties/routeTable/id",
            "/properties/subnets/*/properties/serviceEndpoints/*/service",
            "/properties/subnets/*/properties/privateEndpointNetworkPolicies",
            "/properties/virtualNetworkPeerings/*/properties/remoteVirtualNetwork/id",
        ]),
        // Peerings declared as their own resources (the hub -> spoke peering,
        // declared by the spoke stage) are kept on a rewrite of the VNet.
        owned_by_children: vec![OwnedByChildren {
            path: "/properties/virtualNetworkPeerings".into(),
            child_type: super::virtual_network_peering::TYPE.into(),
            writable: super::virtual_network_peering::WRITABLE
                .iter()
                .map(|k| (*k).to_string())
                .collect(),
        }],
        ..DiffRules::default()
    }
}

/// The spec of a VNet.
pub fn spec(at: Placement, body: &VirtualNetwork) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
