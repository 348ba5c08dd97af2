//! The writer behind [`Analysis::write`]: the bytes `serde_json::to_writer_pretty` gives for
//! the wire model ([`crate::report::wire`], whose `Serialize` defines the layout: two-space
//! indent, `"key": value`, `[]` and `{}` when empty, `serde_json`'s string escapes), then a
//! newline. It writes the wire types themselves, and the tests hold the two byte-for-byte
//! equal on a snapshot with every field, on every rule fixture (`tests/analyze.rs`) and on
//! random snapshots (proptest): a field added to the wire model and not here fails them.
//!
//! Why by hand: a large run lists tens of thousands to millions of actors (megabytes of
//! JSON), and this is the last thing `leakline analyze` does before it exits, on one thread.
//! Here every value is formatted straight into one buffer (no call through the serializer
//! per token, one pass over each string to escape it), and the buffer goes out in large
//! blocks. Measured with callgrind (`examples/analysis_profile.rs`, 100 000 actors): 299 M
//! instructions, against 540 M for `serde_json` on the same types (`serde_json`'s string
//! escaping alone is 165 M); see docs/analyze.md.

use std::io;
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::Analysis;
use crate::model::enrichment::{ActorEnrichment, EnrichSource};
use crate::report::wire::{
    Actor, Coverage, Duplicate, FirstSuccess, Gap, Group, Groups, Hit, Rfc3339, Sensitive, Service,
    Source, Window, pair, push_ipv4,
};

/// Bytes buffered before they are handed to the output.
const BLOCK: usize = 1 << 16;

pub(super) fn write(doc: &Analysis, out: impl io::Write) -> io::Result<()> {
    let mut w = Pretty { out, buf: Vec::with_capacity(BLOCK + 4096), depth: 0, fresh: true };
    w.open(b'{');
    w.key("schema");
    w.str(doc.schema);
    w.key("case");
    w.open(b'{');
    w.key("name");
    w.str(doc.case.name);
    w.key("timezone");
    w.str(doc.case.timezone);
    w.close(b'}');
    w.key("generated_at");
    w.time(doc.generated_at);
    w.key("as_of");
    w.opt_time(doc.as_of);
    w.key("coverage");
    coverage(&mut w, &doc.coverage);
    w.key("duplicates");
    w.list(&doc.duplicates, duplicate)?;
    w.key("sources");
    w.list(&doc.sources, source)?;
    w.key("services");
    w.list(&doc.services, service)?;
    w.key("actors");
    w.open(b'[');
    for a in doc.actors.0 {
        w.elem();
        actor(&mut w, &Actor::of(a, doc.actors.1));
        w.flush_block()?;
    }
    w.close(b']');
    w.key("actors_total");
    w.u64(doc.actors_total);
    w.key("actors_listed");
    w.u64(doc.actors_listed);
    w.key("actor_groups");
    w.list(&doc.actor_groups, groups)?;
    w.key("gaps");
    w.list(&doc.gaps, gap)?;
    w.key("stats");
    w.open(b'{');
    for (k, n) in [
        ("lines", doc.stats.lines),
        ("events", doc.stats.events),
        ("malformed", doc.stats.malformed),
        ("elapsed_ms", doc.stats.elapsed_ms),
    ] {
        w.key(k);
        w.u64(n);
    }
    w.close(b'}');
    w.key("redaction");
    w.open(b'{');
    w.key("enabled");
    w.bool(doc.redaction.enabled);
    w.key("total");
    w.u64(doc.redaction.total);
    w.key("counts");
    w.open(b'{');
    for (kind, n) in &doc.redaction.counts.0.0 {
        w.key(kind.as_str());
        w.u64(*n);
    }
    w.close(b'}');
    w.close(b'}');
    w.key("enrichment");
    w.open(b'{');
    w.key("sources");
    w.list(doc.enrichment.sources, enrich_source)?;
    w.key("errors");
    w.strs(doc.enrichment.errors);
    w.close(b'}');
    w.close(b'}');
    w.buf.push(b'\n');
    w.finish()
}

fn enrich_source<W: io::Write>(w: &mut Pretty<W>, s: &EnrichSource) {
    w.open(b'{');
    for (k, v) in [("path", &s.path), ("kind", &s.kind), ("name", &s.name)] {
        w.key(k);
        w.str(v);
    }
    w.key("built");
    w.opt_str(s.built.as_deref());
    w.key("prefixes");
    w.opt_u64(s.prefixes.map(|n| n as u64));
    w.key("scanner");
    w.bool(s.scanner);
    w.close(b'}');
}

