//! Planning: read every resource concurrently, resolve references, diff, and
//! decide an action per resource. A [`Plan`] is serialisable (saved plans) and is
//! exactly what [`crate::engine::apply`] executes.

use super::backend::{Backend, DiscoveredResource};
use super::diff::{
    self, Desired, DiffValue, LARGE_VALUE_BYTES, PropertyDiff, RefValue, is_write_only, sha256_hex,
};
use super::error::{EngineError, Operation, StaleResource};
use super::model::{Discovery, Model, OWNER_TAG, topological_order};
use super::resource::{Address, Api, Mode, Reference, ResourceSpec, Segment, Stage, parse_markers};
use futures::StreamExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Default number of concurrent requests for reads and writes.
pub const DEFAULT_PARALLELISM: usize = 16;

/// Marker of a large string kept out of the plan: `${blob:sha256:HEX}`.
pub const BLOB_OPEN: &str = "${blob:";

/// How to plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Concurrent reads (default 16).
    pub parallelism: usize,
    /// Plan the deletion of every existing managed resource of the model
    /// (reverse dependency order) instead of converging to it.
    pub destroy: bool,
    /// The environment name: resources tagged for another environment are
    /// reported, and in destroy mode left alone.
    pub environment: Option<String>,
    /// Tag keys never touched (`ignore_tags`): live values are written back as they are.
    pub ignore_tags: Vec<String>,
    /// Resources to rewrite even when nothing differs (e.g. to rotate a
    /// write-only secret): their write-only properties are shown as changed.
    pub force_write: BTreeSet<Address>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            parallelism: DEFAULT_PARALLELISM,
            destroy: false,
            environment: None,
            ignore_tags: Vec::new(),
            force_write: BTreeSet::new(),
        }
    }
}

/// What apply does to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Does not exist: create it.
    Create,
    /// Exists and differs: update it in place.
    Update,
    /// An immutable property differs: delete and create it again.
    Replace,
    /// Matches the configuration.
    NoOp,
    /// Owned but no longer wanted: delete it.
    Delete,
    /// Data from an earlier stage: read only.
    Read,
}

impl Action {
    /// Whether apply writes anything for this action.
    pub fn writes(self) -> bool {
        matches!(
            self,
            Action::Create | Action::Update | Action::Replace | Action::Delete
        )
    }

    /// Lower-case name (`create`, `no_op`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::NoOp => "no_op",
            Action::Delete => "delete",
            Action::Read => "read",
        }
    }
}

/// The live resource as read when planning, to detect changes before applying
/// a saved plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Fingerprint {
    /// Did not exist (or could not be addressed yet).
    Absent,
    /// The resource's ETag.
    Etag(String),
    /// `sha256:` of the canonical JSON of the live body without volatile fields.
    Sha256(String),
}

impl Fingerprint {
    /// The fingerprint of a live body (`None`: absent).
    pub fn of(live: Option<&Value>) -> Fingerprint {
        match live {
            None => Fingerprint::Absent,
            Some(v) => match v.get("etag").and_then(Value::as_str) {
                Some(etag) if !etag.is_empty() => Fingerprint::Etag(etag.to_string()),
                _ => {
                    let mut stable = strip_volatile(v);
                    // A type without `provisioningState` reports its operation in
                    // `properties.state` (PostgreSQL): as volatile as the former.
                    if v.pointer("/properties/provisioningState").is_none()
                        && let Some(props) =
                            stable.get_mut("properties").and_then(Value::as_object_mut)
                    {
                        props.remove("state");
                    }
                    let canonical = canonical_json(&stable);
                    Fingerprint::Sha256(sha256_hex(canonical.as_bytes()))
                }
            },
        }
    }
}

/// Fields that change without anyone changing the resource.
fn is_volatile_key(k: &str) -> bool {
    k == "etag" || k == "systemData" || k == "provisioningState" || k.starts_with("@odata.")
}

fn strip_volatile(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| !is_volatile_key(k))
                .map(|(k, v)| (k.clone(), strip_volatile(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_volatile).collect()),
        other => other.clone(),
    }
}

/// JSON with object keys sorted, compact.
pub fn canonical_json(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(o) => {
                let mut keys: Vec<&String> = o.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&o[k])))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string()
}

/// One planned change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The resource's address (as in the model; may hold reference markers).
    pub address: Address,
    /// Short human label.
    pub label: String,
    /// Stage it belongs to.
    pub stage: Stage,
    /// API (type and version).
    pub api: Api,
    /// What apply does.
    pub action: Action,
    /// Property differences (for creates: every desired property).
    pub diffs: Vec<PropertyDiff>,
    /// Immutable paths whose change forces the replacement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replace_paths: Vec<String>,
    /// The live resource as read.
    pub fingerprint: Fingerprint,
    /// The desired body with reference and secret markers (large strings as
    /// `${blob:sha256:...}`); `None` for deletes, reads and no-ops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<Value>,
    /// The address acted on when it differs from `address`: the address with
    /// markers resolved (when they were known), or the existing equivalent
    /// resource (a role assignment under another name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Address>,
    /// Changes that must finish before this one starts.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub depends_on: BTreeSet<Address>,
    /// Writes with the same key run one at a time, in plan order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_key: Option<String>,
    /// Live values (by JSON pointer) that other changes reference; kept for
    /// no-op and read changes, whose values apply does not read again.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, Value>,
    /// Apply must read this resource again (values flowing into write-only
    /// properties are not stored in the plan).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reread: bool,
    /// The resource was still provisioning when read: apply waits until it is
    /// ready before writing it (an update) and before its dependents start.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wait: bool,
}

/// Counts of a plan's actions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Creates.
    pub add: usize,
    /// In-place updates.
    pub change: usize,
    /// Replacements.
    pub replace: usize,
    /// Deletes.
    pub destroy: usize,
    /// Data reads.
    pub read: usize,
    /// Unchanged.
    pub no_op: usize,
}

/// A plan: every change in execution-compatible order (model order, then deletes).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Plan {
    /// Every resource of the model (including no-ops and reads) and every delete.
    pub changes: Vec<Change>,
    /// Things worth knowing that are not errors (e.g. a resource owned by another environment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Contents of large strings, by digest; never serialized.
    #[serde(skip)]
    blobs: BTreeMap<String, String>,
}

impl PartialEq for Plan {
    fn eq(&self, other: &Self) -> bool {
        self.changes == other.changes && self.warnings == other.warnings
    }
}

