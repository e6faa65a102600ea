//! Semantic rules over a structurally valid environment: Azure naming, networks,
//! regions, SKUs, sizes, limits, files. Each problem points at the offending value.

use crate::config::certificate;
use crate::config::regions::{self, normalize_location};
use crate::config::rules::{self, NameRule};
use crate::config::schema::SpanIndex;
use crate::config::{CloudSetting, Environment, Pos, Problem};
use ipnet::Ipv4Net;
use std::collections::HashMap;
use std::path::Path;

/// APIM SKUs this tool deploys (classic tiers; the gateway is VNet-injected).
pub(crate) const APIM_SKUS: &[&str] = &["Developer", "Basic", "Standard", "Premium"];
/// Quota periods of `llm-token-limit`.
pub(crate) const QUOTA_PERIODS: &[&str] = &["Hourly", "Daily", "Weekly", "Monthly", "Yearly"];
/// Model deployment SKUs.
pub(crate) const DEPLOYMENT_SKUS: &[&str] = &[
    "GlobalStandard",
    "Standard",
    "DataZoneStandard",
    "GlobalProvisionedManaged",
    "ProvisionedManaged",
    "DataZoneProvisionedManaged",
    "GlobalBatch",
    "DataZoneBatch",
    "DeveloperTier",
];
/// PostgreSQL Flexible Server major versions.
pub(crate) const POSTGRES_VERSIONS: &[&str] = &["12", "13", "14", "15", "16", "17"];
/// PostgreSQL compute tiers and the SKU prefix each needs.
pub(crate) const POSTGRES_TIERS: &[(&str, &str)] = &[
    ("Burstable", "Standard_B"),
    ("GeneralPurpose", "Standard_D"),
    ("MemoryOptimized", "Standard_E"),
];
/// PostgreSQL storage sizes in GiB.
pub(crate) const POSTGRES_STORAGE_GB: &[u32] =
    &[32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];
/// Logins PostgreSQL refuses for the administrator.
const POSTGRES_RESERVED_LOGINS: &[&str] = &[
    "azure_superuser",
    "azure_pg_admin",
    "admin",
    "administrator",
    "root",
    "guest",
    "public",
];
/// Application Gateway SKUs (v2 only).
pub(crate) const APPGW_SKUS: &[&str] = &["Standard_v2", "WAF_v2"];
/// Azure Managed Redis SKUs (the Redis Enterprise resource provider's current tiers).
pub(crate) const REDIS_SKUS: &[&str] = &[
    "Balanced_B0",
    "Balanced_B1",
    "Balanced_B3",
    "Balanced_B5",
    "Balanced_B10",
    "Balanced_B20",
    "Balanced_B50",
    "Balanced_B100",
    "Balanced_B150",
    "Balanced_B250",
    "Balanced_B350",
    "Balanced_B500",
    "Balanced_B700",
    "Balanced_B1000",
    "MemoryOptimized_M10",
    "MemoryOptimized_M20",
    "MemoryOptimized_M50",
    "MemoryOptimized_M100",
    "MemoryOptimized_M150",
    "MemoryOptimized_M250",
    "MemoryOptimized_M350",
    "MemoryOptimized_M500",
    "MemoryOptimized_M700",
    "MemoryOptimized_M1000",
    "MemoryOptimized_M1500",
    "MemoryOptimized_M2000",
    "ComputeOptimized_X3",
    "ComputeOptimized_X5",
    "ComputeOptimized_X10",
    "ComputeOptimized_X20",
    "ComputeOptimized_X50",
    "ComputeOptimized_X100",
    "ComputeOptimized_X150",
    "ComputeOptimized_X250",
    "ComputeOptimized_X350",
    "ComputeOptimized_X500",
    "ComputeOptimized_X700",
    "FlashOptimized_A250",
    "FlashOptimized_A500",
    "FlashOptimized_A700",
    "FlashOptimized_A1000",
    "FlashOptimized_A1500",
    "FlashOptimized_A2000",
    "FlashOptimized_A4500",
];
/// Largest LLM message an APIM diagnostic logs (the API's maximum, 256 KiB).
pub(crate) const LLM_MAX_MESSAGE_BYTES: u32 = 262_144;
/// WAF policy modes.
pub(crate) const WAF_MODES: &[&str] = &["Prevention", "Detection"];
/// Environment variables the tool sets on the Open WebUI container itself.
pub(crate) const RESERVED_ENV_VARS: &[&str] = &[
    "WEBUI_URL",
    "ENABLE_OAUTH_SIGNUP",
    "ENABLE_LOGIN_FORM",
    "ENABLE_OAUTH_PERSISTENT_CONFIG",
    "OAUTH_CLIENT_ID",
    "OAUTH_CODE_CHALLENGE_METHOD",
    "OAUTH_PROVIDER_NAME",
    "OAUTH_SCOPES",
    "OPENID_PROVIDER_URL",
    "OAUTH_EMAIL_CLAIM",
    "OAUTH_USERNAME_CLAIM",
    "OPENAI_API_BASE_URL",
    "ENABLE_OAUTH_ROLE_MANAGEMENT",
    "OAUTH_ROLES_CLAIM",
    "OAUTH_ALLOWED_ROLES",
    "OAUTH_ADMIN_ROLES",
    "ENABLE_OAUTH_GROUP_MANAGEMENT",
    "ENABLE_OAUTH_GROUP_CREATION",
    "OAUTH_GROUPS_CLAIM",
    "ENABLE_SIGNUP",
    "DEFAULT_USER_ROLE",
    "WEBUI_SESSION_COOKIE_SECURE",
    "DATABASE_URL",
    "WEBUI_SECRET_KEY",
    "VECTOR_DB",
    "ENABLE_WEBSOCKET_SUPPORT",
    "WEBSOCKET_MANAGER",
    "WEBSOCKET_REDIS_URL",
    "REDIS_URL",
];
/// The ownership tag the tool adds to everything.
pub(crate) const OWNERSHIP_TAG: &str = "owui-deploy-env";
/// The tag listing the keys of `[tags]` (the engine's `MANAGED_TAGS_TAG`).
pub(crate) const MANAGED_TAGS_TAG: &str = "owui-deploy-tags";
/// Azure's longest tag value (the managed-keys tag holds the keys of `[tags]`).
const MAX_TAG_VALUE: usize = 256;

