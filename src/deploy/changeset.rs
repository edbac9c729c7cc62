//! Change sets: create one (CREATE or UPDATE), wait until CloudFormation has computed it, read
//! what it would change, execute or discard it. An empty change set is "no changes".

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::{
    Capability, ChangeSetStatus, ChangeSetType, Parameter, RequiresRecreation,
    ResourceChangeDetail, Tag,
};

use crate::deploy::artifacts;
use crate::deploy::aws::{Aws, describe_error, request_token};
use crate::deploy::ownership::APP_TAG;
use crate::error::{Error, Result};
use crate::render::RenderedStack;

/// CloudFormation accepts a template body of at most this many bytes; larger ones are sent by
/// URL from the application's artifacts bucket.
pub const MAX_TEMPLATE_BODY: usize = 51_200;

/// One resource-level change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResourceChange {
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    pub replacement: Option<String>,
    /// The properties CloudFormation says force a new resource (always or conditionally).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

/// A computed change set.
#[derive(Debug, Clone)]
pub enum Prepared {
    /// Nothing would change; the change set was deleted.
    Empty,
    Ready {
        id: String,
        changes: Vec<ResourceChange>,
        creating: bool,
    },
}

/// The stack tag naming the tug version that deployed the stack.
pub const VERSION_TAG: &str = "tug:version";

/// Creates a change set for `stack` and waits for it. `creating` selects CREATE.
pub async fn prepare(
    aws: &Aws,
    stack: &RenderedStack,
    parameters: &[(String, String)],
    creating: bool,
    deadline: Instant,
) -> Result<Prepared> {
    match create(aws, stack, parameters, creating).await? {
        Some(id) => wait_for(aws, stack, id, creating, deadline).await,
        None => Ok(Prepared::Empty),
    }
}

/// Sends CreateChangeSet; the change set's id, or `None` when the endpoint refused an empty
/// change set outright.
async fn create(
    aws: &Aws,
    stack: &RenderedStack,
    parameters: &[(String, String)],
    creating: bool,
) -> Result<Option<String>> {
    let name = request_token();
    let mut req = aws
        .cfn
        .create_change_set()
        .stack_name(&stack.stack_name)
        .change_set_name(&name)
        // The SDK sends the same token on every retry: a retry after a lost answer is
        // recognised by CloudFormation rather than taken for a second change set.
        .client_token(&name)
        .change_set_type(if creating {
            ChangeSetType::Create
        } else {
            ChangeSetType::Update
        })
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        // As Copilot did: an addons nested stack may use `Transform` (SAM, `AWS::Include`),
        // which CloudFormation expands only with this capability.
        .capabilities(Capability::CapabilityAutoExpand)
        .description(format!("tug {}", crate::render::VERSION));
    req = if stack.template.len() > MAX_TEMPLATE_BODY {
        req.template_url(upload_template(aws, stack).await?)
    } else {
        req.template_body(&stack.template)
    };
    for (k, v) in parameters {
        // A placeholder (`<...>`: a value only a deploy can know) keeps the stack's value;
        // only `tug diff` sends them, deploys refuse them first.
        let p = if v.starts_with('<') && !creating {
            Parameter::builder()
                .parameter_key(k)
                .use_previous_value(true)
        } else {
            Parameter::builder().parameter_key(k).parameter_value(v)
        };
        req = req.parameters(p.build());
    }
    for (k, v) in &stack.tags {
        req = req.tags(Tag::builder().key(k).value(v).build());
    }
    // Which tug deployed the stack: a deploy-time fact, so it is not in the rendered
    // parameters file (which a pipeline may deploy without tug).
    if !stack.tags.contains_key(VERSION_TAG) {
        req = req.tags(
            Tag::builder()
                .key(VERSION_TAG)
                .value(crate::render::VERSION)
                .build(),
        );
    }
    match req.send().await {
        Ok(c) => Ok(Some(c.id().unwrap_or(&name).to_string())),
        // Some endpoints refuse an empty change set outright instead of failing it.
        Err(e) if is_empty_reason(&describe_error(&e)) => Ok(None),
        Err(e) => {
            let text = describe_error(&e);
            // A retry whose first attempt went through but whose answer was lost: the change
            // set of this very name is ours, and the deploy goes on with it.
            if text.contains("AlreadyExists") || text.contains("already exists") {
                Ok(Some(name))
            } else {
                Err(Error::failure(format!(
                    "cannot create a change set for {}: {text}",
                    stack.stack_name
                )))
            }
        }
    }
}

