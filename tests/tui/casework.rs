//! The Playbook view with a real case: key → prompt → effect transitions, the effect runner
//! journaling into a temp case (chain stays intact), export, journal reload, redaction toggle,
//! and pane snapshots with SLA styling asserted on cells.

use std::path::Path;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use leakline::case::{Action as Record, Case, Clock, InitOptions, StepRequest};
use leakline::follow::LiveItem;
use leakline::playbook::{Library, StepAction, StepState};
use leakline::redact::MARKER_PREFIX;
use leakline::tui::TuiOptions;
use leakline::tui::app::{App, Effect, PlaybookRequest, PromptKind};
use leakline::tui::case_link::CaseLink;
use leakline::tui::event_loop::Effects;
use leakline::tui::keymap::View;
use ratatui::style::Color;

use super::fixture::{app_with, draw, fixture, press, request, t, text_of};

const OPENED: &str = "2026-11-03T12:54:00Z";

/// A case opened at [`OPENED`] (27 minutes before the fixture's `as_of`) on the built-in
/// exposed-API playbook; every record is stamped with that time.
fn temp_case() -> (tempfile::TempDir, Case) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("leakline.toml");
    std::fs::write(&config, "# test config\n").expect("config");
    let library = Library::builtin().expect("built-in playbooks");
    let loaded = library.get("exposed-api-endpoint").expect("playbook");
    let t0 = t(OPENED);
    let clock: Clock = Arc::new(move || t0);
    let options =
        InitOptions { name: Some("gateway leak".to_owned()), config, operator: "alice".into() };
    let case = Case::init(&dir.path().join("case"), &options, loaded, clock).expect("case init");
    (dir, case)
}

fn app_for(case: &Case) -> App {
    let mut app = app_with(fixture(), false);
    app.playbook_doc = Some(Arc::new(case.playbook.clone()));
    app.set_case(case.state().expect("state"));
    app
}

fn enter(app: &mut App) -> Option<Effect> {
    app.on_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
}

fn options(export_dir: &Path) -> TuiOptions {
    let fixed = fixture().as_of;
    let mut o = TuiOptions::live("case test");
    o.clock = Arc::new(move || fixed);
    o.export_dir = export_dir.to_path_buf();
    o
}

fn esc(app: &mut App) -> Option<Effect> {
    app.on_key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE))
}

fn prompt_kind(app: &App) -> Option<PromptKind> {
    app.prompt.as_ref().map(|p| p.kind)
}

