//! End to end in a real terminal: `leakline demo` inside a detached tmux session of fixed size.
//! The test polls `capture-pane` (generous timeouts, no fixed sleeps), checks that the overview
//! shows an exposed service and an actor, opens the help with `?`, quits with `q`, and checks
//! the exit status. Needs tmux: `bash scripts/setup-test-deps.sh`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server on a private socket, killed on drop (even when the test fails).
struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    /// `tag` keeps the servers of tests running in parallel apart.
    fn start(tag: &str, width: u16, height: u16, shell_command: &str) -> Tmux {
        let id = std::process::id();
        let t = Tmux { socket: format!("leakline-e2e-{id}-{tag}"), session: format!("demo-{tag}") };
        let status = t
            .cmd()
            .args(["-f", "/dev/null", "new-session", "-d", "-s", &t.session])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(shell_command)
            .env_remove("NO_COLOR")
            .status()
            .expect("tmux is not installed: run `bash scripts/setup-test-deps.sh`");
        assert!(status.success(), "tmux new-session failed");
        t
    }

    /// A pane format variable (`alternate_on`, `cursor_flag`, …).
    fn pane_var(&self, var: &str) -> String {
        let fmt = format!("#{{{var}}}");
        let out = self.cmd().args(["display-message", "-p", "-t", &self.session, &fmt]).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default()
    }

    fn capture(&self) -> String {
        let out = self.cmd().args(["capture-pane", "-p", "-t", &self.session]).output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default()
    }

    fn keys(&self, keys: &str) {
        let status = self.cmd().args(["send-keys", "-t", &self.session, keys]).status();
        assert!(status.is_ok_and(|s| s.success()), "send-keys {keys}");
    }

    /// Poll the pane until `pred` holds; panic with the last screen after `timeout`.
    fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.capture();
            if pred(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // The server is usually gone already (its last session ended); that is fine.
        let _ = self.cmd().arg("kill-server").stderr(std::process::Stdio::null()).status();
    }
}

fn wait_for_file(path: &Path, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Ok(s) = std::fs::read_to_string(path) {
            if s.ends_with('\n') {
                return Some(s);
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    None
}

#[test]
fn demo_in_tmux_shows_exposure_help_and_quits_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status_file: PathBuf = dir.path().join("exit-status");
    let bin = env!("CARGO_BIN_EXE_leakline");
    // Fast replay: the first external hit arrives a few seconds in.
    let shell = format!("'{bin}' demo --speed 1200; echo $? > '{}'", status_file.display());
    let tmux = Tmux::start("overview", 120, 40, &shell);
    let screen = tmux.wait_for("an exposed service and an actor", Duration::from_secs(120), |s| {
        s.contains("EXPOSED") && s.contains("llm-gateway") && s.contains("162.142.125.221")
    });
    assert!(screen.contains("Top actors"), "{screen}");
    // What was served: the top paths per window, the demo's sensitive model list highlighted.
    tmux.wait_for("what was served and a sensitive path", Duration::from_secs(120), |s| {
        s.contains("what was served")
            && s.contains("/v1/chat/completions")
            && s.contains("⚠ model list")
    });
    tmux.keys("?");
    tmux.wait_for("the help overlay", Duration::from_secs(30), |s| {
        s.contains("Keys —") && s.contains("quit")
    });
    tmux.keys("q");
    let status = wait_for_file(&status_file, Duration::from_secs(30));
    assert_eq!(status.as_deref(), Some("0\n"), "exit status; screen:\n{}", tmux.capture());
}

#[test]
fn sigterm_restores_the_terminal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status_file = dir.path().join("exit-status");
    let pid_file = dir.path().join("pid");
    let bin = env!("CARGO_BIN_EXE_leakline");
    // The inner shell records its pid and becomes leakline (exec), so the pid is leakline's;
    // the outer shell then keeps the pane open so the terminal state can be inspected.
    let shell = format!(
        "sh -c 'echo $$ > \"{pid}\"; exec \"{bin}\" demo --speed 1200'; echo $? > '{status}'; sleep 120",
        pid = pid_file.display(),
        status = status_file.display(),
    );
    let tmux = Tmux::start("sigterm", 80, 24, &shell);
    tmux.wait_for("the dashboard", Duration::from_secs(120), |s| s.contains("1 Overview"));
    assert_eq!(tmux.pane_var("alternate_on"), "1", "the dashboard uses the alternate screen");
    let pid = wait_for_file(&pid_file, Duration::from_secs(10)).expect("pid file");
    let status = Command::new("kill").args(["-TERM", pid.trim()]).status().expect("kill");
    assert!(status.success());
    let code = wait_for_file(&status_file, Duration::from_secs(30));
    assert_eq!(code.as_deref(), Some("0\n"), "exit status after SIGTERM");
    assert_eq!(tmux.pane_var("alternate_on"), "0", "alternate screen left");
    assert_eq!(tmux.pane_var("cursor_flag"), "1", "cursor shown again");
}

