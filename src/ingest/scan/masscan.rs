//! masscan: what every output layout has in common, plus the JSON layouts (`-oJ`, all three
//! historic shapes, and NDJSON `-oD`). The list and grepable layouts are in `masscan_text.rs`.
//!
//! Meaning: a `status` record is `Open` (masscan only reports what answered; its silence proves
//! nothing). An explicit `closed` status (`--show closed`) is kept as `Closed`; other statuses
//! (`up` from ARP, `unknown`) carry no port state and are counted in a note. ICMP echo replies
//! and ARP answers (`"proto":"icmp","port":0` in every layout) are host liveness, never a port:
//! the host is counted, no observation is made. A banner record is
//! an `Open` observation whose `details` carry the service name and banner text. The same
//! record (ip, port, protocol, time, and for banners service and text) repeated in one file is
//! emitted once.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::model::{PortState, ScanObservation, ScanTool, Transport};

use super::ScanRecordError;
use super::json_tool::RecordParser;
use super::tally::{Cx, HostKey};
use super::target::parse_ip;
use super::value::{StrOrNum, details, epoch_seconds, json_record};

/// A record once decoded from any masscan layout.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MasscanRecord {
    pub line: u64,
    pub address: IpAddr,
    pub port: u16,
    pub transport: Transport,
    pub time: DateTime<Utc>,
    pub kind: RecordKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Status(String),
    Banner { service: String, banner: String },
}

/// What identifies a record for de-duplication: address, port, transport, epoch seconds, kind
/// (0 open, 1 closed, 2 banner) and, for banners, a hash of service and text. Compact on
/// purpose: an Internet-wide list has millions of records.
type DedupeKey = (IpAddr, u16, Transport, i64, u8, u64);

/// De-duplication and state mapping shared by every masscan layout.
#[derive(Debug, Default)]
pub struct MasscanCore {
    seen: HashSet<DedupeKey>,
    duplicates: u64,
    other_status: u64,
    /// ICMP/ARP replies: host liveness, not ports.
    liveness: u64,
}

impl MasscanCore {
    pub fn record(&mut self, rec: MasscanRecord, cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        if rec.transport == Transport::Ip {
            // `icmp`/`arp`: the host answered; that says nothing about any port.
            self.liveness += 1;
            cx.host(HostKey::Ip(rec.address));
            return;
        }
        let (state, kind, text_hash) = match &rec.kind {
            RecordKind::Status(status) => match status.as_str() {
                "open" => (PortState::Open, 0, 0),
                "closed" => (PortState::Closed, 1, 0),
                _ => {
                    self.other_status += 1;
                    return;
                }
            },
            RecordKind::Banner { service, banner } => {
                let mut hasher = std::hash::DefaultHasher::new();
                (service, banner).hash(&mut hasher);
                (PortState::Open, 2, hasher.finish())
            }
        };
        let key = (rec.address, rec.port, rec.transport, rec.time.timestamp(), kind, text_hash);
        if !self.seen.insert(key) {
            self.duplicates += 1;
            return;
        }
        let details = match rec.kind {
            RecordKind::Banner { service, banner } => {
                details(["banner", service.as_str(), banner.as_str()])
            }
            RecordKind::Status(_) => String::new(),
        };
        let obs = ScanObservation {
            time: rec.time,
            source: cx.source,
            line: rec.line,
            address: Some(rec.address),
            hostname: String::new(),
            port: Some(rec.port),
            transport: rec.transport,
            state,
            scanner_state: None,
            covered: None,
            tool: ScanTool::Masscan,
            details,
        };
        cx.emit(obs, out);
    }

    #[must_use]
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.duplicates > 0 {
            notes.push(format!("{} repeated records (same ip:port:time) skipped", self.duplicates));
        }
        if self.liveness > 0 {
            notes.push(format!(
                "{} ICMP/ARP replies are host liveness, not ports: hosts counted, no observation",
                self.liveness
            ));
        }
        if self.other_status > 0 {
            notes.push(format!(
                "{} records with a status other than open/closed (ARP `up`, unknown) skipped",
                self.other_status
            ));
        }
        notes
    }
}

/// masscan protocol names; `None` for anything else.
#[must_use]
pub fn transport(proto: &str) -> Option<Transport> {
    match proto.trim() {
        "tcp" => Some(Transport::Tcp),
        "udp" => Some(Transport::Udp),
        "sctp" => Some(Transport::Sctp),
        "icmp" | "arp" | "ip" => Some(Transport::Ip),
        _ => None,
    }
}

