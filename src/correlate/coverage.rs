//! What each verdict rests on (`Coverage`), and access sources that look like two logs of
//! the same traffic (`DuplicateSources`). Built at snapshot time from the sources' health,
//! the configured globs, the services' scan marks and the fingerprint samples; the cost is
//! per source and per configured pattern, never per event.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::engine::{Correlator, UNASSIGNED_SERVICE};
use crate::model::SourceKind;
use crate::model::snapshot::{Coverage, DuplicateSources, ServiceSummary, UnreadSource};

/// The reason a configured glob that matched no file is unread.
pub const NO_MATCH: &str = "no file matches this pattern";

/// Every source that yielded nothing, and every configured pattern with no source.
pub(crate) struct Unread {
    /// Per registered source: why it yielded nothing (`None`: read).
    reasons: Vec<Option<String>>,
    /// Configured patterns no registered source came from: (service, or `None` for scans;
    /// the pattern).
    patterns: Vec<(Option<String>, String)>,
}

fn strip_dot(p: &str) -> &str {
    p.strip_prefix("./").unwrap_or(p)
}

/// Whether a registered source of `kind` came from `pattern` (its path matches it).
fn matched(c: &Correlator, pattern: &str, kind: SourceKind) -> bool {
    let glob = glob::Pattern::new(strip_dot(pattern)).ok();
    // A file reached by two paths (a symlink, a hard link) is one source with aliases.
    c.sources.iter().filter(|h| h.kind == kind).any(|h| {
        std::iter::once(&h.path).chain(&h.aliases).any(|p| {
            p == pattern || glob.as_ref().is_some_and(|g| g.matches_path(Path::new(strip_dot(p))))
        })
    })
}

impl Unread {
    pub fn of(c: &Correlator) -> Unread {
        // Read means evidence was applied from the source; the reason for none comes from
        // its health (what the shell saw reading it).
        let reasons = c
            .sources
            .iter()
            .zip(&c.applied)
            .map(|(h, &applied)| {
                // A second copy of a scan run yielded its observations; they are counted
                // once, through the copy named in `duplicate_of`: read, not missing.
                let copy = h.duplicate_of.is_some() && h.events > 0;
                // A database pull that failed part-way is unread, whatever it applied: the
                // rows it would have given are unknown.
                let pull_failed = h.database.as_ref().and_then(|d| d.error.clone());
                if pull_failed.is_some() {
                    return pull_failed;
                }
                (applied == 0 && !copy).then(|| {
                    h.unread_reason().unwrap_or_else(|| "no evidence applied from it".to_string())
                })
            })
            .collect();
        let mut patterns = Vec::new();
        for p in &c.setup.scan_patterns {
            if !matched(c, p, SourceKind::Scan) {
                patterns.push((None, p.clone()));
            }
        }
        for svc in &c.setup.services {
            for p in &svc.access_patterns {
                if !matched(c, p, SourceKind::Access) {
                    patterns.push((Some(svc.name.clone()), p.clone()));
                }
            }
        }
        Unread { reasons, patterns }
    }

    fn unread(&self, c: &Correlator, id: usize) -> Option<UnreadSource> {
        let reason = self.reasons.get(id)?.as_ref()?;
        Some(UnreadSource { path: c.sources[id].path.clone(), reason: reason.clone() })
    }

    fn pattern(p: &str) -> UnreadSource {
        UnreadSource { path: p.to_string(), reason: NO_MATCH.to_string() }
    }

    /// The coverage of the whole answer: every source and pattern.
    pub fn overall(&self, c: &Correlator) -> Coverage {
        let mut cov = Coverage::default();
        for (id, h) in c.sources.iter().enumerate() {
            if let Some(u) = self.unread(c, id) {
                cov.sources_unread.push(u);
            } else {
                cov.sources_read.push(h.path.clone());
                widen(&mut cov, h.first_event);
                widen(&mut cov, h.last_event);
            }
        }
        cov.sources_unread.extend(self.patterns.iter().map(|(_, p)| Self::pattern(p)));
        cov
    }
}

fn widen(cov: &mut Coverage, t: Option<DateTime<Utc>>) {
    let Some(t) = t else { return };
    cov.from = Some(cov.from.map_or(t, |f| f.min(t)));
    cov.to = Some(cov.to.map_or(t, |f| f.max(t)));
}

