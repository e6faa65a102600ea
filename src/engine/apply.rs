//! Applying a plan: a dependency-graph executor that starts each change as
//! soon as what it depends on has finished, up to `parallelism` at once,
//! serialising writes that share a `serial_key`.

use super::backend::{Backend, BackendError, Observer};
use super::diff::value_as_text;
use super::error::{EngineError, Operation};
use super::events::{CancelToken, Event, EventSink, millis, now_rfc3339};
use super::plan::{
    Action, Change, DEFAULT_PARALLELISM, Plan, has_markers, is_failed, is_provisioning, pointer,
    provisioning_state, resolve_address, verify_plan,
};
use super::resource::{Address, Api, Reference, Segment, parse_markers};
use super::secrets::Secrets;
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The ARM type whose writes get PrincipalNotFound / RoleAssignmentExists handling.
pub const ROLE_ASSIGNMENT_TYPE: &str = "Microsoft.Authorization/roleAssignments";

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Writes in flight at most (default 16).
    pub parallelism: usize,
    /// How long a write is retried while Azure answers with a replication or
    /// propagation delay: `PrincipalNotFound` on a role assignment (a new identity
    /// not yet replicated), and the errors [`BackendError::propagation_delay`]
    /// recognises (Graph replication, Key Vault roles not yet effective on data
    /// planes); default 5 minutes.
    pub principal_retry_timeout: Duration,
    /// First wait between those retries (doubling up to `retry_max_delay`); default 5 s.
    pub retry_initial_delay: Duration,
    /// Longest wait between those retries; default 30 s.
    pub retry_max_delay: Duration,
    /// How long to wait for a resource that was still provisioning when
    /// planned (e.g. an interrupted APIM creation) before its dependents start;
    /// default 2 hours.
    pub wait_timeout: Duration,
    /// Before any write, re-read every planned resource and refuse
    /// ([`EngineError::StalePlan`]) when one differs from its fingerprint.
    pub verify_fingerprints: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: DEFAULT_PARALLELISM,
            principal_retry_timeout: Duration::from_secs(300),
            retry_initial_delay: Duration::from_secs(5),
            retry_max_delay: Duration::from_secs(30),
            wait_timeout: Duration::from_secs(2 * 3600),
            verify_fingerprints: false,
        }
    }
}

/// What happened to one change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Created.
    Created,
    /// Updated in place.
    Updated,
    /// Deleted and created again.
    Replaced,
    /// Deleted (or already gone).
    Deleted,
    /// Nothing to do.
    Unchanged,
    /// Data read.
    Read,
    /// A role assignment already existed under another name: treated as done.
    AlreadyExisted,
    /// Failed with this error.
    Failed {
        /// The error (with ARM code and request ID).
        error: String,
    },
    /// Not attempted because a dependency failed.
    Skipped {
        /// The failed resource.
        because: Address,
    },
    /// Was in flight when the apply was cancelled (its polling stopped).
    Interrupted,
    /// Not started (cancelled first).
    NotStarted,
}

impl Outcome {
    /// Whether the change reached its goal.
    pub fn is_success(&self) -> bool {
        matches!(
            self,
            Outcome::Created
                | Outcome::Updated
                | Outcome::Replaced
                | Outcome::Deleted
                | Outcome::Unchanged
                | Outcome::Read
                | Outcome::AlreadyExisted
        )
    }
}

/// What an apply did, per change in plan order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// Every change's outcome, in plan order.
    pub results: Vec<(Address, Outcome)>,
    /// Wall time of the apply.
    #[serde(rename = "elapsed_ms", with = "millis")]
    pub elapsed: Duration,
}

impl ApplyReport {
    /// The outcome of `address`.
    pub fn outcome(&self, address: &Address) -> Option<&Outcome> {
        self.results
            .iter()
            .find(|(a, _)| a == address)
            .map(|(_, o)| o)
    }

    /// How many changes reached their goal.
    pub fn finished(&self) -> usize {
        self.results.iter().filter(|(_, o)| o.is_success()).count()
    }

