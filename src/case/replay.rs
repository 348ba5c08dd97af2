//! Rebuilding a [`CaseState`] from verified journal entries.
//!
//! Replay is total: it never fails on a verified journal. Appends are validated against the
//! state under the journal lock, so a refused transition can only appear in a journal written
//! by another tool or version; replay applies the recorded target state anyway (the journal is
//! the truth of what was done) and lists a warning.

use super::journal::{Action, Entry, JournalContents};
use super::state::{
    CaseState, Closure, NoteEntry, SourceEntry, StepEvent, StepStatus, TimelineEntry,
};
use crate::playbook::{Playbook, StepAction, StepState};

impl CaseState {
    /// Replay `contents` over the steps of `playbook`.
    #[must_use]
    pub fn replay(playbook: &Playbook, contents: &JournalContents) -> CaseState {
        let mut state = CaseState {
            name: String::new(),
            playbook_id: playbook.id.clone(),
            config: String::new(),
            opened_at: None,
            opened_by: None,
            steps: playbook
                .steps
                .iter()
                .map(|s| StepStatus {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    role: s.role.clone(),
                    sla_minutes: s.sla_minutes,
                    requires: s.requires.clone(),
                    state: StepState::Pending,
                    at: None,
                    by: None,
                    note: None,
                    started_at: None,
                    closed_at: None,
                    history: Vec::new(),
                })
                .collect(),
            notes: Vec::new(),
            sources: Vec::new(),
            timeline: Vec::with_capacity(contents.entries.len()),
            records: contents.entries.len() as u64,
            head: contents.head.clone(),
            torn_tail: contents.torn.clone(),
            closed: None,
            reopened: None,
            warnings: Vec::new(),
        };
        for entry in &contents.entries {
            state.apply(entry);
        }
        state
    }

    /// Apply one verified entry (also used by live sessions after their own appends).
    pub fn apply(&mut self, entry: &Entry) {
        let Some(action) = &entry.action else {
            self.warnings.push(format!(
                "journal line {}: record kind \"{}\" not understood by this version; ignored",
                entry.line, entry.kind
            ));
            self.push_timeline(entry, format!("{} (not understood)", entry.kind));
            return;
        };
        let text = match action {
            Action::CaseOpened { name, playbook, config, .. } => {
                self.name.clone_from(name);
                self.config.clone_from(config);
                self.opened_at.get_or_insert(entry.at);
                self.opened_by.get_or_insert_with(|| entry.operator.clone());
                if playbook != &self.playbook_id {
                    self.warnings.push(format!(
                        "case was opened with playbook \"{playbook}\" but playbook.toml is \"{}\"",
                        self.playbook_id
                    ));
                }
                format!("case opened: {name} (playbook {playbook})")
            }
            Action::SourceAdded { path, sha256, bytes, .. } => {
                self.sources.push(SourceEntry {
                    seq: entry.seq,
                    at: entry.at,
                    by: entry.operator.clone(),
                    path: path.clone(),
                    sha256: sha256.clone(),
                    bytes: *bytes,
                });
                format!("source added: {path} ({bytes} bytes, sha256 {sha256})")
            }
            Action::Step { step, action, note, unverified } => {
                self.apply_step(entry, step, *action, note.as_deref(), unverified.as_deref())
            }
            Action::CaseClosed { resolution } => {
                self.closed = Some(Closure {
                    seq: entry.seq,
                    at: entry.at,
                    by: entry.operator.clone(),
                    text: resolution.clone(),
                });
                format!("case closed: {resolution}")
            }
            Action::CaseReopened { reason } => {
                self.closed = None;
                self.reopened = Some(Closure {
                    seq: entry.seq,
                    at: entry.at,
                    by: entry.operator.clone(),
                    text: reason.clone(),
                });
                format!("case reopened: {reason}")
            }
            Action::Note { text } => {
                self.notes.push(NoteEntry {
                    seq: entry.seq,
                    at: entry.at,
                    by: entry.operator.clone(),
                    text: text.clone(),
                });
                format!("note: {text}")
            }
            Action::WindowAnnotated { service, window_opened, text } => {
                format!("window {service} @ {window_opened}: {text}")
            }
            Action::ReportExported { path, format, sha256 } => {
                format!("report exported: {path} ({format}, sha256 {sha256})")
            }
            Action::Gap { source, from, to, reason } => {
                let to = to.as_deref().unwrap_or("…");
                format!("gap in {source} from {from} to {to}: {reason}")
            }
            Action::JournalRepaired { torn_bytes, .. } => {
                format!(
                    "journal repaired: cut {torn_bytes} bytes of an unfinished record (kept in this record)"
                )
            }
        };
        self.records = self.records.max(entry.seq);
        self.head.clone_from(&entry.hash);
        self.push_timeline(entry, text);
    }

    fn push_timeline(&mut self, entry: &Entry, text: String) {
        self.timeline.push(TimelineEntry {
            seq: entry.seq,
            at: entry.at,
            by: entry.operator.clone(),
            kind: entry.kind.clone(),
            text,
            hash: entry.hash.clone(),
        });
    }

    fn apply_step(
        &mut self,
        entry: &Entry,
        id: &str,
        action: StepAction,
        note: Option<&str>,
        unverified: Option<&str>,
    ) -> String {
        let what = if unverified.is_some() {
            format!("{action} (unverified)")
        } else {
            action.to_string()
        };
        let described = match note {
            Some(n) => format!("step {id}: {what} — {n}"),
            None => format!("step {id}: {what}"),
        };
        let Some(step) = self.steps.iter_mut().find(|s| s.id == id) else {
            self.warnings.push(format!(
                "journal line {}: step \"{id}\" is not in the playbook; ignored",
                entry.line
            ));
            return described;
        };
        let to = match action.apply(step.state, note) {
            Ok(to) => to,
            Err(e) => {
                let forced = match action {
                    StepAction::Start => StepState::InProgress,
                    StepAction::Done => StepState::Done,
                    StepAction::Skip => StepState::Skipped,
                    StepAction::Block => StepState::Blocked,
                    StepAction::Reopen => StepState::Pending,
                };
                self.warnings.push(format!(
                    "journal line {}: step \"{id}\": {e}; recorded state {forced} kept",
                    entry.line
                ));
                forced
            }
        };
        match to {
            StepState::Pending => {
                step.started_at = None;
                step.closed_at = None;
            }
            StepState::InProgress => {
                step.started_at = Some(entry.at);
                step.closed_at = None;
            }
            StepState::Blocked => {
                step.started_at.get_or_insert(entry.at);
                step.closed_at = None;
            }
            StepState::Done | StepState::Skipped => {
                step.started_at.get_or_insert(entry.at);
                step.closed_at = Some(entry.at);
            }
        }
        step.state = to;
        step.at = Some(entry.at);
        step.by = Some(entry.operator.clone());
        step.note = note.map(str::to_owned);
        step.history.push(StepEvent {
            seq: entry.seq,
            at: entry.at,
            by: entry.operator.clone(),
            action,
            note: note.map(str::to_owned),
            unverified: unverified.map(str::to_owned),
        });
        described
    }
}