/// Fill service `i`'s coverage, and say `unknown` when nothing covers it.
///
/// Read: its access sources that yielded a request, and the scan sources with an external
/// observation of it that is evidence (open, or closed / filtered / unreachable). Unread: its access sources and patterns that yielded nothing, and,
/// when scans can cover it (it has addresses, or was found by a scan), every scan source or
/// pattern that yielded nothing. The span runs over its read access sources and its
/// external scan observations.
pub(crate) fn fill_service(
    c: &Correlator,
    unread: &Unread,
    i: usize,
    summary: &mut ServiceSummary,
) {
    let s = &c.services[i];
    let mut cov = Coverage::default();
    let mut read: BTreeSet<usize> = BTreeSet::new();
    let mut not_read: Vec<UnreadSource> = Vec::new();
    for (id, meta) in c.meta.iter().enumerate() {
        if meta.service != Some(i as u32) {
            continue;
        }
        if let Some(u) = unread.unread(c, id) {
            not_read.push(u);
        } else {
            read.insert(id);
            widen(&mut cov, c.sources[id].first_event);
            widen(&mut cov, c.sources[id].last_event);
        }
    }
    let mut external_scan = false;
    // Only what the scanner could tell is evidence: `open`, or closed / filtered /
    // unreachable; an ambiguous result (nmap's `open|filtered`) covers nothing.
    for m in s.scans.iter().filter(|m| m.external && (m.state.is_open() || m.state.is_negative())) {
        external_scan = true;
        widen(&mut cov, Some(m.time));
        if (m.source.0 as usize) < c.sources.len() {
            read.insert(m.source.0 as usize);
        }
    }
    not_read.extend(
        unread
            .patterns
            .iter()
            .filter(|(svc, _)| svc.as_deref() == Some(s.name.as_str()))
            .map(|(_, p)| Unread::pattern(p)),
    );
    let scannable = s.name != UNASSIGNED_SERVICE && (!s.addresses.is_empty() || i >= c.configured);
    if scannable {
        for (id, h) in c.sources.iter().enumerate() {
            if h.kind == SourceKind::Scan {
                not_read.extend(unread.unread(c, id));
            }
        }
        not_read.extend(
            unread
                .patterns
                .iter()
                .filter(|(svc, _)| svc.is_none())
                .map(|(_, p)| Unread::pattern(p)),
        );
    }
    cov.sources_read = read.into_iter().map(|id| c.sources[id].path.clone()).collect();
    cov.sources_unread = not_read;
    if summary.windows.is_empty()
        && s.internal_requests == 0
        && s.unattributed_requests == 0
        && s.forwarded_unknown_requests == 0
        && !external_scan
    {
        summary.state = crate::model::snapshot::ServiceState::Unknown;
    }
    summary.coverage = cov;
}

/// A short name for a source in a warning: its file name, or the whole path when the two
/// sources' file names are the same.
fn names<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    let file = |p: &'a str| Path::new(p).file_name().and_then(|f| f.to_str()).unwrap_or(p);
    if file(a) == file(b) { (a, b) } else { (file(a), file(b)) }
}

/// Pairs of access sources of one service that share most of their sampled requests.
pub(crate) fn duplicates(c: &Correlator) -> Vec<DuplicateSources> {
    let mut out = Vec::new();
    for (i, svc) in c.services.iter().enumerate() {
        let ids: Vec<usize> = (0..c.sources.len())
            .filter(|&id| {
                c.meta[id].service == Some(i as u32) && c.sources[id].kind == SourceKind::Access
            })
            .collect();
        if ids.len() < 2 {
            continue;
        }
        let samples: Vec<_> = ids
            .iter()
            .map(|&id| {
                let mut s = c.fingerprints[id].clone();
                s.settle();
                s
            })
            .collect();
        for x in 0..ids.len() {
            for y in x + 1..ids.len() {
                let Some(pct) = samples[x].duplicate_percent(&samples[y]) else { continue };
                let (a, b) = (&c.sources[ids[x]].path, &c.sources[ids[y]].path);
                let (na, nb) = names(a, b);
                out.push(DuplicateSources {
                    service: svc.name.clone(),
                    sources: [a.clone(), b.clone()],
                    shared_percent: pct,
                    message: format!(
                        "{na} and {nb} look like two logs of the same traffic: counts may be doubled ({pct}% of the smaller one's external requests are in both)"
                    ),
                });
            }
        }
    }
    out
}

