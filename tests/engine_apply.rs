//! Engine apply against an in-memory ARM-like fake: graph scheduling, bounded
//! concurrency, serial keys, failures and skips, references from created
//! resources, role-assignment retries, cancellation, events.

mod engine_support;

use engine_support::*;
use owui_deploy::engine::{
    self, ApplyOptions, CancelToken, EngineError, Event, EventSink, Model, Outcome, PlanOptions,
    Reference, Secrets, plan,
};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

fn fast() -> ApplyOptions {
    ApplyOptions {
        retry_initial_delay: Duration::from_millis(1),
        retry_max_delay: Duration::from_millis(4),
        principal_retry_timeout: Duration::from_millis(500),
        ..ApplyOptions::default()
    }
}

async fn run(
    fake: &Arc<Fake>,
    model: &Model,
    opts: &ApplyOptions,
) -> (Result<engine::ApplyReport, EngineError>, Vec<Event>) {
    let p = plan(fake.as_ref(), model, &PlanOptions::default())
        .await
        .unwrap();
    let (sink, mut rx) = EventSink::channel();
    let r = engine::apply(
        fake.clone(),
        &p,
        opts,
        &Secrets::new(),
        sink,
        CancelToken::new(),
    )
    .await;
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    (r, events)
}

fn key(s: &engine::ResourceSpec) -> String {
    s.address.as_str().to_ascii_lowercase()
}

#[tokio::test]
async fn concurrency_is_bounded_by_parallelism() {
    let fake = Arc::new(Fake::with_delays(0, 10));
    let model = Model {
        resources: (0..20).map(|i| thing(&format!("t{i}"))).collect(),
        discoveries: vec![],
    };
    let opts = ApplyOptions {
        parallelism: 4,
        ..fast()
    };
    let (r, _) = run(&fake, &model, &opts).await;
    let r = r.unwrap();
    assert!(r.results.iter().all(|(_, o)| *o == Outcome::Created));
    assert_eq!(fake.st().max_in_flight, 4);
}

#[tokio::test]
async fn dependents_start_only_after_dependencies_succeed() {
    let fake = Arc::new(Fake::with_delays(0, 15));
    let a = thing("a");
    let mut b = thing("b");
    b.depends_on.insert(a.address.clone());
    let mut c = thing("c");
    c.body["properties"]["peer"] = json!(Reference::new(b.address.clone(), "/id").marker());
    let d = thing("d");
    let model = Model {
        resources: vec![c.clone(), b.clone(), a.clone(), d.clone()],
        discoveries: vec![],
    };
    let (r, events) = run(&fake, &model, &fast()).await;
    r.unwrap();
    let st = fake.st();
    assert!(st.finished[&key(&a)] <= st.started[&key(&b)]);
    assert!(st.finished[&key(&b)] <= st.started[&key(&c)]);
    // The independent one ran alongside the first.
    assert!(st.started[&key(&d)] < st.finished[&key(&a)]);
    // c's reference was resolved from b's live ID (as ARM returned it).
    let live_c = st.store[&key(&c)].clone();
    assert_eq!(live_c["properties"]["peer"], st.store[&key(&b)]["id"]);
    drop(st);
    let started = events
        .iter()
        .filter(|e| matches!(e, Event::Started { .. }))
        .count();
    let succeeded = events
        .iter()
        .filter(|e| matches!(e, Event::Succeeded { .. }))
        .count();
    let polled = events
        .iter()
        .filter(|e| matches!(e, Event::Polled { .. }))
        .count();
    assert_eq!((started, succeeded, polled), (4, 4, 4));
}

