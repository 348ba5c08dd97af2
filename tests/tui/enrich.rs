//! The Actors view with offline enrichment (issue 20): org and country columns, the `g`
//! grouping cycle (network, country, range list) with its totals, a group's actors, and the
//! Actor detail. The enrichment comes from the `MaxMind` test databases and range fixtures in
//! `tests/fixtures/enrich` through the real `Enricher`.

use std::path::Path;

use leakline::config::{EnrichConfig, RangeSpec};
use leakline::enrich::Enricher;
use leakline::model::Snapshot;
use leakline::model::snapshot::{ActorGroup, ActorGroups};
use leakline::tui::app::App;
use leakline::tui::keymap::{Action, View};

use super::fixture::{app_with, draw, fixture, press, text_of};

/// The fixture's six actors moved to addresses the test databases and lists know: Google's
/// AS15169 (1.0.0.1), London (81.2.69.160, City DB), Bredband2 in Linköping (89.160.20.129),
/// AWS EC2 (3.5.140.9), a Tor exit (185.220.101.7), and an address nothing knows.
fn enriched() -> Snapshot {
    let mut snap = fixture();
    let clients = [
        "1.0.0.1",
        "81.2.69.160",
        "89.160.20.129",
        "3.5.140.9",
        "185.220.101.7",
        "2001:db8::bad:1",
    ];
    for (a, c) in snap.actors.iter_mut().zip(clients) {
        a.client = c.parse().unwrap();
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/enrich");
    let config = EnrichConfig {
        mmdb: vec![dir.join("GeoLite2-ASN-Test.mmdb"), dir.join("GeoLite2-City-Test.mmdb")],
        ranges: ["aws-ip-ranges.json", "tor-exit-addresses", "research-scanners.txt"]
            .iter()
            .map(|f| RangeSpec { path: dir.join(f), name: None, scanner: false })
            .collect(),
    };
    let enricher = Enricher::load(&config).unwrap().unwrap();
    snap.enrichment = enricher.annotate(snap.actors.iter().map(|a| a.client));
    snap
}

fn actors_app() -> App {
    let mut app = app_with(enriched(), false);
    app.update(Action::ShowView(View::Actors));
    app
}

#[test]
fn actors_show_org_and_country() {
    let app = actors_app();
    for (w, h) in [(160, 40), (120, 40), (80, 24)] {
        let terminal = draw(&app, w, h);
        insta::assert_snapshot!(format!("enriched_actors_{w}x{h}"), terminal.backend());
        let text = text_of(terminal.backend().buffer());
        assert!(text.contains("AS15169 Goog") && text.contains(" GB "), "{text}");
    }
}

/// The groups the engine adds with enrichment (`asn`, `country`, `list`: see
/// `tests/enrich.rs` for their sums from a real run), as the view shows them with `g`.
#[test]
fn g_shows_the_enrichment_groupings() {
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    let group = |key: &str, clients: u64, requests: u64, bytes: u64| ActorGroup {
        key: key.to_owned(),
        clients,
        requests,
        successes: requests / 2,
        bytes,
        first_seen: at("2026-11-03T11:42:10Z"),
        last_seen: at("2026-11-03T13:20:11Z"),
    };
    let mut snap = enriched();
    snap.actor_groups = vec![
        ActorGroups {
            key: "asn".into(),
            total: 2,
            groups: vec![
                group("AS15169 Google Inc.", 1, 61, 20_400_000),
                group("AS29518 Bredband2 AB", 1, 6, 918),
            ],
        },
        ActorGroups {
            key: "country".into(),
            total: 2,
            groups: vec![
                group("GB United Kingdom", 1, 22, 3_100_000),
                group("SE Sweden", 1, 6, 918),
            ],
        },
    ];
    let mut app = app_with(snap, false);
    app.update(Action::ShowView(View::Actors));
    for key in ["asn", "country"] {
        press(&mut app, "g");
        for (w, h) in [(120, 40), (80, 24)] {
            let terminal = draw(&app, w, h);
            insta::assert_snapshot!(format!("actors_by_{key}_{w}x{h}"), terminal.backend());
        }
    }
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(
        text.contains("by country · 2 of 2 groups") && text.contains("GB United Kingdom"),
        "{text}"
    );
    press(&mut app, "g");
    assert_eq!(app.actors.grouping, None);
}

#[test]
fn actor_detail_says_where_and_which_lists() {
    let mut app = actors_app();
    let pos = app
        .actors
        .order
        .iter()
        .position(|&i| app.snapshot.actors[i].client.to_string() == "89.160.20.129")
        .unwrap();
    for _ in 0..pos {
        app.update(Action::Down);
    }
    app.update(Action::Open);
    let terminal = draw(&app, 120, 40);
    insta::assert_snapshot!("enriched_actor_detail_120x40", terminal.backend());
    let text = text_of(terminal.backend().buffer());
    assert!(
        text.contains(
            "where AS29518 Bredband2 AB · SE Sweden · Linköping, Östergötland County (±76 km)"
        ),
        "{text}"
    );
    assert!(text.contains("lists research-scanners"), "{text}");
}

#[test]
fn a_failed_lookup_is_named_on_the_actors_title() {
    let mut snap = enriched();
    snap.enrichment.errors.push(
        "/db/City.mmdb: not a usable MaxMind DB (.mmdb) database: looking up 1.2.3.4: bad".into(),
    );
    let mut app = app_with(snap, false);
    app.update(Action::ShowView(View::Actors));
    let text = text_of(draw(&app, 220, 24).backend().buffer());
    assert!(text.contains("⚠ enrichment: /db/City.mmdb: not a usable MaxMind DB"), "{text}");
}

/// The detail of an address the databases do not (fully) know says "unknown (not in the
/// databases)": the address may well have a network and a country, the files just do not
/// hold them.
#[test]
fn actor_detail_says_what_the_databases_do_not_know() {
    let detail = |client: &str| {
        let mut app = actors_app();
        let pos = app
            .actors
            .order
            .iter()
            .position(|&i| app.snapshot.actors[i].client.to_string() == client)
            .unwrap();
        for _ in 0..pos {
            app.update(Action::Down);
        }
        app.update(Action::Open);
        text_of(draw(&app, 120, 40).backend().buffer())
    };
    let text = detail("1.0.0.1");
    assert!(
        text.contains("where AS15169 Google Inc. · country unknown (not in the databases)"),
        "{text}"
    );
    let text = detail("81.2.69.160");
    assert!(
        text.contains("where ASN unknown (not in the databases) · GB United Kingdom · London"),
        "{text}"
    );
    let text = detail("2001:db8::bad:1");
    assert!(text.contains("where ASN and country unknown (not in the databases)"), "{text}");
    assert!(text.contains("lists in no range list given"), "{text}");
    assert!(!text.contains("no ASN") && !text.contains("no country"), "{text}");
}
