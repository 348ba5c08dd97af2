//! The `text` summary of `leakline analyze`: services, windows with bounds and durations,
//! top actors by bytes, source health. Attacker-controlled strings go through
//! [`leakline::text::sanitize`] (visible escapes, cut), so a log line cannot drive the
//! terminal; bytes, durations and times are written by [`leakline::text`] as everywhere else.

use std::fmt::Write as _;
use std::io;

use chrono::{DateTime, Utc};
use leakline::correlate::coverage;
use leakline::model::snapshot::{DuplicateBy, Hit, ServiceState, WindowStatus};
use leakline::model::{PortState, Snapshot};
use leakline::report::RedactionRecord;
use leakline::text::{bytes, duration, rfc3339 as ts, sanitize as clean};

/// Actors listed.
const TOP_ACTORS: usize = 10;

fn ts_opt(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "?".to_string(), ts)
}

fn hit_line(label: &str, h: &Hit) -> String {
    format!(
        "      {label:<22} {}  {}  {} {}  {}  {}\n",
        ts(h.time),
        h.client,
        clean(&h.method, 10),
        clean(&h.path, 60),
        h.status,
        clean(&h.user_agent, 50)
    )
}

pub fn write(s: &Snapshot, redaction: &RedactionRecord, mut out: impl io::Write) -> io::Result<()> {
    let mut t = String::new();
    if s.stats.events == 0 {
        let _ = writeln!(t, "{}  (no evidence was read)", clean(&s.case_name, 80));
    } else {
        let _ = writeln!(t, "{}  (as of {})", clean(&s.case_name, 80), ts(s.as_of));
    }
    for c in leakline::report::caveats::caveats(s) {
        let _ = writeln!(t, "WARNING {}", clean(&leakline::report::caveats::plain(&c), 400));
    }
    problems(s, &mut t);
    services(s, &mut t);
    actors(s, &mut t);
    sources(s, &mut t);
    let _ = writeln!(
        t,
        "\n{} lines, {} events, {} malformed, {} ms",
        s.stats.lines, s.stats.events, s.stats.malformed, s.stats.elapsed_ms
    );
    if redaction.enabled {
        let kinds: Vec<String> =
            redaction.counts.0.iter().map(|(k, n)| format!("{} {n}", k.as_str())).collect();
        let _ = writeln!(
            t,
            "redaction on: {} secrets replaced by markers{}{} (--no-redact shows them)",
            redaction.counts.total(),
            if kinds.is_empty() { "" } else { ": " },
            kinds.join(", ")
        );
    } else {
        let _ = writeln!(t, "redaction OFF (--no-redact): secrets are shown as logged");
    }
    out.write_all(t.as_bytes())
}

/// The problems with the evidence, before anything that rests on it.
fn problems(s: &Snapshot, t: &mut String) {
    let problems = coverage::problems(s);
    if problems.is_empty() {
        return;
    }
    let _ = writeln!(t, "\nEVIDENCE PROBLEMS");
    for p in problems {
        let _ = writeln!(t, "  ! {}", clean(&p, 300));
    }
}

fn services(s: &Snapshot, t: &mut String) {
    let _ = writeln!(t, "\nSERVICES");
    for svc in &s.services {
        let state = match svc.state {
            ServiceState::Open => "OPEN",
            ServiceState::Closed => "closed",
            ServiceState::NeverExposed => "never exposed",
            ServiceState::Unknown => "UNKNOWN",
        };
        let _ = writeln!(
            t,
            "  {:<28} {:<14} windows {:<3} external {:>9} req {:>7} clients {:>10}  internal {}",
            clean(&svc.name, 28),
            state,
            svc.windows.len(),
            svc.external_requests,
            svc.external_clients,
            bytes(svc.external_bytes),
            svc.internal_requests
        );
        let note = coverage::verdict_note(svc);
        if !note.is_empty() {
            let _ = writeln!(t, "      {}", clean(&note, 200));
        }
        if svc.unattributed_requests > 0 {
            let _ = writeln!(
                t,
                "      {} requests without a client address (not evidence)",
                svc.unattributed_requests
            );
        }
        if svc.forwarded_unknown_requests > 0 {
            let _ = writeln!(
                t,
                "      {} external requests with an unknown client (junk in X-Forwarded-For behind a trusted proxy)",
                svc.forwarded_unknown_requests
            );
        }
        for (i, w) in svc.windows.iter().enumerate() {
            let status = if w.status == WindowStatus::Open { "OPEN" } else { "closed" };
            let end = w.closed_latest.unwrap_or(s.as_of);
            let min = w.closed_earliest - w.opened_latest;
            let max = w.opened_earliest.map(|o| end - o);
            let _ = writeln!(
                t,
                "    #{:<2} {:<6} opened {} .. {}  closed {} .. {}",
                i + 1,
                status,
                ts_opt(w.opened_earliest),
                ts(w.opened_latest),
                ts(w.closed_earliest),
                w.closed_latest.map_or_else(|| "still open".to_string(), ts),
            );
            let _ = writeln!(
                t,
                "        duration at least {}, at most {}{}",
                duration(min),
                max.map_or_else(|| "unknown (no earlier negative evidence)".to_string(), duration),
                if w.closed_latest.is_none() { " (until as-of)" } else { "" }
            );
            let _ = writeln!(
                t,
                "        {} external requests ({} successful), {} clients, {} sent; evidence +{} -{}",
                w.external_requests,
                w.external_successes,
                w.external_clients,
                bytes(w.external_bytes),
                w.evidence.positive,
                w.evidence.negative
            );
            if let Some(h) = &w.first_external {
                t.push_str(&hit_line("first external", h));
            }
            if let Some(h) = &w.first_non_scanner_success {
                t.push_str(&hit_line("first non-scanner 2xx/3xx", h));
            }
            for sp in &w.sensitive {
                let _ = writeln!(
                    t,
                    "      SENSITIVE {} ({}): {} requests ({} successful), {} sent",
                    clean(&sp.label, 40),
                    clean(&sp.path, 60),
                    sp.requests,
                    sp.successes,
                    bytes(sp.bytes)
                );
                match &sp.first_success {
                    Some(h) => t.push_str(&hit_line("  first success", h)),
                    None => t.push_str("        first success        none\n"),
                }
            }
        }
    }
}

