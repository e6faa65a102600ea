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

const RESOURCE_GROUPS: &str = "Microsoft.Resources/resourceGroups";
const ROLE_ASSIGNMENTS: &str = "microsoft.authorization/roleassignments";

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
// Resource groups

fn group(w: &mut World, c: &mut Call<'_>, sub: &str, rg: &str) -> (Reply, u64) {
    let k = group_key(sub, rg);
    let def = types::lookup(RESOURCE_GROUPS);
    match c.req.method.as_str() {
        "GET" => match w.resources.get(&k) {
            Some(_) => (view_reply(w, &k, 200), 0),
            None => (group_not_found(rg), 0),
        },
        "PUT" | "PATCH" => {
            let input = match c.body() {
                Ok(v) => v,
                Err(r) => return (r, 0),
            };
            let existing = w.resources.get(&k).cloned();
            if let Some(e) = &existing
                && e.pending.is_some()
            {
                return (
                    Reply::arm_error(
                        409,
                        "ResourceGroupBeingDeleted",
                        format!(
                            "The resource group '{rg}' is in deprovisioning state and cannot perform this operation."
                        ),
                    ),
                    0,
                );
            }
            let patch = c.req.method == "PATCH";
            if patch && existing.is_none() {
                return (group_not_found(rg), 0);
            }
            let mut body = if patch {
                let mut b = existing
                    .as_ref()
                    .map(|e| e.body.clone())
                    .unwrap_or_else(|| json!({}));
                merge_patch(&mut b, &input);
                b
            } else {
                input
            };
            let location = body["location"]
                .as_str()
                .map(ids::normalize_location)
                .unwrap_or_default();
            if location.is_empty() {
                return (
                    Reply::arm_error(
                        400,
                        "LocationRequired",
                        "The location property is required for this definition.",
                    ),
                    0,
                );
            }
            if let Some(e) = &existing {
                let old = e.body["location"].as_str().unwrap_or("");
                if old != location {
                    return (
                        Reply::arm_error(
                            409,
                            "InvalidResourceGroupLocation",
                            format!(
                                "Invalid resource group location '{location}'. The Resource group already exists in location '{old}'."
                            ),
                        ),
                        0,
                    );
                }
            }
            let id = existing
                .as_ref()
                .map(|e| e.id.clone())
                .unwrap_or_else(|| ids::group_id(sub, rg));
            let name = id.rsplit('/').next().unwrap_or(rg).to_string();
            let mut out = Map::new();
            out.insert("id".into(), json!(id));
            out.insert("name".into(), json!(name));
            out.insert("type".into(), json!(RESOURCE_GROUPS));
            out.insert("location".into(), json!(location));
            if let Some(t) = body.get("tags").filter(|t| t.is_object()) {
                out.insert("tags".into(), t.clone());
            }
            if let Some(m) = body.get("managedBy").filter(|t| t.is_string()) {
                out.insert("managedBy".into(), m.clone());
            }
            out.insert("properties".into(), json!({}));
            body = Value::Object(out);
            let created = existing.is_none();
            let seq = existing
                .as_ref()
                .map(|e| e.seq)
                .unwrap_or_else(|| w.next_seq());
            w.resources.insert(
                k.clone(),
                Resource {
                    id,
                    type_name: RESOURCE_GROUPS.into(),
                    body,
                    created_ms: existing
                        .as_ref()
                        .map(|e| e.created_ms)
                        .unwrap_or_else(now_ms),
                    seq,
                    pending: None,
                    failed: None,
                },
            );
            let secs = if created {
                def.create_secs
            } else {
                def.update_secs
            };
            (
                view_reply(w, &k, if created { 201 } else { 200 }),
                c.shared.scaled_ms(secs),
            )
        }
        "DELETE" => {
            let Some(res) = w.resources.get(&k).cloned() else {
                return (group_not_found(rg), 0);
            };
            let op_id = match &res.pending {
                Some(op) => op.clone(),
                None => {
                    let op = lro::start(
                        w,
                        c.shared,
                        OpAction::Delete { key: k.clone() },
                        def.delete_secs,
                        c.req.fail_lro.clone(),
                    );
                    if let Some(r) = w.resources.get_mut(&k) {
                        r.pending = Some(op.clone());
                    }
                    op
                }
            };
            let Some(op) = w.operations.get(&op_id) else {
                return (Reply::empty(202), 0);
            };
            let reply = Reply::empty(202).header(
                "Location",
                format!("{}/subscriptions/{sub}/providers/Microsoft.Resources/locations/global/operationResults/{}?api-version=2024-11-01", c.shared.base_url, op.id),
            );
            (super::server::retry_headers(reply, op.retry_after_ms), 0)
        }
        _ => (method_not_allowed(c.req), 0),
    }
}

fn tag_filter(filter: Option<&str>) -> Result<Vec<(String, String)>, Reply> {
    // Supports: tagName eq 'K' [and tagValue eq 'V'], resourceType eq 'T', name eq 'N'.
    let mut clauses = Vec::new();
    let Some(f) = filter.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(clauses);
    };
    for part in f.split(" and ") {
        let part = part.trim();
        let Some((field, rest)) = part.split_once(" eq ") else {
            return Err(Reply::arm_error(
                400,
                "InvalidFilterInQueryString",
                format!(
                    "Invalid $filter '{f}': only 'field eq 'value'' clauses joined by 'and' are supported."
                ),
            ));
        };
        let value = rest.trim().trim_matches('\'').to_string();
        let field = field.trim().to_string();
        if !["tagName", "tagValue", "resourceType", "name"]
            .iter()
            .any(|x| x.eq_ignore_ascii_case(&field))
        {
            return Err(Reply::arm_error(
                400,
                "InvalidFilterInQueryString",
                format!("Invalid $filter '{f}': unsupported field '{field}'."),
            ));
        }
        clauses.push((field.to_ascii_lowercase(), value));
    }
    Ok(clauses)
}

