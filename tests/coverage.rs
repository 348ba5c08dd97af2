//! Issue 13: never an all-clear without evidence, and doubles are named.
//!
//! Through the binary: a service none of whose sources yielded anything is `unknown` and
//! `analyze` exits 4 (glob matching no file, unrecognised format, every line malformed),
//! in every format with the problems printed before the services; a config with no service
//! and no scan is a configuration error (exit 2); `never_exposed` comes with its span; a
//! verdict over partly unread evidence stands but is marked incomplete; two logs of the
//! same traffic are named in every output and by `inspect`. Through the library: the
//! duplicate warning does not depend on threads or chunking, and (proptest) coverage never
//! calls a source read that yielded nothing.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use leakline::batch::{self, BatchOptions};
use leakline::config::Vantage;
use leakline::correlate::{Correlator, SourceInfo};
use leakline::model::{
    Event, PortState, Request, ScanObservation, ScanTool, SourceKind, Transport,
};
use proptest::prelude::*;
use serde_json::Value;

fn leakline() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("leakline").unwrap()
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// `analyze --config` in `format`: (exit code, stdout, stderr).
fn analyze(config: &Path, format: &str) -> (Option<i32>, String, String) {
    let out =
        leakline().args(["analyze", "--format", format, "--config"]).arg(config).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// A case folder with one service `api` reading `access`, plus `files` written first.
fn case(dir: &Path, access: &str, files: &[(&str, &str)]) -> PathBuf {
    for (name, body) in files {
        std::fs::write(dir.join(name), body).unwrap();
    }
    let toml = format!(
        "name = \"coverage\"\ninternal = [\"10.0.0.0/8\"]\n\n[[service]]\nname = \"api\"\naddresses = [\"192.0.2.40:443\"]\naccess = [{access}]\n"
    );
    let path = dir.join("leakline.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

fn position(hay: &str, needle: &str) -> usize {
    hay.find(needle).unwrap_or_else(|| panic!("`{needle}` not in:\n{hay}"))
}

/// Each way a source can yield nothing: the service is `unknown` (never `never_exposed`),
/// `as_of` is null, the reason is listed, the exit code is 4 in every format, and the
/// text, Markdown and HTML outputs print the problems before the services.
#[test]
fn unreadable_evidence_is_unknown_and_exit_4_in_every_format() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case<'_>; 3] = [
        ("\"logs-*.log\"", &[], "no file matches this pattern"),
        (
            "\"odd.log\"",
            &[("odd.log", "hello there\nthis is not an access log\n")],
            "format not recognised",
        ),
        (
            "{ path = \"bad.log\", format = \"combined\" }",
            &[("bad.log", "garbage one\ngarbage two\ngarbage three\n")],
            "every line malformed: 3 of 3 lines",
        ),
    ];
    for (access, files, reason) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let config = case(tmp.path(), access, files);
        let (code, out, err) = analyze(&config, "json");
        assert_eq!(code, Some(4), "{access}: {err}");
        assert!(err.contains("evidence incomplete: 1 of 1"), "{err}");
        let doc: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["as_of"], Value::Null, "{access}");
        let svc = &doc["services"][0];
        assert_eq!(svc["state"], "unknown", "{access}: {svc}");
        assert_eq!(svc["coverage"]["complete"], false);
        assert_eq!(svc["coverage"]["sources_read"], serde_json::json!([]));
        let unread = &svc["coverage"]["sources_unread"][0];
        assert!(unread["reason"].as_str().unwrap().contains(reason), "{access}: {unread}");
        assert_eq!(doc["coverage"]["sources_unread"], svc["coverage"]["sources_unread"]);
        // Problems before the services, in every human format.
        let (code, text, _) = analyze(&config, "text");
        assert_eq!(code, Some(4));
        assert!(text.contains("(no evidence was read)"), "{text}");
        assert!(!text.contains("1970"), "{text}");
        assert!(position(&text, "EVIDENCE PROBLEMS") < position(&text, "SERVICES"), "{text}");
        assert!(text.contains(reason), "{text}");
        assert!(text.contains("UNKNOWN"), "{text}");
        let (code, md, _) = analyze(&config, "md");
        assert_eq!(code, Some(4));
        assert!(position(&md, "## Evidence problems") < position(&md, "## Services"), "{md}");
        assert!(md.contains("no evidence was read") && !md.contains("1970"), "{md}");
        assert!(md.contains("Exposure unknown"), "{md}");
        let (code, html, _) = analyze(&config, "html");
        assert_eq!(code, Some(4));
        assert!(
            position(&html, "id=\"evidence-problems\"") < position(&html, "id=\"services\""),
            "{html}"
        );
        assert!(html.contains("No evidence read") && !html.contains("No exposure observed"));
    }
}

