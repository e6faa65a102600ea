//! Whether the custom domain's TLS certificate is already in the spoke Key Vault.
//!
//! The certificate is given once (`domain.certificate_pfx_path` or
//! `OWUI_CERTIFICATE_PFX_BASE64`) and uploaded to Key Vault; later runs without it
//! keep the resources that use it (the environment certificate, the app's custom
//! domain, the App Gateway's HTTPS listener) instead of planning to remove them.
//! The write-only certificate value is then compared by presence only.

use super::session::Session;
use crate::engine::{Address, Api, Backend};
use crate::stages::Ids;
use crate::stages::ids::SECRET_CERTIFICATE;
use anyhow::{Context, Result};

const SECRET_TYPE: &str = "Microsoft.KeyVault/vaults/secrets";

/// Whether the certificate secret exists in the spoke Key Vault (read from Azure).
pub(super) async fn in_key_vault(session: &Session) -> Result<bool> {
    let address = Ids::new(&session.loaded.env).spoke_secret(SECRET_CERTIFICATE);
    let api_version = crate::azure::api_versions::api_version(SECRET_TYPE)
        .with_context(|| format!("no pinned API version for {SECRET_TYPE}"))?;
    let api = Api::Arm {
        type_name: SECRET_TYPE.into(),
        api_version: api_version.into(),
    };
    let backend: &dyn Backend = session.backend.as_ref();
    match backend.read(&Address::from(address.as_str()), &api).await {
        Ok(found) => Ok(found.is_some()),
        // No vault (yet): no certificate either.
        Err(e) if e.status() == Some(404) => Ok(false),
        Err(e) => Err(anyhow::Error::new(e)
            .context(format!("cannot check for the TLS certificate {address}"))),
    }
}
