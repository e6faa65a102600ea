//! `Microsoft.Network/applicationGateways`: the public entry point of Open WebUI.
//! TLS terminates here with a certificate read from Key Vault by the gateway's
//! user-assigned identity; traffic goes on over HTTPS to the container app's FQDN
//! (host name = the custom domain, cookie affinity, 120 s timeout, probe
//! `/health`); plain HTTP is redirected permanently to HTTPS.

use super::{ManagedIdentity, Placement, SubResource, Tags, arm_spec};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::{Ids, StageError};
use serde::Serialize;

/// Resource type.
pub const TYPE: &str = "Microsoft.Network/applicationGateways";

/// Backend request timeout in seconds (long LLM answers stream through here).
pub const REQUEST_TIMEOUT_S: u32 = 120;
/// Health probe path of Open WebUI (its `/health` answers once the app serves).
pub const PROBE_PATH: &str = "/health";
/// Probe failures before a backend is unhealthy: 10 x 30 s outlasts a replica's
/// cold start (its startup probe allows 30 s + 10 x 30 s).
pub const PROBE_UNHEALTHY_THRESHOLD: u32 = 10;

/// What the gateway is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct AppGatewayInput {
    /// Gateway ARM ID.
    pub id: String,
    /// Gateway name.
    pub name: String,
    /// Region.
    pub location: String,
    /// Tags (ownership tag included).
    pub tags: Tags,
    /// SKU name and tier (`Standard_v2` / `WAF_v2`).
    pub sku: String,
    /// Instance count.
    pub capacity: u32,
    /// User-assigned identity that reads Key Vault.
    pub identity_id: String,
    /// `appgw-subnet` ID.
    pub subnet_id: String,
    /// Frontend public IP ID.
    pub public_ip_id: String,
    /// Key Vault secret ID (versionless URI) of the TLS certificate (PFX). `None`
    /// when no certificate exists (e.g. the sandbox without one): the gateway then
    /// serves plain HTTP on port 80 and sends the app's own host name to the backend.
    pub ssl_certificate_secret_id: Option<Input<String>>,
    /// Key Vault secret ID of the trusted root certificate of the backend, if any.
    pub trusted_root_secret_id: Option<Input<String>>,
    /// WAF policy ID (`WAF_v2` only).
    pub firewall_policy_id: Option<String>,
    /// Backend FQDN (the container app's).
    pub backend_fqdn: Input<String>,
    /// Public host name (custom domain), sent to the backend as `Host`.
    pub host_name: String,
}

/// PUT body of an Application Gateway.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppGatewayBody {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// User-assigned identity.
    pub identity: ManagedIdentity,
    /// Properties.
    pub properties: AppGatewayProperties,
}

/// `properties` of the gateway.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppGatewayProperties {
    /// SKU.
    pub sku: Sku,
    /// Predefined modern TLS policy.
    pub ssl_policy: SslPolicy,
    /// Subnet.
    #[serde(rename = "gatewayIPConfigurations")]
    pub gateway_ip_configurations: Vec<Named<SubnetProps>>,
    /// TLS certificate(s).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssl_certificates: Vec<Named<KeyVaultCert>>,
    /// Trusted root certificate(s) of the backend.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trusted_root_certificates: Vec<Named<KeyVaultCert>>,
    /// Public frontend.
    #[serde(rename = "frontendIPConfigurations")]
    pub frontend_ip_configurations: Vec<Named<FrontendIpProps>>,
    /// Ports 443 and 80.
    pub frontend_ports: Vec<Named<PortProps>>,
    /// The container app.
    pub backend_address_pools: Vec<Named<PoolProps>>,
    /// HTTPS to the backend.
    pub backend_http_settings_collection: Vec<Named<HttpSettingsProps>>,
    /// Health probe.
    pub probes: Vec<Named<ProbeProps>>,
    /// HTTPS and HTTP listeners.
    pub http_listeners: Vec<Named<ListenerProps>>,
    /// HTTP -> HTTPS.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirect_configurations: Vec<Named<RedirectProps>>,
    /// Routing rules.
    pub request_routing_rules: Vec<Named<RuleProps>>,
    /// WAF policy (`WAF_v2` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firewall_policy: Option<SubResource>,
}

/// A named sub-resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Named<P> {
    /// Name.
    pub name: String,
    /// Properties.
    pub properties: P,
}

/// SKU.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sku {
    /// Name.
    pub name: String,
    /// Tier.
    pub tier: String,
    /// Instances.
    pub capacity: u32,
}

