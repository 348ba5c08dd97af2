//! Issues 7 + 8 wired together: a case over the `model-gateway` scenario, worked through the
//! real binary (`case init`, `case step`, `case note`, `case show --json`), then exported with
//! `report --format md|json|html`. The evidence is a copy of
//! `tests/fixtures/scenarios/model-gateway/` (ground truth in its `expected.json`).

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::{DateTime, Utc};
use leakline::batch::{self, BatchOptions};
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

// ---------------------------------------------------------------------------------------------
// Issue 16: the report is a rendering of the journal; evidence integrity; reproducible
// reports; closing; verify and SLA; step numbers. Issue 15: the case's own integrity.

fn report_json(case: &Path, out: &Path) -> Value {
    leakline().args(["report", "--case"]).arg(case).arg("--out").arg(out).assert().success();
    serde_json::from_str(&fs::read_to_string(out).unwrap()).unwrap()
}

fn run(case: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    leakline().arg("case").arg(args[0]).arg(case).args(&args[1..]).assert()
}

#[test]
fn done_without_start_and_a_reopened_step_read_as_the_journal_holds_them() {
    let dir = tempfile::tempdir().unwrap();
    let case = worked_case(dir.path());
    run(&case, &["step", "block-ingress", "done", "--operator", "bob"]).success();
    run(&case, &["step", "block-ingress", "reopen", "--operator", "bob"]).success();
    let report = report_json(&case, &dir.path().join("r.json"));
    let steps = &report["playbook"]["steps"];
    let confirm = step_of(steps, "confirm-exposure");
    assert_eq!(confirm["started"], Value::Null, "no start was journaled");
    assert_eq!(confirm["history"][0]["action"], "done (never marked started)");
    assert_eq!(confirm["history"][0]["note"], "nmap open at 12:15");
    let block = step_of(steps, "block-ingress");
    let actions: Vec<&str> = block["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions[0], "started");
    assert!(actions[1].starts_with("done"), "{actions:?}");
    assert_eq!(actions[2], "reopened");
    assert!(block["history"].as_array().unwrap().iter().all(|h| h["by"] == "bob"));
    assert_eq!(block["state"], "pending");

    let md_path = dir.path().join("r.md");
    leakline().args(["report", "--case"]).arg(&case).arg("--out").arg(&md_path).assert().success();
    let md = fs::read_to_string(&md_path).unwrap();
    assert!(md.contains("done (never marked started) by ana"), "{md}");
    assert!(!md.contains("Step started: Confirm"), "no invented start");
    assert!(md.contains("reopened by bob"), "a reopen does not vanish");
}

#[test]
fn every_report_ends_with_the_journal_and_its_verification() {
    let dir = tempfile::tempdir().unwrap();
    let case = worked_case(dir.path());
    let records = journal_records(&case);
    let report = report_json(&case, &dir.path().join("r.json"));
    let journal = report["journal"].as_array().unwrap();
    assert_eq!(journal.len(), records.len());
    for (entry, record) in journal.iter().zip(&records) {
        assert_eq!(entry["seq"], record["seq"]);
        assert_eq!(entry["hash"], record["hash"]);
        assert_eq!(entry["operator"], record["operator"]);
        assert_eq!(entry["kind"], record["kind"]);
    }
    let last_key = fs::read_to_string(dir.path().join("r.json"))
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("  \"")?.split_once("\":").map(|(k, _)| k.to_owned()))
        .next_back()
        .unwrap();
    assert_eq!(last_key, "journal", "the journal ends the JSON report");
    assert!(report["journal_verification"].as_str().unwrap().starts_with("hash chain verified"));
    // The pasted token is redacted in the appendix too.
    assert!(journal.iter().all(|e| !e["text"].as_str().unwrap().contains("sk-live-abcdef")));
    for ext in ["md", "html"] {
        let out = dir.path().join(format!("r.{ext}"));
        leakline().args(["report", "--case"]).arg(&case).arg("--out").arg(&out).assert().success();
        let text = fs::read_to_string(&out).unwrap();
        let at = text.find("Journal</h2>").or_else(|| text.find("## Journal")).expect(ext);
        for record in &records {
            let hash = record["hash"].as_str().unwrap();
            assert!(text[at..].contains(hash), "{ext}: {hash} missing from the appendix");
        }
        assert!(text[at..].contains("hash chain verified"), "{ext}");
    }
}

