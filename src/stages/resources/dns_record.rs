//! `Microsoft.Network/privateDnsZones/A`: A record sets of private DNS zones.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Network/privateDnsZones/A";

/// TTL of the records the tool writes (seconds).
pub const TTL: u32 = 3600;

/// PUT body of an A record set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ARecordSet {
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

impl ARecordSet {
    /// One address, default TTL.
    pub fn single(ip: Input<String>) -> Self {
        ARecordSet {
            properties: ARecordSetProperties {
                ttl: TTL,
                a_records: vec![ARecord { ipv4_address: ip }],
            },
        }
    }
}

/// Comparison rules: the addresses are a set.
pub fn rules() -> DiffRules {
    DiffRules {
        set_arrays: super::paths(&["/properties/aRecords"]),
        ..DiffRules::default()
    }
}

/// The spec of an A record set (`{zone}/A/{name}`).
pub fn spec(at: Placement, body: &ARecordSet) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
