//! The journal chain: deterministic records, tamper detection, torn tails and repair.

use std::fs;
use std::path::{Path, PathBuf};

use leakline::case::canonical::record_hash;
use leakline::case::{
    Action, Case, CaseError, ChainProblem, InitOptions, JournalError, StepRequest,
};
use leakline::playbook::{Library, StepAction, StepState};
use serde_json::Value;

use crate::{stepping_clock, t};

/// A case with: `case_opened`, step start, note "first", note "second", step done.
pub(crate) fn sample_case(dir: &Path) -> Case {
    let config = dir.join("leakline.toml");
    fs::write(&config, "name = \"test\"\n").unwrap();
    let lib = Library::builtin().unwrap();
    let options = InitOptions { name: Some("Exposed API".into()), config, operator: "ana".into() };
    let case = Case::init(
        &dir.join("case"),
        &options,
        lib.get("exposed-api-endpoint").unwrap(),
        stepping_clock(),
    )
    .unwrap();
    let start = StepRequest { step: "confirm-exposure", action: StepAction::Start, note: None };
    case.step("ana", start).unwrap();
    case.note("bob", "first").unwrap();
    case.note("bob", "second").unwrap();
    let done = StepRequest {
        step: "confirm-exposure",
        action: StepAction::Done,
        note: Some("curl from outside: 200"),
    };
    case.step("ana", done).unwrap();
    case
}

fn journal_path(case: &Case) -> PathBuf {
    case.dir.join("journal.jsonl")
}

fn lines(case: &Case) -> Vec<String> {
    fs::read_to_string(journal_path(case)).unwrap().lines().map(str::to_owned).collect()
}

fn write_lines(case: &Case, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write(journal_path(case), text).unwrap();
}

fn broken(err: CaseError) -> (usize, Option<u64>, ChainProblem) {
    match err {
        CaseError::Journal(JournalError::Broken { line, seq, problem, .. }) => (line, seq, problem),
        other => panic!("expected a broken chain, got {other}"),
    }
}

/// Free text that quotes evidence never writes a secret into the journal (notes, skip
/// reasons): the stable report marker goes in instead.
#[test]
fn secrets_in_free_text_are_redacted_before_they_reach_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let secret = "sk-proj0123456789abcdefghijKLMNOP";
    case.note("ana", &format!("saw GET /v1/models?api_key={secret} from 198.51.100.7")).unwrap();
    let text = std::fs::read_to_string(journal_path(&case)).unwrap();
    assert!(!text.contains(secret), "{text}");
    assert!(text.contains("REDACTED"), "{text}");
    assert!(text.contains("198.51.100.7"), "the evidence around the secret is kept: {text}");
    case.verify_integrity().unwrap();
}

#[test]
fn records_are_canonical_chained_and_use_the_injected_clock() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let report = case.verify_integrity().unwrap();
    let entries = &report.contents.entries;
    assert_eq!(entries.len(), 5);
    // `created` took 10:00:00, then one reading per record.
    assert_eq!(case.meta.created, "2026-05-01T10:00:00.000Z");
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
        assert_eq!(e.line, i + 1);
        assert_eq!(e.at, t("2026-05-01T10:00:01Z") + chrono::Duration::seconds(i as i64));
    }
    assert_eq!(entries[0].prev, leakline::case::GENESIS);
    for pair in entries.windows(2) {
        assert_eq!(pair[1].prev, pair[0].hash);
    }
    assert_eq!(report.contents.head, entries[4].hash);
    let first = &lines(&case)[0];
    assert!(first.starts_with(r#"{"at":"2026-05-01T10:00:01.000Z","data":{"config":""#), "{first}");
    // The hash is SHA-256 over the canonical record without `hash`.
    let Value::Object(map) = serde_json::from_str::<Value>(first).unwrap() else { panic!() };
    assert_eq!(map["hash"].as_str().unwrap(), record_hash(&map));

    let state = case.state().unwrap();
    let step = state.step("confirm-exposure").unwrap();
    assert_eq!(step.state, StepState::Done);
    assert_eq!(step.started_at, Some(t("2026-05-01T10:00:02Z")));
    assert_eq!(step.closed_at, Some(t("2026-05-01T10:00:05Z")));
    assert_eq!(step.by.as_deref(), Some("ana"));
    assert_eq!(step.note.as_deref(), Some("curl from outside: 200"));
    assert_eq!(
        state.notes.iter().map(|n| n.text.as_str()).collect::<Vec<_>>(),
        ["first", "second"]
    );
    assert_eq!(state.records, 5);
    assert_eq!(state.timeline.len(), 5);
}

#[test]
fn an_edited_record_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let mut l = lines(&case);
    l[3] = l[3].replace("\"second\"", "\"SECOND\"");
    write_lines(&case, &l);
    let (line, seq, problem) = broken(case.verify_integrity().unwrap_err());
    assert_eq!((line, seq), (4, Some(4)));
    assert!(matches!(problem, ChainProblem::Edited { .. }), "{problem}");
}

