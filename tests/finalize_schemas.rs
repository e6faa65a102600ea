//! Every ARM body of the finalize stage, in every variant the environment file and
//! the stage options produce, validates against `../shared/arm-schemas/` with no
//! unknown property names (harness: `tests/schema`).

mod finalize_env;
mod schema;

use owui_deploy::engine::{Api, Stage};
use owui_deploy::stages::StageOptions;
use owui_deploy::stages::finalize::finalize_resources;
use schema::Schemas;
use std::collections::BTreeSet;

#[test]
fn every_finalize_body_validates_in_every_variant() {
    let Some(shared) = schema::shared_dir("every_finalize_body_validates_in_every_variant") else {
        return;
    };
    let mut schemas = Schemas::new(&shared);
    let pool = "[[foundry.pool]]\nname = \"fdy-owui-swc\"\nlocation = \"swedencentral\"\npriority = 2\nweight = 50\n";
    let quota = "[apim.token_limit]\ncounter_key = \"ip\"\ntoken_quota = 1000000\nquota_period = \"Monthly\"\n";
    let mut trusted = finalize_env::base();
    trusted.domain.trusted_root_certificate_path = Some("root.pem".into());
    let mut link = finalize_env::base();
    link.apim.openapi = Some("https://example.com/openai.json".into());
    let variants = vec![
        ("base", finalize_env::base(), false),
        (
            "pool+quota",
            finalize_env::with(&format!("{pool}{quota}")),
            false,
        ),
        ("trusted root", trusted, false),
        ("openapi link", link, false),
        ("without certificate", finalize_env::base(), true),
    ];
    let mut errors = Vec::new();
    let mut types = BTreeSet::new();
    let mut checked = 0;
    for (name, env, without_certificate) in variants {
        let opts = StageOptions {
            without_certificate,
            ..StageOptions::default()
        };
        for spec in finalize_resources(&env, &opts).expect("finalize builds") {
            assert_eq!(spec.stage, Stage::Finalize);
            let Api::Arm { type_name, .. } = &spec.api else {
                continue;
            };
            types.insert(type_name.clone());
            checked += 1;
            errors.extend(
                schemas
                    .check(&spec)
                    .into_iter()
                    .map(|e| format!("[{name}] {e}")),
            );
        }
    }
    assert!(
        errors.is_empty(),
        "{} problems:\n{}",
        errors.len(),
        errors.join("\n")
    );
    assert!(checked >= 5 * 23, "only {checked} bodies checked");
    for t in [
        "Microsoft.ApiManagement/service/namedValues",
        "Microsoft.ApiManagement/service/backends",
        "Microsoft.ApiManagement/service/products",
        "Microsoft.ApiManagement/service/products/apis",
        "Microsoft.ApiManagement/service/apis",
        "Microsoft.ApiManagement/service/apis/policies",
        "Microsoft.ApiManagement/service/apis/diagnostics",
        "Microsoft.ApiManagement/service/loggers",
        "Microsoft.Insights/diagnosticSettings",
        "Microsoft.Authorization/roleAssignments",
        "Microsoft.Network/privateDnsZones",
        "Microsoft.Network/privateDnsZones/A",
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
        "Microsoft.Network/applicationGateways",
    ] {
        assert!(types.contains(t), "{t} not checked");
    }
}

#[test]
fn a_misspelt_property_is_caught() {
    // Guards the test above: the unknown-property walk sees finalize bodies.
    let Some(shared) = schema::shared_dir("a_misspelt_property_is_caught") else {
        return;
    };
    let mut schemas = Schemas::new(&shared);
    let specs = finalize_resources(&finalize_env::base(), &StageOptions::default()).unwrap();
    let mut diag = specs
        .into_iter()
        .find(|s| s.address.as_str().ends_with("/diagnostics/azuremonitor"))
        .unwrap();
    diag.body["properties"]["largeLanguageModel"]["request"] =
        diag.body["properties"]["largeLanguageModel"]["requests"].clone();
    let errors = schemas.check(&diag);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("unknown property /properties/largeLanguageModel/request")),
        "{errors:?}"
    );
}
