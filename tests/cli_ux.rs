//! The CLI behaving like its peers (issue 14), through the binary: a closed pipe
//! is a quiet exit, each flag only on the commands that use it, one `--output`
//! flag, `validate` counting as `plan` does, and `destroy --dry-run` writing
//! nothing.

mod cli_support;

use cli_support::{Harness, repo};
use std::process::{Command, Stdio};

const TIME_SCALE: f64 = 0.0005;

/// The binary with no environment variables that would point it elsewhere.
fn bare(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_owui-deploy"));
    cmd.current_dir(repo())
        .env_remove("OWUI_ENV")
        .env_remove("OWUI_AUTH")
        .env_remove("OWUI_SANDBOX_URL")
        .env_remove("OWUI_SANDBOX_CA")
        .env_remove("OWUI_CERTIFICATE_PFX_BASE64")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1")
        .args(args);
    cmd
}

/// Run `cmd` with a standard output whose reading end is already closed (as
/// after `| head -1` or `| true`): (exit code, standard error).
fn with_closed_stdout(mut cmd: Command) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = cmd
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .output()
        .expect("run owui-deploy");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_quiet_exit(what: &str, (code, stderr): (Option<i32>, String)) {
    assert_eq!(code, Some(0), "{what}: exit {code:?}\n{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{what}:\n{stderr}"
    );
}

#[test]
fn a_closed_pipe_is_a_quiet_exit_for_local_commands() {
    assert_quiet_exit(
        "completions bash",
        with_closed_stdout(bare(&["completions", "bash"])),
    );
    assert_quiet_exit(
        "graph",
        with_closed_stdout(bare(&["graph", "--env", "environments/sandbox.toml"])),
    );
    assert_quiet_exit(
        "validate",
        with_closed_stdout(bare(&["validate", "--env", "environments/sandbox.toml"])),
    );
    assert_quiet_exit(
        "validate --output json",
        with_closed_stdout(bare(&[
            "validate",
            "--env",
            "environments/sandbox.toml",
            "--output",
            "json",
        ])),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_pipe_is_a_quiet_exit_for_plan_and_outputs() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    for args in [
        &["plan", "hub"][..],
        &["plan", "hub", "--output", "json"],
        &["plan", "hub", "--output", "markdown"],
        &["outputs"],
        &["outputs", "--output", "json"],
    ] {
        let cmd = h.command(args);
        let result = tokio::task::spawn_blocking(move || with_closed_stdout(cmd))
            .await
            .expect("join");
        assert_quiet_exit(&args.join(" "), result);
    }
}

/// The long option names listed by `owui-deploy COMMAND --help`.
fn options_of(command: &[&str]) -> Vec<String> {
    let mut args = command.to_vec();
    args.push("--help");
    let out = bare(&args).output().expect("run owui-deploy");
    assert!(out.status.success(), "{command:?} --help failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l.strip_prefix("-v, ").unwrap_or(l);
            let l = l.strip_prefix("-h, ").unwrap_or(l);
            let l = l.strip_prefix("-V, ").unwrap_or(l);
            l.starts_with("--")
                .then(|| l.split([' ', '=', '.']).next().unwrap_or(l).to_string())
        })
        .collect()
}

