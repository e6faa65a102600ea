//! The deployment engine: dependency graph, plan/diff, parallel apply, progress events.
//!
//! Terraform-like: [`plan`] reads every resource of a [`Model`] concurrently and
//! produces a serialisable [`Plan`] (no writes); [`apply`] executes exactly that
//! plan over the dependency graph. Azure is reached through a [`Backend`]
//! ([`AzureBackend`] for ARM and Graph). [`cost`] estimates the monthly cost of a plan
//! from the meters of [`meters::METER_TABLE`] and the Azure Retail Prices API.

pub mod apply;
pub mod azure_backend;
pub mod backend;
pub mod cost;
pub mod cost_render;
pub mod diff;
pub mod error;
pub mod events;
pub mod meters;
pub mod model;
pub mod openapi;
pub mod plan;
pub mod plan_check;
pub mod preflight;
pub mod render;
pub mod resource;
pub mod secrets;
pub mod tags;
pub mod xml;

/// Re-exported so the CLI reaches Azure through the engine only.
pub use crate::azure::pricing::{PriceCache, PriceClient};
pub use crate::azure::{AuthMethod, AzureError, ClientSettings, Endpoints, LogsClient, LogsTable};
pub use apply::{ApplyOptions, ApplyReport, Outcome, ROLE_ASSIGNMENT_TYPE, apply};
pub use azure_backend::{AzureBackend, connect, connect_logs};
pub use backend::{Backend, BackendError, DiscoveredResource, NoObserver, Observer};
pub use cost::{CostEstimate, CostReport, PriceSource};
pub use cost_render::{cost_json, render_cost_human, render_cost_markdown};
pub use diff::{DiffValue, PropertyDiff};
pub use error::{EngineError, Operation, StaleResource};
pub use events::{CancelToken, Event, EventSink};
pub use meters::Assumptions;
pub use model::{Discovery, Edge, Model, OWNER_TAG};
pub use plan::{
    Action, Change, DEFAULT_PARALLELISM, Fingerprint, Plan, PlanOptions, Summary, plan, verify_plan,
};
pub use render::{
    plan_json, render_graph_dot, render_graph_mermaid, render_plan_brief, render_plan_human,
    render_plan_markdown,
};
pub use resource::*;
pub use secrets::{SecretAction, Secrets, percent_encode};
pub use tags::MANAGED_TAGS_TAG;
