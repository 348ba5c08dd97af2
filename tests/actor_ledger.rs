//! The compact actor ledger (`correlate::actors`: 64 bytes per actor, side tables, bounded
//! detail) against a reference ledger written the plain way — one map entry per canonical
//! client address holding every total the way the rules state them — on the rule fixtures
//! (`tests/fixtures/scenarios/rules`) and on random logs (proptest): per-actor totals, class,
//! services, first/last seen must be equal for every actor; a bounded snapshot lists exact
//! values for the actors it lists and counts everyone; the prefix aggregates are exact sums.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use leakline::config::{CaseConfig, DEFAULT_INTERNAL, Vantage, parse_net};
use leakline::correlate::classify::{ScannerDb, class_of, user_agent_flags};
use leakline::correlate::engine::UNASSIGNED_SERVICE;
use leakline::correlate::{Correlator, SourceInfo};
use leakline::model::clients::canonical;
use leakline::model::snapshot::ActorGroup;
use leakline::model::{Event, Request, Snapshot, SourceId, SourceKind};
use proptest::prelude::*;

/// One actor as the reference ledger keeps it.
#[derive(Debug, Clone, PartialEq)]
struct RefActor {
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    requests: u64,
    successes: u64,
    bytes: u64,
    services: BTreeSet<String>,
    scanner: Option<u32>,
    tool: bool,
    browser: bool,
}

/// The reference: every external request folded into its canonical client's entry.
/// `services[i]` is the service of source i (access sources; `None` for scans).
fn reference(
    config: &CaseConfig,
    services: &[Option<String>],
    events: &[Event],
) -> BTreeMap<IpAddr, RefActor> {
    let db = ScannerDb::builtin();
    let filter = config.client_filter();
    let mut out: BTreeMap<IpAddr, RefActor> = BTreeMap::new();
    for e in events {
        let Event::Request(r) = e else { continue };
        let Some(client) = r.client.map(canonical) else { continue };
        if !filter.is_external(client) {
            continue;
        }
        let service = services
            .get(r.source.0 as usize)
            .cloned()
            .flatten()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| UNASSIGNED_SERVICE.to_owned());
        let flags = user_agent_flags(&db, &r.user_agent);
        let a = out.entry(client).or_insert_with(|| RefActor {
            first: r.time,
            last: r.time,
            requests: 0,
            successes: 0,
            bytes: 0,
            services: BTreeSet::new(),
            scanner: db.match_address(client),
            tool: false,
            browser: false,
        });
        a.first = a.first.min(r.time);
        a.last = a.last.max(r.time);
        a.requests += 1;
        a.successes += u64::from(r.status != 0 && r.status < 400);
        a.bytes = a.bytes.saturating_add(r.bytes_sent);
        a.services.insert(service);
        a.scanner = match (a.scanner, flags.scanner) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        a.tool |= flags.tool;
        a.browser |= flags.browser;
    }
    out
}

