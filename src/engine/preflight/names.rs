//! Names: `checkNameAvailability` / `checkDomainAvailability`, and the
//! soft-deleted Key Vaults, Foundry accounts and API Management services that
//! still hold a configured name.

use super::calls::{CallError, Calls};
use super::targets::{ACCOUNT, APIM, KEY_VAULT, NamedResource, POSTGRES, STORAGE, Targets};
use super::{CheckKind, Finding};
use crate::azure::api_versions::api_version;
use futures::future::join_all;
use serde_json::{Value, json};

fn subject(r: &NamedResource) -> String {
    format!("{} ({})", r.label, r.name)
}

/// The `checkNameAvailability` path and body of a named resource.
fn name_request(r: &NamedResource) -> (String, &'static str, Value) {
    let ns = r.type_name.split('/').next().unwrap_or_default();
    let path = format!(
        "/subscriptions/{}/providers/{ns}/checkNameAvailability",
        r.subscription
    );
    let version = Calls::version(&format!("{ns}/checkNameAvailability"));
    let body = if r.type_name == APIM {
        json!({ "name": r.name })
    } else {
        json!({ "name": r.name, "type": r.type_name })
    };
    (path, version, body)
}

/// Whether this environment's own resource exists (then its name is ours).
async fn own_exists(calls: &Calls<'_>, r: &NamedResource) -> Result<Option<Value>, CallError> {
    let version = api_version(r.type_name).unwrap_or("2025-04-01");
    calls.get(&r.address, version).await
}

fn name_remedy(r: &NamedResource) -> String {
    let what = match r.type_name {
        KEY_VAULT => "Key Vault names",
        STORAGE => "storage account names",
        APIM => "API Management service names",
        POSTGRES => "PostgreSQL server names",
        _ => "Foundry custom subdomains",
    };
    format!(
        "choose another name in the environment file ({what} are unique across all of Azure), or deploy into the subscription that holds it"
    )
}

async fn check_one_name(calls: &Calls<'_>, r: &NamedResource) -> Finding {
    let (path, version, body) = name_request(r);
    let answer = match calls.post(&path, version, &body).await {
        Ok(a) => a.unwrap_or(Value::Null),
        Err(e) => {
            return Finding::unverified(
                CheckKind::Name,
                subject(r),
                format!("cannot check the name: {e}"),
            );
        }
    };
    if answer["nameAvailable"].as_bool() != Some(false) {
        return Finding::passed(CheckKind::Name, subject(r), "the name is free".into());
    }
    taken_unless_own(calls, r, answer["message"].as_str().unwrap_or_default()).await
}

async fn taken_unless_own(calls: &Calls<'_>, r: &NamedResource, why: &str) -> Finding {
    match own_exists(calls, r).await {
        Ok(Some(_)) => Finding::passed(
            CheckKind::Name,
            subject(r),
            "the name is held by this environment's own resource".into(),
        ),
        Ok(None) => {
            let why = if why.is_empty() {
                String::new()
            } else {
                format!(" ({why})")
            };
            Finding::failed(
                CheckKind::Name,
                subject(r),
                format!("the name '{}' is already taken{why}", r.name),
                name_remedy(r),
            )
        }
        Err(e) => Finding::unverified(
            CheckKind::Name,
            subject(r),
            format!("the name is taken, and whether by this environment cannot be read: {e}"),
        ),
    }
}

async fn check_subdomain(calls: &Calls<'_>, r: &NamedResource, subdomain: &str) -> Finding {
    let who = format!("{} (subdomain {subdomain})", r.label);
    let path = format!(
        "/subscriptions/{}/providers/Microsoft.CognitiveServices/checkDomainAvailability",
        r.subscription
    );
    let body = json!({ "subdomainName": subdomain, "type": ACCOUNT });
    let version = Calls::version("Microsoft.CognitiveServices/checkDomainAvailability");
    let answer = match calls.post(&path, version, &body).await {
        Ok(a) => a.unwrap_or(Value::Null),
        Err(e) => {
            return Finding::unverified(
                CheckKind::Name,
                who,
                format!("cannot check the subdomain: {e}"),
            );
        }
    };
    if answer["isSubdomainAvailable"].as_bool() != Some(false) {
        return Finding::passed(CheckKind::Name, who, "the subdomain is free".into());
    }
    let own = own_exists(calls, r).await;
    let mine = matches!(&own, Ok(Some(live)) if live
        .pointer("/properties/customSubDomainName")
        .and_then(Value::as_str)
        .is_some_and(|d| d.eq_ignore_ascii_case(subdomain)));
    if mine {
        return Finding::passed(
            CheckKind::Name,
            who,
            "the subdomain is held by this environment's own account".into(),
        );
    }
    let reason = answer["reason"].as_str().unwrap_or("not available");
    Finding::failed(
        CheckKind::Name,
        who,
        format!("the custom subdomain '{subdomain}' cannot be used: {reason}"),
        name_remedy(r),
    )
}

