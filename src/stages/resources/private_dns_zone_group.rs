//! `Microsoft.Network/privateEndpoints/privateDnsZoneGroups`: registers a
//! private endpoint's addresses in private DNS zones.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Network/privateEndpoints/privateDnsZoneGroups";

/// PUT body of a zone group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrivateDnsZoneGroup {
    /// Properties.
    pub properties: ZoneGroupProperties,
}

/// `properties` of a zone group.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneGroupProperties {
    /// One entry per zone.
    pub private_dns_zone_configs: Vec<ZoneConfig>,
}

/// One zone of a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneConfig {
    /// Config name (the zone name with `.` replaced by `-`).
    pub name: String,
    /// Properties.
    pub properties: ZoneConfigProperties,
}

/// `properties` of a zone config.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneConfigProperties {
    /// Zone ID.
    pub private_dns_zone_id: String,
}

impl ZoneConfig {
    /// The config of zone `zone_name` with ID `zone_id`.
    pub fn new(zone_name: &str, zone_id: String) -> Self {
        ZoneConfig {
            name: zone_name.replace('.', "-"),
            properties: ZoneConfigProperties {
                private_dns_zone_id: zone_id,
            },
        }
    }
}

/// Comparison rules: the zone configs are a set by name.
pub fn rules() -> DiffRules {
    DiffRules {
        set_arrays: super::paths(&["/properties/privateDnsZoneConfigs"]),
        case_insensitive: super::paths(&[
            "/properties/privateDnsZoneConfigs/*/properties/privateDnsZoneId",
        ]),
        ..DiffRules::default()
    }
}

/// The spec of a zone group (child resource: not taggable).
pub fn spec(at: Placement, body: &PrivateDnsZoneGroup) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
