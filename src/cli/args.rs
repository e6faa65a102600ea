//! Command-line arguments (clap). Only commands that are built appear here.

use crate::engine::AuthMethod;
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

    /// How to authenticate to Azure.
    #[arg(long, global = true, value_enum, default_value_t = AuthMethod::Auto, env = "OWUI_AUTH")]
    pub auth: AuthMethod,

    /// Resources read or written at the same time.
    #[arg(long, global = true, default_value_t = crate::engine::DEFAULT_PARALLELISM, value_parser = clap::value_parser!(usize))]
    pub parallelism: usize,

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
    /// Show what would change, property by property, without changing anything.
    Plan(PlanArgs),
    /// Deploy the hub: networking, private DNS, monitoring, API Management.
    Hub(ApplyArgs),
    /// Deploy the spoke: Foundry, Key Vault, storage, PostgreSQL, Container Apps, Entra app.
    Spoke(ApplyArgs),
    /// Wire the APIM AI gateway to the spoke: backend, API, policy, RBAC, DNS, App Gateway.
    Finalize(ApplyArgs),
    /// Deploy every stage as one dependency graph.
    Up(ApplyArgs),
    /// Print what to use next (URLs, app ID, consent link), read from Azure.
    Outputs,
    /// Print the dependency graph the engine runs.
    Graph(super::graph_cmd::GraphArgs),
    /// Apply a plan file written by `plan --out`, exactly as planned.
    Apply(ApplyFileArgs),
    /// Delete what this environment deployed (finalize, then spoke, then hub).
    Destroy(DestroyArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the monthly cost estimate of the environment and of the pending changes.
    Cost(CostCmdArgs),
}

/// Which stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StageArg {
    /// Hub networking, DNS, monitoring, APIM.
    Hub,
    /// Foundry, Key Vault, storage, PostgreSQL, Container Apps, Entra app.
    Spoke,
    /// APIM wiring, RBAC, DNS records, App Gateway.
    Finalize,
    /// Every stage as one graph.
    All,
}

/// `owui-deploy plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The stage to plan (default: all).
    #[arg(value_enum)]
    pub stage: Option<StageArg>,
    /// Exit 0 when nothing changes, 2 when something would, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also write the plan to this file (for `apply FILE`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// How to show the plan (`--output json` prints the JSON document instead).
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    /// Skip the monthly cost estimate (no call to the Azure Retail Prices API).
    #[arg(long, env = "OWUI_NO_COST", value_parser = clap::builder::BoolishValueParser::new())]
    pub no_cost: bool,
    /// Cost estimate options.
    #[command(flatten)]
    pub cost: CostArgs,
}

/// Options of the monthly cost estimate (docs/cost.md).
#[derive(Debug, Clone, Args)]
pub struct CostArgs {
    /// Currency of the cost estimate (the Retail Prices API's `currencyCode`, e.g. EUR).
    #[arg(long, env = "OWUI_COST_CURRENCY", default_value = "USD", value_parser = parse_currency)]
    pub currency: String,
    /// GB ingested into Log Analytics a month, assumed by the cost estimate.
    #[arg(long, env = "OWUI_COST_LOG_GB", default_value_t = crate::engine::meters::DEFAULT_LOG_GB_PER_MONTH, value_parser = parse_gigabytes)]
    pub log_gb_per_month: f64,
}

/// `owui-deploy cost`.
#[derive(Debug, Args)]
pub struct CostCmdArgs {
    /// How to show the estimate (`--output json` prints the JSON document instead).
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    /// Cost estimate options.
    #[command(flatten)]
    pub cost: CostArgs,
}

/// A three-letter ISO currency code, upper-cased.
fn parse_currency(s: &str) -> Result<String, String> {
    if s.len() == 3 && s.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(s.to_ascii_uppercase())
    } else {
        Err(format!(
            "'{s}' is not a three-letter currency code (e.g. USD, EUR, GBP)"
        ))
    }
}

/// A number of GB between 0 and 1,000,000.
fn parse_gigabytes(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1_000_000.0).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a number of GB between 0 and 1000000")),
    }
}

/// Formats of a shown plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Text for people.
    Human,
    /// Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`.
    Markdown,
}

/// `owui-deploy apply FILE`.
#[derive(Debug, Args)]
pub struct ApplyFileArgs {
    /// The plan file (`plan --out FILE`).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Apply without asking (required when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
}

/// `owui-deploy destroy`.
#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// The stage to delete (default: all).
    #[arg(value_enum)]
    pub stage: Option<StageArg>,
    /// Delete without asking (required when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Purge soft-deleted Key Vaults and Foundry accounts, freeing their names.
    #[arg(long)]
    pub purge: bool,
}

/// `owui-deploy completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Options of the commands that apply.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Apply without asking (required when standard input is not a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Only show the plan (same as `plan`).
    #[arg(long)]
    pub dry_run: bool,
    /// Set a new PostgreSQL admin password (server and Key Vault).
    #[arg(long)]
    pub rotate_secrets: bool,
    /// Grant tenant-wide admin consent to the Entra app's Microsoft Graph permissions.
    #[arg(long)]
    pub grant_admin_consent: bool,
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
