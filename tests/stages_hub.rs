//! The hub stage's desired resources, and how stages are selected.

mod schema;

use owui_deploy::config::Environment;
use owui_deploy::engine::{Address, Api, Mode, ResourceSpec, Stage};
use owui_deploy::stages::{self, Ids, StageOptions};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-0000000000a1/resourceGroups/rg-owui-hub";

/// The hub and spoke resources (the finalize stage has its own tests).
fn all(env: &Environment) -> Vec<ResourceSpec> {
    stages::desired(env, &StageOptions::default())
        .expect("desired")
        .into_iter()
        .filter(|s| s.stage != Stage::Finalize)
        .collect()
}

fn hub(env: &Environment) -> Vec<ResourceSpec> {
    all(env)
        .into_iter()
        .filter(|s| s.stage == Stage::Hub)
        .collect()
}

fn get<'a>(specs: &'a [ResourceSpec], address: &str) -> &'a ResourceSpec {
    specs
        .iter()
        .find(|s| s.address == Address::from(address))
        .unwrap_or_else(|| panic!("no resource {address}"))
}

fn type_of(s: &ResourceSpec) -> &str {
    match &s.api {
        Api::Arm { type_name, .. } => type_name,
        Api::Graph { kind } => kind,
    }
}

#[test]
fn hub_declares_exactly_the_expected_resources() {
    let env = schema::fixture_env();
    let specs = hub(&env);
    let got: BTreeSet<String> = specs.iter().map(|s| s.address.to_string()).collect();
    let p = |t: &str, n: &str| format!("{SUB}/providers/{t}/{n}");
    let mut want: BTreeSet<String> = [
        SUB.to_string(),
        p("Microsoft.Network/networkSecurityGroups", "nsg-apim"),
        p("Microsoft.Network/routeTables", "rt-apim"),
        p("Microsoft.Network/virtualNetworks", "vnet-hub"),
        p("Microsoft.OperationalInsights/workspaces", "log-owui"),
        p("Microsoft.Insights/components", "appi-owui"),
        p("Microsoft.Network/publicIPAddresses", "pip-appgw"),
        p("Microsoft.Network/publicIPAddresses", "pip-apim"),
        p("Microsoft.ApiManagement/service", "apim-owui-fixture"),
        p(
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            "id-appgw",
        ),
        p("Microsoft.KeyVault/vaults", "kv-owui-hub-fx"),
        // key_vault_private_dns: the hub vault's private endpoint and zone group.
        p("Microsoft.Network/privateEndpoints", "pe-kv-owui-hub-fx"),
        p(
            "Microsoft.Network/privateEndpoints",
            "pe-kv-owui-hub-fx/privateDnsZoneGroups/default",
        ),
    ]
    .into_iter()
    .collect();
    for zone in [
        "privatelink.cognitiveservices.azure.com",
        "privatelink.openai.azure.com",
        "privatelink.services.ai.azure.com",
        "privatelink.postgres.database.azure.com",
        "azure-api.net",
        "privatelink.vaultcore.azure.net",
    ] {
        let z = p("Microsoft.Network/privateDnsZones", zone);
        want.insert(format!("{z}/virtualNetworkLinks/hub-vnet-link"));
        want.insert(z);
    }
    assert_eq!(got, want);
    assert!(specs.iter().all(|s| s.mode == Mode::Managed));

    // The IDs come from ids.rs.
    let ids = Ids::new(&env);
    assert_eq!(
        ids.hub_vnet(),
        p("Microsoft.Network/virtualNetworks", "vnet-hub")
    );
    assert_eq!(
        ids.pe_subnet(),
        format!("{}/subnets/pe-subnet", ids.hub_vnet())
    );
    assert_eq!(
        ids.apim(),
        p("Microsoft.ApiManagement/service", "apim-owui-fixture")
    );
}

#[test]
fn vault_zone_only_when_asked_for() {
    let mut env = schema::fixture_env();
    env.hub.key_vault_private_dns = false;
    let specs = hub(&env);
    assert!(!specs.iter().any(|s| {
        s.address
            .as_str()
            .contains("privatelink.vaultcore.azure.net")
    }));
    let zones = specs
        .iter()
        .filter(|s| type_of(s) == "Microsoft.Network/privateDnsZones")
        .count();
    assert_eq!(zones, 5);
    assert!(
        !all(&env)
            .iter()
            .any(|s| s.address.as_str().contains("/privateEndpoints/pe-kv-")),
        "a vault got a private endpoint without key_vault_private_dns"
    );
}

