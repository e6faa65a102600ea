//! No internal placeholder (`${ref:...}`, `${secret:...}`) reaches a person: plans
//! in every format, progress lines and the JSON event stream, and error messages,
//! through the binary against an in-process sandbox (issue 10 §4). Addresses that
//! hold a value not known yet read "(known after apply)"; once known, the resolved
//! address is shown.

mod cli_support;

use cli_support::{Harness, Run};
use serde_json::{Value, json};

const TIME_SCALE: f64 = 0.0005;

/// Every stream of every run, with what produced it.
#[derive(Default)]
struct Seen(Vec<(String, String)>);

impl Seen {
    fn add(&mut self, what: &str, run: &Run) {
        self.0
            .push((format!("{what} (stdout)"), run.stdout.clone()));
        self.0
            .push((format!("{what} (stderr)"), run.stderr.clone()));
    }

    fn assert_no_marker(&self) {
        for (what, text) in &self.0 {
            if let Some(at) = text.find("${") {
                let line = text[..at].rsplit('\n').next().unwrap_or_default();
                let rest = text[at..].split('\n').next().unwrap_or_default();
                panic!("{what} shows an internal marker: {line}{rest}");
            }
        }
    }
}

/// The service principal's upsert is refused (the application is created first,
/// so its `appId` is known when the failure is reported).
fn refuse_service_principal() -> Value {
    let rule = |method: &str| {
        json!({
            "method": method,
            "path": "servicePrincipals",
            "kind": "status",
            "status": 403,
            "code": "Authorization_RequestDenied",
            "message": "Insufficient privileges to complete the operation.",
            "probability": 1.0
        })
    };
    json!({"rules": [rule("PATCH"), rule("POST")]})
}

#[tokio::test]
async fn plans_progress_and_errors_never_show_internal_markers() {
    let cli = Harness::start("sandbox", TIME_SCALE).await;
    let mut seen = Seen::default();

    // Before anything exists: the Container Apps zone's name is not known.
    let plan = cli.run(&["plan"]).await;
    plan.ok();
    assert!(
        plan.stdout.contains("privateDnsZones/(known after apply)"),
        "{}",
        plan.stdout
    );
    seen.add("plan", &plan);
    let json_plan = cli.run(&["plan", "--output", "json"]).await;
    json_plan.ok();
    let doc: Value = serde_json::from_str(&json_plan.stdout).expect("plan JSON");
    assert!(doc["changes"].as_array().is_some_and(|c| !c.is_empty()));
    seen.add("plan --output json", &json_plan);
    let md = cli.run(&["plan", "--output", "markdown"]).await;
    md.ok();
    seen.add("plan --output markdown", &md);

    // A failed service principal is reported under its resolved address.
    cli.admin_post("/_sandbox/faults", &refuse_service_principal())
        .await;
    let failed = cli.run(&["up", "--yes", "--no-progress"]).await;
    assert_ne!(failed.code, 0, "{}", failed.stderr);
    let app_id = cli
        .graph_get("/v1.0/applications?$filter=uniqueName eq 'open-webui-sandbox'")
        .await
        .1["value"][0]["appId"]
        .as_str()
        .map(str::to_string)
        .expect("the application was created before its service principal");
    assert!(
        failed
            .stderr
            .contains(&format!("servicePrincipals(appId='{app_id}')")),
        "{}",
        failed.stderr
    );
    seen.add("up with the service principal refused", &failed);
    let events = cli
        .run(&["up", "--yes", "--no-progress", "--output", "json"])
        .await;
    seen.add("up --output json (event stream), still refused", &events);

    // Then it converges; the plans after it show resolved addresses only.
    clear_faults(&cli).await;
    let up = cli.run(&["up", "--yes", "--no-progress"]).await;
    up.ok();
    seen.add("up", &up);
    for args in [
        &["plan"][..],
        &["plan", "--output", "json"][..],
        &["plan", "--output", "markdown"][..],
    ] {
        let run = cli.run(args).await;
        run.ok();
        seen.add(&args.join(" "), &run);
    }
    seen.assert_no_marker();
}

/// Clears the sandbox's fault rules.
async fn clear_faults(cli: &Harness) {
    cli.admin_post("/_sandbox/faults", &json!({"rules": []}))
        .await;
}
