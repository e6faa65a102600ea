//! Every shipped KQL query (`stages::usage::USAGE_QUERIES`, the workbook's and
//! `owui-deploy usage`'s) is parsed and semantically checked by Microsoft's Kusto
//! language service (`@kusto/language-service-next`, run by Node from
//! `tests/kql/`) against the documented columns of the tables it reads
//! (`tests/kql/tables.json`). Needs `node` and `npm ci` in `tests/kql` (`.ci/run`
//! does it); outside CI the test skips with a printed reason when they are
//! absent, under CI (`CI` set to anything but `false` or `0`, as in tests/skips.rs) it fails instead.

use owui_deploy::stages::usage::USAGE_QUERIES;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

fn kql_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/kql")
}

/// `Some(())` when node and the language service are installed; otherwise
/// prints why the test skips (or panics under `CI=true`).
fn checker_available(test: &str) -> Option<()> {
    let node = Command::new("node").arg("--version").output();
    let package = kql_dir().join("node_modules/@kusto/language-service-next/package.json");
    let reason = match node {
        Err(e) => format!("node is not installed ({e})"),
        Ok(o) if !o.status.success() => "node --version failed".to_string(),
        Ok(_) if !package.is_file() => {
            "the Kusto language service is not installed: run `npm ci` in tests/kql".to_string()
        }
        Ok(_) => return Some(()),
    };
    if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0") {
        panic!("{test}: {reason} (CI=true: the KQL check must run)");
    }
    println!("skipping {test}: {reason}");
    None
}

/// Runs `check.js` on `queries`: (exit code, one result per query).
fn check(queries: &Value) -> (i32, Vec<Value>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("queries.json");
    std::fs::write(&file, queries.to_string()).expect("write queries");
    let out = Command::new("node")
        .arg(kql_dir().join("check.js"))
        .arg(&file)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (out.status.code().unwrap_or(-1), results)
}

#[test]
fn every_shipped_query_parses_and_binds_against_the_documented_columns() {
    let Some(()) =
        checker_available("every_shipped_query_parses_and_binds_against_the_documented_columns")
    else {
        return;
    };
    let queries: Vec<Value> = USAGE_QUERIES
        .iter()
        .map(|q| json!({"name": q.name, "kql": q.kql}))
        .collect();
    let (code, results) = check(&Value::Array(queries));
    assert_eq!(results.len(), USAGE_QUERIES.len(), "{results:#?}");
    let failures: Vec<&Value> = results.iter().filter(|r| r["ok"] != true).collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(code, 0);
}

#[test]
fn a_misspelt_column_or_table_fails_the_check() {
    let Some(()) = checker_available("a_misspelt_column_or_table_fails_the_check") else {
        return;
    };
    let broken = json!([
        {"name": "column", "kql": "ApiManagementGatewayLogs\n| summarize Requests = count() by CallerIpAdress"},
        {"name": "table", "kql": "ApiManagementGatewayLog | take 1"},
        {"name": "dimension-column", "kql": "AppMetrics | summarize sum(Summ) by Name"},
        {"name": "syntax", "kql": "AppMetrics | summarize by"}
    ]);
    let (code, results) = check(&broken);
    assert_eq!(code, 1);
    for r in &results {
        assert_eq!(r["ok"], false, "{r:#}");
    }
    assert!(
        results[0]["diagnostics"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("CallerIpAdress")),
        "{:#}",
        results[0]
    );
}
