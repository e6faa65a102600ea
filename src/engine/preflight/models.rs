//! Models and quota: the region's catalog offers each deployment's model,
//! version and SKU; the SKU's usage has room for the deployments drawing on
//! it, minus what this environment's existing deployments already use.

use super::calls::{CallError, Calls};
use super::targets::{Account, Deployment, Targets};
use super::{CheckKind, Finding};
use crate::azure::api_versions::api_version;
use futures::future::join_all;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// `(subscription, location)`.
type Region = (String, String);

/// What one region's calls returned.
struct RegionData {
    catalog: Result<Vec<Value>, CallError>,
    usages: Result<Vec<Value>, CallError>,
}

fn text<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The usage name of `(format, name, version, sku)` in a catalog, if offered.
fn usage_name(
    catalog: &[Value],
    format: &str,
    name: &str,
    version: &str,
    sku: &str,
) -> Option<String> {
    catalog
        .iter()
        .filter(|m| {
            text(m, "/model/format").eq_ignore_ascii_case(format)
                && text(m, "/model/name").eq_ignore_ascii_case(name)
                && text(m, "/model/version") == version
        })
        .flat_map(|m| {
            m.pointer("/model/skus")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .find(|s| text(s, "/name").eq_ignore_ascii_case(sku))
        .map(|s| text(s, "/usageName").to_string())
}

/// `(limit, currentValue)` of a usage.
fn usage_values(usages: &[Value], usage: &str) -> Option<(u64, u64)> {
    let u = usages
        .iter()
        .find(|u| text(u, "/name/value").eq_ignore_ascii_case(usage))?;
    let num = |k: &str| u.get(k).and_then(Value::as_f64).map(|f| f.max(0.0) as u64);
    Some((num("limit")?, num("currentValue").unwrap_or(0)))
}

async fn region_data(calls: &Calls<'_>, (sub, loc): &Region) -> RegionData {
    let base =
        format!("/subscriptions/{sub}/providers/Microsoft.CognitiveServices/locations/{loc}");
    let (models_path, usages_path) = (format!("{base}/models"), format!("{base}/usages"));
    let (catalog, usages) = tokio::join!(
        calls.list(
            &models_path,
            Calls::version("Microsoft.CognitiveServices/locations/models")
        ),
        calls.list(
            &usages_path,
            Calls::version("Microsoft.CognitiveServices/locations/usages")
        ),
    );
    RegionData { catalog, usages }
}

/// This environment's existing deployments of `account` (none when it does not exist).
async fn existing(calls: &Calls<'_>, account: &Account) -> Result<Vec<Value>, CallError> {
    let version =
        api_version("Microsoft.CognitiveServices/accounts/deployments").unwrap_or("2025-06-01");
    match calls
        .list(
            &format!("{}/deployments", account.resource.address),
            version,
        )
        .await
    {
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        other => other,
    }
}

fn region_of(a: &Account) -> Region {
    (a.resource.subscription.clone(), a.resource.location.clone())
}

/// Findings for every deployment (model) and every usage drawn on (quota).
pub(super) async fn check_models(calls: &Calls<'_>, t: &Targets) -> Vec<Finding> {
    let accounts: Vec<&Account> = t
        .accounts
        .iter()
        .filter(|a| !a.deployments.is_empty())
        .collect();
    let regions: BTreeSet<Region> = accounts.iter().map(|a| region_of(a)).collect();
    let (data, live) = tokio::join!(
        join_all(regions.iter().map(|r| region_data(calls, r))),
        join_all(accounts.iter().map(|a| existing(calls, a))),
    );
    let data: BTreeMap<&Region, RegionData> = regions.iter().zip(data).collect();
    let mut findings = Vec::new();
    for a in &accounts {
        findings.extend(model_findings(a, &data));
    }
    findings.extend(quota_findings(&accounts, &live, &data));
    findings
}

fn deployment_subject(a: &Account, d: &Deployment) -> String {
    format!(
        "{} ({} {} {} on {})",
        d.label, d.format, d.name, d.version, a.resource.name
    )
}

fn model_findings(a: &Account, data: &BTreeMap<&Region, RegionData>) -> Vec<Finding> {
    let region = region_of(a);
    let Some(rd) = data.get(&region) else {
        return Vec::new();
    };
    let loc = &region.1;
    a.deployments
        .iter()
        .map(|d| {
            let who = deployment_subject(a, d);
            let catalog = match &rd.catalog {
                Ok(c) => c,
                Err(e) => {
                    return Finding::unverified(
                        CheckKind::Model,
                        who,
                        format!("cannot read the model catalog of {loc}: {e}"),
                    );
                }
            };
            if usage_name(catalog, &d.format, &d.name, &d.version, &d.sku).is_some() {
                return Finding::passed(
                    CheckKind::Model,
                    who,
                    format!("{loc} offers it with SKU {}", d.sku),
                );
            }
            let (message, remedy) = not_offered(catalog, d, loc, data);
            Finding::failed(CheckKind::Model, who, message, remedy)
        })
        .collect()
}

/// Why `d` is not offered, and what is.
fn not_offered(
    catalog: &[Value],
    d: &Deployment,
    loc: &str,
    data: &BTreeMap<&Region, RegionData>,
) -> (String, String) {
    let same_name: Vec<&Value> = catalog
        .iter()
        .filter(|m| {
            text(m, "/model/format").eq_ignore_ascii_case(&d.format)
                && text(m, "/model/name").eq_ignore_ascii_case(&d.name)
        })
        .collect();
    let elsewhere: Vec<String> = data
        .iter()
        .filter(|(r, _)| r.1 != loc)
        .filter(|(_, rd)| {
            rd.catalog
                .as_ref()
                .is_ok_and(|c| usage_name(c, &d.format, &d.name, &d.version, &d.sku).is_some())
        })
        .map(|(r, _)| r.1.clone())
        .collect();
    let elsewhere = if elsewhere.is_empty() {
        String::new()
    } else {
        format!(
            "; of the configured regions, {} offer(s) it",
            elsewhere.join(", ")
        )
    };
    let same_version = same_name
        .iter()
        .find(|m| text(m, "/model/version") == d.version);
    if let Some(m) = same_version {
        let skus: Vec<&str> = m
            .pointer("/model/skus")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|s| text(s, "/name"))
            .collect();
        return (
            format!("{loc} does not offer SKU {} for this model", d.sku),
            format!(
                "use one of the SKUs {loc} offers: {}{elsewhere}",
                skus.join(", ")
            ),
        );
    }
    if !same_name.is_empty() {
        let versions: BTreeSet<&str> = same_name
            .iter()
            .map(|m| text(m, "/model/version"))
            .collect();
        return (
            format!("{loc} does not offer version {} of {}", d.version, d.name),
            format!(
                "use a version {loc} offers: {}{elsewhere}",
                versions.into_iter().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    let names: BTreeSet<&str> = catalog
        .iter()
        .filter(|m| text(m, "/model/format").eq_ignore_ascii_case(&d.format))
        .map(|m| text(m, "/model/name"))
        .collect();
    let offered: Vec<&str> = names.into_iter().take(12).collect();
    (
        format!("{loc} does not offer the model {} {}", d.format, d.name),
        format!(
            "deploy it in another region or choose a model {loc} offers ({} models: {}){elsewhere}",
            d.format,
            if offered.is_empty() {
                "none".to_string()
            } else {
                offered.join(", ")
            }
        ),
    )
}

/// Capacity needed per `(region, usage)`, with the deployments that need it.
type Needs<'a> = BTreeMap<(Region, String), (u64, Vec<&'a Deployment>)>;

fn needs<'a>(accounts: &[&'a Account], data: &BTreeMap<&Region, RegionData>) -> Needs<'a> {
    let mut out: Needs<'a> = BTreeMap::new();
    for a in accounts {
        let region = region_of(a);
        let Some(Ok(catalog)) = data.get(&region).map(|r| r.catalog.as_ref()) else {
            continue;
        };
        for d in &a.deployments {
            if let Some(usage) = usage_name(catalog, &d.format, &d.name, &d.version, &d.sku) {
                let e = out.entry((region.clone(), usage)).or_default();
                e.0 += d.capacity;
                e.1.push(d);
            }
        }
    }
    out
}

