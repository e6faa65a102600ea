//! `Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies`: the WAF
//! policy a `WAF_v2` Application Gateway needs (ARM refuses a `WAF_v2` gateway
//! without one: `ApplicationGatewayFirewallNotConfiguredForSelectedSku`).
//!
//! Microsoft's default managed rule set (`Microsoft_DefaultRuleSet` 2.1), Prevention
//! mode unless the environment asks for Detection, and request size limits that let
//! Open WebUI's chat requests and file uploads through (see the constants).

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies";

/// Managed rule set type: Microsoft's Default Rule Set (DRS).
pub const RULE_SET_TYPE: &str = "Microsoft_DefaultRuleSet";
/// Managed rule set version.
pub const RULE_SET_VERSION: &str = "2.1";
/// Largest request body (file uploads excluded) in KB: 2 MB, the most a policy with
/// DRS 2.1 (CRS 3.2 or later) allows; long chat histories fit (the default, 128 KB,
/// blocks them).
pub const MAX_REQUEST_BODY_KB: u32 = 2000;
/// How much of a request body the rules inspect, in KB (the whole allowed body).
pub const REQUEST_BODY_INSPECT_LIMIT_KB: u32 = 2000;
/// Largest file upload (`multipart/form-data`) in MB: documents and images uploaded
/// to Open WebUI's knowledge and chats.
pub const FILE_UPLOAD_LIMIT_MB: u32 = 100;

/// PUT body of a WAF policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WafPolicy {
    /// Region (the gateway's).
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// Properties.
    pub properties: WafPolicyProperties,
}

/// `properties` of a WAF policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WafPolicyProperties {
    /// Global settings.
    pub policy_settings: PolicySettings,
    /// Managed rules.
    pub managed_rules: ManagedRules,
}

/// `policySettings`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicySettings {
    /// `Enabled`.
    pub state: String,
    /// `Prevention` (blocks) or `Detection` (logs only).
    pub mode: String,
    /// Inspect request bodies.
    pub request_body_check: bool,
    /// Refuse bodies above [`MAX_REQUEST_BODY_KB`].
    pub request_body_enforcement: bool,
    /// Body size limit (KB).
    pub max_request_body_size_in_kb: u32,
    /// Inspected part of a body (KB).
    #[serde(rename = "requestBodyInspectLimitInKB")]
    pub request_body_inspect_limit_in_kb: u32,
    /// Refuse uploads above [`FILE_UPLOAD_LIMIT_MB`].
    pub file_upload_enforcement: bool,
    /// Upload size limit (MB).
    pub file_upload_limit_in_mb: u32,
}

/// `managedRules`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedRules {
    /// Rule sets.
    pub managed_rule_sets: Vec<ManagedRuleSet>,
}

/// One managed rule set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedRuleSet {
    /// Rule set type.
    pub rule_set_type: String,
    /// Rule set version.
    pub rule_set_version: String,
}

impl WafPolicy {
    /// The policy in `location` with `mode` (`Prevention` or `Detection`), DRS 2.1
    /// and the size limits above.
    pub fn default_rules(location: &str, tags: Tags, mode: &str) -> Self {
        WafPolicy {
            location: location.to_string(),
            tags,
            properties: WafPolicyProperties {
                policy_settings: PolicySettings {
                    state: "Enabled".into(),
                    mode: mode.to_string(),
                    request_body_check: true,
                    request_body_enforcement: true,
                    max_request_body_size_in_kb: MAX_REQUEST_BODY_KB,
                    request_body_inspect_limit_in_kb: REQUEST_BODY_INSPECT_LIMIT_KB,
                    file_upload_enforcement: true,
                    file_upload_limit_in_mb: FILE_UPLOAD_LIMIT_MB,
                },
                managed_rules: ManagedRules {
                    managed_rule_sets: vec![ManagedRuleSet {
                        rule_set_type: RULE_SET_TYPE.into(),
                        rule_set_version: RULE_SET_VERSION.into(),
                    }],
                },
            },
        }
    }
}

/// Comparison rules: rule sets are a set; enums and the region are case-insensitive.
pub fn rules() -> DiffRules {
    DiffRules {
        set_arrays: super::paths(&["/properties/managedRules/managedRuleSets"]),
        case_insensitive: super::paths(&[
            "/location",
            "/properties/policySettings/state",
            "/properties/policySettings/mode",
            "/properties/managedRules/managedRuleSets/*/ruleSetType",
        ]),
        ..DiffRules::default()
    }
}

/// The spec of a WAF policy (taggable).
pub fn spec(at: Placement, body: &WafPolicy) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
