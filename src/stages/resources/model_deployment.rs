//! `Microsoft.CognitiveServices/accounts/deployments`. Deployments of one
//! account must be written one at a time: the spec's `serial_key` is the account ID.

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.CognitiveServices/accounts/deployments";

/// PUT body of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    /// Tags (deployments take tags; ownership lets removed ones be deleted).
    pub tags: Tags,
    /// SKU and capacity.
    pub sku: DeploymentSku,
    /// Properties.
    pub properties: DeploymentProperties,
}

/// `sku` of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentSku {
    /// e.g. `GlobalStandard`.
    pub name: String,
    /// Thousands of tokens per minute.
    pub capacity: u32,
}

/// `properties` of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentProperties {
    /// The model.
    pub model: DeploymentModel,
}

/// `properties.model`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentModel {
    /// e.g. `OpenAI`.
    pub format: String,
    /// e.g. `gpt-4o`.
    pub name: String,
    /// e.g. `2024-11-20`.
    pub version: String,
}

/// Comparison rules: model format and name are fixed (a different model is a
/// new deployment); version and capacity are updates.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&["/sku/name", "/properties/model/format"]),
        immutable: super::paths(&["/properties/model/format", "/properties/model/name"]),
        ..DiffRules::default()
    }
}

/// The spec of a deployment on the account `account_id`.
pub fn spec(
    at: Placement,
    account_id: &str,
    body: &Deployment,
) -> Result<ResourceSpec, StageError> {
    let mut spec = arm_spec(at, TYPE, body, rules(), true)?;
    spec.serial_key = Some(account_id.to_ascii_lowercase());
    Ok(spec)
}
