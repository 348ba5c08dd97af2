//! Every time has a known zone (issue 13): times written without a zone are read in the
//! config's `timezone` or `--tz`, every output says so (`zone_assumed`), an exact time in a
//! file wins over its local-time header, and one scan run given twice is counted once.
//!
//! Fixtures: `tests/fixtures/zones/nmap_pair/` (one real nmap run as XML and `-oG`, scanned from
//! UTC-07:00) and `tests/fixtures/zones/access/` (one log with offsets, one without);
//! provenance in each folder's `PROVENANCE.md`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use leakline::ingest::scan::{ScanFormat, ScanOptions, ScanParser};
use leakline::model::SourceId;
use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

fn leakline() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("leakline").unwrap()
}

const PAIR: &str = "zones/nmap_pair/leakline.toml";
const LA: &str = "America/Los_Angeles";

/// `analyze --format json` of `config` with extra arguments.
fn analyze_json(config: &Path, extra: &[&str]) -> Value {
    let out = leakline()
        .arg("analyze")
        .arg("--config")
        .arg(config)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn source<'a>(doc: &'a Value, file: &str) -> &'a Value {
    doc["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("no source {file} in {doc}"))
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().with_timezone(&Utc)
}

/// Every window of every service, as (service, `opened_latest`, `closed_earliest`).
fn windows(doc: &Value) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    let mut out = Vec::new();
    for s in doc["services"].as_array().unwrap() {
        for w in s["windows"].as_array().unwrap() {
            let name = s["name"].as_str().unwrap().to_owned();
            out.push((name, time(&w["opened_latest"]), time(&w["closed_earliest"])));
        }
    }
    out
}

/// The rule test: the XML (epoch) and `-oG` (local time, 7 h off UTC) of one nmap run, with
/// `--tz` set to the scanner's zone, give one zero-length window per open port (no window
/// stretched over the hours between the two readings), and the `-oG` copy is counted once.
#[test]
fn xml_and_grepable_of_one_run_with_tz_give_zero_length_windows() {
    let doc = analyze_json(&fixture(PAIR), &["--tz", LA]);
    let wins = windows(&doc);
    let mut names: Vec<&str> = wins.iter().map(|w| w.0.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["10.0.1.43:49153", "10.0.1.54:80", "chromecast", "iphone-sync", "wemo-dns"],
        "one window per service with an open port: {wins:?}"
    );
    for (name, opened, closed) in &wins {
        assert_eq!(opened, closed, "{name}: a zero-length window (one scan, one instant)");
        // The XML's host end time, exact: 1459001609 = 14:13:29Z.
        assert_eq!(opened.timestamp(), 1_459_001_609, "{name}");
    }
    let grepable = source(&doc, "phage_subset.gnmap");
    assert_eq!(grepable["zone_assumed"], true);
    assert_eq!(grepable["assumed_zone"], LA);
    assert!(grepable["duplicate_of"].as_str().unwrap().ends_with("phage_subset.xml"));
    assert_eq!(grepable["duplicate_by"], "run");
    // Read in the right zone, the `-oG` done time is the XML's `finished` instant exactly.
    assert_eq!(grepable["last_event"], "2016-03-26T14:13:31Z");
    let xml = source(&doc, "phage_subset.xml");
    assert_eq!(xml["zone_assumed"], false, "epoch times: nothing assumed");
    assert_eq!(xml["assumed_zone"], Value::Null);
    assert_eq!(xml["duplicate_of"], Value::Null);
    assert_eq!(xml["duplicate_by"], Value::Null);
}

