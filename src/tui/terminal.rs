//! Owning the terminal: raw mode + alternate screen inside a guard, restored on every exit
//! path — normal return, error (guard drop), panic (a chained hook), SIGTERM (the loop exits
//! and the guard drops). Restoring is idempotent and never panics; failures are logged.

use std::io::{self, Stdout, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Whether this process currently has the terminal in raw/alternate mode. A process-wide flag
/// because the terminal itself is process-wide, and the panic hook must know whether to undo.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// The terminal in dashboard mode. Dropping it restores the terminal.
pub struct TerminalGuard {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl std::fmt::Debug for TerminalGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalGuard").finish_non_exhaustive()
    }
}

impl TerminalGuard {
    /// Install the panic hook (once), then enter raw mode and the alternate screen. On a
    /// failure half-way, whatever was switched on is switched off again.
    pub fn enter() -> io::Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let setup = execute!(io::stdout(), EnterAlternateScreen, Hide)
            .and_then(|()| Terminal::new(CrosstermBackend::new(io::stdout())));
        match setup {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(e) => {
                log_restore(restore());
                Err(e)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        log_restore(restore());
    }
}

fn log_restore(result: io::Result<()>) {
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not fully restore the terminal");
    }
}

/// Leave raw mode and the alternate screen, show the cursor. Does nothing when the terminal
/// is not ours; safe to call any number of times, from any thread, including a panic hook.
/// Every step is attempted even when an earlier one fails; the first error is returned.
pub fn restore() -> io::Result<()> {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let raw = disable_raw_mode();
    let screen = execute!(io::stdout(), LeaveAlternateScreen, Show);
    raw.and(screen)
}

/// Chain a hook in front of the existing one: restore the terminal first so the panic
/// message lands on a normal screen, then let the previous hook report it.
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = restore();
            previous(info);
        }));
    });
}

/// Ask the terminal to put `text` on the system clipboard (OSC 52). Works over SSH and in
/// tmux (with `set-clipboard on`); terminals that do not support it ignore the sequence.
pub fn copy_osc52(out: &mut dyn Write, text: &str) -> io::Result<()> {
    write!(out, "\x1b]52;c;{}\x07", base64(text.as_bytes()))?;
    out.flush()
}

/// Standard base64 with padding (RFC 4648 §4), for OSC 52.
#[must_use]
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vectors() {
        // RFC 4648 §10 test vectors.
        for (i, o) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")]
        {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn restore_without_enter_is_a_no_op() {
        assert!(restore().is_ok());
        assert!(restore().is_ok());
    }

    #[test]
    fn osc52_sequence() {
        let mut out = Vec::new();
        copy_osc52(&mut out, "ls").ok();
        assert_eq!(out, b"\x1b]52;c;bHM=\x07");
    }
}
