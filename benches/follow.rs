//! Follow benchmark (not a test; run through `bench/follow.sh`).
//!
//! `cargo bench --bench follow -- latency [SECS] [LINES_PER_SEC]`: a writer thread appends
//! combined-format lines every 10 ms at the given rate; for every write we take the moment the
//! session's engine had applied that many events. Prints median / p95 / max latency.
//!
//! `cargo bench --bench follow -- throughput [SECS] [EXTERNAL_EVERY]`: a writer appends as
//! fast as the follower keeps up (at most 2 M lines ahead; rename-rotating the file every
//! 256 MiB so the disk does not fill); one line in `EXTERNAL_EVERY` (default 3, as in the
//! scenario) comes from an external client, the rest from internal ones. Prints events applied
//! per second and the resident set size sampled every second.
//!
//! `cargo bench --bench follow -- soak [SECS=600] [RATE=100000] [EXTERNAL_CLIENTS=300]
//! [EXTERNAL_EVERY=20] [ROTATE_MIB=256] [SPEED=1]`: the RSS soak. A writer appends `RATE`
//! lines/s (every 10 ms) with *advancing* timestamps — `SPEED` seconds of log time per wall
//! second, from 2026-11-27 08:00 UTC — one line in `EXTERNAL_EVERY` from one of
//! `EXTERNAL_CLIENTS` external clients in turn, the rest from 2000 internal ones (50 distinct
//! queries per path), and rename-rotates every `ROTATE_MIB`. Every 10 s it prints lines written / applied, the
//! applied rate, RSS and rotations; at the end the least-squares RSS slope (whole run and
//! second half) and that slope per hour of log time.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use leakline::config::CaseConfig;

#[path = "common/lines.rs"]
mod lines;
use lines::{Mix, push_line};

const ROTATE_BYTES: u64 = 256 * 1024 * 1024;

/// `n` distinct combined lines (clients, paths, statuses vary), second `sec` of a fixed day.
fn block(n: usize, sec: u64, external_every: usize) -> Vec<u8> {
    let (h, m, s) = ((sec / 3600) % 24, (sec / 60) % 60, sec % 60);
    let stamp = format!("27/Nov/2026:{h:02}:{m:02}:{s:02} +0000");
    let mut out = Vec::with_capacity(n * 160);
    for i in 0..n {
        let client = if i % external_every.max(1) == 0 {
            format!("203.0.{}.{}", (i / 250) % 250, i % 250)
        } else {
            format!("10.1.{}.{}", (i / 250) % 250, i % 250)
        };
        push_line(&mut out, i, &client, &stamp, usize::MAX);
    }
    out
}

fn rss_kib() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let mode = args.first().map_or("latency", String::as_str).to_owned();
    let secs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let rate: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(50_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("access.log");
    fs::write(&log, b"").expect("create log");
    let pattern = log.to_string_lossy().into_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let cfg = lines::config(dir.path(), &pattern, "follow bench");
    match mode.as_str() {
        "soak" => {
            let num = |i: usize, d: u64| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
            let soak = Soak {
                secs: num(1, 600),
                rate: num(2, 100_000),
                external_clients: num(3, 300),
                external_every: num(4, 20),
                rotate_mib: num(5, 256),
                speed: num(6, 1),
            };
            runtime.block_on(soak_run(cfg, log, soak));
        }
        "throughput" => {
            let every = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3_usize);
            runtime.block_on(throughput(cfg, log, secs, every));
        }
        _ => runtime.block_on(latency(cfg, log, secs, rate)),
    }
}

