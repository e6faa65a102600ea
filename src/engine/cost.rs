//! Monthly cost estimate of a plan: the resulting environment and the plan's delta, per
//! resource and in total, from the Azure Retail Prices API.
//!
//! Steps: [`billing`] lists, for each resource of the model with a row in
//! [`super::meters::METER_TABLE`], the meters its desired body and its live body (as the
//! plan read it) consume; [`estimate`] fetches the prices of those meters (through a
//! [`PriceSource`]: cache first, then the API) and multiplies. A failing API never fails
//! the caller: the estimate then says it is unavailable and why.

use super::meters::{self, Assumptions, HOURS_PER_MONTH, Measure, MeterUse, RowInput};
use super::plan::{Action, Plan};
use super::resource::{Address, ResourceSpec};
use super::{Model, Stage};
use crate::azure::pricing::{CACHE_TTL_SECS, PriceCache, PriceClient, PriceQuery, RetailPrice};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The ARM type of model deployments (usage-priced per token).
const DEPLOYMENT_TYPE: &str = "Microsoft.CognitiveServices/accounts/deployments";

/// Meters of one resource, before (live) and after (desired) the plan.
#[derive(Debug, Clone)]
pub struct ResourceBilling {
    /// Address.
    pub address: Address,
    /// Label.
    pub label: String,
    /// Stage.
    pub stage: Stage,
    /// ARM type.
    pub type_name: String,
    /// The plan's action on it.
    pub action: Action,
    /// Meters after the plan (empty when deleted).
    pub after: Vec<MeterUse>,
    /// Meters of the live resource (empty when it does not exist yet).
    pub before: Vec<MeterUse>,
}

/// A model deployment whose token prices are shown (usage-priced).
#[derive(Debug, Clone)]
pub struct DeploymentBilling {
    /// Address.
    pub address: Address,
    /// Label.
    pub label: String,
    /// Model name (`gpt-4o`).
    pub model: String,
    /// Deployment SKU (`GlobalStandard`).
    pub sku: String,
    /// Region of the account.
    pub region: String,
}

/// Everything an estimate needs to price.
#[derive(Debug, Clone, Default)]
pub struct Billing {
    /// Priced resources, in model order.
    pub resources: Vec<ResourceBilling>,
    /// Model deployments.
    pub deployments: Vec<DeploymentBilling>,
}

/// The meters of every resource of `model`, after and before `plan`.
pub fn billing(model: &Model, plan: &Plan, assumptions: &Assumptions) -> Billing {
    let mut out = Billing::default();
    for spec in &model.resources {
        let Some(type_name) = spec.api.type_name() else {
            continue;
        };
        let Some(change) = plan.change(&spec.address) else {
            continue;
        };
        let Some(region) = region_of(model, spec) else {
            continue;
        };
        if type_name.eq_ignore_ascii_case(DEPLOYMENT_TYPE) {
            if change.action != Action::Delete
                && let Some(d) = deployment(spec, &region)
            {
                out.deployments.push(d);
            }
            continue;
        }
        let Some((_, row)) = meters::row(type_name) else {
            continue;
        };
        let meters_of = |body: &Value| {
            row(&RowInput {
                body,
                region: &region,
                assumptions,
            })
            .unwrap_or_default()
        };
        let live = live_body(&spec.body, change.action, &change.diffs);
        let after = match change.action {
            Action::Delete => Vec::new(),
            _ => meters_of(&spec.body),
        };
        let before = live.as_ref().map(meters_of).unwrap_or_default();
        out.resources.push(ResourceBilling {
            address: spec.address.clone(),
            label: spec.label.clone(),
            stage: spec.stage,
            type_name: type_name.to_string(),
            action: change.action,
            after,
            before,
        });
    }
    out
}

fn deployment(spec: &ResourceSpec, region: &str) -> Option<DeploymentBilling> {
    let text = |p: &str| spec.body.pointer(p).and_then(Value::as_str);
    Some(DeploymentBilling {
        address: spec.address.clone(),
        label: spec.label.clone(),
        model: text("/properties/model/name")?.to_string(),
        sku: text("/sku/name").unwrap_or("Standard").to_string(),
        region: region.to_string(),
    })
}

