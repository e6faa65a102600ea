//! The HTTPS listener and the request pipeline: admin API, faults, dispatch to the token
//! endpoint, Graph or ARM, common headers, journal.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use axum_server::tls_rustls::RustlsConfig;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::faults::{Engine, FaultPlan};
use super::journal::{self, Entry, Journal};
use super::state::World;
use super::{Sandbox, SandboxError, SandboxOptions};

/// Largest request body accepted with a valid token (well above the largest body the
/// tool sends: an inline OpenAPI import, capped at API Management's 4 MB import limit).
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;
/// Largest body accepted without a valid token (token requests are small forms).
pub(crate) const MAX_UNAUTHENTICATED_BODY: usize = 64 * 1024;
/// Time allowed for a request's headers (slow clients are disconnected).
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a request's body.
pub(crate) const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Current time, unix milliseconds.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// RFC 3339 UTC time of a unix-ms instant.
pub(crate) fn rfc3339(ms: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Default Microsoft Graph replication window (realistic seconds, scaled).
pub(crate) const DEFAULT_GRAPH_REPLICATION_DELAY_SECS: f64 = 20.0;
/// Default data-plane role propagation window (realistic seconds, scaled).
pub(crate) const DEFAULT_RBAC_PROPAGATION_SECS: f64 = 120.0;

/// Settings that can change at runtime (`/_sandbox/config`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Multiplier on every realistic duration.
    pub time_scale: f64,
    /// Lifetime of issued tokens in seconds (not scaled).
    pub token_lifetime_secs: u64,
    /// Directory replication delay for new principals, in unscaled seconds.
    pub principal_delay_secs: f64,
    /// Microsoft Graph replication delay (unscaled seconds): a new application is
    /// invisible to service principal creation, a new service principal to consent
    /// grants, for this long.
    pub graph_replication_delay_secs: f64,
    /// Data-plane role propagation delay (unscaled seconds): a role assignment this
    /// young does not yet let a Container App or an App Gateway read Key Vault.
    pub rbac_propagation_secs: f64,
    /// Client ID the token endpoint accepts.
    pub client_id: String,
    /// Client secret the token endpoint accepts (never shown by `GET /_sandbox/config`).
    #[serde(skip_serializing)]
    pub client_secret: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("time_scale", &self.time_scale)
            .field("token_lifetime_secs", &self.token_lifetime_secs)
            .field("principal_delay_secs", &self.principal_delay_secs)
            .field(
                "graph_replication_delay_secs",
                &self.graph_replication_delay_secs,
            )
            .field("rbac_propagation_secs", &self.rbac_propagation_secs)
            .field("client_id", &self.client_id)
            .field("client_secret", &"Secret")
            .finish()
    }
}

/// Runtime state that is not part of the persisted world.
pub(crate) struct Runtime {
    pub config: Config,
    pub faults: Engine,
    rate_window: u64,
    reads: u64,
    writes: u64,
}

