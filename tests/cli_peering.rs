//! A hub VNet rewrite (here: a new tag) must not delete the hub -> spoke peering,
//! which the spoke stage declares as a separate child of the hub VNet.

mod cli_support;

use cli_support::Harness;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn rewriting_the_hub_vnet_keeps_the_peering_to_the_spoke() {
    let h = Harness::start("sandbox", 0.0005).await;
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    h.run(&["spoke", "--yes", "--no-progress"]).await.ok();

    h.write_env(&h.env_text().replace(
        "purpose = \"sandbox\"",
        "purpose = \"sandbox\"\ncost-center = \"ai-platform\"",
    ));
    let mark = h.mark().await;
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    let writes = h.writes_since(mark).await;
    assert!(
        writes.iter().any(|w| w.starts_with("PUT ")
            && w.to_ascii_lowercase()
                .contains("/virtualnetworks/vnet-hub?")),
        "the tag change rewrites the hub VNet: {writes:#?}"
    );

    assert_no_peering_recreated(&h).await;
}

/// `plan spoke` would create no peering again (none was lost).
async fn assert_no_peering_recreated(h: &Harness) {
    let plan = h.run(&["plan", "spoke", "--output", "json"]).await;
    plan.ok();
    let doc: Value = serde_json::from_str(&plan.stdout).expect("plan JSON");
    let recreated: Vec<&Value> = doc["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| {
            c["action"] == "create"
                && c["address"]
                    .as_str()
                    .unwrap_or_default()
                    .to_ascii_lowercase()
                    .contains("/virtualnetworkpeerings/")
        })
        .collect();
    assert!(
        recreated.is_empty(),
        "peering lost by the hub VNet PUT: {recreated:#?}"
    );
}

/// The same rewrite from a saved plan: the plan carries the live peering (read at
/// plan time), `apply FILE` accepts it as the configuration's and keeps the peering.
#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_rewriting_the_hub_vnet_applies_and_keeps_the_peering() {
    let h = Harness::start("sandbox", 0.0005).await;
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    h.run(&["spoke", "--yes", "--no-progress"]).await.ok();
    h.write_env(&h.env_text().replace(
        "purpose = \"sandbox\"",
        "purpose = \"sandbox\"\ncost-center = \"ai-platform\"",
    ));
    h.run(&["plan", "hub", "--out", "plan.json"]).await.ok();
    let applied = h
        .run(&["apply", "plan.json", "--yes", "--no-progress"])
        .await;
    applied.ok();
    h.run(&["plan", "hub", "--detailed-exitcode"]).await.ok();
    assert_no_peering_recreated(&h).await;
}
