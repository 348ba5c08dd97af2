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
