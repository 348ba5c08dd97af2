//! Published range files, detected by content.
//!
//! - AWS `ip-ranges.json`: `prefixes[].ip_prefix` and `ipv6_prefixes[].ipv6_prefix`, each
//!   with `service` and `region` (list name `aws`).
//! - Google Cloud `cloud.json`: `prefixes[].ipv4Prefix` / `ipv6Prefix` with `service` and
//!   `scope` (the region) (list name `google-cloud`).
//! - Azure Service Tags: `values[].properties.addressPrefixes` with `systemService` (else the
//!   tag's `name`) and `region` (list name `azure`).
//! - Tor's `exit-addresses` (`ExitNode` / `ExitAddress` records): list name `tor`.
//! - Plain lists: one address or CIDR per line, `#` starts a comment (Tor bulk exit lists,
//!   partners, blocklists). Cloudflare's `ips-v4` / `ips-v6` are plain lists; a file with
//!   one of those names is named `cloudflare`. Any other plain list is named by its file stem.
//!
//! A configured `name` overrides the detected one. A file that is empty, truncated, not
//! one of these shapes, or has a line that is not an address is an error naming the file,
//! the line where there is one, and what was expected.

use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde_json::Value;

use crate::model::enrichment::ListHit;

/// What kind of range file this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeKind {
    Aws,
    GoogleCloud,
    Azure,
    TorExitAddresses,
    Cloudflare,
    Plain,
}

impl RangeKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RangeKind::Aws => "aws",
            RangeKind::GoogleCloud => "google-cloud",
            RangeKind::Azure => "azure",
            RangeKind::TorExitAddresses => "tor-exit-addresses",
            RangeKind::Cloudflare => "cloudflare",
            RangeKind::Plain => "plain",
        }
    }
}

/// A range file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RangeFileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Line { path: PathBuf, line: usize, message: String },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
}

/// A parsed range file: its kind, list name and (prefix, entry) pairs in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeList {
    pub kind: RangeKind,
    pub name: String,
    pub entries: Vec<(IpNet, ListHit)>,
}

/// Read and parse a range file. `name`: the configured list name, if any.
pub fn load(path: &Path, name: Option<&str>) -> Result<RangeList, RangeFileError> {
    let bytes = std::fs::read(path)
        .map_err(|source| RangeFileError::Io { path: path.to_path_buf(), source })?;
    let text = String::from_utf8(bytes).map_err(|e| RangeFileError::File {
        path: path.to_path_buf(),
        message: format!(
            "not UTF-8 text (invalid byte at offset {}): expected a JSON range file or one address or CIDR per line",
            e.utf8_error().valid_up_to()
        ),
    })?;
    parse(&text, path, name)
}

/// Parse range file text (`path` names the file in messages and gives the default name).
pub fn parse(text: &str, path: &Path, name: Option<&str>) -> Result<RangeList, RangeFileError> {
    let file_err = |message: String| RangeFileError::File { path: path.to_path_buf(), message };
    let stem = path.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let (kind, entries) = if text.trim_start().starts_with('{') {
        json(text, path)?
    } else if text.lines().any(|l| l.starts_with("ExitAddress ")) {
        (RangeKind::TorExitAddresses, tor_exit_addresses(text, path)?)
    } else {
        let kind = match path.file_name().and_then(|n| n.to_str()) {
            Some("ips-v4" | "ips-v6" | "ips-v4.txt" | "ips-v6.txt") => RangeKind::Cloudflare,
            _ => RangeKind::Plain,
        };
        (kind, plain(text, path)?)
    };
    if entries.is_empty() {
        return Err(file_err(format!(
            "no address or CIDR in the file (read as {}): an empty list would match nothing",
            kind.as_str()
        )));
    }
    let name = match (name, kind) {
        (Some(n), _) => n.to_string(),
        (None, RangeKind::Plain) => stem,
        (None, RangeKind::TorExitAddresses) => "tor".into(),
        (None, k) => k.as_str().into(),
    };
    let entries = entries
        .into_iter()
        .map(|(net, service, region)| (net, ListHit { name: name.clone(), service, region }))
        .collect();
    Ok(RangeList { kind, name, entries })
}

type Raw = Vec<(IpNet, Option<String>, Option<String>)>;

