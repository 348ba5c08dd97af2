//! One unit system everywhere (`leakline::text`): the same 21 800 321 bytes and the same
//! 1 h 40 min read the same on the dashboard, in the `analyze` text summary and in the Markdown
//! and HTML reports; detail views add the exact byte count.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use leakline::tui::Theme;
use leakline::tui::app::{App, Mode};
use leakline::tui::keymap::{Action, View};

#[path = "tui/screen.rs"]
mod screen;

const CONFIG: &str = "tests/fixtures/units/leakline.toml";
const BYTES: &str = "20.8 MiB";
const EXACT: &str = "20.8 MiB (21,800,321 bytes)";
const DURATION: &str = "1h 40m";

fn stdout_of(args: &[&str]) -> String {
    let out = assert_cmd::Command::cargo_bin("leakline").unwrap().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn text_summary_and_reports_write_the_same_units() {
    let text = stdout_of(&["analyze", "--config", CONFIG]);
    assert!(text.contains(&format!("{BYTES}  internal")), "service bytes:\n{text}");
    assert!(text.contains(&format!("at least {DURATION}")), "window duration:\n{text}");
    for format in ["md", "html"] {
        let report = stdout_of(&["analyze", "--format", format, "--config", CONFIG]);
        assert!(report.contains(BYTES), "{format}:\n{report}");
        assert!(report.contains("21,800,321 bytes"), "{format}: the exact count beside it");
        assert!(report.contains(DURATION), "{format}:\n{report}");
        for other in ["21.8 MB", " MB", " kB", " KB"] {
            assert!(!report.contains(other), "{format}: {other:?} is another unit system");
        }
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn screen_text(app: &App) -> String {
    screen::text_of(screen::draw(app, 120, 40).backend().buffer())
}

#[test]
fn dashboard_writes_the_same_units_and_exact_bytes_in_details() {
    let config = leakline::config::load(Path::new(CONFIG)).unwrap();
    let options = leakline::batch::BatchOptions { workers: 1, ..Default::default() };
    let correlator = leakline::batch::run(&config, &options).unwrap();
    let as_of = at("2026-11-03T12:40:00Z");
    let snapshot = correlator.snapshot(as_of);
    let mut app = App::new(config.name.clone(), Mode::Live, Theme::new(true), Arc::new(snapshot));
    app.now = as_of;
    let overview = screen_text(&app);
    assert!(overview.contains(&format!("{BYTES} sent")), "{overview}");
    assert!(overview.contains(&format!("≥{DURATION}")), "{overview}");
    app.update(Action::ShowView(View::Actors));
    app.update(Action::Open);
    let detail = screen_text(&app);
    assert!(detail.contains(&format!("sent  {EXACT}")), "{detail}");
}
