//! Fault injection: rules from `--faults FILE` (JSON or TOML) or `POST /_sandbox/faults`.
//!
//! A rule selects requests by method and path pattern and applies one kind of fault when
//! its trigger fires. Probabilistic triggers use a generator seeded from the options, so a
//! run with the same seed and the same request order injects the same faults.

use std::path::Path;

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SandboxError;

/// A set of fault rules (the `--faults FILE` format; see `docs/sandbox.md`).
///
/// JSON: `{"rules": [{"method": "PUT", "path": "*/virtualNetworks/*", "kind": "status",
/// "status": 429, "retry_after_secs": 1, "nth": 1}]}`; TOML: `[[rules]]` tables with the
/// same keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultPlan {
    /// The rules, checked in order; the first that fires applies (latency adds up).
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with `status` (e.g. 429, 500, 503) and an ARM-shaped error body, plus
    /// `Retry-After`/`retry-after-ms` when `retry_after_secs` is set (scaled).
    Status,
    /// Close the connection without any response.
    Drop,
    /// Delay the request by `latency_ms` (not scaled), then serve it normally.
    Latency,
    /// The long-running operation this write starts ends `Failed` with `code`/`message`
    /// (a synchronous type answers the error at once, with `status` or 400).
    FailLro,
    /// Role assignments matching this rule see a replication delay of `delay_secs`
    /// (scaled) instead of the default.
    PrincipalDelay,
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// HTTP method to match (any when absent), case-insensitive.
    #[serde(default)]
    pub method: Option<String>,
    /// Pattern on path + query, case-insensitive: a glob when it contains `*` (`*` matches
    /// any run of characters), else a substring. Empty matches everything.
    #[serde(default)]
    pub path: String,
    /// The fault.
    pub kind: FaultKind,
    /// Status code for `status` (and `fail_lro` on a synchronous type).
    #[serde(default)]
    pub status: Option<u16>,
    /// ARM error code for `status` and `fail_lro`.
    #[serde(default)]
    pub code: Option<String>,
    /// ARM error message for `status` and `fail_lro`.
    #[serde(default)]
    pub message: Option<String>,
    /// Retry-After for `status` in (unscaled) seconds; multiplied by the time scale.
    /// A 429 without it announces 1 s.
    #[serde(default)]
    pub retry_after_secs: Option<f64>,
    /// Added delay for `latency`, in milliseconds (not scaled).
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// For `drop`: serve the request first (a write happens), then close the connection
    /// without the answer.
    #[serde(default)]
    pub after_processing: bool,
    /// Replication delay for `principal_delay`, in (unscaled) seconds.
    #[serde(default)]
    pub delay_secs: Option<f64>,
    /// Fire on the Nth matching request (1-based), and the `count - 1` after it.
    #[serde(default)]
    pub nth: Option<u64>,
    /// Fire on each matching request with this probability (0..=1), seeded.
    #[serde(default)]
    pub probability: Option<f64>,
    /// Fire at most this many times (default: 1 with `nth`, unlimited otherwise).
    #[serde(default)]
    pub count: Option<u64>,
}

impl FaultPlan {
    /// Parse a plan from JSON.
    pub fn from_json_str(text: &str) -> Result<FaultPlan, SandboxError> {
        let plan: FaultPlan = serde_json::from_str(text).map_err(|e| SandboxError::Faults {
            source_name: None,
            message: e.to_string(),
        })?;
        plan.validate()?;
        Ok(plan)
    }

    /// Parse a plan from TOML.
    pub fn from_toml_str(text: &str) -> Result<FaultPlan, SandboxError> {
        let plan: FaultPlan = toml::from_str(text).map_err(|e| SandboxError::Faults {
            source_name: None,
            message: e.to_string(),
        })?;
        plan.validate()?;
        Ok(plan)
    }