fn matches_filter(body: &Value, type_name: &str, clauses: &[(String, String)]) -> bool {
    let tag_name = clauses.iter().find(|(f, _)| f == "tagname").map(|(_, v)| v);
    let tag_value = clauses
        .iter()
        .find(|(f, _)| f == "tagvalue")
        .map(|(_, v)| v);
    if let Some(n) = tag_name {
        let tags = body["tags"].as_object();
        let found = tags.and_then(|t| {
            t.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        });
        match (found, tag_value) {
            (None, _) => return false,
            (Some(v), Some(want)) if v.as_str() != Some(want.as_str()) => return false,
            _ => {}
        }
    }
    for (f, v) in clauses {
        match f.as_str() {
            "resourcetype" if !type_name.eq_ignore_ascii_case(v) => return false,
            "name"
                if !body["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(v)) =>
            {
                return false;
            }
            _ => {}
        }
    }
    true
}

fn list_groups(w: &World, c: &Call<'_>, sub: &str) -> Reply {
    let clauses = match tag_filter(c.req.query("$filter")) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let prefix = format!(
        "/subscriptions/{}/resourcegroups/",
        sub.to_ascii_lowercase()
    );
    let value: Vec<Value> = w
        .resources
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter(|(k, r)| {
            !k[prefix.len()..].contains('/') && matches_filter(&r.body, &r.type_name, &clauses)
        })
        .map(|(k, _)| view(w, k))
        .collect();
    Reply::json(200, json!({"value": value}))
}

fn list_group_resources(w: &World, c: &Call<'_>, sub: &str, rg: &str) -> Reply {
    let gk = group_key(sub, rg);
    if !w.resources.contains_key(&gk) {
        return group_not_found(rg);
    }
    let clauses = match tag_filter(c.req.query("$filter")) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let prefix = format!("{gk}/providers/");
    let mut items: Vec<&Resource> = w
        .resources
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter(|(k, _)| k[prefix.len()..].split('/').count() == 3)
        .filter(|(_, r)| matches_filter(&r.body, &r.type_name, &clauses))
        .map(|(_, r)| r)
        .collect();
    items.sort_by_key(|r| r.seq);
    let value: Vec<Value> = items
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("id".into(), json!(r.id));
            for f in [
                "name",
                "type",
                "sku",
                "kind",
                "location",
                "identity",
                "managedBy",
                "tags",
            ] {
                if let Some(v) = r.body.get(f).filter(|v| !v.is_null()) {
                    m.insert(f.into(), v.clone());
                }
            }
            Value::Object(m)
        })
        .collect();
    Reply::json(200, json!({"value": value}))
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
                r.type_name.eq_ignore_ascii_case(ROLE_ASSIGNMENTS) && key(&r.id).starts_with(&scope)
            })
            .filter(|r| {
                principal_filter.as_ref().is_none_or(|pf| {
                    r.body["properties"]["principalId"]
                        .as_str()
                        .is_some_and(|x| x.eq_ignore_ascii_case(pf))
                })
            })
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
        || p.types.len() < 2
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
    if let Some(sk) = apim_service_key(p)
        && let Some(svc) = w.resources.get(&sk)
        && (svc.pending.is_some() || svc.failed.is_some())
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

struct Built {
    body: Value,
}

/// Compute the stored body of a resource from its input.
#[allow(clippy::too_many_arguments)]
fn build(
    w: &World,
    c: &Call<'_>,
    def: &TypeDef,
    id: &str,
    names: &[String],
    p: &ProviderPath,
    input: Value,
    created_ms: u64,
) -> Built {
    let type_name = if def.name.is_empty() {
        types::canonical_type(&p.type_name())
    } else {
        def.name.to_string()
    };
    let mut src = input;
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    out.insert(
        "name".into(),
        json!(names.last().cloned().unwrap_or_default()),
    );
    out.insert("type".into(), json!(type_name));
    if let Value::Object(m) = &mut src {
        for ro in ["id", "name", "type", "etag", "systemData"] {
            m.remove(ro);
        }
        if let Some(Value::Object(props)) = m.get_mut("properties") {
            props.remove(def.states.prop);
            props.remove("provisioningState");
        }
        if let Some(loc) = m.get("location").and_then(Value::as_str) {
            let n = ids::normalize_location(loc);
            m.insert("location".into(), json!(n));
        }
        for (k, v) in std::mem::take(m) {
            out.insert(k, v);
        }
    }
    let mut body = Value::Object(out);
    let now = now_ms();
    {
        let mut ctx = Ctx {
            id,
            names,
            sub: &p.sub,
            rg: p.rg.as_deref(),
            body: &mut body,
            world: w,
            tenant: &c.claims.tid,
            created_ms,
            now_ms: now,
        };
        types::identities(&mut ctx);
        if let Some(f) = def.compute {
            f(&mut ctx);
        }
    }
    types::strip_secrets(&mut body, def.secrets);
    let etag_seed = format!("{id}{now}{}", rand::random::<u64>());
    let digest = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(etag_seed.as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        b
    };
    let guid = uuid::Builder::from_random_bytes(digest)
        .into_uuid()
        .to_string();
    let etag = match def.etag {
        types::Etag::None => None,
        types::Etag::WeakGuid => Some(format!("W/\"{guid}\"")),
        types::Etag::Guid => Some(guid),
        types::Etag::Datetime => Some(format!(
            "W/\"datetime'{}'\"",
            rfc3339(now).replace(':', "%3A")
        )),
        types::Etag::Quoted => Some(format!("\"{}\"", &guid.replace('-', "")[..16])),
    };
    if let Value::Object(m) = &mut body {
        if let Some(e) = etag {
            m.insert("etag".into(), json!(e));
        }
        if def.system_data {
            let who = c.claims.oid.clone();
            m.insert(
                "systemData".into(),
                json!({
                    "createdBy": who, "createdByType": "Application", "createdAt": rfc3339(created_ms),
                    "lastModifiedBy": who, "lastModifiedByType": "Application", "lastModifiedAt": rfc3339(now)
                }),
            );
        }
    }
    Built { body }
}

