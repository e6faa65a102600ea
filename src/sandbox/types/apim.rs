//! Computed properties and defaults of API Management types.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------
// API Management

pub(super) fn apim_service(ctx: &mut Ctx<'_>) {
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
    // ApiManagementServiceGetMultiRegionInternalVnet.json answers it empty.
    default(p, "apiVersionConstraint", json!({}));
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

pub(super) fn apim_api(ctx: &mut Ctx<'_>) {
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

pub(super) fn apim_operation(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    default(p, "templateParameters", json!([]));
    default(p, "responses", json!([]));
}

pub(super) fn apim_named_value(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    default(p, "secret", json!(false));
    default(p, "tags", json!([]));
    if p["secret"].as_bool() == Some(true) || p.contains_key("keyVault") {
        p.remove("value");
    }
}

/// Backends answer `title`, `url` and `protocol` even when not set (null for a
/// pool), as ApiManagementCreateBackendWithPriorityBasedLoadBalancer.json does.
pub(super) fn apim_backend(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    for key in ["title", "url", "protocol"] {
        default(p, key, Value::Null);
    }
}

pub(super) fn apim_logger(ctx: &mut Ctx<'_>) {
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

pub(super) fn apim_product(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    default(p, "state", json!("notPublished"));
    default(p, "subscriptionRequired", json!(true));
    if p["subscriptionRequired"].as_bool() == Some(true) {
        default(p, "approvalRequired", json!(false));
    }
}

/// `products/{p}/apis/{a}`: the answer is the API contract (as the service answers).
pub(super) fn apim_product_api(ctx: &mut Ctx<'_>) {
    let service = ctx.id.split("/products/").next().unwrap_or("").to_string();
    let api_name = ctx.name().to_string();
    let api = ctx.resource(&format!("{service}/apis/{api_name}")).cloned();
    if let Some(api) = api {
        ctx.body["properties"] = api["properties"].clone();
    }
}

/// Policies: APIM answers the document it stored re-serialised (its own
/// indentation, tabs, whitespace-only text dropped), not the bytes sent; clients
/// must compare policies as XML, not as text. A document that does not parse is
/// stored as sent (the service would have refused it; the validation is not emulated).
pub(super) fn apim_policy(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    let Some(xml) = p.get("value").and_then(Value::as_str) else {
        return;
    };
    if let Some(reformatted) = reindent_xml(xml) {
        p.insert("value".into(), Value::String(reformatted));
    }
}

fn reindent_xml(xml: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b'\t', 1);
    loop {
        match reader.read_event().ok()? {
            Event::Eof => break,
            Event::Text(t) if String::from_utf8_lossy(t.as_ref()).trim().is_empty() => {}
            Event::Decl(_) => {}
            e => writer.write_event(e).ok()?,
        }
    }
    String::from_utf8(writer.into_inner()).ok()
}
