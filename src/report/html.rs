//! The self-contained HTML report: one file, inline CSS, inline SVG, no JavaScript, no network
//! fetches (a `Content-Security-Policy` meta forbids everything but inline styles), prints well.
//!
//! Safety invariants: every dynamic string goes through [`escape::html`] into a text node;
//! no attribute value is ever built from attacker- or operator-provided text (attributes carry
//! only leakline's constants and numbers), so no URL, event handler or style can be injected.

use std::fmt::Write as _;
use std::io;

use super::escape::{html, html_raw};
use super::method::METHOD;
use super::model::{
    ActorTable, PlaybookRecord, ReportModel, Served, ServiceRow, SlaOutcome, StepRecord, StepState,
    Tables, VerifyState, WindowRow, redaction_kinds,
};
use super::moments::gap_label;
use super::summary::certain_exposure_secs;
use super::svg;
use super::text::{Para, Seg, bytes, duration, plural, saturating_sum, thousands, time};
use crate::correlate::coverage;
use crate::model::snapshot::{Hit, ServiceState};

/// The CSP: nothing may load; inline `<style>` is allowed.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'";

const CSS: &str = include_str!("report.css");

fn para(p: &Para) -> String {
    let mut out = String::new();
    for seg in p {
        match seg {
            Seg::Lit(s) => out.push_str(&html_raw(s)),
            Seg::Text(s) => out.push_str(&html(s)),
            Seg::Strong(s) => {
                let _ = write!(out, "<strong>{}</strong>", html(s));
            }
            Seg::Data(s) => {
                let _ = write!(out, "<code>{}</code>", html(s));
            }
        }
    }
    out
}

fn code(s: &str) -> String {
    if s.is_empty() {
        "<span class=\"muted\">—</span>".to_owned()
    } else {
        format!("<code>{}</code>", html(s))
    }
}

/// A time that never wraps inside a table cell.
fn ht(t: chrono::DateTime<chrono::Utc>) -> String {
    format!("<span class=\"nw\">{}</span>", time(t))
}

fn opt_time(t: Option<chrono::DateTime<chrono::Utc>>, none: &str) -> String {
    t.map_or_else(|| format!("<span class=\"muted\">{}</span>", html_raw(none)), ht)
}

