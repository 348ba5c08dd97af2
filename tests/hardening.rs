//! Issue 15, "hardening against the people in the logs": each attack from the issue, end to
//! end through the binary.

use std::path::Path;

use serde_json::Value;

fn leakline() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("leakline").unwrap()
}

fn analyze_json(config: &Path) -> Value {
    let out =
        leakline().args(["analyze", "--format", "json", "--config"]).arg(config).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

// ------------------------------------------------------------------ proxy evasion

/// The four requests of the issue, through the trusted proxy 10.0.0.1: one from a plain
/// client, three from an attacker who sent `X-Forwarded-For: x` (the proxy appended the real
/// address, so the log holds `x, 203.0.113.66`), one of them a 9 MB `/admin/export`; plus a
/// fifth whose chain has junk where the client should be (behind a second trusted hop).
struct Req {
    second: u32,
    xff: &'static str,
    path: &'static str,
    bytes: u64,
}

const REQS: [Req; 5] = [
    Req { second: 1, xff: "198.51.100.7", path: "/", bytes: 10 },
    Req { second: 2, xff: "x, 203.0.113.66", path: "/login", bytes: 20 },
    Req { second: 3, xff: "x, 203.0.113.66", path: "/admin", bytes: 30 },
    Req { second: 4, xff: "x, 203.0.113.66", path: "/admin/export", bytes: 9_000_000 },
    Req { second: 5, xff: "203.0.113.5, junk, 10.0.0.2", path: "/hidden", bytes: 40 },
];

/// One line per request in `format`, the proxy 10.0.0.1 as the peer (where the format has
/// one).
fn lines(format: &str) -> String {
    let mut s = String::new();
    if format == "cloudfront" {
        s.push_str("#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for\n");
    }
    for r in &REQS {
        let (sec, xff, path, bytes) = (r.second, r.xff, r.path, r.bytes);
        let line = match format {
            "combined" => format!(
                "10.0.0.1 - - [05/Dec/2026:10:00:0{sec} +0000] \"GET {path} HTTP/1.1\" 200 {bytes} \"-\" \"curl/8.5.0\" \"{xff}\""
            ),
            "combined-first" => format!(
                "\"{xff}\" 10.0.0.1 - - [05/Dec/2026:10:00:0{sec} +0000] \"GET {path} HTTP/1.1\" 200 {bytes} \"-\" \"curl/8.5.0\""
            ),
            "nginx-json" => format!(
                "{{\"time_iso8601\": \"2026-12-05T10:00:0{sec}+00:00\", \"remote_addr\": \"10.0.0.1\", \"http_x_forwarded_for\": \"{xff}\", \"request_method\": \"GET\", \"request_uri\": \"{path}\", \"server_protocol\": \"HTTP/1.1\", \"status\": \"200\", \"body_bytes_sent\": \"{bytes}\", \"http_user_agent\": \"curl/8.5.0\"}}"
            ),
            "caddy" => format!(
                "{{\"level\":\"info\",\"ts\":{ts},\"logger\":\"http.log.access\",\"msg\":\"handled request\",\"request\":{{\"remote_ip\":\"10.0.0.1\",\"remote_port\":\"4000\",\"proto\":\"HTTP/1.1\",\"method\":\"GET\",\"host\":\"gw\",\"uri\":\"{path}\",\"headers\":{{\"X-Forwarded-For\":[\"{xff}\"],\"User-Agent\":[\"curl/8.5.0\"]}}}},\"duration\":0.01,\"size\":{bytes},\"status\":200}}",
                ts = 1_796_464_800 + sec
            ),
            "traefik" => format!(
                "{{\"ClientAddr\":\"10.0.0.1:4000\",\"ClientHost\":\"{xff}\",\"DownstreamContentSize\":{bytes},\"DownstreamStatus\":200,\"RequestMethod\":\"GET\",\"RequestPath\":\"{path}\",\"RequestProtocol\":\"HTTP/1.1\",\"StartUTC\":\"2026-12-05T10:00:0{sec}Z\",\"request_User-Agent\":\"curl/8.5.0\",\"level\":\"info\",\"msg\":\"\",\"time\":\"2026-12-05T10:00:0{sec}Z\"}}"
            ),
            "envoy-json" => format!(
                "{{\"start_time\":\"2026-12-05T10:00:0{sec}.000Z\",\"downstream_remote_address\":\"10.0.0.1:4000\",\"x_forwarded_for\":\"{xff}\",\"method\":\"GET\",\"path\":\"{path}\",\"protocol\":\"HTTP/1.1\",\"response_code\":200,\"bytes_sent\":{bytes},\"user_agent\":\"curl/8.5.0\",\"duration\":3}}"
            ),
            // No peer in Envoy's text format: the walk starts at the right-most entry.
            "envoy" => format!(
                "[2026-12-05T10:00:0{sec}.000Z] \"GET {path} HTTP/1.1\" 200 - 0 {bytes} 3 2 \"10.0.0.1, {xff}, 10.0.0.1\" \"curl/8.5.0\" \"id-{sec}\" \"gw\" \"10.0.0.9:80\""
            ),
            "json" => format!(
                "{{\"t\":\"2026-12-05T10:00:0{sec}Z\",\"ip\":\"10.0.0.1\",\"xff\":\"{xff}\",\"m\":\"GET\",\"u\":\"{path}\",\"s\":200,\"b\":{bytes},\"ua\":\"curl/8.5.0\"}}"
            ),
            "cloudfront" => format!(
                "2026-12-05\t10:00:0{sec}\tLAX1\t{bytes}\t10.0.0.1\tGET\tgw\t{path}\t200\t-\tcurl/8.5.0\t-\t-\tMiss\tid{sec}\tgw\thttps\t10\t0.01\t{xff}"
            ),
            other => panic!("no such format {other}"),
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

#[test]
fn junk_in_x_forwarded_for_hides_nobody_in_any_format() {
    for format in [
        "combined",
        "combined-first",
        "nginx-json",
        "caddy",
        "traefik",
        "envoy-json",
        "envoy",
        "json",
        "cloudfront",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("access.log"), lines(format)).unwrap();
        let forced = match format {
            "combined-first" => "combined",
            f => f,
        };
        let fields = if format == "json" {
            "fields = { time = \"t\", peer = \"ip\", forwarded_for = \"xff\", method = \"m\", target = \"u\", status = \"s\", bytes = \"b\", user_agent = \"ua\" }\n"
        } else {
            ""
        };
        let cfg = tmp.path().join("leakline.toml");
        std::fs::write(
            &cfg,
            format!(
                "internal = [\"10.0.0.0/8\"]\ntrusted_proxies = [\"10.0.0.0/8\"]\n[[service]]\nname = \"gw\"\n[[service.access]]\npath = \"access.log\"\nformat = \"{forced}\"\n{fields}"
            ),
        )
        .unwrap();
        let doc = analyze_json(&cfg);
        assert_eq!(doc["sources"][0]["events"], 5, "{format}: {doc}");
        assert_eq!(doc["sources"][0]["malformed"], 0, "{format}: {doc}");
        let mut actors: Vec<(String, u64, u64)> = doc["actors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["client"].as_str().unwrap().to_owned(),
                    a["requests"].as_u64().unwrap(),
                    a["bytes"].as_u64().unwrap(),
                )
            })
            .collect();
        actors.sort();
        assert_eq!(
            actors,
            [("198.51.100.7".to_owned(), 1, 10), ("203.0.113.66".to_owned(), 3, 9_000_050)],
            "{format}: the attacker behind `x, 203.0.113.66` is seen, the proxy is no actor"
        );
        // Junk where the client should be: external, unknown, counted, never the proxy.
        assert_eq!(doc["services"][0]["forwarded_unknown_requests"], 1, "{format}: {doc}");
        let text = leakline().args(["analyze", "--config"]).arg(&cfg).output().unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains("1 external requests with an unknown client"), "{format}: {text}");
    }
}

