//! Tampered plan files (issue 13, finding 1): `apply FILE` rebuilds the model
//! from the environment file and refuses, with exit code 4 and without a single
//! write, every change the configuration would not produce.

mod cli_support;

use cli_support::Harness;
use serde_json::{Value, json};

const TIME_SCALE: f64 = 0.0005;
const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000000";
const EXIT_MISMATCH: i32 = 4;
const OWNER: &str = "8e3af657-a8ff-443f-a75c-2fe8c4bcb635";

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

fn write_json(path: &std::path::Path, v: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(v).expect("json")).expect("write");
}

/// The first change of `file` whose ARM type is `type_name`.
fn change_of_type<'a>(file: &'a mut Value, type_name: &str) -> &'a mut Value {
    file["plan"]["changes"]
        .as_array_mut()
        .expect("changes")
        .iter_mut()
        .find(|c| {
            c["api"]["type_name"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case(type_name))
        })
        .unwrap_or_else(|| panic!("a change of type {type_name}"))
}

/// Plans the hub into `plan.json`, lets `tamper` edit it, applies it and checks
/// the refusal: exit 4, `expect` in the message, no request at all when
/// `offline`, and in any case zero writes.
async fn refused(h: &Harness, tamper: impl FnOnce(&mut Value), expect: &str, offline: bool) {
    let path = h.path().join("plan.json");
    h.run(&["plan", "hub", "--out", "plan.json"]).await.ok();
    let mut file = read_json(&path);
    tamper(&mut file);
    write_json(&path, &file);
    let mark = h.mark().await;
    let run = h.run(&["apply", "plan.json", "--yes"]).await;
    run.expect_code(EXIT_MISMATCH);
    assert!(
        run.stderr
            .contains("the plan file does not match the configuration"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(expect),
        "{expect:?} in:\n{}",
        run.stderr
    );
    assert_eq!(
        h.writes_since(mark).await,
        Vec::<String>::new(),
        "zero writes"
    );
    if offline {
        assert_eq!(h.journal().await.len(), mark, "not even a read");
    }
    assert!(!run.stderr.contains("Apply complete"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_appended_owner_role_assignment_is_refused_before_any_request() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let address = format!(
        "{SUB}/providers/Microsoft.Authorization/roleAssignments/0b1c2d3e-0000-4000-8000-000000000001"
    );
    let tamper = |file: &mut Value| {
        let mut extra = change_of_type(file, "Microsoft.Resources/resourceGroups").clone();
        extra["address"] = json!(address);
        extra["label"] = json!("role assignment Owner");
        extra["api"] = json!({"api": "arm", "type_name": "Microsoft.Authorization/roleAssignments", "api_version": "2022-04-01"});
        extra["desired"] = json!({"properties": {
            "roleDefinitionId": format!("{SUB}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"),
            "principalId": "11111111-2222-3333-4444-555555555555",
            "principalType": "User"
        }});
        extra["depends_on"] = json!([]);
        file["plan"]["changes"]
            .as_array_mut()
            .expect("changes")
            .push(extra);
    };
    refused(&h, tamper, "the configuration has no such resource", true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_marker_where_the_model_has_none_is_refused_before_any_request() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let tamper = |file: &mut Value| {
        let rg = change_of_type(file, "Microsoft.Resources/resourceGroups");
        rg["desired"]["tags"]["leak"] = json!("${secret:postgres-admin-password}");
    };
    refused(
        &h,
        tamper,
        "differs from the configuration's at /tags/leak",
        true,
    )
    .await;
    // In a label (shown, never a body) a marker is refused too.
    let tamper = |file: &mut Value| {
        let rg = change_of_type(file, "Microsoft.Resources/resourceGroups");
        rg["label"] = json!("${secret:postgres-admin-password}");
    };
    refused(&h, tamper, "marker outside its desired body", true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_allow_all_rule_edited_into_a_desired_body_is_refused_and_named() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let tamper = |file: &mut Value| {
        let nsg = change_of_type(file, "Microsoft.Network/networkSecurityGroups");
        // Only the body changes: the diffs a reviewer saw stay as they were.
        let rules = nsg["desired"]["properties"]["securityRules"]
            .as_array_mut()
            .expect("rules");
        rules.push(json!({"name": "allow-all", "properties": {
            "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "*",
            "sourceAddressPrefix": "*", "sourcePortRange": "*",
            "destinationAddressPrefix": "*", "destinationPortRange": "*"
        }}));
    };
    refused(&h, tamper, "nsg", true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_turned_into_a_replace_or_a_foreign_delete_is_refused_with_zero_writes() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    // A reviewed change: one more tag everywhere (in-place updates).
    h.write_env(&h.env_text().replace(
        "purpose = \"sandbox\"",
        "purpose = \"sandbox\"\nowner = \"platform\"",
    ));
    // The action needs the live state to judge: refused after reading, before writing.
    let tamper = |file: &mut Value| {
        let vnet = change_of_type(file, "Microsoft.Network/virtualNetworks");
        assert_eq!(vnet["action"], "update", "{vnet:#}");
        vnet["action"] = json!("replace");
    };
    refused(&h, tamper, "differs in action", false).await;
    // A discovered delete outside what the configuration owns.
    let tamper = |file: &mut Value| {
        let mut extra = change_of_type(file, "Microsoft.Network/virtualNetworks").clone();
        extra["address"] = json!(format!(
            "{SUB}/resourceGroups/rg-production/providers/Microsoft.Network/virtualNetworks/vnet-prod"
        ));
        extra["action"] = json!("delete");
        extra["diffs"] = json!([]);
        for k in ["desired", "depends_on"] {
            extra.as_object_mut().expect("object").remove(k);
        }
        file["plan"]["changes"]
            .as_array_mut()
            .expect("changes")
            .push(extra);
    };
    refused(&h, tamper, "owns no such resource to delete", true).await;
    // The untouched plan still applies.
    h.run(&["plan", "hub", "--out", "plan.json"]).await.ok();
    h.run(&["apply", "plan.json", "--yes"]).await.ok();
}
