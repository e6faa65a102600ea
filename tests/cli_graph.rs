//! `owui-deploy graph` (issue 5): the dependency graph the engine runs, and the copy
//! embedded in `docs/architecture.md`, which must stay in step with the tool.
//! Refresh the docs with `UPDATE_DOCS=1 cargo test --test cli_graph`.

use owui_deploy::cli::graph_cmd::{DOCS_BEGIN, DOCS_END, embed_in_docs};
use owui_deploy::engine::Stage;
use owui_deploy::stages::{self, StageOptions};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run the binary in the crate root with `args` (no sandbox: `graph` never calls Azure).
fn graph(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_owui-deploy"))
        .current_dir(root())
        .env_remove("OWUI_ENV")
        .env_remove("OWUI_CERTIFICATE_PFX_BASE64")
        .env_remove("OWUI_SANDBOX_URL")
        .env_remove("OWUI_SANDBOX_CA")
        .args(args)
        .output()
        .expect("run owui-deploy");
    assert!(
        out.status.success(),
        "graph {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn model(
    env_file: &str,
    stages_wanted: &[Stage],
    with_certificate: bool,
) -> owui_deploy::engine::Model {
    let loaded = owui_deploy::config::load(&root().join(env_file))
        .unwrap_or_else(|_| panic!("{env_file} is invalid"));
    let opts = StageOptions {
        environment_dir: loaded.dir.clone(),
        without_certificate: !with_certificate,
        grant_admin_consent: false,
    };
    stages::model(&loaded.env, &opts, stages_wanted).expect("model")
}

#[test]
fn docs_architecture_embeds_the_current_graph() {
    let generated = graph(&[
        "graph",
        "--env",
        "environments/prod.toml",
        "--with-certificate",
        "--output",
        "mermaid",
    ]);
    let path = root().join("docs/architecture.md");
    let text = std::fs::read_to_string(&path).expect("docs/architecture.md");
    assert!(
        text.contains(DOCS_BEGIN) && text.contains(DOCS_END),
        "docs/architecture.md lacks the graph markers"
    );
    let expected = embed_in_docs(&text, &generated).expect("markers");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).expect("write docs/architecture.md");
        return;
    }
    assert!(
        text == expected,
        "docs/architecture.md is out of step with `owui-deploy graph`; refresh it with \
         UPDATE_DOCS=1 cargo test --test cli_graph"
    );
}

#[test]
fn mermaid_and_dot_show_every_resource_and_edge_of_the_model() {
    let m = model("environments/prod.toml", &Stage::ALL, true);
    let mermaid = graph(&[
        "graph",
        "--env",
        "environments/prod.toml",
        "--with-certificate",
    ]);
    let dot = graph(&[
        "graph",
        "--env",
        "environments/prod.toml",
        "--with-certificate",
        "--output",
        "dot",
    ]);
    assert!(mermaid.starts_with("flowchart LR\n"));
    assert!(dot.starts_with("digraph owui_deploy {"));
    for stage in Stage::ALL {
        assert!(mermaid.contains(&format!("subgraph {stage}")));
        assert!(dot.contains(&format!("subgraph cluster_{stage}")));
    }
    for (i, r) in m.resources.iter().enumerate() {
        assert!(
            mermaid.contains(&format!("n{i}[\"{}\"]", r.label.replace('"', "#quot;"))),
            "mermaid lacks {}",
            r.label
        );
        assert!(
            dot.contains(&format!("n{i} [label=")),
            "dot lacks {}",
            r.label
        );
    }
    let edges = m.edges();
    assert!(edges.len() > m.resources.len());
    assert_eq!(
        mermaid.lines().filter(|l| l.contains("-->")).count(),
        edges.len()
    );
    assert_eq!(
        dot.lines()
            .filter(|l| l.trim_start().starts_with('n') && l.contains(" -> n"))
            .count(),
        edges.len()
    );
    // Values flowing along edges are named (e.g. APIM's principal ID into RBAC).
    assert!(mermaid.contains("-->|\"principalId\"|"), "{mermaid}");
    // The backend pool of prod.toml's second Foundry account.
    assert!(mermaid.contains("foundry-pool"));
}

#[test]
fn a_stage_graph_shows_what_it_reads_from_earlier_stages() {
    let out = graph(&["graph", "finalize", "--env", "environments/sandbox.toml"]);
    let m = model("environments/sandbox.toml", &[Stage::Finalize], false);
    assert!(m.resources.iter().any(|r| r.stage == Stage::Hub));
    assert!(m.resources.iter().any(|r| r.stage == Stage::Spoke));
    // What finalize reads from the hub and the spoke is marked as read.
    assert!(out.contains("[\"API Management apim-owui-sandbox (read)\"]"));
    assert!(out.contains("[\"container app open-webui (read)\"]"));
    assert!(!out.contains("Application Gateway agw-owui (read)"));
    assert!(out.contains("[\"Application Gateway agw-owui\"]"));
    assert!(out.contains("subgraph finalize"));
    // No certificate in the sandbox: the gateway has no HTTPS listener certificate.
    let full = graph(&["graph", "--env", "environments/sandbox.toml"]);
    let all = model("environments/sandbox.toml", &Stage::ALL, false);
    assert_eq!(
        full.lines()
            .filter(|l| l.trim_start().starts_with('n') && l.contains("[\""))
            .count(),
        all.resources.len()
    );
}

#[test]
fn graph_needs_an_environment() {
    let out = Command::new(env!("CARGO_BIN_EXE_owui-deploy"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .env_remove("OWUI_ENV")
        .args(["graph"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--env"));
}
