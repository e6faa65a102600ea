//! The small subset of KQL the sandbox evaluates: what the tool's own usage queries
//! (`stages::usage::USAGE_QUERIES`) use, documented in docs/sandbox.md. Anything
//! else is refused with the Logs API's `400 BadArgumentError`.
//!
//! ```text
//! Table
//! | where Col == "text" | where Col != "" | where Col == 429 | where TimeGenerated > ago(1d)
//! | extend A = tostring(Col["key"]), B = Col
//! | summarize X = sum(Col), Y = count() by Col, bin(TimeGenerated, 1h)
//! | order by Col asc, X desc          (also `sort by`; the default order is desc)
//! | project A, B
//! | take 10                           (also `limit`)
//! ```

use serde_json::{Map, Value, json};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Longest query text evaluated.
pub(crate) const MAX_QUERY: usize = 16 * 1024;
/// Most pipe operators evaluated.
const MAX_OPERATORS: usize = 32;

/// A value in a row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// `string`.
    Str(String),
    /// `long` / `int`.
    Long(i64),
    /// `real`.
    Real(f64),
    /// `datetime`, unix milliseconds.
    Time(i64),
    /// `dynamic`.
    Dyn(Value),
}

impl Cell {
    fn kind(&self) -> &'static str {
        match self {
            Cell::Str(_) => "string",
            Cell::Long(_) => "long",
            Cell::Real(_) => "real",
            Cell::Time(_) => "datetime",
            Cell::Dyn(_) => "dynamic",
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Cell::Str(s) => json!(s),
            Cell::Long(n) => json!(n),
            Cell::Real(x) => json!(x),
            Cell::Time(ms) => json!(crate::sandbox::server::rfc3339((*ms).max(0) as u64)),
            Cell::Dyn(v) => v.clone(),
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Cell::Long(n) => Some(*n as f64),
            Cell::Real(x) => Some(*x),
            Cell::Time(ms) => Some(*ms as f64),
            _ => None,
        }
    }

    fn compare(&self, other: &Cell) -> Ordering {
        match (self, other) {
            (Cell::Str(a), Cell::Str(b)) => a.cmp(b),
            (a, b) => match (a.number(), b.number()) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                _ => a.to_json().to_string().cmp(&b.to_json().to_string()),
            },
        }
    }
}

/// A table: column names in order, and rows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    /// Column names and types, in order.
    pub columns: Vec<(String, &'static str)>,
    /// Rows by column name.
    pub rows: Vec<BTreeMap<String, Cell>>,
}

/// Why a query was refused: the inner error code (`SyntaxError`, `SemanticError`)
/// and a message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueryError {
    pub inner: &'static str,
    pub message: String,
}

fn syntax(message: impl Into<String>) -> QueryError {
    QueryError {
        inner: "SyntaxError",
        message: message.into(),
    }
}

fn semantic(message: impl Into<String>) -> QueryError {
    QueryError {
        inner: "SemanticError",
        message: message.into(),
    }
}

/// The result as the Logs API shapes it: `{name, columns: [{name, type}], rows}`.
pub(crate) fn to_json(t: &Table) -> Value {
    let columns: Vec<Value> = t
        .columns
        .iter()
        .map(|(n, k)| json!({"name": n, "type": k}))
        .collect();
    let rows: Vec<Value> = t
        .rows
        .iter()
        .map(|r| {
            Value::Array(
                t.columns
                    .iter()
                    .map(|(n, _)| r.get(n).map(Cell::to_json).unwrap_or(Value::Null))
                    .collect(),
            )
        })
        .collect();
    json!({"name": "PrimaryResult", "columns": columns, "rows": rows})
}

