//! Pure functions turning plans and events into text or JSON. Nothing here
//! prints: the CLI decides where output goes.

use super::diff::{DiffValue, sha256_hex, value_bytes};
use super::events::Event;
use super::plan::{Action, Change, Plan};
use super::resource::{Address, Api};
use serde_json::{Value, json};

/// Version of the JSON documents of [`plan_json`] and the event stream.
pub const JSON_FORMAT_VERSION: &str = "1";

/// Values longer than this (characters of compact JSON) are shown as a digest.
pub const DISPLAY_LIMIT: usize = 200;

const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("{code}{s}{RESET}")
        } else {
            s.to_string()
        }
    }
}

/// `1.1 MB`, `4.2 KB`, `12 B` (decimal units).
pub fn human_size(bytes: u64) -> String {
    if bytes < 1000 {
        format!("{bytes} B")
    } else if bytes < 1_000_000 {
        format!("{:.1} KB", bytes as f64 / 1e3)
    } else if bytes < 1_000_000_000 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else {
        format!("{:.1} GB", bytes as f64 / 1e9)
    }
}

fn short_digest(sha256: &str, bytes: u64) -> String {
    let hex = sha256.strip_prefix("sha256:").unwrap_or(sha256);
    let head: String = hex.chars().take(12).collect();
    format!("sha256:{head}… ({})", human_size(bytes))
}

/// A diff value as shown to people: large values as a digest, secrets never.
pub fn display_value(v: &DiffValue) -> String {
    match v {
        DiffValue::Absent => "null".into(),
        DiffValue::Unknown => "(known after apply)".into(),
        DiffValue::Sensitive => "(sensitive)".into(),
        DiffValue::Digest { sha256, bytes } => short_digest(sha256, *bytes),
        DiffValue::Known(v) => {
            let text = v.to_string();
            if text.chars().count() > DISPLAY_LIMIT {
                let bytes = value_bytes(v);
                short_digest(&sha256_hex(&bytes), bytes.len() as u64)
            } else {
                text
            }
        }
    }
}

fn api_text(api: &Api) -> String {
    match api {
        Api::Arm {
            type_name,
            api_version,
        } => format!("{type_name}@{api_version}"),
        Api::Graph { kind } => format!("graph {kind}"),
    }
}

fn render_change(out: &mut String, c: &Change, p: &Painter) {
    let (symbol, code, what) = match c.action {
        Action::Create => ("  +", GREEN, "will be created"),
        Action::Update => ("  ~", YELLOW, "will be updated in place"),
        Action::Replace => ("-/+", RED, "must be replaced"),
        Action::Delete => ("  -", RED, "will be destroyed"),
        Action::Read => (" <=", CYAN, "will be read"),
        Action::NoOp => return,
    };
    out.push_str(&p.paint(BOLD, &format!("  # {} {what}", c.label)));
    out.push('\n');
    out.push_str(&format!(
        "{} {}\n",
        p.paint(code, symbol),
        p.paint(BOLD, &c.label)
    ));
    out.push_str(&format!(
        "      {} ({})\n",
        display_address(c),
        api_text(&c.api)
    ));
    for d in &c.diffs {
        let (sym, code) = match (&d.old, &d.new, c.action) {
            (_, _, Action::Create) | (DiffValue::Absent, _, _) => ("+", GREEN),
            (_, DiffValue::Absent, _) => ("-", RED),
            _ => ("~", YELLOW),
        };
        let value = match (&d.old, &d.new, c.action) {
            (_, new, Action::Create) | (DiffValue::Absent, new, _) => display_value(new),
            (old, DiffValue::Absent, _) => display_value(old),
            (old, new, _) => format!("{} -> {}", display_value(old), display_value(new)),
        };
        let mut line = format!("      {} {} = {value}", p.paint(code, sym), d.path);
        if d.forces_replacement {
            line.push_str(&p.paint(RED, "  # forces replacement"));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.push('\n');
}

/// What is being done, for people: `creating`, `waiting for Azure to finish`, ...
pub fn doing(action: Action) -> &'static str {
    match action {
        Action::Create => "creating",
        Action::Update => "updating",
        Action::Replace => "replacing",
        Action::Delete => "deleting",
        Action::Read => "reading",
        Action::NoOp => "waiting for Azure to finish",
    }
}

/// What was done, for people: `created`, `ready`, ...
pub fn done(action: Action) -> &'static str {
    match action {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Replace => "replaced",
        Action::Delete => "deleted",
        Action::Read => "read",
        Action::NoOp => "ready",
    }
}

