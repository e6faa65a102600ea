//! Shared harness for CLI tests: an in-process sandbox, a copy of an environment
//! file in a temporary directory, the built binary run against the sandbox, and
//! the sandbox journal.
#![allow(dead_code)]

mod typed;

use owui_deploy::sandbox::{Sandbox, SandboxOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A sandbox plus a working directory holding an environment file and the CA.
pub struct Harness {
    /// The running sandbox.
    pub sandbox: Sandbox,
    /// Temporary working directory (removed on drop).
    pub dir: tempfile::TempDir,
    /// The environment file inside `dir`.
    pub env_file: PathBuf,
    /// The CA certificate file inside `dir`.
    pub ca_file: PathBuf,
    client: reqwest::Client,
}

/// What a CLI run returned.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Panic with both streams unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code {} (wanted {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
    /// Panic unless the run succeeded.
    pub fn ok(&self) -> &Self {
        self.expect_code(0)
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Validation errors of `doc` against `docs/schemas/{name}` (empty when valid).
pub fn doc_schema_errors(name: &str, doc: &Value) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("docs/schemas").join(name))
        .unwrap_or_else(|e| panic!("docs/schemas/{name}: {e}"));
    let schema: Value = serde_json::from_str(&text).expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}

impl Harness {
    /// Start a sandbox with `time_scale` and copy `environments/{env_name}.toml`.
    pub async fn start(env_name: &str, time_scale: f64) -> Harness {
        let text =
            std::fs::read_to_string(repo().join("environments").join(format!("{env_name}.toml")))
                .expect("environment file");
        Self::with_env_text(&text, time_scale).await
    }

    /// Start a sandbox with `time_scale` and the given environment file text.
    pub async fn with_env_text(text: &str, time_scale: f64) -> Harness {
        let sandbox = Sandbox::start(SandboxOptions {
            time_scale,
            ..SandboxOptions::default()
        })
        .await
        .expect("sandbox starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let env_file = dir.path().join("env.toml");
        std::fs::write(&env_file, text).expect("write env");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, sandbox.ca_pem()).expect("write ca");
        let cert = reqwest::Certificate::from_pem(sandbox.ca_pem().as_bytes()).expect("ca pem");
        let client = reqwest::Client::builder()
            .tls_certs_only([cert])
            .build()
            .expect("client");
        Harness {
            sandbox,
            dir,
            env_file,
            ca_file,
            client,
        }
    }

    /// Replace the environment file's text.
    pub fn write_env(&self, text: &str) {
        std::fs::write(&self.env_file, text).expect("write env");
    }

    /// The environment file's text.
    pub fn env_text(&self) -> String {
        std::fs::read_to_string(&self.env_file).expect("read env")
    }

