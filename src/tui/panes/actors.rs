//! Actors: every external client, sortable and filterable, with a detail view (paths, user
//! agents, statuses, and its latest requests from the live feed).

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Sparkline, Table, Widget};

use super::{scroll_for, section};
use crate::model::Event;
use crate::model::enrichment::{ActorEnrichment, network_and_country};
use crate::model::snapshot::{ActorClass, ActorGroups, ActorSummary};
use crate::text::{clean, sanitize};
use crate::tui::app::{ActorSort, App};
use crate::tui::format;
use crate::tui::theme::Theme;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let st = &app.actors;
    if let Some(groups) = st.grouping.and_then(|i| app.snapshot.actor_groups.get(i)) {
        render_groups(app, groups, area, buf);
        return;
    }
    let selected = st.order.get(st.selected).and_then(|&i| app.snapshot.actors.get(i));
    if let (true, Some(actor)) = (st.detail, selected) {
        render_detail(app, actor, area, buf);
        return;
    }
    let [title, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let class = st.class_filter.map_or("all", ActorClass::as_str);
    let service = st.service_filter.as_deref().map_or_else(|| "all".to_owned(), clean);
    let mut extra = format!(
        "{} of {} external clients{} · sort {}{} · class {class} · service {service}",
        st.order.len(),
        format::count(app.snapshot.actors_total()),
        if (app.snapshot.actors.len() as u64) < app.snapshot.actors_total() {
            format!(" ({} listed: top by bytes and requests)", app.snapshot.actors.len())
        } else {
            String::new()
        },
        st.sort.label(),
        sort_mark(st.sort),
    );
    // A database that failed a lookup mid-session: said on the title, never silently blank.
    if let Some(err) = app.snapshot.enrichment.errors.first() {
        let _ = write!(extra, " · ⚠ enrichment: {}", sanitize(err, 120));
    }
    section("Actors", &extra, app.theme, title, buf);
    render_table(app, table, buf);
}

/// Every actor aggregated by one key (`g`): the largest groups by bytes, exact sums.
fn render_groups(app: &App, groups: &ActorGroups, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let [title, table] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let extra = format!(
        "by {} · {} of {} groups · g next grouping",
        groups.title(),
        groups.groups.len(),
        format::count(groups.total)
    );
    section("Actors", &extra, theme, title, buf);
    if groups.groups.is_empty() {
        Paragraph::new(Line::styled("  no external clients", theme.dim())).render(table, buf);
        return;
    }
    let tz = format::zone(&app.snapshot.timezone);
    let wide = table.width >= 110;
    let height = usize::from(table.height.saturating_sub(1));
    let first = scroll_for(app.actors.selected, height);
    let rows = groups.groups.iter().enumerate().skip(first).take(height).map(|(pos, g)| {
        let mut cells = vec![
            Cell::from(clean(&g.key)),
            Cell::from(format::count(g.clients)),
            Cell::from(format::count(g.requests)),
        ];
        if wide {
            cells.push(Cell::from(format::count(g.successes)));
        }
        cells.push(Cell::from(format::bytes(g.bytes)));
        cells.push(Cell::from(format::stamp(g.first_seen, tz)));
        if wide {
            cells.push(Cell::from(format::stamp(g.last_seen, tz)));
        }
        let row = Row::new(cells);
        if pos == app.actors.selected { row.style(theme.selected()) } else { row }
    });
    let mut head = vec!["group", "clients", "requests"];
    let mut widths = vec![Constraint::Length(22), Constraint::Length(8), Constraint::Length(9)];
    if wide {
        head.push("ok <400");
        widths.push(Constraint::Length(9));
    }
    head.extend(["bytes sent", "first seen"]);
    widths.extend([Constraint::Length(11), Constraint::Length(20)]);
    if wide {
        head.push("last seen");
        widths.push(Constraint::Min(0));
    }
    Table::new(rows, widths)
        .header(Row::new(head).style(theme.dim()))
        .column_spacing(1)
        .render(table, buf);
}

/// `GB` and `AS15169 Google Inc.` for the table (`-` when the databases say nothing).
fn org_and_country(app: &App, a: &ActorSummary, org_width: usize) -> (String, String) {
    let e = app.snapshot.enrichment.of(a.client);
    let country =
        e.and_then(|e| e.country.as_ref()).map_or_else(|| "-".to_owned(), |c| clean(&c.iso));
    let org = e
        .and_then(ActorEnrichment::org_label)
        .map_or_else(|| "-".to_owned(), |o| sanitize(&o, org_width).into_owned());
    (org, country)
}

