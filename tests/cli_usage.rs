//! `owui-deploy usage` end to end (issue 16): the built binary against an
//! in-process sandbox that synthesises telemetry for the deployed environment
//! (docs/sandbox.md, "Logs query API") and evaluates the tool's own queries.

mod cli_support;

use cli_support::{Harness, doc_schema_errors, repo};
use serde_json::{Value, json};

const TIME_SCALE: f64 = 0.0005;
/// Hours of synthesised history (`sandbox::logs::HOURS`, documented).
const HOURS: i64 = 72;
const USERS: [&str; 4] = [
    "alice@contoso.com",
    "bob@contoso.com",
    "carol@contoso.com",
    "dave@contoso.com",
];

/// The documented mix: user `u`, model `m` (deployments sorted by name) make one
/// request of `100 * (u + 1) + 10 * (m + 1)` tokens per hour.
fn tokens(u: usize, m: usize) -> i64 {
    100 * (u as i64 + 1) + 10 * (m as i64 + 1)
}

/// The models of environments/sandbox.toml, in deployment-name order.
fn models() -> Vec<String> {
    let env: owui_deploy::config::Environment = toml::from_str(
        &std::fs::read_to_string(repo().join("environments/sandbox.toml")).expect("env"),
    )
    .expect("parses");
    let mut d: Vec<(String, String)> = env
        .foundry
        .deployments
        .iter()
        .map(|d| (d.name.clone(), d.model.clone()))
        .collect();
    d.sort();
    d.into_iter().map(|(_, m)| m).collect()
}

/// The `customerId` of the environment's workspace (the ID the query API takes).
async fn customer_id(cli: &Harness) -> String {
    let env = owui_deploy::config::load(&cli.env_file).expect("env").env;
    let workspace = owui_deploy::stages::Ids::new(&env).log_analytics();
    let (status, ws) = cli
        .arm_get(&format!("{workspace}?api-version=2025-02-01"))
        .await;
    assert_eq!(status, 200, "{ws:#}");
    ws["properties"]["customerId"]
        .as_str()
        .expect("customerId")
        .to_string()
}

