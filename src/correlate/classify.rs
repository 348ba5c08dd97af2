//! Actor classification: known scanners (`assets/scanners.toml` plus user files, which
//! `config` reads), scripted tools and browsers.
//!
//! Classification is a function of the actor's *set* of requests, so it never depends on
//! arrival order: per actor the engine ORs the per-user-agent flags below and takes the minimum
//! matching scanner index. Precedence: `scanner` (address in a published range, or any user
//! agent matches an entry) > `tool` (any user agent is a known HTTP library or CLI) >
//! `browser` (any user agent looks like a browser) > `unknown`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::Deserialize;

use crate::model::prefix::PrefixMap;
use crate::model::snapshot::ActorClass;

/// The built-in scanner list.
pub const BUILTIN_SCANNERS: &str = include_str!("../../assets/scanners.toml");

/// A scanner file could not be used. Names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum ScannerFileError {
    #[error("{path}:{line}: {message}")]
    Invalid { path: PathBuf, line: usize, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    scanner: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    source: String,
    #[serde(default)]
    user_agents: Vec<String>,
    #[serde(default)]
    networks: Vec<toml::Spanned<String>>,
}

/// One known scanner.
#[derive(Debug, Clone, PartialEq)]
pub struct ScannerEntry {
    pub name: String,
    /// Where the operator publishes its user agent or ranges.
    pub source: String,
    /// Lower-cased substrings.
    pub user_agents: Vec<String>,
    pub networks: Vec<IpNet>,
}

/// Every known scanner, in precedence order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScannerDb {
    pub entries: Vec<ScannerEntry>,
    /// Every entry's networks → entry index (a range list can hold thousands of prefixes;
    /// looked up once per new actor).
    index: PrefixMap<u32>,
}

fn line_of(text: &str, offset: usize) -> usize {
    memchr::memchr_iter(b'\n', &text.as_bytes()[..offset.min(text.len())]).count() + 1
}

impl ScannerDb {
    /// The built-in list only.
    #[must_use]
    pub fn builtin() -> ScannerDb {
        let mut db = ScannerDb::default();
        // The built-in file is tested (`builtin_list_parses`); an error here cannot happen.
        if let Err(e) = db.add_str(BUILTIN_SCANNERS, Path::new("assets/scanners.toml")) {
            debug_assert!(false, "built-in scanner list: {e}");
        }
        db
    }

    /// Append the entries of a scanner file's text (`path` is for messages).
    pub fn add_str(&mut self, text: &str, path: &Path) -> Result<(), ScannerFileError> {
        let invalid = |line: usize, message: String| ScannerFileError::Invalid {
            path: path.to_path_buf(),
            line,
            message,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            invalid(e.span().map_or(1, |s| line_of(text, s.start)), e.message().trim().into())
        })?;
        for e in raw.scanner {
            let mut networks = Vec::new();
            for n in &e.networks {
                let net = crate::model::clients::parse_net(n.get_ref()).ok_or_else(|| {
                    invalid(
                        line_of(text, n.span().start),
                        format!("`{}` is not a CIDR: expected e.g. `192.0.2.0/24`", n.get_ref()),
                    )
                })?;
                networks.push(net);
            }
            for n in &networks {
                self.index.insert(*n, self.entries.len() as u32);
            }
            self.entries.push(ScannerEntry {
                name: e.name,
                source: e.source,
                user_agents: e
                    .user_agents
                    .iter()
                    .filter(|u| !u.is_empty())
                    .map(|u| u.to_ascii_lowercase())
                    .collect(),
                networks,
            });
        }
        self.index.freeze();
        Ok(())
    }

    /// Append an entry of networks only (a range list marked `class = "scanner"`): its
    /// members are scanners named `name`.
    pub fn add_networks(
        &mut self,
        name: &str,
        source: &str,
        networks: impl IntoIterator<Item = IpNet>,
    ) {
        let networks: Vec<IpNet> = networks.into_iter().collect();
        for n in &networks {
            self.index.insert(*n, self.entries.len() as u32);
        }
        self.index.freeze();
        self.entries.push(ScannerEntry {
            name: name.to_string(),
            source: source.to_string(),
            user_agents: Vec::new(),
            networks,
        });
    }

    /// Index of the first entry whose published ranges contain `ip`.
    #[must_use]
    pub fn match_address(&self, ip: IpAddr) -> Option<u32> {
        self.index.matches(ip).into_iter().min().copied()
    }

    /// Index of the first entry whose user-agent substrings occur in `ua`.
    #[must_use]
    pub fn match_user_agent(&self, ua: &str) -> Option<u32> {
        if ua.is_empty() {
            return None;
        }
        let lower = ua.to_ascii_lowercase();
        self.entries
            .iter()
            .position(|e| e.user_agents.iter().any(|p| lower.contains(p.as_str())))
            .map(|i| i as u32)
    }
}

/// Substrings (lower case) of scripted clients: HTTP libraries, CLIs, SDKs.
const TOOL_AGENTS: [&str; 30] = [
    "curl/",
    "wget/",
    "python-requests",
    "python-httpx",
    "python-urllib",
    "aiohttp",
    "go-http-client",
    "okhttp",
    "axios/",
    "node-fetch",
    "undici",
    "postmanruntime",
    "insomnia",
    "httpie",
    "libwww-perl",
    "java/",
    "apache-httpclient",
    "openai/",
    "anthropic/",
    "ruby",
    "php/",
    "guzzlehttp",
    "rest-client",
    "powershell",
    "dart:io",
    "reqwest",
    "hyper/",
    "scrapy",
    "httpclient",
    "ollama",
];

