//! The Azure Monitor Logs query API (`POST /v1/workspaces/{customerId}/query`),
//! answered from telemetry the sandbox synthesises for the environment deployed in
//! it, through the KQL subset of [`super::kql`]. Documented in docs/sandbox.md
//! ("Logs query API").
//!
//! Telemetry exists once APIM sends its gateway logs to the workspace (a
//! `Microsoft.Insights/diagnosticSettings` on an APIM service whose `workspaceId` is
//! the workspace); before that the tables do not exist, as in a new workspace
//! (Log Analytics creates a table on its first ingestion). The mix
//! is deterministic: for each of the last [`HOURS`] hours (one minute past each
//! hour boundary counted back from now), each user `u` of [`USERS`] and each model
//! `m` of the deployments in the sandbox, one request of
//! `100 * (u + 1) + 10 * (m + 1)` total tokens.

use super::kql::{self, Cell, Table, bag, row};
use super::server::{Reply, Req, Shared};
use super::state::World;
use super::token::{self, Api};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Hours of synthesised history.
pub(crate) const HOURS: i64 = 72;
/// The synthesised users (`User ID` dimension).
pub(crate) const USERS: [&str; 4] = [
    "alice@contoso.com",
    "bob@contoso.com",
    "carol@contoso.com",
    "dave@contoso.com",
];
/// Subscription keys (APIM subscription IDs), by user index modulo their count.
const KEYS: [&str; 2] = ["open-webui", "batch-jobs"];
/// Caller IPs, by user index modulo their count.
const IPS: [&str; 3] = ["10.1.0.4", "10.1.0.5", "203.0.113.7"];
/// Longest accepted request body.
const MAX_BODY: usize = 64 * 1024;

/// The synthesised user at index `u` gets `tokens(u, m)` per request of model `m`.
pub(crate) fn tokens(u: usize, m: usize) -> i64 {
    100 * (u as i64 + 1) + 10 * (m as i64 + 1)
}

/// Logs API error: `{"error": {"message", "code", "correlationId", "innererror"}}`.
fn error(status: u16, code: &str, message: &str, inner: Option<(&str, &str)>) -> Reply {
    let mut body = json!({"error": {
        "message": message,
        "code": code,
        "correlationId": uuid::Uuid::new_v4().to_string(),
    }});
    if let Some((c, m)) = inner {
        body["error"]["innererror"] = json!({"code": c, "message": m});
    }
    Reply::json(status, body)
}

/// Whether a request is for the Logs query API.
pub(crate) fn is_logs_path(path: &str) -> bool {
    path.starts_with("/v1/workspaces/")
}

/// Answer `POST /v1/workspaces/{id}/query`.
pub(crate) fn handle(shared: &Shared, req: &Req) -> Reply {
    let w = shared.world();
    if let Err(e) = token::check(&w, req.header("authorization"), Api::Logs, &shared.base_url) {
        return token::refusal(&e, Api::Logs, "common");
    }
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let ["v1", "workspaces", workspace, "query"] = segs.as_slice() else {
        return error(
            404,
            "PathNotFoundError",
            &format!("The requested path '{}' does not exist.", req.path),
            None,
        );
    };
    if req.method != "POST" {
        return error(
            405,
            "MethodNotAllowed",
            "The query API takes POST here.",
            None,
        );
    }
    let (query, span_ms) = match parse_body(&req.body) {
        Ok(v) => v,
        Err(reply) => return reply,
    };
    let Some(workspace_id) = find_workspace(&w, workspace) else {
        return error(
            404,
            "WorkspaceNotFoundError",
            &format!("The workspace could not be found: {workspace}"),
            None,
        );
    };
    let now = super::server::now_ms() as i64;
    let tables = telemetry(&w, &workspace_id, now, span_ms);
    match kql::evaluate(&query, &tables, now) {
        Ok(t) => Reply::json(200, json!({"tables": [kql::to_json(&t)]})),
        Err(e) => error(
            400,
            "BadArgumentError",
            "The request had some invalid properties",
            Some((e.inner, &e.message)),
        ),
    }
}

/// `{query, timespan?}` -> the query and the window in ms (no timespan: all).
fn parse_body(body: &[u8]) -> Result<(String, Option<i64>), Reply> {
    let bad = |m: &str| error(400, "BadArgumentError", m, None);
    if body.len() > MAX_BODY {
        return Err(bad("The request body is too large."));
    }
    let v: Value =
        serde_json::from_slice(body).map_err(|_| bad("The request body is not JSON."))?;
    let query = v["query"]
        .as_str()
        .ok_or_else(|| bad("The request had some invalid properties: 'query' is required."))?
        .to_string();
    let span = match v.get("timespan").and_then(Value::as_str) {
        None => None,
        Some(t) => Some(iso_duration_ms(t).ok_or_else(|| {
            bad(&format!(
                "The timespan '{t}' is not an ISO 8601 duration the sandbox reads (PnD, PTnH, PnDTnH, PTnM)."
            ))
        })?),
    };
    Ok((query, span))
}

