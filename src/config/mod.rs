//! Environment files: loading, strict validation, and where secrets come from.
//!
//! Secrets never live in an environment file. The PostgreSQL admin password comes
//! from `OWUI_POSTGRES_ADMIN_PASSWORD` or is generated and kept only in Key Vault;
//! the TLS certificate comes from a PFX file path or `OWUI_CERTIFICATE_PFX_BASE64`.
//!
//! [`load`] reads one TOML file and reports *every* problem at once: TOML syntax
//! errors, unknown keys (with a did-you-mean), missing keys, wrong types, secrets,
//! and the semantic rules (Azure naming, CIDRs, regions, ...), each with the file,
//! line and column of the offending key or value.

pub mod certificate;
pub mod model;
pub mod regions;
mod report;
pub mod rules;
mod schema;
mod secrets;
pub(crate) mod semantic;

pub use model::*;
pub use regions::normalize_location;
pub use report::{ResourceCount, StageSummary, Summary, ValidationReport, summarize};

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem found in an environment file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The environment file.
    pub file: PathBuf,
    /// 1-based line of the offending key or value, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters) of the offending key or value, when known.
    pub col: Option<usize>,
    /// Dotted path of the key, e.g. `hub.subnets.apim` or `foundry.deployments[1].capacity`
    /// (array indexes are 0-based); empty for whole-file problems.
    pub key: String,
    /// What is wrong and how to fix it. Never contains a secret value.
    pub message: String,
    /// Stable identifier of the rule, e.g. `unknown-key`, `missing-key`, `invalid-name`.
    pub code: &'static str,
}

impl fmt::Display for Problem {
    /// `FILE:LINE:COL: KEY: MESSAGE`, control characters escaped (`\u{1b}`), so
    /// that a hostile file cannot move the cursor or recolour the terminal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", escape_control(&self.file.display().to_string()))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.col {
                write!(f, ":{col}")?;
            }
        }
        let message = escape_control(&self.message);
        if self.key.is_empty() {
            write!(f, ": {message}")
        } else {
            write!(f, ": {}: {message}", escape_control(&self.key))
        }
    }
}

/// `text` with every control character written as its Rust escape (`\n`, `\u{1b}`).
pub fn escape_control(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// Every problem found in one environment file (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        let file = self
            .problems
            .first()
            .map(|p| p.file.display().to_string())
            .unwrap_or_default();
        write!(
            f,
            "{n} problem{} in environment file {file}",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

/// A loaded, fully validated environment file.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedEnvironment {
    /// The environment.
    pub env: Environment,
    /// The file it came from.
    pub path: PathBuf,
    /// The file's directory: the base of every relative path in it.
    pub dir: PathBuf,
    /// SHA-256 (lower-case hex) of the file's bytes.
    pub digest: String,
    /// Paths in the file may leave its folder (`--allow-outside-paths`).
    pub allow_outside_paths: bool,
}

/// How to load an environment file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Let paths in the file be absolute or leave its folder (`--allow-outside-paths`);
    /// by default they must stay inside it (see [`crate::files::confine`]).
    pub allow_outside_paths: bool,
}

/// Where the TLS certificate of the custom domain comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertificateSource {
    /// `domain.certificate_pfx_path`, resolved against the environment file's directory.
    File(PathBuf),
    /// The environment variable `OWUI_CERTIFICATE_PFX_BASE64` (checked when a stage needs it).
    EnvVar,
}

/// Environment variable holding the base64 PFX when `domain.certificate_pfx_path` is unset.
pub const CERTIFICATE_ENV_VAR: &str = "OWUI_CERTIFICATE_PFX_BASE64";
/// Environment variable holding the PostgreSQL admin password (else one is generated).
pub const POSTGRES_PASSWORD_ENV_VAR: &str = "OWUI_POSTGRES_ADMIN_PASSWORD";

impl LoadedEnvironment {
    /// Resolves a path from the file (relative to its directory; absolute paths stay).
    pub fn resolve_path(&self, path: &str) -> PathBuf {
        self.dir.join(path)
    }

    /// Reads a file the environment names (`value` as written in it): confined to the
    /// file's folder unless `--allow-outside-paths`, a regular file, at most `cap` bytes
    /// (checked before reading). Errors name the resolved path.
    pub fn read_file(&self, value: &str, cap: u64) -> std::io::Result<Vec<u8>> {
        let path =
            crate::files::confine(&self.dir, value, self.allow_outside_paths).map_err(|p| {
                std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("'{value}' {p}"),
                )
            })?;
        crate::files::read_capped(&path, cap)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
    }

    /// Where the domain certificate comes from.
    pub fn certificate_source(&self) -> CertificateSource {
        match &self.env.domain.certificate_pfx_path {
            Some(p) => CertificateSource::File(self.resolve_path(p)),
            None => CertificateSource::EnvVar,
        }
    }
}

