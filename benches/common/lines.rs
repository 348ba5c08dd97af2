//! The access-line generator, the case config and the session start shared by the follow
//! and keys benches (`#[path]`-included).

use std::io::Write;

pub const PATHS: [&str; 5] =
    ["/v1/chat/completions", "/v1/models", "/healthz", "/.env", "/v1/embeddings"];
pub const AGENTS: [&str; 4] =
    ["curl/8.5.0", "python-requests/2.31", "Mozilla/5.0 (X11; Linux x86_64)", "kube-probe/1.29"];

/// Line number `i` from `client`, logged at `stamp` (`27/Nov/2026:HH:MM:SS +0000`), in the
/// combined format; the query is `q={i % queries}` (paths, statuses and user agents vary
/// with `i`).
pub fn push_line(out: &mut Vec<u8>, i: usize, client: &str, stamp: &str, queries: usize) {
    let status = [200, 200, 404, 401][i % 4];
    let _ = writeln!(
        out,
        "{client} - - [{stamp}] \"GET {}?q={} HTTP/1.1\" {status} {} \"-\" \"{}\"",
        PATHS[i % PATHS.len()],
        i % queries.max(1),
        100 + i,
        AGENTS[i % AGENTS.len()]
    );
}

/// A realistic actor mix: one line in `external_every` from one of `external` clients
/// (203.0.x.y, in turn), the rest from 2000 internal ones (10.1.x.y).
#[derive(Debug, Clone)]
pub struct Mix {
    external_every: u64,
    external: Vec<String>,
    internal: Vec<String>,
}

impl Mix {
    pub fn new(external_clients: u64, external_every: u64) -> Mix {
        Mix {
            external_every: external_every.max(1),
            external: (0..external_clients.max(1))
                .map(|c| format!("203.0.{}.{}", c / 250, c % 250 + 1))
                .collect(),
            internal: (0..2000).map(|c| format!("10.1.{}.{}", c / 250, c % 250 + 1)).collect(),
        }
    }

    /// The client of line `k`.
    pub fn client(&self, k: u64) -> &str {
        if k % self.external_every == 0 {
            &self.external[((k / self.external_every) % self.external.len() as u64) as usize]
        } else {
            &self.internal[(k % self.internal.len() as u64) as usize]
        }
    }
}

/// One `gateway` service fed by the combined-format glob `pattern`, internal = 10.0.0.0/8.
pub fn config(dir: &std::path::Path, pattern: &str, name: &str) -> leakline::config::CaseConfig {
    use leakline::config::{AccessSpec, CaseConfig, ServiceConfig};
    CaseConfig {
        path: None,
        base_dir: dir.to_path_buf(),
        name: name.into(),
        timezone: chrono_tz::UTC,
        internal: vec!["10.0.0.0/8".parse().expect("cidr")],
        trusted_proxies: Vec::new(),
        allow: Vec::new(),
        services: vec![ServiceConfig {
            name: "gateway".into(),
            addresses: leakline::config::AddressSpec::parse("192.0.2.40:443").into_iter().collect(),
            access: vec![AccessSpec {
                pattern: pattern.to_owned(),
                format: Some(leakline::ingest::access::AccessFormat::Combined),
                fields: None,
                clickhouse: None,
            }],
            sensitive: Vec::new(),
        }],
        scans: Vec::new(),
        scanners: Vec::new(),
        enrich: leakline::config::EnrichConfig::default(),
    }
}

/// A live session over `cfg` (rotated files closed after 1 s), once its backfill is done.
pub async fn backfilled_session(cfg: leakline::config::CaseConfig) -> leakline::follow::Session {
    let options = leakline::follow::SessionOptions {
        rotate_wait: std::time::Duration::from_secs(1),
        ..Default::default()
    };
    let session = leakline::follow::session::start(cfg, options);
    let mut status = session.status.clone();
    while !status.borrow_and_update().backfilled {
        let _ = status.changed().await;
    }
    session
}
