//! The hand-written writer against `serde_json`'s pretty output of the same document (the
//! wire types' `Serialize`, which defines the layout): every field, empty lists, long lists
//! written in blocks, and random snapshots.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{NaiveDate, TimeZone};
use proptest::prelude::*;

use super::super::Analysis;
use super::*;
use crate::model::enrichment::{ActorEnrichment, EnrichSource, Enrichments};
use crate::model::snapshot::{
    ActorClass, ActorGroup, ActorGroups, ActorSummary, Coverage, DuplicateSources, EvidenceCount,
    Gap, GapKind, Hit, PathCount, SensitiveCount, ServiceState, ServiceSummary, SourceHealth,
    Stats, UnmatchedTargets, UnreadSource, Window, WindowStatus,
};
use crate::model::{PortState, Snapshot, SourceId, SourceKind};
use crate::report::{RedactionCounts, RedactionRecord, SecretKind};

fn serde_bytes(doc: &Analysis) -> String {
    let mut s = serde_json::to_string_pretty(doc).unwrap();
    s.push('\n');
    s
}

fn written(doc: &Analysis) -> String {
    let mut out = Vec::new();
    doc.write(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The writer and `serde_json` agree on `snapshot`, redacted or not.
fn assert_same(snapshot: &Snapshot, redaction: &RedactionRecord) {
    let at = Utc.timestamp_opt(1_764_251_700, 123_000_000).unwrap();
    let doc = Analysis::build(snapshot, at).with_redaction(redaction);
    assert_eq!(written(&doc), serde_bytes(&doc));
}

/// Every control character, the characters JSON escapes, DEL, and multi-byte text.
fn tricky() -> String {
    let mut s: String = (0_u8..0x20).map(char::from).collect();
    s.push_str("\"quoted\" back\\slash / DEL\u{7f} é ∑ \u{2028}\u{2029} 🦀 end");
    s
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nano: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_nano_opt(h, mi, s, nano).unwrap().and_utc()
}

/// Times in every form the formatter has: whole seconds, milli-, micro- and nanoseconds,
/// a leap second, and years outside 0..=9999 (chrono's own path).
fn times() -> Vec<DateTime<Utc>> {
    vec![
        at(2026, 11, 24, 0, 0, 35, 0),
        at(2026, 1, 2, 3, 4, 5, 120_000_000),
        at(1999, 12, 31, 23, 59, 59, 123_456_000),
        at(2000, 2, 29, 12, 30, 7, 1),
        at(2016, 12, 31, 23, 59, 59, 1_500_000_000),
        at(0, 1, 1, 0, 0, 0, 0),
        at(9999, 12, 31, 23, 59, 59, 999_999_999),
        at(-44, 3, 15, 12, 0, 0, 0),
        at(10_000, 1, 1, 0, 0, 0, 5_000),
        Utc.timestamp_opt(0, 0).unwrap(),
    ]
}

fn hit(t: DateTime<Utc>, text: &str) -> Hit {
    Hit {
        time: t,
        client: "2001:db8::7".into(),
        user_agent: text.into(),
        method: "GET".into(),
        path: format!("/{text}?q=1"),
        status: 404,
    }
}

fn window(closed: bool, hits: bool) -> Window {
    let text = tricky();
    let t = times();
    Window {
        opened_earliest: closed.then_some(t[0]),
        opened_latest: t[1],
        closed_earliest: t[2],
        closed_latest: closed.then_some(t[3]),
        status: if closed { WindowStatus::Closed } else { WindowStatus::Open },
        external_requests: u64::MAX,
        external_successes: 0,
        external_bytes: 1_234_567_890,
        external_clients: 7,
        first_external: hits.then(|| hit(t[4], &text)),
        first_non_scanner_success: hits.then(|| hit(t[5], "curl/8")),
        evidence: EvidenceCount { positive: 3, negative: u64::from(closed) * 2 },
        top_paths: if hits {
            vec![
                PathCount {
                    path: text.clone(),
                    requests: 10,
                    successes: Some(9),
                    bytes: Some(u64::MAX),
                },
                PathCount { path: "/".into(), requests: 1, successes: None, bytes: None },
            ]
        } else {
            Vec::new()
        },
        sensitive: if hits {
            vec![
                SensitiveCount {
                    label: text.clone(),
                    path: "/internal/**".into(),
                    requests: 4,
                    successes: 2,
                    bytes: 1_024,
                    first_success: Some(hit(t[6], &text)),
                },
                SensitiveCount {
                    label: "model list".into(),
                    path: "/v1/models".into(),
                    requests: 3,
                    successes: 0,
                    bytes: 0,
                    first_success: None,
                },
            ]
        } else {
            Vec::new()
        },
    }
}

fn source(id: u32, scan: bool, errors: Vec<String>) -> SourceHealth {
    let t = times();
    SourceHealth {
        id: SourceId(id),
        path: format!("/var/log/{}.log", tricky()),
        kind: if scan { SourceKind::Scan } else { SourceKind::Access },
        format: "combined".into(),
        service: if scan { String::new() } else { tricky() },
        sha256: (!scan).then(|| "ab".repeat(32)),
        lines: 12,
        events: 11,
        malformed: 1,
        oversized: u64::from(scan),
        malformed_samples: Vec::new(),
        first_event: (!scan).then_some(t[7]),
        last_event: (!scan).then_some(t[8]),
        rotations: 0,
        truncations: 0,
        incomplete: scan,
        errors,
        lines_per_sec: 0.0,
        lag_secs: None,
        unmatched: UnmatchedTargets { targets: 2, observations: 5 },
        aliases: if scan { Vec::new() } else { vec!["/logs/access.log".into(), tricky()] },
        scan_states: if scan {
            [(PortState::Open, 3), (PortState::Ambiguous, 2), (PortState::HostFinding, 1)]
                .into_iter()
                .collect()
        } else {
            BTreeMap::new()
        },
        zone_assumed: scan,
        duplicate_of: scan.then(|| format!("/scans/{}.xml", tricky())),
        duplicate_by: scan.then_some(crate::model::snapshot::DuplicateBy::Content),
        waf_actions: if scan {
            BTreeMap::new()
        } else {
            [("ALLOW".to_owned(), 4), ("BLOCK".to_owned(), 7)].into_iter().collect()
        },
        // A database source's evidence, with and without a failure (both writers agree).
        database: (!scan).then(|| crate::model::snapshot::DatabaseEvidence {
            kind: "clickhouse".into(),
            server_version: "18.16.1".into(),
            queries: vec![format!("SELECT `ts` FROM t WHERE match(`ip`, '^10\\\\.') {}", tricky())],
            rows: 7,
            rows_counted: 9,
            bytes: 300,
            sha256: (id == 0).then(|| "cd".repeat(32)),
            sha256_sum: (id == 0).then(|| "0f".repeat(32)),
            error: (id != 0).then(|| format!("query failed: {}", tricky())),
            // A watch's polls: every field, some absent.
            live: (id == 0).then(|| {
                Box::new(crate::model::snapshot::LiveDatabase {
                    polls: 12,
                    poll_failures: 1,
                    overlap_secs: 30,
                    rows_received: 40,
                    rows_dropped: 33,
                    bytes_received: 1_700,
                    since_first: Some(Utc.timestamp_opt(1_793_700_000, 0).unwrap()),
                    since_last: Some(Utc.timestamp_opt(1_793_700_120, 5_000_000).unwrap()),
                    cursor: Some(Utc.timestamp_opt(1_793_700_150, 0).unwrap()),
                    late_rows_missed: Some(2),
                    late_checked_before: None,
                    late_check_query: Some(format!("SELECT count() {}", tricky())),
                })
            }),
        }),
    }
}

fn service(name: String, windows: Vec<Window>, coverage: Coverage) -> ServiceSummary {
    ServiceSummary {
        name,
        addresses: vec!["10.0.0.1:443".into(), tricky()],
        state: if windows.is_empty() { ServiceState::Unknown } else { ServiceState::Open },
        windows,
        external_requests: 0,
        external_successes: 0,
        external_bytes: 0,
        external_clients: 0,
        internal_requests: 0,
        unattributed_requests: 0,
        forwarded_unknown_requests: 3,
        first_external: None,
        first_non_scanner_success: None,
        scans: Vec::new(),
        coverage,
    }
}

fn actor(client: IpAddr, i: usize) -> ActorSummary {
    let times = times();
    let class =
        [ActorClass::Scanner, ActorClass::Tool, ActorClass::Browser, ActorClass::Unknown][i % 4];
    ActorSummary {
        client,
        class,
        scanner: (class == ActorClass::Scanner).then(tricky),
        first_seen: times[i % times.len()],
        last_seen: times[(i + 3) % times.len()],
        requests: i as u64 * 1000 + 1,
        successes: i as u64,
        bytes: 10_u64.pow((i % 5) as u32 * 4),
        services: (0..i % 3).map(|k| format!("svc-{k} {}", tricky())).collect(),
        top_paths: Vec::new(),
        user_agents: Vec::new(),
        statuses: BTreeMap::new(),
        detail_dropped: false,
    }
}

/// Both address families (and a mapped IPv4 address), every class, every time form, and
/// zero to two services each.
fn actors() -> Vec<ActorSummary> {
    ["203.0.113.9", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::ffff:1.2.3.4", "10.20.3.40"]
        .iter()
        .enumerate()
        .map(|(i, c)| actor(c.parse().unwrap(), i))
        .collect()
}

/// None, everything (with a tricky organisation and whole-number floats), and partial.
fn enrichment_of(i: usize) -> Option<std::sync::Arc<ActorEnrichment>> {
    use crate::model::enrichment::{AsnInfo, CityInfo, CountryInfo, ListHit};
    let full = ActorEnrichment {
        asn: Some(AsnInfo { number: 4_294_967_295, org: Some(tricky()) }),
        country: Some(CountryInfo { iso: "GB".into(), name: Some("United Kingdom".into()) }),
        city: Some(CityInfo {
            name: Some("Linköping".into()),
            subdivision: None,
            latitude: Some(51.5142),
            longitude: Some(-100.0),
            accuracy_radius_km: Some(100),
        }),
        lists: vec![
            ListHit {
                name: "aws".into(),
                service: Some("EC2".into()),
                region: Some("us-west-2".into()),
            },
            ListHit { name: "tor".into(), service: None, region: None },
        ],
    };
    let partial = ActorEnrichment {
        asn: Some(AsnInfo { number: 0, org: None }),
        country: Some(CountryInfo { iso: "SE".into(), name: None }),
        city: Some(CityInfo {
            name: None,
            subdivision: Some(tricky()),
            latitude: None,
            longitude: Some(f64::NAN),
            accuracy_radius_km: None,
        }),
        lists: Vec::new(),
    };
    match i % 3 {
        0 => None,
        1 => Some(std::sync::Arc::new(full)),
        _ => Some(std::sync::Arc::new(partial)),
    }
}

/// The enrichment of `actors` (by position) and two sources, one of each kind.
fn enrichments(actors: &[ActorSummary]) -> Enrichments {
    let text = tricky();
    Enrichments {
        sources: vec![
            EnrichSource {
                path: text.clone(),
                kind: "mmdb".into(),
                name: "GeoLite2-ASN".into(),
                built: Some("2026-02-04".into()),
                prefixes: None,
                scanner: false,
            },
            EnrichSource {
                path: "tor.txt".into(),
                kind: "plain".into(),
                name: text.clone(),
                built: None,
                prefixes: Some(1200),
                scanner: true,
            },
        ],
        actors: actors
            .iter()
            .enumerate()
            .filter_map(|(i, a)| enrichment_of(i).map(|e| (a.client, e)))
            .collect(),
        errors: vec![text],
    }
}

fn gaps() -> Vec<Gap> {
    let t = times();
    GapKind::ALL
        .iter()
        .enumerate()
        .map(|(i, &kind)| Gap {
            kind,
            source: None,
            path: tricky(),
            from: t[i],
            to: (i % 2 == 0).then_some(t[i + 1]),
            reason: tricky(),
        })
        .collect()
}

fn every_secret_kind() -> RedactionRecord {
    let counts = SecretKind::ALL.into_iter().zip(1..).collect::<BTreeMap<_, _>>();
    RedactionRecord { enabled: true, counts: RedactionCounts(counts) }
}

fn coverage(text: &str, unread: bool) -> Coverage {
    let t = times();
    Coverage {
        sources_read: vec!["/logs/access.log".into(), text.into()],
        sources_unread: if unread {
            vec![
                UnreadSource {
                    path: "/logs/*.json".into(),
                    reason: "no file matches this pattern".into(),
                },
                UnreadSource { path: text.into(), reason: text.into() },
            ]
        } else {
            Vec::new()
        },
        from: unread.then_some(t[1]),
        to: unread.then_some(t[2]),
    }
}

fn snapshot() -> Snapshot {
    let text = tricky();
    Snapshot {
        as_of: times()[3],
        case_name: text.clone(),
        timezone: format!("America/New_York {text}"),
        sources: vec![
            source(0, false, Vec::new()),
            source(1, true, vec![text.clone(), "2".into()]),
            source(2, false, vec!["pull failed".into()]),
        ],
        services: vec![
            service(
                text.clone(),
                vec![window(true, true), window(false, false)],
                coverage(&text, false),
            ),
            service("idle".into(), Vec::new(), coverage(&text, true)),
        ],
        actors: actors(),
        actors_total: 2_000_000,
        actor_groups: vec![
            ActorGroups {
                key: "prefix".into(),
                total: 2,
                groups: vec![
                    ActorGroup {
                        key: "203.0.113.0/24".into(),
                        clients: 2,
                        requests: u64::MAX,
                        successes: 0,
                        bytes: 7,
                        first_seen: times()[0],
                        last_seen: times()[1],
                    },
                    ActorGroup {
                        key: text.clone(),
                        clients: 1,
                        requests: 1,
                        successes: 1,
                        bytes: 0,
                        first_seen: times()[2],
                        last_seen: times()[2],
                    },
                ],
            },
            ActorGroups { key: "asn".into(), total: 0, groups: Vec::new() },
        ],
        gaps: gaps(),
        stats: Stats { lines: 5_000_000, events: 4_995_047, malformed: 4935, elapsed_ms: 17 },
        coverage: coverage(&text, true),
        duplicates: vec![DuplicateSources {
            service: text.clone(),
            sources: ["a.log".into(), text.clone()],
            shared_percent: 100,
            message: text,
        }],
        enrichment: enrichments(&actors()),
        ..Snapshot::default()
    }
}

#[test]
fn every_field_is_written_as_serde_json_writes_it() {
    assert_same(&snapshot(), &every_secret_kind());
}

#[test]
fn empty_lists_and_no_counts_match_serde_json() {
    let empty = Snapshot::default();
    assert_same(&empty, &RedactionRecord { enabled: false, counts: RedactionCounts::default() });
    let doc = serde_bytes(&Analysis::build(&empty, DateTime::UNIX_EPOCH));
    assert!(doc.contains("\"as_of\": null"), "{doc}");
}

/// Output larger than a block goes out in several writes, with the same bytes.
#[test]
fn a_long_actor_list_is_written_in_blocks() {
    struct Counting(Vec<u8>, usize);
    impl io::Write for Counting {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.1 += 1;
            self.0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut snap = snapshot();
    snap.actors = (0..3000_u32)
        .map(|i| {
            let client = IpAddr::from(std::net::Ipv4Addr::from(i.wrapping_mul(2_654_435_761)));
            actor(client, i as usize)
        })
        .collect();
    snap.enrichment = enrichments(&snap.actors);
    let doc = Analysis::build(&snap, DateTime::UNIX_EPOCH);
    let mut out = Counting(Vec::new(), 0);
    doc.write(&mut out).unwrap();
    assert!(out.1 > 3, "{} writes", out.1);
    assert_eq!(String::from_utf8(out.0).unwrap(), serde_bytes(&doc));
}

fn any_time() -> impl Strategy<Value = DateTime<Utc>> {
    // Years -100 to 10100: both edges of the fast path (0..=9999) and beyond.
    (
        -65_300_000_000_i64..256_600_000_000,
        prop_oneof![Just(0_u32), (0_u32..1000).prop_map(|n| n * 1_000_000), 0_u32..1_000_000_000],
    )
        .prop_map(|(s, n)| Utc.timestamp_opt(s, n).unwrap())
}

prop_compose! {
    fn any_actor()(client in any::<IpAddr>(), i in 0_usize..64, first in any_time(),
                   last in any_time(), requests in any::<u64>(), bytes in any::<u64>(),
                   services in proptest::collection::vec(".*", 0..3),
                   scanner in proptest::option::of(".*")) -> ActorSummary {
        let mut a = actor(client, i);
        a.first_seen = first;
        a.last_seen = last;
        a.requests = requests;
        a.bytes = bytes;
        a.services = services;
        a.scanner = scanner;
        a
    }
}

prop_compose! {
    fn any_snapshot()(name in ".*", zone in ".*", texts in proptest::collection::vec(".*", 6),
                      actors in proptest::collection::vec(any_actor(), 0..8),
                      as_of in any_time(), events in 0_u64..3, windows in 0_usize..3,
                      scan in any::<bool>()) -> Snapshot {
        let mut s = snapshot();
        s.case_name = name;
        s.timezone = zone;
        s.as_of = as_of;
        s.stats.events = events;
        s.actors = actors;
        s.sources[0].path.clone_from(&texts[0]);
        s.sources[0].zone_assumed = scan;
        s.sources[1].errors = texts[1..3].to_vec();
        s.services[0].name.clone_from(&texts[3]);
        s.services[0].windows.truncate(windows);
        s.gaps[0].reason.clone_from(&texts[4]);
        s.duplicates[0].message.clone_from(&texts[5]);
        s
    }
}

proptest! {
    #[test]
    fn random_snapshots_are_written_as_serde_json_writes_them(s in any_snapshot(),
                                                               redacted in any::<bool>()) {
        let record = if redacted {
            every_secret_kind()
        } else {
            RedactionRecord { enabled: false, counts: RedactionCounts::default() }
        };
        let doc = Analysis::build(&s, DateTime::UNIX_EPOCH).with_redaction(&record);
        prop_assert_eq!(written(&doc), serde_bytes(&doc));
    }

    #[test]
    fn strings_are_escaped_as_serde_json_does(s in any::<String>()) {
        let mut buf = Vec::new();
        buf.push(b'"');
        push_escaped(&mut buf, &s);
        buf.push(b'"');
        prop_assert_eq!(String::from_utf8(buf).unwrap(), serde_json::to_string(&s).unwrap());
    }
}

#[test]
fn numbers_are_written_in_full() {
    for n in [0, 7, 10, 99, 100, 101, 999, 1000, 65_535, 1_234_567_890, u64::MAX - 1, u64::MAX] {
        let mut buf = Vec::new();
        push_u64(&mut buf, n);
        assert_eq!(String::from_utf8(buf).unwrap(), n.to_string());
    }
}
