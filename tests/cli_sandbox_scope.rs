//! Issue 13 §6: `OWUI_SANDBOX_URL` redirects only `cloud = "sandbox"` environments
//! (others need `--sandbox-url`), a sandbox never receives Azure credentials, and every
//! message the tool prints goes through the secret scrubber.

mod cli_support;

use cli_support::Harness;
use serde_json::json;
use std::time::Duration;

const TIME_SCALE: f64 = 0.0005;
const AZURE_SECRET: &str = "azure-client-secret-never-for-a-sandbox";

#[tokio::test(flavor = "multi_thread")]
async fn a_production_environment_is_not_redirected_by_owui_sandbox_url() {
    let h = Harness::start("prod", TIME_SCALE).await;
    let before = h.journal().await.len();
    // Not the harness's command: it passes --sandbox-url explicitly.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_owui-deploy"));
    cmd.current_dir(h.path())
        .args(["plan", "hub", "--auth", "cli"])
        .env("OWUI_SANDBOX_URL", h.sandbox.url())
        .env("OWUI_SANDBOX_CA", &h.ca_file)
        .env("OWUI_ENV", &h.env_file)
        .env("AZURE_CLIENT_ID", "11111111-1111-1111-1111-111111111111")
        .env("AZURE_CLIENT_SECRET", AZURE_SECRET)
        // No Azure CLI: the run fails fast at its first token, wherever it would go.
        .env("PATH", "/nonexistent")
        .env_remove("AZURE_FEDERATED_TOKEN_FILE")
        .env_remove("IDENTITY_ENDPOINT")
        .env_remove("MSI_ENDPOINT");
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::task::spawn_blocking(move || cmd.output()),
    )
    .await
    .expect("the run ends")
    .expect("join")
    .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("OWUI_SANDBOX_URL is ignored"),
        "says why it was not redirected: {stderr}"
    );
    assert!(!stderr.contains(AZURE_SECRET), "{stderr}");
    let journal = h.journal().await;
    assert_eq!(
        journal.len(),
        before,
        "the sandbox received nothing: {journal:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_explicit_sandbox_url_uses_the_sandbox_credential_never_the_azure_one() {
    let h = Harness::start("prod", TIME_SCALE).await;
    let mark = h.mark().await;
    let run = h
        .run_env(
            &["plan", "hub"],
            &[
                ("AZURE_CLIENT_ID", "11111111-1111-1111-1111-111111111111"),
                ("AZURE_CLIENT_SECRET", AZURE_SECRET),
            ],
        )
        .await;
    assert!(run.code == 0 || run.code == 2, "{}", run.stderr);
    let tokens: Vec<_> = h
        .journal_since(mark)
        .await
        .into_iter()
        .filter(|e| e["path"].as_str().is_some_and(|p| p.contains("/oauth2/")))
        .collect();
    assert!(!tokens.is_empty(), "the run asked the sandbox for tokens");
    for t in &tokens {
        assert_eq!(t["request_body"]["client_id"], "sandbox", "{t:#}");
    }
    assert!(!format!("{tokens:?}").contains(AZURE_SECRET));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_error_echoing_a_secret_is_scrubbed_everywhere_it_is_printed() {
    let password = "Echoed-Pa55word-value-42";
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.admin_post(
        "/_sandbox/faults",
        &json!({"rules": [{
            "method": "PUT",
            "path": "*/resourceGroups/*",
            "kind": "status",
            "status": 400,
            "code": "InvalidParameter",
            "message": format!("The value '{password}' of administratorLoginPassword is not allowed."),
        }]}),
    )
    .await;
    for extra in [&[][..], &["-vv"][..], &["--output", "json"][..]] {
        let mut args = vec!["hub", "--yes", "--no-progress"];
        args.extend_from_slice(extra);
        let run = h
            .run_env(&args, &[("OWUI_POSTGRES_ADMIN_PASSWORD", password)])
            .await;
        assert_eq!(run.code, 1, "{extra:?}: {}\n{}", run.stdout, run.stderr);
        let all = format!("{}\n{}", run.stdout, run.stderr);
        assert!(
            all.contains("InvalidParameter"),
            "{extra:?}: the error is shown: {all}"
        );
        assert!(!all.contains(password), "{extra:?}: {all}");
        assert!(all.contains("(redacted)"), "{extra:?}: {all}");
    }
}