impl Plan {
    /// Counts per action.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.destroy += 1,
                Action::Read => s.read += 1,
                Action::NoOp => s.no_op += 1,
            }
        }
        s
    }

    /// Whether applying would write anything.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action.writes())
    }

    /// Unchanged resources that were still provisioning (or updating) when read,
    /// e.g. after an interrupted run: not converged yet; apply waits for them.
    pub fn in_progress(&self) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| c.wait && !c.action.writes())
            .collect()
    }

    /// The change of `address`.
    pub fn change(&self, address: &Address) -> Option<&Change> {
        self.changes.iter().find(|c| &c.address == address)
    }

    /// Digests of large contents the plan refers to but does not hold (after
    /// loading a saved plan), with the resource needing each.
    pub fn missing_blobs(&self) -> Vec<(Address, String)> {
        let mut out = Vec::new();
        for c in &self.changes {
            if let Some(d) = &c.desired {
                for digest in blob_digests(d) {
                    if !self.blobs.contains_key(&digest) {
                        out.push((c.address.clone(), digest));
                    }
                }
            }
        }
        out
    }

    /// Supplies the large contents of a loaded plan from the model it was made
    /// from (rebuilt from the same files); fails naming the first content that is
    /// still missing.
    pub fn restore_blobs(&mut self, model: &Model) -> Result<(), EngineError> {
        for r in &model.resources {
            let mut stripped = r.body.clone();
            strip_large(&mut stripped, &mut self.blobs);
        }
        match self.missing_blobs().into_iter().next() {
            None => Ok(()),
            Some((address, digest)) => {
                let label = self
                    .change(&address)
                    .map(|c| c.label.clone())
                    .unwrap_or_default();
                Err(EngineError::MissingBlob {
                    address,
                    label,
                    digest,
                })
            }
        }
    }

    /// The desired body of a change with large contents put back.
    pub(crate) fn full_body(&self, change: &Change) -> Result<Option<Value>, EngineError> {
        let Some(d) = &change.desired else {
            return Ok(None);
        };
        let mut missing = None;
        let v = expand_blobs(d, &self.blobs, &mut missing);
        match missing {
            None => Ok(Some(v)),
            Some(digest) => Err(EngineError::MissingBlob {
                address: change.address.clone(),
                label: change.label.clone(),
                digest,
            }),
        }
    }
}

fn blob_marker(digest: &str) -> String {
    format!("{BLOB_OPEN}{digest}}}")
}

fn blob_digest_of(s: &str) -> Option<&str> {
    s.strip_prefix(BLOB_OPEN).and_then(|r| r.strip_suffix('}'))
}

pub(crate) fn strip_large(v: &mut Value, blobs: &mut BTreeMap<String, String>) {
    match v {
        Value::String(s) if s.len() > LARGE_VALUE_BYTES => {
            let digest = sha256_hex(s.as_bytes());
            let content = std::mem::replace(s, blob_marker(&digest));
            blobs.insert(digest, content);
        }
        Value::Array(a) => a.iter_mut().for_each(|x| strip_large(x, blobs)),
        Value::Object(o) => o.values_mut().for_each(|x| strip_large(x, blobs)),
        _ => {}
    }
}

