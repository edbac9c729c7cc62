//! Rendering tests over real inputs:
//!
//! - golden: every example workspace under manifests/ renders, for every environment, to the
//!   committed templates under tests/golden/<workspace>/<env>/, byte for byte;
//! - determinism: rendering twice gives the same bytes;
//! - no Lambda functions and no custom resources in any template;
//! - cfn-lint (from the test command's virtualenv) reports zero errors and zero warnings on
//!   every template of the examples and of the Copilot corpus (`../shared/corpus`);
//! - security defaults (issue 18, docs/security.md) on every template of the examples, the
//!   corpus and tests/security/defaults: see [`assert_security_defaults`];
//! - AWS API constraints on names and descriptions (tests/support/api_constraints.rs) on every
//!   template of the examples, the corpus, the fixtures and the committed golden files.
//!
//! Run with `UPDATE_EXPECTED=1` to rewrite the golden files, then review the diff.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use tug::manifest::load::{LoadOptions, Loaded, load};
use tug::manifest::workspace::Workspace;
use tug::render::{self, RenderError, RenderedStack};
use tug::validate::validate;

use support::api_constraints::{assert_api_constraints, violations};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The example workspaces: every folder under manifests/ that holds a workspace.
fn examples() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(root().join("manifests"))
        .expect("manifests/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("copilot/.workspace").is_file() || p.join("tug/.workspace").is_file())
        .collect();
    out.sort();
    out
}

fn open(project: &Path) -> Workspace {
    let dir = if project.join("tug/.workspace").is_file() {
        project.join("tug")
    } else {
        project.join("copilot")
    };
    Workspace::open(&dir)
}

fn load_all(ws: &Workspace, variables: HashMap<String, String>) -> Loaded {
    load(
        ws,
        &LoadOptions {
            lenient: true,
            environment: None,
            variables,
        },
    )
    .expect("loads")
}

/// Renders every stack of every environment; workloads with validation errors are skipped
/// and reported in the second list with the reason.
fn render_all(ws: &Workspace, loaded: &Loaded) -> (Vec<(String, RenderedStack)>, Vec<String>) {
    let diags = validate(loaded);
    let mut stacks = Vec::new();
    let mut skipped = Vec::new();
    for name in &loaded.environment_names {
        if !loaded.environments.iter().any(|e| &e.name == name) {
            skipped.push(format!(
                "environment {name}: its manifest could not be read"
            ));
        }
    }
    for env in &loaded.environments {
        let env_errors = diags
            .iter()
            .any(|d| d.is_error() && d.span.source == env.source);
        if env_errors {
            skipped.push(format!("environment {}: invalid manifest", env.name));
            continue;
        }
        match render::environment::render(loaded, env) {
            Ok(s) => stacks.push((env.name.clone(), s)),
            Err(e) => skipped.push(format!("environment {}: {}", env.name, describe(&e))),
        }
        for wl in loaded
            .workloads
            .iter()
            .filter(|w| w.environment.as_deref() == Some(env.name.as_str()))
        {
            let errors: Vec<_> = diags
                .iter()
                .filter(|d| {
                    d.is_error()
                        && d.span.source == wl.source
                        && (d.environments.is_empty() || d.environments.contains(&env.name))
                })
                .collect();
            if let Some(first) = errors.first() {
                skipped.push(format!(
                    "{} in {}: invalid manifest ({} {})",
                    wl.name, env.name, first.code.id, first.message
                ));
                continue;
            }
            match render::workload::render(loaded, ws, wl) {
                Ok(s) => stacks.push((env.name.clone(), s)),
                Err(e) => skipped.push(format!("{} in {}: {}", wl.name, env.name, describe(&e))),
            }
        }
    }
    (stacks, skipped)
}

fn describe(e: &RenderError) -> String {
    match e {
        RenderError::Input(d) => d
            .iter()
            .map(|d| format!("{} {}", d.code.id, d.message))
            .collect::<Vec<_>>()
            .join("; "),
        RenderError::Internal(m) => format!("INTERNAL {m}"),
    }
}

