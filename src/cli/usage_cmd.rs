//! `owui-deploy usage`: one report of [`crate::stages::usage::USAGE_QUERIES`]
//! (the workbook's queries) run through the Azure Monitor Logs query API against
//! the environment's Log Analytics workspace, printed as a table, JSON or CSV.

use super::args::{Cli, UsageArgs, UsageFormat};
use super::session::Session;
use crate::engine::{Address, Api, AzureError, Backend, LogsTable};
use crate::stages::Ids;
use crate::stages::usage::{self, UsageQuery};
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};
use std::process::ExitCode;

/// Longest window `--since` accepts: the longest Log Analytics retention.
const MAX_SINCE_DAYS: u64 = 730;
/// Role that grants the query (`Microsoft.OperationalInsights/workspaces/query/read`).
pub const READER_ROLE: &str = "Log Analytics Reader";

/// `--since 7d|12h|30m` as an ISO 8601 duration for the query API's `timespan`.
pub fn since_to_timespan(since: &str) -> Result<String> {
    let t = since.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| anyhow!("--since {t}: add a unit, e.g. 7d, 12h or 30m"))?;
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow!("--since {t}: expected a number then d, h or m, e.g. 7d"))?;
    let minutes = match unit {
        "d" => n.checked_mul(24 * 60),
        "h" => n.checked_mul(60),
        "m" => Some(n),
        _ => bail!("--since {t}: the unit is d (days), h (hours) or m (minutes)"),
    };
    match minutes {
        Some(m) if (1..=MAX_SINCE_DAYS * 24 * 60).contains(&m) => Ok(match unit {
            "d" => format!("P{n}D"),
            "h" => format!("PT{n}H"),
            _ => format!("PT{n}M"),
        }),
        _ => bail!("--since {t}: between 1m and {MAX_SINCE_DAYS}d"),
    }
}

/// `owui-deploy usage`.
pub(super) async fn run(cli: &Cli, args: &UsageArgs) -> Result<ExitCode> {
    let format = args.output;
    let query = usage::query(&args.by)
        .filter(|q| q.command)
        .with_context(|| format!("--by {}: not a report of `usage`", args.by))?;
    let timespan = since_to_timespan(&args.since)?;
    let loaded = match super::deploy::load_env(cli)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let session = Session::open(loaded, cli.auth, cli.sandbox_url.as_deref()).await?;
    let result = run_query(&session, query, &timespan).await;
    session.close().await;
    let table = result?;
    let out = match format {
        UsageFormat::Human => render_human(query, &args.since, &table),
        UsageFormat::Json => {
            serde_json::to_string_pretty(&to_json(query, &args.since, &timespan, &table))? + "\n"
        }
        UsageFormat::Csv => render_csv(&table),
    };
    out!("{out}")?;
    Ok(ExitCode::SUCCESS)
}

/// Reads the workspace's customer ID from ARM, then runs the query.
async fn run_query(session: &Session, query: &UsageQuery, timespan: &str) -> Result<LogsTable> {
    let env = &session.loaded.env;
    let workspace_id = Ids::new(env).log_analytics();
    let type_name = "Microsoft.OperationalInsights/workspaces";
    let api = Api::Arm {
        type_name: type_name.into(),
        api_version: crate::azure::api_versions::api_version(type_name)
            .context("no pinned API version for the workspace")?
            .into(),
    };
    let backend: &dyn Backend = session.backend.as_ref();
    let workspace = backend
        .read(&Address::from(workspace_id.as_str()), &api)
        .await
        .with_context(|| format!("cannot read the Log Analytics workspace {workspace_id}"))?
        .with_context(|| {
            format!(
                "the Log Analytics workspace {} does not exist yet: run `owui-deploy hub` (or `up`) first",
                env.hub.log_analytics_name
            )
        })?;
    let customer_id = workspace
        .pointer("/properties/customerId")
        .and_then(Value::as_str)
        .with_context(|| format!("{workspace_id} has no properties.customerId"))?;
    let logs = session.logs()?;
    let table = logs
        .query(customer_id, query.kql, timespan)
        .await
        .map_err(|e| explain(e, &env.hub.log_analytics_name))?;
    // A table nothing was ever ingested into does not exist yet: no data.
    Ok(table.unwrap_or_else(|| LogsTable {
        name: "PrimaryResult".into(),
        columns: Vec::new(),
        rows: Vec::new(),
    }))
}

