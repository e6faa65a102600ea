//! `Microsoft.Network/networkSecurityGroups`, with rules declared inline (rules
//! kept as data in `templates/network/*.toml`).

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::{Deserialize, Serialize};

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Network/networkSecurityGroups";

/// PUT body of an NSG.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkSecurityGroup {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// Properties.
    pub properties: NsgProperties,
}

/// `properties` of an NSG.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NsgProperties {
    /// Every rule (an empty list removes rules added by hand).
    pub security_rules: Vec<SecurityRule>,
}

/// One security rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityRule {
    /// Rule name.
    pub name: String,
    /// Rule properties.
    pub properties: SecurityRuleProperties,
}

/// `properties` of a security rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityRuleProperties {
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `Tcp`, `Udp`, `*`, ...
    pub protocol: String,
    /// Source port range, e.g. `*`.
    pub source_port_range: String,
    /// Destination port range when there is exactly one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_port_range: Option<String>,
    /// Destination port ranges when there are several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub destination_port_ranges: Vec<String>,
    /// Source prefix or service tag.
    pub source_address_prefix: String,
    /// Destination prefix or service tag.
    pub destination_address_prefix: String,
    /// `Allow` or `Deny`.
    pub access: String,
    /// 100..4096, unique per direction.
    pub priority: u32,
    /// `Inbound` or `Outbound`.
    pub direction: String,
}

/// A rule as written in a `templates/network/*-nsg-rules.toml` file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    name: String,
    #[serde(default)]
    description: Option<String>,
    priority: u32,
    direction: String,
    access: String,
    protocol: String,
    #[serde(default = "any")]
    source_port_range: String,
    source: String,
    destination: String,
    destination_ports: Vec<String>,
}

fn any() -> String {
    "*".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rule: Vec<RuleEntry>,
}

/// Parses an NSG rule file (`[[rule]]` tables) into typed rules. `file` names the
/// file in errors.
pub fn rules_from_toml(text: &str, file: &str) -> Result<Vec<SecurityRule>, StageError> {
    let parsed: RuleFile = toml::from_str(text).map_err(|e| StageError::Template {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let mut names = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for r in parsed.rule {
        if !names.insert(r.name.to_ascii_lowercase()) {
            return Err(StageError::Template {
                file: file.to_string(),
                message: format!("rule name `{}` appears twice", r.name),
            });
        }
        if r.destination_ports.is_empty() {
            return Err(StageError::Template {
                file: file.to_string(),
                message: format!("rule `{}` has no destination_ports", r.name),
            });
        }
        let (single, many) = if r.destination_ports.len() == 1 {
            (Some(r.destination_ports[0].clone()), Vec::new())
        } else {
            (None, r.destination_ports.clone())
        };
        out.push(SecurityRule {
            name: r.name,
            properties: SecurityRuleProperties {
                description: r.description,
                protocol: r.protocol,
                source_port_range: r.source_port_range,
                destination_port_range: single,
                destination_port_ranges: many,
                source_address_prefix: r.source,
                destination_address_prefix: r.destination,
                access: r.access,
                priority: r.priority,
                direction: r.direction,
            },
        });
    }
    Ok(out)
}

/// Comparison rules: rules matched by name, port lists as sets, enums case-insensitive.
pub fn rules() -> DiffRules {
    DiffRules {
        set_arrays: super::paths(&[
            "/properties/securityRules",
            "/properties/securityRules/*/properties/destinationPortRanges",
        ]),
        case_insensitive: super::paths(&[
            "/properties/securityRules/*/properties/protocol",
            "/properties/securityRules/*/properties/access",
            "/properties/securityRules/*/properties/direction",
        ]),
        ..DiffRules::default()
    }
}

/// The spec of an NSG.
pub fn spec(at: Placement, body: &NetworkSecurityGroup) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
