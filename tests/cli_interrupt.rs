//! Interruptions on the default password path (issue 13, finding 2): without
//! `OWUI_POSTGRES_ADMIN_PASSWORD`, `up` is stopped by SIGKILL or SIGINT at
//! several points around the PostgreSQL server and its secrets (and one
//! PostgreSQL create fails); a plain `up` then converges: every resource once,
//! one Entra application, the password the server got last is the one Key
//! Vault holds, and `plan` shows no changes.

mod cli_support;

use cli_support::Harness;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const TIME_SCALE: f64 = 0.0005;
const PASSWORD_SECRET: &str = "/secrets/postgres-admin-password?";
const CONNECTION_SECRET: &str = "/secrets/postgres-connection-string?";
const SERVER: &str = "/providers/microsoft.dbforpostgresql/flexibleservers/";

/// Where to stop `up`: right after the sandbox answered the first request
/// whose method is `method` and whose lower-cased path contains `path` but
/// none of `not`.
struct Point {
    method: &'static str,
    path: &'static str,
    not: &'static [&'static str],
    signal: &'static str,
}

fn matches(e: &Value, p: &Point) -> bool {
    let path = e["path"].as_str().unwrap_or("").to_ascii_lowercase();
    e["method"] == p.method
        && e["status"].as_u64().is_some_and(|s| s < 300)
        && path.contains(p.path)
        && !p.not.iter().any(|n| path.contains(n))
}

/// Resource counts per type (role assignments, secrets, ... each once).
async fn counts(h: &Harness) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in h.resources().await {
        let t = r["type"].as_str().unwrap_or("").to_ascii_lowercase();
        *out.entry(t).or_default() += 1;
    }
    out
}

async fn applications(h: &Harness) -> usize {
    let (_, apps) = h.graph_get("/v1.0/applications").await;
    apps["value"].as_array().map_or(0, Vec::len)
}

/// The last password sent to the server and the last one stored in Key Vault
/// (from the request bodies as sent: the in-process journal, which the HTTP
/// journal redacts).
async fn last_passwords(h: &Harness) -> (Option<String>, Option<String>) {
    let mut server = None;
    let mut secret = None;
    for e in h.journal_unredacted_since(0) {
        let path = e["path"].as_str().unwrap_or("").to_ascii_lowercase();
        if !matches!(e["method"].as_str(), Some("PUT" | "PATCH"))
            || e["status"].as_u64().is_none_or(|s| s >= 300)
        {
            continue;
        }
        let body = &e["request_body"];
        if path.contains(SERVER) && !path.contains("/databases/") {
            if let Some(p) = body
                .pointer("/properties/administratorLoginPassword")
                .and_then(Value::as_str)
            {
                server = Some(p.to_string());
            }
        } else if path.contains(PASSWORD_SECRET)
            && let Some(v) = body.pointer("/properties/value").and_then(Value::as_str)
        {
            secret = Some(v.to_string());
        }
    }
    (server, secret)
}

fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

/// `up` in a fresh sandbox, stopped at `point`; then a plain `up` and `plan`,
/// with `password` in `OWUI_POSTGRES_ADMIN_PASSWORD` (`None`: generated).
async fn interrupted_then_resumed(
    point: &Point,
    password: Option<&str>,
    reference: &BTreeMap<String, usize>,
) {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let envs: Vec<(&str, &str)> = password
        .map(|p| vec![("OWUI_POSTGRES_ADMIN_PASSWORD", p)])
        .unwrap_or_default();
    let child = h
        .command(&["up", "--yes", "--no-progress"])
        .envs(envs.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn up");
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if h.journal().await.iter().any(|e| matches(e, point)) {
            break;
        }
        assert!(Instant::now() < deadline, "never reached {}", point.path);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    signal(pid, point.signal);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    let what = format!("{} after {} {}", point.signal, point.method, point.path);
    assert!(!out.status.success(), "{what}: up was not stopped");

    let resumed = h.run_env(&["up", "--yes", "--no-progress"], &envs).await;
    assert_eq!(
        resumed.code, 0,
        "{what}: resume failed:\n{}",
        resumed.stderr
    );
    let plan = h.run_env(&["plan", "--detailed-exitcode"], &envs).await;
    assert_eq!(
        plan.code, 0,
        "{what}: not converged:\n{}{}",
        plan.stdout, plan.stderr
    );
    assert_eq!(&counts(&h).await, reference, "{what}: resources");
    assert_eq!(applications(&h).await, 1, "{what}: Entra applications");
    let (server, secret) = last_passwords(&h).await;
    assert!(server.is_some() && secret.is_some(), "{what}: both written");
    assert_eq!(
        server, secret,
        "{what}: the server's password is the stored one"
    );
    if let Some(p) = password {
        assert_eq!(server.as_deref(), Some(p), "{what}: the given password");
    }
}

async fn reference() -> BTreeMap<String, usize> {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.run(&["up", "--yes", "--no-progress"]).await.ok();
    counts(&h).await
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_around_the_server_and_its_secrets_converges_on_a_plain_rerun() {
    let reference = reference().await;
    for point in [
        Point {
            method: "PUT",
            path: PASSWORD_SECRET,
            not: &[],
            signal: "KILL",
        },
        Point {
            method: "PUT",
            path: SERVER,
            not: &["/databases/"],
            signal: "KILL",
        },
        Point {
            method: "PUT",
            path: "/databases/",
            not: &[],
            signal: "KILL",
        },
    ] {
        interrupted_then_resumed(&point, None, &reference).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_around_the_server_and_its_secrets_converges_on_a_plain_rerun() {
    let reference = reference().await;
    for point in [
        Point {
            method: "PUT",
            path: SERVER,
            not: &["/databases/"],
            signal: "INT",
        },
        Point {
            method: "PUT",
            path: CONNECTION_SECRET,
            not: &[],
            signal: "INT",
        },
    ] {
        interrupted_then_resumed(&point, None, &reference).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_postgresql_create_converges_on_a_plain_rerun() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.admin_post(
        "/_sandbox/faults",
        &json!({"rules": [{
            "method": "PUT",
            "path": "*/Microsoft.DBforPostgreSQL/flexibleServers/*",
            "kind": "fail_lro",
            "code": "ProvisioningFailed",
            "message": "Injected failure.",
            "nth": 1,
            "count": 1
        }]}),
    )
    .await;
    let failed = h.run(&["up", "--yes", "--no-progress"]).await;
    assert_ne!(failed.code, 0, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("ProvisioningFailed"),
        "{}",
        failed.stderr
    );
    let plan = h.run(&["plan"]).await;
    plan.ok();
    h.run(&["up", "--yes", "--no-progress"]).await.ok();
    h.run(&["plan", "--detailed-exitcode"]).await.ok();
    let (server, secret) = last_passwords(&h).await;
    assert!(server.is_some() && secret.is_some(), "both written");
    assert_eq!(server, secret, "the server's password is the stored one");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_given_password_sigkill_and_sigint_converge_on_a_plain_rerun() {
    let reference = reference().await;
    for point in [
        Point {
            method: "PUT",
            path: PASSWORD_SECRET,
            not: &[],
            signal: "INT",
        },
        Point {
            method: "PUT",
            path: SERVER,
            not: &["/databases/"],
            signal: "KILL",
        },
    ] {
        interrupted_then_resumed(&point, Some("Given-Pa55word!x"), &reference).await;
    }
}
