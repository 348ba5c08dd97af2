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
    }
    out
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
}
