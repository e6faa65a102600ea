//! Pure syntax rules: Azure resource names, DNS names, e-mail, GUIDs, CIDRs, did-you-mean.
//!
//! Each check returns `Err(message)` with a sentence that explains the rule; the
//! caller adds file, position, key and problem code.

use ipnet::Ipv4Net;
use std::str::FromStr;

/// What a character class allows, with the wording used in messages.
#[derive(Debug, Clone, Copy)]
pub struct CharClass {
    /// Does the class allow `c`?
    pub allows: fn(char) -> bool,
    /// How messages describe the class, e.g. "letters, digits and hyphens".
    pub describe: &'static str,
}

/// The naming rule of one Azure resource type.
#[derive(Debug, Clone, Copy)]
pub struct NameRule {
    /// What the name names, e.g. "Key Vault name".
    pub what: &'static str,
    /// Minimum length in characters.
    pub min: usize,
    /// Maximum length in characters.
    pub max: usize,
    /// Characters allowed anywhere.
    pub chars: CharClass,
    /// Characters allowed first.
    pub start: CharClass,
    /// Characters allowed last.
    pub end: CharClass,
    /// Refuse `--`.
    pub no_double_hyphen: bool,
}

fn alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}
fn letter(c: char) -> bool {
    c.is_ascii_alphabetic()
}
fn lower_letter(c: char) -> bool {
    c.is_ascii_lowercase()
}
fn lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}
fn alnum_hyphen(c: char) -> bool {
    alnum(c) || c == '-'
}
fn lower_alnum_hyphen(c: char) -> bool {
    lower_alnum(c) || c == '-'
}
fn alnum_underscore(c: char) -> bool {
    alnum(c) || c == '_'
}
fn network_chars(c: char) -> bool {
    alnum(c) || matches!(c, '_' | '.' | '-')
}
fn rg_chars(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '(' | ')')
}
fn rg_end(c: char) -> bool {
    rg_chars(c) && c != '.'
}
fn identity_chars(c: char) -> bool {
    alnum(c) || matches!(c, '_' | '-')
}
fn appi_chars(c: char) -> bool {
    !c.is_control() && !matches!(c, '%' | '&' | '\\' | '?' | '/')
}
fn appi_end(c: char) -> bool {
    appi_chars(c) && c != ' ' && c != '.'
}
fn unique_name_chars(c: char) -> bool {
    alnum(c) || matches!(c, '-' | '_' | '.')
}
fn deployment_chars(c: char) -> bool {
    alnum(c) || matches!(c, '-' | '_' | '.')
}
fn pg_db_chars(c: char) -> bool {
    alnum(c) || c == '_'
}
fn pg_db_start(c: char) -> bool {
    letter(c) || c == '_'
}
fn any_char(c: char) -> bool {
    !c.is_control()
}

const ALNUM: CharClass = CharClass {
    allows: alnum,
    describe: "a letter or digit",
};
const LETTER: CharClass = CharClass {
    allows: letter,
    describe: "a letter",
};
const LOWER_LETTER: CharClass = CharClass {
    allows: lower_letter,
    describe: "a lower-case letter",
};
const LOWER_ALNUM: CharClass = CharClass {
    allows: lower_alnum,
    describe: "a lower-case letter or digit",
};
const ALNUM_HYPHEN: CharClass = CharClass {
    allows: alnum_hyphen,
    describe: "letters, digits and hyphens",
};
const LOWER_ALNUM_HYPHEN: CharClass = CharClass {
    allows: lower_alnum_hyphen,
    describe: "lower-case letters, digits and hyphens",
};
const ONLY_LOWER_ALNUM: CharClass = CharClass {
    allows: lower_alnum,
    describe: "lower-case letters and digits",
};
const ALNUM_UNDERSCORE: CharClass = CharClass {
    allows: alnum_underscore,
    describe: "a letter, digit or underscore",
};
const NETWORK: CharClass = CharClass {
    allows: network_chars,
    describe: "letters, digits, underscores, periods and hyphens",
};
const RG: CharClass = CharClass {
    allows: rg_chars,
    describe: "letters, digits, underscores, periods, hyphens and parentheses",
};
const RG_END: CharClass = CharClass {
    allows: rg_end,
    describe: "anything but a period",
};
const IDENTITY: CharClass = CharClass {
    allows: identity_chars,
    describe: "letters, digits, hyphens and underscores",
};
const APPI: CharClass = CharClass {
    allows: appi_chars,
    describe: "any characters except % & \\ ? / and control characters",
};
const APPI_END: CharClass = CharClass {
    allows: appi_end,
    describe: "anything but a space or a period",
};
const UNIQUE: CharClass = CharClass {
    allows: unique_name_chars,
    describe: "letters, digits, hyphens, underscores and periods",
};
const DEPLOYMENT: CharClass = CharClass {
    allows: deployment_chars,
    describe: "letters, digits, hyphens, underscores and periods",
};
const PG_DB: CharClass = CharClass {
    allows: pg_db_chars,
    describe: "letters, digits and underscores",
};
const PG_DB_START: CharClass = CharClass {
    allows: pg_db_start,
    describe: "a letter or underscore",
};
const ANY: CharClass = CharClass {
    allows: any_char,
    describe: "any printable character",
};

