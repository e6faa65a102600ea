//! The per-type behaviour table: durations, status codes, LRO style, required fields,
//! secret fields, provisioning states and computed properties. Adding a type is one
//! entry in [`TYPES`] (plus, if it computes properties, one function).
//!
//! Modelled on Microsoft's examples in `../shared/fixtures/arm-examples/`.

use std::net::Ipv4Addr;
use std::time::Duration;

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::state::World;

mod apim;
mod network;
mod services;

use apim::*;
use network::*;
use services::*;

/// How a write completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Answered when done (after sleeping the scaled duration): 201/200.
    Sync,
    /// 201 (create) / 200 (update) with the body and `Azure-AsyncOperation`, `Location`,
    /// `Retry-After`.
    Async201,
    /// 202 without body, with `Azure-AsyncOperation`, `Location`, `Retry-After`.
    Async202,
}

/// Names of the provisioning states a type goes through.
#[derive(Debug, Clone, Copy)]
pub(crate) struct States {
    /// Property holding the state (under `properties`).
    pub prop: &'static str,
    /// State right after the request is accepted.
    pub accepted: &'static str,
    /// While creating.
    pub creating: &'static str,
    /// While updating.
    pub updating: &'static str,
    /// While deleting.
    pub deleting: &'static str,
    /// At the end.
    pub succeeded: &'static str,
}

const ARM_STATES: States = States {
    prop: "provisioningState",
    accepted: "Accepted",
    creating: "Creating",
    updating: "Updating",
    deleting: "Deleting",
    succeeded: "Succeeded",
};
const NETWORK_STATES: States = States {
    accepted: "Updating",
    creating: "Updating",
    ..ARM_STATES
};
const APIM_STATES: States = States {
    accepted: "Created",
    creating: "Activating",
    updating: "Updating",
    ..ARM_STATES
};
const APIM_CHILD_STATES: States = States {
    accepted: "InProgress",
    creating: "InProgress",
    updating: "InProgress",
    ..ARM_STATES
};
const KV_STATES: States = States {
    accepted: "RegisteringDns",
    creating: "RegisteringDns",
    ..ARM_STATES
};
const ACA_ENV_STATES: States = States {
    accepted: "Waiting",
    creating: "InitializationInProgress",
    updating: "UpgradeRequested",
    ..ARM_STATES
};
const ACA_APP_STATES: States = States {
    accepted: "InProgress",
    creating: "InProgress",
    updating: "InProgress",
    ..ARM_STATES
};
const PG_STATES: States = States {
    prop: "state",
    accepted: "Provisioning",
    creating: "Provisioning",
    updating: "Updating",
    deleting: "Dropping",
    succeeded: "Ready",
};
const STORAGE_STATES: States = States {
    accepted: "ResolvingDNS",
    creating: "Creating",
    ..ARM_STATES
};

/// Kind of `etag` a type carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Etag {
    None,
    /// `W/"<guid>"` (Network).
    WeakGuid,
    /// `<guid>` (Private DNS).
    Guid,
    /// `W/"datetime'...'"` (Cognitive Services).
    Datetime,
    /// `"<hex>"` (APIM, Storage shares, ...).
    Quoted,
}

/// Behaviour of one resource type.
pub(crate) struct TypeDef {
    /// Canonical type name.
    pub name: &'static str,
    /// Realistic durations (s) of create, update, delete.
    pub create_secs: f64,
    pub update_secs: f64,
    pub delete_secs: f64,
    /// How writes complete.
    pub mode: Mode,
    /// Status of a synchronous create (201, or 200 for types that always answer 200).
    pub create_code: u16,
    /// Location required (tracked type).
    pub tracked: bool,
    /// `properties` required in PUT bodies.
    pub requires_properties: bool,
    /// Fields never returned nor stored: dotted paths under the body, `[]` for arrays.
    pub secrets: &'static [&'static str],
    /// Provisioning states.
    pub states: States,
    /// Etag style.
    pub etag: Etag,
    /// Children shown inline in the parent: (property under `properties`, child type segment).
    pub inline: &'static [(&'static str, &'static str)],
    /// Computed properties and server defaults.
    pub compute: Option<fn(&mut Ctx<'_>)>,
    /// Code of the 409 when the name is taken elsewhere (globally unique names).
    pub global_name: Option<&'static str>,
    /// Whether `systemData` is returned.
    pub system_data: bool,
}