/// TLS policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SslPolicy {
    /// `Predefined`.
    pub policy_type: String,
    /// `AppGwSslPolicy20220101` (TLS 1.2+).
    pub policy_name: String,
}

/// Gateway subnet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubnetProps {
    /// Subnet.
    pub subnet: SubResource,
}

/// A certificate stored in Key Vault.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyVaultCert {
    /// Secret ID (versionless: the gateway follows rotations).
    pub key_vault_secret_id: Input<String>,
}

/// Frontend IP.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrontendIpProps {
    /// Public IP.
    #[serde(rename = "publicIPAddress")]
    pub public_ip_address: SubResource,
}

/// Frontend port.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortProps {
    /// Port.
    pub port: u16,
}

/// Backend pool.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolProps {
    /// Addresses.
    pub backend_addresses: Vec<BackendAddress>,
}

/// One backend address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackendAddress {
    /// FQDN.
    pub fqdn: Input<String>,
}

/// Backend HTTP settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpSettingsProps {
    /// 443.
    pub port: u16,
    /// `Https`.
    pub protocol: String,
    /// `Enabled`.
    pub cookie_based_affinity: String,
    /// Affinity cookie name.
    pub affinity_cookie_name: String,
    /// Seconds.
    pub request_timeout: u32,
    /// Host header sent to the backend (the custom domain).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_name: Option<String>,
    /// Not picked from the backend address.
    pub pick_host_name_from_backend_address: bool,
    /// Probe.
    pub probe: SubResource,
    /// Trusted roots for the backend certificate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trusted_root_certificates: Vec<SubResource>,
}

/// Health probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeProps {
    /// `Https`.
    pub protocol: String,
    /// Host header of probes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Path.
    pub path: String,
    /// Seconds between probes.
    pub interval: u32,
    /// Seconds to wait for an answer.
    pub timeout: u32,
    /// Failures before unhealthy.
    pub unhealthy_threshold: u32,
    /// Not picked from the settings (the host is explicit).
    pub pick_host_name_from_backend_http_settings: bool,
    /// Healthy status codes.
    #[serde(rename = "match")]
    pub match_: ProbeMatch,
}

/// Healthy answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeMatch {
    /// Status code ranges.
    pub status_codes: Vec<String>,
}

/// Listener.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenerProps {
    /// Frontend IP.
    #[serde(rename = "frontendIPConfiguration")]
    pub frontend_ip_configuration: SubResource,
    /// Port.
    pub frontend_port: SubResource,
    /// `Https` or `Http`.
    pub protocol: String,
    /// Certificate (HTTPS).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl_certificate: Option<SubResource>,
}

/// Redirect.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedirectProps {
    /// `Permanent`.
    pub redirect_type: String,
    /// The HTTPS listener.
    pub target_listener: SubResource,
    /// Keep the path.
    pub include_path: bool,
    /// Keep the query string.
    pub include_query_string: bool,
}

/// Routing rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleProps {
    /// `Basic`.
    pub rule_type: String,
    /// Evaluation order (required on v2).
    pub priority: u32,
    /// Listener.
    pub http_listener: SubResource,
    /// Backend pool (forwarding rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_address_pool: Option<SubResource>,
    /// Backend settings (forwarding rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_http_settings: Option<SubResource>,
    /// Redirect (redirect rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_configuration: Option<SubResource>,
}

fn named<P>(name: &str, properties: P) -> Named<P> {
    Named {
        name: name.to_string(),
        properties,
    }
}

