//! Where to talk to: Resource Manager, Microsoft Graph and the token authority of a cloud,
//! with the OAuth scopes that go with them.

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use std::sync::Arc;

const PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com";
const US_GOV_AUTHORITY: &str = "https://login.microsoftonline.us";
const CHINA_AUTHORITY: &str = "https://login.chinacloudapi.cn";

/// The endpoints of one cloud and the scopes tokens are requested for.
///
/// The scopes follow the Azure SDKs: `<audience>/.default`, where the Resource Manager
/// audience of sovereign clouds differs from its endpoint
/// (`https://management.core.usgovcloudapi.net` for `https://management.usgovcloudapi.net`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Resource Manager base URL, without a trailing slash (`https://management.azure.com`).
    pub resource_manager: String,
    /// Microsoft Graph base URL, without a trailing slash (`https://graph.microsoft.com`).
    pub graph: String,
    /// Entra ID authority host (`https://login.microsoftonline.com`).
    pub authority: String,
    /// OAuth scope of Resource Manager tokens (`https://management.azure.com/.default`).
    pub arm_scope: String,
    /// OAuth scope of Microsoft Graph tokens (`https://graph.microsoft.com/.default`).
    pub graph_scope: String,
    /// Azure Monitor Logs query API base URL (`https://api.loganalytics.io`); `None`
    /// where the cloud has none the tool knows (custom clouds).
    pub log_analytics: Option<String>,
    /// OAuth scope of Logs query tokens (`https://api.loganalytics.io/.default`).
    pub log_analytics_scope: String,
    /// PEM of an extra CA certificate to trust (the sandbox's CA, a private cloud's CA).
    pub extra_ca_pem: Option<String>,
    /// True for the embedded sandbox: its CA is the only one trusted, the default
    /// credential is the sandbox's client secret, and LRO poll intervals may be short
    /// (the sandbox scales its durations down).
    pub is_sandbox: bool,
}

fn trim(url: &str) -> String {
    url.trim_end_matches('/').to_string()
}

/// `<audience>/.default`, the scope Entra ID expects for a resource.
pub fn scope_for(audience: &str) -> String {
    format!("{}/.default", audience.trim_end_matches('/'))
}

impl Endpoints {
    /// Azure public cloud.
    pub fn azure_public() -> Self {
        Self {
            resource_manager: "https://management.azure.com".into(),
            graph: "https://graph.microsoft.com".into(),
            authority: PUBLIC_AUTHORITY.into(),
            arm_scope: scope_for("https://management.azure.com"),
            graph_scope: scope_for("https://graph.microsoft.com"),
            log_analytics: Some("https://api.loganalytics.io".into()),
            log_analytics_scope: scope_for("https://api.loganalytics.io"),
            extra_ca_pem: None,
            is_sandbox: false,
        }
    }

    /// Azure US Government.
    pub fn us_government() -> Self {
        Self {
            resource_manager: "https://management.usgovcloudapi.net".into(),
            graph: "https://graph.microsoft.us".into(),
            authority: US_GOV_AUTHORITY.into(),
            arm_scope: scope_for("https://management.core.usgovcloudapi.net"),
            graph_scope: scope_for("https://graph.microsoft.us"),
            log_analytics: Some("https://api.loganalytics.us".into()),
            log_analytics_scope: scope_for("https://api.loganalytics.us"),
            extra_ca_pem: None,
            is_sandbox: false,
        }
    }

    /// Azure China (21Vianet).
    pub fn china() -> Self {
        Self {
            resource_manager: "https://management.chinacloudapi.cn".into(),
            graph: "https://microsoftgraph.chinacloudapi.cn".into(),
            authority: CHINA_AUTHORITY.into(),
            arm_scope: scope_for("https://management.core.chinacloudapi.cn"),
            graph_scope: scope_for("https://microsoftgraph.chinacloudapi.cn"),
            log_analytics: Some("https://api.loganalytics.azure.cn".into()),
            log_analytics_scope: scope_for("https://api.loganalytics.azure.cn"),
            extra_ca_pem: None,
            is_sandbox: false,
        }
    }

