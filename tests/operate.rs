//! Operating deployed applications against moto, through the real `tug` binary: promote,
//! status, ls / show, logs, job run and the deletes.
//!
//! What moto does not do, and how these tests stand in for it (said where it matters):
//! - ECS tasks write no logs in moto: the logs test puts events into the workload's log group
//!   itself, in the stream names the awslogs driver uses (`tug/<container>/<task>`).
//! - Step Functions executions never end in moto: scripts/moto_server.py (`patch_job_executions`) ends an
//!   execution of a job's state machine at once with the exit code the job's command names
//!   (`exit N`), reported the way Step Functions' `ecs:runTask.sync` reports a stopped task.
//! - CloudWatch alarms: moto does not serve the CBOR protocol the current CloudWatch SDK speaks,
//!   so `svc status` reports the alarms as unavailable there (and says why) and shows the rest.

mod support;

use std::fs;
use std::path::Path;

use support::{Moto, demo_copy, events, stderr, tug};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", stdout(out), stderr(out)))
}

/// AWS clients against moto, for what the tests set up or check behind tug's back.
fn aws(moto: &Moto) -> (tokio::runtime::Runtime, tug::deploy::aws::Aws) {
    // The emulator's credentials, the same for every test of this binary.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let settings = tug::deploy::aws::AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.url()),
    };
    let aws = runtime
        .block_on(tug::deploy::aws::Aws::connect(&settings))
        .expect("connects");
    (runtime, aws)
}

/// Pushes an image manifest to ECR under `tag`; returns its digest.
fn push(
    runtime: &tokio::runtime::Runtime,
    aws: &tug::deploy::aws::Aws,
    repo: &str,
    tag: &str,
) -> String {
    runtime.block_on(async {
        let _ = aws.ecr.create_repository().repository_name(repo).send().await;
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": { "digest": format!("sha256:{:0>64}", tag.len()), "size": 1, "mediaType": "application/vnd.docker.container.image.v1+json" },
            "layers": [{ "digest": format!("sha256:{}", tug::render::names::sha256(tag)), "size": 2, "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip" }],
        });
        let out = aws
            .ecr
            .put_image()
            .repository_name(repo)
            .image_tag(tag)
            .image_manifest(manifest.to_string())
            .send()
            .await
            .expect("put_image");
        out.image()
            .and_then(|i| i.image_id())
            .and_then(|i| i.image_digest())
            .expect("a digest")
            .to_string()
    })
}

fn parameter(
    runtime: &tokio::runtime::Runtime,
    aws: &tug::deploy::aws::Aws,
    stack: &str,
    key: &str,
) -> Option<String> {
    runtime.block_on(async {
        tug::deploy::stack::describe(aws, stack)
            .await
            .expect("reads")?
            .parameters
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    })
}

fn set_image(ws: &Path, workload: &str, image: &str) {
    let path = ws.join(format!("copilot/{workload}/manifest.yml"));
    let text = fs::read_to_string(&path).expect("manifest");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("location:"))
        .expect("a location line")
        .to_string();
    fs::write(&path, text.replace(&line, &format!("  location: {image}"))).expect("write");
}

const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