fn blob_digests(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => {
                if let Some(d) = blob_digest_of(s) {
                    out.push(d.to_string());
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(v, &mut out);
    out
}

fn expand_blobs(
    v: &Value,
    blobs: &BTreeMap<String, String>,
    missing: &mut Option<String>,
) -> Value {
    match v {
        Value::String(s) => match blob_digest_of(s) {
            Some(d) => match blobs.get(d) {
                Some(content) => Value::String(content.clone()),
                None => {
                    missing.get_or_insert_with(|| d.to_string());
                    v.clone()
                }
            },
            None => v.clone(),
        },
        Value::Array(a) => {
            Value::Array(a.iter().map(|x| expand_blobs(x, blobs, missing)).collect())
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), expand_blobs(x, blobs, missing)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The value at a JSON pointer (`""` is the whole value).
pub(crate) fn pointer<'a>(v: &'a Value, ptr: &str) -> Option<&'a Value> {
    v.pointer(ptr).filter(|x| !x.is_null())
}

/// Resolves reference markers in an address from known live values.
/// `Ok(None)`: some referenced value is not known.
pub(crate) fn resolve_address(
    address: &Address,
    lookup: &dyn Fn(&Reference) -> Option<Value>,
) -> Option<Address> {
    let segments = parse_markers(address.as_str());
    if !segments.iter().any(|s| matches!(s, Segment::Ref(_))) {
        return Some(address.clone());
    }
    let mut out = String::new();
    for seg in segments {
        match seg {
            Segment::Text(t) => out.push_str(&t),
            Segment::Ref(r) => out.push_str(&diff::value_as_text(&lookup(&r)?)),
            Segment::Secret(s) => out.push_str(&s.marker()),
        }
    }
    Some(Address(out))
}

pub(crate) fn has_markers(address: &Address) -> bool {
    parse_markers(address.as_str())
        .iter()
        .any(|s| !matches!(s, Segment::Text(_)))
}

/// A label for a discovered resource: its type's last segment and its name.
fn discovered_label(address: &Address, api: &Api) -> String {
    let name = address.as_str().rsplit('/').next().unwrap_or_default();
    match api {
        Api::Arm { type_name, .. } => {
            let kind = type_name.rsplit('/').next().unwrap_or(type_name);
            format!("{kind} {name}")
        }
        Api::Graph { kind } => format!("{kind} {name}"),
    }
}

enum ReadState {
    NotRead,
    Read(Option<Value>),
    /// The address depends on a value that does not exist yet.
    Unaddressable,
}

/// Runs futures with at most `parallelism` in flight; results in input order.
async fn bounded<'a, T: Send + 'a>(futs: Vec<BoxFuture<'a, T>>, parallelism: usize) -> Vec<T> {
    let n = futs.len();
    let mut results: Vec<Option<T>> = (0..n).map(|_| None).collect();
    let mut stream = futures::stream::iter(
        futs.into_iter()
            .enumerate()
            .map(|(i, f)| async move { (i, f.await) }),
    )
    .buffer_unordered(parallelism.max(1));
    while let Some((i, t)) = stream.next().await {
        results[i] = Some(t);
    }
    results.into_iter().flatten().collect()
}

enum Job {
    Read(usize, Option<Address>, Result<Option<Value>, EngineError>),
    Discover(usize, Result<Vec<DiscoveredResource>, EngineError>),
}

/// Plans `model` against the live state. Reads only; never writes.
///
/// The steps, in order: index the model (`Graph::of`), read the live state
/// and run the discoveries (`Planner::read_live_state`), stop on missing
/// prerequisites and read errors (`Planner::check_reads`), decide an action
/// per declared resource (`Planner::decide_destroy` or
/// `Planner::decide_changes`, which resolves references and diffs), record
/// the values unchanged resources pass on (`Planner::record_passed_values`),
/// find and read discovered resources no longer declared
/// (`Planner::find_orphans`, `Planner::read_orphans`), and assemble the plan
/// with its delete order (`Planner::assemble`).
pub async fn plan(
    backend: &dyn Backend,
    model: &Model,
    opts: &PlanOptions,
) -> Result<Plan, EngineError> {
    model.validate()?;
    let planner = Planner {
        backend,
        model,
        opts,
        graph: Graph::of(&model.resources),
    };
    let mut state = planner.read_live_state().await;
    planner.check_reads(&mut state)?;
    let mut decided = Decisions::new(model.resources.len());
    if opts.destroy {
        planner.decide_destroy(&state, &mut decided);
    } else {
        planner.decide_changes(&mut state, &mut decided).await?;
        planner.record_passed_values(&state, &mut decided);
    }
    let orphans = planner.find_orphans(&mut state, &mut decided.warnings);
    let delete_changes = planner.read_orphans(&orphans).await?;
    Ok(planner.assemble(decided, delete_changes))
}

/// The model's resources with their dependencies, by position in the model.
struct Graph<'a> {
    /// The declared resources.
    specs: &'a [ResourceSpec],
    /// Position of each declared address.
    index: HashMap<&'a Address, usize>,
    /// Positions each resource depends on.
    deps: Vec<Vec<usize>>,
    /// The references embedded in each resource's address.
    addr_refs: Vec<Vec<Reference>>,
}

impl<'a> Graph<'a> {
    /// Indexes `specs`: positions, dependencies and address references.
    fn of(specs: &'a [ResourceSpec]) -> Self {
        let index: HashMap<&Address, usize> = specs
            .iter()
            .enumerate()
            .map(|(i, r)| (&r.address, i))
            .collect();
        let deps: Vec<Vec<usize>> = specs
            .iter()
            .map(|r| {
                r.dependencies()
                    .iter()
                    .filter_map(|d| index.get(d).copied())
                    .collect()
            })
            .collect();
        let addr_refs: Vec<Vec<Reference>> = specs
            .iter()
            .map(|r| super::resource::references_in(&Value::String(r.address.0.clone())))
            .collect();
        Graph {
            specs,
            index,
            deps,
            addr_refs,
        }
    }
}

/// What the reads and discoveries found.
struct LiveState {
    /// The live value of each declared resource (`None`: absent or not addressable).
    live: Vec<Option<Value>>,
    /// The resolved address of each resource whose address holds references.
    targets: Vec<Option<Address>>,
    /// Failed reads, by position.
    read_errors: Vec<(usize, EngineError)>,
    /// What each discovery (by position in the model) found.
    discovered: Vec<(usize, Vec<DiscoveredResource>)>,
    /// Failed discoveries.
    discovery_errors: Vec<EngineError>,
}

/// The reads' progress while reading in waves.
struct Waves {
    state: Vec<ReadState>,
    targets: Vec<Option<Address>>,
    read_errors: Vec<(usize, EngineError)>,
    discovered: Vec<(usize, Vec<DiscoveredResource>)>,
    discovery_errors: Vec<EngineError>,
}

impl Waves {
    /// Records one finished read or discovery.
    fn record(&mut self, job: Job, specs: &[ResourceSpec]) {
        match job {
            Job::Read(i, target, r) => match r {
                Ok(v) => {
                    self.state[i] = ReadState::Read(v);
                    if has_markers(&specs[i].address) {
                        self.targets[i] = target;
                    }
                }
                Err(e) => {
                    self.state[i] = ReadState::Read(None);
                    self.read_errors.push((i, e));
                }
            },
            Job::Discover(k, r) => match r {
                Ok(found) => self.discovered.push((k, found)),
                Err(e) => self.discovery_errors.push(e),
            },
        }
    }

    /// The live values once every wave has run.
    fn finish(self) -> LiveState {
        let live: Vec<Option<Value>> = self
            .state
            .into_iter()
            .map(|s| match s {
                ReadState::Read(v) => v,
                _ => None,
            })
            .collect();
        LiveState {
            live,
            targets: self.targets,
            read_errors: self.read_errors,
            discovered: self.discovered,
            discovery_errors: self.discovery_errors,
        }
    }
}

/// The action and change decided for each declared resource, plus what the
/// plan collects on the way.
struct Decisions {
    changes: Vec<Option<Change>>,
    actions: Vec<Option<Action>>,
    warnings: Vec<String>,
    blobs: BTreeMap<String, String>,
}

impl Decisions {
    /// Nothing decided yet for `n` resources.
    fn new(n: usize) -> Self {
        Decisions {
            changes: vec![None; n],
            actions: vec![None; n],
            warnings: Vec::new(),
            blobs: BTreeMap::new(),
        }
    }
}

/// A discovered resource owned by this environment and no longer declared:
/// its address, API, stage and serial key.
type Orphan = (Address, Api, Stage, Option<String>);

/// What every planning step shares: the backend, the model and its graph, the options.
struct Planner<'a> {
    backend: &'a dyn Backend,
    model: &'a Model,
    opts: &'a PlanOptions,
    graph: Graph<'a>,
}

impl<'a> Planner<'a> {
    /// Reads every declared resource and runs every discovery. Reads run in
    /// waves: a resource whose address embeds a reference waits for the
    /// referenced resource's read. Discoveries run in the first wave.
    async fn read_live_state(&self) -> LiveState {
        let n = self.graph.specs.len();
        let mut waves = Waves {
            state: (0..n).map(|_| ReadState::NotRead).collect(),
            targets: vec![None; n],
            read_errors: Vec::new(),
            discovered: Vec::new(),
            discovery_errors: Vec::new(),
        };
        let mut first_wave = true;
        loop {
            let decisions = self.addressable_now(&waves.state);
            let progressed = !decisions.is_empty();
            let mut jobs = self.read_jobs(decisions, &mut waves.state);
            if first_wave {
                jobs.extend(self.discovery_jobs());
                first_wave = false;
            }
            if jobs.is_empty() {
                if !progressed {
                    // Nothing left can be addressed (should not happen in a valid model).
                    for s in waves
                        .state
                        .iter_mut()
                        .filter(|s| matches!(s, ReadState::NotRead))
                    {
                        *s = ReadState::Unaddressable;
                    }
                }
                if waves.state.iter().any(|s| matches!(s, ReadState::NotRead)) {
                    continue;
                }
                break;
            }
            for job in bounded(jobs, self.opts.parallelism).await {
                waves.record(job, self.graph.specs);
            }
        }
        waves.finish()
    }

