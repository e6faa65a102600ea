//! The `finalize` stage: what the Bicep quickstart could not do in one pass. APIM
//! AI-gateway wiring (named values, Foundry backend or pool, product, API imported
//! from an OpenAPI document, policy, logger, diagnostics), RBAC for the APIM and App
//! Gateway identities, private DNS records, and the Application Gateway. (The
//! hub -> spoke peering is created by the spoke stage, with the spoke -> hub one.)
//!
//! Everything Azure assigns (principal IDs, private IPs, FQDNs, the Container Apps
//! default domain, the Entra application ID, the App Insights connection string) is
//! read from Azure through [`Reference`]s. When finalize runs alone,
//! `stages::select` turns the hub and spoke resources those references read into
//! `Mode::Data` specs of their owning stage, so a missing prerequisite fails the
//! plan before any write and names the stage to run.
//!
//! # Why the Foundry backend URL is computed, not rewritten
//! An AIServices account's endpoint is `https://{customSubDomainName}.cognitiveservices.azure.com/`:
//! its host label *is* the custom subdomain, which the environment file fixes
//! (`foundry.custom_subdomain`, default the account name). Replacing the suffix
//! `.cognitiveservices.azure.com` with `.services.ai.azure.com` and appending
//! `openai/v1` therefore gives exactly `https://{subdomain}.services.ai.azure.com/openai/v1`,
//! computed here without a transform of a referenced value; the backend depends on
//! the account so it is written only once the account (and that host) exists.
//!
//! # Dynamic addresses (engine contract)
//! The Container Apps environment's private zone is named by the environment's
//! default domain, which Azure assigns. Its spec's address (and those of its record
//! and VNet link) therefore holds a reference marker,
//! `.../privateDnsZones/${ref:ENV_ID#/properties/defaultDomain}`. The engine treats
//! markers in an address like markers in a body: the address is resolved from the
//! live referenced resource before the resource is read or written; while the
//! referenced resource does not exist, the resource is planned as a create with the
//! address shown as `(known after apply)`. The unresolved address string is the
//! resource's key in the graph (dependencies and references use it as written).

use crate::config::Environment;
use crate::engine::{Input, Reference, ResourceSpec, Stage};
use crate::stages::ids::{APPGW_SUBNET, HUB_LINK, SECRET_CERTIFICATE, SECRET_TRUSTED_ROOT};
use crate::stages::openapi::{self, LoadedOpenApi, OpenApiSource};
use crate::stages::resources::apim_api::{ApiImport, ApiProperties, SubscriptionKeyNames};
use crate::stages::resources::apim_backend::{Backend, PoolService};
use crate::stages::resources::apim_diagnostic::Diagnostic;
use crate::stages::resources::apim_logger::Logger;
use crate::stages::resources::apim_named_value::NamedValue;
use crate::stages::resources::apim_policy::Policy;
use crate::stages::resources::apim_product::Product;
use crate::stages::resources::diagnostic_setting::DiagnosticSetting;
use crate::stages::resources::dns_record::ARecordSet;
use crate::stages::resources::private_dns_zone::PrivateDnsZone;
use crate::stages::resources::private_dns_zone_link::{LinkProperties, VirtualNetworkLink};
use crate::stages::resources::role_assignment::Principal;
use crate::stages::resources::workbook::{self, Workbook, WorkbookProperties};
use crate::stages::resources::{
    Empty, Placement, SubResource, apim_api, apim_backend, apim_diagnostic, apim_logger,
    apim_named_value, apim_policy, apim_product, apim_product_api, app_gateway, diagnostic_setting,
    dns_record, private_dns_zone, private_dns_zone_link, role_assignment, waf_policy,
};
use crate::stages::{Ids, StageError, StageOptions, entra, hub_location, policy, tags, usage};
use std::collections::BTreeSet;

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
pub const ROLE_KEY_VAULT_SECRETS_USER: &str = role_assignment::KEY_VAULT_SECRETS_USER;

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

