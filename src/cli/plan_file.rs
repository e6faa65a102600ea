//! Saved plans (`plan --out FILE`, `apply FILE`): the engine's plan plus what
//! it was made from, so that applying it later can refuse when anything moved.
//!
//! A plan file holds no secret value (secrets stay `${secret:NAME}` markers and
//! diffs show them as sensitive), no token and no large value such as the
//! OpenAPI document (kept as `${blob:sha256:...}` and restored at apply time
//! from the same files).

use crate::config::LoadedEnvironment;
use crate::engine::{Plan, Stage, diff::sha256_hex};
use crate::stages::{openapi, policy};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Version of the plan file format; files of another version are refused.
pub const PLAN_FILE_VERSION: u32 = 1;

/// The version of this tool, recorded in plan files.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

const NSG_RULES: &str = include_str!("../../templates/network/apim-nsg-rules.toml");
const ROUTES: &str = include_str!("../../templates/network/apim-routes.toml");

/// The digest of one template a plan was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateDigest {
    /// What it is: `policy`, `openapi`, `nsg-rules`, `routes`.
    pub name: String,
    /// Where it came from (a file, `... (bundled)`, or a URL).
    pub source: String,
    /// `sha256:` + hex of its bytes (of the URL for a URL).
    pub sha256: String,
}

/// A saved plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanFile {
    /// [`PLAN_FILE_VERSION`].
    pub plan_file_version: u32,
    /// The tool version that made it ([`TOOL_VERSION`]).
    pub tool_version: String,
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
    /// The environment's `name`.
    pub environment: String,
    /// The environment file (absolute when it could be resolved).
    pub environment_file: PathBuf,
    /// `sha256:` + hex of the environment file's bytes.
    pub environment_digest: String,
    /// Every template the planned stages read.
    pub templates: Vec<TemplateDigest>,
    /// The subscriptions the plan touches.
    pub subscriptions: Vec<String>,
    /// The planned stages.
    pub stages: Vec<Stage>,
    /// Whether the certificate resources are in the plan (a certificate was given,
    /// or an earlier run stored one in Key Vault).
    pub certificate: bool,
    /// A deletion plan (`destroy --dry-run --out`): only deletes, checked against
    /// what `destroy` would delete.
    #[serde(default)]
    pub destroy: bool,
    /// Every change with its property diff and live fingerprint.
    pub plan: Plan,
}

/// Why a plan file cannot be applied as it is.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    /// Reading or parsing failed.
    #[error("cannot read the plan file {path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The inputs differ from those of the plan (exit code 3).
    #[error("the plan is stale: {}", reasons.join("; "))]
    Stale {
        /// One line per difference.
        reasons: Vec<String>,
    },
}

fn prefixed(hex: String) -> String {
    if hex.starts_with("sha256:") {
        hex
    } else {
        format!("sha256:{hex}")
    }
}

fn digest_of(bytes: &[u8]) -> String {
    prefixed(sha256_hex(bytes))
}

/// The digests of the templates `stages` read for this environment (the same
/// files the stage builders read).
pub fn template_digests(
    loaded: &LoadedEnvironment,
    stages: &[Stage],
) -> anyhow::Result<Vec<TemplateDigest>> {
    let mut out = Vec::new();
    if stages.contains(&Stage::Hub) {
        out.push(TemplateDigest {
            name: "nsg-rules".into(),
            source: "templates/network/apim-nsg-rules.toml (bundled)".into(),
            sha256: digest_of(NSG_RULES.as_bytes()),
        });
        out.push(TemplateDigest {
            name: "routes".into(),
            source: "templates/network/apim-routes.toml (bundled)".into(),
            sha256: digest_of(ROUTES.as_bytes()),
        });
    }
    if stages.contains(&Stage::Finalize) {
        let env = &loaded.env;
        out.push(match &env.apim.policy_file {
            Some(p) => {
                let path = loaded.resolve_path(p);
                let bytes = loaded
                    .read_file(p, crate::files::MAX_POLICY)
                    .map_err(|e| anyhow::anyhow!("apim.policy_file: cannot read {e}"))?;
                TemplateDigest {
                    name: "policy".into(),
                    source: path.display().to_string(),
                    sha256: digest_of(&bytes),
                }
            }
            None => TemplateDigest {
                name: "policy".into(),
                source: "templates/policies/openai-api.xml (bundled)".into(),
                sha256: digest_of(policy::TEMPLATE.as_bytes()),
            },
        });
        let source = openapi::OpenApiSource::from_setting(env.apim.openapi.as_deref(), &loaded.dir);
        let sha256 = match &source {
            openapi::OpenApiSource::Bundled => digest_of(openapi::BUNDLED.as_bytes()),
            openapi::OpenApiSource::File(path) => {
                let bytes =
                    crate::files::read_capped(path, crate::files::MAX_OPENAPI).map_err(|e| {
                        anyhow::anyhow!("apim.openapi: cannot read {}: {e}", path.display())
                    })?;
                digest_of(&bytes)
            }
            openapi::OpenApiSource::Url(url) => digest_of(url.as_bytes()),
        };
        out.push(TemplateDigest {
            name: "openapi".into(),
            source: source.to_string(),
            sha256,
        });
    }
    Ok(out)
}

