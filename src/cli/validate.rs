//! `owui-deploy validate`: check an environment file; no network calls.

use super::args::{Cli, OutputFormat};
use crate::config::{LoadedEnvironment, ResourceCount, ValidationReport};
use crate::engine::{Api, Mode, Stage};
use anyhow::Result;
use std::collections::BTreeMap;
use std::process::ExitCode;

pub(super) fn run(cli: &Cli) -> Result<ExitCode> {
    let path = super::env_path(cli)?;
    let loaded = crate::config::load_with(path, &super::load_options(cli));
    let mut report = ValidationReport::from_result(&loaded);
    if let (Ok(loaded), Some(summary)) = (&loaded, report.summary.as_mut()) {
        for (stage, resources) in model_counts(loaded)? {
            summary.set_stage_resources(stage.as_str(), resources);
        }
    }
    match cli.output {
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(&report.to_json())?)?,
        OutputFormat::Human => {
            let text = report.render_human();
            if report.valid {
                out!("{text}")?;
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

/// The resources `plan` would add to an empty subscription, by stage and type:
/// the managed resources of the model built as `plan` builds it (with the
/// certificate resources only when a certificate is available now).
fn model_counts(loaded: &LoadedEnvironment) -> Result<Vec<(Stage, Vec<ResourceCount>)>> {
    let certificate = super::secrets::gather(loaded, &[], false)?.has_certificate;
    let model = super::deploy::build_model(loaded, &Stage::ALL, certificate, false)?;
    let mut out = Vec::new();
    for stage in Stage::ALL {
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        for spec in model
            .resources
            .iter()
            .filter(|s| s.stage == stage && s.mode == Mode::Managed)
        {
            let kind = match &spec.api {
                Api::Arm { type_name, .. } => type_name.clone(),
                Api::Graph { kind } => format!("Microsoft Graph {kind}"),
            };
            *kinds.entry(kind).or_default() += 1;
        }
        let resources = kinds
            .into_iter()
            .map(|(kind, count)| ResourceCount { kind, count })
            .collect();
        out.push((stage, resources));
    }
    Ok(out)
}
