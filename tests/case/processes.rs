//! Several writers at once (processes and threads), and a writer killed with SIGKILL.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use leakline::case::{Action, Case, Journal, system_clock};

use crate::bin;
use crate::journal::sample_case;

/// Notes in journal order (a torn tail is tolerated: it was never acknowledged).
fn notes(case: &Case) -> Vec<String> {
    let report = case.verify_integrity().expect("journal intact");
    report
        .contents
        .entries
        .iter()
        .filter_map(|e| match &e.action {
            Some(Action::Note { text }) => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn many_processes_append_at_once_without_corruption() {
    const WRITERS: usize = 16;
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let children: Vec<_> = (0..WRITERS)
        .map(|i| {
            Command::new(bin())
                .args(["case", "note"])
                .arg(&case.dir)
                .arg(format!("note from process {i}"))
                .args(["--operator", &format!("p{i}")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let got = notes(&case);
    assert!(case.verify_integrity().unwrap().contents.torn.is_none());
    assert_eq!(got.len(), 2 + WRITERS);
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "no duplicates");
    for i in 0..WRITERS {
        assert!(got.contains(&format!("note from process {i}")));
    }
}

#[test]
fn many_threads_with_their_own_handles_append_at_once() {
    const THREADS: usize = 8;
    const EACH: usize = 25;
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let path = case.dir.join("journal.jsonl");
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let path = path.clone();
            s.spawn(move || {
                let journal = Journal::new(path, system_clock());
                for i in 0..EACH {
                    journal
                        .append(&format!("t{t}"), &Action::Note { text: format!("{t}-{i}") })
                        .unwrap();
                }
            });
        }
    });
    let got = notes(&case);
    assert_eq!(got.len(), 2 + THREADS * EACH);
    // Each thread's notes appear in its own order.
    for t in 0..THREADS {
        let mine: Vec<&String> = got.iter().filter(|n| n.starts_with(&format!("{t}-"))).collect();
        let expected: Vec<String> = (0..EACH).map(|i| format!("{t}-{i}")).collect();
        assert_eq!(mine, expected.iter().collect::<Vec<_>>());
    }
}

#[test]
fn concurrent_identical_transitions_are_accepted_once() {
    const WRITERS: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let children: Vec<_> = (0..WRITERS)
        .map(|i| {
            Command::new(bin())
                .args(["case", "step"])
                .arg(&case.dir)
                .args(["block-ingress", "done", "--operator", &format!("r{i}")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ok = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            ok += 1;
        } else {
            assert_eq!(out.status.code(), Some(2));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("cannot done a step that is done"), "{err}");
        }
    }
    assert_eq!(ok, 1, "exactly one responder marks the step done");
    let state = case.state().unwrap();
    assert_eq!(state.step("block-ingress").unwrap().history.len(), 1);
    assert!(state.warnings.is_empty(), "{:?}", state.warnings);
}

const CHILD_ENV: &str = "LEAKLINE_TEST_APPENDER_CASE";

/// Runs only as the child of `kill_9_loses_no_acknowledged_record`: appends notes forever and
/// prints `ack SEQ` after each append returned (i.e. after its fsync).
#[test]
#[ignore = "helper process for kill_9_loses_no_acknowledged_record"]
fn child_appender() {
    let dir = std::env::var(CHILD_ENV).expect("run by kill_9_loses_no_acknowledged_record");
    let case = Case::open(Path::new(&dir), system_clock()).unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0.. {
        let entry = case.note("child", &format!("loop {i}")).unwrap();
        writeln!(out, "ack {}", entry.seq).unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn kill_9_loses_no_acknowledged_record() {
    const WANT: u64 = 40;
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "processes::child_appender",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &case.dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(seq) = line.strip_prefix("ack ").and_then(|n| n.parse::<u64>().ok()) {
                if tx.send(seq).is_err() {
                    break;
                }
            }
        }
    });
    let mut last_ack = 0;
    while last_ack < 5 + WANT {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(seq) => last_ack = seq,
            Err(e) => {
                let _ = child.kill();
                panic!("child stopped acknowledging after seq {last_ack}: {e}");
            }
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();

    let report = case.verify_integrity().expect("journal still verifies after kill -9");
    let entries = &report.contents.entries;
    assert!(entries.len() as u64 >= last_ack, "{} records, last ack {last_ack}", entries.len());
    let loops: Vec<String> = notes(&case).into_iter().filter(|n| n.starts_with("loop ")).collect();
    let expected: Vec<String> = (0..loops.len()).map(|i| format!("loop {i}")).collect();
    assert_eq!(loops, expected, "complete and in order");
    assert!(loops.len() as u64 >= WANT);
    // Life goes on: the next append chains onto the last complete record.
    let next = case.note("ana", "after the kill").unwrap();
    assert_eq!(next.seq, entries.len() as u64 + 1);
    assert!(case.verify_integrity().unwrap().contents.torn.is_none());
}
