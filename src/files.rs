//! Safe file access, shared by every layer.
//!
//! - [`confine`]: a path named in an environment file resolves against the file's folder
//!   and may not leave it (no absolute path, no `..` above it, no symlink resolving
//!   outside it) unless the user allowed it (`--allow-outside-paths`).
//! - [`read_capped`]: only regular files are read (never a device, FIFO or directory; a
//!   FIFO is opened without blocking), and only up to a size cap checked before reading.
//! - [`write_private`]: every file the tool writes is written to a temporary file created
//!   exclusively (`O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600) in the same folder, then renamed
//!   over the target, so a planted symlink is never followed and nothing half-written is
//!   ever left at the target.
//!
//! The caps are documented in `docs/configuration.md` and `docs/reliability.md`.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// Largest environment file read.
pub const MAX_ENVIRONMENT_FILE: u64 = MIB;
/// Largest PFX certificate read (`domain.certificate_pfx_path`).
pub const MAX_CERTIFICATE: u64 = 64 * KIB;
/// Largest trusted root certificate read (`domain.trusted_root_certificate_path`).
pub const MAX_TRUSTED_ROOT: u64 = 64 * KIB;
/// Largest CA bundle read (`azure.cloud.ca_file`, `OWUI_SANDBOX_CA`).
pub const MAX_CA_FILE: u64 = MIB;
/// Largest policy file read (`apim.policy_file`): API Management's policy document limit.
pub const MAX_POLICY: u64 = 256 * KIB;
/// Largest OpenAPI document read (`apim.openapi`): API Management's import limit
/// ("up to 4 MB" for a document sent in the request body).
pub const MAX_OPENAPI: u64 = 4 * MIB;
/// Largest sandbox state file read (`azure.sandbox.state_file`, `sandbox --state`).
pub const MAX_SANDBOX_STATE: u64 = 256 * MIB;
/// Largest plan file read (`apply FILE`): bodies of every resource, OpenAPI included.
pub const MAX_PLAN_FILE: u64 = 64 * MIB;
/// Largest fault-rule file read (`sandbox --faults`).
pub const MAX_FAULTS: u64 = MIB;

/// Why a path named in an environment file is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathProblem {
    /// An absolute path.
    Absolute,
    /// `..` climbs above the environment file's folder.
    Escapes,
    /// The path (or a folder on it) is a symlink resolving outside the folder.
    SymlinkOutside(PathBuf),
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathProblem::Absolute => f.write_str(
                "is an absolute path; paths are relative to the environment file's folder and may not leave it (pass --allow-outside-paths to allow it)",
            ),
            PathProblem::Escapes => f.write_str(
                "leaves the environment file's folder through '..' (pass --allow-outside-paths to allow it)",
            ),
            PathProblem::SymlinkOutside(target) => write!(
                f,
                "is a symlink resolving outside the environment file's folder (to {}; pass --allow-outside-paths to allow it)",
                target.display()
            ),
        }
    }
}

/// Resolve `value` (a path from an environment file) against `base` (the file's folder).
/// Unless `allow_outside`, the result must stay inside `base`: lexically (no absolute path,
/// no `..` above `base`) and after resolving symlinks of the part that exists.
pub fn confine(base: &Path, value: &str, allow_outside: bool) -> Result<PathBuf, PathProblem> {
    let joined = base.join(value);
    if allow_outside {
        return Ok(joined);
    }
    let relative = Path::new(value);
    if relative.is_absolute() || relative.has_root() {
        return Err(PathProblem::Absolute);
    }
    let mut depth: usize = 0;
    for component in relative.components() {
        match component {
            Component::ParentDir => {
                depth = depth.checked_sub(1).ok_or(PathProblem::Escapes)?;
            }
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return Err(PathProblem::Absolute),
        }
    }
    let Ok(base_real) = base.canonicalize() else {
        // The folder itself is not there: nothing can resolve outside it yet.
        return Ok(joined);
    };
    if let Some(real) = deepest_existing(&joined)
        && !real.starts_with(&base_real)
    {
        return Err(PathProblem::SymlinkOutside(real));
    }
    Ok(joined)
}

/// The canonical form of `path`, or of its deepest ancestor that exists.
fn deepest_existing(path: &Path) -> Option<PathBuf> {
    let mut current = Some(path);
    while let Some(p) = current {
        if let Ok(real) = p.canonicalize() {
            return Some(real);
        }
        current = p.parent();
    }
    None
}

/// Check, without reading it, that `path` is a regular file of at most `cap` bytes
/// (the error says why not; `NotFound` when it does not exist).
pub fn check_readable(path: &Path, cap: u64) -> io::Result<()> {
    let meta = std::fs::metadata(path)?;
    check_meta(&meta, cap)
}

