//! The keys every table of an environment file may hold, with their kinds, and the
//! walker that checks a parsed TOML tree against them before serde sees it.
//!
//! This table is the single source of truth for "known keys"; the unit tests at the
//! bottom prove it matches serde's view of [`crate::config::Environment`] (every key
//! serde emits is here and vice versa, and required-ness agrees).

use crate::config::rules::{self, CidrError};
use crate::config::secrets;
use crate::config::{Pos, Problem};
use std::collections::HashMap;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The kind of value a key holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// A string.
    Str,
    /// A non-negative integer that fits `u32`.
    U32,
    /// A non-negative integer that fits `u64`.
    U64,
    /// A number (integer or float).
    Float,
    /// `true` / `false`.
    Bool,
    /// A string holding an IPv4 CIDR block.
    Cidr,
    /// A string from a fixed list (a serde enum).
    OneOf(&'static [&'static str]),
    /// An array of strings.
    StrList,
    /// A table of string values with free-form keys.
    StrMap,
    /// A table.
    Table(&'static TableSchema),
    /// An array of tables.
    TableList(&'static TableSchema),
    /// `azure.cloud`: a cloud name or a table of custom endpoints.
    Cloud,
}

/// One key of a table.
#[derive(Debug)]
pub(crate) struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

/// The keys of one table.
#[derive(Debug)]
pub(crate) struct TableSchema {
    pub fields: &'static [Field],
}

impl TableSchema {
    pub(crate) fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

const fn req(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: true,
    }
}
const fn opt(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        required: false,
    }
}

use Kind::*;

/// Cloud names accepted by `azure.cloud`.
pub(crate) const CLOUD_NAMES: &[&str] = &[
    "AzureCloud",
    "AzureUSGovernment",
    "AzureChinaCloud",
    "sandbox",
];
/// Values of `apim.token_limit.counter_key`.
pub(crate) const COUNTER_KEYS: &[&str] = &["user", "subscription", "ip"];

