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
    /// Answers by address (foldhash, seeded per process: the keys are attacker-chosen).
    cache: Mutex<HashMap<IpAddr, Arc<ActorEnrichment>, foldhash::quality::RandomState>>,
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
        let clients: Vec<IpAddr> = clients.into_iter().collect();
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let missing: Vec<IpAddr> =
            clients.iter().copied().filter(|c| !cache.contains_key(c)).collect();
        cache.reserve(missing.len());
        for (client, answer) in missing.iter().zip(self.lookup_all(&missing)) {
            cache.insert(*client, Arc::new(self.or_recorded(answer)));
        }
        let actors =
            clients.iter().filter_map(|c| cache.get(c).map(|a| (*c, Arc::clone(a)))).collect();
        drop(cache);
        Enrichments {
            sources: self.sources.clone(),
            actors,
            errors: self.errors.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        }
    }

    /// An answer, or for a failed lookup an empty one, the failure recorded in `errors` (by
    /// file and reason, once).
    fn or_recorded(&self, answer: Result<ActorEnrichment, EnrichError>) -> ActorEnrichment {
        answer.unwrap_or_else(|e| {
            let mut errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
            let message = e.to_string();
            if !errors.contains(&message) {
                errors.push(message);
            }
            ActorEnrichment::default()
        })
    }

    /// [`Enricher::lookup`] of each address, in order. A batch run's first snapshot asks
    /// for every actor at once (tens of thousands): large batches are split over the cores.
    fn lookup_all(&self, ips: &[IpAddr]) -> Vec<Result<ActorEnrichment, EnrichError>> {
        const PER_THREAD: usize = 4096;
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        if ips.len() <= PER_THREAD || threads == 1 {
            return ips.iter().map(|ip| self.lookup(*ip)).collect();
        }
        let chunk = ips.len().div_ceil(threads).max(PER_THREAD / 4);
        let lookup_part =
            |part: &[IpAddr]| part.iter().map(|ip| self.lookup(*ip)).collect::<Vec<_>>();
        std::thread::scope(|scope| {
            let parts: Vec<_> = ips
                .chunks(chunk)
                .map(|part| {
                    let spawned =
                        std::thread::Builder::new().spawn_scoped(scope, move || lookup_part(part));
                    (part, spawned)
                })
                .collect();
            let mut out = Vec::with_capacity(ips.len());
            for (part, spawned) in parts {
                // A thread that could not start, or stopped: its part is looked up here.
                match spawned.map(std::thread::ScopedJoinHandle::join) {
                    Ok(Ok(answers)) => out.extend(answers),
                    _ => out.extend(lookup_part(part)),
                }
            }
            out
        })
    }
}

impl ActorLookup for Enricher {
    fn annotate(&self, clients: &mut dyn Iterator<Item = IpAddr>) -> Enrichments {
        Enricher::annotate(self, clients)
    }

    fn lookup_many(&self, clients: &[IpAddr]) -> Vec<ActorEnrichment> {
        self.lookup_all(clients).into_iter().map(|a| self.or_recorded(a)).collect()
    }

    fn scanner_lists(&self) -> Vec<ScannerList> {
        self.scanners.clone()
    }
}

#[cfg(test)]
mod tests;