const BASE: TypeDef = TypeDef {
    name: "",
    create_secs: 0.0,
    update_secs: 0.0,
    delete_secs: 0.0,
    mode: Mode::Sync,
    create_code: 201,
    tracked: false,
    requires_properties: false,
    secrets: &[],
    states: ARM_STATES,
    etag: Etag::None,
    inline: &[],
    compute: None,
    global_name: None,
    system_data: false,
};

/// The table. Durations are realistic seconds (multiplied by the time scale).
#[rustfmt::skip]
pub(crate) static TYPES: &[TypeDef] = &[
    TypeDef { name: "Microsoft.Resources/resourceGroups", create_secs: 1.0, update_secs: 1.0, delete_secs: 60.0, tracked: true, ..BASE },
    // --- Network
    TypeDef { name: "Microsoft.Network/virtualNetworks", create_secs: 5.0, update_secs: 5.0, delete_secs: 10.0, mode: Mode::Async201, tracked: true, states: NETWORK_STATES, etag: Etag::WeakGuid, inline: &[("subnets", "subnets"), ("virtualNetworkPeerings", "virtualNetworkPeerings")], compute: Some(vnet), ..BASE },
    TypeDef { name: "Microsoft.Network/virtualNetworks/subnets", create_secs: 3.0, update_secs: 3.0, delete_secs: 3.0, mode: Mode::Async201, states: NETWORK_STATES, etag: Etag::WeakGuid, compute: Some(subnet), ..BASE },
    TypeDef { name: "Microsoft.Network/virtualNetworks/virtualNetworkPeerings", create_secs: 5.0, update_secs: 5.0, delete_secs: 5.0, mode: Mode::Async201, requires_properties: true, states: NETWORK_STATES, etag: Etag::WeakGuid, compute: Some(peering), ..BASE },
    TypeDef { name: "Microsoft.Network/networkSecurityGroups", create_secs: 3.0, update_secs: 3.0, delete_secs: 5.0, mode: Mode::Async201, tracked: true, states: NETWORK_STATES, etag: Etag::WeakGuid, inline: &[("securityRules", "securityRules")], compute: Some(nsg), ..BASE },
    TypeDef { name: "Microsoft.Network/networkSecurityGroups/securityRules", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, mode: Mode::Async201, requires_properties: true, states: NETWORK_STATES, etag: Etag::WeakGuid, compute: Some(network_child), ..BASE },
    TypeDef { name: "Microsoft.Network/routeTables", create_secs: 3.0, update_secs: 3.0, delete_secs: 5.0, mode: Mode::Async201, tracked: true, states: NETWORK_STATES, etag: Etag::WeakGuid, inline: &[("routes", "routes")], compute: Some(route_table), ..BASE },
    TypeDef { name: "Microsoft.Network/routeTables/routes", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, mode: Mode::Async201, requires_properties: true, states: NETWORK_STATES, etag: Etag::WeakGuid, compute: Some(network_child), ..BASE },
    TypeDef { name: "Microsoft.Network/publicIPAddresses", create_secs: 3.0, update_secs: 3.0, delete_secs: 5.0, mode: Mode::Async201, tracked: true, states: NETWORK_STATES, etag: Etag::WeakGuid, compute: Some(public_ip), ..BASE },
    TypeDef { name: "Microsoft.Network/privateEndpoints", create_secs: 60.0, update_secs: 30.0, delete_secs: 30.0, mode: Mode::Async201, tracked: true, requires_properties: true, states: NETWORK_STATES, etag: Etag::WeakGuid, compute: Some(private_endpoint), ..BASE },
    TypeDef { name: "Microsoft.Network/privateEndpoints/privateDnsZoneGroups", create_secs: 10.0, update_secs: 10.0, delete_secs: 10.0, mode: Mode::Async201, requires_properties: true, states: NETWORK_STATES, etag: Etag::WeakGuid, compute: Some(dns_zone_group), ..BASE },
    TypeDef { name: "Microsoft.Network/privateDnsZones", create_secs: 30.0, update_secs: 30.0, delete_secs: 30.0, mode: Mode::Async202, tracked: true, etag: Etag::Guid, compute: Some(private_dns_zone), ..BASE },
    TypeDef { name: "Microsoft.Network/privateDnsZones/virtualNetworkLinks", create_secs: 30.0, update_secs: 30.0, delete_secs: 30.0, mode: Mode::Async202, tracked: true, requires_properties: true, etag: Etag::Guid, compute: Some(vnet_link), ..BASE },
    TypeDef { name: "Microsoft.Network/privateDnsZones/A", create_secs: 1.0, update_secs: 1.0, delete_secs: 1.0, requires_properties: true, etag: Etag::Guid, compute: Some(record_set), ..BASE },
    TypeDef { name: "Microsoft.Network/privateDnsZones/CNAME", create_secs: 1.0, update_secs: 1.0, delete_secs: 1.0, requires_properties: true, etag: Etag::Guid, compute: Some(record_set), ..BASE },
    TypeDef { name: "Microsoft.Network/applicationGateways", create_secs: 360.0, update_secs: 300.0, delete_secs: 180.0, mode: Mode::Async201, tracked: true, requires_properties: true, states: NETWORK_STATES, etag: Etag::WeakGuid, secrets: &["properties.sslCertificates[].properties.data", "properties.sslCertificates[].properties.password"], compute: Some(app_gateway), ..BASE },
    // WAF policies answer at once, 201/200 with the body (WafPolicyCreateOrUpdate.json).
    TypeDef { name: "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies", create_secs: 5.0, update_secs: 5.0, delete_secs: 5.0, tracked: true, requires_properties: true, etag: Etag::WeakGuid, compute: Some(waf_policy), ..BASE },
    // --- API Management
    TypeDef { name: "Microsoft.ApiManagement/service", create_secs: 2700.0, update_secs: 1200.0, delete_secs: 600.0, mode: Mode::Async201, tracked: true, requires_properties: true, states: APIM_STATES, etag: Etag::Quoted, secrets: &["properties.hostnameConfigurations[].certificatePassword", "properties.hostnameConfigurations[].encodedCertificate"], compute: Some(apim_service), global_name: Some("ServiceAlreadyExists"), system_data: true, ..BASE },
    TypeDef { name: "Microsoft.ApiManagement/service/apis", create_secs: 60.0, update_secs: 60.0, delete_secs: 2.0, mode: Mode::Async201, requires_properties: true, states: APIM_CHILD_STATES, etag: Etag::Quoted, secrets: &["properties.value", "properties.format"], compute: Some(apim_api), ..BASE },
    TypeDef { name: "Microsoft.ApiManagement/service/apis/operations", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, requires_properties: true, etag: Etag::Quoted, compute: Some(apim_operation), ..BASE },
    TypeDef { name: "Microsoft.ApiManagement/service/apis/policies", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, requires_properties: true, etag: Etag::Quoted, secrets: &["properties.format"], compute: Some(apim_policy), ..BASE },
    TypeDef { name: "Microsoft.ApiManagement/service/apis/operations/policies", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, requires_properties: true, etag: Etag::Quoted, secrets: &["properties.format"], compute: Some(apim_policy), ..BASE },
    TypeDef { name: "Microsoft.ApiManagement/service/policies", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, requires_properties: true, etag: Etag::Quoted, secrets: &["properties.format"], compute: Some(apim_policy), ..BASE },
    TypeDef { name: "Microsoft.ApiManagement/service/apis/diagnostics", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, requires_properties: true, etag: Etag::Quoted, ..BASE },
    TypeDef { name: "Microsoft.ApiManagement/service/diagnostics", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, requires_properties: true, etag: Etag::Quoted, ..BASE },
    TypeDef { name: "Microsoft.ApiManagement/service/namedValues", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, mode: Mode::Async201, requires_properties: true, states: APIM_CHILD_STATES, etag: Etag::Quoted, compute: Some(apim_named_value), ..BASE },
    TypeDef { name: "Microsoft.ApiManagement/service/backends", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, requires_properties: true, etag: Etag::Quoted, compute: Some(apim_backend), ..BASE },
    TypeDef { name: "Microsoft.ApiManagement/service/loggers", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, requires_properties: true, etag: Etag::Quoted, compute: Some(apim_logger), ..BASE },
    TypeDef { name: "Microsoft.ApiManagement/service/products", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, requires_properties: true, etag: Etag::Quoted, compute: Some(apim_product), ..BASE },
    TypeDef { name: "Microsoft.ApiManagement/service/products/apis", create_secs: 1.0, update_secs: 1.0, delete_secs: 1.0, compute: Some(apim_product_api), ..BASE },
    TypeDef { name: "Microsoft.ApiManagement/service/subscriptions", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, requires_properties: true, etag: Etag::Quoted, secrets: &["properties.primaryKey", "properties.secondaryKey"], ..BASE },
    // --- Cognitive Services (Foundry)
    TypeDef { name: "Microsoft.CognitiveServices/accounts", create_secs: 60.0, update_secs: 30.0, delete_secs: 30.0, mode: Mode::Async201, tracked: true, etag: Etag::Datetime, compute: Some(cognitive_account), system_data: true, ..BASE },
    TypeDef { name: "Microsoft.CognitiveServices/accounts/deployments", create_secs: 60.0, update_secs: 60.0, delete_secs: 20.0, mode: Mode::Async201, requires_properties: true, etag: Etag::Datetime, compute: Some(cognitive_deployment), system_data: true, ..BASE },
    TypeDef { name: "Microsoft.CognitiveServices/accounts/projects", create_secs: 30.0, update_secs: 30.0, delete_secs: 30.0, mode: Mode::Async201, tracked: true, etag: Etag::Datetime, system_data: true, ..BASE },
    // --- Container Apps
    TypeDef { name: "Microsoft.App/managedEnvironments", create_secs: 300.0, update_secs: 120.0, delete_secs: 120.0, mode: Mode::Async201, tracked: true, requires_properties: true, states: ACA_ENV_STATES, secrets: &["properties.appLogsConfiguration.logAnalyticsConfiguration.sharedKey", "properties.daprAIConnectionString", "properties.daprAIInstrumentationKey", "properties.customDomainConfiguration.certificatePassword", "properties.customDomainConfiguration.certificateValue"], compute: Some(aca_environment), system_data: true, ..BASE },
    TypeDef { name: "Microsoft.App/managedEnvironments/storages", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, create_code: 200, requires_properties: true, secrets: &["properties.azureFile.accountKey", "properties.nfsAzureFile.accountKey"], system_data: true, ..BASE },
    TypeDef { name: "Microsoft.App/managedEnvironments/certificates", create_secs: 5.0, update_secs: 5.0, delete_secs: 2.0, tracked: true, secrets: &["properties.password", "properties.value"], compute: Some(aca_certificate), system_data: true, ..BASE },
    TypeDef { name: "Microsoft.App/containerApps", create_secs: 60.0, update_secs: 45.0, delete_secs: 30.0, mode: Mode::Async201, tracked: true, requires_properties: true, states: ACA_APP_STATES, secrets: &["properties.configuration.secrets[].value", "properties.configuration.registries[].password"], compute: Some(container_app), system_data: true, ..BASE },
    // --- PostgreSQL
    TypeDef { name: "Microsoft.DBforPostgreSQL/flexibleServers", create_secs: 360.0, update_secs: 180.0, delete_secs: 60.0, mode: Mode::Async202, tracked: true, requires_properties: true, states: PG_STATES, secrets: &["properties.administratorLoginPassword"], compute: Some(postgres_server), global_name: Some("ServerNameAlreadyExists"), system_data: true, ..BASE },
    TypeDef { name: "Microsoft.DBforPostgreSQL/flexibleServers/databases", create_secs: 10.0, update_secs: 10.0, delete_secs: 10.0, mode: Mode::Async202, compute: Some(postgres_database), system_data: true, ..BASE },
    TypeDef { name: "Microsoft.DBforPostgreSQL/flexibleServers/configurations", create_secs: 10.0, update_secs: 10.0, delete_secs: 10.0, mode: Mode::Async202, requires_properties: true, compute: Some(postgres_configuration), system_data: true, ..BASE },
    TypeDef { name: "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules", create_secs: 10.0, update_secs: 10.0, delete_secs: 10.0, mode: Mode::Async202, requires_properties: true, system_data: true, ..BASE },
    // --- Azure Managed Redis (Redis Enterprise)
    TypeDef { name: "Microsoft.Cache/redisEnterprise", create_secs: 900.0, update_secs: 300.0, delete_secs: 600.0, mode: Mode::Async201, tracked: true, requires_properties: true, compute: Some(redis_cluster), system_data: true, ..BASE },
    TypeDef { name: "Microsoft.Cache/redisEnterprise/databases", create_secs: 60.0, update_secs: 60.0, delete_secs: 60.0, mode: Mode::Async201, compute: Some(redis_database), system_data: true, ..BASE },
    // --- Key Vault
    TypeDef { name: "Microsoft.KeyVault/vaults", create_secs: 20.0, update_secs: 5.0, delete_secs: 5.0, mode: Mode::Async201, tracked: true, requires_properties: true, states: KV_STATES, compute: Some(key_vault), global_name: Some("VaultAlreadyExists"), system_data: true, ..BASE },
    TypeDef { name: "Microsoft.KeyVault/vaults/secrets", create_secs: 1.0, update_secs: 1.0, delete_secs: 1.0, requires_properties: true, secrets: &["properties.value"], compute: Some(key_vault_secret), ..BASE },
    // --- Storage
    TypeDef { name: "Microsoft.Storage/storageAccounts", create_secs: 20.0, update_secs: 5.0, delete_secs: 5.0, mode: Mode::Async202, tracked: true, states: STORAGE_STATES, compute: Some(storage_account), global_name: Some("StorageAccountAlreadyTaken"), ..BASE },
    TypeDef { name: "Microsoft.Storage/storageAccounts/fileServices", create_secs: 1.0, update_secs: 1.0, delete_secs: 1.0, create_code: 200, ..BASE },
    TypeDef { name: "Microsoft.Storage/storageAccounts/fileServices/shares", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, etag: Etag::Quoted, compute: Some(file_share), ..BASE },
    TypeDef { name: "Microsoft.Storage/storageAccounts/blobServices", create_secs: 1.0, update_secs: 1.0, delete_secs: 1.0, create_code: 200, ..BASE },
    // --- Monitoring
    TypeDef { name: "Microsoft.OperationalInsights/workspaces", create_secs: 20.0, update_secs: 10.0, delete_secs: 10.0, mode: Mode::Async201, tracked: true, compute: Some(log_analytics), ..BASE },
    TypeDef { name: "Microsoft.Insights/components", create_secs: 10.0, update_secs: 5.0, delete_secs: 5.0, create_code: 200, tracked: true, compute: Some(app_insights), ..BASE },
    TypeDef { name: "Microsoft.Insights/workbooks", create_secs: 1.0, update_secs: 1.0, delete_secs: 1.0, tracked: true, requires_properties: true, compute: Some(workbook), ..BASE },
    TypeDef { name: "Microsoft.Insights/diagnosticSettings", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, create_code: 200, requires_properties: true, ..BASE },
    // --- Identity and RBAC
    TypeDef { name: "Microsoft.ManagedIdentity/userAssignedIdentities", create_secs: 2.0, update_secs: 1.0, delete_secs: 2.0, tracked: true, compute: Some(user_identity), system_data: true, ..BASE },
    TypeDef { name: "Microsoft.Authorization/roleAssignments", create_secs: 2.0, update_secs: 2.0, delete_secs: 2.0, requires_properties: true, compute: Some(role_assignment), ..BASE },
];