fn register_principals(w: &mut World, body: &Value, type_name: &str) {
    let now = now_ms();
    let mut ids = Vec::new();
    if let Some(pid) = body["identity"]["principalId"].as_str() {
        ids.push(pid.to_ascii_lowercase());
    }
    if type_name.eq_ignore_ascii_case("Microsoft.ManagedIdentity/userAssignedIdentities")
        && let Some(pid) = body["properties"]["principalId"].as_str()
    {
        ids.push(pid.to_ascii_lowercase());
    }
    for id in ids {
        w.principals.entry(id).or_insert(Principal {
            kind: "ServicePrincipal".into(),
            created_ms: now,
        });
    }
}

fn role_assignment_checks(
    w: &World,
    c: &Call<'_>,
    p: &ProviderPath,
    input: &Value,
    own_key: &str,
) -> Option<Reply> {
    let name = p.names.last().map(String::as_str).unwrap_or("");
    if !ids::is_guid(name) {
        return Some(Reply::arm_error(
            400,
            "InvalidRoleAssignmentId",
            format!(
                "The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."
            ),
        ));
    }
    let props = &input["properties"];
    let (Some(principal), Some(role)) = (
        props["principalId"].as_str(),
        props["roleDefinitionId"].as_str(),
    ) else {
        return Some(super::server::invalid_content(
            "Required properties 'principalId' and 'roleDefinitionId' not found in JSON. Path 'properties'.",
        ));
    };
    let role_guid = role.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
    if let Some(existing) = w.resources.get(own_key) {
        let ep = existing.body["properties"]["principalId"]
            .as_str()
            .unwrap_or("");
        let er = existing.body["properties"]["roleDefinitionId"]
            .as_str()
            .unwrap_or("");
        if !ep.eq_ignore_ascii_case(principal)
            || !er
                .rsplit('/')
                .next()
                .unwrap_or("")
                .eq_ignore_ascii_case(&role_guid)
        {
            return Some(Reply::arm_error(
                400,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            ));
        }
        return None;
    }
    // Principal known and replicated?
    let delay = c.shared.principal_delay_ms(c.req.principal_delay_secs);
    let replicated = w
        .principals
        .get(&principal.to_ascii_lowercase())
        .is_some_and(|pr| now_ms().saturating_sub(pr.created_ms) >= delay);
    if !replicated {
        return Some(Reply::arm_error(
            400,
            "PrincipalNotFound",
            format!(
                "Principal {} does not exist in the directory {}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group. See https://aka.ms/docs-principaltype",
                principal.replace('-', ""),
                c.claims.tid
            ),
        ));
    }
    // Same (scope, role, principal) under another name?
    let scope = key(&p.scope);
    let dup = w.resources.iter().find(|(k, r)| {
        k.as_str() != own_key
            && r.type_name.eq_ignore_ascii_case(ROLE_ASSIGNMENTS)
            && key(r.body["properties"]["scope"].as_str().unwrap_or("")) == scope
            && r.body["properties"]["principalId"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(principal))
            && r.body["properties"]["roleDefinitionId"]
                .as_str()
                .is_some_and(|x| {
                    x.rsplit('/')
                        .next()
                        .unwrap_or("")
                        .eq_ignore_ascii_case(&role_guid)
                })
    });
    if let Some((_, r)) = dup {
        let existing_name = r.id.rsplit('/').next().unwrap_or("");
        return Some(Reply::arm_error(
            409,
            "RoleAssignmentExists",
            format!(
                "The role assignment already exists. The ID of the existing role assignment is {existing_name}."
            ),
        ));
    }
    None
}

fn soft_delete_checks(
    w: &mut World,
    p: &ProviderPath,
    def: &TypeDef,
    input: &Value,
    exists: bool,
) -> Result<Option<Vec<Resource>>, Reply> {
    if exists {
        return Ok(None);
    }
    let name = p.names.last().cloned().unwrap_or_default();
    if def.name == "Microsoft.KeyVault/vaults" {
        let dk = name.to_ascii_lowercase();
        if let Some(d) = w.deleted_vaults.get(&dk) {
            let recover = input["properties"]["createMode"]
                .as_str()
                .is_some_and(|m| m.eq_ignore_ascii_case("recover"));
            if recover && d.purging.is_none() {
                return Ok(w.deleted_vaults.remove(&dk).map(|d| d.resources));
            }
            return Err(Reply::arm_error(
                409,
                "ConflictError",
                format!(
                    "A vault with the same name already exists in deleted state. You need to either recover or purge existing deleted vault '{name}'."
                ),
            ));
        }
        if input["properties"]["createMode"]
            .as_str()
            .is_some_and(|m| m.eq_ignore_ascii_case("recover"))
        {
            return Err(Reply::arm_error(
                404,
                "ResourceNotFound",
                format!("A deleted vault named '{name}' was not found, so it cannot be recovered."),
            ));
        }
    }
    if def.name == "Microsoft.CognitiveServices/accounts" {
        let location = input["location"]
            .as_str()
            .map(ids::normalize_location)
            .unwrap_or_default();
        let dk = lro::account_key(&p.sub, &location, p.rg.as_deref().unwrap_or(""), &name);
        if let Some(d) = w.deleted_accounts.get(&dk) {
            if input["properties"]["restore"].as_bool() == Some(true) && d.purging.is_none() {
                return Ok(w.deleted_accounts.remove(&dk).map(|d| d.resources));
            }
            let id = d
                .resources
                .first()
                .map(|r| r.id.clone())
                .unwrap_or_default();
            return Err(Reply::arm_error(
                409,
                "FlagMustBeSetForRestore",
                format!(
                    "An existing resource with ID '{id}' has been soft-deleted. To restore the resource, you must specify 'restore' to be 'true' in the property. If you don't want to restore existing resource, please purge it first."
                ),
            ));
        }
    }
    Ok(None)
}

