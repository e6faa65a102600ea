//! `Microsoft.DBforPostgreSQL/flexibleServers/configurations`: one server parameter.
//! ARM answers a write with 202 and no body (then the operation).

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.DBforPostgreSQL/flexibleServers/configurations";

/// PUT body of a server parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Configuration {
    /// Properties.
    pub properties: ConfigurationProperties,
}

/// `properties` of a server parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigurationProperties {
    /// The value, e.g. `VECTOR` for `azure.extensions`.
    pub value: String,
    /// `user-override`.
    pub source: String,
}

/// Comparison rules: values and sources are compared case-insensitively.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&["/properties/value", "/properties/source"]),
        ..DiffRules::default()
    }
}

/// The spec of a server parameter (child resource: not taggable).
pub fn spec(at: Placement, body: &Configuration) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
