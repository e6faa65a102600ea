//! `owui-deploy sandbox` as a server process: prints its URL, writes its CA,
//! serves HTTPS, stops on SIGINT and keeps its state across restarts.

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
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
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
    panic!("the sandbox did not stop on SIGINT");
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

    // A resource group through ARM (token from the sandbox's token endpoint).
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
    let bearer = token["access_token"].as_str().expect("token").to_string();
    let rg = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-kept";
    let put = http
        .put(format!("{url}{rg}?api-version=2024-11-01"))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({"location": "UK South"}))
        .send()
        .await
        .expect("put");
    assert_eq!(put.status().as_u16(), 201);
    assert_eq!(interrupt(&mut child), 0);
    assert!(dir.path().join("state.json").exists());

    // Restarted on the same state file: the resource group is still there.
    let (mut child, url) = start(dir.path());
    let http = client(dir.path());
    let resources: serde_json::Value = http
        .get(format!("{url}/_sandbox/resources"))
        .send()
        .await
        .expect("resources")
        .json()
        .await
        .expect("json");
    let text = resources.to_string().to_ascii_lowercase();
    assert!(text.contains("rg-kept"), "{resources:#}");
    assert_eq!(interrupt(&mut child), 0);
}
