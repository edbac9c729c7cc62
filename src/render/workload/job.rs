//! Scheduled Job resources: an EventBridge rule on the job's schedule starts a Step Functions
//! state machine, which runs the task on Fargate or EC2 capacity (`ecs:runTask.sync`, so the execution lasts
//! as long as the task), stops it after `timeout` and retries it `retries` times. No ECS
//! service.
//!
//! Both roles are scoped to this job: the state machine may run only this task definition's
//! family in the environment's cluster, stop and describe only that cluster's tasks, pass only
//! the job's two roles to ECS, and manage only the EventBridge rule Step Functions uses to
//! learn that a task stopped; the rule may start only this state machine.

use serde_json::{Value, json};

use crate::manifest::model::WorkloadKind;
use crate::manifest::schedule::schedule_expression;
use crate::manifest::union::BoolOr;
use crate::render::workload::service::network;
use crate::render::workload::{Scope, ec2};
use crate::render::{RenderError, input_error, names};

/// The one state of the state machine.
const RUN_STATE: &str = "RunTask";

/// What a disabled rule (`schedule: none`) carries: EventBridge needs an expression, and this
/// one would run the job once a year if someone enabled the rule by hand.
const DISABLED_SCHEDULE: &str = "rate(365 days)";

/// Copilot's retry policy: 10 seconds, then 15, 22.5...
const RETRY_INTERVAL_SECONDS: u64 = 10;
const RETRY_BACKOFF_RATE: f64 = 1.5;

/// `Fn::Sub` text with `${` written literally.
fn sub_literal(text: &str) -> String {
    text.replace("${", "${!")
}

/// Launch type or capacity provider strategy of the task, from `capacity_providers` when set;
/// on EC2 the strategy names the environment's providers (see [`ec2::launch`]).
fn launch(scope: &Scope) -> Result<(Option<Value>, Option<Value>), RenderError> {
    let m = &scope.wl.manifest;
    if m.runs_on_ec2() {
        let (launch_type, strategy) = ec2::launch(scope)?;
        return Ok((launch_type.map(|l| json!(l)), strategy));
    }
    Ok(
        match m.capacity_providers.as_ref().filter(|c| !c.is_empty()) {
            Some(items) => {
                let strategy: Vec<Value> = items
                    .iter()
                    .filter_map(|i| {
                        let name = i.name.as_ref()?.value.to_ascii_uppercase();
                        let mut item = json!({ "CapacityProvider": name });
                        if let Some(b) = &i.base {
                            item["Base"] = json!(b.value);
                        }
                        item["Weight"] = json!(i.weight.as_ref().map_or(1, |w| w.value));
                        Some(item)
                    })
                    .collect();
                (None, Some(Value::Array(strategy)))
            }
            None => (Some(json!("FARGATE")), None),
        },
    )
}

/// The Amazon States Language definition. Values that CloudFormation resolves (the integration
/// ARN, cluster, task definition, subnets, security groups) are `${...}` placeholders filled by
/// `DefinitionSubstitutions`; lists travel as comma-joined strings and are split back by
/// `States.StringSplit`.
fn definition(scope: &Scope, awsvpc: &Value, has_groups: bool) -> Result<Value, RenderError> {
    let m = &scope.wl.manifest;
    let on_ec2 = m.runs_on_ec2();
    let (launch_type, strategy) = launch(scope)?;
    let mut parameters = json!({
        "Cluster": "${Cluster}",
        "TaskDefinition": "${TaskDefinition}",
    });
    // Platform versions are a Fargate setting; bridge and host tasks have no network
    // configuration, and awsvpc tasks on EC2 get no public IP.
    if !on_ec2 {
        parameters["PlatformVersion"] = json!("LATEST");
    }
    parameters["PropagateTags"] = json!("TASK_DEFINITION");
    if !awsvpc.is_null() {
        let mut vpc = json!({
            "AssignPublicIp": if on_ec2 { json!("DISABLED") } else { awsvpc["AssignPublicIp"].clone() },
            "Subnets.$": "States.StringSplit('${Subnets}', ',')",
        });
        if has_groups {
            vpc["SecurityGroups.$"] = json!("States.StringSplit('${SecurityGroups}', ',')");
        }
        parameters["NetworkConfiguration"] = json!({ "AwsvpcConfiguration": vpc });
    }
    // RunTask spells the strategy list in the singular.
    let (placement_strategies, placement_constraints) = ec2::placement(m);
    if !placement_strategies.is_null() {
        parameters["PlacementStrategy"] = placement_strategies;
    }
    if !placement_constraints.is_null() {
        parameters["PlacementConstraints"] = placement_constraints;
    }
    if let Some(lt) = launch_type {
        parameters["LaunchType"] = lt;
    }
    if let Some(s) = strategy {
        parameters["CapacityProviderStrategy"] = s;
    }
    let exec = m.exec.as_ref().is_some_and(|e| match &e.value {
        BoolOr::Bool(b) => *b,
        BoolOr::Config(c) => c.enable.as_ref().is_none_or(|e| e.value),
    });
    if exec {
        parameters["EnableExecuteCommand"] = json!(true);
    }
    let mut state = json!({
        "Type": "Task",
        "Resource": "${RunTaskSync}",
        "Parameters": parameters,
        "End": true,
    });
    let retries = m.retries.as_ref().map_or(0, |r| r.value);
    if retries > 0 {
        state["Retry"] = json!([{
            "ErrorEquals": ["States.ALL"],
            "IntervalSeconds": RETRY_INTERVAL_SECONDS,
            "MaxAttempts": retries,
            "BackoffRate": RETRY_BACKOFF_RATE,
        }]);
    }
    let mut def = json!({
        "Comment": format!(
            "Runs the task of Scheduled Job {} on {}",
            scope.wl.name,
            if on_ec2 { "EC2" } else { "Fargate" }
        ),
        "StartAt": RUN_STATE,
        "States": { RUN_STATE: state },
    });
    if let Some(secs) = m.timeout.as_ref().and_then(|t| t.value.whole_secs()) {
        def["TimeoutSeconds"] = json!(secs);
    }
    Ok(def)
}

