//! Talking to Azure: authentication, the ARM client with retries and long-running
//! operations, and the Microsoft Graph client. The same code serves real clouds
//! and the sandbox; only endpoints and credentials differ.
//!
//! # Authentication
//!
//! Credentials are `azure_identity` 1.x's, chosen by `--auth` ([`AuthMethod`]):
//!
//! | `--auth` | credential | needs |
//! |---|---|---|
//! | `workload-identity` | `WorkloadIdentityCredential` | `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_ID`, tenant |
//! | `client-secret` | `ClientSecretCredential` | `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`, tenant |
//! | `managed-identity` | `ManagedIdentityCredential` | an identity endpoint (`IDENTITY_ENDPOINT`, `MSI_ENDPOINT` or IMDS); `AZURE_CLIENT_ID` selects a user-assigned identity |
//! | `cli` | `AzureCliCredential` | `az login` |
//! | `auto` (default) | the first of the above that applies | |
//!
//! `auto` picks, in this order: workload identity when `AZURE_FEDERATED_TOKEN_FILE` is set;
//! client secret when `AZURE_CLIENT_SECRET` is set; managed identity when `IDENTITY_ENDPOINT`
//! or `MSI_ENDPOINT` is set; otherwise the Azure CLI. The tenant is `AZURE_TENANT_ID` when
//! set, else `azure.tenant_id` from the environment file. `AZURE_AUTHORITY_HOST` is honoured
//! for the public cloud as the Azure SDKs do; the sovereign clouds and custom clouds use
//! their own authority host.
//!
//! Against the sandbox (`cloud = "sandbox"`, `OWUI_SANDBOX_URL` or `--sandbox-url`), every
//! method uses `ClientSecretCredential` with the sandbox's client ID and secret
//! (`sandbox`/`sandbox`, any tenant): `AZURE_CLIENT_SECRET` and the other Azure credentials
//! are never sent to a sandbox URL.
//! The sandbox serves HTTPS with its own CA; the tool trusts that CA (and only it) for the
//! sandbox, and `azure_identity` gets the sandbox URL as a custom cloud's authority host.
//! So everything above the credential is the same code for Azure and the sandbox.
//!
//! Tokens are cached and refreshed before they expire by `azure_identity` and by
//! `azure_core`'s `BearerTokenAuthorizationPolicy` (5 minutes ahead). A 401 from ARM or
//! Graph, or a failure to get a token, is [`AzureError::Authentication`] naming the
//! credential ([`ChosenCredential::name`]).
//!
//! Scopes are `<audience>/.default` per cloud ([`Endpoints`]): ARM
//! `https://management.azure.com/.default` (public), `https://management.core.usgovcloudapi.net/.default`
//! (US Government), `https://management.core.chinacloudapi.cn/.default` (China), the
//! configured audience for custom clouds; Graph `https://graph.microsoft.com/.default`,
//! `https://graph.microsoft.us/.default`, `https://microsoftgraph.chinacloudapi.cn/.default`.
//!
//! # Requests
//!
//! [`ArmClient`] and [`GraphClient`] send through `azure_core`'s pipeline: a client request
//! ID per call (`x-ms-client-request-id`; `client-request-id` for Graph), the user agent
//! `azsdk-rust-owui-deploy/VERSION (...)` (contains [`USER_AGENT`]), the bearer token policy,
//! and `azure_core`'s exponential retry (408, 429, 500, 502, 503, 504 and broken
//! connections; `Retry-After` in seconds or as an HTTP date, `retry-after-ms`,
//! `x-ms-retry-after-ms`; jitter), bounded by [`ClientSettings`] in count and — with our
//! `RetryGuardPolicy` — strictly in total time. Other 4xx are returned at once as
//! [`AzureError::Api`] with ARM's `code`, `message`, `target`, `details` and the request and
//! correlation IDs. Long-running operations are followed as described in the `lro` module
//! (`Azure-AsyncOperation`, else `Location`, else `provisioningState`), with `azure_core`'s
//! `Poller`. Request bodies and `Authorization` headers are never logged or put in errors
//! (`azure_core`'s logging redacts headers outside its allow list and logs no bodies).

// `AzureError::Api` carries everything an operator needs (code, message, target, details,
// IDs, method, resource): a shared contract larger than clippy's 128-byte threshold. Errors
// are rare next to network round trips, so the size costs nothing that matters.
#![allow(clippy::result_large_err)]

pub mod api_versions;
mod arm;
mod auth;
mod endpoints;
mod error;
mod graph;
mod logs;
mod lro;
mod pipeline;
pub mod pricing;
mod settings;

pub use arm::ArmClient;
pub use auth::{
    AuthMethod, ChosenCredential, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, credential,
};
pub use endpoints::{Endpoints, scope_for};
pub use error::{AzureError, ErrorDetail};
pub use graph::GraphClient;
pub use logs::{LogsClient, LogsColumn, LogsTable, MAX_ROWS};
pub use lro::{DEFAULT_POLL_INTERVAL, MIN_POLL_INTERVAL};
pub use settings::{ClientSettings, LroObserver, NoopObserver, USER_AGENT};