/// The region of `spec`: its body's `location`, else its parent's (the address without
/// its last `/type/name`), lower-case without spaces.
fn region_of(model: &Model, spec: &ResourceSpec) -> Option<String> {
    let mut address = spec.address.as_str().to_string();
    let mut body = &spec.body;
    loop {
        if let Some(loc) = body.get("location").and_then(Value::as_str)
            && !loc.starts_with("${")
        {
            return Some(loc.to_ascii_lowercase().replace(' ', ""));
        }
        // Climb `/type/name` pairs until a resource of the model (a share's parent
        // `fileServices/default` is not one; its storage account is).
        loop {
            address = address.rsplitn(3, '/').nth(2)?.to_string();
            if !address.contains("/providers/") {
                return None;
            }
            if let Some(parent) = model.get(&Address(address.clone())) {
                body = &parent.body;
                break;
            }
        }
    }
}

/// The live body as the plan read it, rebuilt from the desired body and the
/// differences' live sides: `None` for a create; the desired body for a no-op, a read
/// or a delete (a delete removes what the model describes).
fn live_body(
    desired: &Value,
    action: Action,
    diffs: &[super::diff::PropertyDiff],
) -> Option<Value> {
    match action {
        Action::Create => None,
        Action::Update | Action::Replace => {
            let mut body = desired.clone();
            for d in diffs {
                set_path(&mut body, &d.path, &d.old);
            }
            Some(body)
        }
        _ => Some(desired.clone()),
    }
}

/// Sets (or removes, for an absent live value) the value at a diff path
/// (`/a/b[name]/c`, `[name]` matching an array element by its `name`).
fn set_path(body: &mut Value, path: &str, old: &super::diff::DiffValue) {
    use super::diff::DiffValue;
    let mut segments: Vec<String> = Vec::new();
    for part in path.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        match part.split_once('[') {
            Some((key, rest)) => {
                if !key.is_empty() {
                    segments.push(key.to_string());
                }
                for name in rest.split('[') {
                    segments.push(format!("[{}", name.trim_end_matches(']')));
                }
            }
            None => segments.push(part),
        }
    }
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut node = body;
    for seg in parents {
        let next = match seg.strip_prefix('[') {
            Some(name) => node.as_array_mut().and_then(|a| {
                a.iter_mut()
                    .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
            }),
            None => match node {
                Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
                Value::Object(o) => Some(o.entry(seg.clone()).or_insert(Value::Null)),
                _ => None,
            },
        };
        let Some(n) = next else { return };
        if n.is_null() {
            *n = Value::Object(Default::default());
        }
        node = n;
    }
    let Value::Object(o) = node else { return };
    match old {
        DiffValue::Known(v) => {
            o.insert(last.clone(), v.clone());
        }
        DiffValue::Absent => {
            o.remove(last);
        }
        _ => {}
    }
}

/// Where prices come from: a cache (kept by the caller) and, for what it lacks or what
/// has expired, the API.
pub struct PriceSource<'a> {
    /// The API client.
    pub client: &'a PriceClient,
    /// The cache, updated with what is fetched.
    pub cache: &'a mut PriceCache,
    /// ISO currency code.
    pub currency: String,
    /// Unix seconds now.
    pub now: u64,
}

impl PriceSource<'_> {
    async fn items(&mut self, query: &PriceQuery) -> Result<Vec<RetailPrice>, String> {
        let key = query.cache_key(self.client.cache_scope(), &self.currency);
        if let Some(items) = self.cache.fresh(&key, self.now, CACHE_TTL_SECS) {
            return Ok(items.to_vec());
        }
        let items = self
            .client
            .fetch(query, &self.currency)
            .await
            .map_err(|e| e.to_string())?;
        self.cache.insert(key, self.now, items.clone());
        Ok(items)
    }
}

