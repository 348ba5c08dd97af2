//! `from_case` over a real case folder (temp dir, settable clock) and hand-built snapshots.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::case::{Case, Clock, InitOptions, StepRequest};
use crate::model::snapshot::{
    EvidenceCount, ScanMark, ServiceState, ServiceSummary, SourceHealth, Window, WindowStatus,
};
use crate::model::{PortState, ScanTool, SourceId, SourceKind};
use crate::playbook::{Library, StepAction};

/// Case start: every journal time below is `T0 + minutes`.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).single().expect("valid")
}

fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

/// A clock the test moves by hand (minutes after `t0`).
struct Hands(Arc<AtomicI64>);

impl Hands {
    fn set(&self, minutes: i64) {
        self.0.store(minutes, Ordering::SeqCst);
    }
}

fn settable_clock() -> (Clock, Hands) {
    let minutes = Arc::new(AtomicI64::new(0));
    let read = Arc::clone(&minutes);
    (Arc::new(move || at(read.load(Ordering::SeqCst))), Hands(minutes))
}

fn step(case: &Case, id: &str, action: StepAction, note: Option<&str>) {
    case.step("ana", StepRequest { step: id, action, note }).expect("step action accepted");
}

/// An `exposed-api-endpoint` case opened at `t0` by ana, worked for 25 minutes:
/// - confirm-exposure done at +20 (SLA 15: missed),
/// - block-ingress started at +2, done at +5 (SLA 30: met),
/// - notify skipped at +6 with a reason, scope-access blocked at +7,
/// - a note at +8, an evidence file at +9, a window annotation at +10, a gap at +11.
fn worked_case(dir: &Path) -> (Case, Hands) {
    let (clock, hands) = settable_clock();
    let config = dir.join("leakline.toml");
    std::fs::write(&config, "name = \"unit\"\n").expect("write config");
    let lib = Library::builtin().expect("built-in playbooks");
    let loaded = lib.get("exposed-api-endpoint").expect("playbook");
    let options = InitOptions { name: Some("API exposure".into()), config, operator: "ana".into() };
    let case = Case::init(&dir.join("case"), &options, loaded, clock).expect("init");
    hands.set(2);
    step(&case, "block-ingress", StepAction::Start, None);
    hands.set(5);
    step(&case, "block-ingress", StepAction::Done, Some("sg-0abc revoked"));
    hands.set(6);
    step(&case, "notify", StepAction::Skip, Some("no customer data involved"));
    hands.set(7);
    step(&case, "scope-access", StepAction::Block, Some("waiting on CDN logs"));
    hands.set(8);
    case.note("bob", "ingress rule was added by a Terraform change").expect("note");
    hands.set(9);
    case.add_source("ana", &dir.join("leakline.toml")).expect("source");
    hands.set(10);
    case.annotate_window("ana", "api", at(-30), "first hit was a scanner").expect("annotation");
    hands.set(11);
    case.record_gap("ana", "access.log", at(-20), Some(at(-15)), "log shipper restart")
        .expect("gap");
    hands.set(20);
    step(&case, "confirm-exposure", StepAction::Done, None);
    (case, hands)
}

fn scan(minutes: i64, state: PortState, line: u64) -> ScanMark {
    ScanMark {
        time: at(minutes),
        state,
        scanner_state: None,
        tool: ScanTool::Nmap,
        external: true,
        target: "203.0.113.7:443".into(),
        source: SourceId(0),
        line,
    }
}

fn closed_window() -> Window {
    Window {
        opened_earliest: None,
        opened_latest: at(-30),
        closed_earliest: at(-1),
        closed_latest: Some(at(3)),
        status: WindowStatus::Closed,
        external_requests: 10,
        external_successes: 4,
        external_bytes: 1000,
        external_clients: 2,
        first_external: None,
        first_non_scanner_success: None,
        evidence: EvidenceCount { positive: 11, negative: 1 },
        top_paths: Vec::new(),
        sensitive: Vec::new(),
    }
}

