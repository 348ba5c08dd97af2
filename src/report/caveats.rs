//! What a reader must know about the sources before trusting the times and counts: times read
//! in an assumed zone, scan runs given twice, and rows pulled from a database (what was sent,
//! what only counted, the hash of the rows as received). One wording for every output (analyze text,
//! Markdown and HTML reports, the dashboard's source notes), so they never disagree.

use super::text::{Para, data, lit, strong};
use crate::model::Snapshot;
use crate::model::snapshot::{DuplicateBy, SourceHealth};

/// The caveat of one source, if it has one: its times rest on an assumed zone, or it is a
/// second copy of a scan run (not counted). `timezone` is the snapshot's zone.
#[must_use]
pub fn source_caveats(s: &SourceHealth, timezone: &str) -> Vec<Para> {
    let mut out = Vec::new();
    if s.zone_assumed {
        out.push(vec![
            strong("zone assumed:"),
            lit(" "),
            data(&s.path),
            lit(format!(
                " writes times without a zone or UTC offset; they were read as {timezone} \
                 (config `timezone`, or --tz ZONE). If the writer's clock was in another zone, \
                 every time from this source is off by the difference."
            )),
        ]);
    }
    if let Some(kept) = &s.duplicate_of {
        let rests_on = match s.duplicate_by {
            Some(DuplicateBy::Content) => " has identical content (SHA-256) to the scan file ",
            // A duplicate recorded before `duplicate_by` existed was one by run.
            Some(DuplicateBy::Run) | None => " is another copy of the scan run in ",
        };
        let why = match s.duplicate_by {
            Some(DuplicateBy::Content) => "; its observations are counted once, from ",
            Some(DuplicateBy::Run) | None => {
                " (same command line and start); its observations are counted once, from "
            }
        };
        out.push(vec![
            strong("same scan twice:"),
            lit(" "),
            data(&s.path),
            lit(rests_on),
            data(kept),
            lit(why),
            data(kept),
            lit("."),
        ]);
    }
    if let Some(db) = &s.database {
        let mut p = vec![strong("pulled from a database:"), lit(" "), data(&s.path)];
        if db.server_version.is_empty() {
            p.push(lit(format!(" ({})", db.kind)));
        } else {
            p.push(lit(format!(" ({} ", db.kind)));
            p.push(data(&db.server_version));
            p.push(lit(")"));
        }
        p.push(lit(format!(
            ": {} rows received ({} bytes, rows as received sha256 ",
            db.rows, db.bytes
        )));
        p.push(data(db.sha256.as_deref().unwrap_or("none: the pull failed")));
        p.push(lit(format!(
            "); {} rows of internal or allowed clients were only counted per minute by the \
             server, never sent. The exact queries are in the JSON output \
             (`sources[].database.queries`) and the case journal (`source_added`): run them again \
             to compare.",
            db.rows_counted
        )));
        out.push(p);
        if let Some(l) = &db.live {
            out.push(live_caveat(&s.path, db.rows, l));
        }
    }
    out
}

/// A database source polled by `watch`: what `rows` and `sha256` above mean there, and the
/// limit of a live pull (rows written later than the overlap are not in it).
fn live_caveat(path: &str, kept: u64, l: &crate::model::snapshot::LiveDatabase) -> Para {
    let mut p = vec![strong("polled live:"), lit(" "), data(path)];
    p.push(lit(format!(
        " was polled {} times ({} failed); {} rows received, {} dropped as already seen, {kept} \
         kept (the rows and sha256 above are the kept rows, hashed in the order applied). ",
        l.polls, l.poll_failures, l.rows_received, l.rows_dropped
    )));
    p.push(strong(format!(
        "Rows written more than {} s behind the newest row already pulled are not in this live \
         result",
        l.overlap_secs
    )));
    p.push(lit(" (config `overlap`); an `analyze` over the same range reads them. "));
    match (l.late_rows_missed, l.late_checked_before) {
        (Some(0), Some(t)) => p.push(lit(format!(
            "A count on the server found no such row before {}.",
            t.to_rfc3339()
        ))),
        (Some(n), Some(t)) => p.push(strong(format!(
            "A count on the server found {n} such row(s) before {}: they are missing here.",
            t.to_rfc3339()
        ))),
        _ => p.push(lit("No count on the server checked for such rows.")),
    }
    p
}

