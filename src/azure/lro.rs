//! ARM long-running operations, driven by `azure_core`'s [`Poller`].
//!
//! `azure_core` provides the polling machinery (the poll loop, the sleep between polls,
//! the final-result callback) but not ARM's protocol, which is here:
//!
//! 1. `Azure-AsyncOperation` header: poll that URL until its `status` is `Succeeded`,
//!    `Failed` or `Canceled` (case-insensitive); on success of a PUT/PATCH, GET the resource.
//! 2. else `Location` on a 202: poll it; 202 means running, 200/201/204 done (a 200 body is
//!    the result of a POST action); an error status is the operation's failure.
//! 3. else a PUT/PATCH answered 200/201 with a non-terminal `properties.provisioningState`:
//!    GET the resource until the state is terminal.
//! 4. (DELETE answered 202 with neither header: GET the resource until it is gone.)
//!
//! Between polls we sleep the poll response's `Retry-After` / `retry-after-ms` /
//! `x-ms-retry-after-ms` (the initial response's before the first poll). Without one we
//! wait [`DEFAULT_POLL_INTERVAL`]; a shorter server value is raised to
//! [`MIN_POLL_INTERVAL`]: never a busy poll. (Sandbox endpoints use a 100 ms default and
//! 10 ms floor instead, as the sandbox scales its durations down.) The whole operation is
//! bounded by [`super::ClientSettings::lro_timeout`].

use super::error::{AzureError, ErrorDetail, parse_detail_value, parse_error_body};
use super::pipeline::{Http, RetryEvent, retry_after};
use super::settings::LroObserver;
use azure_core::http::headers::{HeaderName, Headers};
use azure_core::http::poller::{
    PollerContinuation, PollerResult, PollerState, PollerStatus, StatusMonitor,
};
use azure_core::http::{JsonFormat, Method, Poller, RawResponse, Response, StatusCode, Url};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Poll interval when the service gives no `Retry-After` (real clouds).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Shortest poll interval, whatever the service says (real clouds).
pub const MIN_POLL_INTERVAL: Duration = Duration::from_secs(1);
const SANDBOX_DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(100);
const SANDBOX_MIN_POLL_INTERVAL: Duration = Duration::from_millis(10);

const AZURE_ASYNC_OPERATION: HeaderName = HeaderName::from_static("azure-asyncoperation");
const LOCATION: HeaderName = HeaderName::from_static("location");

/// How an operation is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LroMode {
    /// Poll the `Azure-AsyncOperation` URL's `status`.
    AsyncOperation,
    /// Poll the `Location` URL: 202 running, 200/201/204 done.
    Location,
    /// GET the resource until `properties.provisioningState` is terminal.
    ProvisioningState,
    /// GET the resource until it answers 404 (a DELETE without polling headers).
    UntilGone,
}

/// How to follow an operation that the initial response started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LroStart {
    pub mode: LroMode,
    pub poll_url: Url,
    /// `Retry-After` of the initial response.
    pub first_wait: Option<Duration>,
}

fn header_url(headers: &Headers, name: &HeaderName, base: &Url) -> Option<Url> {
    headers
        .get_optional_str(name)
        .filter(|s| !s.trim().is_empty())
        .and_then(|s| base.join(s.trim()).ok())
}

fn is_terminal(state: &str) -> bool {
    matches!(
        PollerStatus::from(state),
        PollerStatus::Succeeded | PollerStatus::Failed | PollerStatus::Canceled
    )
}

fn provisioning_state(body: &Value) -> Option<&str> {
    body.pointer("/properties/provisioningState")
        .and_then(Value::as_str)
}

