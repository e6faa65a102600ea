//! Deployment benchmark (issue 7): `up` against the in-process sandbox with its
//! realistic durations scaled, reported as ratios.
//!
//! Run: `cargo bench --profile dev --bench deploy` (no release build needed; the
//! measured times are dominated by the sandbox's scaled durations, not CPU).
//! Environment: `OWUI_BENCH_SCALE` (default 0.002), `OWUI_BENCH_QUICK=1` (skip the
//! largest scale points), `OWUI_BENCH_NO_WRITE=1` (print only; do not rewrite
//! `docs/benchmarks.md` and `docs/benchmarks-makespan.svg`).

#[path = "../tests/evidence_support/mod.rs"]
mod evidence_support;

use evidence_support::*;
use owui_deploy::engine::{
    Action, Address, Api, CancelToken, EngineError, Event, EventSink, Model, Plan,
    ROLE_ASSIGNMENT_TYPE, Stage,
};
use owui_deploy::sandbox::default_duration;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Realistic replication delay of a new principal (the sandbox's default).
const PRINCIPAL_DELAY_SECS: f64 = 60.0;

/// One configuration's makespan and bound, for the table and the plot.
struct Point {
    label: String,
    makespan: Duration,
    bound: Duration,
    requests: usize,
    failures: usize,
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary
    // without it, and must not spend minutes rewriting the docs.
    let benching = std::env::args().any(|a| a == "--bench");
    if std::env::var_os(MEMORY_PROBE_VAR).is_some() {
        rt.block_on(memory_probe(env_f64("OWUI_BENCH_SCALE", 0.002)));
    } else if benching {
        rt.block_on(run());
    } else {
        println!("deploy benchmark: run it with `cargo bench --profile dev --bench deploy`");
    }
}

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1" || v == "true")
}

fn met(ok: bool) -> &'static str {
    if ok { "yes" } else { "**no**" }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn ratio(a: Duration, b: Duration) -> f64 {
    if b.is_zero() {
        f64::NAN
    } else {
        a.as_secs_f64() / b.as_secs_f64()
    }
}

/// The sandbox's long-running types (lower-case) from `GET /_sandbox/durations`.
async fn long_running_types(world: &World) -> Vec<String> {
    match world.get("/_sandbox/durations").await {
        Value::Array(a) => a
            .iter()
            .filter(|t| t["long_running"] == true)
            .filter_map(|t| t["type"].as_str().map(str::to_ascii_lowercase))
            .collect(),
        _ => Vec::new(),
    }
}

fn method_of(action: Action) -> &'static [&'static str] {
    match action {
        Action::Create => &["PUT"],
        Action::Update => &["PATCH"],
        Action::Replace => &["DELETE", "PUT"],
        Action::Delete => &["DELETE"],
        Action::Read | Action::NoOp => &[],
    }
}

fn realistic(api: &Api, action: Action) -> f64 {
    match api.type_name() {
        Some(t) => method_of(action)
            .iter()
            .map(|m| default_duration(t, m).as_secs_f64())
            .sum(),
        None => 0.0,
    }
}

