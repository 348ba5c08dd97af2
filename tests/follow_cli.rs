//! `leakline watch --headless` through the real binary: JSON lines per state change, stdin
//! through a pipe, an unreadable file, and SIGINT/SIGTERM writing `--out`.
//!
//! Every wait polls observable output with a generous timeout; nothing relies on timing.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new().create(true).append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

const WAIT: Duration = Duration::from_secs(60);

/// The child's stdout lines, collected by a thread as they come.
struct Watch {
    child: Child,
    lines: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Watch {
    fn spawn(args: &[&str], stdin: Stdio) -> Watch {
        let mut child = Command::new(env!("CARGO_BIN_EXE_leakline"))
            .arg("watch")
            .arg("--headless")
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let lines: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let v: serde_json::Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                sink.lock().unwrap().push(v);
            }
        });
        Watch { child, lines }
    }

    fn of_type(&self, ty: &str) -> Vec<serde_json::Value> {
        self.lines.lock().unwrap().iter().filter(|v| v["type"] == ty).cloned().collect()
    }

    /// Poll (every 20 ms) until `pred` holds over the lines so far.
    fn wait(&self, what: &str, pred: impl Fn(&[serde_json::Value]) -> bool) {
        let start = Instant::now();
        while !pred(&self.lines.lock().unwrap()) {
            assert!(
                start.elapsed() < WAIT,
                "timed out waiting for {what}; lines so far: {:#?}",
                self.lines.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGINT, then the exit status (within the timeout).
    fn interrupt(self) -> (std::process::ExitStatus, Vec<serde_json::Value>) {
        self.signal("-INT")
    }

    fn signal(mut self, sig: &str) -> (std::process::ExitStatus, Vec<serde_json::Value>) {
        let ok = Command::new("kill").args([sig, &self.child.id().to_string()]).status().unwrap();
        assert!(ok.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader thread drain the pipe.
                std::thread::sleep(Duration::from_millis(50));
                let lines = self.lines.lock().unwrap().clone();
                return (status, lines);
            }
            assert!(start.elapsed() < WAIT, "watch did not stop on SIGINT");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn clf(ip: &str, minute: u32, n: u32) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for i in 0..n {
        let _ = writeln!(
            out,
            "{ip} - - [27/Nov/2026:10:{minute:02}:{:02} +0000] \"GET /v1/models?i={i} HTTP/1.1\" 200 512 \"-\" \"curl/8.5.0\"",
            i % 60
        );
    }
    out
}

#[test]
fn headless_prints_state_changes_and_writes_the_final_analysis_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    append(&log, &clf("10.1.2.3", 0, 20));
    let out = dir.path().join("final.json");
    let access = format!("gw={}", log.display());
    let w = Watch::spawn(
        &[
            "--access",
            &access,
            "--internal",
            "10.0.0.0/8",
            "--out",
            out.to_str().unwrap(),
            "--stats-every",
            "1",
            "--rotate-wait",
            "0.2",
        ],
        Stdio::null(),
    );
    w.wait("a stats line", |l| l.iter().any(|v| v["type"] == "stats" && v["lines"] == 20));
    assert!(w.of_type("new_actor").is_empty(), "internal clients are not actors");
    append(&log, &clf("203.0.113.7", 5, 3));
    w.wait("new_actor", |l| l.iter().any(|v| v["type"] == "new_actor"));
    w.wait("first_external", |l| l.iter().any(|v| v["type"] == "first_external"));
    fs::rename(&log, dir.path().join("access.log.1")).unwrap();
    append(&log, &clf("198.51.100.9", 6, 2));
    w.wait("source_rotated", |l| l.iter().any(|v| v["type"] == "source_rotated"));
    let (status, lines) = w.interrupt();
    assert_eq!(status.code(), Some(0), "{lines:#?}");
    let actors: Vec<_> = lines.iter().filter(|v| v["type"] == "new_actor").collect();
    assert_eq!(actors.len(), 2, "{lines:#?}");
    assert!(actors.iter().all(|a| a.get("asn").is_none()), "no enrichment configured");
    let text = fs::read_to_string(&out).expect("--out written");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(v["schema"].as_str().unwrap().starts_with("leakline.analysis"), "{v}");
    let clients: Vec<&str> =
        v["actors"].as_array().unwrap().iter().filter_map(|a| a["client"].as_str()).collect();
    assert_eq!(clients.len(), 2, "{clients:?}");
    assert!(clients.contains(&"203.0.113.7") && clients.contains(&"198.51.100.9"));
    let lines: u64 =
        v["sources"].as_array().unwrap().iter().map(|s| s["lines"].as_u64().unwrap()).sum();
    assert_eq!(lines, 25, "every line once: 20 + 3 before the rotation, 2 after");
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temp file left behind");
}

/// With `--mmdb` / `--ranges`, a `new_actor` line carries what the databases say (`asn`,
/// `country`, `city`, `lists`), as the final analysis's `actors[]` do: for actors of the
/// backfill and for one arriving live. Databases: `tests/fixtures/enrich` (see its SOURCES.md).
#[test]
fn new_actor_lines_carry_the_enrichment_when_configured() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/enrich");
    let fixture = |f: &str| fixtures.join(f).to_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("api.log");
    // Google's AS15169 (ASN database only), London (City database only), a Tor exit, and an
    // address nothing knows.
    for (minute, ip) in
        ["1.0.0.1", "81.2.69.160", "185.220.101.7", "198.51.100.9"].iter().enumerate()
    {
        append(&log, &clf(ip, u32::try_from(minute).unwrap(), 1));
    }
    let out = dir.path().join("final.json");
    let access = format!("api={}", log.display());
    let (asn, city, tor) = (
        fixture("GeoLite2-ASN-Test.mmdb"),
        fixture("GeoLite2-City-Test.mmdb"),
        fixture("tor-exit-addresses"),
    );
    let w = Watch::spawn(
        &[
            "--access",
            &access,
            "--mmdb",
            &asn,
            "--mmdb",
            &city,
            "--ranges",
            &tor,
            "--out",
            out.to_str().unwrap(),
            "--rotate-wait",
            "0.2",
        ],
        Stdio::null(),
    );
    w.wait("four new actors", |l| l.iter().filter(|v| v["type"] == "new_actor").count() == 4);
    // Bredband2 in Linköping: in both databases, arriving live.
    append(&log, &clf("89.160.20.129", 10, 1));
    w.wait("the live one", |l| {
        l.iter().any(|v| v["type"] == "new_actor" && v["client"] == "89.160.20.129")
    });
    let (status, lines) = w.interrupt();
    assert_eq!(status.code(), Some(0), "{lines:#?}");
    let new_actor = |client: &str| {
        lines.iter().find(|v| v["type"] == "new_actor" && v["client"] == client).unwrap().clone()
    };
    let google = new_actor("1.0.0.1");
    assert_eq!(google["asn"], serde_json::json!({"number": 15169, "org": "Google Inc."}));
    assert_eq!((&google["country"], &google["city"]), (&Value::Null, &Value::Null));
    assert_eq!(google["lists"], serde_json::json!([]));
    let london = new_actor("81.2.69.160");
    assert_eq!(london["asn"], Value::Null);
    assert_eq!(london["country"]["iso"], "GB");
    assert_eq!(london["city"]["name"], "London");
    assert_eq!(new_actor("185.220.101.7")["lists"][0]["name"], "tor");
    let nobody = new_actor("198.51.100.9");
    assert_eq!(
        (&nobody["asn"], &nobody["country"], &nobody["city"], &nobody["lists"]),
        (&Value::Null, &Value::Null, &Value::Null, &serde_json::json!([]))
    );
    let linkoping = new_actor("89.160.20.129");
    assert_eq!(linkoping["asn"]["number"], 29518);
    assert_eq!(linkoping["country"]["iso"], "SE");
    assert_eq!(linkoping["city"]["name"], "Linköping");
    // The same fields, the same values, as the final analysis's actors.
    let doc: Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    for a in doc["actors"].as_array().unwrap() {
        let line = new_actor(a["client"].as_str().unwrap());
        for key in ["asn", "country", "city", "lists"] {
            assert_eq!(line[key], a[key], "{key} of {}", a["client"]);
        }
    }
}

#[test]
fn stdin_is_followed_through_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("final.json");
    let mut w = Watch::spawn(
        &["--access", "gw=-", "--out", out.to_str().unwrap(), "--stats-every", "1"],
        Stdio::piped(),
    );
    let mut stdin = w.child.stdin.take().unwrap();
    stdin.write_all(clf("203.0.113.50", 1, 100).as_bytes()).unwrap();
    // A partial line: no event until its newline (or end of input).
    stdin
        .write_all(b"203.0.113.51 - - [27/Nov/2026:10:02:00 +0000] \"GET / HTTP/1.1\" 200 1")
        .unwrap();
    stdin.flush().unwrap();
    w.wait("100 lines from stdin", |l| {
        l.iter().any(|v| v["type"] == "stats" && v["events"] == 100)
    });
    stdin.write_all(b"0 \"-\" \"curl/8\"\n").unwrap();
    drop(stdin);
    w.wait("101 events", |l| l.iter().any(|v| v["type"] == "stats" && v["events"] == 101));
    let (status, _) = w.interrupt();
    assert_eq!(status.code(), Some(0));
    assert!(fs::read_to_string(&out).unwrap().contains("203.0.113.51"));
}

