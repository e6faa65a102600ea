//! `Microsoft.Network/publicIPAddresses`.

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Network/publicIPAddresses";

/// PUT body of a public IP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicIp {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// SKU.
    pub sku: PublicIpSku,
    /// Properties.
    pub properties: PublicIpProperties,
}

/// `sku` of a public IP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicIpSku {
    /// `Standard`.
    pub name: String,
    /// `Regional`.
    pub tier: String,
}

/// `properties` of a public IP.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicIpProperties {
    /// `Static`.
    #[serde(rename = "publicIPAllocationMethod")]
    pub public_ip_allocation_method: String,
    /// `IPv4`.
    #[serde(rename = "publicIPAddressVersion")]
    pub public_ip_address_version: String,
    /// DNS label, when the IP needs a name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns_settings: Option<DnsSettings>,
}

/// `properties.dnsSettings`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DnsSettings {
    /// Label, unique in the region.
    pub domain_name_label: String,
}

/// Comparison rules: SKU, allocation and IP version are fixed at creation.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&[
            "/sku/name",
            "/sku/tier",
            "/properties/publicIPAllocationMethod",
            "/properties/publicIPAddressVersion",
        ]),
        immutable: super::paths(&[
            "/sku/name",
            "/sku/tier",
            "/properties/publicIPAddressVersion",
        ]),
        ..DiffRules::default()
    }
}

/// The spec of a public IP.
pub fn spec(at: Placement, body: &PublicIp) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
