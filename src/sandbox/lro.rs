//! Long-running operations: creation, progress (computed lazily from the clock, so no
//! background task is needed and progress survives restarts), completion, and the
//! operation-status (`Azure-AsyncOperation`) and operation-result (`Location`) URLs.

use serde_json::{Value, json};

use super::server::{Reply, Shared, now_ms, retry_headers, rfc3339};
use super::state::{Deleted, OpAction, OpStatus, Operation, World};
use super::types;

/// Poll interval announced for an operation of `duration_secs` realistic seconds:
/// a fortieth of the duration, between 1 and 30 s (then scaled).
pub(crate) fn retry_after_secs(duration_secs: f64) -> f64 {
    (duration_secs / 40.0).clamp(1.0, 30.0)
}

/// Start an operation; returns its ID.
pub(crate) fn start(
    world: &mut World,
    shared: &Shared,
    action: OpAction,
    duration_secs: f64,
    fail: Option<(u16, Value)>,
) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let (fail_status, fail) = match fail {
        Some((s, e)) => (Some(s), Some(e)),
        None => (None, None),
    };
    world.operations.insert(
        id.clone(),
        Operation {
            id: id.clone(),
            action,
            started_ms: now_ms(),
            duration_ms: shared.scaled_ms(duration_secs),
            retry_after_ms: shared.scaled_ms(retry_after_secs(duration_secs)).max(1),
            fail,
            fail_status,
            status: OpStatus::InProgress,
            ended_ms: None,
        },
    );
    id
}

/// The polling headers of an operation: `Azure-AsyncOperation`, `Location`, `Retry-After`.
pub(crate) fn headers(
    reply: Reply,
    shared: &Shared,
    op: &Operation,
    sub: &str,
    namespace: &str,
    location: &str,
) -> Reply {
    let loc = if location.is_empty() {
        "global"
    } else {
        location
    };
    let base = format!(
        "{}/subscriptions/{sub}/providers/{namespace}/locations/{loc}",
        shared.base_url
    );
    let reply = reply
        .header(
            "Azure-AsyncOperation",
            format!("{base}/operationStatuses/{}?api-version=2024-01-01", op.id),
        )
        .header(
            "Location",
            format!("{base}/operationResults/{}?api-version=2024-01-01", op.id),
        );
    retry_headers(reply, op.retry_after_ms)
}

/// Finish every operation whose time has come.
pub(crate) fn tick(world: &mut World) {
    let now = now_ms();
    let due: Vec<String> = world
        .operations
        .values()
        .filter(|o| o.status == OpStatus::InProgress && o.started_ms + o.duration_ms <= now)
        .map(|o| o.id.clone())
        .collect();
    for id in due {
        finish(world, &id, now);
    }
    // Forget operations that ended more than an hour ago.
    world
        .operations
        .retain(|_, o| o.ended_ms.is_none_or(|end| end + 3_600_000 > now));
}

fn finish(world: &mut World, op_id: &str, now: u64) {
    let Some(op) = world.operations.get_mut(op_id) else {
        return;
    };
    op.status = if op.fail.is_some() {
        OpStatus::Failed
    } else {
        OpStatus::Succeeded
    };
    op.ended_ms = Some(now);
    let op = op.clone();
    match &op.action {
        OpAction::Write { key, .. } => {
            if let Some(r) = world.resources.get_mut(key)
                && r.pending.as_deref() == Some(op_id)
            {
                r.pending = None;
                r.failed = op.fail.clone();
            }
        }
        OpAction::Delete { key } => {
            if op.fail.is_some() {
                if let Some(r) = world.resources.get_mut(key) {
                    r.pending = None;
                    r.failed = op.fail.clone();
                }
            } else {
                remove_tree(world, key, now);
            }
        }
        OpAction::PurgeVault { key } => {
            world.deleted_vaults.remove(key);
        }
        OpAction::PurgeAccount { key } => {
            world.deleted_accounts.remove(key);
        }
        OpAction::PurgeService { key } => {
            world.deleted_services.remove(key);
        }
    }
}

