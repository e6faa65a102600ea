//! A complete environment file for the finalize / policy tests, with knobs for the
//! variants the environment can produce.
#![allow(dead_code)]

use owui_deploy::config::Environment;

/// The base environment (TOML).
pub const BASE: &str = r#"
name = "dev"

[azure]
subscription_id = "00000000-0000-0000-0000-0000000000aa"
tenant_id = "11111111-1111-1111-1111-111111111111"
location = "uksouth"

[hub]
resource_group = "rg-hub"
address_space = "10.0.0.0/24"
apim_public_ip_dns_label = "owui-apim-dev"
key_vault_name = "kv-hub-dev"

[hub.subnets]
apim = "10.0.0.0/27"
appgw = "10.0.0.64/26"
private_endpoints = "10.0.0.128/27"

[apim]
name = "apim-owui-dev"
publisher_email = "ops@example.com"
publisher_name = "Ops"

[spoke]
resource_group = "rg-spoke"
address_space = "10.0.4.0/22"
container_apps_subnet = "10.0.4.0/23"
key_vault_name = "kv-spoke-dev"
storage_account_name = "stowuidev"

[foundry]
name = "fdy-owui-dev"

[[foundry.deployments]]
name = "gpt-4o"
format = "OpenAI"
model = "gpt-4o"
version = "2024-11-20"
capacity = 10

[postgres]
server_name = "psql-owui-dev"

[container_app]
environment_name = "cae-owui-dev"

[app_gateway]

[domain]
custom_domain = "chat.example.com"

[entra]
app_name = "Open WebUI"
unique_name = "open-webui-dev"
"#;

/// The base environment, parsed.
pub fn base() -> Environment {
    toml::from_str(BASE).expect("test environment parses")
}

/// The base environment with `extra` TOML tables appended (e.g. a `[[foundry.pool]]`).
pub fn with(extra: &str) -> Environment {
    toml::from_str(&format!("{BASE}\n{extra}")).expect("test environment parses")
}

/// `../shared`, when present.
pub fn shared() -> Option<std::path::PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    p.is_dir().then_some(p)
}
