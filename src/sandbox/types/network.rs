//! Computed properties and defaults of Network types.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------
// Network

pub(super) fn subresource_ids(ctx: &mut Ctx<'_>, collections: &[&str]) {
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

pub(super) fn resource_guid(ctx: &mut Ctx<'_>) {
    let g = ctx.guid("resourceGuid");
    ctx.props().insert("resourceGuid".into(), json!(g));
}

pub(super) fn vnet(ctx: &mut Ctx<'_>) {
    resource_guid(ctx);
    let p = ctx.props();
    default(p, "enableDdosProtection", json!(false));
    default(p, "privateEndpointVNetPolicies", json!("Disabled"));
}

pub(super) fn subnet(ctx: &mut Ctx<'_>) {
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

pub(super) fn network_child(ctx: &mut Ctx<'_>) {
    let t = crate::sandbox::types::canonical_type(&type_of(ctx.id));
    if let Some(m) = ctx.body.as_object_mut() {
        m.insert("type".into(), json!(t));
    }
}

/// Type name of a canonical ID (best effort: used for inline children).
pub(super) fn type_of(id: &str) -> String {
    match crate::sandbox::ids::parse(id) {
        Some(crate::sandbox::ids::Target::Provider(p)) => p.type_name(),
        _ => String::new(),
    }
}

pub(super) fn peering(ctx: &mut Ctx<'_>) {
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
        let prefix = format!("{}/virtualnetworkpeerings/", crate::sandbox::ids::key(r));
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

pub(super) fn nsg(ctx: &mut Ctx<'_>) {
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
    let p = ctx.props();
    p.insert("defaultSecurityRules".into(), rules);
    // NetworkSecurityGroupCreate.json answers `flushConnection: false` by default.
    default(p, "flushConnection", json!(false));
}

pub(super) fn route_table(ctx: &mut Ctx<'_>) {
    resource_guid(ctx);
    default(ctx.props(), "disableBgpRoutePropagation", json!(false));
}

pub(super) fn public_ip(ctx: &mut Ctx<'_>) {
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

pub(super) fn private_endpoint(ctx: &mut Ctx<'_>) {
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

pub(super) fn dns_zone_group(ctx: &mut Ctx<'_>) {
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

pub(super) fn private_dns_zone(ctx: &mut Ctx<'_>) {
    let zone_key = crate::sandbox::ids::key(ctx.id);
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

pub(super) fn vnet_link(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    default(p, "registrationEnabled", json!(false));
    default(p, "resolutionPolicy", json!("Default"));
    p.insert("virtualNetworkLinkState".into(), json!("Completed"));
}

pub(super) fn record_set(ctx: &mut Ctx<'_>) {
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

pub(super) fn app_gateway(ctx: &mut Ctx<'_>) {
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
    // ApplicationGatewayCreate.json answers these collections empty when not sent.
    for key in [
        "authenticationCertificates",
        "loadDistributionPolicies",
        "listeners",
        "urlPathMaps",
        "routingRules",
        "probes",
        "redirectConfigurations",
        "privateEndpointConnections",
    ] {
        default(p, key, json!([]));
    }
    if let Some(Value::Array(certs)) = p.get_mut("sslCertificates") {
        for c in certs {
            if c["properties"]["keyVaultSecretId"].is_string() {
                default(obj(c, "properties"), "publicCertData", json!(""));
            }
        }
    }
}

/// A WAF policy's server defaults (WafPolicyCreateOrUpdate.json / WafPolicyGet.json):
/// the policy settings Azure fills in (enabled, Detection mode, request body checked
/// and enforced at 128 KB, uploads enforced at 100 MB), `resourceState`, and empty
/// custom rules and exclusions.
pub(super) fn waf_policy(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    p.insert("resourceState".into(), json!("Enabled"));
    default(p, "customRules", json!([]));
    let settings = obj(&mut ctx.body["properties"], "policySettings");
    for (key, value) in [
        ("state", json!("Enabled")),
        ("mode", json!("Detection")),
        ("requestBodyCheck", json!(true)),
        ("requestBodyEnforcement", json!(true)),
        ("maxRequestBodySizeInKb", json!(128)),
        ("requestBodyInspectLimitInKB", json!(128)),
        ("fileUploadEnforcement", json!(true)),
        ("fileUploadLimitInMb", json!(100)),
    ] {
        default(settings, key, value);
    }
    let rules = obj(&mut ctx.body["properties"], "managedRules");
    default(rules, "exclusions", json!([]));
}
