//! CLI tests that run the real `tug` binary: help, version, exit codes, text and JSON output,
//! workspace discovery and the commands that are not available yet.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use support::{files_in_temp, text, tug_offline as tug};

fn demo() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/demo")
}

const ENV: &str = "name: test\ntype: Environment\n";
const WEB: &str = "name: web\ntype: Load Balanced Web Service\nimage:\n  location: nginx:1.27\n  port: 80\nhttp:\n  path: /\n";

#[test]
fn version_and_help() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tug(here, &["--version"]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("tug {}", env!("CARGO_PKG_VERSION"))
    );
    let out = tug(here, &["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    for cmd in [
        "init",
        "app",
        "env",
        "svc",
        "job",
        "validate",
        "render",
        "diff",
        "deploy",
        "promote",
        "history",
        "schema",
        "completions",
        "man",
    ] {
        assert!(
            help.contains(&format!("  {cmd}")),
            "--help lists {cmd}:\n{help}"
        );
    }
    for flag in [
        "--workspace",
        "--profile",
        "--region",
        "--output",
        "--yes",
        "--no-input",
        "--color",
        "--quiet",
        "--verbose",
    ] {
        assert!(help.contains(flag), "--help lists {flag}");
    }
}

#[test]
fn every_command_has_help() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let commands: &[&[&str]] = &[
        &["init"],
        &["app", "init"],
        &["app", "show"],
        &["app", "delete"],
        &["env", "init"],
        &["env", "ls"],
        &["env", "show"],
        &["env", "deploy"],
        &["env", "package"],
        &["env", "delete"],
        &["svc", "init"],
        &["svc", "ls"],
        &["svc", "show"],
        &["svc", "status"],
        &["svc", "logs"],
        &["svc", "deploy"],
        &["svc", "package"],
        &["svc", "rollback"],
        &["svc", "delete"],
        &["job", "init"],
        &["job", "ls"],
        &["job", "deploy"],
        &["job", "package"],
        &["job", "run"],
        &["job", "logs"],
        &["job", "delete"],
        &["validate"],
        &["render"],
        &["diff"],
        &["deploy"],
        &["promote"],
        &["adopt"],
        &["history"],
        &["schema"],
        &["completions"],
        &["man"],
    ];
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.push("--help");
        let out = tug(here, &args);
        assert!(out.status.success(), "tug {} --help", cmd.join(" "));
        assert!(
            text(&out.stdout).contains("Usage: tug"),
            "tug {} --help prints usage",
            cmd.join(" ")
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tug(here, &["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unrecognized subcommand"));
    let out = tug(here, &["validate", "--output", "yaml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_demo_workspace_is_valid() {
    let out = tug(&demo(), &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("0 errors"));
}

#[test]
fn validate_finds_the_workspace_by_walking_up() {
    let ws = files_in_temp(&[
        ("copilot/.workspace", "application: shop\n"),
        ("copilot/environments/test/manifest.yml", ENV),
        ("copilot/web/manifest.yml", WEB),
        ("src/deep/er/.keep", ""),
    ]);
    let out = tug(&ws.path().join("src/deep/er"), &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn no_workspace_is_a_usage_error_with_a_hint() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tug(tmp.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("no tug workspace found"), "{err}");
    assert!(err.contains("tug init"), "{err}");
}

#[test]
fn invalid_manifests_exit_3_with_location_source_and_caret() {
    let ws = files_in_temp(&[
        ("copilot/.workspace", "application: shop\n"),
        ("copilot/environments/test/manifest.yml", ENV),
        (
            "copilot/web/manifest.yml",
            &format!("{WEB}cpu: 256\nmemory: 4096\nimage_tag: x\n"),
        ),
    ]);
    let out = tug(ws.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "error[TUG202]: 4096 MiB of memory is not valid with 256 cpu units on Fargate"
        ),
        "{err}"
    );
    assert!(err.contains("--> copilot/web/manifest.yml:9:9"), "{err}");
    assert!(err.contains("9 | memory: 4096\n  |         ^^^^"), "{err}");
    assert!(
        err.contains("error[TUG103]: unknown key `image_tag` at the top level"),
        "{err}"
    );
    assert!(err.contains("2 errors"), "{err}");
    // Nothing on stdout: diagnostics are not results.
    assert!(out.stdout.is_empty());
}

#[test]
fn lenient_turns_unknown_keys_into_warnings() {
    let ws = files_in_temp(&[
        ("copilot/.workspace", "application: shop\n"),
        ("copilot/environments/test/manifest.yml", ENV),
        ("copilot/web/manifest.yml", &format!("{WEB}image_tag: x\n")),
    ]);
    let out = tug(ws.path(), &["validate", "--lenient"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("warning[TUG103]"));
}

#[test]
fn json_output_carries_the_same_facts() {
    let ws = files_in_temp(&[
        ("copilot/.workspace", "application: shop\n"),
        ("copilot/environments/test/manifest.yml", ENV),
        (
            "copilot/environments/prod/manifest.yml",
            "name: prod\ntype: Environment\n",
        ),
        (
            "copilot/web/manifest.yml",
            &format!("{WEB}environments:\n  prod:\n    memory: 4096\n"),
        ),
    ]);
    let out = tug(ws.path(), &["--output", "json", "validate"]);
    assert_eq!(out.status.code(), Some(3));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["application"], "shop");
    assert_eq!(doc["errors"], 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "TUG202");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "copilot/web/manifest.yml");
    // The value is wrong only after the prod override: reported where the override is.
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(10), Some(13))
    );
    assert_eq!(d["environments"], serde_json::json!(["prod"]));
    assert!(
        d["help"]
            .as_str()
            .is_some_and(|h| h.contains("512, 1024, 2048"))
    );
}