/// Every source's caveats, in source order.
#[must_use]
pub fn caveats(snap: &Snapshot) -> Vec<Para> {
    snap.sources.iter().flat_map(|s| source_caveats(s, &snap.timezone)).collect()
}

/// A paragraph as plain text (for the terminal; callers escape control characters).
#[must_use]
pub fn plain(p: &Para) -> String {
    use super::text::Seg;
    p.iter()
        .map(|seg| match seg {
            Seg::Lit(s) | Seg::Text(s) | Seg::Strong(s) | Seg::Data(s) => s.as_str(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_and_duplicate_caveats_name_the_source_and_the_zone() {
        let mut snap = Snapshot { timezone: "America/Los_Angeles".into(), ..Snapshot::default() };
        assert!(caveats(&snap).is_empty());
        let health: SourceHealth = serde_json::from_value(serde_json::json!({
            "id": 0, "path": "scans/nmap.gnmap", "kind": "scan", "format": "nmap-grepable",
            "service": "", "sha256": null, "lines": 3, "events": 2, "malformed": 0,
            "oversized": 0, "malformed_samples": [], "first_event": null, "last_event": null,
            "rotations": 0, "truncations": 0, "incomplete": false, "errors": [],
            "lines_per_sec": 0.0, "lag_secs": null, "zone_assumed": true,
            "duplicate_of": "scans/nmap.xml"
        }))
        .unwrap();
        snap.sources.push(health);
        let text: Vec<String> = caveats(&snap).iter().map(plain).collect();
        assert_eq!(text.len(), 2);
        assert!(text[0].starts_with("zone assumed: scans/nmap.gnmap "), "{}", text[0]);
        assert!(text[0].contains("read as America/Los_Angeles"), "{}", text[0]);
        assert!(text[1].contains("copy of the scan run in scans/nmap.xml"), "{}", text[1]);
        assert!(text[1].contains("(same command line and start)"), "{}", text[1]);

        // A copy by content claims no run, only the identical bytes.
        snap.sources[0].zone_assumed = false;
        snap.sources[0].duplicate_by = Some(DuplicateBy::Content);
        let text: Vec<String> = caveats(&snap).iter().map(plain).collect();
        assert_eq!(
            text,
            ["same scan twice: scans/nmap.gnmap has identical content (SHA-256) to the scan file \
              scans/nmap.xml; its observations are counted once, from scans/nmap.xml."]
        );
    }

    #[test]
    fn a_polled_database_source_says_what_its_live_result_lacks() {
        use crate::model::snapshot::LiveDatabase;
        let live = LiveDatabase {
            polls: 9,
            poll_failures: 1,
            overlap_secs: 300,
            rows_received: 50,
            rows_dropped: 8,
            ..LiveDatabase::default()
        };
        let mut health = SourceHealth::polled_for_tests(live);
        if let Some(db) = health.database.as_mut() {
            db.kind = "clickhouse".into();
            db.rows = 42;
        }
        let text: Vec<String> = source_caveats(&health, "UTC").iter().map(plain).collect();
        assert_eq!(text.len(), 2, "{text:#?}");
        let t = &text[1];
        assert!(t.starts_with("polled live: clickhouse:http://h:8123/web.access was polled 9 times (1 failed); 50 rows received, 8 dropped as already seen, 42 kept"), "{t}");
        assert!(t.contains("Rows written more than 300 s behind the newest row already pulled are not in this live result"), "{t}");
        assert!(t.ends_with("No count on the server checked for such rows."), "{t}");
        let checked = chrono::DateTime::from_timestamp(1_793_714_340, 0);
        for (missed, says) in [
            (0, "found no such row before 2026-11-03T13:59:00+00:00."),
            (3, "found 3 such row(s) before 2026-11-03T13:59:00+00:00: they are missing here."),
        ] {
            let l = health.database.as_mut().and_then(|d| d.live.as_mut()).unwrap();
            l.late_rows_missed = Some(missed);
            l.late_checked_before = checked;
            let text: Vec<String> = source_caveats(&health, "UTC").iter().map(plain).collect();
            assert!(text[1].ends_with(says), "{}", text[1]);
        }
    }
}