#[test]
fn an_unreadable_file_is_a_source_error_line_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("b.log")).unwrap();
    append(&dir.path().join("a.log"), &clf("203.0.113.20", 0, 4));
    let access = format!("gw={}/*.log", dir.path().display());
    let out = dir.path().join("out.json");
    let w = Watch::spawn(
        &["--access", &access, "--out", out.to_str().unwrap(), "--stats-every", "1"],
        Stdio::null(),
    );
    w.wait("source_error", |l| l.iter().any(|v| v["type"] == "source_error"));
    append(&dir.path().join("a.log"), &clf("203.0.113.21", 1, 2));
    w.wait("the other source goes on", |l| {
        l.iter().any(|v| v["type"] == "new_actor" && v["client"] == "203.0.113.21")
    });
    let (status, lines) = w.signal("-TERM");
    assert_eq!(status.code(), Some(0));
    let errors: Vec<_> = lines.iter().filter(|v| v["type"] == "source_error").collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0]["path"].as_str().unwrap().ends_with("b.log"));
    assert!(errors[0]["reason"].as_str().unwrap().to_lowercase().contains("directory"));
    assert!(out.exists());
}

/// Secrets in attacker-controlled fields never reach the headless lines or `--out` unless
/// `--no-redact` is given.
#[test]
fn headless_output_is_redacted_by_default() {
    let secret = "sk-live0123456789abcdefghijKLMNOP";
    let line = format!(
        "203.0.113.9 - - [03/Nov/2026:11:00:00 +0000] \"GET /v1/models?api_key={secret} HTTP/1.1\" \
         200 512 \"-\" \"curl/8.5.0\"\n"
    );
    for (redact, flag) in [(true, None), (false, Some("--no-redact"))] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("api.log");
        append(&log, &line);
        let out = dir.path().join("final.json");
        let access = format!("api={}", log.display());
        let mut args = vec!["--access", access.as_str(), "--out", out.to_str().unwrap()];
        args.extend(flag);
        let watch = Watch::spawn(&args, Stdio::null());
        watch.wait("first_external", |l| l.iter().any(|v| v["type"] == "first_external"));
        let (status, lines) = watch.interrupt();
        assert!(status.success());
        let first = lines.iter().find(|v| v["type"] == "first_external").unwrap();
        let path = first["path"].as_str().unwrap();
        let final_json = fs::read_to_string(&out).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&final_json).unwrap();
        assert_eq!(doc["redaction"]["enabled"], redact);
        if redact {
            assert!(!path.contains(secret) && path.contains("REDACTED"), "{path}");
            assert!(!final_json.contains(secret));
        } else {
            assert!(path.contains(secret), "{path}");
            assert!(final_json.contains(secret));
        }
    }
}