pub(crate) static CUSTOM_CLOUD: TableSchema = TableSchema {
    fields: &[
        req("resource_manager", Str),
        req("graph", Str),
        req("authority", Str),
        opt("resource_manager_audience", Str),
        opt("ca_file", Str),
    ],
};
static SANDBOX: TableSchema = TableSchema {
    fields: &[opt("state_file", Str), opt("time_scale", Float)],
};
static AZURE: TableSchema = TableSchema {
    fields: &[
        opt("cloud", Cloud),
        req("subscription_id", Str),
        req("tenant_id", Str),
        req("location", Str),
        opt("sandbox", Table(&SANDBOX)),
    ],
};
static HUB_SUBNETS: TableSchema = TableSchema {
    fields: &[
        req("apim", Cidr),
        req("appgw", Cidr),
        req("private_endpoints", Cidr),
    ],
};
static HUB: TableSchema = TableSchema {
    fields: &[
        req("resource_group", Str),
        opt("location", Str),
        opt("vnet_name", Str),
        req("address_space", Cidr),
        req("subnets", Table(&HUB_SUBNETS)),
        opt("apim_nsg_name", Str),
        opt("apim_route_table_name", Str),
        opt("log_analytics_name", Str),
        opt("log_retention_days", U32),
        opt("app_insights_name", Str),
        opt("appgw_public_ip_name", Str),
        opt("apim_public_ip_name", Str),
        req("apim_public_ip_dns_label", Str),
        opt("appgw_identity_name", Str),
        req("key_vault_name", Str),
        opt("key_vault_private_dns", Bool),
    ],
};
static TOKEN_LIMIT: TableSchema = TableSchema {
    fields: &[
        opt("tokens_per_minute", U64),
        opt("counter_key", OneOf(COUNTER_KEYS)),
        opt("token_quota", U64),
        opt("quota_period", Str),
        opt("allowed_roles", StrList),
    ],
};
static APIM: TableSchema = TableSchema {
    fields: &[
        req("name", Str),
        opt("sku", Str),
        opt("capacity", U32),
        req("publisher_email", Str),
        req("publisher_name", Str),
        opt("token_limit", Table(&TOKEN_LIMIT)),
        opt("product_name", Str),
        opt("openapi", Str),
        opt("policy_file", Str),
        opt("llm_log_max_message_bytes", U32),
    ],
};
static SPOKE: TableSchema = TableSchema {
    fields: &[
        req("resource_group", Str),
        opt("subscription_id", Str),
        opt("location", Str),
        opt("vnet_name", Str),
        req("address_space", Cidr),
        req("container_apps_subnet", Cidr),
        opt("nsg_name", Str),
        req("key_vault_name", Str),
        req("storage_account_name", Str),
        opt("file_share_name", Str),
        opt("file_share_quota_gib", U32),
    ],
};
static DEPLOYMENT: TableSchema = TableSchema {
    fields: &[
        req("name", Str),
        req("format", Str),
        req("model", Str),
        req("version", Str),
        opt("sku", Str),
        req("capacity", U32),
    ],
};
static POOL_MEMBER: TableSchema = TableSchema {
    fields: &[
        req("name", Str),
        req("location", Str),
        opt("custom_subdomain", Str),
        opt("priority", U32),
        opt("weight", U32),
    ],
};
static FOUNDRY: TableSchema = TableSchema {
    fields: &[
        req("name", Str),
        opt("custom_subdomain", Str),
        opt("location", Str),
        opt("deployments", TableList(&DEPLOYMENT)),
        opt("pool", TableList(&POOL_MEMBER)),
    ],
};
static POSTGRES: TableSchema = TableSchema {
    fields: &[
        req("server_name", Str),
        opt("version", Str),
        opt("sku", Str),
        opt("tier", Str),
        opt("storage_gb", U32),
        opt("admin_login", Str),
        opt("database", Str),
        opt("extensions", StrList),
    ],
};
static CONTAINER_APP: TableSchema = TableSchema {
    fields: &[
        req("environment_name", Str),
        opt("name", Str),
        opt("environment_identity_name", Str),
        opt("image", Str),
        opt("cpu", Float),
        opt("memory", Str),
        opt("min_replicas", U32),
        opt("max_replicas", U32),
        opt("extra_env", StrMap),
    ],
};
static REDIS: TableSchema = TableSchema {
    fields: &[
        req("name", Str),
        opt("sku", Str),
        opt("high_availability", Bool),
    ],
};
static APP_GATEWAY: TableSchema = TableSchema {
    fields: &[
        opt("name", Str),
        opt("sku", Str),
        opt("capacity", U32),
        opt("waf_policy_name", Str),
        opt("waf_mode", Str),
    ],
};
static DOMAIN: TableSchema = TableSchema {
    fields: &[
        req("custom_domain", Str),
        opt("certificate_pfx_path", Str),
        opt("trusted_root_certificate_path", Str),
    ],
};
static ENTRA: TableSchema = TableSchema {
    fields: &[
        req("app_name", Str),
        req("unique_name", Str),
        opt("roles", StrList),
        opt("provider_name", Str),
    ],
};
static USAGE: TableSchema = TableSchema {
    fields: &[opt("workbook", Bool)],
};
/// The whole file.
pub(crate) static ENVIRONMENT: TableSchema = TableSchema {
    fields: &[
        req("name", Str),
        req("azure", Table(&AZURE)),
        opt("tags", StrMap),
        opt("ignore_tags", StrList),
        req("hub", Table(&HUB)),
        req("apim", Table(&APIM)),
        req("spoke", Table(&SPOKE)),
        req("foundry", Table(&FOUNDRY)),
        req("postgres", Table(&POSTGRES)),
        req("container_app", Table(&CONTAINER_APP)),
        opt("app_gateway", Table(&APP_GATEWAY)),
        req("domain", Table(&DOMAIN)),
        req("entra", Table(&ENTRA)),
        opt("redis", Table(&REDIS)),
        opt("usage", Table(&USAGE)),
    ],
};

