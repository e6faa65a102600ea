//! Loading behaviour beyond the corpus: files relative to the environment file, digests,
//! positions, locations, custom clouds, I/O errors, rendering.

use owui_deploy::config::{self, CertificateSource, Problem, normalize_location};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn sandbox_text() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("environments/sandbox.toml"))
        .expect("read sandbox.toml")
}

fn codes(
    r: &Result<config::LoadedEnvironment, config::ConfigErrors>,
) -> Vec<(&'static str, String)> {
    match r {
        Ok(_) => Vec::new(),
        Err(e) => e.problems.iter().map(|p| (p.code, p.key.clone())).collect(),
    }
}

#[test]
fn named_files_are_found_relative_to_the_environment_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("certs")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("policies")).expect("mkdir");
    for f in [
        "certs/chat.pfx",
        "certs/root.cer",
        "policies/p.xml",
        "openai.json",
    ] {
        std::fs::write(dir.path().join(f), b"x").expect("write");
    }
    // The trusted root must hold a certificate (here a minimal DER SEQUENCE).
    std::fs::write(dir.path().join("certs/root.cer"), b"\x30\x03\x02\x01\x01").expect("write");
    let text = sandbox_text()
        .replace(
            "custom_domain = \"chat.sandbox.contoso.com\"",
            "custom_domain = \"chat.sandbox.contoso.com\"\ncertificate_pfx_path = \"certs/chat.pfx\"\ntrusted_root_certificate_path = \"certs/root.cer\"",
        )
        .replace(
            "publisher_name = \"Contoso AI Platform\"",
            "publisher_name = \"Contoso AI Platform\"\npolicy_file = \"policies/p.xml\"\nopenapi = \"openai.json\"",
        );
    let path = dir.path().join("env.toml");
    std::fs::write(&path, &text).expect("write env");
    let loaded = match config::load(&path) {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(loaded.dir, dir.path());
    assert_eq!(
        loaded.certificate_source(),
        CertificateSource::File(dir.path().join("certs/chat.pfx"))
    );
    let want: String = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(loaded.digest, want);

    // The same file seen from another directory misses all four files.
    let elsewhere = config::load_str(Path::new("/nonexistent/env.toml"), &text);
    let mut got = codes(&elsewhere);
    got.sort();
    assert_eq!(
        got,
        [
            ("file-not-found", "apim.openapi".to_string()),
            ("file-not-found", "apim.policy_file".to_string()),
            ("file-not-found", "domain.certificate_pfx_path".to_string()),
            (
                "file-not-found",
                "domain.trusted_root_certificate_path".to_string()
            ),
        ]
    );
}

#[test]
fn openapi_may_be_an_https_url_but_not_http() {
    let with = |v: &str| {
        sandbox_text().replace(
            "publisher_name = \"Contoso AI Platform\"",
            &format!("publisher_name = \"Contoso AI Platform\"\nopenapi = \"{v}\""),
        )
    };
    let p = Path::new("x/env.toml");
    assert!(config::load_str(p, &with("https://example.com/openai.json")).is_ok());
    assert_eq!(
        codes(&config::load_str(
            p,
            &with("http://example.com/openai.json")
        )),
        [("invalid-url", "apim.openapi".to_string())]
    );
}

#[test]
fn unreadable_file_is_one_problem() {
    let r = config::load(Path::new("/nonexistent/owui/env.toml"));
    assert_eq!(codes(&r), [("io-error", String::new())]);
    let e = r.expect_err("must fail");
    let shown = e.problems[0].to_string();
    assert!(
        shown.starts_with("/nonexistent/owui/env.toml: cannot read the environment file: "),
        "{shown}"
    );
}

#[test]
fn non_utf8_file_is_a_syntax_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, b"name = \"a\xffb\"\n").expect("write");
    let r = config::load(&path);
    assert_eq!(codes(&r), [("toml-syntax", String::new())]);
    let p = &r.expect_err("must fail").problems[0];
    assert_eq!((p.line, p.col), (Some(1), Some(10)));
}