/// An empty log is unread (and so is a glob matching nothing): each gets a `coverage` line;
/// the log's first request turns it `read`, in one more `coverage` line.
#[test]
fn a_source_going_from_unread_to_read_is_a_coverage_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    append(&log, "");
    let missing = dir.path().join("edge-*.log");
    let (a, b) = (format!("gw={}", log.display()), format!("gw={}", missing.display()));
    let w = Watch::spawn(&["--access", &a, "--access", &b, "--rotate-wait", "0.2"], Stdio::null());
    let coverage_of = |l: &[serde_json::Value], path: &Path, state: &str| {
        l.iter().any(|v| {
            v["type"] == "coverage"
                && v["state"] == state
                && v["path"].as_str() == Some(path.to_str().unwrap())
        })
    };
    w.wait("the empty log unread", |l| coverage_of(l, &log, "unread"));
    w.wait("the glob unread", |l| coverage_of(l, &missing, "unread"));
    assert!(!coverage_of(&w.lines.lock().unwrap(), &log, "read"));
    append(&log, &clf("203.0.113.7", 5, 1));
    w.wait("the log read", |l| coverage_of(l, &log, "read"));
    let (status, lines) = w.interrupt();
    assert_eq!(status.code(), Some(0), "{lines:#?}");
    let read: Vec<_> =
        lines.iter().filter(|v| v["type"] == "coverage" && v["state"] == "read").collect();
    assert_eq!(read.len(), 1, "announced once: {lines:#?}");
    assert_eq!(
        (read[0]["sources_read"].as_u64(), read[0]["sources_unread"].as_u64()),
        (Some(1), Some(1))
    );
}