/// Decide from the initial response whether an operation runs on, and how to follow it.
pub(crate) fn lro_start(
    method: Method,
    status: u16,
    headers: &Headers,
    body: &[u8],
    resource_url: &Url,
) -> Option<LroStart> {
    let first_wait = retry_after(headers);
    if !(200..300).contains(&status) {
        return None;
    }
    if let Some(url) = header_url(headers, &AZURE_ASYNC_OPERATION, resource_url) {
        return Some(LroStart {
            mode: LroMode::AsyncOperation,
            poll_url: url,
            first_wait,
        });
    }
    if status == 202 {
        if let Some(url) = header_url(headers, &LOCATION, resource_url) {
            return Some(LroStart {
                mode: LroMode::Location,
                poll_url: url,
                first_wait,
            });
        }
        let mode = if method == Method::Delete {
            LroMode::UntilGone
        } else {
            LroMode::ProvisioningState
        };
        return Some(LroStart {
            mode,
            poll_url: resource_url.clone(),
            first_wait,
        });
    }
    if matches!(method, Method::Put | Method::Patch) && (status == 200 || status == 201) {
        let value: Value = serde_json::from_slice(body).ok()?;
        if let Some(state) = provisioning_state(&value)
            && !is_terminal(state)
        {
            return Some(LroStart {
                mode: LroMode::ProvisioningState,
                poll_url: resource_url.clone(),
                first_wait,
            });
        }
    }
    None
}

/// What one poll said, normalised over the modes; what the [`Poller`] yields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PollDoc {
    /// Status as the service spelled it (`InProgress`, `Succeeded`, `Updating`...).
    pub status: String,
    /// The operation's error object, when it failed.
    #[serde(default)]
    pub error: Option<Value>,
    /// The terminal poll's body when it is the result (Location 200, provisioning state).
    #[serde(default)]
    pub result: Option<Value>,
}

impl StatusMonitor for PollDoc {
    type Output = Value;
    type Format = JsonFormat;
    fn status(&self) -> PollerStatus {
        PollerStatus::from(self.status.as_str())
    }
}

/// Interpret one poll response. `Err` only for an error status that is not the
/// operation's own outcome.
pub(crate) fn interpret_poll(
    mode: LroMode,
    resp: &RawResponse,
    http: &Http,
    resource: &str,
) -> Result<(PollDoc, Option<Url>), AzureError> {
    let poll = PollResponse {
        resp,
        http,
        resource,
        status: resp.status().into(),
    };
    match mode {
        LroMode::AsyncOperation => poll.async_operation(),
        LroMode::Location => Ok(poll.location()),
        LroMode::ProvisioningState => poll.provisioning_state(),
        LroMode::UntilGone => poll.until_gone(),
    }
}

/// One poll response with what [`interpret_poll`] needs to word its errors.
struct PollResponse<'a> {
    /// The response.
    resp: &'a RawResponse,
    /// The client that polled (for the request ids of an error).
    http: &'a Http,
    /// The resource the operation acts on, named in errors.
    resource: &'a str,
    /// The response's HTTP status.
    status: u16,
}

/// What a poll says: its normalised document and, for `Location` polling, the next
/// URL to poll.
type PollOutcome = Result<(PollDoc, Option<Url>), AzureError>;