/// Every listed actor of `snap` equals its reference entry; with `all`, every reference
/// actor is listed, in snapshot order; the prefix aggregates are the reference's sums.
fn check(snap: &Snapshot, want: &BTreeMap<IpAddr, RefActor>, all: bool, what: &str) {
    let db = ScannerDb::builtin();
    assert_eq!(snap.actors_total, want.len() as u64, "{what}: actors_total");
    if all {
        assert_eq!(snap.actors.len(), want.len(), "{what}: every actor listed");
    }
    for a in &snap.actors {
        let r = want.get(&a.client).unwrap_or_else(|| panic!("{what}: {} unknown", a.client));
        let got = (a.first_seen, a.last_seen, a.requests, a.successes, a.bytes);
        assert_eq!(
            got,
            (r.first, r.last, r.requests, r.successes, r.bytes),
            "{what}: {}",
            a.client
        );
        let services: Vec<String> = r.services.iter().cloned().collect();
        assert_eq!(a.services, services, "{what}: {} services", a.client);
        assert_eq!(a.class, class_of(r.scanner, r.tool, r.browser), "{what}: {} class", a.client);
        let name = r.scanner.map(|i| db.entries[i as usize].name.clone());
        assert_eq!(a.scanner, name, "{what}: {} scanner", a.client);
    }
    let rank = |a: &leakline::model::snapshot::ActorSummary| {
        (std::cmp::Reverse(a.bytes), std::cmp::Reverse(a.requests), a.client)
    };
    assert!(snap.actors.windows(2).all(|w| rank(&w[0]) < rank(&w[1])), "{what}: order");
    // The top by bytes are listed, whatever the bound.
    let mut by_bytes: Vec<_> = want
        .iter()
        .map(|(ip, r)| (std::cmp::Reverse(r.bytes), std::cmp::Reverse(r.requests), *ip))
        .collect();
    by_bytes.sort();
    if let (Some(first), Some(top)) = (snap.actors.first(), by_bytes.first()) {
        assert_eq!(first.client, top.2, "{what}: heaviest actor listed first");
    }
    // Prefix aggregates.
    let mut groups: BTreeMap<(bool, u128), ActorGroup> = BTreeMap::new();
    for (ip, r) in want {
        let (key, label) = match ip {
            IpAddr::V4(v4) => {
                let net = u32::from(*v4) & !0xff;
                ((false, u128::from(net)), format!("{}/24", Ipv4Addr::from(net)))
            }
            IpAddr::V6(v6) => {
                let net = u128::from(*v6) & !((1_u128 << 80) - 1);
                ((true, net), format!("{}/48", Ipv6Addr::from(net)))
            }
        };
        let g = groups.entry(key).or_insert_with(|| ActorGroup {
            key: label,
            clients: 0,
            requests: 0,
            successes: 0,
            bytes: 0,
            first_seen: r.first,
            last_seen: r.last,
        });
        g.clients += 1;
        g.requests += r.requests;
        g.successes += r.successes;
        g.bytes = g.bytes.saturating_add(r.bytes);
        g.first_seen = g.first_seen.min(r.first);
        g.last_seen = g.last_seen.max(r.last);
    }
    let prefixes = snap.actor_groups("prefix").expect("prefix aggregates");
    assert_eq!(prefixes.total, groups.len() as u64, "{what}: prefix count");
    for g in &prefixes.groups {
        let r = groups.values().find(|r| r.key == g.key).expect("listed prefix exists");
        assert_eq!(g, r, "{what}: prefix {}", g.key);
    }
    if all {
        assert_eq!(prefixes.groups.len(), groups.len(), "{what}: every prefix listed");
    }
}

// ---------- the rule fixtures ----------

#[derive(Debug, serde::Deserialize)]
struct Fixture {
    #[serde(default)]
    internal: Option<Vec<String>>,
    #[serde(default)]
    allow: Vec<String>,
    #[serde(rename = "source")]
    sources: Vec<FixtureSource>,
    #[serde(rename = "event")]
    events: Vec<FixtureEvent>,
}

#[derive(Debug, serde::Deserialize)]
struct FixtureSource {
    kind: String,
    #[serde(default)]
    service: String,
}

#[derive(Debug, serde::Deserialize)]
struct FixtureEvent {
    source: u32,
    line: u64,
    time: String,
    client: Option<String>,
    status: Option<u16>,
    bytes: Option<u64>,
    path: Option<String>,
    ua: Option<String>,
    target: Option<String>,
}

fn case_config(internal: &[String], allow: &[String]) -> CaseConfig {
    let nets = |v: &[String]| v.iter().map(|s| parse_net(s).unwrap()).collect();
    CaseConfig {
        path: None,
        base_dir: PathBuf::from("."),
        name: "ledger".into(),
        timezone: chrono_tz::UTC,
        internal: nets(internal),
        trusted_proxies: Vec::new(),
        allow: nets(allow),
        services: Vec::new(),
        scans: Vec::new(),
        scanners: Vec::new(),
        enrich: leakline::config::EnrichConfig::default(),
    }
}

