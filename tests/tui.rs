//! TUI tests without a terminal: pane snapshots (ratatui `TestBackend` + insta) at 120×40,
//! 80×24 and 40×10 from a fixed `Snapshot` with a fixed `as_of`; style assertions on key cells;
//! hostile-text rendering; key → action → state transitions.

#[path = "tui/fixture.rs"]
mod fixture;
#[path = "tui/screen.rs"]
mod screen;

#[path = "tui/actor_groups.rs"]
mod actor_groups;
#[path = "tui/casework.rs"]
mod casework;
#[path = "tui/enrich.rs"]
mod enrich;
#[path = "tui/event_loop.rs"]
mod event_loop;
#[path = "tui/replay.rs"]
mod replay;
#[path = "tui/scan_states.rs"]
mod scan_states;
#[path = "tui/transitions.rs"]
mod transitions;
#[path = "tui/watch_cli.rs"]
mod watch_cli;

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use leakline::follow::LiveItem;
use leakline::model::Snapshot;
use leakline::model::snapshot::{ActorClass, PathCount, ServiceState, UnreadSource};
use leakline::tui::app::{App, Mode};
use leakline::tui::keymap::{Action, View};
use leakline::tui::{Theme, view};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};

use fixture::{app_with, draw, feed_sample, fixture, hit, request, text_of};

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

/// One configured glob matched no file: the quiet picture is not green, it says how many
/// sources are unread, and the Sources list (on the Overview, key 1) says why, first.
#[test]
fn incomplete_evidence_is_amber_with_the_reason_in_sources() {
    let mut snap = fixture();
    for s in &mut snap.services {
        s.windows.clear();
        s.state = ServiceState::NeverExposed;
        s.first_external = None;
        s.first_non_scanner_success = None;
    }
    snap.actors.clear();
    let missing = UnreadSource {
        path: "/var/log/edge-c/*.json".to_owned(),
        reason: leakline::correlate::coverage::NO_MATCH.to_owned(),
    };
    snap.coverage.sources_unread.push(missing.clone());
    snap.services[0].coverage.sources_unread.push(missing);
    let app = app_with(snap, false);
    let terminal = draw(&app, 80, 24);
    let buf = terminal.backend().buffer().clone();
    let text = text_of(&buf);
    assert!(text.starts_with(" EVIDENCE INCOMPLETE: 1 of 4 sources unread "), "{text}");
    assert!(!text.contains("NO EXPOSURE SEEN"), "{text}");
    assert_eq!(buf[(1, 0)].bg, Color::Yellow);
    assert!(text.contains("UNREAD: no file matches this pattern"), "{text}");
    insta::assert_snapshot!("overview_incomplete_80x24", terminal.backend());
}

/// Nothing readable at all, through the real engine: an unrecognised log and a glob that
/// matches nothing give `NO EVIDENCE` in amber, each service `NO EVIDENCE`, both reasons
/// listed in Sources.
#[test]
fn no_evidence_is_never_green() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("odd.log"), "hello\nworld\n").unwrap();
    let toml = r#"
name = "nothing readable"
[[service]]
name = "api"
addresses = ["192.0.2.1:443"]
access = ["odd.log", "logs/missing-*.log"]
"#;
    std::fs::write(dir.path().join("leakline.toml"), toml).unwrap();
    let cfg = leakline::config::load(&dir.path().join("leakline.toml")).unwrap();
    let snap = leakline::batch::snapshot_of(&cfg, None).unwrap();
    let mut app = App::new(snap.case_name.clone(), Mode::Replay, Theme::new(false), Arc::new(snap));
    app.update(Action::ShowView(View::Overview));
    let terminal = draw(&app, 80, 24);
    let buf = terminal.backend().buffer().clone();
    let text = text_of(&buf);
    assert!(text.starts_with(" NO EVIDENCE "), "{text}");
    assert_eq!(buf[(1, 0)].bg, Color::Yellow);
    assert!(text.contains("UNREAD: access log format not recognised"), "{text}");
    assert!(text.contains("logs/missing-*.log  UNREAD: no file matches"), "{text}");
    insta::assert_snapshot!("overview_no_evidence_80x24", terminal.backend());
}