/// Resource group: 1-90, letters, digits, `_ . - ( )`, not ending in a period.
pub const RESOURCE_GROUP: NameRule = NameRule {
    what: "resource group name",
    min: 1,
    max: 90,
    chars: RG,
    start: RG,
    end: RG_END,
    no_double_hyphen: false,
};
/// Virtual network: 2-64, letters, digits, `_ . -`, start alphanumeric, end alphanumeric or `_`.
pub const VNET: NameRule = NameRule {
    what: "virtual network name",
    min: 2,
    max: 64,
    chars: NETWORK,
    start: ALNUM,
    end: ALNUM_UNDERSCORE,
    no_double_hyphen: false,
};
/// NSG, route table, public IP, subnet, Application Gateway: 1-80, `_ . -`, start alphanumeric,
/// end alphanumeric or `_`.
pub const fn network_resource(what: &'static str) -> NameRule {
    NameRule {
        what,
        min: 1,
        max: 80,
        chars: NETWORK,
        start: ALNUM,
        end: ALNUM_UNDERSCORE,
        no_double_hyphen: false,
    }
}
/// Network security group.
pub const NSG: NameRule = network_resource("network security group name");
/// Route table.
pub const ROUTE_TABLE: NameRule = network_resource("route table name");
/// Public IP address.
pub const PUBLIC_IP: NameRule = network_resource("public IP address name");
/// Application Gateway.
pub const APP_GATEWAY: NameRule = network_resource("Application Gateway name");
/// Key Vault: 3-24, letters, digits, hyphens, start letter, end letter or digit, no `--`.
pub const KEY_VAULT: NameRule = NameRule {
    what: "Key Vault name",
    min: 3,
    max: 24,
    chars: ALNUM_HYPHEN,
    start: LETTER,
    end: ALNUM,
    no_double_hyphen: true,
};
/// Storage account: 3-24 lower-case letters and digits.
pub const STORAGE_ACCOUNT: NameRule = NameRule {
    what: "storage account name",
    min: 3,
    max: 24,
    chars: ONLY_LOWER_ALNUM,
    start: LOWER_ALNUM,
    end: LOWER_ALNUM,
    no_double_hyphen: false,
};
/// Azure Files share: 3-63 lower-case letters, digits, hyphens, start/end letter or digit, no `--`.
pub const FILE_SHARE: NameRule = NameRule {
    what: "file share name",
    min: 3,
    max: 63,
    chars: LOWER_ALNUM_HYPHEN,
    start: LOWER_ALNUM,
    end: LOWER_ALNUM,
    no_double_hyphen: true,
};
/// API Management service: 1-50, letters, digits, hyphens, start letter, end letter or digit.
pub const APIM: NameRule = NameRule {
    what: "API Management service name",
    min: 1,
    max: 50,
    chars: ALNUM_HYPHEN,
    start: LETTER,
    end: ALNUM,
    no_double_hyphen: false,
};
/// APIM product ID: 1-80, letters, digits, `- _ .`, start letter or digit.
pub const APIM_PRODUCT: NameRule = NameRule {
    what: "API Management product name",
    min: 1,
    max: 80,
    chars: UNIQUE,
    start: ALNUM,
    end: ALNUM,
    no_double_hyphen: false,
};
/// Foundry (Cognitive Services) account: 2-64, letters, digits, hyphens, start/end alphanumeric.
pub const FOUNDRY_ACCOUNT: NameRule = NameRule {
    what: "Foundry account name",
    min: 2,
    max: 64,
    chars: ALNUM_HYPHEN,
    start: ALNUM,
    end: ALNUM,
    no_double_hyphen: false,
};
/// Foundry custom subdomain: same as the account name.
pub const FOUNDRY_SUBDOMAIN: NameRule = NameRule {
    what: "Foundry custom subdomain",
    ..FOUNDRY_ACCOUNT
};
/// Model deployment: 2-64, letters, digits, `- _ .`, start/end alphanumeric.
pub const MODEL_DEPLOYMENT: NameRule = NameRule {
    what: "model deployment name",
    min: 2,
    max: 64,
    chars: DEPLOYMENT,
    start: ALNUM,
    end: ALNUM,
    no_double_hyphen: false,
};
/// PostgreSQL Flexible Server: 3-63 lower-case letters, digits, hyphens; no leading/trailing hyphen.
pub const POSTGRES_SERVER: NameRule = NameRule {
    what: "PostgreSQL server name",
    min: 3,
    max: 63,
    chars: LOWER_ALNUM_HYPHEN,
    start: LOWER_ALNUM,
    end: LOWER_ALNUM,
    no_double_hyphen: false,
};
/// PostgreSQL database: 1-63 letters, digits, underscores, start letter or underscore.
pub const POSTGRES_DATABASE: NameRule = NameRule {
    what: "PostgreSQL database name",
    min: 1,
    max: 63,
    chars: PG_DB,
    start: PG_DB_START,
    end: PG_DB,
    no_double_hyphen: false,
};
/// PostgreSQL administrator login: 1-63 letters, digits, underscores, start letter or underscore.
pub const POSTGRES_LOGIN: NameRule = NameRule {
    what: "PostgreSQL administrator login",
    ..POSTGRES_DATABASE
};
/// Azure Managed Redis (Redis Enterprise cluster): 1-60 lower-case letters, digits,
/// hyphens; starts and ends with a letter or digit; no `--` (its host name is global).
pub const REDIS_CLUSTER: NameRule = NameRule {
    what: "Azure Managed Redis name",
    min: 1,
    max: 60,
    chars: LOWER_ALNUM_HYPHEN,
    start: LOWER_ALNUM,
    end: LOWER_ALNUM,
    no_double_hyphen: true,
};
/// Container app: 2-32 lower-case letters, digits, hyphens, start letter, end alphanumeric, no `--`.
pub const CONTAINER_APP: NameRule = NameRule {
    what: "container app name",
    min: 2,
    max: 32,
    chars: LOWER_ALNUM_HYPHEN,
    start: LOWER_LETTER,
    end: LOWER_ALNUM,
    no_double_hyphen: true,
};
/// Container Apps managed environment: as a container app, up to 60 characters.
pub const MANAGED_ENVIRONMENT: NameRule = NameRule {
    what: "Container Apps environment name",
    max: 60,
    ..CONTAINER_APP
};
/// Log Analytics workspace: 4-63, letters, digits, hyphens, start/end alphanumeric.
pub const LOG_ANALYTICS: NameRule = NameRule {
    what: "Log Analytics workspace name",
    min: 4,
    max: 63,
    chars: ALNUM_HYPHEN,
    start: ALNUM,
    end: ALNUM,
    no_double_hyphen: false,
};
/// Application Insights: 1-260, no `% & \ ? /`, not ending in a space or period.
pub const APP_INSIGHTS: NameRule = NameRule {
    what: "Application Insights name",
    min: 1,
    max: 260,
    chars: APPI,
    start: APPI,
    end: APPI_END,
    no_double_hyphen: false,
};
/// User-assigned managed identity: 3-128, letters, digits, hyphens, underscores, start alphanumeric.
pub const IDENTITY_RULE: NameRule = NameRule {
    what: "managed identity name",
    min: 3,
    max: 128,
    chars: IDENTITY,
    start: ALNUM,
    end: IDENTITY,
    no_double_hyphen: false,
};
/// DNS label of a public IP: 3-63 lower-case letters, digits, hyphens, start letter, end alphanumeric.
pub const DNS_LABEL: NameRule = NameRule {
    what: "DNS label",
    min: 3,
    max: 63,
    chars: LOWER_ALNUM_HYPHEN,
    start: LOWER_LETTER,
    end: LOWER_ALNUM,
    no_double_hyphen: false,
};
/// Environment name: 1-32 lower-case letters, digits, hyphens, start letter, end alphanumeric.
pub const ENVIRONMENT_NAME: NameRule = NameRule {
    what: "environment name",
    min: 1,
    max: 32,
    chars: LOWER_ALNUM_HYPHEN,
    start: LOWER_LETTER,
    end: LOWER_ALNUM,
    no_double_hyphen: true,
};
/// Entra application unique name: 1-120 letters, digits, `- _ .`, start/end alphanumeric.
pub const UNIQUE_NAME: NameRule = NameRule {
    what: "Entra application unique name",
    min: 1,
    max: 120,
    chars: UNIQUE,
    start: ALNUM,
    end: ALNUM,
    no_double_hyphen: false,
};
/// Display names (Entra application, APIM publisher, sign-in provider): 1-120 printable characters.
pub const fn display_name(what: &'static str) -> NameRule {
    NameRule {
        what,
        min: 1,
        max: 120,
        chars: ANY,
        start: ANY,
        end: ANY,
        no_double_hyphen: false,
    }
}

