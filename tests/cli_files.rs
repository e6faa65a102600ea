//! Issue 13 §4: paths in the environment file stay inside its folder, only regular
//! files within a size cap are read, and files the tool writes never follow a symlink.

mod cli_support;

use cli_support::{Harness, Run};
use serde_json::Value;
use std::time::{Duration, Instant};

const TIME_SCALE: f64 = 0.0005;

/// The sandbox environment with `line` added right after `after`.
fn env_with(after: &str, line: &str) -> String {
    let text = std::fs::read_to_string(cli_support::repo().join("environments/sandbox.toml"))
        .expect("sandbox.toml");
    assert!(text.contains(after), "{after} not in sandbox.toml");
    text.replacen(after, &format!("{after}\n{line}"), 1)
}

fn problems(run: &Run) -> Vec<Value> {
    let doc: Value = serde_json::from_str(&run.stdout).expect("validate JSON");
    doc["problems"].as_array().cloned().unwrap_or_default()
}

/// `validate --output json` fails with one problem of `code` at `key`, with a line and column.
async fn refused_by_validate(h: &Harness, key: &str, code: &str, extra: &[&str]) -> Value {
    let mut args = vec!["validate", "--output", "json"];
    args.extend_from_slice(extra);
    let run = h.run(&args).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let found = problems(&run)
        .into_iter()
        .find(|p| p["key"] == key)
        .unwrap_or_else(|| panic!("no problem at {key}: {}", run.stdout));
    assert_eq!(found["code"], code, "{found:#}");
    assert!(found["line"].as_u64().is_some() && found["col"].as_u64().is_some());
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_path_leaving_the_folder_is_refused_by_validate_and_hub_with_zero_requests() {
    let h = Harness::with_env_text(
        &env_with(
            "custom_domain = \"chat.sandbox.contoso.com\"",
            "certificate_pfx_path = \"../../../etc/shadow\"",
        ),
        TIME_SCALE,
    )
    .await;
    let p = refused_by_validate(&h, "domain.certificate_pfx_path", "path-outside", &[]).await;
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("--allow-outside-paths")
    );
    let human = h.run(&["validate"]).await;
    assert_eq!(human.code, 1);
    assert!(
        human.stderr.contains("env.toml:") && human.stderr.contains("domain.certificate_pfx_path"),
        "{}",
        human.stderr
    );

    let before = h.journal().await.len();
    let run = h.run(&["hub", "--yes", "--no-progress"]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("domain.certificate_pfx_path"),
        "{}",
        run.stderr
    );
    assert_eq!(h.journal().await.len(), before, "no request at all");
}

#[tokio::test(flavor = "multi_thread")]
async fn absolute_paths_and_symlinks_out_of_the_folder_need_the_explicit_flag() {
    let outside = tempfile::tempdir().expect("tempdir");
    let pem = outside.path().join("root.cer");
    // A minimal DER structure: the certificate check accepts it, the path check must not.
    std::fs::write(&pem, b"\x30\x03\x02\x01\x01").expect("write");
    let h = Harness::with_env_text(
        &env_with(
            "custom_domain = \"chat.sandbox.contoso.com\"",
            &format!("trusted_root_certificate_path = \"{}\"", pem.display()),
        ),
        TIME_SCALE,
    )
    .await;
    refused_by_validate(
        &h,
        "domain.trusted_root_certificate_path",
        "path-outside",
        &[],
    )
    .await;
    h.run(&["validate", "--allow-outside-paths"]).await.ok();

    // A symlink inside the folder that resolves outside it is refused the same way.
    std::os::unix::fs::symlink(&pem, h.path().join("root.cer")).expect("symlink");
    h.write_env(&env_with(
        "custom_domain = \"chat.sandbox.contoso.com\"",
        "trusted_root_certificate_path = \"root.cer\"",
    ));
    let p = refused_by_validate(
        &h,
        "domain.trusted_root_certificate_path",
        "path-outside",
        &[],
    )
    .await;
    assert!(p["message"].as_str().unwrap().contains("symlink"), "{p:#}");
    h.run(&["validate", "--allow-outside-paths"]).await.ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_or_fifo_state_file_is_refused_quickly() {
    let h = Harness::with_env_text(
        &env_with("[azure.sandbox]", "").replace(
            "state_file = \".owui-sandbox/state.json\"",
            "state_file = \"/dev/zero\"",
        ),
        TIME_SCALE,
    )
    .await;
    refused_by_validate(&h, "azure.sandbox.state_file", "path-outside", &[]).await;
    let started = Instant::now();
    let p = refused_by_validate(
        &h,
        "azure.sandbox.state_file",
        "file-refused",
        &["--allow-outside-paths"],
    )
    .await;
    assert!(p["message"].as_str().unwrap().contains("device"), "{p:#}");

    let fifo = h.path().join("state.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    h.write_env(&env_with("[azure.sandbox]", "").replace(
        "state_file = \".owui-sandbox/state.json\"",
        "state_file = \"state.fifo\"",
    ));
    let p = refused_by_validate(&h, "azure.sandbox.state_file", "file-refused", &[]).await;
    assert!(p["message"].as_str().unwrap().contains("FIFO"), "{p:#}");
    let run = h.run(&["hub", "--yes", "--no-progress"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "refusals take no time"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_openapi_document_is_refused_before_reading() {
    let h = Harness::with_env_text(&env_with("[apim]", "openapi = \"big.json\""), TIME_SCALE).await;
    // 200 MB, sparse: reading it would take the memory the finding reported.
    let big = std::fs::File::create(h.path().join("big.json")).expect("create");
    big.set_len(200 * 1024 * 1024).expect("set_len");
    let started = Instant::now();
    let p = refused_by_validate(&h, "apim.openapi", "file-refused", &[]).await;
    assert!(
        p["message"].as_str().unwrap().contains("4 MiB"),
        "the cap follows APIM's import limit: {p:#}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_out_replaces_a_planted_symlink_instead_of_following_it() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let victim = h.path().join("victim.txt");
    std::fs::write(&victim, "keep me").expect("write");
    let out = h.path().join("out.json");
    std::os::unix::fs::symlink(&victim, &out).expect("symlink");
    let run = h.run(&["plan", "--out", "out.json"]).await;
    assert!(run.code == 0 || run.code == 2, "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    let meta = std::fs::symlink_metadata(&out).expect("out");
    assert!(meta.is_file(), "the plan replaced the link");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_out_never_follows_a_symlink_planted_at_its_temporary_name() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let victim = h.path().join("victim.txt");
    std::fs::write(&victim, "keep me").expect("write");
    let mut child = h
        .command(&["plan", "--out", "out.json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    // The run plans against the sandbox first: the link is planted long before it writes.
    let planted = h.path().join(format!(".out.json.tmp-{}", child.id()));
    std::os::unix::fs::symlink(&victim, &planted).expect("plant");
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(matches!(status.code(), Some(0 | 2)), "{status:?}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(std::fs::symlink_metadata(&planted).unwrap().is_symlink());
    let out = std::fs::symlink_metadata(h.path().join("out.json")).expect("plan written");
    assert!(out.is_file());
    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(h.path().join("out.json")).unwrap())
            .expect("the plan is JSON");
    assert!(plan.is_object());
}