/// The subscriptions the plan's addresses name, sorted, lower-case.
pub fn subscriptions(plan: &Plan) -> Vec<String> {
    let mut subs: Vec<String> = plan
        .changes
        .iter()
        .filter_map(|c| {
            let rest = c.address.as_str().strip_prefix("/subscriptions/")?;
            let sub = rest.split('/').next()?;
            (!sub.is_empty()).then(|| sub.to_ascii_lowercase())
        })
        .collect();
    subs.sort();
    subs.dedup();
    subs
}

impl PlanFile {
    /// A plan file for `plan`, made from `loaded` for `stages`.
    pub fn new(
        loaded: &LoadedEnvironment,
        stages: &[Stage],
        certificate: bool,
        plan: Plan,
    ) -> anyhow::Result<PlanFile> {
        let environment_file =
            std::fs::canonicalize(&loaded.path).unwrap_or_else(|_| loaded.path.clone());
        Ok(PlanFile {
            plan_file_version: PLAN_FILE_VERSION,
            tool_version: TOOL_VERSION.to_string(),
            created_at: now_rfc3339(),
            environment: loaded.env.name.clone(),
            environment_file,
            environment_digest: prefixed(loaded.digest.clone()),
            templates: template_digests(loaded, stages)?,
            subscriptions: subscriptions(&plan),
            stages: stages.to_vec(),
            certificate,
            destroy: false,
            plan,
        })
    }