static UNKNOWN: TypeDef = TypeDef { name: "", ..BASE };

/// The behaviour of `type_name` (case-insensitive); a synchronous generic type when unknown.
pub(crate) fn lookup(type_name: &str) -> &'static TypeDef {
    TYPES
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(type_name))
        .unwrap_or(&UNKNOWN)
}

/// Canonical casing of a type name: from the table, else its known parent's casing plus
/// the rest as sent.
pub(crate) fn canonical_type(type_name: &str) -> String {
    if let Some(t) = TYPES
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(type_name))
    {
        return t.name.to_string();
    }
    if let Some((parent, last)) = type_name.rsplit_once('/')
        && parent.contains('/')
    {
        return format!("{}/{last}", canonical_type(parent));
    }
    // Namespace only known: take its casing.
    if let Some((ns, rest)) = type_name.split_once('/')
        && let Some(t) = TYPES.iter().find(|t| {
            t.name
                .split('/')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case(ns))
        })
    {
        let ns = t.name.split('/').next().unwrap_or(ns);
        return format!("{ns}/{rest}");
    }
    type_name.to_string()
}

/// See [`super::default_duration`].
pub(crate) fn default_duration(type_name: &str, method: &str) -> Duration {
    let t = lookup(type_name);
    let secs = match method.to_ascii_uppercase().as_str() {
        "PUT" => t.create_secs,
        "PATCH" => t.update_secs,
        "DELETE" => t.delete_secs,
        _ => 0.0,
    };
    Duration::from_secs_f64(secs)
}

