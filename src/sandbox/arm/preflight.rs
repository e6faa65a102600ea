//! The read-only APIs a preflight calls, in the shapes of Microsoft's examples
//! (`../shared/fixtures/arm-examples/`): resource providers (`GetProvider.json`;
//! register has no example, the answer is the same `Provider`), name checks
//! (`checkVaultNameAvailability.json`, `StorageAccountCheckNameAvailability.json`,
//! `ApiManagementServiceCheckNameAvailability.json`,
//! `NameAvailabilityCheckGlobally.json`, `CheckDomainAvailability.json`), the
//! region's model catalog (`ListLocationModels.json`) and usages
//! (`ListUsages.json`), and the caller's permissions (`GetPermissions.json`).
//! Writes of a type whose provider is not registered are refused with
//! `MissingSubscriptionRegistration`, as Azure does.

use serde_json::{Value, json};

use super::super::ids::normalize_location;
use super::super::preflight::PreflightWorld;
use super::super::server::{Reply, Req, Shared, json_object};
use super::super::state::World;

/// Serve `req` when it is one of the preflight APIs (or a write to an
/// unregistered provider); `None` otherwise.
pub(super) fn handle(shared: &Shared, req: &Req) -> Option<Reply> {
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let lower: Vec<String> = segs.iter().map(|s| s.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    let m = req.method.as_str();
    if l.len() < 2 || l[0] != "subscriptions" {
        return None;
    }
    let mut w = shared.world();
    if let Some(r) = unregistered_write(&w.preflight, req, &l, &segs) {
        return Some(r);
    }
    let reply = match (m, &l[2..]) {
        ("GET", ["providers", _]) => provider(&w.preflight, segs[1], segs[3], false),
        ("POST", ["providers", _, "register"]) => {
            w.preflight
                .unregistered_providers
                .retain(|n| !n.eq_ignore_ascii_case(segs[3]));
            shared.mark_dirty();
            provider(&w.preflight, segs[1], segs[3], true)
        }
        ("POST", ["providers", ns, "checknameavailability"]) => check_name(&w, ns, req),
        (
            "POST",
            [
                "providers",
                "microsoft.cognitiveservices",
                "checkdomainavailability",
            ],
        ) => check_domain(&w, req),
        (
            "GET",
            [
                "providers",
                "microsoft.cognitiveservices",
                "locations",
                loc,
                "models",
            ],
        ) => models(&w.preflight, loc),
        (
            "GET",
            [
                "providers",
                "microsoft.cognitiveservices",
                "locations",
                loc,
                "usages",
            ],
        ) => usages(&w, segs[1], &normalize_location(loc)),
        ("GET", ["providers", "microsoft.authorization", "permissions"])
        | (
            "GET",
            [
                "resourcegroups",
                _,
                "providers",
                "microsoft.authorization",
                "permissions",
            ],
        ) => permissions(&w.preflight),
        _ => return None,
    };
    drop(w);
    Some(reply)
}

/// `409 MissingSubscriptionRegistration` for a PUT under `providers/{ns}` when
/// `ns` is not registered (message as Azure words it).
fn unregistered_write(
    state: &PreflightWorld,
    req: &Req,
    lower: &[&str],
    segs: &[&str],
) -> Option<Reply> {
    if req.method != "PUT" {
        return None;
    }
    let at = lower.iter().rposition(|s| *s == "providers")?;
    let ns = segs.get(at + 1)?;
    if state.is_registered(ns) {
        return None;
    }
    Some(Reply::arm_error(
        409,
        "MissingSubscriptionRegistration",
        format!(
            "The subscription is not registered to use namespace '{ns}'. See https://aka.ms/rps-not-found for how to register subscriptions."
        ),
    ))
}

/// A `Provider` as `GetProvider.json` shows it. Just registered: `Registering`
/// (the next GET says `Registered`).
fn provider(state: &PreflightWorld, sub: &str, ns: &str, just_registered: bool) -> Reply {
    let registration = if just_registered {
        "Registering"
    } else if state.is_registered(ns) {
        "Registered"
    } else {
        "NotRegistered"
    };
    Reply::json(
        200,
        json!({
            "id": format!("/subscriptions/{sub}/providers/{ns}"),
            "namespace": ns,
            "registrationState": registration,
            "registrationPolicy": "RegistrationRequired",
            "resourceTypes": []
        }),
    )
}

/// The resource type a `checkNameAvailability` of namespace `ns` covers.
fn checked_type(ns: &str) -> Option<&'static str> {
    Some(match ns {
        "microsoft.keyvault" => "Microsoft.KeyVault/vaults",
        "microsoft.storage" => "Microsoft.Storage/storageAccounts",
        "microsoft.apimanagement" => "Microsoft.ApiManagement/service",
        "microsoft.dbforpostgresql" => "Microsoft.DBforPostgreSQL/flexibleServers",
        _ => return None,
    })
}

