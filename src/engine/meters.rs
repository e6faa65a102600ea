//! The single table mapping each deployed resource type to the Azure Retail Prices meters
//! it consumes ([`METER_TABLE`]), beside the API-versions table of `azure::api_versions`.
//!
//! A row reads the billing dimensions of a resource body (SKU, capacity, storage size,
//! replicas...) and names the meters (`serviceName`, `productName`, `skuName`,
//! `meterName`) with the monthly quantity of each. Prices themselves always come from the
//! API (`azure::pricing`); nothing here is a price. docs/cost.md explains every row.

use crate::azure::pricing::PriceQuery;
use serde_json::Value;

/// Hours in a month, as the Azure pricing calculator counts them.
pub const HOURS_PER_MONTH: f64 = 730.0;
/// Capacity units counted per App Gateway v2 instance (Microsoft's "Scaling Application
/// Gateway v2 and WAF v2" page: each instance is roughly 10 reserved capacity units).
pub const APPGW_CAPACITY_UNITS_PER_INSTANCE: f64 = 10.0;
/// Default Log Analytics ingestion assumed per month (GB), see [`Assumptions`].
pub const DEFAULT_LOG_GB_PER_MONTH: f64 = 5.0;

/// User-settable assumptions of an estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assumptions {
    /// GB ingested into the Log Analytics workspace per month.
    pub log_gb_per_month: f64,
}

impl Default for Assumptions {
    fn default() -> Self {
        Assumptions {
            log_gb_per_month: DEFAULT_LOG_GB_PER_MONTH,
        }
    }
}

/// How a meter's quantity is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Hours of use a month (the price's unit is converted: seconds, hours, days, months).
    Hours,
    /// GB a month (storage, ingestion): the price is per GB.
    Gigabytes,
    /// Priced per use (operations, tokens): shown, not in the total.
    Usage,
}

/// One meter a resource consumes.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterUse {
    /// What is billed, for people (`API Management units`).
    pub what: String,
    /// The Retail Prices query that finds the meter.
    pub query: PriceQuery,
    /// Monthly quantity in `measure` (0 for usage-priced meters).
    pub quantity: f64,
    /// How `quantity` is counted.
    pub measure: Measure,
    /// Unit of `quantity` for people (`unit-h`, `vCPU-h`, `GB`).
    pub unit: &'static str,
    /// The assumption behind the quantity, printed with the figure.
    pub assumption: String,
}

/// What a row needs to know about a resource.
pub struct RowInput<'a> {
    /// The body (desired, or live as read).
    pub body: &'a Value,
    /// Region (`uksouth`), from the body or its parent's.
    pub region: &'a str,
    /// Assumptions.
    pub assumptions: &'a Assumptions,
}

/// A row: resource type and the function listing its meters (`None` when a value it
/// needs is not known yet, e.g. a reference resolved at apply).
pub type MeterRow = (&'static str, fn(&RowInput) -> Option<Vec<MeterUse>>);

/// The table, resource types in ARM's canonical casing. Model deployments are
/// usage-priced (per token) and handled by the estimate itself (`cost::model_prices`).
pub const METER_TABLE: &[MeterRow] = &[
    ("Microsoft.ApiManagement/service", api_management),
    ("Microsoft.Network/applicationGateways", app_gateway),
    ("Microsoft.DBforPostgreSQL/flexibleServers", postgres),
    ("Microsoft.Cache/redisEnterprise", managed_redis),
    ("Microsoft.App/containerApps", container_app),
    ("Microsoft.OperationalInsights/workspaces", log_analytics),
    (
        "Microsoft.Storage/storageAccounts/fileServices/shares",
        file_share,
    ),
    ("Microsoft.Network/publicIPAddresses", public_ip),
    ("Microsoft.Network/privateEndpoints", private_endpoint),
    ("Microsoft.KeyVault/vaults", key_vault),
];

/// The row of `type_name` (case-insensitive).
pub fn row(type_name: &str) -> Option<&'static MeterRow> {
    METER_TABLE
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(type_name))
}

/// A string at `pointer`, unless it is a reference resolved at apply (`${...}`).
fn text<'a>(body: &'a Value, pointer: &str) -> Option<&'a str> {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.starts_with("${"))
}

