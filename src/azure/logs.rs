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
    /// workspace whose customer ID is `workspace_id`; returns the first table.
    pub async fn query(
        &self,
        workspace_id: &str,
        query: &str,
        timespan: &str,
    ) -> Result<LogsTable, AzureError> {
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
        if !(200..300).contains(&u16::from(resp.status())) {
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
        Ok(table)
    }
}
