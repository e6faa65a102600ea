//! The HTTP pipeline shared by the ARM and Graph clients: `azure_core`'s [`Pipeline`] with its
//! client-request-ID, user-agent, retry and logging policies, `azure_core`'s
//! [`BearerTokenAuthorizationPolicy`] (token cache and refresh before expiry), a reqwest
//! transport that trusts an extra CA when asked, and [`RetryGuardPolicy`], our one addition.

use super::endpoints::Endpoints;
use super::error::{AzureError, IdHeaders, api_error};
use super::settings::{ClientSettings, LroObserver};
use azure_core::error::ErrorKind;
use azure_core::http::headers::{HeaderName, RETRY_AFTER, RETRY_AFTER_MS, X_MS_RETRY_AFTER_MS};
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::policies::{
    ClientRequestIdPolicy, Policy, PolicyResult, RetryPolicyCount, get_retry_after,
};
use azure_core::http::{
    ClientOptions, Context, ExponentialRetryOptions, Method, Pipeline, PipelineSendOptions,
    RawResponse, Request, RetryOptions, StatusCode, Transport, Url, UserAgentOptions,
};
use azure_core::time::OffsetDateTime;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Statuses `azure_core`'s retry policy retries (its default list).
pub(crate) const RETRYABLE_STATUSES: &[u16] = &[408, 429, 500, 502, 503, 504];

/// Headers that say how long to wait, in `azure_core`'s order of preference.
pub(crate) const RETRY_HEADERS: &[HeaderName] = &[X_MS_RETRY_AFTER_MS, RETRY_AFTER_MS, RETRY_AFTER];

fn to_time(d: Duration) -> azure_core::time::Duration {
    azure_core::time::Duration::try_from(d).unwrap_or(azure_core::time::Duration::MAX)
}

/// `Retry-After` / `retry-after-ms` / `x-ms-retry-after-ms` of a response, as
/// `azure_core` reads them (seconds or an HTTP date; milliseconds).
pub(crate) fn retry_after(headers: &azure_core::http::headers::Headers) -> Option<Duration> {
    get_retry_after(headers, OffsetDateTime::now_utc, RETRY_HEADERS)
        .map(|d| Duration::try_from(d).unwrap_or(Duration::ZERO))
}

/// A reqwest client (same major version as `azure_core`'s) as `azure_core` transport:
/// redirects off and timeouts as `azure_core`'s own default client; the endpoints' extra
/// CA is the only root for the sandbox and an additional root otherwise.
pub(crate) fn http_transport(endpoints: &Endpoints) -> Result<Transport, AzureError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(20))
        .read_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = &endpoints.extra_ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
            AzureError::Transport {
                resource: endpoints.resource_manager.clone(),
                message: format!("invalid CA certificate PEM: {e}"),
            }
        })?;
        builder = if endpoints.is_sandbox {
            builder.tls_certs_only(certs)
        } else {
            builder.tls_certs_merge(certs)
        };
    }
    let client = builder.build().map_err(|e| AzureError::Transport {
        resource: endpoints.resource_manager.clone(),
        message: format!("cannot build the HTTP client: {e}"),
    })?;
    Ok(Transport::new(Arc::new(client)))
}

fn valid_application_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 24
        && id.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '!' | '#'
                        | '$'
                        | '%'
                        | '&'
                        | '\''
                        | '*'
                        | '+'
                        | '-'
                        | '.'
                        | '^'
                        | '_'
                        | '`'
                        | '|'
                        | '~'
                )
        })
}

