//! Access: resource providers registered, the caller's permissions on each
//! resource group, and what Microsoft Graph lets us check without writing.

use super::calls::Calls;
use super::targets::Targets;
use super::{CheckKind, Finding};
use crate::azure::api_versions::api_version;
use futures::future::join_all;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// How long a registration started by `--register-providers` is waited for.
const REGISTRATION_WAIT: Duration = Duration::from_secs(120);
/// Between two reads of a registration in progress.
const REGISTRATION_POLL: Duration = Duration::from_secs(2);

fn provider_path(sub: &str, ns: &str) -> String {
    format!("/subscriptions/{sub}/providers/{ns}")
}

async fn registration_state(calls: &Calls<'_>, sub: &str, ns: &str) -> Result<String, String> {
    match calls
        .get(
            &provider_path(sub, ns),
            Calls::version("Microsoft.Resources/providers"),
        )
        .await
    {
        Ok(Some(p)) => Ok(p["registrationState"]
            .as_str()
            .unwrap_or("Unknown")
            .to_string()),
        Ok(None) => Err(format!("the namespace {ns} is not known to Azure")),
        Err(e) => Err(e.to_string()),
    }
}

/// Register `ns` and wait (bounded) until it says `Registered`.
async fn register(calls: &Calls<'_>, sub: &str, ns: &str) -> Result<String, String> {
    let version = Calls::version("Microsoft.Resources/providers");
    calls
        .post_empty(&format!("{}/register", provider_path(sub, ns)), version)
        .await
        .map_err(|e| format!("registering failed: {e}"))?;
    let deadline = tokio::time::Instant::now() + REGISTRATION_WAIT;
    loop {
        let state = registration_state(calls, sub, ns).await?;
        if state == "Registered" || tokio::time::Instant::now() >= deadline {
            return Ok(state);
        }
        tokio::time::sleep(REGISTRATION_POLL).await;
    }
}

async fn check_provider(calls: &Calls<'_>, sub: &str, ns: &str, register_missing: bool) -> Finding {
    let state = match registration_state(calls, sub, ns).await {
        Ok(s) => s,
        Err(e) => {
            return Finding::unverified(
                CheckKind::Provider,
                ns,
                format!("cannot read the registration: {e}"),
            );
        }
    };
    if state == "Registered" {
        return Finding::passed(CheckKind::Provider, ns, "registered".into());
    }
    if !register_missing {
        return Finding::failed(
            CheckKind::Provider,
            ns,
            format!("the resource provider is {state} in subscription {sub}"),
            format!(
                "run again with `--register-providers` (needs Microsoft.Resources/subscriptions/providers/register/action), or `az provider register --namespace {ns}`"
            ),
        );
    }
    match register(calls, sub, ns).await {
        Ok(s) if s == "Registered" => Finding::passed(
            CheckKind::Provider,
            ns,
            format!("registered now (was {state})"),
        ),
        Ok(s) => Finding::failed(
            CheckKind::Provider,
            ns,
            format!(
                "registration started but still {s} after {}s",
                REGISTRATION_WAIT.as_secs()
            ),
            "wait a few minutes and run again".into(),
        ),
        Err(e) => Finding::failed(
            CheckKind::Provider,
            ns,
            e,
            format!("ask someone allowed to register it: `az provider register --namespace {ns}`"),
        ),
    }
}

/// One finding per provider namespace the model writes to.
pub(super) async fn check_providers(
    calls: &Calls<'_>,
    t: &Targets,
    register_missing: bool,
) -> Vec<Finding> {
    let jobs = t.namespaces.iter().flat_map(|(sub, namespaces)| {
        namespaces
            .iter()
            .map(move |ns| check_provider(calls, sub, ns, register_missing))
    });
    join_all(jobs).await
}

