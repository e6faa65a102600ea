//! The typed shape of an environment file.
//!
//! One TOML file describes one environment (dev, prod, ...). Every table and key
//! here is documented for users in `docs/configuration.md`; keep the two in step.
//! Secrets never live in this file: see [`crate::config`] for where they come from.

use crate::config::regions::normalize_location;
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole environment file.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Environment name (`dev`, `prod`, ...). Written in the ownership tag
    /// `owui-deploy-env` on everything taggable; lower-case letters, digits, `-`.
    pub name: String,
    /// Where to deploy and how to reach it.
    pub azure: AzureSettings,
    /// Tags applied to every taggable resource (the tool adds `owui-deploy-env`,
    /// and `owui-deploy-tags` listing these keys so that a key removed later is
    /// removed from Azure too).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Tag keys the tool never touches (e.g. set by Azure Policy or cost tools).
    /// Tags the tool did not set are kept anyway; this also keeps a key the
    /// tool once set.
    #[serde(default)]
    pub ignore_tags: Vec<String>,
    /// Hub networking, DNS, monitoring and shared identities.
    pub hub: HubSettings,
    /// The API Management AI gateway.
    pub apim: ApimSettings,
    /// Spoke networking, Key Vault and storage.
    pub spoke: SpokeSettings,
    /// Microsoft Foundry (Cognitive Services AIServices) account and model deployments.
    pub foundry: FoundrySettings,
    /// PostgreSQL Flexible Server that stores Open WebUI's data.
    pub postgres: PostgresSettings,
    /// Container Apps environment and the Open WebUI app.
    pub container_app: ContainerAppSettings,
    /// Application Gateway in front of Open WebUI (every key has a default, so the
    /// table may be left out).
    #[serde(default)]
    pub app_gateway: AppGatewaySettings,
    /// Public host name and its TLS certificate.
    pub domain: DomainSettings,
    /// The Entra ID application Open WebUI signs users in with.
    pub entra: EntraSettings,
    /// Azure Managed Redis shared by Open WebUI's replicas (needed for
    /// `container_app.max_replicas > 1`); leave the table out for one replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<RedisSettings>,
    /// Usage insight: the Azure Monitor workbook `finalize` deploys (every key has
    /// a default, so the table may be left out).
    #[serde(default)]
    pub usage: UsageSettings,
}

impl Environment {
    /// Region of the hub: `hub.location` or `azure.location`, normalised (`uksouth`).
    pub fn hub_location(&self) -> String {
        normalize_location(self.hub.location.as_deref().unwrap_or(&self.azure.location))
    }

    /// Region of the spoke: `spoke.location` or `azure.location`, normalised.
    pub fn spoke_location(&self) -> String {
        normalize_location(
            self.spoke
                .location
                .as_deref()
                .unwrap_or(&self.azure.location),
        )
    }

    /// Region of the main Foundry account: `foundry.location` or the spoke's, normalised.
    pub fn foundry_location(&self) -> String {
        match &self.foundry.location {
            Some(l) => normalize_location(l),
            None => self.spoke_location(),
        }
    }

    /// Subscription of the spoke: `spoke.subscription_id` or `azure.subscription_id`.
    pub fn spoke_subscription_id(&self) -> &str {
        self.spoke
            .subscription_id
            .as_deref()
            .unwrap_or(&self.azure.subscription_id)
    }

    /// Custom subdomain of the main Foundry account: `foundry.custom_subdomain` or its name.
    pub fn foundry_subdomain(&self) -> &str {
        self.foundry
            .custom_subdomain
            .as_deref()
            .unwrap_or(&self.foundry.name)
    }
}

