//! The Actors view with offline enrichment (issue 20): org and country columns, the `g`
//! grouping cycle (network, country, range list) with its totals, a group's actors, and the
//! Actor detail. The enrichment comes from the `MaxMind` test databases and range fixtures in
//! `tests/fixtures/enrich` through the real `Enricher`.

use std::path::Path;

use leakline::config::{EnrichConfig, RangeSpec};
use leakline::enrich::Enricher;
use leakline::enrich::groups::Grouping;
use leakline::model::Snapshot;
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

#[test]
fn g_cycles_network_country_list_and_off() {
    let mut app = actors_app();
    let expected = [
        (Grouping::Network, "AS29518 Bredband2 AB"),
        (Grouping::Country, "SE Sweden"),
        (Grouping::List, "research-scanners"),
    ];
    for (grouping, key) in expected {
        press(&mut app, "g");
        assert_eq!(app.actors.grouping, grouping);
        let terminal = draw(&app, 120, 40);
        insta::assert_snapshot!(
            format!("actors_by_{}_120x40", grouping.label()),
            terminal.backend()
        );
        assert!(text_of(terminal.backend().buffer()).contains(key), "{grouping:?}");
        insta::assert_snapshot!(
            format!("actors_by_{}_80x24", grouping.label()),
            draw(&app, 80, 24).backend()
        );
    }
    press(&mut app, "g");
    assert_eq!(app.actors.grouping, Grouping::Off);
    assert_eq!(app.actors.order.len(), 6);
}

#[test]
fn group_totals_add_up_per_key() {
    let mut app = actors_app();
    press(&mut app, "g");
    let groups = &app.actors.groups;
    // Every actor in exactly one network group: totals add up to the whole.
    assert_eq!(groups.iter().map(|g| g.clients).sum::<u64>(), 6);
    let all: u64 = app.snapshot.actors.iter().map(|a| a.bytes).sum();
    assert_eq!(groups.iter().map(|g| g.bytes).sum::<u64>(), all);
    let google = groups.iter().find(|g| g.key == "AS15169 Google Inc.").unwrap();
    assert_eq!(
        (google.clients, google.requests, google.successes, google.bytes),
        (1, 61, 30, 20_400_000)
    );
    let unknown = groups.iter().find(|g| g.unknown).unwrap();
    assert_eq!(
        unknown.clients, 4,
        "London, AWS, Tor and the documentation address have no ASN here"
    );
    // Bytes descending.
    assert!(groups.windows(2).all(|w| w[0].bytes >= w[1].bytes));
}

#[test]
fn enter_lists_a_groups_actors_and_esc_returns() {
    let mut app = actors_app();
    press(&mut app, "gg"); // by country
    let se = app.actors.groups.iter().position(|g| g.key == "SE Sweden").unwrap();
    for _ in 0..se {
        app.update(Action::Down);
    }
    app.update(Action::Open);
    assert_eq!(app.actors.grouping, Grouping::Off);
    assert_eq!(app.actors.order.len(), 1);
    let text = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(
        text.contains("89.160.20.129") && text.contains("country SE Sweden (Esc: all groups)"),
        "{text}"
    );
    app.update(Action::Open);
    insta::assert_snapshot!("enriched_actor_detail_120x40", draw(&app, 120, 40).backend());
    app.update(Action::Back);
    app.update(Action::Back);
    assert_eq!(app.actors.grouping, Grouping::Country);
    assert_eq!(app.actors.group_filter, None);
}

#[test]
fn grouping_without_databases_says_every_actor_is_unknown() {
    let mut app = app_with(fixture(), false);
    app.update(Action::ShowView(View::Actors));
    press(&mut app, "g");
    assert_eq!(app.actors.groups.len(), 1);
    let text = text_of(draw(&app, 80, 24).backend().buffer());
    assert!(
        text.contains("(no ASN in the databases)")
            && text.contains("no database or range file given"),
        "{text}"
    );
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
