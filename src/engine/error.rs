//! Engine errors: always naming the resource (label and address) and carrying
//! the Azure error (ARM code, message, request ID) inside.

use super::apply::ApplyReport;
use super::backend::BackendError;
use super::resource::{Address, Stage, readable_text};
use std::fmt;

/// What the engine was doing when a backend call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Reading the live state (plan, or fingerprint check).
    Read,
    /// Creating or updating.
    Write,
    /// Deleting.
    Delete,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Read => "reading",
            Operation::Write => "writing",
            Operation::Delete => "deleting",
        })
    }
}

/// A resource whose live state no longer matches the plan's fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleResource {
    /// Its address.
    pub address: Address,
    /// Its label.
    pub label: String,
    /// What differs (e.g. `etag changed`, `now exists`, `was deleted`).
    pub reason: String,
}

/// Errors of model validation, planning and applying.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Two resources of the model have the same address.
    #[error("{label}: the address {} appears twice in the model", address.readable())]
    DuplicateResource {
        /// The address.
        address: Address,
        /// Label of the second occurrence.
        label: String,
    },
    /// A dependency (explicit or a reference) names a resource not in the model.
    #[error(
        "{label} ({}) depends on {}, which is not part of the model",
        address.readable(),
        missing.readable()
    )]
    UnknownDependency {
        /// The dependent resource.
        address: Address,
        /// Its label.
        label: String,
        /// The missing dependency.
        missing: Address,
    },
    /// The dependency graph has a cycle.
    #[error("dependency cycle: {}", cycle.join(" -> "))]
    Cycle {
        /// Labels along the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// A data resource (deployed by an earlier stage) does not exist.
    #[error(
        "{label} ({}) does not exist: it is deployed by the `{stage}` stage; run `owui-deploy {stage}` first (needed by: {})",
        address.readable(),
        needed_by.join(", ")
    )]
    MissingPrerequisite {
        /// The missing resource.
        address: Address,
        /// Its label.
        label: String,
        /// The stage that deploys it.
        stage: Stage,
        /// Labels of the resources that need it.
        needed_by: Vec<String>,
    },
    /// A backend call failed.
    #[error("{operation} {label} ({}) failed: {source}", address.readable())]
    Resource {
        /// The resource.
        address: Address,
        /// Its label.
        label: String,
        /// What was being done.
        operation: Operation,
        /// The Azure error (ARM code, message, request ID).
        #[source]
        source: BackendError,
    },
    /// Listing owned resources failed.
    #[error("looking for {discovery} failed: {source}")]
    Discovery {
        /// What was being listed.
        discovery: String,
        /// The Azure error.
        #[source]
        source: BackendError,
    },
    /// A reference cannot be resolved.
    #[error(
        "{label} ({}): cannot resolve {}: {reason}",
        address.readable(),
        readable_text(reference)
    )]
    UnresolvedReference {
        /// The resource whose body holds the reference.
        address: Address,
        /// Its label.
        label: String,
        /// The reference (shown through [`readable_text`]).
        reference: String,
        /// Why.
        reason: String,
    },
    /// A secret named in a body is not in the secret store.
    #[error(
        "{label} ({}) needs the secret `{name}`, which was not provided",
        address.readable()
    )]
    MissingSecret {
        /// The resource.
        address: Address,
        /// Its label.
        label: String,
        /// The secret's name (never its value).
        name: String,
    },
    /// A secret fetched by an action (e.g. a storage key from `listKeys`) could not be had.
    #[error("{label} ({}) needs the secret `{name}`: {reason}", address.readable())]
    SecretUnavailable {
        /// The resource needing it.
        address: Address,
        /// Its label.
        label: String,
        /// The secret's name (never its value).
        name: String,
        /// Why (the action's error).
        reason: String,
    },
    /// A large value the plan refers to by digest is not available.
    #[error(
        "{label} ({}): the plan refers to content {digest} that is not available; re-create the plan",
        address.readable()
    )]
    MissingBlob {
        /// The resource.
        address: Address,
        /// Its label.
        label: String,
        /// `sha256:...` of the content.
        digest: String,
    },
    /// The live state changed since the plan was made.
    #[error("the plan is stale: {}", stale.iter().map(|s| format!("{} ({}): {}", s.label, s.address.readable(), s.reason)).collect::<Vec<_>>().join("; "))]
    StalePlan {
        /// Every resource that differs.
        stale: Vec<StaleResource>,
    },
    /// One or more resources failed during apply; independent ones finished.
    #[error("{} resource(s) failed:\n{}", failures.len(), failures.iter().map(|f| format!("  - {f}")).collect::<Vec<_>>().join("\n"))]
    ApplyFailed {
        /// Every failure, in plan order.
        failures: Vec<EngineError>,
        /// What happened to every change.
        report: ApplyReport,
    },
    /// Apply was cancelled (Ctrl-C): no new work was started, polling stopped.
    #[error("cancelled: {} change(s) finished before the interruption; re-run to converge", report.finished())]
    Cancelled {
        /// What finished before the cancellation.
        report: ApplyReport,
    },
}

impl EngineError {
    /// The backend error inside, if any.
    pub fn backend_error(&self) -> Option<&BackendError> {
        match self {
            EngineError::Resource { source, .. } | EngineError::Discovery { source, .. } => {
                Some(source)
            }
            _ => None,
        }
    }
}