/// Evaluate `query` over `tables` at `now_ms`.
pub(crate) fn evaluate(
    query: &str,
    tables: &BTreeMap<String, Table>,
    now_ms: i64,
) -> Result<Table, QueryError> {
    if query.len() > MAX_QUERY {
        return Err(syntax(format!(
            "the query is longer than {MAX_QUERY} characters"
        )));
    }
    let parts = split_top(query, '|');
    if parts.len() > MAX_OPERATORS + 1 {
        return Err(syntax(format!("more than {MAX_OPERATORS} operators")));
    }
    // Parse before binding, as Kusto does: an unknown operator is a syntax error
    // even when the table does not exist.
    for op in &parts[1..] {
        let word = op.split_whitespace().next().unwrap_or("");
        if !OPERATORS.contains(&word) {
            return Err(syntax(format!(
                "the sandbox does not evaluate the operator '{word}' (see docs/sandbox.md for the KQL subset)"
            )));
        }
    }
    let source = parts[0].trim();
    let mut table = tables
        .iter()
        .find(|(name, _)| name.as_str() == source)
        .map(|(_, t)| t.clone())
        .ok_or_else(|| {
            semantic(format!(
                "Failed to resolve table or column expression named '{source}'"
            ))
        })?;
    for op in &parts[1..] {
        table = apply(op.trim(), table, now_ms)?;
    }
    Ok(table)
}

/// The operators evaluated.
const OPERATORS: [&str; 8] = [
    "where",
    "extend",
    "summarize",
    "order",
    "sort",
    "project",
    "take",
    "limit",
];

fn apply(op: &str, table: Table, now_ms: i64) -> Result<Table, QueryError> {
    let (word, rest) = op.split_once(char::is_whitespace).unwrap_or((op, ""));
    let rest = rest.trim();
    match word {
        "where" => where_op(rest, table, now_ms),
        "extend" => extend_op(rest, table),
        "summarize" => summarize_op(rest, table),
        "order" | "sort" => order_op(rest, table),
        "project" => project_op(rest, table),
        "take" | "limit" => take_op(rest, table),
        other => Err(syntax(format!(
            "the sandbox does not evaluate the operator '{other}' (see docs/sandbox.md for the KQL subset)"
        ))),
    }
}

/// Split on `sep` outside quotes, parentheses and brackets.
fn split_top(text: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                cur.push(c);
                continue;
            }
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '(' || c == '[' => depth += 1,
            None if c == ')' || c == ']' => depth -= 1,
            None if c == sep && depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            None => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

fn column<'a>(table: &'a Table, name: &str) -> Result<&'a str, QueryError> {
    table
        .columns
        .iter()
        .find(|(n, _)| n == name)
        .map(|(n, _)| n.as_str())
        .ok_or_else(|| {
            semantic(format!(
                "Failed to resolve scalar expression named '{name}'"
            ))
        })
}

fn identifier(text: &str) -> Result<&str, QueryError> {
    let t = text.trim();
    let ok = !t.is_empty()
        && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !t.starts_with(|c: char| c.is_ascii_digit());
    ok.then_some(t)
        .ok_or_else(|| syntax(format!("expected a column name, found '{t}'")))
}

/// `"text"` or `'text'`.
fn string_literal(text: &str) -> Option<String> {
    let t = text.trim();
    let q = t.chars().next()?;
    if (q == '"' || q == '\'') && t.len() >= 2 && t.ends_with(q) {
        Some(t[1..t.len() - 1].to_string())
    } else {
        None
    }
}

/// `30d`, `1h`, `15m`, `10s` in milliseconds.
pub(crate) fn timespan_ms(text: &str) -> Option<i64> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let unit_ms = match unit {
        "d" => 86_400_000,
        "h" => 3_600_000,
        "m" => 60_000,
        "s" => 1_000,
        "ms" => 1,
        _ => return None,
    };
    n.checked_mul(unit_ms)
}

fn literal(text: &str, now_ms: i64) -> Result<Cell, QueryError> {
    let t = text.trim();
    if let Some(s) = string_literal(t) {
        return Ok(Cell::Str(s));
    }
    if let Ok(n) = t.parse::<i64>() {
        return Ok(Cell::Long(n));
    }
    if let Some(inner) = t.strip_prefix("ago(").and_then(|r| r.strip_suffix(')')) {
        let span = timespan_ms(inner)
            .ok_or_else(|| syntax(format!("ago() takes a timespan like 7d, found '{inner}'")))?;
        return Ok(Cell::Time(now_ms - span));
    }
    Err(syntax(format!(
        "the sandbox compares with a string, an integer or ago(timespan), found '{t}'"
    )))
}

const COMPARISONS: [&str; 6] = ["==", "!=", ">=", "<=", ">", "<"];