#[test]
fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let mut l = lines(&case);
    let Value::Object(mut map) = serde_json::from_str::<Value>(&l[2]).unwrap() else { panic!() };
    map.insert("operator".into(), Value::from("mallory"));
    let hash = record_hash(&map);
    map.insert("hash".into(), Value::from(hash));
    l[2] = serde_json::to_string(&Value::Object(map)).unwrap();
    write_lines(&case, &l);
    let (line, seq, problem) = broken(case.verify_integrity().unwrap_err());
    assert_eq!((line, seq, problem), (4, Some(4), ChainProblem::BrokenLink));
}

#[test]
fn a_removed_record_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let mut l = lines(&case);
    l.remove(2);
    write_lines(&case, &l);
    let (line, seq, problem) = broken(case.verify_integrity().unwrap_err());
    assert_eq!((line, seq, problem), (3, Some(4), ChainProblem::Missing { expected: 3, found: 4 }));
}

#[test]
fn reordered_records_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let mut l = lines(&case);
    l.swap(2, 3);
    write_lines(&case, &l);
    let (line, seq, problem) = broken(case.verify_integrity().unwrap_err());
    assert_eq!(
        (line, seq, problem),
        (3, Some(4), ChainProblem::OutOfOrder { expected: 3, found: 4 })
    );
    // A duplicated record is out of order too.
    let mut l = lines(&case);
    l.swap(2, 3);
    let dup = l[1].clone();
    l.insert(2, dup);
    write_lines(&case, &l);
    let (line, seq, problem) = broken(case.verify_integrity().unwrap_err());
    assert_eq!(
        (line, seq, problem),
        (3, Some(2), ChainProblem::OutOfOrder { expected: 3, found: 2 })
    );
}

#[test]
fn garbage_in_the_middle_is_malformed_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let mut l = lines(&case);
    l.insert(1, "{not json".into());
    write_lines(&case, &l);
    let (line, seq, problem) = broken(case.verify_integrity().unwrap_err());
    assert_eq!((line, seq), (2, None));
    assert!(
        matches!(problem, ChainProblem::Malformed(ref m) if m.contains("invalid JSON")),
        "{problem}"
    );
}

#[test]
fn a_torn_tail_is_reported_ignored_and_repaired_by_the_next_append() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let path = journal_path(&case);
    let before = fs::read(&path).unwrap();
    let torn = br#"{"at":"2026-05-01T10:00:09.000Z","data":{"text":"half"#;
    fs::write(&path, [before.as_slice(), torn.as_slice()].concat()).unwrap();

    let report = case.verify_integrity().unwrap();
    assert_eq!(report.contents.entries.len(), 5, "records before the torn line are kept");
    let tail = report.contents.torn.clone().expect("torn tail reported");
    assert_eq!((tail.line, tail.offset, tail.bytes), (6, before.len() as u64, torn.len() as u64));
    assert_eq!(case.state().unwrap().torn_tail, Some(tail));

    let entry = case.note("ana", "after the crash").unwrap();
    assert_eq!(entry.seq, 7);
    let report = case.verify_integrity().unwrap();
    assert!(report.contents.torn.is_none());
    let entries = &report.contents.entries;
    assert_eq!(entries.len(), 7);
    let Some(Action::JournalRepaired { torn_bytes, torn_text }) = &entries[5].action else {
        panic!("{:?}", entries[5])
    };
    assert_eq!(*torn_bytes, torn.len() as u64);
    assert_eq!(torn_text.as_bytes(), torn);
    assert_eq!(entries[6].action, Some(Action::Note { text: "after the crash".into() }));
    // The good records are byte-for-byte untouched.
    assert!(fs::read(&path).unwrap().starts_with(&before));
}

#[test]
fn appending_after_a_damaged_last_record_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let mut l = lines(&case);
    l[4] = l[4].replace("curl from outside", "nothing to see");
    write_lines(&case, &l);
    let (line, seq, problem) = broken(case.note("ana", "x").unwrap_err());
    assert_eq!((line, seq), (5, Some(5)));
    assert!(matches!(problem, ChainProblem::Edited { .. }));
    assert_eq!(lines(&case).len(), 5, "nothing appended");
}

