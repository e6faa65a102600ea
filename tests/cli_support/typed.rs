//! Typed reads for CLI tests: the harness's environment file as loaded by the tool,
//! an ARM resource at its pinned API version, and raw writes whose refusal a test
//! expects.

use super::Harness;
use owui_deploy::config::Environment;
use serde_json::Value;

impl Harness {
    /// The environment file as the tool loads it (panics when invalid).
    pub fn loaded_environment(&self) -> Environment {
        match owui_deploy::config::load(&self.env_file) {
            Ok(loaded) => loaded.env,
            Err(e) => panic!("environment file invalid: {:?}", e.problems),
        }
    }

    /// GET the ARM resource `id` of `type_name` at the pinned API version; panics
    /// unless 200.
    pub async fn arm_resource(&self, id: &str, type_name: &str) -> Value {
        let v = owui_deploy::azure::api_versions::api_version(type_name)
            .unwrap_or_else(|| panic!("no API version for {type_name}"));
        let (status, body) = self.arm_get(&format!("{id}?api-version={v}")).await;
        assert_eq!(status, 200, "GET {id}: {body}");
        body
    }

    /// Send `body` to `path_and_query` (ARM, or Graph under `/v1.0`) with a token for
    /// `scope`, as someone outside the tool would, whatever the answer: (status, body).
    pub async fn send_as_outsider(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        scope: &str,
        body: &Value,
    ) -> (u16, Value) {
        let ca = std::fs::read(&self.ca_file).expect("CA file");
        let client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("CA")])
            .build()
            .expect("client");
        let token = self.token(scope).await;
        let r = client
            .request(method, format!("{}{path_and_query}", self.sandbox.url()))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}