fn where_op(rest: &str, mut table: Table, now_ms: i64) -> Result<Table, QueryError> {
    let (op, (lhs, rhs)) = COMPARISONS
        .iter()
        .find_map(|op| rest.split_once(op).map(|parts| (*op, parts)))
        .ok_or_else(|| syntax(format!("'where {rest}': expected Column op value")))?;
    let col = column(&table, identifier(lhs)?)?.to_string();
    let value = literal(rhs, now_ms)?;
    table.rows.retain(|row| {
        let ord = row
            .get(&col)
            .map(|c| c.compare(&value))
            .unwrap_or(Ordering::Less);
        match op {
            "==" => ord == Ordering::Equal,
            "!=" => ord != Ordering::Equal,
            ">=" => ord != Ordering::Less,
            "<=" => ord != Ordering::Greater,
            ">" => ord == Ordering::Greater,
            _ => ord == Ordering::Less,
        }
    });
    Ok(table)
}

/// `Name = expr`: the name and the expression text.
fn assignment(item: &str) -> Result<(&str, &str), QueryError> {
    let (name, expr) = item.split_once('=').ok_or_else(|| {
        syntax(format!(
            "expected Name = expression, found '{}'",
            item.trim()
        ))
    })?;
    Ok((identifier(name)?, expr.trim()))
}

fn extend_op(rest: &str, mut table: Table) -> Result<Table, QueryError> {
    for item in split_top(rest, ',') {
        let (name, expr) = assignment(&item)?;
        let (source, key) = match expr
            .strip_prefix("tostring(")
            .and_then(|r| r.strip_suffix(')'))
        {
            Some(inner) => {
                let (col, key) = inner
                    .split_once('[')
                    .and_then(|(c, k)| Some((c, string_literal(k.strip_suffix(']')?)?)))
                    .ok_or_else(|| {
                        syntax(format!(
                            "expected tostring(Column[\"key\"]), found '{expr}'"
                        ))
                    })?;
                (column(&table, identifier(col)?)?.to_string(), Some(key))
            }
            None => (column(&table, identifier(expr)?)?.to_string(), None),
        };
        for row in &mut table.rows {
            let cell = match (&key, row.get(&source)) {
                (Some(k), Some(Cell::Dyn(v))) => Cell::Str(match v.get(k) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                }),
                (Some(_), _) => Cell::Str(String::new()),
                (None, Some(c)) => c.clone(),
                (None, None) => Cell::Str(String::new()),
            };
            row.insert(name.to_string(), cell);
        }
        let kind = if key.is_some() {
            "string"
        } else {
            table
                .columns
                .iter()
                .find(|(n, _)| *n == source)
                .map(|(_, k)| *k)
                .unwrap_or("string")
        };
        table.columns.retain(|(n, _)| n != name);
        table.columns.push((name.to_string(), kind));
    }
    Ok(table)
}

/// An aggregation: `count()` or `sum(Column)`.
enum Agg {
    Count,
    Sum(String),
}

/// A group key: a column, or `bin(Column, span)`.
struct Key {
    name: String,
    column: String,
    bin_ms: Option<i64>,
}

fn parse_agg(item: &str, table: &Table) -> Result<(String, Agg), QueryError> {
    let (name, expr) = match item.split_once('=') {
        Some(_) => {
            let (n, e) = assignment(item)?;
            (Some(n.to_string()), e.to_string())
        }
        None => (None, item.trim().to_string()),
    };
    if expr.replace(' ', "") == "count()" {
        return Ok((name.unwrap_or_else(|| "count_".into()), Agg::Count));
    }
    if let Some(inner) = expr.strip_prefix("sum(").and_then(|r| r.strip_suffix(')')) {
        let col = column(table, identifier(inner)?)?.to_string();
        return Ok((name.unwrap_or_else(|| format!("sum_{col}")), Agg::Sum(col)));
    }
    Err(syntax(format!(
        "the sandbox evaluates the aggregations count() and sum(Column), found '{expr}'"
    )))
}

