//! The correlator's rules, table-driven (trippy style): every fixture in
//! `tests/fixtures/scenarios/rules/*.toml` lists sources, events and the expected
//! `leakline.analysis/1` fields; each is run in several arrival orders and batchings (and
//! sealed after its scans), and must give the same document every time. Plus a proptest for
//! order/batching independence, config errors through the binary, and the end-to-end
//! model-gateway scenario.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use leakline::config::{AddressSpec, CaseConfig, SensitivePath, ServiceConfig, Vantage};
use leakline::correlate::{Correlator, SourceInfo};
use leakline::model::{
    Event, PortState, Request, ScanObservation, ScanTool, SourceId, SourceKind, Transport,
};
use leakline::report::analysis::Analysis;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    description: String,
    services: Vec<String>,
    #[serde(default)]
    internal: Option<Vec<String>>,
    #[serde(default)]
    allow: Vec<String>,
    as_of: String,
    #[serde(default)]
    addresses: BTreeMap<String, Vec<String>>,
    /// Per service: its `sensitive` rules (`[{ path, label }]`).
    #[serde(default)]
    sensitive: BTreeMap<String, Vec<FixtureSensitive>>,
    #[serde(rename = "source")]
    sources: Vec<FixtureSource>,
    #[serde(rename = "event")]
    events: Vec<FixtureEvent>,
    expect: toml::Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureSensitive {
    path: String,
    label: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureSource {
    kind: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    vantage: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FixtureEvent {
    source: u32,
    line: u64,
    time: String,
    // request
    client: Option<String>,
    peer: Option<String>,
    status: Option<u16>,
    bytes: Option<u64>,
    method: Option<String>,
    path: Option<String>,
    ua: Option<String>,
    // scan
    target: Option<String>,
    state: Option<String>,
}

fn time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn event(e: &FixtureEvent) -> Event {
    let t = time(&e.time);
    if let Some(target) = &e.target {
        let (host, port) = target.rsplit_once(':').unwrap();
        let ip = host.trim_matches(['[', ']']).parse::<IpAddr>().ok();
        let state = match e.state.as_deref() {
            Some("open") => PortState::Open,
            Some("closed") => PortState::Closed,
            Some("filtered") => PortState::Filtered,
            Some("unreachable") => PortState::Unreachable,
            Some("ambiguous") => PortState::Ambiguous,
            other => panic!("bad state {other:?}"),
        };
        return Event::Scan(ScanObservation {
            time: t,
            source: SourceId(e.source),
            line: e.line,
            address: ip,
            hostname: if ip.is_none() { host.to_string() } else { String::new() },
            port: port.parse().ok(),
            transport: Transport::Tcp,
            state,
            scanner_state: None,
            covered: None,
            tool: ScanTool::Nmap,
            details: String::new(),
        });
    }
    let client: Option<IpAddr> = e.client.as_ref().map(|c| c.parse().unwrap());
    Event::Request(Request {
        time: t,
        source: SourceId(e.source),
        line: e.line,
        peer: e.peer.as_ref().map(|p| p.parse().unwrap()).or(client),
        client,
        method: e.method.clone().unwrap_or_else(|| "GET".into()),
        target: e.path.clone().unwrap_or_else(|| "/".into()),
        protocol: "HTTP/1.1".into(),
        status: e.status.unwrap_or(200),
        bytes_sent: e.bytes.unwrap_or(0),
        user_agent: e.ua.clone().unwrap_or_default(),
        ..Request::default()
    })
}

fn config(f: &Fixture) -> CaseConfig {
    let nets = |v: &[String]| v.iter().map(|s| leakline::config::parse_net(s).unwrap()).collect();
    CaseConfig {
        path: None,
        base_dir: PathBuf::from("."),
        name: f.description.clone(),
        timezone: chrono_tz::UTC,
        internal: match &f.internal {
            Some(v) => nets(v),
            None => nets(&leakline::config::DEFAULT_INTERNAL.map(String::from)),
        },
        trusted_proxies: Vec::new(),
        allow: nets(&f.allow),
        services: f
            .services
            .iter()
            .map(|n| ServiceConfig {
                name: n.clone(),
                addresses: f.addresses.get(n).map_or_else(Vec::new, |list| {
                    list.iter().map(|a| AddressSpec::parse(a).unwrap()).collect()
                }),
                access: Vec::new(),
                sensitive: f.sensitive.get(n).map_or_else(Vec::new, |rules| {
                    rules.iter().map(|r| SensitivePath::new(&r.path, &r.label).unwrap()).collect()
                }),
            })
            .collect(),
        scans: Vec::new(),
        scanners: Vec::new(),
        enrich: leakline::config::EnrichConfig::default(),
    }
}

fn correlator(f: &Fixture) -> Correlator {
    let mut c = Correlator::new(config(f));
    for (i, s) in f.sources.iter().enumerate() {
        let id = c.add_source(SourceInfo {
            path: format!("source-{i}"),
            kind: if s.kind == "scan" { SourceKind::Scan } else { SourceKind::Access },
            format: "test".into(),
            service: s.service.clone(),
            vantage: if s.vantage.as_deref() == Some("internal") {
                Vantage::Internal
            } else {
                Vantage::External
            },
        });
        assert_eq!(id.0 as usize, i);
    }
    c
}

fn document(c: &Correlator, as_of: DateTime<Utc>) -> Value {
    let snapshot = c.snapshot(as_of);
    serde_json::to_value(Analysis::build(&snapshot, DateTime::UNIX_EPOCH)).unwrap()
}

/// `expected` lists a subset: objects compare only the keys they list, arrays must have the
/// same length, and the string "null" stands for JSON null (TOML has none).
fn assert_subset(expected: &Value, actual: &Value, at: &str) {
    match expected {
        Value::Object(map) => {
            for (k, v) in map {
                let a =
                    actual.get(k).unwrap_or_else(|| panic!("{at}: missing key {k} in {actual}"));
                assert_subset(v, a, &format!("{at}.{k}"));
            }
        }
        Value::Array(items) => {
            let a = actual.as_array().unwrap_or_else(|| panic!("{at}: not an array: {actual}"));
            assert_eq!(items.len(), a.len(), "{at}: length differs: {actual}");
            for (i, (e, a)) in items.iter().zip(a).enumerate() {
                assert_subset(e, a, &format!("{at}[{i}]"));
            }
        }
        Value::String(s) if s == "null" => {
            assert!(actual.is_null(), "{at}: expected null, got {actual}");
        }
        other => assert_eq!(other, actual, "{at}"),
    }
}

fn fixtures() -> Vec<(PathBuf, Fixture)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios/rules");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 8, "rule fixtures missing in {}", dir.display());
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let f: Fixture =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, f)
        })
        .collect()
}

