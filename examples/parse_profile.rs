//! Profiling harness for the batch access path (`Decoder::feed_visit` over one buffer), for
//! `valgrind --tool=callgrind` and `perf record`: no criterion machinery in the profile.
//!
//! ```text
//! cargo build --profile bench --example parse_profile
//! valgrind --tool=callgrind target/release/examples/parse_profile FILE [LINES]
//! ```
//!
//! Reads the first LINES lines (default all) of FILE, decodes them as nginx `combined` the way
//! a batch worker does (forced format, 256 KiB chunks) and prints the request count.

use std::hint::black_box;

use leakline::ingest::access::AccessFormat;
use leakline::ingest::decoder::{Decoder, DecoderOptions};
use leakline::model::{Request, SourceId, SourceKind};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: parse_profile FILE [LINES]");
    let limit: usize = args.next().map_or(usize::MAX, |n| n.parse().expect("LINES: a number"));
    let data = std::fs::read(&path).expect("read FILE");
    let end = memchr::memchr_iter(b'\n', &data)
        .nth(limit.saturating_sub(1))
        .map_or(data.len(), |i| i + 1);
    let data = &data[..end];

    let mut opts = DecoderOptions::new(SourceId(0), Some(SourceKind::Access));
    opts.access_format = Some(AccessFormat::Combined);
    let mut decoder = Decoder::new(opts);
    let mut requests = 0_u64;
    let mut checksum = 0_u64;
    let mut visit = |r: &Request| {
        requests += 1;
        checksum = checksum.wrapping_add(r.time.timestamp() as u64 ^ u64::from(r.status));
    };
    let mut scans = Vec::new();
    for chunk in data.chunks(256 * 1024) {
        decoder.feed_visit(chunk, &mut visit, &mut scans);
    }
    decoder.finish_visit(&mut visit, &mut scans);
    let stats = decoder.stats();
    println!(
        "lines {} requests {requests} malformed {} checksum {}",
        stats.lines,
        stats.malformed,
        black_box(checksum)
    );
}