#[test]
fn step_rules_are_enforced_against_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let again = StepRequest { step: "confirm-exposure", action: StepAction::Done, note: None };
    let err = case.step("ana", again).unwrap_err().to_string();
    assert_eq!(err, "step \"confirm-exposure\": cannot done a step that is done (reopen it first)");
    let skip = StepRequest { step: "notify", action: StepAction::Skip, note: None };
    assert!(case.step("ana", skip).unwrap_err().to_string().contains("needs a reason"));
    let unknown = StepRequest { step: "nope", action: StepAction::Start, note: None };
    assert!(
        case.step("ana", unknown)
            .unwrap_err()
            .to_string()
            .starts_with("unknown step \"nope\" (steps: 1 confirm-exposure, 2 block-ingress")
    );
    let early = StepRequest { step: "root-cause", action: StepAction::Start, note: None };
    let outcome = case.step("ana", early).unwrap();
    assert_eq!(outcome.unmet_requirements, vec!["verify-from-outside".to_owned()]);
    assert!(case.note("ana", "  ").is_err());
    assert!(
        case.note("bad\u{1b}[2Joperator", "x")
            .unwrap_err()
            .to_string()
            .contains("control character")
    );
    // Nothing refused was written: 5 + the root-cause start.
    assert_eq!(lines(&case).len(), 6);
}

#[test]
fn every_record_kind_replays() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let evidence = dir.path().join("access.log");
    fs::write(&evidence, "abc").unwrap();
    let e = case.add_source("ana", &evidence).unwrap();
    let Some(Action::SourceAdded { sha256, bytes, .. }) = &e.action else { panic!() };
    assert_eq!(
        (sha256.as_str(), *bytes),
        ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 3)
    );
    case.annotate_window(
        "ana",
        "model-api",
        t("2026-05-01T09:00:00Z"),
        "first window: scanner only",
    )
    .unwrap();
    case.record_export("ana", &evidence, "markdown").unwrap();
    case.record_gap("ana", "/var/log/nginx/access.log", t("2026-05-01T09:10:00Z"), None, "rotated")
        .unwrap();
    let state = case.state().unwrap();
    assert_eq!(state.sources.len(), 1);
    let kinds: Vec<&str> = state.timeline.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds[5..], ["source_added", "window_annotated", "report_exported", "gap"]);
    assert!(state.timeline[6].text.contains("first window: scanner only"));
    assert!(state.warnings.is_empty(), "{:?}", state.warnings);
    case.verify_integrity().unwrap();
}

#[test]
fn editing_the_playbook_copy_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let path = case.dir.join("playbook.toml");
    let text = fs::read_to_string(&path).unwrap().replace("sla_minutes = 30", "sla_minutes = 300");
    fs::write(&path, text).unwrap();
    let reopened = Case::open(&case.dir, stepping_clock()).unwrap();
    let err = reopened.verify_integrity().unwrap_err();
    assert!(matches!(err, CaseError::PlaybookChanged { .. }), "{err}");
}

#[test]
fn replay_tolerates_records_the_checks_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    // Written straight to the journal, bypassing the step checks (another tool, older version).
    let journal = case.journal();
    let step = |step: &str, action| Action::Step {
        step: step.into(),
        action,
        note: None,
        unverified: None,
    };
    journal.append("eve", &step("confirm-exposure", StepAction::Done)).unwrap();
    journal.append("eve", &step("not-in-playbook", StepAction::Start)).unwrap();
    journal.append("eve", &step("notify", StepAction::Skip)).unwrap();
    let state = case.state().unwrap();
    assert_eq!(state.records, 8);
    assert_eq!(state.step("confirm-exposure").unwrap().state, StepState::Done);
    assert_eq!(state.step("notify").unwrap().state, StepState::Skipped);
    assert_eq!(state.warnings.len(), 3, "{:?}", state.warnings);
    assert!(
        state.warnings[0].starts_with("journal line 6: step \"confirm-exposure\": cannot done"),
        "{:?}",
        state.warnings
    );
    assert!(state.warnings[1].contains("\"not-in-playbook\" is not in the playbook"));
    assert!(state.warnings[2].contains("needs a reason"));
}

#[test]
fn a_step_action_after_a_torn_tail_repairs_it_too() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let path = journal_path(&case);
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{\"at\":");
    fs::write(&path, bytes).unwrap();
    let start = StepRequest { step: "block-ingress", action: StepAction::Start, note: None };
    let outcome = case.step("ana", start).unwrap();
    assert_eq!(outcome.entry.seq, 7);
    let state = case.state().unwrap();
    assert_eq!(state.timeline[5].kind, "journal_repaired");
    assert_eq!(state.step("block-ingress").unwrap().state, StepState::InProgress);
    assert!(state.torn_tail.is_none());
}

mod properties {
    use leakline::case::journal::parse;
    use leakline::case::{Action, Journal, JournalError};
    use proptest::prelude::*;

    use crate::stepping_clock;