    /// The unread resources whose address references are all read, with their
    /// resolved address (`None`: a referenced value does not exist).
    fn addressable_now(&self, state: &[ReadState]) -> Vec<(usize, Option<Address>)> {
        let Graph {
            specs,
            index,
            addr_refs,
            ..
        } = &self.graph;
        let mut decisions: Vec<(usize, Option<Address>)> = Vec::new();
        for i in 0..specs.len() {
            if !matches!(state[i], ReadState::NotRead) {
                continue;
            }
            let ready = addr_refs[i].iter().all(|r| {
                index
                    .get(&r.address)
                    .is_some_and(|&j| !matches!(state[j], ReadState::NotRead))
            });
            if !ready {
                continue;
            }
            let lookup = |r: &Reference| -> Option<Value> {
                let j = *index.get(&r.address)?;
                match &state[j] {
                    ReadState::Read(Some(v)) => pointer(v, &r.pointer).cloned(),
                    _ => None,
                }
            };
            decisions.push((i, resolve_address(&specs[i].address, &lookup)));
        }
        decisions
    }

    /// One read per addressable resource (marked as read so that the next wave
    /// does not read it again); unaddressable ones are marked so.
    fn read_jobs(
        &self,
        decisions: Vec<(usize, Option<Address>)>,
        state: &mut [ReadState],
    ) -> Vec<BoxFuture<'a, Job>> {
        let backend = self.backend;
        let specs: &'a [ResourceSpec] = self.graph.specs;
        let mut jobs: Vec<BoxFuture<'a, Job>> = Vec::new();
        for (i, target) in decisions {
            match target {
                None => state[i] = ReadState::Unaddressable,
                Some(target) => {
                    // Reserve the slot so the next round does not read it again.
                    state[i] = ReadState::Read(None);
                    let spec = &specs[i];
                    jobs.push(Box::pin(async move {
                        let r = backend.read(&target, &spec.api).await.map_err(|source| {
                            EngineError::Resource {
                                address: spec.address.clone(),
                                label: spec.label.clone(),
                                operation: Operation::Read,
                                source,
                            }
                        });
                        Job::Read(i, Some(target), r)
                    }));
                }
            }
        }
        jobs
    }

    /// One listing per discovery of the model.
    fn discovery_jobs(&self) -> Vec<BoxFuture<'a, Job>> {
        let backend = self.backend;
        let model: &'a Model = self.model;
        let mut jobs: Vec<BoxFuture<'a, Job>> = Vec::new();
        for (k, d) in model.discoveries.iter().enumerate() {
            jobs.push(Box::pin(async move {
                // A parent or group that does not exist owns nothing.
                let r = match backend.list(d).await {
                    Ok(found) => Ok(found),
                    Err(e) if e.status() == Some(404) => Ok(Vec::new()),
                    Err(source) => Err(EngineError::Discovery {
                        discovery: d.describe(),
                        source,
                    }),
                };
                Job::Discover(k, r)
            }));
        }
        jobs
    }

    /// Stops on what makes a plan meaningless: a missing prerequisite first
    /// (nothing else matters without it), then the first failed read (in model
    /// order), then the first failed discovery.
    fn check_reads(&self, state: &mut LiveState) -> Result<(), EngineError> {
        let specs = self.graph.specs;
        let deps = &self.graph.deps;
        let live = &state.live;
        let read_errors = &mut state.read_errors;
        // Missing prerequisites come first: nothing else matters without them.
        if !self.opts.destroy {
            for (i, spec) in specs.iter().enumerate() {
                let errored = read_errors.iter().any(|(j, _)| *j == i);
                if spec.mode == Mode::Data && live[i].is_none() && !errored {
                    let needed_by = specs
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| deps[*j].contains(&i))
                        .map(|(_, r)| r.label.clone())
                        .collect();
                    return Err(EngineError::MissingPrerequisite {
                        address: spec.address.clone(),
                        label: spec.label.clone(),
                        stage: spec.stage,
                        needed_by,
                    });
                }
            }
        }
        read_errors.sort_by_key(|(i, _)| *i);
        if let Some((_, e)) = std::mem::take(read_errors).into_iter().next() {
            return Err(e);
        }
        if let Some(e) = std::mem::take(&mut state.discovery_errors)
            .into_iter()
            .next()
        {
            return Err(e);
        }
        Ok(())
    }

    /// Destroy mode: every existing managed resource owned by this environment
    /// is deleted (prerequisites, `Mode::Data`, are never deleted).
    fn decide_destroy(&self, state: &LiveState, decided: &mut Decisions) {
        let specs = self.graph.specs;
        let opts = self.opts;
        let (live, targets) = (&state.live, &state.targets);
        let Decisions {
            changes,
            actions,
            warnings,
            ..
        } = decided;
        for i in 0..specs.len() {
            let spec = &specs[i];
            let Some(l) = &live[i] else { continue };
            if spec.mode == Mode::Data {
                continue;
            }
            if !owned(spec, l, opts, warnings) {
                continue;
            }
            actions[i] = Some(Action::Delete);
            changes[i] = Some(Change {
                address: spec.address.clone(),
                label: spec.label.clone(),
                stage: spec.stage,
                api: spec.api.clone(),
                action: Action::Delete,
                diffs: Vec::new(),
                replace_paths: Vec::new(),
                fingerprint: Fingerprint::of(Some(l)),
                desired: None,
                target: targets[i].clone(),
                depends_on: BTreeSet::new(),
                serial_key: spec.serial_key.clone(),
                outputs: BTreeMap::new(),
                reread: false,
                wait: false,
            });
        }
    }

    /// Converge mode: decides each declared resource in dependency order, so
    /// that a reference's target is decided before the resource using it.
    async fn decide_changes(
        &self,
        state: &mut LiveState,
        decided: &mut Decisions,
    ) -> Result<(), EngineError> {
        for i in topological_order(&self.graph.deps) {
            if self.graph.specs[i].mode == Mode::Data {
                self.decide_read(i, state, decided);
            } else {
                self.decide_resource(i, state, decided).await?;
            }
        }
        Ok(())
    }

    /// A prerequisite (`Mode::Data`) is only read.
    fn decide_read(&self, i: usize, state: &LiveState, decided: &mut Decisions) {
        let spec = &self.graph.specs[i];
        let (live, targets) = (&state.live, &state.targets);
        let fingerprint = Fingerprint::of(live[i].as_ref());
        decided.actions[i] = Some(Action::Read);
        decided.changes[i] = Some(Change {
            address: spec.address.clone(),
            label: spec.label.clone(),
            stage: spec.stage,
            api: spec.api.clone(),
            action: Action::Read,
            diffs: Vec::new(),
            replace_paths: Vec::new(),
            fingerprint,
            desired: None,
            target: targets[i].clone(),
            depends_on: spec.dependencies(),
            serial_key: None,
            outputs: BTreeMap::new(),
            reread: false,
            wait: live[i].as_ref().is_some_and(is_provisioning),
        });
    }

    /// A managed resource: resolves its references, looks for an equivalent
    /// role assignment, diffs against the live value and records the change.
    async fn decide_resource(
        &self,
        i: usize,
        state: &mut LiveState,
        decided: &mut Decisions,
    ) -> Result<(), EngineError> {
        let spec = &self.graph.specs[i];
        let fingerprint = Fingerprint::of(state.live[i].as_ref());
        // Tags others added are written back; tags this tool set earlier and
        // no longer sets are removed (see `tags`).
        let (spec_body, tag_removals) =
            super::tags::merge_shared_tags(spec, state.live[i].as_ref(), &self.opts.ignore_tags);
        let desired = self.resolve_desired(spec, &spec_body, state, decided)?;
        let address_unknown = self.address_unknown(i, state, decided);
        let live_eff = if address_unknown {
            None
        } else {
            state.live[i].as_ref()
        };
        // A role assignment may already exist under another name (Azure
        // refuses a duplicate): then there is nothing to do.
        if live_eff.is_none()
            && is_role_assignment(spec)
            && let Some(body) = desired.to_value()
            && let Some(existing) = self.find_equivalent(spec, &body).await?
        {
            self.record_equivalent(i, existing, state, decided);
            return Ok(());
        }
        let (action, mut diffs) = self.decide_action(
            spec,
            &desired,
            live_eff,
            tag_removals,
            &mut decided.warnings,
        );
        if matches!(action, Action::Update | Action::Replace)
            && let Some(ptr) = &spec.rules.openapi
        {
            let target = state.targets[i].as_ref().unwrap_or(&spec.address);
            diffs.extend(operation_diffs(self.backend, spec, target, ptr).await?);
        }
        let replace_paths = replace_paths(action, &diffs);
        let body = body_to_write(spec, spec_body, action, live_eff, &mut decided.blobs);
        decided.actions[i] = Some(action);
        decided.changes[i] = Some(Change {
            address: spec.address.clone(),
            label: spec.label.clone(),
            stage: spec.stage,
            api: spec.api.clone(),
            action,
            diffs,
            replace_paths,
            fingerprint,
            // Unchanged resources are not written: their body stays out of the plan.
            desired: (action != Action::NoOp).then_some(body),
            target: if address_unknown {
                None
            } else {
                state.targets[i].clone()
            },
            depends_on: spec.dependencies(),
            serial_key: spec.serial_key.clone(),
            outputs: BTreeMap::new(),
            reread: false,
            wait: matches!(action, Action::NoOp | Action::Update)
                && live_eff.is_some_and(is_provisioning),
        });
        Ok(())
    }

    /// The desired body with every reference resolved from the live values of
    /// resources decided so far (unknown when the target is (re)created).
    fn resolve_desired(
        &self,
        spec: &ResourceSpec,
        spec_body: &Value,
        state: &LiveState,
        decided: &Decisions,
    ) -> Result<Desired, EngineError> {
        let Graph { specs, index, .. } = &self.graph;
        let (actions, live) = (&decided.actions, &state.live);
        let lookup = |r: &Reference| -> Result<RefValue, String> {
            let Some(&j) = index.get(&r.address) else {
                return Err("the referenced resource is not part of the model".into());
            };
            match (actions[j], &live[j]) {
                (Some(Action::Create | Action::Replace), _) | (_, None) => Ok(RefValue::Unknown),
                (a, Some(v)) => match pointer(v, &r.pointer) {
                    Some(x) => Ok(RefValue::Known(x.clone())),
                    None if a == Some(Action::Update) => Ok(RefValue::Unknown),
                    None => Err(format!("{} has no value at {}", specs[j].label, r.pointer)),
                },
            }
        };
        diff::resolve_desired(spec_body, &lookup).map_err(|f| EngineError::UnresolvedReference {
            address: spec.address.clone(),
            label: spec.label.clone(),
            reference: f.reference,
            reason: f.reason,
        })
    }

    /// Whether resource `i`'s address depends on a resource being (re)created
    /// or absent: then it points to a new object.
    fn address_unknown(&self, i: usize, state: &LiveState, decided: &Decisions) -> bool {
        let Graph {
            index, addr_refs, ..
        } = &self.graph;
        let (actions, live) = (&decided.actions, &state.live);
        addr_refs[i].iter().any(|r| {
            index.get(&r.address).is_some_and(|&j| {
                matches!(actions[j], Some(Action::Create | Action::Replace)) || live[j].is_none()
            })
        })
    }

    /// A live role assignment equal to the desired `body` under another name.
    async fn find_equivalent(
        &self,
        spec: &ResourceSpec,
        body: &Value,
    ) -> Result<Option<Value>, EngineError> {
        self.backend
            .find_equivalent(&spec.address, &spec.api, body)
            .await
            .map_err(|source| EngineError::Resource {
                address: spec.address.clone(),
                label: spec.label.clone(),
                operation: Operation::Read,
                source,
            })
    }

    /// Resource `i` already exists as the equivalent `existing`: nothing to do
    /// (with a warning naming it); later references read `existing`.
    fn record_equivalent(
        &self,
        i: usize,
        existing: Value,
        state: &mut LiveState,
        decided: &mut Decisions,
    ) {
        let spec = &self.graph.specs[i];
        let other = existing
            .get("id")
            .and_then(Value::as_str)
            .map(|s| Address(s.to_string()));
        decided.warnings.push(format!(
            "{} ({}) already exists as {}; treated as done",
            spec.label,
            spec.address,
            other
                .as_ref()
                .map(Address::as_str)
                .unwrap_or("another assignment")
        ));
        decided.actions[i] = Some(Action::NoOp);
        decided.changes[i] = Some(Change {
            address: spec.address.clone(),
            label: spec.label.clone(),
            stage: spec.stage,
            api: spec.api.clone(),
            action: Action::NoOp,
            diffs: Vec::new(),
            replace_paths: Vec::new(),
            fingerprint: Fingerprint::of(Some(&existing)),
            desired: None,
            target: other,
            depends_on: spec.dependencies(),
            serial_key: spec.serial_key.clone(),
            outputs: BTreeMap::new(),
            reread: false,
            wait: false,
        });
        state.live[i] = Some(existing);
    }

    /// The action for a managed resource and the property diffs that justify
    /// it: create when nothing exists, replace when a diff forces it, update on
    /// any diff, a forced rewrite or a failed last operation, else nothing.
    fn decide_action(
        &self,
        spec: &ResourceSpec,
        desired: &Desired,
        live: Option<&Value>,
        tag_removals: Vec<PropertyDiff>,
        warnings: &mut Vec<String>,
    ) -> (Action, Vec<PropertyDiff>) {
        let opts = self.opts;
        match live {
            None => {
                // Nothing exists to replace: a create never "forces replacement".
                let mut diffs = diff::diff(desired, None, &spec.rules);
                diffs.iter_mut().for_each(|d| d.forces_replacement = false);
                (Action::Create, diffs)
            }
            Some(l) => {
                owned(spec, l, opts, warnings);
                let mut diffs = diff::diff(desired, Some(l), &spec.rules);
                diffs.extend(tag_removals);
                if diffs.iter().any(|d| d.forces_replacement) {
                    (Action::Replace, diffs)
                } else if !diffs.is_empty() {
                    (Action::Update, diffs)
                } else if opts.force_write.contains(&spec.address) {
                    (Action::Update, forced_diffs(desired, spec))
                } else if let Some(state) = provisioning_state(l).filter(|s| is_failed(s)) {
                    // A failed operation left the resource broken: write it again.
                    let diff = PropertyDiff {
                        path: "/properties/provisioningState".into(),
                        old: DiffValue::Known(Value::String(state.to_string())),
                        new: DiffValue::Known(Value::String("Succeeded".into())),
                        forces_replacement: false,
                    };
                    (Action::Update, vec![diff])
                } else {
                    (Action::NoOp, diffs)
                }
            }
        }
    }

    /// Values of unchanged resources that writes (or addresses) need at apply:
    /// kept in the change's outputs, or, for write-only values, re-read at apply.
    fn record_passed_values(&self, state: &LiveState, decided: &mut Decisions) {
        let Graph {
            specs,
            index,
            addr_refs,
            ..
        } = &self.graph;
        let live = &state.live;
        let Decisions {
            changes, actions, ..
        } = decided;
        for (i, spec) in specs.iter().enumerate() {
            let consumer_writes = actions[i].is_some_and(Action::writes);
            let mut flows: Vec<(Reference, bool)> = diff::references_with_paths(&spec.body)
                .into_iter()
                .map(|(r, path)| {
                    let sensitive = is_write_only(&spec.rules, &path);
                    (r, sensitive)
                })
                .collect();
            flows.extend(addr_refs[i].iter().cloned().map(|r| (r, false)));
            for (r, sensitive) in flows {
                let Some(&j) = index.get(&r.address) else {
                    continue;
                };
                if !matches!(actions[j], Some(Action::NoOp | Action::Read)) {
                    continue;
                }
                let Some(l) = &live[j] else { continue };
                let Some(change) = changes[j].as_mut() else {
                    continue;
                };
                if sensitive {
                    change.reread |= consumer_writes;
                } else if let Some(v) = pointer(l, &r.pointer) {
                    change.outputs.insert(r.pointer.clone(), v.clone());
                }
            }
        }
    }

    /// Owned resources found by discoveries and no longer desired.
    fn find_orphans(&self, state: &mut LiveState, warnings: &mut Vec<String>) -> Vec<Orphan> {
        let specs = self.graph.specs;
        let model = self.model;
        let mut deletes: Vec<Orphan> = Vec::new();
        // What the model wants, by ARM ID (case-insensitive), including addresses
        // resolved from references (e.g. a zone named after a default domain).
        let wanted: BTreeSet<String> = specs
            .iter()
            .map(|s| s.address.as_str().to_ascii_lowercase())
            .chain(
                state
                    .targets
                    .iter()
                    .flatten()
                    .map(|t| t.as_str().to_ascii_lowercase()),
            )
            .collect();
        for (k, found) in std::mem::take(&mut state.discovered) {
            let d = &model.discoveries[k];
            for res in found {
                if wanted.contains(&res.address.as_str().to_ascii_lowercase())
                    || deletes.iter().any(|x| x.0 == res.address)
                {
                    continue;
                }
                if let Discovery::Tagged { env, .. } = d {
                    let tagged = res
                        .tags
                        .as_ref()
                        .and_then(|t| t.get(OWNER_TAG))
                        .and_then(Value::as_str)
                        .is_some_and(|v| v == env);
                    if !tagged {
                        continue;
                    }
                }
                let Some(api) = res.api else {
                    warnings.push(format!(
                        "{} is owned by this environment but its type has no pinned API version; left alone",
                        res.address
                    ));
                    continue;
                };
                let serial = match d {
                    Discovery::Children { serial_key, .. } => serial_key.clone(),
                    Discovery::Tagged { .. } => None,
                };
                deletes.push((res.address, api, d.stage(), serial));
            }
        }
        deletes
    }

    /// Reads each orphan again (concurrently) and plans the deletion of those
    /// that still exist.
    async fn read_orphans(&self, deletes: &[Orphan]) -> Result<Vec<Change>, EngineError> {
        let backend = self.backend;
        let reads: Vec<BoxFuture<'_, Result<Option<Value>, EngineError>>> = deletes
            .iter()
            .map(|(address, api, _, _)| {
                let f: BoxFuture<'_, _> = Box::pin(async move {
                    backend
                        .read(address, api)
                        .await
                        .map_err(|source| EngineError::Resource {
                            address: address.clone(),
                            label: discovered_label(address, api),
                            operation: Operation::Read,
                            source,
                        })
                });
                f
            })
            .collect();
        let mut delete_changes = Vec::new();
        for ((address, api, stage, serial_key), r) in deletes
            .iter()
            .zip(bounded(reads, self.opts.parallelism).await)
        {
            let Some(l) = r? else { continue };
            delete_changes.push(Change {
                address: address.clone(),
                label: discovered_label(address, api),
                stage: *stage,
                api: api.clone(),
                action: Action::Delete,
                diffs: Vec::new(),
                replace_paths: Vec::new(),
                fingerprint: Fingerprint::of(Some(&l)),
                desired: None,
                target: None,
                depends_on: BTreeSet::new(),
                serial_key: serial_key.clone(),
                outputs: BTreeMap::new(),
                reread: false,
                wait: false,
            });
        }
        Ok(delete_changes)
    }

    /// The plan: the declared resources' changes in model order, then the
    /// orphans' deletes, with the delete order as dependencies.
    fn assemble(&self, decided: Decisions, delete_changes: Vec<Change>) -> Plan {
        let Graph {
            specs, index, deps, ..
        } = &self.graph;
        let mut all: Vec<Change> = decided.changes.into_iter().flatten().collect();
        if self.opts.destroy {
            order_destroy(&mut all, specs, deps, index);
        }
        order_deletes(&mut all, delete_changes);
        Plan {
            changes: all,
            warnings: decided.warnings,
            blobs: decided.blobs,
        }
    }
}

