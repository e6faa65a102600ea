//! The preflight through the CLI against an in-process sandbox (issue 12,
//! issue 10 §3): each check fails alone with its own message and zero writes,
//! all failures are listed at once, an environment's own names and deployments
//! do not count against it, `--skip-preflight` skips it, the JSON report
//! validates against its schema, and soft-deleted names left by `destroy`
//! without `--purge` are named before any write.

mod cli_support;

use cli_support::{Harness, Run, repo};
use serde_json::{Value, json};

const TIME_SCALE: f64 = 0.0005;
const SUB: &str = "00000000-0000-0000-0000-000000000000";

/// The check titles of the FAIL lines of a human report.
fn failed_checks(run: &Run) -> Vec<String> {
    let mut kinds: Vec<String> = run
        .stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("FAIL ["))
        .filter_map(|l| l.split(']').next())
        .map(str::to_string)
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// `plan` (or, for permissions, `up`) refused by the preflight: exit 1, only
/// `kind` failed, `needle` in the report, and nothing written.
async fn refused_alone(h: &Harness, state: Value, kind: &str, needle: &str) {
    h.admin_post("/_sandbox/reset", &json!({})).await;
    h.admin_post("/_sandbox/preflight", &state).await;
    let mark = h.mark().await;
    let args: &[&str] = if kind == "permission" {
        &["up", "--yes", "--no-progress"]
    } else {
        &["plan"]
    };
    let run = h.run(args).await;
    run.expect_code(1);
    assert_eq!(
        failed_checks(&run),
        vec![kind.to_string()],
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(needle), "{needle}\n{}", run.stderr);
    assert!(run.stderr.contains("remedy: "), "{}", run.stderr);
    assert!(
        run.stderr.contains("Nothing was changed."),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("to add"), "no plan: {}", run.stdout);
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());
    if kind == "permission" {
        // `plan` writes nothing and is often run by a read-only identity: it
        // shows the finding and goes on.
        let plan = h.run(&["plan"]).await;
        plan.ok();
        assert!(plan.stderr.contains(needle), "{}", plan.stderr);
        assert!(plan.stderr.contains("The plan goes on"), "{}", plan.stderr);
        assert!(plan.stdout.contains("to add"), "{}", plan.stdout);
    }
}