impl PollResponse<'_> {
    /// The body, when it is a JSON document.
    fn json(&self) -> Option<Value> {
        serde_json::from_slice::<Value>(self.resp.body().as_ref()).ok()
    }

    /// A response that does not follow the protocol.
    fn invalid(&self, message: String) -> AzureError {
        AzureError::InvalidResponse {
            resource: self.resource.to_string(),
            message,
        }
    }

    /// An error status that is not the operation's outcome, as an API error.
    fn api_error(&self) -> AzureError {
        super::error::api_error(self.resp, "GET", self.resource, self.http.ids())
    }

    /// `Azure-AsyncOperation`: the operation status document's `status` and `error`.
    fn async_operation(&self) -> PollOutcome {
        let status = self.status;
        if !(200..300).contains(&status) {
            return Err(self.api_error());
        }
        let value = match self.json() {
            Some(v) => v,
            // accepted, nothing to say yet
            None if status == 202 => serde_json::json!({}),
            None => {
                return Err(self.invalid(format!(
                    "operation status ({status}) is not a JSON document"
                )));
            }
        };
        let state = value
            .get("status")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| (status == 202).then(|| "InProgress".to_string()))
            .ok_or_else(|| self.invalid("operation status document has no `status`".into()))?;
        Ok((
            PollDoc {
                status: state,
                error: value.get("error").cloned(),
                result: None,
            },
            None,
        ))
    }

    /// `Location`: 202 runs on (at the next `Location`), 2xx is done with the body as
    /// the result, any other status is the operation's failure.
    fn location(&self) -> (PollDoc, Option<Url>) {
        match self.status {
            202 => (
                PollDoc {
                    status: "InProgress".into(),
                    error: None,
                    result: None,
                },
                header_url(self.resp.headers(), &LOCATION, &self.http.base),
            ),
            200..=299 => (
                PollDoc {
                    status: "Succeeded".into(),
                    error: None,
                    result: self.json(),
                },
                None,
            ),
            _ => (
                PollDoc {
                    status: "Failed".into(),
                    error: Some(location_failure(self.resp)),
                    result: None,
                },
                None,
            ),
        }
    }

    /// Provisioning state: the resource's `properties.provisioningState` (none means
    /// `Succeeded`); the resource is the result.
    fn provisioning_state(&self) -> PollOutcome {
        if !(200..300).contains(&self.status) {
            return Err(self.api_error());
        }
        let value = self
            .json()
            .ok_or_else(|| self.invalid("resource is not a JSON document".into()))?;
        let state = provisioning_state(&value)
            .unwrap_or("Succeeded")
            .to_string();
        Ok((
            PollDoc {
                status: state,
                error: value.get("error").cloned(),
                result: Some(value),
            },
            None,
        ))
    }

    /// Until gone (a DELETE): 404 is done; a resource still there is `Deleting`
    /// unless it names another non-succeeded state.
    fn until_gone(&self) -> PollOutcome {
        match self.status {
            404 => Ok((
                PollDoc {
                    status: "Succeeded".into(),
                    error: None,
                    result: None,
                },
                None,
            )),
            200..=299 => {
                let state = self
                    .json()
                    .as_ref()
                    .and_then(|v| provisioning_state(v).map(str::to_string))
                    .filter(|s| !PollerStatus::from(s.as_str()).eq(&PollerStatus::Succeeded))
                    .unwrap_or_else(|| "Deleting".into());
                Ok((
                    PollDoc {
                        status: state,
                        error: None,
                        result: None,
                    },
                    None,
                ))
            }
            _ => Err(self.api_error()),
        }
    }
}

/// The error object of a failed `Location` poll: the ARM error body, or one made
/// from the HTTP status.
fn location_failure(resp: &RawResponse) -> Value {
    let status: u16 = resp.status().into();
    parse_error_body(resp.body().as_ref())
        .map(|p| {
            serde_json::json!({
                "code": p.code, "message": p.message, "target": p.target,
                "details": p.details.iter().map(detail_json).collect::<Vec<_>>(),
            })
        })
        .unwrap_or_else(|| {
            serde_json::json!({
                "code": resp.status().canonical_reason().replace(' ', ""),
                "message": format!("operation ended with HTTP {status}"),
            })
        })
}

fn detail_json(d: &ErrorDetail) -> Value {
    serde_json::json!({
        "code": d.code, "message": d.message, "target": d.target,
        "details": d.details.iter().map(detail_json).collect::<Vec<_>>(),
    })
}

/// Events from inside the poller to the caller's observer.
enum Event {
    Polled(String),
    Retrying(RetryEvent),
}

/// Forwards retry events of poll requests to the caller.
struct ChannelObserver(mpsc::UnboundedSender<Event>);

impl LroObserver for ChannelObserver {
    fn polled(&self, status: &str, _elapsed: Duration) {
        let _ = self.0.send(Event::Polled(status.to_string()));
    }
    fn retrying(&self, reason: &str, delay: Duration) {
        let _ = self.0.send(Event::Retrying(RetryEvent {
            reason: reason.to_string(),
            delay,
        }));
    }
}

/// What the caller wants once the operation succeeded.
#[derive(Debug, Clone)]
pub(crate) enum FinalResult {
    /// Nothing (DELETE).
    None,
    /// GET this URL (the resource after a PUT/PATCH; a POST's `Location`).
    Get(Url),
    /// The terminal poll's body, if any (POST via `Location`, provisioning state).
    TerminalBody,
}

