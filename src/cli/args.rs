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

    /// Plain timestamped lines instead of progress bars.
    #[arg(long, global = true)]
    pub no_progress: bool,

    /// More detail (-v, -vv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Let paths in the environment file be absolute or leave its folder (by default
    /// they must stay inside it).
    #[arg(long, global = true)]
    pub allow_outside_paths: bool,

    /// Send every request to this running sandbox (`https://HOST:PORT`), whatever the
    /// environment's cloud. Without it, OWUI_SANDBOX_URL applies only to `cloud = "sandbox"`.
    #[arg(long, global = true, value_name = "URL")]
    pub sandbox_url: Option<String>,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,

    /// Output format, taken from the command's own `--output` by [`Cli::parse_args`]
    /// (`human` for commands without one).
    #[arg(skip)]
    pub output: OutputFormat,

    /// How to authenticate, taken from the command's own `--auth` by
    /// [`Cli::parse_args`] (`auto` for commands that do not call Azure).
    #[arg(skip = AuthMethod::Auto)]
    pub auth: AuthMethod,

    /// Concurrent reads and writes, taken from the command's own `--parallelism`
    /// by [`Cli::parse_args`].
    #[arg(skip = crate::engine::DEFAULT_PARALLELISM)]
    pub parallelism: usize,
}

/// The largest `--parallelism` accepted.
pub const MAX_PARALLELISM: u64 = 64;

impl Cli {
    /// Parse the process arguments (exiting on a usage error, as clap does), then
    /// copy the command's own `--output`, `--auth` and `--parallelism` into
    /// [`Cli::output`], [`Cli::auth`] and [`Cli::parallelism`].
    pub fn parse_args() -> Cli {
        let mut cli = Cli::parse();
        cli.resolve_command_flags();
        cli
    }

    fn resolve_command_flags(&mut self) {
        let (output, azure) = match &self.command {
            Command::Validate(a) => (a.output.output, None),
            Command::Plan(a) => (a.output.format(), Some(a.azure)),
            Command::Preflight(a) => (a.output.format(), Some(a.azure)),
            Command::Hub(a) | Command::Spoke(a) | Command::Finalize(a) | Command::Up(a) => {
                (a.output.output, Some(a.azure))
            }
            Command::Outputs(a) => (
                a.output.output,
                Some(AzureArgs {
                    auth: a.auth,
                    parallelism: crate::engine::DEFAULT_PARALLELISM,
                }),
            ),
            Command::Apply(a) => (a.output.output, Some(a.azure)),
            Command::Destroy(a) => (a.output.output, Some(a.azure)),
            Command::ForceUnlock(a) => (
                OutputFormat::Human,
                Some(AzureArgs {
                    auth: a.auth,
                    parallelism: crate::engine::DEFAULT_PARALLELISM,
                }),
            ),
            Command::Cost(a) => (
                a.output.format(),
                Some(AzureArgs {
                    auth: a.auth,
                    parallelism: crate::engine::DEFAULT_PARALLELISM,
                }),
            ),
            Command::Usage(a) => (
                match a.output {
                    UsageFormat::Json => OutputFormat::Json,
                    UsageFormat::Human | UsageFormat::Csv => OutputFormat::Human,
                },
                Some(AzureArgs {
                    auth: a.auth,
                    parallelism: crate::engine::DEFAULT_PARALLELISM,
                }),
            ),
            Command::Sandbox(_) | Command::Graph(_) | Command::Completions(_) => {
                (OutputFormat::Human, None)
            }
        };
        self.output = output;
        if let Some(azure) = azure {
            self.auth = azure.auth;
            self.parallelism = azure.parallelism;
        }
    }
}

/// `--auth` and `--parallelism`, on the commands that call Azure.
#[derive(Debug, Clone, Copy, Args)]
pub struct AzureArgs {
    /// How to authenticate to Azure.
    #[arg(long, value_enum, default_value_t = AuthMethod::Auto, env = "OWUI_AUTH")]
    pub auth: AuthMethod,

    /// Resources read or written at the same time (1 to 64).
    #[arg(long, default_value_t = crate::engine::DEFAULT_PARALLELISM,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_PARALLELISM))]
    pub parallelism: usize,
}

