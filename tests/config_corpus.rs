//! The bad-input corpus: every file under `tests/invalid-environments/` must produce
//! exactly the problems its header announces.
//!
//! Header lines (before the TOML):
//! - `# expect: CODE at KEY [LINE:COL]` (one per problem; without `[LINE:COL]` the problem
//!   must have no position, e.g. a key that is absent from the file);
//! - `# secret: VALUE` (the secret the file contains: no message may contain it);
//! - `# message: TEXT` (some problem's message must contain TEXT).

use owui_deploy::config;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

type Expected = (String, String, Option<(usize, usize)>);

struct Case {
    path: PathBuf,
    expected: Vec<Expected>,
    secrets: Vec<String>,
    messages: Vec<String>,
}

fn parse_header(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).expect("read corpus file");
    let mut case = Case {
        path: path.to_path_buf(),
        expected: Vec::new(),
        secrets: Vec::new(),
        messages: Vec::new(),
    };
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        if let Some(rest) = line.strip_prefix("# expect: ") {
            let (code, rest) = rest
                .split_once(" at ")
                .unwrap_or_else(|| panic!("{}: bad expect line {line}", path.display()));
            let (key, pos) = match rest.split_once(" [") {
                Some((key, pos)) => {
                    let pos = pos.trim_end_matches(']');
                    let (l, c) = pos.split_once(':').expect("LINE:COL");
                    (
                        key,
                        Some((
                            l.parse().expect("line number"),
                            c.parse().expect("column number"),
                        )),
                    )
                }
                None => (rest, None),
            };
            case.expected
                .push((code.to_string(), key.trim().to_string(), pos));
        } else if let Some(s) = line.strip_prefix("# secret: ") {
            case.secrets.push(s.to_string());
        } else if let Some(m) = line.strip_prefix("# message: ") {
            case.messages.push(m.to_string());
        }
    }
    assert!(
        !case.expected.is_empty(),
        "{}: no '# expect:' line",
        path.display()
    );
    case
}

fn corpus() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid-environments");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files.iter().map(|p| parse_header(p)).collect()
}

#[test]
fn corpus_is_large_enough() {
    assert!(corpus().len() >= 45, "at least 45 invalid environments");
}

#[test]
fn every_file_produces_exactly_its_expected_problems() {
    let mut failures = Vec::new();
    for case in corpus() {
        let problems = match config::load(&case.path) {
            Ok(_) => {
                failures.push(format!("{}: loaded without problems", case.path.display()));
                continue;
            }
            Err(e) => e.problems,
        };
        let got: BTreeSet<Expected> = problems
            .iter()
            .map(|p| (p.code.to_string(), p.key.clone(), p.line.zip(p.col)))
            .collect();
        let want: BTreeSet<Expected> = case.expected.iter().cloned().collect();
        if got != want || problems.len() != case.expected.len() {
            let lines: Vec<String> = problems
                .iter()
                .map(|p| format!("    [{}] {p}", p.code))
                .collect();
            failures.push(format!(
                "{}:\n  want {want:?}\n  got  {got:?}\n{}",
                case.path.display(),
                lines.join("\n")
            ));
            continue;
        }
        for m in &case.messages {
            if !problems.iter().any(|p| p.message.contains(m.as_str())) {
                failures.push(format!(
                    "{}: no message contains {m:?}: {:?}",
                    case.path.display(),
                    problems.iter().map(|p| &p.message).collect::<Vec<_>>()
                ));
            }
        }
        for s in &case.secrets {
            for p in &problems {
                let shown = p.to_string();
                if shown.contains(s.as_str()) || p.message.contains(s.as_str()) {
                    failures.push(format!(
                        "{}: a message echoes the secret",
                        case.path.display()
                    ));
                }
            }
        }
        for p in &problems {
            assert_eq!(p.file, case.path);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn corpus_covers_every_rule() {
    let covered: BTreeSet<String> = corpus()
        .into_iter()
        .flat_map(|c| c.expected.into_iter().map(|(code, _, _)| code))
        .collect();
    for code in [
        "toml-syntax",
        "unknown-key",
        "missing-key",
        "invalid-type",
        "invalid-value",
        "out-of-range",
        "secret-in-file",
        "invalid-name",
        "invalid-dns-label",
        "invalid-cidr",
        "cidr-host-bits",
        "cidr-outside-vnet",
        "subnet-overlap",
        "address-space-overlap",
        "subnet-too-small",
        "invalid-email",
        "empty-value",
        "not-positive",
        "duplicate-name",
        "quota-period-required",
        "token-quota-required",
        "invalid-quota-period",
        "invalid-guid",
        "unknown-location",
        "invalid-sku",
        "invalid-cpu-memory",
        "replicas-range",
        "unknown-role",
        "invalid-domain",
        "invalid-url",
        "file-not-found",
        "invalid-tag",
        "reserved-tag",
        "reserved-env-var",
        "invalid-env-name",
    ] {
        assert!(covered.contains(code), "no corpus file covers {code}");
    }
}

#[test]
fn secret_messages_say_where_secrets_come_from() {
    for case in corpus().into_iter().filter(|c| !c.secrets.is_empty()) {
        let Err(e) = config::load(&case.path) else {
            panic!("{} must fail", case.path.display());
        };
        for p in e.problems.iter().filter(|p| p.code == "secret-in-file") {
            for source in [
                "OWUI_POSTGRES_ADMIN_PASSWORD",
                "OWUI_CERTIFICATE_PFX_BASE64",
                "domain.certificate_pfx_path",
                "AZURE_*",
                "Key Vault",
            ] {
                assert!(
                    p.message.contains(source),
                    "{}: {}",
                    case.path.display(),
                    p.message
                );
            }
        }
    }
}