/// `03-10 00:00–05:59 UTC` (the year and the end's date are written when they differ).
#[must_use]
pub fn span_text(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let start = from.format("%Y-%m-%d %H:%M");
    let end = if from.date_naive() == to.date_naive() {
        to.format("%H:%M").to_string()
    } else {
        to.format("%Y-%m-%d %H:%M").to_string()
    };
    format!("{start}–{end} UTC")
}

/// What "never exposed" means for `s`: no external request (its logs were read: they held
/// internal or unattributed requests only), or, when only scans cover it, no external scan
/// saw it open.
#[must_use]
pub fn never_exposed_words(s: &ServiceSummary) -> &'static str {
    if s.internal_requests + s.unattributed_requests + s.forwarded_unknown_requests > 0 {
        "no external request"
    } else {
        "no external scan saw it open"
    }
}

/// What a service's verdict rests on, in words: `no external request in <span>` for a
/// service never exposed, `no evidence read` for an unknown one, and for any service
/// whose sources were not all read, `incomplete: N of M sources unread`.
#[must_use]
pub fn verdict_note(s: &ServiceSummary) -> String {
    use crate::model::snapshot::ServiceState;
    let cov = &s.coverage;
    let mut parts = Vec::new();
    match s.state {
        ServiceState::Unknown => {
            return if cov.total() == 0 {
                "no evidence: no source covers it".to_string()
            } else {
                format!(
                    "no evidence read: {} of {} sources unread",
                    cov.sources_unread.len(),
                    cov.total()
                )
            };
        }
        ServiceState::NeverExposed => parts.push(match (cov.from, cov.to) {
            (Some(from), Some(to)) => {
                format!("{} in {}", never_exposed_words(s), span_text(from, to))
            }
            _ => "no external evidence".to_string(),
        }),
        ServiceState::Open | ServiceState::Closed => {}
    }
    if !cov.complete() {
        parts.push(format!(
            "incomplete: {} of {} sources unread",
            cov.sources_unread.len(),
            cov.total()
        ));
    }
    parts.join("; ")
}

/// The problems with the evidence, one sentence each, in the order every output prints
/// them (before the services): nothing read at all, each unread source with its reason,
/// each pair of sources that double each other, each service without evidence.
#[must_use]
pub fn problems(snapshot: &crate::model::Snapshot) -> Vec<String> {
    use crate::model::snapshot::ServiceState;
    let cov = &snapshot.coverage;
    let mut out = Vec::new();
    if cov.nothing_read() {
        out.push(
            "NO EVIDENCE: no configured source yielded a request or a scan observation; nothing below is an all-clear".to_string(),
        );
    } else if !cov.complete() {
        out.push(format!(
            "EVIDENCE INCOMPLETE: {} of {} sources unread; verdicts below rest on the rest",
            cov.sources_unread.len(),
            cov.total()
        ));
    }
    for u in &cov.sources_unread {
        out.push(format!("unread: {}: {}", u.path, u.reason));
    }
    for d in &snapshot.duplicates {
        out.push(format!("service {}: {}", d.service, d.message));
    }
    for s in snapshot.services.iter().filter(|s| s.state == ServiceState::Unknown) {
        out.push(format!("service {}: state unknown ({})", s.name, verdict_note(s)));
    }
    out
}

/// A live session's failing files never become sources: a glob whose only match cannot be
/// opened would read "no file matches". Name the failure instead, from the session's open
/// `source_error` gaps (whose path matches the pattern), in the whole picture and in every
/// service's coverage.
pub fn explain_unmatched(
    snapshot: &mut crate::model::Snapshot,
    open_errors: &[crate::model::snapshot::Gap],
) {
    let explain = |u: &mut UnreadSource| {
        if u.reason != NO_MATCH {
            return;
        }
        let Ok(glob) = glob::Pattern::new(strip_dot(&u.path)) else { return };
        if let Some(g) = open_errors
            .iter()
            .find(|g| g.source.is_none() && glob.matches_path(Path::new(strip_dot(&g.path))))
        {
            u.reason = format!("unreadable: {}: {}", g.path, g.reason);
        }
    };
    snapshot.coverage.sources_unread.iter_mut().for_each(explain);
    for s in &mut snapshot.services {
        s.coverage.sources_unread.iter_mut().for_each(explain);
    }
}
