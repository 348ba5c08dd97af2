//! Integration tests for issue 7: playbooks (loading, validation, verify conditions), the case
//! journal (hash chain, tampering, torn tails, concurrent appends, kill -9) and the `playbook`
//! / `case` commands end to end.

#[path = "case/cli.rs"]
mod cli;
#[path = "case/journal.rs"]
mod journal;
#[path = "case/playbooks.rs"]
mod playbooks;
#[path = "case/processes.rs"]
mod processes;
#[path = "case/verify.rs"]
mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use leakline::case::Clock;

/// The crate root (fixtures, shipped playbooks).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(rel: &str) -> PathBuf {
    root().join("tests/fixtures/playbooks").join(rel)
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("test time").with_timezone(&Utc)
}

/// A clock that starts at 2026-05-01T10:00:00Z and advances one second per reading.
fn stepping_clock() -> Clock {
    let next = Arc::new(AtomicI64::new(0));
    Arc::new(move || {
        let n = next.fetch_add(1, Ordering::SeqCst);
        Utc.with_ymd_and_hms(2026, 5, 1, 10, 0, 0).single().expect("valid")
            + chrono::Duration::seconds(n)
    })
}

/// The leakline binary built for these tests.
fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_leakline"))
}
