//! Errors of the Azure layer, and parsing of ARM's and Graph's error documents.
//!
//! Errors carry what an operator needs to act (method, resource, status, the service's
//! `code`, `message`, `target`, `details`, request and correlation IDs) and never a request
//! body or an `Authorization` header.

use azure_core::http::{RawResponse, StatusCode, headers::HeaderName};
use std::fmt;
use std::time::Duration;

/// One entry of an error's `details` (ARM) — recursive like ARM's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetail {
    /// Machine-readable code, e.g. `InvalidParameter`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// What the error is about (e.g. a property path), when the service says.
    pub target: Option<String>,
    /// Nested details.
    pub details: Vec<ErrorDetail>,
}

impl ErrorDetail {
    fn from_core(d: &azure_core::error::ErrorDetail) -> Self {
        Self {
            code: d.code.clone().unwrap_or_default(),
            message: d.message.clone().unwrap_or_default(),
            target: d.target.clone(),
            details: d.details.iter().map(Self::from_core).collect(),
        }
    }
}

impl fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(t) = &self.target {
            write!(f, " (target {t})")?;
        }
        Ok(())
    }
}

fn fmt_details(details: &[ErrorDetail]) -> String {
    if details.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = details.iter().map(ToString::to_string).collect();
    format!("; details: {}", parts.join("; "))
}

fn fmt_ids(request_id: &Option<String>, correlation_id: &Option<String>) -> String {
    let mut parts = Vec::new();
    if let Some(r) = request_id {
        parts.push(format!("request-id {r}"));
    }
    if let Some(c) = correlation_id {
        parts.push(format!("correlation-id {c}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" [{}]", parts.join(", "))
    }
}

fn reason(status: u16) -> String {
    StatusCode::from(status).canonical_reason().into_owned()
}

/// An error talking to ARM or Microsoft Graph.
#[derive(Debug, thiserror::Error)]
pub enum AzureError {
    /// The service answered with an error status that is not retried (or no longer).
    #[error(
        "{method} {resource}: {status} {reason} (code {code}): {message}{target}{details}{ids}",
        reason = reason(*status),
        target = target.as_ref().map(|t| format!(" (target {t})")).unwrap_or_default(),
        details = fmt_details(details),
        ids = fmt_ids(request_id, correlation_id)
    )]
    Api {
        /// HTTP status.
        status: u16,
        /// The service's error code (ARM `error.code`, Graph `error.code`), or the status
        /// reason when the body had none.
        code: String,
        /// The service's error message.
        message: String,
        /// ARM's `error.target`.
        target: Option<String>,
        /// ARM's `error.details`.
        details: Vec<ErrorDetail>,
        /// `x-ms-request-id` (ARM) or `request-id` (Graph).
        request_id: Option<String>,
        /// `x-ms-correlation-request-id` (ARM) or `client-request-id` (Graph).
        correlation_id: Option<String>,
        /// HTTP method.
        method: String,
        /// Resource ID or path (no query string).
        resource: String,
    },
    /// No token could be acquired, or the service rejected it (401).
    #[error("authentication failed with {credential}: {message}")]
    Authentication {
        /// Human name of the credential used (e.g. `AzureCliCredential`).
        credential: String,
        /// What went wrong.
        message: String,
    },
    /// The request could not be sent or the connection broke.
    #[error("{resource}: transport error: {message}")]
    Transport {
        /// Resource ID, path or endpoint.
        resource: String,
        /// What went wrong.
        message: String,
    },
    /// A long-running operation ended `Failed` or `Canceled`.
    #[error("{resource}: operation failed (code {code}): {message}{details}", details = fmt_details(details))]
    OperationFailed {
        /// Resource ID.
        resource: String,
        /// The operation's error code (or its terminal status when it gave none).
        code: String,
        /// The operation's error message.
        message: String,
        /// The operation's error details.
        details: Vec<ErrorDetail>,
    },
    /// A long-running operation did not finish in time.
    #[error("{resource}: gave up waiting for the operation after {waited:?}")]
    Timeout {
        /// Resource ID.
        resource: String,
        /// How long we waited.
        waited: Duration,
    },
    /// Retries (429, 5xx, broken connections) used up their count or time budget.
    #[error("{resource}: giving up after {attempts} attempts: {last}")]
    RetriesExhausted {
        /// Resource ID or path.
        resource: String,
        /// Attempts made, the first included.
        attempts: u32,
        /// The error of the last attempt.
        last: Box<AzureError>,
    },
    /// The service answered something we cannot interpret.
    #[error("{resource}: unexpected response: {message}")]
    InvalidResponse {
        /// Resource ID or path.
        resource: String,
        /// What was unexpected.
        message: String,
    },
}