// ------------------------------------------------------------------ inspect

/// A masscan line whose port is an OSC 52 (clipboard write) and a CSI sequence: the
/// malformed-line reason shows them escaped, never raw.
#[test]
fn inspect_escapes_terminal_sequences_in_malformed_reasons() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("scan.txt");
    std::fs::write(&f, "open tcp 8\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}[2J0 192.0.2.1 1700000000\n")
        .unwrap();
    let out = leakline().args(["inspect", "--format", "masscan-list"]).arg(&f).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "{text:?}");
    assert!(text.contains("\\x1b]52;c;"), "{text}");
}

const LOG: &str = "203.0.113.9 - - [05/Dec/2026:10:00:01 +0000] \"GET /cb?accessToken=Zq8sECRETt0ken99 HTTP/1.1\" 200 5 \"-\" \"curl\"\n\
203.0.113.9 - - [05/Dec/2026:10:00:02 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\"\n";

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// `inspect /dev/stdin` with a pipe: read once, every line counted, the hash of what came in.
#[test]
fn inspect_reads_a_pipe_once() {
    let out = leakline()
        .args(["inspect", "--json", "/dev/stdin"])
        .write_stdin(LOG)
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((doc["lines"].as_u64(), doc["events"].as_u64()), (Some(2), Some(2)), "{doc}");
    assert_eq!(doc["sha256"], sha256_hex(LOG.as_bytes()));
}

