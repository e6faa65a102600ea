//! Secrets never live in an environment file: heuristics that spot one by key name or value.
//!
//! Messages built here never contain the offending value.

/// Where secrets come from instead of the file; appended to every `secret-in-file` message.
pub const WHERE_SECRETS_COME_FROM: &str = "secrets never go in an environment file: the PostgreSQL \
admin password comes from OWUI_POSTGRES_ADMIN_PASSWORD (or is generated on first deploy and kept \
only in Key Vault), the TLS certificate from domain.certificate_pfx_path (a file path) or \
OWUI_CERTIFICATE_PFX_BASE64, and Azure credentials from the standard AZURE_* variables, workload \
identity or `az login`";

/// Words that make a key name a secret when they appear as a whole word.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "secrets",
    "token",
    "tokens",
    "pfx",
    "credential",
    "credentials",
    "apikey",
    "sas",
    "connectionstring",
    "privatekey",
    "accesskey",
    "accountkey",
];

/// Splits a key into lower-case words at `_`, `-`, `.`, spaces and camelCase boundaries.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Does a key *name* look like it holds a secret (`password`, `client_secret`, `api_key`,
/// `key`, `connection_string`, `token`, `pfx`, ...)? Names of things (`key_vault_name`) do not.
pub fn key_looks_secret(name: &str) -> Option<String> {
    let w = words(name);
    let hit = w.iter().any(|x| SECRET_WORDS.contains(&x.as_str()))
        || w.last().is_some_and(|x| x == "key" || x == "keys")
        || w.windows(2).any(|p| {
            matches!(
                (p[0].as_str(), p[1].as_str()),
                ("connection", "string") | ("private", "key") | ("client", "secret")
            )
        });
    hit.then(|| format!("the key name '{name}' says it holds a secret"))
}

/// Values that say "not a secret" even under a secret-looking name in a free-form
/// table (`ENABLE_API_KEY = "true"`).
pub fn value_is_flag_or_number(v: &str) -> bool {
    let t = v.trim().to_ascii_lowercase();
    t.is_empty()
        || matches!(t.as_str(), "true" | "false" | "yes" | "no" | "on" | "off")
        || t.chars().all(|c| c.is_ascii_digit())
}

fn entropy_bits_per_char(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = s.chars().count() as f64;
    counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Does a string *value* look like a secret: a PEM body, a PFX or other long base64 blob,
/// a JSON Web Token, a connection string with a key or password, a URL with a password?
/// Returns what it looks like (never the value).
pub fn value_looks_secret(v: &str) -> Option<&'static str> {
    let t = v.trim();
    let lower = t.to_ascii_lowercase();
    if t.contains("-----BEGIN") {
        return Some("a PEM certificate or private key");
    }
    if t.starts_with("eyJ") && t.split('.').count() == 3 && t.len() > 30 {
        return Some("a JSON Web Token");
    }
    for marker in [
        "accountkey=",
        "sharedaccesskey=",
        "sharedaccesssignature=",
        "password=",
        "pwd=",
        "sig=",
    ] {
        if lower.contains(marker) {
            return Some("a connection string or URL with a key or password");
        }
    }
    if let Some((_, rest)) = t.split_once("://") {
        let authority = rest.split('/').next().unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && userinfo.contains(':')
        {
            return Some("a URL with a password");
        }
    }
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    let base64_chars = compact
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_'));
    if base64_chars && compact.len() >= 40 {
        if compact.starts_with("MII") {
            return Some("a base64 PFX or DER certificate");
        }
        let upper = compact.chars().any(|c| c.is_ascii_uppercase());
        let lower_c = compact.chars().any(|c| c.is_ascii_lowercase());
        let digit = compact.chars().any(|c| c.is_ascii_digit());
        // Names made of words ("Open-WebUI-Prod2") have short runs between separators;
        // key material has long ones.
        let longest_run = compact.split(['-', '_']).map(str::len).max().unwrap_or(0);
        if upper && lower_c && digit && longest_run >= 24 && entropy_bits_per_char(&compact) >= 4.2
        {
            return Some("a long base64 blob (key or certificate material)");
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_key_names() {
        for k in [
            "password",
            "admin_password",
            "client_secret",
            "clientSecret",
            "subscription_key",
            "key",
            "api_key",
            "OPENAI_API_KEY",
            "WEBUI_SECRET_KEY",
            "connection_string",
            "ConnectionString",
            "token",
            "pfx",
            "certificate_pfx",
            "storage_account_key",
            "sas_token",
        ] {
            assert!(key_looks_secret(k).is_some(), "{k}");
        }
        for k in [
            "key_vault_name",
            "keyvault",
            "name",
            "monkey",
            "ENABLE_OAUTH_SIGNUP",
            "OAUTH_GROUPS_CLAIM",
            "cost_center",
            "keyboard",
            "tokenizer_model",
        ] {
            assert!(key_looks_secret(k).is_none(), "{k}");
        }
    }

    #[test]
    fn secret_values() {
        assert!(
            value_looks_secret("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----")
                .is_some()
        );
        assert!(value_looks_secret("MIIKXAIBAzCCChYGCSqGSIb3DQEHAaCCCgcEggoDMIIJ").is_some());
        assert!(
            value_looks_secret("q3Zx9Lk2Pw8RtY7uVb1Nc4Md6Fg0Hj5Ks3Ae2Wr9Tz8Xy7Qp1Lm4No6Bv2Cx5=")
                .is_some()
        );
        assert!(
            value_looks_secret("DefaultEndpointsProtocol=https;AccountName=st;AccountKey=abc")
                .is_some()
        );
        assert!(
            value_looks_secret("postgresql://owui:hunter2@psql.postgres.database.azure.com/db")
                .is_some()
        );
        assert!(
            value_looks_secret("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl")
                .is_some()
        );
        for ok in [
            "ghcr.io/open-webui/open-webui:main",
            "https://raw.githubusercontent.com/contoso/specs/main/openai-v1.json",
            "certs/chat.contoso.com.pfx",
            "00000000-0000-0000-0000-000000000000",
            "Open-WebUI-Production-Application-Insights",
            "Application-Insights-For-Open-WebUI-Prod2",
            "0123456789abcdef0123456789abcdef01234567",
            "platform@contoso.com",
        ] {
            assert!(value_looks_secret(ok).is_none(), "{ok}");
        }
    }
}