// ---------------------------------------------------------------------------------------
// Computation context and helpers

/// What a compute function sees.
pub(crate) struct Ctx<'a> {
    /// Canonical ID.
    pub id: &'a str,
    /// Names along the ID below `providers` (parent first, own name last).
    pub names: &'a [String],
    /// Subscription ID.
    pub sub: &'a str,
    /// Resource group, when in one.
    pub rg: Option<&'a str>,
    /// The body being stored (an object).
    pub body: &'a mut Value,
    /// Everything else in the sandbox (read-only).
    pub world: &'a World,
    /// Tenant of the caller.
    pub tenant: &'a str,
    /// Creation time of the resource (kept across updates), unix ms.
    pub created_ms: u64,
    /// Now, unix ms.
    pub now_ms: u64,
}

impl Ctx<'_> {
    /// Own name.
    pub fn name(&self) -> &str {
        self.names.last().map(String::as_str).unwrap_or("")
    }

    /// Parent's canonical ID (for children).
    pub fn parent_id(&self) -> &str {
        self.id.rsplitn(3, '/').nth(2).unwrap_or("")
    }

    /// `properties`, created when absent.
    pub fn props(&mut self) -> &mut Map<String, Value> {
        obj(self.body, "properties")
    }

    /// Normalised location (empty when none).
    pub fn location(&self) -> String {
        self.body["location"].as_str().unwrap_or("").to_string()
    }

    /// 32 bytes derived from the resource's identity and creation time plus `label`:
    /// stable across updates, new when the resource is created again.
    pub fn hash(&self, label: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.id.to_ascii_lowercase().as_bytes());
        h.update(self.created_ms.to_le_bytes());
        h.update(label.as_bytes());
        h.finalize().into()
    }

    /// A GUID derived like [`Ctx::hash`].
    pub fn guid(&self, label: &str) -> String {
        let b = self.hash(label);
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&b[..16]);
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    /// Lower-case hex derived like [`Ctx::hash`].
    pub fn hex(&self, label: &str, len: usize) -> String {
        self.hash(label)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()[..len.min(64)]
            .to_string()
    }

    /// A public IPv4 address derived like [`Ctx::hash`] (in 20.0.0.0/8).
    pub fn public_ip(&self, label: &str) -> String {
        let b = self.hash(label);
        Ipv4Addr::new(20, b[0], b[1], b[2].clamp(4, 250)).to_string()
    }

    /// Stored body of another resource by ID (case-insensitive).
    pub fn resource(&self, id: &str) -> Option<&Value> {
        self.world
            .resources
            .get(&super::ids::key(id))
            .map(|r| &r.body)
    }

    /// Creation time as RFC 3339.
    pub fn created(&self) -> String {
        super::server::rfc3339(self.created_ms)
    }
}

