//! Report tests: golden snapshots of each format, hostile inputs proving the outputs are inert
//! and redacted, and atomic-write failures leaving nothing behind.

#[path = "fixtures/report/build.rs"]
mod build;

use build::{CALM, HOSTILE, SECRETS, case, hostile_case, snapshot, t};
use leakline::model::Snapshot;
use leakline::report::analysis::Analysis;
use leakline::report::{
    self, CaseSection, Format, Redaction, Redactor, ReportInput, ReportModel, SecretKind,
};
use sha2::Digest as _;

fn model(snap: &Snapshot, case: Option<&CaseSection>, redaction: Redaction) -> ReportModel {
    ReportModel::build(&ReportInput {
        snapshot: snap,
        case,
        generated_at: t(14, 0, 0),
        version: "0.1.0",
        redaction,
        top_actors: 10,
    })
}

fn render(m: &ReportModel, f: Format) -> String {
    let mut out = Vec::new();
    report::write(m, f, &mut out).expect("write to a Vec");
    String::from_utf8(out).expect("reports are UTF-8")
}

macro_rules! golden {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ snapshot_path => "fixtures/report/snapshots", prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[test]
fn golden_markdown() {
    let c = case();
    golden!(
        "report_md",
        render(
            &model(&snapshot(&CALM), Some(&c), Redaction::Enabled(Redactor::new())),
            Format::Markdown
        )
    );
}

#[test]
fn golden_json() {
    let c = case();
    golden!(
        "report_json",
        render(
            &model(&snapshot(&CALM), Some(&c), Redaction::Enabled(Redactor::new())),
            Format::Json
        )
    );
}

#[test]
fn golden_html() {
    let c = case();
    golden!(
        "report_html",
        render(
            &model(&snapshot(&CALM), Some(&c), Redaction::Enabled(Redactor::new())),
            Format::Html
        )
    );
}

#[test]
fn golden_markdown_hostile() {
    golden!(
        "hostile_md",
        render(&hostile_model(Redaction::Enabled(Redactor::new())), Format::Markdown)
    );
}

#[test]
fn golden_markdown_without_case() {
    golden!(
        "analyze_md",
        render(
            &model(&snapshot(&CALM), None, Redaction::Enabled(Redactor::new())),
            Format::Markdown
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile inputs.

/// Remove `CommonMark` code spans (a backtick run, then the next run of the same length) and
/// backslash escapes, leaving only the text a Markdown renderer would interpret.
fn strip_code_spans(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => i += 2,
            '`' => {
                let mut n = 0;
                while i + n < chars.len() && chars[i + n] == '`' {
                    n += 1;
                }
                let mut j = i + n;
                let mut close = None;
                while j < chars.len() {
                    if chars[j] == '`' {
                        let mut m = 0;
                        while j + m < chars.len() && chars[j + m] == '`' {
                            m += 1;
                        }
                        if m == n {
                            close = Some(j + m);
                            break;
                        }
                        j += m;
                    } else {
                        j += 1;
                    }
                }
                if let Some(end) = close {
                    i = end;
                } else {
                    out.push_str(&"`".repeat(n));
                    i += n;
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Cell separators in a GFM table row: `|` not escaped (GFM reads `\\x` as one token first).
fn cell_pipes(line: &str) -> usize {
    let mut n = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '|' => n += 1,
            _ => {}
        }
    }
    n
}

fn hostile_model(redaction: Redaction) -> ReportModel {
    let c = hostile_case();
    model(&snapshot(&HOSTILE), Some(&c), redaction)
}

fn assert_no_terminal_bytes(out: &str, what: &str) {
    for bad in ['\u{1b}', '\u{7}', '\u{0}', '\r', '\u{202E}', '\u{9b}'] {
        assert!(!out.contains(bad), "{what} contains {bad:?}");
    }
}

#[test]
fn hostile_markdown_is_inert() {
    let md = render(&hostile_model(Redaction::Enabled(Redactor::new())), Format::Markdown);
    assert_no_terminal_bytes(&md, "markdown");
    let mut header_pipes = None;
    for line in md.lines() {
        let outside = strip_code_spans(line);
        // Escaped text (`\<img`) is inert; what matters is what is left unescaped.
        for bad in ["<", "javascript:", "](", "![", "evil.example"] {
            assert!(!outside.contains(bad), "{bad:?} outside code spans in line: {line}");
        }
        if line.starts_with('|') {
            let n = cell_pipes(line);
            let expected = *header_pipes.get_or_insert(n);
            assert_eq!(n, expected, "table row breaks its table: {line}");
        } else {
            header_pipes = None;
            assert!(!line.starts_with("# heading"), "injected heading: {line}");
        }
    }
    // The hostile strings are still shown, as code.
    assert!(md.contains("<script>alert(1)</script>"), "attacker path missing");
    assert!(md.contains("[REDACTED:param:"));
}

#[test]
fn hostile_html_is_inert() {
    let html = render(&hostile_model(Redaction::Enabled(Redactor::new())), Format::Html);
    assert_no_terminal_bytes(&html, "html");
    let doc = scraper::Html::parse_document(&html);
    let all = scraper::Selector::parse("*").expect("selector");
    let forbidden_elements = [
        "script",
        "img",
        "iframe",
        "object",
        "embed",
        "link",
        "base",
        "form",
        "a",
        "b",
        "image",
        "use",
        "foreignobject",
        "animate",
        "set",
        "audio",
        "video",
        "source",
    ];
    let forbidden_attrs =
        ["href", "src", "srcset", "xlink:href", "action", "formaction", "style", "background"];
    let mut elements = 0;
    for el in doc.select(&all) {
        elements += 1;
        let name = el.value().name().to_ascii_lowercase();
        assert!(!forbidden_elements.contains(&name.as_str()), "element <{name}> present");
        for (attr, value) in el.value().attrs() {
            let attr = attr.to_ascii_lowercase();
            assert!(!attr.starts_with("on"), "event handler attribute {attr} on <{name}>");
            assert!(!forbidden_attrs.contains(&attr.as_str()), "attribute {attr} on <{name}>");
            for bad in ["alert(", "javascript", "evil", "script", "REDACTED", "<"] {
                assert!(!value.contains(bad), "attacker text in {attr}={value:?} on <{name}>");
            }
        }
    }
    assert!(elements > 100, "the document parsed into a real tree");
    let csp = scraper::Selector::parse(r#"meta[http-equiv="Content-Security-Policy"]"#)
        .expect("selector");
    let meta = doc.select(&csp).next().expect("CSP meta present");
    assert_eq!(meta.value().attr("content"), Some(report::html::CSP));
    let csp_at = html.find("Content-Security-Policy").expect("csp");
    assert!(csp_at < html.find("<style>").expect("style"), "CSP must precede the styles");
    // Attacker markup is visible as text.
    let body_text: String = doc.root_element().text().collect();
    assert!(body_text.contains("<script>alert(1)</script>"));
    assert!(body_text.contains("<img src=x onerror=alert(1)>"));
    assert!(body_text.contains("<b>evil</b>:80"));
}

fn all_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| all_strings(x, out)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            all_strings(x, out);
        }),
        _ => {}
    }
}

#[test]
fn every_format_is_redacted_and_counts_each_kind() {
    let m = hostile_model(Redaction::Enabled(Redactor::new()));
    for kind in SecretKind::ALL {
        assert!(m.redaction.counts.0.get(&kind).copied().unwrap_or(0) >= 1, "{kind:?} not counted");
    }
    for f in [Format::Markdown, Format::Json, Format::Html] {
        let out = render(&m, f);
        for secret in SECRETS {
            assert!(!out.contains(secret), "{secret} leaked in {f:?}");
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&render(&m, Format::Json)).expect("valid JSON");
    assert_eq!(json["redaction"]["enabled"], true);
    assert_eq!(json["redaction"]["total"], m.redaction.counts.total());
    let mut strings = Vec::new();
    all_strings(&json, &mut strings);
    assert!(
        strings.iter().any(|s| s.contains("<script>alert(1)</script>?api_key=[REDACTED:param:"))
    );
}

#[test]
fn no_redact_keeps_secrets_and_says_so() {
    let m = hostile_model(Redaction::Disabled);
    assert!(!m.redaction.enabled);
    let md = render(&m, Format::Markdown);
    assert!(md.contains("K3YVALUE9") && md.contains("redaction **off**"));
    let html = render(&m, Format::Html);
    assert!(html.contains("redaction off") && html.contains("AKIAIOSFODNN7EXAMPLE"));
    let json: serde_json::Value =
        serde_json::from_str(&render(&m, Format::Json)).expect("valid JSON");
    assert_eq!(json["redaction"]["enabled"], false);
}

#[test]
fn redact_snapshot_covers_every_attacker_string() {
    let mut snap = snapshot(&HOSTILE);
    let counts = report::redact_snapshot(&Redactor::new(), &mut snap);
    assert!(counts.total() >= 6);
    let text = serde_json::to_string(&snap).expect("serialize");
    for secret in SECRETS.iter().take(7) {
        assert!(!text.contains(secret), "{secret} left in the snapshot");
    }
    // Same secret, same marker: the UA of the first hit and of the actor.
    let ua = snap.services[0].windows[0].first_external.as_ref().map(|h| h.user_agent.clone());
    assert_eq!(ua, Some(snap.actors[1].user_agents[0].0.clone()));
}

// ---------------------------------------------------------------------------------------------
// Structure and determinism.

/// The tables both writers lay out are built once in the model: the sensitive rules come
/// before the requested paths (a path matching a rule carries its label), the actors stop at
/// the model's `top_actors`, and a still-open window has no closing bounds.
#[test]
fn report_tables_are_built_once_in_the_model() {
    let snap = snapshot(&CALM);
    let mut m = model(&snap, None, Redaction::Disabled);
    m.top_actors = 2;
    let t = m.tables();
    assert_eq!(t.services.len(), snap.services.len());
    assert_eq!(t.sources.len(), snap.sources.len());
    let windows: Vec<_> = t.services.iter().flat_map(|s| &s.windows).collect();
    let closed = windows.iter().find(|w| !w.served.is_empty()).expect("a window served paths");
    let kinds: Vec<(bool, Option<&str>)> = closed
        .served
        .iter()
        .map(|r| (matches!(r.kind, report::Served::Rule { .. }), r.label))
        .collect();
    assert_eq!(
        kinds,
        [(true, Some("chat API")), (false, None), (false, Some("chat API"))],
        "rules first, then paths (labelled when a rule matches)"
    );
    assert!(closed.closed.is_some() && closed.number == 1);
    assert!(windows.iter().any(|w| w.closed.is_none() && w.most_secs.is_none()));
    assert_eq!(t.actors.rows.len(), 2);
    assert_eq!(t.actors.total, snap.actors_total());
    assert_eq!(t.actors.listed, snap.actors.len());
    let md = render(&m, Format::Markdown);
    assert!(md.contains(&format!("## Actors (top 2 of {} by bytes)", snap.actors.len())), "{md}");
}

/// `leakline.report/1` is `leakline.analysis/1` of the same snapshot (under its own schema
/// and the case's name), key for key and in the same order, followed by the case's parts:
/// the report extends the analysis and never restates it.
#[test]
fn json_report_is_the_analysis_document_extended() {
    let c = case();
    for (snap, case) in [(snapshot(&CALM), Some(&c)), (snapshot(&HOSTILE), None)] {
        let m = model(&snap, case, Redaction::Enabled(Redactor::new()));
        let out = render(&m, Format::Json);
        let analysis = Analysis::build(&m.snapshot, m.generated_at).with_redaction(&m.redaction);
        let mut expected = serde_json::to_value(&analysis).expect("serialize");
        expected["schema"] = "leakline.report/1".into();
        expected["case"]["name"] = m.case_name.as_str().into();
        let report: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        let expected = expected.as_object().expect("an object");
        for (k, v) in expected {
            assert_eq!(&report[k], v, "{k}");
        }
        let pretty = serde_json::to_string_pretty(&analysis).expect("serialize");
        let wire_order = top_level_keys(&pretty);
        assert_eq!(wire_order.len(), expected.len());
        assert_eq!(&top_level_keys(&out)[..wire_order.len()], wire_order.as_slice());
    }
}

/// The top-level keys of a pretty JSON object, in the order written.
fn top_level_keys(pretty: &str) -> Vec<&str> {
    pretty
        .lines()
        .filter_map(|l| l.strip_prefix("  \"")?.split_once("\":").map(|(k, _)| k))
        .collect()
}

#[test]
fn json_keeps_the_analysis_shape_then_the_case() {
    let c = case();
    let out = render(
        &model(&snapshot(&CALM), Some(&c), Redaction::Enabled(Redactor::new())),
        Format::Json,
    );
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    // serde_json's map sorts keys; the order on the wire is read from the pretty text.
    let keys: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("  \"")?.split_once("\":").map(|(k, _)| k))
        .collect();
    assert_eq!(
        keys,
        [
            "schema",
            "case",
            "generated_at",
            "as_of",
            "coverage",
            "duplicates",
            "sources",
            "services",
            "actors",
            "actors_total",
            "actors_listed",
            "actor_groups",
            "gaps",
            "stats",
            "redaction",
            "enrichment",
            "playbook",
            "notes",
            "journal_head",
            "key_moments",
            "leakline_version",
            "case_status",
            "evidence",
            "journal_verification",
            "journal"
        ]
    );
    let w = &v["services"][0]["windows"][0];
    assert_eq!(w["opened_earliest"], "2026-11-03T11:00:09Z");
    assert_eq!(w["closed_latest"], "2026-11-03T12:40:09Z");
    assert_eq!(w["external_bytes"], 21_800_321);
    assert_eq!(w["first_non_scanner_success"]["client"], "198.51.100.201");
    assert_eq!(v["services"][2]["windows"][0]["opened_earliest"], serde_json::Value::Null);
    assert_eq!(v["playbook"]["steps"][1]["state"], "skipped");
    assert_eq!(v["journal_head"]["records"], 14);
}

#[test]
fn reports_are_deterministic_and_case_sections_optional() {
    let c = case();
    let snap = snapshot(&CALM);
    for f in [Format::Markdown, Format::Json, Format::Html] {
        let a = render(&model(&snap, Some(&c), Redaction::Enabled(Redactor::new())), f);
        let b = render(&model(&snap, Some(&c), Redaction::Enabled(Redactor::new())), f);
        assert_eq!(a, b, "{f:?} not deterministic");
        let without = render(&model(&snap, None, Redaction::Enabled(Redactor::new())), f);
        assert!(!without.contains("Playbook record"), "{f:?} shows a playbook without a case");
    }
    let md = render(&model(&snap, Some(&c), Redaction::Enabled(Redactor::new())), Format::Markdown);
    let order = [
        "## Summary",
        "## Services",
        "## Key moments",
        "## Actors",
        "## Playbook record",
        "## Evidence",
        "## Method",
        "## Integrity",
    ];
    let positions: Vec<usize> = order.iter().map(|h| md.find(h).expect(h)).collect();
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "sections out of order");
}

#[test]
fn empty_snapshot_renders_everywhere() {
    let snap = Snapshot::default();
    for f in [Format::Markdown, Format::Json, Format::Html] {
        let out = render(&model(&snap, None, Redaction::Enabled(Redactor::new())), f);
        assert!(!out.is_empty());
    }
    // Nothing read: never an all-clear.
    let md = render(&model(&snap, None, Redaction::Disabled), Format::Markdown);
    assert!(md.contains("No evidence was read"), "{md}");
    assert!(md.contains("Exposure unknown") && !md.contains("no exposure observed"), "{md}");
    assert!(!md.contains("1970"), "{md}");
}

// ---------------------------------------------------------------------------------------------
// Atomic export.

fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn export_writes_the_same_bytes_and_hash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let m = model(&snapshot(&CALM), None, Redaction::Enabled(Redactor::new()));
    let path = dir.path().join("report.html");
    let written = report::export(&m, Format::Html, &path).expect("export");
    let on_disk = std::fs::read(&path).expect("read back");
    assert_eq!(on_disk, render(&m, Format::Html).into_bytes());
    assert_eq!(written.bytes, on_disk.len() as u64);
    assert_eq!(written.sha256, hex::encode(sha2::Sha256::digest(&on_disk)));
    assert_eq!(listing(dir.path()), ["report.html"]);
}

