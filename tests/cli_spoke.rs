//! `owui-deploy spoke` end to end: the built binary against an in-process sandbox
//! (issue 4). Every test starts its own sandbox, deploys the hub with the CLI, and
//! reads results back from the sandbox (ARM, Graph and its request journal).

mod cli_support;
mod schema;

use base64::Engine as _;
use cli_support::{Harness, Run, is_write, summary};
use owui_deploy::azure::api_versions::api_version;
use owui_deploy::config::Environment;
use owui_deploy::engine::{Api, Mode, Stage};
use owui_deploy::stages::spoke::percent_encode;
use owui_deploy::stages::{self, Ids, StageOptions, entra};
use serde_json::{Value, json};

/// Sandbox time scale (APIM's 45 minutes take 1.35 s).
const TIME_SCALE: f64 = 0.0005;
const PASSWORD_VAR: &str = "OWUI_POSTGRES_ADMIN_PASSWORD";
const CERT_VAR: &str = "OWUI_CERTIFICATE_PFX_BASE64";

/// The environment file as the tool reads it.
fn environment(cli: &Harness) -> Environment {
    match owui_deploy::config::load(&cli.env_file) {
        Ok(loaded) => loaded.env,
        Err(e) => panic!("environment file invalid: {:?}", e.problems.len()),
    }
}

/// A random password with every character class (and `!`, which the connection
/// string must percent-encode).
fn random_password() -> String {
    format!("Aa1!{}", uuid::Uuid::new_v4().simple())
}