#[tokio::test]
async fn failure_skips_dependents_and_lets_independent_branches_finish() {
    let fake = Arc::new(Fake::with_delays(0, 5));
    let a = thing("a");
    let mut b = thing("b");
    b.depends_on.insert(a.address.clone());
    let mut c = thing("c");
    c.depends_on.insert(b.address.clone());
    let x = thing("x");
    let mut y = thing("y");
    y.depends_on.insert(x.address.clone());
    fake.fail_writes(a.address.as_str(), 400, "InvalidTemplate");
    let bad2 = thing("bad2");
    fake.fail_writes(bad2.address.as_str(), 409, "Conflict");
    let model = Model {
        resources: vec![
            a.clone(),
            b.clone(),
            c.clone(),
            x.clone(),
            y.clone(),
            bad2.clone(),
        ],
        discoveries: vec![],
    };
    let (r, events) = run(&fake, &model, &fast()).await;
    let EngineError::ApplyFailed { failures, report } = r.unwrap_err() else {
        panic!("expected ApplyFailed");
    };
    assert_eq!(failures.len(), 2, "every failure is reported");
    let msg = failures[0].to_string();
    assert!(
        msg.contains("InvalidTemplate") && msg.contains("fake-request-1"),
        "{msg}"
    );
    assert!(
        msg.contains(a.label.as_str()) && msg.contains(a.address.as_str()),
        "{msg}"
    );
    assert!(failures[1].to_string().contains("Conflict"));
    assert_eq!(
        report.outcome(&b.address),
        Some(&Outcome::Skipped {
            because: a.address.clone()
        })
    );
    assert_eq!(
        report.outcome(&c.address),
        Some(&Outcome::Skipped {
            because: a.address.clone()
        })
    );
    assert_eq!(report.outcome(&x.address), Some(&Outcome::Created));
    assert_eq!(report.outcome(&y.address), Some(&Outcome::Created));
    assert!(fake.get(b.address.as_str()).is_none());
    let skipped: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Event::Skipped { .. }))
        .collect();
    assert_eq!(skipped.len(), 2);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Failed { error, .. } if error.contains("InvalidTemplate")))
    );
    // Re-running after the fault is gone converges without duplicates.
    fake.st().fail.clear();
    let (r, _) = run(&fake, &model, &fast()).await;
    let r = r.unwrap();
    assert_eq!(r.outcome(&x.address), Some(&Outcome::Unchanged));
    assert_eq!(r.outcome(&c.address), Some(&Outcome::Created));
}

#[tokio::test]
async fn serial_key_never_has_two_writes_in_flight_and_keeps_spec_order() {
    let fake = Arc::new(Fake::with_delays(0, 5));
    let account = thing("acct");
    let mut model = Model {
        resources: vec![account.clone()],
        discoveries: vec![],
    };
    for i in 0..6 {
        let mut d = spec(
            &format!("{}/deployments/m{i}", account.address),
            "Microsoft.CognitiveServices/accounts/deployments",
            json!({"sku": {"capacity": 1}}),
        );
        d.taggable = false;
        d.depends_on.insert(account.address.clone());
        d.serial_key = Some(account.address.to_string());
        model.resources.push(d);
    }
    // Independent resources keep running in parallel meanwhile.
    model
        .resources
        .extend((0..4).map(|i| thing(&format!("other{i}"))));
    let (r, _) = run(&fake, &model, &fast()).await;
    r.unwrap();
    {
        let st = fake.st();
        assert_eq!(
            st.conflicts, 0,
            "the fake rejects concurrent writes under one account"
        );
        let order: Vec<String> = st
            .calls
            .iter()
            .filter_map(|c| match c {
                Call::Write(a) if a.contains("/deployments/") => {
                    Some(a.rsplit('/').next().unwrap().to_string())
                }
                _ => None,
            })
            .collect();
        assert_eq!(order, vec!["m0", "m1", "m2", "m3", "m4", "m5"]);
        assert!(st.max_in_flight >= 2, "other resources ran alongside");
    }
    // Without the serial key the fake would have answered 409.
    let fake2 = Arc::new(Fake::with_delays(0, 5));
    for r in &mut model.resources {
        r.serial_key = None;
    }
    let (r, _) = run(&fake2, &model, &fast()).await;
    assert!(r.is_err());
    assert!(fake2.st().conflicts > 0);
}

fn identity_and_assignment(name: &str) -> (engine::ResourceSpec, engine::ResourceSpec) {
    let id = spec(
        &format!(
            "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
            rg()
        ),
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        json!({"location": "uksouth"}),
    );
    let mut ra = spec(
        &format!(
            "{}/providers/Microsoft.Authorization/roleAssignments/ra-{name}",
            rg()
        ),
        "Microsoft.Authorization/roleAssignments",
        json!({"properties": {
            "principalId": Reference::new(id.address.clone(), "/properties/principalId").marker(),
            "roleDefinitionId": "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/4633458b",
            "principalType": "ServicePrincipal"
        }}),
    );
    ra.taggable = false;
    (id, ra)
}

#[tokio::test]
async fn references_resolve_from_created_resources() {
    let fake = Arc::new(Fake::new());
    let (id, ra) = identity_and_assignment("uai");
    let model = Model {
        resources: vec![ra.clone(), id.clone()],
        discoveries: vec![],
    };
    let (r, _) = run(&fake, &model, &fast()).await;
    r.unwrap();
    let pid = fake.get(id.address.as_str()).unwrap()["properties"]["principalId"].clone();
    assert!(pid.as_str().unwrap().starts_with("00000000-0000"));
    assert_eq!(
        fake.get(ra.address.as_str()).unwrap()["properties"]["principalId"],
        pid
    );
    let p = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    assert!(!p.has_changes());
}

