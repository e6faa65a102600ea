//! Resource groups: create, replace, patch, delete (cascading, long-running), list with filters.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------
// Resource groups

pub(super) fn group(w: &mut World, c: &mut Call<'_>, sub: &str, rg: &str) -> (Reply, u64) {
    let k = group_key(sub, rg);
    match c.req.method.as_str() {
        "HEAD" => match w.resources.get(&k) {
            Some(_) => (Reply::empty(204), 0),
            None => (Reply::empty(404), 0),
        },
        "GET" => match w.resources.get(&k) {
            Some(_) => (view_reply(w, &k, 200), 0),
            None => (group_not_found(rg), 0),
        },
        "PUT" | "PATCH" => write_group(w, c, sub, rg),
        "DELETE" => delete_group(w, c, sub, rg),
        _ => (method_not_allowed(c.req), 0),
    }
}

/// `PUT`/`PATCH` of a resource group: refuse a group being deleted, a missing
/// location or a change of location; store the group; reply `201` or `200`.
fn write_group(w: &mut World, c: &mut Call<'_>, sub: &str, rg: &str) -> (Reply, u64) {
    let k = group_key(sub, rg);
    let def = types::lookup(RESOURCE_GROUPS);
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
    let body = if patch {
        let mut b = existing
            .as_ref()
            .map(|e| e.body.clone())
            .unwrap_or_else(|| json!({}));
        merge_patch(&mut b, &input);
        b
    } else {
        input
    };
    let location = match group_location(&body, existing.as_ref()) {
        Ok(l) => l,
        Err(r) => return (r, 0),
    };
    let id = existing
        .as_ref()
        .map(|e| e.id.clone())
        .unwrap_or_else(|| ids::group_id(sub, rg));
    let body = group_body(&id, rg, &location, &body);
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

/// The normalized location of a group's body: required, and unchanged for an
/// existing group (ARM's `LocationRequired`, `InvalidResourceGroupLocation`).
fn group_location(body: &Value, existing: Option<&Resource>) -> Result<String, Reply> {
    let location = body["location"]
        .as_str()
        .map(ids::normalize_location)
        .unwrap_or_default();
    if location.is_empty() {
        return Err(Reply::arm_error(
            400,
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    }
    if let Some(e) = existing {
        let old = e.body["location"].as_str().unwrap_or("");
        if old != location {
            return Err(Reply::arm_error(
                409,
                "InvalidResourceGroupLocation",
                format!(
                    "Invalid resource group location '{location}'. The Resource group already exists in location '{old}'."
                ),
            ));
        }
    }
    Ok(location)
}

/// The stored body of the group `id`: its identity, location, tags, `managedBy`
/// and empty properties (anything else in the input is dropped).
fn group_body(id: &str, rg: &str, location: &str, body: &Value) -> Value {
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
    Value::Object(out)
}

/// `DELETE` of a resource group: start (or rejoin) the long-running cascading
/// delete; reply `202` with its `Location`.
fn delete_group(w: &mut World, c: &mut Call<'_>, sub: &str, rg: &str) -> (Reply, u64) {
    let k = group_key(sub, rg);
    let def = types::lookup(RESOURCE_GROUPS);
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
    (
        crate::sandbox::server::retry_headers(reply, op.retry_after_ms),
        0,
    )
}

pub(super) fn tag_filter(filter: Option<&str>) -> Result<Vec<(String, String)>, Reply> {
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

pub(super) fn matches_filter(body: &Value, type_name: &str, clauses: &[(String, String)]) -> bool {
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

pub(super) fn list_groups(w: &World, c: &Call<'_>, sub: &str) -> Reply {
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

pub(super) fn list_group_resources(w: &World, c: &Call<'_>, sub: &str, rg: &str) -> Reply {
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
