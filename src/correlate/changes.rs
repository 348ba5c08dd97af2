//! State changes between two snapshots: what a live display or `watch --headless` announces.
//!
//! Pure: `diff(prev, next)` looks only at the two snapshots, so a consumer that skips
//! snapshots (a `watch` channel keeps only the latest) still hears about everything that
//! changed in between — a window that opened and closed between two looks yields both
//! `WindowOpened` and `WindowClosed`. Windows are identified per service by `opened_latest`
//! (the first positive evidence of the window), actors by client address, gaps by value.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::Snapshot;
use crate::model::enrichment::ActorEnrichment;
use crate::model::snapshot::{ActorClass, Gap, GapKind, Hit, ServiceSummary, Window, WindowStatus};

/// One announced change. Serialized as a JSON object with a `type` tag (snake case).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StateChange {
    /// A new exposure window: positive evidence at `at` (`opened_latest`); the exposure began
    /// no earlier than `opened_earliest` (`None`: exposed since before anything was seen).
    WindowOpened {
        service: String,
        at: DateTime<Utc>,
        opened_earliest: Option<DateTime<Utc>>,
        external_requests: u64,
    },
    /// A window closed by negative evidence: last positive evidence at `at`
    /// (`closed_earliest`), negative evidence at `closed_latest`.
    WindowClosed {
        service: String,
        at: DateTime<Utc>,
        opened_at: DateTime<Utc>,
        closed_latest: Option<DateTime<Utc>>,
        external_requests: u64,
        external_successes: u64,
        external_bytes: u64,
    },
    /// The service's first external request (or an earlier one, found late).
    FirstExternal {
        service: String,
        at: DateTime<Utc>,
        client: String,
        user_agent: String,
        method: String,
        path: String,
        status: u16,
    },
    /// The service's first successful external request from something that is not a scanner.
    FirstNonScannerSuccess {
        service: String,
        at: DateTime<Utc>,
        client: String,
        user_agent: String,
        method: String,
        path: String,
        status: u16,
    },
    /// An external client seen for the first time.
    NewActor {
        client: IpAddr,
        class: ActorClass,
        scanner: Option<String>,
        at: DateTime<Utc>,
        services: Vec<String>,
        /// What the offline databases say (issue 20): `asn`, `country`, `city` (`null` when
        /// no database knows it) and `lists` (`[]`), as in the analysis's `actors[]`. No keys
        /// at all when no database or range file is configured.
        #[serde(flatten)]
        enrichment: Option<Arc<ActorEnrichment>>,
    },
    /// A source file was rotated (renamed away, deleted).
    SourceRotated { source: Option<u32>, path: String, at: DateTime<Utc>, reason: String },
    /// A source file was truncated in place (copytruncate).
    SourceTruncated { source: Option<u32>, path: String, at: DateTime<Utc>, reason: String },
    /// A source could not be read; `until` is set once it reads again.
    SourceError {
        source: Option<u32>,
        path: String,
        at: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        reason: String,
    },
    /// A configured source changed coverage state: `read` once it yielded its first
    /// evidence, `unread` (with the reason) while it has yielded none. `sources_read` and
    /// `sources_unread` count the whole picture after the change.
    Coverage {
        path: String,
        state: &'static str,
        reason: Option<String>,
        sources_read: usize,
        sources_unread: usize,
    },
    /// Any other ingest gap (`silent`, `restart`); `until` is `None` while it lasts.
    Gap {
        kind: GapKind,
        source: Option<u32>,
        path: String,
        at: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        reason: String,
    },
}

/// Everything that changed from `prev` to `next`, in a stable order: per service (config
/// order) windows, then firsts; then new actors (snapshot order); then new gaps.
#[must_use]
pub fn diff(prev: &Snapshot, next: &Snapshot) -> Vec<StateChange> {
    let mut out = Vec::new();
    let before: HashMap<&str, &ServiceSummary> =
        prev.services.iter().map(|s| (s.name.as_str(), s)).collect();
    for service in &next.services {
        let old = before.get(service.name.as_str()).copied();
        service_changes(old, service, &mut out);
    }
    // An actor missing from `prev` is new only if `prev` listed everyone, or if every one of
    // its requests is later than anything `prev` held; else it may simply have climbed into
    // a bounded list (see `Snapshot::actors`), and is not announced.
    let known: HashSet<IpAddr> = prev.actors.iter().map(|a| a.client).collect();
    let complete = prev.actors.len() as u64 >= prev.actors_total();
    let prev_latest = prev.sources.iter().filter_map(|s| s.last_event).max();
    let is_new = |a: &&crate::model::snapshot::ActorSummary| {
        !known.contains(&a.client)
            && (complete || prev_latest.is_none_or(|latest| a.first_seen > latest))
    };
    for actor in next.actors.iter().filter(is_new) {
        out.push(StateChange::NewActor {
            client: actor.client,
            class: actor.class,
            scanner: actor.scanner.clone(),
            at: actor.first_seen,
            services: actor.services.clone(),
            // The snapshot looked its listed actors up already (once each: cached).
            enrichment: next
                .enrichment
                .configured()
                .then(|| next.enrichment.actors.get(&actor.client).cloned().unwrap_or_default()),
        });
    }
    for gap in next.gaps.iter().filter(|g| !prev.gaps.contains(g)) {
        out.push(gap_change(gap));
    }
    coverage_changes(prev, next, &mut out);
    out
}

