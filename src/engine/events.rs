//! Progress events of an apply, a cheap cloneable sink for them, and the
//! cancellation token. The engine never prints: the CLI renders events.

use super::plan::Action;
use super::resource::Address;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// One progress event. Serialized as one JSON object per line with a tag
/// `"event"` (see docs/json-output.md); durations are in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Work on a resource started.
    Started {
        /// The resource.
        address: Address,
        /// Its label.
        label: String,
        /// What is being done.
        action: Action,
        /// Wall-clock start, RFC 3339 UTC.
        at: String,
    },
    /// A long-running operation was polled.
    Polled {
        /// The resource.
        address: Address,
        /// The operation's status, e.g. `InProgress`.
        status: String,
        /// Time since the operation started.
        #[serde(rename = "elapsed_ms", with = "millis")]
        elapsed: Duration,
    },
    /// A request is retried after a delay.
    Retrying {
        /// The resource.
        address: Address,
        /// Why (e.g. `429 Too Many Requests`, `PrincipalNotFound`).
        reason: String,
        /// Wait before the retry.
        #[serde(rename = "delay_ms", with = "millis")]
        delay: Duration,
    },
    /// Work on a resource finished successfully.
    Succeeded {
        /// The resource.
        address: Address,
        /// Its label.
        label: String,
        /// What was done.
        action: Action,
        /// Duration of the work.
        #[serde(rename = "elapsed_ms", with = "millis")]
        elapsed: Duration,
        /// A remark, e.g. that a role assignment already existed under another name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Work on a resource failed.
    Failed {
        /// The resource.
        address: Address,
        /// Its label.
        label: String,
        /// The error (with ARM code and request ID).
        error: String,
    },
    /// A resource was not attempted because something it depends on failed.
    Skipped {
        /// The resource.
        address: Address,
        /// Its label.
        label: String,
        /// The failed resource that caused the skip.
        because: Address,
    },
}

pub(crate) mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// Where events go: a cheap cloneable callback.
#[derive(Clone)]
pub struct EventSink {
    f: Arc<dyn Fn(Event) + Send + Sync>,
}

impl fmt::Debug for EventSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EventSink")
    }
}

impl EventSink {
    /// A sink calling `f` for every event (from any task; keep it quick).
    pub fn new(f: impl Fn(Event) + Send + Sync + 'static) -> Self {
        EventSink { f: Arc::new(f) }
    }

    /// A sink feeding an unbounded channel, and the receiving end.
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            EventSink::new(move |e| {
                // A closed receiver means nobody listens any more: dropping is fine.
                let _ = tx.send(e);
            }),
            rx,
        )
    }

    /// A sink that drops every event.
    pub fn discard() -> Self {
        EventSink::new(|_| {})
    }

    /// Sends one event.
    pub fn emit(&self, event: Event) {
        (self.f)(event)
    }
}

/// Cancellation signal shared by the CLI (Ctrl-C) and the executor.
#[derive(Clone, Debug)]
pub struct CancelToken {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken::new()
    }
}

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        let (tx, _rx) = watch::channel(false);
        CancelToken { tx: Arc::new(tx) }
    }

    /// Requests cancellation (idempotent).
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }

    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        *self.tx.borrow()
    }

    /// Completes once cancellation is requested.
    pub async fn cancelled(&self) {
        let mut rx = self.tx.subscribe();
        // `wait_for` checks the current value first; an error means the sender
        // was dropped, which cannot happen while `self` holds it.
        let _ = rx.wait_for(|c| *c).await;
    }
}

/// Current time as RFC 3339 UTC.
pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