/// `[azure]`: target subscription, tenant, region and cloud.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AzureSettings {
    /// Which cloud: a well-known name or custom endpoints. Default `AzureCloud`.
    #[serde(default)]
    pub cloud: CloudSetting,
    /// Subscription ID (GUID) of the hub, and of the spoke unless `spoke.subscription_id` is set.
    pub subscription_id: String,
    /// Entra tenant ID (GUID).
    pub tenant_id: String,
    /// Default Azure region for every resource (e.g. `uksouth` or `UK South`).
    pub location: String,
    /// Options of the embedded sandbox, used only when `cloud = "sandbox"`.
    #[serde(default)]
    pub sandbox: SandboxSettings,
}

/// The cloud to talk to.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(untagged)]
pub enum CloudSetting {
    /// A well-known cloud by name.
    Named(NamedCloud),
    /// Custom endpoints (Azure Stack Hub, private clouds).
    Custom(CustomCloud),
    /// The default: Azure public cloud (the key `cloud` left out). Serializes as
    /// `"AzureCloud"`.
    #[default]
    #[serde(skip_deserializing, serialize_with = "serialize_default_cloud")]
    Default,
}

fn serialize_default_cloud<S: serde::Serializer>(s: S) -> Result<S::Ok, S::Error> {
    NamedCloud::AzureCloud.serialize(s)
}

impl CloudSetting {
    /// The named cloud this setting means (`Default` is `AzureCloud`); `None` for custom endpoints.
    pub fn named(&self) -> Option<NamedCloud> {
        match self {
            CloudSetting::Named(n) => Some(*n),
            CloudSetting::Default => Some(NamedCloud::AzureCloud),
            CloudSetting::Custom(_) => None,
        }
    }

    /// True for `cloud = "sandbox"`.
    pub fn is_sandbox(&self) -> bool {
        self.named() == Some(NamedCloud::Sandbox)
    }
}

/// The clouds known by name.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub enum NamedCloud {
    /// Azure public cloud.
    AzureCloud,
    /// Azure US Government.
    AzureUSGovernment,
    /// Azure China (21Vianet).
    AzureChinaCloud,
    /// The embedded ARM + Graph + token emulator (`owui-deploy sandbox`).
    #[serde(rename = "sandbox")]
    Sandbox,
}

/// `[azure.cloud]` as a table: custom endpoints.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CustomCloud {
    /// Resource Manager endpoint, e.g. `https://management.local.azurestack.external`.
    pub resource_manager: String,
    /// Microsoft Graph endpoint, e.g. `https://graph.microsoft.com`.
    pub graph: String,
    /// Authority host for tokens, e.g. `https://login.microsoftonline.com`.
    pub authority: String,
    /// Token audience for ARM; defaults to `resource_manager`.
    #[serde(default)]
    pub resource_manager_audience: Option<String>,
    /// PEM file of an extra CA certificate to trust (private clouds with their own CA).
    #[serde(default)]
    pub ca_file: Option<String>,
}

/// `[azure.sandbox]`: how the embedded sandbox runs when `cloud = "sandbox"`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SandboxSettings {
    /// File that keeps the sandbox's contents between runs (relative to the environment file).
    #[serde(default = "default_sandbox_state")]
    pub state_file: String,
    /// Multiplier applied to the sandbox's realistic operation durations.
    #[serde(default = "default_time_scale")]
    pub time_scale: f64,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            state_file: default_sandbox_state(),
            time_scale: default_time_scale(),
        }
    }
}

fn default_sandbox_state() -> String {
    ".owui-sandbox/state.json".into()
}
fn default_time_scale() -> f64 {
    0.001
}

