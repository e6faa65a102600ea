//! `Microsoft.OperationalInsights/workspaces`.

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.OperationalInsights/workspaces";

/// PUT body of a Log Analytics workspace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workspace {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// Properties.
    pub properties: WorkspaceProperties,
}

/// `properties` of a workspace.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceProperties {
    /// Pricing SKU.
    pub sku: WorkspaceSku,
    /// Retention in days.
    pub retention_in_days: u32,
    /// Feature switches.
    pub features: WorkspaceFeatures,
}

/// `properties.sku`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkspaceSku {
    /// e.g. `PerGB2018`.
    pub name: String,
}

/// `properties.features`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceFeatures {
    /// Disable shared-key (local) authentication.
    pub disable_local_auth: bool,
}

/// Comparison rules: SKU names are case-insensitive.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&["/properties/sku/name"]),
        ..DiffRules::default()
    }
}

/// The spec of a workspace.
pub fn spec(at: Placement, body: &Workspace) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
