//! Scan results say only what the scanner saw (issue 13), end to end through `leakline
//! analyze`: ambiguous nmap states, down hosts as one observation, host liveness, nuclei
//! findings without a port, and scan files whose last line has no newline. Fixtures:
//! `tests/fixtures/scan_evidence` and `tests/fixtures/scan/synthetic` (hand-written, see
//! `tests/fixtures/scan/PROVENANCE.md`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn leakline() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("leakline").unwrap()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn analyze_json(args: &[&str], paths: &[PathBuf]) -> Value {
    let mut cmd = leakline();
    cmd.args(["analyze", "--format", "json"]).args(args);
    for p in paths {
        cmd.arg(p);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn config(name: &str) -> Value {
    analyze_json(&["--config"], &[fixtures().join("scan_evidence").join(name)])
}

fn service<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["services"].as_array().unwrap().iter().find(|s| s["name"] == name).expect(name)
}

fn bounds(service: &Value) -> Vec<(Value, Value)> {
    let windows = service["windows"].as_array().unwrap();
    windows.iter().map(|w| (w["opened_latest"].clone(), w["closed_latest"].clone())).collect()
}

#[test]
fn open_filtered_between_two_requests_keeps_one_window_and_filtered_splits_it() {
    // Requests at 10:00 and 10:30; the scan at 10:15 says `open|filtered` …
    let doc = config("open_filtered.toml");
    let api = service(&doc, "api");
    assert_eq!(bounds(api), [("2026-11-03T10:00:00Z".into(), Value::Null)], "{api}");
    let scan = &doc["sources"][0];
    assert_eq!(scan["scan_states"], serde_json::json!({"ambiguous": 1}));
    // … or `filtered` (negative evidence): two windows, split at 10:15.
    let doc = config("filtered.toml");
    let api = service(&doc, "api");
    assert_eq!(
        bounds(api),
        [
            ("2026-11-03T10:00:00Z".into(), "2026-11-03T10:15:00Z".into()),
            ("2026-11-03T10:30:00Z".into(), Value::Null)
        ],
        "{api}"
    );
    // The text output says what the ambiguous observation was.
    let out = leakline()
        .args(["analyze", "--config"])
        .arg(fixtures().join("scan_evidence/open_filtered.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("1 ambiguous (the scanner could not tell): neither positive nor negative"),
        "{text}"
    );
}

#[test]
fn a_down_host_is_negative_evidence_only_for_covered_ports() {
    let doc = config("down.toml");
    // Port 443 was in the scan's port list: the down host at 10:15 splits the window.
    assert_eq!(bounds(service(&doc, "covered")).len(), 2);
    // Port 9999 was not scanned: the down host says nothing about it.
    assert_eq!(bounds(service(&doc, "not-covered")).len(), 1);
    let scan = &doc["sources"][0];
    assert_eq!(scan["events"], 2, "one observation per down host");
    // 192.0.2.61 is down and matches no service: counted, never a service.
    assert_eq!(scan["unmatched_targets"], serde_json::json!({"targets": 1, "observations": 1}));
    assert_eq!(doc["services"].as_array().unwrap().len(), 2);
}

#[test]
fn four_thousand_down_hosts_are_four_thousand_observations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sweep.xml");
    let mut xml = String::from(
        "<?xml version=\"1.0\"?>\n<nmaprun scanner=\"nmap\" args=\"nmap -v -p- 10.9.0.0/20\" \
         start=\"1793700000\" version=\"7.94\">\n\
         <scaninfo type=\"syn\" protocol=\"tcp\" numservices=\"65535\" services=\"1-65535\"/>\n\
         <scaninfo type=\"udp\" protocol=\"udp\" numservices=\"1000\" services=\"1-1000\"/>\n",
    );
    for i in 0..4096u32 {
        let _ = writeln!(
            xml,
            "<host><status state=\"down\" reason=\"no-response\" reason_ttl=\"0\"/>\
             <address addr=\"10.9.{}.{}\" addrtype=\"ipv4\"/></host>",
            i / 256,
            i % 256
        );
    }
    xml.push_str("<host starttime=\"1793700100\" endtime=\"1793700200\"><status state=\"up\"/>\
        <address addr=\"10.9.16.1\" addrtype=\"ipv4\"/><ports><port protocol=\"tcp\" portid=\"443\">\
        <state state=\"open\"/></port></ports></host>\n");
    xml.push_str("<runstats><finished time=\"1793700900\"/></runstats>\n</nmaprun>\n");
    std::fs::write(&path, xml).unwrap();
    let doc = analyze_json(&["--scan"], &[path]);
    let scan = &doc["sources"][0];
    // 4 096 down hosts × 66 535 covered ports would be 272 M observations; it is one each.
    assert_eq!(scan["events"], 4096 + 1);
    assert_eq!(scan["scan_states"], serde_json::json!({"open": 1, "unreachable": 4096}));
    assert_eq!(
        scan["unmatched_targets"],
        serde_json::json!({"targets": 4096, "observations": 4096})
    );
    let names: Vec<&str> =
        doc["services"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["10.9.16.1:443"]);
}

