//! Frame render time of the dashboard with a large incident: 10 000 actors, 100 exposure
//! windows (10 services × 10), a full rate series and a full events ring.
//! Target: ≤ 5 ms per frame. Run: `cargo bench --bench render`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use leakline::follow::LiveItem;
use leakline::model::snapshot::{
    ActorClass, ActorSummary, EvidenceCount, Hit, PathCount, RateSeries, ServiceState,
    ServiceSummary, SourceHealth, Stats, Window, WindowStatus,
};
use leakline::model::{Event, Request, Snapshot, SourceId, SourceKind};
use leakline::tui::app::{App, Mode};
use leakline::tui::keymap::Action;
use leakline::tui::keymap::View;
use leakline::tui::{Theme, view};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

fn base() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(20_000)
}

fn hit(t: DateTime<Utc>) -> Hit {
    Hit {
        time: t,
        client: "198.51.100.23".to_owned(),
        user_agent: "python-requests/2.32.3".to_owned(),
        method: "POST".to_owned(),
        path: "/v1/chat/completions".to_owned(),
        status: 200,
    }
}

fn sources(t0: DateTime<Utc>) -> Vec<SourceHealth> {
    (0..4)
        .map(|i| SourceHealth {
            id: SourceId(i),
            path: format!("/var/log/edge-{i}/access.log"),
            kind: SourceKind::Access,
            format: "combined".to_owned(),
            service: "service-0".to_owned(),
            sha256: None,
            lines: 1_000_000,
            events: 1_000_000,
            malformed: 12,
            oversized: 0,
            malformed_samples: Vec::new(),
            first_event: Some(t0),
            last_event: Some(t0 + TimeDelta::hours(10)),
            rotations: 1,
            truncations: 0,
            incomplete: false,
            errors: Vec::new(),
            lines_per_sec: 100_000.0,
            lag_secs: Some(0.2),
            unmatched: leakline::model::snapshot::UnmatchedTargets::default(),
            aliases: Vec::new(),
            scan_states: std::collections::BTreeMap::new(),
            waf_actions: std::collections::BTreeMap::new(),
            database: None,
            zone_assumed: false,
            duplicate_of: None,
            duplicate_by: None,
        })
        .collect()
}

fn big_snapshot() -> Snapshot {
    let t0 = base();
    let services = (0..10)
        .map(|s| {
            let windows: Vec<Window> = (0..10)
                .map(|w| {
                    let open = t0 + TimeDelta::minutes(i64::from(w) * 60 + i64::from(s));
                    Window {
                        opened_earliest: Some(open - TimeDelta::minutes(5)),
                        opened_latest: open,
                        closed_earliest: open + TimeDelta::minutes(30),
                        closed_latest: if w == 9 {
                            None
                        } else {
                            Some(open + TimeDelta::minutes(40))
                        },
                        status: if w == 9 { WindowStatus::Open } else { WindowStatus::Closed },
                        external_requests: 1000,
                        external_successes: 700,
                        external_bytes: 12_345_678,
                        external_clients: 100,
                        first_external: Some(hit(open)),
                        first_non_scanner_success: Some(hit(open + TimeDelta::minutes(1))),
                        evidence: EvidenceCount { positive: 1000, negative: 1 },
                        top_paths: Vec::new(),
                        sensitive: Vec::new(),
                    }
                })
                .collect();
            ServiceSummary {
                name: format!("service-{s}"),
                addresses: vec![format!("192.0.2.{s}:443")],
                state: ServiceState::Open,
                windows,
                external_requests: 10_000,
                external_successes: 7000,
                external_bytes: 123_456_789,
                external_clients: 1000,
                internal_requests: 50_000,
                unattributed_requests: 0,
                forwarded_unknown_requests: 0,
                first_external: Some(hit(t0)),
                first_non_scanner_success: Some(hit(t0 + TimeDelta::minutes(1))),
                scans: Vec::new(),
                coverage: leakline::model::snapshot::Coverage::default(),
            }
        })
        .collect();
    let actors = (0..10_000u32)
        .map(|i| ActorSummary {
            client: IpAddr::V4(Ipv4Addr::from(0xC633_6400 + i)),
            class: [
                ActorClass::Scanner,
                ActorClass::Tool,
                ActorClass::Browser,
                ActorClass::Unknown,
            ][(i % 4) as usize],
            scanner: (i % 4 == 0).then(|| "Censys".to_owned()),
            first_seen: t0 + TimeDelta::seconds(i64::from(i)),
            last_seen: t0 + TimeDelta::seconds(i64::from(i) + 600),
            requests: u64::from(10_000 - i),
            successes: u64::from(5000 - i / 2),
            bytes: u64::from(10_000 - i) * 1000,
            services: vec!["service-0".to_owned()],
            top_paths: vec![PathCount {
                path: "/v1/models".to_owned(),
                requests: 3,
                successes: None,
                bytes: None,
            }],
            user_agents: vec![("curl/8.5.0".to_owned(), 3)],
            statuses: BTreeMap::from([(200, 3)]),
            detail_dropped: false,
        })
        .collect();
    let sources = sources(t0);
    Snapshot {
        as_of: t0 + TimeDelta::hours(10),
        case_name: "bench".to_owned(),
        timezone: "UTC".to_owned(),
        sources,
        services,
        actors,
        gaps: Vec::new(),
        rate: RateSeries {
            start: Some(t0),
            bucket_secs: 10,
            external: (0..3600).map(|i| i % 37).collect(),
            internal: (0..3600).map(|i| i % 91).collect(),
        },
        stats: Stats::default(),
        ..Snapshot::default()
    }
}

fn app() -> App {
    let mut app =
        App::new("bench".to_owned(), Mode::Live, Theme::new(false), Arc::new(big_snapshot()));
    let req = Arc::new(Event::Request(Request {
        client: "198.51.100.23".parse().ok(),
        target: "/v1/chat/completions".to_owned(),
        method: "POST".to_owned(),
        status: 200,
        user_agent: "python-requests/2.32.3".to_owned(),
        ..Request::default()
    }));
    for _ in 0..10_000 {
        app.on_live(LiveItem::Event { event: Arc::clone(&req), external: true });
    }
    app
}

fn render(c: &mut Criterion) {
    let mut app = app();
    let area = Rect::new(0, 0, 120, 40);
    let mut buf = Buffer::empty(area);
    for v in View::ALL {
        app.update(Action::ShowView(v));
        let name = format!("frame_120x40_{}", v.title().to_lowercase());
        c.bench_function(&name, |b| {
            b.iter(|| {
                buf.reset();
                view::render(black_box(&app), area, &mut buf);
            });
        });
    }
    // Key to screen, minus the terminal write: one key through the keymap and update, then
    // the frame (the loop draws right after a key, without frame pacing).
    app.update(Action::ShowView(View::Events));
    let down = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('k'),
        crossterm::event::KeyModifiers::NONE,
    );
    c.bench_function("key_then_frame_120x40_events", |b| {
        b.iter(|| {
            app.on_key(black_box(&down));
            buf.reset();
            view::render(&app, area, &mut buf);
        });
    });
    // The actor table re-sorted on a new snapshot (done on arrival, not per frame).
    app.update(Action::ShowView(View::Actors));
    app.update(Action::CycleSort);
    let snap = Arc::clone(&app.snapshot);
    c.bench_function("new_snapshot_resort_10k_actors", |b| {
        b.iter(|| app.on_snapshot(Arc::clone(black_box(&snap))));
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
