//! The `finalize` stage: what the Bicep quickstart could not do in one pass. APIM
//! AI-gateway wiring (named values, Foundry backend or pool, product, API imported
//! from an OpenAPI document, policy, logger, diagnostics), RBAC for the APIM and App
//! Gateway identities, private DNS records, hub -> spoke peering, and the
//! Application Gateway.
//!
//! Everything Azure assigns (principal IDs, private IPs, FQDNs, the Container Apps
//! default domain, the Entra application ID, the App Insights connection string) is
//! read from Azure through [`Reference`]s; [`finalize_prerequisites`] lists the hub
//! and spoke resources those references read, as `Mode::Data` specs of their owning
//! stage, so a missing prerequisite fails the plan before any write and names the
//! stage to run.
//!
//! # Why the Foundry backend URL is computed, not rewritten
//! An AIServices account's endpoint is `https://{customSubDomainName}.cognitiveservices.azure.com/`:
//! its host label *is* the custom subdomain, which the environment file fixes
//! (`foundry.custom_subdomain`, default the account name). Replacing the suffix
//! `.cognitiveservices.azure.com` with `.services.ai.azure.com` and appending
//! `openai/v1` therefore gives exactly `https://{subdomain}.services.ai.azure.com/openai/v1`,
//! computed here without a transform of a referenced value; the backend depends on
//! the account so it is written only once the account (and that host) exists.

use crate::config::Environment;
use crate::engine::{Address, Api, DiffRules, Input, Mode, Reference, ResourceSpec, Stage};
use crate::stages::Ids;
use crate::stages::entra;
use crate::stages::openapi::{self, LoadedOpenApi, OpenApiError, OpenApiSource};
use crate::stages::policy::{self, PolicyError};
use crate::stages::resources::apim_api::{self, ApiImport};
use crate::stages::resources::apim_backend::{self, PoolService};
use crate::stages::resources::apim_common::{BuildError, arm_api, arm_spec, ptrs};
use crate::stages::resources::{
    apim_diagnostic, apim_logger, apim_named_value, apim_product, app_gateway, diagnostic_setting,
    dns_record, vnet_peering_hub,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use uuid::Uuid;

/// Name of the APIM API.
pub const API_NAME: &str = "openai";
/// URL suffix of the APIM API.
pub const API_PATH: &str = "openai/v1";
/// Subscription key header and query parameter.
pub const API_KEY_NAME: &str = "api-key";
/// APIM logger name.
pub const LOGGER_NAME: &str = "appinsights-logger";
/// Diagnostic setting name on the APIM service.
pub const DIAGNOSTIC_SETTING_NAME: &str = "apim-gateway-logs";
/// Log categories the diagnostic setting sends.
pub const GATEWAY_LOG_CATEGORIES: [&str; 2] = ["GatewayLogs", "GatewayLlmLogs"];
/// Spoke Key Vault secret holding the TLS certificate (PFX) of the custom domain.
pub const TLS_CERT_SECRET: &str = "tls-certificate";
/// Hub Key Vault secret holding the trusted root certificate of the backend.
pub const TRUSTED_ROOT_SECRET: &str = "trusted-root-certificate";
/// Hub subnet of the Application Gateway.
pub const APPGW_SUBNET: &str = "appgw-subnet";
/// Hub -> spoke peering name.
pub const HUB_TO_SPOKE_PEERING: &str = "hub-to-spoke";
/// Name of the hub VNet link of the Container Apps environment's zone.
pub const ACA_ZONE_HUB_LINK: &str = "link-hub";
/// The APIM zone (internal mode).
pub const APIM_ZONE: &str = "azure-api.net";
/// APIM host names (relative to `azure-api.net`) pointing at the private IP in
/// internal mode: gateway, developer portal, management API and Git (SCM). The
/// legacy publisher portal (`.portal`) is retired and not registered.
pub const APIM_HOST_SUFFIXES: [&str; 4] = ["", ".developer", ".management", ".scm"];

/// Role: Cognitive Services User.
pub const ROLE_COGNITIVE_SERVICES_USER: &str = "a97b65f3-24c7-4388-baec-2e87135dc908";
/// Role: Azure AI User.
pub const ROLE_AZURE_AI_USER: &str = "53ca6127-db72-4b80-b1b0-d745d6d5456d";
/// Role: Monitoring Metrics Publisher.
pub const ROLE_MONITORING_METRICS_PUBLISHER: &str = "3913510d-42f4-4e42-8a64-420c390055eb";
/// Role: Key Vault Secrets User.
pub const ROLE_KEY_VAULT_SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";

/// Namespace of deterministic role assignment names (UUID v5).
pub const ROLE_ASSIGNMENT_NAMESPACE: Uuid =
    Uuid::from_u128(0x6f77_7569_2d72_6261_632d_6173_7369_676e);

/// Resource type of role assignments.
pub const ROLE_ASSIGNMENT_TYPE: &str = "Microsoft.Authorization/roleAssignments";

/// Options of the finalize stage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FinalizeOptions {
    /// Directory of the environment file: relative `apim.openapi` and
    /// `apim.policy_file` paths resolve against it.
    pub base_dir: PathBuf,
}

