//! The public Azure Retail Prices API (`https://prices.azure.com/api/retail/prices`): no
//! credential, an OData `$filter`, a `currencyCode`, pages linked by `NextPageLink`.
//!
//! Bounded on every side: one short timeout per page, at most [`MAX_PAGES`] pages and
//! [`MAX_PAGE_BYTES`] per page, no retry (an estimate is not worth a retry storm), and a
//! `NextPageLink` is only followed on the origin of the first request. Answers are kept in
//! a [`PriceCache`] (the CLI stores it on disk for [`CACHE_TTL_SECS`]).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The public API's URL (every cloud except the sandbox uses it).
pub const RETAIL_PRICES_URL: &str = "https://prices.azure.com/api/retail/prices";
/// How long a cached answer is used: one day.
pub const CACHE_TTL_SECS: u64 = 24 * 3600;
/// Pages followed per query at most.
pub const MAX_PAGES: usize = 20;
/// Bytes of one page at most (a page of 100 items is about 60 KB).
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;
/// Time allowed for one page.
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(10);
/// Queries kept in a cache at most (the oldest are dropped first).
pub const MAX_CACHE_ENTRIES: usize = 200;

/// One price item of the API (`Items[]`), the fields the tool reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetailPrice {
    /// ISO currency code (`USD`).
    pub currency_code: String,
    /// Retail price of one `unitOfMeasure`.
    pub retail_price: f64,
    /// Unit price (same as the retail price without tiers or discounts).
    #[serde(default)]
    pub unit_price: f64,
    /// Region (`uksouth`); empty for global meters.
    #[serde(default)]
    pub arm_region_name: String,
    /// Meter name (`Developer Units`).
    pub meter_name: String,
    /// Product name.
    #[serde(default)]
    pub product_name: String,
    /// SKU name (`Developer`).
    #[serde(default)]
    pub sku_name: String,
    /// Service name (`API Management`).
    #[serde(default)]
    pub service_name: String,
    /// Unit of the price (`1 Hour`, `1 GB/Month`, `10K`).
    #[serde(default)]
    pub unit_of_measure: String,
    /// Price type (`Consumption`, `Reservation`, `DevTestConsumption`).
    #[serde(rename = "type", default)]
    pub price_type: String,
    /// Lowest quantity this price applies from (tiered meters).
    #[serde(default)]
    pub tier_minimum_units: f64,
    /// Set by the sandbox only: the price is invented sample data.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sandbox_sample: bool,
}

impl RetailPrice {
    /// The number the unit of measure starts with (`100 Hours` -> 100, `10K` -> 10000,
    /// `1M` -> 1000000), 1 when there is none.
    pub fn unit_size(&self) -> f64 {
        let s = self.unit_of_measure.trim();
        let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
        let base = digits.parse::<f64>().unwrap_or(1.0);
        let rest = s[digits.len()..].trim_start();
        let factor = match rest.chars().next() {
            Some('K') if rest.len() == 1 || rest[1..].starts_with(' ') => 1e3,
            Some('M') if rest.len() == 1 || rest[1..].starts_with(' ') => 1e6,
            _ => 1.0,
        };
        base * factor
    }

    /// Price of a single unit (retail price divided by [`Self::unit_size`]).
    pub fn price_per_unit(&self) -> f64 {
        self.retail_price / self.unit_size()
    }
}

/// One page of the API.
#[derive(Debug, Deserialize)]
struct Page {
    #[serde(rename = "Items", default)]
    items: Vec<RetailPrice>,
    #[serde(rename = "NextPageLink", default)]
    next_page_link: Option<String>,
}

/// A query: equality conditions joined by `and` (field names as the API spells them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PriceQuery {
    /// `(field, value)` pairs, e.g. `("serviceName", "API Management")`.
    pub conditions: Vec<(String, String)>,
}

impl PriceQuery {
    /// A query on `serviceName`, consumption prices only.
    pub fn service(service_name: &str) -> Self {
        PriceQuery {
            conditions: vec![
                ("serviceName".into(), service_name.into()),
                ("priceType".into(), "Consumption".into()),
            ],
        }
    }

