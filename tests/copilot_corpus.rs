//! Real Copilot manifests from public repositories (`../shared/corpus/copilot-real/`, when
//! present): each repository's files are laid out as a Copilot workspace and validated with
//! `--lenient`, as a migrating team would first run tug. Every diagnostic is pinned in
//! tests/corpus/expected.txt, reviewed by hand: each one is a real problem in that
//! repository's manifests, or a key Copilot silently ignored.
//!
//! Variables the manifests interpolate from their CI environment are given plausible values,
//! listed in `support::CORPUS_VARIABLES`. Run with `UPDATE_EXPECTED=1` to rewrite the snapshot, then review
//! the diff.

mod support;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use tug::manifest::load::{LoadOptions, load};
use tug::manifest::workspace::Workspace;
use tug::validate::validate;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/copilot-real")
}

/// `copilot__environments__prod__manifest.yml` → `copilot/environments/prod/manifest.yml`.
fn workspace_path(flat: &str) -> PathBuf {
    PathBuf::from(flat.replace("__", "/"))
}

fn app_name(repo: &str) -> String {
    let mut name: String = repo
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    name.chars()
        .take(24)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

#[test]
fn copilot_corpus_loads_and_validates() {
    let root = corpus_root();
    if !root.is_dir() {
        eprintln!("skipping: {} is not present", root.display());
        return;
    }
    let mut repos: Vec<PathBuf> = fs::read_dir(&root)
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    assert!(
        repos.len() >= 10,
        "the corpus has {} repositories",
        repos.len()
    );
    let variables: HashMap<String, String> = support::CORPUS_VARIABLES
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut report = String::new();
    let mut manifests = 0;
    for repo in &repos {
        let repo_name = repo
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut files: Vec<PathBuf> = fs::read_dir(repo)
            .expect("repo")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for file in files {
            let flat = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let dest = tmp.path().join(workspace_path(&flat));
            fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
            fs::copy(&file, &dest).expect("copy");
            manifests += 1;
        }
        fs::write(
            tmp.path().join("copilot/.workspace"),
            format!("application: {}\n", app_name(&repo_name)),
        )
        .expect("workspace");
        let ws = Workspace::open(&tmp.path().join("copilot"));
        let loaded = load(
            &ws,
            &LoadOptions {
                lenient: true,
                environment: None,
                variables: variables.clone(),
            },
        )
        .expect("loads");
        for d in validate(&loaded) {
            let path = ws
                .sources
                .path(d.span.source)
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let path = path
                .strip_prefix(tmp.path())
                .map(Path::to_path_buf)
                .unwrap_or(path);
            let envs = if d.environments.is_empty() {
                String::new()
            } else {
                format!(" [{}]", d.environments.join(","))
            };
            report.push_str(&format!(
                "{repo_name}/{}:{}:{} {} {}{envs}: {}\n",
                path.display(),
                d.span.line,
                d.span.col,
                d.code.id,
                d.severity.as_str(),
                d.message
            ));
        }
    }
    assert!(manifests >= 40, "{manifests} manifests");
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/expected.txt");
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        fs::write(&snapshot, &report).expect("write snapshot");
        return;
    }
    let expected = fs::read_to_string(&snapshot).unwrap_or_default();
    assert_eq!(
        report, expected,
        "corpus diagnostics changed; review and run with UPDATE_EXPECTED=1"
    );
}
