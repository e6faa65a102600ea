//! `owui-deploy finalize` / `up` end to end (issue 5): what lands in APIM, the
//! backend pool, the large OpenAPI import, and policy files that are rejected
//! before any write. The built binary runs against an in-process sandbox.

mod cli_support;
mod schema;

use cli_support::{Harness, Run, repo};
use owui_deploy::config::Environment;
use owui_deploy::engine::{Api, Stage};
use owui_deploy::stages::{self, Ids, StageOptions, openapi, policy};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// APIM's 45 minutes take 1.35 s; everything else is far shorter.
const TIME_SCALE: f64 = 0.0005;

fn environment(cli: &Harness) -> Environment {
    match owui_deploy::config::load(&cli.env_file) {
        Ok(loaded) => loaded.env,
        Err(e) => panic!("environment file invalid: {} problem(s)", e.problems.len()),
    }
}

async fn arm(cli: &Harness, id: &str, type_name: &str) -> Value {
    let v = owui_deploy::azure::api_versions::api_version(type_name)
        .unwrap_or_else(|| panic!("no API version for {type_name}"));
    let (status, body) = cli.arm_get(&format!("{id}?api-version={v}")).await;
    assert_eq!(status, 200, "GET {id}: {body}");
    body
}

/// `sandbox.toml` with `[apim]` keys added and `extra` appended.
fn sandbox_env_with(apim_keys: &str, extra: &str) -> String {
    let text = std::fs::read_to_string(repo().join("environments/sandbox.toml"))
        .expect("environments/sandbox.toml");
    let text = text.replacen(
        "[apim]\n",
        &format!(
            "[apim]\n{apim_keys}{}",
            if apim_keys.is_empty() { "" } else { "\n" }
        ),
        1,
    );
    format!("{text}\n{extra}\n")
}

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared is absent");
        None
    }
}

async fn up(cli: &Harness) -> Run {
    let run = cli.run(&["up", "--yes", "--no-progress"]).await;
    run.ok();
    run
}

/// The live operations of an API as `METHOD /path` keys.
async fn live_operations(cli: &Harness, api_id: &str) -> BTreeSet<String> {
    let v = owui_deploy::azure::api_versions::api_version("Microsoft.ApiManagement/service/apis")
        .expect("version");
    let (status, body) = cli
        .arm_get(&format!("{api_id}/operations?api-version={v}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|o| {
            openapi::operation_key(
                o["properties"]["method"].as_str().unwrap_or(""),
                o["properties"]["urlTemplate"].as_str().unwrap_or(""),
            )
        })
        .collect()
}

