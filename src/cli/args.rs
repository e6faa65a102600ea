//! Command-line arguments (clap). Only commands that are built appear here.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Provision Open WebUI on Azure behind an API Management AI gateway.
#[derive(Debug, Parser)]
#[command(name = "owui-deploy", version, about, long_about = None)]
pub struct Cli {
    /// Environment file (TOML). Also read from OWUI_ENV.
    #[arg(long, global = true, env = "OWUI_ENV", value_name = "FILE")]
    pub env: Option<PathBuf>,

    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,

    /// Plain timestamped lines instead of progress bars.
    #[arg(long, global = true)]
    pub no_progress: bool,

    /// More detail (-v, -vv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Text for people.
    Human,
    /// JSON for machines (one document, or one event per line while applying).
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an environment file without calling Azure.
    Validate,
    /// Run the embedded ARM + Graph + token emulator.
    Sandbox(SandboxArgs),
}

/// `owui-deploy sandbox`.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// Keep the sandbox's contents in this file across restarts.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Multiply the realistic operation durations by this factor (e.g. 0.001).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Fault-injection rules (JSON or TOML), see docs/sandbox.md.
    #[arg(long, value_name = "FILE")]
    pub faults: Option<PathBuf>,
    /// Seed for probabilistic faults.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to write the CA certificate clients must trust (PEM).
    #[arg(long, value_name = "FILE", default_value = ".owui-sandbox/ca.pem")]
    pub ca_file: PathBuf,
}
