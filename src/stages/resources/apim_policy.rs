//! `Microsoft.ApiManagement/service/apis/policies`: the API's policy document.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.ApiManagement/service/apis/policies";

/// PUT body of a policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// Properties.
    pub properties: PolicyProperties,
}

/// `properties` of a policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyProperties {
    /// `xml`: a well-formed document (policy expressions XML-escaped).
    pub format: String,
    /// The policy document.
    pub value: String,
}

impl Policy {
    /// A policy from a checked, well-formed XML document.
    pub fn xml(document: String) -> Self {
        Policy {
            properties: PolicyProperties {
                format: "xml".into(),
                value: document,
            },
        }
    }
}

/// Comparison rules: `format` is ignored (GET may name another format). APIM
/// answers a reformatted document: `value` is compared by its canonical XML
/// form ([`crate::engine::xml::canonicalize`]).
pub fn rules() -> DiffRules {
    DiffRules {
        ignore: super::paths(&["/properties/format"]),
        xml: super::paths(&["/properties/value"]),
        ..DiffRules::default()
    }
}

/// The spec of an API policy (`{api}/policies/policy`).
pub fn spec(at: Placement, body: &Policy) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
