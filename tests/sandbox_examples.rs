//! The sandbox answers Microsoft's recorded requests with the recorded shape: each
//! x-ms-example in `../shared/fixtures/arm-examples/` that PUTs a resource of a
//! type the sandbox models is sent to the sandbox as recorded (same path shape,
//! api-version and body, in the sandbox's subscription), and the answer is
//! compared with the recorded one: the status code, the long-running-operation
//! headers, and the keys of the body (top level and `properties`) the recorded
//! answer carries. Keys the sandbox does not model are named below with the
//! reason; any other missing key fails.

mod cli_support;
mod examples_support;
mod schema;

use cli_support::Harness;
use examples_support::{examples, examples_dir, request_body};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

const SUB: &str = "00000000-0000-0000-0000-0000000000ee";
const TENANT: &str = "11111111-1111-1111-1111-111111111111";

/// Keys of a recorded answer the sandbox does not give: `(file, key, reason)`.
/// `key` is a top-level key or `properties.KEY`.
const NOT_MODELLED: &[(&str, &str, &str)] = &[
    // Read examples, compared with the sandbox's answer for a resource of the same
    // type created from the PUT example: keys of another configuration.
    (
        "Microsoft.ApiManagement/2024-06-01-preview/ApiManagementServiceGetMultiRegionInternalVnet.json",
        "properties.privateIPAddresses",
        "Internal VNet mode; the replayed service's subnet is not in the sandbox (with one, it answers the subnet's 5th address)",
    ),
    (
        "Microsoft.ApiManagement/2024-06-01-preview/ApiManagementServiceGetMultiRegionInternalVnet.json",
        "properties.additionalLocations",
        "multi-region services are not modelled (the tool deploys one region)",
    ),
    (
        "Microsoft.App/2025-01-01/ManagedEnvironments_Get.json",
        "tags",
        "the recorded environment has tags; the replayed one was created without",
    ),
    (
        "Microsoft.CognitiveServices/2024-10-01/GetAccount.json",
        "tags",
        "the recorded account has tags; the replayed one was created without",
    ),
    (
        "Microsoft.Insights/2020-02-02/ComponentsGet.json",
        "tags",
        "README: the recorded `tags` is the string \"\"",
    ),
    (
        "Microsoft.Insights/2020-02-02/ComponentsGet.json",
        "properties.LinkedStorages",
        "linked storage (Profiler) is not modelled",
    ),
    (
        "Microsoft.Storage/2025-01-01/StorageAccountGetProperties.json",
        "properties.geoReplicationStats",
        "geo-redundant pairs are not modelled (the tool deploys LRS/ZRS accounts)",
    ),
    (
        "Microsoft.Storage/2025-01-01/StorageAccountGetProperties.json",
        "properties.secondaryLocation",
        "geo-redundant pairs are not modelled (the tool deploys LRS/ZRS accounts)",
    ),
    (
        "Microsoft.Storage/2025-01-01/StorageAccountGetProperties.json",
        "properties.statusOfSecondary",
        "geo-redundant pairs are not modelled (the tool deploys LRS/ZRS accounts)",
    ),
    // Write examples.
    (
        "Microsoft.Insights/2020-02-02/ComponentsCreate.json",
        "tags",
        "README: the recorded `tags` is the string \"\"",
    ),
    (
        "Microsoft.Network/2024-05-01/PublicIpAddressCreateDefaults.json",
        "properties.ipConfiguration",
        "the recorded answer shows the address attached to a NIC the request never names; a new address is attached to nothing",
    ),
    (
        "Microsoft.Network/2024-05-01/PublicIpAddressCreateCustomizedValues.json",
        "properties.ipConfiguration",
        "the recorded answer shows the address attached to a NIC the request never names; a new address is attached to nothing",
    ),
    (
        "Microsoft.Network/2024-05-01/PublicIpAddressCreateCustomizedValues.json",
        "zones",
        "the example passes `zones` beside the body, not in it, so the replayed request has none",
    ),
    (
        "Microsoft.ApiManagement/2024-06-01-preview/ApiManagementCreateAILogger.json",
        "properties.resourceId",
        "APIM derives it from the component the instrumentation key belongs to; the sandbox does not look keys up",
    ),
    (
        "Microsoft.Network/2024-07-01/VirtualNetworkPeeringCreate.json",
        "properties.remoteAddressSpace",
        "the remote VNet the example names is not in the sandbox; with it, the sandbox answers its address space",
    ),
    (
        "Microsoft.Network/2024-07-01/VirtualNetworkPeeringCreate.json",
        "properties.remoteVirtualNetworkAddressSpace",
        "the remote VNet the example names is not in the sandbox; with it, the sandbox answers its address space",
    ),
    (
        "Microsoft.Network/2024-07-01/VirtualNetworkPeeringCreate.json",
        "properties.remoteBgpCommunities",
        "BGP communities of the remote VNet are not modelled",
    ),
    (
        "Microsoft.Storage/2025-01-01/StorageAccountCreate.json",
        "properties.secondaryLocation",
        "geo-redundant pairs are not modelled (the tool deploys LRS/ZRS accounts)",
    ),
    (
        "Microsoft.Storage/2025-01-01/StorageAccountCreate.json",
        "properties.statusOfSecondary",
        "geo-redundant pairs are not modelled (the tool deploys LRS/ZRS accounts)",
    ),
];