#[test]
fn changed_and_missing_evidence_are_warned_at_the_top() {
    let dir = tempfile::tempdir().unwrap();
    let case = worked_case(dir.path());
    let log = dir.path().join("evidence/logs/access.log");
    let mut text = fs::read_to_string(&log).unwrap();
    text.push_str(
        "203.0.113.9 - - [03/Nov/2026:13:59:58 +0000] \"GET / HTTP/1.1\" 200 12 \"-\" \"curl\"\n",
    );
    fs::write(&log, text).unwrap();
    fs::remove_file(dir.path().join("evidence/scans/nuclei-1217.jsonl")).unwrap();
    let out = dir.path().join("r.json");
    leakline()
        .args(["report", "--case"])
        .arg(&case)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stderr(
            predicate::str::contains("access.log is changed")
                .and(predicate::str::contains("nuclei-1217.jsonl is missing")),
        );
    let report: Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    let evidence = report["evidence"].as_array().unwrap();
    let of =
        |name: &str| evidence.iter().find(|e| e["path"].as_str().unwrap().ends_with(name)).unwrap();
    assert_eq!(of("access.log")["status"], "changed");
    assert_ne!(of("access.log")["sha256_now"], of("access.log")["sha256_recorded"]);
    assert_eq!(of("nuclei-1217.jsonl")["status"], "missing");
    assert_eq!(of("nuclei-1217.jsonl")["sha256_now"], Value::Null);
    assert_eq!(of("access.json")["status"], "unchanged");
    assert_eq!(of("leakline.toml")["status"], "unchanged", "the config of case_opened");
    let md_path = dir.path().join("r.md");
    leakline().args(["report", "--case"]).arg(&case).arg("--out").arg(&md_path).assert().success();
    let md = fs::read_to_string(&md_path).unwrap();
    let warning = md.find("Warning: evidence changed").expect("changed warning");
    assert!(md.contains("Warning: evidence missing"));
    assert!(warning < md.find("## Summary").unwrap(), "the warning comes first");
    let html_path = dir.path().join("r.html");
    leakline()
        .args(["report", "--case"])
        .arg(&case)
        .arg("--out")
        .arg(&html_path)
        .assert()
        .success();
    let html = fs::read_to_string(&html_path).unwrap();
    assert!(html.find("id=\"warnings\"").unwrap() < html.find("id=\"summary\"").unwrap());
}

#[test]
fn reports_are_byte_identical_under_source_date_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let case = worked_case(dir.path());
    for ext in ["md", "json", "html"] {
        let render = |name: &str| {
            let out = dir.path().join(format!("{name}.{ext}"));
            leakline()
                .env("SOURCE_DATE_EPOCH", "1700000000")
                .args(["report", "--case"])
                .arg(&case)
                .arg("--out")
                .arg(&out)
                .assert()
                .success();
            fs::read(out).unwrap()
        };
        let first = render("a");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert!(first == render("b"), "{ext}: two runs differ");
    }
    let report: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("a.json")).unwrap()).unwrap();
    assert_eq!(report["generated_at"], "2023-11-14T22:13:20Z");
    // As of the later of the last journal record and the last evidence event, never "now".
    let last = journal_records(&case).last().unwrap()["at"].as_str().unwrap().to_owned();
    let last = t(&last).max(t("2026-11-03T13:59:57Z"));
    assert_eq!(t(report["as_of"].as_str().unwrap()), last);
    leakline()
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .args(["report", "--case"])
        .arg(&case)
        .arg("--out")
        .arg(dir.path().join("c.md"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("SOURCE_DATE_EPOCH"));
}

