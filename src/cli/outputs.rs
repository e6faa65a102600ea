//! `owui-deploy outputs`: what a person needs next (Open WebUI URL, APIM gateway
//! and API base URLs, Entra app ID, the admin-consent URL while consent is
//! pending, the App Gateway public IP), read from Azure on every run. Nothing is
//! cached locally: a resource that does not exist is reported as not deployed,
//! naming the stage that creates it.

use super::args::{Cli, OutputFormat};
use super::session::Session;
use crate::engine::{Address, Api, Backend, Stage};
use crate::stages::entra;
use crate::stages::finalize::{self, API_PATH};
use crate::stages::resources::graph_application;
use anyhow::{Context, Result};
use serde_json::{Map, Value, json};
use std::process::ExitCode;

/// One output: its value when deployed, else the stage that provides it.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputValue {
    /// Read from Azure.
    Value(String),
    /// Nothing to show: the value is not applicable (e.g. consent already granted).
    Unavailable(String),
    /// The resource does not exist yet.
    NotDeployed(Stage),
}

/// One line of `outputs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Machine key (JSON), e.g. `open_webui_url`.
    pub key: &'static str,
    /// Human label.
    pub label: &'static str,
    /// The value.
    pub value: OutputValue,
}

/// `owui-deploy outputs`.
pub(super) async fn run(cli: &Cli) -> Result<ExitCode> {
    let loaded = match super::deploy::load_env(cli)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let session = Session::open(loaded, cli.auth, cli.sandbox_url.as_deref()).await?;
    let result = collect(&session).await;
    session.close().await;
    let outputs = result?;
    match cli.output {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&to_json(&outputs))?)?,
        OutputFormat::Human => out!("{}", render_human(&outputs))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn arm(type_name: &str) -> Result<Api> {
    let api_version = crate::azure::api_versions::api_version(type_name)
        .with_context(|| format!("no pinned API version for {type_name}"))?;
    Ok(Api::Arm {
        type_name: type_name.to_string(),
        api_version: api_version.to_string(),
    })
}

fn graph(kind: &str) -> Api {
    Api::Graph { kind: kind.into() }
}

async fn read(backend: &dyn Backend, address: String, api: Api) -> Result<Option<Value>> {
    backend
        .read(&Address::from(address.as_str()), &api)
        .await
        .with_context(|| format!("cannot read {address}"))
}

fn text_at(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Null => None,
        Value::String(_) => None,
        other => Some(other.to_string()),
    }
}

/// Reads every output from Azure (reads only, concurrently where independent).
async fn collect(session: &Session) -> Result<Vec<Output>> {
    let env = &session.loaded.env;
    let live = read_live(session).await?;
    let (gw, base) = apim_urls(live.apim.as_ref());
    let app_id = live.app.as_ref().and_then(|a| text_at(a, "/appId"));
    Ok(vec![
        Output {
            key: "open_webui_url",
            label: "Open WebUI URL",
            value: open_webui_url(live.gateway.as_ref(), &env.domain.custom_domain),
        },
        Output {
            key: "apim_gateway_url",
            label: "APIM gateway URL",
            value: gw,
        },
        Output {
            key: "api_base_url",
            label: "API base URL",
            value: base,
        },
        Output {
            key: "entra_app_id",
            label: "Entra application (client) ID",
            value: match &app_id {
                Some(id) => OutputValue::Value(id.clone()),
                None => OutputValue::NotDeployed(Stage::Spoke),
            },
        },
        Output {
            key: "consent_url",
            label: "Admin consent URL",
            value: consent(session, app_id.as_deref()).await?,
        },
        Output {
            key: "app_gateway_public_ip",
            label: "App Gateway public IP (DNS A record)",
            value: public_ip_address(live.public_ip.as_ref()),
        },
    ])
}

/// The live resources the outputs come from (`None`: not deployed).
struct Live {
    /// The API Management service.
    apim: Option<Value>,
    /// The Application Gateway.
    gateway: Option<Value>,
    /// The Application Gateway's public IP address.
    public_ip: Option<Value>,
    /// The Entra application.
    app: Option<Value>,
}

/// Reads the resources behind the outputs, concurrently.
async fn read_live(session: &Session) -> Result<Live> {
    let env = &session.loaded.env;
    let backend: &dyn Backend = session.backend.as_ref();
    let refs = finalize::finalize_refs(env)?;
    let app_address = entra::application_address(env);
    let (apim, gateway, public_ip, app) = futures::try_join!(
        read(
            backend,
            refs.apim_id.clone(),
            arm("Microsoft.ApiManagement/service")?
        ),
        read(
            backend,
            refs.app_gateway_id.clone(),
            arm("Microsoft.Network/applicationGateways")?
        ),
        read(
            backend,
            refs.appgw_public_ip_id.clone(),
            arm("Microsoft.Network/publicIPAddresses")?
        ),
        read(backend, app_address, graph(graph_application::KIND)),
    )?;
    Ok(Live {
        apim,
        gateway,
        public_ip,
        app,
    })
}

/// Open WebUI is reached through the App Gateway's listener for the custom domain.
fn open_webui_url(gateway: Option<&Value>, custom_domain: &str) -> OutputValue {
    match gateway {
        Some(g) => {
            let host = g
                .pointer("/properties/httpListeners")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find_map(|l| text_at(l, "/properties/hostName"))
                .unwrap_or_else(|| custom_domain.to_string());
            OutputValue::Value(format!("https://{host}"))
        }
        None => OutputValue::NotDeployed(Stage::Finalize),
    }
}

