//! The case side of the dashboard's state: the replayed [`CaseState`], verify results against
//! the shown snapshot, the operator, the text prompts (skip reason, note, operator) that turn
//! into playbook effects, and the on-screen redaction of attacker text.
//!
//! Still pure: the event loop hands in a replayed state (via [`super::case_link::CaseLink`]),
//! `App` only stores it and recomputes verify results, which read nothing but the snapshot.

use std::sync::Arc;

use crate::case::CaseState;
use crate::model::{Event, Snapshot};
use crate::playbook::VerifyResult;
use crate::report::{RedactionCounts, Redactor, redact_event, redact_snapshot};

use super::app::{App, Effect, PlaybookRequest, Prompt, PromptKind};
use super::feed::Filter;
use super::keymap::Action;

/// The open case as the panes draw it.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub state: CaseState,
    /// Verify results (step id, result) against the shown snapshot, in step order.
    pub verify: Vec<(String, VerifyResult)>,
}

impl CaseView {
    #[must_use]
    pub fn verify_of(&self, step: &str) -> Option<&VerifyResult> {
        self.verify.iter().find(|(id, _)| id == step).map(|(_, r)| r)
    }
}

/// The snapshot in both forms: as logged and with secrets replaced by markers. `Arc`s are
/// shared when the redactor found nothing.
#[derive(Debug, Clone)]
pub struct Forms {
    pub raw: Arc<Snapshot>,
    pub redacted: Arc<Snapshot>,
}

impl Forms {
    #[must_use]
    pub fn of(redactor: &Redactor, raw: Arc<Snapshot>) -> Forms {
        let mut copy = Snapshot::clone(&raw);
        let counts = redact_snapshot(redactor, &mut copy);
        let redacted = if counts.total() == 0 { Arc::clone(&raw) } else { Arc::new(copy) };
        Forms { raw, redacted }
    }
}

/// `(redacted, raw)` forms of a live event (the same `Arc` when nothing was redacted).
#[must_use]
pub fn event_forms(redactor: &Redactor, event: Arc<Event>) -> (Arc<Event>, Arc<Event>) {
    let mut copy = Event::clone(&event);
    let mut counts = RedactionCounts::default();
    redact_event(redactor, &mut copy, &mut counts);
    if counts.total() == 0 { (Arc::clone(&event), event) } else { (Arc::new(copy), event) }
}

impl App {
    /// A (re)played case state arrived: show it and re-check its verify conditions.
    pub fn set_case(&mut self, state: CaseState) {
        let verify = match &self.playbook_doc {
            Some(doc) => state.verify_all(doc, Some(&self.snapshot), self.snapshot.as_of),
            None => Vec::new(),
        };
        self.case = Some(CaseView { state, verify });
        self.dirty = true;
    }

    /// Re-check verify conditions (after a new snapshot).
    pub(crate) fn reverify(&mut self) {
        if let Some(view) = self.case.take() {
            self.set_case(view.state);
        }
    }

    /// Swap between the redacted and the as-logged form of everything on screen.
    pub(crate) fn toggle_reveal(&mut self) {
        self.reveal = !self.reveal;
        self.snapshot = if self.reveal {
            Arc::clone(&self.forms.raw)
        } else {
            Arc::clone(&self.forms.redacted)
        };
        self.feed.swap_forms();
        self.reorder_actors();
        self.reverify();
        self.message = Some(if self.reveal {
            "secrets REVEALED on screen (R hides them again); reports stay redacted".to_owned()
        } else {
            "secrets redacted on screen".to_owned()
        });
    }

    /// A journaling action (step keys, export) needs an operator: ask for one first, then
    /// run `action` again once it is known. Returns `true` when the prompt was opened.
    pub(crate) fn need_operator(&mut self, action: Action) -> bool {
        if self.operator.is_some() {
            return false;
        }
        self.pending = Some(action);
        self.prompt = Some(Prompt { kind: PromptKind::Operator, text: String::new() });
        true
    }

    /// Copy the selected step's first example command (placeholders and all: it is an
    /// example to adapt, so it goes to the clipboard, never to a shell).
    pub(crate) fn copy_command(&mut self) -> Option<Effect> {
        let step = self.playbook_doc.as_ref()?.steps.get(self.playbook.selected)?;
        if let Some(c) = step.commands.first() {
            return Some(Effect::Copy(c.command.clone()));
        }
        self.message = Some("this step has no example command".to_owned());
        None
    }

    pub(crate) fn submit_prompt(&mut self) -> Option<Effect> {
        let prompt = self.prompt.take()?;
        let step = self.playbook.selected;
        match prompt.kind {
            PromptKind::Filter => {
                self.feed.set_filter(Filter::parse(&prompt.text));
                None
            }
            PromptKind::SkipReason if prompt.text.trim().is_empty() => {
                self.message = Some("a skipped step needs a reason; not skipped".to_owned());
                None
            }
            PromptKind::SkipReason => Some(Effect::Playbook(PlaybookRequest::Skip {
                step,
                reason: prompt.text.trim().to_owned(),
            })),
            PromptKind::Operator => {
                let name = prompt.text.trim();
                if name.is_empty() || name.chars().any(char::is_control) {
                    self.pending = None;
                    self.message = Some("no operator given; nothing recorded".to_owned());
                    return None;
                }
                self.operator = Some(name.to_owned());
                self.pending.take().and_then(|a| self.update(a))
            }
            PromptKind::Note if prompt.text.trim().is_empty() => None,
            PromptKind::Note => Some(Effect::Playbook(PlaybookRequest::Note {
                step,
                text: prompt.text.trim().to_owned(),
            })),
        }
    }
}
