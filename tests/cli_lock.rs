//! The environment lock (issue 13, finding 3): overlapping runs, destroy during
//! up, force-unlock, a dead holder's expiry, and the embedded sandbox's state.

mod cli_support;

use cli_support::{Harness, is_lock_path, repo};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const TIME_SCALE: f64 = 0.001;
const TAGS: &str = "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Resources/tags/default?api-version=2024-11-01";
const TAG: &str = "owui-deploy-lock-sandbox";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// Another run's lock, written as that run would.
async fn hold(h: &Harness, id: &str, expires: i64) {
    let value = format!(
        "id={id};since={};expires={expires};pid=4242;cmd=up;by=ci@runner",
        now() - 60
    );
    h.arm_send(
        reqwest::Method::PATCH,
        TAGS,
        &json!({"operation": "Merge", "properties": {"tags": {TAG: value}}}),
    )
    .await;
}

async fn lock_value(h: &Harness) -> Option<String> {
    let (_, v) = h.arm_get(TAGS).await;
    v.pointer(&format!("/properties/tags/{TAG}"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Every request that changes something since `mark`, the lock's included.
async fn all_writes_since(h: &Harness, mark: usize) -> Vec<String> {
    h.journal()
        .await
        .into_iter()
        .skip(mark)
        .filter(|e| {
            matches!(
                e["method"].as_str().unwrap_or(""),
                "PUT" | "PATCH" | "POST" | "DELETE"
            ) && !e["path"].as_str().unwrap_or("").contains("/oauth2/")
        })
        .map(|e| format!("{} {}", e["method"], e["path"]))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_lock_refuses_every_writing_command_with_zero_writes_until_force_unlock() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    hold(&h, "lock-one", now() + 600).await;
    for args in [
        vec!["up", "--yes"],
        vec!["hub", "--yes"],
        vec!["destroy", "--yes"],
    ] {
        let mark = h.mark().await;
        let run = h.run(&args).await;
        run.expect_code(1);
        for part in [
            "environment sandbox is locked by ci@runner",
            "since ",
            "lock ID lock-one",
            "owui-deploy force-unlock --env",
        ] {
            assert!(
                run.stderr.contains(part),
                "{part:?} in {args:?}:\n{}",
                run.stderr
            );
        }
        assert_eq!(
            all_writes_since(&h, mark).await,
            Vec::<String>::new(),
            "{args:?}"
        );
    }
    // Planning takes no lock, `up --dry-run` neither.
    h.run(&["up", "--dry-run"]).await.ok();
    // A saved plan is refused the same way.
    h.run(&["plan", "hub", "--out", "plan.json"]).await.ok();
    let mark = h.mark().await;
    let run = h.run(&["apply", "plan.json", "--yes"]).await;
    run.expect_code(1);
    assert!(run.stderr.contains("lock ID lock-one"), "{}", run.stderr);
    assert_eq!(all_writes_since(&h, mark).await, Vec::<String>::new());

    // force-unlock: shows the lock without an ID, refuses another ID, releases this one.
    let show = h.run(&["force-unlock"]).await;
    show.expect_code(1);
    assert!(
        show.stderr.contains("force-unlock --env"),
        "{}",
        show.stderr
    );
    assert!(show.stderr.contains("lock-one"), "{}", show.stderr);
    let wrong = h.run(&["force-unlock", "lock-two"]).await;
    assert_ne!(wrong.code, 0);
    assert!(wrong.stderr.contains("not lock-two"), "{}", wrong.stderr);
    assert!(lock_value(&h).await.is_some());
    h.run(&["force-unlock", "lock-one"]).await.ok();
    assert_eq!(lock_value(&h).await, None);
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    assert_eq!(lock_value(&h).await, None, "released after the run");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_holders_expired_lock_is_taken_over() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    hold(&h, "lock-of-a-dead-run", now() - 1).await;
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    assert_eq!(lock_value(&h).await, None);
    let plan = h.run(&["plan", "hub", "--detailed-exitcode"]).await;
    plan.ok();
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_or_a_second_up_during_up_is_refused_naming_the_running_up() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let first = h
        .command(&["up", "--yes", "--no-progress"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn up");
    let pid = first.id();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while lock_value(&h).await.is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "up never took the lock"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let held = lock_value(&h).await.expect("held");
    assert!(held.contains(&format!("pid={pid}")), "{held}");
    for args in [vec!["destroy", "--yes"], vec!["up", "--yes"]] {
        let run = h.run(&args).await;
        run.expect_code(1);
        assert!(
            run.stderr.contains(&format!("process {pid}")) && run.stderr.contains("`up`"),
            "{args:?}: {}",
            run.stderr
        );
    }
    let out = tokio::task::spawn_blocking(move || first.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lock_value(&h).await, None);
    h.run(&["plan", "--detailed-exitcode"]).await.ok();
    let journal = h.journal().await;
    let lock_writes = journal
        .iter()
        .filter(|e| e["method"] == "PATCH" && is_lock_path(e["path"].as_str().unwrap_or("")))
        .count();
    assert_eq!(
        lock_writes, 2,
        "one take and one release: the refused runs wrote nothing"
    );
}

/// The embedded sandbox: its state file is locked for the whole run.
#[tokio::test(flavor = "multi_thread")]
async fn two_embedded_runs_on_one_state_file_cannot_both_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(repo().join("environments/sandbox.toml"))
        .expect("env")
        .replace("time_scale = 0.001", "time_scale = 0.0005");
    let env = dir.path().join("sandbox.toml");
    std::fs::write(&env, text).expect("write");
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_owui-deploy"));
        cmd.current_dir(dir.path())
            .env_remove("OWUI_SANDBOX_URL")
            .env_remove("OWUI_POSTGRES_ADMIN_PASSWORD")
            .env("OWUI_ENV", &env)
            .env("NO_COLOR", "1")
            .args(args);
        cmd
    };
    let lock = dir.path().join(".owui-sandbox/state.json.lock");
    // A live holder (this test process) is respected...
    std::fs::create_dir_all(lock.parent().expect("dir")).expect("mkdir");
    let me = std::process::id();
    let since = now();
    std::fs::write(
        &lock,
        format!(
            "id=held;since={since};expires={};pid={me};cmd=up;by=t@h",
            since + 600
        ),
    )
    .expect("write lock");
    let out = run(&["hub", "--yes"]).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("lock ID held"), "{stderr}");
    assert!(
        !dir.path().join(".owui-sandbox/state.json").exists(),
        "nothing saved"
    );

    // ...a dead one is replaced; while a run holds the file, a second is refused.
    std::fs::write(
        &lock,
        format!(
            "id=dead;since={since};expires={};pid=4000000;cmd=up;by=t@h",
            since + 600
        ),
    )
    .expect("write lock");
    let mut first = run(&["hub", "--yes", "--no-progress"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&format!("pid={}", first.id())))
    {
        assert!(std::time::Instant::now() < deadline, "never locked");
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = run(&["hub", "--yes"]).output().expect("second");
    assert_eq!(second.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&second.stderr).contains(&format!("process {}", first.id())),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let status = first.wait().expect("wait");
    assert!(status.success());
    assert!(!lock.exists(), "released");
    let plan = run(&["plan", "hub", "--detailed-exitcode"])
        .output()
        .expect("plan");
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_stopped_by_the_preflight_releases_its_lock() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.admin_post(
        "/_sandbox/preflight",
        &json!({"taken_names": [{"type": "Microsoft.KeyVault/vaults", "name": "kv-owui-hub-sbx"}]}),
    )
    .await;
    for args in [
        &["hub", "--yes", "--no-progress"][..],
        &["up", "--yes", "--no-progress"][..],
    ] {
        let run = h.run(args).await;
        run.expect_code(1);
        assert!(run.stderr.contains("kv-owui-hub-sbx"), "{}", run.stderr);
        assert_eq!(lock_value(&h).await, None, "{args:?} left its lock held");
    }
}
