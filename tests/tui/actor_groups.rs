//! The Actors view's grouping key (`g`): every actor aggregated by network prefix, the
//! largest groups first, and back to the actor list.

use crossterm::event::KeyCode;
use leakline::model::snapshot::{ActorGroup, ActorGroups};
use leakline::tui::keymap::{Action, Key, Scope, View, lookup};

use super::fixture::{app_with, draw, fixture, text_of};

fn group(key: &str, clients: u64, requests: u64, bytes: u64) -> ActorGroup {
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    ActorGroup {
        key: key.to_owned(),
        clients,
        requests,
        successes: requests / 2,
        bytes,
        first_seen: at("2026-11-03T09:12:00Z"),
        last_seen: at("2026-11-03T13:02:30Z"),
    }
}

#[test]
fn g_groups_the_actors_by_network_prefix_and_back() {
    let mut snap = fixture();
    snap.actors_total = 1_250_000;
    snap.actor_groups = vec![ActorGroups {
        key: "prefix".into(),
        total: 310_000,
        groups: vec![
            group("198.51.100.0/24", 2, 83, 23_500_000),
            group("2001:db8:77::/48", 40_000, 41_000, 9_100_000),
            group("162.142.125.0/24", 1, 6, 918),
        ],
    }];
    let mut app = app_with(snap, false);
    app.update(Action::ShowView(View::Actors));
    let list = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(list.contains("of 1,250,000 external clients"), "{list}");
    assert_eq!(
        lookup(Scope::View(View::Actors), Key { code: KeyCode::Char('g'), ctrl: false }),
        Some(Action::CycleGrouping)
    );
    app.update(Action::CycleGrouping);
    for (w, h) in [(120, 40), (80, 24)] {
        let terminal = draw(&app, w, h);
        insta::assert_snapshot!(format!("actors_by_prefix_{w}x{h}"), terminal.backend());
        let text = text_of(terminal.backend().buffer());
        assert!(text.contains("by network prefix (/24, /48) · 3 of 310,000 groups"), "{text}");
        assert!(text.contains("2001:db8:77::/48"), "{text}");
    }
    app.update(Action::Down);
    assert_eq!(app.actors.selected, 1);
    app.update(Action::Open);
    assert!(!app.actors.detail, "a group has no actor detail");
    app.update(Action::CycleGrouping);
    assert_eq!(app.actors.grouping, None);
    let back = text_of(draw(&app, 120, 40).backend().buffer());
    assert!(back.contains("external clients"), "{back}");
}