fn source(path: &str) -> SourceHealth {
    SourceHealth {
        id: SourceId(0),
        path: path.into(),
        kind: SourceKind::Scan,
        format: "nmap-xml".into(),
        service: String::new(),
        sha256: None,
        lines: 20,
        events: 1,
        malformed: 0,
        oversized: 0,
        malformed_samples: Vec::new(),
        first_event: None,
        last_event: None,
        rotations: 0,
        truncations: 0,
        incomplete: false,
        errors: Vec::new(),
        lines_per_sec: 0.0,
        lag_secs: None,
        unmatched: crate::model::snapshot::UnmatchedTargets::default(),
        aliases: Vec::new(),
        scan_states: std::collections::BTreeMap::new(),
        waf_actions: std::collections::BTreeMap::new(),
        database: None,
        zone_assumed: false,
        duplicate_of: None,
        duplicate_by: None,
    }
}

/// The API was open before the case, the window closed, and a scan after block-ingress
/// started (+4) found the port filtered.
fn evidence() -> Snapshot {
    let api = ServiceSummary {
        name: "api".into(),
        addresses: vec!["203.0.113.7:443".into()],
        state: ServiceState::Closed,
        windows: vec![closed_window()],
        external_requests: 10,
        external_successes: 4,
        external_bytes: 1000,
        external_clients: 2,
        internal_requests: 0,
        unattributed_requests: 0,
        forwarded_unknown_requests: 0,
        first_external: None,
        first_non_scanner_success: None,
        scans: vec![scan(-40, PortState::Open, 7), scan(4, PortState::Filtered, 12)],
        coverage: crate::model::snapshot::Coverage::default(),
    };
    Snapshot {
        as_of: at(25),
        sources: vec![source("/evidence/nmap-1040.xml")],
        services: vec![api],
        ..Snapshot::default()
    }
}

fn record<'a>(section: &'a CaseSection, id: &str) -> &'a StepRecord {
    let steps = &section.playbook.as_ref().expect("playbook record").steps;
    steps.iter().find(|s| s.id == id).expect("step in the record")
}

#[test]
fn steps_map_states_times_operators_slas_and_skip_reasons() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (case, _hands) = worked_case(dir.path());
    let state = case.state().expect("state");
    let section = from_case(&case, &state, None, at(25));

    assert_eq!(section.case_name, "API exposure");
    assert_eq!((section.opened_at, section.opened_by.as_str()), (Some(t0()), "ana"));
    let pb = section.playbook.as_ref().expect("playbook record");
    assert_eq!(pb.id, "exposed-api-endpoint");
    assert_eq!(pb.title, case.playbook.title);
    let ids: Vec<&str> = pb.steps.iter().map(|s| s.id.as_str()).collect();
    let expected: Vec<&str> = case.playbook.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, expected, "playbook order");

    let block = record(&section, "block-ingress");
    assert_eq!(block.state, StepState::Done);
    assert_eq!((block.started, block.done), (Some(at(2)), Some(at(5))));
    assert_eq!(block.operator, "ana");
    assert_eq!((block.sla_minutes, block.sla), (Some(30), Some(SlaOutcome::Met)));
    assert_eq!(block.skip_reason, "", "a done step's note is not a skip reason");

    let confirm = record(&section, "confirm-exposure");
    assert_eq!(confirm.state, StepState::Done);
    assert_eq!(confirm.started, None, "done without a start: no start is invented");
    let words: Vec<&str> = confirm.history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(words, ["done (never marked started)"]);
    assert_eq!(confirm.sla, Some(SlaOutcome::Missed), "15-minute SLA, done at +20");

    let notify = record(&section, "notify");
    assert_eq!(notify.state, StepState::Skipped);
    assert_eq!(notify.skip_reason, "no customer data involved");
    assert_eq!(notify.done, Some(at(6)));
    assert_eq!(notify.sla, Some(SlaOutcome::Skipped), "a skipped step never meets its SLA");
    assert_eq!(notify.history[0].action, "skipped");
    assert_eq!(notify.history[0].note, "no customer data involved");

    let scope = record(&section, "scope-access");
    assert_eq!(scope.state, StepState::Blocked);
    assert_eq!((scope.started, scope.done), (None, None), "blocked, never marked started");
    assert_eq!(scope.history[0].action, "blocked");
    assert_eq!(scope.skip_reason, "", "a block note is not a skip reason");
    assert_eq!(scope.sla, Some(SlaOutcome::Running), "240-minute SLA at +25");

    let preserve = record(&section, "preserve-logs");
    assert_eq!(preserve.state, StepState::Pending);
    assert_eq!((preserve.started, preserve.done, preserve.operator.as_str()), (None, None, ""));
    // SLA 60 minutes: running at +25, near (still running) at +50, overdue at +61.
    assert_eq!(preserve.sla, Some(SlaOutcome::Running));
    let later = from_case(&case, &state, None, at(50));
    assert_eq!(record(&later, "preserve-logs").sla, Some(SlaOutcome::Running));
    let late = from_case(&case, &state, None, at(61));
    assert_eq!(record(&late, "preserve-logs").sla, Some(SlaOutcome::Overdue));
    assert_eq!(record(&late, "block-ingress").sla, Some(SlaOutcome::Met), "closed stays met");
}

