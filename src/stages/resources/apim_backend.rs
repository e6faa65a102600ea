//! `Microsoft.ApiManagement/service/backends`: a single Foundry backend (TLS
//! validation on; in a pool, a circuit breaker that trips on 429) or a `Pool`
//! backend spreading calls over several by priority and weight.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.ApiManagement/service/backends";

/// PUT body of a backend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backend {
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
    /// `http` (an HTTP-based backend; single backends).
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
/// for a minute, or for as long as the backend's `Retry-After` says. This is seed
/// 002's "fall back to the other instance for 60 seconds after a 429" (and, with
/// equal priorities, its round robin), done by APIM itself.
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

impl Backend {
    /// A single HTTP backend at `url` with TLS validation on, and the 429 circuit
    /// breaker when `breaker` is set.
    pub fn single(url: String, description: String, breaker: bool) -> Self {
        Backend {
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
        }
    }

    /// A `Pool` backend over `members`.
    pub fn pool(description: String, members: Vec<PoolService>) -> Self {
        Backend {
            properties: BackendProperties {
                kind: "Pool".into(),
                description,
                url: None,
                protocol: None,
                tls: None,
                circuit_breaker: None,
                pool: Some(BackendPool { services: members }),
            },
        }
    }
}

/// Comparison rules: enums and IDs case-insensitive; pool members are a set.
pub fn rules() -> DiffRules {
    DiffRules {
        set_arrays: super::paths(&["/properties/pool/services"]),
        case_insensitive: super::paths(&[
            "/properties/type",
            "/properties/protocol",
            "/properties/url",
            "/properties/pool/services/*/id",
        ]),
        ..DiffRules::default()
    }
}

/// The spec of a backend.
pub fn spec(at: Placement, body: &Backend) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
