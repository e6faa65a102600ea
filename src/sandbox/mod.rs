//! The embedded ARM + Microsoft Graph + token-endpoint emulator.
//!
//! Used through HTTP only: the CLI (`owui-deploy sandbox`), `cloud = "sandbox"`
//! environments and the tests all start it and talk to it over (TLS) HTTP.
