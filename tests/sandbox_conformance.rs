//! Conformance tests of the embedded sandbox, over HTTPS, with a client that trusts only
//! the sandbox CA. Small time scales keep the whole file at a few seconds.

use std::time::{Duration, Instant};

use owui_deploy::sandbox::{FaultPlan, Sandbox, SandboxOptions};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const SUB: &str = "00000000-0000-0000-0000-0000000000aa";
const TENANT: &str = "11111111-1111-1111-1111-111111111111";

struct Env {
    sb: Sandbox,
    http: reqwest::Client,
    base: String,
    token: String,
    graph_token: String,
}

struct Resp {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Resp {
    fn header(&self, n: &str) -> Option<String> {
        self.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    fn state(&self) -> &str {
        self.body["properties"]["provisioningState"]
            .as_str()
            .unwrap_or("")
    }
}

fn client(ca_pem: &str) -> reqwest::Client {
    let cert = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA PEM parses");
    reqwest::Client::builder()
        .tls_certs_only([cert])
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

async fn start_with(opts: SandboxOptions) -> Env {
    let sb = Sandbox::start(opts).await.expect("sandbox starts");
    let http = client(&sb.ca_pem());
    let base = sb.url();
    let mut env = Env {
        sb,
        http,
        base,
        token: String::new(),
        graph_token: String::new(),
    };
    env.token = env.get_token("https://management.azure.com/.default").await;
    env.graph_token = env.get_token("https://graph.microsoft.com/.default").await;
    env
}

async fn start(scale: f64) -> Env {
    start_with(SandboxOptions {
        time_scale: scale,
        ..Default::default()
    })
    .await
}

impl Env {
    async fn get_token(&self, scope: &str) -> String {
        let r = self
            .http
            .post(format!("{}/{TENANT}/oauth2/v2.0/token", self.base))
            .form(&[
                ("client_id", "sandbox"),
                ("client_secret", "sandbox"),
                ("grant_type", "client_credentials"),
                ("scope", scope),
            ])
            .send()
            .await
            .expect("token request");
        assert_eq!(r.status(), 200);
        let v: Value = r.json().await.expect("token json");
        v["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let url = if path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let mut rb = self.http.request(method.parse().expect("method"), url);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    async fn arm(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let sep = if path.contains('?') { '&' } else { '?' };
        let path = if path.contains("api-version=") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{path}{sep}api-version=2024-01-01")
        };
        self.send(method, &path, body, Some(&self.token.clone()), &[])
            .await
    }

    async fn graph(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        self.send(
            method,
            &format!("/v1.0/{path}"),
            body,
            Some(&self.graph_token.clone()),
            headers,
        )
        .await
    }

    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.send(method, &format!("/_sandbox/{path}"), body, None, &[])
            .await
    }

    async fn rg(&self, name: &str) -> String {
        let id = format!("/subscriptions/{SUB}/resourceGroups/{name}");
        let r = self
            .arm("PUT", &id, Some(json!({"location": "westeurope"})))
            .await;
        assert!(r.status == 201 || r.status == 200, "rg create: {}", r.body);
        id
    }

    /// Follow the Azure-AsyncOperation URL until a terminal status; returns (status, polls).
    async fn wait_op(&self, r: &Resp) -> (String, u32) {
        let url = r
            .header("azure-asyncoperation")
            .expect("Azure-AsyncOperation header");
        let mut polls = 0;
        loop {
            let s = self.arm("GET", &url, None).await;
            polls += 1;
            assert_eq!(s.status, 200, "operation status: {}", s.body);
            let st = s.body["status"].as_str().unwrap_or("").to_string();
            if st != "InProgress" {
                return (st, polls);
            }
            let ms: u64 = s
                .header("retry-after-ms")
                .and_then(|v| v.parse().ok())
                .expect("retry-after-ms while running");
            tokio::time::sleep(Duration::from_millis(ms)).await;
            assert!(polls < 500, "operation never finished");
        }
    }

    async fn put_done(&self, path: &str, body: Value) -> Resp {
        let r = self.arm("PUT", path, Some(body)).await;
        assert!(r.status < 300, "PUT {path}: {} {}", r.status, r.body);
        if r.header("azure-asyncoperation").is_some() {
            let (st, _) = self.wait_op(&r).await;
            assert_eq!(st, "Succeeded");
        }
        let g = self.arm("GET", path, None).await;
        assert_eq!(g.status, 200, "GET {path}: {}", g.body);
        g
    }
}

// ---------------------------------------------------------------------------------------
// Authentication

#[tokio::test]
async fn auth_refuses_missing_malformed_unknown_expired_and_wrong_audience() {
    let env = start(0.001).await;
    let rg = format!("/subscriptions/{SUB}/resourceGroups/auth?api-version=2024-11-01");

    let r = env.send("GET", &rg, None, None, &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "AuthenticationFailed");
    let www = r.header("www-authenticate").expect("WWW-Authenticate");
    assert!(
        www.starts_with("Bearer authorization_uri=") && www.contains("error=\"invalid_token\""),
        "{www}"
    );

    let r = env.send("GET", &rg, None, Some("not-a-jwt"), &[]).await;
    assert_eq!((r.status, r.code()), (401, "InvalidAuthenticationToken"));
    assert!(r.header("www-authenticate").is_some());

    // Well-formed but never issued.
    let forged = format!(
        "eyJhbGciOiJub25lIn0.{}.c2ln",
        base64_url(&json!({"aud": "https://management.azure.com", "exp": 4_000_000_000u64, "jti": "forged"}).to_string())
    );
    let r = env.send("GET", &rg, None, Some(&forged), &[]).await;
    assert_eq!((r.status, r.code()), (401, "InvalidAuthenticationToken"));

    // Graph token presented to ARM.
    let r = env
        .send("GET", &rg, None, Some(&env.graph_token), &[])
        .await;
    assert_eq!(
        (r.status, r.code()),
        (401, "InvalidAuthenticationTokenAudience")
    );

    // Graph refuses too, in Graph's shape.
    let r = env.send("GET", "/v1.0/applications", None, None, &[]).await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").is_some());
    assert!(r.body["error"]["innerError"].is_object());

    // Expiry: tokens that live 1 s.
    let c = env
        .admin("POST", "config", Some(json!({"token_lifetime_secs": 1})))
        .await;
    assert_eq!(c.status, 200);
    let short = env.get_token("https://management.azure.com/.default").await;
    let ok = env
        .send(
            "GET",
            &format!("/subscriptions/{SUB}/resourcegroups?api-version=2024-11-01"),
            None,
            Some(&short),
            &[],
        )
        .await;
    assert_eq!(ok.status, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = env.send("GET", &rg, None, Some(&short), &[]).await;
    assert_eq!((r.status, r.code()), (401, "ExpiredAuthenticationToken"));
    assert!(r.header("www-authenticate").is_some());

    // Wrong client secret at the token endpoint.
    let r = env
        .http
        .post(format!("{}/{TENANT}/oauth2/v2.0/token", env.base))
        .form(&[
            ("client_id", "sandbox"),
            ("client_secret", "wrong"),
            ("grant_type", "client_credentials"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], "invalid_client");
    assert!(v["error_codes"].is_array());
    env.sb.shutdown().await;
}

fn base64_url(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[tokio::test]
async fn token_is_jwt_shaped_with_claims() {
    let env = start(1.0).await;
    let parts: Vec<&str> = env.token.split('.').collect();
    assert_eq!(parts.len(), 3);
    use base64::Engine as _;
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(payload["aud"], "https://management.azure.com");
    assert_eq!(payload["tid"], TENANT);
    assert!(
        payload["exp"].as_u64().is_some()
            && payload["oid"].is_string()
            && payload["appid"] == "sandbox"
    );
    env.sb.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Errors and headers

#[tokio::test]
async fn arm_error_codes_and_common_headers() {
    let env = start(0.0005).await;
    // api-version required.
    let r = env
        .send(
            "GET",
            &format!("/subscriptions/{SUB}/resourcegroups/x"),
            None,
            Some(&env.token),
            &[],
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "MissingApiVersionParameter"));

    let r = env
        .send(
            "GET",
            &format!("/subscriptions/{SUB}/resourcegroups/nope?api-version=2024-11-01"),
            None,
            Some(&env.token),
            &[("x-ms-correlation-request-id", "corr-123")],
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "ResourceGroupNotFound"));
    assert_eq!(
        r.header("x-ms-correlation-request-id").as_deref(),
        Some("corr-123")
    );
    assert!(r.header("x-ms-request-id").is_some());
    assert!(
        r.header("x-ms-ratelimit-remaining-subscription-reads")
            .is_some()
    );

    let r = env
        .arm(
            "PUT",
            &format!("/subscriptions/{SUB}/resourceGroups/r1"),
            Some(json!({})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "LocationRequired"));
    let rg = env.rg("r1").await;
    let r = env
        .arm("PUT", &rg, Some(json!({"location": "westeurope"})))
        .await;
    assert_eq!(r.status, 200, "replace is 200");
    assert_eq!(env.arm("HEAD", &rg, None).await.status, 204);
    let missing = format!("/subscriptions/{SUB}/resourceGroups/nope");
    assert_eq!(env.arm("HEAD", &missing, None).await.status, 404);
    assert!(
        r.header("x-ms-ratelimit-remaining-subscription-writes")
            .is_some()
    );

    let vnet = format!("{rg}/providers/Microsoft.Network/virtualNetworks/v1");
    let r = env.arm("GET", &vnet, None).await;
    assert_eq!((r.status, r.code()), (404, "ResourceNotFound"));
    let r = env
        .arm(
            "PUT",
            &format!("{vnet}/subnets/s1"),
            Some(json!({"properties": {"addressPrefix": "10.0.0.0/24"}})),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "ParentResourceNotFound"));
    let r = env.arm("PUT", &format!("/subscriptions/{SUB}/resourceGroups/missing/providers/Microsoft.Network/virtualNetworks/v1"), Some(json!({"location": "westeurope"}))).await;
    assert_eq!((r.status, r.code()), (404, "ResourceGroupNotFound"));

    // Malformed JSON, missing properties, missing location.
    let r = env
        .http
        .put(format!("{}{vnet}?api-version=2024-05-01", env.base))
        .bearer_auth(&env.token)
        .header("content-type", "application/json")
        .body("{\"location\": ")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "InvalidRequestContent");
    let r = env.arm("PUT", &vnet, Some(json!({"properties": {}}))).await;
    assert_eq!((r.status, r.code()), (400, "LocationRequired"));
    let r = env
        .arm(
            "PUT",
            &format!("{rg}/providers/Microsoft.KeyVault/vaults/kv1"),
            Some(json!({"location": "westeurope"})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "InvalidRequestContent"));

    // Role assignment names are GUIDs.
    let r = env
        .arm(
            "PUT",
            &format!("{rg}/providers/Microsoft.Authorization/roleAssignments/not-a-guid"),
            Some(json!({"properties": {"principalId": SUB, "roleDefinitionId": "x"}})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "InvalidRoleAssignmentId"));

    // Unknown principal.
    let r = env
        .arm(
            "PUT",
            &format!("{rg}/providers/Microsoft.Authorization/roleAssignments/{}", uuid::Uuid::new_v4()),
            Some(json!({"properties": {"principalId": uuid::Uuid::new_v4().to_string(), "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6")}})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "PrincipalNotFound"));

