//! The Microsoft Graph client (v1.0): applications, service principals, grants.

use super::arm::json_body;
use super::auth::ChosenCredential;
use super::endpoints::Endpoints;
use super::error::{AzureError, GRAPH_ID_HEADERS, api_error};
use super::pipeline::{Http, Service};
use super::settings::{ClientSettings, NoopObserver};
use azure_core::http::{Method, RawResponse, Url};
use serde_json::Value;
use std::sync::Arc;

const MAX_PAGES: usize = 10_000;

/// Microsoft Graph client with the same pipeline as [`super::ArmClient`] (retries, bearer
/// token for the Graph scope, `client-request-id`). Paths start with the version:
/// `/v1.0/applications(uniqueName='owui-prod')`.
#[derive(Clone)]
pub struct GraphClient {
    http: Arc<Http>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("base", &self.http.base.as_str())
            .field("credential", &self.http.credential_name())
            .finish_non_exhaustive()
    }
}

/// Percent-encode an OData key string value (after doubling single quotes).
fn odata_key(value: &str) -> String {
    let doubled = value.replace('\'', "''");
    let mut out = String::new();
    for b in doubled.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'\'') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl GraphClient {
    /// A client for `endpoints.graph` authenticating with `credential`.
    pub fn new(
        endpoints: &Endpoints,
        credential: ChosenCredential,
        settings: ClientSettings,
    ) -> Result<Self, AzureError> {
        let http = Http::new(
            endpoints,
            Service {
                base: &endpoints.graph,
                scope: &endpoints.graph_scope,
                ids: GRAPH_ID_HEADERS,
                client_request_id_header: Some("client-request-id"),
            },
            credential.credential,
            credential.name,
            &settings,
        )?;
        Ok(Self {
            http: Arc::new(http),
        })
    }

    fn url(&self, path: &str) -> Result<Url, AzureError> {
        if !path.starts_with('/') {
            return Err(AzureError::InvalidResponse {
                resource: path.to_string(),
                message: "Graph paths start with '/' (e.g. /v1.0/applications)".into(),
            });
        }
        let base = self.http.base.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path}")).map_err(|e| AzureError::InvalidResponse {
            resource: path.to_string(),
            message: format!("invalid Graph path: {e}"),
        })
    }

    /// The path without its query string, to name a request in errors.
    fn resource(path: &str) -> &str {
        path.split('?').next().unwrap_or(path)
    }

    /// GET an object; `None` when it does not exist (404).
    pub async fn get(&self, path: &str) -> Result<Option<Value>, AzureError> {
        let resource = Self::resource(path);
        let resp = self
            .http
            .send(
                Method::Get,
                self.url(path)?,
                None,
                &[],
                resource,
                &NoopObserver,
            )
            .await?;
        match u16::from(resp.status()) {
            404 => Ok(None),
            200..=299 => json_body(&resp, resource),
            _ => Err(api_error(&resp, "GET", resource, GRAPH_ID_HEADERS)),
        }
    }

    /// Create or update the object of `collection` (`applications`) whose `uniqueName` is
    /// `unique_name`: `PATCH /v1.0/{collection}(uniqueName='...')` with
    /// `Prefer: create-if-missing`, then GET it and return it.
    pub async fn upsert_by_unique_name(
        &self,
        collection: &str,
        unique_name: &str,
        body: &Value,
    ) -> Result<Value, AzureError> {
        let path = format!(
            "/v1.0/{collection}(uniqueName='{}')",
            odata_key(unique_name)
        );
        let resp = self
            .http
            .send(
                Method::Patch,
                self.url(&path)?,
                Some(body),
                &[("prefer", "create-if-missing".to_string())],
                &path,
                &NoopObserver,
            )
            .await?;
        if !resp.status().is_success() {
            return Err(api_error(&resp, "PATCH", &path, GRAPH_ID_HEADERS));
        }
        let created = json_body(&resp, &path)?;
        match self.get(&path).await? {
            Some(v) => Ok(v),
            // Graph is eventually consistent: a just-created object may not read back yet
            None => created.ok_or_else(|| AzureError::InvalidResponse {
                resource: path.clone(),
                message: "upserted object cannot be read back".into(),
            }),
        }
    }

    /// POST to a collection or action; returns the response object (`Null` on 204).
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, AzureError> {
        let resp = self.send_json(Method::Post, path, body).await?;
        Ok(json_body(&resp, Self::resource(path))?.unwrap_or(Value::Null))
    }

    /// PATCH an object.
    pub async fn patch(&self, path: &str, body: &Value) -> Result<(), AzureError> {
        self.send_json(Method::Patch, path, body).await.map(drop)
    }

    /// Send `body` with `method`; a non-2xx answer becomes the Graph error.
    async fn send_json(
        &self,
        method: Method,
        path: &str,
        body: &Value,
    ) -> Result<RawResponse, AzureError> {
        let resource = Self::resource(path);
        let name = method.to_string();
        let resp = self
            .http
            .send(
                method,
                self.url(path)?,
                Some(body),
                &[],
                resource,
                &NoopObserver,
            )
            .await?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(api_error(&resp, &name, resource, GRAPH_ID_HEADERS))
        }
    }

    /// DELETE an object; one that does not exist is fine.
    pub async fn delete(&self, path: &str) -> Result<(), AzureError> {
        let resource = Self::resource(path);
        let resp = self
            .http
            .send(
                Method::Delete,
                self.url(path)?,
                None,
                &[],
                resource,
                &NoopObserver,
            )
            .await?;
        let status = u16::from(resp.status());
        if status == 404 || (200..300).contains(&status) {
            Ok(())
        } else {
            Err(api_error(&resp, "DELETE", resource, GRAPH_ID_HEADERS))
        }
    }

    /// GET a collection with an optional OData `$filter`, following `@odata.nextLink`.
    pub async fn list(&self, path: &str, filter: Option<&str>) -> Result<Vec<Value>, AzureError> {
        let resource = Self::resource(path).to_string();
        let mut url = self.url(path)?;
        if let Some(f) = filter {
            url.query_pairs_mut().append_pair("$filter", f);
        }
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let resp = self
                .http
                .send(
                    Method::Get,
                    url.clone(),
                    None,
                    &[],
                    &resource,
                    &NoopObserver,
                )
                .await?;
            if !resp.status().is_success() {
                return Err(api_error(&resp, "GET", &resource, GRAPH_ID_HEADERS));
            }
            let page = json_body(&resp, &resource)?.unwrap_or(Value::Null);
            let Some(values) = page.get("value").and_then(Value::as_array) else {
                return Err(AzureError::InvalidResponse {
                    resource,
                    message: "list response has no `value` array".into(),
                });
            };
            items.extend(values.iter().cloned());
            match page.get("@odata.nextLink").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => {
                    let next = url.join(next).map_err(|e| AzureError::InvalidResponse {
                        resource: resource.clone(),
                        message: format!("invalid @odata.nextLink: {e}"),
                    })?;
                    self.http.same_origin(&next, &resource)?;
                    if next == url {
                        return Err(AzureError::InvalidResponse {
                            resource,
                            message: "@odata.nextLink points to the same page".into(),
                        });
                    }
                    url = next;
                }
                _ => return Ok(items),
            }
        }
        Err(AzureError::InvalidResponse {
            resource,
            message: format!("more than {MAX_PAGES} pages"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::odata_key;

    #[test]
    fn odata_keys_are_quoted_and_encoded() {
        assert_eq!(odata_key("owui-prod"), "owui-prod");
        assert_eq!(odata_key("it's"), "it''s");
        assert_eq!(odata_key("a b/c"), "a%20b%2Fc");
    }
}