/// The gateway body for `input`: the fixed parts (SKU, TLS policy, subnet,
/// frontend IP, backend pool), the certificates, the frontend (ports, listeners,
/// redirects and rules: HTTPS with a certificate, HTTP only without), and the
/// backend settings with their health probe.
pub fn body(input: &AppGatewayInput) -> AppGatewayBody {
    let children = Children(&input.id);
    let tls = input.ssl_certificate_secret_id.as_ref();
    let trusted = trusted_root_certificates(input);
    let trusted_refs: Vec<SubResource> = trusted
        .iter()
        .map(|t| children.sub("trustedRootCertificates", &t.name))
        .collect();
    let frontend = match tls {
        Some(secret) => Frontend::https(&children, secret),
        None => Frontend::http_only(&children),
    };
    // With a certificate the app serves the custom domain; without one it only
    // answers to its own FQDN.
    let host = tls.map(|_| input.host_name.clone());
    AppGatewayBody {
        location: input.location.clone(),
        tags: input.tags.clone(),
        identity: ManagedIdentity::user(input.identity_id.clone()),
        properties: AppGatewayProperties {
            sku: Sku {
                name: input.sku.clone(),
                tier: input.sku.clone(),
                capacity: input.capacity,
            },
            ssl_policy: SslPolicy {
                policy_type: "Predefined".into(),
                policy_name: "AppGwSslPolicy20220101".into(),
            },
            gateway_ip_configurations: vec![named(
                "gateway-ip",
                SubnetProps {
                    subnet: SubResource::new(&input.subnet_id),
                },
            )],
            ssl_certificates: frontend.ssl_certificates,
            trusted_root_certificates: trusted,
            frontend_ip_configurations: vec![named(
                "public-frontend",
                FrontendIpProps {
                    public_ip_address: SubResource::new(&input.public_ip_id),
                },
            )],
            frontend_ports: frontend.ports,
            backend_address_pools: vec![named(
                "open-webui",
                PoolProps {
                    backend_addresses: vec![BackendAddress {
                        fqdn: input.backend_fqdn.clone(),
                    }],
                },
            )],
            backend_http_settings_collection: vec![backend_http_settings(
                &children,
                host.clone(),
                trusted_refs,
            )],
            probes: vec![health_probe(host)],
            http_listeners: frontend.listeners,
            redirect_configurations: frontend.redirects,
            request_routing_rules: frontend.rules,
            firewall_policy: input.firewall_policy_id.as_deref().map(SubResource::new),
        },
    }
}

/// The child resources of one gateway, referenced by ID.
struct Children<'a>(&'a str);

impl Children<'_> {
    /// `{"id": GATEWAY/kind/name}`.
    fn sub(&self, kind: &str, name: &str) -> SubResource {
        SubResource::new(Ids::child(self.0, kind, name))
    }
}

/// `backend-root`, the trusted root certificate (when the environment names one).
fn trusted_root_certificates(input: &AppGatewayInput) -> Vec<Named<KeyVaultCert>> {
    input
        .trusted_root_secret_id
        .iter()
        .map(|s| {
            named(
                "backend-root",
                KeyVaultCert {
                    key_vault_secret_id: s.clone(),
                },
            )
        })
        .collect()
}

/// The public side of the gateway: TLS certificate, ports, listeners,
/// redirects and routing rules.
struct Frontend {
    ssl_certificates: Vec<Named<KeyVaultCert>>,
    ports: Vec<Named<PortProps>>,
    listeners: Vec<Named<ListenerProps>>,
    redirects: Vec<Named<RedirectProps>>,
    rules: Vec<Named<RuleProps>>,
}

impl Frontend {
    /// With a certificate (Key Vault secret `secret`): HTTPS on 443 forwarded to
    /// Open WebUI, HTTP on 80 redirected permanently to HTTPS.
    fn https(children: &Children, secret: &Input<String>) -> Frontend {
        Frontend {
            ssl_certificates: vec![named(
                "public-tls",
                KeyVaultCert {
                    key_vault_secret_id: secret.clone(),
                },
            )],
            ports: vec![
                named("port-443", PortProps { port: 443 }),
                named("port-80", PortProps { port: 80 }),
            ],
            listeners: vec![
                listener(children, "https", "port-443", "Https", true),
                listener(children, "http", "port-80", "Http", false),
            ],
            redirects: vec![named(
                "http-to-https",
                RedirectProps {
                    redirect_type: "Permanent".into(),
                    target_listener: children.sub("httpListeners", "https"),
                    include_path: true,
                    include_query_string: true,
                },
            )],
            rules: vec![
                forward(children, "https-to-open-webui", "https", 100),
                named(
                    "http-redirect",
                    RuleProps {
                        rule_type: "Basic".into(),
                        priority: 200,
                        http_listener: children.sub("httpListeners", "http"),
                        backend_address_pool: None,
                        backend_http_settings: None,
                        redirect_configuration: Some(
                            children.sub("redirectConfigurations", "http-to-https"),
                        ),
                    },
                ),
            ],
        }
    }

    /// Without a certificate: HTTP on 80 forwarded to Open WebUI.
    fn http_only(children: &Children) -> Frontend {
        Frontend {
            ssl_certificates: Vec::new(),
            ports: vec![named("port-80", PortProps { port: 80 })],
            listeners: vec![listener(children, "http", "port-80", "Http", false)],
            redirects: Vec::new(),
            rules: vec![forward(children, "http-to-open-webui", "http", 100)],
        }
    }
}

