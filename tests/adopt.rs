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

use support::{Moto, aws_client as client, demo_copy, stderr, tug};
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

/// The Copilot application `app` with environment test and the web service.
fn copilot_app(rt: &tokio::runtime::Runtime, aws: &Aws, app: &str) {
    copilot_records(rt, aws, app, &[("web", "Load Balanced Web Service")]);
    let env = fixture("demo-test.yml");
    copilot_stack(
        rt,
        aws,
        &format!("{app}-test"),
        &env,
        &env_parameters(app),
        &[
            ("copilot-application", app),
            ("copilot-environment", "test"),
        ],
    );
    let web = fixture("demo-test-web.yml").replace("demo-test-", &format!("{app}-test-"));
    copilot_stack(
        rt,
        aws,
        &format!("{app}-test-web"),
        &web,
        &web_parameters(app),
        &[
            ("copilot-application", app),
            ("copilot-environment", "test"),
            ("copilot-service", "web"),
        ],
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

/// `--plan` shows each stack's resources and changes nothing.
#[test]
fn the_plan_shows_every_resource_and_changes_nothing() {
    let moto = Moto::start(1);
    let (rt, aws) = client(&moto.url());
    let app = "demo";
    copilot_app(&rt, &aws, app);
    let ws = demo_copy(app);
    let before = (
        template_of(&rt, &aws, "demo-test"),
        template_of(&rt, &aws, "demo-test-web"),
    );
    let out = tug(ws.path(), &moto.url(), &["adopt", "-e", "test", "--plan"]);
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
}

/// Adoption keeps every stateful resource (same physical ids), records itself on the stacks,
/// keeps Copilot's tags, retains the custom resources' Lambdas and lists them; a deploy
/// afterwards updates the same ECS service; running adopt again does nothing.
#[test]
fn adoption_keeps_every_stateful_resource_and_later_deploys_update_it() {
    let moto = Moto::start(1);
    let (rt, aws) = client(&moto.url());
    let app = "demo";
    copilot_app(&rt, &aws, app);
    let ws = demo_copy(app);
    let env_before = physical_ids(&rt, &aws, "demo-test");
    let web_before = physical_ids(&rt, &aws, "demo-test-web");

    let out = tug(ws.path(), &moto.url(), &["adopt", "-e", "test", "--yes"]);
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
    let again = tug(ws.path(), &moto.url(), &["adopt", "-e", "test", "--yes"]);
    let text = stdout(&again);
    assert!(again.status.success(), "{text}\n{}", stderr(&again));
    assert!(text.contains("adopted already; skipped"), "{text}");
    assert!(
        stderr(&again).contains("nothing to do"),
        "{}",
        stderr(&again)
    );

    // A later deploy with a new image updates the same service and keeps what adoption kept.
    let manifest = ws.path().join("copilot/web/manifest.yml");
    let m = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, m.replace("nginx:1.27", "nginx:1.28")).unwrap();
    let out = tug(
        ws.path(),
        &moto.url(),
        &["svc", "deploy", "-e", "test", "-n", "web", "--yes"],
    );
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
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
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
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
    let moto = Moto::start(1);
    let (rt, aws) = client(&moto.url());
    let app = "demo";
    copilot_records(&rt, &aws, app, &[("web", "Load Balanced Web Service")]);
    copilot_stack(
        &rt,
        &aws,
        "demo-test",
        &fixture("demo-test.yml"),
        &env_parameters(app),
        &[
            ("copilot-application", app),
            ("copilot-environment", "test"),
        ],
    );
    let web = fixture("demo-test-web.yml").replace(
        "  LogGroup:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: !Join ['', [/copilot/, !Ref AppName, '-', !Ref EnvName, '-', !Ref WorkloadName]]\n      RetentionInDays: !Ref LogRetention\n",
        "  LogGroup:\n    Type: AWS::SQS::Queue\n",
    );
    assert!(web.contains("Type: AWS::SQS::Queue"));
    let web = web.replace(
        "awslogs-group: !Ref LogGroup",
        "awslogs-group: /copilot/demo-test-web",
    );
    copilot_stack(
        &rt,
        &aws,
        "demo-test-web",
        &web,
        &web_parameters(app),
        &[
            ("copilot-application", app),
            ("copilot-environment", "test"),
            ("copilot-service", "web"),
        ],
    );
    let ws = demo_copy(app);
    let plan = tug(ws.path(), &moto.url(), &["adopt", "-e", "test", "--plan"]);
    let text = stdout(&plan);
    assert_eq!(plan.status.code(), Some(1), "{text}\n{}", stderr(&plan));
    assert!(
        text.contains("STOP  replace     LogGroup (AWS::Logs::LogGroup): Copilot deployed it as AWS::SQS::Queue"),
        "{text}"
    );
    let web_before = template_of(&rt, &aws, "demo-test-web");
    let out = tug(ws.path(), &moto.url(), &["adopt", "-e", "test", "--yes"]);
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
    let moto = Moto::start(1);
    let (rt, aws) = client(&moto.url());
    let app = "demo";
    copilot_records(&rt, &aws, app, &[("web", "Load Balanced Web Service")]);
    copilot_stack(
        &rt,
        &aws,
        "demo-test",
        &fixture("demo-test.yml"),
        &env_parameters(app),
        &[
            ("copilot-application", app),
            ("copilot-environment", "test"),
        ],
    );
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
    copilot_stack(
        &rt,
        &aws,
        "demo-test-web",
        &web,
        &web_parameters(app),
        &[
            ("copilot-application", app),
            ("copilot-environment", "test"),
            ("copilot-service", "web"),
        ],
    );
    let service = physical_ids(&rt, &aws, "demo-test-web")["Service"].clone();
    let ws = demo_copy(app);
    let plan = tug(ws.path(), &moto.url(), &["adopt", "-e", "test", "--plan"]);
    let text = stdout(&plan);
    assert!(plan.status.success(), "{text}\n{}", stderr(&plan));
    assert!(
        text.contains("demo-test-web (workload web): half adopted (custom resources retained); continues with the switch"),
        "{text}"
    );
    let out = tug(ws.path(), &moto.url(), &["adopt", "-e", "test", "--yes"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
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
/// queues unchanged.
#[test]
fn backend_and_worker_services_keep_their_topic_and_queues() {
    let moto = Moto::start(1);
    let (rt, aws) = client(&moto.url());
    let app = "demo";
    copilot_app(&rt, &aws, app);
    copilot_records(
        &rt,
        &aws,
        app,
        &[("api", "Backend Service"), ("worker", "Worker Service")],
    );
    for (name, port) in [("api", Some("8080")), ("worker", None)] {
        copilot_stack(
            &rt,
            &aws,
            &format!("{app}-test-{name}"),
            &fixture(&format!("demo-test-{name}.yml")),
            &service_parameters(app, name, port),
            &[
                ("copilot-application", app),
                ("copilot-environment", "test"),
                ("copilot-service", name),
            ],
        );
    }
    let api_before = physical_ids(&rt, &aws, "demo-test-api");
    let worker_before = physical_ids(&rt, &aws, "demo-test-worker");
    let ws = demo_copy(app);
    let plan = tug(ws.path(), &moto.url(), &["adopt", "-e", "test", "--plan"]);
    let text = stdout(&plan);
    assert!(plan.status.success(), "{text}\n{}", stderr(&plan));
    assert!(
        text.contains(
            "ordersSNSTopic (AWS::SNS::Topic): tug's OrdersTopic, under Copilot's logical id"
        ),
        "{text}"
    );
    let out = tug(ws.path(), &moto.url(), &["adopt", "-e", "test", "--yes"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
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
    let moto = Moto::start(1);
    let (rt, aws) = client(&moto.url());
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
    copilot_stack(
        &rt,
        &aws,
        "demo-test-report",
        &fixture("demo-test-report.yml"),
        &params,
        &[
            ("copilot-application", app),
            ("copilot-environment", "test"),
            ("copilot-service", "report"),
        ],
    );
    let before = physical_ids(&rt, &aws, "demo-test-report");
    let ws = demo_copy(app);
    let out = tug(ws.path(), &moto.url(), &["adopt", "-e", "test", "--yes"]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
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