/// What one user agent says about its sender (before combining over the actor's set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UaFlags {
    /// First matching scanner entry.
    pub scanner: Option<u32>,
    pub tool: bool,
    pub browser: bool,
}

/// Classify one user agent string.
#[must_use]
pub fn user_agent_flags(db: &ScannerDb, ua: &str) -> UaFlags {
    let scanner = db.match_user_agent(ua);
    let lower = ua.to_ascii_lowercase();
    let tool = TOOL_AGENTS.iter().any(|t| lower.contains(t));
    let browser = lower.starts_with("mozilla/")
        && ["gecko", "applewebkit", "chrome/", "firefox/", "safari/", "msie", "trident/"]
            .iter()
            .any(|m| lower.contains(m));
    UaFlags { scanner, tool, browser }
}

/// Combine an actor's accumulated flags into its class (see the module docs for precedence).
#[must_use]
pub fn class_of(scanner: Option<u32>, tool: bool, browser: bool) -> ActorClass {
    if scanner.is_some() {
        ActorClass::Scanner
    } else if tool {
        ActorClass::Tool
    } else if browser {
        ActorClass::Browser
    } else {
        ActorClass::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_list_parses_and_covers_required_scanners() {
        let mut db = ScannerDb::default();
        db.add_str(BUILTIN_SCANNERS, Path::new("assets/scanners.toml")).unwrap();
        for name in [
            "Censys",
            "Shodan",
            "masscan",
            "ZGrab",
            "Nuclei",
            "Xpanse",
            "BinaryEdge",
            "InternetMeasurement",
            "NetSystemsResearch",
            "Stretchoid",
            "LeakIX",
            "Onyphe",
        ] {
            assert!(
                db.entries.iter().any(|e| e.name.contains(name) && e.source.starts_with("http")),
                "{name}"
            );
        }
        assert_eq!(db, ScannerDb::builtin());
    }

    #[test]
    fn matches_agents_and_ranges() {
        let db = ScannerDb::builtin();
        let censys = db.match_address("162.142.125.221".parse().unwrap()).unwrap();
        assert_eq!(db.entries[censys as usize].name, "Censys");
        let ua = "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)";
        assert_eq!(db.match_user_agent(ua), Some(censys));
        assert!(db.match_user_agent("Mozilla/5.0 zgrab/0.x").is_some());
        assert!(db.match_address("198.51.100.201".parse().unwrap()).is_none());
        // Only verified ranges: Censys's published ones, none for Shodan/Xpanse (UA only).
        assert_eq!(db.match_address("66.132.148.10".parse().unwrap()), Some(censys));
        assert_eq!(db.match_address("2602:80d:1006::5".parse().unwrap()), Some(censys));
        assert!(db.match_address("71.6.199.23".parse().unwrap()).is_none());
        assert!(db.match_address("205.210.31.9".parse().unwrap()).is_none());
        assert!(db.match_user_agent("Mozilla/5.0 (compatible; Shodan)").is_some());
        let f = user_agent_flags(&db, "python-requests/2.32.3");
        assert!(f.tool && !f.browser && f.scanner.is_none());
        let f = user_agent_flags(
            &db,
            "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
        );
        assert!(f.browser && !f.tool);
        assert_eq!(class_of(None, true, true), ActorClass::Tool);
        assert_eq!(class_of(Some(0), true, true), ActorClass::Scanner);
        assert_eq!(class_of(None, false, false), ActorClass::Unknown);
    }

    #[test]
    fn bad_user_file_names_line() {
        let mut db = ScannerDb::default();
        let e = db
            .add_str(
                "[[scanner]]\nname = \"x\"\nsource = \"s\"\nnetworks = [\n \"1.2.3.0/99\"]\n",
                Path::new("my.toml"),
            )
            .unwrap_err();
        assert!(e.to_string().starts_with("my.toml:5:"), "{e}");
        let e =
            db.add_str("[[scanner]]\nname = \"x\"\nurl = 1\n", Path::new("my.toml")).unwrap_err();
        assert!(e.to_string().contains("url"), "{e}");
    }

    #[test]
    fn range_lists_add_scanner_entries_after_the_builtin_ones() {
        let mut db = ScannerDb::builtin();
        let n = db.entries.len() as u32;
        db.add_networks("research", "/case/research.txt", ["192.0.2.0/24".parse().unwrap()]);
        assert_eq!(db.match_address("192.0.2.9".parse().unwrap()), Some(n));
        assert_eq!(db.entries[n as usize].name, "research");
        // A built-in range keeps precedence over a later list holding it too.
        let censys = db.match_address("162.142.125.221".parse().unwrap()).unwrap();
        db.add_networks("wide", "w.txt", ["162.142.0.0/16".parse().unwrap()]);
        assert_eq!(db.match_address("162.142.125.221".parse().unwrap()), Some(censys));
        assert_eq!(db.match_address("162.142.1.1".parse().unwrap()), Some(n + 1));
    }
}
