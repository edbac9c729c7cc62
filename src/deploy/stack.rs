//! CloudFormation stack states and the operations around them: reading a stack, waiting for
//! another operation to finish, deleting a stack that never got created.

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::StackStatus;

use crate::deploy::aws::{Aws, describe_error};
use crate::error::{Error, Result};

/// What a stack's status means for a deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No such stack (or it was deleted).
    Missing,
    /// An operation is running; a deploy must wait.
    Busy,
    /// Creation failed and rolled back: the stack holds nothing and must be deleted.
    FailedCreate,
    /// Stable and updatable.
    Stable,
    /// Stable after an update rolled back: updatable.
    RolledBack,
    /// Stuck (a failed rollback or delete): a person must act.
    Stuck,
    /// Created for a change set that was never executed: holds nothing; deploy with CREATE.
    Review,
}

/// Classifies a CloudFormation stack status string.
pub fn phase(status: &str) -> Phase {
    match status {
        "DELETE_COMPLETE" => Phase::Missing,
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => Phase::FailedCreate,
        "UPDATE_ROLLBACK_COMPLETE" => Phase::RolledBack,
        "UPDATE_ROLLBACK_FAILED" | "DELETE_FAILED" | "IMPORT_ROLLBACK_FAILED" => Phase::Stuck,
        "REVIEW_IN_PROGRESS" => Phase::Review,
        s if s.ends_with("_IN_PROGRESS") => Phase::Busy,
        _ => Phase::Stable,
    }
}

/// A stack as tug needs to see it.
#[derive(Debug, Clone)]
pub struct StackInfo {
    pub id: String,
    pub status: String,
    pub reason: Option<String>,
    pub outputs: Vec<(String, String)>,
    pub parameters: Vec<(String, String)>,
    /// The stack's tags: who owns it (`tug:app`, or Copilot's `copilot-*` tags).
    pub tags: Vec<(String, String)>,
}

impl StackInfo {
    pub fn output(&self, key: &str) -> Option<&str> {
        self.outputs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A resource of a stack: its logical id, type and physical id (when it has one yet).
#[derive(Debug, Clone)]
pub struct Resource {
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
}

/// The resources of a stack. DescribeStackResources rather than DescribeStackResource: one
/// call serves any resource, and it tolerates entries an emulator leaves incomplete.
pub async fn resources(aws: &Aws, name: &str) -> Result<Vec<Resource>> {
    let out = aws
        .cfn
        .describe_stack_resources()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot read the resources of {name}: {}",
                describe_error(&e)
            ))
        })?;
    Ok(out
        .stack_resources()
        .iter()
        .map(|r| Resource {
            logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
            resource_type: r.resource_type().unwrap_or_default().to_string(),
            physical_id: r.physical_resource_id().map(str::to_string),
        })
        .collect())
}

/// Reads a stack; `Ok(None)` when it does not exist.
pub async fn describe(aws: &Aws, name: &str) -> Result<Option<StackInfo>> {
    match aws.cfn.describe_stacks().stack_name(name).send().await {
        Ok(out) => {
            let Some(s) = out.stacks().first() else {
                return Ok(None);
            };
            let status = s
                .stack_status()
                .map(StackStatus::as_str)
                .unwrap_or("")
                .to_string();
            if status == "DELETE_COMPLETE" {
                return Ok(None);
            }
            Ok(Some(StackInfo {
                id: s.stack_id().unwrap_or(name).to_string(),
                status,
                reason: s.stack_status_reason().map(str::to_string),
                outputs: s
                    .outputs()
                    .iter()
                    .filter_map(|o| {
                        Some((o.output_key()?.to_string(), o.output_value()?.to_string()))
                    })
                    .collect(),
                parameters: s
                    .parameters()
                    .iter()
                    .filter_map(|p| {
                        Some((
                            p.parameter_key()?.to_string(),
                            p.parameter_value()?.to_string(),
                        ))
                    })
                    .collect(),
                tags: s
                    .tags()
                    .iter()
                    .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                    .collect(),
            }))
        }
        Err(e) => {
            let text = describe_error(&e);
            if text.contains("does not exist") {
                Ok(None)
            } else {
                Err(Error::failure(format!("cannot read stack {name}: {text}")))
            }
        }
    }
}

/// Waits while another operation runs on the stack, up to `deadline`. `on_wait` is told the
/// status once, when waiting starts.
pub async fn wait_until_idle(
    aws: &Aws,
    name: &str,
    deadline: Instant,
    mut on_wait: impl FnMut(&str),
) -> Result<Option<StackInfo>> {
    let mut told = false;
    let mut delay = Duration::from_millis(500);
    loop {
        let info = describe(aws, name).await?;
        match &info {
            Some(s) if phase(&s.status) == Phase::Busy => {
                if !told {
                    on_wait(&s.status);
                    told = true;
                }
                if Instant::now() + delay > deadline {
                    return Err(Error::failure(format!(
                        "stack {name} is still {} after waiting; another deploy may be running",
                        s.status
                    ))
                    .help("try again when it finishes, or raise --timeout"));
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            _ => return Ok(info),
        }
    }
}

/// Deletes a stack and waits until it is gone.
pub async fn delete_and_wait(aws: &Aws, name: &str, deadline: Instant) -> Result<()> {
    aws.cfn
        .delete_stack()
        .stack_name(name)
        .client_request_token(crate::deploy::aws::request_token())
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot delete stack {name}: {}",
                describe_error(&e)
            ))
        })?;
    let mut delay = Duration::from_millis(500);
    loop {
        match describe(aws, name).await? {
            None => return Ok(()),
            Some(s) if s.status == "DELETE_FAILED" => {
                return Err(Error::failure(format!(
                    "stack {name} could not be deleted: {}",
                    s.reason.unwrap_or_else(|| "no reason given".into())
                )));
            }
            Some(_) if Instant::now() + delay > deadline => {
                return Err(Error::failure(format!(
                    "stack {name} is still being deleted; run the deploy again once it is gone"
                )));
            }
            Some(_) => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases() {
        assert_eq!(phase("CREATE_COMPLETE"), Phase::Stable);
        assert_eq!(phase("UPDATE_COMPLETE"), Phase::Stable);
        assert_eq!(phase("UPDATE_IN_PROGRESS"), Phase::Busy);
        assert_eq!(
            phase("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"),
            Phase::Busy
        );
        assert_eq!(phase("ROLLBACK_COMPLETE"), Phase::FailedCreate);
        assert_eq!(phase("UPDATE_ROLLBACK_COMPLETE"), Phase::RolledBack);
        assert_eq!(phase("UPDATE_ROLLBACK_FAILED"), Phase::Stuck);
        assert_eq!(phase("REVIEW_IN_PROGRESS"), Phase::Review);
    }
}
