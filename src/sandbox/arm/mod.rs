//! ARM: routing, the generic CRUD over the resource store, resource groups, actions,
//! soft-deleted items, conflicts and role assignment rules.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::ids::{self, ProviderPath, Target, key};
use super::lro;
use super::server::{Reply, Req, Shared, json_object, now_ms, rfc3339, sleep_ms};
use super::state::{OpAction, OpStatus, Principal, Resource, World};
use super::token::{self, Api, Claims};
use super::types::{self, Ctx, Mode, TypeDef};

mod groups;
mod openapi;
mod preflight;
mod special;
mod write;

use groups::{group, list_group_resources, list_groups};
use openapi::fetch_linked_document;
use special::{action, special};
use write::{delete, write};

const RESOURCE_GROUPS: &str = "Microsoft.Resources/resourceGroups";
const ROLE_ASSIGNMENTS: &str = "microsoft.authorization/roleassignments";

/// `/subscriptions/{s}/providers/{namespace}` (and its `/register`): served by
/// ARM although no resource type follows the namespace.
pub(crate) fn is_provider_path(path: &str) -> bool {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    matches!(segs.as_slice(), [s, _, p, _] | [s, _, p, _, _]
        if s.eq_ignore_ascii_case("subscriptions") && p.eq_ignore_ascii_case("providers"))
}

/// Serve an ARM request.
pub(crate) async fn handle(shared: &Arc<Shared>, req: &Req) -> Reply {
    if req.query("api-version").is_none_or(|v| v.trim().is_empty()) {
        return Reply::arm_error(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        );
    }
    let claims = {
        let w = shared.world();
        token::check(&w, req.header("authorization"), Api::Arm, &shared.base_url)
    };
    let claims = match claims {
        Ok(c) => c,
        Err(e) => return token::refusal(&e, Api::Arm, "common"),
    };
    if let Some(reply) = preflight::handle(shared, req) {
        return reply;
    }
    let Some(target) = ids::parse(&req.path) else {
        return Reply::arm_error(404, "NotFound", "Not an ARM path.");
    };
    // OpenAPI imports by link: fetch the document before taking the lock.
    let mut body_override = None;
    if let Target::Provider(p) = &target
        && req.method == "PUT"
        && p.is_instance()
        && p.type_name()
            .eq_ignore_ascii_case("Microsoft.ApiManagement/service/apis")
    {
        match fetch_linked_document(shared, &req.body).await {
            Ok(b) => body_override = b,
            Err(r) => return r,
        }
    }
    let (reply, wait_ms) = {
        let mut w = shared.world();
        lro::tick(&mut w);
        let mut ctx = Call {
            shared,
            req,
            claims: &claims,
            body_override,
        };
        route(&mut w, &mut ctx, &target)
    };
    if reply.status < 300 && req.is_write() {
        shared.mark_dirty();
    }
    sleep_ms(wait_ms).await;
    reply
}

struct Call<'a> {
    shared: &'a Shared,
    req: &'a Req,
    claims: &'a Claims,
    body_override: Option<Value>,
}

impl Call<'_> {
    fn body(&self) -> Result<Value, Reply> {
        match &self.body_override {
            Some(v) => Ok(v.clone()),
            None => json_object(&self.req.body),
        }
    }
}

fn method_not_allowed(req: &Req) -> Reply {
    Reply::arm_error(
        405,
        "MethodNotAllowed",
        format!(
            "The requested method '{}' is not allowed on '{}'.",
            req.method, req.path
        ),
    )
}