#[test]
fn a_config_with_no_service_and_no_scan_is_a_configuration_error() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("empty.toml");
    std::fs::write(&config, "name = \"nothing\"\ninternal = [\"10.0.0.0/8\"]\n").unwrap();
    let (code, out, err) = analyze(&config, "json");
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty());
    assert!(err.contains("empty.toml") && err.contains("no [[service]] and no [[scans]]"), "{err}");
}

fn combined(client: &str, t: &str, path: &str) -> String {
    format!("{client} - - [{t} +0000] \"GET {path} HTTP/1.1\" 200 12 \"-\" \"curl/8.5.0\"\n")
}

/// Internal traffic only: `never_exposed`, with the span of what was read, in every output.
#[test]
fn never_exposed_always_comes_with_its_span() {
    let tmp = tempfile::tempdir().unwrap();
    let log = combined("10.1.2.3", "10/Mar/2026:00:00:05", "/health")
        + &combined("10.1.2.4", "10/Mar/2026:05:59:30", "/v1/models");
    let config = case(tmp.path(), "\"access.log\"", &[("access.log", &log)]);
    let (code, out, err) = analyze(&config, "json");
    assert_eq!(code, Some(0), "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let svc = &doc["services"][0];
    assert_eq!(svc["state"], "never_exposed");
    assert_eq!(svc["coverage"]["complete"], true);
    assert_eq!(svc["coverage"]["from"], "2026-03-10T00:00:05Z");
    assert_eq!(svc["coverage"]["to"], "2026-03-10T05:59:30Z");
    let (_, text, _) = analyze(&config, "text");
    assert!(text.contains("no external request in 2026-03-10 00:00–05:59 UTC"), "{text}");
    assert!(!text.contains("EVIDENCE PROBLEMS"), "{text}");
    let (_, md, _) = analyze(&config, "md");
    assert!(md.contains("no external request in 2026-03-10 00:00–05:59 UTC"), "{md}");
}

/// One log read (external traffic), one glob matching nothing: the verdict stands (open),
/// marked incomplete, and the run exits 4.
#[test]
fn a_partly_unread_service_keeps_its_verdict_marked_incomplete() {
    let tmp = tempfile::tempdir().unwrap();
    let log = combined("198.51.100.7", "10/Mar/2026:01:00:00", "/v1/models");
    let config = case(tmp.path(), "\"access.log\", \"edge-*.json\"", &[("access.log", &log)]);
    let (code, out, _) = analyze(&config, "json");
    assert_eq!(code, Some(4));
    let doc: Value = serde_json::from_str(&out).unwrap();
    let svc = &doc["services"][0];
    assert_eq!(svc["state"], "open");
    assert_eq!(svc["coverage"]["complete"], false);
    assert_eq!(svc["coverage"]["sources_read"].as_array().unwrap().len(), 1);
    assert!(
        svc["coverage"]["sources_unread"][0]["path"].as_str().unwrap().ends_with("edge-*.json")
    );
    assert_eq!(doc["as_of"], "2026-03-10T01:00:00Z");
    let (_, text, _) = analyze(&config, "text");
    assert!(text.contains("EVIDENCE INCOMPLETE: 1 of 2 sources unread"), "{text}");
    assert!(text.contains("incomplete: 1 of 2 sources unread"), "{text}");
}

const DOUBLED: &str =
    "access.log and access.json look like two logs of the same traffic: counts may be doubled";

/// nginx writing a combined and a JSON log of the same requests: named in every output.
#[test]
fn two_logs_of_the_same_traffic_are_named_in_every_output() {
    let config = fixture("duplicates/leakline.toml");
    let (code, out, err) = analyze(&config, "json");
    assert_eq!(code, Some(0), "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let dups = doc["duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 1, "{dups:?}");
    assert_eq!(dups[0]["service"], "model-gateway");
    assert_eq!(dups[0]["shared_percent"], 100);
    assert!(dups[0]["message"].as_str().unwrap().starts_with(DOUBLED));
    for format in ["text", "md", "html"] {
        let (code, out, _) = analyze(&config, format);
        assert_eq!(code, Some(0));
        assert!(out.contains(DOUBLED), "{format}: {out}");
    }
    // Two logs of different traffic (the scenario's two edges) are not called doubles.
    let (_, out, _) = analyze(&fixture("scenarios/model-gateway/leakline.toml"), "json");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["duplicates"], serde_json::json!([]));
}

