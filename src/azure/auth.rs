//! Choosing and building the `azure_identity` credential. See the module docs of
//! [`crate::azure`] for the rules.

use super::endpoints::Endpoints;
use super::error::AzureError;
use super::pipeline::{client_options, http_transport};
use super::settings::ClientSettings;
use azure_core::credentials::{Secret, TokenCredential};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};
use std::fmt;
use std::sync::Arc;

/// Client ID the sandbox's token endpoint accepts.
pub const SANDBOX_CLIENT_ID: &str = "sandbox";
/// Client secret the sandbox's token endpoint accepts (not a secret: the sandbox is local).
pub const SANDBOX_CLIENT_SECRET: &str = "sandbox";

/// How to authenticate (`--auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuthMethod {
    /// Workload identity, client secret, managed identity or Azure CLI, from the environment.
    #[default]
    Auto,
    /// The identity logged in to the Azure CLI (`az login`).
    Cli,
    /// Kubernetes / GitHub workload identity federation (`AZURE_FEDERATED_TOKEN_FILE`).
    WorkloadIdentity,
    /// The managed identity of the machine or service the tool runs on.
    ManagedIdentity,
    /// A service principal's client secret (`AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`).
    ClientSecret,
}

/// The credential chosen by [`credential`], with a human name for messages
/// (e.g. a 401 says which credential's token was rejected).
#[derive(Clone)]
pub struct ChosenCredential {
    /// The credential; `azure_identity` caches and refreshes its tokens.
    pub credential: Arc<dyn TokenCredential>,
    /// `azure_identity` type name, e.g. `AzureCliCredential`; for the sandbox's own client,
    /// `ClientSecretCredential (sandbox)`.
    pub name: &'static str,
}

impl fmt::Debug for ChosenCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChosenCredential")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What [`choose`] decided, before anything is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Choice {
    WorkloadIdentity {
        tenant_id: Option<String>,
    },
    ClientSecret {
        client_id: String,
        tenant_id: String,
    },
    SandboxSecret {
        tenant_id: String,
    },
    ManagedIdentity {
        client_id: Option<String>,
    },
    Cli {
        tenant_id: Option<String>,
    },
}

