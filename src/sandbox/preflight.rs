//! What the preflight APIs answer from: names held by others, unregistered
//! resource providers, the model catalog and quota limits of each region, and
//! the caller's permissions. Set through `GET/POST /_sandbox/preflight`; the
//! defaults make the shipped environments pass.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::server::{Reply, Shared, now_ms};
use super::state::{Deleted, World};

/// Quota limit (capacity units, thousands of tokens per minute) of a usage
/// name no rule sets.
pub(crate) const DEFAULT_USAGE_LIMIT: u64 = 1000;

/// A name someone else holds (a resource in another tenant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TakenName {
    /// Resource type, e.g. `Microsoft.KeyVault/vaults`, or
    /// `Microsoft.CognitiveServices/accounts` for a custom subdomain.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The name.
    pub name: String,
}

/// One SKU of a catalog model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CatalogSku {
    /// e.g. `GlobalStandard`.
    pub name: String,
    /// The quota it draws on, e.g. `OpenAI.GlobalStandard.gpt-4o`.
    #[serde(rename = "usageName")]
    pub usage_name: String,
}

/// One model of a region's catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CatalogModel {
    /// e.g. `OpenAI`.
    pub format: String,
    /// e.g. `gpt-4o`.
    pub name: String,
    /// e.g. `2024-11-20`.
    pub version: String,
    /// SKUs it can be deployed with.
    pub skus: Vec<CatalogSku>,
}

/// The caller's permissions (one `value[]` entry of the permissions API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Permissions {
    /// Allowed actions (wildcards allowed).
    pub actions: Vec<String>,
    /// Excluded actions (wildcards allowed).
    #[serde(rename = "notActions", default)]
    pub not_actions: Vec<String>,
}

impl Default for Permissions {
    fn default() -> Self {
        Permissions {
            actions: vec!["*".into()],
            not_actions: Vec::new(),
        }
    }
}

/// A soft-deleted name to add (as if someone deleted it earlier).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SoftDeletedName {
    /// `Microsoft.KeyVault/vaults`, `Microsoft.CognitiveServices/accounts` or
    /// `Microsoft.ApiManagement/service`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The name.
    pub name: String,
    /// Location of the deleted resource.
    pub location: String,
    /// Resource group it was in.
    #[serde(default)]
    pub resource_group: String,
    /// Subscription ID it was in.
    pub subscription: String,
}

/// The preflight state (persisted with the world).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct PreflightWorld {
    /// Globally unique names held by others.
    pub taken_names: Vec<TakenName>,
    /// Resource provider namespaces not registered in any subscription.
    pub unregistered_providers: Vec<String>,
    /// Catalogs by normalised location; a location not listed offers
    /// [`default_catalog`].
    pub models: BTreeMap<String, Vec<CatalogModel>>,
    /// Quota limits by normalised location, then usage name.
    pub usage_limits: BTreeMap<String, BTreeMap<String, u64>>,
    /// Capacity used by others (outside the sandbox's resources), by location
    /// then usage name.
    pub usage_used_elsewhere: BTreeMap<String, BTreeMap<String, u64>>,
    /// The caller's permissions on every scope.
    pub permissions: Permissions,
}

/// The models every region offers unless the admin API says otherwise: those
/// of the shipped environments, in the SKUs and usage names Azure lists them
/// with (`ListLocationModels.json`: `OpenAI.<Sku>.<model>` for OpenAI models,
/// one `AIServices.GlobalStandard.MaaS` usage shared by the partner models).
pub(crate) fn default_catalog() -> Vec<CatalogModel> {
    let openai = |name: &str, version: &str| CatalogModel {
        format: "OpenAI".into(),
        name: name.into(),
        version: version.into(),
        skus: ["GlobalStandard", "DataZoneStandard", "Standard"]
            .iter()
            .map(|sku| CatalogSku {
                name: (*sku).into(),
                usage_name: format!("OpenAI.{sku}.{name}"),
            })
            .collect(),
    };
    let maas = |format: &str, name: &str| CatalogModel {
        format: format.into(),
        name: name.into(),
        version: "1".into(),
        skus: vec![CatalogSku {
            name: "GlobalStandard".into(),
            usage_name: "AIServices.GlobalStandard.MaaS".into(),
        }],
    };
    vec![
        openai("gpt-4o", "2024-11-20"),
        openai("gpt-4o", "2024-08-06"),
        openai("gpt-4o-mini", "2024-07-18"),
        openai("gpt-4.1", "2025-04-14"),
        openai("gpt-4.1-mini", "2025-04-14"),
        openai("gpt-5-mini", "2025-08-07"),
        openai("text-embedding-3-large", "1"),
        openai("text-embedding-3-small", "1"),
        maas("DeepSeek", "DeepSeek-V3.1"),
        maas("DeepSeek", "DeepSeek-R1"),
        maas("Meta", "Llama-4-Maverick-17B-128E-Instruct-FP8"),
        maas("Mistral AI", "Mistral-Large-3"),
        maas("xAI", "grok-4-fast-reasoning"),
    ]
}