#[test]
fn step_keys_ask_the_operator_once_then_confirm_every_write() {
    let (_dir, case) = temp_case();
    let mut app = app_for(&case);
    app.operator = None;
    press(&mut app, "5");
    assert!(press(&mut app, "s").is_empty());
    assert_eq!(prompt_kind(&app), Some(PromptKind::Operator));
    press(&mut app, "bob");
    // The operator is known; the start itself still waits for its confirmation.
    assert_eq!(enter(&mut app), None);
    assert_eq!(app.operator.as_deref(), Some("bob"));
    assert_eq!(prompt_kind(&app), Some(PromptKind::Confirm));
    assert!(
        app.prompt.as_ref().is_some_and(|p| p.text.contains("step 1 confirm-exposure started"))
    );
    assert_eq!(enter(&mut app), Some(Effect::Playbook(PlaybookRequest::Start(0))));
    esc(&mut app); // an arrow/Esc re-arms the step keys after a prompt closed with Enter
    // Done: confirmation first. block-ingress has a check that does not say verified (the
    // step was never started): the confirmation says so and the request records it.
    press(&mut app, "j");
    assert!(press(&mut app, "d").is_empty());
    assert_eq!(prompt_kind(&app), Some(PromptKind::Confirm));
    assert!(app.prompt.as_ref().is_some_and(|p| p.text.contains("done (unverified")));
    assert_eq!(
        enter(&mut app),
        Some(Effect::Playbook(PlaybookRequest::DoneUnverified {
            step: 1,
            check: "not evaluated: not started".to_owned()
        }))
    );
    esc(&mut app);
    // A step without a check: a plain done.
    press(&mut app, "k");
    press(&mut app, "d");
    assert_eq!(enter(&mut app), Some(Effect::Playbook(PlaybookRequest::Done(0))));
    esc(&mut app);
    press(&mut app, "j");
    esc(&mut app);
    // Skip: reason prompt; an empty reason keeps it open; then a confirmation.
    press(&mut app, "x");
    assert_eq!(prompt_kind(&app), Some(PromptKind::SkipReason));
    assert_eq!(enter(&mut app), None);
    assert_eq!(prompt_kind(&app), Some(PromptKind::SkipReason), "empty reason: still open");
    assert!(app.message.as_deref().is_some_and(|m| m.contains("reason")));
    press(&mut app, "not our host");
    assert_eq!(enter(&mut app), None);
    assert_eq!(prompt_kind(&app), Some(PromptKind::Confirm));
    assert!(
        app.prompt.as_ref().is_some_and(|p| p.text.contains("skipped, reason: not our host")),
        "the confirmation shows what will be written"
    );
    assert_eq!(
        enter(&mut app),
        Some(Effect::Playbook(PlaybookRequest::Skip {
            step: 1,
            reason: "not our host".to_owned()
        }))
    );
    esc(&mut app);
    // Block asks what it is blocked on; reopen confirms.
    press(&mut app, "b");
    assert_eq!(prompt_kind(&app), Some(PromptKind::BlockReason));
    press(&mut app, "CDN logs");
    enter(&mut app);
    assert_eq!(
        enter(&mut app),
        Some(Effect::Playbook(PlaybookRequest::Block { step: 1, reason: "CDN logs".to_owned() }))
    );
    esc(&mut app);
    press(&mut app, "r");
    assert_eq!(enter(&mut app), Some(Effect::Playbook(PlaybookRequest::Reopen(1))));
    esc(&mut app);
    press(&mut app, "n");
    assert_eq!(prompt_kind(&app), Some(PromptKind::Note));
    press(&mut app, "SG rule sg-0a1 revoked");
    assert_eq!(enter(&mut app), None, "a note is confirmed too");
    assert_eq!(
        enter(&mut app),
        Some(Effect::Playbook(PlaybookRequest::Note {
            step: 1,
            text: "SG rule sg-0a1 revoked".to_owned()
        }))
    );
    esc(&mut app);
    assert_eq!(press(&mut app, "E"), vec![Effect::Export]);
}

#[test]
fn esc_cancels_a_confirmation_and_typing_never_confirms_it() {
    let (_dir, case) = temp_case();
    let mut app = app_for(&case);
    app.operator = Some("bob".to_owned());
    press(&mut app, "5");
    press(&mut app, "d");
    assert_eq!(prompt_kind(&app), Some(PromptKind::Confirm));
    // Letters typed into a confirmation are ignored (and are not text).
    assert!(press(&mut app, "sdxn").is_empty());
    assert_eq!(prompt_kind(&app), Some(PromptKind::Confirm));
    assert_eq!(esc(&mut app), None);
    assert!(app.prompt.is_none());
    assert!(app.message.as_deref().is_some_and(|m| m.contains("nothing recorded")));
    // Esc on a reason prompt cancels it too, with nothing emitted.
    press(&mut app, "x");
    press(&mut app, "half a rea");
    assert_eq!(esc(&mut app), None);
    assert!(app.prompt.is_none());
}

#[test]
fn text_typed_after_a_prompt_closes_changes_nothing() {
    let (_dir, case) = temp_case();
    let mut app = app_for(&case);
    app.operator = Some("bob".to_owned());
    press(&mut app, "5");
    press(&mut app, "x");
    press(&mut app, "out of scope");
    enter(&mut app); // to the confirmation
    assert!(enter(&mut app).is_some(), "the skip is confirmed");
    assert!(app.prompt.is_none());
    // The responder keeps typing as if the prompt were still open, and hits Enter.
    let selected = app.playbook.selected;
    let typed = press(&mut app, "the scan shows nothing; see the dns notes");
    assert!(typed.is_empty(), "no effect from typed text: {typed:?}");
    assert!(app.prompt.is_none(), "no prompt opened by typed text");
    assert_eq!(app.playbook.selected, selected, "no navigation either");
    assert_eq!(enter(&mut app), None);
    assert!(app.prompt.is_none());
    // After a non-character key the step keys work again.
    press(&mut app, "s");
    assert_eq!(prompt_kind(&app), Some(PromptKind::Confirm));
}

