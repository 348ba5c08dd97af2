//! Live follow: rotation, truncation, deletion, compression and partial lines on real files.
//!
//! The tailer tests drive `Tailer::poll` with an explicit `Instant` (no threads, no sleeps);
//! the runner and binary tests wait on observable state with generous timeouts.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use leakline::follow::tailer::{Incident, OpenReason, TailSink, Tailer, TailerOptions};
use leakline::ingest::LineSplitter;
use leakline::model::SourceId;

/// Records every stream's complete lines (split by the real `LineSplitter`) and incidents.
#[derive(Default)]
struct Recorder {
    next: u32,
    streams: BTreeMap<u32, (PathBuf, OpenReason, LineSplitter, Vec<String>, bool)>,
    incidents: Vec<Incident>,
}

impl TailSink for Recorder {
    fn open(&mut self, path: &Path, reason: OpenReason) -> SourceId {
        let id = self.next;
        self.next += 1;
        self.streams
            .insert(id, (path.to_path_buf(), reason, LineSplitter::new(), Vec::new(), false));
        SourceId(id)
    }
    fn data(&mut self, stream: SourceId, bytes: &[u8]) {
        let s = self.streams.get_mut(&stream.0).expect("data for an unknown stream");
        let (splitter, lines) = (&mut s.2, &mut s.3);
        splitter.feed(bytes, |l| lines.push(String::from_utf8_lossy(l.bytes).into_owned()));
    }
    fn end(&mut self, stream: SourceId) {
        self.streams.get_mut(&stream.0).expect("end of an unknown stream").4 = true;
    }
    fn incident(&mut self, incident: Incident) {
        self.incidents.push(incident);
    }
}

impl Recorder {
    /// Every complete line of every stream, sorted (each must appear exactly once).
    fn all_lines(&self) -> Vec<String> {
        let mut v: Vec<String> = self.streams.values().flat_map(|s| s.3.iter().cloned()).collect();
        v.sort();
        v
    }
    fn count(&self, pred: impl Fn(&Incident) -> bool) -> usize {
        self.incidents.iter().filter(|i| pred(i)).count()
    }
}

fn lines(prefix: &str, range: std::ops::Range<u32>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for i in range {
        let _ = writeln!(out, "{prefix} line {i:05} with some padding to look like a log");
    }
    out
}

fn expected(parts: &[(&str, std::ops::Range<u32>)]) -> Vec<String> {
    let mut v: Vec<String> = parts
        .iter()
        .flat_map(|(p, r)| lines(p, r.clone()).lines().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    v.sort();
    v
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new().create(true).append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn opts(from_end: bool) -> TailerOptions {
    TailerOptions { from_end, rotate_wait: Duration::from_secs(5), ..TailerOptions::default() }
}

fn pattern(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}

#[test]
fn backfill_then_appends_and_a_partial_line_waits_for_its_newline() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    append(&log, &lines("a", 0..10));
    let mut t = Tailer::new(pattern(dir.path(), "access.log"), opts(false));
    let mut rec = Recorder::default();
    let t0 = Instant::now();
    t.poll(t0, true, &mut rec);
    assert_eq!(rec.all_lines().len(), 10);
    append(&log, "partial li");
    t.poll(t0, false, &mut rec);
    assert_eq!(rec.all_lines().len(), 10, "no line until its newline");
    append(&log, "ne completed\n");
    t.poll(t0, false, &mut rec);
    let all = rec.all_lines();
    assert_eq!(all.len(), 11);
    assert!(all.contains(&"partial line completed".to_owned()));
    assert_eq!(rec.streams.len(), 1);
    assert!(rec.incidents.is_empty(), "{:?}", rec.incidents);
}

#[test]
fn from_end_skips_history_but_reads_what_follows() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    append(&log, &lines("old", 0..50));
    let mut t = Tailer::new(pattern(dir.path(), "access.log"), opts(true));
    let mut rec = Recorder::default();
    let t0 = Instant::now();
    t.poll(t0, true, &mut rec);
    append(&log, &lines("new", 0..3));
    t.poll(t0, false, &mut rec);
    assert_eq!(rec.all_lines(), expected(&[("new", 0..3)]));
}

#[test]
fn rename_rotation_reads_the_old_file_until_quiet_and_the_new_one_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let mut writer = OpenOptions::new().create(true).append(true).open(&log).unwrap();
    writer.write_all(lines("before", 0..100).as_bytes()).unwrap();
    let mut t = Tailer::new(pattern(dir.path(), "access.log"), opts(false));
    let mut rec = Recorder::default();
    let t0 = Instant::now();
    t.poll(t0, true, &mut rec);
    // logrotate renames; the writer keeps appending to the renamed file for a while.
    fs::rename(&log, dir.path().join("access.log.1")).unwrap();
    writer.write_all(lines("late", 0..20).as_bytes()).unwrap();
    append(&log, &lines("after", 0..30));
    t.poll(t0 + Duration::from_secs(1), true, &mut rec);
    writer.write_all(lines("later", 0..5).as_bytes()).unwrap();
    t.poll(t0 + Duration::from_secs(2), true, &mut rec);
    assert_eq!(t.open_files(), 2, "old descriptor still open while not quiet");
    t.poll(t0 + Duration::from_secs(8), true, &mut rec);
    assert_eq!(t.open_files(), 1, "old descriptor closed after rotate_wait of quiet");
    append(&log, &lines("after", 30..40));
    t.poll(t0 + Duration::from_secs(9), true, &mut rec);
    assert_eq!(
        rec.all_lines(),
        expected(&[("before", 0..100), ("late", 0..20), ("later", 0..5), ("after", 0..40)])
    );
    assert_eq!(rec.count(|i| matches!(i, Incident::Rotated { to: None, .. })), 1);
    assert_eq!(rec.streams.len(), 2);
    assert!(rec.streams[&0].4, "the rotated stream ended");
    assert_eq!(rec.streams[&1].1, OpenReason::Appeared);
}

