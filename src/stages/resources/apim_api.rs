//! `Microsoft.ApiManagement/service/apis` (with its OpenAPI import) and the API
//! policy `Microsoft.ApiManagement/service/apis/policies`.

use super::apim_common::{BuildError, arm_spec, ptrs};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::Ids;
use serde::Serialize;

/// Resource type of an API.
pub const TYPE: &str = "Microsoft.ApiManagement/service/apis";
/// Resource type of an API policy.
pub const POLICY_TYPE: &str = "Microsoft.ApiManagement/service/apis/policies";

/// Request body of an API.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiBody {
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
    /// Revision description: carries the document digest (compared by the diff).
    pub api_revision_description: String,
    /// `http`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Import format: `openapi+json`, `openapi+json-link`, `openapi-link`.
    pub format: String,
    /// The document (or its URL). Import-only: never returned by GET.
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

/// Everything an API import needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiImport {
    /// API ID (`openai`).
    pub name: String,
    /// Display name.
    pub display_name: String,
    /// URL suffix.
    pub path: String,
    /// Subscription key header and query name.
    pub key_name: String,
    /// Default backend URL.
    pub service_url: String,
    /// Import format.
    pub format: String,
    /// Document or URL.
    pub value: String,
    /// Revision description (document digest).
    pub revision_description: String,
}

/// API `import.name`, imported from `import.value`. `value` and `format` are
/// import-only (APIM never returns them): the diff ignores them, and the plan
/// compares the document's operations with the live ones instead.
pub fn api(
    apim_id: &str,
    import: ApiImport,
    depends_on: Vec<String>,
) -> Result<ResourceSpec, BuildError> {
    let body = ApiBody {
        properties: ApiProperties {
            display_name: import.display_name,
            path: import.path,
            protocols: vec!["https".into()],
            subscription_required: true,
            subscription_key_parameter_names: SubscriptionKeyNames {
                header: import.key_name.clone(),
                query: import.key_name,
            },
            service_url: import.service_url,
            api_revision_description: import.revision_description,
            kind: "http".into(),
            format: import.format,
            value: import.value,
        },
    };
    arm_spec(
        TYPE,
        Ids::child(apim_id, "apis", &import.name),
        format!("APIM API {}", import.name),
        &body,
        DiffRules {
            set_arrays: ptrs(&["/properties/protocols"]),
            case_insensitive: ptrs(&[
                "/properties/protocols",
                "/properties/type",
                "/properties/serviceUrl",
                "/properties/subscriptionKeyParameterNames/header",
                "/properties/subscriptionKeyParameterNames/query",
            ]),
            ignore: ptrs(&["/properties/format", "/properties/value"]),
            ..DiffRules::default()
        },
        depends_on,
    )
}

/// Request body of a policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyBody {
    /// Properties.
    pub properties: PolicyProperties,
}

/// `properties` of a policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyProperties {
    /// `xml`: a well-formed document (policy expressions XML-escaped).
    pub format: String,
    /// The policy document.
    pub value: String,
}

/// The policy of API `api_id` (ARM ID): `xml` = the rendered, checked document.
/// `format` is ignored in the diff (GET may answer another format name); `value` is
/// compared after XML canonicalization (see `stages::policy::canonicalize`).
pub fn api_policy(
    api_id: &str,
    xml: String,
    depends_on: Vec<String>,
) -> Result<ResourceSpec, BuildError> {
    let body = PolicyBody {
        properties: PolicyProperties {
            format: "xml".into(),
            value: xml,
        },
    };
    let mut deps = depends_on;
    deps.push(api_id.to_string());
    arm_spec(
        POLICY_TYPE,
        Ids::child(api_id, "policies", "policy"),
        "APIM API policy".into(),
        &body,
        DiffRules {
            ignore: ptrs(&["/properties/format"]),
            ..DiffRules::default()
        },
        deps,
    )
}
