//! A light parse (`ParseOptions::light`: what batch workers ask for the requests of their
//! own clients, which they only count) against a full parse of the same bytes, through the
//! decoder a worker runs: the same requests with the same line numbers, time, client,
//! status and bytes, the same malformed lines with the same reasons, the same source
//! statistics. Lines come from a table of tricky cases, a proptest grammar, and every
//! combined-format sample under `tests/fixtures`.

use std::io::Read as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use leakline::config::DEFAULT_INTERNAL;
use leakline::ingest::SourceStats;
use leakline::ingest::access::{self, AccessFormat, ParseOptions};
use leakline::ingest::decoder::{Decoder, DecoderOptions, Visit};
use leakline::model::{ClientFilter, Request, SourceId, SourceKind};
use proptest::prelude::*;

/// What a light request must still carry: line, time (and its offset), peer, client, status
/// and bytes.
type Counted = (u64, DateTime<Utc>, i32, Option<IpAddr>, Option<IpAddr>, u16, u64);

/// A request as the batch reads it: only counted when its client is ours, else all of it.
#[derive(Debug, PartialEq)]
enum Seen {
    Ours(Counted),
    Other(Box<Request>),
}

/// Decode `data` as combined in chunks of `chunk` bytes (as a batch worker: forced format,
/// lent requests): every request as the batch reads it (`ours` tells), and the statistics.
fn decode(
    data: &[u8],
    access: &ParseOptions,
    ours: &ClientFilter,
    chunk: usize,
) -> (Vec<Seen>, SourceStats) {
    let mut opts = DecoderOptions::new(SourceId(1), Some(SourceKind::Access));
    opts.access_format = Some(AccessFormat::Combined);
    opts.access = access.clone();
    let mut decoder = Decoder::new(opts);
    let mut got = Vec::new();
    let visit = |r: &Request| {
        got.push(match r.client {
            Some(ip) if !ours.is_external(ip) => Seen::Ours((
                r.line,
                r.time,
                r.utc_offset_secs,
                r.peer,
                r.client,
                r.status,
                r.bytes_sent,
            )),
            _ => Seen::Other(Box::new(r.clone())),
        });
    };
    let mut scans = Vec::new();
    let mut sink = Visit::new(visit, &mut scans);
    for c in data.chunks(chunk.max(1)) {
        decoder.feed(c, &mut sink);
    }
    decoder.finish(&mut sink);
    assert!(scans.is_empty());
    (got, decoder.stats().clone())
}

fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

/// The option sets compared: (full, light) pairs differing only in `light`, with and
/// without trusted proxies (whose peers are never light), with the default internal
/// networks and with a filter that holds every address; and the filter.
fn option_sets() -> Vec<(ParseOptions, ParseOptions, ClientFilter)> {
    let filters = [
        ClientFilter::from_networks(&nets(&DEFAULT_INTERNAL)),
        ClientFilter::from_networks(&nets(&["0.0.0.0/0", "::/0"])),
    ];
    let proxies = [vec![], nets(&["10.9.0.0/16", "fd00::9/128"])];
    let mut sets = Vec::new();
    for trusted_proxies in &proxies {
        for filter in &filters {
            let full = ParseOptions {
                trusted_proxies: trusted_proxies.clone(),
                default_tz: chrono_tz::Europe::Berlin,
                ..ParseOptions::default()
            };
            let light = ParseOptions { light: Some(filter.clone()), ..full.clone() };
            sets.push((full, light, filter.clone()));
        }
    }
    sets
}

/// Light and full agree on `data`, read whole and in small chunks.
fn assert_agree(name: &str, data: &[u8]) {
    for (full, light, ours) in option_sets() {
        for chunk in [data.len(), 1000, 37] {
            let want = decode(data, &full, &ours, chunk);
            let got = decode(data, &light, &ours, chunk);
            if got != want {
                let first = want.0.iter().zip(&got.0).find(|(a, b)| a != b);
                panic!(
                    "{name}: light and full parses differ (chunks of {chunk}, trusted {:?})\n\
                     first difference: {first:?}\nfull stats:  {:?}\nlight stats: {:?}",
                    full.trusted_proxies, want.1, got.1
                );
            }
        }
    }
}

