//! The [`Backend`] over the real clients: ARM resources through [`ArmClient`],
//! Microsoft Graph objects through [`GraphClient`].
//!
//! Graph addresses (`graph:` + a path relative to `/v1.0`) take these forms:
//! - `graph:/applications(uniqueName='NAME')`: upserted by unique name;
//! - `graph:/servicePrincipals(appId='ID')` (any alternate key): read by key,
//!   updated with PATCH (without the key property), created with POST to the
//!   collection (the body carries the key);
//! - `graph:/oauth2PermissionGrants?$filter=EXPR`: the first object the filter
//!   finds is updated (PATCH by its `id`), otherwise one is created (POST);
//! - `graph:/COLLECTION/ID`: an existing object, read and updated by path.
//!
//! Deletes find the object first and delete it by its `id`.

use super::apply::ROLE_ASSIGNMENT_TYPE;
use super::backend::{Backend, BackendError, DiscoveredResource, Observer};
use super::model::{Discovery, OWNER_TAG};
use super::resource::{Address, Api};
use crate::azure::{
    ArmClient, AuthMethod, AzureError, ClientSettings, Endpoints, GraphClient, LogsClient,
    LroObserver, api_versions,
};
use async_trait::async_trait;
use serde_json::Value;
use std::time::Duration;

/// ARM and Graph behind the engine's [`Backend`] trait.
#[derive(Debug)]
pub struct AzureBackend {
    /// The ARM client.
    pub arm: ArmClient,
    /// The Microsoft Graph client.
    pub graph: GraphClient,
}

impl AzureBackend {
    /// A backend over both clients.
    pub fn new(arm: ArmClient, graph: GraphClient) -> Self {
        AzureBackend { arm, graph }
    }
}

/// Choose a credential and build both clients for `endpoints`: the one way the
/// CLI reaches Azure (or the sandbox: same code, other endpoints).
pub fn connect(
    endpoints: &Endpoints,
    auth: AuthMethod,
    tenant_id: &str,
    settings: ClientSettings,
) -> Result<AzureBackend, AzureError> {
    let credential = crate::azure::credential(auth, endpoints, tenant_id)?;
    let arm = ArmClient::new(endpoints, credential.clone(), settings.clone())?;
    let graph = GraphClient::new(endpoints, credential, settings)?;
    Ok(AzureBackend::new(arm, graph))
}

/// A client for the Azure Monitor Logs query API of `endpoints`, with the same
/// credential choice as [`connect`] (used by `owui-deploy usage`).
pub fn connect_logs(
    endpoints: &Endpoints,
    auth: AuthMethod,
    tenant_id: &str,
    settings: ClientSettings,
) -> Result<LogsClient, AzureError> {
    let credential = crate::azure::credential(auth, endpoints, tenant_id)?;
    LogsClient::new(endpoints, credential, settings)
}

impl From<AzureError> for BackendError {
    fn from(e: AzureError) -> Self {
        let code = e.code().map(str::to_string);
        let status = e.status();
        let propagation = e.propagation_delay();
        BackendError::new(e, code, status).with_propagation_delay(propagation)
    }
}

struct Lro<'a>(&'a dyn Observer);

impl LroObserver for Lro<'_> {
    fn polled(&self, status: &str, elapsed: Duration) {
        self.0.polled(status, elapsed)
    }
    fn retrying(&self, reason: &str, delay: Duration) {
        self.0.retrying(reason, delay)
    }
}

/// A parsed Graph address.
#[derive(Debug, Clone, PartialEq)]
enum GraphAddress {
    UniqueName {
        collection: String,
        name: String,
    },
    Key {
        collection: String,
        key: String,
        path: String,
    },
    Filter {
        collection: String,
        filter: String,
    },
    Path {
        path: String,
    },
}

/// `/v1.0` + path, unless the path names a version already.
fn v1(path: &str) -> String {
    if path.starts_with("/v1.0/") || path.starts_with("/beta/") {
        path.to_string()
    } else {
        format!("/v1.0{path}")
    }
}