/// Without `--tz` (and no `timezone` in the config) the `-oG` times are read as UTC, seven
/// hours early: the source says its zone was assumed, in JSON and as a visible warning.
#[test]
fn without_tz_the_grepable_copy_warns_that_its_zone_was_assumed() {
    let doc = analyze_json(&fixture(PAIR), &[]);
    let grepable = source(&doc, "phage_subset.gnmap");
    assert_eq!(grepable["zone_assumed"], true);
    assert_eq!(grepable["assumed_zone"], "UTC");
    assert_eq!(grepable["last_event"], "2016-03-26T07:13:31Z", "7 hours before the XML");
    // The copy is still recognised (same command line and start, as written): no window
    // spans the seven hours between the two readings of one scan.
    for (name, opened, closed) in windows(&doc) {
        assert_eq!(opened, closed, "{name}");
    }
    let out = leakline().arg("analyze").arg("--config").arg(fixture(PAIR)).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let warning = text
        .lines()
        .find(|l| l.starts_with("WARNING zone assumed:"))
        .unwrap_or_else(|| panic!("no zone warning in:\n{text}"));
    assert!(warning.contains("phage_subset.gnmap") && warning.contains("read as UTC"), "{warning}");
    assert!(text.contains("WARNING same scan twice:"), "{text}");
    assert!(text.contains("zone assumed: times without zone read as UTC"), "{text}");
    for format in ["md", "html"] {
        let out = leakline()
            .arg("analyze")
            .arg("--config")
            .arg(fixture(PAIR))
            .args(["--format", format])
            .output()
            .unwrap();
        let report = String::from_utf8(out.stdout).unwrap();
        assert!(report.contains("zone assumed:"), "{format}");
        assert!(report.contains("phage_subset.gnmap"), "{format}");
        assert!(report.contains("same scan twice:"), "{format}");
    }
}

/// A `-oG` of another run (different command line) is not a copy: both are counted. Read in
/// the wrong zone its observations land seven hours before the XML's and stretch every
/// window over them; read in the scanner's zone they agree with the XML to the seconds
/// between a host's end and the scan's end.
#[test]
fn another_runs_grepable_read_in_the_right_zone_agrees_with_the_xml() {
    let dir = tempfile::tempdir().unwrap();
    let pair = fixture("zones/nmap_pair");
    std::fs::copy(pair.join("phage_subset.xml"), dir.path().join("run.xml")).unwrap();
    let gnmap = std::fs::read_to_string(pair.join("phage_subset.gnmap")).unwrap();
    let other = gnmap.replace("as: nmap -oA nmap -v -A", "as: nmap -oG nmap.gnmap -v -A");
    assert_ne!(other, gnmap);
    std::fs::write(dir.path().join("run.gnmap"), other).unwrap();
    let config = std::fs::read_to_string(pair.join("leakline.toml"))
        .unwrap()
        .replace("phage_subset.gnmap", "run.gnmap")
        .replace("phage_subset.xml", "run.xml");
    let config_path = dir.path().join("leakline.toml");
    std::fs::write(&config_path, config).unwrap();

    let utc = analyze_json(&config_path, &[]);
    assert_eq!(source(&utc, "run.gnmap")["duplicate_of"], Value::Null);
    let spans: Vec<i64> = windows(&utc).iter().map(|w| (w.2 - w.1).num_seconds()).collect();
    assert!(spans.iter().all(|&s| s >= 7 * 3600 - 2), "spurious 7 h windows: {spans:?}");

    let la = analyze_json(&config_path, &["--tz", LA]);
    let spans: Vec<i64> = windows(&la).iter().map(|w| (w.2 - w.1).num_seconds()).collect();
    assert_eq!(spans.len(), 5);
    assert!(spans.iter().all(|&s| s == 2), "host end 14:13:29Z to scan end 14:13:31Z: {spans:?}");
}

#[test]
fn an_unknown_tz_is_a_usage_error_naming_the_flag_and_value() {
    let config = fixture(PAIR);
    let case = tempfile::tempdir().unwrap();
    let runs: Vec<Vec<String>> = vec![
        vec!["analyze".into(), "--config".into(), config.display().to_string()],
        vec!["watch".into(), "--headless".into(), "--config".into(), config.display().to_string()],
        vec!["inspect".into(), fixture("zones/nmap_pair/phage_subset.gnmap").display().to_string()],
        vec![
            "report".into(),
            "--case".into(),
            case.path().display().to_string(),
            "--out".into(),
            case.path().join("r.md").display().to_string(),
        ],
    ];
    for args in runs {
        let out = leakline().args(&args).args(["--tz", "Mars/Olympus_Mons"]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("--tz Mars/Olympus_Mons"), "{args:?}: {err}");
        assert!(err.contains("IANA"), "{args:?}: {err}");
    }
}

