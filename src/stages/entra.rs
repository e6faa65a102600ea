//! The Entra application Open WebUI signs users in with (spoke stage, Microsoft
//! Graph): the application, its service principal, and the optional tenant-wide
//! admin consent for its Microsoft Graph permissions.
//!
//! # Graph addressing (engine contract)
//! - Application: `graph:/applications(uniqueName='U')`, a real Graph path.
//!   GET reads it (404 = absent); create and update are both
//!   `PATCH /applications(uniqueName='U')` with `Prefer: create-if-missing` (upsert).
//! - Service principal: `graph:/servicePrincipals(appId='${ref:APP#/appId}')`. The
//!   address holds a reference marker (the `appId` Graph assigns), resolved like the
//!   markers of a body: until the application exists the SP is planned as a create;
//!   afterwards `GET/PATCH /servicePrincipals(appId='...')` (PATCH with
//!   `Prefer: create-if-missing`) reads and upserts it.
//! - Admin consent: a Graph query address (see
//!   [`crate::stages::resources::graph_permission_grant`]) whose markers name the
//!   SP's object ID and Microsoft Graph's SP object ID.
//! - Microsoft Graph's own SP: `graph:/servicePrincipals(appId='00000003-...')`,
//!   mode `Data`.
//!
//! Markers can nest (the grant references `/id` of the SP, whose address holds a
//! marker): a marker ends at the `}` that balances its `${`, and its pointer follows
//! the last `#` at depth 0.

use crate::config::Environment;
use crate::engine::{Input, Reference, ResourceSpec};
use crate::stages::resources::graph_application::{
    self, ApiApplication, AppRole, ApplicationBody, OptionalClaim, OptionalClaims, PermissionScope,
    PublicClientApplication, RequiredResourceAccess, ResourceAccess, WebApplication,
};
use crate::stages::resources::graph_permission_grant::{self, PermissionGrantBody};
use crate::stages::resources::graph_service_principal::{self, ServicePrincipalBody};
use crate::stages::{Ids, StageError, StageOptions};
use uuid::Uuid;

/// Namespace of the UUID v5 IDs of app roles and scopes (fixed forever: changing it
/// would create new roles and break every assignment).
pub const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f77_7569_2d64_6570_6c6f_792d_656e_7472);

/// Application ID of Microsoft Graph.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Delegated `User.Read`.
pub const USER_READ: &str = "e1fe6dd8-ba31-4d61-89e7-88639da4683d";
/// Delegated `GroupMember.Read.All`.
pub const GROUP_MEMBER_READ_ALL: &str = "bc024368-1153-4739-b217-4326f2e966d0";
/// Delegated `ProfilePhoto.Read.All`.
pub const PROFILE_PHOTO_READ_ALL: &str = "469cd065-729e-4dee-b1fa-d92e0fab6310";
/// The scopes admin consent grants on Microsoft Graph.
pub const GRAPH_SCOPES: &str = "User.Read GroupMember.Read.All ProfilePhoto.Read.All";
/// The delegated scope the application exposes.
pub const USER_IMPERSONATION: &str = "user_impersonation";

/// Stable ID of app role `value` of the application `unique_name`.
pub fn role_id(unique_name: &str, value: &str) -> Uuid {
    Uuid::new_v5(
        &ID_NAMESPACE,
        format!("{unique_name}/appRole/{value}").as_bytes(),
    )
}

/// Stable ID of the delegated scope `value` of the application `unique_name`.
pub fn scope_id(unique_name: &str, value: &str) -> Uuid {
    Uuid::new_v5(
        &ID_NAMESPACE,
        format!("{unique_name}/scope/{value}").as_bytes(),
    )
}

/// The URL an administrator opens to consent to the application's permissions.
pub fn consent_url(tenant: &str, app_id: &str) -> String {
    format!("https://login.microsoftonline.com/{tenant}/adminconsent?client_id={app_id}")
}

/// [`consent_url`] on the authority host of `env`'s cloud (sovereign clouds sign
/// in elsewhere).
pub fn consent_url_for(env: &Environment, tenant: &str, app_id: &str) -> String {
    format!(
        "{}/{tenant}/adminconsent?client_id={app_id}",
        crate::stages::spoke::authority_host(env)
    )
}

/// Open WebUI's OIDC redirect URI: `https://{domain}/oauth/oidc/callback` (its
/// route `/oauth/{provider}/callback` with provider `oidc`).
pub fn redirect_uri(env: &Environment) -> String {
    format!("https://{}/oauth/oidc/callback", env.domain.custom_domain)
}

/// Address of the application of `env`.
pub fn application_address(env: &Environment) -> String {
    Ids::graph_application(&env.entra.unique_name)
}

/// Reference to the application's `appId` (the client ID).
pub fn app_id_ref(env: &Environment) -> Reference {
    Reference::new(application_address(env), "/appId")
}

