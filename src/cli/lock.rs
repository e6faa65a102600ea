//! The environment lock: one writing run (`hub`, `spoke`, `finalize`, `up`,
//! `apply FILE`, `destroy`) per environment at a time.
//!
//! - Azure and a shared sandbox: a tag `owui-deploy-lock-ENV` on the
//!   subscription (`Microsoft.Resources/tags/default`, operation `Merge`), whose
//!   value names the holder and when its lease expires. It exists before any
//!   resource group, needs no storage account and no permission beyond those the
//!   run already has. ARM has no conditional write for tags, so acquiring is
//!   read, write, wait [`SETTLE`], read again: a run that finds another holder's
//!   value after the wait gives way. The holder renews the lease while it runs;
//!   a holder that died stops renewing and its lock expires after [`LEASE`];
//!   one on this machine whose process is gone is free at once.
//! - The embedded sandbox: each process holds its own copy of the state file,
//!   so the lock is a file beside it (`STATE.lock`, created exclusively), taken
//!   before the state is loaded; a holder whose process is gone (or whose lease
//!   expired) is replaced.
//!
//! See docs/architecture.md ("Environment lock") for why.

use super::session::{SANDBOX_URL_VAR, Session};
use crate::config::{CloudSetting, LoadedEnvironment, NamedCloud};
use crate::engine::{Address, Backend};
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How long a lock lasts without renewal (a holder that died frees it then).
pub const LEASE: Duration = Duration::from_secs(15 * 60);
/// How often the holder renews.
const RENEW_EVERY: Duration = Duration::from_secs(5 * 60);
/// The wait between writing the lock and reading it back (Azure).
pub const SETTLE: Duration = Duration::from_secs(3);
/// The same wait against a sandbox (one process answers every request).
const SETTLE_SANDBOX: Duration = Duration::from_millis(300);
/// Prefix of the subscription tag holding an environment's lock.
pub const TAG_PREFIX: &str = "owui-deploy-lock-";
/// API version of `Microsoft.Resources/tags` (not a resource of the model, so
/// not in the table of `azure::api_versions`; the same version as resource
/// groups, in ../shared/arm-schemas/2024-11-01/Microsoft.Resources.json).
const TAGS_API_VERSION: &str = "2024-11-01";
/// ARM's limit on a tag value.
const MAX_TAG_VALUE: usize = 256;

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The lock ID (for `force-unlock`).
    pub id: String,
    /// `user@host`, and the CI run when there is one.
    pub who: String,
    /// The machine's host name (a holder on this machine whose process is gone
    /// has died).
    pub host: String,
    /// The holder's process ID.
    pub pid: u32,
    /// The command it runs.
    pub command: String,
    /// When it took the lock (unix seconds).
    pub since: i64,
    /// When the lock expires unless renewed (unix seconds).
    pub expires: i64,
}

impl Holder {
    fn new(command: &str) -> Holder {
        let now = now_unix();
        Holder {
            id: uuid::Uuid::new_v4().to_string(),
            who: who(),
            host: host_name(),
            pid: std::process::id(),
            command: command.to_string(),
            since: now,
            expires: now + LEASE.as_secs() as i64,
        }
    }

    /// The tag value: `key=value` pairs separated by `;` (at most 256 characters).
    fn encode(&self) -> String {
        let clean = |s: &str| s.replace([';', '='], "_");
        let text = format!(
            "id={};since={};expires={};pid={};host={};cmd={};by={}",
            self.id,
            self.since,
            self.expires,
            self.pid,
            clean(&self.host),
            clean(&self.command),
            clean(&self.who)
        );
        text.chars().take(MAX_TAG_VALUE).collect()
    }

    fn decode(text: &str) -> Option<Holder> {
        let field = |name: &str| {
            text.split(';')
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .map(str::to_string)
        };
        Some(Holder {
            id: field("id")?,
            since: field("since")?.parse().ok()?,
            expires: field("expires")?.parse().ok()?,
            pid: field("pid").and_then(|p| p.parse().ok()).unwrap_or(0),
            command: field("cmd").unwrap_or_default(),
            who: field("by").unwrap_or_default(),
            host: field("host").unwrap_or_default(),
        })
    }

    fn expired(&self) -> bool {
        self.expires <= now_unix()
    }

    /// Expired, or held by a process of this machine that is gone (kill -9,
    /// a crash): free to take.
    fn dead(&self) -> bool {
        self.expired() || (self.host == host_name() && !process_alive(self.pid))
    }