/// The critical-path lower bound of applying `plan` (realistic seconds): the
/// longest chain of durations along the model's dependency edges, the plan's own
/// dependencies (deletes), and the serial-key chains (writes sharing a key run one
/// at a time, in plan order). A role assignment to a principal created in the same
/// run cannot succeed before the principal's replication delay has passed since
/// its creation started (the sandbox's PrincipalNotFound window).
///
/// Only changes in `done` count (a change that failed or was skipped did not
/// take its duration, so the makespan is compared with the work actually done).
fn critical_path(model: &Model, plan: &Plan, done: &dyn Fn(&Address) -> bool) -> f64 {
    let n = plan.changes.len();
    let index: HashMap<&Address, usize> = plan
        .changes
        .iter()
        .enumerate()
        .map(|(i, c)| (&c.address, i))
        .collect();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut principal_of: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in model.edges() {
        if let (Some(&a), Some(&b)) = (index.get(&e.from), index.get(&e.to)) {
            deps[a].push(b);
            let c = &plan.changes[a];
            let is_ra = c
                .api
                .type_name()
                .is_some_and(|t| t.eq_ignore_ascii_case(ROLE_ASSIGNMENT_TYPE));
            let carries_principal = e.values.iter().any(|v| {
                v.to_ascii_lowercase().contains("principalid")
                    || matches!(plan.changes[b].api, Api::Graph { .. })
            });
            if is_ra && carries_principal {
                principal_of[a].push(b);
            }
        }
    }
    for (i, c) in plan.changes.iter().enumerate() {
        for d in &c.depends_on {
            if let Some(&j) = index.get(d)
                && !deps[i].contains(&j)
            {
                deps[i].push(j);
            }
        }
    }
    let mut last_by_key: HashMap<&str, usize> = HashMap::new();
    for (i, c) in plan.changes.iter().enumerate() {
        if !c.action.writes() {
            continue;
        }
        if let Some(k) = c.serial_key.as_deref() {
            if let Some(&prev) = last_by_key.get(k) {
                deps[i].push(prev);
            }
            last_by_key.insert(k, i);
        }
    }
    let dur: Vec<f64> = plan
        .changes
        .iter()
        .map(|c| {
            if done(&c.address) {
                realistic(&c.api, c.action)
            } else {
                0.0
            }
        })
        .collect();
    // Earliest finish by repeated relaxation (the graph is acyclic and small).
    let mut finish = vec![0.0f64; n];
    for _ in 0..=n {
        let mut changed = false;
        for i in 0..n {
            let start = deps[i].iter().map(|&j| finish[j]).fold(0.0, f64::max);
            let mut f = start + dur[i];
            if plan.changes[i].action == Action::Create {
                for &p in &principal_of[i] {
                    if plan.changes[p].action == Action::Create {
                        let principal_start = finish[p] - dur[p];
                        f = f.max(principal_start + PRINCIPAL_DELAY_SECS);
                    }
                }
            }
            if f > finish[i] + 1e-9 {
                finish[i] = f;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    finish.into_iter().fold(0.0, f64::max)
}

/// Events of one run, collected.
#[derive(Clone, Default)]
struct Collected(Arc<Mutex<Vec<Event>>>);

impl Collected {
    fn sink(&self) -> EventSink {
        let store = self.0.clone();
        EventSink::new(move |e| {
            if let Ok(mut v) = store.lock() {
                v.push(e);
            }
        })
    }
    fn take(&self) -> Vec<Event> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// Result of one `up` into a fresh sandbox.
struct Measured {
    run: UpRun,
    bound: Duration,
    journal: Vec<Value>,
    events: Vec<Event>,
    model: Model,
}

fn failures_of(run: &UpRun) -> usize {
    match &run.result {
        Some(Ok(r)) | Some(Err(EngineError::ApplyFailed { report: r, .. })) => {
            r.results.iter().filter(|(_, o)| !o.is_success()).count()
        }
        Some(Err(_)) => 1,
        None => usize::from(run.plan_error.is_some()),
    }
}

async fn up_in(world: &World, d: &Deployment, stages: &[Stage]) -> Measured {
    let scale = world.time_scale;
    let model = d.model(stages);
    let backend = world.backend(&d.loaded.env.azure.tenant_id, client_settings(scale));
    let before = world
        .journal()
        .await
        .last()
        .map(|e| e["seq"].as_u64().unwrap_or(0));
    let events = Collected::default();
    let run = up(
        backend,
        &model,
        &d.loaded.env.name,
        &d.secrets,
        &apply_options(scale),
        events.sink(),
        CancelToken::new(),
    )
    .await;
    let report = match &run.result {
        Some(Ok(r)) | Some(Err(EngineError::ApplyFailed { report: r, .. })) => Some(r.clone()),
        _ => None,
    };
    let done = |a: &Address| {
        report
            .as_ref()
            .is_none_or(|r| r.outcome(a).is_none_or(|o| o.is_success()))
    };
    let bound = match &run.plan {
        Some(p) => Duration::from_secs_f64(critical_path(&model, p, &done) * scale),
        None => Duration::ZERO,
    };
    let journal = world.journal_since(before.unwrap_or(0)).await;
    Measured {
        run,
        bound,
        journal,
        events: events.take(),
        model,
    }
}

/// Polls per long-running operation vs duration / Retry-After.
struct PollStats {
    lros: usize,
    within: usize,
    worst_excess: i64,
    worst: String,
    total_polls: usize,
    total_expected: f64,
    min_gap_ratio: f64,
}

fn poll_stats(m: &Measured, long_running: &[String], scale: f64) -> PollStats {
    let plan = m.run.plan.as_ref();
    let mut polls: BTreeMap<String, usize> = BTreeMap::new();
    for e in &m.events {
        if let Event::Polled { address, .. } = e {
            *polls.entry(address.to_string()).or_default() += 1;
        }
    }
    let mut s = PollStats {
        lros: 0,
        within: 0,
        worst_excess: i64::MIN,
        worst: String::new(),
        total_polls: 0,
        total_expected: 0.0,
        min_gap_ratio: f64::INFINITY,
    };
    for c in plan.map(|p| p.changes.as_slice()).unwrap_or_default() {
        let Some(t) = c.api.type_name() else { continue };
        if !c.action.writes() || !long_running.contains(&t.to_ascii_lowercase()) {
            continue;
        }
        let dur = realistic(&c.api, c.action);
        let interval = (dur / 40.0).clamp(1.0, 30.0);
        let expected = (dur / interval).ceil();
        let got = polls.get(c.address.as_str()).copied().unwrap_or(0);
        s.lros += 1;
        s.total_polls += got;
        s.total_expected += expected;
        let excess = got as i64 - expected as i64;
        if got as f64 <= expected + 2.0 {
            s.within += 1;
        }
        if excess > s.worst_excess {
            s.worst_excess = excess;
            s.worst = format!("{} ({got} polls, {expected} expected)", c.label);
        }
    }
    // Busy polling: the shortest gap between two polls of one operation, relative
    // to the interval the sandbox announced for an operation of that namespace's
    // shortest LRO (1 s realistic, scaled) - a lower bound of any announced interval.
    let mut by_op: BTreeMap<String, Vec<i128>> = BTreeMap::new();
    for e in m.journal.iter().filter(|e| is_poll(e)) {
        let path = e["path"].as_str().unwrap_or_default();
        let op = path.split('?').next().unwrap_or_default().to_string();
        if let Some(t) = e["time"].as_str().and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        }) {
            by_op
                .entry(op)
                .or_default()
                .push(t.unix_timestamp_nanos() / 1_000_000);
        }
    }
    let floor_ms = 1000.0 * scale;
    for times in by_op.values_mut() {
        times.sort();
        for w in times.windows(2) {
            let gap = (w[1] - w[0]) as f64;
            s.min_gap_ratio = s.min_gap_ratio.min(gap / floor_ms);
        }
    }
    if s.worst_excess == i64::MIN {
        s.worst_excess = 0;
    }
    s
}

/// Per write: its wall time minus its scaled sandbox duration (request round-trips,
/// poll granularity, retries). Returns (median, p90, max, the max's label) in ms.
fn overheads(m: &Measured, scale: f64) -> (f64, f64, f64, String) {
    let Some(plan) = m.run.plan.as_ref() else {
        return (0.0, 0.0, 0.0, String::new());
    };
    let mut v: Vec<(f64, String)> = Vec::new();
    for e in &m.events {
        if let Event::Succeeded {
            address,
            label,
            action,
            elapsed,
            ..
        } = e
            && let Some(c) = plan.changes.iter().find(|c| &c.address == address)
        {
            let d = realistic(&c.api, *action) * scale;
            v.push(((elapsed.as_secs_f64() - d) * 1e3, label.clone()));
        }
    }
    if v.is_empty() {
        return (0.0, 0.0, 0.0, String::new());
    }
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize].0;
    let (max, label) = v[v.len() - 1].clone();
    (at(0.5), at(0.9), max, label)
}

async fn fresh(scale: f64, seed: u64) -> World {
    World::start(scale, seed).await
}

fn cli_time(args: &[&str], dir: &std::path::Path, runs: usize) -> (Duration, Duration) {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_owui-deploy"))
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .output()
            .expect("run owui-deploy");
        times.push(t.elapsed());
        assert!(
            out.status.success(),
            "owui-deploy {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    times.sort();
    (times[times.len() / 2], times[times.len() - 1])
}

/// Peak resident memory of `up`: the built binary under `/usr/bin/time -v` when
/// it has an `up` command, else this process's VmHWM (reset first through
/// `/proc/self/clear_refs`) around an in-process `up` (which includes the sandbox).
async fn peak_memory(scale: f64, dir: &std::path::Path) -> String {
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_owui-deploy"))
        .arg("--help")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let has_up = help.lines().any(|l| l.trim_start().starts_with("up "));
    if has_up && std::path::Path::new("/usr/bin/time").exists() {
        let world = fresh(scale, 7).await;
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, world.sandbox.ca_pem()).expect("write CA");
        let env_file = dir.join("mem.toml");
        std::fs::write(&env_file, sandbox_env_text()).expect("write env");
        let url = world.sandbox.url();
        let env_file2 = env_file.clone();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("/usr/bin/time")
                .arg("-v")
                .arg(env!("CARGO_BIN_EXE_owui-deploy"))
                .args(["up", "--yes", "--no-progress"])
                .env("OWUI_SANDBOX_URL", url)
                .env("OWUI_SANDBOX_CA", ca)
                .env("OWUI_ENV", env_file2)
                .env("OWUI_POSTGRES_ADMIN_PASSWORD", test_password("mem"))
                .env("NO_COLOR", "1")
                .output()
        })
        .await
        .expect("join")
        .expect("run /usr/bin/time");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let kb = stderr
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .and_then(|v| v.trim().parse::<u64>().ok());
        return match kb {
            Some(kb) => format!(
                "{:.1} MiB (`/usr/bin/time -v owui-deploy up --yes` against a separate sandbox, exit {})",
                kb as f64 / 1024.0,
                out.status.code().unwrap_or(-1)
            ),
            None => "not measured (/usr/bin/time gave no maximum resident set size)".into(),
        };
    }
    // A fresh process of this benchmark doing only an in-process `up`.
    let exe = std::env::current_exe().expect("current exe");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(exe)
            .env(MEMORY_PROBE_VAR, "1")
            .output()
    })
    .await
    .expect("join")
    .expect("memory probe");
    let kb = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM-kB: "))
        .and_then(|v| v.trim().parse::<u64>().ok());
    match kb {
        Some(kb) => format!(
            "{:.1} MiB (VmHWM of a fresh benchmark process doing one in-process `up`, the sandbox included; the binary has no `up` command yet)",
            kb as f64 / 1024.0
        ),
        None => "not measured (/proc/self/status unavailable)".into(),
    }
}

