//! The `owui-deploy` binary: everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    owui_deploy::cli::main()
}
