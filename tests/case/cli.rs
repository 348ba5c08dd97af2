//! `leakline playbook` and `leakline case` end to end, through the real binary.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

use crate::{bin, fixture};

fn leakline() -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_remove("LEAKLINE_OPERATOR").env_remove("USER");
    cmd
}

/// `case init` a fresh case in `dir/case` with a config file next to it.
fn init_case(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("leakline.toml");
    fs::write(&config, "name = \"cli test\"\n").unwrap();
    let case = dir.join("case");
    leakline()
        .args(["case", "init"])
        .arg(&case)
        .arg("--config")
        .arg(&config)
        .args(["--playbook", "exposed-api-endpoint", "--name", "API exposure", "--operator", "ana"])
        .assert()
        .success()
        .stdout(predicate::str::contains("case \"API exposure\" opened"));
    case
}

#[test]
fn playbook_list_show_and_validate() {
    leakline().args(["playbook", "list"]).assert().success().stdout(
        predicate::str::contains("exposed-api-endpoint")
            .and(predicate::str::contains("model-weights-exfiltration")),
    );
    leakline()
        .args(["playbook", "list", "--playbooks"])
        .arg(fixture("user"))
        .assert()
        .success()
        .stdout(
            predicate::str::contains("test-minimal").and(predicate::str::contains("good.toml")),
        );
    leakline().args(["playbook", "show", "exposed-api-endpoint"]).assert().success().stdout(
        predicate::str::contains(
            "2. block-ingress — Block ingress from the internet (infra, SLA 30 min)",
        )
        .and(predicate::str::contains("Example commands (adapt before running):"))
        .and(predicate::str::contains("verify: scan_closed"))
        .and(predicate::str::contains("aws ec2 revoke-security-group-ingress")),
    );
    leakline()
        .args(["playbook", "show", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no playbook with id `nope`"));
    leakline()
        .args(["playbook", "validate"])
        .arg(fixture("user/good.toml"))
        .assert()
        .success()
        .stdout(predicate::str::contains("ok (test-minimal, 2 steps)"));
    let cycle = fixture("broken/cycle.toml");
    leakline()
        .args(["playbook", "validate"])
        .arg(&cycle)
        .arg(fixture("broken/unknown-require.toml"))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains(format!(
                "{}:20:13: dependency cycle in requires: a → c → b → a",
                cycle.display()
            ))
            .and(predicate::str::contains(
                "unknown-require.toml:12:13: step \"a\" requires unknown step \"nope\"",
            )),
        );
}

/// Open a case and record: a start (bob, env), a refused skip, a skip with reason (carol,
/// `$USER`), a refused note without operator, a note (bob), a refused unknown step.
fn work_case(dir: &Path) -> std::path::PathBuf {
    let case = init_case(dir);
    for name in ["case.toml", "playbook.toml", "journal.jsonl"] {
        assert!(case.join(name).is_file(), "{name}");
    }
    let copied = fs::read_to_string(case.join("playbook.toml")).unwrap();
    assert_eq!(
        copied,
        fs::read_to_string(crate::root().join("playbooks/exposed-api-endpoint.toml")).unwrap()
    );

    leakline()
        .args(["case", "step"])
        .arg(&case)
        .args(["block-ingress", "start"])
        .env("LEAKLINE_OPERATOR", "bob")
        .assert()
        .success()
        .stdout(predicate::str::contains("step block-ingress: start → in_progress (record 2"))
        .stderr(predicate::str::contains("block-ingress requires confirm-exposure"));
    leakline()
        .args(["case", "step"])
        .arg(&case)
        .args(["notify", "skip"])
        .env("USER", "carol")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("skipping a step needs a reason"));
    leakline()
        .args(["case", "step"])
        .arg(&case)
        .args(["notify", "skip", "--note", "comms handled by the vendor"])
        .env("USER", "carol")
        .assert()
        .success();
    leakline()
        .args(["case", "note"])
        .arg(&case)
        .arg("SG rule revoked")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no operator"));
    leakline()
        .args(["case", "note"])
        .arg(&case)
        .args(["sg-0abc: 0.0.0.0/0 on 443 revoked", "--operator", "bob"])
        .assert()
        .success();
    leakline()
        .args(["case", "step"])
        .arg(&case)
        .args(["no-such-step", "done", "--operator", "bob"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown step \"no-such-step\""));
    case
}

#[test]
fn case_show_json_has_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    let case = work_case(dir.path());
    let out = leakline().args(["case", "show"]).arg(&case).arg("--json").assert().success();
    let json: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&json),
        ["closed", "journal", "name", "notes", "playbook", "reopened", "status"]
    );
    assert_eq!((&json["status"], &json["closed"]), (&"open".into(), &Value::Null));
    assert_eq!(json["name"], "API exposure");
    assert_eq!(keys(&json["playbook"]), ["id", "steps"]);
    assert_eq!(json["playbook"]["id"], "exposed-api-endpoint");
    let steps = json["playbook"]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 10);
    assert_eq!(keys(&steps[0]), ["at", "by", "id", "note", "state", "title", "verified"]);
    assert_eq!(steps[0]["state"], "pending");
    assert_eq!(steps[0]["verified"], Value::Null);
    assert_eq!(steps[1]["id"], "block-ingress");
    assert_eq!(steps[1]["state"], "in_progress");
    assert_eq!(steps[1]["by"], "bob");
    assert_eq!(steps[1]["verified"]["outcome"], "not_evaluated");
    // The config has no sources: the snapshot is evaluated, but has nothing to check.
    assert_eq!(
        steps[1]["verified"]["summary"],
        "no service has an exposure window in the evidence"
    );
    let notify = steps.iter().find(|s| s["id"] == "notify").unwrap();
    assert_eq!(
        (&notify["state"], &notify["by"], &notify["note"]),
        (
            &Value::from("skipped"),
            &Value::from("carol"),
            &Value::from("comms handled by the vendor")
        )
    );
    let notes = json["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(keys(&notes[0]), ["at", "by", "text"]);
    assert_eq!(notes[0]["text"], "sg-0abc: 0.0.0.0/0 on 443 revoked");
    assert_eq!(json["journal"]["records"], 4);
    let head = json["journal"]["head"].as_str().unwrap().to_owned();
    assert_eq!(head.len(), 64);
}