    // Error shape.
    assert!(r.body["error"]["message"].is_string());
    env.sb.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// LROs

#[tokio::test]
async fn lro_headers_and_state_progression() {
    // VNet create is 5 s realistic: 50 ms at this scale.
    let env = start(0.01).await;
    let rg = env.rg("lro").await;
    let vnet = format!("{rg}/providers/Microsoft.Network/virtualNetworks/hub");
    let r = env
        .arm("PUT", &vnet, Some(json!({"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/24"]}}})))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.state(), "Updating");
    let op_url = r
        .header("azure-asyncoperation")
        .expect("Azure-AsyncOperation");
    assert!(op_url.starts_with(&env.base), "{op_url}");
    assert!(r.header("location").is_some());
    let ra: u64 = r
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After seconds");
    assert!(ra >= 1);
    assert!(r.header("retry-after-ms").is_some());
    let (st, polls) = env.wait_op(&r).await;
    assert_eq!(st, "Succeeded");
    assert!(polls <= 50, "polls {polls}");
    let g = env.arm("GET", &vnet, None).await;
    assert_eq!(g.state(), "Succeeded");

    // A second write while the first one's operation runs (private endpoint: 60 s -> 600 ms).
    let pe = format!("{rg}/providers/Microsoft.Network/privateEndpoints/pe1");
    let pe_body = json!({"location": "westeurope", "properties": {"subnet": {"id": format!("{vnet}/subnets/none")}, "privateLinkServiceConnections": []}});
    let r = env.arm("PUT", &pe, Some(pe_body.clone())).await;
    assert_eq!(r.status, 201);
    let s = env
        .arm("GET", &r.header("azure-asyncoperation").expect("op"), None)
        .await;
    assert_eq!(s.body["status"], "InProgress");
    let busy = env.arm("PUT", &pe, Some(pe_body)).await;
    assert_eq!(
        (busy.status, busy.code()),
        (409, "AnotherOperationInProgress")
    );
    let (st, _) = env.wait_op(&r).await;
    assert_eq!(st, "Succeeded");

    // 202 style (storage): no body, Location answers 202 then the resource.
    let sa = format!("{rg}/providers/Microsoft.Storage/storageAccounts/stlro01");
    let r = env.arm("PUT", &sa, Some(json!({"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}))).await;
    assert_eq!(r.status, 202);
    assert!(r.body.is_null());
    let loc = r.header("location").expect("Location");
    let first = env.arm("GET", &loc, None).await;
    assert_eq!(first.status, 202);
    let mut last = first;
    for _ in 0..200 {
        if last.status != 202 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        last = env.arm("GET", &loc, None).await;
    }
    assert_eq!(last.status, 200);
    assert_eq!(last.body["name"], "stlro01");

    // APIM: Created -> Activating -> Succeeded, with the APIM state names (2700 s -> 2.7 s).
    assert_eq!(
        env.admin("POST", "config", Some(json!({"time_scale": 0.001})))
            .await
            .status,
        200
    );
    let apim = format!("{rg}/providers/Microsoft.ApiManagement/service/apim-lro");
    let r = env
        .arm("PUT", &apim, Some(json!({"location": "westeurope", "sku": {"name": "Developer", "capacity": 1}, "properties": {"publisherEmail": "a@b.c", "publisherName": "x"}})))
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.state(), "Created");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let g = env.arm("GET", &apim, None).await;
    assert_eq!(g.state(), "Activating");
    let (st, _) = env.wait_op(&r).await;
    assert_eq!(st, "Succeeded");
    assert_eq!(env.arm("GET", &apim, None).await.state(), "Succeeded");
    env.sb.shutdown().await;
}

#[tokio::test]
async fn resource_group_delete_cascades() {
    let env = start(0.001).await;
    let rg = env.rg("doomed").await;
    let nsg = format!("{rg}/providers/Microsoft.Network/networkSecurityGroups/n1");
    env.put_done(&nsg, json!({"location": "westeurope"})).await;
    let id = format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1");
    env.put_done(&id, json!({"location": "westeurope"})).await;
    let r = env.arm("DELETE", &rg, None).await;
    assert_eq!(r.status, 202);
    let loc = r.header("location").expect("Location");
    assert!(r.header("retry-after").is_some());
    let mut st = 202;
    for _ in 0..300 {
        let p = env.arm("GET", &loc, None).await;
        st = p.status;
        if st != 202 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(st == 200 || st == 204, "final {st}");
    assert_eq!(
        env.arm("GET", &rg, None).await.code(),
        "ResourceGroupNotFound"
    );
    let list = env.admin("GET", "resources", None).await;
    assert!(
        list.body
            .as_array()
            .expect("array")
            .iter()
            .all(|r| !r["id"].as_str().unwrap_or("").contains("/doomed"))
    );
    env.sb.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Server-side behaviour per type

#[tokio::test]
async fn network_computed_properties_and_inline_subnets() {
    let env = start(0.0005).await;
    let rg = env.rg("net").await;
    let vnet = format!("{rg}/providers/Microsoft.Network/virtualNetworks/hub-vnet");
    // Lower-case provider path, display-form location.
    let lower = vnet.replace(
        "Microsoft.Network/virtualNetworks",
        "microsoft.network/virtualnetworks",
    );
    let g = env
        .put_done(
            &lower,
            json!({"location": "UK South", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/24"]}, "subnets": [{"name": "apim-subnet", "properties": {"addressPrefix": "10.0.0.0/28"}}]}}),
        )
        .await;
    assert_eq!(g.body["id"], vnet, "provider casing");
    assert_eq!(g.body["type"], "Microsoft.Network/virtualNetworks");
    assert_eq!(g.body["location"], "uksouth");
    assert!(
        g.body["etag"]
            .as_str()
            .is_some_and(|e| e.starts_with("W/\""))
    );
    let subnets = g.body["properties"]["subnets"].as_array().expect("subnets");
    assert_eq!(subnets.len(), 1);
    assert_eq!(subnets[0]["id"], format!("{vnet}/subnets/apim-subnet"));
    assert_eq!(
        subnets[0]["properties"]["privateEndpointNetworkPolicies"],
        "Disabled"
    );

    // Child PUT shows up inline.
    env.put_done(
        &format!("{vnet}/subnets/pe-subnet"),
        json!({"properties": {"addressPrefix": "10.0.0.64/26"}}),
    )
    .await;
    let g = env.arm("GET", &vnet, None).await;
    let names: Vec<&str> = g.body["properties"]["subnets"]
        .as_array()
        .expect("subnets")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, vec!["apim-subnet", "pe-subnet"]);
    let l = env.arm("GET", &format!("{vnet}/subnets"), None).await;
    assert_eq!(l.body["value"].as_array().map(Vec::len), Some(2));
    let l = env
        .arm(
            "GET",
            &format!("/subscriptions/{SUB}/providers/Microsoft.Network/virtualNetworks"),
            None,
        )
        .await;
    assert_eq!(l.body["value"][0]["id"], vnet);

    // NSG default rules; public IP address.
    let nsg = env
        .put_done(
            &format!("{rg}/providers/Microsoft.Network/networkSecurityGroups/nsg1"),
            json!({"location": "uksouth"}),
        )
        .await;
    assert_eq!(
        nsg.body["properties"]["defaultSecurityRules"]
            .as_array()
            .map(Vec::len),
        Some(6)
    );
    let pip = env
        .put_done(
            &format!("{rg}/providers/Microsoft.Network/publicIPAddresses/pip1"),
            json!({"location": "uksouth", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static", "dnsSettings": {"domainNameLabel": "apim-mgmt"}}}),
        )
        .await;
    let ip = pip.body["properties"]["ipAddress"]
        .as_str()
        .expect("ipAddress");
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok());
    assert_eq!(
        pip.body["properties"]["dnsSettings"]["fqdn"],
        "apim-mgmt.uksouth.cloudapp.azure.com"
    );

    // Replacing the VNet without subnets removes them, as Azure does.
    env.put_done(&vnet, json!({"location": "uksouth", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/24"]}}})).await;
    let g = env.arm("GET", &vnet, None).await;
    assert_eq!(
        g.body["properties"]["subnets"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(
        env.arm("GET", &format!("{vnet}/subnets/pe-subnet"), None)
            .await
            .status,
        404
    );

    // Tag filter on the resource group listing.
    env.put_done(
        &format!("{rg}/providers/Microsoft.Network/routeTables/rt1"),
        json!({"location": "uksouth", "tags": {"owui-deploy-env": "dev"}}),
    )
    .await;
    let l = env
        .arm(
            "GET",
            &format!("{rg}/resources?$filter=tagName eq 'owui-deploy-env' and tagValue eq 'dev'"),
            None,
        )
        .await;
    let ids: Vec<&str> = l.body["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        vec![format!("{rg}/providers/Microsoft.Network/routeTables/rt1").as_str()]
    );
    env.sb.shutdown().await;
}

#[tokio::test]
async fn apim_foundry_containerapps_postgres_keyvault_monitoring_identity() {
    let env = start(0.0005).await;
    let rg = env.rg("spoke").await;
    let vnet = format!("{rg}/providers/Microsoft.Network/virtualNetworks/vn");
    env.put_done(
        &vnet,
        json!({"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [
            {"name": "apim", "properties": {"addressPrefix": "10.0.1.0/28"}},
            {"name": "aca", "properties": {"addressPrefix": "10.0.4.0/23"}}
        ]}}),
    )
    .await;
    let pip = env
        .put_done(&format!("{rg}/providers/Microsoft.Network/publicIPAddresses/apim-pip"), json!({"location": "westeurope", "sku": {"name": "Standard"}, "properties": {"publicIPAllocationMethod": "Static"}}))
        .await;

    // APIM.
    let apim = env
        .put_done(
            &format!("{rg}/providers/Microsoft.ApiManagement/service/apim1"),
            json!({"location": "westeurope", "sku": {"name": "Developer", "capacity": 1}, "identity": {"type": "SystemAssigned"},
                   "properties": {"publisherEmail": "a@b.c", "publisherName": "p", "virtualNetworkType": "Internal",
                                  "virtualNetworkConfiguration": {"subnetResourceId": format!("{vnet}/subnets/apim")},
                                  "publicIpAddressId": pip.body["id"]}}),
        )
        .await;
    let p = &apim.body["properties"];
    assert_eq!(p["gatewayUrl"], "https://apim1.azure-api.net");
    assert_eq!(
        p["developerPortalUrl"],
        "https://apim1.developer.azure-api.net"
    );
    assert_eq!(
        p["managementApiUrl"],
        "https://apim1.management.azure-api.net"
    );
    assert_eq!(p["platformVersion"], "stv2");
    assert_eq!(p["privateIPAddresses"][0], "10.0.1.5");
    assert_eq!(
        p["publicIPAddresses"][0],
        pip.body["properties"]["ipAddress"]
    );
    assert!(p["createdAtUtc"].is_string());
    assert!(
        apim.body["identity"]["principalId"]
            .as_str()
            .is_some_and(|s| s.len() == 36)
    );
    assert!(apim.body["systemData"]["createdAt"].is_string());

    // Foundry account.
    let acct = env
        .put_done(
            &format!("{rg}/providers/Microsoft.CognitiveServices/accounts/foundry1"),
            json!({"location": "swedencentral", "kind": "AIServices", "sku": {"name": "S0"}, "identity": {"type": "SystemAssigned"},
                   "properties": {"customSubDomainName": "foundry1-sub", "disableLocalAuth": true}}),
        )
        .await;
    assert_eq!(
        acct.body["properties"]["endpoint"],
        "https://foundry1-sub.cognitiveservices.azure.com/"
    );
    assert_eq!(
        acct.body["properties"]["endpoints"]["OpenAI Language Model Instance API"],
        "https://foundry1-sub.openai.azure.com/"
    );
    assert!(acct.body["identity"]["principalId"].is_string());
    assert!(
        acct.body["etag"]
            .as_str()
            .is_some_and(|e| e.starts_with("W/\"datetime'"))
    );

    // Container Apps environment (internal) and app.
    let env_id = format!("{rg}/providers/Microsoft.App/managedEnvironments/cae1");
    let cae = env
        .put_done(
            &env_id,
            json!({"location": "westeurope", "properties": {"vnetConfiguration": {"internal": true, "infrastructureSubnetId": format!("{vnet}/subnets/aca")},
                   "appLogsConfiguration": {"destination": "log-analytics", "logAnalyticsConfiguration": {"customerId": "c", "sharedKey": "SHARED-KEY-SECRET"}}}}),
        )
        .await;
    let domain = cae.body["properties"]["defaultDomain"]
        .as_str()
        .expect("defaultDomain")
        .to_string();
    assert!(
        domain.ends_with(".westeurope.azurecontainerapps.io"),
        "{domain}"
    );
    let static_ip: std::net::Ipv4Addr = cae.body["properties"]["staticIp"]
        .as_str()
        .expect("staticIp")
        .parse()
        .expect("ip");
    assert_eq!(static_ip.octets()[..2], [10, 0]);
    assert!(!cae.to_string_lossy().contains("SHARED-KEY-SECRET"));
    let app = env
        .put_done(
            &format!("{rg}/providers/Microsoft.App/containerApps/open-webui"),
            json!({"location": "westeurope", "identity": {"type": "SystemAssigned"}, "properties": {"managedEnvironmentId": env_id,
                   "configuration": {"ingress": {"external": true, "targetPort": 8080}, "secrets": [{"name": "database-url", "value": "postgresql://u:TOPSECRET@h/db"}]},
                   "template": {"containers": [{"name": "owui", "image": "ghcr.io/open-webui/open-webui:main"}]}}}),
        )
        .await;
    assert_eq!(
        app.body["properties"]["configuration"]["ingress"]["fqdn"],
        format!("open-webui.{domain}")
    );
    assert!(
        app.body["properties"]["latestRevisionFqdn"]
            .as_str()
            .is_some_and(|f| f.starts_with("open-webui--") && f.ends_with(&domain))
    );
    assert_eq!(
        app.body["properties"]["configuration"]["secrets"][0]["name"],
        "database-url"
    );
    assert!(!app.to_string_lossy().contains("TOPSECRET"));

    // PostgreSQL: FQDN, no password back.
    let pg = env
        .put_done(
            &format!("{rg}/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg1"),
            json!({"location": "westeurope", "sku": {"name": "Standard_B1ms", "tier": "Burstable"}, "properties": {"administratorLogin": "owui", "administratorLoginPassword": "PG-PASSWORD-SECRET", "version": "16"}}),
        )
        .await;
    assert_eq!(
        pg.body["properties"]["fullyQualifiedDomainName"],
        "pg1.postgres.database.azure.com"
    );
    assert_eq!(pg.body["properties"]["state"], "Ready");
    assert!(!pg.to_string_lossy().contains("PG-PASSWORD-SECRET"));

    // Key Vault and a secret.
    let kv = env
        .put_done(&format!("{rg}/providers/Microsoft.KeyVault/vaults/kv-spoke1"), json!({"location": "westeurope", "properties": {"tenantId": TENANT, "sku": {"family": "A", "name": "standard"}, "enableRbacAuthorization": true}}))
        .await;
    assert_eq!(
        kv.body["properties"]["vaultUri"],
        "https://kv-spoke1.vault.azure.net/"
    );
    assert_eq!(kv.body["properties"]["enableSoftDelete"], true);
    assert_eq!(kv.body["properties"]["softDeleteRetentionInDays"], 90);
    let sec = env
        .put_done(
            &format!("{rg}/providers/Microsoft.KeyVault/vaults/kv-spoke1/secrets/pw"),
            json!({"properties": {"value": "KV-SECRET-VALUE"}}),
        )
        .await;
    assert_eq!(
        sec.body["properties"]["secretUri"],
        "https://kv-spoke1.vault.azure.net/secrets/pw"
    );
    assert!(!sec.to_string_lossy().contains("KV-SECRET-VALUE"));

    // Monitoring.
    let la = env
        .put_done(
            &format!("{rg}/providers/Microsoft.OperationalInsights/workspaces/la1"),
            json!({"location": "westeurope", "properties": {"sku": {"name": "PerGB2018"}}}),
        )
        .await;
    assert!(
        la.body["properties"]["customerId"]
            .as_str()
            .is_some_and(|s| s.len() == 36)
    );
    let ai = env
        .put_done(&format!("{rg}/providers/Microsoft.Insights/components/ai1"), json!({"location": "westeurope", "kind": "web", "properties": {"Application_Type": "web", "WorkspaceResourceId": la.body["id"]}}))
        .await;
    let ikey = ai.body["properties"]["InstrumentationKey"]
        .as_str()
        .expect("ikey");
    assert!(
        ai.body["properties"]["ConnectionString"]
            .as_str()
            .is_some_and(|c| c.starts_with(&format!("InstrumentationKey={ikey};")))
    );
    assert!(ai.body["properties"]["AppId"].is_string());

    // User-assigned identity.
    let uai = env
        .put_done(
            &format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai1"),
            json!({"location": "westeurope"}),
        )
        .await;
    for f in ["principalId", "clientId", "tenantId"] {
        assert!(uai.body["properties"][f].is_string(), "{f}");
    }
    assert_eq!(uai.body["properties"]["tenantId"], TENANT);

    // Storage keys only through listKeys.
    let sa = env
        .put_done(
            &format!("{rg}/providers/Microsoft.Storage/storageAccounts/stspoke1"),
            json!({"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}),
        )
        .await;
    assert_eq!(
        sa.body["properties"]["primaryEndpoints"]["file"],
        "https://stspoke1.file.core.windows.net/"
    );
    assert_eq!(sa.body["properties"]["accessTier"], "Hot");
    let keys = env
        .arm(
            "POST",
            &format!("{rg}/providers/Microsoft.Storage/storageAccounts/stspoke1/listKeys"),
            None,
        )
        .await;
    assert_eq!(keys.status, 200);
    assert_eq!(keys.body["keys"].as_array().map(Vec::len), Some(2));

    // The account comes with its file service (as in Azure): a share can be written
    // under fileServices/default without creating it first.
    let fs = env
        .arm(
            "GET",
            &format!(
                "{rg}/providers/Microsoft.Storage/storageAccounts/stspoke1/fileServices/default"
            ),
            None,
        )
        .await;
    assert_eq!(fs.status, 200, "{}", fs.body);
    assert_eq!(fs.body["name"], "default");
    assert_eq!(
        fs.body["type"],
        "Microsoft.Storage/storageAccounts/fileServices"
    );
    assert_eq!(fs.body["sku"]["name"], "Standard_LRS");
    assert_eq!(fs.body["properties"]["cors"]["corsRules"], json!([]));
    let share = env
        .put_done(
            &format!("{rg}/providers/Microsoft.Storage/storageAccounts/stspoke1/fileServices/default/shares/data"),
            json!({"properties": {"shareQuota": 100, "enabledProtocols": "SMB"}}),
        )
        .await;
    assert_eq!(share.body["properties"]["shareQuota"], 100);
    env.sb.shutdown().await;
}

/// Azure Managed Redis as in RedisEnterpriseCreate.json, RedisEnterpriseDatabasesCreate.json
/// and RedisEnterpriseDatabasesListKeys.json; PostgreSQL server parameters as in
/// ConfigurationsUpdateUsingPut.json (202, no body).
#[tokio::test]
async fn redis_enterprise_cluster_database_keys_and_postgres_parameters() {
    let env = start(0.0005).await;
    let rg = env.rg("rg-redis").await;
    let cluster = format!("{rg}/providers/Microsoft.Cache/redisEnterprise/cache1");
    let created = env
        .arm(
            "PUT",
            &format!("{cluster}?api-version=2025-07-01"),
            Some(json!({
                "location": "West Europe",
                "sku": {"name": "Balanced_B1"},
                "properties": {"minimumTlsVersion": "1.2", "publicNetworkAccess": "Disabled"}
            })),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.header("azure-asyncoperation").is_some());
    assert_eq!(env.wait_op(&created).await.0, "Succeeded");
    let c = env
        .arm("GET", &format!("{cluster}?api-version=2025-07-01"), None)
        .await;
    assert_eq!(c.status, 200);
    let p = &c.body["properties"];
    assert_eq!(p["hostName"], "cache1.westeurope.redis.azure.net");
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["resourceState"], "Running");
    assert_eq!(p["highAvailability"], "Enabled");
    assert_eq!(c.body["type"], "Microsoft.Cache/redisEnterprise");

    let db = format!("{cluster}/databases/default");
    let d = env
        .put_done(
            &format!("{db}?api-version=2025-07-01"),
            json!({"properties": {"clientProtocol": "Encrypted", "clusteringPolicy": "EnterpriseCluster", "port": 10000, "accessKeysAuthentication": "Enabled"}}),
        )
        .await;
    let p = &d.body["properties"];
    assert_eq!(p["port"], 10000);
    assert_eq!(p["clusteringPolicy"], "EnterpriseCluster");
    assert_eq!(p["evictionPolicy"], "VolatileLRU", "server default");
    assert_eq!(p["accessKeysAuthentication"], "Enabled");
    let keys = env
        .arm(
            "POST",
            &format!("{db}/listKeys?api-version=2025-07-01"),
            None,
        )
        .await;
    assert_eq!(keys.status, 200, "{}", keys.body);
    let primary = keys.body["primaryKey"].as_str().expect("primaryKey");
    assert_eq!(primary.len(), 44);
    assert_ne!(keys.body["primaryKey"], keys.body["secondaryKey"]);
    let again = env
        .arm(
            "POST",
            &format!("{db}/listKeys?api-version=2025-07-01"),
            None,
        )
        .await;
    assert_eq!(again.body, keys.body, "keys are stable");
    assert!(
        !d.body.to_string().contains(primary),
        "keys only through listKeys"
    );

    // A server parameter: 202 without a body, then the operation.
    let pg = format!("{rg}/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg1");
    env.put_done(
        &format!("{pg}?api-version=2025-08-01"),
        json!({"location": "westeurope", "sku": {"name": "Standard_B1ms", "tier": "Burstable"}, "properties": {"version": "16", "administratorLogin": "owui", "administratorLoginPassword": "x-Pw-1234567890"}}),
    )
    .await;
    let param = format!("{pg}/configurations/azure.extensions?api-version=2025-08-01");
    let r = env
        .arm(
            "PUT",
            &param,
            Some(json!({"properties": {"value": "VECTOR", "source": "user-override"}})),
        )
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.body, Value::Null, "no body");
    assert!(r.header("location").is_some());
    assert_eq!(env.wait_op(&r).await.0, "Succeeded");
    let g = env.arm("GET", &param, None).await;
    assert_eq!(g.body["properties"]["value"], "VECTOR");
    assert_eq!(g.body["properties"]["source"], "user-override");
    assert_eq!(g.body["properties"]["isReadOnly"], false);
    env.sb.shutdown().await;
}

trait Lossy {
    fn to_string_lossy(&self) -> String;
}
impl Lossy for Resp {
    fn to_string_lossy(&self) -> String {
        self.body.to_string()
    }
}

#[tokio::test]
async fn apim_openapi_import_named_values_policies() {
    let env = start(0.0005).await;
    let rg = env.rg("apimrg").await;
    let svc = format!("{rg}/providers/Microsoft.ApiManagement/service/gw1");
    env.put_done(&svc, json!({"location": "westeurope", "sku": {"name": "Developer", "capacity": 1}, "properties": {"publisherEmail": "a@b.c", "publisherName": "p"}})).await;
    let doc = json!({"openapi": "3.0.0", "info": {"title": "OpenAI v1", "version": "1"}, "servers": [{"url": "https://example/openai/v1"}], "paths": {
        "/chat/completions": {"post": {"operationId": "createChatCompletion", "summary": "Chat"}},
        "/models/{model}": {"get": {"operationId": "retrieveModel"}, "delete": {"operationId": "deleteModel"}}
    }});
    let api = format!("{svc}/apis/openai");
    let r = env
        .arm("PUT", &api, Some(json!({"properties": {"path": "openai/v1", "format": "openapi+json", "value": doc.to_string(), "subscriptionKeyParameterNames": {"header": "api-key"}}})))
        .await;
    assert_eq!(r.status, 201);
    assert!(
        r.header("azure-asyncoperation").is_some(),
        "import is long-running"
    );
    let (st, _) = env.wait_op(&r).await;
    assert_eq!(st, "Succeeded");
    let g = env.arm("GET", &api, None).await;
    assert!(
        g.body["properties"].get("value").is_none() && g.body["properties"].get("format").is_none()
    );
    assert_eq!(g.body["properties"]["displayName"], "OpenAI v1");
    assert_eq!(
        g.body["properties"]["subscriptionKeyParameterNames"]["header"],
        "api-key"
    );
    let ops = env.arm("GET", &format!("{api}/operations"), None).await;
    let mut names: Vec<&str> = ops.body["value"]
        .as_array()
        .expect("ops")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec!["createChatCompletion", "deleteModel", "retrieveModel"]
    );

    // Import by link: the document is hosted by the sandbox itself.
    let up = env
        .http
        .put(format!("{}/_sandbox/files/small.json", env.base))
        .header("content-type", "application/json")
        .body(doc.to_string())
        .send()
        .await
        .expect("upload");
    assert_eq!(up.status(), 201);
    let linked = format!("{svc}/apis/linked");
    let r = env
        .put_done(&linked, json!({"properties": {"path": "linked", "format": "openapi+json-link", "value": format!("{}/_sandbox/files/small.json", env.base)}}))
        .await;
    assert!(r.body["properties"].get("value").is_none());
    let ops = env.arm("GET", &format!("{linked}/operations"), None).await;
    assert_eq!(ops.body["value"].as_array().map(Vec::len), Some(3));
    let bad = env
        .arm("PUT", &format!("{svc}/apis/broken"), Some(json!({"properties": {"path": "b", "format": "openapi+json-link", "value": format!("{}/_sandbox/files/missing.json", env.base)}})))
        .await;
    assert_eq!((bad.status, bad.code()), (400, "ValidationError"));

    // Product link returns the API contract; a missing API is 404.
    env.put_done(&format!("{svc}/products/platform"), json!({"properties": {"displayName": "platform", "subscriptionRequired": true, "state": "published"}})).await;
    let link = env
        .put_done(&format!("{svc}/products/platform/apis/openai"), json!({}))
        .await;
    assert_eq!(link.body["properties"]["path"], "openai/v1");
    let missing = env
        .arm(
            "PUT",
            &format!("{svc}/products/platform/apis/nope"),
            Some(json!({})),
        )
        .await;
    assert_eq!(missing.status, 404);

    // Secret named value: value never returned.
    let nv = env.put_done(&format!("{svc}/namedValues/tenant-id"), json!({"properties": {"displayName": "tenant-id", "value": "NV-SECRET", "secret": true}})).await;
    assert!(!nv.to_string_lossy().contains("NV-SECRET"));
    let nv2 = env
        .put_done(
            &format!("{svc}/namedValues/app-id"),
            json!({"properties": {"displayName": "app-id", "value": "plain"}}),
        )
        .await;
    assert_eq!(nv2.body["properties"]["value"], "plain");

    // Policy comes back as XML value, re-serialised the way APIM formats it.
    let xml = "<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>";
    let pol = env
        .put_done(
            &format!("{api}/policies/policy"),
            json!({"properties": {"format": "rawxml", "value": xml}}),
        )
        .await;
    let got = pol.body["properties"]["value"]
        .as_str()
        .expect("policy value");
    assert!(owui_deploy::engine::xml::same_xml(got, xml), "{got}");
    assert!(
        got.contains("\n\t<inbound>"),
        "not APIM's formatting: {got}"
    );
    env.sb.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Conflicts and delays

#[tokio::test]
async fn cognitive_deployments_conflict_and_apim_not_ready() {
    let env = start(0.02).await;
    let rg = env.rg("conf").await;
    let acct = format!("{rg}/providers/Microsoft.CognitiveServices/accounts/ai1");
    env.put_done(&acct, json!({"location": "swedencentral", "kind": "AIServices", "sku": {"name": "S0"}, "properties": {"customSubDomainName": "ai1"}})).await;
    let dep = |n: &str| format!("{acct}/deployments/{n}");
    let body = json!({"sku": {"name": "GlobalStandard", "capacity": 10}, "properties": {"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}}});
    let r1 = env.arm("PUT", &dep("gpt-4o"), Some(body.clone())).await;
    assert_eq!(r1.status, 201);
    assert_eq!(r1.state(), "Accepted");
    let r2 = env
        .arm("PUT", &dep("gpt-4o-mini"), Some(body.clone()))
        .await;
    assert_eq!((r2.status, r2.code()), (409, "RequestConflict"));
    assert!(
        r2.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("Another operation is being performed on the parent resource")
    );
    let (st, _) = env.wait_op(&r1).await;
    assert_eq!(st, "Succeeded");
    let r3 = env.arm("PUT", &dep("gpt-4o-mini"), Some(body)).await;
    assert_eq!(r3.status, 201);

    // APIM children while the service activates.
    let svc = format!("{rg}/providers/Microsoft.ApiManagement/service/gw2");
    let r = env.arm("PUT", &svc, Some(json!({"location": "westeurope", "sku": {"name": "Developer", "capacity": 1}, "properties": {"publisherEmail": "a@b.c", "publisherName": "p"}}))).await;
    assert_eq!(r.status, 201);
    let c = env
        .arm(
            "PUT",
            &format!("{svc}/namedValues/x"),
            Some(json!({"properties": {"displayName": "x", "value": "y"}})),
        )
        .await;
    assert_eq!((c.status, c.code()), (409, "ServiceLocked"));
    let again = env.arm("PUT", &svc, Some(json!({"location": "westeurope", "sku": {"name": "Developer", "capacity": 1}, "properties": {"publisherEmail": "a@b.c", "publisherName": "p"}}))).await;
    assert_eq!((again.status, again.code()), (409, "ServiceLocked"));
    env.sb.shutdown().await;
}

#[tokio::test]
async fn principal_not_found_window_then_success_and_role_assignment_exists() {
    let env = start(0.001).await;
    // 2000 s realistic replication delay -> 2 s here.
    env.admin(
        "POST",
        "config",
        Some(json!({"principal_delay_secs": 2000.0})),
    )
    .await;
    let rg = env.rg("rbac").await;
    let uai = env
        .put_done(
            &format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/u1"),
            json!({"location": "westeurope"}),
        )
        .await;
    let principal = uai.body["properties"]["principalId"]
        .as_str()
        .expect("principalId")
        .to_string();
    let role = format!(
        "/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"
    );
    let name = uuid::Uuid::new_v4().to_string();
    let ra = format!("{rg}/providers/Microsoft.Authorization/roleAssignments/{name}");
    let body = json!({"properties": {"principalId": principal, "roleDefinitionId": role, "principalType": "ServicePrincipal"}});
    let r = env.arm("PUT", &ra, Some(body.clone())).await;
    assert_eq!((r.status, r.code()), (400, "PrincipalNotFound"));
    let started = Instant::now();
    let mut ok = None;
    while started.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let r = env.arm("PUT", &ra, Some(body.clone())).await;
        if r.status == 201 {
            ok = Some(r);
            break;
        }
        assert_eq!(r.code(), "PrincipalNotFound");
    }
    let ok = ok.expect("assignment succeeds after the replication delay");
    assert!(started.elapsed() >= Duration::from_millis(1000));
    assert_eq!(ok.body["properties"]["scope"], rg);
    // Same again under the same name: fine (200). Under another name: RoleAssignmentExists.
    assert_eq!(env.arm("PUT", &ra, Some(body.clone())).await.status, 200);
    let other = format!(
        "{rg}/providers/Microsoft.Authorization/roleAssignments/{}",
        uuid::Uuid::new_v4()
    );
    let r = env.arm("PUT", &other, Some(body)).await;
    assert_eq!((r.status, r.code()), (409, "RoleAssignmentExists"));
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(&name)
    );
    // Listing by principal.
    let l = env.arm("GET", &format!("{rg}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId eq '{principal}'"), None).await;
    assert_eq!(l.body["value"].as_array().map(Vec::len), Some(1));
    env.sb.shutdown().await;
}

#[tokio::test]
async fn soft_delete_conflicts_and_purge() {
    let env = start(0.001).await;
    let rg = env.rg("soft").await;
    let kv = format!("{rg}/providers/Microsoft.KeyVault/vaults/kv-soft1");
    let body = json!({"location": "westeurope", "properties": {"tenantId": TENANT, "sku": {"family": "A", "name": "standard"}}});
    env.put_done(&kv, body.clone()).await;
    let d = env.arm("DELETE", &kv, None).await;
    assert!(d.status == 200 || d.status == 202, "{}", d.status);
    if d.status == 202 {
        env.wait_op(&d).await;
    }
    let r = env.arm("PUT", &kv, Some(body.clone())).await;
    assert_eq!((r.status, r.code()), (409, "ConflictError"));
    let deleted = format!(
        "/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-soft1"
    );
    let g = env.arm("GET", &deleted, None).await;
    assert_eq!(g.status, 200);
    assert!(g.body["properties"]["scheduledPurgeDate"].is_string());
    let p = env.arm("POST", &format!("{deleted}/purge"), None).await;
    assert_eq!(p.status, 202);
    let (st, _) = env.wait_op(&p).await;
    assert_eq!(st, "Succeeded");
    assert_eq!(env.arm("GET", &deleted, None).await.status, 404);
    env.put_done(&kv, body.clone()).await;

    // Recover restores the vault with its secrets.
    env.put_done(
        &format!("{kv}/secrets/s1"),
        json!({"properties": {"value": "v"}}),
    )
    .await;
    let d = env.arm("DELETE", &kv, None).await;
    if d.status == 202 {
        env.wait_op(&d).await;
    }
    assert_eq!(
        env.arm("GET", &format!("{kv}/secrets/s1"), None)
            .await
            .status,
        404
    );
    let mut recover = body.clone();
    recover["properties"]["createMode"] = json!("recover");
    let g = env.put_done(&kv, recover).await;
    assert_eq!(g.state(), "Succeeded");
    assert_eq!(
        env.arm("GET", &format!("{kv}/secrets/s1"), None)
            .await
            .status,
        200
    );

    // Cognitive Services: FlagMustBeSetForRestore, then purge.
    let acct = format!("{rg}/providers/Microsoft.CognitiveServices/accounts/ai-soft");
    let ab = json!({"location": "swedencentral", "kind": "AIServices", "sku": {"name": "S0"}, "properties": {"customSubDomainName": "ai-soft"}});
    env.put_done(&acct, ab.clone()).await;
    let d = env.arm("DELETE", &acct, None).await;
    assert_eq!(d.status, 202);
    env.wait_op(&d).await;
    let r = env.arm("PUT", &acct, Some(ab.clone())).await;
    assert_eq!((r.status, r.code()), (409, "FlagMustBeSetForRestore"));
    let deleted = format!(
        "/subscriptions/{SUB}/providers/Microsoft.CognitiveServices/locations/swedencentral/resourceGroups/soft/deletedAccounts/ai-soft"
    );
    assert_eq!(env.arm("GET", &deleted, None).await.status, 200);
    let p = env.arm("DELETE", &deleted, None).await;
    assert_eq!(p.status, 202);
    env.wait_op(&p).await;
    env.put_done(&acct, ab).await;
    env.sb.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Graph

#[tokio::test]
async fn graph_upsert_service_principal_and_grants() {
    let env = start(1.0).await;
    // Replication is covered by graph_replication_window (20 s realistic at scale 1 here).
    env.admin(
        "POST",
        "config",
        Some(json!({"graph_replication_delay_secs": 0.0})),
    )
    .await;
    let body = json!({"displayName": "Open WebUI dev", "signInAudience": "AzureADMyOrg", "identifierUris": ["api://owui-dev"],
        "appRoles": [{"id": "6a8f3c3e-54a4-4f0e-b7a5-2b9d4f0f0001", "value": "admin", "displayName": "Admin", "description": "a", "isEnabled": true, "allowedMemberTypes": ["User"]}]});
    let r = env
        .graph(
            "PATCH",
            "applications(uniqueName='owui-dev')",
            Some(body.clone()),
            &[],
        )
        .await;
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (404, Some("Request_ResourceNotFound"))
    );
    let r = env
        .graph(
            "PATCH",
            "applications(uniqueName='owui-dev')",
            Some(body.clone()),
            &[("Prefer", "create-if-missing")],
        )
        .await;
    assert_eq!(r.status, 201);
    let id = r.body["id"].as_str().expect("id").to_string();
    let app_id = r.body["appId"].as_str().expect("appId").to_string();
    assert_eq!(r.body["uniqueName"], "owui-dev");
    let r = env
        .graph(
            "PATCH",
            "applications(uniqueName='owui-dev')",
            Some(json!({"displayName": "Open WebUI (dev)"})),
            &[("Prefer", "create-if-missing")],
        )
        .await;
    assert_eq!(r.status, 204);
    let g = env
        .graph(
            "GET",
            "applications%28uniqueName%3D%27owui-dev%27%29",
            None,
            &[],
        )
        .await;
    assert_eq!(g.body["id"], id);
    assert_eq!(g.body["displayName"], "Open WebUI (dev)");
    assert_eq!(g.body["appRoles"][0]["value"], "admin");
    let l = env
        .graph(
            "GET",
            &format!("applications?$filter=appId eq '{app_id}'"),
            None,
            &[],
        )
        .await;
    assert_eq!(l.body["value"].as_array().map(Vec::len), Some(1));
    // Removing an enabled role is refused.
    let r = env
        .graph(
            "PATCH",
            &format!("applications/{id}"),
            Some(json!({"appRoles": []})),
            &[],
        )
        .await;
    assert_eq!(
        r.body["error"]["code"],
        "CannotDeleteOrUpdateEnabledEntitlement"
    );

    // Service principal, duplicate, alternate key.
    let sp = env
        .graph(
            "POST",
            "servicePrincipals",
            Some(json!({"appId": app_id, "appRoleAssignmentRequired": true})),
            &[],
        )
        .await;
    assert_eq!(sp.status, 201);
    let sp_id = sp.body["id"].as_str().expect("sp id").to_string();
    assert_eq!(sp.body["appRoleAssignmentRequired"], true);
    let dup = env
        .graph(
            "POST",
            "servicePrincipals",
            Some(json!({"appId": app_id})),
            &[],
        )
        .await;
    assert_eq!(dup.status, 409);
    let by_app = env
        .graph(
            "GET",
            &format!("servicePrincipals(appId='{app_id}')"),
            None,
            &[],
        )
        .await;
    assert_eq!(by_app.body["id"], sp_id);
    let graph_sp = env
        .graph(
            "GET",
            "servicePrincipals?$filter=appId eq '00000003-0000-0000-c000-000000000000'",
            None,
            &[],
        )
        .await;
    let graph_sp = &graph_sp.body["value"][0];
    assert!(graph_sp["oauth2PermissionScopes"].as_array().expect("scopes").iter().any(|s| s["value"] == "User.Read" && s["id"] == "e1fe6dd8-ba31-4d61-89e7-88639da4683d"));

    // Consent grant.
    let grant = env
        .graph("POST", "oauth2PermissionGrants", Some(json!({"clientId": sp_id, "consentType": "AllPrincipals", "resourceId": graph_sp["id"], "scope": "User.Read GroupMember.Read.All"})), &[])
        .await;
    assert_eq!(grant.status, 201);
    let l = env
        .graph(
            "GET",
            &format!("oauth2PermissionGrants?$filter=clientId eq '{sp_id}'"),
            None,
            &[],
        )
        .await;
    assert_eq!(
        l.body["value"][0]["scope"],
        "User.Read GroupMember.Read.All"
    );
    let gid = grant.body["id"].as_str().expect("grant id");
    assert_eq!(
        env.graph(
            "DELETE",
            &format!("oauth2PermissionGrants/{gid}"),
            None,
            &[]
        )
        .await
        .status,
        204
    );
    assert_eq!(
        env.graph("DELETE", &format!("applications/{id}"), None, &[])
            .await
            .status,
        204
    );
    assert_eq!(
        env.graph("GET", &format!("applications/{id}"), None, &[])
            .await
            .status,
        404
    );
    env.sb.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Faults and journal

#[tokio::test]
async fn faults_nth_429_drop_latency_and_failed_lro() {
    let plan = FaultPlan::from_json_str(
        r#"{"rules": [
            {"method": "PUT", "path": "*/networkSecurityGroups/*", "kind": "status", "status": 429, "retry_after_secs": 2, "nth": 2},
            {"method": "GET", "path": "/dropme", "kind": "drop", "count": 1},
            {"method": "PUT", "path": "publicIPAddresses/slow", "kind": "latency", "latency_ms": 300}
        ]}"#,
    )
    .expect("plan");
    let env = start_with(SandboxOptions {
        time_scale: 0.001,
        faults: Some(plan),
        seed: 7,
        ..Default::default()
    })
    .await;
    let rg = env.rg("faults").await;
    let nsg = format!("{rg}/providers/Microsoft.Network/networkSecurityGroups/n1");
    let b = json!({"location": "westeurope"});
    assert_eq!(env.arm("PUT", &nsg, Some(b.clone())).await.status, 201);
    let r = env.arm("PUT", &nsg, Some(b.clone())).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.header("retry-after").as_deref(),
        Some("1"),
        "2 s scaled by 0.001, rounded up"
    );
    assert_eq!(r.header("retry-after-ms").as_deref(), Some("2"));
    assert_eq!(r.code(), "TooManyRequests");

    // Dropped connection: the client sees a transport error, then the rule is spent.
    let dropped = env
        .http
        .get(format!(
            "{}/subscriptions/{SUB}/resourceGroups/faults/dropme?api-version=1",
            env.base
        ))
        .bearer_auth(&env.token)
        .send()
        .await;
    assert!(dropped.is_err(), "connection must be dropped");
    let again = env
        .arm(
            "GET",
            &format!("/subscriptions/{SUB}/resourceGroups/faults/dropme"),
            None,
        )
        .await;
    assert_ne!(again.status, 0);

    // Same over HTTP/1.1: the connection is closed without a response.
    let h1 = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(env.sb.ca_pem().as_bytes()).expect("ca")])
        .http1_only()
        .build()
        .expect("h1 client");
    env.admin(
        "POST",
        "faults?mode=append",
        Some(json!({"rules": [{"path": "/dropme-h1", "kind": "drop"}]})),
    )
    .await;
    let dropped = h1
        .get(format!(
            "{}/subscriptions/{SUB}/resourceGroups/faults/dropme-h1?api-version=1",
            env.base
        ))
        .bearer_auth(&env.token)
        .send()
        .await;
    assert!(dropped.is_err(), "HTTP/1.1 connection must be dropped");

    // Dropped after processing: the write happened although the client saw no answer.
    env.admin("POST", "faults?mode=append", Some(json!({"rules": [{"method": "PUT", "path": "routeTables/rt-lost", "kind": "drop", "after_processing": true}]}))).await;
    let rt = format!("{rg}/providers/Microsoft.Network/routeTables/rt-lost");
    let lost = env
        .http
        .put(format!("{}{rt}?api-version=2024-05-01", env.base))
        .bearer_auth(&env.token)
        .json(&json!({"location": "westeurope"}))
        .send()
        .await;
    assert!(lost.is_err());
    assert_eq!(env.arm("GET", &rt, None).await.status, 200);

    let t = Instant::now();
    let r = env
        .arm(
            "PUT",
            &format!("{rg}/providers/Microsoft.Network/publicIPAddresses/slow"),
            Some(b.clone()),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(t.elapsed() >= Duration::from_millis(300));

    // A long-running operation that ends Failed, added at runtime.
    let add = env
        .admin("POST", "faults?mode=append", Some(json!({"rules": [{"method": "PUT", "path": "*/virtualNetworks/broken*", "kind": "fail_lro", "code": "InternalServerError", "message": "boom"}]})))
        .await;
    assert_eq!(add.status, 200);
    let vnet = format!("{rg}/providers/Microsoft.Network/virtualNetworks/broken");
    let r = env.arm("PUT", &vnet, Some(json!({"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.9.0.0/16"]}}}))).await;
    assert_eq!(r.status, 201);
    let (st, _) = env.wait_op(&r).await;
    assert_eq!(st, "Failed");
    let s = env
        .arm("GET", &r.header("azure-asyncoperation").expect("op"), None)
        .await;
    assert_eq!(s.body["error"]["code"], "InternalServerError");
    assert_eq!(env.arm("GET", &vnet, None).await.state(), "Failed");

    // The journal saw everything, with bodies and fault markers; clearing works.
    let j = env.admin("GET", "journal", None).await;
    let entries = j.body.as_array().expect("journal");
    let throttled = entries
        .iter()
        .find(|e| e["status"] == 429)
        .expect("429 in journal");
    assert_eq!(throttled["request_body"]["location"], "westeurope");
    assert!(!throttled["faults"].as_array().expect("faults").is_empty());
    assert!(
        entries
            .iter()
            .any(|e| e["status"].is_null() && e["path"].as_str().unwrap_or("").contains("dropme"))
    );
    assert!(entries.iter().all(|e| e["seq"].as_u64().is_some()
        && e["duration_ms"].as_u64().is_some()
        && e["time"].is_string()));
    let token_entry = entries
        .iter()
        .find(|e| e["path"].as_str().unwrap_or("").contains("oauth2"))
        .expect("token request");
    assert_eq!(token_entry["request_body"]["client_secret"], "(redacted)");
    assert_eq!(env.admin("DELETE", "journal", None).await.status, 204);
    assert_eq!(
        env.admin("GET", "journal", None)
            .await
            .body
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    env.sb.shutdown().await;
}

#[tokio::test]
async fn probabilistic_faults_are_reproducible_with_a_seed() {
    async fn pattern(seed: u64) -> Vec<u16> {
        let plan = FaultPlan::from_toml_str("[[rules]]\nmethod = \"GET\"\npath = \"*/resourcegroups*\"\nkind = \"status\"\nstatus = 503\nprobability = 0.5\n").expect("plan");
        let env = start_with(SandboxOptions {
            faults: Some(plan),
            seed,
            ..Default::default()
        })
        .await;
        let mut out = Vec::new();
        for _ in 0..16 {
            out.push(
                env.arm("GET", &format!("/subscriptions/{SUB}/resourcegroups"), None)
                    .await
                    .status,
            );
        }
        env.sb.shutdown().await;
        out
    }
    let a = pattern(42).await;
    assert_eq!(a, pattern(42).await);
    assert!(a.contains(&503) && a.contains(&200), "{a:?}");
}

// ---------------------------------------------------------------------------------------
// Persistence

#[tokio::test]
async fn state_survives_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("sandbox.json");
    let opts = || SandboxOptions {
        time_scale: 0.0005,
        state_file: Some(state.clone()),
        ..Default::default()
    };
    let env = start_with(opts()).await;
    let rg = env.rg("persist").await;
    let uai = env
        .put_done(
            &format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/keep"),
            json!({"location": "westeurope"}),
        )
        .await;
    let kv = format!("{rg}/providers/Microsoft.KeyVault/vaults/kv-persist");
    env.put_done(&kv, json!({"location": "westeurope", "properties": {"tenantId": TENANT, "sku": {"family": "A", "name": "standard"}}})).await;
    env.put_done(
        &format!("{kv}/secrets/s"),
        json!({"properties": {"value": "PERSIST-SECRET"}}),
    )
    .await;
    let app = env
        .graph(
            "POST",
            "applications",
            Some(json!({"displayName": "kept"})),
            &[],
        )
        .await;
    let ca = env.sb.ca_pem();
    env.sb.shutdown().await;
    let text = std::fs::read_to_string(&state).expect("state file written");
    assert!(
        !text.contains("PERSIST-SECRET"),
        "secrets never reach the state file"
    );

    let env2 = start_with(opts()).await;
    assert_eq!(env2.sb.ca_pem(), ca, "same CA after restart");
    let g = env2
        .arm(
            "GET",
            &format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/keep"),
            None,
        )
        .await;
    assert_eq!(g.status, 200);
    assert_eq!(
        g.body["properties"]["principalId"],
        uai.body["properties"]["principalId"]
    );
    assert_eq!(
        env2.arm("GET", &format!("{kv}/secrets/s"), None)
            .await
            .status,
        200
    );
    let a = env2
        .graph(
            "GET",
            &format!("applications/{}", app.body["id"].as_str().expect("id")),
            None,
            &[],
        )
        .await;
    assert_eq!(a.body["displayName"], "kept");
    let res = env2.admin("GET", "resources", None).await;
    assert!(
        res.body
            .as_array()
            .expect("list")
            .iter()
            .any(|r| r["type"] == "Microsoft.KeyVault/vaults"
                && r["provisioningState"] == "Succeeded")
    );
    env2.sb.shutdown().await;
}

#[tokio::test]
async fn large_openapi_document_imports_and_parent_being_deleted_conflicts() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/openai-v1.openapi.large.json");
    let Ok(doc) = std::fs::read_to_string(&shared) else {
        eprintln!("skipped: {} not present", shared.display());
        return;
    };
    let env = start(0.0005).await;
    let rg = env.rg("big").await;
    let svc = format!("{rg}/providers/Microsoft.ApiManagement/service/gwbig");
    env.put_done(&svc, json!({"location": "westeurope", "sku": {"name": "Developer", "capacity": 1}, "properties": {"publisherEmail": "a@b.c", "publisherName": "p"}})).await;
    let api = format!("{svc}/apis/openai");
    let g = env
        .put_done(
            &api,
            json!({"properties": {"path": "openai/v1", "format": "openapi+json", "value": doc}}),
        )
        .await;
    assert!(
        g.body.to_string().len() < 10_000,
        "the document is never echoed"
    );
    let ops = env.arm("GET", &format!("{api}/operations"), None).await;
    assert_eq!(ops.body["value"].as_array().map(Vec::len), Some(60));

    // A child write while its parent is being deleted.
    let vnet = format!("{rg}/providers/Microsoft.Network/virtualNetworks/v");
    env.put_done(&vnet, json!({"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}}})).await;
    env.admin("POST", "config", Some(json!({"time_scale": 0.05})))
        .await;
    let d = env.arm("DELETE", &vnet, None).await;
    assert_eq!(d.status, 202);
    let r = env
        .arm(
            "PUT",
            &format!("{vnet}/subnets/s"),
            Some(json!({"properties": {"addressPrefix": "10.1.0.0/24"}})),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "Conflict"));
    assert_eq!(env.arm("GET", &vnet, None).await.state(), "Deleting");
    env.sb.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// The Azure SDK's own credential against the sandbox (custom cloud + trusted CA)

#[tokio::test]
async fn azure_identity_client_secret_credential_gets_a_token() {
    use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
    use azure_core::credentials::{Secret, TokenCredential};
    use azure_core::http::{ClientOptions, Transport};
    use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};
    use std::sync::Arc;

    let env = start(1.0).await;
    let mut custom = CustomConfiguration::default();
    custom.authority_host = env.base.clone();
    let options = ClientSecretCredentialOptions {
        client_options: ClientOptions {
            cloud: Some(Arc::new(CloudConfiguration::from(custom))),
            transport: Some(Transport::new(Arc::new(client(&env.sb.ca_pem())))),
            ..Default::default()
        },
    };
    let cred = ClientSecretCredential::new(
        TENANT,
        "sandbox".to_string(),
        Secret::new("sandbox"),
        Some(options),
    )
    .expect("credential");
    let token = cred
        .get_token(&["https://management.azure.com/.default"], None)
        .await
        .expect("token from the sandbox");
    let r = env
        .send(
            "GET",
            &format!("/subscriptions/{SUB}/resourcegroups?api-version=2024-11-01"),
            None,
            Some(token.token.secret()),
            &[],
        )
        .await;
    assert_eq!(r.status, 200);
    let journal = env.admin("GET", "journal", None).await;
    assert!(
        journal
            .body
            .as_array()
            .expect("journal")
            .iter()
            .any(|e| e["request_body"]["scope"] == "https://management.azure.com/.default")
    );
    env.sb.shutdown().await;
}

#[tokio::test]
async fn container_app_key_vault_references_need_a_reader_identity() {
    let env = start(0.0005).await;
    let rg = env.rg("kvref").await;
    let (vault, url, uai_id, principal) =
        vault_secret_and_identity(&env, &rg, "kvref1", "id1").await;
    let app = format!("{rg}/providers/Microsoft.App/containerApps/app1");
    let body = |identity: Value, secret_identity: &str| {
        json!({"location": "westeurope", "identity": identity, "properties": {
            "configuration": {"secrets": [{"name": "database-url", "keyVaultUrl": url, "identity": secret_identity}]},
            "template": {"containers": [{"name": "c", "image": "ghcr.io/open-webui/open-webui:main"}]}}})
    };
    let both = json!({"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {uai_id.clone(): {}}});

    // A new app's system identity cannot have been granted anything yet.
    let r = env
        .arm(
            "PUT",
            &app,
            Some(body(json!({"type": "SystemAssigned"}), "system")),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "InvalidParameterValueInContainerTemplate")
    );
    assert!(
        r.to_string_lossy()
            .contains("unable to fetch secret 'database-url'")
    );
    // A user-assigned identity without a role on the vault cannot read it either.
    let r = env
        .arm("PUT", &app, Some(body(both.clone(), &uai_id)))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "InvalidParameterValueInContainerTemplate")
    );
    // Nor one the app does not have.
    let r = env
        .arm(
            "PUT",
            &app,
            Some(body(json!({"type": "SystemAssigned"}), &uai_id)),
        )
        .await;
    assert_eq!(r.status, 400);

    // Granted Key Vault Secrets User on the vault: the app is created.
    grant_secrets_user(&env, &vault, &principal).await;
    // The role is not effective on the data plane yet (120 s realistic -> 60 ms here).
    let r = env
        .arm("PUT", &app, Some(body(both.clone(), &uai_id)))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "InvalidParameterValueInContainerTemplate")
    );
    tokio::time::sleep(Duration::from_millis(80)).await;
    env.put_done(&app, body(both.clone(), &uai_id)).await;
    // Updating the existing app to read through its (still ungranted) system identity fails.
    let r = env.arm("PUT", &app, Some(body(both, "system"))).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "InvalidParameterValueInContainerTemplate")
    );
    env.sb.shutdown().await;
}

