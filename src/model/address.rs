//! A service's configured scan address (`addresses = ["192.0.2.40:443", "gw.example.net"]`),
//! parsed once by `config` and matched against scan targets by `correlate::scan_match`.
//!
//! An address is `ip:port`, `host:port`, `[ipv6]:port`, or a bare IP / host name (any port).

use std::fmt;
use std::net::IpAddr;

/// Where a configured address points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressHost {
    Ip(IpAddr),
    /// Lower-case host name.
    Name(String),
}

/// A parsed `addresses` entry, with the text it was parsed from (trimmed) for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressSpec {
    pub host: AddressHost,
    /// `None` = any port.
    pub port: Option<u16>,
    /// The address as written in the configuration (trimmed).
    pub text: String,
}

impl AddressSpec {
    /// Parse an address; `None` when it is not one of the accepted shapes.
    #[must_use]
    pub fn parse(s: &str) -> Option<AddressSpec> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        let text = s.to_string();
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Some(AddressSpec { host: AddressHost::Ip(ip), port: None, text });
        }
        if let Ok(sa) = s.parse::<std::net::SocketAddr>() {
            return Some(AddressSpec {
                host: AddressHost::Ip(sa.ip()),
                port: Some(sa.port()),
                text,
            });
        }
        let (host, port) = match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
            None => (s, None),
        };
        let valid = !host.is_empty()
            && host.len() <= 253
            && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
        valid.then(|| AddressSpec {
            host: AddressHost::Name(host.to_ascii_lowercase()),
            port,
            text,
        })
    }

    /// The address as written in the configuration.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for AddressSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
