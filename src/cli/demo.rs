//! `leakline demo`: replay the bundled incident (`assets/demo/`) through the real live
//! pipeline — a temp directory written line by line at accelerated story time, a real
//! `Session` following it with a replay clock, and the dashboard on top.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use leakline::follow::{Clock, SessionOptions, session};
use leakline::tui::replay::{DemoCase, Replayer, story_time};
use leakline::tui::{Mode, Theme, TuiOptions};

use super::UsageError;

/// Wall-clock length of the whole story at the default speed.
const DEFAULT_WALL_SECS: f64 = 45.0;
/// How often the replayer writes what became due.
const WRITE_PERIOD: Duration = Duration::from_millis(50);

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Story seconds per wall second (default: the whole story in about 45 s).
    #[arg(long, value_name = "X")]
    speed: Option<f64>,
    /// Monochrome output (also on when `NO_COLOR` is set).
    #[arg(long)]
    no_color: bool,
    /// Replay into DIR and keep it afterwards (default: a temporary directory, removed on exit).
    /// DIR must not exist yet or be empty.
    #[arg(long, value_name = "DIR")]
    dir: Option<std::path::PathBuf>,
}

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let DemoArgs { speed, no_color, dir } = args;
    let case = DemoCase::bundled().context("the bundled demo case is damaged")?;
    let speed = match speed {
        Some(s) if s.is_finite() && s > 0.0 => s,
        Some(s) => {
            return Err(UsageError(format!("--speed must be a positive number, not {s}")).into());
        }
        None => case.speed_for(DEFAULT_WALL_SECS),
    };
    let (dir, keep) = match dir {
        Some(d) => (d, true),
        None => (std::env::temp_dir().join(format!("leakline-demo-{}", std::process::id())), false),
    };
    if std::fs::read_dir(&dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(UsageError(format!(
            "{}: not empty; the demo needs an empty directory",
            dir.display()
        ))
        .into());
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = play(&dir, case, speed, no_color);
    if !keep {
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            tracing::warn!(dir = %dir.display(), error = %e, "could not remove the demo directory");
        }
    }
    result
}

fn play(
    dir: &std::path::Path,
    case: DemoCase,
    speed: f64,
    no_color: bool,
) -> anyhow::Result<ExitCode> {
    let (start, end) = (case.start, case.end);
    let captions = case.captions.clone();
    let mut replayer = Replayer::new(dir, case)?;
    let t0 = Instant::now();
    let clock: Clock = Arc::new(move || story_time(start, end, speed, t0.elapsed()));

    // The writer runs on its own thread: the session and the UI never wait for it.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, clock) = (Arc::clone(&stop), Arc::clone(&clock));
        std::thread::Builder::new().name("demo-replay".to_owned()).spawn(move || {
            while !stop.load(Ordering::Relaxed) && !replayer.finished() {
                replayer.advance(clock())?;
                std::thread::sleep(WRITE_PERIOD);
            }
            Ok::<(), leakline::tui::replay::ReplayError>(())
        })?
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("leakline")
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let config = DemoCase::config(dir);
    let options = TuiOptions {
        title: format!("{} — replay ×{speed:.0}", config.name),
        no_color: no_color || !Theme::from_env().color,
        mode: Mode::Replay,
        clock: Arc::clone(&clock),
        story: captions,
        playbook: demo_playbook(),
        case: None,
        operator: None,
        export_dir: std::env::current_dir().unwrap_or_else(|_| ".".into()),
        config_path: None,
    };
    let session_options = SessionOptions {
        clock,
        poll_interval: Duration::from_millis(200),
        rotate_wait: Duration::from_secs(1),
        ..SessionOptions::default()
    };
    let result = runtime.block_on(async move {
        let live = session::start(config, session_options);
        leakline::tui::run(live, options).await
    });
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().map_err(|_| anyhow::anyhow!("the demo replay thread panicked"))?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    result?;
    written?;
    Ok(ExitCode::SUCCESS)
}

/// The built-in playbook for this incident, previewed in the Playbook view.
fn demo_playbook() -> Option<Arc<leakline::playbook::Playbook>> {
    let library = leakline::playbook::Library::builtin()
        .map_err(|e| tracing::warn!(error = %e, "built-in playbooks did not load"))
        .ok()?;
    let entry = library.get("exposed-api-endpoint").ok()?;
    Some(Arc::new(entry.playbook.clone()))
}
