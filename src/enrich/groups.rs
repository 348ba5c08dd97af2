//! Actors totalled per key: the TUI Actors view's grouping (`g`) and the reports' "by
//! network" table.
//!
//! A cycle of modes: off → by network (ASN and organisation) → by country → by range list →
//! off. Each group sums requests, successes and bytes and counts clients; an actor the
//! databases say nothing about falls in an "unknown" group (said so, never dropped), and an
//! actor in two lists counts in both (the list totals may then add up to more than the
//! whole). Further modes (address prefixes, …) extend [`Grouping`] and [`key_of`].

use crate::model::enrichment::ActorEnrichment;
use crate::model::snapshot::ActorSummary;

/// How the Actors view groups its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    /// One row per actor.
    #[default]
    Off,
    /// By autonomous system (number and organisation).
    Network,
    Country,
    /// By range list name (provider or file stem).
    List,
}

impl Grouping {
    /// The next mode of the `g` cycle.
    #[must_use]
    pub fn next(self) -> Grouping {
        match self {
            Grouping::Off => Grouping::Network,
            Grouping::Network => Grouping::Country,
            Grouping::Country => Grouping::List,
            Grouping::List => Grouping::Off,
        }
    }

    /// `network` / `country` / `list` (`off` when ungrouped).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Grouping::Off => "off",
            Grouping::Network => "network",
            Grouping::Country => "country",
            Grouping::List => "list",
        }
    }

    /// The column header naming the key.
    #[must_use]
    pub fn header(self) -> &'static str {
        match self {
            Grouping::Off => "client",
            Grouping::Network => "network (ASN, organisation)",
            Grouping::Country => "country",
            Grouping::List => "range list",
        }
    }
}

/// One group's totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The key as the databases write it (not escaped for any output), e.g.
    /// `AS15169 Google Inc.`, `GB United Kingdom`.
    pub key: String,
    /// `true` for the group of actors the databases say nothing about.
    pub unknown: bool,
    pub clients: u64,
    pub requests: u64,
    pub successes: u64,
    pub bytes: u64,
}

/// The keys an actor counts under in `grouping` (empty when `Off`); `None` stands for the
/// unknown group.
#[must_use]
pub fn key_of(grouping: Grouping, e: Option<&ActorEnrichment>) -> Vec<Option<String>> {
    match grouping {
        Grouping::Off => Vec::new(),
        Grouping::Network => vec![e.and_then(ActorEnrichment::org_label)],
        Grouping::Country => vec![e.and_then(|e| e.country.as_ref()).map(|c| match &c.name {
            Some(name) => format!("{} {name}", c.iso),
            None => c.iso.clone(),
        })],
        Grouping::List => {
            let mut names: Vec<Option<String>> = Vec::new();
            for l in e.map_or(&[][..], |e| &e.lists[..]) {
                let name = Some(l.name.clone());
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            if names.is_empty() { vec![None] } else { names }
        }
    }
}

/// The label of the unknown group of `grouping`.
#[must_use]
pub fn unknown_label(grouping: Grouping) -> &'static str {
    match grouping {
        Grouping::Network => "(no ASN in the databases)",
        Grouping::Country => "(no country in the databases)",
        Grouping::List | Grouping::Off => "(in no range list)",
    }
}

/// Groups of `actors` (already filtered), bytes descending, then requests descending, then
/// key; the unknown group sorts among the others by its totals.
#[must_use]
pub fn groups<'a>(
    grouping: Grouping,
    actors: impl IntoIterator<Item = (&'a ActorSummary, Option<&'a ActorEnrichment>)>,
) -> Vec<Group> {
    if grouping == Grouping::Off {
        return Vec::new();
    }
    let mut by_key: std::collections::HashMap<Option<String>, Group> =
        std::collections::HashMap::new();
    for (a, e) in actors {
        for key in key_of(grouping, e) {
            let g = by_key.entry(key.clone()).or_insert_with(|| Group {
                unknown: key.is_none(),
                key: key.unwrap_or_else(|| unknown_label(grouping).to_owned()),
                clients: 0,
                requests: 0,
                successes: 0,
                bytes: 0,
            });
            g.clients += 1;
            g.requests += a.requests;
            g.successes += a.successes;
            g.bytes += a.bytes;
        }
    }
    let mut out: Vec<Group> = by_key.into_values().collect();
    out.sort_by(|a, b| {
        b.bytes.cmp(&a.bytes).then(b.requests.cmp(&a.requests)).then_with(|| a.key.cmp(&b.key))
    });
    out
}