fn render_table(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let st = &app.actors;
    let tz = format::zone(&app.snapshot.timezone);
    if st.order.is_empty() {
        Paragraph::new(Line::styled("  no actors match", theme.dim())).render(area, buf);
        return;
    }
    let height = usize::from(area.height.saturating_sub(1));
    let first = scroll_for(st.selected, height);
    // Wide terminals get dates, successes and services; 80 columns keep the essentials.
    let wide = area.width >= 110;
    // Narrow: the clock alone for today's evidence; older evidence keeps its date (to the
    // minute, the class column yields the room).
    let clock = format::Clock::of(app);
    let dated = !wide && app.snapshot.actors.iter().any(|a| clock.dated(a.first_seen));
    let when = |t| {
        if wide {
            format::stamp(t, tz)
        } else if dated {
            clock.minute(t)
        } else {
            clock.at(t)
        }
    };
    // At 80 columns: client 20, class, two times, requests 9, bytes sent 10+, 5 gaps. With
    // enrichment the narrow table trades the last-seen column and class width for country
    // and organisation; the wide one adds both before the services.
    let enriched = app.snapshot.enrichment.configured();
    let (class_w, time_w) = match (dated, enriched) {
        (true, false) => (13, 11),
        (false, false) => (18, 8),
        (true, true) => (10, 11),
        (false, true) => (12, 8),
    };
    // Enriched and wide: the services column needs 140 columns beside country and org.
    let with_services = wide && (!enriched || area.width >= 140);
    let org_w: u16 = match (wide, dated) {
        // Without services the org takes the rest of the row (102 columns before it).
        (true, _) if !with_services => area.width.saturating_sub(102).max(10),
        (true, _) => 24,
        (false, true) => 10,
        (false, false) => 13,
    };
    // Only the visible rows are built: the table stays cheap with 10 k actors.
    let rows = st.order.iter().enumerate().skip(first).take(height).filter_map(|(pos, &i)| {
        let a = app.snapshot.actors.get(i)?;
        let class = match &a.scanner {
            Some(name) => format!("{} ({})", a.class.as_str(), sanitize(name, 14)),
            None => a.class.as_str().to_owned(),
        };
        let mut cells = vec![Cell::from(a.client.to_string()), Cell::from(class)];
        let (org, country) = org_and_country(app, a, usize::from(org_w));
        if enriched && !wide {
            cells.push(Cell::from(country.clone()));
            cells.push(Cell::from(org.clone()));
        }
        cells.push(Cell::from(when(a.first_seen)));
        if wide || !enriched {
            cells.push(Cell::from(when(a.last_seen)));
        }
        cells.push(Cell::from(format::count(a.requests)));
        if wide {
            cells.push(Cell::from(format::count(a.successes)));
        }
        cells.push(Cell::from(format::bytes(a.bytes)));
        if wide && enriched {
            cells.push(Cell::from(country));
            cells.push(Cell::from(org));
        }
        if with_services {
            cells.push(Cell::from(clean(&a.services.join(","))));
        }
        let row = Row::new(cells);
        Some(if pos == st.selected { row.style(theme.selected()) } else { row })
    });
    let (header, widths) =
        columns(&Columns { wide, enriched, with_services, class_w, time_w, org_w });
    let header = marked_header(header, st.sort, theme);
    Table::new(rows, widths)
        .header(Row::new(header).style(theme.dim()))
        .column_spacing(1)
        .render(area, buf);
}

/// Which table columns a width and an enrichment give.
#[derive(Clone, Copy)]
struct Columns {
    wide: bool,
    enriched: bool,
    with_services: bool,
    class_w: u16,
    time_w: u16,
    org_w: u16,
}

/// The header names and widths of the actor table.
fn columns(l: &Columns) -> (Vec<&'static str>, Vec<Constraint>) {
    let Columns { wide, enriched, with_services, class_w, time_w, org_w } = *l;
    if wide && enriched {
        let mut header = vec![
            "client",
            "class",
            "first seen",
            "last seen",
            "requests",
            "ok <400",
            "bytes sent",
            "cc",
            "org",
        ];
        let mut widths = vec![
            Constraint::Length(22),
            Constraint::Length(16),
            Constraint::Length(14),
            Constraint::Length(14),
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Length(10),
            Constraint::Length(2),
            Constraint::Length(org_w),
        ];
        if with_services {
            header.push("services");
            widths.push(Constraint::Min(0));
        }
        (header, widths)
    } else if enriched {
        (
            vec!["client", "class", "cc", "org", "first", "requests", "bytes sent"],
            vec![
                Constraint::Length(20),
                Constraint::Length(class_w),
                Constraint::Length(2),
                Constraint::Length(org_w),
                Constraint::Length(time_w),
                Constraint::Length(8),
                Constraint::Min(10),
            ],
        )
    } else if wide {
        (
            vec![
                "client",
                "class",
                "first seen",
                "last seen",
                "requests",
                "ok <400",
                "bytes sent",
                "services",
            ],
            vec![
                Constraint::Length(22),
                Constraint::Length(20),
                Constraint::Length(14),
                Constraint::Length(14),
                Constraint::Length(9),
                Constraint::Length(7),
                Constraint::Length(11),
                Constraint::Min(0),
            ],
        )
    } else {
        (
            vec!["client", "class", "first", "last", "requests", "bytes sent"],
            vec![
                Constraint::Length(20),
                Constraint::Length(class_w),
                Constraint::Length(time_w),
                Constraint::Length(time_w),
                Constraint::Length(9),
                Constraint::Min(10),
            ],
        )
    }
}

