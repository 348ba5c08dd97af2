//! Deterministic simulation of log rotation against the tailer (issue 22).
//!
//! Each schedule is generated from a seed: a writer (nginx: appends whole lines, sometimes a
//! line in two halves, keeps writing to its old file until `reopen`) interleaved with
//! logrotate jobs (rename + create + delaycompress, copytruncate + compress, delete +
//! recreate), gzip written in several chunks, copies made in chunks with appends in between,
//! and tailer polls at arbitrary moments with or without discovery (notify events dropped,
//! coalesced or late: the tailer only ever learns *that* names changed, so their order is the
//! order of the polls). Real files in a temp dir; the tailer is driven with explicit instants.
//!
//! Modelled like the tool: logrotate's copy and the truncation that follows it never take
//! `rotate_wait` (a short file that is still a prefix of an open one after that long is new
//! content to the tailer: a scanner that has written only its header, say).
//!
//! The oracle knows every line written (each line carries a unique number). Invariants:
//! - no line is counted twice;
//! - every line that existed in some matched file at a poll with discovery (or at the end)
//!   is counted exactly once, unless copytruncate's race lost it before any read;
//! - every line read live that its rotated copy does not hold (copytruncate's race) is named
//!   by an `Incident::LiveOnly` (when the copy holds at least `identity::MIN_MATCH` bytes:
//!   an empty or one-line copy cannot be told from a new file);
//! - no `Incident::Error` (nothing in a rotation is an error).
//!
//! `LEAKLINE_SIM_SEED=<n>` replays one schedule (printed on failure) with a trace;
//! `LEAKLINE_SIM_RUNS=<n>` changes how many schedules each of the four tests runs (default
//! 300: 1 200 per `cargo test`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use leakline::follow::tailer::{Incident, OpenReason, TailSink, Tailer, TailerOptions};
use leakline::ingest::LineSplitter;
use leakline::model::SourceId;

/// splitmix64: small, seedable, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Default)]
struct Recorder {
    next: u32,
    splitters: BTreeMap<u32, LineSplitter>,
    lines: Vec<(u32, String)>,
    incidents: Vec<Incident>,
    trace: bool,
}

impl TailSink for Recorder {
    fn open(&mut self, path: &Path, reason: OpenReason) -> SourceId {
        let id = self.next;
        self.next += 1;
        if self.trace {
            eprintln!("    open #{id} {} {reason:?}", name(path));
        }
        self.splitters.insert(id, LineSplitter::new());
        SourceId(id)
    }
    fn data(&mut self, stream: SourceId, bytes: &[u8]) {
        let s = self.splitters.get_mut(&stream.0).expect("data for an unknown stream");
        let lines = &mut self.lines;
        let trace = self.trace;
        s.feed(bytes, |l| {
            let text = String::from_utf8_lossy(l.bytes).into_owned();
            if trace {
                eprintln!("    #{} {}", stream.0, &text[..text.len().min(8)]);
            }
            lines.push((stream.0, text));
        });
    }
    fn end(&mut self, stream: SourceId) {
        if self.trace {
            eprintln!("    end #{}", stream.0);
        }
    }
    fn incident(&mut self, incident: Incident) {
        if self.trace {
            eprintln!("    incident {incident:?}");
        }
        self.incidents.push(incident);
    }
}

fn name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// One step of a logrotate job.
#[derive(Debug, Clone)]
enum Step {
    Delete(String),
    Rename(String, String),
    Create(String),
    Reopen,
    /// Compress `src` into `dst` in `chunks` writes, then delete `src`.
    GzStart(String, String),
    GzChunk,
    GzFinish,
    CopyStart(String, String),
    CopyChunk,
    CopyEnd,
    /// The moment between the copy's end and the truncation (appends land in the race).
    Pause,
    Truncate(String),
}

