//! The Entra application, its service principal and the optional admin consent.

mod finalize_env;

use owui_deploy::engine::{Api, Mode, Stage};
use owui_deploy::stages::entra::{
    self, GRAPH_APP_ID, consent_url, entra_resources, role_id, scope_id,
};

/// The proposed marker grammar: a marker ends at the `}` balancing its `${`; the
/// pointer follows the last `#` at depth 0. Returns (address, pointer) pairs of the
/// outermost markers.
fn balanced_markers(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    let b = s.as_bytes();
    while let Some(start) = s[i..].find("${ref:").map(|p| p + i) {
        let mut depth = 0usize;
        let mut j = start;
        let mut end = None;
        while j < b.len() {
            if b[j] == b'$' && j + 1 < b.len() && b[j + 1] == b'{' {
                depth += 1;
                j += 2;
                continue;
            }
            if b[j] == b'}' {
                depth -= 1;
                if depth == 0 {
                    end = Some(j);
                    break;
                }
            }
            j += 1;
        }
        let Some(end) = end else { break };
        let inner = &s[start + "${ref:".len()..end];
        let (addr, ptr) = inner.rsplit_once('#').expect("pointer");
        out.push((addr.to_string(), ptr.to_string()));
        i = end + 1;
    }
    out
}

#[test]
fn application_body_matches_the_reference() {
    let env = finalize_env::base();
    let specs = entra_resources(&env, false).expect("builds");
    assert_eq!(specs.len(), 2);
    let app = &specs[0];
    assert_eq!(
        app.address.as_str(),
        "graph:/applications(uniqueName='open-webui-dev')"
    );
    assert_eq!(app.stage, Stage::Spoke);
    assert_eq!(
        app.api,
        Api::Graph {
            kind: "application".into()
        }
    );
    let b = &app.body;
    assert_eq!(b["displayName"], "Open WebUI");
    assert_eq!(b["uniqueName"], "open-webui-dev");
    assert_eq!(b["signInAudience"], "AzureADMyOrg");
    assert_eq!(
        b["identifierUris"],
        serde_json::json!(["api://open-webui-dev"])
    );
    assert_eq!(b["groupMembershipClaims"], "SecurityGroup");
    assert_eq!(b["api"]["requestedAccessTokenVersion"], 2);
    let scope = &b["api"]["oauth2PermissionScopes"][0];
    assert_eq!(scope["value"], "user_impersonation");
    assert_eq!(
        scope["id"],
        scope_id("open-webui-dev", "user_impersonation").to_string()
    );
    // A public client (PKCE, no secret): the redirect URI is under publicClient only.
    assert_eq!(b["isFallbackPublicClient"], true);
    assert_eq!(
        b["publicClient"]["redirectUris"],
        serde_json::json!(["https://chat.example.com/oauth/oidc/callback"])
    );
    assert_eq!(b["web"]["redirectUris"], serde_json::json!([]));
    assert!(b.get("passwordCredentials").is_none() && b.get("keyCredentials").is_none());
    for token in ["idToken", "accessToken"] {
        let names: Vec<&str> = b["optionalClaims"][token]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["groups", "ipaddr"], "{token}");
    }
    let roles = b["appRoles"].as_array().unwrap();
    assert_eq!(roles.len(), 2);
    for r in roles {
        let value = r["value"].as_str().unwrap();
        assert_eq!(r["id"], role_id("open-webui-dev", value).to_string());
        assert_eq!(r["allowedMemberTypes"], serde_json::json!(["User"]));
        assert_eq!(r["isEnabled"], true);
    }
    let rra = &b["requiredResourceAccess"][0];
    assert_eq!(rra["resourceAppId"], GRAPH_APP_ID);
    let ids: Vec<&str> = rra["resourceAccess"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            entra::USER_READ,
            entra::GROUP_MEMBER_READ_ALL,
            entra::PROFILE_PHOTO_READ_ALL
        ]
    );
    assert!(
        rra["resourceAccess"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["type"] == "Scope")
    );
    assert!(app.rules.set_arrays.contains(&"/appRoles".to_string()));
    assert!(app.rules.immutable.contains(&"/uniqueName".to_string()));
}

#[test]
fn role_ids_are_stable_and_distinct() {
    let admin = role_id("open-webui-dev", "admin");
    assert_eq!(admin, role_id("open-webui-dev", "admin"));
    assert_ne!(admin, role_id("open-webui-dev", "user"));
    assert_ne!(admin, role_id("open-webui-prod", "admin"));
    assert_ne!(admin, scope_id("open-webui-dev", "admin"));
    assert_eq!(admin.get_version_num(), 5);
    // Same environment, same bodies (re-runs never create new roles).
    let env = finalize_env::base();
    assert_eq!(
        entra_resources(&env, true).unwrap(),
        entra_resources(&env, true).unwrap()
    );
}

#[test]
fn service_principal_is_addressed_by_the_app_id_reference() {
    let env = finalize_env::base();
    let specs = entra_resources(&env, false).unwrap();
    let sp = &specs[1];
    let app_marker = "${ref:graph:/applications(uniqueName='open-webui-dev')#/appId}";
    assert_eq!(
        sp.address.as_str(),
        format!("graph:/servicePrincipals(appId='{app_marker}')")
    );
    assert_eq!(
        sp.api,
        Api::Graph {
            kind: "servicePrincipal".into()
        }
    );
    assert_eq!(sp.body["appId"], app_marker);
    assert_eq!(sp.body["appRoleAssignmentRequired"], true);
    assert!(sp.dependencies().contains(&specs[0].address));
}

#[test]
fn admin_consent_grant_is_optional_and_names_both_principals() {
    let env = finalize_env::base();
    let specs = entra_resources(&env, true).unwrap();
    assert_eq!(specs.len(), 4);
    let graph_sp = &specs[2];
    assert_eq!(graph_sp.mode, Mode::Data);
    assert_eq!(
        graph_sp.address.as_str(),
        "graph:/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')"
    );
    let grant = &specs[3];
    assert_eq!(
        grant.api,
        Api::Graph {
            kind: "oauth2PermissionGrant".into()
        }
    );
    assert_eq!(grant.body["consentType"], "AllPrincipals");
    assert_eq!(
        grant.body["scope"],
        "User.Read GroupMember.Read.All ProfilePhoto.Read.All"
    );
    // Under the balanced-marker grammar the nested references resolve to the SP's
    // address and Microsoft Graph's SP.
    let client = balanced_markers(grant.body["clientId"].as_str().unwrap());
    assert_eq!(
        client,
        vec![(specs[1].address.as_str().to_string(), "/id".to_string())]
    );
    let resource = balanced_markers(grant.body["resourceId"].as_str().unwrap());
    assert_eq!(
        resource,
        vec![(graph_sp.address.as_str().to_string(), "/id".to_string())]
    );
    let in_address = balanced_markers(grant.address.as_str());
    assert_eq!(in_address.len(), 2);
    let deps = grant.dependencies();
    assert!(deps.contains(&specs[1].address) && deps.contains(&graph_sp.address));
}

#[test]
fn consent_url_format() {
    assert_eq!(
        consent_url("tenant-1", "app-2"),
        "https://login.microsoftonline.com/tenant-1/adminconsent?client_id=app-2"
    );
}