fn correlator(config: &CaseConfig, services: &[Option<String>]) -> Correlator {
    let mut c = Correlator::new(config.clone());
    for (i, s) in services.iter().enumerate() {
        c.add_source(SourceInfo {
            path: format!("source-{i}"),
            kind: if s.is_some() { SourceKind::Access } else { SourceKind::Scan },
            format: "test".into(),
            service: s.clone().unwrap_or_default(),
            vantage: Vantage::External,
        });
    }
    c
}

#[test]
fn compact_ledger_equals_the_reference_on_the_rule_fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios/rules");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let f: Fixture = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let internal =
            f.internal.clone().unwrap_or_else(|| DEFAULT_INTERNAL.map(String::from).to_vec());
        let config = case_config(&internal, &f.allow);
        let services: Vec<Option<String>> =
            f.sources.iter().map(|s| (s.kind != "scan").then(|| s.service.clone())).collect();
        let events: Vec<Event> = f
            .events
            .iter()
            .filter(|e| e.target.is_none())
            .map(|e| {
                Event::Request(Request {
                    time: DateTime::parse_from_rfc3339(&e.time).unwrap().with_timezone(&Utc),
                    source: SourceId(e.source),
                    line: e.line,
                    client: e.client.as_ref().map(|c| c.parse().unwrap()),
                    method: "GET".into(),
                    target: e.path.clone().unwrap_or_else(|| "/".into()),
                    status: e.status.unwrap_or(200),
                    bytes_sent: e.bytes.unwrap_or(0),
                    user_agent: e.ua.clone().unwrap_or_default(),
                    ..Request::default()
                })
            })
            .collect();
        let want = reference(&config, &services, &events);
        let as_of = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut c = correlator(&config, &services);
        c.apply(&events);
        let what = path.display().to_string();
        check(&c.snapshot(as_of), &want, true, &what);
        c.set_actor_limit(Some(1));
        check(&c.snapshot(as_of), &want, false, &format!("{what}, listing 1"));
        seen += 1;
    }
    assert!(seen >= 8, "rule fixtures missing in {}", dir.display());
}

// ---------- random logs ----------

/// Clients over a few /24s and /48s, IPv4-mapped IPv6, a published scanner range and an
/// internal network, so prefixes gather several clients and canonical forms meet.
fn arb_client() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        3 => (0_u8..3, 0_u8..6).prop_map(|(net, host)| IpAddr::from([198, 51, 100 + net, host])),
        1 => (0_u8..3).prop_map(|host| IpAddr::from([10, 0, 0, host])),
        1 => (0_u8..3).prop_map(|host| IpAddr::V6(Ipv4Addr::new(198, 51, 100, host).to_ipv6_mapped())),
        1 => Just(IpAddr::from([162, 142, 125, 9])),
        2 => (0_u16..2, 0_u16..3, 0_u16..4).prop_map(|(net, sub, host)| {
            IpAddr::from([0x2001, 0xdb8, net, sub, 0, 0, 0, host])
        }),
    ]
}