#[test]
fn masscan_icmp_replies_never_become_a_port_zero_service() {
    let synthetic = fixtures().join("scan/synthetic");
    for file in [
        "masscan_icmp.txt",
        "masscan_icmp.json",
        "masscan_icmp.ndjson",
        "masscan_icmp.gnmap",
        "masscan_icmp.xml",
    ] {
        let doc = analyze_json(&["--scan"], &[synthetic.join(file)]);
        let names: Vec<&str> = doc["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["192.0.2.8:443"], "{file}");
        assert_eq!(doc["sources"][0]["events"], 1, "{file}");
    }
}

#[test]
fn nuclei_findings_attach_by_port_and_host_name_only() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("leakline.toml");
    let findings = fixtures().join("scan/synthetic/nuclei_dns_ssl.jsonl");
    std::fs::write(
        &cfg,
        format!(
            "name = \"nuclei\"\n[[service]]\nname = \"web\"\naddresses = [\"www.example.net:443\"]\n\
             [[scans]]\npaths = [{:?}]\nvantage = \"external\"\n",
            findings.display().to_string()
        ),
    )
    .unwrap();
    let doc = analyze_json(&["--config"], &[cfg]);
    let names: Vec<&str> =
        doc["services"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    // `web` is opened by the ssl finding on 443 (10:15:01), not by the dns finding (10:15:00)
    // nor the port-less ssl finding; `api.example.net:443` names no address and no service
    // lists it: not a service of its own; the network finding on 192.0.2.71:22 is one.
    assert_eq!(names, ["web", "192.0.2.71:22"]);
    let web = service(&doc, "web");
    assert_eq!(bounds(web), [("2026-11-03T10:15:01Z".into(), Value::Null)], "{web}");
    let scan = &doc["sources"][0];
    assert_eq!(scan["scan_states"], serde_json::json!({"host_finding": 2, "open": 3}), "{scan}");
    assert_eq!(scan["unmatched_targets"], serde_json::json!({"targets": 1, "observations": 1}));
}

#[test]
fn a_last_line_without_newline_is_counted_in_scan_sources() {
    let synthetic = fixtures().join("scan/synthetic");
    let doc = analyze_json(&["--scan"], &[synthetic.join("nuclei_no_final_newline.jsonl")]);
    let src = &doc["sources"][0];
    assert_eq!((src["lines"].as_u64(), src["events"].as_u64()), (Some(1), Some(1)), "{src}");
    let doc = analyze_json(&["--scan"], &[synthetic.join("masscan_list_no_final_newline.txt")]);
    let src = &doc["sources"][0];
    assert_eq!((src["lines"].as_u64(), src["events"].as_u64()), (Some(3), Some(1)), "{src}");
    assert_eq!(src["incomplete"], false, "the `# end` footer was read: {src}");
}

/// A down host applies to a `host:port` service created later from an `open` observation of a
/// covered port, and stops counting as unmatched, whatever the arrival order.
#[test]
fn a_down_host_reaches_target_services_in_any_order() {
    use leakline::config::{Vantage, parse_str};
    use leakline::correlate::{Correlator, SourceInfo};
    use leakline::model::{
        CoveredPorts, PortRange, PortState, ScanObservation, ScanTool, SourceId, SourceKind,
        Transport,
    };
    let at =
        |m: u32| chrono::DateTime::from_timestamp(1_793_700_000 + i64::from(m) * 60, 0).unwrap();
    let obs = |source: u32, m: u32, port: Option<u16>, state: PortState| ScanObservation {
        time: at(m),
        source: SourceId(source),
        line: m.into(),
        address: Some("192.0.2.60".parse().unwrap()),
        hostname: String::new(),
        port,
        transport: Transport::Tcp,
        state,
        scanner_state: None,
        covered: None,
        tool: ScanTool::Nmap,
        details: String::new(),
    };
    let range = |first, last| PortRange { transport: Transport::Tcp, first, last };
    let down = ScanObservation {
        covered: Some(CoveredPorts(vec![range(22, 22), range(80, 80), range(443, 443)].into())),
        ..obs(0, 15, None, PortState::Unreachable)
    };
    let events = [
        down,
        obs(1, 0, Some(443), PortState::Open),
        obs(1, 30, Some(443), PortState::Open),
        obs(1, 5, Some(8080), PortState::Open),
        obs(1, 35, Some(8080), PortState::Open),
    ];
    let toml = "name = \"x\"\n[[service]]\nname = \"other\"\naddresses = [\"192.0.2.99:1\"]\n";
    let cfg = parse_str(toml, Path::new("x.toml"), Path::new(".")).unwrap();
    let run = |order: &[usize]| {
        let mut c = Correlator::new(cfg.clone());
        for path in ["down.xml", "masscan.txt"] {
            c.add_source(SourceInfo {
                path: path.into(),
                kind: SourceKind::Scan,
                format: "test".into(),
                service: String::new(),
                vantage: Vantage::External,
            });
        }
        for &i in order {
            c.apply_scan(&events[i]);
        }
        let snap = c.snapshot(at(60));
        let services: Vec<(String, usize)> = snap
            .services
            .iter()
            .filter(|s| s.name != "other")
            .map(|s| (s.name.clone(), s.windows.len()))
            .collect();
        (services, snap.sources[0].unmatched)
    };
    let want = run(&[0, 1, 2, 3, 4]);
    assert_eq!(
        want.0,
        [("192.0.2.60:443".to_owned(), 2), ("192.0.2.60:8080".to_owned(), 1)],
        "the down host splits :443 (covered), not :8080"
    );
    assert_eq!((want.1.targets, want.1.observations), (0, 0), "it matched a service");
    for order in [[1, 2, 3, 4, 0], [3, 1, 0, 4, 2], [4, 3, 2, 0, 1]] {
        assert_eq!(run(&order), want, "order {order:?}");
    }
}
