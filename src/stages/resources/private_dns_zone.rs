//! `Microsoft.Network/privateDnsZones` (location `global`).

use super::{Empty, Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Network/privateDnsZones";

/// PUT body of a private DNS zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrivateDnsZone {
    /// Always `global`.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// No settable properties (the object is required).
    pub properties: Empty,
}

/// Comparison rules: nothing beyond tags to compare.
pub fn rules() -> DiffRules {
    DiffRules::default()
}

/// The spec of a private DNS zone.
pub fn spec(at: Placement, body: &PrivateDnsZone) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