#[test]
fn with_the_vault_zone_both_vaults_get_private_endpoints_registered_in_it() {
    let env = schema::fixture_env();
    assert!(env.hub.key_vault_private_dns);
    let specs = all(&env);
    let ids = Ids::new(&env);
    for (pe, vault, stage) in [
        (
            ids.hub_key_vault_private_endpoint(),
            ids.hub_key_vault(),
            Stage::Hub,
        ),
        (
            ids.spoke_key_vault_private_endpoint(),
            ids.spoke_key_vault(),
            Stage::Spoke,
        ),
    ] {
        let endpoint = get(&specs, &pe);
        assert_eq!(endpoint.stage, stage, "{pe}");
        let p = &endpoint.body["properties"];
        assert_eq!(p["subnet"]["id"], ids.pe_subnet(), "{pe}");
        let conn = &p["privateLinkServiceConnections"][0]["properties"];
        assert_eq!(conn["privateLinkServiceId"], vault.as_str(), "{pe}");
        assert_eq!(conn["groupIds"], json!(["vault"]), "{pe}");
        let group = get(&specs, &Ids::zone_group(&pe));
        let configs = &group.body["properties"]["privateDnsZoneConfigs"];
        assert_eq!(configs.as_array().map(Vec::len), Some(1), "{pe}");
        assert_eq!(
            configs[0]["properties"]["privateDnsZoneId"],
            ids.dns_zone("privatelink.vaultcore.azure.net"),
            "{pe}"
        );
    }
}

#[test]
fn every_taggable_resource_carries_the_environment_tags_and_the_owner_tag() {
    let env = schema::fixture_env();
    let specs = all(&env);
    // Plus the list of the keys of [tags], so that a key removed later is removed.
    let want = json!({"cost-centre": "42", "owui-deploy-env": "fixture", "project": "owui",
                      "owui-deploy-tags": "cost-centre,project"});
    let mut tagged = 0;
    for s in &specs {
        if s.taggable {
            assert_eq!(s.body["tags"], want, "{}", s.address);
            tagged += 1;
        } else {
            assert!(
                s.body.get("tags").is_none(),
                "{} is not taggable but has tags",
                s.address
            );
        }
    }
    assert!(tagged > 30);
    // Child resources without tags in ARM.
    for t in [
        "Microsoft.Authorization/roleAssignments",
        "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
        "Microsoft.Storage/storageAccounts/fileServices/shares",
    ] {
        assert!(
            specs
                .iter()
                .filter(|s| type_of(s) == t)
                .all(|s| !s.taggable),
            "{t}"
        );
    }
}

#[test]
fn locations_are_normalised_and_dns_resources_are_global() {
    let env = schema::fixture_env();
    for s in hub(&env) {
        if type_of(&s) == "Microsoft.Network/privateEndpoints/privateDnsZoneGroups" {
            continue; // a child without a location of its own
        }
        let loc = s.body["location"]
            .as_str()
            .unwrap_or_else(|| panic!("{} has no location", s.address));
        if type_of(&s).starts_with("Microsoft.Network/privateDnsZones") {
            assert_eq!(loc, "global", "{}", s.address);
        } else {
            assert_eq!(loc, "uksouth", "{}", s.address);
        }
    }
    let mut env = schema::fixture_env();
    env.hub.location = Some("West Europe".into());
    assert_eq!(get(&hub(&env), SUB).body["location"], "westeurope");
}

