//! The desired state: resources plus where to look for owned resources that are
//! no longer wanted. Validated as a graph (unknown dependencies, cycles).

use super::error::EngineError;
use super::resource::{Address, ResourceSpec, Stage, references_in};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The name of the ownership tag every taggable resource carries.
pub const OWNER_TAG: &str = "owui-deploy-env";

/// Where the plan looks for resources this environment owns, to delete those the
/// model no longer wants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Discovery {
    /// Every child of `parent` of type `child_type` (e.g. model deployments of a
    /// Cognitive Services account) is owned; children not desired are deleted.
    Children {
        /// The parent resource.
        parent: Address,
        /// Full child type, e.g. `Microsoft.CognitiveServices/accounts/deployments`.
        child_type: String,
        /// API version to list and delete the children with.
        api_version: String,
        /// Serial key of the children's writes (deletes share it).
        serial_key: Option<String>,
        /// The stage the children belong to.
        stage: Stage,
    },
    /// Every resource in `resource_group` tagged `owui-deploy-env = env` is owned;
    /// those not desired are deleted. Use only when the model holds every resource
    /// of this environment in that group (e.g. all stages, or a group one stage owns).
    Tagged {
        /// The resource group to list.
        resource_group: Address,
        /// The environment name (value of [`OWNER_TAG`]).
        env: String,
        /// API version of the resource listing.
        api_version: String,
        /// The stage deletions are attributed to.
        stage: Stage,
    },
}

impl Discovery {
    /// The stage deletions found by this discovery belong to.
    pub fn stage(&self) -> Stage {
        match self {
            Discovery::Children { stage, .. } | Discovery::Tagged { stage, .. } => *stage,
        }
    }

    /// A short description for messages.
    pub fn describe(&self) -> String {
        match self {
            Discovery::Children {
                parent, child_type, ..
            } => format!("{child_type} under {parent}"),
            Discovery::Tagged {
                resource_group,
                env,
                ..
            } => format!("resources tagged {OWNER_TAG}={env} in {resource_group}"),
        }
    }
}

/// The desired state of one or more stages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Desired (and data) resources, in spec order.
    pub resources: Vec<ResourceSpec>,
    /// Where to look for owned resources no longer desired.
    pub discoveries: Vec<Discovery>,
}

/// One edge of the dependency graph: `from` needs `to` first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// The dependent resource.
    pub from: Address,
    /// The resource it depends on.
    pub to: Address,
    /// JSON pointers of `to`'s live values that flow into `from` (empty for an
    /// ordering-only dependency).
    pub values: Vec<String>,
}

impl Model {
    /// An empty model.
    pub fn new() -> Self {
        Model::default()
    }

    /// Appends another model (e.g. to plan several stages as one graph).
    /// A resource present in both is kept once (the first).
    pub fn merge(&mut self, other: Model) {
        let known: BTreeSet<Address> = self.resources.iter().map(|r| r.address.clone()).collect();
        self.resources.extend(
            other
                .resources
                .into_iter()
                .filter(|r| !known.contains(&r.address)),
        );
        for d in other.discoveries {
            if !self.discoveries.contains(&d) {
                self.discoveries.push(d);
            }
        }
    }

    /// The resource at `address`.
    pub fn get(&self, address: &Address) -> Option<&ResourceSpec> {
        self.resources.iter().find(|r| &r.address == address)
    }

    /// Checks the graph: no duplicate addresses, every dependency present, no cycle.
    pub fn validate(&self) -> Result<(), EngineError> {
        let mut index: HashMap<&Address, usize> = HashMap::new();
        for (i, r) in self.resources.iter().enumerate() {
            if index.insert(&r.address, i).is_some() {
                return Err(EngineError::DuplicateResource {
                    address: r.address.clone(),
                    label: r.label.clone(),
                });
            }
        }
        let mut deps: Vec<Vec<usize>> = Vec::with_capacity(self.resources.len());
        for r in &self.resources {
            let mut mine = Vec::new();
            for d in r.dependencies() {
                match index.get(&d) {
                    Some(&j) => mine.push(j),
                    None => {
                        return Err(EngineError::UnknownDependency {
                            address: r.address.clone(),
                            label: r.label.clone(),
                            missing: d,
                        });
                    }
                }
            }
            deps.push(mine);
        }
        if let Some(cycle) = find_cycle(&deps) {
            return Err(EngineError::Cycle {
                cycle: cycle
                    .into_iter()
                    .map(|i| self.resources[i].label.clone())
                    .collect(),
            });
        }
        Ok(())
    }

