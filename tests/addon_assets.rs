//! Addon assets (issue 13, item 9): a property of an addon resource naming a local folder or
//! file (`Code: ./hello` of an `AWS::Lambda::Function`) is packaged as Copilot packaged it: the
//! folder zipped, uploaded to the application's artifacts bucket, the property replaced by the
//! S3 location in the form it takes.
//!
//! Sources of truth: Copilot's internal/pkg/addon/package.go read as facts (which properties,
//! which forms, paths relative to the workspace root); cfn-lint's schemas for the rendered
//! templates; Python's `zipfile` as an independent reader of the uploaded archive. The deploy
//! test runs against moto (not AWS): moto's CloudFormation creates the Lambda function from the
//! S3 object (it reads the object from its own S3, as Lambda does), and the object is read
//! back from moto's S3; moto does not run the function.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::{FaultProxy, Moto, boto3, copy_of, events, outcomes, stderr, tug};

fn fixture() -> tempfile::TempDir {
    copy_of("tests/addon_assets")
}

fn render(dir: &Path) -> (std::process::Output, Value) {
    let out_dir = dir.join("rendered");
    let out = Command::new(env!("CARGO_BIN_EXE_tug"))
        .current_dir(dir)
        .args(["render", "-e", "test", "-n", "hello", "--output-dir"])
        .arg(&out_dir)
        .output()
        .expect("tug runs");
    let addons = fs::read_to_string(out_dir.join("assets-test-hello.addons.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (out, addons)
}

/// Offline: render writes the content-addressed key and the documented bucket placeholder;
/// the same folder gives the same key, a changed file another. cfn-lint (its schemas) checks
/// the rendered addons template.
#[test]
fn render_writes_the_packaged_location() {
    let ws = fixture();
    let (out, addons) = render(ws.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let code = &addons["Resources"]["HelloFunction"]["Properties"]["Code"];
    assert_eq!(code["S3Bucket"], "placeholder-artifacts-bucket", "{code}");
    let key = code["S3Key"].as_str().expect("key").to_string();
    assert!(
        key.starts_with("addons/assets/") && key.ends_with(".zip") && key.len() == 14 + 64 + 4,
        "{key}"
    );
    support::cfn_lint(&[ws.path().join("rendered/assets-test-hello.addons.json")]);

    // Rewriting the same content (a new modification time) keeps the key.
    let file = ws.path().join("hello/index.py");
    let text = fs::read_to_string(&file).expect("read");
    fs::write(&file, &text).expect("write");
    let (_, again) = render(ws.path());
    assert_eq!(
        again["Resources"]["HelloFunction"]["Properties"]["Code"]["S3Key"],
        key.as_str()
    );
    fs::write(&file, format!("{text}# changed\n")).expect("write");
    let (_, changed) = render(ws.path());
    assert_ne!(
        changed["Resources"]["HelloFunction"]["Properties"]["Code"]["S3Key"],
        key.as_str()
    );
}

/// Offline validation, with the position of the path in the addon file (TUG503): a missing
/// path, a path leaving the workspace, and a folder for a property that takes one file.
#[test]
fn bad_asset_paths_are_refused_with_positions() {
    let ws = fixture();
    let addon = ws.path().join("copilot/hello/addons/function.yml");
    let original = fs::read_to_string(&addon).expect("read");
    for (code, expected) in [
        ("./missing", "names ./missing, which cannot be read"),
        (
            "../outside",
            "names ../outside, which is outside the workspace",
        ),
    ] {
        fs::write(
            &addon,
            original.replace("Code: ./hello", &format!("Code: {code}")),
        )
        .expect("write");
        let (out, _) = render(ws.path());
        let err = stderr(&out);
        assert_ne!(out.status.code(), Some(0), "{err}");
        assert!(err.contains("TUG503"), "{err}");
        assert!(err.contains("function.yml:23:13"), "{err}");
        assert!(err.contains(expected), "{err}");
    }
    // A nested stack's TemplateURL takes one template file, not a folder.
    fs::write(
        &addon,
        format!(
            "{original}  Nested:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: ./hello\n"
        )
        .replace("Outputs:\n  HelloFunctionName:\n    Value: !Ref HelloFunction\n", "")
            + "Outputs:\n  HelloFunctionName:\n    Value: !Ref HelloFunction\n",
    )
    .expect("write");
    let (out, _) = render(ws.path());
    let err = stderr(&out);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(
            "`TemplateURL` of resource `Nested` names ./hello, a folder, where one file is needed"
        ),
        "{err}"
    );
}

/// What moto holds after the deploy: the function of the nested stack, where its code came
/// from, and the archive in the artifacts bucket (read with Python's zipfile).
const INSPECT: &str = r#"
import hashlib, io, zipfile
nested = [s for s in cfn.describe_stacks()["Stacks"] if "AddonsStack" in s["StackName"]][0]
res = cfn.describe_stack_resources(StackName=nested["StackName"])["StackResources"]
fn = [r for r in res if r.get("LogicalResourceId") == "HelloFunction"][0]["PhysicalResourceId"]
body = cfn.get_template(StackName=nested["StackName"])["TemplateBody"]
template = body if isinstance(body, dict) else json.loads(body)
code = template["Resources"]["HelloFunction"]["Properties"]["Code"]
obj = s3.get_object(Bucket=code["S3Bucket"], Key=code["S3Key"])["Body"].read()
z = zipfile.ZipFile(io.BytesIO(obj))
assert z.testzip() is None
print(json.dumps({
    "function": lam.get_function(FunctionName=fn)["Configuration"]["Handler"],
    "code": code,
    "sha256": hashlib.sha256(obj).hexdigest(),
    "files": {i.filename: z.read(i).decode() for i in z.infolist()},
}))
"#;

/// The bodies of the CreateChangeSet requests tug sent (moto keeps no capabilities, so the
/// proxy is where they can be seen).
static CHANGE_SET_REQUESTS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Answers PutBucketPolicy in place of moto: moto applies the bucket's TLS-only policy to
/// every request of the plain-HTTP test endpoint (tests/artifacts.rs checks the policy).
/// Records CreateChangeSet requests and passes them on.
fn accept_policy(action: &str, body: &str) -> Option<String> {
    if action == "CreateChangeSet" {
        CHANGE_SET_REQUESTS
            .lock()
            .expect("lock")
            .push(body.to_string());
    }
    (action == "PutBucketPolicy").then(String::new)
}

#[test]
fn a_lambda_addon_with_local_code_deploys_and_redeploys_as_a_no_op() {
    let moto = Moto::start(10);
    let proxy = FaultProxy::with_answers(moto.port, accept_policy);
    let ws = fixture();
    let out = tug(
        ws.path(),
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
    let rows = outcomes(&events(&out));
    assert!(
        rows.contains(&("assets-test-hello".to_string(), "deployed".to_string())),
        "{rows:?}"
    );
    // An addon template may use a Transform (SAM, AWS::Include): CloudFormation expands it in a
    // nested stack only when the parent's change set grants CAPABILITY_AUTO_EXPAND (AWS's
    // CreateChangeSet documentation; moto does not check capabilities, so the requests are
    // read at the proxy).
    let requests = CHANGE_SET_REQUESTS.lock().expect("lock").clone();
    assert!(!requests.is_empty(), "no CreateChangeSet request seen");
    for body in &requests {
        assert!(body.contains("CAPABILITY_AUTO_EXPAND"), "{body}");
    }
    let state: Value = serde_json::from_str(&boto3(&moto, INSPECT)).expect("JSON");
    assert_eq!(state["function"], "index.handler", "{state}");
    assert_eq!(
        state["code"]["S3Bucket"], "tug-assets-123456789012-us-east-1",
        "{state}"
    );
    let key = state["code"]["S3Key"].as_str().expect("key");
    assert_eq!(
        key,
        format!(
            "addons/assets/{}.zip",
            state["sha256"].as_str().expect("sha")
        ),
        "the key is the archive's hash"
    );
    assert_eq!(
        state["files"],
        serde_json::json!({"index.py": fs::read_to_string(ws.path().join("hello/index.py")).expect("read")})
    );

    // Nothing changed: the same archive, the same template, no changes.
    let out = tug(
        ws.path(),
        &proxy.url(),
        &["--output", "json", "deploy", "-e", "test"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = outcomes(&events(&out));
    assert!(
        rows.contains(&("assets-test-hello".to_string(), "no changes".to_string())),
        "{rows:?}"
    );
}