struct Sim {
    rng: Rng,
    dir: PathBuf,
    trace: bool,
    next_line: u64,
    /// The file the writer appends to (follows its inode through renames).
    writer: Option<File>,
    /// Rest of a line written in two halves.
    partial: Option<Vec<u8>>,
    job: Vec<Step>,
    gz: Option<(String, String, Vec<u8>, usize)>,
    copy: Option<(String, String, u64)>,
    /// Lines appended since the current copy's end (lost by the truncation unless read).
    in_race: Option<Vec<u64>>,
    /// When the copy in progress started (copy + truncate end within `rotate_wait / 2`).
    copy_started: Option<Instant>,
    race: BTreeSet<u64>,
    /// Race lines of a copy shorter than `identity::MIN_MATCH`: an empty or one-line copy
    /// cannot be told from a new file, so nothing can say the lines are missing from it.
    race_unnamed: BTreeSet<u64>,
    must: BTreeSet<u64>,
    now: Instant,
}

const LIVE: &str = "access.log";

impl Sim {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    fn line(&mut self) -> Vec<u8> {
        let id = self.next_line;
        self.next_line += 1;
        // Real access-log lines are longer than `identity::MIN_MATCH` (64 bytes): a copy of a
        // single shorter line is ambiguous by design.
        let pad = 60 + self.rng.below(90) as usize;
        let mut l = format!("L{id:07} ").into_bytes();
        l.extend(std::iter::repeat_n(b'a' + (id % 26) as u8, pad));
        l.push(b'\n');
        l
    }

    fn write(&mut self, bytes: &[u8]) {
        if let Some(w) = self.writer.as_mut() {
            w.write_all(bytes).unwrap();
        }
    }

    fn append(&mut self, n: u64) {
        if self.writer.is_none() {
            return;
        }
        let mut buf = Vec::new();
        for _ in 0..n {
            let l = self.line();
            if let Some(race) = self.in_race.as_mut() {
                race.push(self.next_line - 1);
            }
            buf.extend_from_slice(&l);
        }
        self.write(&buf);
    }

    fn start_partial(&mut self) {
        if self.writer.is_none() {
            return;
        }
        let l = self.line();
        if let Some(race) = self.in_race.as_mut() {
            race.push(self.next_line - 1);
        }
        let cut = 1 + self.rng.below(l.len() as u64 - 1) as usize;
        self.write(&l[..cut]);
        self.partial = Some(l[cut..].to_vec());
    }

    fn finish_partial(&mut self) {
        if let Some(rest) = self.partial.take() {
            self.write(&rest);
        }
    }

    fn generation(&self, k: u32) -> Option<String> {
        [format!("{LIVE}.{k}"), format!("{LIVE}.{k}.gz")].into_iter().find(|n| self.exists(n))
    }

    /// Shift the generations (`rotate 3`), then the job's own steps.
    fn plan(&mut self) {
        let mut steps = Vec::new();
        if let Some(n) = self.generation(3) {
            steps.push(Step::Delete(n));
        }
        for k in (1..=2).rev() {
            if let Some(n) = self.generation(k) {
                let to = n.replacen(&format!(".{k}"), &format!(".{}", k + 1), 1);
                steps.push(Step::Rename(n, to));
            }
        }
        let kind = self.rng.below(10);
        let one = format!("{LIVE}.1");
        if kind < 5 {
            // create + delaycompress: the generation that is now .2 gets compressed.
            steps.push(Step::Rename(LIVE.into(), one.clone()));
            steps.push(Step::Create(LIVE.into()));
            steps.push(Step::Reopen);
            if self.exists(&one) {
                steps.push(Step::GzStart(format!("{LIVE}.2"), format!("{LIVE}.2.gz")));
            }
        } else if kind < 9 {
            // copytruncate + compress (no delay).
            steps.push(Step::CopyStart(LIVE.into(), one.clone()));
            for _ in 0..self.rng.below(3) {
                steps.push(Step::CopyChunk);
            }
            steps.push(Step::CopyEnd);
            for _ in 0..self.rng.below(3) {
                steps.push(Step::Pause);
            }
            steps.push(Step::Truncate(LIVE.into()));
            steps.push(Step::GzStart(one.clone(), format!("{one}.gz")));
            if self.exists(&one) {
                // A plain .1 left by a delaycompress rotation is now .2: compress it too.
                steps.push(Step::GzStart(format!("{LIVE}.2"), format!("{LIVE}.2.gz")));
            }
        } else {
            // Deleted and created again at the same path.
            steps.push(Step::Delete(LIVE.into()));
            steps.push(Step::Create(LIVE.into()));
            steps.push(Step::Reopen);
        }
        steps.reverse();
        self.job = steps;
    }