/// `asn`, `country`, `city`, `lists` of one actor (see [`super::EnrichDoc`]).
fn enrichment<W: io::Write>(w: &mut Pretty<W>, e: Option<&ActorEnrichment>) {
    w.key("asn");
    match e.and_then(|e| e.asn.as_ref()) {
        Some(a) => {
            w.open(b'{');
            w.key("number");
            w.u64(u64::from(a.number));
            w.key("org");
            w.opt_str(a.org.as_deref());
            w.close(b'}');
        }
        None => w.null(),
    }
    w.key("country");
    match e.and_then(|e| e.country.as_ref()) {
        Some(c) => {
            w.open(b'{');
            w.key("iso");
            w.str(&c.iso);
            w.key("name");
            w.opt_str(c.name.as_deref());
            w.close(b'}');
        }
        None => w.null(),
    }
    w.key("city");
    match e.and_then(|e| e.city.as_ref()) {
        Some(c) => {
            w.open(b'{');
            w.key("name");
            w.opt_str(c.name.as_deref());
            w.key("subdivision");
            w.opt_str(c.subdivision.as_deref());
            for (k, v) in [("latitude", c.latitude), ("longitude", c.longitude)] {
                w.key(k);
                w.f64(v);
            }
            w.key("accuracy_radius_km");
            w.opt_u64(c.accuracy_radius_km.map(u64::from));
            w.close(b'}');
        }
        None => w.null(),
    }
    w.key("lists");
    w.open(b'[');
    for l in e.map_or(&[][..], |e| &e.lists[..]) {
        w.elem();
        w.open(b'{');
        w.key("name");
        w.str(&l.name);
        w.key("service");
        w.opt_str(l.service.as_deref());
        w.key("region");
        w.opt_str(l.region.as_deref());
        w.close(b'}');
    }
    w.close(b']');
}

fn source<W: io::Write>(w: &mut Pretty<W>, s: &Source) {
    w.open(b'{');
    w.key("path");
    w.str(s.path);
    w.key("kind");
    w.str(s.kind);
    w.key("format");
    w.str(s.format);
    w.key("service");
    w.str(s.service);
    w.key("sha256");
    w.opt_str(s.sha256);
    for (k, n) in [("lines", s.lines), ("events", s.events), ("malformed", s.malformed)] {
        w.key(k);
        w.u64(n);
    }
    w.key("first_event");
    w.opt_time(s.first_event);
    w.key("last_event");
    w.opt_time(s.last_event);
    w.key("unmatched_targets");
    match &s.unmatched_targets {
        None => w.null(),
        Some(u) => {
            w.open(b'{');
            w.key("targets");
            w.u64(u.targets);
            w.key("observations");
            w.u64(u.observations);
            w.close(b'}');
        }
    }
    if let Some(states) = &s.scan_states {
        w.key("scan_states");
        w.open(b'{');
        for (state, n) in states {
            w.key(state);
            w.u64(*n);
        }
        w.close(b'}');
    }
    if let Some(actions) = s.waf_actions {
        w.key("waf_actions");
        w.open(b'{');
        for (action, n) in actions {
            w.key(action);
            w.u64(*n);
        }
        w.close(b'}');
    }
    w.key("oversized");
    w.u64(s.oversized);
    w.key("incomplete");
    w.bool(s.incomplete);
    w.key("errors");
    w.strs(s.errors);
    w.key("aliases");
    w.strs(s.aliases);
    w.key("zone_assumed");
    w.bool(s.zone_assumed);
    w.key("assumed_zone");
    w.opt_str(s.assumed_zone);
    w.key("duplicate_of");
    w.opt_str(s.duplicate_of);
    w.key("duplicate_by");
    w.opt_str(s.duplicate_by);
    if let Some(db) = &s.database {
        w.key("database");
        database(w, db);
    }
    w.close(b'}');
}

