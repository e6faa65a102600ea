//! Deterministic ARM IDs and Graph addresses of every resource the stages manage.
//!
//! All stages derive IDs here, from the environment file alone, so a stage can
//! name (and read from Azure) what another stage created without anyone copying
//! values. Only values Azure assigns (principal IDs, IPs, FQDNs) travel as
//! [`crate::engine::Reference`]s.

use crate::config::Environment;

/// IDs derived from one environment.
#[derive(Debug, Clone)]
pub struct Ids {
    /// Hub subscription ID.
    pub hub_sub: String,
    /// Spoke subscription ID.
    pub spoke_sub: String,
    /// `/subscriptions/{hub_sub}/resourceGroups/{hub rg}`.
    pub hub_rg: String,
    /// `/subscriptions/{spoke_sub}/resourceGroups/{spoke rg}`.
    pub spoke_rg: String,
}

impl Ids {
    /// IDs for `env`.
    pub fn new(env: &Environment) -> Self {
        let hub_sub = env.azure.subscription_id.to_ascii_lowercase();
        let spoke_sub = env
            .spoke
            .subscription_id
            .clone()
            .unwrap_or_else(|| env.azure.subscription_id.clone())
            .to_ascii_lowercase();
        Ids {
            hub_rg: format!(
                "/subscriptions/{hub_sub}/resourceGroups/{}",
                env.hub.resource_group
            ),
            spoke_rg: format!(
                "/subscriptions/{spoke_sub}/resourceGroups/{}",
                env.spoke.resource_group
            ),
            hub_sub,
            spoke_sub,
        }
    }

    /// A resource in the hub resource group: `hub_rg/providers/{type}/{name}`.
    pub fn hub(&self, type_name: &str, name: &str) -> String {
        format!("{}/providers/{type_name}/{name}", self.hub_rg)
    }

    /// A resource in the spoke resource group.
    pub fn spoke(&self, type_name: &str, name: &str) -> String {
        format!("{}/providers/{type_name}/{name}", self.spoke_rg)
    }

    /// A child of a resource: `parent/{child_type}/{name}`, e.g. `subnets/pe-subnet`.
    pub fn child(parent: &str, child_type: &str, name: &str) -> String {
        format!("{parent}/{child_type}/{name}")
    }

    /// An extension resource at `scope`, e.g. a role assignment:
    /// `scope/providers/Microsoft.Authorization/roleAssignments/{name}`.
    pub fn extension(scope: &str, type_name: &str, name: &str) -> String {
        format!("{scope}/providers/{type_name}/{name}")
    }

    /// Graph address of the Entra application, keyed by its unique name.
    pub fn graph_application(unique_name: &str) -> String {
        format!("graph:/applications(uniqueName='{unique_name}')")
    }
}