fn global_name_check(w: &World, def: &TypeDef, p: &ProviderPath, own_key: &str) -> Option<Reply> {
    let code = def.global_name?;
    let name = p.names.last()?;
    let taken = w.resources.iter().any(|(k, r)| {
        k.as_str() != own_key
            && r.type_name == def.name
            && r.id
                .rsplit('/')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
    });
    if !taken {
        return None;
    }
    let msg = match code {
        "StorageAccountAlreadyTaken" => {
            format!("The storage account named {name} is already taken.")
        }
        "VaultAlreadyExists" => format!(
            "The vault name '{name}' is already in use. Vault names are globally unique so it is possible that the name is already taken."
        ),
        _ => format!(
            "The name '{name}' is already in use: names of {} are globally unique.",
            def.name
        ),
    };
    Some(Reply::arm_error(409, code, msg))
}

fn write(w: &mut World, c: &mut Call<'_>, p: &ProviderPath) -> (Reply, u64) {
    let r = write_inner(w, c, p);
    match r {
        Ok(x) => x,
        Err(reply) => (reply, 0),
    }
}

fn write_inner(w: &mut World, c: &mut Call<'_>, p: &ProviderPath) -> Result<(Reply, u64), Reply> {
    check_ancestors(w, p)?;
    if let Some(r) = group_deleting(w, p) {
        return Err(r);
    }
    let type_name = p.type_name();
    let def = types::lookup(&type_name);
    let own_key = key(&p.id_as_sent(p.names.len()));
    let existing = w.resources.get(&own_key).cloned();
    let patch = c.req.method == "PATCH";
    if patch && existing.is_none() {
        return Err(resource_not_found(p));
    }
    let input = c.body()?;
    if !patch {
        if def.tracked
            && input["location"]
                .as_str()
                .is_none_or(|l| l.trim().is_empty())
        {
            return Err(Reply::arm_error(
                400,
                "LocationRequired",
                "The location property is required for this definition.",
            ));
        }
        if def.requires_properties && !input.get("properties").is_some_and(Value::is_object) {
            return Err(super::server::invalid_content(
                "Required property 'properties' not found in JSON. Path '', line 1, position 2.",
            ));
        }
    }
    if let (Some(e), Some(new)) = (&existing, input["location"].as_str())
        && let Some(old) = e.body["location"].as_str()
        && !old.is_empty()
        && ids::normalize_location(new) != old
    {
        return Err(Reply::arm_error(
            400,
            "InvalidResourceLocation",
            format!(
                "The resource '{}' already exists in location '{old}' in resource group '{}'. A resource with the same name cannot be created in location '{}'. Please select a new resource name.",
                p.names.last().cloned().unwrap_or_default(),
                p.rg.clone().unwrap_or_default(),
                ids::normalize_location(new)
            ),
        ));
    }
    if type_name.eq_ignore_ascii_case(ROLE_ASSIGNMENTS)
        && let Some(r) = role_assignment_checks(w, c, p, &input, &own_key)
    {
        return Err(r);
    }
    if let Some(r) = conflicts(w, p, &own_key) {
        return Err(r);
    }
    if let Some(r) = global_name_check(w, def, p, &own_key) {
        return Err(r);
    }
    let restored = soft_delete_checks(w, p, def, &input, existing.is_some())?;
    if let Some(resources) = restored {
        // Recovered: put the vault/account and its children back, then apply the input.
        for r in resources {
            w.resources.insert(key(&r.id), r);
        }
    }
    let existing = w.resources.get(&own_key).cloned();
    let created = existing.is_none();

    // Synchronous types fail at once under a fail_lro fault.
    if def.mode == Mode::Sync
        && let Some((status, err)) = &c.req.fail_lro
    {
        return Err(Reply::json(*status, json!({"error": err})));
    }

    let mut src = if patch {
        let mut b = existing
            .as_ref()
            .map(|e| e.body.clone())
            .unwrap_or_else(|| json!({}));
        merge_patch(&mut b, &input);
        b
    } else {
        input.clone()
    };

    // OpenAPI import (APIM apis): operations from the document, never the document itself.
    let mut import_ops: Option<Vec<(String, Value)>> = None;
    let mut duration = if created {
        def.create_secs
    } else if patch {
        def.update_secs
    } else {
        def.update_secs.max(0.0)
    };
    if def.name == "Microsoft.ApiManagement/service/apis" {
        match import_operations(&mut src) {
            Ok(Some(ops)) => import_ops = Some(ops),
            Ok(None) => duration = 2.0,
            Err(r) => return Err(r),
        }
    }

    // Inline children (VNet subnets, NSG rules, routes).
    let mut inline_children: Vec<(String, Option<Vec<Value>>)> = Vec::new();
    for (prop, seg) in def.inline {
        let given = src["properties"].get(*prop).cloned();
        if let Some(Value::Object(props)) = src.get_mut("properties") {
            props.remove(*prop);
        }
        match given {
            Some(Value::Array(items)) => inline_children.push((seg.to_string(), Some(items))),
            Some(Value::Null) | None if !patch => inline_children.push((seg.to_string(), None)),
            Some(other) if !other.is_null() => {
                return Err(super::server::invalid_content(&format!(
                    "Property '{prop}' must be an array."
                )));
            }
            _ => {}
        }
    }

    let id = match &existing {
        Some(e) => e.id.clone(),
        None => canonical_id(w, p, p.names.len()),
    };
    let created_ms = existing
        .as_ref()
        .map(|e| e.created_ms)
        .unwrap_or_else(now_ms);
    let built = build(w, c, def, &id, &p.names, p, src, created_ms);
    register_principals(w, &built.body, def.name);
    let seq = existing
        .as_ref()
        .map(|e| e.seq)
        .unwrap_or_else(|| w.next_seq());
    w.resources.insert(
        own_key.clone(),
        Resource {
            id: id.clone(),
            type_name: if def.name.is_empty() {
                types::canonical_type(&type_name)
            } else {
                def.name.to_string()
            },
            body: built.body,
            created_ms,
            seq,
            pending: None,
            failed: None,
        },
    );

    // Children written through the parent.
    for (seg, items) in inline_children {
        let child_type = format!("{type_name}/{seg}");
        let child_def = types::lookup(&child_type);
        let prefix = format!("{own_key}/{}/", seg.to_ascii_lowercase());
        let existing_children: Vec<String> = w
            .resources
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| !k[prefix.len()..].contains('/'))
            .map(|(k, _)| k.clone())
            .collect();
        let mut keep = Vec::new();
        for item in items.unwrap_or_default() {
            let Some(name) = item["name"].as_str().map(str::to_string) else {
                return Err(super::server::invalid_content(&format!(
                    "Each item of '{seg}' needs a 'name'."
                )));
            };
            let mut child_path = p.clone();
            child_path.types.push(seg.clone());
            child_path.names.push(name.clone());
            let ck = key(&child_path.id_as_sent(child_path.names.len()));
            let prev = w.resources.get(&ck).cloned();
            let cid = prev.as_ref().map(|r| r.id.clone()).unwrap_or_else(|| {
                format!(
                    "{id}/{}/{name}",
                    types::canonical_type(&child_type)
                        .rsplit('/')
                        .next()
                        .unwrap_or(&seg)
                )
            });
            let ccreated = prev.as_ref().map(|r| r.created_ms).unwrap_or_else(now_ms);
            let cinput =
                json!({"properties": item.get("properties").cloned().unwrap_or_else(|| json!({}))});
            let cb = build(
                w,
                c,
                child_def,
                &cid,
                &child_path.names,
                &child_path,
                cinput,
                ccreated,
            );
            let cseq = prev.as_ref().map(|r| r.seq).unwrap_or_else(|| w.next_seq());
            w.resources.insert(
                ck.clone(),
                Resource {
                    id: cid,
                    type_name: child_def.name.to_string(),
                    body: cb.body,
                    created_ms: ccreated,
                    seq: cseq,
                    pending: None,
                    failed: None,
                },
            );
            keep.push(ck);
        }
        for k in existing_children {
            if !keep.contains(&k) {
                lro::remove_tree(w, &k, now_ms());
            }
        }
    }

    // Imported operations replace the API's operations.
    if let Some(ops) = import_ops {
        let prefix = format!("{own_key}/operations/");
        let old: Vec<String> = w
            .resources
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in old {
            w.resources.remove(&k);
        }
        let op_def = types::lookup("Microsoft.ApiManagement/service/apis/operations");
        for (name, props) in ops {
            let mut op_path = p.clone();
            op_path.types.push("operations".into());
            op_path.names.push(name.clone());
            let oid = format!("{id}/operations/{name}");
            let ob = build(
                w,
                c,
                op_def,
                &oid,
                &op_path.names,
                &op_path,
                json!({"properties": props}),
                now_ms(),
            );
            let s = w.next_seq();
            w.resources.insert(
                key(&oid),
                Resource {
                    id: oid,
                    type_name: op_def.name.to_string(),
                    body: ob.body,
                    created_ms: now_ms(),
                    seq: s,
                    pending: None,
                    failed: None,
                },
            );
        }
    }

    // Completion.
    match def.mode {
        Mode::Sync => {
            let status = if created { def.create_code } else { 200 };
            Ok((
                view_reply(w, &own_key, status),
                c.shared.scaled_ms(duration),
            ))
        }
        Mode::Async201 | Mode::Async202 => {
            let op_id = lro::start(
                w,
                c.shared,
                OpAction::Write {
                    key: own_key.clone(),
                    create: created,
                },
                duration,
                c.req.fail_lro.clone(),
            );
            if let Some(r) = w.resources.get_mut(&own_key) {
                r.pending = Some(op_id.clone());
            }
            let location = w
                .resources
                .get(&own_key)
                .and_then(|r| r.body["location"].as_str().map(str::to_string))
                .unwrap_or_default();
            let reply = if def.mode == Mode::Async202 {
                Reply::empty(202)
            } else {
                view_reply(w, &own_key, if created { 201 } else { 200 })
            };
            let Some(op) = w.operations.get(&op_id) else {
                return Ok((reply, 0));
            };
            Ok((
                lro::headers(reply, c.shared, op, &p.sub, &p.namespace, &location),
                0,
            ))
        }
    }
}

