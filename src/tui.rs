//! The terminal dashboard (`leakline watch`, `leakline demo`).
//!
//! Layout of the module: `app` (state + `update(action) -> Option<Effect>`, no terminal),
//! `keymap` (the one key → action table), `view` + `panes/*` (pure drawing from `&App`),
//! `event_loop` (tokio `select!`, frame pacing), `terminal` (guard + chained panic hook),
//! `sanitize` (attacker text → safe text), `theme` (colour / `NO_COLOR`), `format` (units).

pub mod app;
pub mod event_loop;
pub mod feed;
pub mod format;
pub mod keymap;
pub mod panes;
pub mod replay;
pub mod sanitize;
pub mod terminal;
pub mod theme;
pub mod view;

use chrono::{DateTime, Utc};

pub use app::{App, Effect, Mode};
pub use theme::Theme;

use crate::follow::{Clock, Session};

/// How the dashboard runs.
#[derive(Clone)]
pub struct TuiOptions {
    /// Case name or title, shown in the status line when no caption is set.
    pub title: String,
    /// Monochrome output (from `NO_COLOR` or a flag).
    pub no_color: bool,
    /// Live (following real sources) or replay (demo, recorded case).
    pub mode: Mode,
    /// The same clock the session uses, for relative labels ("12s ago").
    pub clock: Clock,
    /// Story captions `(time, text)`, ascending; the demo fills them.
    pub story: Vec<(DateTime<Utc>, String)>,
    /// A playbook to show read-only in the Playbook view (no case: nothing is journaled).
    pub playbook: Option<std::sync::Arc<crate::playbook::Playbook>>,
}

impl std::fmt::Debug for TuiOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TuiOptions")
            .field("title", &self.title)
            .field("no_color", &self.no_color)
            .field("mode", &self.mode)
            .field("story", &self.story.len())
            .finish_non_exhaustive()
    }
}

impl TuiOptions {
    /// Live defaults: system clock, colour unless `NO_COLOR` is set.
    #[must_use]
    pub fn live(title: impl Into<String>) -> TuiOptions {
        TuiOptions {
            title: title.into(),
            no_color: !Theme::from_env().color,
            mode: Mode::Live,
            clock: std::sync::Arc::new(Utc::now),
            story: Vec::new(),
            playbook: None,
        }
    }

    #[must_use]
    pub fn theme(&self) -> Theme {
        Theme::new(self.no_color)
    }
}

/// Why the dashboard stopped with an error. The terminal is already restored when the caller
/// sees one.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("cannot set up the terminal (is stdout a terminal?): {0}")]
    Terminal(#[source] std::io::Error),
    #[error("cannot draw to the terminal: {0}")]
    Draw(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("cannot read terminal input: {0}")]
    Input(#[source] std::io::Error),
    #[error("cannot install the SIGTERM handler: {0}")]
    Signal(#[source] std::io::Error),
}

/// Run the dashboard on the current tokio runtime until the user quits (or SIGTERM). Owns the
/// terminal for its whole duration and restores it on every exit path.
pub async fn run(session: Session, options: TuiOptions) -> Result<(), TuiError> {
    let mut guard = terminal::TerminalGuard::enter().map_err(TuiError::Terminal)?;
    let input = crossterm::event::EventStream::new();
    let mut stdout = std::io::stdout();
    let feeds = event_loop::Feeds::of(&session);
    let result = event_loop::drive(&mut guard.terminal, input, feeds, &options, &mut stdout).await;
    drop(guard);
    // The session's followers stop when it is dropped: after the terminal is back to normal.
    drop(session);
    result.map(|_| ())
}
