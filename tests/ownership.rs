//! The two safety guards, against moto through the real `tug` binary:
//!
//! - a stack tug does not own (AWS Copilot's, or anyone's without `tug:app`) is never changed,
//!   deleted or rolled back, whatever the flags;
//! - a change that replaces or removes a resource holding state runs only with consent.
//!
//! moto's change sets carry no `Replacement` field at all (AWS's do), so what these tests see
//! replaced comes from tug's own reading of CloudFormation's resource schemas (the create-only
//! table generated from cfn-lint's copy of them), which is exactly the path tug takes when
//! AWS answers `Conditional`. The "foreign" stacks are created here through the CloudFormation
//! API with the tags Copilot puts on its stacks (`copilot-application`, `copilot-environment`,
//! `copilot-service`), a public fact of Copilot's stacks.

mod support;

use std::fs;

use support::{Moto, aws_client as client, demo_copy, stderr, tug};
use tug::deploy::aws::Aws;

const FOREIGN_TEMPLATE: &str =
    r#"{"Resources":{"Queue":{"Type":"AWS::SQS::Queue","Properties":{"DelaySeconds":5}}}}"#;

/// Creates a stack the way another tool would, with these tags.
fn foreign_stack(rt: &tokio::runtime::Runtime, aws: &Aws, name: &str, tags: &[(&str, &str)]) {
    use aws_sdk_cloudformation::types::Tag;
    let mut req = aws
        .cfn
        .create_stack()
        .stack_name(name)
        .template_body(FOREIGN_TEMPLATE);
    for (k, v) in tags {
        req = req.tags(Tag::builder().key(*k).value(*v).build());
    }
    rt.block_on(req.send()).expect("creates the foreign stack");
}

/// The template and tags of a stack, to show that nothing changed them.
fn snapshot(
    rt: &tokio::runtime::Runtime,
    aws: &Aws,
    name: &str,
) -> (String, Vec<(String, String)>) {
    let template = rt
        .block_on(aws.cfn.get_template().stack_name(name).send())
        .expect("template")
        .template_body()
        .unwrap_or_default()
        .to_string();
    let info = rt
        .block_on(tug::deploy::stack::describe(aws, name))
        .expect("reads")
        .expect("still exists");
    let mut tags = info.tags;
    tags.sort();
    (template, tags)
}

/// Change sets of `stack` that were created and neither executed nor deleted. (moto lists
/// every stack's change sets, executed ones included, whatever stack is asked for: filtered
/// here.)
fn pending_change_sets(rt: &tokio::runtime::Runtime, aws: &Aws, stack: &str) -> Vec<String> {
    let out = rt
        .block_on(aws.cfn.list_change_sets().stack_name(stack).send())
        .expect("lists");
    out.summaries()
        .iter()
        .filter(|c| {
            c.stack_name() == Some(stack)
                && c.execution_status().map(|s| s.as_str()) != Some("EXECUTE_COMPLETE")
        })
        .filter_map(|c| c.change_set_name().map(str::to_string))
        .collect()
}

fn physical_id(rt: &tokio::runtime::Runtime, aws: &Aws, stack: &str, logical: &str) -> String {
    rt.block_on(tug::deploy::stack::resources(aws, stack))
        .expect("resources")
        .into_iter()
        .find(|r| r.logical_id == logical)
        .and_then(|r| r.physical_id)
        .unwrap_or_else(|| panic!("{stack} has no {logical}"))
}