/// Old evidence on today's clock: `leakline watch` over the demo's logs (March 2026) run on a
/// later day. The Overview's window lines carry the evidence's date (`03-14 …`), the legend
/// says how to read them, and the Timeline is fitted to the evidence, not stretched to now.
#[test]
fn watch_of_old_logs_shows_dates_and_a_fitted_timeline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status_file = dir.path().join("exit-status");
    let bin = env!("CARGO_BIN_EXE_leakline");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/leakline.toml");
    let shell = format!(
        "'{bin}' watch --config '{}'; echo $? > '{}'",
        config.display(),
        status_file.display()
    );
    let tmux = Tmux::start("dates", 120, 40, &shell);
    let screen = tmux.wait_for("dated window lines", Duration::from_secs(120), |s| {
        s.contains("#1 03-14 ") && s.contains("→ OPEN")
    });
    assert!(screen.contains("opened between A~B → closed between C~D"), "{screen}");
    assert!(screen.contains("first evidence 2026-03-14T") || screen.contains("first 03-14 "));
    tmux.keys("2");
    tmux.wait_for("the fitted timeline", Duration::from_secs(30), |s| {
        s.contains("fitted to evidence") && s.contains("opened between 03-14 ")
    });
    tmux.keys("q");
    let status = wait_for_file(&status_file, Duration::from_secs(30));
    assert_eq!(status.as_deref(), Some("0\n"), "exit status; screen:\n{}", tmux.capture());
}