fn quote(c: char) -> String {
    if c == ' ' {
        "a space".into()
    } else {
        format!("'{c}'")
    }
}

impl NameRule {
    /// Checks `name` against the rule; the error explains the first rule broken.
    pub fn check(&self, name: &str) -> Result<(), String> {
        let len = name.chars().count();
        let what = self.what;
        if len < self.min || len > self.max {
            return Err(if self.min == self.max {
                format!("{what} must be {} characters long, not {len}", self.min)
            } else {
                format!(
                    "{what} must be {}-{} characters long, not {len}",
                    self.min, self.max
                )
            });
        }
        if let Some(c) = name.chars().find(|c| !(self.chars.allows)(*c)) {
            return Err(format!(
                "{what} may contain only {}, not {}",
                self.chars.describe,
                quote(c)
            ));
        }
        if let Some(first) = name.chars().next()
            && !(self.start.allows)(first)
        {
            return Err(format!("{what} must start with {}", self.start.describe));
        }
        if let Some(last) = name.chars().last()
            && !(self.end.allows)(last)
        {
            return Err(if self.end.describe.starts_with("anything") {
                format!("{what} must not end with {}", quote(last))
            } else {
                format!("{what} must end with {}", self.end.describe)
            });
        }
        if self.no_double_hyphen && name.contains("--") {
            return Err(format!("{what} must not contain consecutive hyphens"));
        }
        Ok(())
    }
}