impl AzureError {
    /// The service's error code (ARM/Graph `code`, an operation's error code).
    pub fn code(&self) -> Option<&str> {
        match self {
            AzureError::Api { code, .. } | AzureError::OperationFailed { code, .. } => Some(code),
            AzureError::RetriesExhausted { last, .. } => last.code(),
            _ => None,
        }
    }

    /// The HTTP status of the failed request, when the service answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            AzureError::Api { status, .. } => Some(*status),
            AzureError::RetriesExhausted { last, .. } => last.status(),
            _ => None,
        }
    }

    /// True for a 404 (resource, resource group or parent not found).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Why this error is Azure making an earlier write visible late, when it is one of
    /// the documented replication or propagation delays (see docs/troubleshooting.md,
    /// "Delays retried automatically"); the caller retries the write with bounded backoff.
    ///
    /// - Microsoft Graph: a create (`POST`) that references an object created moments
    ///   ago answers `404 Request_ResourceNotFound`, or `400 Request_BadRequest` "...
    ///   does not reference a valid application object" (`NoBackingApplicationObject`).
    /// - Container Apps: `InvalidParameterValueInContainerTemplate` "Unable to get value
    ///   using Managed identity ..." while a Key Vault role assignment propagates.
    /// - Application Gateway: an operation ending `ApplicationGatewayKeyVaultSecretException`
    ///   with `ApplicationGatewayKeyVaultSecretAccessDenied` (its identity's new Key Vault
    ///   role not effective yet).
    pub fn propagation_delay(&self) -> Option<&'static str> {
        match self {
            AzureError::RetriesExhausted { last, .. } => last.propagation_delay(),
            AzureError::Api {
                status,
                code,
                message,
                details,
                method,
                ..
            } => api_propagation_delay(*status, code, message, details, method),
            AzureError::OperationFailed { code, details, .. } => {
                let denied = code == "ApplicationGatewayKeyVaultSecretException"
                    && (details.is_empty()
                        || has_detail(details, "ApplicationGatewayKeyVaultSecretAccessDenied"));
                denied.then_some(
                    "ApplicationGatewayKeyVaultSecretAccessDenied: the gateway identity's Key Vault role is not effective yet",
                )
            }
            _ => None,
        }
    }
}

/// [`AzureError::propagation_delay`] for an error answer.
fn api_propagation_delay(
    status: u16,
    code: &str,
    message: &str,
    details: &[ErrorDetail],
    method: &str,
) -> Option<&'static str> {
    let graph_create = method.eq_ignore_ascii_case("POST");
    if graph_create && status == 404 && code == "Request_ResourceNotFound" {
        return Some("Request_ResourceNotFound: the directory has not replicated a new object yet");
    }
    if graph_create
        && status == 400
        && code == "Request_BadRequest"
        && (message.contains("does not reference a valid application object")
            || has_detail(details, "NoBackingApplicationObject"))
    {
        return Some(
            "Request_BadRequest (NoBackingApplicationObject): the new application is not replicated yet",
        );
    }
    if status == 400
        && code == "InvalidParameterValueInContainerTemplate"
        && message.contains("Unable to get value using Managed identity")
    {
        return Some(
            "InvalidParameterValueInContainerTemplate: the identity's Key Vault role is not effective yet",
        );
    }
    None
}