impl PreflightWorld {
    /// The catalog of `location` (normalised).
    pub fn catalog(&self, location: &str) -> Vec<CatalogModel> {
        self.models
            .get(location)
            .cloned()
            .unwrap_or_else(default_catalog)
    }

    /// Whether `name` of `type_name` is held by someone else.
    pub fn is_taken(&self, type_name: &str, name: &str) -> bool {
        self.taken_names.iter().any(|t| {
            t.type_name.eq_ignore_ascii_case(type_name) && t.name.eq_ignore_ascii_case(name)
        })
    }

    /// Whether `namespace` is registered.
    pub fn is_registered(&self, namespace: &str) -> bool {
        !self
            .unregistered_providers
            .iter()
            .any(|n| n.eq_ignore_ascii_case(namespace))
    }
}

/// `GET/POST /_sandbox/preflight`: read, or replace parts of, the preflight
/// state. A POST body is a JSON object with any of the [`PreflightWorld`] keys
/// (each replaces the current value) plus `soft_deleted` (a list of
/// [`SoftDeletedName`] added to the soft-deleted lists).
pub(crate) fn admin(shared: &Shared, method: &str, body: &[u8]) -> Reply {
    if method == "POST" {
        let mut patch: Value = match serde_json::from_slice(body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return bad("expected a JSON object"),
        };
        let soft: Vec<SoftDeletedName> = match patch
            .as_object_mut()
            .and_then(|m| m.remove("soft_deleted"))
            .map(serde_json::from_value)
            .transpose()
        {
            Ok(s) => s.unwrap_or_default(),
            Err(e) => return bad(format!("soft_deleted: {e}")),
        };
        let mut w = shared.world();
        let mut current = serde_json::to_value(&w.preflight).unwrap_or(Value::Null);
        if let (Some(cur), Some(p)) = (current.as_object_mut(), patch.as_object()) {
            for (k, v) in p {
                cur.insert(k.clone(), v.clone());
            }
        }
        match serde_json::from_value::<PreflightWorld>(current) {
            Ok(mut state) => {
                state.models = normalise_keys(state.models);
                state.usage_limits = normalise_keys(state.usage_limits);
                state.usage_used_elsewhere = normalise_keys(state.usage_used_elsewhere);
                w.preflight = state;
            }
            Err(e) => return bad(e.to_string()),
        }
        for s in soft {
            if let Err(message) = add_soft_deleted(&mut w, &s) {
                return bad(message);
            }
        }
        drop(w);
        shared.mark_dirty();
    }
    let w = shared.world();
    Reply::json(
        200,
        serde_json::to_value(&w.preflight).unwrap_or(Value::Null),
    )
}

fn bad(message: impl Into<String>) -> Reply {
    Reply::json(
        400,
        json!({"error": {"code": "BadRequest", "message": message.into()}}),
    )
}

fn normalise_keys<V>(map: BTreeMap<String, V>) -> BTreeMap<String, V> {
    map.into_iter()
        .map(|(k, v)| (super::ids::normalize_location(&k), v))
        .collect()
}

/// Adds a soft-deleted item without a resource behind it (as if deleted by an
/// earlier run or someone else).
fn add_soft_deleted(w: &mut World, s: &SoftDeletedName) -> Result<(), String> {
    let location = super::ids::normalize_location(&s.location);
    let sub = s.subscription.clone();
    let item = |retention| Deleted {
        resources: Vec::new(),
        deleted_ms: now_ms(),
        location: location.clone(),
        sub: sub.clone(),
        rg: s.resource_group.clone(),
        name: s.name.clone(),
        retention_days: retention,
        purging: None,
    };
    match s.type_name.to_ascii_lowercase().as_str() {
        "microsoft.keyvault/vaults" => {
            w.deleted_vaults
                .insert(s.name.to_ascii_lowercase(), item(90));
        }
        "microsoft.cognitiveservices/accounts" => {
            let key = super::lro::account_key(&sub, &location, &s.resource_group, &s.name);
            w.deleted_accounts.insert(key, item(48));
        }
        "microsoft.apimanagement/service" => {
            w.deleted_services
                .insert(s.name.to_ascii_lowercase(), item(48));
        }
        other => return Err(format!("soft_deleted: type '{other}' has no soft delete")),
    }
    Ok(())
}
