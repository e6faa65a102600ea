//! Stages: the desired resources of `hub`, `spoke` and `finalize`, built from the
//! environment file. Values that only Azure knows flow as references resolved by
//! the engine from live reads; nobody copies outputs between stages.

pub mod ids;
pub mod resources;

pub use ids::Ids;
pub mod entra;
pub mod finalize;
pub mod openapi;
pub mod policy;
