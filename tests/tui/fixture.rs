//! Fixed inputs for the TUI tests: the model-gateway story as a `Snapshot` at a fixed `as_of`,
//! plus helpers to draw into a `TestBackend` and to script keys.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use leakline::follow::LiveItem;
use leakline::model::snapshot::{
    ActorClass, ActorSummary, Coverage, EvidenceCount, Gap, GapKind, Hit, PathCount, RateSeries,
    ScanMark, ServiceState, ServiceSummary, SourceHealth, Stats, Window, WindowStatus,
};
use leakline::model::{
    Event, PortState, Request, ScanObservation, ScanTool, Snapshot, SourceId, SourceKind,
};
use leakline::tui::Theme;
use leakline::tui::app::{App, Effect, Mode};
pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|d| d.to_utc()).expect("fixture time")
}

pub fn hit(time: &str, client: &str, method: &str, path: &str, status: u16, ua: &str) -> Hit {
    Hit {
        time: t(time),
        client: client.to_owned(),
        user_agent: ua.to_owned(),
        method: method.to_owned(),
        path: path.to_owned(),
        status,
    }
}

pub fn scan(time: &str, state: PortState, tool: ScanTool) -> ScanMark {
    ScanMark {
        time: t(time),
        state,
        scanner_state: None,
        tool,
        external: true,
        target: "192.0.2.40:443".to_owned(),
        source: SourceId(2),
        line: 1,
    }
}

pub fn actor(
    client: &str,
    class: ActorClass,
    scanner: Option<&str>,
    req: u64,
    bytes: u64,
) -> ActorSummary {
    ActorSummary {
        client: client.parse().expect("fixture ip"),
        class,
        scanner: scanner.map(str::to_owned),
        first_seen: t("2026-11-03T11:42:10Z"),
        last_seen: t("2026-11-03T13:20:11Z"),
        requests: req,
        successes: req / 2,
        bytes,
        services: vec!["model-gateway".to_owned()],
        top_paths: vec![
            PathCount {
                path: "/v1/models".to_owned(),
                requests: req / 2,
                successes: None,
                bytes: None,
            },
            PathCount {
                path: "/v1/completions".to_owned(),
                requests: req / 3,
                successes: None,
                bytes: None,
            },
        ],
        user_agents: vec![("python-requests/2.32.3".to_owned(), req)],
        statuses: BTreeMap::from([(200, req / 2), (429, req - req / 2)]),
        detail_dropped: false,
    }
}

pub fn source(id: u32, path: &str, kind: SourceKind, format: &str, lines: u64) -> SourceHealth {
    SourceHealth {
        id: SourceId(id),
        path: path.to_owned(),
        kind,
        format: format.to_owned(),
        service: if kind == SourceKind::Access {
            "model-gateway".to_owned()
        } else {
            String::new()
        },
        sha256: None,
        lines,
        events: lines,
        malformed: u64::from(id == 1) * 3,
        oversized: 0,
        malformed_samples: Vec::new(),
        first_event: Some(t("2026-11-03T10:00:10Z")),
        last_event: Some(t("2026-11-03T13:20:11Z")),
        rotations: 0,
        truncations: 0,
        incomplete: false,
        errors: Vec::new(),
        lines_per_sec: 12.0,
        lag_secs: Some(2.0),
        unmatched: leakline::model::snapshot::UnmatchedTargets::default(),
        aliases: Vec::new(),
        scan_states: std::collections::BTreeMap::new(),
        waf_actions: std::collections::BTreeMap::new(),
        database: None,
        zone_assumed: false,
        duplicate_of: None,
        duplicate_by: None,
    }
}

