//! `Microsoft.ManagedIdentity/userAssignedIdentities`.

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

/// PUT body of a user-assigned identity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserAssignedIdentity {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
}

/// Comparison rules: the region cannot change.
pub fn rules() -> DiffRules {
    DiffRules {
        immutable: super::paths(&["/location"]),
        ..DiffRules::default()
    }
}

/// The spec of an identity. Others read `/properties/principalId` and
/// `/properties/clientId` from it.
pub fn spec(at: Placement, body: &UserAssignedIdentity) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