    /// A journal of notes with arbitrary text (any Unicode, control characters included).
    fn journal_bytes(texts: &[String]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::new(dir.path().join("j.jsonl"), stepping_clock());
        journal.create("ana", &Action::Note { text: "opened".into() }).unwrap();
        for text in texts {
            journal.append("bob", &Action::Note { text: text.clone() }).unwrap();
        }
        std::fs::read(journal.path()).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Any text round-trips through the journal and the chain verifies.
        #[test]
        fn arbitrary_notes_round_trip(texts in proptest::collection::vec(any::<String>(), 0..6)) {
            let bytes = journal_bytes(&texts);
            let contents = parse(std::path::Path::new("j"), &bytes).unwrap();
            prop_assert!(contents.torn.is_none());
            let got: Vec<String> = contents.entries[1..]
                .iter()
                .map(|e| match &e.action {
                    Some(Action::Note { text }) => text.clone(),
                    other => panic!("{other:?}"),
                })
                .collect();
            prop_assert_eq!(got, texts);
        }

        /// Changing any single byte of a record (other than the final newline) is detected at
        /// the line holding that byte.
        #[test]
        fn any_single_byte_change_is_named(
            texts in proptest::collection::vec("[ -~é✔]{0,20}", 1..4),
            pick in any::<prop::sample::Index>(),
            mask in 1u8..=255,
        ) {
            let mut bytes = journal_bytes(&texts);
            let position = pick.index(bytes.len() - 1);
            let line = memchr::memchr_iter(b'\n', &bytes[..position]).count() + 1;
            bytes[position] ^= mask;
            match parse(std::path::Path::new("j"), &bytes) {
                Err(JournalError::Broken { line: bad, problem, .. }) => {
                    prop_assert_eq!(bad, line, "{}", problem);
                }
                other => prop_assert!(false, "byte {} of line {}: {:?}", position, line, other.map(|c| c.entries.len())),
            }
        }
    }
}

/// Issue 15: a last record with the largest sequence number (hash recomputed, so only the
/// tail is consistent) never makes the next append "record 0"; the tail-only append of the
/// journal layer refuses, and the case layer (which verifies the whole chain) refuses too.
#[test]
fn the_largest_sequence_number_is_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    let mut l = lines(&case);
    let last = l.len() - 1;
    let Value::Object(mut map) = serde_json::from_str::<Value>(&l[last]).unwrap() else { panic!() };
    map.remove("hash");
    map.insert("seq".into(), Value::from(u64::MAX));
    let hash = record_hash(&map);
    map.insert("hash".into(), Value::from(hash));
    l[last] = serde_json::to_string(&Value::Object(map)).unwrap();
    write_lines(&case, &l);
    let before = fs::read(journal_path(&case)).unwrap();
    let err = case.journal().append("ana", &Action::Note { text: "x".into() }).unwrap_err();
    assert!(err.to_string().contains("largest possible sequence number"), "{err}");
    assert!(case.note("ana", "x").is_err());
    assert_eq!(fs::read(journal_path(&case)).unwrap(), before, "nothing appended");
}

/// Issue 15: an emptied journal is not the start of a new chain.
#[test]
fn an_emptied_journal_is_not_restarted() {
    let dir = tempfile::tempdir().unwrap();
    let case = sample_case(dir.path());
    fs::write(journal_path(&case), "").unwrap();
    let err = case.journal().append("ana", &Action::Note { text: "x".into() }).unwrap_err();
    assert!(err.to_string().contains("refusing to start a new chain"), "{err}");
    assert!(case.note("ana", "x").is_err());
    assert_eq!(fs::read(journal_path(&case)).unwrap(), b"");
}

/// Issue 15: a case init that fails part-way (here: an evidence file that cannot be hashed,
/// as a full disk would fail a write) leaves neither the case folder nor a staging folder,
/// and the retry works.
#[test]
fn a_failed_init_leaves_nothing_behind_and_the_retry_works() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("leakline.toml");
    fs::write(&config, "name = \"test\"\n").unwrap();
    let lib = Library::builtin().unwrap();
    let playbook = lib.get("exposed-api-endpoint").unwrap();
    let options = InitOptions { name: None, config, operator: "ana".into() };
    let target = dir.path().join("case");
    let gone = dir.path().join("vanished.log");
    let err = Case::init_with_sources(&target, &options, playbook, stepping_clock(), &[gone])
        .unwrap_err();
    assert!(err.to_string().contains("vanished.log"), "{err}");
    assert!(!target.exists(), "no half-made case folder");
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["leakline.toml"], "no staging folder left");
    let log = dir.path().join("access.log");
    fs::write(&log, "x\n").unwrap();
    let case =
        Case::init_with_sources(&target, &options, playbook, stepping_clock(), &[log]).unwrap();
    assert_eq!(case.meta.name, "case");
    assert_eq!(case.state().unwrap().sources.len(), 1);
    case.verify_integrity().unwrap();
}