struct Driver {
    http: Arc<Http>,
    mode: LroMode,
    poll_url: Url,
    first_wait: Option<Duration>,
    final_result: FinalResult,
    resource: String,
    events: mpsc::UnboundedSender<Event>,
}

fn wrap(e: AzureError) -> azure_core::Error {
    azure_core::Error::new(azure_core::error::ErrorKind::Other, e)
}

fn unwrap(e: azure_core::Error, resource: &str) -> AzureError {
    match e.into_downcast::<AzureError>() {
        Ok(err) => err,
        Err(other) => AzureError::InvalidResponse {
            resource: resource.to_string(),
            message: other.to_string(),
        },
    }
}

impl Driver {
    fn poll_interval(&self, server: Option<Duration>) -> Duration {
        let (default, floor) = if self.http.is_sandbox {
            (SANDBOX_DEFAULT_POLL_INTERVAL, SANDBOX_MIN_POLL_INTERVAL)
        } else {
            (DEFAULT_POLL_INTERVAL, MIN_POLL_INTERVAL)
        };
        server.unwrap_or(default).max(floor)
    }

    async fn poll(
        self: Arc<Self>,
        state: PollerState,
    ) -> azure_core::Result<PollerResult<PollDoc, JsonFormat>> {
        let url = match state {
            PollerState::Initial => {
                tokio::time::sleep(self.poll_interval(self.first_wait)).await;
                self.poll_url.clone()
            }
            PollerState::More(PollerContinuation::Links { next_link, .. }) => next_link,
            PollerState::More(other) => {
                return Err(wrap(AzureError::InvalidResponse {
                    resource: self.resource.clone(),
                    message: format!("unexpected poller continuation {other}"),
                }));
            }
        };
        self.http.same_origin(&url, &self.resource).map_err(wrap)?;
        let observer = ChannelObserver(self.events.clone());
        let resp = self
            .http
            .send(
                Method::Get,
                url.clone(),
                None,
                &[],
                &self.resource,
                &observer,
            )
            .await
            .map_err(wrap)?;
        let (doc, next) =
            interpret_poll(self.mode, &resp, &self.http, &self.resource).map_err(wrap)?;
        observer.polled(&doc.status, Duration::ZERO);
        let wait = self.poll_interval(retry_after(resp.headers()));
        let bytes = serde_json::to_vec(&doc).map_err(|e| {
            wrap(AzureError::InvalidResponse {
                resource: self.resource.clone(),
                message: e.to_string(),
            })
        })?;
        let response: Response<PollDoc, JsonFormat> =
            RawResponse::from_bytes(StatusCode::Ok, Headers::new(), bytes).into();
        match doc.status() {
            PollerStatus::Succeeded => match &self.final_result {
                FinalResult::Get(target) => {
                    let target = target.clone();
                    let driver = self.clone();
                    Ok(PollerResult::Succeeded {
                        response,
                        target: Box::new(move || {
                            Box::pin(async move { driver.fetch(target).await })
                        }),
                    })
                }
                FinalResult::None | FinalResult::TerminalBody => {
                    Ok(PollerResult::Done { response })
                }
            },
            PollerStatus::Failed | PollerStatus::Canceled => Ok(PollerResult::Done { response }),
            _ => Ok(PollerResult::InProgress {
                response,
                retry_after: azure_core::time::Duration::try_from(wait)
                    .unwrap_or(azure_core::time::Duration::seconds(1)),
                continuation: PollerContinuation::Links {
                    next_link: next.unwrap_or(url),
                    final_link: None,
                },
            }),
        }
    }

