//! Writes: body computation, validation, role assignment rules, inline children, LRO start, deletes.

use super::openapi::import_operations;
#[allow(unused_imports)]
use super::*;

/// Compute the stored body of a resource from its input.
#[allow(clippy::too_many_arguments)]
pub(super) fn build(
    w: &World,
    c: &Call<'_>,
    def: &TypeDef,
    id: &str,
    names: &[String],
    p: &ProviderPath,
    input: Value,
    created_ms: u64,
) -> Value {
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
    body
}

pub(super) fn register_principals(w: &mut World, body: &Value, type_name: &str) {
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

pub(super) fn role_assignment_checks(
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
        return Some(crate::sandbox::server::invalid_content(
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

pub(super) fn soft_delete_checks(
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
    if def.name == "Microsoft.ApiManagement/service" {
        let dk = name.to_ascii_lowercase();
        if let Some(d) = w.deleted_services.get(&dk) {
            if input["properties"]["restore"].as_bool() == Some(true) && d.purging.is_none() {
                return Ok(w.deleted_services.remove(&dk).map(|d| d.resources));
            }
            // terraform-provider-azurerm issue 12839 quotes this answer.
            return Err(Reply::arm_error(
                409,
                "ServiceAlreadyExistsInSoftDeletedState",
                format!(
                    "Api service {name} was soft-deleted. In order to create the new service with the same name, you have to either undelete the service or purge it. See https://aka.ms/apimsoftdelete."
                ),
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

pub(super) fn global_name_check(
    w: &World,
    def: &TypeDef,
    p: &ProviderPath,
    own_key: &str,
) -> Option<Reply> {
    let code = def.global_name?;
    let name = p.names.last()?;
    let taken = w.resources.iter().any(|(k, r)| {
        k.as_str() != own_key
            && r.type_name == def.name
            && r.id
                .rsplit('/')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
    }) || w.preflight.is_taken(def.name, name);
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

pub(super) fn write(w: &mut World, c: &mut Call<'_>, p: &ProviderPath) -> (Reply, u64) {
    let r = write_inner(w, c, p);
    match r {
        Ok(x) => x,
        Err(reply) => (reply, 0),
    }
}

/// What a write addresses: the path as sent, its type's definition and its store key.
struct Target<'p> {
    /// The path as sent.
    p: &'p ProviderPath,
    /// The resource type as sent (`Namespace/type/child`).
    type_name: String,
    /// The type's definition.
    def: &'static TypeDef,
    /// The store key of the resource written.
    own_key: String,
    /// Whether the write is a PATCH (merged onto the stored body).
    patch: bool,
}

impl<'p> Target<'p> {
    /// The target of a PUT or PATCH (`patch`) of `p`.
    fn new(p: &'p ProviderPath, patch: bool) -> Self {
        let type_name = p.type_name();
        let def = types::lookup(&type_name);
        let own_key = key(&p.id_as_sent(p.names.len()));
        Self {
            p,
            type_name,
            def,
            own_key,
            patch,
        }
    }
}

/// Children given inline in a parent's body: (segment, items; `None` = remove all).
type InlineChildren = Vec<(String, Option<Vec<Value>>)>;

/// What a write does besides storing the resource's body.
struct SideEffects {
    /// The fault the operation ends with, if any.
    fail_lro: Option<(u16, Value)>,
    /// Operations imported from an OpenAPI document (APIM apis).
    import_ops: Option<Vec<(String, Value)>>,
    /// Seconds the operation takes (before scaling).
    duration: f64,
    /// Children given inline in the parent's body.
    inline_children: InlineChildren,
}

/// A PUT or PATCH of a resource, as ARM runs it: refuse what ARM refuses (missing
/// ancestors, deleting parents, invalid input, type-specific rules), recover a
/// soft-deleted resource, store the computed body and its inline children or
/// imported operations, then answer synchronously or start the long-running operation.
pub(super) fn write_inner(
    w: &mut World,
    c: &mut Call<'_>,
    p: &ProviderPath,
) -> Result<(Reply, u64), Reply> {
    check_ancestors(w, p)?;
    if let Some(r) = group_deleting(w, p) {
        return Err(r);
    }
    if let Some(r) = ancestor_deleting(w, p) {
        return Err(r);
    }
    let t = Target::new(p, c.req.method == "PATCH");
    let existing = w.resources.get(&t.own_key).cloned();
    if t.patch && existing.is_none() {
        return Err(resource_not_found(p));
    }
    let input = c.body()?;
    check_input(&t, &input, existing.as_ref())?;
    refuse_for_type(w, c, &t, &input)?;
    restore_soft_deleted(w, &t, &input, existing.is_some())?;
    let existing = w.resources.get(&t.own_key).cloned();
    let created = existing.is_none();

    // Synchronous types fail at once under a fail_lro fault.
    if t.def.mode == Mode::Sync
        && let Some((status, err)) = &c.req.fail_lro
    {
        return Err(Reply::json(*status, json!({"error": err})));
    }

    let mut src = merged_source(&t, existing.as_ref(), &input);
    let effects = prepare(w, c, &t, &mut src, existing.as_ref())?;
    let (id, created_ms) = store(w, c, &t, existing.as_ref(), src);
    if created {
        implicit_children(w, c, p, t.def, &id, &t.own_key, created_ms);
    }

    // Children written through the parent.
    for (seg, items) in effects.inline_children {
        write_inline_children(w, c, &t, &id, seg, items)?;
    }

    // Imported operations replace the API's operations.
    if let Some(ops) = effects.import_ops {
        replace_operations(w, c, &t, &id, ops);
    }

    Ok(complete(
        w,
        c,
        &t,
        created,
        effects.duration,
        effects.fail_lro,
    ))
}

/// Refuse an input ARM rejects whatever the type: a tracked resource without
/// location, a missing `properties` object, a change of location.
fn check_input(t: &Target<'_>, input: &Value, existing: Option<&Resource>) -> Result<(), Reply> {
    let (p, def) = (t.p, t.def);
    if !t.patch {
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
            return Err(crate::sandbox::server::invalid_content(
                "Required property 'properties' not found in JSON. Path '', line 1, position 2.",
            ));
        }
    }
    if let (Some(e), Some(new)) = (existing, input["location"].as_str())
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
    Ok(())
}

/// Type-specific refusals before anything is stored: role assignment rules,
/// conflicting operations, a product's link to a missing API, globally unique names.
fn refuse_for_type(w: &World, c: &Call<'_>, t: &Target<'_>, input: &Value) -> Result<(), Reply> {
    let (p, def, own_key) = (t.p, t.def, t.own_key.as_str());
    if t.type_name.eq_ignore_ascii_case(ROLE_ASSIGNMENTS)
        && let Some(r) = role_assignment_checks(w, c, p, input, own_key)
    {
        return Err(r);
    }
    if let Some(r) = conflicts(w, p, own_key) {
        return Err(r);
    }
    // A product's API link needs the API.
    if def.name == "Microsoft.ApiManagement/service/products/apis" {
        let api = format!("{}/apis/{}", p.id_as_sent(1), p.names[p.names.len() - 1]);
        if !w.resources.contains_key(&key(&api)) {
            return Err(Reply::arm_error(
                404,
                "ResourceNotFound",
                format!("Api not found: '{}'.", p.names[p.names.len() - 1]),
            ));
        }
    }
    if let Some(r) = global_name_check(w, def, p, own_key) {
        return Err(r);
    }
    Ok(())
}

/// Recover a soft-deleted vault/account the input asks for: put it and its
/// children back, so that the input then applies to it.
fn restore_soft_deleted(
    w: &mut World,
    t: &Target<'_>,
    input: &Value,
    exists: bool,
) -> Result<(), Reply> {
    let restored = soft_delete_checks(w, t.p, t.def, input, exists)?;
    if let Some(resources) = restored {
        // Recovered: put the vault/account and its children back, then apply the input.
        for r in resources {
            w.resources.insert(key(&r.id), r);
        }
    }
    Ok(())
}

/// The body to store before computation: the input, or for a PATCH the input
/// merged onto the stored body.
fn merged_source(t: &Target<'_>, existing: Option<&Resource>, input: &Value) -> Value {
    if t.patch {
        let mut b = existing
            .map(|e| e.body.clone())
            .unwrap_or_else(|| json!({}));
        merge_patch(&mut b, input);
        b
    } else {
        input.clone()
    }
}

/// Checks of the merged body (Key Vault references, WAF policy, gateway
/// certificates), then what the write does besides storing it: the operation's
/// fault and duration, imported operations, inline children (taken out of `src`).
fn prepare(
    w: &World,
    c: &Call<'_>,
    t: &Target<'_>,
    src: &mut Value,
    existing: Option<&Resource>,
) -> Result<SideEffects, Reply> {
    let (p, def, own_key) = (t.p, t.def, t.own_key.as_str());
    let propagation_ms = c.shared.rbac_propagation_ms();
    if def.name == "Microsoft.App/containerApps"
        && let Some(r) = key_vault_reference_checks(w, src, existing, propagation_ms)
    {
        return Err(r);
    }
    if def.name == "Microsoft.Network/applicationGateways"
        && let Some(r) = app_gateway_firewall_checks(w, src, &canonical_id(w, p, p.names.len()))
    {
        return Err(r);
    }
    // The App Gateway fetches its Key Vault certificates during the operation: one it
    // cannot read yet fails the operation (the gateway is left `Failed`).
    let mut fail_lro = c.req.fail_lro.clone();
    if def.name == "Microsoft.Network/applicationGateways"
        && fail_lro.is_none()
        && let Some(failure) = app_gateway_key_vault_failure(w, src, own_key, propagation_ms)
    {
        fail_lro = Some((400, failure));
    }

    // OpenAPI import (APIM apis): operations from the document, never the document itself.
    let mut import_ops: Option<Vec<(String, Value)>> = None;
    let mut duration = if existing.is_none() {
        def.create_secs
    } else {
        def.update_secs
    };
    if def.name == "Microsoft.ApiManagement/service/apis" {
        match import_operations(src) {
            Ok(Some(ops)) => import_ops = Some(ops),
            Ok(None) => duration = 2.0,
            Err(r) => return Err(r),
        }
    }
    let inline_children = take_inline_children(t, src)?;
    Ok(SideEffects {
        fail_lro,
        import_ops,
        duration,
        inline_children,
    })
}

/// Take the inline children (VNet subnets, NSG rules, routes) out of the body.
fn take_inline_children(t: &Target<'_>, src: &mut Value) -> Result<InlineChildren, Reply> {
    let mut inline_children: InlineChildren = Vec::new();
    for (prop, seg) in t.def.inline {
        let given = src["properties"].get(*prop).cloned();
        if let Some(Value::Object(props)) = src.get_mut("properties") {
            props.remove(*prop);
        }
        match given {
            Some(Value::Array(items)) => inline_children.push((seg.to_string(), Some(items))),
            Some(Value::Null) | None if !t.patch => inline_children.push((seg.to_string(), None)),
            Some(other) if !other.is_null() => {
                return Err(crate::sandbox::server::invalid_content(&format!(
                    "Property '{prop}' must be an array."
                )));
            }
            _ => {}
        }
    }
    Ok(inline_children)
}

/// Compute and store the resource's body (keeping its ID, creation time and
/// sequence when it exists); register its principals. Returns its ID and creation time.
fn store(
    w: &mut World,
    c: &Call<'_>,
    t: &Target<'_>,
    existing: Option<&Resource>,
    src: Value,
) -> (String, u64) {
    let (p, def) = (t.p, t.def);
    let id = match existing {
        Some(e) => e.id.clone(),
        None => canonical_id(w, p, p.names.len()),
    };
    let created_ms = existing.map(|e| e.created_ms).unwrap_or_else(now_ms);
    let built = build(w, c, def, &id, &p.names, p, src, created_ms);
    register_principals(w, &built, def.name);
    let seq = existing.map(|e| e.seq).unwrap_or_else(|| w.next_seq());
    w.resources.insert(
        t.own_key.clone(),
        Resource {
            id: id.clone(),
            type_name: if def.name.is_empty() {
                types::canonical_type(&t.type_name)
            } else {
                def.name.to_string()
            },
            body: built,
            created_ms,
            seq,
            pending: None,
            failed: None,
        },
    );
    (id, created_ms)
}

/// Write the children given inline under segment `seg` of the parent `id`;
/// remove the stored ones the parent no longer lists.
fn write_inline_children(
    w: &mut World,
    c: &Call<'_>,
    t: &Target<'_>,
    id: &str,
    seg: String,
    items: Option<Vec<Value>>,
) -> Result<(), Reply> {
    let (p, type_name, own_key) = (t.p, &t.type_name, &t.own_key);
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
            return Err(crate::sandbox::server::invalid_content(&format!(
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
                body: cb,
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
    Ok(())
}

/// Replace the operations of the API `id` with those imported from its document.
fn replace_operations(
    w: &mut World,
    c: &Call<'_>,
    t: &Target<'_>,
    id: &str,
    ops: Vec<(String, Value)>,
) {
    let prefix = format!("{}/operations/", t.own_key);
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
        let mut op_path = t.p.clone();
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
                body: ob,
                created_ms: now_ms(),
                seq: s,
                pending: None,
                failed: None,
            },
        );
    }
}

/// Completion: the reply of a synchronous type (after its scaled duration), or
/// the start of the long-running operation and its `202`/`201`/`200` reply.
fn complete(
    w: &mut World,
    c: &Call<'_>,
    t: &Target<'_>,
    created: bool,
    duration: f64,
    fail_lro: Option<(u16, Value)>,
) -> (Reply, u64) {
    let (p, def, own_key) = (t.p, t.def, &t.own_key);
    match def.mode {
        Mode::Sync => {
            let status = if created { def.create_code } else { 200 };
            (view_reply(w, own_key, status), c.shared.scaled_ms(duration))
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
                fail_lro,
            );
            if let Some(r) = w.resources.get_mut(own_key) {
                r.pending = Some(op_id.clone());
            }
            let location = w
                .resources
                .get(own_key)
                .and_then(|r| r.body["location"].as_str().map(str::to_string))
                .unwrap_or_default();
            let reply = if def.mode == Mode::Async202 {
                Reply::empty(202)
            } else {
                view_reply(w, own_key, if created { 201 } else { 200 })
            };
            let Some(op) = w.operations.get(&op_id) else {
                return (reply, 0);
            };
            (
                lro::headers(reply, c.shared, op, &p.sub, &p.namespace, &location),
                0,
            )
        }
    }
}

/// Roles whose data actions include reading secrets.
const SECRET_READER_ROLES: &[&str] = &[
    "4633458b-17de-408a-b874-0445c86b69e6", // Key Vault Secrets User
    "b86a8fe4-44ce-4948-aee5-eccb2c155cd7", // Key Vault Secrets Officer
    "00482a5a-887f-4fb3-b363-3b7fe8e74483", // Key Vault Administrator
];

/// A container app's Key Vault secret references are resolved when it is written
/// (as in Azure): each needs an identity of the app that may read the secret then.
/// A brand-new app's system identity has no role yet, so referencing a secret
/// through it fails the first PUT; a user-assigned identity granted beforehand works.
/// A `WAF_v2` gateway needs a WAF policy (`firewallPolicy.id`) or the legacy
/// `webApplicationFirewallConfiguration`; a policy it names must exist. Messages as
/// ARM answers them (terraform-provider-azurerm#19304; NRP's `InvalidResourceReference`).
fn app_gateway_firewall_checks(w: &World, body: &Value, gateway_id: &str) -> Option<Reply> {
    let props = &body["properties"];
    let tier = props["sku"]["tier"]
        .as_str()
        .or(props["sku"]["name"].as_str())
        .unwrap_or("");
    let policy = props["firewallPolicy"]["id"].as_str();
    if tier.eq_ignore_ascii_case("WAF_v2")
        && policy.is_none()
        && !props["webApplicationFirewallConfiguration"].is_object()
    {
        return Some(Reply::arm_error(
            400,
            "ApplicationGatewayFirewallNotConfiguredForSelectedSku",
            format!(
                "Application Gateway {gateway_id} with the selected SKU tier WAF_v2 must have a valid WAF policy or configuration"
            ),
        ));
    }
    match policy {
        Some(id) if !w.resources.contains_key(&key(id)) => Some(Reply::arm_error(
            400,
            "InvalidResourceReference",
            format!(
                "Resource {id} referenced by resource {gateway_id} was not found. Please make sure that the referenced resource exists, and that both resources are in the same region."
            ),
        )),
        _ => None,
    }
}

fn key_vault_reference_checks(
    w: &World,
    body: &Value,
    existing: Option<&Resource>,
    propagation_ms: u64,
) -> Option<Reply> {
    let secrets = body["properties"]["configuration"]["secrets"].as_array()?;
    for secret in secrets {
        let (Some(name), Some(url)) = (secret["name"].as_str(), secret["keyVaultUrl"].as_str())
        else {
            continue;
        };
        let identity = secret["identity"].as_str().unwrap_or("");
        let fail = || {
            Reply::arm_error(
                400,
                "InvalidParameterValueInContainerTemplate",
                format!(
                    "The following field(s) are either invalid or missing. Field 'configuration.secrets' is invalid with details: 'Invalid value: \"{name}\": Unable to get value using Managed identity {identity} for secret {name}. Error: unable to fetch secret '{name}' using Managed identity '{identity}'';."
                ),
            )
        };
        let principal = if identity.eq_ignore_ascii_case("system") {
            // Only an app that already exists has a system identity others could grant.
            existing.and_then(|e| e.body["identity"]["principalId"].as_str())
        } else {
            let assigned = body["identity"]["userAssignedIdentities"]
                .as_object()
                .is_some_and(|m| m.keys().any(|k| k.eq_ignore_ascii_case(identity)));
            if assigned {
                w.resources
                    .get(&key(identity))
                    .and_then(|r| r.body["properties"]["principalId"].as_str())
            } else {
                None
            }
        };
        let Some(principal) = principal else {
            return Some(fail());
        };
        if !can_read_secret(w, url, principal, propagation_ms) {
            return Some(fail());
        }
    }
    None
}

/// The error an App Gateway operation ends with when one of its Key Vault
/// certificates (`keyVaultSecretId`) cannot be read through its user-assigned
/// identities yet (no role, or one younger than the propagation delay), shaped
/// like the answers quoted in MicrosoftDocs/azure-docs#33157 and mspnp/aks-baseline#262.
fn app_gateway_key_vault_failure(
    w: &World,
    body: &Value,
    own_key: &str,
    propagation_ms: u64,
) -> Option<Value> {
    let principals: Vec<&str> = body["identity"]["userAssignedIdentities"]
        .as_object()
        .map(|m| {
            m.keys()
                .filter_map(|k| w.resources.get(&key(k)))
                .filter_map(|r| r.body["properties"]["principalId"].as_str())
                .collect()
        })
        .unwrap_or_default();
    let gateway = w.resources.get(own_key).map_or(own_key, |r| r.id.as_str());
    let props = &body["properties"];
    let urls = ["sslCertificates", "trustedRootCertificates"]
        .iter()
        .filter_map(|k| props[*k].as_array())
        .flatten()
        .filter_map(|c| c["properties"]["keyVaultSecretId"].as_str());
    for url in urls {
        let readable = principals
            .iter()
            .any(|p| can_read_secret(w, url, p, propagation_ms));
        if !readable {
            return Some(json!({
                "code": "ApplicationGatewayKeyVaultSecretException",
                "message": format!("Problem occured while accessing and validating KeyVault Secrets associated with Application Gateway '{gateway}'. See details below:"),
                "details": [{
                    "code": "ApplicationGatewayKeyVaultSecretAccessDenied",
                    "message": format!("Access denied for KeyVault Secret '{url}' for Application Gateway '{gateway}'. Make sure that Identity assigned to Application Gateway has access to the KeyVault associated with secret."),
                }],
            }));
        }
    }
    None
}

/// Whether `principal` may read the secret at `url` (`https://VAULT.vault.../secrets/NAME[/VERSION]`)
/// and that secret exists. A role assignment younger than `propagation_ms` is not
/// effective yet (data-plane role propagation).
fn can_read_secret(w: &World, url: &str, principal: &str, propagation_ms: u64) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let mut parts = rest.split('/');
    let vault_name = parts
        .next()
        .and_then(|h| h.split('.').next())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (Some("secrets"), Some(secret_name)) = (parts.next(), parts.next()) else {
        return false;
    };
    let vault = w.resources.values().find(|r| {
        r.type_name == "Microsoft.KeyVault/vaults"
            && r.id.rsplit('/').next().map(str::to_ascii_lowercase) == Some(vault_name.clone())
    });
    let Some(vault) = vault else { return false };
    let vault_key = key(&vault.id);
    if !w.resources.contains_key(&format!(
        "{vault_key}/secrets/{}",
        secret_name.to_ascii_lowercase()
    )) {
        return false;
    }
    if vault.body["properties"]["enableRbacAuthorization"] != Value::Bool(true) {
        return vault.body["properties"]["accessPolicies"]
            .as_array()
            .is_some_and(|policies| {
                policies.iter().any(|p| {
                    p["objectId"]
                        .as_str()
                        .is_some_and(|o| o.eq_ignore_ascii_case(principal))
                        && p["permissions"]["secrets"].as_array().is_some_and(|s| {
                            s.iter().filter_map(Value::as_str).any(|x| {
                                x.eq_ignore_ascii_case("get") || x.eq_ignore_ascii_case("all")
                            })
                        })
                })
            });
    }
    w.resources.values().any(|r| {
        let k = key(&r.id);
        let Some((scope, _)) = k.split_once("/providers/microsoft.authorization/roleassignments/")
        else {
            return false;
        };
        let p = &r.body["properties"];
        (vault_key == scope || vault_key.starts_with(&format!("{scope}/")))
            && now_ms().saturating_sub(r.created_ms) >= propagation_ms
            && p["principalId"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(principal))
            && p["roleDefinitionId"].as_str().is_some_and(|d| {
                let d = d.to_ascii_lowercase();
                SECRET_READER_ROLES.iter().any(|g| d.ends_with(g))
            })
    })
}

/// Children Azure creates together with their parent: a storage account comes
/// with its `fileServices/default` (the parent every file share is written under),
/// shaped like Microsoft's `FileServicesGet` example (CORS rules, the account's SKU).
fn implicit_children(
    w: &mut World,
    c: &Call<'_>,
    p: &ProviderPath,
    def: &TypeDef,
    id: &str,
    own_key: &str,
    created_ms: u64,
) {
    if def.name != "Microsoft.Storage/storageAccounts" {
        return;
    }
    let sku_name = w
        .resources
        .get(own_key)
        .and_then(|r| r.body["sku"]["name"].as_str().map(str::to_string))
        .unwrap_or_else(|| "Standard_LRS".into());
    let tier = if sku_name.starts_with("Premium") {
        "Premium"
    } else {
        "Standard"
    };
    let child_type = "Microsoft.Storage/storageAccounts/fileServices";
    let child_def = types::lookup(child_type);
    let mut child_path = p.clone();
    child_path.types.push("fileServices".into());
    child_path.names.push("default".into());
    let cid = format!("{id}/fileServices/default");
    let input = json!({
        "properties": {"cors": {"corsRules": []}},
        "sku": {"name": sku_name, "tier": tier}
    });
    let body = build(
        w,
        c,
        child_def,
        &cid,
        &child_path.names,
        &child_path,
        input,
        created_ms,
    );
    let seq = w.next_seq();
    w.resources.insert(
        key(&cid),
        Resource {
            id: cid,
            type_name: child_def.name.to_string(),
            body,
            created_ms,
            seq,
            pending: None,
            failed: None,
        },
    );
}

pub(super) fn delete(w: &mut World, c: &mut Call<'_>, p: &ProviderPath) -> (Reply, u64) {
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

/// 409 `Conflict` when a parent (or the scope resource) is being deleted.
fn ancestor_deleting(w: &World, p: &ProviderPath) -> Option<Reply> {
    let mut candidates: Vec<String> = (1..p.names.len()).map(|n| p.id_as_sent(n)).collect();
    if p.scope.to_ascii_lowercase().contains("/providers/") {
        candidates.push(p.scope.clone());
    }
    for c in candidates {
        let Some(r) = w.resources.get(&key(&c)) else {
            continue;
        };
        let deleting = r
            .pending
            .as_ref()
            .and_then(|op| w.operations.get(op))
            .is_some_and(|op| matches!(op.action, OpAction::Delete { .. }));
        if deleting {
            return Some(Reply::arm_error(
                409,
                "Conflict",
                format!(
                    "The parent resource '{}' is being deleted; the operation cannot be performed.",
                    r.id
                ),
            ));
        }
    }
    None
}
