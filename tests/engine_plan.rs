//! Engine planning against an in-memory ARM-like fake: diffs, normalisation,
//! unknowns, replace, discovered deletes, prerequisites, read concurrency,
//! rendering and JSON.

mod engine_support;

use engine_support::*;
use owui_deploy::engine::{
    self, Action, Address, CancelToken, DiffRules, DiffValue, Discovery, EngineError, EventSink,
    Mode, Model, OWNER_TAG, Plan, PlanOptions, Reference, SecretRef, Secrets, Stage, plan,
    plan_json, render_plan_human,
};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn vnet_rules() -> DiffRules {
    DiffRules {
        set_arrays: vec![
            "/properties/subnets".into(),
            "/properties/addressSpace/addressPrefixes".into(),
        ],
        case_insensitive: vec!["/properties/publicNetworkAccess".into()],
        write_only: vec!["/properties/adminPassword".into()],
        immutable: vec!["/properties/kind".into()],
        ignore: vec![],
        xml: vec![],
        json: vec![],
        openapi: None,
    }
}

fn vnet() -> engine::ResourceSpec {
    let mut s = spec(
        &format!(
            "{}/providers/Microsoft.Network/virtualNetworks/vnet-hub",
            rg()
        ),
        "Microsoft.Network/virtualNetworks",
        json!({
            "location": "UK South",
            "tags": {OWNER_TAG: "dev"},
            "sku": {"name": "Basic", "capacity": 1},
            "properties": {
                "kind": "v1",
                "publicNetworkAccess": "disabled",
                "addressSpace": {"addressPrefixes": ["10.0.0.0/24", "10.0.1.0/24"]},
                "subnets": [
                    {"name": "apim-subnet", "properties": {"addressPrefix": "10.0.0.0/28"}},
                    {"name": "pe-subnet", "properties": {"addressPrefix": "10.0.0.64/26"}}
                ],
                "adminPassword": SecretRef("vnet-secret".into()).marker(),
                "dnsServers": ["/subscriptions/x/resourceGroups/RG/providers/y/z"]
            }
        }),
    );
    s.rules = vnet_rules();
    s
}

fn identity() -> engine::ResourceSpec {
    spec(
        &format!(
            "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-appgw",
            rg()
        ),
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        json!({"location": "uksouth", "tags": {OWNER_TAG: "dev"}}),
    )
}

fn role_assignment(principal: &engine::ResourceSpec) -> engine::ResourceSpec {
    let mut s = spec(
        &format!(
            "{}/providers/Microsoft.Authorization/roleAssignments/1111",
            rg()
        ),
        "Microsoft.Authorization/roleAssignments",
        json!({"properties": {
            "roleDefinitionId": "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/abc",
            "principalId": Reference::new(principal.address.clone(), "/properties/principalId").marker(),
            "principalType": "ServicePrincipal",
            "description": Reference::new(principal.address.clone(), "/properties/principalId").within("for ", "")
        }}),
    );
    s.taggable = false;
    s
}

fn secrets() -> Secrets {
    let mut s = Secrets::new();
    s.insert(
        "vnet-secret",
        azure_core::credentials::Secret::new("S3cr3t-VALUE-never-shown"),
    );
    s
}

