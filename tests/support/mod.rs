//! Test support shared by every integration test: running the real binary (offline, or
//! against an endpoint), golden files that `UPDATE_EXPECTED=1` rewrites, and for the tests
//! that need AWS a moto server (the local AWS emulator, started through
//! scripts/moto_server.py from the test command's virtualenv) and a fault-injecting proxy in
//! front of it.

#![allow(dead_code)]

pub mod api_constraints;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Values for the variables the Copilot corpus manifests expect from their CI environment.
pub const CORPUS_VARIABLES: &[(&str, &str)] = &[
    ("IMAGE_TAG", "1.0.0"),
    ("API_DOMAIN", "api.example.com"),
    ("FS_ID", "fs-0123456789abcdef0"),
    ("FSAP_ID", "fsap-0123456789abcdef0"),
    ("VPC_ID", "vpc-0123456789abcdef0"),
    ("PUBLIC_SUBNET_ID_1", "subnet-0123456789abcdef0"),
    ("PRIVATE_SUBNET_ID_1", "subnet-0123456789abcdef1"),
    (
        "CERTIFICATE_ARN",
        "arn:aws:acm:us-east-1:123456789012:certificate/abc",
    ),
];

/// A client of tug's own for the emulator at `url`, with the runtime it runs on.
pub fn aws_client(url: &str) -> (tokio::runtime::Runtime, tug::deploy::aws::Aws) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // SAFETY of the test: credentials for the emulator only, set before any thread reads them.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    }
    let settings = tug::deploy::aws::AwsSettings {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(url.to_string()),
    };
    let aws = runtime
        .block_on(tug::deploy::aws::Aws::connect(&settings))
        .expect("connects");
    (runtime, aws)
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the folder `relative` (from the crate root) in a throwaway folder.
pub fn copy_of(relative: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(&root().join(relative), tmp.path());
    tmp
}

/// A throwaway folder with the given files (paths relative to it).
pub fn files_in_temp(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (path, content) in files {
        let p = tmp.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, content).expect("write");
    }
    tmp
}

/// A throwaway workspace: `copilot/.workspace` holding `workspace`, environment `test` with
/// manifest `env`, and the `(name, manifest)` workloads.
pub fn temp_workspace(workspace: &str, env: &str, workloads: &[(&str, &str)]) -> tempfile::TempDir {
    let manifests: Vec<(String, &str)> = workloads
        .iter()
        .map(|(name, text)| (format!("copilot/{name}/manifest.yml"), *text))
        .collect();
    let mut files = vec![
        ("copilot/.workspace", workspace),
        ("copilot/environments/test/manifest.yml", env),
    ];
    files.extend(manifests.iter().map(|(path, text)| (path.as_str(), *text)));
    files_in_temp(&files)
}

/// The boto3 clients a [`boto3`] snippet may name, by the variable it names them with.
const BOTO3_CLIENTS: &[(&str, &str)] = &[
    ("aas", "application-autoscaling"),
    ("acm", "acm"),
    ("asg", "autoscaling"),
    ("cfn", "cloudformation"),
    ("cw", "cloudwatch"),
    ("ddb", "dynamodb"),
    ("ec2", "ec2"),
    ("ecs", "ecs"),
    ("elb", "elbv2"),
    ("iam", "iam"),
    ("lam", "lambda"),
    ("r53", "route53"),
    ("s3", "s3"),
    ("sns", "sns"),
];

/// Runs a Python snippet against moto with boto3 from the test virtualenv and returns what it
/// prints, trimmed; a failing snippet fails the test with Python's error. The snippet finds
/// `json` and `sys` imported, `kw` (moto's endpoint, Region us-east-1 and test credentials)
/// and, made only when the snippet names them, the clients of [`BOTO3_CLIENTS`] (`cfn`,
/// `ecs`, `r53`, ...).
pub fn boto3(moto: &Moto, body: &str) -> String {
    boto3_with(moto, body, &[])
}

