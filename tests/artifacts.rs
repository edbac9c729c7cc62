//! The application's artifacts bucket against moto, through the real `tug` binary: env files
//! uploaded and referenced by the task definition, and templates over CloudFormation's inline
//! limit deployed through `TemplateURL`.
//!
//! Sources of truth: moto (5.2.5) for S3 (buckets, objects, their settings), ECS task
//! definitions and CloudFormation stacks, read back with boto3 from the test virtualenv. What
//! moto does not show, so these tests cannot: ECS fetching the env file with the execution
//! role when a task starts (moto starts no containers and evaluates no IAM policy), and
//! CloudFormation's own 51,200-byte limit on `TemplateBody` (moto has none; the limit is
//! AWS's documented quota, applied by tug before any call).
//!
//! The bucket's TLS-only policy is not given to moto: moto enforces bucket policies on object
//! requests but evaluates only `StringEquals` conditions, so it applies the policy's
//! `Bool aws:SecureTransport` deny to every request, and the test endpoint is plain HTTP
//! anyway; S3 over HTTPS (all tug ever uses against AWS) allows them. The test proxy answers
//! PutBucketPolicy as S3 does (success, no body) and keeps the policy tug sent, which the test
//! checks instead.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use std::sync::Mutex;

use support::{FaultProxy, Moto, boto3, boto3_with, demo_copy, events, outcomes, stderr, tug};

/// The bucket policies tug sent, as the proxy received them.
static POLICIES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Answers PutBucketPolicy in place of moto (see the module comment) and keeps the policy.
fn keep_policy(action: &str, body: &str) -> Option<String> {
    if action != "PutBucketPolicy" {
        return None;
    }
    POLICIES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(body.to_string());
    Some(String::new())
}

/// moto behind the proxy that keeps bucket policies; tug talks to the proxy, the test reads
/// moto directly.
fn moto_and_proxy() -> (Moto, FaultProxy) {
    let moto = Moto::start(10);
    let proxy = FaultProxy::with_answers(moto.port, keep_policy);
    (moto, proxy)
}

/// What moto holds for the web workload of application `app` in environment `test`.
const INSPECT: &str = r#"
app = sys.argv[1]
bucket = f"tug-{app}-123456789012-us-east-1"
out = {"objects": {}, "bucket": None}
try:
    s3.head_bucket(Bucket=bucket)
    out["bucket"] = {
        "public_access": s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
        "encryption": s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"],
        "tags": {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]},
    }
    for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        out["objects"][o["Key"]] = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode()
except s3.exceptions.ClientError:
    pass
stack = f"{app}-test-web"
s = cfn.describe_stacks(StackName=stack)["Stacks"][0]
out["parameters"] = {p["ParameterKey"]: p["ParameterValue"] for p in s.get("Parameters", [])}
td = [r["PhysicalResourceId"] for r in cfn.describe_stack_resources(StackName=stack)["StackResources"] if r.get("ResourceType") == "AWS::ECS::TaskDefinition"][0]
d = ecs.describe_task_definition(taskDefinition=td)["taskDefinition"]
out["task_definition"] = d["taskDefinitionArn"]
out["env_files"] = {c["name"]: c.get("environmentFiles", []) for c in d["containerDefinitions"]}
out["variables"] = {c["name"]: len([e for e in c.get("environment", []) if e["name"].startswith("SETTING_")]) for c in d["containerDefinitions"]}
print(json.dumps(out))
"#;

fn inspect(moto: &Moto, app: &str) -> Value {
    serde_json::from_str(&boto3_with(moto, INSPECT, &[app])).expect("JSON")
}

/// The demo workspace with only its `web` service, under application `app`.
fn web_only(app: &str) -> tempfile::TempDir {
    let ws = demo_copy(app);
    for other in ["api", "worker", "report"] {
        fs::remove_dir_all(ws.path().join("copilot").join(other)).expect("remove workload");
    }
    ws
}

fn edit_web(dir: &Path, edit: impl FnOnce(String) -> String) {
    let path = dir.join("copilot/web/manifest.yml");
    let text = fs::read_to_string(&path).expect("web manifest");
    fs::write(&path, edit(text)).expect("write manifest");
}

