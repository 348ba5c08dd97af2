//! `leakline inspect FILE...`: what leakline understood from each file — detected format,
//! lines, events, malformed lines (count and the first few with reasons), oversized lines,
//! first/last event time (UTC) and the SHA-256 of the file as stored.
//!
//! Each file is read once, hashed while it is parsed (so `/dev/stdin`, `<(cmd)`, a pipe or a
//! FIFO work). Attacker-derived text is redacted (`--no-redact` to opt out) and, in the text
//! output, its control characters are escaped (no OSC/CSI sequence reaches the terminal).
//!
//! Access formats are tried first on the head of the file (a scanner format is only sniffed
//! when no access format matched). The bytes then go through `ingest::decoder`, the same
//! driver `analyze` and the follower use, so `inspect` reports exactly what they will see.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use ipnet::IpNet;
use leakline::correlate::fingerprint::{Sample, fingerprint};
use leakline::ingest::access::{self, AccessFormat, ParseOptions};
use leakline::ingest::decoder::{Decoder, DecoderOptions, DetectedFormat};
use leakline::ingest::scan::{ScanFormat, ScanOptions, ScanRun};
use leakline::ingest::source::{self, SourceError};
use leakline::model::{Event, SourceId, SourceKind};
use leakline::redact::{RedactionCounts, Redactor, redact_event};
use leakline::text::clean;
use serde_json::json;

use super::UsageError;

/// Bytes read before the format is chosen (and per read afterwards).
const HEAD_BYTES: usize = 64 * 1024;

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Files to inspect (plain or gzip, detected by content).
    #[arg(required_unless_present_any = ["mmdb", "ranges"], value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// One JSON object per file per line instead of text.
    #[arg(long)]
    pub json: bool,
    /// Print the normalized events as JSON lines (summaries go to stderr).
    #[arg(long)]
    pub events: bool,
    /// Force a format instead of detecting it (e.g. combined, caddy, alb, nmap-xml).
    #[arg(long, value_name = "NAME")]
    pub format: Option<String>,
    /// Zone for timestamps written without an offset (IANA name, default UTC).
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    pub tz: String,
    /// A proxy whose X-Forwarded-For is believed (CIDR or address; repeatable).
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    pub trusted_proxy: Vec<String>,
    /// Print secrets found in the logs as they are (default: replaced by markers).
    #[arg(long)]
    pub no_redact: bool,
    /// A MaxMind-format database to check and describe (type, build date; repeatable).
    #[arg(long, value_name = "FILE")]
    pub mmdb: Vec<PathBuf>,
    /// A range file to check and describe (detected kind, list name, prefixes; repeatable).
    #[arg(long, value_name = "FILE")]
    pub ranges: Vec<PathBuf>,
}