/// A plan in Terraform-like form: `+` create, `~` update (`old -> new`),
/// `-/+` replace (`# forces replacement`), `-` delete, `<=` read, then the
/// summary line; or `No changes. ...` when nothing would be written.
pub fn render_plan_human(plan: &Plan, color: bool) -> String {
    let p = Painter { color };
    let mut out = String::new();
    if plan.has_changes() {
        out.push_str("owui-deploy will perform the following actions:\n\n");
        for c in &plan.changes {
            render_change(&mut out, c, &p);
        }
    }
    render_plan_tail(&mut out, plan, &p);
    out
}

/// A plan as shown before an apply: one line per resource created, deleted or
/// read, and the changed properties of each resource updated or replaced; then
/// the summary line (`render_plan_human` shows every property).
pub fn render_plan_brief(plan: &Plan, color: bool) -> String {
    let p = Painter { color };
    let mut out = String::new();
    if plan.has_changes() {
        out.push_str("owui-deploy will perform the following actions:\n");
        for c in &plan.changes {
            let (symbol, code) = match c.action {
                Action::Create => ("  +", GREEN),
                Action::Delete => ("  -", RED),
                Action::Read | Action::NoOp => continue,
                Action::Update | Action::Replace => {
                    out.push('\n');
                    render_change(&mut out, c, &p);
                    continue;
                }
            };
            out.push_str(&format!("{} {}\n", p.paint(code, symbol), c.label));
        }
        out.push('\n');
    }
    render_plan_tail(&mut out, plan, &p);
    out
}

/// The summary line (or `No changes.`) and the warnings.
fn render_plan_tail(out: &mut String, plan: &Plan, p: &Painter) {
    if plan.has_changes() {
        let s = plan.summary();
        out.push_str(&p.paint(
            BOLD,
            &format!(
                "Plan: {} to add, {} to change, {} to replace, {} to destroy.",
                s.add, s.change, s.replace, s.destroy
            ),
        ));
        out.push('\n');
    } else if plan.in_progress().is_empty() {
        out.push_str(&p.paint(
            GREEN,
            "No changes. Your infrastructure matches the configuration.",
        ));
        out.push('\n');
    }
    let waiting = plan.in_progress();
    if !waiting.is_empty() {
        out.push_str(&p.paint(YELLOW, &in_progress_heading(waiting.len())));
        out.push('\n');
        for c in waiting {
            out.push_str(&format!("  ~ {} ({})\n", c.label, display_address(c)));
        }
    }
    for w in &plan.warnings {
        out.push_str(&format!("{} {w}\n", p.paint(YELLOW, "Warning:")));
    }
}

