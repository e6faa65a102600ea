//! `Microsoft.Network/routeTables`, with routes declared inline.

use super::{Placement, Tags, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::{Deserialize, Serialize};

/// ARM resource type.
pub const TYPE: &str = "Microsoft.Network/routeTables";

/// PUT body of a route table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteTable {
    /// Region.
    pub location: String,
    /// Tags.
    pub tags: Tags,
    /// Properties.
    pub properties: RouteTableProperties,
}

/// `properties` of a route table.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteTableProperties {
    /// Every route.
    pub routes: Vec<Route>,
}

/// One route.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    /// Route name.
    pub name: String,
    /// Route properties.
    pub properties: RouteProperties,
}

/// `properties` of a route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteProperties {
    /// Destination prefix or service tag (e.g. `ApiManagement`).
    pub address_prefix: String,
    /// `Internet`, `VirtualAppliance`, ...
    pub next_hop_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteEntry {
    name: String,
    address_prefix: String,
    next_hop_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFile {
    route: Vec<RouteEntry>,
}

/// Parses a route file (`[[route]]` tables). `file` names the file in errors.
pub fn routes_from_toml(text: &str, file: &str) -> Result<Vec<Route>, StageError> {
    let parsed: RouteFile = toml::from_str(text).map_err(|e| StageError::Template {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    Ok(parsed
        .route
        .into_iter()
        .map(|r| Route {
            name: r.name,
            properties: RouteProperties {
                address_prefix: r.address_prefix,
                next_hop_type: r.next_hop_type,
            },
        })
        .collect())
}

/// Comparison rules: routes matched by name.
pub fn rules() -> DiffRules {
    DiffRules {
        set_arrays: super::paths(&["/properties/routes"]),
        case_insensitive: super::paths(&["/properties/routes/*/properties/nextHopType"]),
        ..DiffRules::default()
    }
}

/// The spec of a route table.
pub fn spec(at: Placement, body: &RouteTable) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), true)
}