impl Choice {
    fn name(&self) -> &'static str {
        match self {
            Choice::WorkloadIdentity { .. } => "WorkloadIdentityCredential",
            Choice::ClientSecret { .. } => "ClientSecretCredential",
            Choice::SandboxSecret { .. } => "ClientSecretCredential (sandbox)",
            Choice::ManagedIdentity { .. } => "ManagedIdentityCredential",
            Choice::Cli { .. } => "AzureCliCredential",
        }
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// Pure decision from the method, the environment (through `var`) and the endpoints.
pub(crate) fn choose(
    method: AuthMethod,
    is_sandbox: bool,
    tenant_id: &str,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Choice, AzureError> {
    let get = |k: &str| non_empty(var(k));
    let tenant = get("AZURE_TENANT_ID").or_else(|| non_empty(Some(tenant_id.to_string())));
    let secret_choice = |name: &'static str| -> Result<Choice, AzureError> {
        let client_id = get("AZURE_CLIENT_ID").ok_or_else(|| AzureError::Authentication {
            credential: name.to_string(),
            message: "AZURE_CLIENT_SECRET is set but AZURE_CLIENT_ID is not".into(),
        })?;
        let tenant_id = tenant.clone().ok_or_else(|| AzureError::Authentication {
            credential: name.to_string(),
            message: "no tenant: set AZURE_TENANT_ID or azure.tenant_id".into(),
        })?;
        Ok(Choice::ClientSecret {
            client_id,
            tenant_id,
        })
    };
    let has_secret = get("AZURE_CLIENT_SECRET").is_some();
    if is_sandbox {
        // A sandbox never receives an Azure credential, whatever the method or variables.
        return Ok(Choice::SandboxSecret {
            tenant_id: tenant.unwrap_or_else(|| "sandbox".into()),
        });
    }
    match method {
        AuthMethod::Auto => {
            if get("AZURE_FEDERATED_TOKEN_FILE").is_some() {
                Ok(Choice::WorkloadIdentity { tenant_id: tenant })
            } else if has_secret {
                secret_choice("ClientSecretCredential")
            } else if get("IDENTITY_ENDPOINT").is_some() || get("MSI_ENDPOINT").is_some() {
                Ok(Choice::ManagedIdentity {
                    client_id: get("AZURE_CLIENT_ID"),
                })
            } else {
                Ok(Choice::Cli { tenant_id: tenant })
            }
        }
        AuthMethod::ClientSecret => {
            if !has_secret {
                return Err(AzureError::Authentication {
                    credential: "ClientSecretCredential".into(),
                    message: "--auth client-secret needs AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"
                        .into(),
                });
            }
            secret_choice("ClientSecretCredential")
        }
        AuthMethod::WorkloadIdentity => Ok(Choice::WorkloadIdentity { tenant_id: tenant }),
        AuthMethod::ManagedIdentity => Ok(Choice::ManagedIdentity {
            client_id: get("AZURE_CLIENT_ID"),
        }),
        AuthMethod::Cli => Ok(Choice::Cli { tenant_id: tenant }),
    }
}

/// Choose and build the credential (see [`crate::azure`] for the rules).
///
/// `tenant_id` is the environment file's tenant; `AZURE_TENANT_ID` wins over it, as in the
/// Azure SDKs. Credentials that call a token endpoint use the same transport as the
/// clients (so a custom cloud's or the sandbox's CA is trusted) and the default retry
/// settings.
pub fn credential(
    method: AuthMethod,
    endpoints: &Endpoints,
    tenant_id: &str,
) -> Result<ChosenCredential, AzureError> {
    let var = |k: &str| std::env::var(k).ok();
    let choice = choose(method, endpoints.is_sandbox, tenant_id, &var)?;
    let name = choice.name();
    let fail = |e: azure_core::Error| AzureError::Authentication {
        credential: name.to_string(),
        message: e.to_string(),
    };
    let options = || -> Result<azure_core::http::ClientOptions, AzureError> {
        let mut options = client_options(&ClientSettings::default(), None)?;
        options.transport = Some(http_transport(endpoints)?);
        options.cloud = endpoints.cloud_configuration();
        Ok(options)
    };
    let credential: Arc<dyn TokenCredential> = match choice {
        Choice::SandboxSecret { tenant_id } => ClientSecretCredential::new(
            &tenant_id,
            SANDBOX_CLIENT_ID.to_string(),
            Secret::new(SANDBOX_CLIENT_SECRET),
            Some(ClientSecretCredentialOptions {
                client_options: options()?,
            }),
        )
        .map_err(fail)?,
        Choice::ClientSecret {
            client_id,
            tenant_id,
        } => {
            let secret =
                std::env::var("AZURE_CLIENT_SECRET").map_err(|_| AzureError::Authentication {
                    credential: name.to_string(),
                    message: "AZURE_CLIENT_SECRET is not set".into(),
                })?;
            ClientSecretCredential::new(
                &tenant_id,
                client_id,
                Secret::new(secret),
                Some(ClientSecretCredentialOptions {
                    client_options: options()?,
                }),
            )
            .map_err(fail)?
        }
        Choice::WorkloadIdentity { tenant_id } => {
            WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions {
                    client_options: options()?,
                },
                tenant_id,
                client_id: None,
                token_file_path: None,
            }))
            .map_err(fail)?
        }
        Choice::ManagedIdentity { client_id } => {
            let mut client_options = options()?;
            // Managed identity endpoints are local (IMDS, App Service) and plain HTTP;
            // they do not take the cloud's authority.
            client_options.cloud = None;
            ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: client_id.map(UserAssignedId::ClientId),
                client_options,
            }))
            .map_err(fail)?
        }
        Choice::Cli { tenant_id } => AzureCliCredential::new(Some(AzureCliCredentialOptions {
            tenant_id,
            ..Default::default()
        }))
        .map_err(fail)?,
    };
    Ok(ChosenCredential { credential, name })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn auto_prefers_workload_identity_then_secret_then_msi_then_cli() {
        let all = env(&[
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
            ("AZURE_CLIENT_SECRET", "s"),
            ("AZURE_CLIENT_ID", "c"),
            ("IDENTITY_ENDPOINT", "http://localhost"),
        ]);
        assert_eq!(
            choose(AuthMethod::Auto, false, "t", &all).unwrap(),
            Choice::WorkloadIdentity {
                tenant_id: Some("t".into())
            }
        );
        let secret = env(&[
            ("AZURE_CLIENT_SECRET", "s"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_TENANT_ID", "env-tenant"),
            ("MSI_ENDPOINT", "http://localhost"),
        ]);
        assert_eq!(
            choose(AuthMethod::Auto, false, "t", &secret).unwrap(),
            Choice::ClientSecret {
                client_id: "c".into(),
                tenant_id: "env-tenant".into()
            }
        );
        let msi = env(&[
            ("MSI_ENDPOINT", "http://localhost"),
            ("AZURE_CLIENT_ID", "uai"),
        ]);
        assert_eq!(
            choose(AuthMethod::Auto, false, "t", &msi).unwrap(),
            Choice::ManagedIdentity {
                client_id: Some("uai".into())
            }
        );
        assert_eq!(
            choose(AuthMethod::Auto, false, "t", &env(&[])).unwrap(),
            Choice::Cli {
                tenant_id: Some("t".into())
            }
        );
    }

    #[test]
    fn a_sandbox_always_gets_its_own_secret_never_an_azure_credential() {
        assert_eq!(
            choose(AuthMethod::Auto, true, "t", &env(&[])).unwrap(),
            Choice::SandboxSecret {
                tenant_id: "t".into()
            }
        );
        let given = env(&[
            ("AZURE_CLIENT_SECRET", "s"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
        ]);
        for method in [
            AuthMethod::Auto,
            AuthMethod::ClientSecret,
            AuthMethod::WorkloadIdentity,
            AuthMethod::ManagedIdentity,
            AuthMethod::Cli,
        ] {
            assert_eq!(
                choose(method, true, "t", &given).unwrap(),
                Choice::SandboxSecret {
                    tenant_id: "t".into()
                },
                "{method:?}"
            );
        }
    }

    #[test]
    fn secret_without_client_id_or_tenant_is_an_error_naming_the_credential() {
        let err = choose(
            AuthMethod::ClientSecret,
            false,
            "",
            &env(&[("AZURE_CLIENT_SECRET", "s"), ("AZURE_CLIENT_ID", "c")]),
        )
        .unwrap_err();
        assert!(
            matches!(err, AzureError::Authentication { ref credential, .. } if credential == "ClientSecretCredential")
        );
        let err = choose(AuthMethod::ClientSecret, false, "t", &env(&[])).unwrap_err();
        assert!(err.to_string().contains("AZURE_CLIENT_SECRET"));
    }

    #[test]
    fn explicit_methods_are_honoured() {
        assert!(matches!(
            choose(
                AuthMethod::Cli,
                false,
                "t",
                &env(&[("AZURE_CLIENT_SECRET", "s")])
            )
            .unwrap(),
            Choice::Cli { .. }
        ));
        assert!(matches!(
            choose(AuthMethod::ManagedIdentity, false, "t", &env(&[])).unwrap(),
            Choice::ManagedIdentity { client_id: None }
        ));
    }
}