/// Every table path (`hub.subnets`, `foundry.deployments`, ...) and its schema.
pub(crate) fn all_tables() -> Vec<(String, &'static TableSchema)> {
    fn rec(path: &str, t: &'static TableSchema, out: &mut Vec<(String, &'static TableSchema)>) {
        out.push((path.to_string(), t));
        for f in t.fields {
            let p = join(path, f.name);
            match f.kind {
                Table(s) | TableList(s) => rec(&p, s, out),
                Cloud => out.push((p, &CUSTOM_CLOUD)),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    rec("", &ENVIRONMENT, &mut out);
    out
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// How a table is written in messages: `[hub.subnets]`, `[[foundry.deployments]]`, or
/// "the top level".
fn table_display(path: &str, in_array: bool) -> String {
    // Strip array indexes: foundry.deployments[1] -> foundry.deployments.
    let mut clean = String::new();
    let mut skip = false;
    for c in path.chars() {
        match c {
            '[' => skip = true,
            ']' => skip = false,
            _ if !skip => clean.push(c),
            _ => {}
        }
    }
    if clean.is_empty() {
        "the top level".into()
    } else if in_array {
        format!("[[{clean}]]")
    } else {
        format!("[{clean}]")
    }
}

/// Spans of keys and values by dotted path (`foundry.deployments[0].capacity`).
#[derive(Debug, Default, Clone)]
pub(crate) struct SpanIndex {
    pub values: HashMap<String, Range<usize>>,
    pub keys: HashMap<String, Range<usize>>,
}

/// Walks a parsed document against [`ENVIRONMENT`].
pub(crate) struct Walker<'a> {
    pub pos: &'a Pos<'a>,
    pub problems: Vec<Problem>,
    pub spans: SpanIndex,
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn expected_name(k: Kind) -> &'static str {
    match k {
        Str | OneOf(_) => "a string",
        U32 | U64 => "a non-negative integer",
        Float => "a number",
        Bool => "a boolean (true or false)",
        Cidr => "a string holding a CIDR block like \"10.0.0.0/24\"",
        StrList => "an array of strings",
        StrMap => "a table of strings",
        Table(_) => "a table",
        TableList(_) => "an array of tables ([[...]])",
        Cloud => "a cloud name or a table of endpoints",
    }
}

/// Does any string inside `v` look like a secret?
fn nested_secret(v: &DeValue<'_>) -> Option<&'static str> {
    match v {
        DeValue::String(s) => secrets::value_looks_secret(s),
        DeValue::Array(a) => a.iter().find_map(|x| nested_secret(x.get_ref())),
        DeValue::Table(t) => t.iter().find_map(|(_, x)| nested_secret(x.get_ref())),
        _ => None,
    }
}

/// `must be a whole number from LO to HI, not N`, with the bounds the semantic
/// checks apply to `path` when there are any, else those of its type.
fn range_message(path: &str, value: Option<i128>, type_max: i128) -> String {
    let shown = value.map(|n| format!(", not {n}")).unwrap_or_default();
    match crate::config::semantic::integer_bounds(path) {
        Some((lo, Some(hi))) => format!("must be a whole number from {lo} to {hi}{shown}"),
        Some((lo, None)) if value.is_some_and(|n| n < 0) => {
            format!("must be a whole number of {lo} or more{shown}")
        }
        Some((lo, None)) => {
            format!("must be a whole number from {lo} to {type_max}{shown}")
        }
        None if value.is_some_and(|n| n < 0) => {
            format!("must be a whole number of 0 or more{shown}")
        }
        None => format!("must be a whole number from 0 to {type_max}{shown}"),
    }
}

/// Whether a value under a secret-sounding unknown key could hold a secret: a
/// string of 8 characters or more that is not a flag or a number.
fn could_be_secret(v: &DeValue<'_>) -> bool {
    matches!(v, DeValue::String(s)
        if s.chars().count() >= 8 && !secrets::value_is_flag_or_number(s))
}

fn integer_value(v: &DeValue<'_>) -> Option<i128> {
    match v {
        DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix()).ok(),
        _ => None,
    }
}

impl<'a> Walker<'a> {
    pub(crate) fn new(pos: &'a Pos<'a>) -> Self {
        Walker {
            pos,
            problems: Vec::new(),
            spans: SpanIndex::default(),
        }
    }

    fn push(&mut self, span: Option<Range<usize>>, key: &str, code: &'static str, message: String) {
        self.problems
            .push(self.pos.problem(span, key.to_string(), code, message));
    }

    fn secret(&mut self, span: Range<usize>, key: &str, what: &str) {
        self.push(
            Some(span),
            key,
            "secret-in-file",
            format!(
                "this looks like a secret ({what}); {}",
                secrets::WHERE_SECRETS_COME_FROM
            ),
        );
    }

    /// Walks the whole document.
    pub(crate) fn walk_document(&mut self, doc: &Spanned<DeTable<'_>>) {
        self.walk_table(doc.get_ref(), None, &ENVIRONMENT, "", false);
    }

    fn walk_table(
        &mut self,
        table: &DeTable<'_>,
        table_span: Option<Range<usize>>,
        schema: &'static TableSchema,
        path: &str,
        in_array: bool,
    ) {
        for (k, v) in table.iter() {
            let name: &str = k.get_ref();
            let kpath = join(path, name);
            let Some(field) = schema.field(name) else {
                self.unknown_key(k.span(), v, name, &kpath, schema, path, in_array);
                continue;
            };
            self.spans.keys.insert(kpath.clone(), k.span());
            self.spans.values.insert(kpath.clone(), v.span());
            self.check_value(field.kind, v, &kpath);
        }
        for f in schema.fields.iter().filter(|f| f.required) {
            if !table.contains_key(f.name) {
                let what = match f.kind {
                    Table(_) => format!("missing table [{}]", join(path, f.name)),
                    _ => format!(
                        "missing key '{}' in {}",
                        f.name,
                        table_display(path, in_array)
                    ),
                };
                self.push(table_span.clone(), &join(path, f.name), "missing-key", what);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn unknown_key(
        &mut self,
        key_span: Range<usize>,
        v: &Spanned<DeValue<'_>>,
        name: &str,
        kpath: &str,
        schema: &'static TableSchema,
        path: &str,
        in_array: bool,
    ) {
        // A value that looks like a secret is one, whatever the key; a misspelt
        // key (`token_per_minute`) gets its suggestion before the key name is
        // taken as a sign of a secret, and then only for a value that could be one.
        if let Some(what) = nested_secret(v.get_ref()) {
            self.secret(key_span, kpath, what);
            return;
        }
        let suggestion = rules::did_you_mean(name, schema.fields.iter().map(|f| f.name));
        if suggestion.is_none()
            && could_be_secret(v.get_ref())
            && let Some(why) = secrets::key_looks_secret(name)
        {
            self.secret(key_span, kpath, &why);
            return;
        }
        let mut msg = format!("unknown key '{name}' in {}", table_display(path, in_array));
        if let Some(s) = suggestion {
            msg.push_str(&format!("; did you mean '{s}'?"));
        } else {
            let homes: Vec<String> = all_tables()
                .into_iter()
                .filter(|(p, t)| !p.is_empty() && t.field(name).is_some())
                .map(|(p, _)| format!("[{p}]"))
                .collect();
            if !homes.is_empty() {
                msg.push_str(&format!("; '{name}' belongs in {}", homes.join(" or ")));
            } else {
                let valid: Vec<&str> = schema.fields.iter().map(|f| f.name).collect();
                msg.push_str(&format!("; valid keys: {}", valid.join(", ")));
            }
        }
        self.push(Some(key_span), kpath, "unknown-key", msg);
    }

    fn type_error(&mut self, kind: Kind, v: &Spanned<DeValue<'_>>, path: &str) {
        self.push(
            Some(v.span()),
            path,
            "invalid-type",
            format!(
                "expected {}, found {}",
                expected_name(kind),
                type_name(v.get_ref())
            ),
        );
    }

    fn check_string_secret(&mut self, s: &str, span: Range<usize>, path: &str) -> bool {
        if let Some(what) = secrets::value_looks_secret(s) {
            self.secret(span, path, what);
            true
        } else {
            false
        }
    }

    /// Checks value `v` at `path` against the `kind` its key holds, recording a
    /// problem for a wrong type or value and walking into tables and lists.
    fn check_value(&mut self, kind: Kind, v: &Spanned<DeValue<'_>>, path: &str) {
        let val = v.get_ref();
        match (kind, val) {
            (Str, DeValue::String(s)) => {
                self.check_string_secret(s, v.span(), path);
            }
            (OneOf(allowed), DeValue::String(s)) => self.check_one_of(allowed, s, v, path),
            (Cidr, DeValue::String(s)) => self.check_cidr(s, v, path),
            (U32 | U64, DeValue::Integer(_)) => self.check_integer(kind, v, path),
            (Float, DeValue::Integer(_) | DeValue::Float(_)) | (Bool, DeValue::Boolean(_)) => {}
            (StrList, DeValue::Array(items)) => self.check_str_list(items, path),
            (StrMap, DeValue::Table(t)) => self.check_str_map(t, path),
            (Table(schema), DeValue::Table(t)) => {
                self.walk_table(t, Some(v.span()), schema, path, false);
            }
            (TableList(schema), DeValue::Array(items)) => {
                self.check_table_list(schema, items, path)
            }
            (Cloud, DeValue::String(s)) => self.check_cloud_name(s, v, path),
            (Cloud, DeValue::Table(t)) => {
                self.walk_table(t, Some(v.span()), &CUSTOM_CLOUD, path, false);
            }
            _ => self.type_error(kind, v, path),
        }
    }

    /// A string that must be one of `allowed`.
    fn check_one_of(&mut self, allowed: &[&str], s: &str, v: &Spanned<DeValue<'_>>, path: &str) {
        if !allowed.contains(&s) {
            let mut msg = format!(
                "must be one of {}",
                allowed
                    .iter()
                    .map(|a| format!("'{a}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if let Some(s) = rules::did_you_mean(s, allowed.iter().copied()) {
                msg.push_str(&format!("; did you mean '{s}'?"));
            }
            self.push(Some(v.span()), path, "invalid-value", msg);
        }
    }

    /// A string holding an IPv4 CIDR block with no host bits set.
    fn check_cidr(&mut self, s: &str, v: &Spanned<DeValue<'_>>, path: &str) {
        match rules::parse_cidr(s) {
            Ok(_) => {}
            Err(CidrError::Syntax(m)) => self.push(Some(v.span()), path, "invalid-cidr", m),
            Err(CidrError::HostBits(net)) => self.push(
                Some(v.span()),
                path,
                "cidr-host-bits",
                format!("CIDR block has host bits set; the network is {net}"),
            ),
        }
    }

    /// An integer that must fit the unsigned type of `kind` (`U32` or `U64`).
    fn check_integer(&mut self, kind: Kind, v: &Spanned<DeValue<'_>>, path: &str) {
        let val = v.get_ref();
        let max: i128 = if matches!(kind, U32) {
            u32::MAX.into()
        } else {
            u64::MAX.into()
        };
        match integer_value(val) {
            Some(n) if (0..=max).contains(&n) => {}
            n => self.push(
                Some(v.span()),
                path,
                "out-of-range",
                range_message(path, n, max),
            ),
        }
    }

    /// A list of strings, each checked for secrets.
    fn check_str_list(&mut self, items: &[Spanned<DeValue<'_>>], path: &str) {
        for (i, item) in items.iter().enumerate() {
            let ipath = format!("{path}[{i}]");
            self.spans.values.insert(ipath.clone(), item.span());
            match item.get_ref() {
                DeValue::String(s) => {
                    self.check_string_secret(s, item.span(), &ipath);
                }
                _ => self.type_error(Str, item, &ipath),
            }
        }
    }

    /// A table of strings (tags, environment variables), each key and value checked for
    /// secrets.
    fn check_str_map(&mut self, t: &DeTable<'_>, path: &str) {
        for (k, item) in t.iter() {
            let name: &str = k.get_ref();
            let ipath = join(path, name);
            self.spans.keys.insert(ipath.clone(), k.span());
            self.spans.values.insert(ipath.clone(), item.span());
            match item.get_ref() {
                DeValue::String(s) => {
                    if let Some(why) = secrets::key_looks_secret(name)
                        && !secrets::value_is_flag_or_number(s)
                    {
                        self.secret(k.span(), &ipath, &why);
                    } else {
                        self.check_string_secret(s, item.span(), &ipath);
                    }
                }
                _ => self.type_error(Str, item, &ipath),
            }
        }
    }

    /// A list of tables, each walked against `schema`.
    fn check_table_list(
        &mut self,
        schema: &'static TableSchema,
        items: &[Spanned<DeValue<'_>>],
        path: &str,
    ) {
        for (i, item) in items.iter().enumerate() {
            let ipath = format!("{path}[{i}]");
            self.spans.values.insert(ipath.clone(), item.span());
            match item.get_ref() {
                DeValue::Table(t) => self.walk_table(t, Some(item.span()), schema, &ipath, true),
                _ => self.type_error(Table(schema), item, &ipath),
            }
        }
    }

    /// A cloud given by name: one of the clouds the tool knows.
    fn check_cloud_name(&mut self, s: &str, v: &Spanned<DeValue<'_>>, path: &str) {
        if !CLOUD_NAMES.contains(&s) {
            let mut msg = format!(
                "unknown cloud; expected one of {} or a table of custom endpoints",
                CLOUD_NAMES
                    .iter()
                    .map(|a| format!("'{a}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if let Some(s) = rules::did_you_mean(s, CLOUD_NAMES.iter().copied()) {
                msg.push_str(&format!("; did you mean '{s}'?"));
            }
            self.push(Some(v.span()), path, "invalid-value", msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Environment, Pos};
    use std::path::Path;

    /// An environment file with every key set (every `Option` is `Some`, every list
    /// and map non-empty).
    const FULL: &str = r#"
name = "full"
tags = { team = "ai" }
[azure]
cloud = "AzureCloud"
subscription_id = "00000000-0000-0000-0000-000000000000"
tenant_id = "00000000-0000-0000-0000-000000000000"
location = "uksouth"
sandbox = { state_file = "s.json", time_scale = 0.5 }
[hub]
resource_group = "rg-hub"
location = "uksouth"
vnet_name = "vnet-hub"
address_space = "10.0.0.0/24"
subnets = { apim = "10.0.0.0/28", appgw = "10.0.0.64/26", private_endpoints = "10.0.0.128/27" }
apim_nsg_name = "nsg"
apim_route_table_name = "rt"
log_analytics_name = "log-x"
log_retention_days = 31
app_insights_name = "appi"
appgw_public_ip_name = "pip-a"
apim_public_ip_name = "pip-b"
apim_public_ip_dns_label = "label"
appgw_identity_name = "id-a"
key_vault_name = "kv-a"
key_vault_private_dns = true
[apim]
name = "apim"
sku = "Premium"
capacity = 2
publisher_email = "a@b.com"
publisher_name = "A"
token_limit = { tokens_per_minute = 5, counter_key = "ip", token_quota = 9, quota_period = "Daily", allowed_roles = ["user"] }
product_name = "p"
openapi = "o.json"
policy_file = "p.xml"
[spoke]
resource_group = "rg-spoke"
subscription_id = "00000000-0000-0000-0000-000000000001"
location = "uksouth"
vnet_name = "vnet-spoke"
address_space = "10.0.4.0/22"
container_apps_subnet = "10.0.4.0/23"
nsg_name = "nsg-s"
key_vault_name = "kv-b"
storage_account_name = "stx"
file_share_name = "share"
file_share_quota_gib = 5
[foundry]
name = "ais"
custom_subdomain = "ais-sub"
location = "swedencentral"
deployments = [{ name = "m", format = "OpenAI", model = "m", version = "1", sku = "Standard", capacity = 1 }]
pool = [{ name = "ais2", location = "eastus2", custom_subdomain = "ais2-sub", priority = 2, weight = 3 }]
[postgres]
server_name = "psql"
version = "15"
sku = "Standard_B2s"
tier = "Burstable"
storage_gb = 64
admin_login = "owui"
database = "db"
extensions = ["PG_TRGM"]
[container_app]
environment_name = "cae"
name = "app"
environment_identity_name = "id-e"
image = "img"
cpu = 1.0
memory = "2Gi"
min_replicas = 0
max_replicas = 4
extra_env = { A = "b" }
[app_gateway]
name = "agw"
sku = "WAF_v2"
capacity = 2
[domain]
custom_domain = "chat.contoso.com"
certificate_pfx_path = "c.pfx"
trusted_root_certificate_path = "r.cer"
[entra]
app_name = "app"
unique_name = "app"
roles = ["user"]
provider_name = "P"
[redis]
name = "redis"
sku = "Balanced_B0"
high_availability = false

[usage]
workbook = false
"#;

    const CUSTOM_CLOUD_TABLE: &str = r#"{ resource_manager = "https://m", graph = "https://g", authority = "https://a", resource_manager_audience = "https://m/", ca_file = "ca.pem" }"#;

    fn full_docs() -> Vec<String> {
        vec![
            FULL.to_string(),
            FULL.replace(
                "cloud = \"AzureCloud\"",
                &format!("cloud = {CUSTOM_CLOUD_TABLE}"),
            ),
        ]
    }

    fn serialized(doc: &str) -> toml::Table {
        let env: Environment = toml::from_str(doc).expect("FULL deserializes");
        toml::Table::try_from(&env).expect("Environment serializes")
    }

    /// Compares a serialized table with the schema, both ways, recursively.
    fn compare(table: &toml::Table, schema: &TableSchema, path: &str, seen: &mut Vec<String>) {
        for (k, v) in table {
            let p = join(path, k);
            let f = schema
                .field(k)
                .unwrap_or_else(|| panic!("serde emits {p} but the schema lacks it"));
            seen.push(p.clone());
            match (f.kind, v) {
                (Table(s), toml::Value::Table(t)) => compare(t, s, &p, seen),
                (Cloud, toml::Value::Table(t)) => compare(t, &CUSTOM_CLOUD, &p, seen),
                (TableList(s), toml::Value::Array(a)) => {
                    assert!(!a.is_empty(), "{p}: FULL must fill every list");
                    for item in a {
                        let t = item.as_table().expect("array of tables");
                        compare(t, s, &p, seen);
                    }
                }
                (Str | Cidr | OneOf(_) | Cloud, toml::Value::String(_))
                | (U32 | U64, toml::Value::Integer(_))
                | (Float, toml::Value::Float(_))
                | (Bool, toml::Value::Boolean(_))
                | (StrList, toml::Value::Array(_))
                | (StrMap, toml::Value::Table(_)) => {}
                (k, v) => panic!("{p}: schema says {k:?}, serde emits {v:?}"),
            }
        }
    }

    #[test]
    fn schema_matches_serde_both_ways() {
        let mut seen = Vec::new();
        for doc in full_docs() {
            compare(&serialized(&doc), &ENVIRONMENT, "", &mut seen);
        }
        for (path, t) in all_tables() {
            for f in t.fields {
                let p = join(&path, f.name);
                assert!(
                    seen.contains(&p),
                    "the schema has {p} but serde never emitted it (model lacks it, or FULL leaves it unset)"
                );
            }
        }
    }

    fn remove_at(table: &mut toml::Table, path: &[&str]) -> bool {
        match path {
            [last] => table.remove(*last).is_some(),
            [first, rest @ ..] => match table.get_mut(*first) {
                Some(toml::Value::Table(t)) => remove_at(t, rest),
                Some(toml::Value::Array(a)) => match a.first_mut() {
                    Some(toml::Value::Table(t)) => remove_at(t, rest),
                    _ => false,
                },
                _ => false,
            },
            [] => false,
        }
    }

    #[test]
    fn required_keys_match_serde() {
        for doc in full_docs() {
            let full = serialized(&doc);
            for (path, t) in all_tables() {
                if std::ptr::eq(t, &CUSTOM_CLOUD) && !full["azure"]["cloud"].is_table() {
                    continue;
                }
                for f in t.fields {
                    let p = join(&path, f.name);
                    let parts: Vec<&str> = p.split('.').collect();
                    let mut copy = full.clone();
                    assert!(remove_at(&mut copy, &parts), "{p} not in FULL");
                    let ok = toml::Value::Table(copy).try_into::<Environment>().is_ok();
                    assert_eq!(
                        !ok, f.required,
                        "{p}: schema says required={}, serde disagrees",
                        f.required
                    );
                }
            }
        }
    }

    #[test]
    fn walker_accepts_what_serde_emits() {
        for doc in full_docs() {
            let text = toml::to_string(&serialized(&doc)).expect("to_string");
            let (parsed, errors) = toml::de::DeTable::parse_recoverable(&text);
            assert!(errors.is_empty());
            let pos = Pos::new(Path::new("full.toml"), &text);
            let mut w = Walker::new(&pos);
            w.walk_document(&parsed);
            assert!(w.problems.is_empty(), "{:?}", w.problems);
        }
    }

    /// `docs/configuration.md` documents every key of every table in that table's section.
    #[test]
    fn docs_document_every_key() {
        let docs = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/configuration.md"),
        )
        .expect("read docs/configuration.md");
        let section = |heading: &str| -> String {
            let start = docs
                .find(heading)
                .unwrap_or_else(|| panic!("docs lack a section {heading}"));
            let rest = &docs[start + heading.len()..];
            rest[..rest.find("\n### ").unwrap_or(rest.len())].to_string()
        };
        for (path, t) in all_tables() {
            let text = if path.is_empty() {
                section("### Top level")
            } else if path == "foundry.deployments" || path == "foundry.pool" {
                section(&format!("### `[[{path}]]`"))
            } else {
                section(&format!("### `[{path}]`"))
            };
            for f in t.fields {
                let documented = match f.kind {
                    TableList(_) => docs.contains(&format!("`[[{}]]`", join(&path, f.name))),
                    Table(_) | StrMap if path.is_empty() => {
                        text.contains(&format!("`[{}]`", f.name))
                    }
                    Table(_) | StrMap => docs.contains(&format!("`[{}]`", join(&path, f.name))),
                    _ => text.contains(&format!("| `{}` |", f.name)),
                };
                assert!(
                    documented,
                    "docs/configuration.md does not document {}",
                    join(&path, f.name)
                );
            }
        }
    }

    #[test]
    fn default_cloud_serializes_as_azure_cloud() {
        let env: Environment =
            toml::from_str(&FULL.replace("cloud = \"AzureCloud\"\n", "")).expect("parse");
        assert_eq!(env.azure.cloud, crate::config::CloudSetting::Default);
        let t = toml::Table::try_from(&env).expect("serialize");
        assert_eq!(t["azure"]["cloud"].as_str(), Some("AzureCloud"));
    }
}
