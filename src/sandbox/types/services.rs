//! Computed properties and defaults of Foundry, Container Apps, PostgreSQL, Key Vault, Storage, monitoring and identity types.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------
// Cognitive Services

pub(super) fn cognitive_account(ctx: &mut Ctx<'_>) {
    let location = ctx.location();
    let created = ctx.created();
    let internal = ctx.hex("internal", 32);
    let kind = ctx.body["kind"].as_str().unwrap_or("").to_string();
    let sub = ctx.body["properties"]["customSubDomainName"]
        .as_str()
        .map(str::to_string);
    let p = ctx.props();
    let endpoint = match &sub {
        Some(s) => format!("https://{s}.cognitiveservices.azure.com/"),
        None => format!("https://{location}.api.cognitive.microsoft.com/"),
    };
    p.insert("endpoint".into(), json!(endpoint));
    let mut endpoints = Map::new();
    if let Some(s) = &sub {
        if kind.eq_ignore_ascii_case("AIServices") || kind.eq_ignore_ascii_case("OpenAI") {
            endpoints.insert(
                "OpenAI Language Model Instance API".into(),
                json!(format!("https://{s}.openai.azure.com/")),
            );
            endpoints.insert(
                "OpenAI Model Scaleset API".into(),
                json!(format!("https://{s}.openai.azure.com/")),
            );
        }
        if kind.eq_ignore_ascii_case("AIServices") {
            endpoints.insert(
                "AI Foundry API".into(),
                json!(format!("https://{s}.services.ai.azure.com/")),
            );
            endpoints.insert(
                "Azure AI Model Inference API".into(),
                json!(format!("https://{s}.services.ai.azure.com/")),
            );
            endpoints.insert(
                "Content Safety".into(),
                json!(format!("https://{s}.cognitiveservices.azure.com/")),
            );
        }
    }
    endpoints.insert("Cognitive Services".into(), json!(endpoint));
    p.insert("endpoints".into(), Value::Object(endpoints));
    p.insert("internalId".into(), json!(internal));
    p.insert("dateCreated".into(), json!(created));
    default(p, "publicNetworkAccess", json!("Enabled"));
    default(
        p,
        "networkAcls",
        json!({"defaultAction": "Allow", "virtualNetworkRules": [], "ipRules": []}),
    );
    default(p, "isMigrated", json!(false));
    default(p, "capabilities", json!([]));
}

pub(super) fn cognitive_deployment(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    default(
        p,
        "versionUpgradeOption",
        json!("OnceNewDefaultVersionAvailable"),
    );
    default(p, "raiPolicyName", json!("Microsoft.DefaultV2"));
    default(p, "capabilities", json!({"chatCompletion": "true"}));
    if let Some(cap) = ctx.body["sku"]["capacity"].as_i64() {
        let limits = json!([{"key": "request", "renewalPeriod": 60, "count": cap}, {"key": "token", "renewalPeriod": 60, "count": cap * 1000}]);
        ctx.props().insert("rateLimits".into(), limits);
        ctx.props().insert("currentCapacity".into(), json!(cap));
    }
}

// ---------------------------------------------------------------------------------------
// Container Apps

const DOMAIN_WORDS: &[&str] = &[
    "happyhill",
    "bravesea",
    "calmriver",
    "gentlemoss",
    "proudsky",
    "wittyfield",
    "livelytree",
    "mildstone",
];