/// Whether an ELB security policy name accepts only TLS 1.2 and newer. Source of truth: the
/// policy tables of the ELB user guides ("Security policies for your Application Load
/// Balancer", and for Network Load Balancers), where the TLS 1.2+ policies are exactly the
/// `TLS13-1-2*`, `TLS13-1-3*`, `TLS-1-2*` and `FS-1-2*` families; cfn-lint's schema leaves
/// `SslPolicy` a free string, so it cannot tell.
fn tls12_or_newer(policy: &str) -> bool {
    let Some(rest) = policy.strip_prefix("ELBSecurityPolicy-") else {
        return false;
    };
    ["TLS13-1-2-", "TLS13-1-3-", "TLS-1-2-", "FS-1-2-"]
        .iter()
        .any(|family| rest.starts_with(family))
}

/// The text of an IAM `Resource` entry when it is a string or an `Fn::Sub` of one; other
/// intrinsics (`Ref`, `Fn::GetAtt`, `Fn::ImportValue`) name one resource.
fn resource_text(v: &serde_yaml::Value) -> Option<String> {
    if let Some(s) = v.as_str() {
        return Some(s.to_string());
    }
    let sub = v.get("Fn::Sub")?;
    sub.as_str()
        .or_else(|| sub.get(0).and_then(|s| s.as_str()))
        .map(str::to_string)
}

