//! The token endpoint (`POST /{tenant}/oauth2/v2.0/token`, client credentials) and the
//! bearer-token checks ARM and Graph make.
//!
//! Tokens are JWT-shaped (`header.payload.signature`, base64url). The sandbox remembers
//! each token it issued (by its `jti`) and refuses unknown, malformed and expired ones.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::server::{Reply, Shared};
use super::state::{Principal, World};

/// Which API a token is presented to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// Azure Resource Manager.
    Arm,
    /// Microsoft Graph.
    Graph,
    /// The Azure Monitor Logs query API.
    Logs,
}

/// Claims the sandbox uses.
#[derive(Debug, Clone)]
pub(crate) struct Claims {
    /// Tenant ID.
    pub tid: String,
    /// Caller object ID.
    pub oid: String,
}

/// Why a token was refused.
#[derive(Debug)]
pub(crate) enum AuthError {
    Missing,
    Malformed,
    Unknown,
    Expired { exp: u64, now: u64 },
    Audience { aud: String },
}

/// The object ID of the service principal behind a client ID.
pub(crate) fn caller_object_id(client_id: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("owui-sandbox:client:{client_id}").as_bytes(),
    )
    .to_string()
}

fn aad_error(status: u16, error: &str, code: u32, description: &str) -> Reply {
    let trace = uuid::Uuid::new_v4().to_string();
    Reply::json(
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {trace} Timestamp: {}", super::server::rfc3339(super::server::now_ms())),
            "error_codes": [code],
            "timestamp": super::server::rfc3339(super::server::now_ms()),
            "trace_id": trace,
            "correlation_id": trace,
        }),
    )
}

/// Serve the token endpoint.
pub(crate) fn issue(shared: &Shared, tenant: &str, form: &[(String, String)]) -> Reply {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let Some(refusal) = grant_refusal(get("grant_type")) {
        return refusal;
    }
    let (client_id, secret) = (
        get("client_id").unwrap_or(""),
        get("client_secret").unwrap_or(""),
    );
    if let Some(refusal) = client_refusal(shared, tenant, client_id, secret) {
        return refusal;
    }
    let aud = match audience_of_scope(get("scope")) {
        Ok(aud) => aud,
        Err(refusal) => return refusal,
    };
    let lifetime = shared.token_lifetime_secs();
    let token = mint(shared, tenant, client_id, &aud, lifetime);
    shared.mark_dirty();
    Reply::json(
        200,
        json!({
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }),
    )
}

/// Entra ID's answer to a missing or unsupported `grant_type` (only client
/// credentials are served); `None` when the grant is served.
fn grant_refusal(grant_type: Option<&str>) -> Option<Reply> {
    match grant_type {
        Some("client_credentials") => None,
        Some(other) => Some(aad_error(
            400,
            "unsupported_grant_type",
            70003,
            &format!("The app requested an unsupported grant type '{other}'."),
        )),
        None => Some(aad_error(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'grant_type'.",
        )),
    }
}

/// Entra ID's answer to an unknown client ID or a wrong secret; `None` when
/// both are the sandbox's credentials.
fn client_refusal(shared: &Shared, tenant: &str, client_id: &str, secret: &str) -> Option<Reply> {
    let (want_id, want_secret) = shared.credentials();
    if client_id != want_id {
        return Some(aad_error(
            401,
            "invalid_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'."
            ),
        ));
    }
    if secret != want_secret {
        return Some(aad_error(
            401,
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.",
        ));
    }
    None
}

/// The audience of a client-credentials `scope` (`RESOURCE/.default`, first
/// scope only), or Entra ID's answer to a missing or invalid scope.
fn audience_of_scope(scope: Option<&str>) -> Result<String, Reply> {
    let Some(scope) = scope.filter(|s| !s.trim().is_empty()) else {
        return Err(aad_error(
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'scope'.",
        ));
    };
    let scope = scope.split_whitespace().next().unwrap_or("");
    let Some(resource) = scope
        .strip_suffix("/.default")
        .or_else(|| scope.strip_suffix(".default"))
    else {
        return Err(aad_error(
            400,
            "invalid_scope",
            1002012,
            &format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ));
    };
    Ok(resource.trim_end_matches('/').to_string())
}