/// The guard against typing on after a prompt keeps the step keys from firing, not the keys
/// that switch views: after a confirmation is answered (or dismissed) `1`..`5` and `?` work at
/// once, and in another view its own keys do; back in the Playbook the step keys stay guarded
/// until a non-character key.
#[test]
fn view_keys_work_at_once_after_a_confirmation() {
    let (_dir, case) = temp_case();
    let mut app = app_for(&case);
    app.operator = Some("bob".to_owned());
    press(&mut app, "5");
    press(&mut app, "s");
    assert_eq!(enter(&mut app), Some(Effect::Playbook(PlaybookRequest::Start(0))));
    assert!(app.prompt.is_none());
    press(&mut app, "3");
    assert_eq!(app.view, View::Actors, "a view key right after the confirmation");
    assert_eq!(app.message, None, "and no 'typing is ignored' message");
    let sort = app.actors.sort;
    press(&mut app, "o");
    assert_ne!(app.actors.sort, sort, "the Actors view's own keys work there");
    press(&mut app, "?");
    assert!(app.help, "help opens");
    press(&mut app, "?");
    press(&mut app, "5");
    assert_eq!(app.view, View::Playbook);
    // Back where the prompt was, the rest of a typed sentence still journals nothing.
    assert!(press(&mut app, "d").is_empty());
    assert!(app.prompt.is_none(), "the step keys are still guarded");
    assert!(app.message.as_deref().is_some_and(|m| m.contains("ignored")));
    esc(&mut app);
    press(&mut app, "d");
    assert_eq!(prompt_kind(&app), Some(PromptKind::Confirm));
    // Dismissed with Esc: the view keys work at once too.
    esc(&mut app);
    press(&mut app, "4");
    assert_eq!(app.view, View::Events);
    // A filter closed with Enter: the view keys work at once.
    press(&mut app, "/");
    press(&mut app, "5xx");
    enter(&mut app);
    assert!(app.prompt.is_none());
    press(&mut app, "2");
    assert_eq!(app.view, View::Timeline);
}

#[test]
fn undo_names_the_operators_last_action_and_copy_takes_every_command() {
    let (_dir, case) = temp_case();
    let req = StepRequest { step: "block-ingress", action: StepAction::Done, note: None };
    case.step("bob", req).expect("done");
    case.note("alice", "someone else's note").expect("note");
    let mut app = app_for(&case);
    press(&mut app, "5");
    app.operator = Some("alice".to_owned());
    press(&mut app, "u");
    assert!(app.prompt.is_none());
    assert!(
        app.message
            .as_deref()
            .is_some_and(|m| m.contains("nothing to undo") && m.contains("not a step action")),
        "{:?}",
        app.message
    );
    app.operator = Some("bob".to_owned());
    press(&mut app, "u");
    assert_eq!(prompt_kind(&app), Some(PromptKind::Confirm));
    assert!(app.prompt.as_ref().is_some_and(|p| p.text.contains("done of step block-ingress")));
    assert_eq!(enter(&mut app), Some(Effect::Playbook(PlaybookRequest::Undo)));
    esc(&mut app);
    // `c` copies every example command of the step, one per line.
    let doc = app.playbook_doc.clone().expect("playbook");
    let index = doc.steps.iter().position(|s| s.commands.len() > 1).expect("a step with commands");
    app.playbook.selected = index;
    let all: Vec<String> = doc.steps[index].commands.iter().map(|c| c.command.clone()).collect();
    assert_eq!(press(&mut app, "c"), vec![Effect::Copy(all.join("\n"))]);
}

