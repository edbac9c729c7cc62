//! The ECS side of a deploy: reading a service's deployments and deciding whether the new
//! revision rolled out, is still rolling out, failed, or was rolled back.
//!
//! The decision is a pure function of a [`ServiceView`], so it is tested with recorded
//! responses (including the circuit-breaker rollback that moto cannot produce); reading the
//! view from ECS sits behind the narrow [`RolloutSource`] trait.

use serde::Serialize;

use crate::error::{Error, Result};

/// One ECS deployment of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeploymentView {
    pub id: String,
    /// PRIMARY (the newest), ACTIVE (older, draining) or INACTIVE.
    pub status: String,
    /// IN_PROGRESS, COMPLETED or FAILED.
    pub rollout_state: Option<String>,
    pub rollout_reason: Option<String>,
    pub task_definition: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub failed: i32,
}

/// A service as the watcher sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceView {
    pub name: String,
    pub deployments: Vec<DeploymentView>,
    /// The newest service events first.
    pub events: Vec<String>,
}

impl ServiceView {
    pub fn primary(&self) -> Option<&DeploymentView> {
        self.deployments.iter().find(|d| d.status == "PRIMARY")
    }
}

/// Where a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    InProgress,
    Completed,
    /// The deployment failed (for example the circuit breaker stopped it).
    Failed(String),
    /// ECS went back to an earlier revision.
    RolledBack(String),
}

/// Judges the rollout of `expected` (the task definition the stack deployed; `None` when not
/// known yet, then any primary deployment counts).
pub fn assess(view: &ServiceView, expected: Option<&str>) -> Rollout {
    let Some(primary) = view.primary() else {
        return Rollout::InProgress;
    };
    let ours = expected.is_none_or(|e| same_task_definition(&primary.task_definition, e));
    match primary.rollout_state.as_deref() {
        Some("FAILED") => Rollout::Failed(
            primary
                .rollout_reason
                .clone()
                .unwrap_or_else(|| "the deployment failed".into()),
        ),
        Some("COMPLETED") if !ours => Rollout::RolledBack(format!(
            "ECS rolled the service back to {}{}",
            short_revision(&primary.task_definition),
            primary
                .rollout_reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        )),
        Some("COMPLETED") if primary.running >= primary.desired => Rollout::Completed,
        _ if !ours
            && view
                .deployments
                .iter()
                .any(|d| d.rollout_state.as_deref() == Some("FAILED")) =>
        {
            Rollout::RolledBack("the deployment failed and ECS is rolling back".into())
        }
        _ => Rollout::InProgress,
    }
}

/// Task definition ARNs compare by family and revision (`family:12`), whatever the prefix.
pub fn same_task_definition(a: &str, b: &str) -> bool {
    short_revision(a) == short_revision(b)
}

