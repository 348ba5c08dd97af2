//! One MaxMind-format database, loaded into memory once.
//!
//! The record layout says what a database holds, whatever its name: GeoLite2/GeoIP2 and
//! DB-IP records carry `autonomous_system_number` / `autonomous_system_organization`,
//! `country {iso_code, names}`, `city {names}`, `subdivisions`, `location`; `IPinfo` "lite"
//! records carry `asn` (`"AS13335"`), `as_name`, `country_code` and `country` (a name).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use maxminddb::{MaxMindDbError, Reader};
use serde::Deserialize;

use super::EnrichError;
use crate::model::enrichment::{ActorEnrichment, AsnInfo, CityInfo, CountryInfo, EnrichSource};

/// A loaded database.
pub struct Mmdb {
    path: PathBuf,
    reader: Reader<Vec<u8>>,
}

impl std::fmt::Debug for Mmdb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mmdb")
            .field("path", &self.path)
            .field("database_type", &self.reader.metadata().database_type)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Record {
    autonomous_system_number: Option<u32>,
    autonomous_system_organization: Option<String>,
    country: Option<CountryField>,
    city: Option<Named>,
    subdivisions: Option<Vec<Named>>,
    location: Option<Location>,
    /// `IPinfo` lite: `"AS13335"`.
    asn: Option<String>,
    as_name: Option<String>,
    country_code: Option<String>,
}

/// `GeoIP2` `country` is a map; `IPinfo` lite's is the country's name.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CountryField {
    Geo(GeoCountry),
    Name(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GeoCountry {
    iso_code: Option<String>,
    names: Names,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Named {
    names: Names,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Names {
    en: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Location {
    latitude: Option<f64>,
    longitude: Option<f64>,
    accuracy_radius: Option<u16>,
}

/// Addresses looked up (and their records decoded) when a database is opened, so a data
/// section corrupt in its common records is reported at start rather than mid-run.
const PROBES: [&str; 6] =
    ["1.1.1.1", "8.8.8.8", "81.2.69.160", "2.125.160.216", "2001:4860::8888", "2a02:cf40::1"];

impl Mmdb {
    /// Read and check a database: its metadata and search tree layout, then a few probe
    /// lookups through the data section.
    pub fn open(path: &Path) -> Result<Mmdb, EnrichError> {
        let bytes = std::fs::read(path)
            .map_err(|source| EnrichError::Io { path: path.to_path_buf(), source })?;
        let bad = |e: &MaxMindDbError| EnrichError::Mmdb {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        if bytes.is_empty() {
            return Err(EnrichError::Mmdb {
                path: path.to_path_buf(),
                message: "the file is empty".into(),
            });
        }
        let reader = Reader::from_source(bytes).map_err(|e| bad(&e))?;
        let db = Mmdb { path: path.to_path_buf(), reader };
        for probe in PROBES {
            let ip: IpAddr = probe.parse().unwrap_or(IpAddr::from([1, 1, 1, 1]));
            db.record(ip)?;
        }
        Ok(db)
    }

    /// Walk the whole database (search tree and every record it points to): what
    /// `leakline inspect --mmdb` does. Too slow for every run on a large City database
    /// (hundreds of milliseconds), so `open` only probes; a record found corrupt later is
    /// a lookup error naming the file.
    pub fn verify(&self) -> Result<(), EnrichError> {
        self.reader.verify().map_err(|e| EnrichError::Mmdb {
            path: self.path.clone(),
            message: format!("full check: {e}"),
        })
    }

    /// The metadata's `database_type` (`GeoLite2-ASN`, `DBIP-City-Lite`, …).
    #[must_use]
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// What the database is, for outputs that name what they rest on.
    #[must_use]
    pub fn source(&self) -> EnrichSource {
        let built = i64::try_from(self.reader.metadata().build_epoch)
            .ok()
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            .map(|t| t.format("%Y-%m-%d").to_string());
        EnrichSource {
            path: self.path.to_string_lossy().into_owned(),
            kind: "mmdb".into(),
            name: self.database_type().to_string(),
            built,
            prefixes: None,
            scanner: false,
        }
    }

    fn record(&self, ip: IpAddr) -> Result<Option<Record>, EnrichError> {
        let bad = |e: MaxMindDbError| EnrichError::Mmdb {
            path: self.path.clone(),
            message: format!("looking up {ip}: {e}"),
        };
        if ip.is_ipv6() && self.reader.metadata().ip_version == 4 {
            return Ok(None);
        }
        let result = self.reader.lookup(ip).map_err(bad)?;
        result.decode::<Record>().map_err(bad)
    }

    /// Fill what `out` does not have yet from this database's record for `ip`.
    pub fn fill(&self, ip: IpAddr, out: &mut ActorEnrichment) -> Result<(), EnrichError> {
        let Some(r) = self.record(ip)? else {
            return Ok(());
        };
        if out.asn.is_none() {
            let number = r
                .autonomous_system_number
                .or_else(|| r.asn.as_deref().and_then(|a| a.trim_start_matches("AS").parse().ok()));
            if let Some(number) = number {
                let org = r.autonomous_system_organization.or(r.as_name);
                out.asn = Some(AsnInfo { number, org });
            }
        }
        if out.country.is_none() {
            out.country = match r.country {
                Some(CountryField::Geo(c)) => {
                    c.iso_code.map(|iso| CountryInfo { iso, name: c.names.en })
                }
                Some(CountryField::Name(name)) => {
                    r.country_code.map(|iso| CountryInfo { iso, name: Some(name) })
                }
                None => r.country_code.map(|iso| CountryInfo { iso, name: None }),
            };
        }
        if out.city.is_none() {
            let name = r.city.and_then(|c| c.names.en);
            let subdivision =
                r.subdivisions.and_then(|s| s.into_iter().next()).and_then(|s| s.names.en);
            let loc = r.location.unwrap_or_default();
            if name.is_some() || subdivision.is_some() || loc.latitude.is_some() {
                out.city = Some(CityInfo {
                    name,
                    subdivision,
                    latitude: loc.latitude,
                    longitude: loc.longitude,
                    accuracy_radius_km: loc.accuracy_radius,
                });
            }
        }
        Ok(())
    }
}