/// `[hub]`: hub resource group, VNet, DNS, monitoring, shared identities.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HubSettings {
    /// Hub resource group name.
    pub resource_group: String,
    /// Region of the hub, if not `azure.location`.
    #[serde(default)]
    pub location: Option<String>,
    /// Hub VNet name.
    #[serde(default = "d_hub_vnet")]
    pub vnet_name: String,
    /// Hub VNet address space, e.g. `10.0.0.0/24`.
    pub address_space: Ipv4Net,
    /// Hub subnets.
    pub subnets: HubSubnets,
    /// NSG attached to the APIM subnet.
    #[serde(default = "d_apim_nsg")]
    pub apim_nsg_name: String,
    /// Route table attached to the APIM subnet.
    #[serde(default = "d_apim_rt")]
    pub apim_route_table_name: String,
    /// Log Analytics workspace name.
    #[serde(default = "d_law")]
    pub log_analytics_name: String,
    /// Log Analytics retention in days (30..=730).
    #[serde(default = "d_retention")]
    pub log_retention_days: u32,
    /// Workspace-based Application Insights name.
    #[serde(default = "d_appi")]
    pub app_insights_name: String,
    /// Public IP of the App Gateway frontend.
    #[serde(default = "d_pip_appgw")]
    pub appgw_public_ip_name: String,
    /// Public IP APIM (stv2) needs for management, even in internal mode.
    #[serde(default = "d_pip_apim")]
    pub apim_public_ip_name: String,
    /// DNS label of the APIM public IP (unique in the region).
    pub apim_public_ip_dns_label: String,
    /// User-assigned identity of the App Gateway.
    #[serde(default = "d_appgw_id")]
    pub appgw_identity_name: String,
    /// Hub Key Vault name (3-24 chars, globally unique).
    pub key_vault_name: String,
    /// Create `privatelink.vaultcore.azure.net` too (Key Vault private endpoints).
    #[serde(default)]
    pub key_vault_private_dns: bool,
}

/// `[hub.subnets]`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HubSubnets {
    /// `apim-subnet`, /28 or larger.
    pub apim: Ipv4Net,
    /// `appgw-subnet` for Application Gateway v2: /26 or larger (Microsoft's recommendation,
    /// enforced).
    pub appgw: Ipv4Net,
    /// `pe-subnet` for private endpoints.
    pub private_endpoints: Ipv4Net,
}

/// `[apim]`: the API Management service and the AI gateway policy.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ApimSettings {
    /// Service name (1-50 chars, letters, digits, `-`, starts with a letter, globally unique).
    pub name: String,
    /// SKU: `Developer`, `Basic`, `Standard`, `Premium` (VNet injection needs Developer or Premium; BasicV2/StandardV2 are not supported here).
    #[serde(default = "d_apim_sku")]
    pub sku: String,
    /// SKU capacity (units).
    #[serde(default = "d_one")]
    pub capacity: u32,
    /// Publisher e-mail shown by APIM.
    pub publisher_email: String,
    /// Publisher name shown by APIM.
    pub publisher_name: String,
    /// Token limit and quota applied per caller.
    #[serde(default)]
    pub token_limit: TokenLimitSettings,
    /// Product name that groups the OpenAI API.
    #[serde(default = "d_product")]
    pub product_name: String,
    /// OpenAPI document to import: a path relative to the environment file, or an https URL.
    /// Default: the project's `templates/openapi/openai-v1.json`.
    #[serde(default)]
    pub openapi: Option<String>,
    /// A policy XML file of your own instead of `templates/policies/openai-api.xml`.
    #[serde(default)]
    pub policy_file: Option<String>,
    /// Largest prompt or completion message the `azuremonitor` API diagnostic logs to
    /// `ApiManagementGatewayLlmLog`, in bytes (1..=262144; larger messages are cut).
    #[serde(default = "d_llm_log_bytes")]
    pub llm_log_max_message_bytes: u32,
}

/// `[apim.token_limit]`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TokenLimitSettings {
    /// Tokens per minute per counter key (> 0).
    #[serde(default = "d_tpm")]
    pub tokens_per_minute: u64,
    /// What the limit counts per: `user` (JWT claim), `subscription`, or `ip`.
    #[serde(default)]
    pub counter_key: CounterKey,
    /// Optional token quota over `quota_period` (> 0 when set).
    #[serde(default)]
    pub token_quota: Option<u64>,
    /// Quota period: `Hourly`, `Daily`, `Weekly`, `Monthly`, `Yearly`.
    #[serde(default)]
    pub quota_period: Option<String>,
    /// Roles (app role values) allowed through the gateway.
    #[serde(default = "d_roles")]
    pub allowed_roles: Vec<String>,
}

