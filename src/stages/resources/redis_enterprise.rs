//! `Microsoft.Cache/redisEnterprise`: the Azure Managed Redis cluster.

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Cache/redisEnterprise";

/// PUT body of a cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cluster {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// SKU.
    pub sku: ClusterSku,
    /// Properties.
    pub properties: ClusterProperties,
}

/// `sku` of a cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterSku {
    /// e.g. `Balanced_B1`.
    pub name: String,
}

/// `properties` of a cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterProperties {
    /// `1.2`.
    pub minimum_tls_version: String,
    /// `Disabled`: reached through its private endpoint only.
    pub public_network_access: String,
    /// `Enabled` or `Disabled`.
    pub high_availability: String,
}

/// Comparison rules: enums case-insensitive.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&[
            "/sku/name",
            "/properties/publicNetworkAccess",
            "/properties/highAvailability",
        ]),
        ..DiffRules::default()
    }
}

/// The spec of a cluster. Others read `/properties/hostName`.
pub fn spec(at: Placement, body: &Cluster) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
