//! The desired resources of the finalize stage, built from an environment file.

mod finalize_env;

use owui_deploy::config::Environment;
use owui_deploy::engine::{Api, Mode, Reference, ResourceSpec, Stage, references_in};
use owui_deploy::stages::finalize::{self, finalize_resources};
use owui_deploy::stages::{self as stages, Ids, StageError, StageOptions};
use serde_json::Value;
use std::collections::BTreeSet;

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-0000000000aa";
const APIM: &str = "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-hub/providers/Microsoft.ApiManagement/service/apim-owui-dev";

fn opts() -> StageOptions {
    StageOptions {
        environment_dir: std::env::temp_dir(),
        ..StageOptions::default()
    }
}

fn role_assignment_name(scope: &str, role: &str, principal: &str) -> String {
    Ids::role_assignment_name(scope, &Ids::role_definition(scope, role), principal)
}

fn build(env: &Environment) -> Vec<ResourceSpec> {
    finalize_resources(env, &opts()).expect("finalize builds")
}

fn find<'a>(specs: &'a [ResourceSpec], suffix: &str) -> &'a ResourceSpec {
    specs
        .iter()
        .find(|s| s.address.as_str().ends_with(suffix))
        .unwrap_or_else(|| panic!("no spec ending with {suffix}"))
}

fn marker(addr: &str, ptr: &str) -> String {
    Reference::new(addr, ptr).marker()
}

#[test]
fn every_spec_is_a_managed_finalize_resource_with_a_pinned_api() {
    let specs = build(&finalize_env::base());
    let mut seen = BTreeSet::new();
    for s in &specs {
        assert_eq!(s.stage, Stage::Finalize, "{}", s.address);
        assert_eq!(s.mode, Mode::Managed, "{}", s.address);
        assert!(seen.insert(s.address.clone()), "duplicate {}", s.address);
        match &s.api {
            Api::Arm { api_version, .. } => assert!(!api_version.is_empty()),
            Api::Graph { .. } => panic!("finalize has no Graph resources"),
        }
        // Dependencies are on addresses, never on itself.
        assert!(!s.dependencies().contains(&s.address));
    }
    // 2 named values, backend, product, API, link, policy, 2 Foundry roles, MMP,
    // logger, 2 diagnostics, diagnostic setting, 2 Key Vault roles, 4 APIM records,
    // zone, app record, zone link, gateway, usage workbook.
    assert_eq!(
        specs.len(),
        25,
        "{:#?}",
        specs.iter().map(|s| &s.address).collect::<Vec<_>>()
    );
}

#[test]
fn apim_named_values_backend_product_and_api() {
    let env = finalize_env::base();
    let specs = build(&env);
    let tenant = find(&specs, "/namedValues/tenant-id");
    assert_eq!(tenant.body["properties"]["value"], env.azure.tenant_id);
    assert_eq!(tenant.body["properties"]["displayName"], "tenant-id");
    let app = find(&specs, "/namedValues/openwebui-app-id");
    assert_eq!(
        app.body["properties"]["value"],
        marker("graph:/applications(uniqueName='open-webui-dev')", "/appId")
    );

    let backend = find(&specs, "/backends/foundry-backend");
    let p = &backend.body["properties"];
    assert_eq!(
        p["url"],
        "https://fdy-owui-dev.services.ai.azure.com/openai/v1"
    );
    assert_eq!(p["tls"]["validateCertificateChain"], true);
    assert_eq!(p["tls"]["validateCertificateName"], true);
    assert!(p.get("circuitBreaker").is_none());
    let account = format!(
        "{SUB}/resourceGroups/rg-spoke/providers/Microsoft.CognitiveServices/accounts/fdy-owui-dev"
    );
    assert!(backend.dependencies().iter().any(|a| a.as_str() == account));

    let product = find(&specs, "/products/platform-services");
    assert_eq!(product.body["properties"]["subscriptionRequired"], true);
    assert_eq!(product.body["properties"]["state"], "published");

    let api = find(&specs, "/apis/openai");
    let p = &api.body["properties"];
    assert_eq!(p["path"], "openai/v1");
    assert_eq!(p["protocols"], serde_json::json!(["https"]));
    assert_eq!(p["subscriptionKeyParameterNames"]["header"], "api-key");
    assert_eq!(p["subscriptionKeyParameterNames"]["query"], "api-key");
    assert_eq!(p["format"], "openapi+json");
    assert!(
        p["apiRevisionDescription"]
            .as_str()
            .unwrap()
            .contains("sha256:")
    );
    assert!(api.rules.ignore.contains(&"/properties/format".to_string()));

    let link = find(&specs, "/products/platform-services/apis/openai");
    assert_eq!(link.body, serde_json::json!({}));
    let deps = link.dependencies();
    assert!(deps.contains(&api.address) && deps.contains(&product.address));

    let policy = find(&specs, "/apis/openai/policies/policy");
    assert_eq!(policy.body["properties"]["format"], "xml");
    let xml = policy.body["properties"]["value"].as_str().unwrap();
    assert!(xml.contains("<llm-token-limit"));
    let pdeps = policy.dependencies();
    for nv in [
        &tenant.address,
        &app.address,
        &backend.address,
        &api.address,
    ] {
        assert!(pdeps.contains(nv), "policy must wait for {nv}");
    }
}

