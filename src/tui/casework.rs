//! The case side of the dashboard's state: the replayed [`CaseState`], verify results against
//! the shown snapshot, the operator, the text prompts (skip reason, note, operator) that turn
//! into playbook effects, and the on-screen redaction of attacker text.
//!
//! Still pure: the event loop hands in a replayed state (via [`super::case_link::CaseLink`]),
//! `App` only stores it and recomputes verify results, which read nothing but the snapshot.

use std::sync::Arc;

use crate::case::CaseState;
use crate::model::{Event, Snapshot};
use crate::playbook::{VerifyOutcome, VerifyResult};
use crate::redact::{RedactionCounts, Redactor, redact_event, redact_snapshot};

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
        self.prompt = Some(Prompt::input(PromptKind::Operator, self.playbook.selected));
        true
    }

    /// Copy every example command of the selected step, one per line (placeholders and all:
    /// they are examples to adapt, so they go to the clipboard, never to a shell).
    pub(crate) fn copy_command(&mut self) -> Option<Effect> {
        let step = self.playbook_doc.as_ref()?.steps.get(self.playbook.selected)?;
        if step.commands.is_empty() {
            self.message = Some("this step has no example command".to_owned());
            return None;
        }
        let all: Vec<&str> = step.commands.iter().map(|c| c.command.as_str()).collect();
        Some(Effect::Copy(all.join("\n")))
    }

    /// "step 3 block-ingress" for the step at `index`.
    fn step_name(&self, index: usize) -> String {
        let id = self
            .playbook_doc
            .as_ref()
            .and_then(|d| d.steps.get(index))
            .map_or("?", |s| s.id.as_str());
        format!("step {} {id}", index + 1)
    }

    /// What `request` will write to the journal, in words (shown before Enter confirms it).
    #[must_use]
    pub fn describe(&self, request: &PlaybookRequest) -> String {
        match request {
            PlaybookRequest::Start(i) => format!("record: {} started", self.step_name(*i)),
            PlaybookRequest::Done(i) => format!("record: {} done", self.step_name(*i)),
            PlaybookRequest::DoneUnverified { step, check } => format!(
                "record: {} done (unverified: the check says {check})",
                self.step_name(*step)
            ),
            PlaybookRequest::Skip { step, reason } => {
                format!("record: {} skipped, reason: {reason}", self.step_name(*step))
            }
            PlaybookRequest::Block { step, reason } => {
                format!("record: {} blocked: {reason}", self.step_name(*step))
            }
            PlaybookRequest::Reopen(i) => format!("record: {} reopened", self.step_name(*i)),
            PlaybookRequest::Undo => "record: undo".to_owned(),
            PlaybookRequest::Note { step, text } => {
                format!("record note on {}: {text}", self.step_name(*step))
            }
        }
    }

    /// Open the confirmation of `request`: nothing is written until Enter.
    pub(crate) fn confirm(&mut self, request: PlaybookRequest) {
        self.confirm_with(request, None);
    }

    fn confirm_with(&mut self, request: PlaybookRequest, text: Option<String>) {
        let text = text.unwrap_or_else(|| self.describe(&request));
        self.prompt = Some(Prompt {
            kind: PromptKind::Confirm,
            text,
            step: self.playbook.selected,
            request: Some(request),
        });
    }

    /// Confirm "done"; when the step's check does not say verified, say so and record it.
    pub(crate) fn confirm_done(&mut self) {
        let step = self.playbook.selected;
        let id = self.playbook_doc.as_ref().and_then(|d| d.steps.get(step)).map(|s| s.id.clone());
        let check = id
            .and_then(|id| self.case.as_ref().and_then(|c| c.verify_of(&id).cloned()))
            .filter(|r| r.outcome != VerifyOutcome::Verified);
        match check {
            Some(r) => self.confirm(PlaybookRequest::DoneUnverified {
                step,
                check: format!("{}: {}", r.outcome.as_str().replace('_', " "), r.summary),
            }),
            None => self.confirm(PlaybookRequest::Done(step)),
        }
    }

    /// Confirm an undo of the operator's own last step action, naming it; or say why there
    /// is nothing to undo.
    pub(crate) fn confirm_undo(&mut self) {
        let (Some(case), Some(op)) = (self.case.as_ref(), self.operator.as_deref()) else {
            return;
        };
        match case.state.undo_target(op) {
            Ok((seq, id, action)) => {
                let text = format!(
                    "undo your record #{seq} ({action} of step {id}): record step {id} reopened"
                );
                self.confirm_with(PlaybookRequest::Undo, Some(text));
            }
            Err(why) => self.message = Some(format!("nothing to undo: {why}")),
        }
    }

    pub(crate) fn submit_prompt(&mut self) -> Option<Effect> {
        let prompt = self.prompt.take()?;
        let step = prompt.step;
        let text = prompt.text.trim().to_owned();
        let needs_text = matches!(
            prompt.kind,
            PromptKind::SkipReason | PromptKind::BlockReason | PromptKind::Note
        );
        if needs_text && text.is_empty() {
            // An empty reason keeps the prompt open: nothing typed next can leak out of it.
            self.message = Some(
                match prompt.kind {
                    PromptKind::SkipReason => "a skipped step needs a reason (Esc cancels)",
                    PromptKind::BlockReason => "say what the step is blocked on (Esc cancels)",
                    _ => "the note is empty (Esc cancels)",
                }
                .to_owned(),
            );
            self.prompt = Some(prompt);
            return None;
        }
        match prompt.kind {
            PromptKind::Filter => {
                let filter = Filter::parse(&prompt.text);
                if let Some(e) = filter.error() {
                    // A bad term keeps the prompt open with the reason beside it.
                    self.message = Some(e.to_owned());
                    self.prompt = Some(prompt);
                } else {
                    self.feed.set_filter(filter);
                }
                None
            }
            PromptKind::SkipReason => {
                self.confirm(PlaybookRequest::Skip { step, reason: text });
                None
            }
            PromptKind::BlockReason => {
                self.confirm(PlaybookRequest::Block { step, reason: text });
                None
            }
            PromptKind::Note => {
                self.confirm(PlaybookRequest::Note { step, text });
                None
            }
            PromptKind::Confirm => prompt.request.map(Effect::Playbook),
            PromptKind::Operator => {
                if text.is_empty() || text.chars().any(char::is_control) {
                    self.pending = None;
                    self.message = Some("no operator given; nothing recorded".to_owned());
                    return None;
                }
                self.operator = Some(text);
                self.pending.take().and_then(|a| self.update(a))
            }
        }
    }
}