/// A source whose times were read in an assumed zone, and a second copy of a scan run, are
/// said in the banner and in the Sources pane (amber), never silently.
#[test]
fn zone_assumed_and_duplicate_scan_sources_are_shown() {
    let mut snap = fixture();
    snap.timezone = "America/Los_Angeles".to_owned();
    let scan = snap.sources.iter().position(|s| s.format == "nmap-xml").expect("a scan source");
    snap.sources[scan].zone_assumed = true;
    let app = app_with(snap.clone(), false);
    let buf = draw(&app, 120, 40).backend().buffer().clone();
    let text = text_of(&buf);
    let banner = text.lines().next().unwrap_or_default();
    assert!(banner.contains("⚠ zone assumed: 1 source(s)"), "{text}");
    let (x, y) = find(&buf, "zone assumed: America/Los_Angeles").expect("source note");
    assert_eq!(buf[(x, y)].fg, Color::Yellow, "amber, as every source in trouble");

    snap.sources[scan].zone_assumed = false;
    snap.sources[scan].duplicate_of = Some("scans/nmap.xml".to_owned());
    snap.sources[scan].duplicate_by = Some(leakline::model::snapshot::DuplicateBy::Run);
    let app = app_with(snap.clone(), false);
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(text.contains("same run as nmap.xml: not counted"), "{text}");
    assert!(!text.contains("zone assumed"), "{text}");

    // A copy by content claims no run.
    snap.sources[scan].duplicate_by = Some(leakline::model::snapshot::DuplicateBy::Content);
    let app = app_with(snap, false);
    let text = text_of(draw(&app, 160, 40).backend().buffer());
    assert!(text.contains("identical content (SHA-256) to nmap.xml"), "{text}");
    assert!(!text.contains("same run as"), "{text}");
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
    snap.actors[0].top_paths =
        vec![PathCount { path: long_path, requests: 1, successes: None, bytes: None }];
    snap.actors[0].scanner = Some("\u{1b}]0;pwned\u{7}".to_owned());
    snap.actors[0].class = ActorClass::Scanner;
    snap
}

