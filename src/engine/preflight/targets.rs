//! What the preflight checks, read from the model: the globally named
//! resources, the model deployments by account, the provider namespaces, the
//! actions per resource group, and whether Microsoft Graph objects are written.

use crate::engine::diff::normalise_location;
use crate::engine::model::Model;
use crate::engine::resource::{Api, Mode, ResourceSpec};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

pub(super) const KEY_VAULT: &str = "Microsoft.KeyVault/vaults";
pub(super) const STORAGE: &str = "Microsoft.Storage/storageAccounts";
pub(super) const APIM: &str = "Microsoft.ApiManagement/service";
pub(super) const POSTGRES: &str = "Microsoft.DBforPostgreSQL/flexibleServers";
pub(super) const ACCOUNT: &str = "Microsoft.CognitiveServices/accounts";
const DEPLOYMENT: &str = "Microsoft.CognitiveServices/accounts/deployments";
const RESOURCE_GROUP: &str = "Microsoft.Resources/resourceGroups";
const ROLE_ASSIGNMENT: &str = "Microsoft.Authorization/roleAssignments";

/// A resource whose name must be unique across Azure.
#[derive(Debug, Clone)]
pub struct NamedResource {
    /// Its ARM type.
    pub type_name: &'static str,
    /// Its name (the custom subdomain for a Foundry account's domain check).
    pub name: String,
    /// Its resource ID (held by this environment when it exists).
    pub address: String,
    /// Its label in the plan.
    pub label: String,
    /// Normalised location.
    pub location: String,
    /// Its resource group.
    pub resource_group: String,
    /// Its subscription.
    pub subscription: String,
}

/// A model deployment of the model.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// Label in the plan.
    pub label: String,
    /// `OpenAI`, `DeepSeek`, ...
    pub format: String,
    /// Model name.
    pub name: String,
    /// Model version.
    pub version: String,
    /// SKU name.
    pub sku: String,
    /// Capacity (thousands of tokens per minute).
    pub capacity: u64,
}

/// A Foundry account with its deployments.
#[derive(Debug, Clone)]
pub struct Account {
    /// The account.
    pub resource: NamedResource,
    /// Its custom subdomain (globally unique), when it sets one.
    pub subdomain: Option<String>,
    /// Its deployments in the model.
    pub deployments: Vec<Deployment>,
}

/// Everything the preflight checks.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Resources with globally unique names (Key Vault, storage, APIM, PostgreSQL).
    pub named: Vec<NamedResource>,
    /// Foundry accounts (custom subdomain, soft delete, deployments).
    pub accounts: Vec<Account>,
    /// Subscriptions the model writes to.
    pub subscriptions: BTreeSet<String>,
    /// Provider namespaces by subscription.
    pub namespaces: BTreeMap<String, BTreeSet<String>>,
    /// Write actions by `(subscription, resource group)`.
    pub actions: BTreeMap<(String, String), BTreeSet<String>>,
    /// A Microsoft Graph application path (`/v1.0/applications(uniqueName='…')`)
    /// when the model writes Graph objects.
    pub graph_application: Option<String>,
    /// The model writes Graph objects.
    pub writes_graph: bool,
}

fn segment_after<'a>(address: &'a str, key: &str) -> Option<&'a str> {
    let mut parts = address.split('/');
    while let Some(p) = parts.next() {
        if p.eq_ignore_ascii_case(key) {
            return parts.next();
        }
    }
    None
}

fn location_of(spec: &ResourceSpec) -> String {
    spec.body
        .get("location")
        .and_then(Value::as_str)
        .map(normalise_location)
        .unwrap_or_default()
}

