//! Running the built `switchyard audit …`.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");

pub fn audit(args: &[&str]) -> Output {
    Command::new(BIN).arg("audit").args(args).output().unwrap()
}

/// `audit verify`: (exit code, stdout + stderr).
pub fn verify(config: &Path, anchors: Option<&Path>) -> (i32, String) {
    let mut args = vec!["verify", "--config", config.to_str().unwrap()];
    if let Some(a) = anchors {
        args.extend(["--anchors", a.to_str().unwrap()]);
    }
    let out = audit(&args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}
