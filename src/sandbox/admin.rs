//! The admin API under `/_sandbox/` (test instrumentation). Every endpoint needs the
//! admin token (`Authorization: Bearer TOKEN`, checked by the server) except reading a
//! hosted file (`GET /_sandbox/files/{name}`), which the sandbox itself fetches for
//! `*-link` imports as API Management fetches a public URL.

use serde_json::{Value, json};

use super::faults::FaultPlan;
use super::server::{Config, Reply, Shared, now_ms, set_faults};
use super::state::{Principal, World};

fn bad(message: impl Into<String>) -> Reply {
    Reply::json(
        400,
        json!({"error": {"code": "BadRequest", "message": message.into()}}),
    )
}

fn query_param(raw: &str, name: &str) -> Option<String> {
    super::journal::url_decode_pairs(raw)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Whether `method path` is served without the admin token.
pub(crate) fn is_public(method: &str, path: &str) -> bool {
    method == "GET" && path.starts_with("/_sandbox/files/")
}

/// Serve `/_sandbox/...`.
pub(crate) fn handle(
    shared: &Shared,
    method: &str,
    path: &str,
    raw_query: &str,
    content_type: Option<&str>,
    body: axum::body::Bytes,
) -> Reply {
    let sub = path.trim_start_matches("/_sandbox").trim_matches('/');
    if let Some(name) = sub.strip_prefix("files/").filter(|n| !n.is_empty()) {
        return file(shared, method, name, content_type, body);
    }
    let body: &[u8] = &body;
    match (method, sub) {
        ("GET", "journal") => journal(shared, raw_query),
        ("DELETE", "journal") => clear_journal(shared),
        ("GET", "resources") => resources(shared),
        ("GET", "deleted") => deleted(shared),
        ("POST", "reset") => reset(shared),
        ("GET", "faults") => {
            let rules = shared.rt().faults.rules.clone();
            Reply::json(200, json!({"rules": rules}))
        }
        ("POST", "faults") => post_faults(shared, raw_query, body),
        ("DELETE", "faults") => {
            set_faults(shared, FaultPlan::default(), false);
            Reply::empty(204)
        }
        ("GET", "config") => Reply::json(
            200,
            serde_json::to_value(&shared.rt().config).unwrap_or(Value::Null),
        ),
        ("POST", "config") => patch_config(shared, body),
        ("POST", "principals") => add_principal(shared, body),
        ("GET" | "POST", "preflight") => super::preflight::admin(shared, method, body),
        ("GET", "durations") => durations(),
        _ => Reply::json(
            404,
            json!({"error": {"code": "NotFound", "message": format!("no admin endpoint {method} /_sandbox/{sub}")}}),
        ),
    }
}

/// `GET /_sandbox/journal[?since=N]`: the journal entries after sequence `since`.
fn journal(shared: &Shared, raw_query: &str) -> Reply {
    let since = query_param(raw_query, "since")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let entries = shared
        .journal
        .lock()
        .map(|j| j.since(since))
        .unwrap_or_default();
    Reply::json(200, serde_json::to_value(entries).unwrap_or(Value::Null))
}

/// `DELETE /_sandbox/journal`: forget the journal.
fn clear_journal(shared: &Shared) -> Reply {
    if let Ok(mut j) = shared.journal.lock() {
        j.clear();
    }
    Reply::empty(204)
}

/// `GET /_sandbox/resources`: every stored resource, in creation order, with its
/// provisioning state now.
fn resources(shared: &Shared) -> Reply {
    let mut w = shared.world();
    super::lro::tick(&mut w);
    let mut items: Vec<&super::state::Resource> = w.resources.values().collect();
    items.sort_by_key(|r| r.seq);
    let list: Vec<Value> = items
        .iter()
        .map(|r| {
            let (_, state) = super::lro::state_now(&w, r);
            json!({"id": r.id, "type": r.type_name, "provisioningState": state})
        })
        .collect();
    Reply::json(200, Value::Array(list))
}

/// `GET /_sandbox/deleted`: the soft-deleted vaults, accounts and services.
fn deleted(shared: &Shared) -> Reply {
    let w = shared.world();
    let vaults: Vec<&String> = w.deleted_vaults.keys().collect();
    let accounts: Vec<&String> = w.deleted_accounts.keys().collect();
    let services: Vec<&String> = w.deleted_services.keys().collect();
    Reply::json(
        200,
        json!({"vaults": vaults, "accounts": accounts, "services": services}),
    )
}

/// `POST /_sandbox/reset`: an empty world (keeping issued tokens and the
/// pre-existing principals), an empty journal, no faults.
fn reset(shared: &Shared) -> Reply {
    {
        let mut w = shared.world();
        let tokens = std::mem::take(&mut w.tokens);
        let principals: Vec<(String, Principal)> = w
            .principals
            .iter()
            .filter(|(_, p)| p.created_ms == 0)
            .map(|(k, p)| (k.clone(), p.clone()))
            .collect();
        *w = World::default();
        w.tokens = tokens;
        w.principals.extend(principals);
        super::graph::ensure_builtins(&mut w);
    }
    if let Ok(mut j) = shared.journal.lock() {
        j.clear();
    }
    set_faults(shared, FaultPlan::default(), false);
    shared.mark_dirty();
    Reply::empty(204)
}

/// `POST /_sandbox/faults[?mode=append]`: install (or append) a fault plan.
fn post_faults(shared: &Shared, raw_query: &str, body: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(body);
    let plan = match FaultPlan::from_json_str(&text) {
        Ok(p) => p,
        Err(e) => return bad(e.to_string()),
    };
    let append = query_param(raw_query, "mode").is_some_and(|m| m == "append");
    set_faults(shared, plan, append);
    let rules = shared.rt().faults.rules.clone();
    Reply::json(200, json!({"rules": rules}))
}

/// `POST /_sandbox/config`: merge a JSON object onto the runtime configuration,
/// refusing a non-positive time scale or a negative delay.
fn patch_config(shared: &Shared, body: &[u8]) -> Reply {
    let patch: Value = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return bad("expected a JSON object"),
    };
    let mut rt = shared.rt();
    let mut current = serde_json::to_value(&rt.config).unwrap_or(Value::Null);
    current["client_secret"] = json!(rt.config.client_secret);
    super::arm::merge_patch(&mut current, &patch);
    let cfg: Config = match serde_json::from_value(current) {
        Ok(c) => c,
        Err(e) => return bad(e.to_string()),
    };
    let delays = [
        cfg.principal_delay_secs,
        cfg.graph_replication_delay_secs,
        cfg.rbac_propagation_secs,
    ];
    if !(cfg.time_scale.is_finite() && cfg.time_scale > 0.0)
        || delays.iter().any(|d| !d.is_finite() || *d < 0.0)
    {
        return bad(
            "time_scale must be > 0; principal_delay_secs, graph_replication_delay_secs and rbac_propagation_secs >= 0",
        );
    }
    rt.config = cfg;
    Reply::json(200, serde_json::to_value(&rt.config).unwrap_or(Value::Null))
}

