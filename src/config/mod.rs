//! Environment files: loading, strict validation, and where secrets come from.
//!
//! Secrets never live in an environment file. The PostgreSQL admin password comes
//! from `OWUI_POSTGRES_ADMIN_PASSWORD` or is generated and kept only in Key Vault;
//! the TLS certificate comes from a PFX file path or `OWUI_CERTIFICATE_PFX_BASE64`.

pub mod model;

pub use model::*;
