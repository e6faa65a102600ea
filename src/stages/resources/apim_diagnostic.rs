//! `Microsoft.ApiManagement/service/apis/diagnostics`: the API's two diagnostics.
//!
//! - `applicationinsights`: requests, dependencies and the custom metrics of
//!   `llm-emit-token-metric` (`customMetrics` with its dimensions) to Application
//!   Insights; no LLM messages.
//! - `azuremonitor`: the API's logs to Azure Monitor through the service's built-in
//!   `azuremonitor` logger, with large-language-model request and response messages
//!   (`largeLanguageModel`, API version 2024-06-01-preview or later), which the
//!   service's diagnostic setting sends to `ApiManagementGatewayLlmLog`.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.ApiManagement/service/apis/diagnostics";

/// Largest LLM message a diagnostic can log (256 KiB, the schema's maximum).
pub const LLM_MAX_MESSAGE_BYTES: u32 = 262_144;
/// Name of the Application Insights diagnostic.
pub const APP_INSIGHTS: &str = "applicationinsights";
/// Name of the Azure Monitor diagnostic (and of APIM's built-in logger it uses).
pub const AZURE_MONITOR: &str = "azuremonitor";

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
    /// Emit custom metrics (`llm-emit-token-metric`; Application Insights only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<bool>,
    /// `W3C` correlation (Application Insights only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_correlation_protocol: Option<String>,
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
    /// `enabled` or `disabled`.
    pub logs: String,
    /// Request messages (when enabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<LlmMessages>,
    /// Response messages (when enabled).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responses: Option<LlmMessages>,
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
    /// Everything sampled (100 %), custom metrics on, W3C correlation, to the
    /// Application Insights logger `logger_id`. LLM messages are not sent there
    /// (`largeLanguageModel.logs: disabled`; they go to [`Diagnostic::azure_monitor`]).
    pub fn app_insights(logger_id: &str) -> Self {
        Diagnostic {
            properties: DiagnosticProperties {
                metrics: Some(true),
                http_correlation_protocol: Some("W3C".into()),
                ..Self::base(
                    logger_id,
                    LlmSettings {
                        logs: "disabled".into(),
                        requests: None,
                        responses: None,
                    },
                )
            },
        }
    }

    /// Everything sampled (100 %) to APIM's built-in `azuremonitor` logger
    /// (`logger_id`), with LLM request and response messages up to `max_bytes` each.
    pub fn azure_monitor(logger_id: &str, max_bytes: u32) -> Self {
        let all = LlmMessages {
            messages: "all".into(),
            max_size_in_bytes: max_bytes,
        };
        Diagnostic {
            properties: Self::base(
                logger_id,
                LlmSettings {
                    logs: "enabled".into(),
                    requests: Some(all.clone()),
                    responses: Some(all),
                },
            ),
        }
    }

    fn base(logger_id: &str, llm: LlmSettings) -> DiagnosticProperties {
        DiagnosticProperties {
            logger_id: logger_id.to_string(),
            always_log: "allErrors".into(),
            sampling: Sampling {
                sampling_type: "fixed".into(),
                percentage: 100.0,
            },
            metrics: None,
            http_correlation_protocol: None,
            verbosity: "information".into(),
            log_client_ip: true,
            large_language_model: llm,
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

/// The spec of an API diagnostic (`{api}/diagnostics/{applicationinsights|azuremonitor}`).
pub fn spec(at: Placement, body: &Diagnostic) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