/// `azure_core` client options from our settings: exponential retries (count, total time,
/// initial and maximum delay) and the user agent application ID.
pub(crate) fn client_options(
    settings: &ClientSettings,
    transport: Option<Transport>,
) -> Result<ClientOptions, AzureError> {
    let application_id = match &settings.user_agent_suffix {
        Some(s) if !valid_application_id(s) => {
            return Err(AzureError::Transport {
                resource: "client settings".into(),
                message: format!(
                    "user agent suffix {s:?} must be a token of at most 24 letters, digits or !#$%&'*+-.^_`|~"
                ),
            });
        }
        other => other.clone(),
    };
    Ok(ClientOptions {
        retry: RetryOptions::exponential(ExponentialRetryOptions {
            initial_delay: to_time(settings.initial_retry_delay),
            max_retries: settings.max_retries,
            max_total_elapsed: to_time(settings.max_retry_time),
            max_delay: to_time(settings.max_retry_delay),
        }),
        transport,
        user_agent: UserAgentOptions { application_id },
        ..Default::default()
    })
}

/// What a request's retries ended with when [`RetryGuardPolicy`] stopped them.
#[derive(Debug)]
enum Stopped {
    Response(RawResponse),
    Transport(String),
}

/// A retry about to happen, reported to the caller's [`LroObserver`].
#[derive(Debug)]
pub(crate) struct RetryEvent {
    pub reason: String,
    pub delay: Duration,
}

/// Per-call state shared by the client and [`RetryGuardPolicy`] through the [`Context`].
#[derive(Debug)]
struct CallState {
    started: Instant,
    attempts: AtomicU32,
    stopped: Mutex<Option<Stopped>>,
    events: mpsc::UnboundedSender<RetryEvent>,
}

/// Our per-try policy, placed inside `azure_core`'s retry policy, for what that policy
/// lacks:
///
/// - **A hard bound on total time.** `azure_core` checks its elapsed-time limit only after a
///   wait, and honours any `Retry-After` in full, so one `Retry-After: 3600` or a long
///   backoff overshoots `max_retry_time`. Before each retry this policy computes the wait
///   `azure_core` will at least make (`Retry-After` for 429/503, else the exponential
///   backoff) and, when it would end past the budget, stops the retries by returning a
///   non-transport error (which `azure_core` never retries), keeping the last response for
///   the caller's error message.
/// - **Attempt counting and retry events**, so errors can say how many attempts were made
///   (`RetriesExhausted`) and progress output can show each retry with its reason.
///
/// Retrying itself (which statuses, transport errors such as connection resets and dropped
/// connections, backoff with jitter, `Retry-After` parsing) stays `azure_core`'s.
#[derive(Debug)]
pub(crate) struct RetryGuardPolicy {
    max_retries: u32,
    max_retry_time: Duration,
    initial_delay: Duration,
    max_delay: Duration,
}

impl RetryGuardPolicy {
    pub(crate) fn new(settings: &ClientSettings) -> Self {
        Self {
            max_retries: settings.max_retries,
            max_retry_time: settings.max_retry_time,
            // the clamps azure_core's ExponentialRetryPolicy applies
            initial_delay: settings.initial_retry_delay.max(Duration::from_millis(1)),
            max_delay: settings.max_retry_delay.max(Duration::from_secs(1)),
        }
    }

    /// The backoff `azure_core` waits before retry number `retry` (1-based), without jitter.
    fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(30));
        self.initial_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

#[async_trait::async_trait]
impl Policy for RetryGuardPolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        let result = next[0].send(ctx, request, &next[1..]).await;
        let Some(state) = ctx.value::<Arc<CallState>>() else {
            return result;
        };
        state.attempts.fetch_add(1, Ordering::SeqCst);
        let retry_count = ctx.value::<RetryPolicyCount>().map(|c| **c).unwrap_or(0);
        let (reason, server_wait) = match &result {
            Ok(resp) => {
                let status: u16 = resp.status().into();
                if !RETRYABLE_STATUSES.contains(&status) {
                    return result;
                }
                // azure_core honours the retry headers on 429 and 503 only
                let wait = if status == 429 || status == 503 {
                    retry_after(resp.headers())
                } else {
                    None
                };
                (
                    format!("{status} {}", resp.status().canonical_reason()),
                    wait,
                )
            }
            Err(e) if matches!(e.kind(), ErrorKind::Io | ErrorKind::Connection) => {
                (format!("connection error: {e}"), None)
            }
            Err(_) => return result,
        };
        if retry_count >= self.max_retries {
            return result; // azure_core stops here by count
        }
        let delay = server_wait
            .unwrap_or(Duration::ZERO)
            .max(self.backoff(retry_count + 1));
        if state.started.elapsed() + delay > self.max_retry_time {
            let stopped = match result {
                Ok(resp) => Stopped::Response(resp.try_into_raw_response().await?),
                Err(e) => Stopped::Transport(e.to_string()),
            };
            if let Ok(mut slot) = state.stopped.lock() {
                *slot = Some(stopped);
            }
            return Err(azure_core::Error::with_message(
                ErrorKind::Other,
                "retry time budget exhausted",
            ));
        }
        let _ = state.events.send(RetryEvent { reason, delay });
        result
    }
}