/// `P7D`, `PT1H`, `P1DT12H`, `PT30M` in ms.
pub(crate) fn iso_duration_ms(text: &str) -> Option<i64> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut total = 0i64;
    let mut take = |part: &str, units: &[(char, i64)]| -> Option<()> {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
            } else {
                let unit = units.iter().find(|(u, _)| *u == c)?.1;
                total = total.checked_add(num.parse::<i64>().ok()?.checked_mul(unit)?)?;
                num.clear();
            }
        }
        num.is_empty().then_some(())
    };
    take(date, &[('D', 86_400_000), ('W', 7 * 86_400_000)])?;
    take(time, &[('H', 3_600_000), ('M', 60_000), ('S', 1_000)])?;
    (total > 0).then_some(total)
}

/// The ARM ID of the workspace whose `customerId` is `customer_id`.
fn find_workspace(w: &World, customer_id: &str) -> Option<String> {
    w.resources
        .values()
        .find(|r| {
            r.type_name
                .eq_ignore_ascii_case("Microsoft.OperationalInsights/workspaces")
                && r.body
                    .pointer("/properties/customerId")
                    .and_then(Value::as_str)
                    .is_some_and(|c| c.eq_ignore_ascii_case(customer_id))
        })
        .map(|r| r.id.clone())
}

/// What the deployment in the sandbox tells the synthesiser.
struct Shape {
    /// (deployment name, model name), at least one.
    deployments: Vec<(String, String)>,
    /// Single backends (primary first), at least one.
    backends: Vec<String>,
}

fn of_type<'a>(w: &'a World, type_name: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    w.resources
        .values()
        .filter(move |r| r.type_name.eq_ignore_ascii_case(type_name))
        .map(|r| &r.body)
}

fn shape(w: &World) -> Shape {
    let mut deployments: Vec<(String, String)> =
        of_type(w, "Microsoft.CognitiveServices/accounts/deployments")
            .filter_map(|b| {
                let name = b["name"].as_str()?.to_string();
                let model = b
                    .pointer("/properties/model/name")
                    .and_then(Value::as_str)
                    .unwrap_or(&name)
                    .to_string();
                Some((name, model))
            })
            .collect();
    deployments.sort();
    deployments.dedup_by(|a, b| a.1 == b.1);
    if deployments.is_empty() {
        deployments.push(("gpt-4o".into(), "gpt-4o".into()));
    }
    let mut backends: Vec<String> = of_type(w, "Microsoft.ApiManagement/service/backends")
        .filter(|b| b.pointer("/properties/type").and_then(Value::as_str) != Some("Pool"))
        .filter_map(|b| b["name"].as_str().map(str::to_string))
        .collect();
    // The primary (`foundry-backend`) first, then the pool members by name.
    backends.sort_by_key(|n| (n != "foundry-backend", n.clone()));
    if backends.is_empty() {
        backends.push("foundry-backend".into());
    }
    Shape {
        deployments,
        backends,
    }
}

/// Whether APIM sends its gateway logs to `workspace_id` (a diagnostic setting).
fn has_gateway_logs(w: &World, workspace_id: &str) -> bool {
    w.resources.values().any(|r| {
        r.type_name
            .eq_ignore_ascii_case("Microsoft.Insights/diagnosticSettings")
            && r.id
                .to_ascii_lowercase()
                .contains("/providers/microsoft.apimanagement/service/")
            && r.body
                .pointer("/properties/workspaceId")
                .and_then(Value::as_str)
                .is_some_and(|id| id.eq_ignore_ascii_case(workspace_id))
    })
}

