//! The deploy engine where real AWS (and real interrupts and retries) differ from what moto
//! shows, through the real `tug` binary:
//!
//! - an unchanged stack whose ECS rollout never finished is not "no changes" (moto started with
//!   no running tasks keeps the deployment IN_PROGRESS);
//! - Ctrl-C: no change set is created or executed after it (the loopback proxy delays
//!   CreateChangeSet so that the signal lands while one is being created, and records when each
//!   request arrives);
//! - retries after lost answers: the proxy lets a CreateChangeSet / ExecuteChangeSet reach moto
//!   and drops its answer, then answers the SDK's retry as CloudFormation answers a repeated
//!   call (AlreadyExistsException for a change set name that exists, InvalidChangeSetStatus for
//!   a change set already executed), where moto would instead create a second change set or
//!   execute again.

mod support;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::{Fault, FaultProxy, Moto, demo_copy, events, outcomes, stderr, tug};

#[test]
fn an_unfinished_rollout_is_not_reported_as_no_changes() {
    // No task ever runs: the deployment stays IN_PROGRESS, 0 of 1 running.
    let moto = Moto::start(0);
    let ws = demo_copy("stuck");
    let env = tug(ws.path(), &moto.url(), &["env", "deploy", "-n", "test"]);
    assert_eq!(env.status.code(), Some(0), "{}", stderr(&env));
    let args = [
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
    ];
    let first = tug(ws.path(), &moto.url(), &args);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));

    // The same deploy again, as a CI retry would: nothing to change in the stack, but the
    // service is still not running, so it is not a success.
    let again = tug(ws.path(), &moto.url(), &args);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    let evs = events(&again);
    assert_eq!(
        outcomes(&evs),
        [("stuck-test-api".to_string(), "timed out".to_string())]
    );
    assert!(
        evs.iter().any(|e| e["event"] == "message"
            && e["text"]
                .as_str()
                .is_some_and(|t| t.contains("has no changes, but its ECS service has not finished rolling out (0 of 1 tasks running"))),
        "{evs:?}"
    );
    assert!(
        !evs.iter().any(|e| e["event"] == "started"),
        "nothing was executed"
    );
}

/// When each CreateChangeSet and ExecuteChangeSet request reached the proxy.
static CALLS: Mutex<Vec<(Instant, String)>> = Mutex::new(Vec::new());

fn slow_change_sets(_n: usize, action: &str) -> Fault {
    if action == "CreateChangeSet" || action == "ExecuteChangeSet" {
        CALLS
            .lock()
            .expect("calls")
            .push((Instant::now(), action.to_string()));
    }
    if action == "CreateChangeSet" {
        Fault::Slow
    } else {
        Fault::Pass
    }
}

