//! The API policy of the `openai` API: rendering the template
//! (`templates/policies/openai-api.xml`, or the user's `apim.policy_file`) with
//! values from the environment file, and the checks every rendered policy passes
//! before any call to Azure.
//!
//! # Placeholder syntax
//! Template placeholders are written `@@NAME@@`, so they never clash with APIM's own
//! `{{named-value}}` references, which pass through untouched. Rendering is line based:
//! - `@@NAME@@` is replaced by the XML-escaped value (`&`, `<`, `>`, `"`, `'`);
//! - a line holding an *optional* placeholder whose value is not set is left out
//!   (that is how `token-quota="..."` disappears when no quota is configured);
//! - a line holding the *list* placeholder `@@ALLOWED_ROLE@@` is repeated once per role;
//! - any other `@@...@@` is an error naming its line.
//!
//! # Checks
//! Every output (the bundled template or a user's file) must be well-formed XML
//! (checked with quick-xml; errors carry line and column), have the single root
//! element `<policies>`, and reference only the APIM named values this tool creates.

use crate::config::{CounterKey, Environment};
use quick_xml::events::Event;
use std::fmt;

/// The bundled policy template.
pub const TEMPLATE: &str = include_str!("../../templates/policies/openai-api.xml");

/// Resource the APIM managed identity requests tokens for (Foundry / Cognitive Services).
pub const MANAGED_IDENTITY_RESOURCE: &str = "https://cognitiveservices.azure.com";

/// APIM backend ID of the (primary) Foundry account.
pub const FOUNDRY_BACKEND_ID: &str = "foundry-backend";

/// APIM backend ID of the pool, used when `[[foundry.pool]]` members are configured.
pub const FOUNDRY_POOL_BACKEND_ID: &str = "foundry-pool";

/// The APIM named values the tool creates; a policy may reference only these.
pub const NAMED_VALUES: [&str; 2] = ["tenant-id", "openwebui-app-id"];

/// Quota periods `llm-token-limit` accepts.
pub const QUOTA_PERIODS: [&str; 6] = [
    "Indefinite",
    "Hourly",
    "Daily",
    "Weekly",
    "Monthly",
    "Yearly",
];

/// Counter-key expression: the signed-in user (JWT `preferred_username`).
pub const COUNTER_KEY_USER: &str = "@(context.Request.Headers.GetValueOrDefault(\"Authorization\", \"\").AsJwt()?.Claims.GetValueOrDefault(\"preferred_username\", \"anonymous\"))";
/// Counter-key expression: the APIM subscription.
pub const COUNTER_KEY_SUBSCRIPTION: &str = "@(context.Subscription.Id)";
/// Counter-key expression: the client IP address.
pub const COUNTER_KEY_IP: &str = "@(context.Request.IpAddress)";

/// Where a policy text came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// The bundled `templates/policies/openai-api.xml`.
    Bundled,
    /// A user's file (`apim.policy_file`), by path as written.
    File(String),
}

impl fmt::Display for PolicySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicySource::Bundled => f.write_str("templates/policies/openai-api.xml"),
            PolicySource::File(p) => f.write_str(p),
        }
    }
}