/// A random "PFX" (the tool and the sandbox only need base64), base64-encoded.
fn random_certificate() -> String {
    let bytes: Vec<u8> = (0..600).map(|_| rand::random::<u8>()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Sandbox started, `hub --yes` applied.
async fn after_hub() -> Harness {
    let cli = Harness::start("sandbox", TIME_SCALE).await;
    let run = cli.run_env(&["hub", "--yes", "--no-progress"], &[]).await;
    run.ok();
    cli
}

/// GET an ARM resource with its pinned API version; panics unless it exists.
async fn arm(cli: &Harness, id: &str, type_name: &str) -> Value {
    let v = api_version(type_name).unwrap_or_else(|| panic!("no API version for {type_name}"));
    let (status, body) = cli.arm_get(&format!("{id}?api-version={v}")).await;
    assert_eq!(status, 200, "GET {id}: {body}");
    body
}

/// Actions of a `plan --output json` other than no-op and read: (action, address).
fn planned_writes(run: &Run) -> Vec<(String, String)> {
    let plan: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("plan JSON: {e}\n{}", run.stdout));
    plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter(|c| !matches!(c["action"].as_str(), Some("no_op" | "read")))
        .map(|c| {
            (
                c["action"].as_str().unwrap_or("").to_string(),
                c["address"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn env_var<'a>(container: &'a Value, name: &str) -> &'a Value {
    container["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("environment variable {name} missing"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoke_after_hub_creates_everything_and_reruns_write_nothing() {
    let cli = after_hub().await;
    let env = environment(&cli);
    let ids = Ids::new(&env);
    let password = random_password();
    let cert = random_certificate();
    let secrets = [(PASSWORD_VAR, password.as_str()), (CERT_VAR, cert.as_str())];

    // --dry-run: the plan, nothing written.
    let mark = cli.mark().await;
    let dry = cli.run_env(&["spoke", "--dry-run"], &secrets).await;
    dry.ok();
    assert!(
        dry.stdout.contains(" to add, 0 to change"),
        "{}",
        dry.stdout
    );
    assert!(cli.writes_since(mark).await.is_empty(), "--dry-run wrote");
    // Without --yes and without a terminal to ask on: refused, nothing written.
    let refused = cli.run_env(&["spoke", "--no-progress"], &secrets).await;
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(
        cli.writes_since(mark).await.is_empty(),
        "unconfirmed apply wrote"
    );

    let mark = cli.mark().await;
    let run = cli
        .run_env(&["spoke", "--yes", "--no-progress"], &secrets)
        .await;
    run.ok();
    // The summary counts what was written: exactly what the plan announced.
    let added = dry
        .stdout
        .lines()
        .find_map(|l| {
            l.strip_prefix("Plan: ")?
                .split(' ')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .expect("plan summary");
    assert!(
        run.stdout
            .contains(&format!("Apply complete: {added} change(s)")),
        "{}",
        run.stdout
    );

    // Every ARM resource the stage wants exists under its deterministic ID.
    let opts = StageOptions {
        environment_dir: cli.dir.path().to_path_buf(),
        ..StageOptions::default()
    };
    let model = stages::model(&env, &opts, &[Stage::Spoke]).expect("model");
    let mut checked = 0;
    for spec in &model.resources {
        if let (Mode::Managed, Api::Arm { type_name, .. }) = (&spec.mode, &spec.api) {
            arm(&cli, spec.address.as_str(), type_name).await;
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} ARM resources");

    // Every ARM body the stage sent validates against the ARM schemas, with no
    // unknown property names (skipped, with a note, without ../shared).
    if let Some(shared) = schema::shared_dir("spoke request bodies") {
        let mut schemas = schema::Schemas::new(&shared);
        let mut errors = Vec::new();
        let mut validated = 0;
        for e in cli.journal_since(mark).await {
            let path = e["path"].as_str().unwrap_or("");
            let id = path.split('?').next().unwrap_or(path);
            if e["method"] != "PUT" || !id.starts_with("/subscriptions/") {
                continue;
            }
            let spec = model
                .resources
                .iter()
                .find(|s| s.address.as_str().eq_ignore_ascii_case(id))
                .unwrap_or_else(|| panic!("PUT of {id}, which the stage does not declare"));
            let mut sent = spec.clone();
            sent.body = e["request_body"].clone();
            errors.extend(schemas.check(&sent));
            validated += 1;
        }
        assert!(validated >= 30, "only {validated} bodies");
        assert!(errors.is_empty(), "{errors:#?}");
    }

    // Networking: the VNet's subnet with its NSG, peerings both ways, every hub zone linked.
    let vnet = arm(&cli, &ids.spoke_vnet(), "Microsoft.Network/virtualNetworks").await;
    let subnet = &vnet["properties"]["subnets"][0];
    assert_eq!(subnet["name"], "aca-subnet");
    assert_eq!(subnet["properties"]["addressPrefix"], "10.0.4.0/23");
    assert_eq!(
        subnet["properties"]["networkSecurityGroup"]["id"]
            .as_str()
            .map(str::to_ascii_lowercase),
        Some(ids.spoke_nsg().to_ascii_lowercase())
    );
    let peering = arm(
        &cli,
        &ids.spoke_to_hub_peering(),
        "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
    )
    .await;
    assert_eq!(
        peering["properties"]["remoteVirtualNetwork"]["id"]
            .as_str()
            .map(str::to_ascii_lowercase),
        Some(ids.hub_vnet().to_ascii_lowercase())
    );
    for zone in stages::hub::private_dns_zones(&env) {
        let link = arm(
            &cli,
            &ids.dns_zone_link(zone, stages::ids::SPOKE_LINK),
            "Microsoft.Network/privateDnsZones/virtualNetworkLinks",
        )
        .await;
        assert_eq!(
            link["properties"]["virtualNetwork"]["id"]
                .as_str()
                .map(str::to_ascii_lowercase),
            Some(ids.spoke_vnet().to_ascii_lowercase()),
            "{zone}"
        );
    }

    // Key Vault (RBAC) and its secrets; the certificate is a PKCS#12 secret.
    let vault = arm(&cli, &ids.spoke_key_vault(), "Microsoft.KeyVault/vaults").await;
    assert_eq!(vault["properties"]["enableRbacAuthorization"], true);
    let cert_secret = arm(
        &cli,
        &ids.spoke_secret(stages::ids::SECRET_CERTIFICATE),
        "Microsoft.KeyVault/vaults/secrets",
    )
    .await;
    assert_eq!(
        cert_secret["properties"]["contentType"],
        "application/x-pkcs12"
    );

    // Storage: VNet rule for the Container Apps subnet, SMB share.
    let sa = arm(
        &cli,
        &ids.storage_account(),
        "Microsoft.Storage/storageAccounts",
    )
    .await;
    assert_eq!(sa["properties"]["networkAcls"]["defaultAction"], "Deny");
    assert_eq!(
        sa["properties"]["networkAcls"]["virtualNetworkRules"][0]["id"]
            .as_str()
            .map(str::to_ascii_lowercase),
        Some(ids.aca_subnet().to_ascii_lowercase())
    );
    let share = arm(
        &cli,
        &ids.file_share(),
        "Microsoft.Storage/storageAccounts/fileServices/shares",
    )
    .await;
    assert_eq!(share["properties"]["enabledProtocols"], "SMB");

    // PostgreSQL: private, private endpoint in the hub pe-subnet with its zone group.
    let pg = arm(
        &cli,
        &ids.postgres(),
        "Microsoft.DBforPostgreSQL/flexibleServers",
    )
    .await;
    assert_eq!(
        pg["properties"]["network"]["publicNetworkAccess"],
        "Disabled"
    );
    assert!(pg["properties"].get("administratorLoginPassword").is_none());
    let pe = arm(
        &cli,
        &ids.postgres_private_endpoint(),
        "Microsoft.Network/privateEndpoints",
    )
    .await;
    assert_eq!(
        pe["properties"]["subnet"]["id"]
            .as_str()
            .map(str::to_ascii_lowercase),
        Some(ids.pe_subnet().to_ascii_lowercase())
    );
    arm(
        &cli,
        &Ids::zone_group(&ids.postgres_private_endpoint()),
        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
    )
    .await;

    // Foundry: AIServices, custom subdomain, local auth off, three DNS zones, deployments.
    let account = arm(&cli, &ids.foundry(), "Microsoft.CognitiveServices/accounts").await;
    assert_eq!(account["kind"], "AIServices");
    assert_eq!(
        account["properties"]["customSubDomainName"],
        env.foundry.name
    );
    assert_eq!(account["properties"]["disableLocalAuth"], true);
    let zg = arm(
        &cli,
        &Ids::zone_group(&ids.foundry_private_endpoint(&env.foundry.name)),
        "Microsoft.Network/privateEndpoints/privateDnsZoneGroups",
    )
    .await;
    assert_eq!(
        zg["properties"]["privateDnsZoneConfigs"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    for d in &env.foundry.deployments {
        let dep = arm(
            &cli,
            &ids.model_deployment(&env.foundry.name, &d.name),
            "Microsoft.CognitiveServices/accounts/deployments",
        )
        .await;
        assert_eq!(dep["sku"]["capacity"], d.capacity);
        assert_eq!(dep["properties"]["model"]["name"], d.model);
    }

    // Container Apps environment: internal, VNet, user identity, certificate from Key Vault.
    let cae = arm(&cli, &ids.aca_env(), "Microsoft.App/managedEnvironments").await;
    assert_eq!(cae["properties"]["vnetConfiguration"]["internal"], true);
    let env_cert = arm(
        &cli,
        &ids.aca_env_certificate(),
        "Microsoft.App/managedEnvironments/certificates",
    )
    .await;
    assert!(
        env_cert["properties"]["certificateKeyVaultProperties"]["keyVaultUrl"]
            .as_str()
            .is_some_and(|u| u.contains("/secrets/openwebui-certificate")),
        "{env_cert}"
    );

    // The Open WebUI app.
    let app = arm(&cli, &ids.container_app(), "Microsoft.App/containerApps").await;
    let identity_id = ids.aca_env_identity();
    assert_eq!(app["identity"]["type"], "SystemAssigned,UserAssigned");
    assert!(
        app["identity"]["userAssignedIdentities"]
            .get(&identity_id)
            .is_some(),
        "{}",
        app["identity"]
    );
    let cfg = &app["properties"]["configuration"];
    let ingress = &cfg["ingress"];
    assert_eq!(ingress["targetPort"], 8080);
    assert_eq!(ingress["stickySessions"]["affinity"], "sticky");
    assert_eq!(
        ingress["ipSecurityRestrictions"][0]["ipAddressRange"],
        env.hub.subnets.appgw.to_string()
    );
    assert_eq!(
        ingress["customDomains"][0]["name"],
        env.domain.custom_domain
    );
    assert_eq!(ingress["customDomains"][0]["bindingType"], "SniEnabled");
    // `database-url` comes from Key Vault through the user-assigned identity.
    let conn_secret = arm(
        &cli,
        &ids.spoke_secret(stages::ids::SECRET_PG_CONNECTION),
        "Microsoft.KeyVault/vaults/secrets",
    )
    .await;
    // So do `WEBUI_SECRET_KEY` and the Redis URL (sandbox.toml has `[redis]`).
    let secret_uri = |name: &'static str| {
        let cli = &cli;
        let id = ids.spoke_secret(name);
        async move {
            arm(cli, &id, "Microsoft.KeyVault/vaults/secrets").await["properties"]["secretUri"]
                .clone()
        }
    };
    assert_eq!(
        cfg["secrets"],
        json!([
            {"name": "database-url", "keyVaultUrl": conn_secret["properties"]["secretUri"], "identity": identity_id},
            {"name": "webui-secret-key", "keyVaultUrl": secret_uri(stages::ids::SECRET_WEBUI_KEY).await, "identity": identity_id},
            {"name": "redis-url", "keyVaultUrl": secret_uri(stages::ids::SECRET_REDIS_URL).await, "identity": identity_id}
        ])
    );
    let template = &app["properties"]["template"];
    let container = &template["containers"][0];
    assert_eq!(container["image"], "ghcr.io/open-webui/open-webui:main");
    assert_eq!(
        container["volumeMounts"],
        json!([{"volumeName": "open-webui-share", "mountPath": "/app/backend/data"}])
    );
    assert_eq!(
        template["volumes"][0]["mountOptions"],
        "nobrl,noperm,mfsymlinks,cache=strict"
    );
    // Every Open WebUI setting of the reference architecture.
    let app_id = {
        let (s, a) = cli
            .graph_get(&format!(
                "/v1.0/applications(uniqueName='{}')",
                env.entra.unique_name
            ))
            .await;
        assert_eq!(s, 200, "{a}");
        a["appId"].as_str().expect("appId").to_string()
    };
    let apim = arm(&cli, &ids.apim(), "Microsoft.ApiManagement/service").await;
    let gateway = apim["properties"]["gatewayUrl"].as_str().expect("gateway");
    let u = &env.entra.unique_name;
    let expected = [
        ("WEBUI_URL", format!("https://{}", env.domain.custom_domain)),
        ("ENABLE_OAUTH_SIGNUP", "true".into()),
        ("ENABLE_LOGIN_FORM", "false".into()),
        ("ENABLE_OAUTH_PERSISTENT_CONFIG", "false".into()),
        ("OAUTH_CLIENT_ID", app_id.clone()),
        ("OAUTH_CODE_CHALLENGE_METHOD", "S256".into()),
        ("OAUTH_PROVIDER_NAME", env.entra.provider_name.clone()),
        (
            "OAUTH_SCOPES",
            format!(
                "openid email profile api://{u}/user_impersonation User.Read GroupMember.Read.All ProfilePhoto.Read.All"
            ),
        ),
        (
            "OPENID_PROVIDER_URL",
            format!(
                "https://login.microsoftonline.com/{}/v2.0/.well-known/openid-configuration",
                env.azure.tenant_id
            ),
        ),
        ("OAUTH_EMAIL_CLAIM", "email".into()),
        ("OAUTH_USERNAME_CLAIM", "name".into()),
        ("OPENAI_API_BASE_URL", format!("{gateway}/openai/v1")),
        ("ENABLE_OAUTH_ROLE_MANAGEMENT", "true".into()),
        ("OAUTH_ROLES_CLAIM", "roles".into()),
        ("OAUTH_ALLOWED_ROLES", "admin,user".into()),
        ("OAUTH_ADMIN_ROLES", "admin".into()),
        ("ENABLE_OAUTH_GROUP_MANAGEMENT", "true".into()),
        ("ENABLE_OAUTH_GROUP_CREATION", "true".into()),
        ("OAUTH_GROUPS_CLAIM", "groups".into()),
        ("ENABLE_SIGNUP", "false".into()),
        ("DEFAULT_USER_ROLE", "user".into()),
        ("WEBUI_SESSION_COOKIE_SECURE", "true".into()),
        ("VECTOR_DB", "pgvector".into()),
        ("ENABLE_WEBSOCKET_SUPPORT", "true".into()),
        ("WEBSOCKET_MANAGER", "redis".into()),
    ];
    for (name, value) in &expected {
        let v = env_var(container, name);
        if *name == "OAUTH_ALLOWED_ROLES" {
            // The reference lists `user,admin`; order carries no meaning.
            let mut got: Vec<&str> = v["value"].as_str().unwrap_or("").split(',').collect();
            got.sort_unstable();
            assert_eq!(got, vec!["admin", "user"], "{name}");
        } else {
            assert_eq!(v["value"], json!(value), "{name}");
        }
    }
    for (name, secret) in [
        ("DATABASE_URL", "database-url"),
        ("WEBUI_SECRET_KEY", "webui-secret-key"),
        ("REDIS_URL", "redis-url"),
        ("WEBSOCKET_REDIS_URL", "redis-url"),
    ] {
        assert_eq!(
            env_var(container, name),
            &json!({"name": name, "secretRef": secret})
        );
    }
    assert_eq!(
        container["env"].as_array().map(Vec::len),
        Some(expected.len() + 4),
        "no other variables"
    );

    // RBAC: the environment identity and the app's system identity read the vault.
    let roles: Vec<String> = cli
        .journal_since(mark)
        .await
        .iter()
        .filter(|e| e["method"] == "PUT")
        .filter_map(|e| e["request_body"]["properties"]["principalId"].as_str())
        .map(str::to_string)
        .collect();
    let uai = arm(
        &cli,
        &identity_id,
        "Microsoft.ManagedIdentity/userAssignedIdentities",
    )
    .await;
    for principal in [
        uai["properties"]["principalId"].as_str().expect("uai"),
        app["identity"]["principalId"].as_str().expect("system"),
    ] {
        assert!(roles.iter().any(|r| r == principal), "{principal}");
    }

    // The sandbox's 409 on concurrent deployment writes never happened.
    let journal = cli.journal_since(0).await;
    assert!(
        journal.iter().all(|e| e["status"] != 409),
        "{:?}",
        summary(
            &journal
                .iter()
                .filter(|e| e["status"] == 409)
                .cloned()
                .collect::<Vec<_>>()
        )
    );

    // `plan spoke` afterwards: no changes and no writes.
    let mark = cli.mark().await;
    let plan = cli.run_env(&["plan", "spoke"], &secrets).await;
    plan.ok();
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    let writes = cli.writes_since(mark).await;
    assert!(writes.is_empty(), "plan wrote: {writes:?}");

    // A second `spoke --yes` writes nothing, not even without the password given
    // (a freshly generated one is never written over the existing one).
    for envs in [&secrets[..], &[(CERT_VAR, cert.as_str())][..]] {
        let mark = cli.mark().await;
        let again = cli
            .run_env(&["spoke", "--yes", "--no-progress"], envs)
            .await;
        again.ok();
        assert!(again.stdout.contains("No changes"), "{}", again.stdout);
        let writes = cli.writes_since(mark).await;
        assert!(writes.is_empty(), "second spoke wrote: {writes:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoke_before_hub_fails_before_any_write() {
    let cli = Harness::start("sandbox", TIME_SCALE).await;
    for args in [
        &["spoke", "--yes", "--no-progress"][..],
        &["plan", "spoke"][..],
    ] {
        let run = cli.run_env(args, &[]).await;
        assert_eq!(run.code, 1, "{args:?}: {}\n{}", run.stdout, run.stderr);
        for needle in ["hub VNet", "does not exist", "run `owui-deploy hub` first"] {
            assert!(
                run.stderr.contains(needle),
                "{args:?}: {needle}:\n{}",
                run.stderr
            );
        }
    }
    let writes = cli.writes_since(0).await;
    assert!(writes.is_empty(), "wrote: {writes:?}");
}

/// The deployment block of `name` in the shipped sandbox environment.
fn deployment_block(text: &str, name: &str) -> String {
    let marker = format!("[[foundry.deployments]]\nname = \"{name}\"");
    let start = text.find(&marker).expect("deployment block");
    let end = text[start + 1..]
        .find("\n[")
        .map(|i| start + 1 + i + 1)
        .unwrap_or(text.len());
    text[start..end].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_deployments_add_change_and_remove_exactly() {
    let cli = after_hub().await;
    let env = environment(&cli);
    let ids = Ids::new(&env);
    let dep = |name: &str| ids.model_deployment(&env.foundry.name, name);
    cli.run_env(&["spoke", "--yes", "--no-progress"], &[])
        .await
        .ok();
    let original = cli.env_text();

    // Each step: the plan lists exactly `expected`, and the apply sends exactly `writes`.
    async fn step(
        cli: &Harness,
        text: &str,
        expected: Vec<(&str, String)>,
        writes: Vec<String>,
    ) -> Run {
        cli.write_env(text);
        let mark = cli.mark().await;
        let plan = cli
            .run_env(&["plan", "spoke", "--output", "json"], &[])
            .await;
        plan.ok();
        let mut got = planned_writes(&plan);
        got.sort();
        let mut want: Vec<(String, String)> = expected
            .into_iter()
            .map(|(a, b)| (a.to_string(), b))
            .collect();
        want.sort();
        assert_eq!(got, want);
        assert!(cli.writes_since(mark).await.is_empty(), "plan wrote");
        let mark = cli.mark().await;
        let run = cli.run_env(&["spoke", "--yes", "--no-progress"], &[]).await;
        run.ok();
        let mut sent = cli.write_summary_since(mark).await;
        sent.sort();
        let mut writes = writes;
        writes.sort();
        assert_eq!(sent, writes);
        run
    }

    // Add two deployments at once: both created, one after the other.
    let added = format!(
        "{original}\n[[foundry.deployments]]\nname = \"gpt-5-mini\"\nformat = \"OpenAI\"\nmodel = \"gpt-5-mini\"\nversion = \"2025-08-07\"\ncapacity = 10\n\n[[foundry.deployments]]\nname = \"Mistral-Large-3\"\nformat = \"Mistral AI\"\nmodel = \"Mistral-Large-3\"\nversion = \"1\"\ncapacity = 5\n"
    );
    step(
        &cli,
        &added,
        vec![
            ("create", dep("gpt-5-mini")),
            ("create", dep("Mistral-Large-3")),
        ],
        vec![
            format!("PUT {}", dep("gpt-5-mini")),
            format!("PUT {}", dep("Mistral-Large-3")),
        ],
    )
    .await;

    // Capacity: an update of that deployment only.
    let block = deployment_block(&added, "gpt-4o-mini");
    let changed = added.replace(&block, &block.replace("capacity = 100", "capacity = 120"));
    assert_ne!(changed, added);
    step(
        &cli,
        &changed,
        vec![("update", dep("gpt-4o-mini"))],
        vec![format!("PUT {}", dep("gpt-4o-mini"))],
    )
    .await;
    let live = arm(
        &cli,
        &dep("gpt-4o-mini"),
        "Microsoft.CognitiveServices/accounts/deployments",
    )
    .await;
    assert_eq!(live["sku"]["capacity"], 120);

    // Model version: shown as the in-place update Azure performs.
    let block = deployment_block(&changed, "gpt-4o");
    let versioned = changed.replace(
        &block,
        &block.replace("version = \"2024-11-20\"", "version = \"2024-08-06\""),
    );
    assert_ne!(versioned, changed);
    step(
        &cli,
        &versioned,
        vec![("update", dep("gpt-4o"))],
        vec![format!("PUT {}", dep("gpt-4o"))],
    )
    .await;

    // Removal: the plan says so, then exactly one DELETE.
    let block = deployment_block(&versioned, "DeepSeek-V3.1");
    let removed = versioned.replace(&block, "");
    assert_ne!(removed, versioned);
    step(
        &cli,
        &removed,
        vec![("delete", dep("DeepSeek-V3.1"))],
        vec![format!("DELETE {}", dep("DeepSeek-V3.1"))],
    )
    .await;
    let v = api_version("Microsoft.CognitiveServices/accounts/deployments").expect("version");
    let (status, _) = cli
        .arm_get(&format!("{}?api-version={v}", dep("DeepSeek-V3.1")))
        .await;
    assert_eq!(status, 404);

    // Never a concurrent write on the account.
    let journal = cli.journal_since(0).await;
    assert!(journal.iter().all(|e| e["status"] != 409));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_leave_azure() {
    let cli = after_hub().await;
    let password = random_password();
    let cert = random_certificate();
    let secrets = [(PASSWORD_VAR, password.as_str()), (CERT_VAR, cert.as_str())];
    let mark = cli.mark().await;
    let (spoke, spoke_lines) = cli
        .run_sampled(&["spoke", "--yes", "-vv", "--output", "json"], &secrets)
        .await;
    spoke.ok();
    let (plan, plan_lines) = cli
        .run_sampled(&["plan", "spoke", "-vv", "--output", "json"], &secrets)
        .await;
    plan.ok();
    let rotation_mark = cli.mark().await;
    // The most verbose logging there is, from every crate (HTTP/2 frames included).
    let traced = [secrets[0], secrets[1], ("RUST_LOG", "trace")];
    let (rotate, rotate_lines) = cli
        .run_sampled(
            &["spoke", "--yes", "--rotate-secrets", "-vv", "--no-progress"],
            &traced,
        )
        .await;
    rotate.ok();

    // Positive control: the secrets did reach Azure, so the searches below can fail.
    let env = environment(&cli);
    let ids = Ids::new(&env);
    let pg = arm(
        &cli,
        &ids.postgres(),
        "Microsoft.DBforPostgreSQL/flexibleServers",
    )
    .await;
    let fqdn = pg["properties"]["fullyQualifiedDomainName"]
        .as_str()
        .expect("fqdn");
    let connection = format!(
        "postgresql://{}:{}@{fqdn}:5432/{}?sslmode=require",
        env.postgres.admin_login,
        password.replace('!', "%21"),
        env.postgres.database
    );
    // The values as sent (the HTTP journal redacts them).
    let journal = cli.journal_unredacted_since(mark);
    let sent = |id: &str, pointer: &str| -> Vec<String> {
        journal
            .iter()
            .filter(|e| {
                e["method"] == "PUT"
                    && e["path"]
                        .as_str()
                        .is_some_and(|p| p.split('?').next() == Some(id))
            })
            .filter_map(|e| e["request_body"].pointer(pointer)?.as_str())
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        sent(
            &ids.spoke_secret(stages::ids::SECRET_PG_CONNECTION),
            "/properties/value"
        ),
        vec![connection.clone(), connection.clone()],
        "the connection string (live FQDN as host) is written once, then once on rotation"
    );
    assert_eq!(
        sent(&ids.postgres(), "/properties/administratorLoginPassword"),
        vec![password.clone(), password.clone()]
    );
    assert_eq!(
        sent(
            &ids.spoke_secret(stages::ids::SECRET_CERTIFICATE),
            "/properties/value"
        ),
        vec![cert.clone()]
    );
    // Rotation rewrote exactly the server password and both Key Vault secrets.
    let mut rotated = cli.write_summary_since(rotation_mark).await;
    rotated.sort();
    let mut want = vec![
        format!("PUT {}", ids.postgres()),
        format!(
            "PUT {}",
            ids.spoke_secret(stages::ids::SECRET_PG_CONNECTION)
        ),
        format!("PUT {}", ids.spoke_secret(stages::ids::SECRET_PG_PASSWORD)),
        format!("PUT {}", ids.spoke_secret(stages::ids::SECRET_WEBUI_KEY)),
        format!("PUT {}", ids.spoke_secret(stages::ids::SECRET_REDIS_URL)),
        // The Redis key is read again for the rewritten URL.
        format!("POST {}/listKeys", ids.redis_database()),
    ];
    want.sort();
    assert_eq!(rotated, want);

    // The searches: outputs, every file under the working directory, command lines.
    // The sandbox runs in-process without a state file (that file would be "Azure"'s
    // storage, which legitimately holds the values, like Key Vault does).
    // The Redis access key reached Key Vault (inside the URL) and nowhere else; so did
    // WEBUI_SECRET_KEY (written once, then once on rotation).
    let keys = cli
        .arm_send(
            reqwest::Method::POST,
            &format!(
                "{}/listKeys?api-version={}",
                ids.redis_database(),
                api_version("Microsoft.Cache/redisEnterprise/databases").expect("pinned")
            ),
            &json!({}),
        )
        .await;
    let redis_key = keys["primaryKey"].as_str().expect("primaryKey").to_string();
    let cluster = arm(&cli, &ids.redis(), "Microsoft.Cache/redisEnterprise").await;
    let host = cluster["properties"]["hostName"]
        .as_str()
        .expect("hostName");
    let redis_url = format!("rediss://:{}@{host}:10000/0", percent_encode(&redis_key));
    assert_eq!(
        sent(
            &ids.spoke_secret(stages::ids::SECRET_REDIS_URL),
            "/properties/value"
        ),
        vec![redis_url.clone(), redis_url.clone()],
        "the Redis URL is written once, with the live key and host, then once on rotation"
    );
    let webui_keys = sent(
        &ids.spoke_secret(stages::ids::SECRET_WEBUI_KEY),
        "/properties/value",
    );
    assert_eq!(webui_keys.len(), 2, "written once, then once on rotation");
    let mut needles = vec![
        ("password", password.clone()),
        ("certificate", cert.clone()),
        ("certificate prefix", cert[..40].to_string()),
        ("connection string", connection.clone()),
        ("encoded password", password.replace('!', "%21")),
        ("Redis key", redis_key.clone()),
        ("encoded Redis key", percent_encode(&redis_key)),
        ("Redis URL", redis_url.clone()),
    ];
    for k in webui_keys {
        needles.push(("WEBUI_SECRET_KEY", k));
    }
    let mut haystacks: Vec<(String, String)> = Vec::new();
    for (what, run, lines) in [
        ("spoke", &spoke, &spoke_lines),
        ("plan", &plan, &plan_lines),
        ("rotate", &rotate, &rotate_lines),
    ] {
        haystacks.push((format!("{what} stdout"), run.stdout.clone()));
        haystacks.push((format!("{what} stderr"), run.stderr.clone()));
        assert!(
            lines.iter().any(|l| l.contains("owui-deploy")),
            "command line sampled: {lines:?}"
        );
        for line in lines {
            haystacks.push((format!("{what} command line"), line.clone()));
        }
    }
    // The journal the sandbox serves over HTTP redacts what the tool sent.
    haystacks.push((
        "journal over HTTP".into(),
        Value::Array(cli.journal().await).to_string(),
    ));
    assert!(spoke.stderr.contains("connecting"), "-vv logs");
    // The consent step, as one JSON line.
    let consent: Value = spoke
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "admin_consent_required")
        .expect("admin_consent_required line");
    assert!(
        consent["url"]
            .as_str()
            .is_some_and(|u| u.ends_with(consent["app_id"].as_str().unwrap_or("-")))
    );
    assert!(rotate.stderr.contains("TRACE"), "RUST_LOG=trace logs");
    let files = cli.files();
    assert!(files.len() >= 2, "{files:?}");
    for f in files {
        let text = String::from_utf8_lossy(&std::fs::read(&f).expect("read")).into_owned();
        haystacks.push((f.display().to_string(), text));
    }
    for (where_, text) in &haystacks {
        for (what, needle) in &needles {
            assert!(
                !text.contains(needle.as_str()),
                "the {what} appears in {where_}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_application_roles_and_service_principal_are_stable() {
    let cli = after_hub().await;
    let env = environment(&cli);
    let u = env.entra.unique_name.clone();
    let first = cli.run_env(&["spoke", "--yes", "--no-progress"], &[]).await;
    first.ok();

    let app_path = format!("/v1.0/applications(uniqueName='{u}')");
    let (status, app) = cli.graph_get(&app_path).await;
    assert_eq!(status, 200, "{app}");
    assert_eq!(app["signInAudience"], "AzureADMyOrg");
    assert_eq!(app["identifierUris"], json!([format!("api://{u}")]));
    assert_eq!(app["groupMembershipClaims"], "SecurityGroup");
    assert_eq!(app["api"]["requestedAccessTokenVersion"], 2);
    let scope = &app["api"]["oauth2PermissionScopes"][0];
    assert_eq!(scope["value"], "user_impersonation");
    assert_eq!(
        scope["id"],
        json!(entra::scope_id(&u, "user_impersonation").to_string())
    );
    // A public client: the exact redirect URI under publicClient, none under web,
    // no secret.
    assert_eq!(app["isFallbackPublicClient"], true);
    assert_eq!(
        app["publicClient"]["redirectUris"],
        json!([format!(
            "https://{}/oauth/oidc/callback",
            env.domain.custom_domain
        )])
    );
    assert_eq!(app["web"]["redirectUris"], json!([]));
    assert_eq!(app["passwordCredentials"], json!([]));
    let mut roles: Vec<(String, String)> = app["appRoles"]
        .as_array()
        .expect("appRoles")
        .iter()
        .map(|r| {
            assert_eq!(r["allowedMemberTypes"], json!(["User"]));
            (
                r["value"].as_str().unwrap_or("").to_string(),
                r["id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        vec![
            ("admin".to_string(), entra::role_id(&u, "admin").to_string()),
            ("user".to_string(), entra::role_id(&u, "user").to_string()),
        ]
    );
    for token in ["idToken", "accessToken"] {
        let mut names: Vec<&str> = app["optionalClaims"][token]
            .as_array()
            .expect("claims")
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        names.sort_unstable();
        assert_eq!(names, vec!["groups", "ipaddr"], "{token}");
    }
    let access = &app["requiredResourceAccess"][0];
    assert_eq!(access["resourceAppId"], entra::GRAPH_APP_ID);
    for id in [
        entra::USER_READ,
        entra::GROUP_MEMBER_READ_ALL,
        entra::PROFILE_PHOTO_READ_ALL,
    ] {
        assert!(
            access["resourceAccess"]
                .as_array()
                .expect("resourceAccess")
                .iter()
                .any(|a| a["id"] == id && a["type"] == "Scope"),
            "{id}"
        );
    }
    let app_id = app["appId"].as_str().expect("appId").to_string();
    let sp_path = format!("/v1.0/servicePrincipals(appId='{app_id}')");
    let (status, sp) = cli.graph_get(&sp_path).await;
    assert_eq!(status, 200, "{sp}");
    assert_eq!(sp["appRoleAssignmentRequired"], true);

    // Without --grant-admin-consent: the consent step and its exact URL.
    let url = entra::consent_url(&env.azure.tenant_id, &app_id);
    assert!(first.stdout.contains(&url), "{}", first.stdout);
    assert!(first.stdout.contains("--grant-admin-consent"));

    // Re-run: same objects, same role IDs, nothing written.
    let mark = cli.mark().await;
    let again = cli.run_env(&["spoke", "--yes", "--no-progress"], &[]).await;
    again.ok();
    assert!(cli.writes_since(mark).await.is_empty());
    // "No changes": the consent step is not repeated.
    assert!(!again.stdout.contains(&url), "{}", again.stdout);
    let (_, app2) = cli.graph_get(&app_path).await;
    let (_, sp2) = cli.graph_get(&sp_path).await;
    assert_eq!(app2["id"], app["id"]);
    assert_eq!(app2["appId"], app["appId"]);
    assert_eq!(app2["appRoles"], app["appRoles"]);
    assert_eq!(sp2["id"], sp["id"]);

    // --grant-admin-consent by a caller who may not grant it: the apply fails, and
    // the output still names the manual step and its URL.
    cli.admin_post(
        "/_sandbox/faults",
        &json!({"rules": [{"method": "POST", "path": "*/oauth2PermissionGrants*", "kind": "status",
            "status": 403, "code": "Authorization_RequestDenied",
            "message": "Insufficient privileges to complete the operation.", "nth": 1}]}),
    )
    .await;
    let denied = cli
        .run_env(
            &["spoke", "--yes", "--grant-admin-consent", "--no-progress"],
            &[],
        )
        .await;
    denied.expect_code(1);
    assert!(
        denied.stderr.contains("Authorization_RequestDenied"),
        "{}",
        denied.stderr
    );
    assert!(denied.stdout.contains(&url), "{}", denied.stdout);

    // --grant-admin-consent: exactly the grant is created; the notice is gone.
    let mark = cli.mark().await;
    let granted = cli
        .run_env(
            &["spoke", "--yes", "--grant-admin-consent", "--no-progress"],
            &[],
        )
        .await;
    granted.ok();
    assert_eq!(
        cli.write_summary_since(mark).await,
        vec!["POST /v1.0/oauth2PermissionGrants".to_string()]
    );
    assert!(
        !granted.stdout.contains("adminconsent"),
        "{}",
        granted.stdout
    );
    let sp_id = sp["id"].as_str().expect("sp id");
    let (status, grants) = cli
        .graph_get(&format!(
            "/v1.0/oauth2PermissionGrants?$filter=clientId%20eq%20'{sp_id}'"
        ))
        .await;
    assert_eq!(status, 200, "{grants}");
    let grant = &grants["value"][0];
    assert_eq!(grant["consentType"], "AllPrincipals");
    assert_eq!(grant["scope"], entra::GRAPH_SCOPES);

    // Granted: a plain re-run neither writes nor asks for consent.
    let mark = cli.mark().await;
    let after = cli.run_env(&["spoke", "--yes", "--no-progress"], &[]).await;
    after.ok();
    assert!(!after.stdout.contains("adminconsent"), "{}", after.stdout);
    let writes: Vec<Value> = cli
        .journal_since(mark)
        .await
        .into_iter()
        .filter(is_write)
        .collect();
    assert!(writes.is_empty(), "{:?}", summary(&writes));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_without_a_given_password_generates_one_everywhere() {
    let cli = after_hub().await;
    let env = environment(&cli);
    let ids = Ids::new(&env);
    let server = ids.postgres();
    let pw_secret = ids.spoke_secret(stages::ids::SECRET_PG_PASSWORD);
    let conn_secret = ids.spoke_secret(stages::ids::SECRET_PG_CONNECTION);
    // (server password, password secret, connection string) sent since `mark`.
    async fn sent(cli: &Harness, mark: usize, ids: [&str; 3]) -> [Vec<String>; 3] {
        // The values as sent (the HTTP journal redacts them).
        let journal = cli.journal_unredacted_since(mark);
        ids.map(|id| {
            journal
                .iter()
                .filter(|e| e["method"] == "PUT")
                .filter(|e| {
                    e["path"]
                        .as_str()
                        .is_some_and(|p| p.split('?').next() == Some(id))
                })
                .filter_map(|e| {
                    let b = &e["request_body"]["properties"];
                    b["administratorLoginPassword"]
                        .as_str()
                        .or(b["value"].as_str())
                        .map(str::to_string)
                })
                .collect()
        })
    }

    let mark = cli.mark().await;
    cli.run_env(&["spoke", "--yes", "--no-progress"], &[])
        .await
        .ok();
    let [first, first_secret, first_conn] =
        sent(&cli, mark, [&server, &pw_secret, &conn_secret]).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first, first_secret, "Key Vault holds the server's password");
    let p1 = &first[0];
    assert!(p1.len() >= 24, "generated passwords are long");
    assert!(
        first_conn[0].contains(&format!(":{}@", percent_encode(p1))),
        "connection string"
    );
    // WEBUI_SECRET_KEY: generated once into Key Vault, not resent by a plain re-run.
    let webui_key = ids.spoke_secret(stages::ids::SECRET_WEBUI_KEY);
    let [key1, _, _] = sent(&cli, mark, [&webui_key, &webui_key, &webui_key]).await;
    assert_eq!(key1.len(), 1, "written once");
    assert!(key1[0].len() >= 32, "a long generated key");
    let rerun = cli.mark().await;
    cli.run_env(&["spoke", "--yes", "--no-progress"], &[])
        .await
        .ok();
    assert!(cli.writes_since(rerun).await.is_empty(), "kept across runs");

    let mark = cli.mark().await;
    let run = cli
        .run_env(
            &["spoke", "--yes", "--rotate-secrets", "--no-progress"],
            &[],
        )
        .await;
    run.ok();
    let mut writes = cli.write_summary_since(mark).await;
    writes.sort();
    let mut want = vec![
        format!("PUT {server}"),
        format!("PUT {pw_secret}"),
        format!("PUT {conn_secret}"),
        format!("PUT {webui_key}"),
        format!("PUT {}", ids.spoke_secret(stages::ids::SECRET_REDIS_URL)),
        format!("POST {}/listKeys", ids.redis_database()),
    ];
    want.sort();
    assert_eq!(writes, want);
    let [key2, _, _] = sent(&cli, mark, [&webui_key, &webui_key, &webui_key]).await;
    assert_eq!(key2.len(), 1);
    assert_ne!(
        key2[0], key1[0],
        "--rotate-secrets replaces WEBUI_SECRET_KEY"
    );
    let [second, second_secret, second_conn] =
        sent(&cli, mark, [&server, &pw_secret, &conn_secret]).await;
    assert_eq!(second, second_secret);
    assert_ne!(&second[0], p1, "a new password");
    assert!(second_conn[0].contains(&format!(":{}@", percent_encode(&second[0]))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_change_converges_in_one_run_and_never_resends_a_generated_password() {
    let cli = after_hub().await;
    let env = environment(&cli);
    let ids = Ids::new(&env);
    cli.run_env(&["spoke", "--yes", "--no-progress"], &[])
        .await
        .ok();

    // A tag changes on every taggable resource; no password is given (a new one is
    // generated in this run and must not reach the server or Key Vault).
    let text = cli.env_text();
    let retagged = text.replace("purpose = \"sandbox\"", "purpose = \"sandbox-retagged\"");
    assert_ne!(retagged, text);
    cli.write_env(&retagged);
    let mark = cli.mark().await;
    let run = cli.run_env(&["spoke", "--yes", "--no-progress"], &[]).await;
    run.ok();
    let journal = cli.journal_since(mark).await;
    let writes = summary(
        &journal
            .iter()
            .filter(|e| is_write(e))
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert!(
        writes.contains(&format!("PUT {}", ids.spoke_vnet())),
        "{writes:?}"
    );
    assert!(
        !writes.iter().any(|w| w.contains("/secrets/")),
        "secrets rewritten for a tag: {writes:?}"
    );
    let server_puts: Vec<&Value> = journal
        .iter()
        .filter(|e| {
            e["method"] == "PUT"
                && e["path"]
                    .as_str()
                    .is_some_and(|p| p.split('?').next() == Some(ids.postgres().as_str()))
        })
        .collect();
    assert_eq!(server_puts.len(), 1, "{writes:?}");
    assert_eq!(
        server_puts[0]["request_body"]["tags"]["purpose"],
        "sandbox-retagged"
    );
    assert!(
        server_puts[0]["request_body"]["properties"]
            .get("administratorLoginPassword")
            .is_none(),
        "an existing server keeps its password"
    );

    // One run was enough: the spoke VNet's PUT kept its peering to the hub.
    let mark = cli.mark().await;
    let plan = cli.run_env(&["plan", "spoke"], &[]).await;
    plan.ok();
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    assert!(cli.writes_since(mark).await.is_empty());
    arm(
        &cli,
        &ids.spoke_to_hub_peering(),
        "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
    )
    .await;
}