/// A new JWT-shaped token for `client_id` and `aud`, valid `lifetime` seconds;
/// remember it (forgetting tokens expired over an hour ago) and the client's
/// service principal.
fn mint(shared: &Shared, tenant: &str, client_id: &str, aud: &str, lifetime: u64) -> String {
    let now = super::server::now_ms() / 1000;
    let exp = now + lifetime;
    let jti = uuid::Uuid::new_v4().to_string();
    let oid = caller_object_id(client_id);
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "owui-sandbox"});
    let payload = json!({
        "aud": aud,
        "iss": format!("https://sts.windows.net/{tenant}/"),
        "iat": now, "nbf": now, "exp": exp,
        "appid": client_id, "azp": client_id,
        "idtyp": "app",
        "oid": oid, "sub": oid,
        "tid": tenant,
        "jti": jti,
        "ver": "1.0",
    });
    let sig: [u8; 32] = rand::random();
    let token = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        URL_SAFE_NO_PAD.encode(sig)
    );
    {
        let mut w = shared.world();
        w.tokens.retain(|_, e| *e + 3600 > now);
        w.tokens.insert(jti, exp);
        w.principals
            .entry(oid.to_ascii_lowercase())
            .or_insert(Principal {
                kind: "ServicePrincipal".into(),
                created_ms: 0,
            });
    }
    token
}

fn audience_ok(api: Api, aud: &str, base_url: &str) -> bool {
    let aud = aud.trim_end_matches('/').to_ascii_lowercase();
    let sandbox = aud.starts_with("https://127.0.0.1:")
        || aud.starts_with("https://localhost:")
        || aud == base_url.trim_end_matches('/').to_ascii_lowercase();
    sandbox
        || match api {
            Api::Arm => {
                aud == "https://management.azure.com"
                    || aud == "https://management.core.windows.net"
            }
            Api::Graph => aud == "https://graph.microsoft.com",
            Api::Logs => {
                aud == "https://api.loganalytics.io" || aud == "https://api.loganalytics.azure.com"
            }
        }
}

/// Whether the request's bearer token is one this sandbox issued and is still valid
/// (any audience): such a request may send a large body.
pub(crate) fn is_issued(world: &World, authorization: Option<&str>) -> bool {
    issued_payload(world, authorization).is_ok()
}

/// Check the bearer token of a request.
pub(crate) fn check(
    world: &World,
    authorization: Option<&str>,
    api: Api,
    base_url: &str,
) -> Result<Claims, AuthError> {
    let payload = issued_payload(world, authorization)?;
    let aud = payload["aud"].as_str().unwrap_or("");
    if !audience_ok(api, aud, base_url) {
        return Err(AuthError::Audience {
            aud: aud.to_string(),
        });
    }
    Ok(Claims {
        tid: payload["tid"].as_str().unwrap_or_default().to_string(),
        oid: payload["oid"].as_str().unwrap_or_default().to_string(),
    })
}

/// The payload of a bearer token this sandbox issued that has not expired.
fn issued_payload(world: &World, authorization: Option<&str>) -> Result<Value, AuthError> {
    let Some(h) = authorization else {
        return Err(AuthError::Missing);
    };
    let Some(token) = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))
    else {
        return Err(AuthError::Malformed);
    };
    let parts: Vec<&str> = token.trim().split('.').collect();
    if parts.len() != 3 {
        return Err(AuthError::Malformed);
    }
    let payload: Value = URL_SAFE_NO_PAD
        .decode(parts[1])
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(AuthError::Malformed)?;
    let jti = payload["jti"].as_str().ok_or(AuthError::Malformed)?;
    let exp = payload["exp"].as_u64().ok_or(AuthError::Malformed)?;
    if !world.tokens.contains_key(jti) {
        return Err(AuthError::Unknown);
    }
    let now = super::server::now_ms() / 1000;
    if exp <= now {
        return Err(AuthError::Expired { exp, now });
    }
    Ok(payload)
}

