//! The Azure Resource Manager client.

use super::auth::ChosenCredential;
use super::endpoints::Endpoints;
use super::error::{ARM_ID_HEADERS, AzureError, api_error};
use super::lro::{FinalResult, LroMode, follow, lro_start};
use super::pipeline::{Http, Service};
use super::settings::{ClientSettings, LroObserver, NoopObserver};
use azure_core::http::{Method, RawResponse, Url};
use serde_json::Value;
use std::sync::Arc;

/// Upper bound on pages followed by [`ArmClient::list`] (a loop guard).
const MAX_PAGES: usize = 10_000;

/// ARM client: GET/PUT/PATCH/DELETE/POST on resource IDs with `api-version`, retries,
/// long-running operations followed to their end, and `nextLink` pagination.
///
/// Cheap to clone (one shared pipeline); safe to use from many tasks at once.
#[derive(Clone)]
pub struct ArmClient {
    http: Arc<Http>,
    lro_timeout: std::time::Duration,
}

impl std::fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArmClient")
            .field("base", &self.http.base.as_str())
            .field("credential", &self.http.credential_name())
            .finish_non_exhaustive()
    }
}

/// Parse a JSON body; an empty body is `None`.
pub(crate) fn json_body(resp: &RawResponse, resource: &str) -> Result<Option<Value>, AzureError> {
    let body: &[u8] = resp.body().as_ref();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(|e| AzureError::InvalidResponse {
            resource: resource.to_string(),
            message: format!("response body is not JSON: {e}"),
        })
}

impl ArmClient {
    /// A client for `endpoints.resource_manager` authenticating with `credential`.
    pub fn new(
        endpoints: &Endpoints,
        credential: ChosenCredential,
        settings: ClientSettings,
    ) -> Result<Self, AzureError> {
        let http = Http::new(
            endpoints,
            Service {
                base: &endpoints.resource_manager,
                scope: &endpoints.arm_scope,
                ids: ARM_ID_HEADERS,
                client_request_id_header: None,
            },
            credential.credential,
            credential.name,
            &settings,
        )?;
        Ok(Self {
            http: Arc::new(http),
            lro_timeout: settings.lro_timeout,
        })
    }