/// Decode the shared fields of one record; the error names the field.
pub fn decode(
    line: u64,
    ip: Option<&str>,
    port: Option<&StrOrNum>,
    proto: Option<&str>,
    timestamp: Option<&StrOrNum>,
    kind: RecordKind,
) -> Result<MasscanRecord, ScanRecordError> {
    let bad = |field, reason: String| ScanRecordError::Field { line, field, reason };
    let ip_text = ip.ok_or_else(|| ScanRecordError::missing(line, "ip"))?;
    let address = parse_ip(ip_text).ok_or_else(|| bad("ip", format!("not an IP: `{ip_text}`")))?;
    let port_value = port.ok_or_else(|| ScanRecordError::missing(line, "port"))?;
    let port = port_value
        .port()
        .ok_or_else(|| bad("port", format!("not a port: `{}`", port_value.text())))?;
    let proto = proto.unwrap_or("tcp");
    let transport =
        transport(proto).ok_or_else(|| bad("proto", format!("unknown protocol `{proto}`")))?;
    let stamp = timestamp.ok_or_else(|| ScanRecordError::missing(line, "timestamp"))?.text();
    let time = epoch_seconds(&stamp)
        .ok_or_else(|| bad("timestamp", format!("not epoch seconds: `{stamp}`")))?;
    Ok(MasscanRecord { line, address, port, transport, time, kind })
}

#[derive(Debug, Deserialize)]
struct Service {
    name: Option<String>,
    banner: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PortEntry {
    port: Option<StrOrNum>,
    proto: Option<String>,
    status: Option<String>,
    service: Option<Service>,
}

#[derive(Debug, Deserialize)]
struct NdData {
    status: Option<String>,
    service_name: Option<String>,
    banner: Option<String>,
}

/// `-oJ` records carry a `ports` array; `-oD` records a flat `port` and `rec_type` + `data`.
#[derive(Debug, Deserialize)]
struct JsonRecord {
    ip: Option<String>,
    timestamp: Option<StrOrNum>,
    ports: Option<Vec<PortEntry>>,
    port: Option<StrOrNum>,
    proto: Option<String>,
    rec_type: Option<String>,
    data: Option<NdData>,
}

#[derive(Debug, Default)]
pub struct MasscanJson {
    core: MasscanCore,
}

impl RecordParser for MasscanJson {
    fn record(&mut self, line: u64, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        // The ≤1.0.3 end marker `{finished: 1}`, not JSON (short: checked only when small).
        if bytes.len() < 32 {
            let compact: Vec<u8> =
                bytes.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            if compact == b"{finished:1}" {
                return;
            }
        }
        let rec: JsonRecord = match json_record(line, bytes) {
            Ok(rec) => rec,
            Err(err) => return cx.malformed(&err),
        };
        match Self::decode_all(line, rec) {
            Ok(records) => {
                for r in records {
                    self.core.record(r, cx, out);
                }
            }
            Err(err) => cx.malformed(&err),
        }
    }

    fn notes(&self) -> Vec<String> {
        self.core.notes()
    }
}

impl MasscanJson {
    fn decode_all(line: u64, rec: JsonRecord) -> Result<Vec<MasscanRecord>, ScanRecordError> {
        let ip = rec.ip.as_deref();
        let stamp = rec.timestamp.as_ref();
        if let Some(entries) = rec.ports {
            if entries.is_empty() {
                return Err(ScanRecordError::Field {
                    line,
                    field: "ports",
                    reason: "empty".into(),
                });
            }
            return entries
                .into_iter()
                .map(|p| {
                    let kind = match (p.status, p.service) {
                        (Some(status), _) => RecordKind::Status(status),
                        (None, Some(s)) => RecordKind::Banner {
                            service: s.name.unwrap_or_default(),
                            banner: s.banner.unwrap_or_default(),
                        },
                        (None, None) => return Err(ScanRecordError::missing(line, "ports/status")),
                    };
                    decode(line, ip, p.port.as_ref(), p.proto.as_deref(), stamp, kind)
                })
                .collect();
        }
        let data = rec.data.ok_or_else(|| ScanRecordError::missing(line, "ports"))?;
        let kind = match rec.rec_type.as_deref() {
            Some("banner") => RecordKind::Banner {
                service: data.service_name.unwrap_or_default(),
                banner: data.banner.unwrap_or_default(),
            },
            _ => RecordKind::Status(
                data.status.ok_or_else(|| ScanRecordError::missing(line, "data/status"))?,
            ),
        };
        decode(line, ip, rec.port.as_ref(), rec.proto.as_deref(), stamp, kind).map(|r| vec![r])
    }
}
