//! The one table of key bindings. Every key the dashboard understands is a row here; the help
//! overlay is drawn from this table, so it cannot drift from what the keys actually do.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// The five views, in tab order (`1`–`5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Overview,
    Timeline,
    Actors,
    Events,
    Playbook,
}

impl View {
    pub const ALL: [View; 5] =
        [View::Overview, View::Timeline, View::Actors, View::Events, View::Playbook];

    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::Timeline => "Timeline",
            View::Actors => "Actors",
            View::Events => "Events",
            View::Playbook => "Playbook",
        }
    }

    #[must_use]
    pub fn index(self) -> usize {
        match self {
            View::Overview => 0,
            View::Timeline => 1,
            View::Actors => 2,
            View::Events => 3,
            View::Playbook => 4,
        }
    }
}

/// Where a binding applies. View scopes win over `Global`; `Input` is active (alone) while a
/// text prompt (filter, skip reason, note) is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Global,
    View(View),
    Input,
}

impl Scope {
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::View(v) => v.title(),
            Scope::Input => "While typing",
        }
    }
}

/// What a key asks for. `App::update` gives each its meaning in the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    ShowView(View),
    NextView,
    PrevView,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Open the detail of the selected row (or a step's instructions).
    Open,
    /// Close the detail, overlay or filter; never quits.
    Back,
    StartFilter,
    TogglePause,
    ZoomIn,
    ZoomOut,
    /// Timeline: the whole incident, first evidence to now.
    ZoomReset,
    /// Timeline: fit the axis to the evidence (first to last).
    FitEvidence,
    /// Timeline: follow now (the right edge slides with the clock).
    FollowNow,
    ToggleHelp,
    CycleSort,
    CycleClassFilter,
    CycleServiceFilter,
    CycleGrouping,
    StepStart,
    StepDone,
    StepSkip,
    StepBlock,
    StepReopen,
    /// Undo the operator's own last step action (appends a `reopen`).
    Undo,
    StepNote,
    CopyCommand,
    /// Export the report (md, json, html) and journal it.
    Export,
    /// Show secrets as logged / redacted on screen.
    ToggleReveal,
    InputSubmit,
    InputCancel,
    InputBackspace,
}

impl Action {
    /// A key that only switches what is shown (a view, the help overlay): it never records,
    /// exports, reveals or quits, so it works even right after a prompt closed (see
    /// `App::typing_guard`).
    #[must_use]
    pub fn switches_view(self) -> bool {
        matches!(
            self,
            Action::ShowView(_) | Action::NextView | Action::PrevView | Action::ToggleHelp
        )
    }
}

/// One key: a code plus whether Ctrl is held. Shift is folded into the character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn ch(c: char) -> Key {
    Key { code: KeyCode::Char(c), ctrl: false }
}

const fn ctrl(c: char) -> Key {
    Key { code: KeyCode::Char(c), ctrl: true }
}

const fn code(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

/// A row of the keymap.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub scope: Scope,
    pub keys: &'static [Key],
    /// How the keys are written in the help overlay.
    pub label: &'static str,
    pub action: Action,
    pub help: &'static str,
}

const fn bind(
    scope: Scope,
    keys: &'static [Key],
    label: &'static str,
    action: Action,
    help: &'static str,
) -> Binding {
    Binding { scope, keys, label, action, help }
}

use Scope::{Global, Input};
const TL: Scope = Scope::View(View::Timeline);
const AC: Scope = Scope::View(View::Actors);
const EV: Scope = Scope::View(View::Events);
const PB: Scope = Scope::View(View::Playbook);