/// State shared by all requests.
pub(crate) struct Shared {
    world: Mutex<World>,
    rt: Mutex<Runtime>,
    pub journal: Mutex<Journal>,
    state_file: Option<PathBuf>,
    persist_lock: Mutex<()>,
    dirty: tokio::sync::Notify,
    persister: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// `https://127.0.0.1:PORT`
    pub base_url: String,
    /// HTTP client for `*-link` OpenAPI imports (also trusts the sandbox CA).
    pub http: reqwest::Client,
    /// Files served at `/_sandbox/files/{name}`: content type and bytes.
    pub files: Mutex<std::collections::BTreeMap<String, (String, Bytes)>>,
    /// Bearer token of the admin API and the journal.
    pub admin_token: String,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// The world (never hold across an await).
    pub fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    /// Runtime settings and faults.
    pub fn rt(&self) -> MutexGuard<'_, Runtime> {
        lock(&self.rt)
    }

    /// The accepted client credentials.
    pub fn credentials(&self) -> (String, String) {
        let rt = self.rt();
        (rt.config.client_id.clone(), rt.config.client_secret.clone())
    }

    /// Token lifetime (s).
    pub fn token_lifetime_secs(&self) -> u64 {
        self.rt().config.token_lifetime_secs
    }

    /// Current time scale.
    pub fn time_scale(&self) -> f64 {
        self.rt().config.time_scale
    }

    /// Scaled milliseconds of `secs` realistic seconds.
    pub fn scaled_ms(&self, secs: f64) -> u64 {
        (secs * self.time_scale() * 1000.0).round().max(0.0) as u64
    }

    /// Scaled replication delay (ms), with an optional override in unscaled seconds.
    pub fn principal_delay_ms(&self, override_secs: Option<f64>) -> u64 {
        let secs = override_secs.unwrap_or_else(|| self.rt().config.principal_delay_secs);
        self.scaled_ms(secs)
    }

    /// Scaled Microsoft Graph replication delay (ms).
    pub fn graph_replication_delay_ms(&self) -> u64 {
        let secs = self.rt().config.graph_replication_delay_secs;
        self.scaled_ms(secs)
    }

    /// Scaled data-plane role propagation delay (ms).
    pub fn rbac_propagation_ms(&self) -> u64 {
        let secs = self.rt().config.rbac_propagation_secs;
        self.scaled_ms(secs)
    }

    /// Ask for the state file to be written soon.
    pub fn mark_dirty(&self) {
        if self.state_file.is_some() {
            self.dirty.notify_one();
        }
    }

    /// Write the state file now (no-op without one).
    pub fn persist_now(&self) {
        let Some(path) = &self.state_file else { return };
        let _guard = lock(&self.persist_lock);
        // Copy under the lock, serialise outside it.
        let snapshot = self.world().clone();
        let bytes = match snapshot.to_state_json() {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("sandbox state not serialisable: {e}");
                return;
            }
        };
        if let Err(e) = super::state::write_private(path, &bytes) {
            tracing::error!("sandbox state not written: {e}");
        }
    }

    /// Stop the background writer.
    pub fn stop_persister(&self) {
        if let Some(h) = lock(&self.persister).take() {
            h.abort();
        }
    }

    /// Remaining-request counters for the ARM rate-limit headers.
    fn rate_headers(&self, write: bool) -> (u64, u64) {
        let mut rt = self.rt();
        let window = now_ms() / 3_600_000;
        if rt.rate_window != window {
            rt.rate_window = window;
            rt.reads = 12000;
            rt.writes = 1200;
        }
        if write {
            rt.writes = rt.writes.saturating_sub(1).max(1);
        } else {
            rt.reads = rt.reads.saturating_sub(1).max(1);
        }
        (rt.reads, rt.writes)
    }
}

/// A response under construction (no Debug: bodies hold tokens).
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    payload: Payload,
}

/// Body of a [`Reply`].
enum Payload {
    Empty,
    Json(Value),
    /// Raw bytes (files served by the admin API).
    Raw(Bytes),
}

impl Reply {
    /// A JSON response.
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            payload: Payload::Json(body),
        }
    }

    /// A response with raw bytes.
    pub fn raw(status: u16, content_type: &str, bytes: Bytes) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            payload: Payload::Raw(bytes),
        }
    }

    /// A response without body.
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            payload: Payload::Empty,
        }
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// ARM-shaped error.
    pub fn arm_error(status: u16, code: &str, message: impl Into<String>) -> Reply {
        Reply::json(
            status,
            json!({"error": {"code": code, "message": message.into()}}),
        )
    }

    fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    fn into_response(self) -> Response<Body> {
        let mut builder = Response::builder()
            .status(StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
        let has_ct = self.has_header("content-type");
        let body = match self.payload {
            Payload::Raw(bytes) => Body::from(bytes),
            Payload::Json(v) => {
                if !has_ct {
                    builder = builder.header("content-type", "application/json; charset=utf-8");
                }
                Body::from(serde_json::to_vec(&v).unwrap_or_default())
            }
            Payload::Empty => Body::empty(),
        };
        for (n, v) in self.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::try_from(n.as_str()),
                HeaderValue::try_from(v.as_str()),
            ) {
                builder = builder.header(n, v);
            }
        }
        builder
            .body(body)
            .unwrap_or_else(|_| Response::new(Body::empty()))
    }
}

