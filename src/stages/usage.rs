//! Usage insight: the one table of named Log Analytics queries behind both the
//! Azure Monitor workbook `finalize` deploys and the `usage` command, so the two
//! never drift.
//!
//! The queries are the seed articles' reports, rewritten for what this tool
//! deploys: token metrics come from `llm-emit-token-metric` (App Insights
//! `AppMetrics`, metric `Total Tokens`, dimensions `User ID`, `Model`, ...), request
//! reports from the gateway logs the diagnostic setting sends to the workspace
//! (`ApiManagementGatewayLogs`, `ApiManagementGatewayLlmLog`). No query filters on
//! time itself: the caller gives the window (the query API's `timespan`, the
//! workbook's time range parameter), so the text is the same in both places.

use serde_json::{Value, json};

/// How a report is drawn in the workbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chart {
    /// A grid.
    Table,
    /// A bar chart.
    Bar,
    /// A pie chart.
    Pie,
    /// A time chart (the query bins `TimeGenerated`).
    Time,
}

impl Chart {
    /// The workbook's `visualization` value.
    pub fn visualization(self) -> &'static str {
        match self {
            Chart::Table => "table",
            Chart::Bar => "barchart",
            Chart::Pie => "piechart",
            Chart::Time => "timechart",
        }
    }
}

/// One named report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageQuery {
    /// Stable name; for the reports `usage --by` offers, the `--by` value.
    pub name: &'static str,
    /// Whether `owui-deploy usage --by {name}` runs it (the time-series reports
    /// are workbook charts only).
    pub command: bool,
    /// Title in the workbook and in the command's output.
    pub title: &'static str,
    /// The Log Analytics table the query reads.
    pub table: &'static str,
    /// KQL text (no time filter; see the module docs).
    pub kql: &'static str,
    /// How the workbook draws it.
    pub chart: Chart,
}

/// Every report, in workbook order.
pub const USAGE_QUERIES: &[UsageQuery] = &[
    UsageQuery {
        name: "user",
        command: true,
        title: "Tokens per user and model",
        table: "AppMetrics",
        kql: "AppMetrics\n| where Name == \"Total Tokens\"\n| extend User = tostring(Properties[\"User ID\"]), Model = tostring(Properties[\"Model\"])\n| summarize Tokens = sum(Sum) by User, Model\n| order by User asc, Tokens desc",
        chart: Chart::Table,
    },
    UsageQuery {
        name: "model",
        command: true,
        title: "Tokens per model",
        table: "AppMetrics",
        kql: "AppMetrics\n| where Name == \"Total Tokens\"\n| extend Model = tostring(Properties[\"Model\"])\n| summarize Tokens = sum(Sum) by Model\n| order by Tokens desc",
        chart: Chart::Pie,
    },
    UsageQuery {
        name: "model-over-time",
        command: false,
        title: "Tokens per model over time",
        table: "AppMetrics",
        kql: "AppMetrics\n| where Name == \"Total Tokens\"\n| extend Model = tostring(Properties[\"Model\"])\n| summarize Tokens = sum(Sum) by bin(TimeGenerated, 1h), Model\n| order by TimeGenerated asc",
        chart: Chart::Time,
    },
    UsageQuery {
        name: "key",
        command: true,
        title: "Requests per subscription key",
        table: "ApiManagementGatewayLogs",
        kql: "ApiManagementGatewayLogs\n| where ApimSubscriptionId != \"\"\n| summarize Requests = count() by ApimSubscriptionId\n| order by Requests desc",
        chart: Chart::Pie,
    },
    UsageQuery {
        name: "ip",
        command: true,
        title: "Requests per caller IP",
        table: "ApiManagementGatewayLogs",
        kql: "ApiManagementGatewayLogs\n| where ApimSubscriptionId != \"\"\n| summarize Requests = count() by CallerIpAddress\n| order by Requests desc",
        chart: Chart::Table,
    },
    UsageQuery {
        name: "backend",
        command: true,
        title: "Requests per backend over time (primary and fallback)",
        table: "ApiManagementGatewayLogs",
        kql: "ApiManagementGatewayLogs\n| where BackendId != \"\"\n| summarize Requests = count() by bin(TimeGenerated, 1h), BackendId\n| order by TimeGenerated asc, BackendId asc",
        chart: Chart::Time,
    },
    UsageQuery {
        name: "deployment",
        command: true,
        title: "Requests and tokens per deployment",
        table: "ApiManagementGatewayLlmLog",
        kql: "ApiManagementGatewayLlmLog\n| where SequenceNumber == 0\n| summarize Requests = count(), Tokens = sum(TotalTokens) by DeploymentName\n| order by Requests desc",
        chart: Chart::Bar,
    },
    UsageQuery {
        name: "throttled",
        command: true,
        title: "Token-limit 429s per caller (subscription key and IP)",
        table: "ApiManagementGatewayLogs",
        kql: "ApiManagementGatewayLogs\n| where ResponseCode == 429\n| summarize Throttled = count() by ApimSubscriptionId, CallerIpAddress\n| order by Throttled desc",
        chart: Chart::Table,
    },
];