/// Examples of types the sandbox stores generically (no modelled behaviour yet):
/// `(file prefix, reason)`. They are listed in the output, not compared.
const GENERIC: &[(&str, &str)] = &[
    (
        "Microsoft.Cache/",
        "Azure Managed Redis is not modelled by the sandbox yet",
    ),
    (
        "Microsoft.ApiManagement/2024-06-01-preview/ApiManagementCreateApiUsingOai3Import.json",
        "the import fetches its document from the internet (openapi-link); tests/sandbox_conformance.rs covers imports",
    ),
    (
        "Microsoft.Network/2024-05-01/WafPolicy",
        "WAF policies are not modelled by the sandbox yet",
    ),
    (
        "Microsoft.Insights/2021-05-01-preview/createOrUpdateDiagnosticSetting.json",
        "the setting's target (a Logic App) is not a type the sandbox creates",
    ),
];

/// Bodies that create a missing parent so a child example can be replayed:
/// `(type, body)`, types lower case.
fn parent_body(type_name: &str) -> Option<Value> {
    Some(match type_name {
        "microsoft.apimanagement/service" => {
            json!({"location": "westus", "sku": {"name": "Developer", "capacity": 1}, "properties": {"publisherEmail": "a@contoso.com", "publisherName": "Contoso"}})
        }
        "microsoft.apimanagement/service/apis" => {
            json!({"properties": {"displayName": "Echo", "path": "echo", "protocols": ["https"], "serviceUrl": "https://echo.contoso.com"}})
        }
        "microsoft.app/managedenvironments" => json!({"location": "westus", "properties": {}}),
        "microsoft.cognitiveservices/accounts" => {
            json!({"location": "westus", "kind": "OpenAI", "sku": {"name": "S0"}, "properties": {"customSubDomainName": "replay-openai"}})
        }
        "microsoft.dbforpostgresql/flexibleservers" => {
            json!({"location": "westus", "sku": {"name": "Standard_B1ms", "tier": "Burstable"}, "properties": {"version": "16", "administratorLogin": "replay", "administratorLoginPassword": "Replay-Password-1", "storage": {"storageSizeGB": 32}}})
        }
        "microsoft.keyvault/vaults" => {
            json!({"location": "westus", "properties": {"tenantId": TENANT, "sku": {"family": "A", "name": "standard"}, "enableRbacAuthorization": true}})
        }
        "microsoft.network/virtualnetworks" => {
            json!({"location": "westus", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}})
        }
        "microsoft.storage/storageaccounts" => {
            json!({"location": "westus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}})
        }
        _ => return None,
    })
}

/// `(ID, type)` of every parent of a resource ID, outermost first.
fn parents(id: &str) -> Vec<(String, String)> {
    let Some(i) = id.to_ascii_lowercase().rfind("/providers/") else {
        return Vec::new();
    };
    let (scope, rest) = id.split_at(i + "/providers/".len());
    let segs: Vec<&str> = rest.split('/').collect();
    let mut out = Vec::new();
    let mut k = 3;
    while k < segs.len() - 1 {
        let parent = format!("{scope}{}", segs[..k].join("/"));
        let types: Vec<&str> = segs[1..k].iter().step_by(2).copied().collect();
        let t = format!("{}/{}", segs[0], types.join("/")).to_ascii_lowercase();
        out.push((parent, t));
        k += 2;
    }
    out
}

/// Creates the missing parents of `id` that [`parent_body`] knows.
async fn ensure_parents(c: &Client, id: &str, api: &str) {
    for (parent, t) in parents(id) {
        let path = format!("{parent}?api-version={api}");
        if c.send("GET", &path, None).await.status == 200 {
            continue;
        }
        if let Some(body) = parent_body(&t) {
            c.send("PUT", &path, Some(&body)).await;
            c.settled(&path).await;
        }
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
    /// The sandbox's admin token, for `/_sandbox/*`.
    admin_token: String,
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Client {
    async fn new(h: &Harness) -> Client {
        let cert = reqwest::Certificate::from_pem(h.sandbox.ca_pem().as_bytes()).expect("CA");
        let http = reqwest::Client::builder()
            .tls_certs_only([cert])
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        let token = h.token("https://management.azure.com/.default").await;
        Client {
            http,
            base: h.sandbox.url(),
            token,
            admin_token: h.sandbox.admin_token().to_string(),
        }
    }

    async fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let url = if path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let mut rb = self
            .http
            .request(method.parse().expect("method"), url)
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        Answer {
            status,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    async fn admin(&self, path: &str, body: &Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.admin_token)
            .json(body)
            .send()
            .await
            .expect("admin");
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }

    /// GET until the resource is no longer in progress.
    async fn settled(&self, path: &str) -> Answer {
        for _ in 0..200 {
            let a = self.send("GET", path, None).await;
            let p = &a.body["properties"];
            let state = p["provisioningState"]
                .as_str()
                .or_else(|| p["state"].as_str())
                .unwrap_or("Succeeded");
            if a.status != 200 || !in_progress(state) {
                return a;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{path} never settled");
    }
}

/// States of a resource whose operation is still running (provisioning states, and
/// PostgreSQL's `state`); anything else (including APIM products' `notPublished`) is settled.
fn in_progress(state: &str) -> bool {
    [
        "accepted",
        "activating",
        "created",
        "creating",
        "inprogress",
        "initializationinprogress",
        "provisioning",
        "registeringdns",
        "resolvingdns",
        "starting",
        "updating",
        "upgraderequested",
        "waiting",
    ]
    .contains(&state.to_ascii_lowercase().as_str())
}

/// The recorded create answer (201, else 200; 202 with the body of a 200 when the
/// type answers 202) with its code and the recorded resource ID.
fn recorded(example: &Value) -> Option<(Vec<u16>, &Value, String)> {
    let responses = example["responses"].as_object()?;
    let codes: Vec<u16> = responses.keys().filter_map(|k| k.parse().ok()).collect();
    let body = ["201", "200"]
        .iter()
        .map(|c| &example["responses"][c]["body"])
        .find(|b| b["id"].is_string())?;
    let id = body["id"].as_str()?.to_string();
    Some((codes, body, id))
}

/// The recorded ID moved into the sandbox's subscription.
fn local_id(id: &str) -> Option<String> {
    let rest = id.strip_prefix("/subscriptions/")?;
    let (_, tail) = rest.split_once('/')?;
    Some(format!("/subscriptions/{SUB}/{tail}"))
}

fn resource_group_of(id: &str) -> Option<String> {
    let segs: Vec<&str> = id.split('/').collect();
    let i = segs
        .iter()
        .position(|s| s.eq_ignore_ascii_case("resourceGroups"))?;
    Some(segs.get(i + 1)?.to_string())
}

/// Every example with its file name, parents before children (resource groups,
/// then top-level resources, then their children), so a child finds the parent
/// its own example created.
fn examples_parents_first(dir: &Path) -> Vec<(String, Value)> {
    let mut out: Vec<(usize, String, Value)> = examples(dir)
        .into_iter()
        .map(|(file, example)| {
            let depth = recorded(&example)
                .map(|(_, _, id)| parents(&id).len() + usize::from(id.contains("/providers/")))
                .unwrap_or(0);
            (depth, file, example)
        })
        .collect();
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    out.into_iter().map(|(_, f, e)| (f, e)).collect()
}

/// Keys of `recorded` (top level and under `properties`) missing from `answer`.
fn missing_keys(recorded: &Value, answer: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for (k, _) in recorded.as_object().into_iter().flatten() {
        if answer.get(k).is_none() {
            out.push(k.clone());
        }
    }
    for (k, _) in recorded["properties"].as_object().into_iter().flatten() {
        if answer["properties"].get(k).is_none() {
            out.push(format!("properties.{k}"));
        }
    }
    out
}

fn has_header(h: &HeaderMap, name: &str) -> bool {
    h.keys().any(|k| k.as_str().eq_ignore_ascii_case(name))
}

fn recorded_has_header(example: &Value, code: &str, name: &str) -> bool {
    example["responses"][code]["headers"]
        .as_object()
        .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case(name)))
}

/// One example sent to the sandbox: the problems found, or why it was not replayed.
async fn replay(c: &Client, file: &str, example: &Value) -> Result<(Vec<String>, Value), String> {
    let request = request_body(example).ok_or("no request body")?;
    let (codes, body, id) = recorded(example).ok_or("no recorded resource answer")?;
    let local = local_id(&id).ok_or("not a subscription-scoped ID")?;
    let api = example["parameters"]["api-version"]
        .as_str()
        .ok_or("no api-version")?;
    if let Some((_, why)) = GENERIC.iter().find(|(f, _)| file.starts_with(f)) {
        return Err(format!("not compared: {why}"));
    }
    let is_group = local
        .to_ascii_lowercase()
        .rsplit_once("/resourcegroups/")
        .is_some_and(|(_, n)| !n.contains('/'));
    if let Some(rg) = resource_group_of(&local).filter(|_| !is_group) {
        let rg_path = format!("/subscriptions/{SUB}/resourcegroups/{rg}?api-version=2024-11-01");
        c.send("PUT", &rg_path, Some(&json!({"location": "westus"})))
            .await;
    }
    if let Some(p) = request["properties"]["principalId"].as_str() {
        let kind = request["properties"]["principalType"]
            .as_str()
            .unwrap_or("User");
        c.admin(
            "/_sandbox/principals",
            &json!({"id": p, "type": kind, "replicated": true}),
        )
        .await;
    }
    ensure_parents(c, &local, api).await;
    let path = format!("{local}?api-version={api}");
    let first = c.send("PUT", &path, Some(request)).await;
    if !(200..300).contains(&first.status) {
        return Err(format!("{} {}", first.status, first.body["error"]["code"]));
    }
    let mut problems = Vec::new();
    if !codes.contains(&first.status) {
        problems.push(format!(
            "create answered {}, the recorded codes are {codes:?}",
            first.status
        ));
    }
    let code = first.status.to_string();
    for h in ["Azure-AsyncOperation", "Location"] {
        if recorded_has_header(example, &code, h) && !has_header(&first.headers, h) {
            problems.push(format!("the {code} lacks the {h} header"));
        }
    }
    c.settled(&path).await;
    // The same request again updates: a code the example records (200, or 202).
    let again = c.send("PUT", &path, Some(request)).await;
    if !codes.contains(&again.status) || again.status == 201 {
        problems.push(format!(
            "the repeated PUT answered {}, the recorded codes are {codes:?}",
            again.status
        ));
    }
    let got = c.settled(&path).await;
    for key in missing_keys(body, &got.body) {
        let known = NOT_MODELLED.iter().any(|(f, k, _)| *f == file && *k == key);
        if !known {
            problems.push(format!("the answer lacks {key}"));
        }
    }
    // The type in the provider's casing, as recorded (when the example records it).
    if body["type"].is_string() && got.body["type"] != body["type"] {
        problems.push(format!(
            "type {} where the recorded answer says {}",
            got.body["type"], body["type"]
        ));
    }
    Ok((problems, got.body))
}

/// GET examples (no request to replay): the keys of the recorded read must be in
/// the sandbox's answer for a resource of the same type.
fn recorded_reads_against(
    all: &[(String, Value)],
    answers: &std::collections::BTreeMap<String, Value>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (file, example) in all {
        if request_body(example).is_some() {
            continue;
        }
        let body = &example["responses"]["200"]["body"];
        let Some(t) = body["id"].as_str().and(body["type"].as_str()) else {
            continue;
        };
        let Some(answer) = answers.get(&t.to_ascii_lowercase()) else {
            println!("read not compared: {file}: no {t} was replayed");
            continue;
        };
        for key in missing_keys(body, answer) {
            if !NOT_MODELLED.iter().any(|(f, k, _)| f == file && *k == key) {
                out.push(format!("{file}: the sandbox's {t} lacks {key}"));
            }
        }
    }
    out
}

#[tokio::test]
async fn sandbox_answers_recorded_requests_with_the_recorded_shape() {
    let Some(dir) = examples_dir("sandbox_answers_recorded_requests_with_the_recorded_shape")
    else {
        return;
    };
    let h = Harness::with_env_text("", 0.00005).await;
    let c = Client::new(&h).await;
    let mut failures = Vec::new();
    let mut replayed = 0;
    let all = examples_parents_first(&dir);
    // The sandbox's answer for each type replayed, for the GET examples below.
    let mut answers = std::collections::BTreeMap::<String, Value>::new();
    for (file, example) in &all {
        match replay(&c, file, example).await {
            Ok((problems, answer)) => {
                replayed += 1;
                failures.extend(problems.into_iter().map(|p| format!("{file}: {p}")));
                if let Some(t) = answer["type"].as_str() {
                    answers.entry(t.to_ascii_lowercase()).or_insert(answer);
                }
            }
            Err(why) => println!("not replayed: {file}: {why}"),
        }
    }
    println!("replayed {replayed} examples");
    failures.extend(recorded_reads_against(&all, &answers));
    assert!(
        failures.is_empty(),
        "the sandbox answers differently from the recorded answers:\n{}",
        failures.join("\n")
    );
}
