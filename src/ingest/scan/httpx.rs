//! httpx JSONL: `snake_case` keys (≥ v1.2.5) and the older kebab-case ones.
//!
//! Meaning: `failed: true` → `Unreachable`; a status code > 0 → `Open` (`HostFinding` when no
//! port can be told: not port evidence); a record with neither is malformed (it proves
//! nothing). Time: the record's `timestamp`.
//!
//! Target: the address from `host_ip` (≥ v1.7.4), else `host` when it is an IP (≤ v1.7.3);
//! the hostname from `host` when it is a name, else from `url`, else from `input`; the port
//! from `port` (a string), else an explicit port in `url`/`input`, else the URL scheme.

use serde::Deserialize;

use crate::model::{PortState, ScanObservation, ScanTool, Transport};

use super::ScanRecordError;
use super::json_tool::{RecordParser, emit_one};
use super::tally::Cx;
use super::target::{parse_ip, parse_target, scheme_port};
use super::value::{StrOrNum, details, json_record, record_time};

#[derive(Debug, Deserialize)]
struct Record {
    timestamp: Option<String>,
    port: Option<StrOrNum>,
    url: Option<String>,
    input: Option<String>,
    scheme: Option<String>,
    host: Option<String>,
    #[serde(alias = "host-ip")]
    host_ip: Option<String>,
    title: Option<String>,
    webserver: Option<String>,
    #[serde(alias = "status-code")]
    status_code: Option<StrOrNum>,
    failed: Option<bool>,
    error: Option<String>,
}

#[derive(Debug, Default)]
pub struct Httpx;

impl RecordParser for Httpx {
    fn record(&mut self, line: u64, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        emit_one(parse(line, bytes, cx), cx, out);
    }
}

fn parse(line: u64, bytes: &[u8], cx: &Cx) -> Result<ScanObservation, ScanRecordError> {
    let rec: Record = json_record(line, bytes)?;
    let time = record_time(line, rec.timestamp.as_deref())?;
    let url = parse_target(rec.url.as_deref().unwrap_or(""));
    let input = parse_target(rec.input.as_deref().unwrap_or(""));
    let host = rec.host.as_deref().unwrap_or("");
    let host_ip = parse_ip(host);
    let address = rec.host_ip.as_deref().and_then(parse_ip).or(host_ip).or(url.address);
    let hostname = [
        if host_ip.is_none() { parse_target(host).hostname } else { String::new() },
        url.hostname,
        input.hostname,
    ]
    .into_iter()
    .find(|h| !h.is_empty())
    .unwrap_or_default();
    if address.is_none() && hostname.is_empty() {
        return Err(ScanRecordError::Field {
            line,
            field: "host",
            reason: "no target in `host`, `host_ip`, `url` or `input`".into(),
        });
    }
    let port = rec
        .port
        .as_ref()
        .and_then(StrOrNum::port)
        .or(url.port)
        .or(input.port)
        .or(url.scheme_port)
        .or_else(|| rec.scheme.as_deref().and_then(scheme_port));
    let status = rec.status_code.as_ref().and_then(StrOrNum::port).unwrap_or(0);
    let (state, details) = if rec.failed == Some(true) {
        (PortState::Unreachable, details(["failed", rec.error.as_deref().unwrap_or("")]))
    } else if status > 0 {
        let status = status.to_string();
        let server = rec.webserver.map(|w| format!("[{w}]"));
        let title = rec.title.unwrap_or_default();
        let state = if port.is_some() { PortState::Open } else { PortState::HostFinding };
        (state, details([status.as_str(), &title, server.as_deref().unwrap_or("")]))
    } else {
        return Err(ScanRecordError::Field {
            line,
            field: "status_code",
            reason: "no status code and not `failed`".into(),
        });
    };
    Ok(ScanObservation {
        time,
        source: cx.source,
        line,
        address,
        hostname,
        port,
        transport: Transport::Tcp,
        state,
        scanner_state: None,
        covered: None,
        tool: ScanTool::Httpx,
        details,
    })
}
