//! The hand-written writer against `serde_json`'s pretty output of the same document.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone};
use proptest::prelude::*;

use super::super::{
    Case, EnrichDoc, Evidence, FirstSuccessDoc, PathDoc, Stats, UnmatchedDoc, UnreadDoc,
};
use super::*;
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

fn hit(t: &str, text: &str) -> HitDoc {
    HitDoc {
        time: t.into(),
        client: "2001:db8::7".into(),
        user_agent: text.into(),
        method: "GET".into(),
        path: format!("/{text}?q=1"),
        status: 404,
    }
}

fn window(closed: bool, hits: bool) -> Window {
    let text = tricky();
    Window {
        opened_earliest: closed.then(|| "2026-11-01T00:00:00Z".into()),
        opened_latest: "2026-11-02T00:00:00.5Z".into(),
        closed_earliest: "2026-11-03T00:00:00Z".into(),
        closed_latest: closed.then(|| "2026-11-04T00:00:00Z".into()),
        status: if closed { "closed" } else { "open" },
        external_requests: u64::MAX,
        external_successes: 0,
        external_bytes: 1_234_567_890,
        external_clients: 7,
        first_external: hits.then(|| hit("2026-11-02T00:00:00.5Z", &text)),
        first_non_scanner_success: hits.then(|| hit("2026-11-02T00:00:01Z", "curl/8")),
        evidence: Evidence { positive: 3, negative: if closed { 2 } else { 0 } },
        top_paths: if hits {
            vec![
                PathDoc { path: text.clone(), requests: 10, successes: 9, bytes: u64::MAX },
                PathDoc { path: "/".into(), requests: 1, successes: 0, bytes: 0 },
            ]
        } else {
            Vec::new()
        },
        sensitive: if hits {
            vec![
                SensitiveDoc {
                    label: text.clone(),
                    path: "/internal/**".into(),
                    requests: 4,
                    successes: 2,
                    bytes: 1_024,
                    first_success: Some(FirstSuccessDoc {
                        time: "2026-11-02T00:00:01.5Z".into(),
                        client: "2001:db8::1".into(),
                        method: "POST".into(),
                        path: text,
                        status: 201,
                    }),
                },
                SensitiveDoc {
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

fn source(scan: bool, errors: Vec<String>) -> Source {
    let failed = !errors.is_empty();
    Source {
        path: format!("/var/log/{}.log", tricky()),
        kind: if scan { "scan" } else { "access" },
        format: "combined".into(),
        sha256: (!scan).then(|| "ab".repeat(32)),
        lines: 12,
        events: 11,
        malformed: 1,
        first_event: (!scan).then(|| "2026-11-02T00:00:00Z".into()),
        last_event: None,
        unmatched_targets: scan.then_some(UnmatchedDoc { targets: 2, observations: 5 }),
        scan_states: scan.then(|| [("ambiguous", 2), ("open", 3)].into_iter().collect()),
        waf_actions: (!scan)
            .then(|| [("ALLOW".to_owned(), 4), ("BLOCK".to_owned(), 7)].into_iter().collect()),
        oversized: 0,
        incomplete: scan,
        aliases: if scan { Vec::new() } else { vec!["/logs/access.log".into()] },
        errors,
        zone_assumed: scan,
        assumed_zone: scan.then(|| format!("America/New_York {}", tricky())),
        duplicate_of: scan.then(|| format!("/scans/{}.xml", tricky())),
        // A database source's evidence, with and without a failure (both writers agree).
        database: (!scan).then(|| crate::model::snapshot::DatabaseEvidence {
            kind: "clickhouse".into(),
            server_version: "18.16.1".into(),
            queries: vec![format!("SELECT `ts` FROM t WHERE match(`ip`, '^10\\\\.') {}", tricky())],
            rows: 7,
            rows_counted: 9,
            bytes: 300,
            sha256: (!failed).then(|| "cd".repeat(32)),
            error: failed.then(|| format!("query failed: {}", tricky())),
        }),
    }
}

/// Both address families (and a mapped IPv4 address), every class, every time form, and
/// zero to two services each.
fn actors() -> Vec<Actor> {
    let times = times();
    let clients = ["203.0.113.9", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::ffff:1.2.3.4"];
    clients
        .iter()
        .enumerate()
        .map(|(i, c)| Actor {
            client: c.parse().unwrap(),
            class: ["scanner", "tool", "browser", "unknown"][i % 4],
            first_seen: times[i],
            last_seen: times[(i + 3) % times.len()],
            requests: i as u64 * 1000 + 1,
            successes: i as u64,
            bytes: 10_u64.pow(i as u32 * 4),
            services: (0..i % 3).map(|k| format!("svc-{k} {}", tricky())).collect(),
            enrichment: EnrichDoc(enrichment(i)),
        })
        .collect()
}

/// None, everything (with a tricky organisation and whole-number floats), and partial.
fn enrichment(i: usize) -> Option<std::sync::Arc<ActorEnrichment>> {
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

fn gaps() -> Vec<GapDoc> {
    crate::model::snapshot::GapKind::ALL
        .iter()
        .enumerate()
        .map(|(i, &kind)| GapDoc {
            kind,
            path: tricky(),
            from: "2026-11-02T00:00:00Z".into(),
            to: (i % 2 == 0).then(|| "2026-11-02T01:00:00Z".into()),
            reason: tricky(),
        })
        .collect()
}

fn every_secret_kind() -> RedactionCounts {
    RedactionCounts(SecretKind::ALL.into_iter().zip(1..).collect::<BTreeMap<_, _>>())
}

fn coverage(text: &str, unread: bool) -> CoverageDoc {
    CoverageDoc {
        complete: !unread,
        sources_read: vec!["/logs/access.log".into(), text.into()],
        sources_unread: if unread {
            vec![
                UnreadDoc {
                    path: "/logs/*.json".into(),
                    reason: "no file matches this pattern".into(),
                },
                UnreadDoc { path: text.into(), reason: text.into() },
            ]
        } else {
            Vec::new()
        },
        from: unread.then(|| "2026-11-01T00:00:00Z".into()),
        to: unread.then(|| "2026-11-02T00:00:00.5Z".into()),
    }
}

fn document() -> Analysis {
    let text = tricky();
    Analysis {
        schema: super::super::SCHEMA,
        case: Case { name: text.clone() },
        generated_at: "2026-11-27T13:55:00.123Z".into(),
        as_of: Some("2026-11-27T00:00:52Z".into()),
        coverage: coverage(&text, true),
        duplicates: vec![DuplicateDoc {
            service: text.clone(),
            sources: vec!["a.log".into(), text.clone()],
            shared_percent: 100,
            message: text.clone(),
        }],
        sources: vec![source(false, Vec::new()), source(true, vec![text.clone(), "2".into()])],
        services: vec![
            Service {
                name: text.clone(),
                addresses: vec!["10.0.0.1:443".into(), text.clone()],
                state: "open",
                windows: vec![window(true, true), window(false, false)],
                forwarded_unknown_requests: 3,
                coverage: coverage(&text, false),
            },
            Service {
                name: "idle".into(),
                addresses: Vec::new(),
                state: "unknown",
                windows: Vec::new(),
                forwarded_unknown_requests: 0,
                coverage: coverage(&text, true),
            },
        ],
        actors: actors(),
        actors_total: 2_000_000,
        actors_listed: 5,
        actor_groups: vec![
            GroupsDoc {
                key: "prefix".into(),
                total: 2,
                groups: vec![
                    GroupDoc {
                        key: "203.0.113.0/24".into(),
                        clients: 2,
                        requests: u64::MAX,
                        successes: 0,
                        bytes: 7,
                        first_seen: times()[0],
                        last_seen: times()[1],
                    },
                    GroupDoc {
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
            GroupsDoc { key: "asn".into(), total: 0, groups: Vec::new() },
        ],
        gaps: gaps(),
        stats: Stats { lines: 5_000_000, events: 4_995_047, malformed: 4935, elapsed_ms: 0 },
        redaction: RedactionRecord { enabled: true, counts: every_secret_kind() },
        enrichment: super::super::EnrichmentDoc {
            sources: vec![
                crate::model::enrichment::EnrichSource {
                    path: text.clone(),
                    kind: "mmdb".into(),
                    name: "GeoLite2-ASN".into(),
                    built: Some("2026-02-04".into()),
                    prefixes: None,
                    scanner: false,
                },
                crate::model::enrichment::EnrichSource {
                    path: "tor.txt".into(),
                    kind: "plain".into(),
                    name: text.clone(),
                    built: None,
                    prefixes: Some(1200),
                    scanner: true,
                },
            ],
            errors: vec![text.clone()],
        },
    }
}

#[test]
fn every_field_is_written_as_serde_json_writes_it() {
    let doc = document();
    assert_eq!(written(&doc), serde_bytes(&doc));
}

#[test]
fn empty_lists_and_no_counts_match_serde_json() {
    let mut doc = document();
    doc.sources.clear();
    doc.services.clear();
    doc.actors.clear();
    doc.enrichment = super::super::EnrichmentDoc::default();
    doc.gaps.clear();
    doc.duplicates.clear();
    doc.as_of = None;
    doc.coverage = CoverageDoc {
        complete: true,
        sources_read: Vec::new(),
        sources_unread: Vec::new(),
        from: None,
        to: None,
    };
    doc.redaction = RedactionRecord { enabled: false, counts: RedactionCounts::default() };
    assert_eq!(written(&doc), serde_bytes(&doc));
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
    let mut doc = document();
    let one = doc.actors.remove(3);
    doc.actors = (0..3000_u32)
        .map(|i| Actor {
            client: IpAddr::from(std::net::Ipv4Addr::from(i.wrapping_mul(2_654_435_761))),
            class: one.class,
            first_seen: one.first_seen,
            last_seen: one.last_seen,
            requests: u64::from(i),
            successes: one.successes,
            bytes: one.bytes,
            services: one.services.clone(),
            enrichment: EnrichDoc(enrichment(i as usize)),
        })
        .collect();
    let mut out = Counting(Vec::new(), 0);
    doc.write(&mut out).unwrap();
    assert!(out.1 > 3, "{} writes", out.1);
    assert_eq!(String::from_utf8(out.0).unwrap(), serde_bytes(&doc));
}

proptest! {
    #[test]
    fn strings_are_escaped_as_serde_json_does(s in any::<String>()) {
        let mut buf = Vec::new();
        buf.push(b'"');
        push_escaped(&mut buf, &s);
        buf.push(b'"');
        prop_assert_eq!(String::from_utf8(buf).unwrap(), serde_json::to_string(&s).unwrap());
    }

    #[test]
    fn times_are_formatted_as_chrono_does(
        // Years -100 to 10100: both edges of the fast path (0..=9999) and beyond.
        secs in -65_300_000_000_i64..256_600_000_000,
        nanos in prop_oneof![Just(0_u32), 0_u32..1000, (0_u32..1000).prop_map(|n| n * 1000),
                             (0_u32..1000).prop_map(|n| n * 1_000_000), 0_u32..1_000_000_000],
    ) {
        let t = Utc.timestamp_opt(secs, nanos).unwrap();
        let mut buf = Vec::new();
        push_rfc3339(&mut buf, t);
        prop_assert_eq!(String::from_utf8(buf).unwrap(), ts(t));
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

#[test]
fn special_times_are_formatted_as_chrono_does() {
    for t in times() {
        let mut buf = Vec::new();
        push_rfc3339(&mut buf, t);
        assert_eq!(String::from_utf8(buf).unwrap(), ts(t), "{t:?}");
    }
}
