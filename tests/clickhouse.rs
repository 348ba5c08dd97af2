//! ClickHouse access sources against a real server (issue 21): the public scenario's access
//! logs loaded as rows give the same windows and actors as the files; only external rows
//! travel; every failure is loud (exit 4, the server's message) and never shows a password.
//!
//! Each test starts its own `clickhouse-server` (`clickhouse/server.rs`); without one the
//! tests say SKIPPED on stderr and pass (CI installs it: `scripts/setup-test-deps.sh`).

#[path = "clickhouse/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

use server::{READER_PASSWORD, Server};

/// The public ground-truth scenario (a copy of /work/shared/scenarios/model-gateway; see
/// tests/fixtures/scenarios/PROVENANCE.md).
fn scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios/model-gateway")
}

fn leakline() -> Command {
    Command::cargo_bin("leakline").unwrap()
}

/// TSV escaping of one value (`\`, tab, newline).
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n")
}

/// The requests of `logs` as leakline reads them (`inspect --events`), one TSV row each:
/// `ts, remote_addr, xff, method, uri, proto, request, status, bytes, ua, referer, host`.
fn rows_of(logs: &[PathBuf]) -> Vec<Vec<String>> {
    let out = leakline().arg("inspect").arg("--events").args(logs).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut rows = Vec::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        if e["type"] != "request" {
            continue;
        }
        let time = chrono::DateTime::parse_from_rfc3339(e["time"].as_str().unwrap()).unwrap();
        let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
        rows.push(vec![
            time.format("%Y-%m-%d %H:%M:%S").to_string(),
            s("peer"),
            s("forwarded_for"),
            s("method"),
            s("target"),
            s("protocol"),
            s("raw_request"),
            e["status"].to_string(),
            e["bytes_sent"].to_string(),
            s("user_agent"),
            s("referer"),
            s("host"),
        ]);
    }
    rows
}

fn tsv(rows: &[Vec<String>]) -> String {
    rows.iter().map(|r| r.iter().map(|v| esc(v)).collect::<Vec<_>>().join("\t") + "\n").collect()
}

const TABLE: &str = "CREATE TABLE web.access (ts DateTime, remote_addr String, xff String, \
    method String, uri String, proto String, request String, status UInt16, bytes UInt64, \
    ua String, referer String, host String) ENGINE = MergeTree() PARTITION BY toYYYYMM(ts) ORDER BY ts";

const FIELDS: &str = r#"fields = { time = "ts", peer = "remote_addr", forwarded_for = "xff", method = "method", target = "uri", protocol = "proto", request = "request", status = "status", bytes = "bytes", user_agent = "ua", referer = "referer", host = "host" }"#;

fn load(server: &Server, rows: &[Vec<String>]) {
    server.query("CREATE DATABASE IF NOT EXISTS web");
    server.query(TABLE);
    server.insert_tsv("web.access", &tsv(rows));
}

/// The scenario's `internal`, unless `top` sets its own.
fn internal_line(top: &str) -> &'static str {
    if top.contains("internal =") { "" } else { r#"internal = ["10.0.0.0/8", "192.168.0.0/16"]"# }
}

/// A case config like the scenario's, its access logs replaced by one ClickHouse source.
fn ch_config(dir: &Path, server: &Server, extra: &str, top: &str) -> PathBuf {
    let s = scenario();
    let internal = internal_line(top);
    let text = format!(
        r#"name = "Model gateway exposure (sample)"
{internal}
{top}

[[service]]
name = "model-gateway"
addresses = ["192.0.2.40:443", "gw.example.net:443"]

[[service.access]]
clickhouse = {{ url = "{}", table = "web.access", {FIELDS}{extra} }}

[[scans]]
paths = ["{}/scans/*"]
vantage = "external"
"#,
        server.url(""),
        s.display()
    );
    let path = dir.join("ch.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn analyze(config: &Path, args: &[&str]) -> (Value, Output) {
    let out = leakline()
        .args(["analyze", "-f", "json", "-c"])
        .arg(config)
        .args(args)
        .env_remove("CH_PASSWORD")
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (doc, out)
}

/// The parts of an analysis that must not depend on where the rows came from.
fn verdicts(doc: &Value) -> Value {
    let mut services = doc["services"].clone();
    for s in services.as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("coverage");
    }
    serde_json::json!({ "services": services, "actors": doc["actors"], "as_of": doc["as_of"] })
}

