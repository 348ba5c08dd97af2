//! nmap XML (`-oX`), parsed incrementally with quick-xml.
//!
//! Bytes may arrive split anywhere (mid-tag, mid-UTF-8 character). Unconsumed input is kept
//! only up to the end of the last complete XML event, so memory is bounded by one event plus
//! one host's ports. A host's observations go out when its `</host>` is read.
//!
//! Evidence time: `host@endtime`, else `host@starttime`, else `runstats/finished@time`, else
//! `nmaprun@start`. A host without its own times (nmap writes none for down hosts) therefore
//! waits for `<finished>` or [`NmapXml::finish`] before it is emitted.
//!
//! Identity: a host with several addresses or hostnames yields one observation per port,
//! carrying the **first** IP address (IPv4 or IPv6; MAC ignored) and the **first** hostname
//! (nmap lists the user-supplied name before PTR names); the other names are not split out.
//!
//! States: `open`, `closed`, `filtered` as named; `open|filtered`, `closed|filtered` and
//! `unfiltered` are `Ambiguous` with nmap's word kept. A `portid` that is not a port (`99999`,
//! `abc`, empty) is a malformed line naming the field; the port is skipped.
//!
//! A down host yields **one** `Unreachable` observation without a port, carrying the ports the
//! scan covered (`scaninfo@services`, else the `-p` of `nmaprun@args`) as ranges shared by the
//! whole run: memory grows with hosts, not hosts × ports. The correlator applies it to every
//! service address of that host whose port is covered. `extraports` go to the summary, never
//! become ports. Host liveness is never a port: masscan `-oX` ICMP/ARP replies
//! (`protocol="icmp" portid="0"`) count the host and yield no observation. `hosthint`,
//! task/progress elements and scripts are ignored.

use chrono::{DateTime, Utc};
use quick_xml::XmlVersion;
use quick_xml::errors::{Error as XmlError, SyntaxError};
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::model::{PortState, ScanObservation, ScanTool, ScannerState, Transport};

use super::ScanRecordError;
use super::clock::{ScanRun, collapse};
use super::tally::{Cx, HostKey};
use super::target::ports_from_args;
use super::target::{Covered, covered_ports, normalize_hostname, parse_ip};
use super::value::{details, epoch_seconds};

/// While feeding, an incomplete XML construct longer than this (bytes) is treated as garbage
/// instead of waiting for more input (an unclosed comment must not buffer a whole file).
const MAX_PENDING_EVENT: usize = 1024 * 1024;

#[derive(Debug, Default)]
struct PortBuilder {
    transport: Transport,
    port: u16,
    state: String,
    service: String,
    product: String,
    version: String,
    tunnel: String,
}

#[derive(Debug, Default)]
struct HostBuilder {
    line: u64,
    starttime: Option<DateTime<Utc>>,
    endtime: Option<DateTime<Utc>>,
    status: String,
    address: Option<std::net::IpAddr>,
    extra_addresses: u32,
    hostname: String,
    ports: Vec<PortBuilder>,
}

/// A finished host whose time is not known yet (observations carry a placeholder time).
#[derive(Debug)]
struct PendingHost {
    key: HostKey,
    observations: Vec<ScanObservation>,
}

#[derive(Debug, Default)]
pub struct NmapXml {
    /// Decoded, unconsumed input (starts at an event boundary).
    text: String,
    /// An incomplete UTF-8 sequence at the end of the last chunk.
    raw_tail: Vec<u8>,
    /// 1-based line number of `text[0]`.
    line_base: u64,
    run_start: Option<DateTime<Utc>>,
    finished: Option<DateTime<Utc>>,
    saw_end: bool,
    /// (transport, `scaninfo@services`) per scaninfo element.
    scaninfo: Vec<(Transport, String)>,
    /// `nmaprun@args`, for the `-p` list when there is no scaninfo.
    args: String,
    /// `scaninfo` expanded, computed at the first down host (reset with `scaninfo`).
    covered: Option<Covered>,
    host: Option<HostBuilder>,
    port: Option<PortBuilder>,
    pending: Vec<PendingHost>,
    unmapped_states: Vec<(String, u64)>,
    multi_address_hosts: u64,
    down_without_ports: u64,
    /// masscan `-oX` ICMP/ARP replies: host liveness, not ports.
    liveness: u64,
}

