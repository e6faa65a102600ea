//! The Azure Monitor Logs query API:
//! `POST {endpoint}/v1/workspaces/{workspaceId}/query` with `{query, timespan}`,
//! answering `{tables: [{name, columns: [{name, type}], rows}]}`. Same pipeline as
//! the ARM and Graph clients (retries, bearer token), with the Log Analytics scope
//! of the cloud ([`Endpoints::log_analytics_scope`]).

use super::arm::json_body;
use super::auth::ChosenCredential;
use super::endpoints::Endpoints;
use super::error::{ARM_ID_HEADERS, AzureError, api_error};
use super::pipeline::{Http, Service};
use super::settings::{ClientSettings, NoopObserver};
use azure_core::http::{Method, Url};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;

/// Largest number of rows taken from one answer (the API itself caps at 500,000).
pub const MAX_ROWS: usize = 100_000;

/// One column of a result table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogsColumn {
    /// Column name.
    pub name: String,
    /// Kusto type: `string`, `long`, `real`, `datetime`, `dynamic`, ...
    #[serde(rename = "type")]
    pub kind: String,
}

/// One result table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogsTable {
    /// Table name (`PrimaryResult`).
    pub name: String,
    /// Columns.
    pub columns: Vec<LogsColumn>,
    /// Rows, one value per column.
    pub rows: Vec<Vec<Value>>,
}

#[derive(Deserialize)]
struct QueryResponse {
    tables: Vec<LogsTable>,
}

/// Logs query client for one cloud.
#[derive(Clone)]
pub struct LogsClient {
    http: Arc<Http>,
}

impl std::fmt::Debug for LogsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogsClient")
            .field("base", &self.http.base.as_str())
            .finish_non_exhaustive()
    }
}

impl LogsClient {
    /// A client for `endpoints.log_analytics`; an error for clouds without one.
    pub fn new(
        endpoints: &Endpoints,
        credential: ChosenCredential,
        settings: ClientSettings,
    ) -> Result<Self, AzureError> {
        let base = endpoints
            .log_analytics
            .as_deref()
            .ok_or_else(|| AzureError::Transport {
                resource: "Azure Monitor Logs".into(),
                message: "this cloud has no known Logs query endpoint".into(),
            })?;
        let http = Http::new(
            endpoints,
            Service {
                base,
                scope: &endpoints.log_analytics_scope,
                ids: ARM_ID_HEADERS,
                client_request_id_header: None,
            },
            credential.credential,
            credential.name,
            &settings,
        )?;
        Ok(Self {
            http: Arc::new(http),
        })
    }

    /// Run `query` over the last `timespan` (ISO 8601 duration, e.g. `P7D`) in the
    /// workspace whose customer ID is `workspace_id`; returns the first table, or
    /// `None` when a table the query reads does not exist in the workspace: Log
    /// Analytics creates a table on its first ingestion, so a query of a new
    /// workspace is a `400 BadArgumentError` whose semantic error says it "Failed
    /// to resolve table".
    pub async fn query(
        &self,
        workspace_id: &str,
        query: &str,
        timespan: &str,
    ) -> Result<Option<LogsTable>, AzureError> {
        let path = format!("/v1/workspaces/{workspace_id}/query");
        let base = self.http.base.as_str().trim_end_matches('/');
        let url =
            Url::parse(&format!("{base}{path}")).map_err(|e| AzureError::InvalidResponse {
                resource: path.clone(),
                message: format!("invalid workspace ID: {e}"),
            })?;
        let body = json!({ "query": query, "timespan": timespan });
        let resp = self
            .http
            .send(Method::Post, url, Some(&body), &[], &path, &NoopObserver)
            .await?;
        let status = u16::from(resp.status());
        if status == 400 && table_missing(resp.body().as_ref()) {
            return Ok(None);
        }
        if !(200..300).contains(&status) {
            return Err(api_error(&resp, "POST", &path, ARM_ID_HEADERS));
        }
        let value = json_body(&resp, &path)?.unwrap_or(Value::Null);
        let parsed: QueryResponse =
            serde_json::from_value(value).map_err(|e| AzureError::InvalidResponse {
                resource: path.clone(),
                message: format!("not a Logs query answer: {e}"),
            })?;
        let mut table =
            parsed
                .tables
                .into_iter()
                .next()
                .ok_or_else(|| AzureError::InvalidResponse {
                    resource: path.clone(),
                    message: "the answer has no table".into(),
                })?;
        table.rows.truncate(MAX_ROWS);
        Ok(Some(table))
    }
}

/// Whether a 400 answer says a table could not be resolved (a semantic error,
/// at any depth of `innererror`).
fn table_missing(body: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    let mut node = v.get("error");
    let mut semantic = false;
    let mut unresolved = false;
    for _ in 0..8 {
        let Some(n) = node else { break };
        semantic |= n["code"].as_str().is_some_and(|c| c == "SemanticError");
        unresolved |= n["message"]
            .as_str()
            .is_some_and(|m| m.contains("Failed to resolve table"));
        node = n.get("innererror");
    }
    semantic && unresolved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_table_is_told_apart_from_other_bad_arguments() {
        let missing = json!({"error": {"code": "BadArgumentError", "message": "The request had some invalid properties",
            "innererror": {"code": "SemanticError", "message": "A semantic error occurred.",
                "innererror": {"code": "SEM0100", "message": "'where' operator: Failed to resolve table or column expression named 'AppMetrics'"}}}});
        assert!(table_missing(missing.to_string().as_bytes()));
        let syntax = json!({"error": {"code": "BadArgumentError", "message": "The request had some invalid properties",
            "innererror": {"code": "SyntaxError", "message": "Syntax Error"}}});
        assert!(!table_missing(syntax.to_string().as_bytes()));
        assert!(!table_missing(b"not json"));
    }
}