#[test]
fn copilot_stacks_are_refused_by_every_command_and_left_unchanged() {
    let moto = Moto::start(10);
    let url = moto.url();
    let (rt, aws) = client(&url);
    let ws = demo_copy("cop");
    foreign_stack(
        &rt,
        &aws,
        "cop-test",
        &[
            ("copilot-application", "cop"),
            ("copilot-environment", "test"),
        ],
    );
    foreign_stack(
        &rt,
        &aws,
        "cop-test-web",
        &[
            ("copilot-application", "cop"),
            ("copilot-environment", "test"),
            ("copilot-service", "web"),
        ],
    );
    let before_env = snapshot(&rt, &aws, "cop-test");
    let before_web = snapshot(&rt, &aws, "cop-test-web");

    let deploy = tug(ws.path(), &url, &["--yes", "deploy", "-e", "test"]);
    assert_eq!(deploy.status.code(), Some(1), "{}", stderr(&deploy));
    let err = stderr(&deploy);
    assert!(
        err.contains(
            "refusing to deploy to stack cop-test: it belongs to the AWS Copilot application cop"
        ),
        "{err}"
    );
    assert!(err.contains("tug adopt"), "{err}");
    assert!(err.contains("docs/migrating-from-copilot.md"), "{err}");

    // Not even the flags that consent to other things override it.
    let forced = tug(
        ws.path(),
        &url,
        &[
            "--yes",
            "svc",
            "deploy",
            "-e",
            "test",
            "-n",
            "web",
            "--allow-replacements",
        ],
    );
    assert_eq!(forced.status.code(), Some(1), "{}", stderr(&forced));
    assert!(
        stderr(&forced).contains("stack cop-test"),
        "{}",
        stderr(&forced)
    );

    for (args, doing) in [
        (
            vec!["--yes", "env", "delete", "-n", "test"],
            "refusing to delete stack cop-test",
        ),
        (
            vec!["--yes", "svc", "delete", "-n", "web", "-e", "test"],
            "refusing to delete stack cop-test-web",
        ),
        (
            vec!["--yes", "app", "delete"],
            "refusing to delete stack cop-test",
        ),
        (
            vec!["svc", "rollback", "-e", "test", "-n", "web"],
            "refusing to roll back stack cop-test-web",
        ),
    ] {
        let out = tug(ws.path(), &url, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(doing), "{args:?}: {}", stderr(&out));
    }

    // diff reads a foreign stack and says so, without creating a change set on it.
    let diff = tug(ws.path(), &url, &["diff", "-e", "test"]);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(text.contains("cop-test: foreign"), "{text}");
    assert!(text.contains("cop-test-web: foreign"), "{text}");
    assert!(pending_change_sets(&rt, &aws, "cop-test").is_empty());

    assert_eq!(snapshot(&rt, &aws, "cop-test"), before_env);
    assert_eq!(snapshot(&rt, &aws, "cop-test-web"), before_web);
}