/// The keymap. Order is the help overlay's order. View-scoped rows shadow global ones.
pub const KEYMAP: &[Binding] = &[
    bind(Global, &[ch('q'), ctrl('c')], "q Ctrl-C", Action::Quit, "quit"),
    bind(Global, &[ch('?')], "?", Action::ToggleHelp, "this help"),
    bind(Global, &[ch('1')], "1", Action::ShowView(View::Overview), "overview"),
    bind(Global, &[ch('2')], "2", Action::ShowView(View::Timeline), "timeline"),
    bind(Global, &[ch('3')], "3", Action::ShowView(View::Actors), "actors"),
    bind(Global, &[ch('4')], "4", Action::ShowView(View::Events), "events"),
    bind(Global, &[ch('5')], "5", Action::ShowView(View::Playbook), "playbook"),
    bind(Global, &[code(KeyCode::Tab)], "Tab", Action::NextView, "next view"),
    bind(Global, &[code(KeyCode::BackTab)], "S-Tab", Action::PrevView, "previous view"),
    bind(Global, &[code(KeyCode::Up), ch('k')], "↑ k", Action::Up, "move up"),
    bind(Global, &[code(KeyCode::Down), ch('j')], "↓ j", Action::Down, "move down"),
    bind(Global, &[code(KeyCode::Left), ch('h')], "← h", Action::Left, "move left / pan"),
    bind(Global, &[code(KeyCode::Right), ch('l')], "→ l", Action::Right, "move right / pan"),
    bind(Global, &[code(KeyCode::PageUp)], "PgUp", Action::PageUp, "page up"),
    bind(Global, &[code(KeyCode::PageDown)], "PgDn", Action::PageDown, "page down"),
    bind(Global, &[code(KeyCode::Home), ch('g')], "Home g", Action::Top, "first row"),
    bind(Global, &[code(KeyCode::End), ch('G')], "End G", Action::Bottom, "end / follow"),
    bind(Global, &[code(KeyCode::Enter)], "Enter", Action::Open, "details"),
    bind(Global, &[code(KeyCode::Esc)], "Esc", Action::Back, "back / close"),
    bind(Global, &[ch('E')], "E", Action::Export, "export report"),
    bind(Global, &[ch('R')], "R", Action::ToggleReveal, "reveal secrets"),
    bind(TL, &[ch('+'), ch('=')], "+", Action::ZoomIn, "zoom in"),
    bind(TL, &[ch('-')], "-", Action::ZoomOut, "zoom out"),
    bind(TL, &[ch('f')], "f", Action::FitEvidence, "fit evidence"),
    bind(TL, &[ch('n')], "n", Action::FollowNow, "follow now"),
    bind(TL, &[ch('0')], "0", Action::ZoomReset, "whole incident"),
    bind(TL, &[code(KeyCode::Up), ch('k')], "↑ k", Action::Up, "previous window"),
    bind(TL, &[code(KeyCode::Down), ch('j')], "↓ j", Action::Down, "next window"),
    bind(AC, &[ch('o')], "o", Action::CycleSort, "cycle sort"),
    bind(AC, &[ch('f')], "f", Action::CycleClassFilter, "filter by class"),
    bind(AC, &[ch('v')], "v", Action::CycleServiceFilter, "filter service"),
    bind(AC, &[ch('g')], "g", Action::CycleGrouping, "group actors"),
    bind(EV, &[ch('/')], "/", Action::StartFilter, "filter events"),
    bind(EV, &[ch('p'), ch(' ')], "p Space", Action::TogglePause, "pause / follow"),
    bind(PB, &[ch('s')], "s", Action::StepStart, "start step"),
    bind(PB, &[ch('d')], "d", Action::StepDone, "mark step done"),
    bind(PB, &[ch('x')], "x", Action::StepSkip, "skip (asks why)"),
    bind(PB, &[ch('b')], "b", Action::StepBlock, "block (asks why)"),
    bind(PB, &[ch('r')], "r", Action::StepReopen, "reopen step"),
    bind(PB, &[ch('u')], "u", Action::Undo, "undo my last"),
    bind(PB, &[ch('n')], "n", Action::StepNote, "add a note"),
    bind(PB, &[ch('c')], "c", Action::CopyCommand, "copy commands"),
    bind(Input, &[code(KeyCode::Enter)], "Enter", Action::InputSubmit, "apply / confirm"),
    bind(Input, &[code(KeyCode::Esc)], "Esc", Action::InputCancel, "cancel"),
    bind(Input, &[code(KeyCode::Backspace)], "Bksp", Action::InputBackspace, "delete"),
    bind(Input, &[ctrl('c')], "Ctrl-C", Action::Quit, "quit"),
];