#[test]
fn export_all_writes_three_files_with_their_hashes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let m = model(&snapshot(&CALM), None, Redaction::Enabled(Redactor::new()));
    let written = report::export_all(&m, dir.path(), "report").expect("export");
    assert_eq!(listing(dir.path()), ["report.html", "report.json", "report.md"]);
    for w in &written {
        let bytes = std::fs::read(&w.path).expect("read back");
        assert_eq!(w.sha256, hex::encode(sha2::Sha256::digest(&bytes)));
    }
}

#[test]
fn export_failure_leaves_nothing_and_names_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let m = model(&snapshot(&CALM), None, Redaction::Enabled(Redactor::new()));
    // A parent that is a regular file: fails even for root.
    std::fs::write(dir.path().join("not-a-dir"), "x").expect("file");
    let path = dir.path().join("not-a-dir").join("report.md");
    let err = report::export(&m, Format::Markdown, &path).expect_err("must fail");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("temporary file"), "{msg}");
    assert_eq!(listing(dir.path()), ["not-a-dir"]);
    // A destination that is a non-empty directory: the rename fails, the temp file goes.
    let target = dir.path().join("out.json");
    std::fs::create_dir(&target).expect("dir");
    std::fs::write(target.join("keep"), "x").expect("file");
    let err = report::export(&m, Format::Json, &target).expect_err("must fail");
    assert!(err.to_string().contains("out.json") && err.to_string().contains("move"), "{err}");
    assert_eq!(listing(dir.path()), ["not-a-dir", "out.json"]);
    assert_eq!(listing(&target), ["keep"]);
}

