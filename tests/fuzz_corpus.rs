//! The mutation fuzz kept as a test (issue 15): real sample lines (the fixtures under
//! `tests/fixtures/access` and `tests/fixtures/scan`, copied from `shared/samples` with their
//! provenance in each folder's `PROVENANCE.md`) are mutated the way hostile or damaged logs
//! are (flipped bytes, quotes, brackets, commas, escapes, NUL holes, CR-only ends, huge
//! numbers, cut and spliced lines) and fed to every parser, the redactor and the terminal
//! sanitizer. Asserted: no panic, and the invariants below.
//!
//! `cargo test --test fuzz_corpus` runs `DEFAULT_CASES` cases in seconds. The longer run is
//! the same target with more cases (see `bench/README.md`):
//! `LEAKLINE_FUZZ_CASES=200000 LEAKLINE_FUZZ_SEED=7 cargo test --release --test fuzz_corpus`.

use std::io::Read;
use std::path::Path;

use leakline::ingest::access::{self, AccessFormat, ParseOptions};
use leakline::ingest::decoder::{Decoder, DecoderOptions};
use leakline::ingest::scan::ScanFormat;
use leakline::model::{Event, SourceId, SourceKind};
use leakline::redact::{MARKER_PREFIX, RedactionCounts, Redactor};

const DEFAULT_CASES: u64 = 600;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Lines of every fixture (gzip read through), at most 200 per file.
fn corpus() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut lines = Vec::new();
    for dir in ["access", "scan"] {
        let mut files: Vec<_> =
            std::fs::read_dir(root.join(dir)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            if f.extension().is_some_and(|e| e == "md") || !f.is_file() {
                continue;
            }
            let mut bytes = Vec::new();
            leakline::ingest::source::open_content(&f).unwrap().read_to_end(&mut bytes).unwrap();
            lines.extend(bytes.split(|&b| b == b'\n').take(200).map(<[u8]>::to_vec));
        }
    }
    assert!(lines.len() > 1000, "the corpus is the fixtures: {} lines", lines.len());
    lines
}

const JUNK: &[&[u8]] = &[
    b"\"",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b" ",
    b"\t",
    b"\\",
    b"\\x",
    b"\\u00",
    b"%",
    b"%2",
    b"%00",
    b"\0",
    b"\r",
    b"\x1b]52;c;ZXZpbA==\x07",
    b"\x1b[2J",
    b"\xff\xfe",
    b"\xe2\x80\xae",
    b"99999999999999999999999",
    b"-1",
    b"0x",
    b"::",
    b"[::1]:",
    b"x, 203.0.113.66",
    b"unknown",
    b"null",
    b"true",
    b"1e309",
    b"\"\"",
    b"token=",
    b"Bearer ",
    b"Basic ",
    b"://a:b@",
    b"eyJ",
    b"-----BEGIN PRIVATE KEY-----",
    b"<",
    b"/>",
    b"<!--",
    b"]]>",
    b"&#0;",
    b"portid=\"",
];

fn mutate(rng: &mut Rng, corpus: &[Vec<u8>], line: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let at = rng.below(line.len() + 1);
        match rng.below(9) {
            0 if !line.is_empty() => {
                let i = rng.below(line.len());
                line[i] ^= 1 << rng.below(8);
            }
            1 | 2 => {
                let j = JUNK[rng.below(JUNK.len())];
                line.splice(at..at, j.iter().copied());
            }
            3 => {
                let end = (at + rng.below(16)).min(line.len());
                line.drain(at..end);
            }
            4 => line.truncate(at),
            5 => {
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len() + 1);
                line.splice(at..at, other[from..].iter().copied());
            }
            6 => {
                let end = (at + rng.below(32)).min(line.len());
                let piece = line[at..end].to_vec();
                line.splice(at..at, piece);
            }
            7 => {
                let n = rng.below(300);
                line.splice(at..at, std::iter::repeat_n(b'\0', n));
            }
            _ => {
                let i = rng.below(line.len().max(1));
                if let Some(b) = line.get_mut(i) {
                    *b = b'0' + (rng.below(10) as u8);
                }
            }
        }
    }
}

