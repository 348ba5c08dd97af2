//! Lookups against the `MaxMind` test databases in `tests/fixtures/enrich` (expectations from
//! the JSON they were built from), range lists, and every malformed database of the public
//! MaxMind-DB test suite (see `tests/fixtures/enrich/SOURCES.md`).

use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde_json::Value;

use super::*;
use crate::config::RangeSpec;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/enrich").join(name)
}

fn enricher(mmdb: &[&str], ranges: &[(&str, bool)]) -> Enricher {
    let config = EnrichConfig {
        mmdb: mmdb.iter().map(|m| fixture(m)).collect(),
        ranges: ranges
            .iter()
            .map(|(r, scanner)| RangeSpec { path: fixture(r), name: None, scanner: *scanner })
            .collect(),
    };
    Enricher::load(&config).unwrap().unwrap()
}

/// The source JSON as (network, record), and for an address the record of the most
/// specific network containing it (how the database was built).
fn source(name: &str) -> Vec<(IpNet, Value)> {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    let doc: Vec<serde_json::Map<String, Value>> = serde_json::from_str(&text).unwrap();
    doc.into_iter()
        .flat_map(|m| m.into_iter().map(|(k, v)| (k.parse::<IpNet>().unwrap(), v)))
        .collect()
}

fn expected(source: &[(IpNet, Value)], ip: IpAddr) -> Option<&Value> {
    source
        .iter()
        .filter(|(n, _)| n.contains(&ip))
        .max_by_key(|(n, _)| n.prefix_len())
        .map(|(_, v)| v)
}

#[test]
fn every_asn_network_reads_as_its_source_json() {
    let e = enricher(&["GeoLite2-ASN-Test.mmdb"], &[]);
    let src = source("GeoLite2-ASN-Test.json");
    assert_eq!(src.len(), 720);
    for (net, _) in &src {
        for ip in [net.network(), net.broadcast()] {
            let want = expected(&src, ip).unwrap();
            let got = e.lookup(ip).unwrap();
            let asn = got.asn.expect("asn");
            assert_eq!(
                u64::from(asn.number),
                want["autonomous_system_number"].as_u64().unwrap(),
                "{ip}"
            );
            assert_eq!(
                asn.org.as_deref(),
                want.get("autonomous_system_organization").and_then(Value::as_str),
                "{ip}"
            );
            assert!(got.country.is_none() && got.city.is_none() && got.lists.is_empty());
        }
    }
    let one = e.lookup("1.0.0.1".parse().unwrap()).unwrap().asn.unwrap();
    assert_eq!((one.number, one.org.as_deref()), (15169, Some("Google Inc.")));
    assert_eq!(one.label(), "AS15169 Google Inc.");
    assert!(e.lookup("203.0.113.9".parse().unwrap()).unwrap().asn.is_none());
}

#[test]
fn every_country_network_reads_as_its_source_json() {
    let e = enricher(&["GeoLite2-Country-Test.mmdb"], &[]);
    let src = source("GeoLite2-Country-Test.json");
    let mut checked = 0;
    for (net, _) in &src {
        let ip = net.network();
        let want = expected(&src, ip).unwrap();
        let got = e.lookup(ip).unwrap();
        match want.get("country") {
            Some(c) => {
                let country = got.country.unwrap_or_else(|| panic!("{ip}: no country"));
                assert_eq!(country.iso, c["iso_code"].as_str().unwrap(), "{ip}");
                assert_eq!(country.name.as_deref(), c["names"]["en"].as_str(), "{ip}");
                checked += 1;
            }
            // Only a registered country (e.g. anonymous proxies): not where the address is.
            None => assert!(got.country.is_none(), "{ip}"),
        }
    }
    assert!(checked > 200, "{checked}");
}

#[test]
fn city_database_gives_city_subdivision_location_and_country() {
    let e = enricher(&["GeoLite2-City-Test.mmdb"], &[]);
    // From source-data/GeoLite2-City-Test.json of the MaxMind-DB repository.
    let got = e.lookup("81.2.69.160".parse().unwrap()).unwrap();
    let city = got.city.unwrap();
    assert_eq!(city.name.as_deref(), Some("London"));
    assert_eq!(city.subdivision.as_deref(), Some("England"));
    assert_eq!((city.latitude, city.longitude), (Some(51.5142), Some(-0.0931)));
    assert_eq!(city.accuracy_radius_km, Some(100));
    assert_eq!(got.country.unwrap().iso, "GB");
    let got = e.lookup("89.160.20.129".parse().unwrap()).unwrap();
    assert_eq!(got.city.unwrap().name.as_deref(), Some("Linköping"));
    assert_eq!(got.country.unwrap().name.as_deref(), Some("Sweden"));
    // IPv4-mapped IPv6 is its IPv4 address.
    let mapped = e.lookup("::ffff:81.2.69.160".parse().unwrap()).unwrap();
    assert_eq!(mapped.city.unwrap().name.as_deref(), Some("London"));
}