#[test]
fn ctrl_c_stops_before_the_next_change_set() {
    let moto = Moto::start(10);
    let ws = demo_copy("sigint");
    let env = tug(ws.path(), &moto.url(), &["env", "deploy", "-n", "test"]);
    assert_eq!(env.status.code(), Some(0), "{}", stderr(&env));
    let proxy = FaultProxy::start(moto.port, slow_change_sets);
    let child = support::tug_command(ws.path(), &proxy.url())
        .args([
            "--output",
            "json",
            "deploy",
            "-e",
            "test",
            "--concurrency",
            "1",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tug starts");
    // Wait until the first change set is being created (the unchanged environment needs none:
    // it is a workload's), then interrupt.
    let deadline = Instant::now() + Duration::from_secs(60);
    while CALLS.lock().expect("calls").is_empty() {
        assert!(Instant::now() < deadline, "no change set was ever created");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    support::interrupt(&child);
    let out = child.wait_with_output().expect("tug ends");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let calls = CALLS.lock().expect("calls").clone();
    let after: Vec<&String> = calls
        .iter()
        .filter(|(t, _)| *t > signalled)
        .map(|(_, a)| a)
        .collect();
    assert!(after.is_empty(), "called after the interrupt: {after:?}");
    assert!(
        !calls.iter().any(|(_, a)| a == "ExecuteChangeSet"),
        "{calls:?}"
    );
    let evs = events(&out);
    let rows = outcomes(&evs);
    assert_eq!(rows.len(), 5, "{rows:?}");
    assert_eq!(
        rows[0],
        ("sigint-test".to_string(), "no changes".to_string())
    );
    for (stack, outcome) in &rows[1..] {
        assert_eq!(outcome, "interrupted", "{stack}");
    }
    // The one workload whose change set was being created is left unchanged (its change set
    // deleted, never executed); the others were never started.
    let result = evs.iter().find(|e| e["event"] == "result").expect("result");
    let details: Vec<&str> = result["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .skip(1)
        .map(|s| s["detail"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        details
            .iter()
            .filter(|d| d.ends_with("is unchanged"))
            .count(),
        1,
        "{result}"
    );
    assert_eq!(
        details
            .iter()
            .filter(|d| d.starts_with("not started: interrupted before"))
            .count(),
        3,
        "{result}"
    );
    let check = tug(
        ws.path(),
        &moto.url(),
        &["--output", "json", "env", "show", "-n", "test"],
    );
    assert!(
        !String::from_utf8_lossy(&check.stdout).contains("sigint-test-web"),
        "no workload stack was created"
    );
}

static CREATES: AtomicUsize = AtomicUsize::new(0);
static EXECUTES: AtomicUsize = AtomicUsize::new(0);

/// The first CreateChangeSet and ExecuteChangeSet take effect but their answers are lost;
/// the SDK's retries get CloudFormation's answers to a repeated call.
fn lost_answers(_n: usize, action: &str) -> Fault {
    match action {
        "CreateChangeSet" => match CREATES.fetch_add(1, Ordering::SeqCst) {
            0 => Fault::DropAnswer,
            1 => Fault::Error(
                "AlreadyExistsException",
                "ChangeSet tug-retried already exists",
            ),
            _ => Fault::Pass,
        },
        "ExecuteChangeSet" => match EXECUTES.fetch_add(1, Ordering::SeqCst) {
            0 => Fault::DropAnswer,
            1 => Fault::Error(
                "InvalidChangeSetStatus",
                "ChangeSet [tug-retried] cannot be executed in its current status of [EXECUTE_COMPLETE]",
            ),
            _ => Fault::Pass,
        },
        _ => Fault::Pass,
    }
}

#[test]
fn retries_after_lost_answers_continue_the_deploy() {
    let moto = Moto::start(10);
    let ws = demo_copy("lost");
    let env = tug(ws.path(), &moto.url(), &["env", "deploy", "-n", "test"]);
    assert_eq!(env.status.code(), Some(0), "{}", stderr(&env));
    let proxy = FaultProxy::start(moto.port, lost_answers);
    let out = tug(
        ws.path(),
        &proxy.url(),
        &[
            "--output", "json", "svc", "deploy", "-n", "api", "-e", "test",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        outcomes(&events(&out)),
        [("lost-test-api".to_string(), "deployed".to_string())]
    );
    assert!(
        CREATES.load(Ordering::SeqCst) >= 2,
        "the create was retried"
    );
    assert!(
        EXECUTES.load(Ordering::SeqCst) >= 2,
        "the execute was retried"
    );
}

static NOOP_CHANGE_SETS: AtomicUsize = AtomicUsize::new(0);

fn count_change_sets(_n: usize, action: &str) -> Fault {
    if action == "CreateChangeSet" {
        NOOP_CHANGE_SETS.fetch_add(1, Ordering::SeqCst);
    }
    Fault::Pass
}

/// Deploys the demo (app `app`) to moto, then deploys it again unchanged through a proxy
/// with `schedule`, and checks that every stack reported no changes.
fn deployed_then_unchanged(
    app: &str,
    schedule: fn(usize, &str) -> Fault,
) -> (Moto, tempfile::TempDir, FaultProxy) {
    deployed_then_unchanged_through(app, |port| FaultProxy::start(port, schedule))
}

/// [`deployed_then_unchanged`], through the proxy `proxy` makes in front of moto's port.
fn deployed_then_unchanged_through(
    app: &str,
    proxy: impl FnOnce(u16) -> FaultProxy,
) -> (Moto, tempfile::TempDir, FaultProxy) {
    let moto = Moto::start(10);
    let ws = demo_copy(app);
    let first = tug(ws.path(), &moto.url(), &["deploy", "-e", "test"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let proxy = proxy(moto.port);
    let again = tug(
        ws.path(),
        &proxy.url(),
        &["--output", "json", "deploy", "-e", "test"],
    );
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        outcomes(&events(&again))
            .iter()
            .all(|(_, o)| o == "no changes"),
        "{}",
        stderr(&again)
    );
    (moto, ws, proxy)
}

/// An unchanged deploy compares the deployed templates and parameters with the rendered ones
/// and creates no change set (on AWS each takes seconds to compute); a changed one still does.
#[test]
fn an_unchanged_deploy_creates_no_change_set() {
    let (_moto, ws, proxy) = deployed_then_unchanged("same", count_change_sets);
    assert_eq!(NOOP_CHANGE_SETS.load(Ordering::SeqCst), 0);

    let web = ws.path().join("copilot/web/manifest.yml");
    let text = std::fs::read_to_string(&web).expect("manifest");
    std::fs::write(&web, text.replace("nginx/nginx:1.27", "nginx/nginx:1.28")).expect("write");
    let changed = tug(
        ws.path(),
        &proxy.url(),
        &["--output", "json", "deploy", "-e", "test"],
    );
    assert_eq!(changed.status.code(), Some(0), "{}", stderr(&changed));
    assert_eq!(
        NOOP_CHANGE_SETS.load(Ordering::SeqCst),
        1,
        "only web changed"
    );
}

static CANCELS: AtomicUsize = AtomicUsize::new(0);

fn count_cancels(_n: usize, action: &str) -> Fault {
    if action == "CancelUpdateStack" {
        CANCELS.fetch_add(1, Ordering::SeqCst);
    }
    Fault::Pass
}

/// moto creates a stack at once; on AWS a creation takes minutes. The proxy shows the api
/// stack as CREATE_IN_PROGRESS (as DescribeStacks answers during a real creation).
fn still_creating(action: &str, body: String) -> String {
    if action == "DescribeStacks" && body.contains("crt-test-api") {
        body.replace("CREATE_COMPLETE", "CREATE_IN_PROGRESS")
    } else {
        body
    }
}

/// Ctrl-C during a creation: a creation cannot be cancelled (CancelUpdateStack is for
/// updates), so tug stops at once, says the creation goes on and how to undo it, and exits 130.
#[test]
fn ctrl_c_during_a_creation_says_it_goes_on_and_how_to_undo_it() {
    use std::io::BufRead;
    let moto = Moto::start(10);
    let ws = demo_copy("crt");
    let env = tug(ws.path(), &moto.url(), &["env", "deploy", "-n", "test"]);
    assert_eq!(env.status.code(), Some(0), "{}", stderr(&env));
    let proxy = FaultProxy::with_rewrite(moto.port, count_cancels, still_creating);
    let mut child = support::tug_command(ws.path(), &proxy.url())
        .args([
            "--output", "json", "svc", "deploy", "-n", "api", "-e", "test",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tug starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        if line.expect("line").contains("\"event\":\"started\"") {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    support::interrupt(&child);
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("tug ends");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let result = support::result_line(&rest);
    assert!(result.contains("being created"), "{result}");
    assert!(result.contains("tug svc delete -e test -n api"), "{result}");
    assert_eq!(
        CANCELS.load(Ordering::SeqCst),
        0,
        "a creation is not cancelled"
    );
}

/// When each DescribeServices request reached the proxy.
static DESCRIBE_SERVICES: Mutex<Vec<Instant>> = Mutex::new(Vec::new());

fn slow_describe_services(_n: usize, action: &str) -> Fault {
    if action == "DescribeServices" {
        DESCRIBE_SERVICES
            .lock()
            .expect("calls")
            .push(Instant::now());
        Fault::Slow
    } else {
        Fault::Pass
    }
}

/// In an unchanged deploy, a subscriber (demo's worker, subscribed to the api's topic) waits
/// for its publisher only until the publisher's stack is known to be unchanged, not for the
/// publisher's ECS rollout check (DescribeServices): the topics exist. So the three rollout
/// checks (api, web, worker) run at once, and a no-op is two rounds of calls. The loopback
/// proxy holds every DescribeServices request 1.5 s before passing it on (on AWS each is one
/// round trip): a check started only after another one's answer would arrive 1.5 s later.
#[test]
fn an_unchanged_subscriber_does_not_wait_for_its_publishers_rollout_check() {
    let (_moto, _ws, _proxy) = deployed_then_unchanged("rounds", slow_describe_services);
    let calls = DESCRIBE_SERVICES.lock().expect("calls").clone();
    assert_eq!(calls.len(), 3, "one rollout check per service");
    let spread = calls[calls.len() - 1].duration_since(calls[0]);
    assert!(
        spread < Duration::from_millis(1000),
        "the rollout checks ran one after another ({spread:?} apart)"
    );
}

/// The stacks DescribeStackResources was asked about, in the order asked.
static RESOURCES_READ: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records the stack of each DescribeStackResources request (CloudFormation's query
/// protocol: `StackName=...` in the form body) and passes every request on to moto.
fn record_resources_reads(action: &str, body: &str) -> Option<String> {
    if action == "DescribeStackResources" {
        let stack = body
            .split('&')
            .find_map(|kv| kv.strip_prefix("StackName="))
            .unwrap_or("?");
        RESOURCES_READ
            .lock()
            .expect("reads")
            .push(stack.to_string());
    }
    None
}

/// An unchanged deploy reads the resources (DescribeStackResources) only of the stacks with an
/// ECS service: they name the service and task definition whose rollout is checked. Nothing of
/// a no-op needs those of the environment stack or of a scheduled job (demo's `report`), so
/// they are not read: one request fewer per such stack in the no-op's one round of reads. The
/// loopback proxy sees every request tug sends and records the stack each one names.
#[test]
fn an_unchanged_deploy_reads_the_resources_of_services_only() {
    let (_moto, _ws, _proxy) = deployed_then_unchanged_through("resources", |port| {
        FaultProxy::serving(
            port,
            |_, _| Fault::Pass,
            |_, body| body,
            record_resources_reads,
        )
    });
    let mut read = RESOURCES_READ.lock().expect("reads").clone();
    read.sort();
    assert_eq!(
        read,
        [
            "resources-test-api",
            "resources-test-web",
            "resources-test-worker"
        ],
        "one read per service stack, none of the environment's or the job's"
    );
}

/// A subscriber is not deployed when its publisher's deploy does not succeed: here the api's
/// rollout never finishes (moto reports no task running) and times out, so the worker, which
/// subscribes to the api's topic, is not touched and says why.
#[test]
fn a_subscriber_waits_for_a_publisher_that_fails() {
    let moto = Moto::start(0);
    let ws = demo_copy("blocked");
    let env = tug(ws.path(), &moto.url(), &["env", "deploy", "-n", "test"]);
    assert_eq!(env.status.code(), Some(0), "{}", stderr(&env));
    let out = tug(
        ws.path(),
        &moto.url(),
        &[
            "--output",
            "json",
            "deploy",
            "-e",
            "test",
            "--timeout",
            "3s",
        ],
    );
    assert_ne!(out.status.code(), Some(0), "{}", stderr(&out));
    let evs = events(&out);
    let result = evs
        .iter()
        .find(|e| e["event"] == "result")
        .expect("a final result object");
    let worker = result["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .find(|s| s["stack"] == "blocked-test-worker")
        .expect("a row for the worker");
    assert_eq!(worker["outcome"], "failed", "{worker}");
    assert!(
        worker["detail"].as_str().is_some_and(
            |d| d.contains("it subscribes to topics of api, whose deploy did not succeed")
        ),
        "{worker}"
    );
}
