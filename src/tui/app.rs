//! The dashboard's state and its one transition function, `App::update(action)`.
//!
//! No terminal, no clock, no I/O here: the event loop feeds keys, snapshots, live items and
//! clock ticks in, and carries out the returned [`Effect`]s. Tests drive it the same way.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent};

use super::casework::{CaseView, Forms, event_forms};
use super::feed::{Feed, Filter, Labels};
use super::keymap::{self, Action, Scope, View};
use super::theme::Theme;
use crate::follow::LiveItem;
use crate::model::Snapshot;
use crate::model::snapshot::ActorClass;
use crate::playbook::Playbook;
use crate::redact::Redactor;

/// Rows moved by PageUp/PageDown.
const PAGE: usize = 10;

/// Whether the dashboard follows a live clock or replays a recorded case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Replay,
}

/// Something the event loop must do on the app's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// Put text on the clipboard (OSC 52; works over SSH).
    Copy(String),
    /// A playbook action to journal through the case library (needs a case and an operator).
    Playbook(PlaybookRequest),
    /// Export the report (md, json, html): into the case folder and journaled with a case,
    /// else into the current directory.
    Export,
}

/// The playbook pane's requests, by step index. Each is one journal write, emitted only
/// after the operator confirmed it with Enter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaybookRequest {
    Start(usize),
    Done(usize),
    /// Done while the step's verify check did not say verified (`check`: what it said);
    /// journaled as "done (unverified)".
    DoneUnverified {
        step: usize,
        check: String,
    },
    Skip {
        step: usize,
        reason: String,
    },
    Block {
        step: usize,
        reason: String,
    },
    Reopen(usize),
    /// Undo the operator's own last step action (appends a `reopen`).
    Undo,
    Note {
        step: usize,
        text: String,
    },
}

/// What an open prompt is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    SkipReason,
    BlockReason,
    Note,
    /// Who is acting (no `--operator`, `$LEAKLINE_OPERATOR` or `$USER` was set).
    Operator,
    /// A journal write waiting for Enter (confirm) or Esc (cancel); typing is ignored.
    Confirm,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
    /// The step the prompt is about (captured when it opened).
    pub step: usize,
    /// For [`PromptKind::Confirm`]: the write waiting for Enter and what it will record.
    pub request: Option<PlaybookRequest>,
}

impl Prompt {
    /// An empty text prompt.
    #[must_use]
    pub fn input(kind: PromptKind, step: usize) -> Prompt {
        Prompt { kind, text: String::new(), step, request: None }
    }
}

/// Actor table sort keys (all descending except class, which groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorSort {
    Bytes,
    Requests,
    FirstSeen,
    Class,
}

impl ActorSort {
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            ActorSort::Bytes => "bytes",
            ActorSort::Requests => "requests",
            ActorSort::FirstSeen => "first seen",
            ActorSort::Class => "class",
        }
    }

    fn next(self) -> ActorSort {
        match self {
            ActorSort::Bytes => ActorSort::Requests,
            ActorSort::Requests => ActorSort::FirstSeen,
            ActorSort::FirstSeen => ActorSort::Class,
            ActorSort::Class => ActorSort::Bytes,
        }
    }
}

/// State of the Actors view. `order` indexes `snapshot.actors` after filter and sort; it is
/// rebuilt when the snapshot, sort or filters change, never while drawing.
#[derive(Debug, Clone)]
pub struct ActorsState {
    pub sort: ActorSort,
    pub class_filter: Option<ActorClass>,
    pub service_filter: Option<String>,
    pub selected: usize,
    pub detail: bool,
    pub order: Vec<usize>,
    /// `Some(i)`: the view lists `snapshot.actor_groups[i]` (the aggregates by network
    /// prefix…) instead of the actors; `g` cycles through the keys and back.
    pub grouping: Option<usize>,
}

/// State of the Events view.
#[derive(Debug, Clone, Default)]
pub struct EventsState {
    /// `Some(seq)`: frozen at that row (paused); `None`: following the newest row.
    pub paused_at: Option<u64>,
    /// Selected row as a `seq`; `None` selects the newest shown row.
    pub selected: Option<u64>,
    pub detail: bool,
}

