//! The dashboard loop (STYLE.md §3): one `select!` over terminal input, the snapshot channel,
//! the live-item broadcast, a 1 s clock tick and SIGTERM. State changes mark the app dirty; a
//! frame is drawn only when dirty, at most every [`FRAME`] (~30 fps), except right after a
//! key press, which draws at once (key-to-screen is one render). Drawing reads the
//! immutable `Arc<Snapshot>`; the session never waits for the UI (latest-wins `watch`, lagging
//! `broadcast`).

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
use tokio::time::{Instant, MissedTickBehavior};

use super::app::{App, Effect};
use super::terminal::copy_osc52;
use super::{TuiError, TuiOptions, view};
use crate::follow::{LiveItem, Session};
use crate::model::Snapshot;

/// Minimum time between two frames.
pub const FRAME: Duration = Duration::from_millis(33);
/// Relative labels ("12s ago") refresh at this period even when nothing else changes.
pub const TICK: Duration = Duration::from_secs(1);

/// Build the app from the latest snapshot, options applied.
#[must_use]
pub fn new_app(snapshots: &watch::Receiver<Arc<Snapshot>>, options: &TuiOptions) -> App {
    let snapshot = Arc::clone(&snapshots.borrow());
    let mut app = App::new(options.title.clone(), options.mode, options.theme(), snapshot);
    app.story.clone_from(&options.story);
    app.playbook_doc.clone_from(&options.playbook);
    app.now = (options.clock)();
    app
}

/// The session's outputs the dashboard reads: the latest-wins snapshot channel and a
/// subscription to the live items (taken before the loop starts, so nothing is missed).
#[derive(Debug)]
pub struct Feeds {
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    pub items: broadcast::Receiver<LiveItem>,
}

impl Feeds {
    #[must_use]
    pub fn of(session: &Session) -> Feeds {
        Feeds { snapshots: session.snapshots.clone(), items: session.subscribe() }
    }
}

/// Run until quit, SIGTERM, or the input stream ends. Generic over the backend and the input
/// stream so tests can drive it with a `TestBackend`, scripted keys and hand-fed channels.
pub async fn drive<B, S>(
    terminal: &mut Terminal<B>,
    mut input: S,
    feeds: Feeds,
    options: &TuiOptions,
    clipboard: &mut dyn Write,
) -> Result<App, TuiError>
where
    B: Backend,
    B::Error: std::error::Error + Send + Sync + 'static,
    S: Stream<Item = io::Result<crossterm::event::Event>> + Unpin,
{
    let Feeds { mut snapshots, mut items } = feeds;
    let mut app = new_app(&snapshots, options);
    snapshots.mark_unchanged();
    let (mut snapshots_open, mut items_open) = (true, true);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut terminate = Terminate::new()?;
    let mut last_draw: Option<Instant> = None;
    let mut key_pressed = false;
    loop {
        // A key press draws at once (the user is waiting); everything else is paced, so a
        // flood of snapshots or items costs at most ~30 frames per second.
        let due = key_pressed || last_draw.is_none_or(|t| t.elapsed() >= FRAME);
        key_pressed = false;
        if app.dirty && due {
            terminal
                .draw(|f| view::render(&app, f.area(), f.buffer_mut()))
                .map_err(|e| TuiError::Draw(Box::new(e)))?;
            app.dirty = false;
            last_draw = Some(Instant::now());
        }
        let next_frame = last_draw.map_or_else(Instant::now, |t| t + FRAME);
        tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(crossterm::event::Event::Key(key))) => {
                    key_pressed = true;
                    match app.on_key(&key) {
                        Some(Effect::Quit) => break,
                        Some(effect) => apply(&mut app, effect, clipboard),
                        None => {}
                    }
                }
                Some(Ok(crossterm::event::Event::Resize(..))) => app.dirty = true,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(TuiError::Input(e)),
                None => break,
            },
            changed = snapshots.changed(), if snapshots_open => match changed {
                Ok(()) => {
                    let snap = snapshots.borrow_and_update().clone();
                    app.on_snapshot(snap);
                    app.on_tick((options.clock)());
                }
                Err(_) => snapshots_open = false,
            },
            item = items.recv(), if items_open => match item {
                Ok(item) => app.on_live(item),
                Err(RecvError::Lagged(n)) => app.lagged += n,
                Err(RecvError::Closed) => items_open = false,
            },
            _ = tick.tick() => app.on_tick((options.clock)()),
            () = terminate.recv() => break,
            () = tokio::time::sleep_until(next_frame), if app.dirty => {}
        }
    }
    Ok(app)
}

fn apply(app: &mut App, effect: Effect, clipboard: &mut dyn Write) {
    match effect {
        Effect::Quit => {}
        Effect::Copy(text) => {
            app.message = Some(match copy_osc52(clipboard, &text) {
                Ok(()) => "copied to the clipboard (OSC 52)".to_owned(),
                Err(e) => format!("copy failed: {e}"),
            });
        }
        Effect::Playbook(_) => {
            app.message = Some(
                "preview only: open a case to record steps (leakline case, watch --case DIR)"
                    .to_owned(),
            );
        }
    }
}

/// SIGTERM (and SIGHUP: the terminal went away) as a future; never fires where unsupported.
struct Terminate {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

impl Terminate {
    fn new() -> Result<Terminate, TuiError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Terminate {
                term: signal(SignalKind::terminate()).map_err(TuiError::Signal)?,
                hup: signal(SignalKind::hangup()).map_err(TuiError::Signal)?,
            })
        }
        #[cfg(not(unix))]
        Ok(Terminate {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.hup.recv() => {}
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_pacing_is_at_most_about_30_fps_and_ticks_each_second() {
        let fps = 1.0 / FRAME.as_secs_f64();
        assert!((25.0..=30.5).contains(&fps), "{fps} fps");
        assert_eq!(TICK, Duration::from_secs(1));
    }
}
