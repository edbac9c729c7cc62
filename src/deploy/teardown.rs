//! Removing what tug deployed: stacks (waiting for an operation in progress first) and ECR
//! repositories (with their images). Each removal is idempotent: something already gone is
//! reported as such, not as an error, so a delete that was interrupted can simply be run again.

use std::time::Instant;

use serde::Serialize;

use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::ownership;
use crate::deploy::replacement;
use crate::deploy::stack;
use crate::error::{Error, Result};

/// What one removal did.
#[derive(Debug, Clone, Serialize)]
pub struct Removal {
    /// `stack`, `task definitions` or `repository`.
    pub kind: &'static str,
    pub name: String,
    /// `deleted`, `already gone` or `failed`.
    pub result: &'static str,
    pub seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Removal {
    pub fn failed(&self) -> bool {
        self.result == "failed"
    }
}

fn removal(kind: &'static str, name: &str, started: Instant, result: Result<bool>) -> Removal {
    let (result, detail) = match result {
        Ok(true) => ("deleted", None),
        Ok(false) => ("already gone", None),
        Err(e) => ("failed", Some(e.to_string())),
    };
    Removal {
        kind,
        name: name.to_string(),
        result,
        seconds: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        detail,
    }
}

/// Deletes stack `name` of application `app` and waits until it is gone; `Ok(false)` when
/// there was none. A stack tug does not own is refused, read again right before the delete.
async fn delete_stack_inner(aws: &Aws, name: &str, app: &str, deadline: Instant) -> Result<bool> {
    let Some(info) = stack::wait_until_idle(aws, name, deadline, |_| {}).await? else {
        return Ok(false);
    };
    if let Some(why) = ownership::check(&info, name, app, "delete") {
        return Err(why);
    }
    stack::delete_and_wait(aws, name, deadline).await?;
    Ok(true)
}

/// Deletes a stack of application `app`; the outcome says whether it was there.
pub async fn delete_stack(aws: &Aws, name: &str, app: &str, deadline: Instant) -> Removal {
    let started = Instant::now();
    removal(
        "stack",
        name,
        started,
        delete_stack_inner(aws, name, app, deadline).await,
    )
}

/// Deletes several stacks of application `app` at the same time.
pub async fn delete_stacks(
    aws: &Aws,
    names: &[String],
    app: &str,
    deadline: Instant,
) -> Vec<Removal> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, name) in names.iter().enumerate() {
        let (aws, name, app) = (aws.clone(), name.clone(), app.to_string());
        tasks.spawn(async move { (i, delete_stack(&aws, &name, &app, deadline).await) });
    }
    let mut out = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(r) => out.push(r),
            Err(e) => out.push((
                usize::MAX,
                Removal {
                    kind: "stack",
                    name: "?".into(),
                    result: "failed",
                    seconds: 0.0,
                    detail: Some(format!("internal error: {e}")),
                },
            )),
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// A resource a delete loses or leaves behind, for the plan and the report.
#[derive(Debug, Clone, Serialize)]
pub struct Holding {
    pub stack: String,
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
}

impl Holding {
    /// `SQS queue https://... (Queue)`: what it is, in words.
    pub fn describe(&self) -> String {
        if self.stack.is_empty() {
            return format!(
                "{} {} ({}, in no stack)",
                what_it_holds(&self.resource_type).map_or(self.resource_type.as_str(), |(w, _)| w),
                self.physical_id.as_deref().unwrap_or("(not created)"),
                self.logical_id
            );
        }
        format!(
            "{} {} ({}, stack {})",
            what_it_holds(&self.resource_type).map_or(self.resource_type.as_str(), |(w, _)| w),
            self.physical_id.as_deref().unwrap_or("(not created)"),
            self.logical_id,
            self.stack
        )
    }

    /// What is lost with it: `its messages`, `its log events`...
    pub fn loss(&self) -> &'static str {
        what_it_holds(&self.resource_type).map_or("its data", |(_, l)| l)
    }
}

/// Resource types that hold data a delete loses, in words: (what it is, what is lost).
fn what_it_holds(resource_type: &str) -> Option<(&'static str, &'static str)> {
    Some(match resource_type {
        "AWS::SQS::Queue" => ("SQS queue", "the messages in it"),
        "AWS::SNS::Topic" => ("SNS topic", "its subscriptions"),
        "AWS::Logs::LogGroup" => ("log group", "its log events"),
        "AWS::EFS::FileSystem" => ("EFS file system", "its files"),
        "AWS::S3::Bucket" => ("S3 bucket", "its objects"),
        "AWS::ECR::Repository" => ("ECR repository", "its images"),
        "AWS::CloudFormation::Stack" => (
            "nested stack",
            "everything it holds (addons: databases, buckets, tables)",
        ),
        "AWS::Route53::RecordSet" => ("DNS record", "the name it answers"),
        // What addons commonly hold.
        "AWS::DynamoDB::Table" => ("DynamoDB table", "its items"),
        "AWS::RDS::DBCluster" => ("RDS cluster", "its databases"),
        "AWS::RDS::DBInstance" => ("RDS instance", "its databases"),
        "AWS::SecretsManager::Secret" => ("secret", "its value"),
        "AWS::OpenSearchService::Domain" => ("OpenSearch domain", "its indices"),
        "AWS::ElastiCache::ReplicationGroup" => ("ElastiCache replication group", "its cache"),
        _ => return None,
    })
}

/// What deleting a stack loses and what it leaves behind (resources with `DeletionPolicy:
/// Retain`, which CloudFormation keeps in the account).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Survey {
    pub lost: Vec<Holding>,
    pub retained: Vec<Holding>,
}

