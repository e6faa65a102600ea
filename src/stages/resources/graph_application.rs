//! Microsoft Graph `application`: Open WebUI's Entra app registration, upserted by
//! unique name (`PATCH /applications(uniqueName='...')` with
//! `Prefer: create-if-missing`).
//!
//! Open WebUI redeems the authorization code with PKCE and no client secret, which
//! Entra accepts only for a public client: the redirect URI sits under
//! `publicClient.redirectUris` (Graph's `publicClientApplication`) with
//! `isFallbackPublicClient: true`, and `web.redirectUris` is sent empty so that an
//! application registered by an earlier version (redirect URI under `web`) is moved.

use crate::engine::{Address, Api, DiffRules, Mode, ResourceSpec, Stage};
use crate::stages::StageError;
use serde::Serialize;
use std::collections::BTreeSet;

/// Graph object kind.
pub const KIND: &str = "application";

/// The application body (the fields the tool owns; Graph adds many more).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationBody {
    /// Display name.
    pub display_name: String,
    /// Unique name (the upsert key; immutable once set).
    pub unique_name: String,
    /// `AzureADMyOrg`.
    pub sign_in_audience: String,
    /// `api://...`.
    pub identifier_uris: Vec<String>,
    /// `SecurityGroup`: group IDs in tokens.
    pub group_membership_claims: String,
    /// App roles.
    pub app_roles: Vec<AppRole>,
    /// Optional claims.
    pub optional_claims: OptionalClaims,
    /// Exposed API.
    pub api: ApiApplication,
    /// `true`: the application is a public client (no secret; PKCE).
    pub is_fallback_public_client: bool,
    /// Public client platform (mobile and desktop): Open WebUI's redirect URI.
    pub public_client: PublicClientApplication,
    /// Web platform (confidential client): no redirect URI.
    pub web: WebApplication,
    /// Required permissions.
    pub required_resource_access: Vec<RequiredResourceAccess>,
}

/// An app role.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRole {
    /// Stable ID (UUID v5, see `stages::entra::role_id`).
    pub id: String,
    /// Claim value.
    pub value: String,
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: String,
    /// `User`.
    pub allowed_member_types: Vec<String>,
    /// Enabled.
    pub is_enabled: bool,
}

/// Optional claims per token type.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OptionalClaims {
    /// ID token.
    pub id_token: Vec<OptionalClaim>,
    /// Access token.
    pub access_token: Vec<OptionalClaim>,
}

/// One optional claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OptionalClaim {
    /// Claim name.
    pub name: String,
    /// Not essential.
    pub essential: bool,
}

/// `api`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiApplication {
    /// 2: v2 access tokens.
    pub requested_access_token_version: u8,
    /// Delegated scopes.
    pub oauth2_permission_scopes: Vec<PermissionScope>,
}

/// A delegated scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionScope {
    /// Stable ID.
    pub id: String,
    /// Scope value.
    pub value: String,
    /// `User`: users may consent.
    #[serde(rename = "type")]
    pub kind: String,
    /// Enabled.
    pub is_enabled: bool,
    /// Admin consent title.
    pub admin_consent_display_name: String,
    /// Admin consent text.
    pub admin_consent_description: String,
    /// User consent title.
    pub user_consent_display_name: String,
    /// User consent text.
    pub user_consent_description: String,
}

/// `publicClient` (Graph's `publicClientApplication`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicClientApplication {
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
}

/// `web`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebApplication {
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
}

/// Permissions on one resource application.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequiredResourceAccess {
    /// Resource app ID (Microsoft Graph: `00000003-0000-0000-c000-000000000000`).
    pub resource_app_id: String,
    /// Permissions.
    pub resource_access: Vec<ResourceAccess>,
}

/// One permission.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceAccess {
    /// Permission ID.
    pub id: String,
    /// `Scope` (delegated) or `Role` (application).
    #[serde(rename = "type")]
    pub kind: String,
}

/// Comparison rules of applications: collections are sets; the unique name is the
/// upsert key and cannot change.
pub fn rules() -> DiffRules {
    DiffRules {
        set_arrays: [
            "/identifierUris",
            "/appRoles",
            "/appRoles/*/allowedMemberTypes",
            "/optionalClaims/idToken",
            "/optionalClaims/accessToken",
            "/api/oauth2PermissionScopes",
            "/publicClient/redirectUris",
            "/web/redirectUris",
            "/requiredResourceAccess",
            "/requiredResourceAccess/*/resourceAccess",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        case_insensitive: vec![
            "/appRoles/*/id".into(),
            "/api/oauth2PermissionScopes/*/id".into(),
            "/requiredResourceAccess/*/resourceAppId".into(),
            "/requiredResourceAccess/*/resourceAccess/*/id".into(),
            "/groupMembershipClaims".into(),
        ],
        immutable: vec!["/uniqueName".into()],
        ..DiffRules::default()
    }
}

/// The application spec at `address` (`graph:/applications(uniqueName='...')`).
pub fn application(address: String, body: &ApplicationBody) -> Result<ResourceSpec, StageError> {
    let label = format!("Entra application {}", body.unique_name);
    let body = serde_json::to_value(body).map_err(|source| StageError::Body {
        address: address.clone(),
        source,
    })?;
    Ok(ResourceSpec {
        label,
        address: Address(address),
        stage: Stage::Spoke,
        api: Api::Graph { kind: KIND.into() },
        body,
        depends_on: BTreeSet::new(),
        rules: rules(),
        mode: Mode::Managed,
        serial_key: None,
        taggable: false,
    })
}