    /// Read a plan file: JSON when it ends in `.json` or starts with `{`, else TOML.
    pub fn from_file(path: &Path) -> Result<FaultPlan, SandboxError> {
        let text =
            crate::files::read_capped_to_string(path, crate::files::MAX_FAULTS).map_err(|e| {
                SandboxError::Io {
                    path: path.to_path_buf(),
                    source: e,
                }
            })?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            || text.trim_start().starts_with('{');
        let res = if is_json {
            Self::from_json_str(&text)
        } else {
            Self::from_toml_str(&text)
        };
        res.map_err(|e| match e {
            SandboxError::Faults { message, .. } => SandboxError::Faults {
                source_name: Some(path.display().to_string()),
                message,
            },
            other => other,
        })
    }

    /// Check that every rule has what its kind needs.
    pub fn validate(&self) -> Result<(), SandboxError> {
        for (i, r) in self.rules.iter().enumerate() {
            let bad = |m: &str| SandboxError::Faults {
                source_name: None,
                message: format!("rule {}: {m}", i + 1),
            };
            match r.kind {
                FaultKind::Status => match r.status {
                    Some(s) if (400..=599).contains(&s) => {}
                    _ => return Err(bad("kind `status` needs `status` between 400 and 599")),
                },
                FaultKind::Latency if r.latency_ms.is_none() => {
                    return Err(bad("kind `latency` needs `latency_ms`"));
                }
                FaultKind::PrincipalDelay if r.delay_secs.is_none_or(|d| d < 0.0) => {
                    return Err(bad("kind `principal_delay` needs `delay_secs` >= 0"));
                }
                _ => {}
            }
            if r.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
                return Err(bad("`probability` must be between 0 and 1"));
            }
            if r.nth == Some(0) {
                return Err(bad("`nth` counts from 1"));
            }
        }
        Ok(())
    }
}

/// A rule plus its counters.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ActiveRule {
    #[serde(flatten)]
    pub rule: FaultRule,
    /// Requests that matched.
    pub matched: u64,
    /// Times it fired.
    pub fired: u64,
}

/// What the faults decided for one request.
#[derive(Debug, Default)]
pub(crate) struct Decision {
    /// Total added latency (ms).
    pub latency_ms: u64,
    /// Close the connection.
    pub drop: bool,
    /// Serve the request before dropping the connection.
    pub drop_after: bool,
    /// Answer with this status and error (status, code, message, retry-after secs unscaled).
    pub status: Option<(u16, String, String, Option<f64>)>,
    /// The LRO started by this write fails with this error (status, ARM error object).
    pub fail_lro: Option<(u16, Value)>,
    /// Replication delay override (unscaled seconds).
    pub principal_delay_secs: Option<f64>,
    /// Names of the rules that fired, for the journal.
    pub fired: Vec<String>,
}

/// The rule engine with its seeded generator.
pub(crate) struct Engine {
    pub rules: Vec<ActiveRule>,
    rng: StdRng,
}

fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative `*` matching with backtracking to the last star.
    let (mut p, mut t) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while t < text.len() {
        if p < pattern.len() && pattern[p] != b'*' && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

/// Does `pattern` (glob with `*`, else substring) match `path`? Case-insensitive.
pub(crate) fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let path = path.to_ascii_lowercase();
    if pattern.contains('*') {
        glob_match(pattern.as_bytes(), path.as_bytes())
    } else {
        path.contains(&pattern)
    }
}

impl Engine {
    /// An engine with `plan`'s rules and a generator seeded with `seed`.
    pub fn new(plan: Option<FaultPlan>, seed: u64) -> Engine {
        let mut e = Engine {
            rules: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
        };
        if let Some(p) = plan {
            e.set(p, false);
        }
        e
    }

    /// Replace (or append to) the rules.
    pub fn set(&mut self, plan: FaultPlan, append: bool) {
        if !append {
            self.rules.clear();
        }
        self.rules
            .extend(plan.rules.into_iter().map(|rule| ActiveRule {
                rule,
                matched: 0,
                fired: 0,
            }));
    }

