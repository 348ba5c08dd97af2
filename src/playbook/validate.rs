//! Semantic checks on a parsed playbook: ids, required text, SLAs, `requires` references and
//! cycles, verify conditions. Every problem found is reported (not just the first), each at
//! the line and column of the offending value.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use toml::Spanned;

use super::load::{RawPlaybook, RawStep, RawVerify, problem_at};
use super::{CommandExample, Playbook, Problem, Step, VerifyKind, VerifySpec, parse_duration};

/// Most steps a playbook may have (a checklist longer than this is not usable at 3 AM, and
/// the bound keeps the dependency walk shallow).
pub const MAX_STEPS: usize = 200;

/// Largest accepted `sla_minutes` (30 days).
pub const MAX_SLA_MINUTES: i64 = 30 * 24 * 60;

struct Checker<'a> {
    file: &'a Path,
    text: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn report(&mut self, offset: usize, message: String) {
        self.problems.push(problem_at(self.file, self.text, offset, message));
    }

    /// A kebab-case identifier: lower-case ASCII letters and digits in `-`-separated groups.
    fn id(&mut self, what: &str, id: &Spanned<String>) {
        let s = id.get_ref();
        let ok = !s.is_empty()
            && s.split('-').all(|part| {
                !part.is_empty()
                    && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            });
        if !ok {
            self.report(
                id.span().start,
                format!("{what} \"{s}\" must be kebab-case (a-z, 0-9, single dashes)"),
            );
        }
    }

    fn text(&mut self, what: &str, value: &Spanned<String>) {
        if value.get_ref().trim().is_empty() {
            self.report(value.span().start, format!("{what} must not be empty"));
        }
    }
}

/// Validate a raw playbook into a [`Playbook`], or every problem found.
pub(crate) fn validate(
    file: &Path,
    text: &str,
    raw: RawPlaybook,
) -> Result<Playbook, Vec<Problem>> {
    let mut c = Checker { file, text, problems: Vec::new() };
    c.id("playbook id", &raw.id);
    c.text("title", &raw.title);
    c.text("summary", &raw.summary);
    if raw.step.is_empty() {
        c.report(raw.id.span().start, "a playbook needs at least one [[step]]".to_owned());
    }
    if raw.step.len() > MAX_STEPS {
        c.report(
            raw.step[MAX_STEPS].id.span().start,
            format!("too many steps ({}, at most {MAX_STEPS})", raw.step.len()),
        );
        c.problems.sort_by_key(|p| (p.line, p.column));
        return Err(c.problems);
    }

    // Step ids: kebab-case and unique. Remember the first definition for references.
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for (index, step) in raw.step.iter().enumerate() {
        c.id("step id", &step.id);
        let id = step.id.get_ref();
        if let Some(&first) = ids.get(id) {
            let (line, _) = super::load::line_column(text, raw.step[first].id.span().start);
            c.report(
                step.id.span().start,
                format!("duplicate step id \"{id}\" (first at line {line})"),
            );
        } else {
            ids.insert(id.clone(), index);
        }
    }

    let mut steps = Vec::with_capacity(raw.step.len());
    for step in &raw.step {
        steps.push(check_step(&mut c, step, &ids));
    }
    check_cycles(&mut c, &raw.step, &ids);

    if c.problems.is_empty() {
        Ok(Playbook {
            id: raw.id.into_inner(),
            title: raw.title.into_inner(),
            summary: raw.summary.into_inner(),
            severity: raw.severity.into_inner(),
            steps,
        })
    } else {
        c.problems.sort_by_key(|p| (p.line, p.column));
        Err(c.problems)
    }
}