/// A configured file that cannot be read is unread with the OS reason, not "no file matches".
#[test]
fn an_unreadable_configured_file_is_unread_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("b.log");
    fs::create_dir(&bad).unwrap();
    let access = format!("gw={}", bad.display());
    let w = Watch::spawn(&["--access", &access], Stdio::null());
    w.wait("an unread line naming the failure", |l| {
        l.iter().any(|v| {
            v["type"] == "coverage"
                && v["state"] == "unread"
                && v["reason"].as_str().is_some_and(|r| r.starts_with("unreadable:"))
        })
    });
    let (status, _) = w.signal("-TERM");
    assert_eq!(status.code(), Some(0));
}

/// `count` combined-format lines, each from a distinct external client (`start` onwards).
fn distinct_clients(start: u32, count: u32) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(count as usize * 110);
    for i in start..start + count {
        let ip = std::net::Ipv4Addr::from(0x0B00_0000 + i);
        let _ = writeln!(
            out,
            "{ip} - - [27/Nov/2026:10:{:02}:{:02} +0000] \"GET /v1/models HTTP/1.1\" 200 {} \"-\" \"zgrab/0.x\"",
            i / 60 % 60,
            i % 60,
            i % 1000
        );
    }
    out
}

/// A flood of distinct clients, still being written: `stats` lines keep coming (with
/// `behind_bytes`), SIGINT stops the watch promptly whatever the backlog, `--out` is written,
/// and what was not read is a gap in it.
#[test]
fn sigint_under_a_flood_of_distinct_clients_exits_and_names_the_unread_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("flood.log");
    // A backlog far larger than an unoptimised build reads in a second.
    append(&log, &distinct_clients(0, 400_000));
    let out = dir.path().join("final.json");
    let access = format!("gw={}", log.display());
    let w = Watch::spawn(
        &["--access", &access, "--out", out.to_str().unwrap(), "--stats-every", "1"],
        Stdio::null(),
    );
    // The writer keeps appending while the watch reads.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, log) = (Arc::clone(&stop), log.clone());
        std::thread::spawn(move || {
            let mut next = 400_000;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && next < 2_000_000 {
                append(&log, &distinct_clients(next, 20_000));
                next += 20_000;
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    w.wait("a stats line", |l| l.iter().any(|v| v["type"] == "stats"));
    let stat_lines = w.of_type("stats");
    assert!(stat_lines[0]["behind_bytes"].is_u64(), "{:#?}", stat_lines[0]);
    let signalled = Instant::now();
    let (status, lines) = w.interrupt();
    let took = signalled.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert_eq!(status.code(), Some(0), "{lines:#?}");
    assert!(took < Duration::from_secs(30), "exit took {took:?} after SIGINT");

    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&out).expect("--out written")).unwrap();
    let read: u64 =
        v["sources"].as_array().unwrap().iter().map(|s| s["lines"].as_u64().unwrap()).sum();
    assert!(read > 0);
    assert!(v["actors_total"].as_u64().unwrap() > 0);
    assert!(v["actors_listed"].as_u64().unwrap() <= v["actors_total"].as_u64().unwrap());
    let written = fs::read_to_string(&log).unwrap().lines().count() as u64;
    let unread: Vec<&serde_json::Value> = v["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["reason"].as_str().unwrap_or("").contains("unread"))
        .collect();
    if read < written {
        assert_eq!(unread.len(), 1, "the unread bytes are a gap: {:#?}", v["gaps"]);
        assert_eq!(unread[0]["kind"], "source_error");
        assert!(unread[0]["path"].as_str().unwrap().ends_with("flood.log"));
    } else {
        assert!(unread.is_empty(), "{:#?}", v["gaps"]);
    }
}
