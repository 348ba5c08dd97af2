//! Offline enrichment through the binary (issue 20): `leakline enrich`, `analyze` with
//! `--mmdb` / `--ranges` and `[enrich]` (JSON fields, reports, scanner-class lists),
//! `inspect --mmdb`, and the configuration errors (exit 2) for missing, truncated and
//! corrupt files. Databases and lists: `tests/fixtures/enrich` (see its SOURCES.md);
//! expected values quote the `MaxMind` source JSON.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/enrich")
}

fn leakline(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("leakline").unwrap();
    c.current_dir(dir);
    c
}

/// A combined log with one request from each of: Google's AS15169 (1.0.0.1), London in the
/// City database (81.2.69.160), Bredband2 in Linköping (89.160.20.129, also in the
/// research-scanners list), AWS EC2 (3.5.140.9), a Tor exit (185.220.101.7), and an address
/// nothing knows (198.51.100.9). Bytes differ so the actor order is fixed.
fn case_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = [
        ("1.0.0.1", 60_000),
        ("81.2.69.160", 50_000),
        ("89.160.20.129", 40_000),
        ("3.5.140.9", 30_000),
        ("185.220.101.7", 20_000),
        ("198.51.100.9", 10_000),
    ]
    .iter()
    .enumerate()
    .map(|(i, (ip, bytes))| {
        format!(
            "{ip} - - [03/Nov/2026:11:4{i}:10 +0000] \"GET /v1/models HTTP/1.1\" 200 {bytes} \"-\" \"curl/8.5.0\""
        )
    })
    .collect();
    std::fs::write(dir.path().join("api.log"), lines.join("\n") + "\n").unwrap();
    for f in [
        "GeoLite2-ASN-Test.mmdb",
        "GeoLite2-City-Test.mmdb",
        "aws-ip-ranges.json",
        "tor-exit-addresses",
        "research-scanners.txt",
    ] {
        std::fs::copy(fixtures().join(f), dir.path().join(f)).unwrap();
    }
    dir
}

fn analyze_json(dir: &Path, args: &[&str]) -> Value {
    let out = leakline(dir).args(["analyze", "--format", "json"]).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn actor<'a>(doc: &'a Value, client: &str) -> &'a Value {
    doc["actors"].as_array().unwrap().iter().find(|a| a["client"] == client).unwrap()
}