// ---------------------------------------------------------------------------------------------
// Properties of the escapers and the redactor over arbitrary text.

proptest::proptest! {
    #[test]
    fn escapers_are_inert_on_any_text(s in r#"[a-z<>&"'`|\\\[\]()!:/?=#*_ \n\r\t\x00-\x1f\x7f\x{202E}\x{85}é]{0,40}"#) {
        let h = report::escape::html(&s);
        proptest::prop_assert!(!h.contains(['<', '>', '"', '\'']));
        proptest::prop_assert!(!h.chars().any(char::is_control));
        for ctx in [report::escape::MdContext::Prose, report::escape::MdContext::TableCell] {
            let code = report::escape::md_code(&s, ctx);
            proptest::prop_assert!(!code.chars().any(char::is_control));
            let outside = strip_code_spans(&code);
            proptest::prop_assert!(outside.is_empty() || outside == "—", "{code:?} leaves {outside:?}");
            if ctx == report::escape::MdContext::TableCell {
                proptest::prop_assert_eq!(cell_pipes(&code), 0, "{:?}", code);
            }
        }
        let text = report::escape::md_text(&s);
        proptest::prop_assert_eq!(cell_pipes(&text), 0);
        proptest::prop_assert!(!strip_code_spans(&text).contains("]("));
    }

    #[test]
    fn redaction_is_idempotent_on_any_text_regression(s in proptest::strategy::Just("://token=?&@".to_owned())) {
        // Found by the property below: a marker that replaced `?` must not turn the rest of
        // the authority into "credentials" on a second pass.
        let r = Redactor::new();
        let once = r.redact(&s, &mut report::RedactionCounts::default()).into_owned();
        let twice = r.redact(&once, &mut report::RedactionCounts::default()).into_owned();
        proptest::prop_assert_eq!(once, twice);
    }

    #[test]
    fn redaction_is_idempotent_on_any_text(s in "(token=|Bearer |AKIA|sk-|eyJ|://|@|[A-Za-z0-9_.=/?&:-]){0,30}") {
        let r = Redactor::new();
        let mut c = report::RedactionCounts::default();
        let once = r.redact(&s, &mut c).into_owned();
        let mut c2 = report::RedactionCounts::default();
        let twice = r.redact(&once, &mut c2).into_owned();
        proptest::prop_assert_eq!(&once, &twice);
        proptest::prop_assert_eq!(c2.total(), 0);
    }

    #[test]
    fn any_times_and_rates_render_without_panicking(
        times in proptest::collection::vec(-8_000_000_000_000i64..8_000_000_000_000, 6),
        bucket in proptest::prop_oneof![proptest::strategy::Just(0u32), 1u32..100_000, proptest::strategy::Just(u32::MAX)],
        rate in proptest::collection::vec(0u64..u64::MAX, 0..40),
        open in proptest::bool::ANY,
        big in proptest::prop_oneof![proptest::strategy::Just(u64::MAX), 0u64..u64::MAX],
    ) {
        let at = |i: usize| chrono::DateTime::from_timestamp(times[i], 0).unwrap_or_default();
        let mut snap = snapshot(&CALM);
        snap.as_of = at(0);
        snap.rate.start = Some(at(1));
        snap.rate.bucket_secs = bucket;
        snap.rate.external.clone_from(&rate);
        snap.rate.internal = rate.iter().rev().copied().collect();
        let w = &mut snap.services[0].windows[0];
        w.opened_earliest = Some(at(2));
        w.opened_latest = at(3);
        w.closed_earliest = at(4);
        w.closed_latest = if open { None } else { Some(at(5)) };
        snap.services[0].scans[0].time = at(5);
        for svc in &mut snap.services {
            svc.external_bytes = big;
            svc.external_requests = big;
            svc.external_successes = big;
        }
        let m = model(&snap, Some(&case()), Redaction::Enabled(Redactor::new()));
        for f in [Format::Markdown, Format::Json, Format::Html] {
            let out = render(&m, f);
            proptest::prop_assert!(!out.is_empty());
        }
    }
}
