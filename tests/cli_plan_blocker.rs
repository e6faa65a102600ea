//! `plan` on the default password path (issue 13, finding 2): a PostgreSQL
//! server whose generated password Key Vault does not hold is a blocker `up`
//! refuses; `plan` reports it as an error (exit 1), never as pending changes.

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
