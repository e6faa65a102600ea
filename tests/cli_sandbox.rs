//! `owui-deploy sandbox` as a server process: prints its URL, writes its CA and its
//! admin token (mode 0600), serves HTTPS, stops on SIGINT or SIGTERM and keeps its
//! state (every answered write) across restarts.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn start(dir: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_owui-deploy"))
        .current_dir(dir)
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--state",
            "state.json",
            "--ca-file",
            "ca.pem",
            "--time-scale",
            "0.001",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sandbox");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut first = String::new();
    reader.read_line(&mut first).expect("read line");
    // Keep draining, so the server never writes into a closed pipe.
    std::thread::spawn(move || for _ in reader.lines() {});
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    (child, url)
}

fn interrupt(child: &mut Child) -> i32 {
    signal(child, "-INT")
}

fn signal(child: &mut Child, signal: &str) -> i32 {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    for _ in 0..100 {
        if let Some(s) = child.try_wait().expect("wait") {
            return s.code().unwrap_or(-1);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("the sandbox did not stop on {signal}");
}

/// The admin token the sandbox wrote (default `--admin-token-file`: next to the CA file).
fn admin_token(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("admin-token")).expect("admin token file")
}

/// Create a resource group through ARM (token from the sandbox's token endpoint).
async fn put_resource_group(http: &reqwest::Client, url: &str, name: &str) {
    let token: serde_json::Value = http
        .post(format!("{url}/tenant/oauth2/v2.0/token"))
        .form(&[
            ("client_id", "sandbox"),
            ("client_secret", "sandbox"),
            ("grant_type", "client_credentials"),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let bearer = token["access_token"].as_str().expect("token");
    let rg = format!("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/{name}");
    let put = http
        .put(format!("{url}{rg}?api-version=2024-11-01"))
        .bearer_auth(bearer)
        .json(&serde_json::json!({"location": "UK South"}))
        .send()
        .await
        .expect("put");
    assert_eq!(put.status().as_u16(), 201);
}

/// `GET /_sandbox/resources` with the admin token the sandbox wrote.
async fn resources(http: &reqwest::Client, url: &str, dir: &std::path::Path) -> serde_json::Value {
    http.get(format!("{url}/_sandbox/resources"))
        .bearer_auth(admin_token(dir))
        .send()
        .await
        .expect("resources")
        .json()
        .await
        .expect("json")
}

fn client(dir: &std::path::Path) -> reqwest::Client {
    let pem = std::fs::read(dir.join("ca.pem")).expect("CA file written");
    let cert = reqwest::Certificate::from_pem(&pem).expect("PEM");
    reqwest::Client::builder()
        .tls_certs_only([cert])
        .build()
        .expect("client")
}

#[tokio::test]
async fn sandbox_serves_https_stops_on_sigint_and_keeps_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, url) = start(dir.path());
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let http = client(dir.path());

    put_resource_group(&http, &url, "rg-kept").await;
    assert_eq!(interrupt(&mut child), 0);
    assert!(dir.path().join("state.json").exists());

    // Restarted on the same state file: the resource group is still there.
    let (mut child, url) = start(dir.path());
    let http = client(dir.path());
    let resources = resources(&http, &url, dir.path()).await;
    let text = resources.to_string().to_ascii_lowercase();
    assert!(text.contains("rg-kept"), "{resources:#}");
    assert_eq!(interrupt(&mut child), 0);
}

#[tokio::test]
async fn sigterm_keeps_every_answered_write_and_the_admin_token_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, url) = start(dir.path());
    let http = client(dir.path());
    let token_file = dir.path().join("admin-token");
    let mode = std::fs::metadata(&token_file)
        .expect("token file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let no_token = http
        .get(format!("{url}/_sandbox/resources"))
        .send()
        .await
        .expect("resources");
    assert_eq!(no_token.status(), 401);

    put_resource_group(&http, &url, "rg-term").await;
    // At once, before the background writer's delay: the stop itself writes the state.
    assert_eq!(signal(&mut child, "-TERM"), 0);

    let (mut child, url) = start(dir.path());
    let http = client(dir.path());
    let resources = resources(&http, &url, dir.path()).await;
    assert!(
        resources
            .to_string()
            .to_ascii_lowercase()
            .contains("rg-term"),
        "{resources:#}"
    );
    assert_eq!(interrupt(&mut child), 0);
}
