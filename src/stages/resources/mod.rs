//! Typed request bodies, one file per resource type. Each file holds the serde
//! structs of the body ARM (or Graph) expects and a builder returning a
//! [`crate::engine::ResourceSpec`]. Its API version comes from the single table
//! in [`crate::azure::api_versions`].
//!
//! Every builder has the shape `spec(at: Placement, body: &Body) -> Result<ResourceSpec, StageError>`:
//! the stage decides the address, label, stage and explicit dependencies
//! ([`Placement`]); the file decides the type, API version, comparison rules and
//! whether the type takes tags.

pub mod api_management;
pub mod apim_api;
pub mod apim_backend;
pub mod apim_diagnostic;
pub mod apim_logger;
pub mod apim_named_value;
pub mod apim_policy;
pub mod apim_product;
pub mod apim_product_api;
pub mod app_gateway;
pub mod app_insights;
pub mod cognitive_account;
pub mod container_app;
pub mod diagnostic_setting;
pub mod dns_record;
pub mod file_share;
pub mod graph_application;
pub mod graph_permission_grant;
pub mod graph_service_principal;
pub mod key_vault;
pub mod key_vault_secret;
pub mod log_analytics_workspace;
pub mod managed_environment;
pub mod managed_environment_certificate;
pub mod managed_environment_storage;
pub mod model_deployment;
pub mod network_security_group;
pub mod postgres_configuration;
pub mod postgres_database;
pub mod postgres_server;
pub mod private_dns_zone;
pub mod private_dns_zone_group;
pub mod private_dns_zone_link;
pub mod private_endpoint;
pub mod public_ip;
pub mod redis_database;
pub mod redis_enterprise;
pub mod resource_group;
pub mod role_assignment;
pub mod route_table;
pub mod storage_account;
pub mod user_assigned_identity;
pub mod virtual_network;
pub mod virtual_network_peering;
pub mod waf_policy;
pub mod workbook;

use crate::azure::api_versions::api_version;
use crate::engine::{Address, Api, DiffRules, Input, Mode, ResourceSpec, Stage};
use crate::stages::StageError;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Resource tags (`env.tags` plus `owui-deploy-env`).
pub type Tags = BTreeMap<String, String>;

/// A reference to another ARM resource by ID: `{"id": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubResource {
    /// The resource ID (known, or a reference to a value Azure assigns).
    pub id: Input<String>,
}

impl SubResource {
    /// A sub-resource with a known ID.
    pub fn new(id: impl Into<String>) -> Self {
        SubResource {
            id: Input::Known(id.into()),
        }
    }
}

/// An empty JSON object `{}` (e.g. the value of a user-assigned identity entry).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Empty {}

/// The `identity` block of a resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedIdentity {
    /// `SystemAssigned`, `UserAssigned`, ... (spelling per API).
    #[serde(rename = "type")]
    pub kind: String,
    /// User-assigned identity IDs -> `{}`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub user_assigned_identities: BTreeMap<String, Empty>,
}

impl ManagedIdentity {
    /// A system-assigned identity.
    pub fn system() -> Self {
        ManagedIdentity {
            kind: "SystemAssigned".into(),
            user_assigned_identities: BTreeMap::new(),
        }
    }

    /// The system-assigned identity plus one user-assigned identity
    /// (`SystemAssigned,UserAssigned`, the spelling of Microsoft.App).
    pub fn system_and_user(identity_id: impl Into<String>) -> Self {
        ManagedIdentity {
            kind: "SystemAssigned,UserAssigned".into(),
            user_assigned_identities: BTreeMap::from([(identity_id.into(), Empty {})]),
        }
    }

    /// One user-assigned identity.
    pub fn user(identity_id: impl Into<String>) -> Self {
        ManagedIdentity {
            kind: "UserAssigned".into(),
            user_assigned_identities: BTreeMap::from([(identity_id.into(), Empty {})]),
        }
    }
}

/// Where a resource goes, how it is named in plans, its stage and its explicit
/// dependencies: the part of a spec the stage decides.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// ARM ID of the resource.
    pub address: String,
    /// Short human label, e.g. `hub VNet vnet-hub`.
    pub label: String,
    /// Stage the resource belongs to.
    pub stage: Stage,
    /// Explicit dependencies (IDs used in the body as plain strings).
    pub depends_on: Vec<String>,
}

impl Placement {
    /// A placement without dependencies.
    pub fn new(address: impl Into<String>, label: impl Into<String>, stage: Stage) -> Self {
        Placement {
            address: address.into(),
            label: label.into(),
            stage,
            depends_on: Vec::new(),
        }
    }

    /// Adds an explicit dependency.
    pub fn after(mut self, address: impl Into<String>) -> Self {
        self.depends_on.push(address.into());
        self
    }
}

/// Builds an ARM spec: looks up the pinned API version of `type_name`, serializes
/// `body`, and records the type's rules. Every builder file goes through here.
pub fn arm_spec<B: Serialize>(
    at: Placement,
    type_name: &str,
    body: &B,
    rules: DiffRules,
    taggable: bool,
) -> Result<ResourceSpec, StageError> {
    let api_version = api_version(type_name).ok_or_else(|| StageError::NoApiVersion {
        type_name: type_name.to_string(),
    })?;
    let body = serde_json::to_value(body).map_err(|source| StageError::Body {
        address: at.address.clone(),
        source,
    })?;
    Ok(ResourceSpec {
        address: Address(at.address),
        label: at.label,
        stage: at.stage,
        api: Api::Arm {
            type_name: type_name.to_string(),
            api_version: api_version.to_string(),
        },
        body,
        depends_on: at
            .depends_on
            .into_iter()
            .map(Address)
            .collect::<BTreeSet<_>>(),
        rules,
        mode: Mode::Managed,
        serial_key: None,
        taggable,
    })
}

/// Pointer strings, for [`DiffRules`] fields.
pub(crate) fn paths(p: &[&str]) -> Vec<String> {
    p.iter().map(|s| s.to_string()).collect()
}
