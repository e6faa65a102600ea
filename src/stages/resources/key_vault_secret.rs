//! `Microsoft.KeyVault/vaults/secrets` (management plane). The value is a secret
//! input: ARM never returns it, so it is compared by presence only.

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.KeyVault/vaults/secrets";

/// PUT body of a secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Secret {
    /// Tags.
    pub tags: Tags,
    /// Properties.
    pub properties: SecretProperties,
}

/// `properties` of a secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretProperties {
    /// The value: an [`Input::Secret`], or a string holding a secret marker (and
    /// possibly references, e.g. the connection string's host).
    pub value: Input<String>,
    /// Content type, e.g. `application/x-pkcs12`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// Comparison rules: the value is write-only; tags are written with the value but
/// not compared (a secret can only be rewritten whole, value included, and a value
/// nobody gave, such as a generated password, must never be re-sent for a tag).
pub fn rules() -> DiffRules {
    DiffRules {
        write_only: super::paths(&["/properties/value"]),
        ignore: super::paths(&["/tags"]),
        ..DiffRules::default()
    }
}

/// The spec of a secret. Others read `/properties/secretUri` from it.
pub fn spec(at: Placement, body: &Secret) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
