//! Ambiguous scan observations in the timeline: shown with the scanner's own word, in amber,
//! never as open (red) or closed (green).

use leakline::model::snapshot::ScanMark;
use leakline::model::{PortState, ScanTool, ScannerState};
use leakline::tui::keymap::{Action, View};
use ratatui::style::Color;

use super::fixture::{app_with, draw, fixture, scan, text_of};

#[test]
fn timeline_shows_the_scanners_word_for_an_ambiguous_mark() {
    let mut snap = fixture();
    let ambiguous = ScanMark {
        scanner_state: Some(ScannerState::OpenFiltered),
        ..scan("2026-11-03T12:30:00Z", PortState::Ambiguous, ScanTool::Nmap)
    };
    snap.services[0].scans.push(ambiguous);
    let mut app = app_with(snap, false);
    app.update(Action::ShowView(View::Timeline));
    let terminal = draw(&app, 120, 40);
    let buf = terminal.backend().buffer();
    let text = text_of(buf);
    let (y, line) =
        text.lines().enumerate().find(|(_, l)| l.contains("OPEN|FILTERED")).expect(&text);
    let x = line.find("OPEN|FILTERED").unwrap();
    let col = line[..x].chars().count() as u16;
    assert_eq!(buf[(col, y as u16)].fg, Color::Yellow, "ambiguous is amber: {line}");
    // The other marks keep their colours: open red, filtered green.
    let filtered = text.lines().position(|l| l.contains("FILTERED ") && !l.contains('|'));
    assert!(filtered.is_some(), "{text}");
}