impl Default for TokenLimitSettings {
    fn default() -> Self {
        Self {
            tokens_per_minute: d_tpm(),
            counter_key: CounterKey::default(),
            token_quota: None,
            quota_period: None,
            allowed_roles: d_roles(),
        }
    }
}

/// What a token limit counts per.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum CounterKey {
    /// The signed-in user (JWT `preferred_username` / `oid`).
    #[default]
    User,
    /// The APIM subscription.
    Subscription,
    /// The client IP address.
    Ip,
}

/// `[spoke]`: spoke resource group, VNet, Key Vault, storage.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpokeSettings {
    /// Spoke resource group name.
    pub resource_group: String,
    /// Subscription of the spoke, if not `azure.subscription_id`.
    #[serde(default)]
    pub subscription_id: Option<String>,
    /// Region of the spoke, if not `azure.location`.
    #[serde(default)]
    pub location: Option<String>,
    /// Spoke VNet name.
    #[serde(default = "d_spoke_vnet")]
    pub vnet_name: String,
    /// Spoke VNet address space, e.g. `10.0.4.0/22`.
    pub address_space: Ipv4Net,
    /// Container Apps subnet (/23 or larger for a consumption environment).
    pub container_apps_subnet: Ipv4Net,
    /// NSG of the Container Apps subnet.
    #[serde(default = "d_spoke_nsg")]
    pub nsg_name: String,
    /// Spoke Key Vault name (3-24 chars, globally unique).
    pub key_vault_name: String,
    /// Storage account name (3-24 lower-case letters and digits, globally unique).
    pub storage_account_name: String,
    /// SMB file share for Open WebUI's data.
    #[serde(default = "d_share")]
    pub file_share_name: String,
    /// File share quota in GiB.
    #[serde(default = "d_share_quota")]
    pub file_share_quota_gib: u32,
}

/// `[foundry]`: the AIServices account and its model deployments.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FoundrySettings {
    /// Account name (2-64 chars).
    pub name: String,
    /// Custom subdomain (globally unique), defaults to `name`.
    #[serde(default)]
    pub custom_subdomain: Option<String>,
    /// Region of the account, if not the spoke's.
    #[serde(default)]
    pub location: Option<String>,
    /// `[[foundry.deployments]]`: model deployments, created one at a time.
    #[serde(default)]
    pub deployments: Vec<ModelDeployment>,
    /// `[[foundry.pool]]`: further accounts forming an APIM backend pool with this one.
    #[serde(default)]
    pub pool: Vec<PoolMember>,
}

/// One model deployment on the Foundry account.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelDeployment {
    /// Deployment name, unique per account (the `model` clients send).
    pub name: String,
    /// Model format, e.g. `OpenAI`, `Mistral AI`, `Meta`, `DeepSeek`, `xAI`.
    pub format: String,
    /// Model name, e.g. `gpt-4o`.
    pub model: String,
    /// Model version, e.g. `2024-11-20`.
    pub version: String,
    /// Deployment SKU.
    #[serde(default = "d_deploy_sku")]
    pub sku: String,
    /// Capacity in thousands of tokens per minute (> 0).
    pub capacity: u32,
}

/// A further Foundry account in the APIM backend pool.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PoolMember {
    /// Account name.
    pub name: String,
    /// Region.
    pub location: String,
    /// Custom subdomain, defaults to `name`.
    #[serde(default)]
    pub custom_subdomain: Option<String>,
    /// Pool priority (1 = first).
    #[serde(default = "d_one")]
    pub priority: u32,
    /// Pool weight within a priority.
    #[serde(default = "d_one")]
    pub weight: u32,
}

