//! The spoke stage's ARM resources.

mod schema;

use owui_deploy::config::Environment;
use owui_deploy::engine::{Address, Api, ResourceSpec, Stage};
use owui_deploy::stages::{self, Ids, StageOptions};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

fn spoke(env: &Environment) -> Vec<ResourceSpec> {
    stages::desired(env, &StageOptions::default())
        .expect("desired")
        .into_iter()
        .filter(|s| s.stage == Stage::Spoke)
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

fn deps(s: &ResourceSpec) -> BTreeSet<String> {
    s.dependencies()
        .into_iter()
        .map(|a| a.to_string())
        .collect()
}

fn env_vars(app: &ResourceSpec) -> BTreeMap<String, Value> {
    app.body["properties"]["template"]["containers"][0]["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|v| (v["name"].as_str().unwrap_or("").to_string(), v.clone()))
        .collect()
}

#[test]
fn open_webui_gets_every_setting_of_the_reference() {
    let env = schema::fixture_env();
    let ids = Ids::new(&env);
    let specs = spoke(&env);
    let app = get(&specs, &ids.container_app());
    let vars = env_vars(app);
    let value = |n: &str| vars.get(n).unwrap_or_else(|| panic!("no {n}"))["value"].clone();
    let expected = [
        ("WEBUI_URL", "https://chat.example.com"),
        ("ENABLE_OAUTH_SIGNUP", "true"),
        ("ENABLE_LOGIN_FORM", "false"),
        ("ENABLE_OAUTH_PERSISTENT_CONFIG", "false"),
        ("OAUTH_CODE_CHALLENGE_METHOD", "S256"),
        ("OAUTH_PROVIDER_NAME", "Microsoft"),
        (
            "OAUTH_SCOPES",
            "openid email profile api://owui-fixture/user_impersonation User.Read GroupMember.Read.All ProfilePhoto.Read.All",
        ),
        (
            "OPENID_PROVIDER_URL",
            "https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000c1/v2.0/.well-known/openid-configuration",
        ),
        ("OAUTH_EMAIL_CLAIM", "email"),
        ("OAUTH_USERNAME_CLAIM", "name"),
        ("ENABLE_OAUTH_ROLE_MANAGEMENT", "true"),
        ("OAUTH_ROLES_CLAIM", "roles"),
        ("OAUTH_ALLOWED_ROLES", "admin,user"),
        ("OAUTH_ADMIN_ROLES", "admin"),
        ("ENABLE_OAUTH_GROUP_MANAGEMENT", "true"),
        ("OAUTH_GROUPS_CLAIM", "groups"),
        ("ENABLE_SIGNUP", "false"),
        ("DEFAULT_USER_ROLE", "user"),
        ("WEBUI_SESSION_COOKIE_SECURE", "true"),
        ("WEBUI_NAME", "Contoso Chat"),
        ("ENABLE_WEB_SEARCH", "false"),
    ];
    for (n, v) in expected {
        assert_eq!(value(n), json!(v), "{n}");
    }
    assert_eq!(
        value("OAUTH_CLIENT_ID"),
        json!("${ref:graph:/applications(uniqueName='owui-fixture')#/appId}")
    );
    assert_eq!(
        value("OPENAI_API_BASE_URL"),
        json!(format!(
            "${{ref:{}#/properties/gatewayUrl}}/openai/v1",
            ids.apim()
        ))
    );
    assert_eq!(
        vars["DATABASE_URL"],
        json!({"name": "DATABASE_URL", "secretRef": "database-url"})
    );
    assert_eq!(
        vars["WEBUI_SECRET_KEY"],
        json!({"name": "WEBUI_SECRET_KEY", "secretRef": "webui-secret-key"})
    );
    assert_eq!(value("VECTOR_DB"), json!("pgvector"));
    for redis_only in ["REDIS_URL", "WEBSOCKET_REDIS_URL", "WEBSOCKET_MANAGER"] {
        assert!(
            !vars.contains_key(redis_only),
            "{redis_only} without [redis]"
        );
    }
    assert_eq!(
        vars.len(),
        expected.len() + 5,
        "no duplicates, nothing else"
    );

    // The app depends on the Entra application and on APIM through references.
    let d = deps(app);
    assert!(d.contains(&Ids::graph_application("owui-fixture")));
    assert!(d.contains(&ids.apim()));
}

#[test]
fn extra_env_replaces_a_builtin_of_the_same_name() {
    // The loader rejects such a file; the stage still has one defined behaviour.
    let mut env = schema::fixture_env();
    env.container_app
        .extra_env
        .insert("ENABLE_SIGNUP".into(), "true".into());
    let vars = owui_deploy::stages::spoke::open_webui_env(&env);
    let signup: Vec<Value> = vars
        .iter()
        .filter(|v| v.name == "ENABLE_SIGNUP")
        .map(|v| serde_json::to_value(v).expect("json"))
        .collect();
    assert_eq!(
        signup,
        vec![json!({"name": "ENABLE_SIGNUP", "value": "true"})]
    );
}

#[test]
fn container_app_wiring() {
    let env = schema::fixture_env();
    let ids = Ids::new(&env);
    let specs = spoke(&env);
    let app = get(&specs, &ids.container_app());
    let c = &app.body["properties"]["configuration"];
    assert_eq!(
        app.body["identity"],
        json!({
            "type": "SystemAssigned,UserAssigned",
            "userAssignedIdentities": {ids.aca_env_identity(): {}}
        })
    );
    assert_eq!(
        app.body["properties"]["managedEnvironmentId"],
        json!(ids.aca_env())
    );
    let ingress = &c["ingress"];
    assert_eq!(ingress["external"], true);
    assert_eq!(ingress["targetPort"], 8080);
    assert_eq!(ingress["stickySessions"], json!({"affinity": "sticky"}));
    assert_eq!(
        ingress["ipSecurityRestrictions"][0]["ipAddressRange"],
        "10.0.0.64/26"
    );
    assert_eq!(ingress["ipSecurityRestrictions"][0]["action"], "Allow");
    assert_eq!(
        ingress["customDomains"],
        json!([{"name": "chat.example.com", "bindingType": "SniEnabled", "certificateId": ids.aca_env_certificate()}])
    );
    let kv_ref = |name: &str, secret: &str| {
        json!({
            "name": name,
            "keyVaultUrl": format!("${{ref:{}#/properties/secretUri}}", ids.spoke_secret(secret)),
            "identity": ids.aca_env_identity()
        })
    };
    assert_eq!(
        c["secrets"],
        json!([
            kv_ref("database-url", "postgres-connection-string"),
            kv_ref("webui-secret-key", "webui-secret-key")
        ])
    );
    let t = &app.body["properties"]["template"];
    let container = &t["containers"][0];
    assert_eq!(container["image"], "ghcr.io/open-webui/open-webui:main");
    assert_eq!(container["resources"], json!({"cpu": 0.5, "memory": "1Gi"}));
    assert_eq!(
        container["volumeMounts"],
        json!([{"volumeName": "open-webui-share", "mountPath": "/app/backend/data"}])
    );
    assert_eq!(
        t["volumes"],
        json!([{
            "name": "open-webui-share",
            "storageType": "AzureFile",
            "storageName": "open-webui-share",
            "mountOptions": "nobrl,noperm,mfsymlinks,cache=strict"
        }])
    );
    assert_eq!(t["scale"], json!({"minReplicas": 1, "maxReplicas": 1}));
    let d = deps(app);
    // The user-assigned identity that reads `database-url` holds its role first.
    let env_identity_role = specs
        .iter()
        .find(|s| {
            type_of(s) == "Microsoft.Authorization/roleAssignments"
                && s.body["properties"]["principalId"]
                    == json!(format!(
                        "${{ref:{}#/properties/principalId}}",
                        ids.aca_env_identity()
                    ))
        })
        .expect("role assignment of the environment identity")
        .address
        .to_string();
    for needed in [
        ids.aca_env(),
        ids.aca_env_storage(),
        ids.aca_env_certificate(),
        ids.aca_env_identity(),
        env_identity_role,
    ] {
        assert!(d.contains(&needed), "{needed}");
    }

    // Its system identity reads the vault too.
    let ra = specs
        .iter()
        .find(|s| {
            type_of(s) == "Microsoft.Authorization/roleAssignments"
                && s.body["properties"]["principalId"]
                    == json!(format!(
                        "${{ref:{}#/identity/principalId}}",
                        ids.container_app()
                    ))
        })
        .expect("role assignment of the app identity");
    assert!(ra.address.as_str().starts_with(&ids.spoke_key_vault()));
}

#[test]
fn environment_identity_is_granted_before_the_environment_exists() {
    let env = schema::fixture_env();
    let ids = Ids::new(&env);
    let specs = spoke(&env);
    let identity = ids.aca_env_identity();
    let ra = specs
        .iter()
        .find(|s| {
            type_of(s) == "Microsoft.Authorization/roleAssignments"
                && s.body["properties"]["principalId"]
                    == json!(format!("${{ref:{identity}#/properties/principalId}}"))
        })
        .expect("role assignment of the environment identity");
    let aca_env = get(&specs, &ids.aca_env());
    assert!(
        aca_env.depends_on.contains(&ra.address),
        "explicit dependency on the RBAC"
    );
    assert_eq!(
        aca_env.body["identity"],
        json!({"type": "UserAssigned", "userAssignedIdentities": {identity.clone(): {}}})
    );
    let p = &aca_env.body["properties"];
    assert_eq!(
        p["vnetConfiguration"],
        json!({"internal": true, "infrastructureSubnetId": ids.aca_subnet()})
    );
    assert_eq!(p["publicNetworkAccess"], "Disabled");
    assert_eq!(
        p["daprAIConnectionString"],
        json!(format!(
            "${{ref:{}#/properties/ConnectionString}}",
            ids.app_insights()
        ))
    );
    assert!(
        aca_env
            .rules
            .write_only
            .contains(&"/properties/daprAIConnectionString".to_string())
    );

    let cert = get(&specs, &ids.aca_env_certificate());
    assert_eq!(
        cert.body["properties"]["certificateKeyVaultProperties"],
        json!({
            "identity": identity,
            "keyVaultUrl": format!("${{ref:{}#/properties/secretUri}}", ids.spoke_secret("openwebui-certificate"))
        })
    );
    assert!(cert.depends_on.contains(&ra.address));

    let storage = get(&specs, &ids.aca_env_storage());
    assert_eq!(
        storage.body["properties"]["azureFile"],
        json!({
            "accountName": "stowuifixture",
            "accountKey": "${secret:storage-account-key}",
            "shareName": "open-webui-share",
            "accessMode": "ReadWrite"
        })
    );
    assert!(
        storage
            .depends_on
            .contains(&Address::from(ids.file_share()))
    );
}

#[test]
fn secrets_are_markers_only() {
    let env = schema::fixture_env();
    let ids = Ids::new(&env);
    let specs = spoke(&env);
    // The connection string: login and database literal, the password a secret
    // marker, the host the server's live FQDN (filled in when the secret is written).
    let expected_connection = format!(
        "postgresql://{}:${{secret:postgres-admin-password-url-encoded}}@${{ref:{}#/properties/fullyQualifiedDomainName}}:5432/{}?sslmode=require",
        env.postgres.admin_login,
        ids.postgres(),
        env.postgres.database
    );
    let conn = get(&specs, &ids.spoke_secret("postgres-connection-string"));
    assert!(
        conn.dependencies()
            .contains(&Address::from(ids.postgres().as_str()))
    );
    for (name, value, content_type) in [
        ("postgres-connection-string", expected_connection, None),
        (
            "postgres-admin-password",
            "${secret:postgres-admin-password}".to_string(),
            None,
        ),
        (
            "openwebui-certificate",
            "${secret:openwebui-certificate}".to_string(),
            Some("application/x-pkcs12"),
        ),
    ] {
        let s = get(&specs, &ids.spoke_secret(name));
        assert_eq!(s.body["properties"]["value"], json!(value));
        assert_eq!(
            s.body["properties"]
                .get("contentType")
                .and_then(Value::as_str),
            content_type
        );
        assert_eq!(s.rules.write_only, vec!["/properties/value".to_string()]);
    }
    let pg = get(&specs, &ids.postgres());
    let p = &pg.body["properties"];
    assert_eq!(
        p["administratorLoginPassword"],
        "${secret:postgres-admin-password}"
    );
    assert!(
        pg.rules
            .write_only
            .contains(&"/properties/administratorLoginPassword".to_string())
    );
    assert_eq!(
        p["authConfig"],
        json!({"activeDirectoryAuth": "Disabled", "passwordAuth": "Enabled"})
    );
    assert_eq!(p["network"], json!({"publicNetworkAccess": "Disabled"}));
    assert_eq!(p["version"], "16");
    assert_eq!(p["storage"], json!({"storageSizeGB": 32}));
    assert_eq!(
        pg.body["sku"],
        json!({"name": "Standard_B1ms", "tier": "Burstable"})
    );
    let db = get(&specs, &ids.postgres_database());
    assert_eq!(
        db.body["properties"],
        json!({"charset": "UTF8", "collation": "en_US.utf8"})
    );

    let kv = get(&specs, &ids.spoke_key_vault());
    assert_eq!(kv.body["properties"]["enableRbacAuthorization"], true);
    assert!(kv.body["properties"].get("enablePurgeProtection").is_none());
}

#[test]
fn private_endpoints_live_in_the_hub_pe_subnet() {
    let env = schema::fixture_env();
    let ids = Ids::new(&env);
    let specs = spoke(&env);
    let pg_pe = get(&specs, &ids.postgres_private_endpoint());
    assert_eq!(pg_pe.body["location"], "uksouth");
    assert_eq!(
        pg_pe.body["properties"]["subnet"]["id"],
        json!(ids.pe_subnet())
    );
    assert_eq!(
        pg_pe.body["properties"]["privateLinkServiceConnections"][0]["properties"],
        json!({"privateLinkServiceId": ids.postgres(), "groupIds": ["postgresqlServer"]})
    );
    assert!(pg_pe.depends_on.contains(&Address::from(ids.hub_vnet())));
    let group = get(&specs, &Ids::zone_group(&ids.postgres_private_endpoint()));
    assert_eq!(
        group.body["properties"]["privateDnsZoneConfigs"],
        json!([{
            "name": "privatelink-postgres-database-azure-com",
            "properties": {"privateDnsZoneId": ids.dns_zone("privatelink.postgres.database.azure.com")}
        }])
    );
    let ai_group = get(
        &specs,
        &Ids::zone_group(&ids.foundry_private_endpoint("ai-owui-fixture")),
    );
    let zones: Vec<&str> = ai_group.body["properties"]["privateDnsZoneConfigs"]
        .as_array()
        .expect("configs")
        .iter()
        .map(|z| z["properties"]["privateDnsZoneId"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        zones,
        [
            ids.dns_zone("privatelink.cognitiveservices.azure.com"),
            ids.dns_zone("privatelink.openai.azure.com"),
            ids.dns_zone("privatelink.services.ai.azure.com"),
        ]
    );
}

#[test]
fn foundry_accounts_and_serialised_model_deployments() {
    let env = schema::fixture_env();
    let ids = Ids::new(&env);
    let specs = spoke(&env);
    let account = get(&specs, &ids.foundry());
    assert_eq!(account.body["kind"], "AIServices");
    assert_eq!(account.body["sku"], json!({"name": "S0"}));
    assert_eq!(account.body["location"], "swedencentral");
    assert_eq!(account.body["identity"], json!({"type": "SystemAssigned"}));
    assert_eq!(
        account.body["properties"],
        json!({
            "customSubDomainName": "ai-owui-fixture",
            "disableLocalAuth": true,
            "allowProjectManagement": true,
            "publicNetworkAccess": "Disabled",
            "networkAcls": {"defaultAction": "Deny"}
        })
    );
    assert!(
        account
            .rules
            .immutable
            .contains(&"/properties/customSubDomainName".to_string())
    );

    let deployments: Vec<&ResourceSpec> = specs
        .iter()
        .filter(|s| type_of(s) == "Microsoft.CognitiveServices/accounts/deployments")
        .collect();
    assert_eq!(
        deployments.len(),
        4,
        "two deployments on each of two accounts"
    );
    for d in &deployments {
        let parent = d
            .address
            .as_str()
            .rsplit_once("/deployments/")
            .expect("child")
            .0;
        assert_eq!(
            d.serial_key.as_deref(),
            Some(parent.to_ascii_lowercase().as_str())
        );
        assert!(d.depends_on.contains(&Address::from(parent)));
    }
    let gpt = get(&specs, &ids.model_deployment("ai-owui-fixture", "gpt-4o"));
    assert_eq!(
        gpt.body["sku"],
        json!({"name": "GlobalStandard", "capacity": 50})
    );
    assert_eq!(
        gpt.body["properties"],
        json!({"model": {"format": "OpenAI", "name": "gpt-4o", "version": "2024-11-20"}})
    );
    let pool = get(&specs, &ids.foundry_account("ai-owui-fixture-us"));
    assert_eq!(pool.body["location"], "eastus2");
    assert_eq!(
        pool.body["properties"]["customSubDomainName"],
        "ai-owui-fixture-us"
    );
}

#[test]
fn network_storage_and_dns_links() {
    let env = schema::fixture_env();
    let ids = Ids::new(&env);
    let specs = spoke(&env);
    assert!(
        ids.spoke_rg.contains("0000000000b2"),
        "the spoke's own subscription"
    );
    // spoke -> hub is inline in the spoke VNet (a VNet PUT would delete a separate one).
    assert!(
        specs
            .iter()
            .all(|s| s.address.as_str() != ids.spoke_to_hub_peering())
    );
    let vnet = get(&specs, &ids.spoke_vnet());
    let peering = &vnet.body["properties"]["virtualNetworkPeerings"][0];
    assert_eq!(peering["name"], "spoke-to-hub");
    assert_eq!(
        peering["properties"]["remoteVirtualNetwork"]["id"],
        json!(ids.hub_vnet())
    );
    assert_eq!(peering["properties"]["allowVirtualNetworkAccess"], true);
    assert!(deps(vnet).contains(&ids.hub_vnet()));
    let back = get(&specs, &ids.hub_to_spoke_peering());
    assert_eq!(
        back.body["properties"]["remoteVirtualNetwork"]["id"],
        json!(ids.spoke_vnet())
    );

    for zone in owui_deploy::stages::hub::private_dns_zones(&env) {
        let link = get(&specs, &ids.dns_zone_link(zone, "spoke-vnet-link"));
        assert!(
            link.address.as_str().starts_with(&ids.hub_rg),
            "links live under the hub zones"
        );
        assert_eq!(
            link.body["properties"]["virtualNetwork"]["id"],
            json!(ids.spoke_vnet())
        );
        assert_eq!(link.body["location"], "global");
    }

    let st = get(&specs, &ids.storage_account());
    assert_eq!(st.body["kind"], "StorageV2");
    assert_eq!(st.body["sku"], json!({"name": "Standard_LRS"}));
    let p = &st.body["properties"];
    assert_eq!(p["supportsHttpsTrafficOnly"], true);
    assert_eq!(p["allowBlobPublicAccess"], false);
    assert_eq!(p["minimumTlsVersion"], "TLS1_2");
    assert_eq!(
        p["networkAcls"],
        json!({
            "bypass": "AzureServices",
            "defaultAction": "Deny",
            "virtualNetworkRules": [{"id": ids.aca_subnet(), "action": "Allow"}]
        })
    );
    let share = get(&specs, &ids.file_share());
    assert_eq!(
        share.body,
        json!({"properties": {"shareQuota": 100, "enabledProtocols": "SMB"}})
    );
}

#[test]
fn sovereign_clouds_use_their_authority() {
    let mut env = schema::fixture_env();
    env.azure.cloud = owui_deploy::config::CloudSetting::Named(
        owui_deploy::config::NamedCloud::AzureUSGovernment,
    );
    let vars = owui_deploy::stages::spoke::open_webui_env(&env);
    let url = vars
        .iter()
        .find(|v| v.name == "OPENID_PROVIDER_URL")
        .and_then(|v| serde_json::to_value(v).ok())
        .expect("var");
    assert_eq!(
        url["value"],
        "https://login.microsoftonline.us/00000000-0000-0000-0000-0000000000c1/v2.0/.well-known/openid-configuration"
    );
}

#[test]
fn without_a_certificate_the_domain_binding_is_left_out() {
    let env = schema::fixture_env();
    let ids = Ids::new(&env);
    let opts = StageOptions {
        without_certificate: true,
        ..StageOptions::default()
    };
    let specs: Vec<ResourceSpec> = stages::desired(&env, &opts)
        .expect("desired")
        .into_iter()
        .filter(|s| s.stage == Stage::Spoke)
        .collect();
    let addrs: BTreeSet<String> = specs.iter().map(|s| s.address.to_string()).collect();
    assert!(!addrs.contains(&ids.spoke_secret("openwebui-certificate")));
    assert!(!addrs.contains(&ids.aca_env_certificate()));
    assert!(addrs.contains(&ids.spoke_secret("postgres-connection-string")));
    let app = get(&specs, &ids.container_app());
    assert_eq!(
        app.body["properties"]["configuration"]["ingress"]["customDomains"],
        json!([])
    );
    let present: BTreeSet<String> = addrs;
    for d in deps(app) {
        assert!(
            present.contains(&d) || d.starts_with("graph:") || !d.contains(&ids.spoke_rg),
            "{d}"
        );
    }
    // With one, all three are there.
    let full = spoke(&env);
    assert!(
        full.iter()
            .any(|s| s.address == Address::from(ids.aca_env_certificate()))
    );
}

/// The fixture with `[redis]` and three replicas.
fn scaled_env() -> Environment {
    let mut env = schema::fixture_env();
    env.redis = Some(owui_deploy::config::RedisSettings {
        name: "redis-owui-fixture".into(),
        sku: "Balanced_B1".into(),
        high_availability: true,
    });
    env.container_app.max_replicas = 3;
    env
}

#[test]
fn redis_is_private_tls_only_and_reached_through_key_vault() {
    let env = scaled_env();
    let ids = Ids::new(&env);
    let all = stages::desired(&env, &StageOptions::default()).expect("desired");
    let specs = spoke(&env);

    let cluster = get(&specs, &ids.redis());
    assert_eq!(type_of(cluster), "Microsoft.Cache/redisEnterprise");
    assert_eq!(cluster.body["sku"], json!({"name": "Balanced_B1"}));
    assert_eq!(
        cluster.body["properties"],
        json!({"minimumTlsVersion": "1.2", "publicNetworkAccess": "Disabled", "highAvailability": "Enabled"})
    );
    let db = get(&specs, &ids.redis_database());
    assert!(
        db.address
            .as_str()
            .ends_with("/redisEnterprise/redis-owui-fixture/databases/default")
    );
    assert_eq!(
        db.body["properties"],
        json!({
            "clientProtocol": "Encrypted",
            "clusteringPolicy": "EnterpriseCluster",
            "evictionPolicy": "VolatileLRU",
            "port": 10000,
            "accessKeysAuthentication": "Enabled"
        })
    );

    // Private endpoint in the hub pe-subnet, registered in privatelink.redis.azure.net,
    // which the hub creates and links to both VNets.
    let zone = "privatelink.redis.azure.net";
    let pe = get(&specs, &ids.redis_private_endpoint());
    assert_eq!(
        pe.body["properties"]["privateLinkServiceConnections"][0]["properties"],
        json!({"privateLinkServiceId": ids.redis(), "groupIds": ["redisEnterprise"]})
    );
    assert_eq!(
        pe.body["properties"]["subnet"]["id"],
        json!(ids.pe_subnet())
    );
    let group = get(&specs, &Ids::zone_group(&ids.redis_private_endpoint()));
    assert_eq!(
        group.body["properties"]["privateDnsZoneConfigs"][0]["properties"]["privateDnsZoneId"],
        json!(ids.dns_zone(zone))
    );
    for (address, stage) in [
        (ids.dns_zone(zone), Stage::Hub),
        (ids.dns_zone_link(zone, "hub-vnet-link"), Stage::Hub),
        (ids.dns_zone_link(zone, "spoke-vnet-link"), Stage::Spoke),
    ] {
        assert_eq!(get(&all, &address).stage, stage, "{address}");
    }

    // The URL secret: the access key (fetched with listKeys when this secret is
    // written, percent-encoded) and the live host name; never a literal.
    let url = get(&specs, &ids.spoke_secret("redis-url"));
    assert_eq!(
        url.body["properties"]["value"],
        json!(format!(
            "rediss://:${{secret:redis-access-key-url-encoded}}@${{ref:{}#/properties/hostName}}:10000/0",
            ids.redis()
        ))
    );
    assert_eq!(url.rules.write_only, vec!["/properties/value".to_string()]);
    let action = stages::spoke::redis_key_action(&env)
        .expect("api version")
        .expect("an action with [redis]");
    assert_eq!(action.address, Address::from(ids.redis_database()));
    assert_eq!(action.action, "listKeys");
    assert_eq!(action.pointer, "/primaryKey");
    assert_eq!(action.api_version, "2025-07-01");
    assert!(
        stages::spoke::redis_key_action(&schema::fixture_env())
            .expect("ok")
            .is_none()
    );
}

#[test]
fn every_replica_shares_the_secret_key_and_redis_as_secret_references() {
    let env = scaled_env();
    let ids = Ids::new(&env);
    let specs = spoke(&env);
    let app = get(&specs, &ids.container_app());
    let vars = env_vars(app);
    let secret_ref = |name: &str, secret: &str| json!({"name": name, "secretRef": secret});
    assert_eq!(vars["REDIS_URL"], secret_ref("REDIS_URL", "redis-url"));
    assert_eq!(
        vars["WEBSOCKET_REDIS_URL"],
        secret_ref("WEBSOCKET_REDIS_URL", "redis-url")
    );
    assert_eq!(
        vars["WEBUI_SECRET_KEY"],
        secret_ref("WEBUI_SECRET_KEY", "webui-secret-key")
    );
    assert_eq!(vars["ENABLE_WEBSOCKET_SUPPORT"]["value"], "true");
    assert_eq!(vars["WEBSOCKET_MANAGER"]["value"], "redis");
    assert_eq!(vars["VECTOR_DB"]["value"], "pgvector");
    let secrets = &app.body["properties"]["configuration"]["secrets"];
    for (name, kv) in [
        ("webui-secret-key", "webui-secret-key"),
        ("redis-url", "redis-url"),
    ] {
        let s = secrets
            .as_array()
            .expect("secrets")
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no app secret {name}"));
        assert_eq!(
            s["keyVaultUrl"],
            json!(format!(
                "${{ref:{}#/properties/secretUri}}",
                ids.spoke_secret(kv)
            ))
        );
        assert!(
            s.get("value").is_none(),
            "{name} is a reference, not a value"
        );
    }
    assert_eq!(
        app.body["properties"]["template"]["scale"],
        json!({"minReplicas": 1, "maxReplicas": 3})
    );
    // The generated key is a secret input, stored before the app that reads it.
    let key = get(&specs, &ids.spoke_secret("webui-secret-key"));
    assert_eq!(
        key.body["properties"]["value"],
        "${secret:webui-secret-key}"
    );
    let d = deps(app);
    assert!(d.contains(&ids.spoke_secret("webui-secret-key")));
    assert!(d.contains(&ids.spoke_secret("redis-url")));
}

#[test]
fn pgvector_is_allowed_before_open_webui_starts() {
    let env = schema::fixture_env();
    let ids = Ids::new(&env);
    let specs = spoke(&env);
    let param = get(&specs, &ids.postgres_extensions());
    assert!(
        param
            .address
            .as_str()
            .ends_with("/configurations/azure.extensions")
    );
    assert_eq!(
        param.body,
        json!({"properties": {"value": "VECTOR", "source": "user-override"}})
    );
    assert!(deps(param).contains(&ids.postgres()));
    let app = get(&specs, &ids.container_app());
    assert!(deps(app).contains(&ids.postgres_extensions()));
}

#[test]
fn open_webui_has_health_probes_that_survive_a_cold_start() {
    let env = schema::fixture_env();
    let ids = Ids::new(&env);
    let specs = spoke(&env);
    let app = get(&specs, &ids.container_app());
    let probes = app.body["properties"]["template"]["containers"][0]["probes"]
        .as_array()
        .expect("probes")
        .clone();
    let kinds: Vec<&str> = probes.iter().filter_map(|p| p["type"].as_str()).collect();
    assert_eq!(kinds, ["Startup", "Liveness", "Readiness"]);
    for p in &probes {
        assert_eq!(
            p["httpGet"],
            json!({"path": "/health", "port": 8080, "scheme": "HTTP"})
        );
    }
    let startup = &probes[0];
    let window = startup["initialDelaySeconds"].as_u64().unwrap_or(0)
        + startup["periodSeconds"].as_u64().unwrap_or(0)
            * startup["failureThreshold"].as_u64().unwrap_or(0);
    assert!(window >= 300, "a first start may take minutes: {window} s");
}

#[test]
fn azure_extensions_merges_the_listed_extensions_with_vector() {
    let mut env = schema::fixture_env();
    env.postgres.extensions = vec!["pg_trgm".into(), "VECTOR".into(), "uuid-ossp".into()];
    let ids = Ids::new(&env);
    let specs = spoke(&env);
    let param = get(&specs, &ids.postgres_extensions());
    assert_eq!(
        param.body["properties"]["value"], "PG_TRGM,UUID-OSSP,VECTOR",
        "upper-case, sorted, VECTOR once"
    );
    assert!(
        param
            .rules
            .case_insensitive
            .contains(&"/properties/value".to_string())
    );
}