fn delete(w: &mut World, c: &mut Call<'_>, p: &ProviderPath) -> (Reply, u64) {
    if let Some(rg) = &p.rg
        && !w.resources.contains_key(&group_key(&p.sub, rg))
    {
        return (group_not_found(rg), 0);
    }
    let own_key = key(&p.id_as_sent(p.names.len()));
    let Some(res) = w.resources.get(&own_key).cloned() else {
        return (Reply::empty(204), 0);
    };
    if let Some(r) = conflicts(w, p, &own_key) {
        return (r, 0);
    }
    let def = types::lookup(&res.type_name);
    match def.mode {
        Mode::Sync => {
            if let Some((status, err)) = &c.req.fail_lro {
                return (Reply::json(*status, json!({"error": err})), 0);
            }
            lro::remove_tree(w, &own_key, now_ms());
            (Reply::empty(200), c.shared.scaled_ms(def.delete_secs))
        }
        _ => {
            let op_id = lro::start(
                w,
                c.shared,
                OpAction::Delete {
                    key: own_key.clone(),
                },
                def.delete_secs,
                c.req.fail_lro.clone(),
            );
            if let Some(r) = w.resources.get_mut(&own_key) {
                r.pending = Some(op_id.clone());
            }
            let location = res.body["location"].as_str().unwrap_or("").to_string();
            let Some(op) = w.operations.get(&op_id) else {
                return (Reply::empty(202), 0);
            };
            (
                lro::headers(
                    Reply::empty(202),
                    c.shared,
                    op,
                    &p.sub,
                    &p.namespace,
                    &location,
                ),
                0,
            )
        }
    }
}

