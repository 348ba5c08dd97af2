//! Verify conditions evaluated on hand-built snapshots.

use chrono::{DateTime, Utc};
use leakline::model::snapshot::{
    EvidenceCount, Gap, GapKind, ScanMark, ServiceState, ServiceSummary, Window, WindowStatus,
};
use leakline::model::{PortState, ScanTool, Snapshot, SourceId};
use leakline::playbook::{VerifyKind, VerifyOutcome, VerifySpec, evaluate};

use crate::t;

fn window(
    opened: &str,
    last_positive: &str,
    closed_latest: Option<&str>,
    successes: u64,
) -> Window {
    Window {
        opened_earliest: None,
        opened_latest: t(opened),
        closed_earliest: t(last_positive),
        closed_latest: closed_latest.map(t),
        status: if closed_latest.is_some() { WindowStatus::Closed } else { WindowStatus::Open },
        external_requests: 10,
        external_successes: successes,
        external_bytes: 1000,
        external_clients: 2,
        first_external: None,
        first_non_scanner_success: None,
        evidence: EvidenceCount { positive: 11, negative: u64::from(closed_latest.is_some()) },
        top_paths: Vec::new(),
        sensitive: Vec::new(),
    }
}

fn mark(time: &str, state: PortState, external: bool, target: &str, line: u64) -> ScanMark {
    ScanMark {
        time: t(time),
        state,
        scanner_state: None,
        tool: ScanTool::Nmap,
        external,
        target: target.into(),
        source: SourceId(3),
        line,
    }
}

fn service(name: &str, windows: Vec<Window>, scans: Vec<ScanMark>) -> ServiceSummary {
    let state = if windows.is_empty() {
        ServiceState::NeverExposed
    } else if windows.iter().any(|w| w.status == WindowStatus::Open) {
        ServiceState::Open
    } else {
        ServiceState::Closed
    };
    ServiceSummary {
        name: name.into(),
        addresses: vec!["203.0.113.7:443".into()],
        state,
        windows,
        external_requests: 0,
        external_successes: 0,
        external_bytes: 0,
        external_clients: 0,
        internal_requests: 0,
        unattributed_requests: 0,
        forwarded_unknown_requests: 0,
        first_external: None,
        first_non_scanner_success: None,
        scans,
        coverage: leakline::model::snapshot::Coverage::default(),
    }
}

fn snapshot(as_of: &str, services: Vec<ServiceSummary>) -> Snapshot {
    Snapshot { as_of: t(as_of), services, ..Snapshot::default() }
}

fn spec(kind: VerifyKind, services: &[&str]) -> VerifySpec {
    VerifySpec { kind, services: services.iter().map(|s| (*s).to_owned()).collect() }
}

fn run(
    spec: &VerifySpec,
    snap: &Snapshot,
    started: Option<&str>,
) -> leakline::playbook::VerifyResult {
    evaluate(spec, snap, started.map(t), snap.as_of)
}

const STARTED: &str = "2026-05-01T10:00:00Z";