#[test]
fn a_closed_case_refuses_step_actions_and_notes_until_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let case = worked_case(dir.path());
    run(&case, &["close", "--resolution", "SG rule removed; no data left", "--operator", "dana"])
        .success()
        .stdout(predicate::str::contains("case closed by dana"));
    let before = journal_records(&case).len();
    for args in [
        &["note", "late note", "--operator", "ana"][..],
        &["step", "preserve-logs", "start", "--operator", "ana"][..],
        &["undo", "--operator", "bob"][..],
    ] {
        run(&case, args).code(2).stderr(predicate::str::contains("closed by dana"));
    }
    run(&case, &["close", "--resolution", "again", "--operator", "dana"])
        .code(2)
        .stderr(predicate::str::contains("already closed"));
    assert_eq!(journal_records(&case).len(), before, "nothing written while closed");
    leakline()
        .args(["case", "show"])
        .arg(&case)
        .assert()
        .success()
        .stdout(predicate::str::contains("[closed]").and(predicate::str::contains("Closed:   ")));
    let report = report_json(&case, &dir.path().join("r.json"));
    assert_eq!(report["case_status"]["status"], "closed");
    assert_eq!(report["case_status"]["closed"]["by"], "dana");
    assert_eq!(report["case_status"]["closed"]["text"], "SG rule removed; no data left");
    run(&case, &["reopen", "--reason", "new evidence from the CDN", "--operator", "erin"])
        .success();
    run(&case, &["note", "CDN logs arrived", "--operator", "ana"]).success();
    let report = report_json(&case, &dir.path().join("r2.json"));
    assert_eq!(report["case_status"]["status"], "open");
    assert_eq!(report["case_status"]["reopened"]["by"], "erin");
    run(&case, &["reopen", "--reason", "x", "--operator", "erin"])
        .code(2)
        .stderr(predicate::str::contains("not closed"));
}

#[test]
fn steps_by_number_skipped_sla_and_done_unverified() {
    let dir = tempfile::tempdir().unwrap();
    let case = worked_case(dir.path());
    // Step 3 as the dashboard numbers them is verify-from-outside.
    run(&case, &["step", "3", "start", "--operator", "ana"])
        .success()
        .stdout(predicate::str::contains("step verify-from-outside: start"));
    run(&case, &["step", "99", "start", "--operator", "ana"])
        .code(2)
        .stderr(predicate::str::contains("1 confirm-exposure"));
    // block-ingress has a scan_closed check and no external scan since it started: done is
    // allowed, recorded as unverified.
    run(&case, &["step", "2", "done", "--operator", "bob"])
        .success()
        .stdout(predicate::str::contains("done (unverified)"))
        .stderr(predicate::str::contains("not verified"));
    leakline()
        .args(["case", "show"])
        .arg(&case)
        .assert()
        .success()
        .stdout(predicate::str::contains("done (unverified): the check said not yet"));
    let last = journal_records(&case).pop().unwrap();
    assert_eq!(last["data"]["step"], "block-ingress");
    assert!(last["data"]["unverified"].as_str().unwrap().starts_with("not yet"), "{last}");
    let report = report_json(&case, &dir.path().join("r.json"));
    let steps = &report["playbook"]["steps"];
    let block = step_of(steps, "block-ingress");
    assert!(block["unverified"].is_string());
    assert_eq!(block["history"][1]["action"], "done (unverified)");
    assert_eq!(step_of(steps, "notify")["sla"], "skipped", "a skipped step never meets its SLA");
    let md_path = dir.path().join("r.md");
    leakline().args(["report", "--case"]).arg(&case).arg("--out").arg(&md_path).assert().success();
    let md = fs::read_to_string(&md_path).unwrap();
    assert!(md.contains("| done (unverified) |"), "shown in the step table");
    assert!(md.contains("skipped |"), "{md}");
}