    /// The command, pointed at the sandbox and the environment file.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_owui-deploy"));
        // `--sandbox-url`: the copied environments (e.g. dev.toml) are not `cloud =
        // "sandbox"`, and OWUI_SANDBOX_URL alone never redirects them.
        cmd.current_dir(self.dir.path())
            .arg("--sandbox-url")
            .arg(self.sandbox.url())
            .env("OWUI_SANDBOX_URL", self.sandbox.url())
            .env("OWUI_SANDBOX_CA", &self.ca_file)
            .env("OWUI_ENV", &self.env_file)
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("OWUI_POSTGRES_ADMIN_PASSWORD")
            .env_remove("OWUI_CERTIFICATE_PFX_BASE64")
            .env_remove("AZURE_CLIENT_ID")
            .env_remove("AZURE_CLIENT_SECRET")
            .env_remove("AZURE_FEDERATED_TOKEN_FILE")
            .args(args);
        cmd
    }

    /// Run the CLI with `args` (blocking, off the async runtime's threads).
    pub async fn run(&self, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        let out: Output = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("join")
            .expect("run owui-deploy");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// GET an admin API path (sent with the sandbox's admin token).
    pub async fn admin_get(&self, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.sandbox.url()))
            .bearer_auth(self.sandbox.admin_token())
            .send()
            .await
            .expect("admin request")
            .json()
            .await
            .expect("admin json")
    }

    /// Every journal entry.
    pub async fn journal(&self) -> Vec<Value> {
        let v = self.admin_get("/_sandbox/journal").await;
        match v {
            Value::Array(a) => a,
            Value::Object(mut o) => match o.remove("entries") {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// Journal length now (use as a mark for [`Harness::writes_since`]).
    pub async fn mark(&self) -> usize {
        self.journal().await.len()
    }

    /// ARM/Graph writes (PUT, PATCH, POST, DELETE; not the token endpoint, the
    /// admin API, the preflight's read-only name checks or the environment lock's
    /// subscription tag, see [`is_write`]) since journal index `mark`, as `METHOD path` strings.
    pub async fn writes_since(&self, mark: usize) -> Vec<String> {
        self.journal()
            .await
            .into_iter()
            .skip(mark)
            .filter(is_write)
            .filter_map(|e| {
                let method = e.get("method")?.as_str()?.to_string();
                let path = e.get("path")?.as_str()?.to_string();
                Some(format!("{method} {path}"))
            })
            .collect()
    }

    /// Every resource the sandbox holds: `(id, type, provisioningState)` values as JSON.
    pub async fn resources(&self) -> Vec<Value> {
        match self.admin_get("/_sandbox/resources").await {
            Value::Array(a) => a,
            Value::Object(mut o) => match o.remove("resources") {
                Some(Value::Array(a)) => a,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// The resource IDs the sandbox holds, lower-cased and sorted.
    pub async fn resource_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .resources()
            .await
            .iter()
            .filter_map(|r| {
                r.get("id")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase)
            })
            .collect();
        ids.sort();
        ids
    }

    /// The working directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

// ---------------------------------------------------------------------------------
// Extra helpers (spoke tests): per-run environment variables, the child's command
// lines, authenticated ARM/Graph reads, journal entries as JSON, files written.

/// Journal entries that are ARM/Graph writes (PUT, PATCH, POST, DELETE; not the
/// token endpoint nor the environment lock). A POST action such as `listKeys` counts;
/// the read-only POSTs of the preflight (`checkNameAvailability`,
/// `checkDomainAvailability`) do not.
pub fn is_write(e: &Value) -> bool {
    let method = e["method"].as_str().unwrap_or("");
    let path = e["path"].as_str().unwrap_or("");
    let bare = path.split('?').next().unwrap_or(path).to_ascii_lowercase();
    matches!(method, "PUT" | "PATCH" | "POST" | "DELETE")
        && !path.contains("/oauth2/")
        && !path.starts_with("/_sandbox")
        && !bare.ends_with("/checknameavailability")
        && !bare.ends_with("/checkdomainavailability")
        && !is_lock_path(path)
}

/// A request for the environment lock (the subscription's tags), which every
/// writing run takes and releases; not a write of the deployment.
pub fn is_lock_path(path: &str) -> bool {
    path.to_ascii_lowercase()
        .contains("/providers/microsoft.resources/tags/default")
}

/// `METHOD path` (query removed) of journal entries.
pub fn summary(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| {
            let path = e["path"].as_str().unwrap_or("");
            format!(
                "{} {}",
                e["method"].as_str().unwrap_or(""),
                path.split('?').next().unwrap_or(path)
            )
        })
        .collect()
}

impl Harness {
    /// [`Harness::run`] with extra environment variables (secrets go here, never in
    /// `args`); also returns the command lines of the child and its descendants,
    /// sampled from `/proc` while it ran.
    pub async fn run_sampled(&self, args: &[&str], envs: &[(&str, &str)]) -> (Run, Vec<String>) {
        let mut cmd = self.command(args);
        cmd.env_remove("RUST_LOG")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn owui-deploy");
        let pid = child.id();
        let waiter = tokio::task::spawn_blocking(move || child.wait_with_output());
        let mut lines: Vec<String> = Vec::new();
        while !waiter.is_finished() {
            for line in command_lines_of_tree(pid) {
                if !lines.contains(&line) {
                    lines.push(line);
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let out = waiter.await.expect("join").expect("run owui-deploy");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        (run, lines)
    }

    /// [`Harness::run`] with extra environment variables.
    pub async fn run_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        self.run_sampled(args, envs).await.0
    }

    /// [`Harness::journal_since`] with the request bodies as sent, secrets included
    /// (in-process; the journal served over HTTP has them redacted).
    pub fn journal_unredacted_since(&self, mark: usize) -> Vec<Value> {
        self.sandbox
            .journal_unredacted()
            .into_iter()
            .skip(mark)
            .collect()
    }

    /// Journal entries from index `mark` (see [`Harness::mark`]) on, as JSON.
    pub async fn journal_since(&self, mark: usize) -> Vec<Value> {
        self.journal().await.into_iter().skip(mark).collect()
    }

    /// Writes since `mark` as `METHOD path` without the query string.
    pub async fn write_summary_since(&self, mark: usize) -> Vec<String> {
        let entries: Vec<Value> = self
            .journal_since(mark)
            .await
            .into_iter()
            .filter(is_write)
            .collect();
        summary(&entries)
    }

    /// A bearer token for `scope` (client credentials `sandbox`/`sandbox`).
    pub async fn token(&self, scope: &str) -> String {
        let v: Value = self
            .client
            .post(format!(
                "{}/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token",
                self.sandbox.url()
            ))
            .form(&[
                ("client_id", "sandbox"),
                ("client_secret", "sandbox"),
                ("grant_type", "client_credentials"),
                ("scope", scope),
            ])
            .send()
            .await
            .expect("token request")
            .json()
            .await
            .expect("token JSON");
        v["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    async fn get_with_token(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.sandbox.url()))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// GET an ARM path with its query (`ID?api-version=...`): (status, body).
    pub async fn arm_get(&self, path_and_query: &str) -> (u16, Value) {
        let token = self.token("https://management.azure.com/.default").await;
        self.get_with_token(path_and_query, &token).await
    }

    /// Write to ARM directly, as someone outside the tool would (`ID?api-version=...`);
    /// panics unless the answer is 2xx. Returns the body.
    pub async fn arm_send(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: &Value,
    ) -> Value {
        let token = self.token("https://management.azure.com/.default").await;
        let r = self
            .client
            .request(
                method.clone(),
                format!("{}{path_and_query}", self.sandbox.url()),
            )
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("ARM request");
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "{method} {path_and_query}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// POST a query to the sandbox's Logs query API with a token for `scope`:
    /// (status, body).
    pub async fn logs_query(&self, workspace: &str, query: &str, scope: &str) -> (u16, Value) {
        let token = self.token(scope).await;
        let r = self
            .client
            .post(format!(
                "{}/v1/workspaces/{workspace}/query",
                self.sandbox.url()
            ))
            .bearer_auth(token)
            .json(&serde_json::json!({"query": query, "timespan": "P1D"}))
            .send()
            .await
            .expect("logs query");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// GET a Microsoft Graph path (`/v1.0/...`): (status, body).
    pub async fn graph_get(&self, path: &str) -> (u16, Value) {
        let token = self.token("https://graph.microsoft.com/.default").await;
        self.get_with_token(path, &token).await
    }

    /// POST JSON to the admin API (e.g. `/_sandbox/faults`); panics unless 2xx.
    pub async fn admin_post(&self, path: &str, body: &Value) -> Value {
        let r = self
            .client
            .post(format!("{}{path}", self.sandbox.url()))
            .bearer_auth(self.sandbox.admin_token())
            .json(body)
            .send()
            .await
            .expect("admin POST");
        assert!(r.status().is_success(), "POST {path}: {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }

    /// Every file under the working directory, recursively.
    pub fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(rd) = std::fs::read_dir(dir) else {
                return;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out
    }
}

/// Command lines of `pid` and every descendant, from `/proc` (arguments joined by spaces).
fn command_lines_of_tree(pid: u32) -> Vec<String> {
    let mut pids = vec![pid];
    let mut i = 0;
    while i < pids.len() {
        let parent = pids[i];
        if let Ok(rd) = std::fs::read_dir("/proc") {
            for e in rd.flatten() {
                let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                    continue;
                };
                let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                    continue;
                };
                // The parent PID is the second field after the parenthesised name.
                let ppid = stat
                    .rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    .and_then(|s| s.parse::<u32>().ok());
                if ppid == Some(parent) && !pids.contains(&p) {
                    pids.push(p);
                }
            }
        }
        i += 1;
    }
    pids.iter()
        .filter_map(|p| std::fs::read(format!("/proc/{p}/cmdline")).ok())
        .filter(|b| !b.is_empty())
        .map(|b| {
            b.split(|c| *c == 0)
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}