/// `arn:aws:ecs:…:task-definition/shop-test-web:12` → `shop-test-web:12`.
pub fn short_revision(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Service events that explain failures, newest first, at most `n`.
pub fn failure_events(view: &ServiceView, n: usize) -> Vec<String> {
    const KEYWORDS: &[&str] = &[
        "fail",
        "unhealthy",
        "error",
        "unable",
        "missing",
        "alarm",
        "rolling back",
        "stopped",
        "throttl",
    ];
    view.events
        .iter()
        .filter(|e| {
            let lower = e.to_ascii_lowercase();
            KEYWORDS.iter().any(|k| lower.contains(k))
        })
        .take(n)
        .cloned()
        .collect()
}

/// How far the primary deployment got, in words: `0 of 1 tasks running, 3 failed`.
pub fn progress_words(view: &ServiceView) -> String {
    match view.primary() {
        Some(p) => format!(
            "{} of {} task{} running, {}{} failed",
            p.running,
            p.desired,
            if p.desired == 1 { "" } else { "s" },
            if p.pending > 0 {
                format!("{} pending, ", p.pending)
            } else {
                String::new()
            },
            p.failed,
        ),
        None => "no deployment of the service yet".into(),
    }
}

/// What a time-out says about a service that had not rolled out: how many tasks run and
/// failed, why tasks stopped, the latest service events (all of them, not only those that
/// read as failures: a rollout that makes no progress often has no failure to show), and the
/// tug commands that follow the rollout (`args` is `-e ENV -n NAME`).
pub fn timeout_report(
    what: &str,
    view: Option<&ServiceView>,
    stopped: &[String],
    args: &str,
) -> String {
    let mut out = what.to_string();
    if let Some(view) = view {
        out.push_str(&format!(": {}", progress_words(view)));
        if !stopped.is_empty() {
            out.push_str(&format!(
                "\n  stopped tasks:\n    {}",
                stopped.join("\n    ")
            ));
        }
        let events: Vec<&String> = view.events.iter().take(5).collect();
        if !events.is_empty() {
            out.push_str("\n  latest service events:");
            for e in events {
                out.push_str(&format!("\n    {e}"));
            }
        }
    }
    out.push_str(&format!(
        "\n  the rollout goes on in AWS: follow it with `tug svc status {args}` and `tug svc logs {args}`"
    ));
    out
}

/// How often a line is due while a rollout makes no progress.
pub const STALL_LINE_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Decides when to say that a rollout is still stuck: a line is due when nothing was said
/// about the rollout for [`STALL_LINE_EVERY`], so a user (or a CI log) never sees a silent
/// minute while tasks fail.
#[derive(Debug)]
pub struct Stall {
    /// When the rollout last changed.
    since: std::time::Instant,
    /// When a line about it was last given.
    said: std::time::Instant,
}

impl Stall {
    pub fn new(now: std::time::Instant) -> Stall {
        Stall {
            since: now,
            said: now,
        }
    }

    /// The rollout changed (and that was reported).
    pub fn progressed(&mut self, now: std::time::Instant) {
        self.since = now;
        self.said = now;
    }

    /// `Some(how long without progress)` when a line is due now; then the line counts as
    /// said.
    pub fn due(&mut self, now: std::time::Instant) -> Option<std::time::Duration> {
        if now.saturating_duration_since(self.said) < STALL_LINE_EVERY {
            return None;
        }
        self.said = now;
        Some(now.saturating_duration_since(self.since))
    }
}

/// `95` → `1m35s`.
pub fn duration_words(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match (s / 60, s % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s:02}s"),
    }
}

/// Reads services from ECS.
pub trait RolloutSource {
    fn service(
        &self,
        cluster: &str,
        service: &str,
    ) -> impl std::future::Future<Output = Result<ServiceView>> + Send;
    /// Why recently stopped tasks of the service stopped.
    fn stopped_reasons(
        &self,
        cluster: &str,
        service: &str,
    ) -> impl std::future::Future<Output = Vec<String>> + Send;
}

