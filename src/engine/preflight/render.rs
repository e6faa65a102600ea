//! The preflight report as text, Markdown and JSON
//! (`docs/schemas/preflight.v1.schema.json`).

use super::{Finding, Report, SCHEMA_VERSION, Status};
use serde_json::{Value, json};
use std::fmt::Write;

fn mark(status: Status) -> &'static str {
    match status {
        Status::Passed => "ok  ",
        Status::Failed => "FAIL",
        Status::Unverified => "??  ",
    }
}

fn word(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Unverified => "unverified",
    }
}

/// One line per finding (passed ones only with `show_passed`), each failure
/// with its remedy, then a summary line.
pub fn render_human(report: &Report, show_passed: bool) -> String {
    let mut out = String::new();
    let shown = report
        .findings
        .iter()
        .filter(|f| show_passed || f.status != Status::Passed);
    for f in shown {
        let _ = writeln!(
            out,
            "  {} [{}] {}: {}",
            mark(f.status),
            f.check.title(),
            f.resource,
            f.message
        );
        if let Some(remedy) = &f.remedy {
            let _ = writeln!(out, "         remedy: {remedy}");
        }
    }
    let _ = writeln!(
        out,
        "Preflight {}: {} failed, {} unverified, {} passed ({} requests, {:.2}s).",
        if report.passed() { "passed" } else { "failed" },
        report.count(Status::Failed),
        report.count(Status::Unverified),
        report.count(Status::Passed),
        report.round_trips,
        report.elapsed.as_secs_f64()
    );
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A Markdown section (for `$GITHUB_STEP_SUMMARY` or a pull-request comment).
pub fn render_markdown(report: &Report) -> String {
    let mut out = String::from("### Preflight\n\n");
    let _ = writeln!(
        out,
        "**{}**: {} failed, {} unverified, {} passed ({} requests).\n",
        if report.passed() { "Passed" } else { "Failed" },
        report.count(Status::Failed),
        report.count(Status::Unverified),
        report.count(Status::Passed),
        report.round_trips
    );
    out.push_str("| Status | Check | Resource | Finding | Remedy |\n|---|---|---|---|---|\n");
    for f in &report.findings {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            word(f.status),
            f.check.title(),
            cell(&f.resource),
            cell(&f.message),
            cell(f.remedy.as_deref().unwrap_or(""))
        );
    }
    out
}

fn finding_json(f: &Finding) -> Value {
    let mut v = json!({
        "check": f.check,
        "resource": f.resource,
        "status": f.status,
        "message": f.message,
    });
    if let Some(r) = &f.remedy {
        v["remedy"] = json!(r);
    }
    v
}

/// The JSON document of `preflight --output json`.
pub fn report_json(report: &Report) -> Value {
    json!({
        "format_version": SCHEMA_VERSION.to_string(),
        "status": if report.passed() { "passed" } else { "failed" },
        "summary": {
            "passed": report.count(Status::Passed),
            "failed": report.count(Status::Failed),
            "unverified": report.count(Status::Unverified),
        },
        "round_trips": report.round_trips,
        "elapsed_ms": report.elapsed.as_millis() as u64,
        "checks": report.findings.iter().map(finding_json).collect::<Vec<_>>(),
    })
}
