//! The `hub` stage: resource group, APIM subnet NSG and route table, hub VNet
//! with its three subnets, private DNS zones with their hub VNet links, Log
//! Analytics, Application Insights, two public IPs, the API Management service,
//! the App Gateway identity and the hub Key Vault (with the App Gateway's trusted
//! root certificate when the environment names one).

use super::ids::{APIM_SUBNET, APPGW_SUBNET, HUB_LINK, PE_SUBNET, SECRET_TRUSTED_ROOT};
use super::resources::{
    Empty, ManagedIdentity, SubResource, api_management, app_insights, key_vault_secret,
    log_analytics_workspace, network_security_group, private_dns_zone, public_ip, route_table,
    user_assigned_identity, virtual_network,
};
use super::scaffold::StageScope;
use super::{StageError, StageOptions};
use crate::config::Environment;
use crate::engine::{Input, ResourceSpec, SecretRef};

/// Private DNS zone of Cognitive Services endpoints.
pub const ZONE_COGNITIVE: &str = "privatelink.cognitiveservices.azure.com";
/// Private DNS zone of Azure OpenAI endpoints.
pub const ZONE_OPENAI: &str = "privatelink.openai.azure.com";
/// Private DNS zone of Foundry (AI services) endpoints.
pub const ZONE_AI_SERVICES: &str = "privatelink.services.ai.azure.com";
/// Private DNS zone of PostgreSQL Flexible Server private endpoints.
pub const ZONE_POSTGRES: &str = "privatelink.postgres.database.azure.com";
/// Zone of APIM in internal VNet mode.
pub const ZONE_APIM: &str = "azure-api.net";
/// Private DNS zone of Key Vault private endpoints (with `hub.key_vault_private_dns`).
pub const ZONE_VAULT: &str = "privatelink.vaultcore.azure.net";

/// Private DNS zone of Azure Managed Redis private endpoints (with `[redis]`).
pub const ZONE_REDIS: &str = "privatelink.redis.azure.net";

/// Days a deleted vault stays recoverable (both vaults).
pub const KEY_VAULT_SOFT_DELETE_DAYS: u32 = 7;

/// Service endpoints of the APIM subnet.
pub const APIM_SERVICE_ENDPOINTS: &[&str] = &[
    "Microsoft.Storage",
    "Microsoft.Sql",
    "Microsoft.EventHub",
    "Microsoft.KeyVault",
    "Microsoft.ServiceBus",
    "Microsoft.AzureActiveDirectory",
];

const NSG_RULES_FILE: &str = "templates/network/apim-nsg-rules.toml";
const NSG_RULES: &str = include_str!("../../templates/network/apim-nsg-rules.toml");
const ROUTES_FILE: &str = "templates/network/apim-routes.toml";
const ROUTES: &str = include_str!("../../templates/network/apim-routes.toml");

/// The private DNS zones of the hub, in order.
pub fn private_dns_zones(env: &Environment) -> Vec<&'static str> {
    let mut zones = vec![
        ZONE_COGNITIVE,
        ZONE_OPENAI,
        ZONE_AI_SERVICES,
        ZONE_POSTGRES,
        ZONE_APIM,
    ];
    if env.hub.key_vault_private_dns {
        zones.push(ZONE_VAULT);
    }
    if env.redis.is_some() {
        zones.push(ZONE_REDIS);
    }
    zones
}

/// The APIM subnet NSG rules (from `templates/network/apim-nsg-rules.toml`).
pub fn apim_nsg_rules() -> Result<Vec<network_security_group::SecurityRule>, StageError> {
    network_security_group::rules_from_toml(NSG_RULES, NSG_RULES_FILE)
}

/// The APIM subnet routes (from `templates/network/apim-routes.toml`).
pub fn apim_routes() -> Result<Vec<route_table::Route>, StageError> {
    route_table::routes_from_toml(ROUTES, ROUTES_FILE)
}

/// Every resource of the hub stage, concern by concern (the order is the order
/// of the plan).
pub fn resources(env: &Environment, _opts: &StageOptions) -> Result<Vec<ResourceSpec>, StageError> {
    let s = StageScope::hub(env);
    let mut out = vec![s.resource_group(format!("hub resource group {}", env.hub.resource_group))?];
    out.extend(network(&s)?);
    out.extend(private_dns(&s)?);
    out.extend(monitoring(&s)?);
    out.extend(public_ips(&s)?);
    out.push(api_management(&s)?);
    out.push(gateway_identity(&s)?);
    out.extend(key_vault_and_secrets(&s)?);
    Ok(out)
}

