//! The terminal dashboard (`leakline watch`, `leakline demo`).
//!
//! Layout of the module: `app` (state + `update(action) -> Option<Effect>`, no terminal),
//! `keymap` (the one key → action table), `view` + `panes/*` (pure drawing from `&App`),
//! `event_loop` (tokio `select!`, frame pacing), `terminal` (guard + chained panic hook),
//! `theme` (colour / `NO_COLOR`), `format` (units and the screen's clock). Attacker text goes
//! through [`crate::text`] (visible escapes) before it reaches a widget.

pub mod app;
pub mod case_link;
pub(crate) mod casework;
pub mod event_loop;
pub mod feed;
pub(crate) mod filter;
pub(crate) mod format;
pub mod keymap;
pub mod panes;
pub mod replay;
pub(crate) mod terminal;
pub(crate) mod theme;
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
    /// The case worked in this session: its playbook is shown live, actions are journaled,
    /// exports go into its folder. Overrides `playbook`.
    pub case: Option<crate::case::Case>,
    /// Who journaled actions are recorded as; `None`: the dashboard asks on first use.
    pub operator: Option<String>,
    /// Where `E` writes reports when no case is open.
    pub export_dir: std::path::PathBuf,
    /// The config file the session runs from, when it holds the whole session's setup (no
    /// quick flags added); shown in the `leakline case init` command without a case.
    pub config_path: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for TuiOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TuiOptions")
            .field("title", &self.title)
            .field("no_color", &self.no_color)
            .field("mode", &self.mode)
            .field("story", &self.story.len())
            .field("case", &self.case.as_ref().map(|c| c.dir.display().to_string()))
            .field("operator", &self.operator)
            .finish_non_exhaustive()
    }
}

impl TuiOptions {
    /// Live defaults: system clock, colour unless `NO_COLOR` is set, the operator from
    /// `$LEAKLINE_OPERATOR` / `$USER`, exports into the current directory.
    #[must_use]
    pub fn live(title: impl Into<String>) -> TuiOptions {
        TuiOptions {
            title: title.into(),
            no_color: !Theme::from_env().color,
            mode: Mode::Live,
            clock: std::sync::Arc::new(Utc::now),
            story: Vec::new(),
            playbook: None,
            case: None,
            operator: crate::case::resolve_operator(None),
            export_dir: std::path::PathBuf::from("."),
            config_path: None,
        }
    }

    #[must_use]
    pub fn theme(&self) -> Theme {
        Theme::new(self.no_color)
    }
}

/// Why the dashboard stopped with an error. The terminal is already restored when the caller
/// sees one. Messages leave the cause to the `source` chain (`{:#}` prints it once).
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("cannot set up the terminal (is stdout a terminal?)")]
    Terminal(#[source] std::io::Error),
    #[error("cannot draw to the terminal")]
    Draw(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("cannot read terminal input")]
    Input(#[source] std::io::Error),
    #[error("cannot install the SIGTERM handler")]
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
