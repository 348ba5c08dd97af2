//! The parallel batch driver (`batch`, shards in `correlate::shard`) must give
//! exactly what a serial run gives: every request applied to one correlator in file order.
//! That includes the one order-dependent detail, the capped per-actor path and user-agent
//! lists, so the logs here have actors with more distinct paths and agents than the caps,
//! spread over several files, read with different worker counts and chunk sizes.

use std::fmt::Write as _;
use std::path::Path;

use leakline::batch::{self, BatchOptions};
use leakline::config::CaseConfig;
use leakline::correlate::actors::{MAX_ACTOR_AGENTS, MAX_ACTOR_PATHS};
use leakline::correlate::{Correlator, SourceInfo};
use leakline::ingest::SourceStats;
use leakline::ingest::decoder::{Decoder, DecoderOptions};
use leakline::model::{Snapshot, SourceKind};

/// A small deterministic generator (64-bit LCG), so the logs are the same on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 =
            self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// `lines` combined-format lines: internal clients, ordinary external clients, and two
/// "fuzzers" with far more distinct paths and user agents than an actor keeps.
fn log(rng: &mut Lcg, lines: usize, start_sec: u64) -> String {
    let mut out = String::new();
    for i in 0..lines {
        let sec = start_sec + i as u64 / 7;
        let (client, path, agent) = match rng.below(10) {
            0..=3 => (
                format!("10.1.{}.{}", rng.below(4), rng.below(250)),
                "/health".to_string(),
                "kube-probe/1.29".to_string(),
            ),
            4 | 5 => {
                let fuzzer = rng.below(2);
                let n = MAX_ACTOR_PATHS as u64 * 3;
                (
                    format!("203.0.113.{}", 200 + fuzzer),
                    format!("/probe/{}?q={}", rng.below(n), rng.below(5)),
                    format!("fuzz/{}", rng.below(MAX_ACTOR_AGENTS as u64 * 2)),
                )
            }
            _ => (
                format!("198.51.100.{}", rng.below(60)),
                ["/v1/models", "/v1/chat/completions", "/", "/.env"][rng.below(4) as usize]
                    .to_string(),
                [
                    "curl/8.5.0",
                    "python-requests/2.32.3",
                    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
                ][rng.below(3) as usize]
                    .to_string(),
            ),
        };
        let status = [200, 200, 404, 401, 500][rng.below(5) as usize];
        let (h, m, s) = (sec / 3600 % 24, sec / 60 % 60, sec % 60);
        let _ = writeln!(
            out,
            "{client} - - [03/Nov/2026:{h:02}:{m:02}:{s:02} +0000] \"GET {path} HTTP/1.1\" {status} {} \"-\" \"{agent}\"",
            rng.below(5000)
        );
        if i % 97 == 0 {
            out.push_str("this line is not an access log line\n");
        }
    }
    out
}

fn write_case(dir: &Path) -> CaseConfig {
    let mut rng = Lcg(7);
    std::fs::create_dir(dir.join("logs")).unwrap();
    std::fs::write(dir.join("logs/a.log"), log(&mut rng, 3000, 3600)).unwrap();
    std::fs::write(dir.join("logs/b.log"), log(&mut rng, 2000, 3600 * 2)).unwrap();
    std::fs::write(dir.join("logs/edge.log"), log(&mut rng, 1500, 3600 * 3)).unwrap();
    let toml = r#"
name = "shards"
internal = ["10.0.0.0/8"]

[[service]]
name = "api"
access = ["logs/a.log", "logs/b.log"]
sensitive = [{ path = "/v1/models", label = "model list" }, { path = "/probe/**", label = "probes" }]

[[service]]
name = "edge"
access = ["logs/edge.log"]
"#;
    std::fs::write(dir.join("leakline.toml"), toml).unwrap();
    leakline::config::load(&dir.join("leakline.toml")).unwrap()
}

/// The reference: one correlator, every file decoded whole and applied in file order.
fn serial(cfg: &CaseConfig, dir: &Path) -> Correlator {
    serial_with_scans(cfg, dir, &[])
}

