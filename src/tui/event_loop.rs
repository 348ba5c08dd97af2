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
use super::case_link::{CaseLink, export_report};
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
    if let Some(case) = &options.case {
        app.playbook_doc = Some(Arc::new(case.playbook.clone()));
    }
    app.operator.clone_from(&options.operator);
    app.config_path.clone_from(&options.config_path);
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
    // The journal is replayed before the first frame: nothing acknowledged is ever missing.
    let mut case = options.case.clone().map(CaseLink::new);
    if let Some(link) = &mut case {
        reload(&mut app, link);
    }
    let mut effects = Effects { clipboard, case: case.as_mut(), options };
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
                        Some(effect) => effects.apply(&mut app, effect),
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
            _ = tick.tick() => {
                app.on_tick((options.clock)());
                if let Some(link) = effects.case.as_deref_mut() {
                    reload(&mut app, link);
                }
            }
            () = terminate.recv() => break,
            () = tokio::time::sleep_until(next_frame), if app.dirty => {}
        }
    }
    Ok(app)
}

/// Replay the journal when it grew (another process may have appended).
fn reload(app: &mut App, link: &mut CaseLink) {
    match link.poll() {
        Ok(Some(state)) => app.set_case(state),
        Ok(None) => {}
        Err(e) => {
            app.message = Some(format!("case journal: {e}"));
            app.dirty = true;
        }
    }
}

/// Carries out the app's effects (STYLE.md §3): clipboard, journal appends, exports.
pub struct Effects<'a> {
    pub clipboard: &'a mut dyn Write,
    pub case: Option<&'a mut CaseLink>,
    pub options: &'a TuiOptions,
}

impl Effects<'_> {
    /// Do `effect` and leave a one-line result in `app.message`. `Quit` is the loop's.
    pub fn apply(&mut self, app: &mut App, effect: Effect) {
        app.dirty = true;
        let now = (self.options.clock)();
        app.message = Some(match effect {
            Effect::Quit => return,
            Effect::Copy(text) => match copy_osc52(self.clipboard, &text) {
                Ok(()) => "copied to the clipboard (OSC 52)".to_owned(),
                Err(e) => format!("copy failed: {e}"),
            },
            Effect::Playbook(request) => match (self.case.as_deref_mut(), app.operator.clone()) {
                (Some(link), Some(op)) => {
                    let msg = match link.perform(&op, &request) {
                        Ok(msg) => msg,
                        Err(e) => format!("not recorded: {e}"),
                    };
                    reload(app, link);
                    msg
                }
                (None, _) => "preview only: open a case to record steps".to_owned(),
                (Some(_), None) => "no operator: nothing recorded".to_owned(),
            },
            Effect::Export => {
                let raw = Arc::clone(&app.forms.raw);
                match (self.case.as_deref_mut(), app.operator.clone()) {
                    (Some(link), Some(op)) => {
                        let result = link.export(&op, &raw, now);
                        reload(app, link);
                        match result {
                            Ok(w) => exported(&w, &link.case().dir, true),
                            Err(e) => format!("export failed: {e}"),
                        }
                    }
                    (Some(_), None) => "no operator: nothing exported".to_owned(),
                    (None, _) => {
                        let dir = &self.options.export_dir;
                        match export_report(&raw, None, dir, now) {
                            Ok(w) => exported(&w, dir, false),
                            Err(e) => format!("export failed: {e}"),
                        }
                    }
                }
            }
        });
    }
}

fn exported(written: &[crate::report::Written], dir: &std::path::Path, journaled: bool) -> String {
    let names: Vec<String> = written
        .iter()
        .filter_map(|w| w.path.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    format!(
        "exported {} (redacted) to {}{}",
        names.join(", "),
        dir.display(),
        if journaled { "; report_exported journaled" } else { "; no case, not journaled" }
    )
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
