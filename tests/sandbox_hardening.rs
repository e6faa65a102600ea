//! Issue 13 §5: the sandbox server does not trust every local process. The admin API
//! and the journal need the admin token, the journal holds no secret and is bounded,
//! request bodies and header reads are bounded in size and time, and a non-loopback
//! listen address needs an explicit option.

mod common;

use owui_deploy::sandbox::{Sandbox, SandboxOptions};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SUB: &str = "00000000-0000-0000-0000-000000000000";

async fn start() -> (Sandbox, reqwest::Client) {
    let sb = Sandbox::start(SandboxOptions {
        time_scale: 0.001,
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox starts");
    let cert = reqwest::Certificate::from_pem(sb.ca_pem().as_bytes()).expect("CA");
    let http = reqwest::Client::builder()
        .tls_certs_only([cert])
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    (sb, http)
}

async fn arm_token(sb: &Sandbox, http: &reqwest::Client) -> String {
    common::sandbox_token(http, &sb.url(), "https://management.azure.com/.default").await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_api_and_the_journal_need_the_admin_token() {
    let (sb, http) = start().await;
    let url = sb.url();
    for (method, path) in [
        ("GET", "/_sandbox/journal"),
        ("DELETE", "/_sandbox/journal"),
        ("GET", "/_sandbox/resources"),
        ("POST", "/_sandbox/reset"),
        ("GET", "/_sandbox/config"),
        ("POST", "/_sandbox/config"),
        ("POST", "/_sandbox/faults"),
        ("PUT", "/_sandbox/files/doc.json"),
    ] {
        let m: reqwest::Method = method.parse().unwrap();
        let none = http
            .request(m.clone(), format!("{url}{path}"))
            .body("{}")
            .send()
            .await
            .expect("request");
        assert_eq!(none.status(), 401, "{method} {path} without a token");
        let wrong = http
            .request(m, format!("{url}{path}"))
            .bearer_auth("0".repeat(64))
            .body("{}")
            .send()
            .await
            .expect("request");
        assert_eq!(wrong.status(), 401, "{method} {path} with a wrong token");
    }
    // An ARM token is not the admin token either.
    let arm = arm_token(&sb, &http).await;
    let r = http
        .get(format!("{url}/_sandbox/journal"))
        .bearer_auth(&arm)
        .send()
        .await
        .expect("journal");
    assert_eq!(r.status(), 401);
    let ok = http
        .get(format!("{url}/_sandbox/journal"))
        .bearer_auth(sb.admin_token())
        .send()
        .await
        .expect("journal");
    assert_eq!(ok.status(), 200);
    // A hosted document stays readable without it (the sandbox fetches it for link imports).
    let put = http
        .put(format!("{url}/_sandbox/files/doc.json"))
        .bearer_auth(sb.admin_token())
        .body("{}")
        .send()
        .await
        .expect("put file");
    assert_eq!(put.status(), 201);
    let get = http
        .get(format!("{url}/_sandbox/files/doc.json"))
        .send()
        .await
        .expect("get file");
    assert_eq!(get.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_journal_holds_no_password_secret_value_or_key() {
    let (sb, http) = start().await;
    let url = sb.url();
    let token = arm_token(&sb, &http).await;
    let password = "Journal-Pa55word-never-shown";
    let rg = format!("/subscriptions/{SUB}/resourceGroups/rg-j");
    let put = |path: String, body: Value| {
        let http = http.clone();
        let token = token.clone();
        let url = url.clone();
        async move {
            http.put(format!("{url}{path}"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("put")
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        put(
            format!("{rg}?api-version=2024-11-01"),
            json!({"location": "uksouth"})
        )
        .await,
        201
    );
    put(
        format!("{rg}/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-j?api-version=2024-08-01"),
        json!({"location": "uksouth", "sku": {"name": "Standard_B1ms", "tier": "Burstable"},
               "properties": {"administratorLogin": "owui", "administratorLoginPassword": password, "version": "16"}}),
    )
    .await;
    put(
        format!("{rg}/providers/Microsoft.KeyVault/vaults/kv-j/secrets/pg-connection?api-version=2024-11-01"),
        json!({"properties": {"value": format!("postgresql://owui:{password}@pg-j/owui")}}),
    )
    .await;

    let journal = Value::Array(common::Admin::new(&sb).journal().await);
    let text = journal.to_string();
    assert!(!text.contains(password), "{journal:#}");
    assert!(!text.contains("\"client_secret\":\"sandbox\""));
    let server = journal
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"].as_str().unwrap().contains("flexibleServers/pg-j"))
        .expect("server PUT journaled");
    assert_eq!(
        server["request_body"]["properties"]["administratorLoginPassword"],
        "(redacted)"
    );
    assert_eq!(
        server["request_body"]["properties"]["administratorLogin"],
        "owui"
    );
    // In-process, the test that started it can still see what was sent.
    assert!(
        sb.journal_unredacted()
            .iter()
            .any(|e| e.to_string().contains(password))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_unauthenticated_body_is_refused_before_it_is_read() {
    let (sb, http) = start().await;
    let url = sb.url();
    // 10 MB announced, 64 KiB sent, then nothing: the answer comes without the rest.
    let mut tls = tls_connect(&sb).await;
    let head = format!(
        "POST /t/oauth2/v2.0/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        10 * 1024 * 1024
    );
    tls.write_all(head.as_bytes()).await.expect("headers");
    tls.write_all(&vec![b'a'; 64 * 1024])
        .await
        .expect("first chunk");
    let started = Instant::now();
    let mut answer = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), tls.read(&mut answer))
        .await
        .expect("answered without the rest of the body")
        .expect("read");
    let status_line = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    assert!(started.elapsed() < Duration::from_secs(10));

    // A whole 10 MB body without a token is refused too; with a valid token it is read.
    let big = vec![b'a'; 10 * 1024 * 1024];
    let path = format!("/subscriptions/{SUB}/resourceGroups/rg-big?api-version=2024-11-01");
    let r = http
        .put(format!("{url}{path}"))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status(), 413);
    let token = arm_token(&sb, &http).await;
    let r = http
        .put(format!("{url}{path}"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .expect("answer");
    assert_eq!(
        r.status(),
        400,
        "read and parsed (not JSON), not refused for size"
    );
}

/// A raw TLS connection to the sandbox (HTTP/1.1), for requests reqwest cannot make.
async fn tls_connect(sb: &Sandbox) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types_pem(&sb.ca_pem()) {
        roots.add(cert).expect("root");
    }
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(sb.addr())
        .await
        .expect("connect");
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
    connector.connect(name, tcp).await.expect("TLS handshake")
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_headers_are_timed_out() {
    let (sb, _http) = start().await;
    let mut tls = tls_connect(&sb).await;
    // Headers started, never finished: one byte every second.
    tls.write_all(b"GET /_sandbox/journal HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let closed = async {
        let mut buf = [0u8; 512];
        loop {
            tokio::select! {
                r = tls.read(&mut buf) => match r {
                    Ok(0) | Err(_) => return true,
                    Ok(_) => continue,
                },
                _ = tokio::time::sleep(Duration::from_secs(1)) => {
                    if tls.write_all(b"X").await.is_err() {
                        return true;
                    }
                }
            }
        }
    };
    let closed = tokio::time::timeout(Duration::from_secs(40), closed)
        .await
        .unwrap_or(false);
    assert!(
        closed,
        "the connection stays open with headers never finished"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

fn rustls_pki_types_pem(pem: &str) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .map(|c| c.expect("PEM certificate"))
        .collect()
}

#[tokio::test]
async fn a_non_loopback_listen_address_needs_the_explicit_option() {
    let err = Sandbox::start(SandboxOptions {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..SandboxOptions::default()
    })
    .await
    .expect_err("refused");
    assert!(err.to_string().contains("--allow-remote"), "{err}");
    let sb = Sandbox::start(SandboxOptions {
        listen: "0.0.0.0:0".parse().unwrap(),
        allow_remote: true,
        ..SandboxOptions::default()
    })
    .await
    .expect("allowed explicitly");
    drop(sb);
}