fn parse_key(item: &str, table: &Table) -> Result<Key, QueryError> {
    let t = item.trim();
    if let Some(inner) = t
        .strip_prefix("bin")
        .map(str::trim_start)
        .and_then(|r| r.strip_prefix('('))
        .and_then(|r| r.strip_suffix(')'))
    {
        let (col, span) = inner
            .split_once(',')
            .ok_or_else(|| syntax(format!("expected bin(Column, span), found '{t}'")))?;
        let col = column(table, identifier(col)?)?.to_string();
        let bin_ms = timespan_ms(span).filter(|ms| *ms > 0).ok_or_else(|| {
            syntax(format!(
                "bin() takes a timespan like 1h, found '{}'",
                span.trim()
            ))
        })?;
        return Ok(Key {
            name: col.clone(),
            column: col,
            bin_ms: Some(bin_ms),
        });
    }
    let col = column(table, identifier(t)?)?.to_string();
    Ok(Key {
        name: col.clone(),
        column: col,
        bin_ms: None,
    })
}

fn summarize_op(rest: &str, table: Table) -> Result<Table, QueryError> {
    let (aggs_text, by_text) = match rest.split_once(" by ") {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    let aggs = split_top(aggs_text, ',')
        .iter()
        .map(|i| parse_agg(i, &table))
        .collect::<Result<Vec<_>, _>>()?;
    let keys = match by_text {
        Some(b) => split_top(b, ',')
            .iter()
            .map(|i| parse_key(i, &table))
            .collect::<Result<Vec<_>, _>>()?,
        None => Vec::new(),
    };
    let mut groups: Vec<(Vec<Cell>, Vec<Cell>)> = Vec::new();
    for row in &table.rows {
        let key: Vec<Cell> = keys.iter().map(|k| key_cell(k, row)).collect();
        let idx = match groups.iter().position(|(g, _)| *g == key) {
            Some(i) => i,
            None => {
                let zero = aggs.iter().map(|(_, a)| zero_of(a, &table)).collect();
                groups.push((key, zero));
                groups.len() - 1
            }
        };
        for (acc, (_, agg)) in groups[idx].1.iter_mut().zip(&aggs) {
            add(acc, agg, row);
        }
    }
    let mut columns: Vec<(String, &'static str)> = keys
        .iter()
        .map(|k| {
            let kind = table
                .columns
                .iter()
                .find(|(n, _)| *n == k.column)
                .map(|(_, t)| *t)
                .unwrap_or("string");
            (k.name.clone(), kind)
        })
        .collect();
    columns.extend(
        aggs.iter()
            .map(|(n, a)| (n.clone(), zero_of(a, &table).kind())),
    );
    let rows = groups
        .into_iter()
        .map(|(key, vals)| {
            let mut row = BTreeMap::new();
            for (k, c) in keys.iter().zip(key) {
                row.insert(k.name.clone(), c);
            }
            for ((n, _), c) in aggs.iter().zip(vals) {
                row.insert(n.clone(), c);
            }
            row
        })
        .collect();
    Ok(Table { columns, rows })
}

fn key_cell(k: &Key, row: &BTreeMap<String, Cell>) -> Cell {
    let cell = row
        .get(&k.column)
        .cloned()
        .unwrap_or(Cell::Str(String::new()));
    match (k.bin_ms, cell) {
        (Some(b), Cell::Time(ms)) => Cell::Time(ms.div_euclid(b) * b),
        (Some(b), Cell::Long(n)) => Cell::Long(n.div_euclid(b) * b),
        (_, c) => c,
    }
}

fn zero_of(agg: &Agg, table: &Table) -> Cell {
    match agg {
        Agg::Count => Cell::Long(0),
        Agg::Sum(col) => match table.columns.iter().find(|(n, _)| n == col) {
            Some((_, "long")) | Some((_, "int")) => Cell::Long(0),
            _ => Cell::Real(0.0),
        },
    }
}

fn add(acc: &mut Cell, agg: &Agg, row: &BTreeMap<String, Cell>) {
    let amount = match agg {
        Agg::Count => 1.0,
        Agg::Sum(col) => row.get(col).and_then(Cell::number).unwrap_or(0.0),
    };
    match acc {
        Cell::Long(n) => *n += amount as i64,
        Cell::Real(x) => *x += amount,
        _ => {}
    }
}

fn order_op(rest: &str, mut table: Table) -> Result<Table, QueryError> {
    let list = rest
        .strip_prefix("by ")
        .ok_or_else(|| syntax(format!("expected 'order by', found 'order {rest}'")))?;
    let mut keys = Vec::new();
    for item in split_top(list, ',') {
        let mut words = item.split_whitespace();
        let col = column(&table, identifier(words.next().unwrap_or(""))?)?.to_string();
        let desc = match words.next() {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(other) => return Err(syntax(format!("expected asc or desc, found '{other}'"))),
        };
        keys.push((col, desc));
    }
    table.rows.sort_by(|a, b| {
        for (col, desc) in &keys {
            let empty = Cell::Str(String::new());
            let ord = a
                .get(col)
                .unwrap_or(&empty)
                .compare(b.get(col).unwrap_or(&empty));
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    });
    Ok(table)
}

fn project_op(rest: &str, mut table: Table) -> Result<Table, QueryError> {
    let mut columns = Vec::new();
    for item in split_top(rest, ',') {
        let name = column(&table, identifier(&item)?)?.to_string();
        let kind = table
            .columns
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| *k)
            .unwrap_or("string");
        columns.push((name, kind));
    }
    for row in &mut table.rows {
        row.retain(|k, _| columns.iter().any(|(n, _)| n == k));
    }
    table.columns = columns;
    Ok(table)
}

fn take_op(rest: &str, mut table: Table) -> Result<Table, QueryError> {
    let n: usize = rest
        .trim()
        .parse()
        .map_err(|_| syntax(format!("take takes a row count, found '{rest}'")))?;
    table.rows.truncate(n);
    Ok(table)
}

/// A row from `(column, cell)` pairs.
pub(crate) fn row(cells: Vec<(&str, Cell)>) -> BTreeMap<String, Cell> {
    cells.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A `dynamic` property bag.
pub(crate) fn bag(pairs: &[(&str, &str)]) -> Cell {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert((*k).to_string(), json!(v));
    }
    Cell::Dyn(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> BTreeMap<String, Table> {
        let mut t = Table {
            columns: vec![
                ("TimeGenerated".into(), "datetime"),
                ("Name".into(), "string"),
                ("Sum".into(), "real"),
                ("Properties".into(), "dynamic"),
            ],
            rows: Vec::new(),
        };
        for (age_h, user, tokens) in [
            (1, "a", 10.0),
            (2, "b", 5.0),
            (3, "a", 1.0),
            (50, "a", 100.0),
        ] {
            t.rows.push(row(vec![
                (
                    "TimeGenerated",
                    Cell::Time(1_000_000_000 - age_h * 3_600_000),
                ),
                ("Name", Cell::Str("Total Tokens".into())),
                ("Sum", Cell::Real(tokens)),
                ("Properties", bag(&[("User ID", user)])),
            ]));
        }
        BTreeMap::from([("AppMetrics".to_string(), t)])
    }

    #[test]
    fn evaluates_the_subset() {
        let q = "AppMetrics\n| where TimeGenerated > ago(1d)\n| where Name == \"Total Tokens\"\n| extend User = tostring(Properties[\"User ID\"])\n| summarize Tokens = sum(Sum), N = count() by User\n| order by Tokens desc";
        let out = evaluate(q, &tables(), 1_000_000_000).expect("evaluates");
        let json = to_json(&out);
        assert_eq!(
            json["columns"][0],
            json!({"name": "User", "type": "string"})
        );
        assert_eq!(
            json["columns"][1],
            json!({"name": "Tokens", "type": "real"})
        );
        assert_eq!(json["columns"][2], json!({"name": "N", "type": "long"}));
        assert_eq!(json["rows"], json!([["a", 11.0, 2], ["b", 5.0, 1]]));
    }

    #[test]
    fn refuses_what_is_outside_the_subset() {
        let t = tables();
        let err = evaluate("AppMetrics | join kind=inner (X) on Y", &t, 0).unwrap_err();
        assert_eq!(err.inner, "SyntaxError");
        let err = evaluate("AppMetricz | take 1", &t, 0).unwrap_err();
        assert_eq!(err.inner, "SemanticError");
        let err = evaluate("AppMetrics | summarize sum(Summ)", &t, 0).unwrap_err();
        assert!(err.message.contains("Summ"), "{}", err.message);
        let err = evaluate("AppMetrics | summarize max(Sum)", &t, 0).unwrap_err();
        assert_eq!(err.inner, "SyntaxError");
    }
}
