//! Scaffolding the hub and spoke stages share: the context every builder of a
//! regional stage works with ([`StageScope`]: IDs, tags, region, resource group)
//! and the resources both stages declare the same way (resource group, NSG, Key
//! Vault, VNet link of a private DNS zone).

use super::hub::KEY_VAULT_SOFT_DELETE_DAYS;
use super::resources::{
    Empty, Placement, SubResource, Tags, key_vault, network_security_group, private_dns_zone_link,
    resource_group,
};
use super::{Ids, StageError, hub_location, spoke_location, tags};
use crate::config::Environment;
use crate::engine::{ResourceSpec, Stage};

/// What every builder of a regional stage (hub, spoke) works with: the
/// environment, its IDs and tags, the stage, its region and its resource group.
pub(crate) struct StageScope<'a> {
    /// The environment.
    pub env: &'a Environment,
    /// The environment's resource IDs.
    pub ids: Ids,
    /// The tags of every taggable resource.
    pub tags: Tags,
    /// The stage's region.
    pub location: String,
    /// The stage the resources belong to.
    pub stage: Stage,
    /// ARM ID of the stage's resource group.
    pub rg: String,
}

impl<'a> StageScope<'a> {
    /// The hub stage: hub region, hub resource group.
    pub fn hub(env: &'a Environment) -> Self {
        let ids = Ids::new(env);
        let rg = ids.hub_rg.clone();
        StageScope {
            env,
            ids,
            tags: tags(env),
            location: hub_location(env),
            stage: Stage::Hub,
            rg,
        }
    }

    /// The spoke stage: spoke region, spoke resource group.
    pub fn spoke(env: &'a Environment) -> Self {
        let ids = Ids::new(env);
        let rg = ids.spoke_rg.clone();
        StageScope {
            env,
            ids,
            tags: tags(env),
            location: spoke_location(env),
            stage: Stage::Spoke,
            rg,
        }
    }

    /// A resource of this stage (no implied dependency).
    pub fn place(&self, address: String, label: String) -> Placement {
        Placement::new(address, label, self.stage)
    }

    /// A resource of this stage in its resource group (written after the group).
    pub fn at(&self, address: String, label: String) -> Placement {
        self.place(address, label).after(self.rg.clone())
    }

    /// The stage's resource group, labelled `label`.
    pub fn resource_group(&self, label: String) -> Result<ResourceSpec, StageError> {
        resource_group::spec(
            self.place(self.rg.clone(), label),
            &resource_group::ResourceGroup {
                location: self.location.clone(),
                tags: self.tags.clone(),
                properties: Empty {},
            },
        )
    }

    /// A network security group in the stage's resource group.
    pub fn network_security_group(
        &self,
        address: String,
        label: String,
        security_rules: Vec<network_security_group::SecurityRule>,
    ) -> Result<ResourceSpec, StageError> {
        network_security_group::spec(
            self.at(address, label),
            &network_security_group::NetworkSecurityGroup {
                location: self.location.clone(),
                tags: self.tags.clone(),
                properties: network_security_group::NsgProperties { security_rules },
            },
        )
    }

    /// A Key Vault in the stage's resource group: RBAC authorization, soft delete
    /// for [`KEY_VAULT_SOFT_DELETE_DAYS`], standard SKU.
    pub fn key_vault(&self, address: String, label: String) -> Result<ResourceSpec, StageError> {
        key_vault::spec(
            self.at(address, label),
            &key_vault::Vault {
                location: self.location.clone(),
                tags: self.tags.clone(),
                properties: key_vault::VaultProperties {
                    tenant_id: self.env.azure.tenant_id.clone(),
                    sku: key_vault::VaultSku::standard(),
                    enable_rbac_authorization: true,
                    enable_soft_delete: true,
                    soft_delete_retention_in_days: KEY_VAULT_SOFT_DELETE_DAYS,
                    enable_purge_protection: None,
                },
            },
        )
    }

    /// The link `link` of the hub's private DNS zone `zone` to the VNet `vnet`
    /// (without auto-registration), labelled `{which} VNet link of {zone}`.
    pub fn dns_zone_link(
        &self,
        zone: &str,
        (link, which): (&str, &str),
        vnet: String,
    ) -> Result<ResourceSpec, StageError> {
        private_dns_zone_link::spec(
            self.place(
                self.ids.dns_zone_link(zone, link),
                format!("{which} VNet link of {zone}"),
            )
            .after(self.ids.dns_zone(zone))
            .after(vnet.clone()),
            &private_dns_zone_link::VirtualNetworkLink {
                location: "global".into(),
                tags: self.tags.clone(),
                properties: private_dns_zone_link::LinkProperties {
                    virtual_network: SubResource::new(vnet),
                    registration_enabled: false,
                },
            },
        )
    }
}