#[test]
fn problem_display_formats() {
    let p = Problem {
        file: PathBuf::from("environments/dev.toml"),
        line: Some(12),
        col: Some(3),
        key: "hub.adress_space".into(),
        message: "unknown key".into(),
        code: "unknown-key",
    };
    assert_eq!(
        p.to_string(),
        "environments/dev.toml:12:3: hub.adress_space: unknown key"
    );
    let no_pos = Problem {
        line: None,
        col: None,
        key: "domain".into(),
        ..p.clone()
    };
    assert_eq!(
        no_pos.to_string(),
        "environments/dev.toml: domain: unknown key"
    );
    let errs = config::ConfigErrors {
        problems: vec![p, no_pos],
    };
    assert_eq!(
        errs.to_string(),
        "2 problems in environment file environments/dev.toml\n  environments/dev.toml:12:3: hub.adress_space: unknown key\n  environments/dev.toml: domain: unknown key"
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    let text = sandbox_text().replace(
        "app_name = \"Open WebUI (sandbox)\"",
        "app_name = \"Öpen WebUI\" ; extra",
    );
    let r = config::load_str(Path::new("env.toml"), &text);
    let e = r.expect_err("must fail");
    assert_eq!(e.problems[0].code, "toml-syntax");
    let line = text
        .lines()
        .position(|l| l.starts_with("app_name = \"Öpen"))
        .expect("line")
        + 1;
    assert_eq!(
        (e.problems[0].line, e.problems[0].col),
        (Some(line), Some(25))
    );
}

#[test]
fn locations_are_normalised_and_inherited() {
    let text = sandbox_text()
        .replace(
            "resource_group = \"rg-owui-spoke-sandbox\"",
            "resource_group = \"rg-owui-spoke-sandbox\"\nlocation = \"West Europe\"",
        )
        .replace("location = \"swedencentral\"\n", "");
    let l = config::load_str(Path::new("env.toml"), &text).expect("valid");
    assert_eq!(l.env.hub_location(), "uksouth");
    assert_eq!(l.env.spoke_location(), "westeurope");
    assert_eq!(l.env.foundry_location(), "westeurope");
    assert_eq!(normalize_location("East US 2"), "eastus2");
}

#[test]
fn custom_clouds_skip_the_region_list() {
    let text = sandbox_text().replace(
        "cloud = \"sandbox\"",
        "cloud = { resource_manager = \"https://management.local.azurestack.external\", graph = \"https://graph.local.azurestack.external\", authority = \"https://login.local.azurestack.external\" }",
    ).replace("location = \"UK South\"", "location = \"local\"");
    let l = config::load_str(Path::new("env.toml"), &text).expect("valid custom cloud");
    assert_eq!(l.env.azure.cloud.named(), None);
    assert_eq!(config::summarize(&l).cloud, "custom");
}

#[test]
fn key_vault_names_are_not_secrets_but_keys_are() {
    // Every key of the shipped files passes, including key_vault_name and counter_key...
    assert!(config::load_str(Path::new("env.toml"), &sandbox_text()).is_ok());
    // ...and an extra_env flag that merely mentions a key is not a secret.
    let text = sandbox_text().replace(
        "[domain]",
        "[container_app.extra_env]\nENABLE_API_KEY = \"true\"\n\n[domain]",
    );
    assert!(config::load_str(Path::new("env.toml"), &text).is_ok());
}

#[test]
fn numbers_may_be_written_as_integers() {
    let text = sandbox_text()
        .replace("time_scale = 0.001", "time_scale = 1")
        .replace(
            "environment_name = \"cae-owui-sandbox\"",
            "environment_name = \"cae-owui-sandbox\"\ncpu = 2\nmemory = \"4Gi\"",
        );
    let l = config::load_str(Path::new("env.toml"), &text).expect("valid");
    assert_eq!(l.env.container_app.cpu, 2.0);
    assert_eq!(l.env.azure.sandbox.time_scale, 1.0);
}
