//! Writes Azure makes visible late (issue 10 §2), through the library path of
//! `owui-deploy up` against the in-process sandbox with its delay windows on:
//! Microsoft Graph replication (a new application invisible to its service
//! principal's creation, a new service principal to the consent grant), data-plane
//! role propagation (a Container App reading its Key Vault secret, an App Gateway
//! its Key Vault certificate, through an identity whose role is brand new), and
//! PostgreSQL or the App Gateway still provisioning when an interrupted `up` is
//! resumed (PostgreSQL's children are refused with `ServerIsBusy` meanwhile).

mod evidence_support;

use evidence_support::*;
use owui_deploy::engine::{
    ApplyOptions, CancelToken, EngineError, Event, EventSink, render_plan_human,
};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SCALE: f64 = 0.0005;

/// Retry reasons seen in the events of a run.
#[derive(Clone, Default)]
struct Reasons(Arc<Mutex<Vec<String>>>);

impl Reasons {
    fn sink(&self) -> EventSink {
        let seen = self.0.clone();
        EventSink::new(move |e| {
            if let Event::Retrying { reason, .. } = e {
                seen.lock().unwrap().push(reason.clone());
            }
        })
    }

    fn any(&self, needle: &str) -> bool {
        self.0.lock().unwrap().iter().any(|r| r.contains(needle))
    }

    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A sandbox whose Graph replication and role propagation windows are long enough
/// (scaled: 250 ms and 4 s) that every write right after its dependency meets them.
/// (The Container App is written a second or two after its identity's role.)
async fn world_with_windows() -> World {
    let world = World::start(SCALE, 7).await;
    world
        .config(json!({"graph_replication_delay_secs": 500.0, "rbac_propagation_secs": 8000.0}))
        .await;
    world
}

fn deployment(tmp: &std::path::Path) -> Deployment {
    load_env(tmp, "sandbox", &sandbox_env_text(), &test_password("prop"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_converges_through_replication_and_propagation_windows_then_plans_clean() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = deployment(tmp.path());
    let world = world_with_windows().await;
    let backend = world.backend(&d.loaded.env.azure.tenant_id, client_settings(SCALE));
    // With the admin consent grant: a Graph create that references the new service principal.
    let model = owui_deploy::stages::model(
        &d.loaded.env,
        &owui_deploy::stages::StageOptions {
            environment_dir: d.loaded.dir.clone(),
            without_certificate: true,
            grant_admin_consent: true,
        },
        UP,
    )
    .expect("stage model");
    let reasons = Reasons::default();
    let run = up(
        backend.clone(),
        &model,
        &d.loaded.env.name,
        &d.secrets,
        &ApplyOptions {
            principal_retry_timeout: Duration::from_secs(30),
            ..apply_options(SCALE)
        },
        reasons.sink(),
        CancelToken::new(),
    )
    .await;
    assert!(
        run.ok(),
        "up failed:\n{}",
        run.error_text().unwrap_or_default()
    );
    for expected in [
        "NoBackingApplicationObject",
        "Request_ResourceNotFound",
        "InvalidParameterValueInContainerTemplate",
    ] {
        assert!(
            reasons.any(expected),
            "no retry for {expected}: {:#?}",
            reasons.all()
        );
    }
    let again = plan_only(&backend, &model, &d.loaded.env.name)
        .await
        .expect("plan");
    assert!(
        !again.has_changes() && again.in_progress().is_empty(),
        "{}",
        render_plan_human(&again, false)
    );
    world.sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_retries_the_windows_fail_up_with_azures_codes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = deployment(tmp.path());
    let world = world_with_windows().await;
    // Only the windows under test: no PrincipalNotFound window for role assignments.
    world.config(json!({"principal_delay_secs": 0.0})).await;
    let backend = world.backend(&d.loaded.env.azure.tenant_id, client_settings(SCALE));
    let opts = ApplyOptions {
        principal_retry_timeout: Duration::ZERO,
        ..apply_options(SCALE)
    };
    let run = up(
        backend,
        &d.model(UP),
        &d.loaded.env.name,
        &d.secrets,
        &opts,
        EventSink::discard(),
        CancelToken::new(),
    )
    .await;
    let text = run.error_text().expect("up must fail without the retries");
    for code in [
        "Request_BadRequest",
        "InvalidParameterValueInContainerTemplate",
    ] {
        assert!(text.contains(code), "{code} missing from:\n{text}");
    }
    world.sandbox.shutdown().await;
}

/// Cancels `up` as soon as the journal shows the PUT of `needle` answered, while
/// that resource is still provisioning; the resumed plan must name it as in
/// progress (never "No changes"), and the resumed `up` must converge.
async fn interrupt_while_provisioning(needle: &str, scale: f64) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = deployment(tmp.path());
    let world = Arc::new(World::start(scale, 3).await);
    let backend = world.backend(&d.loaded.env.azure.tenant_id, client_settings(scale));
    let model = d.model(UP);
    let opts = apply_options(scale);
    let cancel = CancelToken::new();
    let watcher = {
        let cancel = cancel.clone();
        let needle = needle.to_ascii_lowercase();
        let admin = world.clone();
        tokio::spawn(async move {
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(120) {
                let put = admin.journal().await.iter().any(|e| {
                    e["method"] == "PUT"
                        && e["status"].as_u64().is_some_and(|s| s < 300)
                        && e["path"]
                            .as_str()
                            .is_some_and(|p| p.to_ascii_lowercase().contains(&needle))
                });
                if put {
                    cancel.cancel();
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let first = up(
        backend.clone(),
        &model,
        &d.loaded.env.name,
        &d.secrets,
        &opts,
        EventSink::discard(),
        cancel,
    )
    .await;
    watcher.abort();
    assert!(
        matches!(first.result, Some(Err(EngineError::Cancelled { .. }))),
        "the first up was not interrupted: {:?}",
        first.error_text()
    );
    let resumed = plan_only(&backend, &model, &d.loaded.env.name)
        .await
        .expect("plan");
    let shown = render_plan_human(&resumed, false);
    let busy: Vec<String> = resumed
        .changes
        .iter()
        .filter(|c| c.wait)
        .map(|c| c.address.to_string().to_ascii_lowercase())
        .collect();
    assert!(
        busy.iter()
            .any(|a| a.contains(&needle.to_ascii_lowercase())),
        "{needle} should still be in progress: {busy:?}\n{shown}"
    );
    assert!(!shown.contains("No changes"), "{shown}");
    let run = up(
        backend.clone(),
        &model,
        &d.loaded.env.name,
        &d.secrets,
        &opts,
        EventSink::discard(),
        CancelToken::new(),
    )
    .await;
    assert!(
        run.ok(),
        "the resumed up failed:\n{}",
        run.error_text().unwrap_or_default()
    );
    let last = plan_only(&backend, &model, &d.loaded.env.name)
        .await
        .expect("plan");
    assert!(
        !last.has_changes() && last.in_progress().is_empty(),
        "{}",
        render_plan_human(&last, false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_while_postgres_provisions_the_resume_waits_and_converges() {
    // PostgreSQL creation: 360 s realistic, 1.8 s here; it reports `properties.state`.
    interrupt_while_provisioning("/Microsoft.DBforPostgreSQL/flexibleServers/", 0.005).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_while_the_app_gateway_provisions_the_resume_waits_and_converges() {
    // App Gateway creation: 360 s realistic, 1.8 s here; it reports `Updating`.
    interrupt_while_provisioning("/Microsoft.Network/applicationGateways/", 0.005).await;
}

/// A minimal model: an RBAC vault with a certificate secret, the gateway's
/// identity, its Key Vault Secrets User role, and an App Gateway reading the
/// certificate from Key Vault through that identity right after the role.
fn gateway_model() -> owui_deploy::engine::Model {
    use owui_deploy::azure::api_versions::api_version;
    use owui_deploy::engine::{
        Address, Api, DiffRules, Mode, Model, OWNER_TAG, Reference, ResourceSpec, Stage,
    };
    let rg = "/subscriptions/00000000-0000-0000-0000-0000000a9e00/resourceGroups/rg-agw";
    let spec = |address: String, type_name: &str, body: serde_json::Value| ResourceSpec {
        label: address.rsplit('/').next().unwrap_or("").to_string(),
        address: Address(address),
        stage: Stage::Finalize,
        api: Api::Arm {
            type_name: type_name.into(),
            api_version: api_version(type_name).expect("pinned").into(),
        },
        body,
        depends_on: Default::default(),
        rules: DiffRules::default(),
        mode: Mode::Managed,
        serial_key: None,
        taggable: false,
    };
    let tags = json!({OWNER_TAG: "agw"});
    let group = spec(
        rg.to_string(),
        "Microsoft.Resources/resourceGroups",
        json!({"location": "uksouth", "tags": tags}),
    );
    let vault = spec(
        format!("{rg}/providers/Microsoft.KeyVault/vaults/kv-agw"),
        "Microsoft.KeyVault/vaults",
        json!({"location": "uksouth", "properties": {"tenantId": "00000000-0000-0000-0000-0000000000aa",
            "sku": {"family": "A", "name": "standard"}, "enableRbacAuthorization": true}}),
    );
    let mut secret = spec(
        format!("{}/secrets/cert", vault.address),
        "Microsoft.KeyVault/vaults/secrets",
        json!({"properties": {"value": "certificate-bytes"}}),
    );
    secret.rules = owui_deploy::stages::resources::key_vault_secret::rules();
    let identity = spec(
        format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-agw"),
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        json!({"location": "uksouth"}),
    );
    let role = spec(
        format!(
            "{}/providers/Microsoft.Authorization/roleAssignments/{}",
            vault.address,
            uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, b"agw-secrets-user")
        ),
        "Microsoft.Authorization/roleAssignments",
        json!({"properties": {
            "roleDefinitionId": "/subscriptions/00000000-0000-0000-0000-0000000a9e00/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6",
            "principalId": Reference::new(identity.address.clone(), "/properties/principalId").marker(),
            "principalType": "ServicePrincipal"}}),
    );
    let gateway = spec(
        format!("{rg}/providers/Microsoft.Network/applicationGateways/agw"),
        "Microsoft.Network/applicationGateways",
        json!({"location": "uksouth",
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity.address.as_str(): {}}},
            "properties": {"sslCertificates": [{"name": "cert", "properties": {
                "keyVaultSecretId": Reference::new(secret.address.clone(), "/properties/secretUri").marker()}}]}}),
    );
    let mut resources = vec![group, vault, secret, identity, role, gateway];
    for i in 1..resources.len() {
        let previous = resources[i - 1].address.clone();
        resources[i].depends_on.insert(previous);
    }
    Model {
        resources,
        discoveries: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_gateway_is_resent_until_its_key_vault_role_is_effective() {
    for retry in [false, true] {
        let world = World::start(SCALE, 11).await;
        // 400 s realistic -> 200 ms: the gateway's first PUT meets it.
        world
            .config(json!({"rbac_propagation_secs": 400.0, "principal_delay_secs": 0.0}))
            .await;
        let backend = world.backend(
            "00000000-0000-0000-0000-0000000000aa",
            client_settings(SCALE),
        );
        let opts = ApplyOptions {
            principal_retry_timeout: if retry {
                Duration::from_secs(30)
            } else {
                Duration::ZERO
            },
            ..apply_options(SCALE)
        };
        let reasons = Reasons::default();
        let model = gateway_model();
        let run = up(
            backend.clone(),
            &model,
            "agw",
            &owui_deploy::engine::Secrets::new(),
            &opts,
            reasons.sink(),
            CancelToken::new(),
        )
        .await;
        if retry {
            assert!(run.ok(), "{}", run.error_text().unwrap_or_default());
            assert!(
                reasons.any("ApplicationGatewayKeyVaultSecretAccessDenied"),
                "{:#?}",
                reasons.all()
            );
            let again = plan_only(&backend, &model, "agw").await.expect("plan");
            assert!(
                !again.has_changes() && again.in_progress().is_empty(),
                "{}",
                render_plan_human(&again, false)
            );
        } else {
            let text = run.error_text().expect("fails without the retry");
            assert!(
                text.contains("ApplicationGatewayKeyVaultSecretException"),
                "{text}"
            );
        }
        world.sandbox.shutdown().await;
    }
}
