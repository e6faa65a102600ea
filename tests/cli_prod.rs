//! The shipped production example end to end (issue 11 §6): `up` of
//! `environments/prod.toml` with a throwaway certificate converges against the
//! sandbox, with its WAF policy and the Key Vault private endpoints, and a plan
//! right after is clean.

mod cli_support;

use base64::Engine as _;
use cli_support::Harness;
use owui_deploy::stages::Ids;
use owui_deploy::stages::resources::waf_policy;

/// APIM's 45 minutes take 1.35 s; everything else is far shorter.
const TIME_SCALE: f64 = 0.0005;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prod_example_converges_and_replans_clean() {
    let cli = Harness::start("prod", TIME_SCALE).await;
    let env = cli.loaded_environment();
    let bytes: Vec<u8> = (0..600).map(|_| rand::random::<u8>()).collect();
    let pfx = base64::engine::general_purpose::STANDARD.encode(bytes);
    let cert = [("OWUI_CERTIFICATE_PFX_BASE64", pfx.as_str())];
    let run = cli.run_env(&["up", "--yes", "--no-progress"], &cert).await;
    run.ok();
    assert!(!run.stdout.contains(&pfx) && !run.stderr.contains(&pfx));

    // WAF_v2 with its policy.
    let ids = Ids::new(&env);
    let gateway = cli
        .arm_resource(
            &ids.hub(
                "Microsoft.Network/applicationGateways",
                &env.app_gateway.name,
            ),
            "Microsoft.Network/applicationGateways",
        )
        .await;
    let policy_id = ids.hub(waf_policy::TYPE, &env.app_gateway.waf_policy_name);
    let linked = gateway["properties"]["firewallPolicy"]["id"].as_str();
    assert_eq!(
        linked.map(str::to_ascii_lowercase),
        Some(policy_id.to_ascii_lowercase())
    );
    let policy = cli.arm_resource(&policy_id, waf_policy::TYPE).await;
    assert_eq!(policy["properties"]["policySettings"]["mode"], "Prevention");

    // key_vault_private_dns: both vaults have an endpoint registered in the zone.
    for (pe, vault) in [
        (ids.hub_key_vault_private_endpoint(), ids.hub_key_vault()),
        (
            ids.spoke_key_vault_private_endpoint(),
            ids.spoke_key_vault(),
        ),
    ] {
        let endpoint = cli
            .arm_resource(&pe, "Microsoft.Network/privateEndpoints")
            .await;
        let target = endpoint["properties"]["privateLinkServiceConnections"][0]["properties"]
            ["privateLinkServiceId"]
            .as_str()
            .unwrap_or_default();
        assert!(target.eq_ignore_ascii_case(&vault), "{endpoint}");
        let group = cli
            .arm_resource(
                &Ids::zone_group(&pe),
                "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
            )
            .await;
        let zone =
            group["properties"]["privateDnsZoneConfigs"][0]["properties"]["privateDnsZoneId"]
                .as_str()
                .unwrap_or_default();
        assert!(
            zone.to_ascii_lowercase()
                .ends_with("/privatednszones/privatelink.vaultcore.azure.net"),
            "{group}"
        );
    }

    // A plan right after: nothing to change, nothing written (the certificate,
    // given once, is kept without being given again).
    let mark = cli.mark().await;
    let plan = cli.run(&["plan", "--detailed-exitcode"]).await;
    plan.ok();
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    let writes = cli.writes_since(mark).await;
    assert!(writes.is_empty(), "plan wrote: {writes:?}");
}