#[test]
fn each_flag_is_only_on_the_commands_that_use_it() {
    let global = ["--env", "--no-progress", "--verbose", "--help"];
    let azure = ["--auth", "--parallelism"];
    let cases: &[(&[&str], &[&str])] = &[
        (&["validate"], &["--output"]),
        (
            &["sandbox"],
            &[
                "--listen",
                "--state",
                "--time-scale",
                "--faults",
                "--seed",
                "--ca-file",
            ],
        ),
        (
            &["plan"],
            &[
                "--detailed-exitcode",
                "--out",
                "--output",
                "--auth",
                "--parallelism",
            ],
        ),
        (
            &["up"],
            &[
                "--yes",
                "--dry-run",
                "--rotate-secrets",
                "--grant-admin-consent",
                "--output",
                "--auth",
                "--parallelism",
            ],
        ),
        (&["outputs"], &["--output", "--auth"]),
        (&["graph"], &["--output", "--with-certificate"]),
        (
            &["apply"],
            &["--yes", "--output", "--auth", "--parallelism"],
        ),
        (
            &["destroy"],
            &[
                "--yes",
                "--purge",
                "--dry-run",
                "--detailed-exitcode",
                "--out",
                "--output",
                "--auth",
                "--parallelism",
            ],
        ),
        (&["completions"], &[]),
    ];
    for (command, own) in cases {
        let mut found = options_of(command);
        found.retain(|o| !global.contains(&o.as_str()));
        found.sort();
        let mut wanted: Vec<String> = own.iter().map(|s| s.to_string()).collect();
        wanted.sort();
        assert_eq!(found, wanted, "options of {command:?}");
        for flag in azure {
            assert_eq!(
                found.iter().any(|f| f == flag),
                own.contains(&flag),
                "{flag} on {command:?}"
            );
        }
        assert!(!found.iter().any(|f| f == "--format"), "{command:?}");
    }
    let top = options_of(&[]);
    for flag in ["--output", "--auth", "--parallelism", "--format"] {
        assert!(!top.iter().any(|f| f == flag), "{flag} is global: {top:?}");
    }
}

