//! `Microsoft.Insights/workbooks`: the shared Azure Monitor workbook with the usage
//! reports (see [`crate::stages::usage`]).

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;
use uuid::Uuid;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Insights/workbooks";

/// PUT body of a workbook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workbook {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// Always `shared` (the only kind the API accepts).
    pub kind: String,
    /// Properties.
    pub properties: WorkbookProperties,
}

/// `properties` of a workbook.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkbookProperties {
    /// Name shown in the portal.
    pub display_name: String,
    /// The workbook content: a JSON document, as a string.
    pub serialized_data: String,
    /// Workbook schema version, matching `serializedData` (`Notebook/1.0`).
    pub version: String,
    /// Gallery category: `workbook`.
    pub category: String,
    /// The resource the workbook is linked to (the Log Analytics workspace).
    pub source_id: String,
    /// Description.
    pub description: String,
}

/// The workbook's name: ARM requires a GUID, so a UUID v5 of the resource it is
/// linked to (lower-cased), stable across runs and machines.
pub fn name_for(source_id: &str) -> String {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!(
            "owui-deploy:usage-workbook:{}",
            source_id.to_ascii_lowercase()
        )
        .as_bytes(),
    )
    .to_string()
}

/// Comparison rules: `serializedData` is compared as JSON (the service may
/// re-serialize it), IDs and enums case-insensitively; the kind cannot change.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&["/kind", "/properties/category", "/properties/sourceId"]),
        immutable: super::paths(&["/kind"]),
        json: super::paths(&["/properties/serializedData"]),
        ..DiffRules::default()
    }
}

/// The spec of a workbook.
pub fn spec(at: Placement, body: &Workbook) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_is_a_stable_guid_whatever_the_casing() {
        let a = name_for(
            "/subscriptions/S/resourceGroups/G/providers/Microsoft.OperationalInsights/workspaces/W",
        );
        let b = name_for(
            "/subscriptions/s/resourcegroups/g/providers/microsoft.operationalinsights/workspaces/w",
        );
        assert_eq!(a, b);
        assert!(Uuid::parse_str(&a).is_ok());
        assert_ne!(
            a,
            name_for(
                "/subscriptions/s/resourcegroups/g/providers/microsoft.operationalinsights/workspaces/other"
            )
        );
    }
}