    /// Decide the faults for one request.
    pub fn decide(&mut self, method: &str, path_and_query: &str) -> Decision {
        let mut d = Decision::default();
        for (i, ar) in self.rules.iter_mut().enumerate() {
            let r = &ar.rule;
            if r.method
                .as_deref()
                .is_some_and(|m| !m.eq_ignore_ascii_case(method))
            {
                continue;
            }
            if !r.path.is_empty() && !path_matches(&r.path, path_and_query) {
                continue;
            }
            ar.matched += 1;
            let limit = r
                .count
                .unwrap_or(if r.nth.is_some() { 1 } else { u64::MAX });
            if ar.fired >= limit {
                continue;
            }
            if r.nth.is_some_and(|n| ar.matched < n) {
                continue;
            }
            if let Some(p) = r.probability
                && self.rng.random::<f64>() >= p
            {
                continue;
            }
            // A terminal fault already decided: later rules only add latency.
            let terminal = d.drop || d.status.is_some();
            match r.kind {
                FaultKind::Latency => d.latency_ms += r.latency_ms.unwrap_or(0),
                _ if terminal => continue,
                FaultKind::Drop => {
                    d.drop = true;
                    d.drop_after = r.after_processing;
                }
                FaultKind::Status => {
                    let status = r.status.unwrap_or(500);
                    let code = r
                        .code
                        .clone()
                        .unwrap_or_else(|| default_code(status).into());
                    let message = r
                        .message
                        .clone()
                        .unwrap_or_else(|| default_message(status).into());
                    // ARM always sends Retry-After with a 429: 1 s (scaled) unless given.
                    let retry = r.retry_after_secs.or((status == 429).then_some(1.0));
                    d.status = Some((status, code, message, retry));
                }
                FaultKind::FailLro => {
                    if d.fail_lro.is_some() {
                        continue;
                    }
                    let code = r
                        .code
                        .clone()
                        .unwrap_or_else(|| "InternalServerError".into());
                    let message = r
                        .message
                        .clone()
                        .unwrap_or_else(|| "The operation failed (injected fault).".into());
                    d.fail_lro = Some((
                        r.status.unwrap_or(400),
                        json!({"code": code, "message": message}),
                    ));
                }
                FaultKind::PrincipalDelay => {
                    if d.principal_delay_secs.is_some() {
                        continue;
                    }
                    d.principal_delay_secs = r.delay_secs;
                }
            }
            ar.fired += 1;
            d.fired
                .push(format!("rule {} ({:?})", i + 1, r.kind).to_ascii_lowercase());
        }
        d
    }
}

fn default_code(status: u16) -> &'static str {
    match status {
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        409 => "Conflict",
        _ => "InjectedFault",
    }
}

fn default_message(status: u16) -> &'static str {
    match status {
        429 => {
            "The request is being throttled as the limit has been reached for operation type - Write_ObservationWindow_00:01:00."
        }
        500 => "The server encountered an internal error. Please retry the request.",
        503 => "The service is temporarily unavailable. Please retry the request.",
        _ => "Injected fault.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(path_matches(
            "*/virtualNetworks/*",
            "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualnetworks/v?api-version=1"
        ));
        assert!(!path_matches("*/subnets", "/a/subnets/x"));
        assert!(path_matches("subnets", "/a/subnets/x"));
    }

    #[test]
    fn nth_and_count() {
        let plan =
            FaultPlan::from_json_str(r#"{"rules":[{"path":"x","kind":"drop","nth":2,"count":2}]}"#)
                .unwrap();
        let mut e = Engine::new(Some(plan), 1);
        let fired: Vec<bool> = (0..5).map(|_| e.decide("GET", "/x").drop).collect();
        assert_eq!(fired, vec![false, true, true, false, false]);
    }

    #[test]
    fn toml_format() {
        let plan = FaultPlan::from_toml_str("[[rules]]\nmethod = \"PUT\"\npath = \"*\"\nkind = \"status\"\nstatus = 429\nretry_after_secs = 1.0\nprobability = 0.2\n").unwrap();
        assert_eq!(plan.rules[0].status, Some(429));
        assert!(FaultPlan::from_toml_str("[[rules]]\nkind = \"status\"\n").is_err());
        assert!(FaultPlan::from_toml_str("[[rules]]\nkind = \"drop\"\nbogus = 1\n").is_err());
    }
}
