//! The sandbox's preflight APIs answer in the shapes of Microsoft's examples
//! (`../shared/fixtures/arm-examples/`): every property the sandbox answers
//! appears in the example's response at the same place (nothing invented),
//! and the properties the tool reads are there. Needs `../shared` (skips with
//! a printed reason otherwise).

mod cli_support;
mod schema;

use cli_support::Harness;
use serde_json::{Value, json};
use std::path::Path;

const SUB: &str = "00000000-0000-0000-0000-000000000000";

/// The response body of `status` in an example file.
fn example(shared: &Path, file: &str, status: &str) -> Value {
    let path = shared.join("fixtures/arm-examples").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let doc: Value = serde_json::from_str(&text).expect("example JSON");
    doc["responses"][status]["body"].clone()
}

/// Paths (`a.b[].c`) of every object key in `v`.
fn key_paths(v: &Value, prefix: &str, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = format!("{prefix}.{k}");
                out.insert(p.clone());
                key_paths(x, &p, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                key_paths(x, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

fn paths(v: &Value) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    key_paths(v, "", &mut out);
    out
}

/// Nothing the sandbox answers is missing from the example; `needed` are there.
fn same_shape(what: &str, sandbox: &Value, example: &Value, needed: &[&str]) {
    let ours = paths(sandbox);
    let theirs = paths(example);
    let invented: Vec<&String> = ours.difference(&theirs).collect();
    assert!(
        invented.is_empty(),
        "{what}: not in the example: {invented:?}\n{sandbox:#}"
    );
    for n in needed {
        assert!(ours.contains(*n), "{what}: {n} missing\n{sandbox:#}");
    }
}

async fn post(h: &Harness, path: &str, body: Value) -> Value {
    h.arm_send(reqwest::Method::POST, path, &body).await
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_answers_have_the_examples_shapes() {
    let Some(shared) = schema::shared_dir("preflight_answers_have_the_examples_shapes") else {
        return;
    };
    let h = Harness::start("sandbox", 0.0005).await;
    h.admin_post(
        "/_sandbox/preflight",
        &json!({
            "taken_names": [{"type": "Microsoft.KeyVault/vaults", "name": "kv-taken"}],
            "soft_deleted": [{"type": "Microsoft.ApiManagement/service", "name": "apim-old",
                "location": "westus", "resource_group": "rg1", "subscription": SUB}]
        }),
    )
    .await;

    let (_, provider) = h
        .arm_get(&format!(
            "/subscriptions/{SUB}/providers/Microsoft.App?api-version=2025-04-01"
        ))
        .await;
    let ex = example(
        &shared,
        "Microsoft.Resources/2025-04-01/GetProvider.json",
        "200",
    );
    same_shape(
        "provider",
        &provider,
        &ex,
        &[".registrationState", ".namespace"],
    );

    let base = format!("/subscriptions/{SUB}/providers");
    let kv = post(
        &h,
        &format!("{base}/Microsoft.KeyVault/checkNameAvailability?api-version=2024-11-01"),
        json!({"name": "kv-free", "type": "Microsoft.KeyVault/vaults"}),
    )
    .await;
    let ex = example(
        &shared,
        "Microsoft.KeyVault/2024-11-01/checkVaultNameAvailability.json",
        "200",
    );
    same_shape("Key Vault name", &kv, &ex, &[".nameAvailable"]);
    let taken = post(
        &h,
        &format!("{base}/Microsoft.KeyVault/checkNameAvailability?api-version=2024-11-01"),
        json!({"name": "kv-taken", "type": "Microsoft.KeyVault/vaults"}),
    )
    .await;
    assert_eq!(taken["nameAvailable"], false, "{taken:#}");

    let st = post(
        &h,
        &format!("{base}/Microsoft.Storage/checkNameAvailability?api-version=2025-01-01"),
        json!({"name": "stfree", "type": "Microsoft.Storage/storageAccounts"}),
    )
    .await;
    let ex = example(
        &shared,
        "Microsoft.Storage/2025-01-01/StorageAccountCheckNameAvailability.json",
        "200",
    );
    same_shape("storage name", &st, &ex, &[".nameAvailable"]);

    let apim = post(
        &h,
        &format!(
            "{base}/Microsoft.ApiManagement/checkNameAvailability?api-version=2024-06-01-preview"
        ),
        json!({"name": "apim-free"}),
    )
    .await;
    let ex = example(
        &shared,
        "Microsoft.ApiManagement/2024-06-01-preview/ApiManagementServiceCheckNameAvailability.json",
        "200",
    );
    same_shape(
        "APIM name",
        &apim,
        &ex,
        &[".nameAvailable", ".reason", ".message"],
    );
    assert_eq!(apim, ex, "a free APIM name answers exactly as the example");

    let pg = post(
        &h,
        &format!("{base}/Microsoft.DBforPostgreSQL/checkNameAvailability?api-version=2025-08-01"),
        json!({"name": "exampleserver", "type": "Microsoft.DBforPostgreSQL/flexibleServers"}),
    )
    .await;
    let ex = example(
        &shared,
        "Microsoft.DBforPostgreSQL/2025-08-01/NameAvailabilityCheckGlobally.json",
        "200",
    );
    same_shape(
        "PostgreSQL name",
        &pg,
        &ex,
        &[".nameAvailable", ".name", ".type"],
    );

    let domain = post(
        &h,
        &format!(
            "{base}/Microsoft.CognitiveServices/checkDomainAvailability?api-version=2025-06-01"
        ),
        json!({"subdomainName": "contosodemoapp1", "type": "Microsoft.CognitiveServices/accounts"}),
    )
    .await;
    let ex = example(
        &shared,
        "Microsoft.CognitiveServices/2025-06-01/CheckDomainAvailability.json",
        "200",
    );
    same_shape(
        "subdomain",
        &domain,
        &ex,
        &[".isSubdomainAvailable", ".subdomainName", ".type"],
    );

    let loc = format!("{base}/Microsoft.CognitiveServices/locations/westus");
    let (_, models) = h
        .arm_get(&format!("{loc}/models?api-version=2025-06-01"))
        .await;
    let ex = example(
        &shared,
        "Microsoft.CognitiveServices/2025-09-01/ListLocationModels.json",
        "200",
    );
    same_shape(
        "models",
        &models,
        &ex,
        &[
            ".value[].model.format",
            ".value[].model.name",
            ".value[].model.version",
            ".value[].model.skus[].name",
            ".value[].model.skus[].usageName",
        ],
    );

    let (_, usages) = h
        .arm_get(&format!("{loc}/usages?api-version=2025-06-01"))
        .await;
    let ex = example(
        &shared,
        "Microsoft.CognitiveServices/2025-06-01/ListUsages.json",
        "200",
    );
    same_shape(
        "usages",
        &usages,
        &ex,
        &[
            ".value[].name.value",
            ".value[].currentValue",
            ".value[].limit",
        ],
    );

    let (_, perms) = h
        .arm_get(&format!(
            "/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Authorization/permissions?api-version=2022-04-01"
        ))
        .await;
    let ex = example(
        &shared,
        "Microsoft.Authorization/2015-07-01/GetPermissions.json",
        "200",
    );
    same_shape(
        "permissions",
        &perms,
        &ex,
        &[".value[].actions", ".value[].notActions"],
    );

    let (_, deleted) = h
        .arm_get(&format!(
            "{base}/Microsoft.ApiManagement/deletedservices?api-version=2024-06-01-preview"
        ))
        .await;
    let ex = example(
        &shared,
        "Microsoft.ApiManagement/2024-06-01-preview/ApiManagementDeletedServicesListBySubscription.json",
        "200",
    );
    same_shape(
        "deleted services",
        &deleted,
        &ex,
        &[
            ".value[].name",
            ".value[].location",
            ".value[].properties.serviceId",
            ".value[].properties.scheduledPurgeDate",
        ],
    );
    let (status, one) = h
        .arm_get(&format!(
            "{base}/Microsoft.ApiManagement/locations/westus/deletedservices/apim-old?api-version=2024-06-01-preview"
        ))
        .await;
    assert_eq!(status, 200, "{one:#}");
    let ex = example(
        &shared,
        "Microsoft.ApiManagement/2024-06-01-preview/ApiManagementGetDeletedServiceByName.json",
        "200",
    );
    same_shape("deleted service", &one, &ex, &[".properties.deletionDate"]);
}
