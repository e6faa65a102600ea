//! `Microsoft.ApiManagement/service/loggers`: the Application Insights logger,
//! authenticated with APIM's system-assigned identity.

use super::apim_common::{BuildError, arm_spec, ptrs};
use crate::engine::{DiffRules, Input, ResourceSpec};
use crate::stages::Ids;
use serde::Serialize;

/// Resource type.
pub const TYPE: &str = "Microsoft.ApiManagement/service/loggers";

/// Request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggerBody {
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
    /// ARM ID of the Application Insights component (as read: a reference to its `/id`).
    pub resource_id: Input<String>,
    /// Buffer records before publishing.
    pub is_buffered: bool,
    /// Connection string and identity.
    pub credentials: LoggerCredentials,
}

/// Logger credentials: APIM stores them as a secret named value and GET answers a
/// `{{Logger-Credentials--...}}` reference, so the diff treats them as write-only.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggerCredentials {
    /// Application Insights connection string (a reference, sensitive).
    pub connection_string: Input<String>,
    /// `systemAssigned`: publish with APIM's managed identity.
    pub identity_client_id: String,
}

/// Logger `name` for the component `app_insights_id`.
pub fn app_insights_logger(
    apim_id: &str,
    name: &str,
    app_insights_id: &str,
    resource_id: Input<String>,
    connection_string: Input<String>,
    depends_on: Vec<String>,
) -> Result<ResourceSpec, BuildError> {
    let body = LoggerBody {
        properties: LoggerProperties {
            logger_type: "applicationInsights".into(),
            description: "Application Insights, published with APIM's managed identity".into(),
            resource_id,
            is_buffered: true,
            credentials: LoggerCredentials {
                connection_string,
                identity_client_id: "systemAssigned".into(),
            },
        },
    };
    arm_spec(
        TYPE,
        Ids::child(apim_id, "loggers", name),
        format!("APIM logger {name}"),
        &body,
        DiffRules {
            case_insensitive: ptrs(&["/properties/loggerType", "/properties/resourceId"]),
            write_only: ptrs(&["/properties/credentials"]),
            ..DiffRules::default()
        },
        {
            let mut d = depends_on;
            d.push(app_insights_id.to_string());
            d
        },
    )
}