/// Why a policy could not be rendered or failed a check.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    /// The XML is not well-formed.
    #[error("{source_name}:{line}:{column}: policy XML is not well-formed: {message}")]
    Xml {
        /// Template or file.
        source_name: PolicySource,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The root element is not `<policies>` (or there is more than one root).
    #[error("{source_name}:{line}: {message}")]
    Structure {
        /// Template or file.
        source_name: PolicySource,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A `@@NAME@@` placeholder the renderer does not know.
    #[error("{source_name}:{line}: unknown placeholder @@{name}@@")]
    UnknownPlaceholder {
        /// Template or file.
        source_name: PolicySource,
        /// 1-based line.
        line: usize,
        /// Placeholder name.
        name: String,
    },
    /// A `{{name}}` reference to an APIM named value the tool does not create.
    #[error(
        "{source_name}:{line}: the policy references the named value {{{{{name}}}}}, which owui-deploy does not create (known: tenant-id, openwebui-app-id)"
    )]
    UnknownNamedValue {
        /// Template or file.
        source_name: PolicySource,
        /// 1-based line.
        line: usize,
        /// Named value.
        name: String,
    },
    /// A setting of `[apim.token_limit]` that the policy cannot express.
    #[error("apim.token_limit.{key}: {message}")]
    Setting {
        /// Key under `[apim.token_limit]`.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// The values a policy is rendered with, derived from the environment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyValues {
    /// `tokens-per-minute`.
    pub tokens_per_minute: u64,
    /// `counter-key` expression.
    pub counter_key: String,
    /// `token-quota`, if configured.
    pub token_quota: Option<u64>,
    /// `token-quota-period`, if a quota is configured.
    pub token_quota_period: Option<String>,
    /// Roles the token must carry (any of).
    pub allowed_roles: Vec<String>,
    /// `set-backend-service backend-id`.
    pub backend_id: String,
    /// `authentication-managed-identity resource`.
    pub managed_identity_resource: String,
}

impl PolicyValues {
    /// Values from the environment file, checked against what the policy schema accepts.
    pub fn from_env(env: &Environment) -> Result<Self, PolicyError> {
        let tl = &env.apim.token_limit;
        if tl.tokens_per_minute == 0 || tl.tokens_per_minute > i32::MAX as u64 {
            return Err(PolicyError::Setting {
                key: "tokens_per_minute",
                message: format!(
                    "must be between 1 and {} (got {})",
                    i32::MAX,
                    tl.tokens_per_minute
                ),
            });
        }
        if tl.token_quota == Some(0) || tl.token_quota.is_some_and(|q| q > i64::MAX as u64) {
            return Err(PolicyError::Setting {
                key: "token_quota",
                message: "must be greater than 0".into(),
            });
        }
        let period = match (&tl.token_quota, &tl.quota_period) {
            (Some(_), Some(p)) => {
                let Some(canon) = QUOTA_PERIODS.iter().find(|k| k.eq_ignore_ascii_case(p)) else {
                    return Err(PolicyError::Setting {
                        key: "quota_period",
                        message: format!("`{p}` is not one of {}", QUOTA_PERIODS.join(", ")),
                    });
                };
                Some(canon.to_string())
            }
            (Some(_), None) => {
                return Err(PolicyError::Setting {
                    key: "quota_period",
                    message: "is required when token_quota is set".into(),
                });
            }
            (None, Some(_)) => {
                return Err(PolicyError::Setting {
                    key: "token_quota",
                    message: "is required when quota_period is set".into(),
                });
            }
            (None, None) => None,
        };
        if tl.allowed_roles.is_empty() {
            return Err(PolicyError::Setting {
                key: "allowed_roles",
                message: "at least one role is required".into(),
            });
        }
        if let Some(bad) = tl.allowed_roles.iter().find(|r| r.trim().is_empty()) {
            return Err(PolicyError::Setting {
                key: "allowed_roles",
                message: format!("empty role value `{bad}`"),
            });
        }
        let counter_key = match tl.counter_key {
            CounterKey::User => COUNTER_KEY_USER,
            CounterKey::Subscription => COUNTER_KEY_SUBSCRIPTION,
            CounterKey::Ip => COUNTER_KEY_IP,
        };
        Ok(PolicyValues {
            tokens_per_minute: tl.tokens_per_minute,
            counter_key: counter_key.to_string(),
            token_quota: tl.token_quota,
            token_quota_period: period,
            allowed_roles: tl.allowed_roles.clone(),
            backend_id: backend_id(env).to_string(),
            managed_identity_resource: MANAGED_IDENTITY_RESOURCE.to_string(),
        })
    }

