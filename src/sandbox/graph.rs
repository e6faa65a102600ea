//! Microsoft Graph v1.0 subset: applications (with the `uniqueName` upsert),
//! servicePrincipals and oauth2PermissionGrants, plus a pre-existing Microsoft Graph
//! service principal with its delegated scopes.

use serde_json::{Map, Value, json};

use super::arm::merge_patch;
use super::server::{Reply, Req, Shared, now_ms, rfc3339};
use super::state::{Principal, World};
use super::token::{self, Api};

/// App ID of Microsoft Graph.
pub(crate) const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// Delegated scopes of the built-in Microsoft Graph service principal: (value, id).
const GRAPH_SCOPES: &[(&str, &str)] = &[
    ("User.Read", "e1fe6dd8-ba31-4d61-89e7-88639da4683d"),
    (
        "GroupMember.Read.All",
        "bc024368-1153-4739-b217-4326f2e966d0",
    ),
    (
        "ProfilePhoto.Read.All",
        "c72d93c1-a342-4d87-90ff-27b3e0e79e0c",
    ),
    ("openid", "37f7f235-527c-4136-accd-4a02d197296e"),
    ("profile", "14dad69e-099b-42c9-810b-d002981feec1"),
    ("email", "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0"),
    ("offline_access", "7427e0e9-2fba-42fe-b0c0-848c9e6a8182"),
];

/// Graph-shaped error body.
pub(crate) fn error_body(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message, "innerError": {
        "date": rfc3339(now_ms()),
        "request-id": uuid::Uuid::new_v4().to_string(),
        "client-request-id": uuid::Uuid::new_v4().to_string(),
    }}})
}

fn err(status: u16, code: &str, message: impl Into<String>) -> Reply {
    Reply::json(status, error_body(code, &message.into()))
}

/// Milliseconds since a Graph object's `createdDateTime` (0 when it has none or
/// it cannot be read: treated as long replicated).
fn age_ms(obj: &Value) -> u64 {
    obj["createdDateTime"]
        .as_str()
        .and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000).max(0) as u64)
        .map_or(u64::MAX, |created| now_ms().saturating_sub(created))
}

fn not_found(what: &str) -> Reply {
    err(
        404,
        "Request_ResourceNotFound",
        format!(
            "Resource '{what}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

/// Object ID of the built-in Microsoft Graph service principal.
pub(crate) fn graph_sp_id() -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        b"owui-sandbox:graph-service-principal",
    )
    .to_string()
}

/// Make sure the built-in objects exist.
pub(crate) fn ensure_builtins(w: &mut World) {
    let id = graph_sp_id();
    if w.graph.service_principals.contains_key(&id) {
        return;
    }
    let scopes: Vec<Value> = GRAPH_SCOPES
        .iter()
        .map(|(v, i)| {
            json!({
                "id": i, "value": v, "type": if v.contains(".All") { "Admin" } else { "User" }, "isEnabled": true,
                "adminConsentDisplayName": v, "adminConsentDescription": v,
                "userConsentDisplayName": v, "userConsentDescription": v,
            })
        })
        .collect();
    w.graph.service_principals.insert(
        id.clone(),
        json!({
            "id": id, "appId": GRAPH_APP_ID, "displayName": "Microsoft Graph", "appDisplayName": "Microsoft Graph",
            "accountEnabled": true, "appRoleAssignmentRequired": false, "servicePrincipalType": "Application",
            "servicePrincipalNames": [GRAPH_APP_ID, "https://graph.microsoft.com"],
            "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
            "appRoles": [], "oauth2PermissionScopes": scopes, "tags": [],
        }),
    );
    w.principals.insert(
        id,
        Principal {
            kind: "ServicePrincipal".into(),
            created_ms: 0,
        },
    );
}

/// A parsed `$filter`: `field eq 'value'` clauses joined by `and`.
fn parse_filter(f: Option<&str>) -> Result<Vec<(String, String)>, Reply> {
    let Some(f) = f.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(Vec::new());
    };
    f.split(" and ")
        .map(|c| {
            let (field, value) = c.split_once(" eq ").ok_or_else(|| {
                err(400, "Request_UnsupportedQuery", format!("Unsupported query '{f}': the sandbox supports 'property eq 'value'' joined by 'and'."))
            })?;
            Ok((field.trim().to_string(), value.trim().trim_matches('\'').replace("''", "'")))
        })
        .collect()
}