async fn apply_all(fake: &Arc<Fake>, model: &Model) -> engine::ApplyReport {
    let p = plan(fake.as_ref(), model, &PlanOptions::default())
        .await
        .unwrap();
    engine::apply(
        fake.clone(),
        &p,
        &engine::ApplyOptions::default(),
        &secrets(),
        EventSink::discard(),
        CancelToken::new(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn create_then_no_op_despite_arm_normalisation() {
    let fake = Arc::new(Fake::new());
    let id = identity();
    let model = Model {
        resources: vec![vnet(), id.clone(), role_assignment(&id)],
        discoveries: vec![],
    };
    let p = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    assert_eq!(
        p.changes.iter().map(|c| c.action).collect::<Vec<_>>(),
        vec![Action::Create; 3]
    );
    apply_all(&fake, &model).await;
    // The fake returned lower-cased location, re-cased IDs, reordered subnets and
    // prefixes, 1.0 for 1, server defaults, read-only fields, no password.
    let live = fake.get(model.resources[0].address.as_str()).unwrap();
    assert_eq!(live["location"], json!("uksouth"));
    assert_eq!(live["properties"]["subnets"][0]["name"], json!("pe-subnet"));
    assert!(live["properties"].get("adminPassword").is_none());
    let before = fake.st().calls.len();
    let p2 = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    assert!(!p2.has_changes(), "{}", render_plan_human(&p2, false));
    assert!(p2.changes.iter().all(|c| c.action == Action::NoOp));
    assert_eq!(fake.st().calls.len(), before, "a plan never writes");
    assert_eq!(
        render_plan_human(&p2, false),
        "No changes. Your infrastructure matches the configuration.\n"
    );
}

#[tokio::test]
async fn update_shows_exact_property_diff() {
    let fake = Arc::new(Fake::new());
    let model = Model {
        resources: vec![vnet()],
        discoveries: vec![],
    };
    apply_all(&fake, &model).await;
    let mut changed = model.clone();
    changed.resources[0].body["sku"]["capacity"] = json!(2);
    changed.resources[0].body["properties"]["subnets"][1]["properties"]["addressPrefix"] =
        json!("10.0.0.128/26");
    let p = plan(fake.as_ref(), &changed, &PlanOptions::default())
        .await
        .unwrap();
    let c = &p.changes[0];
    assert_eq!(c.action, Action::Update);
    let diffs: Vec<(String, DiffValue, DiffValue)> = c
        .diffs
        .iter()
        .map(|d| (d.path.clone(), d.old.clone(), d.new.clone()))
        .collect();
    assert_eq!(
        diffs,
        vec![
            (
                "/sku/capacity".into(),
                DiffValue::Known(json!(1.0)),
                DiffValue::Known(json!(2))
            ),
            (
                "/properties/subnets[pe-subnet]/properties/addressPrefix".into(),
                DiffValue::Known(json!("10.0.0.64/26")),
                DiffValue::Known(json!("10.0.0.128/26"))
            ),
        ]
    );
    let text = render_plan_human(&p, false);
    assert!(
        text.contains("  ~ vnet-hub") || text.contains("~ virtualNetworks vnet-hub"),
        "{text}"
    );
    assert!(text.contains("/sku/capacity = 1.0 -> 2"), "{text}");
    assert!(
        text.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."),
        "{text}"
    );
}

#[tokio::test]
async fn immutable_change_is_a_replace_naming_the_path() {
    let fake = Arc::new(Fake::new());
    let model = Model {
        resources: vec![vnet()],
        discoveries: vec![],
    };
    apply_all(&fake, &model).await;
    let mut changed = model.clone();
    changed.resources[0].body["properties"]["kind"] = json!("v2");
    let p = plan(fake.as_ref(), &changed, &PlanOptions::default())
        .await
        .unwrap();
    assert_eq!(p.changes[0].action, Action::Replace);
    assert_eq!(
        p.changes[0].replace_paths,
        vec!["/properties/kind".to_string()]
    );
    let text = render_plan_human(&p, false);
    assert!(text.contains("-/+ "), "{text}");
    assert!(
        text.contains("/properties/kind = \"v1\" -> \"v2\"  # forces replacement"),
        "{text}"
    );
    assert!(
        text.contains("0 to add, 0 to change, 1 to replace"),
        "{text}"
    );
    // Apply deletes and creates it again.
    let r = engine::apply(
        fake.clone(),
        &p,
        &engine::ApplyOptions::default(),
        &secrets(),
        EventSink::discard(),
        CancelToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(r.results[0].1, engine::Outcome::Replaced);
    let calls = fake.writes();
    let n = calls.len();
    assert!(matches!(calls[n - 2], Call::Delete(_)) && matches!(calls[n - 1], Call::Write(_)));
}

#[tokio::test]
async fn unknown_values_for_resources_not_yet_created() {
    let fake = Arc::new(Fake::new());
    let id = identity();
    let ra = role_assignment(&id);
    let model = Model {
        resources: vec![ra.clone(), id.clone()],
        discoveries: vec![],
    };
    let p = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    let c = p.change(&ra.address).unwrap();
    let pid = c
        .diffs
        .iter()
        .find(|d| d.path == "/properties/principalId")
        .unwrap();
    assert_eq!(pid.new, DiffValue::Unknown);
    let desc = c
        .diffs
        .iter()
        .find(|d| d.path == "/properties/description")
        .unwrap();
    assert_eq!(desc.new, DiffValue::Unknown);
    let text = render_plan_human(&p, false);
    assert!(
        text.contains("/properties/principalId = (known after apply)"),
        "{text}"
    );
    // After the identity exists the value is known from its live state.
    fake.seed(id.address.as_str(), id.api.clone(), id.body.clone());
    let p = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    let c = p.change(&ra.address).unwrap();
    let pid = c
        .diffs
        .iter()
        .find(|d| d.path == "/properties/principalId")
        .unwrap();
    let live_pid = fake.get(id.address.as_str()).unwrap()["properties"]["principalId"].clone();
    assert_eq!(pid.new, DiffValue::Known(live_pid.clone()));
    // The identity is unchanged: its referenced value travels in the plan.
    let idc = p.change(&id.address).unwrap();
    assert_eq!(idc.action, Action::NoOp);
    assert_eq!(idc.outputs.get("/properties/principalId"), Some(&live_pid));
}

#[tokio::test]
async fn plan_never_writes_and_reads_concurrently() {
    let mut fake = Fake::with_delays(20, 0);
    fake.forbid_writes = true;
    let model = Model {
        resources: (0..64).map(|i| thing(&format!("t{i}"))).collect(),
        discoveries: vec![],
    };
    let t0 = Instant::now();
    let p = plan(&fake, &model, &PlanOptions::default()).await.unwrap();
    let elapsed = t0.elapsed();
    assert_eq!(p.summary().add, 64);
    let st = fake.st();
    assert_eq!(st.reads, 64, "one GET per resource");
    assert_eq!(
        st.max_reads_in_flight, 16,
        "bounded by the default parallelism"
    );
    assert!(st.calls.is_empty());
    // 64 reads of 20 ms with 16 in flight: ~4 round trips, far from 64.
    assert!(elapsed < Duration::from_millis(20 * 16), "{elapsed:?}");
}

#[tokio::test]
async fn missing_data_resource_fails_before_anything_else() {
    let mut fake = Fake::new();
    fake.forbid_writes = true;
    let mut hub_vnet = vnet();
    hub_vnet.mode = Mode::Data;
    hub_vnet.label = "hub VNet vnet-hub".into();
    let mut peering = thing("peering");
    peering.stage = Stage::Spoke;
    peering.label = "spoke peering".into();
    peering.body["properties"]["remote"] =
        json!(Reference::new(hub_vnet.address.clone(), "/id").marker());
    let model = Model {
        resources: vec![peering, hub_vnet.clone()],
        discoveries: vec![],
    };
    let e = plan(&fake, &model, &PlanOptions::default())
        .await
        .unwrap_err();
    match &e {
        EngineError::MissingPrerequisite {
            address,
            stage,
            needed_by,
            ..
        } => {
            assert_eq!(address, &hub_vnet.address);
            assert_eq!(*stage, Stage::Hub);
            assert_eq!(needed_by, &vec!["spoke peering".to_string()]);
        }
        other => panic!("{other}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("owui-deploy hub") && msg.contains("hub VNet vnet-hub"),
        "{msg}"
    );
    // Once it exists, it is read (shown with <=) and its values flow.
    fake.seed(
        hub_vnet.address.as_str(),
        hub_vnet.api.clone(),
        hub_vnet.body.clone(),
    );
    let p = plan(&fake, &model, &PlanOptions::default()).await.unwrap();
    assert_eq!(p.change(&hub_vnet.address).unwrap().action, Action::Read);
    assert!(render_plan_human(&p, false).contains(" <= hub VNet vnet-hub"));
}

#[tokio::test]
async fn removed_children_are_deleted_serially_and_after_other_writes() {
    let fake = Arc::new(Fake::with_delays(0, 5));
    let account = spec(
        &format!(
            "{}/providers/Microsoft.CognitiveServices/accounts/foundry",
            rg()
        ),
        "Microsoft.CognitiveServices/accounts",
        json!({"location": "swedencentral", "tags": {OWNER_TAG: "dev"}}),
    );
    let deployment = |name: &str, capacity: u32| {
        let mut s = spec(
            &format!("{}/deployments/{name}", account.address),
            "Microsoft.CognitiveServices/accounts/deployments",
            json!({"sku": {"name": "GlobalStandard", "capacity": capacity}, "properties": {"model": {"name": name}}}),
        );
        s.taggable = false;
        s.serial_key = Some(account.address.to_string());
        s.depends_on.insert(account.address.clone());
        s
    };
    let discovery = Discovery::Children {
        parent: account.address.clone(),
        child_type: "Microsoft.CognitiveServices/accounts/deployments".into(),
        api_version: "2024-10-01".into(),
        serial_key: Some(account.address.to_string()),
        stage: Stage::Spoke,
    };
    let v1 = Model {
        resources: vec![
            account.clone(),
            deployment("gpt-4o", 10),
            deployment("gpt-35", 10),
            deployment("o1", 10),
        ],
        discoveries: vec![discovery.clone()],
    };
    apply_all(&fake, &v1).await;
    assert_eq!(fake.st().conflicts, 0, "serial writes under one account");
    // Remove two, change one's capacity, add one.
    let v2 = Model {
        resources: vec![
            account.clone(),
            deployment("gpt-4o", 20),
            deployment("embed", 5),
        ],
        discoveries: vec![discovery],
    };
    let p = plan(fake.as_ref(), &v2, &PlanOptions::default())
        .await
        .unwrap();
    let actions: Vec<(String, Action)> = p
        .changes
        .iter()
        .map(|c| {
            (
                c.address.as_str().rsplit('/').next().unwrap().to_string(),
                c.action,
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("foundry".into(), Action::NoOp),
            ("gpt-4o".into(), Action::Update),
            ("embed".into(), Action::Create),
            ("gpt-35".into(), Action::Delete),
            ("o1".into(), Action::Delete),
        ]
    );
    let text = render_plan_human(&p, false);
    assert!(text.contains("  - deployments gpt-35"), "{text}");
    let md = engine::render_plan_markdown(&p);
    assert!(md.contains("| spoke | 0 | 0 | 0 | 2 |"), "{md}");
    assert!(md.contains("| hub | 1 | 1 | 0 | 0 |"), "{md}");
    assert!(
        md.contains("<code>-</code> destroy <b>deployments gpt-35</b>"),
        "{md}"
    );
    assert!(md.contains("! /sku/capacity = 10.0 -> 20"), "{md}");
    assert!(
        md.contains("**Plan: 1 to add, 1 to change, 0 to replace, 2 to destroy.**"),
        "{md}"
    );
    assert!(
        text.contains("Plan: 1 to add, 1 to change, 0 to replace, 2 to destroy."),
        "{text}"
    );
    let calls_before = fake.writes().len();
    let r = engine::apply(
        fake.clone(),
        &p,
        &engine::ApplyOptions::default(),
        &secrets(),
        EventSink::discard(),
        CancelToken::new(),
    )
    .await
    .unwrap();
    assert!(r.results.iter().all(|(_, o)| o.is_success()), "{r:?}");
    assert_eq!(fake.st().conflicts, 0);
    let calls: Vec<Call> = fake.writes()[calls_before..].to_vec();
    let kinds: Vec<&str> = calls
        .iter()
        .map(|c| match c {
            Call::Write(_) => "write",
            Call::Delete(_) => "delete",
        })
        .collect();
    assert_eq!(kinds, vec!["write", "write", "delete", "delete"]);
    assert!(
        fake.get(&format!("{}/deployments/o1", account.address))
            .is_none()
    );
    let again = plan(fake.as_ref(), &v2, &PlanOptions::default())
        .await
        .unwrap();
    assert!(!again.has_changes());
}

#[tokio::test]
async fn tagged_resources_of_this_environment_only_are_deleted() {
    let fake = Fake::new();
    let mine = thing("old");
    let mut other_env = thing("theirs");
    other_env.body["tags"][OWNER_TAG] = json!("prod");
    let keep = thing("keep");
    for s in [&mine, &other_env, &keep] {
        fake.seed(s.address.as_str(), s.api.clone(), s.body.clone());
    }
    let model = Model {
        resources: vec![keep.clone()],
        discoveries: vec![Discovery::Tagged {
            resource_group: Address(rg()),
            env: "dev".into(),
            api_version: "2021-04-01".into(),
            stage: Stage::Hub,
        }],
    };
    let p = plan(&fake, &model, &PlanOptions::default()).await.unwrap();
    let deletes: Vec<&Address> = p
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| &c.address)
        .collect();
    assert_eq!(deletes, vec![&mine.address]);
}

#[tokio::test]
async fn destroy_deletes_dependents_first_and_only_owned() {
    let fake = Arc::new(Fake::with_delays(0, 2));
    let id = identity();
    let ra = role_assignment(&id);
    let v = vnet();
    let mut foreign = thing("foreign");
    foreign.body["tags"][OWNER_TAG] = json!("prod");
    fake.seed(
        foreign.address.as_str(),
        foreign.api.clone(),
        foreign.body.clone(),
    );
    let model = Model {
        resources: vec![v.clone(), id.clone(), ra.clone(), foreign.clone()],
        discoveries: vec![],
    };
    apply_all(
        &fake,
        &Model {
            resources: model.resources[..3].to_vec(),
            discoveries: vec![],
        },
    )
    .await;
    let opts = PlanOptions {
        destroy: true,
        environment: Some("dev".into()),
        ..PlanOptions::default()
    };
    let p = plan(fake.as_ref(), &model, &opts).await.unwrap();
    assert_eq!(p.summary().destroy, 3, "{:#?}", p.changes);
    assert!(
        p.warnings.iter().any(|w| w.contains("prod")),
        "{:?}",
        p.warnings
    );
    assert!(
        p.change(&id.address)
            .unwrap()
            .depends_on
            .contains(&ra.address)
    );
    engine::apply(
        fake.clone(),
        &p,
        &engine::ApplyOptions::default(),
        &Secrets::new(),
        EventSink::discard(),
        CancelToken::new(),
    )
    .await
    .unwrap();
    let (ra_done, id_start) = {
        let st = fake.st();
        (
            st.finished[&ra.address.as_str().to_ascii_lowercase()],
            st.started[&id.address.as_str().to_ascii_lowercase()],
        )
    };
    assert!(
        ra_done <= id_start,
        "the role assignment goes before its principal"
    );
    assert!(fake.get(foreign.address.as_str()).is_some());
    assert!(fake.get(id.address.as_str()).is_none());
    let again = plan(fake.as_ref(), &model, &opts).await.unwrap();
    assert!(!again.has_changes(), "destroy is idempotent");
}

#[tokio::test]
async fn secrets_never_appear_in_plans_renderings_or_events() {
    let fake = Arc::new(Fake::new());
    let model = Model {
        resources: vec![vnet()],
        discoveries: vec![],
    };
    let p = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    let pw = p.changes[0]
        .diffs
        .iter()
        .find(|d| d.path == "/properties/adminPassword")
        .unwrap();
    assert_eq!(pw.new, DiffValue::Sensitive);
    let (sink, mut rx) = EventSink::channel();
    engine::apply(
        fake.clone(),
        &p,
        &engine::ApplyOptions::default(),
        &secrets(),
        sink,
        CancelToken::new(),
    )
    .await
    .unwrap();
    // The secret was sent...
    let sent = fake.st().bodies[0].1.to_string();
    assert!(sent.contains("S3cr3t-VALUE-never-shown"));
    // ...and appears nowhere else.
    let mut outputs = vec![
        serde_json::to_string(&p).unwrap(),
        plan_json(&p).to_string(),
        render_plan_human(&p, true),
        engine::render_plan_markdown(&p),
        format!("{p:?}"),
        format!("{:?}", secrets()),
    ];
    while let Ok(e) = rx.try_recv() {
        outputs.push(engine::render::event_json_line(&e));
        outputs.push(engine::render::event_text(&e));
    }
    // Write-only: ARM never returns it, so an existing resource shows no change.
    let p2 = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    assert!(!p2.has_changes());
    // A forced rewrite (rotation) shows the secret as changed, still sensitive.
    let forced = PlanOptions {
        force_write: [model.resources[0].address.clone()].into(),
        ..PlanOptions::default()
    };
    let p3 = plan(fake.as_ref(), &model, &forced).await.unwrap();
    assert_eq!(p3.changes[0].action, Action::Update);
    let text = render_plan_human(&p3, false);
    assert!(
        text.contains("/properties/adminPassword = (sensitive) -> (sensitive)"),
        "{text}"
    );
    outputs.push(text);
    outputs.push(serde_json::to_string(&p3).unwrap());
    for o in outputs {
        assert!(!o.contains("S3cr3t-VALUE"), "secret leaked into: {o}");
    }
    // A missing secret is an error naming it, before any write.
    let before = fake.writes().len();
    let e = engine::apply(
        fake.clone(),
        &p3,
        &engine::ApplyOptions::default(),
        &Secrets::new(),
        EventSink::discard(),
        CancelToken::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&e, EngineError::MissingSecret { name, .. } if name == "vnet-secret"),
        "{e}"
    );
    assert_eq!(fake.writes().len(), before);
}

#[tokio::test]
async fn plan_serialises_round_trips_and_follows_the_json_schema() {
    let fake = Fake::new();
    let id = identity();
    let mut big = thing("openapi");
    big.body["properties"]["value"] = json!("x".repeat(1_130_461));
    let model = Model {
        resources: vec![vnet(), id.clone(), role_assignment(&id), big.clone()],
        discoveries: vec![],
    };
    let p = plan(&fake, &model, &PlanOptions::default()).await.unwrap();
    let text = serde_json::to_string(&p).unwrap();
    assert!(
        text.len() < 100_000,
        "large values stay out of the plan ({} bytes)",
        text.len()
    );
    let mut back: Plan = serde_json::from_str(&text).unwrap();
    assert_eq!(back, p);
    // The loaded plan needs the large content back before it can be applied.
    assert_eq!(back.missing_blobs().len(), 1);
    back.restore_blobs(&model).unwrap();
    assert!(back.missing_blobs().is_empty());
    let human = render_plan_human(&p, false);
    assert!(human.contains("(1.1 MB)"), "{human}");
    assert!(!human.contains(&"x".repeat(300)));
    let doc = plan_json(&p);
    assert_eq!(doc["format_version"], json!("1"));
    assert_eq!(doc["summary"]["add"], json!(4));
    let ch = &doc["changes"][0];
    for k in [
        "address",
        "label",
        "stage",
        "api",
        "action",
        "fingerprint",
        "diffs",
    ] {
        assert!(ch.get(k).is_some(), "{k} missing in {ch}");
    }
    assert_eq!(ch["api"]["kind"], json!("arm"));
    assert_eq!(ch["fingerprint"]["kind"], json!("absent"));
    let states: Vec<&Value> = doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["diffs"].as_array().unwrap())
        .map(|d| &d["new"]["state"])
        .collect();
    for s in ["known", "unknown", "sensitive", "digest"] {
        assert!(states.contains(&&json!(s)), "no {s} value in {states:?}");
    }
}

#[tokio::test]
async fn stale_plans_are_detected_by_fingerprint() {
    let fake = Arc::new(Fake::new());
    let model = Model {
        resources: vec![thing("a"), thing("b")],
        discoveries: vec![],
    };
    apply_all(&fake, &model).await;
    let mut changed = model.clone();
    changed.resources[0].body["properties"]["size"] = json!(2);
    let p = plan(fake.as_ref(), &changed, &PlanOptions::default())
        .await
        .unwrap();
    engine::verify_plan(fake.as_ref(), &p, 4).await.unwrap();
    fake.tamper(model.resources[1].address.as_str(), |v| {
        v["properties"]["size"] = json!(7);
    });
    let before = fake.writes().len();
    let opts = engine::ApplyOptions {
        verify_fingerprints: true,
        ..engine::ApplyOptions::default()
    };
    let e = engine::apply(
        fake.clone(),
        &p,
        &opts,
        &Secrets::new(),
        EventSink::discard(),
        CancelToken::new(),
    )
    .await
    .unwrap_err();
    match &e {
        EngineError::StalePlan { stale } => {
            assert_eq!(stale.len(), 1);
            assert_eq!(stale[0].address, model.resources[1].address);
        }
        other => panic!("{other}"),
    }
    assert_eq!(fake.writes().len(), before, "a stale plan writes nothing");
}

#[tokio::test]
async fn graph_addresses_may_embed_references() {
    let fake = Arc::new(Fake::new());
    let app_addr = "graph:/applications(uniqueName='owui-dev')";
    let mut app = spec(
        app_addr,
        "x",
        json!({"displayName": "Open WebUI", "uniqueName": "owui-dev"}),
    );
    app.api = engine::Api::Graph {
        kind: "application".into(),
    };
    app.taggable = false;
    let app_id = Reference::new(app_addr, "/appId");
    let sp_addr = format!("graph:/servicePrincipals(appId='{}')", app_id.marker());
    let mut sp = spec(
        &sp_addr,
        "x",
        json!({"appId": app_id.marker(), "appRoleAssignmentRequired": true}),
    );
    sp.api = engine::Api::Graph {
        kind: "servicePrincipal".into(),
    };
    sp.taggable = false;
    let mut grant = spec(
        "graph:/oauth2PermissionGrants?$filter=clientId eq 'x'",
        "x",
        json!({"clientId": Reference::new(sp_addr.as_str(), "/id").marker()}),
    );
    grant.api = engine::Api::Graph {
        kind: "oauth2PermissionGrant".into(),
    };
    grant.taggable = false;
    let model = Model {
        resources: vec![grant.clone(), sp.clone(), app.clone()],
        discoveries: vec![],
    };
    model.validate().unwrap();
    let p = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    assert_eq!(p.summary().add, 3);
    apply_all(&fake, &model).await;
    let app_live = fake.get(app_addr).unwrap();
    let resolved_sp = format!(
        "graph:/servicePrincipals(appId='{}')",
        app_live["appId"].as_str().unwrap()
    );
    let sp_live = fake
        .get(&resolved_sp)
        .expect("service principal at the resolved address");
    assert_eq!(sp_live["appId"], app_live["appId"]);
    let grant_live = fake.get(grant.address.as_str()).unwrap();
    assert_eq!(grant_live["clientId"], sp_live["id"]);
    let p2 = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    assert!(!p2.has_changes(), "{}", render_plan_human(&p2, false));
    assert_eq!(
        p2.change(&sp.address).unwrap().target,
        Some(Address(resolved_sp))
    );
}

fn schema(name: &str) -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/schemas")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("schema file");
    let v: Value = serde_json::from_str(&text).expect("schema JSON");
    jsonschema::validator_for(&v).expect("valid schema")
}

fn assert_valid(validator: &jsonschema::Validator, doc: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

#[tokio::test]
async fn json_output_follows_the_documented_schemas() {
    let fake = Arc::new(Fake::new());
    let id = identity();
    let mut big = thing("openapi");
    big.body["properties"]["value"] = json!("x".repeat(10_000));
    big.depends_on.insert(vnet().address);
    let ra = role_assignment(&id);
    fake.st()
        .principal_not_found
        .insert(ra.address.as_str().to_ascii_lowercase(), 1);
    let model = Model {
        resources: vec![vnet(), id.clone(), ra, big],
        discoveries: vec![],
    };
    let plan_schema = schema("plan.v1.schema.json");
    let p = plan(fake.as_ref(), &model, &PlanOptions::default())
        .await
        .unwrap();
    assert_valid(&plan_schema, &plan_json(&p));
    // The schema is strict enough to reject a wrong document.
    let mut broken = plan_json(&p);
    broken["changes"][0]["action"] = json!("recreate");
    assert!(!plan_schema.is_valid(&broken));

    let (sink, mut rx) = EventSink::channel();
    fake.fail_writes(model.resources[0].address.as_str(), 400, "BadRequest");
    let fast = engine::ApplyOptions {
        retry_initial_delay: Duration::from_millis(1),
        ..engine::ApplyOptions::default()
    };
    let _ = engine::apply(
        fake.clone(),
        &p,
        &fast,
        &secrets(),
        sink,
        CancelToken::new(),
    )
    .await;
    let event_schema = schema("event.v1.schema.json");
    let mut kinds = std::collections::BTreeSet::new();
    while let Ok(e) = rx.try_recv() {
        let line: Value = serde_json::from_str(&engine::render::event_json_line(&e)).unwrap();
        kinds.insert(line["event"].as_str().unwrap().to_string());
        assert_valid(&event_schema, &line);
    }
    for k in [
        "started",
        "polled",
        "retrying",
        "succeeded",
        "failed",
        "skipped",
    ] {
        assert!(kinds.contains(k), "{kinds:?}");
    }
    // Another plan validates too.
    fake.st().fail.clear();
    let p2 = plan(
        fake.as_ref(),
        &Model {
            resources: vec![vnet()],
            discoveries: vec![],
        },
        &PlanOptions::default(),
    )
    .await
    .unwrap();
    assert_valid(&plan_schema, &plan_json(&p2));
}
