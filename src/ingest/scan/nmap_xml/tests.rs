//! Unit tests of the nmap XML parser on hand-written documents.

use super::*;
use crate::ingest::scan::ScanOptions;
use crate::model::{CoveredPorts, ScannerState, SourceId};

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
    let ambiguous = &out[1];
    assert_eq!((ambiguous.port, ambiguous.state), (Some(81), PortState::Ambiguous));
    assert_eq!(ambiguous.scanner_state.map(ScannerState::as_str), Some("unfiltered"));
    // The down host: one observation standing for every covered port.
    assert_eq!(out.len(), 3);
    let down = &out[2];
    assert_eq!(
        (down.port, down.state, down.time.timestamp()),
        (None, PortState::Unreachable, 1500)
    );
    let covered = down.covered.as_ref().expect("covered ports");
    assert_eq!(covered.count(), 3);
    assert!(covered.contains(22) && covered.contains(81) && !covered.contains(443));
    assert_eq!(cx.summary().hosts, 2);
    assert_eq!(cx.summary().extraports, vec![("closed".to_owned(), 1)]);
    let notes = parser.notes();
    assert!(notes.iter().any(|n| n.contains("1 hosts had several addresses")), "{notes:?}");
}

#[test]
fn down_hosts_over_a_huge_port_range_are_one_observation() {
    let doc = DOC.replace("22,80-81", "1-65535");
    let (out, _, _) = run(&doc);
    let down: Vec<_> = out.iter().filter(|o| o.state == PortState::Unreachable).collect();
    assert_eq!(down.len(), 1);
    assert_eq!(down[0].port, None);
    assert_eq!(down[0].covered.as_ref().map(CoveredPorts::count), Some(65535));
    // Without scaninfo, the command line's `-p` is the port list; without either, none.
    let doc = DOC
        .replace(
            "<scaninfo type=\"syn\" protocol=\"tcp\" numservices=\"3\" services=\"22,80-81\"/>",
            "",
        )
        .replace("start=\"1000\"", "start=\"1000\" args=\"nmap -v -p 443,8443 10.0.0.0/30\"");
    let (out, _, _) = run(&doc);
    let down = out.iter().find(|o| o.state == PortState::Unreachable).unwrap();
    assert_eq!(down.covered.as_ref().map(CoveredPorts::count), Some(2));
    let doc = DOC.replace(" services=\"22,80-81\"", "");
    let (out, _, parser) = run(&doc);
    let down = out.iter().find(|o| o.state == PortState::Unreachable).unwrap();
    assert_eq!(down.covered, None);
    assert!(
        parser.notes().iter().any(|n| n.contains("without a port list")),
        "{:?}",
        parser.notes()
    );
}

#[test]
fn hosts_without_times_wait_for_finished() {
    let cut = DOC.find("<runstats>").unwrap();
    let mut cx = Cx::new(SourceId(1), ScanOptions::default());
    let mut parser = NmapXml::new();
    let mut out = Vec::new();
    parser.feed(&DOC.as_bytes()[..cut], &mut cx, &mut out);
    assert_eq!(out.len(), 2, "only the host with its own times is out");
    parser.feed(&DOC.as_bytes()[cut..], &mut cx, &mut out);
    assert_eq!(out.len(), 3);
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
    // Run 1: the down host (no times, no runstats) gets that run's start.
    let run1: Vec<_> = out.iter().filter(|o| o.time.timestamp() == 1000).collect();
    assert_eq!(run1.len(), 1);
    assert_eq!(run1[0].covered.as_ref().map(CoveredPorts::count), Some(3));
    // Run 2: its own scaninfo (one port) and finished time.
    let run2: Vec<_> = out
        .iter()
        .filter(|o| {
            o.time.timestamp() == 1500 && o.covered.as_ref().is_some_and(|c| c.contains(443))
        })
        .collect();
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
    assert_eq!(out.len(), 3);
    assert_eq!(cx.summary().malformed, 1);
    let cut = DOC.find("<address addr=\"10.0.0.2\"").unwrap() + 10;
    let (out, cx, _) = run(&DOC[..cut]);
    assert_eq!(out.len(), 2);
    assert_eq!((cx.summary().malformed, cx.summary().incomplete), (0, true));
}

#[test]
fn invalid_port_ids_are_malformed_lines_naming_the_field() {
    for bad in ["99999", "abc", ""] {
        let doc = DOC.replace("portid=\"80\"", &format!("portid=\"{bad}\""));
        let (out, cx, _) = run(&doc);
        assert!(out.iter().all(|o| o.port.is_some() || o.state == PortState::Unreachable), "{bad}");
        assert!(!out.iter().any(|o| o.state == PortState::Open), "{bad}: no open port invented");
        assert_eq!(cx.summary().malformed, 1, "{bad}");
        let (line, reason) = &cx.summary().malformed_samples[0];
        assert_eq!(*line, 10, "{bad}: {reason}");
        assert!(reason.contains("port@portid") && reason.contains(&format!("`{bad}`")), "{reason}");
    }
}

#[test]
fn masscan_xml_icmp_is_host_liveness() {
    let doc = r#"<?xml version="1.0"?>
<nmaprun scanner="masscan" start="1000" version="1.0-BETA" xmloutputversion="1.03">
<scaninfo type="syn" protocol="tcp" />
<host endtime="1001"><address addr="192.0.2.7" addrtype="ipv4"/><ports><port protocol="icmp" portid="0"><state state="open" reason="none" reason_ttl="54"/></port></ports></host>
<host endtime="1002"><address addr="192.0.2.8" addrtype="ipv4"/><ports><port protocol="tcp" portid="443"><state state="open" reason="syn-ack" reason_ttl="54"/></port></ports></host>
<runstats><finished time="1003" timestr="x" elapsed="3" /><hosts up="2" down="0" total="2" /></runstats>
</nmaprun>
"#;
    let (out, cx, parser) = run(doc);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].port, Some(443));
    assert_eq!(cx.summary().hosts, 2, "the ICMP host is counted");
    assert!(parser.notes().iter().any(|n| n.contains("host liveness")));
}
