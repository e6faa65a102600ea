//! Comparing a desired body with the live one, over the properties the tool sets
//! only, normalising what ARM normalises.
//!
//! The desired body is first *resolved* into a [`Desired`] tree: reference
//! markers become known values or [`Desired::Unknown`]; anything holding a secret
//! becomes [`Desired::Sensitive`] (compared by presence only, never by value).

use super::resource::{DiffRules, Reference, Segment, parse_markers};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::fmt;

/// Values larger than this (bytes of compact JSON) are kept as a digest in plans.
pub const LARGE_VALUE_BYTES: usize = 4096;

/// One side of a property difference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", content = "value", rename_all = "snake_case")]
pub enum DiffValue {
    /// Not set.
    Absent,
    /// A known value.
    Known(Value),
    /// Known after apply (depends on a resource not yet created or replaced).
    Unknown,
    /// A secret or write-only value: never shown, compared by presence.
    Sensitive,
    /// A value too large to show or store (e.g. an OpenAPI document).
    Digest {
        /// `sha256:` + hex of the value's bytes (a string's UTF-8, else compact JSON).
        sha256: String,
        /// Size in bytes.
        bytes: u64,
    },
}

impl DiffValue {
    /// A known value, or its digest when large.
    pub fn known(v: &Value) -> DiffValue {
        let bytes = value_bytes(v);
        if bytes.len() > LARGE_VALUE_BYTES {
            DiffValue::Digest {
                sha256: sha256_hex(&bytes),
                bytes: bytes.len() as u64,
            }
        } else {
            DiffValue::Known(v.clone())
        }
    }

    fn from_live(v: Option<&Value>) -> DiffValue {
        match v {
            None | Some(Value::Null) => DiffValue::Absent,
            Some(v) => DiffValue::known(v),
        }
    }
}

/// The bytes a value is digested over: a string's UTF-8, else compact JSON.
pub fn value_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    }
}

/// `sha256:` + lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256:");
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// One property that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyDiff {
    /// JSON-pointer-like path; elements of set arrays matched by name appear as
    /// `[name]`, e.g. `/properties/subnets[apim-subnet]/properties/addressPrefix`.
    pub path: String,
    /// The live value.
    pub old: DiffValue,
    /// The desired value.
    pub new: DiffValue,
    /// Whether the path is immutable (the change forces a replacement).
    #[serde(default)]
    pub forces_replacement: bool,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
    Name(String),
}

pub(crate) type Path = Vec<Seg>;

pub(crate) fn path_string(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                s.push('/');
                s.push_str(&k.replace('~', "~0").replace('/', "~1"));
            }
            Seg::Index(i) => {
                s.push('/');
                s.push_str(&i.to_string());
            }
            Seg::Name(n) => {
                s.push('[');
                s.push_str(n);
                s.push(']');
            }
        }
    }
    s
}

fn pattern_segments(pattern: &str) -> Vec<String> {
    pattern
        .split('/')
        .skip(1)
        .map(|p| p.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn seg_matches(pattern: &str, seg: &Seg) -> bool {
    if pattern == "*" {
        return true;
    }
    match seg {
        Seg::Key(k) => k == pattern,
        Seg::Index(i) => pattern == i.to_string(),
        Seg::Name(n) => n.eq_ignore_ascii_case(pattern),
    }
}

/// Whether `pattern` equals `path` or is an ancestor of it.
pub(crate) fn rule_covers(pattern: &str, path: &[Seg]) -> bool {
    let p = pattern_segments(pattern);
    p.len() <= path.len() && p.iter().zip(path).all(|(a, b)| seg_matches(a, b))
}

fn rule_exact(pattern: &str, path: &[Seg]) -> bool {
    let p = pattern_segments(pattern);
    p.len() == path.len() && p.iter().zip(path).all(|(a, b)| seg_matches(a, b))
}

/// Whether `path` and `pattern` are on one line (either contains the other).
fn rule_overlaps(pattern: &str, path: &[Seg]) -> bool {
    let p = pattern_segments(pattern);
    p.iter().zip(path).all(|(a, b)| seg_matches(a, b))
}

/// A resolved reference while planning.
#[derive(Debug, Clone, PartialEq)]
pub enum RefValue {
    /// The referenced live value.
    Known(Value),
    /// Not known until apply.
    Unknown,
}

/// A desired body with references resolved as far as a plan can.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Desired {
    Known(Value),
    Unknown,
    Sensitive,
    Object(Vec<(String, Desired)>),
    Array(Vec<Desired>),
}

impl Desired {
    fn to_diff_value(&self) -> DiffValue {
        if self.contains_sensitive() {
            return DiffValue::Sensitive;
        }
        match self.to_value() {
            Some(v) => DiffValue::known(&v),
            None => DiffValue::Unknown,
        }
    }

    fn contains_sensitive(&self) -> bool {
        match self {
            Desired::Sensitive => true,
            Desired::Object(o) => o.iter().any(|(_, d)| d.contains_sensitive()),
            Desired::Array(a) => a.iter().any(Desired::contains_sensitive),
            _ => false,
        }
    }

    pub(crate) fn to_value(&self) -> Option<Value> {
        match self {
            Desired::Known(v) => Some(v.clone()),
            Desired::Unknown | Desired::Sensitive => None,
            Desired::Object(o) => {
                let mut m = serde_json::Map::new();
                for (k, d) in o {
                    m.insert(k.clone(), d.to_value()?);
                }
                Some(Value::Object(m))
            }
            Desired::Array(a) => a
                .iter()
                .map(Desired::to_value)
                .collect::<Option<Vec<_>>>()
                .map(Value::Array),
        }
    }

    fn is_known_scalar(&self) -> bool {
        matches!(self, Desired::Known(v) if !v.is_object() && !v.is_array())
    }

    /// The `name` of an array element, if it is an object with a known string name.
    fn element_name(&self) -> Option<String> {
        match self {
            Desired::Known(Value::Object(o)) => {
                o.get("name").and_then(Value::as_str).map(str::to_string)
            }
            Desired::Object(o) => o
                .iter()
                .find(|(k, _)| k == "name")
                .and_then(|(_, d)| match d {
                    Desired::Known(Value::String(s)) => Some(s.clone()),
                    _ => None,
                }),
            _ => None,
        }
    }

    /// Elements of an array (known or resolved).
    fn elements(&self) -> Option<Vec<Desired>> {
        match self {
            Desired::Known(Value::Array(a)) => {
                Some(a.iter().cloned().map(Desired::Known).collect())
            }
            Desired::Array(a) => Some(a.clone()),
            _ => None,
        }
    }
}

/// Why a reference could not be resolved while planning.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResolveFailure {
    pub reference: String,
    pub reason: String,
}

