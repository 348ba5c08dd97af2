//! The event loop, driven with a `TestBackend`, a hand-fed session and scripted input.

use super::fixture::{fixture, key, request, text_of};
use crossterm::event::Event as TermEvent;
use futures::channel::mpsc;
use leakline::follow::LiveItem;
use leakline::tui::event_loop::{self, Feeds};
use leakline::tui::keymap::View;
use leakline::tui::{Mode, TuiOptions};
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
    let feeds = Feeds { snapshots: snap_rx, items: items_tx.subscribe() };
    let fixed = fixture().as_of;
    let options = TuiOptions {
        title: "loop test".to_owned(),
        no_color: false,
        mode: Mode::Live,
        clock: Arc::new(move || fixed),
        story: Vec::new(),
        playbook: None,
        case: None,
        operator: None,
        export_dir: std::env::temp_dir(),
        config_path: None,
    };
    let (keys_tx, keys_rx) = mpsc::unbounded::<std::io::Result<TermEvent>>();
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("backend");
    let mut clipboard = Vec::new();
    let driver = event_loop::drive(&mut terminal, keys_rx, feeds, &options, &mut clipboard);
    let script = async {
        // Wait on observable state: the loop consumed the item before the keys arrive.
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
    let feeds = Feeds { snapshots: snap_rx, items: items_tx.subscribe() };
    let options = TuiOptions::live("t");
    let (keys_tx, keys_rx) = mpsc::unbounded::<std::io::Result<TermEvent>>();
    drop(keys_tx);
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("backend");
    let mut clipboard = Vec::new();
    let app = tokio::time::timeout(
        Duration::from_secs(20),
        event_loop::drive(&mut terminal, keys_rx, feeds, &options, &mut clipboard),
    )
    .await
    .expect("ends")
    .expect("ok");
    assert_eq!(app.view, View::Overview);
}