/// Which service a pipeline talks to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Service<'a> {
    /// Base URL.
    pub base: &'a str,
    /// Token scope.
    pub scope: &'a str,
    /// Headers with request and correlation IDs.
    pub ids: IdHeaders,
    /// Header for the client request ID, when not `x-ms-client-request-id`.
    pub client_request_id_header: Option<&'static str>,
}

/// One configured pipeline plus what errors need (credential name, ID headers).
#[derive(Debug)]
pub(crate) struct Http {
    pipeline: Pipeline,
    credential_name: &'static str,
    ids: IdHeaders,
    /// Base URL: requests and followed links must stay on its origin (the bearer token
    /// goes with every request).
    pub(crate) base: Url,
    /// True for the sandbox (short LRO poll intervals allowed).
    pub(crate) is_sandbox: bool,
}

impl Http {
    /// Build the pipeline for `base` with tokens for `scope`.
    pub(crate) fn new(
        endpoints: &Endpoints,
        service: Service<'_>,
        credential: Arc<dyn azure_core::credentials::TokenCredential>,
        credential_name: &'static str,
        settings: &ClientSettings,
    ) -> Result<Self, AzureError> {
        let Service {
            base,
            scope,
            ids,
            client_request_id_header,
        } = service;
        let base_url = Url::parse(base).map_err(|e| AzureError::Transport {
            resource: base.to_string(),
            message: format!("invalid endpoint URL: {e}"),
        })?;
        let options = client_options(settings, Some(http_transport(endpoints)?))?;
        let mut per_call: Vec<Arc<dyn Policy>> = Vec::new();
        if let Some(h) = client_request_id_header {
            per_call.push(Arc::new(ClientRequestIdPolicy::with_header_name(h)));
        }
        let bearer = BearerTokenAuthorizationPolicy::new(credential, [scope.to_string()]);
        let per_try: Vec<Arc<dyn Policy>> =
            vec![Arc::new(bearer), Arc::new(RetryGuardPolicy::new(settings))];
        let pipeline = Pipeline::new(
            Some("owui-deploy"),
            Some(env!("CARGO_PKG_VERSION")),
            options,
            per_call,
            per_try,
            None,
        );
        Ok(Self {
            pipeline,
            credential_name,
            ids,
            base: base_url,
            is_sandbox: endpoints.is_sandbox,
        })
    }

