//! Access-log ingestion against the real samples (`tests/fixtures/access/`, see its
//! PROVENANCE.md) through `leakline inspect`, plus bad-input and property tests.
//!
//! Malformed lines in the fixtures, and why they really are malformed:
//! - `apache_logs.gz` line 8899: the user-agent quote is never closed (the line was cut in
//!   the source: `...+http://www.google.com/bot.html` then end of line).
//! - `logfile_bad_access_log.0` line 2: `IP [date] "..."` — the ident and user fields are
//!   missing (the sample exists to show exactly that).
//!
//! Everything else is a request or a line that is deliberately not one (`Skipped`): the
//! fail2ban `# failJSON` comments and blank lines, Caddy's 35 non-access records, the ALB
//! file's NLB `tls 2.0` and connection-log lines and its blank line, `CloudFront`'s
//! `#Version`/`#Fields` directives.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use leakline::ingest::access::{AccessFormat, AccessParser, LineOutcome, ParseOptions, detect};
use leakline::model::Request;
use proptest::prelude::*;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/access")
}

/// `leakline inspect --json` over files (relative to the fixtures dir); one object each.
/// `leakline inspect --events ARGS...` in the fixtures folder: one JSON value per event.
fn inspect_events(args: &[&str]) -> Vec<Value> {
    let out = Command::cargo_bin("leakline")
        .unwrap()
        .current_dir(fixtures())
        .args(["inspect", "--events"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn inspect_json(dir: &Path, files: &[&str]) -> Vec<Value> {
    let out = Command::cargo_bin("leakline")
        .unwrap()
        .current_dir(dir)
        .arg("inspect")
        .arg("--json")
        .args(files)
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// (file, format, lines, events, skipped, malformed line numbers)
type Golden = (&'static str, &'static str, u64, u64, u64, &'static [u64]);

const GOLDEN: &[Golden] = &[
    ("apache_logs.gz", "combined", 10_000, 9_999, 0, &[8899]),
    ("logfile_shop_access_log.0", "combined", 1000, 1000, 0, &[]),
    ("logfile_bad_access_log.0", "combined", 3, 2, 0, &[2]),
    ("beats_nginx_test.log", "combined", 7, 7, 0, &[]),
    ("fail2ban_nginx-bad-request", "combined", 23, 8, 15, &[]),
    ("logfile_caddy_log.0", "caddy", 39, 4, 35, &[]),
    ("logfile_caddy_log.1", "caddy", 4, 4, 0, &[]),
    ("test-format-json.log", "traefik", 7, 7, 0, &[]),
    ("test-log.log", "envoy", 7, 7, 0, &[]),
    ("beats_application-lb-http.log", "alb", 11, 10, 1, &[]),
    ("integrations_test-alb.log", "alb", 10, 3, 7, &[]),
    ("test-cloudfront.log", "cloudfront", 14, 12, 2, &[]),
];

#[test]
fn inspect_names_the_format_and_counts_only_real_malformed_lines() {
    let files: Vec<&str> = GOLDEN.iter().map(|g| g.0).collect();
    let reports = inspect_json(&fixtures(), &files);
    assert_eq!(reports.len(), GOLDEN.len());
    for (r, (file, format, lines, events, skipped, bad)) in reports.iter().zip(GOLDEN) {
        assert_eq!(r["path"], *file);
        assert_eq!(r["format"], *format, "{file}");
        assert_eq!(r["lines"], *lines, "{file}");
        assert_eq!(r["events"], *events, "{file}");
        assert_eq!(r["skipped"], *skipped, "{file}");
        assert_eq!(r["oversized"], 0, "{file}");
        assert_eq!(r["malformed"], bad.len() as u64, "{file}");
        let got: Vec<u64> = r["malformed_lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["line"].as_u64().unwrap())
            .collect();
        assert_eq!(got, *bad, "{file}");
        assert_eq!(r["sha256"].as_str().unwrap().len(), 64);
    }
    // The whole output (times, hashes, reasons) as a reviewed snapshot.
    insta::assert_json_snapshot!("inspect_fixtures", reports);
}

#[test]
fn inspect_events_are_normalized_jsonl() {
    let out = Command::cargo_bin("leakline")
        .unwrap()
        .current_dir(fixtures())
        .args(["inspect", "--events", "beats_nginx_test.log"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 7);
    // Quoted XFF chain then the peer; IPv6 in a chain; DST offsets to UTC; empty request.
    assert_eq!(events[4]["peer"], "10.2.1.185");
    assert_eq!(events[4]["forwarded_for"], "10.5.102.222, 199.96.1.1, 204.246.1.1");
    assert_eq!(events[5]["forwarded_for"], "2a03:0000:10ff:f00f:0000:0000:0:8000, 10.225.192.17");
    assert_eq!(events[6]["time"], "2018-04-12T07:48:40Z");
    assert_eq!(events[6]["utc_offset_secs"], 7200);
    assert_eq!(
        (&events[6]["raw_request"], &events[6]["status"]),
        (&Value::from(""), &Value::from(400))
    );
    // The summary went to stderr, not into the JSONL.
    assert!(String::from_utf8_lossy(&out.stderr).contains("combined"));
}

#[test]
fn trusted_proxy_flag_resolves_the_client() {
    let first =
        inspect_events(&["--trusted-proxy", "10.0.0.0/8", "logfile_caddy_log.1"]).swap_remove(0);
    assert_eq!(
        (&first["peer"], &first["client"]),
        (&Value::from("10.5.1.1"), &Value::from("10.10.10.117"))
    );
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

const LINE: &str = r#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#;

#[test]
fn gzip_multi_member_oversized_binary_and_no_final_newline() {
    use flate2::{Compression, write::GzEncoder};
    let dir = tempfile::tempdir().unwrap();
    let mut gz = Vec::new();
    for _ in 0..2 {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        writeln!(enc, "{LINE}").unwrap();
        gz.extend(enc.finish().unwrap());
    }
    write(dir.path(), "multi.log.1", &gz);
    let mut big = format!("{LINE}\n1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] \"GET /").into_bytes();
    big.extend(std::iter::repeat_n(b'a', 100_000));
    big.extend(format!(" HTTP/1.1\" 200 1 \"-\" \"ua\"\n{LINE}\n").bytes());
    write(dir.path(), "big.log", &big);
    write(dir.path(), "binary.log", format!("{LINE}\n\0\0\u{1}\n\u{7f}\n{LINE}\n").as_bytes());
    let mut invalid = LINE.as_bytes().to_vec();
    invalid.extend(b"\n\xff\xfe[\xc3\x28 \"\x80\"\n");
    write(dir.path(), "invalid.log", &invalid);
    write(dir.path(), "nonl.log", format!("{LINE}\n{LINE}").as_bytes());
    write(dir.path(), "empty.log", b"");

    let r = inspect_json(
        dir.path(),
        &["multi.log.1", "big.log", "binary.log", "invalid.log", "nonl.log", "empty.log"],
    );
    let get = |i: usize, k: &str| r[i][k].clone();
    assert_eq!((get(0, "format"), get(0, "events")), ("combined".into(), 2.into()));
    // The 100 kB line is cut at 64 KiB, counted oversized, and (cut) malformed.
    assert_eq!(
        (get(1, "lines"), get(1, "events"), get(1, "oversized")),
        (3.into(), 2.into(), 1.into())
    );
    assert_eq!(r[1]["malformed_lines"][0]["line"], 2);
    assert_eq!((get(2, "events"), get(2, "malformed")), (2.into(), 2.into()));
    assert_eq!((get(3, "events"), get(3, "malformed")), (1.into(), 1.into()));
    assert_eq!((get(4, "lines"), get(4, "events")), (2.into(), 2.into()));
    assert_eq!((get(5, "format"), get(5, "lines")), ("unknown".into(), 0.into()));
    assert_eq!(
        get(5, "sha256"),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn mixed_formats_in_one_file_are_read_by_their_own_format() {
    let dir = tempfile::tempdir().unwrap();
    // CLF lines with a nginx JSON line, an Envoy text line and a debug line that no format
    // reads (as in a Traefik capture interleaving access and debug lines).
    let mixed = format!(
        "{LINE}\n{{\"time_iso8601\":\"2024-01-01T00:00:00Z\",\"remote_addr\":\"1.2.3.4\"}}\n{LINE}\n\
         [2019-04-11T00:31:55.439Z] \"GET / HTTP/1.1\" 404 NR 0 0 0 - \"-\" \"-\" \"-\" \"-\" \"-\"\n{LINE}\n\
         time=\"2024-01-01T00:00:00Z\" level=debug msg=\"Configuration received\"\n\
         no format reads this line\n"
    );
    write(dir.path(), "mixed.log", mixed.as_bytes());
    let r = inspect_json(dir.path(), &["mixed.log"]);
    // The logrus debug line (6) is Traefik's own message: skipped; line 7 is malformed.
    assert_eq!(
        (&r[0]["format"], &r[0]["events"], &r[0]["skipped"], &r[0]["malformed"]),
        (&"combined".into(), &5.into(), &1.into(), &1.into())
    );
    assert_eq!(r[0]["formats"], serde_json::json!({"combined": 3, "nginx-json": 1, "envoy": 1}));
    assert_eq!(r[0]["malformed_lines"][0]["line"], 7);
    // The text report names the per-format counts too.
    let out = Command::cargo_bin("leakline")
        .unwrap()
        .current_dir(dir.path())
        .args(["inspect", "mixed.log"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("formats     combined 3, envoy 1, nginx-json 1"), "{text}");
    // A file of one format has no `formats` field.
    let one = inspect_json(&fixtures(), &["beats_nginx_test.log"]);
    assert!(one[0].get("formats").is_none());
}

#[test]
fn unreadable_file_is_one_clear_error_and_others_are_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ok.log", format!("{LINE}\n").as_bytes());
    let out = Command::cargo_bin("leakline")
        .unwrap()
        .current_dir(dir.path())
        .args(["inspect", "--json", "missing.log", "ok.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("missing.log") && stderr.contains("No such file or directory"),
        "{stderr}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("\"path\":\"ok.log\""), "{stdout}");
}

#[test]
fn a_missing_config_file_is_named_once_with_its_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("leakline")
        .unwrap()
        .current_dir(dir.path())
        .args(["analyze", "--config", "nope.toml"])
        .output()
        .unwrap();
    // A config that cannot be read is a configuration error.
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end(), "leakline: nope.toml: No such file or directory (os error 2)");
}

#[test]
fn bad_flags_are_usage_errors() {
    for args in
        [&["--tz", "Mars/Olympus"][..], &["--trusted-proxy", "10.0.0.0/99"], &["--format", "nope"]]
    {
        let out = Command::cargo_bin("leakline")
            .unwrap()
            .arg("inspect")
            .args(args)
            .arg("x.log")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn scenario_logs_parse_completely() {
    // A copy of the shared ground-truth scenario (see tests/fixtures/scenarios/).
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios/model-gateway/logs");
    let r = inspect_json(&dir, &["access.log", "access.json"]);
    assert_eq!(
        (&r[0]["format"], &r[0]["events"], &r[0]["malformed"]),
        (&"combined".into(), &2305.into(), &0.into())
    );
    assert_eq!(
        (&r[1]["format"], &r[1]["events"], &r[1]["malformed"]),
        (&"nginx-json".into(), &1161.into(), &0.into())
    );
}

// ---------------------------------------------------------------- properties

fn all_parsers() -> Vec<AccessParser> {
    let fields = leakline::ingest::access::FieldMap {
        time: Some("t".into()),
        client: Some("a.b".into()),
        request: Some("r".into()),
        ..Default::default()
    };
    AccessFormat::ALL
        .iter()
        .map(|&f| {
            let opts = ParseOptions {
                trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
                fields: Some(fields.clone()),
                ..ParseOptions::default()
            };
            AccessParser::new(f, opts)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut out = Request::default();
        for p in &mut all_parsers() {
            let _ = p.parse_line(&bytes, 1, &mut out);
        }
        let _ = detect(&[&bytes]);
    }

    #[test]
    fn near_valid_lines_never_panic(
        prefix in r"[ -~]{0,4}",
        cut in 0usize..120,
        noise in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let samples = [
            LINE,
            r#"{"time_iso8601":"2024-01-01T00:00:00Z","remote_addr":"1.2.3.4","request":"GET / HTTP/1.1","status":200}"#,
            r#"{"level":"info","ts":1.5,"logger":"http.log.access","request":{"remote_ip":"1.2.3.4","headers":{"X-Forwarded-For":["a"]}},"status":200}"#,
            r#"[2019-04-08T16:50:12.533Z] "GET / HTTP/1.1" 200 - 0 89 5 4 "-" "curl" "id" "h" "u""#,
            r#"http 2019-10-11T15:01:12.376735Z app/x/c 1.2.3.4:5 - -1 -1 -1 460 - 125 0 "GET http://h:80/ HTTP/1.1" "curl" - -"#,
            "2019-12-04\t21:02:31\tLAX1\t392\t1.2.3.4\tGET\th\t/\t200",
        ];
        let mut out = Request::default();
        for s in samples {
            let mut line = prefix.clone().into_bytes();
            line.extend_from_slice(&s.as_bytes()[..cut.min(s.len())]);
            line.extend_from_slice(&noise);
            for p in &mut all_parsers() {
                let _ = p.parse_line(&line, 1, &mut out);
            }
        }
    }

    #[test]
    fn generated_combined_lines_round_trip(
        a in any::<[u8; 4]>(),
        day in 1u32..=28,
        hour in 0u32..24,
        method in "(GET|POST|HEAD|PUT|DELETE)",
        path in r"/[a-zA-Z0-9/._~%?=&+-]{0,40}",
        status in 100u16..600,
        bytes in any::<u32>(),
        referer in r"[ -!#-\[\]-~]{0,30}",
        ua in r"[ -!#-\[\]-~]{1,40}",
        off_h in 0i32..14,
        negative in any::<bool>(),
    ) {
        let sign = if negative { '-' } else { '+' };
        let ip = std::net::Ipv4Addr::from(a);
        let referer = if referer.is_empty() { "-".to_owned() } else { referer };
        let line = format!(
            r#"{ip} - - [{day:02}/Mar/2025:{hour:02}:07:09 {sign}{off_h:02}00] "{method} {path} HTTP/1.1" {status} {bytes} "{referer}" "{ua}""#
        );
        let mut p = AccessParser::new(AccessFormat::Combined, ParseOptions::default());
        let mut r = Request::default();
        prop_assert_eq!(p.parse_line(line.as_bytes(), 3, &mut r), LineOutcome::Request, "{}", line);
        prop_assert_eq!(r.peer, Some(std::net::IpAddr::V4(ip)));
        prop_assert_eq!(r.client, Some(std::net::IpAddr::V4(ip)));
        prop_assert_eq!(&r.method, &method);
        prop_assert_eq!(&r.target, &path);
        prop_assert_eq!(r.status, status);
        prop_assert_eq!(r.bytes_sent, u64::from(bytes));
        prop_assert_eq!(&r.referer, if referer == "-" { "" } else { referer.as_str() });
        prop_assert_eq!(&r.user_agent, if ua == "-" { "" } else { ua.as_str() });
        let offset = if negative { -off_h * 3600 } else { off_h * 3600 };
        prop_assert_eq!(r.utc_offset_secs, offset);
        let local = chrono::NaiveDate::from_ymd_opt(2025, 3, day).unwrap().and_hms_opt(hour, 7, 9).unwrap();
        prop_assert_eq!(r.time.naive_utc(), local - chrono::Duration::seconds(i64::from(offset)));
    }
}

/// The format detection picks for every file in `tests/fixtures/access` (each file must be
/// listed, so a new fixture cannot go unchecked).
const DETECTED: &[(&str, &str)] = &[
    ("apache_logs.gz", "combined"),
    ("logfile_shop_access_log.0", "combined"),
    ("logfile_bad_access_log.0", "combined"),
    ("beats_nginx_test.log", "combined"),
    ("fail2ban_nginx-bad-request", "combined"),
    ("logfile_caddy_log.0", "caddy"),
    ("logfile_caddy_log.1", "caddy"),
    ("test-format-json.log", "traefik"),
    ("test-log.log", "envoy"),
    ("beats_application-lb-http.log", "alb"),
    ("integrations_test-alb.log", "alb"),
    ("test-cloudfront.log", "cloudfront"),
    ("variant_nginx_json_other_keys.log", "nginx-json"),
    ("variant_clf.log", "combined"),
    ("variant_caddy_console.log", "caddy"),
    ("cloudflare_test-pipeline-http-request.log", "cloudflare"),
    ("gcp_test-load-balancer.log", "gcp-lb"),
    ("azure_test-fdaccess.log", "azure"),
    ("haproxy_test-haproxy.log", "haproxy"),
    ("iis_w3c.log", "iis"),
    ("aws_waf_test-waf.log", "aws-waf"),
];

/// What detection sees of a file: its first 64 KiB, decompressed.
fn detect_file(path: &Path) -> Option<AccessFormat> {
    use std::io::Read as _;
    let bytes = std::fs::read(path).unwrap();
    let mut head = Vec::new();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .take(64 * 1024)
            .read_to_end(&mut head)
            .unwrap();
    } else {
        head = bytes[..bytes.len().min(64 * 1024)].to_vec();
    }
    leakline::ingest::access::detect_head(&head)
}

#[test]
fn detection_chooses_right_on_every_fixture_and_shared_sample() {
    let mut seen = 0;
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name == "PROVENANCE.md" {
            continue;
        }
        let want = DETECTED
            .iter()
            .find(|(f, _)| *f == name)
            .unwrap_or_else(|| panic!("{name}: add the format it must be detected as"))
            .1;
        assert_eq!(detect_file(&path).map(AccessFormat::name), Some(want), "{name}");
        seen += 1;
    }
    assert_eq!(seen, DETECTED.len());
    // The shared samples, when this checkout sits beside them (`../shared/samples` from the
    // main checkout): the folder names the format; scanner output is no access format.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(samples) = [root.join("../shared/samples"), root.join("../../shared/samples")]
        .into_iter()
        .find(|p| p.is_dir())
    else {
        return;
    };
    let mut checked = 0;
    for dir in std::fs::read_dir(&samples).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let want = match dir.file_name().unwrap().to_str().unwrap() {
            "aws_alb" => Some("alb"),
            "aws_cloudfront" => Some("cloudfront"),
            "caddy_json" => Some("caddy"),
            "clf_combined" => Some("combined"),
            "envoy_text" => Some("envoy"),
            "traefik_json" => Some("traefik"),
            // Scanner output: no access format may claim it.
            _ => None,
        };
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            assert_eq!(detect_file(&file).map(AccessFormat::name), want, "{}", file.display());
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} samples in {}", samples.display());
}

/// The CLF variants of issue 17, one line each (`variant_clf.log`): every line is a request
/// with its method and path, none is malformed.
#[test]
fn clf_variants_are_read_in_full() {
    let events = inspect_events(&["variant_clf.log"]);
    let got: Vec<(Value, Value, Value, Value)> = events
        .iter()
        .map(|e| (e["client"].clone(), e["method"].clone(), e["target"].clone(), e["host"].clone()))
        .collect();
    let s = |v: &str| Value::from(v);
    assert_eq!(
        got,
        [
            (s("::1"), s("GET"), s("/"), s("")),
            (s("192.0.2.10"), s("GET"), s("/robots.txt"), s("")),
            (s("192.0.2.11"), s("GET"), s("/status"), s("")),
            (s("192.0.2.12"), s("POST"), s("/v1/chat"), s("198.51.100.5")),
            // Host names as the client: no address, the name kept.
            (Value::Null, s("GET"), s("/health"), s("")),
            (Value::Null, s("GET"), s("/server-status?auto"), s("")),
            (Value::Null, s("GET"), s("/metrics"), s("")),
        ]
    );
    assert_eq!(events[1]["protocol"], "");
    let names: Vec<&Value> = events[4..].iter().map(|e| &e["client_name"]).collect();
    assert_eq!(names, [&s("monitoring-server"), &s("localhost"), &s("unix:")]);
    assert!(events[0].get("client_name").is_none());
    let r = inspect_json(&fixtures(), &["variant_clf.log"]);
    assert_eq!((&r[0]["events"], &r[0]["malformed"]), (&7.into(), &0.into()));
    // `localhost` and `unix:` are this host: internal (with `::1`); `monitoring-server` is
    // unattributed.
    let out = Command::cargo_bin("leakline")
        .unwrap()
        .current_dir(fixtures())
        .args(["analyze", "--access", "variant_clf.log"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("internal 3"), "{text}");
    assert!(text.contains("1 requests without a client address"), "{text}");
}

/// Caddy's console encoder: tab-separated columns, zone-less local time (read in `--tz` and
/// flagged), the access logger's lines are requests, the others are skipped.
#[test]
fn caddy_console_encoder_is_detected_and_read_in_the_given_zone() {
    let out = Command::cargo_bin("leakline")
        .unwrap()
        .current_dir(fixtures())
        .args(["inspect", "--json", "--tz", "Europe/Berlin", "variant_caddy_console.log"])
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&r["format"], &r["events"], &r["skipped"], &r["malformed"]),
        (&"caddy".into(), &2.into(), &2.into(), &0.into())
    );
    assert_eq!((&r["zone_assumed"], &r["assumed_zone"]), (&true.into(), &"Europe/Berlin".into()));
    // 23:27:57.060 in Berlin (UTC+1 in January).
    assert_eq!(r["first_event"], "2024-01-23T22:27:57.060Z");
    let first = inspect_events(&["variant_caddy_console.log"]).swap_remove(0);
    assert_eq!(
        (&first["peer"], &first["forwarded_for"], &first["target"], &first["status"]),
        (&"::1".into(), &"2001:db8::7".into(), &"/v1/models".into(), &200.into())
    );
    assert_eq!((&first["bytes_sent"], &first["user_agent"]), (&1234.into(), &"curl/8.5.0".into()));
}

/// Cloud edges: Cloudflare Logpush (RFC 3339 and Unix-seconds timestamps) and the Google
/// Cloud load balancer (absolute request URLs: the host is kept apart from the path).
#[test]
fn cloud_edge_json_logs_are_read_in_full() {
    let events = |file: &str| inspect_events(&[file]);
    let cf = events("cloudflare_test-pipeline-http-request.log");
    assert_eq!(cf.len(), 2);
    for e in &cf {
        assert_eq!(
            (&e["time"], &e["client"], &e["method"], &e["status"], &e["bytes_sent"]),
            (
                &"2022-05-25T13:25:26Z".into(),
                &"175.16.199.0".into(),
                &"POST".into(),
                &200.into(),
                &981_308.into()
            )
        );
        assert_eq!(
            (&e["target"], &e["host"]),
            (&"/s/example/api/telemetry/v2/clusters/_stats".into(), &"xyz.example.com".into())
        );
    }
    let gcp = events("gcp_test-load-balancer.log");
    assert_eq!(gcp.len(), 3);
    let hosts: Vec<&Value> = gcp.iter().map(|e| &e["host"]).collect();
    assert_eq!(
        hosts,
        [&Value::from("81.2.69.193"), &"pictures.example.com".into(), &"81.2.69.193:8080".into()]
    );
    for e in &gcp {
        assert_eq!(
            (&e["client"], &e["target"], &e["status"], &e["bytes_sent"]),
            (
                &"89.160.20.156".into(),
                &"/static/us/three-cats.jpg".into(),
                &304.into(),
                &157.into()
            )
        );
        assert_eq!(e["time"], "2020-06-08T23:41:30.078651Z");
    }
    assert_eq!(gcp[2]["referer"], "https://developer.mozilla.org/en-US/docs/Web/JavaScript");
    let az = events("azure_test-fdaccess.log");
    let got: Vec<(&Value, &Value, &Value, &Value)> =
        az.iter().map(|e| (&e["client"], &e["method"], &e["status"], &e["bytes_sent"])).collect();
    let (v, n) = (<Value as From<&str>>::from, <Value as From<u64>>::from);
    assert_eq!(
        got,
        [
            (&v("89.160.20.128"), &v("POST"), &n(200), &n(1205)),
            (&v("175.16.199.0"), &v("GET"), &n(200), &n(2308)),
            (&v("175.16.199.0"), &v("GET"), &n(200), &n(637)),
        ]
    );
    assert_eq!(
        (&az[0]["target"], &az[0]["host"]),
        (&v("/StockSetup/GetStockListByCir"), &v("erp.testcloud.com:443"))
    );
    assert_eq!(az[0]["time"], "2021-12-15T03:10:11.647971900Z");
}

/// `HAProxy`'s HTTP log behind its syslog prefix: zone-less accept dates (flagged), a `-`
/// client kept without an address, an extra field before the timers.
#[test]
fn haproxy_http_log_is_detected_and_read_in_full() {
    let r = inspect_json(&fixtures(), &["haproxy_test-haproxy.log"]);
    assert_eq!(
        (&r[0]["format"], &r[0]["events"], &r[0]["malformed"], &r[0]["zone_assumed"]),
        (&"haproxy".into(), &4.into(), &0.into(), &true.into())
    );
    let events = inspect_events(&["haproxy_test-haproxy.log"]);
    let got: Vec<(&Value, &Value, &Value, &Value)> = events
        .iter()
        .map(|e| (&e["client"], &e["method"], &e["status"], &e["bytes_sent"]))
        .collect();
    let (v, n) = (<Value as From<&str>>::from, <Value as From<u64>>::from);
    assert_eq!(
        got,
        [
            (&v("67.43.156.13"), &v("GET"), &n(304), &n(168)),
            (&Value::Null, &v("OPTIONS"), &n(200), &n(200)),
            (&v("10.0.1.2"), &v("GET"), &n(200), &n(2750)),
            (&v("10.0.1.2"), &v("GET"), &n(404), &n(305)),
        ]
    );
    assert_eq!(events[2]["time"], "2009-02-06T12:14:14.655Z");
    assert!(
        events[3]["target"]
            .as_str()
            .unwrap()
            .starts_with("/public/index.php?s=/index/\\think\\app/")
    );
}

/// IIS / W3C extended: columns as each `#Fields:` line says (the layout changes mid-file),
/// `+` for spaces in the user agent, `time-taken` in milliseconds, `X-Forwarded-For` kept.
#[test]
fn iis_w3c_follows_its_fields_header() {
    let e = inspect_events(&["iis_w3c.log"]);
    assert_eq!(e.len(), 3);
    assert_eq!(
        (&e[0]["client"], &e[0]["host"], &e[0]["duration_us"]),
        (&"10.119.38.250".into(), &"itwebcert.acxiom.com".into(), &232_000.into())
    );
    assert_eq!(
        e[1]["user_agent"],
        "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)"
    );
    assert_eq!(
        (&e[2]["bytes_sent"], &e[2]["forwarded_for"], &e[2]["referer"], &e[2]["time"]),
        (
            &862_954.into(),
            &"10.0.0.2".into(),
            &"https://example.org/website/Login.css".into(),
            &"2026-02-18T00:53:38Z".into()
        )
    );
    let r = inspect_json(&fixtures(), &["iis_w3c.log"]);
    assert_eq!(
        (&r[0]["events"], &r[0]["skipped"], &r[0]["malformed"]),
        (&3.into(), &8.into(), &0.into())
    );
}

/// A Traefik capture as it is saved: Traefik JSON access lines, a CLF access line and
/// Traefik's own logrus lines (debug and info, one in a docker JSON envelope). The logrus
/// lines are skipped as non-access records, never malformed; every request is read.
#[test]
fn traefik_logrus_lines_in_a_mixed_file_are_skipped_not_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let json: Vec<String> = std::fs::read_to_string(fixtures().join("test-format-json.log"))
        .unwrap()
        .lines()
        .take(3)
        .map(str::to_owned)
        .collect();
    let mixed = format!(
        "time=\"2024-01-01T00:00:00Z\" level=info msg=\"Configuration loaded from flags.\"\n\
         {}\n\
         time=\"2024-01-01T00:00:01Z\" level=debug msg=\"Configuration received\" providerName=docker\n\
         {}\n{LINE}\n\
         {{\"log\":\"time=\\\"2024-01-01T00:00:02Z\\\" level=debug msg=\\\"Serving default certificate\\\"\\n\",\"stream\":\"stdout\"}}\n\
         {}\n",
        json[0], json[1], json[2]
    );
    write(dir.path(), "traefik.log", mixed.as_bytes());
    let r = inspect_json(dir.path(), &["traefik.log"]);
    assert_eq!(
        (&r[0]["format"], &r[0]["lines"], &r[0]["events"], &r[0]["skipped"], &r[0]["malformed"]),
        (&"traefik".into(), &7.into(), &4.into(), &3.into(), &0.into())
    );
    assert_eq!(r[0]["formats"], serde_json::json!({"traefik": 3, "combined": 1}));
    // A logrus line that is not Traefik's shape (no `msg=`) is still malformed.
    write(dir.path(), "bad.log", format!("{}\ntime=\"x\" level=debug\n", json[0]).as_bytes());
    let r = inspect_json(dir.path(), &["bad.log"]);
    assert_eq!((&r[0]["skipped"], &r[0]["malformed"]), (&0.into(), &1.into()));
}

/// AWS WAF logs (`aws_waf_test-waf.log`, elastic/integrations' pipeline test file): every
/// record is a request with the WAF's action; no status (0), no bytes; the actions are
/// counted per source.
#[test]
fn aws_waf_records_are_requests_with_their_action() {
    let events = inspect_events(&["aws_waf_test-waf.log"]);
    let actions: Vec<&Value> = events.iter().map(|e| &e["waf_action"]).collect();
    assert_eq!(actions, ["BLOCK", "ALLOW", "BLOCK", "BLOCK"]);
    let e = &events[0];
    assert_eq!(
        (&e["time"], &e["client"], &e["method"], &e["target"], &e["protocol"]),
        (
            &"2019-12-13T23:40:12.771Z".into(),
            &"89.160.20.156".into(),
            &"GET".into(),
            &"/foo".into(),
            &"HTTP/1.1".into()
        )
    );
    assert_eq!(
        (&e["user_agent"], &e["host"], &e["status"], &e["bytes_sent"]),
        (&"curl/7.61.1".into(), &"localhost:1989".into(), &0.into(), &0.into())
    );
    // No headers, empty URI: still a request (the WAF saw it), method kept.
    assert_eq!((&events[3]["method"], &events[3]["target"]), (&"POST".into(), &"".into()));
    let r = inspect_json(&fixtures(), &["aws_waf_test-waf.log"]);
    assert_eq!(
        (&r[0]["format"], &r[0]["events"], &r[0]["malformed"]),
        (&"aws-waf".into(), &4.into(), &0.into())
    );
    assert_eq!(r[0]["waf_actions"], serde_json::json!({"ALLOW": 1, "BLOCK": 3}));
}

/// End to end: requests the WAF blocked are positive evidence (they reached the edge) and
/// open a window, with no success among them; the source counts them by action.
#[test]
fn analyze_counts_waf_blocked_requests_as_evidence_never_successes() {
    let dir = tempfile::tempdir().unwrap();
    let all = std::fs::read_to_string(fixtures().join("aws_waf_test-waf.log")).unwrap();
    let blocked: Vec<&str> = all.lines().filter(|l| l.contains(r#""action":"BLOCK""#)).collect();
    assert_eq!(blocked.len(), 3);
    write(dir.path(), "waf.log", format!("{}\n", blocked.join("\n")).as_bytes());
    let out = Command::cargo_bin("leakline")
        .unwrap()
        .current_dir(dir.path())
        .args(["analyze", "--format", "json", "--access", "waf.log"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let svc = &doc["services"][0];
    assert_eq!(svc["state"], "open");
    let w = &svc["windows"][0];
    assert_eq!(
        (&w["external_requests"], &w["external_successes"], &w["external_bytes"]),
        (&3.into(), &0.into(), &0.into())
    );
    assert_eq!(w["opened_latest"], "2019-12-13T23:40:12.771Z");
    assert_eq!(w["first_non_scanner_success"], Value::Null);
    assert_eq!(doc["sources"][0]["waf_actions"], serde_json::json!({"BLOCK": 3}));
    // The text report says what the actions are and how they count.
    let out = Command::cargo_bin("leakline")
        .unwrap()
        .current_dir(dir.path())
        .args(["analyze", "--access", "waf.log"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("WAF actions: BLOCK 3 (each reached the edge"), "{text}");
}
