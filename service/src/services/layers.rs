//! The rules of the tree, checked on its source text (tests only):
//!
//! - the service modules import no cycle: a module (and, inside `results`,
//!   `remediation`, `webhooks`, `lifecycle`, each file) calls only downward;
//! - the subtree of a unit in SQL is written in `scope` only (`path LIKE`, `starts_with`
//!   on a path column);
//! - a status is named as a literal in `entity::status` only (no `'finalized'` in SQL, no
//!   `== "open"` in Rust).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn services_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/services")
}

/// Every `.rs` file under `dir`, as (module path relative to `services`, source).
fn modules(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("services directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if path.is_dir() {
            let module = format!("{prefix}{name}");
            modules(&path, &format!("{module}::"), out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let module = if name == "mod" {
                prefix.trim_end_matches("::").to_string()
            } else {
                format!("{prefix}{name}")
            };
            if module.is_empty() || module == "layers" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            out.insert(module, text);
        }
    }
}

/// The code of a file without its comments and its test module.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module paths a file names: `super::x::y`, `crate::services::x::y`, and the names
/// of `super::{a, b}`.
fn imports(module: &str, is_dir_module: bool, text: &str) -> BTreeSet<String> {
    let parent: Vec<&str> = if is_dir_module {
        module.split("::").collect()
    } else {
        let mut p: Vec<&str> = module.split("::").collect();
        p.pop();
        p
    };
    let mut out = BTreeSet::new();
    let mut push = |base: &[&str], rest: &str| {
        let mut parts: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        parts.extend(
            rest.split("::")
                .take_while(|s| {
                    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                })
                .map(str::to_string),
        );
        out.insert(parts.join("::"));
    };
    for (marker, base) in [
        ("crate::services::", Vec::new()),
        ("super::", parent.clone()),
    ] {
        let mut rest = text;
        while let Some(i) = rest.find(marker) {
            let before = rest[..i].chars().last();
            rest = &rest[i + marker.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(0);
                for name in group[..end].split(',') {
                    let name = name.trim().split("::").next().unwrap_or_default();
                    push(&base, name);
                }
            } else {
                push(&base, rest);
            }
        }
    }
    out
}

/// The longest known module that is a prefix of `path`.
fn resolve(path: &str, known: &BTreeMap<String, String>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|k| parts[..k].join("::"))
        .find(|candidate| known.contains_key(candidate))
}

/// A cycle of the graph, if it has one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = stack.iter().position(|n| n == node).unwrap_or(0);
                let mut found = stack[start..].to_vec();
                found.push(node.to_string());
                return Some(found);
            }
            None => {}
        }
        marks.insert(node.to_string(), Mark::Open);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, marks, stack) {
                return Some(c);
            }
        }
        stack.pop();
        marks.insert(node.to_string(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if let Some(c) = visit(node, graph, &mut marks, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

#[test]
fn service_modules_import_no_cycle() {
    let dir = services_dir();
    let mut known = BTreeMap::new();
    modules(&dir, "", &mut known);
    assert!(known.len() > 30, "found only {} modules", known.len());
    let mut files: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut tops: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in &known {
        let is_dir = dir.join(module.replace("::", "/")).is_dir();
        for target in imports(module, is_dir, &code(text)) {
            let Some(target) = resolve(&target, &known) else {
                continue;
            };
            // A module and its own files are one unit at the top level.
            if target == *module
                || target.starts_with(&format!("{module}::"))
                || module.starts_with(&format!("{target}::"))
            {
                continue;
            }
            files
                .entry(module.clone())
                .or_default()
                .insert(target.clone());
            if top(module) != top(&target) {
                tops.entry(top(module).to_string())
                    .or_default()
                    .insert(top(&target).to_string());
            }
        }
    }
    // The check can fail: a graph with a cycle is found as one.
    let looped = BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["a".to_string()])),
    ]);
    assert!(cycle(&looped).is_some());
    assert!(
        files
            .get("lifecycle::appeal")
            .is_some_and(|t| t.contains("appeals")),
        "the import graph is read: {files:?}"
    );
    if let Some(c) = cycle(&tops) {
        panic!(
            "service modules import each other in a cycle: {}",
            c.join(" → ")
        );
    }
    if let Some(c) = cycle(&files) {
        panic!(
            "service files import each other in a cycle: {}",
            c.join(" → ")
        );
    }
}

/// Every Rust source of the service crate, as (path, code without comments and tests).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("source directory").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                out.push((path.display().to_string(), code(&text)));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

#[test]
fn the_subtree_is_written_in_scope_only() {
    let mut found = Vec::new();
    for (path, text) in sources() {
        if path.ends_with("services/scope.rs") || path.ends_with("services/layers.rs") {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            let upper = line.to_uppercase();
            let like_path = upper.contains("PATH LIKE") || upper.contains("PATH\" LIKE");
            let prefix = line.contains("Path.starts_with") || line.contains("path.starts_with");
            if like_path || prefix {
                found.push(format!("{path}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "subtree queries outside services::scope:\n{}",
        found.join("\n")
    );
}

#[test]
fn statuses_are_named_in_entity_status_only() {
    const STATUSES: &[&str] = &[
        "draft",
        "submitted",
        "returned",
        "appraised",
        "pending",
        "in_progress",
        "finalized",
        "not_started",
        "done",
        "cancelled",
        "met",
        "missed",
        "published",
        "open",
        "accepted",
        "rejected",
        "delivered",
        "failed",
    ];
    let mut found = Vec::new();
    for (path, text) in sources() {
        if path.ends_with("services/layers.rs") {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            for s in STATUSES {
                // A status compared or bound as a literal: SQL `= 'x'`, `IN ('x'…`, Rust
                // `== "x"`.
                let sql = [format!("= '{s}'"), format!("('{s}'"), format!(", '{s}'")];
                let rust = [format!("== \"{s}\""), format!("!= \"{s}\"")];
                if sql
                    .iter()
                    .chain(rust.iter())
                    .any(|p| line.contains(p.as_str()))
                {
                    found.push(format!("{path}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "status literals outside entity::status (bind the enum instead):\n{}",
        found.join("\n")
    );
}