#[test]
fn undo_through_the_effect_runner_appends_a_reopen() {
    let (dir, case) = temp_case();
    let mut app = app_for(&case);
    app.operator = Some("bob".to_owned());
    let opts = options(dir.path());
    let mut link = CaseLink::new(case.clone());
    link.poll().expect("poll");
    let mut sink = std::io::sink();
    let mut fx = Effects { case: Some(&mut link), clipboard: &mut sink, options: &opts };
    fx.apply(&mut app, Effect::Playbook(PlaybookRequest::Skip { step: 2, reason: "n/a".into() }));
    fx.apply(&mut app, Effect::Playbook(PlaybookRequest::Undo));
    assert!(app.message.as_deref().is_some_and(|m| m.contains("undone")), "{:?}", app.message);
    let state = case.state().expect("state");
    let id = &case.playbook.steps[2].id;
    let step = state.step(id).expect("step");
    assert_eq!(step.state, StepState::Pending);
    assert_eq!(step.history.len(), 2, "skip then reopen: the journal only grows");
    assert_eq!(step.history[1].action, StepAction::Reopen);
    case.verify_integrity().expect("chain intact");
}

#[test]
fn esc_on_the_operator_prompt_records_nothing() {
    let (_dir, case) = temp_case();
    let mut app = app_for(&case);
    app.operator = None;
    press(&mut app, "5");
    press(&mut app, "E");
    assert_eq!(app.prompt.as_ref().map(|p| p.kind), Some(PromptKind::Operator));
    assert_eq!(app.on_key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)), None);
    assert!(app.prompt.is_none() && app.pending.is_none() && app.operator.is_none());
}

#[test]
fn without_a_case_step_keys_only_explain() {
    let mut app = app_with(fixture(), false);
    press(&mut app, "5");
    assert!(press(&mut app, "sdxn").is_empty());
    assert!(app.prompt.is_none());
    assert!(app.message.as_deref().is_some_and(|m| m.contains("preview only")));
    // Export still works without a case (into the current directory, no journal).
    assert_eq!(press(&mut app, "E"), vec![Effect::Export]);
}

#[test]
fn effect_runner_journals_done_and_note_and_the_chain_stays_intact() {
    let (dir, case) = temp_case();
    let mut app = app_for(&case);
    app.operator = Some("carol".to_owned());
    let opts = options(dir.path());
    let mut link = CaseLink::new(case.clone());
    assert!(link.poll().expect("poll").is_some(), "first poll replays the journal");
    let mut clipboard = Vec::new();
    let mut fx = Effects { clipboard: &mut clipboard, case: Some(&mut link), options: &opts };
    fx.apply(&mut app, Effect::Playbook(PlaybookRequest::Done(0)));
    assert!(
        app.message.as_deref().is_some_and(|m| m.contains("done recorded")),
        "{:?}",
        app.message
    );
    fx.apply(
        &mut app,
        Effect::Playbook(PlaybookRequest::Note { step: 1, text: "ticket INC-42".to_owned() }),
    );
    // An impossible transition is refused by the case library and said so.
    fx.apply(&mut app, Effect::Playbook(PlaybookRequest::Done(0)));
    assert!(
        app.message.as_deref().is_some_and(|m| m.starts_with("not recorded")),
        "{:?}",
        app.message
    );

    let report = case.verify_integrity().expect("journal intact");
    let records: Vec<&Record> =
        report.contents.entries.iter().filter_map(|e| e.action.as_ref()).collect();
    assert!(records.iter().any(|r| matches!(r, Record::Step { step, action: StepAction::Done, .. } if step == "confirm-exposure")));
    assert!(
        records
            .iter()
            .any(|r| matches!(r, Record::Note { text } if text == "block-ingress: ticket INC-42"))
    );
    let by_carol = report.contents.entries.iter().filter(|e| e.operator == "carol").count();
    assert_eq!(by_carol, 2);
    // The app shows the new state (reloaded after the append) and a timeline marker.
    let view = app.case.as_ref().expect("case view");
    assert_eq!(view.state.step("confirm-exposure").map(|s| s.state), Some(StepState::Done));
    press(&mut app, "2");
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    let row = text.lines().find(|l| l.starts_with("  playbook")).unwrap_or_default();
    assert!(row.contains('◆'), "{text}");
}