/// The 401 answer for a refused token, in ARM's or Graph's shape.
pub(crate) fn refusal(err: &AuthError, api: Api, tenant_hint: &str) -> Reply {
    let (code, message, description) = match err {
        AuthError::Missing => (
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.".to_string(),
            "The authentication failed because of missing 'Authorization' header.",
        ),
        AuthError::Malformed => (
            "InvalidAuthenticationToken",
            "The access token is invalid.".to_string(),
            "The access token is invalid.",
        ),
        AuthError::Unknown => (
            "InvalidAuthenticationToken",
            "The access token is invalid: it was not issued by this sandbox.".to_string(),
            "The access token is invalid.",
        ),
        AuthError::Expired { exp, now } => (
            "ExpiredAuthenticationToken",
            format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                super::server::rfc3339(exp * 1000),
                super::server::rfc3339(now * 1000)
            ),
            "The access token has expired.",
        ),
        AuthError::Audience { aud } => (
            "InvalidAuthenticationTokenAudience",
            format!(
                "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences {}.",
                match api {
                    Api::Arm =>
                        "'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'",
                    Api::Graph => "'https://graph.microsoft.com'",
                    Api::Logs => "'https://api.loganalytics.io'",
                }
            ),
            "The access token audience is invalid.",
        ),
    };
    let www = format!(
        "Bearer authorization_uri=\"https://login.microsoftonline.com/{tenant_hint}\", error=\"invalid_token\", error_description=\"{description}\""
    );
    let body = match api {
        Api::Arm | Api::Logs => json!({"error": {"code": code, "message": message}}),
        Api::Graph => super::graph::error_body(
            if matches!(err, AuthError::Missing) {
                "InvalidAuthenticationToken"
            } else {
                code
            },
            &message,
        ),
    };
    Reply::json(401, body).header("WWW-Authenticate", www)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(reply: &Reply) -> (u16, Value) {
        (reply.status, reply.json_body().expect("json body").clone())
    }

    #[test]
    fn only_the_client_credentials_grant_is_served() {
        assert!(grant_refusal(Some("client_credentials")).is_none());
        let (status, body) = error_of(&grant_refusal(Some("password")).expect("refused"));
        assert_eq!(status, 400);
        assert_eq!(body["error"], "unsupported_grant_type");
        assert_eq!(body["error_codes"], json!([70003]));
        let (status, body) = error_of(&grant_refusal(None).expect("refused"));
        assert_eq!(status, 400);
        assert_eq!(body["error"], "invalid_request");
        assert_eq!(body["error_codes"], json!([900144]));
    }

    #[test]
    fn the_audience_is_the_resource_of_the_first_default_scope() {
        assert_eq!(
            audience_of_scope(Some("https://management.azure.com//.default other")).ok(),
            Some("https://management.azure.com".to_string())
        );
        assert_eq!(
            audience_of_scope(Some("https://graph.microsoft.com.default")).ok(),
            Some("https://graph.microsoft.com".to_string())
        );
        for missing in [None, Some("  ")] {
            let (status, body) = error_of(&audience_of_scope(missing).expect_err("refused"));
            assert_eq!(status, 400);
            assert_eq!(body["error"], "invalid_request");
        }
        let (status, body) =
            error_of(&audience_of_scope(Some("https://graph.microsoft.com")).expect_err("refused"));
        assert_eq!(status, 400);
        assert_eq!(body["error"], "invalid_scope");
        assert_eq!(body["error_codes"], json!([1002012]));
    }
}