#[test]
fn output_formats_are_named_per_command_and_parallelism_zero_is_refused() {
    let out = bare(&["plan", "--parallelism", "0", "--env", "x.toml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("0 is not in 1..=64"), "{stderr}");

    let out = bare(&[
        "graph",
        "--env",
        "environments/sandbox.toml",
        "--output",
        "dot",
    ])
    .output()
    .expect("run");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("digraph"));

    // plan's --output takes markdown; validate's does not.
    let plan_help =
        String::from_utf8_lossy(&bare(&["plan", "--help"]).output().expect("run").stdout)
            .into_owned();
    assert!(plan_help.contains("markdown"), "{plan_help}");
    let out = bare(&[
        "validate",
        "--env",
        "environments/sandbox.toml",
        "--output",
        "markdown",
    ])
    .output()
    .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

/// The number in `Plan: N to add, ...`.
fn planned_adds(text: &str) -> usize {
    let line = text
        .lines()
        .find(|l| l.starts_with("Plan: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{text}"));
    line["Plan: ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_counts_what_plan_adds() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let validate = h.run(&["validate", "--output", "json"]).await;
    validate.ok();
    let json: serde_json::Value = serde_json::from_str(&validate.stdout).expect("json");
    let hub_total = json["summary"]["stages"][0]["total"].as_u64().expect("hub");
    let total = json["summary"]["total_resources"].as_u64().expect("total");
    // Only the hub can be planned on an empty subscription (the others read it).
    let plan = h.run(&["plan", "hub"]).await;
    plan.ok();
    assert_eq!(planned_adds(&plan.stdout) as u64, hub_total);
    h.run(&["up", "--yes", "--no-progress"]).await.ok();
    let destroy = h.run(&["destroy", "--dry-run"]).await;
    destroy.ok();
    let deletes = destroy
        .stdout
        .lines()
        .find(|l| l.starts_with("Plan: "))
        .expect("summary");
    assert!(
        deletes.contains(&format!("{total} to destroy")),
        "validate counted {total}: {deletes}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_dry_run_shows_the_deletions_and_writes_nothing() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    let before = h.resource_ids().await;

    let mark = h.mark().await;
    let preview = h
        .run(&[
            "destroy",
            "--dry-run",
            "--detailed-exitcode",
            "--out",
            "deletions.json",
        ])
        .await;
    preview.expect_code(2);
    assert!(preview.stdout.contains("vnet-hub"), "{}", preview.stdout);
    assert!(preview.stdout.contains("to destroy"), "{}", preview.stdout);
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());
    assert_eq!(h.resource_ids().await, before);
    let saved = std::fs::read_to_string(h.dir.path().join("deletions.json")).expect("plan file");
    assert!(saved.contains("\"delete\""), "{saved}");

    // JSON preview: one document of delete actions.
    let json = h.run(&["destroy", "--dry-run", "--output", "json"]).await;
    json.ok();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let changes = doc["changes"].as_array().expect("changes");
    assert!(changes.iter().any(|c| c["action"] == "delete"), "{doc}");
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());

    // The saved deletion plan applies as planned.
    h.run(&["apply", "deletions.json", "--yes", "--no-progress"])
        .await
        .ok();
    let after = h.resource_ids().await;
    assert!(
        !after.iter().any(|id| id.contains("rg-owui-hub-sandbox")),
        "{after:#?}"
    );
    // Nothing left: the preview says so and exits 0 even with --detailed-exitcode.
    let empty = h
        .run(&["destroy", "--dry-run", "--detailed-exitcode"])
        .await;
    empty.ok();
    assert!(
        empty.stdout.contains("Nothing to destroy."),
        "{}",
        empty.stdout
    );
}

const ROUTE_TABLE: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-owui-hub-sandbox/providers/Microsoft.Network/routeTables/rt-apim";

async fn route_table_tags(h: &Harness) -> serde_json::Map<String, serde_json::Value> {
    let version = owui_deploy::azure::api_versions::api_version("Microsoft.Network/routeTables")
        .expect("pinned");
    let (status, body) = h
        .arm_get(&format!("{ROUTE_TABLE}?api-version={version}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body["tags"].as_object().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tag_removed_from_the_file_is_removed_and_tags_of_others_are_kept() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let original = h.env_text();
    let with_owner = original.replace(
        "[tags]\npurpose = \"sandbox\"",
        "[tags]\npurpose = \"sandbox\"\nowner = \"alice\"\nteam = \"ai\"",
    );
    assert_ne!(with_owner, original, "the sandbox file has no [tags] table");
    h.write_env(&with_owner);
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    let tags = route_table_tags(&h).await;
    assert_eq!(tags["owner"], "alice");
    assert_eq!(tags["owui-deploy-tags"], "owner,purpose,team");

    // Azure Policy adds a tag (ARM PATCH replaces the whole tags object).
    let mut theirs = tags.clone();
    theirs.insert("CostCenter".into(), "42".into());
    let version = owui_deploy::azure::api_versions::api_version("Microsoft.Network/routeTables")
        .expect("pinned");
    h.arm_send(
        reqwest::Method::PATCH,
        &format!("{ROUTE_TABLE}?api-version={version}"),
        &serde_json::json!({ "tags": theirs }),
    )
    .await;
    let untouched = h.run(&["plan", "hub", "--detailed-exitcode"]).await;
    untouched.ok();

    // `owner` leaves the file; `team` moves to ignore_tags.
    let without_owner = with_owner
        .replace("owner = \"alice\"\nteam = \"ai\"\n", "")
        .replacen("[azure]", "ignore_tags = [\"team\"]\n\n[azure]", 1);
    h.write_env(&without_owner);
    let plan = h.run(&["plan", "hub", "--detailed-exitcode"]).await;
    plan.expect_code(2);
    assert!(
        plan.stdout.contains("- /tags/owner = \"alice\""),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("CostCenter"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("/tags/team"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("tags set by others"),
        "the plan says what it manages:\n{}",
        plan.stdout
    );

    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    let tags = route_table_tags(&h).await;
    assert!(!tags.contains_key("owner"), "{tags:?}");
    assert_eq!(tags["CostCenter"], "42", "{tags:?}");
    assert_eq!(tags["team"], "ai", "{tags:?}");
    assert_eq!(tags["owui-deploy-tags"], "purpose", "{tags:?}");
    let converged = h.run(&["plan", "hub", "--detailed-exitcode"]).await;
    converged.ok();
}
