//! The Markdown report (GitHub-flavoured: tables), for postmortem docs and tickets.
//!
//! Attacker-derived strings only ever appear inside code spans (see [`escape::md_code`]);
//! operator text is backslash-escaped; so no link, image, HTML tag or table break can be
//! injected, and control characters never reach the file.

use std::fmt::Write as _;
use std::io;

use super::escape::{self, MdContext};
use super::method::METHOD;
use super::model::{
    ActorTable, PlaybookRecord, ReportModel, Served, ServiceRow, StepRecord, Tables, WindowRow,
    redaction_kinds,
};
use super::moments::gap_label;
use super::text::{Para, Seg, duration, plural, thousands, time};
use crate::correlate::coverage;
use crate::model::snapshot::ServiceState;

fn para(p: &Para, ctx: MdContext) -> String {
    let mut out = String::new();
    for seg in p {
        match seg {
            Seg::Lit(s) => out.push_str(s),
            Seg::Text(s) => out.push_str(&escape::md_text(s)),
            Seg::Strong(s) => {
                let _ = write!(out, "**{}**", escape::md_text(s));
            }
            Seg::Data(s) => out.push_str(&escape::md_code(s, ctx)),
        }
    }
    out
}

fn code(s: &str) -> String {
    escape::md_code(s, MdContext::TableCell)
}

fn opt_time(t: Option<chrono::DateTime<chrono::Utc>>, none: &str) -> String {
    t.map_or_else(|| none.to_owned(), time)
}

/// Write a table: header cells, then rows (cells already escaped for a table).
fn table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
    out.push('\n');
}

fn header(m: &ReportModel, out: &mut String) {
    let name = if m.case_name.trim().is_empty() { "(unnamed case)" } else { &m.case_name };
    let _ = writeln!(out, "# Incident report: {}\n", escape::md_text(name));
    let redaction = if m.redaction.enabled {
        format!("on ({} replaced)", plural(m.redaction.counts.total(), "secret", "secrets"))
    } else {
        "**off** (`--no-redact`: secrets appear as logged)".to_owned()
    };
    let as_of = if m.snapshot.stats.events == 0 {
        "no evidence was read".to_owned()
    } else {
        format!("evidence as of {}", time(m.snapshot.as_of))
    };
    let _ = writeln!(
        out,
        "Generated {} by leakline {} · {as_of} · all times UTC · redaction {}\n",
        time(m.generated_at),
        escape::md_text(&m.version),
        redaction
    );
}

/// The problems with the evidence (unread sources, doubled logs, services without
/// evidence), before the services that rest on it.
fn problems(m: &ReportModel, out: &mut String) {
    let problems = coverage::problems(&m.snapshot);
    if problems.is_empty() {
        return;
    }
    out.push_str("## Evidence problems\n\n");
    for p in problems {
        let _ = writeln!(out, "- **{}**", escape::md_text(&p));
    }
    out.push('\n');
}

fn services(t: &Tables, out: &mut String) {
    out.push_str("## Services and exposure windows\n\n");
    if t.services.is_empty() {
        out.push_str("No services were configured or observed.\n\n");
        return;
    }
    let rows: Vec<Vec<String>> = t
        .services
        .iter()
        .map(|s| {
            let state = match s.state {
                ServiceState::Open => "**open**",
                ServiceState::Closed => "closed",
                ServiceState::NeverExposed => "never exposed",
                ServiceState::Unknown => "**unknown** (no evidence)",
            };
            let addrs: Vec<String> = s.addresses.iter().map(|a| code(a)).collect();
            vec![
                code(s.name),
                state.to_owned(),
                if addrs.is_empty() { "—".to_owned() } else { addrs.join(", ") },
                s.windows.len().to_string(),
                thousands(s.requests),
                thousands(s.successes),
                thousands(s.bytes),
                thousands(s.clients),
            ]
        })
        .collect();
    table(
        out,
        &[
            "Service",
            "State",
            "Addresses",
            "Windows",
            "Ext. requests",
            "Successes",
            "Bytes",
            "Clients",
        ],
        &rows,
    );
    for s in t.services.iter().filter(|s| !s.note.is_empty()) {
        let _ = writeln!(
            out,
            "- {}: {}",
            escape::md_code(s.name, MdContext::Prose),
            escape::md_text(&s.note)
        );
    }
    out.push('\n');
    for s in t.services.iter().filter(|s| !s.windows.is_empty()) {
        windows(s, out);
    }
}

