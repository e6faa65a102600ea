//! Microsoft Graph `oauth2PermissionGrant`: tenant-wide admin consent
//! (`consentType: AllPrincipals`) of a client's delegated permissions on a resource.
//!
//! Grants have no alternate key. Their address is a Graph query
//! `graph:/oauth2PermissionGrants?$filter=clientId eq '...' and consentType eq
//! 'AllPrincipals' and resourceId eq '...'`: the live object is the first (only)
//! match; create is `POST /oauth2PermissionGrants`, update is
//! `PATCH /oauth2PermissionGrants/{id}` (only `scope` changes), delete is
//! `DELETE /oauth2PermissionGrants/{id}`.

use crate::engine::{Address, Api, DiffRules, Input, Mode, ResourceSpec, Stage};
use crate::stages::StageError;
use serde::Serialize;

/// Graph object kind.
pub const KIND: &str = "oauth2PermissionGrant";

/// The grant body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionGrantBody {
    /// Object ID of the client's service principal.
    pub client_id: Input<String>,
    /// `AllPrincipals`: admin consent for every user.
    pub consent_type: String,
    /// Object ID of the resource's service principal (e.g. Microsoft Graph's).
    pub resource_id: Input<String>,
    /// Space-separated delegated scopes.
    pub scope: String,
}

/// The grant's query address for the two service principal object IDs (values or
/// reference markers).
pub fn address(client_id: &str, resource_id: &str) -> String {
    format!(
        "graph:/oauth2PermissionGrants?$filter=clientId eq '{client_id}' and consentType eq 'AllPrincipals' and resourceId eq '{resource_id}'"
    )
}

/// The grant spec at `address`.
pub fn permission_grant(
    address: String,
    body: &PermissionGrantBody,
    depends_on: Vec<String>,
) -> Result<ResourceSpec, StageError> {
    let body = serde_json::to_value(body).map_err(|source| StageError::Body {
        address: address.clone(),
        source,
    })?;
    Ok(ResourceSpec {
        address: Address(address),
        label: "Entra admin consent for Microsoft Graph permissions".into(),
        stage: Stage::Spoke,
        api: Api::Graph { kind: KIND.into() },
        body,
        depends_on: depends_on.into_iter().map(Address).collect(),
        rules: DiffRules {
            case_insensitive: vec![
                "/clientId".into(),
                "/resourceId".into(),
                "/consentType".into(),
            ],
            immutable: vec![
                "/clientId".into(),
                "/resourceId".into(),
                "/consentType".into(),
            ],
            ..DiffRules::default()
        },
        mode: Mode::Managed,
        serial_key: None,
        taggable: false,
    })
}