    /// The credential's human name.
    pub(crate) fn credential_name(&self) -> &'static str {
        self.credential_name
    }

    /// Which headers carry request/correlation IDs.
    pub(crate) fn ids(&self) -> IdHeaders {
        self.ids
    }

    /// Check that a URL the service handed us (next link, poll URL) is on our origin.
    pub(crate) fn same_origin(&self, url: &Url, resource: &str) -> Result<(), AzureError> {
        if url.origin() == self.base.origin() {
            Ok(())
        } else {
            Err(AzureError::InvalidResponse {
                resource: resource.to_string(),
                message: format!(
                    "refusing to follow a link to another host: {}",
                    url.origin().ascii_serialization()
                ),
            })
        }
    }

    /// Send one request through the pipeline (retries included) and return the response,
    /// whatever its status, except:
    /// - 401 and token failures become [`AzureError::Authentication`] naming the credential;
    /// - retryable statuses and transport errors after retries became
    ///   [`AzureError::RetriesExhausted`] (or the plain error when no retry was allowed).
    ///
    /// `resource` names the request in errors (ID or path, never a query string or body).
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
        extra_headers: &[(&'static str, String)],
        resource: &str,
        observer: &dyn LroObserver,
    ) -> Result<RawResponse, AzureError> {
        let method_name = method.to_string();
        let (tx, rx) = mpsc::unbounded_channel();
        let state = Arc::new(CallState {
            started: Instant::now(),
            attempts: AtomicU32::new(0),
            stopped: Mutex::new(None),
            events: tx,
        });
        let mut request = json_request(method, url, body, extra_headers, resource)?;
        let result = self
            .send_reporting_retries(&state, &mut request, rx, observer)
            .await;
        let call = CallReport {
            method: &method_name,
            resource,
            attempts: state.attempts.load(Ordering::SeqCst),
        };
        match result {
            Ok(resp) => self.checked_response(resp, &call),
            Err(e) => {
                let stopped = state.stopped.lock().ok().and_then(|mut s| s.take());
                Err(self.failed_call(&e, stopped, &call))
            }
        }
    }

    /// Runs the pipeline on `request`, passing each retry the policies announce on `rx`
    /// to `observer` while the call runs.
    async fn send_reporting_retries(
        &self,
        state: &Arc<CallState>,
        request: &mut Request,
        mut rx: mpsc::UnboundedReceiver<RetryEvent>,
        observer: &dyn LroObserver,
    ) -> azure_core::Result<RawResponse> {
        let ctx = Context::new().with_value(state.clone());
        let options = PipelineSendOptions {
            skip_checks: true,
            ..Default::default()
        };
        let result = {
            let fut = self.pipeline.send(&ctx, request, Some(options));
            tokio::pin!(fut);
            loop {
                tokio::select! {
                    r = &mut fut => break r,
                    Some(ev) = rx.recv() => observer.retrying(&ev.reason, ev.delay),
                }
            }
        };
        while let Ok(ev) = rx.try_recv() {
            observer.retrying(&ev.reason, ev.delay);
        }
        result
    }

    /// A response the pipeline returned: a 401 is an authentication error, a retryable
    /// status one that retries did not cure; anything else is the caller's to read.
    fn checked_response(
        &self,
        resp: RawResponse,
        call: &CallReport<'_>,
    ) -> Result<RawResponse, AzureError> {
        let CallReport {
            method: method_name,
            resource,
            ..
        } = *call;
        let status: u16 = resp.status().into();
        if resp.status() == StatusCode::Unauthorized {
            let err = api_error(&resp, method_name, resource, self.ids);
            return Err(AzureError::Authentication {
                credential: self.credential_name.to_string(),
                message: format!("the service rejected the token: {err}"),
            });
        }
        if RETRYABLE_STATUSES.contains(&status) {
            return Err(call.exhausted(api_error(&resp, method_name, resource, self.ids)));
        }
        Ok(resp)
    }

    /// The error for a call the pipeline failed: what stopped it within the time budget
    /// (`stopped`), else a credential or transport failure.
    fn failed_call(
        &self,
        e: &azure_core::Error,
        stopped: Option<Stopped>,
        call: &CallReport<'_>,
    ) -> AzureError {
        let CallReport {
            method: method_name,
            resource,
            ..
        } = *call;
        match stopped {
            // stopped by the time budget: always "exhausted", even after one attempt
            Some(Stopped::Response(resp)) => {
                call.budget(api_error(&resp, method_name, resource, self.ids))
            }
            Some(Stopped::Transport(message)) => call.budget(AzureError::Transport {
                resource: resource.to_string(),
                message,
            }),
            None if matches!(e.kind(), ErrorKind::Credential) => AzureError::Authentication {
                credential: self.credential_name.to_string(),
                message: error_chain(e),
            },
            None if matches!(e.kind(), ErrorKind::Io | ErrorKind::Connection) => {
                call.exhausted(AzureError::Transport {
                    resource: resource.to_string(),
                    message: error_chain(e),
                })
            }
            None => AzureError::Transport {
                resource: resource.to_string(),
                message: error_chain(e),
            },
        }
    }
}