    /// Adds `field eq 'value'`.
    pub fn and(mut self, field: &str, value: &str) -> Self {
        self.conditions.push((field.into(), value.into()));
        self
    }

    /// The OData `$filter` (quotes in values doubled, as OData escapes them).
    pub fn filter(&self) -> String {
        self.conditions
            .iter()
            .map(|(f, v)| format!("{f} eq '{}'", v.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// The key of this query in a cache, for the API of `scope` and `currency`.
    pub fn cache_key(&self, scope: &str, currency: &str) -> String {
        format!("{scope}|{currency}|{}", self.filter())
    }
}

/// Why prices could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    /// Connection failure or timeout.
    #[error("the Retail Prices API at {url} could not be reached: {message}")]
    Unreachable {
        /// The URL (no secret: the API is public).
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A non-success status.
    #[error("the Retail Prices API answered HTTP {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The start of the answer.
        message: String,
    },
    /// An answer that is not the documented shape, too large or with too many pages.
    #[error("the Retail Prices API answer was not usable: {0}")]
    Invalid(String),
}

/// Cached answers, by [`PriceQuery::cache_key`], with the Unix time they were fetched.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PriceCache {
    /// The entries.
    pub entries: BTreeMap<String, CacheEntry>,
}

/// One cached answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheEntry {
    /// Unix seconds of the fetch.
    pub fetched_at: u64,
    /// Every item of every page.
    pub items: Vec<RetailPrice>,
}

impl PriceCache {
    /// The items of `key` fetched less than `ttl_secs` before `now`.
    pub fn fresh(&self, key: &str, now: u64, ttl_secs: u64) -> Option<&[RetailPrice]> {
        self.entries
            .get(key)
            .filter(|e| e.fetched_at <= now && now - e.fetched_at < ttl_secs)
            .map(|e| e.items.as_slice())
    }

    /// Stores an answer, dropping expired entries and then the oldest beyond
    /// [`MAX_CACHE_ENTRIES`].
    pub fn insert(&mut self, key: String, now: u64, items: Vec<RetailPrice>) {
        self.entries
            .retain(|_, e| e.fetched_at <= now && now - e.fetched_at < CACHE_TTL_SECS);
        self.entries.insert(
            key,
            CacheEntry {
                fetched_at: now,
                items,
            },
        );
        while self.entries.len() > MAX_CACHE_ENTRIES {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.fetched_at)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.entries.remove(&k),
                None => break,
            };
        }
    }
}

/// A client of the Retail Prices API at one URL.
pub struct PriceClient {
    url: String,
    scope: String,
    http: reqwest::Client,
}

