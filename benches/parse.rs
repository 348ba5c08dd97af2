//! Access-log parsing throughput (lines/s on one core).
//!
//! By default the input is generated in memory (deterministic, nginx combined, realistic
//! mix of IPs, paths, statuses and user agents, one timestamp change every few lines). Set
//! `LEAKLINE_BENCH_FILE` to a file (e.g. from `bench/parse.sh`, which uses
//! `shared/bench/gen_access.py`) to parse that instead.
//!
//! Four measurements: `parse_line` alone over pre-split lines, `LineSplitter` over one byte
//! buffer then `parse_line`, the `Decoder` (`feed` to a `Visit` sink in 256 KiB chunks, which also
//! validates UTF-8 a block at a time), which is what ingestion costs, and the decoder as a
//! batch worker runs it, with the requests of internal clients parsed light.
//!
//! Each is measured twice: wall clock (criterion's default) and **CPU time of the benchmark
//! thread** (`/proc/thread-self/schedstat`, nanoseconds on CPU). On a shared machine (the team
//! box has 2 cores and a load average near 10) wall clock mostly measures the other jobs;
//! CPU time is what one core spends per line. Without `/proc` (not Linux) the CPU-time group
//! falls back to wall clock.

use std::hint::black_box;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakline::config::DEFAULT_INTERNAL;
use leakline::ingest::LineSplitter;
use leakline::ingest::access::{
    AccessFormat, AccessParser, LineOutcome, ParseOptions, detect_head,
};
use leakline::ingest::decoder::{Decoder, DecoderOptions, Visit};
use leakline::model::{ClientFilter, Request, SourceId, SourceKind};

const GENERATED_LINES: usize = 200_000;

const PATHS: [&str; 6] = [
    "/v1/chat/completions",
    "/v1/models",
    "/v1/embeddings",
    "/healthz",
    "/static/app.9f3c1.js",
    "/v1/files?purpose=batch&limit=20",
];
const AGENTS: [&str; 4] = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "python-requests/2.31.0",
    "curl/8.7.1",
    "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
];

/// Deterministic combined-format lines (xorshift; no external randomness).
fn generate(n: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::with_capacity(n * 180);
    let mut second = 0u64;
    for i in 0..n {
        if i % 3 == 0 {
            second += 1;
        }
        let rnd = next();
        let (hour, min, sec) = ((second / 3600) % 24, (second / 60) % 60, second % 60);
        let day = 1 + (second / 86_400) % 28;
        let line = format!(
            "{}.{}.{}.{} - - [{day:02}/Nov/2026:{hour:02}:{min:02}:{sec:02} +0000] \"{} {} HTTP/1.1\" {} {} \"-\" \"{}\"\n",
            10 + (rnd & 0x7f),
            (rnd >> 8) & 0xff,
            (rnd >> 16) & 0xff,
            (rnd >> 24) & 0xff,
            if rnd >> 40 & 1 == 0 { "GET" } else { "POST" },
            PATHS[(rnd >> 41) as usize % PATHS.len()],
            [200, 200, 200, 404, 401, 500][(rnd >> 44) as usize % 6],
            (rnd >> 48) & 0xffff,
            AGENTS[(rnd >> 60) as usize % AGENTS.len()],
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

fn input() -> Vec<u8> {
    match std::env::var_os("LEAKLINE_BENCH_FILE") {
        Some(path) => std::fs::read(&path)
            .unwrap_or_else(|e| panic!("LEAKLINE_BENCH_FILE {}: {e}", path.to_string_lossy())),
        // `cargo test --all-targets` runs benches once without `--bench`: keep that quick.
        None if std::env::args().any(|a| a == "--bench") => generate(GENERATED_LINES),
        None => generate(2_000),
    }
}

/// CPU time of the calling thread, in nanoseconds (see the module docs).
struct CpuTime;

fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or_else(|| {
            // No schedstat: wall clock since first use, still monotonic nanoseconds.
            static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
            START.get_or_init(std::time::Instant::now).elapsed().as_nanos() as u64
        })
}

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }

    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }

    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