fn parse_graph(address: &Address) -> Result<GraphAddress, BackendError> {
    let Some(path) = address.as_str().strip_prefix("graph:") else {
        return Err(BackendError::other(format!(
            "{address}: a Graph resource's address starts with `graph:`"
        )));
    };
    if !path.starts_with('/') {
        return Err(BackendError::other(format!(
            "{address}: a Graph path starts with `/`"
        )));
    }
    if let Some((collection, filter)) = path.split_once("?$filter=") {
        return Ok(GraphAddress::Filter {
            collection: collection.to_string(),
            filter: filter.to_string(),
        });
    }
    if let Some(open) = path.find('(')
        && path.ends_with(')')
    {
        let collection = path[..open].to_string();
        let inner = &path[open + 1..path.len() - 1];
        let Some((key, quoted)) = inner.split_once('=') else {
            return Err(BackendError::other(format!(
                "{address}: expected `(key='value')`"
            )));
        };
        let value = quoted
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .unwrap_or(quoted)
            .replace("''", "'");
        if key == "uniqueName" {
            return Ok(GraphAddress::UniqueName {
                collection: collection.trim_start_matches('/').to_string(),
                name: value,
            });
        }
        return Ok(GraphAddress::Key {
            collection,
            key: key.to_string(),
            path: path.to_string(),
        });
    }
    Ok(GraphAddress::Path {
        path: path.to_string(),
    })
}

fn arm_version(api: &Api, address: &Address) -> Result<String, BackendError> {
    match api {
        Api::Arm { api_version, .. } => Ok(api_version.clone()),
        Api::Graph { .. } => Err(BackendError::other(format!(
            "{address}: not an ARM resource"
        ))),
    }
}

fn object_id(v: &Value) -> Result<&str, BackendError> {
    v.get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| BackendError::other("the Graph object has no `id`"))
}

impl AzureBackend {
    async fn graph_read(&self, address: &Address) -> Result<Option<Value>, BackendError> {
        Ok(match parse_graph(address)? {
            GraphAddress::UniqueName { collection, name } => {
                let escaped = name.replace('\'', "''");
                self.graph
                    .get(&v1(&format!("/{collection}(uniqueName='{escaped}')")))
                    .await?
            }
            GraphAddress::Key { path, .. } | GraphAddress::Path { path } => {
                self.graph.get(&v1(&path)).await?
            }
            GraphAddress::Filter { collection, filter } => self
                .graph
                .list(&v1(&collection), Some(&filter))
                .await?
                .into_iter()
                .next(),
        })
    }

    async fn graph_write(&self, address: &Address, body: &Value) -> Result<Value, BackendError> {
        let parsed = parse_graph(address)?;
        if let GraphAddress::UniqueName { collection, name } = &parsed {
            return Ok(self
                .graph
                .upsert_by_unique_name(collection, name, body)
                .await?);
        }
        let existing = self.graph_read(address).await?;
        match (parsed, existing) {
            (GraphAddress::Key { key, path, .. }, Some(_)) => {
                let mut patch = body.clone();
                if let Value::Object(m) = &mut patch {
                    m.remove(&key);
                }
                self.graph.patch(&v1(&path), &patch).await?;
            }
            (
                GraphAddress::Key {
                    collection,
                    key,
                    path,
                },
                None,
            ) => match self.graph.post(&v1(&collection), body).await {
                Ok(created) => return Ok(created),
                // The pipeline retried a POST whose answer was lost (a dropped
                // connection) and the first attempt had created the object: Graph
                // now reports the key as taken. Converge by updating that object.
                Err(e) if e.status() == Some(409) => {
                    let mut patch = body.clone();
                    if let Value::Object(m) = &mut patch {
                        m.remove(&key);
                    }
                    self.graph.patch(&v1(&path), &patch).await?;
                }
                Err(e) => return Err(e.into()),
            },
            (GraphAddress::Filter { collection, .. }, Some(found)) => {
                let id = object_id(&found)?;
                self.graph
                    .patch(&v1(&format!("{collection}/{id}")), body)
                    .await?;
            }
            (GraphAddress::Filter { collection, .. }, None) => {
                return Ok(self.graph.post(&v1(&collection), body).await?);
            }
            (GraphAddress::Path { path }, Some(_)) => {
                self.graph.patch(&v1(&path), body).await?;
            }
            (GraphAddress::Path { .. }, None) => {
                return Err(BackendError::other(format!(
                    "{address} does not exist; Graph objects are created through a collection \
                     (address them by key or filter)"
                )));
            }
            (GraphAddress::UniqueName { .. }, _) => {}
        }
        self.graph_read(address).await?.ok_or_else(|| {
            BackendError::other(format!("{address} was written but cannot be read back"))
        })
    }