fn arb_request(sources: u32) -> impl Strategy<Value = Request> {
    let secs = prop::sample::select(vec![0_i64, 1, 59, 60, 3600]);
    let nanos = prop::sample::select(vec![0_u32, 7, 999_999_999, 1_500_000_000]);
    let uas = prop::sample::select(vec![
        "curl/8",
        "Mozilla/5.0 zgrab/0.x",
        "Mozilla/5.0 (X11) Gecko/1 Firefox/1",
        "",
    ]);
    let status = prop::sample::select(vec![0_u16, 200, 399, 400, 404]);
    let bytes = prop_oneof![4 => 0_u64..5000, 1 => Just(u64::MAX / 3)];
    (arb_client(), secs, nanos, uas, 0..sources, status, bytes).prop_map(
        |(client, s, n, ua, source, status, bytes)| {
            // A leap-second nanosecond count is valid only in a :59 second.
            let base = 1_790_000_000 - 1_790_000_000 % 60 + 59;
            let time = DateTime::from_timestamp(base + s * 60, n)
                .or_else(|| DateTime::from_timestamp(base, n))
                .unwrap();
            Request {
                time,
                source: SourceId(source),
                line: 1,
                client: Some(client),
                method: "GET".into(),
                target: "/x".into(),
                status,
                bytes_sent: bytes,
                user_agent: ua.into(),
                ..Request::default()
            }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    /// 70 access sources, each its own service: services past the 61 of an actor's bitset
    /// go to its side entry and must come back the same.
    #[test]
    fn compact_ledger_equals_the_reference_on_random_logs(
        requests in prop::collection::vec(arb_request(70), 0..120),
        limit in 1_usize..6,
        cap in 1_usize..8,
    ) {
        let config = case_config(&["10.0.0.0/8".to_owned()], &[]);
        let services: Vec<Option<String>> = (0..70).map(|i| Some(format!("s{i:02}"))).collect();
        let events: Vec<Event> = requests.into_iter().enumerate().map(|(i, mut r)| {
            r.line = i as u64 + 1;
            Event::Request(r)
        }).collect();
        let want = reference(&config, &services, &events);
        let as_of = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut c = correlator(&config, &services);
        c.apply(&events);
        check(&c.snapshot(as_of), &want, true, "all listed");
        c.set_actor_limit(Some(limit));
        let bounded = c.snapshot(as_of);
        check(&bounded, &want, false, "bounded");
        let windows: usize = bounded.services.iter().map(|s| s.windows.len()).sum();
        prop_assert!(bounded.actors.len() <= 2 * limit + 2 * windows);

        // A tiny detail cap drops lists, never totals; an actor keeps complete lists or none.
        let mut small = correlator(&config, &services);
        small.set_max_actors_detail(cap);
        small.apply(&events);
        let snap = small.snapshot(as_of);
        check(&snap, &want, true, "small detail cap");
        for a in &snap.actors {
            let listed: u64 = a.statuses.values().sum();
            prop_assert_eq!(listed, if a.detail_dropped { 0 } else { a.requests }, "{}", a.client);
        }
        let kept = snap.actors.iter().filter(|a| !a.detail_dropped).count();
        prop_assert!(kept <= cap);
    }
}

// ---------- batch shards ----------

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// The batch driver splits external requests over one shard per worker and appends the
    /// shards' ledgers (their addresses are disjoint) without copying them: with one worker
    /// and one chunk, or three workers and chunks of a few lines, the snapshot is the same.
    #[test]
    fn sharded_batch_runs_equal_one_shard_on_random_logs(
        lines in prop::collection::vec(
            (arb_client(), 0_u32..400, prop::sample::select(vec![200_u16, 304, 404]), 0_u64..9000),
            1..150,
        ),
        chunk in 64_usize..600,
    ) {
        use std::fmt::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let mut log = String::new();
        for (client, sec, status, bytes) in &lines {
            let _ = writeln!(
                log,
                "{client} - - [03/Nov/2026:10:{:02}:{:02} +0000] \"GET /v1/models HTTP/1.1\" {status} {bytes} \"-\" \"curl/8.5.0\"",
                sec / 60,
                sec % 60
            );
        }
        std::fs::write(dir.path().join("access.log"), log).unwrap();
        let toml = format!(
            "name = \"shards\"\ninternal = [\"10.0.0.0/8\"]\n[[service]]\nname = \"api\"\n[[service.access]]\npath = \"{}/access.log\"\nformat = \"combined\"\n",
            dir.path().display()
        );
        std::fs::write(dir.path().join("leakline.toml"), toml).unwrap();
        let cfg = leakline::config::load(&dir.path().join("leakline.toml")).unwrap();
        let run = |workers, chunk_bytes| {
            let options = leakline::batch::BatchOptions { workers, chunk_bytes, ..Default::default() };
            leakline::batch::run(&cfg, &options).unwrap()
        };
        let (one, three) = (run(1, 1 << 22), run(3, chunk));
        let as_of = one.latest_event().unwrap();
        let snap = one.snapshot(as_of);
        prop_assert_eq!(&snap, &three.snapshot(as_of));
        let external = lines.iter().filter(|l| !matches!(l.0, IpAddr::V4(v4) if v4.octets()[0] == 10)).count();
        let listed: u64 = snap.actors.iter().map(|a| a.requests).sum();
        prop_assert_eq!(listed, external as u64);
    }
}

// ---------- the binary: `analyze --actors` ----------

/// A combined log with `clients` distinct external clients (client i sends i % 7 + 1
/// requests of i bytes each) spread over a few /24s, plus internal traffic.
fn many_clients_log(clients: u32) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for i in 0..clients {
        for k in 0..=(i % 7) {
            let _ = writeln!(
                out,
                "203.0.{}.{} - - [03/Nov/2026:10:{:02}:{:02} +0000] \"GET /v1/models HTTP/1.1\" 200 {i} \"-\" \"curl/8.5.0\"",
                113 + i / 250,
                i % 250,
                i % 60,
                k
            );
        }
        let _ = writeln!(
            out,
            "10.0.0.1 - - [03/Nov/2026:10:00:00 +0000] \"GET /health HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.29\""
        );
    }
    out
}

