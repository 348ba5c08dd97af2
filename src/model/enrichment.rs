//! What offline databases say about an actor's address: network (ASN and organisation),
//! country, city, and the published range lists it belongs to.
//!
//! Plain data: `enrich` fills it (once per actor, at snapshot time), the snapshot carries it
//! beside the actors, and every output (analysis JSON, TUI, reports, `leakline enrich`)
//! reads it from here. Nothing in it comes from the network.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Everything the configured databases say about one address. `None` fields: no database
/// holds that kind of data for the address (or none of that kind was given).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ActorEnrichment {
    pub asn: Option<AsnInfo>,
    pub country: Option<CountryInfo>,
    pub city: Option<CityInfo>,
    /// Every range list entry containing the address, most specific prefix first.
    pub lists: Vec<ListHit>,
}

impl ActorEnrichment {
    /// The organisation shown in tables: the ASN's organisation, else `AS<n>`.
    #[must_use]
    pub fn org_label(&self) -> Option<String> {
        self.asn.as_ref().map(AsnInfo::label)
    }
}

/// What a human-readable output says when the databases do not know an address's network:
/// the address may well have one, the files given just do not hold it.
pub const ASN_UNKNOWN: &str = "ASN unknown (not in the databases)";
/// The same for the country.
pub const COUNTRY_UNKNOWN: &str = "country unknown (not in the databases)";

/// The network and country parts of a one-line description (`AS15169 Google Inc.`,
/// `GB United Kingdom`, each already rendered by the caller), an unknown one said so: one
/// part when both are unknown (`ASN and country unknown (not in the databases)`).
#[must_use]
pub fn network_and_country(org: Option<String>, country: Option<String>) -> Vec<String> {
    match (org, country) {
        (None, None) => vec!["ASN and country unknown (not in the databases)".to_owned()],
        (org, country) => vec![
            org.unwrap_or_else(|| ASN_UNKNOWN.to_owned()),
            country.unwrap_or_else(|| COUNTRY_UNKNOWN.to_owned()),
        ],
    }
}

/// An autonomous system.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AsnInfo {
    pub number: u32,
    pub org: Option<String>,
}

impl AsnInfo {
    /// `AS13335 Cloudflare, Inc.` (or `AS13335` without an organisation).
    #[must_use]
    pub fn label(&self) -> String {
        match &self.org {
            Some(org) => format!("AS{} {org}", self.number),
            None => format!("AS{}", self.number),
        }
    }
}

/// A country: ISO 3166-1 alpha-2 code and English name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CountryInfo {
    pub iso: String,
    pub name: Option<String>,
}

impl CountryInfo {
    /// `GB United Kingdom` (or `GB` without a name).
    #[must_use]
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{} {name}", self.iso),
            None => self.iso.clone(),
        }
    }
}

/// A City database's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CityInfo {
    pub name: Option<String>,
    /// The first (largest) subdivision: state, region.
    pub subdivision: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The database's accuracy radius around the location, in kilometres.
    pub accuracy_radius_km: Option<u16>,
}

/// Membership in one entry of a range list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ListHit {
    /// The provider (`aws`, `google-cloud`, `azure`, `cloudflare`, `tor`) or the file stem.
    pub name: String,
    pub service: Option<String>,
    pub region: Option<String>,
}

/// Who an address is, asked by the correlator at snapshot time (implemented by
/// `enrich::Enricher`, which the shells load; the engine depends on this trait only).
pub trait ActorLookup: std::fmt::Debug + Send + Sync {
    /// The enrichment of these clients, each looked up once over the lookup's life.
    fn annotate(&self, clients: &mut dyn Iterator<Item = IpAddr>) -> Enrichments;
    /// What the files say about each of `clients`, in order, neither cached nor kept: for
    /// aggregates over every actor, whose answers are folded in and dropped (a failed lookup
    /// is an empty answer, recorded like `annotate`'s).
    fn lookup_many(&self, clients: &[IpAddr]) -> Vec<ActorEnrichment>;
    /// The range lists whose members are scanners (`class = "scanner"`).
    fn scanner_lists(&self) -> Vec<ScannerList>;
}

/// A range list whose members count as scanners, alongside the user-agent rules.
#[derive(Debug, Clone, PartialEq)]
pub struct ScannerList {
    /// The list name (shown as the scanner's name).
    pub name: String,
    /// The file it was read from.
    pub source: String,
    pub networks: Vec<ipnet::IpNet>,
}

/// One configured database or range file, as loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichSource {
    pub path: String,
    /// `mmdb` or the detected range file kind (`aws`, `google-cloud`, `azure`, `cloudflare`,
    /// `tor-exit-addresses`, `plain`).
    pub kind: String,
    /// For MMDB: the metadata's `database_type` (`GeoLite2-ASN`, …); for lists: the list name.
    pub name: String,
    /// MMDB: the build date (`YYYY-MM-DD`, UTC); lists: `None`.
    pub built: Option<String>,
    /// Range lists: number of prefixes; MMDB: `None`.
    pub prefixes: Option<usize>,
    /// Range lists whose members count as scanners (`class = "scanner"`).
    pub scanner: bool,
}

/// The enrichment attached to a snapshot: the sources it rests on and, per external actor,
/// what they say. Empty when no database or range file is configured.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Enrichments {
    pub sources: Vec<EnrichSource>,
    pub actors: BTreeMap<IpAddr, Arc<ActorEnrichment>>,
    /// Lookups that failed (a database corrupt past its header): `file: what`, once each.
    pub errors: Vec<String>,
}

impl Enrichments {
    /// `true` when databases or range files were configured.
    #[must_use]
    pub fn configured(&self) -> bool {
        !self.sources.is_empty()
    }

    /// What the databases say about `client` (`None`: nothing configured, or not looked up).
    #[must_use]
    pub fn of(&self, client: IpAddr) -> Option<&ActorEnrichment> {
        self.actors.get(&client).map(AsRef::as_ref)
    }
}
