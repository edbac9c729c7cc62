//! The exact text of the messages users act on, as snapshots (insta, under tests/snapshots/):
//! a validation report, deploys refused before anything reaches AWS, and usage errors with
//! their help lines. The whole of stderr is compared, so a reworded message, a lost help line
//! or a changed exit code shows up as a diff to review (`cargo insta review`, or
//! `INSTA_UPDATE=always` and `git diff`).
//!
//! Redactions: the temporary workspace's path. These commands stop before AWS, so no timing,
//! port or account id appears; the filters for them are there so a message that gains one
//! stays comparable.
//!
//! Runs the real binary offline; no AWS, no moto.

mod support;

use std::fs;
use std::path::Path;

use support::{files_in_temp, text, tug_offline as tug};

const ENV: &str = "name: test\ntype: Environment\n";
const WEB: &str = "name: web\ntype: Load Balanced Web Service\nimage:\n  location: nginx:1.27\n  port: 80\nhttp:\n  path: /\n";

fn valid() -> tempfile::TempDir {
    files_in_temp(&[
        ("copilot/.workspace", "application: shop\n"),
        ("copilot/environments/test/manifest.yml", ENV),
        ("copilot/web/manifest.yml", WEB),
    ])
}

fn invalid() -> tempfile::TempDir {
    files_in_temp(&[
        ("copilot/.workspace", "application: shop\n"),
        ("copilot/environments/test/manifest.yml", ENV),
        (
            "copilot/web/manifest.yml",
            &format!("{WEB}cpu: 256\nmemory: 4096\nimage_tag: x\n"),
        ),
    ])
}

/// Runs tug in `dir` and gives the exit code and stderr, with the redactions applied.
fn run(dir: &Path, args: &[&str]) -> String {
    let out = tug(dir, args);
    // macOS puts temporary folders behind /private; both spellings are redacted.
    let path = dir.display().to_string();
    let stderr = text(&out.stderr)
        .replace(&format!("/private{path}"), "[WORKSPACE]")
        .replace(&path, "[WORKSPACE]");
    format!(
        "exit code: {}\n--- stderr\n{stderr}",
        out.status.code().unwrap_or(-1)
    )
}

fn snapshot(name: &str, output: &str) {
    insta::with_settings!({
        filters => vec![
            (r"\b\d+(\.\d+)?s\b", "[DURATION]"),
            (r"\b\d{12}\b", "[ACCOUNT]"),
            (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        ],
    }, {
        insta::assert_snapshot!(name, output);
    });
}

#[test]
fn validate_reports_every_error_with_its_place() {
    let ws = invalid();
    snapshot("validate_errors", &run(ws.path(), &["validate"]));
}

#[test]
fn deploy_refuses_invalid_manifests_before_aws() {
    let ws = invalid();
    snapshot(
        "deploy_refuses_invalid",
        &run(ws.path(), &["deploy", "-e", "test"]),
    );
}

#[test]
fn deploy_refuses_an_unknown_workload_and_lists_the_known_ones() {
    let ws = valid();
    snapshot(
        "deploy_unknown_workload",
        &run(ws.path(), &["deploy", "-e", "test", "-n", "api"]),
    );
}

#[test]
fn render_refuses_an_environment_without_a_manifest() {
    let ws = valid();
    snapshot(
        "render_unknown_environment",
        &run(ws.path(), &["render", "-e", "prod"]),
    );
}

#[test]
fn no_workspace_says_how_to_make_one() {
    let tmp = tempfile::tempdir().expect("tempdir");
    snapshot("no_workspace", &run(tmp.path(), &["validate"]));
}

#[test]
fn verbose_errors_name_what_they_are_about() {
    let ws = valid();
    // A file where the output folder should be: the folder cannot be made.
    fs::write(ws.path().join("out"), "").expect("write");
    let out_dir = ws.path().join("out").display().to_string();
    snapshot(
        "render_cannot_write_verbose",
        &run(
            ws.path(),
            &[
                "render",
                "-e",
                "test",
                "--output-dir",
                &out_dir,
                "--verbose",
            ],
        ),
    );
}