fn route(w: &mut World, c: &mut Call<'_>, target: &Target) -> (Reply, u64) {
    let m = c.req.method.as_str();
    let r = match target {
        Target::Subscription { sub } => match m {
            "GET" => Reply::json(
                200,
                json!({
                    "id": format!("/subscriptions/{sub}"),
                    "subscriptionId": sub,
                    "tenantId": c.claims.tid,
                    "displayName": "Sandbox subscription",
                    "state": "Enabled",
                    "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
                    "authorizationSource": "RoleBased"
                }),
            ),
            _ => method_not_allowed(c.req),
        },
        Target::ResourceGroups { sub } => match m {
            "GET" => list_groups(w, c, sub),
            _ => method_not_allowed(c.req),
        },
        Target::ResourceGroup { sub, rg } => return group(w, c, sub, rg),
        Target::GroupResources { sub, rg } => match m {
            "GET" => list_group_resources(w, c, sub, rg),
            _ => method_not_allowed(c.req),
        },
        Target::Provider(p) => {
            if let Some(r) = special(w, c, p) {
                return r;
            }
            if p.is_instance() {
                return match m {
                    "GET" => (get(w, p), 0),
                    "PUT" | "PATCH" => write(w, c, p),
                    "DELETE" => delete(w, c, p),
                    _ => (method_not_allowed(c.req), 0),
                };
            }
            match m {
                "GET" => list(w, c, p),
                "POST" => action(w, c, p),
                _ => method_not_allowed(c.req),
            }
        }
    };
    (r, 0)
}

// ---------------------------------------------------------------------------------------
// Views

/// The GET view of a stored resource: body plus provisioning state and inline children.
pub(crate) fn view(world: &World, k: &str) -> Value {
    let Some(res) = world.resources.get(k) else {
        return Value::Null;
    };
    let def = types::lookup(&res.type_name);
    let mut body = res.body.clone();
    let show_state = def.mode != Mode::Sync || def.name.is_empty() || def.name == RESOURCE_GROUPS;
    if show_state || res.pending.is_some() || res.failed.is_some() {
        let (prop, state) = lro::state_now(world, res);
        types::obj(&mut body, "properties").insert(prop.to_string(), json!(state));
    }
    for (prop, seg) in def.inline {
        let child_type = format!("{}/{seg}", res.type_name).to_ascii_lowercase();
        let prefix = format!("{k}/{}/", seg.to_ascii_lowercase());
        let mut kids: Vec<&Resource> = world
            .resources
            .range(prefix.clone()..)
            .take_while(|(kk, _)| kk.starts_with(&prefix))
            .filter(|(kk, r)| {
                !kk[prefix.len()..].contains('/') && r.type_name.to_ascii_lowercase() == child_type
            })
            .map(|(_, r)| r)
            .collect();
        kids.sort_by_key(|r| r.seq);
        let arr: Vec<Value> = kids.iter().map(|r| view(world, &key(&r.id))).collect();
        types::obj(&mut body, "properties").insert(prop.to_string(), Value::Array(arr));
    }
    body
}

fn view_reply(world: &World, k: &str, status: u16) -> Reply {
    let v = view(world, k);
    let etag = v["etag"].as_str().map(str::to_string);
    let r = Reply::json(status, v);
    match etag {
        Some(e) => r.header("ETag", e),
        None => r,
    }
}

// ---------------------------------------------------------------------------------------
// Existence checks

fn group_key(sub: &str, rg: &str) -> String {
    key(&ids::group_id(sub, rg))
}

fn group_not_found(rg: &str) -> Reply {
    Reply::arm_error(
        404,
        "ResourceGroupNotFound",
        format!("Resource group '{rg}' could not be found."),
    )
}