/// [`boto3`] with `args` in `sys.argv[1:]`.
pub fn boto3_with(moto: &Moto, body: &str, args: &[&str]) -> String {
    let mut script = format!(
        "import boto3, json, sys\nkw = dict(endpoint_url='{}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n",
        moto.url()
    );
    for (name, service) in BOTO3_CLIENTS {
        if names_client(body, name) {
            script.push_str(&format!("{name} = boto3.client('{service}', **kw)\n"));
        }
    }
    script.push_str(body);
    script.push('\n');
    let out = Command::new(root().join(".venv/bin/python"))
        .arg("-c")
        .arg(&script)
        .args(args)
        .output()
        .expect("python runs (scripts/test.sh installs the virtualenv)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Whether `body` uses the variable `name` (`name.` not inside another identifier).
fn names_client(body: &str, name: &str) -> bool {
    let pattern = format!("{name}.");
    body.match_indices(&pattern).any(|(at, _)| {
        body[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
    })
}

/// Runs cfn-lint (the test virtualenv's, or the one on PATH) over `files`: it must find no
/// error and no warning.
pub fn cfn_lint(files: &[PathBuf]) {
    let venv = root().join(".venv/bin/cfn-lint");
    let program = if venv.is_file() {
        venv
    } else {
        PathBuf::from("cfn-lint")
    };
    let out = Command::new(program)
        .args(["--format", "parseable"])
        .args(files)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run cfn-lint ({e}); run the tests with scripts/test.sh, which installs it"
            )
        });
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && report.trim().is_empty(),
        "cfn-lint found problems:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Checks rendered `(stack, template)` pairs against the API constraints
/// ([`api_constraints`]) and cfn-lint.
pub fn lint_stacks(stacks: &[(String, String)]) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for (name, text) in stacks {
        api_constraints::assert_api_constraints(name, text);
        let path = tmp.path().join(format!("{name}.yml"));
        std::fs::write(&path, text).expect("write");
        files.push(path);
    }
    cfn_lint(&files);
}

/// A moto server on a loopback port, stopped when dropped (and when the test process exits).
pub struct Moto {
    child: Child,
    pub port: u16,
    // Kept open so moto never writes into a closed pipe.
    _stdout: BufReader<std::process::ChildStdout>,
}

impl Moto {
    /// Starts moto; `running` is MOTO_ECS_SERVICE_RUNNING (tasks each service reports running).
    pub fn start(running: u32) -> Moto {
        Moto::start_failing(running, 0)
    }