/// Why the finalize stage could not be built (before any call to Azure).
#[derive(Debug, thiserror::Error)]
pub enum FinalizeError {
    /// The policy failed rendering or its checks.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The OpenAPI document could not be used.
    #[error(transparent)]
    OpenApi(#[from] OpenApiError),
    /// A builder failed.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// `apim.policy_file` could not be read.
    #[error("apim.policy_file: cannot read {path}: {source}")]
    PolicyFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A `[[foundry.pool]]` member is invalid.
    #[error("foundry.pool[{index}] ({name}): {message}")]
    Pool {
        /// Index in the list.
        index: usize,
        /// Member name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// One Foundry account behind the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundryAccount {
    /// Account name.
    pub name: String,
    /// ARM ID.
    pub id: String,
    /// Custom subdomain.
    pub subdomain: String,
    /// APIM backend ID.
    pub backend: String,
    /// Pool priority.
    pub priority: u32,
    /// Pool weight.
    pub weight: u32,
}

impl FoundryAccount {
    /// `https://{subdomain}.services.ai.azure.com/openai/v1` (see the module docs).
    pub fn openai_v1_url(&self) -> String {
        foundry_openai_url(&self.subdomain)
    }
}

/// The OpenAI v1 URL of a Foundry account with custom subdomain `subdomain`.
pub fn foundry_openai_url(subdomain: &str) -> String {
    format!("https://{subdomain}.services.ai.azure.com/openai/v1")
}

/// The IDs and references the finalize stage works with.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalizeRefs {
    /// APIM service ID.
    pub apim_id: String,
    /// `/identity/principalId` of APIM.
    pub apim_principal_id: Reference,
    /// `/properties/privateIPAddresses/0` of APIM.
    pub apim_private_ip: Reference,
    /// The primary account and the pool members, in order.
    pub foundry: Vec<FoundryAccount>,
    /// `/properties/endpoint` of the primary account.
    pub foundry_endpoint: Reference,
    /// Container app ID.
    pub container_app_id: String,
    /// `/properties/configuration/ingress/fqdn` of the container app.
    pub container_app_fqdn: Reference,
    /// Managed environment ID.
    pub environment_id: String,
    /// `/properties/defaultDomain` of the environment.
    pub environment_default_domain: Reference,
    /// `/properties/staticIp` of the environment.
    pub environment_static_ip: Reference,
    /// `/appId` of the Entra application.
    pub entra_app_id: Reference,
    /// App Insights component ID (deterministic).
    pub app_insights_id: String,
    /// `/id` of App Insights, as read.
    pub app_insights_id_ref: Reference,
    /// `/properties/ConnectionString` of App Insights (sensitive).
    pub app_insights_connection_string: Reference,
    /// Log Analytics workspace ID (deterministic).
    pub log_analytics_id: String,
    /// `/id` of the workspace, as read.
    pub log_analytics_id_ref: Reference,
    /// App Gateway identity ID.
    pub appgw_identity_id: String,
    /// `/properties/principalId` of the App Gateway identity.
    pub appgw_identity_principal_id: Reference,
    /// Hub VNet ID.
    pub hub_vnet_id: String,
    /// Spoke VNet ID.
    pub spoke_vnet_id: String,
    /// Hub Key Vault ID.
    pub hub_vault_id: String,
    /// Spoke Key Vault ID.
    pub spoke_vault_id: String,
    /// ID of the spoke Key Vault secret with the TLS certificate.
    pub tls_secret_id: String,
    /// ID of the hub Key Vault secret with the trusted root (when configured).
    pub trusted_root_secret_id: Option<String>,
    /// `azure-api.net` zone ID.
    pub apim_zone_id: String,
    /// App Gateway frontend public IP ID.
    pub appgw_public_ip_id: String,
    /// App Gateway ID.
    pub app_gateway_id: String,
}

/// The IDs and references of `env`; checks the pool members.
pub fn finalize_refs(env: &Environment) -> Result<FinalizeRefs, FinalizeError> {
    let ids = Ids::new(env);
    let apim_id = ids.hub("Microsoft.ApiManagement/service", &env.apim.name);
    let account_id = |name: &str| ids.spoke("Microsoft.CognitiveServices/accounts", name);
    let mut foundry = vec![FoundryAccount {
        name: env.foundry.name.clone(),
        id: account_id(&env.foundry.name),
        subdomain: env
            .foundry
            .custom_subdomain
            .clone()
            .unwrap_or_else(|| env.foundry.name.clone()),
        backend: policy::FOUNDRY_BACKEND_ID.into(),
        priority: 1,
        weight: 1,
    }];
    let mut seen = BTreeSet::from([env.foundry.name.to_ascii_lowercase()]);
    for (index, m) in env.foundry.pool.iter().enumerate() {
        let err = |message: String| FinalizeError::Pool {
            index,
            name: m.name.clone(),
            message,
        };
        if !seen.insert(m.name.to_ascii_lowercase()) {
            return Err(err("the account is listed twice".into()));
        }
        if m.priority > 100 || m.weight > 100 {
            return Err(err(format!(
                "priority and weight must be 0..=100 (got {} and {})",
                m.priority, m.weight
            )));
        }
        foundry.push(FoundryAccount {
            name: m.name.clone(),
            id: account_id(&m.name),
            subdomain: m.custom_subdomain.clone().unwrap_or_else(|| m.name.clone()),
            backend: format!("foundry-{}", m.name.to_ascii_lowercase()),
            priority: m.priority,
            weight: m.weight,
        });
    }
    let container_app_id = ids.spoke("Microsoft.App/containerApps", &env.container_app.name);
    let environment_id = ids.spoke(
        "Microsoft.App/managedEnvironments",
        &env.container_app.environment_name,
    );
    let app_insights_id = ids.hub("Microsoft.Insights/components", &env.hub.app_insights_name);
    let log_analytics_id = ids.hub(
        "Microsoft.OperationalInsights/workspaces",
        &env.hub.log_analytics_name,
    );
    let appgw_identity_id = ids.hub(
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        &env.hub.appgw_identity_name,
    );
    let hub_vault_id = ids.hub("Microsoft.KeyVault/vaults", &env.hub.key_vault_name);
    let spoke_vault_id = ids.spoke("Microsoft.KeyVault/vaults", &env.spoke.key_vault_name);
    Ok(FinalizeRefs {
        apim_principal_id: Reference::new(apim_id.clone(), "/identity/principalId"),
        apim_private_ip: Reference::new(apim_id.clone(), "/properties/privateIPAddresses/0"),
        foundry_endpoint: Reference::new(foundry[0].id.clone(), "/properties/endpoint"),
        foundry,
        container_app_fqdn: Reference::new(
            container_app_id.clone(),
            "/properties/configuration/ingress/fqdn",
        ),
        container_app_id,
        environment_default_domain: Reference::new(
            environment_id.clone(),
            "/properties/defaultDomain",
        ),
        environment_static_ip: Reference::new(environment_id.clone(), "/properties/staticIp"),
        environment_id,
        entra_app_id: entra::app_id_ref(env),
        app_insights_id_ref: Reference::new(app_insights_id.clone(), "/id"),
        app_insights_connection_string: Reference::new(
            app_insights_id.clone(),
            "/properties/ConnectionString",
        ),
        app_insights_id,
        log_analytics_id_ref: Reference::new(log_analytics_id.clone(), "/id"),
        log_analytics_id,
        appgw_identity_principal_id: Reference::new(
            appgw_identity_id.clone(),
            "/properties/principalId",
        ),
        appgw_identity_id,
        hub_vnet_id: ids.hub("Microsoft.Network/virtualNetworks", &env.hub.vnet_name),
        spoke_vnet_id: ids.spoke("Microsoft.Network/virtualNetworks", &env.spoke.vnet_name),
        tls_secret_id: Ids::child(&spoke_vault_id, "secrets", TLS_CERT_SECRET),
        trusted_root_secret_id: env
            .domain
            .trusted_root_certificate_path
            .as_ref()
            .map(|_| Ids::child(&hub_vault_id, "secrets", TRUSTED_ROOT_SECRET)),
        hub_vault_id,
        spoke_vault_id,
        apim_zone_id: ids.hub("Microsoft.Network/privateDnsZones", APIM_ZONE),
        appgw_public_ip_id: ids.hub(
            "Microsoft.Network/publicIPAddresses",
            &env.hub.appgw_public_ip_name,
        ),
        app_gateway_id: ids.hub(
            "Microsoft.Network/applicationGateways",
            &env.app_gateway.name,
        ),
        apim_id,
    })
}

/// Deterministic name of a role assignment: UUID v5 of scope, role and the address
/// of the resource whose identity is the principal (all lower-case), so a re-run
/// finds the same assignment instead of failing with `RoleAssignmentExists`.
pub fn role_assignment_name(scope: &str, role: &str, principal_address: &str) -> Uuid {
    let key = format!(
        "{}|{}|{}",
        scope.to_ascii_lowercase(),
        role.to_ascii_lowercase(),
        principal_address.to_ascii_lowercase()
    );
    Uuid::new_v5(&ROLE_ASSIGNMENT_NAMESPACE, key.as_bytes())
}

/// Request body of a role assignment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleAssignmentBody {
    /// Properties.
    pub properties: RoleAssignmentProperties,
}