/// The IDs and references the finalize stage works with (also what `outputs`
/// reads: every value here comes from Azure, never from a local cache).
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
    /// Hub VNet ID.
    pub hub_vnet_id: String,
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
pub fn finalize_refs(env: &Environment) -> Result<FinalizeRefs, StageError> {
    let ids = Ids::new(env);
    let apim_id = ids.apim();
    let mut foundry = vec![FoundryAccount {
        name: env.foundry.name.clone(),
        id: ids.foundry_account(&env.foundry.name),
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
        let err = |message: String| StageError::Setting {
            key: format!("foundry.pool[{index}] ({})", m.name),
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
            id: ids.foundry_account(&m.name),
            subdomain: m.custom_subdomain.clone().unwrap_or_else(|| m.name.clone()),
            backend: format!("foundry-{}", m.name.to_ascii_lowercase()),
            priority: m.priority,
            weight: m.weight,
        });
    }
    let container_app_id = ids.container_app();
    let environment_id = ids.aca_env();
    let app_insights_id = ids.app_insights();
    let log_analytics_id = ids.log_analytics();
    let hub_vault_id = ids.hub_key_vault();
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
        appgw_identity_id: ids.appgw_identity(),
        hub_vnet_id: ids.hub_vnet(),
        tls_secret_id: ids.spoke_secret(SECRET_CERTIFICATE),
        trusted_root_secret_id: env
            .domain
            .trusted_root_certificate_path
            .as_ref()
            .map(|_| ids.hub_secret(SECRET_TRUSTED_ROOT)),
        hub_vault_id,
        spoke_vault_id: ids.spoke_key_vault(),
        apim_zone_id: ids.dns_zone(APIM_ZONE),
        appgw_public_ip_id: ids.appgw_public_ip(),
        app_gateway_id: ids.hub(
            "Microsoft.Network/applicationGateways",
            &env.app_gateway.name,
        ),
        apim_id,
    })
}

/// Loads the OpenAPI document `apim.openapi` selects (relative to the environment file).
pub fn load_openapi(env: &Environment, opts: &StageOptions) -> Result<LoadedOpenApi, StageError> {
    let source = OpenApiSource::from_setting(env.apim.openapi.as_deref(), &opts.environment_dir);
    Ok(openapi::load(&source)?)
}

