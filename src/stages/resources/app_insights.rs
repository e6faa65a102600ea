//! `Microsoft.Insights/components` (workspace-based Application Insights).
//! This API spells its properties in PascalCase/snake form.

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Insights/components";

/// PUT body of an Application Insights component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// Always `web`.
    pub kind: String,
    /// Properties.
    pub properties: ComponentProperties,
}

/// `properties` of a component (the API's own casing).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentProperties {
    /// `web`.
    #[serde(rename = "Application_Type")]
    pub application_type: String,
    /// The Log Analytics workspace the data goes to.
    #[serde(rename = "WorkspaceResourceId")]
    pub workspace_resource_id: String,
    /// Only Entra-authenticated ingestion.
    #[serde(rename = "DisableLocalAuth")]
    pub disable_local_auth: bool,
}

/// Comparison rules: kind and application type are case-insensitive; the kind
/// cannot change.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&[
            "/kind",
            "/properties/Application_Type",
            "/properties/WorkspaceResourceId",
        ]),
        immutable: super::paths(&["/kind"]),
        ..DiffRules::default()
    }
}

/// The spec of a component.
pub fn spec(at: Placement, body: &Component) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
