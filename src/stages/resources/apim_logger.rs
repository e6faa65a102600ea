//! `Microsoft.ApiManagement/service/loggers`: the Application Insights logger,
//! publishing with APIM's system-assigned identity.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.ApiManagement/service/loggers";

/// PUT body of a logger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Logger {
    /// Properties.
    pub properties: LoggerProperties,
}

/// `properties` of a logger.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggerProperties {
    /// `applicationInsights`.
    pub logger_type: String,
    /// Description.
    pub description: String,
    /// ARM ID of the Application Insights component.
    pub resource_id: Input<String>,
    /// Buffer records before publishing.
    pub is_buffered: bool,
    /// Connection string and identity.
    pub credentials: LoggerCredentials,
}

/// Logger credentials. APIM keeps them in a secret named value and GET answers a
/// `{{Logger-Credentials--...}}` reference instead: write-only for the diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggerCredentials {
    /// Application Insights connection string (a reference; sensitive).
    pub connection_string: Input<String>,
    /// `systemAssigned`: publish with APIM's managed identity.
    pub identity_client_id: String,
}

impl Logger {
    /// An Application Insights logger for `component`, authenticated with the
    /// service's system-assigned identity.
    pub fn app_insights(component: Input<String>, connection_string: Input<String>) -> Self {
        Logger {
            properties: LoggerProperties {
                logger_type: "applicationInsights".into(),
                description: "Application Insights, published with APIM's managed identity".into(),
                resource_id: component,
                is_buffered: true,
                credentials: LoggerCredentials {
                    connection_string,
                    identity_client_id: "systemAssigned".into(),
                },
            },
        }
    }
}

/// Comparison rules: credentials are write-only.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&["/properties/loggerType", "/properties/resourceId"]),
        write_only: super::paths(&["/properties/credentials"]),
        ..DiffRules::default()
    }
}

/// The spec of a logger.
pub fn spec(at: Placement, body: &Logger) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
