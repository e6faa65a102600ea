//! `Microsoft.ApiManagement/service/apis`: an API created by importing an OpenAPI
//! document (inline `openapi+json`, or a link). The import is a long-running
//! operation (201/202 with `Azure-AsyncOperation`/`Location`).
//!
//! `format` and `value` are import-only: APIM never returns them, so the diff
//! ignores them and never prints the document. The document's digest travels in
//! `apiRevisionDescription`, which APIM stores and returns: a changed document is
//! a changed digest, an ordinary update, and that update (a PUT with the new
//! `value`) re-imports the operations.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.ApiManagement/service/apis";

/// PUT body of an API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiImport {
    /// Properties.
    pub properties: ApiProperties,
}

/// `properties` of an API created by import.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiProperties {
    /// Display name.
    pub display_name: String,
    /// URL suffix, e.g. `openai/v1`.
    pub path: String,
    /// `https` only.
    pub protocols: Vec<String>,
    /// Callers need a subscription key.
    pub subscription_required: bool,
    /// Header and query parameter carrying the key.
    pub subscription_key_parameter_names: SubscriptionKeyNames,
    /// Default backend URL (the policy routes to a backend entity anyway).
    pub service_url: String,
    /// Carries the document digest (see the module docs).
    pub api_revision_description: String,
    /// `http`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Import format: `openapi+json`, `openapi+json-link`, `openapi-link`.
    pub format: String,
    /// The document (or its URL). Import-only.
    pub value: String,
}

/// Subscription key parameter names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubscriptionKeyNames {
    /// Header name.
    pub header: String,
    /// Query parameter name.
    pub query: String,
}

/// Comparison rules: protocols are a set; the import-only `format` and `value`
/// are not compared (the digest in `apiRevisionDescription` is).
pub fn rules() -> DiffRules {
    DiffRules {
        set_arrays: super::paths(&["/properties/protocols"]),
        case_insensitive: super::paths(&[
            "/properties/protocols",
            "/properties/type",
            "/properties/serviceUrl",
            "/properties/subscriptionKeyParameterNames/header",
            "/properties/subscriptionKeyParameterNames/query",
        ]),
        ignore: super::paths(&["/properties/format", "/properties/value"]),
        openapi: Some("/properties/value".into()),
        ..DiffRules::default()
    }
}

/// The spec of an API.
pub fn spec(at: Placement, body: &ApiImport) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
