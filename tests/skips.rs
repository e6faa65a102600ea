//! Tests that need the shared test data (`../shared`) or `xmllint` skip
//! themselves when it is absent, and libtest hides what a passing test prints.
//! This test says in `cargo test`'s normal output which of them did not run
//! (it writes to the process's standard error directly, which libtest does not
//! capture), and fails under CI (`CI` set, as GitHub Actions, Azure Pipelines
//! and `.ci/run` do), where everything must be present.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

/// What the skipping tests need, and which tests skip without it.
const NEEDED: &[(&str, &str)] = &[
    (
        "arm-schemas",
        "arm_schemas, finalize_schemas, cli_finalize, cli_spoke (ARM JSON Schema checks)",
    ),
    (
        "apim-policy-schemas/policies.xsd",
        "policy_xsd (APIM policy XSD)",
    ),
    (
        "fixtures/arm-examples",
        "x-ms-example checks of the sandbox",
    ),
    (
        "fixtures/openai-v1.openapi.large.json",
        "sandbox_conformance (large OpenAPI import), finalize_openapi",
    ),
];

/// Where the tests look: `../shared` next to the crate (most of them), and
/// `$OWUI_SHARED_DIR` when set (the ARM schema harness).
fn shared_roots() -> Vec<PathBuf> {
    let mut roots = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared")];
    roots.extend(std::env::var_os("OWUI_SHARED_DIR").map(PathBuf::from));
    roots
}

fn xmllint_available() -> bool {
    Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// One line per missing piece, naming the tests that skip because of it.
fn missing() -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for root in shared_roots() {
        out.extend(
            NEEDED
                .iter()
                .filter(|(path, _)| !root.join(path).exists())
                .map(|(path, tests)| {
                    format!("{} is absent: {tests} skip", root.join(path).display())
                }),
        );
    }
    if !xmllint_available() {
        out.push(
            "xmllint is absent (apt-get install libxml2-utils): policy_xsd skips with OWUI_SKIP_XSD=1, else fails"
                .into(),
        );
    }
    out
}

/// Whether this run is a CI run (`CI` set to anything but `false` or `0`).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

#[test]
fn test_data_and_tools_are_present_or_the_skips_are_reported() {
    let missing = missing();
    if missing.is_empty() {
        return;
    }
    let mut text = String::from("\nSKIPPED TESTS (shared test data or tools absent):\n");
    for line in &missing {
        text.push_str(&format!("  - {line}\n"));
    }
    // Not eprintln!: libtest captures that for passing tests.
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
    assert!(
        !in_ci(),
        "CI must run every test, but some skip:{text}(set OWUI_SHARED_DIR or put the shared data at ../shared; install xmllint)"
    );
}
