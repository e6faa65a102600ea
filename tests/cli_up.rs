//! `owui-deploy up` end to end (issue 5): the built binary against an in-process
//! sandbox. One graph over hub, spoke and finalize; spoke work proceeds while APIM
//! provisions; a re-plan changes nothing; staged `hub`, `spoke`, `finalize` reach
//! the same state; `outputs` reads everything back from the sandbox.

mod cli_support;

use cli_support::Harness;
use owui_deploy::config::Environment;
use owui_deploy::engine::{Api, Mode, Stage};
use owui_deploy::stages::{self, Ids, StageOptions, entra};
use serde_json::Value;
use std::collections::BTreeSet;

/// APIM's 45 minutes take 1.35 s; everything else is far shorter.
const TIME_SCALE: f64 = 0.0005;

fn environment(cli: &Harness) -> Environment {
    match owui_deploy::config::load(&cli.env_file) {
        Ok(loaded) => loaded.env,
        Err(e) => panic!("environment file invalid: {} problem(s)", e.problems.len()),
    }
}

/// The sandbox's resources: lower-cased IDs with the Container Apps environment's
/// random default domain replaced by `{defaultDomain}` (so two sandboxes compare).
async fn resource_set(cli: &Harness, default_domain: &str) -> BTreeSet<(String, String)> {
    let body: Value = cli.admin_get("/_sandbox/resources").await;
    body.as_array()
        .expect("resources array")
        .iter()
        .map(|r| {
            let id = r["id"]
                .as_str()
                .unwrap_or("")
                .to_ascii_lowercase()
                .replace(&default_domain.to_ascii_lowercase(), "{defaultdomain}");
            let state = r["provisioningState"].as_str().unwrap_or("").to_string();
            (id, state)
        })
        .collect()
}

async fn arm(cli: &Harness, id: &str, type_name: &str) -> Value {
    let v = owui_deploy::azure::api_versions::api_version(type_name)
        .unwrap_or_else(|| panic!("no API version for {type_name}"));
    let (status, body) = cli.arm_get(&format!("{id}?api-version={v}")).await;
    assert_eq!(status, 200, "GET {id}: {body}");
    body
}

async fn default_domain(cli: &Harness, env: &Environment) -> String {
    let aca = arm(
        cli,
        &Ids::new(env).aca_env(),
        "Microsoft.App/managedEnvironments",
    )
    .await;
    aca["properties"]["defaultDomain"]
        .as_str()
        .expect("defaultDomain")
        .to_string()
}