    /// How many resources were written or deleted (reads and no-ops not counted;
    /// a role assignment found under another name counts as done).
    pub fn changed(&self) -> usize {
        self.results
            .iter()
            .filter(|(_, o)| {
                matches!(
                    o,
                    Outcome::Created
                        | Outcome::Updated
                        | Outcome::Replaced
                        | Outcome::Deleted
                        | Outcome::AlreadyExisted
                )
            })
            .count()
    }
}

/// Live values of a finished change, for resolving references.
enum Known {
    Live(Value),
    Outputs(BTreeMap<String, Value>),
}

impl Known {
    fn get(&self, ptr: &str) -> Option<Value> {
        match self {
            Known::Live(v) => pointer(v, ptr).cloned(),
            Known::Outputs(m) => m.get(ptr).cloned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Pending,
    Running,
    Done,
    Failed,
    Skipped(Address),
    NotStarted,
}

struct EventObserver {
    address: Address,
    events: EventSink,
}

impl Observer for EventObserver {
    fn polled(&self, status: &str, elapsed: Duration) {
        self.events.emit(Event::Polled {
            address: self.address.clone(),
            status: status.to_string(),
            elapsed,
        });
    }
    fn retrying(&self, reason: &str, delay: Duration) {
        self.events.emit(Event::Retrying {
            address: self.address.clone(),
            reason: reason.to_string(),
            delay,
        });
    }
}

/// Result of one task: live value and an optional note, or the error.
type TaskResult = Result<(Option<Value>, Outcome, Option<String>), EngineError>;

/// Applies `plan`: exactly its actions, in dependency order, as concurrently as
/// allowed. Returns every outcome; on failures returns
/// [`EngineError::ApplyFailed`] (independent branches still finished), on
/// cancellation [`EngineError::Cancelled`].
///
/// The steps: check what can be checked before the first write
/// (`check_before_writing`, then the fingerprints), order the changes
/// (`apply_order`), then, until nothing runs, settle skips and start what is
/// ready (`Run::start_ready`) and record each finished task
/// (`Run::record`); finally build the report (`Run::report`).
pub async fn apply(
    backend: Arc<dyn Backend>,
    plan: &Plan,
    opts: &ApplyOptions,
    secrets: &Secrets,
    events: EventSink,
    cancel: CancelToken,
) -> Result<ApplyReport, EngineError> {
    let start = Instant::now();
    let changes = &plan.changes;
    let n = changes.len();

    // Everything that can be checked before the first write is checked now.
    let bodies = check_before_writing(plan, secrets)?;
    if opts.verify_fingerprints {
        verify_plan(backend.as_ref(), plan, opts.parallelism).await?;
    }
    let (index, deps) = apply_order(changes, &bodies, secrets);
    let mut run = Run {
        changes,
        index,
        deps,
        bodies,
        backend,
        opts,
        secrets,
        events,
        cancel,
        state: vec![State::Pending; n],
        // How events and skips name each change: readable until its address is resolved.
        shown: changes.iter().map(shown_address).collect(),
        known: (0..n).map(|_| None).collect(),
        outcomes: vec![None; n],
        failures: Vec::new(),
        busy_keys: HashSet::new(),
        running: FuturesUnordered::new(),
        parallelism: opts.parallelism.max(1),
    };
    loop {
        run.start_ready();
        if run.running.is_empty() {
            break;
        }
        let Some((i, elapsed, result)) = run.next_finished().await else {
            run.interrupt();
            break;
        };
        run.record(i, elapsed, result);
    }
    run.report(start)
}

/// The full body of every write, checked for secrets that cannot be supplied.
fn check_before_writing(plan: &Plan, secrets: &Secrets) -> Result<Vec<Option<Value>>, EngineError> {
    let mut bodies: Vec<Option<Value>> = Vec::with_capacity(plan.changes.len());
    for c in &plan.changes {
        let body = if matches!(c.action, Action::Create | Action::Update | Action::Replace) {
            plan.full_body(c)?
        } else {
            None
        };
        if let Some(name) = body
            .as_ref()
            .and_then(|b| secret_names(b).into_iter().find(|s| !secrets.contains(s)))
        {
            return Err(EngineError::MissingSecret {
                address: c.address.clone(),
                label: c.label.clone(),
                name,
            });
        }
        bodies.push(body);
    }
    Ok(bodies)
}

/// Each change's position by address, and the positions it waits for: its
/// plan dependencies plus, for a write needing a secret fetched from a
/// resource, that resource.
fn apply_order<'a>(
    changes: &'a [Change],
    bodies: &[Option<Value>],
    secrets: &Secrets,
) -> (HashMap<&'a Address, usize>, Vec<Vec<usize>>) {
    let index: HashMap<&Address, usize> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| (&c.address, i))
        .collect();
    let deps: Vec<Vec<usize>> = changes
        .iter()
        .map(|c| {
            c.depends_on
                .iter()
                .filter_map(|d| index.get(d).copied())
                .collect()
        })
        .collect();

