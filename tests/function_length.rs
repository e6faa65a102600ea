//! Readable core (issue 15): no function in `src/` outside `#[cfg(test)]` is longer
//! than 150 lines, and none in the engine, config and stages is longer than 100.
//! A function is counted from its `fn` line to the closing brace at its own
//! indentation, as the issue counted them.

use std::path::{Path, PathBuf};

/// (limit, folder prefix under src/): the first matching prefix applies.
const LIMITS: &[(usize, &str)] = &[
    (100, "src/engine/"),
    (100, "src/config/"),
    (100, "src/stages/"),
    (150, "src/"),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The name of the function declared on `line`, with its indentation.
fn fn_start(line: &str) -> Option<(usize, String)> {
    let indent = line.len() - line.trim_start().len();
    let mut rest = line.trim_start();
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "async ",
        "const ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    rest = rest.strip_prefix("async ").unwrap_or(rest);
    let name = rest.strip_prefix("fn ")?;
    let name: String = name
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some((indent, name))
}

/// Functions longer than their limit in `text` (stopping at `#[cfg(test)]`).
fn long_functions(rel: &str, text: &str, limit: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let Some((indent, name)) = fn_start(line) else {
            continue;
        };
        let close = format!("{}}}", " ".repeat(indent));
        let Some(end) = (i..lines.len()).find(|&k| lines[k] == close) else {
            continue;
        };
        let length = end - i + 1;
        if length > limit {
            found.push(format!(
                "{rel}:{} {name}: {length} lines (limit {limit})",
                i + 1
            ));
        }
    }
    found
}

#[test]
fn no_function_in_src_is_longer_than_its_limit() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 50, "src/ not found: {}", root.display());
    let mut too_long = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(&root)
            .expect("under the root")
            .to_string_lossy()
            .replace('\\', "/");
        let limit = LIMITS
            .iter()
            .find(|(_, prefix)| rel.starts_with(prefix))
            .map(|(limit, _)| *limit)
            .expect("every file is under src/");
        let text = std::fs::read_to_string(&file).expect("read");
        too_long.extend(long_functions(&rel, &text, limit));
    }
    assert!(
        too_long.is_empty(),
        "split these where a step begins:\n{}",
        too_long.join("\n")
    );
}

#[test]
fn a_long_function_is_found() {
    let body: String = (0..120).map(|i| format!("    let x{i} = {i};\n")).collect();
    let text = format!("pub async fn long() {{\n{body}}}\n\nfn short() {{\n}}\n");
    let found = long_functions("src/engine/x.rs", &text, 100);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("long: 122 lines"), "{found:?}");
    // After #[cfg(test)] nothing counts.
    let text = format!("#[cfg(test)]\nmod tests {{\n{text}}}\n");
    assert!(long_functions("src/engine/x.rs", &text, 100).is_empty());
}