#[test]
fn timeline_marks_steps_and_notes_at_their_times() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("leakline.toml");
    std::fs::write(&config, "# test config\n").expect("config");
    let library = Library::builtin().expect("built-in playbooks");
    let loaded = library.get("exposed-api-endpoint").expect("playbook");
    // Each record 20 minutes after the previous one, from 12:00.
    let tick = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let clock: Clock = Arc::new(move || {
        let n = tick.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        t("2026-11-03T12:00:00Z") + chrono::TimeDelta::minutes(20 * n)
    });
    let options = InitOptions { name: None, config, operator: "alice".into() };
    let case = Case::init(&dir.path().join("case"), &options, loaded, clock).expect("init");
    case.note("alice", "bridge call opened").expect("note");
    let req = StepRequest { step: "confirm-exposure", action: StepAction::Done, note: None };
    case.step("alice", req).expect("step");
    let mut app = app_for(&case);
    app.view = View::Timeline;
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    let row = text.lines().find(|l| l.starts_with("  playbook")).unwrap_or_default();
    let note = row.chars().position(|c| c == '•');
    let step = row.chars().position(|c| c == '◆');
    assert!(note.is_some() && step.is_some() && note < step, "{row:?}\n{text}");
}

#[test]
fn appends_from_another_process_show_up_on_poll() {
    let (_dir, case) = temp_case();
    let mut link = CaseLink::new(case.clone());
    assert!(link.poll().expect("poll").is_some());
    assert!(link.poll().expect("poll").is_none(), "unchanged journal: no reload");
    // A CLI in another shell: its own handle on the same folder.
    let other = Case::open(&case.dir, leakline::case::system_clock()).expect("open");
    let req = StepRequest { step: "block-ingress", action: StepAction::Start, note: None };
    other.step("dave", req).expect("step");
    let state = link.poll().expect("poll").expect("reloaded");
    assert_eq!(state.step("block-ingress").map(|s| s.state), Some(StepState::InProgress));
}

