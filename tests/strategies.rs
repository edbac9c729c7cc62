//! Blue/green, canary and linear services against moto through the real `tug` binary: they
//! deploy and redeploy, switch to and from rolling, and `tug history` and `tug svc rollback`
//! work on what moto records (task definition revisions and their tags).
//!
//! moto keeps no ECS service-deployment records (scripts/moto_server.py answers those APIs with
//! empty lists, as ECS does for a service without any). Lifecycle stages, traffic splits and
//! PAUSE hooks awaiting action are therefore tested with recorded ECS responses: unit tests in
//! `src/deploy/lifecycle.rs`, and here end to end, with the test proxy answering
//! ListServiceDeployments, DescribeServiceDeployments and ContinueServiceDeployment from recorded
//! responses while everything else goes to moto (`a_paused_deployment_is_reported_and_answered`).

mod support;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::{FaultProxy, Moto, example_copy, stderr, tug, tug_command};

/// The strategies example under a new application name.
fn strategies_copy(app: &str) -> tempfile::TempDir {
    example_copy("strategies", app)
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
    // The production rule changes: tug says what that does to traffic and wants --yes.
    let refused = tug(
        ws.path(),
        &url,
        &["svc", "deploy", "-e", "test", "-n", "checkout"],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("changes the production listener rule HTTPListenerRule")
            && stderr(&refused).contains("pass --yes"),
        "{}",
        stderr(&refused)
    );
    // It also removes the alternate target group, which ECS may be serving from: a removal
    // that needs consent of its own.
    let no_consent = tug(
        ws.path(),
        &url,
        &["--yes", "svc", "deploy", "-e", "test", "-n", "checkout"],
    );
    assert_eq!(no_consent.status.code(), Some(1), "{}", stderr(&no_consent));
    assert!(
        stderr(&no_consent).contains("remove      AlternateTargetGroup"),
        "{}",
        stderr(&no_consent)
    );
    let to_rolling = tug(
        ws.path(),
        &url,
        &[
            "--yes",
            "svc",
            "deploy",
            "-e",
            "test",
            "-n",
            "checkout",
            "--allow-replacements",
        ],
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

/// Where the recorded deployment stands: before the pause, paused, continued, rolled back.
static PHASE: AtomicUsize = AtomicUsize::new(0);
const TESTING: usize = 0;
const PAUSED: usize = 1;
const CONTINUED: usize = 2;
const ROLLED_BACK: usize = 3;
/// ContinueServiceDeployment requests the proxy received.
static ANSWERS: Mutex<Vec<String>> = Mutex::new(Vec::new());

const DEPLOYMENT_ARN: &str =
    "arn:aws:ecs:us-east-1:123456789012:service-deployment/pause-test/checkout/Rx0123456789";

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A DescribeServiceDeployments answer, shaped as ECS records a blue/green deployment of
/// `checkout` with a PAUSE hook before production traffic moves.
fn recorded_deployment(phase: usize) -> String {
    let (status, stage, production, test, hook) = match phase {
        TESTING => (
            "IN_PROGRESS",
            "TEST_TRAFFIC_SHIFT",
            0.0,
            100.0,
            "IN_PROGRESS",
        ),
        PAUSED => (
            "IN_PROGRESS",
            "PRE_PRODUCTION_TRAFFIC_SHIFT",
            0.0,
            100.0,
            "AWAITING_ACTION",
        ),
        CONTINUED => ("SUCCESSFUL", "CLEAN_UP", 100.0, 100.0, "SUCCEEDED"),
        _ => ("ROLLBACK_SUCCESSFUL", "CLEAN_UP", 0.0, 0.0, "FAILED"),
    };
    let rollback = if phase == ROLLED_BACK {
        r#","rollback":{"reason":"Service deployment rolled back because the lifecycle hook was answered with ROLLBACK."}"#
    } else {
        ""
    };
    format!(
        r#"{{"serviceDeployments":[{{"serviceDeploymentArn":"{DEPLOYMENT_ARN}","serviceArn":"arn:aws:ecs:us-east-1:123456789012:service/pause-test/checkout","clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/pause-test","createdAt":{created},"status":"{status}","lifecycleStage":"{stage}","deploymentConfiguration":{{"strategy":"BLUE_GREEN","bakeTimeInMinutes":10}},"targetServiceRevision":{{"arn":"arn:aws:ecs:us-east-1:123456789012:service-revision/pause-test/checkout/2","requestedTaskCount":2,"runningTaskCount":2,"pendingTaskCount":0,"requestedProductionTrafficWeight":{production},"requestedTestTrafficWeight":{test}}},"lifecycleHookDetails":[{{"hookId":"hook-pause-1","targetType":"PAUSE","status":"{hook}","expiresAt":{expires},"timeoutAction":"ROLLBACK"}}]{rollback}}}],"failures":[]}}"#,
        created = now() - 5.0,
        expires = now() + 7200.0,
    )
}

fn recorded_answers(action: &str, body: &str) -> Option<String> {
    match action {
        "ListServiceDeployments" => Some(format!(
            r#"{{"serviceDeployments":[{{"serviceDeploymentArn":"{DEPLOYMENT_ARN}","status":"IN_PROGRESS"}}]}}"#
        )),
        "DescribeServiceDeployments" => {
            let phase = PHASE.load(Ordering::SeqCst);
            // The pause comes after the test traffic shift has been seen once.
            if phase == TESTING {
                PHASE.store(PAUSED, Ordering::SeqCst);
            }
            Some(recorded_deployment(phase))
        }
        "ContinueServiceDeployment" => {
            ANSWERS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(body.to_string());
            let rollback = body.contains("ROLLBACK");
            PHASE.store(
                if rollback { ROLLED_BACK } else { CONTINUED },
                Ordering::SeqCst,
            );
            Some(format!(r#"{{"serviceDeploymentArn":"{DEPLOYMENT_ARN}"}}"#))
        }
        _ => None,
    }
}

/// Starts `tug --output json svc deploy` for checkout and reads its events until the PAUSE
/// hook is reported; returns the child (the caller waits for it) and the events so far.
// A failed expectation here ends the test process, and the child with it (closed pipe).
#[allow(clippy::zombie_processes)]
fn deploy_until_paused(
    ws: &Path,
    url: &str,
) -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    Vec<serde_json::Value>,
) {
    let mut child = tug_command(ws, url)
        .args([
            "--output",
            "json",
            "svc",
            "deploy",
            "-e",
            "test",
            "-n",
            "checkout",
            "--timeout",
            "2m",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("tug starts");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut events = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("read") == 0 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tug ended before reporting the pause: {events:#?}");
        }
        let event: serde_json::Value = serde_json::from_str(&line).expect("NDJSON");
        let paused = event["event"] == "hook_waiting";
        events.push(event);
        if paused {
            return (child, reader, events);
        }
    }
}

fn rest(
    mut child: std::process::Child,
    reader: BufReader<std::process::ChildStdout>,
) -> (Option<i32>, Vec<serde_json::Value>) {
    let events = reader
        .lines()
        .map(|l| serde_json::from_str(&l.expect("line")).expect("NDJSON"))
        .collect();
    (child.wait().expect("tug exits").code(), events)
}

#[test]
fn a_paused_deployment_is_reported_and_answered() {
    let moto = Moto::start(10);
    let ws = strategies_copy("pause");
    let first = tug(ws.path(), &moto.url(), &["deploy", "-e", "test"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let proxy = FaultProxy::with_answers(moto.port, recorded_answers);

    // Continue: the deploy waits at the pause, says how to go on, and ends when ECS does.
    PHASE.store(TESTING, Ordering::SeqCst);
    edit(
        ws.path(),
        "checkout",
        "count: 2",
        "count: 2\nvariables:\n  RELEASE: \"2\"",
    );
    let (child, reader, events) = deploy_until_paused(ws.path(), &proxy.url());
    assert!(
        events.iter().any(|e| e["event"] == "stage"
            && e["text"] == "TEST_TRAFFIC_SHIFT: new revision gets production 0%, test 100%"),
        "{events:#?}"
    );
    let waiting = events.last().expect("the pause");
    assert_eq!(waiting["hook_id"], "hook-pause-1");
    assert_eq!(waiting["timeout_action"], "ROLLBACK");
    assert_eq!(
        waiting["continue_command"],
        "tug svc deploy -e test -n checkout --continue"
    );
    assert_eq!(
        waiting["rollback_command"],
        "tug svc deploy -e test -n checkout --rollback"
    );
    let answer = tug(
        ws.path(),
        &proxy.url(),
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
    assert_eq!(answer.status.code(), Some(0), "{}", stderr(&answer));
    {
        let answers = ANSWERS.lock().unwrap_or_else(|e| e.into_inner());
        assert_eq!(answers.len(), 1);
        assert!(
            answers[0].contains("hook-pause-1") && answers[0].contains("CONTINUE"),
            "{}",
            answers[0]
        );
    }
    let (code, events) = rest(child, reader);
    assert_eq!(code, Some(0), "{events:#?}");
    let result = events
        .iter()
        .find(|e| e["event"] == "result")
        .expect("result");
    assert_eq!(result["stacks"][0]["outcome"], "deployed", "{result}");

    // Roll back: the answering command succeeds, the deploy it answered is a rollback (exit 4).
    PHASE.store(TESTING, Ordering::SeqCst);
    edit(ws.path(), "checkout", "RELEASE: \"2\"", "RELEASE: \"3\"");
    let (child, reader, _) = deploy_until_paused(ws.path(), &proxy.url());
    let answer = tug(
        ws.path(),
        &proxy.url(),
        &[
            "svc",
            "deploy",
            "-e",
            "test",
            "-n",
            "checkout",
            "--rollback",
        ],
    );
    assert_eq!(answer.status.code(), Some(0), "{}", stderr(&answer));
    assert!(
        ANSWERS.lock().unwrap_or_else(|e| e.into_inner())[1].contains("ROLLBACK"),
        "the hook was answered with ROLLBACK"
    );
    let (code, events) = rest(child, reader);
    assert_eq!(code, Some(4), "{events:#?}");
    let result = events
        .iter()
        .find(|e| e["event"] == "result")
        .expect("result");
    assert_eq!(result["stacks"][0]["outcome"], "rolled back", "{result}");
    assert!(
        result["stacks"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("answered with ROLLBACK")),
        "{result}"
    );
}