/// Ways to deliver a fixture's events: (name, batches, seal after scans).
fn deliveries(events: &[Event]) -> Vec<(&'static str, Vec<Vec<Event>>, bool)> {
    let forward = events.to_vec();
    let mut reversed = forward.clone();
    reversed.reverse();
    let (scans, requests): (Vec<Event>, Vec<Event>) =
        forward.iter().cloned().partition(|e| matches!(e, Event::Scan(_)));
    let mut scans_last = requests.clone();
    scans_last.extend(scans.iter().cloned());
    vec![
        ("one batch", vec![forward.clone()], false),
        ("reversed, one event per batch", reversed.into_iter().map(|e| vec![e]).collect(), false),
        ("scans last (late negatives)", vec![scans_last], false),
        ("scans first, then sealed", vec![scans, requests], true),
    ]
}

#[test]
fn rule_fixtures_hold_in_every_order() {
    for (path, f) in fixtures() {
        let events: Vec<Event> = f.events.iter().map(event).collect();
        let expected = serde_json::to_value(&f.expect).unwrap();
        let as_of = time(&f.as_of);
        let mut first: Option<Value> = None;
        for (how, batches, seal) in deliveries(&events) {
            let mut c = correlator(&f);
            for (i, b) in batches.iter().enumerate() {
                c.apply(b);
                if seal && i == 0 {
                    c.seal();
                }
            }
            let doc = document(&c, as_of);
            assert_subset(&expected, &doc, &format!("{} ({how})", path.display()));
            match &first {
                None => first = Some(doc),
                Some(d) => assert_eq!(d, &doc, "{} ({how}) differs", path.display()),
            }
        }
    }
}

/// `Analysis::write` (the hand-written writer `analyze --format json` uses) gives the bytes
/// `serde_json` gives for the wire model, on every rule fixture.
#[test]
fn rule_fixtures_are_written_as_the_wire_model_serializes() {
    for (path, f) in fixtures() {
        let events: Vec<Event> = f.events.iter().map(event).collect();
        let mut c = correlator(&f);
        c.apply(&events);
        let snapshot = c.snapshot(time(&f.as_of));
        let analysis = Analysis::build(&snapshot, DateTime::UNIX_EPOCH);
        let mut written = Vec::new();
        analysis.write(&mut written).unwrap();
        let mut serialized = serde_json::to_string_pretty(&analysis).unwrap();
        serialized.push('\n');
        assert_eq!(String::from_utf8(written).unwrap(), serialized, "{}", path.display());
    }
}

mod props {
    use proptest::prelude::*;

    use super::*;

