//! Whether a saved plan is one this configuration produces: a plan file is an
//! artifact anyone with write access to it can edit, so `apply FILE` trusts
//! nothing in it beyond what the model rebuilt from the environment file (and
//! the live state, re-read) would produce.
//!
//! Two checks:
//! - [`check_against_model`], offline and before any request: every change
//!   names a resource of the model (or a child/tagged resource one of its
//!   discoveries owns), with the model's label, stage, API and mode, and a
//!   desired body equal to the model's (so `${secret:...}` markers appear only
//!   where the model puts them); nothing outside the bodies holds a marker.
//! - [`compare_with_fresh`], after the live state was re-read: a plan made now
//!   from the same model reproduces every saved change field by field (action,
//!   property diffs, resolved target, live values kept as outputs, ordering;
//!   not the `wait` flag, which only follows a resource's provisioning).

use super::model::{Discovery, Model};
use super::plan::{Action, Change, Plan, effective_address, is_child, strip_large};
use super::resource::{Address, Mode};
use serde_json::Value;
use std::collections::BTreeMap;

/// A property a saved update may leave out of the model's body (e.g. a password
/// that an update keeps as it is): `(ARM type, JSON pointer)`.
pub type Omittable<'a> = &'a [(&'a str, &'a str)];

/// One change of a saved plan the configuration does not produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The change's address as written in the plan file.
    pub address: Address,
    /// What differs.
    pub reason: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.address, self.reason)
    }
}

/// Checks every change of `plan` against `model` without any request.
pub fn check_against_model(plan: &Plan, model: &Model, omittable: Omittable) -> Vec<Mismatch> {
    let specs: BTreeMap<&Address, usize> = model
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| (&r.address, i))
        .collect();
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for c in &plan.changes {
        let mut reasons = Vec::new();
        if !seen.insert(c.address.as_str().to_ascii_lowercase()) {
            reasons.push("appears more than once".to_string());
        }
        reasons.extend(markers_outside_body(c));
        match specs.get(&c.address) {
            Some(&i) if c.action != Action::Delete => {
                reasons.extend(compare_with_spec(c, &model.resources[i], omittable))
            }
            Some(_) => reasons.push("the configuration does not delete this resource".into()),
            None if c.action == Action::Delete => reasons.extend(check_discovered_delete(c, model)),
            None => reasons.push("the configuration has no such resource".into()),
        }
        out.extend(reasons.into_iter().map(|reason| Mismatch {
            address: c.address.clone(),
            reason,
        }));
    }
    out
}

/// Checks a deletion plan (`destroy --dry-run --out`) against `model` without any
/// request: every change is a delete, of a resource the configuration manages or
/// one its discoveries find, and holds no marker.
pub fn check_deletions_against_model(plan: &Plan, model: &Model) -> Vec<Mismatch> {
    let managed: std::collections::BTreeSet<&Address> = model
        .resources
        .iter()
        .filter(|r| r.mode != super::resource::Mode::Data)
        .map(|r| &r.address)
        .collect();
    let mut out = Vec::new();
    for c in &plan.changes {
        let mut reasons: Vec<String> = markers_outside_body(c).into_iter().collect();
        if c.action != Action::Delete {
            reasons.push("a deletion plan holds only deletes".into());
        } else if !managed.contains(&c.address) {
            reasons.extend(check_discovered_delete(c, model));
        }
        out.extend(reasons.into_iter().map(|reason| Mismatch {
            address: c.address.clone(),
            reason,
        }));
    }
    out
}