impl NmapXml {
    #[must_use]
    pub fn new() -> Self {
        NmapXml { line_base: 1, ..NmapXml::default() }
    }

    pub fn feed(&mut self, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        self.decode(bytes);
        self.parse(false, cx, out);
    }

    pub fn finish(&mut self, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        if !self.raw_tail.is_empty() {
            let tail = std::mem::take(&mut self.raw_tail);
            self.text.push_str(&String::from_utf8_lossy(&tail));
        }
        self.parse(true, cx, out);
        if !self.saw_end {
            cx.set_incomplete();
        }
        let time = self.finished.or(self.run_start);
        for host in std::mem::take(&mut self.pending) {
            match time {
                Some(time) => emit_pending(host, time, cx, out),
                None => cx.malformed(&ScanRecordError::Field {
                    line: host.observations.first().map_or(0, |o| o.line),
                    field: "host@starttime",
                    reason: "host has no times and the file has no nmaprun@start or \
                             runstats/finished@time"
                        .into(),
                }),
            }
        }
    }

    /// Notes for `inspect`, computed from what was seen so far.
    #[must_use]
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for (state, n) in &self.unmapped_states {
            notes.push(format!("{n} ports in state `{state}` have no exposure meaning; skipped"));
        }
        if self.multi_address_hosts > 0 {
            notes.push(format!(
                "{} hosts had several addresses; observations carry the first",
                self.multi_address_hosts
            ));
        }
        if self.down_without_ports > 0 {
            notes.push(format!(
                "{} down hosts in a scan without a port list (no scaninfo, no `-p`): negative \
                 evidence only for service addresses without a port",
                self.down_without_ports
            ));
        }
        if self.liveness > 0 {
            notes.push(format!(
                "{} ICMP/ARP replies are host liveness, not ports: hosts counted, no observation",
                self.liveness
            ));
        }
        if !self.pending.is_empty() {
            notes.push(format!(
                "{} hosts without times wait for runstats/finished",
                self.pending.len()
            ));
        }
        notes
    }

    /// Append `bytes` to `text`, keeping an incomplete trailing UTF-8 sequence for later and
    /// replacing invalid bytes with U+FFFD.
    fn decode(&mut self, bytes: &[u8]) {
        let owned;
        let mut input: &[u8] = if self.raw_tail.is_empty() {
            bytes
        } else {
            self.raw_tail.extend_from_slice(bytes);
            owned = std::mem::take(&mut self.raw_tail);
            &owned
        };
        loop {
            match std::str::from_utf8(input) {
                Ok(valid) => {
                    self.text.push_str(valid);
                    return;
                }
                Err(err) => {
                    let (valid, rest) = input.split_at(err.valid_up_to());
                    self.text.push_str(&String::from_utf8_lossy(valid));
                    let Some(bad) = err.error_len() else {
                        self.raw_tail = rest.to_vec();
                        return;
                    };
                    self.text.push('\u{FFFD}');
                    input = &rest[bad..];
                }
            }
        }
    }

    /// Read every complete event in `text`. `last`: no more input will come, so incomplete
    /// constructs are skipped instead of waited for.
    fn parse(&mut self, last: bool, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        let text = std::mem::take(&mut self.text);
        let mut consumed = 0usize;
        let mut lines = LineCursor { base: self.line_base, pos: 0, line: self.line_base };
        'restart: while consumed < text.len() {
            let mut reader = Reader::from_str(&text[consumed..]);
            let config = reader.config_mut();
            config.check_end_names = false;
            config.allow_unmatched_ends = true;
            config.check_comments = false;
            config.allow_dangling_amp = true;
            loop {
                let before = consumed + reader.buffer_position() as usize;
                match reader.read_event() {
                    Ok(Event::Eof) => {
                        consumed = text.len();
                        break 'restart;
                    }
                    Ok(event) => {
                        let after = consumed + reader.buffer_position() as usize;
                        let line = lines.at(&text, before);
                        self.event(&event, line, cx, out);
                        if after >= text.len() {
                            consumed = after;
                            break 'restart;
                        }
                    }
                    Err(err) => {
                        let line = lines.at(&text, before);
                        // quick-xml's syntax errors mean "input ended inside a construct",
                        // except `<!` followed by something that is no comment, CDATA or
                        // DOCTYPE, which is garbage as soon as that byte is there.
                        let garbage_bang =
                            matches!(err, XmlError::Syntax(SyntaxError::InvalidBangMarkup))
                                && text.len() > before + 2;
                        let incomplete = matches!(err, XmlError::Syntax(_)) && !garbage_bang;
                        if incomplete && !last && text.len() - before < MAX_PENDING_EVENT {
                            consumed = before;
                            break 'restart;
                        }
                        if incomplete && last && next_tag(&text, before).is_none() {
                            // The file was cut inside this construct: that is what
                            // `incomplete` reports, not a malformed record.
                            consumed = text.len();
                            break 'restart;
                        }
                        cx.malformed(&ScanRecordError::Record {
                            line,
                            reason: format!("XML: {err}"),
                        });
                        let after = consumed + reader.buffer_position() as usize;
                        consumed = if after > before {
                            char_boundary(&text, after)
                        } else {
                            next_tag(&text, before).unwrap_or(text.len())
                        };
                        continue 'restart;
                    }
                }
            }
        }
        let consumed = consumed.min(text.len());
        self.line_base = lines.at(&text, consumed);
        self.text = text;
        self.text.drain(..consumed);
    }

    fn event(&mut self, event: &Event<'_>, line: u64, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        match event {
            Event::Start(e) => self.open(e, line, false, cx, out),
            Event::Empty(e) => self.open(e, line, true, cx, out),
            Event::End(e) => match e.local_name().as_ref() {
                "port" => {
                    if let (Some(host), Some(port)) = (self.host.as_mut(), self.port.take()) {
                        host.ports.push(port);
                    }
                }
                "host" => {
                    if let Some(host) = self.host.take() {
                        self.port = None;
                        self.close_host(&host, cx, out);
                    }
                }
                "nmaprun" => self.saw_end = true,
                _ => {}
            },
            _ => {}
        }
    }

    fn open(
        &mut self,
        e: &BytesStart<'_>,
        line: u64,
        empty: bool,
        cx: &mut Cx,
        out: &mut Vec<ScanObservation>,
    ) {
        let name = e.local_name();
        let attr = |key: &str| attribute(e, key);
        match name.as_ref() {
            "nmaprun" => {
                // A second run appended to the same file (`--append-output`): hosts of an
                // unfinished first run keep that run's start time; the new run starts clean.
                if let Some(start) = self.run_start {
                    for host in std::mem::take(&mut self.pending) {
                        emit_pending(host, start, cx, out);
                    }
                }
                self.scaninfo.clear();
                self.args = attr("args").unwrap_or_default();
                self.covered = None;
                self.finished = None;
                self.saw_end = false;
                self.run_start = attr("start").as_deref().and_then(epoch_seconds);
                // The run's name, for recognising a `-oG` copy of it (`startstr` is local
                // time: compared as text, never read as a time; `start` is the instant).
                if let Some(args) = attr("args").filter(|a| !a.trim().is_empty()) {
                    cx.run(ScanRun {
                        args: args.trim().to_owned(),
                        started_local: collapse(&attr("startstr").unwrap_or_default()),
                        started: self.run_start,
                    });
                }
            }
            "scaninfo" => {
                let transport = transport(&attr("protocol").unwrap_or_default());
                self.scaninfo.push((transport, attr("services").unwrap_or_default()));
                self.covered = None;
            }
            "host" if !empty => {
                if let Some(open) = &self.host {
                    cx.malformed(&ScanRecordError::Record {
                        line: open.line,
                        reason: "host element not closed before the next one; skipped".into(),
                    });
                }
                self.port = None;
                self.host = Some(HostBuilder {
                    line,
                    starttime: attr("starttime").as_deref().and_then(epoch_seconds),
                    endtime: attr("endtime").as_deref().and_then(epoch_seconds),
                    ..HostBuilder::default()
                });
            }
            "finished" => {
                if let Some(time) = attr("time").as_deref().and_then(epoch_seconds) {
                    self.finished = Some(time);
                    for host in std::mem::take(&mut self.pending) {
                        emit_pending(host, time, cx, out);
                    }
                }
            }
            _ => self.open_in_host(name.as_ref(), e, line, empty, cx),
        }
    }

    /// Elements that only mean something inside `<host>` (hosthint children are outside).
    fn open_in_host(
        &mut self,
        name: &str,
        e: &BytesStart<'_>,
        line: u64,
        empty: bool,
        cx: &mut Cx,
    ) {
        let Some(host) = self.host.as_mut() else { return };
        let attr = |key: &str| attribute(e, key);
        match name {
            "status" => host.status = attr("state").unwrap_or_default(),
            "address" => {
                let kind = attr("addrtype").unwrap_or_else(|| "ipv4".into());
                if kind == "ipv4" || kind == "ipv6" {
                    match attr("addr").as_deref().and_then(parse_ip) {
                        Some(ip) if host.address.is_none() => host.address = Some(ip),
                        Some(_) => host.extra_addresses += 1,
                        None => {}
                    }
                }
            }
            "hostname" if host.hostname.is_empty() => {
                host.hostname = normalize_hostname(&attr("name").unwrap_or_default());
            }
            "extraports" => {
                let count = attr("count").and_then(|c| c.trim().parse::<u64>().ok()).unwrap_or(0);
                cx.extraports(&attr("state").unwrap_or_default(), count);
            }
            "port" => {
                self.port = None;
                let protocol = attr("protocol").unwrap_or_default();
                if protocol == "icmp" || protocol == "arp" {
                    self.liveness += 1;
                    return;
                }
                let portid = attr("portid").unwrap_or_default();
                let Ok(number) = portid.trim().parse::<u16>() else {
                    cx.malformed(&ScanRecordError::Field {
                        line,
                        field: "port@portid",
                        reason: format!("not a port number (0-65535): `{portid}`; port skipped"),
                    });
                    return;
                };
                let port = PortBuilder {
                    transport: transport(&protocol),
                    port: number,
                    ..PortBuilder::default()
                };
                if empty {
                    host.ports.push(port);
                } else {
                    self.port = Some(port);
                }
            }
            "state" => {
                if let Some(port) = self.port.as_mut() {
                    port.state = attr("state").unwrap_or_default();
                }
            }
            "service" => {
                if let Some(port) = self.port.as_mut() {
                    port.service = attr("name").unwrap_or_default();
                    port.product = attr("product").unwrap_or_default();
                    port.version = attr("version").unwrap_or_default();
                    port.tunnel = attr("tunnel").unwrap_or_default();
                }
            }
            _ => {}
        }
    }

    fn close_host(&mut self, host: &HostBuilder, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        let Some(key) = HostKey::of(host.address, &host.hostname) else {
            cx.malformed(&ScanRecordError::Field {
                line: host.line,
                field: "host/address",
                reason: "host has no IP address and no hostname".into(),
            });
            return;
        };
        if host.extra_addresses > 0 {
            self.multi_address_hosts += 1;
        }
        let base = ScanObservation {
            time: host.endtime.or(host.starttime).unwrap_or(DateTime::UNIX_EPOCH),
            source: cx.source,
            line: host.line,
            address: host.address,
            hostname: host.hostname.clone(),
            port: None,
            transport: Transport::Tcp,
            state: PortState::Unreachable,
            scanner_state: None,
            covered: None,
            tool: ScanTool::Nmap,
            details: String::new(),
        };
        let mut observations = Vec::new();
        if host.status == "down" {
            observations.push(self.down_observation(base, cx));
        } else {
            for port in &host.ports {
                let Some((state, scanner_state)) = self.map_state(&port.state) else { continue };
                let service = match (port.tunnel.as_str(), port.service.as_str()) {
                    ("", name) => name.to_owned(),
                    (tunnel, name) => format!("{tunnel}/{name}"),
                };
                observations.push(ScanObservation {
                    port: Some(port.port),
                    transport: port.transport,
                    state,
                    scanner_state,
                    details: details([service.as_str(), &port.product, &port.version]),
                    ..base.clone()
                });
            }
        }
        let pending = PendingHost { key, observations };
        match host.endtime.or(host.starttime).or(self.finished) {
            Some(time) => emit_pending(pending, time, cx, out),
            None => self.pending.push(pending),
        }
    }

    /// The one observation of a down host: `Unreachable` for every port the scan covered.
    fn down_observation(&mut self, base: ScanObservation, cx: &mut Cx) -> ScanObservation {
        let covered = self.covered.get_or_insert_with(|| {
            let from_args;
            let lists = if self.scaninfo.iter().any(|(_, l)| !l.trim().is_empty()) {
                &self.scaninfo
            } else {
                from_args = ports_from_args(&self.args).unwrap_or_default();
                &from_args
            };
            let covered = covered_ports(lists);
            for reason in &covered.errors {
                cx.malformed(&ScanRecordError::Field {
                    line: base.line,
                    field: "scaninfo@services",
                    reason: reason.clone(),
                });
            }
            covered
        });
        if covered.ports.is_none() {
            self.down_without_ports += 1;
        }
        ScanObservation { details: "host down".into(), covered: covered.ports.clone(), ..base }
    }

    fn map_state(&mut self, state: &str) -> Option<(PortState, Option<ScannerState>)> {
        let mapped = ScannerState::map_nmap(state);
        if mapped.is_none() {
            match self.unmapped_states.iter_mut().find(|(s, _)| s == state) {
                Some((_, n)) => *n += 1,
                None => self.unmapped_states.push((state.to_owned(), 1)),
            }
        }
        mapped
    }
}