/// Address of the application's service principal (holds a reference marker).
pub fn service_principal_address(env: &Environment) -> String {
    graph_service_principal::address(&app_id_ref(env).marker())
}

/// Address of Microsoft Graph's service principal (read only).
pub fn graph_service_principal_address() -> String {
    graph_service_principal::address(GRAPH_APP_ID)
}

/// The application body for `env`.
pub fn application_body(env: &Environment) -> ApplicationBody {
    let u = &env.entra.unique_name;
    let claims = || {
        ["groups", "ipaddr"]
            .iter()
            .map(|n| OptionalClaim {
                name: n.to_string(),
                essential: false,
            })
            .collect::<Vec<_>>()
    };
    ApplicationBody {
        display_name: env.entra.app_name.clone(),
        unique_name: u.clone(),
        sign_in_audience: "AzureADMyOrg".into(),
        identifier_uris: vec![format!("api://{u}")],
        group_membership_claims: "SecurityGroup".into(),
        app_roles: env
            .entra
            .roles
            .iter()
            .map(|r| AppRole {
                id: role_id(u, r).to_string(),
                value: r.clone(),
                display_name: r.clone(),
                description: format!("Open WebUI {r}"),
                allowed_member_types: vec!["User".into()],
                is_enabled: true,
            })
            .collect(),
        optional_claims: OptionalClaims {
            id_token: claims(),
            access_token: claims(),
        },
        api: ApiApplication {
            requested_access_token_version: 2,
            oauth2_permission_scopes: vec![PermissionScope {
                id: scope_id(u, USER_IMPERSONATION).to_string(),
                value: USER_IMPERSONATION.into(),
                kind: "User".into(),
                is_enabled: true,
                admin_consent_display_name: format!("Access {}", env.entra.app_name),
                admin_consent_description: format!(
                    "Allows the app to call {} (and its AI gateway) on behalf of the signed-in user.",
                    env.entra.app_name
                ),
                user_consent_display_name: format!("Access {}", env.entra.app_name),
                user_consent_description: format!(
                    "Allows the app to call {} on your behalf.",
                    env.entra.app_name
                ),
            }],
        },
        is_fallback_public_client: true,
        public_client: PublicClientApplication {
            redirect_uris: vec![redirect_uri(env)],
        },
        web: WebApplication {
            redirect_uris: Vec::new(),
        },
        required_resource_access: vec![RequiredResourceAccess {
            resource_app_id: GRAPH_APP_ID.into(),
            resource_access: [USER_READ, GROUP_MEMBER_READ_ALL, PROFILE_PHOTO_READ_ALL]
                .iter()
                .map(|id| ResourceAccess {
                    id: id.to_string(),
                    kind: "Scope".into(),
                })
                .collect(),
        }],
    }
}

/// The Entra resources of the spoke stage: the application, its service principal
/// (`appRoleAssignmentRequired: true`), and, with `grant_admin_consent`, the
/// tenant-wide consent to its Microsoft Graph permissions (plus Microsoft Graph's
/// service principal, read only, whose object ID the grant names). Without the grant
/// the output names the consent step and [`consent_url`].
pub fn entra_resources(
    env: &Environment,
    grant_admin_consent: bool,
) -> Result<Vec<ResourceSpec>, StageError> {
    let app_addr = application_address(env);
    let sp_addr = service_principal_address(env);
    let mut out = vec![graph_application::application(
        app_addr.clone(),
        &application_body(env),
    )?];
    let sp_body = ServicePrincipalBody {
        app_id: Input::Ref(app_id_ref(env)),
        app_role_assignment_required: true,
    };
    out.push(graph_service_principal::service_principal(
        sp_addr.clone(),
        &app_addr,
        &sp_body,
    )?);
    if grant_admin_consent {
        let graph_sp =
            graph_service_principal::existing(GRAPH_APP_ID, "Microsoft Graph service principal");
        let client = Reference::new(sp_addr.clone(), "/id");
        let resource = Reference::new(graph_sp.address.0.clone(), "/id");
        let body = PermissionGrantBody {
            client_id: Input::Ref(client.clone()),
            consent_type: "AllPrincipals".into(),
            resource_id: Input::Ref(resource.clone()),
            scope: GRAPH_SCOPES.into(),
        };
        let address = graph_permission_grant::address(&client.marker(), &resource.marker());
        let grant = graph_permission_grant::permission_grant(
            address,
            &body,
            vec![sp_addr, graph_sp.address.0.clone()],
        )?;
        out.push(graph_sp);
        out.push(grant);
    }
    Ok(out)
}

/// The Entra resources of `env` for the stage list (`stages::STAGE_BUILDERS`):
/// [`entra_resources`] with `opts.grant_admin_consent`.
pub fn resources(env: &Environment, opts: &StageOptions) -> Result<Vec<ResourceSpec>, StageError> {
    entra_resources(env, opts.grant_admin_consent)
}
