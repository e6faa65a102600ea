//! `Microsoft.ApiManagement/service/products`: the product grouping the OpenAI API.

use super::{Placement, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;
use serde::Serialize;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.ApiManagement/service/products";

/// PUT body of a product.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    /// Properties.
    pub properties: ProductProperties,
}

/// `properties` of a product.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductProperties {
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: String,
    /// Callers need a subscription key.
    pub subscription_required: bool,
    /// Subscriptions need an administrator's approval.
    pub approval_required: bool,
    /// `published` or `notPublished`.
    pub state: String,
}

impl Product {
    /// A published product that requires a subscription (approved automatically).
    pub fn published(name: &str, description: &str) -> Self {
        Product {
            properties: ProductProperties {
                display_name: name.to_string(),
                description: description.to_string(),
                subscription_required: true,
                approval_required: false,
                state: "published".into(),
            },
        }
    }
}

/// Comparison rules: the state is an enum.
pub fn rules() -> DiffRules {
    DiffRules {
        case_insensitive: super::paths(&["/properties/state"]),
        ..DiffRules::default()
    }
}

/// The spec of a product.
pub fn spec(at: Placement, body: &Product) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, body, rules(), false)
}
