//! `owui-deploy graph [STAGE] [--output mermaid|dot]`: the dependency graph the
//! engine runs (resources grouped by stage, edges labelled with the values that
//! flow along them), built from the environment file without calling Azure.
//!
//! The Mermaid graph embedded in `docs/architecture.md` is this command's output
//! for `environments/prod.toml` with `--with-certificate` (see [`DOCS_COMMAND`]);
//! a test regenerates it and compares.

use super::args::{Cli, StageArg};
use crate::config::LoadedEnvironment;
use crate::engine::{self, Model, Stage};
use crate::stages::{self, StageOptions};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use std::process::ExitCode;

/// The command that produces the graph in `docs/architecture.md`.
pub const DOCS_COMMAND: &str =
    "owui-deploy graph --env environments/prod.toml --with-certificate --output mermaid";
/// Marker line before the generated graph in `docs/architecture.md`.
pub const DOCS_BEGIN: &str = "<!-- BEGIN GENERATED GRAPH (owui-deploy graph) -->";
/// Marker line after the generated graph in `docs/architecture.md`.
pub const DOCS_END: &str = "<!-- END GENERATED GRAPH -->";

/// Graph formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Mermaid flowchart (renders on GitHub).
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// `owui-deploy graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The stage (default: all). Resources of other stages it reads appear as data.
    #[arg(value_enum)]
    pub stage: Option<StageArg>,
    /// Output format: a Mermaid flowchart or Graphviz DOT.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub output: GraphFormat,
    /// Include the resources that need the TLS certificate even when none is
    /// available now (the full architecture, as in the docs).
    #[arg(long)]
    pub with_certificate: bool,
}

/// `owui-deploy graph`.
pub(super) fn run(cli: &Cli, args: &GraphArgs) -> Result<ExitCode> {
    let loaded = match super::deploy::load_env(cli)? {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let stages_wanted = match args.stage.unwrap_or(StageArg::All) {
        StageArg::Hub => vec![Stage::Hub],
        StageArg::Spoke => vec![Stage::Spoke],
        StageArg::Finalize => vec![Stage::Finalize],
        StageArg::All => Stage::ALL.to_vec(),
    };
    let certificate =
        args.with_certificate || super::secrets::gather(&loaded, &[], false)?.has_certificate;
    let model = graph_model(&loaded, &stages_wanted, certificate)?;
    out!("{}", render(&model, args.output))?;
    Ok(ExitCode::SUCCESS)
}

fn graph_model(
    loaded: &LoadedEnvironment,
    stages_wanted: &[Stage],
    certificate: bool,
) -> Result<Model> {
    let opts = StageOptions {
        environment_dir: loaded.dir.clone(),
        without_certificate: !certificate,
        grant_admin_consent: false,
    };
    stages::model(&loaded.env, &opts, stages_wanted).with_context(|| {
        format!(
            "cannot build the desired resources of {}",
            loaded.path.display()
        )
    })
}

/// The graph of `model` in `format`.
pub fn render(model: &Model, format: GraphFormat) -> String {
    match format {
        GraphFormat::Mermaid => engine::render_graph_mermaid(model),
        GraphFormat::Dot => engine::render_graph_dot(model),
    }
}

/// `text` with the part between [`DOCS_BEGIN`] and [`DOCS_END`] replaced by
/// `graph` as a fenced Mermaid block; `None` when the markers are missing.
pub fn embed_in_docs(text: &str, graph: &str) -> Option<String> {
    let start = text.find(DOCS_BEGIN)? + DOCS_BEGIN.len();
    let end = start + text[start..].find(DOCS_END)?;
    Some(format!(
        "{}\n```mermaid\n{}```\n{}",
        &text[..start],
        graph,
        &text[end..]
    ))
}
