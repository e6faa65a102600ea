//! `Microsoft.ApiManagement/service/apis/diagnostics`: the API's Application
//! Insights diagnostic with metrics and large-language-model request/response
//! logs (`largeLanguageModel` needs API version 2024-06-01-preview or later).

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.ApiManagement/service/apis/diagnostics";

/// Largest LLM message logged (256 KiB, the schema's maximum).
pub const LLM_MAX_MESSAGE_BYTES: u32 = 262_144;

/// PUT body of a diagnostic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
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

impl Diagnostic {
    /// Everything sampled (100 %), custom metrics on, W3C correlation, and LLM
    /// request and response messages logged, to `logger_id`.
    pub fn app_insights(logger_id: &str) -> Self {
        let all = LlmMessages {
            messages: "all".into(),
            max_size_in_bytes: LLM_MAX_MESSAGE_BYTES,
        };
        Diagnostic {
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
        }
    }
}

/// Comparison rules: enums and the logger ID are case-insensitive.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&[
            "/properties/loggerId",
            "/properties/alwaysLog",
            "/properties/httpCorrelationProtocol",
            "/properties/verbosity",
            "/properties/largeLanguageModel/logs",
        ]),
        ..DiffRules::default()
    }
}

/// The spec of an API diagnostic (`{api}/diagnostics/applicationinsights`).
pub fn spec(at: Placement, body: &Diagnostic) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
