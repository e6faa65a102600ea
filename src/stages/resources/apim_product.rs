//! `Microsoft.ApiManagement/service/products` and the product-API link
//! `Microsoft.ApiManagement/service/products/apis` (a PUT without properties).

use super::apim_common::{BuildError, arm_spec, ptrs};
use crate::engine::{DiffRules, ResourceSpec};
use crate::stages::Ids;
use serde::Serialize;

/// Resource type of a product.
pub const TYPE: &str = "Microsoft.ApiManagement/service/products";
/// Resource type of a product-API link.
pub const LINK_TYPE: &str = "Microsoft.ApiManagement/service/products/apis";

/// Request body of a product.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductBody {
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

/// The body of a product-API link: APIM takes no properties.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmptyBody {}

/// Product `name`: subscription required, published.
pub fn product(apim_id: &str, name: &str) -> Result<ResourceSpec, BuildError> {
    let body = ProductBody {
        properties: ProductProperties {
            display_name: name.to_string(),
            description: "Open WebUI's access to Microsoft Foundry through the AI gateway".into(),
            subscription_required: true,
            approval_required: false,
            state: "published".into(),
        },
    };
    arm_spec(
        TYPE,
        Ids::child(apim_id, "products", name),
        format!("APIM product {name}"),
        &body,
        DiffRules {
            case_insensitive: ptrs(&["/properties/state"]),
            ..DiffRules::default()
        },
        Vec::new(),
    )
}

/// The link of API `api_id` (ARM ID) into product `product_id` (ARM ID).
pub fn product_api(
    product_id: &str,
    api_id: &str,
    api_name: &str,
) -> Result<ResourceSpec, BuildError> {
    arm_spec(
        LINK_TYPE,
        Ids::child(product_id, "apis", api_name),
        format!("APIM product link to API {api_name}"),
        &EmptyBody {},
        DiffRules::default(),
        vec![product_id.to_string(), api_id.to_string()],
    )
}