/// A forced format from `--format`.
#[derive(Debug, Clone, Copy)]
enum Forced {
    Access(AccessFormat),
    Scan(ScanFormat),
}

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let InspectArgs { files, json, events, format, tz, trusted_proxy, no_redact, mmdb, ranges } =
        args;
    let described = describe_enrichment(&mmdb, &ranges, json)?;
    let redactor = (!no_redact).then(Redactor::new);
    let tz = super::parse_tz(Some(&tz))?.unwrap_or(chrono_tz::UTC);
    let mut trusted = Vec::new();
    for t in &trusted_proxy {
        trusted.push(parse_cidr(t).ok_or_else(|| {
            UsageError(format!("--trusted-proxy {t}: not a CIDR or an IP address"))
        })?);
    }
    let forced = match &format {
        None => None,
        Some(name) => Some(
            AccessFormat::from_name(name)
                .map(Forced::Access)
                .or_else(|| ScanFormat::from_name(name).map(Forced::Scan))
                .ok_or_else(|| UsageError(format!("--format {name}: unknown format")))?,
        ),
    };
    let access_opts =
        ParseOptions { default_tz: tz, trusted_proxies: trusted, fields: None, light: None };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    write!(out, "{described}")?;
    let mut failed = false;
    // Access files' request samples, to name two logs of the same traffic at the end.
    let mut samples: Vec<(PathBuf, Sample)> = Vec::new();
    // Scan files' runs and hashes, to name one scan given twice at the end.
    let mut scans: Vec<ScanFile> = Vec::new();
    let mut read: Vec<(leakline::ingest::expand::FileIdentity, &PathBuf)> = Vec::new();
    for (i, path) in files.iter().enumerate() {
        // Two paths to one file (a symlink, a hard link): read once, say so. Pipes and
        // devices are never skipped (each open reads a different stream).
        if let Ok(id) = leakline::ingest::expand::FileIdentity::of(path)
            && std::fs::metadata(path).is_ok_and(|m| m.is_file())
        {
            if let Some((_, first)) = read.iter().find(|(seen, _)| *seen == id) {
                let line = if json {
                    let v = json!({
                        "path": path.display().to_string(),
                        "same_file_as": first.display().to_string(),
                    });
                    format!("{v}\n")
                } else {
                    format!(
                        "{}: the same file as {} (device and inode): read once\n",
                        clean(&path.display().to_string()),
                        clean(&first.display().to_string())
                    )
                };
                if events {
                    eprint!("{line}");
                } else {
                    write!(out, "{line}")?;
                }
                continue;
            }
            read.push((id, path));
        }
        let mut options = DecoderOptions::new(SourceId(i as u32), None);
        options.access = access_opts.clone();
        options.scan = ScanOptions { default_tz: tz };
        match inspect_file(path, options, forced, events, redactor.as_ref(), &mut out) {
            Ok(mut report) => {
                if let Some(r) = &redactor {
                    let mut counts = RedactionCounts::default();
                    for (_, reason) in &mut report.malformed {
                        r.redact_string(reason, &mut counts);
                    }
                }
                if events {
                    out.flush()?;
                    eprint!("{}", render(&report, json));
                } else {
                    write!(out, "{}", render(&report, json))?;
                }
                if !report.sample.is_empty() {
                    report.sample.settle();
                    samples.push((report.path.clone(), std::mem::take(&mut report.sample)));
                }
                scans.extend(ScanFile::of(&report));
            }
            Err(FileError::Source(e)) => {
                out.flush()?;
                eprintln!("leakline: inspect: {e}");
                failed = true;
            }
            Err(FileError::Output(e)) => return Err(e).context("writing to stdout"),
        }
    }
    let warnings = duplicate_warnings(&samples, json) + &duplicate_scan_warnings(&scans, json);
    if events {
        out.flush()?;
        eprint!("{warnings}");
    } else {
        write!(out, "{warnings}")?;
    }
    out.flush()?;
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// `--mmdb` / `--ranges`: each file loaded as `analyze` would load it, each database checked
/// in full (search tree and records), and described (one
/// line, or with `--json` one object `{"enrichment": {path, kind, name, built, prefixes,
/// scanner}}`). A file that cannot be used is a configuration error naming it (exit 2).
fn describe_enrichment(
    mmdb: &[PathBuf],
    ranges: &[PathBuf],
    as_json: bool,
) -> Result<String, UsageError> {
    use std::fmt::Write as _;
    let cwd = std::env::current_dir().unwrap_or_default();
    let config = leakline::config::EnrichConfig {
        mmdb: mmdb.iter().map(|p| cwd.join(p)).collect(),
        ranges: ranges
            .iter()
            .map(|p| leakline::config::RangeSpec { path: cwd.join(p), name: None, scanner: false })
            .collect(),
    };
    let Some(enricher) =
        leakline::enrich::Enricher::load(&config).map_err(|e| UsageError(e.to_string()))?
    else {
        return Ok(String::new());
    };
    // Here, unlike at the start of `analyze`, every database is walked in full.
    enricher.verify().map_err(|e| UsageError(e.to_string()))?;
    let mut out = String::new();
    for s in enricher.sources() {
        if as_json {
            let _ = writeln!(out, "{}", json!({ "enrichment": s }));
        } else {
            let _ = writeln!(out, "{}", super::enrich::source_line(s));
        }
    }
    Ok(out)
}