    fn step(&mut self, step: Step) {
        if self.trace {
            eprintln!("  {step:?}");
        }
        match step {
            Step::Delete(n) => {
                let _ = fs::remove_file(self.path(&n));
            }
            Step::Rename(a, b) => {
                if self.exists(&a) {
                    fs::rename(self.path(&a), self.path(&b)).unwrap();
                }
            }
            Step::Create(n) => {
                File::create(self.path(&n)).unwrap();
            }
            Step::Reopen => {
                let p = self.path(LIVE);
                self.writer = Some(OpenOptions::new().create(true).append(true).open(p).unwrap());
            }
            Step::GzStart(src, dst) => {
                let Ok(raw) = fs::read(self.path(&src)) else { return };
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                enc.write_all(&raw).unwrap();
                let gz = enc.finish().unwrap();
                File::create(self.path(&dst)).unwrap();
                self.gz = Some((src, dst, gz, 0));
                for _ in 0..self.rng.below(3) {
                    self.job.push(Step::GzChunk);
                }
                let at = self.job.len() - self.rng.below(3).min(self.job.len() as u64) as usize;
                self.job.insert(at, Step::GzFinish);
            }
            Step::GzChunk => {
                if let Some((_, dst, gz, done)) = self.gz.as_mut() {
                    let upto = (*done + 1 + self.rng.below(gz.len() as u64) as usize).min(gz.len());
                    let mut f = OpenOptions::new().append(true).open(self.dir.join(&*dst)).unwrap();
                    f.write_all(&gz[*done..upto]).unwrap();
                    *done = upto;
                }
            }
            Step::GzFinish => {
                if let Some((src, dst, gz, done)) = self.gz.take() {
                    let mut f = OpenOptions::new().append(true).open(self.path(&dst)).unwrap();
                    f.write_all(&gz[done..]).unwrap();
                    drop(f);
                    fs::remove_file(self.path(&src)).unwrap();
                }
            }
            Step::CopyStart(src, dst) => {
                self.copy_started = Some(self.now);
                File::create(self.path(&dst)).unwrap();
                self.copy = Some((src, dst, 0));
            }
            Step::CopyChunk | Step::CopyEnd => {
                let end = matches!(step, Step::CopyEnd);
                if let Some((src, dst, done)) = self.copy.clone() {
                    let raw = fs::read(self.path(&src)).unwrap();
                    let len = raw.len() as u64;
                    let upto = if end {
                        len
                    } else {
                        (done + self.rng.below(len.saturating_sub(done) + 1)).min(len)
                    };
                    let mut f = OpenOptions::new().append(true).open(self.path(&dst)).unwrap();
                    f.write_all(&raw[done.min(len) as usize..upto as usize]).unwrap();
                    self.copy = Some((src, dst, upto));
                    if end {
                        self.in_race = Some(Vec::new());
                    }
                }
            }
            Step::Pause => {}
            Step::Truncate(n) => {
                OpenOptions::new().write(true).open(self.path(&n)).unwrap().set_len(0).unwrap();
                let copied = self.copy.take().map_or(0, |c| c.2);
                self.copy_started = None;
                if let Some(r) = self.in_race.take() {
                    if copied >= leakline::follow::identity::MIN_MATCH as u64 {
                        self.race.extend(r);
                    } else {
                        self.race_unnamed.extend(r);
                    }
                }
            }
        }
    }

