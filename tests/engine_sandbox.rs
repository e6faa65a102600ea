//! The engine end to end through `AzureBackend` (the real ARM and Graph clients)
//! against the in-process sandbox: create, no-op re-plan despite the sandbox's
//! normalisations, references from created resources (principal IDs, app IDs),
//! PrincipalNotFound retries, serialised model deployments and deletion of a
//! removed one.

use owui_deploy::azure::{
    ArmClient, AuthMethod, ClientSettings, Endpoints, GraphClient, credential,
};
use owui_deploy::engine::{
    self, Action, Address, Api, ApplyOptions, AzureBackend, Backend, CancelToken, DiffRules,
    Discovery, EventSink, Mode, Model, OWNER_TAG, PlanOptions, Reference, ResourceSpec, Secrets,
    Stage, plan, render_plan_human,
};
use owui_deploy::sandbox::{Sandbox, SandboxOptions};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-0000000e2e00";
const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";

fn settings() -> ClientSettings {
    ClientSettings {
        max_retries: 6,
        max_retry_time: Duration::from_secs(30),
        initial_retry_delay: Duration::from_millis(1),
        max_retry_delay: Duration::from_secs(1),
        lro_timeout: Duration::from_secs(60),
        user_agent_suffix: None,
    }
}

async fn backend() -> (Sandbox, Arc<AzureBackend>) {
    let sb = Sandbox::start(SandboxOptions {
        time_scale: 0.0005,
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox starts");
    let eps = Endpoints::sandbox(&sb.url(), sb.ca_pem());
    let cred = credential(AuthMethod::Auto, &eps, TENANT).expect("credential");
    let arm = ArmClient::new(&eps, cred.clone(), settings()).expect("arm client");
    let graph = GraphClient::new(&eps, cred, settings()).expect("graph client");
    (sb, Arc::new(AzureBackend::new(arm, graph)))
}

fn rg() -> String {
    format!("{SUB}/resourceGroups/rg-e2e")
}

fn arm_spec(address: String, type_name: &str, version: &str, body: Value) -> ResourceSpec {
    ResourceSpec {
        label: format!(
            "{} {}",
            type_name.rsplit('/').next().unwrap_or(""),
            address.rsplit('/').next().unwrap_or("")
        ),
        address: Address(address),
        stage: Stage::Spoke,
        api: Api::Arm {
            type_name: type_name.into(),
            api_version: version.into(),
        },
        body,
        depends_on: BTreeSet::new(),
        rules: DiffRules::default(),
        mode: Mode::Managed,
        serial_key: None,
        taggable: true,
    }
}

fn tags() -> Value {
    json!({OWNER_TAG: "e2e"})
}

fn model(deployments: &[(&str, u32)]) -> Model {
    let group = arm_spec(
        rg(),
        "Microsoft.Resources/resourceGroups",
        "2024-11-01",
        json!({"location": "UK South", "tags": tags()}),
    );
    let mut vnet = arm_spec(
        format!(
            "{}/providers/Microsoft.Network/virtualNetworks/vnet-e2e",
            rg()
        ),
        "Microsoft.Network/virtualNetworks",
        "2024-05-01",
        json!({
            "location": "UK South",
            "tags": tags(),
            "properties": {
                "addressSpace": {"addressPrefixes": ["10.0.0.0/24"]},
                "subnets": [
                    {"name": "pe-subnet", "properties": {"addressPrefix": "10.0.0.64/26"}},
                    {"name": "apim-subnet", "properties": {"addressPrefix": "10.0.0.0/28"}}
                ]
            }
        }),
    );
    vnet.rules.set_arrays = vec![
        "/properties/subnets".into(),
        "/properties/addressSpace/addressPrefixes".into(),
    ];
    vnet.depends_on.insert(group.address.clone());
    let mut uai = arm_spec(
        format!(
            "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-e2e",
            rg()
        ),
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        "2023-01-31",
        json!({"location": "uksouth", "tags": tags()}),
    );
    uai.depends_on.insert(group.address.clone());
    let role = "4633458b-17de-408a-b874-0445c86b69e6";
    let name = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("{}{role}id-e2e", rg()).as_bytes(),
    );
    let mut ra = arm_spec(
        format!(
            "{}/providers/Microsoft.Authorization/roleAssignments/{name}",
            rg()
        ),
        "Microsoft.Authorization/roleAssignments",
        "2022-04-01",
        json!({"properties": {
            "roleDefinitionId": format!("{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
            "principalId": Reference::new(uai.address.clone(), "/properties/principalId").marker(),
            "principalType": "ServicePrincipal"
        }}),
    );
    ra.taggable = false;
    // ARM answers the tenant-level role definition ID: the type's rules compare by GUID.
    ra.rules = owui_deploy::stages::resources::role_assignment::rules();
    let app_addr = "graph:/applications(uniqueName='owui-e2e')";
    let app = ResourceSpec {
        address: app_addr.into(),
        label: "Entra application owui-e2e".into(),
        stage: Stage::Spoke,
        api: Api::Graph {
            kind: "application".into(),
        },
        body: json!({"displayName": "Open WebUI e2e", "signInAudience": "AzureADMyOrg"}),
        depends_on: BTreeSet::new(),
        rules: DiffRules::default(),
        mode: Mode::Managed,
        serial_key: None,
        taggable: false,
    };
    let app_id = Reference::new(app_addr, "/appId");
    let sp = ResourceSpec {
        address: Address(format!(
            "graph:/servicePrincipals(appId='{}')",
            app_id.marker()
        )),
        label: "service principal owui-e2e".into(),
        api: Api::Graph {
            kind: "servicePrincipal".into(),
        },
        body: json!({"appId": app_id.marker(), "appRoleAssignmentRequired": true}),
        ..app.clone()
    };
    let mut account = arm_spec(
        format!(
            "{}/providers/Microsoft.CognitiveServices/accounts/ais-e2e",
            rg()
        ),
        "Microsoft.CognitiveServices/accounts",
        "2025-06-01",
        json!({
            "location": "swedencentral",
            "kind": "AIServices",
            "sku": {"name": "S0"},
            "tags": tags(),
            "identity": {"type": "SystemAssigned"},
            "properties": {"customSubDomainName": "ais-e2e", "publicNetworkAccess": "Disabled", "disableLocalAuth": true}
        }),
    );
    account.depends_on.insert(group.address.clone());
    account.rules.case_insensitive = vec!["/properties/publicNetworkAccess".into()];
    let mut resources = vec![group.clone(), vnet, uai, ra, app, sp, account.clone()];
    for (model_name, capacity) in deployments {
        let mut d = arm_spec(
            format!("{}/deployments/{model_name}", account.address),
            "Microsoft.CognitiveServices/accounts/deployments",
            "2025-06-01",
            json!({
                "sku": {"name": "GlobalStandard", "capacity": capacity},
                "properties": {"model": {"format": "OpenAI", "name": model_name, "version": "1"}}
            }),
        );
        d.taggable = false;
        d.serial_key = Some(account.address.to_string());
        d.depends_on.insert(account.address.clone());
        resources.push(d);
    }
    Model {
        resources,
        discoveries: vec![Discovery::Children {
            parent: account.address.clone(),
            child_type: "Microsoft.CognitiveServices/accounts/deployments".into(),
            api_version: "2025-06-01".into(),
            serial_key: Some(account.address.to_string()),
            stage: Stage::Spoke,
        }],
    }
}

fn opts() -> ApplyOptions {
    ApplyOptions {
        retry_initial_delay: Duration::from_millis(5),
        retry_max_delay: Duration::from_millis(50),
        principal_retry_timeout: Duration::from_secs(20),
        ..ApplyOptions::default()
    }
}

async fn apply(b: &Arc<AzureBackend>, p: &engine::Plan) -> engine::ApplyReport {
    let backend: Arc<dyn Backend> = b.clone();
    match engine::apply(
        backend,
        p,
        &opts(),
        &Secrets::new(),
        EventSink::discard(),
        CancelToken::new(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => panic!("apply failed: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_converges_against_the_sandbox() {
    let (sb, b) = backend().await;
    let m = model(&[
        ("gpt-4o", 10),
        ("gpt-4o-mini", 10),
        ("text-embedding-3-large", 5),
    ]);
    let p = plan(b.as_ref(), &m, &PlanOptions::default())
        .await
        .expect("plan");
    assert_eq!(p.summary().add, m.resources.len());
    let r = apply(&b, &p).await;
    assert!(r.results.iter().all(|(_, o)| o.is_success()), "{r:?}");

    // Values flowed from created resources.
    let uai = b
        .read(&m.resources[2].address, &m.resources[2].api)
        .await
        .unwrap()
        .unwrap();
    let ra = b
        .read(&m.resources[3].address, &m.resources[3].api)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        ra["properties"]["principalId"],
        uai["properties"]["principalId"]
    );

    // A re-plan finds nothing to do despite everything the sandbox adds or re-cases.
    let again = plan(b.as_ref(), &m, &PlanOptions::default())
        .await
        .expect("plan");
    assert!(!again.has_changes(), "{}", render_plan_human(&again, false));
    let sp = again.change(&m.resources[5].address).unwrap();
    assert!(
        sp.target
            .as_ref()
            .is_some_and(|t| !t.as_str().contains("${"))
    );

    // The same role assignment under another name is recognised as done.
    let mut renamed = m.clone();
    renamed.resources[3].address = Address(format!(
        "{}/providers/Microsoft.Authorization/roleAssignments/{}",
        rg(),
        uuid::Uuid::new_v4()
    ));
    let p = plan(b.as_ref(), &renamed, &PlanOptions::default())
        .await
        .expect("plan");
    assert!(!p.has_changes(), "{}", render_plan_human(&p, false));
    assert_eq!(
        p.change(&renamed.resources[3].address)
            .unwrap()
            .target
            .as_ref(),
        Some(&m.resources[3].address)
    );

    // Capacity change and a removed deployment.
    let m2 = model(&[("gpt-4o", 20), ("text-embedding-3-large", 5)]);
    let p2 = plan(b.as_ref(), &m2, &PlanOptions::default())
        .await
        .expect("plan");
    let actions: Vec<(String, Action)> = p2
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.label.clone(), c.action))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("deployments gpt-4o".to_string(), Action::Update),
            ("deployments gpt-4o-mini".to_string(), Action::Delete),
        ],
        "{}",
        render_plan_human(&p2, false)
    );
    let r = apply(&b, &p2).await;
    assert!(r.results.iter().all(|(_, o)| o.is_success()), "{r:?}");
    let after = plan(b.as_ref(), &m2, &PlanOptions::default())
        .await
        .expect("plan");
    assert!(!after.has_changes(), "{}", render_plan_human(&after, false));

    // Destroy removes everything owned, dependents first; a second destroy finds nothing.
    let destroy = PlanOptions {
        destroy: true,
        environment: Some("e2e".into()),
        ..PlanOptions::default()
    };
    let d = plan(b.as_ref(), &m2, &destroy).await.expect("destroy plan");
    assert_eq!(
        d.summary().destroy,
        m2.resources.len(),
        "{}",
        render_plan_human(&d, false)
    );
    let r = apply(&b, &d).await;
    assert!(r.results.iter().all(|(_, o)| o.is_success()), "{r:?}");
    let d2 = plan(b.as_ref(), &m2, &destroy).await.expect("destroy plan");
    assert!(!d2.has_changes(), "{}", render_plan_human(&d2, false));
    sb.shutdown().await;
}