fn millis_of_day(t: &str) -> f64 {
    // "2026-11-22T00:09:51.369Z"
    let clock = t.split('T').nth(1).unwrap_or("").trim_end_matches('Z');
    let mut parts = clock.split(':');
    let h: f64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
    let m: f64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
    let s: f64 = parts.next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
    ((h * 60.0 + m) * 60.0 + s) * 1000.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_from_empty_deploys_every_stage_as_one_graph_then_plans_clean() {
    let cli = Harness::start("sandbox", TIME_SCALE).await;
    let env = environment(&cli);
    // -v: the whole plan, with every address (without it only the changes).
    let run = cli.run(&["up", "--yes", "--no-progress", "-v"]).await;
    run.ok();
    // Addresses that hold values only Azure knows are shown as such.
    assert!(
        run.stdout
            .contains("/privateDnsZones/(known after apply)/A/open-webui"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("graph:/servicePrincipals(appId='(known after apply)')")
    );
    assert!(
        run.stdout.contains("Apply complete"),
        "no completion line:\n{}",
        run.stdout
    );

    // Every resource of the three stages exists.
    let opts = StageOptions {
        environment_dir: cli.path().to_path_buf(),
        without_certificate: true,
        grant_admin_consent: false,
    };
    let model = stages::model(&env, &opts, &Stage::ALL).expect("model");
    assert!(model.resources.iter().all(|r| r.mode == Mode::Managed));
    let domain = default_domain(&cli, &env).await;
    let have: BTreeSet<String> = resource_set(&cli, &domain)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut per_stage = std::collections::BTreeMap::new();
    for spec in &model.resources {
        *per_stage.entry(spec.stage).or_insert(0) += 1;
        match &spec.api {
            Api::Arm { .. } => {
                let id = spec
                    .address
                    .as_str()
                    .replace("${ref:", "\u{0}")
                    .to_ascii_lowercase();
                let id = replace_marker(&id, "{defaultdomain}");
                assert!(
                    have.contains(&id),
                    "{} ({}) was not created",
                    spec.label,
                    spec.address
                );
            }
            Api::Graph { kind } => {
                let path = match kind.as_str() {
                    "application" => {
                        format!("/v1.0/applications(uniqueName='{}')", env.entra.unique_name)
                    }
                    "servicePrincipal" => {
                        let (s, app) = cli
                            .graph_get(&format!(
                                "/v1.0/applications(uniqueName='{}')",
                                env.entra.unique_name
                            ))
                            .await;
                        assert_eq!(s, 200);
                        format!(
                            "/v1.0/servicePrincipals(appId='{}')",
                            app["appId"].as_str().expect("appId")
                        )
                    }
                    other => panic!("unexpected Graph kind {other}"),
                };
                let (status, _) = cli.graph_get(&path).await;
                assert_eq!(status, 200, "{} was not created", spec.label);
            }
        }
    }
    for stage in Stage::ALL {
        assert!(
            per_stage.get(&stage).copied().unwrap_or(0) > 3,
            "stage {stage} has too few resources: {per_stage:?}"
        );
    }

    // One graph: spoke resources were created while APIM was provisioning.
    let journal = cli.journal().await;
    let apim = Ids::new(&env).apim().to_ascii_lowercase();
    let path_of = |e: &Value| {
        let p = e["path"].as_str().unwrap_or("").to_ascii_lowercase();
        p.split('?').next().unwrap_or("").to_string()
    };
    let apim_put = journal
        .iter()
        .find(|e| e["method"] == "PUT" && path_of(e) == apim)
        .expect("APIM was created");
    let apim_child_put = journal
        .iter()
        .find(|e| e["method"] == "PUT" && path_of(e).starts_with(&format!("{apim}/")))
        .expect("APIM children were created");
    let (start_seq, end_seq) = (
        apim_put["seq"].as_u64().expect("seq"),
        apim_child_put["seq"].as_u64().expect("seq"),
    );
    let start_ms = millis_of_day(apim_put["time"].as_str().expect("time"));
    let end_ms = millis_of_day(apim_child_put["time"].as_str().expect("time"));
    // 45 minutes at the harness's time scale.
    let apim_ms = 2700.0 * TIME_SCALE * 1000.0;
    assert!(
        end_ms - start_ms >= apim_ms * 0.9,
        "APIM children were written {:.0} ms after APIM's PUT, before it could finish",
        end_ms - start_ms
    );
    let spoke_rg = format!(
        "/resourcegroups/{}/",
        env.spoke.resource_group.to_ascii_lowercase()
    );
    let during: Vec<&Value> = journal
        .iter()
        .filter(|e| {
            let seq = e["seq"].as_u64().unwrap_or(0);
            e["method"] == "PUT"
                && seq > start_seq
                && seq < end_seq
                && path_of(e).contains(&spoke_rg)
                && millis_of_day(e["time"].as_str().unwrap_or("")) < start_ms + apim_ms * 0.9
        })
        .collect();
    assert!(
        during.len() >= 3,
        "expected spoke resources created while APIM provisions, got {:?}",
        during.iter().map(|e| &e["path"]).collect::<Vec<_>>()
    );

    // After up: no changes anywhere, nothing written.
    let mark = cli.mark().await;
    let plan = cli.run(&["plan", "--detailed-exitcode"]).await;
    plan.ok();
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    let writes = cli.writes_since(mark).await;
    assert!(writes.is_empty(), "plan wrote: {:?}", writes);

    // outputs: read from the sandbox.
    let out = cli.run(&["outputs", "--output", "json"]).await;
    out.ok();
    let o: Value = serde_json::from_str(&out.stdout).expect("outputs JSON");
    let (_, app) = cli
        .graph_get(&format!(
            "/v1.0/applications(uniqueName='{}')",
            env.entra.unique_name
        ))
        .await;
    let app_id = app["appId"].as_str().expect("appId");
    let service = arm(
        &cli,
        &Ids::new(&env).apim(),
        "Microsoft.ApiManagement/service",
    )
    .await;
    let gateway = service["properties"]["gatewayUrl"]
        .as_str()
        .expect("gatewayUrl");
    let pip = arm(
        &cli,
        &Ids::new(&env).appgw_public_ip(),
        "Microsoft.Network/publicIPAddresses",
    )
    .await;
    assert_eq!(
        o["open_webui_url"]["value"],
        format!("https://{}", env.domain.custom_domain)
    );
    assert_eq!(o["apim_gateway_url"]["value"], gateway);
    assert_eq!(o["api_base_url"]["value"], format!("{gateway}/openai/v1"));
    assert_eq!(o["entra_app_id"]["value"], app_id);
    assert_eq!(
        o["consent_url"]["value"],
        entra::consent_url(&env.azure.tenant_id, app_id)
    );
    assert_eq!(
        o["app_gateway_public_ip"]["value"],
        pip["properties"]["ipAddress"]
    );
    assert!(cli.writes_since(mark).await.is_empty(), "outputs wrote");
    let human = cli.run(&["outputs"]).await;
    human.ok();
    assert!(human.stdout.contains(app_id) && human.stdout.contains(gateway));
}

/// `s` with every `\0...}` (a reference marker, its `${ref:` already replaced by
/// `\0`) replaced by `with`.
fn replace_marker(s: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('\u{0}') {
        out.push_str(&rest[..i]);
        out.push_str(with);
        match rest[i..].find('}') {
            Some(j) => rest = &rest[i + j + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staged_hub_spoke_finalize_reach_the_same_state_as_up() {
    let (up, staged) = tokio::join!(
        Harness::start("sandbox", TIME_SCALE),
        Harness::start("sandbox", TIME_SCALE)
    );
    let env = environment(&up);

    // Outputs before anything exists name the stage to run.
    let empty = staged.run(&["outputs", "--output", "json"]).await;
    empty.ok();
    let o: Value = serde_json::from_str(&empty.stdout).expect("outputs JSON");
    assert_eq!(o["apim_gateway_url"]["stage"], "hub");
    assert_eq!(o["entra_app_id"]["stage"], "spoke");
    assert_eq!(o["open_webui_url"]["stage"], "finalize");
    assert!(
        o["open_webui_url"]["status"]
            .as_str()
            .unwrap_or("")
            .contains("not deployed (run owui-deploy finalize)")
    );

    up.run(&["up", "--yes", "--no-progress"]).await.ok();
    staged.run(&["hub", "--yes", "--no-progress"]).await.ok();

    // finalize without the spoke: fails before any write, naming the stage to run.
    let mark = staged.mark().await;
    let early = staged.run(&["finalize", "--yes", "--no-progress"]).await;
    assert_eq!(early.code, 1, "{}\n{}", early.stdout, early.stderr);
    assert!(
        early.stderr.contains("owui-deploy spoke"),
        "the error does not name the spoke stage:\n{}",
        early.stderr
    );
    let writes = staged.writes_since(mark).await;
    assert!(writes.is_empty(), "finalize wrote: {:?}", writes);

    staged
        .run(&["spoke", "--yes", "--no-progress", "--grant-admin-consent"])
        .await
        .ok();
    let fin = staged
        .run(&["finalize", "--yes", "--no-progress", "-v"])
        .await;
    fin.ok();
    let mark = staged.mark().await;
    let plan = staged.run(&["plan", "--detailed-exitcode"]).await;
    plan.ok();
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    assert!(staged.writes_since(mark).await.is_empty());

    // finalize after the spoke resolves the zone's address from the live environment.
    let d = default_domain(&staged, &env).await;
    assert!(
        fin.stdout
            .contains(&format!("/privateDnsZones/{d}/A/open-webui")),
        "{}",
        fin.stdout
    );
    // Consent was granted with the spoke: outputs has no consent URL.
    let o = staged.run(&["outputs", "--output", "json"]).await;
    o.ok();
    let o: Value = serde_json::from_str(&o.stdout).expect("outputs JSON");
    assert_eq!(o["consent_url"]["value"], Value::Null, "{o}");
    assert_eq!(o["consent_url"]["status"], "not pending");
    assert!(o["entra_app_id"]["value"].is_string());
    let (d_up, d_staged) = (
        default_domain(&up, &env).await,
        default_domain(&staged, &env).await,
    );
    let a = resource_set(&up, &d_up).await;
    let b = resource_set(&staged, &d_staged).await;
    assert_eq!(
        a.symmetric_difference(&b).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "up and staged deployments differ"
    );
    assert!(a.len() > 60, "suspiciously few resources: {}", a.len());

    // Key properties agree.
    let ids = Ids::new(&env);
    let apim = ids.apim();
    for (id, type_name, pointer) in [
        (
            format!("{apim}/backends/foundry-backend"),
            "Microsoft.ApiManagement/service/backends",
            "/properties/url",
        ),
        (
            format!("{apim}/apis/openai"),
            "Microsoft.ApiManagement/service/apis",
            "/properties/apiRevisionDescription",
        ),
        (
            format!("{apim}/apis/openai/policies/policy"),
            "Microsoft.ApiManagement/service/apis/policies",
            "/properties/value",
        ),
        (
            ids.hub(
                "Microsoft.Network/applicationGateways",
                &env.app_gateway.name,
            ),
            "Microsoft.Network/applicationGateways",
            "/properties/backendAddressPools/0/properties/backendAddresses",
        ),
    ] {
        let x = arm(&up, &id, type_name).await;
        let y = arm(&staged, &id, type_name).await;
        let x = x
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{id} has no {pointer}"));
        let y = y
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{id} has no {pointer}"));
        // The environment's default domain is random per sandbox.
        assert_eq!(
            x.to_string().replace(&d_up, "{defaultDomain}"),
            y.to_string().replace(&d_staged, "{defaultDomain}"),
            "{id}{pointer} differs"
        );
    }
    let tenant = format!("{apim}/namedValues/tenant-id");
    let nv = "Microsoft.ApiManagement/service/namedValues";
    assert_eq!(
        arm(&up, &tenant, nv).await["properties"]["value"],
        arm(&staged, &tenant, nv).await["properties"]["value"]
    );
}
