//! The JSON plans of the shipped environments (`environments/dev.toml`,
//! `prod.toml`, `sandbox.toml`) against an empty sandbox are byte-identical to
//! the files committed under `tests/snapshots/plan_<env>.json` (issue 15: the
//! engine's refactoring must not change a single plan).
//!
//! Regenerate after an intended change with
//! `UPDATE_SNAPSHOTS=1 cargo test --test plan_snapshots`.
//!
//! Nothing is stripped from the plans: against an empty sandbox they hold no
//! time stamps and no random IDs. The certificate is a fixed, throwaway byte
//! string (not random), given as `OWUI_CERTIFICATE_PFX_BASE64` to every
//! environment so that those needing one plan the same way every time; the
//! test also checks that it never appears in the plan.

mod cli_support;

use base64::Engine as _;
use cli_support::{Harness, repo};

/// Fast enough for a plan; the plan waits for nothing.
const TIME_SCALE: f64 = 0.0005;

/// `owui-deploy plan --output json` of `environments/{env}.toml` against an
/// empty sandbox, compared with (or, with `UPDATE_SNAPSHOTS`, written to)
/// `tests/snapshots/plan_{env}.json`.
async fn check_plan_snapshot(env: &str) {
    let cli = Harness::start(env, TIME_SCALE).await;
    let bytes: Vec<u8> = (0u16..600).map(|i| (i % 251) as u8).collect();
    let pfx = base64::engine::general_purpose::STANDARD.encode(bytes);
    let cert = [("OWUI_CERTIFICATE_PFX_BASE64", pfx.as_str())];
    let run = cli.run_env(&["plan", "--output", "json"], &cert).await;
    run.ok();
    assert!(
        !run.stdout.contains(&pfx) && !run.stderr.contains(&pfx),
        "the certificate leaked into the plan"
    );
    serde_json::from_str::<serde_json::Value>(&run.stdout).expect("the plan is JSON");

    let snapshot = repo().join(format!("tests/snapshots/plan_{env}.json"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, &run.stdout).expect("write snapshot");
    }
    let expected = std::fs::read_to_string(&snapshot).expect("snapshot (UPDATE_SNAPSHOTS=1)");
    assert!(
        run.stdout == expected,
        "the JSON plan of environments/{env}.toml changed; if intended, run with \
         UPDATE_SNAPSHOTS=1 cargo test --test plan_snapshots\n--- got\n{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_plan_is_unchanged() {
    check_plan_snapshot("dev").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prod_plan_is_unchanged() {
    check_plan_snapshot("prod").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_plan_is_unchanged() {
    check_plan_snapshot("sandbox").await;
}
