//! `destroy` through the CLI against an in-process sandbox (issue 6): deletes
//! only this environment's resources, reports or purges soft-deleted names, and a
//! second run writes nothing. Another environment in the same sandbox is untouched.

mod cli_support;

use cli_support::Harness;
use serde_json::Value;

const TIME_SCALE: f64 = 0.0005;

/// A second environment in the same subscription: other names, other groups.
fn other_env(text: &str) -> String {
    text.replace("name = \"sandbox\"", "name = \"other\"")
        .replace("rg-owui-hub-sandbox", "rg-other-hub")
        .replace("rg-owui-spoke-sandbox", "rg-other-spoke")
        .replace("apim-owui-sandbox", "apim-other")
        .replace("kv-owui-hub-sbx", "kv-other-hub")
        .replace("kv-owui-spoke-sbx", "kv-other-spoke")
        .replace("stowuisandbox", "stother")
        .replace("ais-owui-sandbox", "ais-other")
        .replace("psql-owui-sandbox", "psql-other")
        .replace("cae-owui-sandbox", "cae-other")
        .replace("open-webui-sandbox", "open-webui-other")
        .replace("10.0.0.", "10.1.0.")
        .replace("10.0.4.", "10.1.4.")
}

fn in_group(ids: &[String], group: &str) -> Vec<String> {
    let prefix = format!("/resourcegroups/{group}");
    ids.iter()
        .filter(|id| {
            let lower = id.to_ascii_lowercase();
            lower.contains(&format!("{prefix}/")) || lower.ends_with(&prefix)
        })
        .cloned()
        .collect()
}

async fn deleted(h: &Harness) -> (Vec<String>, Vec<String>) {
    let v = h.admin_get("/_sandbox/deleted").await;
    let list = |k: &str| -> Vec<String> {
        v[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default()
    };
    (list("vaults"), list("accounts"))
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_removes_only_this_environment_and_is_idempotent() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let other = h.path().join("other.toml");
    std::fs::write(&other, other_env(&h.env_text())).expect("other env");
    let other_arg = other.to_str().expect("path");

    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    h.run(&["hub", "--yes", "--no-progress", "--env", other_arg])
        .await
        .ok();
    let before = h.resource_ids().await;
    let mine = in_group(&before, "rg-owui-hub-sandbox");
    let theirs = in_group(&before, "rg-other-hub");
    assert!(mine.len() > 20, "{before:#?}");
    assert_eq!(theirs.len(), mine.len(), "{before:#?}");

    // Refused without --yes (no terminal), nothing written.
    let mark = h.mark().await;
    let refused = h.run(&["destroy"]).await;
    refused.expect_code(1);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());

    let mark = h.mark().await;
    let run = h.run(&["destroy", "--yes", "--no-progress"]).await;
    run.ok();
    // The plan of deletions comes first, then the apply.
    let plan_at = run.stdout.find("to destroy").expect("plan shown");
    let done_at = run.stdout.find("Destroy complete").expect("applied");
    assert!(plan_at < done_at, "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "Key Vault kv-owui-hub-sbx is soft-deleted: its name stays reserved for 7 days"
        ),
        "{}",
        run.stdout
    );
    let writes = h.writes_since(mark).await;
    assert!(
        writes.iter().all(|w| w.starts_with("DELETE ")),
        "only deletes: {writes:#?}"
    );
    assert!(
        writes.iter().all(|w| w
            .to_ascii_lowercase()
            .contains("/resourcegroups/rg-owui-hub-sandbox")),
        "only this environment: {writes:#?}"
    );
    // The resource group goes last.
    assert!(
        writes.last().is_some_and(|w| w
            .split('?')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
            .ends_with("/resourcegroups/rg-owui-hub-sandbox")),
        "{writes:#?}"
    );

    let after = h.resource_ids().await;
    assert_eq!(
        in_group(&after, "rg-owui-hub-sandbox"),
        Vec::<String>::new()
    );
    assert_eq!(
        in_group(&after, "rg-other-hub"),
        theirs,
        "other environment untouched"
    );
    let (vaults, _) = deleted(&h).await;
    assert!(
        vaults.contains(&"kv-owui-hub-sbx".to_string()),
        "{vaults:?}"
    );

    // Again: nothing to do, nothing written.
    let mark = h.mark().await;
    let again = h.run(&["destroy", "--yes", "--no-progress"]).await;
    again.ok();
    assert!(
        again.stdout.contains("Nothing to destroy."),
        "{}",
        again.stdout
    );
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());

    // --purge frees the name left reserved by the first run; the other
    // environment keeps everything.
    let mark = h.mark().await;
    let purge = h
        .run(&["destroy", "--yes", "--purge", "--no-progress"])
        .await;
    purge.ok();
    assert!(
        purge
            .stdout
            .contains("Purged the soft-deleted Key Vault kv-owui-hub-sbx."),
        "{}",
        purge.stdout
    );
    // API Management is soft-deleted too (48 hours) and purged with it.
    assert!(
        purge
            .stdout
            .contains("Purged the soft-deleted API Management service apim-owui-sandbox."),
        "{}",
        purge.stdout
    );
    let writes = h.writes_since(mark).await;
    assert_eq!(writes.len(), 2, "{writes:#?}");
    assert!(
        writes
            .iter()
            .any(|w| w.starts_with("POST ") && w.contains("/deletedVaults/kv-owui-hub-sbx/purge")),
        "{writes:#?}"
    );
    assert!(
        writes.iter().any(|w| w.starts_with("DELETE ")
            && w.contains("/locations/uksouth/deletedservices/apim-owui-sandbox")),
        "{writes:#?}"
    );
    let (vaults, _) = deleted(&h).await;
    assert!(
        !vaults.contains(&"kv-owui-hub-sbx".to_string()),
        "{vaults:?}"
    );
    assert_eq!(in_group(&h.resource_ids().await, "rg-other-hub"), theirs);

    let mark = h.mark().await;
    h.run(&["destroy", "--yes", "--purge"]).await.ok();
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());
}

