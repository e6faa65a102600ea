//! `plan` and saved plans on the default password path (issue 13, finding 2): a PostgreSQL
//! server whose generated password Key Vault does not hold is a blocker `up`
//! refuses; `plan` reports it as an error (exit 1), never as pending changes. A
//! run stopped before the password was in use is repaired, also by a saved plan.

mod cli_support;

use cli_support::Harness;

const TIME_SCALE: f64 = 0.0005;
const SECRET: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-owui-spoke-sandbox/providers/Microsoft.KeyVault/vaults/kv-owui-spoke-sbx/secrets/postgres-admin-password?api-version=2024-11-01";

#[tokio::test(flavor = "multi_thread")]
async fn plan_reports_a_server_without_its_stored_password_as_an_error() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    // The default path: no OWUI_POSTGRES_ADMIN_PASSWORD (the harness removes it).
    h.run(&["up", "--yes", "--no-progress"]).await.ok();
    h.run(&["plan", "--detailed-exitcode"]).await.ok();

    // The state an interruption between the server and its secret used to leave.
    h.arm_send(reqwest::Method::DELETE, SECRET, &serde_json::Value::Null)
        .await;
    for args in [vec!["plan"], vec!["plan", "--detailed-exitcode"]] {
        let run = h.run(&args).await;
        run.expect_code(1);
        assert!(
            run.stderr
                .contains("password secret in Key Vault is missing"),
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("blocker"), "{args:?}: {}", run.stderr);
        assert!(
            !run.stdout.contains("Plan:"),
            "no plan shown: {}",
            run.stdout
        );
    }
    // With the password given, the same state plans (and converges).
    let run = h
        .run_env(
            &["plan"],
            &[("OWUI_POSTGRES_ADMIN_PASSWORD", "Given-Pa55word!x")],
        )
        .await;
    run.ok();
}

const CONNECTION: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-owui-spoke-sandbox/providers/Microsoft.KeyVault/vaults/kv-owui-spoke-sbx/secrets/postgres-connection-string?api-version=2024-11-01";

/// The state a run stopped between the server and the connection string leaves:
/// `plan` shows the repair (a new password everywhere), and a saved plan of it
/// applies and converges.
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_of_the_password_repair_applies_and_converges() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.run(&["up", "--yes", "--no-progress"]).await.ok();
    h.arm_send(
        reqwest::Method::DELETE,
        CONNECTION,
        &serde_json::Value::Null,
    )
    .await;
    let plan = h.run(&["plan", "--out", "plan.json"]).await;
    plan.ok();
    assert!(
        plan.stderr
            .contains("a new one is set on the server and in Key Vault"),
        "{}",
        plan.stderr
    );
    let mark = h.mark().await;
    h.run(&["apply", "plan.json", "--yes", "--no-progress"])
        .await
        .ok();
    let writes = h.writes_since(mark).await;
    for part in [
        "/secrets/postgres-admin-password",
        "/secrets/postgres-connection-string",
        "/flexibleservers/psql-owui-sandbox?",
    ] {
        assert!(
            writes.iter().any(|w| w.to_ascii_lowercase().contains(part)),
            "{part} written: {writes:#?}"
        );
    }
    h.run(&["plan", "--detailed-exitcode"]).await.ok();
}