/// Sources newly read, and sources newly unread or unread for a new reason.
fn coverage_changes(prev: &Snapshot, next: &Snapshot, out: &mut Vec<StateChange>) {
    let (before, after) = (&prev.coverage, &next.coverage);
    let counts = (after.sources_read.len(), after.sources_unread.len());
    let was_read: HashSet<&str> = before.sources_read.iter().map(String::as_str).collect();
    for path in after.sources_read.iter().filter(|p| !was_read.contains(p.as_str())) {
        out.push(StateChange::Coverage {
            path: path.clone(),
            state: "read",
            reason: None,
            sources_read: counts.0,
            sources_unread: counts.1,
        });
    }
    for u in after.sources_unread.iter().filter(|u| !before.sources_unread.contains(u)) {
        out.push(StateChange::Coverage {
            path: u.path.clone(),
            state: "unread",
            reason: Some(u.reason.clone()),
            sources_read: counts.0,
            sources_unread: counts.1,
        });
    }
}

fn service_changes(old: Option<&ServiceSummary>, new: &ServiceSummary, out: &mut Vec<StateChange>) {
    let old_windows: HashMap<DateTime<Utc>, &Window> =
        old.map(|s| s.windows.iter().map(|w| (w.opened_latest, w)).collect()).unwrap_or_default();
    for w in &new.windows {
        let was = old_windows.get(&w.opened_latest);
        if was.is_none() {
            out.push(StateChange::WindowOpened {
                service: new.name.clone(),
                at: w.opened_latest,
                opened_earliest: w.opened_earliest,
                external_requests: w.external_requests,
            });
        }
        let was_open = was.is_none_or(|o| o.status == WindowStatus::Open);
        if w.status == WindowStatus::Closed && was_open {
            out.push(StateChange::WindowClosed {
                service: new.name.clone(),
                at: w.closed_earliest,
                opened_at: w.opened_latest,
                closed_latest: w.closed_latest,
                external_requests: w.external_requests,
                external_successes: w.external_successes,
                external_bytes: w.external_bytes,
            });
        }
    }
    let changed =
        |a: Option<&Hit>, b: &Hit| a.is_none_or(|a| a.time != b.time || a.client != b.client);
    if let Some(hit) = &new.first_external {
        if changed(old.and_then(|o| o.first_external.as_ref()), hit) {
            let (service, h) = (new.name.clone(), hit.clone());
            out.push(StateChange::FirstExternal {
                service,
                at: h.time,
                client: h.client,
                user_agent: h.user_agent,
                method: h.method,
                path: h.path,
                status: h.status,
            });
        }
    }
    if let Some(hit) = &new.first_non_scanner_success {
        if changed(old.and_then(|o| o.first_non_scanner_success.as_ref()), hit) {
            let (service, h) = (new.name.clone(), hit.clone());
            out.push(StateChange::FirstNonScannerSuccess {
                service,
                at: h.time,
                client: h.client,
                user_agent: h.user_agent,
                method: h.method,
                path: h.path,
                status: h.status,
            });
        }
    }
}

