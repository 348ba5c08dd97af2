//! TUI tests without a terminal: pane snapshots (ratatui `TestBackend` + insta) at 120×40,
//! 80×24 and 40×10 from a fixed `Snapshot` with a fixed `as_of`; style assertions on key cells;
//! hostile-text rendering; key → action → state transitions.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use leakline::follow::LiveItem;
use leakline::model::snapshot::{
    ActorClass, ActorSummary, EvidenceCount, Gap, GapKind, Hit, PathCount, RateSeries, ScanMark,
    ServiceState, ServiceSummary, SourceHealth, Stats, Window, WindowStatus,
};
use leakline::model::{
    Event, PortState, Request, ScanObservation, ScanTool, Snapshot, SourceId, SourceKind,
};
use leakline::tui::app::{ActorSort, App, Effect, Mode, PlaybookRequest};
use leakline::tui::keymap::{Action, KEYMAP, View};
use leakline::tui::{Theme, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|d| d.to_utc()).expect("fixture time")
}

fn hit(time: &str, client: &str, method: &str, path: &str, status: u16, ua: &str) -> Hit {
    Hit {
        time: t(time),
        client: client.to_owned(),
        user_agent: ua.to_owned(),
        method: method.to_owned(),
        path: path.to_owned(),
        status,
    }
}

fn scan(time: &str, state: PortState, tool: ScanTool) -> ScanMark {
    ScanMark {
        time: t(time),
        state,
        tool,
        external: true,
        target: "192.0.2.40:443".to_owned(),
        source: SourceId(2),
        line: 1,
    }
}

fn actor(
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
            PathCount { path: "/v1/models".to_owned(), requests: req / 2 },
            PathCount { path: "/v1/completions".to_owned(), requests: req / 3 },
        ],
        user_agents: vec![("python-requests/2.32.3".to_owned(), req)],
        statuses: BTreeMap::from([(200, req / 2), (429, req - req / 2)]),
    }
}

fn source(id: u32, path: &str, kind: SourceKind, format: &str, lines: u64) -> SourceHealth {
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
    }
}

/// The two windows of the story: 11:42–12:29 (closed), re-exposed from 12:55 (open).
fn windows(first: &Hit, human: &Hit) -> (Window, Window) {
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
        top_paths: vec![PathCount { path: "/v1/models".to_owned(), requests: 30 }],
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
    };
    (w1, w2)
}

/// The model-gateway story at 13:21:00: exposed 11:42–12:29, contained, re-exposed at 12:55.
fn fixture() -> Snapshot {
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
        first_external: Some(first),
        first_non_scanner_success: Some(human),
        scans: vec![
            scan("2026-11-03T11:00:09Z", PortState::Filtered, ScanTool::Nmap),
            scan("2026-11-03T12:15:09Z", PortState::Open, ScanTool::Nmap),
            scan("2026-11-03T12:17:40Z", PortState::Open, ScanTool::Nuclei),
            scan("2026-11-03T12:40:09Z", PortState::Filtered, ScanTool::Nmap),
        ],
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
        first_external: None,
        first_non_scanner_success: None,
        scans: vec![scan("2026-11-03T12:15:09Z", PortState::Closed, ScanTool::Nmap)],
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
    }
}

fn app_with(snapshot: Snapshot, no_color: bool) -> App {
    App::new(
        "Model gateway exposure".to_owned(),
        Mode::Live,
        Theme::new(no_color),
        Arc::new(snapshot),
    )
}

fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    terminal.draw(|f| view::render(app, f.area(), f.buffer_mut())).expect("draw");
    terminal
}