/// A database source's `database` object (`wire::Database`).
fn database<W: io::Write>(w: &mut Pretty<W>, db: &crate::report::wire::Database) {
    w.open(b'{');
    w.key("kind");
    w.str(db.kind);
    w.key("server_version");
    w.str(db.server_version);
    w.key("queries");
    w.strs(db.queries);
    w.key("rows");
    w.u64(db.rows);
    w.key("rows_counted");
    w.u64(db.rows_counted);
    w.key("bytes");
    w.u64(db.bytes);
    w.key("sha256");
    w.opt_str(db.sha256);
    if let Some(sum) = db.sha256_sum {
        w.key("sha256_sum");
        w.str(sum);
    }
    if let Some(e) = db.error {
        w.key("error");
        w.str(e);
    }
    if let Some(l) = &db.live {
        w.key("live");
        w.open(b'{');
        for (k, n) in [
            ("polls", l.polls),
            ("poll_failures", l.poll_failures),
            ("overlap_secs", l.overlap_secs),
        ] {
            w.key(k);
            w.u64(n);
        }
        w.key("late_rows_limit");
        w.str(&l.late_rows_limit);
        for (k, n) in [
            ("rows_received", l.rows_received),
            ("rows_dropped", l.rows_dropped),
            ("bytes_received", l.bytes_received),
        ] {
            w.key(k);
            w.u64(n);
        }
        for (k, t) in
            [("since_first", l.since_first), ("since_last", l.since_last), ("cursor", l.cursor)]
        {
            w.key(k);
            w.opt_time(t);
        }
        w.key("late_rows_missed");
        w.opt_u64(l.late_rows_missed);
        w.key("late_checked_before");
        w.opt_time(l.late_checked_before);
        w.key("late_check_query");
        w.opt_str(l.late_check_query);
        w.close(b'}');
    }
    w.close(b'}');
}

fn service<W: io::Write>(w: &mut Pretty<W>, s: &Service) {
    w.open(b'{');
    w.key("name");
    w.str(s.name);
    w.key("addresses");
    w.strs(s.addresses);
    w.key("state");
    w.str(s.state);
    w.key("windows");
    w.open(b'[');
    for win in &s.windows {
        w.elem();
        window(w, win);
    }
    w.close(b']');
    w.key("forwarded_unknown_requests");
    w.u64(s.forwarded_unknown_requests);
    w.key("coverage");
    coverage(w, &s.coverage);
    w.close(b'}');
}

fn coverage<W: io::Write>(w: &mut Pretty<W>, c: &Coverage) {
    w.open(b'{');
    w.key("complete");
    w.bool(c.complete);
    w.key("sources_read");
    w.strs(c.sources_read);
    w.key("sources_unread");
    w.open(b'[');
    for u in &c.sources_unread {
        w.elem();
        w.open(b'{');
        w.key("path");
        w.str(u.path);
        w.key("reason");
        w.str(u.reason);
        w.close(b'}');
    }
    w.close(b']');
    w.key("from");
    w.opt_time(c.from);
    w.key("to");
    w.opt_time(c.to);
    w.close(b'}');
}

fn duplicate<W: io::Write>(w: &mut Pretty<W>, d: &Duplicate) {
    w.open(b'{');
    w.key("service");
    w.str(d.service);
    w.key("sources");
    w.strs(d.sources);
    w.key("shared_percent");
    w.u64(u64::from(d.shared_percent));
    w.key("message");
    w.str(d.message);
    w.close(b'}');
}

fn window<W: io::Write>(w: &mut Pretty<W>, win: &Window) {
    w.open(b'{');
    w.key("opened_earliest");
    w.opt_time(win.opened_earliest);
    w.key("opened_latest");
    w.time(win.opened_latest);
    w.key("closed_earliest");
    w.time(win.closed_earliest);
    w.key("closed_latest");
    w.opt_time(win.closed_latest);
    w.key("status");
    w.str(win.status);
    for (k, n) in [
        ("external_requests", win.external_requests),
        ("external_successes", win.external_successes),
        ("external_bytes", win.external_bytes),
        ("external_clients", win.external_clients),
    ] {
        w.key(k);
        w.u64(n);
    }
    w.key("first_external");
    hit(w, win.first_external.as_ref());
    w.key("first_non_scanner_success");
    hit(w, win.first_non_scanner_success.as_ref());
    w.key("evidence");
    w.open(b'{');
    w.key("positive");
    w.u64(win.evidence.positive);
    w.key("negative");
    w.u64(win.evidence.negative);
    w.close(b'}');
    w.key("top_paths");
    w.open(b'[');
    for p in &win.top_paths {
        w.elem();
        w.open(b'{');
        w.key("path");
        w.str(p.path);
        for (k, n) in [("requests", p.requests), ("successes", p.successes), ("bytes", p.bytes)] {
            w.key(k);
            w.u64(n);
        }
        w.close(b'}');
    }
    w.close(b']');
    w.key("sensitive");
    w.open(b'[');
    for s in &win.sensitive {
        w.elem();
        sensitive(w, s);
    }
    w.close(b']');
    w.close(b'}');
}