/// `[postgres]`: the Flexible Server.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PostgresSettings {
    /// Server name (3-63 lower-case letters, digits, `-`; globally unique).
    pub server_name: String,
    /// PostgreSQL major version.
    #[serde(default = "d_pg_version")]
    pub version: String,
    /// Compute SKU name, e.g. `Standard_B1ms`.
    #[serde(default = "d_pg_sku")]
    pub sku: String,
    /// Compute tier: `Burstable`, `GeneralPurpose`, `MemoryOptimized`.
    #[serde(default = "d_pg_tier")]
    pub tier: String,
    /// Storage in GiB.
    #[serde(default = "d_pg_storage")]
    pub storage_gb: u32,
    /// Administrator login (the password is a secret: `OWUI_POSTGRES_ADMIN_PASSWORD` or generated).
    #[serde(default = "d_pg_admin")]
    pub admin_login: String,
    /// Database for Open WebUI.
    #[serde(default = "d_pg_db")]
    pub database: String,
    /// Further extensions the server may create, besides `VECTOR` (pgvector, always
    /// allowed): the tool owns the server parameter `azure.extensions`.
    #[serde(default)]
    pub extensions: Vec<String>,
}

/// `[container_app]`: the Container Apps environment and the Open WebUI app.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContainerAppSettings {
    /// Managed environment name.
    pub environment_name: String,
    /// Container app name (2-32 lower-case letters, digits, `-`).
    #[serde(default = "d_app_name")]
    pub name: String,
    /// User-assigned identity of the environment (reads the certificate from Key Vault).
    #[serde(default = "d_env_id")]
    pub environment_identity_name: String,
    /// Container image.
    #[serde(default = "d_image")]
    pub image: String,
    /// vCPU per replica (0.25 steps).
    #[serde(default = "d_cpu")]
    pub cpu: f64,
    /// Memory per replica, e.g. `1Gi` (2 GiB per vCPU).
    #[serde(default = "d_memory")]
    pub memory: String,
    /// Minimum replicas.
    #[serde(default = "d_one")]
    pub min_replicas: u32,
    /// Maximum replicas.
    #[serde(default = "d_max_replicas")]
    pub max_replicas: u32,
    /// Extra Open WebUI settings as environment variables (not secrets).
    #[serde(default)]
    pub extra_env: BTreeMap<String, String>,
}

/// `[redis]`: Azure Managed Redis (`Microsoft.Cache/redisEnterprise`) with one
/// TLS-only database, reached through a private endpoint.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// Cluster name (1-60 lower-case letters, digits, `-`; globally unique: it is
    /// the first label of the host name).
    pub name: String,
    /// SKU, e.g. `Balanced_B1` (Azure Managed Redis tiers: Balanced, MemoryOptimized,
    /// ComputeOptimized, FlashOptimized).
    #[serde(default = "d_redis_sku")]
    pub sku: String,
    /// Replicate the data inside the cluster (Azure's default, and its SLA).
    #[serde(default = "d_true")]
    pub high_availability: bool,
}

/// `[app_gateway]`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AppGatewaySettings {
    /// Application Gateway name.
    #[serde(default = "d_appgw")]
    pub name: String,
    /// SKU (`Standard_v2` or `WAF_v2`).
    #[serde(default = "d_appgw_sku")]
    pub sku: String,
    /// Instance count.
    #[serde(default = "d_one")]
    pub capacity: u32,
    /// Name of the WAF policy created with `WAF_v2`.
    #[serde(default = "d_waf_policy")]
    pub waf_policy_name: String,
    /// WAF mode with `WAF_v2`: `Prevention` (blocks) or `Detection` (logs only).
    #[serde(default = "d_waf_mode")]
    pub waf_mode: String,
}

/// `[usage]`: usage insight.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UsageSettings {
    /// Deploy the shared Azure Monitor workbook with the usage reports (finalize).
    #[serde(default = "d_true")]
    pub workbook: bool,
}

impl Default for UsageSettings {
    fn default() -> Self {
        Self { workbook: true }
    }
}