#[test]
fn scan_closed_needs_an_external_non_open_scan_after_the_start() {
    let sc = spec(VerifyKind::ScanClosed, &["api"]);
    let before = mark("2026-05-01T09:00:00Z", PortState::Open, true, "203.0.113.7:443", 4);
    let internal = mark("2026-05-01T10:05:00Z", PortState::Closed, false, "10.0.0.7:443", 9);
    let snap = snapshot(
        "2026-05-01T10:30:00Z",
        vec![service("api", vec![], vec![before.clone(), internal.clone()])],
    );
    let r = run(&sc, &snap, Some(STARTED));
    assert_eq!(r.outcome, VerifyOutcome::NotYet, "{r:?}");
    assert!(r.summary.contains("no external scan since the step started"), "{}", r.summary);

    let closed = mark("2026-05-01T10:10:00Z", PortState::Filtered, true, "203.0.113.7:443", 12);
    let snap = snapshot(
        "2026-05-01T10:30:00Z",
        vec![service("api", vec![], vec![before.clone(), internal, closed.clone()])],
    );
    let r = run(&sc, &snap, Some(STARTED));
    assert_eq!(r.outcome, VerifyOutcome::Verified, "{r:?}");
    assert_eq!(r.evidence.len(), 1);
    assert_eq!(r.evidence[0].time, Some(t("2026-05-01T10:10:00Z")));
    assert_eq!((r.evidence[0].source, r.evidence[0].line), (Some(SourceId(3)), Some(12)));
    assert!(
        r.evidence[0].what.contains("nmap scan of 203.0.113.7:443: filtered"),
        "{:?}",
        r.evidence
    );

    // A later open scan of the same target undoes it; an open scan at the same instant wins.
    let reopened = mark("2026-05-01T10:10:00Z", PortState::Open, true, "203.0.113.7:443", 13);
    let snap = snapshot(
        "2026-05-01T10:30:00Z",
        vec![service("api", vec![], vec![before.clone(), closed.clone(), reopened])],
    );
    let r = run(&sc, &snap, Some(STARTED));
    assert_eq!(r.outcome, VerifyOutcome::NotYet);
    assert!(
        r.summary.contains("203.0.113.7:443 still open at 2026-05-01T10:10:00Z"),
        "{}",
        r.summary
    );

    // A second public address seen open before the start must be rescanned too.
    let other = mark("2026-05-01T09:30:00Z", PortState::Open, true, "[2001:db8::7]:443", 20);
    let snap =
        snapshot("2026-05-01T10:30:00Z", vec![service("api", vec![], vec![before, closed, other])]);
    let r = run(&sc, &snap, Some(STARTED));
    assert_eq!(r.outcome, VerifyOutcome::NotYet);
    assert!(r.summary.contains("[2001:db8::7]:443 not rescanned"), "{}", r.summary);

    // Scans after as_of are not evidence yet.
    let late = mark("2026-05-01T10:40:00Z", PortState::Closed, true, "203.0.113.7:443", 30);
    let snap = snapshot("2026-05-01T10:30:00Z", vec![service("api", vec![], vec![late])]);
    assert_eq!(run(&sc, &snap, Some(STARTED)).outcome, VerifyOutcome::NotYet);
}

#[test]
fn no_external_for_counts_quiet_time_after_the_step_start() {
    let spec10 = spec(VerifyKind::NoExternalFor { secs: 600 }, &[]);
    // Last positive evidence 10:04; quiet since then.
    let svc = service(
        "api",
        vec![window("2026-05-01T09:00:00Z", "2026-05-01T10:04:00Z", None, 3)],
        vec![],
    );
    let r = run(&spec10, &snapshot("2026-05-01T10:13:59Z", vec![svc.clone()]), Some(STARTED));
    assert_eq!(r.outcome, VerifyOutcome::NotYet);
    assert!(r.summary.contains("verifiable at 2026-05-01T10:14:00Z"), "{}", r.summary);
    let r = run(&spec10, &snapshot("2026-05-01T10:14:00Z", vec![svc.clone()]), Some(STARTED));
    assert_eq!(r.outcome, VerifyOutcome::Verified, "{r:?}");
    assert_eq!(r.evidence[0].time, Some(t("2026-05-01T10:04:00Z")));

    // Evidence long before the start: the quiet period still counts from the start.
    let old = service(
        "api",
        vec![window("2026-04-30T09:00:00Z", "2026-04-30T10:00:00Z", None, 3)],
        vec![],
    );
    let r = run(&spec10, &snapshot("2026-05-01T10:09:00Z", vec![old.clone()]), Some(STARTED));
    assert_eq!(r.outcome, VerifyOutcome::NotYet);
    assert_eq!(
        run(&spec10, &snapshot("2026-05-01T10:10:00Z", vec![old]), Some(STARTED)).outcome,
        VerifyOutcome::Verified
    );

    // An external open scan is positive evidence too.
    let scanned = service(
        "api",
        vec![window("2026-05-01T09:00:00Z", "2026-05-01T10:04:00Z", None, 3)],
        vec![mark("2026-05-01T10:08:00Z", PortState::Open, true, "203.0.113.7:443", 7)],
    );
    let r = run(&spec10, &snapshot("2026-05-01T10:14:00Z", vec![scanned]), Some(STARTED));
    assert_eq!(r.outcome, VerifyOutcome::NotYet);
    assert!(r.summary.contains("last external evidence at 2026-05-01T10:08:00Z"), "{}", r.summary);

    // Not started: not evaluated.
    assert_eq!(
        run(&spec10, &snapshot("2026-05-01T12:00:00Z", vec![svc]), None).outcome,
        VerifyOutcome::NotEvaluated
    );
}

