//! The step state machine and SLA arithmetic shared by the case journal, the CLI and the TUI.
//!
//! States: `pending → in_progress → done`, with `skipped` and `blocked` on the side and
//! `reopen` to go back. Dependencies (`requires`) are advisory: at 3 AM a responder may have
//! to block ingress before the confirmation step is formally done, so unmet requirements are
//! warned about by callers, never refused here.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    #[default]
    Pending,
    InProgress,
    Done,
    Skipped,
    Blocked,
}

impl StepState {
    /// Every state, in the order of the state machine.
    pub const ALL: [StepState; 5] = [
        StepState::Pending,
        StepState::InProgress,
        StepState::Done,
        StepState::Skipped,
        StepState::Blocked,
    ];

    /// The name in the journal and the JSON outputs (the serde name).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::InProgress => "in_progress",
            StepState::Done => "done",
            StepState::Skipped => "skipped",
            StepState::Blocked => "blocked",
        }
    }

    /// Done or skipped: nothing more is expected of the step, and it satisfies `requires`.
    #[must_use]
    pub fn is_closed(self) -> bool {
        matches!(self, StepState::Done | StepState::Skipped)
    }
}

impl fmt::Display for StepState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StepState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StepState::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let names = StepState::ALL.map(StepState::as_str).join(", ");
            format!("unknown step state \"{s}\" (expected one of: {names})")
        })
    }
}

/// What a responder does to a step. Recorded in the journal by its snake-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepAction {
    Start,
    Done,
    /// Needs a reason (the note).
    Skip,
    Block,
    Reopen,
}

impl StepAction {
    /// Every action.
    pub const ALL: [StepAction; 5] = [
        StepAction::Start,
        StepAction::Done,
        StepAction::Skip,
        StepAction::Block,
        StepAction::Reopen,
    ];

    /// The name on the command line, in the journal and the JSON outputs (the serde name).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            StepAction::Start => "start",
            StepAction::Done => "done",
            StepAction::Skip => "skip",
            StepAction::Block => "block",
            StepAction::Reopen => "reopen",
        }
    }

    /// The state the action leads to, or why it is not allowed from `from`.
    ///
    /// - `start`: from pending or blocked;
    /// - `done`: from pending, in progress or blocked (doing a step without "starting" it
    ///   first is normal);
    /// - `skip`: from pending, in progress or blocked, with a non-empty reason;
    /// - `block`: from pending or in progress;
    /// - `reopen`: from in progress, done, skipped or blocked, back to pending (also how an
    ///   action is undone: the journal is append-only).
    pub fn apply(self, from: StepState, note: Option<&str>) -> Result<StepState, TransitionError> {
        use StepState as S;
        let to = match (self, from) {
            (StepAction::Start, S::Pending | S::Blocked) => S::InProgress,
            (StepAction::Done, S::Pending | S::InProgress | S::Blocked) => S::Done,
            (StepAction::Skip, S::Pending | S::InProgress | S::Blocked) => {
                if note.is_none_or(|n| n.trim().is_empty()) {
                    return Err(TransitionError::ReasonRequired);
                }
                S::Skipped
            }
            (StepAction::Block, S::Pending | S::InProgress) => S::Blocked,
            (StepAction::Reopen, S::InProgress | S::Done | S::Skipped | S::Blocked) => S::Pending,
            (action, from) => return Err(TransitionError::NotAllowed { action, from }),
        };
        Ok(to)
    }
}

impl fmt::Display for StepAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StepAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StepAction::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| {
            let names = StepAction::ALL.map(StepAction::as_str);
            let (last, rest) = names.split_last().unwrap_or((&"", &[]));
            format!("unknown step action \"{s}\" (expected {} or {last})", rest.join(", "))
        })
    }
}

/// Why a step action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("cannot {action} a step that is {from}{}", hint(*action, *from))]
    NotAllowed { action: StepAction, from: StepState },
    #[error("skipping a step needs a reason (give it as the note)")]
    ReasonRequired,
}

fn hint(action: StepAction, from: StepState) -> &'static str {
    match (action, from) {
        (_, StepState::Done | StepState::Skipped) => " (reopen it first)",
        (StepAction::Reopen, StepState::Pending) => " (it is still open)",
        _ => "",
    }
}

/// How a step stands against its time budget at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SlaStatus {
    /// The step has no SLA.
    None,
    /// Open, deadline more than the warning margin away. `secs_left` > 0.
    OnTrack { deadline: DateTime<Utc>, secs_left: i64 },
    /// Open, inside the warning margin (display amber).
    Near { deadline: DateTime<Utc>, secs_left: i64 },
    /// Open and past the deadline (display red). `secs_over` ≥ 0.
    Overdue { deadline: DateTime<Utc>, secs_over: i64 },
    /// Closed (done/skipped) by the deadline.
    Met { deadline: DateTime<Utc> },
    /// Closed after the deadline.
    Missed { deadline: DateTime<Utc>, secs_late: i64 },
    /// The step was skipped: its SLA was neither met nor missed.
    Skipped,
}