/// The config's `timezone` reads zone-less times; `--tz` wins over it.
#[test]
fn config_timezone_reads_zone_less_access_times_and_tz_overrides_it() {
    let config = fixture("zones/access/leakline.toml");
    let doc = analyze_json(&config, &[]);
    let json = source(&doc, "access.json");
    let clf = source(&doc, "access.log");
    assert_eq!(
        (json["zone_assumed"].clone(), json["assumed_zone"].clone()),
        (true.into(), LA.into())
    );
    assert_eq!(
        (clf["zone_assumed"].clone(), clf["assumed_zone"].clone()),
        (false.into(), Value::Null)
    );
    // Read in the config's zone, the zone-less log gives the instants the offsets give.
    assert_eq!(json["first_event"], "2016-03-26T14:20:00Z");
    assert_eq!(json["first_event"], clf["first_event"]);
    assert_eq!(json["last_event"], clf["last_event"]);

    let doc = analyze_json(&config, &["--tz", "UTC"]);
    let json = source(&doc, "access.json");
    assert_eq!(json["first_event"], "2016-03-26T07:20:00Z", "--tz wins over the config");
    assert_eq!(json["assumed_zone"], "UTC");
    assert_eq!(source(&doc, "access.log")["first_event"], "2016-03-26T14:20:00Z");
}

/// `inspect --json` says per file whether a zone was assumed, and `--tz` changes the reading.
#[test]
fn inspect_json_says_zone_assumed_per_file() {
    let inspect = |file: &str, extra: &[&str]| -> Value {
        let out =
            leakline().args(["inspect", "--json"]).arg(fixture(file)).args(extra).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let gnmap = inspect("zones/nmap_pair/phage_subset.gnmap", &[]);
    assert_eq!(
        (gnmap["zone_assumed"].clone(), gnmap["assumed_zone"].clone()),
        (true.into(), "UTC".into())
    );
    assert_eq!(gnmap["last_event"], "2016-03-26T07:13:31Z");
    let gnmap = inspect("zones/nmap_pair/phage_subset.gnmap", &["--tz", LA]);
    assert_eq!(gnmap["assumed_zone"], LA);
    // The XML's `<finished time>` of the same run.
    assert_eq!(gnmap["last_event"], "2016-03-26T14:13:31Z");
    for exact in ["zones/nmap_pair/phage_subset.xml", "zones/access/access.log"] {
        let doc = inspect(exact, &[]);
        assert_eq!(
            (doc["zone_assumed"].clone(), doc["assumed_zone"].clone()),
            (false.into(), Value::Null),
            "{exact}"
        );
    }
    let json = inspect("zones/access/access.json", &["--tz", LA]);
    assert_eq!(json["zone_assumed"], true);
    assert_eq!(json["first_event"], "2016-03-26T14:20:00Z");

    let out = leakline().arg("inspect").arg(fixture("zones/access/access.json")).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("WARNING     times have no zone or UTC offset: read as UTC"), "{text}");
}