/// Waits until CloudFormation has computed change set `id`, and reads its changes; an empty
/// change set is deleted.
async fn wait_for(
    aws: &Aws,
    stack: &RenderedStack,
    id: String,
    creating: bool,
    deadline: Instant,
) -> Result<Prepared> {
    let mut delay = Duration::from_millis(200);
    loop {
        let d = aws
            .cfn
            .describe_change_set()
            .change_set_name(&id)
            .stack_name(&stack.stack_name)
            .send()
            .await
            .map_err(|e| {
                Error::failure(format!(
                    "cannot read change set {id}: {}",
                    describe_error(&e)
                ))
            })?;
        match d.status() {
            Some(ChangeSetStatus::CreateComplete) => {
                let changes = all_changes(aws, stack, &id, d).await?;
                return Ok(Prepared::Ready {
                    id,
                    changes,
                    creating,
                });
            }
            Some(ChangeSetStatus::Failed) => {
                let reason = d.status_reason().unwrap_or("no reason given").to_string();
                if is_empty_reason(&reason) {
                    discard(aws, &stack.stack_name, &id).await;
                    return Ok(Prepared::Empty);
                }
                return Err(Error::failure(format!(
                    "CloudFormation rejected the change set for {}: {reason}",
                    stack.stack_name
                )));
            }
            _ => {
                if Instant::now() + delay > deadline {
                    return Err(Error::failure(format!(
                        "the change set for {} was not ready before the deadline",
                        stack.stack_name
                    )));
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// The resource changes of a computed change set, from every page (a large change set comes
/// in pages); `first` is the first page.
async fn all_changes(
    aws: &Aws,
    stack: &RenderedStack,
    id: &str,
    first: aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput,
) -> Result<Vec<ResourceChange>> {
    let mut changes = resource_changes(&first);
    let mut token = first.next_token().map(str::to_string);
    while let Some(t) = token {
        let page = aws
            .cfn
            .describe_change_set()
            .change_set_name(id)
            .stack_name(&stack.stack_name)
            .next_token(t)
            .send()
            .await
            .map_err(|e| {
                Error::failure(format!(
                    "cannot read change set {id}: {}",
                    describe_error(&e)
                ))
            })?;
        changes.extend(resource_changes(&page));
        token = page.next_token().map(str::to_string);
    }
    Ok(changes)
}

/// Puts a template too large to send inline into the application's artifacts bucket, and
/// returns its URL for `TemplateURL`.
async fn upload_template(aws: &Aws, stack: &RenderedStack) -> Result<String> {
    let app = stack.tags.get(APP_TAG).ok_or_else(|| {
        Error::failure(format!(
            "the template of {} is {} bytes, more than the {MAX_TEMPLATE_BODY} bytes CloudFormation accepts inline, and the stack names no application to upload it for",
            stack.stack_name,
            stack.template.len()
        ))
    })?;
    let bucket = artifacts::Bucket::of(aws, app).await?;
    let key = artifacts::template_key(&stack.stack_name, &stack.template);
    artifacts::put_once(
        aws,
        &bucket,
        app,
        &key,
        stack.template.clone().into_bytes(),
        "application/x-yaml",
    )
    .await
    .map_err(|e| {
        Error::failure(format!(
            "the template of {} is {} bytes, more than the {MAX_TEMPLATE_BODY} bytes CloudFormation accepts inline, and uploading it failed: {e}",
            stack.stack_name,
            stack.template.len()
        ))
    })?;
    Ok(bucket.object_url(&key))
}

/// The resource changes of one page of a change set.
fn resource_changes(
    d: &aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput,
) -> Vec<ResourceChange> {
    d.changes()
        .iter()
        .filter_map(|c| c.resource_change())
        .map(|r| ResourceChange {
            action: r
                .action()
                .map(|a| a.as_str().to_string())
                .unwrap_or_default(),
            logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
            resource_type: r.resource_type().unwrap_or_default().to_string(),
            replacement: r.replacement().map(|x| x.as_str().to_string()),
            details: recreated_properties(r.details()),
        })
        .collect()
}

/// The properties a resource change's details say force a new resource.
fn recreated_properties(details: &[ResourceChangeDetail]) -> Vec<String> {
    let mut out: Vec<String> = details
        .iter()
        .filter_map(|d| d.target())
        .filter(|t| {
            matches!(
                t.requires_recreation(),
                Some(RequiresRecreation::Always | RequiresRecreation::Conditionally)
            )
        })
        .filter_map(|t| t.name().map(str::to_string))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether a failed change set only means "nothing to do".
pub fn is_empty_reason(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

/// Executes a change set. A retry whose first attempt went through (its answer lost) meets
/// a change set already executing or executed: that is this deploy's own execution, and
/// success.
pub async fn execute(aws: &Aws, stack_name: &str, id: &str) -> Result<()> {
    let token = request_token();
    let err = match aws
        .cfn
        .execute_change_set()
        .change_set_name(id)
        .stack_name(stack_name)
        .client_request_token(&token)
        .send()
        .await
    {
        Ok(_) => return Ok(()),
        Err(e) => describe_error(&e),
    };
    if err.contains("InvalidChangeSetStatus")
        || err.contains("cannot be executed in its current status")
    {
        let status = aws
            .cfn
            .describe_change_set()
            .change_set_name(id)
            .stack_name(stack_name)
            .send()
            .await
            .ok()
            .and_then(|d| d.execution_status().map(|s| s.as_str().to_string()));
        if matches!(
            status.as_deref(),
            Some("EXECUTE_IN_PROGRESS" | "EXECUTE_COMPLETE")
        ) {
            return Ok(());
        }
    }
    Err(Error::failure(format!(
        "cannot execute the change set for {stack_name}: {err}"
    )))
}

pub async fn discard(aws: &Aws, stack_name: &str, id: &str) {
    let _ = aws
        .cfn
        .delete_change_set()
        .change_set_name(id)
        .stack_name(stack_name)
        .send()
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_reasons() {
        assert!(is_empty_reason(
            "The submitted information didn't contain changes. Submit different information to create a change set."
        ));
        assert!(is_empty_reason("No updates are to be performed."));
        assert!(!is_empty_reason(
            "Template format error: Unresolved resource dependencies [X]"
        ));
    }
}