#[test]
fn analyze_actors_carry_asn_country_city_and_lists() {
    let dir = case_dir();
    let doc = analyze_json(
        dir.path(),
        &[
            "--access",
            "api.log",
            "--mmdb",
            "GeoLite2-ASN-Test.mmdb",
            "--mmdb",
            "GeoLite2-City-Test.mmdb",
            "--ranges",
            "aws-ip-ranges.json",
            "--ranges",
            "tor-exit-addresses",
        ],
    );
    let google = actor(&doc, "1.0.0.1");
    assert_eq!(google["asn"], json!({"number": 15169, "org": "Google Inc."}));
    assert_eq!(
        (&google["country"], &google["city"], &google["lists"]),
        (&Value::Null, &Value::Null, &json!([]))
    );
    let london = actor(&doc, "81.2.69.160");
    assert_eq!(london["asn"], Value::Null);
    assert_eq!(london["country"], json!({"iso": "GB", "name": "United Kingdom"}));
    assert_eq!(
        london["city"],
        json!({"name": "London", "subdivision": "England", "latitude": 51.5142,
               "longitude": -0.0931, "accuracy_radius_km": 100})
    );
    let se = actor(&doc, "89.160.20.129");
    assert_eq!(se["asn"], json!({"number": 29518, "org": "Bredband2 AB"}));
    assert_eq!(se["country"]["iso"], "SE");
    assert_eq!(
        actor(&doc, "3.5.140.9")["lists"],
        json!([{"name": "aws", "service": "EC2", "region": "ap-northeast-2"},
               {"name": "aws", "service": "AMAZON", "region": "ap-northeast-2"}])
    );
    assert_eq!(
        actor(&doc, "185.220.101.7")["lists"],
        json!([{"name": "tor", "service": null, "region": null}])
    );
    let nobody = actor(&doc, "198.51.100.9");
    for k in ["asn", "country", "city"] {
        assert_eq!(nobody[k], Value::Null, "{k}");
    }
    let kinds: Vec<&str> = doc["enrichment"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["GeoLite2-ASN", "GeoLite2-City", "aws", "tor"]);
    assert_eq!(doc["enrichment"]["errors"], json!([]));
    // Every actor grouped by network, country and first list, with exact sums.
    let groups = |key: &str| {
        doc["actor_groups"].as_array().unwrap().iter().find(|g| g["key"] == key).unwrap().clone()
    };
    let asn = groups("asn");
    assert_eq!(asn["total"], 2);
    assert_eq!(asn["groups"][0]["key"], "AS15169 Google Inc.");
    assert_eq!(
        (&asn["groups"][0]["clients"], &asn["groups"][0]["bytes"]),
        (&json!(1), &json!(60_000))
    );
    assert_eq!(asn["groups"][1]["key"], "AS29518 Bredband2 AB");
    let keys = |g: &Value| -> Vec<(String, u64)> {
        g["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| (x["key"].as_str().unwrap().to_owned(), x["bytes"].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(
        keys(&groups("country")),
        [("GB United Kingdom".to_owned(), 50_000), ("SE Sweden".to_owned(), 40_000)]
    );
    assert_eq!(keys(&groups("list")), [("aws".to_owned(), 30_000), ("tor".to_owned(), 20_000)]);
}

#[test]
fn without_databases_the_fields_are_null_and_no_source_is_named() {
    let dir = case_dir();
    let doc = analyze_json(dir.path(), &["--access", "api.log"]);
    let a = actor(&doc, "1.0.0.1");
    assert_eq!(
        (&a["asn"], &a["country"], &a["city"], &a["lists"]),
        (&Value::Null, &Value::Null, &Value::Null, &json!([]))
    );
    assert_eq!(doc["enrichment"], json!({"sources": [], "errors": []}));
}

#[test]
fn config_table_form_marks_list_members_as_scanners() {
    let dir = case_dir();
    std::fs::write(
        dir.path().join("leakline.toml"),
        r#"
[[service]]
name = "api"
access = ["api.log"]

[enrich]
mmdb = ["GeoLite2-ASN-Test.mmdb"]
ranges = ["aws-ip-ranges.json"]

"#,
    )
    .unwrap();
    // Both forms: the short list above, and (in a second file) the array of tables.
    let doc = analyze_json(dir.path(), &["--config", "leakline.toml"]);
    assert_eq!(actor(&doc, "89.160.20.129")["class"], "tool");
    std::fs::write(
        dir.path().join("scanners.toml"),
        r#"
[[service]]
name = "api"
access = ["api.log"]

[enrich]
mmdb = ["GeoLite2-ASN-Test.mmdb"]

[[enrich.ranges]]
path = "research-scanners.txt"
class = "scanner"

[[enrich.ranges]]
path = "aws-ip-ranges.json"
"#,
    )
    .unwrap();
    let doc = analyze_json(dir.path(), &["--config", "scanners.toml"]);
    let se = actor(&doc, "89.160.20.129");
    assert_eq!(se["class"], "scanner", "a curl user agent, but in a scanner list");
    assert_eq!(se["lists"][0]["name"], "research-scanners");
    assert_eq!(actor(&doc, "3.5.140.9")["class"], "tool");
    assert_eq!(doc["enrichment"]["sources"][1]["scanner"], true);
}

#[test]
fn reports_add_network_and_country_and_a_by_network_table() {
    let dir = case_dir();
    let out = leakline(dir.path())
        .args(["analyze", "--format", "md", "--access", "api.log"])
        .args(["--mmdb", "GeoLite2-ASN-Test.mmdb", "--mmdb", "GeoLite2-City-Test.mmdb"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("| Client | Class | Network | Country | First seen |"), "{md}");
    assert!(md.contains("| AS15169 Google Inc. | —"), "{md}");
    assert!(md.contains("## Actors by network (ASN, organisation) (top 2 of 2 by bytes)"), "{md}");
    assert!(md.contains("## Actors by country (top 2 of 2 by bytes)"), "{md}");
    let table = md.split("## Actors by network (ASN, organisation)").nth(1).unwrap();
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| `")).take(2).collect();
    assert!(rows[0].starts_with("| `AS15169 Google Inc.` | 1 | 1 | 1 | 60,000 |"), "{table}");
    assert!(rows[1].starts_with("| `AS29518 Bredband2 AB` | 1 | 1 | 1 | 40,000 |"), "{table}");
    let out = leakline(dir.path())
        .args([
            "analyze",
            "--format",
            "html",
            "--access",
            "api.log",
            "--mmdb",
            "GeoLite2-ASN-Test.mmdb",
        ])
        .output()
        .unwrap();
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(html.contains("<th>Network</th><th>Country</th>"));
    // Without enrichment the tables keep their columns and there is no network table.
    let out = leakline(dir.path())
        .args(["analyze", "--format", "md", "--access", "api.log"])
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(!md.contains("| Network |") && !md.contains("by network (ASN"), "{md}");
}

#[test]
fn enrich_command_prints_what_the_files_say() {
    let dir = case_dir();
    let out = leakline(dir.path())
        .args(["enrich", "--mmdb", "GeoLite2-ASN-Test.mmdb", "--mmdb", "GeoLite2-City-Test.mmdb"])
        .args(["--ranges", "aws-ip-ranges.json", "89.160.20.129", "3.5.140.9", "198.51.100.9"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("no DNS or WHOIS query was made"), "{text}");
    assert!(text.contains("GeoLite2-ASN-Test.mmdb (MaxMind DB GeoLite2-ASN, built "), "{text}");
    assert!(text.contains("aws-ip-ranges.json (aws, 4 prefixes)"), "{text}");
    let block = |ip: &str| {
        text.split(&format!("\n{ip}\n")).nth(1).unwrap().split("\n\n").next().unwrap().to_owned()
    };
    assert_eq!(
        block("89.160.20.129"),
        "  network  AS29518 Bredband2 AB\n  country  SE Sweden\n  city     Linköping, Östergötland County (58.4167, 15.6167 ±76 km)\n  lists    -"
    );
    assert!(
        block("3.5.140.9").contains("lists    aws EC2 ap-northeast-2; aws AMAZON ap-northeast-2")
    );
    assert!(text.ends_with("198.51.100.9\n  nothing: in no database or list given\n"), "{text}");
    let out = leakline(dir.path())
        .args(["enrich", "--mmdb", "GeoLite2-ASN-Test.mmdb", "1.0.0.1"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.ends_with(
            "\n1.0.0.1\n  network  AS15169 Google Inc.\n  country  unknown (not in the databases)\n  lists    -\n"
        ),
        "{text}"
    );
    let out = leakline(dir.path())
        .args(["enrich", "--json", "--mmdb", "GeoLite2-ASN-Test.mmdb", "1.0.0.1", "::ffff:1.0.0.1"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let addrs = doc["addresses"].as_array().unwrap();
    assert_eq!(
        addrs[0],
        json!({"address": "1.0.0.1", "asn": {"number": 15169, "org": "Google Inc."},
        "country": null, "city": null, "lists": []})
    );
    assert_eq!(addrs[1]["asn"]["number"], 15169, "IPv4-mapped is its IPv4 address");
    assert_eq!(doc["sources"][0]["name"], "GeoLite2-ASN");
}

/// Exit 2 and one line naming the file (or argument) and what is wrong.
fn fails_with_2(dir: &Path, args: &[&str], needle: &str) {
    let out = leakline(dir).args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_databases_and_lists_are_configuration_errors() {
    let dir = case_dir();
    let p = dir.path();
    let good = std::fs::read(p.join("GeoLite2-City-Test.mmdb")).unwrap();
    std::fs::write(p.join("cut.mmdb"), &good[..good.len() / 3]).unwrap();
    std::fs::write(p.join("bad.txt"), "203.0.113.0/24\n203.0.113.300\n").unwrap();
    std::fs::write(p.join("trunc.json"), "{\"prefixes\": [{\"ip_prefix\": \"3.5.140.0/22\"")
        .unwrap();
    std::fs::copy(
        fixtures().join("bad-data/libmaxminddb-corrupt-search-tree.mmdb"),
        p.join("corrupt.mmdb"),
    )
    .unwrap();
    let analyze = |extra: &[&str], needle: &str| {
        let mut args = vec!["analyze", "--access", "api.log"];
        args.extend_from_slice(extra);
        fails_with_2(p, &args, needle);
    };
    analyze(&["--mmdb", "missing.mmdb"], "missing.mmdb: cannot read the MaxMind database");
    analyze(&["--mmdb", "cut.mmdb"], "cut.mmdb: not a usable MaxMind DB (.mmdb) database");
    analyze(&["--mmdb", "corrupt.mmdb"], "corrupt.mmdb");
    analyze(&["--mmdb", "api.log"], "api.log: not a usable MaxMind DB");
    analyze(&["--ranges", "bad.txt"], "bad.txt:2: `203.0.113.300` is not an address or CIDR");
    analyze(&["--ranges", "trunc.json"], "trunc.json:1: invalid JSON");
    analyze(&["--ranges", "nope.txt"], "nope.txt");
    fails_with_2(
        p,
        &["watch", "--headless", "--access", "api.log", "--mmdb", "cut.mmdb"],
        "cut.mmdb",
    );
    fails_with_2(p, &["inspect", "--mmdb", "cut.mmdb"], "cut.mmdb: not a usable MaxMind DB");
    fails_with_2(p, &["enrich", "--ranges", "bad.txt", "1.1.1.1"], "bad.txt:2:");
    fails_with_2(p, &["enrich", "1.1.1.1"], "no database or range file");
    fails_with_2(
        p,
        &["enrich", "--mmdb", "GeoLite2-ASN-Test.mmdb", "1.1.1"],
        "`1.1.1`: not an IP address",
    );
    std::fs::write(p.join("class.toml"), "[[service]]\nname = \"a\"\naccess = [\"api.log\"]\n[enrich]\nranges = [{ path = \"tor-exit-addresses\", class = \"tool\" }]\n").unwrap();
    fails_with_2(p, &["analyze", "--config", "class.toml"], "class.toml:5:");
}

#[test]
fn inspect_describes_databases_and_lists() {
    let dir = case_dir();
    let out = leakline(dir.path())
        .args([
            "inspect",
            "--json",
            "--mmdb",
            "GeoLite2-City-Test.mmdb",
            "--ranges",
            "tor-exit-addresses",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["enrichment"]["name"], "GeoLite2-City");
    assert_eq!(lines[0]["enrichment"]["kind"], "mmdb");
    assert_eq!(lines[1]["enrichment"]["kind"], "tor-exit-addresses");
    assert_eq!(lines[1]["enrichment"]["prefixes"], 2);
}

#[test]
fn text_output_says_who_each_top_actor_is() {
    let dir = case_dir();
    let out = leakline(dir.path())
        .args(["analyze", "--access", "api.log", "--mmdb", "GeoLite2-ASN-Test.mmdb"])
        .args(["--mmdb", "GeoLite2-City-Test.mmdb", "--ranges", "tor-exit-addresses"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    // What the databases do not know is said to be unknown, not absent.
    let asn_only = "\n    AS15169 Google Inc. · country unknown (not in the databases)\n";
    assert!(text.contains(asn_only), "{text}");
    let city_only = "\n    ASN unknown (not in the databases) · GB United Kingdom · London\n";
    assert!(text.contains(city_only), "{text}");
    assert!(text.contains("\n    AS29518 Bredband2 AB · SE Sweden · Linköping\n"), "{text}");
    let tor_only = "\n    ASN and country unknown (not in the databases) · lists tor\n";
    assert!(text.contains(tor_only), "{text}");
    assert!(!text.contains("no ASN") && !text.contains("no country"), "{text}");
    let plain = leakline(dir.path()).args(["analyze", "--access", "api.log"]).output().unwrap();
    assert!(!String::from_utf8(plain.stdout).unwrap().contains("not in the databases"));
}