/// `parent[key]` as an object, created (or replaced when not an object).
pub(crate) fn obj<'v>(parent: &'v mut Value, key: &str) -> &'v mut Map<String, Value> {
    if !parent.is_object() {
        *parent = json!({});
    }
    let Value::Object(map) = parent else {
        unreachable!("just made an object")
    };
    let entry = map.entry(key.to_string()).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    match entry {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}

/// Insert `value` under `key` unless present.
pub(crate) fn default(map: &mut Map<String, Value>, key: &str, value: Value) {
    if !map.contains_key(key) || map[key].is_null() {
        map.insert(key.to_string(), value);
    }
}

/// Remove the secret fields (dotted paths, `[]` for every element of an array).
pub(crate) fn strip_secrets(body: &mut Value, paths: &[&str]) {
    fn strip(v: &mut Value, parts: &[&str]) {
        let Some((first, rest)) = parts.split_first() else {
            return;
        };
        let (key, each) = match first.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (*first, false),
        };
        let Some(map) = v.as_object_mut() else { return };
        if rest.is_empty() && !each {
            map.remove(key);
            return;
        }
        let Some(child) = map.get_mut(key) else {
            return;
        };
        if each {
            if let Some(items) = child.as_array_mut() {
                for item in items {
                    strip(item, rest);
                }
            }
        } else {
            strip(child, rest);
        }
    }
    for p in paths {
        let parts: Vec<&str> = p.split('.').collect();
        strip(body, &parts);
    }
}