    fn scalar(&self, name: &str) -> Option<Option<String>> {
        Some(match name {
            "TOKENS_PER_MINUTE" => Some(self.tokens_per_minute.to_string()),
            "COUNTER_KEY" => Some(self.counter_key.clone()),
            "TOKEN_QUOTA" => self.token_quota.map(|q| q.to_string()),
            "TOKEN_QUOTA_PERIOD" => self.token_quota_period.clone(),
            "REMAINING_QUOTA_HEADER" => self
                .token_quota
                .map(|_| "remaining-quota-tokens".to_string()),
            "BACKEND_ID" => Some(self.backend_id.clone()),
            "MANAGED_IDENTITY_RESOURCE" => Some(self.managed_identity_resource.clone()),
            _ => return None,
        })
    }
}

/// The backend the policy routes to: the pool when `[[foundry.pool]]` is configured.
pub fn backend_id(env: &Environment) -> &'static str {
    if env.foundry.pool.is_empty() {
        FOUNDRY_BACKEND_ID
    } else {
        FOUNDRY_POOL_BACKEND_ID
    }
}

const LIST_ROLE: &str = "ALLOWED_ROLE";

/// Renders the policy for `env`: the bundled template, or `custom_file_text` (the
/// contents of `apim.policy_file`, which may use the same placeholders). The output
/// has passed [`check_policy`].
pub fn render_policy(
    env: &Environment,
    custom_file_text: Option<&str>,
) -> Result<String, PolicyError> {
    let values = PolicyValues::from_env(env)?;
    let (text, source) = match custom_file_text {
        Some(t) => (
            t,
            PolicySource::File(
                env.apim
                    .policy_file
                    .clone()
                    .unwrap_or_else(|| "policy file".to_string()),
            ),
        ),
        None => (TEMPLATE, PolicySource::Bundled),
    };
    render_with(text, &values, &source)
}

/// Renders `template` with `values` and checks the result (see the module docs).
pub fn render_with(
    template: &str,
    values: &PolicyValues,
    source: &PolicySource,
) -> Result<String, PolicyError> {
    let mut out = String::with_capacity(template.len() + 256);
    for (idx, line) in template.lines().enumerate() {
        let names = placeholders(line);
        if names.is_empty() {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let mut repeat: Option<&[String]> = None;
        let mut drop_line = false;
        for name in &names {
            if name == LIST_ROLE {
                repeat = Some(&values.allowed_roles);
            } else {
                match values.scalar(name) {
                    None => {
                        return Err(PolicyError::UnknownPlaceholder {
                            source_name: source.clone(),
                            line: idx + 1,
                            name: name.clone(),
                        });
                    }
                    Some(None) => drop_line = true,
                    Some(Some(_)) => {}
                }
            }
        }
        if drop_line {
            continue;
        }
        let items: Vec<Option<&str>> = match repeat {
            Some(list) => list.iter().map(|s| Some(s.as_str())).collect(),
            None => vec![None],
        };
        for item in items {
            let mut rendered = line.to_string();
            for name in &names {
                let value = if name == LIST_ROLE {
                    item.unwrap_or_default().to_string()
                } else {
                    values.scalar(name).flatten().unwrap_or_default()
                };
                rendered = rendered.replace(
                    &format!("@@{name}@@"),
                    &quick_xml::escape::escape(value.as_str()),
                );
            }
            out.push_str(&rendered);
            out.push('\n');
        }
    }
    check_policy(&out, source)?;
    Ok(out)
}

/// Placeholder names (`@@NAME@@`) in one line, in order, without duplicates.
fn placeholders(line: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("@@") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("@@") else { break };
        let name = &after[..end];
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
            rest = &after[end + 2..];
        } else {
            rest = &rest[start + 1..];
        }
    }
    names
}