/// Set in the child process that measures peak memory.
const MEMORY_PROBE_VAR: &str = "OWUI_BENCH_MEMORY_PROBE";

/// The child: one `up` into an in-process sandbox, then print VmHWM.
async fn memory_probe(scale: f64) {
    let world = fresh(scale, 7).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = load_env(
        tmp.path(),
        "sandbox",
        &sandbox_env_text(),
        &test_password("mem"),
    );
    let _ = up_in(&world, &d, UP).await;
    if let Some(kb) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
    {
        println!("VmHWM-kB: {kb}");
    }
}

fn svg(points: &[Point]) -> String {
    let w = 760.0;
    let row = 34.0;
    let left = 230.0;
    let top = 50.0;
    let h = top + row * points.len() as f64 + 50.0;
    let max = points
        .iter()
        .map(|p| p.makespan.max(p.bound).as_secs_f64())
        .fold(0.0, f64::max)
        .max(1e-9);
    let scale = (w - left - 90.0) / max;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">"##
    );
    let _ = writeln!(
        s,
        r##"<rect width="100%" height="100%" fill="white"/><text x="10" y="20" font-size="15" font-weight="bold">owui-deploy up: makespan vs critical-path bound (sandbox seconds)</text>"##
    );
    let _ = writeln!(
        s,
        r##"<rect x="{left}" y="28" width="12" height="10" fill="#4e79a7"/><text x="{}" y="37">makespan (plan + apply)</text><rect x="{}" y="28" width="12" height="10" fill="#f28e2b"/><text x="{}" y="37">critical-path bound</text>"##,
        left + 16.0,
        left + 190.0,
        left + 206.0
    );
    for (i, p) in points.iter().enumerate() {
        let y = top + row * i as f64;
        let mw = p.makespan.as_secs_f64() * scale;
        let bw = p.bound.as_secs_f64() * scale;
        let label = p.label.replace('&', "&amp;").replace('<', "&lt;");
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end">{label}</text><rect x="{left}" y="{y}" width="{mw:.1}" height="13" fill="#4e79a7"/><rect x="{left}" y="{}" width="{bw:.1}" height="13" fill="#f28e2b"/><text x="{:.1}" y="{}">{:.2} s / {:.2} s = {:.2}</text>"##,
            left - 8.0,
            y + 17.0,
            y + 14.0,
            left + mw.max(bw) + 6.0,
            y + 17.0,
            p.makespan.as_secs_f64(),
            p.bound.as_secs_f64(),
            ratio(p.makespan, p.bound)
        );
    }
    let _ = writeln!(s, "</svg>");
    s
}

