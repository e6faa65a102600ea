//! `Microsoft.App/containerApps`.

use super::{ManagedIdentity, Placement, Tags, arm_spec};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.App/containerApps";

/// PUT body of a container app.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerApp {
    /// Region (the environment's).
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// System-assigned identity plus the environment's user-assigned identity
    /// (the one that reads Key Vault secrets: it holds its role before the app exists).
    pub identity: ManagedIdentity,
    /// Properties.
    pub properties: ContainerAppProperties,
}

/// `properties` of a container app.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerAppProperties {
    /// The managed environment.
    pub managed_environment_id: String,
    /// Revision-independent configuration.
    pub configuration: Configuration,
    /// Revision template.
    pub template: Template,
}

/// `properties.configuration`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Configuration {
    /// `Single`.
    pub active_revisions_mode: String,
    /// Ingress.
    pub ingress: Ingress,
    /// Secrets (Key Vault references).
    pub secrets: Vec<AppSecret>,
}

/// `configuration.ingress`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ingress {
    /// In an internal environment `true` means reachable from the VNet.
    pub external: bool,
    /// Container port.
    pub target_port: u16,
    /// `auto`.
    pub transport: String,
    /// Plain HTTP refused.
    pub allow_insecure: bool,
    /// Session affinity.
    pub sticky_sessions: StickySessions,
    /// IP allow-list.
    pub ip_security_restrictions: Vec<IpSecurityRestriction>,
    /// Custom domains.
    pub custom_domains: Vec<CustomDomain>,
}

/// `ingress.stickySessions`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StickySessions {
    /// `sticky`.
    pub affinity: String,
}

/// One IP restriction.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpSecurityRestriction {
    /// Rule name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// CIDR.
    pub ip_address_range: String,
    /// `Allow`.
    pub action: String,
}

/// One custom domain binding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomDomain {
    /// Host name.
    pub name: String,
    /// `SniEnabled`.
    pub binding_type: String,
    /// Environment certificate ID.
    pub certificate_id: String,
}

/// One secret, read from Key Vault.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSecret {
    /// Secret name (referenced by `secretRef`).
    pub name: String,
    /// Key Vault secret URI.
    pub key_vault_url: Input<String>,
    /// `system` or a user-assigned identity ID.
    pub identity: String,
}

/// `properties.template`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    /// Containers.
    pub containers: Vec<Container>,
    /// Scale.
    pub scale: Scale,
    /// Volumes.
    pub volumes: Vec<Volume>,
}

/// One container.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Image.
    pub image: String,
    /// CPU and memory.
    pub resources: ContainerResources,
    /// Environment variables.
    pub env: Vec<EnvVar>,
    /// Volume mounts.
    pub volume_mounts: Vec<VolumeMount>,
    /// Health probes (startup, liveness, readiness).
    pub probes: Vec<Probe>,
}

/// One health probe of a container.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Probe {
    /// `Startup`, `Liveness` or `Readiness`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP GET the probe sends.
    pub http_get: ProbeHttpGet,
    /// Seconds after the container started before the first probe (1-60).
    pub initial_delay_seconds: u32,
    /// Seconds between probes (1-240).
    pub period_seconds: u32,
    /// Seconds before one probe times out (1-240).
    pub timeout_seconds: u32,
    /// Consecutive failures that fail the probe (1-10).
    pub failure_threshold: u32,
}

/// `probe.httpGet`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeHttpGet {
    /// Path, e.g. `/health`.
    pub path: String,
    /// Container port.
    pub port: u16,
    /// `HTTP`.
    pub scheme: String,
}

/// `container.resources`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerResources {
    /// vCPU.
    pub cpu: f64,
    /// e.g. `1Gi`.
    pub memory: String,
}

/// One environment variable: a value or a secret reference.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    /// Variable name.
    pub name: String,
    /// Plain value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Input<String>>,
    /// Name of a secret in `configuration.secrets`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<String>,
}

impl EnvVar {
    /// A variable with a plain value.
    pub fn value(name: &str, value: impl Into<String>) -> Self {
        EnvVar {
            name: name.into(),
            value: Some(Input::Known(value.into())),
            secret_ref: None,
        }
    }

    /// A variable whose value is known after apply.
    pub fn input(name: &str, value: Input<String>) -> Self {
        EnvVar {
            name: name.into(),
            value: Some(value),
            secret_ref: None,
        }
    }

    /// A variable taken from a secret of the app.
    pub fn secret(name: &str, secret: &str) -> Self {
        EnvVar {
            name: name.into(),
            value: None,
            secret_ref: Some(secret.into()),
        }
    }
}

/// One volume mount.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    /// Volume name.
    pub volume_name: String,
    /// Mount path.
    pub mount_path: String,
}

/// `template.scale`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scale {
    /// Minimum replicas.
    pub min_replicas: u32,
    /// Maximum replicas.
    pub max_replicas: u32,
}

/// One volume.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    /// Volume name.
    pub name: String,
    /// `AzureFile`.
    pub storage_type: String,
    /// Name of the environment storage.
    pub storage_name: String,
    /// SMB mount options.
    pub mount_options: String,
}

/// Comparison rules: named lists are sets; enums case-insensitive; the
/// environment cannot change.
pub fn rules() -> DiffRules {
    DiffRules {
        set_arrays: super::paths(&[
            "/properties/configuration/secrets",
            "/properties/configuration/ingress/ipSecurityRestrictions",
            "/properties/configuration/ingress/customDomains",
            "/properties/template/containers",
            "/properties/template/containers/*/env",
            "/properties/template/containers/*/volumeMounts",
            "/properties/template/volumes",
        ]),
        case_insensitive: super::paths(&[
            "/identity/type",
            "/properties/managedEnvironmentId",
            "/properties/configuration/activeRevisionsMode",
            "/properties/configuration/ingress/transport",
            "/properties/configuration/ingress/stickySessions/affinity",
            "/properties/configuration/ingress/ipSecurityRestrictions/*/action",
            "/properties/configuration/ingress/customDomains/*/bindingType",
            "/properties/configuration/ingress/customDomains/*/certificateId",
            "/properties/template/volumes/*/storageType",
            "/properties/template/containers/*/probes/*/type",
            "/properties/template/containers/*/probes/*/httpGet/scheme",
        ]),
        immutable: super::paths(&["/properties/managedEnvironmentId"]),
        ..DiffRules::default()
    }
}

/// The spec of a container app. Others read
/// `/properties/configuration/ingress/fqdn` and `/identity/principalId`.
pub fn spec(at: Placement, body: &ContainerApp) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