/// One priced meter of a resource.
#[derive(Debug, Clone, Serialize)]
pub struct CostLine {
    /// What is billed.
    pub meter: String,
    /// Monthly quantity after the plan.
    pub quantity: f64,
    /// Unit of the quantity (`h`, `GB`, the API's unit for usage-priced meters).
    pub unit: String,
    /// Price of one unit, when found.
    pub unit_price: Option<f64>,
    /// Monthly cost after the plan (`None`: price not found).
    pub monthly: Option<f64>,
    /// Monthly cost before the plan (`None` when the meter was not used).
    pub monthly_before: Option<f64>,
    /// The assumption behind the quantity.
    pub assumption: String,
}

/// The estimate of one resource.
#[derive(Debug, Clone, Serialize)]
pub struct ResourceCost {
    /// Address.
    pub address: Address,
    /// Label.
    pub label: String,
    /// Stage.
    pub stage: Stage,
    /// ARM type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The plan's action.
    pub action: Action,
    /// Monthly cost after the plan.
    pub monthly: f64,
    /// Monthly cost before the plan.
    pub monthly_before: f64,
    /// `monthly - monthly_before`.
    pub monthly_delta: f64,
    /// The meters.
    pub lines: Vec<CostLine>,
}

/// A usage-priced meter: its price is shown, not counted.
#[derive(Debug, Clone, Serialize)]
pub struct UsagePrice {
    /// Address.
    pub address: Address,
    /// Label.
    pub label: String,
    /// What is billed.
    pub meter: String,
    /// Price per unit of input tokens per million, for model deployments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_per_1m_tokens: Option<f64>,
    /// Price of output tokens per million, for model deployments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_per_1m_tokens: Option<f64>,
    /// Price of one `unit` for other meters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// The API's unit of measure (`10K`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Why the price is not counted.
    pub note: String,
}

/// A cost estimate.
#[derive(Debug, Clone, Serialize)]
pub struct CostEstimate {
    /// ISO currency code.
    pub currency: String,
    /// Hours counted in a month.
    pub hours_per_month: f64,
    /// Monthly total of the resulting environment.
    pub monthly_total: f64,
    /// Monthly total of what exists now (the priced resources).
    pub monthly_before: f64,
    /// `monthly_total - monthly_before`: what this plan adds (negative: saves).
    pub monthly_delta: f64,
    /// Per resource.
    pub resources: Vec<ResourceCost>,
    /// Usage-priced meters (model tokens, Key Vault operations).
    pub usage_priced: Vec<UsagePrice>,
    /// Meters the API did not list (not in the totals).
    pub not_found: Vec<String>,
    /// Assumptions behind the figures.
    pub assumptions: Vec<String>,
    /// The prices are the sandbox's invented samples, not Azure's.
    pub sample_prices: bool,
}

/// The estimate, or why there is none.
#[derive(Debug, Clone)]
pub enum CostReport {
    /// Prices were read.
    Estimate(CostEstimate),
    /// The estimate could not be made (the plan is unaffected).
    Unavailable(String),
}

/// General assumptions printed with every estimate.
fn general_assumptions(a: &Assumptions) -> Vec<String> {
    vec![
        format!("{HOURS_PER_MONTH} hours a month; pay-as-you-go retail list prices, no reservations, savings plans, free grants or taxes"),
        format!(
            "App Gateway v2: {} capacity units billed per instance (manual scale)",
            meters::APPGW_CAPACITY_UNITS_PER_INSTANCE
        ),
        "Container Apps: at least one replica always on (health probes), active-usage rates".into(),
        format!("Log Analytics: {} GB ingested a month", a.log_gb_per_month),
        "Model deployments, Key Vault operations and data transfer are usage-priced: shown, not in the total".into(),
    ]
}

/// Prices `billing`. The first failing query makes the whole estimate unavailable
/// (partial totals would mislead); a meter the API does not list is reported, not fatal.
pub async fn estimate(
    billing: &Billing,
    source: &mut PriceSource<'_>,
    assumptions: &Assumptions,
) -> CostReport {
    match price_all(billing, source, assumptions).await {
        Ok(e) => CostReport::Estimate(e),
        Err(reason) => CostReport::Unavailable(reason),
    }
}

