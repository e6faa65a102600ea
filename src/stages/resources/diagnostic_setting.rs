//! `Microsoft.Insights/diagnosticSettings` (an extension resource): a resource's
//! logs and metrics sent to a Log Analytics workspace.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Insights/diagnosticSettings";

/// PUT body of a diagnostic setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiagnosticSetting {
    /// Properties.
    pub properties: DiagnosticSettingProperties,
}

/// `properties` of a diagnostic setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticSettingProperties {
    /// ARM ID of the Log Analytics workspace.
    pub workspace_id: Input<String>,
    /// `Dedicated`: resource-specific tables (e.g. `ApiManagementGatewayLlmLog`).
    pub log_analytics_destination_type: String,
    /// Log categories.
    pub logs: Vec<CategorySetting>,
    /// Metric categories.
    pub metrics: Vec<CategorySetting>,
}

/// One log or metric category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategorySetting {
    /// Category name.
    pub category: String,
    /// Enabled.
    pub enabled: bool,
}

impl DiagnosticSetting {
    /// `categories` and all metrics to `workspace` (dedicated tables).
    pub fn to_log_analytics(workspace: Input<String>, categories: &[&str]) -> Self {
        DiagnosticSetting {
            properties: DiagnosticSettingProperties {
                workspace_id: workspace,
                log_analytics_destination_type: "Dedicated".into(),
                logs: categories
                    .iter()
                    .map(|c| CategorySetting {
                        category: c.to_string(),
                        enabled: true,
                    })
                    .collect(),
                metrics: vec![CategorySetting {
                    category: "AllMetrics".into(),
                    enabled: true,
                }],
            },
        }
    }
}

/// Comparison rules: categories are sets; IDs and enums case-insensitive.
pub fn rules() -> DiffRules {
    DiffRules {
        set_arrays: super::paths(&["/properties/logs", "/properties/metrics"]),
        case_insensitive: super::paths(&[
            "/properties/workspaceId",
            "/properties/logAnalyticsDestinationType",
            "/properties/logs/*/category",
            "/properties/metrics/*/category",
        ]),
        ..DiffRules::default()
    }
}

/// The spec of a diagnostic setting (`{scope}/providers/Microsoft.Insights/diagnosticSettings/{name}`).
pub fn spec(at: Placement, body: &DiagnosticSetting) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