/// How deep [`survey`] reads nested stacks (addons are one level; an addon may nest more).
const MAX_NESTING: usize = 3;

/// Reads a stack's resources and template to say what a delete loses and keeps. Task
/// definition revisions are left out: tug deregisters those itself after the delete. A nested
/// stack (the addons stack) is read too: what it holds is listed in its place, as deleting the
/// parent deletes it.
pub async fn survey(aws: &Aws, name: &str) -> Result<Survey> {
    survey_nested(aws, name.to_string(), 0).await
}

fn survey_nested(
    aws: &Aws,
    name: String,
    depth: usize,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Survey>> + Send + '_>> {
    Box::pin(async move { survey_one(aws, &name, depth).await })
}

/// The stack name in a stack ARN (`arn:...:stack/<name>/<id>`), or the text itself.
fn stack_name_of(id: &str) -> &str {
    id.split_once(":stack/")
        .and_then(|(_, rest)| rest.split('/').next())
        .unwrap_or(id)
}

async fn survey_one(aws: &Aws, name: &str, depth: usize) -> Result<Survey> {
    let resources = stack::resources(aws, name).await?;
    let template = match aws.cfn.get_template().stack_name(name).send().await {
        Ok(out) => replacement::parse_template(out.template_body().unwrap_or_default()),
        Err(e) => {
            return Err(Error::failure(format!(
                "cannot read the template of {name}: {}",
                describe_error(&e)
            )));
        }
    };
    let mut out = Survey::default();
    for r in resources {
        if r.resource_type == "AWS::ECS::TaskDefinition" {
            continue;
        }
        let policy = template
            .get("Resources")
            .and_then(|rs| rs.get(&r.logical_id))
            .and_then(|d| d.get("DeletionPolicy"))
            .and_then(|p| p.as_str());
        let holding = Holding {
            stack: name.to_string(),
            logical_id: r.logical_id,
            resource_type: r.resource_type,
            physical_id: r.physical_id,
        };
        if matches!(policy, Some("Retain" | "RetainExceptOnCreate")) {
            out.retained.push(holding);
        } else if holding.resource_type == "AWS::CloudFormation::Stack"
            && depth < MAX_NESTING
            && let Some(id) = holding.physical_id.as_deref()
            && let Ok(inner) = survey_nested(aws, id.to_string(), depth + 1).await
        {
            // What the nested stack holds, under its own name; one that cannot be read
            // falls through to the branch below and is listed whole.
            let nested = stack_name_of(id).to_string();
            out.lost.extend(inner.lost.into_iter().map(|h| Holding {
                stack: if h.stack == id {
                    nested.clone()
                } else {
                    h.stack
                },
                ..h
            }));
            out.retained
                .extend(inner.retained.into_iter().map(|h| Holding {
                    stack: if h.stack == id {
                        nested.clone()
                    } else {
                        h.stack
                    },
                    ..h
                }));
        } else if what_it_holds(&holding.resource_type).is_some() {
            out.lost.push(holding);
        }
    }
    Ok(out)
}

/// Deregisters the task definition revisions a deleted workload stack leaves registered
/// (service stacks retain earlier revisions so that `tug svc rollback` can run them again).
/// `None` when there were none.
pub async fn deregister_revisions(aws: &Aws, family: &str) -> Option<Removal> {
    let started = Instant::now();
    let mut arns = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = match aws
            .ecs
            .list_task_definitions()
            .family_prefix(family)
            .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
            .set_next_token(token.clone())
            .send()
            .await
        {
            Ok(p) => p,
            Err(e) => {
                return Some(removal(
                    "task definitions",
                    family,
                    started,
                    Err(Error::failure(format!(
                        "cannot list the task definitions of {family}: {}",
                        describe_error(&e)
                    ))),
                ));
            }
        };
        arns.extend(
            page.task_definition_arns()
                .iter()
                .filter(|a| {
                    crate::deploy::revisions::split_task_definition(a)
                        .is_some_and(|(f, _)| f == family)
                })
                .cloned(),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    if arns.is_empty() {
        return None;
    }
    for arn in &arns {
        if let Err(e) = aws
            .ecs
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
        {
            return Some(removal(
                "task definitions",
                family,
                started,
                Err(Error::failure(format!(
                    "cannot deregister {arn}: {}",
                    describe_error(&e)
                ))),
            ));
        }
    }
    Some(removal("task definitions", family, started, Ok(true)))
}

/// Deletes an ECR repository and every image in it; `already gone` when it does not exist.
pub async fn delete_repository(aws: &Aws, name: &str) -> Removal {
    let started = Instant::now();
    let result = match aws
        .ecr
        .delete_repository()
        .repository_name(name)
        .force(true)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) => {
            let text = describe_error(&e);
            if text.contains("RepositoryNotFound") || text.contains("does not exist") {
                Ok(false)
            } else {
                Err(Error::failure(format!(
                    "cannot delete ECR repository {name}: {text}"
                )))
            }
        }
    };
    removal("repository", name, started, result)
}

/// The application's ECR repositories (`<app>/...`).
pub async fn app_repositories(aws: &Aws, app: &str) -> Result<Vec<String>> {
    let prefix = format!("{app}/");
    let mut names = Vec::new();
    let mut pages = aws.ecr.describe_repositories().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            Error::failure(format!(
                "cannot list ECR repositories: {}",
                describe_error(&e)
            ))
        })?;
        names.extend(
            page.repositories()
                .iter()
                .filter_map(|r| r.repository_name())
                .filter(|n| n.starts_with(&prefix))
                .map(str::to_string),
        );
    }
    names.sort();
    Ok(names)
}
