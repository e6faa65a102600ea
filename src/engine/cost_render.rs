//! A [`CostReport`] as text, Markdown or JSON (docs/json-output.md, `cost`). Pure: the
//! CLI decides where output goes.

use super::cost::{CostEstimate, CostReport, ResourceCost, UsagePrice};
use serde_json::{Value, json};

/// `1234.5` -> `1,234.50`; negative numbers keep their sign.
pub fn money(amount: f64) -> String {
    let cents = (amount.abs() * 100.0).round() as u64;
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if amount < 0.0 && cents > 0 { "-" } else { "" };
    format!("{sign}{grouped}.{:02}", cents % 100)
}

/// `+12.00`, `-3.50`, `0.00`.
pub fn signed(amount: f64) -> String {
    if (amount * 100.0).round() > 0.0 {
        format!("+{}", money(amount))
    } else {
        money(amount)
    }
}

/// A price of one unit with enough digits for small per-second prices.
fn unit_price(p: f64) -> String {
    if p >= 0.01 {
        format!("{p:.4}")
    } else {
        format!("{p:.8}")
    }
}

fn usage_text(u: &UsagePrice, currency: &str) -> String {
    let mut parts = Vec::new();
    if let Some(i) = u.input_per_1m_tokens {
        parts.push(format!("input {} {currency}/1M tokens", unit_price(i)));
    }
    if let Some(o) = u.output_per_1m_tokens {
        parts.push(format!("output {} {currency}/1M tokens", unit_price(o)));
    }
    if let (Some(p), Some(unit)) = (u.price, &u.unit) {
        parts.push(format!("{} {currency} per {unit}", unit_price(p)));
    }
    if parts.is_empty() {
        u.note.clone()
    } else {
        format!("{} ({})", parts.join(", "), u.note)
    }
}

/// What the plan does to the resource, in plain words.
fn action_word(action: super::Action) -> &'static str {
    match action {
        super::Action::Create => "new",
        super::Action::Update => "changed",
        super::Action::Replace => "replaced",
        super::Action::Delete => "removed",
        super::Action::NoOp => "unchanged",
        super::Action::Read => "read",
    }
}

fn resource_human(out: &mut String, r: &ResourceCost, currency: &str) {
    out.push_str(&format!(
        "  {} ({}, {}): {} {currency}/month ({})\n",
        r.label,
        r.stage,
        action_word(r.action),
        money(r.monthly),
        signed(r.monthly_delta)
    ));
    for l in &r.lines {
        let price = l
            .unit_price
            .map(|p| format!(" x {} {currency}/{}", unit_price(p), l.unit))
            .unwrap_or_default();
        out.push_str(&format!(
            "      {}: {} {}{price} = {}  [{}]\n",
            l.meter,
            trim_number(l.quantity),
            l.unit,
            money(l.monthly.unwrap_or(0.0)),
            l.assumption
        ));
    }
}

/// `730.0` -> `730`, `0.5` -> `0.5`.
fn trim_number(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Where the prices come from, for people.
fn source(e: &CostEstimate) -> &'static str {
    if e.sample_prices {
        "SANDBOX SAMPLE prices, not Azure's"
    } else {
        "Azure retail prices"
    }
}

/// The estimate as text: per resource with its meters, the totals, usage-priced
/// meters, missing meters, assumptions; or one line saying why there is none.
pub fn render_cost_human(report: &CostReport) -> String {
    let e = match report {
        CostReport::Unavailable(reason) => {
            return format!("Cost estimate unavailable: {reason}. The plan itself is complete.\n");
        }
        CostReport::Estimate(e) => e,
    };
    let c = &e.currency;
    let mut out = format!(
        "Estimated monthly cost ({c}, {}, {} h a month):\n",
        source(e),
        trim_number(e.hours_per_month)
    );
    for r in &e.resources {
        resource_human(&mut out, r, c);
    }
    out.push_str(&format!(
        "Total: {} {c}/month after this plan; this plan: {} {c}/month (now {}).\n",
        money(e.monthly_total),
        signed(e.monthly_delta),
        money(e.monthly_before)
    ));
    if !e.usage_priced.is_empty() {
        out.push_str("Usage-priced (not in the total):\n");
        for u in &e.usage_priced {
            out.push_str(&format!(
                "  {} {}: {}\n",
                u.label,
                u.meter,
                usage_text(u, c)
            ));
        }
    }
    for n in &e.not_found {
        out.push_str(&format!("Not priced (meter not in the price list): {n}\n"));
    }
    out.push_str("Assumptions:\n");
    for a in &e.assumptions {
        out.push_str(&format!("  - {a}\n"));
    }
    out
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The estimate as Markdown (a table per resource and a totals line).
pub fn render_cost_markdown(report: &CostReport) -> String {
    let e = match report {
        CostReport::Unavailable(reason) => {
            return format!(
                "### Estimated monthly cost\n\nUnavailable: {}. The plan itself is complete.\n",
                md_escape(reason)
            );
        }
        CostReport::Estimate(e) => e,
    };
    let c = &e.currency;
    let mut out = format!(
        "### Estimated monthly cost ({c})\n\nPrices: {}.\n\n| Resource | Stage | Action | Monthly | Delta | Assumptions |\n|---|---|---|---:|---:|---|\n",
        source(e)
    );
    for r in &e.resources {
        let assumptions: Vec<String> = r
            .lines
            .iter()
            .map(|l| format!("{}: {}", l.meter, l.assumption))
            .collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            md_escape(&r.label),
            r.stage,
            action_word(r.action),
            money(r.monthly),
            signed(r.monthly_delta),
            md_escape(&assumptions.join("; "))
        ));
    }
    out.push_str(&format!(
        "\n**Total: {} {c}/month after this plan; this plan: {} {c}/month.**\n\n",
        money(e.monthly_total),
        signed(e.monthly_delta)
    ));
    for u in &e.usage_priced {
        out.push_str(&format!(
            "- Usage-priced: {} {}: {}\n",
            md_escape(&u.label),
            md_escape(&u.meter),
            md_escape(&usage_text(u, c))
        ));
    }
    for n in &e.not_found {
        out.push_str(&format!("- Not priced: {}\n", md_escape(n)));
    }
    out.push_str("\nAssumptions:\n\n");
    for a in &e.assumptions {
        out.push_str(&format!("- {}\n", md_escape(a)));
    }
    out
}

/// The estimate as the documented JSON object (`cost` of the plan document and of the
/// `cost` command): `available`, `reason` when unavailable, else the figures.
pub fn cost_json(report: &CostReport) -> Value {
    match report {
        CostReport::Unavailable(reason) => json!({"available": false, "reason": reason}),
        CostReport::Estimate(e) => estimate_json(e),
    }
}

fn estimate_json(e: &CostEstimate) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    if let Value::Object(o) = &mut v {
        o.insert("available".into(), Value::Bool(true));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats() {
        assert_eq!(money(1234.5), "1,234.50");
        assert_eq!(money(-3.456), "-3.46");
        assert_eq!(money(0.0), "0.00");
        assert_eq!(signed(2.0), "+2.00");
        assert_eq!(signed(-2.0), "-2.00");
        assert_eq!(signed(0.001), "0.00");
        assert_eq!(money(1_000_000.0), "1,000,000.00");
    }
}
