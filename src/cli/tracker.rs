//! What an apply's progress display knows besides the events themselves: how
//! many planned writes are finished, what each resource not started yet waits
//! for, and an estimate of the time left (the critical path of what remains,
//! from each type's typical duration, as the sandbox models Azure's).

use crate::engine::{Action, Api, Change, Event, Plan};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One resource the apply works on (a write, or a wait for Azure to finish).
#[derive(Debug)]
struct Item {
    label: String,
    writes: bool,
    estimate: Duration,
    deps: Vec<usize>,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Running(Instant),
    Finished,
}

/// Progress of one apply, fed with its events.
#[derive(Debug)]
pub struct Tracker {
    items: Vec<Item>,
    index: HashMap<String, usize>,
    scale: f64,
}

/// Resources not started yet that wait for one running resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// How many.
    pub count: usize,
    /// The label of the running resource they wait for.
    pub on: String,
}

impl Tracker {
    /// A tracker for `plan`; typical durations are multiplied by `scale` (the
    /// embedded sandbox's time scale, 1 for Azure).
    pub fn new(plan: &Plan, scale: f64) -> Tracker {
        let tracked: Vec<&Change> = plan
            .changes
            .iter()
            .filter(|c| c.action.writes() || c.wait)
            .collect();
        let index: HashMap<String, usize> = tracked
            .iter()
            .enumerate()
            .map(|(i, c)| (key(c.address.as_str()), i))
            .collect();
        let items = tracked
            .iter()
            .map(|c| Item {
                label: c.label.clone(),
                writes: c.action.writes(),
                estimate: typical_duration(&c.api, c.action),
                deps: c
                    .depends_on
                    .iter()
                    .filter_map(|d| index.get(&key(d.as_str())).copied())
                    .collect(),
                state: State::Pending,
            })
            .collect();
        Tracker {
            items,
            index,
            scale: if scale.is_finite() && scale > 0.0 {
                scale
            } else {
                1.0
            },
        }
    }

    /// Record one event.
    pub fn record(&mut self, event: &Event) {
        let (address, state) = match event {
            Event::Started { address, .. } => (address, State::Running(Instant::now())),
            Event::Succeeded { address, .. }
            | Event::Failed { address, .. }
            | Event::Skipped { address, .. } => (address, State::Finished),
            Event::Polled { .. } | Event::Retrying { .. } => return,
        };
        if let Some(&i) = self.index.get(&key(address.as_str())) {
            self.items[i].state = state;
        }
    }

    /// Planned writes finished (succeeded, failed or skipped), and all planned writes.
    pub fn writes_done(&self) -> (u64, u64) {
        let writes = self.items.iter().filter(|i| i.writes);
        let done = writes
            .clone()
            .filter(|i| i.state == State::Finished)
            .count();
        (done as u64, writes.count() as u64)
    }

    /// How many resources are running now.
    pub fn running(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i.state, State::Running(_)))
            .count()
    }

    /// The longest chain of remaining work, from typical durations (a running
    /// resource counts what is left of its typical duration).
    pub fn time_left(&self) -> Duration {
        let mut memo: Vec<Option<Duration>> = vec![None; self.items.len()];
        let longest = (0..self.items.len())
            .map(|i| self.chain(i, &mut memo, 0))
            .max()
            .unwrap_or_default();
        longest.mul_f64(self.scale)
    }

    fn chain(&self, i: usize, memo: &mut Vec<Option<Duration>>, depth: usize) -> Duration {
        if let Some(d) = memo[i] {
            return d;
        }
        let item = &self.items[i];
        let own = match item.state {
            State::Finished => Duration::ZERO,
            State::Pending => item.estimate,
            State::Running(since) => self.remaining(item, since),
        };
        // Depth-bounded: the plan's dependencies form no cycle, but stay safe.
        let before = if depth > self.items.len() || item.state != State::Pending {
            Duration::ZERO
        } else {
            item.deps
                .iter()
                .map(|&d| self.chain(d, memo, depth + 1))
                .max()
                .unwrap_or_default()
        };
        let total = if item.state == State::Finished {
            Duration::ZERO
        } else {
            before + own
        };
        memo[i] = Some(total);
        total
    }

    /// Resources not started yet, grouped by what they wait for: of everything
    /// unfinished they depend on (directly or not), the resource with the most
    /// of its own work left (API Management, typically). Largest group first.
    pub fn waiting(&self) -> Vec<Waiting> {
        let mut groups: HashMap<usize, usize> = HashMap::new();
        for i in 0..self.items.len() {
            if self.items[i].state != State::Pending {
                continue;
            }
            if let Some(on) = self.blocker(i) {
                *groups.entry(on).or_default() += 1;
            }
        }
        let mut out: Vec<(usize, usize)> = groups.into_iter().collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        out.into_iter()
            .map(|(on, count)| Waiting {
                count,
                on: self.items[on].label.clone(),
            })
            .collect()
    }

    /// What is left of a running item's typical duration (unscaled).
    fn remaining(&self, item: &Item, since: Instant) -> Duration {
        item.estimate
            .saturating_sub(since.elapsed().div_f64(self.scale))
    }

    /// What `i` waits for: among the unfinished resources it depends on
    /// (directly or not), the one with the most of its own work left.
    fn blocker(&self, i: usize) -> Option<usize> {
        let mut seen = vec![false; self.items.len()];
        let mut stack = self.items[i].deps.clone();
        let mut best: Option<(Duration, usize)> = None;
        while let Some(d) = stack.pop() {
            if std::mem::replace(&mut seen[d], true) {
                continue;
            }
            let left = match self.items[d].state {
                State::Finished => continue,
                State::Running(since) => self.remaining(&self.items[d], since),
                State::Pending => {
                    stack.extend(self.items[d].deps.iter().copied());
                    self.items[d].estimate
                }
            };
            if best.is_none_or(|(l, _)| left > l) {
                best = Some((left, d));
            }
        }
        best.map(|(_, d)| d)
    }

    /// One line for people: `about 3m 10s left; 21 waiting for API Management
    /// apim-x` (empty when nothing is left).
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let left = self.time_left();
        if !left.is_zero() {
            parts.push(format!("about {} left", short_duration(left)));
        }
        let waiting = self.waiting();
        if let Some(first) = waiting.first() {
            let mut text = format!("{} waiting for {}", first.count, first.on);
            let others: usize = waiting.iter().skip(1).map(|w| w.count).sum();
            if others > 0 {
                text.push_str(&format!(" (+{others} for others)"));
            }
            parts.push(text);
        }
        parts.join("; ")
    }
}

fn key(address: &str) -> String {
    address.to_ascii_lowercase()
}

/// The typical duration of `action` on a resource of `api`'s type (Graph
/// objects and reads: none), from the durations the sandbox models.
fn typical_duration(api: &Api, action: Action) -> Duration {
    let Some(type_name) = api.type_name() else {
        return Duration::ZERO;
    };
    let methods: &[&str] = match action {
        Action::Create | Action::Update | Action::NoOp => &["PUT"],
        Action::Replace => &["DELETE", "PUT"],
        Action::Delete => &["DELETE"],
        Action::Read => &[],
    };
    methods
        .iter()
        .map(|m| crate::sandbox::default_duration(type_name, m))
        .sum()
}

/// `45m`, `2m 10s`, `40s`, `<1s`.
pub fn short_duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0 => "<1s".into(),
        1..=59 => format!("{secs}s"),
        _ if secs.is_multiple_of(60) || secs >= 600 => format!("{}m", secs.div_ceil(60)),
        _ => format!("{}m {}s", secs / 60, secs % 60),
    }
}
