//! `Microsoft.Cache/redisEnterprise/databases`: the one database (`default`) of an
//! Azure Managed Redis cluster.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Cache/redisEnterprise/databases";

/// PUT body of a database.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Database {
    /// Properties.
    pub properties: DatabaseProperties,
}

/// `properties` of a database.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatabaseProperties {
    /// `Encrypted`: TLS only.
    pub client_protocol: String,
    /// `EnterpriseCluster`: one endpoint, so clients need no cluster support.
    pub clustering_policy: String,
    /// e.g. `VolatileLRU`.
    pub eviction_policy: String,
    /// TCP port of the endpoint (10000 on Azure Managed Redis).
    pub port: u16,
    /// `Enabled`: clients authenticate with the access key (listKeys).
    pub access_keys_authentication: String,
}

/// Comparison rules: enums case-insensitive; clustering policy and port are fixed
/// at creation.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&[
            "/properties/clientProtocol",
            "/properties/clusteringPolicy",
            "/properties/evictionPolicy",
            "/properties/accessKeysAuthentication",
        ]),
        immutable: super::paths(&["/properties/clusteringPolicy", "/properties/port"]),
        ..DiffRules::default()
    }
}

/// The spec of a database (child resource: not taggable).
pub fn spec(at: Placement, body: &Database) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