#[tokio::test]
async fn principal_not_found_is_retried_until_it_succeeds() {
    let fake = Arc::new(Fake::new());
    let (id, ra) = identity_and_assignment("uai");
    fake.st().principal_not_found.insert(key(&ra), 3);
    let model = Model {
        resources: vec![id, ra.clone()],
        discoveries: vec![],
    };
    let (r, events) = run(&fake, &model, &fast()).await;
    let r = r.unwrap();
    assert_eq!(r.outcome(&ra.address), Some(&Outcome::Created));
    let retries = events
        .iter()
        .filter(
            |e| matches!(e, Event::Retrying { reason, .. } if reason.contains("PrincipalNotFound")),
        )
        .count();
    assert_eq!(retries, 3);
    // Bounded: with a timeout shorter than the outage it fails with the ARM error.
    let fake = Arc::new(Fake::new());
    let (id, ra) = identity_and_assignment("uai2");
    fake.st().principal_not_found.insert(key(&ra), 1000);
    let model = Model {
        resources: vec![id, ra.clone()],
        discoveries: vec![],
    };
    let opts = ApplyOptions {
        principal_retry_timeout: Duration::from_millis(30),
        ..fast()
    };
    let (r, _) = run(&fake, &model, &opts).await;
    let e = r.unwrap_err();
    assert!(e.to_string().contains("PrincipalNotFound"), "{e}");
}

#[tokio::test]
async fn role_assignment_exists_is_treated_as_done() {
    let fake = Arc::new(Fake::new());
    let (id, ra) = identity_and_assignment("uai");
    fake.st().role_exists.insert(key(&ra));
    let model = Model {
        resources: vec![id, ra.clone()],
        discoveries: vec![],
    };
    let (r, events) = run(&fake, &model, &fast()).await;
    let r = r.unwrap();
    assert_eq!(r.outcome(&ra.address), Some(&Outcome::AlreadyExisted));
    assert!(events.iter().any(|e| matches!(e,
        Event::Succeeded { address, note: Some(n), .. } if *address == ra.address && n.contains("already exists"))));
}

#[tokio::test]
async fn cancellation_stops_new_starts_and_rerun_converges() {
    let fake = Arc::new(Fake::with_delays(0, 40));
    // A chain: cancelling during the first write means later ones never start.
    let mut specs = vec![thing("c0")];
    for i in 1..5 {
        let mut s = thing(&format!("c{i}"));
        s.depends_on.insert(specs[i - 1].address.clone());
        specs.push(s);
    }
    let model = Model {
        resources: specs.clone(),
        discoveries: vec![],
    };
    let p = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    let cancel = CancelToken::new();
    let (sink, mut rx) = EventSink::channel();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        // Cancel once the second resource has started.
        let mut started = 0;
        while let Some(e) = rx.recv().await {
            if matches!(e, Event::Started { .. }) {
                started += 1;
                if started == 2 {
                    c2.cancel();
                }
            }
        }
    });
    let e = engine::apply(fake.clone(), &p, &fast(), &Secrets::new(), sink, cancel)
        .await
        .unwrap_err();
    let EngineError::Cancelled { report } = e else {
        panic!("expected Cancelled");
    };
    assert_eq!(report.outcome(&specs[0].address), Some(&Outcome::Created));
    assert_eq!(
        report.outcome(&specs[1].address),
        Some(&Outcome::Interrupted)
    );
    assert_eq!(
        report.outcome(&specs[4].address),
        Some(&Outcome::NotStarted)
    );
    let writes = fake.writes().len();
    assert_eq!(writes, 2, "nothing new started after the cancellation");
    assert!(fake.get(specs[2].address.as_str()).is_none());
    // Re-running converges, without touching what is done.
    let (r, _) = run(&fake, &model, &fast()).await;
    let r = r.unwrap();
    assert_eq!(r.outcome(&specs[0].address), Some(&Outcome::Unchanged));
    assert!(specs.iter().all(|s| fake.get(s.address.as_str()).is_some()));
    let p = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    assert!(!p.has_changes());
}

