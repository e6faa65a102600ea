//! OpenAPI import for APIM APIs: fetch linked documents, turn paths into operations.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------------------
// OpenAPI import

pub(super) async fn fetch_linked_document(
    shared: &Shared,
    body: &[u8],
) -> Result<Option<Value>, Reply> {
    let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
        return Ok(None);
    };
    let format = v["properties"]["format"]
        .as_str()
        .unwrap_or("")
        .to_ascii_lowercase();
    if !format.ends_with("-link") {
        return Ok(None);
    }
    let Some(url) = v["properties"]["value"].as_str().map(str::to_string) else {
        return Err(Reply::arm_error(
            400,
            "ValidationError",
            "'value' (the document URL) is required with a '-link' format.",
        ));
    };
    let text = match shared.http.get(&url).send().await {
        Ok(resp) if resp.status().is_success() => resp.text().await.map_err(|e| e.to_string()),
        Ok(resp) => Err(format!("HTTP {}", resp.status())),
        Err(e) => Err(e.to_string()),
    };
    let text = text.map_err(|e| {
        Reply::arm_error(
            400,
            "ValidationError",
            format!("Cannot retrieve the document from link '{url}': {e}"),
        )
    })?;
    if let Some(p) = v.get_mut("properties").and_then(Value::as_object_mut) {
        p.insert("value".into(), json!(text));
        p.insert("format".into(), json!(format.trim_end_matches("-link")));
    }
    Ok(Some(v))
}

/// Parse an inline OpenAPI/Swagger JSON document into operations; fill the API's
/// defaults from it; remove `value`/`format`. `Ok(None)` when there is nothing to import.
pub(super) fn import_operations(src: &mut Value) -> Result<Option<Vec<(String, Value)>>, Reply> {
    let props = types::obj(src, "properties");
    let (Some(format), Some(value)) = (
        props
            .get("format")
            .and_then(Value::as_str)
            .map(str::to_string),
        props.get("value").cloned(),
    ) else {
        return Ok(None);
    };
    check_format(&format)?;
    let doc = parse_document(&value)?;
    let Some(paths) = doc["paths"].as_object() else {
        return Err(Reply::arm_error(
            400,
            "ValidationError",
            "Parsing error(s): the document has no 'paths'.",
        ));
    };
    let ops = operations_of(paths);
    fill_api_defaults(props, &doc);
    props.remove("value");
    props.remove("format");
    Ok(Some(ops))
}

/// Refuse an import format other than a JSON OpenAPI/Swagger document.
fn check_format(format: &str) -> Result<(), Reply> {
    let f = format.to_ascii_lowercase();
    if !matches!(
        f.as_str(),
        "openapi+json"
            | "openapi"
            | "swagger-json"
            | "openapi+json-link"
            | "openapi-link"
            | "swagger-link-json"
    ) {
        return Err(Reply::arm_error(
            400,
            "ValidationError",
            format!("The sandbox imports JSON OpenAPI/Swagger documents only (format '{format}')."),
        ));
    }
    Ok(())
}

/// The document in `value`: a JSON string or an object.
fn parse_document(value: &Value) -> Result<Value, Reply> {
    let doc: Value = match value {
        Value::String(s) => serde_json::from_str(s).map_err(|e| {
            Reply::arm_error(400, "ValidationError", format!("Parsing error(s): the document is not valid JSON (the sandbox does not parse YAML): {e}"))
        })?,
        Value::Object(_) => value.clone(),
        _ => return Err(Reply::arm_error(400, "ValidationError", "'value' must be the document.")),
    };
    Ok(doc)
}

/// One operation (name, properties) per method of each path, in document order.
fn operations_of(paths: &Map<String, Value>) -> Vec<(String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let m = method.to_ascii_uppercase();
            if !matches!(
                m.as_str(),
                "GET" | "PUT" | "POST" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS" | "TRACE"
            ) {
                continue;
            }
            let name = operation_name(op, &m, path);
            let template: Vec<Value> = path
                .split('{')
                .skip(1)
                .filter_map(|s| s.split_once('}').map(|(n, _)| n))
                .map(|n| json!({"name": n, "required": true, "type": "string", "values": []}))
                .collect();
            let display = op["summary"]
                .as_str()
                .or_else(|| op["operationId"].as_str())
                .unwrap_or(&name)
                .to_string();
            let mut p = json!({"displayName": display, "method": m, "urlTemplate": path, "templateParameters": template, "responses": []});
            if let Some(d) = op["description"].as_str() {
                p["description"] = json!(d);
            }
            ops.push((name, p));
        }
    }
    ops
}

/// An operation's name: its `operationId` (characters APIM refuses replaced by
/// `-`), else the method and path (`get-items-id`).
fn operation_name(op: &Value, method: &str, path: &str) -> String {
    op["operationId"]
        .as_str()
        .map(|s| {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect::<String>()
        })
        .unwrap_or_else(|| {
            format!(
                "{}{}",
                method.to_ascii_lowercase(),
                path.replace(['/', '{', '}'], "-")
            )
            .trim_end_matches('-')
            .to_string()
        })
}

/// Fill the API's display name, description and service URL from the document
/// where the API does not set them.
fn fill_api_defaults(props: &mut Map<String, Value>, doc: &Value) {
    if !props.contains_key("displayName")
        && let Some(t) = doc["info"]["title"].as_str()
    {
        props.insert("displayName".into(), json!(t));
    }
    if !props.contains_key("description")
        && let Some(d) = doc["info"]["description"].as_str()
    {
        props.insert("description".into(), json!(d));
    }
    if !props.contains_key("serviceUrl")
        && let Some(u) = doc["servers"][0]["url"].as_str()
    {
        props.insert("serviceUrl".into(), json!(u));
    }
}
