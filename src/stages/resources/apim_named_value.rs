//! `Microsoft.ApiManagement/service/namedValues`: values policies reference as `{{name}}`.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.ApiManagement/service/namedValues";

/// PUT body of a named value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedValue {
    /// Properties.
    pub properties: NamedValueProperties,
}

/// `properties` of a named value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedValueProperties {
    /// Name policies use (`{{displayName}}`).
    pub display_name: String,
    /// The value (known, or a reference such as the Entra application ID).
    pub value: Input<String>,
    /// Encrypted and hidden from reads.
    pub secret: bool,
}

impl NamedValue {
    /// A plain (non-secret) named value.
    pub fn plain(name: &str, value: Input<String>) -> Self {
        NamedValue {
            properties: NamedValueProperties {
                display_name: name.to_string(),
                value,
                secret: false,
            },
        }
    }
}

/// Comparison rules: plain values are compared as they are.
pub fn rules() -> DiffRules {
    DiffRules::default()
}

/// The spec of a named value.
pub fn spec(at: Placement, body: &NamedValue) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
