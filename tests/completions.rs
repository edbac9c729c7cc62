//! `tug completions`, `tug man` and `tug schema` as a user runs them: generated from the command
//! line and the manifest types, printed on stdout or written into a folder.

mod support;

use std::path::Path;
use std::process::Output;

use support::tug_offline as tug;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn completion_scripts_cover_the_commands_and_flags() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (shell, marker) in [
        ("bash", "complete -F _tug"),
        ("zsh", "#compdef tug"),
        ("fish", "complete -c tug"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = tug(here, &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: {marker}");
        for word in ["init", "deploy", "schema", "no-input", "dockerfile"] {
            assert!(script.contains(word), "{shell} completes {word}");
        }
    }
    let out = tug(here, &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn man_pages_are_generated_from_the_command_line() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tug(here, &["man"]);
    assert_eq!(out.status.code(), Some(0));
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie") || page.contains(".TH tug 1"),
        "{page}"
    );
    assert!(page.contains("completions") && page.contains("\\-\\-no\\-input"));

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("man1");
    let out = tug(here, &["man", "--output-dir", &dir.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0));
    for page in [
        "tug.1",
        "tug-init.1",
        "tug-svc-deploy.1",
        "tug-env-init.1",
        "tug-schema.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap_or_default();
        assert!(text.contains(".TH"), "{page} written");
    }
    let deploy = std::fs::read_to_string(dir.join("tug-svc-deploy.1")).expect("page");
    assert!(deploy.contains("timeout"), "{deploy}");
}

#[test]
fn schema_prints_one_type_or_all_of_them() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tug(here, &["schema", "Backend Service"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["title"], "tug manifest: Backend Service");
    let out = tug(here, &["schema", "scheduled-job"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["title"], "tug manifest: Scheduled Job");
    let out = tug(here, &["schema"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["title"], "tug manifest (any type)");

    let out = tug(here, &["schema", "Static Site"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("load-balanced-web-service"));

    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tug(tmp.path(), &["schema", "--output-dir", "schemas"]);
    assert_eq!(out.status.code(), Some(0));
    for f in [
        "load-balanced-web-service.json",
        "backend-service.json",
        "worker-service.json",
        "scheduled-job.json",
        "environment.json",
        "workspace.json",
        "manifest.json",
    ] {
        let text = std::fs::read_to_string(tmp.path().join("schemas").join(f)).expect(f);
        let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(
            doc["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
}