#[test]
fn rotation_within_the_glob_is_never_reread_and_a_compressed_rotation_is_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    append(&log, &lines("gen1", 0..200));
    let mut t = Tailer::new(pattern(dir.path(), "access.log*"), opts(false));
    let mut rec = Recorder::default();
    let t0 = Instant::now();
    t.poll(t0, true, &mut rec);
    // access.log -> access.log.1 (same inode, still matched by the glob), new access.log.
    fs::rename(&log, dir.path().join("access.log.1")).unwrap();
    append(&log, &lines("gen2", 0..10));
    t.poll(t0 + Duration::from_secs(1), true, &mut rec);
    t.poll(t0 + Duration::from_secs(10), true, &mut rec);
    assert_eq!(t.open_files(), 1);
    // Next rotation: access.log.1 is compressed to access.log.2.gz and removed.
    let raw = fs::read(dir.path().join("access.log.1")).unwrap();
    let gz = dir.path().join("access.log.2.gz");
    let mut enc =
        flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
    enc.write_all(&raw).unwrap();
    enc.finish().unwrap();
    fs::remove_file(dir.path().join("access.log.1")).unwrap();
    t.poll(t0 + Duration::from_secs(11), true, &mut rec);
    t.poll(t0 + Duration::from_secs(12), true, &mut rec);
    assert_eq!(rec.all_lines(), expected(&[("gen1", 0..200), ("gen2", 0..10)]));
    let renamed = rec.count(
        |i| matches!(i, Incident::Rotated { to: Some(to), .. } if to.ends_with("access.log.1")),
    );
    assert_eq!(renamed, 1, "{:?}", rec.incidents);
    let recognised = rec.count(|i| {
        matches!(i, Incident::Recognized { path, extra: 0, .. } if path.ends_with("access.log.2.gz"))
    });
    assert_eq!(recognised, 1, "{:?}", rec.incidents);
    assert_eq!(rec.streams.len(), 2);
}

#[test]
fn copytruncate_reads_the_new_content_from_zero_and_the_copy_only_past_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    append(&log, &lines("old", 0..100));
    let mut t = Tailer::new(pattern(dir.path(), "access.log*"), opts(false));
    let mut rec = Recorder::default();
    let t0 = Instant::now();
    t.poll(t0, true, &mut rec);
    // Lines written after our last read but before the copy exist only in the copy.
    append(&log, &lines("old", 100..107));
    fs::copy(&log, dir.path().join("access.log.1")).unwrap();
    t.poll(t0 + Duration::from_secs(1), true, &mut rec);
    // The copy matched the open file: it is held, not read (it may be a plain copy).
    assert_eq!(rec.all_lines().len(), 107);
    OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
    append(&log, &lines("new", 0..3));
    for s in 2..4 {
        t.poll(t0 + Duration::from_secs(s), true, &mut rec);
    }
    assert_eq!(rec.all_lines(), expected(&[("old", 0..107), ("new", 0..3)]));
    assert_eq!(rec.count(|i| matches!(i, Incident::Truncated { .. })), 1, "{:?}", rec.incidents);
    // A second truncation with more bytes than before is still detected (changed head).
    append(&log, &lines("new", 3..5));
    t.poll(t0 + Duration::from_secs(5), true, &mut rec);
    OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
    append(&log, &lines("newer", 0..40));
    t.poll(t0 + Duration::from_secs(6), true, &mut rec);
    assert_eq!(rec.all_lines(), expected(&[("old", 0..107), ("new", 0..5), ("newer", 0..40)]));
    assert_eq!(rec.count(|i| matches!(i, Incident::Truncated { .. })), 2);
}

#[test]
fn copy_read_before_truncation_is_continued_from_the_old_offset() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    append(&log, &lines("old", 0..60));
    let mut t = Tailer::new(pattern(dir.path(), "access.log*"), opts(false));
    let mut rec = Recorder::default();
    let t0 = Instant::now();
    t.poll(t0, true, &mut rec);
    append(&log, &lines("old", 60..64));
    // Truncation seen first, the copy discovered afterwards.
    let content = fs::read(&log).unwrap();
    OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
    t.poll(t0 + Duration::from_secs(1), false, &mut rec);
    fs::write(dir.path().join("access.log-20260101"), &content).unwrap();
    for s in 2..4 {
        t.poll(t0 + Duration::from_secs(s), true, &mut rec);
    }
    assert_eq!(rec.all_lines(), expected(&[("old", 0..64)]));
    assert_eq!(rec.count(|i| matches!(i, Incident::Recognized { extra, .. } if *extra > 0)), 1);
}

#[test]
fn deleted_and_recreated_and_a_file_that_appears_later() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let mut t = Tailer::new(pattern(dir.path(), "access.log"), opts(false));
    let mut rec = Recorder::default();
    let t0 = Instant::now();
    t.poll(t0, true, &mut rec);
    assert!(rec.streams.is_empty());
    append(&log, &lines("first", 0..25));
    t.poll(t0 + Duration::from_secs(1), true, &mut rec);
    fs::remove_file(&log).unwrap();
    t.poll(t0 + Duration::from_secs(2), true, &mut rec);
    append(&log, &lines("second", 0..15));
    t.poll(t0 + Duration::from_secs(3), true, &mut rec);
    t.poll(t0 + Duration::from_secs(9), true, &mut rec);
    assert_eq!(rec.all_lines(), expected(&[("first", 0..25), ("second", 0..15)]));
    assert_eq!(rec.count(|i| matches!(i, Incident::Rotated { to: None, .. })), 1);
    assert_eq!(t.open_files(), 1);
    // Recreated once more after the old descriptor closed (its inode may be reused).
    fs::remove_file(&log).unwrap();
    t.poll(t0 + Duration::from_secs(10), true, &mut rec);
    t.poll(t0 + Duration::from_secs(20), true, &mut rec);
    append(&log, &lines("third", 0..5));
    t.poll(t0 + Duration::from_secs(21), true, &mut rec);
    assert_eq!(rec.all_lines(), expected(&[("first", 0..25), ("second", 0..15), ("third", 0..5)]));
}

