//! The three shipped environments load with zero problems, and their summaries
//! count what the architecture deploys.

use owui_deploy::config::{self, NamedCloud, ValidationReport};
use std::path::{Path, PathBuf};

fn env_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("environments")
        .join(name)
}

fn load_ok(name: &str) -> config::LoadedEnvironment {
    match config::load(&env_file(name)) {
        Ok(l) => l,
        Err(e) => panic!("{name} must be valid:\n{e}"),
    }
}

#[test]
fn dev_is_valid() {
    let l = load_ok("dev.toml");
    assert_eq!(l.env.name, "dev");
    assert_eq!(l.env.hub_location(), "uksouth");
    assert_eq!(l.env.spoke_location(), "uksouth");
    assert_eq!(l.env.foundry_location(), "swedencentral");
    assert_eq!(l.env.azure.cloud.named(), Some(NamedCloud::AzureCloud));
    assert_eq!(l.digest.len(), 64);
    assert_eq!(l.dir, env_file(""));
}

#[test]
fn prod_is_valid_and_uses_two_subscriptions() {
    let l = load_ok("prod.toml");
    assert_eq!(
        l.env.spoke_subscription_id(),
        "00000000-0000-0000-0000-000000000001"
    );
    let s = config::summarize(&l);
    assert_eq!(s.subscription, "00000000-0000-0000-0000-000000000000");
    assert_eq!(s.spoke_subscription, "00000000-0000-0000-0000-000000000001");
    let spoke = &s.stages[1];
    let deployments = spoke
        .resources
        .iter()
        .find(|r| r.kind == "model deployment")
        .map(|r| r.count);
    // 7 deployments on each of the 2 accounts of the pool.
    assert_eq!(deployments, Some(14));
}

#[test]
fn sandbox_is_valid_without_files_or_certificate() {
    let l = load_ok("sandbox.toml");
    assert!(l.env.azure.cloud.is_sandbox());
    assert_eq!(l.env.domain.certificate_pfx_path, None);
    assert_eq!(l.certificate_source(), config::CertificateSource::EnvVar);
    let names: Vec<&str> = l
        .env
        .foundry
        .deployments
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names, ["gpt-4o", "gpt-4o-mini", "DeepSeek-V3.1"]);
}

#[test]
fn summary_json_and_human() {
    let l = load_ok("sandbox.toml");
    let report = ValidationReport::from_result(&Ok(l));
    let json = report.to_json();
    assert_eq!(json["valid"], true);
    assert_eq!(json["environment"], "sandbox");
    assert_eq!(json["problems"].as_array().map(Vec::len), Some(0));
    let stages: Vec<&str> = json["summary"]["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(stages, ["hub", "spoke", "finalize"]);
    assert_eq!(json["summary"]["cloud"], "sandbox");
    let total: u64 = json["summary"]["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["total"].as_u64())
        .sum();
    assert_eq!(json["summary"]["total_resources"].as_u64(), Some(total));
    // Three deployments on one account; hub: 1 RG + NSG + RT + VNet + 3 subnets + 6 zones
    // (with [redis]: privatelink.redis.azure.net) + 6 links + LAW + AppI + 2 PIPs + APIM
    // + identity + KV = 26.
    assert_eq!(json["summary"]["stages"][0]["total"], 26);
    let text = report.render_human();
    assert!(text.starts_with("environment sandbox ("), "{text}");
    assert!(
        text.contains("stages:        hub (26 in rg-owui-hub-sandbox) -> spoke"),
        "{text}"
    );
    assert!(
        text.contains("models:        gpt-4o, gpt-4o-mini, DeepSeek-V3.1"),
        "{text}"
    );
}

#[test]
fn problems_render_as_error_lines_and_json() {
    let text = std::fs::read_to_string(env_file("sandbox.toml")).expect("read sandbox.toml");
    let broken = text.replace("name = \"sandbox\"", "name = \"Sandbox!\"");
    let result = config::load_str(Path::new("environments/broken.toml"), &broken);
    let report = ValidationReport::from_result(&result);
    assert!(!report.valid);
    let human = report.render_human();
    assert_eq!(
        human,
        "error: environments/broken.toml:9:8: name: environment name may contain only lower-case letters, digits and hyphens, not 'S'\n1 problem\n"
    );
    let json = report.to_json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["summary"], serde_json::Value::Null);
    assert_eq!(json["problems"][0]["code"], "invalid-name");
    assert_eq!(json["problems"][0]["line"], 9);
    assert_eq!(json["problems"][0]["col"], 8);
    assert_eq!(json["problems"][0]["key"], "name");
}
