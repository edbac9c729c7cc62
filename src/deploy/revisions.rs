//! A service's deployment history, kept where ECS keeps the revisions themselves: every deploy
//! registers a task definition revision (the image digest and the whole container
//! configuration), workload stacks retain earlier revisions, and after each deploy tug tags
//! the revision it rolled out with how the deploy ended (`tug:outcome`), the strategy and the
//! time. `tug history` lists them; `tug svc rollback` picks the one to run again.

use aws_sdk_ecs::types::{TaskDefinitionField, TaskDefinitionStatus};
use serde::Serialize;

use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::events::timestamp;
use crate::error::{Error, Result};

/// Tag keys tug writes on a task definition revision after deploying it.
pub const OUTCOME_TAG: &str = "tug:outcome";
pub const STRATEGY_TAG: &str = "tug:strategy";
pub const DEPLOYED_AT_TAG: &str = "tug:deployed-at";
pub const VERSION_TAG: &str = "tug:version";

/// One task definition revision of a service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    pub arn: String,
    pub revision: i32,
    /// When ECS registered it (RFC 3339), when known.
    pub registered_at: Option<String>,
    /// When tug last deployed it.
    pub deployed_at: Option<String>,
    pub strategy: Option<String>,
    /// The image of the main container (a digest when tug resolved it).
    pub image: Option<String>,
    /// How the deploy that rolled it out ended, as tug recorded it (deployed, rolled back,
    /// failed, timed out, interrupted); `None` when tug did not record one.
    pub outcome: Option<String>,
    /// Whether the service's stack runs this revision now.
    pub current: bool,
    /// ACTIVE, or INACTIVE once deregistered.
    pub status: String,
}

/// A deployed service's stack, and where its service runs.
#[derive(Debug, Clone)]
pub struct ServiceStack {
    pub stack: String,
    /// The stack's status (UPDATE_IN_PROGRESS while CloudFormation waits for a deployment).
    pub status: String,
    pub cluster: String,
    pub service: String,
    /// The revision the stack runs now.
    pub task_definition: Option<String>,
    pub parameters: Vec<(String, String)>,
}

impl ServiceStack {
    /// The task definition family (`<app>-<env>-<workload>`).
    pub fn family(&self) -> Option<String> {
        self.task_definition
            .as_deref()
            .and_then(split_task_definition)
            .map(|(f, _)| f)
    }
}

/// Finds the service of a workload stack; a clear error when the stack or its service does
/// not exist.
pub async fn service_stack(aws: &Aws, stack: &str, workload: &str) -> Result<ServiceStack> {
    let Some(info) = crate::deploy::stack::describe(aws, stack).await? else {
        return Err(Error::failure(format!(
            "{workload} is not deployed in this environment (no stack {stack})"
        )));
    };
    let Some(arn) = crate::deploy::watch::physical_id(aws, stack, "Service").await else {
        return Err(Error::failure(format!(
            "{stack} has no ECS service; is {workload} a service?"
        )));
    };
    let (cluster, service) = crate::deploy::service_arn::locate(aws, stack, &arn).await?;
    let task_definition = match info.output("TaskDefinitionArn") {
        Some(td) => Some(td.to_string()),
        None => crate::deploy::watch::physical_id(aws, stack, "TaskDefinition").await,
    };
    Ok(ServiceStack {
        stack: stack.to_string(),
        status: info.status,
        cluster,
        service,
        task_definition,
        parameters: info.parameters,
    })
}

/// `...:task-definition/<family>:<revision>` → (family, revision).
pub fn split_task_definition(arn: &str) -> Option<(String, i32)> {
    let tail = arn.rsplit('/').next()?;
    let (family, revision) = tail.rsplit_once(':')?;
    Some((family.to_string(), revision.parse().ok()?))
}