fn matches(obj: &Value, clauses: &[(String, String)]) -> bool {
    clauses.iter().all(|(f, v)| {
        obj.get(f)
            .and_then(Value::as_str)
            .is_some_and(|x| x.eq_ignore_ascii_case(v))
    })
}

/// `name(key='value')` -> (name, key, value).
fn alternate_key(seg: &str) -> Option<(&str, &str, String)> {
    let (name, rest) = seg.split_once('(')?;
    let inner = rest.strip_suffix(')')?;
    let (k, v) = inner.split_once('=')?;
    let v = v
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .unwrap_or(v);
    Some((name, k, v.replace("''", "'")))
}

/// Percent-decode one path segment (a `+` stays a `+`).
fn decode_segment(seg: &str) -> String {
    super::journal::url_decode_pairs(&format!("v={}", seg.replace('+', "%2B")))
        .into_iter()
        .next()
        .map(|(_, v)| v)
        .unwrap_or_default()
}

fn context(kind: &str, entity: bool) -> String {
    format!(
        "https://graph.microsoft.com/v1.0/$metadata#{kind}{}",
        if entity { "/$entity" } else { "" }
    )
}

fn with_context(mut v: Value, kind: &str) -> Value {
    if let Value::Object(m) = &mut v {
        let mut out = Map::new();
        out.insert("@odata.context".into(), json!(context(kind, true)));
        out.extend(std::mem::take(m));
        return Value::Object(out);
    }
    v
}

fn body(req: &Req) -> Result<Value, Reply> {
    if req.body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        _ => Err(err(
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )),
    }
}

/// Serve a Graph request.
pub(crate) fn handle(shared: &Shared, req: &Req) -> Reply {
    let mut w = shared.world();
    if let Err(e) = token::check(
        &w,
        req.header("authorization"),
        Api::Graph,
        &shared.base_url,
    ) {
        return token::refusal(&e, Api::Graph, "common");
    }
    // Objects younger than this are not visible yet to creations that reference them.
    let lag_ms = shared.graph_replication_delay_ms();
    // Path segments percent-decoded (`applications%28uniqueName%3D%27x%27%29` too).
    let decoded: Vec<String> = req
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .skip(1)
        .map(decode_segment)
        .collect();
    let segs: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let Some(first) = segs.first() else {
        return err(400, "BadRequest", "Invalid request.");
    };
    let reply = match (alternate_key(first), segs.len()) {
        (Some(("applications", k, v)), 1) => application_by_key(&mut w, req, k, &v),
        (Some(("servicePrincipals", k, v)), 1) => match find(&w.graph.service_principals, k, &v) {
            Some(id) => service_principal(&mut w, req, &id),
            None => not_found(&v),
        },
        (None, 1) => match *first {
            "applications" => collection(&mut w, req, Kind::Application, lag_ms),
            "servicePrincipals" => collection(&mut w, req, Kind::ServicePrincipal, lag_ms),
            "oauth2PermissionGrants" => collection(&mut w, req, Kind::Grant, lag_ms),
            _ => err(
                400,
                "BadRequest",
                format!("Resource not found for the segment '{first}'."),
            ),
        },
        (None, 2) => match *first {
            "applications" => application(&mut w, req, segs[1]),
            "servicePrincipals" => service_principal(&mut w, req, segs[1]),
            "oauth2PermissionGrants" => grant(&mut w, req, segs[1]),
            _ => err(
                400,
                "BadRequest",
                format!("Resource not found for the segment '{first}'."),
            ),
        },
        _ => err(
            400,
            "BadRequest",
            "The sandbox does not serve this Graph path.",
        ),
    };
    if reply.status < 300 && req.method != "GET" {
        shared.mark_dirty();
    }
    reply
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Application,
    ServicePrincipal,
    Grant,
}