/// Turns byte offsets into 1-based line/column and builds problems.
pub(crate) struct Pos<'a> {
    file: &'a Path,
    text: &'a str,
}

impl<'a> Pos<'a> {
    pub(crate) fn new(file: &'a Path, text: &'a str) -> Self {
        Pos { file, text }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }

    pub(crate) fn problem(
        &self,
        span: Option<Range<usize>>,
        key: String,
        code: &'static str,
        message: String,
    ) -> Problem {
        let (line, col) = match span {
            Some(s) => {
                let (l, c) = self.line_col(s.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        Problem {
            file: self.file.to_path_buf(),
            line,
            col,
            key,
            message,
            code,
        }
    }
}

/// The bare TOML key starting at `offset`, if there is one (for "duplicate key" errors).
fn bare_key_at(text: &str, offset: usize) -> Option<String> {
    let rest = text.get(offset..)?;
    let key: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    (!key.is_empty()).then_some(key)
}

fn sort(mut problems: Vec<Problem>) -> ConfigErrors {
    problems.sort_by(|a, b| {
        (a.line.unwrap_or(usize::MAX), a.col.unwrap_or(0), &a.key).cmp(&(
            b.line.unwrap_or(usize::MAX),
            b.col.unwrap_or(0),
            &b.key,
        ))
    });
    problems.dedup();
    ConfigErrors { problems }
}

/// Reads and validates one environment file. No network calls; files the environment
/// names (certificates, policy, OpenAPI document) must exist relative to its directory.
pub fn load(path: &Path) -> Result<LoadedEnvironment, ConfigErrors> {
    load_with(path, &LoadOptions::default())
}

/// [`load`] with options (e.g. `--allow-outside-paths`). The file itself is read only
/// when it is a regular file of at most [`crate::files::MAX_ENVIRONMENT_FILE`] bytes.
pub fn load_with(path: &Path, options: &LoadOptions) -> Result<LoadedEnvironment, ConfigErrors> {
    let pos = Pos::new(path, "");
    let bytes =
        crate::files::read_capped(path, crate::files::MAX_ENVIRONMENT_FILE).map_err(|e| {
            ConfigErrors {
                problems: vec![pos.problem(
                    None,
                    String::new(),
                    "io-error",
                    format!("cannot read the environment file: {e}"),
                )],
            }
        })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        let offset = e.utf8_error().valid_up_to();
        let p = Pos::new(path, &text).problem(
            Some(offset..offset),
            String::new(),
            "toml-syntax",
            "the file is not valid UTF-8".into(),
        );
        ConfigErrors { problems: vec![p] }
    })?;
    load_str_with(path, &text, options)
}

/// Validates environment text as if it were read from `name_for_errors` (which names the
/// file in problems and whose directory is the base of relative paths).
pub fn load_str(name_for_errors: &Path, text: &str) -> Result<LoadedEnvironment, ConfigErrors> {
    load_str_with(name_for_errors, text, &LoadOptions::default())
}

/// [`load_str`] with options.
pub fn load_str_with(
    name_for_errors: &Path,
    text: &str,
    options: &LoadOptions,
) -> Result<LoadedEnvironment, ConfigErrors> {
    let pos = Pos::new(name_for_errors, text);
    let dir = match name_for_errors.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };

    let (doc, errors) = toml::de::DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        let problems = errors
            .iter()
            .map(|e| {
                let mut message = format!("TOML syntax error: {}", e.message().trim_end());
                if message.ends_with("duplicate key")
                    && let Some(k) = e.span().and_then(|s| bare_key_at(text, s.start))
                {
                    message.push_str(&format!(" '{k}' (a key or table is defined twice)"));
                }
                pos.problem(e.span(), String::new(), "toml-syntax", message)
            })
            .collect();
        return Err(sort(problems));
    }

    let mut walker = schema::Walker::new(&pos);
    walker.walk_document(&doc);
    if !walker.problems.is_empty() {
        return Err(sort(walker.problems));
    }
    let spans = walker.spans;

    let env: Environment = toml::from_str(text).map_err(|e| {
        sort(vec![pos.problem(
            e.span(),
            String::new(),
            "invalid-value",
            e.message().trim_end().to_string(),
        )])
    })?;

    let problems = semantic::check(&env, &spans, &pos, &dir, options.allow_outside_paths);
    if !problems.is_empty() {
        return Err(sort(problems));
    }
    let digest = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(LoadedEnvironment {
        env,
        path: name_for_errors.to_path_buf(),
        dir,
        digest,
        allow_outside_paths: options.allow_outside_paths,
    })
}
