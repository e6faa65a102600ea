//! `Microsoft.App/managedEnvironments` (consumption-only, internal, VNet-injected).

use super::{ManagedIdentity, Placement, Tags, arm_spec};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.App/managedEnvironments";

/// PUT body of a managed environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ManagedEnvironment {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// User-assigned identity (reads the certificate from Key Vault).
    pub identity: ManagedIdentity,
    /// Properties.
    pub properties: EnvironmentProperties,
}

/// `properties` of an environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentProperties {
    /// VNet injection.
    pub vnet_configuration: VnetConfiguration,
    /// `Disabled`.
    pub public_network_access: String,
    /// Application Insights connection string for the environment's telemetry
    /// (GA API versions expose it under this name; ARM does not return it).
    #[serde(rename = "daprAIConnectionString")]
    pub dapr_ai_connection_string: Input<String>,
    /// Zone redundancy (fixed at creation).
    pub zone_redundant: bool,
}

/// `properties.vnetConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VnetConfiguration {
    /// Internal: only a private IP in the VNet, no public endpoint.
    pub internal: bool,
    /// Subnet (/23 for consumption-only, not delegated).
    pub infrastructure_subnet_id: String,
}

/// Comparison rules: VNet settings and zone redundancy are fixed at creation;
/// the connection string is write-only.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&[
            "/identity/type",
            "/properties/publicNetworkAccess",
            "/properties/vnetConfiguration/infrastructureSubnetId",
        ]),
        // ARM never answers these (ManagedEnvironments_CreateOrUpdate.json sends them,
        // neither answer carries them).
        write_only: super::paths(&[
            "/properties/daprAIConnectionString",
            "/properties/appLogsConfiguration/logAnalyticsConfiguration/sharedKey",
            "/properties/customDomainConfiguration/certificateValue",
            "/properties/customDomainConfiguration/certificatePassword",
        ]),
        immutable: super::paths(&[
            "/properties/vnetConfiguration/internal",
            "/properties/vnetConfiguration/infrastructureSubnetId",
            "/properties/zoneRedundant",
        ]),
        ..DiffRules::default()
    }
}

/// The spec of an environment. Others read `/properties/defaultDomain` and
/// `/properties/staticIp` from it.
pub fn spec(at: Placement, body: &ManagedEnvironment) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