    /// GET the final result.
    async fn fetch(&self, url: Url) -> azure_core::Result<Response<Value, JsonFormat>> {
        self.http.same_origin(&url, &self.resource).map_err(wrap)?;
        let observer = ChannelObserver(self.events.clone());
        let resp = self
            .http
            .send(Method::Get, url, None, &[], &self.resource, &observer)
            .await
            .map_err(wrap)?;
        if !resp.status().is_success() {
            return Err(wrap(super::error::api_error(
                &resp,
                "GET",
                &self.resource,
                self.http.ids(),
            )));
        }
        let body: &[u8] = resp.body().as_ref();
        if body.iter().all(u8::is_ascii_whitespace) {
            // 204 / empty 200: no result (a purge, a delete)
            return Ok(RawResponse::from_bytes(resp.status(), Headers::new(), "null").into());
        }
        Ok(resp.into())
    }
}

fn operation_failed(resource: &str, doc: &PollDoc) -> AzureError {
    let parsed = doc.error.as_ref().and_then(parse_detail_value);
    match parsed {
        Some(p) => AzureError::OperationFailed {
            resource: resource.to_string(),
            code: p.code.unwrap_or_else(|| doc.status.clone()),
            message: p.message.unwrap_or_default(),
            details: p.details,
        },
        None => AzureError::OperationFailed {
            resource: resource.to_string(),
            code: doc.status.clone(),
            message: format!("the operation ended with status {}", doc.status),
            details: Vec::new(),
        },
    }
}