/// `properties` of a role assignment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignmentProperties {
    /// `/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}`.
    pub role_definition_id: String,
    /// Object ID of the principal (a reference).
    pub principal_id: Input<String>,
    /// `ServicePrincipal` (managed identities), avoids replication-delay failures.
    pub principal_type: String,
}

/// Role assignment of `role` on `scope` to the identity `principal` of the resource
/// at `principal_address`.
pub fn role_assignment(
    scope: &str,
    role: &str,
    role_label: &str,
    principal: Reference,
    principal_address: &str,
) -> Result<ResourceSpec, BuildError> {
    let sub = scope
        .strip_prefix("/subscriptions/")
        .and_then(|s| s.split('/').next())
        .unwrap_or_default();
    let name = role_assignment_name(scope, role, principal_address);
    let body = RoleAssignmentBody {
        properties: RoleAssignmentProperties {
            role_definition_id: format!(
                "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}"
            ),
            principal_id: Input::Ref(principal),
            principal_type: "ServicePrincipal".into(),
        },
    };
    let scope_name = scope.rsplit('/').next().unwrap_or(scope);
    arm_spec(
        ROLE_ASSIGNMENT_TYPE,
        Ids::extension(scope, ROLE_ASSIGNMENT_TYPE, &name.to_string()),
        format!("role {role_label} on {scope_name}"),
        &body,
        DiffRules {
            case_insensitive: ptrs(&[
                "/properties/roleDefinitionId",
                "/properties/principalId",
                "/properties/principalType",
            ]),
            immutable: ptrs(&["/properties/roleDefinitionId", "/properties/principalId"]),
            ..DiffRules::default()
        },
        vec![scope.to_string(), principal_address.to_string()],
    )
}