/// The APIM gateway URL and the API base URL under it.
fn apim_urls(apim: Option<&Value>) -> (OutputValue, OutputValue) {
    let gateway_url = apim.and_then(|a| text_at(a, "/properties/gatewayUrl"));
    match (apim, gateway_url) {
        (Some(_), Some(url)) => {
            let url = url.trim_end_matches('/').to_string();
            (
                OutputValue::Value(url.clone()),
                OutputValue::Value(format!("{url}/{API_PATH}")),
            )
        }
        // APIM exists but is still provisioning: no gateway URL yet.
        (Some(_), None) => (
            OutputValue::Unavailable("not assigned yet (APIM is provisioning)".into()),
            OutputValue::Unavailable("not assigned yet (APIM is provisioning)".into()),
        ),
        (None, _) => (
            OutputValue::NotDeployed(Stage::Hub),
            OutputValue::NotDeployed(Stage::Hub),
        ),
    }
}

/// The App Gateway's public IP address, once Azure has assigned it.
fn public_ip_address(public_ip: Option<&Value>) -> OutputValue {
    match public_ip.and_then(|p| text_at(p, "/properties/ipAddress")) {
        Some(ip) => OutputValue::Value(ip),
        None if public_ip.is_some() => OutputValue::Unavailable("not assigned yet".into()),
        None => OutputValue::NotDeployed(Stage::Hub),
    }
}

/// The admin-consent URL while the tenant-wide grant of the app's Microsoft
/// Graph permissions does not exist (read by [`super::consent::pending`]).
async fn consent(session: &Session, app_id: Option<&str>) -> Result<OutputValue> {
    if app_id.is_none() {
        return Ok(OutputValue::NotDeployed(Stage::Spoke));
    }
    Ok(match super::consent::pending(session).await? {
        Some(c) => OutputValue::Value(c.url),
        None => OutputValue::Unavailable("not pending".into()),
    })
}

fn not_deployed(stage: Stage) -> String {
    format!("not deployed (run owui-deploy {stage})")
}

/// The outputs as one JSON object: `{"KEY": {"value": ...} | {"value": null, "status": ...}}`.
pub fn to_json(outputs: &[Output]) -> Value {
    let mut m = Map::new();
    for o in outputs {
        let v = match &o.value {
            OutputValue::Value(v) => json!({"value": v}),
            OutputValue::Unavailable(why) => json!({"value": null, "status": why}),
            OutputValue::NotDeployed(stage) => json!({
                "value": null,
                "status": not_deployed(*stage),
                "stage": stage.as_str(),
            }),
        };
        m.insert(o.key.to_string(), v);
    }
    Value::Object(m)
}

/// One aligned line per output.
pub fn render_human(outputs: &[Output]) -> String {
    let width = outputs.iter().map(|o| o.label.len()).max().unwrap_or(0);
    let mut s = String::new();
    for o in outputs {
        let v = match &o.value {
            OutputValue::Value(v) => v.clone(),
            OutputValue::Unavailable(why) => format!("({why})"),
            OutputValue::NotDeployed(stage) => not_deployed(*stage),
        };
        s.push_str(&format!("{:width$}  {v}\n", o.label));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_webui_url_uses_the_listener_host_else_the_custom_domain() {
        let gateway = json!({"properties": {"httpListeners": [
            {"properties": {"hostName": ""}},
            {"properties": {"hostName": "chat.example.com"}},
        ]}});
        assert_eq!(
            open_webui_url(Some(&gateway), "other.example.com"),
            OutputValue::Value("https://chat.example.com".into())
        );
        let no_listener = json!({"properties": {}});
        assert_eq!(
            open_webui_url(Some(&no_listener), "other.example.com"),
            OutputValue::Value("https://other.example.com".into())
        );
        assert_eq!(
            open_webui_url(None, "other.example.com"),
            OutputValue::NotDeployed(Stage::Finalize)
        );
    }

    #[test]
    fn apim_urls_follow_the_gateway_url_once_assigned() {
        let apim = json!({"properties": {"gatewayUrl": "https://apim.azure-api.net/"}});
        assert_eq!(
            apim_urls(Some(&apim)),
            (
                OutputValue::Value("https://apim.azure-api.net".into()),
                OutputValue::Value(format!("https://apim.azure-api.net/{API_PATH}")),
            )
        );
        let provisioning = json!({"properties": {"gatewayUrl": null}});
        let pending = OutputValue::Unavailable("not assigned yet (APIM is provisioning)".into());
        assert_eq!(apim_urls(Some(&provisioning)), (pending.clone(), pending));
        assert_eq!(
            apim_urls(None),
            (
                OutputValue::NotDeployed(Stage::Hub),
                OutputValue::NotDeployed(Stage::Hub)
            )
        );
    }

    #[test]
    fn public_ip_address_waits_for_azure_to_assign_it() {
        let assigned = json!({"properties": {"ipAddress": "20.0.0.1"}});
        assert_eq!(
            public_ip_address(Some(&assigned)),
            OutputValue::Value("20.0.0.1".into())
        );
        let unassigned = json!({"properties": {}});
        assert_eq!(
            public_ip_address(Some(&unassigned)),
            OutputValue::Unavailable("not assigned yet".into())
        );
        assert_eq!(
            public_ip_address(None),
            OutputValue::NotDeployed(Stage::Hub)
        );
    }
}
