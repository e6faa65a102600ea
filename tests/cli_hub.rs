//! The `hub` stage end to end through the CLI, against an in-process sandbox
//! (issue 3 §6): create from empty, converge, exactly one update for one change.

mod cli_support;

use cli_support::Harness;
use serde_json::Value;

const TIME_SCALE: f64 = 0.0005;
const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000000";

fn hub(id: &str) -> String {
    format!("{SUB}/resourceGroups/rg-owui-hub-sandbox{id}").to_ascii_lowercase()
}

async fn arm_get(h: &Harness, id: &str, api_version: &str) -> Value {
    let (status, body) = h.arm_get(&format!("{id}?api-version={api_version}")).await;
    assert_eq!(status, 200, "GET {id}: {body:#}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn hub_from_empty_creates_everything_then_converges_without_writes() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let run = h.run(&["hub", "--yes", "--no-progress"]).await;
    run.ok();
    assert!(run.stdout.contains("Apply complete"), "{}", run.stdout);

    let ids = h.resource_ids().await;
    let expected = [
        String::new(),
        "/providers/microsoft.network/networksecuritygroups/nsg-apim".into(),
        "/providers/microsoft.network/routetables/rt-apim".into(),
        "/providers/microsoft.network/virtualnetworks/vnet-hub".into(),
        "/providers/microsoft.network/privatednszones/azure-api.net".into(),
        "/providers/microsoft.network/privatednszones/privatelink.cognitiveservices.azure.com"
            .into(),
        "/providers/microsoft.network/privatednszones/privatelink.openai.azure.com".into(),
        "/providers/microsoft.network/privatednszones/privatelink.services.ai.azure.com".into(),
        "/providers/microsoft.network/privatednszones/privatelink.postgres.database.azure.com"
            .into(),
        // sandbox.toml has [redis]: Azure Managed Redis private endpoints register here.
        "/providers/microsoft.network/privatednszones/privatelink.redis.azure.net".into(),
        "/providers/microsoft.operationalinsights/workspaces/log-owui".into(),
        "/providers/microsoft.insights/components/appi-owui".into(),
        "/providers/microsoft.network/publicipaddresses/pip-appgw".into(),
        "/providers/microsoft.network/publicipaddresses/pip-apim".into(),
        "/providers/microsoft.apimanagement/service/apim-owui-sandbox".into(),
        "/providers/microsoft.managedidentity/userassignedidentities/id-appgw".into(),
        "/providers/microsoft.keyvault/vaults/kv-owui-hub-sbx".into(),
    ];
    for suffix in &expected {
        let id = hub(suffix);
        assert!(ids.contains(&id), "missing {id}; have {ids:#?}");
    }
    let links = ids
        .iter()
        .filter(|id| id.contains("/virtualnetworklinks/"))
        .count();
    assert_eq!(links, 6, "one hub VNet link per private DNS zone: {ids:#?}");

    // Key properties, as Azure returns them.
    let apim = arm_get(
        &h,
        &format!("{SUB}/resourceGroups/rg-owui-hub-sandbox/providers/Microsoft.ApiManagement/service/apim-owui-sandbox"),
        "2024-06-01-preview",
    )
    .await;
    assert_eq!(apim["properties"]["virtualNetworkType"], "Internal");
    assert_eq!(apim["identity"]["type"], "SystemAssigned");
    assert!(
        apim["properties"]["virtualNetworkConfiguration"]["subnetResourceId"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/subnets/apim-subnet")
    );
    assert_eq!(apim["tags"]["owui-deploy-env"], "sandbox");
    let vnet = arm_get(
        &h,
        &format!("{SUB}/resourceGroups/rg-owui-hub-sandbox/providers/Microsoft.Network/virtualNetworks/vnet-hub"),
        "2024-05-01",
    )
    .await;
    let mut subnets: Vec<&str> = vnet["properties"]["subnets"]
        .as_array()
        .expect("subnets")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    subnets.sort();
    assert_eq!(subnets, ["apim-subnet", "appgw-subnet", "pe-subnet"]);
    let kv = arm_get(
        &h,
        &format!("{SUB}/resourceGroups/rg-owui-hub-sandbox/providers/Microsoft.KeyVault/vaults/kv-owui-hub-sbx"),
        "2024-11-01",
    )
    .await;
    assert_eq!(kv["properties"]["enableRbacAuthorization"], true);

    // A plan right after the apply shows nothing and writes nothing.
    let mark = h.mark().await;
    let plan = h.run(&["plan", "hub", "--detailed-exitcode"]).await;
    plan.ok();
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());

    // A second apply writes nothing either.
    let mark = h.mark().await;
    let again = h.run(&["hub", "--yes", "--no-progress"]).await;
    again.ok();
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_one_value_yields_exactly_one_update() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();

    let text = h.env_text().replace(
        "key_vault_name = \"kv-owui-hub-sbx\"",
        "key_vault_name = \"kv-owui-hub-sbx\"\nlog_retention_days = 90",
    );
    h.write_env(&text);

    let plan = h
        .run(&["plan", "hub", "--output", "json", "--detailed-exitcode"])
        .await;
    plan.expect_code(2);
    let doc: Value = serde_json::from_str(&plan.stdout).expect("plan JSON");
    let writes: Vec<&Value> = doc["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["action"] != "no_op" && c["action"] != "read")
        .collect();
    assert_eq!(writes.len(), 1, "{doc:#}");
    let change = writes[0];
    assert_eq!(change["action"], "update");
    assert!(
        change["address"]
            .as_str()
            .unwrap_or_default()
            .ends_with("/workspaces/log-owui")
    );
    let diffs = change["diffs"].as_array().expect("diffs");
    assert_eq!(diffs.len(), 1, "{change:#}");
    assert_eq!(diffs[0]["path"], "/properties/retentionInDays");
    assert_eq!(diffs[0]["old"]["value"], 30);
    assert_eq!(diffs[0]["new"]["value"], 90);

    let mark = h.mark().await;
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    let writes = h.writes_since(mark).await;
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert!(
        writes[0].starts_with("PUT ")
            && writes[0]
                .to_ascii_lowercase()
                .contains("/workspaces/log-owui")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_without_yes_is_refused_when_nobody_can_confirm() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let mark = h.mark().await;
    let run = h.run(&["hub", "--no-progress"]).await;
    run.expect_code(1);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_environment_is_rejected_before_any_request() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.write_env(&h.env_text().replace(
        "address_space = \"10.0.0.0/24\"",
        "adress_space = \"10.0.0.0/24\"",
    ));
    let mark = h.mark().await;
    let run = h.run(&["hub", "--yes"]).await;
    run.expect_code(1);
    assert!(run.stderr.contains("adress_space"), "{}", run.stderr);
    assert!(
        run.stderr.contains("did you mean 'address_space'"),
        "{}",
        run.stderr
    );
    assert_eq!(h.journal().await.len(), mark, "no request at all");
}