    // A write needing a secret fetched from a resource waits for that resource.
    let mut deps = deps;
    for (i, body) in bodies.iter().enumerate() {
        let Some(b) = body else { continue };
        for name in secret_names(b) {
            if let Some(&j) = secrets.action(&name).and_then(|a| index.get(&a.address))
                && j != i
                && !deps[i].contains(&j)
            {
                deps[i].push(j);
            }
        }
    }
    (index, deps)
}

/// One apply in progress: the plan's changes in their order, what the tasks
/// need, and each change's progress.
struct Run<'a> {
    changes: &'a [Change],
    index: HashMap<&'a Address, usize>,
    deps: Vec<Vec<usize>>,
    bodies: Vec<Option<Value>>,
    backend: Arc<dyn Backend>,
    opts: &'a ApplyOptions,
    secrets: &'a Secrets,
    events: EventSink,
    cancel: CancelToken,
    state: Vec<State>,
    shown: Vec<Address>,
    known: Vec<Option<Known>>,
    outcomes: Vec<Option<Outcome>>,
    failures: Vec<(usize, EngineError)>,
    busy_keys: HashSet<String>,
    running: FuturesUnordered<BoxFuture<'static, (usize, Duration, TaskResult)>>,
    parallelism: usize,
}

impl Run<'_> {
    /// Settles skips and instant changes and starts what is ready, until
    /// nothing more changes.
    fn start_ready(&mut self) {
        let mut progressed = true;
        while progressed {
            progressed = false;
            for i in 0..self.changes.len() {
                if self.state[i] != State::Pending {
                    continue;
                }
                progressed |= self.advance(i);
            }
        }
    }

    /// Moves pending change `i` on if it can: skipped after a failed or skipped
    /// dependency, done at once when nothing is to be written or waited for,
    /// else started when its dependencies are done and a slot and its serial
    /// key are free. Whether it moved.
    fn advance(&mut self, i: usize) -> bool {
        let c = &self.changes[i];
        if let Some(because) = self.failed_dependency(i) {
            self.skip(i, because);
            return true;
        }
        if !self.deps[i].iter().all(|&j| self.state[j] == State::Done) {
            return false;
        }
        if !c.action.writes() && !c.reread && !c.wait {
            self.known[i] = Some(Known::Outputs(c.outputs.clone()));
            self.outcomes[i] = Some(if c.action == Action::Read {
                Outcome::Read
            } else {
                Outcome::Unchanged
            });
            self.state[i] = State::Done;
            return true;
        }
        if self.cancel.is_cancelled() || self.running.len() >= self.parallelism {
            return false;
        }
        let key = c.serial_key.clone().filter(|_| c.action.writes());
        if key.as_ref().is_some_and(|k| self.busy_keys.contains(k)) {
            return false;
        }
        self.start(i, key);
        true
    }

    /// The address of a failed or skipped dependency of change `i`, if any.
    fn failed_dependency(&self, i: usize) -> Option<Address> {
        self.deps[i].iter().find_map(|&j| match &self.state[j] {
            State::Failed => Some(self.shown[j].clone()),
            State::Skipped(a) => Some(a.clone()),
            _ => None,
        })
    }

    /// Change `i` is skipped `because` of that dependency (an event for writes).
    fn skip(&mut self, i: usize, because: Address) {
        let c = &self.changes[i];
        if c.action.writes() {
            self.events.emit(Event::Skipped {
                address: self.shown[i].clone(),
                label: c.label.clone(),
                because: because.clone(),
            });
        }
        self.outcomes[i] = Some(Outcome::Skipped {
            because: because.clone(),
        });
        self.state[i] = State::Skipped(because);
    }

    /// Starts change `i`: resolves its address and body from the live values
    /// of its dependencies, then runs its task (holding its serial `key`).
    fn start(&mut self, i: usize, key: Option<String>) {
        let changes = self.changes;
        let c = &changes[i];
        // Resolve references from the live values of dependencies.
        let (index, known) = (&self.index, &self.known);
        let lookup = |r: &Reference| -> Option<Value> {
            let j = *index.get(&r.address)?;
            known[j].as_ref()?.get(&r.pointer)
        };
        let prepared = prepare(c, self.bodies[i].as_ref(), &lookup);
        self.state[i] = State::Running;
        let (target, body) = match prepared {
            Ok(p) => p,
            Err(e) => {
                self.fail(i, e);
                return;
            }
        };
        if let Some(k) = key {
            self.busy_keys.insert(k);
        }
        // From here on the address is known: events and errors name it.
        self.shown[i] = target.clone();
        if c.action.writes() || c.wait {
            self.events.emit(Event::Started {
                address: target.clone(),
                label: c.label.clone(),
                action: c.action,
                at: now_rfc3339(),
            });
        }
        let task = Task {
            backend: self.backend.clone(),
            address: target.clone(),
            label: c.label.clone(),
            target: target.clone(),
            api: c.api.clone(),
            action: c.action,
            wait: c.wait,
            body,
            secrets: self.secrets.clone(),
            opts: self.opts.clone(),
            observer: EventObserver {
                address: target.clone(),
                events: self.events.clone(),
            },
        };
        self.running.push(Box::pin(async move {
            let t0 = Instant::now();
            let r = task.run().await;
            (i, t0.elapsed(), r)
        }));
    }

    /// The next finished task, or `None` when cancelled first.
    async fn next_finished(&mut self) -> Option<(usize, Duration, TaskResult)> {
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => None,
            r = self.running.next() => r,
        }
    }

    /// Cancelled: dropping the running tasks stops their polling; they are
    /// reported as interrupted.
    fn interrupt(&mut self) {
        // Cancelled: dropping the futures stops their polling.
        drop(std::mem::take(&mut self.running));
        for k in 0..self.changes.len() {
            if self.state[k] == State::Running {
                self.outcomes[k] = Some(Outcome::Interrupted);
                self.state[k] = State::NotStarted;
            }
        }
    }

    /// Records the `result` of change `i`'s task, which ran for `elapsed`.
    fn record(&mut self, i: usize, elapsed: Duration, result: TaskResult) {
        let c = &self.changes[i];
        if let Some(k) = c.serial_key.as_ref().filter(|_| c.action.writes()) {
            self.busy_keys.remove(k);
        }
        match result {
            Ok((live, outcome, note)) => {
                if c.action.writes() || c.wait {
                    self.events.emit(Event::Succeeded {
                        address: self.shown[i].clone(),
                        label: c.label.clone(),
                        action: c.action,
                        elapsed,
                        note,
                    });
                }
                self.known[i] = live.map(Known::Live);
                self.outcomes[i] = Some(outcome);
                self.state[i] = State::Done;
            }
            Err(e) => self.fail(i, e),
        }
    }

    /// Change `i` failed with `e`: an event, its outcome, and the error kept.
    fn fail(&mut self, i: usize, e: EngineError) {
        self.events.emit(Event::Failed {
            address: self.shown[i].clone(),
            label: self.changes[i].label.clone(),
            error: e.to_string(),
        });
        self.outcomes[i] = Some(Outcome::Failed {
            error: e.to_string(),
        });
        self.state[i] = State::Failed;
        self.failures.push((i, e));
    }

    /// The report of every change; an error when cancelled or when any failed.
    fn report(self, start: Instant) -> Result<ApplyReport, EngineError> {
        let Run {
            changes,
            state,
            outcomes,
            mut failures,
            cancel,
            ..
        } = self;
        let cancelled = cancel.is_cancelled()
            && state
                .iter()
                .any(|s| matches!(s, State::Pending | State::NotStarted));
        let report = ApplyReport {
            results: changes
                .iter()
                .zip(outcomes)
                .map(|(c, o)| (c.address.clone(), o.unwrap_or(Outcome::NotStarted)))
                .collect(),
            elapsed: start.elapsed(),
        };
        if cancelled {
            return Err(EngineError::Cancelled { report });
        }
        if !failures.is_empty() {
            failures.sort_by_key(|(i, _)| *i);
            return Err(EngineError::ApplyFailed {
                failures: failures.into_iter().map(|(_, e)| e).collect(),
                report,
            });
        }
        Ok(report)
    }
}