async fn price_all(
    billing: &Billing,
    source: &mut PriceSource<'_>,
    assumptions: &Assumptions,
) -> Result<CostEstimate, String> {
    let mut found: BTreeMap<PriceQuery, Option<RetailPrice>> = BTreeMap::new();
    let mut est = CostEstimate {
        currency: source.currency.clone(),
        hours_per_month: HOURS_PER_MONTH,
        monthly_total: 0.0,
        monthly_before: 0.0,
        monthly_delta: 0.0,
        resources: Vec::new(),
        usage_priced: Vec::new(),
        not_found: Vec::new(),
        assumptions: general_assumptions(assumptions),
        sample_prices: false,
    };
    for r in &billing.resources {
        let cost = price_resource(r, source, &mut found, &mut est).await?;
        est.monthly_total += cost.monthly;
        est.monthly_before += cost.monthly_before;
        if !cost.lines.is_empty() {
            est.resources.push(cost);
        }
    }
    est.monthly_delta = est.monthly_total - est.monthly_before;
    for d in &billing.deployments {
        est.usage_priced.push(model_prices(d, source).await?);
    }
    Ok(est)
}

/// The price of `query`: the consumption item with the lowest tier (first tier).
async fn lookup(
    query: &PriceQuery,
    source: &mut PriceSource<'_>,
    found: &mut BTreeMap<PriceQuery, Option<RetailPrice>>,
) -> Result<Option<RetailPrice>, String> {
    if let Some(p) = found.get(query) {
        return Ok(p.clone());
    }
    let items = source.items(query).await?;
    let best = items
        .into_iter()
        .filter(|p| p.price_type.is_empty() || p.price_type == "Consumption")
        .min_by(|a, b| a.tier_minimum_units.total_cmp(&b.tier_minimum_units));
    found.insert(query.clone(), best.clone());
    Ok(best)
}

/// Notes sample prices on the estimate.
fn note_sample(est: &mut CostEstimate, p: &RetailPrice) {
    est.sample_prices |= p.sandbox_sample;
}

/// Price of one hour (time meters are priced per second, hour, day or month).
fn per_hour(p: &RetailPrice) -> f64 {
    let unit = p.unit_of_measure.to_ascii_lowercase();
    let per = p.price_per_unit();
    if unit.contains("second") {
        per * 3600.0
    } else if unit.contains("day") {
        per / 24.0
    } else if unit.contains("month") {
        per / HOURS_PER_MONTH
    } else {
        per
    }
}

fn monthly_of(m: &MeterUse, p: &RetailPrice) -> f64 {
    match m.measure {
        Measure::Hours => m.quantity * per_hour(p),
        Measure::Gigabytes => m.quantity * p.price_per_unit(),
        Measure::Usage => 0.0,
    }
}

async fn price_resource(
    r: &ResourceBilling,
    source: &mut PriceSource<'_>,
    found: &mut BTreeMap<PriceQuery, Option<RetailPrice>>,
    est: &mut CostEstimate,
) -> Result<ResourceCost, String> {
    let mut cost = ResourceCost {
        address: r.address.clone(),
        label: r.label.clone(),
        stage: r.stage,
        type_name: r.type_name.clone(),
        action: r.action,
        monthly: 0.0,
        monthly_before: 0.0,
        monthly_delta: 0.0,
        lines: Vec::new(),
    };
    for m in &r.after {
        let price = lookup(&m.query, source, found).await?;
        if let Some(p) = &price {
            note_sample(est, p);
        }
        let Some(p) = price else {
            est.not_found
                .push(format!("{}: {} ({})", r.label, m.what, m.query.filter()));
            continue;
        };
        if m.measure == Measure::Usage {
            est.usage_priced.push(UsagePrice {
                address: r.address.clone(),
                label: r.label.clone(),
                meter: m.what.clone(),
                input_per_1m_tokens: None,
                output_per_1m_tokens: None,
                price: Some(p.retail_price),
                unit: Some(p.unit_of_measure.clone()),
                note: m.assumption.clone(),
            });
            continue;
        }
        let monthly = monthly_of(m, &p);
        cost.monthly += monthly;
        cost.lines.push(CostLine {
            meter: m.what.clone(),
            quantity: m.quantity,
            unit: m.unit.into(),
            unit_price: Some(match m.measure {
                Measure::Hours => per_hour(&p),
                _ => p.price_per_unit(),
            }),
            monthly: Some(monthly),
            monthly_before: None,
            assumption: m.assumption.clone(),
        });
    }
    for m in r.before.iter().filter(|m| m.measure != Measure::Usage) {
        let Some(p) = lookup(&m.query, source, found).await? else {
            continue;
        };
        let monthly = monthly_of(m, &p);
        cost.monthly_before += monthly;
        match cost.lines.iter_mut().find(|l| l.meter == m.what) {
            Some(line) => line.monthly_before = Some(monthly),
            None => cost.lines.push(CostLine {
                meter: m.what.clone(),
                quantity: 0.0,
                unit: m.unit.into(),
                unit_price: None,
                monthly: Some(0.0),
                monthly_before: Some(monthly),
                assumption: format!("before: {}", m.assumption),
            }),
        }
    }
    cost.monthly_delta = cost.monthly - cost.monthly_before;
    Ok(cost)
}

