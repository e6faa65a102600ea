//! Writes Azure makes visible late (issue 10 §2), through the library path of
//! `owui-deploy up` against the in-process sandbox with its delay windows on:
//! Microsoft Graph replication (a new application invisible to its service
//! principal's creation, a new service principal to the consent grant), data-plane
//! role propagation (a Container App reading its Key Vault secret through an
//! identity whose role is brand new), and PostgreSQL still provisioning when an
//! interrupted `up` is resumed (its children refused with `ServerIsBusy`).

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
