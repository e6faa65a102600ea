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
    // `--allow-outside-paths` and `--sandbox-url` are global on purpose: every command
    // that reads the environment file or talks to Azure takes them, and a harness can
    // add them without knowing the subcommand (docs/configuration.md).
    let global = [
        "--env",
        "--no-progress",
        "--verbose",
        "--help",
        "--allow-outside-paths",
        "--sandbox-url",
    ];
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
                "--admin-token-file",
                "--allow-remote",
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
                "--skip-preflight",
                "--no-cost",
                "--currency",
                "--log-gb-per-month",
            ],
        ),
        (
            &["preflight"],
            &[
                "--register-providers",
                "--yes",
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
                "--skip-preflight",
                "--register-providers",
                "--out",
                "--output",
                "--auth",
                "--parallelism",
            ],
        ),
        (&["outputs"], &["--output", "--auth"]),
        (&["graph"], &["--output", "--with-certificate"]),
        (
            &["apply"],
            &[
                "--yes",
                "--skip-preflight",
                "--output",
                "--auth",
                "--parallelism",
            ],
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
        (&["sandbox", "reset"], &[]),
        (&["usage"], &["--since", "--by", "--output", "--auth"]),
        (&["force-unlock"], &["--yes", "--auth"]),
        (
            &["cost"],
            &["--output", "--auth", "--currency", "--log-gb-per-month"],
        ),
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

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_shows_the_resources_and_changed_properties_and_all_with_verbose() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let first = h.run(&["hub", "--yes", "--no-progress"]).await;
    first.ok();
    assert!(
        first.stdout.contains("  + hub VNet vnet-hub\n"),
        "{}",
        first.stdout
    );
    assert!(!first.stdout.contains("/properties/"), "{}", first.stdout);
    assert!(planned_adds(&first.stdout) > 20, "{}", first.stdout);

    // A changed property is shown, with its old and new value.
    h.write_env(
        &h.env_text()
            .replace("purpose = \"sandbox\"", "purpose = \"demo\""),
    );
    let update = h.run(&["hub", "--yes", "--no-progress"]).await;
    update.ok();
    assert!(
        update
            .stdout
            .contains("~ /tags/purpose = \"sandbox\" -> \"demo\""),
        "{}",
        update.stdout
    );
    assert!(!update.stdout.contains("/properties/"), "{}", update.stdout);

    // --out: the whole plan, in a file.
    h.write_env(
        &h.env_text()
            .replace("purpose = \"demo\"", "purpose = \"again\""),
    );
    let saved = h
        .run(&["hub", "--yes", "--no-progress", "--out", "applied.json"])
        .await;
    saved.ok();
    let file = std::fs::read_to_string(h.path().join("applied.json")).expect("plan file");
    assert!(file.contains("/tags/purpose"), "{file}");
    assert!(file.contains("\"plan_file_version\""), "{file}");
    h.write_env(
        &h.env_text()
            .replace("purpose = \"again\"", "purpose = \"demo\""),
    );

    // -v: every property, as `plan` shows it.
    h.write_env(
        &h.env_text()
            .replace("purpose = \"demo\"", "purpose = \"sandbox\""),
    );
    let verbose = h.run(&["hub", "--yes", "--no-progress", "-v"]).await;
    verbose.ok();
    assert!(
        verbose
            .stdout
            .contains("# hub VNet vnet-hub will be updated"),
        "{}",
        verbose.stdout
    );
}

