//! Deploys of EC2 capacity, daemon and placed services, and step and scheduled scaling against
//! moto, through the real `tug` binary, with the example workspace manifests/ec2.
//!
//! What moto models, with the patches in scripts/moto_server.py (items 5 and 6): the launch
//! templates, Auto Scaling groups (with scale-in protection) and instance profile; the ECS
//! capacity providers and the cluster's capacity provider associations and default strategy;
//! the services' launch type, capacity provider strategy, scheduling strategy and placement;
//! the scalable targets with their scheduled actions, the target-tracking and step policies,
//! and the CloudWatch alarms that drive the step policies. What moto does not model, so these
//! tests cannot show: instances joining the cluster, ECS managed scaling of the groups, tasks
//! placed on instances, alarms firing and scheduled actions running.
//!
//! The resources are read back with boto3 from the test virtualenv (tug's own AWS clients do
//! not cover Auto Scaling, Application Auto Scaling and CloudWatch).

mod support;

use std::fs;

use serde_json::Value;
use support::{Moto, boto3_with, events, example_copy, outcomes, stderr, tug};

/// Copies manifests/ec2 to a temporary folder under application name `app`.
fn ec2_copy(app: &str) -> tempfile::TempDir {
    example_copy("ec2", app)
}

/// What moto holds for application `app`, read with boto3.
const INSPECT: &str = r#"
app = sys.argv[1]
names = [f"{app}-test-general", f"{app}-test-graviton"]
out = {"providers": {}, "groups": {}, "services": {}, "policies": {}, "scheduled": {}, "alarms": {}}
for p in ecs.describe_capacity_providers(capacityProviders=names)["capacityProviders"]:
    out["providers"][p["name"]] = p["autoScalingGroupProvider"]
for g in asg.describe_auto_scaling_groups()["AutoScalingGroups"]:
    if g["AutoScalingGroupName"].startswith(f"{app}-test-"):
        out["groups"][g["AutoScalingGroupName"]] = {"min": g["MinSize"], "max": g["MaxSize"], "protected": g["NewInstancesProtectedFromScaleIn"]}
cluster = [c for c in ecs.list_clusters()["clusterArns"] if f"/{app}-test-" in c][0]
c = ecs.describe_clusters(clusters=[cluster])["clusters"][0]
out["cluster"] = {"providers": c.get("capacityProviders"), "default": c.get("defaultCapacityProviderStrategy")}
for arn in ecs.list_services(cluster=cluster)["serviceArns"]:
    s = ecs.describe_services(cluster=cluster, services=[arn])["services"][0]
    workload = s["serviceName"].split("-")[2]
    out["services"][workload] = {k: s.get(k) for k in ("launchType", "capacityProviderStrategy", "schedulingStrategy", "placementStrategy", "placementConstraints", "taskDefinition")}
for p in aas.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]:
    if p["PolicyName"].startswith(f"{app}-test-"):
        out["policies"][p["PolicyName"]] = p["PolicyType"]
for a in aas.describe_scheduled_actions(ServiceNamespace="ecs")["ScheduledActions"]:
    if f"/{app}-test-" in a["ResourceId"]:
        out["scheduled"][a["ScheduledActionName"]] = a["Schedule"]
for a in cw.describe_alarms()["MetricAlarms"]:
    if a["AlarmName"].startswith(f"{app}-test-"):
        out["alarms"][a["AlarmName"]] = {"metric": a.get("MetricName"), "actions": a.get("AlarmActions")}
print(json.dumps(out))
"#;

fn inspect(moto: &Moto, app: &str) -> Value {
    serde_json::from_str(&boto3_with(moto, INSPECT, &[app])).expect("JSON")
}

