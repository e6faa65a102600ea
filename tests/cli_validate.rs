//! `owui-deploy validate`: human and JSON output, exit codes, no network.

use std::process::Command;

fn validate(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_owui-deploy"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        // Would point every cloud call at a closed port: validate must not call anything.
        .env("OWUI_SANDBOX_URL", "https://127.0.0.1:9")
        .env_remove("OWUI_ENV")
        .args(args)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn shipped_environments_validate() {
    for env in ["dev", "prod", "sandbox"] {
        let path = format!("environments/{env}.toml");
        let (code, stdout, stderr) = validate(&["validate", "--env", &path]);
        assert_eq!(code, 0, "{path}: {stdout}{stderr}");
        assert!(stdout.contains("is valid"), "{stdout}");
        let (code, stdout, _) = validate(&["validate", "--output", "json", "--env", &path]);
        assert_eq!(code, 0);
        let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(doc["valid"], true);
        assert_eq!(doc["environment"], env);
    }
}

#[test]
fn every_problem_is_listed_with_its_position_and_exit_code_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("environments/sandbox.toml"),
    )
    .expect("read")
    .replace(
        "address_space = \"10.0.0.0/24\"",
        "adress_space = \"10.0.0.0/24\"",
    )
    .replace(
        "publisher_email = \"platform@contoso.com\"",
        "publisher_email = \"not-an-email\"",
    );
    let file = dir.path().join("broken.toml");
    std::fs::write(&file, text).expect("write");
    let file = file.to_string_lossy().into_owned();
    let (code, stdout, stderr) = validate(&["validate", "--env", &file]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("adress_space"), "{stderr}");
    assert!(stderr.contains("broken.toml:"), "{stderr}");
    let (code, stdout, _) = validate(&["validate", "--output", "json", "--env", &file]);
    assert_eq!(code, 1);
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(doc["valid"], false);
    assert!(!doc["problems"].as_array().expect("problems").is_empty());
}

#[test]
fn missing_environment_is_an_error_and_unknown_commands_are_usage_errors() {
    let (code, _, stderr) = validate(&["validate"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("--env"), "{stderr}");
    let (code, _, _) = validate(&["no-such-command"]);
    assert_eq!(code, 2);
}