/// A FIFO is opened once: with a writer it is read to the end, and inspect does not hang.
#[cfg(unix)]
#[test]
fn inspect_reads_a_fifo_without_hanging() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo is not available: skipped");
        return;
    }
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || std::fs::write(writer_path, LOG).unwrap());
    let out = leakline()
        .args(["inspect", "--json"])
        .arg(&fifo)
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["lines"], 2, "{doc}");
    assert_eq!(doc["sha256"], sha256_hex(LOG.as_bytes()));
}

/// `inspect --events` redacts like `analyze`; `--no-redact` opts out.
#[test]
fn inspect_redacts_events_unless_told_not_to() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("access.log");
    std::fs::write(&f, LOG).unwrap();
    let run = |extra: &[&str]| {
        let out = leakline().args(["inspect", "--events"]).args(extra).arg(&f).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let redacted = run(&[]);
    assert!(!redacted.contains("Zq8sECRETt0ken99"), "{redacted}");
    assert!(redacted.contains("accessToken=[REDACTED:param:"), "{redacted}");
    assert!(run(&["--no-redact"]).contains("Zq8sECRETt0ken99"));
}

// ------------------------------------------------------------------ files reached twice

/// The usual `access.log -> access-2026-12-05.log` layout with a glob matching both, and a
/// `**` glob through a `loop -> .` symlink (twice): every count once, the alias said.
#[cfg(unix)]
#[test]
fn a_file_reached_through_two_paths_is_read_once() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("access-2026-12-05.log"), LOG).unwrap();
    std::os::unix::fs::symlink("access-2026-12-05.log", logs.join("access.log")).unwrap();
    std::os::unix::fs::symlink(".", logs.join("loop")).unwrap();
    std::os::unix::fs::symlink("..", logs.join("loop2")).unwrap();
    for pattern in ["logs/access*.log", "**/access*.log"] {
        let cfg = tmp.path().join("leakline.toml");
        std::fs::write(&cfg, format!("[[service]]\nname = \"web\"\naccess = [\"{pattern}\"]\n"))
            .unwrap();
        let out = leakline()
            .args(["analyze", "--format", "json", "--config"])
            .arg(&cfg)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let sources = doc["sources"].as_array().unwrap();
        assert_eq!(sources.len(), 1, "{pattern}: {doc}");
        assert_eq!(doc["stats"]["events"], 2, "{pattern}");
        assert_eq!(doc["actors"][0]["requests"], 2, "{pattern}");
        let aliases: Vec<&str> =
            sources[0]["aliases"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
        assert!(aliases.iter().any(|a| a.ends_with("logs/access.log")), "{pattern}: {aliases:?}");
        let text = leakline().args(["analyze", "--config"]).arg(&cfg).output().unwrap();
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains("(the same file, read once)"), "{text}");
    }
    let out = leakline()
        .arg("inspect")
        .arg(logs.join("access-2026-12-05.log"))
        .arg(logs.join("access.log"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("access.log: the same file as"), "{text}");
    assert_eq!(text.matches("sha256").count(), 1, "{text}");
}