/// State of the Timeline view: what the axis is fitted to, the zoom level within it (0 = all
/// of it; each level halves the span), the pan offset in seconds from its right edge, and the
/// selected exposure window (across services, in order) whose bounds are written out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimelineState {
    pub frame: TimelineFrame,
    pub zoom: u8,
    pub pan_secs: i64,
    pub selected: usize,
}

/// What the Timeline's axis spans before zoom and pan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TimelineFrame {
    /// From the first to the last evidence (`f`, the default): a five-hour incident reviewed
    /// months later fills the width.
    #[default]
    Evidence,
    /// The last `span_secs` up to now, sliding with the clock (`n`).
    Now { span_secs: i64 },
    /// From the first evidence to now (`0`).
    Whole,
}

/// Maximum zoom level (span divided by 2^12).
pub const MAX_ZOOM: u8 = 12;

#[derive(Debug, Clone, Default)]
pub struct PlaybookState {
    pub selected: usize,
    pub detail: bool,
    /// Scroll of the step instructions (rows), when `detail` is open.
    pub scroll: usize,
}

/// Everything the panes draw from.
#[derive(Debug, Clone)]
pub struct App {
    pub snapshot: Arc<Snapshot>,
    /// The clock's current time (live: wall clock; replay: story time). Drives relative labels.
    pub now: DateTime<Utc>,
    pub mode: Mode,
    pub theme: Theme,
    pub title: String,
    /// Demo story captions: `(story time, text)` ascending; the status bar shows the latest
    /// whose time is `<= snapshot.as_of`.
    pub story: Vec<(DateTime<Utc>, String)>,
    pub view: View,
    pub help: bool,
    pub prompt: Option<Prompt>,
    pub feed: Feed,
    pub actors: ActorsState,
    pub events: EventsState,
    pub timeline: TimelineState,
    pub playbook: PlaybookState,
    /// The playbook shown in the Playbook view (the case's own copy when a case is open).
    pub playbook_doc: Option<Arc<Playbook>>,
    /// The open case, replayed from its journal; `None`: the Playbook view is a preview.
    pub case: Option<CaseView>,
    /// Who journaled actions are recorded as; asked for when unknown.
    pub operator: Option<String>,
    /// The config file this session runs from (`None`: quick flags or the demo), for the
    /// `leakline case init` command shown without a case.
    pub config_path: Option<std::path::PathBuf>,
    /// An action waiting for the operator prompt.
    pub pending: Option<Action>,
    /// The snapshot as received and redacted; `snapshot` is one of them (see `reveal`).
    pub forms: Forms,
    /// Secrets shown as logged (`R`); off by default: the screen shows redaction markers.
    pub reveal: bool,
    pub redactor: Redactor,
    /// Vertical scroll of the overview (rows).
    pub overview_scroll: usize,
    /// A transient one-line message (cleared by the next key).
    pub message: Option<String>,
    /// Set when a prompt was closed with Enter, to the view it was open in: there, plain
    /// character keys other than the view keys (`1`..`5`, `?`) are ignored until a
    /// non-character key (arrow, Esc, Tab, Enter…), so the rest of a sentence typed on never
    /// becomes step actions. Another view's keys work at once.
    pub typing_guard: Option<View>,
    /// Live items missed because the display lagged behind the broadcast.
    pub lagged: u64,
    /// Something changed since the last frame.
    pub dirty: bool,
}

impl App {
    #[must_use]
    pub fn new(title: String, mode: Mode, theme: Theme, snapshot: Arc<Snapshot>) -> App {
        let now = snapshot.as_of;
        let redactor = Redactor::new();
        let forms = Forms::of(&redactor, snapshot);
        let mut app = App {
            snapshot: Arc::clone(&forms.redacted),
            now,
            mode,
            theme,
            title,
            story: Vec::new(),
            view: View::Overview,
            help: false,
            prompt: None,
            feed: Feed::default(),
            actors: ActorsState {
                sort: ActorSort::Bytes,
                class_filter: None,
                grouping: None,
                service_filter: None,
                selected: 0,
                detail: false,
                order: Vec::new(),
            },
            events: EventsState::default(),
            timeline: TimelineState::default(),
            playbook: PlaybookState::default(),
            playbook_doc: None,
            case: None,
            operator: None,
            config_path: None,
            pending: None,
            forms,
            reveal: false,
            redactor,
            overview_scroll: 0,
            message: None,
            typing_guard: None,
            lagged: 0,
            dirty: true,
        };
        app.feed.set_labels(Labels::of(&app.snapshot));
        app.reorder_actors();
        app
    }

