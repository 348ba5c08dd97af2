//! Rendering of `leakline case show` (text and `--json`).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use leakline::case::{Case, CaseState};
use leakline::playbook::{SlaStatus, StepState, VerifyOutcome, VerifyResult, format_duration};
use leakline::text::{rfc3339_millis as ts, sanitize};
use serde_json::{Value, json};

/// Journal text can come from other tools: shown escaped by the shared terminal rule, never raw
/// (whole: a note is not cut).
fn clean(s: &str) -> String {
    sanitize(s, usize::MAX).into_owned()
}

/// The `--json` shape: `{"name", "status": "open|complete|closed", "closed": {"at","by","text"}
/// | null, "reopened": {…} | null, "playbook": {"id", "steps": [{"id","title","state","at","by",
/// "note","verified"}]}, "notes": [{"at","by","text"}], "journal": {"records","head"}}`.
/// `verified` is `null` for steps without a verify condition, else the result object
/// (`outcome`, `summary`, `evidence`, `caveats`).
pub fn json(state: &CaseState, verified: &[(String, VerifyResult)]) -> Value {
    let steps: Vec<Value> = state
        .steps
        .iter()
        .map(|s| {
            let result = verified.iter().find(|(id, _)| id == &s.id).map(|(_, r)| r);
            json!({
                "id": s.id,
                "title": s.title,
                "state": s.state.as_str(),
                "at": s.at.map(ts),
                "by": s.by,
                "note": s.note,
                "verified": result.map(|r| serde_json::to_value(r).unwrap_or(Value::Null)),
            })
        })
        .collect();
    let notes: Vec<Value> =
        state.notes.iter().map(|n| json!({"at": ts(n.at), "by": n.by, "text": n.text})).collect();
    let closure = |c: &leakline::case::Closure| json!({"at": ts(c.at), "by": c.by, "text": c.text});
    json!({
        "name": state.name,
        "status": state.status().as_str(),
        "closed": state.closed.as_ref().map(closure),
        "reopened": state.reopened.as_ref().map(closure),
        "playbook": {"id": state.playbook_id, "steps": steps},
        "notes": notes,
        "journal": {"records": state.records, "head": state.head},
    })
}

/// Countdowns in whole minutes once past a minute (seconds would only flicker).
fn secs(n: i64) -> String {
    let n = n.max(0) as u64;
    format_duration(if n >= 60 { n / 60 * 60 } else { n })
}

fn sla_text(sla: SlaStatus) -> String {
    match sla {
        SlaStatus::None => "—".to_owned(),
        SlaStatus::OnTrack { secs_left, .. } => format!("due in {}", secs(secs_left)),
        SlaStatus::Near { secs_left, .. } => format!("due in {} (soon)", secs(secs_left)),
        SlaStatus::Overdue { secs_over, .. } => format!("OVERDUE by {}", secs(secs_over)),
        SlaStatus::Met { .. } => "met".to_owned(),
        SlaStatus::Missed { secs_late, .. } => format!("missed by {}", secs(secs_late)),
        SlaStatus::Skipped => "skipped".to_owned(),
    }
}

fn mark(state: StepState) -> &'static str {
    match state {
        StepState::Done => "[x]",
        StepState::Skipped => "[-]",
        StepState::InProgress => "[>]",
        StepState::Blocked => "[!]",
        StepState::Pending => "[ ]",
    }
}

/// The human-readable case summary. `now` is used for SLA countdowns only.
pub fn text(
    case: &Case,
    state: &CaseState,
    verified: &[(String, VerifyResult)],
    now: DateTime<Utc>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Case:     {}  [{}]", clean(&state.name), state.status().as_str());
    let _ = writeln!(
        out,
        "Playbook: {} — {} ({})",
        case.playbook.id,
        case.playbook.title,
        case.playbook.severity.as_str()
    );
    if let (Some(at), Some(by)) = (state.opened_at, &state.opened_by) {
        let _ = writeln!(out, "Opened:   {} by {}", ts(at), clean(by));
    }
    if let Some(c) = &state.closed {
        let _ = writeln!(out, "Closed:   {} by {}: {}", ts(c.at), clean(&c.by), clean(&c.text));
    } else if let Some(r) = &state.reopened {
        let _ = writeln!(out, "Reopened: {} by {}: {}", ts(r.at), clean(&r.by), clean(&r.text));
    }
    let _ = writeln!(out, "Config:   {}", clean(&state.config));
    let _ = writeln!(out, "Journal:  {} records, head {}", state.records, state.head);
    if let Some(torn) = &state.torn_tail {
        let _ = writeln!(
            out,
            "          warning: unfinished final line {} ({} bytes) ignored",
            torn.line, torn.bytes
        );
    }
    let _ = writeln!(out, "\nSteps");
    for step in &state.steps {
        let _ = writeln!(
            out,
            "  {} {:<11} {:<26} {:<14} SLA {}",
            mark(step.state),
            step.state.as_str(),
            step.id,
            step.role,
            sla_text(state.sla(step, now))
        );
        if let Some(check) = step
            .history
            .last()
            .filter(|_| step.state == leakline::playbook::StepState::Done)
            .and_then(|e| e.unverified.as_deref())
        {
            let _ = writeln!(out, "      done (unverified): the check said {}", clean(check));
        }
        let unmet = state.unmet_requirements(&step.id);
        if !step.state.is_closed() && !unmet.is_empty() {
            let _ = writeln!(out, "      waiting on: {}", unmet.join(", "));
        }
        if let (Some(at), Some(by)) = (step.at, &step.by) {
            let note = step.note.as_deref().map(|n| format!(": {}", clean(n))).unwrap_or_default();
            let _ = writeln!(out, "      {} by {}{note}", ts(at), clean(by));
        }
        if let Some((_, r)) = verified.iter().find(|(id, _)| id == &step.id) {
            let sign = match r.outcome {
                VerifyOutcome::Verified => "✔ verified",
                VerifyOutcome::NotYet => "… not yet",
                VerifyOutcome::NotEvaluated => "? not evaluated",
            };
            let _ = writeln!(out, "      verify: {sign}: {}", clean(&r.summary));
            for e in &r.evidence {
                let place = match (e.source, e.line) {
                    (Some(src), Some(line)) => format!(" (source {} line {line})", src.0),
                    _ => String::new(),
                };
                let at = e.time.map(ts).unwrap_or_default();
                let _ = writeln!(out, "        evidence: {at} {}{place}", clean(&e.what));
            }
            for c in &r.caveats {
                let _ = writeln!(out, "        caveat: {}", clean(c));
            }
        }
    }
    if !state.notes.is_empty() {
        let _ = writeln!(out, "\nNotes");
        for n in &state.notes {
            let _ = writeln!(out, "  {} {}: {}", ts(n.at), clean(&n.by), clean(&n.text));
        }
    }
    if !state.sources.is_empty() {
        let _ = writeln!(out, "\nEvidence files");
        for s in &state.sources {
            let _ = writeln!(out, "  {}  {} ({} bytes)", s.sha256, clean(&s.path), s.bytes);
        }
    }
    for w in &state.warnings {
        let _ = writeln!(out, "warning: {}", clean(w));
    }
    out
}
