//! The `spoke` stage (ARM part): resource group, NSG, spoke VNet with the
//! Container Apps subnet, peerings with the hub, links of the hub's private DNS
//! zones to the spoke VNet, Key Vault and its secrets, storage with the SMB share,
//! PostgreSQL with its database, private endpoint and `azure.extensions` parameter
//! (pgvector), Azure Managed Redis with its private endpoint (with `[redis]`), the
//! Foundry account(s) with private endpoints and model deployments, the Container
//! Apps environment (its identity and RBAC first), its storage and certificate, and
//! the Open WebUI app with its RBAC. The Entra application is built elsewhere; the app only
//! references its `appId`.

use super::hub::{
    ZONE_AI_SERVICES, ZONE_COGNITIVE, ZONE_OPENAI, ZONE_POSTGRES, ZONE_REDIS, ZONE_VAULT,
    private_dns_zones,
};
use super::ids::{
    ACA_SUBNET, SECRET_CERTIFICATE, SECRET_PG_CONNECTION, SECRET_PG_PASSWORD,
    SECRET_PG_PASSWORD_URL_ENCODED, SECRET_REDIS_URL, SECRET_WEBUI_KEY, SPOKE_LINK,
    SPOKE_TO_HUB_PEERING,
};
use super::resources::{
    ManagedIdentity, Placement, SubResource, Tags, cognitive_account, container_app, file_share,
    key_vault_secret, managed_environment, managed_environment_certificate,
    managed_environment_storage, model_deployment, postgres_configuration, postgres_database,
    postgres_server, private_dns_zone_group, private_endpoint, redis_database, redis_enterprise,
    role_assignment, storage_account, user_assigned_identity, virtual_network,
    virtual_network_peering,
};
use super::scaffold::StageScope;
use super::{Ids, StageError, StageOptions, foundry_location, hub_location, spoke_location};
use crate::config::{CloudSetting, Environment, NamedCloud};
use crate::engine::{Address, Input, Reference, ResourceSpec, SecretAction, SecretRef, Stage};

/// Secret input (engine secret store) with the storage account key, fetched by
/// the CLI with listKeys.
pub const SECRET_STORAGE_KEY: &str = "storage-account-key";
/// How the engine obtains [`SECRET_STORAGE_KEY`]: `listKeys` on the spoke storage
/// account, invoked only right before a write that needs the key.
pub fn storage_key_action(env: &Environment) -> Result<SecretAction, StageError> {
    Ok(SecretAction {
        address: Address::from(Ids::new(env).storage_account()),
        api_version: super::api_version_of(storage_account::TYPE)?,
        action: "listKeys".into(),
        pointer: "/keys/0/value".into(),
    })
}

/// Secret input (engine secret store) with the Redis access key, percent-encoded
/// for the userinfo of the Redis URL; fetched with the database's listKeys.
pub const SECRET_REDIS_KEY_URL_ENCODED: &str = "redis-access-key-url-encoded";
/// Port of an Azure Managed Redis database (TLS).
pub const REDIS_PORT: u16 = 10000;
/// How the engine obtains [`SECRET_REDIS_KEY_URL_ENCODED`]: `listKeys` on the
/// Redis database, invoked only right before the write that needs the key (the
/// `redis-url` Key Vault secret); `None` without `[redis]`.
pub fn redis_key_action(env: &Environment) -> Result<Option<SecretAction>, StageError> {
    if env.redis.is_none() {
        return Ok(None);
    }
    Ok(Some(SecretAction {
        address: Address::from(Ids::new(env).redis_database()),
        api_version: super::api_version_of(redis_database::TYPE)?,
        action: "listKeys".into(),
        pointer: "/primaryKey".into(),
    }))
}

/// The value of the `redis-url` Key Vault secret, as markers:
/// `rediss://:${secret:KEY_URL_ENCODED}@${ref:CLUSTER#/properties/hostName}:10000/0`
/// (TLS, access key as password, database 0, the form redis-py's `from_url` reads).
pub fn redis_url_template(env: &Environment) -> String {
    let host = Reference::new(Ids::new(env).redis(), "/properties/hostName");
    format!(
        "rediss://:{}@{}:{REDIS_PORT}/0",
        SecretRef(SECRET_REDIS_KEY_URL_ENCODED.to_string()).marker(),
        host.marker()
    )
}