#[test]
fn one_environment_with_dash_e() {
    let ws = files_in_temp(&[
        ("copilot/.workspace", "application: shop\n"),
        ("copilot/environments/test/manifest.yml", ENV),
        (
            "copilot/environments/prod/manifest.yml",
            "name: prod\ntype: Environment\n",
        ),
        (
            "copilot/web/manifest.yml",
            &format!("{WEB}environments:\n  prod:\n    memory: 4096\n"),
        ),
    ]);
    assert_eq!(
        tug(ws.path(), &["validate", "-e", "test"]).status.code(),
        Some(0)
    );
    assert_eq!(
        tug(ws.path(), &["validate", "-e", "prod"]).status.code(),
        Some(3)
    );
    let out = tug(ws.path(), &["validate", "-e", "prdo"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("did you mean `prod`?"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn interpolation_uses_the_process_environment() {
    let ws = files_in_temp(&[
        ("copilot/.workspace", "application: shop\n"),
        ("copilot/environments/test/manifest.yml", ENV),
        (
            "copilot/web/manifest.yml",
            &WEB.replace("nginx:1.27", "nginx:${TAG}"),
        ),
    ]);
    let out = tug(ws.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("environment variable `TAG` is not defined"));
    let out = Command::new(env!("CARGO_BIN_EXE_tug"))
        .arg("validate")
        .current_dir(ws.path())
        .env("TAG", "1.27")
        .output()
        .expect("tug runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn app_show_describes_the_demo() {
    let out = tug(&demo(), &["app", "show", "--offline"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("Application: demo"), "{shown}");
    for name in ["web", "api", "worker", "report"] {
        assert!(shown.contains(name), "{shown}");
    }
    let out = tug(&demo(), &["--output", "json", "app", "show", "--offline"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["application"], "demo");
    assert_eq!(doc["valid"], true);
    let workloads = doc["workloads"].as_array().expect("workloads");
    assert!(
        workloads
            .iter()
            .any(|w| w["name"] == "web" && w["type"] == "Load Balanced Web Service")
    );
}

// Before: a FIFO manifest blocked `tug validate` forever, and a folder named manifest.yml left
// the workload out without a word. Both are errors at the file's location, exit 3.
#[test]
fn workspace_problems_are_located_errors() {
    let ws = files_in_temp(&[
        ("copilot/.workspace", "application: shop\n"),
        ("copilot/environments/test/manifest.yml", ENV),
        ("copilot/web/manifest.yml", WEB),
    ]);
    fs::create_dir_all(ws.path().join("copilot/api/manifest.yml")).expect("mkdir");
    fs::create_dir_all(ws.path().join("copilot/worker")).expect("mkdir");
    let made = Command::new("mkfifo")
        .arg(ws.path().join("copilot/worker/manifest.yml"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let out = tug(ws.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "error[TUG101]: this is a folder, not a file\n --> copilot/api/manifest.yml:1:1"
        ),
        "{err}"
    );
    assert!(
        err.contains("error[TUG101]: this is not a regular file (a FIFO, socket or device)\n --> copilot/worker/manifest.yml:1:1"),
        "{err}"
    );
}

/// `--lenient` (or `lenient: true` in `.workspace`) reaches every command that loads
/// manifests: without it an unknown key stops them with exit 3 before anything else happens;
/// with it the key is one warning (not one per environment) and the command goes on. The AWS
/// commands are pointed at a closed port: they get past the manifests and fail on AWS.
#[test]
fn lenient_reaches_every_command_that_loads_manifests() {
    let files = [
        ("copilot/environments/test/manifest.yml", ENV),
        (
            "copilot/environments/prod/manifest.yml",
            "name: prod\ntype: Environment\n",
        ),
        (
            "copilot/web/manifest.yml",
            &format!("{WEB}execution_role: my-role\n"),
        ),
    ];
    let strict = files_in_temp(
        &[
            &[("copilot/.workspace", "application: shop\n")][..],
            &files[..],
        ]
        .concat(),
    );
    let by_file = files_in_temp(
        &[
            &[("copilot/.workspace", "application: shop\nlenient: true\n")][..],
            &files[..],
        ]
        .concat(),
    );
    let commands: &[&[&str]] = &[
        &["validate"],
        &["render", "-e", "test"],
        &["svc", "package", "-n", "web", "-e", "test"],
        &["env", "package", "-n", "test"],
        &["deploy", "-e", "test", "--no-input"],
        &["svc", "deploy", "-n", "web", "-e", "test", "--no-input"],
        &["diff", "-e", "test"],
        &["promote", "--from", "prod", "--to", "test", "--no-input"],
        &["history", "-e", "test", "-n", "web"],
    ];
    let aws = [
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--region",
        "us-east-1",
    ];
    for cmd in commands {
        let run = |dir: &Path, lenient: bool| {
            let mut args: Vec<&str> = cmd.to_vec();
            args.extend(aws);
            if lenient {
                args.push("--lenient");
            }
            let out = Command::new(env!("CARGO_BIN_EXE_tug"))
                .args(&args)
                .current_dir(dir)
                .env_remove("AWS_PROFILE")
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .env("AWS_MAX_ATTEMPTS", "1")
                .env("NO_COLOR", "1")
                .output()
                .expect("tug runs");
            (out.status.code(), text(&out.stderr))
        };
        let (code, err) = run(strict.path(), false);
        assert_eq!(code, Some(3), "{cmd:?} without --lenient: {err}");
        assert!(err.contains("error[TUG103]"), "{cmd:?}: {err}");
        // The workspace setting is the same switch (`Context::lenient`); the offline
        // commands show it, sparing the AWS commands a second slow failure each.
        let offline = matches!(cmd[0], "validate" | "render") || cmd.get(1) == Some(&"package");
        let mut runs = vec![(strict.path(), true)];
        if offline {
            runs.push((by_file.path(), false));
        }
        for (dir, flag) in runs {
            let (code, err) = run(dir, flag);
            assert_ne!(code, Some(3), "{cmd:?} lenient (flag: {flag}): {err}");
            assert_eq!(
                err.matches("warning[TUG103]").count(),
                1,
                "{cmd:?}: one warning for the key, whatever the environments: {err}"
            );
            assert!(err.contains("execution_role"), "{err}");
        }
    }
}
