//! IAM for a workload: the execution role (pulls images, writes logs, reads exactly the
//! secrets the manifest names) and the task role (nothing by default; ECS Exec, topics,
//! queues, EFS and tracing add what they need).

use serde_json::{Value, json};

use crate::manifest::addons::{Addons, OutputKind};
use crate::manifest::decode::{Located, Map};
use crate::manifest::model::common::Secret;
use crate::render::workload::Scope;
use crate::render::workload::containers::{env_files, secret_ref, secrets_manager_resource};

fn all_secrets<'a>(scope: &'a Scope) -> Vec<&'a Located<Map<Secret>>> {
    let m = &scope.wl.manifest;
    let mut maps: Vec<&Located<Map<Secret>>> = Vec::new();
    maps.extend(m.secrets.as_ref());
    for (_, s) in m.sidecars.iter().flat_map(|s| s.iter()) {
        maps.extend(s.secrets.as_ref());
    }
    if let Some(l) = &m.logging {
        maps.extend(l.secrets.as_ref());
        maps.extend(l.secret_options.as_ref());
    }
    maps
}

/// The IAM view model: policy statements of the execution and task roles.
pub(crate) fn context(scope: &Scope, topics: &Value, worker: &Value) -> Value {
    json!({
        "execution_statements": execution_statements(scope),
        "task_statements": task_statements(scope, topics, worker),
        "task_managed_policies": scope.addons.map(|a| {
            a.outputs_of(OutputKind::ManagedPolicy)
                .map(|o| Addons::output_value(&o.name))
                .collect::<Vec<_>>()
        }).filter(|l| !l.is_empty()),
    })
}

/// The execution role's statements: the secrets (SSM parameters, Secrets Manager secrets and
/// registry credentials) the containers are given, and the env files they read.
fn execution_statements(scope: &Scope) -> Vec<Value> {
    let m = &scope.wl.manifest;
    let mut ssm: Vec<Value> = Vec::new();
    let mut sm: Vec<Value> = Vec::new();
    for map in all_secrets(scope) {
        for (_, secret) in map.iter() {
            let r = secret_ref(&secret.value);
            let list = if r.secrets_manager { &mut sm } else { &mut ssm };
            if !list.contains(&r.resource) {
                list.push(r.resource);
            }
        }
    }
    // The addons' secrets, by the ARN their stack outputs.
    for output in scope
        .addons
        .iter()
        .flat_map(|a| a.outputs_of(OutputKind::Secret))
    {
        sm.push(Addons::output_value(&output.name));
    }
    // Private registry credentials are Secrets Manager ARNs too, read by the same rule.
    let credential = |arn: &str| -> Value {
        if arn.starts_with("arn:") && arn.contains(":secretsmanager:") {
            json!(secrets_manager_resource(arn))
        } else {
            json!(arn)
        }
    };
    let mut credentials: Vec<Value> = Vec::new();
    if let Some(c) = m.image.as_ref().and_then(|i| i.credentials.as_ref()) {
        credentials.push(credential(&c.value));
    }
    for (_, s) in m.sidecars.iter().flat_map(|s| s.iter()) {
        if let Some(c) = &s.credentials_parameter {
            credentials.push(credential(&c.value));
        }
    }
    let mut execution = Vec::new();
    if !ssm.is_empty() {
        execution
            .push(json!({ "Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": ssm }));
    }
    if !sm.is_empty() || !credentials.is_empty() {
        let mut resources = sm;
        for c in credentials {
            if !resources.contains(&c) {
                resources.push(c);
            }
        }
        execution.push(json!({ "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": resources }));
    }
    env_file_statements(scope, &mut execution);
    execution
}

/// Every env file is an object of the one artifacts bucket: read each object, and locate the
/// bucket (named from the first object's ARN).
fn env_file_statements(scope: &Scope, execution: &mut Vec<Value>) {
    let env_files = env_files(scope.wl);
    let Some(first) = env_files.first() else {
        return;
    };
    let objects: Vec<Value> = env_files
        .iter()
        .map(|f| json!({ "Ref": f.parameter }))
        .collect();
    execution.push(json!({ "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": objects }));
    execution.push(json!({
        "Effect": "Allow",
        "Action": ["s3:GetBucketLocation"],
        "Resource": [{ "Fn::Join": ["", ["arn:", { "Ref": "AWS::Partition" }, ":s3:::", { "Fn::Select": [0, { "Fn::Split": ["/", { "Fn::Select": [5, { "Fn::Split": [":", { "Ref": first.parameter }] }] }] }] }]] }],
    }));
}

/// The task role's statements: ECS Exec, publishing to the workload's topics, the worker's
/// queues, and X-Ray tracing.
fn task_statements(scope: &Scope, topics: &Value, worker: &Value) -> Vec<Value> {
    let m = &scope.wl.manifest;
    let mut task = Vec::new();
    let exec = m.exec.as_ref().is_some_and(|e| match &e.value {
        crate::manifest::union::BoolOr::Bool(b) => *b,
        crate::manifest::union::BoolOr::Config(c) => c.enable.as_ref().is_none_or(|e| e.value),
    });
    if exec {
        // ECS Exec's agent channel; these actions have no resource-level permissions.
        task.push(json!({
            "Effect": "Allow",
            "Action": ["ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenDataChannel"],
            "Resource": "*",
        }));
    }
    let topic_arns: Vec<Value> = topics
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| json!({ "Ref": format!("{}Topic", t["id"].as_str().unwrap_or("")) }))
        .collect();
    if !topic_arns.is_empty() {
        task.push(json!({ "Effect": "Allow", "Action": ["sns:Publish"], "Resource": topic_arns }));
    }
    if let Some(statements) = worker["task_statements"].as_array() {
        task.extend(statements.iter().cloned());
    }
    if m.observability
        .as_ref()
        .and_then(|o| o.tracing.as_ref())
        .is_some()
    {
        task.push(json!({
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"],
            "Resource": "*",
        }));
    }
    task
}