/// Lower-case words of a model or meter name (`gpt-4o-mini` -> `gpt 4o mini`).
fn words(s: &str) -> String {
    s.to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a meter (as [`words`]) is the `direction` (`inp`, `outp`) token meter of
/// `model`: it starts with the model's words, the next word is not another name part
/// (`gpt 4o mini` is not `gpt 4o`; a version such as `1120` is fine), and it is not a
/// cached-input, batch or fine-tuning meter.
fn token_meter_of(meter: &str, model: &str, direction: &str) -> bool {
    let Some(rest) = meter.strip_prefix(model).and_then(|r| r.strip_prefix(' ')) else {
        return false;
    };
    let parts: Vec<&str> = rest.split(' ').collect();
    let next_is_name = parts.first().is_some_and(|w| {
        w.chars().all(|c| c.is_ascii_alphabetic()) && *w != direction && !is_kind_word(w)
    });
    !next_is_name
        && parts.contains(&direction)
        && !parts
            .iter()
            .any(|w| ["cchd", "cached", "batch", "ft", "training", "hosting"].contains(w))
}

fn is_kind_word(w: &str) -> bool {
    [
        "glbl", "global", "dz", "dzone", "datazone", "regnl", "regional",
    ]
    .contains(&w)
}

/// The token meters of a deployment's model: `Foundry Models` meters of its region
/// that are its `Inp`/`Outp` meters ([`token_meter_of`]), preferring the deployment
/// type's word (`glbl`, `dz`, `regnl`) and then the shortest name.
async fn model_prices(
    d: &DeploymentBilling,
    source: &mut PriceSource<'_>,
) -> Result<UsagePrice, String> {
    let query = PriceQuery::service("Foundry Models").and("armRegionName", &d.region);
    // Token prices are informative: their failure (e.g. a region listing more pages than
    // allowed) is noted on the deployment, not fatal to the estimate.
    let items = match source.items(&query).await {
        Ok(items) => items,
        Err(e) => {
            return Ok(usage_note(d, format!("token prices unavailable: {e}")));
        }
    };
    let model = words(&d.model);
    let kinds: &[&str] = match d.sku.as_str() {
        s if s.starts_with("Global") => &["glbl", "global"],
        s if s.starts_with("DataZone") => &["dz", "dzone", "datazone"],
        _ => &["regnl", "regional"],
    };
    let pick = |direction: &str| {
        items
            .iter()
            .filter(|p| token_meter_of(&words(&p.meter_name), &model, direction))
            .min_by_key(|p| {
                let w = words(&p.meter_name);
                (!w.split(' ').any(|x| kinds.contains(&x)), w.len())
            })
            .map(|p| p.price_per_unit() * 1e6)
    };
    let (input, output) = (pick("inp"), pick("outp"));
    let note = if d.sku.contains("Provisioned") {
        "provisioned throughput: billed per PTU-hour, not estimated".to_string()
    } else if input.is_none() && output.is_none() {
        "usage-priced per token; the price list has no token meter for this model here".into()
    } else {
        "usage-priced per token: not in the total".into()
    };
    Ok(UsagePrice {
        input_per_1m_tokens: input,
        output_per_1m_tokens: output,
        ..usage_note(d, note)
    })
}

fn usage_note(d: &DeploymentBilling, note: String) -> UsagePrice {
    UsagePrice {
        address: d.address.clone(),
        label: d.label.clone(),
        meter: format!("{} ({})", d.model, d.sku),
        input_per_1m_tokens: None,
        output_per_1m_tokens: None,
        price: None,
        unit: None,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::diff::{DiffValue, PropertyDiff};
    use crate::engine::plan::{Change, Fingerprint};
    use crate::engine::resource::{Api, DiffRules, Mode};
    use serde_json::json;

    const APIM_ID: &str =
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim";

    fn spec(address: &str, type_name: &str, body: Value) -> ResourceSpec {
        ResourceSpec {
            address: Address(address.into()),
            label: format!("label of {type_name}"),
            stage: Stage::Hub,
            api: Api::Arm {
                type_name: type_name.into(),
                api_version: "2024-01-01".into(),
            },
            body,
            depends_on: Default::default(),
            rules: DiffRules::default(),
            mode: Mode::Managed,
            serial_key: None,
            taggable: true,
        }
    }

    fn change(s: &ResourceSpec, action: Action, diffs: Vec<PropertyDiff>) -> Change {
        Change {
            address: s.address.clone(),
            label: s.label.clone(),
            stage: s.stage,
            api: s.api.clone(),
            action,
            diffs,
            replace_paths: Vec::new(),
            fingerprint: Fingerprint::of(None),
            desired: None,
            target: None,
            depends_on: Default::default(),
            serial_key: None,
            outputs: Default::default(),
            reread: false,
            wait: false,
        }
    }

    fn was(path: &str, old: Value) -> PropertyDiff {
        PropertyDiff {
            path: path.into(),
            old: DiffValue::Known(old),
            new: DiffValue::Unknown,
            forces_replacement: false,
        }
    }

    fn price(meter: &str, retail: f64) -> RetailPrice {
        RetailPrice {
            currency_code: "USD".into(),
            retail_price: retail,
            unit_price: retail,
            arm_region_name: "uksouth".into(),
            meter_name: meter.into(),
            product_name: String::new(),
            sku_name: String::new(),
            service_name: "API Management".into(),
            unit_of_measure: "1 Hour".into(),
            price_type: "Consumption".into(),
            tier_minimum_units: 0.0,
            sandbox_sample: false,
        }
    }

    /// Prices `billing` from a cache holding every query (no request is made).
    async fn priced(billing: &Billing) -> CostEstimate {
        let client =
            PriceClient::new("https://prices.invalid/api/retail/prices", None).expect("client");
        let mut cache = PriceCache::default();
        for r in &billing.resources {
            for m in r.after.iter().chain(&r.before) {
                let sku = m.query.conditions.iter().find(|(f, _)| f == "skuName");
                let per_hour = if sku.is_some_and(|(_, v)| v == "Premium") {
                    4.0
                } else {
                    0.5
                };
                let key = m.query.cache_key(client.cache_scope(), "USD");
                cache.insert(key, 100, vec![price(&m.what, per_hour)]);
            }
        }
        let mut source = PriceSource {
            client: &client,
            cache: &mut cache,
            currency: "USD".into(),
            now: 200,
        };
        match estimate(billing, &mut source, &Assumptions::default()).await {
            CostReport::Estimate(e) => e,
            CostReport::Unavailable(why) => panic!("unavailable: {why}"),
        }
    }

    #[test]
    fn token_meters_match_the_model_not_its_siblings() {
        let m =
            |meter: &str, model: &str, dir: &str| token_meter_of(&words(meter), &words(model), dir);
        assert!(m("gpt-4o-1120-Inp-glbl Tokens", "gpt-4o", "inp"));
        assert!(m("gpt-4o-1120-Outp-glbl Tokens", "gpt-4o", "outp"));
        assert!(!m("gpt-4o-1120-Outp-glbl Tokens", "gpt-4o", "inp"));
        assert!(!m("gpt-4o-mini-0718-Inp-glbl Tokens", "gpt-4o", "inp"));
        assert!(m("gpt-4o-mini-0718-Inp-glbl Tokens", "gpt-4o-mini", "inp"));
        assert!(!m("gpt-4o-1120-cached-Inp-glbl Tokens", "gpt-4o", "inp"));
        assert!(!m("gpt-4o-1120 Inp glbl Tokens", "DeepSeek-V3.1", "inp"));
    }

    #[test]
    fn live_values_replace_desired_ones_along_diff_paths() {
        let desired = json!({"properties": {"template": {
            "containers": [{"name": "app", "resources": {"cpu": 1.0}}],
            "scale": {"minReplicas": 2}}}});
        let diffs = vec![
            was(
                "/properties/template/containers[app]/resources/cpu",
                json!(0.5),
            ),
            PropertyDiff {
                path: "/properties/template/scale/minReplicas".into(),
                old: DiffValue::Absent,
                new: DiffValue::Known(json!(2)),
                forces_replacement: false,
            },
        ];
        let live = live_body(&desired, Action::Update, &diffs).expect("live");
        assert_eq!(
            live.pointer("/properties/template/containers/0/resources/cpu"),
            Some(&json!(0.5))
        );
        assert_eq!(live.pointer("/properties/template/scale/minReplicas"), None);
        assert_eq!(live_body(&desired, Action::Create, &diffs), None);
        assert_eq!(live_body(&desired, Action::NoOp, &[]), Some(desired));
    }

    #[tokio::test]
    async fn scaling_down_shows_a_negative_delta_on_that_resource() {
        let apim = spec(
            APIM_ID,
            "Microsoft.ApiManagement/service",
            json!({"location": "UK South", "sku": {"name": "Developer", "capacity": 1}}),
        );
        let mut model = Model::new();
        model.resources.push(apim.clone());
        let mut plan = Plan::default();
        plan.changes = vec![change(
            &apim,
            Action::Update,
            vec![
                was("/sku/name", json!("Premium")),
                was("/sku/capacity", json!(2)),
            ],
        )];
        let billing = billing(&model, &plan, &Assumptions::default());
        assert_eq!(billing.resources.len(), 1);
        let r = &billing.resources[0];
        assert_eq!(r.after[0].quantity, HOURS_PER_MONTH);
        assert_eq!(r.before[0].quantity, 2.0 * HOURS_PER_MONTH);
        assert!(
            r.before[0]
                .query
                .filter()
                .contains("armRegionName eq 'uksouth'")
        );
        let e = priced(&billing).await;
        assert_eq!(e.monthly_total, 0.5 * HOURS_PER_MONTH);
        assert_eq!(e.monthly_before, 8.0 * HOURS_PER_MONTH);
        assert!(e.monthly_delta < 0.0);
        assert_eq!(e.resources[0].monthly_delta, e.monthly_delta);
    }

    #[tokio::test]
    async fn a_deleted_resource_costs_nothing_after_and_a_created_one_nothing_before() {
        let apim = spec(
            APIM_ID,
            "Microsoft.ApiManagement/service",
            json!({"location": "uksouth", "sku": {"name": "Premium", "capacity": 1}}),
        );
        let mut model = Model::new();
        model.resources.push(apim.clone());
        for (action, total, before) in [
            (Action::Delete, 0.0, 4.0 * HOURS_PER_MONTH),
            (Action::Create, 4.0 * HOURS_PER_MONTH, 0.0),
            (Action::NoOp, 4.0 * HOURS_PER_MONTH, 4.0 * HOURS_PER_MONTH),
        ] {
            let mut plan = Plan::default();
            plan.changes = vec![change(&apim, action, Vec::new())];
            let e = priced(&billing(&model, &plan, &Assumptions::default())).await;
            assert_eq!(
                (e.monthly_total, e.monthly_before),
                (total, before),
                "{action:?}"
            );
        }
    }
}
