//! `Microsoft.ApiManagement/service/backends`: a single Foundry backend (with TLS
//! validation and, in a pool, a circuit breaker that trips on 429) or a `Pool`
//! backend spreading calls over several by priority and weight.

use super::apim_common::{BuildError, arm_spec, ptrs};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::Ids;
use serde::Serialize;

/// Resource type.
pub const TYPE: &str = "Microsoft.ApiManagement/service/backends";

/// Request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackendBody {
    /// Properties.
    pub properties: BackendProperties,
}

/// `properties` of a backend.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendProperties {
    /// `Single` or `Pool`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Description shown in the portal.
    pub description: String,
    /// Runtime URL (single backends).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `http` (HTTP-based backend; single backends).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Certificate validation (single backends).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<BackendTls>,
    /// Circuit breaker (single backends in a pool).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub circuit_breaker: Option<CircuitBreaker>,
    /// Members (pool backends).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<BackendPool>,
}

/// TLS validation settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendTls {
    /// Validate the certificate chain.
    pub validate_certificate_chain: bool,
    /// Validate the certificate name.
    pub validate_certificate_name: bool,
}

/// Circuit breaker rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CircuitBreaker {
    /// Rules.
    pub rules: Vec<CircuitBreakerRule>,
}

/// One circuit breaker rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CircuitBreakerRule {
    /// Rule name.
    pub name: String,
    /// When it trips.
    pub failure_condition: FailureCondition,
    /// How long it stays open (ISO 8601 duration).
    pub trip_duration: String,
    /// Honour the backend's `Retry-After` instead of `trip_duration`.
    pub accept_retry_after: bool,
}

/// Trip condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureCondition {
    /// Failures within `interval` that trip the breaker.
    pub count: u32,
    /// Counting window (ISO 8601 duration).
    pub interval: String,
    /// Status codes counted as failures.
    pub status_code_ranges: Vec<StatusCodeRange>,
}

/// Inclusive status code range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusCodeRange {
    /// Lowest code.
    pub min: u16,
    /// Highest code.
    pub max: u16,
}

/// Pool members.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackendPool {
    /// Member backends.
    pub services: Vec<PoolService>,
}

/// One pool member.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolService {
    /// ARM ID of the member backend.
    pub id: String,
    /// Priority (lower first), 0..=100.
    pub priority: u32,
    /// Weight within a priority, 0..=100.
    pub weight: u32,
}

/// The circuit breaker of pool members: one 429 within a minute opens the circuit
/// for a minute, or for as long as the backend's `Retry-After` says (seed 002's
/// "fall back for 60 seconds after a 429", done by APIM itself).
pub fn breaker_on_429() -> CircuitBreaker {
    CircuitBreaker {
        rules: vec![CircuitBreakerRule {
            name: "trip-on-429".into(),
            failure_condition: FailureCondition {
                count: 1,
                interval: "PT1M".into(),
                status_code_ranges: vec![StatusCodeRange { min: 429, max: 429 }],
            },
            trip_duration: "PT1M".into(),
            accept_retry_after: true,
        }],
    }
}

fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: ptrs(&[
            "/properties/type",
            "/properties/protocol",
            "/properties/url",
            "/properties/pool/services/*/id",
        ]),
        ..DiffRules::default()
    }
}

/// A single backend `name` with `url`, TLS validation on, and the 429 circuit
/// breaker when `breaker` is set.
pub fn single_backend(
    apim_id: &str,
    name: &str,
    url: String,
    description: String,
    breaker: bool,
    depends_on: Vec<String>,
) -> Result<ResourceSpec, BuildError> {
    let body = BackendBody {
        properties: BackendProperties {
            kind: "Single".into(),
            description,
            url: Some(url),
            protocol: Some("http".into()),
            tls: Some(BackendTls {
                validate_certificate_chain: true,
                validate_certificate_name: true,
            }),
            circuit_breaker: breaker.then(breaker_on_429),
            pool: None,
        },
    };
    arm_spec(
        TYPE,
        Ids::child(apim_id, "backends", name),
        format!("APIM backend {name}"),
        &body,
        rules(),
        depends_on,
    )
}

/// A `Pool` backend over `members` (`(backend ID, priority, weight)`); depends on them.
pub fn pool_backend(
    apim_id: &str,
    name: &str,
    members: Vec<PoolService>,
) -> Result<ResourceSpec, BuildError> {
    let depends: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
    let body = BackendBody {
        properties: BackendProperties {
            kind: "Pool".into(),
            description: "Foundry accounts, by priority and weight; members trip on 429".into(),
            url: None,
            protocol: None,
            tls: None,
            circuit_breaker: None,
            pool: Some(BackendPool { services: members }),
        },
    };
    let mut r = rules();
    r.set_arrays.push("/properties/pool/services".into());
    arm_spec(
        TYPE,
        Ids::child(apim_id, "backends", name),
        format!("APIM backend pool {name}"),
        &body,
        r,
        depends,
    )
}
