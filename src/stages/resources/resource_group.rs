//! `Microsoft.Resources/resourceGroups` (subscription scope).

use super::{Empty, Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Resources/resourceGroups";

/// PUT body of a resource group.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroup {
    /// Region (normalised).
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// No settable properties; the template schema requires the object.
    pub properties: Empty,
}

/// Comparison rules: the location of a resource group cannot change.
pub fn rules() -> DiffRules {
    DiffRules {
        immutable: super::paths(&["/location"]),
        ..DiffRules::default()
    }
}

/// The spec of a resource group.
pub fn spec(at: Placement, body: &ResourceGroup) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