/// `leakline watch --case DIR` for real: the Playbook pane shows the case, `s` + Enter journals
/// a step start through the case library, a note appended by another process (the CLI) shows
/// up on the next tick, a skip with a reason (prompt, then confirmation) and an undo (`u`,
/// which appends a `reopen`) are journaled, `q` exits 0, and `case verify` finds the chain
/// intact.
#[test]
fn watch_case_journals_from_the_dashboard_and_sees_other_writers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = dir.path().join("case");
    let bin = env!("CARGO_BIN_EXE_leakline");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo/leakline.toml");
    let init = Command::new(bin)
        .args(["case", "init"])
        .arg(&case)
        .arg("--config")
        .arg(&config)
        .args(["--playbook", "exposed-api-endpoint", "--operator", "lead"])
        .output()
        .expect("case init");
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let status_file = dir.path().join("exit-status");
    let shell = format!(
        "LEAKLINE_OPERATOR=tmux-op '{bin}' watch --case '{}'; echo $? > '{}'",
        case.display(),
        status_file.display()
    );
    let tmux = Tmux::start("case", 120, 40, &shell);
    tmux.wait_for("the dashboard", Duration::from_secs(120), |s| s.contains("1 Overview"));
    // The Overview names the case's next step (the first not done or skipped) and its keys.
    tmux.wait_for("the next step on the overview", Duration::from_secs(30), |s| {
        s.contains("next: step 1/")
            && s.contains("(confirm-exposure)")
            && s.contains("key 5, then s start / d done")
    });
    tmux.keys("5");
    let records = |s: &str| -> Option<u64> {
        let before = s.split(" records").next()?;
        before.rsplit(' ').next()?.parse().ok()
    };
    let screen = tmux.wait_for("the case playbook", Duration::from_secs(30), |s| {
        s.contains("case case") && records(s).is_some()
    });
    let start = records(&screen).expect("record count");
    tmux.keys("s");
    tmux.wait_for("the confirmation", Duration::from_secs(30), |s| s.contains("Enter confirms"));
    tmux.keys("Enter");
    tmux.wait_for("the step start", Duration::from_secs(30), |s| s.contains("▶ active"));
    let journal = std::fs::read_to_string(case.join("journal.jsonl")).expect("journal");
    assert!(journal.contains("\"tmux-op\"") && journal.contains("\"start\""), "{journal}");
    // Another shell appends a note; the dashboard picks it up on its 1 s tick.
    let note = Command::new(bin)
        .args(["case", "note"])
        .arg(&case)
        .args(["from the other shell", "--operator", "cli"])
        .output()
        .expect("case note");
    assert!(note.status.success(), "{}", String::from_utf8_lossy(&note.stderr));
    tmux.wait_for("the other writer's record", Duration::from_secs(30), |s| {
        records(s) == Some(start + 2)
    });
    // Skip the next step with a reason: an empty Enter keeps the prompt open, the reason
    // is confirmed with a second Enter. Arrows re-arm the letter keys after a prompt.
    tmux.keys("Down");
    tmux.keys("x");
    tmux.wait_for("the reason prompt", Duration::from_secs(30), |s| s.contains("why skip"));
    tmux.keys("Enter");
    tmux.wait_for("the prompt staying open", Duration::from_secs(30), |s| {
        s.contains("why skip") && s.contains("needs a reason")
    });
    tmux.keys("handled by the CDN team");
    tmux.keys("Enter");
    tmux.wait_for("the skip confirmation", Duration::from_secs(30), |s| {
        s.contains("Enter confirms") && s.contains("skipped, reason: handled by the CDN team")
    });
    tmux.keys("Enter");
    tmux.wait_for("the skip", Duration::from_secs(30), |s| records(s) == Some(start + 3));
    // Undo it: `u` names the record, Enter appends a reopen. The letter keys are re-armed
    // with arrows (Up, Down: the selection ends where it was), not Esc: a lone ESC byte
    // read together with the next key is Alt+key to the terminal parser, which happens
    // when the machine is busy and the two arrive in one read.
    tmux.keys("Up");
    tmux.keys("Down");
    tmux.keys("u");
    tmux.wait_for("the undo confirmation", Duration::from_secs(30), |s| s.contains("undo your"));
    tmux.keys("Enter");
    tmux.wait_for("the undo", Duration::from_secs(30), |s| records(s) == Some(start + 4));
    let journal = std::fs::read_to_string(case.join("journal.jsonl")).expect("journal");
    let last: Vec<&str> = journal.lines().rev().take(2).collect();
    assert!(
        last[1].contains("\"skip\"") && last[1].contains("handled by the CDN team"),
        "{journal}"
    );
    assert!(last[0].contains("\"reopen\"") && last[0].contains("undo of record"), "{journal}");
    tmux.keys("Up");
    tmux.keys("Down");
    tmux.keys("q");
    let status = wait_for_file(&status_file, Duration::from_secs(30));
    assert_eq!(status.as_deref(), Some("0\n"), "exit status; screen:\n{}", tmux.capture());
    let verify = Command::new(bin).args(["case", "verify"]).arg(&case).output().expect("verify");
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}

/// `leakline watch --config FILE` without a case: the Overview's next step is the exact
/// `leakline case init` command with this session's config file, and the Playbook view
/// says the same.
#[test]
fn watch_without_a_case_shows_the_case_init_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let status_file = dir.path().join("exit-status");
    let bin = env!("CARGO_BIN_EXE_leakline");
    let root = env!("CARGO_MANIFEST_DIR");
    let shell = format!(
        "cd '{root}' && '{bin}' watch --config assets/demo/leakline.toml; echo $? > '{}'",
        status_file.display()
    );
    let tmux = Tmux::start("nocase", 120, 40, &shell);
    let want =
        "leakline case init DIR --config assets/demo/leakline.toml --playbook exposed-api-endpoint";
    tmux.wait_for("the case init command on the overview", Duration::from_secs(120), |s| {
        s.contains("1 Overview") && s.contains(&format!("next: open a case: {want}"))
    });
    tmux.keys("5");
    tmux.wait_for("the same command in the playbook view", Duration::from_secs(30), |s| {
        s.contains(want) && s.contains("then: leakline watch --case DIR")
    });
    tmux.keys("q");
    let status = wait_for_file(&status_file, Duration::from_secs(30));
    assert_eq!(status.as_deref(), Some("0\n"), "exit status; screen:\n{}", tmux.capture());
}
