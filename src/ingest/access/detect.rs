//! Format detection by voting over the first lines of a source (see `access::detect`).

use memchr::memmem;

use super::transport::{strip_prefixes, unwrap_envelope};
use super::{AccessFormat, AccessParser, LineOutcome, ParseOptions, fields::trim};
use crate::model::Request;

/// Text formats recognised by a successful trial parse, in tie-break order.
const TEXT_FORMATS: [AccessFormat; 4] =
    [AccessFormat::Combined, AccessFormat::Alb, AccessFormat::EnvoyText, AccessFormat::CloudFront];

pub(crate) fn detect(lines: &[&[u8]]) -> Option<AccessFormat> {
    let mut votes = [0u32; AccessFormat::ALL.len()];
    let mut trials = TEXT_FORMATS.map(|f| AccessParser::new(f, ParseOptions::default()));
    let mut scratch = Request::default();
    let mut unwrapped = Vec::new();
    for raw in lines {
        let mut line = strip_prefixes(raw);
        if unwrap_envelope(line, &mut unwrapped) {
            line = strip_prefixes(&unwrapped);
        }
        let line = trim(line);
        if line.is_empty() {
            continue;
        }
        let vote = if line[0] == b'{' {
            sniff_json(line)
        } else if line.starts_with(b"#Fields:") || line.starts_with(b"#Version:") {
            Some(AccessFormat::CloudFront)
        } else if line[0] == b'#' {
            None
        } else {
            trials.iter_mut().find_map(|p| {
                (p.parse_line(line, 1, &mut scratch) == LineOutcome::Request).then(|| p.format())
            })
        };
        if let Some(f) = vote
            && let Some(i) = AccessFormat::ALL.iter().position(|&a| a == f)
        {
            votes[i] += 1;
        }
    }
    let best = votes.iter().copied().max().filter(|&v| v > 0)?;
    AccessFormat::ALL.iter().zip(votes).find(|(_, v)| *v == best).map(|(f, _)| *f)
}

fn has(line: &[u8], needle: &[u8]) -> bool {
    memmem::find(line, needle).is_some()
}

/// Recognise a JSON access format by its characteristic keys.
fn sniff_json(line: &[u8]) -> Option<AccessFormat> {
    if has(line, b"\"ClientAddr\"")
        || has(line, b"\"DownstreamStatus\"")
        || has(line, b"\"RequestMethod\"")
    {
        Some(AccessFormat::Traefik)
    } else if (has(line, b"\"logger\"") && has(line, b"http.log.access"))
        || (has(line, b"\"ts\"") && has(line, b"\"level\""))
    {
        Some(AccessFormat::Caddy)
    } else if has(line, b"\"response_code\"")
        || has(line, b"\"downstream_remote_address\"")
        || has(line, b"\"upstream_cluster\"")
        || has(line, b"\"response_flags\"")
    {
        Some(AccessFormat::EnvoyJson)
    } else if [
        &b"\"remote_addr\""[..],
        b"\"time_iso8601\"",
        b"\"time_local\"",
        b"\"request_uri\"",
        b"\"http_user_agent\"",
        b"\"msec\"",
    ]
    .iter()
    .any(|k| has(line, k))
    {
        Some(AccessFormat::NginxJson)
    } else {
        None
    }
}