#[test]
fn a_directory_where_a_file_is_expected_is_an_error_and_others_keep_going() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("b.log")).unwrap();
    append(&dir.path().join("a.log"), &lines("a", 0..4));
    let mut t = Tailer::new(pattern(dir.path(), "*.log"), opts(false));
    let mut rec = Recorder::default();
    let t0 = Instant::now();
    t.poll(t0, true, &mut rec);
    t.poll(t0, true, &mut rec);
    append(&dir.path().join("a.log"), &lines("a", 4..6));
    t.poll(t0, true, &mut rec);
    assert_eq!(rec.all_lines(), expected(&[("a", 0..6)]));
    let errors: Vec<_> = rec
        .incidents
        .iter()
        .filter_map(|i| match i {
            Incident::Error { path, reason, .. } => Some((path.clone(), reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1, "reported once: {errors:?}");
    assert!(errors[0].0.ends_with("b.log"));
    assert!(errors[0].1.to_lowercase().contains("is a directory"), "{}", errors[0].1);
    // Retried later: the same failure is not reported again.
    t.poll(t0 + Duration::from_secs(30), true, &mut rec);
    assert_eq!(rec.count(|i| matches!(i, Incident::Error { .. })), 1);
    // Replaced by a real file: recovered, read.
    fs::remove_dir(dir.path().join("b.log")).unwrap();
    append(&dir.path().join("b.log"), &lines("b", 0..2));
    t.poll(t0 + Duration::from_secs(31), true, &mut rec);
    assert_eq!(rec.count(|i| matches!(i, Incident::Recovered { .. })), 1, "{:?}", rec.incidents);
    assert_eq!(rec.all_lines(), expected(&[("a", 0..6), ("b", 0..2)]));
}

#[test]
fn a_missing_directory_is_an_error_until_it_appears() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("logs");
    let mut t = Tailer::new(pattern(&sub, "*.log"), opts(false));
    let mut rec = Recorder::default();
    let t0 = Instant::now();
    t.poll(t0, true, &mut rec);
    t.poll(t0, true, &mut rec);
    assert_eq!(rec.count(|i| matches!(i, Incident::Error { .. })), 1, "{:?}", rec.incidents);
    fs::create_dir(&sub).unwrap();
    append(&sub.join("x.log"), &lines("x", 0..3));
    t.poll(t0, true, &mut rec);
    assert_eq!(rec.count(|i| matches!(i, Incident::Recovered { .. })), 1);
    assert_eq!(rec.all_lines(), expected(&[("x", 0..3)]));
}

#[test]
fn archives_present_at_start_are_read_whole_and_a_growing_archive_waits_until_complete() {
    let dir = tempfile::tempdir().unwrap();
    let gz_bytes = |text: &str| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap()
    };
    fs::write(dir.path().join("access.log.3.gz"), gz_bytes(&lines("arch", 0..30))).unwrap();
    append(&dir.path().join("access.log"), &lines("live", 0..5));
    let mut t = Tailer::new(pattern(dir.path(), "access.log*"), opts(false));
    let mut rec = Recorder::default();
    let t0 = Instant::now();
    t.poll(t0, true, &mut rec);
    assert_eq!(rec.all_lines(), expected(&[("arch", 0..30), ("live", 0..5)]));
    assert_eq!(t.open_files(), 1, "an archive is read once, not kept open");
    // An unrelated archive written in two steps: nothing until it is complete, then read once.
    let other = gz_bytes(&lines("other", 0..400));
    let path = dir.path().join("access.log.other.gz");
    fs::write(&path, &other[..other.len() / 2]).unwrap();
    t.poll(t0 + Duration::from_secs(1), true, &mut rec);
    assert_eq!(rec.all_lines().len(), 35);
    fs::write(&path, &other).unwrap();
    t.poll(t0 + Duration::from_secs(2), true, &mut rec);
    t.poll(t0 + Duration::from_secs(3), true, &mut rec);
    assert_eq!(rec.all_lines(), expected(&[("arch", 0..30), ("live", 0..5), ("other", 0..400)]));
    assert!(rec.incidents.is_empty(), "{:?}", rec.incidents);
}

#[test]
fn a_copy_caught_while_still_tiny_is_not_mistaken_for_new_content() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    append(&log, &lines("old", 0..50));
    let mut t = Tailer::new(pattern(dir.path(), "access.log*"), opts(false));
    let mut rec = Recorder::default();
    let t0 = Instant::now();
    t.poll(t0, true, &mut rec);
    // A copy whose first 10 bytes are all that exist yet.
    let content = fs::read(&log).unwrap();
    let copy = dir.path().join("access.log.1");
    fs::write(&copy, &content[..10]).unwrap();
    t.poll(t0 + Duration::from_secs(1), true, &mut rec);
    fs::write(&copy, &content).unwrap();
    t.poll(t0 + Duration::from_secs(2), true, &mut rec);
    assert_eq!(rec.all_lines(), expected(&[("old", 0..50)]), "the copy is not read again");
    // A genuinely new file that happens to be tiny is read once it has waited rotate_wait.
    let tiny = dir.path().join("access.log.new");
    fs::write(&tiny, "old line 0").unwrap();
    t.poll(t0 + Duration::from_secs(3), true, &mut rec);
    assert_eq!(rec.streams.len(), 1);
    t.poll(t0 + Duration::from_secs(9), true, &mut rec);
    append(&tiny, "\n");
    t.poll(t0 + Duration::from_secs(10), true, &mut rec);
    assert_eq!(rec.streams.len(), 2);
    assert!(rec.all_lines().contains(&"old line 0".to_owned()));
}

