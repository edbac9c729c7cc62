//! The health of a deployed service, read from AWS: the ECS service and its deployments, its
//! tasks (running and recently stopped), the targets behind its load balancer target groups,
//! and its CloudWatch alarms (the stack's own, and those autoscaling created for it).

use aws_sdk_cloudformation::primitives::DateTimeFormat;
use serde::Serialize;

use crate::deploy::aws::{Aws, describe_error};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize)]
pub struct ServiceHealth {
    pub stack: String,
    pub cluster: String,
    pub service: String,
    pub status: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub task_definition: String,
    pub deployments: Vec<Deployment>,
    pub tasks: Vec<TaskState>,
    pub targets: Vec<TargetState>,
    pub alarms: Vec<AlarmState>,
    /// Why the alarms could not be read, when they could not: the rest of the status is
    /// still worth showing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarms_error: Option<String>,
    /// The latest service events, newest first.
    pub events: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Deployment {
    pub id: String,
    /// PRIMARY (the newest) or ACTIVE (being replaced).
    pub status: String,
    pub rollout_state: Option<String>,
    pub rollout_reason: Option<String>,
    pub task_definition: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub failed: i32,
    pub updated: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskState {
    pub id: String,
    pub last_status: String,
    pub desired_status: String,
    pub health: String,
    pub task_definition: String,
    pub started: Option<String>,
    pub stopped_reason: Option<String>,
    pub containers: Vec<ContainerState>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContainerState {
    pub name: String,
    pub last_status: String,
    pub health: String,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetState {
    pub target_group: String,
    pub target: String,
    pub port: Option<i32>,
    pub state: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlarmState {
    pub name: String,
    pub state: String,
    pub reason: Option<String>,
}

fn time(t: Option<&aws_sdk_ecs::primitives::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
}

/// The last part of an ARN (`.../<id>`).
pub fn short_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Reads the health of the service of workload stack `stack`.
pub async fn read(aws: &Aws, stack: &str) -> Result<ServiceHealth> {
    let mut service_arn = None;
    let mut target_groups = Vec::new();
    let mut alarm_names = Vec::new();
    for r in crate::deploy::stack::resources(aws, stack).await? {
        let Some(id) = r.physical_id else {
            continue;
        };
        match r.resource_type.as_str() {
            "AWS::ECS::Service" => service_arn = Some(id),
            "AWS::ElasticLoadBalancingV2::TargetGroup" => target_groups.push(id),
            "AWS::CloudWatch::Alarm" => alarm_names.push(id),
            _ => {}
        }
    }
    let Some(service_arn) = service_arn else {
        return Err(Error::failure(format!(
            "stack {stack} has no ECS service (is it a Scheduled Job? use `tug job logs` or `tug job run`)"
        )));
    };
    let (cluster, service) = crate::deploy::service_arn::locate(aws, stack, &service_arn).await?;
    let described = aws
        .ecs
        .describe_services()
        .cluster(&cluster)
        .services(&service)
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot read ECS service {service}: {}",
                describe_error(&e)
            ))
        })?;
    let Some(svc) = described.services().first() else {
        return Err(Error::failure(format!(
            "ECS service {service} of {stack} does not exist in cluster {cluster}"
        )));
    };
    let deployments = svc
        .deployments()
        .iter()
        .map(|d| Deployment {
            id: d.id().unwrap_or_default().to_string(),
            status: d.status().unwrap_or_default().to_string(),
            rollout_state: d.rollout_state().map(|s| s.as_str().to_string()),
            rollout_reason: d.rollout_state_reason().map(str::to_string),
            task_definition: short_id(d.task_definition().unwrap_or_default()).to_string(),
            desired: d.desired_count(),
            running: d.running_count(),
            pending: d.pending_count().max(0),
            failed: d.failed_tasks(),
            updated: time(d.updated_at()),
        })
        .collect();
    let events = svc
        .events()
        .iter()
        .take(5)
        .filter_map(|e| {
            let at = time(e.created_at()).unwrap_or_default();
            e.message().map(|m| format!("{at} {m}").trim().to_string())
        })
        .collect();
    let tasks = read_tasks(aws, &cluster, &service).await?;
    let mut targets = Vec::new();
    for tg in &target_groups {
        targets.extend(read_targets(aws, tg).await?);
    }
    let (alarms, alarms_error) = match read_alarms(aws, &alarm_names, &cluster, &service).await {
        Ok(a) => (a, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    Ok(ServiceHealth {
        stack: stack.to_string(),
        cluster: short_id(&cluster).to_string(),
        service: service.clone(),
        status: svc.status().unwrap_or_default().to_string(),
        desired: svc.desired_count(),
        running: svc.running_count(),
        pending: svc.pending_count().max(0),
        task_definition: short_id(svc.task_definition().unwrap_or_default()).to_string(),
        deployments,
        tasks,
        targets,
        alarms,
        alarms_error,
        events,
    })
}

/// Running tasks and the most recently stopped ones (ECS keeps stopped tasks about an hour).
async fn read_tasks(aws: &Aws, cluster: &str, service: &str) -> Result<Vec<TaskState>> {
    let mut arns = Vec::new();
    for desired in [
        aws_sdk_ecs::types::DesiredStatus::Running,
        aws_sdk_ecs::types::DesiredStatus::Stopped,
    ] {
        let out = aws
            .ecs
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(desired)
            .send()
            .await
            .map_err(|e| {
                Error::failure(format!(
                    "cannot list the tasks of {service}: {}",
                    describe_error(&e)
                ))
            })?;
        arns.extend(out.task_arns().iter().take(50).cloned());
    }
    if arns.is_empty() {
        return Ok(Vec::new());
    }
    let mut tasks = Vec::new();
    // DescribeTasks takes at most 100 tasks.
    for chunk in arns.chunks(100) {
        let out = aws
            .ecs
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| {
                Error::failure(format!(
                    "cannot read the tasks of {service}: {}",
                    describe_error(&e)
                ))
            })?;
        for t in out.tasks() {
            tasks.push(TaskState {
                id: short_id(t.task_arn().unwrap_or_default()).to_string(),
                last_status: t.last_status().unwrap_or_default().to_string(),
                desired_status: t.desired_status().unwrap_or_default().to_string(),
                health: t
                    .health_status()
                    .map_or("UNKNOWN", |h| h.as_str())
                    .to_string(),
                task_definition: short_id(t.task_definition_arn().unwrap_or_default()).to_string(),
                started: time(t.started_at()),
                stopped_reason: t.stopped_reason().map(str::to_string),
                containers: t
                    .containers()
                    .iter()
                    .map(|c| ContainerState {
                        name: c.name().unwrap_or_default().to_string(),
                        last_status: c.last_status().unwrap_or_default().to_string(),
                        health: c
                            .health_status()
                            .map_or("UNKNOWN", |h| h.as_str())
                            .to_string(),
                        exit_code: c.exit_code(),
                        reason: c.reason().map(str::to_string),
                    })
                    .collect(),
            });
        }
    }
    // Running tasks first, then stopped ones; stable by id.
    tasks.sort_by(|a, b| {
        (a.last_status == "STOPPED", &a.id).cmp(&(b.last_status == "STOPPED", &b.id))
    });
    Ok(tasks)
}

async fn read_targets(aws: &Aws, target_group: &str) -> Result<Vec<TargetState>> {
    let out = aws
        .elb
        .describe_target_health()
        .target_group_arn(target_group)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot read the targets of {target_group}: {}",
                describe_error(&e)
            )
        })?;
    let name = target_group
        .split(":targetgroup/")
        .nth(1)
        .and_then(|t| t.split('/').next())
        .unwrap_or(target_group)
        .to_string();
    Ok(out
        .target_health_descriptions()
        .iter()
        .map(|d| {
            let health = d.target_health();
            TargetState {
                target_group: name.clone(),
                target: d
                    .target()
                    .and_then(|t| t.id())
                    .map(str::to_string)
                    .unwrap_or_default(),
                port: d.target().and_then(|t| t.port()),
                state: health
                    .and_then(|h| h.state())
                    .map_or("unknown", |s| s.as_str())
                    .to_string(),
                reason: health
                    .and_then(|h| h.description().or(h.reason().map(|r| r.as_str())))
                    .map(str::to_string),
            }
        })
        .collect())
}