/// 1-based (line, column) of byte offset `pos` in `text`.
pub fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(text.len());
    let before = &text.as_bytes()[..pos];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// Checks a policy document: well-formed XML, a single `<policies>` root, no leftover
/// `@@placeholder@@`, and `{{named values}}` limited to [`NAMED_VALUES`].
pub fn check_policy(xml: &str, source: &PolicySource) -> Result<(), PolicyError> {
    check_placeholders(xml, source)?;
    let mut walk = PolicyWalk {
        xml,
        source,
        depth: 0,
        roots: 0,
    };
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    loop {
        let before = reader.buffer_position() as usize;
        match reader.read_event() {
            Err(e) => {
                let (line, column) = line_col(xml, reader.error_position() as usize);
                return Err(PolicyError::Xml {
                    source_name: source.clone(),
                    line,
                    column,
                    message: e.to_string(),
                });
            }
            Ok(Event::Eof) => break,
            Ok(event) => walk.event(event, before)?,
        }
    }
    walk.finish()
}

/// Fails on the first line that still holds an `@@placeholder@@`.
fn check_placeholders(xml: &str, source: &PolicySource) -> Result<(), PolicyError> {
    for (idx, line) in xml.lines().enumerate() {
        if let Some(name) = placeholders(line).into_iter().next() {
            return Err(PolicyError::UnknownPlaceholder {
                source_name: source.clone(),
                line: idx + 1,
                name,
            });
        }
    }
    Ok(())
}

/// The state of [`check_policy`]'s walk over the XML events of a document.
struct PolicyWalk<'a> {
    /// The document.
    xml: &'a str,
    /// Where it came from (for errors).
    source: &'a PolicySource,
    /// Depth of the current element (0: outside the root).
    depth: usize,
    /// Root elements seen so far.
    roots: usize,
}

impl PolicyWalk<'_> {
    /// Checks one event (other than the end of the document) starting at byte
    /// `before`.
    fn event(&mut self, event: Event<'_>, before: usize) -> Result<(), PolicyError> {
        match event {
            ev @ (Event::Start(_) | Event::Empty(_)) if self.depth == 0 => self.root(ev, before),
            Event::Start(e) => {
                check_attributes(&e, self.xml, before, self.source)?;
                self.depth += 1;
                Ok(())
            }
            Event::Empty(e) => check_attributes(&e, self.xml, before, self.source),
            Event::End(_) => {
                self.depth = self.depth.saturating_sub(1);
                Ok(())
            }
            Event::GeneralRef(r) => self.entity(&r, before),
            Event::Text(t) => self.text(&t, before),
            _ => Ok(()),
        }
    }

    /// A root element: must be the only one, and `<policies>`.
    fn root(&mut self, ev: Event<'_>, before: usize) -> Result<(), PolicyError> {
        let opens = matches!(ev, Event::Start(_));
        let (Event::Start(e) | Event::Empty(e)) = ev else {
            return Ok(());
        };
        self.roots += 1;
        let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
        if name != "policies" || self.roots > 1 {
            let (line, _) = line_col(self.xml, before);
            return Err(PolicyError::Structure {
                source_name: self.source.clone(),
                line,
                message: format!(
                    "the document must have exactly one root element <policies>, found <{name}>"
                ),
            });
        }
        check_attributes(&e, self.xml, before, self.source)?;
        if opens {
            self.depth += 1;
        }
        Ok(())
    }

    /// An entity reference: only the predefined and character references.
    fn entity(
        &self,
        r: &quick_xml::events::BytesRef<'_>,
        before: usize,
    ) -> Result<(), PolicyError> {
        if resolve_ref(r).is_some() {
            return Ok(());
        }
        let (line, column) = line_col(self.xml, before);
        Err(PolicyError::Xml {
            source_name: self.source.clone(),
            line,
            column,
            message: format!("undefined entity &{};", String::from_utf8_lossy(r.as_ref())),
        })
    }

    /// Text: inside the root, its named values are checked; outside, only
    /// whitespace is allowed.
    fn text(&self, t: &quick_xml::events::BytesText<'_>, before: usize) -> Result<(), PolicyError> {
        let raw = String::from_utf8_lossy(t.as_ref()).into_owned();
        if self.depth > 0 {
            return check_named_values(&raw, self.xml, before, self.source);
        }
        if raw.trim().is_empty() {
            return Ok(());
        }
        let (line, _) = line_col(self.xml, before);
        Err(PolicyError::Structure {
            source_name: self.source.clone(),
            line,
            message: "text outside the <policies> element".into(),
        })
    }

    /// At the end of the document: every element closed, one root seen.
    fn finish(&self) -> Result<(), PolicyError> {
        if self.depth != 0 {
            let (line, column) = line_col(self.xml, self.xml.len());
            return Err(PolicyError::Xml {
                source_name: self.source.clone(),
                line,
                column,
                message: "unexpected end of document: an element is not closed".into(),
            });
        }
        if self.roots == 0 {
            return Err(PolicyError::Structure {
                source_name: self.source.clone(),
                line: 1,
                message: "the document has no <policies> element".into(),
            });
        }
        Ok(())
    }
}