    /// Starts moto whose services report `running` tasks running and `failed` failed
    /// (MOTO_ECS_SERVICE_FAILED_TASKS).
    pub fn start_failing(running: u32, failed: u32) -> Moto {
        let python = root().join(".venv/bin/python");
        assert!(
            python.is_file(),
            "{} is missing: run the tests with scripts/test.sh, which installs moto",
            python.display()
        );
        // moto binds port 0 and names the port it got: a port chosen here and handed over
        // could be taken by another process first (moto would then hang on its bind while
        // this test talked to that process).
        let mut child = Command::new(&python)
            .arg(root().join("scripts/moto_server.py"))
            .args(["--port", "0", "--exit-with-parent"])
            .env("MOTO_ECS_SERVICE_RUNNING", running.to_string())
            .env("MOTO_ECS_SERVICE_FAILED_TASKS", failed.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto starts");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("moto's stdout"));
        stdout.read_line(&mut line).expect("moto names its port");
        let port: u16 = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("moto did not start: {line:?}"));
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Moto {
            child,
            port,
            _stdout: stdout,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `tug` command against `endpoint` in `dir`, with emulator credentials and CI settings.
pub fn tug_command(dir: &Path, endpoint: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tug"));
    cmd.current_dir(dir)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env("NO_COLOR", "1")
        .env("CI", "true");
    cmd
}

/// Runs tug in `dir` with no AWS at hand (no profile, no endpoint) and without colours.
pub fn tug_offline(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tug"))
        .args(args)
        .current_dir(dir)
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("tug runs")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Compares `actual` with the golden file at `relative` (from the crate root); with
/// `UPDATE_EXPECTED=1` in the environment, rewrites the file instead (review the diff).
pub fn check_expected(relative: &str, actual: &str) {
    let path = root().join(relative);
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create the golden file's folder");
        }
        std::fs::write(&path, actual).expect("write the golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        actual, expected,
        "{relative} differs; review, then run the tests with UPDATE_EXPECTED=1"
    );
}

/// Compares `actual` with the golden file at `path` and returns the file's text when it differs
/// (for tests that gather every mismatch before failing); with `UPDATE_EXPECTED=1` in the
/// environment, rewrites the file instead and returns `None` (review the diff).
pub fn differs_from_expected(path: &Path, actual: &str) -> Option<String> {
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(path, actual).expect("write the golden file");
        return None;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    (expected != actual).then_some(expected)
}

/// Whether golden files are being rewritten (`UPDATE_EXPECTED=1`) rather than compared.
pub fn updating_expected() -> bool {
    std::env::var_os("UPDATE_EXPECTED").is_some()
}

/// Compares a folder of golden files with `expected` (path → content, every path under `dir`);
/// returns the files that differ, and those under `dir` that nothing produces any more
/// (stale). With `UPDATE_EXPECTED=1` in the environment, rewrites `dir` to hold exactly
/// `expected` instead and returns nothing (review the diff).
pub fn check_expected_dir(
    dir: &Path,
    expected: &std::collections::BTreeMap<PathBuf, String>,
) -> Vec<String> {
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        let _ = std::fs::remove_dir_all(dir);
        for (path, text) in expected {
            std::fs::create_dir_all(path.parent().expect("a golden file's folder"))
                .expect("create the golden file's folder");
            std::fs::write(path, text).expect("write the golden file");
        }
        return Vec::new();
    }
    let mut mismatches = Vec::new();
    for (path, text) in expected {
        let current = std::fs::read_to_string(path).unwrap_or_default();
        if &current != text {
            mismatches.push(path.display().to_string());
        }
    }
    for entry in walk(dir) {
        if !expected.contains_key(&entry) {
            mismatches.push(format!("{} (stale)", entry.display()));
        }
    }
    mismatches
}

/// Every file under `dir`, at any depth (none when `dir` does not exist).
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Runs tug against `endpoint` in `dir`.
pub fn tug(dir: &Path, endpoint: &str, args: &[&str]) -> std::process::Output {
    tug_command(dir, endpoint)
        .args(args)
        .output()
        .expect("tug runs")
}

/// Copies the demo workspace to a temporary folder under a new application name, so tests
/// sharing a server do not share stacks.
pub fn demo_copy(app: &str) -> tempfile::TempDir {
    example_copy("demo", app)
}

/// Copies the example workspace `manifests/<example>` to a temporary folder under a new
/// application name.
pub fn example_copy(example: &str, app: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(&root().join("manifests").join(example), tmp.path());
    std::fs::write(
        tmp.path().join("copilot/.workspace"),
        format!("application: {app}\n"),
    )
    .expect("workspace");
    tmp
}

/// A command's standard error, as text.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// (stack, outcome) of each row of a `--output json` deploy's final result object.
pub fn outcomes(events: &[serde_json::Value]) -> Vec<(String, String)> {
    let result = events
        .iter()
        .find(|e| e["event"] == "result")
        .expect("a final result object");
    result["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .map(|s| {
            (
                s["stack"].as_str().unwrap_or("").to_string(),
                s["outcome"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Copies the folder `from` into `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The NDJSON lines of a `--output json` deploy.
pub fn events(out: &std::process::Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// What the fault proxy does to the n-th request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Pass,
    Throttle,
    ServerError,
    Slow,
    /// The request reaches moto and takes effect, but its answer is lost: the connection
    /// closes without a response, as when a network drops an answer.
    DropAnswer,
    /// Answered with this AWS error (code, message) without reaching moto: for the answers
    /// AWS gives to repeated calls where moto differs.
    Error(&'static str, &'static str),
}

/// A loopback HTTP proxy in front of moto that answers some requests with throttling errors
/// or 5xx, or delays them, by a fixed schedule (so runs are repeatable).
pub struct FaultProxy {
    pub port: u16,
    /// Rewrites the body of moto's answer to an API action (to stage responses moto cannot
    /// produce, such as a stack rollback).
    pub faults: Arc<AtomicUsize>,
    pub requests: Arc<AtomicUsize>,
}

impl FaultProxy {
    /// `schedule(n, action)` decides the fate of request `n` (0-based) for the API `action`.
    pub fn start(upstream: u16, schedule: fn(usize, &str) -> Fault) -> FaultProxy {
        FaultProxy::with_rewrite(upstream, schedule, |_, body| body)
    }

    /// Like [`FaultProxy::start`], and `rewrite(action, body)` may change moto's answers.
    pub fn with_rewrite(
        upstream: u16,
        schedule: fn(usize, &str) -> Fault,
        rewrite: fn(&str, String) -> String,
    ) -> FaultProxy {
        FaultProxy::serving(upstream, schedule, rewrite, |_, _| None)
    }

    /// A proxy that answers some requests itself: `answer(action, request_body)` returns the
    /// JSON body of a 200 answer (for APIs moto does not implement, answered with recorded
    /// responses), or `None` to pass the request on to moto.
    pub fn with_answers(upstream: u16, answer: fn(&str, &str) -> Option<String>) -> FaultProxy {
        FaultProxy::serving(upstream, |_, _| Fault::Pass, |_, body| body, answer)
    }

    pub fn serving(
        upstream: u16,
        schedule: fn(usize, &str) -> Fault,
        rewrite: fn(&str, String) -> String,
        answer: fn(&str, &str) -> Option<String>,
    ) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let counter = Arc::new(AtomicUsize::new(0));
        let faults = Arc::new(AtomicUsize::new(0));
        let (c, f) = (counter.clone(), faults.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (c, f) = (c.clone(), f.clone());
                std::thread::spawn(move || {
                    serve(stream, upstream, schedule, rewrite, answer, c, f)
                });
            }
        });
        FaultProxy {
            port,
            faults,
            requests: counter,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

struct Request {
    head: String,
    body: Vec<u8>,
}

fn read_message(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request { head, body })
}

fn action_of(req: &Request) -> String {
    if let Some(target) = req.head.lines().find_map(|l| {
        l.strip_prefix("X-Amz-Target: ")
            .or(l.strip_prefix("x-amz-target: "))
    }) {
        return target.trim().rsplit('.').next().unwrap_or("").to_string();
    }
    // S3 names its actions by method and sub-resource (`PUT /bucket?policy`).
    let request_line = req.head.lines().next().unwrap_or_default();
    if request_line.starts_with("PUT ")
        && request_line
            .split(' ')
            .nth(1)
            .is_some_and(|path| path.ends_with("?policy"))
    {
        return "PutBucketPolicy".to_string();
    }
    let body = String::from_utf8_lossy(&req.body);
    body.split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .unwrap_or("")
        .to_string()
}

fn serve(
    client: TcpStream,
    upstream: u16,
    schedule: fn(usize, &str) -> Fault,
    rewrite: fn(&str, String) -> String,
    answer: fn(&str, &str) -> Option<String>,
    counter: Arc<AtomicUsize>,
    faults: Arc<AtomicUsize>,
) {
    let mut writer = client.try_clone().expect("clone");
    let mut reader = BufReader::new(client);
    while let Some(req) = read_message(&mut reader) {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        let action = action_of(&req);
        let json = req.head.to_ascii_lowercase().contains("x-amz-target:");
        if let Some(body) = answer(&action, &String::from_utf8_lossy(&req.body)) {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: recorded\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let mut out = head.into_bytes();
            out.extend_from_slice(body.as_bytes());
            if writer.write_all(&out).is_err() {
                return;
            }
            continue;
        }
        let fault = schedule(n, &action);
        if fault != Fault::Pass {
            faults.fetch_add(1, Ordering::SeqCst);
        }
        let response: Vec<u8> = match fault {
            Fault::Throttle if json => {
                let body = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
                format!("HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-ErrorType: ThrottlingException\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
            }
            Fault::Throttle => {
                let body = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault</RequestId></ErrorResponse>";
                format!("HTTP/1.1 400 Bad Request\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
            }
            Fault::ServerError => {
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n".to_vec()
            }
            Fault::DropAnswer => {
                let _ = forward(&req, upstream, |body| body);
                return;
            }
            Fault::Error(code, message) if json => {
                let body = format!(r#"{{"__type":"{code}","message":"{message}"}}"#);
                format!("HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-ErrorType: {code}\r\nx-amzn-query-error: {code};Sender\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
            }
            Fault::Error(code, message) => {
                let body = format!(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>recorded</RequestId></ErrorResponse>"
                );
                format!("HTTP/1.1 400 Bad Request\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
            }
            Fault::Slow | Fault::Pass => {
                if fault == Fault::Slow {
                    std::thread::sleep(Duration::from_millis(1500));
                }
                match forward(&req, upstream, |body| rewrite(&action, body)) {
                    Some(r) => r,
                    None => b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n".to_vec(),
                }
            }
        };
        if writer.write_all(&response).is_err() {
            return;
        }
    }
}

fn forward(req: &Request, upstream: u16, rewrite: impl Fn(String) -> String) -> Option<Vec<u8>> {
    let stream = TcpStream::connect(("127.0.0.1", upstream)).ok()?;
    let mut up = stream.try_clone().ok()?;
    let head: String = req
        .head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect::<String>()
        .trim_end()
        .to_string();
    up.write_all(format!("{head}\r\nConnection: close\r\n\r\n").as_bytes())
        .ok()?;
    up.write_all(&req.body).ok()?;
    let mut reader = BufReader::new(stream);
    // The answer to HEAD (S3's HeadObject, HeadBucket) has a Content-Length but no body: pass
    // its head on as it is.
    if req.head.starts_with("HEAD ") {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let head: String = head
            .lines()
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:") && !l.is_empty())
            .map(|l| format!("{l}\r\n"))
            .collect();
        return Some(format!("{head}\r\n").into_bytes());
    }
    let response = read_message(&mut reader)?;
    let body = rewrite(String::from_utf8_lossy(&response.body).into_owned()).into_bytes();
    let head: String = response
        .head
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            !l.starts_with("connection:") && !l.starts_with("content-length:") && !l.is_empty()
        })
        .map(|l| format!("{l}\r\n"))
        .collect();
    let mut out = head.into_bytes();
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(&body);
    Some(out)
}

/// Sends SIGINT (Ctrl-C) to a running `tug`.
pub fn interrupt(child: &Child) {
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
}

/// The final `result` object among NDJSON lines.
pub fn result_line(lines: &[String]) -> &String {
    lines
        .iter()
        .find(|l| l.contains("\"event\":\"result\""))
        .expect("a result object")
}