fn windows(s: &ServiceRow, out: &mut String) {
    let _ = writeln!(out, "### {}\n", escape::md_code(s.name, MdContext::Prose));
    let rows: Vec<Vec<String>> = s
        .windows
        .iter()
        .map(|w| {
            let opened = format!(
                "{} – {}",
                opt_time(w.opened_earliest, "before observation"),
                time(w.opened_latest)
            );
            let closed = match w.closed {
                Some((earliest, latest)) => format!("{} – {}", time(earliest), time(latest)),
                None => format!("**still open** (last positive {})", time(w.last_positive)),
            };
            let dur = match w.most_secs {
                Some(mx) => format!("{} – {}", duration(w.least_secs), duration(mx)),
                None => format!("≥ {}", duration(w.least_secs)),
            };
            vec![
                w.number.to_string(),
                opened,
                closed,
                dur,
                thousands(w.requests),
                thousands(w.successes),
                thousands(w.bytes),
                thousands(w.clients),
                format!("{} / {}", w.positive, w.negative),
            ]
        })
        .collect();
    table(
        out,
        &[
            "#",
            "Opened (between)",
            "Closed (between)",
            "Duration",
            "Requests",
            "Successes",
            "Bytes",
            "Clients",
            "Evidence + / −",
        ],
        &rows,
    );
    for w in &s.windows {
        let mut lines = Vec::new();
        for (label, hit) in [
            ("first external request", w.first_external),
            ("first non-scanner success", w.first_non_scanner_success),
        ] {
            match hit {
                Some(h) => lines.push(format!(
                    "- Window {}, {label}: {} from {}: {} → {}, user agent {}",
                    w.number,
                    time(h.time),
                    escape::md_code(&h.client, MdContext::Prose),
                    escape::md_code(&format!("{} {}", h.method, h.path), MdContext::Prose),
                    h.status,
                    escape::md_code(&h.user_agent, MdContext::Prose)
                )),
                None => lines.push(format!("- Window {}, {label}: none", w.number)),
            }
        }
        out.push_str(&lines.join("\n"));
        out.push_str("\n\n");
        served(w, out);
    }
}

/// A window's "What was served" table: the sensitive rules first (bold), then the most
/// requested paths (a sensitive one marked with its label).
fn served(w: &WindowRow, out: &mut String) {
    if w.served.is_empty() {
        return;
    }
    let _ = writeln!(out, "#### What was served — window {}\n", w.number);
    let count = |n: Option<u64>| n.map_or_else(|| "—".to_owned(), thousands);
    let rows: Vec<Vec<String>> = w
        .served
        .iter()
        .map(|r| match r.kind {
            Served::Rule { first_success } => {
                let first = match first_success {
                    Some(h) => format!(
                        "{} from {}: {} → {}",
                        time(h.time),
                        escape::md_code(&h.client, MdContext::TableCell),
                        escape::md_code(&format!("{} {}", h.method, h.path), MdContext::TableCell),
                        h.status
                    ),
                    None => "none".to_owned(),
                };
                vec![
                    format!("**{}**", escape::md_code(r.path, MdContext::TableCell)),
                    format!("**⚠ {}**", escape::md_text(r.label.unwrap_or_default())),
                    thousands(r.requests),
                    count(r.successes),
                    count(r.bytes),
                    first,
                ]
            }
            Served::Path => vec![
                escape::md_code(r.path, MdContext::TableCell),
                r.label.map_or_else(String::new, |l| format!("⚠ {}", escape::md_text(l))),
                thousands(r.requests),
                count(r.successes),
                count(r.bytes),
                String::new(),
            ],
        })
        .collect();
    table(out, &["Path", "Sensitive", "Requests", "Successes", "Bytes", "First success"], &rows);
    out.push('\n');
}

fn moments(m: &ReportModel, out: &mut String) {
    out.push_str("## Key moments\n\n");
    if m.moments.is_empty() {
        out.push_str("Nothing notable in the evidence.\n\n");
        return;
    }
    let rows: Vec<Vec<String>> = m
        .moments
        .iter()
        .map(|mo| {
            vec![
                time(mo.time),
                mo.kind.label().to_owned(),
                mo.service.as_deref().map_or_else(|| "—".to_owned(), code),
                para(&mo.text, MdContext::TableCell),
            ]
        })
        .collect();
    table(out, &["Time (UTC)", "Kind", "Service", "What happened"], &rows);
}