    /// Every complete line in every file the pattern matches (archives once complete).
    fn visible_lines(&self) -> BTreeSet<u64> {
        let mut out = BTreeSet::new();
        for entry in fs::read_dir(&self.dir).unwrap() {
            let p = entry.unwrap().path();
            if !name(&p).starts_with(LIVE) {
                continue;
            }
            let Ok(raw) = fs::read(&p) else { continue };
            let text = if p.extension().is_some_and(|e| e == "gz") {
                let mut d = flate2::read::MultiGzDecoder::new(&raw[..]);
                let mut s = Vec::new();
                if d.read_to_end(&mut s).is_err() {
                    continue;
                }
                s
            } else {
                raw
            };
            for l in text.split_inclusive(|b| *b == b'\n') {
                if l.ends_with(b"\n") {
                    if let Some(id) = parse_id(l) {
                        out.insert(id);
                    }
                }
            }
        }
        out
    }
}

fn parse_id(l: &[u8]) -> Option<u64> {
    std::str::from_utf8(l.get(1..8)?).ok()?.parse().ok()
}

/// Run schedule `seed`; `Err` describes the first broken invariant.
fn run(seed: u64, trace: bool) -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = Rng(seed);
    let rotate_wait = Duration::from_millis(1000 + rng.below(5000));
    let options = TailerOptions {
        from_end: false,
        rotate_wait,
        chunk: 4096,
        budget: if rng.chance(30) { 3000 } else { 8 * 1024 * 1024 },
    };
    let mut sim = Sim {
        rng,
        dir: tmp.path().to_path_buf(),
        trace,
        next_line: 0,
        writer: None,
        partial: None,
        job: Vec::new(),
        gz: None,
        copy: None,
        in_race: None,
        copy_started: None,
        race: BTreeSet::new(),
        race_unnamed: BTreeSet::new(),
        must: BTreeSet::new(),
        now: Instant::now(),
    };
    // Start-up state: a live log, sometimes history.
    sim.step(Step::Reopen);
    let n = sim.rng.below(30);
    sim.append(n);
    if sim.rng.chance(30) {
        sim.plan();
        while let Some(s) = sim.job.pop() {
            sim.step(s);
        }
        let n = sim.rng.below(20);
        sim.append(n);
    }
    let pattern = sim.path(&format!("{LIVE}*")).to_string_lossy().into_owned();
    let mut tailer = Tailer::new(pattern, options);
    let mut rec = Recorder { trace, ..Recorder::default() };
    // Start-up (history read whole, as `analyze` reads it) before any rotation is in flight:
    // two files holding the same lines at start-up are two sources to `analyze` too.
    sim.must.extend(sim.visible_lines());
    tailer.poll(sim.now, true, &mut rec);
    let ops = 40 + sim.rng.below(80);
    for _ in 0..ops {
        let r = sim.rng.below(100);
        if sim.partial.is_some() && r >= 40 {
            sim.finish_partial();
        } else if r < 30 {
            // A poll: discovery when a notify event got through or the stat tick fired.
            let dt = match sim.rng.below(10) {
                0 => 0,
                1 => rotate_wait.as_millis() as u64 + sim.rng.below(3000),
                _ => sim.rng.below(1500),
            };
            // logrotate's copy is one read/write loop followed at once by the truncation: the
            // two do not take `rotate_wait` (the tailer decides that a short file still a prefix of an open one after
            // that long is new content, e.g. a scanner that wrote only its header).
            if sim.copy_started.is_some_and(|t| {
                (sim.now + Duration::from_millis(dt)).duration_since(t) >= rotate_wait / 2
            }) {
                while sim.copy_started.is_some() {
                    let s = sim.job.pop().expect("a copy in progress has a Truncate step");
                    sim.step(s);
                }
            }
            sim.now += Duration::from_millis(dt);
            let discover = sim.rng.chance(50);
            if discover {
                let v = sim.visible_lines();
                sim.must.extend(v);
            }
            if trace {
                eprintln!("  poll +{dt}ms discover={discover}");
            }
            tailer.poll(sim.now, discover, &mut rec);
        } else if r < 40 && sim.partial.is_none() && sim.copy.is_none() {
            sim.start_partial();
        } else if sim.partial.is_some() {
            // Only polls see a half-written line.
        } else if r < 70 {
            // Mostly a few lines, sometimes a burst past the 4 KiB head.
            let n = if sim.rng.chance(5) { 40 + sim.rng.below(40) } else { 1 + sim.rng.below(6) };
            if trace {
                eprintln!("  append {n}");
            }
            sim.append(n);
        } else if let Some(s) = sim.job.pop() {
            sim.step(s);
        } else if sim.rng.chance(25) {
            sim.plan();
        }
    }
    // Finish: complete the line and the job in flight, then let everything settle.
    sim.finish_partial();
    while let Some(s) = sim.job.pop() {
        sim.step(s);
    }
    for _ in 0..6 {
        sim.now += rotate_wait;
        let v = sim.visible_lines();
        sim.must.extend(v);
        tailer.poll(sim.now, true, &mut rec);
    }
    check(&sim, &rec)
}