fn sensitive<W: io::Write>(w: &mut Pretty<W>, s: &Sensitive) {
    w.open(b'{');
    w.key("label");
    w.str(s.label);
    w.key("path");
    w.str(s.path);
    for (k, n) in [("requests", s.requests), ("successes", s.successes), ("bytes", s.bytes)] {
        w.key(k);
        w.u64(n);
    }
    w.key("first_success");
    match &s.first_success {
        None => w.null(),
        Some(FirstSuccess { time, client, method, path, status }) => {
            w.open(b'{');
            w.key("time");
            w.time(*time);
            w.key("client");
            w.str(client);
            w.key("method");
            w.str(method);
            w.key("path");
            w.str(path);
            w.key("status");
            w.u64(u64::from(*status));
            w.close(b'}');
        }
    }
    w.close(b'}');
}

fn hit<W: io::Write>(w: &mut Pretty<W>, h: Option<&Hit>) {
    let Some(h) = h else { return w.null() };
    w.open(b'{');
    w.key("time");
    w.time(h.time);
    w.key("client");
    w.str(h.client);
    w.key("user_agent");
    w.str(h.user_agent);
    w.key("method");
    w.str(h.method);
    w.key("path");
    w.str(h.path);
    w.key("status");
    w.u64(u64::from(h.status));
    w.close(b'}');
}

fn actor<W: io::Write>(w: &mut Pretty<W>, a: &Actor) {
    w.open(b'{');
    w.key("client");
    w.ip(a.client);
    w.key("class");
    w.str(a.class);
    w.key("scanner");
    w.opt_str(a.scanner);
    w.key("first_seen");
    w.time(a.first_seen);
    w.key("last_seen");
    w.time(a.last_seen);
    for (k, n) in [("requests", a.requests), ("successes", a.successes), ("bytes", a.bytes)] {
        w.key(k);
        w.u64(n);
    }
    w.key("services");
    w.strs(a.services);
    enrichment(w, a.enrichment.0);
    w.close(b'}');
}

fn groups<W: io::Write>(w: &mut Pretty<W>, g: &Groups) {
    w.open(b'{');
    w.key("key");
    w.str(g.key);
    w.key("total");
    w.u64(g.total);
    w.key("groups");
    // Buffered whole (bounded like the actors); the enclosing list hands the buffer on.
    w.open(b'[');
    for item in &g.groups {
        w.elem();
        group(w, item);
    }
    w.close(b']');
    w.close(b'}');
}

fn group<W: io::Write>(w: &mut Pretty<W>, g: &Group) {
    w.open(b'{');
    w.key("key");
    w.str(g.key);
    for (k, n) in [
        ("clients", g.clients),
        ("requests", g.requests),
        ("successes", g.successes),
        ("bytes", g.bytes),
    ] {
        w.key(k);
        w.u64(n);
    }
    w.key("first_seen");
    w.time(g.first_seen);
    w.key("last_seen");
    w.time(g.last_seen);
    w.close(b'}');
}

fn gap<W: io::Write>(w: &mut Pretty<W>, g: &Gap) {
    w.open(b'{');
    w.key("kind");
    w.str(g.kind);
    w.key("path");
    w.str(g.path);
    w.key("from");
    w.time(g.from);
    w.key("to");
    w.opt_time(g.to);
    w.key("reason");
    w.str(g.reason);
    w.close(b'}');
}

/// `serde_json`'s pretty layout, into a buffer handed to `out` block by block.
struct Pretty<W> {
    out: W,
    buf: Vec<u8>,
    /// Open containers.
    depth: usize,
    /// Nothing written yet in the innermost open container.
    fresh: bool,
}

impl<W: io::Write> Pretty<W> {
    /// `[` or `{`.
    fn open(&mut self, bracket: u8) {
        self.buf.push(bracket);
        self.depth += 1;
        self.fresh = true;
    }

    /// `]` or `}`: on its own line unless the container is empty.
    fn close(&mut self, bracket: u8) {
        self.depth -= 1;
        if !self.fresh {
            self.line(false);
        }
        self.buf.push(bracket);
        self.fresh = false;
    }

    /// A new line at the current depth, after a comma when `comma`.
    fn line(&mut self, comma: bool) {
        /// A comma, a newline and the indentation of the deepest level the document has,
        /// and more.
        const LINE: &[u8; 34] = b",\n                                ";
        let start = usize::from(!comma);
        if let Some(line) = LINE.get(start..2 + 2 * self.depth) {
            self.buf.extend_from_slice(line);
        } else {
            self.buf.extend_from_slice(&LINE[start..2]);
            self.buf.resize(self.buf.len() + 2 * self.depth, b' ');
        }
    }

