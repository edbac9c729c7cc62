//! Deploys against moto, the local AWS emulator, through the real `tug` binary.
//!
//! moto (5.2.5) is started by these tests from the test command's virtualenv, through
//! scripts/moto_server.py, which fixes the moto defects listed in that file. What moto does not
//! model is tested another way, and said so: ECS rollbacks by the circuit breaker and failed
//! rollouts (moto never fails a deployment) with recorded ECS responses in
//! `src/deploy/rollout.rs`; a CloudFormation rollback (moto never rolls a stack back) with moto's
//! answers rewritten by the test proxy (`a_stack_rollback_exits_4_with_the_failed_resource`).
//! Not covered against an emulator: deleting and recreating a stack left in ROLLBACK_COMPLETE,
//! and CancelUpdateStack on Ctrl-C (moto answers HTTP 500 to it).

mod support;

use std::fs;

use support::{Fault, FaultProxy, Moto, demo_copy, events, outcomes, stderr, tug};

#[test]
fn deploy_creates_then_noop_then_updates() {
    let moto = Moto::start(10);
    let ws = demo_copy("flow");
    let first = tug(
        ws.path(),
        &moto.url(),
        &["--output", "json", "deploy", "-e", "test"],
    );
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let evs = events(&first);
    let result = outcomes(&evs);
    assert_eq!(
        result.len(),
        5,
        "the environment and four workloads: {result:?}"
    );
    assert!(result.iter().all(|(_, o)| o == "deployed"), "{result:?}");
    assert!(
        evs.iter()
            .any(|e| e["event"] == "change_set" && e["stack"] == "flow-test-web")
    );
    assert!(evs.iter().any(|e| e["event"] == "rollout"
        && e["stack"] == "flow-test-web"
        && e["state"] == "COMPLETED"));
    assert!(
        evs.iter().all(|e| e["time"].is_string()),
        "every event has a time"
    );

    // Nothing changed: no change set is executed and the exit code is 0.
    let again = tug(
        ws.path(),
        &moto.url(),
        &["--output", "json", "deploy", "-e", "test"],
    );
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    let evs = events(&again);
    assert!(
        outcomes(&evs).iter().all(|(_, o)| o == "no changes"),
        "{:?}",
        outcomes(&evs)
    );
    assert!(
        !evs.iter().any(|e| e["event"] == "started"),
        "no change set was executed"
    );

    // A new image: a new task definition revision, rolled out.
    let web = ws.path().join("copilot/web/manifest.yml");
    let text = fs::read_to_string(&web).expect("web manifest");
    fs::write(&web, text.replace("nginx/nginx:1.27", "nginx/nginx:1.28")).expect("write");
    let update = tug(
        ws.path(),
        &moto.url(),
        &[
            "--output", "json", "svc", "deploy", "-n", "web", "-e", "test",
        ],
    );
    assert_eq!(update.status.code(), Some(0), "{}", stderr(&update));
    let evs = events(&update);
    assert_eq!(
        outcomes(&evs),
        [("flow-test-web".to_string(), "deployed".to_string())]
    );
    let started = evs
        .iter()
        .find(|e| e["event"] == "started")
        .expect("started");
    assert_eq!(started["action"], "update");
    let result = evs.iter().find(|e| e["event"] == "result").expect("result");
    assert_eq!(
        result["stacks"][0]["image"],
        "public.ecr.aws/nginx/nginx:1.28"
    );
}

#[test]
fn text_output_has_progress_lines_and_a_summary() {
    let moto = Moto::start(10);
    let ws = demo_copy("text");
    let out = tug(
        ws.path(),
        &moto.url(),
        &["deploy", "-e", "test", "-n", "api"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("text-test-api change set ready"), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("20") && l.contains("T") && l.contains("text-test deployed")),
        "timestamped lines: {err}"
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("STACK")
            && summary.contains("text-test-api")
            && summary.contains("deployed"),
        "{summary}"
    );
}