/// The revisions of `family`, newest first, at most `limit`, with the one the stack runs now
/// (`current`) marked. `main_container` names the container whose image is reported.
pub async fn list(
    aws: &Aws,
    family: &str,
    main_container: &str,
    current: Option<&str>,
    limit: usize,
) -> Result<Vec<Revision>> {
    let mut arns: Vec<(i32, String)> = Vec::new();
    for status in [TaskDefinitionStatus::Active, TaskDefinitionStatus::Inactive] {
        let mut token: Option<String> = None;
        loop {
            let out = aws
                .ecs
                .list_task_definitions()
                .family_prefix(family)
                .status(status.clone())
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "cannot list the task definitions of {family}: {}",
                        describe_error(&e)
                    )
                })?;
            for arn in out.task_definition_arns() {
                // The prefix also matches longer family names.
                if let Some((f, n)) = split_task_definition(arn)
                    && f == family
                    && !arns.iter().any(|(m, _)| *m == n)
                {
                    arns.push((n, arn.clone()));
                }
            }
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    arns.sort_by_key(|a| std::cmp::Reverse(a.0));
    arns.truncate(limit);
    let current_revision = current.and_then(split_task_definition).map(|(_, n)| n);
    let mut out = Vec::new();
    for (n, arn) in arns {
        let described = aws
            .ecs
            .describe_task_definition()
            .task_definition(&arn)
            .include(TaskDefinitionField::Tags)
            .send()
            .await
            .map_err(|e| Error::failure(format!("cannot read {arn}: {}", describe_error(&e))))?;
        let tag = |key: &str| {
            described
                .tags()
                .iter()
                .find(|t| t.key() == Some(key))
                .and_then(|t| t.value())
                .map(str::to_string)
        };
        let td = described.task_definition();
        let image = td.and_then(|td| {
            let containers = td.container_definitions();
            containers
                .iter()
                .find(|c| c.name() == Some(main_container))
                .or(containers.first())
                .and_then(|c| c.image())
                .map(str::to_string)
        });
        out.push(Revision {
            arn: arn.clone(),
            revision: n,
            registered_at: td.and_then(|t| t.registered_at()).and_then(|t| {
                t.fmt(aws_sdk_ecs::primitives::DateTimeFormat::DateTime)
                    .ok()
            }),
            deployed_at: tag(DEPLOYED_AT_TAG),
            strategy: tag(STRATEGY_TAG),
            image,
            outcome: tag(OUTCOME_TAG),
            current: current_revision == Some(n),
            status: td
                .and_then(|t| t.status())
                .map_or("ACTIVE".into(), |s| s.as_str().to_string()),
        });
    }
    Ok(out)
}

/// Records how a deploy of `task_definition` ended, as tags on the revision.
pub async fn record(aws: &Aws, task_definition: &str, outcome: &str, strategy: &str) -> Result<()> {
    let tags = [
        (OUTCOME_TAG, outcome.to_string()),
        (STRATEGY_TAG, strategy.to_string()),
        (DEPLOYED_AT_TAG, timestamp()),
        (VERSION_TAG, env!("CARGO_PKG_VERSION").to_string()),
    ];
    let mut req = aws.ecs.tag_resource().resource_arn(task_definition);
    for (k, v) in tags {
        req = req.tags(aws_sdk_ecs::types::Tag::builder().key(k).value(v).build());
    }
    req.send().await.map(|_| ()).map_err(|e| {
        Error::failure(format!(
            "cannot record the outcome on {task_definition}: {}",
            describe_error(&e)
        ))
    })
}

/// The revision `tug svc rollback` goes back to: the given one (`--to`: a revision number or
/// an ARN), or else the newest revision older than the current one that deployed
/// successfully.
pub fn rollback_target<'a>(revisions: &'a [Revision], to: Option<&str>) -> Result<&'a Revision> {
    if let Some(to) = to {
        let wanted: Option<i32> = to
            .parse()
            .ok()
            .or_else(|| split_task_definition(to).map(|(_, n)| n));
        let Some(wanted) = wanted else {
            return Err(Error::failure(format!(
                "`--to {to}` is neither a revision number nor a task definition ARN"
            )));
        };
        return revisions
            .iter()
            .find(|r| r.revision == wanted)
            .ok_or_else(|| Error::failure(format!("revision {wanted} is not among this service's last revisions (see `tug history`)")));
    }
    let current = revisions
        .iter()
        .find(|r| r.current)
        .map_or(i32::MAX, |r| r.revision);
    revisions
        .iter()
        .find(|r| r.revision < current && r.outcome.as_deref() == Some("deployed"))
        .ok_or_else(|| {
            Error::failure("no earlier revision deployed successfully")
                .help("pick one with `--to REVISION` (see `tug history`)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rev(n: i32, outcome: Option<&str>, current: bool) -> Revision {
        Revision {
            arn: format!("arn:aws:ecs:us-east-1:123456789012:task-definition/shop-test-web:{n}"),
            revision: n,
            registered_at: None,
            deployed_at: None,
            strategy: None,
            image: None,
            outcome: outcome.map(str::to_string),
            current,
            status: "ACTIVE".into(),
        }
    }

    #[test]
    fn arns_split() {
        assert_eq!(
            split_task_definition("arn:aws:ecs:us-east-1:1:task-definition/shop-test-web:12"),
            Some(("shop-test-web".into(), 12))
        );
        assert_eq!(split_task_definition("nonsense"), None);
    }

    #[test]
    fn rollback_skips_failed_and_unrecorded_revisions() {
        let revs = [
            rev(9, Some("deployed"), true),
            rev(8, Some("rolled back"), false),
            rev(7, None, false),
            rev(6, Some("deployed"), false),
        ];
        assert_eq!(rollback_target(&revs, None).map(|r| r.revision), Ok(6));
        assert_eq!(rollback_target(&revs, Some("8")).map(|r| r.revision), Ok(8));
        assert_eq!(
            rollback_target(
                &revs,
                Some("arn:aws:ecs:us-east-1:1:task-definition/shop-test-web:7")
            )
            .map(|r| r.revision),
            Ok(7)
        );
        assert!(rollback_target(&revs, Some("3")).is_err());
        assert!(rollback_target(&revs, Some("x")).is_err());
        assert!(rollback_target(&revs[..2], None).is_err());
    }
}
