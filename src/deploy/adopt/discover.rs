//! What AWS Copilot recorded and deployed for an application: its Parameter Store entries
//! (`/copilot/applications/<app>`, `.../environments/<env>`, `.../components/<name>`) and its
//! application-level stacks, which adoption lists and leaves alone.

use aws_sdk_ssm::error::ProvideErrorMetadata;
use serde::Serialize;

use crate::deploy::adopt::copilot;
use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::stack;

/// What Copilot knows about an application.
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    pub app: String,
    /// Whether `/copilot/applications/<app>` exists.
    pub registered: bool,
    /// Environments Copilot recorded.
    pub environments: Vec<String>,
    /// Workloads Copilot recorded: (name, type).
    pub workloads: Vec<(String, String)>,
    /// Application-level stacks and StackSets, left as they are.
    pub left_alone: Vec<String>,
}

/// Reads Copilot's records of `app`.
pub async fn discover(aws: &Aws, app: &str) -> Result<Discovery, String> {
    let root = copilot::application_parameter(app);
    let registered = match aws.ssm.get_parameter().name(&root).send().await {
        Ok(_) => true,
        Err(e) if e.code() == Some("ParameterNotFound") => false,
        Err(e) => {
            return Err(format!(
                "cannot read Copilot's record of application {app} ({root}): {}",
                describe_error(&e)
            ));
        }
    };
    let environments = names_under(aws, &format!("{root}/environments/"))
        .await?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let workloads = names_under(aws, &format!("{root}/components/"))
        .await?
        .into_iter()
        .map(|(name, value)| {
            let kind = serde_json::from_str::<serde_json::Value>(&value)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
                .unwrap_or_default();
            (name, kind)
        })
        .collect();
    let mut left_alone = Vec::new();
    let roles = copilot::roles_stack(app);
    if stack::describe(aws, &roles).await?.is_some() {
        left_alone.push(format!("stack {roles}"));
    }
    left_alone.push(format!(
        "StackSet {} (its ECR repositories and artifacts bucket are used as they are)",
        copilot::stack_set(app)
    ));
    Ok(Discovery {
        app: app.to_string(),
        registered,
        environments,
        workloads,
        left_alone,
    })
}

/// The parameters directly under `path`: (last path segment, value).
async fn names_under(aws: &Aws, path: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = aws
            .ssm
            .get_parameters_by_path()
            .path(path)
            .recursive(false)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| {
                format!(
                    "cannot read {path} in Parameter Store: {}",
                    describe_error(&e)
                )
            })?;
        for p in page.parameters() {
            let name = p.name().unwrap_or_default();
            let last = name.rsplit('/').next().unwrap_or(name).to_string();
            out.push((last, p.value().unwrap_or_default().to_string()));
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    out.sort();
    Ok(out)
}