#[test]
fn inspect_names_two_logs_of_the_same_traffic() {
    let (log, json) = (fixture("duplicates/access.log"), fixture("duplicates/access.json"));
    let out = leakline().arg("inspect").arg(&log).arg(&json).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&format!("warning: {DOUBLED}")), "{text}");
    let out = leakline().args(["inspect", "--json"]).arg(&log).arg(&json).output().unwrap();
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[2]["warning"], "duplicate_sources");
    assert_eq!(lines[2]["shared_percent"], 100);
    // One file alone, or two different ones, warn of nothing.
    let other = fixture("scenarios/model-gateway/logs/access.log");
    let out = leakline().arg("inspect").arg(&log).arg(&other).output().unwrap();
    assert!(!String::from_utf8(out.stdout).unwrap().contains("warning:"));
}

/// One scan given twice is named by `inspect`, as `analyze` counts it (once): an nmap XML
/// copied under a second name, and the XML and `-oG` of one `-oA` run (same command line and
/// start); a format that names no run (httpx) given twice is named by its identical content.
/// Two different scans warn of nothing.
#[test]
fn inspect_names_one_scan_given_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = |from: &str, to: &str| {
        let to = tmp.path().join(to);
        std::fs::copy(fixture(from), &to).unwrap();
        to
    };
    let (a, b) =
        (copy("scan/extra_ports.xml", "nmap.xml"), copy("scan/extra_ports.xml", "again.xml"));
    let out = leakline().arg("inspect").arg(&a).arg(&b).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "warning: nmap.xml and again.xml hold the same scan run (same command line and start): \
             one scan given twice; analyze and watch count its observations once\n"
        ),
        "{text}"
    );
    let out = leakline().args(["inspect", "--json"]).arg(&a).arg(&b).output().unwrap();
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[2]["warning"], "duplicate_scan");
    assert_eq!(lines[2]["same"], "run");
    assert_eq!(
        lines[2]["sources"],
        serde_json::json!([a.display().to_string(), b.display().to_string()])
    );
    // analyze agrees: the second copy is not counted.
    let out =
        leakline().arg("analyze").arg("--scan").arg(&a).arg("--scan").arg(&b).output().unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("same scan run as "));
    // XML and -oG of one run.
    let (xml, gnmap) = (
        fixture("zones/nmap_pair/phage_subset.xml"),
        fixture("zones/nmap_pair/phage_subset.gnmap"),
    );
    let out = leakline().arg("inspect").arg(&xml).arg(&gnmap).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("warning: phage_subset.xml and phage_subset.gnmap hold the same scan run"),
        "{text}"
    );
    // httpx names no run: identical content says it.
    let (h1, h2) = (
        copy("scan/httpx_many_vuln.json", "httpx.json"),
        copy("scan/httpx_many_vuln.json", "httpx-copy.json"),
    );
    let out = leakline().args(["inspect", "--json"]).arg(&h1).arg(&h2).output().unwrap();
    let last: Value =
        serde_json::from_str(String::from_utf8(out.stdout).unwrap().lines().last().unwrap())
            .unwrap();
    assert_eq!(
        (&last["warning"], &last["same"]),
        (&Value::from("duplicate_scan"), &Value::from("content"))
    );
    assert!(
        last["message"]
            .as_str()
            .unwrap()
            .starts_with("httpx.json and httpx-copy.json have the same content"),
        "{last}"
    );
    // Two different scans (and one alone) warn of nothing.
    let other = fixture("scan/full_sudo6.xml");
    for args in [vec![&a, &other], vec![&a], vec![&h1, &a]] {
        let out = leakline().arg("inspect").args(args).output().unwrap();
        assert!(!String::from_utf8(out.stdout).unwrap().contains("warning:"));
    }
}