/// The bounds the checks below apply to an integer key (`[i]` indices removed):
/// (lowest, highest if any). Used to word the error for a value of the wrong
/// sign or size (`tokens_per_minute = -5`), which never reaches these checks.
pub(crate) fn integer_bounds(path: &str) -> Option<(u64, Option<u64>)> {
    let mut key = String::with_capacity(path.len());
    let mut in_index = false;
    for ch in path.chars() {
        match ch {
            '[' => in_index = true,
            ']' => in_index = false,
            c if !in_index => key.push(c),
            _ => {}
        }
    }
    match key.as_str() {
        "hub.log_retention_days" => Some((30, Some(730))),
        "spoke.file_share_quota_gib" => Some((1, Some(102_400))),
        "app_gateway.capacity" => Some((1, Some(125))),
        "container_app.max_replicas" => Some((1, Some(300))),
        "apim.capacity"
        | "apim.token_limit.tokens_per_minute"
        | "apim.token_limit.token_quota"
        | "foundry.deployments.capacity"
        | "foundry.pool.priority"
        | "foundry.pool.weight" => Some((1, None)),
        _ => None,
    }
}

struct Checker<'a> {
    spans: &'a SpanIndex,
    pos: &'a Pos<'a>,
    dir: &'a Path,
    allow_outside_paths: bool,
    problems: Vec<Problem>,
}

fn list(items: &[&str]) -> String {
    items.join(", ")
}

impl Checker<'_> {
    fn push(&mut self, key: &str, code: &'static str, message: String) {
        let span = self.spans.values.get(key).cloned();
        self.problems
            .push(self.pos.problem(span, key.to_string(), code, message));
    }

    fn push_at_key(&mut self, key: &str, code: &'static str, message: String) {
        let span = self
            .spans
            .keys
            .get(key)
            .or_else(|| self.spans.values.get(key))
            .cloned();
        self.problems
            .push(self.pos.problem(span, key.to_string(), code, message));
    }

    fn name(&mut self, key: &str, value: &str, rule: &NameRule) {
        if let Err(m) = rule.check(value) {
            self.push(key, "invalid-name", m);
        }
    }

    fn non_empty(&mut self, key: &str, value: &str, what: &str) -> bool {
        if value.trim().is_empty() {
            self.push(key, "empty-value", format!("{what} must not be empty"));
            false
        } else {
            true
        }
    }

    fn guid(&mut self, key: &str, value: &str) {
        if let Err(m) = rules::check_guid(value) {
            self.push(key, "invalid-guid", m);
        }
    }

    fn positive(&mut self, key: &str, value: u64, what: &str) {
        if value == 0 {
            self.push(
                key,
                "not-positive",
                format!("{what} must be greater than 0"),
            );
        }
    }

    /// See [`integer_bounds`], which states these bounds for values that do not
    /// even fit the key's type (e.g. negative).
    fn range(&mut self, key: &str, value: u64, lo: u64, hi: u64, what: &str) {
        if value < lo || value > hi {
            self.push(
                key,
                "out-of-range",
                format!("{what} must be from {lo} to {hi}, not {value}"),
            );
        }
    }

    fn one_of(
        &mut self,
        key: &str,
        value: &str,
        allowed: &[&str],
        code: &'static str,
        what: &str,
        note: &str,
    ) {
        if allowed.contains(&value) {
            return;
        }
        let mut msg = format!("{what} '{value}' is not one of {}", list(allowed));
        if let Some(s) = rules::did_you_mean(value, allowed.iter().copied()) {
            msg.push_str(&format!("; did you mean '{s}'?"));
        }
        msg.push_str(note);
        self.push(key, code, msg);
    }

    fn location(&mut self, key: &str, value: &str, cloud: &CloudSetting) {
        if !self.non_empty(key, value, "location") {
            return;
        }
        let Some(named) = cloud.named() else {
            return; // custom clouds have their own regions
        };
        let regions = regions::regions_of(named);
        let norm = normalize_location(value);
        if regions.contains(&norm.as_str()) {
            return;
        }
        let mut msg = format!("unknown Azure region '{value}' for {named:?}");
        if let Some(s) = rules::did_you_mean(&norm, regions.iter().copied()) {
            msg.push_str(&format!("; did you mean '{s}'?"));
        } else {
            msg.push_str(" (use a region name like 'uksouth' or 'UK South')");
        }
        self.push(key, "unknown-location", msg);
    }

    /// A file the tool reads: inside the environment file's folder (unless
    /// `--allow-outside-paths`), a regular file of at most `cap` bytes.
    /// Returns the path when the file is readable.
    fn file(&mut self, key: &str, value: &str, what: &str, cap: u64) -> Option<std::path::PathBuf> {
        let p = self.confined(key, value, what)?;
        match crate::files::check_readable(&p, cap) {
            Ok(()) => return Some(p),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.push(
                key,
                "file-not-found",
                format!(
                    "{what} '{value}' not found (looked for {}; relative paths start at the environment file's directory)",
                    p.display()
                ),
            ),
            Err(e) => self.push(
                key,
                if e.kind() == std::io::ErrorKind::InvalidInput {
                    "file-refused"
                } else {
                    "io-error"
                },
                format!("{what} '{value}' ({}) {e}", p.display()),
            ),
        }
        None
    }

    /// A file the tool writes (and reads back when it exists): inside the environment
    /// file's folder (unless `--allow-outside-paths`); if it exists, a regular file of at
    /// most `cap` bytes.
    fn written_file(&mut self, key: &str, value: &str, what: &str, cap: u64) {
        let Some(p) = self.confined(key, value, what) else {
            return;
        };
        match crate::files::check_readable(&p, cap) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => self.push(
                key,
                "file-refused",
                format!("{what} '{value}' ({}) {e}", p.display()),
            ),
        }
    }

    /// `value` resolved against the environment file's folder, or a problem when it may
    /// not leave it and does.
    fn confined(&mut self, key: &str, value: &str, what: &str) -> Option<std::path::PathBuf> {
        if !self.non_empty(key, value, what) {
            return None;
        }
        match crate::files::confine(self.dir, value, self.allow_outside_paths) {
            Ok(p) => Some(p),
            Err(problem) => {
                self.push(key, "path-outside", format!("{what} '{value}' {problem}"));
                None
            }
        }
    }

    /// The trusted root certificate file, already found readable at `path` by
    /// [`Checker::file`], holds one certificate in a form
    /// [`certificate::trusted_root_base64`] accepts.
    fn trusted_root(&mut self, value: &str, path: &std::path::Path) {
        let key = "domain.trusted_root_certificate_path";
        let problem = match crate::files::read_capped(path, crate::files::MAX_TRUSTED_ROOT) {
            Ok(bytes) => match certificate::trusted_root_base64(&bytes) {
                Ok(_) => return,
                Err(why) => why,
            },
            Err(e) => format!("cannot be read: {e}"),
        };
        self.push(
            key,
            "invalid-certificate",
            format!("trusted root certificate file '{value}': {problem}"),
        );
    }

    fn https_url(&mut self, key: &str, value: &str) {
        let ok = value
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
        if !ok {
            self.push(
                key,
                "invalid-url",
                "must be an https:// URL with a host name".into(),
            );
        }
    }

    /// `net` must lie inside `vnet`.
    fn inside(&mut self, key: &str, net: Ipv4Net, vnet: Ipv4Net, vnet_key: &str) {
        if !vnet.contains(&net) {
            self.push(
                key,
                "cidr-outside-vnet",
                format!("subnet {net} is not inside the VNet address space {vnet} ({vnet_key})"),
            );
        }
    }

    fn min_size(&mut self, key: &str, net: Ipv4Net, max_prefix: u8, why: &str) {
        if net.prefix_len() > max_prefix {
            self.push(
                key,
                "subnet-too-small",
                format!(
                    "{why} needs a /{max_prefix} or larger subnet, not /{}",
                    net.prefix_len()
                ),
            );
        }
    }
}

fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Runs every semantic rule.
pub(crate) fn check(
    env: &Environment,
    spans: &SpanIndex,
    pos: &Pos<'_>,
    dir: &Path,
    allow_outside_paths: bool,
) -> Vec<Problem> {
    let mut c = Checker {
        spans,
        pos,
        dir,
        allow_outside_paths,
        problems: Vec::new(),
    };
    check_azure(&mut c, env);
    check_tags(&mut c, env);
    check_ignore_tags(&mut c, env);
    check_hub(&mut c, env);
    check_networks(&mut c, env);
    check_apim(&mut c, env);
    check_token_limit(&mut c, env);
    check_apim_documents(&mut c, env);
    check_spoke(&mut c, env);
    check_shared_resource_group_names(&mut c, env);
    check_foundry(&mut c, env);
    check_postgres(&mut c, env);
    check_container_app(&mut c, env);
    check_redis(&mut c, env);
    check_app_gateway(&mut c, env);
    check_domain(&mut c, env);
    check_entra(&mut c, env);
    c.problems
}

/// The top level and `[azure]`: name, ids, location, custom cloud endpoints, sandbox
/// settings.
fn check_azure(c: &mut Checker<'_>, env: &Environment) {
    let cloud = &env.azure.cloud;
    c.name("name", &env.name, &rules::ENVIRONMENT_NAME);
    c.guid("azure.subscription_id", &env.azure.subscription_id);
    c.guid("azure.tenant_id", &env.azure.tenant_id);
    c.location("azure.location", &env.azure.location, cloud);
    if let CloudSetting::Custom(custom) = cloud {
        c.https_url("azure.cloud.resource_manager", &custom.resource_manager);
        c.https_url("azure.cloud.graph", &custom.graph);
        c.https_url("azure.cloud.authority", &custom.authority);
        if let Some(aud) = &custom.resource_manager_audience {
            c.https_url("azure.cloud.resource_manager_audience", aud);
        }
        if let Some(ca) = &custom.ca_file {
            c.file(
                "azure.cloud.ca_file",
                ca,
                "CA certificate file",
                crate::files::MAX_CA_FILE,
            );
        }
    }
    let ts = env.azure.sandbox.time_scale;
    if !(ts.is_finite() && ts > 0.0) {
        c.push(
            "azure.sandbox.time_scale",
            "not-positive",
            "time_scale must be a number greater than 0 (e.g. 0.001)".into(),
        );
    }
    c.written_file(
        "azure.sandbox.state_file",
        &env.azure.sandbox.state_file,
        "state_file",
        crate::files::MAX_SANDBOX_STATE,
    );
}

