//! `Microsoft.Insights/diagnosticSettings` (extension resource): logs of a resource
//! sent to a Log Analytics workspace.

use super::apim_common::{BuildError, arm_spec, ptrs};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::Ids;
use serde::Serialize;

/// Resource type.
pub const TYPE: &str = "Microsoft.Insights/diagnosticSettings";

/// Request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiagnosticSettingBody {
    /// Properties.
    pub properties: DiagnosticSettingProperties,
}

/// `properties` of a diagnostic setting.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticSettingProperties {
    /// ARM ID of the Log Analytics workspace (a value or a reference to its `/id`).
    pub workspace_id: Input<String>,
    /// `Dedicated`: resource-specific tables (e.g. `ApiManagementGatewayLlmLog`).
    pub log_analytics_destination_type: String,
    /// Log categories.
    pub logs: Vec<LogCategory>,
    /// Metric categories.
    pub metrics: Vec<MetricCategory>,
}

/// One log category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogCategory {
    /// Category name.
    pub category: String,
    /// Enabled.
    pub enabled: bool,
}

/// One metric category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricCategory {
    /// Category name (`AllMetrics`).
    pub category: String,
    /// Enabled.
    pub enabled: bool,
}

/// Diagnostic setting `name` on `scope` sending `categories` and all metrics to the
/// workspace `workspace_id` (dedicated tables); `workspace` is the value written.
pub fn to_log_analytics(
    scope: &str,
    name: &str,
    workspace_id: &str,
    workspace: Input<String>,
    categories: &[&str],
) -> Result<ResourceSpec, BuildError> {
    let body = DiagnosticSettingBody {
        properties: DiagnosticSettingProperties {
            workspace_id: workspace,
            log_analytics_destination_type: "Dedicated".into(),
            logs: categories
                .iter()
                .map(|c| LogCategory {
                    category: c.to_string(),
                    enabled: true,
                })
                .collect(),
            metrics: vec![MetricCategory {
                category: "AllMetrics".into(),
                enabled: true,
            }],
        },
    };
    arm_spec(
        TYPE,
        Ids::extension(scope, TYPE, name),
        format!("diagnostic setting {name}"),
        &body,
        DiffRules {
            set_arrays: ptrs(&["/properties/logs", "/properties/metrics"]),
            case_insensitive: ptrs(&[
                "/properties/workspaceId",
                "/properties/logAnalyticsDestinationType",
                "/properties/logs/*/category",
                "/properties/metrics/*/category",
            ]),
            ..DiffRules::default()
        },
        vec![scope.to_string(), workspace_id.to_string()],
    )
}