fn deploy(proxy: &FaultProxy, dir: &Path) -> Vec<Value> {
    let out = tug(
        dir,
        &proxy.url(),
        &["--output", "json", "deploy", "-e", "test"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stderr(&out),
        String::from_utf8_lossy(&out.stdout)
    );
    events(&out)
}

fn outcome_of(evs: &[Value], stack: &str) -> String {
    outcomes(evs)
        .into_iter()
        .find(|(s, _)| s == stack)
        .map(|(_, o)| o)
        .unwrap_or_else(|| panic!("no row for {stack}: {:?}", outcomes(evs)))
}

#[test]
fn an_env_file_is_uploaded_by_content_and_referenced_by_the_task_definition() {
    let (moto, proxy) = moto_and_proxy();
    let ws = web_only("envf");
    fs::write(ws.path().join("web.env"), "GREETING=hello\n").expect("env file");
    edit_web(ws.path(), |t| {
        t.replace("exec: true\n", "exec: true\nenv_file: web.env\n")
    });

    let evs = deploy(&proxy, ws.path());
    assert_eq!(outcome_of(&evs, "envf-test-web"), "deployed");
    let first = inspect(&moto, "envf");
    let bucket = &first["bucket"];
    assert_eq!(
        bucket["public_access"],
        serde_json::json!({"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true})
    );
    assert_eq!(bucket["encryption"]["SSEAlgorithm"], "AES256");
    let policies = POLICIES.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let ours: Vec<Value> = policies
        .iter()
        .filter_map(|p| serde_json::from_str::<Value>(p).ok())
        .filter(|p| p.to_string().contains("tug-envf-"))
        .collect();
    assert!(!ours.is_empty(), "tug sets the bucket policy: {policies:?}");
    let statement = &ours[0]["Statement"][0];
    assert_eq!(statement["Effect"], "Deny");
    assert_eq!(
        statement["Condition"]["Bool"]["aws:SecureTransport"],
        "false"
    );
    assert_eq!(
        statement["Resource"],
        serde_json::json!([
            "arn:aws:s3:::tug-envf-123456789012-us-east-1",
            "arn:aws:s3:::tug-envf-123456789012-us-east-1/*"
        ])
    );
    assert_eq!(bucket["tags"]["tug:app"], "envf");
    let objects = first["objects"].as_object().expect("objects");
    assert_eq!(objects.len(), 1, "{objects:?}");
    let (key, content) = objects.iter().next().expect("one object");
    assert!(
        key.starts_with("env-files/test/web/") && key.ends_with(".env"),
        "{key}"
    );
    assert_eq!(content, "GREETING=hello\n");
    let arn = format!("arn:aws:s3:::tug-envf-123456789012-us-east-1/{key}");
    assert_eq!(first["parameters"]["EnvFileARN"], arn.as_str());
    assert_eq!(
        first["env_files"]["web"],
        serde_json::json!([{"value": arn, "type": "s3"}])
    );

    // Unchanged: the same object, the same parameter, nothing to do.
    let evs = deploy(&proxy, ws.path());
    assert_eq!(outcome_of(&evs, "envf-test-web"), "no changes");

    // A changed file is a new object, a new parameter value and a new task definition.
    fs::write(ws.path().join("web.env"), "GREETING=hi\n").expect("env file");
    let evs = deploy(&proxy, ws.path());
    assert_eq!(outcome_of(&evs, "envf-test-web"), "deployed");
    let second = inspect(&moto, "envf");
    let objects = second["objects"].as_object().expect("objects");
    assert_eq!(objects.len(), 2, "the earlier object is kept: {objects:?}");
    let new_arn = second["parameters"]["EnvFileARN"].as_str().expect("ARN");
    assert_ne!(new_arn, arn);
    let new_key = new_arn.split_once('/').expect("key").1;
    assert_eq!(objects[new_key], "GREETING=hi\n");
    assert_ne!(second["task_definition"], first["task_definition"]);
    assert_eq!(second["env_files"]["web"][0]["value"], new_arn);

    // Deleting the application keeps the bucket (it holds what task definitions read) and
    // says so.
    let out = tug(ws.path(), &proxy.url(), &["app", "delete", "--yes"]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("S3 bucket tug-envf-123456789012-us-east-1 (artifacts bucket, in no stack)"),
        "{text}"
    );
    let after = boto3(
        &moto,
        "print(len(s3.list_objects_v2(Bucket='tug-envf-123456789012-us-east-1').get('Contents', [])))",
    );
    assert_eq!(after, "2", "the bucket and its objects are kept");
}

/// Sidecars and the FireLens log router read their own env files, as Copilot gave them
/// (`EnvFileARNFor<Sidecar>`, `LoggingEnvFileARN`). Source of truth: moto's task definition
/// (its `environmentFiles` per container) and S3 objects; the execution role's grant is read
/// from the rendered template (moto evaluates no IAM).
#[test]
fn sidecar_and_log_router_env_files_are_uploaded_and_referenced() {
    let (moto, proxy) = moto_and_proxy();
    let ws = web_only("envs");
    fs::write(ws.path().join("otel.env"), "OTEL_LEVEL=debug\n").expect("env file");
    fs::write(ws.path().join("router.env"), "FLB_LOG_LEVEL=info\n").expect("env file");
    edit_web(ws.path(), |t| {
        t.replace(
            "    essential: false\n",
            "    essential: false\n    env_file: otel.env\n",
        ) + "\nlogging:\n  env_file: router.env\n"
    });

    let rendered = Command::new(env!("CARGO_BIN_EXE_tug"))
        .current_dir(ws.path())
        .args(["render", "-e", "test", "-n", "web"])
        .output()
        .expect("tug runs");
    let template = String::from_utf8_lossy(&rendered.stdout).to_string();
    assert!(rendered.status.success(), "{}", stderr(&rendered));
    for parameter in ["EnvFileARNForOtel", "LoggingEnvFileARN"] {
        assert!(
            template.contains(&format!("{{\"Ref\":\"{parameter}\"}}")),
            "{parameter} is referenced (and granted): {template}"
        );
    }

    let evs = deploy(&proxy, ws.path());
    assert_eq!(outcome_of(&evs, "envs-test-web"), "deployed");
    let state = inspect(&moto, "envs");
    let objects = state["objects"].as_object().expect("objects");
    assert_eq!(objects.len(), 2, "{objects:?}");
    for (container, parameter, content) in [
        ("otel", "EnvFileARNForOtel", "OTEL_LEVEL=debug\n"),
        (
            "firelens_log_router",
            "LoggingEnvFileARN",
            "FLB_LOG_LEVEL=info\n",
        ),
    ] {
        let arn = state["parameters"][parameter]
            .as_str()
            .unwrap_or_else(|| panic!("{parameter}: {state}"));
        let key = arn
            .strip_prefix("arn:aws:s3:::tug-envs-123456789012-us-east-1/")
            .expect("an object of the artifacts bucket");
        assert_eq!(objects[key], content);
        assert_eq!(
            state["env_files"][container],
            serde_json::json!([{"value": arn, "type": "s3"}]),
            "{container}"
        );
    }
    assert_eq!(state["env_files"]["web"], serde_json::json!([]));
}

#[test]
fn a_missing_env_file_fails_the_workload_before_any_upload() {
    let moto = Moto::start(10);
    let ws = web_only("nofile");
    edit_web(ws.path(), |t| {
        t.replace("exec: true\n", "exec: true\nenv_file: missing.env\n")
    });
    let out = tug(
        ws.path(),
        &moto.url(),
        &["--output", "json", "deploy", "-e", "test"],
    );
    assert_ne!(out.status.code(), Some(0));
    let evs = events(&out);
    let row = evs
        .iter()
        .find(|e| e["event"] == "result")
        .and_then(|r| {
            r["stacks"]
                .as_array()?
                .iter()
                .find(|s| s["stack"] == "nofile-test-web")
                .cloned()
        })
        .expect("web row");
    assert_eq!(row["outcome"], "failed");
    let detail = row["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("cannot read env file") && detail.contains("missing.env"),
        "{detail}"
    );
}

#[test]
fn a_template_over_the_inline_limit_deploys_through_the_bucket() {
    let (moto, proxy) = moto_and_proxy();
    let ws = web_only("big");
    // About 60 kB of variables: the template passes CloudFormation's 51,200-byte inline limit
    // while the task definition stays under ECS's 64 KiB.
    let variables: String = (0..420)
        .map(|i| format!("  SETTING_{i:03}: \"{}\"\n", "v".repeat(100)))
        .collect();
    edit_web(ws.path(), |t| {
        t.replace(
            "variables:\n  LOG_LEVEL: info\n",
            &format!("variables:\n  LOG_LEVEL: info\n{variables}"),
        )
    });
    let rendered = tug(
        ws.path(),
        &moto.url(),
        &["render", "-n", "web", "-e", "test"],
    );
    assert_eq!(rendered.status.code(), Some(0), "{}", stderr(&rendered));
    assert!(
        rendered.stdout.len() > 51_200,
        "the template must pass the inline limit: {} bytes",
        rendered.stdout.len()
    );

    let evs = deploy(&proxy, ws.path());
    assert_eq!(outcome_of(&evs, "big-test-web"), "deployed");
    let state = inspect(&moto, "big");
    let templates: Vec<&String> = state["objects"]
        .as_object()
        .expect("objects")
        .keys()
        .filter(|k| k.starts_with("templates/big-test-web/"))
        .collect();
    assert_eq!(templates.len(), 1, "{:?}", state["objects"]);
    assert_eq!(
        state["variables"]["web"], 420,
        "every variable reached the task definition"
    );

    // The same template again: the stack is unchanged.
    let evs = deploy(&proxy, ws.path());
    assert_eq!(outcome_of(&evs, "big-test-web"), "no changes");
}