/// The header cells, the sort column carrying its direction (▼ most first, ▲ earliest /
/// grouped first).
fn marked_header(header: Vec<&str>, sort: ActorSort, theme: Theme) -> Vec<Cell<'_>> {
    let names: &[&str] = match sort {
        ActorSort::Bytes => &["bytes sent"],
        ActorSort::Requests => &["requests"],
        ActorSort::FirstSeen => &["first seen", "first"],
        ActorSort::Class => &["class"],
    };
    header
        .into_iter()
        .map(|h| {
            if names.contains(&h) {
                Cell::from(format!("{h}{}", sort_mark(sort))).style(theme.header())
            } else {
                Cell::from(h)
            }
        })
        .collect()
}

/// `▼` for the descending sorts (bytes, requests), `▲` for first seen and class.
fn sort_mark(sort: ActorSort) -> &'static str {
    match sort {
        ActorSort::Bytes | ActorSort::Requests => "▼",
        ActorSort::FirstSeen | ActorSort::Class => "▲",
    }
}

fn render_detail(app: &App, actor: &ActorSummary, area: Rect, buf: &mut Buffer) {
    let theme = app.theme;
    let list_rows = actor.top_paths.len().max(actor.user_agents.len()).max(actor.statuses.len());
    let whereabouts = enrichment_lines(app, actor);
    let [title, top, lists, recent] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(4 + whereabouts.len() as u16),
        Constraint::Length(list_rows.clamp(1, 12) as u16 + 2),
        Constraint::Min(3),
    ])
    .areas(area);
    section(&format!("Actor {}", actor.client), "(Esc back)", theme, title, buf);
    let mut top_lines = summary_lines(app, actor);
    let extra = whereabouts.len() as u16;
    top_lines.extend(whereabouts);
    Paragraph::new(top_lines).render(top, buf);
    render_activity(app, actor, Rect { y: top.y + 3 + extra, height: 1, ..top }, buf);
    let [paths, agents, statuses] = Layout::horizontal([
        Constraint::Percentage(40),
        Constraint::Percentage(45),
        Constraint::Percentage(15),
    ])
    .areas(lists);
    let rules = super::served::rules_for(&app.snapshot, &actor.services);
    let mut path_lines = vec![Line::styled("top paths", theme.header())];
    path_lines.extend(actor.top_paths.iter().map(|pc| {
        let line = format!("{:>6} {}", pc.requests, sanitize(&pc.path, 60));
        match super::served::label_of(&rules, &pc.path) {
            Some(label) => Line::from(vec![
                Span::styled(line, theme.danger_text()),
                Span::styled(format!("  ⚠ {}", sanitize(label, 24)), theme.danger_text()),
            ]),
            None => Line::raw(line),
        }
    }));
    Paragraph::new(path_lines).render(paths, buf);
    let mut agent_lines = vec![Line::styled("user agents", theme.header())];
    agent_lines.extend(
        actor.user_agents.iter().map(|(ua, n)| Line::raw(format!("{n:>6} {}", sanitize(ua, 80)))),
    );
    Paragraph::new(agent_lines).render(agents, buf);
    let mut status_lines = vec![Line::styled("statuses", theme.header())];
    status_lines.extend(actor.statuses.iter().map(|(code, n)| Line::raw(format!("{code} ×{n}"))));
    Paragraph::new(status_lines).render(statuses, buf);
    let [rt, rl] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(recent);
    section("Latest requests (live feed)", "", theme, rt, buf);
    let rows = app.feed.recent_for_client(actor.client, usize::from(rl.height));
    let lines: Vec<Line> = rows
        .iter()
        .filter_map(|r| match &*r.event {
            Event::Request(q) => {
                let line = format!(
                    "{} {} {} {} {}",
                    format::Clock::of(app).at(q.time),
                    q.status,
                    sanitize(&q.method, 8),
                    sanitize(q.path(), 60),
                    format::bytes(q.bytes_sent)
                );
                Some(match super::served::label_of(&rules, q.path()) {
                    Some(label) => Line::from(vec![
                        Span::styled(line, theme.danger_text()),
                        Span::styled(format!("  ⚠ {}", sanitize(label, 24)), theme.danger_text()),
                    ]),
                    None => Line::raw(line),
                })
            }
            Event::Scan(_) => None,
        })
        .collect();
    if lines.is_empty() {
        Paragraph::new(Line::styled("  none in the live feed yet", theme.dim())).render(rl, buf);
    } else {
        Paragraph::new(lines).render(rl, buf);
    }
}