#[test]
fn a_new_scan_sharing_a_header_with_an_old_one_is_new_content() {
    let dir = tempfile::tempdir().unwrap();
    let header = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n\
                  <?xml-stylesheet href=\"file:///usr/share/nmap/nmap.xsl\" type=\"text/xsl\"?>\n";
    let old =
        format!("{header}<!-- Nmap 7.94 scan initiated Mon Nov  3 11:00:01 2026 -->\n<host/>\n");
    append(&dir.path().join("nmap-1100.xml"), &old);
    let mut t = Tailer::new(pattern(dir.path(), "nmap-*.xml"), opts(false));
    let mut rec = Recorder::default();
    let t0 = Instant::now();
    t.poll(t0, true, &mut rec);
    // A running nmap has written only the common header so far, and stalls.
    let new = dir.path().join("nmap-1215.xml");
    append(&new, header);
    t.poll(t0 + Duration::from_secs(1), true, &mut rec);
    assert_eq!(rec.streams.len(), 1, "undecided while it could still be a copy");
    t.poll(t0 + Duration::from_secs(7), true, &mut rec);
    assert_eq!(rec.streams.len(), 2, "after rotate_wait it is new content, read from 0");
    append(&new, "<!-- Nmap 7.94 scan initiated Mon Nov  3 12:15:00 2026 -->\n<host/>\n");
    t.poll(t0 + Duration::from_secs(8), false, &mut rec);
    let lines = &rec.streams[&1].3;
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert!(lines[0].starts_with("<?xml"));
    // A second one that grows past the header before the wait ends is new at once.
    let third = dir.path().join("nmap-1240.xml");
    append(&third, header);
    t.poll(t0 + Duration::from_secs(9), true, &mut rec);
    append(&third, "<!-- Nmap 7.94 scan initiated Mon Nov  3 12:40:00 2026 -->\n");
    t.poll(t0 + Duration::from_secs(10), true, &mut rec);
    assert_eq!(rec.streams.len(), 3);
    assert_eq!(rec.streams[&2].3.len(), 4);
}

// ---------------------------------------------------------------------------------------------
// Session: follower threads + decoder + correlator, on real files.

mod session {
    use super::*;
    use leakline::config::{AccessSpec, AddressSpec, CaseConfig, ServiceConfig};
    use leakline::follow::{SessionOptions, SessionStatus, session};
    use leakline::model::snapshot::GapKind;
    use tokio::sync::watch;

    const WAIT: Duration = Duration::from_secs(30);