#[test]
fn databases_combine_and_lists_add_membership() {
    let e = enricher(
        &["GeoLite2-ASN-Test.mmdb", "GeoLite2-City-Test.mmdb"],
        &[("aws-ip-ranges.json", false), ("research-scanners.txt", true)],
    );
    let got = e.lookup("89.160.20.129".parse().unwrap()).unwrap();
    assert_eq!(got.asn.unwrap().number, 29518);
    assert_eq!(got.country.unwrap().iso, "SE");
    assert_eq!(
        got.lists,
        [ListHit { name: "research-scanners".into(), service: None, region: None }]
    );
    let got = e.lookup("3.5.140.9".parse().unwrap()).unwrap();
    let services: Vec<_> = got.lists.iter().map(|l| l.service.as_deref()).collect();
    assert_eq!(services, [Some("EC2"), Some("AMAZON")]);
    assert_eq!(got.lists[0].region.as_deref(), Some("ap-northeast-2"));
    assert_eq!(e.scanner_ranges().len(), 1);
    assert_eq!(e.scanner_ranges()[0].name, "research-scanners");
    let kinds: Vec<(&str, &str)> =
        e.sources().iter().map(|s| (s.kind.as_str(), s.name.as_str())).collect();
    assert_eq!(
        kinds,
        [
            ("mmdb", "GeoLite2-ASN"),
            ("mmdb", "GeoLite2-City"),
            ("aws", "aws"),
            ("plain", "research-scanners")
        ]
    );
}

#[test]
fn annotate_looks_each_address_up_once_and_caches() {
    let e = enricher(&["GeoLite2-ASN-Test.mmdb"], &[]);
    let a: IpAddr = "1.0.0.1".parse().unwrap();
    let b: IpAddr = "203.0.113.9".parse().unwrap();
    let first = e.annotate([a, b]);
    assert_eq!(first.actors.len(), 2);
    assert_eq!(first.of(a).unwrap().asn.as_ref().unwrap().number, 15169);
    assert!(first.of(b).unwrap().asn.is_none());
    let second = e.annotate([a]);
    assert!(Arc::ptr_eq(&first.actors[&a], &second.actors[&a]), "cached, not looked up again");
    assert!(first.errors.is_empty() && first.configured());
}

#[test]
fn every_file_kind_is_detected() {
    let cases = [
        ("aws-ip-ranges.json", "aws", "aws"),
        ("google-cloud.json", "google-cloud", "google-cloud"),
        ("azure-service-tags.json", "azure", "azure"),
        ("ips-v4", "cloudflare", "cloudflare"),
        ("ips-v6", "cloudflare", "cloudflare"),
        ("tor-exit-addresses", "tor-exit-addresses", "tor"),
        ("research-scanners.txt", "plain", "research-scanners"),
    ];
    for (file, kind, name) in cases {
        let l = ranges::load(&fixture(file), None).unwrap();
        assert_eq!((l.kind.as_str(), l.name.as_str()), (kind, name), "{file}");
        assert!(!l.entries.is_empty(), "{file}");
    }
    let e = enricher(
        &[],
        &[
            ("google-cloud.json", false),
            ("azure-service-tags.json", false),
            ("ips-v4", false),
            ("ips-v6", false),
            ("tor-exit-addresses", false),
        ],
    );
    let lists = |ip: &str| e.lookup(ip.parse().unwrap()).unwrap().lists;
    let g = lists("34.1.208.10");
    assert_eq!(
        (g[0].name.as_str(), g[0].region.as_deref()),
        ("google-cloud", Some("africa-south1"))
    );
    assert_eq!(g[0].service.as_deref(), Some("Google Cloud"));
    let a = lists("13.69.1.1");
    assert_eq!(a[0].service.as_deref(), Some("AzureCloud.westeurope"));
    assert_eq!(a[0].region.as_deref(), Some("westeurope"));
    assert_eq!(lists("104.16.0.1")[0].name, "cloudflare");
    assert_eq!(lists("2606:4700::1")[0].name, "cloudflare");
    assert_eq!(lists("185.220.101.7")[0].name, "tor");
    assert!(lists("198.51.100.1").is_empty());
}