/// Secret markers anywhere but in the desired body, or reference markers in
/// what apply uses as resolved (label, target, live values): the model never
/// puts them there.
fn markers_outside_body(c: &Change) -> Option<String> {
    let resolved = [json(&c.label), json(&c.target), json(&c.outputs)];
    let elsewhere = [json(&c.diffs), json(&c.depends_on), json(&c.serial_key)];
    let marked = resolved
        .iter()
        .any(|t| t.contains("${secret:") || t.contains("${ref:"))
        || elsewhere.iter().any(|t| t.contains("${secret:"));
    marked.then(|| "holds a marker outside its desired body".to_string())
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn compare_with_spec(
    c: &Change,
    spec: &super::resource::ResourceSpec,
    omittable: Omittable,
) -> Vec<String> {
    let mut reasons = Vec::new();
    if c.label != spec.label {
        reasons.push(format!("label {:?} is not {:?}", c.label, spec.label));
    }
    if c.stage != spec.stage {
        reasons.push(format!(
            "stage {} is not {}",
            c.stage.as_str(),
            spec.stage.as_str()
        ));
    }
    if c.api != spec.api {
        reasons.push("type or API version differs".into());
    }
    let action_fits = match spec.mode {
        Mode::Data => c.action == Action::Read,
        Mode::Managed => matches!(
            c.action,
            Action::Create | Action::Update | Action::Replace | Action::NoOp
        ),
    };
    if !action_fits {
        reasons.push(format!("action {} is not possible here", c.action.as_str()));
    }
    if c.depends_on != spec.dependencies() {
        reasons.push("dependencies differ".into());
    }
    let serial_key = if c.action == Action::Read {
        None
    } else {
        spec.serial_key.clone()
    };
    if c.serial_key != serial_key {
        reasons.push("serial key differs".into());
    }
    let mut expected = spec.body.clone();
    // An update carries the live lists its children own (read at plan time);
    // their values are checked against a plan made at apply time.
    if c.action == Action::Update
        && let Some(d) = &c.desired
    {
        super::diff::keep_owned_by_children(&mut expected, d, &spec.rules);
    }
    strip_large(&mut expected, &mut BTreeMap::new());
    match (&c.desired, c.action.writes()) {
        (None, false) => {}
        (Some(_), false) => reasons.push("carries a body although nothing is written".into()),
        (None, true) => reasons.push("writes without a body".into()),
        (Some(d), true) => {
            if !same_body(c, d, &expected, omittable) {
                reasons.push(format!(
                    "the desired body differs from the configuration's at {}",
                    first_difference(d, &expected, "")
                ));
            }
        }
    }
    reasons
}

/// Whether `desired` equals `expected`, allowing an update to leave out an
/// omittable property.
fn same_body(c: &Change, desired: &Value, expected: &Value, omittable: Omittable) -> bool {
    if desired == expected {
        return true;
    }
    if c.action != Action::Update {
        return false;
    }
    let mut expected = expected.clone();
    for (type_name, ptr) in omittable {
        if c.api
            .type_name()
            .is_some_and(|t| t.eq_ignore_ascii_case(type_name))
        {
            remove_pointer(&mut expected, ptr);
        }
    }
    desired == &expected
}

fn remove_pointer(v: &mut Value, ptr: &str) {
    let Some((parent, key)) = ptr.rsplit_once('/') else {
        return;
    };
    if let Some(Value::Object(o)) = v.pointer_mut(parent) {
        o.remove(key);
    }
}

/// The JSON pointer of the first place where `a` and `b` differ.
fn first_difference(a: &Value, b: &Value, at: &str) -> String {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                if x.get(k) != y.get(k) {
                    let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                    return match (x.get(k), y.get(k)) {
                        (Some(p), Some(q)) => first_difference(p, q, &here),
                        _ => here,
                    };
                }
            }
            at_or_root(at)
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .position(|(p, q)| p != q)
            .map(|i| first_difference(&x[i], &y[i], &format!("{at}/{i}")))
            .unwrap_or_else(|| at_or_root(at)),
        _ => at_or_root(at),
    }
}

fn at_or_root(at: &str) -> String {
    if at.is_empty() { "/".into() } else { at.into() }
}

/// A delete the model does not name must be one of its discoveries' resources.
fn check_discovered_delete(c: &Change, model: &Model) -> Option<String> {
    let covered = model.discoveries.iter().any(|d| match d {
        Discovery::Children {
            parent,
            child_type,
            api_version,
            ..
        } => {
            is_child(&c.address, parent)
                && c.api.type_name().is_some_and(|t| t.eq_ignore_ascii_case(child_type))
                && matches!(&c.api, super::resource::Api::Arm { api_version: v, .. } if v == api_version)
        }
        Discovery::Tagged { resource_group, .. } => is_child(&c.address, resource_group),
    });
    let clean = c.desired.is_none() && c.diffs.is_empty() && c.target.is_none();
    match (covered, clean) {
        (true, true) => None,
        (true, false) => Some("a delete carries a body, diffs or a target".into()),
        (false, _) => Some("the configuration owns no such resource to delete".into()),
    }
}

