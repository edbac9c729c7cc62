//! The module ladder of `src/`: each top-level module may name only the modules below it, so
//! that no cycle comes back. Reads the sources (every `crate::<module>` path, in `use` lines
//! and inline) and needs neither AWS nor the binary.
//!
//! The ladder, bottom up:
//! - `exit`, `cli` (the command-line definition), `error`;
//! - `manifest` (the model, its names and the diagnostics reported about it);
//! - `validate` and `render`, beside each other: neither names the other;
//! - `deploy`, above `render`;
//! - `ui`, which knows the command-line flags and its own types, nothing of the domain;
//! - `commands` on top, free to name everything.
//!
//! `KNOWN` lists the edges that break the ladder today, each with the reason it is still
//! there; the test fails when a new one appears, and when a listed one is gone (so the list
//! only shrinks).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The modules each top-level module may name (besides itself).
const LADDER: &[(&str, &[&str])] = &[
    ("exit", &[]),
    ("cli", &[]),
    ("error", &["exit"]),
    ("manifest", &["exit", "error"]),
    ("validate", &["manifest", "exit", "error"]),
    ("render", &["manifest", "exit", "error"]),
    ("deploy", &["manifest", "render", "exit", "error"]),
    ("ui", &["cli", "exit", "error"]),
];

/// Edges against the ladder still in the code: (file, module it names).
const KNOWN: &[(&str, &str)] = &[];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`src/render/mod.rs` → `render`).
fn top_module(relative: &Path) -> String {
    let first = relative
        .components()
        .nth(1)
        .expect("a file under src")
        .as_os_str()
        .to_string_lossy()
        .to_string();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::<name>` a source names, without comments.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
            rest = tail;
        }
    }
    out
}

#[test]
fn modules_name_only_the_modules_below_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let modules: BTreeSet<&str> = LADDER.iter().map(|(m, _)| *m).chain(["commands"]).collect();
    let mut found = BTreeSet::new();
    for file in &files {
        let relative = file.strip_prefix(root).expect("under the crate");
        let top = top_module(relative);
        let Some((_, allowed)) = LADDER.iter().find(|(m, _)| *m == top) else {
            continue; // `commands`, `lib.rs` and `main.rs` are on top.
        };
        let text = fs::read_to_string(file).expect("read source");
        for named in named_modules(&text) {
            if named != top && modules.contains(named.as_str()) && !allowed.contains(&&*named) {
                found.insert((relative.to_string_lossy().to_string(), named));
            }
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .collect();
    let new: Vec<_> = found.difference(&known).collect();
    let gone: Vec<_> = known.difference(&found).collect();
    assert!(
        new.is_empty(),
        "modules name modules above them (a cycle in the making): {new:?}"
    );
    assert!(
        gone.is_empty(),
        "these edges are gone: remove them from KNOWN: {gone:?}"
    );
}

#[test]
fn the_scanner_finds_inline_and_use_paths_but_not_comments() {
    let text = "use crate::render::names;\nlet x = crate::validate::codes::X; // crate::ui\n";
    let names: Vec<String> = named_modules(text).into_iter().collect();
    assert_eq!(names, ["render", "validate"]);
}
