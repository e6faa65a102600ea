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
pub(crate) static TYPES: &[TypeDef] = &[
    TypeDef {
        name: "Microsoft.Resources/resourceGroups",
        create_secs: 1.0,
        update_secs: 1.0,
        delete_secs: 60.0,
        tracked: true,
        ..BASE
    },
    // --- Network
    TypeDef {
        name: "Microsoft.Network/virtualNetworks",
        create_secs: 5.0,
        update_secs: 5.0,
        delete_secs: 10.0,
        mode: Mode::Async201,
        tracked: true,
        states: NETWORK_STATES,
        etag: Etag::WeakGuid,
        inline: &[
            ("subnets", "subnets"),
            ("virtualNetworkPeerings", "virtualNetworkPeerings"),
        ],
        compute: Some(vnet),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Network/virtualNetworks/subnets",
        create_secs: 3.0,
        update_secs: 3.0,
        delete_secs: 3.0,
        mode: Mode::Async201,
        states: NETWORK_STATES,
        etag: Etag::WeakGuid,
        compute: Some(subnet),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
        create_secs: 5.0,
        update_secs: 5.0,
        delete_secs: 5.0,
        mode: Mode::Async201,
        requires_properties: true,
        states: NETWORK_STATES,
        etag: Etag::WeakGuid,
        compute: Some(peering),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Network/networkSecurityGroups",
        create_secs: 3.0,
        update_secs: 3.0,
        delete_secs: 5.0,
        mode: Mode::Async201,
        tracked: true,
        states: NETWORK_STATES,
        etag: Etag::WeakGuid,
        inline: &[("securityRules", "securityRules")],
        compute: Some(nsg),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Network/networkSecurityGroups/securityRules",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        mode: Mode::Async201,
        requires_properties: true,
        states: NETWORK_STATES,
        etag: Etag::WeakGuid,
        compute: Some(network_child),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Network/routeTables",
        create_secs: 3.0,
        update_secs: 3.0,
        delete_secs: 5.0,
        mode: Mode::Async201,
        tracked: true,
        states: NETWORK_STATES,
        etag: Etag::WeakGuid,
        inline: &[("routes", "routes")],
        compute: Some(route_table),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Network/routeTables/routes",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        mode: Mode::Async201,
        requires_properties: true,
        states: NETWORK_STATES,
        etag: Etag::WeakGuid,
        compute: Some(network_child),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Network/publicIPAddresses",
        create_secs: 3.0,
        update_secs: 3.0,
        delete_secs: 5.0,
        mode: Mode::Async201,
        tracked: true,
        states: NETWORK_STATES,
        etag: Etag::WeakGuid,
        compute: Some(public_ip),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Network/privateEndpoints",
        create_secs: 60.0,
        update_secs: 30.0,
        delete_secs: 30.0,
        mode: Mode::Async201,
        tracked: true,
        requires_properties: true,
        states: NETWORK_STATES,
        etag: Etag::WeakGuid,
        compute: Some(private_endpoint),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
        create_secs: 10.0,
        update_secs: 10.0,
        delete_secs: 10.0,
        mode: Mode::Async201,
        requires_properties: true,
        states: NETWORK_STATES,
        etag: Etag::WeakGuid,
        compute: Some(dns_zone_group),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Network/privateDnsZones",
        create_secs: 30.0,
        update_secs: 30.0,
        delete_secs: 30.0,
        mode: Mode::Async202,
        tracked: true,
        etag: Etag::Guid,
        compute: Some(private_dns_zone),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
        create_secs: 30.0,
        update_secs: 30.0,
        delete_secs: 30.0,
        mode: Mode::Async202,
        tracked: true,
        requires_properties: true,
        etag: Etag::Guid,
        compute: Some(vnet_link),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Network/privateDnsZones/A",
        create_secs: 1.0,
        update_secs: 1.0,
        delete_secs: 1.0,
        requires_properties: true,
        etag: Etag::Guid,
        compute: Some(record_set),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Network/privateDnsZones/CNAME",
        create_secs: 1.0,
        update_secs: 1.0,
        delete_secs: 1.0,
        requires_properties: true,
        etag: Etag::Guid,
        compute: Some(record_set),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Network/applicationGateways",
        create_secs: 360.0,
        update_secs: 300.0,
        delete_secs: 180.0,
        mode: Mode::Async201,
        tracked: true,
        requires_properties: true,
        states: NETWORK_STATES,
        etag: Etag::WeakGuid,
        secrets: &[
            "properties.sslCertificates[].properties.data",
            "properties.sslCertificates[].properties.password",
        ],
        compute: Some(app_gateway),
        ..BASE
    },
    // --- API Management
    TypeDef {
        name: "Microsoft.ApiManagement/service",
        create_secs: 2700.0,
        update_secs: 1200.0,
        delete_secs: 600.0,
        mode: Mode::Async201,
        tracked: true,
        requires_properties: true,
        states: APIM_STATES,
        etag: Etag::Quoted,
        compute: Some(apim_service),
        global_name: Some("ServiceAlreadyExists"),
        system_data: true,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.ApiManagement/service/apis",
        create_secs: 60.0,
        update_secs: 60.0,
        delete_secs: 2.0,
        mode: Mode::Async201,
        requires_properties: true,
        states: APIM_CHILD_STATES,
        etag: Etag::Quoted,
        secrets: &["properties.value", "properties.format"],
        compute: Some(apim_api),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.ApiManagement/service/apis/operations",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        requires_properties: true,
        etag: Etag::Quoted,
        compute: Some(apim_operation),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.ApiManagement/service/apis/policies",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        requires_properties: true,
        etag: Etag::Quoted,
        secrets: &["properties.format"],
        ..BASE
    },
    TypeDef {
        name: "Microsoft.ApiManagement/service/apis/operations/policies",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        requires_properties: true,
        etag: Etag::Quoted,
        secrets: &["properties.format"],
        ..BASE
    },
    TypeDef {
        name: "Microsoft.ApiManagement/service/policies",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        requires_properties: true,
        etag: Etag::Quoted,
        secrets: &["properties.format"],
        ..BASE
    },
    TypeDef {
        name: "Microsoft.ApiManagement/service/apis/diagnostics",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        requires_properties: true,
        etag: Etag::Quoted,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.ApiManagement/service/diagnostics",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        requires_properties: true,
        etag: Etag::Quoted,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.ApiManagement/service/namedValues",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        mode: Mode::Async201,
        requires_properties: true,
        states: APIM_CHILD_STATES,
        etag: Etag::Quoted,
        compute: Some(apim_named_value),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.ApiManagement/service/backends",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        requires_properties: true,
        etag: Etag::Quoted,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.ApiManagement/service/loggers",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        requires_properties: true,
        etag: Etag::Quoted,
        compute: Some(apim_logger),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.ApiManagement/service/products",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        requires_properties: true,
        etag: Etag::Quoted,
        compute: Some(apim_product),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.ApiManagement/service/products/apis",
        create_secs: 1.0,
        update_secs: 1.0,
        delete_secs: 1.0,
        compute: Some(apim_product_api),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.ApiManagement/service/subscriptions",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        requires_properties: true,
        etag: Etag::Quoted,
        secrets: &["properties.primaryKey", "properties.secondaryKey"],
        ..BASE
    },
    // --- Cognitive Services (Foundry)
    TypeDef {
        name: "Microsoft.CognitiveServices/accounts",
        create_secs: 60.0,
        update_secs: 30.0,
        delete_secs: 30.0,
        mode: Mode::Async201,
        tracked: true,
        etag: Etag::Datetime,
        compute: Some(cognitive_account),
        system_data: true,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.CognitiveServices/accounts/deployments",
        create_secs: 60.0,
        update_secs: 60.0,
        delete_secs: 20.0,
        mode: Mode::Async201,
        requires_properties: true,
        etag: Etag::Datetime,
        compute: Some(cognitive_deployment),
        system_data: true,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.CognitiveServices/accounts/projects",
        create_secs: 30.0,
        update_secs: 30.0,
        delete_secs: 30.0,
        mode: Mode::Async201,
        tracked: true,
        etag: Etag::Datetime,
        system_data: true,
        ..BASE
    },
    // --- Container Apps
    TypeDef {
        name: "Microsoft.App/managedEnvironments",
        create_secs: 300.0,
        update_secs: 120.0,
        delete_secs: 120.0,
        mode: Mode::Async201,
        tracked: true,
        requires_properties: true,
        states: ACA_ENV_STATES,
        secrets: &[
            "properties.appLogsConfiguration.logAnalyticsConfiguration.sharedKey",
            "properties.customDomainConfiguration.certificatePassword",
            "properties.customDomainConfiguration.certificateValue",
        ],
        compute: Some(aca_environment),
        system_data: true,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.App/managedEnvironments/storages",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        create_code: 200,
        requires_properties: true,
        secrets: &[
            "properties.azureFile.accountKey",
            "properties.nfsAzureFile.accountKey",
        ],
        system_data: true,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.App/managedEnvironments/certificates",
        create_secs: 5.0,
        update_secs: 5.0,
        delete_secs: 2.0,
        tracked: true,
        secrets: &["properties.password", "properties.value"],
        compute: Some(aca_certificate),
        system_data: true,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.App/containerApps",
        create_secs: 60.0,
        update_secs: 45.0,
        delete_secs: 30.0,
        mode: Mode::Async201,
        tracked: true,
        requires_properties: true,
        states: ACA_APP_STATES,
        secrets: &[
            "properties.configuration.secrets[].value",
            "properties.configuration.registries[].password",
        ],
        compute: Some(container_app),
        system_data: true,
        ..BASE
    },
    // --- PostgreSQL
    TypeDef {
        name: "Microsoft.DBforPostgreSQL/flexibleServers",
        create_secs: 360.0,
        update_secs: 180.0,
        delete_secs: 60.0,
        mode: Mode::Async202,
        tracked: true,
        requires_properties: true,
        states: PG_STATES,
        secrets: &["properties.administratorLoginPassword"],
        compute: Some(postgres_server),
        global_name: Some("ServerNameAlreadyExists"),
        system_data: true,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.DBforPostgreSQL/flexibleServers/databases",
        create_secs: 10.0,
        update_secs: 10.0,
        delete_secs: 10.0,
        mode: Mode::Async202,
        compute: Some(postgres_database),
        system_data: true,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.DBforPostgreSQL/flexibleServers/configurations",
        create_secs: 10.0,
        update_secs: 10.0,
        delete_secs: 10.0,
        mode: Mode::Async202,
        requires_properties: true,
        system_data: true,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules",
        create_secs: 10.0,
        update_secs: 10.0,
        delete_secs: 10.0,
        mode: Mode::Async202,
        requires_properties: true,
        system_data: true,
        ..BASE
    },
    // --- Key Vault
    TypeDef {
        name: "Microsoft.KeyVault/vaults",
        create_secs: 20.0,
        update_secs: 5.0,
        delete_secs: 5.0,
        mode: Mode::Async201,
        tracked: true,
        requires_properties: true,
        states: KV_STATES,
        compute: Some(key_vault),
        global_name: Some("VaultAlreadyExists"),
        system_data: true,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.KeyVault/vaults/secrets",
        create_secs: 1.0,
        update_secs: 1.0,
        delete_secs: 1.0,
        requires_properties: true,
        secrets: &["properties.value"],
        compute: Some(key_vault_secret),
        ..BASE
    },
    // --- Storage
    TypeDef {
        name: "Microsoft.Storage/storageAccounts",
        create_secs: 20.0,
        update_secs: 5.0,
        delete_secs: 5.0,
        mode: Mode::Async202,
        tracked: true,
        states: STORAGE_STATES,
        compute: Some(storage_account),
        global_name: Some("StorageAccountAlreadyTaken"),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Storage/storageAccounts/fileServices",
        create_secs: 1.0,
        update_secs: 1.0,
        delete_secs: 1.0,
        create_code: 200,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Storage/storageAccounts/fileServices/shares",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        etag: Etag::Quoted,
        compute: Some(file_share),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Storage/storageAccounts/blobServices",
        create_secs: 1.0,
        update_secs: 1.0,
        delete_secs: 1.0,
        create_code: 200,
        ..BASE
    },
    // --- Monitoring
    TypeDef {
        name: "Microsoft.OperationalInsights/workspaces",
        create_secs: 20.0,
        update_secs: 10.0,
        delete_secs: 10.0,
        mode: Mode::Async201,
        tracked: true,
        compute: Some(log_analytics),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Insights/components",
        create_secs: 10.0,
        update_secs: 5.0,
        delete_secs: 5.0,
        create_code: 200,
        tracked: true,
        compute: Some(app_insights),
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Insights/diagnosticSettings",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        create_code: 200,
        requires_properties: true,
        ..BASE
    },
    // --- Identity and RBAC
    TypeDef {
        name: "Microsoft.ManagedIdentity/userAssignedIdentities",
        create_secs: 2.0,
        update_secs: 1.0,
        delete_secs: 2.0,
        tracked: true,
        compute: Some(user_identity),
        system_data: true,
        ..BASE
    },
    TypeDef {
        name: "Microsoft.Authorization/roleAssignments",
        create_secs: 2.0,
        update_secs: 2.0,
        delete_secs: 2.0,
        requires_properties: true,
        compute: Some(role_assignment),
        ..BASE
    },
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
    Some(Ipv4Addr::from(base + host).to_string())
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

// ---------------------------------------------------------------------------------------
// Network

fn subresource_ids(ctx: &mut Ctx<'_>, collections: &[&str]) {
    let id = ctx.id.to_string();
    let etag = format!("W/\"{}\"", ctx.guid("etag"));
    let props = ctx.props();
    for c in collections {
        if let Some(Value::Array(items)) = props.get_mut(*c) {
            for item in items.iter_mut() {
                let Some(name) = item["name"].as_str().map(str::to_string) else {
                    continue;
                };
                if let Some(m) = item.as_object_mut() {
                    m.insert("id".into(), json!(format!("{id}/{c}/{name}")));
                    m.insert("etag".into(), json!(etag));
                }
                default(
                    obj(item, "properties"),
                    "provisioningState",
                    json!("Succeeded"),
                );
            }
        }
    }
}

fn resource_guid(ctx: &mut Ctx<'_>) {
    let g = ctx.guid("resourceGuid");
    ctx.props().insert("resourceGuid".into(), json!(g));
}

fn vnet(ctx: &mut Ctx<'_>) {
    resource_guid(ctx);
    let p = ctx.props();
    default(p, "enableDdosProtection", json!(false));
    default(p, "privateEndpointVNetPolicies", json!("Disabled"));
}

fn subnet(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    default(p, "privateEndpointNetworkPolicies", json!("Disabled"));
    default(p, "privateLinkServiceNetworkPolicies", json!("Enabled"));
    if let Some(Value::Array(eps)) = p.get_mut("serviceEndpoints") {
        for ep in eps {
            if let Some(m) = ep.as_object_mut() {
                default(m, "locations", json!(["*"]));
                default(m, "provisioningState", json!("Succeeded"));
            }
        }
    }
    network_child(ctx);
}

fn network_child(ctx: &mut Ctx<'_>) {
    let t = super::types::canonical_type(&type_of(ctx.id));
    if let Some(m) = ctx.body.as_object_mut() {
        m.insert("type".into(), json!(t));
    }
}

/// Type name of a canonical ID (best effort: used for inline children).
fn type_of(id: &str) -> String {
    match super::ids::parse(id) {
        Some(super::ids::Target::Provider(p)) => p.type_name(),
        _ => String::new(),
    }
}

fn peering(ctx: &mut Ctx<'_>) {
    let remote = ctx.body["properties"]["remoteVirtualNetwork"]["id"]
        .as_str()
        .map(str::to_string);
    let remote_space = remote
        .as_deref()
        .and_then(|r| ctx.resource(r))
        .map(|b| b["properties"]["addressSpace"].clone());
    // Connected when the remote VNet peers back to this one.
    let own_vnet = ctx.parent_id().to_ascii_lowercase();
    let back = remote.as_deref().is_some_and(|r| {
        let prefix = format!("{}/virtualnetworkpeerings/", super::ids::key(r));
        ctx.world
            .resources
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .any(|(_, res)| {
                res.body["properties"]["remoteVirtualNetwork"]["id"]
                    .as_str()
                    .is_some_and(|x| x.eq_ignore_ascii_case(&own_vnet))
            })
    });
    let p = ctx.props();
    if let Some(space) = remote_space.filter(|s| !s.is_null()) {
        p.insert("remoteAddressSpace".into(), space.clone());
        p.insert("remoteVirtualNetworkAddressSpace".into(), space);
    }
    default(p, "allowVirtualNetworkAccess", json!(true));
    default(p, "allowForwardedTraffic", json!(false));
    default(p, "allowGatewayTransit", json!(false));
    default(p, "useRemoteGateways", json!(false));
    p.insert(
        "peeringState".into(),
        json!(if back { "Connected" } else { "Initiated" }),
    );
    p.insert("peeringSyncLevel".into(), json!("FullyInSync"));
    network_child(ctx);
}

fn nsg(ctx: &mut Ctx<'_>) {
    resource_guid(ctx);
    let id = ctx.id.to_string();
    let etag = format!("W/\"{}\"", ctx.guid("etag"));
    let rule =
        |name: &str, desc: &str, src: &str, dst: &str, access: &str, prio: u32, dir: &str| {
            json!({
                "name": name,
                "id": format!("{id}/defaultSecurityRules/{name}"),
                "etag": etag,
                "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
                "properties": {
                    "provisioningState": "Succeeded", "description": desc, "protocol": "*",
                    "sourcePortRange": "*", "destinationPortRange": "*",
                    "sourceAddressPrefix": src, "destinationAddressPrefix": dst,
                    "sourcePortRanges": [], "destinationPortRanges": [],
                    "sourceAddressPrefixes": [], "destinationAddressPrefixes": [],
                    "access": access, "priority": prio, "direction": dir
                }
            })
        };
    let rules = json!([
        rule(
            "AllowVnetInBound",
            "Allow inbound traffic from all VMs in VNET",
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow",
            65000,
            "Inbound"
        ),
        rule(
            "AllowAzureLoadBalancerInBound",
            "Allow inbound traffic from azure load balancer",
            "AzureLoadBalancer",
            "*",
            "Allow",
            65001,
            "Inbound"
        ),
        rule(
            "DenyAllInBound",
            "Deny all inbound traffic",
            "*",
            "*",
            "Deny",
            65500,
            "Inbound"
        ),
        rule(
            "AllowVnetOutBound",
            "Allow outbound traffic from all VMs to all VMs in VNET",
            "VirtualNetwork",
            "VirtualNetwork",
            "Allow",
            65000,
            "Outbound"
        ),
        rule(
            "AllowInternetOutBound",
            "Allow outbound traffic from all VMs to Internet",
            "*",
            "Internet",
            "Allow",
            65001,
            "Outbound"
        ),
        rule(
            "DenyAllOutBound",
            "Deny all outbound traffic",
            "*",
            "*",
            "Deny",
            65500,
            "Outbound"
        ),
    ]);
    ctx.props().insert("defaultSecurityRules".into(), rules);
}

fn route_table(ctx: &mut Ctx<'_>) {
    resource_guid(ctx);
    default(ctx.props(), "disableBgpRoutePropagation", json!(false));
}

fn public_ip(ctx: &mut Ctx<'_>) {
    resource_guid(ctx);
    let ip = ctx.public_ip("ip");
    let location = ctx.location();
    let standard = ctx.body["sku"]["name"]
        .as_str()
        .is_some_and(|s| s.eq_ignore_ascii_case("Standard"));
    if ctx.body.get("sku").is_none()
        && let Some(m) = ctx.body.as_object_mut()
    {
        m.insert("sku".into(), json!({"name": "Basic", "tier": "Regional"}));
    }
    let p = ctx.props();
    default(p, "publicIPAddressVersion", json!("IPv4"));
    default(
        p,
        "publicIPAllocationMethod",
        json!(if standard { "Static" } else { "Dynamic" }),
    );
    default(p, "idleTimeoutInMinutes", json!(4));
    default(p, "ipTags", json!([]));
    if p["publicIPAllocationMethod"]
        .as_str()
        .is_some_and(|m| m.eq_ignore_ascii_case("Static"))
    {
        p.insert("ipAddress".into(), json!(ip));
    }
    if let Some(label) = p
        .get("dnsSettings")
        .and_then(|d| d["domainNameLabel"].as_str())
        .map(str::to_string)
    {
        let fqdn = format!("{label}.{location}.cloudapp.azure.com");
        if let Some(d) = p.get_mut("dnsSettings").and_then(Value::as_object_mut) {
            d.insert("fqdn".into(), json!(fqdn));
        }
    }
    if standard {
        default(
            p,
            "ddosSettings",
            json!({"protectionMode": "VirtualNetworkInherited"}),
        );
    }
}

fn private_endpoint(ctx: &mut Ctx<'_>) {
    resource_guid(ctx);
    let name = ctx.name().to_string();
    let rg_prefix = ctx.id.split("/providers/").next().unwrap_or("").to_string();
    let nic_name = ctx.body["properties"]["customNetworkInterfaceName"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{name}.nic.{}", ctx.guid("nic")));
    let subnet = ctx.body["properties"]["subnet"]["id"]
        .as_str()
        .map(str::to_string);
    let ip = subnet
        .as_deref()
        .and_then(|s| subnet_prefix(ctx, s))
        .and_then(|p| host_in(&p, u32::from(ctx.hash("pe-ip")[0] % 64)))
        .unwrap_or_else(|| "10.0.0.4".into());
    // customDnsConfigs: one FQDN per group the target serves.
    let mut fqdns = Vec::new();
    for conn in ctx.body["properties"]["privateLinkServiceConnections"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let target = conn["properties"]["privateLinkServiceId"]
            .as_str()
            .unwrap_or("");
        let tname = target.rsplit('/').next().unwrap_or("");
        for g in conn["properties"]["groupIds"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let g = g.as_str().unwrap_or("").to_ascii_lowercase();
            let host = match g.as_str() {
                "account" => format!("{tname}.cognitiveservices.azure.com"),
                "vault" => format!("{tname}.vault.azure.net"),
                "postgresqlserver" => format!("{tname}.postgres.database.azure.com"),
                "blob" | "file" | "queue" | "table" | "dfs" | "web" => {
                    format!("{tname}.{g}.core.windows.net")
                }
                "gateway" => format!("{tname}.azure-api.net"),
                other => format!("{tname}.{other}.privatelink.azure.com"),
            };
            fqdns.push(json!({"fqdn": host, "ipAddresses": [ip]}));
        }
    }
    let id = ctx.id.to_string();
    let p = ctx.props();
    for key in [
        "privateLinkServiceConnections",
        "manualPrivateLinkServiceConnections",
    ] {
        if let Some(Value::Array(conns)) = p.get_mut(key) {
            for c in conns.iter_mut() {
                let cname = c["name"].as_str().unwrap_or("connection").to_string();
                if let Some(m) = c.as_object_mut() {
                    m.insert("id".into(), json!(format!("{id}/{key}/{cname}")));
                    m.insert(
                        "type".into(),
                        json!(format!("Microsoft.Network/privateEndpoints/{key}")),
                    );
                }
                let cp = obj(c, "properties");
                default(cp, "provisioningState", json!("Succeeded"));
                default(
                    cp,
                    "privateLinkServiceConnectionState",
                    json!({"status": "Approved", "description": "Auto-Approved", "actionsRequired": "None"}),
                );
            }
        }
    }
    default(p, "manualPrivateLinkServiceConnections", json!([]));
    default(p, "applicationSecurityGroups", json!([]));
    default(p, "ipConfigurations", json!([]));
    default(p, "customNetworkInterfaceName", json!(""));
    p.insert("networkInterfaces".into(), json!([{"id": format!("{rg_prefix}/providers/Microsoft.Network/networkInterfaces/{nic_name}")}]));
    p.insert("customDnsConfigs".into(), Value::Array(fqdns));
}

fn dns_zone_group(ctx: &mut Ctx<'_>) {
    let id = ctx.id.to_string();
    let p = ctx.props();
    if let Some(Value::Array(cfgs)) = p.get_mut("privateDnsZoneConfigs") {
        for c in cfgs.iter_mut() {
            let n = c["name"].as_str().unwrap_or("config").to_string();
            if let Some(m) = c.as_object_mut() {
                m.insert(
                    "id".into(),
                    json!(format!("{id}/privateDnsZoneConfigs/{n}")),
                );
            }
            default(obj(c, "properties"), "recordSets", json!([]));
        }
    }
    network_child(ctx);
}

fn private_dns_zone(ctx: &mut Ctx<'_>) {
    let zone_key = super::ids::key(ctx.id);
    let count = |seg: &str| {
        let prefix = format!("{zone_key}/{seg}/");
        ctx.world
            .resources
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .count()
    };
    let links = count("virtualnetworklinks");
    let p = ctx.props();
    p.insert("maxNumberOfRecordSets".into(), json!(25000));
    p.insert("numberOfRecordSets".into(), json!(1));
    p.insert("maxNumberOfVirtualNetworkLinks".into(), json!(1000));
    p.insert("numberOfVirtualNetworkLinks".into(), json!(links));
    p.insert(
        "maxNumberOfVirtualNetworkLinksWithRegistration".into(),
        json!(100),
    );
    p.insert(
        "numberOfVirtualNetworkLinksWithRegistration".into(),
        json!(0),
    );
    p.insert(
        "internalId".into(),
        json!(format!("Subscription|{}|{}", "sandbox", zone_key)),
    );
}

fn vnet_link(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    default(p, "registrationEnabled", json!(false));
    default(p, "resolutionPolicy", json!("Default"));
    p.insert("virtualNetworkLinkState".into(), json!("Completed"));
}

fn record_set(ctx: &mut Ctx<'_>) {
    let zone = ctx.names.first().cloned().unwrap_or_default();
    let name = ctx.name().to_string();
    let fqdn = if name == "@" {
        format!("{zone}.")
    } else {
        format!("{name}.{zone}.")
    };
    let p = ctx.props();
    p.insert("fqdn".into(), json!(fqdn));
    p.insert("isAutoRegistered".into(), json!(false));
    default(p, "ttl", json!(3600));
}

fn app_gateway(ctx: &mut Ctx<'_>) {
    resource_guid(ctx);
    subresource_ids(
        ctx,
        &[
            "gatewayIPConfigurations",
            "sslCertificates",
            "trustedRootCertificates",
            "frontendIPConfigurations",
            "frontendPorts",
            "backendAddressPools",
            "backendHttpSettingsCollection",
            "httpListeners",
            "listeners",
            "requestRoutingRules",
            "routingRules",
            "probes",
            "redirectConfigurations",
            "rewriteRuleSets",
            "urlPathMaps",
        ],
    );
    let p = ctx.props();
    p.insert("operationalState".into(), json!("Running"));
    if let Some(Value::Array(certs)) = p.get_mut("sslCertificates") {
        for c in certs {
            if c["properties"]["keyVaultSecretId"].is_string() {
                default(obj(c, "properties"), "publicCertData", json!(""));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// API Management

fn apim_service(ctx: &mut Ctx<'_>) {
    let name = ctx.name().to_string();
    let location = ctx.location();
    let created = ctx.created();
    let public_ip = ctx.body["properties"]["publicIpAddressId"]
        .as_str()
        .and_then(|id| ctx.resource(id))
        .and_then(|b| b["properties"]["ipAddress"].as_str().map(str::to_string))
        .unwrap_or_else(|| ctx.public_ip("apim-public"));
    let vnet_type = ctx.body["properties"]["virtualNetworkType"]
        .as_str()
        .unwrap_or("None")
        .to_string();
    let subnet = ctx.body["properties"]["virtualNetworkConfiguration"]["subnetResourceId"]
        .as_str()
        .map(str::to_string);
    let private_ip = match vnet_type.as_str() {
        "Internal" | "External" => subnet
            .as_deref()
            .and_then(|s| subnet_prefix(ctx, s))
            .and_then(|p| host_in(&p, 1)),
        _ => None,
    };
    let p = ctx.props();
    default(
        p,
        "notificationSenderEmail",
        json!("apimgmt-noreply@mail.windowsazure.com"),
    );
    p.insert("targetProvisioningState".into(), json!(""));
    p.insert("createdAtUtc".into(), json!(created));
    p.insert(
        "gatewayUrl".into(),
        json!(format!("https://{name}.azure-api.net")),
    );
    p.insert(
        "gatewayRegionalUrl".into(),
        json!(format!(
            "https://{name}-{location}-01.regional.azure-api.net"
        )),
    );
    p.insert(
        "portalUrl".into(),
        json!(format!("https://{name}.portal.azure-api.net")),
    );
    p.insert(
        "developerPortalUrl".into(),
        json!(format!("https://{name}.developer.azure-api.net")),
    );
    p.insert(
        "managementApiUrl".into(),
        json!(format!("https://{name}.management.azure-api.net")),
    );
    p.insert(
        "scmUrl".into(),
        json!(format!("https://{name}.scm.azure-api.net")),
    );
    default(
        p,
        "hostnameConfigurations",
        json!([{"type": "Proxy", "hostName": format!("{name}.azure-api.net"), "negotiateClientCertificate": false, "defaultSslBinding": true, "certificateSource": "BuiltIn"}]),
    );
    p.insert("publicIPAddresses".into(), json!([public_ip]));
    match private_ip {
        Some(ip) => p.insert("privateIPAddresses".into(), json!([ip])),
        None => p.remove("privateIPAddresses"),
    };
    default(p, "virtualNetworkType", json!("None"));
    default(p, "disableGateway", json!(false));
    default(p, "natGatewayState", json!("Disabled"));
    default(p, "outboundPublicIPAddresses", json!([public_ip]));
    default(p, "publicNetworkAccess", json!("Enabled"));
    default(p, "developerPortalStatus", json!("Enabled"));
    default(p, "legacyPortalStatus", json!("Enabled"));
    default(p, "releaseChannel", json!("Default"));
    default(p, "platformVersion", json!("stv2"));
    default(p, "enableClientCertificate", json!(false));
    default(
        p,
        "customProperties",
        json!({
            "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls10": "False",
            "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Tls11": "False",
            "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Protocols.Ssl30": "False",
            "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Ciphers.TripleDes168": "False",
            "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls10": "False",
            "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Tls11": "False",
            "Microsoft.WindowsAzure.ApiManagement.Gateway.Security.Backend.Protocols.Ssl30": "False",
            "Microsoft.WindowsAzure.ApiManagement.Gateway.Protocols.Server.Http2": "False"
        }),
    );
}

fn apim_api(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    default(p, "apiRevision", json!("1"));
    default(p, "isCurrent", json!(true));
    default(p, "type", json!("http"));
    default(p, "protocols", json!(["https"]));
    default(p, "subscriptionRequired", json!(true));
    default(
        p,
        "subscriptionKeyParameterNames",
        json!({"header": "Ocp-Apim-Subscription-Key", "query": "subscription-key"}),
    );
    if let Some(Value::Object(names)) = p.get_mut("subscriptionKeyParameterNames") {
        default(names, "header", json!("Ocp-Apim-Subscription-Key"));
        default(names, "query", json!("subscription-key"));
    }
}

fn apim_operation(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    default(p, "templateParameters", json!([]));
    default(p, "responses", json!([]));
}

fn apim_named_value(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    default(p, "secret", json!(false));
    default(p, "tags", json!([]));
    if p["secret"].as_bool() == Some(true) || p.contains_key("keyVault") {
        p.remove("value");
    }
}

fn apim_logger(ctx: &mut Ctx<'_>) {
    let suffix = ctx.hex("logger-credentials", 24);
    let p = ctx.props();
    default(p, "isBuffered", json!(true));
    if let Some(Value::Object(creds)) = p.get_mut("credentials") {
        for (k, v) in creds.iter_mut() {
            if k != "identityClientId" {
                *v = json!(format!("{{{{Logger-Credentials--{suffix}}}}}"));
            }
        }
    }
}

fn apim_product(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    default(p, "state", json!("notPublished"));
    default(p, "subscriptionRequired", json!(true));
    if p["subscriptionRequired"].as_bool() == Some(true) {
        default(p, "approvalRequired", json!(false));
    }
}

/// `products/{p}/apis/{a}`: the answer is the API contract (as the service answers).
fn apim_product_api(ctx: &mut Ctx<'_>) {
    let service = ctx.id.split("/products/").next().unwrap_or("").to_string();
    let api_name = ctx.name().to_string();
    let api = ctx.resource(&format!("{service}/apis/{api_name}")).cloned();
    if let Some(api) = api {
        ctx.body["properties"] = api["properties"].clone();
    }
}

// ---------------------------------------------------------------------------------------
// Cognitive Services

fn cognitive_account(ctx: &mut Ctx<'_>) {
    let location = ctx.location();
    let created = ctx.created();
    let internal = ctx.hex("internal", 32);
    let kind = ctx.body["kind"].as_str().unwrap_or("").to_string();
    let sub = ctx.body["properties"]["customSubDomainName"]
        .as_str()
        .map(str::to_string);
    let p = ctx.props();
    let endpoint = match &sub {
        Some(s) => format!("https://{s}.cognitiveservices.azure.com/"),
        None => format!("https://{location}.api.cognitive.microsoft.com/"),
    };
    p.insert("endpoint".into(), json!(endpoint));
    let mut endpoints = Map::new();
    if let Some(s) = &sub {
        if kind.eq_ignore_ascii_case("AIServices") || kind.eq_ignore_ascii_case("OpenAI") {
            endpoints.insert(
                "OpenAI Language Model Instance API".into(),
                json!(format!("https://{s}.openai.azure.com/")),
            );
            endpoints.insert(
                "OpenAI Model Scaleset API".into(),
                json!(format!("https://{s}.openai.azure.com/")),
            );
        }
        if kind.eq_ignore_ascii_case("AIServices") {
            endpoints.insert(
                "AI Foundry API".into(),
                json!(format!("https://{s}.services.ai.azure.com/")),
            );
            endpoints.insert(
                "Azure AI Model Inference API".into(),
                json!(format!("https://{s}.services.ai.azure.com/")),
            );
            endpoints.insert(
                "Content Safety".into(),
                json!(format!("https://{s}.cognitiveservices.azure.com/")),
            );
        }
    }
    endpoints.insert("Cognitive Services".into(), json!(endpoint));
    p.insert("endpoints".into(), Value::Object(endpoints));
    p.insert("internalId".into(), json!(internal));
    p.insert("dateCreated".into(), json!(created));
    default(p, "publicNetworkAccess", json!("Enabled"));
    default(
        p,
        "networkAcls",
        json!({"defaultAction": "Allow", "virtualNetworkRules": [], "ipRules": []}),
    );
    default(p, "isMigrated", json!(false));
    default(p, "capabilities", json!([]));
}

fn cognitive_deployment(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    default(
        p,
        "versionUpgradeOption",
        json!("OnceNewDefaultVersionAvailable"),
    );
    default(p, "raiPolicyName", json!("Microsoft.DefaultV2"));
    default(p, "capabilities", json!({"chatCompletion": "true"}));
    if let Some(cap) = ctx.body["sku"]["capacity"].as_i64() {
        let limits = json!([{"key": "request", "renewalPeriod": 60, "count": cap}, {"key": "token", "renewalPeriod": 60, "count": cap * 1000}]);
        ctx.props().insert("rateLimits".into(), limits);
        ctx.props().insert("currentCapacity".into(), json!(cap));
    }
}

// ---------------------------------------------------------------------------------------
// Container Apps

const DOMAIN_WORDS: &[&str] = &[
    "happyhill",
    "bravesea",
    "calmriver",
    "gentlemoss",
    "proudsky",
    "wittyfield",
    "livelytree",
    "mildstone",
];

fn aca_environment(ctx: &mut Ctx<'_>) {
    let location = ctx.location();
    let h = ctx.hash("domain");
    let word = DOMAIN_WORDS[usize::from(h[0]) % DOMAIN_WORDS.len()];
    let domain = format!(
        "{word}-{}.{location}.azurecontainerapps.io",
        ctx.hex("domain", 8)
    );
    let internal = ctx.body["properties"]["vnetConfiguration"]["internal"].as_bool() == Some(true);
    let infra_subnet = ctx.body["properties"]["vnetConfiguration"]["infrastructureSubnetId"]
        .as_str()
        .map(str::to_string);
    let static_ip = if internal {
        infra_subnet
            .as_deref()
            .and_then(|s| subnet_prefix(ctx, s))
            .and_then(|p| host_in(&p, 96))
            .unwrap_or_else(|| "10.0.0.100".into())
    } else {
        ctx.public_ip("aca-static")
    };
    let verification = ctx.hex("verification", 64).to_ascii_uppercase();
    let name = ctx.name().to_string();
    let rg = ctx.rg.unwrap_or("").to_string();
    let p = ctx.props();
    p.insert("defaultDomain".into(), json!(domain));
    p.insert("staticIp".into(), json!(static_ip));
    p.insert("deploymentErrors".into(), Value::Null);
    p.insert("eventStreamEndpoint".into(), json!(format!("https://{location}.azurecontainerapps.dev/subscriptions/sandbox/resourceGroups/{rg}/managedEnvironments/{name}/eventstream")));
    default(
        p,
        "infrastructureResourceGroup",
        json!(format!("ME_{name}_{rg}_{location}")),
    );
    default(p, "zoneRedundant", json!(false));
    default(p, "kedaConfiguration", json!({"version": "2.17.1"}));
    default(p, "daprConfiguration", json!({"version": "1.13.6-msft.4"}));
    default(p, "peerAuthentication", json!({"mtls": {"enabled": false}}));
    default(
        p,
        "peerTrafficConfiguration",
        json!({"encryption": {"enabled": false}}),
    );
    default(
        p,
        "publicNetworkAccess",
        json!(if internal { "Disabled" } else { "Enabled" }),
    );
    let custom = p.entry("customDomainConfiguration").or_insert(json!({}));
    if let Some(m) = custom.as_object_mut() {
        m.insert("customDomainVerificationId".into(), json!(verification));
    }
}

fn aca_certificate(ctx: &mut Ctx<'_>) {
    let thumb = ctx.hex("thumbprint", 40).to_ascii_uppercase();
    let p = ctx.props();
    p.insert("provisioningState".into(), json!("Succeeded"));
    p.insert("thumbprint".into(), json!(thumb));
    default(p, "subjectName", json!("CN=sandbox"));
    default(p, "expirationDate", json!("2030-01-01T00:00:00Z"));
    default(p, "valid", json!(true));
}

fn container_app(ctx: &mut Ctx<'_>) {
    let name = ctx.name().to_string();
    let env_id = ctx.body["properties"]["managedEnvironmentId"]
        .as_str()
        .or_else(|| ctx.body["properties"]["environmentId"].as_str())
        .map(str::to_string);
    let env = env_id.as_deref().and_then(|e| ctx.resource(e)).cloned();
    let domain = env
        .as_ref()
        .and_then(|e| {
            e["properties"]["defaultDomain"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("sandbox.{}.azurecontainerapps.io", ctx.location()));
    let env_ip = env
        .as_ref()
        .and_then(|e| e["properties"]["staticIp"].as_str().map(str::to_string));
    let suffix = ctx.body["properties"]["template"]["revisionSuffix"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| ctx.hex(&format!("revision{}", ctx.now_ms), 7));
    let revision = format!("{name}--{suffix}");
    let verification = ctx.hex("verification", 64).to_ascii_uppercase();
    let outbound = ctx.public_ip("outbound");
    let p = ctx.props();
    if let Some(e) = &env_id {
        p.insert("managedEnvironmentId".into(), json!(e));
        p.insert("environmentId".into(), json!(e));
    }
    default(p, "workloadProfileName", json!("Consumption"));
    p.insert("latestRevisionName".into(), json!(revision));
    p.insert("latestReadyRevisionName".into(), json!(revision));
    p.insert(
        "latestRevisionFqdn".into(),
        json!(format!("{revision}.{domain}")),
    );
    p.insert("customDomainVerificationId".into(), json!(verification));
    p.insert(
        "outboundIpAddresses".into(),
        json!([env_ip.unwrap_or(outbound)]),
    );
    p.insert("runningStatus".into(), json!("Running"));
    let mut cfg = p
        .remove("configuration")
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    if let Some(m) = cfg.as_object_mut() {
        default(m, "activeRevisionsMode", json!("Single"));
        default(m, "maxInactiveRevisions", json!(100));
    }
    if let Some(ingress) = cfg.get_mut("ingress").and_then(Value::as_object_mut) {
        let external = ingress
            .get("external")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let fqdn = if external {
            format!("{name}.{domain}")
        } else {
            format!("{name}.internal.{domain}")
        };
        ingress.insert("fqdn".into(), json!(fqdn));
        default(ingress, "external", json!(false));
        default(ingress, "transport", json!("Auto"));
        default(ingress, "allowInsecure", json!(false));
        default(
            ingress,
            "traffic",
            json!([{"weight": 100, "latestRevision": true}]),
        );
        default(ingress, "exposedPort", json!(0));
    }
    ctx.props().insert("configuration".into(), cfg);
    let tmpl = ctx.props().entry("template").or_insert(json!({}));
    if let Some(tmpl) = tmpl.as_object_mut() {
        default(tmpl, "revisionSuffix", json!(""));
        if let Some(Value::Array(containers)) = tmpl.get_mut("containers") {
            for c in containers {
                if let Some(r) = c.get_mut("resources").and_then(Value::as_object_mut) {
                    default(r, "ephemeralStorage", json!("2Gi"));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL

fn postgres_server(ctx: &mut Ctx<'_>) {
    let name = ctx.name().to_string();
    let created = ctx.created();
    let private = ctx.body["properties"]["network"]["delegatedSubnetResourceId"].is_string();
    let p = ctx.props();
    p.insert(
        "fullyQualifiedDomainName".into(),
        json!(format!("{name}.postgres.database.azure.com")),
    );
    default(p, "version", json!("16"));
    p.insert("minorVersion".into(), json!("8"));
    default(p, "replicationRole", json!("Primary"));
    default(p, "replicaCapacity", json!(5));
    default(p, "replica", json!({"role": "Primary", "capacity": 5}));
    default(p, "dataEncryption", json!({"type": "SystemManaged"}));
    default(
        p,
        "authConfig",
        json!({"activeDirectoryAuth": "Disabled", "passwordAuth": "Enabled"}),
    );
    default(
        p,
        "maintenanceWindow",
        json!({"customWindow": "Disabled", "dayOfWeek": 0, "startHour": 0, "startMinute": 0}),
    );
    default(p, "highAvailability", json!({"mode": "Disabled"}));
    if let Some(Value::Object(ha)) = p.get_mut("highAvailability") {
        let mode = ha
            .get("mode")
            .and_then(Value::as_str)
            .unwrap_or("Disabled")
            .to_string();
        ha.insert(
            "state".into(),
            json!(if mode == "Disabled" {
                "NotEnabled"
            } else {
                "Healthy"
            }),
        );
    }
    let s = p.entry("storage").or_insert(json!({}));
    if let Some(s) = s.as_object_mut() {
        default(s, "storageSizeGB", json!(32));
        default(s, "autoGrow", json!("Disabled"));
        default(s, "tier", json!("P4"));
        default(s, "iops", json!(120));
        default(s, "type", json!(""));
    }
    let b = p.entry("backup").or_insert(json!({}));
    if let Some(b) = b.as_object_mut() {
        default(b, "backupRetentionDays", json!(7));
        default(b, "geoRedundantBackup", json!("Disabled"));
        b.insert("earliestRestoreDate".into(), json!(created));
    }
    let n = p.entry("network").or_insert(json!({}));
    if let Some(n) = n.as_object_mut() {
        default(
            n,
            "publicNetworkAccess",
            json!(if private { "Disabled" } else { "Enabled" }),
        );
    }
    default(p, "availabilityZone", json!("1"));
}

fn postgres_database(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    default(p, "charset", json!("UTF8"));
    default(p, "collation", json!("en_US.utf8"));
}

// ---------------------------------------------------------------------------------------
// Key Vault

fn key_vault(ctx: &mut Ctx<'_>) {
    let name = ctx.name().to_string();
    let tenant = ctx.tenant.to_string();
    let p = ctx.props();
    p.insert(
        "vaultUri".into(),
        json!(format!("https://{name}.vault.azure.net/")),
    );
    default(p, "tenantId", json!(tenant));
    default(p, "sku", json!({"family": "A", "name": "standard"}));
    default(p, "accessPolicies", json!([]));
    default(p, "enabledForDeployment", json!(false));
    default(p, "enabledForDiskEncryption", json!(false));
    default(p, "enabledForTemplateDeployment", json!(false));
    default(p, "enableSoftDelete", json!(true));
    default(p, "softDeleteRetentionInDays", json!(90));
    default(p, "enableRbacAuthorization", json!(false));
    default(p, "publicNetworkAccess", json!("Enabled"));
    default(
        p,
        "networkAcls",
        json!({"bypass": "AzureServices", "defaultAction": "Allow", "ipRules": [], "virtualNetworkRules": []}),
    );
}

fn key_vault_secret(ctx: &mut Ctx<'_>) {
    let vault = ctx.names.first().cloned().unwrap_or_default();
    let name = ctx.name().to_string();
    let version = ctx.hex(&format!("version{}", ctx.now_ms), 32);
    let created = ctx.created_ms / 1000;
    let updated = ctx.now_ms / 1000;
    let location = ctx
        .resource(ctx.parent_id())
        .and_then(|v| v["location"].as_str().map(str::to_string))
        .unwrap_or_default();
    if let Some(m) = ctx.body.as_object_mut() {
        m.insert("location".into(), json!(location));
    }
    let p = ctx.props();
    let attrs = p.entry("attributes").or_insert(json!({}));
    if let Some(a) = attrs.as_object_mut() {
        default(a, "enabled", json!(true));
        a.insert("created".into(), json!(created));
        a.insert("updated".into(), json!(updated));
    }
    p.insert(
        "secretUri".into(),
        json!(format!("https://{vault}.vault.azure.net/secrets/{name}")),
    );
    p.insert(
        "secretUriWithVersion".into(),
        json!(format!(
            "https://{vault}.vault.azure.net/secrets/{name}/{version}"
        )),
    );
}

// ---------------------------------------------------------------------------------------
// Storage

fn storage_account(ctx: &mut Ctx<'_>) {
    let name = ctx.name().to_string();
    let location = ctx.location();
    let created = ctx.created();
    let kind = ctx.body["kind"].as_str().unwrap_or("StorageV2").to_string();
    if let Some(m) = ctx.body.as_object_mut() {
        default(m, "kind", json!(kind));
    }
    let p = ctx.props();
    let ep = |svc: &str| format!("https://{name}.{svc}.core.windows.net/");
    p.insert(
        "primaryEndpoints".into(),
        json!({"dfs": ep("dfs"), "web": ep("web"), "blob": ep("blob"), "queue": ep("queue"), "table": ep("table"), "file": ep("file")}),
    );
    p.insert("primaryLocation".into(), json!(location));
    p.insert("statusOfPrimary".into(), json!("available"));
    p.insert("creationTime".into(), json!(created));
    p.insert(
        "keyCreationTime".into(),
        json!({"key1": created, "key2": created}),
    );
    if kind.eq_ignore_ascii_case("StorageV2") || kind.eq_ignore_ascii_case("BlobStorage") {
        default(p, "accessTier", json!("Hot"));
    }
    default(p, "supportsHttpsTrafficOnly", json!(true));
    default(p, "minimumTlsVersion", json!("TLS1_0"));
    default(p, "allowBlobPublicAccess", json!(false));
    default(p, "allowSharedKeyAccess", json!(true));
    default(
        p,
        "networkAcls",
        json!({"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [], "defaultAction": "Allow"}),
    );
    if let Some(Value::Object(acl)) = p.get_mut("networkAcls") {
        if let Some(Value::Array(rules)) = acl.get_mut("virtualNetworkRules") {
            for r in rules {
                if let Some(r) = r.as_object_mut() {
                    default(r, "action", json!("Allow"));
                    default(r, "state", json!("Succeeded"));
                }
            }
        }
        default(acl, "ipRules", json!([]));
        default(acl, "bypass", json!("AzureServices"));
    }
    default(
        p,
        "encryption",
        json!({
            "services": {
                "file": {"keyType": "Account", "enabled": true, "lastEnabledTime": created},
                "blob": {"keyType": "Account", "enabled": true, "lastEnabledTime": created}
            },
            "keySource": "Microsoft.Storage"
        }),
    );
}

fn file_share(ctx: &mut Ctx<'_>) {
    let now = super::server::rfc3339(ctx.now_ms);
    let p = ctx.props();
    p.insert("lastModifiedTime".into(), json!(now));
    default(p, "shareQuota", json!(102400));
    default(p, "enabledProtocols", json!("SMB"));
    default(p, "accessTier", json!("TransactionOptimized"));
}

// ---------------------------------------------------------------------------------------
// Monitoring

fn log_analytics(ctx: &mut Ctx<'_>) {
    let customer = ctx.guid("customerId");
    let created = ctx.created();
    let now = super::server::rfc3339(ctx.now_ms);
    let p = ctx.props();
    p.insert("customerId".into(), json!(customer));
    p.insert("createdDate".into(), json!(created));
    p.insert("modifiedDate".into(), json!(now));
    default(p, "sku", json!({"name": "PerGB2018"}));
    default(p, "retentionInDays", json!(30));
    default(p, "publicNetworkAccessForIngestion", json!("Enabled"));
    default(p, "publicNetworkAccessForQuery", json!("Enabled"));
    default(p, "workspaceCapping", json!({"dailyQuotaGb": -1.0}));
    default(
        p,
        "features",
        json!({"legacy": 0, "searchVersion": 1, "enableLogAccessUsingOnlyResourcePermissions": true}),
    );
}

fn app_insights(ctx: &mut Ctx<'_>) {
    let name = ctx.name().to_string();
    let location = ctx.location();
    let ikey = ctx.guid("instrumentationKey");
    let app_id = ctx.guid("appId");
    let created = ctx.created();
    let sub = ctx.sub.to_string();
    let p = ctx.props();
    p.insert("ApplicationId".into(), json!(name));
    p.insert("AppId".into(), json!(app_id));
    p.insert("InstrumentationKey".into(), json!(ikey));
    p.insert(
        "ConnectionString".into(),
        json!(format!(
            "InstrumentationKey={ikey};IngestionEndpoint=https://{location}-1.in.applicationinsights.azure.com/;LiveEndpoint=https://{location}.livediagnostics.monitor.azure.com/;ApplicationId={app_id}"
        )),
    );
    p.insert("CreationDate".into(), json!(created));
    p.insert("TenantId".into(), json!(sub));
    p.insert("provisioningState".into(), json!("Succeeded"));
    default(p, "Application_Type", json!("web"));
    default(p, "Request_Source", json!("rest"));
    default(p, "RetentionInDays", json!(90));
    default(p, "publicNetworkAccessForIngestion", json!("Enabled"));
    default(p, "publicNetworkAccessForQuery", json!("Enabled"));
    let mode = if p.contains_key("WorkspaceResourceId") {
        "LogAnalytics"
    } else {
        "ApplicationInsights"
    };
    p.insert("IngestionMode".into(), json!(mode));
}

// ---------------------------------------------------------------------------------------
// Identity and RBAC

fn user_identity(ctx: &mut Ctx<'_>) {
    let principal = ctx.guid("principalId");
    let client = ctx.guid("clientId");
    let tenant = ctx.tenant.to_string();
    let p = ctx.props();
    p.insert("principalId".into(), json!(principal));
    p.insert("clientId".into(), json!(client));
    p.insert("tenantId".into(), json!(tenant));
}

fn role_assignment(ctx: &mut Ctx<'_>) {
    let scope = ctx.id.rsplitn(5, '/').nth(4).unwrap_or("").to_string();
    let created = ctx.created();
    let now = super::server::rfc3339(ctx.now_ms);
    let p = ctx.props();
    p.insert("scope".into(), json!(scope));
    p.insert("createdOn".into(), json!(created));
    p.insert("updatedOn".into(), json!(now));
    default(p, "condition", Value::Null);
    default(p, "conditionVersion", Value::Null);
    default(p, "description", Value::Null);
    default(p, "delegatedManagedIdentityResourceId", Value::Null);
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
