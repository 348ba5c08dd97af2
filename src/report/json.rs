//! The JSON report (`leakline.report/1`): the `leakline.analysis/1` document
//! ([`super::analysis::Analysis`], made of the wire model in [`super::wire`]) under this
//! schema and the case's name — every key, in the same order, with the same meaning — followed
//! by the case's parts. The report extends the analysis and never restates it: a field added
//! to the wire model appears in both.
//!
//! Stable: keys are emitted in a fixed order, times are RFC 3339 UTC with `Z`, lists keep the
//! snapshot's order (services in config order, windows in time order, actors by bytes
//! descending). Strings are full (never cut) and redacted when redaction is on; consumers must
//! escape them before display.
//!
//! ```text
//! { …every key of leakline.analysis/1 (docs/analyze.md), "schema": "leakline.report/1",
//!   "case": {"name" (the case's), "timezone"} …,
//!   "playbook": {"id","title","steps":[{"id","title","role",
//!                "state":"pending|in_progress|done|skipped|failed","started"|null,"done"|null,
//!                "operator","sla_minutes"|null,
//!                "sla":"met|missed|skipped|running|overdue"|null,"skip_reason",
//!                "verification"|null,"unverified"|null,"history":[…]}]} | null,
//!   "notes": [{"at","by","text"}],
//!   "journal_head": {"records","head_hash","problems","verification"} | null,
//!   "key_moments": [{"time","kind","service"|null,"text"}],
//!   "leakline_version",
//!   "case_status": {"status":"open|closed","closed": {"at","by","text"}|null,
//!                   "reopened": {"at","by","text"}|null} | null,
//!   "evidence": [{"path","sha256_recorded","sha256_now"|null,
//!                 "status":"unchanged|changed|missing"}],
//!   "journal_verification": "…" | null,
//!   "journal": [{"seq","at","operator","kind","text","hash"}] }
//! ```
//!
//! Each playbook step also carries `unverified` (what the check said when it was marked done
//! unverified, else null) and `history` (`[{"seq","at","by","action","note"}]`, its journal
//! records in order). `journal` (the verbatim journal) ends the document.

use std::io;

use serde::Serialize;

use super::analysis::Analysis;
use super::model::{
    CaseClosure, EvidenceCheck, JournalHead, JournalRecord, Note, PlaybookRecord, ReportModel,
};
use super::moments::MomentKind;
use super::text::{Seg, rfc3339};
use super::wire::Case;

/// The schema identifier of the JSON report.
pub const SCHEMA: &str = "leakline.report/1";

/// The analysis document (under this schema and the case's name), then the case's parts.
#[derive(Serialize)]
struct Doc<'a> {
    #[serde(flatten)]
    analysis: Analysis<'a>,
    playbook: Option<&'a PlaybookRecord>,
    notes: &'a [Note],
    journal_head: Option<&'a JournalHead>,
    key_moments: Vec<MomentOut<'a>>,
    leakline_version: &'a str,
    case_status: Option<CaseStatusOut<'a>>,
    evidence: &'a [EvidenceCheck],
    journal_verification: Option<&'a str>,
    journal: &'a [JournalRecord],
}

#[derive(Serialize)]
struct CaseStatusOut<'a> {
    status: &'static str,
    closed: Option<&'a CaseClosure>,
    reopened: Option<&'a CaseClosure>,
}

#[derive(Serialize)]
struct MomentOut<'a> {
    time: String,
    kind: MomentKind,
    service: Option<&'a str>,
    /// Plain text (no markup): the same sentence the other formats show.
    text: String,
}

fn plain(p: &[Seg]) -> String {
    p.iter()
        .map(|s| match s {
            Seg::Lit(t) | Seg::Text(t) | Seg::Strong(t) | Seg::Data(t) => t.as_str(),
        })
        .collect()
}

/// The case's closing parts of the document: status, evidence re-hash, the journal.
type CaseTail<'a> =
    (Option<CaseStatusOut<'a>>, &'a [EvidenceCheck], Option<&'a str>, &'a [JournalRecord]);

fn case_tail(m: &ReportModel) -> CaseTail<'_> {
    let Some(c) = &m.case else {
        return (None, &[], None, &[]);
    };
    let status = CaseStatusOut {
        status: if c.closed.is_some() { "closed" } else { "open" },
        closed: c.closed.as_ref(),
        reopened: c.reopened.as_ref(),
    };
    let verification = c.journal.as_ref().map(|j| j.verification.as_str());
    (Some(status), &c.evidence, verification, &c.records)
}

fn doc(m: &ReportModel) -> Doc<'_> {
    let snap = &m.snapshot;
    let (case_status, evidence, journal_verification, journal) = case_tail(m);
    let mut analysis = Analysis::build(snap, m.generated_at).with_redaction(&m.redaction);
    analysis.schema = SCHEMA;
    analysis.case = Case { name: &m.case_name, timezone: &snap.timezone };
    Doc {
        analysis,
        playbook: m.case.as_ref().and_then(|c| c.playbook.as_ref()),
        notes: m.case.as_ref().map_or(&[], |c| c.notes.as_slice()),
        journal_head: m.case.as_ref().and_then(|c| c.journal.as_ref()),
        key_moments: m
            .moments
            .iter()
            .map(|mo| MomentOut {
                time: rfc3339(mo.time),
                kind: mo.kind,
                service: mo.service.as_deref(),
                text: plain(&mo.text),
            })
            .collect(),
        leakline_version: &m.version,
        case_status,
        evidence,
        journal_verification,
        journal,
    }
}

/// Write the JSON report (pretty-printed, trailing newline).
pub fn write_json<W: io::Write + ?Sized>(m: &ReportModel, w: &mut W) -> io::Result<()> {
    let mut buf = serde_json::to_vec_pretty(&doc(m)).map_err(io::Error::other)?;
    buf.push(b'\n');
    w.write_all(&buf)
}