fn find(map: &std::collections::BTreeMap<String, Value>, k: &str, v: &str) -> Option<String> {
    map.iter()
        .find(|(_, o)| {
            o.get(k)
                .and_then(Value::as_str)
                .is_some_and(|x| x.eq_ignore_ascii_case(v))
        })
        .map(|(id, _)| id.clone())
}

fn collection(w: &mut World, req: &Req, kind: Kind, lag_ms: u64) -> Reply {
    match req.method.as_str() {
        "GET" => {
            let clauses = match parse_filter(req.query("$filter")) {
                Ok(c) => c,
                Err(r) => return r,
            };
            let (name, items): (&str, Vec<Value>) = match kind {
                Kind::Application => (
                    "applications",
                    w.graph.applications.values().cloned().collect(),
                ),
                Kind::ServicePrincipal => (
                    "servicePrincipals",
                    w.graph
                        .service_principals
                        .values()
                        .map(|sp| sp_view(w, sp))
                        .collect(),
                ),
                Kind::Grant => (
                    "oauth2PermissionGrants",
                    w.graph.grants.values().cloned().collect(),
                ),
            };
            let value: Vec<Value> = items.into_iter().filter(|o| matches(o, &clauses)).collect();
            Reply::json(
                200,
                json!({"@odata.context": context(name, false), "value": value}),
            )
        }
        "POST" => {
            let b = match body(req) {
                Ok(b) => b,
                Err(r) => return r,
            };
            match kind {
                Kind::Application => match create_application(w, b, None) {
                    Ok(app) => Reply::json(201, with_context(app, "applications")),
                    Err(r) => r,
                },
                Kind::ServicePrincipal => create_service_principal(w, b, lag_ms),
                Kind::Grant => create_grant(w, b, lag_ms),
            }
        }
        _ => err(405, "Request_BadRequest", "Method not allowed."),
    }
}

// --- applications