    fn arb_event() -> impl Strategy<Value = Event> {
        // A small domain (4 clients, 6 instants with sub-second ties, 2 sources each kind)
        // so ties, re-exposures and splits are common.
        let clients =
            prop::sample::select(vec!["198.51.100.1", "198.51.100.2", "10.0.0.1", "162.142.125.9"]);
        let times = prop::sample::select(vec![0_i64, 0, 1, 2, 5, 9]);
        let nanos = prop::sample::select(vec![0_u32, 0, 500_000_000]);
        let uas = prop::sample::select(vec![
            "curl/8",
            "Mozilla/5.0 zgrab/0.x",
            "Mozilla/5.0 (X11) Gecko/1 Firefox/1",
            "",
        ]);
        let states = prop::sample::select(vec!["open", "closed", "filtered"]);
        prop_oneof![
            3 => (clients, times.clone(), nanos.clone(), uas, 0_u32..2, 1_u64..50, prop::sample::select(vec![200_u16, 404, 0]), prop::sample::select(vec!["/a", "/b?x=1", "/c"]))
                .prop_map(|(c, t, n, ua, src, line, status, path)| {
                    let time = DateTime::from_timestamp(1_790_000_000 + t * 60, n).unwrap();
                    Event::Request(Request {
                        time,
                        source: SourceId(src),
                        line,
                        client: Some(c.parse().unwrap()),
                        method: "GET".into(),
                        target: path.into(),
                        status,
                        bytes_sent: line * 3,
                        user_agent: ua.into(),
                        ..Request::default()
                    })
                }),
            // 192.0.2.99 matches no service: it becomes one only if some observation is open.
            1 => (times, nanos, states, 2_u32..4, 1_u64..50, prop::sample::select(vec!["192.0.2.40", "192.0.2.40", "192.0.2.99"])).prop_map(|(t, n, st, src, line, addr)| {
                Event::Scan(ScanObservation {
                    time: DateTime::from_timestamp(1_790_000_000 + t * 60, n).unwrap(),
                    source: SourceId(src),
                    line,
                    address: Some(addr.parse().unwrap()),
                    hostname: String::new(),
                    port: Some(443),
                    transport: Transport::Tcp,
                    state: match st {
                        "open" => PortState::Open,
                        "closed" => PortState::Closed,
                        _ => PortState::Filtered,
                    },
                    scanner_state: None,
                    covered: None,
                    tool: ScanTool::Nmap,
                    details: String::new(),
                })
            }),
        ]
    }

    fn fresh() -> Correlator {
        let f: Fixture = toml::from_str(
            r#"
description = "prop"
event = []
services = ["api"]
as_of = "2026-11-03T13:00:00Z"
[addresses]
api = ["192.0.2.40:443"]
[sensitive]
api = [{ path = "/a", label = "a" }, { path = "/**", label = "everything" }]
[[source]]
kind = "access"
service = "api"
[[source]]
kind = "access"
service = "api"
[[source]]
kind = "scan"
[[source]]
kind = "scan"
[expect]
"#,
        )
        .unwrap();
        correlator(&f)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        #[test]
        fn shuffling_and_rebatching_never_change_the_snapshot(
            events in prop::collection::vec(arb_event(), 0..40),
            perm in any::<prop::sample::Index>(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..5),
        ) {
            // (source, line) identifies an event: renumber so no two differ under one key.
            let events: Vec<Event> = events
                .into_iter()
                .enumerate()
                .map(|(i, mut e)| {
                    match &mut e {
                        Event::Request(r) => r.line = i as u64 + 1,
                        Event::Scan(s) => s.line = i as u64 + 1,
                    }
                    e
                })
                .collect();
            let as_of = DateTime::from_timestamp(1_790_100_000, 0).unwrap();
            let mut a = fresh();
            a.apply(&events);
            let reference = a.snapshot(as_of);

            // A deterministic shuffle driven by `perm`, then cut into batches at `cuts`.
            let mut shuffled = events.clone();
            if !shuffled.is_empty() {
                let k = perm.index(shuffled.len());
                shuffled.rotate_left(k);
                shuffled.reverse();
                let len = shuffled.len();
                for i in 0..len / 2 {
                    if (i + k) % 3 == 0 {
                        shuffled.swap(i, len - 1 - i);
                    }
                }
            }
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(shuffled.len() + 1)).collect();
            points.sort_unstable();
            let mut b = fresh();
            let mut start = 0;
            for p in points.into_iter().chain([shuffled.len()]) {
                b.apply(&shuffled[start..p]);
                start = p;
            }
            prop_assert_eq!(&reference, &b.snapshot(as_of));

            // Sealed after every scan: same snapshot.
            let (scans, reqs): (Vec<Event>, Vec<Event>) =
                shuffled.into_iter().partition(|e| matches!(e, Event::Scan(_)));
            let mut s = fresh();
            s.apply(&scans);
            s.seal();
            s.apply(&reqs);
            prop_assert_eq!(&reference, &s.snapshot(as_of));
        }
    }
}

// ---------- the binary: config errors, quick flags, the shared scenario ----------

fn leakline() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("leakline").unwrap()
}