fn number(body: &Value, pointer: &str) -> Option<f64> {
    body.pointer(pointer).and_then(Value::as_f64)
}

fn hourly(
    what: String,
    query: PriceQuery,
    count: f64,
    unit: &'static str,
    assumption: String,
) -> MeterUse {
    MeterUse {
        what,
        query,
        quantity: count * HOURS_PER_MONTH,
        measure: Measure::Hours,
        unit,
        assumption,
    }
}

fn api_management(i: &RowInput) -> Option<Vec<MeterUse>> {
    let sku = text(i.body, "/sku/name")?;
    let units = number(i.body, "/sku/capacity").unwrap_or(1.0);
    let query = PriceQuery::service("API Management")
        .and("armRegionName", i.region)
        .and("skuName", sku)
        .and("meterName", &format!("{sku} Units"));
    Some(vec![hourly(
        format!("{sku} units"),
        query,
        units,
        "unit-h",
        format!("{units} unit(s) x 730 h"),
    )])
}

fn app_gateway(i: &RowInput) -> Option<Vec<MeterUse>> {
    let sku = text(i.body, "/properties/sku/name")?;
    // `Standard_v2` -> product `Application Gateway Standard v2`, SKU `Standard`.
    let family = sku.split('_').next().unwrap_or(sku);
    let instances = number(i.body, "/properties/sku/capacity").unwrap_or(1.0);
    let base = PriceQuery::service("Application Gateway")
        .and("armRegionName", i.region)
        .and("productName", &format!("Application Gateway {family} v2"))
        .and("skuName", family);
    let units = instances * APPGW_CAPACITY_UNITS_PER_INSTANCE;
    Some(vec![
        hourly(
            format!("{sku} fixed cost"),
            base.clone()
                .and("meterName", &format!("{family} Fixed Cost")),
            1.0,
            "h",
            "gateway running 730 h".into(),
        ),
        hourly(
            format!("{sku} capacity units"),
            base.and("meterName", &format!("{family} Capacity Units")),
            units,
            "CU-h",
            format!(
                "{instances} instance(s) x {APPGW_CAPACITY_UNITS_PER_INSTANCE} capacity units (manual scale) x 730 h"
            ),
        ),
    ])
}

/// `Standard_D4ds_v5` -> (`D`, 4, `Ddsv5`); `Standard_B1ms` -> (`B`, 1, `B1MS`).
pub fn postgres_sku_parts(sku: &str) -> Option<(char, u32, String)> {
    let rest = sku.strip_prefix("Standard_")?;
    let family = rest.chars().next()?;
    let digits: String = rest[1..].chars().take_while(char::is_ascii_digit).collect();
    let vcores = digits.parse().ok()?;
    if family == 'B' {
        return Some((family, vcores, rest.to_ascii_uppercase()));
    }
    let tail = &rest[1 + digits.len()..];
    let (suffix, version) = tail.split_once('_').unwrap_or((tail, ""));
    Some((family, vcores, format!("{family}{suffix}{version}")))
}

/// The compute product of a General Purpose or Memory Optimized series (`Ddsv5`); the
/// Esv3 series has an abbreviated product name in the price list.
fn postgres_product(family: char, series: &str) -> String {
    match (family, series) {
        ('E', "Esv3") => {
            "Az DB for PGSQL Flexible Server Memory Optimized Esv3 Series Compute".into()
        }
        ('E', _) => format!(
            "Azure Database for PostgreSQL Flexible Server Memory Optimized {series} Series Compute"
        ),
        _ => format!(
            "Azure Database for PostgreSQL Flexible Server General Purpose {series} Series Compute"
        ),
    }
}

