//! `Microsoft.ApiManagement/service/apis/diagnostics`: the API's Application
//! Insights diagnostic with metrics and large-language-model request/response logs
//! (`largeLanguageModel` needs API version 2024-06-01-preview or later).

use super::apim_common::{BuildError, arm_spec, ptrs};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::Ids;
use serde::Serialize;

/// Resource type.
pub const TYPE: &str = "Microsoft.ApiManagement/service/apis/diagnostics";

/// Largest LLM message APIM logs (256 KiB, the schema's maximum).
pub const LLM_MAX_MESSAGE_BYTES: u32 = 262_144;

/// Request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiagnosticBody {
    /// Properties.
    pub properties: DiagnosticProperties,
}

/// `properties` of a diagnostic.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticProperties {
    /// ARM ID of the logger.
    pub logger_id: String,
    /// `allErrors`: errors are logged regardless of sampling.
    pub always_log: String,
    /// Fixed-rate sampling.
    pub sampling: Sampling,
    /// Emit custom metrics (`llm-emit-token-metric`).
    pub metrics: bool,
    /// `W3C` correlation.
    pub http_correlation_protocol: String,
    /// `information`.
    pub verbosity: String,
    /// Log the client IP.
    pub log_client_ip: bool,
    /// LLM logs.
    pub large_language_model: LlmSettings,
}

/// Sampling settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sampling {
    /// `fixed`.
    pub sampling_type: String,
    /// Percentage of requests logged.
    pub percentage: f64,
}

/// `largeLanguageModel`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LlmSettings {
    /// `enabled`.
    pub logs: String,
    /// Request messages.
    pub requests: LlmMessages,
    /// Response messages.
    pub responses: LlmMessages,
}

/// Which messages are logged, and up to what size.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LlmMessages {
    /// `all`.
    pub messages: String,
    /// Size limit in bytes.
    pub max_size_in_bytes: u32,
}

/// Diagnostic `applicationinsights` of API `api_id` (ARM ID) writing to `logger_id`.
pub fn app_insights_diagnostic(api_id: &str, logger_id: &str) -> Result<ResourceSpec, BuildError> {
    let all = LlmMessages {
        messages: "all".into(),
        max_size_in_bytes: LLM_MAX_MESSAGE_BYTES,
    };
    let body = DiagnosticBody {
        properties: DiagnosticProperties {
            logger_id: logger_id.to_string(),
            always_log: "allErrors".into(),
            sampling: Sampling {
                sampling_type: "fixed".into(),
                percentage: 100.0,
            },
            metrics: true,
            http_correlation_protocol: "W3C".into(),
            verbosity: "information".into(),
            log_client_ip: true,
            large_language_model: LlmSettings {
                logs: "enabled".into(),
                requests: all.clone(),
                responses: all,
            },
        },
    };
    arm_spec(
        TYPE,
        Ids::child(api_id, "diagnostics", "applicationinsights"),
        "APIM API diagnostic applicationinsights".into(),
        &body,
        DiffRules {
            case_insensitive: ptrs(&[
                "/properties/loggerId",
                "/properties/alwaysLog",
                "/properties/httpCorrelationProtocol",
                "/properties/verbosity",
                "/properties/largeLanguageModel/logs",
            ]),
            ..DiffRules::default()
        },
        vec![api_id.to_string(), logger_id.to_string()],
    )
}