/// Attribute syntax of a tag starting at `tag_start`, and the named values its
/// values reference.
fn check_attributes(
    e: &quick_xml::events::BytesStart<'_>,
    xml: &str,
    tag_start: usize,
    source: &PolicySource,
) -> Result<(), PolicyError> {
    for attr in e.attributes() {
        match attr {
            Err(err) => {
                let (line, column) = line_col(xml, attr_error_pos(tag_start, &err));
                return Err(PolicyError::Xml {
                    source_name: source.clone(),
                    line,
                    column,
                    message: err.to_string(),
                });
            }
            Ok(a) => {
                let value = String::from_utf8_lossy(&a.value).into_owned();
                check_named_values(&value, xml, tag_start, source)?;
            }
        }
    }
    Ok(())
}

/// Every `{{name}}` in `text` must be one of [`NAMED_VALUES`].
fn check_named_values(
    text: &str,
    xml: &str,
    at: usize,
    source: &PolicySource,
) -> Result<(), PolicyError> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if !NAMED_VALUES.contains(&name) {
            let (line, _) = line_col(xml, at);
            return Err(PolicyError::UnknownNamedValue {
                source_name: source.clone(),
                line,
                name: name.to_string(),
            });
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

/// Byte offset (in the document) of an attribute error inside the tag that starts
/// at `tag_start` (the `<`); quick-xml reports it relative to the tag.
fn attr_error_pos(tag_start: usize, err: &quick_xml::events::attributes::AttrError) -> usize {
    use quick_xml::events::attributes::AttrError;
    let rel = match err {
        AttrError::ExpectedEq(p)
        | AttrError::ExpectedValue(p)
        | AttrError::UnquotedValue(p)
        | AttrError::ExpectedQuote(p, _)
        | AttrError::Duplicated(p, _) => *p,
    };
    tag_start + rel
}

/// The text an entity or character reference in text content stands for.
fn resolve_ref(r: &quick_xml::events::BytesRef<'_>) -> Option<String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c.to_string());
    }
    let name = r.decode().ok()?;
    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string)
}

/// A canonical form of a policy document for comparisons: elements, attributes
/// (sorted, entity-decoded) and non-blank text, without comments or formatting.
/// APIM returns a reformatted document on GET; equal canonical forms mean "no change"
/// (the engine compares policies this way, see [`crate::engine::xml`]).
pub fn canonicalize(xml: &str) -> Result<String, PolicyError> {
    crate::engine::xml::canonicalize(xml).map_err(|e| {
        let (line, column) = line_col(xml, e.position);
        PolicyError::Xml {
            source_name: PolicySource::File("(live policy)".into()),
            line,
            column,
            message: e.message,
        }
    })
}