    /// A new snapshot arrived (the latest wins).
    pub fn on_snapshot(&mut self, snapshot: Arc<Snapshot>) {
        self.forms = Forms::of(&self.redactor, snapshot);
        self.snapshot =
            Arc::clone(if self.reveal { &self.forms.raw } else { &self.forms.redacted });
        self.feed.set_labels(Labels::of(&self.snapshot));
        self.reorder_actors();
        self.reverify();
        self.dirty = true;
    }

    /// A live item arrived. Only exposure-relevant requests and all scans enter the feed;
    /// a source incident (rotation, truncation, error, silence) shows in the status line (the
    /// overview's source table keeps the counts).
    pub fn on_live(&mut self, item: LiveItem) {
        match item {
            LiveItem::Event { event, external } => {
                let keep = external || matches!(&*event, crate::model::Event::Scan(_));
                if keep {
                    let (redacted, raw) = event_forms(&self.redactor, event);
                    if self.reveal {
                        self.feed.push_forms(raw, redacted, external);
                    } else {
                        self.feed.push_forms(redacted, raw, external);
                    }
                    if self.view == View::Events && self.events.paused_at.is_none() {
                        self.dirty = true;
                    }
                }
            }
            LiveItem::Incident(gap) => {
                let kind = gap.kind.after_source();
                let name = std::path::Path::new(&gap.path)
                    .file_name()
                    .map_or_else(|| gap.path.clone(), |n| n.to_string_lossy().into_owned());
                self.message = Some(format!("source {kind}: {name} — {}", gap.reason));
                self.dirty = true;
            }
        }
    }

    /// The clock ticked (1 s): relative labels may change.
    pub fn on_tick(&mut self, now: DateTime<Utc>) {
        if now != self.now {
            self.now = now;
            self.dirty = true;
        }
    }

    /// The story caption for the current snapshot time, if any.
    #[must_use]
    pub fn caption(&self) -> Option<&str> {
        self.story.iter().rev().find(|(t, _)| *t <= self.snapshot.as_of).map(|(_, s)| s.as_str())
    }

    /// The key scope in effect: a prompt captures all keys; otherwise the current view's.
    #[must_use]
    pub fn scope(&self) -> Scope {
        if self.prompt.is_some() { Scope::Input } else { Scope::View(self.view) }
    }

    /// Translate a key press through the keymap and apply it.
    pub fn on_key(&mut self, event: &KeyEvent) -> Option<Effect> {
        let key = keymap::key_of(event)?;
        self.message = None;
        self.dirty = true;
        let is_char = matches!(key.code, KeyCode::Char(_)) && !key.ctrl;
        if self.prompt.is_none()
            && let Some(guarded) = self.typing_guard
        {
            if !is_char {
                self.typing_guard = None;
            } else if guarded == self.view
                && !keymap::lookup(self.scope(), key).is_some_and(Action::switches_view)
            {
                self.message = Some(
                    "typing after a prompt closed is ignored: press Esc or an arrow key, then the key again"
                        .to_owned(),
                );
                return None;
            }
        }
        let had_prompt = self.prompt.is_some();
        let scope = self.scope();
        if let Some(action) = keymap::lookup(scope, key) {
            let view = self.view;
            let effect = self.update(action);
            if had_prompt && self.prompt.is_none() && key.code == KeyCode::Enter {
                self.typing_guard = Some(view);
            }
            return effect;
        }
        // Unbound keys are text while a text prompt is open (a confirmation takes none).
        if let (Some(prompt), KeyCode::Char(c), false) = (self.prompt.as_mut(), key.code, key.ctrl)
        {
            if prompt.kind == PromptKind::Confirm {
                self.message = Some("Enter records it, Esc cancels".to_owned());
            } else if prompt.text.chars().count() < 200 {
                prompt.text.push(c);
            }
            if prompt.kind == PromptKind::Filter {
                let f = Filter::parse(&prompt.text);
                self.apply_filter(f);
                self.events.selected = None;
            }
        }
        None
    }

