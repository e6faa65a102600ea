//! Pipelines through the CLI against an in-process sandbox (issue 6): saved
//! plans and their refusal when stale, `--detailed-exitcode`, JSON output checked
//! against the documented schemas, the Markdown plan, non-terminal behaviour,
//! secrets kept out of plan files, shell completions.

mod cli_support;

use cli_support::{Harness, repo};
use serde_json::Value;
use std::collections::BTreeMap;

const TIME_SCALE: f64 = 0.0005;
const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000000";
const EXIT_STALE: i32 = 3;

fn hub(id: &str) -> String {
    format!("{SUB}/resourceGroups/rg-owui-hub-sandbox{id}")
}

/// Someone changes a resource directly in "Azure" (outside the tool).
async fn patch_tags(h: &Harness, id: &str, api_version: &str, tags: Value) {
    h.arm_send(
        reqwest::Method::PATCH,
        &format!("{id}?api-version={api_version}"),
        &serde_json::json!({ "tags": tags }),
    )
    .await;
}

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

fn schema(name: &str) -> jsonschema::Validator {
    let doc = read_json(&repo().join("docs/schemas").join(name));
    jsonschema::validator_for(&doc).expect("schema compiles")
}

fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match the schema: {errors:#?}\n{instance:#}"
    );
}

/// `METHOD lower-case-path-without-query` of every ARM/Graph write since `mark`.
async fn writes(h: &Harness, mark: usize) -> Vec<String> {
    h.writes_since(mark)
        .await
        .into_iter()
        .map(|w| w.split('?').next().unwrap_or_default().to_ascii_lowercase())
        .collect()
}

