//! `GET /api/retail/prices`: the Azure Retail Prices API's shape over a small fixture of
//! SAMPLE prices (`retail_prices.json`, every item marked `"sandboxSample": true`).
//!
//! As the public API does (Microsoft's "Azure Retail Prices overview" page): an OData
//! `$filter` of `field eq 'value'` conditions joined by `and` (case-insensitive values,
//! case-sensitive from `api-version=2023-01-01-preview`), `currencyCode='EUR'` (quotes
//! optional), pages linked by `NextPageLink` with `$skip`, and the envelope
//! `BillingCurrency`, `CustomerEntityId`, `CustomerEntityType`, `Items`, `NextPageLink`,
//! `Count`. Pages hold [`PAGE_SIZE`] items (the public API: 100) so clients exercise paging.

use super::server::{Reply, Req, Shared};
use serde_json::{Map, Value, json};
use std::sync::{Arc, OnceLock};

/// Items per page (small on purpose).
pub(crate) const PAGE_SIZE: usize = 3;
/// The fixture.
const FIXTURE: &str = include_str!("retail_prices.json");
/// Filter fields served and the item field each compares.
const FIELDS: &[(&str, &str)] = &[
    ("serviceName", "serviceName"),
    ("serviceFamily", "serviceFamily"),
    ("armRegionName", "armRegionName"),
    ("skuName", "skuName"),
    ("meterName", "meterName"),
    ("productName", "productName"),
    ("priceType", "type"),
];

struct Fixture {
    items: Vec<Map<String, Value>>,
    rates: Map<String, Value>,
}

/// The fixture's items, one per region, built once.
fn fixture() -> &'static Fixture {
    static CELL: OnceLock<Fixture> = OnceLock::new();
    CELL.get_or_init(|| {
        let doc: Value = serde_json::from_str(FIXTURE).unwrap_or(Value::Null);
        let regions: Vec<&str> = doc["regions"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut items = Vec::new();
        for template in doc["items"].as_array().into_iter().flatten() {
            let Some(t) = template.as_object() else {
                continue;
            };
            for region in &regions {
                items.push(item(t, region));
            }
        }
        Fixture {
            items,
            rates: doc["sampleExchangeRates"]
                .as_object()
                .cloned()
                .unwrap_or_default(),
        }
    })
}

fn item(t: &Map<String, Value>, region: &str) -> Map<String, Value> {
    let mut m = t.clone();
    let price = t.get("retailPrice").and_then(Value::as_f64).unwrap_or(0.0);
    let name = format!(
        "{}|{}|{}|{region}",
        t.get("serviceName").and_then(Value::as_str).unwrap_or(""),
        t.get("skuName").and_then(Value::as_str).unwrap_or(""),
        t.get("meterName").and_then(Value::as_str).unwrap_or("")
    );
    let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes());
    m.insert("currencyCode".into(), json!("USD"));
    m.insert("tierMinimumUnits".into(), json!(0.0));
    m.insert("unitPrice".into(), json!(price));
    m.insert("armRegionName".into(), json!(region));
    m.insert("location".into(), json!(region));
    m.insert("effectiveStartDate".into(), json!("2025-01-01T00:00:00Z"));
    m.insert("meterId".into(), json!(id.to_string()));
    m.insert("type".into(), json!("Consumption"));
    m.insert("isPrimaryMeterRegion".into(), json!(true));
    m.insert("armSkuName".into(), json!(""));
    m.insert("sandboxSample".into(), json!(true));
    m
}

/// The error envelope of the public API for a request it cannot serve.
fn bad_request(message: impl Into<String>) -> Reply {
    Reply::json(
        400,
        json!({"Error": {"Code": "BadRequest", "Message": message.into()}}),
    )
}

/// Parses `a eq 'x' and b eq 'y'` into `(field, value)` pairs.
fn parse_filter(filter: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut rest = filter.trim();
    while !rest.is_empty() {
        let (field, after) = rest
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("Invalid filter near '{rest}'"))?;
        let after = after.trim_start();
        let after = after
            .strip_prefix("eq ")
            .ok_or_else(|| format!("Only 'eq' is supported by the sandbox, near '{after}'"))?
            .trim_start();
        let mut chars = after.strip_prefix('\'').ok_or("Expected a quoted value")?;
        let mut value = String::new();
        loop {
            let Some(i) = chars.find('\'') else {
                return Err("Unterminated string in filter".into());
            };
            value.push_str(&chars[..i]);
            chars = &chars[i + 1..];
            match chars.strip_prefix('\'') {
                Some(r) => {
                    value.push('\'');
                    chars = r;
                }
                None => break,
            }
        }
        let Some((_, item_field)) = FIELDS.iter().find(|(f, _)| f.eq_ignore_ascii_case(field))
        else {
            return Err(format!("Unsupported filter field '{field}'"));
        };
        out.push((item_field.to_string(), value));
        rest = chars.trim_start();
        if !rest.is_empty() {
            let lower = rest.to_ascii_lowercase();
            if !lower.starts_with("and ") {
                return Err(format!("Expected 'and' near '{rest}'"));
            }
            rest = rest[4..].trim_start();
        }
    }
    Ok(out)
}

