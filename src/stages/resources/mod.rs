//! Typed request bodies, one file per resource type. Each file holds the serde
//! structs of the body ARM (or Graph) expects and a builder returning a
//! [`crate::engine::ResourceSpec`]. Its API version comes from the single table
//! in [`crate::azure::api_versions`].

pub mod apim_api;
pub mod apim_backend;
pub mod apim_common;
pub mod apim_diagnostic;
pub mod apim_logger;
pub mod apim_named_value;
pub mod apim_product;
pub mod app_gateway;
pub mod diagnostic_setting;
pub mod dns_record;
pub mod graph_application;
pub mod graph_permission_grant;
pub mod graph_service_principal;
pub mod vnet_peering_hub;