/// The writes a saved plan announces: `METHOD lower-case-address` per change.
fn planned_writes(plan_file: &Value) -> Vec<String> {
    let mut out: Vec<String> = plan_file["plan"]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| {
            let address = c
                .get("target")
                .or_else(|| c.get("address"))?
                .as_str()?
                .to_ascii_lowercase();
            match c["action"].as_str()? {
                "create" | "update" => Some(format!("put {address}")),
                "delete" => Some(format!("delete {address}")),
                _ => None,
            }
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_plan_applies_exactly_the_planned_writes() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let plan_path = h.path().join("out/plan.json");
    let mark = h.mark().await;
    let plan = h
        .run(&["plan", "hub", "--out", plan_path.to_str().expect("path")])
        .await;
    plan.ok();
    assert_eq!(
        writes(&h, mark).await,
        Vec::<String>::new(),
        "plans only read"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&plan_path)
            .expect("plan file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "plan file mode {mode:o}");
    }
    let file = read_json(&plan_path);
    assert_eq!(file["plan_file_version"], 1);
    assert_eq!(file["tool_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(file["environment"], "sandbox");
    assert_eq!(file["stages"], serde_json::json!(["hub"]));
    assert_eq!(
        file["subscriptions"],
        serde_json::json!(["00000000-0000-0000-0000-000000000000"])
    );
    let env_digest = format!(
        "sha256:{}",
        owui_deploy::config::load(&h.env_file)
            .expect("env loads")
            .digest
    )
    .replace("sha256:sha256:", "sha256:");
    assert_eq!(file["environment_digest"], Value::String(env_digest));
    let templates: Vec<&str> = file["templates"]
        .as_array()
        .expect("templates")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(templates, ["nsg-rules", "routes"]);
    let expected = planned_writes(&file);
    // 23 hub resources: sandbox.toml's [redis] adds privatelink.redis.azure.net and its link.
    assert_eq!(expected.len(), 23, "{expected:#?}");

    // Nobody can confirm: refused, nothing written.
    let mark = h.mark().await;
    let refused = h.run(&["apply", plan_path.to_str().expect("path")]).await;
    refused.expect_code(1);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(writes(&h, mark).await, Vec::<String>::new());

    // Applied: exactly the planned writes, each once. The environment file comes
    // from the plan (no --env, no OWUI_ENV).
    let mark = h.mark().await;
    let mut cmd = h.command(&["apply", plan_path.to_str().expect("path"), "--yes"]);
    cmd.env_remove("OWUI_ENV");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Apply complete"));
    let mut done = writes(&h, mark).await;
    done.sort();
    assert_eq!(done, expected);

    // Converged; the same plan again is now stale (everything exists).
    h.run(&["plan", "hub", "--detailed-exitcode"]).await.ok();
    let mark = h.mark().await;
    let again = h
        .run(&["apply", plan_path.to_str().expect("path"), "--yes"])
        .await;
    again.expect_code(EXIT_STALE);
    assert!(again.stderr.contains("now exists"), "{}", again.stderr);
    assert_eq!(writes(&h, mark).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resource_changed_after_the_plan_makes_apply_refuse() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    // A reviewed change: a new tag on every resource.
    h.write_env(&h.env_text().replace(
        "purpose = \"sandbox\"",
        "purpose = \"sandbox\"\nowner = \"platform\"",
    ));
    let plan = h.run(&["plan", "hub", "--out", "plan.json"]).await;
    plan.ok();
    assert!(plan.stdout.contains("to change"), "{}", plan.stdout);

    // Meanwhile someone edits the NSG's tags in the portal.
    let nsg = hub("/providers/Microsoft.Network/networkSecurityGroups/nsg-apim");
    patch_tags(
        &h,
        &nsg,
        "2024-05-01",
        serde_json::json!({"owui-deploy-env": "sandbox", "purpose": "sandbox", "cost-centre": "42"}),
    )
    .await;

    let mark = h.mark().await;
    let run = h.run(&["apply", "plan.json", "--yes"]).await;
    run.expect_code(EXIT_STALE);
    assert!(run.stderr.contains("the plan is stale"), "{}", run.stderr);
    assert!(run.stderr.contains("nsg-apim"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("vnet-hub"),
        "only the changed resource is named: {}",
        run.stderr
    );
    assert_eq!(writes(&h, mark).await, Vec::<String>::new(), "zero writes");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_environment_file_or_another_tool_version_makes_apply_refuse() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.run(&["plan", "hub", "--out", "plan.json"]).await.ok();
    let original = h.env_text();

    h.write_env(&format!("{original}\n# edited after the plan\n"));
    let mark = h.mark().await;
    let run = h.run(&["apply", "plan.json", "--yes"]).await;
    run.expect_code(EXIT_STALE);
    assert!(
        run.stderr.contains("environment file") && run.stderr.contains("changed"),
        "{}",
        run.stderr
    );
    assert_eq!(h.journal().await.len(), mark, "not even a read");

    // Same environment, but the plan claims another tool version.
    h.write_env(&original);
    let path = h.path().join("plan.json");
    let mut file = read_json(&path);
    file["tool_version"] = Value::String("0.0.0-other".into());
    std::fs::write(&path, serde_json::to_string(&file).expect("json")).expect("write");
    let run = h.run(&["apply", "plan.json", "--yes"]).await;
    run.expect_code(EXIT_STALE);
    assert!(run.stderr.contains("0.0.0-other"), "{}", run.stderr);
    assert_eq!(h.journal().await.len(), mark, "not even a read");
}

#[tokio::test(flavor = "multi_thread")]
async fn detailed_exitcode_distinguishes_changes_no_changes_and_errors() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.run(&["plan", "hub", "--detailed-exitcode"])
        .await
        .expect_code(2);
    // Without the flag, changes still exit 0.
    h.run(&["plan", "hub"]).await.ok();
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    let none = h.run(&["plan", "hub", "--detailed-exitcode"]).await;
    none.ok();
    assert!(none.stdout.contains("No changes."), "{}", none.stdout);
    let missing = h
        .run(&[
            "plan",
            "hub",
            "--detailed-exitcode",
            "--env",
            "does-not-exist.toml",
        ])
        .await;
    missing.expect_code(1);
}

#[tokio::test(flavor = "multi_thread")]
async fn json_output_follows_the_documented_schemas() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let plan_schema = schema("plan.v1.schema.json");
    let event_schema = schema("event.v1.schema.json");

    let plan = h
        .run(&["plan", "hub", "--output", "json", "--out", "plan.json"])
        .await;
    plan.ok();
    let doc: Value = serde_json::from_str(&plan.stdout).expect("one JSON document");
    assert_valid(&plan_schema, &doc, "plan document");
    assert_eq!(doc["has_changes"], true);

    // apply FILE --output json: the plan document on the first line, then events.
    let run = h
        .run(&["apply", "plan.json", "--yes", "--output", "json"])
        .await;
    run.ok();
    let mut lines = run.stdout.lines();
    let first: Value = serde_json::from_str(lines.next().expect("plan line")).expect("JSON");
    assert_valid(&plan_schema, &first, "plan document before apply");
    let mut events: BTreeMap<String, usize> = BTreeMap::new();
    for line in lines {
        let event: Value = serde_json::from_str(line).expect("each line is JSON");
        assert_valid(&event_schema, &event, "event");
        *events
            .entry(event["event"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    assert_eq!(events.get("started"), Some(&23), "{events:?}");
    assert_eq!(events.get("succeeded"), Some(&23), "{events:?}");
    assert!(events.contains_key("polled"), "APIM is polled: {events:?}");

    // A stage command's stream has the same shape.
    h.write_env(&h.env_text().replace(
        "purpose = \"sandbox\"",
        "purpose = \"sandbox\"\nowner = \"platform\"",
    ));
    let run = h.run(&["hub", "--yes", "--output", "json"]).await;
    run.ok();
    let mut lines = run.stdout.lines();
    let first: Value = serde_json::from_str(lines.next().expect("plan line")).expect("JSON");
    assert_valid(&plan_schema, &first, "plan document before hub");
    let mut n = 0;
    for line in lines {
        let event: Value = serde_json::from_str(line).expect("each line is JSON");
        assert_valid(&event_schema, &event, "event");
        n += 1;
    }
    assert!(n > 0, "update events");
    assert!(!run.stdout.contains('\x1b'), "no colours");
}

/// The Markdown plan of the hub against an empty sandbox, compared with
/// `tests/snapshots/plan_hub.md` (regenerate with `UPDATE_SNAPSHOTS=1`).
#[tokio::test(flavor = "multi_thread")]
async fn markdown_plan_matches_the_snapshot_and_goes_to_the_step_summary() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let summary = h.path().join("step-summary.md");
    std::fs::write(&summary, "# earlier step\n").expect("summary");
    let mut cmd = h.command(&["plan", "hub", "--output", "markdown"]);
    cmd.env("GITHUB_STEP_SUMMARY", &summary);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let markdown = String::from_utf8(out.stdout).expect("utf-8");
    let normalised = markdown.replace(&h.sandbox.url(), "https://SANDBOX");
    let snapshot = repo().join("tests/snapshots/plan_hub.md");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(snapshot.parent().expect("dir")).expect("mkdir");
        std::fs::write(&snapshot, &normalised).expect("write snapshot");
    }
    let expected = std::fs::read_to_string(&snapshot).expect("snapshot (UPDATE_SNAPSHOTS=1)");
    assert_eq!(
        normalised, expected,
        "the Markdown plan changed; if intended, run with UPDATE_SNAPSHOTS=1"
    );
    assert!(markdown.contains("| hub | 23 | 0 | 0 | 0 |"), "{markdown}");
    assert!(markdown.contains("<details><summary>"), "{markdown}");

    // Appended to the step summary, for the human format too.
    let mut cmd = h.command(&["plan", "hub"]);
    cmd.env("GITHUB_STEP_SUMMARY", &summary);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run");
    assert!(out.status.success());
    let written = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        written.starts_with("# earlier step\n"),
        "appended, not replaced"
    );
    assert_eq!(written.matches(markdown.trim_end()).count(), 2, "{written}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_terminal_there_are_no_colours_no_bars_and_no_prompts() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    // Not even without NO_COLOR: standard output is not a terminal.
    let mut cmd = h.command(&["plan", "hub"]);
    cmd.env_remove("NO_COLOR");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("join")
        .expect("run");
    assert!(out.status.success());
    assert!(
        !out.stdout.contains(&0x1b),
        "no escape sequences in the plan"
    );

    let mark = h.mark().await;
    let run = h.run(&["hub"]).await;
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("refusing to apply without --yes: standard input is not a terminal"),
        "{}",
        run.stderr
    );
    assert_eq!(writes(&h, mark).await, Vec::<String>::new());

    let run = h.run(&["hub", "--yes"]).await;
    run.ok();
    assert!(!run.stderr.contains('\x1b') && !run.stdout.contains('\x1b'));
    // Plain progress lines, not bars.
    assert!(run.stderr.contains(": created in "), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_files_never_contain_secrets_tokens_or_the_openapi_document() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    const PASSWORD: &str = "Kn0wn-Pg-Passw0rd!xyz";
    let pfx = "S05PV04tUEZYLUJZVEVTLWZvci10aGUtdGVzdA=="; // base64 of a known marker
    // With the hub in place, its live values (App Insights' connection string
    // among them) are read while planning the later stages.
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    for stage in ["spoke", "all"] {
        let file = format!("plan-{stage}.json");
        let mut cmd = h.command(&["plan", stage, "--out", &file]);
        cmd.env("OWUI_POSTGRES_ADMIN_PASSWORD", PASSWORD)
            .env("OWUI_CERTIFICATE_PFX_BASE64", pfx);
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("join")
            .expect("run");
        assert!(
            out.status.success(),
            "plan {stage}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(h.path().join(&file)).expect("plan file");
        for needle in [
            PASSWORD,
            "Kn0wn-Pg-Passw0rd",
            pfx,
            "S05PV04tUEZY",
            "eyJ",
            "InstrumentationKey=",
        ] {
            assert!(!text.contains(needle), "{file} contains {needle}");
        }
        let lower = text.to_ascii_lowercase();
        assert!(!lower.contains("bearer "), "{file} holds no token");
        assert!(!lower.contains("access_token"), "{file} holds no token");
        // The OpenAPI document is kept as a digest, not inline.
        let bundled = owui_deploy::stages::openapi::BUNDLED;
        let probe: String = bundled.chars().skip(200).take(300).collect();
        assert!(!text.contains(&probe), "{file} holds the OpenAPI document");
        let doc: Value = serde_json::from_str(&text).expect("JSON");
        let mut longest = 0;
        fn walk(v: &Value, longest: &mut usize) {
            match v {
                Value::String(s) => *longest = (*longest).max(s.len()),
                Value::Array(a) => a.iter().for_each(|x| walk(x, longest)),
                Value::Object(o) => o.values().for_each(|x| walk(x, longest)),
                _ => {}
            }
        }
        walk(&doc, &mut longest);
        assert!(longest <= 4096, "{file}: a {longest}-byte string");
        if stage == "all" {
            assert!(text.contains("${secret:postgres-admin-password}"));
            let names: Vec<&str> = doc["templates"]
                .as_array()
                .expect("templates")
                .iter()
                .filter_map(|t| t["name"].as_str())
                .collect();
            assert_eq!(names, ["nsg-rules", "routes", "policy", "openapi"]);
            assert!(doc["certificate"].as_bool().expect("certificate flag"));
        }
    }
}

#[test]
fn completions_are_printed_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_owui-deploy"))
            .args(["completions", shell])
            .output()
            .expect("run");
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains("owui-deploy"), "{shell}: {script}");
        assert!(script.contains("destroy"), "{shell} completes subcommands");
        assert!(
            script.contains("detailed-exitcode"),
            "{shell} completes flags"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_template_makes_apply_refuse() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let policy = h.path().join("policy.xml");
    std::fs::copy(repo().join("templates/policies/openai-api.xml"), &policy).expect("copy");
    h.write_env(&h.env_text().replace(
        "publisher_name = \"Contoso AI Platform\"",
        "publisher_name = \"Contoso AI Platform\"\npolicy_file = \"policy.xml\"",
    ));
    let plan = h.run(&["plan", "all", "--out", "plan.json"]).await;
    plan.ok();
    let file = read_json(&h.path().join("plan.json"));
    let policy_entry = file["templates"]
        .as_array()
        .expect("templates")
        .iter()
        .find(|t| t["name"] == "policy")
        .cloned()
        .expect("policy template recorded");
    assert!(
        policy_entry["source"]
            .as_str()
            .unwrap_or_default()
            .ends_with("policy.xml"),
        "{policy_entry}"
    );

    let mut text = std::fs::read_to_string(&policy).expect("policy");
    text.push_str("\n<!-- edited after the plan -->\n");
    std::fs::write(&policy, text).expect("edit policy");
    let mark = h.mark().await;
    let run = h.run(&["apply", "plan.json", "--yes"]).await;
    run.expect_code(EXIT_STALE);
    assert!(
        run.stderr.contains("template policy") && run.stderr.contains("changed"),
        "{}",
        run.stderr
    );
    assert_eq!(h.journal().await.len(), mark, "nothing was requested");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_of_every_stage_applies_and_converges() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let plan = h
        .run(&["plan", "--out", "plan.json", "--detailed-exitcode"])
        .await;
    plan.expect_code(2);
    let file = read_json(&h.path().join("plan.json"));
    let planned = file["plan"]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| {
            matches!(
                c["action"].as_str(),
                Some("create" | "update" | "replace" | "delete")
            )
        })
        .count();
    assert!(planned > 60, "{planned}");

    let run = h
        .run(&["apply", "plan.json", "--yes", "--output", "json"])
        .await;
    run.ok();
    let event_schema = schema("event.v1.schema.json");
    let mut succeeded = 0;
    for line in run.stdout.lines().skip(1) {
        let event: Value = serde_json::from_str(line).expect("JSON line");
        assert_valid(&event_schema, &event, "event");
        if event["event"] == "succeeded" && event["action"] != "no_op" && event["action"] != "read"
        {
            succeeded += 1;
        }
    }
    assert_eq!(succeeded, planned, "every planned write, and only those");
    h.run(&["plan", "--detailed-exitcode"]).await.ok();
}