async fn put_foreign_resource(h: &Harness, id: &str, api_version: &str, body: Value) {
    h.arm_send(
        reqwest::Method::PUT,
        &format!("{id}?api-version={api_version}"),
        &body,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_with_purge_purges_right_away_and_keeps_a_group_holding_more() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    // Someone else's resource in the hub resource group (not tagged for us).
    let foreign = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-owui-hub-sandbox/providers/Microsoft.Network/networkSecurityGroups/nsg-someone-else";
    put_foreign_resource(
        &h,
        foreign,
        "2024-05-01",
        serde_json::json!({"location": "uksouth", "properties": {}}),
    )
    .await;

    let run = h
        .run(&["destroy", "--yes", "--purge", "--no-progress"])
        .await;
    run.ok();
    assert!(
        run.stdout
            .contains("Purged the soft-deleted Key Vault kv-owui-hub-sbx."),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("stays reserved"), "{}", run.stdout);
    assert!(
        run.stdout.contains("is kept: it also holds 1 resource(s)"),
        "the group is kept: {}",
        run.stdout
    );
    let after = h.resource_ids().await;
    assert_eq!(
        in_group(&after, "rg-owui-hub-sandbox"),
        vec![
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg-owui-hub-sandbox".to_string(),
            foreign.to_ascii_lowercase(),
        ],
        "the group and the foreign resource remain"
    );
    let (vaults, _) = deleted(&h).await;
    assert!(
        !vaults.contains(&"kv-owui-hub-sbx".to_string()),
        "{vaults:?}"
    );

    // Idempotent: the kept group is not planned again.
    let mark = h.mark().await;
    let again = h.run(&["destroy", "--yes", "--purge"]).await;
    again.ok();
    assert!(
        again.stdout.contains("Nothing to destroy."),
        "{}",
        again.stdout
    );
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());
}

struct Graph {
    client: reqwest::Client,
    url: String,
    token: String,
}

impl Graph {
    async fn new(h: &Harness) -> Graph {
        let cert = reqwest::Certificate::from_pem(h.sandbox.ca_pem().as_bytes()).expect("ca");
        let client = reqwest::Client::builder()
            .tls_certs_only([cert])
            .build()
            .expect("client");
        Graph {
            client,
            url: h.sandbox.url(),
            token: h.token("https://graph.microsoft.com/.default").await,
        }
    }