/// Class, services, first and last seen, and what was sent.
fn summary_lines(app: &App, actor: &ActorSummary) -> Vec<Line<'static>> {
    let theme = app.theme;
    let tz = format::zone(&app.snapshot.timezone);
    let scanner =
        actor.scanner.as_deref().map(|s| format!(" · {}", sanitize(s, 30))).unwrap_or_default();
    vec![
        Line::from(vec![
            Span::styled("class ", theme.dim()),
            Span::raw(format!("{}{scanner}", actor.class.as_str())),
            Span::styled("   services ", theme.dim()),
            Span::raw(clean(&actor.services.join(", "))),
        ]),
        Line::from(vec![
            Span::styled("seen  ", theme.dim()),
            Span::raw(format!(
                "{} → {} ({})",
                format::stamp(actor.first_seen, tz),
                format::stamp(actor.last_seen, tz),
                format::duration(actor.last_seen - actor.first_seen)
            )),
        ]),
        Line::from(vec![
            Span::styled("sent  ", theme.dim()),
            Span::raw(format!(
                "{} in {} requests ({} answered with status < 400)",
                format::bytes_exact(actor.bytes),
                format::count(actor.requests),
                format::count(actor.successes)
            )),
        ]),
    ]
}

/// What the offline databases say about the actor (network, country, city, range lists);
/// no line when none is configured.
fn enrichment_lines(app: &App, actor: &ActorSummary) -> Vec<Line<'static>> {
    let theme = app.theme;
    if !app.snapshot.enrichment.configured() {
        return Vec::new();
    }
    let e = app.snapshot.enrichment.of(actor.client).cloned().unwrap_or_default();
    let mut place = network_and_country(
        e.org_label().map(|o| sanitize(&o, 50).into_owned()),
        e.country.as_ref().map(|c| match &c.name {
            Some(n) => format!("{} {}", clean(&c.iso), sanitize(n, 40)),
            None => clean(&c.iso),
        }),
    );
    if let Some(c) = &e.city {
        let city: Vec<String> = [&c.name, &c.subdivision]
            .iter()
            .filter_map(|s| s.as_deref().map(|s| sanitize(s, 30).into_owned()))
            .collect();
        let radius = c.accuracy_radius_km.map(|r| format!(" (±{r} km)")).unwrap_or_default();
        if !city.is_empty() {
            place.push(format!("{}{radius}", city.join(", ")));
        }
    }
    let lists: Vec<String> = e
        .lists
        .iter()
        .map(|l| {
            let mut parts = vec![sanitize(&l.name, 30).into_owned()];
            parts.extend(l.service.iter().map(|s| sanitize(s, 30).into_owned()));
            parts.extend(l.region.iter().map(|s| sanitize(s, 20).into_owned()));
            parts.join(" ")
        })
        .collect();
    vec![
        Line::from(vec![Span::styled("where ", theme.dim()), Span::raw(place.join(" · "))]),
        Line::from(vec![
            Span::styled("lists ", theme.dim()),
            Span::raw(if lists.is_empty() {
                "in no range list given".to_owned()
            } else {
                lists.join("; ")
            }),
        ]),
    ]
}

/// One row: the actor's requests in the live feed over its first..last seen span, as a
/// sparkline (what "over time" looks like: a burst, a steady loop, a return).
fn render_activity(app: &App, actor: &ActorSummary, area: Rect, buf: &mut Buffer) {
    const LABEL: u16 = 10;
    if area.width <= LABEL + 4 || area.height == 0 {
        return;
    }
    buf.set_string(area.x, area.y, "activity", app.theme.dim());
    let bars = Rect { x: area.x + LABEL, width: area.width - LABEL, ..area };
    let span_ms = (actor.last_seen - actor.first_seen).num_milliseconds().max(1);
    let mut counts = vec![0u64; usize::from(bars.width)];
    let rows = app.feed.recent_for_client(actor.client, crate::tui::feed::DEFAULT_CAPACITY);
    for r in rows {
        let t = r.event.time();
        if t < actor.first_seen || t > actor.last_seen {
            continue;
        }
        let frac = (t - actor.first_seen).num_milliseconds() as f64 / span_ms as f64;
        let col = ((frac * f64::from(bars.width)) as usize).min(counts.len() - 1);
        counts[col] += 1;
    }
    if counts.iter().all(|&c| c == 0) {
        buf.set_string(bars.x, bars.y, "(no requests in the live feed yet)", app.theme.dim());
        return;
    }
    Sparkline::default().data(counts.as_slice()).style(app.theme.external()).render(bars, buf);
}