/// What re-planning now showed about a saved plan that passed
/// [`check_against_model`] and whose fingerprints still match.
#[derive(Debug, Default)]
pub struct FreshComparison {
    /// Saved changes a plan made now does not reproduce (the file was edited).
    pub mismatches: Vec<Mismatch>,
    /// Writes a plan made now has that the saved plan lacks (something changed
    /// since; plan again).
    pub missing: Vec<Mismatch>,
}

/// Compares a saved plan with a plan made now from the same model against the
/// live state; every field of every saved change must be reproduced.
pub fn compare_with_fresh(saved: &Plan, fresh: &Plan, omittable: Omittable) -> FreshComparison {
    let mut out = FreshComparison::default();
    for s in &saved.changes {
        let Some(f) = fresh
            .changes
            .iter()
            .find(|f| f.address == s.address && f.api == s.api)
        else {
            out.mismatches.push(Mismatch {
                address: s.address.clone(),
                reason: "a plan made now does not produce this change".into(),
            });
            continue;
        };
        let differing = differing_fields(s, f, omittable);
        if !differing.is_empty() {
            out.mismatches.push(Mismatch {
                address: s.address.clone(),
                reason: format!(
                    "a plan made now differs in {} ({} now)",
                    differing.join(", "),
                    f.action.as_str()
                ),
            });
        }
    }
    for f in fresh.changes.iter().filter(|f| f.action.writes()) {
        if !saved.changes.iter().any(|s| s.address == f.address) {
            out.missing.push(Mismatch {
                address: effective_address(f).clone(),
                reason: format!("would now be planned: {} {}", f.action.as_str(), f.label),
            });
        }
    }
    out
}