/// Network: the APIM subnet NSG and route table, and the hub VNet.
fn network(s: &StageScope) -> Result<Vec<ResourceSpec>, StageError> {
    let (ids, hub) = (&s.ids, &s.env.hub);
    let nsg = s.network_security_group(
        ids.apim_nsg(),
        format!("APIM subnet NSG {}", hub.apim_nsg_name),
        apim_nsg_rules()?,
    )?;
    let routes = route_table::spec(
        s.at(
            ids.apim_route_table(),
            format!("APIM route table {}", hub.apim_route_table_name),
        ),
        &route_table::RouteTable {
            location: s.location.clone(),
            tags: s.tags.clone(),
            properties: route_table::RouteTableProperties {
                routes: apim_routes()?,
            },
        },
    )?;
    Ok(vec![nsg, routes, hub_vnet(s)?])
}

/// The hub VNet with its three subnets: APIM (NSG, route table, service
/// endpoints), App Gateway, and private endpoints.
fn hub_vnet(s: &StageScope) -> Result<ResourceSpec, StageError> {
    let (ids, hub) = (&s.ids, &s.env.hub);
    let mut apim_subnet = virtual_network::SubnetProperties::prefix(hub.subnets.apim.to_string());
    apim_subnet.network_security_group = Some(SubResource::new(ids.apim_nsg()));
    apim_subnet.route_table = Some(SubResource::new(ids.apim_route_table()));
    apim_subnet.service_endpoints = APIM_SERVICE_ENDPOINTS
        .iter()
        .map(|s| virtual_network::ServiceEndpoint {
            service: s.to_string(),
        })
        .collect();
    let mut pe_subnet =
        virtual_network::SubnetProperties::prefix(hub.subnets.private_endpoints.to_string());
    pe_subnet.private_endpoint_network_policies = Some("Disabled".into());
    virtual_network::spec(
        s.at(ids.hub_vnet(), format!("hub VNet {}", hub.vnet_name))
            .after(ids.apim_nsg())
            .after(ids.apim_route_table()),
        &virtual_network::VirtualNetwork {
            location: s.location.clone(),
            tags: s.tags.clone(),
            properties: virtual_network::VirtualNetworkProperties {
                address_space: virtual_network::AddressSpace {
                    address_prefixes: vec![hub.address_space.to_string()],
                },
                subnets: vec![
                    virtual_network::Subnet {
                        name: APIM_SUBNET.into(),
                        properties: apim_subnet,
                    },
                    virtual_network::Subnet {
                        name: APPGW_SUBNET.into(),
                        properties: virtual_network::SubnetProperties::prefix(
                            hub.subnets.appgw.to_string(),
                        ),
                    },
                    virtual_network::Subnet {
                        name: PE_SUBNET.into(),
                        properties: pe_subnet,
                    },
                ],
                virtual_network_peerings: Vec::new(),
            },
        },
    )
}

/// Private DNS: each zone of [`private_dns_zones`] with its hub VNet link.
fn private_dns(s: &StageScope) -> Result<Vec<ResourceSpec>, StageError> {
    let ids = &s.ids;
    let mut out = Vec::new();
    for zone in private_dns_zones(s.env) {
        out.push(private_dns_zone::spec(
            s.at(ids.dns_zone(zone), format!("private DNS zone {zone}")),
            &private_dns_zone::PrivateDnsZone {
                location: "global".into(),
                tags: s.tags.clone(),
                properties: Empty {},
            },
        )?);
        out.push(s.dns_zone_link(zone, (HUB_LINK, "hub"), ids.hub_vnet())?);
    }
    Ok(out)
}

/// Monitoring: the Log Analytics workspace and the workspace-based Application
/// Insights component (local auth off on both).
fn monitoring(s: &StageScope) -> Result<Vec<ResourceSpec>, StageError> {
    let (ids, hub) = (&s.ids, &s.env.hub);
    let workspace = log_analytics_workspace::spec(
        s.at(
            ids.log_analytics(),
            format!("Log Analytics workspace {}", hub.log_analytics_name),
        ),
        &log_analytics_workspace::Workspace {
            location: s.location.clone(),
            tags: s.tags.clone(),
            properties: log_analytics_workspace::WorkspaceProperties {
                sku: log_analytics_workspace::WorkspaceSku {
                    name: "PerGB2018".into(),
                },
                retention_in_days: hub.log_retention_days,
                features: log_analytics_workspace::WorkspaceFeatures {
                    disable_local_auth: true,
                },
            },
        },
    )?;
    let insights = app_insights::spec(
        s.at(
            ids.app_insights(),
            format!("Application Insights {}", hub.app_insights_name),
        )
        .after(ids.log_analytics()),
        &app_insights::Component {
            location: s.location.clone(),
            tags: s.tags.clone(),
            kind: "web".into(),
            properties: app_insights::ComponentProperties {
                application_type: "web".into(),
                workspace_resource_id: ids.log_analytics(),
                disable_local_auth: true,
            },
        },
    )?;
    Ok(vec![workspace, insights])
}