fn catalog_without_gpt_4o_mini_version() -> Value {
    let sku = |usage: &str| json!([{"name": "GlobalStandard", "usageName": usage}]);
    json!({"swedencentral": [
        {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20", "skus": sku("OpenAI.GlobalStandard.gpt-4o")},
        {"format": "OpenAI", "name": "gpt-4o-mini", "version": "2099-01-01", "skus": sku("OpenAI.GlobalStandard.gpt-4o-mini")},
        {"format": "DeepSeek", "name": "DeepSeek-V3.1", "version": "1", "skus": sku("AIServices.GlobalStandard.MaaS")}
    ]})
}

#[tokio::test(flavor = "multi_thread")]
async fn each_check_fails_alone_with_its_own_message_and_no_write() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    refused_alone(
        &h,
        json!({"taken_names": [{"type": "Microsoft.KeyVault/vaults", "name": "kv-owui-hub-sbx"}]}),
        "name",
        "the name 'kv-owui-hub-sbx' is already taken",
    )
    .await;
    refused_alone(
        &h,
        json!({"taken_names": [{"type": "Microsoft.CognitiveServices/accounts", "name": "ais-owui-sandbox"}]}),
        "name",
        "the custom subdomain 'ais-owui-sandbox' cannot be used",
    )
    .await;
    refused_alone(
        &h,
        json!({"soft_deleted": [{"type": "Microsoft.ApiManagement/service", "name": "apim-owui-sandbox",
            "location": "uksouth", "resource_group": "rg-old", "subscription": SUB}]}),
        "soft-deleted name",
        "owui-deploy destroy --purge",
    )
    .await;
    refused_alone(
        &h,
        json!({"models": catalog_without_gpt_4o_mini_version()}),
        "model",
        "swedencentral does not offer version 2024-07-18 of gpt-4o-mini",
    )
    .await;
    refused_alone(
        &h,
        json!({"usage_limits": {"swedencentral": {"OpenAI.GlobalStandard.gpt-4o": 30}}}),
        "quota",
        "50 (thousands of tokens per minute) needed by model deployment gpt-4o on ais-owui-sandbox, only 30 available",
    )
    .await;
    refused_alone(
        &h,
        json!({"unregistered_providers": ["Microsoft.App"]}),
        "resource provider",
        "--register-providers",
    )
    .await;
    refused_alone(
        &h,
        json!({"permissions": {"actions": ["*"], "notActions": ["Microsoft.Authorization/*/Write"]}}),
        "permission",
        "Microsoft.Authorization/roleAssignments/write",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_failure_is_listed_at_once_and_json_validates() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.admin_post(
        "/_sandbox/preflight",
        &json!({
            "taken_names": [{"type": "Microsoft.Storage/storageAccounts", "name": "stowuisandbox"}],
            "soft_deleted": [{"type": "Microsoft.KeyVault/vaults", "name": "kv-owui-spoke-sbx",
                "location": "uksouth", "subscription": SUB}],
            "models": catalog_without_gpt_4o_mini_version(),
            "usage_limits": {"swedencentral": {"AIServices.GlobalStandard.MaaS": 10}},
            "unregistered_providers": ["Microsoft.DBforPostgreSQL"],
            "permissions": {"actions": ["*/read", "Microsoft.Network/*"], "notActions": []}
        }),
    )
    .await;
    let mark = h.mark().await;
    let run = h.run(&["up", "--yes", "--no-progress"]).await;
    run.expect_code(1);
    assert_eq!(
        failed_checks(&run),
        [
            "model",
            "name",
            "permission",
            "quota",
            "resource provider",
            "soft-deleted name"
        ],
        "{}",
        run.stderr
    );
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());

    let run = h.run(&["preflight", "--output", "json"]).await;
    run.expect_code(1);
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    let schema_text = std::fs::read_to_string(repo().join("docs/schemas/preflight.v1.schema.json"))
        .expect("schema file");
    let schema =
        jsonschema::validator_for(&serde_json::from_str(&schema_text).expect("schema JSON"))
            .expect("schema compiles");
    let errors: Vec<String> = schema.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
    assert_eq!(doc["status"], "failed");
    let kinds: std::collections::BTreeSet<&str> = doc["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "failed")
        .filter_map(|c| c["check"].as_str())
        .collect();
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        [
            "model",
            "name",
            "permission",
            "provider",
            "quota",
            "soft_deleted"
        ]
    );
    // Microsoft Graph writes are never reported as passed.
    assert!(
        doc["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .any(|c| c["check"] == "graph" && c["status"] == "unverified"),
        "{doc:#}"
    );

    // Markdown for the CI step summary.
    let md = h.run(&["preflight", "--output", "markdown"]).await;
    md.expect_code(1);
    assert!(
        md.stdout
            .contains("| Status | Check | Resource | Finding | Remedy |"),
        "{}",
        md.stdout
    );
    // A gate that stops a command appends the report to the job summary.
    let summary = h.path().join("summary.md");
    let summary_var = summary.to_str().expect("path");
    let run = h
        .run_env(&["plan"], &[("GITHUB_STEP_SUMMARY", summary_var)])
        .await;
    run.expect_code(1);
    let text = std::fs::read_to_string(&summary).expect("step summary written");
    assert!(text.starts_with("### Preflight"), "{text}");
    assert!(text.contains("| failed | quota |"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn own_names_and_deployments_pass_after_up_and_skip_is_announced() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let clean = h.run(&["preflight", "--output", "json"]).await;
    clean.ok();
    let doc: Value = serde_json::from_str(&clean.stdout).expect("JSON report");
    assert_eq!(doc["status"], "passed", "{doc:#}");
    assert_eq!(doc["summary"]["failed"], 0);

    h.run(&["up", "--yes", "--no-progress"]).await.ok();
    // Exactly the capacity this environment's deployments already use: they
    // do not count against it.
    h.admin_post(
        "/_sandbox/preflight",
        &json!({"usage_limits": {"swedencentral": {"OpenAI.GlobalStandard.gpt-4o-mini": 100}}}),
    )
    .await;
    let run = h.run(&["plan", "--detailed-exitcode"]).await;
    run.ok();
    assert!(run.stderr.contains("Preflight passed"), "{}", run.stderr);
    assert!(
        run.stdout.contains("No changes"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let report = h.run(&["preflight"]).await;
    report.ok();
    assert!(
        report
            .stdout
            .contains("the name is held by this environment's own resource"),
        "{}",
        report.stdout
    );

    // Someone else's deployment uses the rest: now it does not fit.
    h.admin_post(
        "/_sandbox/preflight",
        &json!({"usage_used_elsewhere": {"swedencentral": {"OpenAI.GlobalStandard.gpt-4o-mini": 1}}}),
    )
    .await;
    let run = h.run(&["plan"]).await;
    run.expect_code(1);
    assert_eq!(failed_checks(&run), ["quota"], "{}", run.stderr);
    assert!(
        run.stderr.contains("these would fit: gpt-4o-mini with SKU"),
        "{}",
        run.stderr
    );

    // --skip-preflight skips it, and says so.
    let run = h.run(&["plan", "--skip-preflight"]).await;
    run.ok();
    assert!(
        run.stderr.contains("Preflight skipped (--skip-preflight)"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn register_providers_is_a_confirmed_write() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.admin_post(
        "/_sandbox/preflight",
        &json!({"unregistered_providers": ["Microsoft.App"]}),
    )
    .await;
    let run = h.run(&["preflight", "--register-providers"]).await;
    run.expect_code(1);
    assert!(run.stderr.contains("add --yes"), "{}", run.stderr);

    let mark = h.mark().await;
    let run = h.run(&["preflight", "--register-providers", "--yes"]).await;
    run.ok();
    assert!(
        run.stdout.contains("Microsoft.App: registered now"),
        "{}",
        run.stdout
    );
    assert_eq!(
        h.writes_since(mark)
            .await
            .iter()
            .map(|w| w.split('?').next().unwrap_or_default().to_string())
            .collect::<Vec<_>>(),
        [format!(
            "POST /subscriptions/{SUB}/providers/Microsoft.App/register"
        )]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_without_purge_is_named_before_any_write_and_purge_frees_the_names() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.run(&["up", "--yes", "--no-progress"]).await.ok();
    h.run(&["destroy", "--yes", "--no-progress"]).await.ok();

    let mark = h.mark().await;
    let run = h.run(&["up", "--yes", "--no-progress"]).await;
    run.expect_code(1);
    assert_eq!(failed_checks(&run), ["soft-deleted name"], "{}", run.stderr);
    for name in [
        "kv-owui-hub-sbx",
        "kv-owui-spoke-sbx",
        "ais-owui-sandbox",
        "apim-owui-sandbox",
    ] {
        assert!(
            run.stderr
                .contains(&format!("named '{name}' still holds the name")),
            "{name}\n{}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("owui-deploy destroy --purge"),
        "{}",
        run.stderr
    );
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());

    // The sandbox lists the soft-deleted APIM service as the example does.
    let (status, list) = h
        .arm_get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.ApiManagement/deletedservices?api-version=2024-06-01-preview"
        ))
        .await;
    assert_eq!(status, 200, "{list:#}");
    let item = &list["value"][0];
    assert_eq!(item["type"], "Microsoft.ApiManagement/deletedservices");
    assert_eq!(item["name"], "apim-owui-sandbox");
    for key in ["serviceId", "scheduledPurgeDate", "deletionDate"] {
        assert!(item["properties"][key].is_string(), "{key}: {item:#}");
    }

    h.run(&["destroy", "--yes", "--purge", "--no-progress"])
        .await
        .ok();
    let run = h.run(&["plan"]).await;
    run.ok();
    assert!(run.stderr.contains("Preflight passed"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn prod_preflight_round_trips_match_the_benchmarks_doc() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let prod = repo().join("environments/prod.toml");
    let run = h
        .run(&[
            "preflight",
            "--output",
            "json",
            "--env",
            prod.to_str().expect("path"),
        ])
        .await;
    run.ok();
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    assert_eq!(doc["status"], "passed", "{doc:#}");
    let trips = doc["round_trips"].as_u64().expect("round_trips");
    let bench = std::fs::read_to_string(repo().join("docs/benchmarks.md")).expect("benchmarks");
    assert!(
        bench.contains(&format!("makes **{trips} round-trips**")),
        "docs/benchmarks.md must say the prod preflight makes {trips} round-trips"
    );
    // Concurrent calls: well under a second against the sandbox, even on a
    // loaded machine (generous bound).
    assert!(
        doc["elapsed_ms"].as_u64().expect("elapsed") < 3000,
        "{doc:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stage_commands_and_apply_file_run_the_preflight_first() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.run(&["plan", "--out", "plan.json"]).await.ok();
    h.admin_post(
        "/_sandbox/preflight",
        &json!({"unregistered_providers": ["Microsoft.KeyVault"]}),
    )
    .await;

    let mark = h.mark().await;
    let run = h.run(&["apply", "plan.json", "--yes"]).await;
    run.expect_code(1);
    assert_eq!(failed_checks(&run), ["resource provider"], "{}", run.stderr);
    let run = h.run(&["hub", "--yes", "--no-progress"]).await;
    run.expect_code(1);
    assert_eq!(failed_checks(&run), ["resource provider"], "{}", run.stderr);
    let run = h
        .run(&["hub", "--no-progress", "--register-providers"])
        .await;
    run.expect_code(1);
    assert!(run.stderr.contains("add --yes"), "{}", run.stderr);
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());

    // Skipped, Azure (the sandbox) refuses part-way, as the preflight said.
    let run = h
        .run(&["hub", "--yes", "--no-progress", "--skip-preflight"])
        .await;
    run.expect_code(1);
    assert!(
        run.stderr.contains("MissingSubscriptionRegistration"),
        "{}",
        run.stderr
    );

    // Registering is the first write; the hub's Key Vault is written after it.
    let mark = h.mark().await;
    h.run(&["hub", "--yes", "--no-progress", "--register-providers"])
        .await
        .ok();
    let writes = h.writes_since(mark).await;
    assert!(
        writes
            .first()
            .is_some_and(|w| w.contains("/providers/Microsoft.KeyVault/register")),
        "{writes:#?}"
    );
    assert!(
        writes
            .iter()
            .any(|w| w.starts_with("PUT ") && w.contains("/vaults/kv-owui-hub-sbx")),
        "{writes:#?}"
    );
    // The run converged what the refused one left half done.
    h.run(&["plan", "hub", "--detailed-exitcode"]).await.ok();
}
