//! The preflight's calls: each bounded by a semaphore (the parallelism) and a
//! timeout, and counted.

use super::PreflightOptions;
use crate::azure::{AzureError, NoopObserver, api_versions::operation_api_version};
use crate::engine::azure_backend::AzureBackend;
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Why a call gave no answer.
#[derive(Debug)]
pub(super) enum CallError {
    /// Azure answered with an error.
    Azure(AzureError),
    /// No answer within the timeout.
    Timeout(Duration),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Azure(e) => write!(f, "{e}"),
            CallError::Timeout(d) => write!(f, "no answer within {}s", d.as_secs()),
        }
    }
}

impl CallError {
    /// True for a 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, CallError::Azure(e) if e.is_not_found())
    }
}

/// Bounded, counted access to ARM and Graph.
pub(super) struct Calls<'a> {
    backend: &'a AzureBackend,
    limit: Semaphore,
    timeout: Duration,
    count: AtomicUsize,
}

impl<'a> Calls<'a> {
    /// Calls through `backend`'s clients, bounded as `opts` says.
    pub fn new(backend: &'a AzureBackend, opts: &PreflightOptions) -> Self {
        Calls {
            backend,
            limit: Semaphore::new(opts.parallelism.max(1)),
            timeout: opts.call_timeout,
            count: AtomicUsize::new(0),
        }
    }

    /// Requests made so far.
    pub fn round_trips(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, AzureError>>,
    ) -> Result<T, CallError> {
        let _permit = self.limit.acquire().await;
        self.count.fetch_add(1, Ordering::Relaxed);
        match tokio::time::timeout(self.timeout, call).await {
            Ok(r) => r.map_err(CallError::Azure),
            Err(_) => Err(CallError::Timeout(self.timeout)),
        }
    }

    /// The API version of `operation` (from the single table).
    pub fn version(operation: &str) -> &'static str {
        operation_api_version(operation).unwrap_or("2025-04-01")
    }

    /// GET an ARM path; `None` on 404.
    pub async fn get(&self, path: &str, api_version: &str) -> Result<Option<Value>, CallError> {
        self.bounded(self.backend.arm.get(path, api_version)).await
    }

    /// GET an ARM collection (every page).
    pub async fn list(&self, path: &str, api_version: &str) -> Result<Vec<Value>, CallError> {
        self.bounded(self.backend.arm.list(path, api_version, &[]))
            .await
    }

    /// POST an ARM action with a body.
    pub async fn post(
        &self,
        path: &str,
        api_version: &str,
        body: &Value,
    ) -> Result<Option<Value>, CallError> {
        self.bounded(
            self.backend
                .arm
                .post(path, api_version, Some(body), &NoopObserver),
        )
        .await
    }

    /// POST an ARM action without a body.
    pub async fn post_empty(
        &self,
        path: &str,
        api_version: &str,
    ) -> Result<Option<Value>, CallError> {
        self.bounded(
            self.backend
                .arm
                .post(path, api_version, None, &NoopObserver),
        )
        .await
    }

    /// GET a Graph path (relative to `/v1.0`); `None` on 404.
    pub async fn graph_get(&self, path: &str) -> Result<Option<Value>, CallError> {
        self.bounded(self.backend.graph.get(path)).await
    }
}