impl PriceClient {
    /// A client of `url` ([`RETAIL_PRICES_URL`], or the sandbox's route); `ca_pem` is the
    /// only trusted CA when given (the sandbox's, which also makes the cache scope
    /// `sandbox`).
    pub fn new(url: &str, ca_pem: Option<&str>) -> Result<Self, PriceError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(PAGE_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(super::USER_AGENT);
        if let Some(pem) = ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| PriceError::Invalid(format!("invalid CA certificate PEM: {e}")))?;
            builder = builder.tls_certs_only(certs);
        }
        let http = builder
            .build()
            .map_err(|e| PriceError::Invalid(format!("cannot build the HTTP client: {e}")))?;
        Ok(PriceClient {
            url: url.to_string(),
            // The sandbox's port changes from run to run; its sample prices do not.
            scope: if ca_pem.is_some() {
                "sandbox".into()
            } else {
                url.to_string()
            },
            http,
        })
    }

    /// What cached answers of this client are keyed by: the API's URL, or `sandbox`
    /// for the sandbox (whose port changes between runs).
    pub fn cache_scope(&self) -> &str {
        &self.scope
    }

    /// Every item matching `query` in `currency`, following `NextPageLink`.
    pub async fn fetch(
        &self,
        query: &PriceQuery,
        currency: &str,
    ) -> Result<Vec<RetailPrice>, PriceError> {
        let first = reqwest::Url::parse_with_params(
            &self.url,
            &[
                ("currencyCode", format!("'{currency}'").as_str()),
                ("$filter", &query.filter()),
            ],
        )
        .map_err(|e| PriceError::Invalid(format!("bad URL {}: {e}", self.url)))?;
        let origin = first.origin();
        let mut next = Some(first);
        let mut items = Vec::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(PriceError::Invalid(format!(
                    "more than {MAX_PAGES} pages for {}",
                    query.filter()
                )));
            }
            let page = self.page(url).await?;
            items.extend(page.items);
            next = match page.next_page_link.filter(|l| !l.is_empty()) {
                None => None,
                Some(link) => {
                    let url = reqwest::Url::parse(&link).map_err(|e| {
                        PriceError::Invalid(format!("NextPageLink is not a URL: {e}"))
                    })?;
                    if url.origin() != origin {
                        return Err(PriceError::Invalid(
                            "NextPageLink points to another host".into(),
                        ));
                    }
                    Some(url)
                }
            };
        }
        Ok(items)
    }

    async fn page(&self, url: reqwest::Url) -> Result<Page, PriceError> {
        let unreachable = |e: reqwest::Error| PriceError::Unreachable {
            url: self.url.clone(),
            message: e.without_url().to_string(),
        };
        let mut response = self.http.get(url).send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_PAGE_BYTES {
                return Err(PriceError::Invalid(format!(
                    "a page is larger than {MAX_PAGE_BYTES} bytes"
                )));
            }
        }
        if !(200..300).contains(&status) {
            let text: String = String::from_utf8_lossy(&body).chars().take(200).collect();
            return Err(PriceError::Status {
                status,
                message: text,
            });
        }
        serde_json::from_slice(&body).map_err(|e| PriceError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(unit: &str, retail: f64) -> RetailPrice {
        RetailPrice {
            currency_code: "USD".into(),
            retail_price: retail,
            unit_price: retail,
            arm_region_name: "uksouth".into(),
            meter_name: "m".into(),
            product_name: String::new(),
            sku_name: String::new(),
            service_name: String::new(),
            unit_of_measure: unit.into(),
            price_type: "Consumption".into(),
            tier_minimum_units: 0.0,
            sandbox_sample: false,
        }
    }

    #[test]
    fn unit_sizes() {
        assert_eq!(price("1 Hour", 2.0).price_per_unit(), 2.0);
        assert_eq!(price("100 Hours", 2.0).price_per_unit(), 0.02);
        assert_eq!(price("10K", 3.0).price_per_unit(), 0.0003);
        assert_eq!(price("1M", 5.0).unit_size(), 1e6);
        assert_eq!(price("1 GB/Month", 0.1).unit_size(), 1.0);
        assert_eq!(price("1 GiB Second", 0.1).unit_size(), 1.0);
    }

    #[test]
    fn filter_escapes_quotes() {
        let q = PriceQuery::service("API Management").and("skuName", "O'Brien");
        assert_eq!(
            q.filter(),
            "serviceName eq 'API Management' and priceType eq 'Consumption' and skuName eq 'O''Brien'"
        );
    }

    #[test]
    fn cache_expires_and_is_bounded() {
        let mut c = PriceCache::default();
        c.insert("k".into(), 1000, vec![price("1 Hour", 1.0)]);
        assert!(
            c.fresh("k", 1000 + CACHE_TTL_SECS - 1, CACHE_TTL_SECS)
                .is_some()
        );
        assert!(
            c.fresh("k", 1000 + CACHE_TTL_SECS, CACHE_TTL_SECS)
                .is_none()
        );
        for i in 0..(MAX_CACHE_ENTRIES as u64 + 5) {
            c.insert(format!("k{i}"), 2000 + i, Vec::new());
        }
        assert_eq!(c.entries.len(), MAX_CACHE_ENTRIES);
        assert!(!c.entries.contains_key("k0"));
    }
}