// ---------------------------------------------------------------------------------------
// Actions (POST)

fn action(w: &World, c: &Call<'_>, p: &ProviderPath) -> Reply {
    let action_name = p.types.last().cloned().unwrap_or_default();
    let mut res_path = p.clone();
    res_path.types.pop();
    if res_path.types.is_empty() {
        return method_not_allowed(c.req);
    }
    if let Err(r) = check_ancestors(w, &res_path) {
        return r;
    }
    let k = key(&res_path.id_as_sent(res_path.names.len()));
    let Some(res) = w.resources.get(&k) else {
        return resource_not_found(&res_path);
    };
    let t = res.type_name.to_ascii_lowercase();
    let derive = |label: &str, len: usize| {
        use sha2::Digest;
        let mut out = Vec::new();
        let mut i = 0u8;
        while out.len() < len {
            let d = sha2::Sha256::digest(format!("{}{}{label}{i}", k, res.created_ms).as_bytes());
            out.extend_from_slice(&d);
            i += 1;
        }
        out.truncate(len);
        out
    };
    use base64::Engine as _;
    match (t.as_str(), action_name.to_ascii_lowercase().as_str()) {
        ("microsoft.storage/storageaccounts", "listkeys") => {
            let created = rfc3339(res.created_ms);
            let k1 = base64::engine::general_purpose::STANDARD.encode(derive("key1", 64));
            let k2 = base64::engine::general_purpose::STANDARD.encode(derive("key2", 64));
            Reply::json(
                200,
                json!({"keys": [
                    {"creationTime": created, "keyName": "key1", "value": k1, "permissions": "FULL"},
                    {"creationTime": created, "keyName": "key2", "value": k2, "permissions": "FULL"}
                ]}),
            )
        }
        ("microsoft.cognitiveservices/accounts", "listkeys") => {
            let hex = |b: Vec<u8>| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
            Reply::json(
                200,
                json!({"key1": hex(derive("key1", 16)), "key2": hex(derive("key2", 16))}),
            )
        }
        _ => Reply::arm_error(
            404,
            "InvalidResourceType",
            format!(
                "The resource type '{}/{action_name}' could not be found in the namespace '{}' for api version '{}'.",
                res.type_name.split_once('/').map(|x| x.1).unwrap_or(""),
                p.namespace,
                c.req.query("api-version").unwrap_or("")
            ),
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Subscription-level special paths: operations, soft-deleted vaults and accounts

fn special(w: &mut World, c: &mut Call<'_>, p: &ProviderPath) -> Option<(Reply, u64)> {
    if p.rg.is_some() || p.scope.to_ascii_lowercase().contains("/providers/") {
        return None;
    }
    let types: Vec<String> = p.types.iter().map(|t| t.to_ascii_lowercase()).collect();
    let ns = p.namespace.to_ascii_lowercase();
    let ty: Vec<&str> = types.iter().map(String::as_str).collect();
    let m = c.req.method.as_str();
    let r = match (ns.as_str(), ty.as_slice(), p.names.len()) {
        (_, ["locations", "operationstatuses"], 2) if m == "GET" => {
            lro::status(c.shared, w, &p.names[1], &c.req.path)
        }
        (_, ["locations", "operationresults"], 2) if m == "GET" => {
            let pq = match c.req.query.is_empty() {
                true => c.req.path.clone(),
                false => format!(
                    "{}?api-version={}",
                    c.req.path,
                    c.req.query("api-version").unwrap_or("")
                ),
            };
            lro::result(c.shared, w, &p.names[1], &pq)
        }
        ("microsoft.keyvault", ["deletedvaults"], 0) if m == "GET" => {
            let value: Vec<Value> = w
                .deleted_vaults
                .values()
                .filter(|d| d.sub.eq_ignore_ascii_case(&p.sub))
                .map(deleted_vault_view)
                .collect();
            Reply::json(200, json!({"value": value}))
        }
        ("microsoft.keyvault", ["locations", "deletedvaults"], 2) if m == "GET" => {
            match w.deleted_vaults.get(&p.names[1].to_ascii_lowercase()) {
                Some(d)
                    if d.location
                        .eq_ignore_ascii_case(&ids::normalize_location(&p.names[0])) =>
                {
                    Reply::json(200, deleted_vault_view(d))
                }
                _ => Reply::arm_error(
                    404,
                    "ResourceNotFound",
                    format!(
                        "The deleted vault '{}' was not found in location '{}'.",
                        p.names[1], p.names[0]
                    ),
                ),
            }
        }
        ("microsoft.keyvault", ["locations", "deletedvaults", "purge"], 2) if m == "POST" => {
            let dk = p.names[1].to_ascii_lowercase();
            match w.deleted_vaults.get(&dk).cloned() {
                Some(d)
                    if d.location
                        .eq_ignore_ascii_case(&ids::normalize_location(&p.names[0])) =>
                {
                    if d.resources.first().is_some_and(|r| {
                        r.body["properties"]["enablePurgeProtection"].as_bool() == Some(true)
                    }) {
                        Reply::arm_error(
                            409,
                            "ConflictError",
                            format!(
                                "Vault '{}' has purge protection enabled and cannot be purged before its scheduled purge date.",
                                p.names[1]
                            ),
                        )
                    } else {
                        purge_reply(
                            w,
                            c,
                            p,
                            d.purging.clone(),
                            OpAction::PurgeVault { key: dk.clone() },
                            |w, op| {
                                if let Some(d) = w.deleted_vaults.get_mut(&dk) {
                                    d.purging = Some(op);
                                }
                            },
                        )
                    }
                }
                _ => Reply::arm_error(
                    404,
                    "ResourceNotFound",
                    format!(
                        "The deleted vault '{}' was not found in location '{}'.",
                        p.names[1], p.names[0]
                    ),
                ),
            }
        }
        ("microsoft.cognitiveservices", ["deletedaccounts"], 0) if m == "GET" => {
            let value: Vec<Value> = w
                .deleted_accounts
                .values()
                .filter(|d| d.sub.eq_ignore_ascii_case(&p.sub))
                .map(deleted_account_view)
                .collect();
            Reply::json(200, json!({"value": value}))
        }
        ("microsoft.cognitiveservices", ["locations", "resourcegroups", "deletedaccounts"], 3) => {
            let dk = lro::account_key(
                &p.sub,
                &ids::normalize_location(&p.names[0]),
                &p.names[1],
                &p.names[2],
            );
            match (m, w.deleted_accounts.get(&dk).cloned()) {
                ("GET", Some(d)) => Reply::json(200, deleted_account_view(&d)),
                ("DELETE", Some(d)) => purge_reply(
                    w,
                    c,
                    p,
                    d.purging.clone(),
                    OpAction::PurgeAccount { key: dk.clone() },
                    |w, op| {
                        if let Some(d) = w.deleted_accounts.get_mut(&dk) {
                            d.purging = Some(op);
                        }
                    },
                ),
                ("GET" | "DELETE", None) => Reply::arm_error(
                    404,
                    "ResourceNotFound",
                    format!(
                        "The deleted account '{}' was not found in resource group '{}' and location '{}'.",
                        p.names[2], p.names[1], p.names[0]
                    ),
                ),
                _ => method_not_allowed(c.req),
            }
        }
        _ => return None,
    };
    Some((r, 0))
}

fn purge_reply(
    w: &mut World,
    c: &Call<'_>,
    p: &ProviderPath,
    running: Option<String>,
    action: OpAction,
    mark: impl FnOnce(&mut World, String),
) -> Reply {
    let op_id = match running {
        Some(op) => op,
        None => {
            let op = lro::start(w, c.shared, action, 10.0, None);
            mark(w, op.clone());
            op
        }
    };
    match w.operations.get(&op_id) {
        Some(op) if op.status == OpStatus::InProgress || op.status == OpStatus::Succeeded => {
            lro::headers(
                Reply::empty(202),
                c.shared,
                op,
                &p.sub,
                &p.namespace,
                &ids::normalize_location(&p.names[0]),
            )
        }
        _ => Reply::empty(202),
    }
}

fn deleted_vault_view(d: &super::state::Deleted) -> Value {
    let vault = d.resources.first();
    let vault_id = vault.map(|r| r.id.clone()).unwrap_or_default();
    json!({
        "id": format!("/subscriptions/{}/providers/Microsoft.KeyVault/locations/{}/deletedVaults/{}", d.sub, d.location, d.name),
        "name": d.name,
        "type": "Microsoft.KeyVault/deletedVaults",
        "properties": {
            "vaultId": vault_id,
            "location": d.location,
            "deletionDate": rfc3339(d.deleted_ms),
            "scheduledPurgeDate": rfc3339(d.deleted_ms + d.retention_days * 86_400_000),
            "tags": vault.map(|r| r.body["tags"].clone()).unwrap_or(Value::Null),
            "purgeProtectionEnabled": vault.is_some_and(|r| r.body["properties"]["enablePurgeProtection"].as_bool() == Some(true)),
        }
    })
}

fn deleted_account_view(d: &super::state::Deleted) -> Value {
    let mut body = d
        .resources
        .first()
        .map(|r| r.body.clone())
        .unwrap_or_else(|| json!({}));
    if let Value::Object(m) = &mut body {
        m.insert(
            "id".into(),
            json!(format!("/subscriptions/{}/providers/Microsoft.CognitiveServices/locations/{}/resourceGroups/{}/deletedAccounts/{}", d.sub, d.location, d.rg, d.name)),
        );
        m.insert(
            "type".into(),
            json!("Microsoft.CognitiveServices/deletedAccounts"),
        );
    }
    let p = types::obj(&mut body, "properties");
    p.insert("deletionDate".into(), json!(rfc3339(d.deleted_ms)));
    p.insert(
        "scheduledPurgeDate".into(),
        json!(rfc3339(d.deleted_ms + d.retention_days * 3_600_000)),
    );
    p.insert("provisioningState".into(), json!("Deleted"));
    body
}

// ---------------------------------------------------------------------------------------
// OpenAPI import

async fn fetch_linked_document(shared: &Shared, body: &[u8]) -> Result<Option<Value>, Reply> {
    let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
        return Ok(None);
    };
    let format = v["properties"]["format"]
        .as_str()
        .unwrap_or("")
        .to_ascii_lowercase();
    if !format.ends_with("-link") {
        return Ok(None);
    }
    let Some(url) = v["properties"]["value"].as_str().map(str::to_string) else {
        return Err(Reply::arm_error(
            400,
            "ValidationError",
            "'value' (the document URL) is required with a '-link' format.",
        ));
    };
    let text = match shared.http.get(&url).send().await {
        Ok(resp) if resp.status().is_success() => resp.text().await.map_err(|e| e.to_string()),
        Ok(resp) => Err(format!("HTTP {}", resp.status())),
        Err(e) => Err(e.to_string()),
    };
    let text = text.map_err(|e| {
        Reply::arm_error(
            400,
            "ValidationError",
            format!("Cannot retrieve the document from link '{url}': {e}"),
        )
    })?;
    if let Some(p) = v.get_mut("properties").and_then(Value::as_object_mut) {
        p.insert("value".into(), json!(text));
        p.insert("format".into(), json!(format.trim_end_matches("-link")));
    }
    Ok(Some(v))
}

/// Parse an inline OpenAPI/Swagger JSON document into operations; fill the API's
/// defaults from it; remove `value`/`format`. `Ok(None)` when there is nothing to import.
fn import_operations(src: &mut Value) -> Result<Option<Vec<(String, Value)>>, Reply> {
    let props = types::obj(src, "properties");
    let (Some(format), Some(value)) = (
        props
            .get("format")
            .and_then(Value::as_str)
            .map(str::to_string),
        props.get("value").cloned(),
    ) else {
        return Ok(None);
    };
    let f = format.to_ascii_lowercase();
    if !matches!(
        f.as_str(),
        "openapi+json"
            | "openapi"
            | "swagger-json"
            | "openapi+json-link"
            | "openapi-link"
            | "swagger-link-json"
    ) {
        return Err(Reply::arm_error(
            400,
            "ValidationError",
            format!("The sandbox imports JSON OpenAPI/Swagger documents only (format '{format}')."),
        ));
    }
    let doc: Value = match &value {
        Value::String(s) => serde_json::from_str(s).map_err(|e| {
            Reply::arm_error(400, "ValidationError", format!("Parsing error(s): the document is not valid JSON (the sandbox does not parse YAML): {e}"))
        })?,
        Value::Object(_) => value.clone(),
        _ => return Err(Reply::arm_error(400, "ValidationError", "'value' must be the document.")),
    };
    let Some(paths) = doc["paths"].as_object() else {
        return Err(Reply::arm_error(
            400,
            "ValidationError",
            "Parsing error(s): the document has no 'paths'.",
        ));
    };
    let mut ops = Vec::new();
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let m = method.to_ascii_uppercase();
            if !matches!(
                m.as_str(),
                "GET" | "PUT" | "POST" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS" | "TRACE"
            ) {
                continue;
            }
            let name = op["operationId"]
                .as_str()
                .map(|s| {
                    s.chars()
                        .map(|c| {
                            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                                c
                            } else {
                                '-'
                            }
                        })
                        .collect::<String>()
                })
                .unwrap_or_else(|| {
                    format!(
                        "{}{}",
                        m.to_ascii_lowercase(),
                        path.replace(['/', '{', '}'], "-")
                    )
                    .trim_end_matches('-')
                    .to_string()
                });
            let template: Vec<Value> = path
                .split('{')
                .skip(1)
                .filter_map(|s| s.split_once('}').map(|(n, _)| n))
                .map(|n| json!({"name": n, "required": true, "type": "string", "values": []}))
                .collect();
            let display = op["summary"]
                .as_str()
                .or_else(|| op["operationId"].as_str())
                .unwrap_or(&name)
                .to_string();
            let mut p = json!({"displayName": display, "method": m, "urlTemplate": path, "templateParameters": template, "responses": []});
            if let Some(d) = op["description"].as_str() {
                p["description"] = json!(d);
            }
            ops.push((name, p));
        }
    }
    if !props.contains_key("displayName")
        && let Some(t) = doc["info"]["title"].as_str()
    {
        props.insert("displayName".into(), json!(t));
    }
    if !props.contains_key("description")
        && let Some(d) = doc["info"]["description"].as_str()
    {
        props.insert("description".into(), json!(d));
    }
    if !props.contains_key("serviceUrl")
        && let Some(u) = doc["servers"][0]["url"].as_str()
    {
        props.insert("serviceUrl".into(), json!(u));
    }
    props.remove("value");
    props.remove("format");
    Ok(Some(ops))
}
