//! Tags shared with others. The tool keeps no state file, so each taggable
//! resource records the tag keys its environment file sets in the tag
//! [`MANAGED_TAGS_TAG`] (comma-separated). When planning against a live resource:
//! - a key the environment file sets is compared as any property;
//! - a key the live marker lists (set by an earlier run) that the file no longer
//!   sets is removed, and the plan says so (`- /tags/KEY`);
//! - every other live key (added by Azure Policy, cost tools, people) and every
//!   key in `ignore_tags` is written back unchanged and never shown as a change.

use super::diff::{DiffValue, PropertyDiff};
use super::model::OWNER_TAG;
use super::resource::ResourceSpec;
use serde_json::{Map, Value};

/// The tag listing the keys of `[tags]` the tool set on a resource.
pub const MANAGED_TAGS_TAG: &str = "owui-deploy-tags";

/// The marker's value for the tag keys `keys`: sorted, comma-separated.
pub fn managed_tags_value<'a>(keys: impl IntoIterator<Item = &'a String>) -> String {
    let mut keys: Vec<&str> = keys.into_iter().map(String::as_str).collect();
    keys.sort_unstable();
    keys.join(",")
}

/// The body to write for `spec` given its `live` state: the desired tags plus
/// the live tags the tool does not manage; and one removal diff per live tag
/// the tool set earlier that the environment file no longer sets.
pub(crate) fn merge_shared_tags(
    spec: &ResourceSpec,
    live: Option<&Value>,
    ignore_tags: &[String],
) -> (Value, Vec<PropertyDiff>) {
    let mut body = spec.body.clone();
    let (true, Some(live_tags)) = (
        spec.taggable,
        live.and_then(|l| l.get("tags")).and_then(Value::as_object),
    ) else {
        return (body, Vec::new());
    };
    let Some(desired) = body.get_mut("tags").and_then(Value::as_object_mut) else {
        return (body, Vec::new());
    };
    let managed_before = managed_keys(live_tags);
    let mut removals = Vec::new();
    for (key, value) in live_tags {
        if has_key(desired, key) {
            continue;
        }
        let ignored = ignore_tags.iter().any(|i| i.eq_ignore_ascii_case(key));
        if !ignored && managed_before.iter().any(|m| m.eq_ignore_ascii_case(key)) {
            removals.push(PropertyDiff {
                path: format!("/tags/{}", key.replace('~', "~0").replace('/', "~1")),
                old: DiffValue::known(value),
                new: DiffValue::Absent,
                forces_replacement: false,
            });
        } else {
            desired.insert(key.clone(), value.clone());
        }
    }
    (body, removals)
}

/// The keys the tool managed on a live resource: those its marker lists, the
/// marker itself and the ownership tag.
fn managed_keys(live_tags: &Map<String, Value>) -> Vec<String> {
    let mut keys = vec![MANAGED_TAGS_TAG.to_string(), OWNER_TAG.to_string()];
    if let Some(listed) = live_tags
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(MANAGED_TAGS_TAG))
        .and_then(|(_, v)| v.as_str())
    {
        keys.extend(
            listed
                .split(',')
                .filter(|k| !k.is_empty())
                .map(str::to_string),
        );
    }
    keys
}

/// Whether `map` has `key`, ignoring case (Azure compares tag names so).
fn has_key(map: &Map<String, Value>, key: &str) -> bool {
    map.keys().any(|k| k.eq_ignore_ascii_case(key))
}