/// `--output human|json`.
#[derive(Debug, Clone, Copy, Args)]
pub struct OutputArg {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
}

/// `--output human|json|markdown` of `plan`.
#[derive(Debug, Clone, Copy, Args)]
pub struct PlanOutputArg {
    /// Output format (`markdown`: for a pull-request comment or `$GITHUB_STEP_SUMMARY`).
    #[arg(long, value_enum, default_value_t = PlanOutput::Human)]
    pub output: PlanOutput,
}

impl PlanOutputArg {
    /// JSON for `json`, text otherwise (Markdown is text).
    pub fn format(&self) -> OutputFormat {
        match self.output {
            PlanOutput::Json => OutputFormat::Json,
            PlanOutput::Human | PlanOutput::Markdown => OutputFormat::Human,
        }
    }

    /// How a text plan is rendered.
    pub fn plan_format(&self) -> PlanFormat {
        match self.output {
            PlanOutput::Markdown => PlanFormat::Markdown,
            PlanOutput::Human | PlanOutput::Json => PlanFormat::Human,
        }
    }
}

/// `plan`'s output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanOutput {
    /// Text for people.
    Human,
    /// One JSON document for machines.
    Json,
    /// Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`.
    Markdown,
}

/// `owui-deploy validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// `--output`.
    #[command(flatten)]
    pub output: OutputArg,
}

/// `owui-deploy outputs`.
#[derive(Debug, Args)]
pub struct OutputsArgs {
    /// `--output`.
    #[command(flatten)]
    pub output: OutputArg,
    /// How to authenticate to Azure.
    #[arg(long, value_enum, default_value_t = AuthMethod::Auto, env = "OWUI_AUTH")]
    pub auth: AuthMethod,
}

/// Output formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Text for people.
    #[default]
    Human,
    /// JSON for machines (one document, or one event per line while applying).
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an environment file without calling Azure.
    Validate(ValidateArgs),
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
    Outputs(OutputsArgs),
    /// Print the dependency graph the engine runs.
    Graph(super::graph_cmd::GraphArgs),
    /// Apply a plan file written by `plan --out`, exactly as planned.
    Apply(ApplyFileArgs),
    /// Delete what this environment deployed (finalize, then spoke, then hub).
    Destroy(DestroyArgs),
    /// Check, read-only, what Azure would refuse: names, soft-deleted names,
    /// models and quota, resource providers, permissions.
    Preflight(PreflightArgs),
    /// Release this environment's lock left by a run that died (shows it without LOCK_ID).
    ForceUnlock(ForceUnlockArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Report gateway usage (tokens per user and model, requests per key, IP,
    /// backend, deployment, 429s) from the environment's Log Analytics workspace.
    Usage(UsageArgs),
    /// Print the monthly cost estimate of the environment and of the pending changes.
    Cost(CostCmdArgs),
}

/// `owui-deploy usage`.
#[derive(Debug, Args)]
pub struct UsageArgs {
    /// Time window: a number and d, h or m (e.g. 7d, 12h, 30m).
    #[arg(long, default_value = "7d")]
    pub since: String,
    /// The report.
    #[arg(long, default_value = "user", value_parser = clap::builder::PossibleValuesParser::new(crate::stages::usage::command_names()))]
    pub by: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = UsageFormat::Human)]
    pub output: UsageFormat,
    /// How to authenticate to Azure.
    #[arg(long, value_enum, default_value_t = AuthMethod::Auto, env = "OWUI_AUTH")]
    pub auth: AuthMethod,
}

/// Formats of `usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UsageFormat {
    /// An aligned table.
    Human,
    /// One JSON document (docs/schemas/usage.v1.schema.json).
    Json,
    /// CSV with a header row (RFC 4180).
    Csv,
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
    /// `--output`.
    #[command(flatten)]
    pub output: PlanOutputArg,
    /// `--auth`, `--parallelism`.
    #[command(flatten)]
    pub azure: AzureArgs,
    /// Do not run the preflight checks first (emergencies only).
    #[arg(long)]
    pub skip_preflight: bool,
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
    /// `--output`.
    #[command(flatten)]
    pub output: PlanOutputArg,
    /// How to authenticate to Azure.
    #[arg(long, value_enum, default_value_t = AuthMethod::Auto, env = "OWUI_AUTH")]
    pub auth: AuthMethod,
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

