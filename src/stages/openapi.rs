//! The OpenAPI document whose operations the APIM API `openai` imports.
//!
//! `apim.openapi` in the environment file selects it: unset means the project's own
//! compact document (`templates/openapi/openai-v1.json`, compiled into the binary);
//! a path (relative to the environment file) names a JSON file of your own; an
//! `https://` URL is handed to APIM as-is (format `openapi+json-link`, or
//! `openapi-link` for `.yaml`/`.yml`), APIM downloads it.
//!
//! Plans never print a document: they show its [`digest`] and size, and compare the
//! set of [`operations`] (`"METHOD /path"`) with the operations APIM lists.

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The bundled compact OpenAI v1 document.
pub const BUNDLED: &str = include_str!("../../templates/openapi/openai-v1.json");

pub use crate::engine::openapi::{METHODS, operation_key, operations};

/// Where the document comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenApiSource {
    /// The project's own document.
    Bundled,
    /// A JSON file (resolved path).
    File(PathBuf),
    /// An `https://` URL APIM fetches itself.
    Url(String),
}

impl OpenApiSource {
    /// The source selected by `apim.openapi`; relative paths resolve against `base_dir`
    /// (the directory of the environment file).
    pub fn from_setting(setting: Option<&str>, base_dir: &Path) -> Self {
        match setting.map(str::trim) {
            None | Some("") => OpenApiSource::Bundled,
            Some(s) if s.starts_with("https://") || s.starts_with("http://") => {
                OpenApiSource::Url(s.to_string())
            }
            Some(s) => {
                let p = Path::new(s);
                OpenApiSource::File(if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    base_dir.join(p)
                })
            }
        }
    }
}

impl std::fmt::Display for OpenApiSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenApiSource::Bundled => f.write_str("templates/openapi/openai-v1.json (bundled)"),
            OpenApiSource::File(p) => write!(f, "{}", p.display()),
            OpenApiSource::Url(u) => f.write_str(u),
        }
    }
}

/// Why a document could not be used.
#[derive(Debug, thiserror::Error)]
pub enum OpenApiError {
    /// The file could not be read.
    #[error("apim.openapi: cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error(
        "apim.openapi: {source_name} is not valid JSON at line {line}, column {column}: {message}"
    )]
    Json {
        /// File or bundled.
        source_name: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// Parser message.
        message: String,
    },
    /// Not an OpenAPI 3 document with paths.
    #[error("apim.openapi: {source_name} is not an OpenAPI 3.x document: {message}")]
    NotOpenApi {
        /// File or bundled.
        source_name: String,
        /// What is missing.
        message: String,
    },
    /// A local YAML file (only JSON files can be inlined; use a URL for YAML).
    #[error(
        "apim.openapi: {0}: only JSON documents can be imported from a file; serve YAML from an https URL"
    )]
    Yaml(PathBuf),
    /// A plain-http URL.
    #[error("apim.openapi: {0}: the document URL must use https")]
    InsecureUrl(String),
}

/// The document as it is sent to APIM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedOpenApi {
    /// Where it came from.
    pub source: OpenApiSource,
    /// The API's `format`: `openapi+json`, `openapi+json-link` or `openapi-link`.
    pub format: &'static str,
    /// The API's `value`: the compact JSON text, or the URL.
    pub value: String,
    /// `sha256:` + hex digest of the compact JSON (or of the URL).
    pub digest: String,
    /// The operations (`"METHOD /path"`); `None` for a URL (known after import).
    pub operations: Option<BTreeSet<String>>,
    /// Size of `value` in bytes.
    pub size: usize,
}

impl LoadedOpenApi {
    /// One line for plans: never the document itself.
    pub fn summary(&self) -> String {
        match &self.operations {
            Some(ops) => format!(
                "{} ({} bytes, {} operations, {})",
                self.source,
                self.size,
                ops.len(),
                self.digest
            ),
            None => format!("{} (link, {})", self.source, self.digest),
        }
    }
}

/// Loads the document selected by `apim.openapi` (see [`OpenApiSource::from_setting`]).
pub fn load(source: &OpenApiSource) -> Result<LoadedOpenApi, OpenApiError> {
    match source {
        OpenApiSource::Bundled => from_text(BUNDLED, source.clone()),
        OpenApiSource::File(path) => {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or_default()
                .to_ascii_lowercase();
            if ext == "yaml" || ext == "yml" {
                return Err(OpenApiError::Yaml(path.clone()));
            }
            let text = crate::files::read_capped_to_string(path, crate::files::MAX_OPENAPI)
                .map_err(|e| OpenApiError::Read {
                    path: path.clone(),
                    source: e,
                })?;
            from_text(&text, source.clone())
        }
        OpenApiSource::Url(url) => {
            if !url.starts_with("https://") {
                return Err(OpenApiError::InsecureUrl(url.clone()));
            }
            let path = url
                .split(['?', '#'])
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            let format = if path.ends_with(".yaml") || path.ends_with(".yml") {
                "openapi-link"
            } else {
                "openapi+json-link"
            };
            Ok(LoadedOpenApi {
                source: source.clone(),
                format,
                value: url.clone(),
                digest: digest(url),
                operations: None,
                size: url.len(),
            })
        }
    }
}

/// Parses `text`, checks it is OpenAPI 3.x, and prepares the inline import.
pub fn from_text(text: &str, source: OpenApiSource) -> Result<LoadedOpenApi, OpenApiError> {
    let doc = parse(text, &source.to_string())?;
    let ops = operations(&doc);
    let compact = serde_json::to_string(&doc).map_err(|e| OpenApiError::NotOpenApi {
        source_name: source.to_string(),
        message: e.to_string(),
    })?;
    Ok(LoadedOpenApi {
        source,
        format: "openapi+json",
        digest: digest(&compact),
        size: compact.len(),
        value: compact,
        operations: Some(ops),
    })
}

/// Parses a JSON OpenAPI 3.x document (`openapi: 3.*` and a `paths` object).
pub fn parse(text: &str, source_name: &str) -> Result<Value, OpenApiError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| OpenApiError::Json {
        source_name: source_name.to_string(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let version = doc
        .get("openapi")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !version.starts_with("3.") {
        return Err(OpenApiError::NotOpenApi {
            source_name: source_name.to_string(),
            message: format!("`openapi` is `{version}`, expected 3.x"),
        });
    }
    if !doc.get("paths").is_some_and(Value::is_object) {
        return Err(OpenApiError::NotOpenApi {
            source_name: source_name.to_string(),
            message: "no `paths` object".into(),
        });
    }
    Ok(doc)
}

/// Content digest: `sha256:` + lower-case hex of the bytes.
pub fn digest(text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256:");
    for b in hash {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}
