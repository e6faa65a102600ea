//! What the engine needs from Azure: read, write, delete and list resources.
//!
//! [`crate::engine::AzureBackend`] implements it over the ARM and Graph clients;
//! tests implement it in memory. The engine never talks HTTP itself.

use super::model::Discovery;
use super::resource::{Address, Api};
use async_trait::async_trait;
use serde_json::{Map, Value};
use std::fmt;
use std::time::Duration;

/// Receives progress of one long-running write or delete.
pub trait Observer: Send + Sync {
    /// The operation was polled and reported `status` after `elapsed`.
    fn polled(&self, status: &str, elapsed: Duration);
    /// A request is retried after `delay` because of `reason` (429, 503, ...).
    fn retrying(&self, reason: &str, delay: Duration);
}

/// An observer that ignores everything.
pub struct NoObserver;

impl Observer for NoObserver {
    fn polled(&self, _status: &str, _elapsed: Duration) {}
    fn retrying(&self, _reason: &str, _delay: Duration) {}
}

/// A resource found by a [`Discovery`]: a candidate for deletion.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveredResource {
    /// Its address (ARM ID).
    pub address: Address,
    /// How to manage it; `None` when the backend knows no API version for its type
    /// (the plan then warns and leaves it alone).
    pub api: Option<Api>,
    /// Its tags, when the listing returned them.
    pub tags: Option<Map<String, Value>>,
}

/// An error from the backend: the Azure error (with ARM code, message and request
/// ID in its Display) plus the code and HTTP status the engine acts on.
pub struct BackendError {
    code: Option<String>,
    status: Option<u16>,
    propagation: Option<&'static str>,
    inner: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl BackendError {
    /// Wraps `err`, recording the service's error `code` and HTTP `status`.
    pub fn new<E>(err: E, code: Option<String>, status: Option<u16>) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        BackendError {
            code,
            status,
            propagation: None,
            inner: Box::new(err),
        }
    }

    /// Marks the error as Azure making an earlier write visible late (a replication
    /// or role propagation delay), with the reason shown while the write is retried.
    pub fn with_propagation_delay(mut self, reason: Option<&'static str>) -> Self {
        self.propagation = reason;
        self
    }

    /// Why the write may succeed when retried a little later (Graph replication,
    /// data-plane role propagation), when it is such a delay.
    pub fn propagation_delay(&self) -> Option<&'static str> {
        self.propagation
    }

    /// An error that did not come from the service (e.g. an unsupported address).
    pub fn other(message: impl Into<String>) -> Self {
        BackendError::new(Message(message.into()), None, None)
    }

    /// The service's error code, e.g. `PrincipalNotFound`.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The HTTP status, when the error came from a response.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The wrapped error (downcast it to `azure::AzureError` for details).
    pub fn inner(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.inner.as_ref()
    }

    /// Whether the error has `code` (compared case-insensitively).
    pub fn is_code(&self, code: &str) -> bool {
        self.code().is_some_and(|c| c.eq_ignore_ascii_case(code))
    }
}

impl fmt::Debug for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendError")
            .field("code", &self.code)
            .field("status", &self.status)
            .field("propagation", &self.propagation)
            .field("inner", &self.inner)
            .finish()
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl std::error::Error for BackendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}

/// The operations the engine performs on Azure. Addresses passed here never
/// contain markers (the engine resolves them first); bodies contain no markers
/// either (references and secrets are substituted).
#[async_trait]
pub trait Backend: Send + Sync {
    /// The live representation of a resource, `None` when it does not exist.
    async fn read(&self, address: &Address, api: &Api) -> Result<Option<Value>, BackendError>;

    /// Creates or updates a resource with `body`, waiting for a long-running
    /// operation to finish; returns the final live representation.
    async fn write(
        &self,
        address: &Address,
        api: &Api,
        body: &Value,
        observer: &dyn Observer,
    ) -> Result<Value, BackendError>;

    /// Deletes a resource, waiting for a long-running operation to finish.
    /// Deleting something that does not exist succeeds.
    async fn delete(
        &self,
        address: &Address,
        api: &Api,
        observer: &dyn Observer,
    ) -> Result<(), BackendError>;

    /// An existing resource equivalent to `body` under another address, for
    /// types where Azure forbids duplicates under different names (role
    /// assignments: same scope, role and principal). The plan treats it as
    /// already done. Types without that notion return `Ok(None)` (the default).
    async fn find_equivalent(
        &self,
        address: &Address,
        api: &Api,
        body: &Value,
    ) -> Result<Option<Value>, BackendError> {
        let _ = (address, api, body);
        Ok(None)
    }

    /// Invokes an ARM action (POST `{address}/{action}`, e.g. `listKeys`) and
    /// returns its result. Used for secrets fetched during an apply.
    async fn action(
        &self,
        address: &Address,
        api_version: &str,
        action: &str,
    ) -> Result<Value, BackendError>;

    /// Sends an ARM PATCH of `body` to `address` and returns the answer (used
    /// for the environment lock, a tag at subscription scope). Backends without
    /// it refuse.
    async fn patch(
        &self,
        address: &Address,
        api_version: &str,
        body: &Value,
    ) -> Result<Value, BackendError> {
        let _ = (api_version, body);
        Err(BackendError::other(format!(
            "PATCH {address} is not supported here"
        )))
    }

    /// Lists the resources a discovery covers (for `Tagged`, only those carrying
    /// the environment's ownership tag).
    async fn list(&self, discovery: &Discovery) -> Result<Vec<DiscoveredResource>, BackendError>;
}
