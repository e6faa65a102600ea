//! Every ARM request body the stages build validates against the ARM template
//! JSON Schemas in `../shared/arm-schemas/`, with no unknown property names; the
//! API version table and the specs agree.

mod schema;

use owui_deploy::azure::api_versions::API_VERSIONS;
use owui_deploy::config::Environment;
use owui_deploy::engine::{Api, ResourceSpec};
use owui_deploy::stages::{self, StageOptions};
use schema::Schemas;
use std::collections::BTreeSet;
use std::path::Path;

/// The environments to check: the fixture plus every shipped environment file.
fn environments() -> Vec<(String, Environment)> {
    let mut out = vec![(
        "tests/schema FIXTURE_ENV".to_string(),
        schema::fixture_env(),
    )];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("environments");
    for name in ["dev", "prod", "sandbox"] {
        let path = dir.join(format!("{name}.toml"));
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let env: Environment =
                    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                out.push((path.display().to_string(), env));
            }
            Err(_) => println!("note: {} does not exist; not checked", path.display()),
        }
    }
    out
}

fn all_specs(env: &Environment) -> Vec<ResourceSpec> {
    stages::desired(env, &StageOptions::default()).expect("desired resources build")
}

#[test]
fn every_arm_body_validates_without_unknown_properties() {
    let Some(shared) = schema::shared_dir("every_arm_body_validates_without_unknown_properties")
    else {
        return;
    };
    let mut schemas = Schemas::new(&shared);
    let mut errors = Vec::new();
    let mut checked = 0;
    let without_certificate = StageOptions {
        without_certificate: true,
        ..StageOptions::default()
    };
    let fixture_without_certificate = stages::desired(&schema::fixture_env(), &without_certificate)
        .expect("desired resources build");
    let sets = environments()
        .into_iter()
        .map(|(source, env)| (source, all_specs(&env)))
        .chain([(
            "FIXTURE_ENV without certificate".to_string(),
            fixture_without_certificate,
        )]);
    for (source, specs) in sets {
        for spec in specs {
            if !matches!(spec.api, Api::Arm { .. }) {
                continue;
            }
            checked += 1;
            for e in schemas.check(&spec) {
                errors.push(format!("[{source}] {e}"));
            }
        }
    }
    assert!(checked > 40, "only {checked} bodies checked");
    assert!(
        errors.is_empty(),
        "{} problems:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[test]
fn harness_catches_unknown_properties_and_schema_errors() {
    let Some(shared) = schema::shared_dir("harness_catches_unknown_properties_and_schema_errors")
    else {
        return;
    };
    let mut schemas = Schemas::new(&shared);
    let env = schema::fixture_env();
    let specs = all_specs(&env);
    let find = |t: &str| {
        specs
            .iter()
            .find(|s| matches!(&s.api, Api::Arm { type_name, .. } if type_name == t))
            .cloned()
            .unwrap_or_else(|| panic!("no {t}"))
    };

    // A misspelt nested property.
    let mut vnet = find("Microsoft.Network/virtualNetworks");
    vnet.body["properties"]["subnets"][0]["properties"]["adressPrefix"] = "10.0.0.0/27".into();
    let errs = schemas.check(&vnet);
    assert!(
        errs.iter()
            .any(|e| e.contains("unknown property /properties/subnets/0/properties/adressPrefix")),
        "{errs:?}"
    );

    // An unknown key at the root and one under `properties`.
    let mut pip = find("Microsoft.Network/publicIPAddresses");
    pip.body["zone"] = "1".into();
    pip.body["properties"]["dnsSetting"] = serde_json::json!({});
    let errs = schemas.check(&pip);
    assert!(
        errs.iter().any(|e| e.ends_with("unknown property /zone")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.ends_with("unknown property /properties/dnsSetting")),
        "{errs:?}"
    );

    // A wrong enum value.
    let mut kv = find("Microsoft.KeyVault/vaults");
    kv.body["properties"]["sku"]["name"] = "gold".into();
    let errs = schemas.check(&kv);
    assert!(errs.iter().any(|e| e.contains("schema:")), "{errs:?}");

    // An unknown top-level key (through oneOf/allOf of the container app schema).
    let mut app = find("Microsoft.App/containerApps");
    app.body["properties"]["template"]["containers"][0]["enviroment"] = serde_json::json!([]);
    let errs = schemas.check(&app);
    assert!(
        errs.iter()
            .any(|e| e.contains("unknown property /properties/template/containers/0/enviroment")),
        "{errs:?}"
    );

    // Free-form maps stay free: tags and user-assigned identity keys.
    let env_spec = find("Microsoft.App/managedEnvironments");
    assert!(schemas.check(&env_spec).is_empty());
}

#[test]
fn every_pinned_version_has_a_schema_and_the_table_matches_the_specs() {
    let Some(shared) =
        schema::shared_dir("every_pinned_version_has_a_schema_and_the_table_matches_the_specs")
    else {
        return;
    };
    let mut schemas = Schemas::new(&shared);
    for (type_name, version) in API_VERSIONS {
        let groups = [
            "resourceDefinitions",
            "subscription_resourceDefinitions",
            "extension_resourceDefinitions",
        ];
        if let Err(e) = schemas.find(type_name, version, &groups) {
            panic!("{type_name} {version}: {e}");
        }
    }

    let table: BTreeSet<String> = API_VERSIONS
        .iter()
        .map(|(t, _)| t.to_ascii_lowercase())
        .collect();
    assert_eq!(
        table.len(),
        API_VERSIONS.len(),
        "a type appears twice in the table"
    );
    let mut used = BTreeSet::new();
    for (_, env) in environments() {
        for spec in all_specs(&env) {
            if let Api::Arm {
                type_name,
                api_version,
            } = &spec.api
            {
                assert_eq!(
                    owui_deploy::azure::api_versions::api_version(type_name),
                    Some(api_version.as_str()),
                    "{} does not use the pinned version",
                    spec.address
                );
                used.insert(type_name.to_ascii_lowercase());
            }
        }
    }
    let unused: Vec<_> = table.difference(&used).collect();
    let missing: Vec<_> = used.difference(&table).collect();
    assert!(unused.is_empty(), "table lines no spec uses: {unused:?}");
    assert!(missing.is_empty(), "types used but not pinned: {missing:?}");
}

#[test]
fn names_scopes_and_keys() {
    assert_eq!(
        schema::resource_name(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a"
        ),
        "a"
    );
    assert_eq!(
        schema::resource_name("/subscriptions/s/resourceGroups/rg"),
        "rg"
    );
    assert_eq!(
        schema::groups_for("/subscriptions/s/resourceGroups/rg"),
        vec!["subscription_resourceDefinitions"]
    );
    assert_eq!(
        schema::groups_for(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"
        ),
        vec!["resourceDefinitions"]
    );
    assert_eq!(
        schema::groups_for(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/providers/Microsoft.Authorization/roleAssignments/g"
        )[0],
        "extension_resourceDefinitions"
    );
    assert_eq!(
        schema::definition_key("Microsoft.Storage/storageAccounts/fileServices/shares"),
        "storageAccounts_fileServices_shares"
    );
    let marked = serde_json::json!({
        "a": "${ref:/x/y#/properties/principalId}",
        "b": ["https://${ref:/x/y#/properties/gatewayUrl}/openai/v1"],
        "c": "${secret:pw}",
    });
    let plain = schema::replace_markers(&marked);
    assert_eq!(plain["a"], "11111111-2222-3333-4444-555555555555");
    assert_eq!(
        plain["b"][0],
        "https://https://apim-example.azure-api.net/openai/v1"
    );
    assert_eq!(plain["c"], "secret-value");
}

/// The environment lock's body (a tag on the subscription, PATCHed with
/// `Tags - Update At Scope`). The REST body is `{operation, properties: {tags}}`
/// (azure-rest-api-specs, Microsoft.Resources examples PutTagsSubscription.json
/// and PatchTagsSubscription.json). The template schema's `Microsoft.Resources/tags`
/// points `properties` at a `Tags` definition that is the string map of resource
/// tags (two definitions of that name collapsed into one), so the shape is
/// checked here and the tag map itself is validated against that definition.
#[test]
fn the_environment_lock_body_validates() {
    let Some(shared) = schema::shared_dir("the_environment_lock_body_validates") else {
        return;
    };
    let mut schemas = Schemas::new(&shared);
    let value = owui_deploy::cli::lock::new_lock_value("up");
    assert!(value.len() <= 256, "ARM's tag value limit: {}", value.len());
    for operation in ["Merge", "Delete"] {
        let body =
            owui_deploy::cli::lock::tag_patch_body(operation, "owui-deploy-lock-dev", &value);
        let keys: BTreeSet<&str> = body
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, BTreeSet::from(["operation", "properties"]));
        assert!(["Merge", "Replace", "Delete"].contains(&body["operation"].as_str().unwrap_or("")));
        let props: BTreeSet<&str> = body["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(props, BTreeSet::from(["tags"]));
        let spec = ResourceSpec {
            address: owui_deploy::engine::Address(
                "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Resources/tags/default".into(),
            ),
            label: "environment lock".into(),
            stage: owui_deploy::engine::Stage::Hub,
            api: Api::Arm {
                type_name: "Microsoft.Resources/tags".into(),
                api_version: "2024-11-01".into(),
            },
            body: serde_json::json!({ "properties": body["properties"]["tags"] }),
            depends_on: Default::default(),
            rules: Default::default(),
            mode: owui_deploy::engine::Mode::Managed,
            serial_key: None,
            taggable: false,
        };
        let errors = schemas.check(&spec);
        assert!(errors.is_empty(), "{operation}: {errors:#?}");
    }
}