/// `[hub]`: resource names, location, retention and the public IPs' names and DNS label.
fn check_hub(c: &mut Checker<'_>, env: &Environment) {
    let cloud = &env.azure.cloud;
    let hub = &env.hub;
    c.name(
        "hub.resource_group",
        &hub.resource_group,
        &rules::RESOURCE_GROUP,
    );
    if let Some(l) = &hub.location {
        c.location("hub.location", l, cloud);
    }
    c.name("hub.vnet_name", &hub.vnet_name, &rules::VNET);
    c.name("hub.apim_nsg_name", &hub.apim_nsg_name, &rules::NSG);
    c.name(
        "hub.apim_route_table_name",
        &hub.apim_route_table_name,
        &rules::ROUTE_TABLE,
    );
    c.name(
        "hub.log_analytics_name",
        &hub.log_analytics_name,
        &rules::LOG_ANALYTICS,
    );
    c.range(
        "hub.log_retention_days",
        hub.log_retention_days.into(),
        30,
        730,
        "log_retention_days",
    );
    c.name(
        "hub.app_insights_name",
        &hub.app_insights_name,
        &rules::APP_INSIGHTS,
    );
    c.name(
        "hub.appgw_public_ip_name",
        &hub.appgw_public_ip_name,
        &rules::PUBLIC_IP,
    );
    c.name(
        "hub.apim_public_ip_name",
        &hub.apim_public_ip_name,
        &rules::PUBLIC_IP,
    );
    if hub
        .apim_public_ip_name
        .eq_ignore_ascii_case(&hub.appgw_public_ip_name)
    {
        c.push(
            "hub.apim_public_ip_name",
            "duplicate-name",
            "the APIM and App Gateway public IPs need different names (hub.appgw_public_ip_name)"
                .into(),
        );
    }
    if let Err(m) = rules::DNS_LABEL.check(&hub.apim_public_ip_dns_label) {
        c.push("hub.apim_public_ip_dns_label", "invalid-dns-label", m);
    }
    c.name(
        "hub.appgw_identity_name",
        &hub.appgw_identity_name,
        &rules::IDENTITY_RULE,
    );
    c.name("hub.key_vault_name", &hub.key_vault_name, &rules::KEY_VAULT);
}

/// Networks: hub subnets inside the hub VNet, not overlapping and large enough; the
/// Container Apps subnet; hub and spoke address spaces apart.
fn check_networks(c: &mut Checker<'_>, env: &Environment) {
    let hub = &env.hub;
    let hs = &hub.subnets;
    let hub_subnets = [
        ("hub.subnets.apim", hs.apim),
        ("hub.subnets.appgw", hs.appgw),
        ("hub.subnets.private_endpoints", hs.private_endpoints),
    ];
    for (k, net) in hub_subnets {
        c.inside(k, net, hub.address_space, "hub.address_space");
    }
    for i in 0..hub_subnets.len() {
        for j in 0..i {
            let (ki, ni) = hub_subnets[i];
            let (kj, nj) = hub_subnets[j];
            if overlaps(ni, nj) {
                c.push(
                    ki,
                    "subnet-overlap",
                    format!("subnet {ni} overlaps {kj} ({nj})"),
                );
            }
        }
    }
    c.min_size(
        "hub.subnets.apim",
        hs.apim,
        28,
        "API Management (stv2, VNet-injected)",
    );
    c.min_size(
        "hub.subnets.appgw",
        hs.appgw,
        26,
        "Application Gateway v2 (Microsoft's recommendation, room to autoscale)",
    );
    c.min_size(
        "hub.subnets.private_endpoints",
        hs.private_endpoints,
        29,
        "an Azure subnet",
    );
    let sp = &env.spoke;
    c.inside(
        "spoke.container_apps_subnet",
        sp.container_apps_subnet,
        sp.address_space,
        "spoke.address_space",
    );
    c.min_size(
        "spoke.container_apps_subnet",
        sp.container_apps_subnet,
        23,
        "a Container Apps consumption-only environment",
    );
    if overlaps(hub.address_space, sp.address_space) {
        c.push(
            "spoke.address_space",
            "address-space-overlap",
            format!(
                "spoke address space {} overlaps the hub address space {} (hub.address_space); peered VNets must not overlap",
                sp.address_space, hub.address_space
            ),
        );
    }
}

/// `[apim]`: name, SKU and the units it allows, log size, publisher and product.
fn check_apim(c: &mut Checker<'_>, env: &Environment) {
    let apim = &env.apim;
    c.name("apim.name", &apim.name, &rules::APIM);
    c.one_of(
        "apim.sku",
        &apim.sku,
        APIM_SKUS,
        "invalid-sku",
        "API Management SKU",
        " (the gateway is VNet-injected in internal mode, which needs a classic tier; v2 tiers and Consumption are not supported)",
    );
    c.positive("apim.capacity", apim.capacity.into(), "capacity");
    c.range(
        "apim.llm_log_max_message_bytes",
        apim.llm_log_max_message_bytes.into(),
        1,
        u64::from(LLM_MAX_MESSAGE_BYTES),
        "llm_log_max_message_bytes",
    );
    let max_units = match apim.sku.as_str() {
        "Developer" => Some(1),
        "Basic" => Some(2),
        "Standard" => Some(4),
        _ => None,
    };
    if let Some(max) = max_units
        && apim.capacity > max
    {
        c.push(
            "apim.capacity",
            "out-of-range",
            format!(
                "the {} SKU allows at most {max} unit{}, not {}",
                apim.sku,
                if max == 1 { "" } else { "s" },
                apim.capacity
            ),
        );
    }
    if let Err(m) = rules::check_email(&apim.publisher_email) {
        c.push(
            "apim.publisher_email",
            "invalid-email",
            format!("publisher_email {m}"),
        );
    }
    c.name(
        "apim.publisher_name",
        &apim.publisher_name,
        &rules::display_name("publisher name"),
    );
    c.name(
        "apim.product_name",
        &apim.product_name,
        &rules::APIM_PRODUCT,
    );
}