/// One call as its errors name it: the method, the resource and how many attempts
/// the pipeline made.
#[derive(Clone, Copy)]
struct CallReport<'a> {
    /// HTTP method.
    method: &'a str,
    /// The resource the request acts on (ID or path).
    resource: &'a str,
    /// Attempts made, retries included.
    attempts: u32,
}

impl CallReport<'_> {
    /// `last` wrapped as [`AzureError::RetriesExhausted`] when the call was retried.
    fn exhausted(&self, last: AzureError) -> AzureError {
        if self.attempts > 1 {
            self.budget(last)
        } else {
            last
        }
    }

    /// `last` wrapped as [`AzureError::RetriesExhausted`] whatever the attempts (the time
    /// budget stopped the call).
    fn budget(&self, last: AzureError) -> AzureError {
        AzureError::RetriesExhausted {
            resource: self.resource.to_string(),
            attempts: self.attempts,
            last: Box::new(last),
        }
    }
}

/// A request accepting JSON, with `extra_headers` and `body` as its JSON content.
fn json_request(
    method: Method,
    url: Url,
    body: Option<&serde_json::Value>,
    extra_headers: &[(&'static str, String)],
    resource: &str,
) -> Result<Request, AzureError> {
    let mut request = Request::new(url, method);
    request.insert_header("accept", "application/json");
    for (k, v) in extra_headers {
        request.insert_header(*k, v.clone());
    }
    if let Some(body) = body {
        request.insert_header("content-type", "application/json");
        request
            .set_json(body)
            .map_err(|e| AzureError::InvalidResponse {
                resource: resource.to_string(),
                message: format!("cannot serialise the request body: {}", e.kind()),
            })?;
    }
    Ok(request)
}

/// Contexts `azure_core`'s retry policy wraps errors in; they say nothing to an operator.
const GENERIC_CONTEXTS: &[&str] = &[
    "non-transport error occurred which will not be retried",
    "retry policy expired and the request will no longer be retried",
];

/// An error and its sources on one line, without `azure_core`'s generic retry contexts.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        let text = err.to_string();
        let known = parts.iter().any(|p| p.contains(&text));
        if !known && !GENERIC_CONTEXTS.contains(&text.as_str()) {
            parts.push(text);
        }
        current = err.source();
    }
    parts.join(": ")
}

