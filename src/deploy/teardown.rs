//! Removing what tug deployed: stacks (waiting for an operation in progress first) and ECR
//! repositories (with their images). Each removal is idempotent: something already gone is
//! reported as such, not as an error, so a delete that was interrupted can simply be run again.

use std::time::Instant;

use serde::Serialize;

use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::stack;

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

fn removal(
    kind: &'static str,
    name: &str,
    started: Instant,
    result: Result<bool, String>,
) -> Removal {
    let (result, detail) = match result {
        Ok(true) => ("deleted", None),
        Ok(false) => ("already gone", None),
        Err(e) => ("failed", Some(e)),
    };
    Removal {
        kind,
        name: name.to_string(),
        result,
        seconds: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        detail,
    }
}

/// Deletes stack `name` and waits until it is gone; `Ok(false)` when there was none.
async fn delete_stack_inner(aws: &Aws, name: &str, deadline: Instant) -> Result<bool, String> {
    let info = stack::wait_until_idle(aws, name, deadline, |_| {}).await?;
    if info.is_none() {
        return Ok(false);
    }
    stack::delete_and_wait(aws, name, deadline).await?;
    Ok(true)
}

/// Deletes a stack; the outcome says whether it was there.
pub async fn delete_stack(aws: &Aws, name: &str, deadline: Instant) -> Removal {
    let started = Instant::now();
    removal(
        "stack",
        name,
        started,
        delete_stack_inner(aws, name, deadline).await,
    )
}

/// Deletes several stacks at the same time.
pub async fn delete_stacks(aws: &Aws, names: &[String], deadline: Instant) -> Vec<Removal> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, name) in names.iter().enumerate() {
        let (aws, name) = (aws.clone(), name.clone());
        tasks.spawn(async move { (i, delete_stack(&aws, &name, deadline).await) });
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
                    Err(format!(
                        "cannot list the task definitions of {family}: {}",
                        describe_error(&e)
                    )),
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
                Err(format!("cannot deregister {arn}: {}", describe_error(&e))),
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
                Err(format!("cannot delete ECR repository {name}: {text}"))
            }
        }
    };
    removal("repository", name, started, result)
}

/// The application's ECR repositories (`<app>/...`).
pub async fn app_repositories(aws: &Aws, app: &str) -> Result<Vec<String>, String> {
    let prefix = format!("{app}/");
    let mut names = Vec::new();
    let mut pages = aws.ecr.describe_repositories().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| format!("cannot list ECR repositories: {}", describe_error(&e)))?;
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
