//! Where secrets come from, and the guard that keeps re-runs from rotating them.
//!
//! - PostgreSQL admin password: `OWUI_POSTGRES_ADMIN_PASSWORD`, or generated with
//!   a CSPRNG on first deploy and written only to Key Vault (and the server).
//! - Connection string: assembled by the engine when its Key Vault secret is
//!   written, from the encoded password and the server's live FQDN; never printed.
//! - TLS certificate: `domain.certificate_pfx_path` (a file) or
//!   `OWUI_CERTIFICATE_PFX_BASE64`.
//! - Storage account key: read from Azure (`listKeys`) at apply time, when the
//!   Container Apps environment's SMB storage is written.
//! - `WEBUI_SECRET_KEY`: generated with a CSPRNG in every run but written to Key
//!   Vault only when the secret is missing there (or with `--rotate-secrets`);
//!   the app reads it from Key Vault, so the first stored value is the one used.
//! - Redis access key (with `[redis]`): read from Azure (the database's
//!   `listKeys`) right before the `redis-url` Key Vault secret is written.
//!
//! Values live in [`Secrets`] (redacting `Debug`) and are only substituted into
//! request bodies by the engine.

use crate::config::{self, CertificateSource, LoadedEnvironment};
use crate::engine::{Action, Address, Model, Plan, Secrets, Stage};
use crate::stages::ids as spoke;
use crate::stages::spoke::{
    SECRET_REDIS_KEY_URL_ENCODED, SECRET_STORAGE_KEY, percent_encode, redis_key_action,
    storage_key_action,
};
use anyhow::{Context, Result, bail};
use azure_core::credentials::Secret;
use base64::Engine as _;
use rand::Rng;
use std::collections::BTreeSet;

/// The secrets of one run.
pub struct SecretSet {
    /// Name -> value, for the engine.
    pub secrets: Secrets,
    /// A certificate is available (else certificate-dependent resources are left out).
    pub has_certificate: bool,
    /// The PostgreSQL password was generated in this run (not given).
    pub generated_password: bool,
    /// `--rotate-secrets`: the password is meant to change everywhere.
    pub rotating: bool,
}

/// Gather the secrets the selected stages need.
pub fn gather(loaded: &LoadedEnvironment, stages: &[Stage], rotate: bool) -> Result<SecretSet> {
    let mut secrets = Secrets::new();
    let mut generated_password = false;
    let env = &loaded.env;
    let certificate = read_certificate(loaded)?;
    let has_certificate = certificate.is_some();
    if let Some(pfx) = certificate {
        secrets.insert(spoke::SECRET_CERTIFICATE, Secret::new(pfx));
    }
    if let Some(path) = &env.domain.trusted_root_certificate_path {
        let bytes = loaded
            .read_file(path, crate::files::MAX_TRUSTED_ROOT)
            .context(
                "cannot read the trusted root certificate (domain.trusted_root_certificate_path)",
            )?;
        // PEM, DER or header-less base64: the DER certificate, base64-encoded once.
        let encoded = config::certificate::trusted_root_base64(&bytes).map_err(|why| {
            anyhow::anyhow!(
                "trusted root certificate (domain.trusted_root_certificate_path): {why}"
            )
        })?;
        secrets.insert(spoke::SECRET_TRUSTED_ROOT, Secret::new(encoded));
    }
    if stages.contains(&Stage::Spoke) {
        let password = match std::env::var(config::POSTGRES_PASSWORD_ENV_VAR) {
            Ok(p) if !p.is_empty() => p,
            _ => {
                generated_password = true;
                generate_password(32)
            }
        };
        // The connection string itself is assembled by the engine when its Key Vault
        // secret is written (host = the server's live FQDN), from this encoded form.
        secrets.insert(
            spoke::SECRET_PG_PASSWORD_URL_ENCODED,
            Secret::new(percent_encode(&password)),
        );
        secrets.insert(spoke::SECRET_PG_PASSWORD, Secret::new(password));
        // Fetched by the engine only when a write (the environment's SMB storage) needs it.
        secrets.insert_action(SECRET_STORAGE_KEY, storage_key_action(env)?);
        // Written only when Key Vault lacks it (the value is compared by presence).
        secrets.insert(spoke::SECRET_WEBUI_KEY, Secret::new(generate_password(48)));
        if let Some(action) = redis_key_action(env)? {
            secrets.insert_action_url_encoded(SECRET_REDIS_KEY_URL_ENCODED, action);
        }
    }
    Ok(SecretSet {
        secrets,
        has_certificate,
        generated_password,
        rotating: rotate,
    })
}

