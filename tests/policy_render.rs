//! Rendering of the API policy template and the checks every policy passes.

mod finalize_env;

use owui_deploy::stages::policy::{
    COUNTER_KEY_IP, COUNTER_KEY_SUBSCRIPTION, PolicyError, PolicySource, canonicalize,
    check_policy, render_policy,
};

fn attr_escaped(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

#[test]
fn default_policy_has_the_gateway_pieces() {
    let env = finalize_env::base();
    let xml = render_policy(&env, None).expect("renders");
    assert!(xml.contains(r#"<validate-azure-ad-token tenant-id="{{tenant-id}}""#));
    assert!(xml.contains("<audience>{{openwebui-app-id}}</audience>"));
    assert!(xml.contains("<value>admin</value>"));
    assert!(xml.contains("<value>user</value>"));
    assert!(xml.contains(r#"tokens-per-minute="10000""#));
    assert!(xml.contains("preferred_username"));
    assert!(xml.contains(r#"<set-backend-service backend-id="foundry-backend" />"#));
    assert!(xml.contains(r#"resource="https://cognitiveservices.azure.com""#));
    for dim in [
        "Client IP address",
        "User ID",
        "Model",
        "Subscription ID",
        "API ID",
    ] {
        assert!(
            xml.contains(&format!(r#"<dimension name="{dim}""#)),
            "{dim}"
        );
    }
    // No quota configured: its attribute lines are left out.
    assert!(!xml.contains("token-quota"));
    assert!(!xml.contains("remaining-quota-tokens-header-name"));
    assert!(!xml.contains("@@"));
}

#[test]
fn quota_counter_key_pool_and_roles_are_rendered_and_escaped() {
    let env = finalize_env::with(
        r#"
[apim.token_limit]
tokens_per_minute = 2500
counter_key = "subscription"
token_quota = 100000
quota_period = "weekly"
allowed_roles = ["R&D", "a\"b"]

[[foundry.pool]]
name = "fdy-owui-swc"
location = "swedencentral"
"#,
    );
    let xml = render_policy(&env, None).expect("renders");
    assert!(xml.contains(r#"token-quota="100000""#));
    assert!(xml.contains(r#"token-quota-period="Weekly""#));
    assert!(xml.contains(r#"remaining-quota-tokens-header-name="remaining-quota-tokens""#));
    assert!(xml.contains(&format!(
        r#"counter-key="{}""#,
        attr_escaped(COUNTER_KEY_SUBSCRIPTION)
    )));
    assert!(xml.contains("<value>R&amp;D</value>"));
    assert!(xml.contains("<value>a&quot;b</value>"));
    assert!(!xml.contains("<value>admin</value>"));
    assert!(xml.contains(r#"backend-id="foundry-pool""#));

    let ip = finalize_env::with("[apim.token_limit]\ncounter_key = \"ip\"\n");
    let xml = render_policy(&ip, None).expect("renders");
    assert!(xml.contains(&format!(
        r#"counter-key="{}""#,
        attr_escaped(COUNTER_KEY_IP)
    )));
}

#[test]
fn invalid_token_limit_settings_are_rejected_with_their_key() {
    let cases = [
        ("tokens_per_minute = 0\n", "tokens_per_minute"),
        ("tokens_per_minute = 3000000000\n", "tokens_per_minute"),
        ("token_quota = 10\n", "quota_period"),
        ("quota_period = \"Daily\"\n", "token_quota"),
        (
            "token_quota = 10\nquota_period = \"Fortnightly\"\n",
            "quota_period",
        ),
        ("allowed_roles = []\n", "allowed_roles"),
    ];
    for (toml, key) in cases {
        let env = finalize_env::with(&format!("[apim.token_limit]\n{toml}"));
        match render_policy(&env, None) {
            Err(PolicyError::Setting { key: k, .. }) => assert_eq!(k, key, "{toml}"),
            other => panic!("{toml}: expected a setting error, got {other:?}"),
        }
    }
}

#[test]
fn a_broken_user_policy_file_is_rejected_with_its_line() {
    let mut env = finalize_env::base();
    env.apim.policy_file = Some("policies/mine.xml".into());
    let broken = "<policies>\n    <inbound>\n        <base />\n        <set-backend-service backend-id=\"x\">\n    </inbound>\n</policies>\n";
    let err = render_policy(&env, Some(broken)).expect_err("mismatched tags");
    match &err {
        PolicyError::Xml {
            source_name, line, ..
        } => {
            assert_eq!(source_name, &PolicySource::File("policies/mine.xml".into()));
            assert_eq!(*line, 5, "{err}");
        }
        other => panic!("expected an XML error, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.starts_with("policies/mine.xml:5:"), "{msg}");

    let unquoted =
        "<policies>\n  <inbound>\n    <rate-limit calls=10 />\n  </inbound>\n</policies>\n";
    match render_policy(&env, Some(unquoted)) {
        Err(PolicyError::Xml { line, .. }) => assert_eq!(line, 3),
        other => panic!("expected an XML error, got {other:?}"),
    }

    let unclosed = "<policies>\n  <inbound>\n    <base />\n";
    assert!(matches!(
        render_policy(&env, Some(unclosed)),
        Err(PolicyError::Xml { .. })
    ));
}

#[test]
fn structure_placeholders_and_named_values_are_checked() {
    let src = PolicySource::File("p.xml".into());
    let wrong_root = "<policy>\n<inbound/>\n</policy>\n";
    assert!(matches!(
        check_policy(wrong_root, &src),
        Err(PolicyError::Structure { line: 1, .. })
    ));
    let env = finalize_env::base();
    let unknown = "<policies>\n<inbound>\n<set-backend-service backend-id=\"@@NOPE@@\" />\n</inbound>\n</policies>\n";
    assert!(matches!(
        render_policy(&env, Some(unknown)),
        Err(PolicyError::UnknownPlaceholder { line: 3, ref name, .. }) if name == "NOPE"
    ));
    let nv = "<policies>\n<inbound>\n<set-header name=\"x\"><value>{{secret-thing}}</value></set-header>\n</inbound>\n</policies>\n";
    assert!(matches!(
        check_policy(nv, &src),
        Err(PolicyError::UnknownNamedValue { line: 3, ref name, .. }) if name == "secret-thing"
    ));
    let entity = "<policies>\n<inbound>\n<value>&nbsp;</value>\n</inbound>\n</policies>\n";
    assert!(matches!(
        check_policy(entity, &src),
        Err(PolicyError::Xml { line: 3, .. })
    ));
}

#[test]
fn canonical_form_ignores_formatting_but_not_content() {
    let a = "<policies>\n  <inbound>\n    <base />\n    <x a=\"1\" b='&quot;q&quot;'/>\n  </inbound>\n</policies>";
    let b = "<policies><!-- c --><inbound><base></base><x b=\"&#34;q&#34;\" a=\"1\"></x></inbound></policies>";
    let c = "<policies><inbound><base/><x a=\"2\" b='\"q\"'/></inbound></policies>";
    assert_eq!(canonicalize(a).unwrap(), canonicalize(b).unwrap());
    assert_ne!(canonicalize(a).unwrap(), canonicalize(c).unwrap());
}

#[test]
fn document_level_structure_errors_name_their_line() {
    let src = PolicySource::File("p.xml".into());
    let text_outside = "<policies>\n<inbound/>\n</policies>\nstray\n";
    assert!(matches!(
        check_policy(text_outside, &src),
        Err(PolicyError::Structure { line: 3, ref message, .. }) if message.contains("text outside")
    ));
    let two_roots = "<policies>\n<inbound/>\n</policies>\n<policies/>\n";
    assert!(matches!(
        check_policy(two_roots, &src),
        Err(PolicyError::Structure { line: 4, ref message, .. }) if message.contains("exactly one root")
    ));
    let no_root = "<!-- nothing -->\n";
    assert!(matches!(
        check_policy(no_root, &src),
        Err(PolicyError::Structure { line: 1, ref message, .. }) if message.contains("no <policies>")
    ));
    let unclosed = "<policies>\n  <inbound>\n    <base />\n";
    assert!(matches!(
        check_policy(unclosed, &src),
        Err(PolicyError::Xml { line: 4, ref message, .. }) if message.contains("not closed")
    ));
    let empty_root = "<policies/>\n";
    assert!(check_policy(empty_root, &src).is_ok());
}