/// A table; `num` marks right-aligned (numeric) columns by index. Cells are already HTML.
fn table(out: &mut String, head: &[&str], num: &[usize], rows: &[Vec<String>]) {
    out.push_str("<div class=\"scroll\"><table><thead><tr>");
    for (i, h) in head.iter().enumerate() {
        let class = if num.contains(&i) { " class=\"num\"" } else { "" };
        let _ = write!(out, "<th{class}>{}</th>", html_raw(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let class = if num.contains(&i) { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{class}>{c}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>\n");
}

fn head(m: &ReportModel, out: &mut String) {
    let name = if m.case_name.trim().is_empty() { "(unnamed case)" } else { &m.case_name };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Incident report: {}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n",
        html(name)
    );
    let (status_class, status) = if m.snapshot.coverage.nothing_read() && !m.snapshot.any_open() {
        ("pill pill-open", "No evidence read")
    } else if m.snapshot.any_open() {
        ("pill pill-open", "Still exposed")
    } else if m.snapshot.services.iter().any(|s| !s.windows.is_empty()) {
        ("pill pill-closed", "Contained")
    } else if !m.snapshot.coverage.complete() {
        ("pill pill-open", "Evidence incomplete")
    } else {
        ("pill pill-none", "No exposure observed")
    };
    let redaction = if m.redaction.enabled {
        format!("redaction on ({})", plural(m.redaction.counts.total(), "secret", "secrets"))
    } else {
        "<strong class=\"warn\">redaction off</strong>".to_owned()
    };
    let _ = writeln!(
        out,
        "<header><p class=\"kicker\">Incident report</p><h1>{}</h1>\
         <p class=\"meta\"><span class=\"{status_class}\">{status}</span> {} · \
         generated {} UTC by leakline {} · {redaction}</p></header>",
        html(name),
        if m.snapshot.stats.events == 0 {
            "No evidence was read".to_owned()
        } else {
            format!("Evidence as of {} UTC", time(m.snapshot.as_of))
        },
        time(m.generated_at),
        html(&m.version)
    );
}

fn cards(m: &ReportModel, out: &mut String) {
    let snap = &m.snapshot;
    let exposed: Vec<_> = snap.services.iter().filter(|s| !s.windows.is_empty()).collect();
    let least = certain_exposure_secs(snap);
    let served = saturating_sum(exposed.iter().map(|s| s.external_bytes));
    let requests = saturating_sum(exposed.iter().map(|s| s.external_requests));
    let non_scanner = exposed.iter().any(|s| s.first_non_scanner_success.is_some());
    let card = |out: &mut String, label: &str, value: &str, note: &str, alert: bool| {
        let class = if alert { "card alert" } else { "card" };
        let _ = write!(
            out,
            "<div class=\"{class}\"><div class=\"label\">{label}</div><div class=\"value\">{value}</div><div class=\"note\">{note}</div></div>"
        );
    };
    out.push_str("<div class=\"cards\">");
    card(
        out,
        "Exposed services",
        &format!("{} / {}", exposed.len(), snap.services.len()),
        "reachable from the internet",
        !exposed.is_empty(),
    );
    card(out, "Exposure", &format!("≥ {}", duration(least)), "certain part, any service", false);
    card(
        out,
        "External clients",
        &thousands(snap.actors_total()),
        &plural(requests, "request", "requests"),
        false,
    );
    card(out, "Served", &bytes(served), &format!("{} bytes", thousands(served)), false);
    card(
        out,
        "Non-scanner success",
        if non_scanner { "Yes" } else { "No" },
        "a client not on the scanner list got a 2xx/3xx",
        non_scanner,
    );
    out.push_str("</div>\n");
}

fn timeline(m: &ReportModel, out: &mut String) {
    out.push_str("<section id=\"timeline\"><h2>Timeline</h2>\n");
    match svg::timeline(m) {
        Some(svg) => {
            out.push_str("<figure>");
            out.push_str(&svg);
            out.push_str(
                "<figcaption><span class=\"key key-sure\"></span>exposed (between first and last \
                 positive evidence) <span class=\"key key-unsure\"></span>uncertain bound \
                 <span class=\"key key-open\"></span>unbounded start / still open \
                 <span class=\"dot dot-pos\"></span>scan: open <span class=\"dot dot-neg\"></span>scan: \
                 closed/filtered <span class=\"dot dot-int\"></span>internal scan \
                 <span class=\"key key-rate\"></span>external requests \
                 <span class=\"key key-rate-int\"></span>internal requests · numbers refer to key moments\
                 </figcaption></figure>\n",
            );
        }
        None => out.push_str("<p class=\"muted\">Nothing with a time to draw.</p>\n"),
    }
    out.push_str("</section>\n");
}

/// The problems with the evidence, before the timeline and the services that rest on it.
fn problems(m: &ReportModel, out: &mut String) {
    let problems = coverage::problems(&m.snapshot);
    if problems.is_empty() {
        return;
    }
    out.push_str("<section id=\"evidence-problems\"><h2>Evidence problems</h2>\n<ul>\n");
    for p in problems {
        let _ = writeln!(out, "<li class=\"warn\">{}</li>", html(&p));
    }
    out.push_str("</ul>\n</section>\n");
}

fn services(t: &Tables, out: &mut String) {
    out.push_str("<section id=\"services\"><h2>Services and exposure windows</h2>\n");
    if t.services.is_empty() {
        out.push_str("<p class=\"muted\">No services were configured or observed.</p></section>\n");
        return;
    }
    let rows: Vec<Vec<String>> = t
        .services
        .iter()
        .map(|s| {
            let state = match s.state {
                ServiceState::Open => "<span class=\"pill pill-open\">open</span>",
                ServiceState::Closed => "<span class=\"pill pill-closed\">closed</span>",
                ServiceState::NeverExposed => "<span class=\"pill pill-none\">never exposed</span>",
                ServiceState::Unknown => "<span class=\"pill pill-open\">unknown</span>",
            };
            vec![
                code(s.name),
                state.to_owned(),
                s.addresses.iter().map(|a| code(a)).collect::<Vec<_>>().join(" "),
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
        &[3, 4, 5, 6, 7],
        &rows,
    );
    let notes: Vec<String> = t
        .services
        .iter()
        .filter(|s| !s.note.is_empty())
        .map(|s| format!("<li>{}: {}</li>", code(s.name), html(&s.note)))
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "<ul class=\"notes\">\n{}\n</ul>", notes.join("\n"));
    }
    for s in t.services.iter().filter(|s| !s.windows.is_empty()) {
        windows(s, out);
    }
    out.push_str("</section>\n");
}

fn windows(s: &ServiceRow, out: &mut String) {
    let _ = writeln!(out, "<h3>{}</h3>", code(s.name));
    let hit = |h: Option<&Hit>| match h {
        Some(h) => format!(
            "{}<br>{} {} → {}<br><span class=\"muted\">{}</span>",
            ht(h.time),
            code(&h.client),
            code(&format!("{} {}", h.method, h.path)),
            h.status,
            code(&h.user_agent)
        ),
        None => "<span class=\"muted\">none</span>".to_owned(),
    };
    let rows: Vec<Vec<String>> = s
        .windows
        .iter()
        .map(|w| {
            let closed = match w.closed {
                Some((earliest, latest)) => format!("{} –<br>{}", ht(earliest), ht(latest)),
                None => format!(
                    "<strong class=\"warn\">still open</strong><br><span class=\"muted\">last positive {}</span>",
                    ht(w.last_positive)
                ),
            };
            vec![
                w.number.to_string(),
                format!(
                    "{} –<br>{}",
                    opt_time(w.opened_earliest, "before observation"),
                    ht(w.opened_latest)
                ),
                closed,
                match w.most_secs {
                    Some(mx) => format!("{} – {}", duration(w.least_secs), duration(mx)),
                    None => format!("≥ {}", duration(w.least_secs)),
                },
                format!(
                    "{} req · {} ok<br>{} · {}",
                    thousands(w.requests),
                    thousands(w.successes),
                    bytes(w.bytes),
                    plural(w.clients, "client", "clients")
                ),
                format!("+{} / −{}", w.positive, w.negative),
                hit(w.first_external),
                hit(w.first_non_scanner_success),
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
            "External traffic",
            "Evidence",
            "First external",
            "First non-scanner success",
        ],
        &[0],
        &rows,
    );
    for w in s.windows.iter().filter(|w| !w.served.is_empty()) {
        served(w, out);
    }
}

/// A window's "What was served" table: the sensitive rules first (highlighted rows), then
/// the most requested paths (a sensitive one highlighted with its label).
fn served(w: &WindowRow, out: &mut String) {
    let _ = write!(
        out,
        "<p class=\"sub\">Window {} — what was served</p><div class=\"scroll\"><table class=\"served\"><thead><tr>\
         <th>Path</th><th>Sensitive</th><th class=\"num\">Requests</th><th class=\"num\">Successes</th>\
         <th class=\"num\">Bytes</th><th>First success</th></tr></thead><tbody>",
        w.number
    );
    let num = |n: Option<u64>| n.map_or_else(|| "—".to_owned(), thousands);
    let label = |l: Option<&str>| {
        l.map_or_else(String::new, |l| format!("<strong class=\"warn\">⚠ {}</strong>", html(l)))
    };
    for r in &w.served {
        let (class, first) = match r.kind {
            Served::Rule { first_success: Some(h) } => (
                " class=\"sensitive\"",
                format!(
                    "{} {} {} → {}",
                    ht(h.time),
                    code(&h.client),
                    code(&format!("{} {}", h.method, h.path)),
                    h.status
                ),
            ),
            Served::Rule { first_success: None } => {
                (" class=\"sensitive\"", "<span class=\"muted\">none</span>".to_owned())
            }
            Served::Path if r.label.is_some() => (" class=\"sensitive\"", String::new()),
            Served::Path => ("", String::new()),
        };
        let _ = write!(
            out,
            "<tr{class}><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td>{first}</td></tr>",
            code(r.path),
            label(r.label),
            thousands(r.requests),
            num(r.successes),
            r.bytes.map_or_else(|| "—".to_owned(), bytes),
        );
    }
    out.push_str("</tbody></table></div>\n");
}

fn moments(m: &ReportModel, out: &mut String) {
    out.push_str("<section id=\"moments\"><h2>Key moments</h2>\n");
    if m.moments.is_empty() {
        out.push_str("<p class=\"muted\">Nothing notable in the evidence.</p></section>\n");
        return;
    }
    let numbers = svg::marker_numbers(&m.moments);
    let rows: Vec<Vec<String>> = m
        .moments
        .iter()
        .zip(numbers)
        .map(|(mo, num)| {
            let num = num.map_or_else(String::new, |n| n.to_string());
            vec![
                format!("<span class=\"num-badge\">{num}</span>"),
                ht(mo.time),
                format!(
                    "<span class=\"kind kind-{}\">{}</span>",
                    mo.kind.as_str(),
                    mo.kind.label()
                ),
                mo.service
                    .as_deref()
                    .map_or_else(|| "<span class=\"muted\">—</span>".to_owned(), code),
                para(&mo.text),
            ]
        })
        .collect();
    table(out, &["", "Time (UTC)", "Kind", "Service", "What happened"], &[], &rows);
    out.push_str("</section>\n");
}

/// Every actor aggregated by key (network prefix…): the largest groups by bytes.
fn actor_groups(t: &Tables, out: &mut String) {
    for g in &t.actor_groups {
        let _ = writeln!(
            out,
            "<section id=\"actors-by-{}\"><h2>Actors by {} <span class=\"muted\">top {} of {} by bytes</span></h2>",
            html(g.key),
            html(g.title),
            g.rows.len(),
            thousands(g.total)
        );
        let rows: Vec<Vec<String>> = g
            .rows
            .iter()
            .map(|x| {
                vec![
                    format!("<code class=\"nw\">{}</code>", html(&x.key)),
                    thousands(x.clients),
                    thousands(x.requests),
                    thousands(x.successes),
                    thousands(x.bytes),
                    format!("{}<br>{}", ht(x.first_seen), ht(x.last_seen)),
                ]
            })
            .collect();
        let head = ["Group", "Clients", "Requests", "Successes", "Bytes", "First / last seen"];
        table(out, &head, &[1, 2, 3, 4], &rows);
        out.push_str("</section>\n");
    }
}

fn actors(t: &ActorTable, out: &mut String) {
    let _ = writeln!(
        out,
        "<section id=\"actors\"><h2>Actors <span class=\"muted\">top {} of {} by bytes</span></h2>",
        t.rows.len(),
        thousands(t.total)
    );
    if t.listed == 0 {
        out.push_str("<p class=\"muted\">No external clients.</p></section>\n");
        return;
    }
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|a| {
            let class = match a.scanner {
                Some(n) => {
                    format!("{} <span class=\"muted\">({})</span>", a.class.as_str(), html(n))
                }
                None => a.class.as_str().to_owned(),
            };
            let paths: Vec<String> = a.top_paths.iter().map(|p| code(p)).collect();
            let mut row =
                vec![format!("<code class=\"nw\">{}</code>", html(&a.client.to_string())), class];
            if t.enriched {
                let (org, country) = &a.network;
                let none = || "<span class=\"muted\">—</span>".to_owned();
                row.push(org.as_deref().map_or_else(none, html));
                row.push(country.as_deref().map_or_else(none, html));
            }
            row.extend([
                format!("{}<br>{}", ht(a.first_seen), ht(a.last_seen)),
                thousands(a.requests),
                thousands(a.successes),
                thousands(a.bytes),
                a.services.iter().map(|s| code(s)).collect::<Vec<_>>().join(" "),
                format!(
                    "{}<br><span class=\"muted\">{}</span>",
                    paths.join(" "),
                    a.user_agent.map_or_else(String::new, code)
                ),
            ]);
            row
        })
        .collect();
    let mut head = vec!["Client", "Class"];
    if t.enriched {
        head.extend(["Network", "Country"]);
    }
    head.extend([
        "First / last seen",
        "Requests",
        "Successes",
        "Bytes",
        "Services",
        "Top paths / user agent",
    ]);
    let num: &[usize] = if t.enriched { &[5, 6, 7] } else { &[3, 4, 5] };
    table(out, &head, num, &rows);
    out.push_str("</section>\n");
}

fn step_row(s: &StepRecord) -> Vec<String> {
    let state_class = match s.state {
        StepState::Done => "pill pill-closed",
        StepState::Skipped | StepState::Pending => "pill pill-none",
        StepState::InProgress => "pill pill-progress",
        StepState::Blocked => "pill pill-open",
    };
    let sla = match (s.sla_minutes, s.sla) {
        (Some(min), Some(o)) => {
            let late = matches!(o, SlaOutcome::Missed | SlaOutcome::Overdue);
            let class = if late { " class=\"warn\"" } else { "" };
            format!("{min} min · <span{class}>{}</span>", o.as_str())
        }
        (Some(min), None) => format!("{min} min"),
        (None, _) => "<span class=\"muted\">—</span>".to_owned(),
    };
    let mut detail = Vec::new();
    if !s.skip_reason.is_empty() {
        detail.push(format!("skipped: {}", html(&s.skip_reason)));
    }
    if let Some(v) = &s.verification {
        let class = match v.outcome {
            VerifyState::Verified => "pill pill-closed",
            VerifyState::NotYet => "pill pill-progress",
            VerifyState::NotEvaluated => "pill pill-none",
        };
        let mut lines =
            format!("<span class=\"{class}\">{}</span>{}", v.outcome.as_str(), html(&v.summary));
        for e in &v.evidence {
            let _ = write!(lines, "<br><span class=\"muted\">· {}</span>", html(e));
        }
        for c in &v.caveats {
            let _ = write!(lines, "<br><span class=\"warn\">caveat: {}</span>", html(c));
        }
        detail.push(lines);
    }
    vec![
        format!("{}<br><span class=\"muted\">{}</span>", html(&s.title), html(&s.id)),
        html(&s.role),
        format!("<span class=\"{state_class}\">{}</span>", html(&s.state_label())),
        format!("{}<br>{}", opt_time(s.started, "not started"), opt_time(s.done, "—")),
        if s.operator.is_empty() {
            "<span class=\"muted\">—</span>".to_owned()
        } else {
            html(&s.operator)
        },
        sla,
        if detail.is_empty() {
            "<span class=\"muted\">—</span>".to_owned()
        } else {
            detail.join("<br>")
        },
    ]
}

/// Warnings a reader must see first: evidence that changed or vanished since the case
/// hashed it.
fn warnings(m: &ReportModel, out: &mut String) {
    let Some(case) = &m.case else { return };
    let problems: Vec<_> = case.evidence_problems().collect();
    if problems.is_empty() {
        return;
    }
    out.push_str("<section id=\"warnings\" class=\"warn\"><h2>Warnings</h2><ul>");
    for e in problems {
        let _ = write!(
            out,
            "<li><strong>Evidence {}</strong> since the case recorded it: {} (recorded sha256 {}, now {})</li>",
            e.status.as_str(),
            code(&e.path),
            code(&e.sha256_recorded),
            e.sha256_now.as_deref().map_or_else(|| "unreadable".to_owned(), code)
        );
    }
    out.push_str("</ul></section>\n");
}

fn step_history(pb: &PlaybookRecord, out: &mut String) {
    out.push_str("<h3>Step history</h3>\n<ul class=\"notes\">");
    for step in &pb.steps {
        let _ = write!(
            out,
            "<li>{} <span class=\"muted\">({})</span><ul>",
            html(&step.title),
            html(&step.id)
        );
        if step.history.is_empty() {
            out.push_str("<li class=\"muted\">no journal records</li>");
        }
        for h in &step.history {
            let note =
                if h.note.is_empty() { String::new() } else { format!(": {}", html(&h.note)) };
            let _ = write!(
                out,
                "<li>#{} {} <strong>{}</strong> by {}{note}</li>",
                h.seq,
                ht(h.at),
                html(&h.action),
                html(&h.by)
            );
        }
        out.push_str("</ul></li>");
    }
    out.push_str("</ul>\n");
}

/// The journal itself, every record, and the chain's verification result.
fn journal(m: &ReportModel, out: &mut String) {
    let Some(case) = &m.case else { return };
    out.push_str("<section id=\"journal\"><h2>Journal</h2>\n");
    if let Some(j) = &case.journal {
        let _ = writeln!(out, "<p>Chain verification: {}</p>", html(&j.verification));
    }
    let rows: Vec<Vec<String>> = case
        .records
        .iter()
        .map(|r| {
            vec![
                r.seq.to_string(),
                ht(r.at),
                html(&r.operator),
                code(&r.kind),
                html(&r.text),
                format!("<code class=\"hash\">{}</code>", html(&r.hash)),
            ]
        })
        .collect();
    table(out, &["#", "Time (UTC)", "Operator", "Kind", "Text", "Hash"], &[0], &rows);
    out.push_str("</section>\n");
}

fn playbook(m: &ReportModel, out: &mut String) {
    let Some(case) = &m.case else { return };
    out.push_str("<section id=\"playbook\"><h2>Playbook record</h2>\n");
    let _ = writeln!(out, "<p>Case status: {}</p>", html(&case.status_line()));
    if let Some(at) = case.opened_at {
        let by = if case.opened_by.is_empty() {
            String::new()
        } else {
            format!(" by {}", html(&case.opened_by))
        };
        let _ = writeln!(out, "<p>Case opened {}{by}; SLAs count from then.</p>", time(at));
    }
    match &case.playbook {
        Some(pb) => {
            let _ = writeln!(
                out,
                "<p>{} <span class=\"muted\">({})</span></p>",
                html(&pb.title),
                html(&pb.id)
            );
            let rows: Vec<Vec<String>> = pb.steps.iter().map(step_row).collect();
            table(
                out,
                &[
                    "Step",
                    "Role",
                    "State",
                    "Started / done",
                    "By",
                    "SLA",
                    "Skip reason / verification",
                ],
                &[],
                &rows,
            );
            step_history(pb, out);
        }
        None => out.push_str("<p class=\"muted\">No playbook was started for this case.</p>\n"),
    }
    out.push_str("<h3>Notes</h3>\n");
    if case.notes.is_empty() {
        out.push_str("<p class=\"muted\">No notes.</p>\n");
    } else {
        out.push_str("<ul class=\"notes\">");
        for n in &case.notes {
            let _ = write!(
                out,
                "<li><span class=\"muted\">{} · {}</span><br>{}</li>",
                time(n.at),
                html(&n.by),
                html(&n.text)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

fn evidence(m: &ReportModel, t: &Tables, out: &mut String) {
    let snap = &m.snapshot;
    out.push_str("<section id=\"evidence\"><h2>Evidence</h2>\n");
    if let Some(case) = m.case.as_ref().filter(|c| !c.evidence.is_empty()) {
        out.push_str(
            "<p class=\"sub\">Files the case journal recorded, re-hashed for this report</p>\n",
        );
        let rows: Vec<Vec<String>> = case
            .evidence
            .iter()
            .map(|e| {
                vec![
                    code(&e.path),
                    html(e.status.as_str()),
                    format!("<code class=\"hash\">{}</code>", html(&e.sha256_recorded)),
                    e.sha256_now.as_deref().map_or_else(
                        || "<span class=\"muted\">—</span>".to_owned(),
                        |h| format!("<code class=\"hash\">{}</code>", html(h)),
                    ),
                ]
            })
            .collect();
        table(out, &["File", "Status", "SHA-256 recorded", "SHA-256 now"], &[], &rows);
    }
    if t.sources.is_empty() {
        out.push_str("<p class=\"muted\">No sources were read.</p>\n");
    } else {
        let rows: Vec<Vec<String>> = t
            .sources
            .iter()
            .map(|s| {
                vec![
                    format!(
                        "{}<br><span class=\"muted\">{} · {}</span>",
                        code(s.path),
                        s.kind_name(),
                        html(s.format)
                    ),
                    s.sha256.map_or_else(
                        || "<span class=\"muted\">stream</span>".to_owned(),
                        |h| format!("<code class=\"hash\">{}</code>", html(h)),
                    ),
                    thousands(s.lines),
                    thousands(s.events),
                    thousands(s.malformed),
                    format!("{}<br>{}", opt_time(s.first_event, "—"), opt_time(s.last_event, "—")),
                ]
            })
            .collect();
        table(
            out,
            &["Source", "SHA-256", "Lines", "Events", "Malformed", "First / last event"],
            &[2, 3, 4],
            &rows,
        );
    }
    if snap.gaps.is_empty() {
        out.push_str("<p class=\"muted\">No ingest gaps or source incidents were recorded.</p>\n");
    } else {
        out.push_str("<p class=\"sub\">Ingest gaps and source incidents</p><ul class=\"notes\">");
        for g in &snap.gaps {
            let _ = write!(
                out,
                "<li>{} – {}: <strong>{}</strong> in {}: {}</li>",
                time(g.from),
                g.to.map_or_else(|| "ongoing".to_owned(), time),
                gap_label(g.kind),
                code(&g.path),
                code(&g.reason)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

fn method(out: &mut String) {
    out.push_str("<section id=\"method\" class=\"method\"><h2>Method</h2>\n");
    for (lead, body) in METHOD {
        let _ = writeln!(out, "<p><strong>{}</strong> {}</p>", html_raw(lead), html_raw(body));
    }
    out.push_str("</section>\n");
}

fn integrity(m: &ReportModel, out: &mut String) {
    out.push_str("<section id=\"integrity\"><h2>Integrity</h2>\n<dl class=\"integrity\">");
    match m.case.as_ref().and_then(|c| c.journal.as_ref()) {
        Some(j) => {
            let _ = write!(
                out,
                "<dt>Journal head</dt><dd><code class=\"hash\">{}</code> <span class=\"muted\">({})</span></dd>",
                html(&j.head_hash),
                plural(j.records, "record", "records")
            );
            if j.problems.is_empty() {
                out.push_str("<dt>Journal chain</dt><dd>verified intact</dd>");
            }
            for p in &j.problems {
                let _ = write!(out, "<dt class=\"warn\">Journal problem</dt><dd>{}</dd>", html(p));
            }
        }
        None => out.push_str(
            "<dt>Journal head</dt><dd class=\"muted\">none (report generated without a case)</dd>",
        ),
    }
    let _ = write!(
        out,
        "<dt>leakline version</dt><dd>{}</dd><dt>Generated at</dt><dd>{} UTC</dd><dt>Evidence as of</dt><dd>{}</dd>",
        html(&m.version),
        time(m.generated_at),
        if m.snapshot.stats.events == 0 {
            "no evidence was read".to_owned()
        } else {
            format!("{} UTC", time(m.snapshot.as_of))
        }
    );
    if m.redaction.enabled {
        let kinds: Vec<String> =
            redaction_kinds(m).into_iter().map(|(k, n)| format!("{k} {}", thousands(n))).collect();
        let detail = if kinds.is_empty() { "none found".to_owned() } else { kinds.join(", ") };
        let _ = write!(out, "<dt>Redaction</dt><dd>on ({detail})</dd>");
    } else {
        out.push_str("<dt>Redaction</dt><dd><strong class=\"warn\">off</strong> — this report may contain secrets</dd>");
    }
    out.push_str("</dl></section>\n");
}

/// Write the HTML report.
pub fn write_html<W: io::Write + ?Sized>(m: &ReportModel, w: &mut W) -> io::Result<()> {
    let mut out = String::with_capacity(64 * 1024);
    head(m, &mut out);
    warnings(m, &mut out);
    out.push_str("<section id=\"summary\"><h2>Summary</h2>\n<p class=\"summary\">");
    out.push_str(&para(&m.summary));
    out.push_str("</p>\n");
    for c in super::caveats::caveats(&m.snapshot) {
        let _ = writeln!(out, "<p class=\"caveat\"><span class=\"warn\">⚠</span> {}</p>", para(&c));
    }
    cards(m, &mut out);
    out.push_str("</section>\n");
    problems(m, &mut out);
    timeline(m, &mut out);
    let tables = m.tables();
    services(&tables, &mut out);
    moments(m, &mut out);
    actors(&tables.actors, &mut out);
    actor_groups(&tables, &mut out);
    playbook(m, &mut out);
    evidence(m, &tables, &mut out);
    method(&mut out);
    integrity(m, &mut out);
    journal(m, &mut out);
    out.push_str("</main>\n</body>\n</html>\n");
    w.write_all(out.as_bytes())
}
