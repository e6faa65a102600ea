//! `owui-deploy completions bash|zsh|fish|powershell`: a completion script on stdout.

use super::args::{Cli, CompletionsArgs};
use anyhow::Result;
use clap::CommandFactory;
use std::process::ExitCode;

/// Print the completion script of `args.shell`.
pub(super) fn run(args: &CompletionsArgs) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_string();
    // Generated in memory: clap_complete panics when its writer fails, and a
    // closed pipe (`completions bash | head`) is a quiet end (see `cli::main`).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, name, &mut script);
    out!("{}", String::from_utf8_lossy(&script))?;
    Ok(ExitCode::SUCCESS)
}