fn emit_pending(
    host: PendingHost,
    time: DateTime<Utc>,
    cx: &mut Cx,
    out: &mut Vec<ScanObservation>,
) {
    cx.host(host.key);
    for mut obs in host.observations {
        obs.time = time;
        cx.emit(obs, out);
    }
}

/// An attribute's value with entities decoded; a value that does not decode is kept raw.
fn attribute(e: &BytesStart<'_>, key: &str) -> Option<String> {
    for attr in e.attributes().with_checks(false) {
        let Ok(attr) = attr else { return None };
        if attr.key.local_name().as_ref() == key {
            return Some(match attr.normalized_value(XmlVersion::Implicit1_0) {
                Ok(value) => value.into_owned(),
                Err(_) => attr.value.into_owned(),
            });
        }
    }
    None
}

fn transport(protocol: &str) -> Transport {
    match protocol {
        "udp" => Transport::Udp,
        "sctp" => Transport::Sctp,
        "ip" => Transport::Ip,
        _ => Transport::Tcp,
    }
}

/// The first char boundary at or after `pos` (quick-xml positions are byte offsets).
fn char_boundary(text: &str, mut pos: usize) -> usize {
    while pos < text.len() && !text.is_char_boundary(pos) {
        pos += 1;
    }
    pos.min(text.len())
}

/// The next `<` strictly after `pos` (resynchronisation point after garbage).
fn next_tag(text: &str, pos: usize) -> Option<usize> {
    memchr::memchr(b'<', text.as_bytes().get(pos + 1..)?).map(|i| pos + 1 + i)
}

/// Line numbers of byte positions, for positions visited in increasing order.
struct LineCursor {
    base: u64,
    pos: usize,
    line: u64,
}

impl LineCursor {
    fn at(&mut self, text: &str, pos: usize) -> u64 {
        let pos = pos.min(text.len());
        if pos < self.pos {
            self.pos = 0;
            self.line = self.base;
        }
        let newlines = memchr::memchr_iter(b'\n', &text.as_bytes()[self.pos..pos]).count();
        self.line += newlines as u64;
        self.pos = pos;
        self.line
    }
}

#[cfg(test)]
mod tests;
