//! The trusted root certificate reaches Key Vault once-encoded, whatever form the
//! file has (issue 11 §5): PEM, DER, or header-less base64 text.

use super::*;
use base64::engine::general_purpose::STANDARD;

/// A DER `SEQUENCE` shaped like a certificate (long-form length).
fn der() -> Vec<u8> {
    let mut d = vec![0x30, 0x82, 0x01, 0x00];
    d.extend((0..256).map(|i| (i * 7 % 256) as u8));
    d
}

/// The sandbox environment with `trusted_root_certificate_path = "root.cer"` and that
/// file holding `content`, loaded from a temporary directory.
fn loaded_with_root(content: &[u8]) -> (tempfile::TempDir, LoadedEnvironment) {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("environments/sandbox.toml"),
    )
    .expect("sandbox.toml")
    .replacen(
        "[domain]\n",
        "[domain]\ntrusted_root_certificate_path = \"root.cer\"\n",
        1,
    );
    std::fs::write(dir.path().join("env.toml"), text).expect("write env");
    std::fs::write(dir.path().join("root.cer"), content).expect("write root");
    let loaded = config::load(&dir.path().join("env.toml"))
        .unwrap_or_else(|e| panic!("environment invalid: {:?}", e.problems));
    (dir, loaded)
}

fn stored(content: &[u8]) -> String {
    let (_dir, loaded) = loaded_with_root(content);
    let set = gather(&loaded, &[Stage::Hub], false).expect("gather");
    set.secrets
        .get(spoke::SECRET_TRUSTED_ROOT)
        .expect("trusted root secret")
        .secret()
        .to_string()
}

#[test]
fn pem_der_and_headerless_base64_are_each_sent_once_encoded() {
    let want = STANDARD.encode(der());
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n{}\n-----END CERTIFICATE-----\n",
        &want[..64],
        &want[64..]
    );
    assert_eq!(stored(&der()), want, "DER");
    assert_eq!(stored(pem.as_bytes()), want, "PEM");
    assert_eq!(stored(format!("{want}\n").as_bytes()), want, "base64 text");
}

#[test]
fn a_file_that_is_no_certificate_is_refused_before_anything_is_sent() {
    let (dir, loaded) = loaded_with_root(&der());
    std::fs::write(dir.path().join("root.cer"), b"not a certificate").expect("write");
    // Loading (validate, and every command) refuses it, naming the key and the reason.
    let Err(refused) = config::load(&loaded.path) else {
        panic!("a file that is no certificate was accepted");
    };
    let problems = refused.problems;
    assert!(
        problems.iter().any(|p| p.code == "invalid-certificate"
            && p.key == "domain.trusted_root_certificate_path"
            && p.message.contains("not a certificate")),
        "{problems:?}"
    );
    // Gathering the secrets refuses it too (a file changed after loading).
    let Err(err) = gather(&loaded, &[Stage::Hub], false) else {
        panic!("gather accepted a file that is no certificate");
    };
    let err = err.to_string();
    assert!(err.contains("not a certificate"), "{err}");
}