/// One finding per globally named resource and per Foundry subdomain.
pub(super) async fn check_names(calls: &Calls<'_>, t: &Targets) -> Vec<Finding> {
    let names = join_all(t.named.iter().map(|r| check_one_name(calls, r)));
    let domains = join_all(t.accounts.iter().filter_map(|a| {
        a.subdomain
            .as_deref()
            .map(|d| check_subdomain(calls, &a.resource, d))
    }));
    let (mut a, b) = tokio::join!(names, domains);
    a.extend(b);
    a
}

/// A soft-deletable type: its deleted-list operation and remedy.
struct SoftType {
    type_name: &'static str,
    list: &'static str,
    what: &'static str,
}

const SOFT_TYPES: &[SoftType] = &[
    SoftType {
        type_name: KEY_VAULT,
        list: "Microsoft.KeyVault/deletedVaults",
        what: "Key Vault",
    },
    SoftType {
        type_name: ACCOUNT,
        list: "Microsoft.CognitiveServices/deletedAccounts",
        what: "Foundry account",
    },
    SoftType {
        type_name: APIM,
        list: "Microsoft.ApiManagement/deletedservices",
        what: "API Management service",
    },
];

fn soft_remedy(st: &SoftType, r: &NamedResource, deleted: &Value) -> String {
    let location = deleted
        .pointer("/properties/location")
        .or_else(|| deleted.get("location"))
        .and_then(Value::as_str)
        .unwrap_or(&r.location);
    let purge_date = deleted
        .pointer("/properties/scheduledPurgeDate")
        .and_then(Value::as_str)
        .map(|d| format!("; otherwise the name stays reserved until {d}"))
        .unwrap_or_default();
    let protected = deleted
        .pointer("/properties/purgeProtectionEnabled")
        .and_then(Value::as_bool)
        == Some(true);
    match st.type_name {
        KEY_VAULT if protected => format!(
            "it has purge protection and cannot be purged: recover it (`az keyvault recover --name {}`) or choose another name{purge_date}",
            r.name
        ),
        KEY_VAULT => format!(
            "purge it with `owui-deploy destroy --purge`, or recover it with `az keyvault recover --name {}`{purge_date}",
            r.name
        ),
        ACCOUNT => format!(
            "purge it with `owui-deploy destroy --purge`, or recover it with `az cognitiveservices account recover --name {} --resource-group {} --location {location}`{purge_date}",
            r.name, r.resource_group
        ),
        _ => format!(
            "purge it with `owui-deploy destroy --purge` (or `az apim deletedservice purge --service-name {} --location {location}`), or restore it (PUT with `properties.restore = true`, https://aka.ms/apimsoftdelete){purge_date}",
            r.name
        ),
    }
}

async fn check_soft_type(
    calls: &Calls<'_>,
    st: &SoftType,
    sub: &str,
    resources: Vec<&NamedResource>,
) -> Vec<Finding> {
    if resources.is_empty() {
        return Vec::new();
    }
    let path = format!("/subscriptions/{sub}/providers/{}", st.list);
    let deleted = match calls.list(&path, Calls::version(st.list)).await {
        Ok(items) => items,
        Err(e) => {
            return resources
                .iter()
                .map(|r| {
                    Finding::unverified(
                        CheckKind::SoftDeleted,
                        subject(r),
                        format!("cannot list the soft-deleted {}s: {e}", st.what),
                    )
                })
                .collect();
        }
    };
    resources
        .iter()
        .map(|r| {
            let hit = deleted.iter().find(|d| {
                d.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(&r.name))
            });
            match hit {
                Some(d) => Finding::failed(
                    CheckKind::SoftDeleted,
                    subject(r),
                    format!(
                        "a soft-deleted {} named '{}' still holds the name (deleted earlier, e.g. by `destroy` without `--purge`)",
                        st.what, r.name
                    ),
                    soft_remedy(st, r, d),
                ),
                None => Finding::passed(
                    CheckKind::SoftDeleted,
                    subject(r),
                    format!("no soft-deleted {} holds the name", st.what),
                ),
            }
        })
        .collect()
}

/// One finding per Key Vault, Foundry account and API Management service:
/// one list call per type and subscription.
pub(super) async fn check_soft_deleted(calls: &Calls<'_>, t: &Targets) -> Vec<Finding> {
    let all: Vec<&NamedResource> = t
        .named
        .iter()
        .chain(t.accounts.iter().map(|a| &a.resource))
        .collect();
    let mut jobs = Vec::new();
    for sub in &t.subscriptions {
        for st in SOFT_TYPES {
            let of_type: Vec<&NamedResource> = all
                .iter()
                .copied()
                .filter(|r| r.type_name == st.type_name && &r.subscription == sub)
                .collect();
            jobs.push(check_soft_type(calls, st, sub, of_type));
        }
    }
    join_all(jobs).await.into_iter().flatten().collect()
}