/// The address of a change for people before apply resolves it: the plan's
/// target when known, else the address with unknown values shown as such.
fn shown_address(c: &Change) -> Address {
    c.target
        .clone()
        .unwrap_or_else(|| Address(c.address.readable()))
}

/// Resolves the target address and the body to send with references
/// substituted (secrets stay markers until the task fills them in).
fn prepare(
    c: &Change,
    body: Option<&Value>,
    lookup: &dyn Fn(&Reference) -> Option<Value>,
) -> Result<(Address, Option<Value>), EngineError> {
    let target = if has_markers(&c.address) {
        match resolve_address(&c.address, lookup).or_else(|| c.target.clone()) {
            Some(t) => t,
            None => {
                return Err(EngineError::UnresolvedReference {
                    address: c.address.clone(),
                    label: c.label.clone(),
                    reference: c.address.readable(),
                    reason: "a value in the address is not known".into(),
                });
            }
        }
    } else {
        c.address.clone()
    };
    let body = match body {
        None => None,
        Some(b) => Some(substitute(b, Some(lookup), None).map_err(|e| match e {
            Unresolved::Reference(r) => EngineError::UnresolvedReference {
                address: c.address.clone(),
                label: c.label.clone(),
                reference: r.describe(),
                reason: format!("{} has no value at {}", r.address.readable(), r.pointer),
            },
            Unresolved::Secret(name) => EngineError::MissingSecret {
                address: c.address.clone(),
                label: c.label.clone(),
                name,
            },
        })?),
    };
    Ok((target, body))
}