/// Follow an operation to its end. Returns the final result (see [`FinalResult`]).
pub(crate) async fn follow(
    http: Arc<Http>,
    start: LroStart,
    final_result: FinalResult,
    resource: &str,
    timeout: Duration,
    observer: &dyn LroObserver,
) -> Result<Option<Value>, AzureError> {
    let started = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let driver = Arc::new(Driver {
        http,
        mode: start.mode,
        poll_url: start.poll_url,
        first_wait: start.first_wait,
        final_result: final_result.clone(),
        resource: resource.to_string(),
        events: tx,
    });
    let mut poller: Poller<PollDoc, JsonFormat> = Poller::new(
        move |state, _options| {
            let driver = driver.clone();
            Box::pin(driver.poll(state))
        },
        None,
    );
    let deliver = move |ev: Event| match ev {
        Event::Polled(status) => observer.polled(&status, started.elapsed()),
        Event::Retrying(r) => observer.retrying(&r.reason, r.delay),
    };
    let run = async move {
        loop {
            let item = tokio::select! {
                item = poller.next() => item,
                Some(ev) = rx.recv() => { deliver(ev); continue; }
            };
            while let Ok(ev) = rx.try_recv() {
                deliver(ev);
            }
            let response = match item {
                None => {
                    return Err(AzureError::InvalidResponse {
                        resource: resource.to_string(),
                        message: "the operation ended without a terminal status".into(),
                    });
                }
                Some(Err(e)) => return Err(unwrap(e, resource)),
                Some(Ok(response)) => response,
            };
            let doc: PollDoc = response
                .into_model()
                .map_err(|e| AzureError::InvalidResponse {
                    resource: resource.to_string(),
                    message: e.to_string(),
                })?;
            match doc.status() {
                PollerStatus::Succeeded => match final_result {
                    FinalResult::None => return Ok(None),
                    FinalResult::TerminalBody => {
                        return Ok(doc.result.filter(|v| !v.is_null()));
                    }
                    FinalResult::Get(_) => {
                        // the poller's target: the GET prepared by the driver
                        let fetched = poller.await;
                        while let Ok(ev) = rx.try_recv() {
                            deliver(ev);
                        }
                        let fetched = fetched.map_err(|e| unwrap(e, resource))?;
                        let value: Value =
                            fetched
                                .into_model()
                                .map_err(|e| AzureError::InvalidResponse {
                                    resource: resource.to_string(),
                                    message: format!("final GET: {e}"),
                                })?;
                        return Ok(Some(value).filter(|v| !v.is_null()));
                    }
                },
                PollerStatus::Failed | PollerStatus::Canceled => {
                    return Err(operation_failed(resource, &doc));
                }
                _ => {}
            }
        }
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(r) => r,
        Err(_) => Err(AzureError::Timeout {
            resource: resource.to_string(),
            waited: started.elapsed(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> Headers {
        let mut h = Headers::new();
        for (k, v) in pairs {
            h.insert(*k, *v);
        }
        h
    }

    fn resource() -> Url {
        Url::parse("https://management.azure.com/subscriptions/s/resourceGroups/rg?api-version=1")
            .unwrap()
    }

    #[test]
    fn failed_location_poll_reports_the_arm_error_or_the_status() {
        let with_body = RawResponse::from_bytes(
            StatusCode::from(409),
            Headers::new(),
            r#"{"error":{"code":"Conflict","message":"busy","details":[{"code":"Inner","message":"m"}]}}"#,
        );
        let error = location_failure(&with_body);
        assert_eq!(error["code"], "Conflict");
        assert_eq!(error["message"], "busy");
        assert_eq!(error["details"][0]["code"], "Inner");

        let without_body = RawResponse::from_bytes(StatusCode::from(503), Headers::new(), "");
        let error = location_failure(&without_body);
        assert_eq!(error["code"], "ServiceUnavailable");
        assert_eq!(error["message"], "operation ended with HTTP 503");
    }
    #[test]
    fn async_operation_wins_over_location() {
        let h = headers(&[
            ("azure-asyncoperation", "https://management.azure.com/op/1"),
            ("location", "https://management.azure.com/loc/1"),
            ("retry-after", "3"),
        ]);
        let start = lro_start(Method::Put, 201, &h, b"{}", &resource()).unwrap();
        assert_eq!(start.mode, LroMode::AsyncOperation);
        assert_eq!(start.poll_url.as_str(), "https://management.azure.com/op/1");
        assert_eq!(start.first_wait, Some(Duration::from_secs(3)));
    }

    #[test]
    fn location_only_on_202() {
        let h = headers(&[("location", "/loc/1")]);
        let start = lro_start(Method::Delete, 202, &h, b"", &resource()).unwrap();
        assert_eq!(start.mode, LroMode::Location);
        assert_eq!(
            start.poll_url.as_str(),
            "https://management.azure.com/loc/1"
        );
        // a 201 with Location and a terminal state is done
        let body = br#"{"properties":{"provisioningState":"Succeeded"}}"#;
        assert_eq!(lro_start(Method::Put, 201, &h, body, &resource()), None);
    }

    #[test]
    fn non_terminal_provisioning_state_is_polled() {
        let body = br#"{"properties":{"provisioningState":"Updating"}}"#;
        let start = lro_start(Method::Put, 200, &Headers::new(), body, &resource()).unwrap();
        assert_eq!(start.mode, LroMode::ProvisioningState);
        assert_eq!(start.poll_url, resource());
        let done = br#"{"properties":{"provisioningState":"succeeded"}}"#;
        assert_eq!(
            lro_start(Method::Put, 200, &Headers::new(), done, &resource()),
            None
        );
        // GET-like methods never start an operation from a body
        assert_eq!(
            lro_start(Method::Post, 200, &Headers::new(), body, &resource()),
            None
        );
    }

    #[test]
    fn delete_202_without_headers_waits_until_gone() {
        let start = lro_start(Method::Delete, 202, &Headers::new(), b"", &resource()).unwrap();
        assert_eq!(start.mode, LroMode::UntilGone);
        assert_eq!(
            lro_start(Method::Delete, 204, &Headers::new(), b"", &resource()),
            None
        );
    }

    #[test]
    fn failed_operation_error_is_surfaced() {
        let doc = PollDoc {
            status: "Failed".into(),
            error: Some(serde_json::json!({
                "code": "InternalServerError", "message": "boom",
                "details": [{"code": "Inner", "message": "inner boom"}]
            })),
            result: None,
        };
        let err = operation_failed("/x", &doc);
        assert_eq!(err.code(), Some("InternalServerError"));
        assert!(err.to_string().contains("boom"));
        assert!(err.to_string().contains("Inner: inner boom"));
        let canceled = PollDoc {
            status: "Canceled".into(),
            error: None,
            result: None,
        };
        assert_eq!(operation_failed("/x", &canceled).code(), Some("Canceled"));
    }
}