/// A listener on the public frontend IP and port `port` (with the TLS
/// certificate when `cert`).
fn listener(
    children: &Children,
    name: &str,
    port: &str,
    protocol: &str,
    cert: bool,
) -> Named<ListenerProps> {
    named(
        name,
        ListenerProps {
            frontend_ip_configuration: children.sub("frontendIPConfigurations", "public-frontend"),
            frontend_port: children.sub("frontendPorts", port),
            protocol: protocol.into(),
            ssl_certificate: cert.then(|| children.sub("sslCertificates", "public-tls")),
        },
    )
}

/// A basic rule forwarding `listener` to the Open WebUI backend over HTTPS.
fn forward(children: &Children, name: &str, listener: &str, priority: u32) -> Named<RuleProps> {
    named(
        name,
        RuleProps {
            rule_type: "Basic".into(),
            priority,
            http_listener: children.sub("httpListeners", listener),
            backend_address_pool: Some(children.sub("backendAddressPools", "open-webui")),
            backend_http_settings: Some(
                children.sub("backendHttpSettingsCollection", "open-webui-https"),
            ),
            redirect_configuration: None,
        },
    )
}

/// HTTPS to the backend with cookie affinity, the host name `host` (or the
/// backend's own FQDN) and the trusted roots `trusted_refs`.
fn backend_http_settings(
    children: &Children,
    host: Option<String>,
    trusted_refs: Vec<SubResource>,
) -> Named<HttpSettingsProps> {
    named(
        "open-webui-https",
        HttpSettingsProps {
            port: 443,
            protocol: "Https".into(),
            cookie_based_affinity: "Enabled".into(),
            affinity_cookie_name: "ApplicationGatewayAffinity".into(),
            request_timeout: REQUEST_TIMEOUT_S,
            pick_host_name_from_backend_address: host.is_none(),
            host_name: host,
            probe: children.sub("probes", "open-webui-health"),
            trusted_root_certificates: trusted_refs,
        },
    )
}

/// The HTTPS health probe on Open WebUI's health path (host `host`, or the one
/// of the backend settings).
fn health_probe(host: Option<String>) -> Named<ProbeProps> {
    named(
        "open-webui-health",
        ProbeProps {
            protocol: "Https".into(),
            pick_host_name_from_backend_http_settings: host.is_none(),
            host,
            path: PROBE_PATH.into(),
            interval: 30,
            timeout: 30,
            unhealthy_threshold: PROBE_UNHEALTHY_THRESHOLD,
            match_: ProbeMatch {
                status_codes: vec!["200-399".into()],
            },
        },
    )
}

/// Comparison rules: the sub-resource collections are sets matched by name;
/// IDs and enums are case-insensitive.
pub fn rules() -> DiffRules {
    DiffRules {
        set_arrays: super::paths(&[
            "/properties/gatewayIPConfigurations",
            "/properties/sslCertificates",
            "/properties/trustedRootCertificates",
            "/properties/frontendIPConfigurations",
            "/properties/frontendPorts",
            "/properties/backendAddressPools",
            "/properties/backendHttpSettingsCollection",
            "/properties/probes",
            "/properties/httpListeners",
            "/properties/redirectConfigurations",
            "/properties/requestRoutingRules",
            "/properties/probes/*/properties/match/statusCodes",
        ]),
        case_insensitive: super::paths(&[
            "/location",
            "/identity/type",
            "/properties/sku/name",
            "/properties/sku/tier",
            "/properties/gatewayIPConfigurations/*/properties/subnet/id",
            "/properties/frontendIPConfigurations/*/properties/publicIPAddress/id",
            "/properties/httpListeners/*/properties/frontendIPConfiguration/id",
            "/properties/httpListeners/*/properties/frontendPort/id",
            "/properties/httpListeners/*/properties/sslCertificate/id",
            "/properties/backendHttpSettingsCollection/*/properties/probe/id",
            "/properties/backendHttpSettingsCollection/*/properties/trustedRootCertificates/*/id",
            "/properties/redirectConfigurations/*/properties/targetListener/id",
            "/properties/requestRoutingRules/*/properties/httpListener/id",
            "/properties/requestRoutingRules/*/properties/backendAddressPool/id",
            "/properties/requestRoutingRules/*/properties/backendHttpSettings/id",
            "/properties/requestRoutingRules/*/properties/redirectConfiguration/id",
            "/properties/firewallPolicy/id",
        ]),
        ..DiffRules::default()
    }
}

/// The spec of an Application Gateway (taggable).
pub fn spec(at: Placement, body: &AppGatewayBody) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
