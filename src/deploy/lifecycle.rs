//! ECS service deployments (ListServiceDeployments / DescribeServiceDeployments): the
//! lifecycle stage a blue/green, canary or linear deployment is in, how production and test
//! traffic are split, which PAUSE hooks wait for a person, and how the deployment ended.
//! Also the two actions on a running deployment: answering a PAUSE hook
//! (ContinueServiceDeployment) and stopping with a rollback (StopServiceDeployment).
//!
//! Judging is a pure function of a [`Deployment`], tested with recorded ECS responses; the
//! emulator used in tests (moto) does not implement these APIs, and every caller falls back
//! to the service's `deployments` (see `rollout`) when they are unavailable.

use aws_sdk_ecs::types::{
    DeploymentLifecycleHookAction, ServiceDeployment, ServiceDeploymentStatus,
    StopServiceDeploymentStopType,
};
use serde::Serialize;

use crate::deploy::aws::describe_error;
use crate::error::{Error, Result};

/// A lifecycle hook of a deployment as ECS reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hook {
    pub id: String,
    /// AWS_LAMBDA or PAUSE.
    pub target_type: String,
    /// AWAITING_ACTION, IN_PROGRESS, SUCCEEDED, FAILED or TIMED_OUT.
    pub status: String,
    /// When a PAUSE hook gives up and takes its timeout action (RFC 3339).
    pub expires_at: Option<String>,
    pub timeout_action: Option<String>,
}

/// One service deployment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deployment {
    pub arn: String,
    /// PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED, STOP_REQUESTED, ROLLBACK_* .
    pub status: String,
    pub status_reason: Option<String>,
    /// The lifecycle stage (RECONCILE_SERVICE ... BAKE_TIME, CLEAN_UP).
    pub stage: Option<String>,
    /// Seconds since the epoch.
    pub created_at: Option<f64>,
    pub finished_at: Option<f64>,
    pub strategy: Option<String>,
    /// The share of production and test traffic the new revision gets (percent).
    pub production_weight: Option<f64>,
    pub test_weight: Option<f64>,
    pub hooks: Vec<Hook>,
    pub rollback_reason: Option<String>,
}

/// Where a deployment stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    InProgress,
    Succeeded,
    /// ECS went back to the previous revision.
    RolledBack(String),
    /// Stopped without a rollback, or the rollback itself failed.
    Failed(String),
}

/// Judges a deployment by its status.
pub fn assess(d: &Deployment) -> Progress {
    let why = || {
        d.rollback_reason
            .clone()
            .or_else(|| d.status_reason.clone())
            .unwrap_or_else(|| "ECS gave no reason".into())
    };
    match d.status.as_str() {
        "SUCCESSFUL" => Progress::Succeeded,
        "ROLLBACK_SUCCESSFUL" => Progress::RolledBack(format!(
            "ECS rolled the deployment back to the previous revision: {}",
            why()
        )),
        "ROLLBACK_FAILED" => Progress::Failed(format!("ECS could not roll back: {}", why())),
        "STOPPED" => Progress::Failed(format!("the deployment was stopped: {}", why())),
        // PENDING, IN_PROGRESS, STOP_REQUESTED, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS.
        _ => Progress::InProgress,
    }
}

/// PAUSE hooks waiting for `tug svc deploy --continue` or `--rollback`.
pub fn awaiting(d: &Deployment) -> Vec<&Hook> {
    d.hooks
        .iter()
        .filter(|h| h.status == "AWAITING_ACTION")
        .collect()
}

/// One line on the stage and traffic split, e.g. `TEST_TRAFFIC_SHIFT: production 0%, test 100%`.
pub fn describe_stage(d: &Deployment) -> String {
    let mut out = d.stage.clone().unwrap_or_else(|| d.status.clone());
    let mut split = Vec::new();
    if let Some(w) = d.production_weight {
        split.push(format!("production {}%", trim(w)));
    }
    if let Some(w) = d.test_weight {
        split.push(format!("test {}%", trim(w)));
    }
    if !split.is_empty() {
        out.push_str(&format!(": new revision gets {}", split.join(", ")));
    }
    out
}

fn trim(w: f64) -> String {
    if w.fract() == 0.0 {
        format!("{w:.0}")
    } else {
        format!("{w:.1}")
    }
}

fn epoch(t: Option<&aws_sdk_ecs::primitives::DateTime>) -> Option<f64> {
    t.map(|t| t.as_secs_f64())
}

fn rfc3339(t: Option<&aws_sdk_ecs::primitives::DateTime>) -> Option<String> {
    t.and_then(|t| {
        t.fmt(aws_sdk_ecs::primitives::DateTimeFormat::DateTime)
            .ok()
    })
}

