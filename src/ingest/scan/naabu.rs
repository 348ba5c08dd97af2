//! naabu JSONL: `port` flat (current) or the v2.1.2–2.1.6 object `{"Port","Protocol","TLS"}`.
//!
//! Every record is `Open` at its own `timestamp`. Target: `ip`, and `host` when it is a name
//! (naabu omits `host` when it equals the IP). Transport from `protocol` (`tcp`/`udp`; in the
//! object form `Protocol` 1 is UDP), TCP when absent (older versions).

use serde::Deserialize;

use crate::model::{PortState, ScanObservation, ScanTool, Transport};

use super::ScanRecordError;
use super::json_tool::{RecordParser, emit_one};
use super::tally::Cx;
use super::target::{parse_ip, parse_target};
use super::value::{StrOrNum, details, json_record, record_time};

#[derive(Debug, Deserialize)]
struct PortObject {
    #[serde(rename = "Port")]
    port: Option<StrOrNum>,
    #[serde(rename = "Protocol")]
    protocol: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum PortField {
    Flat(StrOrNum),
    Object(PortObject),
}

#[derive(Debug, Deserialize)]
struct Record {
    host: Option<String>,
    ip: Option<String>,
    port: Option<PortField>,
    protocol: Option<String>,
    timestamp: Option<String>,
    name: Option<String>,
    product: Option<String>,
    version: Option<String>,
}

#[derive(Debug, Default)]
pub struct Naabu;

impl RecordParser for Naabu {
    fn record(&mut self, line: u64, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        emit_one(parse(line, bytes, cx), cx, out);
    }
}

fn parse(line: u64, bytes: &[u8], cx: &Cx) -> Result<ScanObservation, ScanRecordError> {
    let rec: Record = json_record(line, bytes)?;
    let time = record_time(line, rec.timestamp.as_deref())?;
    let host = parse_target(rec.host.as_deref().unwrap_or(""));
    let address = rec.ip.as_deref().and_then(parse_ip).or(host.address);
    let hostname = host.hostname;
    if address.is_none() && hostname.is_empty() {
        return Err(ScanRecordError::Field {
            line,
            field: "ip",
            reason: "no `ip` and no `host`".into(),
        });
    }
    let (port, object_udp) = match rec.port {
        Some(PortField::Flat(p)) => (p.port(), false),
        Some(PortField::Object(o)) => {
            (o.port.as_ref().and_then(StrOrNum::port), o.protocol == Some(1))
        }
        None => (None, false),
    };
    let port = port.ok_or_else(|| ScanRecordError::Field {
        line,
        field: "port",
        reason: "missing or not a port number".into(),
    })?;
    let transport = match rec.protocol.as_deref() {
        Some("udp") => Transport::Udp,
        _ if object_udp => Transport::Udp,
        _ => Transport::Tcp,
    };
    Ok(ScanObservation {
        time,
        source: cx.source,
        line,
        address,
        hostname,
        port: Some(port),
        transport,
        state: PortState::Open,
        scanner_state: None,
        covered: None,
        tool: ScanTool::Naabu,
        details: details([
            rec.name.as_deref().unwrap_or(""),
            rec.product.as_deref().unwrap_or(""),
            rec.version.as_deref().unwrap_or(""),
        ]),
    })
}