    async fn graph_delete(&self, address: &Address) -> Result<(), BackendError> {
        let Some(found) = self.graph_read(address).await? else {
            return Ok(());
        };
        let collection = match parse_graph(address)? {
            GraphAddress::UniqueName { collection, .. } => format!("/{collection}"),
            GraphAddress::Key { collection, .. } | GraphAddress::Filter { collection, .. } => {
                collection
            }
            GraphAddress::Path { path } => {
                self.graph.delete(&v1(&path)).await?;
                return Ok(());
            }
        };
        let id = object_id(&found)?;
        self.graph
            .delete(&v1(&format!("{collection}/{id}")))
            .await?;
        Ok(())
    }
}

#[async_trait]
impl Backend for AzureBackend {
    async fn read(&self, address: &Address, api: &Api) -> Result<Option<Value>, BackendError> {
        match api {
            Api::Arm { api_version, .. } => Ok(self.arm.get(address.as_str(), api_version).await?),
            Api::Graph { .. } => self.graph_read(address).await,
        }
    }

    async fn write(
        &self,
        address: &Address,
        api: &Api,
        body: &Value,
        observer: &dyn Observer,
    ) -> Result<Value, BackendError> {
        match api {
            Api::Arm { api_version, .. } => Ok(self
                .arm
                .put(address.as_str(), api_version, body, &Lro(observer))
                .await?),
            Api::Graph { .. } => self.graph_write(address, body).await,
        }
    }

    async fn delete(
        &self,
        address: &Address,
        api: &Api,
        observer: &dyn Observer,
    ) -> Result<(), BackendError> {
        match api {
            Api::Arm { .. } => {
                let version = arm_version(api, address)?;
                Ok(self
                    .arm
                    .delete(address.as_str(), &version, &Lro(observer))
                    .await?)
            }
            Api::Graph { .. } => self.graph_delete(address).await,
        }
    }

    async fn action(
        &self,
        address: &Address,
        api_version: &str,
        action: &str,
    ) -> Result<Value, BackendError> {
        Ok(self
            .arm
            .post(
                &format!("{address}/{action}"),
                api_version,
                None,
                &crate::azure::NoopObserver,
            )
            .await?
            .unwrap_or(Value::Null))
    }

    async fn patch(
        &self,
        address: &Address,
        api_version: &str,
        body: &Value,
    ) -> Result<Value, BackendError> {
        Ok(self
            .arm
            .patch(
                address.as_str(),
                api_version,
                body,
                &crate::azure::NoopObserver,
            )
            .await?)
    }