fn differing_fields(s: &Change, f: &Change, omittable: Omittable) -> Vec<&'static str> {
    let body_same = match (&s.desired, &f.desired) {
        (Some(a), Some(b)) => {
            a == b || same_body(s, a, b, omittable) || same_body(f, b, a, omittable)
        }
        (a, b) => a == b,
    };
    [
        ("label", s.label == f.label),
        ("stage", s.stage == f.stage),
        ("action", s.action == f.action),
        ("property diffs", s.diffs == f.diffs),
        ("replacement paths", s.replace_paths == f.replace_paths),
        ("fingerprint", s.fingerprint == f.fingerprint),
        ("desired body", body_same),
        ("target", s.target == f.target),
        ("dependencies", s.depends_on == f.depends_on),
        ("serial key", s.serial_key == f.serial_key),
        ("live values (outputs)", s.outputs == f.outputs),
        ("re-read", s.reread == f.reread),
        // `wait` is left out: a resource still provisioning when planned may be
        // ready now (not an edit), and the flag only makes apply wait longer.
    ]
    .into_iter()
    .filter(|(_, same)| !same)
    .map(|(name, _)| name)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::plan::Fingerprint;
    use crate::engine::resource::{Api, DiffRules, ResourceSpec, Stage};
    use serde_json::json;

    const OMIT: Omittable = &[("Microsoft.Test/servers", "/properties/password")];

    fn spec(address: &str, body: Value) -> ResourceSpec {
        ResourceSpec {
            address: Address(address.into()),
            label: format!("thing {address}"),
            stage: Stage::Hub,
            api: Api::Arm {
                type_name: "Microsoft.Test/servers".into(),
                api_version: "2024-01-01".into(),
            },
            body,
            depends_on: Default::default(),
            rules: DiffRules::default(),
            mode: Mode::Managed,
            serial_key: None,
            taggable: true,
        }
    }

    fn change_of(s: &ResourceSpec, action: Action) -> Change {
        Change {
            address: s.address.clone(),
            label: s.label.clone(),
            stage: s.stage,
            api: s.api.clone(),
            action,
            diffs: Vec::new(),
            replace_paths: Vec::new(),
            fingerprint: Fingerprint::Absent,
            desired: action.writes().then(|| s.body.clone()),
            target: None,
            depends_on: s.dependencies(),
            serial_key: None,
            outputs: Default::default(),
            reread: false,
            wait: false,
        }
    }

    fn model() -> Model {
        Model {
            resources: vec![spec(
                "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Test/servers/a",
                json!({"properties": {"password": "${secret:pw}", "size": 1}}),
            )],
            ..Model::default()
        }
    }

    fn plan_of(changes: Vec<Change>) -> Plan {
        let mut p = Plan::default();
        p.changes = changes;
        p
    }

    #[test]
    fn the_plan_the_model_produces_passes() {
        let m = model();
        let p = plan_of(vec![change_of(&m.resources[0], Action::Create)]);
        assert_eq!(check_against_model(&p, &m, OMIT), Vec::new());
        // An update may leave the omittable password out; a create may not.
        let mut c = change_of(&m.resources[0], Action::Update);
        c.desired = Some(json!({"properties": {"size": 1}}));
        assert_eq!(
            check_against_model(&plan_of(vec![c.clone()]), &m, OMIT),
            Vec::new()
        );
        c.action = Action::Create;
        assert_eq!(check_against_model(&plan_of(vec![c]), &m, OMIT).len(), 1);
    }

    #[test]
    fn appended_edited_or_marked_changes_are_named() {
        let m = model();
        let mut appended = change_of(
            &spec(
                "/subscriptions/s/providers/Microsoft.Test/servers/owner",
                json!({}),
            ),
            Action::Create,
        );
        appended.label = "x".into();
        let mut edited = change_of(&m.resources[0], Action::Update);
        edited.desired = Some(json!({"properties": {"password": "${secret:pw}", "size": 9}}));
        let mut marked = change_of(&m.resources[0], Action::NoOp);
        marked.label = "${secret:pw}".into();
        let found = check_against_model(&plan_of(vec![appended, edited]), &m, OMIT);
        let reasons: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(reasons.len(), 2, "{reasons:#?}");
        assert!(reasons[0].contains("has no such resource"), "{reasons:#?}");
        assert!(
            reasons[1].ends_with("differs from the configuration's at /properties/size"),
            "{reasons:#?}"
        );
        let found = check_against_model(&plan_of(vec![marked]), &m, OMIT);
        assert!(
            found.iter().any(|f| f.reason.contains("marker outside")),
            "{found:#?}"
        );
    }

    #[test]
    fn a_deletion_plan_holds_only_deletes_of_what_the_configuration_manages() {
        let m = model();
        let delete = change_of(&m.resources[0], Action::Delete);
        assert_eq!(
            check_deletions_against_model(&plan_of(vec![delete.clone()]), &m),
            Vec::new()
        );
        // As a normal plan, the same delete is refused.
        assert_eq!(
            check_against_model(&plan_of(vec![delete.clone()]), &m, OMIT).len(),
            1
        );
        let create = change_of(&m.resources[0], Action::Create);
        let mut outside = delete;
        outside.address = Address(
            "/subscriptions/s/resourceGroups/other/providers/Microsoft.Test/servers/b".into(),
        );
        let found = check_deletions_against_model(&plan_of(vec![create, outside]), &m);
        let reasons: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(reasons.len(), 2, "{reasons:#?}");
        assert!(reasons[0].contains("only deletes"), "{reasons:#?}");
        assert!(reasons[1].contains("owns no such resource"), "{reasons:#?}");
    }

    #[test]
    fn a_delete_outside_every_discovery_or_an_action_upgrade_is_refused() {
        let m = model();
        let mut del = change_of(&m.resources[0], Action::Delete);
        del.address = Address(
            "/subscriptions/s/resourceGroups/other/providers/Microsoft.Test/servers/b".into(),
        );
        del.desired = None;
        let found = check_against_model(&plan_of(vec![del]), &m, OMIT);
        assert!(
            found[0].reason.contains("owns no such resource"),
            "{found:#?}"
        );

        let saved = plan_of(vec![change_of(&m.resources[0], Action::Replace)]);
        let fresh = plan_of(vec![change_of(&m.resources[0], Action::Update)]);
        let cmp = compare_with_fresh(&saved, &fresh, OMIT);
        assert_eq!(cmp.mismatches.len(), 1);
        assert!(cmp.mismatches[0].reason.contains("action"), "{cmp:#?}");
        assert!(
            compare_with_fresh(&fresh, &fresh, OMIT)
                .mismatches
                .is_empty()
        );
        let cmp = compare_with_fresh(&plan_of(Vec::new()), &fresh, OMIT);
        assert_eq!(cmp.missing.len(), 1);
    }
}