/// Capacity this environment's existing deployments use per `(region, usage)`.
fn own_use(
    accounts: &[&Account],
    live: &[Result<Vec<Value>, CallError>],
    data: &BTreeMap<&Region, RegionData>,
) -> BTreeMap<(Region, String), u64> {
    let mut out = BTreeMap::new();
    for (a, deployments) in accounts.iter().zip(live) {
        let region = region_of(a);
        let (Ok(deployments), Some(Ok(catalog))) =
            (deployments, data.get(&region).map(|r| r.catalog.as_ref()))
        else {
            continue;
        };
        for d in deployments {
            let usage = usage_name(
                catalog,
                text(d, "/properties/model/format"),
                text(d, "/properties/model/name"),
                text(d, "/properties/model/version"),
                text(d, "/sku/name"),
            );
            if let Some(usage) = usage {
                let cap = d
                    .pointer("/sku/capacity")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                *out.entry((region.clone(), usage)).or_default() += cap;
            }
        }
    }
    out
}

fn quota_findings(
    accounts: &[&Account],
    live: &[Result<Vec<Value>, CallError>],
    data: &BTreeMap<&Region, RegionData>,
) -> Vec<Finding> {
    let own = own_use(accounts, live, data);
    let unread_own = live.iter().find_map(|r| r.as_ref().err());
    let needed = needs(accounts, data);
    let free = |region: &Region, usage: &str| -> Option<u64> {
        let usages = data.get(region)?.usages.as_ref().ok()?;
        let (limit, current) = usage_values(usages, usage)?;
        let mine = own
            .get(&(region.clone(), usage.to_string()))
            .copied()
            .unwrap_or(0);
        Some(limit.saturating_sub(current.saturating_sub(mine)))
    };
    needed
        .iter()
        .map(|((region, usage), (need, deployments))| {
            let who = format!("{usage} in {}", region.1);
            let labels: Vec<&str> = deployments.iter().map(|d| d.label.as_str()).collect();
            if let Some(e) = unread_own {
                return Finding::unverified(
                    CheckKind::Quota,
                    who,
                    format!("cannot read this environment's existing deployments: {e}"),
                );
            }
            match (&data[region].usages, free(region, usage)) {
                (Err(e), _) => Finding::unverified(
                    CheckKind::Quota,
                    who,
                    format!("cannot read the usages of {}: {e}", region.1),
                ),
                (Ok(_), None) => Finding::unverified(
                    CheckKind::Quota,
                    who,
                    format!("{} does not report a usage named {usage}", region.1),
                ),
                (Ok(_), Some(room)) if *need <= room => Finding::passed(
                    CheckKind::Quota,
                    who,
                    format!("{need} needed by {}, {room} available", labels.join(", ")),
                ),
                (Ok(_), Some(room)) => Finding::failed(
                    CheckKind::Quota,
                    who,
                    format!(
                        "{need} (thousands of tokens per minute) needed by {}, only {room} available",
                        labels.join(", ")
                    ),
                    quota_remedy(deployments, *need, room, region, data, &free),
                ),
            }
        })
        .collect()
}