fn tags(env: &Environment) -> BTreeMap<String, String> {
    let mut t = env.tags.clone();
    t.insert("owui-deploy-env".into(), env.name.clone());
    t
}

fn hub_location(env: &Environment) -> String {
    env.hub
        .location
        .clone()
        .unwrap_or_else(|| env.azure.location.clone())
}

/// Loads the OpenAPI document `apim.openapi` selects.
pub fn load_openapi(
    env: &Environment,
    opts: &FinalizeOptions,
) -> Result<LoadedOpenApi, FinalizeError> {
    let source = OpenApiSource::from_setting(env.apim.openapi.as_deref(), &opts.base_dir);
    Ok(openapi::load(&source)?)
}

/// Renders and checks the API policy (`apim.policy_file` or the bundled template).
pub fn load_policy(env: &Environment, opts: &FinalizeOptions) -> Result<String, FinalizeError> {
    let custom = match &env.apim.policy_file {
        None => None,
        Some(p) => {
            let path = opts.base_dir.join(p);
            Some(
                std::fs::read_to_string(&path)
                    .map_err(|e| FinalizeError::PolicyFile { path, source: e })?,
            )
        }
    };
    Ok(policy::render_policy(env, custom.as_deref())?)
}

/// The API's revision description: it carries the document digest, which APIM
/// stores and returns, so the normal diff sees a changed document (and the update
/// re-imports it) while `value`/`format` are never compared or printed.
pub fn revision_description(doc: &LoadedOpenApi) -> String {
    format!("owui-deploy import {}", doc.digest)
}