    /// Apply one action. The only place state changes in response to the user.
    pub fn update(&mut self, action: Action) -> Option<Effect> {
        self.dirty = true;
        if self.help {
            // The overlay is modal: it closes on ?, Esc or Enter; q still quits.
            match action {
                Action::Quit => return Some(Effect::Quit),
                Action::ToggleHelp | Action::Back | Action::Open => self.help = false,
                _ => {}
            }
            return None;
        }
        match action {
            Action::Quit => return Some(Effect::Quit),
            Action::ToggleHelp => self.help = true,
            Action::ShowView(v) => self.view = v,
            Action::NextView => self.view = View::ALL[(self.view.index() + 1) % View::ALL.len()],
            Action::PrevView => {
                self.view = View::ALL[(self.view.index() + View::ALL.len() - 1) % View::ALL.len()];
            }
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-(PAGE as i64)),
            Action::PageDown => self.move_by(PAGE as i64),
            Action::Top => self.move_by(i64::MIN / 2),
            Action::Bottom => self.bottom(),
            Action::Left => self.pan(-1),
            Action::Right => self.pan(1),
            Action::Open => self.open(),
            Action::Back => self.back(),
            Action::StartFilter => {
                let text = self.feed.filter().text().to_owned();
                self.prompt = Some(Prompt { text, ..Prompt::input(PromptKind::Filter, 0) });
            }
            Action::TogglePause => self.toggle_pause(),
            Action::ZoomIn => self.timeline.zoom = (self.timeline.zoom + 1).min(MAX_ZOOM),
            Action::ZoomOut => {
                self.timeline.zoom = self.timeline.zoom.saturating_sub(1);
                if self.timeline.zoom == 0 {
                    self.timeline.pan_secs = 0;
                }
            }
            Action::ZoomReset => self.refit(TimelineFrame::Whole),
            Action::FitEvidence => self.refit(TimelineFrame::Evidence),
            Action::FollowNow => {
                let (a, b) = super::panes::timeline::visible_range(self);
                self.refit(TimelineFrame::Now { span_secs: (b - a).num_seconds().max(60) });
            }
            Action::CycleSort => {
                self.actors.sort = self.actors.sort.next();
                self.reorder_actors();
            }
            Action::CycleClassFilter => self.cycle_class_filter(),
            Action::CycleServiceFilter => self.cycle_service_filter(),
            Action::CycleGrouping => self.cycle_grouping(),
            Action::StepStart
            | Action::StepDone
            | Action::StepSkip
            | Action::StepBlock
            | Action::StepReopen
            | Action::Undo
            | Action::StepNote => self.step_action(action),
            Action::Export if self.case.is_some() && self.need_operator(action) => {}
            Action::Export => return Some(Effect::Export),
            Action::ToggleReveal => self.toggle_reveal(),
            Action::CopyCommand => return self.copy_command(),
            Action::InputSubmit => return self.submit_prompt(),
            Action::InputCancel => {
                self.pending = None;
                if let Some(p) = self.prompt.take() {
                    match p.kind {
                        PromptKind::Filter => self.feed.set_filter(Filter::default()),
                        PromptKind::Operator => {}
                        _ => self.message = Some("cancelled: nothing recorded".to_owned()),
                    }
                }
            }
            Action::InputBackspace => {
                if let Some(p) = self.prompt.as_mut().filter(|p| p.kind != PromptKind::Confirm) {
                    p.text.pop();
                    if p.kind == PromptKind::Filter {
                        let f = Filter::parse(&p.text);
                        self.apply_filter(f);
                    }
                }
            }
        }
        None
    }

    /// Apply a filter typed in the prompt; a filter with a bad term keeps the previous one
    /// and says why in the prompt line.
    pub(crate) fn apply_filter(&mut self, filter: Filter) {
        match filter.error() {
            Some(e) => self.message = Some(e.to_owned()),
            None => self.feed.set_filter(filter),
        }
    }

    /// A journaling key of the Playbook view: explain (no case), ask for the operator, or
    /// open its prompt or confirmation. Nothing is written before Enter confirms it.
    fn step_action(&mut self, action: Action) {
        if self.case.is_none() {
            self.message = Some(format!(
                "preview only: open a case to record steps ({}, then leakline watch --case DIR)",
                super::panes::next_step::case_init_command(self).0
            ));
            return;
        }
        if self.need_operator(action) {
            return;
        }
        let step = self.playbook.selected;
        match action {
            Action::StepStart => self.confirm(PlaybookRequest::Start(step)),
            Action::StepDone => self.confirm_done(),
            Action::StepReopen => self.confirm(PlaybookRequest::Reopen(step)),
            Action::Undo => self.confirm_undo(),
            Action::StepSkip => self.prompt = Some(Prompt::input(PromptKind::SkipReason, step)),
            Action::StepBlock => self.prompt = Some(Prompt::input(PromptKind::BlockReason, step)),
            Action::StepNote => self.prompt = Some(Prompt::input(PromptKind::Note, step)),
            _ => {}
        }
    }

    fn move_by(&mut self, delta: i64) {
        match self.view {
            View::Overview => self.overview_scroll = offset(self.overview_scroll, delta, 10_000),
            View::Actors if !self.actors.detail => {
                let len = self.actor_rows();
                self.actors.selected = offset(self.actors.selected, delta, len);
            }
            View::Events if !self.events.detail => self.move_event(delta),
            View::Playbook if self.playbook.detail => {
                self.playbook.scroll = offset(self.playbook.scroll, delta, 500);
            }
            View::Playbook => {
                let steps = self.playbook_doc.as_ref().map_or(0, |p| p.steps.len());
                self.playbook.selected = offset(self.playbook.selected, delta, steps);
            }
            View::Timeline => {
                let windows = self.snapshot.services.iter().map(|s| s.windows.len()).sum();
                self.timeline.selected = offset(self.timeline.selected, delta, windows);
            }
            View::Actors | View::Events => {}
        }
    }

    fn bottom(&mut self) {
        match self.view {
            View::Events => {
                self.events = EventsState::default();
            }
            View::Actors => self.actors.selected = self.actor_rows().saturating_sub(1),
            _ => self.move_by(i64::MAX / 2),
        }
    }

    fn move_event(&mut self, delta: i64) {
        let len = self.feed.visible_len();
        if len == 0 {
            return;
        }
        // Moving the cursor freezes the stream so rows stop sliding under it.
        let frozen = self.events.paused_at.unwrap_or(u64::MAX);
        let last = self.feed.visible_index_at_or_before(frozen).unwrap_or(0);
        let current = self
            .events
            .selected
            .and_then(|s| self.feed.visible_index_at_or_before(s))
            .unwrap_or(last);
        let idx = offset(current, delta, last + 1);
        let seq = self.feed.visible_row(idx).map(|r| r.seq);
        if self.events.paused_at.is_none() {
            self.events.paused_at = self.feed.visible_row(last).map(|r| r.seq);
        }
        self.events.selected = seq;
    }

    fn toggle_pause(&mut self) {
        if self.events.paused_at.is_some() {
            self.events = EventsState::default();
        } else {
            let last = self.feed.visible_len().checked_sub(1);
            self.events.paused_at =
                Some(last.and_then(|i| self.feed.visible_row(i)).map_or(0, |r| r.seq));
        }
    }

    /// Fit the Timeline's axis to `frame`, zoom and pan reset, the selection kept.
    fn refit(&mut self, frame: TimelineFrame) {
        self.timeline =
            TimelineState { frame, selected: self.timeline.selected, ..TimelineState::default() };
    }

    fn pan(&mut self, direction: i64) {
        if self.view != View::Timeline || self.timeline.zoom == 0 {
            return;
        }
        // One step is an eighth of the visible span.
        let span = super::panes::timeline::base_span_secs(self);
        let visible = (span >> self.timeline.zoom).max(1);
        let step = (visible / 8).max(1);
        let max_pan = span.saturating_sub(visible);
        self.timeline.pan_secs = (self.timeline.pan_secs - direction * step).clamp(0, max_pan);
    }

    fn open(&mut self) {
        match self.view {
            View::Actors if self.actors.grouping.is_none() && !self.actors.order.is_empty() => {
                self.actors.detail = true;
            }
            View::Events if self.feed.visible_len() > 0 => {
                if self.events.selected.is_none() {
                    self.move_event(0);
                }
                self.events.detail = true;
            }
            View::Playbook => {
                self.playbook.detail = !self.playbook.detail;
                self.playbook.scroll = 0;
            }
            _ => {}
        }
    }

    fn back(&mut self) {
        match self.view {
            View::Actors => self.actors.detail = false,
            View::Events if self.events.detail => self.events.detail = false,
            View::Events => {
                if self.feed.filter().is_empty() {
                    self.events = EventsState::default();
                } else {
                    self.feed.set_filter(Filter::default());
                }
            }
            View::Playbook => self.playbook.detail = false,
            View::Overview | View::Timeline => {}
        }
    }

    fn cycle_class_filter(&mut self) {
        self.actors.class_filter = match self.actors.class_filter {
            None => Some(ActorClass::Scanner),
            Some(ActorClass::Scanner) => Some(ActorClass::Tool),
            Some(ActorClass::Tool) => Some(ActorClass::Browser),
            Some(ActorClass::Browser) => Some(ActorClass::Unknown),
            Some(ActorClass::Unknown) => None,
        };
        self.actors.selected = 0;
        self.reorder_actors();
    }

    fn cycle_grouping(&mut self) {
        let keys = self.snapshot.actor_groups.len();
        self.actors.grouping = match self.actors.grouping {
            None if keys > 0 => Some(0),
            Some(i) if i + 1 < keys => Some(i + 1),
            _ => None,
        };
        self.actors.selected = 0;
        self.actors.detail = false;
    }

    /// Rows of the Actors view: actors after filters, or the groups of the chosen key.
    #[must_use]
    pub fn actor_rows(&self) -> usize {
        match self.actors.grouping {
            Some(i) => self.snapshot.actor_groups.get(i).map_or(0, |g| g.groups.len()),
            None => self.actors.order.len(),
        }
    }

    fn cycle_service_filter(&mut self) {
        let names: Vec<&str> = self.snapshot.services.iter().map(|s| s.name.as_str()).collect();
        let next = match &self.actors.service_filter {
            None => names.first().map(|s| (*s).to_owned()),
            Some(cur) => {
                let pos = names.iter().position(|n| n == cur);
                pos.and_then(|p| names.get(p + 1)).map(|s| (*s).to_owned())
            }
        };
        self.actors.service_filter = next;
        self.actors.selected = 0;
        self.reorder_actors();
    }

    /// Rebuild the filtered, sorted actor index. Ties keep the snapshot's order (bytes desc,
    /// requests desc, client asc), so the table is stable between frames.
    pub fn reorder_actors(&mut self) {
        let actors = &self.snapshot.actors;
        let class = self.actors.class_filter;
        let service = self.actors.service_filter.as_deref();
        let mut order: Vec<usize> = actors
            .iter()
            .enumerate()
            .filter(|(_, a)| class.is_none_or(|c| a.class == c))
            .filter(|(_, a)| service.is_none_or(|s| a.services.iter().any(|x| x == s)))
            .map(|(i, _)| i)
            .collect();
        match self.actors.sort {
            ActorSort::Bytes => {}
            ActorSort::Requests => {
                order.sort_by(|&a, &b| actors[b].requests.cmp(&actors[a].requests));
            }
            ActorSort::FirstSeen => {
                order.sort_by(|&a, &b| actors[a].first_seen.cmp(&actors[b].first_seen));
            }
            ActorSort::Class => order.sort_by_key(|&i| actors[i].class),
        }
        self.actors.order = order;
        if self.actors.grouping.is_some_and(|i| i >= self.snapshot.actor_groups.len()) {
            self.actors.grouping = None;
        }
        self.actors.selected = self.actors.selected.min(self.actor_rows().saturating_sub(1));
        if self.actors.order.is_empty() {
            self.actors.detail = false;
        }
    }
}

/// `current + delta` clamped to `0..len` (0 when empty).
fn offset(current: usize, delta: i64, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let max = (len - 1) as i64;
    (current as i64).saturating_add(delta).clamp(0, max) as usize
}