#[test]
fn promote_refuses_an_environment_copilot_owns() {
    let moto = Moto::start(10);
    let url = moto.url();
    let (rt, aws) = client(&url);
    let ws = demo_copy("copp");
    let out = tug(ws.path(), &url, &["deploy", "-e", "test", "-n", "web"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    foreign_stack(
        &rt,
        &aws,
        "copp-prod",
        &[
            ("copilot-application", "copp"),
            ("copilot-environment", "prod"),
        ],
    );
    let before = snapshot(&rt, &aws, "copp-prod");
    let out = tug(
        ws.path(),
        &url,
        &[
            "--yes", "promote", "--from", "test", "--to", "prod", "-n", "web",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stack copp-prod: it belongs to the AWS Copilot application copp"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&rt, &aws, "copp-prod"), before);
    let workload = rt
        .block_on(tug::deploy::stack::describe(&aws, "copp-prod-web"))
        .expect("reads");
    assert!(
        workload.is_none(),
        "no workload stack was created in Copilot's environment"
    );
}

#[test]
fn untagged_stacks_are_refused_and_left_unchanged() {
    let moto = Moto::start(10);
    let url = moto.url();
    let (rt, aws) = client(&url);
    let ws = demo_copy("frn");
    foreign_stack(&rt, &aws, "frn-test", &[("cost-center", "42")]);
    let before = snapshot(&rt, &aws, "frn-test");
    let deploy = tug(ws.path(), &url, &["--yes", "env", "deploy", "-n", "test"]);
    assert_eq!(deploy.status.code(), Some(1), "{}", stderr(&deploy));
    let err = stderr(&deploy);
    assert!(
        err.contains("refusing to deploy to stack frn-test: it was not deployed by tug for application frn (it has no owner tags)"),
        "{err}"
    );
    let delete = tug(ws.path(), &url, &["--yes", "env", "delete", "-n", "test"]);
    assert_eq!(delete.status.code(), Some(1), "{}", stderr(&delete));
    assert!(stderr(&delete).contains("refusing to delete stack frn-test"));
    assert_eq!(snapshot(&rt, &aws, "frn-test"), before);
}

/// A second managed VPC range: the VPC and every subnet are replaced (CidrBlock is create-only
/// in AWS::EC2::VPC and AWS::EC2::Subnet), and what points at the VPC with them.
#[test]
fn a_new_vpc_range_needs_consent() {
    let moto = Moto::start(10);
    let url = moto.url();
    let (rt, aws) = client(&url);
    let ws = demo_copy("cidr");
    let out = tug(ws.path(), &url, &["env", "deploy", "-n", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let vpc = physical_id(&rt, &aws, "cidr-test", "VPC");

    let env = ws.path().join("copilot/environments/test/manifest.yml");
    let text = fs::read_to_string(&env).expect("manifest");
    fs::write(
        &env,
        format!(
            "{text}\nnetwork:\n  vpc:\n    cidr: 10.2.0.0/16\n    subnets:\n      public:\n        - cidr: 10.2.0.0/24\n        - cidr: 10.2.1.0/24\n      private:\n        - cidr: 10.2.2.0/24\n        - cidr: 10.2.3.0/24\n"
        ),
    )
    .expect("write");

    let diff = tug(ws.path(), &url, &["--output", "json", "diff", "-e", "test"]);
    assert_eq!(diff.status.code(), Some(0), "{}", stderr(&diff));
    let doc: serde_json::Value = serde_json::from_slice(&diff.stdout).expect("JSON");
    let env_diff = doc["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .find(|s| s["stack"] == "cidr-test")
        .expect("the environment stack")
        .clone();
    let destructive = env_diff["destructive"].as_array().expect("destructive");
    for id in [
        "VPC",
        "PublicSubnet1",
        "PublicSubnet2",
        "PrivateSubnet1",
        "PrivateSubnet2",
    ] {
        let h = destructive
            .iter()
            .find(|h| h["logical_id"] == id)
            .unwrap_or_else(|| panic!("{id} is not marked destructive: {env_diff}"));
        assert_eq!(h["harm"], "replace", "{h}");
        assert!(h["why"].as_str().unwrap().contains("CidrBlock"), "{h}");
    }
    let text_diff = tug(ws.path(), &url, &["diff", "-e", "test"]);
    let text = String::from_utf8_lossy(&text_diff.stdout);
    assert!(text.contains("DESTRUCTIVE"), "{text}");
    assert!(
        text.contains("replace     VPC (AWS::EC2::VPC): CidrBlock cannot change in place"),
        "{text}"
    );

    // --yes is not consent: nothing is executed.
    let refused = tug(ws.path(), &url, &["--yes", "env", "deploy", "-n", "test"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let err = stderr(&refused);
    assert!(err.contains("DESTRUCTIVE"), "{err}");
    assert!(err.contains("--allow-replacements"), "{err}");
    assert_eq!(physical_id(&rt, &aws, "cidr-test", "VPC"), vpc);
    assert!(
        pending_change_sets(&rt, &aws, "cidr-test").is_empty(),
        "the refused change set is deleted"
    );

    let allowed = tug(
        ws.path(),
        &url,
        &["env", "deploy", "-n", "test", "--allow-replacements"],
    );
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));
    assert!(stderr(&allowed).contains("--allow-replacements was given"));
}

/// A queue turned FIFO is a new queue (FifoQueue is create-only in AWS::SQS::Queue): the
/// messages of the old one are lost.
#[test]
fn a_queue_turned_fifo_needs_consent() {
    let moto = Moto::start(10);
    let url = moto.url();
    let ws = demo_copy("fifo");
    let out = tug(
        ws.path(),
        &url,
        &["deploy", "-e", "test", "-n", "api", "-n", "worker"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A FIFO queue needs a FIFO topic: both become new resources.
    let worker = ws.path().join("copilot/worker/manifest.yml");
    let text = fs::read_to_string(&worker).expect("manifest");
    fs::write(
        &worker,
        text.replace("  queue:\n", "  queue:\n    fifo: true\n"),
    )
    .expect("write");
    let api = ws.path().join("copilot/api/manifest.yml");
    let text = fs::read_to_string(&api).expect("manifest");
    let fifo_topic = text.replace(
        "    - name: orders\n",
        "    - name: orders\n      fifo: true\n",
    );
    assert_ne!(fifo_topic, text);
    fs::write(&api, fifo_topic).expect("write");
    let refused = tug(
        ws.path(),
        &url,
        &["--yes", "deploy", "-e", "test", "-n", "api", "-n", "worker"],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let err = stderr(&refused);
    assert!(
        err.contains("replace     OrdersTopic (AWS::SNS::Topic): FifoTopic"),
        "{err}"
    );
    let allowed = tug(
        ws.path(),
        &url,
        &[
            "deploy",
            "-e",
            "test",
            "-n",
            "api",
            "-n",
            "worker",
            "--allow-replacements",
        ],
    );
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));
}

/// Removing the only load-balanced service removes the environment's load balancer.
#[test]
fn removing_the_load_balancer_needs_consent() {
    let moto = Moto::start(10);
    let url = moto.url();
    let (rt, aws) = client(&url);
    let ws = demo_copy("nolb");
    let out = tug(ws.path(), &url, &["env", "deploy", "-n", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lb = physical_id(&rt, &aws, "nolb-test", "PublicLoadBalancer");
    fs::remove_dir_all(ws.path().join("copilot/web")).expect("remove web");
    let refused = tug(ws.path(), &url, &["--yes", "env", "deploy", "-n", "test"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let err = stderr(&refused);
    assert!(
        err.contains("remove      PublicLoadBalancer (AWS::ElasticLoadBalancingV2::LoadBalancer): removed from the template"),
        "{err}"
    );
    // Removals are listed before replacements.
    let first = err
        .lines()
        .find(|l| l.trim_start().starts_with("remove ") || l.trim_start().starts_with("replace "))
        .expect("a listed change");
    assert!(first.trim_start().starts_with("remove"), "{err}");
    assert_eq!(
        physical_id(&rt, &aws, "nolb-test", "PublicLoadBalancer"),
        lb
    );
    let allowed = tug(
        ws.path(),
        &url,
        &["env", "deploy", "-n", "test", "--allow-replacements"],
    );
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));
}

/// A delete says what is lost with the stacks and what CloudFormation keeps.
#[test]
fn deletes_say_what_is_lost_and_what_is_kept() {
    let moto = Moto::start(10);
    let url = moto.url();
    let ws = demo_copy("loss");
    let out = tug(
        ws.path(),
        &url,
        &["deploy", "-e", "test", "-n", "api", "-n", "worker"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Without a terminal and without --yes: refused, nothing deleted.
    let out = tug(
        ws.path(),
        &url,
        &["svc", "delete", "-n", "worker", "-e", "test"],
    );
    assert_ne!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("Lost with them:"), "{err}");
    assert!(err.contains("SQS queue"), "{err}");
    assert!(err.contains("the messages in it"), "{err}");
    assert!(err.contains("log group"), "{err}");
    let out = tug(
        ws.path(),
        &url,
        &["--yes", "svc", "delete", "-n", "worker", "-e", "test"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// The create-only table is generated from the resource schemas cfn-lint ships (the published
/// CloudFormation registry schemas) for every type the templates name: regenerating it must
/// give the committed file, so a new resource type or a newer schema makes this fail until
/// the table is regenerated.
#[test]
fn create_only_table_is_current() {
    let root = support::root();
    let python = root.join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run the tests with scripts/test.sh, which installs cfn-lint",
        python.display()
    );
    let out = std::process::Command::new(python)
        .arg(root.join("scripts/gen_create_only.py"))
        .arg("--check")
        .output()
        .expect("the generator runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// On a terminal the deploy asks before destroying, and the default answer (Enter) is no:
/// nothing is executed. Driven through a pseudo-terminal.
#[test]
fn on_a_terminal_destruction_is_asked_and_defaults_to_no() {
    use rexpect::session::spawn_command;
    let moto = Moto::start(10);
    let url = moto.url();
    let (rt, aws) = client(&url);
    let ws = demo_copy("ask");
    let out = tug(ws.path(), &url, &["env", "deploy", "-n", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lb = physical_id(&rt, &aws, "ask-test", "PublicLoadBalancer");
    fs::remove_dir_all(ws.path().join("copilot/web")).expect("remove web");
    let mut cmd = support::tug_command(ws.path(), &url);
    cmd.args(["env", "deploy", "-n", "test"])
        .env("TERM", "xterm")
        .env_remove("CI");
    let mut p = spawn_command(cmd, Some(60_000)).expect("spawn on a pty");
    p.exp_string("remove      PublicLoadBalancer")
        .expect("the removal is listed");
    p.exp_string("Deploy these changes?").expect("asked");
    p.send("\r").expect("send");
    p.flush().expect("flush");
    p.exp_eof().expect("tug exits");
    assert_eq!(physical_id(&rt, &aws, "ask-test", "PublicLoadBalancer"), lb);
    assert!(pending_change_sets(&rt, &aws, "ask-test").is_empty());
}

/// What an environment's stack retains (the access-log bucket tug creates, `DeletionPolicy:
/// Retain`) is announced before the delete and listed as left in the account after it.
#[test]
fn deletes_list_what_their_stacks_retain() {
    let moto = Moto::start(10);
    let url = moto.url();
    let ws = demo_copy("keep");
    let env = ws.path().join("copilot/environments/test/manifest.yml");
    let text = fs::read_to_string(&env).expect("manifest");
    fs::write(
        &env,
        format!("{text}\nhttp:\n  public:\n    access_logs: true\n"),
    )
    .expect("write");
    let out = tug(ws.path(), &url, &["env", "deploy", "-n", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = tug(
        ws.path(),
        &url,
        &["--yes", "--output", "json", "env", "delete", "-n", "test"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let retained = doc["retained"].as_array().expect("retained");
    assert!(
        retained
            .iter()
            .any(|h| h["resource_type"] == "AWS::S3::Bucket"
                && h["logical_id"] == "ELBAccessLogsBucket"),
        "{doc}"
    );
    let text_out = tug(ws.path(), &url, &["env", "deploy", "-n", "test"]);
    assert_eq!(text_out.status.code(), Some(0), "{}", stderr(&text_out));
    let out = tug(ws.path(), &url, &["--yes", "env", "delete", "-n", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("Kept in the account"), "{err}");
    assert!(
        err.contains("Left in the account (retained by their stacks"),
        "{err}"
    );
    assert!(err.contains("S3 bucket"), "{err}");
}