    fn describe(&self) -> String {
        format!(
            "{} (`{}`, process {}) since {}, lock ID {}; it expires at {} unless renewed",
            self.who,
            self.command,
            self.pid,
            rfc3339(self.since),
            self.id,
            rfc3339(self.expires)
        )
    }
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another run holds it.
    #[error(
        "environment {env} is locked by {}.\nNothing was changed. Wait for that run to finish; if it died, the lock expires by itself, or release it with: owui-deploy force-unlock --env {env_file} {}",
        holder.describe(), holder.id
    )]
    Held {
        /// The environment's name.
        env: String,
        /// Its file, for the command shown.
        env_file: String,
        /// The holder.
        holder: Holder,
    },
}

/// A held lock; release it with [`EnvLock::release`] (a dropped lock that was
/// not released expires after [`LEASE`]).
pub struct EnvLock {
    holder: Holder,
    kind: Kind,
    renewer: Option<tokio::task::JoinHandle<()>>,
}

enum Kind {
    File(PathBuf),
    Tag {
        backend: Arc<dyn Backend>,
        address: Address,
        tag: String,
    },
}

/// The lock file of an embedded sandbox's state, when this environment runs in
/// one (as `Session::open` decides; used by `force-unlock`, which opens no session).
pub fn embedded_lock_file(loaded: &LoadedEnvironment) -> Option<PathBuf> {
    let sandbox = matches!(
        loaded.env.azure.cloud,
        CloudSetting::Named(NamedCloud::Sandbox)
    );
    if !sandbox || std::env::var_os(SANDBOX_URL_VAR).is_some() {
        return None;
    }
    Some(state_lock_path(
        &loaded.resolve_path(&loaded.env.azure.sandbox.state_file),
    ))
}