#[test]
fn config_errors_name_file_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("leakline.toml");
    std::fs::write(&cfg, "name = \"x\"\n[[service]]\nname = \"a\"\naccesss = [\"x\"]\n").unwrap();
    let out = leakline().args(["analyze", "--config"]).arg(&cfg).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("leakline.toml:4:") && err.contains("accesss"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    std::fs::write(&cfg, "internal = [\"10.0.0.0/8\", \"300.1.1.1/8\"]\n").unwrap();
    let out = leakline().args(["analyze", "--config"]).arg(&cfg).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("leakline.toml:1:") && err.contains("300.1.1.1/8"), "{err}");

    let out = leakline().args(["analyze"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_sensitive_rules_are_config_errors_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("leakline.toml");
    let head = "name = \"x\"\n[[service]]\nname = \"api\"\naccess = []\n";
    for (rule, line, words) in [
        (
            "{ path = \"/internal**\", label = \"internal\" }",
            6,
            &["`**` must be a whole segment", "/internal**"][..],
        ),
        (
            "{ path = \"v1/models\", label = \"models\" }",
            6,
            &["must start with `/`", "service `api`"],
        ),
        ("{ path = \"/v1/[a-z]\", label = \"models\" }", 6, &["`[` is not supported"]),
        ("{ path = \"/v1/models\", label = \"\" }", 6, &["sensitive `label`"]),
        ("{ path = \"/v1/models\" }", 6, &["label"]),
        ("{ path = \"/v1/models\", label = \"m\", tag = 1 }", 6, &["tag"]),
    ] {
        std::fs::write(&cfg, format!("{head}sensitive = [\n  {rule},\n]\n")).unwrap();
        let out = leakline().args(["analyze", "--config"]).arg(&cfg).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{rule}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("leakline.toml:{line}:")), "{rule}: {err}");
        for w in words {
            assert!(err.contains(w), "{rule}: {err}");
        }
    }
}

