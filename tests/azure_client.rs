//! The Azure layer against the in-process sandbox: authentication, CRUD, long-running
//! operations, retries under injected faults, errors, Graph.

mod common;

use common::*;
use owui_deploy::azure::{ArmClient, GraphClient};
use owui_deploy::azure::{AuthMethod, AzureError, ClientSettings, NoopObserver, credential};
use serde_json::json;
use std::time::{Duration, Instant};

const RG_API: &str = "2024-11-01";
const NET_API: &str = "2024-05-01";
const DNS_API: &str = "2024-06-01";

fn is_token(path: &str) -> bool {
    path.ends_with("/oauth2/v2.0/token")
}

async fn make_rg(arm: &ArmClient, name: &str) -> serde_json::Value {
    arm.put(
        &rg_id(name),
        RG_API,
        &json!({"location": "westeurope", "tags": {"owui-deploy-env": "test"}}),
        &NoopObserver,
    )
    .await
    .expect("resource group created")
}

fn vnet_body() -> serde_json::Value {
    json!({
        "location": "westeurope",
        "properties": {"addressSpace": {"addressPrefixes": ["10.10.0.0/24"]}}
    })
}

#[tokio::test]
async fn token_is_fetched_cached_and_refreshed_before_expiry() {
    let (sb, arm, _graph) = start_sandbox(0.001).await;
    let admin = Admin::new(&sb);
    // tokens valid 301 s: cached (the refresh window is 300 s), stale after 1 s
    admin.config(json!({"token_lifetime_secs": 301})).await;
    admin.clear_journal().await;
    for _ in 0..4 {
        assert!(arm.get(&rg_id("nope"), RG_API).await.unwrap().is_none());
    }
    let journal = admin.journal().await;
    assert_eq!(
        entries(&journal, "POST", is_token).len(),
        1,
        "one token for 4 requests"
    );
    assert_eq!(entries(&journal, "GET", |p| p.ends_with("/nope")).len(), 4);

    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert!(arm.get(&rg_id("nope"), RG_API).await.unwrap().is_none());
    assert!(arm.get(&rg_id("nope"), RG_API).await.unwrap().is_none());
    let journal = admin.journal().await;
    let tokens = entries(&journal, "POST", is_token);
    assert_eq!(tokens.len(), 2, "refreshed once inside the refresh window");
    // the secret never reaches the journal in clear
    assert_eq!(tokens[0]["request_body"]["client_secret"], "(redacted)");
    assert!(
        tokens[0]["request_body"]["scope"]
            .as_str()
            .unwrap()
            .ends_with("/.default")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn rejected_token_is_an_authentication_error_naming_the_credential() {
    let sb = sandbox(0.001).await;
    let admin = Admin::new(&sb);
    // a token for the wrong audience: ARM answers 401
    let mut eps = endpoints(&sb);
    eps.arm_scope = eps.graph_scope.clone();
    let cred = credential(AuthMethod::Auto, &eps, TENANT).unwrap();
    assert_eq!(cred.name, "ClientSecretCredential (sandbox)");
    let arm = ArmClient::new(&eps, cred, fast_settings()).unwrap();
    admin.clear_journal().await;
    let err = arm.get(&rg_id("rg1"), RG_API).await.unwrap_err();
    match &err {
        AzureError::Authentication {
            credential,
            message,
        } => {
            assert_eq!(credential, "ClientSecretCredential (sandbox)");
            assert!(
                message.contains("InvalidAuthenticationTokenAudience"),
                "{message}"
            );
        }
        other => panic!("expected Authentication, got {other:?}"),
    }
    assert!(err.to_string().contains("ClientSecretCredential"));
    // a 401 is not retried
    let journal = admin.journal().await;
    assert_eq!(entries(&journal, "GET", |p| p.ends_with("/rg1")).len(), 1);

    // the token endpoint refusing the secret is an authentication error too
    admin.config(json!({"client_secret": "rotated"})).await;
    let (arm2, _) = clients(&sb, fast_settings());
    let err = arm2.get(&rg_id("rg1"), RG_API).await.unwrap_err();
    match &err {
        AzureError::Authentication {
            credential,
            message,
        } => {
            assert_eq!(credential, "ClientSecretCredential (sandbox)");
            assert!(message.contains("Invalid client secret"), "{message}");
            assert!(!message.contains("rotated"));
        }
        other => panic!("expected Authentication, got {other:?}"),
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn put_get_delete_roundtrip_with_async_operation_and_location() {
    let (sb, arm, _graph) = start_sandbox(0.002).await;
    let admin = Admin::new(&sb);
    let rg = make_rg(&arm, "rg-roundtrip").await;
    assert_eq!(rg["location"], "westeurope");
    assert_eq!(rg["properties"]["provisioningState"], "Succeeded");

    // virtual network: 201 + Azure-AsyncOperation, final GET of the resource
    let vnet_id = format!(
        "{}/providers/Microsoft.Network/virtualNetworks/vnet-hub",
        rg_id("rg-roundtrip")
    );
    let rec = Recorder::default();
    admin.clear_journal().await;
    let vnet = arm
        .put(&vnet_id, NET_API, &vnet_body(), &rec)
        .await
        .unwrap();
    assert_eq!(vnet["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        vnet["id"].as_str().unwrap().to_ascii_lowercase(),
        vnet_id.to_ascii_lowercase()
    );
    let polls = rec.polls.lock().unwrap().clone();
    assert_eq!(
        polls.last().map(String::as_str),
        Some("Succeeded"),
        "{polls:?}"
    );
    let journal = admin.journal().await;
    assert!(!entries(&journal, "GET", |p| p.contains("/operationStatuses/")).is_empty());
    // the final GET of the resource after the operation succeeded
    assert_eq!(
        entries(&journal, "GET", |p| p.eq_ignore_ascii_case(&vnet_id)).len(),
        1
    );

    let got = arm.get(&vnet_id, NET_API).await.unwrap().expect("exists");
    assert_eq!(
        got["properties"]["addressSpace"]["addressPrefixes"][0],
        "10.10.0.0/24"
    );

    // delete: operation followed, then gone; deleting again is fine
    arm.delete(&vnet_id, NET_API, &NoopObserver).await.unwrap();
    assert!(arm.get(&vnet_id, NET_API).await.unwrap().is_none());
    arm.delete(&vnet_id, NET_API, &NoopObserver).await.unwrap();

    // resource group delete: 202 + Location only
    admin.clear_journal().await;
    let rec = Recorder::default();
    arm.delete(&rg_id("rg-roundtrip"), RG_API, &rec)
        .await
        .unwrap();
    let journal = admin.journal().await;
    assert!(!entries(&journal, "GET", |p| p.contains("/operationResults/")).is_empty());
    assert_eq!(
        rec.polls.lock().unwrap().last().map(String::as_str),
        Some("Succeeded")
    );
    assert!(
        arm.get(&rg_id("rg-roundtrip"), RG_API)
            .await
            .unwrap()
            .is_none()
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn polls_per_operation_stay_within_duration_over_retry_after_plus_two() {
    let scale = 0.02;
    let (sb, arm, _graph) = start_sandbox(scale).await;
    let admin = Admin::new(&sb);
    make_rg(&arm, "rg-polls").await;
    // realistic durations (unscaled seconds) of the sandbox's table; the sandbox announces
    // Retry-After = duration / 40, clamped to 1..30 s
    for (id, api, body, secs) in [
        (
            format!(
                "{}/providers/Microsoft.Network/virtualNetworks/vnet-a",
                rg_id("rg-polls")
            ),
            NET_API,
            vnet_body(),
            owui_deploy::sandbox::default_duration("Microsoft.Network/virtualNetworks", "PUT"),
        ),
        (
            format!(
                "{}/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com",
                rg_id("rg-polls")
            ),
            DNS_API,
            json!({"location": "global"}),
            owui_deploy::sandbox::default_duration("Microsoft.Network/privateDnsZones", "PUT"),
        ),
    ] {
        admin.clear_journal().await;
        let started = Instant::now();
        arm.put(&id, api, &body, &NoopObserver).await.unwrap();
        let took = started.elapsed();
        let journal = admin.journal().await;
        let polls = entries(&journal, "GET", |p| p.contains("/operationStatuses/")).len();
        let duration = secs.as_secs_f64();
        let retry_after = (duration / 40.0).clamp(1.0, 30.0);
        let bound = (duration / retry_after).floor() as usize + 2;
        assert!(polls >= 1, "{id}: operation was polled");
        assert!(polls <= bound, "{id}: {polls} polls > bound {bound}");
        // and the operation did not end much later than it had to
        assert!(took < Duration::from_secs_f64(duration * scale) + Duration::from_secs(2));
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn throttling_429_is_retried_honouring_retry_after() {
    let (sb, arm, _graph) = start_sandbox(0.01).await;
    let admin = Admin::new(&sb);
    make_rg(&arm, "rg-throttle").await;
    // 4 answers of 429 with Retry-After 5 s scaled to 50 ms
    admin
        .faults(
            json!({"rules": [{"method": "GET", "path": "*/resourceGroups/rg-throttle*",
            "kind": "status", "status": 429, "retry_after_secs": 5, "nth": 1, "count": 4}]}),
        )
        .await;
    admin.clear_journal().await;
    let started = Instant::now();
    let got = arm.get(&rg_id("rg-throttle"), RG_API).await.unwrap();
    assert!(got.is_some());
    let took = started.elapsed();
    let journal = admin.journal().await;
    let gets = entries(&journal, "GET", |p| p.ends_with("/rg-throttle"));
    let statuses: Vec<_> = gets.iter().map(|e| e["status"].as_u64()).collect();
    assert_eq!(
        statuses,
        vec![Some(429), Some(429), Some(429), Some(429), Some(200)],
        "4 throttled attempts then success"
    );
    assert!(
        took >= Duration::from_millis(200),
        "waited Retry-After each time: {took:?}"
    );

    // on a write, the observer hears each retry with its reason and delay
    let rec = Recorder::default();
    admin
        .faults(
            json!({"rules": [{"method": "PUT", "path": "*/resourceGroups/rg-throttle*",
            "kind": "status", "status": 429, "retry_after_secs": 5, "nth": 1, "count": 2}]}),
        )
        .await;
    arm.put(
        &rg_id("rg-throttle"),
        RG_API,
        &json!({"location": "westeurope"}),
        &rec,
    )
    .await
    .unwrap();
    let retries = rec.retries.lock().unwrap().clone();
    assert_eq!(retries.len(), 2, "{retries:?}");
    for (reason, delay) in &retries {
        assert!(reason.starts_with("429"), "{reason}");
        assert!(*delay >= Duration::from_millis(50), "{delay:?}");
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn retry_time_budget_and_count_bound_a_429_storm() {
    let sb = sandbox(0.01).await;
    let admin = Admin::new(&sb);
    // endless 429s: asking for 100 s (1 s at this scale), and for 10 s (100 ms)
    admin
        .faults(json!({"rules": [
            {"method": "GET", "path": "*/resourceGroups/rg-storm*", "kind": "status", "status": 429, "retry_after_secs": 100},
            {"method": "GET", "path": "*/resourceGroups/rg-drizzle*", "kind": "status", "status": 429, "retry_after_secs": 10}
        ]}))
        .await;

    // a Retry-After beyond the time budget stops the retries at once (azure_core alone
    // would sleep the full second first)
    let settings = ClientSettings {
        max_retry_time: Duration::from_millis(300),
        ..fast_settings()
    };
    let (arm, _) = clients(&sb, settings);
    let started = Instant::now();
    let err = arm.get(&rg_id("rg-storm"), RG_API).await.unwrap_err();
    let took = started.elapsed();
    match &err {
        AzureError::RetriesExhausted { attempts, last, .. } => {
            assert_eq!(*attempts, 1);
            assert_eq!(last.status(), Some(429));
        }
        other => panic!("expected RetriesExhausted, got {other:?}"),
    }
    assert_eq!(err.status(), Some(429));
    assert!(
        took < Duration::from_millis(500),
        "bounded by the budget: {took:?}"
    );

    // several short waits fit in the budget, until they do not
    let started = Instant::now();
    let err = arm.get(&rg_id("rg-drizzle"), RG_API).await.unwrap_err();
    assert!(
        matches!(err, AzureError::RetriesExhausted { attempts, .. } if (2..=4).contains(&attempts)),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );

    // and by count
    let settings = ClientSettings {
        max_retries: 2,
        ..fast_settings()
    };
    let (arm, _) = clients(&sb, settings);
    admin.clear_journal().await;
    let err = arm.get(&rg_id("rg-drizzle"), RG_API).await.unwrap_err();
    assert!(
        matches!(err, AzureError::RetriesExhausted { attempts: 3, .. }),
        "{err:?}"
    );
    let journal = admin.journal().await;
    assert_eq!(
        entries(&journal, "GET", |p| p.ends_with("/rg-drizzle")).len(),
        3
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn service_unavailable_and_dropped_connections_are_retried() {
    let (sb, arm, _graph) = start_sandbox(0.001).await;
    let admin = Admin::new(&sb);
    admin
        .faults(json!({"rules": [
            {"method": "PUT", "path": "*/resourceGroups/rg-flaky*", "kind": "status", "status": 503, "nth": 1, "count": 2},
            {"method": "GET", "path": "*/resourceGroups/rg-flaky*", "kind": "drop", "nth": 1, "count": 1}
        ]}))
        .await;
    admin.clear_journal().await;
    let rec = Recorder::default();
    let rg = arm
        .put(
            &rg_id("rg-flaky"),
            RG_API,
            &json!({"location": "westeurope"}),
            &rec,
        )
        .await
        .unwrap();
    assert_eq!(rg["name"], "rg-flaky");
    let got = arm.get(&rg_id("rg-flaky"), RG_API).await.unwrap();
    assert!(got.is_some());

    let journal = admin.journal().await;
    let puts: Vec<_> = entries(&journal, "PUT", |p| p.ends_with("/rg-flaky"))
        .iter()
        .map(|e| e["status"].as_u64())
        .collect();
    assert_eq!(puts, vec![Some(503), Some(503), Some(201)]);
    let gets: Vec<_> = entries(&journal, "GET", |p| p.ends_with("/rg-flaky"))
        .iter()
        .map(|e| e["status"].as_u64())
        .collect();
    assert_eq!(gets, vec![None, Some(200)], "dropped, then served");
    let retries = rec.retries.lock().unwrap().clone();
    assert_eq!(retries.len(), 2);
    assert!(retries[0].0.starts_with("503"), "{retries:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn non_retryable_client_errors_are_returned_at_once_with_arm_details() {
    let (sb, arm, _graph) = start_sandbox(0.001).await;
    let admin = Admin::new(&sb);
    admin.clear_journal().await;
    let started = Instant::now();
    let err = arm
        .put(
            &rg_id("rg-bad"),
            RG_API,
            &json!({"tags": {}}),
            &NoopObserver,
        )
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.code(), Some("LocationRequired"));
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "PUT {}: 400 Bad Request (code LocationRequired): ",
            rg_id("rg-bad")
        )),
        "{text}"
    );
    assert!(text.contains("[request-id "), "{text}");
    assert!(text.contains("correlation-id "), "{text}");
    let journal = admin.journal().await;
    assert_eq!(
        entries(&journal, "PUT", |p| p.ends_with("/rg-bad")).len(),
        1
    );

    // injected 409 with a code: also at once, code surfaced
    admin
        .faults(json!({"rules": [{"method": "PUT", "path": "*/resourceGroups/rg-busy*", "kind": "status",
            "status": 409, "code": "AnotherOperationInProgress", "message": "busy"}]}))
        .await;
    let err = arm
        .put(
            &rg_id("rg-busy"),
            RG_API,
            &json!({"location": "westeurope"}),
            &NoopObserver,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AnotherOperationInProgress"));
    assert!(
        err.to_string()
            .contains("409 Conflict (code AnotherOperationInProgress): busy")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn failed_operation_is_surfaced_with_its_error() {
    let (sb, arm, _graph) = start_sandbox(0.002).await;
    let admin = Admin::new(&sb);
    make_rg(&arm, "rg-fail").await;
    admin
        .faults(json!({"rules": [{"method": "PUT", "path": "*/virtualNetworks/vnet-doomed*", "kind": "fail_lro",
            "code": "InternalServerError", "message": "The operation failed on purpose."}]}))
        .await;
    let id = format!(
        "{}/providers/Microsoft.Network/virtualNetworks/vnet-doomed",
        rg_id("rg-fail")
    );
    let rec = Recorder::default();
    let err = arm.put(&id, NET_API, &vnet_body(), &rec).await.unwrap_err();
    match &err {
        AzureError::OperationFailed {
            resource,
            code,
            message,
            ..
        } => {
            assert_eq!(resource, &id);
            assert_eq!(code, "InternalServerError");
            assert_eq!(message, "The operation failed on purpose.");
        }
        other => panic!("expected OperationFailed, got {other:?}"),
    }
    assert_eq!(
        rec.polls.lock().unwrap().last().map(String::as_str),
        Some("Failed")
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn operation_exceeding_lro_timeout_times_out() {
    let sb = sandbox(0.02).await;
    let settings = ClientSettings {
        lro_timeout: Duration::from_millis(100),
        ..fast_settings()
    };
    let (arm, _) = clients(&sb, settings);
    make_rg(&arm, "rg-slow").await;
    // a private DNS zone takes 30 s (600 ms at this scale)
    let id = format!(
        "{}/providers/Microsoft.Network/privateDnsZones/slow.example",
        rg_id("rg-slow")
    );
    let started = Instant::now();
    let err = arm
        .put(&id, DNS_API, &json!({"location": "global"}), &NoopObserver)
        .await
        .unwrap_err();
    assert!(matches!(err, AzureError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(500));
    sb.shutdown().await;
}

#[tokio::test]
async fn list_returns_every_item() {
    let (sb, arm, _graph) = start_sandbox(0.001).await;
    for n in ["rg-l1", "rg-l2", "rg-l3"] {
        make_rg(&arm, n).await;
    }
    let items = arm
        .list(&format!("/subscriptions/{SUB}/resourcegroups"), RG_API, &[])
        .await
        .unwrap();
    let names: Vec<&str> = items.iter().filter_map(|i| i["name"].as_str()).collect();
    for n in ["rg-l1", "rg-l2", "rg-l3"] {
        assert!(names.contains(&n), "{names:?}");
    }
    let tagged = arm
        .list(
            &format!("/subscriptions/{SUB}/resourcegroups"),
            RG_API,
            &[(
                "$filter",
                "tagName eq 'owui-deploy-env' and tagValue eq 'test'",
            )],
        )
        .await
        .unwrap();
    assert_eq!(tagged.len(), 3);
    sb.shutdown().await;
}

#[tokio::test]
async fn graph_upsert_by_unique_name_get_list_delete() {
    let (sb, _arm, graph) = start_sandbox(0.001).await;
    let admin = Admin::new(&sb);
    let app = graph
        .upsert_by_unique_name(
            "applications",
            "owui-test",
            &json!({"displayName": "Open WebUI (test)", "signInAudience": "AzureADMyOrg"}),
        )
        .await
        .unwrap();
    let id = app["id"].as_str().expect("object id").to_string();
    assert!(app["appId"].as_str().is_some());
    assert_eq!(app["displayName"], "Open WebUI (test)");

    // second upsert updates the same object
    admin.clear_journal().await;
    let again = graph
        .upsert_by_unique_name(
            "applications",
            "owui-test",
            &json!({"displayName": "Open WebUI"}),
        )
        .await
        .unwrap();
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["displayName"], "Open WebUI");
    let journal = admin.journal().await;
    let patches = entries(&journal, "PATCH", |p| p.contains("uniqueName"));
    assert_eq!(patches.len(), 1);

    let got = graph
        .get(&format!("/v1.0/applications/{id}"))
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(got["displayName"], "Open WebUI");
    let listed = graph.list("/v1.0/applications", None).await.unwrap();
    assert!(listed.iter().any(|a| a["id"] == id.as_str()));

    // service principal: POST, PATCH, filtered list
    let app_id = got["appId"].as_str().unwrap().to_string();
    // A new application becomes visible to this call after Graph's replication window.
    let sp = loop {
        match graph
            .post("/v1.0/servicePrincipals", &json!({"appId": app_id}))
            .await
        {
            Ok(sp) => break sp,
            Err(e) if e.propagation_delay().is_some() => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await
            }
            Err(e) => panic!("{e}"),
        }
    };
    let sp_id = sp["id"].as_str().expect("sp id").to_string();
    graph
        .patch(
            &format!("/v1.0/servicePrincipals/{sp_id}"),
            &json!({"appRoleAssignmentRequired": true}),
        )
        .await
        .unwrap();
    let found = graph
        .list(
            "/v1.0/servicePrincipals",
            Some(&format!("appId eq '{app_id}'")),
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], sp_id.as_str());
    assert_eq!(found[0]["appRoleAssignmentRequired"], true);

    // Graph errors carry Graph's code and request id
    let err = graph
        .patch(
            "/v1.0/servicePrincipals/00000000-0000-0000-0000-000000000bad",
            &json!({}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(err.to_string().contains("[request-id "), "{err}");

    graph
        .delete(&format!("/v1.0/applications/{id}"))
        .await
        .unwrap();
    assert!(
        graph
            .get(&format!("/v1.0/applications/{id}"))
            .await
            .unwrap()
            .is_none()
    );
    graph
        .delete(&format!("/v1.0/applications/{id}"))
        .await
        .unwrap();
    sb.shutdown().await;
}

#[tokio::test]
async fn paths_that_are_not_resource_ids_are_rejected_before_sending() {
    let sb = sandbox(0.001).await;
    let admin = Admin::new(&sb);
    let (arm, _): (ArmClient, GraphClient) = clients(&sb, fast_settings());
    admin.clear_journal().await;
    for bad in ["relative/path", "/subscriptions/x?api-version=1"] {
        let err = arm.get(bad, RG_API).await.unwrap_err();
        assert!(matches!(err, AzureError::InvalidResponse { .. }), "{err:?}");
    }
    assert!(admin.journal().await.is_empty());
    sb.shutdown().await;
}

#[tokio::test]
async fn post_actions_follow_their_operation() {
    let (sb, arm, _graph) = start_sandbox(0.002).await;
    let admin = Admin::new(&sb);
    make_rg(&arm, "rg-kv").await;
    let vault = format!(
        "{}/providers/Microsoft.KeyVault/vaults/kv-owui-purge",
        rg_id("rg-kv")
    );
    arm.put(
        &vault,
        "2024-11-01",
        &json!({"location": "westeurope", "properties": {
            "tenantId": TENANT, "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": true
        }}),
        &NoopObserver,
    )
    .await
    .unwrap();
    arm.delete(&vault, "2024-11-01", &NoopObserver)
        .await
        .unwrap();
    let deleted = format!(
        "/subscriptions/{SUB}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-owui-purge"
    );
    assert!(arm.get(&deleted, "2024-11-01").await.unwrap().is_some());

    // purge: 202 with Azure-AsyncOperation, no result
    admin.clear_journal().await;
    let rec = Recorder::default();
    let result = arm
        .post(&format!("{deleted}/purge"), "2024-11-01", None, &rec)
        .await
        .unwrap();
    assert_eq!(result, None);
    assert_eq!(
        rec.polls.lock().unwrap().last().map(String::as_str),
        Some("Succeeded")
    );
    assert!(arm.get(&deleted, "2024-11-01").await.unwrap().is_none());
    let journal = admin.journal().await;
    assert_eq!(
        entries(&journal, "POST", |p| p.ends_with("/purge")).len(),
        1
    );

    // a storage account: PUT answered 202 (operation, then final GET); listKeys answers at once
    let account = format!(
        "{}/providers/Microsoft.Storage/storageAccounts/stowuitest",
        rg_id("rg-kv")
    );
    let created = arm
        .put(
            &account,
            "2023-05-01",
            &json!({"location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}),
            &NoopObserver,
        )
        .await
        .unwrap();
    assert_eq!(created["properties"]["provisioningState"], "Succeeded");
    let keys = arm
        .post(
            &format!("{account}/listKeys"),
            "2023-05-01",
            None,
            &NoopObserver,
        )
        .await
        .unwrap()
        .expect("keys returned");
    assert!(
        keys["keys"].as_array().is_some_and(|k| !k.is_empty()),
        "{keys}"
    );
    sb.shutdown().await;
}