/// Global actions the hint bar repeats after a view's own keys, in this order.
const HINT_GLOBALS: &[Action] = &[
    Action::Open,
    Action::Back,
    Action::NextView,
    Action::Export,
    Action::ToggleHelp,
    Action::Quit,
];

/// The one-line key hint for `scope` (the bottom bar, as k9s and lazygit show): the scope's own
/// rows, then the common global ones, as `(keys, what)` from the keymap. `Enter`/`Esc` only
/// where the view has something to open or close.
#[must_use]
pub fn hints(scope: Scope) -> Vec<(&'static str, &'static str)> {
    let own = KEYMAP.iter().filter(|b| b.scope == scope).map(|b| (b.label, b.help));
    let Scope::View(view) = scope else {
        return own.collect();
    };
    let opens = matches!(view, View::Actors | View::Events | View::Playbook);
    let globals = HINT_GLOBALS
        .iter()
        .filter(|a| opens || !matches!(a, Action::Open | Action::Back))
        .filter_map(|a| KEYMAP.iter().find(|b| b.scope == Scope::Global && b.action == *a))
        // A view row shadowing the same key takes precedence (its meaning is what applies).
        .filter(|b| b.keys.iter().all(|k| lookup(scope, *k) == Some(b.action)))
        .map(|b| (b.label, b.help));
    own.chain(globals).collect()
}

/// Normalize a crossterm key event to a [`Key`]; `None` for releases and repeats-as-release
/// (kitty protocol) so one press is one action.
#[must_use]
pub fn key_of(event: &KeyEvent) -> Option<Key> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    Some(Key { code: event.code, ctrl: event.modifiers.contains(KeyModifiers::CONTROL) })
}

/// The action bound to `key` in `scope`: the scope's own rows first, then the global rows
/// (except in `Input`, where unbound keys are text, so globals must not fire).
#[must_use]
pub fn lookup(scope: Scope, key: Key) -> Option<Action> {
    let find =
        |s: Scope| KEYMAP.iter().find(|b| b.scope == s && b.keys.contains(&key)).map(|b| b.action);
    match scope {
        Scope::Input => find(Scope::Input),
        Scope::Global => find(Scope::Global),
        Scope::View(_) => find(scope).or_else(|| find(Scope::Global)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice_in_one_scope() {
        for (i, a) in KEYMAP.iter().enumerate() {
            for b in &KEYMAP[i + 1..] {
                if a.scope == b.scope {
                    for k in a.keys {
                        assert!(!b.keys.contains(k), "{k:?} bound twice in {:?}", a.scope);
                    }
                }
            }
        }
    }

    #[test]
    fn hints_come_from_the_keymap() {
        let ev = hints(Scope::View(View::Events));
        assert_eq!(ev.first(), Some(&("/", "filter events")));
        assert!(ev.contains(&("Enter", "details")));
        assert!(ev.contains(&("q Ctrl-C", "quit")));
        let ov = hints(Scope::View(View::Overview));
        assert!(!ov.iter().any(|(k, _)| *k == "Enter"), "the overview opens nothing");
        assert!(ov.contains(&("?", "this help")));
        let input = hints(Scope::Input);
        assert_eq!(input.first(), Some(&("Enter", "apply / confirm")));
        // Every hint is a keymap row.
        for (label, help) in ev.iter().chain(&ov).chain(&input) {
            assert!(KEYMAP.iter().any(|b| b.label == *label && b.help == *help));
        }
    }

    #[test]
    fn view_rows_shadow_global_and_input_is_isolated() {
        assert_eq!(lookup(Scope::View(View::Events), ch('p')), Some(Action::TogglePause));
        assert_eq!(lookup(Scope::View(View::Overview), ch('p')), None);
        assert_eq!(lookup(Scope::View(View::Events), ch('q')), Some(Action::Quit));
        assert_eq!(lookup(Scope::Input, ch('q')), None);
        assert_eq!(lookup(Scope::Input, ctrl('c')), Some(Action::Quit));
    }
}