#[test]
fn no_external_success_for_ignores_windows_without_successes() {
    let s = spec(VerifyKind::NoExternalSuccessFor { secs: 900 }, &["api"]);
    // Window 1 had successes (last evidence 10:02); window 2 (only refusals) runs until 10:12.
    let svc = service(
        "api",
        vec![
            window("2026-05-01T09:00:00Z", "2026-05-01T10:02:00Z", Some("2026-05-01T10:03:00Z"), 5),
            window("2026-05-01T10:05:00Z", "2026-05-01T10:12:00Z", None, 0),
        ],
        vec![],
    );
    let r = run(&s, &snapshot("2026-05-01T10:17:00Z", vec![svc.clone()]), Some(STARTED));
    assert_eq!(r.outcome, VerifyOutcome::Verified, "{r:?}");
    assert!(r.summary.contains("last external success at 2026-05-01T10:02:00Z"), "{}", r.summary);
    let any = spec(VerifyKind::NoExternalFor { secs: 900 }, &["api"]);
    assert_eq!(
        run(&any, &snapshot("2026-05-01T10:17:00Z", vec![svc]), Some(STARTED)).outcome,
        VerifyOutcome::NotYet
    );
}

#[test]
fn window_closed_checks_every_window_of_the_services() {
    let s = spec(VerifyKind::WindowClosed, &["api", "admin"]);
    let api = service(
        "api",
        vec![window(
            "2026-05-01T09:00:00Z",
            "2026-05-01T10:02:00Z",
            Some("2026-05-01T10:03:00Z"),
            5,
        )],
        vec![],
    );
    let admin_open = service(
        "admin",
        vec![window("2026-05-01T09:30:00Z", "2026-05-01T10:01:00Z", None, 1)],
        vec![],
    );
    let both = snapshot("2026-05-01T11:00:00Z", vec![api.clone(), admin_open]);
    // Not started: nothing is looked at, open windows or not (issue 16).
    let r = run(&s, &both, None);
    assert_eq!((r.outcome, r.summary.as_str()), (VerifyOutcome::NotEvaluated, "not started"));
    let r = run(&s, &both, Some("2026-05-01T10:30:00Z"));
    assert_eq!(r.outcome, VerifyOutcome::NotYet);
    assert!(
        r.summary.contains("admin: window opened ≤ 2026-05-01T09:30:00Z still open"),
        "{}",
        r.summary
    );
    let admin_never = service("admin", vec![], vec![]);
    let quiet = snapshot("2026-05-01T11:00:00Z", vec![api, admin_never]);
    assert_eq!(run(&s, &quiet, None).outcome, VerifyOutcome::NotEvaluated, "not started");
    let r = run(&s, &quiet, Some("2026-05-01T10:30:00Z"));
    assert_eq!(r.outcome, VerifyOutcome::Verified, "{r:?}");
    assert!(
        r.summary.contains("api: all 1 window(s) closed")
            && r.summary.contains("admin: never exposed"),
        "{}",
        r.summary
    );
    assert_eq!(r.evidence[0].time, Some(t("2026-05-01T10:03:00Z")));
}

#[test]
fn unknown_services_empty_selection_and_gaps() {
    let s = spec(VerifyKind::WindowClosed, &["nope"]);
    let r = run(&s, &snapshot("2026-05-01T11:00:00Z", vec![service("api", vec![], vec![])]), None);
    assert_eq!(r.outcome, VerifyOutcome::NotEvaluated);
    assert!(r.summary.contains("service \"nope\" is not in the evidence"), "{}", r.summary);
    let all = spec(VerifyKind::WindowClosed, &[]);
    let r =
        run(&all, &snapshot("2026-05-01T11:00:00Z", vec![service("api", vec![], vec![])]), None);
    assert_eq!(r.outcome, VerifyOutcome::NotEvaluated);

    let svc = service(
        "api",
        vec![window("2026-05-01T09:00:00Z", "2026-05-01T10:04:00Z", None, 3)],
        vec![],
    );
    let mut snap = snapshot("2026-05-01T10:30:00Z", vec![svc]);
    let gap_at = |from: &str, to: Option<&str>| Gap {
        kind: GapKind::Rotated,
        source: Some(SourceId(0)),
        path: "/var/log/nginx/access.log".into(),
        from: t(from),
        to: to.map(t),
        reason: "rotated".into(),
    };
    snap.gaps = vec![
        gap_at("2026-05-01T10:10:00Z", Some("2026-05-01T10:11:00Z")),
        gap_at("2026-05-01T09:00:00Z", Some("2026-05-01T09:01:00Z")),
    ];
    let r = run(&spec(VerifyKind::NoExternalFor { secs: 600 }, &[]), &snap, Some(STARTED));
    assert_eq!(r.outcome, VerifyOutcome::Verified);
    assert_eq!(r.caveats.len(), 1, "{:?}", r.caveats);
    assert!(
        r.caveats[0].contains(
            "ingest gap (rotated) in /var/log/nginx/access.log from 2026-05-01T10:10:00Z"
        ),
        "{:?}",
        r.caveats
    );
}