#[test]
fn verification_comes_from_the_snapshot_with_evidence_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (case, _hands) = worked_case(dir.path());
    let state = case.state().expect("state");
    let snap = evidence();
    let section = from_case(&case, &state, Some(&snap), at(25));

    let block = record(&section, "block-ingress").verification.as_ref().expect("scan_closed");
    assert_eq!(block.outcome, VerifyState::Verified, "{block:?}");
    assert_eq!(block.evidence.len(), 1, "{:?}", block.evidence);
    let line = &block.evidence[0];
    assert!(line.starts_with("2026-05-01T10:04:00Z "), "{line}");
    assert!(line.contains("filtered"), "{line}");
    assert!(line.ends_with("(/evidence/nmap-1040.xml, line 12)"), "{line}");

    // Not started: no evidence is looked at, even for window_closed (issue 16).
    let close = record(&section, "close-out").verification.as_ref().expect("window_closed");
    assert_eq!(close.outcome, VerifyState::NotEvaluated, "{close:?}");
    assert_eq!(close.summary, "not started");

    let outside =
        record(&section, "verify-from-outside").verification.as_ref().expect("no_external_*");
    assert_eq!(outside.outcome, VerifyState::NotEvaluated);
    assert!(outside.summary.contains("not started"), "{}", outside.summary);

    assert_eq!(record(&section, "notify").verification, None, "no verify condition");

    // Without a snapshot every condition is reported, none evaluated.
    let bare = from_case(&case, &state, None, at(25));
    let conditions: Vec<&Verification> = bare
        .playbook
        .iter()
        .flat_map(|p| &p.steps)
        .filter_map(|s| s.verification.as_ref())
        .collect();
    let with_verify = case.playbook.steps.iter().filter(|s| s.verify.is_some()).count();
    assert_eq!(conditions.len(), with_verify);
    assert!(conditions.iter().all(|v| v.outcome == VerifyState::NotEvaluated
        && (v.summary.contains("no snapshot") || v.summary == "not started")));
    assert!(conditions.iter().any(|v| v.summary.contains("no snapshot")), "started steps");
}

#[test]
fn history_is_the_journal_of_each_step_in_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (case, hands) = worked_case(dir.path());
    hands.set(30);
    step(&case, "block-ingress", StepAction::Reopen, None);
    hands.set(31);
    step(&case, "preserve-logs", StepAction::Start, None);
    hands.set(32);
    step(&case, "preserve-logs", StepAction::Done, None);
    hands.set(33);
    step(&case, "preserve-logs", StepAction::Reopen, None);
    let state = case.state().expect("state");
    let section = from_case(&case, &state, None, at(40));
    let block = record(&section, "block-ingress");
    let words: Vec<(&str, i64)> =
        block.history.iter().map(|h| (h.action.as_str(), (h.at - t0()).num_minutes())).collect();
    assert_eq!(words, [("started", 2), ("done", 5), ("reopened", 30)]);
    assert_eq!(block.history[1].note, "sg-0abc revoked");
    assert_eq!((block.state, block.started, block.done), (StepState::Pending, None, None));
    // start, done, reopen is three records, not a silent "pending".
    let preserve = record(&section, "preserve-logs");
    let words: Vec<&str> = preserve.history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(words, ["started", "done", "reopened"]);
    // Every record of the journal is in the section, with its hash, in order.
    let journal = case.journal().read().expect("journal");
    assert_eq!(section.records.len(), journal.entries.len());
    for (r, e) in section.records.iter().zip(&journal.entries) {
        assert_eq!((r.seq, &r.hash, &r.kind), (e.seq, &e.hash, &e.kind));
    }
    assert!(
        section.journal.as_ref().is_some_and(|j| j.verification.starts_with("hash chain verified"))
    );
}

