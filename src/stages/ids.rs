//! Deterministic ARM IDs and Graph addresses of every resource the stages manage.
//!
//! All stages derive IDs here, from the environment file alone, so a stage can
//! name (and read from Azure) what another stage created without anyone copying
//! values. Only values Azure assigns (principal IDs, IPs, FQDNs) travel as
//! [`crate::engine::Reference`]s.

use crate::config::Environment;
use uuid::Uuid;

/// Name of the APIM subnet in the hub VNet.
pub const APIM_SUBNET: &str = "apim-subnet";
/// Name of the App Gateway subnet in the hub VNet.
pub const APPGW_SUBNET: &str = "appgw-subnet";
/// Name of the private endpoint subnet in the hub VNet.
pub const PE_SUBNET: &str = "pe-subnet";
/// Name of the Container Apps subnet in the spoke VNet.
pub const ACA_SUBNET: &str = "aca-subnet";
/// Name of every private DNS zone's link to the hub VNet.
pub const HUB_LINK: &str = "hub-vnet-link";
/// Name of every private DNS zone's link to the spoke VNet.
pub const SPOKE_LINK: &str = "spoke-vnet-link";
/// Peering from the spoke VNet to the hub VNet.
pub const SPOKE_TO_HUB_PEERING: &str = "spoke-to-hub";
/// Peering from the hub VNet to the spoke VNet.
pub const HUB_TO_SPOKE_PEERING: &str = "hub-to-spoke";
/// Name of the private DNS zone group of every private endpoint.
pub const ZONE_GROUP: &str = "default";
/// Spoke Key Vault secret holding the PostgreSQL connection string.
pub const SECRET_PG_CONNECTION: &str = "postgres-connection-string";
/// Engine secret (not stored anywhere): the PostgreSQL admin password
/// percent-encoded for the userinfo part of the connection string.
pub const SECRET_PG_PASSWORD_URL_ENCODED: &str = "postgres-admin-password-url-encoded";
/// Spoke Key Vault secret holding the PostgreSQL admin password.
pub const SECRET_PG_PASSWORD: &str = "postgres-admin-password";
/// Spoke Key Vault secret holding Open WebUI's `WEBUI_SECRET_KEY` (generated on
/// the first deploy, kept across runs, shared by every replica).
pub const SECRET_WEBUI_KEY: &str = "webui-secret-key";
/// Spoke Key Vault secret holding the Redis URL
/// (`rediss://:KEY@HOST:10000/0`, with `[redis]`).
pub const SECRET_REDIS_URL: &str = "redis-url";
/// Name of the one database of an Azure Managed Redis cluster.
pub const REDIS_DATABASE: &str = "default";
/// Server parameter listing the extensions PostgreSQL may create.
pub const PG_EXTENSIONS_PARAMETER: &str = "azure.extensions";
/// Spoke Key Vault secret holding the TLS certificate (PFX).
pub const SECRET_CERTIFICATE: &str = "openwebui-certificate";
/// Hub Key Vault secret holding the App Gateway's trusted root certificate
/// (when `domain.trusted_root_certificate_path` is set).
pub const SECRET_TRUSTED_ROOT: &str = "trusted-root-certificate";
/// Name of the certificate in the Container Apps environment.
pub const ENV_CERTIFICATE: &str = "openwebui-certificate";

/// Namespace of the UUID v5 role assignment names (a fixed, project-specific UUID).
const ROLE_ASSIGNMENT_NAMESPACE: Uuid = Uuid::from_u128(0x6f77_7569_2d64_6570_6c6f_792d_7262_6163);

/// IDs derived from one environment.
#[derive(Debug, Clone)]
pub struct Ids {
    /// Hub subscription ID.
    pub hub_sub: String,
    /// Spoke subscription ID.
    pub spoke_sub: String,
    /// `/subscriptions/{hub_sub}/resourceGroups/{hub rg}`.
    pub hub_rg: String,
    /// `/subscriptions/{spoke_sub}/resourceGroups/{spoke rg}`.
    pub spoke_rg: String,
    env: Box<Environment>,
}

