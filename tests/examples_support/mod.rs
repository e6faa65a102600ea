//! Microsoft's x-ms-examples in `../shared/fixtures/arm-examples/`: finding them
//! (skipping with a printed reason when absent), reading them, and taking the
//! request body out of one.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};

/// The examples folder, or `None` (with the reason printed) when `../shared` or
/// the folder is absent.
pub fn examples_dir(test: &str) -> Option<PathBuf> {
    let dir = crate::schema::shared_dir(test)?.join("fixtures/arm-examples");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipping {test}: {} not found", dir.display());
        None
    }
}

/// Every example under `dir` as `(path relative to dir, parsed JSON)`, by path.
pub fn examples(dir: &Path) -> Vec<(String, Value)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("examples folder reads") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let file = path
                .strip_prefix(dir)
                .expect("under the folder")
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path).expect("example reads");
            let example = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
            (file, example)
        })
        .collect()
}

/// The request body of an example: its object-valued parameter (`parameters`
/// when there are several, e.g. beside `zones` or `extendedLocation`).
pub fn request_body(example: &Value) -> Option<&Value> {
    let params = example["parameters"].as_object()?;
    if let Some(b) = params.get("parameters").filter(|v| v.is_object()) {
        return Some(b);
    }
    let objects: Vec<&Value> = params.values().filter(|v| v.is_object()).collect();
    match objects.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}