fn state_lock_path(state: &std::path::Path) -> PathBuf {
    let mut name = state.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the lock of the embedded sandbox's `state` file (before the sandbox
/// loads it).
pub fn acquire_file(
    loaded: &LoadedEnvironment,
    state: &std::path::Path,
    command: &str,
) -> Result<Result<EnvLock, LockError>> {
    let path = state_lock_path(state);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder of {}", path.display()))?;
    }
    let holder = Holder::new(command);
    for _ in 0..3 {
        match create_exclusive(&path, &holder.encode()) {
            Ok(()) => {
                return Ok(Ok(EnvLock {
                    holder,
                    kind: Kind::File(path),
                    renewer: None,
                }));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
        }
        match read_file_holder(&path) {
            Some(other) if !other.expired() && process_alive(other.pid) => {
                return Ok(Err(held(loaded, other)));
            }
            // A dead or expired holder (or an unreadable file): replace it.
            _ => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    anyhow::bail!("cannot take the lock file {}", path.display())
}

fn create_exclusive(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

fn read_file_holder(path: &std::path::Path) -> Option<Holder> {
    let text = std::fs::read_to_string(path).ok()?;
    Holder::decode(text.trim())
}

/// Whether a process of this ID runs on this machine (unknown: assumed alive).
/// `/proc` on Linux; elsewhere `kill -0` (macOS, BSD).
fn process_alive(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    if proc.join("self").exists() {
        return proc.join(pid.to_string()).exists();
    }
    // Another user's process answers "Operation not permitted": alive.
    match std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .output()
    {
        Ok(out) => {
            out.status.success()
                || String::from_utf8_lossy(&out.stderr)
                    .to_ascii_lowercase()
                    .contains("not permitted")
        }
        Err(_) => true,
    }
}

fn held(loaded: &LoadedEnvironment, holder: Holder) -> LockError {
    LockError::Held {
        env: loaded.env.name.clone(),
        env_file: loaded.path.display().to_string(),
        holder,
    }
}

fn tag_address(loaded: &LoadedEnvironment) -> Address {
    Address(format!(
        "/subscriptions/{}/providers/Microsoft.Resources/tags/default",
        loaded.env.azure.subscription_id
    ))
}

fn tag_name(loaded: &LoadedEnvironment) -> String {
    format!("{TAG_PREFIX}{}", loaded.env.name)
}

fn settle(loaded: &LoadedEnvironment) -> Duration {
    let sandbox = matches!(
        loaded.env.azure.cloud,
        CloudSetting::Named(NamedCloud::Sandbox)
    ) || std::env::var_os(SANDBOX_URL_VAR).is_some();
    if sandbox { SETTLE_SANDBOX } else { SETTLE }
}

async fn read_tag(backend: &dyn Backend, address: &Address, tag: &str) -> Result<Option<Holder>> {
    let api = crate::engine::Api::Arm {
        type_name: "Microsoft.Resources/tags".into(),
        api_version: TAGS_API_VERSION.into(),
    };
    let live = backend
        .read(address, &api)
        .await
        .context("cannot read the environment lock (subscription tags)")?;
    Ok(live
        .as_ref()
        .and_then(|v| v.pointer("/properties/tags"))
        .and_then(|t| t.get(tag))
        .and_then(Value::as_str)
        .and_then(Holder::decode))
}

/// The body of a `Tags - Update At Scope` PATCH of one tag (`operation`:
/// `Merge` to take or renew, `Delete` to release).
pub fn tag_patch_body(operation: &str, tag: &str, value: &str) -> Value {
    json!({"operation": operation, "properties": {"tags": {tag: value}}})
}

/// The tag value of a new lock held by this process for `command`.
pub fn new_lock_value(command: &str) -> String {
    Holder::new(command).encode()
}

async fn write_tag(
    backend: &dyn Backend,
    address: &Address,
    operation: &str,
    tag: &str,
    value: &str,
) -> Result<()> {
    let body = tag_patch_body(operation, tag, value);
    backend
        .patch(address, TAGS_API_VERSION, &body)
        .await
        .context("cannot write the environment lock (subscription tags)")?;
    Ok(())
}

/// Takes the environment's lock for a writing `command` (Azure or a shared
/// sandbox; the embedded sandbox is locked by [`acquire_file`]).
pub async fn acquire(
    session: &Session,
    command: &str,
) -> Result<Result<Option<EnvLock>, LockError>> {
    let loaded = &session.loaded;
    if session.is_embedded() {
        return Ok(Ok(None));
    }
    let backend: Arc<dyn Backend> = session.backend.clone();
    let address = tag_address(loaded);
    let tag = tag_name(loaded);
    if let Some(other) = read_tag(backend.as_ref(), &address, &tag).await?
        && !other.dead()
    {
        return Ok(Err(held(loaded, other)));
    }
    let holder = Holder::new(command);
    write_tag(backend.as_ref(), &address, "Merge", &tag, &holder.encode()).await?;
    // Two runs that both found the lock free both wrote it: the one whose value
    // is not there after the wait gives way.
    tokio::time::sleep(settle(loaded)).await;
    match read_tag(backend.as_ref(), &address, &tag).await? {
        Some(now) if now.id == holder.id => {}
        Some(other) => return Ok(Err(held(loaded, other))),
        None => anyhow::bail!("the environment lock vanished right after it was written"),
    }
    let renewer = Some(tokio::spawn(renew(
        backend.clone(),
        address.clone(),
        tag.clone(),
        holder.clone(),
    )));
    Ok(Ok(Some(EnvLock {
        holder,
        kind: Kind::Tag {
            backend,
            address,
            tag,
        },
        renewer,
    })))
}

/// Extends the lease while the run lasts, as long as the lock is still ours.
async fn renew(backend: Arc<dyn Backend>, address: Address, tag: String, mut holder: Holder) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        match read_tag(backend.as_ref(), &address, &tag).await {
            Ok(Some(now)) if now.id == holder.id => {}
            Ok(_) => {
                tracing::warn!("the environment lock was released by someone else (force-unlock)");
                return;
            }
            Err(e) => {
                tracing::warn!("cannot renew the environment lock: {e:#}");
                continue;
            }
        }
        holder.expires = now_unix() + LEASE.as_secs() as i64;
        if let Err(e) = write_tag(backend.as_ref(), &address, "Merge", &tag, &holder.encode()).await
        {
            tracing::warn!("cannot renew the environment lock: {e:#}");
        }
    }
}

impl EnvLock {
    /// Releases the lock if it is still ours.
    pub async fn release(mut self) {
        if let Some(r) = self.renewer.take() {
            r.abort();
        }
        match &self.kind {
            Kind::File(path) => {
                if read_file_holder(path).is_some_and(|h| h.id == self.holder.id) {
                    let _ = std::fs::remove_file(path);
                }
            }
            Kind::Tag {
                backend,
                address,
                tag,
            } => {
                let ours = matches!(
                    read_tag(backend.as_ref(), address, tag).await,
                    Ok(Some(h)) if h.id == self.holder.id
                );
                if ours
                    && let Err(e) = write_tag(
                        backend.as_ref(),
                        address,
                        "Delete",
                        tag,
                        &self.holder.encode(),
                    )
                    .await
                {
                    tracing::warn!(
                        "cannot release the environment lock (it expires by itself): {e:#}"
                    );
                }
            }
        }
    }
}

/// Takes the lock for `command` on `session`'s environment; when another run
/// holds it, prints who and closes the session (exit code 1). On any error the
/// session is closed too.
pub async fn take(
    session: Session,
    command: &str,
) -> Result<Result<(Session, Option<EnvLock>), std::process::ExitCode>> {
    match acquire(&session, command).await {
        Ok(Ok(lock)) => Ok(Ok((session, lock))),
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            session.close().await;
            Ok(Err(std::process::ExitCode::from(1)))
        }
        Err(e) => {
            session.close().await;
            Err(e)
        }
    }
}

/// Releases `lock` when there is one.
pub async fn release(lock: Option<EnvLock>) {
    if let Some(lock) = lock {
        lock.release().await;
    }
}

/// The command line's command (`up`, `destroy`, ...), for the lock's holder.
pub fn command_name() -> String {
    std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "owui-deploy".into())
}