/// The line above the resources a plan found still provisioning or updating.
fn in_progress_heading(n: usize) -> String {
    format!(
        "Not converged yet: {n} resource(s) still provisioning or updating from an earlier operation; applying waits for them before anything that depends on them:"
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn diff_lines(c: &Change) -> Vec<(char, String)> {
    c.diffs
        .iter()
        .map(|d| {
            let (sym, value) = match (&d.old, &d.new, c.action) {
                (_, new, Action::Create) | (DiffValue::Absent, new, _) => ('+', display_value(new)),
                (old, DiffValue::Absent, _) => ('-', display_value(old)),
                (old, new, _) => (
                    '!',
                    format!("{} -> {}", display_value(old), display_value(new)),
                ),
            };
            let mut line = format!("{} = {value}", d.path);
            if d.forces_replacement {
                line.push_str("  # forces replacement");
            }
            (sym, line)
        })
        .collect()
}

/// A plan as Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`: a
/// table of actions per stage, the summary line, then one collapsible section per
/// change with its property differences.
pub fn render_plan_markdown(plan: &Plan) -> String {
    let mut out = String::from("### owui-deploy plan\n\n");
    let waiting = plan.in_progress();
    if !waiting.is_empty() {
        out.push_str(&format!("**{}**\n\n", in_progress_heading(waiting.len())));
        for c in &waiting {
            out.push_str(&format!(
                "- {} (`{}`)\n",
                html_escape(&c.label),
                display_address(c)
            ));
        }
        out.push('\n');
    }
    if !plan.has_changes() {
        if waiting.is_empty() {
            out.push_str("No changes. Your infrastructure matches the configuration.\n");
        }
    } else {
        out.push_str("| Stage | Add | Change | Replace | Destroy |\n|---|---:|---:|---:|---:|\n");
        for stage in crate::engine::Stage::ALL {
            let count = |a: Action| {
                plan.changes
                    .iter()
                    .filter(|c| c.stage == stage && c.action == a)
                    .count()
            };
            let row = [
                count(Action::Create),
                count(Action::Update),
                count(Action::Replace),
                count(Action::Delete),
            ];
            if row.iter().any(|n| *n > 0) {
                out.push_str(&format!(
                    "| {stage} | {} | {} | {} | {} |\n",
                    row[0], row[1], row[2], row[3]
                ));
            }
        }
        let s = plan.summary();
        out.push_str(&format!(
            "\n**Plan: {} to add, {} to change, {} to replace, {} to destroy.**\n\n",
            s.add, s.change, s.replace, s.destroy
        ));
        for c in plan.changes.iter().filter(|c| c.action.writes()) {
            let (symbol, verb) = match c.action {
                Action::Create => ("+", "create"),
                Action::Update => ("~", "update"),
                Action::Replace => ("-/+", "replace"),
                _ => ("-", "destroy"),
            };
            out.push_str(&format!(
                "<details><summary><code>{symbol}</code> {verb} <b>{}</b> ({})</summary>\n\n",
                html_escape(&c.label),
                c.stage
            ));
            out.push_str(&format!(
                "`{}` (`{}`)\n\n",
                display_address(c),
                api_text(&c.api)
            ));
            let lines = diff_lines(c);
            if !lines.is_empty() {
                out.push_str("```diff\n");
                for (sym, line) in lines {
                    out.push_str(&format!("{sym} {line}\n"));
                }
                out.push_str("```\n\n");
            }
            out.push_str("</details>\n\n");
        }
    }
    for w in &plan.warnings {
        out.push_str(&format!("> **Warning:** {}\n", html_escape(w)));
    }
    out
}

/// Short names of the values flowing along an edge (last pointer segments).
fn edge_values(values: &[String]) -> String {
    values
        .iter()
        .map(|v| v.rsplit('/').next().unwrap_or(v).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The dependency graph as a Mermaid flowchart: one subgraph per stage, an
/// arrow from each resource to those that need it, labelled with the values
/// that flow along it.
pub fn render_graph_mermaid(model: &crate::engine::Model) -> String {
    let index: std::collections::HashMap<&crate::engine::Address, usize> = model
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| (&r.address, i))
        .collect();
    let label = |s: &str| s.replace('"', "#quot;");
    let mut out = String::from("flowchart LR\n");
    for stage in crate::engine::Stage::ALL {
        let members: Vec<(usize, &crate::engine::ResourceSpec)> = model
            .resources
            .iter()
            .enumerate()
            .filter(|(_, r)| r.stage == stage)
            .collect();
        if members.is_empty() {
            continue;
        }
        out.push_str(&format!("  subgraph {stage}\n"));
        for (i, r) in members {
            out.push_str(&format!("    n{i}[\"{}\"]\n", label(&node_label(r))));
        }
        out.push_str("  end\n");
    }
    for e in model.edges() {
        let (Some(from), Some(to)) = (index.get(&e.from), index.get(&e.to)) else {
            continue;
        };
        if e.values.is_empty() {
            out.push_str(&format!("  n{to} --> n{from}\n"));
        } else {
            out.push_str(&format!(
                "  n{to} -->|\"{}\"| n{from}\n",
                label(&edge_values(&e.values))
            ));
        }
    }
    out
}

/// A node's label: the resource's, marked `(read)` for data from another stage.
fn node_label(r: &crate::engine::ResourceSpec) -> String {
    match r.mode {
        crate::engine::Mode::Data => format!("{} (read)", r.label),
        crate::engine::Mode::Managed => r.label.clone(),
    }
}

/// The dependency graph in Graphviz DOT, like [`render_graph_mermaid`].
pub fn render_graph_dot(model: &crate::engine::Model) -> String {
    let index: std::collections::HashMap<&crate::engine::Address, usize> = model
        .resources
        .iter()
        .enumerate()
        .map(|(i, r)| (&r.address, i))
        .collect();
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::from("digraph owui_deploy {\n  rankdir=LR;\n");
    for stage in crate::engine::Stage::ALL {
        out.push_str(&format!(
            "  subgraph cluster_{stage} {{\n    label={};\n",
            quote(stage.as_str())
        ));
        for (i, r) in model
            .resources
            .iter()
            .enumerate()
            .filter(|(_, r)| r.stage == stage)
        {
            out.push_str(&format!("    n{i} [label={}];\n", quote(&node_label(r))));
        }
        out.push_str("  }\n");
    }
    for e in model.edges() {
        let (Some(from), Some(to)) = (index.get(&e.from), index.get(&e.to)) else {
            continue;
        };
        if e.values.is_empty() {
            out.push_str(&format!("  n{to} -> n{from};\n"));
        } else {
            out.push_str(&format!(
                "  n{to} -> n{from} [label={}];\n",
                quote(&edge_values(&e.values))
            ));
        }
    }
    out.push_str("}\n");
    out
}

/// The address a change acts on, for people: resolved when the plan knows it
/// (an address holding references to live values), else with each reference
/// shown as `(known after apply)`.
fn display_address(c: &Change) -> String {
    if let Some(t) = &c.target {
        return t.as_str().to_string();
    }
    c.address.readable()
}

fn diff_value_json(v: &DiffValue) -> Value {
    match v {
        DiffValue::Absent => json!({"state": "absent"}),
        DiffValue::Known(v) => json!({"state": "known", "value": v}),
        DiffValue::Unknown => json!({"state": "unknown"}),
        DiffValue::Sensitive => json!({"state": "sensitive"}),
        DiffValue::Digest { sha256, bytes } => {
            json!({"state": "digest", "sha256": sha256, "bytes": bytes})
        }
    }
}

fn api_json(api: &Api) -> Value {
    match api {
        Api::Arm {
            type_name,
            api_version,
        } => json!({"kind": "arm", "type": type_name, "api_version": api_version}),
        Api::Graph { kind } => json!({"kind": "graph", "type": kind}),
    }
}

/// The plan as the documented JSON document (docs/json-output.md,
/// `format_version` [`JSON_FORMAT_VERSION`]). Holds no secret and no large value.
pub fn plan_json(plan: &Plan) -> Value {
    let s = plan.summary();
    let changes: Vec<Value> = plan
        .changes
        .iter()
        .map(|c| {
            json!({
                "address": display_address(c),
                "label": c.label,
                "stage": c.stage,
                "api": api_json(&c.api),
                "action": c.action,
                "fingerprint": c.fingerprint,
                "replace_paths": c.replace_paths,
                "depends_on": c.depends_on.iter().map(Address::readable).collect::<Vec<_>>(),
                "diffs": c.diffs.iter().map(|d| json!({
                    "path": d.path,
                    "old": diff_value_json(&d.old),
                    "new": diff_value_json(&d.new),
                    "forces_replacement": d.forces_replacement,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "format_version": JSON_FORMAT_VERSION,
        "has_changes": plan.has_changes(),
        "summary": {
            "add": s.add,
            "change": s.change,
            "replace": s.replace,
            "destroy": s.destroy,
            "read": s.read,
            "no_op": s.no_op,
        },
        "changes": changes,
        "in_progress": plan.in_progress().iter().map(|c| &c.address).collect::<Vec<_>>(),
        "warnings": plan.warnings,
    })
}

/// One line of the JSON event stream (no trailing newline).
pub fn event_json_line(event: &Event) -> String {
    let mut v = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("format_version".into(), json!(JSON_FORMAT_VERSION));
    }
    v.to_string()
}

/// One plain progress line for an event (the CLI prefixes a timestamp).
pub fn event_text(event: &Event) -> String {
    match event {
        Event::Started { label, action, .. } => format!("{label}: {}", doing(*action)),
        Event::Polled {
            address,
            status,
            elapsed,
        } => format!("{address}: {status} ({}s)", elapsed.as_secs()),
        Event::Retrying {
            address,
            reason,
            delay,
        } => format!(
            "{address}: retrying in {:.1}s: {reason}",
            delay.as_secs_f64()
        ),
        Event::Succeeded {
            label,
            action,
            elapsed,
            note,
            ..
        } => {
            let mut s = format!(
                "{label}: {} in {:.1}s",
                done(*action),
                elapsed.as_secs_f64()
            );
            if let Some(n) = note {
                s.push_str(&format!(" ({n})"));
            }
            s
        }
        Event::Failed { label, error, .. } => format!("{label}: failed: {error}"),
        Event::Skipped { label, because, .. } => {
            format!("{label}: skipped because {because} failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphs_show_resources_edges_and_flowing_values() {
        use crate::engine::{Api, DiffRules, Mode, Model, Reference, ResourceSpec, Stage};
        let spec = |addr: &str, label: &str, stage: Stage, body: Value| ResourceSpec {
            address: addr.into(),
            label: label.into(),
            stage,
            api: Api::Graph { kind: "x".into() },
            body,
            depends_on: Default::default(),
            rules: DiffRules::default(),
            mode: Mode::Managed,
            serial_key: None,
            taggable: false,
        };
        let mut b = spec(
            "/b",
            "role \"b\"",
            Stage::Finalize,
            json!({"p": Reference::new("/a", "/identity/principalId").marker()}),
        );
        b.depends_on.insert("/c".into());
        let model = Model {
            resources: vec![
                spec("/a", "APIM", Stage::Hub, json!({})),
                b,
                spec("/c", "vault", Stage::Spoke, json!({})),
            ],
            discoveries: vec![],
        };
        let m = render_graph_mermaid(&model);
        assert!(
            m.starts_with("flowchart LR\n  subgraph hub\n    n0[\"APIM\"]"),
            "{m}"
        );
        assert!(m.contains("n1[\"role #quot;b#quot;\"]"), "{m}");
        assert!(m.contains("  n0 -->|\"principalId\"| n1\n"), "{m}");
        assert!(m.contains("  n2 --> n1\n"), "{m}");
        let d = render_graph_dot(&model);
        assert!(d.contains("n0 -> n1 [label=\"principalId\"];"), "{d}");
        assert!(d.contains("n1 [label=\"role \\\"b\\\"\"];"), "{d}");
    }

    #[test]
    fn sizes_and_digests() {
        assert_eq!(human_size(1_130_461), "1.1 MB");
        assert_eq!(human_size(12), "12 B");
        let big = Value::String("a".repeat(300));
        let shown = display_value(&DiffValue::Known(big));
        assert!(
            shown.starts_with("sha256:") && shown.ends_with("(300 B)"),
            "{shown}"
        );
        assert_eq!(display_value(&DiffValue::Known(json!("x"))), "\"x\"");
    }
}