fn analyze_json(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let out = assert_cmd::Command::cargo_bin("leakline")
        .unwrap()
        .current_dir(dir)
        .args(["analyze", "--format", "json", "--access", "api=access.log"])
        .args(extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn analyze_lists_the_top_actors_and_counts_everyone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("access.log"), many_clients_log(600)).unwrap();
    let all = analyze_json(dir.path(), &["--actors", "all"]);
    assert_eq!(all["actors_total"], 600);
    assert_eq!(all["actors_listed"], 600);
    assert_eq!(all["actors"].as_array().unwrap().len(), 600);
    let prefixes = &all["actor_groups"][0];
    assert_eq!(prefixes["key"], "prefix");
    assert_eq!(prefixes["total"], 3);
    let groups = prefixes["groups"].as_array().unwrap();
    let clients: u64 = groups.iter().map(|g| g["clients"].as_u64().unwrap()).sum();
    assert_eq!(clients, 600);
    let bytes: u64 = groups.iter().map(|g| g["bytes"].as_u64().unwrap()).sum();
    let actor_bytes: u64 =
        all["actors"].as_array().unwrap().iter().map(|a| a["bytes"].as_u64().unwrap()).sum();
    assert_eq!(bytes, actor_bytes);
    assert_eq!(groups[0]["key"], "203.0.114.0/24");

    let top = analyze_json(dir.path(), &["--actors", "5"]);
    assert_eq!(top["actors_total"], 600);
    let listed = top["actors"].as_array().unwrap();
    assert_eq!(top["actors_listed"], listed.len());
    // The top 5 by bytes lead, exactly as in the full list; the top by requests and the
    // actors the window names (its first request) are listed too.
    assert_eq!(listed[..5], all["actors"].as_array().unwrap()[..5]);
    assert!(listed.len() > 5 && listed.len() <= 5 + 5 + 2, "{}", listed.len());
    let first = &top["services"][0]["windows"][0]["first_external"]["client"];
    assert!(listed.iter().any(|a| &a["client"] == first), "first external actor listed");
    assert_eq!(top["actor_groups"][0]["total"], 3);
    assert_eq!(top["actor_groups"][0]["groups"].as_array().unwrap().len(), 3);

    // The default lists up to 10 000.
    let default = analyze_json(dir.path(), &[]);
    assert_eq!(default["actors_listed"], 600);

    let bad = assert_cmd::Command::cargo_bin("leakline")
        .unwrap()
        .current_dir(dir.path())
        .args(["analyze", "--format", "json", "--access", "api=access.log", "--actors", "many"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--actors"));

    let md = assert_cmd::Command::cargo_bin("leakline")
        .unwrap()
        .current_dir(dir.path())
        .args(["analyze", "--format", "md", "--access", "api=access.log"])
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains("## Actors (top 100 of 600 by bytes)"), "{md}");
    assert!(md.contains("## Actors by network prefix (/24, /48) (top 3 of 3 by bytes)"), "{md}");
    assert!(md.contains("`203.0.114.0/24`"), "{md}");
}