/// Lines where a light parse could go wrong: our clients behind trusted proxies (whose
/// client is only known from X-Forwarded-For), IPv4-mapped and IPv6 peers, lines that leave
/// the fast path part-way, malformed lines from our clients, envelopes and prefixes.
const TRICKY: &[&str] = &[
    r#"10.1.2.3 - - [24/Nov/2026:00:00:00 +0000] "GET /health HTTP/1.1" 200 2 "-" "kube-probe/1.29""#,
    r#"203.0.113.7 - - [24/Nov/2026:00:00:01 +0000] "GET /.env HTTP/1.1" 404 9 "-" "curl/8.5.0""#,
    // A trusted proxy in our network: the client is the forwarded address (external here).
    r#"10.9.0.1 - - [24/Nov/2026:00:00:02 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" "203.0.113.5""#,
    r#"10.9.0.1 - - [24/Nov/2026:00:00:02 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" "10.1.1.1, 203.0.113.5""#,
    r#"10.9.0.1 - - [24/Nov/2026:00:00:02 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua" "10.1.1.1""#,
    r#"10.9.0.1 - - [24/Nov/2026:00:00:02 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua""#,
    r#""203.0.113.5" 10.9.0.1 - - [24/Nov/2026:00:00:02 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua""#,
    r#"203.0.113.5, 10.9.0.1 - - [24/Nov/2026:00:00:02 +0000] "GET /a HTTP/1.1" 200 5 "-" "ua""#,
    // An untrusted peer of ours with an X-Forwarded-For: the peer is the client.
    r#"10.1.2.3 - - [24/Nov/2026:00:00:03 +0000] "GET /b HTTP/1.1" 200 5 "-" "ua" "203.0.113.5" 0.002"#,
    r#"::ffff:10.1.2.3 - - [24/Nov/2026:00:00:03 +0000] "GET /c HTTP/1.1" 200 5 "-" "ua""#,
    r#"::ffff:10.9.0.1 - - [24/Nov/2026:00:00:03 +0000] "GET /c HTTP/1.1" 200 5 "-" "ua" "203.0.113.5""#,
    r#"fd00::1 - - [24/Nov/2026:00:00:03 +0000] "GET /c HTTP/1.1" 200 5 "-" "ua""#,
    r#"fd00::9 - - [24/Nov/2026:00:00:03 +0000] "GET /c HTTP/1.1" 200 5 "-" "ua" "2001:db8::5""#,
    r#"2001:db8::5 - - [24/Nov/2026:00:00:03 +0000] "GET /c HTTP/1.1" 200 5 "-" "ua""#,
    r#"intranet.example - - [24/Nov/2026:00:00:03 +0000] "GET /c HTTP/1.1" 200 5 "-" "ua""#,
    // Ours, leaving the fast path part-way: escapes, odd request lines, extras.
    r#"10.1.2.3 - - [24/Nov/2026:00:00:04 +0000] "GET /d HTTP/1.1" 200 5 "-" "say \"hi\"""#,
    r#"10.1.2.3 - - [24/Nov/2026:00:00:04 +0000] "\x16\x03\x01" 400 0 "-" "-""#,
    r#"10.1.2.3 - - [24/Nov/2026:00:00:04 +0000] "GET /a b HTTP/1.1" 400 0 "-" "-""#,
    r#"10.1.2.3 - - [24/Nov/2026:00:00:04 +0000] "GET / HTTP/1.1" 200 - 0.125"#,
    r#"10.1.2.3 - - [24/Nov/2026:00:00:04 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" 42 "r@docker" 12ms"#,
    r#"10.1.2.3 - frank [24/Nov/2026:00:00:04 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    r#"www.example.com 10.1.2.3 - - [24/Nov/2026:00:00:04 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    // Ours, malformed: each must keep its reason and line number.
    r#"10.1.2.3 - - [24/Nov/2026:00:00:05 +0000] "GET / HTTP/1.1" 20a 1 "-" "ua""#,
    r#"10.1.2.3 - - [24/Nov/2026:00:00:05 +0000] "GET / HTTP/1.1" 200 1.5"#,
    r#"10.1.2.3 - - [24/Nov/2026:00:00:05 +0000] "GET / HTTP/1.1" 200 1 "-" "ua"#,
    r#"10.1.2.3 - - [24/Nov/2026:00:00:05 +0000] "GET / HTTP/1.1" 200 1 "-" ua"#,
    r#"10.1.2.3 - - [24/Nov/2026:00:00:05 +0000] "GET / HTTP/1.1" 200 1 "-" "ua"x"#,
    r#"10.1.2.3 - - [24/Nov/2026:00:00:61 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    r#"10.1.2.3 - - [24/Nov/2026:00:00:05 +0000 "GET / HTTP/1.1" 200 1 "-" "ua""#,
    r#"10.1.2.3 - - [24/Nov/2026:00:00:05 +0000] "GET / HTTP/1.1"#,
    "10.1.2.3 - - [24/Nov/2026:00:00:05 +0000]",
    // Times out of order, other offsets: first and last event are min and max.
    r#"10.1.2.3 - - [23/Nov/2026:23:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    r#"10.1.2.3 - - [25/Nov/2026:03:00:00 +0530] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    r#"10.1.2.3 - - [25/Nov/2026:03:00:00] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    // Transport wrapping, comments, blank lines.
    r#"{"log":"10.1.2.3 - - [24/Nov/2026:00:00:06 +0000] \"GET /e HTTP/1.1\" 200 1 \"-\" \"ua\"\n","stream":"stdout"}"#,
    r#"{"log":"10.1.2.3 - - [24/Nov/2026:00:00:06 +0000] \"GET /e HTTP/1.1\" 2x0 1 \"-\" \"ua\"\n"}"#,
    r#"web-1  | 10.1.2.3 - - [24/Nov/2026:00:00:06 +0000] "GET /f HTTP/1.1" 200 1 "-" "ua""#,
    "# a comment",
    "",
    "   ",
    "not an access log line",
];