/// Remove a resource and everything below it; Key Vaults and Cognitive Services
/// accounts and API Management services (48 h) go to their soft-deleted lists
/// (unless soft delete is off).
pub(crate) fn remove_tree(world: &mut World, key: &str, now: u64) {
    let prefix = format!("{key}/");
    let keys: Vec<String> = world
        .resources
        .range(key.to_string()..)
        .take_while(|(k, _)| k.as_str() == key || k.starts_with(&prefix))
        .map(|(k, _)| k.clone())
        .collect();
    // Soft delete: keep the vault/account (and its children) aside.
    for k in &keys {
        let Some(r) = world.resources.get(k) else {
            continue;
        };
        let t = r.type_name.to_ascii_lowercase();
        let is_vault = t == "microsoft.keyvault/vaults";
        let is_account = t == "microsoft.cognitiveservices/accounts";
        let is_apim = t == "microsoft.apimanagement/service";
        if !(is_vault || is_account || is_apim) {
            continue;
        }
        if is_vault && r.body["properties"]["enableSoftDelete"].as_bool() == Some(false) {
            continue;
        }
        let own_prefix = format!("{k}/");
        let resources: Vec<_> = keys
            .iter()
            .filter(|x| *x == k || x.starts_with(&own_prefix))
            .filter_map(|x| world.resources.get(x).cloned())
            .map(|mut r| {
                r.pending = None;
                r.failed = None;
                r
            })
            .collect();
        let Some(super::ids::Target::Provider(p)) = super::ids::parse(&r.id) else {
            continue;
        };
        let name = p.names.last().cloned().unwrap_or_default();
        let location = r.body["location"].as_str().unwrap_or("").to_string();
        let retention = if is_vault {
            r.body["properties"]["softDeleteRetentionInDays"]
                .as_u64()
                .unwrap_or(90)
        } else {
            48
        };
        let item = Deleted {
            resources,
            deleted_ms: now,
            location: location.clone(),
            sub: p.sub.clone(),
            rg: p.rg.clone().unwrap_or_default(),
            name: name.clone(),
            retention_days: retention,
            purging: None,
        };
        if is_vault {
            world.deleted_vaults.insert(name.to_ascii_lowercase(), item);
        } else if is_apim {
            world
                .deleted_services
                .insert(name.to_ascii_lowercase(), item);
        } else {
            let dk = account_key(&p.sub, &location, p.rg.as_deref().unwrap_or(""), &name);
            world.deleted_accounts.insert(dk, item);
        }
    }
    for k in keys {
        world.resources.remove(&k);
    }
}

/// Key of a soft-deleted Cognitive Services account.
pub(crate) fn account_key(sub: &str, location: &str, rg: &str, name: &str) -> String {
    format!("{sub}/{location}/{rg}/{name}").to_ascii_lowercase()
}

/// The provisioning state to show for a resource now.
pub(crate) fn state_now(world: &World, res: &super::state::Resource) -> (&'static str, String) {
    let def = types::lookup(&res.type_name);
    let s = def.states;
    if let Some(op) = res
        .pending
        .as_deref()
        .and_then(|id| world.operations.get(id))
    {
        let state = match &op.action {
            OpAction::Delete { .. } => s.deleting,
            OpAction::Write { create, .. } => {
                let elapsed = now_ms().saturating_sub(op.started_ms);
                if elapsed * 10 < op.duration_ms {
                    if *create { s.accepted } else { s.updating }
                } else if *create {
                    s.creating
                } else {
                    s.updating
                }
            }
            _ => s.succeeded,
        };
        return (s.prop, state.to_string());
    }
    if res.failed.is_some() {
        return (s.prop, "Failed".to_string());
    }
    (s.prop, s.succeeded.to_string())
}

/// `GET .../operationStatuses/{id}`.
pub(crate) fn status(world: &World, op_id: &str, path: &str) -> Reply {
    let Some(op) = world.operations.get(op_id) else {
        return Reply::arm_error(
            404,
            "OperationNotFound",
            format!("The operation '{op_id}' could not be found."),
        );
    };
    let mut body = json!({
        "id": path,
        "name": op.id,
        "status": match op.status { OpStatus::InProgress => "InProgress", OpStatus::Succeeded => "Succeeded", OpStatus::Failed => "Failed" },
        "startTime": rfc3339(op.started_ms),
    });
    if let Some(end) = op.ended_ms {
        body["endTime"] = json!(rfc3339(end));
    } else if let Some(pct) =
        (now_ms().saturating_sub(op.started_ms) * 100).checked_div(op.duration_ms)
    {
        body["percentComplete"] = json!(pct.min(99));
    }
    if op.status == OpStatus::Failed
        && let Some(e) = &op.fail
    {
        body["error"] = e.clone();
    }
    let reply = Reply::json(200, body);
    if op.status == OpStatus::InProgress {
        retry_headers(reply, op.retry_after_ms)
    } else {
        reply
    }
}

/// `GET .../operationResults/{id}`: 202 while running; then the resource (200) for
/// writes, 204 for deletes and purges, or the error with its status.
pub(crate) fn result(shared: &Shared, world: &World, op_id: &str, path_and_query: &str) -> Reply {
    let Some(op) = world.operations.get(op_id) else {
        return Reply::arm_error(
            404,
            "OperationNotFound",
            format!("The operation '{op_id}' could not be found."),
        );
    };
    match op.status {
        OpStatus::InProgress => {
            let reply = Reply::empty(202)
                .header("Location", format!("{}{path_and_query}", shared.base_url));
            retry_headers(reply, op.retry_after_ms)
        }
        OpStatus::Failed => {
            let e = op
                .fail
                .clone()
                .unwrap_or_else(|| json!({"code": "Failed", "message": "The operation failed."}));
            Reply::json(op.fail_status.unwrap_or(400), json!({"error": e}))
        }
        OpStatus::Succeeded => match &op.action {
            OpAction::Write { key, .. } => match world.resources.get(key) {
                Some(_) => Reply::json(200, super::arm::view(world, key)),
                None => Reply::empty(204),
            },
            _ => Reply::empty(204),
        },
    }
}