    /// Creates an application by unique name and its service principal; returns the appId.
    async fn create_app(&self, unique_name: &str, display_name: &str) -> String {
        let resp = self
            .client
            .patch(format!(
                "{}/v1.0/applications(uniqueName='{unique_name}')",
                self.url
            ))
            .bearer_auth(&self.token)
            .header("Prefer", "create-if-missing")
            .json(&serde_json::json!({"displayName": display_name}))
            .send()
            .await
            .expect("upsert");
        assert!(
            resp.status().is_success(),
            "{}",
            resp.text().await.unwrap_or_default()
        );
        let app = self.app(unique_name).await.expect("app exists");
        let app_id = app["appId"].as_str().expect("appId").to_string();
        // The sandbox makes a new application visible to this call after its Graph
        // replication window (as Azure does): retry like any client must.
        for attempt in 0.. {
            let resp = self
                .client
                .post(format!("{}/v1.0/servicePrincipals", self.url))
                .bearer_auth(&self.token)
                .json(&serde_json::json!({"appId": app_id}))
                .send()
                .await
                .expect("sp");
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            if status.is_success() {
                break;
            }
            assert!(
                text.contains("NoBackingApplicationObject") && attempt < 200,
                "{text}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        app_id
    }

    async fn get(&self, path: &str) -> Option<Value> {
        let resp = self
            .client
            .get(format!("{}/v1.0/{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("get");
        if resp.status().as_u16() == 404 {
            return None;
        }
        assert!(resp.status().is_success(), "GET {path}");
        Some(resp.json().await.expect("json"))
    }

    async fn app(&self, unique_name: &str) -> Option<Value> {
        self.get(&format!("applications(uniqueName='{unique_name}')"))
            .await
    }

    async fn service_principal(&self, app_id: &str) -> Option<Value> {
        self.get(&format!("servicePrincipals(appId='{app_id}')"))
            .await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_deletes_the_entra_application_and_service_principal() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let other = h.path().join("other.toml");
    std::fs::write(&other, other_env(&h.env_text())).expect("other env");
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    let graph = Graph::new(&h).await;
    let mine = graph
        .create_app("open-webui-sandbox", "Open WebUI (sandbox)")
        .await;
    let theirs = graph
        .create_app("open-webui-other", "Open WebUI (other)")
        .await;

    let run = h.run(&["destroy", "--yes", "--no-progress"]).await;
    run.ok();
    assert!(run.stdout.contains("Destroy complete"), "{}", run.stdout);
    assert!(
        graph.app("open-webui-sandbox").await.is_none(),
        "application deleted"
    );
    assert!(
        graph.service_principal(&mine).await.is_none(),
        "service principal deleted"
    );
    assert!(
        graph.app("open-webui-other").await.is_some(),
        "other app untouched"
    );
    assert!(graph.service_principal(&theirs).await.is_some());
    let ids = h.resource_ids().await;
    assert_eq!(in_group(&ids, "rg-owui-hub-sandbox"), Vec::<String>::new());

    let mark = h.mark().await;
    let again = h.run(&["destroy", "--yes"]).await;
    again.ok();
    assert!(
        again.stdout.contains("Nothing to destroy."),
        "{}",
        again.stdout
    );
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_lists_later_stages_first_and_streams_schema_valid_json() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    let graph = Graph::new(&h).await;
    graph
        .create_app("open-webui-sandbox", "Open WebUI (sandbox)")
        .await;
    let schema = |name: &str| {
        let text = std::fs::read_to_string(cli_support::repo().join("docs/schemas").join(name))
            .expect("schema");
        jsonschema::validator_for(&serde_json::from_str(&text).expect("json")).expect("schema")
    };
    let (plan_schema, event_schema) = (
        schema("plan.v1.schema.json"),
        schema("event.v1.schema.json"),
    );

    let run = h.run(&["destroy", "--yes", "--output", "json"]).await;
    run.ok();
    let mut lines = run.stdout.lines();
    let plan: Value = serde_json::from_str(lines.next().expect("plan line")).expect("json");
    assert!(plan_schema.is_valid(&plan), "{plan:#}");
    let stages: Vec<&str> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["action"] == "delete")
        .filter_map(|c| c["stage"].as_str())
        .collect();
    assert_eq!(
        stages.first(),
        Some(&"spoke"),
        "the Entra app (spoke) first: {stages:?}"
    );
    assert_eq!(stages.last(), Some(&"hub"));
    let labels: Vec<&str> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["label"].as_str())
        .collect();
    let pos = |needle: &str| {
        labels
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {labels:?}"))
    };
    assert!(pos("VNet link") < pos("private DNS zone"), "{labels:?}");
    assert_eq!(pos("hub resource group"), labels.len() - 1, "{labels:?}");
    let mut deletes = 0;
    for line in lines {
        let event: Value = serde_json::from_str(line).expect("json line");
        assert!(event_schema.is_valid(&event), "{event:#}");
        if event["event"] == "succeeded" {
            assert_eq!(event["action"], "delete");
            deletes += 1;
        }
    }
    assert_eq!(deletes, stages.len());
    assert!(
        run.stderr.contains("stays reserved for 7 days"),
        "notes go to stderr with JSON: {}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_foundry_account_is_reported_then_purged() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    // The spoke's resource group and Foundry account, as an earlier deployment left them.
    let group =
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-owui-spoke-sandbox";
    let tags = serde_json::json!({"owui-deploy-env": "sandbox"});
    put_foreign_resource(
        &h,
        group,
        "2024-11-01",
        serde_json::json!({"location": "uksouth", "tags": tags}),
    )
    .await;
    put_foreign_resource(
        &h,
        &format!("{group}/providers/Microsoft.CognitiveServices/accounts/ais-owui-sandbox"),
        "2025-06-01",
        serde_json::json!({
            "location": "swedencentral",
            "kind": "AIServices",
            "sku": {"name": "S0"},
            "tags": tags,
            "properties": {"customSubDomainName": "ais-owui-sandbox", "publicNetworkAccess": "Disabled"}
        }),
    )
    .await;

    let run = h.run(&["destroy", "spoke", "--yes", "--no-progress"]).await;
    run.ok();
    assert!(
        run.stdout.contains(
            "Foundry account ais-owui-sandbox is soft-deleted: its name stays reserved for 48 hours"
        ),
        "{}",
        run.stdout
    );
    let (_, accounts) = deleted(&h).await;
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    assert!(in_group(&h.resource_ids().await, "rg-owui-spoke-sandbox").is_empty());

    let mark = h.mark().await;
    let purge = h.run(&["destroy", "spoke", "--yes", "--purge"]).await;
    purge.ok();
    assert!(
        purge
            .stdout
            .contains("Purged the soft-deleted Foundry account ais-owui-sandbox."),
        "{}",
        purge.stdout
    );
    let writes = h.writes_since(mark).await;
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert!(
        writes[0].starts_with("DELETE ")
            && writes[0].contains("/locations/swedencentral/resourceGroups/rg-owui-spoke-sandbox/deletedAccounts/ais-owui-sandbox"),
        "{writes:#?}"
    );
    let (_, accounts) = deleted(&h).await;
    assert!(accounts.is_empty(), "{accounts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_after_up_leaves_nothing_of_this_environment() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let other = h.path().join("other.toml");
    std::fs::write(&other, other_env(&h.env_text())).expect("other env");
    let other_arg = other.to_str().expect("path");
    h.run(&["up", "--yes", "--no-progress"]).await.ok();
    h.run(&["hub", "--yes", "--no-progress", "--env", other_arg])
        .await
        .ok();
    let graph = Graph::new(&h).await;
    let app_id = graph
        .app("open-webui-sandbox")
        .await
        .expect("up created the application")["appId"]
        .as_str()
        .expect("appId")
        .to_string();
    assert!(graph.service_principal(&app_id).await.is_some());
    let before = h.resource_ids().await;
    let theirs = in_group(&before, "rg-other-hub");
    assert!(!in_group(&before, "rg-owui-spoke-sandbox").is_empty());

    let run = h.run(&["destroy", "--yes", "--no-progress"]).await;
    run.ok();
    for notice in [
        "Key Vault kv-owui-hub-sbx is soft-deleted: its name stays reserved for 7 days",
        "Key Vault kv-owui-spoke-sbx is soft-deleted: its name stays reserved for",
        "Foundry account ais-owui-sandbox is soft-deleted: its name stays reserved for 48 hours",
    ] {
        assert!(run.stdout.contains(notice), "{notice}\n{}", run.stdout);
    }
    let after = h.resource_ids().await;
    let mine: Vec<&String> = after
        .iter()
        .filter(|id| id.contains("/resourcegroups/rg-owui-"))
        .collect();
    assert!(mine.is_empty(), "left behind: {mine:#?}");
    assert_eq!(
        in_group(&after, "rg-other-hub"),
        theirs,
        "other environment untouched"
    );
    assert!(graph.app("open-webui-sandbox").await.is_none());
    assert!(graph.service_principal(&app_id).await.is_none());

    let mark = h.mark().await;
    let again = h.run(&["destroy", "--yes"]).await;
    again.ok();
    assert!(
        again.stdout.contains("Nothing to destroy."),
        "{}",
        again.stdout
    );
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());

    let purge = h.run(&["destroy", "--yes", "--purge"]).await;
    purge.ok();
    let (vaults, accounts) = deleted(&h).await;
    assert!(
        !vaults.iter().any(|v| v.starts_with("kv-owui-")) && accounts.is_empty(),
        "{vaults:?} {accounts:?}"
    );
}