    async fn find_equivalent(
        &self,
        address: &Address,
        api: &Api,
        body: &Value,
    ) -> Result<Option<Value>, BackendError> {
        let Api::Arm {
            type_name,
            api_version,
        } = api
        else {
            return Ok(None);
        };
        if !type_name.eq_ignore_ascii_case(ROLE_ASSIGNMENT_TYPE) {
            return Ok(None);
        }
        let Some(scope) = role_assignment_scope(address.as_str()) else {
            return Ok(None);
        };
        let (Some(principal), Some(role)) = (
            body.pointer("/properties/principalId")
                .and_then(Value::as_str),
            body.pointer("/properties/roleDefinitionId")
                .and_then(Value::as_str),
        ) else {
            return Ok(None);
        };
        let filter = format!("principalId eq '{}'", principal.replace('\'', "''"));
        let listed = self
            .arm
            .list(
                &format!("{scope}/providers/{ROLE_ASSIGNMENT_TYPE}"),
                api_version,
                &[("$filter", filter.as_str())],
            )
            .await;
        let items = match listed {
            Ok(items) => items,
            // The scope does not exist (yet): nothing can be assigned on it.
            Err(e) if e.status() == Some(404) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(items
            .into_iter()
            .find(|item| same_role_assignment(item, scope, principal, role)))
    }

    async fn list(&self, discovery: &Discovery) -> Result<Vec<DiscoveredResource>, BackendError> {
        match discovery {
            Discovery::Children {
                parent,
                child_type,
                api_version,
                ..
            } => {
                let segment = child_type.rsplit('/').next().unwrap_or(child_type);
                let items = self
                    .arm
                    .list(&format!("{parent}/{segment}"), api_version, &[])
                    .await?;
                Ok(items
                    .into_iter()
                    .filter_map(|v| {
                        let id = v.get("id")?.as_str()?.to_string();
                        Some(DiscoveredResource {
                            address: Address(id),
                            api: Some(Api::Arm {
                                type_name: child_type.clone(),
                                api_version: api_version.clone(),
                            }),
                            tags: v.get("tags").and_then(Value::as_object).cloned(),
                        })
                    })
                    .collect())
            }
            Discovery::Tagged {
                resource_group,
                env,
                api_version,
                ..
            } => {
                let filter = format!(
                    "tagName eq '{OWNER_TAG}' and tagValue eq '{}'",
                    env.replace('\'', "''")
                );
                let items = self
                    .arm
                    .list(
                        &format!("{resource_group}/resources"),
                        api_version,
                        &[("$filter", filter.as_str())],
                    )
                    .await?;
                Ok(items
                    .into_iter()
                    .filter_map(|v| {
                        let id = v.get("id")?.as_str()?.to_string();
                        let type_name = v.get("type")?.as_str()?.to_string();
                        let api = api_versions::api_version(&type_name).map(|ver| Api::Arm {
                            type_name,
                            api_version: ver.to_string(),
                        });
                        Some(DiscoveredResource {
                            address: Address(id),
                            api,
                            tags: v.get("tags").and_then(Value::as_object).cloned(),
                        })
                    })
                    .collect())
            }
        }
    }
}

/// The scope of a role assignment ID (`SCOPE/providers/Microsoft.Authorization/roleAssignments/NAME`).
fn role_assignment_scope(id: &str) -> Option<&str> {
    let needle = format!("/providers/{ROLE_ASSIGNMENT_TYPE}/").to_ascii_lowercase();
    let pos = id.to_ascii_lowercase().rfind(&needle)?;
    Some(&id[..pos])
}

/// Whether a listed role assignment grants `role` to `principal` at exactly `scope`
/// (the listing also returns assignments inherited from parent scopes).
fn same_role_assignment(item: &Value, scope: &str, principal: &str, role: &str) -> bool {
    let props = &item["properties"];
    let last = |s: &str| s.rsplit('/').next().unwrap_or(s).to_ascii_lowercase();
    let item_scope = props["scope"]
        .as_str()
        .map(str::to_string)
        .or_else(|| {
            item["id"]
                .as_str()
                .and_then(role_assignment_scope)
                .map(str::to_string)
        })
        .unwrap_or_default();
    props["principalId"]
        .as_str()
        .is_some_and(|p| p.eq_ignore_ascii_case(principal))
        && props["roleDefinitionId"]
            .as_str()
            .is_some_and(|r| last(r) == last(role))
        && item_scope.eq_ignore_ascii_case(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_addresses_parse() {
        assert_eq!(
            parse_graph(&"graph:/applications(uniqueName='owui-it''s')".into()).unwrap(),
            GraphAddress::UniqueName {
                collection: "applications".into(),
                name: "owui-it's".into()
            }
        );
        assert_eq!(
            parse_graph(&"graph:/servicePrincipals(appId='abc')".into()).unwrap(),
            GraphAddress::Key {
                collection: "/servicePrincipals".into(),
                key: "appId".into(),
                path: "/servicePrincipals(appId='abc')".into()
            }
        );
        assert_eq!(
            parse_graph(&"graph:/oauth2PermissionGrants?$filter=clientId eq 'a'".into()).unwrap(),
            GraphAddress::Filter {
                collection: "/oauth2PermissionGrants".into(),
                filter: "clientId eq 'a'".into()
            }
        );
        assert_eq!(
            parse_graph(&"graph:/applications/123".into()).unwrap(),
            GraphAddress::Path {
                path: "/applications/123".into()
            }
        );
        assert!(parse_graph(&"/subscriptions/x".into()).is_err());
        let ra = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/abc";
        assert_eq!(
            role_assignment_scope(ra),
            Some("/subscriptions/s/resourceGroups/rg")
        );
        let item = serde_json::json!({"id": ra, "properties": {
            "principalId": "P", "roleDefinitionId": "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/R",
            "scope": "/subscriptions/s/resourcegroups/rg"}});
        assert!(same_role_assignment(
            &item,
            "/subscriptions/s/resourceGroups/rg",
            "p",
            "/x/roleDefinitions/r"
        ));
        assert!(!same_role_assignment(
            &item,
            "/subscriptions/s",
            "p",
            "/x/roleDefinitions/r"
        ));
        assert_eq!(v1("/applications"), "/v1.0/applications");
        assert_eq!(v1("/beta/applications"), "/beta/applications");
    }
}