/// For a replace, the paths of the diffs that force it.
fn replace_paths(action: Action, diffs: &[PropertyDiff]) -> Vec<String> {
    if action == Action::Replace {
        diffs
            .iter()
            .filter(|d| d.forces_replacement)
            .map(|d| d.path.clone())
            .collect()
    } else {
        Vec::new()
    }
}

/// The body a change will write: an update keeps the live lists owned by
/// separately declared children (see `DiffRules::owned_by_children`), and
/// large strings move to the plan's blobs.
fn body_to_write(
    spec: &ResourceSpec,
    mut body: Value,
    action: Action,
    live: Option<&Value>,
    blobs: &mut BTreeMap<String, String>,
) -> Value {
    if action == Action::Update
        && let Some(l) = live
    {
        diff::keep_owned_by_children(&mut body, l, &spec.rules);
    }
    strip_large(&mut body, blobs);
    body
}

/// Whether `spec` is an ARM role assignment.
fn is_role_assignment(spec: &ResourceSpec) -> bool {
    matches!(&spec.api, Api::Arm { type_name, .. }
        if type_name.eq_ignore_ascii_case(super::apply::ROLE_ASSIGNMENT_TYPE))
}

/// Appends the discovered deletes to `all`. They wait for every other write
/// (dependents may still refer to them until updated); every delete waits for
/// the deletes of its children.
fn order_deletes(all: &mut Vec<Change>, mut delete_changes: Vec<Change>) {
    // Discovered deletes wait for every other write (dependents may still refer
    // to them until updated) and for deletes of their children.
    let writers: BTreeSet<Address> = all
        .iter()
        .filter(|c| c.action.writes() && c.action != Action::Delete)
        .map(|c| c.address.clone())
        .collect();
    let delete_addrs: Vec<Address> = all
        .iter()
        .chain(delete_changes.iter())
        .filter(|c| c.action == Action::Delete)
        .map(|c| effective_address(c).clone())
        .collect();
    for c in &mut delete_changes {
        c.depends_on.extend(writers.iter().cloned());
    }
    all.extend(delete_changes);
    for c in all.iter_mut().filter(|c| c.action == Action::Delete) {
        let mine = effective_address(c).clone();
        for other in &delete_addrs {
            if is_child(other, &mine) {
                c.depends_on.insert(other.clone());
            }
        }
    }
}