/// A combined log of `n` external requests numbered from `from`, one second apart.
fn numbered_log(from: u64, n: u64) -> String {
    let mut out = String::new();
    for i in from..from + n {
        let (h, m, s) = (i / 3600 % 24, i / 60 % 60, i % 60);
        let _ = writeln!(
            out,
            "198.51.{}.{} - - [10/Mar/2026:{h:02}:{m:02}:{s:02} +0000] \"GET /r/{i} HTTP/1.1\" 200 {} \"-\" \"curl/8\"",
            i / 250 % 250,
            i % 250,
            i % 977
        );
    }
    out
}

/// Two logs sharing half their requests, more than a sample keeps: the warning and its
/// share are the same whatever the number of threads and chunk size, and equal the serial
/// run's.
#[test]
fn the_duplicate_warning_does_not_depend_on_threads_or_chunks() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.log"), numbered_log(0, 6000)).unwrap();
    std::fs::write(tmp.path().join("b.log"), numbered_log(3000, 6000)).unwrap();
    let config = case(tmp.path(), "\"a.log\", \"b.log\"", &[]);
    let cfg = leakline::config::load(&config).unwrap();
    let mut serial = Correlator::new(cfg.clone());
    for name in ["a.log", "b.log"] {
        let path = tmp.path().join(name);
        let id = serial.add_source(SourceInfo {
            path: path.display().to_string(),
            kind: SourceKind::Access,
            format: "combined".into(),
            service: "api".into(),
            vantage: Vantage::External,
        });
        let mut decoder = leakline::ingest::decoder::Decoder::new(
            leakline::ingest::decoder::DecoderOptions::new(id, Some(SourceKind::Access)),
        );
        let mut events = Vec::new();
        decoder.feed(&std::fs::read(&path).unwrap(), &mut events);
        decoder.finish(&mut events);
        serial.apply(&events);
    }
    let as_of = serial.latest_event().unwrap();
    let expected = serial.snapshot(as_of).duplicates;
    assert_eq!(expected.len(), 1, "{expected:?}");
    assert!((40..=60).contains(&expected[0].shared_percent), "{expected:?}");
    for (workers, chunk_bytes) in [(1, 1 << 22), (2, 777), (3, 4096), (4, 100)] {
        let c =
            batch::run(&cfg, &BatchOptions { workers, chunk_bytes, ..Default::default() }).unwrap();
        assert_eq!(c.snapshot(as_of).duplicates, expected, "{workers} workers, {chunk_bytes}");
    }
}

// ---------------------------------------------------------------------------------------------
// Coverage never claims a source was read that yielded nothing.

#[derive(Debug, Clone)]
struct SourcePlan {
    scan: bool,
    service: usize,
    /// Events applied from it: (minute, kind): kind 0 external, 1 internal, 2 no client;
    /// for scans 0 open, 1 closed.
    events: Vec<(i64, u8)>,
    /// Counted as lines in its health without yielding anything (e.g. malformed).
    junk_lines: u64,
}

fn plan() -> impl Strategy<Value = SourcePlan> {
    (any::<bool>(), 0_usize..3, prop::collection::vec((0_i64..600, 0_u8..3), 0..4), 0_u64..3)
        .prop_map(|(scan, service, events, junk_lines)| SourcePlan {
            scan,
            service,
            events,
            junk_lines,
        })
}