/// The SLA status of a step.
///
/// The deadline is `case_opened + sla_minutes`. The warning margin is a quarter of the budget,
/// capped at 15 minutes (a 10-minute step turns amber 2.5 minutes before its deadline, a 4-hour
/// step 15 minutes before). `closed_at` is when the step was last done/skipped, if it is closed.
#[must_use]
pub fn sla_status(
    case_opened: DateTime<Utc>,
    sla_minutes: Option<u32>,
    closed_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> SlaStatus {
    let Some(minutes) = sla_minutes else {
        return SlaStatus::None;
    };
    let budget = Duration::minutes(i64::from(minutes));
    let Some(deadline) = case_opened.checked_add_signed(budget) else {
        return SlaStatus::None; // beyond the representable calendar: no meaningful deadline
    };
    if let Some(closed) = closed_at {
        return if closed <= deadline {
            SlaStatus::Met { deadline }
        } else {
            SlaStatus::Missed { deadline, secs_late: (closed - deadline).num_seconds() }
        };
    }
    let margin = (budget / 4).min(Duration::minutes(15));
    let left = deadline - now;
    if left <= Duration::zero() {
        SlaStatus::Overdue { deadline, secs_over: -left.num_seconds() }
    } else if left <= margin {
        SlaStatus::Near { deadline, secs_left: left.num_seconds() }
    } else {
        SlaStatus::OnTrack { deadline, secs_left: left.num_seconds() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every state and action: named as serde names it (journal and JSON), parsed back.
    #[test]
    fn every_state_and_action_round_trips() {
        let state_index = |s: StepState| match s {
            StepState::Pending => 0,
            StepState::InProgress => 1,
            StepState::Done => 2,
            StepState::Skipped => 3,
            StepState::Blocked => 4,
        };
        let action_index = |a: StepAction| match a {
            StepAction::Start => 0,
            StepAction::Done => 1,
            StepAction::Skip => 2,
            StepAction::Block => 3,
            StepAction::Reopen => 4,
        };
        assert_eq!(StepState::ALL.map(state_index), [0, 1, 2, 3, 4]);
        assert_eq!(StepAction::ALL.map(action_index), [0, 1, 2, 3, 4]);
        for state in StepState::ALL {
            let json = serde_json::to_string(&state).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(serde_json::from_str::<StepState>(&json).ok(), Some(state));
            assert_eq!(state.as_str().parse::<StepState>(), Ok(state));
        }
        for action in StepAction::ALL {
            let json = serde_json::to_string(&action).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", action.as_str()));
            assert_eq!(action.as_str().parse::<StepAction>(), Ok(action));
        }
        assert_eq!(
            "finish".parse::<StepAction>(),
            Err("unknown step action \"finish\" (expected start, done, skip, block or reopen)"
                .to_owned())
        );
        assert!("open".parse::<StepState>().is_err());
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn transitions() {
        use StepAction as A;
        use StepState as S;
        assert_eq!(A::Start.apply(S::Pending, None), Ok(S::InProgress));
        assert_eq!(A::Done.apply(S::Pending, None), Ok(S::Done));
        assert_eq!(A::Skip.apply(S::InProgress, Some("n/a: no keys")), Ok(S::Skipped));
        assert_eq!(A::Skip.apply(S::InProgress, Some("  ")), Err(TransitionError::ReasonRequired));
        assert_eq!(A::Skip.apply(S::InProgress, None), Err(TransitionError::ReasonRequired));
        assert_eq!(A::Block.apply(S::InProgress, None), Ok(S::Blocked));
        assert_eq!(A::Start.apply(S::Blocked, None), Ok(S::InProgress));
        assert_eq!(A::Reopen.apply(S::Done, None), Ok(S::Pending));
        let err = A::Done.apply(S::Done, None).unwrap_err();
        assert_eq!(err.to_string(), "cannot done a step that is done (reopen it first)");
        assert!(A::Reopen.apply(S::Pending, None).is_err());
        assert!(A::Start.apply(S::InProgress, None).is_err());
        assert_eq!(A::Reopen.apply(S::InProgress, None), Ok(S::Pending));
    }

    #[test]
    fn sla_margins() {
        let opened = t("2026-01-01T00:00:00Z");
        // 10-minute budget: margin 2m30s.
        let s = sla_status(opened, Some(10), None, t("2026-01-01T00:07:00Z"));
        assert!(matches!(s, SlaStatus::OnTrack { secs_left: 180, .. }), "{s:?}");
        let s = sla_status(opened, Some(10), None, t("2026-01-01T00:08:00Z"));
        assert!(matches!(s, SlaStatus::Near { secs_left: 120, .. }), "{s:?}");
        let s = sla_status(opened, Some(10), None, t("2026-01-01T00:10:00Z"));
        assert!(matches!(s, SlaStatus::Overdue { secs_over: 0, .. }), "{s:?}");
        // 4-hour budget: margin capped at 15 minutes.
        let s = sla_status(opened, Some(240), None, t("2026-01-01T03:44:00Z"));
        assert!(matches!(s, SlaStatus::OnTrack { .. }), "{s:?}");
        let s = sla_status(opened, Some(240), None, t("2026-01-01T03:46:00Z"));
        assert!(matches!(s, SlaStatus::Near { .. }), "{s:?}");
        let closed = Some(t("2026-01-01T00:11:00Z"));
        let s = sla_status(opened, Some(10), closed, t("2026-01-02T00:00:00Z"));
        assert!(matches!(s, SlaStatus::Missed { secs_late: 60, .. }), "{s:?}");
        assert_eq!(sla_status(opened, None, None, opened), SlaStatus::None);
    }
}