fn actors(s: &Snapshot, t: &mut String) {
    let _ = writeln!(t, "\nTOP ACTORS BY BYTES");
    if s.actors.is_empty() {
        let _ = writeln!(t, "  (no external clients)");
    }
    for a in s.actors.iter().take(TOP_ACTORS) {
        let _ = writeln!(
            t,
            "  {:<39} {:<8} {:>10} {:>7} req {:>7} ok  {} .. {}  {}",
            a.client.to_string(),
            a.class.as_str(),
            bytes(a.bytes),
            a.requests,
            a.successes,
            ts(a.first_seen),
            ts(a.last_seen),
            a.scanner.as_deref().map(|n| clean(n, 30)).unwrap_or_default()
        );
        if let Some(line) = enrichment_line(s, a.client) {
            let _ = writeln!(t, "    {line}");
        }
    }
    let total = s.actors_total();
    let shown = s.actors.len().min(TOP_ACTORS) as u64;
    if total > shown {
        let _ = writeln!(t, "  … {} more", total - shown);
    }
}

/// `AS15169 Google Inc. · GB United Kingdom · London · lists aws EC2 us-west-2` under an
/// actor, when databases or range files were given (`None` otherwise).
fn enrichment_line(s: &Snapshot, client: std::net::IpAddr) -> Option<String> {
    if !s.enrichment.configured() {
        return None;
    }
    let Some(e) = s.enrichment.of(client) else {
        return Some("(no database or list knows this address)".into());
    };
    let mut parts = leakline::model::enrichment::network_and_country(
        e.org_label().map(|o| clean(&o, 60).into_owned()),
        e.country.as_ref().map(|c| clean(&c.label(), 60).into_owned()),
    );
    if let Some(name) = e.city.as_ref().and_then(|c| c.name.as_deref()) {
        parts.push(clean(name, 40).into_owned());
    }
    if !e.lists.is_empty() {
        let lists: Vec<String> = e.lists.iter().map(super::super::list_label).collect();
        parts.push(format!("lists {}", lists.join("; ")));
    }
    Some(parts.join(" · "))
}

fn sources(s: &Snapshot, t: &mut String) {
    let _ = writeln!(t, "\nSOURCES");
    for src in &s.sources {
        let kind = match src.kind {
            leakline::model::SourceKind::Access => "access",
            leakline::model::SourceKind::Scan => "scan",
        };
        let _ = writeln!(
            t,
            "  {:<6} {:<14} {:>10} lines {:>10} events {:>7} malformed  {} .. {}  {}",
            kind,
            src.format,
            src.lines,
            src.events,
            src.malformed,
            ts_opt(src.first_event),
            ts_opt(src.last_event),
            clean(&src.path, 200)
        );
        if src.unmatched.observations > 0 {
            let _ = writeln!(
                t,
                "           {} targets ({} observations) matched no service and were never open: not listed",
                src.unmatched.targets, src.unmatched.observations
            );
        }
        let neither: Vec<String> = [
            (PortState::Ambiguous, "ambiguous (the scanner could not tell)"),
            (PortState::HostFinding, "host findings (not about a port)"),
        ]
        .iter()
        .filter_map(|(state, what)| src.scan_states.get(state).map(|n| format!("{n} {what}")))
        .collect();
        if !neither.is_empty() {
            let _ = writeln!(
                t,
                "           {}: neither positive nor negative evidence",
                neither.join(", ")
            );
        }
        for e in &src.errors {
            let _ = writeln!(t, "           error: {}", clean(e, 200));
        }
        for a in &src.aliases {
            let _ = writeln!(
                t,
                "           also reached as {} (the same file, read once)",
                clean(a, 200)
            );
        }
        if !src.waf_actions.is_empty() {
            let list: Vec<String> =
                src.waf_actions.iter().map(|(a, n)| format!("{a} {n}")).collect();
            let _ = writeln!(
                t,
                "           WAF actions: {} (each reached the edge: evidence; no response status: no success)",
                list.join(", ")
            );
        }
        if src.zone_assumed {
            let _ = writeln!(
                t,
                "           zone assumed: times without zone read as {}",
                clean(&s.timezone, 60)
            );
        }
        if let Some(kept) = &src.duplicate_of {
            let _ = if src.duplicate_by == Some(DuplicateBy::Content) {
                writeln!(
                    t,
                    "           identical content (SHA-256) to {}: counted once",
                    clean(kept, 200)
                )
            } else {
                writeln!(t, "           same scan run as {}: not counted twice", clean(kept, 200))
            };
        }
        for (line, reason) in src.malformed_samples.iter().take(3) {
            let _ = writeln!(t, "           line {line}: {}", clean(reason, 100));
        }
    }
    for g in &s.gaps {
        let _ = writeln!(t, "  ! {}: {}", clean(&g.path, 200), clean(&g.reason, 200));
    }
}