/// Every actor aggregated by key (network prefix…): the largest groups by bytes.
fn actor_groups(t: &Tables, out: &mut String) {
    for g in &t.actor_groups {
        let _ = writeln!(
            out,
            "## Actors by {} (top {} of {} by bytes)\n",
            g.title,
            g.rows.len(),
            thousands(g.total)
        );
        let rows: Vec<Vec<String>> = g
            .rows
            .iter()
            .map(|x| {
                vec![
                    code(&x.key),
                    thousands(x.clients),
                    thousands(x.requests),
                    thousands(x.successes),
                    thousands(x.bytes),
                    time(x.first_seen),
                    time(x.last_seen),
                ]
            })
            .collect();
        let head =
            ["Group", "Clients", "Requests", "Successes", "Bytes", "First seen", "Last seen"];
        table(out, &head, &rows);
    }
}

fn actors(t: &ActorTable, out: &mut String) {
    let _ = writeln!(out, "## Actors (top {} of {} by bytes)\n", t.rows.len(), thousands(t.total));
    if t.listed == 0 {
        out.push_str("No external clients.\n\n");
        return;
    }
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|a| {
            let class = match a.scanner {
                Some(name) => format!("{} ({})", a.class.as_str(), code(name)),
                None => a.class.as_str().to_owned(),
            };
            let paths: Vec<String> = a.top_paths.iter().map(|p| code(p)).collect();
            let mut row = vec![code(&a.client.to_string()), class];
            if t.enriched {
                let (org, country) = &a.network;
                row.push(org.as_deref().map_or_else(|| "—".to_owned(), escape::md_text));
                row.push(country.as_deref().map_or_else(|| "—".to_owned(), escape::md_text));
            }
            row.extend([
                time(a.first_seen),
                time(a.last_seen),
                thousands(a.requests),
                thousands(a.successes),
                thousands(a.bytes),
                a.services.iter().map(|s| code(s)).collect::<Vec<_>>().join(", "),
                if paths.is_empty() { "—".to_owned() } else { paths.join(", ") },
                a.user_agent.map_or_else(|| "—".to_owned(), code),
            ]);
            row
        })
        .collect();
    let mut head = vec!["Client", "Class"];
    if t.enriched {
        head.extend(["Network", "Country"]);
    }
    head.extend([
        "First seen",
        "Last seen",
        "Requests",
        "Successes",
        "Bytes",
        "Services",
        "Top paths",
        "User agent",
    ]);
    table(out, &head, &rows);
}

fn step_row(s: &StepRecord) -> Vec<String> {
    let sla = match (s.sla_minutes, s.sla) {
        (Some(min), Some(o)) => format!("{min} min, {}", o.as_str()),
        (Some(min), None) => format!("{min} min"),
        (None, _) => "—".to_owned(),
    };
    let mut detail = Vec::new();
    if !s.skip_reason.is_empty() {
        detail.push(format!("skipped: {}", escape::md_text(&s.skip_reason)));
    }
    if let Some(v) = &s.verification {
        let mut line = format!("**{}**: {}", v.outcome.as_str(), escape::md_text(&v.summary));
        for e in &v.evidence {
            let _ = write!(line, "; {}", escape::md_text(e));
        }
        for c in &v.caveats {
            let _ = write!(line, "; caveat: {}", escape::md_text(c));
        }
        detail.push(line);
    }
    vec![
        format!("{} ({})", escape::md_text(&s.title), code(&s.id)),
        escape::md_text(&s.role),
        s.state_label(),
        opt_time(s.started, "—"),
        opt_time(s.done, "—"),
        if s.operator.is_empty() { "—".to_owned() } else { escape::md_text(&s.operator) },
        sla,
        if detail.is_empty() { "—".to_owned() } else { detail.join("; ") },
    ]
}