fn gap_change(gap: &Gap) -> StateChange {
    let source = gap.source.map(|s| s.0);
    let (path, at, reason) = (gap.path.clone(), gap.from, gap.reason.clone());
    match gap.kind {
        GapKind::Rotated => StateChange::SourceRotated { source, path, at, reason },
        GapKind::Truncated => StateChange::SourceTruncated { source, path, at, reason },
        GapKind::SourceError => {
            StateChange::SourceError { source, path, at, until: gap.to, reason }
        }
        GapKind::Silent | GapKind::Restart | GapKind::LiveOnly => {
            StateChange::Gap { kind: gap.kind, source, path, at, until: gap.to, reason }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceId;
    use crate::model::snapshot::{ActorSummary, EvidenceCount, ServiceState};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn window(opened: &str, closed: Option<(&str, &str)>) -> Window {
        Window {
            opened_earliest: None,
            opened_latest: t(opened),
            closed_earliest: closed.map_or(t(opened), |c| t(c.0)),
            closed_latest: closed.map(|c| t(c.1)),
            status: if closed.is_some() { WindowStatus::Closed } else { WindowStatus::Open },
            external_requests: 3,
            external_successes: 1,
            external_bytes: 10,
            external_clients: 1,
            first_external: None,
            first_non_scanner_success: None,
            evidence: EvidenceCount::default(),
            top_paths: Vec::new(),
            sensitive: Vec::new(),
        }
    }

    fn service(windows: Vec<Window>, first: Option<Hit>) -> ServiceSummary {
        ServiceSummary {
            name: "gw".into(),
            addresses: Vec::new(),
            state: ServiceState::Open,
            windows,
            external_requests: 0,
            external_successes: 0,
            external_bytes: 0,
            external_clients: 0,
            internal_requests: 0,
            unattributed_requests: 0,
            forwarded_unknown_requests: 0,
            first_external: first,
            first_non_scanner_success: None,
            scans: Vec::new(),
            coverage: crate::model::snapshot::Coverage::default(),
        }
    }

    fn hit(at: &str) -> Hit {
        Hit {
            time: t(at),
            client: "203.0.113.9".into(),
            user_agent: "curl/8".into(),
            method: "GET".into(),
            path: "/v1/models".into(),
            status: 200,
        }
    }

    fn actor(ip: &str) -> ActorSummary {
        ActorSummary {
            client: ip.parse().unwrap(),
            class: ActorClass::Tool,
            scanner: None,
            first_seen: t("2026-01-01T10:00:00Z"),
            last_seen: t("2026-01-01T10:00:00Z"),
            requests: 1,
            successes: 1,
            bytes: 1,
            services: vec!["gw".into()],
            top_paths: Vec::new(),
            user_agents: Vec::new(),
            statuses: std::collections::BTreeMap::new(),
            detail_dropped: false,
        }
    }

    #[test]
    fn a_window_opened_and_closed_between_two_looks_yields_both_changes() {
        let prev = Snapshot::default();
        let mut next = Snapshot::default();
        let closed = Some(("2026-01-01T11:00:00Z", "2026-01-01T11:05:00Z"));
        next.services.push(service(vec![window("2026-01-01T10:00:00Z", closed)], None));
        let ch = diff(&prev, &next);
        assert_eq!(ch.len(), 2, "{ch:?}");
        assert!(
            matches!(&ch[0], StateChange::WindowOpened { at, .. } if *at == t("2026-01-01T10:00:00Z"))
        );
        assert!(
            matches!(&ch[1], StateChange::WindowClosed { at, .. } if *at == t("2026-01-01T11:00:00Z"))
        );
        assert!(diff(&next, &next).is_empty(), "no change, nothing announced");
    }

    #[test]
    fn an_actor_climbing_into_a_bounded_list_is_not_announced_as_new() {
        let mut prev = Snapshot::default();
        prev.actors.push(actor("203.0.113.9"));
        prev.actors_total = 5; // four more exist, unlisted
        let setup = crate::correlate::engine::Setup {
            name: "x".into(),
            timezone: chrono_tz::UTC,
            filter: crate::model::ClientFilter::default(),
            services: Vec::new(),
            scan_patterns: Vec::new(),
        };
        let mut c = crate::correlate::Correlator::new(setup);
        let info = crate::correlate::SourceInfo {
            path: "a.log".into(),
            kind: crate::model::SourceKind::Access,
            format: "combined".into(),
            service: "gw".into(),
            vantage: crate::model::Vantage::External,
        };
        let id = c.add_source(info);
        c.source_mut(id).last_event = Some(t("2026-01-01T10:00:00Z"));
        prev.sources = c.snapshot(t("2026-01-01T10:00:00Z")).sources;
        let mut next = prev.clone();
        next.actors.push(actor("198.51.100.7")); // first seen 10:00: maybe one of the four
        let mut late = actor("198.51.100.8");
        late.first_seen = t("2026-01-01T10:00:01Z"); // after everything `prev` held: new
        next.actors.push(late);
        next.actors_total = 6;
        let ch = diff(&prev, &next);
        assert_eq!(ch.len(), 1, "{ch:?}");
        assert!(
            matches!(&ch[0], StateChange::NewActor { client, .. } if client.to_string() == "198.51.100.8")
        );
    }

    #[test]
    fn closing_an_open_window_firsts_actors_and_gaps() {
        let mut prev = Snapshot::default();
        prev.services.push(service(vec![window("2026-01-01T10:00:00Z", None)], None));
        prev.actors.push(actor("203.0.113.9"));
        let mut next = prev.clone();
        next.services[0].windows[0] =
            window("2026-01-01T10:00:00Z", Some(("2026-01-01T12:00:00Z", "2026-01-01T12:01:00Z")));
        next.services[0].first_external = Some(hit("2026-01-01T10:00:00Z"));
        next.actors.push(actor("198.51.100.7"));
        next.gaps.push(Gap {
            kind: GapKind::Truncated,
            source: Some(SourceId(2)),
            path: "/var/log/a.log".into(),
            from: t("2026-01-01T12:02:00Z"),
            to: Some(t("2026-01-01T12:02:00Z")),
            reason: "truncated".into(),
        });
        let ch = diff(&prev, &next);
        let types: Vec<String> = ch
            .iter()
            .map(|c| serde_json::to_value(c).unwrap()["type"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(types, ["window_closed", "first_external", "new_actor", "source_truncated"]);
        let json = serde_json::to_value(&ch[2]).unwrap();
        assert_eq!(json["client"], "198.51.100.7");
        assert_eq!(json["class"], "tool");
        assert!(json.get("asn").is_none() && json.get("lists").is_none(), "no enrichment: {json}");
    }

    #[test]
    fn a_new_actor_carries_its_enrichment_when_configured() {
        use crate::model::enrichment::{AsnInfo, EnrichSource};
        let prev = Snapshot::default();
        let mut next = prev.clone();
        next.actors.push(actor("198.51.100.7"));
        next.actors.push(actor("203.0.113.9"));
        next.enrichment.sources.push(EnrichSource {
            path: "asn.mmdb".into(),
            kind: "mmdb".into(),
            name: "GeoLite2-ASN".into(),
            built: None,
            prefixes: None,
            scanner: false,
        });
        let known = ActorEnrichment {
            asn: Some(AsnInfo { number: 64_500, org: Some("Example".into()) }),
            ..ActorEnrichment::default()
        };
        next.enrichment.actors.insert("198.51.100.7".parse().unwrap(), Arc::new(known));
        let lines: Vec<serde_json::Value> =
            diff(&prev, &next).iter().map(|c| serde_json::to_value(c).unwrap()).collect();
        assert_eq!(lines[0]["client"], "198.51.100.7");
        assert_eq!(lines[0]["asn"], serde_json::json!({"number": 64_500, "org": "Example"}));
        assert_eq!(lines[0]["country"], serde_json::Value::Null);
        assert_eq!(lines[0]["lists"], serde_json::json!([]));
        // Configured, but no database knows the address: the keys, with nothing in them.
        assert_eq!(lines[1]["client"], "203.0.113.9");
        assert_eq!(
            (&lines[1]["asn"], &lines[1]["country"], &lines[1]["city"], &lines[1]["lists"]),
            (
                &serde_json::Value::Null,
                &serde_json::Value::Null,
                &serde_json::Value::Null,
                &serde_json::json!([])
            )
        );
        assert!(lines[1].get("city").is_some(), "{}", lines[1]);
    }

    #[test]
    fn a_source_going_from_unread_to_read_is_announced_once() {
        use crate::model::snapshot::UnreadSource;
        let mut prev = Snapshot::default();
        prev.coverage.sources_read.push("/logs/a.log".into());
        prev.coverage.sources_unread.push(UnreadSource {
            path: "/logs/b.log".into(),
            reason: "empty: no line read".into(),
        });
        let first = diff(&Snapshot::default(), &prev);
        let lines: Vec<serde_json::Value> =
            first.iter().map(|c| serde_json::to_value(c).unwrap()).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0]["type"], "coverage");
        assert_eq!(lines[0]["state"], "read");
        assert_eq!(lines[1]["path"], "/logs/b.log");
        assert_eq!(lines[1]["state"], "unread");
        assert_eq!(lines[1]["reason"], "empty: no line read");
        let mut next = prev.clone();
        next.coverage.sources_unread.clear();
        next.coverage.sources_read.push("/logs/b.log".into());
        let ch = diff(&prev, &next);
        assert_eq!(ch.len(), 1, "{ch:?}");
        let json = serde_json::to_value(&ch[0]).unwrap();
        assert_eq!(json["path"], "/logs/b.log");
        assert_eq!(json["state"], "read");
        assert_eq!(json["reason"], serde_json::Value::Null);
        assert_eq!(
            (json["sources_read"].as_u64(), json["sources_unread"].as_u64()),
            (Some(2), Some(0))
        );
        assert!(diff(&next, &next).is_empty());
    }
}