impl Ids {
    /// IDs for `env`.
    pub fn new(env: &Environment) -> Self {
        let hub_sub = env.azure.subscription_id.to_ascii_lowercase();
        let spoke_sub = env
            .spoke
            .subscription_id
            .clone()
            .unwrap_or_else(|| env.azure.subscription_id.clone())
            .to_ascii_lowercase();
        Ids {
            hub_rg: format!(
                "/subscriptions/{hub_sub}/resourceGroups/{}",
                env.hub.resource_group
            ),
            spoke_rg: format!(
                "/subscriptions/{spoke_sub}/resourceGroups/{}",
                env.spoke.resource_group
            ),
            hub_sub,
            spoke_sub,
            env: Box::new(env.clone()),
        }
    }

    /// A resource in the hub resource group: `hub_rg/providers/{type}/{name}`.
    pub fn hub(&self, type_name: &str, name: &str) -> String {
        format!("{}/providers/{type_name}/{name}", self.hub_rg)
    }

    /// A resource in the spoke resource group.
    pub fn spoke(&self, type_name: &str, name: &str) -> String {
        format!("{}/providers/{type_name}/{name}", self.spoke_rg)
    }

    /// A child of a resource: `parent/{child_type}/{name}`, e.g. `subnets/pe-subnet`.
    pub fn child(parent: &str, child_type: &str, name: &str) -> String {
        format!("{parent}/{child_type}/{name}")
    }

    /// An extension resource at `scope`, e.g. a role assignment:
    /// `scope/providers/{type_name}/{name}`.
    pub fn extension(scope: &str, type_name: &str, name: &str) -> String {
        format!("{scope}/providers/{type_name}/{name}")
    }

    /// Graph address of the Entra application, keyed by its unique name.
    pub fn graph_application(unique_name: &str) -> String {
        format!("graph:/applications(uniqueName='{unique_name}')")
    }

    // ---- hub -------------------------------------------------------------

    /// NSG of the APIM subnet.
    pub fn apim_nsg(&self) -> String {
        self.hub(
            "Microsoft.Network/networkSecurityGroups",
            &self.env.hub.apim_nsg_name,
        )
    }

    /// Route table of the APIM subnet.
    pub fn apim_route_table(&self) -> String {
        self.hub(
            "Microsoft.Network/routeTables",
            &self.env.hub.apim_route_table_name,
        )
    }

    /// The hub VNet.
    pub fn hub_vnet(&self) -> String {
        self.hub("Microsoft.Network/virtualNetworks", &self.env.hub.vnet_name)
    }

    /// A subnet of the hub VNet, e.g. [`PE_SUBNET`].
    pub fn hub_subnet(&self, name: &str) -> String {
        Self::child(&self.hub_vnet(), "subnets", name)
    }

    /// `apim-subnet`.
    pub fn apim_subnet(&self) -> String {
        self.hub_subnet(APIM_SUBNET)
    }

    /// `appgw-subnet`.
    pub fn appgw_subnet(&self) -> String {
        self.hub_subnet(APPGW_SUBNET)
    }

    /// `pe-subnet`.
    pub fn pe_subnet(&self) -> String {
        self.hub_subnet(PE_SUBNET)
    }

    /// A private DNS zone in the hub resource group, e.g. `privatelink.openai.azure.com`.
    pub fn dns_zone(&self, zone: &str) -> String {
        self.hub("Microsoft.Network/privateDnsZones", zone)
    }

    /// A VNet link of a private DNS zone ([`HUB_LINK`] or [`SPOKE_LINK`]).
    pub fn dns_zone_link(&self, zone: &str, link: &str) -> String {
        Self::child(&self.dns_zone(zone), "virtualNetworkLinks", link)
    }

    /// Log Analytics workspace.
    pub fn log_analytics(&self) -> String {
        self.hub(
            "Microsoft.OperationalInsights/workspaces",
            &self.env.hub.log_analytics_name,
        )
    }

    /// Workspace-based Application Insights.
    pub fn app_insights(&self) -> String {
        self.hub(
            "Microsoft.Insights/components",
            &self.env.hub.app_insights_name,
        )
    }

    /// Public IP of the App Gateway frontend.
    pub fn appgw_public_ip(&self) -> String {
        self.hub(
            "Microsoft.Network/publicIPAddresses",
            &self.env.hub.appgw_public_ip_name,
        )
    }