/// `[apim.token_limit]`: positive limits, quota and period set together, roles known
/// to `[entra]`.
fn check_token_limit(c: &mut Checker<'_>, env: &Environment) {
    let apim = &env.apim;
    let tl = &apim.token_limit;
    c.positive(
        "apim.token_limit.tokens_per_minute",
        tl.tokens_per_minute,
        "tokens_per_minute",
    );
    if let Some(q) = tl.token_quota {
        c.positive("apim.token_limit.token_quota", q, "token_quota");
        if tl.quota_period.is_none() {
            c.push(
                "apim.token_limit.token_quota",
                "quota-period-required",
                "token_quota needs quota_period (Hourly, Daily, Weekly, Monthly or Yearly) in [apim.token_limit]".into(),
            );
        }
    }
    if let Some(p) = &tl.quota_period {
        c.one_of(
            "apim.token_limit.quota_period",
            p,
            QUOTA_PERIODS,
            "invalid-quota-period",
            "quota period",
            "",
        );
        if tl.token_quota.is_none() {
            c.push(
                "apim.token_limit.quota_period",
                "token-quota-required",
                "quota_period is set but token_quota is not; set both or neither".into(),
            );
        }
    }
    if tl.allowed_roles.is_empty() {
        c.push(
            "apim.token_limit.allowed_roles",
            "empty-value",
            "allowed_roles must name at least one role, or nobody gets through the gateway".into(),
        );
    }
    for (i, r) in tl.allowed_roles.iter().enumerate() {
        // With no roles at all, entra.roles itself is the problem (reported below).
        if !env.entra.roles.is_empty() && !env.entra.roles.iter().any(|x| x == r) {
            c.push(
                &format!("apim.token_limit.allowed_roles[{i}]"),
                "unknown-role",
                format!(
                    "role '{r}' is not one of entra.roles ({})",
                    env.entra.roles.join(", ")
                ),
            );
        }
    }
}

/// `[apim]` documents: the OpenAPI description (file or https URL) and the policy file.
fn check_apim_documents(c: &mut Checker<'_>, env: &Environment) {
    let apim = &env.apim;
    if let Some(o) = &apim.openapi {
        if o.starts_with("https://") {
            c.https_url("apim.openapi", o);
        } else if o.contains("://") {
            c.push(
                "apim.openapi",
                "invalid-url",
                "openapi must be a file path or an https:// URL".into(),
            );
        } else {
            c.file(
                "apim.openapi",
                o,
                "OpenAPI document",
                crate::files::MAX_OPENAPI,
            );
        }
    }
    if let Some(p) = &apim.policy_file {
        c.file(
            "apim.policy_file",
            p,
            "policy file",
            crate::files::MAX_POLICY,
        );
    }
}

/// `[spoke]`: resource group, subscription, location, resource names and the file
/// share quota.
fn check_spoke(c: &mut Checker<'_>, env: &Environment) {
    let cloud = &env.azure.cloud;
    let hub = &env.hub;
    let sp = &env.spoke;
    c.name(
        "spoke.resource_group",
        &sp.resource_group,
        &rules::RESOURCE_GROUP,
    );
    if let Some(s) = &sp.subscription_id {
        c.guid("spoke.subscription_id", s);
    }
    if let Some(l) = &sp.location {
        c.location("spoke.location", l, cloud);
    }
    c.name("spoke.vnet_name", &sp.vnet_name, &rules::VNET);
    c.name("spoke.nsg_name", &sp.nsg_name, &rules::NSG);
    c.name(
        "spoke.key_vault_name",
        &sp.key_vault_name,
        &rules::KEY_VAULT,
    );
    c.name(
        "spoke.storage_account_name",
        &sp.storage_account_name,
        &rules::STORAGE_ACCOUNT,
    );
    c.name(
        "spoke.file_share_name",
        &sp.file_share_name,
        &rules::FILE_SHARE,
    );
    c.range(
        "spoke.file_share_quota_gib",
        sp.file_share_quota_gib.into(),
        1,
        102_400,
        "file_share_quota_gib",
    );
    if sp.key_vault_name.eq_ignore_ascii_case(&hub.key_vault_name) {
        c.push(
            "spoke.key_vault_name",
            "duplicate-name",
            "the spoke Key Vault needs a name different from hub.key_vault_name (Key Vault names are globally unique)".into(),
        );
    }
}

/// Hub and spoke in one resource group: the names both declare must differ.
fn check_shared_resource_group_names(c: &mut Checker<'_>, env: &Environment) {
    let hub = &env.hub;
    let sp = &env.spoke;
    let same_rg = hub.resource_group.eq_ignore_ascii_case(&sp.resource_group)
        && env
            .spoke_subscription_id()
            .eq_ignore_ascii_case(&env.azure.subscription_id);
    if same_rg {
        for (key, a, other, b) in [
            (
                "spoke.vnet_name",
                &sp.vnet_name,
                "hub.vnet_name",
                &hub.vnet_name,
            ),
            (
                "spoke.nsg_name",
                &sp.nsg_name,
                "hub.apim_nsg_name",
                &hub.apim_nsg_name,
            ),
            (
                "container_app.environment_identity_name",
                &env.container_app.environment_identity_name,
                "hub.appgw_identity_name",
                &hub.appgw_identity_name,
            ),
        ] {
            if a.eq_ignore_ascii_case(b) {
                c.push(
                    key,
                    "duplicate-name",
                    format!("hub and spoke share a resource group, so this name must differ from {other}"),
                );
            }
        }
    }
}

