//! Attacker-controlled text in every class of the terminal rule (`leakline::text::is_unsafe`):
//! C0 and C1 controls, DEL, bidi controls, the line and paragraph separators, zero-width
//! characters and the BOM. Real log lines (`tests/fixtures/hostile_text`, one service per class)
//! go through the binary's `analyze` text summary, `inspect`, the Markdown and HTML reports and
//! the dashboard, and a third-party playbook's text through `playbook show` / `list`: none lets
//! one of those characters through, the terminal outputs show each as a visible escape, the
//! reports drop it.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use leakline::text::is_unsafe;
use leakline::tui::Theme;
use leakline::tui::app::{App, Mode};
use leakline::tui::keymap::{Action, View};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[path = "tui/screen.rs"]
mod screen;

const CONFIG: &str = "tests/fixtures/hostile_text/leakline.toml";

/// The visible escape of every character the fixture carries, as the terminal outputs write it.
const ESCAPES: [&str; 26] = [
    // C0 and DEL
    "\\x1b[2J",
    "\\x1b]52;c;",
    "\\x07",
    "\\x7f",
    // C1
    "\\u{9b}",
    "\\u{9d}",
    "\\u{9c}",
    "\\u{85}",
    // bidi
    "\\u{202a}",
    "\\u{202b}",
    "\\u{202c}",
    "\\u{202d}",
    "\\u{202e}",
    "\\u{200e}",
    "\\u{2066}",
    "\\u{2067}",
    "\\u{2068}",
    "\\u{2069}",
    "\\u{61c}",
    // separators
    "\\u{2028}",
    "\\u{2029}",
    // zero-width and the BOM
    "\\u{200b}",
    "\\u{200c}",
    "\\u{200d}",
    "\\u{2060}",
    "\\u{feff}",
];

fn leakline() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("leakline").unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = leakline().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// No unsafe character on any line (the outputs' own line breaks aside).
fn assert_no_unsafe(what: &str, text: &str) {
    if let Some(c) = text.lines().flat_map(str::chars).find(|&c| is_unsafe(c)) {
        panic!("{what}: raw {c:?} in the output:\n{text}");
    }
}

#[test]
fn analyze_text_escapes_every_class_visibly() {
    let text = stdout_of(&["analyze", "--config", CONFIG]);
    assert_no_unsafe("analyze text", &text);
    for escape in ESCAPES {
        assert!(text.contains(escape), "{escape} not shown:\n{text}");
    }
    // The scanner's malformed lines quote the field: escaped there too.
    assert!(text.contains("not a port: `8\\x1b[2J\\x07\\x7f0`"), "{text}");
}

#[test]
fn inspect_text_escapes_every_class_visibly() {
    let scan = stdout_of(&[
        "inspect",
        "--format",
        "masscan-list",
        "tests/fixtures/hostile_text/scan-masscan.txt",
    ]);
    assert_no_unsafe("inspect", &scan);
    for quoted in [
        "`8\\x1b[2J\\x07\\x7f0`",
        "`8\\u{9b}2J\\u{85}0`",
        "`8\\u{202e}\\u{2066}\\u{61c}\\u{200f}0`",
        "`8\\u{2028}\\u{2029}0`",
        "`8\\u{200b}\\u{2060}\\u{feff}0`",
    ] {
        assert!(scan.contains(quoted), "{quoted} not shown:\n{scan}");
    }
    let logs = stdout_of(&["inspect", "tests/fixtures/hostile_text/logs/bidi.log"]);
    assert_no_unsafe("inspect", &logs);
    assert!(logs.contains("1 malformed"), "{logs}");
}

#[test]
fn playbook_text_is_escaped_visibly() {
    let dir = "tests/fixtures/hostile_text/playbooks";
    let show = stdout_of(&["playbook", "--playbooks", dir, "show", "hostile-text"]);
    assert_no_unsafe("playbook show", &show);
    for escape in [
        "\\x1b]0;pwned\\x07",
        "\\u{202e}",
        "\\u{2028}",
        "\\u{2029}",
        "\\u{200b}",
        "\\u{feff}",
        "\\x1b[2J",
        "\\u{61c}",
        "\\u{9b}",
        "\\u{2066}",
        "\\u{200f}",
        "\\x7f",
        "\\u{2060}",
    ] {
        assert!(show.contains(escape), "{escape} not shown:\n{show}");
    }
    let list = stdout_of(&["playbook", "--playbooks", dir, "list"]);
    assert_no_unsafe("playbook list", &list);
    assert!(list.contains("Rotate keys\\x1b]0;pwned\\x07 now\\u{202e}gnp.exe"), "{list}");
}

#[test]
fn reports_drop_every_class() {
    for format in ["md", "html"] {
        let report = stdout_of(&["analyze", "--format", format, "--config", CONFIG]);
        assert_no_unsafe(format, &report);
        // What is left of each attacker string: the characters dropped, separators a space.
        for left in ["/a[2Jb", "/abcdefg", "line para end", "abcdef", "/ab"] {
            assert!(report.contains(left), "{format}: {left} missing:\n{report}");
        }
        assert!(!report.contains("\\u{"), "{format}: reports drop, they do not escape");
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn screen(app: &App) -> Terminal<TestBackend> {
    screen::draw(app, 120, 40)
}

fn text_of(terminal: &Terminal<TestBackend>) -> String {
    screen::text_of(terminal.backend().buffer())
}

#[test]
fn dashboard_escapes_every_class_visibly() {
    let config = leakline::config::load(Path::new(CONFIG)).unwrap();
    let options = leakline::batch::BatchOptions { workers: 1, ..Default::default() };
    let correlator = leakline::batch::run(&config, &options).unwrap();
    let as_of = at("2026-03-10T02:20:00Z");
    let snapshot = correlator.snapshot(as_of);
    let mut app = App::new(config.name.clone(), Mode::Live, Theme::new(true), Arc::new(snapshot));
    app.now = as_of;
    let mut seen = String::new();
    for v in View::ALL {
        app.update(Action::ShowView(v));
        let t = screen(&app);
        let text = text_of(&t);
        assert_no_unsafe(v.title(), &text);
        seen.push_str(&text);
    }
    app.update(Action::ShowView(View::Overview));
    insta::assert_snapshot!("hostile_text_overview_120x40", screen(&app).backend());
    // Each actor's detail shows its user agents.
    app.update(Action::ShowView(View::Actors));
    for _ in 0..5 {
        app.update(Action::Open);
        let text = text_of(&screen(&app));
        assert_no_unsafe("actor detail", &text);
        seen.push_str(&text);
        app.update(Action::Back);
        app.update(Action::Down);
    }
    for escape in ["\\x1b]52;c;", "\\u{9d}", "\\u{2066}", "\\u{2028}", "\\u{200b}", "\\u{feff}"] {
        assert!(seen.contains(escape), "{escape} never shown:\n{seen}");
    }
}
