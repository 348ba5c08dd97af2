//! Issues 7 + 8 wired together: a case over the `model-gateway` scenario, worked through the
//! real binary (`case init`, `case step`, `case note`, `case show --json`), then exported with
//! `report --format md|json|html`. The evidence is a copy of
//! `tests/fixtures/scenarios/model-gateway/` (ground truth in its `expected.json`).

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::{DateTime, Utc};
use leakline::correlate::batch::{self, BatchOptions};
use predicates::prelude::*;
use serde_json::Value;

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios/model-gateway")
}

fn leakline() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leakline"));
    cmd.env_remove("LEAKLINE_OPERATOR").env_remove("USER");
    cmd
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("test time").with_timezone(&Utc)
}

/// Copy the scenario (config, logs, scans, expected.json) into `dir/evidence`.
fn copy_scenario(dir: &Path) -> PathBuf {
    fn copy_tree(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_tree(&entry.path(), &target);
            } else {
                fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    let evidence = dir.join("evidence");
    copy_tree(&scenario_dir(), &evidence);
    evidence
}

fn expected() -> Value {
    serde_json::from_str(&fs::read_to_string(scenario_dir().join("expected.json")).unwrap())
        .unwrap()
}

/// Every key of `expected` is in `actual` with the same value (objects compared key by key,
/// arrays element by element).
fn assert_subset(expected: &Value, actual: &Value, at: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                let got = a.get(k).unwrap_or_else(|| panic!("{at}.{k} missing in {actual}"));
                assert_subset(v, got, &format!("{at}.{k}"));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "{at}: length");
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                assert_subset(e, a, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(expected, actual, "{at}"),
    }
}

fn stdout_json(cmd: &mut Command) -> Value {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn step_of<'a>(steps: &'a Value, id: &str) -> &'a Value {
    steps.as_array().unwrap().iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("{id}"))
}