/// The desired resources of the finalize stage (all `Stage::Finalize`, managed).
pub fn finalize_resources(
    env: &Environment,
    opts: &FinalizeOptions,
) -> Result<Vec<ResourceSpec>, FinalizeError> {
    let r = finalize_refs(env)?;
    let doc = load_openapi(env, opts)?;
    let policy_xml = load_policy(env, opts)?;
    let mut out: Vec<ResourceSpec> = Vec::new();
    let apim = r.apim_id.as_str();

    // Named values.
    let tenant_nv = apim_named_value::named_value(
        apim,
        "tenant-id",
        Input::Known(env.azure.tenant_id.clone()),
        vec![apim.to_string()],
    )?;
    let app_nv = apim_named_value::named_value(
        apim,
        "openwebui-app-id",
        Input::Ref(r.entra_app_id.clone()),
        vec![apim.to_string()],
    )?;

    // Backends: one per account; with pool members, a Pool and 429 breakers.
    let pooled = r.foundry.len() > 1;
    let mut backend_ids = Vec::new();
    for acct in &r.foundry {
        let b = apim_backend::single_backend(
            apim,
            &acct.backend,
            acct.openai_v1_url(),
            format!("Foundry account {} (OpenAI v1)", acct.name),
            pooled,
            vec![apim.to_string(), acct.id.clone()],
        )?;
        backend_ids.push(b.address.0.clone());
        out.push(b);
    }
    if pooled {
        let members = r
            .foundry
            .iter()
            .map(|a| PoolService {
                id: Ids::child(apim, "backends", &a.backend),
                priority: a.priority,
                weight: a.weight,
            })
            .collect();
        let pool = apim_backend::pool_backend(apim, policy::FOUNDRY_POOL_BACKEND_ID, members)?;
        backend_ids.push(pool.address.0.clone());
        out.push(pool);
    }

    // Product, API (import), link.
    let product = apim_product::product(apim, &env.apim.product_name)?;
    let mut api = apim_api::api(
        apim,
        ApiImport {
            name: API_NAME.into(),
            display_name: "OpenAI v1".into(),
            path: API_PATH.into(),
            key_name: API_KEY_NAME.into(),
            service_url: r.foundry[0].openai_v1_url(),
            format: doc.format.into(),
            value: doc.value.clone(),
            revision_description: revision_description(&doc),
        },
        vec![apim.to_string()],
    )?;
    api.label = format!("APIM API {API_NAME} ({})", doc.summary());
    let api_id = api.address.0.clone();
    let link = apim_product::product_api(&product.address.0, &api_id, API_NAME)?;

    // Policy: after the named values and backends it references.
    let mut policy_deps = vec![tenant_nv.address.0.clone(), app_nv.address.0.clone()];
    policy_deps.extend(backend_ids.iter().cloned());
    let policy_spec = apim_api::api_policy(&api_id, policy_xml, policy_deps)?;

    // RBAC for the APIM identity.
    let mut rbac = Vec::new();
    for acct in &r.foundry {
        for (role, label) in [
            (ROLE_COGNITIVE_SERVICES_USER, "Cognitive Services User"),
            (ROLE_AZURE_AI_USER, "Azure AI User"),
        ] {
            rbac.push(role_assignment(
                &acct.id,
                role,
                label,
                r.apim_principal_id.clone(),
                apim,
            )?);
        }
    }
    let mmp = role_assignment(
        &r.app_insights_id,
        ROLE_MONITORING_METRICS_PUBLISHER,
        "Monitoring Metrics Publisher",
        r.apim_principal_id.clone(),
        apim,
    )?;

    // Logger (after its publishing role), API diagnostic, service diagnostic setting.
    let logger = apim_logger::app_insights_logger(
        apim,
        LOGGER_NAME,
        &r.app_insights_id,
        Input::Ref(r.app_insights_id_ref.clone()),
        Input::Ref(r.app_insights_connection_string.clone()),
        vec![apim.to_string(), mmp.address.0.clone()],
    )?;
    let diagnostic = apim_diagnostic::app_insights_diagnostic(&api_id, &logger.address.0)?;
    let diag_setting = diagnostic_setting::to_log_analytics(
        apim,
        DIAGNOSTIC_SETTING_NAME,
        &r.log_analytics_id,
        Input::Ref(r.log_analytics_id_ref.clone()),
        &GATEWAY_LOG_CATEGORIES,
    )?;

    // App Gateway identity on both vaults.
    let mut kv_roles = Vec::new();
    for vault in [&r.hub_vault_id, &r.spoke_vault_id] {
        kv_roles.push(role_assignment(
            vault,
            ROLE_KEY_VAULT_SECRETS_USER,
            "Key Vault Secrets User",
            r.appgw_identity_principal_id.clone(),
            &r.appgw_identity_id,
        )?);
    }

    // DNS: APIM host names in azure-api.net.
    let mut dns = Vec::new();
    for suffix in APIM_HOST_SUFFIXES {
        dns.push(dns_record::a_record(
            &r.apim_zone_id,
            &format!("{}{suffix}", env.apim.name),
            Input::Ref(r.apim_private_ip.clone()),
            vec![apim.to_string()],
        )?);
    }
    // DNS: the Container Apps environment's zone (named by its default domain).
    let zone = dns_record::dynamic_zone(
        &Ids::new(env).hub_rg,
        &r.environment_default_domain.marker(),
        &r.environment_id,
        tags(env),
    )?;
    let app_record = dns_record::a_record(
        &zone.address.0,
        &env.container_app.name,
        Input::Ref(r.environment_static_ip.clone()),
        vec![r.environment_id.clone()],
    )?;
    let zone_link = dns_record::vnet_link(
        &zone.address.0,
        ACA_ZONE_HUB_LINK,
        &r.hub_vnet_id,
        tags(env),
    )?;

    // Hub -> spoke peering.
    let peering =
        vnet_peering_hub::peering(&r.hub_vnet_id, HUB_TO_SPOKE_PEERING, &r.spoke_vnet_id)?;

    // Application Gateway: after its Key Vault roles and the app's DNS.
    let gw_input = app_gateway::AppGatewayInput {
        id: r.app_gateway_id.clone(),
        name: env.app_gateway.name.clone(),
        location: hub_location(env),
        tags: tags(env),
        sku: env.app_gateway.sku.clone(),
        capacity: env.app_gateway.capacity,
        identity_id: r.appgw_identity_id.clone(),
        subnet_id: Ids::child(&r.hub_vnet_id, "subnets", APPGW_SUBNET),
        public_ip_id: r.appgw_public_ip_id.clone(),
        ssl_certificate_secret_id: Input::Ref(Reference::new(
            r.tls_secret_id.clone(),
            "/properties/secretUri",
        )),
        trusted_root_secret_id: r
            .trusted_root_secret_id
            .as_ref()
            .map(|id| Input::Ref(Reference::new(id.clone(), "/properties/secretUri"))),
        backend_fqdn: Input::Ref(r.container_app_fqdn.clone()),
        host_name: env.domain.custom_domain.clone(),
    };
    let mut gw_deps: Vec<String> = kv_roles.iter().map(|k| k.address.0.clone()).collect();
    gw_deps.push(app_record.address.0.clone());
    gw_deps.push(zone_link.address.0.clone());
    gw_deps.push(peering.address.0.clone());
    let gateway = app_gateway::app_gateway(&gw_input, gw_deps)?;

    out.insert(0, app_nv);
    out.insert(0, tenant_nv);
    out.extend([product, api, link, policy_spec]);
    out.extend(rbac);
    out.extend([mmp, logger, diagnostic, diag_setting]);
    out.extend(kv_roles);
    out.extend(dns);
    out.extend([zone, app_record, zone_link, peering, gateway]);
    Ok(out)
}

