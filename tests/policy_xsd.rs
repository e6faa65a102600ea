//! Every policy variant the environment file can produce validates against the
//! APIM policy schemas (`../shared/apim-policy-schemas/policies.xsd`) with xmllint.
//! In CI xmllint (libxml2-utils) is installed; when `../shared` is present and
//! xmllint is missing the test fails, unless `OWUI_SKIP_XSD=1`.

mod finalize_env;

use owui_deploy::stages::policy::render_policy;
use std::path::Path;
use std::process::Command;

fn xmllint_available() -> bool {
    Command::new("xmllint")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn validate(xsd: &Path, xml: &str, dir: &Path, name: &str) -> Result<(), String> {
    let file = dir.join(format!("{name}.xml"));
    std::fs::write(&file, xml).map_err(|e| e.to_string())?;
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(xsd)
        .arg(&file)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{name}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            xml
        ))
    }
}

fn variants() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for key in ["user", "subscription", "ip"] {
        for quota in [None, Some(("500000", "Monthly")), Some(("1000", "hourly"))] {
            for pool in [false, true] {
                for roles in [
                    r#"["admin", "user"]"#,
                    r#"["reader", "R&D <team>", "o'neil \"x\""]"#,
                ] {
                    let mut extra = format!(
                        "[apim.token_limit]\ntokens_per_minute = 25000\ncounter_key = \"{key}\"\nallowed_roles = {roles}\n"
                    );
                    if let Some((q, p)) = quota {
                        extra.push_str(&format!("token_quota = {q}\nquota_period = \"{p}\"\n"));
                    }
                    if pool {
                        extra.push_str(
                            "[[foundry.pool]]\nname = \"fdy-owui-swc\"\nlocation = \"swedencentral\"\npriority = 2\n",
                        );
                    }
                    let name = format!(
                        "{key}-{}-{}-{}",
                        quota.map(|q| q.1).unwrap_or("noquota"),
                        if pool { "pool" } else { "single" },
                        if roles.contains("reader") {
                            "custom"
                        } else {
                            "default"
                        }
                    );
                    out.push((name, extra));
                }
            }
        }
    }
    out
}

#[test]
fn every_policy_variant_validates_against_the_apim_xsd() {
    let Some(shared) = finalize_env::shared() else {
        eprintln!("skipped: ../shared is absent");
        return;
    };
    if !xmllint_available() {
        if std::env::var("OWUI_SKIP_XSD").as_deref() == Ok("1") {
            eprintln!("skipped: xmllint is absent and OWUI_SKIP_XSD=1");
            return;
        }
        panic!(
            "xmllint is not installed (apt-get install libxml2-utils); set OWUI_SKIP_XSD=1 to skip"
        );
    }
    let xsd = shared.join("apim-policy-schemas/policies.xsd");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    let all = variants();
    assert_eq!(all.len(), 36);
    for (name, extra) in all {
        let env = finalize_env::with(&extra);
        let xml = render_policy(&env, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Err(e) = validate(&xsd, &xml, dir.path(), &name) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_schema_check_catches_a_misspelt_policy() {
    // Guards the test above: xmllint really rejects a wrong element name.
    let Some(shared) = finalize_env::shared() else {
        eprintln!("skipped: ../shared is absent");
        return;
    };
    if !xmllint_available() {
        eprintln!("skipped: xmllint is absent");
        return;
    }
    let env = finalize_env::base();
    let xml = render_policy(&env, None)
        .expect("renders")
        .replace("llm-token-limit", "llm-token-limits");
    let dir = tempfile::tempdir().expect("temp dir");
    let xsd = shared.join("apim-policy-schemas/policies.xsd");
    assert!(validate(&xsd, &xml, dir.path(), "typo").is_err());
}

#[test]
fn a_user_policy_file_gets_the_same_checks_and_validates() {
    let Some(shared) = finalize_env::shared() else {
        eprintln!("skipped: ../shared is absent");
        return;
    };
    if !xmllint_available() {
        eprintln!("skipped: xmllint is absent");
        return;
    }
    let custom = r#"<policies>
    <inbound>
        <base />
        <validate-azure-ad-token tenant-id="{{tenant-id}}">
            <audiences><audience>{{openwebui-app-id}}</audience></audiences>
        </validate-azure-ad-token>
        <llm-token-limit tokens-per-minute="@@TOKENS_PER_MINUTE@@" counter-key="@@COUNTER_KEY@@" estimate-prompt-tokens="false" />
        <set-backend-service backend-id="@@BACKEND_ID@@" />
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error><base /></on-error>
</policies>
"#;
    let env = finalize_env::base();
    let xml = render_policy(&env, Some(custom)).expect("custom policy renders");
    assert!(xml.contains("tokens-per-minute=\"10000\""));
    let dir = tempfile::tempdir().expect("temp dir");
    let xsd = shared.join("apim-policy-schemas/policies.xsd");
    validate(&xsd, &xml, dir.path(), "custom").expect("custom policy validates");
}

#[test]
fn the_shipped_environments_render_valid_policies() {
    let Some(shared) = finalize_env::shared() else {
        eprintln!("skipped: ../shared is absent");
        return;
    };
    if !xmllint_available() {
        if std::env::var("OWUI_SKIP_XSD").as_deref() == Ok("1") {
            eprintln!("skipped: xmllint is absent and OWUI_SKIP_XSD=1");
            return;
        }
        panic!(
            "xmllint is not installed (apt-get install libxml2-utils); set OWUI_SKIP_XSD=1 to skip"
        );
    }
    let xsd = shared.join("apim-policy-schemas/policies.xsd");
    let dir = tempfile::tempdir().expect("temp dir");
    let envs = Path::new(env!("CARGO_MANIFEST_DIR")).join("environments");
    let mut checked = 0;
    for name in ["dev", "prod", "sandbox"] {
        let path = envs.join(format!("{name}.toml"));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let env: owui_deploy::config::Environment =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let xml = render_policy(&env, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        validate(&xsd, &xml, dir.path(), name).unwrap_or_else(|e| panic!("{e}"));
        checked += 1;
    }
    assert!(checked > 0, "no environment file under {}", envs.display());
}
