//! Parsing ARM paths into targets (any provider, any depth, extension resources).

/// What an ARM request path addresses.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// `/subscriptions/{s}`
    Subscription { sub: String },
    /// `/subscriptions/{s}/resourcegroups`
    ResourceGroups { sub: String },
    /// `/subscriptions/{s}/resourcegroups/{rg}`
    ResourceGroup { sub: String, rg: String },
    /// `/subscriptions/{s}/resourcegroups/{rg}/resources`
    GroupResources { sub: String, rg: String },
    /// `{scope}/providers/{ns}/{type}/{name}[/{type}/{name}]*` (an instance), or the same
    /// minus the last name (a collection, or an action on the instance for POST).
    Provider(ProviderPath),
}

/// A path below a `providers` segment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProviderPath {
    /// Subscription ID as sent.
    pub sub: String,
    /// Everything before the last `/providers/` (as sent), e.g. `/subscriptions/s/resourceGroups/rg`.
    pub scope: String,
    /// Resource group in the scope, when there is one (as sent).
    pub rg: Option<String>,
    /// Namespace as sent.
    pub namespace: String,
    /// Type segments as sent.
    pub types: Vec<String>,
    /// Names as sent (`types.len()` for an instance, one fewer for a collection).
    pub names: Vec<String>,
}

impl ProviderPath {
    /// True when the path names one resource (not a collection).
    pub fn is_instance(&self) -> bool {
        self.names.len() == self.types.len()
    }

    /// `NS/type/childType` as sent.
    pub fn type_name(&self) -> String {
        let mut t = self.namespace.clone();
        for s in &self.types {
            t.push('/');
            t.push_str(s);
        }
        t
    }

    /// The full path of the instance (or of the collection's parent) as sent.
    pub fn id_as_sent(&self, upto_names: usize) -> String {
        let mut id = format!("{}/providers/{}", self.scope, self.namespace);
        for (i, name) in self.names.iter().take(upto_names).enumerate() {
            id.push('/');
            id.push_str(&self.types[i]);
            id.push('/');
            id.push_str(name);
        }
        id
    }

    /// Path of the parent resource (for children), or `None` at the first level.
    pub fn parent_id(&self) -> Option<String> {
        if self.types.len() > 1 {
            Some(self.id_as_sent(self.types.len() - 1))
        } else {
            None
        }
    }
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Parse an ARM path (without query). `None` when it is not an ARM path at all.
pub(crate) fn parse(path: &str) -> Option<Target> {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() < 2 || !eq(segs[0], "subscriptions") {
        return None;
    }
    let sub = segs[1].to_string();
    if segs.len() == 2 {
        return Some(Target::Subscription { sub });
    }
    if eq(segs[2], "resourcegroups") {
        match segs.len() {
            3 => return Some(Target::ResourceGroups { sub }),
            4 => {
                return Some(Target::ResourceGroup {
                    sub,
                    rg: segs[3].to_string(),
                });
            }
            5 if eq(segs[4], "resources") => {
                return Some(Target::GroupResources {
                    sub,
                    rg: segs[3].to_string(),
                });
            }
            _ => {}
        }
    }
    // The last `providers` segment that sits at a type position.
    let p = (2..segs.len())
        .rev()
        .find(|&i| eq(segs[i], "providers") && i + 2 < segs.len() + 1)?;
    if p + 2 > segs.len() {
        return None;
    }
    let scope_segs = &segs[..p];
    let rg = if scope_segs.len() >= 4 && eq(scope_segs[2], "resourcegroups") {
        Some(scope_segs[3].to_string())
    } else {
        None
    };
    let scope = format!("/{}", scope_segs.join("/"));
    let namespace = segs[p + 1].to_string();
    let rest = &segs[p + 2..];
    if rest.is_empty() {
        return None;
    }
    let mut types = Vec::new();
    let mut names = Vec::new();
    for (i, s) in rest.iter().enumerate() {
        if i % 2 == 0 {
            types.push(s.to_string());
        } else {
            names.push(s.to_string());
        }
    }
    Some(Target::Provider(ProviderPath {
        sub,
        scope,
        rg,
        namespace,
        types,
        names,
    }))
}

/// `/subscriptions/{s}/resourceGroups/{rg}` in canonical casing of the segments.
pub(crate) fn group_id(sub: &str, rg: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}")
}

/// Lower-cased key of an ID (store key).
pub(crate) fn key(id: &str) -> String {
    id.trim_end_matches('/').to_ascii_lowercase()
}

/// True when `s` is a GUID in the 8-4-4-4-12 form.
pub(crate) fn is_guid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

/// Normalise an ARM location the way ARM does (`"UK South"` -> `"uksouth"`).
pub(crate) fn normalize_location(loc: &str) -> String {
    loc.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_extension_and_children() {
        let t = parse("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a/providers/Microsoft.Authorization/roleAssignments/g").unwrap();
        let Target::Provider(p) = t else { panic!() };
        assert_eq!(p.namespace, "Microsoft.Authorization");
        assert_eq!(
            p.scope,
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a"
        );
        assert!(p.is_instance());
        let t = parse("/subscriptions/s/resourcegroups/rg/providers/microsoft.network/virtualnetworks/v/subnets").unwrap();
        let Target::Provider(p) = t else { panic!() };
        assert!(!p.is_instance());
        assert_eq!(p.type_name(), "microsoft.network/virtualnetworks/subnets");
        assert_eq!(
            p.parent_id(),
            None.or(Some(
                "/subscriptions/s/resourcegroups/rg/providers/microsoft.network/virtualnetworks/v"
                    .to_string()
            ))
        );
        assert_eq!(normalize_location("UK South"), "uksouth");
    }
}
