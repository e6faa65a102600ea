//! Command-line interface: argument parsing, dispatch and rendering.
//!
//! Exit codes: 0 success, 1 error, 2 usage error (clap's) or changes
//! (`plan --detailed-exitcode`), 3 stale plan (`apply FILE`). A closed standard
//! output (`owui-deploy plan | head -1`) ends the command quietly with 0.

/// `print!` to standard output that returns the write's `io::Result` instead of
/// panicking, so that a closed pipe ends the command quietly (see [`main`]).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*).map_err($crate::cli::StdoutError)
    }};
}

/// `println!` to standard output that returns the write's `io::Result` (see [`out!`]).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::cli::StdoutError)
    }};
}

mod apply_cmd;
pub mod args;
mod certificate;
mod completions;
mod consent;
mod cost;
mod deploy;
mod destroy;
pub mod graph_cmd;
pub mod lock;
mod outputs;
pub mod plan_file;
mod preflight_cmd;
pub mod progress;
mod sandbox_cmd;
mod secrets;
mod session;
pub mod tracker;
mod usage_cmd;
mod validate;

use crate::engine::secrets::scrub;
use anyhow::{Context, Result};
use args::{Cli, Command};
use std::process::ExitCode;

/// Parse arguments, run the command, print errors with their cause chain.
pub fn main() -> ExitCode {
    let cli = Cli::parse_args();
    remember_credentials_from_environment();
    init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(err) if is_closed_stdout(&err) => ExitCode::SUCCESS,
        Err(err) => {
            // Messages may quote Azure's or a file's text: secrets are scrubbed and control characters
            // (terminal escapes) are shown escaped, never sent to the terminal.
            let shown = |text: String| {
                text.lines()
                    .map(|l| crate::config::escape_control(&scrub(l)).into_owned())
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            eprintln!("error: {}", shown(err.to_string()));
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {}", shown(cause.to_string()));
            }
            ExitCode::from(1)
        }
    }
}

/// Secret values given through the environment: never printed, whatever echoes them.
const SECRET_VARIABLES: &[&str] = &[
    "AZURE_CLIENT_SECRET",
    crate::config::POSTGRES_PASSWORD_ENV_VAR,
    crate::config::CERTIFICATE_ENV_VAR,
];

fn remember_credentials_from_environment() {
    for name in SECRET_VARIABLES {
        if let Ok(value) = std::env::var(name) {
            crate::engine::secrets::remember_secret_value(&value);
        }
    }
}

/// Standard error through the secret scrubber (the writer of every log line).
struct ScrubbedStderr;

impl std::io::Write for ScrubbedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = scrub(&String::from_utf8_lossy(buf));
        std::io::stderr().write_all(text.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// A failed write to standard output (from [`out!`] and [`outln!`]).
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {0}")]
pub struct StdoutError(pub std::io::Error);

/// Whether `err` comes from writing to a closed standard output (the reader of
/// a pipe went away, as `head` does): the conventional quiet end, not an error.
fn is_closed_stdout(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<StdoutError>()
            .is_some_and(|e| e.0.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Validate(_) => validate::run(&cli),
        Command::Sandbox(args) => sandbox_cmd::run(&cli, args).await,
        Command::Plan(args) => deploy::plan_cmd(&cli, args).await,
        Command::Hub(args) => deploy::apply_cmd(&cli, args::StageArg::Hub, args).await,
        Command::Spoke(args) => deploy::apply_cmd(&cli, args::StageArg::Spoke, args).await,
        Command::Finalize(args) => deploy::apply_cmd(&cli, args::StageArg::Finalize, args).await,
        Command::Up(args) => deploy::apply_cmd(&cli, args::StageArg::All, args).await,
        Command::Outputs(_) => outputs::run(&cli).await,
        Command::Graph(args) => graph_cmd::run(&cli, args),
        Command::Apply(args) => apply_cmd::run(&cli, args).await,
        Command::Destroy(args) => destroy::run(&cli, args).await,
        Command::Preflight(args) => preflight_cmd::run(&cli, args).await,
        Command::ForceUnlock(args) => lock::run_force_unlock(&cli, args).await,
        Command::Completions(args) => completions::run(args),
        Command::Usage(args) => usage_cmd::run(&cli, args).await,
        Command::Cost(args) => cost::run(&cli, args).await,
    }
}

/// Logs go to stderr; `-v` shows info, `-vv` debug. `RUST_LOG` overrides.
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "owui_deploy=info,warn",
        _ => "owui_deploy=debug,info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| ScrubbedStderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .try_init();
}

/// How `--allow-outside-paths` asks to load the environment file.
fn load_options(cli: &Cli) -> crate::config::LoadOptions {
    crate::config::LoadOptions {
        allow_outside_paths: cli.allow_outside_paths,
    }
}

/// The environment file named by `--env` / `OWUI_ENV`, or a usage-style error.
fn env_path(cli: &Cli) -> Result<&std::path::Path> {
    cli.env
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("no environment file: pass --env FILE or set OWUI_ENV"))
}

/// Write `bytes` to `path` atomically with mode 0600, never following a symlink
/// (see [`crate::files::write_private`], the one writer of every file the tool writes).
pub fn write_private_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::files::write_private(path, bytes)
}

/// Wait for SIGINT (Ctrl-C) or SIGTERM: both stop a run the same way (no new work, an
/// embedded or served sandbox writes its state). Returns the signal's name.
pub(crate) async fn stop_signal() -> Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot wait for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map(|()| "SIGINT").context("cannot wait for Ctrl-C"),
            _ = term.recv() => Ok("SIGTERM"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for Ctrl-C")?;
        Ok("Ctrl-C")
    }
}