#[test]
fn every_command_checks_the_pinned_config_and_verifies_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let case = worked_case(dir.path());
    // Point case.toml at another config: every command refuses, naming case.toml.
    let other = dir.path().join("other.toml");
    fs::write(&other, "name = \"other\"\n").unwrap();
    let toml_path = case.join("case.toml");
    let original = fs::read_to_string(&toml_path).unwrap();
    let evidence_config = fs::canonicalize(dir.path().join("evidence/leakline.toml")).unwrap();
    let swapped = original.replace(
        evidence_config.to_str().unwrap(),
        fs::canonicalize(&other).unwrap().to_str().unwrap(),
    );
    assert_ne!(swapped, original);
    fs::write(&toml_path, swapped).unwrap();
    for args in
        [&["verify"][..], &["show"][..], &["note", "x", "--operator", "ana"][..], &["anchor"][..]]
    {
        run(&case, args).code(3).stderr(predicate::str::contains("case.toml"));
    }
    fs::write(&toml_path, &original).unwrap();
    run(&case, &["verify"]).success();

    // A journal that does not verify is never appended to.
    let journal = case.join("journal.jsonl");
    let intact = fs::read_to_string(&journal).unwrap();
    fs::write(&journal, intact.replace("SG rule sg-0abc revoked", "SG rule kept")).unwrap();
    let tampered = fs::read(&journal).unwrap();
    run(&case, &["note", "after tamper", "--operator", "ana"])
        .code(3)
        .stderr(predicate::str::contains("integrity check FAILED"));
    run(&case, &["step", "preserve-logs", "start", "--operator", "ana"]).code(3);
    assert_eq!(fs::read(&journal).unwrap(), tampered, "nothing appended");

    // An emptied journal does not start a new chain.
    fs::write(&journal, "").unwrap();
    run(&case, &["note", "fresh start?", "--operator", "ana"]).code(3);
    assert_eq!(fs::read(&journal).unwrap(), b"", "still empty");

    // A last record with the largest sequence number: refused, never "record 0".
    let mut last: Value = serde_json::from_str(intact.lines().last().unwrap()).unwrap();
    last["seq"] = Value::from(u64::MAX);
    fs::write(&journal, format!("{intact}{last}\n")).unwrap();
    run(&case, &["note", "overflow", "--operator", "ana"]).code(3);
    assert!(!fs::read_to_string(&journal).unwrap().contains("\"seq\":0"));
}

#[test]
fn anchor_prints_one_line_that_verify_head_checks() {
    let dir = tempfile::tempdir().unwrap();
    let case = worked_case(dir.path());
    let out = leakline().args(["case", "anchor"]).arg(&case).output().unwrap();
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    assert_eq!(line.lines().count(), 1, "{line}");
    let records = journal_records(&case);
    let head = records.last().unwrap()["hash"].as_str().unwrap().to_owned();
    assert!(line.contains(&head) && line.contains(&format!("{} records", records.len())), "{line}");
    run(&case, &["note", "after the anchor", "--operator", "ana"]).success();
    run(&case, &["verify", "--head", &head])
        .success()
        .stdout(predicate::str::contains("1 appended since"));
    // Dropping the newest records (the anchored one among them) is caught.
    let journal = case.join("journal.jsonl");
    let text = fs::read_to_string(&journal).unwrap();
    let kept: Vec<&str> = text.lines().take(records.len() - 2).collect();
    fs::write(&journal, format!("{}\n", kept.join("\n"))).unwrap();
    run(&case, &["verify"]).success();
    run(&case, &["verify", "--head", &head])
        .code(3)
        .stderr(predicate::str::contains("is not in the journal"));
}

#[test]
fn init_refuses_globs_matching_nothing_unless_allowed_and_keeps_the_case_private() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = copy_scenario(dir.path());
    let config = evidence.join("leakline.toml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(&config, text.replace("scans/*", "scans-typo/*")).unwrap();
    let case = dir.path().join("case");
    let init = || {
        let mut cmd = leakline();
        cmd.args(["case", "init"]).arg(&case).arg("--config").arg(&config).args([
            "--playbook",
            "exposed-api-endpoint",
            "--operator",
            "ana",
        ]);
        cmd
    };
    init().assert().code(2).stderr(
        predicate::str::contains("scans-typo/*").and(predicate::str::contains("--allow-missing")),
    );
    assert!(!case.exists());
    init()
        .arg("--allow-missing")
        .assert()
        .success()
        .stdout(predicate::str::contains("2 evidence files hashed"))
        .stderr(predicate::str::contains("no file matches"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&case) & 0o077, 0, "case folder is owner-only");
        for f in ["case.toml", "playbook.toml", "journal.jsonl"] {
            assert_eq!(mode(&case.join(f)) & 0o077, 0, "{f} is owner-only");
        }
    }
    // The case was built beside the target and renamed: no staging folder is left over.
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("leakline-init"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