/// The operations an import of the desired OpenAPI document (at `ptr` in the
/// body) adds to and removes from the live API at `target`. Nothing when the
/// body holds no inline JSON document (e.g. a link, imported by APIM itself).
async fn operation_diffs(
    backend: &dyn Backend,
    spec: &ResourceSpec,
    target: &Address,
    ptr: &str,
) -> Result<Vec<PropertyDiff>, EngineError> {
    let Some(doc) = spec
        .body
        .pointer(ptr)
        .and_then(Value::as_str)
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
    else {
        return Ok(Vec::new());
    };
    let Api::Arm {
        type_name,
        api_version,
    } = &spec.api
    else {
        return Ok(Vec::new());
    };
    let wanted = super::openapi::operations(&doc);
    let listing = Address(format!("{}/operations", target.as_str()));
    let api = Api::Arm {
        type_name: format!("{type_name}/operations"),
        api_version: api_version.clone(),
    };
    let live = backend
        .read(&listing, &api)
        .await
        .map_err(|source| EngineError::Resource {
            address: spec.address.clone(),
            label: spec.label.clone(),
            operation: Operation::Read,
            source,
        })?
        .map(|l| super::openapi::live_operations(&l))
        .unwrap_or_default();
    let op = |k: &String| DiffValue::Known(Value::String(k.clone()));
    Ok(wanted
        .difference(&live)
        .map(|k| PropertyDiff {
            path: "/operations".into(),
            old: DiffValue::Absent,
            new: op(k),
            forces_replacement: false,
        })
        .chain(live.difference(&wanted).map(|k| PropertyDiff {
            path: "/operations".into(),
            old: op(k),
            new: DiffValue::Absent,
            forces_replacement: false,
        }))
        .collect())
}