/// nmap XML carries the start twice, as epoch (`start`) and as local time (`startstr`): the
/// epoch wins and nothing is assumed. Both files name the run the same way.
#[test]
fn exact_epoch_wins_over_the_local_header_and_both_files_name_one_run() {
    let parse = |file: &str, format: ScanFormat| {
        let bytes = std::fs::read(fixture(file)).unwrap();
        let options = ScanOptions { default_tz: chrono_tz::Asia::Tokyo };
        let mut parser = ScanParser::new(format, options, SourceId(0));
        let mut obs = Vec::new();
        parser.feed(&bytes, &mut obs);
        (obs, parser.finish(&mut Vec::new()))
    };
    let (xml_obs, xml) = parse("zones/nmap_pair/phage_subset.xml", ScanFormat::NmapXml);
    assert!(!xml.zone_assumed);
    assert!(xml_obs.iter().all(|o| o.time.timestamp() >= 1_459_001_188));
    let (_, grepable) = parse("zones/nmap_pair/phage_subset.gnmap", ScanFormat::NmapGrepable);
    assert!(grepable.zone_assumed);
    assert_eq!((xml.runs.len(), grepable.runs.len()), (1, 1));
    assert!(xml.runs[0].same_run(&grepable.runs[0]));
    assert_eq!(xml.runs[0].args, "nmap -oA nmap -v -A 10.0.1.0/24");
    assert_eq!(xml.runs[0].utc_offset_secs(), Some(-7 * 3600), "the scanner ran in PDT");
    assert_eq!(grepable.runs[0].started, None, "-oG has no exact start");
    // masscan -oG has a local-time header too, but every line carries its epoch.
    let (_, masscan) = parse("scan/zenfosec_masscan.out", ScanFormat::MasscanGrepable);
    assert!(!masscan.zone_assumed);
}

/// `report --tz` reads the case's zone-less evidence in that zone; the report says which
/// sources rest on it.
#[test]
fn report_tz_reads_the_case_evidence_in_that_zone() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("case");
    let init = leakline()
        .args(["case", "init"])
        .arg(&case)
        .arg("--config")
        .arg(fixture(PAIR))
        .args(["--playbook", "exposed-api-endpoint"])
        .env("LEAKLINE_OPERATOR", "tester")
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let report = |extra: &[&str]| -> Value {
        let out = dir.path().join("r.json");
        let run = leakline()
            .args(["report", "--case"])
            .arg(&case)
            .arg("--out")
            .arg(&out)
            .args(["--as-of", "2016-03-27T00:00:00Z"])
            .args(extra)
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
    };
    let utc = report(&[]);
    assert_eq!(source(&utc, "phage_subset.gnmap")["last_event"], "2016-03-26T07:13:31Z");
    let la = report(&["--tz", LA]);
    let grepable = source(&la, "phage_subset.gnmap");
    assert_eq!(grepable["last_event"], "2016-03-26T14:13:31Z");
    assert_eq!(grepable["zone_assumed"], true);
    assert!(grepable["duplicate_of"].as_str().unwrap().ends_with("phage_subset.xml"));
    assert_eq!(grepable["duplicate_by"], "run");
    assert_eq!(la["case"]["timezone"], LA);
}

/// `watch` reads zone-less times in `--tz` too, says so in `--out`, and counts one run given
/// twice once (live, the copy read first is kept; either gives the same zero-length windows
/// when the zone is right).
#[test]
fn watch_reads_tz_and_counts_one_run_once() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("final.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakline"))
        .args(["watch", "--headless", "--stats-every", "1", "--tz", LA, "--config"])
        .arg(fixture(PAIR))
        .arg("--out")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Both files read in full: their lines add up (62 + 11).
    let mut lines = BufReader::new(stdout).lines();
    let started = std::time::Instant::now();
    loop {
        let line = lines.next().expect("watch ended early").unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["type"] == "stats" && v["lines"] == 73 {
            break;
        }
        assert!(started.elapsed().as_secs() < 60, "no complete stats line: {line}");
    }
    let ok = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
    drop(lines);
    assert!(child.wait().unwrap().success());
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let grepable = source(&doc, "phage_subset.gnmap");
    assert_eq!(
        (grepable["zone_assumed"].clone(), grepable["assumed_zone"].clone()),
        (true.into(), LA.into())
    );
    let xml = source(&doc, "phage_subset.xml");
    let copies = [&grepable["duplicate_of"], &xml["duplicate_of"]];
    assert_eq!(copies.iter().filter(|c| c.is_string()).count(), 1, "{copies:?}");
    let by = [&grepable["duplicate_by"], &xml["duplicate_by"]];
    assert_eq!(by.iter().filter(|b| **b == "run").count(), 1, "{by:?}");
    let wins = windows(&doc);
    assert_eq!(wins.len(), 5, "{wins:?}");
    for (name, opened, closed) in wins {
        assert_eq!(opened, closed, "{name}");
    }
}