fn check_unique(w: &World, app: &Value, own_id: &str) -> Option<Reply> {
    let unique = app["uniqueName"].as_str();
    let uris: Vec<&str> = app["identifierUris"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (id, other) in &w.graph.applications {
        if id == own_id {
            continue;
        }
        if unique.is_some_and(|u| {
            other["uniqueName"]
                .as_str()
                .is_some_and(|o| o.eq_ignore_ascii_case(u))
        }) {
            return Some(err(
                400,
                "Request_BadRequest",
                "Another object with the same value for property uniqueName already exists.",
            ));
        }
        if let Some(ou) = other["identifierUris"].as_array()
            && ou
                .iter()
                .filter_map(Value::as_str)
                .any(|o| uris.iter().any(|u| u.eq_ignore_ascii_case(o)))
        {
            return Some(err(
                400,
                "Request_BadRequest",
                "Another object with the same value for property identifierUris already exists.",
            ));
        }
    }
    None
}

/// Enabled app roles and scopes must be disabled before they are removed or changed.
fn check_entitlements(old: &Value, new: &Value) -> Option<Reply> {
    let lists = |v: &Value| -> Vec<Value> {
        let mut all = v["appRoles"].as_array().cloned().unwrap_or_default();
        all.extend(
            v["api"]["oauth2PermissionScopes"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        all
    };
    let new_items = lists(new);
    for o in lists(old) {
        if o["isEnabled"].as_bool() != Some(true) {
            continue;
        }
        let Some(id) = o["id"].as_str() else { continue };
        let still = new_items.iter().find(|n| n["id"].as_str() == Some(id));
        let changed = match still {
            None => true,
            Some(n) => n["isEnabled"].as_bool() == Some(true) && n["value"] != o["value"],
        };
        if changed {
            return Some(err(
                400,
                "CannotDeleteOrUpdateEnabledEntitlement",
                "Permission (scope or role) cannot be deleted or updated unless disabled first.",
            ));
        }
    }
    None
}

fn app_defaults(id: &str, app_id: &str) -> Value {
    json!({
        "id": id,
        "deletedDateTime": null,
        "appId": app_id,
        "createdDateTime": rfc3339(now_ms()),
        "description": null,
        "displayName": null,
        "uniqueName": null,
        "groupMembershipClaims": null,
        "identifierUris": [],
        "isFallbackPublicClient": null,
        "notes": null,
        "publisherDomain": "sandbox.onmicrosoft.com",
        "signInAudience": "AzureADMyOrg",
        "tags": [],
        "tokenEncryptionKeyId": null,
        "api": {"acceptMappedClaims": null, "knownClientApplications": [], "requestedAccessTokenVersion": null, "oauth2PermissionScopes": [], "preAuthorizedApplications": []},
        "appRoles": [],
        "info": {"logoUrl": null, "marketingUrl": null, "privacyStatementUrl": null, "supportUrl": null, "termsOfServiceUrl": null},
        "keyCredentials": [],
        "optionalClaims": null,
        "parentalControlSettings": {"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"},
        "passwordCredentials": [],
        "publicClient": {"redirectUris": []},
        "requiredResourceAccess": [],
        "spa": {"redirectUris": []},
        "web": {"homePageUrl": null, "logoutUrl": null, "redirectUris": [], "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false}, "redirectUriSettings": []},
    })
}

fn strip_readonly(b: &mut Value) {
    if let Value::Object(m) = b {
        for k in [
            "id",
            "appId",
            "createdDateTime",
            "deletedDateTime",
            "publisherDomain",
            "@odata.context",
        ] {
            m.remove(k);
        }
    }
}

fn create_application(
    w: &mut World,
    mut b: Value,
    unique_name: Option<&str>,
) -> Result<Value, Reply> {
    if let Some(u) = unique_name {
        b["uniqueName"] = json!(u);
    }
    if b["displayName"]
        .as_str()
        .is_none_or(|d| d.trim().is_empty())
    {
        return Err(err(
            400,
            "Request_BadRequest",
            "Property 'displayName' is required.",
        ));
    }
    strip_readonly(&mut b);
    let id = uuid::Uuid::new_v4().to_string();
    let app_id = uuid::Uuid::new_v4().to_string();
    let mut app = app_defaults(&id, &app_id);
    merge_patch(&mut app, &b);
    if let Some(r) = check_unique(w, &app, &id) {
        return Err(r);
    }
    w.graph.applications.insert(id, app.clone());
    Ok(app)
}

fn update_application(w: &mut World, id: &str, mut b: Value) -> Result<(), Reply> {
    let Some(old) = w.graph.applications.get(id).cloned() else {
        return Err(not_found(id));
    };
    strip_readonly(&mut b);
    let mut new = old.clone();
    merge_patch(&mut new, &b);
    if let Some(r) = check_entitlements(&old, &new) {
        return Err(r);
    }
    if let Some(r) = check_unique(w, &new, id) {
        return Err(r);
    }
    w.graph.applications.insert(id.to_string(), new);
    Ok(())
}

fn application(w: &mut World, req: &Req, id: &str) -> Reply {
    match req.method.as_str() {
        "GET" => match w.graph.applications.get(id) {
            Some(a) => Reply::json(200, with_context(a.clone(), "applications")),
            None => not_found(id),
        },
        "PATCH" => match body(req).and_then(|b| update_application(w, id, b)) {
            Ok(()) => Reply::empty(204),
            Err(r) => r,
        },
        "DELETE" => match w.graph.applications.remove(id) {
            Some(_) => Reply::empty(204),
            None => not_found(id),
        },
        _ => err(405, "Request_BadRequest", "Method not allowed."),
    }
}

fn application_by_key(w: &mut World, req: &Req, k: &str, v: &str) -> Reply {
    if k != "appId" && k != "uniqueName" {
        return err(
            400,
            "Request_BadRequest",
            format!("'{k}' is not an alternate key of applications."),
        );
    }
    let found = find(&w.graph.applications, k, v);
    match (req.method.as_str(), found) {
        ("PATCH", None) if k == "uniqueName" => {
            let create = req.header("prefer").is_some_and(|p| {
                p.split(',')
                    .any(|x| x.trim().eq_ignore_ascii_case("create-if-missing"))
            });
            if !create {
                return not_found(v);
            }
            match body(req).and_then(|b| create_application(w, b, Some(v))) {
                Ok(app) => Reply::json(201, with_context(app, "applications")),
                Err(r) => r,
            }
        }
        (_, None) => not_found(v),
        (_, Some(id)) => application(w, req, &id),
    }
}

// --- service principals

fn sp_view(w: &World, sp: &Value) -> Value {
    let mut v = sp.clone();
    if let Some(app_id) = sp["appId"].as_str()
        && let Some(app) = w
            .graph
            .applications
            .values()
            .find(|a| a["appId"].as_str() == Some(app_id))
    {
        v["appRoles"] = app["appRoles"].clone();
        v["oauth2PermissionScopes"] = app["api"]["oauth2PermissionScopes"].clone();
        v["appDisplayName"] = app["displayName"].clone();
        let mut names = vec![json!(app_id)];
        names.extend(
            app["identifierUris"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        v["servicePrincipalNames"] = Value::Array(names);
    }
    v
}

fn create_service_principal(w: &mut World, mut b: Value, lag_ms: u64) -> Reply {
    let Some(app_id) = b["appId"].as_str().map(str::to_string) else {
        return err(400, "Request_BadRequest", "Property 'appId' is required.");
    };
    let app = w
        .graph
        .applications
        .values()
        .find(|a| {
            a["appId"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(&app_id))
        })
        .cloned();
    // An application created less than the replication delay ago is not visible
    // yet: Graph answers as if it did not exist (see docs/sandbox.md).
    let Some(app) = app.filter(|a| age_ms(a) >= lag_ms) else {
        let message = format!(
            "The appId '{app_id}' of the service principal does not reference a valid application object."
        );
        let mut body = error_body("Request_BadRequest", &message);
        body["error"]["details"] = json!([{
            "code": "NoBackingApplicationObject", "message": message, "target": "appId",
        }]);
        return Reply::json(400, body);
    };
    if find(&w.graph.service_principals, "appId", &app_id).is_some() {
        return err(
            409,
            "Request_MultipleObjectsWithSameKeyValue",
            format!(
                "The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use."
            ),
        );
    }
    strip_readonly(&mut b);
    let id = uuid::Uuid::new_v4().to_string();
    let mut sp = json!({
        "id": id, "deletedDateTime": null, "accountEnabled": true, "appId": app_id,
        "appDisplayName": app["displayName"], "displayName": app["displayName"],
        "appOwnerOrganizationId": null, "appRoleAssignmentRequired": false,
        "servicePrincipalType": "Application", "signInAudience": app["signInAudience"],
        "servicePrincipalNames": [app_id], "tags": [], "notes": null,
        "appRoles": [], "oauth2PermissionScopes": [], "replyUrls": app["web"]["redirectUris"],
    });
    merge_patch(&mut sp, &b);
    sp["appId"] = json!(app_id);
    w.graph.service_principals.insert(id.clone(), sp.clone());
    w.principals.insert(
        id.to_ascii_lowercase(),
        Principal {
            kind: "ServicePrincipal".into(),
            created_ms: now_ms(),
        },
    );
    Reply::json(201, with_context(sp_view(w, &sp), "servicePrincipals"))
}

fn service_principal(w: &mut World, req: &Req, id: &str) -> Reply {
    match req.method.as_str() {
        "GET" => match w.graph.service_principals.get(id) {
            Some(sp) => Reply::json(200, with_context(sp_view(w, sp), "servicePrincipals")),
            None => not_found(id),
        },
        "PATCH" => {
            let mut b = match body(req) {
                Ok(b) => b,
                Err(r) => return r,
            };
            strip_readonly(&mut b);
            match w.graph.service_principals.get_mut(id) {
                Some(sp) => {
                    merge_patch(sp, &b);
                    Reply::empty(204)
                }
                None => not_found(id),
            }
        }
        "DELETE" => {
            if id == graph_sp_id() {
                return err(
                    403,
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                );
            }
            match w.graph.service_principals.remove(id) {
                Some(_) => {
                    w.principals.remove(&id.to_ascii_lowercase());
                    w.graph.grants.retain(|_, g| {
                        g["clientId"].as_str() != Some(id) && g["resourceId"].as_str() != Some(id)
                    });
                    Reply::empty(204)
                }
                None => not_found(id),
            }
        }
        _ => err(405, "Request_BadRequest", "Method not allowed."),
    }
}

// --- oauth2PermissionGrants

fn create_grant(w: &mut World, b: Value, lag_ms: u64) -> Reply {
    let client = b["clientId"].as_str().unwrap_or("").to_string();
    let resource = b["resourceId"].as_str().unwrap_or("").to_string();
    let consent = b["consentType"].as_str().unwrap_or("").to_string();
    // A service principal created less than the replication delay ago is not found yet.
    for id in [&client, &resource] {
        let young = w
            .principals
            .get(&id.to_ascii_lowercase())
            .is_some_and(|p| now_ms().saturating_sub(p.created_ms) < lag_ms);
        if young && w.graph.service_principals.contains_key(id) {
            return not_found(id);
        }
    }
    if !w.graph.service_principals.contains_key(&client) {
        return err(
            400,
            "Request_BadRequest",
            format!(
                "Invalid value specified for property 'clientId' of resource 'OAuth2PermissionGrant': '{client}' is not a service principal."
            ),
        );
    }
    if !w.graph.service_principals.contains_key(&resource) {
        return err(
            400,
            "Request_BadRequest",
            format!(
                "Invalid value specified for property 'resourceId' of resource 'OAuth2PermissionGrant': '{resource}' is not a service principal."
            ),
        );
    }
    if consent != "AllPrincipals" && consent != "Principal" {
        return err(
            400,
            "Request_BadRequest",
            "Property 'consentType' must be 'AllPrincipals' or 'Principal'.",
        );
    }
    if consent == "Principal" && b["principalId"].as_str().is_none() {
        return err(
            400,
            "Request_BadRequest",
            "Property 'principalId' is required when 'consentType' is 'Principal'.",
        );
    }
    let principal = b["principalId"].clone();
    let dup = w.graph.grants.values().any(|g| {
        g["clientId"].as_str() == Some(client.as_str())
            && g["resourceId"].as_str() == Some(resource.as_str())
            && g["consentType"].as_str() == Some(consent.as_str())
            && g["principalId"] == principal
    });
    if dup {
        return err(
            409,
            "Request_MultipleObjectsWithSameKeyValue",
            "Permission entry already exists.",
        );
    }
    use base64::Engine as _;
    let raw: [u8; 32] = rand::random();
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let g = json!({
        "clientId": client, "consentType": consent, "id": id,
        "principalId": if principal.is_string() { principal } else { Value::Null },
        "resourceId": resource, "scope": b["scope"].as_str().unwrap_or(""),
    });
    w.graph.grants.insert(id, g.clone());
    Reply::json(201, with_context(g, "oauth2PermissionGrants"))
}

fn grant(w: &mut World, req: &Req, id: &str) -> Reply {
    match req.method.as_str() {
        "GET" => match w.graph.grants.get(id) {
            Some(g) => Reply::json(200, with_context(g.clone(), "oauth2PermissionGrants")),
            None => not_found(id),
        },
        "PATCH" => {
            let b = match body(req) {
                Ok(b) => b,
                Err(r) => return r,
            };
            match w.graph.grants.get_mut(id) {
                Some(g) => {
                    if let Some(s) = b.get("scope") {
                        g["scope"] = s.clone();
                    }
                    Reply::empty(204)
                }
                None => not_found(id),
            }
        }
        "DELETE" => match w.graph.grants.remove(id) {
            Some(_) => Reply::empty(204),
            None => not_found(id),
        },
        _ => err(405, "Request_BadRequest", "Method not allowed."),
    }
}