/// A list as one comma-separated string: `Fn::Split` undone, anything else joined.
fn joined(list: &Value) -> Value {
    match list.get("Fn::Split").and_then(|a| a.as_array()) {
        Some(args) if args.len() == 2 && args[0] == "," => args[1].clone(),
        _ => json!({ "Fn::Join": [",", list] }),
    }
}

/// The state machine role's statements.
fn state_machine_statements(scope: &Scope) -> Value {
    let family = sub_literal(&scope.full_name());
    json!([
        {
            "Sid": "RunThisJobsTask",
            "Effect": "Allow",
            "Action": "ecs:RunTask",
            "Resource": { "Fn::Sub": format!("arn:${{AWS::Partition}}:ecs:${{AWS::Region}}:${{AWS::AccountId}}:task-definition/{family}:*") },
            "Condition": { "ArnEquals": { "ecs:cluster": scope.import("ClusterArn") } },
        },
        {
            "Sid": "WatchAndStopTheTask",
            "Effect": "Allow",
            "Action": ["ecs:StopTask", "ecs:DescribeTasks"],
            "Resource": { "Fn::Sub": [
                "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task/${Cluster}/*",
                { "Cluster": scope.import("ClusterId") },
            ] },
        },
        {
            "Sid": "PassTheTaskRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": [
                { "Fn::GetAtt": ["ExecutionRole", "Arn"] },
                { "Fn::GetAtt": ["TaskRole", "Arn"] },
            ],
            "Condition": { "StringEquals": { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
        },
        {
            // runTask.sync learns that the task stopped through this managed rule.
            "Sid": "ManagedRuleForSyncRuns",
            "Effect": "Allow",
            "Action": ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            "Resource": { "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForECSTaskRule" },
        },
    ])
}

/// The view model of a Scheduled Job's schedule, or null for other types.
pub(crate) fn context(scope: &Scope) -> Result<Value, RenderError> {
    let wl = scope.wl;
    if wl.kind != WorkloadKind::ScheduledJob {
        return Ok(Value::Null);
    }
    let m = &wl.manifest;
    let Some(schedule) = m.on.as_ref().and_then(|o| o.schedule.as_ref()) else {
        let span = m.name.as_ref().map(|n| n.span).unwrap_or_default();
        return Err(RenderError::Input(vec![input_error(
            span,
            "a Scheduled Job needs `on.schedule`",
            "for example `on: {schedule: \"@daily\"}`, or `none` to run it only by hand",
        )]));
    };
    let expression = schedule_expression(&schedule.value).map_err(|e| {
        RenderError::Input(vec![input_error(
            schedule.span,
            e,
            "use @hourly, @daily, @weekly, @monthly, @yearly, @every 30m, a 5-field cron, rate(...), cron(...) or none",
        )])
    })?;
    let enabled = expression != "none";

    let mut parameters = Vec::new();
    let net = if ec2::awsvpc(m) {
        network(scope, &mut parameters)
    } else {
        Value::Null
    };
    let awsvpc = &net["AwsvpcConfiguration"];
    let groups = awsvpc["SecurityGroups"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let has_groups = !groups.is_empty();
    let mut substitutions = json!({
        // The integration's ARN carries the partition (aws, aws-cn, aws-us-gov).
        "RunTaskSync": { "Fn::Sub": "arn:${AWS::Partition}:states:::ecs:runTask.sync" },
        "Cluster": scope.import("ClusterId"),
        "TaskDefinition": { "Ref": "TaskDefinition" },
    });
    if !awsvpc.is_null() {
        substitutions["Subnets"] = joined(&awsvpc["Subnets"]);
    }
    if has_groups {
        substitutions["SecurityGroups"] = json!({ "Fn::Join": [",", groups] });
    }
    Ok(json!({
        "state_machine": {
            "name": names::limited(&scope.full_name(), 80),
            "definition": definition(scope, awsvpc, has_groups)?,
            "substitutions": substitutions,
            "statements": state_machine_statements(scope),
        },
        "rule": {
            "description": format!("Starts Scheduled Job {} ({})", wl.name, schedule.value),
            "schedule": if enabled { expression } else { DISABLED_SCHEDULE.to_string() },
            "state": if enabled { "ENABLED" } else { "DISABLED" },
        },
        "parameters": parameters,
        "outputs": [
            { "id": "StateMachineArn", "description": "The state machine that runs the job; start an execution to run it now", "value": { "Ref": "StateMachine" } },
        ],
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::fs;

    use super::*;
    use crate::manifest::load::{LoadOptions, load};
    use crate::manifest::workspace::Workspace;

    const ENV: &str = "name: test\ntype: Environment\n";
    const HEAD: &str = "name: report\ntype: Scheduled Job\nimage:\n  location: busybox\n";

    /// The view model of Scheduled Job `report` in environment `test` (and, for the template,
    /// the whole rendered stack parsed back).
    fn job(manifest: &str) -> (Result<Value, RenderError>, Option<serde_yaml::Value>) {
        let f = crate::render::workload::fixture::Fixture::new(ENV, &[("report", manifest)]);
        (context(&f.scope("report")), f.stack("report"))
    }

    fn schedule(manifest_schedule: &str) -> Value {
        let (v, _) = job(&format!("{HEAD}on:\n  schedule: \"{manifest_schedule}\"\n"));
        v.unwrap()["rule"].clone()
    }

    #[test]
    fn schedules() {
        assert_eq!(
            schedule("none"),
            json!({ "description": "Starts Scheduled Job report (none)", "schedule": "rate(365 days)", "state": "DISABLED" })
        );
        assert_eq!(schedule("@every 30m")["schedule"], "rate(30 minutes)");
        assert_eq!(schedule("@every 30m")["state"], "ENABLED");
        assert_eq!(schedule("@daily")["schedule"], "cron(0 0 * * ? *)");
        assert_eq!(schedule("30 9 * * 1-5")["schedule"], "cron(30 9 ? * 2-6 *)");
    }

    #[test]
    fn state_machine_with_timeout_and_retries() {
        let (v, stack) = job(&format!(
            "{HEAD}on:\n  schedule: \"@daily\"\ntimeout: 1h30m\nretries: 2\n"
        ));
        let v = v.unwrap();
        let sm = &v["state_machine"];
        assert_eq!(sm["name"], "shop-test-report");
        let def = &sm["definition"];
        assert_eq!(def["TimeoutSeconds"], 5400);
        assert_eq!(def["StartAt"], "RunTask");
        let state = &def["States"]["RunTask"];
        assert_eq!(state["Resource"], "${RunTaskSync}");
        assert_eq!(
            state["Retry"],
            json!([{ "ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxAttempts": 2, "BackoffRate": 1.5 }])
        );
        let p = &state["Parameters"];
        assert_eq!(p["LaunchType"], "FARGATE");
        assert_eq!(p["PlatformVersion"], "LATEST");
        assert_eq!(p["Cluster"], "${Cluster}");
        assert_eq!(p["TaskDefinition"], "${TaskDefinition}");
        assert_eq!(
            p["NetworkConfiguration"]["AwsvpcConfiguration"],
            json!({
                "AssignPublicIp": "ENABLED",
                "Subnets.$": "States.StringSplit('${Subnets}', ',')",
                "SecurityGroups.$": "States.StringSplit('${SecurityGroups}', ',')",
            })
        );
        assert!(p.get("EnableExecuteCommand").is_none());
        let subs = &sm["substitutions"];
        assert_eq!(
            subs["RunTaskSync"],
            json!({ "Fn::Sub": "arn:${AWS::Partition}:states:::ecs:runTask.sync" })
        );
        assert_eq!(
            subs["Cluster"],
            json!({ "Fn::ImportValue": "shop-test-ClusterId" })
        );
        assert_eq!(
            subs["Subnets"],
            json!({ "Fn::ImportValue": "shop-test-PublicSubnets" })
        );
        assert_eq!(
            subs["SecurityGroups"],
            json!({ "Fn::Join": [",", [{ "Fn::ImportValue": "shop-test-EnvironmentSecurityGroup" }]] })
        );
        let statements = sm["statements"].as_array().unwrap();
        assert_eq!(statements[0]["Action"], "ecs:RunTask");
        assert_eq!(
            statements[0]["Resource"],
            json!({ "Fn::Sub": "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:task-definition/shop-test-report:*" })
        );
        assert_eq!(
            statements[0]["Condition"],
            json!({ "ArnEquals": { "ecs:cluster": { "Fn::ImportValue": "shop-test-ClusterArn" } } })
        );
        assert_eq!(statements[2]["Action"], "iam:PassRole");
        assert_eq!(
            statements[3]["Resource"],
            json!({ "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForECSTaskRule" })
        );
        assert_eq!(v["outputs"][0]["id"], "StateMachineArn");

        // The rendered stack: no service, the state machine, its rule and roles.
        let stack = stack.expect("renders");
        let resources = stack["Resources"].as_mapping().unwrap();
        let ty = |id: &str| resources[id]["Type"].as_str().unwrap().to_string();
        assert_eq!(ty("StateMachine"), "AWS::StepFunctions::StateMachine");
        assert_eq!(ty("StateMachineRole"), "AWS::IAM::Role");
        assert_eq!(ty("Rule"), "AWS::Events::Rule");
        assert_eq!(ty("RuleRole"), "AWS::IAM::Role");
        assert!(!resources.contains_key("Service"));
        assert!(!resources.contains_key("DiscoveryService"));
        assert_eq!(
            stack["Resources"]["Rule"]["Properties"]["ScheduleExpression"],
            serde_yaml::Value::from("cron(0 0 * * ? *)")
        );
        assert!(
            stack["Outputs"]
                .as_mapping()
                .unwrap()
                .contains_key("StateMachineArn")
        );
        assert!(
            !stack["Outputs"]
                .as_mapping()
                .unwrap()
                .contains_key("ServiceName")
        );
    }

    #[test]
    fn no_retries_no_retry_block() {
        let (v, _) = job(&format!("{HEAD}on:\n  schedule: \"@hourly\"\nretries: 0\n"));
        let def = &v.unwrap()["state_machine"]["definition"];
        assert!(def["States"]["RunTask"].get("Retry").is_none());
        assert!(def.get("TimeoutSeconds").is_none());
    }

    #[test]
    fn private_subnets_spot_and_exec() {
        let (v, _) = job(&format!(
            "{HEAD}on:\n  schedule: \"@hourly\"\nexec: true\ncapacity_providers:\n  - name: FARGATE_SPOT\n    weight: 1\n  - name: FARGATE\n    base: 1\n    weight: 0\nnetwork:\n  vpc:\n    placement:\n      subnets: [subnet-1, subnet-2]\n    security_groups:\n      groups: [sg-1]\n      deny_default: true\n"
        ));
        let v = v.unwrap();
        let p = &v["state_machine"]["definition"]["States"]["RunTask"]["Parameters"];
        assert!(p.get("LaunchType").is_none());
        assert_eq!(
            p["CapacityProviderStrategy"],
            json!([{ "CapacityProvider": "FARGATE_SPOT", "Weight": 1 }, { "CapacityProvider": "FARGATE", "Base": 1, "Weight": 0 }])
        );
        assert_eq!(p["EnableExecuteCommand"], json!(true));
        assert_eq!(
            p["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"],
            "DISABLED"
        );
        let subs = &v["state_machine"]["substitutions"];
        assert_eq!(
            subs["Subnets"],
            json!({ "Fn::Join": [",", ["subnet-1", "subnet-2"]] })
        );
        assert_eq!(
            subs["SecurityGroups"],
            json!({ "Fn::Join": [",", ["sg-1"]] })
        );
    }

    #[test]
    fn other_types_have_no_job() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("copilot");
        fs::create_dir_all(dir.join("environments/test")).unwrap();
        fs::create_dir_all(dir.join("api")).unwrap();
        fs::write(dir.join(".workspace"), "application: shop\n").unwrap();
        fs::write(dir.join("environments/test/manifest.yml"), ENV).unwrap();
        fs::write(
            dir.join("api/manifest.yml"),
            "name: api\ntype: Backend Service\nimage:\n  location: nginx\n",
        )
        .unwrap();
        let ws = Workspace::open(&dir);
        let opts = LoadOptions {
            lenient: false,
            environment: Some("test".into()),
            variables: HashMap::new(),
        };
        let loaded = load(&ws, &opts).unwrap();
        let scope = Scope {
            loaded: &loaded,
            wl: &loaded.workloads[0],
            env: "test",
            addons: None,
        };
        assert!(context(&scope).unwrap().is_null());
    }
}