/// Whether `details` (at any depth) holds `code`.
fn has_detail(details: &[ErrorDetail], code: &str) -> bool {
    details
        .iter()
        .any(|d| d.code == code || has_detail(&d.details, code))
}

/// Which headers carry the request and correlation IDs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdHeaders {
    pub request_id: &'static str,
    pub correlation_id: &'static str,
}

/// ARM: `x-ms-request-id`, `x-ms-correlation-request-id`.
pub(crate) const ARM_ID_HEADERS: IdHeaders = IdHeaders {
    request_id: "x-ms-request-id",
    correlation_id: "x-ms-correlation-request-id",
};

/// Graph: `request-id`, `client-request-id`.
pub(crate) const GRAPH_ID_HEADERS: IdHeaders = IdHeaders {
    request_id: "request-id",
    correlation_id: "client-request-id",
};

/// The service's error document, in the shapes ARM and Graph use:
/// `{"error": {code, message, target, details, innerError}}`, or (some resource
/// providers, operation status documents) the detail object at the top level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedError {
    pub code: Option<String>,
    pub message: Option<String>,
    pub target: Option<String>,
    pub details: Vec<ErrorDetail>,
    /// Graph's `innerError.request-id`.
    pub inner_request_id: Option<String>,
}

/// Parse an error body; `None` when it is not one of the known shapes.
pub(crate) fn parse_error_body(body: &[u8]) -> Option<ParsedError> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let detail_value = match value.get("error") {
        Some(e) if e.is_object() => e.clone(),
        _ => value,
    };
    parse_detail_value(&detail_value)
}