/// The report named `name`.
pub fn query(name: &str) -> Option<&'static UsageQuery> {
    USAGE_QUERIES.iter().find(|q| q.name == name)
}

/// The `--by` values of `owui-deploy usage`.
pub fn command_names() -> Vec<&'static str> {
    USAGE_QUERIES
        .iter()
        .filter(|q| q.command)
        .map(|q| q.name)
        .collect()
}

/// Workbook schema version (also `properties.version`).
pub const WORKBOOK_VERSION: &str = "Notebook/1.0";
/// Name of the workbook's time range parameter.
const TIME_PARAMETER: &str = "TimeRange";

/// The workbook content (`serializedData`, before it is turned into a string):
/// a time range parameter, a header, then one Logs query step per report, all
/// run against `workspace_id`.
pub fn workbook_content(workspace_id: &str) -> Value {
    let mut items = vec![time_range_step(), header_step()];
    items.extend(USAGE_QUERIES.iter().map(|q| query_step(q, workspace_id)));
    json!({
        "version": WORKBOOK_VERSION,
        "items": items,
        "fallbackResourceIds": [workspace_id],
        "$schema": "https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json"
    })
}

fn time_range_step() -> Value {
    json!({
        "type": 9,
        "content": {
            "version": "KqlParameterItem/1.0",
            "parameters": [{
                "id": "owui-time-range",
                "version": "KqlParameterItem/1.0",
                "name": TIME_PARAMETER,
                "label": "Time range",
                "type": 4,
                "isRequired": true,
                "value": { "durationMs": 604800000 },
                "typeSettings": {
                    "selectableValues": [
                        { "durationMs": 3600000 },
                        { "durationMs": 86400000 },
                        { "durationMs": 604800000 },
                        { "durationMs": 2592000000u64 }
                    ]
                }
            }]
        },
        "name": "parameters"
    })
}

fn header_step() -> Value {
    json!({
        "type": 1,
        "content": {
            "json": "## Open WebUI AI gateway usage\nTokens from the gateway's `llm-emit-token-metric` (App Insights) and requests from the APIM gateway logs. The same queries run from `owui-deploy usage --by ...`."
        },
        "name": "header"
    })
}

fn query_step(q: &UsageQuery, workspace_id: &str) -> Value {
    json!({
        "type": 3,
        "content": {
            "version": "KqlItem/1.0",
            "query": q.kql,
            "size": 0,
            "title": q.title,
            "timeContextFromParameter": TIME_PARAMETER,
            "queryType": 0,
            "resourceType": "microsoft.operationalinsights/workspaces",
            "crossComponentResources": [workspace_id],
            "visualization": q.chart.visualization()
        },
        "name": q.name
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_queries_read_their_table() {
        let mut names: Vec<_> = USAGE_QUERIES.iter().map(|q| q.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), USAGE_QUERIES.len());
        for q in USAGE_QUERIES {
            assert!(q.kql.starts_with(q.table), "{} reads {}", q.name, q.table);
        }
    }

    /// docs/usage.md shows every query exactly as shipped.
    #[test]
    fn docs_show_every_query_verbatim() {
        let docs = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/usage.md"),
        )
        .expect("read docs/usage.md");
        for q in USAGE_QUERIES {
            assert!(
                docs.contains(&format!("```kql\n{}\n```", q.kql)),
                "docs/usage.md lacks the query {} as shipped",
                q.name
            );
            assert!(docs.contains(q.title), "docs/usage.md lacks {}", q.title);
        }
    }

    #[test]
    fn workbook_has_one_step_per_query_with_the_same_text() {
        let c = workbook_content(
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.OperationalInsights/workspaces/w",
        );
        let items = c["items"].as_array().expect("items");
        for q in USAGE_QUERIES {
            let step = items
                .iter()
                .find(|i| i["name"] == q.name)
                .unwrap_or_else(|| panic!("no step {}", q.name));
            assert_eq!(step["content"]["query"], q.kql);
        }
        assert_eq!(
            command_names(),
            [
                "user",
                "model",
                "key",
                "ip",
                "backend",
                "deployment",
                "throttled"
            ]
        );
    }
}