fn journal_records(case: &Path) -> Vec<Value> {
    fs::read_to_string(case.join("journal.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `case init` on the copied scenario, then: confirm-exposure done, block-ingress started,
/// notify skipped with a reason, two notes (one with a token in a URL).
fn worked_case(dir: &Path) -> PathBuf {
    let evidence = copy_scenario(dir);
    let case = dir.join("case");
    leakline()
        .args(["case", "init"])
        .arg(&case)
        .arg("--config")
        .arg(evidence.join("leakline.toml"))
        .args(["--playbook", "exposed-api-endpoint", "--name", "Model gateway", "--operator"])
        .arg("ana")
        .assert()
        .success()
        .stdout(predicate::str::contains("6 evidence files hashed"));
    let act = |args: &[&str]| {
        leakline().arg("case").arg(args[0]).arg(&case).args(&args[1..]).assert().success();
    };
    act(&["step", "confirm-exposure", "done", "--note", "nmap open at 12:15", "--operator", "ana"]);
    act(&["step", "block-ingress", "start", "--operator", "bob"]);
    act(&["step", "notify", "skip", "--note", "internal models only", "--operator", "carol"]);
    act(&["note", "SG rule sg-0abc revoked", "--operator", "bob"]);
    act(&[
        "note",
        "curl https://gw.example.net/v1/models?api_key=sk-live-abcdef123456",
        "--operator",
        "ana",
    ]);
    case
}

#[test]
fn init_hashes_every_evidence_file_the_config_matches() {
    let dir = tempfile::tempdir().unwrap();
    let case = worked_case(dir.path());
    let records = journal_records(&case);
    assert_eq!(records[0]["kind"], "case_opened");
    let sources: Vec<&Value> = records.iter().filter(|r| r["kind"] == "source_added").collect();
    let names: Vec<String> = sources
        .iter()
        .map(|r| {
            let path = PathBuf::from(r["data"]["path"].as_str().unwrap());
            assert!(path.is_absolute(), "{path:?}");
            let parent = path.parent().unwrap().file_name().unwrap().to_string_lossy();
            format!("{parent}/{}", path.file_name().unwrap().to_string_lossy())
        })
        .collect();
    // The batch engine's reading order: scans (sorted), then access logs in config order.
    assert_eq!(
        names,
        [
            "scans/nmap-1100.xml",
            "scans/nmap-1215.xml",
            "scans/nmap-1240.xml",
            "scans/nuclei-1217.jsonl",
            "logs/access.log",
            "logs/access.json"
        ]
    );
    assert!(records[1..=6].iter().all(|r| r["kind"] == "source_added" && r["operator"] == "ana"));
    let log = dir.path().join("evidence/logs/access.log");
    assert_eq!(sources[4]["data"]["bytes"], fs::metadata(&log).unwrap().len());
    assert_eq!(sources[4]["data"]["sha256"].as_str().unwrap().len(), 64);
    leakline().args(["case", "verify"]).arg(&case).assert().success();
}

#[test]
fn case_show_and_reports_agree_with_the_evidence_and_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let case = worked_case(dir.path());

    // case show --json: verification evaluated over the scenario's evidence.
    let show = stdout_json(leakline().args(["case", "show", "--json"]).arg(&case));
    let steps = &show["playbook"]["steps"];
    // Issue 16: a check looks only at evidence after its step started; the close-out step
    // is not "verified" the moment the case opens.
    let close_out = &step_of(steps, "close-out")["verified"];
    assert_eq!(close_out["outcome"], "not_evaluated", "{close_out}");
    assert_eq!(close_out["summary"], "not started");
    // A step not started has its condition reported but not evaluated.
    let outside = &step_of(steps, "verify-from-outside")["verified"];
    assert_eq!(outside["outcome"], "not_evaluated");
    assert_eq!(outside["summary"], "not started");
    let block = &step_of(steps, "block-ingress")["verified"];
    assert_ne!(block["outcome"], "not_evaluated", "started, evidence present: {block}");
    assert_eq!(show["journal"]["records"], 12, "opened + 6 sources + 3 steps + 2 notes");
    let head = show["journal"]["head"].as_str().unwrap().to_owned();

    // The three reports.
    for ext in ["md", "json", "html"] {
        leakline()
            .args(["report", "--case"])
            .arg(&case)
            .args(["--format", ext, "--out"])
            .arg(dir.path().join(format!("report.{ext}")))
            .assert()
            .success()
            // The note's secret was already replaced when it was journaled.
            .stderr(predicate::str::contains("0 secrets redacted"));
    }

    let report: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["schema"], "leakline.report/1");
    assert_eq!(report["case"]["name"], "Model gateway");
    // Windows: exactly the scenario's ground truth.
    for (service, windows) in expected().as_object().unwrap() {
        let svc = report["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == *service)
            .unwrap_or_else(|| panic!("service {service} missing"));
        assert_subset(windows, &svc["windows"], service);
    }
    // The journal head is the one case show printed.
    assert_eq!(report["journal_head"]["head_hash"], head.as_str());
    assert_eq!(report["journal_head"]["records"], 12);
    assert_eq!(report["journal_head"]["problems"], Value::Array(Vec::new()));
    // Playbook steps as recorded.
    let playbook = &report["playbook"];
    assert_eq!(playbook["id"], "exposed-api-endpoint");
    let steps = &playbook["steps"];
    assert_eq!(steps.as_array().unwrap().len(), 10);
    let confirm = step_of(steps, "confirm-exposure");
    assert_eq!((&confirm["state"], &confirm["operator"]), (&"done".into(), &"ana".into()));
    // Done without a start: no start is invented.
    assert!(confirm["done"].is_string() && confirm["started"].is_null(), "{confirm}");
    assert_eq!(confirm["history"][0]["action"], "done (never marked started)");
    assert_eq!(confirm["sla"], "met");
    let block = step_of(steps, "block-ingress");
    assert_eq!((&block["state"], &block["operator"]), (&"in_progress".into(), &"bob".into()));
    assert!(block["started"].is_string() && block["done"].is_null());
    assert_eq!(block["sla"], "running");
    let notify = step_of(steps, "notify");
    assert_eq!(
        (&notify["state"], &notify["skip_reason"]),
        (&"skipped".into(), &"internal models only".into())
    );
    let close_out = step_of(steps, "close-out");
    assert_eq!(close_out["verification"]["outcome"], "not_evaluated");
    assert_eq!(close_out["verification"]["summary"], "not started");
    assert!(step_of(steps, "preserve-logs")["verification"].is_null());
    // Notes in journal order, secrets redacted.
    let notes = report["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 2);
    assert_eq!(
        (&notes[0]["by"], &notes[0]["text"]),
        (&"bob".into(), &"SG rule sg-0abc revoked".into())
    );
    let pasted = notes[1]["text"].as_str().unwrap();
    assert!(!pasted.contains("sk-live-abcdef123456") && pasted.contains("REDACTED"), "{pasted}");
    assert_eq!(report["redaction"]["enabled"], true);
    // The report's sources carry the same hashes case init recorded.
    let recorded = journal_records(&case);
    for source in report["sources"].as_array().unwrap() {
        let added = recorded
            .iter()
            .find(|r| r["kind"] == "source_added" && r["data"]["path"] == source["path"])
            .unwrap_or_else(|| panic!("{} not recorded at init", source["path"]));
        assert_eq!(added["data"]["sha256"], source["sha256"]);
    }

    let html = fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(
        html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'"),
        "CSP meta missing"
    );
    assert!(html.contains("Block ingress from the internet"));
    assert!(!html.contains("sk-live-abcdef123456"));
    let md = fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("Incident report: Model gateway"), "{}", &md[..200.min(md.len())]);
    assert!(md.contains("internal models only") && md.contains("SG rule sg-0abc revoked"));
    assert!(md.contains("2026-11-03 12:40:09"));
}

#[test]
fn report_as_of_and_no_redact() {
    let dir = tempfile::tempdir().unwrap();
    let case = worked_case(dir.path());
    let out = dir.path().join("early.json");
    leakline()
        .args(["report", "--case"])
        .arg(&case)
        .args(["--as-of", "2026-11-03T12:10:00+00:00", "--no-redact", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicate::str::contains("redaction OFF").and(predicate::str::contains(
            "--as-of 2026-11-03T12:10:00Z is before the latest evidence (2026-11-03T13:59:57Z)",
        )));
    let report: Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(report["as_of"], "2026-11-03T12:10:00Z");
    assert_eq!(report["redaction"]["enabled"], false);
    let notes = report["notes"].as_array().unwrap();
    // `--no-redact` cannot bring back what the journal never stored: the note's secret was
    // replaced by its stable marker when it was written.
    let note = notes[1]["text"].as_str().unwrap();
    assert!(!note.contains("sk-live-abcdef123456") && note.contains("REDACTED"), "{note}");

    leakline()
        .args(["report", "--case"])
        .arg(&case)
        .args(["--as-of", "yesterday", "--out"])
        .arg(dir.path().join("bad.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--as-of `yesterday`"));
    assert!(!dir.path().join("bad.json").exists());
}

#[test]
fn init_refuses_a_config_that_does_not_load_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leakline.toml");
    fs::write(&config, "name = \"x\"\n[[service]]\nname = \"api\"\nacess = [\"a.log\"]\n").unwrap();
    let case = dir.path().join("case");
    leakline()
        .args(["case", "init"])
        .arg(&case)
        .arg("--config")
        .arg(&config)
        .args(["--playbook", "exposed-api-endpoint", "--operator", "ana"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("leakline.toml:4"));
    assert!(!case.exists(), "a refused init leaves no folder");

    // A literal evidence path that matches nothing is refused too, naming it.
    fs::write(&config, "[[service]]\nname = \"api\"\naccess = [\"logs/missing.log\"]\n").unwrap();
    leakline()
        .args(["case", "init"])
        .arg(&case)
        .arg("--config")
        .arg(&config)
        .args(["--playbook", "exposed-api-endpoint", "--operator", "ana"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("missing.log")
                .and(predicate::str::contains("--allow-missing")),
        );
    assert!(!case.exists());

    // Stdin cannot be re-read by `case show` and `report`.
    fs::write(&config, "[[service]]\nname = \"api\"\naccess = [\"-\"]\n").unwrap();
    leakline()
        .args(["case", "init"])
        .arg(&case)
        .arg("--config")
        .arg(&config)
        .args(["--playbook", "exposed-api-endpoint", "--operator", "ana"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`-` (stdin) cannot be read again"));
    assert!(!case.exists());
}

#[test]
fn show_and_report_name_a_config_that_no_longer_loads() {
    let dir = tempfile::tempdir().unwrap();
    let case = worked_case(dir.path());
    let config = dir.path().join("evidence/leakline.toml");
    fs::write(&config, "name = \n").unwrap();
    let config_name = config.display().to_string();
    // The case pinned the config's hash: an edited config is an integrity failure (exit 3).
    leakline().args(["case", "show"]).arg(&case).assert().code(3).stderr(predicate::str::contains(
        format!("{config_name}: changed since the case was opened"),
    ));
    leakline()
        .args(["report", "--case"])
        .arg(&case)
        .args(["--out"])
        .arg(dir.path().join("r.md"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains(config_name.as_str()));
    assert!(!dir.path().join("r.md").exists(), "no report over a swapped config");
    fs::remove_file(&config).unwrap();
    leakline().args(["case", "show", "--json"]).arg(&case).assert().code(3).stderr(
        predicate::str::contains(format!(
            "{config_name}: cannot be read to check its recorded hash"
        )),
    );
    // Evidence that disappeared is named as well.
    fs::copy(scenario_dir().join("leakline.toml"), &config).unwrap();
    fs::remove_file(dir.path().join("evidence/logs/access.json")).unwrap();
    leakline()
        .args(["case", "show"])
        .arg(&case)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("access.json: no such file"));
}

#[test]
fn snapshot_of_reads_the_config_like_analyze() {
    let config = leakline::config::load(&scenario_dir().join("leakline.toml")).unwrap();
    let latest = batch::run(&config, &BatchOptions::default()).unwrap().latest_event().unwrap();
    let snap = batch::snapshot_of(&config, None).unwrap();
    assert_eq!(snap.as_of, latest, "as_of None: the latest event time");
    let window = &snap.services[0].windows[0];
    assert_eq!(window.opened_latest, t("2026-11-03T11:42:10Z"));
    assert_eq!(window.closed_latest, Some(t("2026-11-03T12:40:09Z")));
    let later = batch::snapshot_of(&config, Some(t("2026-12-01T00:00:00Z"))).unwrap();
    assert_eq!(later.as_of, t("2026-12-01T00:00:00Z"));
    assert_eq!(later.services, snap.services, "closed windows do not depend on as_of");

    let files = batch::evidence_files(&config).unwrap();
    assert_eq!(files.len(), 6);
    assert!(files[0].ends_with("scans/nmap-1100.xml") && files[5].ends_with("logs/access.json"));
}

#[test]
fn report_refuses_a_tampered_journal() {
    let dir = tempfile::tempdir().unwrap();
    let case = worked_case(dir.path());
    let path = case.join("journal.jsonl");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("SG rule sg-0abc revoked"));
    fs::write(&path, text.replace("SG rule sg-0abc revoked", "SG rule left alone")).unwrap();
    let out = dir.path().join("r.json");
    leakline()
        .args(["report", "--case"])
        .arg(&case)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("integrity check FAILED")
                .and(predicate::str::contains("journal.jsonl:11: record seq 11")),
        );
    assert!(!out.exists());
}
