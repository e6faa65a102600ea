//! The OpenAPI document the `openai` API imports: the bundled one, a file, a URL,
//! and the 1.1 MB fixture.

mod finalize_env;

use owui_deploy::stages::StageOptions;
use owui_deploy::stages::finalize::finalize_resources;
use owui_deploy::stages::openapi::{
    self, BUNDLED, OpenApiError, OpenApiSource, digest, load, operation_key, operations,
};
use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn the_bundled_document_covers_the_openai_v1_surface() {
    let doc = load(&OpenApiSource::Bundled).expect("bundled document loads");
    assert_eq!(doc.format, "openapi+json");
    let ops = doc
        .operations
        .clone()
        .expect("inline documents list operations");
    for op in [
        "POST /chat/completions",
        "POST /completions",
        "POST /embeddings",
        "POST /responses",
        "GET /responses/{response_id}",
        "DELETE /responses/{response_id}",
        "GET /models",
        "GET /models/{model}",
    ] {
        assert!(ops.contains(op), "missing {op}");
    }
    // Every operation has an operationId and the servers URL has a placeholder.
    let json: serde_json::Value = serde_json::from_str(BUNDLED).unwrap();
    for (path, item) in json["paths"].as_object().unwrap() {
        for m in openapi::METHODS {
            if let Some(op) = item.get(m) {
                assert!(op["operationId"].is_string(), "{m} {path}");
            }
        }
    }
    assert!(
        json["servers"][0]["url"]
            .as_str()
            .unwrap()
            .contains("{endpoint}")
    );
    assert!(doc.size < 64 * 1024, "compact: {} bytes", doc.size);
    assert!(doc.digest.starts_with("sha256:") && doc.digest.len() == 7 + 64);
    assert!(doc.summary().contains(&format!("{} operations", ops.len())));
    assert!(!doc.summary().contains("chat/completions"));
}

#[test]
fn digest_is_stable_and_content_sensitive() {
    assert_eq!(digest("abc"), digest("abc"));
    assert_eq!(
        digest("abc"),
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_ne!(digest("abc"), digest("abd"));
    // Formatting of the file does not change the digest (compact JSON is hashed).
    let a = openapi::from_text(
        r#"{"openapi":"3.0.0","paths":{"/a":{"get":{}}}}"#,
        OpenApiSource::Bundled,
    )
    .unwrap();
    let b = openapi::from_text(
        "{\n  \"openapi\": \"3.0.0\",\n  \"paths\": { \"/a\": { \"get\": {} } }\n}\n",
        OpenApiSource::Bundled,
    )
    .unwrap();
    assert_eq!(a.digest, b.digest);
}

#[test]
fn operation_keys_match_apim_url_templates() {
    assert_eq!(
        operation_key("post", "/chat/completions"),
        "POST /chat/completions"
    );
    assert_eq!(
        operation_key("GET", "/models/{model}?api-version={api-version}"),
        "GET /models/{model}"
    );
}

#[test]
fn sources_files_urls_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        OpenApiSource::from_setting(None, dir.path()),
        OpenApiSource::Bundled
    );
    assert_eq!(
        OpenApiSource::from_setting(Some("specs/x.json"), dir.path()),
        OpenApiSource::File(dir.path().join("specs/x.json"))
    );
    let url = load(&OpenApiSource::Url(
        "https://example.com/openai.json".into(),
    ))
    .unwrap();
    assert_eq!(url.format, "openapi+json-link");
    assert_eq!(url.value, "https://example.com/openai.json");
    assert!(url.operations.is_none());
    let yaml = load(&OpenApiSource::Url(
        "https://example.com/openai.yaml?x=1".into(),
    ))
    .unwrap();
    assert_eq!(yaml.format, "openapi-link");
    assert!(matches!(
        load(&OpenApiSource::Url("http://example.com/o.json".into())),
        Err(OpenApiError::InsecureUrl(_))
    ));

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"openapi\": \"3.0.0\",\n  \"paths\": {,\n}").unwrap();
    match load(&OpenApiSource::File(bad)) {
        Err(OpenApiError::Json { line, .. }) => assert_eq!(line, 3),
        other => panic!("expected a JSON error, got {other:?}"),
    }
    let swagger = dir.path().join("swagger.json");
    std::fs::write(&swagger, r#"{"swagger":"2.0","paths":{}}"#).unwrap();
    assert!(matches!(
        load(&OpenApiSource::File(swagger)),
        Err(OpenApiError::NotOpenApi { .. })
    ));
    assert!(matches!(
        load(&OpenApiSource::File(dir.path().join("spec.yaml"))),
        Err(OpenApiError::Yaml(_))
    ));
    assert!(matches!(
        load(&OpenApiSource::File(dir.path().join("missing.json"))),
        Err(OpenApiError::Read { .. })
    ));
}

#[test]
fn the_large_fixture_parses_and_imports_inline() {
    let Some(shared) = finalize_env::shared() else {
        eprintln!("skipped: ../shared is absent");
        return;
    };
    let path = shared.join("fixtures/openai-v1.openapi.large.json");
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    assert!(text.len() > 1_000_000);
    let doc = openapi::parse(&text, "fixture").expect("parses");
    let ops = operations(&doc);
    // Counted independently: every (path, method) pair of the document.
    let mut expected = BTreeSet::new();
    for (p, item) in doc["paths"].as_object().unwrap() {
        for (k, _) in item.as_object().unwrap() {
            if openapi::METHODS.contains(&k.as_str()) {
                expected.insert(format!("{} {p}", k.to_uppercase()));
            }
        }
    }
    assert_eq!(ops, expected);
    assert_eq!(ops.len(), 60);
    assert!(ops.contains("POST /chat/completions"));
    assert!(ops.contains("POST /embeddings"));

    // Through the environment: the API body carries the whole document inline and
    // its digest in the revision description; the label gives only a summary.
    let mut env = finalize_env::base();
    env.apim.openapi = Some(path.display().to_string());
    let specs = finalize_resources(
        &env,
        &StageOptions {
            environment_dir: Path::new("/nonexistent").to_path_buf(),
            ..StageOptions::default()
        },
    )
    .expect("finalize builds");
    let api = specs
        .iter()
        .find(|s| s.address.as_str().ends_with("/apis/openai"))
        .expect("API spec");
    let props = &api.body["properties"];
    assert_eq!(props["format"], "openapi+json");
    let value = props["value"].as_str().unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(value).unwrap(),
        doc
    );
    let loaded = openapi::from_text(&text, OpenApiSource::File(path.clone())).unwrap();
    assert_eq!(
        props["apiRevisionDescription"],
        format!("owui-deploy import {}", loaded.digest)
    );
    assert!(api.label.contains("60 operations"));
    assert!(api.label.len() < 300);
    assert!(api.rules.ignore.contains(&"/properties/value".to_string()));
}