impl RolloutSource for aws_sdk_ecs::Client {
    async fn service(&self, cluster: &str, service: &str) -> Result<ServiceView> {
        let out = self
            .describe_services()
            .cluster(cluster)
            .services(service)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot read ECS service {service}: {}",
                    crate::deploy::aws::describe_error(&e)
                )
            })?;
        let Some(s) = out.services().first() else {
            return Err(Error::failure(format!(
                "ECS service {service} was not found in cluster {cluster}"
            )));
        };
        Ok(ServiceView {
            name: s.service_name().unwrap_or(service).to_string(),
            deployments: s
                .deployments()
                .iter()
                .map(|d| DeploymentView {
                    id: d.id().unwrap_or_default().to_string(),
                    status: d.status().unwrap_or_default().to_string(),
                    rollout_state: d.rollout_state().map(|r| r.as_str().to_string()),
                    rollout_reason: d.rollout_state_reason().map(str::to_string),
                    task_definition: d.task_definition().unwrap_or_default().to_string(),
                    desired: d.desired_count(),
                    running: d.running_count(),
                    pending: d.pending_count().max(0),
                    failed: d.failed_tasks(),
                })
                .collect(),
            events: s
                .events()
                .iter()
                .filter_map(|e| e.message().map(str::to_string))
                .collect(),
        })
    }

    async fn stopped_reasons(&self, cluster: &str, service: &str) -> Vec<String> {
        let Ok(list) = self
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(aws_sdk_ecs::types::DesiredStatus::Stopped)
            .send()
            .await
        else {
            return Vec::new();
        };
        let arns: Vec<String> = list.task_arns().iter().take(10).cloned().collect();
        if arns.is_empty() {
            return Vec::new();
        }
        let Ok(tasks) = self
            .describe_tasks()
            .cluster(cluster)
            .set_tasks(Some(arns))
            .send()
            .await
        else {
            return Vec::new();
        };
        let mut reasons: Vec<String> = tasks
            .tasks()
            .iter()
            .filter_map(|t| {
                let mut r = t.stopped_reason()?.to_string();
                for c in t.containers() {
                    if let Some(reason) = c.reason() {
                        r.push_str(&format!(" ({}: {reason})", c.name().unwrap_or("container")));
                    }
                }
                Some(r)
            })
            .collect();
        reasons.sort();
        reasons.dedup();
        reasons.truncate(3);
        reasons
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(
        status: &str,
        state: &str,
        td: &str,
        desired: i32,
        running: i32,
    ) -> DeploymentView {
        DeploymentView {
            id: format!("ecs-svc/{td}"),
            status: status.into(),
            rollout_state: Some(state.into()),
            rollout_reason: None,
            task_definition: format!("arn:aws:ecs:us-east-1:123456789012:task-definition/{td}"),
            desired,
            running,
            pending: desired - running,
            failed: 0,
        }
    }

    fn view(deployments: Vec<DeploymentView>, events: &[&str]) -> ServiceView {
        ServiceView {
            name: "web".into(),
            deployments,
            events: events.iter().map(|e| e.to_string()).collect(),
        }
    }

    // Recorded from ECS: a rolling update that is still replacing tasks.
    #[test]
    fn rolling_update_in_progress() {
        let v = view(
            vec![
                deployment("PRIMARY", "IN_PROGRESS", "shop-test-web:8", 2, 1),
                deployment("ACTIVE", "COMPLETED", "shop-test-web:7", 2, 2),
            ],
            &[],
        );
        assert_eq!(
            assess(
                &v,
                Some("arn:aws:ecs:us-east-1:123456789012:task-definition/shop-test-web:8")
            ),
            Rollout::InProgress
        );
    }

    #[test]
    fn completed_when_primary_is_ours_and_running() {
        let v = view(
            vec![deployment("PRIMARY", "COMPLETED", "shop-test-web:8", 2, 2)],
            &[],
        );
        assert_eq!(assess(&v, Some("shop-test-web:8")), Rollout::Completed);
        let still_starting = view(
            vec![deployment("PRIMARY", "COMPLETED", "shop-test-web:8", 2, 1)],
            &[],
        );
        assert_eq!(
            assess(&still_starting, Some("shop-test-web:8")),
            Rollout::InProgress
        );
    }

    // Recorded from ECS: the deployment circuit breaker failed revision 9 and rolled back to 8.
    #[test]
    fn circuit_breaker_rollback_is_not_success() {
        let mut failed = deployment("ACTIVE", "FAILED", "shop-test-web:9", 2, 0);
        failed.rollout_reason =
            Some("ECS deployment circuit breaker: tasks failed to start.".into());
        failed.failed = 10;
        let v = view(
            vec![
                deployment("PRIMARY", "COMPLETED", "shop-test-web:8", 2, 2),
                failed,
            ],
            &[
                "(service web) (deployment ecs-svc/9) deployment failed: tasks failed to start.",
                "(service web) has reached a steady state.",
            ],
        );
        match assess(&v, Some("shop-test-web:9")) {
            Rollout::RolledBack(msg) => assert!(msg.contains("shop-test-web:8"), "{msg}"),
            other => panic!("expected a rollback, got {other:?}"),
        }
        assert_eq!(
            failure_events(&v, 5),
            ["(service web) (deployment ecs-svc/9) deployment failed: tasks failed to start."]
        );
    }

    #[test]
    fn failed_primary_is_a_failure() {
        let mut d = deployment("PRIMARY", "FAILED", "shop-test-web:9", 2, 0);
        d.rollout_reason = Some("ECS deployment circuit breaker: tasks failed to start.".into());
        match assess(&view(vec![d], &[]), Some("shop-test-web:9")) {
            Rollout::Failed(reason) => assert!(reason.contains("circuit breaker")),
            other => panic!("{other:?}"),
        }
    }

    // Recorded from ECS: a service whose new tasks exit at start (no task ever runs).
    fn stuck_view() -> ServiceView {
        let mut d = deployment("PRIMARY", "IN_PROGRESS", "shop-test-web:9", 1, 0);
        d.failed = 3;
        d.pending = 0;
        view(
            vec![
                d,
                deployment("ACTIVE", "COMPLETED", "shop-test-web:8", 1, 1),
            ],
            &[
                "(service shop-test-web-Service-7yKp2LwUq0Rd) has started 1 tasks: (task 5e1f0c2d8a7b4c3e9f6a1b2c3d4e5f60).",
                "(service shop-test-web-Service-7yKp2LwUq0Rd) has started 1 tasks: (task 0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d).",
                "(service shop-test-web-Service-7yKp2LwUq0Rd) has reached a steady state.",
            ],
        )
    }

    #[test]
    fn a_time_out_says_what_runs_what_failed_and_where_to_look() {
        let text = timeout_report(
            "the ECS service had not finished rolling out when the deadline passed",
            Some(&stuck_view()),
            &["Essential container in task exited (web: exit code 1)".into()],
            "-e test -n web",
        );
        assert_eq!(
            text,
            "the ECS service had not finished rolling out when the deadline passed: 0 of 1 task running, 3 failed
  stopped tasks:
    Essential container in task exited (web: exit code 1)
  latest service events:
    (service shop-test-web-Service-7yKp2LwUq0Rd) has started 1 tasks: (task 5e1f0c2d8a7b4c3e9f6a1b2c3d4e5f60).
    (service shop-test-web-Service-7yKp2LwUq0Rd) has started 1 tasks: (task 0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d).
    (service shop-test-web-Service-7yKp2LwUq0Rd) has reached a steady state.
  the rollout goes on in AWS: follow it with `tug svc status -e test -n web` and `tug svc logs -e test -n web`"
        );
        assert!(!text.contains("describe-stack-events"));
    }

    #[test]
    fn a_stalled_rollout_gets_a_line_every_30_seconds() {
        let t0 = std::time::Instant::now();
        let mut stall = Stall::new(t0);
        let at = |s: u64| t0 + std::time::Duration::from_secs(s);
        assert_eq!(stall.due(at(29)), None);
        assert_eq!(stall.due(at(30)), Some(std::time::Duration::from_secs(30)));
        assert_eq!(stall.due(at(45)), None);
        assert_eq!(stall.due(at(61)), Some(std::time::Duration::from_secs(61)));
        stall.progressed(at(70));
        assert_eq!(stall.due(at(99)), None);
        assert_eq!(stall.due(at(100)), Some(std::time::Duration::from_secs(30)));
        assert_eq!(duration_words(std::time::Duration::from_secs(95)), "1m35s");
        assert_eq!(duration_words(std::time::Duration::from_secs(30)), "30s");
        assert_eq!(duration_words(std::time::Duration::from_secs(120)), "2m");
    }
}