/// The two windows of the story: 11:42–12:29 (closed), re-exposed from 12:55 (open).
pub fn windows(first: &Hit, human: &Hit) -> (Window, Window) {
    let w1 = Window {
        opened_earliest: Some(t("2026-11-03T11:00:09Z")),
        opened_latest: t("2026-11-03T11:42:10Z"),
        closed_earliest: t("2026-11-03T12:29:30Z"),
        closed_latest: Some(t("2026-11-03T12:40:09Z")),
        status: WindowStatus::Closed,
        external_requests: 86,
        external_successes: 57,
        external_bytes: 21_800_321,
        external_clients: 7,
        first_external: Some(first.clone()),
        first_non_scanner_success: Some(human.clone()),
        evidence: EvidenceCount { positive: 88, negative: 1 },
        top_paths: vec![PathCount {
            path: "/v1/models".to_owned(),
            requests: 30,
            successes: Some(28),
            bytes: Some(61_440),
        }],
        sensitive: Vec::new(),
    };
    let w2 = Window {
        opened_earliest: Some(t("2026-11-03T12:40:09Z")),
        opened_latest: t("2026-11-03T12:55:01Z"),
        closed_earliest: t("2026-11-03T13:20:11Z"),
        closed_latest: None,
        status: WindowStatus::Open,
        external_requests: 40,
        external_successes: 31,
        external_bytes: 3_250_000,
        external_clients: 3,
        first_external: Some(hit("2026-11-03T12:55:01Z", "71.6.199.23", "GET", "/", 404, "Shodan")),
        first_non_scanner_success: None,
        evidence: EvidenceCount { positive: 40, negative: 0 },
        top_paths: Vec::new(),
        sensitive: Vec::new(),
    };
    (w1, w2)
}

/// The model-gateway story at 13:21:00: exposed 11:42–12:29, contained, re-exposed at 12:55.
pub fn fixture() -> Snapshot {
    let first = hit(
        "2026-11-03T11:42:10Z",
        "162.142.125.221",
        "GET",
        "/",
        404,
        "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)",
    );
    let human = hit(
        "2026-11-03T12:02:55Z",
        "198.51.100.201",
        "GET",
        "/v1/models",
        200,
        "python-requests/2.32.3",
    );
    let (w1, w2) = windows(&first, &human);
    let gateway = ServiceSummary {
        name: "model-gateway".to_owned(),
        addresses: vec!["192.0.2.40:443".to_owned()],
        state: ServiceState::Open,
        windows: vec![w1, w2],
        external_requests: 126,
        external_successes: 88,
        external_bytes: 25_050_321,
        external_clients: 9,
        internal_requests: 3300,
        unattributed_requests: 0,
        forwarded_unknown_requests: 0,
        first_external: Some(first),
        first_non_scanner_success: Some(human),
        scans: vec![
            scan("2026-11-03T11:00:09Z", PortState::Filtered, ScanTool::Nmap),
            scan("2026-11-03T12:15:09Z", PortState::Open, ScanTool::Nmap),
            scan("2026-11-03T12:17:40Z", PortState::Open, ScanTool::Nuclei),
            scan("2026-11-03T12:40:09Z", PortState::Filtered, ScanTool::Nmap),
        ],
        coverage: read(&["logs/access.log", "scans/nmap-1100.xml"]),
    };
    let admin = ServiceSummary {
        name: "admin-ui".to_owned(),
        addresses: vec!["192.0.2.41:8443".to_owned()],
        state: ServiceState::NeverExposed,
        windows: Vec::new(),
        external_requests: 0,
        external_successes: 0,
        external_bytes: 0,
        external_clients: 0,
        internal_requests: 120,
        unattributed_requests: 0,
        forwarded_unknown_requests: 0,
        first_external: None,
        first_non_scanner_success: None,
        scans: vec![scan("2026-11-03T12:15:09Z", PortState::Closed, ScanTool::Nmap)],
        coverage: read(&["logs/admin.log"]),
    };
    let start = t("2026-11-03T10:00:00Z");
    let buckets = 42; // 10:00 → 13:30 in 5-minute buckets
    let external: Vec<u64> = (0..buckets)
        .map(|i| if (20..32).contains(&i) || i >= 35 { (i % 7) as u64 + 2 } else { 0 })
        .collect();
    let internal: Vec<u64> = (0..buckets).map(|i| 60 + (i * 13 % 17) as u64).collect();
    Snapshot {
        as_of: t("2026-11-03T13:21:00Z"),
        case_name: "Model gateway exposure".to_owned(),
        timezone: "UTC".to_owned(),
        sources: vec![
            source(0, "/var/log/edge-a/access.log", SourceKind::Access, "combined", 2305),
            source(1, "/var/log/edge-b/access.json", SourceKind::Access, "nginx-json", 1161),
            source(2, "/case/scans/nmap-1215.xml", SourceKind::Scan, "nmap-xml", 14),
        ],
        services: vec![gateway, admin],
        actors: vec![
            actor("198.51.100.201", ActorClass::Tool, None, 61, 20_400_000),
            actor("203.0.113.77", ActorClass::Browser, None, 22, 3_100_000),
            actor("162.142.125.221", ActorClass::Scanner, Some("Censys"), 6, 918),
            actor("71.6.199.23", ActorClass::Scanner, Some("Shodan"), 5, 765),
            actor("45.83.64.9", ActorClass::Unknown, None, 4, 612),
            actor("2001:db8::bad:1", ActorClass::Tool, None, 3, 459),
        ],
        actors_total: 0,
        actor_groups: Vec::new(),
        gaps: vec![Gap {
            kind: GapKind::Rotated,
            source: Some(SourceId(0)),
            path: "/var/log/edge-a/access.log".to_owned(),
            from: t("2026-11-03T12:00:00Z"),
            to: Some(t("2026-11-03T12:00:01Z")),
            reason: "rotated".to_owned(),
        }],
        rate: RateSeries { start: Some(start), bucket_secs: 300, external, internal },
        stats: Stats { lines: 3480, events: 3477, malformed: 3, elapsed_ms: 0 },
        coverage: read(&[
            "/var/log/edge-a/access.log",
            "/var/log/edge-b/access.json",
            "/case/scans/nmap-1215.xml",
        ]),
        duplicates: Vec::new(),
        enrichment: leakline::model::enrichment::Enrichments::default(),
    }
}

