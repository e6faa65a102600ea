//! Shared helpers of the finalize-stage builders (APIM children, DNS records,
//! diagnostic settings, App Gateway, peering): the ARM API of a type from the single
//! version table, body serialization, and the common `ResourceSpec` shape.

use crate::azure::api_versions::api_version;
use crate::engine::{Address, Api, DiffRules, Mode, ResourceSpec, Stage};
use serde::Serialize;
use std::collections::BTreeSet;

/// Why a finalize builder could not produce a spec.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The resource type has no line in `azure::api_versions`.
    #[error("no pinned API version for {0} in azure::api_versions")]
    MissingApiVersion(String),
    /// The typed body did not serialize (a bug, reported with the type).
    #[error("cannot serialize the body of {type_name}: {source}")]
    Body {
        /// Resource type.
        type_name: String,
        /// serde_json's error.
        source: serde_json::Error,
    },
}

/// `Api::Arm` of `type_name` with its pinned version.
pub fn arm_api(type_name: &str) -> Result<Api, BuildError> {
    let v =
        api_version(type_name).ok_or_else(|| BuildError::MissingApiVersion(type_name.into()))?;
    Ok(Api::Arm {
        type_name: type_name.to_string(),
        api_version: v.to_string(),
    })
}

/// A managed ARM spec of the finalize stage.
pub fn arm_spec<T: Serialize>(
    type_name: &str,
    address: String,
    label: String,
    body: &T,
    rules: DiffRules,
    depends_on: impl IntoIterator<Item = String>,
) -> Result<ResourceSpec, BuildError> {
    let body = serde_json::to_value(body).map_err(|e| BuildError::Body {
        type_name: type_name.into(),
        source: e,
    })?;
    Ok(ResourceSpec {
        address: Address(address),
        label,
        stage: Stage::Finalize,
        api: arm_api(type_name)?,
        body,
        depends_on: depends_on.into_iter().map(Address).collect::<BTreeSet<_>>(),
        rules,
        mode: Mode::Managed,
        serial_key: None,
        taggable: false,
    })
}

/// `{"id": ...}`: a reference to another ARM resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdRef {
    /// The ARM ID.
    pub id: String,
}

impl IdRef {
    /// A reference to `id`.
    pub fn new(id: impl Into<String>) -> Self {
        IdRef { id: id.into() }
    }
}

/// Pointers as owned strings.
pub fn ptrs(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}
