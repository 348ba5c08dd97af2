//! One scan output given twice under two names (the same content copied: `scans/httpx.jsonl`
//! and `scans/old/httpx.jsonl`) is counted once, by `analyze` and by `watch` alike, and every
//! output says the copy rests on identical content (SHA-256); two different files are both
//! counted.
//!
//! Fixture: `tests/fixtures/scan/httpx_many_vuln.json` (real httpx JSONL, `DefectDojo`, BSD-3;
//! provenance in `tests/fixtures/scan/PROVENANCE.md`), copied into a temporary case at run time.

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const HTTPX: &str = "tests/fixtures/scan/httpx_many_vuln.json";
/// Lines (one observation each) in the fixture.
const HTTPX_LINES: u64 = 5;

fn leakline() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("leakline").unwrap()
}

/// A case whose scans are `scans/httpx.jsonl` (the fixture) and `scans/old/httpx.jsonl`
/// (`second`'s bytes), matched by two globs; one service on the scanned address.
fn case(second: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let fixture = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(HTTPX)).unwrap();
    std::fs::create_dir_all(dir.path().join("scans/old")).unwrap();
    std::fs::write(dir.path().join("scans/httpx.jsonl"), &fixture).unwrap();
    std::fs::write(dir.path().join("scans/old/httpx.jsonl"), second).unwrap();
    let config = dir.path().join("leakline.toml");
    std::fs::write(
        &config,
        "name = \"one httpx output copied\"\n\n[[service]]\nname = \"lab\"\naddresses = \
         [\"172.29.0.2:80\"]\n\n[[scans]]\npaths = [\"scans/*.jsonl\", \"scans/old/*.jsonl\"]\n\
         vantage = \"external\"\n",
    )
    .unwrap();
    (dir, config)
}

fn fixture_bytes() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(HTTPX)).unwrap()
}

fn analyze(config: &Path, format: &str) -> String {
    let out = leakline()
        .args(["analyze", "--config"])
        .arg(config)
        .args(["--format", format])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn source<'a>(doc: &'a Value, suffix: &str) -> &'a Value {
    doc["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no source {suffix} in {doc}"))
}