fn database(doc: &Value) -> Value {
    doc["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["format"] == "clickhouse")
        .map(|s| s["database"].clone())
        .expect("a clickhouse source")
}

fn is_ours(ip: &str) -> bool {
    ip.starts_with("10.") || ip.starts_with("192.168.")
}

#[test]
fn rows_give_the_files_windows_and_actors_and_only_external_rows_travel() {
    let Some(server) = Server::start("rows_give_the_files_windows_and_actors") else { return };
    let s = scenario();
    let rows = rows_of(&[s.join("logs/access.log"), s.join("logs/access.json")]);
    load(&server, &rows);
    let dir = tempfile::tempdir().unwrap();
    let config = ch_config(dir.path(), &server, "", "");
    let (files, out) = analyze(&s.join("leakline.toml"), &[]);
    assert!(out.status.success());
    let (ch, out) = analyze(&config, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(verdicts(&ch), verdicts(&files));
    assert!(!ch["services"][0]["windows"].as_array().unwrap().is_empty());

    // Only the external rows were sent; the internal ones were counted by the server.
    let external = rows.iter().filter(|r| !is_ours(&r[1])).count() as u64;
    let db = database(&ch);
    assert_eq!(db["server_version"].as_str().unwrap().split('.').count(), 3, "{db}");
    assert_eq!(db["rows"], external);
    assert_eq!(db["rows_counted"], rows.len() as u64 - external);
    assert!(external * 10 < rows.len() as u64, "the scenario is mostly internal traffic");
    let queries = db["queries"].as_array().unwrap();
    assert_eq!(queries.len(), 2);
    assert!(queries[1].as_str().unwrap().contains("GROUP BY minute"));
    let logged = server.logged("FROM web.access WHERE NOT");
    assert_eq!(logged.last().map(|l| l.1), Some(external), "query log: {logged:?}");

    // The recorded query, sent again, gives the recorded rows (same SHA-256).
    let again = server.query(queries[0].as_str().unwrap());
    let sha = sha2::Sha256::digest(again.as_bytes());
    assert_eq!(db["sha256"].as_str().unwrap(), hex::encode(sha));
    assert_eq!(db["bytes"], again.len() as u64);
}

use sha2::Digest as _;

#[test]
fn trusted_proxy_rows_resolve_as_the_files_do() {
    let Some(server) = Server::start("trusted_proxy_rows_resolve_as_the_files_do") else { return };
    let s = scenario();
    let mut rows = rows_of(&[s.join("logs/access.log")]);
    // Every third request came through the load balancer (10.9.0.7, trusted): the client is
    // in X-Forwarded-For; some chains carry junk on the left, some an internal client.
    for (i, r) in rows.iter_mut().enumerate() {
        if i % 3 == 0 {
            let client = std::mem::replace(&mut r[1], "10.9.0.7".into());
            r[2] = if i % 2 == 0 { format!("junk, {client}") } else { client };
        }
    }
    rows.push({
        let mut r = rows[0].clone();
        r[1] = "10.9.0.7".into();
        r[2] = "unknown".into();
        r
    });
    let dir = tempfile::tempdir().unwrap();
    let top = r#"trusted_proxies = ["10.9.0.0/24"]"#;
    let (_, b) = same_rows_as_a_file(&server, dir.path(), &rows, top);
    assert_eq!(b["services"][0]["forwarded_unknown_requests"], 1);
    // Rows through the proxy were decided locally, so they travelled.
    let db = database(&b);
    let through = rows.iter().filter(|r| r[1] == "10.9.0.7").count() as u64;
    let direct_external = rows.iter().filter(|r| !is_ours(&r[1])).count() as u64;
    assert_eq!(db["rows"], through + direct_external);
}

/// Analyze `rows` loaded into ClickHouse and written as a JSON lines file read with the same
/// field map (`top`: extra top-level config); both analyses must give the same verdicts.
fn same_rows_as_a_file(
    server: &Server,
    dir: &Path,
    rows: &[Vec<String>],
    top: &str,
) -> (Value, Value) {
    load(server, rows);
    let config = ch_config(dir, server, "", top);
    // The same rows as a JSON lines file, read with the same field map.
    let keys = [
        "ts",
        "remote_addr",
        "xff",
        "method",
        "uri",
        "proto",
        "request",
        "status",
        "bytes",
        "ua",
        "referer",
        "host",
    ];
    let mut json = String::new();
    for r in rows {
        let obj: serde_json::Map<String, Value> = keys
            .iter()
            .zip(r)
            .map(|(k, v)| {
                let v = if *k == "ts" { v.replace(' ', "T") + "Z" } else { v.clone() };
                ((*k).to_string(), Value::String(v))
            })
            .collect();
        json.push_str(&serde_json::to_string(&obj).unwrap());
        json.push('\n');
    }
    std::fs::write(dir.join("rows.json"), json).unwrap();
    let files = dir.join("files.toml");
    std::fs::write(
        &files,
        format!(
            r#"name = "Model gateway exposure (sample)"
{internal}
{top}

[[service]]
name = "model-gateway"
addresses = ["192.0.2.40:443", "gw.example.net:443"]

[[service.access]]
path = "rows.json"
format = "json"
{FIELDS}

[[scans]]
paths = ["{}/scans/*"]
vantage = "external"
"#,
            scenario().display(),
            internal = internal_line(top),
        ),
    )
    .unwrap();
    let (a, out) = analyze(&files, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (b, out) = analyze(&config, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(verdicts(&b), verdicts(&a));
    (a, b)
}

#[test]
fn ipv6_ranges_are_pushed_down_where_safe_and_decided_locally_otherwise() {
    let Some(server) = Server::start("ipv6_ranges_are_pushed_down") else { return };
    let s = scenario();
    let mut rows = rows_of(&[s.join("logs/access.log")]);
    // Clients in every spelling: strict internal IPv6 (pushed down), internal ones the SQL
    // cannot decide (upper case with zeros, IPv4-mapped, with a port), and external IPv6.
    let spellings = [
        ("fd00::5", true),
        ("fe80::1", true),
        ("::1", true),
        ("FD00:0000::0007", true),
        ("::ffff:10.0.0.1", false),
        ("[fd00::9]:443", false),
        ("2001:db8::7", false),
        ("2001:db8:0:0:1::7", false),
    ];
    for (i, r) in rows.iter_mut().enumerate() {
        if i % 5 == 0 {
            r[1] = spellings[(i / 5) % spellings.len()].0.to_string();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let top = r#"internal = ["10.0.0.0/8", "192.168.0.0/16", "fc00::/7", "fe80::/10", "::1/128"]"#;
    let (a, b) = same_rows_as_a_file(&server, dir.path(), &rows, top);
    assert_eq!(verdicts(&b), verdicts(&a));
    let db = database(&b);
    let pushed = |ip: &str| is_ours(ip) || spellings.iter().any(|(s, pushed)| *s == ip && *pushed);
    let counted = rows.iter().filter(|r| pushed(&r[1])).count() as u64;
    assert_eq!(db["rows_counted"], counted, "{db}");
    assert_eq!(db["rows"], rows.len() as u64 - counted);
    assert!(
        b["actors"].as_array().unwrap().iter().any(|a| a["client"] == "2001:db8::7"),
        "external IPv6 clients are actors"
    );
}

#[test]
fn since_and_until_bound_the_pull() {
    let Some(server) = Server::start("since_and_until_bound_the_pull") else { return };
    let s = scenario();
    let rows = rows_of(&[s.join("logs/access.log")]);
    load(&server, &rows);
    let dir = tempfile::tempdir().unwrap();
    let config = ch_config(dir.path(), &server, "", "");
    let (doc, out) =
        analyze(&config, &["--since", "2026-11-03T12:00:00Z", "--until", "2026-11-03T12:10:00Z"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let inside = |r: &Vec<String>| {
        r[0].as_str() >= "2026-11-03 12:00:00" && r[0].as_str() <= "2026-11-03 12:10:00"
    };
    let db = database(&doc);
    let external = rows.iter().filter(|r| inside(r) && !is_ours(&r[1])).count() as u64;
    let internal = rows.iter().filter(|r| inside(r) && is_ours(&r[1])).count() as u64;
    assert!(external > 0 && internal > 0);
    assert_eq!(
        (db["rows"].as_u64(), db["rows_counted"].as_u64()),
        (Some(external), Some(internal))
    );
    let q = db["queries"][0].as_str().unwrap();
    assert!(q.contains("`ts` >= toDateTime(") && q.contains("`ts` <= toDateTime("), "{q}");
    let bad =
        leakline().args(["analyze", "-c"]).arg(&config).args(["--since", "noon"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// Run `analyze` on a one-service config whose access is `clickhouse = { <inner> }`.
fn run_failing(dir: &Path, inner: &str, env: &[(&str, &str)]) -> (Value, Output) {
    let path = dir.join("f.toml");
    std::fs::write(
        &path,
        format!("[[service]]\nname = \"gw\"\n[[service.access]]\nclickhouse = {{ {inner} }}\n"),
    )
    .unwrap();
    let mut cmd = leakline();
    cmd.args(["analyze", "-f", "json", "-c"]).arg(&path);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (serde_json::from_slice(&out.stdout).unwrap_or(Value::Null), out)
}

#[test]
fn each_failure_is_loud_and_no_password_is_ever_shown() {
    let Some(server) = Server::start("each_failure_is_loud") else { return };
    let s = scenario();
    load(&server, &rows_of(&[s.join("logs/access.log")]));
    let dir = tempfile::tempdir().unwrap();
    let url = server.url("");
    let f = r#"fields = { time = "ts", peer = "remote_addr", status = "status" }"#;
    let down = format!("http://127.0.0.1:{}", {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    });
    let auth = r#"user = "reader", password_env = "CH_PASSWORD""#;
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "server down",
            format!(r#"url = "{down}", table = "web.access", {f}"#),
            "",
            "cannot reach the server",
        ),
        (
            "wrong password",
            format!(r#"url = "{url}", table = "web.access", {auth}, {f}"#),
            "wrong-password",
            "authentication refused by the server",
        ),
        (
            "no password",
            format!(
                r#"url = "{url}", table = "web.access", user = "reader", password_env = "CH_NOT_SET", {f}"#
            ),
            "",
            "`CH_NOT_SET` is not set",
        ),
        (
            "missing table",
            format!(r#"url = "{url}", table = "web.nope", {f}"#),
            "",
            "web.nope doesn't exist",
        ),
        (
            "missing column",
            format!(
                r#"url = "{url}", table = "web.access", fields = {{ time = "ts", peer = "nope" }}"#
            ),
            "",
            "nope",
        ),
        (
            "query error",
            format!(r#"url = "{url}", table = "web.access", where = "nonsense((", {f}"#),
            "",
            "query failed (HTTP 400)",
        ),
        (
            "cut mid-stream",
            // The server stops with an exception after sending rows (its result limit).
            format!(
                r#"url = "{url}/?max_block_size=100&max_result_rows=60000&result_overflow_mode=throw", query = "SELECT toDateTime(1793700000 + number) AS ts, '203.0.113.5' AS ip, 200 AS code FROM system.numbers LIMIT 70000", fields = {{ time = "ts", peer = "ip", status = "code" }}"#
            ),
            "",
            "Limit for result exceeded",
        ),
    ];
    for (what, inner, password, expect) in &cases {
        let env: Vec<(&str, &str)> =
            if password.is_empty() { vec![] } else { vec![("CH_PASSWORD", password)] };
        let (doc, out) = run_failing(dir.path(), inner, &env);
        assert_eq!(out.status.code(), Some(4), "{what}: {}", String::from_utf8_lossy(&out.stderr));
        let unread = &doc["coverage"]["sources_unread"];
        assert_eq!(unread.as_array().map(Vec::len), Some(1), "{what}: {doc}");
        let reason = unread[0]["reason"].as_str().unwrap();
        assert!(reason.contains(expect), "{what}: {reason}");
        assert!(unread[0]["path"].as_str().unwrap().starts_with("clickhouse:http://127.0.0.1:"));
        assert_eq!(database(&doc)["sha256"], Value::Null, "{what}");
        if *what == "cut mid-stream" {
            // The rows before the cut were read (and stay counted); the source is unread.
            assert!(reason.contains("stream cut after"), "{reason}");
            assert!(database(&doc)["rows"].as_u64().unwrap() > 0, "{doc}");
        } else {
            assert_eq!(doc["services"][0]["state"], "unknown", "{what}");
        }
    }
    // The right password works, and appears in no output.
    let inner = format!(r#"url = "{url}", table = "web.access", {auth}, {f}"#);
    let (doc, out) = run_failing(dir.path(), &inner, &[("CH_PASSWORD", READER_PASSWORD)]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(database(&doc)["rows"].as_u64().unwrap() > 0);
    for format in ["text", "json", "md", "html"] {
        let out = leakline()
            .args(["analyze", "-f", format, "-c"])
            .arg(dir.path().join("f.toml"))
            .env("CH_PASSWORD", READER_PASSWORD)
            .output()
            .unwrap();
        let all = [out.stdout, out.stderr].concat();
        assert!(!String::from_utf8_lossy(&all).contains(READER_PASSWORD), "{format}");
    }
}

/// `leakline watch --headless` as a child: its JSON lines collected as they come.
struct Watch {
    child: std::process::Child,
    lines: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl Watch {
    fn start(args: &[&std::ffi::OsStr]) -> Watch {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_leakline"))
            .args(["watch", "--headless"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let lines = std::sync::Arc::<std::sync::Mutex<Vec<Value>>>::default();
        let sink = std::sync::Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(serde_json::from_str(&line).unwrap());
            }
        });
        Watch { child, lines }
    }

    fn wait(&self, what: &str, pred: impl Fn(&[Value]) -> bool) {
        let start = std::time::Instant::now();
        while !pred(&self.lines.lock().unwrap()) {
            if start.elapsed() > std::time::Duration::from_secs(60) {
                let seen = self.lines.lock().unwrap().clone();
                panic!("timed out waiting for {what}: {seen:#?}");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    fn stop(mut self) -> Vec<Value> {
        let pid = self.child.id().to_string();
        assert!(
            std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success()
        );
        let status = self.child.wait().unwrap();
        assert!(status.success() || status.code() == Some(4), "{status:?}");
        std::thread::sleep(std::time::Duration::from_millis(100));
        self.lines.lock().unwrap().clone()
    }
}

fn new_actor(lines: &[Value], client: &str) -> usize {
    lines.iter().filter(|l| l["type"] == "new_actor" && l["client"] == client).count()
}

#[test]
fn watch_polls_inserted_rows_once_even_late_ones() {
    let Some(server) = Server::start("watch_polls_inserted_rows_once") else { return };
    let s = scenario();
    let mut rows = rows_of(&[s.join("logs/access.log"), s.join("logs/access.json")]);
    // The older half now; the newer half while watching (as a log store receives them).
    rows.sort_by(|a, b| a[0].cmp(&b[0]));
    let (before, after) = rows.split_at(rows.len() / 2);
    load(&server, before);
    let dir = tempfile::tempdir().unwrap();
    let config = ch_config(dir.path(), &server, "", "");
    let out = dir.path().join("final.json");
    let watch = Watch::start(&[
        "--config".as_ref(),
        config.as_os_str(),
        "--poll".as_ref(),
        "300ms".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    // Wait for the first poll (the half's first external client).
    let first = before.iter().find(|r| !is_ours(&r[1])).map(|r| r[1].clone());
    if let Some(first) = &first {
        watch.wait("the first poll", |l| new_actor(l, first) > 0);
    }
    server.insert_tsv("web.access", &tsv(after));
    // A new client at the newest time, then a late row 10 s behind it (inside the overlap),
    // each inserted once: each must be counted once.
    let newest = rows.iter().map(|r| r[0].clone()).max().unwrap();
    let newest = chrono::NaiveDateTime::parse_from_str(&newest, "%Y-%m-%d %H:%M:%S").unwrap();
    let mut fresh = rows.iter().find(|r| !is_ours(&r[1])).unwrap().clone();
    fresh[0] = (newest + chrono::Duration::seconds(1)).format("%Y-%m-%d %H:%M:%S").to_string();
    fresh[1] = "203.0.113.250".into();
    server.insert_tsv("web.access", &tsv(&[fresh.clone()]));
    watch.wait("the fresh row", |l| new_actor(l, "203.0.113.250") > 0);
    let mut late = fresh.clone();
    late[0] = (newest - chrono::Duration::seconds(10)).format("%Y-%m-%d %H:%M:%S").to_string();
    late[1] = "203.0.113.251".into();
    server.insert_tsv("web.access", &tsv(&[late]));
    watch.wait("the late row", |l| new_actor(l, "203.0.113.251") > 0);
    // Several more polls go by: nothing is counted twice.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let lines = watch.stop();
    assert_eq!(new_actor(&lines, "203.0.113.250"), 1);
    let live: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    // The live result equals a batch analysis of the same table now.
    let (batch, o) = analyze(&config, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(live["actors"], batch["actors"]);
    let late_actor =
        live["actors"].as_array().unwrap().iter().find(|a| a["client"] == "203.0.113.251");
    assert_eq!(
        late_actor.map(|a| a["requests"].clone()),
        Some(Value::from(1)),
        "{:#}",
        live["actors"]
    );
    let key = |d: &Value| {
        (d["services"][0]["internal_requests"].clone(), d["services"][0]["windows"].clone())
    };
    assert_eq!(key(&live), key(&batch));
    // The late row arrived after a newer row was kept: the kept rows' SHA-256 in the order
    // applied is not one pull's, their order-independent sum is.
    let (db, bdb) = (database_of(&live), database(&batch));
    assert_eq!(db["rows"], bdb["rows"]);
    assert_ne!(db["sha256"], bdb["sha256"]);
    assert_eq!(db["sha256_sum"], bdb["sha256_sum"]);
    // The late row was inside the overlap: the late-row check finds nothing missing.
    let l = &db["live"];
    assert_eq!(l["late_rows_missed"], 0, "{l:#}");
    assert!(l["rows_dropped"].as_u64().unwrap() > 0, "{l:#}");
}

#[test]
fn watch_reports_a_failing_source_and_recovers() {
    let Some(server) = Server::start("watch_reports_a_failing_source") else { return };
    let dir = tempfile::tempdir().unwrap();
    // The table does not exist yet: the source fails, is retried, then reads.
    let config = ch_config(dir.path(), &server, "", "");
    let watch = Watch::start(&[
        "--config".as_ref(),
        config.as_os_str(),
        "--poll".as_ref(),
        "200ms".as_ref(),
    ]);
    watch.wait("a source error", |l| {
        l.iter().any(|v| {
            v.to_string().contains("web.access") && v.to_string().contains("doesn't exist")
        })
    });
    let s = scenario();
    load(&server, &rows_of(&[s.join("logs/access.log")]));
    watch.wait("the recovery", |l| l.iter().any(|v| v["type"] == "new_actor"));
    let lines = watch.stop();
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    assert!(text.iter().any(|t| t.contains("source_error")), "{text:#?}");
}

#[test]
fn case_journal_records_the_pull_and_never_the_password() {
    let Some(server) = Server::start("case_journal_records_the_pull") else { return };
    let s = scenario();
    load(&server, &rows_of(&[s.join("logs/access.log")]));
    let dir = tempfile::tempdir().unwrap();
    let auth = r#", user = "reader", password_env = "CH_PASSWORD""#;
    let config = ch_config(dir.path(), &server, auth, "");
    let case = dir.path().join("case");
    let init = leakline()
        .args(["case", "init"])
        .arg(&case)
        .arg("--config")
        .arg(&config)
        .args(["--playbook", "exposed-api-endpoint", "--operator", "tester"])
        .env("CH_PASSWORD", READER_PASSWORD)
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let journal: String = std::fs::read_dir(&case)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .collect();
    assert!(!journal.contains(READER_PASSWORD));
    let added: Vec<Value> = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["kind"] == "source_added" && e["data"]["database"].is_object())
        .collect();
    assert_eq!(added.len(), 1, "{journal}");
    let data = &added[0]["data"];
    assert!(data["path"].as_str().unwrap().starts_with("clickhouse:http://127.0.0.1:"));
    // The journal's hash is the one `analyze` reports for the same rows.
    let (doc, out) = {
        let out = leakline()
            .args(["analyze", "-f", "json", "-c"])
            .arg(&config)
            .env("CH_PASSWORD", READER_PASSWORD)
            .output()
            .unwrap();
        (serde_json::from_slice::<Value>(&out.stdout).unwrap(), out)
    };
    assert!(out.status.success());
    assert_eq!(data["sha256"], database(&doc)["sha256"]);
    assert_eq!(data["database"]["queries"], database(&doc)["queries"]);
    assert_eq!(data["database"]["rows"], database(&doc)["rows"]);
    // Reports of the case never show it either.
    let show = leakline().args(["case", "show"]).arg(&case).output().unwrap();
    assert!(
        !String::from_utf8_lossy(&[show.stdout, show.stderr].concat()).contains(READER_PASSWORD)
    );
    for format in ["md", "json", "html"] {
        let path = dir.path().join(format!("report.{format}"));
        let out = leakline()
            .args(["report", "--case"])
            .arg(&case)
            .arg("--out")
            .arg(&path)
            .env("CH_PASSWORD", READER_PASSWORD)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(READER_PASSWORD), "{format}");
        let sha = data["sha256"].as_str().unwrap();
        assert!(text.contains(sha), "{format}: the rows' SHA-256 is in the report");
        assert!(text.contains("18.16") || text.contains("server_version"), "{format}");
    }
    // Unreachable at init: refused (exit 2), unless --allow-missing.
    let init = leakline()
        .args(["case", "init"])
        .arg(dir.path().join("case2"))
        .arg("--config")
        .arg(&config)
        .args(["--playbook", "exposed-api-endpoint", "--operator", "tester"])
        .output()
        .unwrap();
    assert_eq!(init.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&init.stderr).contains("CH_PASSWORD"));
}

/// Config mistakes in a `clickhouse` source are refused with the line and what to do (no
/// server needed).
#[test]
fn clickhouse_config_mistakes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let f = r#"fields = { time = "ts", peer = "ip" }"#;
    for (inner, expect) in [
        (
            format!(r#"url = "http://h:8123", table = "t", password = "pw-in-file-9d2", {f}"#),
            "password_env",
        ),
        (format!(r#"url = "http://u:p@h:8123", table = "t", {f}"#), "must not carry credentials"),
        (format!(r#"url = "h:8123", table = "t", {f}"#), "http:// or https://"),
        (
            format!(r#"url = "http://h:8123", table = "t", query = "SELECT 1", {f}"#),
            "exactly one of `table` or `query`",
        ),
        (format!(r#"url = "http://h:8123", table = "t; DROP TABLE x", {f}"#), "use `query`"),
        (
            r#"url = "http://h:8123", table = "t", fields = { peer = "ip" }"#.to_string(),
            "map `time`",
        ),
        (
            r#"url = "http://h:8123", table = "t", fields = { time = "ts" }"#.to_string(),
            "`client`, `peer` or `forwarded_for`",
        ),
        (
            format!(r#"url = "http://h:8123", table = "t", {f}, colour = "red""#),
            "unknown field `colour`",
        ),
        (
            format!(r#"url = "http://h:8123", table = "t", {f}, overlap = "soon""#),
            "`overlap` must be whole seconds, minutes or hours",
        ),
        (format!(r#"url = "http://h:8123", table = "t", {f}, overlap = "2d""#), "`2d`"),
        (format!(r#"url = "http://h:8123", table = "t", {f}, overlap = "25h""#), "at most 24h"),
    ] {
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            format!(
                "[[service]]\nname = \"gw\"\n\n[[service.access]]\nclickhouse = {{ {inner} }}\n"
            ),
        )
        .unwrap();
        let out = leakline().args(["analyze", "-c"]).arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{inner}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("c.toml:4") && err.contains(expect), "{inner}: {err}");
        assert!(!err.contains("pw-in-file-9d2"), "{err}");
    }
}

/// The `database` object of the source that has one (a watch names its format by the rows'
/// decoder, so it is found by the object, not the format).
fn database_of(doc: &Value) -> Value {
    doc["sources"].as_array().unwrap().iter().find(|s| s["database"].is_object()).map_or_else(
        || panic!("a source with database evidence: {:#}", doc["sources"]),
        |s| s["database"].clone(),
    )
}

/// The order-independent digest of `TabSeparated` rows (`sha256_sum`), computed here on its
/// own: the sum modulo 2^256 of each row's SHA-256 (with its `\n`), big-endian.
fn row_sum(tsv: &str) -> String {
    let mut sum = [0_u8; 32];
    for line in tsv.split_inclusive('\n') {
        let d = sha2::Sha256::digest(line.as_bytes());
        let mut carry = 0_u16;
        for i in (0..32).rev() {
            let v = u16::from(sum[i]) + u16::from(d[i]) + carry;
            sum[i] = (v & 0xff) as u8;
            carry = v >> 8;
        }
    }
    hex::encode(sum)
}

/// A row `secs` after (or before) the newest of `rows`, from a client of its own.
fn row_at(rows: &[Vec<String>], secs: i64, client: &str) -> Vec<String> {
    let newest = rows.iter().map(|r| r[0].clone()).max().unwrap();
    let newest = chrono::NaiveDateTime::parse_from_str(&newest, "%Y-%m-%d %H:%M:%S").unwrap();
    let mut r = rows.iter().find(|r| !is_ours(&r[1])).unwrap().clone();
    r[0] = (newest + chrono::Duration::seconds(secs)).format("%Y-%m-%d %H:%M:%S").to_string();
    r[1] = client.into();
    r
}

fn watch_out(config: &Path, out: &Path) -> Watch {
    Watch::start(&[
        "--config".as_ref(),
        config.as_os_str(),
        "--poll".as_ref(),
        "300ms".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ])
}

#[test]
fn watch_out_records_the_rows_kept_and_a_hash_a_second_pull_gives_again() {
    let Some(server) = Server::start("watch_out_records_the_rows_kept") else { return };
    let s = scenario();
    let mut rows = rows_of(&[s.join("logs/access.log"), s.join("logs/access.json")]);
    rows.sort_by(|a, b| a[0].cmp(&b[0]));
    // Split where the time changes: the rows inserted while watching are all newer.
    let mut mid = rows.len() / 2;
    while rows[mid][0] == rows[mid - 1][0] {
        mid += 1;
    }
    let (before, after) = rows.split_at(mid);
    load(&server, before);
    let dir = tempfile::tempdir().unwrap();
    let config = ch_config(dir.path(), &server, "", "");
    let out = dir.path().join("final.json");
    let watch = watch_out(&config, &out);
    let first = before.iter().find(|r| !is_ours(&r[1])).unwrap()[1].clone();
    watch.wait("the first poll", |l| new_actor(l, &first) > 0);
    let mut newer = after.to_vec();
    newer.push(row_at(&rows, 1, "203.0.113.250"));
    server.insert_tsv("web.access", &tsv(&newer));
    watch.wait("the newer rows", |l| new_actor(l, "203.0.113.250") > 0);
    // Several more polls ask again for the overlap: its rows are dropped, not kept twice.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    watch.stop();
    let live: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let db = database_of(&live);
    let l = &db["live"];

    // The same rows as one pull of the table now: `analyze`'s evidence.
    let (batch, o) = analyze(&config, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bdb = database(&batch);
    let external = rows.iter().filter(|r| !is_ours(&r[1])).count() as u64 + 1;
    assert_eq!(db["rows"], external, "{db:#}");
    assert_eq!(db["rows"], bdb["rows"]);
    assert_eq!(db["rows_counted"], bdb["rows_counted"]);
    assert_eq!(db["bytes"], bdb["bytes"]);
    assert_eq!(db["server_version"], bdb["server_version"]);
    // Every row arrived in order: the kept rows in the order applied are one pull's rows,
    // so their SHA-256 is the one a recomputation over the first query's answer gives.
    let queries: Vec<&str> =
        db["queries"].as_array().unwrap().iter().map(|q| q.as_str().unwrap()).collect();
    assert_eq!(queries[0], bdb["queries"][0].as_str().unwrap(), "the first poll reads it all");
    assert!(queries.iter().any(|q| q.contains("`ts` >= toDateTime({since})")), "{queries:#?}");
    let again = server.query(queries[0]);
    assert_eq!(db["sha256"].as_str().unwrap(), hex::encode(sha2::Sha256::digest(again.as_bytes())));
    assert_eq!(db["sha256"], bdb["sha256"]);
    assert_eq!(db["sha256_sum"].as_str().unwrap(), row_sum(&again), "{db:#}");
    assert_eq!(db["sha256_sum"], bdb["sha256_sum"]);

    assert!(l["polls"].as_u64().unwrap() >= 3, "{l:#}");
    assert_eq!(l["poll_failures"], 0);
    assert_eq!(l["overlap_secs"], 30);
    assert!(l["late_rows_limit"].as_str().unwrap().contains("more than 30 s behind"), "{l:#}");
    let (received, dropped) =
        (l["rows_received"].as_u64().unwrap(), l["rows_dropped"].as_u64().unwrap());
    assert!(dropped > 0, "the overlap is asked again: {l:#}");
    assert_eq!(received, external + dropped);
    assert!(l["bytes_received"].as_u64().unwrap() > db["bytes"].as_u64().unwrap());
    assert!(l["since_first"].is_string() && l["since_last"].is_string(), "{l:#}");
    assert_eq!(l["late_rows_missed"], 0, "{l:#}");
    assert!(l["late_check_query"].as_str().unwrap().contains("count()"));
}

/// Watch the scenario's table, insert a row 120 s behind the newest row once the first poll
/// is done, and stop: the final `--out` and the JSON lines.
fn watch_a_late_row(test: &str, extra: &str) -> Option<(Value, Vec<Value>)> {
    let server = Server::start(test)?;
    let s = scenario();
    let rows = rows_of(&[s.join("logs/access.log"), s.join("logs/access.json")]);
    load(&server, &rows);
    let dir = tempfile::tempdir().unwrap();
    let config = ch_config(dir.path(), &server, extra, "");
    let out = dir.path().join("final.json");
    let watch = watch_out(&config, &out);
    let first = rows.iter().find(|r| !is_ours(&r[1])).unwrap()[1].clone();
    watch.wait("the first poll", |l| new_actor(l, &first) > 0);
    server.insert_tsv("web.access", &tsv(&[row_at(&rows, -120, "203.0.113.252")]));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let lines = watch.stop();
    let live = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    Some((live, lines))
}

#[test]
fn a_row_written_later_than_the_overlap_is_reported_missing() {
    let Some((live, lines)) = watch_a_late_row("a_row_written_later_than_the_overlap", "") else {
        return;
    };
    assert_eq!(new_actor(&lines, "203.0.113.252"), 0, "not polled: it is beyond the overlap");
    let db = database_of(&live);
    assert_eq!(db["live"]["late_rows_missed"], 1, "{db:#}");
    assert_eq!(db["live"]["overlap_secs"], 30);
    let gaps: Vec<&Value> = live["gaps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| {
            g["kind"] == "source_error" && g["reason"].as_str().unwrap().contains("not polled")
        })
        .collect();
    assert_eq!(gaps.len(), 1, "{:#}", live["gaps"]);
    let reason = gaps[0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("1 row(s) written more than 30 s behind"), "{reason}");
    assert!(!live["actors"].as_array().unwrap().iter().any(|a| a["client"] == "203.0.113.252"));
    // The JSON lines say it too (the check at the stop is announced before the exit).
    let said: Vec<&Value> =
        lines.iter().filter(|l| l.to_string().contains("were not polled")).collect();
    assert_eq!(said.len(), 1, "{lines:#?}");
    assert_eq!(said[0]["type"], "source_error", "{:#}", said[0]);
}

#[test]
fn a_larger_overlap_counts_the_same_late_row() {
    let Some((live, lines)) =
        watch_a_late_row("a_larger_overlap_counts_the_late_row", r#", overlap = "5m""#)
    else {
        return;
    };
    assert_eq!(new_actor(&lines, "203.0.113.252"), 1);
    let db = database_of(&live);
    assert_eq!(db["live"]["overlap_secs"], 300, "{db:#}");
    assert_eq!(db["live"]["late_rows_missed"], 0, "{db:#}");
    assert!(!live["gaps"].to_string().contains("not polled"), "{:#}", live["gaps"]);
}