/// `[postgres]`: server name, version, tier and SKU, storage size, then
/// [`check_postgres_access`].
fn check_postgres(c: &mut Checker<'_>, env: &Environment) {
    let pg = &env.postgres;
    c.name(
        "postgres.server_name",
        &pg.server_name,
        &rules::POSTGRES_SERVER,
    );
    c.one_of(
        "postgres.version",
        &pg.version,
        POSTGRES_VERSIONS,
        "invalid-value",
        "PostgreSQL version",
        "",
    );
    let tier = POSTGRES_TIERS.iter().find(|(t, _)| *t == pg.tier);
    match tier {
        None => {
            let names: Vec<&str> = POSTGRES_TIERS.iter().map(|(t, _)| *t).collect();
            c.one_of(
                "postgres.tier",
                &pg.tier,
                &names,
                "invalid-value",
                "compute tier",
                "",
            );
        }
        Some((t, prefix)) => {
            if !pg.sku.starts_with(prefix) {
                c.push(
                    "postgres.sku",
                    "invalid-value",
                    format!("SKU '{}' does not belong to the {t} tier (its SKUs start with {prefix}, e.g. {prefix}1ms or {prefix}2s)", pg.sku),
                );
            }
        }
    }
    if !POSTGRES_STORAGE_GB.contains(&pg.storage_gb) {
        let sizes: Vec<String> = POSTGRES_STORAGE_GB.iter().map(u32::to_string).collect();
        c.push(
            "postgres.storage_gb",
            "invalid-value",
            format!(
                "storage_gb must be one of {}, not {}",
                sizes.join(", "),
                pg.storage_gb
            ),
        );
    }
    check_postgres_access(c, env);
}

/// `[postgres]` administrator login (not one PostgreSQL reserves), database and
/// extension names.
fn check_postgres_access(c: &mut Checker<'_>, env: &Environment) {
    let pg = &env.postgres;
    c.name(
        "postgres.admin_login",
        &pg.admin_login,
        &rules::POSTGRES_LOGIN,
    );
    let login = pg.admin_login.to_ascii_lowercase();
    if POSTGRES_RESERVED_LOGINS.contains(&login.as_str()) || login.starts_with("pg_") {
        c.push(
            "postgres.admin_login",
            "invalid-name",
            format!(
                "PostgreSQL refuses '{}' as administrator login (reserved: {}, or a pg_ prefix)",
                pg.admin_login,
                list(POSTGRES_RESERVED_LOGINS)
            ),
        );
    }
    c.name("postgres.database", &pg.database, &rules::POSTGRES_DATABASE);
    for (i, x) in pg.extensions.iter().enumerate() {
        let valid = !x.is_empty()
            && x.len() <= 63
            && x.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
        if !valid {
            c.push(
                &format!("postgres.extensions[{i}]"),
                "invalid-value",
                "an extension name has 1-63 letters, digits, '_' or '-' (as listed by azure.extensions, e.g. PG_TRGM)".into(),
            );
        }
    }
}

/// `[app_gateway]`: name, SKU, capacity, WAF policy name and mode.
fn check_app_gateway(c: &mut Checker<'_>, env: &Environment) {
    let ag = &env.app_gateway;
    c.name("app_gateway.name", &ag.name, &rules::APP_GATEWAY);
    c.one_of(
        "app_gateway.sku",
        &ag.sku,
        APPGW_SKUS,
        "invalid-sku",
        "Application Gateway SKU",
        "",
    );
    c.range(
        "app_gateway.capacity",
        ag.capacity.into(),
        1,
        125,
        "capacity",
    );
    c.name(
        "app_gateway.waf_policy_name",
        &ag.waf_policy_name,
        &rules::WAF_POLICY,
    );
    c.one_of(
        "app_gateway.waf_mode",
        &ag.waf_mode,
        WAF_MODES,
        "invalid-waf-mode",
        "WAF mode",
        "",
    );
}

/// `[domain]`: the custom domain and the certificate files.
fn check_domain(c: &mut Checker<'_>, env: &Environment) {
    let d = &env.domain;
    if let Err(m) = rules::check_fqdn(&d.custom_domain) {
        c.push(
            "domain.custom_domain",
            "invalid-domain",
            format!("custom_domain {m}"),
        );
    }
    if let Some(p) = &d.certificate_pfx_path {
        c.file(
            "domain.certificate_pfx_path",
            p,
            "certificate file",
            crate::files::MAX_CERTIFICATE,
        );
    }
    if let Some(p) = &d.trusted_root_certificate_path
        && let Some(path) = c.file(
            "domain.trusted_root_certificate_path",
            p,
            "trusted root certificate file",
            crate::files::MAX_TRUSTED_ROOT,
        )
    {
        c.trusted_root(p, &path);
    }
}

/// `[entra]`: application names and the app roles (present, valid, unique).
fn check_entra(c: &mut Checker<'_>, env: &Environment) {
    let e = &env.entra;
    c.name(
        "entra.app_name",
        &e.app_name,
        &rules::display_name("application name"),
    );
    c.name("entra.unique_name", &e.unique_name, &rules::UNIQUE_NAME);
    c.name(
        "entra.provider_name",
        &e.provider_name,
        &rules::display_name("provider name"),
    );
    if e.roles.is_empty() {
        c.push(
            "entra.roles",
            "empty-value",
            "roles must list at least one app role value (default: admin, user)".into(),
        );
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, r) in e.roles.iter().enumerate() {
        let key = format!("entra.roles[{i}]");
        if !c.non_empty(&key, r, "a role value") {
            continue;
        }
        if r.len() > 120 || r.starts_with('.') || r.chars().any(|ch| !ch.is_ascii_graphic()) {
            c.push(
                &key,
                "invalid-value",
                "an app role value has at most 120 printable ASCII characters, no spaces, and does not start with '.'".into(),
            );
        }
        if let Some(first) = seen.insert(r.to_ascii_lowercase(), i) {
            c.push(
                &key,
                "duplicate-name",
                format!("role '{r}' is already listed at entra.roles[{first}]"),
            );
        }
    }
}

