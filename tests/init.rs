//! `tug init`, `tug env|svc|job init`: with flags in a fresh directory (then `tug validate`
//! and `tug render` succeed), without a terminal (a missing answer names its flag), never
//! overwriting silently, and the wizard driven through a pseudo-terminal.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use support::{text, tug_offline as tug};

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const INIT_WEB: &[&str] = &[
    "init",
    "--app",
    "shop",
    "--name",
    "web",
    "--type",
    "Load Balanced Web Service",
    "--image",
    "nginx:1.27",
    "--port",
    "80",
    "--env",
    "test",
];

#[test]
fn init_with_flags_then_validate_and_render() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tug(tmp.path(), INIT_WEB);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ws = tmp.path().join("tug");
    assert_eq!(
        read(&ws.join(".workspace")).lines().last(),
        Some("application: shop")
    );
    let web = read(&ws.join("web/manifest.yml"));
    assert!(web.starts_with(
        "# yaml-language-server: $schema=../.schema/load-balanced-web-service.json\n"
    ));
    assert!(
        web.contains("location: nginx:1.27") && web.contains("port: 80"),
        "{web}"
    );
    let env = read(&ws.join("environments/test/manifest.yml"));
    assert!(env.starts_with("# yaml-language-server: $schema=../../.schema/environment.json\n"));
    // The schemas the modelines point to are there.
    for f in [
        "load-balanced-web-service.json",
        "environment.json",
        "manifest.json",
    ] {
        let schema: serde_json::Value =
            serde_json::from_str(&read(&ws.join(".schema").join(f))).expect("json");
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }

    let out = tug(tmp.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("0 errors, 0 warnings"),
        "{}",
        text(&out.stderr)
    );
    let out = tug(tmp.path(), &["render", "-e", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("AWS::ECS::Cluster"));
    let out = tug(tmp.path(), &["render", "-e", "test", "-n", "web"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let template = text(&out.stdout);
    assert!(template.contains("AWS::ECS::Service") && template.contains("nginx:1.27"));
}

#[test]
fn every_workload_type_validates_and_renders() {
    let tmp = tempfile::tempdir().expect("tempdir");
    fs::write(tmp.path().join("Dockerfile"), "FROM nginx\nEXPOSE 8080\n").expect("write");
    let out = tug(tmp.path(), INIT_WEB);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let steps: &[&[&str]] = &[
        &[
            "svc",
            "init",
            "-n",
            "api",
            "-t",
            "Backend Service",
            "--dockerfile",
            "Dockerfile",
            "--port",
            "8080",
        ],
        &[
            "svc",
            "init",
            "-n",
            "worker",
            "-t",
            "worker service",
            "-i",
            "public.ecr.aws/docker/library/busybox:1.36",
        ],
        &[
            "job",
            "init",
            "-n",
            "report",
            "-i",
            "busybox:1.36",
            "--schedule",
            "rate(6 hours)",
        ],
        &["env", "init", "-n", "prod"],
    ];
    for args in steps {
        let out = tug(tmp.path(), args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "tug {}: {}",
            args.join(" "),
            text(&out.stderr)
        );
    }
    let api = read(&tmp.path().join("tug/api/manifest.yml"));
    assert!(
        api.contains("build: Dockerfile") && api.contains("port: 8080"),
        "{api}"
    );
    let report = read(&tmp.path().join("tug/report/manifest.yml"));
    assert!(report.contains("schedule: \"rate(6 hours)\""), "{report}");
    let out = tug(tmp.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("0 errors, 0 warnings"),
        "{}",
        text(&out.stderr)
    );
    for manifest in [
        "web",
        "api",
        "worker",
        "report",
        "environments/test",
        "environments/prod",
    ] {
        assert_matches_its_modeline_schema(
            &tmp.path().join("tug").join(manifest).join("manifest.yml"),
        );
    }
    for env in ["test", "prod"] {
        let out_dir = tmp.path().join(format!("out-{env}"));
        let out = tug(
            tmp.path(),
            &[
                "render",
                "-e",
                env,
                "--output-dir",
                &out_dir.to_string_lossy(),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(out_dir.join(format!("shop-{env}-report.yml")).is_file());
    }
    // A job is not a service, and a service is not a job.
    let out = tug(
        tmp.path(),
        &["svc", "init", "-n", "x1", "-t", "Scheduled Job", "-i", "a"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--type"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn without_a_terminal_a_missing_answer_names_its_flag() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cases: &[(&[&str], &str)] = &[
        (&["init", "--name", "web"], "--app"),
        (&["init", "--app", "shop"], "--type"),
        (
            &["init", "--app", "shop", "-t", "Backend Service"],
            "--name",
        ),
        (
            &[
                "init",
                "--app",
                "shop",
                "-t",
                "Backend Service",
                "-n",
                "api",
            ],
            "--image IMAGE or --dockerfile",
        ),
        (
            &[
                "init",
                "--app",
                "shop",
                "-t",
                "Backend Service",
                "-n",
                "api",
                "-i",
                "a",
            ],
            "--port",
        ),
        (
            &[
                "init",
                "--app",
                "shop",
                "-t",
                "Scheduled Job",
                "-n",
                "job",
                "-i",
                "a",
            ],
            "--schedule",
        ),
        (
            &[
                "init",
                "--app",
                "shop",
                "-t",
                "Backend Service",
                "-n",
                "api",
                "-i",
                "a",
                "--port",
                "80",
            ],
            "--env",
        ),
    ];
    for (args, flag) in cases {
        let mut all = vec!["--no-input"];
        all.extend_from_slice(args);
        let out = tug(tmp.path(), &all);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "tug {}: {err}", args.join(" "));
        assert!(
            err.contains(flag),
            "tug {} should name {flag}: {err}",
            args.join(" ")
        );
    }
    // Bad answers given as flags are refused like typed ones.
    let out = tug(tmp.path(), &["init", "--app", "Shop_1", "-n", "web"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--app `Shop_1`"),
        "{}",
        text(&out.stderr)
    );
    let out = tug(
        tmp.path(),
        &[
            "init",
            "--app",
            "shop",
            "-t",
            "Scheduled Job",
            "-n",
            "job",
            "-i",
            "a",
            "--schedule",
            "sometimes",
            "-e",
            "test",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--schedule"));
    // Nothing was written by the failed attempts.
    assert!(!tmp.path().join("tug").exists());
    // env|svc|job init need a workspace.
    let out = tug(tmp.path(), &["svc", "init", "-n", "api"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("tug init"));
}

#[test]
fn existing_manifests_are_not_overwritten_silently() {
    let tmp = tempfile::tempdir().expect("tempdir");
    assert_eq!(tug(tmp.path(), INIT_WEB).status.code(), Some(0));
    let path = tmp.path().join("tug/web/manifest.yml");
    fs::write(&path, "# mine\nname: web\n").expect("write");
    let out = tug(tmp.path(), INIT_WEB);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(read(&path), "# mine\nname: web\n");
    // The environment that exists is kept, not rewritten, when another workload is added.
    let env = tmp.path().join("tug/environments/test/manifest.yml");
    fs::write(&env, "name: test\ntype: Environment\n# edited\n").expect("write");
    let mut args = INIT_WEB.to_vec();
    args.push("--force");
    let out = tug(tmp.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("replaced tug/web/manifest.yml"));
    assert!(read(&path).contains("location: nginx:1.27"));
    assert!(read(&env).contains("# edited"));
    // A different application is refused.
    let mut args = INIT_WEB.to_vec();
    args[2] = "other";
    args[4] = "api";
    let out = tug(tmp.path(), &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("belongs to the application `shop`"));
    let out = tug(tmp.path(), &["env", "init", "-n", "test"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("already exists"));
}

/// The wizard on a pseudo-terminal: the test is the user, typing answers (a wrong one first)
/// and accepting defaults; no terminal needs to be attached to the test run itself.
#[test]
fn the_wizard_asks_validates_and_writes() {
    use rexpect::session::spawn_command;

    let tmp = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(tmp.path().join("app")).expect("mkdir");
    fs::write(
        tmp.path().join("app/Dockerfile"),
        "FROM nginx\nEXPOSE 8080\n",
    )
    .expect("write");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tug"));
    cmd.arg("init")
        .current_dir(tmp.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env_remove("CI")
        .env_remove("AWS_PROFILE");
    let mut p = spawn_command(cmd, Some(20_000)).expect("spawn on a pty");
    let step = |p: &mut rexpect::session::PtySession, prompt: &str, keys: &str| {
        p.exp_string(prompt)
            .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
        p.send(keys).expect("send");
        p.flush().expect("flush");
    };
    // An invalid name is refused as it is typed, with the reason; then a valid one.
    step(&mut p, "Application name", "Shop\r");
    step(&mut p, "must start with a lowercase letter", "shop\r");
    step(&mut p, "Workload type", "\r");
    step(&mut p, "Workload name", "\r");
    // The Dockerfile found in the repository is offered first.
    step(&mut p, "Build app/Dockerfile", "\r");
    // The port defaults to what the Dockerfile exposes.
    step(&mut p, "8080", "\r");
    step(&mut p, "Environment name", "dev\r");
    step(&mut p, "now?", "n");
    p.exp_eof().expect("tug exits");

    let ws = tmp.path().join("tug");
    assert_eq!(
        read(&ws.join(".workspace")).lines().last(),
        Some("application: shop")
    );
    let web = read(&ws.join("web/manifest.yml"));
    assert!(web.contains("type: Load Balanced Web Service"), "{web}");
    assert!(
        web.contains("build: app/Dockerfile") && web.contains("port: 8080"),
        "{web}"
    );
    assert!(ws.join("environments/dev/manifest.yml").is_file());
    let out = tug(tmp.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// `tug init --deploy` deploys what it wrote, through the deploy engine, against moto.
#[test]
fn init_deploy_deploys_the_new_workspace() {
    let moto = support::Moto::start(1);
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["--output", "json"];
    args.extend_from_slice(INIT_WEB);
    args[4] = "fresh";
    args.push("--deploy");
    let out = support::tug(tmp.path(), &moto.url(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let events = support::events(&out);
    let written = &events[0]["written"];
    assert_eq!(written.as_array().map(Vec::len), Some(3), "{events:?}");
    let result = events
        .iter()
        .find(|e| e["event"] == "result")
        .expect("a result");
    assert_eq!(result["outcome"], "success");
    let stacks: Vec<&str> = result["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .filter_map(|s| s["stack"].as_str())
        .collect();
    assert_eq!(stacks, ["fresh-test", "fresh-test-web"], "{result}");
}

/// The wizard again, choosing from the type menu with the arrow keys, with no Dockerfile in
/// the repository (so it asks for an image), and a schedule typed wrong first.
#[test]
fn the_wizard_writes_a_scheduled_job() {
    use rexpect::session::spawn_command;

    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tug"));
    cmd.arg("init")
        .current_dir(tmp.path())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env_remove("CI")
        .env_remove("AWS_PROFILE");
    let mut p = spawn_command(cmd, Some(20_000)).expect("spawn on a pty");
    let step = |p: &mut rexpect::session::PtySession, prompt: &str, keys: &str| {
        p.exp_string(prompt)
            .unwrap_or_else(|e| panic!("waiting for {prompt:?}: {e}"));
        p.send(keys).expect("send");
        p.flush().expect("flush");
    };
    step(&mut p, "Application name", "acme\r");
    // Load Balanced Web Service, Backend Service, Worker Service, Scheduled Job.
    step(&mut p, "Workload type", "\x1b[B\x1b[B\x1b[B\r");
    step(&mut p, "Workload name", "nightly\r");
    step(&mut p, "Image to run", "busybox:1.36\r");
    step(&mut p, "Schedule", "whenever\r");
    step(&mut p, "`whenever` is not a schedule", "");
    step(&mut p, "Schedule", "@hourly\r");
    step(&mut p, "Environment name", "\r");
    step(&mut p, "now?", "\r");
    p.exp_eof().expect("tug exits");

    let job = read(&tmp.path().join("tug/nightly/manifest.yml"));
    assert!(job.contains("type: Scheduled Job"), "{job}");
    assert!(job.contains("location: busybox:1.36"), "{job}");
    assert!(job.contains("schedule: \"@hourly\""), "{job}");
    assert!(!job.contains("port:"), "{job}");
    assert!(
        tmp.path()
            .join("tug/environments/test/manifest.yml")
            .is_file()
    );
    let out = tug(tmp.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Validates a manifest against the schema its `yaml-language-server` modeline points to, as an
/// editor would: the path is relative to the manifest.
fn assert_matches_its_modeline_schema(manifest: &Path) {
    let text = read(manifest);
    let first = text.lines().next().unwrap_or_default();
    let rel = first
        .strip_prefix("# yaml-language-server: $schema=")
        .unwrap_or_else(|| panic!("{}: no modeline", manifest.display()));
    let schema_path = manifest.parent().expect("folder").join(rel);
    let schema: serde_json::Value =
        serde_json::from_str(&read(&schema_path)).expect("the schema is JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("the schema compiles");
    let node = tug::manifest::yaml::parse(tug::manifest::source::SourceId(0), &text)
        .expect("the manifest parses");
    let doc = tug::manifest::decode::node_to_json(&node);
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{}: {errors:?}", manifest.display());
}
