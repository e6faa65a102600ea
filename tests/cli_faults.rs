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
