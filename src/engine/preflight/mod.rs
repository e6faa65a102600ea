//! Preflight: what Azure would refuse, found with read-only calls before the
//! first write. Names (`checkNameAvailability`, `checkDomainAvailability`),
//! soft-deleted names, the region's model catalog and quota, resource provider
//! registration, the caller's permissions, and what Microsoft Graph lets us
//! check without writing.
//!
//! Every call runs at once (bounded by the parallelism and a per-call timeout);
//! a call that fails makes its check *unverified*, never *passed*.

mod access;
mod calls;
mod models;
mod names;
mod render;
mod targets;

use super::azure_backend::AzureBackend;
use super::model::Model;
use calls::Calls;
use serde::Serialize;
use std::time::{Duration, Instant};

pub use render::{render_human, render_markdown, report_json};
pub use targets::Targets;

/// Version of the JSON document (`docs/schemas/preflight.v1.schema.json`).
pub const SCHEMA_VERSION: u32 = 1;

/// Which check a finding belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// A globally unique name is free (or held by this environment).
    Name,
    /// No soft-deleted resource holds a configured name.
    SoftDeleted,
    /// The region offers the model, version and SKU.
    Model,
    /// The region's quota has room for the deployments.
    Quota,
    /// The resource provider is registered.
    Provider,
    /// The caller may do what the plan does.
    Permission,
    /// Microsoft Graph.
    Graph,
}

impl CheckKind {
    /// The name people read.
    pub fn title(self) -> &'static str {
        match self {
            CheckKind::Name => "name",
            CheckKind::SoftDeleted => "soft-deleted name",
            CheckKind::Model => "model",
            CheckKind::Quota => "quota",
            CheckKind::Provider => "resource provider",
            CheckKind::Permission => "permission",
            CheckKind::Graph => "Microsoft Graph",
        }
    }
}

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Azure would accept it.
    Passed,
    /// Azure would refuse it.
    Failed,
    /// It could not be checked (no read-only way, or the call failed).
    Unverified,
}

/// One checked thing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The check.
    pub check: CheckKind,
    /// The resource (label and name, or namespace, scope, model).
    pub resource: String,
    /// Outcome.
    pub status: Status,
    /// What was found.
    pub message: String,
    /// What to do (failed and unverified findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
}

impl Finding {
    fn new(check: CheckKind, resource: impl Into<String>, status: Status, message: String) -> Self {
        Finding {
            check,
            resource: resource.into(),
            status,
            message,
            remedy: None,
        }
    }

    fn passed(check: CheckKind, resource: impl Into<String>, message: String) -> Self {
        Self::new(check, resource, Status::Passed, message)
    }

    fn failed(
        check: CheckKind,
        resource: impl Into<String>,
        message: String,
        remedy: String,
    ) -> Self {
        Self::new(check, resource, Status::Failed, message).with_remedy(remedy)
    }

    fn unverified(check: CheckKind, resource: impl Into<String>, message: String) -> Self {
        Self::new(check, resource, Status::Unverified, message)
    }

    fn with_remedy(mut self, remedy: String) -> Self {
        self.remedy = Some(remedy);
        self
    }
}

/// How to run the preflight.
#[derive(Debug, Clone)]
pub struct PreflightOptions {
    /// Requests in flight at once.
    pub parallelism: usize,
    /// Register missing resource providers (a write).
    pub register_providers: bool,
    /// Upper bound on each call.
    pub call_timeout: Duration,
}

impl Default for PreflightOptions {
    fn default() -> Self {
        PreflightOptions {
            parallelism: 16,
            register_providers: false,
            call_timeout: Duration::from_secs(30),
        }
    }
}

/// The preflight's result.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Every finding, failed first.
    pub findings: Vec<Finding>,
    /// HTTP round-trips made.
    pub round_trips: usize,
    /// Wall-clock time.
    #[serde(skip)]
    pub elapsed: Duration,
}

impl Report {
    /// The findings that stop a deployment.
    pub fn failures(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.status == Status::Failed)
    }

    /// True when nothing failed.
    pub fn passed(&self) -> bool {
        self.failures().next().is_none()
    }

    /// How many findings have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }
}

/// Run every check for `model` at once.
pub async fn run(backend: &AzureBackend, model: &Model, opts: &PreflightOptions) -> Report {
    let started = Instant::now();
    let targets = Targets::from_model(model);
    let calls = Calls::new(backend, opts);
    let (names, soft, models, providers, permissions, graph) = tokio::join!(
        names::check_names(&calls, &targets),
        names::check_soft_deleted(&calls, &targets),
        models::check_models(&calls, &targets),
        access::check_providers(&calls, &targets, opts.register_providers),
        access::check_permissions(&calls, &targets),
        access::check_graph(&calls, &targets),
    );
    let mut findings: Vec<Finding> = [names, soft, models, providers, permissions, graph]
        .into_iter()
        .flatten()
        .collect();
    findings.sort_by_key(|f| {
        (
            match f.status {
                Status::Failed => 0,
                Status::Unverified => 1,
                Status::Passed => 2,
            },
            f.check,
        )
    });
    Report {
        findings,
        round_trips: calls.round_trips(),
        elapsed: started.elapsed(),
    }
}