/// The address a change acts on.
pub(crate) fn effective_address(c: &Change) -> &Address {
    c.target.as_ref().unwrap_or(&c.address)
}

/// Whether `child` is inside `parent` (`parent/...`).
pub(crate) fn is_child(child: &Address, parent: &Address) -> bool {
    let c = child.as_str();
    let p = parent.as_str();
    c.len() > p.len() + 1
        && c.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
        && c.as_bytes().get(p.len()) == Some(&b'/')
}

/// In destroy mode a resource is deleted after everything that depends on it
/// (transitively) has been deleted.
fn order_destroy(
    changes: &mut [Change],
    specs: &[ResourceSpec],
    deps: &[Vec<usize>],
    index: &HashMap<&Address, usize>,
) {
    let n = specs.len();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &j in ds {
            dependents[j].push(i);
        }
    }
    let deleted: BTreeSet<usize> = changes
        .iter()
        .filter_map(|c| index.get(&c.address).copied())
        .collect();
    for c in changes.iter_mut() {
        let Some(&i) = index.get(&c.address) else {
            continue;
        };
        let mut seen = vec![false; n];
        let mut stack = dependents[i].clone();
        while let Some(k) = stack.pop() {
            if std::mem::replace(&mut seen[k], true) {
                continue;
            }
            if deleted.contains(&k) {
                c.depends_on.insert(specs[k].address.clone());
            }
            stack.extend(dependents[k].iter().copied());
        }
    }
}

/// The state a live resource reports for its last operation:
/// `properties.provisioningState`, or, for types without one (PostgreSQL flexible
/// servers), `properties.state` (`Ready`, `Provisioning`, `Updating`, ...).
pub(crate) fn provisioning_state(live: &Value) -> Option<&str> {
    let props = live.get("properties")?;
    props
        .get("provisioningState")
        .or_else(|| props.get("state"))
        .and_then(Value::as_str)
}

/// Whether a provisioning state says the last operation failed.
pub(crate) fn is_failed(state: &str) -> bool {
    ["failed", "canceled", "cancelled"]
        .iter()
        .any(|s| state.eq_ignore_ascii_case(s))
}