    /// Serialise and write atomically with mode 0600.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        super::write_private_file(path, text.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write the plan file {}: {e}", path.display()))
    }

    /// Read and parse a plan file (any version is parsed far enough to say so).
    pub fn read(path: &Path) -> Result<PlanFile, PlanFileError> {
        let err = |message: String| PlanFileError::Read {
            path: path.to_path_buf(),
            message,
        };
        let text = crate::files::read_capped_to_string(path, crate::files::MAX_PLAN_FILE)
            .map_err(|e| err(e.to_string()))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| err(format!("not JSON: {e}")))?;
        let version = value
            .get("plan_file_version")
            .and_then(serde_json::Value::as_u64);
        if version != Some(u64::from(PLAN_FILE_VERSION)) {
            return Err(err(format!(
                "plan_file_version {} is not supported (this tool reads version {PLAN_FILE_VERSION}); plan again with this tool",
                version.map_or_else(|| "(missing)".to_string(), |v| v.to_string())
            )));
        }
        serde_json::from_value(value).map_err(|e| err(e.to_string()))
    }

    /// Compares the tool version and the environment's name and file digest
    /// with those of the plan.
    pub fn check_inputs(&self, loaded: &LoadedEnvironment) -> Result<(), PlanFileError> {
        let mut reasons = Vec::new();
        if self.tool_version != TOOL_VERSION {
            reasons.push(format!(
                "the plan was made by owui-deploy {}, this is {TOOL_VERSION}",
                self.tool_version
            ));
        }
        if self.environment != loaded.env.name {
            reasons.push(format!(
                "the plan is for environment {:?}, the environment file {} is {:?}",
                self.environment,
                loaded.path.display(),
                loaded.env.name
            ));
        }
        if self.environment_digest != prefixed(loaded.digest.clone()) {
            let now = std::fs::canonicalize(&loaded.path).unwrap_or_else(|_| loaded.path.clone());
            if now == self.environment_file {
                reasons.push(format!(
                    "the environment file {} changed since the plan was made",
                    loaded.path.display()
                ));
            } else {
                reasons.push(format!(
                    "the plan was made for the environment file {}, not {} (pass the same --env, or plan again for this one)",
                    self.environment_file.display(),
                    loaded.path.display()
                ));
            }
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(PlanFileError::Stale { reasons })
        }
    }

    /// Compares the templates' digests now with those of the plan.
    pub fn check_templates(&self, now: &[TemplateDigest]) -> Result<(), PlanFileError> {
        let mut reasons = Vec::new();
        for t in &self.templates {
            match now.iter().find(|n| n.name == t.name) {
                Some(n) if n.sha256 == t.sha256 && n.source == t.source => {}
                Some(n) if n.source != t.source => reasons.push(format!(
                    "template {} now comes from {} (the plan used {})",
                    t.name, n.source, t.source
                )),
                Some(_) => reasons.push(format!(
                    "template {} ({}) changed since the plan was made",
                    t.name, t.source
                )),
                None => reasons.push(format!("template {} is no longer used", t.name)),
            }
        }
        for n in now {
            if !self.templates.iter().any(|t| t.name == n.name) {
                reasons.push(format!("template {} ({}) is new", n.name, n.source));
            }
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(PlanFileError::Stale { reasons })
        }
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Action, Address, Api, Change, Fingerprint};

    fn digest(name: &str, source: &str, content: &str) -> TemplateDigest {
        TemplateDigest {
            name: name.into(),
            source: source.into(),
            sha256: digest_of(content.as_bytes()),
        }
    }

    fn change(address: &str) -> Change {
        Change {
            address: Address(address.into()),
            label: "x".into(),
            stage: Stage::Hub,
            api: Api::Arm {
                type_name: "Microsoft.Network/virtualNetworks".into(),
                api_version: "2024-05-01".into(),
            },
            action: Action::Create,
            diffs: Vec::new(),
            replace_paths: Vec::new(),
            fingerprint: Fingerprint::Absent,
            desired: None,
            target: None,
            depends_on: Default::default(),
            serial_key: None,
            outputs: Default::default(),
            reread: false,
            wait: false,
        }
    }

    fn file(templates: Vec<TemplateDigest>) -> PlanFile {
        PlanFile {
            plan_file_version: PLAN_FILE_VERSION,
            tool_version: TOOL_VERSION.into(),
            created_at: String::new(),
            environment: "dev".into(),
            environment_file: PathBuf::from("dev.toml"),
            environment_digest: "sha256:00".into(),
            templates,
            subscriptions: Vec::new(),
            stages: vec![Stage::Finalize],
            certificate: false,
            destroy: false,
            plan: Plan::default(),
        }
    }

    #[test]
    fn templates_that_changed_moved_appeared_or_vanished_are_named() {
        let planned = file(vec![
            digest("policy", "p.xml", "<policies/>"),
            digest("openapi", "bundled", "{}"),
            digest("routes", "bundled", "r"),
        ]);
        assert!(planned.check_templates(&planned.templates).is_ok());
        let now = vec![
            digest("policy", "p.xml", "<policies><inbound/></policies>"),
            digest("openapi", "other.json", "{}"),
            digest("nsg-rules", "bundled", "n"),
        ];
        let Err(PlanFileError::Stale { reasons }) = planned.check_templates(&now) else {
            panic!("stale expected");
        };
        assert_eq!(
            reasons,
            [
                "template policy (p.xml) changed since the plan was made",
                "template openapi now comes from other.json (the plan used bundled)",
                "template routes is no longer used",
                "template nsg-rules (bundled) is new",
            ]
        );
    }

    #[test]
    fn subscriptions_are_collected_from_addresses() {
        let mut plan = Plan::default();
        plan.changes = vec![
            change("/subscriptions/AAA/resourceGroups/x"),
            change("/subscriptions/bbb/resourceGroups/y"),
            change("/subscriptions/aaa/resourceGroups/z"),
            change("graph:/applications(uniqueName='x')"),
        ];
        assert_eq!(subscriptions(&plan), ["aaa", "bbb"]);
    }

    #[test]
    fn a_plan_file_of_another_format_version_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("plan.json");
        let mut f = file(Vec::new());
        f.plan_file_version = 2;
        std::fs::write(&path, serde_json::to_string(&f).expect("json")).expect("write");
        let err = PlanFile::read(&path).expect_err("refused").to_string();
        assert!(
            err.contains("plan_file_version 2 is not supported"),
            "{err}"
        );
        f.plan_file_version = PLAN_FILE_VERSION;
        f.write(&path).expect("write");
        let back = PlanFile::read(&path).expect("read");
        assert_eq!(back.environment, "dev");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
