//! `owui-deploy validate`: check an environment file; no network calls.

use super::args::{Cli, OutputFormat};
use crate::config::ValidationReport;
use anyhow::Result;
use std::process::ExitCode;

pub(super) fn run(cli: &Cli) -> Result<ExitCode> {
    let path = super::env_path(cli)?;
    let report =
        ValidationReport::from_result(&crate::config::load_with(path, &super::load_options(cli)));
    match cli.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report.to_json())?),
        OutputFormat::Human => {
            let text = report.render_human();
            if report.valid {
                print!("{text}");
            } else {
                eprint!("{text}");
            }
        }
    }
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