#[tokio::test]
async fn graph_replication_window() {
    // 20 s realistic -> 200 ms here.
    let env = start(0.01).await;
    let app = env
        .graph(
            "PATCH",
            "applications(uniqueName='owui-repl')",
            Some(json!({"displayName": "Open WebUI replication"})),
            &[("Prefer", "create-if-missing")],
        )
        .await;
    assert_eq!(app.status, 201);
    let app_id = app.body["appId"].as_str().expect("appId").to_string();
    let sp_body = json!({"appId": app_id});
    let early = env
        .graph("POST", "servicePrincipals", Some(sp_body.clone()), &[])
        .await;
    assert_eq!((early.status, early.code()), (400, "Request_BadRequest"));
    assert!(
        early
            .to_string_lossy()
            .contains("does not reference a valid application object")
    );
    assert_eq!(
        early.body["error"]["details"][0]["code"],
        "NoBackingApplicationObject"
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    let sp = env
        .graph("POST", "servicePrincipals", Some(sp_body), &[])
        .await;
    assert_eq!(sp.status, 201, "{}", sp.body);
    let grant = json!({"clientId": sp.body["id"], "consentType": "AllPrincipals",
        "resourceId": env.graph("GET", "servicePrincipals(appId='00000003-0000-0000-c000-000000000000')", None, &[]).await.body["id"],
        "scope": "User.Read"});
    let early = env
        .graph("POST", "oauth2PermissionGrants", Some(grant.clone()), &[])
        .await;
    assert_eq!(
        (early.status, early.code()),
        (404, "Request_ResourceNotFound")
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    let ok = env
        .graph("POST", "oauth2PermissionGrants", Some(grant), &[])
        .await;
    assert_eq!(ok.status, 201, "{}", ok.body);
    env.sb.shutdown().await;
}

/// Polls the operation of `r` until it ends; returns the final status document.
async fn operation_result(env: &Env, r: &Resp) -> Value {
    let url = r
        .header("azure-asyncoperation")
        .expect("Azure-AsyncOperation header");
    for _ in 0..500 {
        let s = env.arm("GET", &url, None).await;
        if s.body["status"] != "InProgress" {
            return s.body;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("operation never finished");
}

#[tokio::test]
async fn app_gateway_key_vault_certificate_needs_an_effective_role() {
    // Role propagation 120 s realistic -> 120 ms; App Gateway writes 300-360 ms.
    let env = start(0.001).await;
    let rg = env.rg("agwkv").await;
    let (vault, url, uai_id, principal) =
        vault_secret_and_identity(&env, &rg, "kvagw1", "idagw").await;
    let agw = format!("{rg}/providers/Microsoft.Network/applicationGateways/agw1");
    let agw_body = json!({"location": "westeurope",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {uai_id.clone(): {}}},
        "properties": {"sslCertificates": [{"name": "cert", "properties": {"keyVaultSecretId": url}}]}});

    // No role at all: the operation fails with Azure's Key Vault access error.
    let r = env.arm("PUT", &agw, Some(agw_body.clone())).await;
    assert!(r.status < 300, "{}", r.body);
    let done = operation_result(&env, &r).await;
    assert_eq!(done["status"], "Failed", "{done}");
    assert_eq!(
        done["error"]["code"],
        "ApplicationGatewayKeyVaultSecretException"
    );
    assert_eq!(
        done["error"]["details"][0]["code"],
        "ApplicationGatewayKeyVaultSecretAccessDenied"
    );
    let g = env.arm("GET", &agw, None).await;
    assert_eq!(g.body["properties"]["provisioningState"], "Failed");

    // Granted, but too recently: still refused; after the window the PUT repairs it.
    grant_secrets_user(&env, &vault, &principal).await;
    let r = env.arm("PUT", &agw, Some(agw_body.clone())).await;
    let done = operation_result(&env, &r).await;
    assert_eq!(
        (&done["status"], &done["error"]["code"]),
        (
            &json!("Failed"),
            &json!("ApplicationGatewayKeyVaultSecretException")
        ),
        "{done}"
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    let g = env.put_done(&agw, agw_body).await;
    assert_eq!(g.body["properties"]["provisioningState"], "Succeeded");
    env.sb.shutdown().await;
}

#[tokio::test]
async fn postgres_children_wait_for_the_server() {
    // Server creation 360 s realistic -> 360 ms.
    let env = start(0.001).await;
    let rg = env.rg("pgbusy").await;
    let server = format!("{rg}/providers/Microsoft.DBforPostgreSQL/flexibleServers/psqlbusy1");
    let r = env
        .arm(
            "PUT",
            &server,
            Some(json!({"location": "westeurope", "sku": {"name": "Standard_B1ms", "tier": "Burstable"},
                "properties": {"version": "16", "administratorLogin": "pgadmin", "administratorLoginPassword": "x-Secret-1"}})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let g = env.arm("GET", &server, None).await;
    assert_eq!(g.body["properties"]["state"], "Provisioning");
    let db = format!("{server}/databases/app");
    let busy = env
        .arm("PUT", &db, Some(json!({"properties": {"charset": "UTF8"}})))
        .await;
    assert_eq!((busy.status, busy.code()), (409, "ServerIsBusy"));
    assert!(
        busy.to_string_lossy()
            .contains("is busy processing another operation")
    );
    let (st, _) = env.wait_op(&r).await;
    assert_eq!(st, "Succeeded");
    env.put_done(&db, json!({"properties": {"charset": "UTF8"}}))
        .await;
    env.sb.shutdown().await;
}

/// An RBAC vault `vault_name` with a secret, and a user-assigned identity `uai_name`:
/// returns (vault ID, secret URI, identity ID, identity principal ID).
async fn vault_secret_and_identity(
    env: &Env,
    rg: &str,
    vault_name: &str,
    uai_name: &str,
) -> (String, String, String, String) {
    let vault = format!("{rg}/providers/Microsoft.KeyVault/vaults/{vault_name}");
    env.put_done(&vault, json!({"location": "westeurope", "properties": {"tenantId": TENANT, "sku": {"family": "A", "name": "standard"}, "enableRbacAuthorization": true}})).await;
    let secret = env
        .put_done(
            &format!("{vault}/secrets/db"),
            json!({"properties": {"value": "postgresql://x"}}),
        )
        .await;
    let url = secret.body["properties"]["secretUri"]
        .as_str()
        .expect("secretUri")
        .to_string();
    let uai = env
        .put_done(
            &format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{uai_name}"),
            json!({"location": "westeurope"}),
        )
        .await;
    let uai_id = uai.body["id"].as_str().expect("id").to_string();
    let principal = uai.body["properties"]["principalId"]
        .as_str()
        .expect("principalId")
        .to_string();
    (vault, url, uai_id, principal)
}

/// Key Vault Secrets User on `vault` for `principal`, retried through PrincipalNotFound.
async fn grant_secrets_user(env: &Env, vault: &str, principal: &str) {
    let ra = format!(
        "{vault}/providers/Microsoft.Authorization/roleAssignments/{}",
        uuid::Uuid::new_v4()
    );
    let ra_body = json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6"),
        "principalId": principal, "principalType": "ServicePrincipal"}});
    for tries in 0.. {
        let r = env.arm("PUT", &ra, Some(ra_body.clone())).await;
        if r.status < 300 {
            return;
        }
        assert_eq!(r.code(), "PrincipalNotFound", "{}", r.body);
        assert!(tries < 500, "principal never replicated");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