impl From<&ServiceDeployment> for Deployment {
    fn from(d: &ServiceDeployment) -> Deployment {
        let target = d.target_service_revision();
        Deployment {
            arn: d.service_deployment_arn().unwrap_or_default().to_string(),
            status: d
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            status_reason: d.status_reason().map(str::to_string),
            stage: d.lifecycle_stage().map(|s| s.as_str().to_string()),
            created_at: epoch(d.created_at()),
            finished_at: epoch(d.finished_at().or(d.stopped_at())),
            strategy: d
                .deployment_configuration()
                .and_then(|c| c.strategy())
                .map(|s| s.as_str().to_string()),
            production_weight: target.and_then(|t| t.requested_production_traffic_weight()),
            test_weight: target.and_then(|t| t.requested_test_traffic_weight()),
            hooks: d
                .lifecycle_hook_details()
                .iter()
                .map(|h| Hook {
                    id: h.hook_id().unwrap_or_default().to_string(),
                    target_type: h
                        .target_type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    status: h
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    expires_at: rfc3339(h.expires_at()),
                    timeout_action: h.timeout_action().map(|a| a.as_str().to_string()),
                })
                .collect(),
            rollback_reason: d.rollback().and_then(|r| r.reason()).map(str::to_string),
        }
    }
}

/// The service's deployments, newest first (at most `limit`), or an error when ECS (or the
/// emulator) cannot list them.
pub async fn list(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    status: Option<ServiceDeploymentStatus>,
    limit: i32,
) -> Result<Vec<Deployment>> {
    let listed = ecs
        .list_service_deployments()
        .cluster(cluster)
        .service(service)
        .set_status(status.map(|s| vec![s]))
        .max_results(limit)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot list the deployments of {service}: {}",
                describe_error(&e)
            )
        })?;
    let arns: Vec<String> = listed
        .service_deployments()
        .iter()
        .filter_map(|d| d.service_deployment_arn().map(str::to_string))
        .collect();
    if arns.is_empty() {
        return Ok(Vec::new());
    }
    let described = ecs
        .describe_service_deployments()
        .set_service_deployment_arns(Some(arns))
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot describe the deployments of {service}: {}",
                describe_error(&e)
            )
        })?;
    let mut out: Vec<Deployment> = described
        .service_deployments()
        .iter()
        .map(Deployment::from)
        .collect();
    out.sort_by(|a, b| {
        b.created_at
            .unwrap_or(0.0)
            .total_cmp(&a.created_at.unwrap_or(0.0))
    });
    Ok(out)
}

/// The newest deployment created at or after `since` (seconds since the epoch, with a little
/// slack for clock skew): the one a deploy that began then started.
pub async fn started_since(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
    since: f64,
) -> Result<Option<Deployment>> {
    Ok(list(ecs, cluster, service, None, 5)
        .await?
        .into_iter()
        .find(|d| d.created_at.is_some_and(|c| c >= since - 60.0)))
}

/// The deployment in progress, if any.
pub async fn in_progress(
    ecs: &aws_sdk_ecs::Client,
    cluster: &str,
    service: &str,
) -> Result<Option<Deployment>> {
    Ok(list(ecs, cluster, service, None, 5)
        .await?
        .into_iter()
        .find(|d| assess(d) == Progress::InProgress))
}

/// Answers a PAUSE hook: go on, or roll back.
pub async fn answer_hook(
    ecs: &aws_sdk_ecs::Client,
    deployment: &str,
    hook: &str,
    rollback: bool,
) -> Result<()> {
    let action = if rollback {
        DeploymentLifecycleHookAction::Rollback
    } else {
        DeploymentLifecycleHookAction::Continue
    };
    ecs.continue_service_deployment()
        .service_deployment_arn(deployment)
        .hook_id(hook)
        .action(action)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            Error::failure(format!(
                "ECS refused to continue the deployment: {}",
                describe_error(&e)
            ))
        })
}