    fn url(
        &self,
        path: &str,
        api_version: &str,
        query: &[(&str, &str)],
    ) -> Result<Url, AzureError> {
        if !path.starts_with('/') || path.contains(['?', '#']) {
            return Err(AzureError::InvalidResponse {
                resource: path.to_string(),
                message: "not a resource ID or ARM path (must start with '/', no query)".into(),
            });
        }
        let base = self.http.base.as_str().trim_end_matches('/');
        let mut url =
            Url::parse(&format!("{base}{path}")).map_err(|e| AzureError::InvalidResponse {
                resource: path.to_string(),
                message: format!("invalid resource path: {e}"),
            })?;
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("api-version", api_version);
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// GET a resource; `None` when it does not exist (404).
    pub async fn get(&self, id: &str, api_version: &str) -> Result<Option<Value>, AzureError> {
        let url = self.url(id, api_version, &[])?;
        let resp = self
            .http
            .send(Method::Get, url, None, &[], id, &NoopObserver)
            .await?;
        match u16::from(resp.status()) {
            404 => Ok(None),
            200..=299 => {
                json_body(&resp, id)?
                    .map(Some)
                    .ok_or_else(|| AzureError::InvalidResponse {
                        resource: id.to_string(),
                        message: "empty body on GET".into(),
                    })
            }
            _ => Err(api_error(&resp, "GET", id, ARM_ID_HEADERS)),
        }
    }

    async fn write(
        &self,
        method: Method,
        id: &str,
        api_version: &str,
        body: &Value,
        observer: &dyn LroObserver,
    ) -> Result<Value, AzureError> {
        let url = self.url(id, api_version, &[])?;
        let method_name = method.to_string();
        let resp = self
            .http
            .send(method, url.clone(), Some(body), &[], id, observer)
            .await?;
        let status = u16::from(resp.status());
        if !(200..300).contains(&status) {
            return Err(api_error(&resp, &method_name, id, ARM_ID_HEADERS));
        }
        let body_bytes: &[u8] = resp.body().as_ref();
        if let Some(start) = lro_start(method, status, resp.headers(), body_bytes, &url) {
            let final_result = match start.mode {
                LroMode::ProvisioningState => FinalResult::TerminalBody,
                _ => FinalResult::Get(url.clone()),
            };
            let value = follow(
                self.http.clone(),
                start,
                final_result,
                id,
                self.lro_timeout,
                observer,
            )
            .await?;
            if let Some(v) = value {
                return Ok(v);
            }
        } else if let Some(v) = json_body(&resp, id)? {
            return Ok(v);
        }
        self.get(id, api_version)
            .await?
            .ok_or_else(|| AzureError::InvalidResponse {
                resource: id.to_string(),
                message: format!("{method_name} succeeded but the resource is not found"),
            })
    }

    /// PUT a resource, follow its long-running operation to the end, and return the
    /// resource as ARM then returns it.
    pub async fn put(
        &self,
        id: &str,
        api_version: &str,
        body: &Value,
        observer: &dyn LroObserver,
    ) -> Result<Value, AzureError> {
        self.write(Method::Put, id, api_version, body, observer)
            .await
    }

    /// PATCH a resource (like [`Self::put`]).
    pub async fn patch(
        &self,
        id: &str,
        api_version: &str,
        body: &Value,
        observer: &dyn LroObserver,
    ) -> Result<Value, AzureError> {
        self.write(Method::Patch, id, api_version, body, observer)
            .await
    }

    /// DELETE a resource and wait until it is gone. A resource that does not exist is fine.
    pub async fn delete(
        &self,
        id: &str,
        api_version: &str,
        observer: &dyn LroObserver,
    ) -> Result<(), AzureError> {
        let url = self.url(id, api_version, &[])?;
        let resp = self
            .http
            .send(Method::Delete, url.clone(), None, &[], id, observer)
            .await?;
        let status = u16::from(resp.status());
        if status == 404 {
            return Ok(());
        }
        if !(200..300).contains(&status) {
            return Err(api_error(&resp, "DELETE", id, ARM_ID_HEADERS));
        }
        let body_bytes: &[u8] = resp.body().as_ref();
        if let Some(start) = lro_start(Method::Delete, status, resp.headers(), body_bytes, &url) {
            follow(
                self.http.clone(),
                start,
                FinalResult::None,
                id,
                self.lro_timeout,
                observer,
            )
            .await?;
        }
        Ok(())
    }

    /// POST an action (`.../listKeys`, `.../purge`), following a long-running operation;
    /// returns the action's result, if it has one.
    pub async fn post(
        &self,
        path: &str,
        api_version: &str,
        body: Option<&Value>,
        observer: &dyn LroObserver,
    ) -> Result<Option<Value>, AzureError> {
        let url = self.url(path, api_version, &[])?;
        let resp = self
            .http
            .send(Method::Post, url.clone(), body, &[], path, observer)
            .await?;
        let status = u16::from(resp.status());
        if !(200..300).contains(&status) {
            return Err(api_error(&resp, "POST", path, ARM_ID_HEADERS));
        }
        let body_bytes: &[u8] = resp.body().as_ref();
        match lro_start(Method::Post, status, resp.headers(), body_bytes, &url) {
            Some(start) => {
                let final_result = match start.mode {
                    LroMode::AsyncOperation => resp
                        .headers()
                        .get_optional_str(&azure_core::http::headers::HeaderName::from_static(
                            "location",
                        ))
                        .and_then(|l| url.join(l).ok())
                        .map(FinalResult::Get)
                        .unwrap_or(FinalResult::None),
                    LroMode::Location => FinalResult::TerminalBody,
                    // a POST accepted without anything to poll: nothing to wait for
                    LroMode::ProvisioningState | LroMode::UntilGone => return Ok(None),
                };
                follow(
                    self.http.clone(),
                    start,
                    final_result,
                    path,
                    self.lro_timeout,
                    observer,
                )
                .await
            }
            None => json_body(&resp, path),
        }
    }

    /// GET a collection (`/subscriptions/{s}/resourceGroups`, `.../providers/X/y`) with extra
    /// query parameters, following `nextLink`; returns the items of every page.
    pub async fn list(
        &self,
        path: &str,
        api_version: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<Value>, AzureError> {
        let mut url = self.url(path, api_version, query)?;
        let mut items = Vec::new();
        for _ in 0..MAX_PAGES {
            let resp = self
                .http
                .send(Method::Get, url.clone(), None, &[], path, &NoopObserver)
                .await?;
            if !resp.status().is_success() {
                return Err(api_error(&resp, "GET", path, ARM_ID_HEADERS));
            }
            let page = json_body(&resp, path)?.unwrap_or(Value::Null);
            let Some(values) = page.get("value").and_then(Value::as_array) else {
                return Err(AzureError::InvalidResponse {
                    resource: path.to_string(),
                    message: "list response has no `value` array".into(),
                });
            };
            items.extend(values.iter().cloned());
            match page.get("nextLink").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => {
                    let next = url.join(next).map_err(|e| AzureError::InvalidResponse {
                        resource: path.to_string(),
                        message: format!("invalid nextLink: {e}"),
                    })?;
                    self.http.same_origin(&next, path)?;
                    if next == url {
                        return Err(AzureError::InvalidResponse {
                            resource: path.to_string(),
                            message: "nextLink points to the same page".into(),
                        });
                    }
                    url = next;
                }
                _ => return Ok(items),
            }
        }
        Err(AzureError::InvalidResponse {
            resource: path.to_string(),
            message: format!("more than {MAX_PAGES} pages"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::pipeline::test_support;
    use azure_core::http::headers::Headers;
    use azure_core::http::policies::{Policy, PolicyResult};
    use azure_core::http::{AsyncRawResponse, Context, Request, StatusCode};
    use std::sync::Mutex;

    /// Answers scripted responses in order and records the requests (method, URL).
    #[derive(Debug)]
    struct Script {
        responses: Mutex<Vec<Scripted>>,
        requests: Mutex<Vec<(String, String)>>,
    }

    #[async_trait::async_trait]
    impl Policy for Script {
        async fn send(
            &self,
            _ctx: &Context,
            request: &mut Request,
            _next: &[Arc<dyn Policy>],
        ) -> PolicyResult {
            self.requests
                .lock()
                .unwrap()
                .push((request.method().to_string(), request.url().to_string()));
            let (status, headers, body) = self.responses.lock().unwrap().remove(0);
            let mut h = Headers::new();
            for (k, v) in headers {
                h.insert(k, v);
            }
            let bytes = body
                .map(|b| serde_json::to_vec(&b).unwrap())
                .unwrap_or_default();
            Ok(AsyncRawResponse::from_bytes(
                StatusCode::from(status),
                h,
                bytes,
            ))
        }
    }

    type Scripted = (u16, Vec<(&'static str, &'static str)>, Option<Value>);

    fn scripted(responses: Vec<Scripted>) -> (ArmClient, Arc<Script>) {
        let transport = Arc::new(Script {
            responses: Mutex::new(responses),
            requests: Mutex::new(Vec::new()),
        });
        let http = test_support::http(
            transport.clone(),
            &ClientSettings::default(),
            "https://management.azure.com",
            ARM_ID_HEADERS,
        );
        let client = ArmClient {
            http: Arc::new(http),
            lro_timeout: std::time::Duration::from_secs(5),
        };
        (client, transport)
    }

    fn client(pages: Vec<Value>) -> (ArmClient, Arc<Script>) {
        scripted(pages.into_iter().map(|p| (200, vec![], Some(p))).collect())
    }

    const ID: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.X/y/z";

    #[tokio::test]
    async fn put_polls_a_non_terminal_provisioning_state() {
        let (arm, script) = scripted(vec![
            (
                200,
                vec![],
                Some(serde_json::json!({"properties": {"provisioningState": "Updating"}})),
            ),
            (
                200,
                vec![("retry-after-ms", "15")],
                Some(serde_json::json!({"properties": {"provisioningState": "Updating"}})),
            ),
            (
                200,
                vec![],
                Some(
                    serde_json::json!({"name": "z", "properties": {"provisioningState": "Succeeded"}}),
                ),
            ),
        ]);
        let v = arm
            .put(ID, "1", &serde_json::json!({}), &NoopObserver)
            .await
            .unwrap();
        assert_eq!(v["name"], "z");
        let requests = script.requests.lock().unwrap().clone();
        let methods: Vec<&str> = requests.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(methods, ["PUT", "GET", "GET"]);
        assert!(
            requests[1]
                .1
                .contains("/providers/Microsoft.X/y/z?api-version=1")
        );
    }

    #[tokio::test]
    async fn put_follows_location_then_gets_the_resource() {
        let (arm, script) = scripted(vec![
            (
                202,
                vec![("location", "/op/1"), ("retry-after-ms", "10")],
                None,
            ),
            (202, vec![("location", "/op/1?step=2")], None),
            (200, vec![], None),
            (200, vec![], Some(serde_json::json!({"name": "z"}))),
        ]);
        let v = arm
            .put(ID, "1", &serde_json::json!({}), &NoopObserver)
            .await
            .unwrap();
        assert_eq!(v["name"], "z");
        let urls: Vec<String> = script
            .requests
            .lock()
            .unwrap()
            .iter()
            .map(|(_, u)| u.clone())
            .collect();
        assert_eq!(urls[1], "https://management.azure.com/op/1");
        assert_eq!(
            urls[2], "https://management.azure.com/op/1?step=2",
            "new Location followed"
        );
        assert!(
            urls[3].ends_with("/providers/Microsoft.X/y/z?api-version=1"),
            "final GET"
        );
    }

    #[tokio::test]
    async fn location_failure_is_the_operation_error() {
        let (arm, _) = scripted(vec![
            (
                202,
                vec![("location", "/op/1"), ("retry-after-ms", "10")],
                None,
            ),
            (
                400,
                vec![],
                Some(serde_json::json!({"error": {"code": "QuotaExceeded", "message": "no room"}})),
            ),
        ]);
        let err = arm.delete(ID, "1", &NoopObserver).await.unwrap_err();
        assert!(
            matches!(err, AzureError::OperationFailed { ref code, .. } if code == "QuotaExceeded"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn poll_links_to_other_hosts_are_refused() {
        let (arm, script) = scripted(vec![(
            201,
            vec![
                ("azure-asyncoperation", "https://elsewhere.example/op/1"),
                ("retry-after-ms", "10"),
            ],
            Some(serde_json::json!({})),
        )]);
        let err = arm
            .put(ID, "1", &serde_json::json!({}), &NoopObserver)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("another host"), "{err}");
        assert_eq!(script.requests.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn list_follows_next_link() {
        let (arm, pages) = client(vec![
            serde_json::json!({"value": [{"n": 1}, {"n": 2}],
                "nextLink": "https://management.azure.com/subscriptions/s/resourcegroups?api-version=1&$skiptoken=abc"}),
            serde_json::json!({"value": [{"n": 3}]}),
        ]);
        let items = arm
            .list("/subscriptions/s/resourcegroups", "1", &[("$top", "2")])
            .await
            .unwrap();
        assert_eq!(items.len(), 3);
        let urls: Vec<String> = pages
            .requests
            .lock()
            .unwrap()
            .iter()
            .map(|(_, u)| u.clone())
            .collect();
        assert_eq!(
            urls[0],
            "https://management.azure.com/subscriptions/s/resourcegroups?api-version=1&%24top=2"
        );
        assert!(urls[1].ends_with("$skiptoken=abc"), "{urls:?}");
    }

    #[tokio::test]
    async fn next_link_to_another_host_is_refused() {
        let (arm, pages) = client(vec![serde_json::json!({"value": [],
            "nextLink": "https://attacker.example/steal?api-version=1"})]);
        let err = arm
            .list("/subscriptions/s/resourcegroups", "1", &[])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("another host"), "{err}");
        assert_eq!(
            pages.requests.lock().unwrap().len(),
            1,
            "the token never left"
        );
    }
}