pub(super) fn aca_environment(ctx: &mut Ctx<'_>) {
    let location = ctx.location();
    let h = ctx.hash("domain");
    let word = DOMAIN_WORDS[usize::from(h[0]) % DOMAIN_WORDS.len()];
    let domain = format!(
        "{word}-{}.{location}.azurecontainerapps.io",
        ctx.hex("domain", 8)
    );
    let internal = ctx.body["properties"]["vnetConfiguration"]["internal"].as_bool() == Some(true);
    let infra_subnet = ctx.body["properties"]["vnetConfiguration"]["infrastructureSubnetId"]
        .as_str()
        .map(str::to_string);
    let static_ip = if internal {
        infra_subnet
            .as_deref()
            .and_then(|s| subnet_prefix(ctx, s))
            .and_then(|p| host_in(&p, 96))
            .unwrap_or_else(|| "10.0.0.100".into())
    } else {
        ctx.public_ip("aca-static")
    };
    let verification = ctx.hex("verification", 64).to_ascii_uppercase();
    let name = ctx.name().to_string();
    let rg = ctx.rg.unwrap_or("").to_string();
    let p = ctx.props();
    p.insert("defaultDomain".into(), json!(domain));
    p.insert("staticIp".into(), json!(static_ip));
    p.insert("deploymentErrors".into(), Value::Null);
    p.insert("eventStreamEndpoint".into(), json!(format!("https://{location}.azurecontainerapps.dev/subscriptions/sandbox/resourceGroups/{rg}/managedEnvironments/{name}/eventstream")));
    default(
        p,
        "infrastructureResourceGroup",
        json!(format!("ME_{name}_{rg}_{location}")),
    );
    default(p, "zoneRedundant", json!(false));
    default(p, "kedaConfiguration", json!({"version": "2.17.1"}));
    default(p, "daprConfiguration", json!({"version": "1.13.6-msft.4"}));
    default(p, "peerAuthentication", json!({"mtls": {"enabled": false}}));
    default(
        p,
        "peerTrafficConfiguration",
        json!({"encryption": {"enabled": false}}),
    );
    default(
        p,
        "publicNetworkAccess",
        json!(if internal { "Disabled" } else { "Enabled" }),
    );
    let custom = p.entry("customDomainConfiguration").or_insert(json!({}));
    if let Some(m) = custom.as_object_mut() {
        m.insert("customDomainVerificationId".into(), json!(verification));
    }
}

pub(super) fn aca_certificate(ctx: &mut Ctx<'_>) {
    let thumb = ctx.hex("thumbprint", 40).to_ascii_uppercase();
    let p = ctx.props();
    p.insert("provisioningState".into(), json!("Succeeded"));
    p.insert("thumbprint".into(), json!(thumb));
    default(p, "subjectName", json!("CN=sandbox"));
    default(p, "expirationDate", json!("2030-01-01T00:00:00Z"));
    default(p, "valid", json!(true));
}

