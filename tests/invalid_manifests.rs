//! The corpus of invalid manifests: every folder under tests/invalid/ is a workspace root
//! (holding `copilot/` or `tug/`) with an `expected` file listing the diagnostics tug must
//! report, one per line: `<code> <severity> <path>:<line>:<col>`, paths relative to the case
//! folder. An optional `options` file holds `lenient` and/or `env=<name>` lines.
//!
//! Run with `UPDATE_EXPECTED=1` to rewrite the `expected` files after a deliberate change,
//! then review the diff.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use tug::manifest::load::{LoadOptions, load};
use tug::manifest::workspace::{Workspace, discover};
use tug::validate::validate;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .expect("tests/invalid exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Runs the loader and validator over one case and renders its diagnostics.
fn diagnose(case: &Path) -> String {
    let options = fs::read_to_string(case.join("options")).unwrap_or_default();
    let lenient = options.lines().any(|l| l.trim() == "lenient");
    let environment = options
        .lines()
        .find_map(|l| l.trim().strip_prefix("env=").map(str::to_string));
    let dir = discover(case, None).unwrap_or_else(|e| panic!("{}: {e}", case.display()));
    let ws = Workspace::open(&dir);
    let mut variables: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for line in options.lines() {
        if let Some((k, v)) = line
            .trim()
            .strip_prefix("var ")
            .and_then(|kv| kv.split_once('='))
        {
            variables.insert(k.to_string(), v.to_string());
        }
    }
    let loaded = load(
        &ws,
        &LoadOptions {
            lenient,
            environment,
            variables,
        },
    )
    .expect("case loads");
    let mut out = String::new();
    for d in validate(&loaded) {
        let path = ws
            .sources
            .path(d.span.source)
            .map(PathBuf::from)
            .unwrap_or_default();
        // Paths are shown relative to the current directory (the crate root in tests).
        let rel_case = case
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(case);
        let path = path
            .strip_prefix(case)
            .or_else(|_| path.strip_prefix(rel_case))
            .map(Path::to_path_buf)
            .unwrap_or(path.clone());
        out.push_str(&format!(
            "{} {} {}:{}:{}\n",
            d.code.id,
            d.severity.as_str(),
            path.display(),
            d.span.line,
            d.span.col
        ));
    }
    out
}

#[test]
fn invalid_manifests_report_expected_diagnostics() {
    let mut failures = Vec::new();
    let all = cases();
    assert!(
        support::updating_expected() || all.len() >= 10,
        "the invalid corpus is missing"
    );
    for case in all {
        let actual = diagnose(&case);
        if let Some(expected) = support::differs_from_expected(&case.join("expected"), &actual) {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- actual\n{actual}",
                case.display()
            ));
        }
        assert!(
            !actual.is_empty() || case.ends_with("valid"),
            "{}: a case of the invalid corpus reports nothing",
            case.display()
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