#[test]
fn evidence_names_the_source_id_when_the_snapshot_does_not_list_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (case, _hands) = worked_case(dir.path());
    let state = case.state().expect("state");
    let mut snap = evidence();
    snap.sources.clear();
    let section = from_case(&case, &state, Some(&snap), at(25));
    let block = record(&section, "block-ingress").verification.as_ref().expect("scan_closed");
    assert!(block.evidence[0].ends_with("(source 0, line 12)"), "{:?}", block.evidence);
}

#[test]
fn notes_events_and_journal_head() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (case, _hands) = worked_case(dir.path());
    let state = case.state().expect("state");
    let section = from_case(&case, &state, None, at(25));

    assert_eq!(
        section.notes,
        vec![Note {
            at: at(8),
            by: "bob".into(),
            text: "ingress rule was added by a Terraform change".into()
        }]
    );
    let events: Vec<(DateTime<Utc>, &str)> =
        section.events.iter().map(|e| (e.at, e.text.as_str())).collect();
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[0].0, at(9));
    assert!(events[0].1.starts_with("source added: ") && events[0].1.contains("leakline.toml"));
    assert_eq!(events[1].0, at(10));
    assert!(events[1].1.contains("first hit was a scanner"), "{}", events[1].1);
    assert_eq!(events[2].0, at(11));
    assert!(events[2].1.contains("log shipper restart"), "{}", events[2].1);
    assert!(section.events.iter().all(|e| e.by == "ana"));

    let head = section.journal.as_ref().expect("journal head");
    assert_eq!(head.records, 10, "opened + 5 steps + note + source + annotation + gap");
    assert_eq!(head.records, state.records);
    assert_eq!(head.head_hash, state.head);
    assert_eq!(head.head_hash.len(), 64);
    assert!(head.problems.is_empty(), "{:?}", head.problems);
}

#[test]
fn a_torn_tail_is_a_journal_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (case, _hands) = worked_case(dir.path());
    let intact = case.state().expect("state");
    let mut journal =
        std::fs::OpenOptions::new().append(true).open(case.journal().path()).expect("open journal");
    journal.write_all(b"{\"seq\":11,\"kind\":\"no").expect("tear");
    drop(journal);
    let state = case.state().expect("torn state");
    let section = from_case(&case, &state, None, at(25));
    let head = section.journal.as_ref().expect("journal head");
    assert_eq!((head.records, head.head_hash.as_str()), (intact.records, intact.head.as_str()));
    assert_eq!(head.problems.len(), 1, "{:?}", head.problems);
    assert!(
        head.problems[0].contains("journal.jsonl:11: unfinished final line"),
        "{:?}",
        head.problems
    );
}

#[test]
fn sla_and_state_mappings_are_total() {
    use crate::playbook::StepState as P;
    let pairs = [
        (P::Pending, StepState::Pending),
        (P::InProgress, StepState::InProgress),
        (P::Done, StepState::Done),
        (P::Skipped, StepState::Skipped),
        (P::Blocked, StepState::Blocked),
    ];
    for (from, to) in pairs {
        assert_eq!(step_state(from), to);
    }
    let d = at(0);
    assert_eq!(sla_outcome(SlaStatus::None), None);
    assert_eq!(
        sla_outcome(SlaStatus::Near { deadline: d, secs_left: 5 }),
        Some(SlaOutcome::Running)
    );
    assert_eq!(
        sla_outcome(SlaStatus::OnTrack { deadline: d, secs_left: 5000 }),
        Some(SlaOutcome::Running)
    );
    assert_eq!(
        sla_outcome(SlaStatus::Overdue { deadline: d, secs_over: 1 }),
        Some(SlaOutcome::Overdue)
    );
    assert_eq!(sla_outcome(SlaStatus::Met { deadline: d }), Some(SlaOutcome::Met));
    assert_eq!(
        sla_outcome(SlaStatus::Missed { deadline: d, secs_late: 9 }),
        Some(SlaOutcome::Missed)
    );
}