/// One request as the handlers see it (no Debug: headers hold tokens).
pub(crate) struct Req {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// `fail_lro` fault for this request: (HTTP status, ARM error object).
    pub fail_lro: Option<(u16, Value)>,
    /// `principal_delay` fault for this request (unscaled seconds).
    pub principal_delay_secs: Option<f64>,
}

impl Req {
    /// A query parameter (case-insensitive name).
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Is this a write?
    pub fn is_write(&self) -> bool {
        matches!(self.method.as_str(), "PUT" | "PATCH" | "DELETE" | "POST")
    }
}

/// Error that makes hyper close the connection without a response (`drop` fault).
#[derive(Debug)]
pub(crate) struct DroppedConnection;

impl std::fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DroppedConnection {}

#[derive(Clone)]
struct SandboxService(Arc<Shared>);

impl<B> tower_service::Service<Request<B>> for SandboxService
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response<Body>;
    type Error = DroppedConnection;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, DroppedConnection>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let shared = self.0.clone();
        Box::pin(async move { handle(shared, req.map(Body::new)).await })
    }
}

/// Start serving (see [`Sandbox::start`]).
pub(crate) async fn start(opts: SandboxOptions) -> Result<Sandbox, SandboxError> {
    let admin_token = check_options(&opts)?;
    let mut world = match &opts.state_file {
        Some(p) => World::load(p)?.unwrap_or_default(),
        None => World::default(),
    };
    super::graph::ensure_builtins(&mut world);
    let tls = super::tls::material(opts.state_file.as_deref())?;
    let rustls = RustlsConfig::from_pem(tls.cert_pem.into_bytes(), tls.key_pem.into_bytes())
        .await
        .map_err(|e| SandboxError::Tls(e.to_string()))?;
    let listener = std::net::TcpListener::bind(opts.listen).map_err(|e| SandboxError::Bind {
        addr: opts.listen,
        source: e,
    })?;
    let bind_err = |e| SandboxError::Bind {
        addr: opts.listen,
        source: e,
    };
    listener.set_nonblocking(true).map_err(bind_err)?;
    let addr: SocketAddr = listener.local_addr().map_err(bind_err)?;
    let shared = Arc::new(new_shared(&opts, world, &tls.ca_pem, addr, admin_token)?);
    if shared.state_file.is_some() {
        spawn_persister(&shared);
    }
    let handle = axum_server::Handle::new();
    let mut server = axum_server::from_tcp_rustls(listener, rustls)
        .map_err(bind_err)?
        .handle(handle.clone());
    server
        .http_builder()
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let service = SandboxService(shared.clone());
    let task = tokio::spawn(async move {
        if let Err(e) = server
            .serve(axum::ServiceExt::<Request<Body>>::into_make_service(
                service,
            ))
            .await
        {
            tracing::error!("sandbox server stopped: {e}");
        }
    });
    Ok(Sandbox {
        addr,
        ca_pem: tls.ca_pem,
        handle,
        shared,
        task: Some(task),
    })
}

/// Refuse options the sandbox cannot run with (a non-positive time scale, an
/// invalid fault plan, a non-loopback address without `allow_remote`, a short
/// admin token); return the admin token (a new random one when none is given).
fn check_options(opts: &SandboxOptions) -> Result<String, SandboxError> {
    if !(opts.time_scale.is_finite() && opts.time_scale > 0.0) {
        return Err(SandboxError::Options(format!(
            "time scale must be a positive number, got {}",
            opts.time_scale
        )));
    }
    if let Some(plan) = &opts.faults {
        plan.validate()?;
    }
    if !opts.listen.ip().is_loopback() && !opts.allow_remote {
        return Err(SandboxError::Options(format!(
            "{} is not a loopback address: anyone who can reach it could use the sandbox; pass --allow-remote to listen there anyway",
            opts.listen
        )));
    }
    let admin_token = match &opts.admin_token {
        Some(t) if t.len() >= 16 => t.clone(),
        Some(_) => {
            return Err(SandboxError::Options(
                "the admin token must have at least 16 characters".into(),
            ));
        }
        None => new_admin_token(),
    };
    Ok(admin_token)
}