fn postgres(i: &RowInput) -> Option<Vec<MeterUse>> {
    let sku = text(i.body, "/sku/name")?;
    let storage_gb = number(i.body, "/properties/storage/storageSizeGB").unwrap_or(32.0);
    let (family, vcores, series) = postgres_sku_parts(sku)?;
    let base = PriceQuery::service("Azure Database for PostgreSQL").and("armRegionName", i.region);
    let compute = match family {
        'B' => hourly(
            format!("{sku} compute"),
            base.clone()
                .and(
                    "productName",
                    "Azure Database for PostgreSQL Flexible Server Burstable BS Series Compute",
                )
                .and("skuName", &series)
                .and("meterName", &series),
            1.0,
            "h",
            "server running 730 h".into(),
        ),
        _ => hourly(
            format!("{sku} compute"),
            base.clone()
                .and("productName", &postgres_product(family, &series))
                .and("skuName", "1 vCore")
                .and("meterName", "vCore"),
            f64::from(vcores),
            "vCore-h",
            format!("{vcores} vCore(s) x 730 h"),
        ),
    };
    let storage = MeterUse {
        what: "storage".into(),
        query: base
            .and(
                "productName",
                "Azure Database for PostgreSQL Flex Server Storage",
            )
            .and("meterName", "Storage Data Stored"),
        quantity: storage_gb,
        measure: Measure::Gigabytes,
        unit: "GB",
        assumption: format!("{storage_gb} GB provisioned"),
    };
    Some(vec![compute, storage])
}

fn managed_redis(i: &RowInput) -> Option<Vec<MeterUse>> {
    let sku = text(i.body, "/sku/name")?;
    let size = sku.split_once('_').map(|(_, s)| s).unwrap_or(sku);
    // High availability (the default) runs and bills two nodes.
    let ha = text(i.body, "/properties/highAvailability")
        .is_none_or(|h| !h.eq_ignore_ascii_case("Disabled"));
    let nodes = if ha { 2.0 } else { 1.0 };
    let query = PriceQuery::service("Redis Cache")
        .and("armRegionName", i.region)
        .and("skuName", size)
        .and("meterName", &format!("{size} Cache Instance"));
    Some(vec![hourly(
        format!("Azure Managed Redis {sku}"),
        query,
        nodes,
        "node-h",
        format!(
            "{nodes} node(s) (high availability {}) x 730 h",
            if ha { "on" } else { "off" }
        ),
    )])
}

/// `1.5Gi` -> 1.5 (GiB); `512Mi` -> 0.5.
fn gibibytes(memory: &str) -> Option<f64> {
    let m = memory.trim();
    if let Some(n) = m.strip_suffix("Gi") {
        return n.trim().parse().ok();
    }
    m.strip_suffix("Mi")
        .and_then(|n| n.trim().parse::<f64>().ok())
        .map(|mi| mi / 1024.0)
}

fn container_app(i: &RowInput) -> Option<Vec<MeterUse>> {
    let containers = i
        .body
        .pointer("/properties/template/containers")?
        .as_array()?;
    let mut cpu = 0.0;
    let mut memory = 0.0;
    for c in containers {
        cpu += number(c, "/resources/cpu")?;
        memory += gibibytes(text(c, "/resources/memory")?)?;
    }
    let min = number(i.body, "/properties/template/scale/minReplicas").unwrap_or(0.0);
    let replicas = min.max(1.0);
    let why = format!(
        "{replicas} replica(s) always on (min replicas {min}; the App Gateway's health probes keep one awake) x 730 h"
    );
    let base = PriceQuery::service("Azure Container Apps")
        .and("armRegionName", i.region)
        .and("skuName", "Standard");
    Some(vec![
        hourly(
            "vCPU (active)".into(),
            base.clone().and("meterName", "Standard vCPU Active Usage"),
            cpu * replicas,
            "vCPU-h",
            format!("{cpu} vCPU x {why}"),
        ),
        hourly(
            "memory (active)".into(),
            base.and("meterName", "Standard Memory Active Usage"),
            memory * replicas,
            "GiB-h",
            format!("{memory} GiB x {why}"),
        ),
    ])
}

fn log_analytics(i: &RowInput) -> Option<Vec<MeterUse>> {
    let gb = i.assumptions.log_gb_per_month;
    Some(vec![MeterUse {
        what: "data ingestion".into(),
        query: PriceQuery::service("Log Analytics")
            .and("armRegionName", i.region)
            .and("skuName", "Analytics Logs")
            .and("meterName", "Analytics Logs Data Ingestion"),
        quantity: gb,
        measure: Measure::Gigabytes,
        unit: "GB",
        assumption: format!("{gb} GB ingested a month (assumption: --log-gb-per-month)"),
    }])
}