impl Targets {
    /// The targets of the model's managed resources (addresses still holding
    /// a reference marker are skipped: they are not known before apply).
    pub fn from_model(model: &Model) -> Targets {
        let mut t = Targets::default();
        let managed = model
            .resources
            .iter()
            .filter(|s| s.mode == Mode::Managed && !s.address.as_str().contains("${"));
        for spec in managed {
            match &spec.api {
                Api::Graph { .. } => t.add_graph(spec),
                Api::Arm { type_name, .. } => t.add_arm(spec, type_name),
            }
        }
        for account in &mut t.accounts {
            let prefix = format!("{}/deployments/", account.resource.address).to_ascii_lowercase();
            account.deployments = model
                .resources
                .iter()
                .filter(|s| {
                    s.mode == Mode::Managed
                        && s.api
                            .type_name()
                            .is_some_and(|n| n.eq_ignore_ascii_case(DEPLOYMENT))
                        && s.address.as_str().to_ascii_lowercase().starts_with(&prefix)
                })
                .filter_map(deployment)
                .collect();
        }
        t
    }

    fn add_graph(&mut self, spec: &ResourceSpec) {
        self.writes_graph = true;
        let path = spec.address.as_str().strip_prefix("graph:").unwrap_or("");
        if self.graph_application.is_none() && path.starts_with("/applications(uniqueName=") {
            self.graph_application = Some(format!("/v1.0{path}"));
        }
    }

    fn add_arm(&mut self, spec: &ResourceSpec, type_name: &str) {
        let address = spec.address.as_str();
        let Some(sub) = segment_after(address, "subscriptions") else {
            return;
        };
        let sub = sub.to_string();
        self.subscriptions.insert(sub.clone());
        let namespace = type_name.split('/').next().unwrap_or_default();
        if !namespace.eq_ignore_ascii_case("Microsoft.Resources") {
            self.namespaces
                .entry(sub.clone())
                .or_default()
                .insert(namespace.to_string());
        }
        let rg = segment_after(address, "resourceGroups").unwrap_or_default();
        if !type_name.eq_ignore_ascii_case(RESOURCE_GROUP) && !rg.is_empty() {
            let action = if type_name.eq_ignore_ascii_case(ROLE_ASSIGNMENT) {
                format!("{ROLE_ASSIGNMENT}/write")
            } else {
                format!("{type_name}/write")
            };
            self.actions
                .entry((sub.clone(), rg.to_string()))
                .or_default()
                .insert(action);
        } else if type_name.eq_ignore_ascii_case(RESOURCE_GROUP) {
            self.actions
                .entry((sub.clone(), rg.to_string()))
                .or_default()
                .insert("Microsoft.Resources/subscriptions/resourceGroups/write".into());
        }
        self.add_named(spec, type_name, sub, rg);
    }

    fn add_named(&mut self, spec: &ResourceSpec, type_name: &str, sub: String, rg: &str) {
        let Some(kind) = [KEY_VAULT, STORAGE, APIM, POSTGRES, ACCOUNT]
            .into_iter()
            .find(|k| k.eq_ignore_ascii_case(type_name))
        else {
            return;
        };
        let address = spec.address.as_str();
        let name = address.rsplit('/').next().unwrap_or_default().to_string();
        let resource = NamedResource {
            type_name: kind,
            name,
            address: address.to_string(),
            label: spec.label.clone(),
            location: location_of(spec),
            resource_group: rg.to_string(),
            subscription: sub,
        };
        if kind == ACCOUNT {
            let subdomain = spec
                .body
                .pointer("/properties/customSubDomainName")
                .and_then(Value::as_str)
                .map(str::to_string);
            self.accounts.push(Account {
                resource,
                subdomain,
                deployments: Vec::new(),
            });
        } else {
            self.named.push(resource);
        }
    }
}

fn deployment(spec: &ResourceSpec) -> Option<Deployment> {
    let b = &spec.body;
    let text = |p: &str| b.pointer(p).and_then(Value::as_str).map(str::to_string);
    Some(Deployment {
        label: spec.label.clone(),
        format: text("/properties/model/format")?,
        name: text("/properties/model/name")?,
        version: text("/properties/model/version").unwrap_or_default(),
        sku: text("/sku/name")?,
        capacity: b
            .pointer("/sku/capacity")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    })
}