/// The state shared by every request: the world, the default runtime
/// configuration, the journal, and an HTTP client trusting the sandbox's CA
/// (`ca_pem`) for `*-link` imports.
fn new_shared(
    opts: &SandboxOptions,
    world: World,
    ca_pem: &str,
    addr: SocketAddr,
    admin_token: String,
) -> Result<Shared, SandboxError> {
    Ok(Shared {
        world: Mutex::new(world),
        rt: Mutex::new(Runtime {
            config: Config {
                time_scale: opts.time_scale,
                token_lifetime_secs: 3600,
                principal_delay_secs: 60.0,
                graph_replication_delay_secs: DEFAULT_GRAPH_REPLICATION_DELAY_SECS,
                rbac_propagation_secs: DEFAULT_RBAC_PROPAGATION_SECS,
                client_id: super::DEFAULT_CLIENT_ID.to_string(),
                client_secret: super::DEFAULT_CLIENT_SECRET.to_string(),
            },
            faults: Engine::new(opts.faults.clone(), opts.seed),
            rate_window: 0,
            reads: 12000,
            writes: 1200,
        }),
        journal: Mutex::new(Journal::default()),
        state_file: opts.state_file.clone(),
        persist_lock: Mutex::new(()),
        dirty: tokio::sync::Notify::new(),
        persister: Mutex::new(None),
        base_url: format!("https://{addr}"),
        http: reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(ca_pem.as_bytes())
                    .map_err(|e| SandboxError::Tls(e.to_string()))?,
            )
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| SandboxError::Tls(e.to_string()))?,
        files: Mutex::new(std::collections::BTreeMap::new()),
        admin_token,
    })
}

/// Save the state now, then again 250 ms after each change (in the background).
fn spawn_persister(shared: &Arc<Shared>) {
    shared.persist_now();
    let s = shared.clone();
    let h = tokio::spawn(async move {
        loop {
            s.dirty.notified().await;
            tokio::time::sleep(Duration::from_millis(250)).await;
            let s2 = s.clone();
            let _ = tokio::task::spawn_blocking(move || s2.persist_now()).await;
        }
    });
    *lock(&shared.persister) = Some(h);
}

/// Serve one request: the admin API (behind its token), or a fault's injected
/// answer, or [`dispatch`]; add the common headers; journal the exchange.
async fn handle(
    shared: Arc<Shared>,
    req: Request<Body>,
) -> Result<Response<Body>, DroppedConnection> {
    let started = Instant::now();
    let start_ms = now_ms();
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_ascii_uppercase();
    let path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let path_and_query = if raw_query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{raw_query}")
    };
    let is_admin = path == "/_sandbox" || path.starts_with("/_sandbox/");
    let admin_ok = is_admin && admin_authorized(&shared, &parts.headers);
    if is_admin && !admin_ok && !super::admin::is_public(&method, &path) {
        // Refused before a byte of its body is read.
        return Ok(admin_refusal().into_response());
    }
    let bytes = match read_body(&shared, &parts.headers, body, admin_ok).await {
        Ok(b) => b,
        Err(reply) => return Ok(reply.into_response()),
    };
    if is_admin {
        let content_type = parts
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok());
        let reply = super::admin::handle(&shared, &method, &path, &raw_query, content_type, bytes);
        return Ok(reply.into_response());
    }

    let decision = shared.rt().faults.decide(&method, &path_and_query);
    if decision.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(decision.latency_ms)).await;
    }
    let exchange = Exchange {
        started,
        start_ms,
        method: &method,
        path: &path,
        path_and_query: &path_and_query,
        content_type: parts
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        bytes: &bytes,
        fired: &decision.fired,
    };
    if decision.drop && !decision.drop_after {
        lock(&shared.journal).push(exchange.journal_entry(None, None));
        return Err(DroppedConnection);
    }
    let is_graph = path.starts_with("/v1.0/") || path == "/v1.0";
    let is_arm = super::ids::parse(&path).is_some();
    let reply = if let Some(injected) = &decision.status {
        injected_reply(&shared, injected, is_graph)
    } else {
        let req = Req {
            method: method.clone(),
            path: path.clone(),
            query: journal::url_decode_pairs(&raw_query),
            headers: parts.headers.clone(),
            body: bytes.clone(),
            fail_lro: decision.fail_lro.clone(),
            principal_delay_secs: decision.principal_delay_secs,
        };
        dispatch(&shared, &req).await
    };
    let (reply, correlation) =
        common_headers(&shared, reply, &parts.headers, &method, is_arm, is_graph);
    if decision.drop {
        // Served, but the client never sees the answer.
        lock(&shared.journal).push(exchange.journal_entry(None, Some(correlation)));
        return Err(DroppedConnection);
    }
    lock(&shared.journal).push(exchange.journal_entry(Some(reply.status), Some(correlation)));
    Ok(reply.into_response())
}