    /// Every dependency edge, with the values that flow along it.
    pub fn edges(&self) -> Vec<Edge> {
        let mut out = Vec::new();
        for r in &self.resources {
            let mut values: BTreeMap<Address, BTreeSet<String>> = BTreeMap::new();
            let in_address = references_in(&serde_json::Value::String(r.address.0.clone()));
            for reference in references_in(&r.body).into_iter().chain(in_address) {
                values
                    .entry(reference.address)
                    .or_default()
                    .insert(reference.pointer);
            }
            for d in r.dependencies() {
                let v = values.remove(&d).unwrap_or_default();
                out.push(Edge {
                    from: r.address.clone(),
                    to: d,
                    values: v.into_iter().collect(),
                });
            }
        }
        out
    }
}

/// Indices of a cycle (first node repeated at the end), if the graph has one.
pub(crate) fn find_cycle(deps: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Color {
        White,
        Grey,
        Black,
    }
    let n = deps.len();
    let mut color = vec![Color::White; n];
    for start in 0..n {
        if color[start] != Color::White {
            continue;
        }
        // Iterative DFS: stack of (node, next child index).
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        color[start] = Color::Grey;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if *next < deps[node].len() {
                let child = deps[node][*next];
                *next += 1;
                match color[child] {
                    Color::White => {
                        color[child] = Color::Grey;
                        stack.push((child, 0));
                    }
                    Color::Grey => {
                        let pos = stack.iter().position(|(n, _)| *n == child).unwrap_or(0);
                        let mut cycle: Vec<usize> = stack[pos..].iter().map(|(n, _)| *n).collect();
                        cycle.push(child);
                        return Some(cycle);
                    }
                    Color::Black => {}
                }
            } else {
                color[node] = Color::Black;
                stack.pop();
            }
        }
    }
    None
}

/// Indices in an order where every node comes after its dependencies
/// (stable: spec order among independent nodes). Assumes no cycle.
pub(crate) fn topological_order(deps: &[Vec<usize>]) -> Vec<usize> {
    let n = deps.len();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    fn visit(i: usize, deps: &[Vec<usize>], done: &mut [bool], order: &mut Vec<usize>) {
        // Iterative post-order to avoid deep recursion on long chains.
        let mut stack = vec![(i, 0usize)];
        if done[i] {
            return;
        }
        done[i] = true;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if *next < deps[node].len() {
                let child = deps[node][*next];
                *next += 1;
                if !done[child] {
                    done[child] = true;
                    stack.push((child, 0));
                }
            } else {
                order.push(node);
                stack.pop();
            }
        }
    }
    for i in 0..n {
        visit(i, deps, &mut done, &mut order);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::resource::{Api, DiffRules, Mode, Reference};

    fn spec(addr: &str, body: serde_json::Value, deps: &[&str]) -> ResourceSpec {
        ResourceSpec {
            address: addr.into(),
            label: format!("label {addr}"),
            stage: Stage::Hub,
            api: Api::Arm {
                type_name: "T/t".into(),
                api_version: "2024-01-01".into(),
            },
            body,
            depends_on: deps.iter().map(|d| Address::from(*d)).collect(),
            rules: DiffRules::default(),
            mode: Mode::Managed,
            serial_key: None,
            taggable: true,
        }
    }

    #[test]
    fn unknown_dependency_is_an_error_naming_both() {
        let m = Model {
            resources: vec![spec("/a", serde_json::json!({}), &["/nope"])],
            discoveries: vec![],
        };
        let e = m.validate().unwrap_err().to_string();
        assert!(e.contains("/nope") && e.contains("label /a"), "{e}");
    }

    #[test]
    fn cycle_is_named() {
        let r = Reference::new("/c", "/id");
        let m = Model {
            resources: vec![
                spec("/a", serde_json::json!({}), &["/b"]),
                spec("/b", serde_json::json!({"x": r.marker()}), &[]),
                spec("/c", serde_json::json!({}), &["/a"]),
            ],
            discoveries: vec![],
        };
        let e = m.validate().unwrap_err().to_string();
        assert!(
            e.contains("label /a -> label /b -> label /c -> label /a"),
            "{e}"
        );
    }

    #[test]
    fn topological_order_puts_dependencies_first_and_keeps_spec_order() {
        let deps = vec![vec![2], vec![], vec![1], vec![]];
        assert_eq!(topological_order(&deps), vec![1, 2, 0, 3]);
        assert!(find_cycle(&deps).is_none());
    }

    #[test]
    fn edges_carry_flowing_values() {
        let r = Reference::new("/b", "/properties/principalId");
        let m = Model {
            resources: vec![
                spec("/a", serde_json::json!({"p": r.marker()}), &[]),
                spec("/b", serde_json::json!({}), &[]),
            ],
            discoveries: vec![],
        };
        m.validate().unwrap();
        assert_eq!(
            m.edges(),
            vec![Edge {
                from: "/a".into(),
                to: "/b".into(),
                values: vec!["/properties/principalId".into()],
            }]
        );
    }
}