#[test]
fn promote_then_read_back_then_delete() {
    let moto = Moto::start(10);
    let (runtime, aws) = aws(&moto);
    let ws = demo_copy("op");
    let url = moto.url();
    let v1 = push(&runtime, &aws, "op/web", "v1");
    let v2 = push(&runtime, &aws, "op/web", "v2");
    assert_ne!(v1, v2);

    // test runs v1 of web, and api; worker and report are not deployed there.
    set_image(ws.path(), "web", &format!("{REGISTRY}/op/web:v1"));
    let out = tug(
        ws.path(),
        &url,
        &["deploy", "-e", "test", "-n", "web", "-n", "api"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let test_image = parameter(&runtime, &aws, "op-test-web", "ContainerImage").expect("image");
    assert_eq!(test_image, format!("{REGISTRY}/op/web@{v1}"));
    let out = tug(ws.path(), &url, &["env", "deploy", "-n", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    // The workspace moves on to v2: promote must still deploy what test runs.
    set_image(ws.path(), "web", &format!("{REGISTRY}/op/web:v2"));

    // No terminal and no --yes: nothing happens, and the error names the flag.
    let out = tug(
        ws.path(),
        &url,
        &["promote", "--from", "test", "--to", "prod"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Promotion plan, test → prod"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("note: api runs a tag, not a digest"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        parameter(&runtime, &aws, "op-prod-web", "ContainerImage"),
        None
    );

    let out = tug(
        ws.path(),
        &url,
        &[
            "--yes", "--output", "json", "promote", "--from", "test", "--to", "prod",
        ],
    );
    // worker and report are refused (not deployed in test): exit 1, the others promoted.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let evs = events(&out);
    let plan = evs
        .iter()
        .find(|e| e["event"] == "plan")
        .expect("a plan event");
    let planned: Vec<&str> = plan["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .filter_map(|w| w["workload"].as_str())
        .collect();
    assert_eq!(planned, ["api", "web"]);
    let web = &plan["workloads"][1];
    assert_eq!(web["image"], test_image.as_str());
    assert!(web["current"].is_null(), "web was not in prod yet");
    let refused: Vec<&str> = plan["refused"]
        .as_array()
        .expect("refused")
        .iter()
        .filter_map(|w| w["workload"].as_str())
        .collect();
    assert_eq!(refused, ["report", "worker"]);
    assert!(stderr(&out).contains("worker is not promoted: not deployed in `test`"));
    let result = evs.iter().find(|e| e["event"] == "result").expect("result");
    let deployed: Vec<(&str, &str)> = result["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .map(|s| {
            (
                s["stack"].as_str().unwrap_or(""),
                s["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        deployed,
        [("op-prod-api", "deployed"), ("op-prod-web", "deployed")]
    );
    // The prod stack records exactly test's digest, not the manifest's v2.
    assert_eq!(
        parameter(&runtime, &aws, "op-prod-web", "ContainerImage").as_deref(),
        Some(test_image.as_str())
    );
    // prod's own configuration: its larger task size.
    let prod_web = tug(
        ws.path(),
        &url,
        &["--output", "json", "svc", "show", "-n", "web", "-e", "prod"],
    );
    let doc = json(&prod_web);
    assert_eq!(doc["environments"][0]["configured"]["cpu"], 1024);
    assert_eq!(
        doc["environments"][0]["deployed"]["image"],
        test_image.as_str()
    );

    // history in prod: the promoted revision runs test's digest, and the deploy was recorded.
    let history = tug(
        ws.path(),
        &url,
        &["--output", "json", "history", "-e", "prod", "-n", "web"],
    );
    assert_eq!(history.status.code(), Some(0), "{}", stderr(&history));
    let doc = json(&history);
    let current = &doc["deployments"][0];
    assert_eq!(current["current"], true, "{doc}");
    assert_eq!(current["image"], test_image.as_str(), "{doc}");
    assert_eq!(current["outcome"], "deployed", "{doc}");
    assert_eq!(current["strategy"], "ROLLING", "{doc}");
    let text = tug(ws.path(), &url, &["history", "-e", "prod", "-n", "web"]);
    assert!(
        stdout(&text).contains("(current)") && stdout(&text).contains(&test_image),
        "{}",
        stdout(&text)
    );

    // Promoting again: the plan shows prod already runs it; nothing changes.
    let out = tug(
        ws.path(),
        &url,
        &[
            "--yes", "promote", "--from", "test", "--to", "prod", "-n", "web",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("(same)"), "{}", stderr(&out));
    assert!(stdout(&out).contains("no changes"), "{}", stdout(&out));

    // status: text and JSON carry the same facts.
    let text = tug(
        ws.path(),
        &url,
        &["svc", "status", "-e", "prod", "-n", "web"],
    );
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    let doc = json(&tug(
        ws.path(),
        &url,
        &[
            "--output", "json", "svc", "status", "-e", "prod", "-n", "web",
        ],
    ));
    let shown = stdout(&text);
    let service = doc["service"].as_str().expect("service");
    assert!(shown.contains(service), "{shown}");
    let primary = &doc["deployments"][0];
    assert_eq!(primary["status"], "PRIMARY");
    assert_eq!(primary["rollout_state"], "COMPLETED");
    assert!(
        shown.contains("PRIMARY") && shown.contains("COMPLETED"),
        "{shown}"
    );
    assert!(shown.contains(primary["task_definition"].as_str().expect("td")));
    assert!(doc["tasks"].is_array() && doc["targets"].is_array());
    // A target registered behind the service's target group shows with its health (moto
    // registers no ECS task there itself).
    runtime.block_on(async {
        let resources = aws
            .cfn
            .describe_stack_resources()
            .stack_name("op-prod-web")
            .send()
            .await
            .expect("resources");
        let group = resources
            .stack_resources()
            .iter()
            .find(|r| r.resource_type() == Some("AWS::ElasticLoadBalancingV2::TargetGroup"))
            .and_then(|r| r.physical_resource_id())
            .expect("a target group")
            .to_string();
        aws.elb
            .register_targets()
            .target_group_arn(group)
            .targets(
                aws_sdk_elasticloadbalancingv2::types::TargetDescription::builder()
                    .id("10.0.1.23")
                    .port(80)
                    .build(),
            )
            .send()
            .await
            .expect("register");
    });
    let doc = json(&tug(
        ws.path(),
        &url,
        &[
            "--output", "json", "svc", "status", "-e", "prod", "-n", "web",
        ],
    ));
    assert_eq!(doc["targets"][0]["target"], "10.0.1.23");
    assert_eq!(doc["targets"][0]["port"], 80);
    let state = doc["targets"][0]["state"].as_str().expect("a state");
    let text = stdout(&tug(
        ws.path(),
        &url,
        &["svc", "status", "-e", "prod", "-n", "web"],
    ));
    assert!(text.contains("10.0.1.23") && text.contains(state), "{text}");
    let missing = tug(
        ws.path(),
        &url,
        &["svc", "status", "-e", "prod", "-n", "worker"],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("not deployed in environment prod"));

    // ls and show read back what was deployed, with the tug version that deployed it.
    let version = env!("CARGO_PKG_VERSION");
    let envs = json(&tug(ws.path(), &url, &["--output", "json", "env", "ls"]));
    let test_env = envs["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .find(|e| e["name"] == "test")
        .expect("test")
        .clone();
    assert_eq!(test_env["deployed"], true);
    assert_eq!(test_env["tug_version"], version);
    assert_eq!(test_env["workloads"], 2);
    let text = stdout(&tug(ws.path(), &url, &["env", "ls"]));
    assert!(
        text.contains("CREATE_COMPLETE") && text.contains(version),
        "{text}"
    );

    let svcs = json(&tug(ws.path(), &url, &["--output", "json", "svc", "ls"]));
    let web = svcs["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["name"] == "web")
        .expect("web")
        .clone();
    let web_envs: Vec<(&str, &str)> = web["deployments"]
        .as_array()
        .expect("deployments")
        .iter()
        .map(|d| {
            (
                d["environment"].as_str().unwrap_or(""),
                d["image"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        web_envs,
        [("prod", test_image.as_str()), ("test", test_image.as_str())]
    );
    assert!(
        svcs["services"]
            .as_array()
            .expect("services")
            .iter()
            .all(|s| s["name"] != "report"),
        "jobs are not services"
    );
    let text = stdout(&tug(ws.path(), &url, &["svc", "ls"]));
    assert!(
        text.contains(&test_image) && text.contains("not deployed"),
        "{text}"
    );
    let jobs = json(&tug(ws.path(), &url, &["--output", "json", "job", "ls"]));
    assert_eq!(jobs["jobs"][0]["name"], "report");
    assert_eq!(jobs["jobs"][0]["deployments"], serde_json::json!([]));

    let shown = json(&tug(
        ws.path(),
        &url,
        &["--output", "json", "env", "show", "-n", "test"],
    ));
    assert_eq!(shown["deployed"], true);
    assert!(shown["outputs"]["ClusterId"].is_string());
    let names: Vec<&str> = shown["workloads"]
        .as_array()
        .expect("workloads")
        .iter()
        .filter_map(|w| w["workload"].as_str())
        .collect();
    assert_eq!(names, ["api", "web"]);
    let app = json(&tug(ws.path(), &url, &["--output", "json", "app", "show"]));
    assert_eq!(app["deployed"].as_array().expect("deployed").len(), 6);
    let text = stdout(&tug(ws.path(), &url, &["app", "show"]));
    assert!(
        text.contains("Deployed") && text.contains("op-prod-web"),
        "{text}"
    );

    // Deletes. Without a terminal or --yes nothing is deleted.
    let out = tug(
        ws.path(),
        &url,
        &["svc", "delete", "-n", "web", "-e", "test"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(parameter(&runtime, &aws, "op-test-web", "ContainerImage").is_some());
    // From test only: prod still runs web, so its repository stays.
    let out = tug(
        ws.path(),
        &url,
        &["--yes", "svc", "delete", "-n", "web", "-e", "test"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ECR repository op/web is kept"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        parameter(&runtime, &aws, "op-test-web", "ContainerImage"),
        None
    );
    assert_eq!(repositories(&runtime, &aws), ["op/web"]);
    // A service is not deleted as a job.
    let out = tug(ws.path(), &url, &["--yes", "job", "delete", "-n", "web"]);
    assert_eq!(out.status.code(), Some(2));
    // Everywhere: the last stack goes, and the repository with it.
    let out = tug(
        ws.path(),
        &url,
        &["--yes", "--output", "json", "svc", "delete", "-n", "web"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = json(&out);
    let removed: Vec<(&str, &str, &str)> = doc["removed"]
        .as_array()
        .expect("removed")
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or(""),
                r["result"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        removed,
        [
            ("stack", "op-prod-web", "deleted"),
            ("task definitions", "op-prod-web", "deleted"),
            ("repository", "op/web", "deleted")
        ]
    );
    assert!(repositories(&runtime, &aws).is_empty());
    // Again: already done, and said so.
    let out = tug(ws.path(), &url, &["--yes", "svc", "delete", "-n", "web"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("nothing to delete"),
        "{}",
        stderr(&out)
    );

    // An environment that still runs workloads is refused, unless they go too.
    let out = tug(ws.path(), &url, &["--yes", "env", "delete", "-n", "test"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("still runs api"), "{}", stderr(&out));
    assert!(parameter(&runtime, &aws, "op-test-api", "ContainerImage").is_some());
    let out = tug(
        ws.path(),
        &url,
        &["--yes", "env", "delete", "-n", "test", "--with-workloads"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(
        table.contains("op-test-api") && table.contains("op-test "),
        "{table}"
    );

    // The application: prod and its api; nothing of it is left, nothing half-deleted.
    let out = tug(ws.path(), &url, &["--yes", "app", "delete"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("op-prod-api"), "{}", stdout(&out));
    let left = runtime
        .block_on(tug::deploy::inventory::app_stacks(&aws, "op"))
        .expect("lists");
    assert!(left.is_empty(), "{left:?}");
    let statuses = runtime.block_on(async {
        let out = aws.cfn.list_stacks().send().await.expect("list_stacks");
        out.stack_summaries()
            .iter()
            .filter(|s| s.stack_name().is_some_and(|n| n.starts_with("op-")))
            .map(|s| {
                s.stack_status()
                    .map(|x| x.as_str().to_string())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
    });
    assert!(
        statuses.iter().all(|s| s == "DELETE_COMPLETE"),
        "{statuses:?}"
    );
    // The task definition revisions the service stacks kept for rollbacks went with them.
    let active = runtime.block_on(async {
        aws.ecs
            .list_task_definitions()
            .family_prefix("op-")
            .send()
            .await
            .expect("list_task_definitions")
            .task_definition_arns()
            .to_vec()
    });
    assert!(active.is_empty(), "{active:?}");
    let out = tug(ws.path(), &url, &["--yes", "app", "delete"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("nothing to delete"));
}

fn repositories(runtime: &tokio::runtime::Runtime, aws: &tug::deploy::aws::Aws) -> Vec<String> {
    runtime
        .block_on(tug::deploy::teardown::app_repositories(aws, "op"))
        .expect("lists")
}

#[test]
fn logs_read_the_workload_log_group() {
    let moto = Moto::start(10);
    let (runtime, aws) = aws(&moto);
    let ws = demo_copy("logs");
    let url = moto.url();
    let out = tug(ws.path(), &url, &["deploy", "-e", "test", "-n", "web"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // moto's tasks write nothing: write what the awslogs driver would.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    runtime.block_on(async {
        for (stream, lines) in [
            ("tug/web/aaaa1111", vec!["GET / 200", "GET /health 200"]),
            ("tug/otel/aaaa1111", vec!["collector started"]),
            ("tug/web/bbbb2222", vec!["GET /late 404"]),
        ] {
            aws.logs
                .create_log_stream()
                .log_group_name("/tug/logs-test-web")
                .log_stream_name(stream)
                .send()
                .await
                .expect("stream");
            let mut req = aws
                .logs
                .put_log_events()
                .log_group_name("/tug/logs-test-web")
                .log_stream_name(stream);
            for (i, line) in lines.iter().enumerate() {
                let offset = match stream {
                    "tug/otel/aaaa1111" => 500,
                    "tug/web/bbbb2222" => 3000,
                    _ => 0,
                };
                req = req.log_events(
                    aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                        .timestamp(now - 60_000 + offset + i as i64 * 1000)
                        .message(*line)
                        .build()
                        .expect("event"),
                );
            }
            req.send().await.expect("put");
        }
    });
    let out = tug(
        ws.path(),
        &url,
        &["--output", "json", "svc", "logs", "-e", "test", "-n", "web"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = events(&out);
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    assert_eq!(
        messages,
        [
            "GET / 200",
            "collector started",
            "GET /health 200",
            "GET /late 404"
        ]
    );
    assert_eq!(lines[0]["container"], "web");
    assert_eq!(lines[0]["task"], "aaaa1111");
    assert!(lines[0]["time"].as_str().expect("time").ends_with('Z'));

    let text = stdout(&tug(
        ws.path(),
        &url,
        &["svc", "logs", "-e", "test", "-n", "web"],
    ));
    for m in &messages {
        assert!(text.contains(m), "{text}");
    }
    assert!(text.contains("web/aaaa1111 GET / 200"), "{text}");

    let only = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["--output", "json", "svc", "logs", "-e", "test", "-n", "web"];
        all.extend_from_slice(args);
        let out = tug(ws.path(), &url, &all);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        events(&out)
            .iter()
            .filter_map(|l| l["message"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(only(&["--container", "otel"]), ["collector started"]);
    assert_eq!(only(&["--tasks", "bbbb2222"]), ["GET /late 404"]);
    assert_eq!(
        only(&[
            "--container",
            "web",
            "--tasks",
            "aaaa1111,bbbb2222",
            "--limit",
            "2"
        ]),
        ["GET /health 200", "GET /late 404"]
    );
    // Older than --since: nothing.
    assert!(only(&["--since", "10s"]).is_empty());

    // --follow prints what arrives later, until it is stopped.
    let mut child = support::tug_command(ws.path(), &url)
        .args([
            "--output", "json", "svc", "logs", "-e", "test", "-n", "web", "--follow",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tug runs");
    let child_out = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(child_out)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while seen.len() < 4 && std::time::Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(std::time::Duration::from_millis(200)) {
            seen.push(l);
        }
    }
    assert_eq!(seen.len(), 4, "the events so far: {seen:?}");
    runtime.block_on(async {
        aws.logs
            .put_log_events()
            .log_group_name("/tug/logs-test-web")
            .log_stream_name("tug/web/bbbb2222")
            .log_events(
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(now)
                    .message("GET /new 201")
                    .build()
                    .expect("event"),
            )
            .send()
            .await
            .expect("put");
    });
    let mut late = None;
    while late.is_none() && std::time::Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(std::time::Duration::from_millis(200)) {
            late = Some(l);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let late: serde_json::Value =
        serde_json::from_str(&late.expect("a new event while following")).expect("JSON");
    assert_eq!(late["message"], "GET /new 201");

    let bad = tug(
        ws.path(),
        &url,
        &["svc", "logs", "-e", "test", "-n", "web", "--since", "soon"],
    );
    assert_eq!(bad.status.code(), Some(2));
    let missing = tug(
        ws.path(),
        &url,
        &["job", "logs", "-e", "test", "-n", "report"],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("not deployed"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn job_run_follows_the_run_to_its_exit_code() {
    let moto = Moto::start(10);
    let ws = demo_copy("jobs");
    let url = moto.url();
    let out = tug(ws.path(), &url, &["deploy", "-e", "test", "-n", "report"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = tug(
        ws.path(),
        &url,
        &["job", "run", "-e", "test", "-n", "report"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("job report succeeded: exit code 0"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("SUCCEEDED"), "{}", stderr(&out));

    // The job now fails with exit code 3: so does tug.
    let path = ws.path().join("copilot/report/manifest.yml");
    let text = fs::read_to_string(&path).expect("manifest");
    fs::write(
        &path,
        text.replace(
            r#"command: ["sh", "-c", "echo building the daily report for $COPILOT_ENVIRONMENT_NAME"]"#,
            r#"command: ["sh", "-c", "echo no data; exit 3"]"#,
        ),
    )
    .expect("write");
    let out = tug(
        ws.path(),
        &url,
        &["job", "deploy", "-e", "test", "-n", "report"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = tug(
        ws.path(),
        &url,
        &[
            "--output", "json", "job", "run", "-e", "test", "-n", "report",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc = json(&out);
    assert_eq!(doc["status"], "FAILED");
    assert_eq!(doc["exit_code"], 3);
    assert_eq!(doc["containers"][0]["name"], "report");
    let text = tug(
        ws.path(),
        &url,
        &["job", "run", "-e", "test", "-n", "report"],
    );
    assert_eq!(text.status.code(), Some(3));
    assert!(
        stdout(&text).contains("job report failed: exit code 3"),
        "{}",
        stdout(&text)
    );

    // Services are not jobs; jobs not deployed are said to be so.
    let out = tug(ws.path(), &url, &["job", "run", "-e", "test", "-n", "web"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not deployed"), "{}", stderr(&out));
}

#[test]
fn promote_refuses_images_the_target_cannot_pull() {
    let moto = Moto::start(10);
    let ws = demo_copy("far");
    let url = moto.url();
    let digest = format!("sha256:{}", "ab".repeat(32));
    // Pinned by digest, these are deployed as given (moto pulls nothing).
    set_image(
        ws.path(),
        "web",
        &format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/far/web@{digest}"),
    );
    set_image(
        ws.path(),
        "api",
        &format!("999988887777.dkr.ecr.us-east-1.amazonaws.com/far/api@{digest}"),
    );
    let out = tug(
        ws.path(),
        &url,
        &["deploy", "-e", "test", "-n", "web", "-n", "api"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = tug(ws.path(), &url, &["env", "deploy", "-n", "prod"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = tug(
        ws.path(),
        &url,
        &[
            "--yes", "promote", "--from", "test", "--to", "prod", "-n", "web", "-n", "api",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("web is not promoted: its image is in ECR in eu-west-1")
            && err.contains("ECR replication"),
        "{err}"
    );
    assert!(
        err.contains("api is not promoted: its image is in ECR in account 999988887777")
            && err.contains("ecr:BatchGetImage"),
        "{err}"
    );
    assert!(err.contains("nothing to promote"), "{err}");
    let envs = json(&tug(
        ws.path(),
        &url,
        &["--output", "json", "env", "show", "-n", "prod"],
    ));
    assert_eq!(
        envs["workloads"],
        serde_json::json!([]),
        "nothing was deployed to prod"
    );
}