/// Warnings a reader must see before anything else: evidence that changed or vanished since
/// the case hashed it.
fn warnings(m: &ReportModel, out: &mut String) {
    let Some(case) = &m.case else { return };
    for e in case.evidence_problems() {
        let _ = writeln!(
            out,
            "> **Warning: evidence {}** since the case recorded it: {} (recorded sha256 {}, now {})\n",
            e.status.as_str(),
            escape::md_code(&e.path, MdContext::Prose),
            escape::md_code(&e.sha256_recorded, MdContext::Prose),
            e.sha256_now
                .as_deref()
                .map_or_else(|| "unreadable".to_owned(), |h| escape::md_code(h, MdContext::Prose))
        );
    }
}

fn step_history(pb: &PlaybookRecord, out: &mut String) {
    out.push_str("### Step history\n\n");
    for step in &pb.steps {
        let _ = writeln!(out, "- {} ({}):", escape::md_text(&step.title), code(&step.id));
        if step.history.is_empty() {
            out.push_str("  - no journal records\n");
        }
        for h in &step.history {
            let note = if h.note.is_empty() {
                String::new()
            } else {
                format!(": {}", escape::md_text(&h.note))
            };
            let _ = writeln!(
                out,
                "  - #{} {} {} by {}{note}",
                h.seq,
                time(h.at),
                escape::md_text(&h.action),
                escape::md_text(&h.by)
            );
        }
    }
    out.push('\n');
}

/// The journal itself, every record, and the chain's verification result.
fn journal(m: &ReportModel, out: &mut String) {
    let Some(case) = &m.case else { return };
    out.push_str("\n## Journal\n\n");
    if let Some(j) = &case.journal {
        let _ = writeln!(out, "Chain verification: {}\n", escape::md_text(&j.verification));
    }
    let rows: Vec<Vec<String>> = case
        .records
        .iter()
        .map(|r| {
            vec![
                r.seq.to_string(),
                time(r.at),
                escape::md_text(&r.operator),
                code(&r.kind),
                escape::md_text(&r.text),
                code(&r.hash),
            ]
        })
        .collect();
    table(out, &["#", "Time (UTC)", "Operator", "Kind", "Text", "Hash"], &rows);
}

fn playbook(m: &ReportModel, out: &mut String) {
    let Some(case) = &m.case else { return };
    out.push_str("## Playbook record\n\n");
    let _ = writeln!(out, "Case status: {}\n", escape::md_text(&case.status_line()));
    if let Some(at) = case.opened_at {
        let by = if case.opened_by.is_empty() {
            String::new()
        } else {
            format!(" by {}", escape::md_text(&case.opened_by))
        };
        let _ = writeln!(out, "Case opened {}{by}; SLAs count from then.\n", time(at));
    }
    match &case.playbook {
        Some(pb) => {
            let _ = writeln!(
                out,
                "Playbook {} ({}).\n",
                escape::md_text(&pb.title),
                escape::md_code(&pb.id, MdContext::Prose)
            );
            let rows: Vec<Vec<String>> = pb.steps.iter().map(step_row).collect();
            table(
                out,
                &[
                    "Step",
                    "Role",
                    "State",
                    "Started",
                    "Done",
                    "By",
                    "SLA",
                    "Skip reason / verification",
                ],
                &rows,
            );
            step_history(pb, out);
        }
        None => out.push_str("No playbook was started for this case.\n\n"),
    }
    out.push_str("### Notes\n\n");
    if case.notes.is_empty() {
        out.push_str("No notes.\n\n");
    } else {
        for n in &case.notes {
            let by = if n.by.is_empty() {
                String::new()
            } else {
                format!(" {}", escape::md_text(&n.by))
            };
            let _ = writeln!(out, "- {}{by}: {}", time(n.at), escape::md_text(&n.text));
        }
        out.push('\n');
    }
}

