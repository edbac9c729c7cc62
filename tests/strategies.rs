//! Blue/green, canary and linear services against moto through the real `tug` binary: they
//! deploy and redeploy, switch to and from rolling, and `tug history` and `tug svc rollback`
//! work on what moto records (task definition revisions and their tags).
//!
//! moto keeps no ECS service-deployment records (scripts/moto_server.py answers those APIs with
//! empty lists, as ECS does for a service without any), so lifecycle stages, traffic splits and
//! PAUSE hooks awaiting action are tested with recorded ECS responses in
//! `src/deploy/lifecycle.rs`, and here only the answer when nothing is paused.

mod support;

use std::fs;
use std::path::Path;

use support::{Moto, root, tug};

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The strategies example under a new application name.
fn strategies_copy(app: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(&root().join("manifests/strategies"), tmp.path());
    fs::write(
        tmp.path().join("copilot/.workspace"),
        format!("application: {app}\n"),
    )
    .expect("workspace");
    tmp
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn edit(ws: &Path, service: &str, from: &str, to: &str) {
    let path = ws.join(format!("copilot/{service}/manifest.yml"));
    let text = fs::read_to_string(&path).expect("manifest");
    assert!(text.contains(from), "{from} not in {}", path.display());
    fs::write(&path, text.replacen(from, to, 1)).expect("write manifest");
}

fn history(ws: &Path, url: &str, service: &str) -> serde_json::Value {
    let out = tug(
        ws,
        url,
        &["--output", "json", "history", "-e", "test", "-n", service],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("history is JSON")
}

fn current_revision(h: &serde_json::Value) -> i64 {
    h["deployments"]
        .as_array()
        .expect("deployments")
        .iter()
        .find(|d| d["current"] == true)
        .and_then(|d| d["revision"].as_i64())
        .expect("a current revision")
}

#[test]
fn blue_green_service_deploys_redeploys_and_rolls_back() {
    let moto = Moto::start(10);
    let ws = strategies_copy("bg");
    let url = moto.url();
    let first = tug(ws.path(), &url, &["deploy", "-e", "test"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));

    // A new revision of the blue/green service.
    edit(
        ws.path(),
        "checkout",
        "count: 2",
        "count: 2\nvariables:\n  RELEASE: \"2\"",
    );
    let second = tug(
        ws.path(),
        &url,
        &["svc", "deploy", "-e", "test", "-n", "checkout"],
    );
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));

    let h = history(ws.path(), &url, "checkout");
    let deployments = h["deployments"].as_array().expect("deployments");
    assert_eq!(deployments.len(), 2, "{h}");
    assert_eq!(current_revision(&h), 2);
    for d in deployments {
        assert_eq!(d["outcome"], "deployed", "{d}");
        assert_eq!(d["strategy"], "BLUE_GREEN", "{d}");
        assert_eq!(d["image"], "public.ecr.aws/nginx/nginx:1.27", "{d}");
        assert!(d["deployed_at"].is_string(), "{d}");
    }
    let text = tug(
        ws.path(),
        &url,
        &["history", "-e", "test", "-n", "checkout"],
    );
    let table = String::from_utf8_lossy(&text.stdout);
    assert!(table.contains("2 (current)"), "{table}");
    assert!(table.contains("BLUE_GREEN"), "{table}");

    // Back to revision 1, through the engine.
    let back = tug(
        ws.path(),
        &url,
        &["svc", "rollback", "-e", "test", "-n", "checkout"],
    );
    assert_eq!(back.status.code(), Some(0), "{}", stderr(&back));
    assert!(
        stderr(&back).contains("rolling back to revision 1"),
        "{}",
        stderr(&back)
    );
    assert_eq!(current_revision(&history(ws.path(), &url, "checkout")), 1);

    // Rolling back again finds nothing older that deployed successfully.
    let none = tug(
        ws.path(),
        &url,
        &["svc", "rollback", "-e", "test", "-n", "checkout"],
    );
    assert_eq!(none.status.code(), Some(1));
    assert!(
        stderr(&none).contains("no earlier revision"),
        "{}",
        stderr(&none)
    );

    // The next deploy runs the manifest's revision again.
    let redeploy = tug(
        ws.path(),
        &url,
        &["svc", "deploy", "-e", "test", "-n", "checkout"],
    );
    assert_eq!(redeploy.status.code(), Some(0), "{}", stderr(&redeploy));
    assert_eq!(current_revision(&history(ws.path(), &url, "checkout")), 2);

    // --to picks a revision explicitly.
    let to = tug(
        ws.path(),
        &url,
        &[
            "svc", "rollback", "-e", "test", "-n", "checkout", "--to", "1",
        ],
    );
    assert_eq!(to.status.code(), Some(0), "{}", stderr(&to));
    assert_eq!(current_revision(&history(ws.path(), &url, "checkout")), 1);
}

#[test]
fn switching_between_rolling_and_blue_green_deploys_cleanly() {
    let moto = Moto::start(10);
    let ws = strategies_copy("switch");
    let url = moto.url();
    let first = tug(ws.path(), &url, &["deploy", "-e", "test"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));

    // status: rolling → blue/green with a header test route.
    edit(
        ws.path(),
        "status",
        "deployment:\n  rolling: default",
        "deployment:\n  strategy: blue_green\n  test_listener:\n    header:\n      name: x-test\n      values: [\"1\"]",
    );
    let to_bg = tug(
        ws.path(),
        &url,
        &["svc", "deploy", "-e", "test", "-n", "status"],
    );
    assert_eq!(to_bg.status.code(), Some(0), "{}", stderr(&to_bg));
    assert!(stderr(&to_bg).contains("deployed"), "{}", stderr(&to_bg));

    // checkout: blue/green → rolling (its hooks and test route go with the strategy).
    let path = ws.path().join("copilot/checkout/manifest.yml");
    let text = fs::read_to_string(&path).expect("manifest");
    let head = text.split("deployment:").next().expect("head").to_string();
    fs::write(&path, format!("{head}deployment:\n  rolling: default\n")).expect("write");
    let to_rolling = tug(
        ws.path(),
        &url,
        &["svc", "deploy", "-e", "test", "-n", "checkout"],
    );
    assert_eq!(to_rolling.status.code(), Some(0), "{}", stderr(&to_rolling));

    let h = history(ws.path(), &url, "checkout");
    let current = h["deployments"]
        .as_array()
        .expect("deployments")
        .iter()
        .find(|d| d["current"] == true)
        .cloned()
        .expect("current");
    assert_eq!(current["strategy"], "ROLLING", "{current}");
    assert_eq!(current["outcome"], "deployed", "{current}");
}

#[test]
fn continue_without_a_paused_deployment_says_so() {
    let moto = Moto::start(10);
    let ws = strategies_copy("pause");
    let url = moto.url();
    let first = tug(ws.path(), &url, &["deploy", "-e", "test"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let out = tug(
        ws.path(),
        &url,
        &[
            "svc",
            "deploy",
            "-e",
            "test",
            "-n",
            "checkout",
            "--continue",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no deployment of checkout is in progress"),
        "{}",
        stderr(&out)
    );
    let both = tug(
        ws.path(),
        &url,
        &[
            "svc",
            "deploy",
            "-e",
            "test",
            "-n",
            "checkout",
            "--continue",
            "--rollback",
        ],
    );
    assert_eq!(
        both.status.code(),
        Some(2),
        "--continue and --rollback exclude each other"
    );
}