/// The hub and spoke resources the finalize stage reads, as read-only (`Mode::Data`)
/// specs of their owning stage: when one is missing, the plan fails before any write
/// and names that stage (`owui-deploy hub` / `owui-deploy spoke`). For `up`, where
/// the hub and spoke stages manage these addresses, the composition drops them.
pub fn finalize_prerequisites(env: &Environment) -> Result<Vec<ResourceSpec>, FinalizeError> {
    let r = finalize_refs(env)?;
    let data =
        |stage: Stage, type_name: &str, id: &str, what: &str| -> Result<ResourceSpec, BuildError> {
            Ok(ResourceSpec {
                address: Address(id.to_string()),
                label: format!("{what} (deployed by `owui-deploy {stage}`)"),
                stage,
                api: arm_api(type_name)?,
                body: serde_json::json!({}),
                depends_on: BTreeSet::new(),
                rules: DiffRules::default(),
                mode: Mode::Data,
                serial_key: None,
                taggable: false,
            })
        };
    let mut out = vec![
        data(
            Stage::Hub,
            "Microsoft.ApiManagement/service",
            &r.apim_id,
            "API Management service",
        )?,
        data(
            Stage::Hub,
            "Microsoft.Insights/components",
            &r.app_insights_id,
            "Application Insights",
        )?,
        data(
            Stage::Hub,
            "Microsoft.OperationalInsights/workspaces",
            &r.log_analytics_id,
            "Log Analytics workspace",
        )?,
        data(
            Stage::Hub,
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            &r.appgw_identity_id,
            "App Gateway identity",
        )?,
        data(
            Stage::Hub,
            "Microsoft.Network/virtualNetworks",
            &r.hub_vnet_id,
            "hub VNet",
        )?,
        data(
            Stage::Hub,
            "Microsoft.Network/publicIPAddresses",
            &r.appgw_public_ip_id,
            "App Gateway public IP",
        )?,
        data(
            Stage::Hub,
            "Microsoft.KeyVault/vaults",
            &r.hub_vault_id,
            "hub Key Vault",
        )?,
        data(
            Stage::Hub,
            "Microsoft.Network/privateDnsZones",
            &r.apim_zone_id,
            "azure-api.net zone",
        )?,
        data(
            Stage::Spoke,
            "Microsoft.Network/virtualNetworks",
            &r.spoke_vnet_id,
            "spoke VNet",
        )?,
        data(
            Stage::Spoke,
            "Microsoft.KeyVault/vaults",
            &r.spoke_vault_id,
            "spoke Key Vault",
        )?,
        data(
            Stage::Spoke,
            "Microsoft.KeyVault/vaults/secrets",
            &r.tls_secret_id,
            "TLS certificate secret",
        )?,
        data(
            Stage::Spoke,
            "Microsoft.App/managedEnvironments",
            &r.environment_id,
            "Container Apps environment",
        )?,
        data(
            Stage::Spoke,
            "Microsoft.App/containerApps",
            &r.container_app_id,
            "Open WebUI container app",
        )?,
    ];
    if let Some(id) = &r.trusted_root_secret_id {
        out.push(data(
            Stage::Hub,
            "Microsoft.KeyVault/vaults/secrets",
            id,
            "trusted root certificate secret",
        )?);
    }
    for acct in &r.foundry {
        out.push(data(
            Stage::Spoke,
            "Microsoft.CognitiveServices/accounts",
            &acct.id,
            &format!("Foundry account {}", acct.name),
        )?);
    }
    out.push(ResourceSpec {
        address: Address(entra::application_address(env)),
        label: "Entra application (deployed by `owui-deploy spoke`)".into(),
        stage: Stage::Spoke,
        api: Api::Graph {
            kind: "application".into(),
        },
        body: serde_json::json!({}),
        depends_on: BTreeSet::new(),
        rules: DiffRules::default(),
        mode: Mode::Data,
        serial_key: None,
        taggable: false,
    });
    Ok(out)
}
