//! Private DNS written by the finalize stage: A record sets
//! (`Microsoft.Network/privateDnsZones/A`), and the Container Apps environment's
//! zone with its hub VNet link, whose *name* is only known once the environment
//! exists (see [`dynamic_zone`]).

use super::apim_common::{BuildError, IdRef, arm_spec, ptrs};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::Ids;
use serde::Serialize;
use std::collections::BTreeMap;

/// Resource type of an A record set.
pub const A_TYPE: &str = "Microsoft.Network/privateDnsZones/A";
/// Resource type of a private DNS zone.
pub const ZONE_TYPE: &str = "Microsoft.Network/privateDnsZones";
/// Resource type of a zone's VNet link.
pub const LINK_TYPE: &str = "Microsoft.Network/privateDnsZones/virtualNetworkLinks";

/// TTL of the records the tool writes (seconds).
pub const TTL: u32 = 3600;

/// Request body of an A record set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ARecordSetBody {
    /// Properties.
    pub properties: ARecordSetProperties,
}

/// `properties` of an A record set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ARecordSetProperties {
    /// TTL in seconds.
    pub ttl: u32,
    /// Addresses.
    pub a_records: Vec<ARecord>,
}

/// One address.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ARecord {
    /// IPv4 address (often a reference: a private IP known after apply).
    pub ipv4_address: Input<String>,
}

/// A record set `name` in zone `zone_id` pointing at `ip`.
pub fn a_record(
    zone_id: &str,
    name: &str,
    ip: Input<String>,
    depends_on: Vec<String>,
) -> Result<ResourceSpec, BuildError> {
    let body = ARecordSetBody {
        properties: ARecordSetProperties {
            ttl: TTL,
            a_records: vec![ARecord { ipv4_address: ip }],
        },
    };
    let mut deps = depends_on;
    deps.push(zone_id.to_string());
    arm_spec(
        A_TYPE,
        Ids::child(zone_id, "A", name),
        format!("DNS A record {name}"),
        &body,
        DiffRules {
            set_arrays: ptrs(&["/properties/aRecords"]),
            ..DiffRules::default()
        },
        deps,
    )
}

/// Request body of a private DNS zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneBody {
    /// Always `global`.
    pub location: String,
    /// Tags (ownership tag included).
    pub tags: BTreeMap<String, String>,
}

/// The private DNS zone `zone_name` in the resource group `rg_id`, where
/// `zone_name` is a reference marker (the Container Apps environment's
/// `/properties/defaultDomain`), so the zone's ARM ID is only known once the
/// environment exists.
///
/// Engine contract (dynamic addresses): the returned spec's `address` contains a
/// `${ref:...}` marker; the engine resolves markers in an address the way it resolves
/// them in a body. While the referenced resource does not exist, the resource is
/// planned as a create with the address shown as `(known after apply)`; once it
/// exists the resolved address is read and compared like any other. The spec also
/// lists the referenced resource in `depends_on`.
pub fn dynamic_zone(
    rg_id: &str,
    zone_name_marker: &str,
    referenced: &str,
    tags: BTreeMap<String, String>,
) -> Result<ResourceSpec, BuildError> {
    let mut spec = arm_spec(
        ZONE_TYPE,
        format!("{rg_id}/providers/{ZONE_TYPE}/{zone_name_marker}"),
        "private DNS zone of the Container Apps environment".into(),
        &ZoneBody {
            location: "global".into(),
            tags,
        },
        DiffRules {
            case_insensitive: ptrs(&["/location"]),
            ..DiffRules::default()
        },
        vec![referenced.to_string()],
    )?;
    spec.taggable = true;
    Ok(spec)
}

/// Request body of a VNet link.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkBody {
    /// Always `global`.
    pub location: String,
    /// Tags (ownership tag included).
    pub tags: BTreeMap<String, String>,
    /// Properties.
    pub properties: LinkProperties,
}

/// `properties` of a VNet link.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkProperties {
    /// The linked VNet.
    pub virtual_network: IdRef,
    /// No auto-registration of VM records.
    pub registration_enabled: bool,
}

/// Link `name` of zone `zone_id` to `vnet_id`.
pub fn vnet_link(
    zone_id: &str,
    name: &str,
    vnet_id: &str,
    tags: BTreeMap<String, String>,
) -> Result<ResourceSpec, BuildError> {
    let mut spec = arm_spec(
        LINK_TYPE,
        Ids::child(zone_id, "virtualNetworkLinks", name),
        format!("DNS zone link {name}"),
        &LinkBody {
            location: "global".into(),
            tags,
            properties: LinkProperties {
                virtual_network: IdRef::new(vnet_id),
                registration_enabled: false,
            },
        },
        DiffRules {
            case_insensitive: ptrs(&["/location", "/properties/virtualNetwork/id"]),
            immutable: ptrs(&["/properties/virtualNetwork/id"]),
            ..DiffRules::default()
        },
        vec![zone_id.to_string(), vnet_id.to_string()],
    )?;
    spec.taggable = true;
    Ok(spec)
}