    /// The embedded sandbox at `url` (`https://127.0.0.1:PORT`), which serves the token
    /// endpoint, ARM, Graph (under `/v1.0`) and the Logs query API (under `/v1/workspaces`) from one base URL with a certificate signed by
    /// `ca_pem`. Scopes are the public cloud's, as the sandbox emulates it.
    pub fn sandbox(url: &str, ca_pem: String) -> Self {
        let base = trim(url);
        Self {
            resource_manager: base.clone(),
            graph: base.clone(),
            authority: base.clone(),
            arm_scope: scope_for("https://management.azure.com"),
            graph_scope: scope_for("https://graph.microsoft.com"),
            log_analytics: Some(base),
            log_analytics_scope: scope_for("https://api.loganalytics.io"),
            extra_ca_pem: Some(ca_pem),
            is_sandbox: true,
        }
    }

    /// Custom endpoints (Azure Stack Hub, private clouds). `arm_audience` defaults to
    /// `resource_manager`; `ca_pem` is an extra CA trusted besides the system's.
    pub fn custom(
        resource_manager: &str,
        graph: &str,
        authority: &str,
        arm_audience: Option<&str>,
        ca_pem: Option<String>,
    ) -> Self {
        Self {
            resource_manager: trim(resource_manager),
            graph: trim(graph),
            authority: trim(authority),
            arm_scope: scope_for(arm_audience.unwrap_or(resource_manager)),
            graph_scope: scope_for(graph),
            log_analytics: None,
            log_analytics_scope: scope_for("https://api.loganalytics.io"),
            extra_ca_pem: ca_pem,
            is_sandbox: false,
        }
    }

    /// URL of the Azure Retail Prices API: the sandbox's own route
    /// (`{base}/api/retail/prices`, sample prices) for the sandbox, otherwise the public
    /// API, which serves every cloud's commercial prices (it needs no credential).
    pub fn retail_prices(&self) -> String {
        if self.is_sandbox {
            format!("{}/api/retail/prices", self.resource_manager)
        } else {
            super::pricing::RETAIL_PRICES_URL.to_string()
        }
    }

    /// The `azure_identity` cloud configuration for these endpoints.
    ///
    /// `None` for the public cloud, so that `AZURE_AUTHORITY_HOST` is honoured as the
    /// Azure SDKs do; the well-known sovereign clouds by name; anything else (custom clouds,
    /// the sandbox) as a custom configuration with our authority host.
    pub fn cloud_configuration(&self) -> Option<Arc<CloudConfiguration>> {
        let authority = self.authority.trim_end_matches('/');
        if self.is_sandbox {
            return Some(Arc::new(custom_cloud(authority)));
        }
        match authority {
            PUBLIC_AUTHORITY => None,
            US_GOV_AUTHORITY => Some(Arc::new(CloudConfiguration::AzureGovernment)),
            CHINA_AUTHORITY => Some(Arc::new(CloudConfiguration::AzureChina)),
            other => Some(Arc::new(custom_cloud(other))),
        }
    }
}

fn custom_cloud(authority: &str) -> CloudConfiguration {
    let mut custom = CustomConfiguration::default();
    custom.authority_host = authority.to_string();
    custom.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_per_cloud() {
        assert_eq!(
            Endpoints::azure_public().arm_scope,
            "https://management.azure.com/.default"
        );
        assert_eq!(
            Endpoints::us_government().arm_scope,
            "https://management.core.usgovcloudapi.net/.default"
        );
        assert_eq!(
            Endpoints::china().graph_scope,
            "https://microsoftgraph.chinacloudapi.cn/.default"
        );
        let c = Endpoints::custom(
            "https://management.local.azurestack.external/",
            "https://graph.local/",
            "https://login.local/",
            Some("https://management.adfs.azurestack.local/abc/"),
            None,
        );
        assert_eq!(
            c.resource_manager,
            "https://management.local.azurestack.external"
        );
        assert_eq!(
            c.arm_scope,
            "https://management.adfs.azurestack.local/abc/.default"
        );
        assert_eq!(c.graph_scope, "https://graph.local/.default");
    }

    #[test]
    fn cloud_configuration_per_cloud() {
        assert_eq!(Endpoints::azure_public().cloud_configuration(), None);
        assert_eq!(
            Endpoints::china().cloud_configuration().as_deref(),
            Some(&CloudConfiguration::AzureChina)
        );
        match Endpoints::sandbox("https://127.0.0.1:4443/", "pem".into())
            .cloud_configuration()
            .as_deref()
        {
            Some(CloudConfiguration::Custom(c)) => {
                assert_eq!(c.authority_host, "https://127.0.0.1:4443")
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