fn evidence(m: &ReportModel, t: &Tables, out: &mut String) {
    out.push_str("## Evidence\n\n");
    if let Some(case) = m.case.as_ref().filter(|c| !c.evidence.is_empty()) {
        out.push_str("Files the case journal recorded, re-hashed for this report:\n\n");
        let rows: Vec<Vec<String>> = case
            .evidence
            .iter()
            .map(|e| {
                vec![
                    code(&e.path),
                    e.status.as_str().to_owned(),
                    code(&e.sha256_recorded),
                    e.sha256_now.as_deref().map_or_else(|| "—".to_owned(), code),
                ]
            })
            .collect();
        table(out, &["File", "Status", "SHA-256 recorded", "SHA-256 now"], &rows);
    }
    let snap = &m.snapshot;
    if t.sources.is_empty() {
        out.push_str("No sources were read.\n\n");
    } else {
        let rows: Vec<Vec<String>> = t
            .sources
            .iter()
            .map(|s| {
                vec![
                    code(s.path),
                    s.kind_name().to_owned(),
                    code(s.format),
                    s.sha256.map_or_else(|| "— (stream)".to_owned(), code),
                    thousands(s.lines),
                    thousands(s.events),
                    thousands(s.malformed),
                    opt_time(s.first_event, "—"),
                    opt_time(s.last_event, "—"),
                ]
            })
            .collect();
        table(
            out,
            &[
                "Source",
                "Kind",
                "Format",
                "SHA-256",
                "Lines",
                "Events",
                "Malformed",
                "First event",
                "Last event",
            ],
            &rows,
        );
    }
    if snap.gaps.is_empty() {
        out.push_str("No ingest gaps or source incidents were recorded.\n\n");
    } else {
        out.push_str("Ingest gaps and source incidents:\n\n");
        for g in &snap.gaps {
            let to = g.to.map_or_else(|| "ongoing".to_owned(), time);
            let _ = writeln!(
                out,
                "- {} – {}: {} in {}: {}",
                time(g.from),
                to,
                gap_label(g.kind),
                escape::md_code(&g.path, MdContext::Prose),
                escape::md_code(&g.reason, MdContext::Prose)
            );
        }
        out.push('\n');
    }
}

fn method(out: &mut String) {
    out.push_str("## Method\n\n");
    for (lead, body) in METHOD {
        let _ = writeln!(out, "**{lead}** {body}\n");
    }
}

fn integrity(m: &ReportModel, out: &mut String) {
    out.push_str("## Integrity\n\n");
    match m.case.as_ref().and_then(|c| c.journal.as_ref()) {
        Some(j) => {
            let _ = writeln!(
                out,
                "- Journal head: {} ({})",
                escape::md_code(&j.head_hash, MdContext::Prose),
                plural(j.records, "record", "records")
            );
            if j.problems.is_empty() {
                out.push_str("- Journal chain: verified intact\n");
            }
            for p in &j.problems {
                let _ = writeln!(out, "- **Journal problem**: {}", escape::md_text(p));
            }
        }
        None => out.push_str("- Journal head: none (report generated without a case)\n"),
    }
    let _ = writeln!(out, "- leakline version: {}", escape::md_code(&m.version, MdContext::Prose));
    let _ = writeln!(out, "- Generated at: {} UTC", time(m.generated_at));
    if m.snapshot.stats.events == 0 {
        out.push_str("- Evidence as of: no evidence was read\n");
    } else {
        let _ = writeln!(out, "- Evidence as of: {} UTC", time(m.snapshot.as_of));
    }
    if m.redaction.enabled {
        let kinds: Vec<String> =
            redaction_kinds(m).into_iter().map(|(k, n)| format!("{k} {}", thousands(n))).collect();
        let detail = if kinds.is_empty() { "none found".to_owned() } else { kinds.join(", ") };
        let _ = writeln!(out, "- Redaction: on ({detail})");
    } else {
        out.push_str("- Redaction: **off** — this report may contain secrets\n");
    }
}

/// Write the Markdown report.
pub fn write_markdown<W: io::Write + ?Sized>(m: &ReportModel, w: &mut W) -> io::Result<()> {
    let mut out = String::with_capacity(16 * 1024);
    header(m, &mut out);
    warnings(m, &mut out);
    out.push_str("## Summary\n\n");
    out.push_str(&para(&m.summary, MdContext::Prose));
    out.push_str("\n\n");
    for c in super::caveats::caveats(&m.snapshot) {
        let _ = writeln!(out, "> ⚠ {}\n", para(&c, MdContext::Prose));
    }
    let tables = m.tables();
    problems(m, &mut out);
    services(&tables, &mut out);
    moments(m, &mut out);
    actors(&tables.actors, &mut out);
    actor_groups(&tables, &mut out);
    playbook(m, &mut out);
    evidence(m, &tables, &mut out);
    method(&mut out);
    integrity(m, &mut out);
    journal(m, &mut out);
    w.write_all(out.as_bytes())
}
