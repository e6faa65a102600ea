//! The Entra application is a public client (issue 11 §1): Open WebUI redeems the
//! code with PKCE and no secret, which Entra accepts only for a public client's
//! redirect URI. An application registered as a confidential client (the redirect
//! URI under `web`, as earlier versions did) is moved, and the result re-plans clean.

mod cli_support;

use cli_support::Harness;
use serde_json::json;

/// APIM's 45 minutes take 1.35 s; everything else is far shorter.
const TIME_SCALE: f64 = 0.0005;
const GRAPH: &str = "https://graph.microsoft.com/.default";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confidential_client_registration_is_moved_to_a_public_client() {
    let cli = Harness::start("sandbox", TIME_SCALE).await;
    let env = cli.loaded_environment();
    cli.run(&["up", "--yes", "--no-progress"]).await.ok();
    let path = format!("/v1.0/applications(uniqueName='{}')", env.entra.unique_name);
    let uri = format!("https://{}/oauth/oidc/callback", env.domain.custom_domain);

    // As an earlier version registered it: the redirect URI under `web`.
    let old = json!({
        "isFallbackPublicClient": false,
        "publicClient": {"redirectUris": []},
        "web": {"redirectUris": [uri]},
    });
    let (status, answer) = cli
        .send_as_outsider(reqwest::Method::PATCH, &path, GRAPH, &old)
        .await;
    assert_eq!(status, 204, "{answer}");
    let plan = cli.run(&["plan", "--no-progress"]).await;
    plan.ok();
    assert!(
        plan.stdout.contains("/publicClient/redirectUris")
            && plan.stdout.contains("/isFallbackPublicClient"),
        "{}",
        plan.stdout
    );

    cli.run(&["up", "--yes", "--no-progress"]).await.ok();
    let (status, app) = cli.graph_get(&path).await;
    assert_eq!(status, 200, "{app}");
    assert_eq!(app["isFallbackPublicClient"], true);
    assert_eq!(app["publicClient"]["redirectUris"], json!([uri]));
    assert_eq!(app["web"]["redirectUris"], json!([]));
    assert_eq!(app["passwordCredentials"], json!([]));
    // The service principal answers for the same single redirect URI.
    let sp_path = format!(
        "/v1.0/servicePrincipals(appId='{}')",
        app["appId"].as_str().expect("appId")
    );
    let (_, sp) = cli.graph_get(&sp_path).await;
    assert_eq!(sp["replyUrls"], json!([uri]));

    let mark = cli.mark().await;
    let again = cli.run(&["plan", "--detailed-exitcode"]).await;
    again.ok();
    assert!(again.stdout.contains("No changes"), "{}", again.stdout);
    assert!(cli.writes_since(mark).await.is_empty());
}