/// A query error in terms of what to do about it.
fn explain(e: AzureError, workspace: &str) -> anyhow::Error {
    match &e {
        AzureError::Api { status: 403, .. } => anyhow!(
            "you cannot query the Log Analytics workspace {workspace}: the signed-in identity needs the {READER_ROLE} role (or Reader) on the workspace or its resource group, then try again in a few minutes"
        )
        .context(e),
        AzureError::Api { status: 400, .. } => {
            anyhow!("the Logs query API refused the query").context(e)
        }
        _ => anyhow::Error::new(e).context(format!("cannot query the workspace {workspace}")),
    }
}

/// A cell as text: whole numbers without a fraction, strings as they are.
fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// The human table: title, window, aligned columns; a clear line when empty.
pub fn render_human(query: &UsageQuery, since: &str, table: &LogsTable) -> String {
    let mut out = format!("{} (last {since})\n\n", query.title);
    if table.rows.is_empty() {
        out.push_str(&format!(
            "No data yet for the last {since}. Gateway logs and token metrics reach the workspace a few minutes after the first requests through APIM, once `finalize` has set up the diagnostic setting and logger.\n"
        ));
        return out;
    }
    let header: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    let rows: Vec<Vec<String>> = table
        .rows
        .iter()
        .map(|r| r.iter().map(cell_text).collect())
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .chain(std::iter::once(&header[i]))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let numeric: Vec<bool> = table
        .columns
        .iter()
        .map(|c| matches!(c.kind.as_str(), "long" | "int" | "real" | "decimal"))
        .collect();
    let line = |cells: &[String]| -> String {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| match numeric.get(i) {
                Some(true) => format!("{c:>w$}", w = widths[i]),
                _ => format!("{c:<w$}", w = widths[i]),
            })
            .collect();
        parts.join("  ").trim_end().to_string() + "\n"
    };
    out.push_str(&line(&header));
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&line(&rule));
    for r in &rows {
        out.push_str(&line(r));
    }
    out
}

/// RFC 4180 CSV: a header row, then the rows; fields quoted when needed.
pub fn render_csv(table: &LogsTable) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut out = String::new();
    let header: Vec<String> = table.columns.iter().map(|c| field(&c.name)).collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for r in &table.rows {
        let cells: Vec<String> = r.iter().map(|v| field(&cell_text(v))).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The JSON document (docs/schemas/usage.v1.schema.json).
pub fn to_json(query: &UsageQuery, since: &str, timespan: &str, table: &LogsTable) -> Value {
    let rows: Vec<Value> = table
        .rows
        .iter()
        .map(|r| {
            let mut m = Map::new();
            for (c, v) in table.columns.iter().zip(r) {
                m.insert(c.name.clone(), v.clone());
            }
            Value::Object(m)
        })
        .collect();
    json!({
        "format_version": "1",
        "report": query.name,
        "title": query.title,
        "since": since,
        "timespan": timespan,
        "query": query.kql,
        "columns": table.columns,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::LogsTable;

    #[test]
    fn since_becomes_an_iso_duration_within_bounds() {
        assert_eq!(since_to_timespan("7d").unwrap(), "P7D");
        assert_eq!(since_to_timespan("12h").unwrap(), "PT12H");
        assert_eq!(since_to_timespan("30m").unwrap(), "PT30M");
        for bad in ["7", "d", "0d", "731d", "7w", "-1d", "99999999999999999999d"] {
            assert!(since_to_timespan(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let t: LogsTable = serde_json::from_value(json!({
            "name": "PrimaryResult",
            "columns": [{"name": "User", "type": "string"}, {"name": "Tokens", "type": "real"}],
            "rows": [["a,b", 10.0], ["say \"hi\"", 2.5]]
        }))
        .unwrap();
        assert_eq!(
            render_csv(&t),
            "User,Tokens\r\n\"a,b\",10\r\n\"say \"\"hi\"\"\",2.5\r\n"
        );
    }
}
