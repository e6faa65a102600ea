//! Harness for tests of the `owui-deploy` binary: an in-process sandbox, a temporary
//! directory with an environment file and the sandbox's CA, the built binary run
//! against it (`OWUI_SANDBOX_URL` / `OWUI_SANDBOX_CA`), and the sandbox journal.
#![allow(dead_code)]

use owui_deploy::sandbox::{Sandbox, SandboxOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

/// Time scale of the sandbox (APIM's 45 minutes take 1.35 s).
pub const TIME_SCALE: f64 = 0.0005;

/// Environment variables the harness never lets the child inherit from the test
/// process (so the developer's shell cannot change a test).
const SCRUBBED: &[&str] = &[
    "OWUI_ENV",
    "OWUI_AUTH",
    "OWUI_POSTGRES_ADMIN_PASSWORD",
    "OWUI_CERTIFICATE_PFX_BASE64",
    "OWUI_SANDBOX_URL",
    "OWUI_SANDBOX_CA",
    "RUST_LOG",
    "NO_COLOR",
];

/// What a run of the binary produced.
pub struct Run {
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Command lines (`/proc/PID/cmdline`, NUL-separated args joined by spaces) of the
    /// child and its descendants, sampled while it ran.
    pub command_lines: Vec<String>,
}

impl Run {
    /// The exit code (`-1` when killed by a signal).
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }

    /// Panics with stdout and stderr unless the run succeeded.
    pub fn assert_ok(&self, what: &str) {
        assert!(
            self.status.success(),
            "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            self.code(),
            self.stdout,
            self.stderr
        );
    }
}

/// A sandbox plus a working directory for the binary.
pub struct CliEnv {
    /// The in-process sandbox.
    pub sb: Sandbox,
    /// Temporary working directory (the child's current directory).
    pub dir: tempfile::TempDir,
    /// The environment file passed with `--env`.
    pub env_file: PathBuf,
    /// The sandbox's CA certificate (PEM) written for the child.
    pub ca_file: PathBuf,
    http: reqwest::Client,
}

/// Path of a file shipped with the crate.
pub fn crate_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

impl CliEnv {
    /// Start a sandbox and write `environments/sandbox.toml` as the environment file.
    pub async fn start() -> CliEnv {
        let text = std::fs::read_to_string(crate_file("environments/sandbox.toml"))
            .expect("environments/sandbox.toml");
        CliEnv::with_env(&text).await
    }

    /// Start a sandbox and write `env_toml` as the environment file.
    pub async fn with_env(env_toml: &str) -> CliEnv {
        let sb = Sandbox::start(SandboxOptions {
            time_scale: TIME_SCALE,
            ..SandboxOptions::default()
        })
        .await
        .expect("sandbox starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, sb.ca_pem()).expect("write CA");
        let env_file = dir.path().join("env.toml");
        std::fs::write(&env_file, env_toml).expect("write env file");
        let ca = reqwest::Certificate::from_pem(sb.ca_pem().as_bytes()).expect("CA PEM");
        let http = reqwest::Client::builder()
            .tls_certs_only([ca])
            .build()
            .expect("client");
        CliEnv {
            sb,
            dir,
            env_file,
            ca_file,
            http,
        }
    }

    /// The environment file's text.
    pub fn env_text(&self) -> String {
        std::fs::read_to_string(&self.env_file).expect("read env file")
    }

    /// Replace the environment file.
    pub fn write_env(&self, text: &str) {
        std::fs::write(&self.env_file, text).expect("write env file");
    }

    /// Run `owui-deploy --env ENV_FILE ARGS...` with extra environment variables.
    pub async fn run(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_owui-deploy"));
        cmd.arg("--env")
            .arg(&self.env_file)
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for v in SCRUBBED {
            cmd.env_remove(v);
        }
        cmd.env("OWUI_SANDBOX_URL", self.sb.url())
            .env("OWUI_SANDBOX_CA", &self.ca_file)
            .env("NO_COLOR", "1");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn owui-deploy");
        let pid = child.id();
        let sampler = tokio::spawn(async move {
            let mut seen: Vec<String> = Vec::new();
            let Some(pid) = pid else { return seen };
            loop {
                for line in command_lines_of_tree(pid) {
                    if !seen.contains(&line) {
                        seen.push(line);
                    }
                }
                if !Path::new(&format!("/proc/{pid}")).exists() {
                    return seen;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        let out = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
            .await
            .expect("owui-deploy finished within 5 minutes")
            .expect("owui-deploy output");
        let command_lines = sampler.await.unwrap_or_default();
        Run {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            command_lines,
        }
    }

    /// Every journal entry with `seq > since`.
    pub async fn journal_since(&self, since: u64) -> Vec<Value> {
        let v: Value = self
            .http
            .get(format!("{}/_sandbox/journal?since={since}", self.sb.url()))
            .send()
            .await
            .expect("journal")
            .json()
            .await
            .expect("journal JSON");
        v.as_array().cloned().unwrap_or_default()
    }

    /// The sequence number of the last journal entry (0 when empty).
    pub async fn journal_mark(&self) -> u64 {
        self.journal_since(0)
            .await
            .iter()
            .filter_map(|e| e["seq"].as_u64())
            .max()
            .unwrap_or(0)
    }

    /// Writes since `since`: PUT, PATCH, POST and DELETE, except token requests.
    /// (A POST action such as `listKeys` counts: it is only sent when a write needs it.)
    pub async fn writes_since(&self, since: u64) -> Vec<Value> {
        self.journal_since(since)
            .await
            .into_iter()
            .filter(is_write)
            .collect()
    }

    /// A bearer token for `scope` (client credentials `sandbox`/`sandbox`).
    pub async fn token(&self, scope: &str) -> String {
        let v: Value = self
            .http
            .post(format!(
                "{}/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token",
                self.sb.url()
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

    /// GET an ARM path (ID plus `?api-version=...`): (status, body).
    pub async fn arm_get(&self, path_and_query: &str) -> (u16, Value) {
        let token = self.token("https://management.azure.com/.default").await;
        self.get(path_and_query, &token).await
    }

    /// GET a Microsoft Graph path (e.g. `/v1.0/applications(uniqueName='x')`).
    pub async fn graph_get(&self, path: &str) -> (u16, Value) {
        let token = self.token("https://graph.microsoft.com/.default").await;
        self.get(path, &token).await
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.sb.url()))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET");
        let status = r.status().as_u16();
        let body = r.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Every file under the working directory (recursively).
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

/// Whether a journal entry is a write (see [`CliEnv::writes_since`]).
pub fn is_write(e: &Value) -> bool {
    let method = e["method"].as_str().unwrap_or("");
    let path = e["path"].as_str().unwrap_or("");
    matches!(method, "PUT" | "PATCH" | "POST" | "DELETE") && !path.contains("/oauth2/")
}

/// `METHOD path` of journal entries, for assertion messages and comparisons.
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

/// Command lines of `pid` and every descendant, from `/proc`.
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
                // Field 4 (after the parenthesised command name) is the parent PID.
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