async fn run() {
    let scale = env_f64("OWUI_BENCH_SCALE", 0.002);
    let quick = flag("OWUI_BENCH_QUICK");
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tempdir");
    let base = sandbox_env_text();
    let mut md = String::new();
    let mut points: Vec<Point> = Vec::new();
    let _ = writeln!(
        md,
        "Time scale {scale} (APIM's 2700 s realistic creation = {:.1} s). Ratios are what matters; seconds are sandbox seconds.\n",
        2700.0 * scale
    );

    // 1. up from empty, unthrottled.
    eprintln!("[bench] up from empty");
    let world = fresh(scale, 1).await;
    let long_running = long_running_types(&world).await;
    let d = load_env(tmp.path(), "sandbox", &base, &test_password("bench"));
    let m = up_in(&world, &d, UP).await;
    let base_run = m.run.elapsed;
    let base_apply = m.run.apply_elapsed;
    let base_failures = failures_of(&m.run);
    let t = traffic(&m.journal);
    let writes_planned = m
        .run
        .plan
        .as_ref()
        .map(|p| p.changes.iter().filter(|c| c.action.writes()).count())
        .unwrap_or(0);
    points.push(Point {
        label: "up (3 deployments)".into(),
        makespan: base_run,
        bound: m.bound,
        requests: t.requests,
        failures: base_failures,
    });
    let polls = poll_stats(&m, &long_running, scale);
    let _ = writeln!(md, "| Measure | Value | Target | Met |\n|---|---|---|---|");
    let _ = writeln!(
        md,
        "| `up` from empty: resources in the model / writes | {} / {} | | |",
        m.model.resources.len(),
        writes_planned,
    );
    let _ = writeln!(
        md,
        "| `up` makespan (plan + apply) / critical-path bound | {} / {} = **{:.3}** | <= 1.05 | {} |",
        secs(base_run),
        secs(m.bound),
        ratio(base_run, m.bound),
        met(ratio(base_run, m.bound) <= 1.05),
    );
    let _ = writeln!(
        md,
        "| apply alone / bound | {} / {} = {:.3} | | |",
        secs(base_apply),
        secs(m.bound),
        ratio(base_apply, m.bound),
    );
    let _ = writeln!(
        md,
        "| failed or skipped resources in that run | {base_failures}{} | 0 | {} |",
        m.run
            .error_text()
            .map(|e| format!(
                " (`{}`)",
                e.lines()
                    .nth(1)
                    .unwrap_or_default()
                    .trim()
                    .chars()
                    .take(160)
                    .collect::<String>()
                    .replace('|', "/")
            ))
            .unwrap_or_default(),
        met(base_failures == 0),
    );
    let _ = writeln!(
        md,
        "| requests (ARM + Graph) / writes / reads / operation polls | {} / {} / {} / {} | | |",
        t.requests, t.writes, t.reads, t.polls,
    );
    let _ = writeln!(
        md,
        "| polls per LRO within duration / Retry-After + 2 | {} of {} (total {} polls, {:.0} expected; worst: {}) | all | {} |",
        polls.within,
        polls.lros,
        polls.total_polls,
        polls.total_expected,
        polls.worst,
        met(polls.within == polls.lros),
    );
    let (o50, o90, omax, olabel) = overheads(&m, scale);
    let _ = writeln!(
        md,
        "| per write: wall time minus its scaled sandbox duration, median / p90 / max | {o50:.0} / {o90:.0} / {omax:.0} ms (max: {olabel}) | | |"
    );
    let _ = writeln!(
        md,
        "| shortest gap between two polls of one operation / shortest announced interval (1 s scaled) | {:.2} | >= 1 (no busy polling) | {} |",
        polls.min_gap_ratio,
        met(polls.min_gap_ratio >= 1.0),
    );

    // 2. No-op re-runs.
    eprintln!("[bench] no-op plan and up");
    let backend = world.backend(&d.loaded.env.azure.tenant_id, client_settings(scale));
    let mark = world
        .journal()
        .await
        .last()
        .map(|e| e["seq"].as_u64().unwrap_or(0))
        .unwrap_or(0);
    let t0 = Instant::now();
    let replan = plan_only(&backend, &m.model, &d.loaded.env.name).await;
    let plan_wall = t0.elapsed();
    let plan_traffic = traffic(&world.journal_since(mark).await);
    let plan_changes = replan.as_ref().map(plan_writes).unwrap_or_default();
    let nres = m.model.resources.len().max(1);
    // Discoveries list what the environment owns (one GET each) on top of the reads.
    let ndisc = m.model.discoveries.len();
    let _ = writeln!(
        md,
        "| no-op `plan`: writes / reads per resource (without the {} discovery listings) / LRO polls / wall | {} / {:.2} ({:.2}) / {} / {} | 0 / <= 1 / 0 | {} |",
        ndisc,
        plan_traffic.writes,
        plan_traffic.reads as f64 / nres as f64,
        plan_traffic.reads.saturating_sub(ndisc) as f64 / nres as f64,
        plan_traffic.polls,
        secs(plan_wall),
        met(plan_traffic.writes == 0
            && plan_traffic.reads.saturating_sub(ndisc) <= nres
            && plan_traffic.polls == 0),
    );
    let _ = writeln!(
        md,
        "| changes that no-op `plan` still shows | {}{} | 0 | {} |",
        plan_changes.len(),
        if plan_changes.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                plan_changes
                    .iter()
                    .map(|c| c.rsplit('/').next().unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        met(plan_changes.is_empty()),
    );
    let mark = world
        .journal()
        .await
        .last()
        .map(|e| e["seq"].as_u64().unwrap_or(0))
        .unwrap_or(0);
    let again = up_in(&world, &d, UP).await;
    let again_traffic = traffic(&world.journal_since(mark).await);
    let _ = writeln!(
        md,
        "| second `up`: writes / reads per resource (without discovery listings) / wall | {} / {:.2} ({:.2}) / {} | 0 / <= 1 | {} |",
        again_traffic.writes,
        again_traffic.reads as f64 / nres as f64,
        again_traffic.reads.saturating_sub(ndisc) as f64 / nres as f64,
        secs(again.run.elapsed),
        met(again_traffic.writes == 0 && again_traffic.reads.saturating_sub(ndisc) <= nres),
    );
    world
        .set_faults(json!([{ "path": "", "kind": "latency", "latency_ms": 50 }]))
        .await;
    // A new backend: its first token request pays the latency too, as a new CLI run does.
    let slow_backend = world.backend(&d.loaded.env.azure.tenant_id, client_settings(scale));
    let t0 = Instant::now();
    let _ = plan_only(&slow_backend, &m.model, &d.loaded.env.name).await;
    let slow_plan = t0.elapsed();
    let slow_up = up_in(&world, &d, UP).await;
    world.clear_faults().await;
    let _ = writeln!(
        md,
        "| no-op `plan` with 50 ms latency per request: wall / 50 ms | {} = **{:.1} round-trips** | <= 10 | {} |",
        secs(slow_plan),
        slow_plan.as_secs_f64() / 0.05,
        met(slow_plan.as_secs_f64() / 0.05 <= 10.0),
    );
    let _ = writeln!(
        md,
        "| no-op `up` with 50 ms latency per request: wall / 50 ms | {} = {:.1} round-trips | <= 10 | {} |",
        secs(slow_up.run.elapsed),
        slow_up.run.elapsed.as_secs_f64() / 0.05,
        met(slow_up.run.elapsed.as_secs_f64() / 0.05 <= 10.0),
    );
    drop(world);

    // 3. The quickstart's procedure: hub, then spoke, then finalize.
    eprintln!("[bench] staged");
    let world = fresh(scale, 2).await;
    let mut staged = Duration::ZERO;
    let mut staged_failures = 0;
    let mut staged_requests = 0;
    for stage in Stage::ALL {
        let m = up_in(&world, &d, &[stage]).await;
        staged += m.run.elapsed;
        staged_failures += failures_of(&m.run);
        staged_requests += traffic(&m.journal).requests;
    }
    drop(world);
    let _ = writeln!(
        md,
        "| `up` / staged (hub, spoke, finalize one after another) | {} / {} = **{:.3}** (staged failures {staged_failures}, requests {staged_requests}) | <= 0.80 | {} |",
        secs(base_run),
        secs(staged),
        ratio(base_run, staged),
        met(ratio(base_run, staged) <= 0.80),
    );

    // 4. Throttled: 20 % of ARM and Graph requests answered 429, Retry-After 1 s.
    eprintln!("[bench] throttled");
    let world = fresh(scale, 42).await;
    world
        .set_faults(json!([
            { "path": "/subscriptions/*", "kind": "status", "status": 429, "retry_after_secs": 1, "probability": 0.2 },
            { "path": "/v1.0/*", "kind": "status", "status": 429, "retry_after_secs": 1, "probability": 0.2 }
        ]))
        .await;
    let th = up_in(&world, &d, UP).await;
    let th_traffic = traffic(&th.journal);
    drop(world);
    let th_failures = failures_of(&th.run);
    points.push(Point {
        label: "up, 20 % 429".into(),
        makespan: th.run.elapsed,
        bound: th.bound,
        requests: th_traffic.requests,
        failures: th_failures,
    });
    let _ = writeln!(
        md,
        "| throttled (20 % 429, Retry-After 1 s scaled, seed 42): makespan / unthrottled | {} / {} = **{:.3}** ({} of {} requests throttled) | <= 1.25 | {} |",
        secs(th.run.elapsed),
        secs(base_run),
        ratio(th.run.elapsed, base_run),
        th_traffic.faulted,
        th_traffic.requests,
        met(ratio(th.run.elapsed, base_run) <= 1.25),
    );
    let _ = writeln!(
        md,
        "| throttled: failed resources beyond the unthrottled run's | {} | 0 | {} |",
        th_failures.saturating_sub(base_failures),
        met(th_failures.saturating_sub(base_failures) == 0),
    );

    // 5. Scale: model deployments.
    let mut scale_md = String::new();
    let _ = writeln!(
        scale_md,
        "\n### Scale\n\n| Configuration | Resources | Makespan | Bound | Ratio | Requests | Requests / resource | Failed |\n|---|---|---|---|---|---|---|---|"
    );
    let dep_counts: &[usize] = if quick { &[1, 10] } else { &[1, 10, 50] };
    for &n in dep_counts {
        eprintln!("[bench] {n} model deployments");
        let world = fresh(scale, 3).await;
        let text = with_deployments(&base, n);
        let dn = load_env(
            tmp.path(),
            &format!("deps{n}"),
            &text,
            &test_password("deps"),
        );
        let m = up_in(&world, &dn, UP).await;
        drop(world);
        let tr = traffic(&m.journal);
        let f = failures_of(&m.run);
        let _ = writeln!(
            scale_md,
            "| {n} model deployment(s), 1 environment | {} | {} | {} | {:.3} | {} | {:.1} | {f} |",
            m.model.resources.len(),
            secs(m.run.elapsed),
            secs(m.bound),
            ratio(m.run.elapsed, m.bound),
            tr.requests,
            tr.requests as f64 / m.model.resources.len().max(1) as f64
        );
        points.push(Point {
            label: format!("{n} model deployments"),
            makespan: m.run.elapsed,
            bound: m.bound,
            requests: tr.requests,
            failures: f,
        });
    }
    let env_counts: &[usize] = if quick { &[1, 5] } else { &[1, 5, 20] };
    for &k in env_counts {
        eprintln!("[bench] {k} environments concurrently");
        let world = fresh(scale, 4).await;
        let ds: Vec<Deployment> = (0..k)
            .map(|i| {
                load_env(
                    tmp.path(),
                    &format!("env{k}-{i}"),
                    &env_variant(&base, i),
                    &test_password(&format!("env{i}")),
                )
            })
            .collect();
        let t0 = Instant::now();
        let runs = futures::future::join_all(ds.iter().map(|d| up_in(&world, d, UP))).await;
        let wall = t0.elapsed();
        let all = world.journal().await;
        drop(world);
        let tr = traffic(&all);
        let bound = runs.iter().map(|m| m.bound).max().unwrap_or_default();
        let f: usize = runs.iter().map(|m| failures_of(&m.run)).sum();
        let resources: usize = runs.iter().map(|m| m.model.resources.len()).sum();
        let _ = writeln!(
            scale_md,
            "| {k} environment(s) concurrently, 3 deployments each | {resources} | {} | {} | {:.3} | {} | {:.1} | {f} |",
            secs(wall),
            secs(bound),
            ratio(wall, bound),
            tr.requests,
            tr.requests as f64 / resources.max(1) as f64
        );
        points.push(Point {
            label: format!("{k} environments at once"),
            makespan: wall,
            bound,
            requests: tr.requests,
            failures: f,
        });
    }
    md.push_str(&scale_md);

    // 6. CLI start-up and memory.
    eprintln!("[bench] CLI start-up and memory");
    let env_file = tmp.path().join("cli.toml");
    std::fs::write(&env_file, &base).expect("write env");
    let runs = 20;
    let (help_med, help_max) = cli_time(&["--help"], tmp.path(), runs);
    let env_arg = env_file.to_string_lossy().into_owned();
    let (val_med, val_max) = cli_time(&["--env", &env_arg, "validate"], tmp.path(), runs);
    let mem = peak_memory(scale, tmp.path()).await;
    let _ = writeln!(
        md,
        "\n### CLI\n\n| Measure | Median | Max |\n|---|---|---|\n| `owui-deploy --help` ({runs} runs, dev profile) | {:.1} ms | {:.1} ms |\n| `owui-deploy --env sandbox.toml validate` ({runs} runs, dev profile) | {:.1} ms | {:.1} ms |\n\nPeak memory of `up`: {mem}.",
        help_med.as_secs_f64() * 1e3,
        help_max.as_secs_f64() * 1e3,
        val_med.as_secs_f64() * 1e3,
        val_max.as_secs_f64() * 1e3
    );
    let _ = writeln!(
        md,
        "\nTotal benchmark wall time: {:.0} s.",
        started.elapsed().as_secs_f64()
    );

    println!("{md}");
    for p in &points {
        eprintln!(
            "[bench] {}: {:.2}s / {:.2}s requests {} failures {}",
            p.label,
            p.makespan.as_secs_f64(),
            p.bound.as_secs_f64(),
            p.requests,
            p.failures
        );
    }
    if !flag("OWUI_BENCH_NO_WRITE") {
        let docs = repo().join("docs");
        std::fs::write(docs.join("benchmarks-makespan.svg"), svg(&points)).expect("write SVG");
        let doc = format!(
            "# Benchmarks\n\nProduced by `benches/deploy.rs` (issue 7) with\n\n```sh\ncargo bench --profile dev --bench deploy\n```\n\n\
             (`OWUI_BENCH_SCALE` changes the time scale, default 0.002; `OWUI_BENCH_QUICK=1` skips the largest scale points; \
             `OWUI_BENCH_NO_WRITE=1` prints without rewriting this file.) Everything runs in one process against the in-process \
             sandbox with its realistic default durations multiplied by the time scale. `up` is driven through the library \
             exactly as the CLI does it (`config::load`, `stages::model` for hub + spoke + finalize as one graph, `engine::plan`, \
             `engine::apply`), with the CLI's client and apply settings except that the waits sized for Azure's real delays \
             (the first PrincipalNotFound retry wait, 5 s; the backoff floor, 0.8 s) are scaled like the sandbox's durations.\n\n\
             **Critical-path bound**: the longest chain of `sandbox::default_duration(type, method)` along the model's \
             dependency edges (`Model::edges()`), the plan's own dependencies, and the serial-key chains (model deployments \
             of one account are written one at a time), where a role assignment to a principal created in the same run \
             cannot finish before the principal's replication delay (60 s realistic) has passed since its creation \
             started; scaled by the time scale. Graph objects and reads count as zero, and so do changes that failed \
             or were skipped in the measured run (the bound covers the work that was done).\n\n\
             ## Results\n\n{md}\n![makespan vs bound](benchmarks-makespan.svg)\n\n\
             ## Notes\n\n- Polls are counted from the engine's `Polled` events per resource; the expected number is the \
             operation's duration divided by the interval the sandbox announces in `Retry-After` (a fortieth of the \
             duration, between 1 and 30 s). The busy-polling check uses the journal's request times (ms resolution).\n\
             - The staged run uses one model per stage (`stages::model(env, opts, &[stage])`), each planned and applied \
             after the previous one finished, like the quickstart's hub, spoke, finalize; the quickstart's manual import \
             step has no counterpart in the sandbox and is not timed.\n\
             - Concurrent environments are variants of `environments/sandbox.toml` with distinct names and resource \
             groups, each with its own backend and token, into one sandbox; the makespan is the wall time until the last \
             finished, the bound the largest single-environment bound.\n\
             - CLI times are for the dev-profile binary built by `cargo bench --profile dev` (no release build).\n"
        );
        // The preflight section is checked by tests/cli_preflight.rs, not measured here: keep it.
        let kept = std::fs::read_to_string(docs.join("benchmarks.md"))
            .ok()
            .and_then(|old| old.find("\n## Preflight").map(|i| old[i..].to_string()))
            .unwrap_or_default();
        std::fs::write(docs.join("benchmarks.md"), format!("{doc}{kept}"))
            .expect("write docs/benchmarks.md");
        eprintln!("[bench] wrote docs/benchmarks.md and docs/benchmarks-makespan.svg");
    }
}