/// Coverage with every one of `paths` read (no unread source).
pub fn read(paths: &[&str]) -> Coverage {
    Coverage {
        sources_read: paths.iter().map(|p| (*p).to_owned()).collect(),
        sources_unread: Vec::new(),
        from: Some(t("2026-11-03T10:00:00Z")),
        to: Some(t("2026-11-03T13:21:00Z")),
    }
}

pub fn app_with(snapshot: Snapshot, no_color: bool) -> App {
    App::new(
        "Model gateway exposure".to_owned(),
        Mode::Live,
        Theme::new(no_color),
        Arc::new(snapshot),
    )
}

pub use crate::screen::{draw, text_of};

pub fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

pub fn press(app: &mut App, keys: &str) -> Vec<Effect> {
    keys.chars().filter_map(|c| app.on_key(&key(c))).collect()
}

pub fn request(client: &str, status: u16, path: &str, ua: &str) -> Arc<Event> {
    Arc::new(Event::Request(Request {
        time: t("2026-11-03T13:20:11Z"),
        client: client.parse().ok(),
        method: "GET".to_owned(),
        target: path.to_owned(),
        protocol: "HTTP/1.1".to_owned(),
        status,
        bytes_sent: 2817,
        user_agent: ua.to_owned(),
        line: 7,
        ..Request::default()
    }))
}

pub fn feed_sample(app: &mut App) {
    app.on_live(LiveItem::Event {
        event: request("198.51.100.201", 200, "/v1/models", "python-requests/2.32.3"),
        external: true,
    });
    app.on_live(LiveItem::Event {
        event: request("10.8.4.3", 200, "/v1/models", "internal"),
        external: false,
    });
    app.on_live(LiveItem::Event {
        event: request("71.6.199.23", 404, "/.git/config", "Shodan"),
        external: true,
    });
    app.on_live(LiveItem::Event {
        event: Arc::new(Event::Scan(ScanObservation {
            time: t("2026-11-03T12:40:09Z"),
            source: SourceId(2),
            line: 9,
            address: "192.0.2.40".parse().ok(),
            hostname: String::new(),
            port: Some(443),
            transport: leakline::model::Transport::Tcp,
            state: PortState::Filtered,
            scanner_state: None,
            covered: None,
            tool: ScanTool::Nmap,
            details: "https".to_owned(),
        })),
        external: true,
    });
    app.on_live(LiveItem::Event {
        event: request("198.51.100.201", 200, "/v1/completions", "python-requests/2.32.3"),
        external: true,
    });
}
