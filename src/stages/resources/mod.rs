//! Typed request bodies, one file per resource type. Each file holds the serde
//! structs of the body ARM (or Graph) expects and a builder returning a
//! [`crate::engine::ResourceSpec`]. Its API version comes from the single table
//! in [`crate::azure::api_versions`].