/// Line and column of a JSON error, in the words a reader can act on.
fn json(text: &str, path: &Path) -> Result<(RangeKind, Raw), RangeFileError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| RangeFileError::Line {
        path: path.to_path_buf(),
        line: e.line(),
        message: format!("invalid JSON ({e}): the file is truncated or not a range file"),
    })?;
    let file_err = |message: String| RangeFileError::File { path: path.to_path_buf(), message };
    let net = |s: &str, what: &str| {
        crate::config::parse_net(s).ok_or_else(|| {
            file_err(format!("{what} `{s}` is not a CIDR: expected e.g. `192.0.2.0/24`"))
        })
    };
    let string = |v: &Value, key: &str| {
        v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
    };
    let mut out = Vec::new();
    let prefixes = doc.get("prefixes").and_then(Value::as_array);
    if let Some(values) = doc.get("values").and_then(Value::as_array) {
        for (i, v) in values.iter().enumerate() {
            let props = v.get("properties").ok_or_else(|| {
                file_err(format!("values[{i}] has no `properties` (Azure Service Tags shape)"))
            })?;
            let list = props.get("addressPrefixes").and_then(Value::as_array).ok_or_else(|| {
                file_err(format!("values[{i}].properties has no `addressPrefixes` array"))
            })?;
            let service = string(props, "systemService").or_else(|| string(v, "name"));
            let region = string(props, "region");
            for p in list {
                let s = p.as_str().ok_or_else(|| {
                    file_err(format!("values[{i}].properties.addressPrefixes: not a string"))
                })?;
                out.push((net(s, "addressPrefixes entry")?, service.clone(), region.clone()));
            }
        }
        return Ok((RangeKind::Azure, out));
    }
    let Some(prefixes) = prefixes else {
        return Err(file_err(
            "JSON, but not a known range file: expected AWS ip-ranges.json (`prefixes[].ip_prefix`), Google Cloud cloud.json (`prefixes[].ipv4Prefix`) or Azure Service Tags (`values[].properties.addressPrefixes`)".into(),
        ));
    };
    let aws = doc.get("ipv6_prefixes").is_some()
        || prefixes.first().is_some_and(|p| p.get("ip_prefix").is_some());
    if aws {
        let v6 = doc.get("ipv6_prefixes").and_then(Value::as_array);
        for (list, key) in [(Some(prefixes), "ip_prefix"), (v6, "ipv6_prefix")] {
            for (i, p) in list.into_iter().flatten().enumerate() {
                let s = p.get(key).and_then(Value::as_str).ok_or_else(|| {
                    file_err(format!("AWS ip-ranges.json: entry {i} has no `{key}`"))
                })?;
                out.push((net(s, key)?, string(p, "service"), string(p, "region")));
            }
        }
        return Ok((RangeKind::Aws, out));
    }
    for (i, p) in prefixes.iter().enumerate() {
        let s = p
            .get("ipv4Prefix")
            .or_else(|| p.get("ipv6Prefix"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                file_err(format!(
                    "prefixes[{i}] has neither `ipv4Prefix` nor `ipv6Prefix` (Google Cloud cloud.json shape) nor `ip_prefix` (AWS)"
                ))
            })?;
        out.push((net(s, "prefix")?, string(p, "service"), string(p, "scope")));
    }
    Ok((RangeKind::GoogleCloud, out))
}

fn plain(text: &str, path: &Path) -> Result<Raw, RangeFileError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let net = crate::config::parse_net(content).ok_or_else(|| RangeFileError::Line {
            path: path.to_path_buf(),
            line: i + 1,
            message: format!(
                "`{}` is not an address or CIDR: expected one per line (`203.0.113.7`, `198.51.100.0/24`, `2001:db8::/32`), `#` for comments",
                content.chars().take(60).collect::<String>()
            ),
        })?;
        out.push((net, None, None));
    }
    Ok(out)
}

fn tor_exit_addresses(text: &str, path: &Path) -> Result<Raw, RangeFileError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("ExitAddress ") {
            let addr = rest.split_whitespace().next().unwrap_or("");
            let ip: std::net::IpAddr = addr.parse().map_err(|_| RangeFileError::Line {
                path: path.to_path_buf(),
                line: i + 1,
                message: format!("ExitAddress `{addr}` is not an address"),
            })?;
            out.push((IpNet::from(ip), None, None));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str, file: &str) -> Result<RangeList, RangeFileError> {
        parse(text, Path::new(file), None)
    }

    #[test]
    fn plain_lists_take_comments_and_the_file_stem() {
        let l = p(
            "# partners\n203.0.113.7\n\n198.51.100.0/24  # office\n2001:db8::/32\n",
            "partners.txt",
        )
        .unwrap();
        assert_eq!(l.kind, RangeKind::Plain);
        assert_eq!(l.name, "partners");
        let nets: Vec<String> = l.entries.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(nets, ["203.0.113.7/32", "198.51.100.0/24", "2001:db8::/32"]);
        let e = p("10.0.0.0/8\nnot-an-ip\n", "x.txt").unwrap_err().to_string();
        assert!(e.starts_with("x.txt:2: `not-an-ip` is not an address or CIDR"), "{e}");
        let e = p("# only comments\n\n", "empty.txt").unwrap_err().to_string();
        assert!(e.contains("no address or CIDR"), "{e}");
        assert_eq!(p("173.245.48.0/20\n", "ips-v4").unwrap().name, "cloudflare");
    }

    #[test]
    fn json_kinds_are_told_apart() {
        let aws = r#"{"syncToken":"1","prefixes":[{"ip_prefix":"3.5.140.0/22","region":"ap-northeast-2","service":"AMAZON"}],"ipv6_prefixes":[{"ipv6_prefix":"2600:1f14::/35","region":"us-west-2","service":"EC2"}]}"#;
        let l = p(aws, "ip-ranges.json").unwrap();
        assert_eq!((l.kind, l.name.as_str(), l.entries.len()), (RangeKind::Aws, "aws", 2));
        assert_eq!(l.entries[1].1.service.as_deref(), Some("EC2"));
        let gcp = r#"{"prefixes":[{"ipv4Prefix":"34.1.208.0/20","service":"Google Cloud","scope":"africa-south1"}]}"#;
        let l = p(gcp, "cloud.json").unwrap();
        assert_eq!(l.kind, RangeKind::GoogleCloud);
        assert_eq!(l.entries[0].1.region.as_deref(), Some("africa-south1"));
        let az = r#"{"values":[{"name":"AzureCloud.westeurope","properties":{"region":"westeurope","systemService":"","addressPrefixes":["13.69.0.0/17"]}}]}"#;
        let l = p(az, "ServiceTags_Public.json").unwrap();
        assert_eq!(l.kind, RangeKind::Azure);
        assert_eq!(l.entries[0].1.service.as_deref(), Some("AzureCloud.westeurope"));
        let e = p("{\"prefixes\": [", "trunc.json").unwrap_err().to_string();
        assert!(e.starts_with("trunc.json:1: invalid JSON"), "{e}");
        let e = p("{\"a\": 1}", "other.json").unwrap_err().to_string();
        assert!(e.contains("not a known range file"), "{e}");
    }
}
