//! The sandbox's certificate authority and server certificate (rcgen).
//!
//! A CA is generated at start (or loaded from next to the state file, so a restarted
//! sandbox keeps the same CA), and signs a server certificate for `127.0.0.1` and
//! `localhost`. Clients trust the CA's PEM ([`super::Sandbox::ca_pem`]).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use super::SandboxError;

/// PEM material the HTTPS listener needs.
pub(crate) struct TlsMaterial {
    /// The CA certificate (PEM), what clients trust.
    pub ca_pem: String,
    /// The server certificate chain (PEM).
    pub cert_pem: String,
    /// The server private key (PEM).
    pub key_pem: String,
}

fn tls_err(e: impl std::fmt::Display) -> SandboxError {
    SandboxError::Tls(e.to_string())
}

/// Where the CA is kept for a given state file: `<state>.ca.pem` and `<state>.ca-key.pem`.
fn ca_paths(state_file: &Path) -> (PathBuf, PathBuf) {
    let mut cert = state_file.as_os_str().to_owned();
    cert.push(".ca.pem");
    let mut key = state_file.as_os_str().to_owned();
    key.push(".ca-key.pem");
    (PathBuf::from(cert), PathBuf::from(key))
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "owui-deploy sandbox CA");
    dn.push(DnType::OrganizationName, "owui-deploy sandbox");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
    params
}

/// Load the CA kept next to `state_file`, or generate one (and keep it there when a
/// state file is configured); then sign a fresh server certificate with it.
pub(crate) fn material(state_file: Option<&Path>) -> Result<TlsMaterial, SandboxError> {
    let stored = state_file.map(ca_paths);
    let loaded = match &stored {
        Some((cert, key)) if cert.exists() && key.exists() => {
            let ca_pem = crate::files::read_capped_to_string(cert, crate::files::MAX_CA_FILE)
                .map_err(|e| SandboxError::Io {
                    path: cert.clone(),
                    source: e,
                })?;
            let key_pem = crate::files::read_capped_to_string(key, crate::files::MAX_CA_FILE)
                .map_err(|e| SandboxError::Io {
                    path: key.clone(),
                    source: e,
                })?;
            Some((ca_pem, key_pem))
        }
        _ => None,
    };
    let (ca_pem, ca_key_pem) = match loaded {
        Some(v) => v,
        None => {
            let key = KeyPair::generate().map_err(tls_err)?;
            let cert = ca_params().self_signed(&key).map_err(tls_err)?;
            let pair = (cert.pem(), key.serialize_pem());
            if let Some((cert_path, key_path)) = &stored {
                super::state::write_private(cert_path, pair.0.as_bytes())?;
                super::state::write_private(key_path, pair.1.as_bytes())?;
            }
            pair
        }
    };
    let ca_key = KeyPair::from_pem(&ca_key_pem).map_err(tls_err)?;
    // Same parameters and key as the stored CA, so issuer name and key identifier match.
    let issuer = Issuer::new(ca_params(), ca_key);

    let server_key = KeyPair::generate().map_err(tls_err)?;
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .map_err(tls_err)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "owui-deploy sandbox");
    params.distinguished_name = dn;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2049, 12, 31);
    let server_cert = params.signed_by(&server_key, &issuer).map_err(tls_err)?;
    Ok(TlsMaterial {
        cert_pem: format!("{}{}", server_cert.pem(), ca_pem),
        ca_pem,
        key_pem: server_key.serialize_pem(),
    })
}