/// `owui-deploy preflight`.
#[derive(Debug, Args)]
pub struct PreflightArgs {
    /// The stage to check (default: all).
    #[arg(value_enum)]
    pub stage: Option<StageArg>,
    /// Register the resource providers that are not registered (a write: needs --yes).
    #[arg(long)]
    pub register_providers: bool,
    /// Confirm the writes of --register-providers.
    #[arg(long)]
    pub yes: bool,
    /// `--output` (`markdown`: the report as a table).
    #[command(flatten)]
    pub output: PlanOutputArg,
    /// `--auth`, `--parallelism`.
    #[command(flatten)]
    pub azure: AzureArgs,
}

/// How a plan is rendered as text (a value enum for commands that take a text
/// format of their own; `brief` is internal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Text for people.
    Human,
    /// Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`.
    Markdown,
    /// Before an apply: the resources, and only the properties that change
    /// (every property with `-v`).
    #[value(skip)]
    Brief,
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
    /// `--output`.
    #[command(flatten)]
    pub output: OutputArg,
    /// `--auth`, `--parallelism`.
    #[command(flatten)]
    pub azure: AzureArgs,
    /// Do not run the preflight checks first (emergencies only).
    #[arg(long)]
    pub skip_preflight: bool,
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
    /// Purge soft-deleted Key Vaults, Foundry accounts and API Management services, freeing their names.
    #[arg(long)]
    pub purge: bool,
    /// Only show what would be deleted; nothing is changed.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: exit 0 when nothing would be deleted, 2 when something would, 1 on error.
    #[arg(long, requires = "dry_run")]
    pub detailed_exitcode: bool,
    /// With --dry-run: also write the deletion plan to this file (for `apply FILE`).
    #[arg(long, value_name = "FILE", requires = "dry_run")]
    pub out: Option<PathBuf>,
    /// `--output`.
    #[command(flatten)]
    pub output: OutputArg,
    /// `--auth`, `--parallelism`.
    #[command(flatten)]
    pub azure: AzureArgs,
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
    /// Do not run the preflight checks first (emergencies only).
    #[arg(long)]
    pub skip_preflight: bool,
    /// Register the resource providers that are not registered (a write: needs --yes).
    #[arg(long)]
    pub register_providers: bool,
    /// Also write the whole plan to this file before applying (the form of
    /// `plan --out`; the screen shows only the changes unless -v).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// `--output`.
    #[command(flatten)]
    pub output: OutputArg,
    /// `--auth`, `--parallelism`.
    #[command(flatten)]
    pub azure: AzureArgs,
}

/// What `owui-deploy sandbox` does besides serving.
#[derive(Debug, Subcommand)]
pub enum SandboxAction {
    /// Empty the embedded sandbox of the environment file (--env): deletes its
    /// state file (`[azure.sandbox] state_file`), so the next run starts from nothing.
    Reset,
}

/// `owui-deploy force-unlock`.
#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The lock ID a refused run printed; only that lock is released.
    pub lock_id: Option<String>,
    /// Release whatever lock is held, without a lock ID.
    #[arg(long)]
    pub yes: bool,
    /// How to authenticate to Azure.
    #[arg(long, value_enum, default_value_t = AuthMethod::Auto, env = "OWUI_AUTH")]
    pub auth: AuthMethod,
}

/// `owui-deploy sandbox`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SandboxArgs {
    /// `reset`; without one, serve the emulator.
    #[command(subcommand)]
    pub action: Option<SandboxAction>,
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
    /// Where to write the admin token the admin API and journal need (mode 0600);
    /// default: `admin-token` next to the CA file.
    #[arg(long, value_name = "FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// Allow a --listen address that is not loopback (anyone reaching it can use the sandbox).
    #[arg(long)]
    pub allow_remote: bool,
}