fn file_share(i: &RowInput) -> Option<Vec<MeterUse>> {
    let quota = number(i.body, "/properties/shareQuota")?;
    let tier = match text(i.body, "/properties/accessTier").unwrap_or("TransactionOptimized") {
        "Hot" => "Hot",
        "Cool" => "Cool",
        _ => "Transaction Optimized",
    };
    let sku = format!("{tier} LRS");
    Some(vec![MeterUse {
        what: format!("Azure Files {sku} data stored"),
        query: PriceQuery::service("Storage")
            .and("armRegionName", i.region)
            .and("productName", "Files v2")
            .and("skuName", &sku)
            .and("meterName", &format!("{sku} Data Stored")),
        quantity: quota,
        measure: Measure::Gigabytes,
        unit: "GB",
        assumption: format!("share full to its quota of {quota} GB (an upper bound)"),
    }])
}

fn public_ip(i: &RowInput) -> Option<Vec<MeterUse>> {
    let sku = text(i.body, "/sku/name").unwrap_or("Standard");
    Some(vec![hourly(
        format!("{sku} static public IPv4"),
        PriceQuery::service("Virtual Network")
            .and("armRegionName", i.region)
            .and("productName", "IP Addresses")
            .and("skuName", sku)
            .and("meterName", &format!("{sku} IPv4 Static Public IP")),
        1.0,
        "h",
        "1 address x 730 h".into(),
    )])
}

fn private_endpoint(i: &RowInput) -> Option<Vec<MeterUse>> {
    Some(vec![hourly(
        "private endpoint".into(),
        PriceQuery::service("Virtual Network")
            .and("armRegionName", i.region)
            .and("productName", "Virtual Network Private Link")
            .and("skuName", "Standard")
            .and("meterName", "Standard Private Endpoint"),
        1.0,
        "h",
        "1 endpoint x 730 h (data processed is usage-priced, not included)".into(),
    )])
}

