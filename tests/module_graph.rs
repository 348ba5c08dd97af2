//! The top-level module graph of `src/` is a DAG, and the engine stays pure.
//!
//! Reads every `src/**/*.rs`, attributes each file to its top-level module (`src/X.rs` and
//! `src/X/**` are `X`; `src/main.rs` and `src/cli/**`, the binary, are `cli`), and collects
//! its references to other top-level modules: `crate::X`, the items of `use crate::{X, …}`,
//! and `leakline::X` (the binary). Comments are skipped; `super::` stays inside a module.
//! Fails naming a cycle (with a `file:line` for each edge) when the graph has one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// module → (module it uses → first `file:line` that uses it)
type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect::<Vec<_>>();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`None` for `lib.rs`).
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    match name {
        "lib" => None,
        "main" => Some("cli".into()),
        _ => Some(name.into()),
    }
}

/// The line without its `//` comment (a `//` inside a string literal is kept).
fn code_of(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut in_str = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
        i += 1;
    }
    line
}

fn ident_at(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// Top-level names referred to by `text` (the whole file, comments removed): `crate::X`,
/// `use crate::{X, Y::…}` and `leakline::X`, each with its 1-based line.
fn references(text: &str) -> Vec<(String, usize)> {
    let code: String = text.lines().map(code_of).collect::<Vec<_>>().join("\n");
    let line_at = |offset: usize| code[..offset].matches('\n').count() + 1;
    let mut out = Vec::new();
    for prefix in ["crate::", "leakline::"] {
        let mut from = 0;
        while let Some(pos) = code[from..].find(prefix) {
            let at = from + pos;
            from = at + prefix.len();
            // `$crate::`, `my_crate::`: not this crate's root.
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let rest = &code[from..];
            if let Some(group) = rest.strip_prefix('{') {
                // `crate::{a, b::c, d::{e, f}}`: the first segment of each depth-0 item.
                let mut depth = 0;
                let mut expect_item = true;
                for (k, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => expect_item = true,
                        c if expect_item && depth == 0 && (c.is_ascii_alphabetic() || c == '_') => {
                            out.push((ident_at(&group[k..]).to_string(), line_at(from + 1 + k)));
                            expect_item = false;
                        }
                        _ => {}
                    }
                }
            } else {
                let name = ident_at(rest);
                if !name.is_empty() {
                    out.push((name.to_string(), line_at(at)));
                }
            }
        }
    }
    out
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> =
        files.iter().filter_map(|f| module_of(f.strip_prefix(&src).unwrap())).collect();
    let mut graph = Graph::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let Some(from) = module_of(rel) else { continue };
        let edges = graph.entry(from.clone()).or_default();
        let text = std::fs::read_to_string(file).unwrap();
        for (to, line) in references(&text) {
            if to != from && modules.contains(&to) {
                edges.entry(to).or_insert_with(|| format!("src/{}:{line}", rel.display()));
            }
        }
    }
    graph
}

/// A cycle of `graph` as a path `a → b → … → a`, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        graph: &Graph,
        node: &str,
        state: &mut BTreeMap<String, bool>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(true) => return None,
            Some(false) => {
                let start = stack.iter().position(|n| n == node).unwrap();
                let mut cycle = stack[start..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            None => {}
        }
        state.insert(node.to_string(), false);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flat_map(BTreeMap::keys) {
            if let Some(cycle) = visit(graph, next, state, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        state.insert(node.to_string(), true);
        None
    }
    let mut state = BTreeMap::new();
    graph.keys().find_map(|n| visit(graph, n, &mut state, &mut Vec::new()))
}

fn describe(graph: &Graph, cycle: &[String]) -> String {
    let mut out = cycle.join(" → ");
    for pair in cycle.windows(2) {
        let _ = write!(out, "\n  {} → {}: {}", pair[0], pair[1], graph[&pair[0]][&pair[1]]);
    }
    out
}

fn edges_of(graph: &Graph, module: &str) -> BTreeSet<String> {
    graph.get(module).map(|e| e.keys().cloned().collect()).unwrap_or_default()
}

#[test]
fn top_level_modules_form_a_dag() {
    let graph = graph();
    assert!(graph.len() >= 10, "too few modules found: {graph:?}");
    // The graph as it is, for the record (`-- --nocapture`).
    for (module, edges) in &graph {
        let names: Vec<&str> = edges.keys().map(String::as_str).collect();
        println!("{module} → {}", names.join(", "));
    }
    if let Some(cycle) = find_cycle(&graph) {
        panic!("the top-level module graph has a cycle: {}", describe(&graph, &cycle));
    }
}

#[test]
fn the_engine_and_redaction_depend_on_model_only() {
    let graph = graph();
    let model: BTreeSet<String> = ["model".to_string()].into();
    for module in ["correlate", "redact"] {
        assert!(graph.contains_key(module), "no module `{module}` under src/");
        assert_eq!(edges_of(&graph, module), model, "`{module}` uses: {:?}", graph.get(module));
    }
    assert!(edges_of(&graph, "model").is_empty(), "`model` uses: {:?}", graph.get("model"));
}

#[test]
fn the_shells_use_the_engine_not_the_other_way_round() {
    let graph = graph();
    for shell in ["batch", "follow"] {
        assert!(edges_of(&graph, shell).contains("correlate"), "`{shell}` drives the correlator");
        for module in graph.keys() {
            assert!(
                !edges_of(&graph, module).contains(shell) || ["cli", "tui"].contains(&&**module),
                "`{module}` uses the shell `{shell}`: {}",
                graph[module][shell]
            );
        }
    }
}

#[test]
fn references_and_cycles_are_found() {
    let text = "use crate::{alpha, beta::X, gamma::{a, b}};\n\
                // crate::commented\n\
                let s = \"http://x\"; crate::delta::f();\n\
                $crate::macro_only; leakline::epsilon::g();";
    let names: Vec<String> = references(text).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["alpha", "beta", "gamma", "delta", "epsilon"]);
    assert_eq!(references(text)[3].1, 3, "line of `crate::delta`");

    let mut graph = Graph::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("a", "c")] {
        graph.entry(a.into()).or_default().insert(b.into(), format!("{a}.rs:1"));
    }
    assert_eq!(find_cycle(&graph), None);
    graph.entry("c".into()).or_default().insert("a".into(), "c.rs:9".into());
    let cycle = find_cycle(&graph).expect("c → a closes a cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert!(describe(&graph, &cycle).contains("c → a: c.rs:9"), "{}", describe(&graph, &cycle));
}
