//! Command-line interface: argument parsing, dispatch and rendering.
//!
//! Exit codes: 0 success, 1 error, 2 usage error (clap's) or changes
//! (`plan --detailed-exitcode`), 3 stale plan (`apply FILE`).

mod apply_cmd;
pub mod args;
mod certificate;
mod completions;
mod consent;
mod cost;
mod deploy;
mod destroy;
pub mod graph_cmd;
mod outputs;
pub mod plan_file;
pub mod progress;
mod sandbox_cmd;
mod secrets;
mod session;
mod validate;

use anyhow::Result;
use args::{Cli, Command};
use clap::Parser;
use std::process::ExitCode;

/// Parse arguments, run the command, print errors with their cause chain.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
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
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Validate => validate::run(&cli),
        Command::Sandbox(args) => sandbox_cmd::run(args).await,
        Command::Plan(args) => deploy::plan_cmd(&cli, args).await,
        Command::Hub(args) => deploy::apply_cmd(&cli, args::StageArg::Hub, args).await,
        Command::Spoke(args) => deploy::apply_cmd(&cli, args::StageArg::Spoke, args).await,
        Command::Finalize(args) => deploy::apply_cmd(&cli, args::StageArg::Finalize, args).await,
        Command::Up(args) => deploy::apply_cmd(&cli, args::StageArg::All, args).await,
        Command::Outputs => outputs::run(&cli).await,
        Command::Graph(args) => graph_cmd::run(&cli, args),
        Command::Apply(args) => apply_cmd::run(&cli, args).await,
        Command::Destroy(args) => destroy::run(&cli, args).await,
        Command::Completions(args) => completions::run(args),
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
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .try_init();
}

/// The environment file named by `--env` / `OWUI_ENV`, or a usage-style error.
fn env_path(cli: &Cli) -> Result<&std::path::Path> {
    cli.env
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("no environment file: pass --env FILE or set OWUI_ENV"))
}

/// Write `bytes` to `path` atomically (temporary file in the same folder, then
/// rename) with mode 0600, creating the folder if needed. Nothing half-written
/// is ever left at `path`.
pub fn write_private_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
