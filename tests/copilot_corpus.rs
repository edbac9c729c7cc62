//! Real Copilot manifests from public repositories (`../shared/corpus/copilot-real/`, when
//! present): each repository's files are laid out as a Copilot workspace and validated with
//! `--lenient`, as a migrating team would first run tug. Every diagnostic is pinned in
//! tests/corpus/expected.txt, reviewed by hand: each one is a real problem in that
//! repository's manifests, or a key Copilot silently ignored.
//!
//! Then, as the migrating team's next step, the real binary renders each environment that
//! validates with `tug render --lenient --output-dir` (a repository without environment
//! manifests gets the default ones `copilot env init` wrote, named after its overrides, or
//! `test`), and cfn-lint checks every template written. Outcomes are pinned in
//! tests/corpus/cli-render.txt.
//!
//! Variables the manifests interpolate from their CI environment are given plausible values,
//! listed in `support::CORPUS_VARIABLES`. Run with `UPDATE_EXPECTED=1` to rewrite the snapshot, then review
//! the diff.

mod support;

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use tug::manifest::load::{LoadOptions, Loaded, load};
use tug::manifest::workspace::Workspace;
use tug::validate::diagnostic::Diagnostic;
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
        // Written to the process's stderr, not through `eprintln!`, which the test harness
        // captures and hides for a passing test: a skipped corpus must be seen in every run.
        let _ = writeln!(
            std::io::stderr(),
            "copilot_corpus_loads_and_validates: SKIPPED, {} is not present (nothing was checked)",
            root.display()
        );
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
    let mut rendered = String::new();
    let mut templates: Vec<PathBuf> = Vec::new();
    let lint_dir = tempfile::tempdir().expect("tempdir");
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
        let diags = validate(&loaded);
        for d in &diags {
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
        render_with_cli(
            &repo_name,
            tmp.path(),
            &loaded,
            &diags,
            &variables,
            lint_dir.path(),
            &mut rendered,
            &mut templates,
        );
    }
    assert!(manifests >= 40, "{manifests} manifests");
    support::check_expected("tests/corpus/cli-render.txt", &rendered);
    assert!(
        templates.len() >= 40,
        "only {} templates rendered by the CLI",
        templates.len()
    );
    support::cfn_lint(&templates);
    support::check_expected("tests/corpus/expected.txt", &report);
}

/// Renders, with the real binary and `--lenient`, every environment of the workspace at
/// `project` that validates (no error applies to it), and records the outcome. A render may
/// still fail on a feature tug does not render yet (a TUG600 diagnostic, listed in the
/// snapshot); failing for any other reason fails the test.
#[allow(clippy::too_many_arguments)]
fn render_with_cli(
    repo: &str,
    project: &Path,
    loaded: &Loaded,
    diags: &[Diagnostic],
    variables: &HashMap<String, String>,
    out_root: &Path,
    report: &mut String,
    templates: &mut Vec<PathBuf>,
) {
    let env_dir = project.join("copilot/environments");
    if loaded.environments.is_empty() && !env_dir.is_dir() {
        let mut names = loaded.environment_names.clone();
        if names.is_empty() {
            names.push("test".into());
        }
        for env in &names {
            let dir = env_dir.join(env);
            fs::create_dir_all(&dir).expect("mkdir");
            fs::write(
                dir.join("manifest.yml"),
                format!("name: {env}\ntype: Environment\n"),
            )
            .expect("env");
        }
    }
    let mut envs: Vec<String> = fs::read_dir(&env_dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.path().join("manifest.yml").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    envs.sort();
    for env in envs {
        let invalid = diags
            .iter()
            .any(|d| d.is_error() && (d.environments.is_empty() || d.environments.contains(&env)));
        if invalid {
            report.push_str(&format!(
                "{repo} [{env}]: does not validate, not rendered\n"
            ));
            continue;
        }
        let out_dir = out_root.join(format!("{repo}--{env}"));
        let out = Command::new(env!("CARGO_BIN_EXE_tug"))
            .args(["render", "--lenient", "-e", &env, "--output-dir"])
            .arg(&out_dir)
            .arg("-w")
            .arg(project.join("copilot"))
            .envs(variables)
            .env("NO_COLOR", "1")
            .output()
            .expect("tug runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => {
                let mut written: Vec<PathBuf> = fs::read_dir(&out_dir)
                    .expect("output dir")
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "yml"))
                    .collect();
                written.sort();
                report.push_str(&format!(
                    "{repo} [{env}]: rendered {} templates\n",
                    written.len()
                ));
                templates.extend(written);
            }
            code => {
                let errors: Vec<&str> =
                    stderr.lines().filter(|l| l.starts_with("error[")).collect();
                assert!(
                    code == Some(3)
                        && !errors.is_empty()
                        && errors.iter().all(|l| l.starts_with("error[TUG600]")),
                    "{repo} [{env}] validates but `tug render --lenient` failed ({code:?}):\n{stderr}"
                );
                for e in errors {
                    report.push_str(&format!("{repo} [{env}]: not rendered: {e}\n"));
                }
            }
        }
    }
}