fn key_vault(i: &RowInput) -> Option<Vec<MeterUse>> {
    let sku = match text(i.body, "/properties/sku/name")? {
        s if s.eq_ignore_ascii_case("premium") => "Premium",
        _ => "Standard",
    };
    Some(vec![MeterUse {
        what: "secret operations".into(),
        query: PriceQuery::service("Key Vault")
            .and("armRegionName", i.region)
            .and("skuName", sku)
            .and("meterName", "Operations"),
        quantity: 0.0,
        measure: Measure::Usage,
        unit: "operation",
        assumption: "usage-priced per operation: a few thousand reads a month cost cents".into(),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn postgres_skus() {
        assert_eq!(
            postgres_sku_parts("Standard_B1ms"),
            Some(('B', 1, "B1MS".into()))
        );
        assert_eq!(
            postgres_sku_parts("Standard_D4ds_v5"),
            Some(('D', 4, "Ddsv5".into()))
        );
        assert_eq!(
            postgres_sku_parts("Standard_E2s_v3"),
            Some(('E', 2, "Esv3".into()))
        );
        assert_eq!(postgres_sku_parts("Basic_1"), None);
    }

    #[test]
    fn managed_redis_bills_two_nodes_unless_high_availability_is_off() {
        let a = Assumptions::default();
        let hours = |ha: &str| {
            let body =
                json!({"sku": {"name": "Balanced_B1"}, "properties": {"highAvailability": ha}});
            let uses = managed_redis(&RowInput {
                body: &body,
                region: "uksouth",
                assumptions: &a,
            })
            .expect("meters");
            assert!(uses[0].query.filter().contains("skuName eq 'B1'"));
            uses[0].quantity
        };
        assert_eq!(hours("Enabled"), 2.0 * HOURS_PER_MONTH);
        assert_eq!(hours("Disabled"), HOURS_PER_MONTH);
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(gibibytes("2Gi"), Some(2.0));
        assert_eq!(gibibytes("512Mi"), Some(0.5));
        assert_eq!(gibibytes("lots"), None);
    }

    /// PostgreSQL Flexible Server compute SKUs of each tier the configuration allows
    /// (any `Standard_B*`, `Standard_D*`, `Standard_E*` name; these are Azure's series).
    const POSTGRES_SKUS: &[&str] = &[
        "Standard_B1ms",
        "Standard_B2s",
        "Standard_B2ms",
        "Standard_B4ms",
        "Standard_B8ms",
        "Standard_B12ms",
        "Standard_B16ms",
        "Standard_B20ms",
        "Standard_D2s_v3",
        "Standard_D4s_v3",
        "Standard_D2ds_v4",
        "Standard_D2ds_v5",
        "Standard_D16ds_v5",
        "Standard_D2ads_v5",
        "Standard_E2s_v3",
        "Standard_E2ds_v4",
        "Standard_E4ds_v5",
        "Standard_E2ads_v5",
    ];

    /// Azure Managed Redis SKUs the configuration allows.
    use crate::config::semantic::REDIS_SKUS;

    /// Every meter of every SKU the configuration allows resolves to exactly one
    /// consumption price in the sandbox's Retail Prices API.
    #[tokio::test(flavor = "multi_thread")]
    async fn every_allowed_sku_resolves_against_the_sandbox_price_api() {
        use crate::config::semantic::{APIM_SKUS, APPGW_SKUS, POSTGRES_TIERS};
        let sandbox = crate::sandbox::Sandbox::start(Default::default())
            .await
            .expect("sandbox");
        let endpoints = crate::azure::Endpoints::sandbox(&sandbox.url(), sandbox.ca_pem());
        let client = crate::azure::pricing::PriceClient::new(
            &endpoints.retail_prices(),
            endpoints.extra_ca_pem.as_deref(),
        )
        .expect("client");
        let a = Assumptions::default();
        let mut bodies: Vec<(&str, Value)> = Vec::new();
        for sku in APIM_SKUS {
            bodies.push((
                METER_TABLE[0].0,
                json!({"sku": {"name": sku, "capacity": 1}}),
            ));
        }
        for sku in APPGW_SKUS {
            bodies.push((
                "Microsoft.Network/applicationGateways",
                json!({"properties": {"sku": {"name": sku, "tier": sku, "capacity": 2}}}),
            ));
        }
        for sku in POSTGRES_SKUS {
            assert!(
                POSTGRES_TIERS.iter().any(|(_, p)| sku.starts_with(p)),
                "{sku}"
            );
            bodies.push((
                "Microsoft.DBforPostgreSQL/flexibleServers",
                json!({"sku": {"name": sku}, "properties": {"storage": {"storageSizeGB": 64}}}),
            ));
        }
        for sku in REDIS_SKUS {
            bodies.push((
                "Microsoft.Cache/redisEnterprise",
                json!({"sku": {"name": sku}, "properties": {"highAvailability": "Enabled"}}),
            ));
        }
        for tier in ["TransactionOptimized", "Hot", "Cool"] {
            bodies.push((
                "Microsoft.Storage/storageAccounts/fileServices/shares",
                json!({"properties": {"shareQuota": 10, "accessTier": tier}}),
            ));
        }
        bodies.push((
            "Microsoft.App/containerApps",
            json!({"properties": {"template": {
                "containers": [{"resources": {"cpu": 0.5, "memory": "1Gi"}}],
                "scale": {"minReplicas": 0}}}}),
        ));
        for (t, body) in [
            ("Microsoft.OperationalInsights/workspaces", json!({})),
            (
                "Microsoft.Network/publicIPAddresses",
                json!({"sku": {"name": "Standard"}}),
            ),
            ("Microsoft.Network/privateEndpoints", json!({})),
            (
                "Microsoft.KeyVault/vaults",
                json!({"properties": {"sku": {"name": "standard"}}}),
            ),
        ] {
            bodies.push((t, body));
        }
        for (type_name, body) in &bodies {
            let (_, f) = row(type_name).expect("row");
            let uses = f(&RowInput {
                body,
                region: "uksouth",
                assumptions: &a,
            })
            .unwrap_or_else(|| panic!("{type_name} {body}: no meters"));
            assert!(!uses.is_empty());
            for u in uses {
                let items = client.fetch(&u.query, "USD").await.expect("prices");
                assert_eq!(items.len(), 1, "{type_name} {body}: {}", u.query.filter());
                assert!(items[0].retail_price > 0.0);
            }
        }
        sandbox.shutdown().await;
    }

    #[test]
    fn every_row_type_is_unique() {
        for (i, (t, _)) in METER_TABLE.iter().enumerate() {
            assert!(
                METER_TABLE[i + 1..]
                    .iter()
                    .all(|(u, _)| !u.eq_ignore_ascii_case(t)),
                "{t} twice"
            );
        }
    }
}