/// GUID in the 8-4-4-4-12 hexadecimal form.
pub fn check_guid(s: &str) -> Result<(), String> {
    let ok = s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if ok {
        Ok(())
    } else {
        Err("must be a GUID like 00000000-0000-0000-0000-000000000000 (8-4-4-4-12 hexadecimal digits)".into())
    }
}

fn check_dns_label(label: &str) -> Result<(), String> {
    if label.is_empty() {
        return Err("has an empty label".into());
    }
    if label.len() > 63 {
        return Err(format!(
            "has a label of {} characters (at most 63)",
            label.len()
        ));
    }
    if let Some(c) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(format!(
            "may contain only letters, digits, hyphens and dots, not {}",
            quote(c)
        ));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err("has a label that starts or ends with a hyphen".into());
    }
    Ok(())
}

/// Fully qualified domain name: at least two labels of 1-63 letters, digits and hyphens
/// (not starting or ending with a hyphen), at most 253 characters, no trailing dot,
/// a top-level label that is not all digits.
pub fn check_fqdn(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("must be a domain name like chat.contoso.com, not empty".into());
    }
    if s.len() > 253 {
        return Err(format!("is {} characters long (at most 253)", s.len()));
    }
    if s.ends_with('.') {
        return Err("must not end with a dot".into());
    }
    let labels: Vec<&str> = s.split('.').collect();
    if labels.len() < 2 {
        return Err("must have at least two labels, like chat.contoso.com".into());
    }
    for l in &labels {
        check_dns_label(l)?;
    }
    if labels
        .last()
        .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err("must not end with an all-numeric label".into());
    }
    Ok(())
}