/// What the journal records of one ARM/Graph/token request.
struct Exchange<'a> {
    /// When the request arrived (for its duration).
    started: Instant,
    /// When the request arrived (epoch ms, for its time).
    start_ms: u64,
    /// The method, upper case.
    method: &'a str,
    /// The path without query (decides what is redacted).
    path: &'a str,
    /// The path with its query, as journaled.
    path_and_query: &'a str,
    /// The request's `content-type`.
    content_type: Option<String>,
    /// The request body.
    bytes: &'a Bytes,
    /// The faults that fired on it.
    fired: &'a [String],
}

impl Exchange<'_> {
    /// The journal entry of the exchange (body redacted), with the reply's status
    /// (`None` when the connection was dropped) and correlation ID.
    fn journal_entry(&self, status: Option<u16>, correlation: Option<String>) -> Entry {
        let sent = journal::body_value(self.bytes, self.content_type.as_deref());
        let redacted = journal::redact(&sent, self.path);
        Entry {
            seq: 0,
            time: rfc3339(self.start_ms),
            method: self.method.to_string(),
            path: self.path_and_query.to_string(),
            status,
            duration_ms: self.started.elapsed().as_millis() as u64,
            unredacted_body: (redacted != sent).then_some(sent),
            request_body: redacted,
            correlation_id: correlation,
            faults: self.fired.to_vec(),
        }
    }
}

/// The error a fault injects instead of serving the request (Graph or ARM error
/// body), with `Retry-After` when the fault gives one.
fn injected_reply(
    shared: &Shared,
    (status, code, message, retry): &(u16, String, String, Option<f64>),
    is_graph: bool,
) -> Reply {
    let mut r = if is_graph {
        Reply::json(*status, super::graph::error_body(code, message))
    } else {
        Reply::arm_error(*status, code, message.clone())
    };
    if let Some(secs) = retry {
        let ms = shared.scaled_ms(*secs);
        r = retry_headers(r, ms);
    }
    r
}

/// Add the headers Azure puts on every answer: request and correlation IDs,
/// `cache-control`, ARM's remaining rate limit, Graph's request IDs. Returns the
/// reply and its correlation ID.
fn common_headers(
    shared: &Shared,
    mut reply: Reply,
    headers: &HeaderMap,
    method: &str,
    is_arm: bool,
    is_graph: bool,
) -> (Reply, String) {
    let request_id = uuid::Uuid::new_v4().to_string();
    let correlation = headers
        .get("x-ms-correlation-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    reply = reply
        .header("x-ms-request-id", request_id.clone())
        .header("x-ms-correlation-request-id", correlation.clone())
        .header("cache-control", "no-cache");
    if is_arm {
        let write = matches!(method, "PUT" | "PATCH" | "DELETE" | "POST");
        let (reads, writes) = shared.rate_headers(write);
        reply = if write {
            reply.header(
                "x-ms-ratelimit-remaining-subscription-writes",
                writes.to_string(),
            )
        } else {
            reply.header(
                "x-ms-ratelimit-remaining-subscription-reads",
                reads.to_string(),
            )
        };
    }
    if is_graph {
        let client = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| request_id.clone());
        reply = reply
            .header("request-id", request_id)
            .header("client-request-id", client);
    }
    (reply, correlation)
}