fn text_of(buf: &Buffer) -> String {
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn press(app: &mut App, keys: &str) -> Vec<Effect> {
    keys.chars().filter_map(|c| app.on_key(&key(c))).collect()
}

fn request(client: &str, status: u16, path: &str, ua: &str) -> Arc<Event> {
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

fn feed_sample(app: &mut App) {
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

// ---------------------------------------------------------------------------------------------
// Snapshots of every view at the three sizes.

#[test]
fn views_at_all_sizes() {
    for (w, h) in [(120, 40), (80, 24), (40, 10)] {
        for v in View::ALL {
            let mut app = app_with(fixture(), false);
            feed_sample(&mut app);
            app.update(Action::ShowView(v));
            let terminal = draw(&app, w, h);
            let name = format!("{}_{w}x{h}", v.title().to_lowercase());
            insta::assert_snapshot!(name, terminal.backend());
        }
    }
}

#[test]
fn details_and_help() {
    let mut app = app_with(fixture(), false);
    feed_sample(&mut app);
    app.update(Action::ShowView(View::Actors));
    app.update(Action::Open);
    insta::assert_snapshot!("actor_detail_120x40", draw(&app, 120, 40).backend());
    app.update(Action::ShowView(View::Events));
    app.update(Action::Up);
    app.update(Action::Open);
    insta::assert_snapshot!("event_detail_120x40", draw(&app, 120, 40).backend());
    app.update(Action::ToggleHelp);
    insta::assert_snapshot!("help_80x24", draw(&app, 80, 24).backend());
}

#[test]
fn timeline_zoomed_and_panned() {
    let mut app = app_with(fixture(), false);
    app.update(Action::ShowView(View::Timeline));
    app.update(Action::ZoomIn);
    app.update(Action::ZoomIn);
    app.update(Action::Left);
    insta::assert_snapshot!("timeline_zoom4_pan_120x40", draw(&app, 120, 40).backend());
}

#[test]
fn quiet_snapshot_says_no_exposure_seen() {
    let mut snap = fixture();
    for s in &mut snap.services {
        s.windows.clear();
        s.state = ServiceState::NeverExposed;
        s.first_external = None;
        s.first_non_scanner_success = None;
    }
    snap.actors.clear();
    let app = app_with(snap, false);
    let text = text_of(draw(&app, 80, 24).backend().buffer());
    assert!(text.contains("NO EXPOSURE SEEN"), "{text}");
    assert!(text.contains("no external actors yet"), "{text}");
}

#[test]
fn contained_when_every_window_closed() {
    let mut snap = fixture();
    snap.services[0].windows.pop();
    snap.services[0].state = ServiceState::Closed;
    let app = app_with(snap, false);
    let buf = draw(&app, 80, 24).backend().buffer().clone();
    assert!(text_of(&buf).starts_with(" CONTAINED "));
    assert_eq!(buf[(1, 0)].bg, Color::Yellow);
}

// ---------------------------------------------------------------------------------------------
// Styles of key cells: state is colour *and* word; NO_COLOR keeps the word and emphasis.

fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let text = text_of(buf);
    for (y, line) in text.lines().enumerate() {
        if let Some(byte) = line.find(needle) {
            let x = line[..byte].chars().count();
            return Some((x as u16, y as u16));
        }
    }
    None
}

#[test]
fn open_window_is_red_and_labelled() {
    let app = app_with(fixture(), false);
    let buf = draw(&app, 120, 40).backend().buffer().clone();
    let (x, y) = find(&buf, "EXPOSED").expect("banner word");
    assert_eq!((x, y), (1, 0));
    assert_eq!(buf[(x, y)].bg, Color::Red);
    let (x, y) = find(&buf, " OPEN ").expect("service state word");
    assert_eq!(buf[(x + 1, y)].bg, Color::Red);
    let (x, y) = find(&buf, "→ OPEN").expect("open window label");
    assert_eq!(buf[(x + 2, y)].fg, Color::Red);
    let (x, y) = find(&buf, "NOT EXPOSED").expect("never-exposed service");
    assert_eq!(buf[(x, y)].bg, Color::Green);
}

#[test]
fn timeline_draws_uncertainty_differently() {
    let mut app = app_with(fixture(), false);
    app.update(Action::ShowView(View::Timeline));
    let buf = draw(&app, 120, 40).backend().buffer().clone();
    let text = text_of(&buf);
    let row = text.lines().find(|l| l.starts_with("model-gateway")).expect("gantt row");
    assert!(row.contains('░') && row.contains('█'), "{row}");
    let (x, y) = find(&buf, "█").expect("bar");
    assert!(buf[(x, y)].fg == Color::Yellow || buf[(x, y)].fg == Color::Red);
    let (x, y) = find(&buf, "░").expect("uncertain");
    assert_eq!(buf[(x, y)].fg, Color::DarkGray);
    // Scan markers: open (o) and closed (x) on the row under the bar.
    let scans = text.lines().find(|l| l.starts_with("  scans")).expect("scan row");
    assert!(scans.contains('o') && scans.contains('x'), "{scans}");
}

#[test]
fn no_color_is_monochrome_but_readable() {
    let app = app_with(fixture(), true);
    let buf = draw(&app, 120, 40).backend().buffer().clone();
    for cell in buf.content() {
        assert_eq!(cell.fg, Color::Reset);
        assert_eq!(cell.bg, Color::Reset);
    }
    let (x, y) = find(&buf, "EXPOSED").expect("banner word");
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
    insta::assert_snapshot!("overview_no_color_80x24", draw(&app, 80, 24).backend());
}

// ---------------------------------------------------------------------------------------------
// Hostile text: every attacker-controlled string reaches the buffer escaped.

const HOSTILE_UA: &str =
    "\u{1b}]52;c;cm0gLXJmIH4=\u{7}\u{1b}[2J\u{1b}[31mEVIL\u{9b}1m\u{202e}gnp.exe\u{0}";

fn hostile_fixture() -> Snapshot {
    let mut snap = fixture();
    let long_path = format!("/v1/{}", "A".repeat(3000));
    "gate\u{1b}[5mway\u{202e}".clone_into(&mut snap.services[0].name);
    snap.services[0].first_external = Some(hit(
        "2026-11-03T11:42:10Z",
        "162.142.125.221",
        "GET\r\n",
        &long_path,
        200,
        HOSTILE_UA,
    ));
    snap.actors[0].user_agents = vec![(HOSTILE_UA.to_owned(), 3)];
    snap.actors[0].top_paths = vec![PathCount { path: long_path, requests: 1 }];
    snap.actors[0].scanner = Some("\u{1b}]0;pwned\u{7}".to_owned());
    snap.actors[0].class = ActorClass::Scanner;
    snap
}

fn assert_no_raw_controls(buf: &Buffer) {
    for cell in buf.content() {
        for c in cell.symbol().chars() {
            assert!(!leakline::tui::sanitize::is_unsafe(c), "raw {c:?} reached the buffer");
        }
    }
}

#[test]
fn hostile_text_is_escaped_everywhere() {
    let mut app = app_with(hostile_fixture(), false);
    app.on_live(LiveItem::Event {
        event: request("198.51.100.201", 200, "/\u{1b}[2Jx\u{202e}", HOSTILE_UA),
        external: true,
    });
    for v in View::ALL {
        app.update(Action::ShowView(v));
        let t = draw(&app, 120, 40);
        assert_no_raw_controls(t.backend().buffer());
    }
    app.update(Action::ShowView(View::Overview));
    let t = draw(&app, 120, 40);
    let text = text_of(t.backend().buffer());
    assert!(text.contains("\\x1b]52;c;"), "{text}");
    assert!(text.contains('…'), "long path truncated: {text}");
    insta::assert_snapshot!("hostile_overview_120x40", t.backend());
    app.update(Action::ShowView(View::Actors));
    app.update(Action::Open);
    let t = draw(&app, 120, 40);
    assert_no_raw_controls(t.backend().buffer());
    assert!(text_of(t.backend().buffer()).contains("\\u{202e}"));
    insta::assert_snapshot!("hostile_actor_detail_120x40", t.backend());
    app.update(Action::Back);
    app.update(Action::ShowView(View::Events));
    app.update(Action::Open);
    let t = draw(&app, 120, 40);
    assert_no_raw_controls(t.backend().buffer());
    insta::assert_snapshot!("hostile_event_detail_120x40", t.backend());
}

// ---------------------------------------------------------------------------------------------
// Tiny and degenerate areas never panic.

#[test]
fn tiny_areas_do_not_panic() {
    let mut app = app_with(hostile_fixture(), false);
    feed_sample(&mut app);
    for v in View::ALL {
        app.update(Action::ShowView(v));
        for (w, h) in
            [(0, 0), (1, 1), (0, 5), (5, 0), (2, 30), (79, 24), (80, 23), (80, 24), (200, 3)]
        {
            let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
            view::render(&app, buf.area, &mut buf);
        }
        app.help = true;
        let mut buf = Buffer::empty(Rect::new(0, 0, 80, 24));
        view::render(&app, buf.area, &mut buf);
        app.help = false;
    }
    let text = text_of(draw(&app, 79, 24).backend().buffer());
    assert!(text.contains("terminal too small"), "{text}");
}

#[test]
fn empty_snapshot_renders() {
    let mut app =
        App::new(String::new(), Mode::Replay, Theme::new(false), Arc::new(Snapshot::default()));
    for v in View::ALL {
        app.update(Action::ShowView(v));
        let text = text_of(draw(&app, 80, 24).backend().buffer());
        assert!(text.contains("NO EXPOSURE SEEN"), "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// State transitions: key → action → state, no terminal.

#[test]
fn view_keys_and_tab_cycle() {
    let mut app = app_with(fixture(), false);
    assert_eq!(app.view, View::Overview);
    press(&mut app, "3");
    assert_eq!(app.view, View::Actors);
    app.on_key(&KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    assert_eq!(app.view, View::Events);
    app.on_key(&KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    app.on_key(&KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    assert_eq!(app.view, View::Overview);
    app.on_key(&KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    assert_eq!(app.view, View::Playbook);
}

#[test]
fn quit_keys() {
    let mut app = app_with(fixture(), false);
    assert_eq!(press(&mut app, "q"), vec![Effect::Quit]);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.on_key(&ctrl_c), Some(Effect::Quit));
    // Ctrl-C quits even while typing a filter; plain q is text there.
    press(&mut app, "4/");
    assert!(press(&mut app, "q").is_empty());
    assert_eq!(app.on_key(&ctrl_c), Some(Effect::Quit));
}

#[test]
fn help_overlay_is_modal_and_lists_every_binding() {
    let mut app = app_with(fixture(), false);
    press(&mut app, "?");
    assert!(app.help);
    press(&mut app, "3");
    assert_eq!(app.view, View::Overview, "keys other than close/quit are swallowed");
    app.on_key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(!app.help);
    let text: String = leakline::tui::panes::help::lines(&app)
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect::<String>() + "\n")
        .collect();
    for b in KEYMAP {
        assert!(text.contains(b.label) && text.contains(b.help), "{} missing", b.label);
    }
}

#[test]
fn events_filter_pause_and_detail() {
    let mut app = app_with(fixture(), false);
    feed_sample(&mut app);
    assert_eq!(app.feed.len(), 4, "internal requests stay out of the feed");
    press(&mut app, "4/2xx");
    assert_eq!(app.feed.visible_len(), 2);
    press(&mut app, " completions");
    assert_eq!(app.feed.visible_len(), 1);
    app.on_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(app.prompt.is_none());
    assert_eq!(app.feed.filter().text(), "2xx completions");
    // Esc clears the filter.
    app.on_key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(app.feed.filter().is_empty());
    assert_eq!(app.feed.visible_len(), 4);
    // Pause freezes the view: new rows do not move the bottom.
    press(&mut app, "p");
    let frozen = app.events.paused_at;
    assert!(frozen.is_some());
    app.on_live(LiveItem::Event {
        event: request("203.0.113.9", 200, "/new", "x"),
        external: true,
    });
    assert_eq!(app.events.paused_at, frozen);
    let screen = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(!screen.contains("/new") && screen.contains("PAUSED"), "{screen}");
    press(&mut app, "p");
    let screen = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(screen.contains("/new") && screen.contains("following"), "{screen}");
    // Moving up selects and pauses; Enter opens the detail; Esc closes it.
    press(&mut app, "k");
    assert!(app.events.paused_at.is_some());
    app.on_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(app.events.detail);
    let screen = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(screen.contains("evidence") && screen.contains("/v1/completions"), "{screen}");
    app.on_key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(!app.events.detail);
    press(&mut app, "G");
    assert!(app.events.paused_at.is_none());
}

#[test]
fn feed_stays_bounded_under_a_flood() {
    let mut app = app_with(fixture(), false);
    let ev = request("198.51.100.201", 200, "/v1/models", "x");
    for _ in 0..25_000 {
        app.on_live(LiveItem::Event { event: Arc::clone(&ev), external: true });
    }
    assert_eq!(app.feed.len(), leakline::tui::feed::DEFAULT_CAPACITY);
}

#[test]
fn actors_sort_filter_and_detail() {
    let mut app = app_with(fixture(), false);
    press(&mut app, "3");
    assert_eq!(app.actors.sort, ActorSort::Bytes);
    assert_eq!(app.actors.order, vec![0, 1, 2, 3, 4, 5]);
    press(&mut app, "o");
    assert_eq!(app.actors.sort, ActorSort::Requests);
    press(&mut app, "oo");
    assert_eq!(app.actors.sort, ActorSort::Class);
    let classes: Vec<ActorClass> =
        app.actors.order.iter().map(|&i| app.snapshot.actors[i].class).collect();
    let mut sorted = classes.clone();
    sorted.sort();
    assert_eq!(classes, sorted);
    press(&mut app, "f");
    assert_eq!(app.actors.class_filter, Some(ActorClass::Scanner));
    assert_eq!(app.actors.order.len(), 2);
    press(&mut app, "ffff");
    assert_eq!(app.actors.class_filter, None);
    press(&mut app, "v");
    assert_eq!(app.actors.service_filter.as_deref(), Some("model-gateway"));
    assert_eq!(app.actors.order.len(), 6);
    press(&mut app, "v");
    assert_eq!(app.actors.service_filter.as_deref(), Some("admin-ui"));
    assert!(app.actors.order.is_empty());
    press(&mut app, "v");
    assert_eq!(app.actors.service_filter, None);
    press(&mut app, "jjjjjjjjjj");
    assert_eq!(app.actors.selected, 5, "selection clamps at the last row");
    app.on_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(app.actors.detail);
    app.on_key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(!app.actors.detail);
}

#[test]
fn timeline_zoom_and_pan_are_bounded() {
    let mut app = app_with(fixture(), false);
    press(&mut app, "2");
    press(&mut app, "-");
    assert_eq!(app.timeline.zoom, 0);
    press(&mut app, "h");
    assert_eq!(app.timeline.pan_secs, 0, "no pan at full view");
    press(&mut app, &"+".repeat(40));
    assert_eq!(app.timeline.zoom, leakline::tui::app::MAX_ZOOM);
    press(&mut app, &"h".repeat(100_000 / 100));
    let span = leakline::tui::panes::timeline::full_span_secs(&app.snapshot, app.now);
    assert!(app.timeline.pan_secs > 0 && app.timeline.pan_secs <= span);
    press(&mut app, "0");
    assert_eq!(app.timeline.zoom, 0);
    assert_eq!(app.timeline.pan_secs, 0);
}

#[test]
fn playbook_keys_emit_requests_and_skip_needs_a_reason() {
    let mut app = app_with(fixture(), false);
    press(&mut app, "5");
    assert_eq!(press(&mut app, "s"), vec![Effect::Playbook(PlaybookRequest::Start(0))]);
    assert_eq!(press(&mut app, "d"), vec![Effect::Playbook(PlaybookRequest::Done(0))]);
    press(&mut app, "x");
    assert!(app.prompt.is_some());
    assert_eq!(app.on_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)), None);
    assert!(app.message.as_deref().is_some_and(|m| m.contains("reason")));
    press(&mut app, "x");
    press(&mut app, "not our host");
    let effect = app.on_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(
        effect,
        Some(Effect::Playbook(PlaybookRequest::Skip {
            step: 0,
            reason: "not our host".to_owned()
        }))
    );
}

#[test]
fn snapshots_and_ticks_mark_dirty_and_drive_the_clock() {
    let mut app = app_with(fixture(), false);
    app.dirty = false;
    app.on_tick(app.now);
    assert!(!app.dirty, "same time: nothing to redraw");
    app.on_tick(app.now + TimeDelta::seconds(1));
    assert!(app.dirty);
    app.dirty = false;
    let mut next = fixture();
    next.actors.truncate(2);
    app.on_snapshot(Arc::new(next));
    assert!(app.dirty);
    assert_eq!(app.actors.order.len(), 2);
    let banner = text_of(draw(&app, 80, 24).backend().buffer());
    assert!(banner.contains("first evidence 1h 38m ago"), "{banner}");
}

#[test]
fn story_caption_follows_snapshot_time() {
    let mut app = app_with(fixture(), false);
    app.story = vec![
        (t("2026-11-03T11:42:00Z"), "A scanner finds the gateway".to_owned()),
        (t("2026-11-03T13:00:00Z"), "Re-exposed after a config rollback".to_owned()),
        (t("2026-11-03T14:00:00Z"), "future".to_owned()),
    ];
    assert_eq!(app.caption(), Some("Re-exposed after a config rollback"));
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(text.contains("Re-exposed after a config rollback"));
}

// ---------------------------------------------------------------------------------------------
// The bundled demo case and its replayer.

mod replay {
    use super::t;
    use leakline::tui::replay::{DemoCase, ReplayItem, Replayer, story_time};
    use std::time::Duration;

    #[test]
    fn bundled_case_is_ordered_and_complete() {
        let case = DemoCase::bundled().expect("bundled case");
        assert!(case.items.windows(2).all(|w| w[0].time() <= w[1].time()));
        assert!(case.items.iter().all(|i| i.time() >= case.start && i.time() <= case.end));
        let scans: Vec<_> = case
            .items
            .iter()
            .filter_map(|i| match i {
                ReplayItem::Scan { name, .. } => Some(*name),
                ReplayItem::Line { .. } => None,
            })
            .collect();
        assert_eq!(scans, ["nmap-0940.xml", "nmap-1102.xml", "nuclei-1104.jsonl", "nmap-1120.xml"]);
        let lines = case.items.len() - scans.len();
        let on_disk = ["assets/demo/logs/edge-a/access.log", "assets/demo/logs/edge-b/access.json"]
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("asset").lines().count())
            .sum::<usize>();
        assert_eq!(lines, on_disk);
        assert!(case.captions.windows(2).all(|w| w[0].0 <= w[1].0));
        // The default speed tells the whole story in under a minute.
        let speed = case.speed_for(45.0);
        assert!((case.end - case.start).num_seconds() as f64 / speed < 60.0);
    }

    #[test]
    fn replayer_writes_what_is_due_and_scans_appear_whole() {
        let case = DemoCase::bundled().expect("bundled case");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut r = Replayer::new(dir.path(), case).expect("replayer");
        let log = dir.path().join("logs/edge-a/access.log");
        assert_eq!(std::fs::read_to_string(&log).expect("log").len(), 0, "logs exist, empty");
        r.advance(t("2026-03-14T10:17:42Z")).expect("advance");
        let combined = std::fs::read_to_string(&log).expect("log");
        let json =
            std::fs::read_to_string(dir.path().join("logs/edge-b/access.json")).expect("log");
        // The first scanner hit (10:17:42) is written; nothing later is.
        assert!(combined.contains("14/Mar/2026:10:17:42") || json.contains("2026-03-14T10:17:42"));
        assert!(
            combined
                .lines()
                .all(|l| l.contains("14/Mar/2026:09:") || l.contains("14/Mar/2026:10:"))
        );
        assert!(
            !combined.contains("10:17:43")
                && !combined.contains("10:18:")
                && !json.contains("T10:18:")
        );
        let scans = dir.path().join("scans");
        assert!(scans.join("nmap-0940.xml").exists());
        assert!(!scans.join("nmap-1102.xml").exists());
        r.advance(t("2026-03-14T11:02:40Z")).expect("advance");
        let xml = std::fs::read_to_string(scans.join("nmap-1102.xml")).expect("scan");
        assert!(xml.trim_end().ends_with("</nmaprun>"));
        assert_eq!(std::fs::read_dir(dir.path().join("staging")).expect("staging").count(), 0);
        assert!(!r.finished());
        r.advance(t("2026-03-14T23:00:00Z")).expect("advance");
        assert!(r.finished());
        assert_eq!(r.advance(t("2026-03-15T00:00:00Z")).expect("advance"), 0);
    }

    #[test]
    fn replay_clock_scales_and_stops_at_the_end() {
        let (a, b) = (t("2026-03-14T09:00:00Z"), t("2026-03-14T12:05:00Z"));
        assert_eq!(story_time(a, b, 250.0, Duration::ZERO), a);
        assert_eq!(story_time(a, b, 250.0, Duration::from_secs(4)), t("2026-03-14T09:16:40Z"));
        assert_eq!(story_time(a, b, 250.0, Duration::from_secs(3600)), b);
        assert_eq!(story_time(a, b, f64::MAX, Duration::from_secs(3600)), b);
    }

    #[test]
    fn ground_truth_is_valid_json_with_two_windows() {
        let v: serde_json::Value =
            serde_json::from_str(leakline::tui::replay::EXPECTED).expect("expected.json");
        let windows = v["llm-gateway"].as_array().expect("windows");
        assert_eq!(windows.len(), 2);
        assert_eq!(windows[0]["status"], "closed");
        assert_eq!(windows[1]["status"], "open");
    }
}

// ---------------------------------------------------------------------------------------------
// The event loop, driven with a TestBackend, a hand-fed session and scripted input.

mod event_loop {
    use super::{fixture, key, request, text_of};
    use crossterm::event::Event as TermEvent;
    use futures::channel::mpsc;
    use leakline::follow::{LiveItem, Session};
    use leakline::tui::keymap::View;
    use leakline::tui::{Mode, TuiOptions, event_loop};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::sync::{broadcast, watch};

    #[tokio::test(flavor = "current_thread")]
    async fn snapshots_items_and_keys_flow_through_the_loop() {
        // The loop starts from the session's current snapshot.
        let (_snap_tx, snap_rx) = watch::channel(Arc::new(fixture()));
        let (items_tx, _) = broadcast::channel(64);
        let session = Session { snapshots: snap_rx, items: items_tx.clone() };
        let fixed = fixture().as_of;
        let options = TuiOptions {
            title: "loop test".to_owned(),
            no_color: false,
            mode: Mode::Live,
            clock: Arc::new(move || fixed),
            story: Vec::new(),
        };
        let (keys_tx, keys_rx) = mpsc::unbounded::<std::io::Result<TermEvent>>();
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("backend");
        let mut clipboard = Vec::new();
        let driver = event_loop::drive(&mut terminal, keys_rx, &session, &options, &mut clipboard);
        let script = async {
            // Each step waits on observable state: the loop subscribed, then consumed the item.
            while items_tx.receiver_count() == 0 {
                tokio::task::yield_now().await;
            }
            items_tx
                .send(LiveItem::Event {
                    event: request("198.51.100.201", 200, "/v1/models", "python-requests/2.32.3"),
                    external: true,
                })
                .expect("item");
            while !items_tx.is_empty() {
                tokio::task::yield_now().await;
            }
            keys_tx.unbounded_send(Ok(TermEvent::Key(key('4')))).expect("key");
            keys_tx.unbounded_send(Ok(TermEvent::Key(key('q')))).expect("key");
        };
        let (app, ()) =
            tokio::time::timeout(Duration::from_secs(20), async { tokio::join!(driver, script) })
                .await
                .expect("the loop quits on q");
        let app = app.expect("loop result");
        assert_eq!(app.view, View::Events);
        assert_eq!(app.snapshot.as_of, fixed);
        assert_eq!(app.feed.len(), 1);
        let screen = text_of(terminal.backend().buffer());
        assert!(screen.contains("EXPOSED") && screen.contains("/v1/models"), "{screen}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn loop_ends_when_input_ends() {
        let (_snap_tx, snap_rx) = watch::channel(Arc::new(fixture()));
        let (items_tx, _) = broadcast::channel(4);
        let session = Session { snapshots: snap_rx, items: items_tx };
        let options = TuiOptions::live("t");
        let (keys_tx, keys_rx) = mpsc::unbounded::<std::io::Result<TermEvent>>();
        drop(keys_tx);
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("backend");
        let mut clipboard = Vec::new();
        let app = tokio::time::timeout(
            Duration::from_secs(20),
            event_loop::drive(&mut terminal, keys_rx, &session, &options, &mut clipboard),
        )
        .await
        .expect("ends")
        .expect("ok");
        assert_eq!(app.view, View::Overview);
    }
}