    /// Public IP of APIM (management, stv2).
    pub fn apim_public_ip(&self) -> String {
        self.hub(
            "Microsoft.Network/publicIPAddresses",
            &self.env.hub.apim_public_ip_name,
        )
    }

    /// The API Management service.
    pub fn apim(&self) -> String {
        self.hub("Microsoft.ApiManagement/service", &self.env.apim.name)
    }

    /// User-assigned identity of the App Gateway.
    pub fn appgw_identity(&self) -> String {
        self.hub(
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            &self.env.hub.appgw_identity_name,
        )
    }

    /// Hub Key Vault.
    pub fn hub_key_vault(&self) -> String {
        self.hub("Microsoft.KeyVault/vaults", &self.env.hub.key_vault_name)
    }

    /// A secret of the hub Key Vault (management plane), e.g. [`SECRET_TRUSTED_ROOT`].
    pub fn hub_secret(&self, name: &str) -> String {
        Self::child(&self.hub_key_vault(), "secrets", name)
    }

    // ---- spoke -----------------------------------------------------------

    /// NSG of the Container Apps subnet.
    pub fn spoke_nsg(&self) -> String {
        self.spoke(
            "Microsoft.Network/networkSecurityGroups",
            &self.env.spoke.nsg_name,
        )
    }

    /// The spoke VNet.
    pub fn spoke_vnet(&self) -> String {
        self.spoke(
            "Microsoft.Network/virtualNetworks",
            &self.env.spoke.vnet_name,
        )
    }

    /// The Container Apps subnet of the spoke VNet.
    pub fn aca_subnet(&self) -> String {
        Self::child(&self.spoke_vnet(), "subnets", ACA_SUBNET)
    }

    /// Peering spoke -> hub (child of the spoke VNet).
    pub fn spoke_to_hub_peering(&self) -> String {
        Self::child(
            &self.spoke_vnet(),
            "virtualNetworkPeerings",
            SPOKE_TO_HUB_PEERING,
        )
    }

    /// Peering hub -> spoke (child of the hub VNet, managed by the spoke stage).
    pub fn hub_to_spoke_peering(&self) -> String {
        Self::child(
            &self.hub_vnet(),
            "virtualNetworkPeerings",
            HUB_TO_SPOKE_PEERING,
        )
    }

    /// Spoke Key Vault.
    pub fn spoke_key_vault(&self) -> String {
        self.spoke("Microsoft.KeyVault/vaults", &self.env.spoke.key_vault_name)
    }

    /// A secret of the spoke Key Vault (management plane), e.g. [`SECRET_PG_CONNECTION`].
    pub fn spoke_secret(&self, name: &str) -> String {
        Self::child(&self.spoke_key_vault(), "secrets", name)
    }

    /// Storage account.
    pub fn storage_account(&self) -> String {
        self.spoke(
            "Microsoft.Storage/storageAccounts",
            &self.env.spoke.storage_account_name,
        )
    }

    /// The SMB file share (`fileServices/default/shares/{name}`).
    pub fn file_share(&self) -> String {
        format!(
            "{}/fileServices/default/shares/{}",
            self.storage_account(),
            self.env.spoke.file_share_name
        )
    }

    /// PostgreSQL Flexible Server.
    pub fn postgres(&self) -> String {
        self.spoke(
            "Microsoft.DBforPostgreSQL/flexibleServers",
            &self.env.postgres.server_name,
        )
    }

    /// The Open WebUI database.
    pub fn postgres_database(&self) -> String {
        Self::child(&self.postgres(), "databases", &self.env.postgres.database)
    }

    /// Private endpoint of the PostgreSQL server (spoke resource group, hub `pe-subnet`).
    pub fn postgres_private_endpoint(&self) -> String {
        self.spoke(
            "Microsoft.Network/privateEndpoints",
            &format!("pe-{}", self.env.postgres.server_name),
        )
    }

    /// The `azure.extensions` server parameter of the PostgreSQL server.
    pub fn postgres_extensions(&self) -> String {
        Self::child(&self.postgres(), "configurations", PG_EXTENSIONS_PARAMETER)
    }

