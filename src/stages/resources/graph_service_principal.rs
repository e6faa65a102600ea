//! Microsoft Graph `servicePrincipal` of an application, addressed by the app's
//! `appId` (`/servicePrincipals(appId='...')`, upserted with
//! `Prefer: create-if-missing`); and read-only service principals of first-party
//! applications such as Microsoft Graph itself.

use crate::engine::{Address, Api, DiffRules, Input, Mode, ResourceSpec, Stage};
use crate::stages::StageError;
use serde::Serialize;
use std::collections::BTreeSet;

/// Graph object kind.
pub const KIND: &str = "servicePrincipal";

/// The service principal body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipalBody {
    /// The application's `appId` (a reference to the application).
    pub app_id: Input<String>,
    /// Only users and groups assigned an app role may sign in.
    pub app_role_assignment_required: bool,
}

/// Graph address of the service principal of `app_id` (a value or a reference
/// marker): `graph:/servicePrincipals(appId='APP_ID')`.
pub fn address(app_id: &str) -> String {
    format!("graph:/servicePrincipals(appId='{app_id}')")
}

/// The managed service principal at `address`, depending on `application`.
pub fn service_principal(
    address: String,
    application: &str,
    body: &ServicePrincipalBody,
) -> Result<ResourceSpec, StageError> {
    let body = serde_json::to_value(body).map_err(|source| StageError::Body {
        address: address.clone(),
        source,
    })?;
    Ok(ResourceSpec {
        address: Address(address),
        label: "Entra service principal of the application".into(),
        stage: Stage::Spoke,
        api: Api::Graph { kind: KIND.into() },
        body,
        depends_on: BTreeSet::from([Address::from(application)]),
        rules: DiffRules {
            case_insensitive: vec!["/appId".into()],
            immutable: vec!["/appId".into()],
            ..DiffRules::default()
        },
        mode: Mode::Managed,
        serial_key: None,
        taggable: false,
    })
}

/// A first-party service principal the tool only reads (e.g. Microsoft Graph's).
pub fn existing(app_id: &str, label: &str) -> ResourceSpec {
    ResourceSpec {
        address: Address(address(app_id)),
        label: label.to_string(),
        stage: Stage::Spoke,
        api: Api::Graph { kind: KIND.into() },
        body: serde_json::json!({}),
        depends_on: BTreeSet::new(),
        rules: DiffRules::default(),
        mode: Mode::Data,
        serial_key: None,
        taggable: false,
    }
}