#[test]
fn analyze_json_lists_sensitive_paths_per_window() {
    let config =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sensitive/leakline.toml");
    let doc = analyze_json(&config);
    let windows = doc["services"][0]["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 1);
    let w = &windows[0];
    // Eight external requests (the internal kube-probe is not counted).
    assert_eq!(w["external_requests"], 8);
    let expected = serde_json::json!([
        { "label": "model list", "path": "/v1/models", "requests": 3, "successes": 2,
          "bytes": 3122, "first_success": { "time": "2026-03-10T02:17:45Z",
          "client": "162.142.125.221", "method": "GET", "path": "/v1/models", "status": 200 } },
        { "label": "internal API", "path": "/internal/**", "requests": 2, "successes": 1,
          "bytes": 734_123, "first_success": { "time": "2026-03-10T02:22:30Z",
          "client": "198.51.100.201", "method": "GET",
          "path": "/internal/benchmarks/2026-q1.csv", "status": 200 } },
        { "label": "admin", "path": "/v1/*/admin", "requests": 1, "successes": 0, "bytes": 30,
          "first_success": null },
    ]);
    assert_eq!(w["sensitive"], expected);
    assert_eq!(
        w["top_paths"][0],
        serde_json::json!({ "path": "/v1/models", "requests": 3, "successes": 2, "bytes": 3122 })
    );

    let out = leakline().args(["analyze", "--format", "text", "--config"]).arg(&config).output();
    let text = String::from_utf8(out.unwrap().stdout).unwrap();
    assert!(
        text.contains("SENSITIVE internal API (/internal/**): 2 requests (1 successful)"),
        "{text}"
    );
    assert!(
        text.contains(
            "2026-03-10T02:22:30Z  198.51.100.201  GET /internal/benchmarks/2026-q1.csv  200"
        ),
        "{text}"
    );
    assert!(text.contains("SENSITIVE admin (/v1/*/admin): 1 requests (0 successful), 30 B sent\n        first success        none\n"), "{text}");
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.log");
    let out = leakline()
        .args(["analyze", "--format", "json", "--access"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope.log"), "{err}");
}

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios/model-gateway")
}

fn analyze_json(config: &Path) -> Value {
    analyze_json_exit(config, 0)
}

/// `analyze --format json` of `config`, which must exit with `code` (4: evidence
/// incomplete, the document written all the same).
fn analyze_json_exit(config: &Path, code: i32) -> Value {
    let out =
        leakline().args(["analyze", "--format", "json", "--config"]).arg(config).output().unwrap();
    assert_eq!(out.status.code(), Some(code), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn model_gateway_matches_expected_json() {
    let dir = scenario_dir();
    let doc = analyze_json(&dir.join("leakline.toml"));
    assert_eq!(doc["schema"], "leakline.analysis/1");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    for (service, windows) in expected.as_object().unwrap() {
        let svc = doc["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == *service)
            .unwrap_or_else(|| panic!("service {service} missing"));
        assert_subset(windows, &svc["windows"], service);
    }
    // Sources: scans first (sorted), then access files in config order; every file hashed.
    let kinds: Vec<&str> =
        doc["sources"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["scan", "scan", "scan", "scan", "access", "access"]);
    for s in doc["sources"].as_array().unwrap() {
        assert_eq!(s["sha256"].as_str().unwrap().len(), 64);
    }
    assert_eq!(doc["sources"][4]["format"], "combined");
    assert_eq!(doc["sources"][4]["lines"], 2305);
    // Actors by bytes, descending.
    let bytes: Vec<u64> =
        doc["actors"].as_array().unwrap().iter().map(|a| a["bytes"].as_u64().unwrap()).collect();
    assert!(bytes.windows(2).all(|w| w[0] >= w[1]), "{bytes:?}");
    // as_of defaults to the latest event, so two runs differ only in generated_at/elapsed_ms.
    let mut again = analyze_json(&dir.join("leakline.toml"));
    again["generated_at"] = doc["generated_at"].clone();
    again["stats"]["elapsed_ms"] = doc["stats"]["elapsed_ms"].clone();
    assert_eq!(doc, again);
}

#[test]
fn chunked_parallel_and_gzip_reading_give_the_same_result() {
    use leakline::batch::{self, BatchOptions};
    let dir = scenario_dir();
    let cfg = leakline::config::load(&dir.join("leakline.toml")).unwrap();
    let whole =
        batch::run(&cfg, &BatchOptions { workers: 1, chunk_bytes: 1 << 22, ..Default::default() })
            .unwrap();
    let tiny =
        batch::run(&cfg, &BatchOptions { workers: 2, chunk_bytes: 777, ..Default::default() })
            .unwrap();
    let as_of = whole.latest_event().unwrap();
    assert_eq!(whole.snapshot(as_of), tiny.snapshot(as_of));

    // The same logs gzipped (multi-member, odd name) must give the same windows and actors.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("logs")).unwrap();
    let copy = |from: &str, to: &str| std::fs::copy(dir.join(from), tmp.path().join(to)).unwrap();
    copy("logs/access.json", "logs/access.json");
    let log = std::fs::read(dir.join("logs/access.log")).unwrap();
    let mut gz = Vec::new();
    for part in log.chunks(log.len() / 2 + 1) {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut e, part).unwrap();
        gz.extend(e.finish().unwrap());
    }
    std::fs::write(tmp.path().join("logs/access.log.1"), &gz).unwrap();
    let text = std::fs::read_to_string(dir.join("leakline.toml"))
        .unwrap()
        .replace("\"logs/access.log\"", "\"logs/access.log*\"")
        .replace("scans/*", &format!("{}/scans/*", dir.display()));
    std::fs::write(tmp.path().join("leakline.toml"), text).unwrap();
    let mut zipped = analyze_json(&tmp.path().join("leakline.toml"));
    let mut plain = analyze_json(&dir.join("leakline.toml"));
    // The coverage names the files read, which differ here; everything else is equal.
    for doc in [&mut zipped, &mut plain] {
        for svc in doc["services"].as_array_mut().unwrap() {
            let cov = svc.as_object_mut().unwrap().remove("coverage").unwrap();
            assert_eq!(cov["complete"], true);
            assert_eq!(cov["sources_read"].as_array().unwrap().len(), 6);
        }
    }
    assert_eq!(zipped["services"], plain["services"]);
    assert_eq!(zipped["actors"], plain["actors"]);
    let src = &zipped["sources"][4];
    assert_eq!(src["lines"], 2305);
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&gz);
    assert_eq!(src["sha256"], hex::encode(digest));
}

#[test]
fn text_summary_and_atomic_out_file() {
    let dir = scenario_dir();
    let out =
        leakline().args(["analyze", "--config"]).arg(dir.join("leakline.toml")).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in ["model-gateway", "closed", "2026-11-03T11:00:09Z", "162.142.125.221", "combined"]
    {
        assert!(text.contains(needle), "{needle} missing in:\n{text}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("analysis.json");
    let out = leakline()
        .args(["analyze", "--format", "json", "--as-of", "2026-11-04T00:00:00Z", "--config"])
        .arg(dir.join("leakline.toml"))
        .arg("--out")
        .arg(&target)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    let doc: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(doc["as_of"], "2026-11-04T00:00:00Z");
    let names: Vec<_> =
        std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "temp file left behind: {names:?}");
}

#[test]
fn quick_flags_without_config() {
    let dir = scenario_dir();
    let out = leakline()
        .current_dir(&dir)
        .args(["analyze", "--format", "json", "--access", "gw=logs/access.*", "--scan", "scans/*"])
        .args(["--internal", "10.0.0.0/8"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> =
        doc["services"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    // No addresses configured: the scan target becomes its own service after `gw`.
    assert_eq!(names, ["gw", "192.0.2.40:443"]);
    assert_eq!(doc["services"][0]["windows"][0]["external_requests"], 86);
    assert_eq!(doc["services"][0]["state"], "open");
}

/// Live compaction (`Correlator::compact_before`, run by `watch` `--detail-horizon` behind
/// the newest event) folds old detail per window: with every negative known, the result is unchanged.
#[test]
fn live_compaction_keeps_every_rule_fixture_exact() {
    for (path, f) in fixtures() {
        let events: Vec<Event> = f.events.iter().map(event).collect();
        let as_of = time(&f.as_of);
        let mut whole = correlator(&f);
        whole.apply(&events);
        let expected = document(&whole, as_of);

        let (scans, mut reqs): (Vec<Event>, Vec<Event>) =
            events.into_iter().partition(|e| matches!(e, Event::Scan(_)));
        reqs.sort_by_key(Event::time);
        let mid = reqs.len() / 2;
        let mut c = correlator(&f);
        c.apply(&scans);
        c.apply(&reqs[..mid]);
        if let Some(next) = reqs.get(mid) {
            c.compact_before(next.time());
        }
        c.apply(&reqs[mid..]);
        // A request older than the horizon (late) lands in its folded window.
        c.compact_before(as_of);
        assert_eq!(document(&c, as_of), expected, "{} (compacted)", path.display());
    }
}

/// The late-negative rule fixture, its scans and its requests apart.
fn late_negative_fixture() -> (Fixture, Vec<Event>, Vec<Event>) {
    let f: Fixture = toml::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/scenarios/rules/late_negative_split.toml"),
        )
        .unwrap(),
    )
    .unwrap();
    let events: Vec<Event> = f.events.iter().map(event).collect();
    let (scans, reqs): (Vec<Event>, Vec<Event>) =
        events.into_iter().partition(|e| matches!(e, Event::Scan(_)));
    (f, scans, reqs)
}

/// After compaction, a late negative that falls inside folded positives cannot split them:
/// it is reported as a gap, never silently ignored.
#[test]
fn live_compaction_reports_an_unsplittable_late_negative() {
    let (f, scans, reqs) = late_negative_fixture();
    let last = reqs.iter().map(Event::time).max().unwrap();
    let mut c = correlator(&f);
    c.apply(&reqs);
    c.compact_before(last + chrono::Duration::seconds(1));
    c.apply(&scans);
    let snap = c.snapshot(time(&f.as_of));
    assert_eq!(snap.services[0].windows.len(), 1);
    assert_eq!(snap.gaps.len(), 1);
    assert!(snap.gaps[0].reason.contains("not split"), "{:?}", snap.gaps);
}

#[test]
fn sealed_correlator_reports_an_unsplittable_late_negative() {
    let (f, scans, reqs) = late_negative_fixture();
    let mut c = correlator(&f);
    c.seal();
    c.apply(&reqs);
    c.apply(&scans); // promised not to happen after sealing: must be reported, not hidden
    let snap = c.snapshot(time(&f.as_of));
    assert_eq!(snap.services[0].windows.len(), 1);
    assert_eq!(snap.gaps.len(), 1);
    assert!(snap.gaps[0].reason.contains("not split"), "{:?}", snap.gaps);
    // A late negative *before* every positive still splits exactly.
    let mut early = scans[0].clone();
    if let Event::Scan(s) = &mut early {
        s.time = time("2026-11-03T09:00:00Z");
    }
    c.apply(&[early]);
    let snap = c.snapshot(time(&f.as_of));
    let w = &snap.services[0].windows[0];
    assert_eq!(w.opened_earliest, Some(time("2026-11-03T09:00:00Z")));
    assert_eq!(w.external_requests, 4);
}

#[test]
fn unrecognised_access_format_is_counted_not_guessed() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("weird.log");
    std::fs::write(&log, "hello there\nthis is not an access log\nat all\n").unwrap();
    let out =
        leakline().args(["analyze", "--format", "json", "--access"]).arg(&log).output().unwrap();
    // Nothing was read: the document is written, the state is unknown, the exit code 4.
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let src = &doc["sources"][0];
    assert_eq!(src["format"], "unknown");
    assert_eq!(src["lines"], 3);
    assert_eq!(src["events"], 0);
    assert_eq!(doc["services"][0]["name"], "weird");
    assert_eq!(doc["services"][0]["state"], "unknown");
    assert_eq!(doc["as_of"], Value::Null);
}

#[test]
fn trusted_proxies_decide_the_client_and_rotated_gzip_files_are_one_source_set() {
    let tmp = tempfile::tempdir().unwrap();
    let line = |t: &str, peer: &str, xff: &str, status: u16| {
        format!(
            "{{\"time_iso8601\": \"{t}\", \"remote_addr\": \"{peer}\", \"http_x_forwarded_for\": \"{xff}\", \"request_method\": \"GET\", \"request_uri\": \"/v1/models\", \"server_protocol\": \"HTTP/1.1\", \"status\": \"{status}\", \"body_bytes_sent\": \"10\", \"http_referer\": \"\", \"http_user_agent\": \"curl/8.5.0\", \"request_time\": \"0.1\", \"host\": \"gw\"}}\n"
        )
    };
    // Rotation: the older file is gzipped, the newer one plain; offsets in the timestamps.
    let old = line("2026-11-03T12:00:00+01:00", "10.1.0.5", "198.51.100.9", 200)
        + &line("2026-11-03T11:05:00+00:00", "10.1.0.5", "-", 200);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, old.as_bytes()).unwrap();
    std::fs::write(tmp.path().join("access.json.1.gz"), gz.finish().unwrap()).unwrap();
    let new = line("2026-11-03T11:10:00Z", "203.0.113.7", "198.51.100.10", 404);
    std::fs::write(tmp.path().join("access.json"), new).unwrap();
    let cfg = tmp.path().join("leakline.toml");
    std::fs::write(
        &cfg,
        "internal = [\"10.0.0.0/8\"]\ntrusted_proxies = [\"10.1.0.5\"]\n[[service]]\nname = \"gw\"\naccess = [\"access.json*\"]\n",
    )
    .unwrap();
    let doc = analyze_json(&cfg);
    let w = &doc["services"][0]["windows"][0];
    // 198.51.100.9 via the trusted proxy; the proxy's own request (no XFF) is internal;
    // 203.0.113.7 is not a trusted proxy, so its X-Forwarded-For is ignored.
    assert_eq!(w["external_requests"], 2, "{doc}");
    assert_eq!(w["first_external"]["client"], "198.51.100.9");
    assert_eq!(w["first_external"]["time"], "2026-11-03T11:00:00Z");
    let clients: Vec<&str> =
        doc["actors"].as_array().unwrap().iter().map(|a| a["client"].as_str().unwrap()).collect();
    assert_eq!(clients, ["198.51.100.9", "203.0.113.7"]);
    let paths: Vec<&str> =
        doc["sources"].as_array().unwrap().iter().map(|s| s["path"].as_str().unwrap()).collect();
    assert!(
        paths[0].ends_with("access.json") && paths[1].ends_with("access.json.1.gz"),
        "{paths:?}"
    );
}

#[test]
fn table_form_access_with_forced_formats_matches_auto_detection() {
    let dir = scenario_dir();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("case.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"name = "Model gateway exposure (sample)"
internal = ["10.0.0.0/8", "192.168.0.0/16"]
[[service]]
name = "model-gateway"
addresses = ["192.0.2.40:443", "gw.example.net:443"]
[[service.access]]
path = "{d}/logs/access.log"
format = "combined"
[[service.access]]
path = "{d}/logs/access.json"
format = "nginx-json"
[[scans]]
paths = ["{d}/scans/*.xml", "{d}/scans/*.jsonl"]
"#,
            d = dir.display()
        ),
    )
    .unwrap();
    let forced = analyze_json(&cfg);
    let auto = analyze_json(&dir.join("leakline.toml"));
    assert_eq!(forced["services"], auto["services"]);
    assert_eq!(forced["actors"], auto["actors"]);
    assert_eq!(forced["sources"][5]["format"], "nginx-json");
}

#[test]
fn lan_sweep_lists_only_targets_seen_open_and_counts_the_rest() {
    // 252 hosts down (1000 ports scanned) and a few up with some open ports. A down host is
    // one observation (it carries the scan's port list), never one per port.
    let scan = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/full_sudo6.xml");
    let out =
        leakline().args(["analyze", "--format", "json", "--scan"]).arg(&scan).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let services = doc["services"].as_array().unwrap();
    assert_eq!(services.len(), 12, "only targets with an open observation");
    assert!(services.iter().all(|s| s["state"] == "open"), "{services:?}");
    assert_eq!(doc["sources"][0]["events"], 252 + 12);
    let unmatched = &doc["sources"][0]["unmatched_targets"];
    assert_eq!(unmatched["targets"], 252);
    assert_eq!(unmatched["observations"], 252);
    assert_eq!(
        doc["sources"][0]["scan_states"],
        serde_json::json!({"open": 12, "unreachable": 252})
    );
    let out = leakline().args(["analyze", "--scan"]).arg(&scan).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("252 targets (252 observations) matched no service and were never open"),
        "{text}"
    );
}

/// Three one-line access logs whose first external request carries a secret: a query-string
/// key, a bearer token in the user agent, an `sk-` key in the path.
fn secret_logs(dir: &Path) -> Vec<String> {
    let lines = [
        ("keys", "GET /v1/models?api_key=LEAKEDapikey0123456789 HTTP/1.1", "curl/8.4.0"),
        ("bearer", "GET /health HTTP/1.1", "probe/1.0 Bearer tok3nSECRETvalue987"),
        ("sk", "GET /v1/keys/sk-proj-ABCdef1234567890abcdefXYZ HTTP/1.1", "curl/8.4.0"),
    ];
    let mut args = Vec::new();
    for (name, request, ua) in lines {
        let line = format!(
            "203.0.113.5 - - [03/Nov/2026:10:00:00 +0000] \"{request}\" 200 512 \"-\" \"{ua}\"\n"
        );
        let path = dir.join(format!("{name}.log"));
        std::fs::write(&path, line).unwrap();
        args.push("--access".to_string());
        args.push(format!("{name}={}", path.display()));
    }
    args
}

#[test]
fn every_analyze_format_is_redacted_unless_no_redact() {
    let dir = tempfile::tempdir().unwrap();
    let access = secret_logs(dir.path());
    let secrets =
        ["LEAKEDapikey0123456789", "tok3nSECRETvalue987", "sk-proj-ABCdef1234567890abcdefXYZ"];
    for format in ["text", "json", "md", "html"] {
        for redact in [true, false] {
            let mut cmd = leakline();
            cmd.args(["analyze", "--format", format]).args(&access);
            if !redact {
                cmd.arg("--no-redact");
            }
            let out = cmd.output().unwrap();
            assert!(out.status.success(), "{format}: {}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8(out.stdout).unwrap();
            for secret in secrets {
                assert_eq!(
                    text.contains(secret),
                    !redact,
                    "{format}, redact {redact}: `{secret}` presence wrong in:\n{text}"
                );
            }
            match format {
                "json" => {
                    let doc: Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(doc["redaction"]["enabled"], redact);
                    if redact {
                        // Occurrences in the snapshot (a hit is repeated per window, service, actor).
                        for kind in ["param", "bearer", "api_key"] {
                            let n = doc["redaction"]["counts"][kind].as_u64().unwrap_or(0);
                            assert!(n >= 1, "{kind}: {}", doc["redaction"]);
                        }
                    } else {
                        assert_eq!(doc["redaction"]["counts"], serde_json::json!({}));
                    }
                    assert_eq!(doc["services"].as_array().unwrap().len(), 3);
                }
                "html" => {
                    assert!(text.starts_with("<!DOCTYPE html>"), "{}", &text[..100]);
                    assert!(text.contains("http-equiv=\"Content-Security-Policy\""));
                    assert!(text.contains("default-src 'none'"));
                    assert!(!text.contains("<script"));
                }
                "md" => {
                    assert!(text.starts_with("# "), "{}", &text[..100]);
                    assert!(!text.contains("Playbook"), "no case: no playbook section");
                }
                _ => assert!(text.contains(if redact { "redaction on" } else { "redaction OFF" })),
            }
        }
    }
}

#[test]
fn totals_snapshot_is_the_full_one_without_actor_paths_and_agents() {
    for (path, f) in fixtures() {
        let mut c = correlator(&f);
        c.apply(&f.events.iter().map(event).collect::<Vec<_>>());
        let as_of = time(&f.as_of);
        let mut full = c.snapshot(as_of);
        let totals = c.snapshot_with(as_of, leakline::correlate::ActorDetail::Totals);
        assert!(totals.actors.iter().all(|a| a.top_paths.is_empty() && a.user_agents.is_empty()));
        for a in &mut full.actors {
            a.top_paths.clear();
            a.user_agents.clear();
            a.statuses.clear();
        }
        assert_eq!(full, totals, "{}", path.display());
        // A correlator that records totals only gives the same totals snapshot.
        let mut lean = correlator(&f);
        lean.set_actor_detail(leakline::correlate::ActorDetail::Totals);
        lean.apply(&f.events.iter().map(event).collect::<Vec<_>>());
        assert_eq!(lean.snapshot_with(as_of, leakline::correlate::ActorDetail::Totals), totals);
    }
}

/// What the analysis cannot see is in the document: a wildcard glob that matched nothing is
/// an unread source, a log in no known format carries an error, and a scan file cut
/// before the scanner finished is `incomplete`.
#[test]
fn analysis_json_reports_gaps_source_errors_and_incomplete_scans() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir(dir.join("logs")).unwrap();
    std::fs::create_dir(dir.join("scans")).unwrap();
    std::fs::write(dir.join("logs/odd.log"), "hello there\nnot a log line at all\n").unwrap();
    let nmap = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/scan_base.xml"),
    )
    .unwrap();
    let cut = nmap.find("</nmaprun>").expect("a complete nmap file");
    std::fs::write(dir.join("scans/cut.xml"), &nmap[..cut]).unwrap();
    let toml = r#"
name = "gaps"
[[service]]
name = "api"
access = ["logs/odd.log", "logs/edge-*.log"]
[[scans]]
paths = ["scans/*.xml"]
"#;
    std::fs::write(dir.join("leakline.toml"), toml).unwrap();
    let doc = analyze_json_exit(&dir.join("leakline.toml"), 4);
    // The glob that matched nothing is an unread source (it has no moment: not a gap).
    assert_eq!(doc["gaps"], serde_json::json!([]));
    let unread = doc["coverage"]["sources_unread"].as_array().unwrap();
    let glob = unread.iter().find(|u| u["path"].as_str().unwrap().ends_with("logs/edge-*.log"));
    assert_eq!(glob.unwrap()["reason"], "no file matches this pattern", "{unread:?}");
    let sources = doc["sources"].as_array().unwrap();
    let scan = sources.iter().find(|s| s["kind"] == "scan").unwrap();
    assert_eq!(scan["incomplete"], true, "{scan}");
    let odd = sources.iter().find(|s| s["kind"] == "access").unwrap();
    assert_eq!(odd["lines"], 2);
    let errors = odd["errors"].as_array().unwrap();
    assert!(errors[0].as_str().unwrap().contains("format not recognised"), "{odd}");
    assert_eq!(odd["incomplete"], false);
    assert_eq!(odd["oversized"], 0);
}