/// Feed `data` whole, and again in random chunks: the stats must agree, and (access) every
/// line is exactly one of event, skipped or malformed.
fn decode(rng: &mut Rng, data: &[u8], opts: &DecoderOptions, access: bool) {
    let run = |cuts: &[usize]| {
        let mut d = Decoder::new(opts.clone());
        let mut events: Vec<Event> = Vec::new();
        let mut from = 0;
        for &c in cuts {
            d.feed(&data[from..c], &mut events);
            from = c;
        }
        d.feed(&data[from..], &mut events);
        d.finish(&mut events);
        for e in &events {
            if let Event::Request(r) = e {
                assert!(r.line >= 1 && r.line <= d.stats().lines, "line number in range");
            }
        }
        (d.stats().clone(), events.len())
    };
    let whole = run(&[]);
    let mut cuts: Vec<usize> = (0..rng.below(5)).map(|_| rng.below(data.len() + 1)).collect();
    cuts.sort_unstable();
    let chunked = run(&cuts);
    let s = &whole.0;
    if access {
        assert_eq!(s.events + s.skipped + s.malformed, s.lines, "one outcome per line: {s:?}");
        assert_eq!(whole.0, chunked.0, "chunking changes nothing");
        assert_eq!(whole.1, chunked.1);
    }
    assert!(s.malformed_samples.len() <= leakline::ingest::stats::MALFORMED_SAMPLES);
    assert!(s.oversized <= s.lines.max(1));
}

#[test]
fn mutated_sample_lines_never_panic_and_keep_the_invariants() {
    let corpus = corpus();
    let cases = env_u64("LEAKLINE_FUZZ_CASES", DEFAULT_CASES);
    let mut rng = Rng(env_u64("LEAKLINE_FUZZ_SEED", 0x9e37_79b9_7f4a_7c15) | 1);
    let redactor = Redactor::new();
    let trusted = vec!["10.0.0.0/8".parse().unwrap()];
    for case in 0..cases {
        let n = 1 + rng.below(12);
        let mut data = Vec::new();
        let mut lines = Vec::new();
        for _ in 0..n {
            let mut line = corpus[rng.below(corpus.len())].clone();
            mutate(&mut rng, &corpus, &mut line);
            data.extend_from_slice(&line);
            data.push(if rng.below(8) == 0 { b'\r' } else { b'\n' });
            lines.push(line);
        }
        // Detection, then every access format forced, then every scan format forced.
        let mut opts = DecoderOptions::new(SourceId(0), None);
        opts.access = ParseOptions { trusted_proxies: trusted.clone(), ..ParseOptions::default() };
        decode(&mut rng, &data, &opts, false);
        let format = AccessFormat::ALL[(case as usize) % AccessFormat::ALL.len()];
        if format != AccessFormat::JsonMapped {
            let mut o = DecoderOptions::new(SourceId(0), Some(SourceKind::Access));
            o.access_format = Some(format);
            o.access = opts.access.clone();
            decode(&mut rng, &data, &o, true);
        }
        let scan = ScanFormat::ALL[(case as usize) % ScanFormat::ALL.len()];
        let mut o = DecoderOptions::new(SourceId(0), Some(SourceKind::Scan));
        o.scan_format = Some(scan);
        decode(&mut rng, &data, &o, false);
        // The redactor and the sanitizer on every mutated line.
        for line in &lines {
            let text = String::from_utf8_lossy(line);
            let mut counts = RedactionCounts::default();
            let once = redactor.redact(&text, &mut counts).into_owned();
            let mut again = RedactionCounts::default();
            assert_eq!(redactor.redact(&once, &mut again), once, "idempotent: {text:?}");
            assert_eq!(again.total(), 0);
            if counts.total() > 0 {
                assert!(once.contains(MARKER_PREFIX));
            }
            let clean = leakline::text::clean(&text);
            assert!(!clean.chars().any(leakline::text::is_unsafe), "{clean:?}");
            let _ = access::resolve_forwarded(None, &text, &trusted);
        }
    }
}