/// Whether a live resource is still being created or updated (its dependents
/// must wait until it is ready).
///
/// A `provisioningState` other than the terminal `Succeeded`, `Failed` and
/// `Canceled` is in progress (Azure's resource provider contract: any other value
/// is transitional; types name theirs freely: APIM `Created`/`Activating`, Key Vault
/// `RegisteringDns`, Container Apps `Waiting`/`InitializationInProgress`, Storage
/// `ResolvingDNS`, ...), except `Deleting`, which no write waits for. A PostgreSQL
/// flexible server's `state` is in progress while `Provisioning`, `Updating`,
/// `Starting` or `Restarting`.
pub(crate) fn is_provisioning(live: &Value) -> bool {
    const TERMINAL: [&str; 5] = ["succeeded", "failed", "canceled", "cancelled", "deleting"];
    const SERVER_IN_PROGRESS: [&str; 4] = ["provisioning", "updating", "starting", "restarting"];
    let props = live.get("properties");
    let any = |list: &[&str], s: &str| list.iter().any(|p| s.eq_ignore_ascii_case(p));
    if let Some(s) = props
        .and_then(|p| p.get("provisioningState"))
        .and_then(Value::as_str)
    {
        return !s.is_empty() && !any(&TERMINAL, s);
    }
    props
        .and_then(|p| p.get("state"))
        .and_then(Value::as_str)
        .is_some_and(|s| any(&SERVER_IN_PROGRESS, s))
}

/// Whether a live resource belongs to this environment (warns when not).
fn owned(
    spec: &ResourceSpec,
    live: &Value,
    opts: &PlanOptions,
    warnings: &mut Vec<String>,
) -> bool {
    let (Some(env), true) = (&opts.environment, spec.taggable) else {
        return true;
    };
    match live
        .get("tags")
        .and_then(|t| t.get(OWNER_TAG))
        .and_then(Value::as_str)
    {
        Some(v) if v == env => true,
        Some(other) => {
            warnings.push(format!(
                "{} ({}) exists and is tagged {OWNER_TAG}={other}, not {env}",
                spec.label,
                spec.address.readable()
            ));
            false
        }
        None => {
            warnings.push(format!(
                "{} ({}) exists without the {OWNER_TAG} tag (created outside this tool?)",
                spec.label,
                spec.address.readable()
            ));
            !opts.destroy
        }
    }
}

/// Diffs shown for a forced rewrite: every write-only property.
fn forced_diffs(desired: &Desired, spec: &ResourceSpec) -> Vec<PropertyDiff> {
    diff::sensitive_paths(desired, &spec.rules)
        .into_iter()
        .map(|path| PropertyDiff {
            path,
            old: DiffValue::Sensitive,
            new: DiffValue::Sensitive,
            forces_replacement: false,
        })
        .collect()
}

/// Reads every planned resource again and reports those whose live state no
/// longer matches the plan's fingerprint (for applying a saved plan).
pub async fn verify_plan(
    backend: &dyn Backend,
    plan: &Plan,
    parallelism: usize,
) -> Result<(), EngineError> {
    let checks: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| !has_markers(effective_address(c)))
        .collect();
    let futs: Vec<BoxFuture<'_, Result<Option<Value>, EngineError>>> = checks
        .iter()
        .map(|c| {
            let f: BoxFuture<'_, _> = Box::pin(async move {
                backend
                    .read(effective_address(c), &c.api)
                    .await
                    .map_err(|source| EngineError::Resource {
                        address: c.address.clone(),
                        label: c.label.clone(),
                        operation: Operation::Read,
                        source,
                    })
            });
            f
        })
        .collect();
    let mut stale = Vec::new();
    for (c, r) in checks.iter().zip(bounded(futs, parallelism).await) {
        let now = Fingerprint::of(r?.as_ref());
        if now != c.fingerprint {
            let reason = match (&c.fingerprint, &now) {
                (Fingerprint::Absent, _) => "now exists".to_string(),
                (_, Fingerprint::Absent) => "was deleted".to_string(),
                (Fingerprint::Etag(a), Fingerprint::Etag(b)) => {
                    format!("etag changed ({a} -> {b})")
                }
                _ => "changed since the plan was made".to_string(),
            };
            stale.push(StaleResource {
                address: c.address.clone(),
                label: c.label.clone(),
                reason,
            });
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(EngineError::StalePlan { stale })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fingerprint_prefers_etag_and_ignores_volatile_fields() {
        assert_eq!(
            Fingerprint::of(Some(&json!({"etag": "W/\"1\"", "a": 1}))),
            Fingerprint::Etag("W/\"1\"".into())
        );
        let a = Fingerprint::of(Some(
            &json!({"a": 1, "b": {"provisioningState": "Updating", "c": 2}}),
        ));
        let b = Fingerprint::of(Some(
            &json!({"b": {"c": 2, "provisioningState": "Succeeded"}, "a": 1}),
        ));
        assert_eq!(a, b);
        let c = Fingerprint::of(Some(&json!({"a": 2, "b": {"c": 2}})));
        assert_ne!(a, c);
        assert_eq!(Fingerprint::of(None), Fingerprint::Absent);
    }

    #[test]
    fn fingerprint_ignores_the_state_that_stands_in_for_provisioning_state() {
        let updating = json!({"properties": {"state": "Updating", "version": "16"}});
        let ready = json!({"properties": {"state": "Ready", "version": "16"}});
        assert_eq!(
            Fingerprint::of(Some(&updating)),
            Fingerprint::of(Some(&ready))
        );
        // Where provisioningState exists, `state` is configuration and counts.
        let enabled = json!({"properties": {"provisioningState": "Succeeded", "state": "Enabled"}});
        let disabled =
            json!({"properties": {"provisioningState": "Succeeded", "state": "Disabled"}});
        assert_ne!(
            Fingerprint::of(Some(&enabled)),
            Fingerprint::of(Some(&disabled))
        );
    }

    #[test]
    fn children_are_recognised() {
        assert!(is_child(&"/a/B/c".into(), &"/a/b".into()));
        assert!(!is_child(&"/a/bc".into(), &"/a/b".into()));
        assert!(!is_child(&"/a/b".into(), &"/a/b".into()));
    }

    #[test]
    fn large_strings_leave_the_plan_and_come_back() {
        let big = "y".repeat(LARGE_VALUE_BYTES * 2);
        let mut body = json!({"value": big, "small": "s"});
        let mut blobs = BTreeMap::new();
        strip_large(&mut body, &mut blobs);
        let marker = body["value"].as_str().unwrap().to_string();
        assert!(marker.starts_with(BLOB_OPEN), "{marker}");
        let mut missing = None;
        let back = expand_blobs(&body, &blobs, &mut missing);
        assert!(missing.is_none());
        assert_eq!(back["value"].as_str().unwrap().len(), LARGE_VALUE_BYTES * 2);
        let back = expand_blobs(&body, &BTreeMap::new(), &mut missing);
        assert!(missing.is_some());
        assert_eq!(back["value"], json!(marker));
    }
}