#[tokio::test]
async fn events_serialise_as_tagged_json_lines() {
    let fake = Arc::new(Fake::new());
    let model = Model {
        resources: vec![thing("e")],
        discoveries: vec![],
    };
    let (r, events) = run(&fake, &model, &fast()).await;
    r.unwrap();
    let lines: Vec<serde_json::Value> = events
        .iter()
        .map(|e| serde_json::from_str(&engine::render::event_json_line(e)).unwrap())
        .collect();
    assert_eq!(lines[0]["event"], json!("started"));
    assert_eq!(lines[0]["action"], json!("create"));
    assert_eq!(lines[0]["format_version"], json!("1"));
    assert!(lines[0]["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(lines[1]["event"], json!("polled"));
    assert!(lines[1]["elapsed_ms"].is_u64());
    assert_eq!(lines[2]["event"], json!("succeeded"));
    for e in &events {
        // Durations travel in whole milliseconds: compare the serialized forms.
        let v = serde_json::to_value(e).unwrap();
        let back: Event = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), v);
    }
    assert_eq!(events.len(), 3);
}

#[tokio::test]
async fn values_flowing_into_write_only_properties_stay_out_of_the_plan() {
    let fake = Arc::new(Fake::new());
    let (id, _) = identity_and_assignment("uai");
    fake.seed(id.address.as_str(), id.api.clone(), id.body.clone());
    let pid = fake.get(id.address.as_str()).unwrap()["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let mut secret = spec(
        &format!(
            "{}/providers/Microsoft.KeyVault/vaults/kv/secrets/conn",
            rg()
        ),
        "Microsoft.KeyVault/vaults/secrets",
        json!({"properties": {
            "value": format!(
                "postgresql://{}:${{secret:pw}}@host/db",
                Reference::new(id.address.clone(), "/properties/principalId").marker()
            ),
            "contentType": "text/plain"
        }}),
    );
    secret.taggable = false;
    secret.rules.write_only = vec!["/properties/value".into()];
    let model = Model {
        resources: vec![id.clone(), secret.clone()],
        discoveries: vec![],
    };
    let p = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    let idc = p.change(&id.address).unwrap();
    assert_eq!(idc.action, engine::Action::NoOp);
    assert!(idc.reread && idc.outputs.is_empty());
    let text = serde_json::to_string(&p).unwrap();
    assert!(
        !text.contains(&pid),
        "a value bound for a write-only property is not in the plan"
    );
    let mut secrets = Secrets::new();
    secrets.insert("pw", azure_core::credentials::Secret::new("pw-VALUE-123"));
    let reads = fake.st().reads;
    engine::apply(
        fake.clone(),
        &p,
        &fast(),
        &secrets,
        EventSink::discard(),
        CancelToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        fake.st().reads,
        reads + 1,
        "the unchanged identity is read again"
    );
    let sent = fake.st().bodies.last().unwrap().1.clone();
    assert_eq!(
        sent["properties"]["value"],
        json!(format!("postgresql://{pid}:pw-VALUE-123@host/db"))
    );
    // ARM does not return the value: the next plan has nothing to do.
    let again = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    assert!(!again.has_changes());
}

#[tokio::test]
async fn role_assignment_under_another_name_is_planned_as_done() {
    let fake = Arc::new(Fake::new());
    let (id, ra) = identity_and_assignment("uai");
    let model = Model {
        resources: vec![id.clone(), ra.clone()],
        discoveries: vec![],
    };
    let (r, _) = run(&fake, &model, &fast()).await;
    r.unwrap();
    // The same assignment (scope, role, principal) under another name.
    let mut renamed = ra.clone();
    renamed.address = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/other",
        rg()
    )
    .as_str()
    .into();
    let model2 = Model {
        resources: vec![id, renamed.clone()],
        discoveries: vec![],
    };
    let p = plan(fake.as_ref(), &model2, &PlanOptions::default())
        .await
        .unwrap();
    assert!(!p.has_changes(), "{}", engine::render_plan_human(&p, false));
    let c = p.change(&renamed.address).unwrap();
    assert_eq!(c.target.as_ref(), Some(&ra.address));
    assert!(
        p.warnings.iter().any(|w| w.contains("already exists")),
        "{:?}",
        p.warnings
    );
    engine::verify_plan(fake.as_ref(), &p, 4).await.unwrap();
}

