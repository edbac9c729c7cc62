//! `tug adopt` against moto, through the real `tug` binary: a Copilot application (stacks
//! built from tests/fixtures/copilot, Copilot's stack shapes, logical ids, parameters,
//! exports, tags and Parameter Store records, read from Copilot's public source) is taken over
//! in place.
//!
//! What these tests rely on, and what they cannot show:
//! - moto runs no Lambda code, so Copilot's custom resources are stood in by resources moto
//!   creates (tests/fixtures/copilot/README.md); that their Delete handlers do not run is
//!   CloudFormation's documented behaviour for `DeletionPolicy: Retain`, which the tests check
//!   by reading the policies in the deployed template, not by running a handler.
//! - moto's change sets carry no `Replacement` field: what replaces comes from tug's own
//!   reading of the resource schemas (src/deploy/create_only.tsv, generated from cfn-lint's
//!   copy of CloudFormation's schemas), as on AWS when it answers `Conditional`.
//! - moto leaves some types out of a stack (AWS::ServiceDiscovery::*, wait condition
//!   handles): their physical ids cannot be compared here.

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::{Fault, Moto, aws_client as client, demo_copy, stderr, tug};
use tug::deploy::aws::Aws;

const FIXTURES: &str = "tests/fixtures/copilot";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(support::root().join(FIXTURES).join(name)).expect("fixture")
}

/// The parameters Copilot passes to its environment stack.
fn env_parameters(app: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AppName", app.into()),
        ("EnvironmentName", "test".into()),
        ("ALBWorkloads", "web".into()),
        ("InternalALBWorkloads", String::new()),
        ("EFSWorkloads", String::new()),
        ("NATWorkloads", String::new()),
        ("AppRunnerPrivateWorkloads", String::new()),
        (
            "ToolsAccountPrincipalARN",
            "arn:aws:iam::123456789012:root".into(),
        ),
        ("AppDNSName", String::new()),
        ("AppDNSDelegationRole", String::new()),
        ("Aliases", String::new()),
        ("CreateHTTPSListener", "false".into()),
        ("CreateInternalHTTPSListener", "false".into()),
        ("ServiceDiscoveryEndpoint", "test.demo.local".into()),
    ]
}

/// The parameters Copilot passes to the web service's stack.
fn web_parameters(app: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AppName", app.into()),
        ("EnvName", "test".into()),
        ("WorkloadName", "web".into()),
        ("ContainerImage", "public.ecr.aws/nginx/nginx:1.27".into()),
        ("ContainerPort", "80".into()),
        ("TaskCPU", "256".into()),
        ("TaskMemory", "512".into()),
        ("TaskCount", "1".into()),
        ("DNSDelegated", "false".into()),
        ("LogRetention", "30".into()),
        ("TargetContainer", "web".into()),
        ("TargetPort", "80".into()),
        ("HTTPSEnabled", "false".into()),
        ("RulePath", "/".into()),
    ]
}

/// Creates a stack as Copilot would: its template, parameters and tags.
fn copilot_stack(
    rt: &tokio::runtime::Runtime,
    aws: &Aws,
    name: &str,
    template: &str,
    parameters: &[(&str, String)],
    tags: &[(&str, &str)],
) {
    use aws_sdk_cloudformation::types::{Capability, Parameter, Tag};
    let mut req = aws
        .cfn
        .create_stack()
        .stack_name(name)
        .template_body(template)
        .capabilities(Capability::CapabilityNamedIam);
    for (k, v) in parameters {
        req = req.parameters(
            Parameter::builder()
                .parameter_key(*k)
                .parameter_value(v)
                .build(),
        );
    }
    for (k, v) in tags {
        req = req.tags(Tag::builder().key(*k).value(*v).build());
    }
    rt.block_on(req.send()).expect("creates the Copilot stack");
    let info = rt
        .block_on(tug::deploy::stack::describe(aws, name))
        .expect("reads")
        .expect("exists");
    assert_eq!(info.status, "CREATE_COMPLETE", "{name}: {:?}", info.reason);
}