fn assert_no_raw_controls(buf: &Buffer) {
    for cell in buf.content() {
        for c in cell.symbol().chars() {
            assert!(!leakline::text::is_unsafe(c), "raw {c:?} reached the buffer");
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
        assert!(text.contains("NO EVIDENCE"), "{text}");
        assert!(!text.contains("NO EXPOSURE SEEN"), "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// The demo case's final state, through the real parsers and correlator (batch).

fn demo_app(as_of: &str) -> App {
    let cfg = leakline::config::load(std::path::Path::new("assets/demo/leakline.toml"))
        .expect("demo config");
    let options = leakline::batch::BatchOptions { workers: 1, ..Default::default() };
    let correlator = leakline::batch::run(&cfg, &options).expect("batch run");
    let snapshot = correlator.snapshot(fixture::t(as_of));
    let case = leakline::tui::replay::DemoCase::bundled().expect("demo case");
    let mut app = App::new(cfg.name.clone(), Mode::Replay, Theme::new(false), Arc::new(snapshot));
    app.story = case.captions;
    let library = leakline::playbook::Library::builtin().expect("built-in playbooks");
    let playbook = library.get("exposed-api-endpoint").expect("playbook").playbook.clone();
    app.playbook_doc = Some(Arc::new(playbook));
    app
}

#[test]
fn demo_case_end_state_screens() {
    let mut app = demo_app("2026-03-14T12:05:00Z");
    let screen = text_of(draw(&app, 80, 24).backend().buffer());
    assert!(screen.starts_with(" EXPOSED "), "{screen}");
    assert!(screen.contains(" OPEN  llm-gateway") && screen.contains("198.51.100.23"), "{screen}");
    // At 80x24 the services do not all fit: the hidden one is named, never dropped silently,
    // and scrolling down reaches it.
    assert!(!screen.contains("NOT EXPOSED  vector-db"), "{screen}");
    assert!(screen.contains("more service(s): vector-db · ↓/j scrolls"), "{screen}");
    for _ in 0..20 {
        app.on_key(&KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
    }
    let scrolled = text_of(draw(&app, 80, 24).backend().buffer());
    assert!(scrolled.contains("NOT EXPOSED  vector-db"), "{scrolled}");
    assert!(scrolled.contains("more line(s) above"), "{scrolled}");
    assert!(!scrolled.contains("more line(s) below"), "{scrolled}");
    for _ in 0..20 {
        app.on_key(&KeyEvent::new(KeyCode::Up, KeyModifiers::NONE));
    }
    for (w, h) in [(120, 40), (80, 24)] {
        for v in [View::Overview, View::Timeline, View::Actors, View::Playbook] {
            app.update(Action::ShowView(v));
            let name = format!("demo_end_{}_{w}x{h}", v.title().to_lowercase());
            insta::assert_snapshot!(name, draw(&app, w, h).backend());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Issue 18: events filter language, next step without a case, lag units, key hints.

#[test]
fn events_filter_language_in_the_title_and_rows() {
    for (w, h) in [(120, 40), (80, 24), (40, 10)] {
        let mut app = app_with(fixture(), false);
        feed_sample(&mut app);
        app.update(Action::ShowView(View::Events));
        app.update(Action::StartFilter);
        for c in "service:model -class:scanner /^\\/v1/".chars() {
            app.on_key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        app.on_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        let terminal = draw(&app, w, h);
        insta::assert_snapshot!(format!("events_filtered_{w}x{h}"), terminal.backend());
        if w >= 80 {
            let text = text_of(terminal.backend().buffer());
            assert!(text.contains("filter: service:model -class:scanner /^\\/v1/"), "{text}");
            assert!(text.contains("/v1/models") && text.contains("/v1/completions"), "{text}");
            assert!(text.contains("model-gat"), "the service column:\n{text}");
            assert!(!text.contains("/.git/config"), "the scanner's row is filtered out:\n{text}");
            assert!(!text.contains("SCAN nmap"), "scans have no path:\n{text}");
            assert!(text.contains("service"), "the header row:\n{text}");
        }
    }
}

#[test]
fn an_invalid_regex_is_said_in_the_filter_line_and_keeps_the_prompt() {
    let mut app = app_with(fixture(), false);
    feed_sample(&mut app);
    app.update(Action::ShowView(View::Events));
    app.update(Action::StartFilter);
    for c in "models /([/".chars() {
        app.on_key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.on_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(app.prompt.is_some(), "Enter on a bad filter keeps the prompt open");
    let terminal = draw(&app, 80, 24);
    insta::assert_snapshot!("events_bad_regex_80x24", terminal.backend());
    let text = text_of(terminal.backend().buffer());
    assert!(text.contains("invalid regex /([/"), "{text}");
    // The input-scope hints are on the bottom line.
    assert!(text.lines().last().is_some_and(|l| l.starts_with("Enter apply / confirm")), "{text}");
}

#[test]
fn event_detail_names_the_file_and_line() {
    let mut app = app_with(fixture(), false);
    feed_sample(&mut app);
    app.update(Action::ShowView(View::Events));
    app.update(Action::Open);
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(text.contains("evidence      /var/log/edge-a/access.log:7"), "{text}");
    assert!(!text.contains("source #"), "{text}");
    assert!(text.contains("service       model-gateway"), "{text}");
}

#[test]
fn overview_and_playbook_give_the_case_init_command_with_the_config() {
    let mut snap = fixture();
    // A months-old source: the lag reads in days, with its unit.
    snap.sources[0].lag_secs = Some(233_935.0 * 100.0);
    for (w, h) in [(120, 40), (80, 24), (40, 10)] {
        let mut app = app_with(snap.clone(), false);
        app.config_path = Some("/etc/leakline/gateway.toml".into());
        let terminal = draw(&app, w, h);
        insta::assert_snapshot!(format!("overview_next_config_{w}x{h}"), terminal.backend());
        if w >= 80 {
            let text = text_of(terminal.backend().buffer());
            assert!(
                text.contains(
                    "next: leakline case init DIR --config /etc/leakline/gateway.toml --playbook"
                ) || text.contains("open a case: leakline case init DIR --config /etc/leakline/gateway.toml --playbook exposed-api-endpoint"),
                "{text}"
            );
            assert!(text.contains("270d"), "{text}");
        }
    }
    let mut app = app_with(fixture(), false);
    app.config_path = Some("/etc/leakline/gateway.toml".into());
    app.update(Action::ShowView(View::Playbook));
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(
        text.contains(
            "leakline case init DIR --config /etc/leakline/gateway.toml --playbook exposed-api-endpoint"
        ),
        "{text}"
    );
    assert!(!text.contains("leakline case …"), "{text}");
    // Without a config file the command says FILE and why.
    app.config_path = None;
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(text.contains("--config FILE") && text.contains("not started from one"), "{text}");
}

#[test]
fn sort_column_is_marked_and_moves_with_the_sort() {
    let mut app = app_with(fixture(), false);
    app.update(Action::ShowView(View::Actors));
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(text.contains("bytes sent▼") && text.contains("sort bytes▼"), "{text}");
    app.update(Action::CycleSort);
    let terminal = draw(&app, 80, 24);
    insta::assert_snapshot!("actors_sorted_requests_80x24", terminal.backend());
    let text = text_of(terminal.backend().buffer());
    assert!(text.contains("requests▼") && !text.contains("bytes sent▼"), "{text}");
    app.update(Action::CycleSort);
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(text.contains("first seen▲"), "{text}");
}

#[test]
fn key_hint_bar_follows_the_view_at_all_sizes() {
    for (w, h) in [(120, 40), (80, 24), (40, 10)] {
        let mut app = app_with(fixture(), false);
        app.update(Action::ShowView(View::Playbook));
        let terminal = draw(&app, w, h);
        insta::assert_snapshot!(format!("hints_playbook_{w}x{h}"), terminal.backend());
        if w >= 80 {
            let text = text_of(terminal.backend().buffer());
            let last = text.lines().last().unwrap_or_default().to_owned();
            assert!(last.starts_with("s start step  d mark step done"), "{last}");
            assert!(last.contains("? this help"), "{last}");
        }
    }
}

/// The fixture's first window with two `sensitive` rules: one requested (`/v1/models`, with
/// its first success) and one not (`/internal/**`); the top paths carry their successes and
/// bytes.
fn with_sensitive() -> Snapshot {
    use leakline::model::snapshot::SensitiveCount;
    let mut snap = fixture();
    let w = &mut snap.services[0].windows[0];
    w.top_paths = vec![
        PathCount {
            path: "/v1/chat/completions".to_owned(),
            requests: 41,
            successes: Some(33),
            bytes: Some(20_500_000),
        },
        PathCount {
            path: "/v1/models".to_owned(),
            requests: 30,
            successes: Some(28),
            bytes: Some(61_440),
        },
        PathCount { path: "/.env".to_owned(), requests: 9, successes: Some(0), bytes: Some(1_377) },
        PathCount { path: "/".to_owned(), requests: 6, successes: Some(0), bytes: Some(918) },
    ];
    w.sensitive = vec![
        SensitiveCount {
            label: "model list".to_owned(),
            path: "/v1/models".to_owned(),
            requests: 30,
            successes: 28,
            bytes: 61_440,
            first_success: Some(hit(
                "2026-11-03T11:42:41Z",
                "162.142.125.221",
                "GET",
                "/v1/models",
                200,
                "Mozilla/5.0 (compatible; CensysInspect/1.1)",
            )),
        },
        SensitiveCount {
            label: "internal API".to_owned(),
            path: "/internal/**".to_owned(),
            requests: 0,
            successes: 0,
            bytes: 0,
            first_success: None,
        },
    ];
    snap
}

#[test]
fn overview_shows_what_was_served_with_sensitive_paths() {
    let mut app = app_with(with_sensitive(), false);
    app.update(Action::ShowView(View::Overview));
    let wide = draw(&app, 120, 40);
    let text = text_of(wide.backend().buffer());
    assert!(
        text.contains("/v1/chat/completions                    41      33   19.6 MiB"),
        "{text}"
    );
    assert!(text.contains("⚠ model list /v1/models  30 req 28 ok 60.0 KiB  first ok 11:42:41 162.142.125.221 GET /v1/models 200"), "{text}");
    assert!(text.contains("⚠ internal API /internal/**  no requests"), "{text}");
    // The sensitive row is highlighted (red), the others are not.
    let buf = wide.backend().buffer();
    let row = |needle: &str| {
        (0..buf.area.height).find(|&y| {
            let line: String =
                (0..buf.area.width).map(|x| buf[(x, y)].symbol().to_string()).collect();
            line.contains(needle)
        })
    };
    let models = row("/v1/models                              30").expect("models row");
    assert_eq!(buf[(6, models)].fg, Color::Red);
    let chat = row("/v1/chat/completions                    41").expect("chat row");
    assert_ne!(buf[(6, chat)].fg, Color::Red);
    insta::assert_snapshot!("overview_sensitive_120x40", wide.backend());

    let narrow = draw(&app, 80, 24);
    let text = text_of(narrow.backend().buffer());
    assert!(text.contains("served /v1/chat/completions 41 · /v1/models 30 · /.env 9 +1"), "{text}");
    assert!(
        text.contains("⚠ model list  30 req 28 ok 60.0 KiB  first ok 11:42:41 162.142.125.221"),
        "{text}"
    );
    // Compact: an unrequested rule takes no line.
    assert!(!text.contains("internal API"), "{text}");
    insta::assert_snapshot!("overview_sensitive_80x24", narrow.backend());
}

#[test]
fn actor_detail_highlights_sensitive_paths() {
    let mut app = app_with(with_sensitive(), false);
    feed_sample(&mut app);
    app.update(Action::ShowView(View::Actors));
    app.update(Action::Open);
    let terminal = draw(&app, 120, 40);
    let text = text_of(terminal.backend().buffer());
    assert!(text.contains("/v1/models  ⚠ model list"), "{text}");
    assert!(!text.contains("/v1/completions  ⚠"), "{text}");
    insta::assert_snapshot!("actor_detail_sensitive_120x40", terminal.backend());
}

// ---------------------------------------------------------------------------------------------
// An old incident reviewed months later: every time carries its date, the Timeline fits the
// evidence (not the months between it and now).

/// The fixture's incident (2026-11-03) on a clock four months later.
fn old_incident_app() -> App {
    let mut app = app_with(fixture(), false);
    app.on_tick(fixture::t("2027-03-10T09:00:00Z"));
    app
}

#[test]
fn old_incident_screens_at_all_sizes() {
    for (w, h) in [(120, 40), (80, 24), (40, 10)] {
        for v in [View::Overview, View::Timeline] {
            let mut app = old_incident_app();
            app.update(Action::ShowView(v));
            let name = format!("old_incident_{}_{w}x{h}", v.title().to_lowercase());
            insta::assert_snapshot!(name, draw(&app, w, h).backend());
        }
    }
}

#[test]
fn old_incident_overview_shows_dates_and_the_window_legend() {
    let app = old_incident_app();
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    let banner = text.lines().next().unwrap_or_default();
    assert!(
        banner.contains("first evidence 2026-11-03T11:42:10+00:00 UTC (126d 21h ago)"),
        "{banner}"
    );
    assert!(banner.contains("last 11-03 13:20:11"), "{banner}");
    let narrow = text_of(draw(&app, 80, 24).backend().buffer());
    let banner = narrow.lines().next().unwrap_or_default();
    assert!(banner.contains("first 11-03 11:42:10 (126d 21h ago)"), "{banner}");
    assert!(
        text.contains(
            "#1 11-03 11:00:09~11:42:10 → 11-03 12:29:30~12:40:09 closed ≥47m 20s ≤1h 40m"
        ),
        "{text}"
    );
    assert!(text.contains("#2 11-03 12:40:09~12:55:01 → OPEN last 11-03 13:20:11"), "{text}");
    assert!(text.contains("opened between A~B → closed between C~D"), "{text}");
    assert!(text.contains("11-03 11:42:10  11-03 13:20:11"), "actor first/last dated: {text}");
    // The same incident on its own day: no dates, the clock alone.
    let today = text_of(draw(&app_with(fixture(), false), 120, 40).backend().buffer());
    assert!(today.contains("#1 11:00:09~11:42:10 → 12:29:30~12:40:09 closed"), "{today}");
}

#[test]
fn window_state_is_in_words_without_colour() {
    let app = app_with(fixture(), true);
    let text = text_of(draw(&app, 80, 24).backend().buffer());
    assert!(text.contains("~12:40:09 closed"), "{text}");
    assert!(text.contains("→ OPEN last"), "{text}");
}

#[test]
fn old_incident_timeline_is_fitted_and_keys_refit_it() {
    use leakline::tui::panes::timeline::{evidence_range, visible_range};
    let mut app = old_incident_app();
    press_view(&mut app, View::Timeline);
    let gantt_cells = |app: &App| {
        let text = text_of(draw(app, 120, 40).backend().buffer());
        let row = text.lines().find(|l| l.starts_with("model-gateway")).unwrap_or("").to_owned();
        (text, row.chars().filter(|c| matches!(c, '█' | '░')).count())
    };
    let (text, fitted) = gantt_cells(&app);
    assert!(text.contains("fitted to evidence"), "{text}");
    assert!(fitted > 50, "the incident fills the width when fitted: {fitted}\n{text}");
    // Exactly the evidence range at zoom 0: nothing rounded off the first bucket.
    let fit = evidence_range(&app.snapshot).expect("evidence");
    assert_eq!(visible_range(&app), fit);
    assert!(fit.0 <= app.snapshot.rate.start.expect("rate series"));
    // The selected window's bounds, written out.
    assert!(
        text.contains("opened between 11-03 11:00:09 and 11:42:10 → closed between 11-03 12:29:30 and 12:40:09"),
        "{text}"
    );
    fixture::press(&mut app, "j");
    let (text, _) = gantt_cells(&app);
    assert!(text.contains("#2 opened between") && text.contains("still OPEN"), "{text}");

    fixture::press(&mut app, "0");
    let (text, whole) = gantt_cells(&app);
    assert!(text.contains("whole incident"), "{text}");
    assert!(whole < 5, "four months squeeze the incident to a column or two: {whole}");
    fixture::press(&mut app, "n");
    assert!(text_of(draw(&app, 120, 40).backend().buffer()).contains("following now"));
    fixture::press(&mut app, "f");
    assert_eq!(gantt_cells(&app).1, fitted);
}

fn press_view(app: &mut App, v: View) {
    app.update(Action::ShowView(v));
}

#[test]
fn old_incident_actors_and_events_carry_dates() {
    let mut app = old_incident_app();
    feed_sample(&mut app);
    app.update(Action::ShowView(View::Actors));
    let narrow = text_of(draw(&app, 80, 24).backend().buffer());
    assert!(narrow.contains("11-03 11:42 11-03 13:20"), "{narrow}");
    app.update(Action::ShowView(View::Events));
    let events = text_of(draw(&app, 120, 40).backend().buffer());
    let dated = events.lines().filter(|l| l.starts_with("11-03 ")).count();
    assert!(dated > 0, "{events}");
}

/// Events and Actors of an incident reviewed months later: every time carries its date and the
/// columns stay under their headers.
#[test]
fn old_incident_events_and_actors_keep_their_columns() {
    for (w, h) in [(120, 40), (80, 24), (40, 10)] {
        for v in [View::Events, View::Actors] {
            let mut app = old_incident_app();
            feed_sample(&mut app);
            app.update(Action::ShowView(v));
            let terminal = draw(&app, w, h);
            let name = format!("old_incident_{}_{w}x{h}", v.title().to_lowercase());
            insta::assert_snapshot!(name, terminal.backend());
            if w >= 80 && v == View::Events {
                let text = text_of(terminal.backend().buffer());
                let header = text.lines().find(|l| l.starts_with("time ")).unwrap_or_default();
                let row = text.lines().find(|l| l.contains("/v1/models")).unwrap_or_default();
                assert!(row.starts_with("11-03 13:20:11 "), "{row}");
                let col = |l: &str, n: &str| l.find(n).map(|b| l[..b].chars().count());
                assert_eq!(col(header, "client"), col(row, "198.51.100.201"), "{text}");
            }
        }
    }
}