/// `validate` of the sandbox file edited by `edit`: (exit code, stderr).
fn validate_edited(edit: impl Fn(&str) -> String) -> (Option<i32>, String) {
    let text = std::fs::read_to_string(repo().join("environments/sandbox.toml")).expect("env");
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit changed nothing");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("env.toml");
    std::fs::write(&file, edited).expect("write");
    let out = bare(&["validate", "--env", file.to_str().expect("path")])
        .output()
        .expect("run");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn messages_suggest_before_suspecting_a_secret_and_state_real_ranges() {
    let (code, err) =
        validate_edited(|t| t.replace("tokens_per_minute = 10000", "token_per_minute = 10000"));
    assert_eq!(code, Some(1));
    assert!(err.contains("did you mean 'tokens_per_minute'?"), "{err}");
    assert!(!err.contains("looks like a secret"), "{err}");

    let (code, err) = validate_edited(|t| t.replacen("[azure]", "bogus_key = \"x\"\n\n[azure]", 1));
    assert_eq!(code, Some(1));
    assert!(err.contains("unknown key 'bogus_key'"), "{err}");
    assert!(!err.contains("looks like a secret"), "{err}");

    // A real secret under an unknown key is still called one.
    let (_, err) = validate_edited(|t| {
        t.replacen(
            "[azure]",
            "client_secret = \"Qx8~Zq1abcDEF.ghiJKLmnoPQRstuVWXyz0123\"\n\n[azure]",
            1,
        )
    });
    assert!(err.contains("looks like a secret"), "{err}");
    assert!(!err.contains("Qx8~Zq1abc"), "{err}");

    let (code, err) =
        validate_edited(|t| t.replace("tokens_per_minute = 10000", "tokens_per_minute = -5"));
    assert_eq!(code, Some(1));
    assert!(
        err.contains("tokens_per_minute: must be a whole number of 1 or more, not -5"),
        "{err}"
    );
    assert!(!err.contains("18446744073709551615"), "{err}");

    let (_, err) = validate_edited(|t| {
        t.replace(
            "address_space = \"10.0.4.0/22\"",
            "address_space = \"10.0.4.0/22\"\nfile_share_quota_gib = -1",
        )
    });
    assert!(
        err.contains("must be a whole number from 1 to 102400, not -1"),
        "{err}"
    );
}

#[test]
fn control_characters_in_messages_are_escaped() {
    let (code, err) = validate_edited(|t| {
        t.replace(
            "[tags]\npurpose = \"sandbox\"",
            "[tags]\npurpose = \"sandbox\"\n\"bad\\u001b[31mkey/\" = \"x\"",
        )
    });
    assert_eq!(code, Some(1));
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(err.contains("bad\\u{1b}[31mkey/"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn applying_a_plan_made_for_another_environment_file_says_so() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.run(&["plan", "hub", "--out", "plan.json"]).await.ok();
    let other = h.path().join("other.toml");
    std::fs::write(
        &other,
        h.env_text()
            .replace("purpose = \"sandbox\"", "purpose = \"other\""),
    )
    .expect("other env");
    let mark = h.mark().await;
    let run = h
        .run(&[
            "apply",
            "plan.json",
            "--yes",
            "--env",
            other.to_str().expect("path"),
        ])
        .await;
    run.expect_code(3);
    assert!(
        run.stderr
            .contains("the plan was made for the environment file"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("other.toml"), "{}", run.stderr);
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());
}

#[test]
fn sandbox_reset_empties_the_embedded_sandbox_and_deletes_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(repo().join("environments/sandbox.toml")).expect("env");
    let env = dir.path().join("sandbox.toml");
    std::fs::write(&env, &text).expect("write");
    let env_arg = env.to_str().expect("path");
    let state = dir.path().join(".owui-sandbox/state.json");
    // Run from another directory, as the README allows.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| {
        let out = bare(args)
            .current_dir(elsewhere.path())
            .output()
            .expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, err) = run(&["hub", "--env", env_arg, "--yes", "--no-progress"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(state.exists());
    let (code, out, _) = run(&["plan", "hub", "--env", env_arg]);
    assert_eq!(code, Some(0));
    assert!(out.contains("No changes"), "{out}");

    let (code, out, err) = run(&["sandbox", "reset", "--env", env_arg]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("deleted"), "{out}");
    assert!(!state.exists());
    let (code, out, _) = run(&["sandbox", "reset", "--env", env_arg]);
    assert_eq!(code, Some(0));
    assert!(out.contains("already empty"), "{out}");
    let (_, out, _) = run(&["plan", "hub", "--env", env_arg]);
    // Everything is to be created again.
    assert!(planned_adds(&out) > 20, "{out}");
    assert!(out.contains("0 to change"), "{out}");

    // A state_file naming something else is not deleted.
    let precious = dir.path().join("notes.txt");
    std::fs::write(&precious, "keep me").expect("write");
    std::fs::write(&env, text.replace(".owui-sandbox/state.json", "notes.txt")).expect("write");
    let (code, _, err) = run(&["sandbox", "reset", "--env", env_arg]);
    assert_eq!(code, Some(1));
    assert!(err.contains("is not a sandbox state file"), "{err}");
    assert!(precious.exists());
}

/// A plan change as JSON (the plan file form).
fn change(
    address: &str,
    label: &str,
    type_name: &str,
    action: &str,
    deps: &[&str],
) -> serde_json::Value {
    serde_json::json!({
        "address": address, "label": label, "stage": "hub",
        "api": {"api": "arm", "type_name": type_name, "api_version": "2024-01-01"},
        "action": action, "diffs": [], "fingerprint": {"kind": "absent"},
        "depends_on": deps,
    })
}

fn event(kind: &str, address: &str, label: &str, action: &str) -> owui_deploy::engine::Event {
    serde_json::from_value(serde_json::json!({
        "event": kind, "address": address, "label": label, "action": action,
        "at": "2026-01-01T00:00:00Z", "elapsed_ms": 1,
    }))
    .expect("event")
}

#[test]
fn progress_counts_finished_writes_and_says_what_waits_for_what() {
    use owui_deploy::cli::tracker::Tracker;
    let plan: owui_deploy::engine::Plan = serde_json::from_value(serde_json::json!({
        "changes": [
            change("/vnet", "hub VNet", "Microsoft.Network/virtualNetworks", "create", &[]),
            change("/apim", "API Management apim-x", "Microsoft.ApiManagement/service", "create", &["/vnet"]),
            change("/nv1", "named value a", "Microsoft.ApiManagement/service/namedValues", "create", &["/apim"]),
            change("/nv2", "named value b", "Microsoft.ApiManagement/service/namedValues", "create", &["/apim"]),
            change("/ip", "public IP", "Microsoft.Network/publicIPAddresses", "create", &[]),
            change("/read", "read elsewhere", "Microsoft.Network/virtualNetworks", "read", &[]),
        ]
    }))
    .expect("plan");
    let mut t = Tracker::new(&plan, 1.0);
    assert_eq!(t.writes_done(), (0, 5));
    t.record(&event("started", "/vnet", "hub VNet", "create"));
    t.record(&event("started", "/ip", "public IP", "create"));
    let waiting = t.waiting();
    assert_eq!(waiting[0].count, 2, "{waiting:?}");
    assert_eq!(waiting[0].on, "API Management apim-x");
    assert!(
        t.summary().contains("2 waiting for API Management apim-x"),
        "{}",
        t.summary()
    );
    assert!(t.summary().starts_with("about "), "{}", t.summary());
    // The critical path runs through API Management (tens of minutes).
    assert!(t.time_left() > std::time::Duration::from_secs(600));

    t.record(&event("succeeded", "/vnet", "hub VNet", "create"));
    t.record(&event("succeeded", "/ip", "public IP", "create"));
    t.record(&event(
        "started",
        "/apim",
        "API Management apim-x",
        "create",
    ));
    // Two of five writes finished while API Management runs: the counter says 2, not 4.
    assert_eq!(t.writes_done(), (2, 5));
    assert_eq!(t.running(), 1);
    t.record(&event(
        "succeeded",
        "/apim",
        "API Management apim-x",
        "create",
    ));
    t.record(&event("started", "/nv1", "named value a", "create"));
    t.record(&event("started", "/nv2", "named value b", "create"));
    assert!(t.waiting().is_empty());
    t.record(&event("succeeded", "/nv1", "named value a", "create"));
    t.record(&event("succeeded", "/nv2", "named value b", "create"));
    assert_eq!(t.writes_done(), (5, 5));
    assert_eq!(t.time_left(), std::time::Duration::ZERO);
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_progress_says_what_waits_and_uses_no_internal_action_names() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let run = h.run(&["up", "--yes", "--no-progress"]).await;
    run.ok();
    assert!(
        run.stderr
            .contains("waiting for API Management apim-owui-sandbox"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(" left"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hub VNet vnet-hub: creating"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hub VNet vnet-hub: created in"),
        "{}",
        run.stderr
    );
    for internal in ["no_op", " started", "done in"] {
        assert!(
            !run.stderr.contains(internal),
            "{internal}:\n{}",
            run.stderr
        );
    }
}

#[test]
fn control_characters_in_error_messages_are_escaped() {
    let out = bare(&["apply", "no\u{1b}[31mplan.json", "--yes"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(err.contains("no\\u{1b}[31mplan.json"), "{err}");
}