fn check_tags(c: &mut Checker<'_>, env: &Environment) {
    if env.tags.len() > 48 {
        c.push(
            "tags",
            "invalid-tag",
            format!(
                "at most 48 tags (Azure allows 50 and the tool adds {OWNERSHIP_TAG} and {MANAGED_TAGS_TAG}), not {}",
                env.tags.len()
            ),
        );
    }
    let listed: usize = env.tags.keys().map(|k| k.chars().count() + 1).sum();
    if listed > MAX_TAG_VALUE + 1 {
        c.push(
            "tags",
            "invalid-tag",
            format!(
                "the tag names together have {} characters (with a comma between them); \
                 the tool lists them in the tag {MANAGED_TAGS_TAG}, whose value Azure limits to {MAX_TAG_VALUE}",
                listed - 1
            ),
        );
    }
    for (k, v) in &env.tags {
        let key = format!("tags.{k}");
        let lower = k.to_ascii_lowercase();
        if lower == OWNERSHIP_TAG || lower == MANAGED_TAGS_TAG {
            c.push_at_key(
                &key,
                "reserved-tag",
                format!(
                    "the tool sets {OWNERSHIP_TAG} (to the environment name) and {MANAGED_TAGS_TAG} (the names of [tags]) itself; remove it"
                ),
            );
        } else if k.contains(',') {
            c.push_at_key(
                &key,
                "invalid-tag",
                format!("a tag name in [tags] has no comma (the tool lists the names, comma-separated, in {MANAGED_TAGS_TAG})"),
            );
        } else if env.ignore_tags.iter().any(|i| i.eq_ignore_ascii_case(k)) {
            c.push_at_key(
                &key,
                "invalid-tag",
                "this tag is also in ignore_tags: set it here or ignore it, not both".into(),
            );
        } else if k.is_empty()
            || k.chars().count() > 512
            || k.chars()
                .any(|ch| "<>%&\\?/".contains(ch) || ch.is_control())
        {
            c.push_at_key(
                &key,
                "invalid-tag",
                "a tag name has 1-512 characters and none of < > % & \\ ? /".into(),
            );
        } else if ["microsoft", "azure", "windows"]
            .iter()
            .any(|p| lower.starts_with(p))
        {
            c.push_at_key(
                &key,
                "invalid-tag",
                "tag names starting with microsoft, azure or windows are reserved by Azure".into(),
            );
        }
        if v.chars().count() > 256 {
            c.push(
                &key,
                "invalid-tag",
                "a tag value has at most 256 characters".into(),
            );
        }
    }
}

fn check_ignore_tags(c: &mut Checker<'_>, env: &Environment) {
    for (i, k) in env.ignore_tags.iter().enumerate() {
        let key = format!("ignore_tags[{i}]");
        let lower = k.to_ascii_lowercase();
        if lower == OWNERSHIP_TAG || lower == MANAGED_TAGS_TAG {
            c.push(
                &key,
                "reserved-tag",
                format!("the tool always manages {k}; it cannot be ignored"),
            );
        } else if k.is_empty() || k.chars().count() > 512 {
            c.push(
                &key,
                "invalid-tag",
                "a tag name has 1-512 characters".into(),
            );
        }
    }
}

/// `[foundry]`: the main account's name, subdomain and location, then its deployments
/// and the backend pool.
fn check_foundry(c: &mut Checker<'_>, env: &Environment) {
    let f = &env.foundry;
    let cloud = &env.azure.cloud;
    c.name("foundry.name", &f.name, &rules::FOUNDRY_ACCOUNT);
    if let Some(s) = &f.custom_subdomain {
        c.name("foundry.custom_subdomain", s, &rules::FOUNDRY_SUBDOMAIN);
    }
    if let Some(l) = &f.location {
        c.location("foundry.location", l, cloud);
    }
    check_deployments(c, env);
    check_pool(c, env);
}

/// `[[foundry.deployments]]`: unique valid names, model fields set, SKU and capacity.
fn check_deployments(c: &mut Checker<'_>, env: &Environment) {
    let f = &env.foundry;
    let mut names: HashMap<String, String> = HashMap::new();
    for (i, d) in f.deployments.iter().enumerate() {
        let p = format!("foundry.deployments[{i}]");
        if c.non_empty(&format!("{p}.name"), &d.name, "deployment name") {
            c.name(&format!("{p}.name"), &d.name, &rules::MODEL_DEPLOYMENT);
            if let Some(first) = names.insert(d.name.to_ascii_lowercase(), p.clone()) {
                c.push(
                    &format!("{p}.name"),
                    "duplicate-name",
                    format!(
                        "deployment name '{}' is already used by {first} (names are unique per account, case-insensitively)",
                        d.name
                    ),
                );
            }
        }
        c.non_empty(&format!("{p}.format"), &d.format, "model format");
        c.non_empty(&format!("{p}.model"), &d.model, "model name");
        c.non_empty(&format!("{p}.version"), &d.version, "model version");
        c.one_of(
            &format!("{p}.sku"),
            &d.sku,
            DEPLOYMENT_SKUS,
            "invalid-sku",
            "deployment SKU",
            "",
        );
        c.positive(&format!("{p}.capacity"), d.capacity.into(), "capacity");
    }
}