#[test]
fn subnets_are_inline_in_the_vnet() {
    let env = schema::fixture_env();
    let specs = all(&env);
    assert!(
        !specs
            .iter()
            .any(|s| type_of(s) == "Microsoft.Network/virtualNetworks/subnets"),
        "subnets must not be separate resources (a VNet PUT would wipe them)"
    );
    let ids = Ids::new(&env);
    let vnet = get(&specs, &ids.hub_vnet());
    assert_eq!(
        vnet.body["properties"]["addressSpace"]["addressPrefixes"],
        json!(["10.0.0.0/24"])
    );
    let subnets = vnet.body["properties"]["subnets"]
        .as_array()
        .expect("subnets");
    let names: Vec<&str> = subnets
        .iter()
        .map(|s| s["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["apim-subnet", "appgw-subnet", "pe-subnet"]);
    let apim = &subnets[0]["properties"];
    assert_eq!(apim["addressPrefix"], "10.0.0.0/27");
    assert_eq!(apim["networkSecurityGroup"]["id"], json!(ids.apim_nsg()));
    assert_eq!(apim["routeTable"]["id"], json!(ids.apim_route_table()));
    let endpoints: Vec<&str> = apim["serviceEndpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| e["service"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        endpoints,
        [
            "Microsoft.Storage",
            "Microsoft.Sql",
            "Microsoft.EventHub",
            "Microsoft.KeyVault",
            "Microsoft.ServiceBus",
            "Microsoft.AzureActiveDirectory"
        ]
    );
    assert_eq!(subnets[1]["properties"]["addressPrefix"], "10.0.0.64/26");
    assert_eq!(
        subnets[2]["properties"]["privateEndpointNetworkPolicies"],
        "Disabled"
    );
    // The VNet waits for the NSG and route table it names.
    assert!(vnet.depends_on.contains(&Address::from(ids.apim_nsg())));
    assert!(
        vnet.depends_on
            .contains(&Address::from(ids.apim_route_table()))
    );
    assert!(
        vnet.rules
            .set_arrays
            .contains(&"/properties/subnets".to_string())
    );

    let spoke_vnet = get(&specs, &ids.spoke_vnet());
    let aca = &spoke_vnet.body["properties"]["subnets"][0];
    assert_eq!(aca["name"], "aca-subnet");
    assert_eq!(aca["properties"]["addressPrefix"], "10.0.4.0/23");
    assert_eq!(
        aca["properties"]["serviceEndpoints"],
        json!([{"service": "Microsoft.Storage"}])
    );
    assert!(
        aca["properties"].get("delegations").is_none(),
        "a consumption-only environment's subnet must not be delegated"
    );
}

#[test]
fn apim_nsg_rules_and_route_come_from_the_templates() {
    let env = schema::fixture_env();
    let specs = hub(&env);
    let ids = Ids::new(&env);
    let nsg = get(&specs, &ids.apim_nsg());
    let rules = nsg.body["properties"]["securityRules"]
        .as_array()
        .expect("rules");
    let find = |dir: &str, src_or_dst: &str| -> &Value {
        rules
            .iter()
            .find(|r| {
                let p = &r["properties"];
                p["direction"] == dir
                    && (p["sourceAddressPrefix"] == src_or_dst
                        || p["destinationAddressPrefix"] == src_or_dst)
            })
            .unwrap_or_else(|| panic!("no {dir} rule for {src_or_dst}"))
    };
    assert_eq!(
        find("Inbound", "ApiManagement")["properties"]["destinationPortRange"],
        "3443"
    );
    assert_eq!(
        find("Inbound", "AzureLoadBalancer")["properties"]["destinationPortRange"],
        "6390"
    );
    assert_eq!(
        find("Outbound", "Storage")["properties"]["destinationPortRange"],
        "443"
    );
    assert_eq!(
        find("Outbound", "Sql")["properties"]["destinationPortRange"],
        "1433"
    );
    assert_eq!(
        find("Outbound", "AzureKeyVault")["properties"]["destinationPortRange"],
        "443"
    );
    assert_eq!(
        find("Outbound", "AzureMonitor")["properties"]["destinationPortRanges"],
        json!(["1886", "443"])
    );
    assert!(!nsg.body.to_string().contains("1443"));
    for r in rules {
        assert_eq!(r["properties"]["access"], "Allow");
        assert_eq!(r["properties"]["protocol"], "Tcp");
    }
    let priorities: BTreeSet<(String, u64)> = rules
        .iter()
        .map(|r| {
            (
                r["properties"]["direction"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                r["properties"]["priority"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        priorities.len(),
        rules.len(),
        "priorities are unique per direction"
    );

    let rt = get(&specs, &ids.apim_route_table());
    assert_eq!(
        rt.body["properties"]["routes"],
        json!([{"name": "ApiManagement", "properties": {"addressPrefix": "ApiManagement", "nextHopType": "Internet"}}])
    );
}

#[test]
fn hub_services_have_their_key_properties() {
    let env = schema::fixture_env();
    let specs = hub(&env);
    let ids = Ids::new(&env);

    let apim = get(&specs, &ids.apim());
    assert_eq!(
        apim.body["sku"],
        json!({"name": "Developer", "capacity": 1})
    );
    assert_eq!(apim.body["identity"], json!({"type": "SystemAssigned"}));
    let p = &apim.body["properties"];
    assert_eq!(p["virtualNetworkType"], "Internal");
    assert_eq!(
        p["virtualNetworkConfiguration"]["subnetResourceId"],
        json!(ids.apim_subnet())
    );
    assert_eq!(p["publicIpAddressId"], json!(ids.apim_public_ip()));
    assert_eq!(p["publisherEmail"], "ops@example.com");
    assert!(apim.depends_on.contains(&Address::from(ids.hub_vnet())));
    assert!(
        apim.depends_on
            .contains(&Address::from(ids.apim_public_ip()))
    );

    let pip = get(&specs, &ids.apim_public_ip());
    assert_eq!(
        pip.body["sku"],
        json!({"name": "Standard", "tier": "Regional"})
    );
    assert_eq!(pip.body["properties"]["publicIPAllocationMethod"], "Static");
    assert_eq!(
        pip.body["properties"]["dnsSettings"]["domainNameLabel"],
        "apim-owui-fixture"
    );
    assert!(
        get(&specs, &ids.appgw_public_ip()).body["properties"]
            .get("dnsSettings")
            .is_none()
    );

    let law = get(&specs, &ids.log_analytics());
    assert_eq!(
        law.body["properties"],
        json!({"sku": {"name": "PerGB2018"}, "retentionInDays": 30, "features": {"disableLocalAuth": true}})
    );
    let appi = get(&specs, &ids.app_insights());
    assert_eq!(appi.body["kind"], "web");
    assert_eq!(
        appi.body["properties"],
        json!({"Application_Type": "web", "WorkspaceResourceId": ids.log_analytics(), "DisableLocalAuth": true})
    );

    let kv = get(&specs, &ids.hub_key_vault());
    assert_eq!(
        kv.body["properties"],
        json!({
            "tenantId": "00000000-0000-0000-0000-0000000000c1",
            "sku": {"family": "A", "name": "standard"},
            "enableRbacAuthorization": true,
            "enableSoftDelete": true,
            "softDeleteRetentionInDays": 7
        })
    );

    for zone in ["azure-api.net", "privatelink.postgres.database.azure.com"] {
        let link = get(&specs, &ids.dns_zone_link(zone, "hub-vnet-link"));
        assert_eq!(
            link.body["properties"],
            json!({"virtualNetwork": {"id": ids.hub_vnet()}, "registrationEnabled": false})
        );
        assert!(link.depends_on.contains(&Address::from(ids.dns_zone(zone))));
    }
}

#[test]
fn role_assignment_names_are_deterministic_and_independent_of_unknown_principals() {
    let env = schema::fixture_env();
    let a = all(&env);
    let b = all(&env);
    let ras = |specs: &[ResourceSpec]| -> Vec<ResourceSpec> {
        specs
            .iter()
            .filter(|s| type_of(s) == "Microsoft.Authorization/roleAssignments")
            .cloned()
            .collect()
    };
    let (ra, rb) = (ras(&a), ras(&b));
    assert_eq!(ra.len(), 2);
    assert_eq!(ra, rb, "two builds give the same assignments");
    let ids = Ids::new(&env);
    for r in &ra {
        let name = r.address.as_str().rsplit('/').next().unwrap_or("");
        let uuid = uuid::Uuid::parse_str(name).expect("the name is a GUID");
        assert_eq!(uuid.get_version_num(), 5);
        let props = &r.body["properties"];
        assert_eq!(props["principalType"], "ServicePrincipal");
        assert!(
            props["roleDefinitionId"]
                .as_str()
                .unwrap_or("")
                .ends_with("/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6")
        );
        // The principal ID is unknown until the identity exists: a reference.
        assert!(
            props["principalId"]
                .as_str()
                .unwrap_or("")
                .starts_with("${ref:")
        );
        assert!(r.address.as_str().starts_with(&format!(
            "{}/providers/Microsoft.Authorization/roleAssignments/",
            ids.spoke_key_vault()
        )));
    }
    assert_ne!(ra[0].address, ra[1].address);
    // The name is UUID v5 of (scope, role, principal key).
    let role = Ids::role_definition(
        &ids.spoke_key_vault(),
        "4633458b-17de-408a-b874-0445c86b69e6",
    );
    assert_eq!(
        ra[0].address.to_string(),
        Ids::role_assignment(&ids.spoke_key_vault(), &role, &ids.aca_env_identity())
    );
    assert_ne!(
        Ids::role_assignment_name("/a", &role, "p1"),
        Ids::role_assignment_name("/a", &role, "p2")
    );
    assert_eq!(
        Ids::role_assignment_name("/A", &role, "P1"),
        Ids::role_assignment_name("/a", &role, "p1"),
        "case-insensitive, as ARM IDs are"
    );
}

#[test]
fn selecting_spoke_reads_what_it_needs_from_the_hub() {
    let env = schema::fixture_env();
    let ids = Ids::new(&env);
    let every = all(&env);
    let sel = stages::select(every.clone(), &[Stage::Spoke]);

    // Every spoke resource, managed.
    let spoke_count = every.iter().filter(|s| s.stage == Stage::Spoke).count();
    assert_eq!(
        sel.iter().filter(|s| s.mode == Mode::Managed).count(),
        spoke_count
    );
    assert!(
        sel.iter()
            .filter(|s| s.mode == Mode::Managed)
            .all(|s| s.stage == Stage::Spoke)
    );

    // What the spoke references from the hub, read-only.
    let data: BTreeSet<String> = sel
        .iter()
        .filter(|s| s.mode == Mode::Data)
        .map(|s| s.address.to_string())
        .collect();
    let mut want: BTreeSet<String> = [ids.hub_vnet(), ids.apim(), ids.app_insights()]
        .into_iter()
        .collect();
    for zone in owui_deploy::stages::hub::private_dns_zones(&env) {
        want.insert(ids.dns_zone(zone));
    }
    assert_eq!(data, want);
    for s in sel.iter().filter(|s| s.mode == Mode::Data) {
        assert_eq!(s.stage, Stage::Hub);
        assert_eq!(s.body, json!({}), "data resources are only read");
        assert!(s.dependencies().is_empty());
    }
    // Nothing the spoke does not need (e.g. the hub Key Vault).
    assert!(
        !sel.iter()
            .any(|s| s.address == Address::from(ids.hub_key_vault()))
    );

    // Every dependency of a selected resource is in the selection, except the
    // Entra application (built by the Graph part of the spoke stage).
    let present: BTreeSet<Address> = sel.iter().map(|s| s.address.clone()).collect();
    let graph_app = Address::from(Ids::graph_application(&env.entra.unique_name));
    for s in &sel {
        for d in s.dependencies() {
            assert!(
                present.contains(&d) || d == graph_app,
                "{} needs {d}",
                s.address
            );
        }
    }

    // `hub` alone: only hub resources, nothing read.
    let hub_only = stages::select(every.clone(), &[Stage::Hub]);
    assert!(
        hub_only
            .iter()
            .all(|s| s.stage == Stage::Hub && s.mode == Mode::Managed)
    );
    assert_eq!(
        hub_only.len(),
        every.iter().filter(|s| s.stage == Stage::Hub).count()
    );

    // Both: everything managed.
    let both = stages::select(every.clone(), &[Stage::Hub, Stage::Spoke]);
    assert_eq!(both, every);
}

#[test]
fn a_spoke_sharing_the_hub_resource_group_does_not_declare_it_twice() {
    let mut env = schema::fixture_env();
    env.spoke.resource_group = env.hub.resource_group.clone();
    env.spoke.subscription_id = None;
    let specs = all(&env);
    let rgs = specs
        .iter()
        .filter(|s| type_of(s) == "Microsoft.Resources/resourceGroups")
        .count();
    assert_eq!(rgs, 1);
}

#[test]
fn trusted_root_certificate_secret_only_when_configured() {
    let mut env = schema::fixture_env();
    let ids = Ids::new(&env);
    let secret = ids.hub_secret("trusted-root-certificate");
    assert!(
        !hub(&env)
            .iter()
            .any(|s| s.address == Address::from(secret.as_str()))
    );
    env.domain.trusted_root_certificate_path = Some("certs/root.cer".into());
    let specs = hub(&env);
    let s = get(&specs, &secret);
    assert_eq!(
        s.body["properties"],
        json!({"value": "${secret:trusted-root-certificate}"})
    );
    assert!(s.depends_on.contains(&Address::from(ids.hub_key_vault())));
}
