//! `leakline enrich IP...`: what the configured offline databases and range files say about
//! addresses, for the responder checking one by hand. No network lookup (no reverse DNS, no
//! WHOIS): only the files given by `--config` (`[enrich]`), `--mmdb` and `--ranges`.
//!
//! Exit codes: 0 answered (an address no file knows is an answer: "nothing"), 2 usage or
//! configuration error (no file given, a bad address, a missing or corrupt file, named).

use std::fmt::Write as _;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use leakline::config::{self, EnrichConfig, RangeSpec};
use leakline::enrich::Enricher;
use leakline::model::enrichment::{ActorEnrichment, EnrichSource};
use leakline::text::clean;
use serde_json::json;

use super::UsageError;

#[derive(Debug, clap::Args)]
pub struct EnrichArgs {
    /// Addresses to look up (IPv4 or IPv6).
    #[arg(required = true, value_name = "IP")]
    pub addresses: Vec<String>,
    /// A case config whose `[enrich]` lists the databases and range files.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A MaxMind-format database (`.mmdb`: ASN, Country, City; repeatable).
    #[arg(long, value_name = "FILE")]
    pub mmdb: Vec<PathBuf>,
    /// A range file (AWS, Google Cloud, Azure JSON; Cloudflare, Tor or plain lists; repeatable).
    #[arg(long, value_name = "FILE")]
    pub ranges: Vec<PathBuf>,
    /// One JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &EnrichArgs) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the working directory")?;
    let mut cfg = match &args.config {
        Some(path) => config::load(path)?.enrich,
        None => EnrichConfig::default(),
    };
    cfg.mmdb.extend(args.mmdb.iter().map(|p| cwd.join(p)));
    cfg.ranges.extend(args.ranges.iter().map(|p| RangeSpec {
        path: cwd.join(p),
        name: None,
        scanner: false,
    }));
    let mut addresses = Vec::new();
    for a in &args.addresses {
        let ip: IpAddr = a.trim().parse().map_err(|_| {
            UsageError(format!(
                "`{}`: not an IP address (expected e.g. 203.0.113.7 or 2001:db8::1)",
                clean(a)
            ))
        })?;
        addresses.push(ip);
    }
    let enricher = Enricher::load(&cfg).map_err(|e| UsageError(e.to_string()))?.ok_or_else(|| {
        UsageError(
            "no database or range file: give --mmdb FILE, --ranges FILE, or --config FILE with an [enrich] section".into(),
        )
    })?;
    enricher.verify().map_err(|e| UsageError(e.to_string()))?;
    let mut answers = Vec::new();
    for ip in &addresses {
        answers.push(enricher.lookup(*ip).map_err(|e| UsageError(e.to_string()))?);
    }
    let text = if args.json {
        let doc = json!({
            "sources": enricher.sources(),
            "addresses": addresses.iter().zip(&answers).map(|(ip, a)| json!({
                "address": ip.to_string(),
                "asn": a.asn,
                "country": a.country,
                "city": a.city,
                "lists": a.lists,
            })).collect::<Vec<_>>(),
        });
        format!("{}\n", serde_json::to_string_pretty(&doc)?)
    } else {
        render(enricher.sources(), &addresses, &answers)
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).context("stdout")?;
    Ok(ExitCode::SUCCESS)
}

/// The text answer: the files it rests on, then one block per address.
fn render(sources: &[EnrichSource], addresses: &[IpAddr], answers: &[ActorEnrichment]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "from (offline files only; no DNS or WHOIS query was made):");
    for s in sources {
        let _ = writeln!(out, "  {}", source_line(s));
    }
    for (ip, a) in addresses.iter().zip(answers) {
        let _ = writeln!(out, "\n{ip}");
        if a == &ActorEnrichment::default() {
            let _ = writeln!(out, "  nothing: in no database or list given");
            continue;
        }
        let field =
            |v: Option<String>| v.unwrap_or_else(|| "unknown (not in the databases)".into());
        let _ = writeln!(out, "  network  {}", field(a.asn.as_ref().map(|n| clean(&n.label()))));
        let country = a.country.as_ref().map(|c| clean(&c.label()));
        let _ = writeln!(out, "  country  {}", field(country));
        if let Some(c) = &a.city {
            let mut line = [&c.name, &c.subdivision]
                .iter()
                .filter_map(|s| s.as_deref().map(clean))
                .collect::<Vec<_>>()
                .join(", ");
            if let (Some(lat), Some(lon)) = (c.latitude, c.longitude) {
                let radius = c.accuracy_radius_km.map(|r| format!(" ±{r} km")).unwrap_or_default();
                let _ = write!(line, " ({lat}, {lon}{radius})");
            }
            let _ = writeln!(out, "  city     {}", line.trim());
        }
        let lists: Vec<String> = a.lists.iter().map(super::list_label).collect();
        let _ = writeln!(
            out,
            "  lists    {}",
            if lists.is_empty() { "-".into() } else { lists.join("; ") }
        );
    }
    out
}

/// `path (GeoLite2-ASN, built 2024-01-01)` / `path (aws: 8 prefixes, scanner)`.
pub(crate) fn source_line(s: &EnrichSource) -> String {
    let mut what = if s.kind == "mmdb" {
        format!("MaxMind DB {}", clean(&s.name))
    } else if s.kind == s.name {
        s.kind.clone()
    } else {
        format!("{} list `{}`", s.kind, clean(&s.name))
    };
    if let Some(b) = &s.built {
        let _ = write!(what, ", built {b}");
    }
    if let Some(n) = s.prefixes {
        let _ = write!(what, ", {n} prefixes");
    }
    if s.scanner {
        what.push_str(", members are scanners");
    }
    format!("{} ({what})", clean(&s.path))
}