fn check_meta(meta: &std::fs::Metadata, cap: u64) -> io::Result<()> {
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "is not a regular file (it is {}); only regular files are read",
                kind_of(meta)
            ),
        ));
    }
    if meta.len() > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "is {} bytes, larger than the {} allowed",
                meta.len(),
                human_size(cap)
            ),
        ));
    }
    Ok(())
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

/// `cap` for messages, e.g. `4 MiB`, `256 KiB`.
pub fn human_size(cap: u64) -> String {
    if cap >= MIB && cap.is_multiple_of(MIB) {
        format!("{} MiB", cap / MIB)
    } else if cap >= KIB && cap.is_multiple_of(KIB) {
        format!("{} KiB", cap / KIB)
    } else {
        format!("{cap} bytes")
    }
}

/// Read a regular file of at most `cap` bytes. The file is opened without blocking (a
/// FIFO does not hang) and checked (type and size) before any byte is read; reading
/// stops at `cap` even if the file grows meanwhile.
pub fn read_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    check_meta(&meta, cap)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("grew larger than the {} allowed", human_size(cap)),
        ));
    }
    Ok(bytes)
}

/// [`read_capped`] as UTF-8 text.
pub fn read_capped_to_string(path: &Path, cap: u64) -> io::Result<String> {
    String::from_utf8(read_capped(path, cap)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "is not valid UTF-8 text"))
}

/// Write `bytes` to `path` atomically with mode 0600, creating the folder if needed.
///
/// The bytes go to a temporary file in the same folder (`.NAME.tmp-PID`, or a random
/// name if that one exists), created exclusively and without following symlinks, then
/// renamed over `path` (a symlink at `path` is replaced, not followed). Nothing
/// half-written is ever left at `path`.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let (tmp, mut file) = create_temp(&dir, &file_name)?;
    let result = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Create the temporary file exclusively; never reuses or follows an existing entry.
fn create_temp(dir: &Path, file_name: &str) -> io::Result<(PathBuf, std::fs::File)> {
    let pid = std::process::id();
    let mut last = None;
    for attempt in 0..8u32 {
        let name = if attempt == 0 {
            format!(".{file_name}.tmp-{pid}")
        } else {
            format!(".{file_name}.tmp-{pid}-{:016x}", rand::random::<u64>())
        };
        let tmp = dir.join(name);
        match exclusive_options().open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists || is_symlink_refusal(&e) => {
                last = Some(e)
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no temporary file name was free")))
}

/// `O_NOFOLLOW` refused a symlink at the name (`ELOOP`).
fn is_symlink_refusal(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

fn exclusive_options() -> std::fs::OpenOptions {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confine_refuses_absolute_and_escaping_paths() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        assert_eq!(
            confine(base, "/etc/shadow", false),
            Err(PathProblem::Absolute)
        );
        assert_eq!(
            confine(base, "../../../etc/shadow", false),
            Err(PathProblem::Escapes)
        );
        assert_eq!(confine(base, "a/../../b", false), Err(PathProblem::Escapes));
        assert_eq!(confine(base, "a/../b", false), Ok(base.join("a/../b")));
        assert!(confine(base, "../x", true).is_ok());
        assert!(confine(base, "/etc/shadow", true).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn confine_follows_symlinks_only_inside() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let base = dir.path();
        std::fs::write(base.join("real.pem"), "x").unwrap();
        std::os::unix::fs::symlink(base.join("real.pem"), base.join("inside.pem")).unwrap();
        std::os::unix::fs::symlink(outside.path(), base.join("out")).unwrap();
        assert!(confine(base, "inside.pem", false).is_ok());
        assert!(matches!(
            confine(base, "out/new-file.json", false),
            Err(PathProblem::SymlinkOutside(_))
        ));
        assert!(confine(base, "not/yet/there.json", false).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_within_the_cap_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(read_capped(&f, 5).unwrap(), b"12345");
        let err = read_capped(&f, 4).unwrap_err();
        assert!(err.to_string().contains("larger than the 4 bytes"), "{err}");
        let err = read_capped(Path::new("/dev/zero"), MIB).unwrap_err();
        assert!(err.to_string().contains("device"), "{err}");
        let err = read_capped(dir.path(), MIB).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let started = std::time::Instant::now();
        let err = read_capped(&fifo, MIB).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_at_the_temporary_path_is_not_followed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let target = dir.path().join("out.json");
        let planted = dir
            .path()
            .join(format!(".out.json.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        write_private(&target, b"{}").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "{}");
        assert!(std::fs::symlink_metadata(&planted).unwrap().is_symlink());
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