async fn latency(cfg: CaseConfig, log: PathBuf, secs: u64, rate: u64) {
    let session = lines::backfilled_session(cfg).await;
    let mut status = session.status.clone();
    let _ = status.borrow_and_update();
    let writes: Arc<Mutex<Vec<(u64, Instant)>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let writer_thread = {
        let (writes, done) = (Arc::clone(&writes), Arc::clone(&done));
        std::thread::spawn(move || {
            let mut f = OpenOptions::new().append(true).open(&log).expect("open log");
            let start = Instant::now();
            let mut written = 0u64;
            let mut sec = 0;
            let lines = block(rate as usize, 0, 3);
            let offsets: Vec<usize> =
                std::iter::once(0).chain(memchr_iter(&lines).map(|i| i + 1)).collect();
            while start.elapsed() < Duration::from_secs(secs) {
                std::thread::sleep(Duration::from_millis(10));
                let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
                if due <= written {
                    continue;
                }
                let (a, b) = ((written % rate) as usize, (due % rate) as usize);
                if b > a {
                    f.write_all(&lines[offsets[a]..offsets[b]]).expect("write");
                } else {
                    f.write_all(&lines[offsets[a]..]).expect("write");
                    f.write_all(&lines[..offsets[b]]).expect("write");
                    sec += 1;
                }
                written = due;
                writes.lock().expect("lock").push((written, Instant::now()));
            }
            let _ = sec;
            done.store(true, Ordering::Relaxed);
        })
    };
    let mut applied: Vec<(u64, Instant)> = Vec::new();
    loop {
        if tokio::time::timeout(Duration::from_secs(5), status.changed()).await.is_err() {
            break;
        }
        let events = status.borrow_and_update().events;
        applied.push((events, Instant::now()));
        let total = writes.lock().expect("lock").last().map_or(0, |w| w.0);
        if done.load(Ordering::Relaxed) && events >= total {
            break;
        }
    }
    writer_thread.join().expect("writer");
    let writes = writes.lock().expect("lock").clone();
    let mut latencies: Vec<f64> = writes
        .iter()
        .filter_map(|(n, t)| {
            let i = applied.partition_point(|(e, _)| e < n);
            applied.get(i).map(|(_, at)| at.saturating_duration_since(*t).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        latencies.get(((latencies.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(f64::NAN)
    };
    let total = writes.last().map_or(0, |w| w.0);
    let last = applied.last().map_or(0, |a| a.0);
    println!(
        "latency: {total} lines appended at {rate} lines/s over {secs} s in {} writes; applied {last}; \
         append-to-applied median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        writes.len(),
        pct(0.5),
        pct(0.95),
        pct(1.0)
    );
    let _ = session.shutdown().await;
}

fn memchr_iter(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    b.iter().enumerate().filter(|(_, c)| **c == b'\n').map(|(i, _)| i)
}

async fn throughput(cfg: CaseConfig, log: PathBuf, secs: u64, external_every: usize) {
    let session = lines::backfilled_session(cfg).await;
    let status = session.status.clone();
    let written = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer_thread = {
        let (written, stop) = (Arc::clone(&written), Arc::clone(&stop));
        let progress = session.status.clone();
        std::thread::spawn(move || {
            // The same block again and again (same times: the correlator's state stays put, so
            // RSS shows the follower's own memory); each file starts with a line of its own,
            // as real rotated logs do (different heads).
            let mut rotation = 0_u64;
            let lines = block(4096, 0, external_every);
            let mut f = OpenOptions::new().append(true).open(&log).expect("open log");
            let mut bytes = 0u64;
            let old = log.with_extension("log.1");
            while !stop.load(Ordering::Relaxed) {
                f.write_all(&lines).expect("write");
                bytes += lines.len() as u64;
                written.fetch_add(4096, Ordering::Relaxed);
                if bytes >= ROTATE_BYTES {
                    let _ = fs::remove_file(&old);
                    fs::rename(&log, &old).expect("rotate");
                    f = OpenOptions::new().create(true).append(true).open(&log).expect("reopen");
                    rotation += 1;
                    let first = format!(
                        "10.9.9.9 - - [27/Nov/2026:00:00:00 +0000] \"GET /rotated?n={rotation} HTTP/1.1\" 200 1 \"-\" \"logrotate\"\n"
                    );
                    f.write_all(first.as_bytes()).expect("write");
                    written.fetch_add(1, Ordering::Relaxed);
                    bytes = 0;
                }
                // Stay at most ~2 M lines ahead: this measures the follower, not the disk.
                while written.load(Ordering::Relaxed) > progress.borrow().events + 2_000_000
                    && !stop.load(Ordering::Relaxed)
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        })
    };
    let start = Instant::now();
    let mut samples = Vec::new();
    for s in 1..=secs {
        tokio::time::sleep_until((start + Duration::from_secs(s)).into()).await;
        let applied = status.borrow().events;
        samples.push((s, written.load(Ordering::Relaxed), applied, rss_kib()));
        if s == secs || s % 10 == 0 || s <= 3 {
            let (_, w, a, r) = samples[samples.len() - 1];
            println!(
                "t={s:>4}s written={w:>11} applied={a:>11} rate={:>9.0}/s rss={r} KiB",
                a as f64 / s as f64
            );
        }
    }
    stop.store(true, Ordering::Relaxed);
    writer_thread.join().expect("writer");
    let (_, w, a, r) = samples[samples.len() - 1];
    let warm = samples.get(samples.len() / 2).map_or((0, 0, 0, 0), |x| *x);
    let steady = (a - warm.2) as f64 / (secs - warm.0) as f64;
    println!(
        "throughput: {a} events applied in {secs} s ({:.0} lines/s overall, {steady:.0} lines/s over \
         the second half); written {w}; RSS at half-time {} KiB, at end {r} KiB",
        a as f64 / secs as f64,
        warm.3
    );
    let _ = session.shutdown().await;
}

/// Parameters of the soak mode (see the module docs).
#[derive(Debug, Clone, Copy)]
struct Soak {
    secs: u64,
    rate: u64,
    external_clients: u64,
    external_every: u64,
    rotate_mib: u64,
    /// Seconds of log time per second of wall time.
    speed: u64,
}

/// Log time of the soak's first line: 2026-11-27 08:00:00 UTC.
const SOAK_BASE: i64 = 1_795_766_400;

/// Least-squares slope of `ys` over `xs`.
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if n < 2.0 {
        return f64::NAN;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let cov: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let var: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    cov / var
}

async fn soak_run(cfg: CaseConfig, log: PathBuf, soak: Soak) {
    println!(
        "soak: {} s at {} lines/s; one line in {} external, from {} external clients (2000 \
         internal); rename rotation every {} MiB; {} s of log time per wall second",
        soak.secs,
        soak.rate,
        soak.external_every,
        soak.external_clients,
        soak.rotate_mib,
        soak.speed
    );
    let session = lines::backfilled_session(cfg).await;
    let status = session.status.clone();
    let written = Arc::new(AtomicU64::new(0));
    let rotations = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let writer_thread = {
        let (written, rotations, stop) =
            (Arc::clone(&written), Arc::clone(&rotations), Arc::clone(&stop));
        std::thread::spawn(move || soak_writer(&log, soak, start, &written, &rotations, &stop))
    };
    let mut samples: Vec<(u64, u64, u64, u64)> = Vec::new();
    println!(
        "{:>6} {:>11} {:>11} {:>9} {:>10} {:>9}",
        "t_s", "written", "applied", "lines/s", "rss_KiB", "rotations"
    );
    let mut s = 0;
    while s < soak.secs {
        s = (s + 10).min(soak.secs);
        tokio::time::sleep_until((start + Duration::from_secs(s)).into()).await;
        let (w, a, r) = (written.load(Ordering::Relaxed), status.borrow().events, rss_kib());
        let prev = samples.last().map_or((0, 0, 0, 0), |x| *x);
        samples.push((s, w, a, r));
        println!(
            "{s:>6} {w:>11} {a:>11} {:>9.0} {r:>10} {:>9}",
            (a - prev.2) as f64 / (s - prev.0) as f64,
            rotations.load(Ordering::Relaxed)
        );
    }
    stop.store(true, Ordering::Relaxed);
    writer_thread.join().expect("writer");
    let (_, w, a, r) = samples[samples.len() - 1];
    let pts = |from: u64| -> Vec<(f64, f64)> {
        samples.iter().filter(|x| x.0 >= from).map(|x| (x.0 as f64, x.3 as f64)).collect()
    };
    let all = slope(&pts(0));
    let late = slope(&pts(soak.secs / 2));
    let per_hour = |kib_per_s: f64| kib_per_s * 3600.0 / soak.speed.max(1) as f64 / 1024.0;
    println!(
        "soak: applied {a} of {w} written in {} s ({:.0} lines/s); {} rotations; RSS {} KiB at \
         first sample, {r} KiB at end; slope {all:.1} KiB/s over the run, {late:.1} KiB/s over \
         the second half = {:.0} MiB (second half: {:.0} MiB) per hour of log time",
        soak.secs,
        a as f64 / soak.secs as f64,
        rotations.load(Ordering::Relaxed),
        samples[0].3,
        per_hour(all),
        per_hour(late)
    );
    let snapshot = session.shutdown().await;
    let _ = snapshot;
}

/// The soak's writer: `soak.rate` lines/s, advancing timestamps, rename rotation, until `stop`.
fn soak_writer(
    log: &Path,
    soak: Soak,
    start: Instant,
    written: &AtomicU64,
    rotations: &AtomicU64,
    stop: &AtomicBool,
) {
    let rotate_bytes = soak.rotate_mib * 1024 * 1024;
    let old = log.with_extension("log.1");
    let mut f = OpenOptions::new().append(true).open(log).expect("open log");
    let (mut n, mut bytes) = (0_u64, 0_u64);
    let mut buf = Vec::with_capacity(2 << 20);
    let (mut stamp_sec, mut stamp) = (i64::MIN, String::new());
    let mix = Mix::new(soak.external_clients, soak.external_every);
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(10));
        let elapsed = start.elapsed().as_secs_f64();
        let due = (elapsed * soak.rate as f64) as u64;
        let sec = SOAK_BASE + (elapsed * soak.speed as f64) as i64;
        if sec != stamp_sec {
            stamp_sec = sec;
            stamp = chrono::DateTime::from_timestamp(sec, 0)
                .expect("time")
                .format("%d/%b/%Y:%H:%M:%S +0000")
                .to_string();
        }
        buf.clear();
        for k in n..due {
            push_line(&mut buf, k as usize, mix.client(k), &stamp, 50);
        }
        f.write_all(&buf).expect("write");
        bytes += buf.len() as u64;
        written.store(due, Ordering::Relaxed);
        n = due;
        if bytes >= rotate_bytes {
            let _ = fs::remove_file(&old);
            fs::rename(log, &old).expect("rotate");
            f = OpenOptions::new().create(true).append(true).open(log).expect("reopen");
            rotations.fetch_add(1, Ordering::Relaxed);
            bytes = 0;
        }
    }
}