/// `POST /_sandbox/principals`: add a principal (replicated unless told otherwise).
fn add_principal(shared: &Shared, body: &[u8]) -> Reply {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return bad(e.to_string()),
    };
    let Some(id) = v["id"].as_str().filter(|s| super::ids::is_guid(s)) else {
        return bad(
            "expected {\"id\": GUID, \"type\"?: \"User\"|\"Group\"|\"ServicePrincipal\", \"replicated\"?: bool}",
        );
    };
    let created_ms = if v["replicated"].as_bool() == Some(false) {
        now_ms()
    } else {
        0
    };
    shared.world().principals.insert(
        id.to_ascii_lowercase(),
        Principal {
            kind: v["type"].as_str().unwrap_or("User").to_string(),
            created_ms,
        },
    );
    shared.mark_dirty();
    Reply::empty(204)
}

/// `GET /_sandbox/durations`: each type's simulated create/update/delete durations.
fn durations() -> Reply {
    let table: Vec<Value> = super::types::TYPES
        .iter()
        .map(|t| {
            json!({
                "type": t.name, "create_secs": t.create_secs, "update_secs": t.update_secs,
                "delete_secs": t.delete_secs, "long_running": t.mode != super::types::Mode::Sync,
            })
        })
        .collect();
    Reply::json(200, Value::Array(table))
}

/// `/_sandbox/files/{name}`: a place to host documents (e.g. an OpenAPI file for an
/// `openapi+json-link` import) at a URL the sandbox itself can fetch.
fn file(
    shared: &Shared,
    method: &str,
    name: &str,
    content_type: Option<&str>,
    body: axum::body::Bytes,
) -> Reply {
    let Ok(mut files) = shared.files.lock() else {
        return bad("files unavailable");
    };
    match method {
        "PUT" => {
            let ct = content_type
                .unwrap_or("application/octet-stream")
                .to_string();
            files.insert(name.to_string(), (ct, body));
            Reply::empty(201)
        }
        "GET" => match files.get(name) {
            Some((ct, bytes)) => Reply::raw(200, ct, bytes.clone()),
            None => Reply::json(
                404,
                json!({"error": {"code": "NotFound", "message": format!("no file '{name}'")}}),
            ),
        },
        "DELETE" => {
            files.remove(name);
            Reply::empty(204)
        }
        _ => bad("files support PUT, GET and DELETE"),
    }
}