/// Gateway addresses: the App Gateway's public IP and APIM's (with its DNS label).
fn public_ips(s: &StageScope) -> Result<Vec<ResourceSpec>, StageError> {
    let (ids, hub) = (&s.ids, &s.env.hub);
    let pip = |dns_label: Option<String>| public_ip::PublicIp {
        location: s.location.clone(),
        tags: s.tags.clone(),
        sku: public_ip::PublicIpSku {
            name: "Standard".into(),
            tier: "Regional".into(),
        },
        properties: public_ip::PublicIpProperties {
            public_ip_allocation_method: "Static".into(),
            public_ip_address_version: "IPv4".into(),
            dns_settings: dns_label.map(|l| public_ip::DnsSettings {
                domain_name_label: l,
            }),
        },
    };
    let appgw = public_ip::spec(
        s.at(
            ids.appgw_public_ip(),
            format!("App Gateway public IP {}", hub.appgw_public_ip_name),
        ),
        &pip(None),
    )?;
    let apim = public_ip::spec(
        s.at(
            ids.apim_public_ip(),
            format!("APIM public IP {}", hub.apim_public_ip_name),
        ),
        &pip(Some(hub.apim_public_ip_dns_label.clone())),
    )?;
    Ok(vec![appgw, apim])
}

/// Gateway: the API Management service in internal VNet mode.
fn api_management(s: &StageScope) -> Result<ResourceSpec, StageError> {
    let (ids, apim) = (&s.ids, &s.env.apim);
    api_management::spec(
        s.at(ids.apim(), format!("API Management {}", apim.name))
            .after(ids.hub_vnet())
            .after(ids.apim_public_ip()),
        &api_management::ApiManagementService {
            location: s.location.clone(),
            tags: s.tags.clone(),
            sku: api_management::ApimSku {
                name: apim.sku.clone(),
                capacity: apim.capacity,
            },
            identity: ManagedIdentity::system(),
            properties: api_management::ApimProperties {
                publisher_email: apim.publisher_email.clone(),
                publisher_name: apim.publisher_name.clone(),
                virtual_network_type: "Internal".into(),
                virtual_network_configuration: api_management::VirtualNetworkConfiguration {
                    subnet_resource_id: ids.apim_subnet(),
                },
                public_ip_address_id: ids.apim_public_ip(),
            },
        },
    )
}

/// Identity: the App Gateway's user-assigned identity.
fn gateway_identity(s: &StageScope) -> Result<ResourceSpec, StageError> {
    user_assigned_identity::spec(
        s.at(
            s.ids.appgw_identity(),
            format!("App Gateway identity {}", s.env.hub.appgw_identity_name),
        ),
        &user_assigned_identity::UserAssignedIdentity {
            location: s.location.clone(),
            tags: s.tags.clone(),
        },
    )
}

/// Secrets: the hub Key Vault (with its private endpoint when
/// `hub.key_vault_private_dns`) and the App Gateway's trusted root certificate
/// when the environment names one.
fn key_vault_and_secrets(s: &StageScope) -> Result<Vec<ResourceSpec>, StageError> {
    let (ids, env) = (&s.ids, s.env);
    let label = format!("hub Key Vault {}", env.hub.key_vault_name);
    let mut out = vec![s.key_vault(ids.hub_key_vault(), label.clone())?];
    if env.hub.key_vault_private_dns {
        // Without endpoints the linked zone would answer NXDOMAIN for the vault's name.
        out.extend(super::spoke::private_endpoint_pair_in(
            ids,
            &s.tags,
            env,
            (s.stage, &s.rg),
            ids.hub_key_vault_private_endpoint(),
            (&ids.hub_key_vault(), "vault", &label),
            &[ZONE_VAULT],
        )?);
    }
    if env.domain.trusted_root_certificate_path.is_some() {
        out.push(key_vault_secret::spec(
            s.place(
                ids.hub_secret(SECRET_TRUSTED_ROOT),
                format!("Key Vault secret {SECRET_TRUSTED_ROOT}"),
            )
            .after(ids.hub_key_vault()),
            &key_vault_secret::Secret {
                tags: s.tags.clone(),
                properties: key_vault_secret::SecretProperties {
                    value: Input::Secret(SecretRef(SECRET_TRUSTED_ROOT.to_string())),
                    content_type: None,
                },
            },
        )?);
    }
    Ok(out)
}
