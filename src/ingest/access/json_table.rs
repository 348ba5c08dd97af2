//! Flat JSON formats driven by a key table: nginx JSON `log_format`, Traefik, Envoy/Istio
//! JSON, and the user's `[access.fields]` mapping all reduce to "which key fills which
//! request field", so one filler serves them all.

use super::escape::LineText;
use super::fields::{
    decimal_to_us, parse_ip_loose, parse_status, parse_u64, split_request_line, trim,
};
use super::json::{JVal, for_each_member, push_json_str};
use super::time::{parse_any_noting, parse_epoch_secs};
use super::{LineOutcome, ParseOptions, Scratch};
use crate::model::Request;

/// The request field a JSON key fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Time,
    Peer,
    Client,
    Xff,
    /// A whole request line (`GET /x HTTP/1.1`).
    Request,
    Method,
    Target,
    Protocol,
    Status,
    Bytes,
    UserAgent,
    Referer,
    Host,
    DurationSecs,
    DurationMs,
    DurationNs,
}

const SLOTS: usize = 16;

impl Slot {
    fn index(self) -> usize {
        self as usize
    }
}

/// Raw values gathered for one line: per slot, the value and the priority (table index) of
/// the key that supplied it; an earlier table entry wins over a later one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gathered<'a> {
    vals: [Option<(usize, JVal<'a>)>; SLOTS],
}

impl<'a> Gathered<'a> {
    pub(crate) fn new() -> Self {
        Gathered { vals: [None; SLOTS] }
    }

    pub(crate) fn set(&mut self, slot: Slot, prio: usize, v: JVal<'a>) {
        let cell = &mut self.vals[slot.index()];
        if matches!(v, JVal::Null | JVal::Missing) {
            return;
        }
        if cell.is_none_or(|(p, _)| prio < p) {
            *cell = Some((prio, v));
        }
    }

    fn get(&self, slot: Slot) -> Option<JVal<'a>> {
        self.vals[slot.index()].map(|(_, v)| v)
    }

    fn scalar(&self, slot: Slot) -> Option<&'a [u8]> {
        self.get(slot).and_then(JVal::scalar).filter(|s| !s.is_empty() && *s != b"-")
    }
}

/// Walk a flat object and gather the keys of `table`.
pub(crate) fn gather<'a>(line: &'a [u8], table: &[(&[u8], Slot)]) -> Result<Gathered<'a>, String> {
    let mut g = Gathered::new();
    for_each_member(line, |k, v| {
        if let Some(prio) = table.iter().position(|(key, _)| *key == k) {
            g.set(table[prio].1, prio, v);
        }
        true
    })
    .map_err(|e| format!("json: {e}"))?;
    Ok(g)
}

/// Fill `out` from gathered values. A time is required; everything else is optional.
pub(crate) fn fill(
    g: &Gathered<'_>,
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> LineOutcome {
    match fill_inner(g, opts, sc, out) {
        Ok(()) => LineOutcome::Request,
        Err(e) => LineOutcome::Malformed(e),
    }
}

fn fill_inner(
    g: &Gathered<'_>,
    opts: &ParseOptions,
    sc: &mut Scratch,
    out: &mut Request,
) -> Result<(), String> {
    let time = g.get(Slot::Time).ok_or("time: missing")?;
    let stamp = match time {
        JVal::Num(n) => parse_epoch_secs(n),
        JVal::Str(s) => parse_any_noting(trim(s), opts.default_tz, &mut sc.zone_assumed),
        _ => None,
    };
    (out.time, out.utc_offset_secs) = stamp.ok_or("time: not a recognised timestamp")?;

    if let Some(p) = g.scalar(Slot::Peer) {
        out.peer = parse_ip_loose(p);
    }
    if let Some(c) = g.scalar(Slot::Client) {
        out.client = parse_ip_loose(c);
    }
    if let Some(x) = g.scalar(Slot::Xff) {
        push_json_str(&mut out.forwarded_for, x, &mut sc.buf);
    }
    if let Some(m) = g.scalar(Slot::Method) {
        push_json_str(&mut out.method, m, &mut sc.buf);
        if let Some(t) = g.scalar(Slot::Target) {
            push_json_str(&mut out.target, t, &mut sc.buf);
        }
        if let Some(p) = g.scalar(Slot::Protocol) {
            push_json_str(&mut out.protocol, p, &mut sc.buf);
        }
    } else if let Some(r) = g.get(Slot::Request).and_then(JVal::scalar) {
        sc.buf2.clear();
        super::escape::unescape_json(r, &mut sc.buf2);
        let raw = std::mem::take(&mut sc.buf2);
        split_request_line(&LineText::new(&raw), &raw, out, &mut sc.buf);
        sc.buf2 = raw;
    } else if let Some(t) = g.scalar(Slot::Target) {
        push_json_str(&mut out.target, t, &mut sc.buf);
    }
    if let Some(s) = g.scalar(Slot::Status) {
        out.status = parse_status(s).ok_or("status: not a number")?;
    }
    if let Some(b) = g.scalar(Slot::Bytes) {
        out.bytes_sent = parse_u64(b).ok_or("bytes: not a number")?;
    }
    if let Some(ua) = g.scalar(Slot::UserAgent) {
        push_json_str(&mut out.user_agent, ua, &mut sc.buf);
    }
    if let Some(r) = g.scalar(Slot::Referer) {
        push_json_str(&mut out.referer, r, &mut sc.buf);
    }
    if let Some(h) = g.scalar(Slot::Host) {
        push_json_str(&mut out.host, h, &mut sc.buf);
    }
    out.duration_us = if let Some(d) = g.scalar(Slot::DurationSecs) {
        decimal_to_us(d, 1_000_000)
    } else if let Some(d) = g.scalar(Slot::DurationMs) {
        decimal_to_us(d, 1000)
    } else {
        g.scalar(Slot::DurationNs).and_then(parse_u64).map(|ns| ns / 1000)
    };
    Ok(())
}
