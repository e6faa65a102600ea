//! `Microsoft.ApiManagement/service/products/apis`: the link of an API into a
//! product. The PUT takes no body properties; its address names both sides.

use super::{Empty, Placement, arm_spec};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::StageError;

/// ARM resource type.
pub const TYPE: &str = "Microsoft.ApiManagement/service/products/apis";

/// Comparison rules: nothing to compare (the link exists or not).
pub fn rules() -> DiffRules {
    DiffRules::default()
}

/// The spec of a product-API link (`{product}/apis/{api}`); body `{}`.
pub fn spec(at: Placement) -> Result<ResourceSpec, StageError> {
    arm_spec(at, TYPE, &Empty {}, rules(), false)
}
