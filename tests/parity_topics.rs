//! Copilot parity of publish/subscribe (issue 13, item 7): a worker subscribed to a topic of a
//! service deployed from another workspace of the application, and Copilot's topic policy.
//!
//! Sources of truth: Copilot's workload templates (aws/copilot-cli,
//! internal/pkg/template/templates/workloads/partials/cf/publish.yml and subscribe.yml), read
//! as facts: the publisher names its topic `${AWS::StackName}-<topic>`, i.e.
//! `<app>-<env>-<service>-<topic>`, and the worker builds the same ARN from the names in its
//! manifest (no stack lookup, no Lambda); the topic policy lets the account subscribe SQS
//! queues. The deploy test runs against moto, which is not AWS: moto accepts a subscription
//! to a topic that does not exist (AWS refuses it), so the test checks that the subscription
//! it made is attached to the publisher's topic, read back through moto's SNS API.

mod support;

use std::path::Path;
use std::process::Command;

use support::{Moto, boto3, stderr, temp_workspace, tug};

/// A workspace of application `app` with environment `test` and the given workloads.
fn workspace(app: &str, workloads: &[(&str, &str)]) -> tempfile::TempDir {
    temp_workspace(
        &format!("application: {app}\n"),
        "name: test\ntype: Environment\n",
        workloads,
    )
}

const PUBLISHER: &str = "name: orders\ntype: Backend Service\nimage:\n  location: public.ecr.aws/nginx/nginx:1.27\npublish:\n  topics:\n    - name: placed\n";
const WORKER: &str = "name: billing\ntype: Worker Service\nimage:\n  location: public.ecr.aws/nginx/nginx:1.27\nsubscribe:\n  topics:\n    - name: placed\n      service: orders\n";

fn render(dir: &Path, name: &str) -> serde_yaml::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tug"))
        .current_dir(dir)
        .args(["render", "-e", "test", "-n", name])
        .output()
        .expect("tug runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_yaml::from_slice(&out.stdout).expect("one YAML template")
}

/// Copilot's `<topic>SNSTopicPolicy`: the account may subscribe, over SQS only.
#[test]
fn published_topics_have_copilots_policy() {
    let ws = workspace("pol", &[("orders", PUBLISHER)]);
    let t = render(ws.path(), "orders");
    let policy = &t["Resources"]["PlacedTopicPolicy"];
    assert_eq!(policy["Type"], "AWS::SNS::TopicPolicy");
    assert_eq!(policy["Properties"]["Topics"][0]["Ref"], "PlacedTopic");
    let statement = &policy["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(statement["Effect"], "Allow");
    assert_eq!(statement["Action"], "sns:Subscribe");
    assert_eq!(
        statement["Principal"]["AWS"]["Fn::Sub"],
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
    );
    assert_eq!(
        statement["Condition"]["StringEquals"]["sns:Protocol"],
        "sqs"
    );
}

/// A worker whose publisher is in no workspace file renders (a warning, not an error) and
/// subscribes to the ARN Copilot's naming gives.
#[test]
fn a_worker_of_a_publisher_outside_the_workspace_renders() {
    let ws = workspace("ext", &[("billing", WORKER)]);
    let t = render(ws.path(), "billing");
    let sub = &t["Resources"]["OrdersPlacedSubscription"]["Properties"];
    assert_eq!(
        sub["TopicArn"]["Fn::Sub"],
        "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:ext-test-orders-placed"
    );
    assert_eq!(sub["Protocol"], "sqs");
}

/// The publisher is deployed from one workspace, the worker from another workspace of the same
/// application: the worker subscribes to the topic the publisher's stack created.
///
/// moto creates the publisher's topic, but keeps `AWS::SNS::Subscription` and
/// `AWS::SQS::QueuePolicy` of a CloudFormation stack as placeholders (no subscription is made,
/// a missing topic is not noticed, and the placeholders are listed without their logical ids).
/// So the test compares the topic ARN of the worker's
/// deployed subscription, with CloudFormation's pseudo parameters substituted as AWS does,
/// with the ARN of the topic the publisher's stack reports.
#[test]
fn a_worker_subscribes_to_a_topic_deployed_from_another_workspace() {
    let moto = Moto::start(10);
    let publisher = workspace("xws", &[("orders", PUBLISHER)]);
    let out = tug(publisher.path(), &moto.url(), &["deploy", "-e", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let topic = boto3(
        &moto,
        "outs = cfn.describe_stacks(StackName='xws-test-orders')['Stacks'][0]['Outputs']\n\
         print([o['OutputValue'] for o in outs if o['OutputKey'] == 'PlacedTopicArn'][0])",
    );
    let topics = boto3(
        &moto,
        "print(' '.join(t['TopicArn'] for t in sns.list_topics()['Topics']))",
    );
    assert_eq!(topics, topic, "the publisher's stack made the topic");

    let worker = workspace("xws", &[("billing", WORKER)]);
    let out = tug(worker.path(), &moto.url(), &["deploy", "-e", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let deployed = boto3(
        &moto,
        "print(json.dumps(cfn.get_template(StackName='xws-test-billing')['TemplateBody']))",
    );
    let deployed: serde_json::Value = match serde_json::from_str::<serde_json::Value>(&deployed) {
        Ok(serde_json::Value::String(yaml)) => serde_yaml::from_str(&yaml).expect("YAML template"),
        Ok(v) => v,
        Err(e) => panic!("template: {e}"),
    };
    let arn =
        deployed["Resources"]["OrdersPlacedSubscription"]["Properties"]["TopicArn"]["Fn::Sub"]
            .as_str()
            .expect("a Fn::Sub topic ARN")
            .replace("${AWS::Partition}", "aws")
            .replace("${AWS::Region}", "us-east-1")
            .replace("${AWS::AccountId}", "123456789012");
    assert_eq!(arn, topic);
    assert_eq!(
        deployed["Resources"]["OrdersPlacedSubscription"]["Type"],
        "AWS::SNS::Subscription"
    );
}
