//! The bundled demo case and its replayer.

use super::fixture::t;
use leakline::tui::replay::{DemoCase, ReplayItem, Replayer, story_time};
use std::time::Duration;

#[test]
fn bundled_case_is_ordered_and_complete() {
    let case = DemoCase::bundled().expect("bundled case");
    assert!(case.items.windows(2).all(|w| w[0].time() <= w[1].time()));
    assert!(case.items.iter().all(|i| i.time() >= case.start && i.time() <= case.end));
    let scans: Vec<_> = case
        .items
        .iter()
        .filter_map(|i| match i {
            ReplayItem::Scan { name, .. } => Some(*name),
            ReplayItem::Line { .. } => None,
        })
        .collect();
    assert_eq!(scans, ["nmap-0940.xml", "nmap-1102.xml", "nuclei-1104.jsonl", "nmap-1120.xml"]);
    let lines = case.items.len() - scans.len();
    let on_disk = ["assets/demo/logs/edge-a/access.log", "assets/demo/logs/edge-b/access.json"]
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("asset").lines().count())
        .sum::<usize>();
    assert_eq!(lines, on_disk);
    assert!(case.captions.windows(2).all(|w| w[0].0 <= w[1].0));
    // The default speed tells the whole story in under a minute.
    let speed = case.speed_for(45.0);
    assert!((case.end - case.start).num_seconds() as f64 / speed < 60.0);
}

#[test]
fn replayer_writes_what_is_due_and_scans_appear_whole() {
    let case = DemoCase::bundled().expect("bundled case");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut r = Replayer::new(dir.path(), case).expect("replayer");
    let log = dir.path().join("logs/edge-a/access.log");
    assert_eq!(std::fs::read_to_string(&log).expect("log").len(), 0, "logs exist, empty");
    r.advance(t("2026-03-14T10:17:42Z")).expect("advance");
    let combined = std::fs::read_to_string(&log).expect("log");
    let json = std::fs::read_to_string(dir.path().join("logs/edge-b/access.json")).expect("log");
    // The first scanner hit (10:17:42) is written; nothing later is.
    assert!(combined.contains("14/Mar/2026:10:17:42") || json.contains("2026-03-14T10:17:42"));
    assert!(
        combined.lines().all(|l| l.contains("14/Mar/2026:09:") || l.contains("14/Mar/2026:10:"))
    );
    assert!(
        !combined.contains("10:17:43") && !combined.contains("10:18:") && !json.contains("T10:18:")
    );
    let scans = dir.path().join("scans");
    assert!(scans.join("nmap-0940.xml").exists());
    assert!(!scans.join("nmap-1102.xml").exists());
    r.advance(t("2026-03-14T11:02:40Z")).expect("advance");
    let xml = std::fs::read_to_string(scans.join("nmap-1102.xml")).expect("scan");
    assert!(xml.trim_end().ends_with("</nmaprun>"));
    assert_eq!(std::fs::read_dir(dir.path().join("staging")).expect("staging").count(), 0);
    assert!(!r.finished());
    r.advance(t("2026-03-14T23:00:00Z")).expect("advance");
    assert!(r.finished());
    assert_eq!(r.advance(t("2026-03-15T00:00:00Z")).expect("advance"), 0);
}

#[test]
fn replay_clock_scales_and_stops_at_the_end() {
    let (a, b) = (t("2026-03-14T09:00:00Z"), t("2026-03-14T12:05:00Z"));
    assert_eq!(story_time(a, b, 250.0, Duration::ZERO), a);
    assert_eq!(story_time(a, b, 250.0, Duration::from_secs(4)), t("2026-03-14T09:16:40Z"));
    assert_eq!(story_time(a, b, 250.0, Duration::from_secs(3600)), b);
    assert_eq!(story_time(a, b, f64::MAX, Duration::from_secs(3600)), b);
}

#[test]
fn ground_truth_is_valid_json_with_two_windows() {
    let v: serde_json::Value =
        serde_json::from_str(leakline::tui::replay::EXPECTED).expect("expected.json");
    let windows = v["llm-gateway"].as_array().expect("windows");
    assert_eq!(windows.len(), 2);
    assert_eq!(windows[0]["status"], "closed");
    assert_eq!(windows[1]["status"], "open");
}

/// Every key of `expected` (recursively) has the same value in `actual`.
fn assert_subset(expected: &serde_json::Value, actual: &serde_json::Value, at: &str) {
    match (expected, actual) {
        (serde_json::Value::Object(e), serde_json::Value::Object(a)) => {
            for (k, v) in e {
                let got = a.get(k).unwrap_or(&serde_json::Value::Null);
                assert_subset(v, got, &format!("{at}.{k}"));
            }
        }
        (serde_json::Value::Array(e), serde_json::Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "{at}: length");
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                assert_subset(ev, av, &format!("{at}[{i}]"));
            }
        }
        _ => assert_eq!(expected, actual, "{at}"),
    }
}

#[test]
fn analyze_of_the_demo_case_matches_its_ground_truth() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leakline"))
        .args(["analyze", "--config", "assets/demo/leakline.toml", "--format", "json"])
        .output()
        .expect("run leakline analyze");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("analysis JSON");
    let expected: serde_json::Value =
        serde_json::from_str(leakline::tui::replay::EXPECTED).expect("expected.json");
    let services = doc["services"].as_array().expect("services");
    for (name, windows) in expected.as_object().expect("object") {
        let svc = services.iter().find(|s| s["name"] == *name).expect("service in analysis");
        assert_subset(windows, &svc["windows"], name);
    }
    let vector_db = services.iter().find(|s| s["name"] == "vector-db").expect("vector-db");
    assert_eq!(vector_db["state"], "never_exposed");
}