    /// Start the next array element.
    fn elem(&mut self) {
        self.line(!self.fresh);
        self.fresh = false;
    }

    /// Start the next object member (`key` needs no escaping: field names).
    fn key(&mut self, key: &str) {
        self.elem();
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\": ");
    }

    /// Each item of `items` as an array element; the buffer is handed on between items.
    /// A list of strings (short: never flushed midway).
    fn strs(&mut self, items: &[String]) {
        self.open(b'[');
        for item in items {
            self.elem();
            self.str(item);
        }
        self.close(b']');
    }

    fn list<T>(&mut self, items: &[T], each: fn(&mut Self, &T)) -> io::Result<()> {
        self.open(b'[');
        for item in items {
            self.elem();
            each(self, item);
            self.flush_block()?;
        }
        self.close(b']');
        Ok(())
    }

    /// Hand a full block to the output.
    fn flush_block(&mut self) -> io::Result<()> {
        if self.buf.len() >= BLOCK {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<()> {
        self.out.write_all(&self.buf)
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(b"null");
    }

    fn bool(&mut self, b: bool) {
        self.buf.extend_from_slice(if b { b"true" } else { b"false" });
    }

    fn u64(&mut self, n: u64) {
        push_u64(&mut self.buf, n);
    }

    /// A float as `serde_json` writes it (`51.5142`, `100.0`); `null` when absent or not
    /// finite (as `serde_json` writes NaN and infinities).
    fn f64(&mut self, v: Option<f64>) {
        match v {
            Some(v) if v.is_finite() => {
                let text = serde_json::to_string(&v).unwrap_or_else(|_| "null".into());
                self.buf.extend_from_slice(text.as_bytes());
            }
            _ => self.null(),
        }
    }

    fn opt_u64(&mut self, n: Option<u64>) {
        match n {
            Some(n) => self.u64(n),
            None => self.null(),
        }
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.null(),
        }
    }

    fn str(&mut self, s: &str) {
        self.buf.push(b'"');
        push_escaped(&mut self.buf, s);
        self.buf.push(b'"');
    }

    fn ip(&mut self, ip: IpAddr) {
        self.buf.push(b'"');
        match ip {
            IpAddr::V4(v4) => {
                let mut digits = [0_u8; 15];
                let n = push_ipv4(&mut digits, v4.octets());
                self.buf.extend_from_slice(&digits[..n]);
            }
            // Display never yields a character JSON escapes.
            IpAddr::V6(v6) => self.buf.extend_from_slice(v6.to_string().as_bytes()),
        }
        self.buf.push(b'"');
    }

    /// A time as [`crate::report::wire::time`] writes it.
    fn time(&mut self, t: DateTime<Utc>) {
        self.buf.push(b'"');
        self.buf.extend_from_slice(Rfc3339::of(t).as_bytes());
        self.buf.push(b'"');
    }

    fn opt_time(&mut self, t: Option<DateTime<Utc>>) {
        match t {
            Some(t) => self.time(t),
            None => self.null(),
        }
    }
}

/// Decimal digits of `n`, two at a time.
fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0_u8; 20];
    let mut i = digits.len();
    while n >= 100 {
        i -= 2;
        digits[i..i + 2].copy_from_slice(&pair((n % 100) as u32));
        n /= 100;
    }
    if n >= 10 {
        i -= 2;
        digits[i..i + 2].copy_from_slice(&pair(n as u32));
    } else {
        i -= 1;
        digits[i] = b'0' + n as u8;
    }
    buf.extend_from_slice(&digits[i..]);
}

/// `s` with `serde_json`'s escapes: `\"`, `\\`, the short forms `\b \t \n \f \r`, and
/// `\u00xx` (lower-case hex) for the other control characters; everything else as is.
pub(super) fn push_escaped(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        buf.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => buf.extend_from_slice(b"\\\""),
            b'\\' => buf.extend_from_slice(b"\\\\"),
            0x08 => buf.extend_from_slice(b"\\b"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            0x0c => buf.extend_from_slice(b"\\f"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                buf.extend_from_slice(b"\\u00");
                buf.push(HEX[usize::from(b >> 4)]);
                buf.push(HEX[usize::from(b & 0xf)]);
            }
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests;