/// [`serial`] with scan files first (registered first, as a batch run numbers them).
fn serial_with_scans(cfg: &CaseConfig, dir: &Path, scans: &[&str]) -> Correlator {
    let mut c = Correlator::new(cfg.clone());
    for file in scans {
        apply_file(&mut c, cfg, &dir.join("scans").join(file), SourceKind::Scan, "unknown", "");
    }
    for (service, file) in [("api", "a.log"), ("api", "b.log"), ("edge", "edge.log")] {
        apply_file(
            &mut c,
            cfg,
            &dir.join("logs").join(file),
            SourceKind::Access,
            "combined",
            service,
        );
    }
    c
}

/// Register `path` as a source of `kind` and apply the whole file, decoded in one piece with
/// the case's trusted proxies (as a batch run decodes it); the file's statistics.
fn apply_file(
    c: &mut Correlator,
    cfg: &CaseConfig,
    path: &Path,
    kind: SourceKind,
    format: &str,
    service: &str,
) -> SourceStats {
    let id = c.add_source(SourceInfo {
        path: path.display().to_string(),
        kind,
        format: format.into(),
        service: service.into(),
        vantage: leakline::config::Vantage::External,
    });
    let mut opts = DecoderOptions::new(id, Some(kind));
    opts.access.trusted_proxies.clone_from(&cfg.trusted_proxies);
    let mut decoder = Decoder::new(opts);
    let mut events = Vec::new();
    decoder.feed(&std::fs::read(path).unwrap(), &mut events);
    decoder.finish(&mut events);
    c.apply(&events);
    // The source's health, as a shell fills it (coverage spans come from it).
    let stats = decoder.stats().clone();
    let h = c.source_mut(id);
    h.lines = stats.lines;
    h.events = stats.events;
    h.malformed = stats.malformed;
    h.first_event = stats.first_event;
    h.last_event = stats.last_event;
    stats
}

fn evidence(s: &Snapshot) -> [String; 3] {
    use serde_json::to_string_pretty as json;
    [
        json(&s.services).unwrap(),
        json(&s.actors).unwrap(),
        json(&(&s.rate, &s.coverage, &s.duplicates)).unwrap(),
    ]
}

#[test]
fn parallel_batch_equals_a_serial_run_in_file_order() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_case(tmp.path());
    let reference = serial(&cfg, tmp.path());
    let as_of = reference.latest_event().unwrap();
    let expected = evidence(&reference.snapshot(as_of));

    // The fuzzers really overflow the caps, so the order-dependent detail is exercised.
    let snap = reference.snapshot(as_of);
    let fuzzer = snap.actors.iter().find(|a| a.client.to_string() == "203.0.113.200").unwrap();
    assert!(fuzzer.requests > (MAX_ACTOR_PATHS * 4) as u64, "{}", fuzzer.requests);

    for (workers, chunk_bytes) in [(1, 1 << 22), (2, 777), (3, 4096), (4, 100), (2, 1 << 20)] {
        let c =
            batch::run(&cfg, &BatchOptions { workers, chunk_bytes, ..Default::default() }).unwrap();
        assert_eq!(c.latest_event(), Some(as_of));
        let got = evidence(&c.snapshot(as_of));
        assert!(
            got == expected,
            "workers {workers}, chunks of {chunk_bytes} bytes differ from the serial run"
        );
        let snap = c.snapshot(as_of);
        let malformed: u64 = snap.sources.iter().map(|s| s.malformed).sum();
        assert_eq!(malformed, 31 + 21 + 16, "workers {workers}, chunks of {chunk_bytes}");
    }
}

/// `analyze --format json|text` records actor totals only; its totals are those of a full run.
#[test]
fn totals_only_batch_gives_the_full_runs_totals() {
    use leakline::correlate::ActorDetail;
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write_case(tmp.path());
    let full = batch::run(&cfg, &BatchOptions::default()).unwrap();
    let lean =
        batch::run(&cfg, &BatchOptions { actor_detail: ActorDetail::Totals, ..Default::default() })
            .unwrap();
    let as_of = full.latest_event().unwrap();
    assert_eq!(lean.latest_event(), Some(as_of));
    let want = full.snapshot_with(as_of, ActorDetail::Totals);
    assert_eq!(lean.snapshot_with(as_of, ActorDetail::Totals), want);
    // Nothing of the detail was kept: a full snapshot of the lean run has empty lists.
    let lean_full = lean.snapshot(as_of);
    assert!(lean_full.actors.iter().all(|a| a.top_paths.is_empty() && a.statuses.is_empty()));
    assert!(full.snapshot(as_of).actors.iter().any(|a| !a.top_paths.is_empty()));
}

