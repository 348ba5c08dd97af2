//! nmap grepable output (`-oG`).
//!
//! The format has **no per-host times**: only `# Nmap … scan initiated <ctime>` and `# Nmap done
//! at <ctime>` comments, in the scanner's local time without a zone (read in
//! [`ScanOptions::default_tz`](super::ScanOptions) by `Cx::local_ctime`, which marks the
//! source `zone_assumed`). The `initiated` comment also names the run (command line after
//! `as:`, local start) so an XML copy of the same run is recognised. Following the nmap XML
//! rule for hosts without times, every observation gets the `done` time; hosts therefore
//! wait until that line (or the end of input, where the `initiated` time is used and the
//! file is incomplete).
//!
//! Host lines are TAB-separated fields: `Host: <ip> (<name>)`, then `Status: Up|Down` or
//! `Ports: <entries>` and `Ignored State: <state> (<n>)`. The same host usually appears on
//! several lines; they are merged (a port seen twice is kept once). A `Ports:` entry is seven
//! `/`-separated subfields (`port/state/proto/owner/service/rpc/version/`), entries separated by
//! `, `; nmap writes `|` for a `/` inside a subfield. States map as in nmap XML
//! (`open|filtered`, `closed|filtered`, `unfiltered` are `Ambiguous`, nmap's word kept). A down
//! host is one `Unreachable` observation carrying the ports of `# Ports scanned:` (else the
//! `-p` of the command line in the `initiated … as:` header) as shared ranges.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::model::{PortState, ScanObservation, ScanTool, ScannerState, Transport};

use super::ScanRecordError;
use super::clock::{ScanRun, collapse};
use super::line_tool::LineParser;
use super::tally::{Cx, HostKey};
use super::target::{Covered, covered_ports, normalize_hostname, parse_ip, ports_from_args};
use super::value::details;

#[derive(Debug, Clone)]
struct PortEntry {
    line: u64,
    port: u16,
    transport: Transport,
    state: PortState,
    scanner_state: Option<ScannerState>,
    details: String,
}

#[derive(Debug)]
struct Host {
    address: Option<IpAddr>,
    hostname: String,
    /// Line of the `Status: Down` record, when the host was reported down.
    down_line: Option<u64>,
    ports: Vec<PortEntry>,
    /// `Ignored State: closed (996)` — the last one seen for this host.
    ignored: Option<(String, u64)>,
}

#[derive(Debug, Default)]
pub struct NmapGrepable {
    started: Option<DateTime<Utc>>,
    saw_done: bool,
    scanned: Vec<(Transport, String)>,
    /// The `-p` lists of the `initiated … as:` command line, for a file without `# Ports scanned:`.
    args_ports: Vec<(Transport, String)>,
    /// Line of the `# Ports scanned:` comment (for errors in it).
    scanned_line: u64,
    /// `scanned` expanded, computed at the first down host (reset with `scanned`).
    covered: Option<Covered>,
    hosts: Vec<Host>,
    index: HashMap<HostKey, usize>,
    unmapped_states: u64,
    down_without_ports: u64,
}

impl LineParser for NmapGrepable {
    fn line(&mut self, number: u64, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        let text = String::from_utf8_lossy(bytes);
        if text.trim().is_empty() {
            return;
        }
        if let Some(comment) = text.strip_prefix('#') {
            if let Err(err) = self.comment(number, comment.trim(), cx, out) {
                cx.malformed(&err);
            }
            return;
        }
        if let Err(err) = self.host_line(number, &text) {
            cx.malformed(&err);
        }
    }

    fn finish(&mut self, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        if self.saw_done && self.hosts.is_empty() {
            return;
        }
        cx.set_incomplete();
        match self.started {
            Some(time) => self.flush(time, cx, out),
            None if self.hosts.is_empty() => {}
            None => {
                let line = self.hosts.iter().find_map(|h| h.ports.first()).map_or(1, |p| p.line);
                cx.malformed(&ScanRecordError::Record {
                    line,
                    reason: "no `# Nmap … initiated` or `# Nmap done` time for these hosts".into(),
                });
                self.hosts.clear();
                self.index.clear();
            }
        }
    }