/// Stops a deployment in progress and rolls back to the previous revision.
pub async fn stop_with_rollback(ecs: &aws_sdk_ecs::Client, deployment: &str) -> Result<()> {
    ecs.stop_service_deployment()
        .service_deployment_arn(deployment)
        .stop_type(StopServiceDeploymentStopType::Rollback)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            Error::failure(format!(
                "ECS refused to stop the deployment: {}",
                describe_error(&e)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::primitives::DateTime;
    use aws_sdk_ecs::types::{
        DeploymentConfiguration, DeploymentLifecycleHookDetail, DeploymentLifecycleHookStatus,
        DeploymentLifecycleHookTargetType, DeploymentStrategy, Rollback,
        ServiceDeploymentLifecycleStage, ServiceRevisionSummary,
    };

    const ARN: &str =
        "arn:aws:ecs:us-east-1:123456789012:service-deployment/shop-test/checkout/a1b2c3";

    /// Built from a DescribeServiceDeployments answer recorded for a blue/green deployment
    /// of `checkout` (ECS, us-east-1): paused before production traffic moves.
    fn recorded_paused() -> ServiceDeployment {
        ServiceDeployment::builder()
            .service_deployment_arn(ARN)
            .status(ServiceDeploymentStatus::InProgress)
            .lifecycle_stage(ServiceDeploymentLifecycleStage::from(
                "PRE_PRODUCTION_TRAFFIC_SHIFT",
            ))
            .created_at(DateTime::from_secs(1_795_000_000))
            .deployment_configuration(
                DeploymentConfiguration::builder()
                    .strategy(DeploymentStrategy::BlueGreen)
                    .build(),
            )
            .target_service_revision(
                ServiceRevisionSummary::builder()
                    .arn("arn:aws:ecs:us-east-1:123456789012:service-revision/shop-test/checkout/9")
                    .requested_production_traffic_weight(0.0)
                    .requested_test_traffic_weight(100.0)
                    .build(),
            )
            .lifecycle_hook_details(
                DeploymentLifecycleHookDetail::builder()
                    .hook_id("hook-lambda-1")
                    .target_type(DeploymentLifecycleHookTargetType::AwsLambda)
                    .status(DeploymentLifecycleHookStatus::Succeeded)
                    .build(),
            )
            .lifecycle_hook_details(
                DeploymentLifecycleHookDetail::builder()
                    .hook_id("hook-pause-2")
                    .target_type(DeploymentLifecycleHookTargetType::Pause)
                    .status(DeploymentLifecycleHookStatus::AwaitingAction)
                    .expires_at(DateTime::from_secs(1_795_007_200))
                    .timeout_action(DeploymentLifecycleHookAction::Rollback)
                    .build(),
            )
            .build()
    }

    #[test]
    fn paused_deployment_waits_for_a_person() {
        let d = Deployment::from(&recorded_paused());
        assert_eq!(assess(&d), Progress::InProgress);
        assert_eq!(d.strategy.as_deref(), Some("BLUE_GREEN"));
        let waiting = awaiting(&d);
        assert_eq!(waiting.len(), 1);
        assert_eq!(waiting[0].id, "hook-pause-2");
        assert_eq!(waiting[0].timeout_action.as_deref(), Some("ROLLBACK"));
        assert_eq!(
            waiting[0].expires_at.as_deref(),
            Some("2026-11-18T13:06:40Z")
        );
        assert_eq!(
            describe_stage(&d),
            "PRE_PRODUCTION_TRAFFIC_SHIFT: new revision gets production 0%, test 100%"
        );
    }

    // Recorded: a canary deployment half-way (10 % of production traffic on the new revision).
    #[test]
    fn canary_split_is_shown() {
        let d = Deployment::from(
            &ServiceDeployment::builder()
                .service_deployment_arn(ARN)
                .status(ServiceDeploymentStatus::InProgress)
                .lifecycle_stage(ServiceDeploymentLifecycleStage::ProductionTrafficShift)
                .target_service_revision(
                    ServiceRevisionSummary::builder()
                        .requested_production_traffic_weight(10.0)
                        .build(),
                )
                .build(),
        );
        assert_eq!(
            describe_stage(&d),
            "PRODUCTION_TRAFFIC_SHIFT: new revision gets production 10%"
        );
        assert!(awaiting(&d).is_empty());
    }

    // Recorded: the deployment alarm fired during the bake time and ECS rolled back.
    #[test]
    fn alarm_rollback_is_a_rollback() {
        let d = Deployment::from(
            &ServiceDeployment::builder()
                .service_deployment_arn(ARN)
                .status(ServiceDeploymentStatus::RollbackSuccessful)
                .lifecycle_stage(ServiceDeploymentLifecycleStage::CleanUp)
                .rollback(
                    Rollback::builder()
                        .reason("Service deployment rolled back because the CloudWatch alarm shop-test-checkout-RollbackCPUAlarm is in ALARM state.")
                        .build(),
                )
                .build(),
        );
        match assess(&d) {
            Progress::RolledBack(why) => assert!(why.contains("RollbackCPUAlarm"), "{why}"),
            other => panic!("expected a rollback, got {other:?}"),
        }
    }

    #[test]
    fn outcomes() {
        let mut d = Deployment::from(&recorded_paused());
        d.status = "SUCCESSFUL".into();
        assert_eq!(assess(&d), Progress::Succeeded);
        d.status = "ROLLBACK_IN_PROGRESS".into();
        assert_eq!(assess(&d), Progress::InProgress);
        d.status = "STOPPED".into();
        d.status_reason = Some("stopped by user".into());
        assert_eq!(
            assess(&d),
            Progress::Failed("the deployment was stopped: stopped by user".into())
        );
        d.status = "ROLLBACK_FAILED".into();
        assert!(matches!(assess(&d), Progress::Failed(_)));
    }
}