#[test]
fn export_writes_three_files_and_journals_their_hashes() {
    let (dir, case) = temp_case();
    let mut app = app_for(&case);
    app.operator = Some("alice".to_owned());
    let opts = options(dir.path());
    let mut link = CaseLink::new(case.clone());
    let mut clipboard = Vec::new();
    let mut fx = Effects { clipboard: &mut clipboard, case: Some(&mut link), options: &opts };
    fx.apply(&mut app, Effect::Export);
    let msg = app.message.clone().unwrap_or_default();
    assert!(msg.contains("journaled") && msg.contains(&case.dir.display().to_string()), "{msg}");
    let mut files: Vec<_> = std::fs::read_dir(&case.dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("leakline-report-"))
        })
        .collect();
    files.sort();
    let exts: Vec<String> = files
        .iter()
        .filter_map(|p| p.extension().map(|e| e.to_string_lossy().into_owned()))
        .collect();
    assert_eq!(exts, ["html", "json", "md"]);
    let report = case.verify_integrity().expect("journal intact");
    let exported: Vec<(&str, &str)> = report
        .contents
        .entries
        .iter()
        .filter_map(|e| match &e.action {
            Some(Record::ReportExported { path, sha256, .. }) => {
                Some((path.as_str(), sha256.as_str()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(exported.len(), 3);
    for f in &files {
        use sha2::Digest;
        let sum = hex::encode(sha2::Sha256::digest(std::fs::read(f).expect("read")));
        let abs = std::fs::canonicalize(f).expect("abs");
        assert!(exported.contains(&(abs.to_str().expect("utf8"), sum.as_str())), "{f:?}");
    }
}

#[test]
fn export_without_a_case_writes_into_the_export_dir() {
    let out = tempfile::tempdir().expect("tempdir");
    let mut app = app_with(fixture(), false);
    let opts = options(out.path());
    let mut clipboard = Vec::new();
    let mut fx = Effects { clipboard: &mut clipboard, case: None, options: &opts };
    fx.apply(&mut app, Effect::Export);
    assert!(app.message.as_deref().is_some_and(|m| m.contains("not journaled")));
    assert_eq!(std::fs::read_dir(out.path()).expect("dir").count(), 3);
}

#[test]
fn secrets_are_redacted_on_screen_until_revealed() {
    let secret = "sk-s3cr3tvalue0123456789abcdef";
    let mut snap = fixture();
    snap.actors[0].top_paths[0].path = format!("/v1/models?key={secret}");
    let mut app = app_with(snap, false);
    app.on_live(LiveItem::Event {
        event: request("198.51.100.201", 200, "/v1/chat", &format!("curl/8 {secret}")),
        external: true,
    });
    for v in ["4", "3"] {
        press(&mut app, v);
        if v == "3" {
            app.update(leakline::tui::keymap::Action::Open);
        }
        let text = text_of(draw(&app, 120, 40).backend().buffer());
        assert!(!text.contains("s3cr3tvalue"), "view {v} leaks the secret:\n{text}");
        assert!(text.contains(MARKER_PREFIX), "view {v} shows no marker:\n{text}");
    }
    press(&mut app, "4");
    press(&mut app, "R");
    assert!(app.reveal);
    let buf = draw(&app, 120, 40);
    let text = text_of(buf.backend().buffer());
    assert!(text.contains("s3cr3tvalue"), "{text}");
    assert!(text.contains("SECRETS REVEALED"), "{text}");
    // The status line: the row above the key-hint bar.
    let last = buf.backend().buffer().area.height - 2;
    let flag_x =
        (0..120).find(|&x| buf.backend().buffer()[(x, last)].symbol() == "S").expect("flag");
    assert_eq!(buf.backend().buffer()[(flag_x, last)].style().bg, Some(Color::Red));
    press(&mut app, "R");
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(!text.contains("s3cr3tvalue") && !text.contains("SECRETS REVEALED"), "{text}");
}

/// The screen as text with the journal head hash masked: the chain covers the temp folder's
/// path (in `case_opened`), so the hash differs on every run.
fn stable(app: &App, terminal: &ratatui::Terminal<ratatui::backend::TestBackend>) -> String {
    let head = app.case.as_ref().map(|c| c.state.head[..12].to_owned()).unwrap_or_default();
    format!("{}", terminal.backend()).replace(&head, "############")
}

/// A worked case: confirm-exposure started (overdue at 27 minutes: SLA 15), block-ingress
/// pending (3 minutes left of 30: near), preserve-logs done, notify skipped with a reason.
fn worked_case() -> (tempfile::TempDir, Case) {
    let (dir, case) = temp_case();
    let step = |id: &str, action, note| {
        case.step("alice", StepRequest { step: id, action, note }).expect("step");
    };
    step("confirm-exposure", StepAction::Start, None);
    step("preserve-logs", StepAction::Done, Some("copied to s3://ir-evidence/case-7"));
    step("notify", StepAction::Skip, Some("legal owns comms for this one"));
    case.note("bob", "pager handed over to bob").expect("note");
    (dir, case)
}

#[test]
fn case_playbook_pane_snapshots_and_sla_styling() {
    let (_dir, case) = worked_case();
    for (w, h) in [(120, 40), (80, 24)] {
        let mut app = app_for(&case);
        app.view = View::Playbook;
        let terminal = draw(&app, w, h);
        let buf = terminal.backend().buffer();
        let text = text_of(buf);
        insta::assert_snapshot!(format!("case_playbook_{w}x{h}"), stable(&app, &terminal));
        // Word/symbol AND colour: overdue red with "OVERDUE", near amber with "⚠".
        let find = |needle: &str| -> (u16, u16) {
            for y in 0..h {
                let row: String = (0..w).map(|x| buf[(x, y)].symbol().to_owned()).collect();
                if let Some(pos) = row.find(needle) {
                    let col = row[..pos].chars().count() as u16;
                    return (col, y);
                }
            }
            panic!("{needle} not on screen:\n{text}");
        };
        let (x, y) = find("OVERDUE");
        assert_eq!(buf[(x, y)].style().fg, Some(Color::Red));
        let (x, y) = find("⚠");
        assert_eq!(buf[(x, y)].style().fg, Some(Color::Yellow));
        assert!(text.contains("✔ done") && text.contains("» skipped"), "{text}");
    }
    // The step detail names who did what, and the verify evidence or reason.
    let mut app = app_for(&case);
    app.view = View::Playbook;
    press(&mut app, "jj");
    app.update(leakline::tui::keymap::Action::Open);
    insta::assert_snapshot!("case_step_detail_120x40", stable(&app, &draw(&app, 120, 40)));
}

#[test]
fn verify_follows_the_live_snapshot_and_names_its_evidence() {
    let (_dir, case) = temp_case();
    let mut app = app_for(&case);
    app.view = View::Playbook;
    let close_out = |app: &App| {
        let text = text_of(draw(app, 120, 40).backend().buffer());
        text.lines().find(|l| l.contains("Close out")).map(str::to_owned).unwrap_or_default()
    };
    // Not started: the check looks at no evidence yet (issue 16).
    assert!(close_out(&app).contains("unchecked"), "{}", close_out(&app));
    let start = StepRequest { step: "close-out", action: StepAction::Start, note: None };
    case.step("alice", start).expect("start close-out");
    app.set_case(case.state().expect("state"));
    assert!(close_out(&app).contains("… not yet"), "{}", close_out(&app));
    // The last open window closes in the next snapshot: window_closed verifies at once.
    let mut closed = fixture();
    closed.services[0].windows.pop();
    closed.services[0].state = leakline::model::snapshot::ServiceState::Closed;
    app.on_snapshot(Arc::new(closed));
    assert!(close_out(&app).contains("✔ verified"), "{}", close_out(&app));
    press(&mut app, "G");
    app.update(leakline::tui::keymap::Action::Open);
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(text.contains("✔ verified: ") && text.contains("evidence: model-gateway"), "{text}");
}

#[test]
fn a_closed_case_refuses_dashboard_writes_and_says_so() {
    let (dir, case) = temp_case();
    case.close("alice", "contained").expect("close");
    let mut app = app_for(&case);
    app.operator = Some("bob".to_owned());
    let opts = options(dir.path());
    let mut link = CaseLink::new(case.clone());
    link.poll().expect("poll");
    let before = case.state().expect("state").records;
    let mut sink = std::io::sink();
    let mut fx = Effects { case: Some(&mut link), clipboard: &mut sink, options: &opts };
    fx.apply(&mut app, Effect::Playbook(PlaybookRequest::Start(0)));
    assert!(
        app.message.as_deref().is_some_and(|m| m.contains("not recorded") && m.contains("closed")),
        "{:?}",
        app.message
    );
    assert_eq!(case.state().expect("state").records, before, "nothing journaled");
    app.view = View::Playbook;
    let screen = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(screen.contains("· closed ·"), "{screen}");
}

/// With a case, the Overview names the current step (the first not done or skipped), its SLA
/// and the keys that act on it: confirm-exposure, started, overdue.
#[test]
fn overview_shows_the_next_playbook_step() {
    let (_dir, case) = worked_case();
    for (w, h) in [(120, 40), (80, 24), (40, 10)] {
        let app = app_for(&case);
        let terminal = draw(&app, w, h);
        insta::assert_snapshot!(format!("case_overview_next_{w}x{h}"), stable(&app, &terminal));
        let text = text_of(terminal.backend().buffer());
        if w == 80 {
            assert!(text.contains("next: step 1/10") && text.contains("OVERDUE"), "{text}");
            assert!(text.contains("· 5, then d done"), "{text}");
        }
        if w == 120 {
            assert!(text.contains("next: step 1/10"), "{text}");
            assert!(text.contains("(confirm-exposure)") && text.contains("OVERDUE"), "{text}");
            assert!(text.contains("key 5, then d done"), "{text}");
        }
    }
    // Once it is done, the next one is block-ingress (pending, SLA near).
    case.step(
        "alice",
        StepRequest { step: "confirm-exposure", action: StepAction::Done, note: None },
    )
    .expect("done");
    let app = app_for(&case);
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(text.contains("next: step 2/10") && text.contains("(block-ingress)"), "{text}");
    assert!(text.contains("⚠ 3m 00s left") && text.contains("s start / d done"), "{text}");
}