enum Unresolved {
    Reference(Reference),
    Secret(String),
}

type RefLookup<'a> = &'a dyn Fn(&Reference) -> Option<Value>;
type SecretLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Replaces reference markers (when `refs` is given) and secret markers (when
/// `secret` is given); the other kind stays as marker text.
fn substitute(
    v: &Value,
    refs: Option<RefLookup<'_>>,
    secret: Option<SecretLookup<'_>>,
) -> Result<Value, Unresolved> {
    match v {
        Value::String(s) => {
            let segments = parse_markers(s);
            if segments.iter().all(|s| matches!(s, Segment::Text(_))) {
                return Ok(v.clone());
            }
            if let ([Segment::Ref(r)], Some(lookup)) = (segments.as_slice(), refs) {
                return lookup(r).ok_or_else(|| Unresolved::Reference(r.clone()));
            }
            let mut out = String::new();
            for seg in segments {
                match seg {
                    Segment::Text(t) => out.push_str(&t),
                    Segment::Ref(r) => match refs {
                        None => out.push_str(&r.marker()),
                        Some(lookup) => match lookup(&r) {
                            Some(x) => out.push_str(&value_as_text(&x)),
                            None => return Err(Unresolved::Reference(r)),
                        },
                    },
                    Segment::Secret(name) => match secret {
                        None => out.push_str(&name.marker()),
                        Some(get) => match get(&name.0) {
                            Some(value) => out.push_str(&value),
                            None => return Err(Unresolved::Secret(name.0)),
                        },
                    },
                }
            }
            Ok(Value::String(out))
        }
        Value::Array(a) => a
            .iter()
            .map(|x| substitute(x, refs, secret))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(o) => {
            let mut m = serde_json::Map::with_capacity(o.len());
            for (k, x) in o {
                m.insert(k.clone(), substitute(x, refs, secret)?);
            }
            Ok(Value::Object(m))
        }
        other => Ok(other.clone()),
    }
}

/// Names of the secrets a body needs.
fn secret_names(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => {
                for seg in parse_markers(s) {
                    if let Segment::Secret(name) = seg {
                        out.push(name.0);
                    }
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

/// One change in flight; owns everything it needs.
struct Task {
    backend: Arc<dyn Backend>,
    address: Address,
    label: String,
    target: Address,
    api: Api,
    action: Action,
    wait: bool,
    body: Option<Value>,
    secrets: Secrets,
    opts: ApplyOptions,
    observer: EventObserver,
}

impl Task {
    fn err(&self, operation: Operation, source: BackendError) -> EngineError {
        EngineError::Resource {
            address: self.address.clone(),
            label: self.label.clone(),
            operation,
            source,
        }
    }

    async fn run(self) -> TaskResult {
        match self.action {
            Action::NoOp | Action::Read => {
                // Re-read because the plan does not hold values flowing into
                // write-only properties, or wait until it is provisioned.
                let live = if self.wait {
                    Some(self.wait_settled(false).await?)
                } else {
                    self.backend
                        .read(&self.target, &self.api)
                        .await
                        .map_err(|e| self.err(Operation::Read, e))?
                };
                let outcome = if self.action == Action::Read {
                    Outcome::Read
                } else {
                    Outcome::Unchanged
                };
                Ok((live, outcome, None))
            }
            Action::Delete => {
                self.delete().await?;
                Ok((None, Outcome::Deleted, None))
            }
            Action::Create | Action::Update => {
                if self.wait {
                    // Still busy from an earlier run: a write now would conflict.
                    self.wait_settled(true).await?;
                }
                let (live, note) = self.write().await?;
                let outcome = match (note.is_some(), self.action) {
                    (true, _) => Outcome::AlreadyExisted,
                    (false, Action::Create) => Outcome::Created,
                    _ => Outcome::Updated,
                };
                Ok((Some(live), outcome, note))
            }
            Action::Replace => {
                self.delete().await?;
                let (live, note) = self.write().await?;
                Ok((Some(live), Outcome::Replaced, note))
            }
        }
    }

    async fn delete(&self) -> Result<(), EngineError> {
        match self
            .backend
            .delete(&self.target, &self.api, &self.observer)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.status() == Some(404) => Ok(()),
            Err(e) => Err(self.err(Operation::Delete, e)),
        }
    }

    /// Polls the resource until its provisioning state is no longer in progress.
    /// A state ending `Failed` is an error unless `then_write` (the write repairs it).
    async fn wait_settled(&self, then_write: bool) -> Result<Value, EngineError> {
        let started = Instant::now();
        let mut delay = self.opts.retry_initial_delay;
        loop {
            let live = self
                .backend
                .read(&self.target, &self.api)
                .await
                .map_err(|e| self.err(Operation::Read, e))?
                .ok_or_else(|| {
                    self.err(
                        Operation::Read,
                        BackendError::other("the resource disappeared while provisioning"),
                    )
                })?;
            let state = provisioning_state(&live).unwrap_or_default().to_string();
            self.observer.polled(&state, started.elapsed());
            if !is_provisioning(&live) {
                if is_failed(&state) && !then_write {
                    return Err(self.err(
                        Operation::Read,
                        BackendError::other(format!("its provisioning ended {state}")),
                    ));
                }
                return Ok(live);
            }
            if started.elapsed() + delay > self.opts.wait_timeout {
                return Err(self.err(
                    Operation::Read,
                    BackendError::other(format!(
                        "still {state} after {:?}",
                        self.opts.wait_timeout
                    )),
                ));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.opts.retry_max_delay.max(self.opts.retry_initial_delay));
        }
    }

    /// The body with every secret filled in; secrets from actions are fetched now.
    async fn body_with_secrets(&self) -> Result<Value, EngineError> {
        let body = self
            .body
            .clone()
            .unwrap_or(Value::Object(Default::default()));
        let mut fetched: HashMap<String, String> = HashMap::new();
        for name in secret_names(&body) {
            if fetched.contains_key(&name) {
                continue;
            }
            let value = match (self.secrets.get(&name), self.secrets.action(&name)) {
                (Some(s), _) => s.secret().to_string(),
                (None, Some(a)) => {
                    let result = self
                        .backend
                        .action(&a.address, &a.api_version, &a.action)
                        .await
                        .map_err(|source| EngineError::SecretUnavailable {
                            address: self.address.clone(),
                            label: self.label.clone(),
                            name: name.clone(),
                            reason: format!("{} on {} failed: {source}", a.action, a.address),
                        })?;
                    match pointer(&result, &a.pointer).and_then(Value::as_str) {
                        Some(s) if self.secrets.is_url_encoded(&name) => {
                            super::secrets::percent_encode(s)
                        }
                        Some(s) => s.to_string(),
                        None => {
                            return Err(EngineError::SecretUnavailable {
                                address: self.address.clone(),
                                label: self.label.clone(),
                                name: name.clone(),
                                reason: format!(
                                    "the result of {} on {} has no string at {}",
                                    a.action, a.address, a.pointer
                                ),
                            });
                        }
                    }
                }
                (None, None) => {
                    return Err(EngineError::MissingSecret {
                        address: self.address.clone(),
                        label: self.label.clone(),
                        name,
                    });
                }
            };
            super::secrets::remember_secret_value(&value);
            fetched.insert(name, value);
        }
        if fetched.is_empty() {
            return Ok(body);
        }
        let get = |name: &str| fetched.get(name).cloned();
        substitute(&body, None, Some(&get)).map_err(|e| {
            let name = match e {
                Unresolved::Secret(name) => name,
                Unresolved::Reference(r) => r.marker(),
            };
            EngineError::MissingSecret {
                address: self.address.clone(),
                label: self.label.clone(),
                name,
            }
        })
    }

    async fn write(&self) -> Result<(Value, Option<String>), EngineError> {
        let body = self.body_with_secrets().await?;
        let is_role_assignment = matches!(&self.api, Api::Arm { type_name, .. }
            if type_name.eq_ignore_ascii_case(ROLE_ASSIGNMENT_TYPE));
        let started = Instant::now();
        let mut delay = self.opts.retry_initial_delay;
        loop {
            match self
                .backend
                .write(&self.target, &self.api, &body, &self.observer)
                .await
            {
                Ok(live) => return Ok((live, None)),
                Err(e) if is_role_assignment && e.is_code("RoleAssignmentExists") => {
                    let mut live = body.clone();
                    if let Value::Object(m) = &mut live {
                        m.insert("id".into(), Value::String(self.target.to_string()));
                    }
                    return Ok((
                        live,
                        Some("the role assignment already exists (under another name); treated as done".into()),
                    ));
                }
                Err(e) if started.elapsed() + delay <= self.opts.principal_retry_timeout => {
                    let reason = if is_role_assignment && e.is_code("PrincipalNotFound") {
                        Some("PrincipalNotFound: the principal is not replicated yet")
                    } else {
                        e.propagation_delay()
                    };
                    let Some(reason) = reason else {
                        return Err(self.err(Operation::Write, e));
                    };
                    self.observer.retrying(reason, delay);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2)
                        .min(self.opts.retry_max_delay.max(self.opts.retry_initial_delay));
                }
                Err(e) => return Err(self.err(Operation::Write, e)),
            }
        }
    }
}