/// Observations applied over every source, and the service's positive evidence.
fn counted(doc: &Value) -> (u64, u64) {
    let applied = doc["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["scan_states"].as_object())
        .flat_map(|m| m.values().map(|n| n.as_u64().unwrap()))
        .sum();
    let positive = doc["services"][0]["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["evidence"]["positive"].as_u64().unwrap())
        .sum();
    (applied, positive)
}

/// `watch --headless ARGS --out OUT` until a `stats` line has read `lines` lines, then SIGINT:
/// the final analysis it wrote.
fn watch_until<S: AsRef<std::ffi::OsStr>>(
    args: impl IntoIterator<Item = S>,
    out: &Path,
    lines: u64,
) -> Value {
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakline"))
        .args(["watch", "--headless", "--stats-every", "1"])
        .args(args)
        .arg("--out")
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    loop {
        let line = stdout.next().expect("watch ended early").unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["type"] == "stats" && v["lines"] == lines {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no complete stats line: {line}");
    }
    let ok = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
    drop(stdout);
    assert!(child.wait().unwrap().success());
    serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap()
}

#[test]
fn identical_scan_files_are_counted_once_and_named_a_copy_by_content() {
    let (_dir, config) = case(&fixture_bytes());
    let doc: Value = serde_json::from_str(&analyze(&config, "json")).unwrap();
    let kept = source(&doc, "scans/httpx.jsonl");
    let copy = source(&doc, "scans/old/httpx.jsonl");
    assert_eq!(counted(&doc), (HTTPX_LINES, HTTPX_LINES), "every observation counted once");
    // The copy is read as now: its counts and hash are reported.
    assert_eq!(copy["events"], HTTPX_LINES);
    assert_eq!(copy["sha256"], kept["sha256"]);
    assert!(copy["duplicate_of"].as_str().unwrap().ends_with("scans/httpx.jsonl"), "{copy}");
    assert_eq!(copy["duplicate_by"], "content");
    assert_eq!((&kept["duplicate_of"], &kept["duplicate_by"]), (&Value::Null, &Value::Null));
    // Read, not missing.
    assert_eq!(doc["coverage"]["sources_unread"], serde_json::json!([]));
    assert_eq!(doc["coverage"]["complete"], true);

    let text = analyze(&config, "text");
    assert!(text.contains("identical content (SHA-256) to "), "{text}");
    assert!(text.contains("httpx.jsonl: counted once"), "{text}");
    assert!(!text.contains("same scan run"), "no run is claimed: {text}");
    let md = analyze(&config, "md");
    let warning = md.lines().find(|l| l.contains("same scan twice")).expect("a warning");
    assert!(warning.contains("identical content (SHA-256)"), "{warning}");
    assert!(!warning.contains("command line"), "{warning}");
}

#[test]
fn different_scan_files_of_equal_size_are_both_counted() {
    let text = String::from_utf8(fixture_bytes()).unwrap();
    // One byte changed: the same size, so both are hashed, and the hashes differ.
    let other = text.replacen("nginx/1.31.3", "nginx/1.31.4", 1);
    assert_eq!(other.len(), text.len());
    assert_ne!(other, text);
    let (_dir, config) = case(other.as_bytes());
    let doc: Value = serde_json::from_str(&analyze(&config, "json")).unwrap();
    assert_eq!(counted(&doc), (2 * HTTPX_LINES, 2 * HTTPX_LINES));
    for s in doc["sources"].as_array().unwrap() {
        assert_eq!((&s["duplicate_of"], &s["duplicate_by"]), (&Value::Null, &Value::Null));
    }
    // A shorter file (a different size) is not hashed early, and counted too.
    let first_line = text.lines().next().unwrap();
    let (_dir, config) = case(format!("{first_line}\n").as_bytes());
    let doc: Value = serde_json::from_str(&analyze(&config, "json")).unwrap();
    assert_eq!(counted(&doc), (HTTPX_LINES + 1, HTTPX_LINES + 1));
}

/// `watch --headless --out` on the same pair gives what `analyze` gives: the observations
/// counted once, one file named a copy by content of the other (live, the one read to its
/// end first is kept), both read.
#[test]
fn watch_counts_identical_scan_files_once_like_analyze() {
    let (dir, config) = case(&fixture_bytes());
    let batch: Value = serde_json::from_str(&analyze(&config, "json")).unwrap();
    let args = [std::ffi::OsStr::new("--config"), config.as_os_str()];
    let live = watch_until(args, &dir.path().join("final.json"), 2 * HTTPX_LINES);
    assert_eq!(counted(&live), counted(&batch));
    assert_eq!(live["services"][0]["windows"], batch["services"][0]["windows"]);
    assert_eq!(live["coverage"]["sources_unread"], serde_json::json!([]));
    let (a, b) = (source(&live, "scans/httpx.jsonl"), source(&live, "scans/old/httpx.jsonl"));
    let copies: Vec<&Value> =
        [a, b].into_iter().filter(|s| s["duplicate_of"].is_string()).collect();
    assert_eq!(copies.len(), 1, "{a}\n{b}");
    assert_eq!(copies[0]["duplicate_by"], "content");
    let kept = if copies[0] == a { b } else { a };
    assert_eq!(copies[0]["duplicate_of"], kept["path"]);
    assert_eq!(kept["duplicate_by"], Value::Null);
}

/// Live, a copy by content that then grows is no copy any more: what it held is counted with
/// its new line, and the result is again what `analyze` gives on the files as they end.
#[test]
fn watch_counts_a_copy_that_grows_apart_from_its_original() {
    let (dir, config) = case(&fixture_bytes());
    let out = dir.path().join("final.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakline"))
        .args(["watch", "--headless", "--stats-every", "1", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut wait_lines = |n: u64| {
        let started = Instant::now();
        loop {
            let line = lines.next().expect("watch ended early").unwrap();
            let v: Value = serde_json::from_str(&line).unwrap();
            if v["type"] == "stats" && v["lines"] == n {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "no stats line at {n}: {line}");
        }
    };
    wait_lines(2 * HTTPX_LINES);
    let text = String::from_utf8(fixture_bytes()).unwrap();
    let extra = text.lines().next().unwrap().replace("/.git/config", "/.env");
    let mut f =
        std::fs::OpenOptions::new().append(true).open(dir.path().join("scans/old/httpx.jsonl"));
    writeln!(f.as_mut().unwrap(), "{extra}").unwrap();
    drop(f);
    wait_lines(2 * HTTPX_LINES + 1);
    let ok = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
    drop(lines);
    assert!(child.wait().unwrap().success());
    let live: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let batch: Value = serde_json::from_str(&analyze(&config, "json")).unwrap();
    assert_eq!(counted(&live), (2 * HTTPX_LINES + 1, 2 * HTTPX_LINES + 1));
    assert_eq!(counted(&live), counted(&batch));
    for s in live["sources"].as_array().unwrap() {
        assert_eq!((&s["duplicate_of"], &s["duplicate_by"]), (&Value::Null, &Value::Null));
    }
}

/// Two identical gzip files are one scan too (the SHA-256 is of the bytes as stored, as
/// `sources[].sha256` reports it), in `analyze` and in `watch` (which reads a whole archive
/// at once); a gzip file and its plain original differ as stored and are both counted.
#[test]
fn identical_gzip_scan_files_are_counted_once_by_analyze_and_watch() {
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&fixture_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let (a, b) = (dir.path().join("a.jsonl.gz"), dir.path().join("b.jsonl.gz"));
    std::fs::write(&a, &gz).unwrap();
    std::fs::write(&b, &gz).unwrap();
    let plain = dir.path().join("c.jsonl");
    std::fs::write(&plain, fixture_bytes()).unwrap();
    let scans = |files: &[&Path]| -> Vec<String> {
        files.iter().flat_map(|f| ["--scan".to_owned(), f.display().to_string()]).collect()
    };
    let run = |files: &[&Path]| -> Value {
        let out = leakline()
            .arg("analyze")
            .args(scans(files))
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let observations = |doc: &Value| -> u64 {
        doc["sources"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["scan_states"]["open"].as_u64())
            .sum()
    };
    let doc = run(&[&a, &b]);
    assert_eq!(observations(&doc), HTTPX_LINES);
    assert_eq!(source(&doc, "b.jsonl.gz")["duplicate_by"], "content");
    assert_eq!(source(&doc, "b.jsonl.gz")["events"], HTTPX_LINES);
    let doc = run(&[&a, &plain]);
    assert_eq!(observations(&doc), 2 * HTTPX_LINES);

    let live = watch_until(scans(&[&a, &b]), &dir.path().join("final.json"), 2 * HTTPX_LINES);
    assert_eq!(observations(&live), HTTPX_LINES, "{live}");
    let by: Vec<&Value> =
        live["sources"].as_array().unwrap().iter().map(|s| &s["duplicate_by"]).collect();
    assert_eq!(by.iter().filter(|b| **b == "content").count(), 1, "{by:?}");
}