/// The tables of the workspace at `now`, limited to the last `span_ms` (the query
/// API's `timespan`).
fn telemetry(
    w: &World,
    workspace_id: &str,
    now: i64,
    span_ms: Option<i64>,
) -> BTreeMap<String, Table> {
    let mut metrics = empty(&[
        ("TimeGenerated", "datetime"),
        ("Name", "string"),
        ("Sum", "real"),
        ("ItemCount", "int"),
        ("Properties", "dynamic"),
    ]);
    let mut gateway = empty(&[
        ("TimeGenerated", "datetime"),
        ("ApimSubscriptionId", "string"),
        ("CallerIpAddress", "string"),
        ("BackendId", "string"),
        ("ResponseCode", "int"),
        ("CorrelationId", "string"),
    ]);
    let mut llm = empty(&[
        ("TimeGenerated", "datetime"),
        ("DeploymentName", "string"),
        ("ModelName", "string"),
        ("PromptTokens", "int"),
        ("CompletionTokens", "int"),
        ("TotalTokens", "int"),
        ("SequenceNumber", "int"),
        ("CorrelationId", "string"),
    ]);
    if !has_gateway_logs(w, workspace_id) {
        // Log Analytics creates a table on its first ingestion: none yet.
        return BTreeMap::new();
    }
    let s = shape(w);
    for h in 0..HOURS {
        let at = now - h * 3_600_000 - 60_000;
        if span_ms.is_some_and(|span| at < now - span) {
            continue;
        }
        synthesise_hour(&s, h, at, &mut metrics, &mut gateway, &mut llm);
    }
    BTreeMap::from([
        ("AppMetrics".to_string(), metrics),
        ("ApiManagementGatewayLogs".to_string(), gateway),
        ("ApiManagementGatewayLlmLog".to_string(), llm),
    ])
}

fn empty(columns: &[(&str, &'static str)]) -> Table {
    Table {
        columns: columns.iter().map(|(n, k)| (n.to_string(), *k)).collect(),
        rows: Vec::new(),
    }
}

/// One hour of requests: every user with every model, plus one token-limit 429
/// for the heaviest user every sixth hour.
fn synthesise_hour(
    s: &Shape,
    h: i64,
    at: i64,
    metrics: &mut Table,
    gateway: &mut Table,
    llm: &mut Table,
) {
    for (u, user) in USERS.iter().enumerate() {
        let key = KEYS[u % KEYS.len()];
        let ip = IPS[u % IPS.len()];
        for (m, (deployment, model)) in s.deployments.iter().enumerate() {
            let total = tokens(u, m);
            let prompt = total * 2 / 3;
            let correlation = format!("{h:03}-{u}-{m}");
            // With a pool, every fourth request goes to a fallback member.
            let n = (h as usize + u + m) % 4;
            let backend = if s.backends.len() > 1 && n == 3 {
                &s.backends[1 + (h as usize + u) % (s.backends.len() - 1)]
            } else {
                &s.backends[0]
            };
            let dims = [
                ("User ID", *user),
                ("Model", model.as_str()),
                ("Client IP address", ip),
                ("Subscription ID", key),
                ("API ID", "openai"),
            ];
            for (name, value) in [
                ("Total Tokens", total),
                ("Prompt Tokens", prompt),
                ("Completion Tokens", total - prompt),
            ] {
                metrics.rows.push(row(vec![
                    ("TimeGenerated", Cell::Time(at)),
                    ("Name", Cell::Str(name.into())),
                    ("Sum", Cell::Real(value as f64)),
                    ("ItemCount", Cell::Long(1)),
                    ("Properties", bag(&dims)),
                ]));
            }
            gateway
                .rows
                .push(gateway_row(at, key, ip, backend, 200, &correlation));
            llm.rows.push(row(vec![
                ("TimeGenerated", Cell::Time(at)),
                ("DeploymentName", Cell::Str(deployment.clone())),
                ("ModelName", Cell::Str(model.clone())),
                ("PromptTokens", Cell::Long(prompt)),
                ("CompletionTokens", Cell::Long(total - prompt)),
                ("TotalTokens", Cell::Long(total)),
                ("SequenceNumber", Cell::Long(0)),
                ("CorrelationId", Cell::Str(correlation)),
            ]));
        }
        if u == USERS.len() - 1 && h % 6 == 0 {
            gateway.rows.push(gateway_row(
                at,
                key,
                ip,
                "",
                429,
                &format!("{h:03}-{u}-429"),
            ));
        }
    }
}

fn gateway_row(
    at: i64,
    key: &str,
    ip: &str,
    backend: &str,
    code: i64,
    correlation: &str,
) -> BTreeMap<String, Cell> {
    row(vec![
        ("TimeGenerated", Cell::Time(at)),
        ("ApimSubscriptionId", Cell::Str(key.into())),
        ("CallerIpAddress", Cell::Str(ip.into())),
        ("BackendId", Cell::Str(backend.into())),
        ("ResponseCode", Cell::Long(code)),
        ("CorrelationId", Cell::Str(correlation.into())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_durations() {
        assert_eq!(iso_duration_ms("P7D"), Some(7 * 86_400_000));
        assert_eq!(iso_duration_ms("PT1H"), Some(3_600_000));
        assert_eq!(iso_duration_ms("P1DT12H"), Some(36 * 3_600_000));
        assert_eq!(iso_duration_ms("PT30M"), Some(1_800_000));
        assert_eq!(iso_duration_ms("7d"), None);
        assert_eq!(iso_duration_ms("P"), None);
        assert_eq!(iso_duration_ms("P1X"), None);
    }
}