/// `pattern` (ARM action with `*` wildcards) matches `action`, ignoring case.
pub(super) fn action_matches(pattern: &str, action: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let a = action.to_ascii_lowercase();
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == a;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !a.starts_with(first) || a.len() < first.len() + last.len() || !a.ends_with(last) {
        return false;
    }
    let mut rest = &a[first.len()..a.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Whether one of the permission entries allows `action` (each entry's
/// `notActions` only subtract from its own `actions`).
pub(super) fn allowed(entries: &[Value], action: &str) -> bool {
    let list = |e: &Value, k: &str| -> Vec<String> {
        e.get(k)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    entries.iter().any(|e| {
        list(e, "actions").iter().any(|p| action_matches(p, action))
            && !list(e, "notActions")
                .iter()
                .any(|p| action_matches(p, action))
    })
}

/// The scope whose permissions apply to a group: the group when it exists,
/// else the subscription (the group is created by this run).
async fn scope_of(calls: &Calls<'_>, sub: &str, rg: &str) -> Result<String, String> {
    let group = format!("/subscriptions/{sub}/resourceGroups/{rg}");
    let version = api_version("Microsoft.Resources/resourceGroups").unwrap_or("2024-11-01");
    match calls.get(&group, version).await {
        Ok(Some(_)) => Ok(group),
        Ok(None) => Ok(format!("/subscriptions/{sub}")),
        Err(e) => Err(e.to_string()),
    }
}

async fn permissions_of(calls: &Calls<'_>, scope: &str) -> Result<Vec<Value>, String> {
    let path = format!("{scope}/providers/Microsoft.Authorization/permissions");
    match calls
        .get(&path, Calls::version("Microsoft.Authorization/permissions"))
        .await
    {
        Ok(Some(page)) => Ok(page["value"].as_array().cloned().unwrap_or_default()),
        Ok(None) => Err("the permissions API answered 404".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// One finding per resource group: every action the plan performs there is allowed.
pub(super) async fn check_permissions(calls: &Calls<'_>, t: &Targets) -> Vec<Finding> {
    let groups: Vec<&(String, String)> = t.actions.keys().collect();
    let scopes = join_all(groups.iter().map(|(sub, rg)| scope_of(calls, sub, rg))).await;
    let distinct: BTreeSet<&String> = scopes.iter().filter_map(|s| s.as_ref().ok()).collect();
    let fetched = join_all(distinct.iter().map(|s| permissions_of(calls, s))).await;
    let by_scope: BTreeMap<&String, Result<Vec<Value>, String>> =
        distinct.into_iter().zip(fetched).collect();
    groups
        .iter()
        .zip(&scopes)
        .map(|(key, scope)| {
            let rg = &key.1;
            let who = format!("resource group {rg}");
            let entries = match scope.as_ref().map(|s| &by_scope[s]) {
                Ok(Ok(entries)) => entries,
                Ok(Err(e)) | Err(e) => {
                    return Finding::unverified(
                        CheckKind::Permission,
                        who,
                        format!("cannot read the caller's permissions: {e}"),
                    );
                }
            };
            let scope = scope.as_deref().unwrap_or_default();
            let wanted = &t.actions[*key];
            let denied: Vec<&String> = wanted.iter().filter(|a| !allowed(entries, a)).collect();
            if denied.is_empty() {
                return Finding::passed(
                    CheckKind::Permission,
                    who,
                    format!(
                        "{scope} allows the {} actions the plan performs",
                        wanted.len()
                    ),
                );
            }
            let names: Vec<&str> = denied.iter().map(|s| s.as_str()).collect();
            Finding::failed(
                CheckKind::Permission,
                who,
                format!("the caller may not perform {} on {scope}", names.join(", ")),
                permission_remedy(&names, scope),
            )
        })
        .collect()
}

fn permission_remedy(denied: &[&str], scope: &str) -> String {
    let rbac = denied
        .iter()
        .any(|a| a.eq_ignore_ascii_case("Microsoft.Authorization/roleAssignments/write"));
    if rbac {
        format!(
            "grant the caller Owner, or Contributor plus Role Based Access Control Administrator (or User Access Administrator), on {scope}"
        )
    } else {
        format!("grant the caller Contributor (or a role allowing these actions) on {scope}")
    }
}

/// Microsoft Graph: reading the application is checked; writing cannot be
/// checked without writing, so it is reported as unverified.
pub(super) async fn check_graph(calls: &Calls<'_>, t: &Targets) -> Vec<Finding> {
    if !t.writes_graph {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(app) = &t.graph_application {
        out.push(match calls.graph_get(app).await {
            Ok(found) => Finding::passed(
                CheckKind::Graph,
                "Entra application",
                format!(
                    "Microsoft Graph answers; the application {}",
                    if found.is_some() {
                        "can be read"
                    } else {
                        "does not exist yet"
                    }
                ),
            ),
            Err(e) => Finding::unverified(
                CheckKind::Graph,
                "Entra application",
                format!("cannot read the application from Microsoft Graph: {e}"),
            ),
        });
    }
    out.push(
        Finding::unverified(
            CheckKind::Graph,
            "Entra application writes",
            "creating or updating the application, its service principal and permission grants cannot be checked without writing".into(),
        )
        .with_remedy(
            "make sure the caller may create applications (Application.ReadWrite.OwnedBy or Application.ReadWrite.All, or the Application Developer role); `--grant-admin-consent` also needs Cloud Application Administrator or Privileged Role Administrator".into(),
        ),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcards_match_actions_ignoring_case() {
        let write = "Microsoft.Authorization/roleAssignments/write";
        assert!(action_matches("*", write));
        assert!(action_matches("Microsoft.Authorization/*", write));
        assert!(action_matches("microsoft.authorization/*/WRITE", write));
        assert!(action_matches(write, write));
        assert!(!action_matches("*/read", write));
        assert!(!action_matches("Microsoft.Network/*", write));
        assert!(!action_matches("Microsoft.Authorization/*/Delete", write));
        assert!(!action_matches(
            "Microsoft.Authorization/roleAssignments",
            write
        ));
    }

    #[test]
    fn not_actions_only_subtract_from_their_own_entry() {
        let write = "Microsoft.Authorization/roleAssignments/write";
        let contributor =
            json!({"actions": ["*"], "notActions": ["Microsoft.Authorization/*/Write"]});
        let rbac_admin =
            json!({"actions": ["Microsoft.Authorization/roleAssignments/*"], "notActions": []});
        assert!(!allowed(std::slice::from_ref(&contributor), write));
        assert!(allowed(&[contributor.clone(), rbac_admin], write));
        assert!(allowed(&[contributor], "Microsoft.KeyVault/vaults/write"));
        assert!(!allowed(&[], "Microsoft.KeyVault/vaults/write"));
    }
}
