//! The newcomer's path: `cloud = "sandbox"` starts the embedded sandbox in-process,
//! its state survives between separate CLI runs, and no secret reaches any file the
//! tool writes (the state file included) or its output.

use std::path::Path;
use std::process::Command;

fn run(dir: &Path, args: &[&str], password: &str, certificate: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_owui-deploy"))
        .current_dir(dir)
        .env_remove("OWUI_SANDBOX_URL")
        .env_remove("OWUI_SANDBOX_CA")
        .env_remove("OWUI_ENV")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("OWUI_POSTGRES_ADMIN_PASSWORD", password)
        .env("OWUI_CERTIFICATE_PFX_BASE64", certificate)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("run owui-deploy");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn up_into_the_embedded_sandbox_persists_and_keeps_secrets_out_of_every_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("environments")).expect("mkdir");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("environments/sandbox.toml"),
    )
    .expect("sandbox.toml")
    .replace("time_scale = 0.001", "time_scale = 0.0005");
    std::fs::write(dir.path().join("environments/sandbox.toml"), text).expect("write");
    let password = format!("Pw-{}-Xy9", uuid::Uuid::new_v4().simple());
    let certificate = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(uuid::Uuid::new_v4().as_bytes().repeat(20))
    };
    let env = "environments/sandbox.toml";

    let (code, stdout, stderr) = run(
        dir.path(),
        &["up", "--env", env, "--yes", "-vv", "--no-progress"],
        &password,
        &certificate,
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("Apply complete"), "{stdout}");
    let state = dir.path().join("environments/.owui-sandbox/state.json");
    assert!(
        state.exists(),
        "the embedded sandbox keeps its state next to the file"
    );

    // A separate process sees the same (emulated) Azure: nothing left to do.
    let (code, plan_out, plan_err) =
        run(dir.path(), &["plan", "--env", env], &password, &certificate);
    assert_eq!(code, 0, "{plan_out}\n{plan_err}");
    assert!(plan_out.contains("No changes."), "{plan_out}");

    let mut all = Vec::new();
    files(dir.path(), &mut all);
    let mut texts: Vec<(String, String)> = all
        .iter()
        .map(|p| {
            (
                p.display().to_string(),
                String::from_utf8_lossy(&std::fs::read(p).expect("read")).into_owned(),
            )
        })
        .collect();
    texts.push(("up stdout".into(), stdout));
    texts.push(("up stderr".into(), stderr));
    texts.push(("plan output".into(), plan_out + &plan_err));
    for (name, text) in &texts {
        for (what, needle) in [
            // Letters, digits and '-' only: the same text inside the connection string.
            ("password", password.as_str()),
            ("certificate", &certificate[..64]),
        ] {
            assert!(!text.contains(needle), "the {what} appears in {name}");
        }
    }
}