/// `[domain]`: public host name and certificate source.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DomainSettings {
    /// Public host name of Open WebUI, e.g. `chat.contoso.com`.
    pub custom_domain: String,
    /// Path of the PFX certificate for the domain (relative to the environment file);
    /// or leave unset and provide `OWUI_CERTIFICATE_PFX_BASE64`.
    #[serde(default)]
    pub certificate_pfx_path: Option<String>,
    /// Path of the trusted root certificate (PEM/CER) the App Gateway trusts for the backend.
    #[serde(default)]
    pub trusted_root_certificate_path: Option<String>,
}

/// `[entra]`: the Entra ID application.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EntraSettings {
    /// Display name of the application.
    pub app_name: String,
    /// Unique name used to upsert the application (letters, digits, `-`, `_`, `.`).
    pub unique_name: String,
    /// App role values: default `admin` and `user`.
    #[serde(default = "d_roles")]
    pub roles: Vec<String>,
    /// Provider name shown on Open WebUI's sign-in button.
    #[serde(default = "d_provider")]
    pub provider_name: String,
}

impl Default for AppGatewaySettings {
    fn default() -> Self {
        Self {
            name: d_appgw(),
            sku: d_appgw_sku(),
            capacity: d_one(),
            waf_policy_name: d_waf_policy(),
            waf_mode: d_waf_mode(),
        }
    }
}

fn d_hub_vnet() -> String {
    "vnet-hub".into()
}
fn d_apim_nsg() -> String {
    "nsg-apim".into()
}
fn d_apim_rt() -> String {
    "rt-apim".into()
}
fn d_law() -> String {
    "log-owui".into()
}
fn d_retention() -> u32 {
    30
}
fn d_appi() -> String {
    "appi-owui".into()
}
fn d_pip_appgw() -> String {
    "pip-appgw".into()
}
fn d_pip_apim() -> String {
    "pip-apim".into()
}
fn d_appgw_id() -> String {
    "id-appgw".into()
}
fn d_apim_sku() -> String {
    "Developer".into()
}
fn d_one() -> u32 {
    1
}
fn d_product() -> String {
    "platform-services".into()
}
fn d_tpm() -> u64 {
    10_000
}
fn d_roles() -> Vec<String> {
    vec!["admin".into(), "user".into()]
}
fn d_spoke_vnet() -> String {
    "vnet-spoke".into()
}
fn d_spoke_nsg() -> String {
    "nsg-aca".into()
}
fn d_share() -> String {
    "open-webui-share".into()
}
fn d_share_quota() -> u32 {
    100
}
fn d_deploy_sku() -> String {
    "GlobalStandard".into()
}
fn d_pg_version() -> String {
    "16".into()
}
fn d_pg_sku() -> String {
    "Standard_B1ms".into()
}
fn d_pg_tier() -> String {
    "Burstable".into()
}
fn d_pg_storage() -> u32 {
    32
}
fn d_pg_admin() -> String {
    "owuiadmin".into()
}
fn d_pg_db() -> String {
    "openwebui".into()
}
fn d_app_name() -> String {
    "open-webui".into()
}
fn d_env_id() -> String {
    "id-aca-env".into()
}
fn d_image() -> String {
    "ghcr.io/open-webui/open-webui:main".into()
}
fn d_cpu() -> f64 {
    0.5
}
fn d_memory() -> String {
    "1Gi".into()
}
fn d_max_replicas() -> u32 {
    1
}
fn d_redis_sku() -> String {
    "Balanced_B1".into()
}
fn d_true() -> bool {
    true
}
fn d_appgw() -> String {
    "agw-owui".into()
}
fn d_appgw_sku() -> String {
    "Standard_v2".into()
}
fn d_llm_log_bytes() -> u32 {
    32_768
}
fn d_waf_policy() -> String {
    "waf-owui".into()
}
fn d_waf_mode() -> String {
    "Prevention".into()
}
fn d_provider() -> String {
    "Microsoft".into()
}