/// Resolves markers for planning: references through `lookup`, secrets become
/// [`Desired::Sensitive`].
pub(crate) fn resolve_desired(
    value: &Value,
    lookup: &dyn Fn(&Reference) -> Result<RefValue, String>,
) -> Result<Desired, ResolveFailure> {
    match value {
        Value::String(s) => resolve_string(s, lookup),
        Value::Object(o) => {
            let mut out = Vec::with_capacity(o.len());
            let mut all_known = true;
            for (k, v) in o {
                let d = resolve_desired(v, lookup)?;
                all_known &= matches!(d, Desired::Known(_));
                out.push((k.clone(), d));
            }
            if all_known {
                let m = out
                    .into_iter()
                    .map(|(k, d)| match d {
                        Desired::Known(v) => (k, v),
                        _ => (k, Value::Null),
                    })
                    .collect();
                Ok(Desired::Known(Value::Object(m)))
            } else {
                Ok(Desired::Object(out))
            }
        }
        Value::Array(a) => {
            let out = a
                .iter()
                .map(|v| resolve_desired(v, lookup))
                .collect::<Result<Vec<_>, _>>()?;
            if out.iter().all(|d| matches!(d, Desired::Known(_))) {
                Ok(Desired::Known(Value::Array(
                    out.into_iter()
                        .map(|d| match d {
                            Desired::Known(v) => v,
                            _ => Value::Null,
                        })
                        .collect(),
                )))
            } else {
                Ok(Desired::Array(out))
            }
        }
        other => Ok(Desired::Known(other.clone())),
    }
}

fn resolve_string(
    s: &str,
    lookup: &dyn Fn(&Reference) -> Result<RefValue, String>,
) -> Result<Desired, ResolveFailure> {
    let segments = parse_markers(s);
    if segments.iter().any(|seg| matches!(seg, Segment::Secret(_))) {
        return Ok(Desired::Sensitive);
    }
    if let [Segment::Ref(r)] = segments.as_slice() {
        return match lookup(r) {
            Ok(RefValue::Known(v)) => Ok(Desired::Known(v)),
            Ok(RefValue::Unknown) => Ok(Desired::Unknown),
            Err(reason) => Err(ResolveFailure {
                reference: r.describe(),
                reason,
            }),
        };
    }
    let mut out = String::new();
    for seg in segments {
        match seg {
            Segment::Text(t) => out.push_str(&t),
            Segment::Ref(r) => match lookup(&r) {
                Ok(RefValue::Known(v)) => out.push_str(&value_as_text(&v)),
                Ok(RefValue::Unknown) => return Ok(Desired::Unknown),
                Err(reason) => {
                    return Err(ResolveFailure {
                        reference: r.describe(),
                        reason,
                    });
                }
            },
            Segment::Secret(_) => return Ok(Desired::Sensitive),
        }
    }
    Ok(Desired::Known(Value::String(out)))
}