fn read_certificate(loaded: &LoadedEnvironment) -> Result<Option<String>> {
    match loaded.certificate_source() {
        CertificateSource::File(_) => {
            let value = loaded
                .env
                .domain
                .certificate_pfx_path
                .as_deref()
                .unwrap_or_default();
            let bytes = loaded
                .read_file(value, crate::files::MAX_CERTIFICATE)
                .context("cannot read the certificate (domain.certificate_pfx_path)")?;
            Ok(Some(
                base64::engine::general_purpose::STANDARD.encode(bytes),
            ))
        }
        CertificateSource::EnvVar => match std::env::var(config::CERTIFICATE_ENV_VAR) {
            Ok(b64) if !b64.trim().is_empty() => {
                let trimmed: String = b64.split_whitespace().collect();
                base64::engine::general_purpose::STANDARD
                    .decode(trimmed.as_bytes())
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "{} is not valid base64 (the value is not shown)",
                            config::CERTIFICATE_ENV_VAR
                        )
                    })?;
                Ok(Some(trimmed))
            }
            _ => Ok(None),
        },
    }
}

/// Resources rewritten by `--rotate-secrets`: the server password, both Key Vault
/// secrets of the database, `WEBUI_SECRET_KEY`'s secret (signs everyone out), and the
/// Redis URL (re-read from the database's current key, e.g. after a key regeneration).
pub fn rotation_targets(model: &Model) -> BTreeSet<Address> {
    model
        .resources
        .iter()
        .filter(|r| {
            let a = r.address.as_str().to_ascii_lowercase();
            a.ends_with(&format!("/secrets/{}", spoke::SECRET_PG_PASSWORD))
                || a.ends_with(&format!("/secrets/{}", spoke::SECRET_PG_CONNECTION))
                || a.ends_with(&format!("/secrets/{}", spoke::SECRET_WEBUI_KEY))
                || a.ends_with(&format!("/secrets/{}", spoke::SECRET_REDIS_URL))
                || r.api.type_name() == Some("Microsoft.DBforPostgreSQL/flexibleServers")
        })
        .map(|r| r.address.clone())
        .collect()
}

/// Whether an earlier run on the generated-password path stopped before the
/// password was in use, so that a new one can be set everywhere: the server is
/// to be created while a password secret already exists (stored by a run that
/// stopped before the server), or the server exists with its password secret
/// but the connection string was never written (the run stopped between the
/// server and the connection string, so no application has the password).
/// Evaluated on the plan before or after the rotation targets were forced.
pub fn interrupted_password(plan: &Plan, set: &SecretSet) -> bool {
    set.generated_password && !set.rotating && password_interrupted_in(plan)
}

/// The plan shapes of [`interrupted_password`], whatever the password's source.
pub fn password_interrupted_in(plan: &Plan) -> bool {
    let action_of = |pred: &dyn Fn(&crate::engine::Change) -> bool| {
        plan.changes.iter().find(|c| pred(c)).map(|c| c.action)
    };
    let secret = |name: &str| {
        let suffix = format!("/secrets/{name}");
        action_of(&|c| c.address.as_str().to_ascii_lowercase().ends_with(&suffix))
    };
    let server = action_of(&|c| c.api.type_name() == Some(POSTGRES_SERVER_TYPE));
    let password = secret(spoke::SECRET_PG_PASSWORD);
    let connection = secret(spoke::SECRET_PG_CONNECTION);
    let exists = |a: Option<Action>| a.is_some_and(|a| a != Action::Create);
    match server {
        Some(Action::Create) => exists(password) || exists(connection),
        Some(Action::Replace) | None => false,
        Some(_) => exists(password) && connection == Some(Action::Create),
    }
}

const POSTGRES_SERVER_TYPE: &str = "Microsoft.DBforPostgreSQL/flexibleServers";