pub(super) fn container_app(ctx: &mut Ctx<'_>) {
    let name = ctx.name().to_string();
    let env_id = ctx.body["properties"]["managedEnvironmentId"]
        .as_str()
        .or_else(|| ctx.body["properties"]["environmentId"].as_str())
        .map(str::to_string);
    let env = env_id.as_deref().and_then(|e| ctx.resource(e)).cloned();
    let domain = env
        .as_ref()
        .and_then(|e| {
            e["properties"]["defaultDomain"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("sandbox.{}.azurecontainerapps.io", ctx.location()));
    let env_ip = env
        .as_ref()
        .and_then(|e| e["properties"]["staticIp"].as_str().map(str::to_string));
    let suffix = ctx.body["properties"]["template"]["revisionSuffix"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| ctx.hex(&format!("revision{}", ctx.now_ms), 7));
    let revision = format!("{name}--{suffix}");
    let verification = ctx.hex("verification", 64).to_ascii_uppercase();
    let outbound = ctx.public_ip("outbound");
    let event_stream = format!(
        "https://{}.azurecontainerapps.dev/subscriptions/{}/resourceGroups/{}/containerApps/{name}/eventstream",
        ctx.location(),
        ctx.sub,
        ctx.rg.unwrap_or_default()
    );
    let p = ctx.props();
    if let Some(e) = &env_id {
        p.insert("managedEnvironmentId".into(), json!(e));
        p.insert("environmentId".into(), json!(e));
    }
    default(p, "workloadProfileName", json!("Consumption"));
    p.insert("latestRevisionName".into(), json!(revision));
    p.insert("latestReadyRevisionName".into(), json!(revision));
    p.insert(
        "latestRevisionFqdn".into(),
        json!(format!("{revision}.{domain}")),
    );
    p.insert("customDomainVerificationId".into(), json!(verification));
    p.insert(
        "outboundIpAddresses".into(),
        json!([env_ip.unwrap_or(outbound)]),
    );
    p.insert("runningStatus".into(), json!("Running"));
    // ContainerApps_CreateOrUpdate.json answers an `eventStreamEndpoint`.
    p.insert("eventStreamEndpoint".into(), json!(event_stream));
    let mut cfg = p
        .remove("configuration")
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    if let Some(m) = cfg.as_object_mut() {
        default(m, "activeRevisionsMode", json!("Single"));
        default(m, "maxInactiveRevisions", json!(100));
    }
    if let Some(ingress) = cfg.get_mut("ingress").and_then(Value::as_object_mut) {
        let external = ingress
            .get("external")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let fqdn = if external {
            format!("{name}.{domain}")
        } else {
            format!("{name}.internal.{domain}")
        };
        ingress.insert("fqdn".into(), json!(fqdn));
        default(ingress, "external", json!(false));
        default(ingress, "transport", json!("Auto"));
        default(ingress, "allowInsecure", json!(false));
        default(
            ingress,
            "traffic",
            json!([{"weight": 100, "latestRevision": true}]),
        );
        default(ingress, "exposedPort", json!(0));
    }
    ctx.props().insert("configuration".into(), cfg);
    let tmpl = ctx.props().entry("template").or_insert(json!({}));
    if let Some(tmpl) = tmpl.as_object_mut() {
        default(tmpl, "revisionSuffix", json!(""));
        if let Some(Value::Array(containers)) = tmpl.get_mut("containers") {
            for c in containers {
                if let Some(r) = c.get_mut("resources").and_then(Value::as_object_mut) {
                    default(r, "ephemeralStorage", json!("2Gi"));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// PostgreSQL

pub(super) fn postgres_server(ctx: &mut Ctx<'_>) {
    let name = ctx.name().to_string();
    let created = ctx.created();
    let private = ctx.body["properties"]["network"]["delegatedSubnetResourceId"].is_string();
    let p = ctx.props();
    p.insert(
        "fullyQualifiedDomainName".into(),
        json!(format!("{name}.postgres.database.azure.com")),
    );
    default(p, "version", json!("16"));
    p.insert("minorVersion".into(), json!("8"));
    default(p, "replicationRole", json!("Primary"));
    default(p, "replicaCapacity", json!(5));
    default(p, "replica", json!({"role": "Primary", "capacity": 5}));
    default(p, "dataEncryption", json!({"type": "SystemManaged"}));
    default(
        p,
        "authConfig",
        json!({"activeDirectoryAuth": "Disabled", "passwordAuth": "Enabled"}),
    );
    default(
        p,
        "maintenanceWindow",
        json!({"customWindow": "Disabled", "dayOfWeek": 0, "startHour": 0, "startMinute": 0}),
    );
    default(p, "highAvailability", json!({"mode": "Disabled"}));
    if let Some(Value::Object(ha)) = p.get_mut("highAvailability") {
        let mode = ha
            .get("mode")
            .and_then(Value::as_str)
            .unwrap_or("Disabled")
            .to_string();
        ha.insert(
            "state".into(),
            json!(if mode == "Disabled" {
                "NotEnabled"
            } else {
                "Healthy"
            }),
        );
    }
    let s = p.entry("storage").or_insert(json!({}));
    if let Some(s) = s.as_object_mut() {
        default(s, "storageSizeGB", json!(32));
        default(s, "autoGrow", json!("Disabled"));
        default(s, "tier", json!("P4"));
        default(s, "iops", json!(120));
        default(s, "type", json!(""));
    }
    let b = p.entry("backup").or_insert(json!({}));
    if let Some(b) = b.as_object_mut() {
        default(b, "backupRetentionDays", json!(7));
        default(b, "geoRedundantBackup", json!("Disabled"));
        b.insert("earliestRestoreDate".into(), json!(created));
    }
    let n = p.entry("network").or_insert(json!({}));
    if let Some(n) = n.as_object_mut() {
        default(
            n,
            "publicNetworkAccess",
            json!(if private { "Disabled" } else { "Enabled" }),
        );
    }
    default(p, "availabilityZone", json!("1"));
}

/// The read-only fields of a server parameter (ConfigurationsGet.json): a written
/// value is a `user-override`; the rest describe the parameter.
pub(super) fn postgres_configuration(ctx: &mut Ctx<'_>) {
    let name = ctx.name().to_string();
    let p = ctx.props();
    default(p, "source", json!("user-override"));
    default(p, "value", json!(""));
    default(p, "description", json!(format!("Server parameter {name}.")));
    default(p, "dataType", json!("String"));
    default(p, "defaultValue", json!(""));
    default(p, "isConfigPendingRestart", json!(false));
    default(p, "isDynamicConfig", json!(true));
    default(p, "isReadOnly", json!(false));
}

pub(super) fn postgres_database(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    default(p, "charset", json!("UTF8"));
    default(p, "collation", json!("en_US.utf8"));
}

// ---------------------------------------------------------------------------------------
// Azure Managed Redis (RedisEnterpriseCreate.json, RedisEnterpriseDatabasesCreate.json)

/// Host name `{name}.{region}.redis.azure.net`, `resourceState`, `kind` and the
/// defaults of the create example's 200 body.
pub(super) fn redis_cluster(ctx: &mut Ctx<'_>) {
    let host = format!("{}.{}.redis.azure.net", ctx.name(), ctx.location());
    if let Some(m) = ctx.body.as_object_mut() {
        default(m, "kind", json!("v1"));
    }
    let p = ctx.props();
    p.insert("hostName".into(), json!(host));
    p.insert("resourceState".into(), json!("Running"));
    default(p, "redisVersion", json!("6"));
    default(p, "minimumTlsVersion", json!("1.2"));
    default(p, "highAvailability", json!("Enabled"));
    default(p, "privateEndpointConnections", json!([]));
}

/// Server defaults of a database (port 10000, TLS, OSS clustering, access keys
/// disabled unless asked for) and its `resourceState`.
pub(super) fn redis_database(ctx: &mut Ctx<'_>) {
    let p = ctx.props();
    p.insert("resourceState".into(), json!("Running"));
    default(p, "clientProtocol", json!("Encrypted"));
    default(p, "clusteringPolicy", json!("OSSCluster"));
    default(p, "evictionPolicy", json!("VolatileLRU"));
    default(p, "port", json!(10000));
    default(p, "modules", json!([]));
    default(p, "deferUpgrade", json!("NotDeferred"));
    default(p, "accessKeysAuthentication", json!("Disabled"));
    default(p, "redisVersion", json!("6.0"));
}

// ---------------------------------------------------------------------------------------
// Key Vault

pub(super) fn key_vault(ctx: &mut Ctx<'_>) {
    let name = ctx.name().to_string();
    let tenant = ctx.tenant.to_string();
    // createVault.json answers `tags` (empty when none were sent) and `hsmPoolResourceId`.
    if let Some(m) = ctx.body.as_object_mut() {
        default(m, "tags", json!({}));
    }
    let p = ctx.props();
    default(
        p,
        "hsmPoolResourceId",
        json!("00000000-0000-0000-0000-000000000000"),
    );
    p.insert(
        "vaultUri".into(),
        json!(format!("https://{name}.vault.azure.net/")),
    );
    default(p, "tenantId", json!(tenant));
    default(p, "sku", json!({"family": "A", "name": "standard"}));
    default(p, "accessPolicies", json!([]));
    default(p, "enabledForDeployment", json!(false));
    default(p, "enabledForDiskEncryption", json!(false));
    default(p, "enabledForTemplateDeployment", json!(false));
    default(p, "enableSoftDelete", json!(true));
    default(p, "softDeleteRetentionInDays", json!(90));
    default(p, "enableRbacAuthorization", json!(false));
    default(p, "publicNetworkAccess", json!("Enabled"));
    default(
        p,
        "networkAcls",
        json!({"bypass": "AzureServices", "defaultAction": "Allow", "ipRules": [], "virtualNetworkRules": []}),
    );
}

pub(super) fn key_vault_secret(ctx: &mut Ctx<'_>) {
    let vault = ctx.names.first().cloned().unwrap_or_default();
    let name = ctx.name().to_string();
    let version = ctx.hex(&format!("version{}", ctx.now_ms), 32);
    let created = ctx.created_ms / 1000;
    let updated = ctx.now_ms / 1000;
    let location = ctx
        .resource(ctx.parent_id())
        .and_then(|v| v["location"].as_str().map(str::to_string))
        .unwrap_or_default();
    if let Some(m) = ctx.body.as_object_mut() {
        m.insert("location".into(), json!(location));
    }
    let p = ctx.props();
    let attrs = p.entry("attributes").or_insert(json!({}));
    if let Some(a) = attrs.as_object_mut() {
        default(a, "enabled", json!(true));
        a.insert("created".into(), json!(created));
        a.insert("updated".into(), json!(updated));
    }
    p.insert(
        "secretUri".into(),
        json!(format!("https://{vault}.vault.azure.net/secrets/{name}")),
    );
    p.insert(
        "secretUriWithVersion".into(),
        json!(format!(
            "https://{vault}.vault.azure.net/secrets/{name}/{version}"
        )),
    );
}

// ---------------------------------------------------------------------------------------
// Storage

pub(super) fn storage_account(ctx: &mut Ctx<'_>) {
    let name = ctx.name().to_string();
    let location = ctx.location();
    let created = ctx.created();
    let kind = ctx.body["kind"].as_str().unwrap_or("StorageV2").to_string();
    if let Some(m) = ctx.body.as_object_mut() {
        default(m, "kind", json!(kind));
    }
    let p = ctx.props();
    let ep = |svc: &str| format!("https://{name}.{svc}.core.windows.net/");
    p.insert(
        "primaryEndpoints".into(),
        json!({"dfs": ep("dfs"), "web": ep("web"), "blob": ep("blob"), "queue": ep("queue"), "table": ep("table"), "file": ep("file")}),
    );
    p.insert("primaryLocation".into(), json!(location));
    p.insert("statusOfPrimary".into(), json!("available"));
    p.insert("creationTime".into(), json!(created));
    p.insert(
        "keyCreationTime".into(),
        json!({"key1": created, "key2": created}),
    );
    if kind.eq_ignore_ascii_case("StorageV2") || kind.eq_ignore_ascii_case("BlobStorage") {
        default(p, "accessTier", json!("Hot"));
    }
    default(p, "supportsHttpsTrafficOnly", json!(true));
    // StorageAccountGetProperties.json answers both.
    default(p, "isSkuConversionBlocked", json!(false));
    default(p, "accountMigrationInProgress", json!(false));
    default(p, "minimumTlsVersion", json!("TLS1_0"));
    default(p, "allowBlobPublicAccess", json!(false));
    default(p, "allowSharedKeyAccess", json!(true));
    default(
        p,
        "networkAcls",
        json!({"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [], "defaultAction": "Allow"}),
    );
    if let Some(Value::Object(acl)) = p.get_mut("networkAcls") {
        if let Some(Value::Array(rules)) = acl.get_mut("virtualNetworkRules") {
            for r in rules {
                if let Some(r) = r.as_object_mut() {
                    default(r, "action", json!("Allow"));
                    default(r, "state", json!("Succeeded"));
                }
            }
        }
        default(acl, "ipRules", json!([]));
        default(acl, "bypass", json!("AzureServices"));
    }
    default(
        p,
        "encryption",
        json!({
            "services": {
                "file": {"keyType": "Account", "enabled": true, "lastEnabledTime": created},
                "blob": {"keyType": "Account", "enabled": true, "lastEnabledTime": created}
            },
            "keySource": "Microsoft.Storage"
        }),
    );
}

pub(super) fn file_share(ctx: &mut Ctx<'_>) {
    let now = crate::sandbox::server::rfc3339(ctx.now_ms);
    let p = ctx.props();
    p.insert("lastModifiedTime".into(), json!(now));
    default(p, "shareQuota", json!(102400));
    default(p, "enabledProtocols", json!("SMB"));
    default(p, "accessTier", json!("TransactionOptimized"));
}

// ---------------------------------------------------------------------------------------
// Monitoring

/// A workbook answers with its content and the service's bookkeeping fields
/// (`timeModified`, `revision`, `userId`), as in the WorkbookGet response of
/// Microsoft's REST API specification (2023-06-01).
pub(super) fn workbook(ctx: &mut Ctx<'_>) {
    let now = crate::sandbox::server::rfc3339(ctx.now_ms);
    let revision = ctx.guid(&format!("revision-{now}")).replace('-', "");
    let user = ctx.guid("userId");
    let p = ctx.props();
    p.insert("timeModified".into(), json!(now));
    p.insert("revision".into(), json!(revision));
    p.insert("userId".into(), json!(user));
}

pub(super) fn log_analytics(ctx: &mut Ctx<'_>) {
    let customer = ctx.guid("customerId");
    let created = ctx.created();
    let now = crate::sandbox::server::rfc3339(ctx.now_ms);
    let p = ctx.props();
    p.insert("customerId".into(), json!(customer));
    p.insert("createdDate".into(), json!(created));
    p.insert("modifiedDate".into(), json!(now));
    default(p, "sku", json!({"name": "PerGB2018"}));
    default(p, "retentionInDays", json!(30));
    default(p, "publicNetworkAccessForIngestion", json!("Enabled"));
    default(p, "publicNetworkAccessForQuery", json!("Enabled"));
    default(p, "workspaceCapping", json!({"dailyQuotaGb": -1.0}));
    default(
        p,
        "features",
        json!({"legacy": 0, "searchVersion": 1, "enableLogAccessUsingOnlyResourcePermissions": true}),
    );
}

pub(super) fn app_insights(ctx: &mut Ctx<'_>) {
    let name = ctx.name().to_string();
    let location = ctx.location();
    let ikey = ctx.guid("instrumentationKey");
    let app_id = ctx.guid("appId");
    let created = ctx.created();
    let sub = ctx.sub.to_string();
    let p = ctx.props();
    p.insert("ApplicationId".into(), json!(name));
    p.insert("AppId".into(), json!(app_id));
    p.insert("InstrumentationKey".into(), json!(ikey));
    p.insert(
        "ConnectionString".into(),
        json!(format!(
            "InstrumentationKey={ikey};IngestionEndpoint=https://{location}-1.in.applicationinsights.azure.com/;LiveEndpoint=https://{location}.livediagnostics.monitor.azure.com/;ApplicationId={app_id}"
        )),
    );
    p.insert("CreationDate".into(), json!(created));
    p.insert("TenantId".into(), json!(sub));
    p.insert("provisioningState".into(), json!("Succeeded"));
    default(p, "Application_Type", json!("web"));
    default(p, "Request_Source", json!("rest"));
    default(p, "RetentionInDays", json!(90));
    // Server defaults ComponentsCreate.json answers.
    default(p, "HockeyAppId", json!(""));
    default(p, "HockeyAppToken", json!(""));
    default(p, "SamplingPercentage", json!(100.0));
    default(p, "DisableIpMasking", json!(false));
    default(p, "publicNetworkAccessForIngestion", json!("Enabled"));
    default(p, "publicNetworkAccessForQuery", json!("Enabled"));
    let mode = if p.contains_key("WorkspaceResourceId") {
        "LogAnalytics"
    } else {
        "ApplicationInsights"
    };
    p.insert("IngestionMode".into(), json!(mode));
}

// ---------------------------------------------------------------------------------------
// Identity and RBAC

pub(super) fn user_identity(ctx: &mut Ctx<'_>) {
    let principal = ctx.guid("principalId");
    let client = ctx.guid("clientId");
    let tenant = ctx.tenant.to_string();
    let p = ctx.props();
    p.insert("principalId".into(), json!(principal));
    p.insert("clientId".into(), json!(client));
    p.insert("tenantId".into(), json!(tenant));
}

pub(super) fn role_assignment(ctx: &mut Ctx<'_>) {
    let scope = ctx.id.rsplitn(5, '/').nth(4).unwrap_or("").to_string();
    let created = ctx.created();
    let now = crate::sandbox::server::rfc3339(ctx.now_ms);
    let kind = ctx.body["properties"]["principalId"]
        .as_str()
        .and_then(|id| ctx.world.principals.get(&id.to_ascii_lowercase()))
        .map(|p| p.kind.clone())
        .unwrap_or_else(|| "ServicePrincipal".into());
    let p = ctx.props();
    default(p, "principalType", json!(kind));
    // ARM answers the tenant-level form of the role definition whatever form was
    // sent (RoleAssignments_CreateForResourceGroup.json, RoleAssignments_Get.json).
    if let Some(guid) = p
        .get("roleDefinitionId")
        .and_then(Value::as_str)
        .and_then(|d| d.trim_end_matches('/').rsplit('/').next())
        .map(str::to_string)
    {
        p.insert(
            "roleDefinitionId".into(),
            json!(format!(
                "/providers/Microsoft.Authorization/roleDefinitions/{guid}"
            )),
        );
    }
    p.insert("scope".into(), json!(scope));
    p.insert("createdOn".into(), json!(created));
    p.insert("updatedOn".into(), json!(now));
    default(p, "condition", Value::Null);
    default(p, "conditionVersion", Value::Null);
    default(p, "description", Value::Null);
    default(p, "delegatedManagedIdentityResourceId", Value::Null);
}