/// Lines where the batch workers' light parse of internal requests could go wrong: our
/// clients directly, over IPv6 and IPv4-mapped IPv6, and behind a trusted proxy (whose
/// client is only known from X-Forwarded-For, internal or not), with malformed lines of
/// ours spread through the file (their line numbers cross many chunks).
fn proxied_log(rng: &mut Lcg, lines: usize) -> String {
    let mut out = String::new();
    for i in 0..lines {
        let sec = 7200 + i as u64 / 5;
        let (h, m, s) = (sec / 3600 % 24, sec / 60 % 60, sec % 60);
        let time = format!("[03/Nov/2026:{h:02}:{m:02}:{s:02} +0000]");
        let ext = format!("198.51.100.{}", rng.below(40));
        let (peer, extra, agent) = match rng.below(12) {
            0..=3 => (format!("10.2.{}.{}", rng.below(3), rng.below(200)), String::new(), "probe"),
            4 => (format!("fd00::{:x}", rng.below(500)), String::new(), "probe"),
            5 => (format!("::ffff:10.3.0.{}", rng.below(200)), String::new(), "probe"),
            6 => ("10.9.0.1".to_string(), format!(" \"{ext}\""), "curl/8.5.0"),
            7 => ("10.9.0.1".to_string(), " \"10.2.0.7\" 0.004".to_string(), "probe"),
            8 => ("10.2.0.8".to_string(), format!(" \"{ext}\""), "say \\\"hi\\\""),
            _ => (ext, String::new(), "python-requests/2.32.3"),
        };
        let path =
            ["/v1/models", "/health", "/.env", "/v1/chat/completions?x=1"][rng.below(4) as usize];
        let status =
            if i % 211 == 100 { "2x0" } else { ["200", "404", "500"][rng.below(3) as usize] };
        let _ = writeln!(
            out,
            "{peer} - - {time} \"GET {path} HTTP/1.1\" {status} {} \"-\" \"{agent}\"{extra}",
            rng.below(900)
        );
    }
    out
}

/// A batch run with internal networks and a trusted proxy gives the serial correlator's
/// analysis and the serial decoder's source statistics (malformed line numbers included),
/// whatever the chunking.
#[test]
fn batch_with_internal_networks_and_proxies_equals_a_serial_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut rng = Lcg(11);
    std::fs::create_dir(dir.join("logs")).unwrap();
    std::fs::write(dir.join("logs/gw.log"), proxied_log(&mut rng, 2500)).unwrap();
    std::fs::write(dir.join("logs/gw2.log"), proxied_log(&mut rng, 1300)).unwrap();
    let toml = r#"
name = "proxied"
internal = ["10.0.0.0/8", "fd00::/8"]
trusted_proxies = ["10.9.0.1"]

[[service]]
name = "gw"
access = ["logs/gw.log", "logs/gw2.log"]
"#;
    std::fs::write(dir.join("leakline.toml"), toml).unwrap();
    let cfg = leakline::config::load(&dir.join("leakline.toml")).unwrap();

    let mut reference = Correlator::new(cfg.clone());
    let mut stats = Vec::new();
    for file in ["gw.log", "gw2.log"] {
        let path = dir.join("logs").join(file);
        stats.push(apply_file(&mut reference, &cfg, &path, SourceKind::Access, "combined", "gw"));
    }
    // The serial correlator is not told the sources' statistics, so its latest event is the
    // latest request it was given; the batch's also counts the sources' last lines.
    let last_line = stats.iter().filter_map(|s| s.last_event).max();
    let as_of = reference.latest_event().max(last_line).unwrap();
    let expected = evidence(&reference.snapshot(as_of));
    // Every kind of line is there: proxied external clients, and malformed lines.
    let snap = reference.snapshot(as_of);
    assert!(snap.actors.iter().any(|a| a.client.to_string().starts_with("198.51.100.")));
    assert!(snap.actors.iter().all(|a| !a.client.to_string().starts_with("10.")));
    assert!(stats[0].malformed_samples.len() == 5 && stats[0].malformed_samples[4].0 > 900);

    for (workers, chunk_bytes) in [(1, 1 << 22), (2, 333), (3, 4096)] {
        let c =
            batch::run(&cfg, &BatchOptions { workers, chunk_bytes, ..Default::default() }).unwrap();
        assert_eq!(c.latest_event(), Some(as_of));
        let snap = c.snapshot(as_of);
        assert!(
            evidence(&snap) == expected,
            "workers {workers}, chunks of {chunk_bytes} bytes differ from the serial run"
        );
        for (got, want) in snap.sources.iter().zip(&stats) {
            let got = (
                got.lines,
                got.events,
                got.malformed,
                &got.malformed_samples,
                got.first_event,
                got.last_event,
            );
            let want = (
                want.lines,
                want.events,
                want.malformed,
                &want.malformed_samples,
                want.first_event,
                want.last_event,
            );
            assert_eq!(got, want, "workers {workers}, chunks of {chunk_bytes}");
        }
    }
}