/// Test support: a pipeline over a canned transport, with a fixed token.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};

    /// A test double: a fixed token, as a credential would return.
    #[derive(Debug)]
    pub(crate) struct FixedToken;

    #[async_trait::async_trait]
    impl TokenCredential for FixedToken {
        async fn get_token(
            &self,
            _scopes: &[&str],
            _options: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            Ok(AccessToken::new(
                "t0k3n",
                OffsetDateTime::now_utc() + azure_core::time::Duration::hours(1),
            ))
        }
    }

    /// An [`Http`] for `base` whose transport is `transport`.
    pub(crate) fn http(
        transport: Arc<dyn Policy>,
        settings: &ClientSettings,
        base: &str,
        ids: IdHeaders,
    ) -> Http {
        let mut options = client_options(settings, None).expect("options");
        options.transport = Some(Transport::with_policy(transport));
        let per_try: Vec<Arc<dyn Policy>> = vec![
            Arc::new(BearerTokenAuthorizationPolicy::new(
                Arc::new(FixedToken),
                ["https://management.azure.com/.default"],
            )),
            Arc::new(RetryGuardPolicy::new(settings)),
        ];
        Http {
            pipeline: Pipeline::new(
                Some("owui-deploy"),
                Some(env!("CARGO_PKG_VERSION")),
                options,
                Vec::new(),
                per_try,
                None,
            ),
            credential_name: "FixedToken",
            ids,
            base: Url::parse(base).expect("base URL"),
            // short poll intervals, as for the sandbox
            is_sandbox: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::error::ARM_ID_HEADERS;
    use crate::azure::settings::NoopObserver;
    use azure_core::http::AsyncRawResponse;
    use azure_core::http::headers::Headers;

    /// Records request headers, answers 200 `{}`.
    #[derive(Debug, Default)]
    struct Capture(Mutex<Vec<Vec<(String, String)>>>);

    #[async_trait::async_trait]
    impl Policy for Capture {
        async fn send(
            &self,
            _ctx: &Context,
            request: &mut Request,
            _next: &[Arc<dyn Policy>],
        ) -> PolicyResult {
            let headers = request
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.as_str().to_string()))
                .collect();
            self.0.lock().unwrap().push(headers);
            Ok(AsyncRawResponse::from_bytes(
                StatusCode::Ok,
                Headers::new(),
                b"{}".to_vec(),
            ))
        }
    }

    #[tokio::test]
    async fn user_agent_client_request_id_and_bearer_token_are_sent() {
        let capture = Arc::new(Capture::default());
        let settings = ClientSettings {
            user_agent_suffix: Some("ci".into()),
            ..Default::default()
        };
        let http = test_support::http(
            capture.clone(),
            &settings,
            "https://management.azure.com",
            ARM_ID_HEADERS,
        );
        let url = Url::parse("https://management.azure.com/subscriptions?api-version=1").unwrap();
        let resp = http
            .send(Method::Get, url, None, &[], "/subscriptions", &NoopObserver)
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::Ok);
        let sent = capture.0.lock().unwrap()[0].clone();
        let get = |k: &str| {
            sent.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        let ua = get("user-agent").expect("user agent sent");
        assert!(ua.contains(crate::azure::USER_AGENT), "{ua}");
        assert!(ua.starts_with("ci "), "{ua}");
        assert!(get("x-ms-client-request-id").is_some_and(|v| v.len() == 36));
        assert_eq!(get("authorization").as_deref(), Some("Bearer t0k3n"));
    }

    #[test]
    fn retry_after_headers_in_azure_core_order() {
        let mut h = Headers::new();
        h.insert("retry-after", "7");
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert("retry-after-ms", "250");
        assert_eq!(retry_after(&h), Some(Duration::from_millis(250)));
        h.insert("x-ms-retry-after-ms", "40");
        assert_eq!(retry_after(&h), Some(Duration::from_millis(40)));

        let mut date = Headers::new();
        let in_ten = std::time::SystemTime::now() + Duration::from_secs(10);
        date.insert("retry-after", httpdate::fmt_http_date(in_ten));
        let got = retry_after(&date).expect("HTTP date parsed");
        assert!(
            got <= Duration::from_secs(10) && got >= Duration::from_secs(8),
            "{got:?}"
        );
        assert_eq!(retry_after(&Headers::new()), None);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let guard = RetryGuardPolicy::new(&ClientSettings {
            initial_retry_delay: Duration::from_millis(800),
            max_retry_delay: Duration::from_secs(5),
            ..Default::default()
        });
        assert_eq!(guard.backoff(1), Duration::from_millis(1600));
        assert_eq!(guard.backoff(2), Duration::from_millis(3200));
        assert_eq!(guard.backoff(3), Duration::from_secs(5));
        assert_eq!(guard.backoff(40), Duration::from_secs(5));
    }

    #[test]
    fn user_agent_suffix_is_validated() {
        let ok = ClientSettings {
            user_agent_suffix: Some("ci-nightly".into()),
            ..Default::default()
        };
        assert!(client_options(&ok, None).is_ok());
        let bad = ClientSettings {
            user_agent_suffix: Some("has space/and slash".into()),
            ..Default::default()
        };
        assert!(client_options(&bad, None).is_err());
    }
}