    fn notes(&self) -> Vec<String> {
        let mut notes =
            vec!["grepable output has no per-host times: evidence time is `# Nmap done`".into()];
        if self.unmapped_states > 0 {
            notes.push(format!(
                "{} ports in states without exposure meaning skipped",
                self.unmapped_states
            ));
        }
        if self.down_without_ports > 0 {
            notes.push(format!(
                "{} down hosts in a scan without a port list (no `# Ports scanned:`, no `-p`): \
                 negative evidence only for service addresses without a port",
                self.down_without_ports
            ));
        }
        notes
    }
}

impl NmapGrepable {
    fn comment(
        &mut self,
        line: u64,
        comment: &str,
        cx: &mut Cx,
        out: &mut Vec<ScanObservation>,
    ) -> Result<(), ScanRecordError> {
        if let Some(rest) = comment.strip_prefix("Nmap done at ") {
            let stamp = rest.split(" -- ").next().unwrap_or(rest);
            let time = cx.local_ctime(line, stamp)?;
            self.saw_done = true;
            self.flush(time, cx, out);
        } else if comment.starts_with("Nmap ") && comment.contains(" scan initiated ") {
            let after = comment.split(" scan initiated ").nth(1).unwrap_or("");
            let (stamp, args) = after.split_once(" as: ").unwrap_or((after, ""));
            self.args_ports = ports_from_args(args).unwrap_or_default();
            self.started = Some(cx.local_ctime(line, stamp)?);
            if !args.trim().is_empty() {
                cx.run(ScanRun {
                    args: args.trim().to_owned(),
                    started_local: collapse(stamp),
                    started: None,
                });
            }
            self.saw_done = false;
            self.scanned.clear();
            self.covered = None;
        } else if let Some(list) = comment.strip_prefix("Ports scanned:") {
            self.scanned_line = line;
            self.covered = None;
            // `TCP(1000;1,3-4,…) UDP(0;) SCTP(0;) PROTOCOLS(0;)`
            for group in list.split_whitespace() {
                let Some((proto, rest)) = group.split_once('(') else { continue };
                let ports = rest.trim_end_matches(')').split_once(';').map_or("", |(_, p)| p);
                let transport = match proto {
                    "TCP" => Transport::Tcp,
                    "UDP" => Transport::Udp,
                    "SCTP" => Transport::Sctp,
                    _ => continue,
                };
                if !ports.is_empty() {
                    self.scanned.push((transport, ports.to_owned()));
                }
            }
        }
        Ok(())
    }