/// Formats nanoseconds of CPU as `ms cpu` and throughput as `M lines/cpu-s`.
struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, _typical: f64, values: &mut [f64]) -> &'static str {
        for v in values {
            *v /= 1e6;
        }
        "ms cpu"
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let n = match throughput {
            Throughput::Elements(n) | Throughput::Bytes(n) | Throughput::BytesDecimal(n) => {
                *n as f64
            }
            _ => 1.0,
        };
        for v in values {
            *v = n / (*v / 1e9) / 1e6;
        }
        "M lines/cpu-s"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

fn bench_wall(c: &mut Criterion) {
    bench(c, "wall");
}

fn bench_cpu(c: &mut Criterion<CpuTime>) {
    bench(c, "cpu");
}

fn bench<M: Measurement>(c: &mut Criterion<M>, clock: &str) {
    let data = input();
    let format = detect_head(&data[..data.len().min(64 * 1024)]).unwrap_or(AccessFormat::Combined);
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    let mut group = c.benchmark_group(format!("access-{clock}/{}", format.name()));
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.sample_size(20);

    group.bench_function("parse_line", |bencher| {
        let mut parser = AccessParser::new(format, ParseOptions::default());
        let mut req = Request::default();
        bencher.iter(|| {
            let mut events = 0u64;
            for (i, line) in lines.iter().enumerate() {
                if parser.parse_line(line, i as u64, &mut req) == LineOutcome::Request {
                    events += 1;
                }
            }
            black_box(events)
        });
    });

    group.bench_function("split_and_parse", |bencher| {
        let mut parser = AccessParser::new(format, ParseOptions::default());
        let mut req = Request::default();
        bencher.iter(|| {
            let mut splitter = LineSplitter::new();
            let mut events = 0u64;
            for chunk in data.chunks(256 * 1024) {
                splitter.feed(chunk, |line| {
                    if parser.parse_line(line.bytes, line.number, &mut req) == LineOutcome::Request
                    {
                        events += 1;
                    }
                });
            }
            black_box(events)
        });
    });

    // What a batch worker runs: the decoder (splitting, UTF-8 validation per block, parsing)
    // lending each request to a visitor.
    group.bench_function("decoder", |bencher| {
        let mut options = DecoderOptions::new(SourceId(0), Some(SourceKind::Access));
        options.access_format = Some(format);
        bencher.iter(|| black_box(decode_all(&options, &data)));
    });

    // The same with the default internal networks parsed light, as a batch worker reads
    // them (`ParseOptions::light`: their requests are only counted).
    group.bench_function("decoder_light", |bencher| {
        let mut options = DecoderOptions::new(SourceId(0), Some(SourceKind::Access));
        options.access_format = Some(format);
        let internal: Vec<ipnet::IpNet> =
            DEFAULT_INTERNAL.iter().map(|s| s.parse().expect("a network")).collect();
        options.access.light = Some(ClientFilter::from_networks(&internal));
        bencher.iter(|| black_box(decode_all(&options, &data)));
    });
    group.finish();
}

criterion_group!(wall, bench_wall);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(CpuTime);
    targets = bench_cpu
}
criterion_main!(wall, cpu);

/// Requests the decoder lends to a visitor over `data`, fed in 256 KiB chunks as a batch
/// worker feeds it.
fn decode_all(options: &DecoderOptions, data: &[u8]) -> u64 {
    let mut decoder = Decoder::new(options.clone());
    let mut events = 0u64;
    let mut scans = Vec::new();
    let mut sink = Visit::new(|_: &_| events += 1, &mut scans);
    for chunk in data.chunks(256 * 1024) {
        decoder.feed(chunk, &mut sink);
    }
    decoder.finish(&mut sink);
    events
}