/// External scans of `api`: open before its first request (so the sealed run's first segment
/// already holds evidence when the shards come back), and closed twice inside its traffic, so
/// that it has three windows. Times are seconds after 2026-11-03T00:00:00Z.
fn scan_of_api(dir: &Path) {
    const DAY: u64 = 1_793_664_000;
    let mut out = String::new();
    for (secs, status) in
        [(3540, "open"), (3780, "closed"), (3900, "open"), (7320, "closed"), (7410, "open")]
    {
        let _ = writeln!(
            out,
            r#"{{"ip":"192.0.2.40","timestamp":"{}","port":443,"proto":"tcp","rec_type":"status","data":{{"status":"{status}","reason":"x","ttl":52}}}}"#,
            DAY + secs
        );
    }
    std::fs::create_dir(dir.join("scans")).unwrap();
    std::fs::write(dir.join("scans/masscan.ndjson"), out).unwrap();
    let toml = std::fs::read_to_string(dir.join("leakline.toml"))
        .unwrap()
        .replace("name = \"api\"\n", "name = \"api\"\naddresses = [\"192.0.2.40:443\"]\n")
        + "\n[[scans]]\npaths = [\"scans/masscan.ndjson\"]\nvantage = \"external\"\n";
    std::fs::write(dir.join("leakline.toml"), toml).unwrap();
}

/// With scans, shards are folded into segments that already hold evidence, and a service's
/// totals span several windows: still exactly the serial run.
#[test]
fn parallel_batch_with_scans_equals_a_serial_run() {
    let tmp = tempfile::tempdir().unwrap();
    write_case(tmp.path());
    scan_of_api(tmp.path());
    let cfg = leakline::config::load(&tmp.path().join("leakline.toml")).unwrap();
    let reference = serial_with_scans(&cfg, tmp.path(), &["masscan.ndjson"]);
    let as_of = reference.latest_event().unwrap();
    let snap = reference.snapshot(as_of);
    let api = snap.services.iter().find(|s| s.name == "api").unwrap();
    assert_eq!(api.windows.len(), 3, "{:?}", api.windows);
    assert!(api.windows.iter().all(|w| w.external_requests > 0));
    let per_window: u64 = api.windows.iter().map(|w| w.external_requests).sum();
    assert_eq!(api.external_requests, per_window);
    assert_eq!(api.first_external, api.windows[0].first_external);
    // Sensitive paths are counted per window (the comparison below covers them exactly).
    for w in &api.windows {
        let labels: Vec<&str> = w.sensitive.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["model list", "probes"]);
        assert!(w.sensitive.iter().all(|s| s.requests > s.successes && s.successes > 0), "{w:?}");
        assert!(
            w.sensitive.iter().all(|s| s.first_success.as_ref().is_some_and(|h| h.status < 400))
        );
    }
    let models: u64 = api.windows.iter().map(|w| w.sensitive[0].requests).sum();
    let listed: u64 = api
        .windows
        .iter()
        .flat_map(|w| &w.top_paths)
        .filter(|p| p.path == "/v1/models")
        .map(|p| p.requests)
        .sum();
    assert_eq!(models, listed, "the rule counts what the path tallies count");
    let expected = evidence(&snap);
    for (workers, chunk_bytes) in [(1, 1 << 22), (3, 4096), (2, 1 << 20)] {
        let c =
            batch::run(&cfg, &BatchOptions { workers, chunk_bytes, ..Default::default() }).unwrap();
        let got = evidence(&c.snapshot(as_of));
        assert!(got == expected, "workers {workers}, chunks of {chunk_bytes} bytes differ");
    }
}