#[test]
fn configured_name_overrides_the_detected_one() {
    let l = ranges::load(&fixture("research-scanners.txt"), Some("research")).unwrap();
    assert_eq!(l.name, "research");
    assert!(l.entries.iter().all(|(_, h)| h.name == "research"));
}

#[test]
fn missing_truncated_and_corrupt_files_are_errors_naming_the_file() {
    let load = |mmdb: Vec<PathBuf>, ranges: Vec<PathBuf>| {
        Enricher::load(&EnrichConfig {
            mmdb,
            ranges: ranges
                .into_iter()
                .map(|path| RangeSpec { path, name: None, scanner: false })
                .collect(),
        })
        .map(|_| ())
        .unwrap_err()
        .to_string()
    };
    let e = load(vec![fixture("nope.mmdb")], vec![]);
    assert!(e.contains("nope.mmdb: cannot read the MaxMind database"), "{e}");
    let e = load(vec![], vec![fixture("nope.txt")]);
    assert!(e.contains("nope.txt") && e.starts_with("range file"), "{e}");
    // A range file given as a database: no metadata section.
    let e = load(vec![fixture("ips-v4")], vec![]);
    assert!(e.contains("ips-v4: not a usable MaxMind DB"), "{e}");
    // A truncated database: the first half of a good one.
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixture("GeoLite2-City-Test.mmdb")).unwrap();
    let cut = dir.path().join("cut.mmdb");
    std::fs::write(&cut, &good[..good.len() / 2]).unwrap();
    let e = load(vec![cut], vec![]);
    assert!(e.contains("cut.mmdb: not a usable MaxMind DB"), "{e}");
    let empty = dir.path().join("empty.mmdb");
    std::fs::write(&empty, b"").unwrap();
    assert!(
        load(vec![empty], vec![])
            .contains("empty.mmdb: not a usable MaxMind DB (.mmdb) database: the file is empty")
    );
    let trunc = dir.path().join("ip-ranges.json");
    std::fs::write(&trunc, "{\n \"prefixes\": [\n  {\"ip_prefix\": \"3.5.140.0/22\",").unwrap();
    let e = load(vec![], vec![trunc]);
    assert!(e.contains("ip-ranges.json:3: invalid JSON"), "{e}");
}

/// Every database of the suite's `bad-data/` (and its broken test builds) is refused when
/// opened or by the full check, with the file named; lookups on those that open never
/// panic either.
#[test]
fn malformed_databases_of_the_maxmind_suite_are_refused_never_panic() {
    let dir = fixture("bad-data");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 20, "{}", files.len());
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let config = EnrichConfig { mmdb: vec![path.clone()], ranges: Vec::new() };
        let e = match Enricher::load(&config) {
            Err(e) => {
                assert!(e.to_string().contains(name), "{e}");
                continue;
            }
            Ok(e) => e.unwrap(),
        };
        let ips = ["1.1.1.1", "1.1.1.3", "81.2.69.160", "::1:ffff:ffff", "2001:220::1"];
        let out = e.annotate(ips.iter().map(|s| s.parse().unwrap()));
        for err in &out.errors {
            assert!(err.contains(name), "{err}");
        }
        let err = e.verify().expect_err(name).to_string();
        assert!(err.contains(name) && err.contains("full check"), "{err}");
    }
}

/// Ten thousand new addresses at once take the multi-threaded path: same answers, in order.
#[test]
fn a_large_batch_is_looked_up_in_parallel_with_the_same_answers() {
    let e = enricher(&["GeoLite2-ASN-Test.mmdb", "GeoLite2-City-Test.mmdb"], &[("ips-v4", false)]);
    let ips: Vec<IpAddr> = (0..10_000_u32)
        .map(|i| IpAddr::from(std::net::Ipv4Addr::from(i.wrapping_mul(2_654_435_761))))
        .chain(["1.0.0.1", "81.2.69.160", "104.16.0.9"].iter().map(|s| s.parse().unwrap()))
        .collect();
    let all = e.annotate(ips.iter().copied());
    assert_eq!(all.actors.len(), ips.len());
    for ip in &ips {
        assert_eq!(all.of(*ip), Some(&e.lookup(*ip).unwrap()), "{ip}");
    }
    assert_eq!(all.of("1.0.0.1".parse().unwrap()).unwrap().asn.as_ref().unwrap().number, 15169);
    assert_eq!(all.of("104.16.0.9".parse().unwrap()).unwrap().lists[0].name, "cloudflare");
}
