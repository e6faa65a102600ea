//! `Microsoft.App/managedEnvironments/certificates`, loaded from Key Vault.

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.App/managedEnvironments/certificates";

/// PUT body of an environment certificate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvironmentCertificate {
    /// Region (the environment's).
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// Properties.
    pub properties: CertificateProperties,
}

/// `properties` of a certificate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateProperties {
    /// Where the certificate comes from.
    pub certificate_key_vault_properties: CertificateKeyVaultProperties,
}

/// `properties.certificateKeyVaultProperties`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateKeyVaultProperties {
    /// ID of the user-assigned identity (of the environment) that reads the secret.
    pub identity: String,
    /// Versionless secret URI (a reference to the secret's `/properties/secretUri`).
    pub key_vault_url: Input<String>,
}

/// Comparison rules: the identity ID is case-insensitive.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&["/properties/certificateKeyVaultProperties/identity"]),
        ..DiffRules::default()
    }
}

/// The spec of an environment certificate (tracked: taggable).
pub fn spec(at: Placement, body: &EnvironmentCertificate) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