    fn host_line(&mut self, line: u64, text: &str) -> Result<(), ScanRecordError> {
        let field = |name: &str| text.split('\t').find_map(|f| f.strip_prefix(name));
        let host = field("Host: ").ok_or_else(|| ScanRecordError::missing(line, "Host"))?;
        let (addr, name) = match host.split_once(" (") {
            Some((addr, name)) => (addr.trim(), name.trim().trim_end_matches(')')),
            None => (host.trim(), ""),
        };
        let address = parse_ip(addr);
        let hostname =
            if address.is_none() { normalize_hostname(addr) } else { normalize_hostname(name) };
        let key = HostKey::of(address, &hostname).ok_or_else(|| ScanRecordError::Field {
            line,
            field: "Host",
            reason: format!("no address or name in `{host}`"),
        })?;
        let idx = *self.index.entry(key).or_insert_with(|| {
            self.hosts.push(Host {
                address,
                hostname: hostname.clone(),
                down_line: None,
                ports: Vec::new(),
                ignored: None,
            });
            self.hosts.len() - 1
        });
        let host = &mut self.hosts[idx];
        if host.hostname.is_empty() {
            host.hostname = hostname;
        }
        if let Some(status) = field("Status: ") {
            if status.trim().eq_ignore_ascii_case("down") {
                host.down_line = Some(line);
            }
        }
        if let Some(ignored) = field("Ignored State: ") {
            // `closed (996)`
            if let Some((state, count)) = ignored.split_once(" (") {
                if let Ok(count) = count.trim_end_matches(')').trim().parse() {
                    host.ignored = Some((state.trim().to_owned(), count));
                }
            }
        }
        if let Some(ports) = field("Ports: ") {
            let parsed = parse_ports(line, ports)?;
            for entry in parsed {
                let Some(entry) = entry else {
                    self.unmapped_states += 1;
                    continue;
                };
                let host = &mut self.hosts[idx];
                let known = host
                    .ports
                    .iter()
                    .any(|p| (p.port, p.transport) == (entry.port, entry.transport));
                if !known {
                    host.ports.push(entry);
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self, time: DateTime<Utc>, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        self.index.clear();
        for host in std::mem::take(&mut self.hosts) {
            if let Some(key) = HostKey::of(host.address, &host.hostname) {
                cx.host(key);
            }
            if let Some((state, count)) = &host.ignored {
                cx.extraports(state, *count);
            }
            let base = ScanObservation {
                time,
                source: cx.source,
                line: host.down_line.unwrap_or(0),
                address: host.address,
                hostname: host.hostname.clone(),
                port: None,
                transport: Transport::Tcp,
                state: PortState::Unreachable,
                scanner_state: None,
                covered: None,
                tool: ScanTool::Nmap,
                details: "host down".into(),
            };
            if host.down_line.is_some() && host.ports.is_empty() {
                self.down(&base, cx, out);
            }
            for p in host.ports {
                let obs = ScanObservation {
                    line: p.line,
                    port: Some(p.port),
                    transport: p.transport,
                    state: p.state,
                    scanner_state: p.scanner_state,
                    details: p.details,
                    ..base.clone()
                };
                cx.emit(obs, out);
            }
        }
    }

    /// The one observation of a down host: `Unreachable` for every port the scan covered.
    fn down(&mut self, base: &ScanObservation, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        let covered = self.covered.get_or_insert_with(|| {
            let lists = if self.scanned.is_empty() { &self.args_ports } else { &self.scanned };
            let covered = covered_ports(lists);
            for reason in &covered.errors {
                cx.malformed(&ScanRecordError::Field {
                    line: self.scanned_line,
                    field: "Ports scanned",
                    reason: reason.clone(),
                });
            }
            covered
        });
        if covered.ports.is_none() {
            self.down_without_ports += 1;
        }
        cx.emit(ScanObservation { covered: covered.ports.clone(), ..base.clone() }, out);
    }
}

/// Parse a `Ports:` field. `None` entries are ports in a state without exposure meaning.
fn parse_ports(line: u64, ports: &str) -> Result<Vec<Option<PortEntry>>, ScanRecordError> {
    let bad = |reason: String| ScanRecordError::Field { line, field: "Ports", reason };
    // Subfields never contain '/', so the field is groups of seven '/'-separated tokens, each
    // group after the first starting with ", ".
    let tokens: Vec<&str> = ports.split('/').collect();
    let mut entries = Vec::new();
    for group in tokens.chunks_exact(7) {
        let port_text = group[0].trim().trim_start_matches(',').trim();
        let port = port_text.parse::<u16>().map_err(|_| bad(format!("bad port `{port_text}`")))?;
        let transport = match group[2] {
            "tcp" => Transport::Tcp,
            "udp" => Transport::Udp,
            "sctp" => Transport::Sctp,
            "ip" => Transport::Ip,
            other => return Err(bad(format!("unknown protocol `{other}` for port {port}"))),
        };
        let Some((state, scanner_state)) = ScannerState::map_nmap(group[1]) else {
            entries.push(None);
            continue;
        };
        let service = group[4].replace('|', "/");
        let version = group[6].replace('|', "/");
        entries.push(Some(PortEntry {
            line,
            port,
            transport,
            state,
            scanner_state,
            details: details([service.as_str(), version.as_str()]),
        }));
    }
    if entries.is_empty() && !ports.trim().is_empty() {
        return Err(bad(format!(
            "no `port/state/proto/owner/service/rpc/version/` entry in `{ports}`"
        )));
    }
    Ok(entries)
}