/// One warning per pair of files that look like two logs of the same traffic (most of the
/// smaller one's requests, by second, client, target, status and bytes, are in the other):
/// a text line, or with `--json` an object `{"warning":"duplicate_sources","sources":[a,b],
/// "shared_percent","message"}` after the files' objects.
fn duplicate_warnings(samples: &[(PathBuf, Sample)], as_json: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for (i, (a, sa)) in samples.iter().enumerate() {
        for (b, sb) in &samples[i + 1..] {
            let Some(pct) = sa.duplicate_percent(sb) else { continue };
            let (na, nb) = short_names(a, b);
            let message = format!(
                "{na} and {nb} look like two logs of the same traffic: counts may be doubled ({pct}% of the smaller one's requests are in both)"
            );
            if as_json {
                let v = json!({
                    "warning": "duplicate_sources",
                    "sources": [a.display().to_string(), b.display().to_string()],
                    "shared_percent": pct,
                    "message": message,
                });
                let _ = writeln!(out, "{v}");
            } else {
                let _ = writeln!(out, "warning: {message}");
            }
        }
    }
    out
}

/// Two files' names for a warning: their file names, or the whole paths when those are
/// the same.
fn short_names(a: &Path, b: &Path) -> (String, String) {
    let name = |p: &Path| {
        p.file_name().map_or_else(|| p.display().to_string(), |f| f.to_string_lossy().into_owned())
    };
    if name(a) == name(b) {
        (a.display().to_string(), b.display().to_string())
    } else {
        (name(a), name(b))
    }
}

/// A scan file inspected (with at least one event): the runs its head names and its hash.
struct ScanFile {
    path: PathBuf,
    runs: Vec<ScanRun>,
    sha256: String,
}

impl ScanFile {
    fn of(r: &Report) -> Option<ScanFile> {
        (r.decoder.scan_summary().is_some() && r.decoder.stats().events > 0).then(|| ScanFile {
            path: r.path.clone(),
            runs: r.decoder.scan_runs().to_vec(),
            sha256: r.sha256.clone(),
        })
    }
}

/// One warning per pair of scan files that are one scan given twice: the same run (same
/// command line and start, as `analyze` and `watch` tell them: nmap XML and `-oG` of one
/// `-oA` run, or one file copied under two names), or, for formats that name no run,
/// identical content. A text line, or with `--json` an object `{"warning":"duplicate_scan",
/// "sources":[a,b],"same":"run"|"content","message"}` after the files' objects.
fn duplicate_scan_warnings(scans: &[ScanFile], as_json: bool) -> String {
    use std::fmt::Write as _;
    let same_run = |a: &[ScanRun], b: &[ScanRun]| {
        !a.is_empty() && a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same_run(y))
    };
    let mut out = String::new();
    for (i, a) in scans.iter().enumerate() {
        for b in &scans[i + 1..] {
            let (na, nb) = short_names(&a.path, &b.path);
            let (same, message) = if same_run(&a.runs, &b.runs) {
                (
                    "run",
                    format!(
                        "{na} and {nb} hold the same scan run (same command line and start): one scan given twice; analyze and watch count its observations once"
                    ),
                )
            } else if a.sha256 == b.sha256 {
                (
                    "content",
                    format!(
                        "{na} and {nb} have the same content (SHA-256): one scan output given twice; analyze and watch count its observations once"
                    ),
                )
            } else {
                continue;
            };
            if as_json {
                let v = json!({
                    "warning": "duplicate_scan",
                    "sources": [a.path.display().to_string(), b.path.display().to_string()],
                    "same": same,
                    "message": message,
                });
                let _ = writeln!(out, "{v}");
            } else {
                let _ = writeln!(out, "warning: {}", clean(&message));
            }
        }
    }
    out
}

fn parse_cidr(s: &str) -> Option<IpNet> {
    s.parse::<IpNet>().ok().or_else(|| s.parse::<std::net::IpAddr>().ok().map(IpNet::from))
}

enum FileError {
    /// The file could not be opened or read: reported, other files continue.
    Source(SourceError),
    /// Writing our own output failed: fatal.
    Output(io::Error),
}

struct Report {
    path: PathBuf,
    /// The zone times without one are read in (`--tz`).
    tz: chrono_tz::Tz,
    format: DetectedFormat,
    sha256: String,
    decoder: Decoder,
    /// The malformed-line samples (redacted unless `--no-redact`).
    malformed: Vec<(u64, String)>,
    /// A sample of the file's request fingerprints (empty for scans).
    sample: Sample,
}