/// A random 256-bit admin token (hex).
fn new_admin_token() -> String {
    rand::random::<[u8; 32]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether the request carries the admin token (`Authorization: Bearer TOKEN`),
/// compared in constant time.
fn admin_authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(given) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
    else {
        return false;
    };
    let want = shared.admin_token.as_bytes();
    let given = given.trim().as_bytes();
    given.len() == want.len()
        && given
            .iter()
            .zip(want)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The 401 answer of the admin API without its token.
fn admin_refusal() -> Reply {
    Reply::json(
        401,
        json!({"error": {"code": "AdminTokenRequired", "message": "The sandbox admin API needs 'Authorization: Bearer TOKEN' with the admin token the sandbox printed at start (also in its --admin-token-file)."}}),
    )
    .header("WWW-Authenticate", "Bearer realm=\"owui-sandbox-admin\"")
}

/// Read the body within the size and time bounds: [`MAX_BODY`] for a request with the
/// admin token or a token the sandbox issued, else [`MAX_UNAUTHENTICATED_BODY`]. A
/// declared `Content-Length` above the bound is refused before any byte is read.
async fn read_body(
    shared: &Shared,
    headers: &HeaderMap,
    body: Body,
    admin_ok: bool,
) -> Result<Bytes, Reply> {
    let authenticated = admin_ok || {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
        auth.is_some() && super::token::is_issued(&shared.world(), auth)
    };
    let limit = if authenticated {
        MAX_BODY
    } else {
        MAX_UNAUTHENTICATED_BODY
    };
    let too_large = || {
        Reply::arm_error(
            413,
            "RequestEntityTooLarge",
            format!(
                "The request body is larger than the {limit} bytes the sandbox accepts{}.",
                if authenticated {
                    ""
                } else {
                    " without a valid token"
                }
            ),
        )
        .header("connection", "close")
    };
    let declared = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(BODY_READ_TIMEOUT, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(_)) => Err(too_large()),
        Err(_) => Err(Reply::arm_error(
            408,
            "RequestTimeout",
            "The request body was not received in time.",
        )
        .header("connection", "close")),
    }
}

/// Add `Retry-After` (whole seconds, rounded up) and the millisecond variants.
pub(crate) fn retry_headers(r: Reply, ms: u64) -> Reply {
    let secs = ms.div_ceil(1000);
    r.header("Retry-After", secs.to_string())
        .header("retry-after-ms", ms.to_string())
        .header("x-ms-retry-after-ms", ms.to_string())
}

async fn dispatch(shared: &Arc<Shared>, req: &Req) -> Reply {
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() == 4
        && segs[1].eq_ignore_ascii_case("oauth2")
        && segs[2] == "v2.0"
        && segs[3] == "token"
    {
        if req.method != "POST" {
            return Reply::arm_error(
                405,
                "MethodNotAllowed",
                "The token endpoint only accepts POST.",
            );
        }
        let form = journal::url_decode_pairs(&String::from_utf8_lossy(&req.body));
        return super::token::issue(shared, segs[0], &form);
    }
    if segs.first() == Some(&"v1.0") {
        return super::graph::handle(shared, req);
    }
    if segs == ["api", "retail", "prices"] {
        return super::retail_prices::handle(shared, req);
    }
    if super::logs::is_logs_path(&req.path) {
        return super::logs::handle(shared, req);
    }
    if super::ids::parse(&req.path).is_some() || super::arm::is_provider_path(&req.path) {
        return super::arm::handle(shared, req).await;
    }
    Reply::arm_error(
        404,
        "NotFound",
        format!("The sandbox does not serve '{} {}'.", req.method, req.path),
    )
}

/// Answer for an unparsable or non-object JSON body.
pub(crate) fn invalid_content(detail: &str) -> Reply {
    Reply::arm_error(
        400,
        "InvalidRequestContent",
        format!("The request content was invalid and could not be deserialized: '{detail}'."),
    )
}

/// Parse a JSON object body (empty = `{}`).
pub(crate) fn json_object(body: &[u8]) -> Result<Value, Reply> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(invalid_content("The request body must be a JSON object.")),
        Err(e) => Err(invalid_content(&e.to_string())),
    }
}

/// Wait helper used by synchronous types with a realistic duration.
pub(crate) async fn sleep_ms(ms: u64) {
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

/// Replace the faults (admin API and tests).
pub(crate) fn set_faults(shared: &Shared, plan: FaultPlan, append: bool) {
    shared.rt().faults.set(plan, append);
}

#[cfg(test)]
impl Reply {
    /// The JSON body, if the reply has one (for unit tests).
    pub(crate) fn json_body(&self) -> Option<&Value> {
        match &self.payload {
            Payload::Json(v) => Some(v),
            _ => None,
        }
    }
}