/// How a referenced value is embedded in a longer string.
pub(crate) fn value_as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every reference in a body with the path where it appears.
pub(crate) fn references_with_paths(value: &Value) -> Vec<(Reference, Path)> {
    fn walk(v: &Value, path: &mut Path, out: &mut Vec<(Reference, Path)>) {
        match v {
            Value::String(s) => {
                for seg in parse_markers(s) {
                    if let Segment::Ref(r) = seg {
                        out.push((r, path.clone()));
                    }
                }
            }
            Value::Object(o) => {
                for (k, v) in o {
                    path.push(Seg::Key(k.clone()));
                    walk(v, path, out);
                    path.pop();
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    path.push(Seg::Index(i));
                    walk(v, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

/// Whether a value at `path` is write-only under `rules`.
pub(crate) fn is_write_only(rules: &DiffRules, path: &[Seg]) -> bool {
    rules.write_only.iter().any(|p| rule_covers(p, path))
}

/// Compares `desired` with `live` under `rules`. `live == None` means the
/// resource does not exist (every desired leaf is reported as added).
pub(crate) fn diff(
    desired: &Desired,
    live: Option<&Value>,
    rules: &DiffRules,
) -> Vec<PropertyDiff> {
    let mut d = Differ {
        rules,
        exists: live.is_some(),
        out: Vec::new(),
    };
    d.walk(desired, live, &mut Vec::new());
    d.out
}

/// Write-only leaves of a desired body (used to show forced rewrites).
pub(crate) fn sensitive_paths(desired: &Desired, rules: &DiffRules) -> Vec<String> {
    fn walk(d: &Desired, rules: &DiffRules, path: &mut Path, out: &mut Vec<String>) {
        if is_write_only(rules, path) || matches!(d, Desired::Sensitive) {
            out.push(path_string(path));
            return;
        }
        match d {
            Desired::Object(o) => {
                for (k, v) in o {
                    path.push(Seg::Key(k.clone()));
                    walk(v, rules, path, out);
                    path.pop();
                }
            }
            Desired::Known(Value::Object(o)) => {
                for (k, v) in o {
                    path.push(Seg::Key(k.clone()));
                    walk(&Desired::Known(v.clone()), rules, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(desired, rules, &mut Vec::new(), &mut out);
    out
}

/// A desired array and its live counterpart, as the array steps of the
/// differ compare them.
#[derive(Clone, Copy)]
struct ArrayPair<'d> {
    /// The whole desired array (shown as the new value of a whole-array diff).
    desired: &'d Desired,
    /// Its elements.
    items: &'d [Desired],
    /// The live array's elements.
    live_items: &'d [Value],
    /// Whether both sides hold only scalars.
    scalars: bool,
}

struct Differ<'a> {
    rules: &'a DiffRules,
    /// Whether the live resource exists.
    exists: bool,
    out: Vec<PropertyDiff>,
}

fn is_absent(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

impl Differ<'_> {
    fn push(&mut self, path: &[Seg], old: DiffValue, new: DiffValue) {
        let forces_replacement = self.rules.immutable.iter().any(|p| rule_overlaps(p, path));
        self.out.push(PropertyDiff {
            path: path_string(path),
            old,
            new,
            forces_replacement,
        });
    }

    fn walk(&mut self, desired: &Desired, live: Option<&Value>, path: &mut Path) {
        if self.rules.ignore.iter().any(|p| rule_covers(p, path)) {
            return;
        }
        if is_write_only(self.rules, path) {
            // ARM never returns write-only values: they are set when the
            // resource is created (or rewritten on request), never compared.
            if !self.exists && !matches!(desired, Desired::Known(Value::Null)) {
                self.push(path, DiffValue::Absent, DiffValue::Sensitive);
            }
            return;
        }
        if matches!(desired, Desired::Sensitive) {
            // Holds a secret: compared by presence only.
            if is_absent(live) {
                self.push(path, DiffValue::Absent, DiffValue::Sensitive);
            }
            return;
        }
        match desired {
            Desired::Sensitive => {}
            Desired::Unknown => self.push(path, DiffValue::from_live(live), DiffValue::Unknown),
            Desired::Object(children) => self.walk_object(
                children
                    .iter()
                    .map(|(k, d)| (k.clone(), d.clone()))
                    .collect(),
                desired,
                live,
                path,
            ),
            Desired::Array(_) => self.walk_array(desired, live, path),
            Desired::Known(v) => match v {
                Value::Object(o) => self.walk_object(
                    o.iter()
                        .map(|(k, v)| (k.clone(), Desired::Known(v.clone())))
                        .collect(),
                    desired,
                    live,
                    path,
                ),
                Value::Array(_) => self.walk_array(desired, live, path),
                scalar => self.compare_scalar(scalar, live, path),
            },
        }
    }

    fn walk_object(
        &mut self,
        children: Vec<(String, Desired)>,
        whole: &Desired,
        live: Option<&Value>,
        path: &mut Path,
    ) {
        match live {
            Some(Value::Object(lo)) => {
                for (k, d) in &children {
                    // Keys that are ARM IDs (user-assigned identities) may come back
                    // in another casing.
                    let l = lo.get(k).or_else(|| {
                        is_arm_id(k)
                            .then(|| lo.iter().find(|(lk, _)| lk.eq_ignore_ascii_case(k)))
                            .flatten()
                            .map(|(_, v)| v)
                    });
                    path.push(Seg::Key(k.clone()));
                    self.walk(d, l, path);
                    path.pop();
                }
            }
            None | Some(Value::Null) => {
                if children.is_empty() && self.exists && !path.is_empty() {
                    // An empty object that should exist and does not (e.g. a
                    // user-assigned identity missing from `userAssignedIdentities`).
                    self.push(path, DiffValue::Absent, whole.to_diff_value());
                }
                for (k, d) in &children {
                    path.push(Seg::Key(k.clone()));
                    self.walk(d, None, path);
                    path.pop();
                }
            }
            Some(other) => self.push(path, DiffValue::known(other), whole.to_diff_value()),
        }
    }

    /// Diffs an array: absent live arrays, set arrays (compared regardless of
    /// order, see `DiffRules::set_arrays`) and ordered arrays each have their step.
    fn walk_array(&mut self, desired: &Desired, live: Option<&Value>, path: &mut Path) {
        let items = desired.elements().unwrap_or_default();
        let all_scalar = items.iter().all(Desired::is_known_scalar);
        let live_items = match live {
            None | Some(Value::Null) => {
                self.walk_array_absent(desired, &items, all_scalar, path);
                return;
            }
            Some(Value::Array(a)) => a,
            Some(other) => {
                self.push(path, DiffValue::known(other), desired.to_diff_value());
                return;
            }
        };
        let live_scalar = live_items.iter().all(|v| !v.is_object() && !v.is_array());
        let arrays = ArrayPair {
            desired,
            items: &items,
            live_items,
            scalars: all_scalar && live_scalar,
        };
        if self.is_set(path) {
            self.walk_set(&arrays, path);
        } else {
            self.walk_ordered(&arrays, path);
        }
    }

    /// The desired array has no live counterpart: one absent value for an
    /// array of scalars, else each element walked against nothing.
    fn walk_array_absent(
        &mut self,
        desired: &Desired,
        items: &[Desired],
        all_scalar: bool,
        path: &mut Path,
    ) {
        if items.is_empty() {
            return;
        }
        if all_scalar {
            self.push(path, DiffValue::Absent, desired.to_diff_value());
        } else {
            for (i, it) in items.iter().enumerate() {
                let seg = match it.element_name() {
                    Some(n) if self.is_set(path) => Seg::Name(n),
                    _ => Seg::Index(i),
                };
                path.push(seg);
                self.walk(it, None, path);
                path.pop();
            }
        }
    }

    /// A set array: scalars compared as multisets, named elements matched by
    /// name, unnamed elements matched with an equal live one.
    fn walk_set(&mut self, arrays: &ArrayPair, path: &mut Path) {
        if arrays.scalars {
            if !self.scalar_multiset_eq(arrays.items, arrays.live_items, path) {
                self.push(
                    path,
                    DiffValue::known(&Value::Array(arrays.live_items.to_vec())),
                    arrays.desired.to_diff_value(),
                );
            }
            return;
        }
        let names: Option<Vec<String>> = arrays.items.iter().map(Desired::element_name).collect();
        match names {
            Some(names) => self.walk_named_set(arrays.items, &names, arrays.live_items, path),
            None => self.walk_unnamed_set(arrays.items, arrays.live_items, path),
        }
    }

    /// A set of named elements: each desired element against the live one of
    /// the same name (case-insensitive); live elements not desired are removals.
    fn walk_named_set(
        &mut self,
        items: &[Desired],
        names: &[String],
        live_items: &[Value],
        path: &mut Path,
    ) {
        for (it, name) in items.iter().zip(names) {
            let found = live_items.iter().find(|l| {
                l.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            });
            path.push(Seg::Name(name.clone()));
            self.walk(it, found, path);
            path.pop();
        }
        for l in live_items {
            let lname = l.get("name").and_then(Value::as_str).unwrap_or_default();
            if !names.iter().any(|n| n.eq_ignore_ascii_case(lname)) {
                path.push(Seg::Name(lname.to_string()));
                self.push(path, DiffValue::known(l), DiffValue::Absent);
                path.pop();
            }
        }
    }

    /// Unnamed elements: match each desired element with an equal live one;
    /// the unmatched on either side are additions and removals.
    fn walk_unnamed_set(&mut self, items: &[Desired], live_items: &[Value], path: &mut Path) {
        let mut used = vec![false; live_items.len()];
        let mut unmatched = Vec::new();
        for (i, it) in items.iter().enumerate() {
            let hit = (0..live_items.len()).find(|&j| {
                !used[j] && {
                    let mut probe = Differ {
                        rules: self.rules,
                        exists: self.exists,
                        out: Vec::new(),
                    };
                    let mut p = path.clone();
                    p.push(Seg::Index(i));
                    probe.walk(it, Some(&live_items[j]), &mut p);
                    probe.out.is_empty()
                }
            });
            match hit {
                Some(j) => used[j] = true,
                None => unmatched.push(i),
            }
        }
        for i in unmatched {
            path.push(Seg::Index(i));
            self.push(path, DiffValue::Absent, items[i].to_diff_value());
            path.pop();
        }
        for (j, l) in live_items.iter().enumerate() {
            if !used[j] {
                path.push(Seg::Index(j));
                self.push(path, DiffValue::known(l), DiffValue::Absent);
                path.pop();
            }
        }
    }

    /// An ordered array: scalars compared as a whole, else element by position.
    fn walk_ordered(&mut self, arrays: &ArrayPair, path: &mut Path) {
        if arrays.scalars {
            let same = arrays.items.len() == arrays.live_items.len()
                && arrays
                    .items
                    .iter()
                    .zip(arrays.live_items)
                    .all(|(d, l)| match d {
                        Desired::Known(dv) => self.scalar_eq(dv, l, path),
                        _ => false,
                    });
            if !same {
                self.push(
                    path,
                    DiffValue::known(&Value::Array(arrays.live_items.to_vec())),
                    arrays.desired.to_diff_value(),
                );
            }
            return;
        }
        for i in 0..arrays.items.len().max(arrays.live_items.len()) {
            path.push(Seg::Index(i));
            match arrays.items.get(i) {
                Some(it) => self.walk(it, arrays.live_items.get(i), path),
                None => self.push(
                    path,
                    DiffValue::known(&arrays.live_items[i]),
                    DiffValue::Absent,
                ),
            }
            path.pop();
        }
    }

    fn is_set(&self, path: &[Seg]) -> bool {
        self.rules.set_arrays.iter().any(|p| rule_exact(p, path))
    }

    fn scalar_multiset_eq(&self, items: &[Desired], live: &[Value], path: &[Seg]) -> bool {
        if items.len() != live.len() {
            return false;
        }
        let mut used = vec![false; live.len()];
        for it in items {
            let Desired::Known(dv) = it else { return false };
            match (0..live.len()).find(|&j| !used[j] && self.scalar_eq(dv, &live[j], path)) {
                Some(j) => used[j] = true,
                None => return false,
            }
        }
        true
    }

    fn compare_scalar(&mut self, desired: &Value, live: Option<&Value>, path: &mut Path) {
        match live {
            None | Some(Value::Null) => {
                if !desired.is_null() {
                    self.push(path, DiffValue::Absent, DiffValue::known(desired));
                }
            }
            Some(l) => {
                if desired.is_null() {
                    // Null in a desired body means "not set by us".
                    return;
                }
                if !self.scalar_eq(desired, l, path) {
                    self.push(path, DiffValue::known(l), DiffValue::known(desired));
                }
            }
        }
    }

    fn scalar_eq(&self, desired: &Value, live: &Value, path: &[Seg]) -> bool {
        match (desired, live) {
            (Value::Number(a), Value::Number(b)) => numbers_eq(a, b),
            (Value::String(a), Value::String(b)) => {
                let is_location =
                    matches!(path.last(), Some(Seg::Key(k)) if k.eq_ignore_ascii_case("location"));
                if is_location {
                    return normalise_location(a) == normalise_location(b);
                }
                // Names of elements matched by name are compared as they were matched.
                let matched_name = matches!(path, [.., Seg::Name(_), Seg::Key(k)] if k == "name");
                if self.rules.xml.iter().any(|p| rule_covers(p, path)) {
                    return super::xml::same_xml(a, b);
                }
                if self.rules.unscoped_ids.iter().any(|p| rule_covers(p, path)) {
                    return unscoped_id(a) == unscoped_id(b);
                }
                if self.rules.json.iter().any(|p| rule_covers(p, path)) {
                    return same_json(a, b);
                }
                if matched_name
                    || is_arm_id(a)
                    || self
                        .rules
                        .case_insensitive
                        .iter()
                        .any(|p| rule_covers(p, path))
                {
                    return a.eq_ignore_ascii_case(b);
                }
                a == b
            }
            (Value::Bool(a), Value::String(b)) | (Value::String(b), Value::Bool(a)) => {
                b.eq_ignore_ascii_case(if *a { "true" } else { "false" })
            }
            (Value::Number(a), Value::String(b)) | (Value::String(b), Value::Number(a)) => b
                .parse::<f64>()
                .ok()
                .zip(a.as_f64())
                .is_some_and(|(x, y)| x == y),
            (a, b) => a == b,
        }
    }
}

/// Two JSON documents held as strings are the same once parsed (key order and
/// spacing aside); text that is not JSON is compared as written.
fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn numbers_eq(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x == y;
    }
    a.as_f64() == b.as_f64()
}

/// `UK South` and `uksouth` are the same location.
pub fn normalise_location(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The scope-free form of an ARM ID: what follows its last `/providers/`, lower
/// case (`microsoft.authorization/roledefinitions/{guid}` for both
/// `/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}` and
/// `/providers/Microsoft.Authorization/roleDefinitions/{guid}`). A string without
/// `/providers/` is only lower-cased.
pub fn unscoped_id(id: &str) -> String {
    let lower = id.trim_end_matches('/').to_ascii_lowercase();
    match lower.rfind("/providers/") {
        Some(i) => lower[i + "/providers/".len()..].to_string(),
        None => lower,
    }
}

/// The differences a plan shows between a desired body and the live one under a
/// type's rules: the comparison `plan` runs, for bodies whose references are all
/// resolved (a remaining `${ref:...}` counts as known after apply). `live ==
/// None` means the resource does not exist.
pub fn compare(desired: &Value, live: Option<&Value>, rules: &DiffRules) -> Vec<PropertyDiff> {
    let resolved = resolve_desired(desired, &|_| Ok(RefValue::Unknown)).unwrap_or(Desired::Unknown);
    diff(&resolved, live, rules)
}

/// Adds to `body` (a parent's PUT body) the live value of every list that
/// separately declared children own ([`DiffRules::owned_by_children`]) and the
/// body does not declare: a PUT replaces the whole list, so without it the
/// children would be deleted (e.g. a hub VNet's peering declared by the spoke
/// stage). Each kept element is its `name` and its writable `properties`.
pub fn keep_owned_by_children(body: &mut Value, live: &Value, rules: &DiffRules) {
    for owned in &rules.owned_by_children {
        if body.pointer(&owned.path).is_some() {
            continue;
        }
        let kept: Vec<Value> = live
            .pointer(&owned.path)
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|child| writable_child(child, &owned.writable))
                    .collect()
            })
            .unwrap_or_default();
        let Some((parent, key)) = owned.path.rsplit_once('/') else {
            continue;
        };
        if !kept.is_empty()
            && let Some(props) = body.pointer_mut(parent).and_then(Value::as_object_mut)
        {
            props.insert(key.to_string(), Value::Array(kept));
        }
    }
}

/// A child as its parent's PUT carries it: its name and its writable properties.
fn writable_child(child: &Value, writable: &[String]) -> Value {
    let mut props = serde_json::Map::new();
    for key in writable {
        if let Some(v) = child.pointer(&format!("/properties/{key}")) {
            props.insert(key.clone(), v.clone());
        }
    }
    serde_json::json!({ "name": child.get("name"), "properties": props })
}

/// Whether a string is an ARM resource ID (compared case-insensitively).
pub fn is_arm_id(s: &str) -> bool {
    s.len() > 15
        && s.get(..15)
            .is_some_and(|p| p.eq_ignore_ascii_case("/subscriptions/"))
}

impl fmt::Display for DiffValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiffValue::Absent => f.write_str("null"),
            DiffValue::Known(v) => write!(f, "{v}"),
            DiffValue::Unknown => f.write_str("(known after apply)"),
            DiffValue::Sensitive => f.write_str("(sensitive)"),
            DiffValue::Digest { sha256, bytes } => write!(f, "{sha256} ({bytes} bytes)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn known(v: Value) -> Desired {
        Desired::Known(v)
    }

    fn rules() -> DiffRules {
        DiffRules {
            set_arrays: vec![
                "/properties/subnets".into(),
                "/properties/subnets/*/properties/serviceEndpoints".into(),
                "/properties/prefixes".into(),
            ],
            case_insensitive: vec!["/sku/name".into()],
            write_only: vec!["/properties/password".into()],
            immutable: vec!["/properties/kind".into()],
            ignore: vec!["/properties/ignored".into()],
            xml: vec!["/properties/policy".into()],
            unscoped_ids: vec!["/properties/roleDefinitionId".into()],
            json: vec!["/properties/serializedData".into()],
            openapi: None,
            owned_by_children: Vec::new(),
        }
    }

    #[test]
    fn arm_normalisations_are_not_differences() {
        let desired = json!({
            "location": "UK South",
            "sku": {"name": "standard", "capacity": 1},
            "properties": {
                "ref": "/subscriptions/ABC/resourceGroups/RG/providers/X/y/z",
                "prefixes": ["10.0.0.0/24", "10.0.1.0/24"],
                "subnets": [
                    {"name": "a", "properties": {"serviceEndpoints": [{"service": "Microsoft.Storage"}, {"service": "Microsoft.Sql"}]}},
                    {"name": "b", "properties": {"addressPrefix": "10.0.0.0/28"}}
                ],
                "password": "x",
                "ignored": "whatever",
                "flag": true,
                "empty": [],
                "nothing": null
            }
        });
        let live = json!({
            "id": "/subscriptions/abc/x",
            "location": "uksouth",
            "sku": {"name": "Standard", "capacity": 1.0, "tier": "Standard"},
            "properties": {
                "provisioningState": "Succeeded",
                "ref": "/subscriptions/abc/resourcegroups/rg/providers/x/y/z",
                "prefixes": ["10.0.1.0/24", "10.0.0.0/24"],
                "subnets": [
                    {"name": "b", "id": "/x", "properties": {"addressPrefix": "10.0.0.0/28", "provisioningState": "Succeeded"}},
                    {"name": "A", "properties": {"serviceEndpoints": [{"service": "Microsoft.Sql", "locations": ["*"]}, {"service": "Microsoft.Storage"}]}}
                ],
                "password": null,
                "passwordSet": true,
                "ignored": "other",
                "flag": "True"
            }
        });
        let d = diff(&known(desired), Some(&live), &rules());
        assert_eq!(d, vec![], "{d:#?}");
    }

    #[test]
    fn unscoped_ids_compare_by_provider_type_and_name() {
        let g = "0b5fe924-9a61-425c-96af-cfe6e287ca2d";
        let d = known(
            json!({"properties": {"roleDefinitionId": format!("/subscriptions/S1/providers/Microsoft.Authorization/roleDefinitions/{g}")}}),
        );
        for same in [
            format!("/providers/Microsoft.Authorization/roleDefinitions/{g}"),
            format!(
                "/subscriptions/s2/providers/microsoft.authorization/roleDefinitions/{}",
                g.to_uppercase()
            ),
        ] {
            let live = json!({"properties": {"roleDefinitionId": same}});
            assert!(diff(&d, Some(&live), &rules()).is_empty(), "{same}");
        }
        let other = json!({"properties": {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/other"}});
        assert_eq!(diff(&d, Some(&other), &rules()).len(), 1);
        assert_eq!(unscoped_id("/Providers/X/Y/z/"), "x/y/z");
        assert_eq!(unscoped_id("plain"), "plain");
    }

    #[test]
    fn a_missing_empty_object_is_a_change_and_id_keys_ignore_case() {
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/a";
        let d = known(
            json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {id: {}}}}),
        );
        let recased = json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {
            id.to_ascii_lowercase(): {"principalId": "p", "clientId": "c"}}}});
        assert!(diff(&d, Some(&recased), &rules()).is_empty());
        let other = json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/b": {}}}});
        let found = diff(&d, Some(&other), &rules());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].old, DiffValue::Absent);
        // A create lists leaves only, as before.
        assert!(diff(&known(json!({"properties": {}})), None, &rules()).is_empty());
    }

    #[test]
    fn xml_documents_compare_canonically() {
        let d = known(json!({"properties": {"policy": "<a>\n  <b x='1' y='2'/>\n</a>"}}));
        let same = json!({"properties": {"policy": "<a>\n\t<b y=\"2\" x=\"1\" />\n</a>"}});
        assert!(diff(&d, Some(&same), &rules()).is_empty());
        let other = json!({"properties": {"policy": "<a><b x='1' y='3'/></a>"}});
        assert_eq!(diff(&d, Some(&other), &rules()).len(), 1);
    }

    #[test]
    fn json_documents_compare_parsed() {
        let d = known(json!({"properties": {"serializedData": "{\"a\":1,\"b\":[1,2]}"}}));
        let same = json!({"properties": {"serializedData": "{ \"b\": [1, 2],\n \"a\": 1 }"}});
        assert!(diff(&d, Some(&same), &rules()).is_empty());
        let other = json!({"properties": {"serializedData": "{\"a\":1,\"b\":[2,1]}"}});
        assert_eq!(diff(&d, Some(&other), &rules()).len(), 1);
    }

    #[test]
    fn exact_property_differences() {
        let desired = json!({"sku": {"capacity": 2}, "properties": {"kind": "v2", "prefixes": ["a"], "list": [1, 2]}});
        let live = json!({"sku": {"capacity": 1}, "properties": {"kind": "v1", "prefixes": ["a", "b"], "list": [2, 1]}});
        let d = diff(&known(desired), Some(&live), &rules());
        let paths: Vec<(&str, bool)> = d
            .iter()
            .map(|p| (p.path.as_str(), p.forces_replacement))
            .collect();
        assert_eq!(
            paths,
            vec![
                ("/sku/capacity", false),
                ("/properties/kind", true),
                ("/properties/prefixes", false),
                ("/properties/list", false)
            ]
        );
        assert_eq!(d[0].old, DiffValue::Known(json!(1)));
        assert_eq!(d[0].new, DiffValue::Known(json!(2)));
    }

    #[test]
    fn named_set_elements_added_and_removed() {
        let desired = json!({"properties": {"subnets": [{"name": "a", "properties": {"x": 1}}, {"name": "c"}]}});
        let live = json!({"properties": {"subnets": [{"name": "a", "properties": {"x": 2}}, {"name": "b"}]}});
        let d = diff(&known(desired), Some(&live), &rules());
        let paths: Vec<&str> = d.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "/properties/subnets[a]/properties/x",
                "/properties/subnets[c]/name",
                "/properties/subnets[b]"
            ]
        );
        assert_eq!(d[2].new, DiffValue::Absent);
    }

    #[test]
    fn unnamed_sets_ordered_arrays_and_absent_arrays() {
        let paths = |desired: Value, live: Value| -> Vec<(String, DiffValue)> {
            diff(&known(desired), Some(&live), &rules())
                .into_iter()
                .map(|d| (d.path, d.old))
                .collect()
        };
        // A set of unnamed elements: matched by equality, in any order.
        let set = paths(
            json!({"properties": {"prefixes": [{"a": 1}, {"a": 2}]}}),
            json!({"properties": {"prefixes": [{"a": 2}, {"a": 3}]}}),
        );
        assert_eq!(
            set,
            vec![
                ("/properties/prefixes/0".to_string(), DiffValue::Absent),
                (
                    "/properties/prefixes/1".to_string(),
                    DiffValue::Known(json!({"a": 3}))
                ),
            ]
        );
        // A set of scalars ignores order; an ordered array of scalars does not.
        assert!(
            paths(
                json!({"properties": {"prefixes": [1, 2]}}),
                json!({"properties": {"prefixes": [2, 1]}})
            )
            .is_empty()
        );
        assert_eq!(
            paths(
                json!({"properties": {"list": [1, 2]}}),
                json!({"properties": {"list": [2, 1]}})
            ),
            vec![(
                "/properties/list".to_string(),
                DiffValue::Known(json!([2, 1]))
            )]
        );
        // An ordered array of objects compares by position; extra live elements are removals.
        assert_eq!(
            paths(
                json!({"properties": {"objs": [{"x": 1}]}}),
                json!({"properties": {"objs": [{"x": 1}, {"x": 2}]}})
            ),
            vec![(
                "/properties/objs/1".to_string(),
                DiffValue::Known(json!({"x": 2}))
            )]
        );
        // A desired array missing live.
        assert_eq!(
            paths(
                json!({"properties": {"list": [1]}}),
                json!({"properties": {}})
            ),
            vec![("/properties/list".to_string(), DiffValue::Absent)]
        );
    }

    #[test]
    fn lists_owned_by_children_are_kept_and_not_compared() {
        let rules = DiffRules {
            owned_by_children: vec![crate::engine::OwnedByChildren {
                path: "/properties/peerings".into(),
                child_type: "Microsoft.Network/virtualNetworks/virtualNetworkPeerings".into(),
                writable: vec!["remote".into(), "allow".into()],
            }],
            ..DiffRules::default()
        };
        let live = json!({"properties": {"x": 1, "peerings": [{
            "id": "/subscriptions/s/p/1", "name": "to-spoke", "etag": "W/1",
            "properties": {"remote": {"id": "/v"}, "allow": true, "peeringState": "Connected"}
        }]}});
        // Not declared: nothing to compare, and the live list (writable parts) is kept.
        let mut body = json!({"properties": {"x": 2}});
        let paths: Vec<String> = diff(&known(body.clone()), Some(&live), &rules)
            .into_iter()
            .map(|d| d.path)
            .collect();
        assert_eq!(paths, vec!["/properties/x".to_string()]);
        keep_owned_by_children(&mut body, &live, &rules);
        assert_eq!(
            body,
            json!({"properties": {"x": 2, "peerings": [
                {"name": "to-spoke", "properties": {"remote": {"id": "/v"}, "allow": true}}
            ]}})
        );
        // Declared inline (even empty): the body's own list is written as it is.
        let mut inline = json!({"properties": {"peerings": []}});
        keep_owned_by_children(&mut inline, &live, &rules);
        assert_eq!(inline, json!({"properties": {"peerings": []}}));
        // Nothing live: nothing added.
        let mut fresh = json!({"properties": {"x": 2}});
        keep_owned_by_children(&mut fresh, &json!({"properties": {}}), &rules);
        assert_eq!(fresh, json!({"properties": {"x": 2}}));
    }

    #[test]
    fn secrets_and_unknowns() {
        let r = Reference::new("/subscriptions/s/x", "/properties/principalId");
        let body = json!({"a": r.marker(), "b": format!("pre-{}", r.marker()), "p": "${secret:pw}", "q": {"in": "x${secret:pw}"}});
        let unknown = resolve_desired(&body, &|_| Ok(RefValue::Unknown)).unwrap();
        let d = diff(&unknown, None, &DiffRules::default());
        let shown: Vec<(String, DiffValue)> = d.into_iter().map(|p| (p.path, p.new)).collect();
        assert_eq!(
            shown,
            vec![
                ("/a".into(), DiffValue::Unknown),
                ("/b".into(), DiffValue::Unknown),
                ("/p".into(), DiffValue::Sensitive),
                ("/q/in".into(), DiffValue::Sensitive),
            ]
        );
        let resolved = resolve_desired(&body, &|_| Ok(RefValue::Known(json!("guid")))).unwrap();
        let live = json!({"a": "guid", "b": "pre-guid", "p": "anything", "q": {"in": "set"}});
        assert_eq!(diff(&resolved, Some(&live), &DiffRules::default()), vec![]);
        let live_missing = json!({"a": "guid", "b": "pre-guid"});
        let d = diff(&resolved, Some(&live_missing), &DiffRules::default());
        assert_eq!(d.len(), 2);
        assert!(
            d.iter()
                .all(|p| p.new == DiffValue::Sensitive && p.old == DiffValue::Absent)
        );
    }

    #[test]
    fn large_values_become_digests() {
        let big = "x".repeat(LARGE_VALUE_BYTES + 1);
        let d = diff(&known(json!({"v": big})), None, &DiffRules::default());
        match &d[0].new {
            DiffValue::Digest { sha256, bytes } => {
                assert!(sha256.starts_with("sha256:"));
                assert_eq!(*bytes as usize, LARGE_VALUE_BYTES + 1);
            }
            other => panic!("{other:?}"),
        }
    }
}
