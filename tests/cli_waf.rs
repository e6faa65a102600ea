//! `app_gateway.sku = "WAF_v2"` end to end (issue 11 §3): the WAF policy is created
//! and linked, the deployment re-plans clean, and the sandbox refuses a `WAF_v2`
//! gateway without a policy as ARM does. `Standard_v2` has no policy.

mod cli_support;

use cli_support::{Harness, repo};
use owui_deploy::engine::Stage;
use owui_deploy::stages::resources::waf_policy;
use owui_deploy::stages::{self, Ids, StageOptions};
use serde_json::{Value, json};

/// APIM's 45 minutes take 1.35 s; everything else is far shorter.
const TIME_SCALE: f64 = 0.0005;
const GATEWAY_TYPE: &str = "Microsoft.Network/applicationGateways";

fn version(type_name: &str) -> &'static str {
    owui_deploy::azure::api_versions::api_version(type_name)
        .unwrap_or_else(|| panic!("no API version for {type_name}"))
}

/// PUT `body` at `id` as an outside caller: (status, answer).
async fn put(cli: &Harness, id: &str, type_name: &str, body: &Value) -> (u16, Value) {
    let path = format!("{id}?api-version={}", version(type_name));
    cli.send_as_outsider(
        reqwest::Method::PUT,
        &path,
        "https://management.azure.com/.default",
        body,
    )
    .await
}

fn sandbox_env_with(app_gateway: &str) -> String {
    let text = std::fs::read_to_string(repo().join("environments/sandbox.toml"))
        .expect("environments/sandbox.toml");
    format!("{text}\n[app_gateway]\n{app_gateway}\n")
}

#[test]
fn standard_v2_has_no_waf_policy() {
    let loaded =
        owui_deploy::config::load(&repo().join("environments/sandbox.toml")).expect("sandbox");
    assert_eq!(loaded.env.app_gateway.sku, "Standard_v2");
    let opts = StageOptions {
        environment_dir: repo().join("environments"),
        without_certificate: true,
        grant_admin_consent: false,
    };
    let model = stages::model(&loaded.env, &opts, &Stage::ALL).expect("model");
    assert!(
        !model
            .resources
            .iter()
            .any(|r| r.api.type_name() == Some(waf_policy::TYPE)),
        "a Standard_v2 gateway got a WAF policy"
    );
    let gateway = model
        .resources
        .iter()
        .find(|r| r.api.type_name() == Some(GATEWAY_TYPE))
        .expect("gateway");
    assert!(gateway.body["properties"].get("firewallPolicy").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waf_v2_deploys_with_its_policy_replans_clean_and_is_refused_without_it() {
    let cli = Harness::with_env_text(
        &sandbox_env_with("sku = \"WAF_v2\"\nwaf_mode = \"Detection\""),
        TIME_SCALE,
    )
    .await;
    let env = cli.loaded_environment();
    cli.run(&["up", "--yes", "--no-progress"]).await.ok();

    // The policy: Microsoft's default rule set, the configured mode, the limits.
    let ids = Ids::new(&env);
    let policy_id = ids.hub(waf_policy::TYPE, &env.app_gateway.waf_policy_name);
    let policy = cli.arm_resource(&policy_id, waf_policy::TYPE).await;
    let settings = &policy["properties"]["policySettings"];
    assert_eq!(settings["state"], "Enabled");
    assert_eq!(settings["mode"], "Detection");
    assert_eq!(settings["requestBodyCheck"], true);
    assert_eq!(
        settings["maxRequestBodySizeInKb"],
        waf_policy::MAX_REQUEST_BODY_KB
    );
    assert_eq!(
        settings["fileUploadLimitInMb"],
        waf_policy::FILE_UPLOAD_LIMIT_MB
    );
    assert_eq!(
        policy["properties"]["managedRules"]["managedRuleSets"],
        json!([{"ruleSetType": "Microsoft_DefaultRuleSet", "ruleSetVersion": "2.1"}])
    );

    // The gateway links it.
    let gateway_id = ids.hub(GATEWAY_TYPE, &env.app_gateway.name);
    let gateway = cli.arm_resource(&gateway_id, GATEWAY_TYPE).await;
    assert_eq!(gateway["properties"]["sku"]["tier"], "WAF_v2");
    assert!(
        gateway["properties"]["firewallPolicy"]["id"]
            .as_str()
            .is_some_and(|id| id.eq_ignore_ascii_case(&policy_id)),
        "{}",
        gateway["properties"]
    );

    // A plan right after the apply: nothing to change, nothing written.
    let mark = cli.mark().await;
    let plan = cli.run(&["plan", "--detailed-exitcode"]).await;
    plan.ok();
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    assert!(cli.writes_since(mark).await.is_empty());

    // ARM refuses WAF_v2 without a policy, and a policy that does not exist.
    let mut body = json!({
        "location": gateway["location"],
        "identity": gateway["identity"],
        "properties": gateway["properties"],
    });
    body["properties"]
        .as_object_mut()
        .expect("properties")
        .remove("firewallPolicy");
    let (status, answer) = put(&cli, &gateway_id, GATEWAY_TYPE, &body).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["error"]["code"],
        "ApplicationGatewayFirewallNotConfiguredForSelectedSku"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("must have a valid WAF policy or configuration")),
        "{answer}"
    );
    body["properties"]["firewallPolicy"] = json!({"id": format!("{policy_id}-missing")});
    let (status, answer) = put(&cli, &gateway_id, GATEWAY_TYPE, &body).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "InvalidResourceReference");
}