    fn combined(prefix: u8, range: std::ops::Range<u32>) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for i in range {
            let _ = writeln!(
                out,
                "203.0.113.{prefix} - - [27/Nov/2026:10:{:02}:{:02} +0000] \"GET /v1/models?i={i} HTTP/1.1\" 200 {} \"-\" \"curl/8.5.0\"",
                (i / 60) % 60,
                i % 60,
                100 + i
            );
        }
        out
    }

    fn config(dir: &Path, pattern: &str) -> CaseConfig {
        CaseConfig {
            path: None,
            base_dir: dir.to_path_buf(),
            name: "follow test".into(),
            timezone: chrono_tz::UTC,
            internal: vec!["10.0.0.0/8".parse().unwrap()],
            trusted_proxies: Vec::new(),
            allow: Vec::new(),
            services: vec![ServiceConfig {
                name: "gateway".into(),
                addresses: AddressSpec::parse("192.0.2.40:443").into_iter().collect(),
                access: vec![AccessSpec {
                    pattern: pattern.to_owned(),
                    format: None,
                    fields: None,
                    clickhouse: None,
                }],
                sensitive: Vec::new(),
            }],
            scans: Vec::new(),
            scanners: Vec::new(),
            enrich: leakline::config::EnrichConfig::default(),
        }
    }

    fn options() -> SessionOptions {
        SessionOptions {
            rotate_wait: Duration::from_millis(300),
            poll_interval: Duration::from_millis(100),
            ..SessionOptions::default()
        }
    }

    async fn wait_for(
        status: &mut watch::Receiver<SessionStatus>,
        what: &str,
        pred: impl Fn(&SessionStatus) -> bool,
    ) {
        let res = tokio::time::timeout(WAIT, async {
            loop {
                if pred(&status.borrow_and_update()) {
                    return;
                }
                if status.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
        assert!(res.is_ok(), "timed out waiting for {what}: {:?}", *status.borrow());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_request_is_applied_once_through_rotation_truncation_and_partial_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("access.log");
        append(&log, &combined(1, 0..500));
        let s = session::start(config(dir.path(), &pattern(dir.path(), "access.log*")), options());
        let mut status = s.status.clone();
        wait_for(&mut status, "backfill", |st| st.backfilled && st.events == 500).await;

        // A partial line is not an event until its newline arrives.
        let more = combined(2, 0..10);
        let (head, tail) = more.split_at(more.len() - 20);
        append(&log, head);
        wait_for(&mut status, "9 appended", |st| st.events == 509).await;
        append(&log, tail);
        wait_for(&mut status, "partial line completed", |st| st.events == 510).await;

        // Rename rotation: the writer keeps appending to the renamed file.
        let mut old = OpenOptions::new().append(true).open(&log).unwrap();
        fs::rename(&log, dir.path().join("access.log.1")).unwrap();
        old.write_all(combined(3, 0..40).as_bytes()).unwrap();
        append(&log, &combined(4, 0..25));
        wait_for(&mut status, "rotation", |st| st.events == 575).await;

        // copytruncate of the new file.
        append(&log, &combined(5, 0..5));
        wait_for(&mut status, "before truncation", |st| st.events == 580).await;
        fs::copy(&log, dir.path().join("access.log.2")).unwrap();
        OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
        append(&log, &combined(6, 0..7));
        wait_for(&mut status, "after truncation", |st| st.events == 587).await;

        let snap = s.shutdown().await;
        let lines: u64 = snap.sources.iter().map(|h| h.lines).sum();
        let events: u64 = snap.sources.iter().map(|h| h.events).sum();
        assert_eq!((lines, events), (587, 587), "{:#?}", snap.sources);
        let kinds: Vec<GapKind> = snap.gaps.iter().map(|g| g.kind).collect();
        assert!(kinds.contains(&GapKind::Rotated), "{kinds:?}");
        assert!(kinds.contains(&GapKind::Truncated), "{kinds:?}");
        assert_eq!(snap.sources.iter().map(|h| h.rotations).sum::<u64>(), 1);
        assert_eq!(snap.sources.iter().map(|h| h.truncations).sum::<u64>(), 1);
        assert_eq!(snap.services[0].external_requests, 587);
        assert_eq!(snap.actors.len(), 6, "203.0.113.1 to .6");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_channel_slows_the_followers_and_drops_nothing() {
        let dir = tempfile::tempdir().unwrap();
        for (n, name) in ["a.log", "b.log", "c.log"].iter().enumerate() {
            append(&dir.path().join(name), &combined(n as u8 + 1, 0..30_000));
        }
        let opts = SessionOptions { channel_capacity: 1, ..options() };
        let s = session::start(config(dir.path(), &pattern(dir.path(), "*.log")), opts);
        // A display that never reads: it lags, the correlator does not.
        let _idle = s.subscribe();
        let mut status = s.status.clone();
        wait_for(&mut status, "90 000 events", |st| st.backfilled && st.events == 90_000).await;
        append(&dir.path().join("b.log"), &combined(9, 0..10));
        wait_for(&mut status, "10 more", |st| st.events == 90_010).await;
        let snap = s.shutdown().await;
        assert_eq!(snap.sources.iter().map(|h| h.events).sum::<u64>(), 90_010);
        assert_eq!(snap.services[0].external_requests, 90_010);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_live_source_that_goes_quiet_while_another_writes_is_a_silent_gap() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.log"), dir.path().join("b.log"));
        append(&a, &combined(1, 0..20));
        append(&b, &combined(2, 0..20));
        let opts = SessionOptions {
            silence_after: Duration::from_millis(300),
            tick: Duration::from_millis(50),
            ..options()
        };
        let s = session::start(config(dir.path(), &pattern(dir.path(), "*.log")), opts);
        let mut status = s.status.clone();
        wait_for(&mut status, "backfill", |st| st.backfilled && st.events == 40).await;
        // Both live: b writes once, then only a keeps writing.
        append(&b, &combined(2, 20..21));
        let mut snapshots = s.snapshots.clone();
        let silent = |snap: &leakline::model::Snapshot| {
            snap.gaps.iter().any(|g| g.kind == GapKind::Silent && g.path.ends_with("b.log"))
        };
        let mut i = 0;
        let found = tokio::time::timeout(WAIT, async {
            loop {
                append(&a, &combined(1, 20 + i..21 + i));
                i += 1;
                if silent(&snapshots.borrow_and_update()) {
                    return;
                }
                let _ = tokio::time::timeout(Duration::from_millis(50), snapshots.changed()).await;
            }
        })
        .await;
        assert!(found.is_ok(), "no silent gap for b.log: {:?}", snapshots.borrow().gaps);
        let open = snapshots.borrow().gaps.iter().find(|g| g.kind == GapKind::Silent).cloned();
        assert_eq!(open.unwrap().to, None, "open while b is quiet");
        // b resumes: the gap closes with an end.
        append(&b, &combined(2, 21..22));
        let closed = tokio::time::timeout(WAIT, async {
            loop {
                let done = snapshots
                    .borrow_and_update()
                    .gaps
                    .iter()
                    .any(|g| g.kind == GapKind::Silent && g.to.is_some());
                if done {
                    return;
                }
                let _ = snapshots.changed().await;
            }
        })
        .await;
        assert!(closed.is_ok(), "{:?}", snapshots.borrow().gaps);
        let snap = s.shutdown().await;
        assert!(!snap.gaps.iter().any(|g| g.path.ends_with("a.log")), "{:?}", snap.gaps);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_growing_nmap_xml_is_followed_incrementally_to_the_same_result_as_analyze() {
        let fixture =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/phage_nmap.xml");
        let xml = fs::read(&fixture).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let scan = dir.path().join("nmap.xml");
        let mut cfg = config(dir.path(), &pattern(dir.path(), "none.log"));
        cfg.services.clear();
        cfg.scans.push(leakline::config::ScanSpec {
            paths: vec![pattern(dir.path(), "*.xml")],
            vantage: leakline::config::Vantage::External,
            format: None,
        });
        // What analyze makes of the whole file.
        fs::write(&scan, &xml).unwrap();
        let batch = leakline::batch::run(&cfg, &leakline::batch::BatchOptions::default()).unwrap();
        let as_of = batch.latest_event().unwrap();
        let expected = comparable(batch.snapshot(as_of));
        fs::remove_file(&scan).unwrap();
        // nmap writing: a first part, then the rest.
        let cut = xml.len() * 2 / 5;
        fs::write(&scan, &xml[..cut]).unwrap();
        let opts = SessionOptions { clock: std::sync::Arc::new(move || as_of), ..options() };
        let s = session::start(cfg, opts);
        let mut status = s.status.clone();
        wait_for(&mut status, "hosts of the first part", |st| st.backfilled && st.events > 0).await;
        let partial = status.borrow().events;
        assert!(partial < expected.stats.events, "{partial} of {}", expected.stats.events);
        append(&scan, std::str::from_utf8(&xml[cut..]).unwrap());
        let total = expected.stats.events;
        wait_for(&mut status, "every observation", |st| st.events == total).await;
        let live = comparable((*s.shutdown().await).clone());
        assert_eq!(live.services, expected.services);
        assert_eq!(live.stats, expected.stats);
    }

    /// Normalise what only a live run fills (rates, lags, hashes, wall time).
    fn comparable(mut s: leakline::model::Snapshot) -> leakline::model::Snapshot {
        for h in &mut s.sources {
            h.sha256 = None;
            h.lines_per_sec = 0.0;
            h.lag_secs = None;
        }
        s.stats.elapsed_ms = 0;
        s
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_live_run_over_finished_files_reaches_the_same_snapshot_as_analyze() {
        let root =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios/model-gateway");
        let cfg = leakline::config::load(&root.join("leakline.toml")).unwrap();
        let batch = leakline::batch::run(&cfg, &leakline::batch::BatchOptions::default()).unwrap();
        let as_of = batch.latest_event().unwrap();
        let expected = comparable(batch.snapshot(as_of));
        let total = expected.stats.events;
        assert!(total > 3000, "{:?}", expected.stats);
        let opts = SessionOptions { clock: std::sync::Arc::new(move || as_of), ..options() };
        let s = session::start(cfg, opts);
        let mut status = s.status.clone();
        wait_for(&mut status, "every event", |st| st.backfilled && st.events == total).await;
        let live = comparable((*s.shutdown().await).clone());
        assert_eq!(live.sources, expected.sources);
        assert_eq!(live.services, expected.services);
        assert_eq!(live.actors, expected.actors);
        assert_eq!(live, expected);
    }

    /// Lines, events, malformed and oversized lines of each source, by path.
    fn counts(s: &leakline::model::Snapshot) -> Vec<(String, u64, u64, u64, u64)> {
        let mut v: Vec<_> = s
            .sources
            .iter()
            .map(|h| (h.path.clone(), h.lines, h.events, h.malformed, h.oversized))
            .collect();
        v.sort();
        v
    }

    /// A CR-only file (no LF anywhere) is followed line by line, as `analyze` reads it, and
    /// a line longer than the 64 KiB cap is still counted oversized once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cr_only_file_is_followed_line_by_line_as_analyze_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut data = combined(1, 0..150).replace('\n', "\r");
        data.push_str(&"x".repeat(70 * 1024));
        data.push('\r');
        data.push_str(&combined(2, 0..50).replace('\n', "\r"));
        append(&dir.path().join("cr.log"), &data);
        let cfg = config(dir.path(), &pattern(dir.path(), "*.log"));
        let batch = leakline::batch::run(&cfg, &leakline::batch::BatchOptions::default()).unwrap();
        let expected = counts(&batch.snapshot(batch.latest_event().unwrap()));
        let (_, lines, events, malformed, oversized) = &expected[0];
        assert_eq!((*lines, *events, *malformed, *oversized), (201, 200, 1, 1), "{expected:?}");
        let s = session::start(cfg, options());
        let mut status = s.status.clone();
        wait_for(&mut status, "200 events", |st| st.backfilled && st.events == 200).await;
        assert_eq!(counts(&*s.shutdown().await), expected);
    }

    /// A CR-only file written live, a write ending on its first CR (a lone CR or half a
    /// CRLF: the next byte tells) and a line cut across writes; a CRLF file cut between its
    /// CR and LF stays one line per CRLF.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cr_only_file_appended_live_splits_on_cr_across_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (cr, crlf) = (dir.path().join("cr.log"), dir.path().join("crlf.log"));
        let cr_text = combined(1, 0..40).replace('\n', "\r");
        let crlf_text = combined(2, 0..20).replace('\n', "\r\n");
        let first_cr = cr_text.find('\r').unwrap() + 1;
        let first_crlf = crlf_text.find('\r').unwrap() + 1;
        append(&cr, &cr_text[..first_cr]);
        append(&crlf, &crlf_text[..first_crlf]);
        let s = session::start(config(dir.path(), &pattern(dir.path(), "*.log")), options());
        let mut status = s.status.clone();
        wait_for(&mut status, "backfill", |st| st.backfilled && st.sources == 2).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        let mid = cr_text.len() - 30;
        append(&cr, &cr_text[first_cr..mid]);
        append(&crlf, &crlf_text[first_crlf..]);
        wait_for(&mut status, "all but the cut line", |st| st.events == 59).await;
        append(&cr, &cr_text[mid..]);
        wait_for(&mut status, "the cut line", |st| st.events == 60).await;
        let snap = s.shutdown().await;
        let got: Vec<_> = counts(&snap).into_iter().map(|c| (c.1, c.2, c.3, c.4)).collect();
        assert_eq!(got, [(40, 40, 0, 0), (20, 20, 0, 0)], "{:#?}", snap.sources);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_unreadable_source_is_an_error_gap_and_the_others_keep_going() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("b.log")).unwrap();
        append(&dir.path().join("a.log"), &combined(1, 0..30));
        let s = session::start(config(dir.path(), &pattern(dir.path(), "*.log")), options());
        let mut status = s.status.clone();
        wait_for(&mut status, "backfill", |st| st.backfilled && st.events == 30).await;
        append(&dir.path().join("a.log"), &combined(2, 0..3));
        wait_for(&mut status, "append", |st| st.events == 33).await;
        let snap = s.shutdown().await;
        let errors: Vec<_> = snap.gaps.iter().filter(|g| g.kind == GapKind::SourceError).collect();
        assert_eq!(errors.len(), 1, "{:?}", snap.gaps);
        assert!(errors[0].path.ends_with("b.log"));
        assert!(errors[0].reason.to_lowercase().contains("directory"), "{}", errors[0].reason);
        assert_eq!(errors[0].to, None, "still failing at shutdown");
    }

    /// Everything of a snapshot that two sessions over the same files must agree on.
    fn outcome(s: &leakline::model::Snapshot) -> String {
        let mut s = comparable(s.clone());
        let mut kinds: Vec<String> = s.gaps.iter().map(|g| format!("{:?}", g.kind)).collect();
        kinds.sort();
        s.gaps.clear();
        format!("{:#?}\n{:#?}\n{:#?}\n{kinds:?}", s.sources, s.services, s.actors)
    }

    async fn wait_both(
        a: &mut watch::Receiver<SessionStatus>,
        b: &mut watch::Receiver<SessionStatus>,
        n: u64,
    ) {
        wait_for(a, "headless session", |st| st.backfilled && st.events == n).await;
        wait_for(b, "dashboard session", |st| st.backfilled && st.events == n).await;
    }

    /// Issue 22: the dashboard and `watch --headless` run the same follower and engine
    /// (`session::start`); on the same files through rename, copytruncate (with lines lost to
    /// its race) and a compression written in steps, they end equal, and exact.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_dashboard_and_headless_end_equal_through_fast_rotation() {
        use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
        use leakline::tui::event_loop::{self, Feeds};
        use leakline::tui::{Mode, TuiOptions};
        use ratatui::{Terminal, backend::TestBackend};

        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("access.log");
        append(&log, &combined(1, 0..200));
        let as_of = chrono::DateTime::parse_from_rfc3339("2026-11-27T11:00:00Z").unwrap().to_utc();
        let opts = SessionOptions { clock: std::sync::Arc::new(move || as_of), ..options() };
        let cfg = config(dir.path(), &pattern(dir.path(), "access.log*"));
        let headless = session::start(cfg.clone(), opts.clone());
        let dashboard = session::start(cfg, opts);
        let (mut a, mut b) = (headless.status.clone(), dashboard.status.clone());
        let tui = TuiOptions {
            title: "equal".to_owned(),
            no_color: true,
            mode: Mode::Live,
            clock: std::sync::Arc::new(move || as_of),
            story: Vec::new(),
            playbook: None,
            case: None,
            operator: None,
            export_dir: dir.path().to_path_buf(),
            config_path: None,
        };
        let (keys_tx, keys_rx) = futures::channel::mpsc::unbounded::<std::io::Result<TermEvent>>();
        let feeds = Feeds::of(&dashboard);
        let mut latest = dashboard.snapshots.clone();
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        let mut clipboard = Vec::new();
        let ui = event_loop::drive(&mut terminal, keys_rx, feeds, &tui, &mut clipboard);
        let script = async {
            wait_both(&mut a, &mut b, 200).await;

            // Rename rotation; the writer keeps its descriptor for a while, a new file is created.
            let mut old = OpenOptions::new().append(true).open(&log).unwrap();
            fs::rename(&log, dir.path().join("access.log.1")).unwrap();
            old.write_all(combined(2, 0..20).as_bytes()).unwrap();
            drop(old);
            append(&log, &combined(3, 0..30));
            wait_both(&mut a, &mut b, 250).await;

            // copytruncate: the copy, five lines both sessions read, then the truncation.
            fs::copy(&log, dir.path().join("access.log.0")).unwrap();
            append(&log, &combined(7, 0..5));
            wait_both(&mut a, &mut b, 255).await;
            OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
            append(&log, &combined(4, 0..10));
            wait_both(&mut a, &mut b, 265).await;

            // The renamed generation compressed in two steps, then removed.
            let raw = fs::read(dir.path().join("access.log.1")).unwrap();
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            enc.write_all(&raw).unwrap();
            let gz = enc.finish().unwrap();
            let gz_path = dir.path().join("access.log.1.gz");
            fs::write(&gz_path, &gz[..gz.len() / 2]).unwrap();
            tokio::time::sleep(Duration::from_millis(500)).await;
            fs::write(&gz_path, &gz).unwrap();
            fs::remove_file(dir.path().join("access.log.1")).unwrap();
            append(&log, &combined(5, 0..5));
            wait_both(&mut a, &mut b, 270).await;
            // Past rotate_wait and several discoveries: nothing is read twice.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            assert_eq!((a.borrow().events, b.borrow().events), (270, 270));

            // The dashboard shows the latest snapshot; quit it once that is the final count.
            let res = tokio::time::timeout(WAIT, async {
                while latest.borrow_and_update().services[0].external_requests != 270 {
                    latest.changed().await.unwrap();
                }
            })
            .await;
            assert!(res.is_ok(), "the dashboard's snapshot reached 270");
            tokio::time::sleep(Duration::from_millis(300)).await;
            let q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
            keys_tx.unbounded_send(Ok(TermEvent::Key(q))).unwrap();
        };
        let (app, ()) = tokio::time::timeout(WAIT * 4, async { tokio::join!(ui, script) })
            .await
            .expect("the dashboard quits on q");
        let app = app.unwrap();
        drop(dashboard);
        let final_headless = headless.shutdown().await;

        assert_eq!(final_headless.services[0].external_requests, 270);
        assert_eq!(outcome(&app.snapshot), outcome(&final_headless));
        let gaps = &final_headless.gaps;
        assert!(!gaps.iter().any(|g| g.kind == GapKind::SourceError), "{gaps:#?}");
        let live: Vec<_> = gaps.iter().filter(|g| g.kind == GapKind::LiveOnly).collect();
        assert_eq!(live.len(), 1, "{gaps:#?}");
        assert!(live[0].reason.contains("5 line(s)"), "{}", live[0].reason);
        assert_eq!(live[0].reason.matches("203.0.113.7 ").count(), 5, "{}", live[0].reason);
        let names: Vec<String> = final_headless
            .sources
            .iter()
            .map(|h| h.path.rsplit('/').next().unwrap().to_owned())
            .collect();
        // The copy (access.log.0) holds content already read: not a source of its own.
        assert_eq!(names, ["access.log (rotated 1)", "access.log (rotated 2)", "access.log"]);
        // The new generation was read whole from its first byte: it carries its hash.
        let current = final_headless.sources.last().unwrap();
        let expected = leakline::ingest::source::sha256_file(&log).unwrap();
        assert_eq!(current.sha256.as_deref(), Some(expected.as_str()));
    }
}

/// The copytruncate race: 80 lines read (the first alone), the copy taken, the writer adds three lines, they
/// are read, then the truncation destroys them (only this record holds them), and two new
/// lines follow. Each line is `text(tag, range)` (LF or CR-ended). Returns the folder, the
/// tailer and its record, the start instant and the copy's bytes.
fn copytruncate_race(
    text: impl Fn(&str, std::ops::Range<u32>) -> String,
) -> (tempfile::TempDir, Tailer, Recorder, Instant, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    // The first line is read alone: a read ending on a CR-only file's first CR cannot tell a
    // line end from half a CRLF yet; it counts once the next byte says.
    append(&log, &text("old", 0..1));
    let mut t = Tailer::new(pattern(dir.path(), "access.log*"), opts(false));
    let mut rec = Recorder::default();
    let t0 = Instant::now();
    t.poll(t0, true, &mut rec);
    append(&log, &text("old", 1..80));
    t.poll(t0 + Duration::from_millis(50), true, &mut rec);
    let copy = fs::read(&log).unwrap();
    fs::write(dir.path().join("access.log.1"), &copy).unwrap();
    append(&log, &text("race", 0..3));
    t.poll(t0 + Duration::from_millis(100), false, &mut rec);
    OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
    append(&log, &text("new", 0..2));
    for s in 1..3 {
        t.poll(t0 + Duration::from_secs(s), true, &mut rec);
    }
    (dir, t, rec, t0, copy)
}

#[test]
fn bytes_read_live_that_the_truncated_files_copy_lacks_are_named() {
    let (dir, mut t, mut rec, t0, copy) = copytruncate_race(lines);
    assert_eq!(rec.all_lines(), expected(&[("old", 0..80), ("race", 0..3), ("new", 0..2)]));
    let live: Vec<_> = rec
        .incidents
        .iter()
        .filter_map(|i| match i {
            Incident::LiveOnly { copy, from, to, first_line, lost_before, bytes, .. } => {
                Some((copy.clone(), *from, *to, *first_line, *lost_before, bytes.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(live.len(), 1, "{:?}", rec.incidents);
    let (copy_path, from, to, first_line, lost_before, bytes) = &live[0];
    assert!(copy_path.ends_with("access.log.1"));
    assert_eq!((*from, *first_line, *lost_before), (copy.len() as u64, 81, 0));
    assert_eq!(*to - *from, lines("race", 0..3).len() as u64);
    assert_eq!(String::from_utf8_lossy(bytes), lines("race", 0..3));
    // Its compressed form later is the same content: recognised, nothing reported twice.
    let gz = dir.path().join("access.log.1.gz");
    let mut enc =
        flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
    enc.write_all(&copy).unwrap();
    enc.finish().unwrap();
    fs::remove_file(dir.path().join("access.log.1")).unwrap();
    for s in 3..12 {
        t.poll(t0 + Duration::from_secs(s), true, &mut rec);
    }
    assert_eq!(rec.all_lines().len(), 85);
    assert_eq!(rec.count(|i| matches!(i, Incident::LiveOnly { .. })), 1);
}

/// The same race in a CR-only file (each CR ends a line, as `analyze` reads it): the lost
/// lines are numbered by CRs, not by the LFs the file does not have.
#[test]
fn a_cr_only_files_lost_lines_are_numbered_by_its_line_ends() {
    let cr = |tag: &str, r: std::ops::Range<u32>| lines(tag, r).replace('\n', "\r");
    let (_dir, _t, rec, _t0, copy) = copytruncate_race(cr);
    let live: Vec<(u64, u64, Vec<u8>)> = rec
        .incidents
        .iter()
        .filter_map(|i| match i {
            Incident::LiveOnly { from, first_line, bytes, .. } => {
                Some((*from, *first_line, bytes.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(live.len(), 1, "{:?}", rec.incidents);
    assert_eq!((live[0].0, live[0].1), (copy.len() as u64, 81));
    assert_eq!(String::from_utf8_lossy(&live[0].2), cr("race", 0..3));
}

#[test]
fn an_archive_renamed_away_while_being_read_is_no_error_and_a_stalled_one_waits() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    append(&log, &lines("a", 0..300));
    let mut t = Tailer::new(pattern(dir.path(), "access.log*"), opts(false));
    let mut rec = Recorder::default();
    let t0 = Instant::now();
    t.poll(t0, true, &mut rec);
    // Rotated, then compressed in two steps with a long pause: a half-written archive of
    // content already read is neither an error nor read again.
    fs::rename(&log, dir.path().join("access.log.1")).unwrap();
    let raw = fs::read(dir.path().join("access.log.1")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&raw).unwrap();
    let gz = enc.finish().unwrap();
    let gz_path = dir.path().join("access.log.1.gz");
    fs::write(&gz_path, &gz[..1]).unwrap();
    t.poll(t0 + Duration::from_secs(1), true, &mut rec);
    fs::write(&gz_path, &gz[..gz.len() / 2]).unwrap();
    for s in [2, 8, 14, 20] {
        t.poll(t0 + Duration::from_secs(s), true, &mut rec);
    }
    fs::write(&gz_path, &gz).unwrap();
    fs::remove_file(dir.path().join("access.log.1")).unwrap();
    fs::rename(&gz_path, dir.path().join("access.log.2.gz")).unwrap();
    for s in 21..30 {
        t.poll(t0 + Duration::from_secs(s), true, &mut rec);
    }
    assert_eq!(rec.all_lines(), expected(&[("a", 0..300)]));
    assert_eq!(rec.count(|i| matches!(i, Incident::Error { .. })), 0, "{:?}", rec.incidents);
    // A cut archive of content never read is reported, once it has stopped growing.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(lines("other", 0..500).as_bytes()).unwrap();
    let other = enc.finish().unwrap();
    fs::write(dir.path().join("access.log.x.gz"), &other[..other.len() / 2]).unwrap();
    t.poll(t0 + Duration::from_secs(31), true, &mut rec);
    assert_eq!(rec.count(|i| matches!(i, Incident::Error { .. })), 0, "not yet: it may grow");
    t.poll(t0 + Duration::from_secs(40), true, &mut rec);
    let errors =
        rec.count(|i| matches!(i, Incident::Error { reason, .. } if reason.contains("ends early")));
    assert_eq!(errors, 1, "{:?}", rec.incidents);
}