#[tokio::test]
async fn secrets_from_actions_are_fetched_after_their_resource_exists() {
    let fake = Arc::new(Fake::with_delays(0, 10));
    let storage = thing("stowui");
    let mut mount = spec(
        &format!(
            "{}/providers/Microsoft.App/managedEnvironments/cae/storages/data",
            rg()
        ),
        "Microsoft.App/managedEnvironments/storages",
        json!({"properties": {"azureFile": {
            "accountName": "stowui",
            "accountKey": "${secret:storage-key}",
            "shareName": "share"
        }}}),
    );
    mount.taggable = false;
    mount.rules.write_only = vec!["/properties/azureFile/accountKey".into()];
    // No explicit dependency: the secret's source orders the writes.
    let model = Model {
        resources: vec![mount.clone(), storage.clone()],
        discoveries: vec![],
    };
    let p = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    let mut secrets = Secrets::new();
    secrets.insert_action(
        "storage-key",
        engine::SecretAction {
            address: storage.address.clone(),
            api_version: "2025-01-01".into(),
            action: "listKeys".into(),
            pointer: "/keys/0/value".into(),
        },
    );
    let (sink, mut rx) = EventSink::channel();
    engine::apply(
        fake.clone(),
        &p,
        &fast(),
        &secrets,
        sink,
        CancelToken::new(),
    )
    .await
    .unwrap();
    {
        let st = fake.st();
        assert!(st.finished[&key(&storage)] <= st.started[&key(&mount)]);
        let sent = &st
            .bodies
            .iter()
            .find(|(a, _)| a.contains("/storages/"))
            .unwrap()
            .1;
        assert_eq!(
            sent["properties"]["azureFile"]["accountKey"],
            json!("KEY1-of-stowui")
        );
    }
    let mut seen = serde_json::to_string(&p).unwrap();
    while let Ok(e) = rx.try_recv() {
        seen.push_str(&engine::render::event_json_line(&e));
    }
    assert!(!seen.contains("KEY1-of-stowui"));
    // When the action fails, the error names the secret and the action, not a value.
    let fake = Arc::new(Fake::new());
    let p = plan(
        fake.as_ref(),
        &Model {
            resources: vec![mount.clone()],
            discoveries: vec![],
        },
        &PlanOptions::default(),
    )
    .await
    .unwrap();
    let e = engine::apply(
        fake.clone(),
        &p,
        &fast(),
        &secrets,
        EventSink::discard(),
        CancelToken::new(),
    )
    .await
    .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("storage-key") && msg.contains("listKeys"),
        "{msg}"
    );
}

#[tokio::test]
async fn resources_left_failed_are_rewritten_and_provisioning_ones_awaited() {
    let fake = Arc::new(Fake::new());
    let apim = thing("apim");
    let broken = thing("broken");
    let mut child = thing("child");
    child.depends_on.insert(apim.address.clone());
    for s in [&apim, &broken] {
        fake.seed(s.address.as_str(), s.api.clone(), s.body.clone());
    }
    // An interrupted run left one resource activating and one failed.
    fake.tamper(apim.address.as_str(), |v| {
        v["properties"]["provisioningState"] = json!("Activating")
    });
    fake.tamper(broken.address.as_str(), |v| {
        v["properties"]["provisioningState"] = json!("Failed")
    });
    let model = Model {
        resources: vec![apim.clone(), broken.clone(), child.clone()],
        discoveries: vec![],
    };
    let p = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    let a = p.change(&apim.address).unwrap();
    assert!(a.action == engine::Action::NoOp && a.wait);
    let b = p.change(&broken.address).unwrap();
    assert_eq!(b.action, engine::Action::Update);
    assert_eq!(b.diffs[0].path, "/properties/provisioningState");
    let text = engine::render_plan_human(&p, false);
    assert!(
        text.contains("/properties/provisioningState = \"Failed\" -> \"Succeeded\""),
        "{text}"
    );
    // APIM finishes activating a little later.
    let f2 = fake.clone();
    let addr = apim.address.to_string();
    let done = Arc::new(std::sync::Mutex::new(None));
    let done2 = done.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(40)).await;
        f2.tamper(&addr, |v| {
            v["properties"]["provisioningState"] = json!("Succeeded")
        });
        *done2.lock().unwrap() = Some(std::time::Instant::now());
    });
    let (sink, mut rx) = EventSink::channel();
    let r = engine::apply(
        fake.clone(),
        &p,
        &fast(),
        &Secrets::new(),
        sink,
        CancelToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(r.outcome(&broken.address), Some(&Outcome::Updated));
    assert_eq!(r.outcome(&apim.address), Some(&Outcome::Unchanged));
    let ready_at = done.lock().unwrap().expect("activation finished");
    assert!(
        fake.st().started[&key(&child)] >= ready_at,
        "the dependent waited"
    );
    let mut polled = 0;
    while let Ok(e) = rx.try_recv() {
        if let Event::Polled {
            address, status, ..
        } = e
            && address == apim.address
        {
            assert!(status == "Activating" || status == "Succeeded");
            polled += 1;
        }
    }
    assert!(polled >= 2, "{polled}");
    let again = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    assert!(!again.has_changes());
    assert!(again.changes.iter().all(|c| !c.wait));
}