fn resource_not_found(p: &ProviderPath) -> Reply {
    let mut t = p.namespace.clone();
    for (i, ty) in p.types.iter().enumerate() {
        t.push('/');
        t.push_str(ty);
        if let Some(n) = p.names.get(i) {
            t.push('/');
            t.push_str(n);
        }
    }
    let msg = match &p.rg {
        Some(rg) => format!(
            "The Resource '{t}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
        None => format!(
            "The Resource '{t}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        ),
    };
    Reply::arm_error(404, "ResourceNotFound", msg)
}

/// Resource group, scope resource and parent must exist.
fn check_ancestors(w: &World, p: &ProviderPath) -> Result<(), Reply> {
    if let Some(rg) = &p.rg
        && !w.resources.contains_key(&group_key(&p.sub, rg))
    {
        return Err(group_not_found(rg));
    }
    if p.scope.to_ascii_lowercase().contains("/providers/")
        && !w.resources.contains_key(&key(&p.scope))
    {
        return Err(Reply::arm_error(
            404,
            "ResourceNotFound",
            format!(
                "The scope resource '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
                p.scope
            ),
        ));
    }
    if let Some(parent) = p.parent_id()
        && !w.resources.contains_key(&key(&parent))
    {
        let names = p.names[..p.types.len() - 1].join("/");
        return Err(Reply::arm_error(
            404,
            "ParentResourceNotFound",
            format!(
                "Can not perform requested operation on nested resource. Parent resource '{names}' not found."
            ),
        ));
    }
    Ok(())
}

fn group_deleting(w: &World, p: &ProviderPath) -> Option<Reply> {
    let rg = p.rg.as_ref()?;
    let r = w.resources.get(&group_key(&p.sub, rg))?;
    r.pending.as_ref()?;
    Some(Reply::arm_error(
        409,
        "ResourceGroupBeingDeleted",
        format!(
            "The resource group '{rg}' is in deprovisioning state and cannot perform this operation."
        ),
    ))
}

/// Canonical ID of an instance path: stored casing for what exists, provider casing for
/// types, names as sent.
fn canonical_id(w: &World, p: &ProviderPath, upto: usize) -> String {
    let scope = canonical_scope(w, &p.scope);
    let canon_type = types::canonical_type(&p.type_name());
    let segs: Vec<&str> = canon_type.split('/').collect();
    let mut id = format!(
        "{scope}/providers/{}",
        segs.first().copied().unwrap_or(&p.namespace)
    );
    for i in 0..upto {
        let ty = segs.get(i + 1).copied().unwrap_or(p.types[i].as_str());
        let candidate = format!("{id}/{ty}/{}", p.names[i]);
        id = match w.resources.get(&key(&candidate)) {
            Some(r) => r.id.clone(),
            None => candidate,
        };
    }
    id
}

fn canonical_scope(w: &World, scope: &str) -> String {
    if let Some(r) = w.resources.get(&key(scope)) {
        return r.id.clone();
    }
    match ids::parse(scope) {
        Some(Target::Subscription { sub }) => format!("/subscriptions/{sub}"),
        Some(Target::ResourceGroup { sub, rg }) => ids::group_id(&sub, &rg),
        Some(Target::Provider(p)) if p.is_instance() => canonical_id(w, &p, p.names.len()),
        _ => scope.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Generic CRUD

fn get(w: &World, p: &ProviderPath) -> Reply {
    if let Err(r) = check_ancestors(w, p) {
        return r;
    }
    let k = key(&p.id_as_sent(p.names.len()));
    if w.resources.contains_key(&k) {
        view_reply(w, &k, 200)
    } else {
        resource_not_found(p)
    }
}

fn list(w: &World, c: &Call<'_>, p: &ProviderPath) -> Reply {
    if let Err(r) = check_ancestors(w, p) {
        return r;
    }
    let last = p
        .types
        .last()
        .cloned()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let base = key(&p.id_as_sent(p.names.len()));
    let type_lower = p.type_name().to_ascii_lowercase();
    let is_ra = type_lower == ROLE_ASSIGNMENTS;
    let principal_filter = c
        .req
        .query("$filter")
        .and_then(|f| f.split_once("principalId eq "))
        .map(|(_, v)| v.trim().trim_matches('\'').to_ascii_lowercase());
    let mut items: Vec<&Resource> = if is_ra {
        // Role assignments: at the scope and below.
        let scope = key(&p.scope);
        w.resources
            .values()
            .filter(|r| {
                r.type_name.eq_ignore_ascii_case(ROLE_ASSIGNMENTS)
                    && key(&r.id).starts_with(&format!("{scope}/"))
            })
            .filter(|r| {
                principal_filter.as_ref().is_none_or(|pf| {
                    r.body["properties"]["principalId"]
                        .as_str()
                        .is_some_and(|x| x.eq_ignore_ascii_case(pf))
                })
            })
            .collect()
    } else if p.scope.split('/').filter(|x| !x.is_empty()).count() == 2 && p.types.len() == 1 {
        // A type listed at subscription scope: every resource group.
        let prefix = format!("/subscriptions/{}/", p.sub.to_ascii_lowercase());
        w.resources
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(_, r)| r.type_name.eq_ignore_ascii_case(&type_lower))
            .map(|(_, r)| r)
            .collect()
    } else {
        let prefix = format!("{base}/{last}/");
        w.resources
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, r)| {
                !k[prefix.len()..].contains('/') && r.type_name.eq_ignore_ascii_case(&type_lower)
            })
            .map(|(_, r)| r)
            .collect()
    };
    items.sort_by_key(|r| r.seq);
    let value: Vec<Value> = items.iter().map(|r| view(w, &key(&r.id))).collect();
    Reply::json(200, json!({"value": value}))
}

/// RFC 7396 JSON merge patch.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(pm) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    if let Value::Object(tm) = target {
        for (k, v) in pm {
            if v.is_null() {
                tm.remove(k);
            } else {
                merge_patch(tm.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

fn apim_service_key(p: &ProviderPath) -> Option<String> {
    if !p.namespace.eq_ignore_ascii_case("Microsoft.ApiManagement")
        || p.types.is_empty()
        || p.names.is_empty()
        || !p.types[0].eq_ignore_ascii_case("service")
    {
        return None;
    }
    Some(key(&format!(
        "{}/providers/{}/{}/{}",
        p.scope, p.namespace, p.types[0], p.names[0]
    )))
}

/// 409s for writes Azure refuses while something else runs.
fn conflicts(w: &World, p: &ProviderPath, own_key: &str) -> Option<Reply> {
    // APIM: nothing under a service that is not Succeeded.
    // The service itself may be written again once it failed (to repair it).
    let own_service = p.types.len() == 1;
    if let Some(sk) = apim_service_key(p)
        && let Some(svc) = w.resources.get(&sk)
        && (svc.pending.is_some() || (svc.failed.is_some() && !own_service))
    {
        return Some(Reply::arm_error(
            409,
            "ServiceLocked",
            format!(
                "The API Management service '{}' is transitioning at this time (provisioning state '{}'). Please try the request again later.",
                p.names[0],
                lro::state_now(w, svc).1
            ),
        ));
    }
    // PostgreSQL: no child (database, configuration, firewall rule) written while
    // the server is provisioning or updating (Azure/azure-postgresql#134).
    if p.namespace
        .eq_ignore_ascii_case("Microsoft.DBforPostgreSQL")
        && p.types.len() >= 2
        && p.types[0].eq_ignore_ascii_case("flexibleServers")
        && let Some(server) = w.resources.get(&key(&p.id_as_sent(1)))
        && server.pending.is_some()
    {
        return Some(Reply::arm_error(
            409,
            "ServerIsBusy",
            format!(
                "Cannot complete operation while server '{}' is busy processing another operation. Try again later.",
                p.names[0]
            ),
        ));
    }
    // Cognitive Services: one deployment write at a time per account.
    if p.namespace
        .eq_ignore_ascii_case("Microsoft.CognitiveServices")
        && p.types.len() == 2
        && p.types[0].eq_ignore_ascii_case("accounts")
        && p.types[1].eq_ignore_ascii_case("deployments")
    {
        let account = key(&p.id_as_sent(1));
        let prefix = format!("{account}/deployments/");
        let account_busy = w
            .resources
            .get(&account)
            .is_some_and(|a| a.pending.is_some());
        let busy = account_busy
            || w.resources
                .range(prefix.clone()..)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .any(|(k, r)| k != own_key && r.pending.is_some());
        if busy {
            let account_id = w
                .resources
                .get(&account)
                .map(|a| a.id.clone())
                .unwrap_or(account);
            return Some(Reply::arm_error(
                409,
                "RequestConflict",
                format!(
                    "Another operation is being performed on the parent resource '{account_id}'. Please try again later."
                ),
            ));
        }
    }
    if let Some(r) = w.resources.get(own_key)
        && let Some(op) = &r.pending
    {
        return Some(Reply::arm_error(
            409,
            "AnotherOperationInProgress",
            format!(
                "Operation on resource '{}' cannot be performed because another operation ({op}) on this resource is in progress.",
                r.id
            ),
        ));
    }
    None
}