/// `analyze` names what a FIFO, a device or a directory is instead of "no such file".
#[cfg(unix)]
#[test]
fn analyze_says_what_a_non_file_is() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let fifo_made =
        std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
    let mut cases = vec![
        (tmp.path().to_path_buf(), "is a directory"),
        ("/dev/null".into(), "is a character device"),
    ];
    if fifo_made {
        cases.push((fifo, "is a named pipe (FIFO)"));
    }
    for (path, what) in cases {
        let out = leakline()
            .args(["analyze", "--access"])
            .arg(&path)
            .timeout(std::time::Duration::from_secs(30))
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(what) && !err.contains("no such file"), "{}: {err}", path.display());
    }
}

// ------------------------------------------------------------------ hostile files

fn analyze_file(path: &Path) -> Value {
    let out = leakline()
        .args(["analyze", "--format", "json", "--access"])
        .arg(path)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A NUL-filled hole without a newline (a crash) between good lines: counted as one
/// oversized line, the lines around it parsed, the hash of the whole file kept. The region
/// spans several read chunks, which used to be re-read and re-copied each time.
#[test]
fn a_newline_less_region_is_one_oversized_line() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("access.log");
    let mut data = LOG.as_bytes().to_vec();
    data.extend(std::iter::repeat_n(0_u8, 9 * 1024 * 1024));
    data.push(b'\n');
    data.extend_from_slice(LOG.as_bytes());
    std::fs::write(&f, &data).unwrap();
    let doc = analyze_file(&f);
    let src = &doc["sources"][0];
    assert_eq!(src["lines"], 5, "{src}");
    assert_eq!(src["events"], 4, "{src}");
    assert_eq!(src["oversized"], 1, "{src}");
    assert_eq!(src["sha256"], sha256_hex(&data));
}

/// A file with CR-only line ends (no LF anywhere): each CR ends a line.
#[test]
fn a_cr_only_file_is_read_line_by_line() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("access.log");
    let data = LOG.replace('\n', "\r");
    std::fs::write(&f, &data).unwrap();
    let doc = analyze_file(&f);
    let src = &doc["sources"][0];
    assert_eq!((src["lines"].as_u64(), src["events"].as_u64()), (Some(2), Some(2)), "{src}");
    assert_eq!(src["format"], "combined");
    assert_eq!(src["sha256"], sha256_hex(data.as_bytes()));
}

/// `inspect` reads a CR-only file line by line too, and counts a newline-less region as one
/// oversized line.
#[test]
fn inspect_caps_lines_and_reads_cr_only_files() {
    let tmp = tempfile::tempdir().unwrap();
    let cr = tmp.path().join("cr.log");
    std::fs::write(&cr, LOG.replace('\n', "\r")).unwrap();
    let out = leakline().args(["inspect", "--json"]).arg(&cr).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((doc["lines"].as_u64(), doc["events"].as_u64()), (Some(2), Some(2)), "{doc}");
    let hole = tmp.path().join("hole.log");
    let mut data = LOG.as_bytes().to_vec();
    data.extend(std::iter::repeat_n(0_u8, 3 * 1024 * 1024));
    data.push(b'\n');
    std::fs::write(&hole, &data).unwrap();
    let out = leakline().args(["inspect", "--json"]).arg(&hole).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((doc["lines"].as_u64(), doc["oversized"].as_u64()), (Some(3), Some(1)), "{doc}");
}

/// `--out /dev/null` writes through the device: the atomic writer never renames a plain
/// file over a device node (as root that would replace the machine's `/dev/null`).
#[cfg(unix)]
#[test]
fn analyze_out_to_a_device_writes_through_it() {
    use std::os::unix::fs::FileTypeExt;
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("access.log");
    std::fs::write(
        &log,
        "203.0.113.9 - - [05/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 10 \"-\" \"curl/8\"\n",
    )
    .unwrap();
    leakline()
        .args(["analyze", "--format", "json", "--out", "/dev/null", "--access"])
        .arg(&log)
        .assert()
        .success();
    let t = std::fs::metadata("/dev/null").unwrap().file_type();
    assert!(t.is_char_device(), "/dev/null must still be a character device");
}
