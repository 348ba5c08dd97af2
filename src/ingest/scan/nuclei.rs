//! nuclei results: JSONL (`-jsonl`), the JSON-array export (`-je`), and 2021-era keys
//! (`templateID`, `matched`).
//!
//! A result is evidence at its own `timestamp` (RFC 3339 with the scanner's offset, converted
//! to UTC). Target: address from `ip` (a trailing dot stripped), else from the host part of
//! `matched-at`/`url`/`host`; hostname from `matched-at`, else `url`, else `host`; port from
//! `port`, else an explicit port in `matched-at`/`url`/`host`, else their URL scheme
//! (https → 443, http → 80).
//!
//! A result with a port (`http`, `ssl`, `network`…) is `Open`. A `dns` result probes no port,
//! and a result whose port cannot be told is no port evidence either: both are kept as
//! `HostFinding` observations without a port (counted and shown, never a window, never a
//! service of their own).

use serde::Deserialize;

use crate::model::{PortState, ScanObservation, ScanTool, Transport};

use super::ScanRecordError;
use super::json_tool::{RecordParser, emit_one};
use super::tally::Cx;
use super::target::{parse_ip, parse_target};
use super::value::{StrOrNum, details, json_record, record_time};

#[derive(Debug, Deserialize)]
struct Info {
    name: Option<String>,
    severity: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Record {
    #[serde(rename = "template-id", alias = "templateID", alias = "template_id")]
    template_id: Option<String>,
    info: Option<Info>,
    host: Option<String>,
    port: Option<StrOrNum>,
    ip: Option<String>,
    #[serde(rename = "matched-at", alias = "matched")]
    matched_at: Option<String>,
    url: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    timestamp: Option<String>,
}

#[derive(Debug, Default)]
pub struct Nuclei;

impl RecordParser for Nuclei {
    fn record(&mut self, line: u64, bytes: &[u8], cx: &mut Cx, out: &mut Vec<ScanObservation>) {
        emit_one(parse(line, bytes, cx), cx, out);
    }
}

fn parse(line: u64, bytes: &[u8], cx: &Cx) -> Result<ScanObservation, ScanRecordError> {
    let rec: Record = json_record(line, bytes)?;
    let time = record_time(line, rec.timestamp.as_deref())?;
    let matched = parse_target(rec.matched_at.as_deref().unwrap_or(""));
    let url = parse_target(rec.url.as_deref().unwrap_or(""));
    let host = parse_target(rec.host.as_deref().unwrap_or(""));
    let address =
        rec.ip.as_deref().and_then(parse_ip).or(matched.address).or(url.address).or(host.address);
    let hostname = [matched.hostname, url.hostname, host.hostname]
        .into_iter()
        .find(|h| !h.is_empty())
        .unwrap_or_default();
    if address.is_none() && hostname.is_empty() {
        return Err(ScanRecordError::Field {
            line,
            field: "host",
            reason: "no target in `ip`, `matched-at` or `host`".into(),
        });
    }
    let is_dns = rec.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("dns"));
    let port = rec
        .port
        .as_ref()
        .and_then(StrOrNum::port)
        .or(matched.port)
        .or(url.port)
        .or(host.port)
        .or(matched.scheme_port)
        .or(url.scheme_port)
        .or(host.scheme_port)
        .filter(|_| !is_dns);
    let state = if port.is_some() { PortState::Open } else { PortState::HostFinding };
    // A host finding says why it is one: `(dns finding)`, `(ssl finding, no port)`.
    let why = match (state, rec.kind.as_deref()) {
        (PortState::Open, _) => None,
        (_, Some(k)) if is_dns => Some(format!("({k} finding)")),
        (_, Some(k)) => Some(format!("({k} finding, no port)")),
        (_, None) => Some("(finding, no port)".to_owned()),
    };
    let (name, severity) = rec.info.map_or((None, None), |i| (i.name, i.severity));
    let severity = severity.map(|s| format!("[{s}]"));
    let at = rec.matched_at.as_deref().map(|m| format!("at {m}"));
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
        tool: ScanTool::Nuclei,
        details: details([
            rec.template_id.as_deref().unwrap_or(""),
            severity.as_deref().unwrap_or(""),
            name.as_deref().unwrap_or(""),
            at.as_deref().unwrap_or(""),
            why.as_deref().unwrap_or(""),
        ]),
    })
}
