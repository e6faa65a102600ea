//! Operations of an OpenAPI document, for plans of APIM APIs imported from one:
//! the plan compares them with the API's live operations and shows the ones an
//! import adds or removes (see [`DiffRules::openapi`](super::DiffRules::openapi)).

use serde_json::Value;
use std::collections::BTreeSet;

/// The HTTP methods an OpenAPI path item may hold.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The operations of a document as `"METHOD /path"` (method upper-case, path as in
/// the document). APIM lists imported operations with `method` and `urlTemplate`;
/// `urlTemplate` without its query part gives the same key.
pub fn operations(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            if let Some(item) = item.as_object() {
                for m in METHODS {
                    if item.contains_key(m) {
                        out.insert(operation_key(m, path));
                    }
                }
            }
        }
    }
    out
}

/// The key of one operation: `"POST /chat/completions"`. The query part of an APIM
/// `urlTemplate` is dropped so live operations compare with document ones.
pub fn operation_key(method: &str, url_template: &str) -> String {
    let path = url_template.split('?').next().unwrap_or_default();
    format!("{} {}", method.to_ascii_uppercase(), path)
}

/// The operations of an APIM operations listing (`{api}/operations`: `value[]`
/// with `properties.method` and `properties.urlTemplate`).
pub fn live_operations(listing: &Value) -> BTreeSet<String> {
    listing
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|o| {
            let p = o.get("properties")?;
            Some(operation_key(
                p.get("method")?.as_str()?,
                p.get("urlTemplate")?.as_str()?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn document_and_listing_keys_agree() {
        let doc = json!({"paths": {"/models": {"get": {}}, "/chat/completions": {"post": {}, "parameters": []}}});
        let listing = json!({"value": [
            {"properties": {"method": "GET", "urlTemplate": "/models"}},
            {"properties": {"method": "POST", "urlTemplate": "/chat/completions?api-version={v}"}}
        ]});
        assert_eq!(operations(&doc), live_operations(&listing));
        assert_eq!(operations(&doc).len(), 2);
    }
}