    /// The Azure Managed Redis cluster (with `[redis]`; empty name otherwise).
    pub fn redis(&self) -> String {
        let name = self.env.redis.as_ref().map(|r| r.name.as_str());
        self.spoke("Microsoft.Cache/redisEnterprise", name.unwrap_or_default())
    }

    /// The Redis database (`default`).
    pub fn redis_database(&self) -> String {
        Self::child(&self.redis(), "databases", REDIS_DATABASE)
    }

    /// Private endpoint of the Redis cluster (spoke resource group, hub `pe-subnet`).
    pub fn redis_private_endpoint(&self) -> String {
        let name = self.env.redis.as_ref().map(|r| r.name.as_str());
        self.spoke(
            "Microsoft.Network/privateEndpoints",
            &format!("pe-{}", name.unwrap_or_default()),
        )
    }

    /// The DNS zone group of a private endpoint.
    pub fn zone_group(private_endpoint: &str) -> String {
        Self::child(private_endpoint, "privateDnsZoneGroups", ZONE_GROUP)
    }

    /// The Foundry (AIServices) account.
    pub fn foundry(&self) -> String {
        self.foundry_account(&self.env.foundry.name)
    }

    /// A Foundry account by name (the main one or a pool member).
    pub fn foundry_account(&self, name: &str) -> String {
        self.spoke("Microsoft.CognitiveServices/accounts", name)
    }

    /// Private endpoint of a Foundry account.
    pub fn foundry_private_endpoint(&self, account_name: &str) -> String {
        self.spoke(
            "Microsoft.Network/privateEndpoints",
            &format!("pe-{account_name}"),
        )
    }

    /// A model deployment of a Foundry account.
    pub fn model_deployment(&self, account_name: &str, deployment: &str) -> String {
        Self::child(
            &self.foundry_account(account_name),
            "deployments",
            deployment,
        )
    }

    /// User-assigned identity of the Container Apps environment.
    pub fn aca_env_identity(&self) -> String {
        self.spoke(
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            &self.env.container_app.environment_identity_name,
        )
    }

    /// Container Apps managed environment.
    pub fn aca_env(&self) -> String {
        self.spoke(
            "Microsoft.App/managedEnvironments",
            &self.env.container_app.environment_name,
        )
    }

    /// The SMB storage definition of the environment (named like the share).
    pub fn aca_env_storage(&self) -> String {
        Self::child(&self.aca_env(), "storages", &self.env.spoke.file_share_name)
    }

    /// The environment's certificate (from Key Vault).
    pub fn aca_env_certificate(&self) -> String {
        Self::child(&self.aca_env(), "certificates", ENV_CERTIFICATE)
    }

    /// The Open WebUI container app.
    pub fn container_app(&self) -> String {
        self.spoke("Microsoft.App/containerApps", &self.env.container_app.name)
    }

    // ---- RBAC ------------------------------------------------------------

    /// A built-in role definition ID in the subscription of `scope`.
    pub fn role_definition(scope: &str, role_guid: &str) -> String {
        let sub = scope
            .split('/')
            .skip_while(|s| !s.eq_ignore_ascii_case("subscriptions"))
            .nth(1)
            .unwrap_or_default()
            .to_ascii_lowercase();
        format!(
            "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"
        )
    }

    /// Deterministic role assignment name: UUID v5 of (scope, role definition ID,
    /// principal key), all lower-cased. `principal_key` is the principal ID when it
    /// is known, else the address of the identity that will have it.
    pub fn role_assignment_name(
        scope: &str,
        role_definition_id: &str,
        principal_key: &str,
    ) -> String {
        let key = format!(
            "{}|{}|{}",
            scope.to_ascii_lowercase(),
            role_definition_id.to_ascii_lowercase(),
            principal_key.to_ascii_lowercase()
        );
        Uuid::new_v5(&ROLE_ASSIGNMENT_NAMESPACE, key.as_bytes()).to_string()
    }

    /// The ID of a role assignment at `scope` with the deterministic name.
    pub fn role_assignment(scope: &str, role_definition_id: &str, principal_key: &str) -> String {
        Self::extension(
            scope,
            "Microsoft.Authorization/roleAssignments",
            &Self::role_assignment_name(scope, role_definition_id, principal_key),
        )
    }
}
