//! Scanner format detection from the first bytes of a file.
//!
//! Markers are checked from the most specific to the least: an XML root or DOCTYPE naming
//! nmap, the header comments each text format writes (`#masscan`, `# Masscan`, `# Nmap`), the
//! shape of the first data line, then for JSON the keys only one tool writes (nuclei's
//! `template-id` before masscan's `ports`/`rec_type`, before httpx's response keys, before the
//! generic `ip` + `port` pair that is all naabu writes). A head that matches nothing is `None`
//! (the caller asks the user for `--format`); guessing wrongly would produce wrong evidence.

use super::ScanFormat;

#[must_use]
pub fn detect(head: &[u8]) -> Option<ScanFormat> {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('<') {
        let nmap = text.contains("<nmaprun") || text.contains("<!DOCTYPE nmaprun");
        return nmap.then_some(ScanFormat::NmapXml);
    }
    if text.starts_with("#masscan") {
        return Some(ScanFormat::MasscanList);
    }
    if text.starts_with("# Masscan") {
        return Some(ScanFormat::MasscanGrepable);
    }
    if text.starts_with("# Nmap") {
        return Some(ScanFormat::NmapGrepable);
    }
    if text.starts_with('{') || text.starts_with('[') {
        return detect_json(text);
    }
    let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'))?;
    detect_line(line)
}

fn detect_line(line: &str) -> Option<ScanFormat> {
    if line.starts_with("Timestamp: ") && line.contains("\tHost: ") {
        return Some(ScanFormat::MasscanGrepable);
    }
    if line.starts_with("Host: ") {
        if line.contains("\tStatus: ") || line.contains("\tPorts: ") {
            return Some(ScanFormat::NmapGrepable);
        }
        if line.contains("\tPort: ") {
            return Some(ScanFormat::MasscanGrepable);
        }
        return None;
    }
    let fields: Vec<&str> = line.split_ascii_whitespace().collect();
    let list = fields.len() >= 5
        && matches!(fields[0], "open" | "closed" | "banner" | "up" | "unknown")
        && fields[2].parse::<u16>().is_ok()
        && fields[4].parse::<i64>().is_ok();
    list.then_some(ScanFormat::MasscanList)
}

fn detect_json(text: &str) -> Option<ScanFormat> {
    let has = |key: &str| text.contains(&format!("\"{key}\""));
    // Keys of HTTP access logs (Caddy, Traefik, user-defined nginx JSON): a record with these
    // is a request, never a port-scan result, even when it also has `ip` and `port`.
    let access =
        ["method", "request", "uri", "status", "request_method", "remote_addr", "user_agent"]
            .iter()
            .any(|k| has(k));
    if has("template-id") || has("templateID") || (has("template") && has("matched-at")) {
        Some(ScanFormat::Nuclei)
    } else if (has("ip") && has("ports")) || has("rec_type") {
        Some(ScanFormat::MasscanJson)
    } else if has("url")
        && ["input", "status_code", "status-code", "webserver"].iter().any(|k| has(k))
    {
        // httpx writes `url` and `input` on every record, failed ones included.
        Some(ScanFormat::Httpx)
    } else if has("ip") && has("port") && !access {
        Some(ScanFormat::Naabu)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_formats_by_header_or_first_line() {
        assert_eq!(detect(b"#masscan\nopen tcp 1 1.2.3.4 5\n"), Some(ScanFormat::MasscanList));
        assert_eq!(detect(b"open tcp 80 1.2.3.4 1664140520\n"), Some(ScanFormat::MasscanList));
        assert_eq!(
            detect(b"Timestamp: 1\tHost: 1.2.3.4 ()\tPorts: 1/open/tcp////"),
            Some(ScanFormat::MasscanGrepable)
        );
        assert_eq!(detect(b"Host: 1.2.3.4 ()\tStatus: Up\n"), Some(ScanFormat::NmapGrepable));
        assert_eq!(
            detect(b"\xef\xbb\xbf<?xml version=\"1.0\"?>\n<nmaprun>"),
            Some(ScanFormat::NmapXml)
        );
        assert_eq!(detect(b"<?xml version=\"1.0\"?><svg/>"), None);
        assert_eq!(detect(b"127.0.0.1 - - [x] \"GET / HTTP/1.1\" 200 1"), None);
        assert_eq!(detect(b""), None);
    }

    #[test]
    fn json_formats_by_keys() {
        assert_eq!(detect(br#"{"ip":"1.2.3.4","port":80}"#), Some(ScanFormat::Naabu));
        assert_eq!(detect(br#"{"ip":"1.2.3.4","port":{"Port":80}}"#), Some(ScanFormat::Naabu));
        assert_eq!(
            detect(br#"{"ip":"1.2.3.4","port":80,"rec_type":"status"}"#),
            Some(ScanFormat::MasscanJson)
        );
        assert_eq!(
            detect(br#"{"url":"http://a","input":"a","status_code":200}"#),
            Some(ScanFormat::Httpx)
        );
        assert_eq!(
            detect(br#"[{"template-id":"x","ip":"1.2.3.4","port":"80"}]"#),
            Some(ScanFormat::Nuclei)
        );
        assert_eq!(detect(br#"{"level":"info","msg":"x"}"#), None);
        // Access logs in JSON are not scan results, whatever keys they share.
        let nginx = br#"{"ip":"1.2.3.4","port":"443","method":"GET","uri":"/","status":200}"#;
        assert_eq!(detect(nginx), None);
        let traefik = br#"{"ClientHost":"1.2.3.4","RequestPath":"/","status_code":200}"#;
        assert_eq!(detect(traefik), None);
    }
}
