//! Profiling harness for the batch access path (`Decoder::feed` to a `Visit` sink over one buffer), for
//! `valgrind --tool=callgrind` and `perf record`: no criterion machinery in the profile.
//!
//! ```text
//! cargo build --profile bench --example parse_profile
//! valgrind --tool=callgrind target/release/examples/parse_profile FILE [LINES [REPEAT [MODE]]]
//! perf record -e cpu-clock -g target/release/examples/parse_profile FILE all 20
//! ```
//!
//! Reads the first LINES lines (default or `all`: every line) of FILE, decodes them REPEAT
//! times (default 1) as nginx `combined` the way a batch worker does (forced format, a new
//! decoder per pass, 256 KiB chunks) and prints the counts of the last pass. MODE `light`
//! parses the requests of the default internal networks light, as a batch worker does
//! (`ParseOptions::light`); `full` (the default) parses every request in full.

use std::hint::black_box;

use leakline::config::DEFAULT_INTERNAL;
use leakline::ingest::access::AccessFormat;
use leakline::ingest::decoder::{Decoder, DecoderOptions, Visit};
use leakline::model::{ClientFilter, Request, SourceId, SourceKind};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: parse_profile FILE [LINES [REPEAT [MODE]]]");
    let limit = match args.next().as_deref() {
        None | Some("all") => None,
        Some(n) => Some(n.parse::<usize>().expect("LINES: a number or `all`")),
    };
    let repeat: usize = args.next().map_or(1, |n| n.parse().expect("REPEAT: a number"));
    let light = match args.next().as_deref() {
        None | Some("full") => None,
        Some("light") => {
            let nets: Vec<ipnet::IpNet> =
                DEFAULT_INTERNAL.iter().map(|s| s.parse().expect("a network")).collect();
            Some(ClientFilter::from_networks(&nets))
        }
        Some(other) => panic!("MODE: `full` or `light`, not `{other}`"),
    };
    let data = std::fs::read(&path).expect("read FILE");
    let end = limit.map_or(data.len(), |n| {
        memchr::memchr_iter(b'\n', &data).nth(n.saturating_sub(1)).map_or(data.len(), |i| i + 1)
    });
    let data = &data[..end];
    for pass in 1..=repeat {
        decode(data, light.as_ref(), pass == repeat);
    }
}

/// One pass; never inlined, so profiles show its inclusive cost as the cost of the pass.
#[inline(never)]
fn decode(data: &[u8], light: Option<&ClientFilter>, report: bool) {
    let mut opts = DecoderOptions::new(SourceId(0), Some(SourceKind::Access));
    opts.access_format = Some(AccessFormat::Combined);
    opts.access.light = light.cloned();
    let mut decoder = Decoder::new(opts);
    let mut requests = 0_u64;
    let mut checksum = 0_u64;
    let visit = |r: &Request| {
        requests += 1;
        checksum = checksum.wrapping_add(r.time.timestamp() as u64 ^ u64::from(r.status));
    };
    let mut scans = Vec::new();
    let mut sink = Visit::new(visit, &mut scans);
    for chunk in data.chunks(256 * 1024) {
        decoder.feed(chunk, &mut sink);
    }
    decoder.finish(&mut sink);
    let stats = decoder.stats();
    if report {
        println!(
            "lines {} requests {requests} malformed {} checksum {}",
            stats.lines,
            stats.malformed,
            black_box(checksum)
        );
    }
}