async fn assert_no_changes(cli: &Harness) {
    let mark = cli.mark().await;
    let plan = cli.run(&["plan", "--detailed-exitcode"]).await;
    plan.ok();
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    let writes = cli.writes_since(mark).await;
    assert!(writes.is_empty(), "plan wrote: {:?}", writes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apim_holds_the_gateway_configuration() {
    let cli = Harness::start("sandbox", TIME_SCALE).await;
    let env = environment(&cli);
    let run = up(&cli).await;
    let ids = Ids::new(&env);
    let apim = ids.apim();

    // Every ARM body `up` sent validates against the ARM schemas, with no unknown
    // property names (skipped, with a note, without ../shared).
    if let Some(shared) = schema::shared_dir("up request bodies") {
        let opts = StageOptions {
            environment_dir: cli.path().to_path_buf(),
            without_certificate: true,
            grant_admin_consent: false,
        };
        let model = stages::model(&env, &opts, &Stage::ALL).expect("model");
        let aca = arm(&cli, &ids.aca_env(), "Microsoft.App/managedEnvironments").await;
        let domain = aca["properties"]["defaultDomain"].as_str().expect("domain");
        let marker = format!("${{ref:{}#/properties/defaultDomain}}", ids.aca_env());
        let mut schemas = schema::Schemas::new(&shared);
        let (mut errors, mut validated) = (Vec::new(), BTreeSet::new());
        for e in cli.journal().await {
            let path = e["path"].as_str().unwrap_or("");
            let id = path.split('?').next().unwrap_or(path);
            if e["method"] != "PUT" || !id.starts_with("/subscriptions/") {
                continue;
            }
            let spec = model
                .resources
                .iter()
                .find(|s| {
                    matches!(s.api, Api::Arm { .. })
                        && s.address
                            .as_str()
                            .replace(&marker, domain)
                            .eq_ignore_ascii_case(id)
                })
                .unwrap_or_else(|| panic!("PUT of {id}, which no stage declares"));
            let mut sent = spec.clone();
            sent.body = e["request_body"].clone();
            errors.extend(schemas.check(&sent));
            validated.insert(spec.stage);
        }
        assert_eq!(validated.len(), 3, "bodies of every stage: {validated:?}");
        assert!(errors.is_empty(), "{errors:#?}");
    }

    // Named values.
    let nv = "Microsoft.ApiManagement/service/namedValues";
    let tenant = arm(&cli, &format!("{apim}/namedValues/tenant-id"), nv).await;
    assert_eq!(tenant["properties"]["value"], env.azure.tenant_id);
    let (_, app) = cli
        .graph_get(&format!(
            "/v1.0/applications(uniqueName='{}')",
            env.entra.unique_name
        ))
        .await;
    let app_id = arm(&cli, &format!("{apim}/namedValues/openwebui-app-id"), nv).await;
    assert_eq!(app_id["properties"]["value"], app["appId"]);

    // Backend: the Foundry endpoint rewritten, TLS validation on; no pool configured.
    let backend = arm(
        &cli,
        &format!("{apim}/backends/{}", policy::FOUNDRY_BACKEND_ID),
        "Microsoft.ApiManagement/service/backends",
    )
    .await;
    assert_eq!(
        backend["properties"]["url"],
        "https://ais-owui-sandbox.services.ai.azure.com/openai/v1"
    );
    assert_eq!(
        backend["properties"]["tls"]["validateCertificateChain"],
        true
    );
    let v =
        owui_deploy::azure::api_versions::api_version("Microsoft.ApiManagement/service/backends")
            .expect("version");
    let (status, _) = cli
        .arm_get(&format!(
            "{apim}/backends/{}?api-version={v}",
            policy::FOUNDRY_POOL_BACKEND_ID
        ))
        .await;
    assert_eq!(status, 404, "no pool without [[foundry.pool]]");

    // API: path, subscription header, imported operations.
    let api_id = format!("{apim}/apis/openai");
    let api = arm(&cli, &api_id, "Microsoft.ApiManagement/service/apis").await;
    assert_eq!(api["properties"]["path"], "openai/v1");
    assert_eq!(
        api["properties"]["subscriptionKeyParameterNames"]["header"],
        "api-key"
    );
    assert_eq!(api["properties"]["subscriptionRequired"], true);
    assert!(
        api["properties"].get("value").is_none(),
        "the document is echoed"
    );
    let bundled = std::fs::read_to_string(repo().join("templates/openapi/openai-v1.json"))
        .expect("bundled document");
    let doc: Value = serde_json::from_str(&bundled).expect("bundled JSON");
    let wanted = openapi::operations(&doc);
    assert!(wanted.len() >= 5);
    assert_eq!(live_operations(&cli, &api_id).await, wanted);
    assert!(
        api["properties"]["apiRevisionDescription"]
            .as_str()
            .unwrap_or("")
            .contains(
                &openapi::load(&openapi::OpenApiSource::Bundled)
                    .expect("bundled")
                    .digest
            ),
        "the digest of the imported document is not recorded: {}",
        api["properties"]
    );

    // Product with subscription required, and the API in it.
    let product = arm(
        &cli,
        &format!("{apim}/products/{}", env.apim.product_name),
        "Microsoft.ApiManagement/service/products",
    )
    .await;
    assert_eq!(product["properties"]["subscriptionRequired"], true);
    arm(
        &cli,
        &format!("{apim}/products/{}/apis/openai", env.apim.product_name),
        "Microsoft.ApiManagement/service/products/apis",
    )
    .await;

    // Policy: rendered from the environment.
    let pol = arm(
        &cli,
        &format!("{api_id}/policies/policy"),
        "Microsoft.ApiManagement/service/apis/policies",
    )
    .await;
    let xml = pol["properties"]["value"].as_str().expect("policy value");
    for needle in [
        "llm-token-limit",
        "tokens-per-minute=\"10000\"",
        "backend-id=\"foundry-backend\"",
        "validate-azure-ad-token",
        "llm-emit-token-metric",
        "{{tenant-id}}",
        "{{openwebui-app-id}}",
    ] {
        assert!(xml.contains(needle), "policy lacks {needle}:\n{xml}");
    }

    // Logger with the managed identity; API diagnostic with LLM logging.
    let logger = arm(
        &cli,
        &format!("{apim}/loggers/appinsights-logger"),
        "Microsoft.ApiManagement/service/loggers",
    )
    .await;
    assert_eq!(logger["properties"]["loggerType"], "applicationInsights");
    assert!(
        logger["properties"]["credentials"]["identityClientId"]
            .as_str()
            .is_some_and(|v| v.eq_ignore_ascii_case("systemAssigned"))
    );
    // The connection string flows into the logger but never into a plan or a log.
    let appi = arm(&cli, &ids.app_insights(), "Microsoft.Insights/components").await;
    let connection = appi["properties"]["ConnectionString"]
        .as_str()
        .expect("connection string");
    assert!(!connection.is_empty());
    assert!(
        !run.stdout.contains(connection) && !run.stderr.contains(connection),
        "the connection string was printed"
    );
    let json_plan = cli.run(&["plan", "--output", "json"]).await;
    json_plan.ok();
    assert!(!json_plan.stdout.contains(connection));
    let diag = arm(
        &cli,
        &format!("{api_id}/diagnostics/applicationinsights"),
        "Microsoft.ApiManagement/service/apis/diagnostics",
    )
    .await;
    assert_eq!(diag["properties"]["largeLanguageModel"]["logs"], "disabled");
    assert_eq!(diag["properties"]["metrics"], true);
    assert!(diag["properties"]["sampling"]["percentage"].is_number());
    // LLM prompts and completions: the azuremonitor diagnostic (GatewayLlmLogs).
    let llm = arm(
        &cli,
        &format!("{api_id}/diagnostics/azuremonitor"),
        "Microsoft.ApiManagement/service/apis/diagnostics",
    )
    .await;
    assert!(
        llm["properties"]["loggerId"]
            .as_str()
            .is_some_and(|l| l.to_ascii_lowercase().ends_with("/loggers/azuremonitor")),
        "{llm}"
    );
    let settings = &llm["properties"]["largeLanguageModel"];
    assert_eq!(settings["logs"], "enabled");
    for kind in ["requests", "responses"] {
        assert_eq!(settings[kind]["messages"], "all", "{kind}");
        assert_eq!(settings[kind]["maxSizeInBytes"], 32_768, "{kind}");
    }

    // Diagnostic setting on the service: gateway and LLM logs to Log Analytics.
    let setting = arm(
        &cli,
        &format!("{apim}/providers/Microsoft.Insights/diagnosticSettings/apim-gateway-logs"),
        "Microsoft.Insights/diagnosticSettings",
    )
    .await;
    let categories: BTreeSet<&str> = setting["properties"]["logs"]
        .as_array()
        .expect("logs")
        .iter()
        .filter(|l| l["enabled"] == true)
        .filter_map(|l| l["category"].as_str())
        .collect();
    assert_eq!(
        categories,
        BTreeSet::from(["GatewayLogs", "GatewayLlmLogs"])
    );
    assert!(
        setting["properties"]["workspaceId"]
            .as_str()
            .unwrap_or("")
            .eq_ignore_ascii_case(&ids.log_analytics())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foundry_pool_becomes_a_backend_pool_with_circuit_breakers() {
    let cli = Harness::with_env_text(&sandbox_env_with(
        "",
        "[[foundry.pool]]\nname = \"ais-owui-sandbox-eus2\"\nlocation = \"eastus2\"\npriority = 2\nweight = 3\n",
    ), TIME_SCALE).await;
    let env = environment(&cli);
    up(&cli).await;
    let apim = Ids::new(&env).apim();
    let bt = "Microsoft.ApiManagement/service/backends";
    let pool = arm(&cli, &format!("{apim}/backends/foundry-pool"), bt).await;
    assert_eq!(pool["properties"]["type"], "Pool");
    let services = pool["properties"]["pool"]["services"]
        .as_array()
        .expect("services");
    assert_eq!(services.len(), 2);
    let member_id = format!("{apim}/backends/foundry-ais-owui-sandbox-eus2");
    let member = services
        .iter()
        .find(|s| {
            s["id"]
                .as_str()
                .is_some_and(|i| i.eq_ignore_ascii_case(&member_id))
        })
        .expect("second account in the pool");
    assert_eq!(member["priority"], 2);
    assert_eq!(member["weight"], 3);
    for id in [format!("{apim}/backends/foundry-backend"), member_id] {
        let b = arm(&cli, &id, bt).await;
        let rule = &b["properties"]["circuitBreaker"]["rules"][0];
        assert_eq!(
            rule["failureCondition"]["statusCodeRanges"][0]["min"], 429,
            "{id}"
        );
        assert_eq!(rule["acceptRetryAfter"], true);
    }
    let member = arm(
        &cli,
        &format!("{apim}/backends/foundry-ais-owui-sandbox-eus2"),
        bt,
    )
    .await;
    assert_eq!(
        member["properties"]["url"],
        "https://ais-owui-sandbox-eus2.services.ai.azure.com/openai/v1"
    );
    let pol = arm(
        &cli,
        &format!("{apim}/apis/openai/policies/policy"),
        "Microsoft.ApiManagement/service/apis/policies",
    )
    .await;
    assert!(
        pol["properties"]["value"]
            .as_str()
            .unwrap_or("")
            .contains("backend-id=\"foundry-pool\"")
    );
    assert_no_changes(&cli).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_openapi_document_imports_and_replans_clean() {
    let Some(shared) = shared() else { return };
    let fixture = shared.join("fixtures/openai-v1.openapi.large.json");
    let text = std::fs::read_to_string(&fixture).expect("fixture");
    assert!(text.len() > 1_000_000);
    let cli = Harness::with_env_text(
        &sandbox_env_with("openapi = \"openapi/large.json\"", ""),
        TIME_SCALE,
    )
    .await;
    std::fs::create_dir_all(cli.path().join("openapi")).expect("mkdir");
    std::fs::write(cli.path().join("openapi/large.json"), &text).expect("copy fixture");
    let env = environment(&cli);

    let plan = cli.run(&["plan", "finalize", "--output", "json"]).await;
    // Nothing deployed yet: the plan fails on the missing hub, without printing the document.
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.contains("owui-deploy hub"),
        "the error does not name the stage to run:\n{}",
        plan.stderr
    );
    assert!(plan.stdout.len() + plan.stderr.len() < 200_000);

    let run = up(&cli).await;
    assert!(
        run.stdout.len() < 400_000 && !run.stdout.contains("\"paths\""),
        "the plan printed the document"
    );
    let api_id = format!("{}/apis/openai", Ids::new(&env).apim());
    let doc: Value = serde_json::from_str(&text).expect("fixture JSON");
    let wanted = openapi::operations(&doc);
    assert!(wanted.len() > 30);
    assert_eq!(live_operations(&cli, &api_id).await, wanted);
    assert_no_changes(&cli).await;

    // A changed document is an update (a re-import), showing the operations that change.
    let mut changed = doc.clone();
    let paths = changed["paths"].as_object_mut().expect("paths");
    let removed = paths.keys().next().cloned().expect("a path");
    paths.remove(&removed);
    std::fs::write(
        cli.path().join("openapi/large.json"),
        serde_json::to_string(&changed).expect("JSON"),
    )
    .expect("write");
    let plan = cli.run(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("1 to change") && plan.stdout.contains("apiRevisionDescription"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&removed),
        "the removed operation {removed} is not shown:\n{}",
        plan.stdout
    );
    assert!(plan.stdout.len() < 100_000);
    let json_plan = cli.run(&["plan", "--output", "json"]).await;
    json_plan.ok();
    assert!(
        json_plan.stdout.len() < 400_000
            && !json_plan.stdout.contains("\"paths\"")
            && !json_plan.stdout.contains("\\\"paths\\\""),
        "the JSON plan holds the document ({} bytes)",
        json_plan.stdout.len()
    );
    // The operations diffs are part of the documented plan format.
    let doc: Value = serde_json::from_str(&json_plan.stdout).expect("plan JSON");
    let schema_text = std::fs::read_to_string(repo().join("docs/schemas/plan.v1.schema.json"))
        .expect("plan schema");
    let validator =
        jsonschema::validator_for(&serde_json::from_str(&schema_text).expect("schema JSON"))
            .expect("valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let api_change = doc["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| {
            c["address"]
                .as_str()
                .is_some_and(|a| a.ends_with("/apis/openai"))
        })
        .expect("the API's change");
    assert!(
        api_change["diffs"]
            .as_array()
            .expect("diffs")
            .iter()
            .any(|d| {
                d["path"] == "/operations"
                    && d["new"]["state"] == "absent"
                    && d["old"]["value"]
                        .as_str()
                        .is_some_and(|v| v.ends_with(&format!(" {removed}")))
            }),
        "{api_change}"
    );
    // Applying it re-imports: the live operations follow the document.
    cli.run(&["finalize", "--yes", "--no-progress"]).await.ok();
    assert_eq!(
        live_operations(&cli, &api_id).await,
        openapi::operations(&changed)
    );
    assert_no_changes(&cli).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_user_policy_is_rejected_before_any_write() {
    let cli = Harness::with_env_text(
        &sandbox_env_with("policy_file = \"policies/mine.xml\"", ""),
        TIME_SCALE,
    )
    .await;
    std::fs::create_dir_all(cli.path().join("policies")).expect("mkdir");
    std::fs::write(
        cli.path().join("policies/mine.xml"),
        "<policies>\n  <inbound>\n    <base />\n  </outbound>\n</policies>\n",
    )
    .expect("write policy");
    for args in [
        &["up", "--yes", "--no-progress"][..],
        &["finalize", "--yes", "--no-progress"][..],
    ] {
        let run = cli.run(args).await;
        assert_eq!(run.code, 1, "{args:?}: {}\n{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("mine.xml:4:") && run.stderr.contains("not well-formed"),
            "{args:?}: the error does not name the file and line:\n{}",
            run.stderr
        );
        let writes = cli.writes_since(0).await;
        assert!(writes.is_empty(), "{args:?} wrote: {:?}", writes);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_given_once_keeps_https_on_later_runs() {
    use base64::Engine as _;
    let cli = Harness::start("sandbox", TIME_SCALE).await;
    let env = environment(&cli);
    let bytes: Vec<u8> = (0..600).map(|_| rand::random::<u8>()).collect();
    let pfx = base64::engine::general_purpose::STANDARD.encode(bytes);
    let run = cli
        .run_env(
            &["up", "--yes", "--no-progress"],
            &[("OWUI_CERTIFICATE_PFX_BASE64", &pfx)],
        )
        .await;
    run.ok();
    assert!(!run.stdout.contains(&pfx) && !run.stderr.contains(&pfx));
    let ids = Ids::new(&env);
    let gateway = arm(
        &cli,
        &ids.hub(
            "Microsoft.Network/applicationGateways",
            &env.app_gateway.name,
        ),
        "Microsoft.Network/applicationGateways",
    )
    .await;
    let listeners: Vec<&str> = gateway["properties"]["httpListeners"]
        .as_array()
        .expect("listeners")
        .iter()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert!(listeners.contains(&"https"), "{listeners:?}");
    let secret_uri = gateway["properties"]["sslCertificates"][0]["properties"]["keyVaultSecretId"]
        .as_str()
        .expect("certificate from Key Vault");
    assert!(secret_uri.contains(owui_deploy::stages::ids::SECRET_CERTIFICATE));

    // Later runs without the certificate keep it: nothing to change, nothing written.
    assert_no_changes(&cli).await;
    let out = cli.run(&["outputs", "--output", "json"]).await;
    out.ok();
    let o: Value = serde_json::from_str(&out.stdout).expect("outputs JSON");
    assert_eq!(
        o["open_webui_url"]["value"],
        format!("https://{}", env.domain.custom_domain)
    );
}