/// First usable address (Azure reserves 4) plus `offset` in an IPv4 prefix.
fn host_in(prefix: &str, offset: u32) -> Option<String> {
    let net: ipnet::Ipv4Net = prefix.parse().ok()?;
    let base = u32::from(net.network());
    let size = 1u32
        .checked_shl(32 - u32::from(net.prefix_len()))
        .unwrap_or(0);
    let host = 4 + offset.min(size.saturating_sub(6));
    Some(Ipv4Addr::from(base.checked_add(host)?).to_string())
}

/// Address prefix of a subnet by ID, from the stored subnet.
fn subnet_prefix(ctx: &Ctx<'_>, subnet_id: &str) -> Option<String> {
    let s = ctx.resource(subnet_id)?;
    let p = &s["properties"];
    p["addressPrefix"]
        .as_str()
        .or_else(|| p["addressPrefixes"][0].as_str())
        .map(str::to_string)
}

/// System- and user-assigned identities: `principalId`/`tenantId`, and each user-assigned
/// identity's `principalId`/`clientId` from the identity resource.
pub(crate) fn identities(ctx: &mut Ctx<'_>) {
    let Some(kind) = ctx.body["identity"]["type"].as_str().map(str::to_string) else {
        return;
    };
    let principal = ctx.guid("system-identity");
    let tenant = ctx.tenant.to_string();
    let mut uai: Vec<(String, Option<(String, String)>)> = Vec::new();
    if let Some(map) = ctx.body["identity"]["userAssignedIdentities"].as_object() {
        for id in map.keys() {
            let info = ctx.resource(id).map(|b| {
                (
                    b["properties"]["principalId"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    b["properties"]["clientId"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                )
            });
            uai.push((id.clone(), info));
        }
    }
    let ident = obj(ctx.body, "identity");
    if kind.to_ascii_lowercase().contains("systemassigned") {
        ident.insert("principalId".into(), json!(principal));
        ident.insert("tenantId".into(), json!(tenant));
    } else {
        ident.remove("principalId");
        ident.remove("tenantId");
    }
    if let Some(Value::Object(map)) = ident.get_mut("userAssignedIdentities") {
        for (id, info) in uai {
            if let Some((p, c)) = info {
                map.insert(id, json!({"principalId": p, "clientId": c}));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_casing() {
        assert_eq!(
            canonical_type("microsoft.network/VIRTUALNETWORKS/subnets"),
            "Microsoft.Network/virtualNetworks/subnets"
        );
        assert_eq!(
            canonical_type("microsoft.network/virtualnetworks/foo"),
            "Microsoft.Network/virtualNetworks/foo"
        );
        assert_eq!(
            canonical_type("microsoft.network/foos"),
            "Microsoft.Network/foos"
        );
        assert_eq!(
            default_duration("microsoft.apimanagement/service", "PUT"),
            Duration::from_secs(2700)
        );
    }

    #[test]
    fn docs_duration_table_matches_the_code() {
        let docs = include_str!("../../../docs/sandbox.md");
        for t in TYPES {
            let row = format!(
                "| `{}` | {} | {} | {} |",
                t.name, t.create_secs, t.update_secs, t.delete_secs
            );
            assert!(docs.contains(&row), "docs/sandbox.md lacks the row {row}");
        }
    }

    #[test]
    fn secrets_stripped() {
        let mut v = json!({"properties": {"configuration": {"secrets": [{"name": "a", "value": "x"}]}, "administratorLoginPassword": "p"}});
        strip_secrets(
            &mut v,
            &[
                "properties.configuration.secrets[].value",
                "properties.administratorLoginPassword",
            ],
        );
        assert_eq!(
            v,
            json!({"properties": {"configuration": {"secrets": [{"name": "a"}]}}})
        );
    }

    #[test]
    fn hosts() {
        assert_eq!(host_in("10.0.0.0/28", 1).as_deref(), Some("10.0.0.5"));
    }
}