/// `owui-deploy force-unlock [LOCK_ID] [--yes]`.
pub(super) async fn run_force_unlock(
    cli: &super::args::Cli,
    args: &super::args::ForceUnlockArgs,
) -> Result<std::process::ExitCode> {
    use std::process::ExitCode;
    let loaded = match super::deploy::load_env(cli)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let release = args.lock_id.is_some() || args.yes;
    // `--sandbox-url` names a running sandbox: its lock is a subscription tag there.
    let embedded = cli.sandbox_url.is_none() && embedded_lock_file(&loaded).is_some();
    let outcome = if embedded {
        force_unlock(&loaded, None, args.lock_id.as_deref(), release).await
    } else {
        let session = Session::open(loaded.clone(), cli.auth, cli.sandbox_url.as_deref()).await?;
        let r = force_unlock(&loaded, Some(&session), args.lock_id.as_deref(), release).await;
        session.close().await;
        r
    };
    match (outcome?, release) {
        (None, _) => println!("Environment {} is not locked.", loaded.env.name),
        (Some(h), true) => println!(
            "Released the lock of environment {} held by {}.",
            loaded.env.name,
            h.describe()
        ),
        (Some(h), false) => {
            eprintln!(
                "Environment {} is locked by {}.\nMake sure that run is not running any more, then release it with: owui-deploy force-unlock --env {} {}",
                loaded.env.name,
                h.describe(),
                loaded.path.display(),
                h.id
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `force-unlock`: removes the environment's lock (only the one of `id` when
/// given; nothing unless `release`). Returns the holder, `None` when there was
/// no lock.
pub async fn force_unlock(
    loaded: &LoadedEnvironment,
    session: Option<&Session>,
    id: Option<&str>,
    release: bool,
) -> Result<Option<Holder>> {
    let check = |h: &Holder| -> Result<()> {
        match id {
            Some(id) if id != h.id => anyhow::bail!(
                "the lock of environment {} has ID {}, not {id}; nothing was released",
                loaded.env.name,
                h.id
            ),
            _ => Ok(()),
        }
    };
    if let Some(path) = embedded_lock_file(loaded) {
        let Some(h) = read_file_holder(&path) else {
            let _ = std::fs::remove_file(&path);
            return Ok(None);
        };
        check(&h)?;
        if !release {
            return Ok(Some(h));
        }
        std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
        return Ok(Some(h));
    }
    let session = session.context("no connection to release the lock with")?;
    let backend = session.backend.as_ref();
    let (address, tag) = (tag_address(loaded), tag_name(loaded));
    let Some(h) = read_tag(backend, &address, &tag).await? else {
        return Ok(None);
    };
    check(&h)?;
    if release {
        write_tag(backend, &address, "Delete", &tag, &h.encode()).await?;
    }
    Ok(Some(h))
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

fn who() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = host_name();
    let ci = [
        ("GITHUB_RUN_ID", "GitHub run"),
        ("BUILD_BUILDID", "Azure DevOps build"),
        ("CI_PIPELINE_ID", "pipeline"),
    ]
    .iter()
    .find_map(|(var, what)| std::env::var(var).ok().map(|v| format!(" ({what} {v})")))
    .unwrap_or_default();
    format!("{user}@{host}{ci}")
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_survives_the_tag_value_and_fits_in_it() {
        let mut h = Holder::new("up");
        h.who = format!("{}@host;x=y", "u".repeat(300));
        let text = h.encode();
        assert!(text.len() <= MAX_TAG_VALUE, "{}", text.len());
        let back = Holder::decode(&text).expect("decodes");
        assert_eq!(back.id, h.id);
        assert_eq!(back.since, h.since);
        assert_eq!(back.expires, h.expires);
        assert_eq!(back.command, "up");
        assert!(!back.expired());
        assert_eq!(Holder::decode("garbage"), None);
    }
}