/// The stack's alarms by name, and the target-tracking alarms autoscaling made for the
/// service (named `TargetTracking-service/<cluster>/<service>-...`).
async fn read_alarms(
    aws: &Aws,
    names: &[String],
    cluster: &str,
    service: &str,
) -> Result<Vec<AlarmState>> {
    let mut alarms = Vec::new();
    let mut push = |a: &aws_sdk_cloudwatch::types::MetricAlarm| {
        alarms.push(AlarmState {
            name: a.alarm_name().unwrap_or_default().to_string(),
            state: a
                .state_value()
                .map_or("UNKNOWN", |s| s.as_str())
                .to_string(),
            reason: a.state_reason().map(str::to_string),
        })
    };
    for chunk in names.chunks(100) {
        let out = aws
            .cloudwatch
            .describe_alarms()
            .set_alarm_names(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| Error::failure(format!("cannot read alarms: {}", describe_error(&e))))?;
        out.metric_alarms().iter().for_each(&mut push);
    }
    let prefix = format!("TargetTracking-service/{}/{service}-", short_id(cluster));
    let out = aws
        .cloudwatch
        .describe_alarms()
        .alarm_name_prefix(&prefix)
        .send()
        .await
        .map_err(|e| Error::failure(format!("cannot read alarms: {}", describe_error(&e))))?;
    out.metric_alarms().iter().for_each(&mut push);
    alarms.sort_by(|a, b| a.name.cmp(&b.name));
    alarms.dedup_by(|a, b| a.name == b.name);
    Ok(alarms)
}
