//! Client settings (retries, LRO timeout, user agent) and the observer of slow operations.

use std::time::Duration;

/// The tool's user agent product token, `owui-deploy/VERSION`. `azure_core`'s
/// `UserAgentPolicy` sends it as `azsdk-rust-owui-deploy/VERSION (rustc; os; arch)`,
/// preceded by [`ClientSettings::user_agent_suffix`] when one is set.
pub const USER_AGENT: &str = concat!("owui-deploy/", env!("CARGO_PKG_VERSION"));

/// Retry and long-running-operation settings of [`super::ArmClient`] and [`super::GraphClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    /// Retries after the first attempt (429, 408, 500, 502, 503, 504, broken connections).
    pub max_retries: u32,
    /// Bound on the time one request may spend retrying, waits included.
    pub max_retry_time: Duration,
    /// First backoff delay; doubled per retry, plus up to 256 ms of jitter (`azure_core`).
    pub initial_retry_delay: Duration,
    /// Cap of one backoff delay (`azure_core` never goes below 1 s here).
    pub max_retry_delay: Duration,
    /// Bound on the time one long-running operation may take, polls included.
    pub lro_timeout: Duration,
    /// Extra user agent token (an RFC 9110 token of at most 24 characters, e.g. `ci-nightly`),
    /// sent by `azure_core` as the application ID, before the SDK part.
    pub user_agent_suffix: Option<String>,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            max_retries: 8,
            max_retry_time: Duration::from_secs(600),
            initial_retry_delay: Duration::from_millis(800),
            max_retry_delay: Duration::from_secs(60),
            lro_timeout: Duration::from_secs(2 * 3600),
            user_agent_suffix: None,
        }
    }
}

/// Receives progress of a request: each poll of a long-running operation and each retry.
pub trait LroObserver: Send + Sync {
    /// A poll returned `status` (`InProgress`, `Succeeded`, a provisioning state...),
    /// `elapsed` since the operation started.
    fn polled(&self, status: &str, elapsed: Duration);
    /// A request is retried after `delay` (at least; `azure_core` adds jitter) because of
    /// `reason` (`429 Too Many Requests`, `connection error: ...`).
    fn retrying(&self, reason: &str, delay: Duration) {
        let _ = (reason, delay);
    }
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopObserver;

impl LroObserver for NoopObserver {
    fn polled(&self, _status: &str, _elapsed: Duration) {}
}