/// Copilot's Parameter Store records of an application, its environment and workloads.
fn copilot_records(rt: &tokio::runtime::Runtime, aws: &Aws, app: &str, workloads: &[(&str, &str)]) {
    let put = |name: String, value: String| {
        rt.block_on(
            aws.ssm
                .put_parameter()
                .name(name)
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .overwrite(true)
                .send(),
        )
        .expect("puts the parameter");
    };
    put(
        format!("/copilot/applications/{app}"),
        format!(r#"{{"name":"{app}","account":"123456789012","version":"v1.0.2"}}"#),
    );
    put(
        format!("/copilot/applications/{app}/environments/test"),
        format!(
            r#"{{"app":"{app}","name":"test","region":"us-east-1","accountID":"123456789012","prod":false}}"#
        ),
    );
    for (name, kind) in workloads {
        put(
            format!("/copilot/applications/{app}/components/{name}"),
            format!(r#"{{"app":"{app}","name":"{name}","type":"{kind}"}}"#),
        );
    }
}

/// Copilot's environment stack `<app>-test`, from the fixture.
fn copilot_env(rt: &tokio::runtime::Runtime, aws: &Aws, app: &str) {
    copilot_stack(
        rt,
        aws,
        &format!("{app}-test"),
        &fixture("demo-test.yml"),
        &env_parameters(app),
        &[
            ("copilot-application", app),
            ("copilot-environment", "test"),
        ],
    );
}

/// Copilot's stack `<app>-test-<name>` of a workload, with Copilot's tags.
fn copilot_workload(
    rt: &tokio::runtime::Runtime,
    aws: &Aws,
    app: &str,
    name: &str,
    template: &str,
    parameters: &[(&str, String)],
) {
    copilot_stack(
        rt,
        aws,
        &format!("{app}-test-{name}"),
        template,
        parameters,
        &[
            ("copilot-application", app),
            ("copilot-environment", "test"),
            ("copilot-service", name),
        ],
    );
}

/// The Copilot application `app` with environment test and the web service.
fn copilot_app(rt: &tokio::runtime::Runtime, aws: &Aws, app: &str) {
    copilot_records(rt, aws, app, &[("web", "Load Balanced Web Service")]);
    copilot_env(rt, aws, app);
    let web = fixture("demo-test-web.yml").replace("demo-test-", &format!("{app}-test-"));
    copilot_workload(rt, aws, app, "web", &web, &web_parameters(app));
}

/// moto with `running` tasks per service, and a client of it.
fn moto(running: u32) -> (Moto, tokio::runtime::Runtime, Aws) {
    let moto = Moto::start(running);
    let (rt, aws) = client(&moto.url());
    (moto, rt, aws)
}

/// `tug adopt -e test` with `args`, in the workspace `ws`, against `endpoint`.
fn adopt(ws: &tempfile::TempDir, endpoint: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["adopt", "-e", "test"];
    all.extend_from_slice(args);
    tug(ws.path(), endpoint, &all)
}

/// Fails the test with tug's output unless it exited 0.
#[track_caller]
fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "exit {:?}\n{}\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

/// Logical id → physical id of a stack's resources.
fn physical_ids(rt: &tokio::runtime::Runtime, aws: &Aws, stack: &str) -> BTreeMap<String, String> {
    rt.block_on(tug::deploy::stack::resources(aws, stack))
        .expect("resources")
        .into_iter()
        .filter_map(|r| r.physical_id.map(|p| (r.logical_id, p)))
        .collect()
}

fn template_of(rt: &tokio::runtime::Runtime, aws: &Aws, stack: &str) -> String {
    rt.block_on(aws.cfn.get_template().stack_name(stack).send())
        .expect("template")
        .template_body()
        .unwrap_or_default()
        .to_string()
}

/// A stack's template, which tug deploys as JSON.
fn template_json(rt: &tokio::runtime::Runtime, aws: &Aws, stack: &str) -> serde_json::Value {
    serde_json::from_str(&template_of(rt, aws, stack)).expect("JSON template")
}

/// Changes the web service's image in the workspace `ws` (nginx 1.27 to 1.28).
fn new_image(ws: &tempfile::TempDir) {
    let manifest = ws.path().join("copilot/web/manifest.yml");
    let m = std::fs::read_to_string(&manifest).unwrap();
    assert!(m.contains("nginx:1.27"), "{m}");
    std::fs::write(&manifest, m.replace("nginx:1.27", "nginx:1.28")).unwrap();
}

/// `tug svc deploy -e test -n web --yes`, which must succeed.
fn deploy_web(ws: &tempfile::TempDir, endpoint: &str) {
    assert_success(&tug(
        ws.path(),
        endpoint,
        &["svc", "deploy", "-e", "test", "-n", "web", "--yes"],
    ));
}

fn tags_of(rt: &tokio::runtime::Runtime, aws: &Aws, stack: &str) -> BTreeMap<String, String> {
    rt.block_on(tug::deploy::stack::describe(aws, stack))
        .expect("reads")
        .expect("exists")
        .tags
        .into_iter()
        .collect()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `--plan` shows each stack's resources and changes nothing, as text and as JSON
/// (`--output json`). Fidelity: moto only.
#[test]
fn the_plan_shows_every_resource_and_changes_nothing() {
    let (moto, rt, aws) = moto(1);
    let app = "demo";
    copilot_app(&rt, &aws, app);
    let ws = demo_copy(app);
    let before = (
        template_of(&rt, &aws, "demo-test"),
        template_of(&rt, &aws, "demo-test-web"),
    );
    let out = adopt(&ws, &moto.url(), &["--plan"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    for expected in [
        "Copilot application demo (/copilot/applications/demo)",
        "workloads: web (Load Balanced Web Service)",
        "left alone: StackSet demo-infrastructure",
        "api: in the workspace, never deployed by Copilot here",
        "demo-test (environment): Copilot's; to adopt",
        "demo-test-web (workload web): Copilot's; to adopt",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    let line = |id: &str| {
        text.lines()
            .find(|l| l.contains(&format!(" {id} (")))
            .unwrap_or_else(|| panic!("no line for {id} in:\n{text}"))
            .to_string()
    };
    // Copilot's VPC, with tug's tags: updated in place, never replaced.
    assert!(
        line("VPC").trim_start().starts_with("updated in place"),
        "{}",
        line("VPC")
    );
    assert!(std::env::var("SHOW_PLAN").is_err(), "{text}");
    assert!(
        line("PublicHTTPLoadBalancerSecurityGroup")
            .contains("tug's PublicLoadBalancerSecurityGroup, under Copilot's logical id")
    );
    assert!(line("DefaultHTTPTargetGroup").contains("kept (carried over)"));
    assert!(line("CloudformationExecutionRole").contains("kept (carried over)"));
    assert!(line("LogGroup").contains("keeps Copilot's LogGroupName"));
    assert!(line("EnvControllerAction").contains("custom resource dropped"));
    assert!(line("RulePriorityFunction").contains("Lambda dropped"));
    assert!(!text.contains("STOP"), "{text}");
    assert!(!text.contains("REPLACED"), "{text}");
    // Nothing changed.
    assert_eq!(
        before,
        (
            template_of(&rt, &aws, "demo-test"),
            template_of(&rt, &aws, "demo-test-web"),
        )
    );
    assert!(!tags_of(&rt, &aws, "demo-test").contains_key("tug:app"));

    // The same plan for scripts: one JSON object.
    let out = tug(
        ws.path(),
        &moto.url(),
        &["--output", "json", "adopt", "-e", "test", "--plan"],
    );
    assert_success(&out);
    let evs = support::events(&out);
    assert_eq!(evs.len(), 1, "{evs:?}");
    let plan = &evs[0];
    assert_eq!(plan["event"], "plan");
    assert_eq!(plan["stops"], false);
    assert_eq!(plan["copilot"]["app"], "demo");
    let environment = &plan["environments"][0];
    assert_eq!(environment["environment"], "test");
    assert!(
        environment["not_deployed"]
            .as_array()
            .expect("not_deployed")
            .contains(&serde_json::json!("api")),
        "{environment}"
    );
    let stack = |name: &str| {
        environment["stacks"]
            .as_array()
            .expect("stacks")
            .iter()
            .find(|s| s["stack"] == name)
            .unwrap_or_else(|| panic!("no {name} in {environment}"))
            .clone()
    };
    let env = stack("demo-test");
    assert_eq!(env["state"], "copilot");
    assert_eq!(env["workload"], serde_json::Value::Null);
    assert_eq!(
        env["pinned"],
        serde_json::json!(["CreateALB", "CreateInternalALB"])
    );
    let web = stack("demo-test-web");
    assert_eq!(web["workload"], "web");
    let resource = |id: &str| {
        web["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .find(|r| r["logical_id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {web}"))
            .clone()
    };
    assert_eq!(resource("EnvControllerAction")["fate"], "custom_resource");
    assert!(
        resource("LogGroup")["note"]
            .as_str()
            .unwrap_or_default()
            .contains("keeps Copilot's LogGroupName"),
        "{web}"
    );
    assert!(
        resource("HTTPListenerRule")["note"]
            .as_str()
            .unwrap_or_default()
            .contains("keeps its priority 50000"),
        "{web}"
    );
    assert_eq!(web["stops"], serde_json::json!([]));
}

/// Adoption keeps every stateful resource (same physical ids), records itself on the stacks,
/// keeps Copilot's tags, retains the custom resources' Lambdas and lists them; a deploy
/// afterwards updates the same ECS service; running adopt again does nothing.
#[test]
fn adoption_keeps_every_stateful_resource_and_later_deploys_update_it() {
    let (moto, rt, aws) = moto(1);
    let app = "demo";
    copilot_app(&rt, &aws, app);
    let ws = demo_copy(app);
    let env_before = physical_ids(&rt, &aws, "demo-test");
    let web_before = physical_ids(&rt, &aws, "demo-test-web");

    let out = adopt(&ws, &moto.url(), &["--yes"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains("demo-test  adopted"), "{text}");
    assert!(text.contains("demo-test-web  adopted"), "{text}");
    assert!(
        text.contains("Do not use Copilot on them any more"),
        "{text}"
    );
    let function = &web_before["EnvControllerFunction"];
    assert!(
        text.contains(&format!(
            "Lambda function {function}: aws lambda delete-function --function-name {function}"
        )),
        "{text}"
    );

    let env_after = physical_ids(&rt, &aws, "demo-test");
    let web_after = physical_ids(&rt, &aws, "demo-test-web");
    for id in [
        "VPC",
        "PublicSubnet1",
        "PublicSubnet2",
        "PrivateSubnet1",
        "PrivateSubnet2",
        "PublicRouteTable",
        "InternetGateway",
        "EnvironmentSecurityGroup",
        "PublicHTTPLoadBalancerSecurityGroup",
        "PublicLoadBalancer",
        "HTTPListener",
        "DefaultHTTPTargetGroup",
        "Cluster",
        "CloudformationExecutionRole",
    ] {
        assert_eq!(env_before.get(id), env_after.get(id), "{id} changed");
        assert!(env_after.contains_key(id), "{id} is gone");
    }
    for id in ["Service", "TargetGroup", "LogGroup"] {
        assert_eq!(web_before.get(id), web_after.get(id), "{id} changed");
        assert!(web_after.contains_key(id), "{id} is gone");
    }
    assert_eq!(web_after["LogGroup"], "/copilot/demo-test-web");
    // Custom resources and Lambdas are out of the stacks.
    for id in [
        "EnvControllerFunction",
        "RulePriorityFunction",
        "EnvControllerRole",
    ] {
        assert!(!web_after.contains_key(id), "{id} is still in the stack");
    }
    for stack in ["demo-test", "demo-test-web"] {
        let tags = tags_of(&rt, &aws, stack);
        assert_eq!(tags.get("tug:app").map(String::as_str), Some("demo"));
        assert_eq!(
            tags.get("tug:adopted-from").map(String::as_str),
            Some("copilot")
        );
        assert_eq!(
            tags.get("copilot-application").map(String::as_str),
            Some("demo")
        );
    }

    // Running it again: everything is adopted already.
    let again = adopt(&ws, &moto.url(), &["--yes"]);
    let text = stdout(&again);
    assert!(again.status.success(), "{text}\n{}", stderr(&again));
    assert!(text.contains("adopted already; skipped"), "{text}");
    assert!(
        stderr(&again).contains("nothing to do"),
        "{}",
        stderr(&again)
    );

    // A later deploy with a new image updates the same service and keeps what adoption kept.
    new_image(&ws);
    deploy_web(&ws, &moto.url());
    let web_later = physical_ids(&rt, &aws, "demo-test-web");
    assert_eq!(web_later["Service"], web_before["Service"]);
    assert_eq!(web_later["LogGroup"], "/copilot/demo-test-web");
    assert_ne!(web_later["TaskDefinition"], web_after["TaskDefinition"]);
    let info = rt
        .block_on(tug::deploy::stack::describe(&aws, "demo-test-web"))
        .unwrap()
        .unwrap();
    assert!(
        info.parameters
            .iter()
            .any(|(k, v)| k == "ContainerImage" && v.ends_with("nginx:1.28")),
        "{:?}",
        info.parameters
    );
    assert_eq!(
        tags_of(&rt, &aws, "demo-test-web")
            .get("tug:adopted-from")
            .map(String::as_str),
        Some("copilot")
    );
    // The environment deploys too, and keeps Copilot's load balancer and exports.
    let out = tug(
        ws.path(),
        &moto.url(),
        &["env", "deploy", "-n", "test", "--yes"],
    );
    assert_success(&out);
    let env_later = physical_ids(&rt, &aws, "demo-test");
    assert_eq!(
        env_later["PublicLoadBalancer"],
        env_before["PublicLoadBalancer"]
    );
    assert_eq!(
        env_later["DefaultHTTPTargetGroup"],
        env_before["DefaultHTTPTargetGroup"]
    );
}

/// A stack whose adoption would replace a stateful resource stops, naming the resource and
/// why, and nothing is changed. (The Copilot stack here holds, under tug's logical id
/// `LogGroup`, another type of resource, as a stack edited by hand might: CloudFormation
/// replaces a resource whose type changes.)
#[test]
fn a_plan_that_replaces_a_stateful_resource_stops() {
    let (moto, rt, aws) = moto(1);
    let app = "demo";
    copilot_records(&rt, &aws, app, &[("web", "Load Balanced Web Service")]);
    copilot_env(&rt, &aws, app);
    let web = fixture("demo-test-web.yml").replace(
        "  LogGroup:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: !Join ['', [/copilot/, !Ref AppName, '-', !Ref EnvName, '-', !Ref WorkloadName]]\n      RetentionInDays: !Ref LogRetention\n",
        "  LogGroup:\n    Type: AWS::SQS::Queue\n",
    );
    assert!(web.contains("Type: AWS::SQS::Queue"));
    let web = web.replace(
        "awslogs-group: !Ref LogGroup",
        "awslogs-group: /copilot/demo-test-web",
    );
    copilot_workload(&rt, &aws, app, "web", &web, &web_parameters(app));
    let ws = demo_copy(app);
    let plan = adopt(&ws, &moto.url(), &["--plan"]);
    let text = stdout(&plan);
    assert_eq!(plan.status.code(), Some(1), "{text}\n{}", stderr(&plan));
    assert!(
        text.contains("STOP  replace     LogGroup (AWS::Logs::LogGroup): Copilot deployed it as AWS::SQS::Queue"),
        "{text}"
    );
    let web_before = template_of(&rt, &aws, "demo-test-web");
    let out = adopt(&ws, &moto.url(), &["--yes"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("adoption of demo-test-web stopped"), "{err}");
    assert_eq!(template_of(&rt, &aws, "demo-test-web"), web_before);
    // The environment went ahead; the workload is still Copilot's.
    assert!(tags_of(&rt, &aws, "demo-test").contains_key("tug:app"));
    assert!(!tags_of(&rt, &aws, "demo-test-web").contains_key("tug:app"));
}

/// After an interruption that left a stack with its custom resources retained (phase 1) but
/// Copilot's template in place, `tug adopt` sees it half adopted and finishes it.
#[test]
fn a_half_adopted_stack_is_finished_on_the_next_run() {
    let (moto, rt, aws) = moto(1);
    let app = "demo";
    copilot_records(&rt, &aws, app, &[("web", "Load Balanced Web Service")]);
    copilot_env(&rt, &aws, app);
    // What phase 1 leaves: Copilot's template with its custom resources, Lambda functions and
    // their roles retained.
    let mut web = fixture("demo-test-web.yml");
    for id in [
        "DynamicDesiredCountAction",
        "DynamicDesiredCountFunction",
        "DynamicDesiredCountFunctionRole",
        "EnvControllerAction",
        "EnvControllerFunction",
        "EnvControllerRole",
        "HTTPRulePriorityAction",
        "RulePriorityFunction",
        "RulePriorityFunctionRole",
    ] {
        let from = format!("\n  {id}:\n");
        assert!(web.contains(&from), "{id}");
        web = web.replace(
            &from,
            &format!("\n  {id}:\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n"),
        );
    }
    copilot_workload(&rt, &aws, app, "web", &web, &web_parameters(app));
    let service = physical_ids(&rt, &aws, "demo-test-web")["Service"].clone();
    let ws = demo_copy(app);
    let plan = adopt(&ws, &moto.url(), &["--plan"]);
    let text = stdout(&plan);
    assert_success(&plan);
    assert!(
        text.contains("demo-test-web (workload web): half adopted (custom resources retained); continues with the switch"),
        "{text}"
    );
    let out = adopt(&ws, &moto.url(), &["--yes"]);
    assert_success(&out);
    assert_eq!(physical_ids(&rt, &aws, "demo-test-web")["Service"], service);
    assert!(tags_of(&rt, &aws, "demo-test-web").contains_key("tug:app"));
}

/// The parameters Copilot passes to a Backend or Worker Service's stack.
fn service_parameters(app: &str, name: &str, port: Option<&str>) -> Vec<(&'static str, String)> {
    let mut p = vec![
        ("AppName", app.to_string()),
        ("EnvName", "test".into()),
        ("WorkloadName", name.into()),
        (
            "ContainerImage",
            "public.ecr.aws/docker/library/python:3.12-slim".into(),
        ),
        ("TaskCPU", "256".into()),
        ("TaskMemory", "512".into()),
        ("TaskCount", "1".into()),
        ("LogRetention", "30".into()),
    ];
    if let Some(port) = port {
        p.push(("ContainerPort", port.into()));
        p.push(("TargetContainer", name.into()));
        p.push(("TargetPort", port.into()));
    }
    p
}

/// A Backend Service (with an SNS topic, under Copilot's logical id `ordersSNSTopic`) and a
/// Worker Service (events and dead-letter queues) are adopted with their services, topic and
/// queues unchanged, and with the desired count each runs with. Fidelity: moto only.
#[test]
fn backend_and_worker_services_keep_their_topic_and_queues() {
    let (moto, rt, aws) = moto(2);
    let app = "demo";
    copilot_app(&rt, &aws, app);
    copilot_records(
        &rt,
        &aws,
        app,
        &[("api", "Backend Service"), ("worker", "Worker Service")],
    );
    for (name, port) in [("api", Some("8080")), ("worker", None)] {
        copilot_workload(
            &rt,
            &aws,
            app,
            name,
            &fixture(&format!("demo-test-{name}.yml")),
            &service_parameters(app, name, port),
        );
    }
    // Someone scaled api to two tasks by hand; its manifest says `count: 1`. Adoption must
    // not scale it back (the next `tug deploy` follows the manifest).
    scale(&rt, &aws, "demo-test-api", 2);
    let api_before = physical_ids(&rt, &aws, "demo-test-api");
    let worker_before = physical_ids(&rt, &aws, "demo-test-worker");
    let ws = demo_copy(app);
    let plan = adopt(&ws, &moto.url(), &["--plan"]);
    let text = stdout(&plan);
    assert_success(&plan);
    assert!(
        text.contains(
            "ordersSNSTopic (AWS::SNS::Topic): tug's OrdersTopic, under Copilot's logical id"
        ),
        "{text}"
    );
    let out = adopt(&ws, &moto.url(), &["--yes"]);
    assert_success(&out);
    let api_after = physical_ids(&rt, &aws, "demo-test-api");
    let worker_after = physical_ids(&rt, &aws, "demo-test-worker");
    for id in ["Service", "LogGroup", "ordersSNSTopic"] {
        assert_eq!(api_before.get(id), api_after.get(id), "api {id}");
        assert!(api_after.contains_key(id), "api {id} is gone");
    }
    for id in ["Service", "LogGroup", "EventsQueue", "DeadLetterQueue"] {
        assert_eq!(worker_before.get(id), worker_after.get(id), "worker {id}");
        assert!(worker_after.contains_key(id), "worker {id} is gone");
    }
    assert_eq!(desired_count(&rt, &aws, "demo-test-api"), 2);
    assert_eq!(desired_count(&rt, &aws, "demo-test-worker"), 1);
    for stack in ["demo-test-api", "demo-test-worker"] {
        assert_eq!(
            tags_of(&rt, &aws, stack).get("tug:app").map(String::as_str),
            Some("demo")
        );
    }
}

/// A Scheduled Job is adopted with its log group and state machine. (Its EventBridge rule is
/// updated in place on AWS; moto deletes and recreates a rule on every update, so its physical
/// id is not compared here.)
#[test]
fn a_scheduled_job_keeps_its_log_group_and_state_machine() {
    let (moto, rt, aws) = moto(1);
    let app = "demo";
    copilot_app(&rt, &aws, app);
    copilot_records(&rt, &aws, app, &[("report", "Scheduled Job")]);
    let mut params = service_parameters(app, "report", None);
    params.push(("Schedule", "cron(0 0 * * ? *)".into()));
    params.retain(|(k, _)| *k != "ContainerImage");
    params.push((
        "ContainerImage",
        "public.ecr.aws/docker/library/busybox:1.36".into(),
    ));
    copilot_workload(
        &rt,
        &aws,
        app,
        "report",
        &fixture("demo-test-report.yml"),
        &params,
    );
    let before = physical_ids(&rt, &aws, "demo-test-report");
    let ws = demo_copy(app);
    let out = adopt(&ws, &moto.url(), &["--yes"]);
    assert_success(&out);
    assert!(
        stdout(&out).contains("demo-test-report  adopted"),
        "{}",
        stdout(&out)
    );
    let after = physical_ids(&rt, &aws, "demo-test-report");
    for id in ["LogGroup", "StateMachine"] {
        assert_eq!(before.get(id), after.get(id), "{id}");
        assert!(after.contains_key(id), "{id} is gone");
    }
    assert_eq!(after["LogGroup"], "/copilot/demo-test-report");
}

/// The priority listener rule `id` of `stack` holds, read from ELBv2 (not from a template).
fn rule_priority(rt: &tokio::runtime::Runtime, aws: &Aws, stack: &str, id: &str) -> String {
    let arn = physical_ids(rt, aws, stack)[id].clone();
    let rules = rt
        .block_on(aws.elb.describe_rules().rule_arns(arn).send())
        .expect("describes the rule");
    rules.rules()[0].priority().expect("a priority").to_string()
}

/// The ECS service of `stack`: (cluster, service).
/// (cluster, service) of the ECS service of `stack`, whatever the format of its ARN (an
/// old-format ARN names no cluster: the environment's is the one).
fn service_of(rt: &tokio::runtime::Runtime, aws: &Aws, stack: &str) -> (String, String) {
    let arn = physical_ids(rt, aws, stack)["Service"].clone();
    tug::deploy::watch::split_service_arn(&arn).unwrap_or_else(|| {
        let cluster = physical_ids(rt, aws, "demo-test")["Cluster"].clone();
        (cluster, arn.rsplit('/').next().expect("a name").to_string())
    })
}

fn desired_count(rt: &tokio::runtime::Runtime, aws: &Aws, stack: &str) -> i32 {
    let (cluster, service) = service_of(rt, aws, stack);
    let out = rt
        .block_on(
            aws.ecs
                .describe_services()
                .cluster(cluster)
                .services(service)
                .send(),
        )
        .expect("describes the service");
    out.services()[0].desired_count()
}

/// Scales the service of `stack` outside CloudFormation, as autoscaling (or someone in the
/// console) does.
fn scale(rt: &tokio::runtime::Runtime, aws: &Aws, stack: &str, count: i32) {
    let (cluster, service) = service_of(rt, aws, stack);
    rt.block_on(
        aws.ecs
            .update_service()
            .cluster(cluster)
            .service(service)
            .desired_count(count)
            .send(),
    )
    .expect("scales the service");
    assert_eq!(desired_count(rt, aws, stack), count);
}

/// The listener rule priority Copilot's custom resource chose stays, in the adoption and on
/// every later deploy, so tug's own choice never takes the number of a rule that a Copilot
/// service not adopted holds on the same listener; the service keeps the desired count it
/// runs with. Fidelity: moto, with moto fix 17 (a rule's `Priority` is updated in place, and
/// an update to a number another rule holds fails with PriorityInUse, as CloudFormation does);
/// the priorities Copilot's Lambda chose are stood in by literals (fixtures README), and are
/// read back from ELBv2, not from templates.
#[test]
fn listener_rule_priorities_and_desired_counts_are_kept() {
    let (moto, rt, aws) = moto(4);
    let app = "demo";
    copilot_app(&rt, &aws, app);
    let ws = demo_copy(app);
    // The worst case: a Copilot service the workspace has no manifest for holds the number
    // tug itself would give web's rule.
    let render = support::tug_offline(ws.path(), &["render", "-e", "test", "-n", "web"]);
    assert_success(&render);
    let rendered: serde_json::Value =
        serde_yaml::from_slice(&render.stdout).expect("a rendered template");
    let tugs_choice = rendered["Resources"]["HTTPListenerRule"]["Properties"]["Priority"]
        .as_u64()
        .expect("tug renders a priority");
    assert_ne!(tugs_choice, 50000);
    copilot_records(&rt, &aws, app, &[("legacy", "Load Balanced Web Service")]);
    let legacy = fixture("demo-test-legacy.yml")
        .replace("Priority: 49999", &format!("Priority: {tugs_choice}"));
    copilot_workload(
        &rt,
        &aws,
        app,
        "legacy",
        &legacy,
        &[
            ("AppName", app.into()),
            ("EnvName", "test".into()),
            ("WorkloadName", "legacy".into()),
        ],
    );
    let legacy_rule = physical_ids(&rt, &aws, "demo-test-legacy")["HTTPListenerRule"].clone();
    // Autoscaling runs web with three tasks (Copilot's DynamicDesiredCountAction would give 3).
    scale(&rt, &aws, "demo-test-web", 3);

    let plan = adopt(&ws, &moto.url(), &["--plan"]);
    assert_success(&plan);
    let text = stdout(&plan);
    for expected in [
        "HTTPListenerRule (AWS::ElasticLoadBalancingV2::ListenerRule): keeps its priority 50000",
        "keeps its desired count 3",
        "demo-test-legacy: deployed by Copilot, no manifest in this workspace; left alone",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in:\n{text}");
    }
    let out = adopt(&ws, &moto.url(), &["--yes"]);
    assert_success(&out);
    let kept = |what: &str| {
        assert_eq!(
            rule_priority(&rt, &aws, "demo-test-web", "HTTPListenerRule"),
            "50000",
            "{what}"
        );
        assert_eq!(
            rule_priority(&rt, &aws, "demo-test-legacy", "HTTPListenerRule"),
            tugs_choice.to_string(),
            "{what}"
        );
        assert_eq!(
            physical_ids(&rt, &aws, "demo-test-legacy")["HTTPListenerRule"],
            legacy_rule,
            "{what}"
        );
        assert_eq!(desired_count(&rt, &aws, "demo-test-web"), 3, "{what}");
    };
    kept("after adoption");

    // A later deploy (a new image) keeps the priority adoption recorded; autoscaling keeps
    // the count (tug renders none for an autoscaled service).
    new_image(&ws);
    deploy_web(&ws, &moto.url());
    kept("after a later deploy");
}

/// Every stack has finished changing (no update in progress, none rolled back).
#[track_caller]
fn assert_settled(rt: &tokio::runtime::Runtime, aws: &Aws, stacks: &[&str]) {
    for stack in stacks {
        let info = rt
            .block_on(tug::deploy::stack::describe(aws, stack))
            .expect("reads")
            .expect("exists");
        assert!(
            ["CREATE_COMPLETE", "UPDATE_COMPLETE"].contains(&info.status.as_str()),
            "{stack}: {} {:?}",
            info.status,
            info.reason
        );
    }
}

/// Starts `tug adopt -e test --yes` (with `global` options first) through `proxy`, waits
/// until `count` has reached `calls` CreateChangeSet requests (the proxy holds each such
/// request back 1.5 s from then on), then sends Ctrl-C.
fn adopt_interrupted(
    ws: &tempfile::TempDir,
    proxy: &support::FaultProxy,
    global: &[&str],
    count: &AtomicUsize,
    calls: usize,
) -> std::process::Output {
    let mut args: Vec<&str> = global.to_vec();
    args.extend(["adopt", "-e", "test", "--yes"]);
    let child = support::tug_command(ws.path(), &proxy.url())
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("tug starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    while count.load(Ordering::SeqCst) < calls {
        assert!(Instant::now() < deadline, "change set {calls} never came");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The signal lands while the held-back change set is being created.
    std::thread::sleep(Duration::from_millis(300));
    support::interrupt(&child);
    child.wait_with_output().expect("tug ends")
}

static CHANGE_SETS_BETWEEN_STACKS: AtomicUsize = AtomicUsize::new(0);

/// The environment takes two change sets (phase 1, phase 2); the third is the first
/// workload's phase 1, held back so that Ctrl-C lands while it is being created.
fn hold_back_the_third_change_set(_n: usize, action: &str) -> Fault {
    if action == "CreateChangeSet" && CHANGE_SETS_BETWEEN_STACKS.fetch_add(1, Ordering::SeqCst) >= 2
    {
        return Fault::Slow;
    }
    Fault::Pass
}

/// Ctrl-C after the environment was adopted, while the first of two workloads is being
/// started: the environment stays adopted, the interrupted workload unchanged (its change set
/// discarded, never executed), the other not started; exit 130 and each stack's result says
/// where it stopped; every stack is settled, and `tug adopt` again finishes the rest.
/// Fidelity: moto, with the loopback FaultProxy holding CreateChangeSet back (a real signal
/// to the real binary).
#[test]
fn ctrl_c_between_stacks_leaves_each_consistent_and_a_rerun_finishes() {
    let (moto, rt, aws) = moto(1);
    let app = "demo";
    copilot_app(&rt, &aws, app);
    copilot_records(&rt, &aws, app, &[("api", "Backend Service")]);
    copilot_workload(
        &rt,
        &aws,
        app,
        "api",
        &fixture("demo-test-api.yml"),
        &service_parameters(app, "api", Some("8080")),
    );
    let workloads = ["demo-test-api", "demo-test-web"];
    let before: Vec<String> = workloads
        .iter()
        .map(|s| template_of(&rt, &aws, s))
        .collect();
    let ws = demo_copy(app);
    let proxy = support::FaultProxy::start(moto.port, hold_back_the_third_change_set);
    let out = adopt_interrupted(
        &ws,
        &proxy,
        &["--output", "json"],
        &CHANGE_SETS_BETWEEN_STACKS,
        3,
    );
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let evs = support::events(&out);
    let result = evs
        .iter()
        .find(|e| e["event"] == "result")
        .expect("a result");
    let stacks = result["stacks"].as_array().expect("stacks");
    let row = |i: usize| {
        (
            stacks[i]["stack"].as_str().unwrap_or_default().to_string(),
            stacks[i]["outcome"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            stacks[i]["detail"].as_str().unwrap_or_default().to_string(),
        )
    };
    assert_eq!(stacks.len(), 3, "{result}");
    assert_eq!(
        (row(0).0.as_str(), row(0).1.as_str()),
        ("demo-test", "adopted")
    );
    let (first, outcome, detail) = row(1);
    assert_eq!(outcome, "interrupted", "{result}");
    assert!(
        detail.contains(&format!(
            "interrupted before phase 1: {first} is still Copilot's, unchanged"
        )),
        "{result}"
    );
    let (second, outcome, detail) = row(2);
    assert_eq!(outcome, "interrupted", "{result}");
    assert!(
        detail.starts_with(&format!(
            "not started: interrupted before {second} was touched"
        )),
        "{result}"
    );
    // Consistent: settled, the environment adopted, the workloads exactly Copilot's.
    assert_settled(&rt, &aws, &["demo-test", "demo-test-api", "demo-test-web"]);
    assert!(tags_of(&rt, &aws, "demo-test").contains_key("tug:adopted-from"));
    for (stack, template) in workloads.iter().zip(&before) {
        assert_eq!(&template_of(&rt, &aws, stack), template, "{stack} changed");
        assert!(
            !tags_of(&rt, &aws, stack).contains_key("tug:app"),
            "{stack}"
        );
    }

    // Again, to the end: the environment is skipped, both workloads adopted.
    let again = tug(
        ws.path(),
        &moto.url(),
        &["--output", "json", "adopt", "-e", "test", "--yes"],
    );
    assert_success(&again);
    let evs = support::events(&again);
    let result = evs
        .iter()
        .find(|e| e["event"] == "result")
        .expect("a result");
    let outcomes: Vec<(&str, &str)> = result["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .map(|s| {
            (
                s["stack"].as_str().unwrap_or_default(),
                s["outcome"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("demo-test", "already_adopted"),
            ("demo-test-api", "adopted"),
            ("demo-test-web", "adopted"),
        ]
    );
    // The JSON result says it too: Copilot must no longer be used on these stacks.
    let note = result["copilot"].as_str().unwrap_or_default();
    assert!(
        note.contains("Do not use Copilot on them any more")
            && note.contains("demo-test-api")
            && note.contains("demo-test-web"),
        "{result}"
    );
    assert_settled(&rt, &aws, &["demo-test", "demo-test-api", "demo-test-web"]);
}

static CHANGE_SETS_IN_THE_ENVIRONMENT: AtomicUsize = AtomicUsize::new(0);

/// The second change set is the environment's phase 2, held back so that Ctrl-C lands while
/// it is being created.
fn hold_back_the_second_change_set(_n: usize, action: &str) -> Fault {
    if action == "CreateChangeSet"
        && CHANGE_SETS_IN_THE_ENVIRONMENT.fetch_add(1, Ordering::SeqCst) >= 1
    {
        return Fault::Slow;
    }
    Fault::Pass
}

/// Ctrl-C between the environment's two updates leaves it half adopted: Copilot's template
/// with its feature parameters (`ALBWorkloads`...) written into its conditions, so that a
/// Copilot command taking a workload out of the environment (its EnvControllerAction sets
/// `ALBWorkloads` to "") can no longer delete the load balancer; the run says where it
/// stopped, exits 130, and the next run finishes. Fidelity: moto with the FaultProxy; moto
/// does not delete a resource whose condition turns false on update, so what CloudFormation
/// would do with the emptied parameter is read from the stored template through tug's
/// condition evaluator.
#[test]
fn ctrl_c_after_phase_one_leaves_the_environment_features_pinned() {
    use tug::deploy::adopt::template;
    let (moto, rt, aws) = moto(1);
    let app = "demo";
    copilot_app(&rt, &aws, app);
    let web_before = template_of(&rt, &aws, "demo-test-web");
    let ws = demo_copy(app);
    let plan = adopt(&ws, &moto.url(), &["--plan"]);
    assert_success(&plan);
    assert!(
        stdout(&plan).contains("pinned  conditions CreateALB, CreateInternalALB"),
        "{}",
        stdout(&plan)
    );
    let proxy = support::FaultProxy::start(moto.port, hold_back_the_second_change_set);
    let out = adopt_interrupted(&ws, &proxy, &[], &CHANGE_SETS_IN_THE_ENVIRONMENT, 2);
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("demo-test: interrupted before the switch: demo-test is still Copilot's, half adopted (phase 1 done"),
        "{err}"
    );
    assert!(
        err.contains("demo-test-web: not started: the environment stack demo-test was not adopted"),
        "{err}"
    );
    assert!(err.contains("adoption interrupted"), "{err}");
    assert_settled(&rt, &aws, &["demo-test", "demo-test-web"]);
    assert_eq!(template_of(&rt, &aws, "demo-test-web"), web_before);

    let env = template::parse(&template_of(&rt, &aws, "demo-test")).expect("a template");
    assert!(env.pointer("/Parameters/ALBWorkloads").is_some());
    // Phase 1 added a resource, without which CloudFormation would not run an update that
    // only changes conditions and policies.
    assert!(env.pointer("/Resources/TugAdoptionPhaseOne").is_some());
    let emptied: BTreeMap<String, String> = env_parameters(app)
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                if k == "ALBWorkloads" {
                    String::new()
                } else {
                    v
                },
            )
        })
        .collect();
    let known = template::Known {
        parameters: &emptied,
        stack_name: "demo-test",
    };
    assert_eq!(
        template::condition(&env, "CreateALB", &known),
        Some(true),
        "{}",
        env["Conditions"]
    );
    // The load balancer is still there, and the next run finishes.
    let plan = adopt(&ws, &moto.url(), &["--plan"]);
    assert!(
        stdout(&plan).contains("demo-test (environment): half adopted"),
        "{}",
        stdout(&plan)
    );
    let again = adopt(&ws, &moto.url(), &["--yes"]);
    assert_success(&again);
    let text = stdout(&again);
    assert!(text.contains("demo-test  adopted"), "{text}");
    assert!(text.contains("demo-test-web  adopted"), "{text}");
    let env = template::parse(&template_of(&rt, &aws, "demo-test")).expect("a template");
    assert!(env.pointer("/Resources/TugAdoptionPhaseOne").is_none());
}

/// A public hosted zone named `name` in moto; its id without `/hostedzone/`.
fn hosted_zone(rt: &tokio::runtime::Runtime, aws: &Aws, name: &str) -> String {
    let out = rt
        .block_on(
            aws.route53
                .create_hosted_zone()
                .name(name)
                .caller_reference(format!("test-{name}"))
                .send(),
        )
        .expect("creates the hosted zone");
    out.hosted_zone()
        .expect("zone")
        .id()
        .trim_start_matches("/hostedzone/")
        .to_string()
}

/// A Copilot application made with `copilot app init --domain example.com`: the domain's and
/// the application's zones, the application record with `domain` and `domainHostedZoneID`
/// (Copilot's field names, internal/pkg/config/app.go), and the environment stack with its
/// hosted zone `test.<app>.example.com` (demo-test-domain.yml). Returns the two zone ids.
fn copilot_app_with_domain(rt: &tokio::runtime::Runtime, aws: &Aws, app: &str) -> (String, String) {
    copilot_app_with_domain_shaped(rt, aws, app, false)
}

/// [`copilot_app_with_domain`]; with `alias`, the web service has `http.alias:
/// shop.example.com`: the environment has Copilot's HTTPS listener (`CreateHTTPSListener`),
/// `Aliases` names the alias (`CustomDomainAction` exists), and the web stack has Copilot's
/// redirect and HTTPS rules (demo-test-web-https-rules.yml).
fn copilot_app_with_domain_shaped(
    rt: &tokio::runtime::Runtime,
    aws: &Aws,
    app: &str,
    alias: bool,
) -> (String, String) {
    let root = hosted_zone(rt, aws, "example.com");
    let app_zone = hosted_zone(rt, aws, &format!("{app}.example.com"));
    copilot_records(rt, aws, app, &[("web", "Load Balanced Web Service")]);
    rt.block_on(
        aws.ssm
            .put_parameter()
            .name(format!("/copilot/applications/{app}"))
            .value(format!(
                r#"{{"name":"{app}","account":"123456789012","domain":"example.com","domainHostedZoneID":"{root}","version":"v1.0.2"}}"#
            ))
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(true)
            .send(),
    )
    .expect("puts the application record");
    let mut params = env_parameters(app);
    for (k, v) in params.iter_mut() {
        match *k {
            "AppDNSName" => *v = "example.com".into(),
            "AppDNSDelegationRole" => {
                *v = format!("arn:aws:iam::123456789012:role/{app}-DNSDelegationRole")
            }
            "CreateHTTPSListener" if alias => *v = "true".into(),
            "Aliases" if alias => *v = r#"{"web":["shop.example.com"]}"#.into(),
            _ => {}
        }
    }
    copilot_stack(
        rt,
        aws,
        &format!("{app}-test"),
        &fixture("demo-test-domain.yml"),
        &params,
        &[
            ("copilot-application", app),
            ("copilot-environment", "test"),
        ],
    );
    let (web, parameters) = if alias {
        (
            web_with_alias_rules("shop.example.com", ""),
            https_web_parameters(app),
        )
    } else {
        (fixture("demo-test-web.yml"), web_parameters(app))
    };
    let web = web.replace("demo-test-", &format!("{app}-test-"));
    copilot_workload(rt, aws, app, "web", &web, &parameters);
    (root, app_zone)
}

/// Copilot's web stack with `http.alias: <alias>` on an environment with an HTTPS listener:
/// its redirect and HTTPS rules (demo-test-web-https-rules.yml) for `alias` in place of the
/// HTTP rule, and `extra` (more resources) after them.
fn web_with_alias_rules(alias: &str, extra: &str) -> String {
    let mut web = fixture("demo-test-web.yml");
    let start = web
        .find("  # Copilot: Type Custom::RulePriorityFunction.")
        .expect("rules");
    let end = web.find("Outputs:").expect("outputs");
    let rules = fixture("demo-test-web-https-rules.yml").replace("shop.example.com", alias);
    web.replace_range(start..end, &format!("{rules}{extra}"));
    web.replacen(
        "      - HTTPListenerRule\n",
        "      - HTTPListenerRuleWithDomain\n      - HTTPSListenerRule\n",
        1,
    )
}

/// [`web_parameters`] of a web service with HTTPS (`HTTPSEnabled`).
fn https_web_parameters(app: &str) -> Vec<(&'static str, String)> {
    let mut parameters = web_parameters(app);
    for (k, v) in parameters.iter_mut() {
        if *k == "HTTPSEnabled" {
            *v = "true".into();
        }
    }
    parameters
}

/// An application Copilot made with a domain: `--plan` says which domain it would write into
/// `.workspace` and writes nothing; adoption writes it, keeps the environment's hosted zone
/// (same id), retains the DNS custom resources, and a later `svc deploy` works. Fidelity: moto
/// only (the DNS custom resources are stood in, README.md of the fixtures; Route 53 zones are
/// moto's).
#[test]
fn an_application_with_a_domain_keeps_its_environment_zone() {
    let (moto, rt, aws) = moto(1);
    let app = "demo";
    let (root, app_zone) = copilot_app_with_domain(&rt, &aws, app);
    let ws = demo_copy(app);
    let workspace = ws.path().join("copilot/.workspace");
    let zone_before = physical_ids(&rt, &aws, "demo-test")["EnvironmentHostedZone"].clone();

    let out = adopt(&ws, &moto.url(), &["--plan"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains(&format!(
            ".workspace: would get `domain:` (name example.com, hosted_zone {root}, app_hosted_zone {app_zone})"
        )),
        "{text}"
    );
    assert!(!text.contains("STOP"), "{text}");
    // Same name, so the zone is not replaced; the DNS custom resources are retained first.
    assert!(
        text.contains("updated in place         EnvironmentHostedZone (AWS::Route53::HostedZone)"),
        "{text}"
    );
    assert!(
        text.contains("kept                     EnvironmentHostedZoneDelegation (AWS::Route53::RecordSet): made by Copilot's DelegateDNSAction outside the stack"),
        "{text}"
    );
    for id in ["DelegateDNSAction", "HTTPSCert"] {
        assert!(
            text.contains(&format!("custom resource dropped  {id} ")),
            "{id}: {text}"
        );
    }
    assert!(
        !std::fs::read_to_string(&workspace)
            .unwrap()
            .contains("domain:"),
        "--plan wrote the workspace"
    );

    let out = adopt(&ws, &moto.url(), &["--yes"]);
    assert_success(&out);
    let written = std::fs::read_to_string(&workspace).unwrap();
    assert!(
        written.contains(&format!(
            "domain:\n  name: example.com\n  hosted_zone: {root}\n  app_hosted_zone: {app_zone}\n"
        )),
        "{written}"
    );
    let env_after = physical_ids(&rt, &aws, "demo-test");
    assert_eq!(env_after["EnvironmentHostedZone"], zone_before);
    // Copilot's Lambda wrote the NS delegation outside the stack; on AWS, CloudFormation
    // could not create tug's record over it, so adoption leaves tug's out.
    assert!(!env_after.contains_key("EnvironmentHostedZoneDelegation"));
    let adopted: serde_json::Value = template_json(&rt, &aws, "demo-test");
    assert!(adopted["Resources"]["EnvironmentHostedZoneDelegation"].is_null());
    assert_eq!(
        adopted["Metadata"]["tug:adoption"]["left_out"],
        serde_json::json!(["EnvironmentHostedZoneDelegation"])
    );
    assert!(!env_after.contains_key("DelegateDNSAction"));
    assert!(!env_after.contains_key("HTTPSCert"));

    // A workspace without the domain, its stacks adopted already: the domain is written again.
    std::fs::write(&workspace, format!("application: {app}\n")).unwrap();
    let out = adopt(&ws, &moto.url(), &["--yes"]);
    assert_success(&out);
    assert!(stderr(&out).contains("nothing to do"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&workspace).unwrap(), written);

    deploy_web(&ws, &moto.url());
    let out = tug(
        ws.path(),
        &moto.url(),
        &["env", "deploy", "-n", "test", "--yes"],
    );
    assert_success(&out);
    let env_later = physical_ids(&rt, &aws, "demo-test");
    assert_eq!(env_later["EnvironmentHostedZone"], zone_before);
    assert!(!env_later.contains_key("EnvironmentHostedZoneDelegation"));
}

/// A `.workspace` domain other than Copilot's is refused, naming both. Fidelity: moto only.
#[test]
fn a_workspace_domain_other_than_copilots_is_refused() {
    let (moto, rt, aws) = moto(1);
    let app = "demo";
    copilot_app_with_domain(&rt, &aws, app);
    let ws = demo_copy(app);
    let workspace = ws.path().join("copilot/.workspace");
    std::fs::write(
        &workspace,
        format!("application: {app}\ndomain:\n  name: other.org\n  hosted_zone: Z0OTHER\n  app_hosted_zone: Z0OTHERAPP\n"),
    )
    .unwrap();
    let out = adopt(&ws, &moto.url(), &["--plan"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("other.org") && err.contains("example.com"),
        "{err}"
    );
}

/// Writes `lines` into log stream `stream` of `group`, as the awslogs driver would (moto's
/// tasks write nothing), a minute ago.
fn write_logs(rt: &tokio::runtime::Runtime, aws: &Aws, group: &str, stream: &str, lines: &[&str]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    rt.block_on(async {
        aws.logs
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name(stream)
            .send()
            .await
            .expect("creates the stream");
        let mut req = aws
            .logs
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream);
        for (i, line) in lines.iter().enumerate() {
            req = req.log_events(
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(now - 60_000 + i as i64 * 1000)
                    .message(*line)
                    .build()
                    .expect("an event"),
            );
        }
        req.send().await.expect("puts the events");
    });
}

/// Whether stack `name` exists (a deleted stack is gone).
fn exists(rt: &tokio::runtime::Runtime, aws: &Aws, name: &str) -> bool {
    rt.block_on(tug::deploy::stack::describe(aws, name))
        .expect("reads")
        .is_some()
}

/// The task definition revision the ECS service of `stack` runs.
fn running_revision(rt: &tokio::runtime::Runtime, aws: &Aws, stack: &str) -> String {
    let (cluster, service) = service_of(rt, aws, stack);
    let out = rt
        .block_on(
            aws.ecs
                .describe_services()
                .cluster(cluster)
                .services(service)
                .send(),
        )
        .expect("describes the service");
    out.services()[0]
        .task_definition()
        .expect("a task definition")
        .to_string()
}

/// After adoption, tug's day-to-day commands work on the adopted stacks like on its own:
/// `svc status` shows Copilot's service; `svc logs` reads Copilot's log group, with the lines
/// Copilot's tasks wrote (stream prefix `copilot/`) as well as tug's (`tug/`), also when
/// filtered by container; `svc rollback` after a deploy runs the revision adoption rolled
/// out again; `svc delete`, then `env delete`, remove the adopted stacks. Fidelity: moto only
/// (the log lines are written by the test, as the awslogs driver would; moto runs no task).
#[test]
fn status_logs_rollback_and_delete_work_on_adopted_stacks() {
    let (moto, rt, aws) = moto(1);
    let app = "demo";
    copilot_app(&rt, &aws, app);
    let ws = demo_copy(app);
    let service = physical_ids(&rt, &aws, "demo-test-web")["Service"].clone();
    assert_success(&adopt(&ws, &moto.url(), &["--yes"]));
    let run = |args: &[&str]| {
        let out = tug(ws.path(), &moto.url(), args);
        assert_success(&out);
        stdout(&out)
    };

    // status: Copilot's service, now tug's.
    let status = run(&[
        "--output", "json", "svc", "status", "-e", "test", "-n", "web",
    ]);
    let doc: serde_json::Value = serde_json::from_str(status.trim()).expect("one JSON object");
    let (_, name) = tug::deploy::watch::split_service_arn(&service).expect("a service ARN");
    assert_eq!(doc["service"], name.as_str(), "{doc}");
    assert_eq!(doc["deployments"][0]["status"], "PRIMARY", "{doc}");

    // logs: what Copilot's tasks wrote before adoption, and tug's tasks after.
    let group = "/copilot/demo-test-web";
    write_logs(
        &rt,
        &aws,
        group,
        "copilot/web/aaaa1111",
        &["GET / 200 (copilot)"],
    );
    write_logs(&rt, &aws, group, "tug/web/bbbb2222", &["GET / 200 (tug)"]);
    for filter in [&[][..], &["--container", "web"][..]] {
        let mut args = vec!["svc", "logs", "-e", "test", "-n", "web"];
        args.extend_from_slice(filter);
        let logs = run(&args);
        assert!(
            logs.contains("web/aaaa1111 GET / 200 (copilot)")
                && logs.contains("web/bbbb2222 GET / 200 (tug)"),
            "{filter:?}: {logs}"
        );
    }

    // rollback: a deploy with a new image, then back to the revision adoption rolled out.
    let adopted_revision = running_revision(&rt, &aws, "demo-test-web");
    new_image(&ws);
    run(&["svc", "deploy", "-e", "test", "-n", "web", "--yes"]);
    assert_ne!(
        running_revision(&rt, &aws, "demo-test-web"),
        adopted_revision
    );
    let back = tug(
        ws.path(),
        &moto.url(),
        &["svc", "rollback", "-e", "test", "-n", "web", "--yes"],
    );
    assert_success(&back);
    assert_eq!(
        running_revision(&rt, &aws, "demo-test-web"),
        adopted_revision
    );
    assert_eq!(physical_ids(&rt, &aws, "demo-test-web")["Service"], service);

    // delete: the workload, then the environment.
    run(&["svc", "delete", "-e", "test", "-n", "web", "--yes"]);
    assert!(!exists(&rt, &aws, "demo-test-web"));
    run(&["env", "delete", "-n", "test", "--yes"]);
    assert!(!exists(&rt, &aws, "demo-test"));
}

/// A service whose ARN is in ECS's old format (`service/<name>`, no cluster: services created
/// before the account opted in to the long format keep it) keeps the desired count it runs
/// with: tug finds its cluster through the service's `Cluster` property (Copilot's import of
/// the environment's `ClusterId`); after adoption, `svc status` and `svc rollback` find it the
/// same way. Fidelity: moto, whose ECS writes old-format ARNs while the account setting
/// `serviceLongArnFormat` is `disabled`, as ECS did.
#[test]
fn a_service_with_an_old_format_arn_keeps_its_desired_count() {
    use aws_sdk_ecs::types::SettingName;
    // Three tasks run, so the service scaled to three has rolled out.
    let (moto, rt, aws) = moto(3);
    let app = "demo";
    copilot_records(&rt, &aws, app, &[("web", "Load Balanced Web Service")]);
    copilot_env(&rt, &aws, app);
    rt.block_on(
        aws.ecs
            .put_account_setting()
            .name(SettingName::ServiceLongArnFormat)
            .value("disabled")
            .send(),
    )
    .expect("opts out of the long ARN format");
    copilot_workload(
        &rt,
        &aws,
        app,
        "web",
        &fixture("demo-test-web.yml"),
        &web_parameters(app),
    );
    let arn = physical_ids(&rt, &aws, "demo-test-web")["Service"].clone();
    assert!(
        tug::deploy::watch::split_service_arn(&arn).is_none(),
        "not the old format: {arn}"
    );
    let cluster = physical_ids(&rt, &aws, "demo-test")["Cluster"].clone();
    let service = arn.rsplit('/').next().expect("a name").to_string();
    rt.block_on(
        aws.ecs
            .update_service()
            .cluster(&cluster)
            .service(&service)
            .desired_count(3)
            .send(),
    )
    .expect("scales the service");
    let ws = demo_copy(app);
    let plan = adopt(&ws, &moto.url(), &["--plan"]);
    assert_success(&plan);
    assert!(
        stdout(&plan).contains("Service (AWS::ECS::Service)")
            && stdout(&plan).contains("keeps its desired count 3"),
        "{}",
        stdout(&plan)
    );
    assert_success(&adopt(&ws, &moto.url(), &["--yes"]));
    let out = rt
        .block_on(
            aws.ecs
                .describe_services()
                .cluster(&cluster)
                .services(&service)
                .send(),
        )
        .expect("describes the service");
    assert_eq!(out.services()[0].desired_count(), 3);

    // `svc status` and `svc rollback` find it in its cluster.
    let run = |args: &[&str]| {
        let out = tug(ws.path(), &moto.url(), args);
        assert_success(&out);
        stdout(&out)
    };
    let status = run(&[
        "--output", "json", "svc", "status", "-e", "test", "-n", "web",
    ]);
    let doc: serde_json::Value = serde_json::from_str(status.trim()).expect("one JSON object");
    assert_eq!(doc["service"], service.as_str(), "{doc}");
    assert_eq!(doc["cluster"], cluster.as_str(), "{doc}");
    let adopted_revision = running_revision(&rt, &aws, "demo-test-web");
    new_image(&ws);
    deploy_web(&ws, &moto.url());
    assert_ne!(
        running_revision(&rt, &aws, "demo-test-web"),
        adopted_revision
    );
    run(&["svc", "rollback", "-e", "test", "-n", "web", "--yes"]);
    assert_eq!(
        running_revision(&rt, &aws, "demo-test-web"),
        adopted_revision
    );
}

/// A workload tug deploys for the first time into an adopted environment, whose listener
/// still holds the rule of a Copilot service not adopted at the very priority tug would give
/// it: tug reads the listener's rules first and takes the nearest free number, and a later
/// deploy keeps it. Fidelity: moto, with moto fix 19 (a rule cannot take a priority another
/// rule holds: PriorityInUse, as ELBv2 answers); priorities read back from ELBv2.
#[test]
fn a_first_deploy_into_an_adopted_environment_takes_a_free_priority() {
    let (moto, rt, aws) = moto(1);
    let app = "demo";
    let ws = demo_copy(app);
    let render = support::tug_offline(ws.path(), &["render", "-e", "test", "-n", "web"]);
    assert_success(&render);
    let rendered: serde_json::Value =
        serde_yaml::from_slice(&render.stdout).expect("a rendered template");
    let tugs_choice = rendered["Resources"]["HTTPListenerRule"]["Properties"]["Priority"]
        .as_u64()
        .expect("tug renders a priority");
    // Copilot's environment and a Copilot service holding that priority; no Copilot web.
    copilot_records(&rt, &aws, app, &[("legacy", "Load Balanced Web Service")]);
    copilot_env(&rt, &aws, app);
    let legacy = fixture("demo-test-legacy.yml")
        .replace("Priority: 49999", &format!("Priority: {tugs_choice}"));
    copilot_workload(
        &rt,
        &aws,
        app,
        "legacy",
        &legacy,
        &[
            ("AppName", app.into()),
            ("EnvName", "test".into()),
            ("WorkloadName", "legacy".into()),
        ],
    );
    assert_success(&adopt(&ws, &moto.url(), &["--yes"]));

    deploy_web(&ws, &moto.url());
    let chosen = rule_priority(&rt, &aws, "demo-test-web", "HTTPListenerRule");
    assert_eq!(chosen, (tugs_choice + 1).to_string());
    assert_eq!(
        rule_priority(&rt, &aws, "demo-test-legacy", "HTTPListenerRule"),
        tugs_choice.to_string()
    );
    // A later deploy (a new image) keeps it.
    new_image(&ws);
    deploy_web(&ws, &moto.url());
    assert_eq!(
        rule_priority(&rt, &aws, "demo-test-web", "HTTPListenerRule"),
        chosen
    );
}

/// The `A` records of `name` in zone `zone`, as (alias target DNS name) values.
fn a_records(rt: &tokio::runtime::Runtime, aws: &Aws, zone: &str, name: &str) -> Vec<String> {
    let out = rt
        .block_on(
            aws.route53
                .list_resource_record_sets()
                .hosted_zone_id(zone)
                .send(),
        )
        .expect("lists the records");
    out.resource_record_sets()
        .iter()
        .filter(|r| r.name().trim_end_matches('.') == name && r.r#type().as_str() == "A")
        .map(|r| {
            r.alias_target()
                .map(|a| a.dns_name().to_string())
                .unwrap_or_default()
        })
        .collect()
}

/// A web service with `http.alias: shop.example.com`: Copilot's environment `CustomDomainAction`
/// Lambda upserted its `A` alias record in the domain's zone, outside CloudFormation (written
/// here by the test through Route 53, as custom-domain.js does). Adoption leaves tug's
/// `AliasRecordShopExampleCom` out of the stack, says so in the plan and records it, and the
/// record stays, pointing at the same load balancer; a later deploy keeps it out.
///
/// Fidelity: moto, with fix 21 of scripts/moto_server.py: CloudFormation creates a record set
/// with a Route 53 `CREATE`, which Route 53 refuses for a name and type that exist
/// (InvalidChangeBatch "Tried to create resource record set ... but it already exists"); moto
/// added a second record silently. The loopback fault proxy cannot stand in for this: the
/// Route 53 call is CloudFormation's, inside moto, not tug's.
#[test]
fn an_alias_record_copilots_lambda_made_is_left_out_and_kept() {
    use aws_sdk_route53::types::{AliasTarget, ChangeAction, ResourceRecordSet, RrType};
    let (moto, rt, aws) = moto(1);
    let app = "demo";
    let (root, _) = copilot_app_with_domain_shaped(&rt, &aws, app, true);
    let lbs = rt
        .block_on(aws.elb.describe_load_balancers().send())
        .expect("load balancers");
    let lb = lbs
        .load_balancers()
        .first()
        .expect("the public load balancer");
    let (dns, lb_zone) = (
        lb.dns_name().unwrap_or_default().to_string(),
        lb.canonical_hosted_zone_id()
            .unwrap_or_default()
            .to_string(),
    );
    let record = ResourceRecordSet::builder()
        .name("shop.example.com")
        .r#type(RrType::A)
        .alias_target(
            AliasTarget::builder()
                .dns_name(&dns)
                .hosted_zone_id(&lb_zone)
                .evaluate_target_health(true)
                .build()
                .expect("alias target"),
        )
        .build()
        .expect("record");
    change_record(&rt, &aws, &root, ChangeAction::Upsert, record);
    let env_before = physical_ids(&rt, &aws, "demo-test");
    let (certificate, https) = (
        env_before["HTTPSCert"].clone(),
        env_before["HTTPSListener"].clone(),
    );
    assert_eq!(listener_certificate(&rt, &aws, &https), certificate);
    let ws = demo_copy(app);
    let manifest = ws.path().join("copilot/web/manifest.yml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replacen("http:\n", "http:\n  alias: shop.example.com\n", 1),
    )
    .unwrap();

    let out = adopt(&ws, &moto.url(), &["--plan"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains("kept                     AliasRecordShopExampleCom (AWS::Route53::RecordSet): made by Copilot's CustomDomainAction outside the stack"),
        "{text}"
    );

    let out = adopt(&ws, &moto.url(), &["--yes"]);
    assert_success(&out);
    let web: serde_json::Value = template_json(&rt, &aws, "demo-test-web");
    assert!(web["Resources"]["AliasRecordShopExampleCom"].is_null());
    assert_eq!(
        web["Metadata"]["tug:adoption"]["left_out"],
        serde_json::json!(["AliasRecordShopExampleCom"])
    );
    assert_eq!(
        a_records(&rt, &aws, &root, "shop.example.com"),
        vec![dns.clone()]
    );
    // The HTTPS listener and Copilot's certificate are kept (HTTPSCert retained, so its
    // Delete handler never deletes the certificate); tug's own certificate is left out.
    let env_after = physical_ids(&rt, &aws, "demo-test");
    assert_eq!(env_after["HTTPSListener"], https);
    assert_eq!(listener_certificate(&rt, &aws, &https), certificate);
    let env: serde_json::Value = template_json(&rt, &aws, "demo-test");
    assert!(env["Resources"]["EnvironmentCertificate"].is_null());
    assert_eq!(
        env["Metadata"]["tug:adoption"]["certificate"]["arn"],
        serde_json::json!(certificate)
    );
    // Copilot's redirect rule keeps its id (and so its priority) under tug's redirect.
    let rule = &web["Resources"]["HTTPListenerRuleWithDomain"];
    assert_eq!(
        rule["Properties"]["Actions"][0]["Type"], "redirect",
        "{web}"
    );
    assert!(web["Resources"]["HTTPListenerRule"].is_null());

    deploy_web(&ws, &moto.url());
    let web: serde_json::Value = template_json(&rt, &aws, "demo-test-web");
    assert!(web["Resources"]["AliasRecordShopExampleCom"].is_null());
    assert_eq!(a_records(&rt, &aws, &root, "shop.example.com"), vec![dns]);
    let out = tug(
        ws.path(),
        &moto.url(),
        &["env", "deploy", "-n", "test", "--yes"],
    );
    assert_success(&out);
    assert_eq!(listener_certificate(&rt, &aws, &https), certificate);
}

/// Changes record `set` of zone `zone` through Route 53, as Copilot's Lambdas (or a user) did.
fn change_record(
    rt: &tokio::runtime::Runtime,
    aws: &Aws,
    zone: &str,
    action: aws_sdk_route53::types::ChangeAction,
    set: aws_sdk_route53::types::ResourceRecordSet,
) {
    use aws_sdk_route53::types::{Change, ChangeBatch};
    let change = Change::builder()
        .action(action)
        .resource_record_set(set)
        .build()
        .expect("change");
    rt.block_on(
        aws.route53
            .change_resource_record_sets()
            .hosted_zone_id(zone)
            .change_batch(
                ChangeBatch::builder()
                    .changes(change)
                    .build()
                    .expect("batch"),
            )
            .send(),
    )
    .expect("changes the record");
}

/// A record of `name`, type `t`, with the single value `value`.
fn plain_record(name: &str, t: &str, value: &str) -> aws_sdk_route53::types::ResourceRecordSet {
    use aws_sdk_route53::types::{ResourceRecord, ResourceRecordSet, RrType};
    ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::from(t))
        .ttl(300)
        .resource_records(
            ResourceRecord::builder()
                .value(value)
                .build()
                .expect("value"),
        )
        .build()
        .expect("record")
}

/// The types of the records of `name` in zone `zone`; `None` when the zone does not exist.
fn record_types(
    rt: &tokio::runtime::Runtime,
    aws: &Aws,
    zone: &str,
    name: &str,
) -> Option<Vec<String>> {
    let out = rt
        .block_on(
            aws.route53
                .list_resource_record_sets()
                .hosted_zone_id(zone)
                .send(),
        )
        .ok()?;
    Some(
        out.resource_record_sets()
            .iter()
            .filter(|r| r.name().trim_end_matches('.') == name)
            .map(|r| r.r#type().as_str().to_string())
            .collect(),
    )
}

/// Deleting an adopted environment of an application with a domain, whose zones still hold
/// what Copilot's Lambdas wrote outside the stacks (the validation record of Copilot's
/// certificate in the environment's zone, the NS record delegating that zone in the
/// application's zone; written here through Route 53 as the Lambdas did): a record of the
/// user's in the environment's zone stops the delete before anything is deleted, naming it;
/// once the user moved it, the delete removes Copilot's records, the stack with its zone, and
/// then the delegation, so that no NS record is left pointing at a deleted zone.
///
/// Fidelity: moto, with fix 24 of scripts/moto_server.py (CloudFormation deletes the zone with
/// the stack, and Route 53 refuses to delete a zone holding more than its SOA and NS records:
/// HostedZoneNotEmpty; moto kept every zone).
#[test]
fn deleting_an_adopted_environment_removes_copilots_records_and_keeps_the_users() {
    use aws_sdk_route53::types::ChangeAction;
    let (moto, rt, aws) = moto(1);
    let app = "demo";
    let (_, app_zone) = copilot_app_with_domain(&rt, &aws, app);
    let env_zone = physical_ids(&rt, &aws, "demo-test")["EnvironmentHostedZone"].clone();
    let env_name = "test.demo.example.com";
    let servers = rt
        .block_on(aws.route53.get_hosted_zone().id(&env_zone).send())
        .expect("the zone")
        .delegation_set()
        .map(|d| d.name_servers().to_vec())
        .unwrap_or_default();
    let delegation = aws_sdk_route53::types::ResourceRecordSet::builder()
        .name(env_name)
        .r#type(aws_sdk_route53::types::RrType::Ns)
        .ttl(60)
        .set_resource_records(Some(
            servers
                .iter()
                .map(|s| {
                    aws_sdk_route53::types::ResourceRecord::builder()
                        .value(s)
                        .build()
                        .expect("value")
                })
                .collect(),
        ))
        .build()
        .expect("record");
    change_record(&rt, &aws, &app_zone, ChangeAction::Upsert, delegation);
    let validation = format!("_3639ac514e785e898d2646601fa951d5.{env_name}");
    change_record(
        &rt,
        &aws,
        &env_zone,
        ChangeAction::Upsert,
        plain_record(
            &validation,
            "CNAME",
            "_98d2646601fa951d53639ac514e785e8.mhbtsbpdnt.acm-validations.aws.",
        ),
    );
    let users = plain_record(&format!("verify.{env_name}"), "TXT", "\"mine\"");
    change_record(&rt, &aws, &env_zone, ChangeAction::Upsert, users.clone());
    let ws = demo_copy(app);
    assert_success(&adopt(&ws, &moto.url(), &["--yes"]));
    let run = |args: &[&str]| tug(ws.path(), &moto.url(), args);
    assert_success(&run(&["svc", "delete", "-e", "test", "-n", "web", "--yes"]));

    let refused = run(&["env", "delete", "-n", "test", "--yes"]);
    assert!(!refused.status.success(), "{}", stdout(&refused));
    let err = stderr(&refused);
    assert!(
        err.contains(&format!("verify.{env_name} TXT")) && err.contains("nothing was deleted"),
        "{err}"
    );
    assert!(exists(&rt, &aws, "demo-test"));
    assert_eq!(
        record_types(&rt, &aws, &env_zone, &validation),
        Some(vec!["CNAME".to_string()])
    );

    change_record(&rt, &aws, &env_zone, ChangeAction::Delete, users);
    let out = run(&["env", "delete", "-n", "test", "--yes"]);
    assert_success(&out);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        text.contains(&format!("Route 53 record {validation} CNAME"))
            && text.contains(&format!("Route 53 record {env_name} NS")),
        "{text}"
    );
    assert!(!exists(&rt, &aws, "demo-test"));
    assert_eq!(
        record_types(&rt, &aws, &env_zone, env_name),
        None,
        "the zone is gone"
    );
    assert_eq!(
        record_types(&rt, &aws, &app_zone, env_name),
        Some(Vec::new()),
        "the delegation is gone"
    );
}

/// An ACM certificate for `name` made outside Copilot (the test asks CloudFormation, which
/// requests it from ACM: moto fix 22), for an environment to import; its ARN.
fn imported_certificate(rt: &tokio::runtime::Runtime, aws: &Aws, name: &str) -> String {
    let template = format!(
        "Resources:\n  Certificate:\n    Type: AWS::CertificateManager::Certificate\n    Properties:\n      DomainName: {name}\n      ValidationMethod: DNS\n"
    );
    copilot_stack(rt, aws, "imported-certificate", &template, &[], &[]);
    physical_ids(rt, aws, "imported-certificate")["Certificate"].clone()
}

/// Copilot's environment stack of an application without a domain whose environment imports
/// a certificate (`http.public.certificates`, which Copilot requires of aliases with a
/// `hosted_zone`): demo-test-domain.yml with `AppDNSName` empty, `CreateHTTPSListener: true`
/// and the HTTPS listener on the imported certificate, written in as Copilot's template
/// writes it (environment/cf.yml: `CertificateArn: <first imported ARN>`).
fn copilot_env_importing_certificate(
    rt: &tokio::runtime::Runtime,
    aws: &Aws,
    app: &str,
    certificate: &str,
) {
    let mut params = env_parameters(app);
    for (k, v) in params.iter_mut() {
        if *k == "CreateHTTPSListener" {
            *v = "true".into();
        }
    }
    let template = fixture("demo-test-domain.yml").replace(
        "        - CertificateArn: !Ref HTTPSCert\n",
        &format!("        - CertificateArn: {certificate}\n"),
    );
    copilot_stack(
        rt,
        aws,
        &format!("{app}-test"),
        &template,
        &params,
        &[
            ("copilot-application", app),
            ("copilot-environment", "test"),
        ],
    );
}

/// The `A` records of `name` in zone `zone`: (alias target DNS name, alias target zone).
fn alias_targets(
    rt: &tokio::runtime::Runtime,
    aws: &Aws,
    zone: &str,
    name: &str,
) -> Vec<(String, String)> {
    let out = rt
        .block_on(
            aws.route53
                .list_resource_record_sets()
                .hosted_zone_id(zone)
                .send(),
        )
        .expect("lists the records");
    out.resource_record_sets()
        .iter()
        .filter(|r| r.name().trim_end_matches('.') == name && r.r#type().as_str() == "A")
        .filter_map(|r| r.alias_target())
        .map(|a| (a.dns_name().to_string(), a.hosted_zone_id().to_string()))
        .collect()
}

/// A web service with an alias in a hosted zone of its own (`http.alias: [{name:
/// shop.example.org, hosted_zone: <zone>}]`, on an environment importing a certificate):
/// Copilot's stack holds the record in its record set group `LoadBalancerDNSAlias<zone>`.
/// Adoption keeps the group under that id, holding tug's record for the name (recorded in
/// `tug:adoption`), so the record is never created over itself nor deleted: it is the same
/// (name, type, alias target) before and after, and after a later deploy of a new image.
///
/// Fidelity: moto, with fix 21 (Route 53 refuses CloudFormation's `CREATE` of a record that
/// exists, so tug's own `AliasRecordShopExampleOrg` would fail the adoption) and fix 23 (a
/// record set group's update changes the zone's records and its removal deletes them, as
/// CloudFormation does; moto left them untouched, which would hide a wrong or dropped group).
#[test]
fn an_alias_with_a_hosted_zone_keeps_copilots_record_set_group() {
    let (moto, rt, aws) = moto(1);
    let app = "demo";
    let zone = hosted_zone(&rt, &aws, "example.org");
    copilot_records(&rt, &aws, app, &[("web", "Load Balanced Web Service")]);
    let certificate = imported_certificate(&rt, &aws, "shop.example.org");
    copilot_env_importing_certificate(&rt, &aws, app, &certificate);
    let group = format!("LoadBalancerDNSAlias{zone}");
    let web = web_with_alias_rules(
        "shop.example.org",
        &fixture("demo-test-web-alias-group.yml"),
    )
    .replace("HOSTEDZONEID", &zone);
    copilot_workload(&rt, &aws, app, "web", &web, &https_web_parameters(app));
    let before = alias_targets(&rt, &aws, &zone, "shop.example.org");
    assert_eq!(before.len(), 1, "{before:?}");
    let service = physical_ids(&rt, &aws, "demo-test-web")["Service"].clone();

    let ws = demo_copy(app);
    let env_manifest = ws.path().join("copilot/environments/test/manifest.yml");
    let text = std::fs::read_to_string(&env_manifest).unwrap();
    std::fs::write(
        &env_manifest,
        format!("{text}\nhttp:\n  public:\n    certificates:\n      - {certificate}\n"),
    )
    .unwrap();
    let manifest = ws.path().join("copilot/web/manifest.yml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replacen(
            "http:\n",
            &format!("http:\n  alias:\n    - name: shop.example.org\n      hosted_zone: {zone}\n"),
            1,
        ),
    )
    .unwrap();

    let out = adopt(&ws, &moto.url(), &["--plan"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(
        text.contains(&format!("updated in place         {group} (AWS::Route53::RecordSetGroup): Copilot's record set group, now holding tug's AliasRecordShopExampleOrg")),
        "{text}"
    );
    assert!(
        !text.contains("AliasRecordShopExampleOrg (AWS::Route53::RecordSet)"),
        "{text}"
    );

    assert_success(&adopt(&ws, &moto.url(), &["--yes"]));
    let web: serde_json::Value = template_json(&rt, &aws, "demo-test-web");
    assert_eq!(
        web["Resources"][&group]["Type"],
        "AWS::Route53::RecordSetGroup"
    );
    assert!(
        web["Resources"]["AliasRecordShopExampleOrg"].is_null(),
        "{web}"
    );
    assert_eq!(
        web["Metadata"]["tug:adoption"]["groups"][&group]["records"],
        serde_json::json!(["AliasRecordShopExampleOrg"])
    );
    assert_eq!(alias_targets(&rt, &aws, &zone, "shop.example.org"), before);
    let adopted_revision = running_revision(&rt, &aws, "demo-test-web");

    // A later deploy with a new image keeps the group, and the record.
    new_image(&ws);
    deploy_web(&ws, &moto.url());
    let web: serde_json::Value = template_json(&rt, &aws, "demo-test-web");
    assert_eq!(
        web["Resources"][&group]["Type"],
        "AWS::Route53::RecordSetGroup"
    );
    assert!(
        web["Resources"]["AliasRecordShopExampleOrg"].is_null(),
        "{web}"
    );
    assert_eq!(alias_targets(&rt, &aws, &zone, "shop.example.org"), before);
    assert_eq!(physical_ids(&rt, &aws, "demo-test-web")["Service"], service);
    assert_ne!(
        running_revision(&rt, &aws, "demo-test-web"),
        adopted_revision
    );
}

/// The default certificate of listener `arn`.
fn listener_certificate(rt: &tokio::runtime::Runtime, aws: &Aws, arn: &str) -> String {
    let out = rt
        .block_on(aws.elb.describe_listeners().listener_arns(arn).send())
        .expect("the listener");
    let listener = out.listeners().first().expect("listener");
    listener
        .certificates()
        .first()
        .and_then(|c| c.certificate_arn())
        .unwrap_or_default()
        .to_string()
}