/// E-mail address: `local@domain` with a dotted domain name.
pub fn check_email(s: &str) -> Result<(), String> {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return Err("must be an e-mail address like someone@contoso.com (no '@' found)".into());
    };
    if local.is_empty() || local.len() > 64 {
        return Err("must have 1-64 characters before the '@'".into());
    }
    let local_ok = local
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    if !local_ok {
        return Err("has characters before the '@' that an e-mail address cannot have".into());
    }
    check_fqdn(domain).map_err(|e| format!("has a domain part that {e}"))
}

/// Why a CIDR string is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CidrError {
    /// Not `a.b.c.d/n`.
    Syntax(String),
    /// Host bits set; carries the network it should be.
    HostBits(Ipv4Net),
}

/// Parses an IPv4 CIDR (`10.0.0.0/24`) and refuses host bits (`10.0.0.1/24`).
pub fn parse_cidr(s: &str) -> Result<Ipv4Net, CidrError> {
    if !s.contains('/') {
        return Err(CidrError::Syntax(
            "must be an IPv4 CIDR block like 10.0.0.0/24 (the /prefix is missing)".into(),
        ));
    }
    let net = Ipv4Net::from_str(s).map_err(|_| {
        CidrError::Syntax(
            "must be an IPv4 CIDR block like 10.0.0.0/24 (four numbers 0-255 and a prefix 0-32)"
                .into(),
        )
    })?;
    if net.addr() != net.network() {
        return Err(CidrError::HostBits(net.trunc()));
    }
    Ok(net)
}

