//! State transitions: key → action → state, no terminal.

use std::sync::Arc;

use chrono::TimeDelta;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use leakline::follow::LiveItem;
use leakline::model::snapshot::ActorClass;
use leakline::tui::app::{ActorSort, Effect};
use leakline::tui::keymap::{KEYMAP, View};

use super::fixture::{app_with, draw, feed_sample, fixture, press, request, t, text_of};

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
    assert!(banner.contains("first 11:42:10 (1h 38m ago)"), "{banner}");
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

fn builtin_playbook() -> Arc<leakline::playbook::Playbook> {
    let library = leakline::playbook::Library::builtin().expect("built-in playbooks");
    Arc::new(library.get("exposed-api-endpoint").expect("playbook").playbook.clone())
}

#[test]
fn playbook_preview_moves_opens_and_copies() {
    let mut app = app_with(fixture(), false);
    app.playbook_doc = Some(builtin_playbook());
    let steps = app.playbook_doc.as_ref().map_or(0, |p| p.steps.len());
    press(&mut app, "5");
    press(&mut app, &"j".repeat(steps + 5));
    assert_eq!(app.playbook.selected, steps - 1, "selection clamps at the last step");
    press(&mut app, "g");
    assert_eq!(app.playbook.selected, 0);
    // `c` copies every example command of the step, one per line.
    let commands: Vec<String> = app
        .playbook_doc
        .as_ref()
        .map(|p| p.steps[0].commands.iter().map(|c| c.command.clone()).collect())
        .unwrap_or_default();
    assert!(!commands.is_empty(), "the first step has commands");
    assert_eq!(press(&mut app, "c"), vec![Effect::Copy(commands.join("\n"))]);
    app.on_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(app.playbook.detail);
    let screen = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(screen.contains("Example commands"), "{screen}");
    press(&mut app, "jj");
    assert_eq!(app.playbook.scroll, 2, "j/k scroll the instructions");
    assert_eq!(app.playbook.selected, 0);
    app.on_key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert!(!app.playbook.detail);
    let screen = text_of(draw(&app, 80, 24).backend().buffer());
    assert!(screen.contains(" 1. ") && screen.contains("preview"), "{screen}");
}

#[test]
fn source_incidents_show_in_the_status_line_sanitized() {
    use leakline::model::snapshot::{Gap, GapKind};
    let mut app = app_with(fixture(), false);
    app.dirty = false;
    app.on_live(LiveItem::Incident(Gap {
        kind: GapKind::Truncated,
        source: None,
        path: "/var/log/edge-a/acc\u{1b}[2Jess.log".to_owned(),
        from: t("2026-11-03T13:20:00Z"),
        to: None,
        reason: "file shrank from 9000 to 0 bytes".to_owned(),
    }));
    assert!(app.dirty);
    let screen = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(screen.contains("source truncated: acc\\x1b[2Jess.log — file shrank"), "{screen}");
    assert_eq!(app.feed.len(), 0);
}