fn check_step(c: &mut Checker<'_>, step: &RawStep, ids: &BTreeMap<String, usize>) -> Step {
    let id = step.id.get_ref();
    c.text("title", &step.title);
    c.text("why", &step.why);
    c.text("do", &step.instructions);
    c.text("role", &step.role);
    let mut commands = Vec::with_capacity(step.commands.len());
    for cmd in &step.commands {
        c.text("command label", &cmd.label);
        c.text("command", &cmd.command);
        commands.push(CommandExample {
            label: cmd.label.get_ref().clone(),
            platform: cmd.platform,
            command: cmd.command.get_ref().clone(),
        });
    }
    let sla_minutes = step.sla_minutes.as_ref().and_then(|sla| {
        let v = *sla.get_ref();
        if (1..=MAX_SLA_MINUTES).contains(&v) {
            u32::try_from(v).ok()
        } else {
            c.report(
                sla.span().start,
                format!("sla_minutes must be between 1 and {MAX_SLA_MINUTES}, got {v}"),
            );
            None
        }
    });
    let mut seen = HashSet::new();
    for req in &step.requires {
        let r = req.get_ref();
        if r == id {
            c.report(req.span().start, format!("dependency cycle: step \"{id}\" requires itself"));
        } else if !ids.contains_key(r) {
            c.report(req.span().start, format!("step \"{id}\" requires unknown step \"{r}\""));
        } else if !seen.insert(r.as_str()) {
            c.report(req.span().start, format!("step \"{id}\" lists \"{r}\" twice in requires"));
        }
    }
    Step {
        id: id.clone(),
        title: step.title.get_ref().clone(),
        why: step.why.get_ref().clone(),
        instructions: step.instructions.get_ref().clone(),
        commands,
        role: step.role.get_ref().clone(),
        sla_minutes,
        requires: step.requires.iter().map(|r| r.get_ref().clone()).collect(),
        verify: step.verify.as_ref().and_then(|v| check_verify(c, v)),
    }
}

fn check_verify(c: &mut Checker<'_>, v: &RawVerify) -> Option<VerifySpec> {
    let kind_name = v.kind.get_ref().as_str();
    let template = VerifyKind::from_name(kind_name);
    let needs_duration = template.is_some_and(VerifyKind::takes_duration);
    let secs = match (&v.duration, needs_duration) {
        (Some(d), true) => match parse_duration(d.get_ref()) {
            Ok(secs) => Some(secs),
            Err(msg) => {
                c.report(d.span().start, msg);
                None
            }
        },
        (None, true) => {
            c.report(
                v.kind.span().start,
                format!("verify kind \"{kind_name}\" needs a duration (e.g. duration = \"10m\")"),
            );
            None
        }
        (Some(d), false) => {
            if template.is_some() {
                c.report(d.span().start, format!("verify kind \"{kind_name}\" takes no duration"));
            }
            None
        }
        (None, false) => None,
    };
    let kind = match template {
        Some(t) if t.takes_duration() => secs.map(|secs| t.with_duration(secs)),
        Some(t) => Some(t),
        None => {
            c.report(
                v.kind.span().start,
                format!(
                    "unknown verify kind \"{kind_name}\" (expected one of: {})",
                    VerifyKind::names()
                ),
            );
            None
        }
    };
    let mut services = Vec::with_capacity(v.services.len());
    for s in &v.services {
        if s.get_ref().trim().is_empty() {
            c.report(s.span().start, "service name must not be empty".to_owned());
        } else if services.contains(s.get_ref()) {
            c.report(s.span().start, format!("service \"{}\" listed twice", s.get_ref()));
        } else {
            services.push(s.get_ref().clone());
        }
    }
    kind.map(|kind| VerifySpec { kind, services })
}

/// Report each dependency cycle once, at the `requires` entry that closes it, with the path.
fn check_cycles(c: &mut Checker<'_>, steps: &[RawStep], ids: &BTreeMap<String, usize>) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    fn visit(
        node: usize,
        steps: &[RawStep],
        ids: &BTreeMap<String, usize>,
        marks: &mut [Mark],
        path: &mut Vec<usize>,
        found: &mut Vec<(usize, String)>,
    ) {
        marks[node] = Mark::OnPath;
        path.push(node);
        for req in &steps[node].requires {
            let Some(&next) = ids.get(req.get_ref()) else { continue };
            if next == node {
                continue; // self-requirement is reported by check_step
            }
            match marks[next] {
                Mark::OnPath => {
                    let start = path.iter().position(|&n| n == next).unwrap_or(0);
                    let mut names: Vec<&str> =
                        path[start..].iter().map(|&n| steps[n].id.get_ref().as_str()).collect();
                    names.push(steps[next].id.get_ref());
                    found.push((req.span().start, names.join(" → ")));
                }
                Mark::New => visit(next, steps, ids, marks, path, found),
                Mark::Done => {}
            }
        }
        path.pop();
        marks[node] = Mark::Done;
    }
    let mut marks = vec![Mark::New; steps.len()];
    let mut found = Vec::new();
    for node in 0..steps.len() {
        // Only the first definition of a duplicated id takes part in the graph.
        if marks[node] == Mark::New && ids.get(steps[node].id.get_ref()) == Some(&node) {
            visit(node, steps, ids, &mut marks, &mut Vec::new(), &mut found);
        }
    }
    for (offset, cycle) in found {
        c.report(offset, format!("dependency cycle in requires: {cycle}"));
    }
}