/// Levenshtein distance between two strings (by characters).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `word` if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).clamp(1, 4);
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    let by_distance = candidates
        .iter()
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c);
    // Else a key written shorter or longer than it is: `server` for `server_name`.
    by_distance.or_else(|| {
        (lower.len() >= 4)
            .then(|| {
                candidates.iter().copied().find(|c| {
                    let c = c.to_ascii_lowercase();
                    c.starts_with(&lower) || lower.starts_with(&c)
                })
            })
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_vault_rules() {
        assert!(KEY_VAULT.check("kv-owui-prod").is_ok());
        assert!(KEY_VAULT.check("kv").unwrap_err().contains("3-24"));
        assert!(
            KEY_VAULT
                .check("1kv")
                .unwrap_err()
                .contains("start with a letter")
        );
        assert!(KEY_VAULT.check("kv-").unwrap_err().contains("end with"));
        assert!(
            KEY_VAULT
                .check("kv--a")
                .unwrap_err()
                .contains("consecutive")
        );
        assert!(KEY_VAULT.check("kv_a").unwrap_err().contains("'_'"));
        assert!(KEY_VAULT.check(&"a".repeat(25)).is_err());
        assert!(KEY_VAULT.check(&"a".repeat(24)).is_ok());
    }

    #[test]
    fn storage_and_postgres_rules() {
        assert!(STORAGE_ACCOUNT.check("stowuiprod01").is_ok());
        assert!(STORAGE_ACCOUNT.check("st-owui").is_err());
        assert!(STORAGE_ACCOUNT.check("StOwui").is_err());
        assert!(POSTGRES_SERVER.check("psql-owui-prod").is_ok());
        assert!(POSTGRES_SERVER.check("-psql").is_err());
        assert!(POSTGRES_SERVER.check("psql-").is_err());
        assert!(POSTGRES_SERVER.check("Psql").is_err());
        assert!(POSTGRES_SERVER.check("ps").is_err());
    }

    #[test]
    fn apim_foundry_container_app_rules() {
        assert!(APIM.check("apim-owui-prod").is_ok());
        assert!(APIM.check("1apim").is_err());
        assert!(APIM.check("apim-").is_err());
        assert!(APIM.check(&"a".repeat(51)).is_err());
        assert!(FOUNDRY_ACCOUNT.check("ais-owui").is_ok());
        assert!(FOUNDRY_ACCOUNT.check("a").is_err());
        assert!(FOUNDRY_ACCOUNT.check("-ais").is_err());
        assert!(CONTAINER_APP.check("open-webui").is_ok());
        assert!(CONTAINER_APP.check("open--webui").is_err());
        assert!(CONTAINER_APP.check("Open-webui").is_err());
        assert!(CONTAINER_APP.check("1open").is_err());
        assert!(CONTAINER_APP.check(&"a".repeat(33)).is_err());
        assert!(MANAGED_ENVIRONMENT.check(&"a".repeat(60)).is_ok());
        assert!(DNS_LABEL.check("apim-owui-mgmt").is_ok());
        assert!(DNS_LABEL.check("Apim").is_err());
        assert!(RESOURCE_GROUP.check("rg-owui(hub)").is_ok());
        assert!(RESOURCE_GROUP.check("rg.").is_err());
        assert!(VNET.check("vnet_").is_ok());
        assert!(VNET.check("vnet-").is_err());
        assert!(APP_INSIGHTS.check("appi owui").is_ok());
        assert!(APP_INSIGHTS.check("appi/owui").is_err());
        assert!(LOG_ANALYTICS.check("log").is_err());
    }

    #[test]
    fn guid_email_fqdn() {
        assert!(check_guid("00000000-0000-0000-0000-000000000000").is_ok());
        assert!(check_guid("6F1C2D3E-aaaa-bbbb-cccc-1234567890ab").is_ok());
        assert!(check_guid("{00000000-0000-0000-0000-000000000000}").is_err());
        assert!(check_guid("00000000000000000000000000000000").is_err());
        assert!(check_guid("0000000-00000-0000-0000-000000000000").is_err());
        assert!(check_email("platform@contoso.com").is_ok());
        assert!(check_email("first.last+ai@mail.contoso.co.uk").is_ok());
        assert!(check_email("platform.contoso.com").is_err());
        assert!(check_email("platform@contoso").is_err());
        assert!(check_email("@contoso.com").is_err());
        assert!(check_email("a b@contoso.com").is_err());
        assert!(check_fqdn("chat.contoso.com").is_ok());
        assert!(check_fqdn("localhost").is_err());
        assert!(check_fqdn("chat..contoso.com").is_err());
        assert!(check_fqdn("-chat.contoso.com").is_err());
        assert!(check_fqdn("chat.contoso.com.").is_err());
        assert!(check_fqdn("chat_1.contoso.com").is_err());
        assert!(check_fqdn(&format!("{}.com", "a".repeat(64))).is_err());
        assert!(check_fqdn("10.0.0.1").is_err());
    }

    #[test]
    fn cidr_rules() {
        assert_eq!(parse_cidr("10.0.0.0/24").map(|n| n.prefix_len()), Ok(24));
        assert_eq!(
            parse_cidr("10.0.0.1/24"),
            Err(CidrError::HostBits("10.0.0.0/24".parse().expect("literal")))
        );
        assert!(matches!(parse_cidr("10.0.0.0"), Err(CidrError::Syntax(_))));
        assert!(matches!(
            parse_cidr("10.0.0.0/33"),
            Err(CidrError::Syntax(_))
        ));
        assert!(matches!(
            parse_cidr("10.0.256.0/24"),
            Err(CidrError::Syntax(_))
        ));
        assert!(matches!(parse_cidr("fd00::/8"), Err(CidrError::Syntax(_))));
    }

    #[test]
    fn suggestions() {
        assert_eq!(edit_distance("adress_space", "address_space"), 1);
        assert_eq!(
            did_you_mean("adress_space", ["address_space", "subnets", "vnet_name"]),
            Some("address_space")
        );
        assert_eq!(did_you_mean("zzz", ["address_space"]), None);
        assert_eq!(
            did_you_mean("server", ["version", "server_name"]),
            Some("server_name")
        );
        assert_eq!(
            did_you_mean("UKSouht", ["uksouth", "ukwest"]),
            Some("uksouth")
        );
    }
}