fn strings(v: &serde_yaml::Value) -> Vec<String> {
    match v {
        serde_yaml::Value::String(s) => vec![s.clone()],
        serde_yaml::Value::Sequence(list) => list
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The IAM resources ending in `*` that tug grants on purpose (docs/security.md, "Wildcards"),
/// each only with the actions it is for: actions without resource-level permissions (ECS
/// Exec's channels, X-Ray), every revision of a job's own task definition family, the tasks
/// of the job's cluster, and the ALB's log objects under `AWSLogs/<account>/`.
fn documented_wildcard(resource: &str, actions: &[String]) -> bool {
    let all = |prefixes: &[&str]| {
        !actions.is_empty()
            && actions
                .iter()
                .all(|a| prefixes.iter().any(|p| a.starts_with(p)))
    };
    (resource == "*" && all(&["ssmmessages:", "xray:"]))
        || (resource.contains(":task-definition/")
            && resource.ends_with(":*")
            && all(&["ecs:RunTask"]))
        || (resource.ends_with(":task/${Cluster}/*") && all(&["ecs:StopTask", "ecs:DescribeTasks"]))
        || (resource.ends_with("/AWSLogs/${AWS::AccountId}/*") && all(&["s3:PutObject"]))
}

/// Every policy statement of a template (role policies, role-policy resources, bucket
/// policies), wherever it is nested.
fn statements(v: &serde_yaml::Value, out: &mut Vec<serde_yaml::Value>) {
    match v {
        serde_yaml::Value::Mapping(m) => {
            for (k, child) in m {
                if k.as_str() == Some("PolicyDocument") {
                    if let Some(list) = child.get("Statement").and_then(|s| s.as_sequence()) {
                        out.extend(list.iter().cloned());
                    }
                } else {
                    statements(child, out);
                }
            }
        }
        serde_yaml::Value::Sequence(list) => list.iter().for_each(|i| statements(i, out)),
        _ => {}
    }
}

/// The security defaults of issue 18, asserted on one rendered template:
/// - every HTTPS and TLS listener has an `SslPolicy` that accepts TLS 1.2+ only (manifests
///   naming another policy would be reported here: none of the inputs does);
/// - every application load balancer drops invalid header fields (no input turns it off);
/// - no IAM resource ends in `*` except [`documented_wildcard`] ones; in particular no Secrets
///   Manager ARN ends in `*`.
fn assert_security_defaults(name: &str, template: &str) {
    let doc: serde_yaml::Value = serde_yaml::from_str(template).expect("YAML");
    let resources = doc
        .get("Resources")
        .and_then(|r| r.as_mapping())
        .expect("Resources");
    for (id, r) in resources {
        let id = id.as_str().unwrap_or("?");
        let kind = r.get("Type").and_then(|t| t.as_str()).unwrap_or("");
        let props = r.get("Properties");
        let prop = |key: &str| props.and_then(|p| p.get(key));
        if kind == "AWS::ElasticLoadBalancingV2::Listener"
            && matches!(
                prop("Protocol").and_then(|p| p.as_str()),
                Some("HTTPS" | "TLS")
            )
        {
            let policy = prop("SslPolicy").and_then(|p| p.as_str()).unwrap_or("");
            assert!(
                tls12_or_newer(policy),
                "{name}: listener {id} has TLS policy `{policy}`, not TLS 1.2+"
            );
        }
        if kind == "AWS::ElasticLoadBalancingV2::LoadBalancer"
            && prop("Type").and_then(|t| t.as_str()) != Some("network")
        {
            let drops = prop("LoadBalancerAttributes")
                .and_then(|a| a.as_sequence())
                .into_iter()
                .flatten()
                .any(|a| {
                    a.get("Key").and_then(|k| k.as_str())
                        == Some("routing.http.drop_invalid_header_fields.enabled")
                        && a.get("Value").and_then(|v| v.as_str()) == Some("true")
                });
            assert!(
                drops,
                "{name}: ALB {id} does not drop invalid header fields"
            );
        }
    }
    let mut all = Vec::new();
    statements(&doc, &mut all);
    for st in &all {
        let actions = strings(st.get("Action").unwrap_or(&serde_yaml::Value::Null));
        let entries: Vec<serde_yaml::Value> = match st.get("Resource") {
            Some(serde_yaml::Value::Sequence(list)) => list.clone(),
            Some(one) => vec![one.clone()],
            None => Vec::new(),
        };
        for entry in &entries {
            let Some(text) = resource_text(entry) else {
                continue;
            };
            assert!(
                !text.ends_with('*') || documented_wildcard(&text, &actions),
                "{name}: IAM resource `{text}` for {actions:?} ends in `*` and is not a documented exception"
            );
        }
    }
}

#[test]
fn security_checks_catch_what_they_check() {
    // The checks above must be able to fail: each of these templates breaks one rule.
    let listener = "Resources:\n  L:\n    Type: AWS::ElasticLoadBalancingV2::Listener\n    Properties:\n      Protocol: HTTPS\n";
    let alb = "Resources:\n  A:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n    Properties:\n      Type: application\n";
    let iam = "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      Policies:\n        - PolicyDocument:\n            Statement:\n              - Effect: Allow\n                Action: secretsmanager:GetSecretValue\n                Resource: arn:aws:secretsmanager:us-east-1:1:secret:prod/db*\n";
    for bad in [listener, alb, iam] {
        let caught = std::panic::catch_unwind(|| assert_security_defaults("bad", bad));
        assert!(caught.is_err(), "not caught:\n{bad}");
    }
    assert!(tls12_or_newer("ELBSecurityPolicy-TLS13-1-2-2021-06"));
    assert!(!tls12_or_newer("ELBSecurityPolicy-2016-08"));
    assert!(!tls12_or_newer("ELBSecurityPolicy-TLS13-1-1-2021-06"));
}

/// tests/security/defaults: every setting the security defaults apply to (HTTPS and TLS
/// listeners without `ssl_policy`, access logs, EC2 with NAT, Secrets Manager ARNs) renders
/// with them, and passes cfn-lint.
#[test]
fn security_defaults_on_the_security_fixture() {
    let ws = open(&root().join("tests/security/defaults"));
    let loaded = load_all(&ws, HashMap::new());
    let (stacks, skipped) = render_all(&ws, &loaded);
    assert!(skipped.is_empty(), "{skipped:#?}");
    assert_eq!(stacks.len(), 4);
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for (_, s) in &stacks {
        assert_security_defaults(&s.stack_name, &s.template);
        assert_api_constraints(&s.stack_name, &s.template);
        let path = tmp.path().join(format!("{}.yml", s.stack_name));
        fs::write(&path, &s.template).expect("write");
        files.push(path);
    }
    let text = |name: &str| {
        stacks
            .iter()
            .find(|(_, s)| s.stack_name == name)
            .map(|(_, s)| s.template.clone())
            .expect("stack")
    };
    let env = text("vault-test");
    // Both HTTPS listeners got the default policy; both ALBs drop invalid headers.
    assert_eq!(
        env.matches("SslPolicy: \"ELBSecurityPolicy-TLS13-1-2-2021-06\"")
            .count(),
        2,
        "{env}"
    );
    assert_eq!(
        env.matches("drop_invalid_header_fields.enabled\",\"Value\":\"true\"")
            .count(),
        2
    );
    // Access logs: only the account's log prefix, from this account's load balancers.
    assert!(
        env.contains("${ELBAccessLogsBucket}/alb/AWSLogs/${AWS::AccountId}/*"),
        "{env}"
    );
    assert!(env.contains("aws:SourceAccount"), "{env}");
    assert!(env.contains("loadbalancer/app/*"), "{env}");
    // EC2: IMDS closed to containers, instances private (NAT exists for `web`).
    assert!(env.contains("ECS_AWSVPC_BLOCK_IMDS=true"), "{env}");
    assert!(env.contains("HttpPutResponseHopLimit: 1"), "{env}");
    assert!(env.contains("AssociatePublicIpAddress: false"), "{env}");
    let web = text("vault-test-web");
    let base = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";
    assert!(web.contains(&format!("\"{base}prod/db-??????\"")), "{web}");
    assert!(web.contains(&format!("\"{base}prod/db-Ab12Cd\"")), "{web}");
    assert!(web.contains("secret:prod/api-token-??????"), "{web}");
    let tcp = text("vault-test-tcp");
    assert!(
        tcp.contains("SslPolicy: \"ELBSecurityPolicy-TLS13-1-2-2021-06\""),
        "{tcp}"
    );
    support::cfn_lint(&files);
}

fn assert_no_lambda(name: &str, template: &str) {
    let parsed: Result<serde_yaml::Value, _> = serde_yaml::from_str(template);
    assert!(
        parsed.is_ok(),
        "{name} is not valid YAML: {:?}",
        parsed.err()
    );
    assert!(
        !template.contains("AWS::Lambda::Function"),
        "{name} has a Lambda function"
    );
    assert!(
        !template.contains("Type: Custom::"),
        "{name} has a custom resource"
    );
    assert!(
        !template.contains("AWS::CloudFormation::CustomResource"),
        "{name} has a custom resource"
    );
}

#[test]
fn examples_match_golden_templates() {
    let mut mismatches = Vec::new();
    for project in examples() {
        let golden = root()
            .join("tests/golden")
            .join(project.file_name().expect("name"));
        mismatches.extend(compare_with_golden(&project, &golden));
    }
    assert!(
        mismatches.is_empty(),
        "golden templates differ (review, then UPDATE_EXPECTED=1): {mismatches:#?}"
    );
}

/// Patched templates (taskdef_overrides and overrides/cfn.patches.yml) are parsed and written
/// again as YAML, unlike every other template: tests/patched holds a workload whose values
/// need every way of writing a scalar (plain, single-quoted, double-quoted, literal block), and
/// its rendering is compared with tests/golden/patched byte for byte.
#[test]
fn patched_templates_match_golden_templates() {
    let project = root().join("tests/patched");
    let mismatches = compare_with_golden(&project, &root().join("tests/golden/patched"));
    assert!(
        mismatches.is_empty(),
        "golden templates differ (review, then UPDATE_EXPECTED=1): {mismatches:#?}"
    );
}

/// Renders every stack of `project` twice (the same bytes both times), checks what every
/// template must meet, and compares the result with the files under `golden`; returns the
/// files that differ. With `UPDATE_EXPECTED` set, rewrites `golden` instead (see
/// [`support::check_expected_dir`]).
fn compare_with_golden(project: &Path, golden: &Path) -> Vec<String> {
    let ws = open(project);
    let loaded = load_all(&ws, HashMap::new());
    let (stacks, skipped) = render_all(&ws, &loaded);
    assert!(
        skipped.is_empty(),
        "{}: could not render: {skipped:#?}",
        project.display()
    );
    let again = render_all(&ws, &loaded).0;
    assert_eq!(stacks, again, "rendering is not deterministic");
    let mut expected_files: BTreeMap<PathBuf, String> = BTreeMap::new();
    for (env, s) in &stacks {
        assert_no_lambda(&s.stack_name, &s.template);
        assert_security_defaults(&s.stack_name, &s.template);
        assert_api_constraints(&s.stack_name, &s.template);
        expected_files.insert(
            golden.join(env).join(format!("{}.yml", s.stack_name)),
            s.template.clone(),
        );
        expected_files.insert(
            golden
                .join(env)
                .join(format!("{}.params.json", s.stack_name)),
            s.parameters_file(),
        );
    }
    support::check_expected_dir(golden, &expected_files)
}

#[test]
fn examples_pass_cfn_lint() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for project in examples() {
        let ws = open(&project);
        let loaded = load_all(&ws, HashMap::new());
        for (env, s) in render_all(&ws, &loaded).0 {
            let path = tmp.path().join(format!(
                "{}-{env}-{}.yml",
                project.file_name().and_then(|n| n.to_str()).unwrap_or("x"),
                s.stack_name
            ));
            fs::write(&path, &s.template).expect("write");
            files.push(path);
        }
    }
    assert!(!files.is_empty());
    support::cfn_lint(&files);
}

/// The Copilot corpus, laid out as workspaces. A repository that has no environment manifest
/// in the corpus gets a default one (`type: Environment` only, as `copilot env init` wrote)
/// for each environment its workloads name, or `test`.
#[test]
fn copilot_corpus_renders_and_passes_cfn_lint() {
    let corpus = root().join("../shared/corpus/copilot-real");
    if !corpus.is_dir() {
        eprintln!("skipping: {} is not present", corpus.display());
        return;
    }
    let variables: HashMap<String, String> = support::CORPUS_VARIABLES
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let tmp = tempfile::tempdir().expect("tempdir");
    let out_dir = tmp.path().join("rendered");
    fs::create_dir_all(&out_dir).expect("mkdir");
    let mut files = Vec::new();
    let mut report = String::new();
    let mut repos: Vec<PathBuf> = fs::read_dir(&corpus)
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    for repo in repos {
        let name = repo
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("repo")
            .to_string();
        let project = tmp.path().join(&name);
        let mut has_env = false;
        let mut env_names = Vec::new();
        for file in fs::read_dir(&repo).expect("repo").flatten() {
            let flat = file.file_name().to_string_lossy().replace("__", "/");
            has_env |= flat.starts_with("copilot/environments/");
            let dest = project.join(&flat);
            fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
            fs::copy(file.path(), &dest).expect("copy");
            let text = fs::read_to_string(file.path()).unwrap_or_default();
            if let Some(block) = text.split("\nenvironments:").nth(1) {
                for line in block.lines() {
                    let t = line.trim_end();
                    if t.len() > 2
                        && t.starts_with("  ")
                        && !t.starts_with("   ")
                        && t.ends_with(':')
                        && !t.trim_start().starts_with('#')
                    {
                        env_names.push(t.trim().trim_end_matches(':').to_string());
                    }
                }
            }
        }
        let app: String = name
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("-")
            .chars()
            .take(20)
            .collect::<String>()
            .trim_end_matches('-')
            .to_string();
        fs::write(
            project.join("copilot/.workspace"),
            format!("application: {app}\n"),
        )
        .expect("workspace");
        if !has_env {
            if env_names.is_empty() {
                env_names.push("test".into());
            }
            env_names.sort();
            env_names.dedup();
            for env in &env_names {
                let dir = project.join("copilot/environments").join(env);
                fs::create_dir_all(&dir).expect("mkdir");
                fs::write(
                    dir.join("manifest.yml"),
                    format!("name: {env}\ntype: Environment\n"),
                )
                .expect("env");
            }
        }
        let ws = Workspace::open(&project.join("copilot"));
        let loaded = load_all(&ws, variables.clone());
        let (stacks, skipped) = render_all(&ws, &loaded);
        for (env, s) in stacks {
            assert_no_lambda(&s.stack_name, &s.template);
            assert_security_defaults(&s.stack_name, &s.template);
            assert_api_constraints(&s.stack_name, &s.template);
            report.push_str(&format!("{name}: rendered {} ({env})\n", s.stack_name));
            let path = out_dir.join(format!("{name}--{}.yml", s.stack_name));
            fs::write(&path, &s.template).expect("write");
            files.push(path);
        }
        for s in skipped {
            report.push_str(&format!("{name}: not rendered: {s}\n"));
        }
    }
    support::check_expected("tests/corpus/rendered.txt", &report);
    assert!(
        files.len() >= 20,
        "only {} corpus templates rendered",
        files.len()
    );
    support::cfn_lint(&files);
}

/// Every committed golden template meets the API constraints (the examples' fresh renders are
/// checked in `examples_match_golden_templates`; this covers what a reviewer reads).
#[test]
fn golden_templates_meet_api_constraints() {
    let files: Vec<PathBuf> = support::walk(&root().join("tests/golden"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    assert!(files.len() >= 10, "{} golden templates", files.len());
    for f in files {
        let text = fs::read_to_string(&f).expect("golden");
        assert_api_constraints(&f.display().to_string(), &text);
    }
}

#[test]
fn api_constraint_checks_catch_what_they_check() {
    // Each template breaks one constraint; the checker must report it.
    let resource = |kind: &str, props: &str| {
        format!("Resources:\n  R:\n    Type: {kind}\n    Properties:\n{props}")
    };
    let bad = [
        resource("AWS::EC2::SecurityGroup", "      GroupDescription: \"the tasks' group\"\n"),
        resource(
            "AWS::EC2::SecurityGroup",
            "      GroupDescription: ok\n      SecurityGroupIngress:\n        - Description: \"it's\"\n",
        ),
        resource("AWS::EC2::SecurityGroupIngress", "      Description: \"tasks' ingress\"\n"),
        resource("AWS::ElasticLoadBalancingV2::TargetGroup", "      Name: a-name-that-is-longer-than-32-characters\n"),
        resource("AWS::SNS::Topic", "      TopicName: orders.fifo\n"),
        resource("AWS::SNS::Topic", "      TopicName: orders\n      FifoTopic: true\n"),
        resource("AWS::SQS::Queue", &format!("      QueueName: {}\n", "q".repeat(81))),
        resource("AWS::ServiceDiscovery::Service", "      Name: -api\n"),
        resource(
            "AWS::ElasticLoadBalancingV2::ListenerRule",
            "      Priority: 1\n      Conditions:\n        - Field: host-header\n          HostHeaderConfig:\n            Values: [a.example.com, b.example.com, c.example.com]\n        - Field: path-pattern\n          PathPatternConfig:\n            Values: [/a, /b, /c]\n",
        ),
        resource("AWS::ElasticLoadBalancingV2::ListenerRule", "      Priority: 50001\n"),
        resource(
            "AWS::ECS::TaskDefinition",
            "      ContainerDefinitions:\n        - Name: web\n          PortMappings:\n            - Name: Web-80\n",
        ),
        "Resources:\n  T:\n    Type: AWS::SNS::Topic\n  T:\n    Type: AWS::SNS::Topic\n".to_string(),
        "Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: t\n  B:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: t\n".to_string(),
        "Resources:\n  S:\n    Type: AWS::ECS::Service\n    Properties:\n      ServiceConnectConfiguration:\n        Services:\n          - PortName: nope\n".to_string(),
    ];
    for t in &bad {
        assert!(!violations(t).is_empty(), "not caught:\n{t}");
    }
    let good = resource(
        "AWS::EC2::SecurityGroup",
        "      GroupDescription: \"NFS from the tasks of the environment (tug) #1: a-z/A-Z [ok]\"\n",
    );
    assert_eq!(violations(&good), Vec::<String>::new());
}