fn json_of(stdout: &str) -> Value {
    let doc: Value = serde_json::from_str(stdout).expect("usage JSON");
    let errors = doc_schema_errors("usage.v1.schema.json", &doc);
    assert!(errors.is_empty(), "{errors:#?}");
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_reports_the_synthesised_totals_after_up() {
    let cli = Harness::start("sandbox", TIME_SCALE).await;
    // Before finalize wires the gateway logs, the workspace has no data.
    cli.run(&["hub", "--yes", "--no-progress"]).await.ok();
    let empty = cli.run(&["usage", "--by", "user"]).await;
    empty.ok();
    assert!(empty.stdout.contains("No data yet"), "{}", empty.stdout);

    cli.run(&["up", "--yes", "--no-progress"]).await.ok();
    let models = models();

    // --by user, JSON: one row per user and model with the documented totals.
    let run = cli
        .run(&["usage", "--by", "user", "--output", "json"])
        .await;
    run.ok();
    let doc = json_of(&run.stdout);
    assert_eq!(doc["report"], "user");
    assert_eq!(doc["timespan"], "P7D");
    let rows = doc["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), USERS.len() * models.len(), "{rows:#?}");
    for (u, user) in USERS.iter().enumerate() {
        for (m, model) in models.iter().enumerate() {
            let row = rows
                .iter()
                .find(|r| r["User"] == *user && r["Model"] == model.as_str())
                .unwrap_or_else(|| panic!("no row for {user} / {model}"));
            assert_eq!(row["Tokens"].as_f64(), Some((HOURS * tokens(u, m)) as f64));
        }
    }

    // --by model, human: the per-model totals in a table.
    let run = cli.run(&["usage", "--by", "model"]).await;
    run.ok();
    assert!(
        run.stdout.starts_with("Tokens per model (last 7d)"),
        "{}",
        run.stdout
    );
    for (m, model) in models.iter().enumerate() {
        let total: i64 = (0..USERS.len()).map(|u| HOURS * tokens(u, m)).sum();
        let line = run
            .stdout
            .lines()
            .find(|l| l.starts_with(model.as_str()) && l.split_whitespace().next() == Some(model))
            .unwrap_or_else(|| panic!("no line for {model}:\n{}", run.stdout));
        assert_eq!(
            line.split_whitespace().last(),
            Some(total.to_string().as_str()),
            "{line}"
        );
    }

    // A shorter window, CSV.
    let run = cli
        .run(&["usage", "--by", "user", "--since", "1d", "--output", "csv"])
        .await;
    run.ok();
    let mut lines = run.stdout.lines();
    assert_eq!(lines.next(), Some("User,Model,Tokens"));
    let body: Vec<&str> = lines.collect();
    assert_eq!(body.len(), USERS.len() * models.len());
    let expected = format!("{},{},{}", USERS[0], models[0], 24 * tokens(0, 0));
    assert!(body.contains(&expected.as_str()), "{expected} in {body:#?}");

    // The synthesised tables have only documented columns, with their documented types.
    let documented: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/kql/tables.json")).expect("tables.json"),
    )
    .expect("tables.json parses");
    let customer = customer_id(&cli).await;
    let customer = customer.as_str();
    for table in [
        "AppMetrics",
        "ApiManagementGatewayLogs",
        "ApiManagementGatewayLlmLog",
    ] {
        let (status, body) = cli
            .logs_query(
                customer,
                &format!("{table} | take 1"),
                "https://api.loganalytics.io/.default",
            )
            .await;
        assert_eq!(status, 200, "{body:#}");
        let columns = body["tables"][0]["columns"].as_array().expect("columns");
        assert!(!columns.is_empty());
        for c in columns {
            let name = c["name"].as_str().expect("name");
            assert_eq!(
                documented[table][name], c["type"],
                "{table}.{name} is not a documented column of that type"
            );
        }
    }

    // Every other report answers, JSON valid.
    for by in ["key", "ip", "backend", "deployment", "throttled"] {
        let run = cli.run(&["usage", "--by", by, "--output", "json"]).await;
        run.ok();
        let doc = json_of(&run.stdout);
        assert!(
            !doc["rows"].as_array().expect("rows").is_empty(),
            "{by}: {doc:#}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_without_read_access_names_the_role() {
    let cli = Harness::start("sandbox", TIME_SCALE).await;
    cli.run(&["hub", "--yes", "--no-progress"]).await.ok();
    let customer = customer_id(&cli).await;
    let customer = customer.as_str();
    // The query API refuses KQL outside the evaluated subset as Azure does, and
    // tokens for another audience.
    let logs = "https://api.loganalytics.io/.default";
    let (status, body) = cli
        .logs_query(
            customer,
            "AppMetrics | join (AppRequests) on OperationId",
            logs,
        )
        .await;
    assert_eq!(status, 400, "{body:#}");
    assert_eq!(body["error"]["code"], "BadArgumentError");
    assert_eq!(body["error"]["innererror"]["code"], "SyntaxError");
    let (status, body) = cli.logs_query(customer, "AppMetrcs | take 1", logs).await;
    assert_eq!(status, 400, "{body:#}");
    assert_eq!(body["error"]["innererror"]["code"], "SemanticError");
    let (status, _) = cli
        .logs_query(
            customer,
            "AppMetrics | take 1",
            "https://management.azure.com/.default",
        )
        .await;
    assert_eq!(status, 401);
    cli.admin_post(
        "/_sandbox/faults",
        &json!({"rules": [{
            "method": "POST",
            "path": "/v1/workspaces/*",
            "kind": "status",
            "status": 403,
            "code": "InsufficientAccessError",
            "message": "The provided credentials have insufficient access to perform the requested operation",
            "count": 10
        }]}),
    )
    .await;
    let run = cli.run(&["usage"]).await;
    run.expect_code(1);
    assert!(
        run.stderr.contains("Log Analytics Reader"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("InsufficientAccessError"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_before_the_hub_says_what_to_run() {
    let cli = Harness::start("sandbox", TIME_SCALE).await;
    let run = cli.run(&["usage", "--by", "model"]).await;
    run.expect_code(1);
    assert!(run.stderr.contains("owui-deploy hub"), "{}", run.stderr);
    let bad = cli.run(&["usage", "--by", "nobody"]).await;
    bad.expect_code(2);
    let bad = cli.run(&["usage", "--since", "9y"]).await;
    bad.expect_code(1);
    assert!(bad.stderr.contains("--since 9y"), "{}", bad.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workbook_switch_adds_and_removes_the_workbook() {
    let cli = Harness::start("sandbox", TIME_SCALE).await;
    cli.run(&["up", "--yes", "--no-progress"]).await.ok();
    let workbooks = |ids: Vec<String>| -> Vec<String> {
        ids.into_iter()
            .filter(|id| {
                id.to_ascii_lowercase()
                    .contains("/microsoft.insights/workbooks/")
            })
            .collect()
    };
    assert_eq!(workbooks(cli.resource_ids().await).len(), 1);
    cli.write_env(&format!("{}\n[usage]\nworkbook = false\n", cli.env_text()));
    let plan = cli.run(&["plan", "--output", "json"]).await;
    plan.ok();
    let doc: Value = serde_json::from_str(&plan.stdout).expect("plan JSON");
    let changes: Vec<&Value> = doc["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| c["action"] != "no_op" && c["action"] != "read")
        .collect();
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0]["action"], "delete", "{changes:#?}");
    assert!(
        changes[0]["address"]
            .as_str()
            .is_some_and(|a| a.contains("/workbooks/")),
        "{changes:#?}"
    );
    cli.run(&["up", "--yes", "--no-progress"]).await.ok();
    assert!(workbooks(cli.resource_ids().await).is_empty());
    let plan = cli.run(&["plan"]).await;
    plan.ok();
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
}