/// `[[foundry.pool]]`: each member's name, location, subdomain and weights; account
/// names and subdomains unique with the main account's.
fn check_pool(c: &mut Checker<'_>, env: &Environment) {
    let f = &env.foundry;
    let cloud = &env.azure.cloud;
    let mut accounts: HashMap<String, String> = HashMap::new();
    let mut subdomains: HashMap<String, String> = HashMap::new();
    accounts.insert(f.name.to_ascii_lowercase(), "foundry.name".into());
    subdomains.insert(
        f.custom_subdomain
            .as_deref()
            .unwrap_or(&f.name)
            .to_ascii_lowercase(),
        "foundry".into(),
    );
    for (i, m) in f.pool.iter().enumerate() {
        let p = format!("foundry.pool[{i}]");
        c.name(&format!("{p}.name"), &m.name, &rules::FOUNDRY_ACCOUNT);
        c.location(&format!("{p}.location"), &m.location, cloud);
        if let Some(s) = &m.custom_subdomain {
            c.name(
                &format!("{p}.custom_subdomain"),
                s,
                &rules::FOUNDRY_SUBDOMAIN,
            );
        }
        c.positive(&format!("{p}.priority"), m.priority.into(), "priority");
        c.positive(&format!("{p}.weight"), m.weight.into(), "weight");
        if let Some(first) = accounts.insert(m.name.to_ascii_lowercase(), format!("{p}.name")) {
            c.push(
                &format!("{p}.name"),
                "duplicate-name",
                format!("account name '{}' is already used by {first}", m.name),
            );
        } else {
            let sub = m
                .custom_subdomain
                .as_deref()
                .unwrap_or(&m.name)
                .to_ascii_lowercase();
            if let Some(first) = subdomains.insert(sub, p.clone()) {
                let key = if m.custom_subdomain.is_some() {
                    format!("{p}.custom_subdomain")
                } else {
                    format!("{p}.name")
                };
                c.push(
                    &key,
                    "duplicate-name",
                    format!("custom subdomain is already used by {first} (subdomains are globally unique)"),
                );
            }
        }
    }
}

fn check_redis(c: &mut Checker<'_>, env: &Environment) {
    let Some(r) = &env.redis else { return };
    c.name("redis.name", &r.name, &rules::REDIS_CLUSTER);
    c.one_of(
        "redis.sku",
        &r.sku,
        REDIS_SKUS,
        "invalid-sku",
        "Azure Managed Redis SKU",
        " (Balanced, MemoryOptimized, ComputeOptimized or FlashOptimized tiers)",
    );
}

/// `[container_app]`: names and image, then size, replicas and extra environment.
fn check_container_app(c: &mut Checker<'_>, env: &Environment) {
    let ca = &env.container_app;
    c.name(
        "container_app.environment_name",
        &ca.environment_name,
        &rules::MANAGED_ENVIRONMENT,
    );
    c.name("container_app.name", &ca.name, &rules::CONTAINER_APP);
    c.name(
        "container_app.environment_identity_name",
        &ca.environment_identity_name,
        &rules::IDENTITY_RULE,
    );
    if ca.image.trim().is_empty() || ca.image.chars().any(char::is_whitespace) {
        c.push(
            "container_app.image",
            "invalid-value",
            "image must be a container image reference like ghcr.io/open-webui/open-webui:main (no spaces)".into(),
        );
    }
    check_container_size(c, env);
    check_replicas(c, env);
    check_extra_env(c, env);
}

/// `[container_app]` cpu and memory: a size a consumption environment offers.
fn check_container_size(c: &mut Checker<'_>, env: &Environment) {
    let ca = &env.container_app;
    let quarters = ca.cpu * 4.0;
    let cpu_ok = ca.cpu.is_finite()
        && (0.25..=4.0).contains(&ca.cpu)
        && (quarters - quarters.round()).abs() < 1e-9;
    if !cpu_ok {
        c.push(
            "container_app.cpu",
            "invalid-cpu-memory",
            "cpu must be 0.25 to 4 vCPU in steps of 0.25 in a Container Apps consumption environment".into(),
        );
    } else {
        let want = ca.cpu * 2.0;
        let got = ca
            .memory
            .strip_suffix("Gi")
            .and_then(|n| n.trim().parse::<f64>().ok());
        if got.is_none_or(|g| (g - want).abs() > 1e-9) {
            c.push(
                "container_app.memory",
                "invalid-cpu-memory",
                format!(
                    "{} vCPU needs memory \"{}Gi\" in a consumption environment (2 GiB per vCPU), not \"{}\"",
                    ca.cpu, want, ca.memory
                ),
            );
        }
    }
}

/// `[container_app]` replicas: within bounds, more than one only with Redis.
fn check_replicas(c: &mut Checker<'_>, env: &Environment) {
    let ca = &env.container_app;
    c.range(
        "container_app.max_replicas",
        ca.max_replicas.into(),
        1,
        300,
        "max_replicas",
    );
    if ca.max_replicas > 1 && env.redis.is_none() {
        c.push(
            "container_app.max_replicas",
            "replicas-need-redis",
            format!(
                "max_replicas = {} needs a [redis] table: Open WebUI's replicas share websocket \
                 sessions and app state through Redis (and one WEBUI_SECRET_KEY), so without it \
                 users are signed out and chats stall when a request reaches another replica; \
                 add [redis] or set max_replicas = 1",
                ca.max_replicas
            ),
        );
    }
    if ca.min_replicas > ca.max_replicas {
        c.push(
            "container_app.min_replicas",
            "replicas-range",
            format!(
                "min_replicas ({}) must not exceed max_replicas ({})",
                ca.min_replicas, ca.max_replicas
            ),
        );
    }
}

/// `[container_app.extra_env]`: valid variable names the tool does not set itself.
fn check_extra_env(c: &mut Checker<'_>, env: &Environment) {
    let ca = &env.container_app;
    for k in ca.extra_env.keys() {
        let key = format!("container_app.extra_env.{k}");
        let valid = k
            .chars()
            .next()
            .is_some_and(|ch| ch.is_ascii_alphabetic() || ch == '_')
            && k.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        if !valid {
            c.push_at_key(
                &key,
                "invalid-env-name",
                "an environment variable name has letters, digits and underscores and does not start with a digit".into(),
            );
        } else if RESERVED_ENV_VARS.contains(&k.as_str()) {
            c.push_at_key(
                &key,
                "reserved-env-var",
                format!("{k} is set by owui-deploy itself (from the rest of this file); remove it from extra_env"),
            );
        }
    }
}