#[test]
fn case_show_text_verify_and_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let case = work_case(dir.path());
    let journal_text = fs::read_to_string(case.join("journal.jsonl")).unwrap();
    let last: Value = serde_json::from_str(journal_text.lines().last().unwrap()).unwrap();
    let head = last["hash"].as_str().unwrap().to_owned();
    leakline().args(["case", "show"]).arg(&case).assert().success().stdout(
        predicate::str::contains("Case:     API exposure  [open]")
            .and(predicate::str::contains("[>] in_progress block-ingress"))
            .and(predicate::str::contains(
                "verify: ? not evaluated: no service has an exposure window in the evidence",
            ))
            .and(predicate::str::contains("waiting on: confirm-exposure"))
            .and(predicate::str::contains(format!("Journal:  4 records, head {head}"))),
    );
    leakline()
        .args(["case", "verify"])
        .arg(&case)
        .args(["--head", &head[..12]])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("journal intact: 4 records, head {head}")));

    // Evidence files are hashed into the journal.
    let log = dir.path().join("access.log");
    fs::write(&log, "abc").unwrap();
    leakline()
        .args(["case", "add-source"])
        .arg(&case)
        .arg(&log)
        .args(["--operator", "ana"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ));

    // Dropping the newest record passes the chain check but not the anchored head.
    let journal = case.join("journal.jsonl");
    let text = fs::read_to_string(&journal).unwrap();
    let kept: Vec<&str> = text.lines().take(3).collect();
    fs::write(&journal, format!("{}\n", kept.join("\n"))).unwrap();
    leakline().args(["case", "verify"]).arg(&case).assert().success();
    leakline()
        .args(["case", "verify"])
        .arg(&case)
        .args(["--head", &head])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("is not in the journal"));

    // An edited record fails with its line named.
    let edited = text.replacen("\"operator\":\"bob\"", "\"operator\":\"eve\"", 1);
    fs::write(&journal, edited).unwrap();
    leakline()
        .args(["case", "verify"])
        .arg(&case)
        .assert()
        .code(3)
        .stderr(predicate::str::contains("journal.jsonl:2: record seq 2: record was modified"));
    // Every command that reads the chain refuses a tampered journal the same way.
    leakline()
        .args(["case", "step"])
        .arg(&case)
        .args(["preserve-logs", "start", "--operator", "ana"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("journal.jsonl:2: record seq 2"));
    leakline().args(["case", "show"]).arg(&case).assert().code(3);
}

#[test]
fn init_refuses_a_used_folder_and_unknown_playbooks() {
    let dir = tempfile::tempdir().unwrap();
    let case = init_case(dir.path());
    leakline()
        .args(["case", "init"])
        .arg(&case)
        .args(["--config", "leakline.toml", "--playbook", "leaked-api-key", "--operator", "ana"])
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not empty"));
    leakline()
        .args(["case", "init"])
        .arg(dir.path().join("other"))
        .args(["--config", "leakline.toml", "--playbook", "nope", "--operator", "ana"])
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no playbook with id `nope`"));
    leakline()
        .args(["case", "init"])
        .arg(dir.path().join("third"))
        .args(["--config", "missing.toml", "--playbook", "leaked-api-key", "--operator", "ana"])
        .current_dir(dir.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("missing.toml"));
    // A user playbook can open a case.
    leakline()
        .args(["case", "init"])
        .arg(dir.path().join("fourth"))
        .args([
            "--config",
            "leakline.toml",
            "--playbook",
            "test-minimal",
            "--operator",
            "ana",
            "--playbooks",
        ])
        .arg(fixture("user"))
        .current_dir(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("with playbook test-minimal (2 steps)"));
}

/// Journal text is shown by `case show` through the shared terminal rule: a note pasted from a
/// log (bidi override, zero-width characters, a line separator, a BOM) and a multi-line note
/// reach the terminal as visible escapes, whole.
#[test]
fn case_show_escapes_pasted_hostile_text() {
    let dir = tempfile::tempdir().unwrap();
    let case = work_case(dir.path());
    let pasted =
        "UA was curl\u{202e}gnp.exe\u{200b}\u{2066}x\u{2069} \u{2028}next \u{feff}bom\nsecond line";
    leakline()
        .args(["case", "note"])
        .arg(&case)
        .args([pasted, "--operator", "bob"])
        .assert()
        .success();
    let out = leakline().args(["case", "show"]).arg(&case).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        !text.lines().flat_map(str::chars).any(leakline::text::is_unsafe),
        "raw characters:\n{text}"
    );
    assert!(
        text.contains(
            "UA was curl\\u{202e}gnp.exe\\u{200b}\\u{2066}x\\u{2069} \\u{2028}next \\u{feff}bom\\x0asecond line"
        ),
        "{text}"
    );
}