fn query_value<'a>(req: &'a Req, name: &str) -> Option<&'a str> {
    req.query
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `GET /api/retail/prices`.
pub(crate) fn handle(shared: &Arc<Shared>, req: &Req) -> Reply {
    if req.method != "GET" {
        return bad_request("Only GET is supported.");
    }
    let currency = query_value(req, "currencyCode")
        .unwrap_or("USD")
        .trim_matches('\'')
        .to_ascii_uppercase();
    let fx = fixture();
    let Some(rate) = fx.rates.get(&currency).and_then(Value::as_f64) else {
        return bad_request(format!("Invalid currency code '{currency}'."));
    };
    let filter = query_value(req, "$filter").unwrap_or("");
    let conditions = match parse_filter(filter) {
        Ok(c) => c,
        Err(e) => return bad_request(e),
    };
    let api_version = query_value(req, "api-version");
    let case_sensitive = api_version.is_some_and(|v| v >= "2023-01-01-preview");
    let matches = |item: &Map<String, Value>| {
        conditions.iter().all(|(f, v)| {
            let got = item.get(f).and_then(Value::as_str).unwrap_or("");
            if case_sensitive {
                got == v
            } else {
                got.eq_ignore_ascii_case(v)
            }
        })
    };
    let skip: usize = query_value(req, "$skip")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let all: Vec<&Map<String, Value>> = fx.items.iter().filter(|i| matches(i)).collect();
    let page: Vec<Value> = all
        .iter()
        .skip(skip)
        .take(PAGE_SIZE)
        .map(|i| converted(i, &currency, rate))
        .collect();
    let next_skip = skip.saturating_add(PAGE_SIZE);
    let next = (next_skip < all.len())
        .then(|| next_link(&shared.base_url, &currency, filter, api_version, next_skip));
    Reply::json(
        200,
        json!({
            "BillingCurrency": currency,
            "CustomerEntityId": "Default",
            "CustomerEntityType": "Retail",
            "Items": page,
            "NextPageLink": next,
            "Count": page.len(),
        }),
    )
}

fn converted(item: &Map<String, Value>, currency: &str, rate: f64) -> Value {
    let mut m = item.clone();
    for key in ["retailPrice", "unitPrice"] {
        if let Some(p) = m.get(key).and_then(Value::as_f64) {
            m.insert(key.into(), json!(p * rate));
        }
    }
    m.insert("currencyCode".into(), json!(currency));
    Value::Object(m)
}

fn next_link(
    base: &str,
    currency: &str,
    filter: &str,
    api_version: Option<&str>,
    skip: usize,
) -> String {
    let mut pairs = vec![
        ("currencyCode", format!("'{currency}'")),
        ("$filter", filter.to_string()),
        ("$skip", skip.to_string()),
    ];
    if let Some(v) = api_version {
        pairs.push(("api-version", v.to_string()));
    }
    let url = format!("{base}/api/retail/prices");
    reqwest::Url::parse_with_params(&url, &pairs)
        .map(String::from)
        .unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        assert_eq!(
            parse_filter("serviceName eq 'Key Vault' and skuName eq 'O''Brien'").unwrap(),
            vec![
                ("serviceName".to_string(), "Key Vault".to_string()),
                ("skuName".to_string(), "O'Brien".to_string())
            ]
        );
        assert!(parse_filter("serviceName ne 'x'").is_err());
        assert!(parse_filter("bogus eq 'x'").is_err());
        assert!(parse_filter("serviceName eq 'x' or skuName eq 'y'").is_err());
        assert!(parse_filter("serviceName eq 'x").is_err());
    }

    #[test]
    fn fixture_is_sample_data_in_every_region() {
        let f = fixture();
        assert!(f.items.len() > 100);
        assert!(f.items.iter().all(|i| i["sandboxSample"] == json!(true)));
    }
}
