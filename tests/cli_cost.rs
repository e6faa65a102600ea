//! The monthly cost estimate (issue 17) end to end: the built binary against an
//! in-process sandbox serving the Retail Prices API's shape from sample prices.
//! Paging, the day cache, deltas of a SKU change, the `cost` command, `--no-cost`, and a
//! failing price API that never fails a plan.

mod cli_support;

use cli_support::Harness;
use serde_json::{Value, json};

const TIME_SCALE: f64 = 0.0005;
const PRICES_PATH: &str = "/api/retail/prices";

/// Requests to the price API in the sandbox's journal.
async fn price_requests(h: &Harness) -> Vec<String> {
    h.journal()
        .await
        .iter()
        .filter_map(|e| e["path"].as_str())
        .filter(|p| p.starts_with(PRICES_PATH))
        .map(str::to_string)
        .collect()
}

fn json_doc(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// The priced resource of `type_name` in a `cost` object.
fn resource<'a>(cost: &'a Value, type_name: &str) -> &'a Value {
    cost["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["type"] == type_name)
        .unwrap_or_else(|| panic!("no {type_name} in {cost:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_estimates_with_paging_then_uses_the_cache_until_it_expires() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let run = h.run(&["plan", "--output", "json"]).await;
    run.ok();
    let doc = json_doc(&run.stdout);
    let schema =
        std::fs::read_to_string(cli_support::repo().join("docs/schemas/plan.v1.schema.json"))
            .expect("plan schema");
    let validator = jsonschema::validator_for(&serde_json::from_str(&schema).expect("schema JSON"))
        .expect("valid schema");
    let problems: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let cost = &doc["cost"];
    assert_eq!(cost["available"], true, "{cost:#}");
    assert_eq!(cost["currency"], "USD");
    assert_eq!(
        cost["sample_prices"], true,
        "the sandbox's prices are samples"
    );
    assert!(
        cost["not_found"].as_array().expect("list").is_empty(),
        "{cost:#}"
    );
    let total = cost["monthly_total"].as_f64().expect("total");
    assert!(total > 0.0);
    assert_eq!(cost["monthly_delta"].as_f64(), Some(total), "all new");
    let apim = resource(cost, "Microsoft.ApiManagement/service");
    assert_eq!(apim["action"], "create");
    assert!(apim["monthly_delta"].as_f64().expect("delta") > 0.0);
    for t in [
        "Microsoft.Network/applicationGateways",
        "Microsoft.DBforPostgreSQL/flexibleServers",
        "Microsoft.App/containerApps",
        "Microsoft.OperationalInsights/workspaces",
        "Microsoft.Storage/storageAccounts/fileServices/shares",
        "Microsoft.Network/publicIPAddresses",
        "Microsoft.Network/privateEndpoints",
    ] {
        resource(cost, t);
    }
    let gpt = cost["usage_priced"]
        .as_array()
        .expect("usage")
        .iter()
        .find(|u| {
            u["meter"]
                .as_str()
                .is_some_and(|m| m.starts_with("gpt-4o ("))
        })
        .expect("gpt-4o token prices");
    assert!(gpt["input_per_1m_tokens"].as_f64().expect("input") > 0.0);
    assert!(
        cost["assumptions"]
            .as_array()
            .expect("assumptions")
            .iter()
            .any(|a| a.as_str().is_some_and(|a| a.contains("730 hours"))),
        "{cost:#}"
    );
    let first = price_requests(&h).await;
    assert!(
        first
            .iter()
            .any(|p| p.contains("%24skip=") || p.contains("$skip=")),
        "paging followed: {first:#?}"
    );

    // Second run: every price from the cache.
    h.run(&["plan", "--output", "json"]).await.ok();
    assert_eq!(
        price_requests(&h).await.len(),
        first.len(),
        "no new request"
    );

    // An expired cache is fetched again.
    let cache_file = h.path().join(".owui-cache/retail-prices.json");
    let mut cache: Value =
        serde_json::from_str(&std::fs::read_to_string(&cache_file).expect("cache")).expect("json");
    for entry in cache["entries"]
        .as_object_mut()
        .expect("entries")
        .values_mut()
    {
        entry["fetched_at"] = json!(1_000);
    }
    std::fs::write(&cache_file, cache.to_string()).expect("write cache");
    h.run(&["plan", "--output", "json"]).await.ok();
    assert_eq!(
        price_requests(&h).await.len(),
        2 * first.len(),
        "refetched once"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sku_change_shows_its_delta_on_that_resource() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    let text = h.env_text();
    let premium = text.replace(
        "publisher_name = \"Contoso AI Platform\"",
        "publisher_name = \"Contoso AI Platform\"\nsku = \"Premium\"\ncapacity = 2",
    );
    assert_ne!(premium, text);
    h.write_env(&premium);
    let run = h.run(&["plan", "hub", "--output", "json"]).await;
    run.ok();
    let cost = &json_doc(&run.stdout)["cost"];
    let apim = resource(cost, "Microsoft.ApiManagement/service");
    assert_eq!(apim["action"], "update", "{apim:#}");
    let before = apim["monthly_before"].as_f64().expect("before");
    let after = apim["monthly"].as_f64().expect("after");
    assert!(before > 0.0 && after > before, "{apim:#}");
    let delta = apim["monthly_delta"].as_f64().expect("delta");
    assert!((delta - (after - before)).abs() < 1e-6);
    assert!((cost["monthly_delta"].as_f64().expect("total delta") - delta).abs() < 1e-6);
    let others = cost["resources"].as_array().expect("resources");
    assert!(
        others
            .iter()
            .filter(|r| r["type"] != "Microsoft.ApiManagement/service")
            .all(|r| r["monthly_delta"] == 0.0),
        "only APIM changes: {cost:#}"
    );
    let human = h.run(&["plan", "hub"]).await;
    human.ok();
    assert!(human.stdout.contains("Premium units"), "{}", human.stdout);
    assert!(human.stdout.contains("this plan: +"), "{}", human.stdout);

    // Back down: the sign flips.
    h.run(&["hub", "--yes", "--no-progress"]).await.ok();
    h.write_env(&text);
    let run = h.run(&["plan", "hub", "--output", "json"]).await;
    let cost = &json_doc(&run.stdout)["cost"];
    let apim = resource(cost, "Microsoft.ApiManagement/service");
    assert!(
        apim["monthly_delta"].as_f64().expect("delta") < 0.0,
        "{apim:#}"
    );
    assert!(cost["monthly_delta"].as_f64().expect("delta") < 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_price_api_never_fails_a_plan() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    h.admin_post(
        "/_sandbox/faults",
        &json!({"rules": [{
            "path": PRICES_PATH,
            "kind": "status",
            "status": 503,
            "code": "ServiceUnavailable",
            "message": "prices are down"
        }]}),
    )
    .await;
    let run = h.run(&["plan", "--detailed-exitcode"]).await;
    run.expect_code(2);
    assert!(
        run.stdout
            .contains("Cost estimate unavailable: the Retail Prices API answered HTTP 503"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Plan: "), "{}", run.stdout);
    let calls = price_requests(&h).await.len();
    assert!(calls <= 2, "no retry storm: {calls} calls");

    let run = h.run(&["plan", "--output", "json"]).await;
    run.ok();
    let doc = json_doc(&run.stdout);
    assert_eq!(doc["cost"]["available"], false);
    assert!(
        doc["cost"]["reason"]
            .as_str()
            .expect("reason")
            .contains("503")
    );

    // The `cost` command says so and exits 1.
    let run = h.run(&["cost"]).await;
    run.expect_code(1);
    assert!(run.stdout.contains("unavailable"), "{}", run.stdout);

    // A lost connection reads as unreachable, still without failing the plan.
    h.admin_post(
        "/_sandbox/faults",
        &json!({"rules": [{"path": PRICES_PATH, "kind": "drop"}]}),
    )
    .await;
    let run = h.run(&["plan", "--detailed-exitcode"]).await;
    run.expect_code(2);
    assert!(
        run.stdout
            .contains("Cost estimate unavailable: the Retail Prices API at https://"),
        "{}",
        run.stdout
    );

    // --no-cost or OWUI_NO_COST=1: not a single request.
    let before = price_requests(&h).await.len();
    let run = h.run(&["plan", "--no-cost"]).await;
    run.ok();
    assert!(!run.stdout.contains("cost"), "{}", run.stdout);
    let run = h.run_env(&["plan"], &[("OWUI_NO_COST", "1")]).await;
    run.ok();
    assert!(!run.stdout.contains("cost"), "{}", run.stdout);
    assert_eq!(price_requests(&h).await.len(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cost_command_prints_the_estimate_alone_in_every_format() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let run = h
        .run(&["cost", "--output", "json", "--currency", "eur"])
        .await;
    run.ok();
    let doc = json_doc(&run.stdout);
    assert_eq!(doc["available"], true, "{doc:#}");
    assert_eq!(doc["currency"], "EUR");
    assert!(doc.get("changes").is_none(), "the estimate alone");

    let run = h.run(&["cost", "--log-gb-per-month", "50"]).await;
    run.ok();
    assert!(
        run.stdout
            .starts_with("Estimated monthly cost (USD, SANDBOX SAMPLE prices"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("50 GB ingested a month"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("to add"), "{}", run.stdout);

    let run = h.run(&["cost", "--output", "markdown"]).await;
    run.ok();
    assert!(run.stdout.starts_with("### Estimated monthly cost (USD)"));
    assert!(
        run.stdout
            .contains("| Resource | Stage | Action | Monthly | Delta |")
    );

    let bad = h.run(&["cost", "--currency", "dollars"]).await;
    bad.expect_code(2);
    assert!(
        bad.stderr.contains("three-letter currency code"),
        "{}",
        bad.stderr
    );
}

/// The sandbox's price route answers as the public API documents it, and hostile
/// queries get a 400 or an empty page, never a crash.
#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_price_route_filters_pages_and_refuses_what_it_does_not_serve() {
    let h = Harness::start("sandbox", TIME_SCALE).await;
    let filter = "serviceName eq 'API Management' and armRegionName eq 'uksouth'";
    let page = h
        .admin_get(&format!(
            "{PRICES_PATH}?currencyCode='GBP'&$filter={filter}"
        ))
        .await;
    assert_eq!(page["BillingCurrency"], "GBP");
    assert_eq!(page["CustomerEntityType"], "Retail");
    assert_eq!(page["Count"], 3, "{page:#}");
    let items = page["Items"].as_array().expect("items");
    assert!(items.iter().all(|i| i["currencyCode"] == "GBP"
        && i["armRegionName"] == "uksouth"
        && i["sandboxSample"] == true));
    let next = page["NextPageLink"].as_str().expect("a second page");
    let rest = next.strip_prefix(&h.sandbox.url()).expect("same host");
    let second = h.admin_get(rest).await;
    assert_eq!(second["Count"], 1, "4 APIM SKUs: {second:#}");
    assert!(second["NextPageLink"].is_null());

    // Case-insensitive values by default, case-sensitive from 2023-01-01-preview.
    let lower = format!("{PRICES_PATH}?$filter=serviceName eq 'api management'");
    assert!(h.admin_get(&lower).await["Count"].as_u64() > Some(0));
    let strict = h
        .admin_get(&format!("{lower}&api-version=2023-01-01-preview"))
        .await;
    assert_eq!(strict["Count"], 0);

    let huge = h
        .admin_get(&format!("{PRICES_PATH}?$skip={}", u64::MAX))
        .await;
    assert_eq!(huge["Count"], 0);
    for bad in [
        "$filter=serviceName ne 'x'",
        "$filter=secret eq 'x'",
        "$filter=serviceName eq 'x",
        "currencyCode='XXX'",
    ] {
        let body = h.admin_get(&format!("{PRICES_PATH}?{bad}")).await;
        assert_eq!(body["Error"]["Code"], "BadRequest", "{bad}: {body:#}");
    }
}
