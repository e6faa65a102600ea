//! Talking to Azure: authentication, the ARM client with retries and long-running
//! operations, and the Microsoft Graph client. The same code serves real clouds
//! and the sandbox; only endpoints and credentials differ.

pub mod api_versions;