#[test]
fn tricky_lines_agree() {
    let mut data = TRICKY.join("\n").into_bytes();
    assert_agree("tricky lines", &data);
    // Invalid UTF-8 and CRLF, in lines of ours.
    data.extend_from_slice(b"\n10.1.2.3 - - [24/Nov/2026:00:00:07 +0000] \"GET /\xff HTTP/1.1\" 200 1 \"-\" \"u\xfe\"\r\n");
    data.extend_from_slice(
        b"10.1.2.3 \xff - [24/Nov/2026:00:00:07 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\n",
    );
    assert_agree("tricky lines with invalid UTF-8", &data);
    // Each line on its own as well (the time cache starts cold).
    for line in TRICKY {
        assert_agree(line, line.as_bytes());
    }
}

/// Every access sample under `tests/fixtures` (plain or gzip), as bytes.
fn samples() -> Vec<(PathBuf, Vec<u8>)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
                continue;
            }
            let mut bytes = std::fs::read(&path).unwrap();
            if path.extension().is_some_and(|e| e == "gz") {
                let mut plain = Vec::new();
                flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut plain).unwrap();
                bytes = plain;
            }
            out.push((path, bytes));
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"), &mut out);
    out
}

#[test]
fn every_combined_sample_agrees() {
    let mut seen = Vec::new();
    for (path, bytes) in samples() {
        // As `analyze` decides: the format detected from the head of the file.
        if access::detect_first(&bytes, 16) != Some(AccessFormat::Combined) {
            continue;
        }
        assert_agree(&path.display().to_string(), &bytes);
        seen.push(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    for name in ["apache_logs.gz", "logfile_shop_access_log.0", "access.log", "access.log.2.gz"] {
        assert!(seen.iter().any(|s| s == name), "{name} not among the samples read: {seen:?}");
    }
}

/// One piece of a line: the usual text or one of its deviations.
fn piece(usual: &'static str, others: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        2 => Just(usual.to_owned()),
        1 => proptest::sample::select(others).prop_map(str::to_owned),
    ]
    .boxed()
}

fn line_strategy() -> impl Strategy<Value = String> {
    let peer = piece(
        "10.1.2.3",
        &[
            "203.0.113.7",
            "10.9.0.1",
            "::ffff:10.1.2.3",
            "::ffff:10.9.0.1",
            "fd00::1",
            "fd00::9",
            "2001:db8::5",
            "192.168.1.1",
            "host.example",
            "\"203.0.113.5\" 10.9.0.1",
            "203.0.113.5, 10.9.0.1",
            "01.2.3.4",
            "",
        ],
    );
    let ident_user = piece(" - - ", &[" - frank ", "  - - ", " - "]);
    let time = piece(
        "[24/Nov/2026:00:00:00 +0000]",
        &[
            "[24/Nov/2026:01:02:03 +0000]",
            "[23/Nov/2026:23:59:59 -0130]",
            "[24/Nov/2026:00:00:00]",
            "[]",
        ],
    );
    let request = piece(
        "\"GET /v1/models HTTP/1.1\"",
        &[
            "\"POST /a?b=1 HTTP/1.0\"",
            "\"-\"",
            "\"GET /a b HTTP/1.1\"",
            "\"GET /\\x41 HTTP/1.1\"",
            "\"GET / HTTP/1.1",
        ],
    );
    let status_bytes = piece(" 200 784", &[" 404 -", " 20a 1", " 200 1.5", " 200", " 200 12\"x\""]);
    let tail = piece(
        " \"-\" \"Go-http-client/1.1\"",
        &[
            "",
            " \"-\" \"ua\" \"203.0.113.5\"",
            " \"-\" \"ua\" \"10.1.1.1, 203.0.113.5\" 0.5",
            " \"-\" \"ua\" \"2001:db8::7\"",
            " \"-\" \"u\\\"a\"",
            " \"-\" \"ua",
            " \"-\" ua",
            " 0.003",
        ],
    );
    (peer, ident_user, time, request, status_bytes, tail)
        .prop_map(|(p, iu, t, r, sb, tail)| format!("{p}{iu}{t} {r}{sb}{tail}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn generated_lines_agree(lines in proptest::collection::vec(line_strategy(), 1..12)) {
        assert_agree("generated lines", lines.join("\n").as_bytes());
    }
}
