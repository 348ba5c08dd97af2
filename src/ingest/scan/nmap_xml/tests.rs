//! Unit tests of the nmap XML parser on hand-written documents.

use super::*;
use crate::ingest::scan::ScanOptions;
use crate::model::SourceId;

const DOC: &str = r#"<?xml version="1.0"?>
<nmaprun scanner="nmap" start="1000">
<scaninfo type="syn" protocol="tcp" numservices="3" services="22,80-81"/>
<hosthint><status state="up"/><address addr="10.0.0.9" addrtype="ipv4"/></hosthint>
<host starttime="1100" endtime="1200"><status state="up"/>
<address addr="00:11:22:33:44:55" addrtype="mac"/>
<address addr="2001:DB8:0:0::1" addrtype="ipv6"/><address addr="10.0.0.1" addrtype="ipv4"/>
<hostnames><hostname name="Web.Example.&#45;net" type="user"/><hostname name="ptr.example" type="PTR"/></hostnames>
<ports><extraports state="closed" count="1"/>
<port protocol="tcp" portid="80"><state state="open"/><service name="http" product="A &quot;B&quot;" tunnel="ssl"/><script id="x" output="&lt;port&gt;"/></port>
<port protocol="tcp" portid="81"><state state="unfiltered"/></port>
</ports></host>
<host><status state="down"/><address addr="10.0.0.2"/></host>
<runstats><finished time="1500"/></runstats>
</nmaprun>
"#;

fn run(doc: &str) -> (Vec<ScanObservation>, Cx, NmapXml) {
    let mut cx = Cx::new(SourceId(1), ScanOptions::default());
    let mut parser = NmapXml::new();
    let mut out = Vec::new();
    parser.feed(doc.as_bytes(), &mut cx, &mut out);
    parser.finish(&mut cx, &mut out);
    (out, cx, parser)
}

#[test]
fn first_ip_first_hostname_entities_and_unmapped_states() {
    let (out, cx, parser) = run(DOC);
    let up = &out[0];
    assert_eq!(up.address.map(|a| a.to_string()).as_deref(), Some("2001:db8::1"));
    assert_eq!(up.hostname, "web.example.-net");
    assert_eq!((up.port, up.line, up.time.timestamp()), (Some(80), 5, 1200));
    assert_eq!(up.details, r#"ssl/http A "B""#);
    let down: Vec<_> = out[1..].iter().map(|o| (o.port, o.state, o.time.timestamp())).collect();
    let want = [22, 80, 81].map(|p| (Some(p), PortState::Unreachable, 1500));
    assert_eq!(down, want);
    assert_eq!(cx.summary().hosts, 2);
    assert_eq!(cx.summary().extraports, vec![("closed".to_owned(), 1)]);
    let notes = parser.notes();
    assert!(notes.iter().any(|n| n.contains("1 ports in state `unfiltered`")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("1 hosts had several addresses")), "{notes:?}");
}

#[test]
fn down_hosts_over_a_huge_port_range_are_one_observation() {
    let doc = DOC.replace("22,80-81", "1-65535");
    let (out, _, parser) = run(&doc);
    let down: Vec<_> = out.iter().filter(|o| o.state == PortState::Unreachable).collect();
    assert_eq!(down.len(), 1);
    assert_eq!(down[0].port, None);
    assert!(parser.notes().iter().any(|n| n.contains("down hosts recorded once")));
}

#[test]
fn hosts_without_times_wait_for_finished() {
    let cut = DOC.find("<runstats>").unwrap();
    let mut cx = Cx::new(SourceId(1), ScanOptions::default());
    let mut parser = NmapXml::new();
    let mut out = Vec::new();
    parser.feed(&DOC.as_bytes()[..cut], &mut cx, &mut out);
    assert_eq!(out.len(), 1, "only the host with its own times is out");
    parser.feed(&DOC.as_bytes()[cut..], &mut cx, &mut out);
    assert_eq!(out.len(), 4);
    assert!(!cx.summary().incomplete);
}

#[test]
fn appended_runs_start_clean_and_unclosed_hosts_are_counted() {
    // First run interrupted (no runstats), a second run appended by --append-output.
    let cut = DOC.find("<runstats>").unwrap();
    let second = DOC.replace("start=\"1000\"", "start=\"2000\"").replace("22,80-81", "443");
    let broken = "<nmaprun start=\"3000\"><host starttime=\"3100\"><status state=\"up\"/>\n";
    let doc = format!("{}{}{}", &DOC[..cut], second, broken);
    let (out, cx, _) = run(&doc);
    // Run 1: the down host (no times, no runstats) gets that run's start, one per port.
    let run1: Vec<_> = out.iter().filter(|o| o.time.timestamp() == 1000).collect();
    assert_eq!(run1.len(), 3);
    // Run 2: its own scaninfo (one port) and finished time.
    let run2: Vec<_> =
        out.iter().filter(|o| o.time.timestamp() == 1500 && o.port == Some(443)).collect();
    assert_eq!(run2.len(), 1);
    assert!(cx.summary().incomplete, "the third run never ended");
    let doc = DOC.replace("</ports></host>", "</ports>");
    let (_, cx, _) = run(&doc);
    assert_eq!(cx.summary().malformed, 1);
    assert!(cx.summary().malformed_samples[0].1.contains("not closed"));
}

#[test]
fn garbage_markup_is_skipped_while_live_and_a_cut_at_eof_is_not_malformed() {
    let doc = DOC.replace("<runstats>", "<!X garbage>\n<runstats>");
    let mut cx = Cx::new(SourceId(1), ScanOptions::default());
    let mut parser = NmapXml::new();
    let mut out = Vec::new();
    parser.feed(doc.as_bytes(), &mut cx, &mut out);
    // Without finish(): the garbage did not stall the live parser before <finished>.
    assert_eq!(out.len(), 4);
    assert_eq!(cx.summary().malformed, 1);
    let cut = DOC.find("<address addr=\"10.0.0.2\"").unwrap() + 10;
    let (out, cx, _) = run(&DOC[..cut]);
    assert_eq!(out.len(), 1);
    assert_eq!((cx.summary().malformed, cx.summary().incomplete), (0, true));
}
