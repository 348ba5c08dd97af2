//! Playbook loading and validation: shipped playbooks, good and broken fixtures.

use std::collections::HashSet;
use std::fmt::Write as _;

use leakline::playbook::load::load_file;
use leakline::playbook::{Library, Platform, PlaybookError, VerifyKind};

use crate::{fixture, root};

#[test]
fn every_shipped_playbook_validates_and_matches_the_embedded_copy() {
    let lib = Library::builtin().expect("built-ins are valid");
    let mut ids = HashSet::new();
    for entry in std::fs::read_dir(root().join("playbooks")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let loaded = load_file(&path).unwrap_or_else(|e| panic!("{e}"));
        let builtin = lib.get(&loaded.playbook.id).expect("shipped file is embedded");
        assert_eq!(
            builtin.source,
            loaded.source,
            "{} differs from the embedded copy",
            path.display()
        );
        ids.insert(loaded.playbook.id.clone());
        for step in &loaded.playbook.steps {
            assert!(!step.why.trim().is_empty() && !step.instructions.trim().is_empty());
        }
    }
    let expected: HashSet<String> = [
        "exposed-api-endpoint",
        "leaked-api-key",
        "public-storage-bucket",
        "model-weights-exfiltration",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(ids, expected);
}

#[test]
fn exposed_api_endpoint_covers_the_response_phases() {
    let lib = Library::builtin().unwrap();
    let p = &lib.get("exposed-api-endpoint").unwrap().playbook;
    assert!(p.steps.len() >= 8, "{} steps", p.steps.len());
    for id in [
        "confirm-exposure",
        "block-ingress",
        "verify-from-outside",
        "preserve-logs",
        "rotate-credentials",
        "scope-access",
        "notify",
        "root-cause",
        "guard-reexposure",
    ] {
        assert!(p.step(id).is_some(), "missing step {id}");
    }
    let platforms: HashSet<Platform> =
        p.steps.iter().flat_map(|s| s.commands.iter().map(|c| c.platform)).collect();
    for platform in [Platform::Aws, Platform::Gcp, Platform::Kubernetes, Platform::Nginx] {
        assert!(platforms.contains(&platform), "no {platform:?} example");
    }
    let block = p.step("block-ingress").unwrap();
    assert_eq!(block.verify.as_ref().unwrap().kind, VerifyKind::ScanClosed);
    assert_eq!(block.requires, vec!["confirm-exposure".to_owned()]);
}

#[test]
fn good_fixture_parses_every_field() {
    let loaded = load_file(&fixture("user/good.toml")).unwrap();
    let p = loaded.playbook;
    assert_eq!(p.id, "test-minimal");
    assert_eq!(p.steps[0].sla_minutes, Some(10));
    assert_eq!(p.steps[0].commands[0].platform, Platform::Aws);
    assert_eq!(p.steps[0].verify.as_ref().unwrap().services, vec!["model-api".to_owned()]);
    assert_eq!(p.steps[1].verify.as_ref().unwrap().kind, VerifyKind::NoExternalFor { secs: 600 });
    assert_eq!(p.steps[1].requires, vec!["cut".to_owned()]);
}

/// Each broken fixture fails with exactly one problem at the expected place.
#[test]
fn broken_fixtures_name_file_line_column_and_problem() {
    let cases = [
        ("unknown-require.toml", 12, 13, "requires unknown step \"nope\""),
        ("cycle.toml", 20, 13, "dependency cycle in requires: a → c → b → a"),
        ("unknown-verify.toml", 12, 19, "unknown verify kind \"port_closed\""),
        ("duplicate-id.toml", 14, 6, "duplicate step id \"a\" (first at line 7)"),
        ("bad-duration.toml", 12, 49, "bad duration \"10 minutes\""),
        ("unknown-field.toml", 12, 1, "unknown field `sla`"),
        ("bad-platform.toml", 15, 12, "unknown variant `openstack`"),
    ];
    for (name, line, column, message) in cases {
        let path = fixture(&format!("broken/{name}"));
        let err = load_file(&path).expect_err(name);
        let PlaybookError::Invalid(problems) = &err else { panic!("{name}: {err}") };
        assert_eq!(problems.len(), 1, "{name}: {err}");
        let p = &problems[0];
        assert_eq!(
            (p.file.as_path(), p.line, p.column),
            (path.as_path(), line, column),
            "{name}: {err}"
        );
        assert!(p.message.contains(message), "{name}: {}", p.message);
        let shown = err.to_string();
        assert!(shown.starts_with(&format!("{}:{line}:{column}: ", path.display())), "{shown}");
    }
}

#[test]
fn several_problems_are_all_reported_in_order() {
    let text = r#"
id = "Bad_Id"
title = ""
summary = "s"
severity = "low"

[[step]]
id = "a"
title = "A"
why = "w"
do = "d"
role = "infra"
sla_minutes = 0
requires = ["a"]
verify = { kind = "window_closed", duration = "5m" }
"#;
    let err =
        leakline::playbook::parse_playbook(std::path::Path::new("inline.toml"), text).unwrap_err();
    let PlaybookError::Invalid(problems) = err else { panic!() };
    let got: Vec<(usize, usize)> = problems.iter().map(|p| (p.line, p.column)).collect();
    assert_eq!(got, vec![(2, 6), (3, 9), (13, 15), (14, 13), (15, 47)], "{problems:#?}");
    assert!(problems[0].message.contains("kebab-case"));
    assert!(problems[2].message.contains("between 1 and"));
    assert!(problems[3].message.contains("requires itself"));
    assert!(problems[4].message.contains("takes no duration"));
}

#[test]
fn missing_duration_and_missing_fields_are_located() {
    let text = "id = \"x\"\ntitle = \"t\"\nsummary = \"s\"\nseverity = \"low\"\n\n[[step]]\nid = \"a\"\ntitle = \"A\"\nwhy = \"w\"\ndo = \"d\"\nrole = \"r\"\nverify = { kind = \"no_external_for\" }\n";
    let err = leakline::playbook::parse_playbook(std::path::Path::new("m.toml"), text).unwrap_err();
    assert_eq!(
        err.to_string(),
        "m.toml:12:19: verify kind \"no_external_for\" needs a duration (e.g. duration = \"10m\")"
    );
    let text =
        "id = \"x\"\ntitle = \"t\"\nsummary = \"s\"\nseverity = \"low\"\n\n[[step]]\nid = \"a\"\n";
    let err = leakline::playbook::parse_playbook(std::path::Path::new("m.toml"), text).unwrap_err();
    let shown = err.to_string();
    assert!(shown.starts_with("m.toml:") && shown.contains("missing field `title`"), "{shown}");
}

#[test]
fn user_directory_adds_and_overrides_playbooks() {
    let lib = Library::load(Some(&fixture("user"))).unwrap();
    assert_eq!(lib.entries().len(), 5);
    assert!(lib.get("test-minimal").is_ok());

    let dir = tempfile::tempdir().unwrap();
    let own =
        std::fs::read_to_string(root().join("playbooks/leaked-api-key.toml")).unwrap().replace(
            "title = \"API key or credential leaked in public\"",
            "title = \"Our own version\"",
        );
    std::fs::write(dir.path().join("mine.toml"), own).unwrap();
    let lib = Library::load(Some(dir.path())).unwrap();
    assert_eq!(lib.entries().len(), 4);
    assert_eq!(lib.get("leaked-api-key").unwrap().playbook.title, "Our own version");

    std::fs::copy(fixture("broken/cycle.toml"), dir.path().join("zz-cycle.toml")).unwrap();
    let err = Library::load(Some(dir.path())).unwrap_err().to_string();
    assert!(err.contains("zz-cycle.toml:20:13: dependency cycle"), "{err}");
}

#[test]
fn two_user_files_with_one_id_are_located() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("user/good.toml"), dir.path().join("a.toml")).unwrap();
    std::fs::copy(fixture("user/good.toml"), dir.path().join("b.toml")).unwrap();
    let err = Library::load(Some(dir.path())).unwrap_err().to_string();
    let expected = format!(
        "{}:2:6: duplicate playbook id \"test-minimal\" (already defined in {})",
        dir.path().join("b.toml").display(),
        dir.path().join("a.toml").display()
    );
    assert_eq!(err, expected);
}

#[test]
fn a_playbook_with_too_many_steps_is_refused_not_walked() {
    let mut text =
        String::from("id = \"long\"\ntitle = \"t\"\nsummary = \"s\"\nseverity = \"low\"\n");
    for i in 0..=200 {
        // Each step requires the next one: a 201-long chain that closes into a cycle.
        let next = (i + 1) % 201;
        let _ = write!(
            text,
            "\n[[step]]\nid = \"s{i}\"\ntitle = \"T\"\nwhy = \"w\"\ndo = \"d\"\nrole = \"r\"\nrequires = [\"s{next}\"]\n"
        );
    }
    let err =
        leakline::playbook::parse_playbook(std::path::Path::new("long.toml"), &text).unwrap_err();
    let shown = err.to_string();
    // Step 201 (index 200) starts at line 5 + 200 * 8 + 2.
    assert_eq!(shown, "long.toml:1607:6: too many steps (201, at most 200)");
}
