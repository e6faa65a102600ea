//! Typed reads for CLI tests: the harness's environment file as loaded by the tool,
//! and an ARM resource at its pinned API version.

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
}