#[test]
fn logger_diagnostics_and_diagnostic_setting() {
    let specs = build(&finalize_env::base());
    let appi =
        format!("{SUB}/resourceGroups/rg-hub/providers/Microsoft.Insights/components/appi-owui");
    let law = format!(
        "{SUB}/resourceGroups/rg-hub/providers/Microsoft.OperationalInsights/workspaces/log-owui"
    );
    let logger = find(&specs, "/loggers/appinsights-logger");
    let p = &logger.body["properties"];
    assert_eq!(p["loggerType"], "applicationInsights");
    assert_eq!(p["credentials"]["identityClientId"], "systemAssigned");
    assert_eq!(
        p["credentials"]["connectionString"],
        marker(&appi, "/properties/ConnectionString")
    );
    assert_eq!(p["resourceId"], marker(&appi, "/id"));
    assert!(
        logger
            .rules
            .write_only
            .contains(&"/properties/credentials".to_string())
    );

    let diag = find(&specs, "/apis/openai/diagnostics/applicationinsights");
    let p = &diag.body["properties"];
    assert_eq!(p["loggerId"], logger.address.as_str());
    assert_eq!(p["sampling"]["percentage"], 100.0);
    assert_eq!(p["metrics"], true);
    assert_eq!(p["httpCorrelationProtocol"], "W3C");
    // No LLM messages in Application Insights: they go to Azure Monitor.
    assert_eq!(
        p["largeLanguageModel"],
        serde_json::json!({"logs": "disabled"})
    );

    // The azuremonitor diagnostic: LLM requests and responses, 32 KiB each by default,
    // through APIM's built-in `azuremonitor` logger.
    let llm_diag = find(&specs, "/apis/openai/diagnostics/azuremonitor");
    let p = &llm_diag.body["properties"];
    assert_eq!(p["loggerId"], format!("{APIM}/loggers/azuremonitor"));
    assert_eq!(p["sampling"]["percentage"], 100.0);
    assert!(p.get("metrics").is_none() && p.get("httpCorrelationProtocol").is_none());
    let llm = &p["largeLanguageModel"];
    assert_eq!(llm["logs"], "enabled");
    for kind in ["requests", "responses"] {
        assert_eq!(llm[kind]["messages"], "all", "{kind}");
        assert_eq!(llm[kind]["maxSizeInBytes"], 32_768, "{kind}");
    }

    let ds = find(
        &specs,
        "/providers/Microsoft.Insights/diagnosticSettings/apim-gateway-logs",
    );
    assert!(ds.address.as_str().starts_with(APIM));
    let p = &ds.body["properties"];
    assert_eq!(p["logAnalyticsDestinationType"], "Dedicated");
    assert_eq!(p["workspaceId"], marker(&law, "/id"));
    let cats: Vec<&str> = p["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["category"].as_str().unwrap())
        .collect();
    assert_eq!(cats, ["GatewayLogs", "GatewayLlmLogs"]);
}

#[test]
fn role_assignments_are_deterministic_and_typed() {
    let specs = build(&finalize_env::base());
    let roles: Vec<&ResourceSpec> = specs
        .iter()
        .filter(|s| {
            s.address
                .as_str()
                .contains("/providers/Microsoft.Authorization/roleAssignments/")
        })
        .collect();
    assert_eq!(roles.len(), 5);
    let account = format!(
        "{SUB}/resourceGroups/rg-spoke/providers/Microsoft.CognitiveServices/accounts/fdy-owui-dev"
    );
    let want_name = role_assignment_name(&account, finalize::ROLE_COGNITIVE_SERVICES_USER, APIM);
    let csu = find(
        &specs,
        &format!("{account}/providers/Microsoft.Authorization/roleAssignments/{want_name}"),
    );
    assert_eq!(
        csu.body["properties"]["roleDefinitionId"],
        format!(
            "{SUB}/providers/Microsoft.Authorization/roleDefinitions/a97b65f3-24c7-4388-baec-2e87135dc908"
        )
    );
    assert_eq!(
        csu.body["properties"]["principalId"],
        marker(APIM, "/identity/principalId")
    );
    for r in &roles {
        assert_eq!(r.body["properties"]["principalType"], "ServicePrincipal");
    }
    let role_ids: BTreeSet<String> = roles
        .iter()
        .map(|r| {
            r.body["properties"]["roleDefinitionId"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    for id in [
        finalize::ROLE_COGNITIVE_SERVICES_USER,
        finalize::ROLE_AZURE_AI_USER,
        finalize::ROLE_MONITORING_METRICS_PUBLISHER,
        finalize::ROLE_KEY_VAULT_SECRETS_USER,
    ] {
        assert!(role_ids.contains(id), "{id}");
    }
    // The same inputs give the same name; another principal, another name.
    assert_eq!(
        role_assignment_name(&account, finalize::ROLE_AZURE_AI_USER, APIM),
        role_assignment_name(&account.to_uppercase(), finalize::ROLE_AZURE_AI_USER, APIM)
    );
    assert_ne!(
        role_assignment_name(&account, finalize::ROLE_AZURE_AI_USER, APIM),
        role_assignment_name(&account, finalize::ROLE_AZURE_AI_USER, "/other")
    );
    // Rebuilding gives identical specs.
    assert_eq!(build(&finalize_env::base()), specs);
}

#[test]
fn dns_records_and_the_dynamic_zone() {
    let specs = build(&finalize_env::base());
    let zone = format!(
        "{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/privateDnsZones/azure-api.net"
    );
    for name in [
        "apim-owui-dev",
        "apim-owui-dev.developer",
        "apim-owui-dev.management",
        "apim-owui-dev.scm",
    ] {
        let rec = find(&specs, &format!("{zone}/A/{name}"));
        assert_eq!(
            rec.body["properties"]["aRecords"][0]["ipv4Address"],
            marker(APIM, "/properties/privateIPAddresses/0")
        );
    }
    let env_id = format!(
        "{SUB}/resourceGroups/rg-spoke/providers/Microsoft.App/managedEnvironments/cae-owui-dev"
    );
    let dyn_zone = format!(
        "{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/privateDnsZones/{}",
        marker(&env_id, "/properties/defaultDomain")
    );
    let z = specs
        .iter()
        .find(|s| s.address.as_str() == dyn_zone)
        .expect("dynamic zone");
    assert_eq!(z.body["location"], "global");
    assert!(z.dependencies().iter().any(|a| a.as_str() == env_id));
    let rec = find(&specs, &format!("{dyn_zone}/A/open-webui"));
    assert_eq!(
        rec.body["properties"]["aRecords"][0]["ipv4Address"],
        marker(&env_id, "/properties/staticIp")
    );
    let link = find(
        &specs,
        &format!("{dyn_zone}/virtualNetworkLinks/hub-vnet-link"),
    );
    let hub_vnet =
        format!("{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub");
    assert_eq!(link.body["properties"]["virtualNetwork"]["id"], hub_vnet);
    assert_eq!(link.body["properties"]["registrationEnabled"], false);
}

#[test]
fn application_gateway_per_the_reference() {
    let specs = build(&finalize_env::base());
    let gw = find(
        &specs,
        "/providers/Microsoft.Network/applicationGateways/agw-owui",
    );
    assert!(gw.taggable);
    let b = &gw.body;
    assert_eq!(b["tags"]["owui-deploy-env"], "dev");
    assert_eq!(b["location"], "uksouth");
    let identity = format!(
        "{SUB}/resourceGroups/rg-hub/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-appgw"
    );
    assert_eq!(b["identity"]["type"], "UserAssigned");
    assert!(
        b["identity"]["userAssignedIdentities"]
            .get(&identity)
            .is_some()
    );
    let p = &b["properties"];
    assert_eq!(p["sku"]["name"], "Standard_v2");
    assert_eq!(p["sku"]["capacity"], 1);
    let kv = format!(
        "{SUB}/resourceGroups/rg-spoke/providers/Microsoft.KeyVault/vaults/kv-spoke-dev/secrets/openwebui-certificate"
    );
    assert_eq!(
        p["sslCertificates"][0]["properties"]["keyVaultSecretId"],
        marker(&kv, "/properties/secretUri")
    );
    assert!(p.get("trustedRootCertificates").is_none());
    let app =
        format!("{SUB}/resourceGroups/rg-spoke/providers/Microsoft.App/containerApps/open-webui");
    assert_eq!(
        p["backendAddressPools"][0]["properties"]["backendAddresses"][0]["fqdn"],
        marker(&app, "/properties/configuration/ingress/fqdn")
    );
    let hs = &p["backendHttpSettingsCollection"][0]["properties"];
    assert_eq!(hs["protocol"], "Https");
    assert_eq!(hs["hostName"], "chat.example.com");
    assert_eq!(hs["cookieBasedAffinity"], "Enabled");
    assert_eq!(hs["requestTimeout"], 120);
    assert_eq!(p["probes"][0]["properties"]["path"], "/health");
    assert_eq!(p["probes"][0]["properties"]["unhealthyThreshold"], 10);
    let redirect = &p["redirectConfigurations"][0]["properties"];
    assert_eq!(redirect["redirectType"], "Permanent");
    let listeners: Vec<&str> = p["httpListeners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["properties"]["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(listeners, ["Https", "Http"]);
    assert_eq!(
        p["frontendIPConfigurations"][0]["properties"]["publicIPAddress"]["id"],
        format!(
            "{SUB}/resourceGroups/rg-hub/providers/Microsoft.Network/publicIPAddresses/pip-appgw"
        )
    );
    // Every sub-resource reference points inside this gateway.
    let text = serde_json::to_string(p).unwrap();
    for piece in text.split("\"id\":\"").skip(1) {
        let id = piece.split('"').next().unwrap();
        assert!(
            id.starts_with(gw.address.as_str())
                || id.contains("/virtualNetworks/")
                || id.contains("/publicIPAddresses/"),
            "{id}"
        );
    }
    // The gateway waits for its Key Vault roles.
    let deps = gw.dependencies();
    let kv_roles = specs
        .iter()
        .filter(|s| {
            s.body["properties"]["roleDefinitionId"]
                .as_str()
                .is_some_and(|r| r.ends_with(finalize::ROLE_KEY_VAULT_SECRETS_USER))
        })
        .count();
    assert_eq!(kv_roles, 2);
    assert!(
        specs
            .iter()
            .filter(|s| s.body["properties"]["roleDefinitionId"]
                .as_str()
                .is_some_and(|r| r.ends_with(finalize::ROLE_KEY_VAULT_SECRETS_USER)))
            .all(|s| deps.contains(&s.address))
    );

    // With a trusted root certificate configured.
    let mut env = finalize_env::base();
    env.domain.trusted_root_certificate_path = Some("root.pem".into());
    let specs = build(&env);
    let gw = find(&specs, "/applicationGateways/agw-owui");
    let p = &gw.body["properties"];
    let root = format!(
        "{SUB}/resourceGroups/rg-hub/providers/Microsoft.KeyVault/vaults/kv-hub-dev/secrets/trusted-root-certificate"
    );
    assert_eq!(
        p["trustedRootCertificates"][0]["properties"]["keyVaultSecretId"],
        marker(&root, "/properties/secretUri")
    );
    assert_eq!(
        p["backendHttpSettingsCollection"][0]["properties"]["trustedRootCertificates"][0]["id"],
        format!("{}/trustedRootCertificates/backend-root", gw.address)
    );
}

#[test]
fn backend_pool_with_circuit_breakers() {
    let env = finalize_env::with(
        r#"
[[foundry.pool]]
name = "fdy-owui-swc"
location = "swedencentral"
custom_subdomain = "fdy-swc"
priority = 2
weight = 3
"#,
    );
    let specs = build(&env);
    let primary = find(&specs, "/backends/foundry-backend");
    let member = find(&specs, "/backends/foundry-fdy-owui-swc");
    assert_eq!(
        member.body["properties"]["url"],
        "https://fdy-swc.services.ai.azure.com/openai/v1"
    );
    for b in [primary, member] {
        let rule = &b.body["properties"]["circuitBreaker"]["rules"][0];
        assert_eq!(
            rule["failureCondition"]["statusCodeRanges"],
            serde_json::json!([{"min": 429, "max": 429}])
        );
        assert_eq!(rule["acceptRetryAfter"], true);
        assert_eq!(rule["tripDuration"], "PT1M");
        assert_eq!(rule["failureCondition"]["interval"], "PT1M");
    }
    let pool = find(&specs, "/backends/foundry-pool");
    let p = &pool.body["properties"];
    assert_eq!(p["type"], "Pool");
    assert!(p.get("url").is_none());
    let services = p["pool"]["services"].as_array().unwrap();
    assert_eq!(services.len(), 2);
    assert_eq!(services[0]["id"], primary.address.as_str());
    assert_eq!(services[1]["id"], member.address.as_str());
    assert_eq!(services[1]["priority"], 2);
    assert_eq!(services[1]["weight"], 3);
    assert!(pool.dependencies().contains(&member.address));
    let policy = find(&specs, "/policies/policy");
    assert!(
        policy.body["properties"]["value"]
            .as_str()
            .unwrap()
            .contains("backend-id=\"foundry-pool\"")
    );
    assert!(policy.dependencies().contains(&pool.address));
    // RBAC on both accounts.
    let ai_users = specs
        .iter()
        .filter(|s| {
            s.body["properties"]["roleDefinitionId"]
                .as_str()
                .is_some_and(|r| r.ends_with(finalize::ROLE_AZURE_AI_USER))
        })
        .count();
    assert_eq!(ai_users, 2);

    let bad = finalize_env::with(
        "[[foundry.pool]]\nname = \"x\"\nlocation = \"westeurope\"\nweight = 101\n",
    );
    assert!(matches!(
        finalize_resources(&bad, &opts()),
        Err(StageError::Setting { ref key, .. }) if key.starts_with("foundry.pool[0]")
    ));
    let dup = finalize_env::with(
        "[[foundry.pool]]\nname = \"fdy-owui-dev\"\nlocation = \"westeurope\"\n",
    );
    assert!(matches!(
        finalize_resources(&dup, &opts()),
        Err(StageError::Setting { .. })
    ));
}

#[test]
fn every_reference_and_dependency_is_a_resource_of_some_stage() {
    let env = finalize_env::base();
    let all = stages::desired(&env, &opts()).expect("all stages build");
    let known: BTreeSet<_> = all.iter().map(|s| s.address.clone()).collect();
    let finalize: Vec<_> = all.iter().filter(|s| s.stage == Stage::Finalize).collect();
    assert_eq!(finalize.len(), 25);
    for s in &finalize {
        for r in references_in(&s.body) {
            assert!(
                known.contains(&r.address),
                "{} references unknown {}",
                s.address,
                r.address
            );
        }
        for d in &s.depends_on {
            assert!(known.contains(d), "{} depends on unknown {}", s.address, d);
        }
    }
    // Running finalize alone: what it reads from the hub and spoke becomes read-only
    // data of the owning stage (so a missing one names `owui-deploy hub`/`spoke`).
    let selected = stages::select(all, &[Stage::Finalize]);
    let data: Vec<_> = selected.iter().filter(|s| s.mode == Mode::Data).collect();
    assert!(data.iter().all(|d| d.stage != Stage::Finalize));
    for want in [
        "/service/apim-owui-dev",
        "/managedEnvironments/cae-owui-dev",
        "/containerApps/open-webui",
        "/components/appi-owui",
    ] {
        assert!(
            data.iter().any(|d| d.address.as_str().ends_with(want)),
            "{want} is not read"
        );
    }
    let app = data
        .iter()
        .find(|p| p.address.as_str().starts_with("graph:"))
        .expect("Entra app is read");
    assert_eq!(app.stage, Stage::Spoke);
}

#[test]
fn policy_and_openapi_files_resolve_against_the_environment_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("conf")).unwrap();
    std::fs::write(
        dir.path().join("conf/policy.xml"),
        "<policies>\n  <inbound>\n    <base />\n  </inbound>\n  <outbound>\n</policies>\n",
    )
    .unwrap();
    let mut env = finalize_env::base();
    env.apim.policy_file = Some("conf/policy.xml".into());
    let opts = StageOptions {
        environment_dir: dir.path().to_path_buf(),
        ..StageOptions::default()
    };
    match finalize_resources(&env, &opts) {
        Err(StageError::Policy(e)) => {
            let msg = e.to_string();
            assert!(msg.starts_with("conf/policy.xml:6:"), "{msg}");
        }
        other => panic!("expected a policy error, got {other:?}"),
    }
    env.apim.policy_file = Some("conf/missing.xml".into());
    assert!(matches!(
        finalize_resources(&env, &opts),
        Err(StageError::Setting { ref key, .. }) if key == "apim.policy_file"
    ));

    env.apim.policy_file = None;
    std::fs::write(
        dir.path().join("conf/api.json"),
        r#"{"openapi":"3.0.1","info":{"title":"t","version":"1"},"paths":{"/chat/completions":{"post":{"operationId":"c"}}}}"#,
    )
    .unwrap();
    env.apim.openapi = Some("conf/api.json".into());
    let specs = finalize_resources(&env, &opts).expect("builds");
    let api = find(&specs, "/apis/openai");
    let v: Value = serde_json::from_str(api.body["properties"]["value"].as_str().unwrap()).unwrap();
    assert_eq!(v["info"]["title"], "t");
    env.apim.openapi = Some("https://example.com/openapi.json".into());
    let specs = finalize_resources(&env, &opts).expect("builds");
    let api = find(&specs, "/apis/openai");
    assert_eq!(api.body["properties"]["format"], "openapi+json-link");
    assert_eq!(
        api.body["properties"]["value"],
        "https://example.com/openapi.json"
    );
}

#[test]
fn without_a_certificate_the_gateway_serves_http_to_the_app_fqdn() {
    let opts = StageOptions {
        without_certificate: true,
        ..opts()
    };
    let specs = finalize_resources(&finalize_env::base(), &opts).expect("builds");
    let gw = find(&specs, "/applicationGateways/agw-owui");
    let p = &gw.body["properties"];
    assert!(p.get("sslCertificates").is_none());
    assert!(p.get("redirectConfigurations").is_none());
    assert_eq!(p["frontendPorts"].as_array().unwrap().len(), 1);
    assert_eq!(p["httpListeners"][0]["properties"]["protocol"], "Http");
    let hs = &p["backendHttpSettingsCollection"][0]["properties"];
    assert!(hs.get("hostName").is_none());
    assert_eq!(hs["pickHostNameFromBackendAddress"], true);
    assert_eq!(
        p["probes"][0]["properties"]["pickHostNameFromBackendHttpSettings"],
        true
    );
    assert_eq!(
        p["requestRoutingRules"][0]["properties"]["backendAddressPool"]["id"],
        format!("{}/backendAddressPools/open-webui", gw.address)
    );
    // No reference to the (absent) certificate secret.
    assert!(
        references_in(&gw.body)
            .iter()
            .all(|r| !r.address.as_str().contains("/secrets/"))
    );
}

#[test]
fn usage_workbook_is_shared_linked_to_the_workspace_and_switchable() {
    let env = finalize_env::base();
    let specs = build(&env);
    let wb = specs
        .iter()
        .find(|s| {
            s.address
                .as_str()
                .contains("/providers/Microsoft.Insights/workbooks/")
        })
        .expect("a workbook");
    let workspace = Ids::new(&env).log_analytics();
    assert_eq!(wb.body["kind"], "shared");
    assert_eq!(wb.body["properties"]["sourceId"], workspace.as_str());
    let name = wb.address.as_str().rsplit('/').next().expect("name");
    assert!(uuid::Uuid::parse_str(name).is_ok(), "{name} is a GUID");
    let content: serde_json::Value = serde_json::from_str(
        wb.body["properties"]["serializedData"]
            .as_str()
            .expect("serializedData is a string"),
    )
    .expect("serializedData is JSON");
    for q in owui_deploy::stages::usage::USAGE_QUERIES {
        assert!(
            content["items"]
                .as_array()
                .expect("items")
                .iter()
                .any(|i| i["content"]["query"] == q.kql),
            "the workbook lacks {}",
            q.name
        );
    }
    assert!(wb.dependencies().iter().any(|d| d.as_str() == workspace));
    // Same address on every build (idempotent name).
    assert_eq!(
        build(&env)
            .iter()
            .filter(|s| s.address == wb.address)
            .count(),
        1
    );

    let off = finalize_env::with("[usage]\nworkbook = false\n");
    assert!(
        build(&off)
            .iter()
            .all(|s| !s.address.as_str().contains("/workbooks/"))
    );
}
