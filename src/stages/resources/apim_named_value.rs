//! `Microsoft.ApiManagement/service/namedValues`: values policies reference as `{{name}}`.

use super::apim_common::{BuildError, arm_spec, ptrs};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::Ids;
use serde::Serialize;

/// Resource type.
pub const TYPE: &str = "Microsoft.ApiManagement/service/namedValues";

/// Request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedValueBody {
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

/// A plain (non-secret) named value `name` of the APIM service `apim_id`.
pub fn named_value(
    apim_id: &str,
    name: &str,
    value: Input<String>,
    depends_on: Vec<String>,
) -> Result<ResourceSpec, BuildError> {
    let body = NamedValueBody {
        properties: NamedValueProperties {
            display_name: name.to_string(),
            value,
            secret: false,
        },
    };
    arm_spec(
        TYPE,
        Ids::child(apim_id, "namedValues", name),
        format!("APIM named value {name}"),
        &body,
        DiffRules {
            case_insensitive: ptrs(&["/properties/value"]),
            ..DiffRules::default()
        },
        depends_on,
    )
}