/// Keep a password nobody gave from ever replacing the real one. When the
/// password was generated in this run (not given) and `--rotate-secrets` is not set:
/// - an update of an existing server (tags, SKU, ...) is sent without
///   `administratorLoginPassword`, so the server keeps its password (ARM leaves an
///   omitted password unchanged);
/// - a plan that would write the generated password into Key Vault while the server
///   exists (a partial earlier deployment), or replace the server (a new server with
///   a password Key Vault does not hold), is refused.
///
/// With `--rotate-secrets` the server and both secrets are written together.
pub fn check_plan(plan: &mut Plan, set: &SecretSet) -> Result<()> {
    if !set.generated_password || set.rotating {
        return Ok(());
    }
    let is_server = |c: &crate::engine::Change| {
        c.api.type_name() == Some("Microsoft.DBforPostgreSQL/flexibleServers")
    };
    let server_exists = plan
        .changes
        .iter()
        .any(|c| is_server(c) && !matches!(c.action, Action::Create));
    let server_replaced = plan
        .changes
        .iter()
        .any(|c| is_server(c) && matches!(c.action, Action::Replace));
    let writes_secret = plan.changes.iter().any(|c| {
        let a = c.address.as_str().to_ascii_lowercase();
        (a.ends_with(&format!("/secrets/{}", spoke::SECRET_PG_PASSWORD))
            || a.ends_with(&format!("/secrets/{}", spoke::SECRET_PG_CONNECTION)))
            && matches!(c.action, Action::Create | Action::Update | Action::Replace)
    });
    if server_replaced || (server_exists && writes_secret) {
        bail!(
            "the PostgreSQL server exists but its password secret in Key Vault is missing or changed, \
             or the server would be replaced; set {} to the server's admin password, or re-run with \
             --rotate-secrets to set a new one everywhere",
            config::POSTGRES_PASSWORD_ENV_VAR
        );
    }
    keep_server_password(plan, set);
    Ok(())
}

/// When the password was generated in this run (not given) and not rotating, an
/// update of the existing server is planned without `administratorLoginPassword`
/// (Azure keeps the current one). Applied to every plan, shown or saved, so a
/// plan never carries a password nobody gave into an existing server.
pub fn keep_server_password(plan: &mut Plan, set: &SecretSet) {
    if !set.generated_password || set.rotating {
        return;
    }
    for c in plan.changes.iter_mut() {
        if c.api.type_name() == Some("Microsoft.DBforPostgreSQL/flexibleServers")
            && c.action == Action::Update
            && let Some(props) = c
                .desired
                .as_mut()
                .and_then(|d| d.get_mut("properties"))
                .and_then(serde_json::Value::as_object_mut)
        {
            props.remove("administratorLoginPassword");
        }
    }
}

/// What a saved plan's update may leave out of the model's body: the server
/// password [`keep_server_password`] removes (checked by `apply FILE`).
pub const OMITTED_ON_UPDATE: &[(&str, &str)] = &[(
    "Microsoft.DBforPostgreSQL/flexibleServers",
    "/properties/administratorLoginPassword",
)];

/// A password PostgreSQL accepts: upper, lower, digit and symbol, from the OS CSPRNG.
pub fn generate_password(len: usize) -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"-_.~!*";
    // ThreadRng: ChaCha12 seeded from the OS, a cryptographically secure generator.
    let mut rng = rand::rng();
    let classes = [UPPER, LOWER, DIGIT, SYMBOL];
    let all: Vec<u8> = classes.concat();
    let mut out: Vec<u8> = classes
        .iter()
        .map(|c| c[rng.random_range(0..c.len())])
        .collect();
    while out.len() < len.max(24) {
        out.push(all[rng.random_range(0..all.len())]);
    }
    for i in (1..out.len()).rev() {
        let j = rng.random_range(0..=i);
        out.swap(i, j);
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_have_every_class_and_differ() {
        let a = generate_password(32);
        let b = generate_password(32);
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a.chars().any(|c| c.is_ascii_uppercase()));
        assert!(a.chars().any(|c| c.is_ascii_lowercase()));
        assert!(a.chars().any(|c| c.is_ascii_digit()));
        assert!(a.chars().any(|c| "-_.~!*".contains(c)));
    }

    #[test]
    fn url_encoding_escapes_reserved_characters() {
        assert_eq!(percent_encode("a!b*c"), "a%21b%2Ac");
        assert_eq!(percent_encode("x-y_z.~"), "x-y_z.~");
    }
}

#[cfg(test)]
#[path = "secrets_trusted_root_tests.rs"]
mod trusted_root_tests;