/// The invariants, once everything has settled.
fn check(sim: &Sim, rec: &Recorder) -> Result<(), String> {
    let mut counted: HashMap<u64, Vec<u32>> = HashMap::new();
    for (stream, l) in &rec.lines {
        let id = parse_id(l.as_bytes()).ok_or_else(|| format!("garbage line read: {l:?}"))?;
        counted.entry(id).or_default().push(*stream);
    }
    if let Some((id, streams)) = counted.iter().find(|(_, s)| s.len() > 1) {
        return Err(format!("line {id} counted {} times (streams {streams:?})", streams.len()));
    }
    for id in &sim.must {
        if !counted.contains_key(id) && !sim.race.contains(id) && !sim.race_unnamed.contains(id) {
            return Err(format!("line {id} existed in a file but was never counted"));
        }
    }
    // Each incident on its own: one may end in the middle of a line (a partial line read).
    let named: BTreeSet<u64> = rec
        .incidents
        .iter()
        .filter_map(|i| match i {
            Incident::LiveOnly { bytes, .. } => Some(bytes),
            _ => None,
        })
        .flat_map(|bytes| bytes.split(|b| *b == b'\n').filter_map(parse_id).collect::<Vec<_>>())
        .collect();
    for id in &sim.race {
        if counted.contains_key(id) && !named.contains(id) {
            return Err(format!("line {id} was read live, lost by copytruncate, and not named"));
        }
    }
    if let Some(e) = rec.incidents.iter().find(|i| matches!(i, Incident::Error { .. })) {
        return Err(format!("an error was reported: {e:?}"));
    }
    Ok(())
}

/// Run `runs` schedules from `base` (one thread); the failures, each with its seed.
fn batch(base: u64, runs: u64) {
    let mut failures = Vec::new();
    for seed in base..base + runs {
        if let Err(e) = run(seed, false) {
            failures.push(format!("seed {seed}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} schedules failed (replay one with LEAKLINE_SIM_SEED=<seed> cargo test \
         --test follow_sim -- --nocapture):\n{}",
        failures.len(),
        failures.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// Schedules per test (four tests run in parallel); `LEAKLINE_SIM_RUNS` overrides.
fn runs() -> u64 {
    std::env::var("LEAKLINE_SIM_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(300)
}

const BASE: u64 = 0x1ea4_11e0;

#[test]
fn rotation_schedules_count_every_line_once() {
    if let Ok(seed) = std::env::var("LEAKLINE_SIM_SEED") {
        let seed: u64 = seed.parse().expect("LEAKLINE_SIM_SEED: a number");
        if let Err(e) = run(seed, true) {
            panic!("seed {seed}: {e}");
        }
        return;
    }
    batch(BASE, runs());
}

#[test]
fn rotation_schedules_count_every_line_once_2() {
    batch(BASE + 1_000_000, runs());
}

#[test]
fn rotation_schedules_count_every_line_once_3() {
    batch(BASE + 2_000_000, runs());
}

#[test]
fn rotation_schedules_count_every_line_once_4() {
    batch(BASE + 3_000_000, runs());
}
