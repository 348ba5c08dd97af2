//! `leakline watch --case` refusals that happen before the terminal is touched.

use std::path::Path;
use std::process::Command;

fn init_case(dir: &Path) -> std::path::PathBuf {
    let case = dir.join("case");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/leakline.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_leakline"))
        .args(["case", "init"])
        .arg(&case)
        .arg("--config")
        .arg(&config)
        .args(["--playbook", "exposed-api-endpoint", "--operator", "lead"])
        .output()
        .expect("case init");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    case
}

#[test]
fn watch_case_refuses_a_tampered_case_with_exit_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = init_case(dir.path());
    let playbook = case.join("playbook.toml");
    let text = std::fs::read_to_string(&playbook).expect("playbook");
    std::fs::write(&playbook, text.replacen("Block ingress", "Ignore ingress", 1)).expect("edit");
    let out = Command::new(env!("CARGO_BIN_EXE_leakline"))
        .args(["watch", "--case"])
        .arg(&case)
        .output()
        .expect("watch");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("integrity check FAILED") && stderr.contains("playbook.toml"),
        "{stderr}"
    );
}

#[test]
fn watch_case_and_config_conflict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = init_case(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_leakline"))
        .args(["watch", "--config", "x.toml", "--case"])
        .arg(&case)
        .output()
        .expect("watch");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}
