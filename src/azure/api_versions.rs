//! The single table of pinned API versions: one per resource type. Every version
//! here exists in `../shared/arm-schemas/` (a test checks it).
//!
//! Adding a resource type means one typed builder file in `stages::resources`
//! and one line here.

/// `(resource type, api-version)`, resource types in ARM's canonical casing.
pub const API_VERSIONS: &[(&str, &str)] = &[("Microsoft.Resources/resourceGroups", "2024-11-01")];

/// The pinned API version of `type_name` (compared case-insensitively).
pub fn api_version(type_name: &str) -> Option<&'static str> {
    API_VERSIONS
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(type_name))
        .map(|(_, v)| *v)
}