/// Renders and checks the API policy (`apim.policy_file`, relative to the
/// environment file, or the bundled template).
pub fn load_policy(env: &Environment, opts: &StageOptions) -> Result<String, StageError> {
    let custom = match &env.apim.policy_file {
        None => None,
        Some(p) => {
            let path = opts.environment_dir.join(p);
            Some(
                crate::files::read_capped_to_string(&path, crate::files::MAX_POLICY).map_err(
                    |e| StageError::Setting {
                        key: "apim.policy_file".into(),
                        message: format!("cannot read {}: {e}", path.display()),
                    },
                )?,
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

/// The finalize stage for the stage list (`stages::STAGE_BUILDERS`).
pub fn resources(env: &Environment, opts: &StageOptions) -> Result<Vec<ResourceSpec>, StageError> {
    finalize_resources(env, opts)
}

/// The desired resources of the finalize stage (all `Stage::Finalize`, managed).
/// The hub and spoke resources they reference are read from Azure (`stages::select`
/// turns them into `Mode::Data` when finalize runs alone). Built concern by
/// concern; the order is the order of the plan.
pub fn finalize_resources(
    env: &Environment,
    opts: &StageOptions,
) -> Result<Vec<ResourceSpec>, StageError> {
    let f = Finalize {
        env,
        opts,
        r: finalize_refs(env)?,
    };
    let doc = load_openapi(env, opts)?;
    let policy_xml = load_policy(env, opts)?;
    let mut out: Vec<ResourceSpec> = Vec::new();

    // The API policy names the named values and backends: it is written after them.
    let named_values = f.named_values()?;
    let backends = f.backends()?;
    let policy_deps = addresses(named_values.iter().chain(&backends));
    out.extend(named_values);
    out.extend(backends);
    out.extend(f.api(&doc, policy_xml, policy_deps)?);
    out.extend(f.apim_identity_roles()?);
    out.extend(f.apim_monitoring()?);
    if env.usage.workbook {
        out.push(usage_workbook(env, &f.r)?);
    }

    // The Application Gateway is written after its Key Vault roles, the app's DNS
    // and (WAF_v2) its WAF policy.
    let vault_roles = f.gateway_vault_roles()?;
    let mut gateway_after = addresses(&vault_roles);
    out.extend(vault_roles);
    out.extend(f.apim_dns_records()?);
    let [zone, app_record, zone_link] = f.container_apps_dns()?;
    gateway_after.extend(addresses([&app_record, &zone_link]));
    out.extend([zone, app_record, zone_link]);
    // WAF_v2: the WAF policy the gateway links (ARM refuses WAF_v2 without one).
    let waf = waf_policy(env)?;
    let firewall_policy_id = waf.as_ref().map(|policy| policy.address.0.clone());
    gateway_after.extend(firewall_policy_id.clone());
    out.extend(waf);
    out.push(f.app_gateway(firewall_policy_id, gateway_after)?);
    Ok(out)
}

/// The addresses of `specs`, in order (for `Placement::after`).
fn addresses<'s>(specs: impl IntoIterator<Item = &'s ResourceSpec>) -> Vec<String> {
    specs.into_iter().map(|s| s.address.0.clone()).collect()
}

/// What every builder of the finalize stage works with: the environment, the
/// stage options and the IDs and references of [`finalize_refs`].
struct Finalize<'a> {
    /// The environment.
    env: &'a Environment,
    /// The stage options.
    opts: &'a StageOptions,
    /// The IDs and references the stage works with.
    r: FinalizeRefs,
}

impl Finalize<'_> {
    /// A resource of the finalize stage.
    fn at(&self, address: String, label: String) -> Placement {
        Placement::new(address, label, Stage::Finalize)
    }

    /// The ID of the APIM child `kind/name`.
    fn child(&self, kind: &str, name: &str) -> String {
        Ids::child(&self.r.apim_id, kind, name)
    }

    /// Gateway: the APIM named values the policy reads (tenant ID, Entra app ID).
    fn named_values(&self) -> Result<Vec<ResourceSpec>, StageError> {
        let apim = self.r.apim_id.as_str();
        let tenant_nv = apim_named_value::spec(
            self.at(
                self.child("namedValues", "tenant-id"),
                "APIM named value tenant-id".into(),
            )
            .after(apim),
            &NamedValue::plain("tenant-id", Input::Known(self.env.azure.tenant_id.clone())),
        )?;
        let app_nv = apim_named_value::spec(
            self.at(
                self.child("namedValues", "openwebui-app-id"),
                "APIM named value openwebui-app-id".into(),
            )
            .after(apim),
            &NamedValue::plain("openwebui-app-id", Input::Ref(self.r.entra_app_id.clone())),
        )?;
        Ok(vec![tenant_nv, app_nv])
    }

    /// Gateway: one APIM backend per Foundry account; with pool members, a Pool
    /// backend over them (members trip on 429).
    fn backends(&self) -> Result<Vec<ResourceSpec>, StageError> {
        let (r, apim) = (&self.r, self.r.apim_id.as_str());
        let pooled = r.foundry.len() > 1;
        let mut out = Vec::new();
        for acct in &r.foundry {
            out.push(apim_backend::spec(
                self.at(
                    self.child("backends", &acct.backend),
                    format!("APIM backend {}", acct.backend),
                )
                .after(apim)
                .after(acct.id.clone()),
                &Backend::single(
                    acct.openai_v1_url(),
                    format!("Foundry account {} (OpenAI v1)", acct.name),
                    pooled,
                ),
            )?);
        }
        if pooled {
            out.push(self.backend_pool()?);
        }
        Ok(out)
    }

    /// The Pool backend over every account's backend (by priority and weight).
    fn backend_pool(&self) -> Result<ResourceSpec, StageError> {
        let members: Vec<PoolService> = self
            .r
            .foundry
            .iter()
            .map(|a| PoolService {
                id: self.child("backends", &a.backend),
                priority: a.priority,
                weight: a.weight,
            })
            .collect();
        let mut place = self.at(
            self.child("backends", policy::FOUNDRY_POOL_BACKEND_ID),
            format!("APIM backend pool {}", policy::FOUNDRY_POOL_BACKEND_ID),
        );
        for m in &members {
            place = place.after(m.id.clone());
        }
        apim_backend::spec(
            place,
            &Backend::pool(
                "Foundry accounts by priority and weight; members trip on 429".into(),
                members,
            ),
        )
    }

    /// Gateway: the product, the API imported from `doc`, their link and the API
    /// policy `policy_xml` (written after `policy_deps`).
    fn api(
        &self,
        doc: &LoadedOpenApi,
        policy_xml: String,
        policy_deps: Vec<String>,
    ) -> Result<[ResourceSpec; 4], StageError> {
        let (env, apim) = (self.env, self.r.apim_id.as_str());
        let product_id = self.child("products", &env.apim.product_name);
        let product = apim_product::spec(
            self.at(
                product_id.clone(),
                format!("APIM product {}", env.apim.product_name),
            )
            .after(apim),
            &Product::published(
                &env.apim.product_name,
                "Open WebUI's access to Microsoft Foundry through the AI gateway",
            ),
        )?;
        let api_id = self.child("apis", API_NAME);
        let api = apim_api::spec(
            self.at(
                api_id.clone(),
                format!("APIM API {API_NAME} ({})", doc.summary()),
            )
            .after(apim),
            &self.api_import(doc),
        )?;
        let link = apim_product_api::spec(
            self.at(
                Ids::child(&product_id, "apis", API_NAME),
                format!("APIM product {} API {API_NAME}", env.apim.product_name),
            )
            .after(product_id.clone())
            .after(api_id.clone()),
        )?;
        let mut place = self
            .at(
                Ids::child(&api_id, "policies", "policy"),
                "APIM API policy".into(),
            )
            .after(api_id.clone());
        for d in policy_deps {
            place = place.after(d);
        }
        let policy_spec = apim_policy::spec(place, &Policy::xml(policy_xml))?;
        Ok([product, api, link, policy_spec])
    }

    /// The body of the API import: OpenAI v1 at [`API_PATH`], subscription key
    /// [`API_KEY_NAME`], the primary account as service URL, the document `doc`.
    fn api_import(&self, doc: &LoadedOpenApi) -> ApiImport {
        ApiImport {
            properties: ApiProperties {
                display_name: "OpenAI v1".into(),
                path: API_PATH.into(),
                protocols: vec!["https".into()],
                subscription_required: true,
                subscription_key_parameter_names: SubscriptionKeyNames {
                    header: API_KEY_NAME.into(),
                    query: API_KEY_NAME.into(),
                },
                service_url: self.r.foundry[0].openai_v1_url(),
                api_revision_description: revision_description(doc),
                kind: "http".into(),
                format: doc.format.into(),
                value: doc.value.clone(),
            },
        }
    }

    /// Identity and RBAC: Cognitive Services User and Azure AI User on every
    /// Foundry account for the APIM identity.
    fn apim_identity_roles(&self) -> Result<Vec<ResourceSpec>, StageError> {
        let apim = self.r.apim_id.as_str();
        let mut out = Vec::new();
        for acct in &self.r.foundry {
            for (role, label) in [
                (ROLE_COGNITIVE_SERVICES_USER, "Cognitive Services User"),
                (ROLE_AZURE_AI_USER, "Azure AI User"),
            ] {
                out.push(role_assignment::spec(
                    &acct.id,
                    role,
                    Principal::system_identity(apim),
                    &format!("APIM identity: {label} on {}", acct.name),
                    Stage::Finalize,
                )?);
            }
        }
        Ok(out)
    }

    /// Monitoring: the APIM identity's Monitoring Metrics Publisher role on App
    /// Insights, the logger (after that role), the API diagnostics (App Insights
    /// and the LLM messages to Azure Monitor) and the service diagnostic setting.
    fn apim_monitoring(&self) -> Result<[ResourceSpec; 5], StageError> {
        let (env, r, apim) = (self.env, &self.r, self.r.apim_id.as_str());
        let api_id = self.child("apis", API_NAME);
        let mmp = role_assignment::spec(
            &r.app_insights_id,
            ROLE_MONITORING_METRICS_PUBLISHER,
            Principal::system_identity(apim),
            "APIM identity: Monitoring Metrics Publisher on App Insights",
            Stage::Finalize,
        )?;
        let logger_id = self.child("loggers", LOGGER_NAME);
        let logger = apim_logger::spec(
            self.at(logger_id.clone(), format!("APIM logger {LOGGER_NAME}"))
                .after(apim)
                .after(mmp.address.0.clone()),
            &Logger::app_insights(
                Input::Ref(r.app_insights_id_ref.clone()),
                Input::Ref(r.app_insights_connection_string.clone()),
            ),
        )?;
        let diagnostic = apim_diagnostic::spec(
            self.at(
                Ids::child(&api_id, "diagnostics", apim_diagnostic::APP_INSIGHTS),
                "APIM API diagnostic applicationinsights".into(),
            )
            .after(api_id.clone())
            .after(logger_id.clone()),
            &Diagnostic::app_insights(&logger_id),
        )?;
        // LLM messages to Azure Monitor (ApiManagementGatewayLlmLog) through APIM's
        // built-in `azuremonitor` logger.
        let llm_diagnostic = apim_diagnostic::spec(
            self.at(
                Ids::child(&api_id, "diagnostics", apim_diagnostic::AZURE_MONITOR),
                "APIM API diagnostic azuremonitor (LLM messages)".into(),
            )
            .after(api_id.clone()),
            &Diagnostic::azure_monitor(
                &self.child("loggers", apim_diagnostic::AZURE_MONITOR),
                env.apim.llm_log_max_message_bytes,
            ),
        )?;
        let diag_setting = diagnostic_setting::spec(
            self.at(
                Ids::extension(apim, diagnostic_setting::TYPE, DIAGNOSTIC_SETTING_NAME),
                format!("APIM diagnostic setting {DIAGNOSTIC_SETTING_NAME}"),
            )
            .after(apim),
            &DiagnosticSetting::to_log_analytics(
                Input::Ref(r.log_analytics_id_ref.clone()),
                &GATEWAY_LOG_CATEGORIES,
            ),
        )?;
        Ok([mmp, logger, diagnostic, llm_diagnostic, diag_setting])
    }

    /// Identity and RBAC: Key Vault Secrets User on both vaults for the App
    /// Gateway identity.
    fn gateway_vault_roles(&self) -> Result<Vec<ResourceSpec>, StageError> {
        let r = &self.r;
        let mut out = Vec::new();
        for (vault, which) in [(&r.hub_vault_id, "hub"), (&r.spoke_vault_id, "spoke")] {
            out.push(role_assignment::spec(
                vault,
                ROLE_KEY_VAULT_SECRETS_USER,
                Principal::user_identity(&r.appgw_identity_id),
                &format!("App Gateway identity: Key Vault Secrets User on the {which} vault"),
                Stage::Finalize,
            )?);
        }
        Ok(out)
    }

    /// DNS: the APIM host names in `azure-api.net` -> APIM's private IP.
    fn apim_dns_records(&self) -> Result<Vec<ResourceSpec>, StageError> {
        let r = &self.r;
        let mut out = Vec::new();
        for suffix in APIM_HOST_SUFFIXES {
            let name = format!("{}{suffix}", self.env.apim.name);
            out.push(dns_record::spec(
                self.at(
                    Ids::child(&r.apim_zone_id, "A", &name),
                    format!("DNS A {name}.{APIM_ZONE}"),
                )
                .after(r.apim_zone_id.clone()),
                &ARecordSet::single(Input::Ref(r.apim_private_ip.clone())),
            )?);
        }
        Ok(out)
    }

    /// DNS: the Container Apps environment's zone (named by its default domain),
    /// the app's record in it and the zone's hub VNet link.
    fn container_apps_dns(&self) -> Result<[ResourceSpec; 3], StageError> {
        let (env, r) = (self.env, &self.r);
        let zone_id = aca_zone_id(env, r);
        let zone = private_dns_zone::spec(
            self.at(
                zone_id.clone(),
                "private DNS zone of the Container Apps environment".into(),
            )
            .after(r.environment_id.clone()),
            &PrivateDnsZone {
                location: "global".into(),
                tags: tags(env),
                properties: Empty {},
            },
        )?;
        let app_record = dns_record::spec(
            self.at(
                Ids::child(&zone_id, "A", &env.container_app.name),
                format!(
                    "DNS A {} in the Container Apps zone",
                    env.container_app.name
                ),
            )
            .after(zone_id.clone()),
            &ARecordSet::single(Input::Ref(r.environment_static_ip.clone())),
        )?;
        let zone_link = private_dns_zone_link::spec(
            self.at(
                Ids::child(&zone_id, "virtualNetworkLinks", HUB_LINK),
                "hub VNet link of the Container Apps zone".into(),
            )
            .after(zone_id.clone())
            .after(r.hub_vnet_id.clone()),
            &VirtualNetworkLink {
                location: "global".into(),
                tags: tags(env),
                properties: LinkProperties {
                    virtual_network: SubResource::new(r.hub_vnet_id.clone()),
                    registration_enabled: false,
                },
            },
        )?;
        Ok([zone, app_record, zone_link])
    }

    /// Gateway: the Application Gateway (linking `firewall_policy_id` when
    /// WAF_v2), written after its identity, the hub VNet, its public IP and
    /// `gateway_after`.
    fn app_gateway(
        &self,
        firewall_policy_id: Option<String>,
        gateway_after: Vec<String>,
    ) -> Result<ResourceSpec, StageError> {
        let (env, r) = (self.env, &self.r);
        let input = app_gateway::AppGatewayInput {
            id: r.app_gateway_id.clone(),
            name: env.app_gateway.name.clone(),
            location: hub_location(env),
            tags: tags(env),
            sku: env.app_gateway.sku.clone(),
            capacity: env.app_gateway.capacity,
            identity_id: r.appgw_identity_id.clone(),
            subnet_id: Ids::child(&r.hub_vnet_id, "subnets", APPGW_SUBNET),
            public_ip_id: r.appgw_public_ip_id.clone(),
            ssl_certificate_secret_id: (!self.opts.without_certificate).then(|| {
                Input::Ref(Reference::new(
                    r.tls_secret_id.clone(),
                    "/properties/secretUri",
                ))
            }),
            trusted_root_secret_id: r
                .trusted_root_secret_id
                .as_ref()
                .map(|id| Input::Ref(Reference::new(id.clone(), "/properties/secretUri"))),
            firewall_policy_id,
            backend_fqdn: Input::Ref(r.container_app_fqdn.clone()),
            host_name: env.domain.custom_domain.clone(),
        };
        let mut place = self
            .at(
                r.app_gateway_id.clone(),
                format!("Application Gateway {}", env.app_gateway.name),
            )
            .after(r.appgw_identity_id.clone())
            .after(r.hub_vnet_id.clone())
            .after(r.appgw_public_ip_id.clone());
        for d in gateway_after {
            place = place.after(d);
        }
        app_gateway::spec(place, &app_gateway::body(&input))
    }
}

/// The WAF policy of a `WAF_v2` gateway (`app_gateway.waf_policy_name` in the hub
/// resource group, `app_gateway.waf_mode`); `None` for `Standard_v2`.
pub fn waf_policy(env: &Environment) -> Result<Option<ResourceSpec>, StageError> {
    let ag = &env.app_gateway;
    if ag.sku != "WAF_v2" {
        return Ok(None);
    }
    let ids = Ids::new(env);
    let spec = waf_policy::spec(
        Placement::new(
            ids.hub(waf_policy::TYPE, &ag.waf_policy_name),
            format!("WAF policy {} ({})", ag.waf_policy_name, ag.waf_mode),
            Stage::Finalize,
        )
        .after(ids.hub_rg.clone()),
        &waf_policy::WafPolicy::default_rules(&hub_location(env), tags(env), &ag.waf_mode),
    )?;
    Ok(Some(spec))
}

/// The shared usage workbook (`usage.workbook`): the reports of
/// [`crate::stages::usage`], in the hub resource group, linked to the workspace
/// the gateway logs go to.
fn usage_workbook(env: &Environment, r: &FinalizeRefs) -> Result<ResourceSpec, StageError> {
    let workspace = r.log_analytics_id.as_str();
    let content = usage::workbook_content(workspace);
    let name = workbook::name_for(workspace);
    workbook::spec(
        Placement::new(
            Ids::new(env).hub(workbook::TYPE, &name),
            "usage workbook (Azure Monitor)".to_string(),
            Stage::Finalize,
        )
        .after(workspace),
        &Workbook {
            location: hub_location(env),
            tags: tags(env),
            kind: "shared".into(),
            properties: WorkbookProperties {
                display_name: format!("Open WebUI usage ({})", env.name),
                serialized_data: content.to_string(),
                version: usage::WORKBOOK_VERSION.into(),
                category: "workbook".into(),
                source_id: workspace.to_string(),
                description: "Tokens per user and model, requests per key, IP, backend and deployment, token-limit 429s: the reports of `owui-deploy usage`.".into(),
            },
        },
    )
}

/// The ARM ID of the Container Apps environment's private zone in the hub resource
/// group. Its name is the environment's default domain, which Azure assigns
/// (`{random}.{region}.azurecontainerapps.io`), so the ID holds a reference marker
/// (see "Dynamic addresses" in the module docs).
pub fn aca_zone_id(env: &Environment, r: &FinalizeRefs) -> String {
    Ids::new(env).hub(
        private_dns_zone::TYPE,
        &r.environment_default_domain.marker(),
    )
}
