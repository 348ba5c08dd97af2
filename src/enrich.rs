//! Offline enrichment: who an address is, from files the responder already has.
//!
//! MaxMind-format databases (GeoLite2/GeoIP2 ASN, Country and City; DB-IP and `IPinfo` "lite"
//! exports in the same format) and published range files (see [`ranges`]) say, per address,
//! its autonomous system and organisation, country, city, and the provider lists it is in.
//! Nothing here touches the network: reverse DNS and WHOIS go to servers an attacker may
//! run, and tell them they are being looked at.
//!
//! An [`Enricher`] is loaded once from the `[enrich]` configuration (every file is read and
//! checked then: a missing, truncated or corrupt file is an [`EnrichError`] naming it).
//! Lookups happen once per actor, never per request: the correlator asks at snapshot time
//! and the answers are cached by address, so a live session asks again only for new actors.

pub mod groups;
pub mod mmdb;
pub mod ranges;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use crate::config::EnrichConfig;
use crate::model::clients::canonical;
use crate::model::enrichment::{
    ActorEnrichment, ActorLookup, EnrichSource, Enrichments, ListHit, ScannerList,
};

pub use crate::model::prefix::PrefixMap;
pub use mmdb::Mmdb;
pub use ranges::{RangeFileError, RangeKind, RangeList};

/// A database or range file that cannot be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error("{path}: cannot read the MaxMind database: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a usable MaxMind DB (.mmdb) database: {message}")]
    Mmdb { path: PathBuf, message: String },
    #[error("range file {0}")]
    Ranges(#[from] RangeFileError),
}

/// A full database check under way (see [`Enricher::verify_in_background`]).
#[derive(Debug)]
pub struct Check(Option<std::thread::JoinHandle<Result<(), EnrichError>>>, Result<(), EnrichError>);

impl Check {
    /// Wait for the check's answer.
    pub fn wait(self) -> Result<(), EnrichError> {
        match self.0 {
            Some(handle) => handle.join().unwrap_or_else(|_| {
                Err(EnrichError::Mmdb {
                    path: PathBuf::new(),
                    message: "the database check stopped unexpectedly".into(),
                })
            }),
            None => self.1,
        }
    }
}

/// The loaded databases and lists, with the per-address answer cache.
#[derive(Debug)]
pub struct Enricher {
    dbs: Vec<Arc<Mmdb>>,
    lists: PrefixMap<ListHit>,
    sources: Vec<EnrichSource>,
    scanners: Vec<ScannerList>,
    cache: Mutex<HashMap<IpAddr, Arc<ActorEnrichment>>>,
    /// Lookup failures (`file: what`), each once.
    errors: Mutex<Vec<String>>,
}

impl Enricher {
    /// Load every configured file; `None` when nothing is configured.
    pub fn load(config: &EnrichConfig) -> Result<Option<Enricher>, EnrichError> {
        if config.is_empty() {
            return Ok(None);
        }
        let mut dbs = Vec::new();
        let mut sources = Vec::new();
        for path in &config.mmdb {
            let db = Mmdb::open(path)?;
            sources.push(db.source());
            dbs.push(Arc::new(db));
        }
        let mut lists = PrefixMap::new();
        let mut scanners = Vec::new();
        for spec in &config.ranges {
            let list = ranges::load(&spec.path, spec.name.as_deref())?;
            sources.push(EnrichSource {
                path: spec.path.to_string_lossy().into_owned(),
                kind: list.kind.as_str().to_string(),
                name: list.name.clone(),
                built: None,
                prefixes: Some(list.entries.len()),
                scanner: spec.scanner,
            });
            if spec.scanner {
                scanners.push(ScannerList {
                    name: list.name.clone(),
                    source: spec.path.to_string_lossy().into_owned(),
                    networks: list.entries.iter().map(|(n, _)| *n).collect(),
                });
            }
            for (net, hit) in list.entries {
                lists.insert(net, hit);
            }
        }
        lists.freeze();
        Ok(Some(Enricher {
            dbs,
            lists,
            sources,
            scanners,
            cache: Mutex::default(),
            errors: Mutex::default(),
        }))
    }

    /// Check every database in full (see [`Mmdb::verify`]): `open` only reads the header
    /// and probes a few records, so a search tree or data section corrupt elsewhere is
    /// found here.
    pub fn verify(&self) -> Result<(), EnrichError> {
        self.dbs.iter().try_for_each(|db| db.verify())
    }

    /// [`Enricher::verify`] on a thread of its own, so `analyze` checks the databases
    /// while it reads the evidence instead of before.
    /// (When no thread can be started the check runs here, before returning.)
    #[must_use]
    pub fn verify_in_background(&self) -> Check {
        let dbs: Vec<Arc<Mmdb>> = self.dbs.iter().map(Arc::clone).collect();
        match std::thread::Builder::new()
            .name("leakline-mmdb-check".into())
            .spawn(move || dbs.iter().try_for_each(|db| db.verify()))
        {
            Ok(handle) => Check(Some(handle), Ok(())),
            Err(_) => Check(None, self.verify()),
        }
    }

    /// The files this enricher rests on, in configuration order (databases first).
    #[must_use]
    pub fn sources(&self) -> &[EnrichSource] {
        &self.sources
    }

    /// The lists marked `class = "scanner"`.
    #[must_use]
    pub fn scanner_ranges(&self) -> &[ScannerList] {
        &self.scanners
    }

    /// What the files say about `ip` (uncached). For each kind of data the first database
    /// with an answer gives it; lists are every entry containing the address, most specific
    /// prefix first, each distinct (name, service, region) once.
    pub fn lookup(&self, ip: IpAddr) -> Result<ActorEnrichment, EnrichError> {
        let ip = canonical(ip);
        let mut out = ActorEnrichment::default();
        for db in &self.dbs {
            db.fill(ip, &mut out)?;
        }
        for hit in self.lists.matches(ip) {
            if !out.lists.contains(hit) {
                out.lists.push(hit.clone());
            }
        }
        Ok(out)
    }

    /// The enrichment of a snapshot's actors: each address looked up once over the
    /// enricher's life (answers cached); a failed lookup leaves the actor without data and
    /// is recorded in `errors` (by file and reason, once).
    pub fn annotate(&self, clients: impl IntoIterator<Item = IpAddr>) -> Enrichments {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let mut actors = std::collections::BTreeMap::new();
        for client in clients {
            if let Some(a) = cache.get(&client) {
                actors.insert(client, Arc::clone(a));
                continue;
            }
            let answer = match self.lookup(client) {
                Ok(a) => Arc::new(a),
                Err(e) => {
                    let mut errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
                    let message = e.to_string();
                    if !errors.contains(&message) {
                        errors.push(message);
                    }
                    Arc::new(ActorEnrichment::default())
                }
            };
            cache.insert(client, Arc::clone(&answer));
            actors.insert(client, answer);
        }
        drop(cache);
        Enrichments {
            sources: self.sources.clone(),
            actors,
            errors: self.errors.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        }
    }
}

impl ActorLookup for Enricher {
    fn annotate(&self, clients: &mut dyn Iterator<Item = IpAddr>) -> Enrichments {
        Enricher::annotate(self, clients)
    }

    fn scanner_lists(&self) -> Vec<ScannerList> {
        self.scanners.clone()
    }
}

#[cfg(test)]
mod tests;