#[test]
fn workload_before_environment_is_refused_clearly() {
    let moto = Moto::start(10);
    let ws = demo_copy("noenv");
    let out = tug(
        ws.path(),
        &moto.url(),
        &["svc", "deploy", "-n", "web", "-e", "test"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("environment test is not deployed"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("tug env deploy -n test"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_rejected_template_fails_and_is_never_reported_as_success() {
    let moto = Moto::start(10);
    let ws = demo_copy("reject");
    let out = tug(ws.path(), &moto.url(), &["env", "deploy", "-n", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A patch that references a resource that does not exist: the emulator refuses to run it.
    let overrides = ws.path().join("copilot/api/overrides");
    fs::create_dir_all(&overrides).expect("mkdir");
    fs::write(
        overrides.join("cfn.patches.yml"),
        "- op: add\n  path: /Outputs/Broken\n  value:\n    Value:\n      Ref: DoesNotExist\n",
    )
    .expect("patch");
    let out = tug(
        ws.path(),
        &moto.url(),
        &[
            "--output", "json", "svc", "deploy", "-n", "api", "-e", "test",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let evs = events(&out);
    assert_eq!(
        outcomes(&evs),
        [("reject-test-api".to_string(), "failed".to_string())]
    );
    let result = evs.iter().find(|e| e["event"] == "result").expect("result");
    assert_eq!(result["outcome"], "failure");
    // moto answers HTTP 500 once the change set ran; tug gives up reading the stack and says so.
    assert!(
        result["stacks"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("cannot")),
        "{result}"
    );
}

#[test]
fn a_rollout_that_never_completes_times_out_clearly() {
    // No task ever runs: the ECS deployment stays IN_PROGRESS.
    let moto = Moto::start(0);
    let ws = demo_copy("slow");
    let env = tug(ws.path(), &moto.url(), &["env", "deploy", "-n", "test"]);
    assert_eq!(env.status.code(), Some(0), "{}", stderr(&env));
    let out = tug(
        ws.path(),
        &moto.url(),
        &[
            "--output",
            "json",
            "svc",
            "deploy",
            "-n",
            "api",
            "-e",
            "test",
            "--timeout",
            "3s",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let evs = events(&out);
    assert_eq!(
        outcomes(&evs),
        [("slow-test-api".to_string(), "timed out".to_string())]
    );
    let finished = evs
        .iter()
        .find(|e| e["event"] == "finished")
        .expect("finished");
    let detail = finished["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("had not finished rolling out"),
        "{finished}"
    );
    // What runs and where to look: tug's own commands, not stack events (which cannot show a
    // rollout).
    assert!(
        detail.contains("0 of 1 task running, 1 pending, 0 failed"),
        "{detail}"
    );
    assert!(
        detail.contains("`tug svc status -e test -n api` and `tug svc logs -e test -n api`"),
        "{detail}"
    );
    assert!(!detail.contains("describe-stack-events"), "{detail}");
}

// moto (MOTO_ECS_SERVICE_FAILED_TASKS) reports 3 failed tasks and none running: the rollout
// makes no progress, and tug says so at least every 30 s, then times out with the count.
#[test]
fn a_stalled_rollout_is_reported_every_30_seconds() {
    let moto = Moto::start_failing(0, 3);
    let ws = demo_copy("stall");
    let env = tug(ws.path(), &moto.url(), &["env", "deploy", "-n", "test"]);
    assert_eq!(env.status.code(), Some(0), "{}", stderr(&env));
    let started = std::time::Instant::now();
    let out = tug(
        ws.path(),
        &moto.url(),
        &[
            "svc",
            "deploy",
            "-n",
            "api",
            "-e",
            "test",
            "--timeout",
            "35s",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(started.elapsed() >= std::time::Duration::from_secs(35));
    let err = stderr(&out);
    let stalled: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("ECS service") && l.contains("no progress for"))
        .collect();
    assert_eq!(
        stalled.len(),
        1,
        "one line per 30 s without progress: {err}"
    );
    // Said once 30 s have passed without progress; on a loaded machine the check that
    // notices it can come a second or two later, and the line says how long it really was.
    let (_, after) = stalled[0]
        .split_once("no progress for ")
        .expect("the stall line");
    let (seconds, rest) = after.split_once("s: ").expect("seconds, then the counts");
    let seconds: u64 = seconds.parse().expect("whole seconds");
    assert!((30..=34).contains(&seconds), "{err}");
    assert!(
        rest.starts_with("0 of 1 task running, 1 pending, 3 failed so far"),
        "{err}"
    );
    assert!(
        err.contains("had not finished rolling out when the deadline passed: 0 of 1 task running, 1 pending, 3 failed\n"),
        "{err}"
    );
    assert!(err.contains("`tug svc logs -e test -n api`"), "{err}");
}

#[test]
fn detach_returns_once_execution_starts() {
    let moto = Moto::start(0);
    let ws = demo_copy("detach");
    let out = tug(
        ws.path(),
        &moto.url(),
        &[
            "--output", "json", "deploy", "-e", "test", "-n", "api", "--detach",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let result = outcomes(&events(&out));
    assert!(result.iter().all(|(_, o)| o == "detached"), "{result:?}");
}

#[test]
fn diff_without_a_terminal_needs_yes() {
    let moto = Moto::start(10);
    let ws = demo_copy("diff");
    let out = tug(
        ws.path(),
        &moto.url(),
        &["--output", "json", "env", "deploy", "-n", "test", "--diff"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Changes to diff-test"),
        "the diff is shown: {}",
        stderr(&out)
    );
    assert!(outcomes(&events(&out))[0].1 == "failed");
    let out = tug(
        ws.path(),
        &moto.url(),
        &[
            "--yes", "--output", "json", "env", "deploy", "-n", "test", "--diff",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(outcomes(&events(&out))[0].1, "deployed");
}

/// Every fourth request is throttled, fails with 503 or is slowed down: the SDK's retries
/// absorb them and the deploy completes, correctly.
fn every_fourth(n: usize, _action: &str) -> Fault {
    match n % 12 {
        1 => Fault::Throttle,
        5 => Fault::ServerError,
        9 => Fault::Slow,
        _ => Fault::Pass,
    }
}

#[test]
fn deploys_survive_throttling_5xx_and_slow_responses() {
    let moto = Moto::start(10);
    let proxy = FaultProxy::start(moto.port, every_fourth);
    let ws = demo_copy("faulty");
    let out = tug(
        ws.path(),
        &proxy.url(),
        &["--output", "json", "deploy", "-e", "test"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let result = outcomes(&events(&out));
    assert!(result.iter().all(|(_, o)| o == "deployed"), "{result:?}");
    assert!(
        proxy.faults.load(std::sync::atomic::Ordering::SeqCst) >= 3,
        "faults were injected"
    );
    // What tug reported is what exists: a direct redeploy finds nothing to change.
    let again = tug(
        ws.path(),
        &moto.url(),
        &["--output", "json", "deploy", "-e", "test"],
    );
    assert!(
        outcomes(&events(&again))
            .iter()
            .all(|(_, o)| o == "no changes")
    );
}

fn change_sets_always_fail(_n: usize, action: &str) -> Fault {
    if action == "CreateChangeSet" {
        Fault::ServerError
    } else {
        Fault::Pass
    }
}

#[test]
fn persistent_failures_end_in_a_clear_failure() {
    let moto = Moto::start(10);
    let proxy = FaultProxy::start(moto.port, change_sets_always_fail);
    let ws = demo_copy("broken");
    let out = tug(
        ws.path(),
        &proxy.url(),
        &["--output", "json", "env", "deploy", "-n", "test"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let evs = events(&out);
    assert_eq!(
        outcomes(&evs),
        [("broken-test".to_string(), "failed".to_string())]
    );
    let detail = evs
        .iter()
        .find(|e| e["event"] == "result")
        .and_then(|r| r["stacks"][0]["detail"].as_str().map(str::to_string))
        .unwrap_or_default();
    assert!(detail.contains("cannot create a change set"), "{detail}");
}

#[test]
fn ctrl_c_stops_watching_and_says_what_goes_on() {
    use std::io::BufRead;
    // The rollout never completes, so tug is still watching when it is interrupted.
    let moto = Moto::start(0);
    let ws = demo_copy("intr");
    let env = tug(ws.path(), &moto.url(), &["env", "deploy", "-n", "test"]);
    assert_eq!(env.status.code(), Some(0), "{}", stderr(&env));
    let mut child = support::tug_command(ws.path(), &moto.url())
        .args([
            "--output",
            "json",
            "svc",
            "deploy",
            "-n",
            "api",
            "-e",
            "test",
            "--timeout",
            "5m",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tug starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        let watching = line.contains("\"event\":\"rollout\"");
        seen.push(line);
        if watching {
            break;
        }
    }
    assert!(
        seen.iter().any(|l| l.contains("rollout")),
        "tug never reached the rollout: {seen:?}"
    );
    support::interrupt(&child);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("tug ends");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let result = support::result_line(&rest);
    assert!(result.contains("interrupted"), "{result}");
    assert!(result.contains("goes on in AWS"), "{result}");
}

/// A stand-in for the docker CLI (no Docker engine runs here): it records its arguments and
/// answers `login`, `build`, `image inspect`, `tag` and `push` as docker does, `push` with the
/// digest line tug reads.
const FAKE_DOCKER: &str = r#"#!/bin/sh
echo "$@" >> "$FAKE_DOCKER_LOG"
case "$1" in
  login) cat >/dev/null; echo "Login Succeeded" ;;
  build) echo "built" ;;
  image) echo "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" ;;
  tag) ;;
  push) echo "latest: digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef size: 1234" ;;
  *) exit 1 ;;
esac
"#;

#[test]
fn built_images_are_pushed_to_their_repository_and_deployed_by_digest() {
    use std::os::unix::fs::PermissionsExt;
    let moto = Moto::start(10);
    let ws = demo_copy("build");
    let bin = ws.path().join("bin");
    fs::create_dir_all(&bin).expect("mkdir");
    let docker = bin.join("docker");
    fs::write(&docker, FAKE_DOCKER).expect("write");
    fs::set_permissions(&docker, fs::Permissions::from_mode(0o755)).expect("chmod");
    let log = ws.path().join("docker.log");
    let api = ws.path().join("copilot/api/manifest.yml");
    let text = fs::read_to_string(&api).expect("api");
    let location = text
        .lines()
        .find(|l| l.trim_start().starts_with("location:"))
        .expect("a location line")
        .to_string();
    fs::write(&api, text.replace(&location, "  build: api/Dockerfile")).expect("write");
    fs::create_dir_all(ws.path().join("api")).expect("mkdir");
    fs::write(ws.path().join("api/Dockerfile"), "FROM python:3.12-slim\n").expect("Dockerfile");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |args: &[&str]| {
        support::tug_command(ws.path(), &moto.url())
            .args(args)
            .env("PATH", &path)
            .env("FAKE_DOCKER_LOG", &log)
            .output()
            .expect("tug runs")
    };
    let out = run(&[
        "--output", "json", "deploy", "-e", "test", "-n", "api", "--tag", "v7",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let evs = events(&out);
    let result = evs.iter().find(|e| e["event"] == "result").expect("result");
    let image = result["stacks"][1]["image"].as_str().expect("an image");
    assert!(
        image.ends_with(
            "/build/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        ),
        "{image}"
    );
    let calls = fs::read_to_string(&log).expect("docker was called");
    assert!(
        calls.contains("login --username AWS --password-stdin"),
        "{calls}"
    );
    assert!(
        calls.contains("build --file") && calls.contains("/build/api:v7"),
        "{calls}"
    );
    assert!(
        calls.contains("push ") && calls.contains("/build/api:v7"),
        "{calls}"
    );
    // The build's own tag is pushed first: the deployed digest keeps a tag when `v7` moves.
    let build_push = calls
        .find("/build/api:v7-9f86d081884c\n")
        .expect("the build tag is pushed");
    let tag_push = calls.rfind("/build/api:v7\n").expect("the tag is pushed");
    assert!(build_push < tag_push, "{calls}");

    // The repository's lifecycle policy expires untagged images only (read back from moto,
    // which stores the policy text as given; ECR's own evaluation is not modelled).
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let policy = runtime.block_on(async {
        // SAFETY of the test: credentials for the emulator only.
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        }
        let aws = tug::deploy::aws::Aws::connect(&tug::deploy::aws::AwsSettings {
            profile: None,
            region: Some("us-east-1".into()),
            endpoint_url: Some(moto.url()),
        })
        .await
        .expect("connects");
        aws.ecr
            .get_lifecycle_policy()
            .repository_name("build/api")
            .send()
            .await
            .expect("a lifecycle policy")
            .lifecycle_policy_text()
            .unwrap_or_default()
            .to_string()
    });
    let policy: serde_json::Value = serde_json::from_str(&policy).expect("JSON policy");
    assert_eq!(policy, tug::deploy::images::lifecycle_policy());
}

#[test]
fn a_stack_is_deleted_through_the_engine() {
    let moto = Moto::start(10);
    let ws = demo_copy("gone");
    let out = tug(
        ws.path(),
        &moto.url(),
        &["deploy", "-e", "test", "-n", "api"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let settings = tug::deploy::aws::AwsSettings {
            profile: None,
            region: Some("us-east-1".into()),
            endpoint_url: Some(moto.url()),
        };
        // SAFETY of the test: credentials for the emulator only.
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        }
        let aws = tug::deploy::aws::Aws::connect(&settings)
            .await
            .expect("connects");
        assert!(
            tug::deploy::stack::describe(&aws, "gone-test-api")
                .await
                .expect("reads")
                .is_some()
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        tug::deploy::stack::delete_and_wait(&aws, "gone-test-api", deadline)
            .await
            .expect("deletes");
        assert!(
            tug::deploy::stack::describe(&aws, "gone-test-api")
                .await
                .expect("reads")
                .is_none()
        );
    });
    // Deploying again creates it anew.
    let again = tug(
        ws.path(),
        &moto.url(),
        &[
            "--output", "json", "svc", "deploy", "-n", "api", "-e", "test",
        ],
    );
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}\n{}",
        stderr(&again),
        String::from_utf8_lossy(&again.stdout)
    );
    let evs = events(&again);
    assert!(
        evs.iter()
            .any(|e| e["event"] == "started" && e["action"] == "create")
    );
}

fn pass(_n: usize, _action: &str) -> Fault {
    Fault::Pass
}

/// moto never rolls a stack back; this proxy stages CloudFormation's answers for one: the
/// update ends in UPDATE_ROLLBACK_COMPLETE after the service failed to stabilize.
fn staged_rollback(action: &str, body: String) -> String {
    match action {
        "DescribeStacks" => body.replace("<StackStatus>UPDATE_COMPLETE</StackStatus>", "<StackStatus>UPDATE_ROLLBACK_COMPLETE</StackStatus>"),
        "DescribeStackEvents" if body.contains("UPDATE_COMPLETE") => body.replacen(
            "<member>",
            "<member><EventId>staged-failure</EventId><StackName>roll-test-api</StackName><LogicalResourceId>Service</LogicalResourceId><ResourceType>AWS::ECS::Service</ResourceType><ResourceStatus>UPDATE_FAILED</ResourceStatus><ResourceStatusReason>Resource handler returned message: Service did not stabilize.</ResourceStatusReason><Timestamp>2026-11-22T00:00:00Z</Timestamp></member><member>",
            1,
        ),
        _ => body,
    }
}

#[test]
fn a_stack_rollback_exits_4_with_the_failed_resource() {
    let moto = Moto::start(10);
    let ws = demo_copy("roll");
    let out = tug(
        ws.path(),
        &moto.url(),
        &["deploy", "-e", "test", "-n", "api"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let api = ws.path().join("copilot/api/manifest.yml");
    let text = fs::read_to_string(&api).expect("api");
    fs::write(&api, text.replace("python:3.12-slim", "python:3.13-slim")).expect("write");
    let proxy = FaultProxy::with_rewrite(moto.port, pass, staged_rollback);
    let out = tug(
        ws.path(),
        &proxy.url(),
        &[
            "--output", "json", "svc", "deploy", "-n", "api", "-e", "test",
        ],
    );
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let evs = events(&out);
    assert_eq!(
        outcomes(&evs),
        [("roll-test-api".to_string(), "rolled back".to_string())]
    );
    let result = evs.iter().find(|e| e["event"] == "result").expect("result");
    let detail = result["stacks"][0]["detail"].as_str().unwrap_or("");
    assert!(detail.contains("Service (AWS::ECS::Service): Resource handler returned message: Service did not stabilize."), "{detail}");
}

#[test]
fn diff_shows_what_a_deploy_would_change_and_changes_nothing() {
    let moto = Moto::start(10);
    let ws = demo_copy("delta");
    let url = moto.url();
    let out = tug(ws.path(), &url, &["deploy", "-e", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // Nothing changed yet.
    let same = tug(ws.path(), &url, &["diff", "-e", "test"]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    let text = String::from_utf8_lossy(&same.stdout).into_owned();
    for stack in ["delta-test", "delta-test-web", "delta-test-api"] {
        assert!(text.contains(&format!("{stack}: no changes")), "{text}");
    }

    // A new variable for web: its task definition changes, and only that stack.
    let path = ws.path().join("copilot/web/manifest.yml");
    let manifest = fs::read_to_string(&path).expect("manifest");
    let changed = manifest.replacen("variables:\n", "variables:\n  FEATURE_FLAG: \"on\"\n", 1);
    assert_ne!(changed, manifest);
    fs::write(&path, changed).expect("write");
    let out = tug(ws.path(), &url, &["--output", "json", "diff", "-e", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let stacks = doc["stacks"].as_array().expect("stacks");
    let web = stacks
        .iter()
        .find(|s| s["stack"] == "delta-test-web")
        .expect("web");
    assert_eq!(web["state"], "update", "{web}");
    assert!(
        web["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .any(|c| c["logical_id"] == "TaskDefinition" && c["action"] == "Modify"),
        "{web}"
    );
    assert!(
        web["template"]
            .as_array()
            .expect("template diff")
            .iter()
            .any(|l| l
                .as_str()
                .is_some_and(|l| l.starts_with('+') && l.contains("FEATURE_FLAG"))),
        "{web}"
    );
    for other in stacks.iter().filter(|s| s["stack"] != "delta-test-web") {
        assert_eq!(other["state"], "no changes", "{other}");
    }

    // The diff executed nothing: the deploy still has the change to make.
    let out = tug(
        ws.path(),
        &url,
        &["--output", "json", "deploy", "-e", "test", "-n", "web"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        outcomes(&events(&out)).contains(&("delta-test-web".to_string(), "deployed".to_string())),
        "{}",
        stderr(&out)
    );

    // A workload that is not deployed anywhere yet is new.
    let out = tug(ws.path(), &url, &["diff", "-e", "prod", "-n", "web"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("delta-prod-web: create"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn app_init_creates_the_repositories_of_building_workloads() {
    let moto = Moto::start(10);
    let ws = demo_copy("appinit");
    let url = moto.url();
    // The demo's images are all pulled by location: no repository, but the artifacts bucket
    // (as Copilot made its bucket at `app init`).
    let out = tug(ws.path(), &url, &["app", "init"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no ECR repository to create"),
        "{}",
        stderr(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("S3 bucket tug-appinit-123456789012-us-east-1 (artifacts): created"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // web builds its image from a Dockerfile.
    let path = ws.path().join("copilot/web/manifest.yml");
    let manifest = fs::read_to_string(&path).expect("manifest");
    let start = manifest.find("image:").expect("image block");
    let end = manifest[start..]
        .find("\n\n")
        .map_or(manifest.len(), |e| start + e);
    let changed = format!(
        "{}image:\n  build: Dockerfile\n  port: 80{}",
        &manifest[..start],
        &manifest[end..]
    );
    fs::write(&path, changed).expect("write");
    let out = tug(ws.path(), &url, &["--output", "json", "app", "init"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["repositories"][0]["repository"], "appinit/web", "{doc}");
    assert_eq!(doc["repositories"][0]["result"], "created", "{doc}");
    assert_eq!(doc["artifacts_bucket"]["result"], "exists", "{doc}");
    assert_eq!(
        doc["repositories"].as_array().map(Vec::len),
        Some(1),
        "{doc}"
    );

    // Again: it exists, and nothing changes.
    let out = tug(ws.path(), &url, &["app", "init"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("ECR repository appinit/web: exists"),
        "{text}"
    );

    // A repository still carrying the count-based policy of earlier versions (which could
    // expire a deployed image) gets the untagged-only one; moto stores what it is given.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let aws = runtime.block_on(async {
        // SAFETY of the test: credentials for the emulator only.
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        }
        tug::deploy::aws::Aws::connect(&tug::deploy::aws::AwsSettings {
            profile: None,
            region: Some("us-east-1".into()),
            endpoint_url: Some(url.clone()),
        })
        .await
        .expect("connects")
    });
    let earlier = r#"{"rules":[{"rulePriority":1,"description":"keep the last 30 images","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":30},"action":{"type":"expire"}}]}"#;
    runtime.block_on(async {
        aws.ecr
            .put_lifecycle_policy()
            .repository_name("appinit/web")
            .lifecycle_policy_text(earlier)
            .send()
            .await
            .expect("put");
    });
    let out = tug(ws.path(), &url, &["app", "init"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let policy = runtime.block_on(async {
        aws.ecr
            .get_lifecycle_policy()
            .repository_name("appinit/web")
            .send()
            .await
            .expect("get")
            .lifecycle_policy_text()
            .unwrap_or_default()
            .to_string()
    });
    let policy: serde_json::Value = serde_json::from_str(&policy).expect("JSON");
    assert_eq!(policy, tug::deploy::images::lifecycle_policy());
}