/// Lower the capacity, ask for quota, or use a SKU/region with room.
fn quota_remedy(
    deployments: &[&Deployment],
    need: u64,
    room: u64,
    region: &Region,
    data: &BTreeMap<&Region, RegionData>,
    free: &dyn Fn(&Region, &str) -> Option<u64>,
) -> String {
    let mut fits = BTreeSet::new();
    for (r, rd) in data {
        let Ok(catalog) = &rd.catalog else { continue };
        for d in deployments {
            for m in catalog.iter().filter(|m| {
                text(m, "/model/format").eq_ignore_ascii_case(&d.format)
                    && text(m, "/model/name").eq_ignore_ascii_case(&d.name)
                    && text(m, "/model/version") == d.version
            }) {
                for s in m
                    .pointer("/model/skus")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let (sku, usage) = (text(s, "/name"), text(s, "/usageName"));
                    let (same_region, same_sku) = (*r == region, sku.eq_ignore_ascii_case(&d.sku));
                    // Another SKU here, or the same SKU in another configured region.
                    let alternative = same_region != same_sku;
                    if alternative && free(r, usage).is_some_and(|f| f >= d.capacity) {
                        fits.insert(format!("{} with SKU {sku} in {}", d.name, r.1));
                    }
                }
            }
        }
    }
    let fits = if fits.is_empty() {
        String::new()
    } else {
        format!(
            "; these would fit: {}",
            fits.into_iter().collect::<Vec<_>>().join(", ")
        )
    };
    format!(
        "lower the capacity (tokens_per_minute) of these deployments by {} in total, or request more quota for this usage (https://aka.ms/oai/quotaincrease){fits}",
        need - room
    )
}