fn t(minute: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_773_100_800, 0).unwrap() + TimeDelta::minutes(minute)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn coverage_never_claims_a_source_read_that_yielded_nothing(
        plans in prop::collection::vec(plan(), 1..6),
    ) {
        let names = ["a", "b", "c"];
        let mut text = "name = \"p\"\ninternal = [\"10.0.0.0/8\"]\n".to_owned();
        for (i, n) in names.iter().enumerate() {
            let _ = write!(text, "[[service]]\nname = \"{n}\"\naddresses = [\"192.0.2.{i}:443\"]\n");
        }
        let cfg = leakline::config::parse_str(&text, Path::new("p.toml"), Path::new(".")).unwrap();
        let mut c = Correlator::new(cfg);
        for (i, p) in plans.iter().enumerate() {
            let id = c.add_source(SourceInfo {
                path: format!("/evidence/{i}"),
                kind: if p.scan { SourceKind::Scan } else { SourceKind::Access },
                format: "test".into(),
                service: if p.scan { String::new() } else { names[p.service].into() },
                vantage: Vantage::External,
            });
            let mut events = Vec::new();
            for (line, &(minute, kind)) in p.events.iter().enumerate() {
                let line = line as u64 + 1;
                if p.scan {
                    events.push(Event::Scan(ScanObservation {
                        time: t(minute),
                        source: id,
                        line,
                        address: Some(format!("192.0.2.{}", p.service).parse::<IpAddr>().unwrap()),
                        hostname: String::new(),
                        port: Some(443),
                        transport: Transport::Tcp,
                        state: if kind == 0 { PortState::Open } else { PortState::Closed },
                        tool: ScanTool::Nmap,
                        details: String::new(),
                        scanner_state: None,
                        covered: None,
                    }));
                } else {
                    let client = match kind {
                        0 => Some("198.51.100.9".parse().unwrap()),
                        1 => Some("10.0.0.9".parse().unwrap()),
                        _ => None,
                    };
                    events.push(Event::Request(Request {
                        time: t(minute),
                        source: id,
                        line,
                        client,
                        status: 200,
                        target: "/".into(),
                        ..Request::default()
                    }));
                }
            }
            c.apply(&events);
            let h = c.source_mut(id);
            h.lines = events.len() as u64 + p.junk_lines;
            h.events = events.len() as u64;
            h.malformed = p.junk_lines;
            // As a shell fills it: the span of what the source yielded.
            h.first_event = p.events.iter().map(|e| t(e.0)).min();
            h.last_event = p.events.iter().map(|e| t(e.0)).max();
        }
        let snap = c.snapshot(t(700));
        let yielded = |path: &str| {
            let i: usize = path.rsplit('/').next().unwrap().parse().unwrap();
            !plans[i].events.is_empty()
        };
        for path in &snap.coverage.sources_read {
            prop_assert!(yielded(path), "{path} claimed read: {:?}", snap.coverage);
        }
        for u in &snap.coverage.sources_unread {
            prop_assert!(!yielded(&u.path), "{} claimed unread", u.path);
            prop_assert!(!u.reason.is_empty());
        }
        prop_assert_eq!(snap.coverage.total(), plans.len());
        for svc in &snap.services {
            for path in &svc.coverage.sources_read {
                prop_assert!(yielded(path), "{}: {path} claimed read", svc.name);
            }
            // Unknown exactly when nothing covers it; never an all-clear without evidence.
            let evidence = svc.internal_requests + svc.unattributed_requests + svc.forwarded_unknown_requests > 0
                || !svc.windows.is_empty()
                || svc.scans.iter().any(|m| m.external && (m.state.is_open() || m.state.is_negative()));
            prop_assert_eq!(
                svc.state == leakline::model::snapshot::ServiceState::Unknown,
                !evidence,
                "{:?}", svc
            );
            if svc.state == leakline::model::snapshot::ServiceState::NeverExposed {
                prop_assert!(svc.coverage.from.is_some() && svc.coverage.to.is_some(), "{:?}", svc);
            }
        }
    }
}

/// `report` over a case whose only log is in no known format: the report is written, its
/// problems come before the services, and the exit code is 4.
#[test]
fn report_writes_problems_first_and_exits_4() {
    let tmp = tempfile::tempdir().unwrap();
    let config = case(tmp.path(), "\"odd.log\"", &[("odd.log", "hello\nthere\n")]);
    let dir = tmp.path().join("case");
    let init = leakline()
        .env("LEAKLINE_OPERATOR", "tester")
        .args(["case", "init"])
        .arg(&dir)
        .arg("--config")
        .arg(&config)
        .args(["--playbook", "exposed-api-endpoint"])
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let out = tmp.path().join("r.md");
    let run = leakline()
        .env("LEAKLINE_OPERATOR", "tester")
        .args(["report", "--case"])
        .arg(&dir)
        .args(["--format", "md", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(4), "{}", String::from_utf8_lossy(&run.stderr));
    let md = std::fs::read_to_string(&out).unwrap();
    assert!(position(&md, "## Evidence problems") < position(&md, "## Services"), "{md}");
    assert!(md.contains("format not recognised"), "{md}");
}