#[test]
fn ec2_capacity_daemon_placement_and_scaling_deploy() {
    let moto = Moto::start(2);
    let ws = ec2_copy("iron");
    let out = tug(
        ws.path(),
        &moto.url(),
        &["--output", "json", "deploy", "-e", "test"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let result = outcomes(&events(&out));
    assert_eq!(result.len(), 6, "{result:?}");
    assert!(result.iter().all(|(_, o)| o == "deployed"), "{result:?}");

    let state = inspect(&moto, "iron");
    // Two capacity providers on their groups, with managed scaling and termination protection.
    let general = &state["providers"]["iron-test-general"];
    assert_eq!(general["managedScaling"]["status"], "ENABLED");
    assert_eq!(general["managedScaling"]["targetCapacity"], 90);
    assert_eq!(general["managedScaling"]["maximumScalingStepSize"], 2);
    assert_eq!(general["managedTerminationProtection"], "ENABLED");
    assert!(
        general["autoScalingGroupArn"]
            .as_str()
            .is_some_and(|g| g.starts_with("iron-test-Ec2GeneralAutoScalingGroup")),
        "{general}"
    );
    assert!(state["providers"]["iron-test-graviton"].is_object());
    let groups = state["groups"].as_object().expect("groups");
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert!(
        groups.values().all(|g| g["protected"] == true),
        "{groups:?}"
    );
    // The cluster: Fargate, Fargate Spot and both EC2 providers; `general` is the default.
    assert_eq!(
        state["cluster"]["providers"],
        serde_json::json!([
            "FARGATE",
            "FARGATE_SPOT",
            "iron-test-general",
            "iron-test-graviton"
        ])
    );
    assert_eq!(
        state["cluster"]["default"][0]["capacityProvider"],
        "iron-test-general"
    );
    // Services: the daemon, the bridge web service placed by strategy, the api on Graviton.
    let services = &state["services"];
    assert_eq!(services["agent"]["schedulingStrategy"], "DAEMON");
    assert_eq!(services["agent"]["launchType"], "EC2");
    assert_eq!(
        services["web"]["capacityProviderStrategy"][0]["capacityProvider"],
        "iron-test-general"
    );
    assert_eq!(services["web"]["placementStrategy"][0]["type"], "spread");
    assert_eq!(services["web"]["placementStrategy"][1]["field"], "memory");
    assert_eq!(
        services["api"]["capacityProviderStrategy"][0]["capacityProvider"],
        "iron-test-graviton"
    );
    assert_eq!(
        services["api"]["placementConstraints"][0]["type"],
        "distinctInstance"
    );
    assert_eq!(services["worker"]["launchType"], "FARGATE");
    // Scaling: target tracking next to step policies, and scheduled actions.
    let policies = &state["policies"];
    assert_eq!(
        policies["iron-test-web-AutoScalingPolicyCPU"],
        "TargetTrackingScaling"
    );
    assert_eq!(policies["iron-test-api-AutoScalingStepOut"], "StepScaling");
    assert_eq!(policies["iron-test-api-AutoScalingStepIn"], "StepScaling");
    assert_eq!(
        policies["iron-test-worker-AutoScalingPolicyMemory"],
        "TargetTrackingScaling"
    );
    assert_eq!(
        policies["iron-test-worker-AutoScalingStepOut"],
        "StepScaling"
    );
    assert_eq!(
        state["scheduled"]["business-hours"],
        "cron(0 8 ? * MON-FRI *)"
    );
    assert_eq!(state["scheduled"]["weekend-off"], "cron(0 0 ? * SAT *)");
    let alarm = &state["alarms"]["iron-test-worker-AutoScalingStepOut"];
    assert_eq!(alarm["metric"], "PendingJobs");
    assert!(
        alarm["actions"][0]
            .as_str()
            .is_some_and(|a| a.contains("policyName/iron-test-worker-AutoScalingStepOut")),
        "{alarm}"
    );
    assert_eq!(
        state["alarms"]["iron-test-api-AutoScalingStepIn"]["metric"],
        "CPUUtilization"
    );
}

#[test]
fn a_workload_moves_from_fargate_to_ec2_and_back_as_stack_updates() {
    let moto = Moto::start(2);
    let ws = ec2_copy("move");
    let first = tug(
        ws.path(),
        &moto.url(),
        &["--output", "json", "deploy", "-e", "test"],
    );
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(
        inspect(&moto, "move")["services"]["worker"]["launchType"],
        "FARGATE"
    );

    let manifest = ws.path().join("copilot/worker/manifest.yml");
    let fargate = fs::read_to_string(&manifest).expect("worker manifest");
    let deploy_worker = || {
        let out = tug(
            ws.path(),
            &moto.url(),
            // Bridge mode drops the Cloud Map service (no A records without awsvpc): a
            // removal the deploy needs consent for.
            &[
                "--output",
                "json",
                "svc",
                "deploy",
                "-n",
                "worker",
                "-e",
                "test",
                "--allow-replacements",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let evs = events(&out);
        assert_eq!(
            outcomes(&evs),
            [("move-test-worker".to_string(), "deployed".to_string())]
        );
        let started = evs
            .iter()
            .find(|e| e["event"] == "started")
            .expect("a change set was executed");
        assert_eq!(started["action"], "update");
    };

    // To EC2: the environment's default EC2 provider, task definition compatible with EC2.
    fs::write(
        &manifest,
        format!("{fargate}\nlaunch_type: ec2\nnetwork_mode: bridge\n"),
    )
    .expect("write");
    deploy_worker();
    let worker = &inspect(&moto, "move")["services"]["worker"];
    assert_eq!(
        worker["capacityProviderStrategy"][0]["capacityProvider"], "move-test-general",
        "{worker}"
    );
    assert_eq!(worker["launchType"], Value::Null);

    // And back to Fargate.
    fs::write(&manifest, &fargate).expect("write");
    deploy_worker();
    let worker = &inspect(&moto, "move")["services"]["worker"];
    assert_eq!(worker["launchType"], "FARGATE", "{worker}");
    assert_eq!(worker["capacityProviderStrategy"], Value::Null);
}

#[test]
fn an_environment_gains_and_loses_ec2_capacity_as_updates() {
    let moto = Moto::start(2);
    let ws = ec2_copy("grow");
    // Only the environment matters here: keep the Fargate worker, which validates without EC2.
    for workload in ["agent", "api", "cleanup", "web"] {
        fs::remove_dir_all(ws.path().join("copilot").join(workload)).expect("rm");
    }
    let env = ws.path().join("copilot/environments/test/manifest.yml");
    let with_ec2 = fs::read_to_string(&env).expect("env manifest");
    let cut = with_ec2.find("cluster:").expect("a cluster section");
    let env_deploy = |action: &str| {
        let out = tug(
            ws.path(),
            &moto.url(),
            // Removing a provider removes its Auto Scaling group and capacity provider:
            // destructive, so consented to here.
            &[
                "--output",
                "json",
                "env",
                "deploy",
                "-n",
                "test",
                "--allow-replacements",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let evs = events(&out);
        let started = evs
            .iter()
            .find(|e| e["event"] == "started")
            .expect("a change set was executed");
        assert_eq!(started["action"], action);
        inspect(&moto, "grow")
    };

    // Fargate only: the associations hold FARGATE and FARGATE_SPOT.
    fs::write(&env, &with_ec2[..cut]).expect("write");
    let state = env_deploy("create");
    assert_eq!(
        state["cluster"]["providers"],
        serde_json::json!(["FARGATE", "FARGATE_SPOT"])
    );
    assert!(state["groups"].as_object().is_some_and(|g| g.is_empty()));

    // EC2 capacity added: an update creates the groups and providers and associates them.
    fs::write(&env, &with_ec2).expect("write");
    let state = env_deploy("update");
    assert_eq!(
        state["cluster"]["providers"],
        serde_json::json!([
            "FARGATE",
            "FARGATE_SPOT",
            "grow-test-general",
            "grow-test-graviton"
        ])
    );
    assert_eq!(state["groups"].as_object().map(|g| g.len()), Some(2));

    // One provider removed: detached from the cluster and deleted, Fargate kept.
    let cut = with_ec2
        .find("    # Graviton")
        .expect("the graviton provider");
    fs::write(&env, &with_ec2[..cut]).expect("write");
    let state = env_deploy("update");
    assert_eq!(
        state["cluster"]["providers"],
        serde_json::json!(["FARGATE", "FARGATE_SPOT", "grow-test-general"])
    );
    assert!(state["providers"]["grow-test-graviton"].is_null());
    assert_eq!(state["groups"].as_object().map(|g| g.len()), Some(1));
}