/// The value of the `postgres-connection-string` Key Vault secret, as markers:
/// `postgresql://LOGIN:${secret:PASSWORD_URL_ENCODED}@${ref:SERVER#/properties/fullyQualifiedDomainName}:5432/DB?sslmode=require`.
/// The host is the server's live `fullyQualifiedDomainName` (right in every cloud),
/// filled in by the engine when the secret is written; the whole value is
/// sensitive (the plan shows `(sensitive)`, it is compared by presence).
pub fn connection_string_template(env: &Environment) -> String {
    let ids = Ids::new(env);
    let pg = &env.postgres;
    let fqdn = Reference::new(ids.postgres(), "/properties/fullyQualifiedDomainName");
    format!(
        "postgresql://{}:{}@{}:5432/{}?sslmode=require",
        percent_encode(&pg.admin_login),
        SecretRef(SECRET_PG_PASSWORD_URL_ENCODED.to_string()).marker(),
        fqdn.marker(),
        percent_encode(&pg.database)
    )
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for the
/// userinfo and path of a URL).
pub fn percent_encode(s: &str) -> String {
    crate::engine::percent_encode(s)
}

/// Name of the app secret holding the database URL.
pub const APP_SECRET_DATABASE_URL: &str = "database-url";
/// Name of the app secret holding `WEBUI_SECRET_KEY`.
pub const APP_SECRET_WEBUI_KEY: &str = "webui-secret-key";
/// Name of the app secret holding the Redis URL (with `[redis]`).
pub const APP_SECRET_REDIS_URL: &str = "redis-url";
/// Open WebUI's health endpoint (probes of the app and the App Gateway).
pub const HEALTH_PATH: &str = "/health";
/// Mount options of the SMB volume (SQLite-safe locking off, permissions ignored).
pub const MOUNT_OPTIONS: &str = "nobrl,noperm,mfsymlinks,cache=strict";
/// Where Open WebUI keeps its data.
pub const DATA_PATH: &str = "/app/backend/data";
/// Open WebUI's port.
pub const TARGET_PORT: u16 = 8080;
/// Name of the Open WebUI container.
pub const CONTAINER_NAME: &str = "open-webui";

/// The Entra ID authority host of the environment's cloud (for
/// `OPENID_PROVIDER_URL` and the admin consent URL); the sandbox stands for the
/// public cloud.
pub fn authority_host(env: &Environment) -> String {
    match &env.azure.cloud {
        CloudSetting::Custom(c) => c.authority.trim_end_matches('/').to_string(),
        CloudSetting::Named(NamedCloud::AzureUSGovernment) => {
            "https://login.microsoftonline.us".into()
        }
        CloudSetting::Named(NamedCloud::AzureChinaCloud) => "https://login.chinacloudapi.cn".into(),
        CloudSetting::Named(NamedCloud::AzureCloud)
        | CloudSetting::Named(NamedCloud::Sandbox)
        | CloudSetting::Default => "https://login.microsoftonline.com".into(),
    }
}

/// The Open WebUI environment variables (built-in settings, then `extra_env`,
/// which overrides a built-in of the same name), in a stable order.
pub fn open_webui_env(env: &Environment) -> Vec<container_app::EnvVar> {
    use container_app::EnvVar;
    let ids = Ids::new(env);
    let unique = &env.entra.unique_name;
    let app_id = Reference::new(Ids::graph_application(unique), "/appId");
    let gateway = Reference::new(ids.apim(), "/properties/gatewayUrl");
    let mut vars = vec![
        EnvVar::value("WEBUI_URL", format!("https://{}", env.domain.custom_domain)),
        EnvVar::value("ENABLE_OAUTH_SIGNUP", "true"),
        EnvVar::value("ENABLE_LOGIN_FORM", "false"),
        EnvVar::value("ENABLE_OAUTH_PERSISTENT_CONFIG", "false"),
        EnvVar::input("OAUTH_CLIENT_ID", Input::Ref(app_id)),
        EnvVar::value("OAUTH_CODE_CHALLENGE_METHOD", "S256"),
        EnvVar::value("OAUTH_PROVIDER_NAME", env.entra.provider_name.clone()),
        EnvVar::value(
            "OAUTH_SCOPES",
            format!(
                "openid email profile api://{unique}/user_impersonation User.Read GroupMember.Read.All ProfilePhoto.Read.All"
            ),
        ),
        EnvVar::value(
            "OPENID_PROVIDER_URL",
            format!(
                "{}/{}/v2.0/.well-known/openid-configuration",
                authority_host(env),
                env.azure.tenant_id
            ),
        ),
        EnvVar::value("OAUTH_EMAIL_CLAIM", "email"),
        EnvVar::value("OAUTH_USERNAME_CLAIM", "name"),
        EnvVar::input(
            "OPENAI_API_BASE_URL",
            Input::Known(gateway.within("", "/openai/v1")),
        ),
        EnvVar::value("ENABLE_OAUTH_ROLE_MANAGEMENT", "true"),
        EnvVar::value("OAUTH_ROLES_CLAIM", "roles"),
        EnvVar::value("OAUTH_ALLOWED_ROLES", env.entra.roles.join(",")),
        EnvVar::value("OAUTH_ADMIN_ROLES", "admin"),
        EnvVar::value("ENABLE_OAUTH_GROUP_MANAGEMENT", "true"),
        EnvVar::value("ENABLE_OAUTH_GROUP_CREATION", "true"),
        EnvVar::value("OAUTH_GROUPS_CLAIM", "groups"),
        EnvVar::value("ENABLE_SIGNUP", "false"),
        EnvVar::value("DEFAULT_USER_ROLE", "user"),
        EnvVar::value("WEBUI_SESSION_COOKIE_SECURE", "true"),
        EnvVar::secret("DATABASE_URL", APP_SECRET_DATABASE_URL),
        EnvVar::secret("WEBUI_SECRET_KEY", APP_SECRET_WEBUI_KEY),
        // pgvector in the same database (PGVECTOR_DB_URL defaults to DATABASE_URL).
        EnvVar::value("VECTOR_DB", "pgvector"),
    ];
    if env.redis.is_some() {
        vars.extend([
            EnvVar::secret("REDIS_URL", APP_SECRET_REDIS_URL),
            EnvVar::value("ENABLE_WEBSOCKET_SUPPORT", "true"),
            EnvVar::value("WEBSOCKET_MANAGER", "redis"),
            EnvVar::secret("WEBSOCKET_REDIS_URL", APP_SECRET_REDIS_URL),
        ]);
    }
    for (name, value) in &env.container_app.extra_env {
        match vars.iter_mut().find(|v| v.name == *name) {
            Some(v) => *v = EnvVar::value(name, value.clone()),
            None => vars.push(EnvVar::value(name, value.clone())),
        }
    }
    vars
}

/// The app's secrets: Key Vault references read through the environment's
/// user-assigned identity (the database URL, `WEBUI_SECRET_KEY`, and with
/// `[redis]` the Redis URL).
fn app_secrets(env: &Environment, ids: &Ids) -> Vec<container_app::AppSecret> {
    let reference = |name: &str, secret: &str| container_app::AppSecret {
        name: name.into(),
        key_vault_url: Input::Ref(Reference::new(
            ids.spoke_secret(secret),
            "/properties/secretUri",
        )),
        identity: ids.aca_env_identity(),
    };
    let mut secrets = vec![
        reference(APP_SECRET_DATABASE_URL, SECRET_PG_CONNECTION),
        reference(APP_SECRET_WEBUI_KEY, SECRET_WEBUI_KEY),
    ];
    if env.redis.is_some() {
        secrets.push(reference(APP_SECRET_REDIS_URL, SECRET_REDIS_URL));
    }
    secrets
}

/// Startup, liveness and readiness probes on Open WebUI's `/health`. The first
/// start migrates the database and loads the embedding model, which takes minutes:
/// the startup probe allows 30 s + 10 x 30 s before the replica is restarted, and
/// the other probes start only after it succeeded.
pub fn open_webui_probes() -> Vec<container_app::Probe> {
    let probe = |kind: &str, delay: u32, period: u32, failures: u32| container_app::Probe {
        kind: kind.into(),
        http_get: container_app::ProbeHttpGet {
            path: HEALTH_PATH.into(),
            port: TARGET_PORT,
            scheme: "HTTP".into(),
        },
        initial_delay_seconds: delay,
        period_seconds: period,
        timeout_seconds: 5,
        failure_threshold: failures,
    };
    vec![
        probe("Startup", 30, 30, 10),
        probe("Liveness", 10, 30, 3),
        probe("Readiness", 10, 10, 3),
    ]
}

/// The value of `azure.extensions`: `VECTOR` plus `postgres.extensions`, upper-case,
/// sorted, without duplicates, comma-separated (`PG_TRGM,VECTOR`).
pub fn allowed_extensions(env: &Environment) -> String {
    let mut all: Vec<String> = env
        .postgres
        .extensions
        .iter()
        .map(|x| x.trim().to_ascii_uppercase())
        .chain(["VECTOR".to_string()])
        .collect();
    all.sort();
    all.dedup();
    all.join(",")
}

/// The `azure.extensions` server parameter allowing `VECTOR` (pgvector), which
/// Open WebUI's `VECTOR_DB=pgvector` creates in its database, and the extensions
/// of `postgres.extensions`.
fn postgres_extensions(env: &Environment, ids: &Ids) -> Result<ResourceSpec, StageError> {
    postgres_configuration::spec(
        Placement::new(
            ids.postgres_extensions(),
            format!(
                "PostgreSQL parameter azure.extensions on {}",
                env.postgres.server_name
            ),
            Stage::Spoke,
        )
        .after(ids.postgres()),
        &postgres_configuration::Configuration {
            properties: postgres_configuration::ConfigurationProperties {
                value: allowed_extensions(env),
                source: "user-override".into(),
            },
        },
    )
}

/// With `[redis]`: the Azure Managed Redis cluster (TLS 1.2, no public access),
/// its TLS-only database and its private endpoint with the
/// `privatelink.redis.azure.net` zone group.
fn redis_resources(
    env: &Environment,
    ids: &Ids,
    tags: &Tags,
) -> Result<Vec<ResourceSpec>, StageError> {
    let Some(redis) = &env.redis else {
        return Ok(Vec::new());
    };
    let cluster = ids.redis();
    let mut out = vec![redis_enterprise::spec(
        Placement::new(
            cluster.clone(),
            format!("Azure Managed Redis {}", redis.name),
            Stage::Spoke,
        )
        .after(ids.spoke_rg.clone()),
        &redis_enterprise::Cluster {
            location: spoke_location(env),
            tags: tags.clone(),
            sku: redis_enterprise::ClusterSku {
                name: redis.sku.clone(),
            },
            properties: redis_enterprise::ClusterProperties {
                minimum_tls_version: "1.2".into(),
                public_network_access: "Disabled".into(),
                high_availability: if redis.high_availability {
                    "Enabled".into()
                } else {
                    "Disabled".into()
                },
            },
        },
    )?];
    out.push(redis_database::spec(
        Placement::new(
            ids.redis_database(),
            format!("Redis database of {}", redis.name),
            Stage::Spoke,
        )
        .after(cluster.clone()),
        &redis_database::Database {
            properties: redis_database::DatabaseProperties {
                client_protocol: "Encrypted".into(),
                clustering_policy: "EnterpriseCluster".into(),
                eviction_policy: "VolatileLRU".into(),
                port: REDIS_PORT,
                access_keys_authentication: "Enabled".into(),
            },
        },
    )?);
    out.extend(private_endpoint_pair(
        ids,
        tags,
        env,
        ids.redis_private_endpoint(),
        (
            &cluster,
            "redisEnterprise",
            &format!("Azure Managed Redis {}", redis.name),
        ),
        &[ZONE_REDIS],
    )?);
    Ok(out)
}

/// One Foundry account of the spoke: the main one or a pool member.
struct FoundryAccount {
    name: String,
    subdomain: String,
    location: String,
}

fn foundry_accounts(env: &Environment) -> Vec<FoundryAccount> {
    let f = &env.foundry;
    let mut accounts = vec![FoundryAccount {
        name: f.name.clone(),
        subdomain: f.custom_subdomain.clone().unwrap_or_else(|| f.name.clone()),
        location: foundry_location(env),
    }];
    for p in &f.pool {
        accounts.push(FoundryAccount {
            name: p.name.clone(),
            subdomain: p.custom_subdomain.clone().unwrap_or_else(|| p.name.clone()),
            location: crate::config::normalize_location(&p.location),
        });
    }
    accounts
}

/// A private endpoint of the spoke stage in the hub `pe-subnet` (region of the hub
/// VNet) and its DNS zone group.
fn private_endpoint_pair(
    ids: &Ids,
    tags: &Tags,
    env: &Environment,
    pe_id: String,
    target: (&str, &str, &str),
    zones: &[&str],
) -> Result<[ResourceSpec; 2], StageError> {
    let placed = (Stage::Spoke, ids.spoke_rg.as_str());
    private_endpoint_pair_in(ids, tags, env, placed, pe_id, target, zones)
}

/// A private endpoint in the hub `pe-subnet` and its DNS zone group, written by
/// `placed.0` into the resource group `placed.1` (which the endpoint's ID names).
/// `target` is (resource ID, group ID, what it is).
pub(crate) fn private_endpoint_pair_in(
    ids: &Ids,
    tags: &Tags,
    env: &Environment,
    placed: (Stage, &str),
    pe_id: String,
    target: (&str, &str, &str),
    zones: &[&str],
) -> Result<[ResourceSpec; 2], StageError> {
    let (stage, rg) = placed;
    let (target_id, group_id, what) = target;
    let pe_name = pe_id.rsplit('/').next().unwrap_or_default().to_string();
    let at = Placement::new(pe_id.clone(), format!("private endpoint of {what}"), stage)
        .after(rg.to_string())
        .after(ids.hub_vnet())
        .after(target_id);
    let pe = private_endpoint::spec(
        at,
        &private_endpoint::PrivateEndpoint {
            location: hub_location(env),
            tags: tags.clone(),
            properties: private_endpoint::PrivateEndpointProperties {
                subnet: SubResource::new(ids.pe_subnet()),
                private_link_service_connections: vec![
                    private_endpoint::PrivateLinkServiceConnection {
                        name: pe_name,
                        properties: private_endpoint::ConnectionProperties {
                            private_link_service_id: target_id.to_string(),
                            group_ids: vec![group_id.to_string()],
                        },
                    },
                ],
            },
        },
    )?;
    let mut at = Placement::new(
        Ids::zone_group(&pe_id),
        format!("private DNS zone group of {what}"),
        stage,
    )
    .after(pe_id.clone());
    for z in zones {
        at = at.after(ids.dns_zone(z));
    }
    let group = private_dns_zone_group::spec(
        at,
        &private_dns_zone_group::PrivateDnsZoneGroup {
            properties: private_dns_zone_group::ZoneGroupProperties {
                private_dns_zone_configs: zones
                    .iter()
                    .map(|z| private_dns_zone_group::ZoneConfig::new(z, ids.dns_zone(z)))
                    .collect(),
            },
        },
    )?;
    Ok([pe, group])
}

/// Every ARM resource of the spoke stage, concern by concern (the order is the
/// order of the plan).
pub fn resources(env: &Environment, opts: &StageOptions) -> Result<Vec<ResourceSpec>, StageError> {
    let s = StageScope::spoke(env);
    let mut out = Vec::new();
    out.extend(spoke_resource_group(&s)?);
    out.extend(network(&s)?);
    out.extend(key_vault_and_secrets(&s, opts)?);
    out.extend(storage(&s)?);
    out.extend(postgres(&s)?);
    out.extend(redis_resources(env, &s.ids, &s.tags)?);
    out.extend(foundry(&s)?);
    out.extend(container_apps(&s, opts)?);
    Ok(out)
}

/// The spoke resource group, unless the spoke shares the hub's (then the hub
/// declares it).
fn spoke_resource_group(s: &StageScope) -> Result<Option<ResourceSpec>, StageError> {
    if s.ids.spoke_rg.eq_ignore_ascii_case(&s.ids.hub_rg) {
        return Ok(None);
    }
    let label = format!("spoke resource group {}", s.env.spoke.resource_group);
    Ok(Some(s.resource_group(label)?))
}

/// The peering properties towards `remote` (VNet access only, no transit).
fn peering(remote: String) -> virtual_network_peering::PeeringProperties {
    virtual_network_peering::PeeringProperties {
        remote_virtual_network: SubResource::new(remote),
        allow_virtual_network_access: true,
        allow_forwarded_traffic: false,
        allow_gateway_transit: false,
        use_remote_gateways: false,
    }
}

/// Network: the Container Apps subnet NSG, the spoke VNet (with the spoke -> hub
/// peering inline), the hub -> spoke peering and the spoke links of the hub's
/// private DNS zones.
fn network(s: &StageScope) -> Result<Vec<ResourceSpec>, StageError> {
    let (ids, spoke) = (&s.ids, &s.env.spoke);
    let mut out = vec![s.network_security_group(
        ids.spoke_nsg(),
        format!("Container Apps subnet NSG {}", spoke.nsg_name),
        Vec::new(),
    )?];
    out.push(spoke_vnet(s)?);

    // The hub -> spoke peering is a child of the hub VNet, which the hub stage owns.
    out.push(virtual_network_peering::spec(
        s.place(ids.hub_to_spoke_peering(), "peering hub -> spoke".into())
            .after(ids.hub_vnet())
            .after(ids.spoke_vnet()),
        &virtual_network_peering::VirtualNetworkPeering {
            properties: peering(ids.spoke_vnet()),
        },
    )?);

    for zone in private_dns_zones(s.env) {
        out.push(s.dns_zone_link(zone, (SPOKE_LINK, "spoke"), ids.spoke_vnet())?);
    }
    Ok(out)
}

/// The spoke VNet with the Container Apps subnet and the spoke -> hub peering.
fn spoke_vnet(s: &StageScope) -> Result<ResourceSpec, StageError> {
    let (ids, spoke) = (&s.ids, &s.env.spoke);
    // Consumption-only environment: a /23 subnet that must not be delegated.
    let mut aca_subnet =
        virtual_network::SubnetProperties::prefix(spoke.container_apps_subnet.to_string());
    aca_subnet.network_security_group = Some(SubResource::new(ids.spoke_nsg()));
    aca_subnet.service_endpoints = vec![virtual_network::ServiceEndpoint {
        service: "Microsoft.Storage".into(),
    }];
    // The spoke -> hub peering is declared inline: a separate peering would be
    // deleted by every later PUT of the spoke VNet (e.g. a tag change).
    virtual_network::spec(
        s.at(ids.spoke_vnet(), format!("spoke VNet {}", spoke.vnet_name))
            .after(ids.spoke_nsg())
            .after(ids.hub_vnet()),
        &virtual_network::VirtualNetwork {
            location: s.location.clone(),
            tags: s.tags.clone(),
            properties: virtual_network::VirtualNetworkProperties {
                address_space: virtual_network::AddressSpace {
                    address_prefixes: vec![spoke.address_space.to_string()],
                },
                subnets: vec![virtual_network::Subnet {
                    name: ACA_SUBNET.into(),
                    properties: aca_subnet,
                }],
                virtual_network_peerings: vec![virtual_network::InlinePeering {
                    name: SPOKE_TO_HUB_PEERING.into(),
                    properties: peering(ids.hub_vnet()),
                }],
            },
        },
    )
}

/// Secrets: the spoke Key Vault (with its private endpoint when
/// `hub.key_vault_private_dns`) and its secrets.
fn key_vault_and_secrets(
    s: &StageScope,
    opts: &StageOptions,
) -> Result<Vec<ResourceSpec>, StageError> {
    let (ids, env) = (&s.ids, s.env);
    let vault = ids.spoke_key_vault();
    let label = format!("spoke Key Vault {}", env.spoke.key_vault_name);
    let mut out = vec![s.key_vault(vault.clone(), label.clone())?];
    if env.hub.key_vault_private_dns {
        out.extend(private_endpoint_pair(
            ids,
            &s.tags,
            env,
            ids.spoke_key_vault_private_endpoint(),
            (&vault, "vault", &label),
            &[ZONE_VAULT],
        )?);
    }
    for (name, value, content_type) in spoke_secrets(env, opts) {
        out.push(key_vault_secret::spec(
            s.place(ids.spoke_secret(name), format!("Key Vault secret {name}"))
                .after(vault.clone()),
            &key_vault_secret::Secret {
                tags: s.tags.clone(),
                properties: key_vault_secret::SecretProperties {
                    value,
                    content_type: content_type.map(str::to_string),
                },
            },
        )?);
    }
    Ok(out)
}

/// The spoke Key Vault's secrets, in order: (name, value, content type).
fn spoke_secrets(
    env: &Environment,
    opts: &StageOptions,
) -> Vec<(&'static str, Input<String>, Option<&'static str>)> {
    let input = |name: &str| Input::Secret(SecretRef(name.to_string()));
    let mut secrets = vec![
        (
            SECRET_PG_CONNECTION,
            Input::Known(connection_string_template(env)),
            None,
        ),
        (SECRET_PG_PASSWORD, input(SECRET_PG_PASSWORD), None),
        // Generated on the first deploy and kept (compared by presence); stored here
        // before the app that reads it exists.
        (SECRET_WEBUI_KEY, input(SECRET_WEBUI_KEY), None),
    ];
    if env.redis.is_some() {
        // The access key is fetched (listKeys) right before this secret is written.
        secrets.push((
            SECRET_REDIS_URL,
            Input::Known(redis_url_template(env)),
            None,
        ));
    }
    if !opts.without_certificate {
        secrets.push((
            SECRET_CERTIFICATE,
            input(SECRET_CERTIFICATE),
            Some("application/x-pkcs12"),
        ));
    }
    secrets
}

/// Data: the storage account (reachable from the Container Apps subnet only) and
/// its SMB file share.
fn storage(s: &StageScope) -> Result<Vec<ResourceSpec>, StageError> {
    let (ids, spoke) = (&s.ids, &s.env.spoke);
    let account = storage_account::spec(
        s.at(
            ids.storage_account(),
            format!("storage account {}", spoke.storage_account_name),
        )
        .after(ids.spoke_vnet()),
        &storage_account::StorageAccount {
            location: s.location.clone(),
            tags: s.tags.clone(),
            kind: "StorageV2".into(),
            sku: storage_account::StorageSku {
                name: "Standard_LRS".into(),
            },
            properties: storage_account::StorageProperties {
                supports_https_traffic_only: true,
                allow_blob_public_access: false,
                allow_shared_key_access: true,
                minimum_tls_version: "TLS1_2".into(),
                network_acls: storage_account::StorageNetworkAcls {
                    bypass: "AzureServices".into(),
                    default_action: "Deny".into(),
                    virtual_network_rules: vec![storage_account::StorageVnetRule {
                        id: ids.aca_subnet(),
                        action: "Allow".into(),
                    }],
                },
            },
        },
    )?;
    let share = file_share::spec(
        s.place(
            ids.file_share(),
            format!("file share {}", spoke.file_share_name),
        )
        .after(ids.storage_account()),
        &file_share::FileShare {
            properties: file_share::FileShareProperties {
                share_quota: spoke.file_share_quota_gib,
                enabled_protocols: "SMB".into(),
            },
        },
    )?;
    Ok(vec![account, share])
}

/// Data: the PostgreSQL server, its database, its private endpoint and the
/// `azure.extensions` parameter.
fn postgres(s: &StageScope) -> Result<Vec<ResourceSpec>, StageError> {
    let (ids, pg) = (&s.ids, &s.env.postgres);
    let mut out = vec![postgres_server(s)?];
    out.push(postgres_database::spec(
        s.place(
            ids.postgres_database(),
            format!("PostgreSQL database {}", pg.database),
        )
        .after(ids.postgres()),
        &postgres_database::Database {
            properties: postgres_database::DatabaseProperties {
                charset: "UTF8".into(),
                collation: "en_US.utf8".into(),
            },
        },
    )?);
    out.extend(private_endpoint_pair(
        ids,
        &s.tags,
        s.env,
        ids.postgres_private_endpoint(),
        (
            &ids.postgres(),
            "postgresqlServer",
            &format!("PostgreSQL server {}", pg.server_name),
        ),
        &[ZONE_POSTGRES],
    )?);
    out.push(postgres_extensions(s.env, ids)?);
    Ok(out)
}

/// The PostgreSQL flexible server (password authentication, no public access).
fn postgres_server(s: &StageScope) -> Result<ResourceSpec, StageError> {
    let pg = &s.env.postgres;
    // The password is stored in Key Vault before the server that uses it is
    // created: a run stopped in between leaves a secret without a server (the
    // next run sets a new password in both), never a server whose password
    // nothing holds.
    postgres_server::spec(
        s.at(
            s.ids.postgres(),
            format!("PostgreSQL server {}", pg.server_name),
        )
        .after(s.ids.spoke_secret(SECRET_PG_PASSWORD)),
        &postgres_server::FlexibleServer {
            location: s.location.clone(),
            tags: s.tags.clone(),
            sku: postgres_server::ServerSku {
                name: pg.sku.clone(),
                tier: pg.tier.clone(),
            },
            properties: postgres_server::ServerProperties {
                version: pg.version.clone(),
                administrator_login: pg.admin_login.clone(),
                administrator_login_password: Input::Secret(SecretRef(
                    SECRET_PG_PASSWORD.to_string(),
                )),
                storage: postgres_server::ServerStorage {
                    storage_size_gb: pg.storage_gb,
                },
                auth_config: postgres_server::AuthConfig {
                    active_directory_auth: "Disabled".into(),
                    password_auth: "Enabled".into(),
                },
                network: postgres_server::ServerNetwork {
                    public_network_access: "Disabled".into(),
                },
            },
        },
    )
}

/// Foundry: each account (the main one, then the pool) with its private endpoint
/// and its model deployments.
fn foundry(s: &StageScope) -> Result<Vec<ResourceSpec>, StageError> {
    let ids = &s.ids;
    let mut out = Vec::new();
    for account in foundry_accounts(s.env) {
        let account_id = ids.foundry_account(&account.name);
        out.push(foundry_account(s, &account, &account_id)?);
        out.extend(private_endpoint_pair(
            ids,
            &s.tags,
            s.env,
            ids.foundry_private_endpoint(&account.name),
            (
                &account_id,
                "account",
                &format!("Foundry account {}", account.name),
            ),
            &[ZONE_COGNITIVE, ZONE_OPENAI, ZONE_AI_SERVICES],
        )?);
        for d in &s.env.foundry.deployments {
            out.push(model_deployment::spec(
                s.place(
                    ids.model_deployment(&account.name, &d.name),
                    format!("model deployment {} on {}", d.name, account.name),
                )
                .after(account_id.clone()),
                &account_id,
                &model_deployment::Deployment {
                    tags: s.tags.clone(),
                    sku: model_deployment::DeploymentSku {
                        name: d.sku.clone(),
                        capacity: d.capacity,
                    },
                    properties: model_deployment::DeploymentProperties {
                        model: model_deployment::DeploymentModel {
                            format: d.format.clone(),
                            name: d.model.clone(),
                            version: d.version.clone(),
                        },
                    },
                },
            )?);
        }
    }
    Ok(out)
}

/// One Foundry (AIServices) account: system identity, local auth and public
/// access off.
fn foundry_account(
    s: &StageScope,
    account: &FoundryAccount,
    account_id: &str,
) -> Result<ResourceSpec, StageError> {
    cognitive_account::spec(
        s.at(
            account_id.to_string(),
            format!("Foundry account {}", account.name),
        ),
        &cognitive_account::Account {
            location: account.location.clone(),
            tags: s.tags.clone(),
            kind: "AIServices".into(),
            sku: cognitive_account::AccountSku { name: "S0".into() },
            identity: ManagedIdentity::system(),
            properties: cognitive_account::AccountProperties {
                custom_sub_domain_name: account.subdomain.clone(),
                disable_local_auth: true,
                allow_project_management: true,
                public_network_access: "Disabled".into(),
                network_acls: cognitive_account::AccountNetworkAcls {
                    default_action: "Deny".into(),
                },
            },
        },
    )
}

/// Compute: the Container Apps environment's identity and its Key Vault role,
/// the environment, its storage and certificate, then the Open WebUI app and the
/// app's own Key Vault role.
fn container_apps(s: &StageScope, opts: &StageOptions) -> Result<Vec<ResourceSpec>, StageError> {
    let identity = environment_identity(s)?;
    let identity_role = environment_identity_role(s)?;
    let env_identity_rbac_id = identity_role.address.to_string();
    let mut out = vec![identity, identity_role];
    out.push(managed_environment(s, &env_identity_rbac_id)?);
    out.push(environment_storage(s)?);
    if !opts.without_certificate {
        out.push(environment_certificate(s, &env_identity_rbac_id)?);
    }
    out.push(open_webui_app(s, opts, &env_identity_rbac_id)?);
    out.push(open_webui_role(s)?);
    Ok(out)
}

/// The user-assigned identity of the Container Apps environment.
fn environment_identity(s: &StageScope) -> Result<ResourceSpec, StageError> {
    user_assigned_identity::spec(
        s.at(
            s.ids.aca_env_identity(),
            format!(
                "Container Apps environment identity {}",
                s.env.container_app.environment_identity_name
            ),
        ),
        &user_assigned_identity::UserAssignedIdentity {
            location: s.location.clone(),
            tags: s.tags.clone(),
        },
    )
}

/// Key Vault Secrets User on the spoke vault for the environment's identity.
fn environment_identity_role(s: &StageScope) -> Result<ResourceSpec, StageError> {
    role_assignment::spec(
        &s.ids.spoke_key_vault(),
        role_assignment::KEY_VAULT_SECRETS_USER,
        role_assignment::Principal::user_identity(&s.ids.aca_env_identity()),
        &format!(
            "Key Vault Secrets User for {} on {}",
            s.env.container_app.environment_identity_name, s.env.spoke.key_vault_name
        ),
        s.stage,
    )
}

/// The internal, VNet-integrated Container Apps environment (written after its
/// identity's Key Vault role `identity_role`).
fn managed_environment(s: &StageScope, identity_role: &str) -> Result<ResourceSpec, StageError> {
    let (ids, ca) = (&s.ids, &s.env.container_app);
    let env_identity = ids.aca_env_identity();
    managed_environment::spec(
        s.at(
            ids.aca_env(),
            format!("Container Apps environment {}", ca.environment_name),
        )
        .after(ids.spoke_vnet())
        .after(env_identity.clone())
        .after(identity_role.to_string()),
        &managed_environment::ManagedEnvironment {
            location: s.location.clone(),
            tags: s.tags.clone(),
            identity: ManagedIdentity::user(env_identity),
            properties: managed_environment::EnvironmentProperties {
                vnet_configuration: managed_environment::VnetConfiguration {
                    internal: true,
                    infrastructure_subnet_id: ids.aca_subnet(),
                },
                public_network_access: "Disabled".into(),
                dapr_ai_connection_string: Input::Ref(Reference::new(
                    ids.app_insights(),
                    "/properties/ConnectionString",
                )),
                zone_redundant: false,
            },
        },
    )
}

/// The environment's storage: the SMB share, mounted with the storage account key.
fn environment_storage(s: &StageScope) -> Result<ResourceSpec, StageError> {
    let (ids, spoke) = (&s.ids, &s.env.spoke);
    managed_environment_storage::spec(
        s.place(
            ids.aca_env_storage(),
            format!("environment storage {}", spoke.file_share_name),
        )
        .after(ids.aca_env())
        .after(ids.file_share()),
        &managed_environment_storage::EnvironmentStorage {
            properties: managed_environment_storage::EnvironmentStorageProperties {
                azure_file: managed_environment_storage::AzureFile {
                    account_name: spoke.storage_account_name.clone(),
                    account_key: Input::Secret(SecretRef(SECRET_STORAGE_KEY.to_string())),
                    share_name: spoke.file_share_name.clone(),
                    access_mode: "ReadWrite".into(),
                },
            },
        },
    )
}

/// The environment's certificate, read from the spoke Key Vault through the
/// environment's identity (after its Key Vault role `identity_role`).
fn environment_certificate(
    s: &StageScope,
    identity_role: &str,
) -> Result<ResourceSpec, StageError> {
    let ids = &s.ids;
    managed_environment_certificate::spec(
        s.place(
            ids.aca_env_certificate(),
            "environment certificate (from Key Vault)".into(),
        )
        .after(ids.aca_env())
        .after(identity_role.to_string()),
        &managed_environment_certificate::EnvironmentCertificate {
            location: s.location.clone(),
            tags: s.tags.clone(),
            properties: managed_environment_certificate::CertificateProperties {
                certificate_key_vault_properties:
                    managed_environment_certificate::CertificateKeyVaultProperties {
                        identity: ids.aca_env_identity(),
                        key_vault_url: Input::Ref(Reference::new(
                            ids.spoke_secret(SECRET_CERTIFICATE),
                            "/properties/secretUri",
                        )),
                    },
            },
        },
    )
}

/// The Open WebUI container app (after the environment, its storage, its
/// identity's Key Vault role `identity_role`, the certificate and the
/// `azure.extensions` parameter).
fn open_webui_app(
    s: &StageScope,
    opts: &StageOptions,
    identity_role: &str,
) -> Result<ResourceSpec, StageError> {
    let (ids, env) = (&s.ids, s.env);
    let env_identity = ids.aca_env_identity();
    // The first revision reads `database-url` from Key Vault at creation, so the
    // secret is read through the environment's user-assigned identity, whose
    // Key Vault Secrets User role exists before the app (the system identity's
    // role can only be granted once the app exists).
    let mut app_at = s
        .at(
            ids.container_app(),
            format!("container app {}", env.container_app.name),
        )
        .after(ids.aca_env())
        .after(ids.aca_env_storage())
        .after(env_identity.clone())
        .after(identity_role.to_string());
    if !opts.without_certificate {
        app_at = app_at.after(ids.aca_env_certificate());
    }
    // Open WebUI creates the `vector` extension at its first start.
    app_at = app_at.after(ids.postgres_extensions());
    container_app::spec(
        app_at,
        &container_app::ContainerApp {
            location: s.location.clone(),
            tags: s.tags.clone(),
            identity: ManagedIdentity::system_and_user(env_identity),
            properties: container_app::ContainerAppProperties {
                managed_environment_id: ids.aca_env(),
                configuration: container_app::Configuration {
                    active_revisions_mode: "Single".into(),
                    ingress: open_webui_ingress(env, opts),
                    secrets: app_secrets(env, ids),
                },
                template: open_webui_template(env),
            },
        },
    )
}

/// The app's ingress: external to the environment's internal network, reachable
/// only from the App Gateway subnet, with the custom domain when a certificate
/// is available.
fn open_webui_ingress(env: &Environment, opts: &StageOptions) -> container_app::Ingress {
    let mut custom_domains = Vec::new();
    if !opts.without_certificate {
        custom_domains.push(container_app::CustomDomain {
            name: env.domain.custom_domain.clone(),
            binding_type: "SniEnabled".into(),
            certificate_id: Ids::new(env).aca_env_certificate(),
        });
    }
    container_app::Ingress {
        external: true,
        target_port: TARGET_PORT,
        transport: "auto".into(),
        allow_insecure: false,
        sticky_sessions: container_app::StickySessions {
            affinity: "sticky".into(),
        },
        ip_security_restrictions: vec![container_app::IpSecurityRestriction {
            name: "allow-app-gateway".into(),
            description: "Only the Application Gateway subnet".into(),
            ip_address_range: env.hub.subnets.appgw.to_string(),
            action: "Allow".into(),
        }],
        custom_domains,
    }
}

/// The app's template: the Open WebUI container with its settings, probes and
/// the SMB data volume, and the replica bounds.
fn open_webui_template(env: &Environment) -> container_app::Template {
    let (ca, spoke) = (&env.container_app, &env.spoke);
    container_app::Template {
        containers: vec![container_app::Container {
            name: CONTAINER_NAME.into(),
            image: ca.image.clone(),
            resources: container_app::ContainerResources {
                cpu: ca.cpu,
                memory: ca.memory.clone(),
            },
            env: open_webui_env(env),
            volume_mounts: vec![container_app::VolumeMount {
                volume_name: spoke.file_share_name.clone(),
                mount_path: DATA_PATH.into(),
            }],
            probes: open_webui_probes(),
        }],
        scale: container_app::Scale {
            min_replicas: ca.min_replicas,
            max_replicas: ca.max_replicas,
        },
        volumes: vec![container_app::Volume {
            name: spoke.file_share_name.clone(),
            storage_type: "AzureFile".into(),
            storage_name: spoke.file_share_name.clone(),
            mount_options: MOUNT_OPTIONS.into(),
        }],
    }
}

/// Key Vault Secrets User on the spoke vault for the app's system identity.
fn open_webui_role(s: &StageScope) -> Result<ResourceSpec, StageError> {
    role_assignment::spec(
        &s.ids.spoke_key_vault(),
        role_assignment::KEY_VAULT_SECRETS_USER,
        role_assignment::Principal::system_identity(&s.ids.container_app()),
        &format!(
            "Key Vault Secrets User for container app {} on {}",
            s.env.container_app.name, s.env.spoke.key_vault_name
        ),
        s.stage,
    )
}
