//! A write whose answer is lost (the connection drops after the sandbox served it)
//! still converges in the same run.

mod cli_support;

use cli_support::Harness;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_to_the_service_principal_create_converges_in_the_same_run() {
    let h = Harness::start("sandbox", 0.0005).await;
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    h.admin_post(
        "/_sandbox/faults",
        &json!({"rules": [{
            "method": "POST",
            "path": "/v1.0/servicePrincipals",
            "kind": "drop",
            "after_processing": true,
            "nth": 1
        }]}),
    )
    .await;
    let run = h.run(&["spoke", "--yes", "--no-progress"]).await;
    run.ok();
    let faults = h.admin_get("/_sandbox/faults").await;
    assert!(
        faults.to_string().contains("\"fired\":1"),
        "the drop fault fired: {faults:#}"
    );
    let (status, sps) = h.graph_get("/v1.0/servicePrincipals").await;
    assert_eq!(status, 200, "{sps:#}");
    let ours = sps["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter(|sp| sp["appId"] != "00000003-0000-0000-c000-000000000000")
        .count();
    assert_eq!(
        ours, 1,
        "exactly one service principal for the app: {sps:#}"
    );
    let mark = h.mark().await;
    h.run(&["plan", "spoke"]).await.ok();
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());
}

/// The first deploy stops when the container app is refused: `WEBUI_SECRET_KEY` is already
/// in Key Vault (stored before the app that reads it), and the next run keeps it rather
/// than generating another. The Redis access key is read (listKeys) once, right before
/// the `redis-url` secret is written.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_first_deploy_keeps_the_stored_webui_secret_key() {
    let h = Harness::start("sandbox", 0.0005).await;
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    h.admin_post(
        "/_sandbox/faults",
        &json!({"rules": [{
            "method": "PUT",
            "path": "*/Microsoft.App/containerApps/*",
            "kind": "status",
            "status": 400,
            "code": "ContainerAppOperationError",
            "nth": 1
        }]}),
    )
    .await;
    let mark = h.mark().await;
    let first = h.run(&["spoke", "--yes", "--no-progress"]).await;
    assert_ne!(
        first.code, 0,
        "the refused app fails the run: {}",
        first.stderr
    );
    let journal = h.journal_since(mark).await;
    let seq_of = |method: &str, suffix: &str| -> Vec<usize> {
        journal
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e["method"] == method
                    && e["path"]
                        .as_str()
                        .and_then(|p| p.split('?').next())
                        .is_some_and(|p| p.ends_with(suffix))
            })
            .map(|(i, _)| i)
            .collect()
    };
    let key_writes = seq_of("PUT", "/secrets/webui-secret-key");
    assert_eq!(key_writes.len(), 1, "the key is stored once");
    let app_writes = seq_of("PUT", "/containerApps/open-webui");
    assert!(
        app_writes.first().is_some_and(|a| *a > key_writes[0]),
        "stored before the app that reads it"
    );
    let stored = journal[key_writes[0]]["request_body"]["properties"]["value"].clone();
    assert!(stored.as_str().is_some_and(|k| k.len() >= 32));
    let list_keys = seq_of(
        "POST",
        "/redisEnterprise/redis-owui-sandbox/databases/default/listKeys",
    );
    let url_writes = seq_of("PUT", "/secrets/redis-url");
    assert_eq!(list_keys.len(), 1, "the Redis key is read once");
    assert_eq!(url_writes.len(), 1);
    assert!(
        list_keys[0] < url_writes[0]
            && !journal[list_keys[0] + 1..url_writes[0]]
                .iter()
                .any(|e| e["method"] == "PUT"
                    && e["path"].as_str().is_some_and(|p| p.contains("/secrets/"))),
        "listKeys right before the redis-url secret is written"
    );

    h.admin_post("/_sandbox/faults", &json!({"rules": []}))
        .await;
    let mark = h.mark().await;
    h.run(&["spoke", "--yes", "--no-progress"]).await.ok();
    let writes = h.write_summary_since(mark).await;
    assert!(
        writes
            .iter()
            .all(|w| !w.ends_with("/secrets/webui-secret-key")),
        "the stored key is kept: {writes:?}"
    );
    assert!(
        writes
            .iter()
            .any(|w| w.ends_with("/containerApps/open-webui")),
        "{writes:?}"
    );
    let mark = h.mark().await;
    h.run(&["plan", "spoke"]).await.ok();
    assert_eq!(h.writes_since(mark).await, Vec::<String>::new());
}
