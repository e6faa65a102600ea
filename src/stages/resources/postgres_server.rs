//! `Microsoft.DBforPostgreSQL/flexibleServers`.

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.DBforPostgreSQL/flexibleServers";

/// PUT body of a Flexible Server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlexibleServer {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// Compute SKU.
    pub sku: ServerSku,
    /// Properties.
    pub properties: ServerProperties,
}

/// `sku` of the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerSku {
    /// e.g. `Standard_B1ms`.
    pub name: String,
    /// `Burstable`, `GeneralPurpose`, `MemoryOptimized`.
    pub tier: String,
}

/// `properties` of the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerProperties {
    /// Major version, e.g. `16`.
    pub version: String,
    /// Admin login.
    pub administrator_login: String,
    /// Admin password (always an [`Input::Secret`]).
    pub administrator_login_password: Input<String>,
    /// Storage.
    pub storage: ServerStorage,
    /// Authentication methods.
    pub auth_config: AuthConfig,
    /// Network.
    pub network: ServerNetwork,
}

/// `properties.storage`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerStorage {
    /// Size in GB.
    #[serde(rename = "storageSizeGB")]
    pub storage_size_gb: u32,
}

/// `properties.authConfig`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthConfig {
    /// Entra authentication.
    pub active_directory_auth: String,
    /// Password authentication.
    pub password_auth: String,
}

/// `properties.network`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerNetwork {
    /// `Disabled`: reachable only through its private endpoint.
    pub public_network_access: String,
}

/// Comparison rules: the password is write-only; the admin login is fixed at
/// creation; enums are case-insensitive. (The major version can be upgraded in
/// place, so it is not immutable.)
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&[
            "/sku/name",
            "/sku/tier",
            "/properties/authConfig/activeDirectoryAuth",
            "/properties/authConfig/passwordAuth",
            "/properties/network/publicNetworkAccess",
        ]),
        write_only: super::paths(&["/properties/administratorLoginPassword"]),
        immutable: super::paths(&["/properties/administratorLogin"]),
        // How the server is created: ARM does not answer it (ServerCreate.json).
        ignore: super::paths(&["/properties/createMode"]),
        ..DiffRules::default()
    }
}

/// The spec of the server. Others read `/properties/fullyQualifiedDomainName`.
pub fn spec(at: Placement, body: &FlexibleServer) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
