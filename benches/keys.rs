//! Key-to-screen latency of the dashboard while ingesting (not a test; run `bench/tui.sh`).
//!
//! `cargo bench --bench keys -- [KEYS=250] [RATE=100000] [INTERVAL_MS=100]
//! [EXTERNAL_CLIENTS=300]`: a real live `Session` follows a file that a writer thread appends
//! to at `RATE` lines/s (the follow bench's line generator: current timestamps,
//! `EXTERNAL_CLIENTS` external clients, one line in 20 external); the real event loop
//! (`tui::event_loop::drive`) draws into a 120×40 `TestBackend` wrapped in a probe that
//! time-stamps every flushed frame. Every `INTERVAL_MS` one key is injected, cycling `1` `2`
//! `3` `4` (Overview, Timeline, Actors, Events — each switch changes the pane heading on row
//! 3); latency = injection → the first flushed frame showing that key's pane. Prints median /
//! p95 / max (target ≤ 50 ms) and the ingest rate meanwhile. The time to write a frame to a
//! real terminal (crossterm to a pty) is not included.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc;
use leakline::config::CaseConfig;
use leakline::tui::TuiOptions;
use leakline::tui::event_loop::{self, Feeds};
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};

#[path = "common/lines.rs"]
mod lines;
use lines::{Mix, push_line};

/// Keys and the heading (row 3) of the pane each one opens.
const KEYS: [(char, &str); 4] =
    [('1', "── Services"), ('2', "── Exposure windows"), ('3', "── Actors"), ('4', "── Events")];

/// Frames flushed so far: (when, index into `KEYS` of the pane shown, or `usize::MAX`).
type Frames = Arc<Mutex<Vec<(Instant, usize)>>>;

/// A `TestBackend` that records, at every flush, which pane the screen shows.
struct Probe {
    inner: TestBackend,
    frames: Frames,
}

impl Backend for Probe {
    type Error = <TestBackend as Backend>::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.inner.size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()?;
        let at = Instant::now();
        let buf = self.inner.buffer();
        let row: String = (0..buf.area.width).map(|x| buf[(x, 2)].symbol()).collect();
        let pane = KEYS.iter().position(|(_, h)| row.starts_with(h)).unwrap_or(usize::MAX);
        self.frames.lock().expect("frames").push((at, pane));
        Ok(())
    }
}

/// Append at `rate` lines/s (every 10 ms, timestamps = now) until `stop`.
fn writer(log: &Path, rate: u64, mix: &Mix, written: &AtomicU64, stop: &AtomicBool) {
    let mut f = OpenOptions::new().append(true).open(log).expect("open log");
    let start = Instant::now();
    let mut n = 0_u64;
    let mut buf = Vec::with_capacity(2 << 20);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(10));
        let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
        let stamp = chrono::Utc::now().format("%d/%b/%Y:%H:%M:%S +0000").to_string();
        buf.clear();
        for k in n..due {
            push_line(&mut buf, k as usize, mix.client(k), &stamp, 50);
        }
        f.write_all(&buf).expect("write");
        n = due;
        written.store(n, Ordering::Relaxed);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let num = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (keys, rate, interval) = (num(0, 250), num(1, 100_000), num(2, 100));
    let mix = Mix::new(num(3, 300), 20);
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("access.log");
    fs::write(&log, b"").expect("create log");
    let cfg = lines::config(dir.path(), &log.to_string_lossy(), "keys bench");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(cfg, log, mix, keys, rate, Duration::from_millis(interval)));
}

async fn run(cfg: CaseConfig, log: PathBuf, mix: Mix, keys: u64, rate: u64, interval: Duration) {
    let session = lines::backfilled_session(cfg).await;
    let status = session.status.clone();
    let written = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer_thread = {
        let (written, stop) = (Arc::clone(&written), Arc::clone(&stop));
        std::thread::spawn(move || writer(&log, rate, &mix, &written, &stop))
    };
    // Let ingestion reach its rate before the first key.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = (Instant::now(), status.borrow().events);

    let frames: Frames = Arc::default();
    let backend = Probe { inner: TestBackend::new(120, 40), frames: Arc::clone(&frames) };
    let mut terminal = Terminal::new(backend).expect("terminal");
    let mut tui = TuiOptions::live("keys bench");
    tui.no_color = false;
    tui.operator = None;
    tui.export_dir = std::env::temp_dir();
    let feeds = Feeds::of(&session);
    let (keys_tx, keys_rx) = mpsc::unbounded::<std::io::Result<TermEvent>>();
    let mut clipboard = Vec::new();
    let driver = event_loop::drive(&mut terminal, keys_rx, feeds, &tui, &mut clipboard);
    let script = async {
        let mut sent = Vec::new();
        let start = tokio::time::Instant::now();
        for k in 0..keys {
            tokio::time::sleep_until(start + interval * (k as u32 + 1)).await;
            let i = (k % KEYS.len() as u64) as usize;
            let key = KeyEvent::new(KeyCode::Char(KEYS[i].0), KeyModifiers::NONE);
            sent.push((Instant::now(), i));
            keys_tx.unbounded_send(Ok(TermEvent::Key(key))).expect("key");
        }
        tokio::time::sleep(interval).await;
        let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        keys_tx.unbounded_send(Ok(TermEvent::Key(q))).expect("quit");
        sent
    };
    let (app, sent) = tokio::join!(driver, script);
    let after = (Instant::now(), status.borrow().events);
    app.expect("event loop");
    stop.store(true, Ordering::Relaxed);
    writer_thread.join().expect("writer");

    let frames = frames.lock().expect("frames").clone();
    let mut missed = 0;
    let mut latencies: Vec<f64> = sent
        .iter()
        .filter_map(|(at, pane)| {
            let shown = frames.iter().find(|(t, p)| t >= at && p == pane);
            if shown.is_none() {
                missed += 1;
            }
            shown.map(|(t, _)| t.duration_since(*at).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies.get(((latencies.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(f64::NAN)
    };
    let ingest = (after.1 - before.1) as f64 / after.0.duration_since(before.0).as_secs_f64();
    let actors = session.snapshots.borrow().actors.len();
    println!(
        "keys: {} keys every {} ms while appending {rate} lines/s ({actors} external actors) (applied {ingest:.0} lines/s \
         meanwhile, {} written, {} applied); {} frames; key-to-screen median {:.1} ms, p95 {:.1} \
         ms, max {:.1} ms; {missed} keys never shown",
        sent.len(),
        interval.as_millis(),
        written.load(Ordering::Relaxed),
        after.1,
        frames.len(),
        pct(0.5),
        pct(0.95),
        pct(1.0),
    );
    let _ = session.shutdown().await;
}