/// Evaluate is pure: the same inputs give the same result, whatever the order of services.
#[test]
fn results_do_not_depend_on_service_order() {
    let a =
        service("a", vec![window("2026-05-01T09:00:00Z", "2026-05-01T10:04:00Z", None, 3)], vec![]);
    let b =
        service("b", vec![window("2026-05-01T09:00:00Z", "2026-05-01T10:01:00Z", None, 3)], vec![]);
    let s = spec(VerifyKind::NoExternalFor { secs: 600 }, &[]);
    let as_of: DateTime<Utc> = t("2026-05-01T10:12:00Z");
    let r1 = evaluate(
        &s,
        &snapshot("2026-05-01T10:12:00Z", vec![a.clone(), b.clone()]),
        Some(t(STARTED)),
        as_of,
    );
    let r2 = evaluate(&s, &snapshot("2026-05-01T10:12:00Z", vec![b, a]), Some(t(STARTED)), as_of);
    assert_eq!(r1.outcome, VerifyOutcome::NotYet);
    assert_eq!(r1.outcome, r2.outcome);
    assert!(
        r1.summary.contains("a: last external evidence at 2026-05-01T10:04:00Z"),
        "{}",
        r1.summary
    );
}

#[test]
fn absurd_hand_built_durations_do_not_panic() {
    let svc = service(
        "api",
        vec![window("2026-05-01T09:00:00Z", "2026-05-01T10:04:00Z", None, 3)],
        vec![],
    );
    let s = spec(VerifyKind::NoExternalFor { secs: u64::MAX }, &[]);
    let r = run(&s, &snapshot("2026-05-01T10:30:00Z", vec![svc]), Some(STARTED));
    assert_eq!(r.outcome, VerifyOutcome::NotYet);
    assert!(r.summary.contains("verifiable at never"), "{}", r.summary);
}

/// No evidence is never verified quiet; a verdict over partly unread evidence carries it as
/// a caveat.
#[test]
fn no_evidence_is_not_evaluated_and_unread_sources_are_caveats() {
    use leakline::model::snapshot::UnreadSource;
    let quiet = spec(VerifyKind::NoExternalFor { secs: 600 }, &["api"]);
    let mut svc = service("api", vec![], vec![]);
    svc.state = ServiceState::Unknown;
    let unread =
        UnreadSource { path: "/logs/*.json".into(), reason: "no file matches this pattern".into() };
    svc.coverage.sources_unread.push(unread.clone());
    let snap = snapshot("2026-05-01T11:00:00Z", vec![svc.clone()]);
    let r = run(&quiet, &snap, Some(STARTED));
    assert_eq!(r.outcome, VerifyOutcome::NotEvaluated, "{r:?}");
    assert!(r.summary.contains("no evidence read"), "{}", r.summary);

    svc.state = ServiceState::NeverExposed;
    svc.coverage.sources_read.push("/logs/access.log".into());
    let snap = snapshot("2026-05-01T11:00:00Z", vec![svc]);
    let r = run(&quiet, &snap, Some(STARTED));
    assert_eq!(r.outcome, VerifyOutcome::Verified, "{r:?}");
    assert!(
        r.caveats.iter().any(|c| c.contains("evidence incomplete") && c.contains("/logs/*.json")),
        "{:?}",
        r.caveats
    );
}
