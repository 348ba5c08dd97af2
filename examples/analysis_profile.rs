//! Profiling harness for writing the `leakline.analysis/1` document, for
//! `valgrind --tool=callgrind` (instruction counts do not depend on the machine's load).
//!
//! ```text
//! cargo build --release --example analysis_profile
//! valgrind --tool=callgrind --toggle-collect='analysis_profile::write_*' \
//!     target/release/examples/analysis_profile ACTORS hand|serde
//! ```
//!
//! Builds a snapshot of one exposed service with ACTORS distinct external clients (IPv4, one
//! in 16 IPv6; every class; whole-second times, one in 8 with milliseconds, as access logs
//! give them), then writes the document once into memory: MODE `hand` through
//! [`Analysis::write`], `serde` through `serde_json::to_writer_pretty` on the same document.
//! Prints the byte count, so the two modes can be checked to write the same size.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, Duration, TimeZone, Utc};
use leakline::model::Snapshot;
use leakline::model::snapshot::{ActorClass, ActorSummary};
use leakline::report::analysis::Analysis;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args
        .next()
        .and_then(|s| s.parse().ok())
        .expect("usage: analysis_profile ACTORS hand|serde");
    let mode = args.next().unwrap_or_else(|| "hand".into());
    let snapshot = snapshot(n);
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let doc = Analysis::build(&snapshot, now);
    let bytes = match mode.as_str() {
        "hand" => write_hand(&doc),
        "serde" => write_serde(&doc),
        other => panic!("MODE: `hand` or `serde`, not `{other}`"),
    };
    println!("{mode}: {} actors, {} bytes", snapshot.actors.len(), black_box(bytes).len());
}

#[inline(never)]
fn write_hand(doc: &Analysis) -> Vec<u8> {
    let mut out = Vec::new();
    doc.write(&mut out).expect("write to memory");
    out
}

#[inline(never)]
fn write_serde(doc: &Analysis) -> Vec<u8> {
    let mut out = Vec::new();
    serde_json::to_writer_pretty(&mut out, doc).expect("write to memory");
    out.push(b'\n');
    out
}

fn snapshot(n: u32) -> Snapshot {
    let start: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap();
    let classes = [ActorClass::Unknown, ActorClass::Browser, ActorClass::Tool, ActorClass::Scanner];
    let actors = (0..n)
        .map(|i| {
            let client = if i % 16 == 15 {
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, (i >> 16) as u16, i as u16))
            } else {
                IpAddr::V4(Ipv4Addr::from(
                    0x0b00_0000 + i.wrapping_mul(2_654_435_761) % 0x3000_0000,
                ))
            };
            let first = start + Duration::seconds(i64::from(i % 259_200));
            let last = if i % 8 == 0 {
                first + Duration::milliseconds(i64::from(i % 100_000))
            } else {
                first + Duration::seconds(i64::from(i % 3_600))
            };
            let class = classes[(i % 4) as usize];
            ActorSummary {
                client,
                class,
                scanner: (class == ActorClass::Scanner).then(|| "Censys".to_owned()),
                first_seen: first,
                last_seen: last,
                requests: u64::from(i % 97 + 1),
                successes: u64::from(i % 89),
                bytes: u64::from(i) * 1_337,
                services: vec!["model-gateway".to_owned()],
                top_paths: Vec::new(),
                user_agents: Vec::new(),
                statuses: std::collections::BTreeMap::new(),
                detail_dropped: false,
            }
        })
        .collect();
    Snapshot {
        as_of: start + Duration::days(3),
        case_name: "profile".into(),
        timezone: "UTC".into(),
        actors,
        ..Snapshot::default()
    }
}
