//! `Microsoft.DBforPostgreSQL/flexibleServers/databases`.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.DBforPostgreSQL/flexibleServers/databases";

/// PUT body of a database.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Database {
    /// Properties.
    pub properties: DatabaseProperties,
}

/// `properties` of a database.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatabaseProperties {
    /// e.g. `UTF8`.
    pub charset: String,
    /// e.g. `en_US.utf8`.
    pub collation: String,
}

/// Comparison rules: charset and collation are fixed at creation.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&["/properties/charset", "/properties/collation"]),
        immutable: super::paths(&["/properties/charset", "/properties/collation"]),
        ..DiffRules::default()
    }
}

/// The spec of a database (child resource: not taggable).
pub fn spec(at: Placement, body: &Database) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