fn inspect_file(
    path: &Path,
    mut options: DecoderOptions,
    forced: Option<Forced>,
    print_events: bool,
    redactor: Option<&Redactor>,
    out: &mut impl Write,
) -> Result<Report, FileError> {
    let options_tz = options.scan.default_tz;
    let (mut reader, hash) = source::open_content_hashed(path).map_err(FileError::Source)?;
    let read_err = |e| FileError::Source(SourceError::Io { path: path.to_path_buf(), source: e });
    let mut buf = vec![0u8; HEAD_BYTES];
    let mut head = Vec::new();
    let mut at_end = false;
    while head.len() < HEAD_BYTES {
        let n = read_some(&mut reader, &mut buf).map_err(read_err)?;
        if n == 0 {
            at_end = true;
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    // A CR-only file (CRs and no LF in the head): each CR ends a line.
    let cr_only = leakline::ingest::line_end_of(&head) == Some(b'\r');
    let lf = |b: &mut [u8]| {
        if cr_only {
            b.iter_mut().filter(|c| **c == b'\r').for_each(|c| *c = b'\n');
        }
    };
    lf(&mut head);
    match forced {
        Some(Forced::Access(f)) => options.access_format = Some(f),
        Some(Forced::Scan(f)) => options.scan_format = Some(f),
        // Access first; only when nothing matched is the scanner sniffing asked.
        None => match access::detect_head(&head) {
            Some(f) => options.access_format = Some(f),
            // Nothing but whitespace: no format to find (the decoder reports "unknown").
            None if head.iter().all(u8::is_ascii_whitespace) => {
                options.kind = Some(SourceKind::Access);
            }
            None => options.kind = Some(SourceKind::Scan),
        },
    }
    let mut decoder = Decoder::new(options);
    let mut events = Vec::new();
    let mut sample = Sample::default();
    decoder.feed(&head, &mut events);
    emit(&mut events, print_events, redactor, &mut sample, out)?;
    if !at_end {
        loop {
            let n = read_some(&mut reader, &mut buf).map_err(read_err)?;
            if n == 0 {
                break;
            }
            lf(&mut buf[..n]);
            decoder.feed(&buf[..n], &mut events);
            emit(&mut events, print_events, redactor, &mut sample, out)?;
        }
    }
    decoder.finish(&mut events);
    emit(&mut events, print_events, redactor, &mut sample, out)?;
    drop(reader);
    let sha256 = hash.finish(path).map_err(FileError::Source)?;
    let malformed = decoder.stats().malformed_samples.clone();
    let tz = options_tz;
    Ok(Report {
        path: path.to_path_buf(),
        tz,
        format: decoder.format(),
        sha256,
        decoder,
        malformed,
        sample,
    })
}

fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

fn emit(
    events: &mut Vec<Event>,
    print: bool,
    redactor: Option<&Redactor>,
    sample: &mut Sample,
    out: &mut impl Write,
) -> Result<(), FileError> {
    for e in events.iter() {
        if let Event::Request(r) = e
            && let Some(client) = r.client
        {
            let target = if r.target.is_empty() { &r.raw_request } else { &r.target };
            sample.add(fingerprint(r.time, client, target, r.status, r.bytes_sent));
        }
    }
    if print {
        let mut counts = RedactionCounts::default();
        for e in events.iter_mut() {
            if let Some(r) = redactor {
                redact_event(r, e, &mut counts);
            }
            serde_json::to_writer(&mut *out, e).map_err(|e| FileError::Output(e.into()))?;
            out.write_all(b"\n").map_err(FileError::Output)?;
        }
    }
    events.clear();
    Ok(())
}

fn time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(leakline::text::rfc3339)
}

fn render(r: &Report, as_json: bool) -> String {
    let s = r.decoder.stats();
    let scan = r.decoder.scan_summary();
    if as_json {
        let mut v = json!({
            "path": r.path.display().to_string(),
            "format": r.format.name(),
            "lines": s.lines,
            "events": s.events,
            "malformed": s.malformed,
            "malformed_lines": r.malformed.iter()
                .map(|(line, reason)| json!({"line": line, "reason": reason}))
                .collect::<Vec<_>>(),
            "oversized": s.oversized,
            "skipped": s.skipped,
            "first_event": time(s.first_event),
            "last_event": time(s.last_event),
            "sha256": r.sha256,
            "zone_assumed": s.zone_assumed,
            "assumed_zone": s.zone_assumed.then(|| r.tz.name()),
        });
        if let (Some(formats), Some(obj)) = (per_format(r, s), v.as_object_mut()) {
            let formats: serde_json::Map<String, serde_json::Value> =
                formats.into_iter().map(|(f, n)| (f, json!(n))).collect();
            obj.insert("formats".into(), serde_json::Value::Object(formats));
        }
        if let (false, Some(obj)) = (s.waf_actions.is_empty(), v.as_object_mut()) {
            obj.insert("waf_actions".into(), json!(s.waf_actions));
        }
        if let (Some(sum), Some(obj)) = (scan, v.as_object_mut()) {
            let by_state: serde_json::Map<String, serde_json::Value> =
                sum.by_state.iter().map(|(k, n)| (k.as_str().to_owned(), json!(n))).collect();
            obj.insert("hosts".into(), json!(sum.hosts));
            obj.insert("observations".into(), json!(sum.observations));
            obj.insert("by_state".into(), serde_json::Value::Object(by_state));
            obj.insert("incomplete".into(), json!(sum.incomplete));
            obj.insert("notes".into(), json!(sum.notes));
        }
        return format!("{v}\n");
    }
    text(r, s, scan.as_ref()).unwrap_or_default()
}

/// Events per format of a mixed access file (the source's format first, then the formats
/// that read the lines it could not); `None` when one format read every event.
fn per_format(r: &Report, s: &leakline::ingest::SourceStats) -> Option<Vec<(String, u64)>> {
    if s.other_formats.is_empty() {
        return None;
    }
    let others: u64 = s.other_formats.values().sum();
    let own = (r.format.name().to_owned(), s.events.saturating_sub(others));
    Some(std::iter::once(own).chain(s.other_formats.iter().map(|(f, n)| (f.clone(), *n))).collect())
}

/// The human-readable block for one file.
fn text(
    r: &Report,
    s: &leakline::ingest::SourceStats,
    scan: Option<&leakline::ingest::scan::ScanSummary>,
) -> Result<String, std::fmt::Error> {
    use std::fmt::Write as _;
    let mut t = String::new();
    writeln!(t, "{}", clean(&r.path.display().to_string()))?;
    writeln!(t, "  format      {}", r.format.name())?;
    writeln!(
        t,
        "  lines       {} ({} events, {} skipped, {} malformed, {} oversized)",
        s.lines, s.events, s.skipped, s.malformed, s.oversized
    )?;
    let none = || "-".to_owned();
    writeln!(t, "  first event {}", time(s.first_event).unwrap_or_else(none))?;
    writeln!(t, "  last event  {}", time(s.last_event).unwrap_or_else(none))?;
    writeln!(t, "  sha256      {}", r.sha256)?;
    if s.zone_assumed {
        writeln!(
            t,
            "  WARNING     times have no zone or UTC offset: read as {} (--tz ZONE to change)",
            r.tz.name()
        )?;
    }
    if let Some(formats) = per_format(r, s) {
        let list: Vec<String> = formats.iter().map(|(f, n)| format!("{f} {n}")).collect();
        writeln!(t, "  formats     {} (mixed file: events per format)", list.join(", "))?;
    }
    if !s.waf_actions.is_empty() {
        let list: Vec<String> = s.waf_actions.iter().map(|(a, n)| format!("{a} {n}")).collect();
        writeln!(
            t,
            "  waf actions {} (requests that reached the edge; no response status)",
            list.join(", ")
        )?;
    }
    for (line, reason) in &r.malformed {
        writeln!(t, "  malformed   line {line}: {}", clean(reason))?;
    }
    if let Some(sum) = scan {
        writeln!(t, "  hosts       {} ({} observations)", sum.hosts, sum.observations)?;
        for (state, n) in &sum.by_state {
            writeln!(t, "  {:<11} {n}", state.as_str())?;
        }
        if sum.incomplete {
            writeln!(t, "  incomplete  the file ended before its end marker")?;
        }
        for note in &sum.notes {
            writeln!(t, "  note        {}", clean(note))?;
        }
    }
    Ok(t)
}