/// Whether a live resource of `type_name` named `name` exists anywhere, or
/// someone else holds the name.
fn name_taken(w: &World, type_name: &str, name: &str) -> bool {
    w.preflight.is_taken(type_name, name)
        || w.resources.values().any(|r| {
            r.type_name.eq_ignore_ascii_case(type_name)
                && r.id
                    .rsplit('/')
                    .next()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
}

/// `checkNameAvailability` of Key Vault, storage, API Management and
/// PostgreSQL: `{nameAvailable, reason, message}` (`reason` `Valid` when
/// available for API Management, as its example shows).
fn check_name(w: &World, ns: &str, req: &Req) -> Reply {
    let Some(type_name) = checked_type(ns) else {
        return Reply::arm_error(
            404,
            "InvalidResourceType",
            format!(
                "The resource type 'checkNameAvailability' could not be found in the namespace '{ns}'."
            ),
        );
    };
    let body = match json_object(&req.body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return Reply::arm_error(
            400,
            "InvalidRequestContent",
            "The 'name' property is required.",
        );
    };
    let taken = name_taken(w, type_name, name);
    let mut answer = if taken {
        json!({
            "nameAvailable": false,
            "reason": "AlreadyExists",
            "message": format!("The name '{name}' is already in use."),
        })
    } else if ns == "microsoft.apimanagement" {
        json!({"nameAvailable": true, "reason": "Valid", "message": ""})
    } else {
        json!({"nameAvailable": true})
    };
    if ns == "microsoft.dbforpostgresql" {
        answer["name"] = json!(name);
        answer["type"] = json!(type_name);
        answer["message"] = answer.get("message").cloned().unwrap_or(json!(""));
    }
    Reply::json(200, answer)
}

/// `checkDomainAvailability`: `{isSubdomainAvailable, reason, subdomainName, type}`.
fn check_domain(w: &World, req: &Req) -> Reply {
    let body = match json_object(&req.body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(sub) = body["subdomainName"].as_str().filter(|n| !n.is_empty()) else {
        return Reply::arm_error(
            400,
            "InvalidRequestContent",
            "The 'subdomainName' property is required.",
        );
    };
    let type_name = body["type"]
        .as_str()
        .unwrap_or("Microsoft.CognitiveServices/accounts");
    let taken = w
        .preflight
        .is_taken("Microsoft.CognitiveServices/accounts", sub)
        || w.resources.values().any(|r| {
            r.type_name
                .eq_ignore_ascii_case("Microsoft.CognitiveServices/accounts")
                && r.body["properties"]["customSubDomainName"]
                    .as_str()
                    .is_some_and(|d| d.eq_ignore_ascii_case(sub))
        });
    let mut answer = json!({
        "isSubdomainAvailable": !taken,
        "subdomainName": sub,
        "type": type_name,
    });
    if taken {
        answer["reason"] = json!(format!("Sub domain name '{sub}' is already used."));
    }
    Reply::json(200, answer)
}

/// The region's catalog in the `ListLocationModels.json` shape.
fn models(state: &PreflightWorld, location: &str) -> Reply {
    let value: Vec<Value> = state
        .catalog(&normalize_location(location))
        .iter()
        .map(|m| {
            json!({
                "kind": if m.format == "OpenAI" { "OpenAI" } else { "AIServices" },
                "skuName": "S0",
                "model": {
                    "format": m.format,
                    "name": m.name,
                    "version": m.version,
                    "lifecycleStatus": "GenerallyAvailable",
                    "skus": m.skus.iter().map(|s| json!({
                        "name": s.name,
                        "usageName": s.usage_name,
                        "capacity": {"default": 1}
                    })).collect::<Vec<_>>(),
                }
            })
        })
        .collect();
    Reply::json(200, json!({ "value": value }))
}

/// Usages of the region in the `ListUsages.json` shape: one entry per usage
/// name of the catalog, `currentValue` the capacity of the sandbox's
/// deployments drawing on it (plus what the admin API says others use).
fn usages(w: &World, sub: &str, location: &str) -> Reply {
    let catalog = w.preflight.catalog(location);
    let mut names: Vec<String> = catalog
        .iter()
        .flat_map(|m| m.skus.iter().map(|s| s.usage_name.clone()))
        .collect();
    if let Some(limits) = w.preflight.usage_limits.get(location) {
        names.extend(limits.keys().cloned());
    }
    names.sort();
    names.dedup();
    let value: Vec<Value> = names
        .iter()
        .map(|usage| {
            let used = used_capacity(w, sub, location, &catalog, usage)
                + lookup(&w.preflight.usage_used_elsewhere, location, usage).unwrap_or(0);
            let limit = lookup(&w.preflight.usage_limits, location, usage)
                .unwrap_or(super::super::preflight::DEFAULT_USAGE_LIMIT);
            json!({
                "name": {"value": usage, "localizedValue": usage},
                "currentValue": used,
                "limit": limit,
                "unit": "Count"
            })
        })
        .collect();
    Reply::json(200, json!({ "value": value }))
}

fn lookup(
    map: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    location: &str,
    usage: &str,
) -> Option<u64> {
    map.get(location)?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(usage))
        .map(|(_, v)| *v)
}

/// Capacity of the deployments of `sub`'s accounts in `location` whose model
/// and SKU draw on `usage` in `catalog`.
fn used_capacity(
    w: &World,
    sub: &str,
    location: &str,
    catalog: &[super::super::preflight::CatalogModel],
    usage: &str,
) -> u64 {
    let prefix = format!("/subscriptions/{sub}/").to_ascii_lowercase();
    w.resources
        .iter()
        .filter(|(k, r)| {
            k.starts_with(&prefix)
                && r.type_name
                    .eq_ignore_ascii_case("Microsoft.CognitiveServices/accounts/deployments")
        })
        .filter(|(k, _)| {
            let account = k.rsplitn(3, '/').nth(2).unwrap_or("");
            w.resources.get(account).is_some_and(|a| {
                a.body["location"]
                    .as_str()
                    .is_some_and(|l| normalize_location(l) == location)
            })
        })
        .filter(|(_, r)| {
            let model = &r.body["properties"]["model"];
            let sku = r.body["sku"]["name"].as_str().unwrap_or("");
            catalog.iter().any(|m| {
                model["format"].as_str() == Some(m.format.as_str())
                    && model["name"].as_str() == Some(m.name.as_str())
                    && m.skus.iter().any(|s| {
                        s.name.eq_ignore_ascii_case(sku) && s.usage_name.eq_ignore_ascii_case(usage)
                    })
            })
        })
        .map(|(_, r)| r.body["sku"]["capacity"].as_u64().unwrap_or(0))
        .sum()
}

/// The caller's permissions in the `GetPermissions.json` shape (one page, so
/// no `nextLink`).
fn permissions(state: &PreflightWorld) -> Reply {
    Reply::json(
        200,
        json!({"value": [{
            "actions": state.permissions.actions,
            "notActions": state.permissions.not_actions,
        }]}),
    )
}