/// Parse one ARM/Graph error object (`{code, message, target, details}`).
pub(crate) fn parse_detail_value(value: &serde_json::Value) -> Option<ParsedError> {
    let detail: azure_core::error::ErrorDetail = serde_json::from_value(value.clone()).ok()?;
    if detail.code.is_none() && detail.message.is_none() {
        return None;
    }
    let inner_request_id = ["innerError", "innererror"]
        .iter()
        .find_map(|k| value.get(*k))
        .and_then(|inner| inner.get("request-id"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let converted = ErrorDetail::from_core(&detail);
    Some(ParsedError {
        code: detail.code,
        message: detail.message,
        target: detail.target,
        details: converted.details,
        inner_request_id,
    })
}

fn header(resp: &RawResponse, name: &'static str) -> Option<String> {
    resp.headers()
        .get_optional_str(&HeaderName::from_static(name))
        .map(str::to_string)
}

/// Build an [`AzureError::Api`] from an error response.
pub(crate) fn api_error(
    resp: &RawResponse,
    method: &str,
    resource: &str,
    ids: IdHeaders,
) -> AzureError {
    let status: u16 = resp.status().into();
    let body: &[u8] = resp.body().as_ref();
    let parsed = parse_error_body(body);
    let header_code = header(resp, "x-ms-error-code");
    let (code, message, target, details, inner_id) = match parsed {
        Some(p) => (
            p.code.or(header_code),
            p.message,
            p.target,
            p.details,
            p.inner_request_id,
        ),
        None => (header_code, None, None, Vec::new(), None),
    };
    let message = message.unwrap_or_else(|| {
        if body.is_empty() {
            "(no error body)".to_string()
        } else {
            // A body we cannot parse (a gateway's HTML page, say): say how large it was
            // rather than echo it, as a response may repeat values of the request.
            format!("(unparsed error body of {} bytes)", body.len())
        }
    });
    AzureError::Api {
        status,
        code: code.unwrap_or_else(|| reason(status).replace(' ', "")),
        message,
        target,
        details,
        request_id: header(resp, ids.request_id).or(inner_id),
        correlation_id: header(resp, ids.correlation_id),
        method: method.to_string(),
        resource: resource.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::http::headers::Headers;

    fn response(status: u16, headers: &[(&'static str, &'static str)], body: &str) -> RawResponse {
        let mut h = Headers::new();
        for (k, v) in headers {
            h.insert(*k, *v);
        }
        RawResponse::from_bytes(StatusCode::from(status), h, body.to_string())
    }

    #[test]
    fn arm_error_with_target_and_details() {
        let body = r#"{"error":{"code":"InvalidTemplate","message":"Bad request","target":"properties.subnets",
            "details":[{"code":"InvalidCidr","message":"10.0.0.0/33 is not valid","target":"properties.subnets[0]"}]}}"#;
        let resp = response(
            400,
            &[
                ("x-ms-request-id", "req-1"),
                ("x-ms-correlation-request-id", "corr-1"),
            ],
            body,
        );
        let err = api_error(&resp, "PUT", "/subscriptions/s/rg/x", ARM_ID_HEADERS);
        assert_eq!(err.code(), Some("InvalidTemplate"));
        assert_eq!(err.status(), Some(400));
        let AzureError::Api {
            target, details, ..
        } = &err
        else {
            panic!("not Api: {err:?}")
        };
        assert_eq!(target.as_deref(), Some("properties.subnets"));
        assert_eq!(details.len(), 1);
        assert_eq!(details[0].code, "InvalidCidr");
        assert_eq!(details[0].target.as_deref(), Some("properties.subnets[0]"));
        let text = err.to_string();
        assert!(
            text.starts_with(
                "PUT /subscriptions/s/rg/x: 400 Bad Request (code InvalidTemplate): Bad request"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("[request-id req-1, correlation-id corr-1]"),
            "{text}"
        );
        assert!(
            text.contains("InvalidCidr: 10.0.0.0/33 is not valid"),
            "{text}"
        );
    }

    #[test]
    fn conflict_display_matches_documented_form() {
        let resp = response(
            409,
            &[
                ("x-ms-request-id", "X"),
                ("x-ms-correlation-request-id", "Y"),
            ],
            r#"{"error":{"code":"AnotherOperationInProgress","message":"busy"}}"#,
        );
        let err = api_error(&resp, "PUT", "/subscriptions/s/vnet-hub", ARM_ID_HEADERS);
        assert_eq!(
            err.to_string(),
            "PUT /subscriptions/s/vnet-hub: 409 Conflict (code AnotherOperationInProgress): busy [request-id X, correlation-id Y]"
        );
    }

    #[test]
    fn top_level_error_shape() {
        let resp = response(404, &[], r#"{"code":"ResourceNotFound","message":"gone"}"#);
        let err = api_error(&resp, "GET", "/x", ARM_ID_HEADERS);
        assert_eq!(err.code(), Some("ResourceNotFound"));
        assert!(err.is_not_found());
    }

    #[test]
    fn graph_error_shape() {
        let body = r#"{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist",
            "innerError":{"date":"2024-01-01T00:00:00","request-id":"g-req","client-request-id":"g-client"}}}"#;
        let resp = response(404, &[("client-request-id", "g-client")], body);
        let err = api_error(&resp, "GET", "/v1.0/applications/x", GRAPH_ID_HEADERS);
        let AzureError::Api {
            code,
            request_id,
            correlation_id,
            ..
        } = &err
        else {
            panic!()
        };
        assert_eq!(code, "Request_ResourceNotFound");
        assert_eq!(request_id.as_deref(), Some("g-req"));
        assert_eq!(correlation_id.as_deref(), Some("g-client"));
    }

    #[test]
    fn unparseable_body_is_not_echoed() {
        let resp = response(502, &[], "<html>secret-ish gateway page</html>");
        let err = api_error(&resp, "GET", "/x", ARM_ID_HEADERS);
        assert_eq!(err.code(), Some("BadGateway"));
        assert!(!err.to_string().contains("secret-ish"));
    }

    fn api(status: u16, code: &str, message: &str, method: &str) -> AzureError {
        AzureError::Api {
            status,
            code: code.into(),
            message: message.into(),
            target: None,
            details: Vec::new(),
            request_id: None,
            correlation_id: None,
            method: method.into(),
            resource: "/x".into(),
        }
    }

    #[test]
    fn replication_and_propagation_delays_are_recognised_narrowly() {
        let sp =
            "The appId 'a' of the service principal does not reference a valid application object.";
        assert!(
            api(400, "Request_BadRequest", sp, "POST")
                .propagation_delay()
                .is_some()
        );
        // Another Request_BadRequest is a real error.
        let other = api(
            400,
            "Request_BadRequest",
            "Property 'x' is invalid.",
            "POST",
        );
        assert!(other.propagation_delay().is_none());
        let mut by_detail = other;
        if let AzureError::Api { details, .. } = &mut by_detail {
            details.push(ErrorDetail {
                code: "NoBackingApplicationObject".into(),
                message: String::new(),
                target: Some("appId".into()),
                details: Vec::new(),
            });
        }
        assert!(by_detail.propagation_delay().is_some());
        // A 404 on a Graph create, not on a read or an update.
        let gone = "Resource 'x' does not exist or one of its queried reference-property objects are not present.";
        assert!(
            api(404, "Request_ResourceNotFound", gone, "POST")
                .propagation_delay()
                .is_some()
        );
        for method in ["GET", "PATCH"] {
            assert!(
                api(404, "Request_ResourceNotFound", gone, method)
                    .propagation_delay()
                    .is_none()
            );
        }
        let aca = "Field 'configuration.secrets' is invalid with details: 'Invalid value: \"db\": Unable to get value using Managed identity system for secret db.";
        assert!(
            api(400, "InvalidParameterValueInContainerTemplate", aca, "PUT")
                .propagation_delay()
                .is_some()
        );
        assert!(
            api(
                400,
                "InvalidParameterValueInContainerTemplate",
                "Field 'template.containers' is invalid",
                "PUT"
            )
            .propagation_delay()
            .is_none()
        );
        let agw = |detail: &str| AzureError::OperationFailed {
            resource: "/agw".into(),
            code: "ApplicationGatewayKeyVaultSecretException".into(),
            message: "Problem occured while accessing and validating KeyVault Secrets".into(),
            details: vec![ErrorDetail {
                code: detail.into(),
                message: String::new(),
                target: None,
                details: Vec::new(),
            }],
        };
        assert!(
            agw("ApplicationGatewayKeyVaultSecretAccessDenied")
                .propagation_delay()
                .is_some()
        );
        assert!(
            agw("ApplicationGatewayKeyVaultSecretMalformed")
                .propagation_delay()
                .is_none()
        );
        let exhausted = AzureError::RetriesExhausted {
            resource: "/x".into(),
            attempts: 2,
            last: Box::new(api(400, "Request_BadRequest", sp, "POST")),
        };
        assert!(exhausted.propagation_delay().is_some());
        assert!(
            api(400, "PrincipalNotFound", "x", "PUT")
                .propagation_delay()
                .is_none()
        );
    }

    #[test]
    fn retries_exhausted_delegates_code_and_status() {
        let last = api_error(
            &response(
                429,
                &[],
                r#"{"error":{"code":"TooManyRequests","message":"slow down"}}"#,
            ),
            "GET",
            "/x",
            ARM_ID_HEADERS,
        );
        let err = AzureError::RetriesExhausted {
            resource: "/x".into(),
            attempts: 3,
            last: Box::new(last),
        };
        assert_eq!(err.code(), Some("TooManyRequests"));
        assert_eq!(err.status(), Some(429));
        assert!(err.to_string().contains("giving up after 3 attempts"));
    }
}
