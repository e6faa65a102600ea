//! POST actions (listKeys) and subscription-level paths: operation status/results, soft-deleted vaults and accounts.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------
// Actions (POST)

pub(super) fn action(w: &World, c: &Call<'_>, p: &ProviderPath) -> Reply {
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
        // RedisEnterpriseDatabasesListKeys.json: two base64 keys.
        ("microsoft.cache/redisenterprise/databases", "listkeys") => {
            let b64 =
                |label: &str| base64::engine::general_purpose::STANDARD.encode(derive(label, 32));
            Reply::json(
                200,
                json!({"primaryKey": b64("primary"), "secondaryKey": b64("secondary")}),
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
// Tags at subscription scope (Tags - Get At Scope / Create Or Update At Scope /
// Update At Scope / Delete At Scope): PATCH takes `operation` Merge, Replace or
// Delete (Delete removes the named tags); the answer is the tags resource.

fn subscription_tags(w: &mut World, c: &Call<'_>, sub: &str) -> Reply {
    let k = sub.to_ascii_lowercase();
    let body = match c.req.method.as_str() {
        "PUT" | "PATCH" => match c.body() {
            Ok(b) => b,
            Err(r) => return r,
        },
        _ => Value::Null,
    };
    let given = body["properties"]["tags"].as_object().cloned();
    match c.req.method.as_str() {
        "GET" => {}
        "PUT" => match given {
            Some(tags) => {
                w.subscription_tags.insert(k.clone(), tags);
            }
            None => return missing_tags(),
        },
        "PATCH" => {
            let Some(tags) = given else {
                return missing_tags();
            };
            let current = w.subscription_tags.entry(k.clone()).or_default();
            match body["operation"]
                .as_str()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("merge") => current.extend(tags),
                Some("replace") => *current = tags,
                Some("delete") => tags.keys().for_each(|t| {
                    current.remove(t);
                }),
                _ => {
                    return Reply::arm_error(
                        400,
                        "InvalidRequestContent",
                        "The request content was invalid: 'operation' must be Merge, Replace or Delete.",
                    );
                }
            }
        }
        "DELETE" => {
            w.subscription_tags.remove(&k);
            return Reply::json(200, Value::Null);
        }
        _ => return method_not_allowed(c.req),
    }
    let tags = w.subscription_tags.get(&k).cloned().unwrap_or_default();
    Reply::json(
        200,
        json!({
            "id": format!("/subscriptions/{sub}/providers/Microsoft.Resources/tags/default"),
            "name": "default",
            "type": "Microsoft.Resources/tags",
            "properties": {"tags": tags}
        }),
    )
}

fn missing_tags() -> Reply {
    Reply::arm_error(
        400,
        "InvalidRequestContent",
        "The request content was invalid: 'properties.tags' is required.",
    )
}

// ---------------------------------------------------------------------------------------
// Subscription-level special paths: operations, soft-deleted vaults and accounts

pub(super) fn special(w: &mut World, c: &mut Call<'_>, p: &ProviderPath) -> Option<(Reply, u64)> {
    if p.rg.is_some() || p.scope.to_ascii_lowercase().contains("/providers/") {
        return None;
    }
    let types: Vec<String> = p.types.iter().map(|t| t.to_ascii_lowercase()).collect();
    let ns = p.namespace.to_ascii_lowercase();
    let ty: Vec<&str> = types.iter().map(String::as_str).collect();
    let m = c.req.method.as_str();
    let r = match (ns.as_str(), ty.as_slice(), p.names.len()) {
        ("microsoft.resources", ["tags"], 1) if p.names[0].eq_ignore_ascii_case("default") => {
            subscription_tags(w, c, &p.sub)
        }
        (_, ["locations", "operationstatuses"], 2) if m == "GET" => {
            lro::status(w, &p.names[1], &c.req.path)
        }
        (_, ["locations", "operationresults"], 2) if m == "GET" => operation_result(w, c, p),
        ("microsoft.keyvault", ["deletedvaults"], 0) if m == "GET" => list_deleted_vaults(w, p),
        ("microsoft.keyvault", ["locations", "deletedvaults"], 2) if m == "GET" => {
            deleted_vault(w, p)
        }
        ("microsoft.keyvault", ["locations", "deletedvaults", "purge"], 2) if m == "POST" => {
            purge_vault(w, c, p)
        }
        ("microsoft.cognitiveservices", ["deletedaccounts"], 0) if m == "GET" => {
            list_deleted_accounts(w, p)
        }
        ("microsoft.cognitiveservices", ["locations", "resourcegroups", "deletedaccounts"], 3) => {
            deleted_account(w, c, p)
        }
        ("microsoft.apimanagement", ["deletedservices"], 0) if m == "GET" => {
            list_deleted_services(w, p)
        }
        ("microsoft.apimanagement", ["locations", "deletedservices"], 2) => {
            deleted_service(w, c, p)
        }
        _ => return None,
    };
    Some((r, 0))
}

/// `GET .../locations/{l}/operationResults/{id}`: the result of a long-running operation.
fn operation_result(w: &mut World, c: &Call<'_>, p: &ProviderPath) -> Reply {
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

/// `GET .../Microsoft.KeyVault/deletedVaults`: the subscription's soft-deleted vaults.
fn list_deleted_vaults(w: &World, p: &ProviderPath) -> Reply {
    let value: Vec<Value> = w
        .deleted_vaults
        .values()
        .filter(|d| d.sub.eq_ignore_ascii_case(&p.sub))
        .map(deleted_vault_view)
        .collect();
    Reply::json(200, json!({"value": value}))
}

/// `GET .../Microsoft.KeyVault/locations/{l}/deletedVaults/{name}`.
fn deleted_vault(w: &World, p: &ProviderPath) -> Reply {
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

/// `POST .../Microsoft.KeyVault/locations/{l}/deletedVaults/{name}/purge`: refused
/// under purge protection, else a long-running purge.
fn purge_vault(w: &mut World, c: &Call<'_>, p: &ProviderPath) -> Reply {
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

/// `GET .../Microsoft.CognitiveServices/deletedAccounts`: the subscription's
/// soft-deleted accounts.
fn list_deleted_accounts(w: &World, p: &ProviderPath) -> Reply {
    let value: Vec<Value> = w
        .deleted_accounts
        .values()
        .filter(|d| d.sub.eq_ignore_ascii_case(&p.sub))
        .map(deleted_account_view)
        .collect();
    Reply::json(200, json!({"value": value}))
}

/// `GET`/`DELETE` (purge) `.../Microsoft.CognitiveServices/locations/{l}/resourceGroups/{rg}/deletedAccounts/{name}`.
fn deleted_account(w: &mut World, c: &Call<'_>, p: &ProviderPath) -> Reply {
    let m = c.req.method.as_str();
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

/// `GET .../Microsoft.ApiManagement/deletedservices`: the subscription's
/// soft-deleted API Management services.
fn list_deleted_services(w: &World, p: &ProviderPath) -> Reply {
    let value: Vec<Value> = w
        .deleted_services
        .values()
        .filter(|d| d.sub.eq_ignore_ascii_case(&p.sub))
        .map(deleted_service_view)
        .collect();
    Reply::json(200, json!({"value": value}))
}

/// `GET`/`DELETE` (purge) `.../Microsoft.ApiManagement/locations/{l}/deletedservices/{name}`.
fn deleted_service(w: &mut World, c: &Call<'_>, p: &ProviderPath) -> Reply {
    let m = c.req.method.as_str();
    let dk = p.names[1].to_ascii_lowercase();
    let found = w.deleted_services.get(&dk).cloned().filter(|d| {
        d.sub.eq_ignore_ascii_case(&p.sub)
            && d.location
                .eq_ignore_ascii_case(&ids::normalize_location(&p.names[0]))
    });
    match (m, found) {
        ("GET", Some(d)) => Reply::json(200, deleted_service_view(&d)),
        ("DELETE", Some(d)) => purge_reply(
            w,
            c,
            p,
            d.purging.clone(),
            OpAction::PurgeService { key: dk.clone() },
            |w, op| {
                if let Some(d) = w.deleted_services.get_mut(&dk) {
                    d.purging = Some(op);
                }
            },
        ),
        ("GET" | "DELETE", None) => Reply::arm_error(
            404,
            "ServiceNotFound",
            format!(
                "Api service {} was not found in deleted services of location {}.",
                p.names[1], p.names[0]
            ),
        ),
        _ => method_not_allowed(c.req),
    }
}

pub(super) fn purge_reply(
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

pub(super) fn deleted_vault_view(d: &crate::sandbox::state::Deleted) -> Value {
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

pub(super) fn deleted_account_view(d: &crate::sandbox::state::Deleted) -> Value {
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

/// A soft-deleted API Management service as `ApiManagementGetDeletedServiceByName.json`
/// shows it: location in display form, `serviceId` and the two dates.
pub(super) fn deleted_service_view(d: &crate::sandbox::state::Deleted) -> Value {
    let service_id = d
        .resources
        .first()
        .map(|r| r.id.clone())
        .unwrap_or_else(|| {
            format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ApiManagement/service/{}",
                d.sub, d.rg, d.name
            )
        });
    let location = d
        .resources
        .first()
        .and_then(|r| r.body["location"].as_str().map(str::to_string))
        .unwrap_or_else(|| d.location.clone());
    json!({
        "id": format!("/subscriptions/{}/providers/Microsoft.ApiManagement/locations/{}/deletedservices/{}", d.sub, d.location, d.name),
        "name": d.name,
        "type": "Microsoft.ApiManagement/deletedservices",
        "location": location,
        "properties": {
            "serviceId": service_id,
            "scheduledPurgeDate": rfc3339(d.deleted_ms + d.retention_days * 3_600_000),
            "deletionDate": rfc3339(d.deleted_ms),
        }
    })
}
