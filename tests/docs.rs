//! Documentation generated from the code: docs/diagnostics.md lists every diagnostic code.
//! Run with `UPDATE_EXPECTED=1` to regenerate after adding a code.

mod support;

use std::fs;
use std::path::Path;

use tug::validate::codes;

#[test]
fn diagnostics_reference_is_up_to_date() {
    let mut doc = String::from(
        "# Diagnostic codes\n\nEvery diagnostic tug prints has a stable code. A released code never changes meaning.\n\
         This file is generated from `src/manifest/codes.rs` by `tests/docs.rs`.\n\n| code | name | meaning |\n| --- | --- | --- |\n",
    );
    for (code, meaning) in codes::ALL {
        doc.push_str(&format!(
            "| {} | {} | {} |\n",
            code.id,
            code.name,
            meaning.trim()
        ));
    }
    support::check_expected("docs/diagnostics.md", &doc);
    let mut ids: Vec<&str> = codes::ALL.iter().map(|(c, _)| c.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), codes::ALL.len(), "diagnostic ids are unique");
}

/// The ```yaml blocks of README.md and docs/*.md that are whole manifests (they have a
/// top-level `type:`), with the file and line they start at.
fn manifest_examples() -> Vec<(String, usize, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<_> = fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut out = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("read");
        let shown = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let mut block: Option<(usize, String)> = None;
        for (i, line) in text.lines().enumerate() {
            match &mut block {
                None if line.trim_start().starts_with("```yaml") => {
                    block = Some((i + 2, String::new()))
                }
                Some((start, body)) if line.trim_start().starts_with("```") => {
                    if body.lines().any(|l| l.starts_with("type:")) {
                        out.push((shown.clone(), *start, std::mem::take(body)));
                    }
                    block = None;
                }
                Some((_, body)) => {
                    body.push_str(line);
                    body.push('\n');
                }
                None => {}
            }
        }
    }
    out
}

/// Every manifest shown in the documentation is valid: each is placed in a workspace of its own
/// (with `test` and `prod` environments) and loaded and validated as `tug validate` does.
#[test]
fn manifest_examples_in_the_docs_are_valid() {
    use tug::manifest::load::{LoadOptions, load};
    use tug::manifest::workspace::Workspace;
    use tug::validate::{report, validate};

    let examples = manifest_examples();
    let mut failures = Vec::new();
    for (file, line, body) in &examples {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ws = tmp.path().join("copilot");
        let name = body
            .lines()
            .find_map(|l| l.strip_prefix("name:"))
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|| "unnamed".into());
        let is_env = body.lines().any(|l| l.trim() == "type: Environment");
        let mut files = vec![(".workspace".to_string(), "application: docs\n".to_string())];
        for env in ["test", "prod"] {
            if !(is_env && name == env) {
                files.push((
                    format!("environments/{env}/manifest.yml"),
                    format!("name: {env}\ntype: Environment\n"),
                ));
            }
        }
        if is_env {
            files.push((format!("environments/{name}/manifest.yml"), body.clone()));
        } else {
            files.push((format!("{name}/manifest.yml"), body.clone()));
        }
        for (path, text) in files {
            let p = ws.join(path);
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            fs::write(p, text).expect("write");
        }
        let workspace = Workspace::open(&ws);
        let loaded = load(&workspace, &LoadOptions::default()).expect("loads");
        let diags = validate(&loaded);
        let errors: Vec<String> = diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| report::to_json(d, &workspace.sources).to_string())
            .collect();
        if !errors.is_empty() {
            failures.push(format!("{file}:{line}:\n{}", errors.join("\n")));
        }
    }
    assert!(
        failures.is_empty(),
        "invalid examples:\n{}",
        failures.join("\n\n")
    );
    assert!(examples.len() >= 8, "{} examples found", examples.len());
}
