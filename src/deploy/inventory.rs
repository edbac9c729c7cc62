//! What is deployed: the application's environment and workload stacks as CloudFormation
//! reports them (status, last change, the tug version that deployed them, the image
//! parameters and outputs). Stacks are found by their `tug:app` / `tug:env` /
//! `tug:workload` tags, so a workload deployed once and since removed from the workspace is
//! still found. No other store: the stacks are the record.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::primitives::DateTimeFormat;
use aws_sdk_cloudformation::types::Stack;
use serde::Serialize;

use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::changeset::VERSION_TAG;
use crate::error::{Error, Result};
use crate::manifest::model::WorkloadKind;

/// One deployed stack of the application.
#[derive(Debug, Clone, Serialize)]
pub struct DeployedStack {
    pub stack: String,
    pub environment: String,
    /// `None` for an environment stack.
    pub workload: Option<String>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the stack last changed (RFC 3339): its last update, or its creation.
    pub updated: Option<String>,
    /// The tug version that deployed it (`tug:version` tag), when known.
    pub tug_version: Option<String>,
    /// The workload type, from the stack's description (`tug <type> <name> in ...`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The stack's ARN: it carries the account and Region.
    pub id: String,
    #[serde(skip)]
    pub parameters: BTreeMap<String, String>,
    #[serde(skip)]
    pub outputs: BTreeMap<String, String>,
}

impl DeployedStack {
    /// The image of the main container, as deployed.
    pub fn image(&self) -> Option<&str> {
        self.parameters.get("ContainerImage").map(String::as_str)
    }

    /// Every image parameter (`ContainerImage`, `<Sidecar>Image`) with its deployed value.
    pub fn images(&self) -> BTreeMap<String, String> {
        self.parameters
            .iter()
            .filter(|(k, _)| k.ends_with("Image"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The stack as JSON, with its main image.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        v["image"] = self.image().map_or(serde_json::Value::Null, |i| i.into());
        v
    }

    pub fn output(&self, key: &str) -> Option<&str> {
        self.outputs.get(key).map(String::as_str)
    }

    /// The account and Region of the stack, from its ARN
    /// (`arn:<partition>:cloudformation:<region>:<account>:stack/...`).
    pub fn account_and_region(&self) -> Option<(String, String)> {
        let mut parts = self.id.split(':');
        let region = parts.nth(3)?;
        let account = parts.next()?;
        if region.is_empty() || account.is_empty() {
            return None;
        }
        Some((account.to_string(), region.to_string()))
    }
}

fn tag<'a>(stack: &'a Stack, key: &str) -> Option<&'a str> {
    stack
        .tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// The workload type named by a stack description tug wrote.
fn kind_of(description: &str) -> Option<&'static str> {
    let rest = description.strip_prefix("tug ")?;
    WorkloadKind::ALL
        .into_iter()
        .map(WorkloadKind::as_str)
        .find(|k| rest.starts_with(&format!("{k} ")))
}

fn from_stack(stack: &Stack) -> Option<DeployedStack> {
    let status = stack.stack_status()?.as_str().to_string();
    if status == "DELETE_COMPLETE" {
        return None;
    }
    let updated = stack
        .last_updated_time()
        .or(stack.creation_time())
        .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok());
    Some(DeployedStack {
        stack: stack.stack_name()?.to_string(),
        environment: tag(stack, "tug:env")?.to_string(),
        workload: tag(stack, "tug:workload").map(str::to_string),
        status,
        reason: stack.stack_status_reason().map(str::to_string),
        updated,
        tug_version: tag(stack, VERSION_TAG).map(str::to_string),
        kind: stack.description().and_then(kind_of).map(str::to_string),
        id: stack.stack_id().unwrap_or_default().to_string(),
        parameters: stack
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_string(),
                    p.parameter_value()?.to_string(),
                ))
            })
            .collect(),
        outputs: stack
            .outputs()
            .iter()
            .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
            .collect(),
    })
}

/// Every stack of application `app` (tagged `tug:app`), environments and workloads, sorted
/// by name.
pub async fn app_stacks(aws: &Aws, app: &str) -> Result<Vec<DeployedStack>> {
    let mut out = Vec::new();
    let mut pages = aws.cfn.describe_stacks().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(|e| Error::failure(format!("cannot list stacks: {}", describe_error(&e))))?;
        for s in page.stacks() {
            if tag(s, "tug:app") == Some(app)
                && let Some(d) = from_stack(s)
            {
                out.push(d);
            }
        }
    }
    out.sort_by(|a, b| a.stack.cmp(&b.stack));
    Ok(out)
}

/// One stack by name; `Ok(None)` when it does not exist (or is deleted).
pub async fn stack(aws: &Aws, name: &str) -> Result<Option<DeployedStack>> {
    match aws.cfn.describe_stacks().stack_name(name).send().await {
        Ok(out) => Ok(out.stacks().first().and_then(|s| {
            let mut d = from_stack(s)?;
            // A stack deployed before tags existed still has its name.
            d.stack = name.to_string();
            Some(d)
        })),
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

/// What is deployed, grouped: environment stacks and workload stacks per environment.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub stacks: Vec<DeployedStack>,
}

impl Inventory {
    pub async fn read(aws: &Aws, app: &str) -> Result<Inventory> {
        Ok(Inventory {
            stacks: app_stacks(aws, app).await?,
        })
    }

    pub fn environment(&self, env: &str) -> Option<&DeployedStack> {
        self.stacks
            .iter()
            .find(|s| s.workload.is_none() && s.environment == env)
    }

    pub fn workload(&self, env: &str, name: &str) -> Option<&DeployedStack> {
        self.stacks
            .iter()
            .find(|s| s.environment == env && s.workload.as_deref() == Some(name))
    }

    /// The workload stacks of `env`.
    pub fn workloads_in(&self, env: &str) -> Vec<&DeployedStack> {
        self.stacks
            .iter()
            .filter(|s| s.environment == env && s.workload.is_some())
            .collect()
    }

    /// The environments of `name` where it is deployed.
    pub fn environments_of(&self, name: &str) -> Vec<&DeployedStack> {
        self.stacks
            .iter()
            .filter(|s| s.workload.as_deref() == Some(name))
            .collect()
    }

    /// Environments with a stack.
    pub fn environments(&self) -> Vec<&DeployedStack> {
        self.stacks
            .iter()
            .filter(|s| s.workload.is_none())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(id: &str) -> DeployedStack {
        DeployedStack {
            stack: "a-test-web".into(),
            environment: "test".into(),
            workload: Some("web".into()),
            status: "CREATE_COMPLETE".into(),
            reason: None,
            updated: None,
            tug_version: None,
            kind: None,
            id: id.into(),
            parameters: BTreeMap::from([
                ("ContainerImage".to_string(), "nginx".to_string()),
                ("OtelImage".to_string(), "otel".to_string()),
                ("Subnets".to_string(), "x".to_string()),
            ]),
            outputs: BTreeMap::new(),
        }
    }

    #[test]
    fn account_and_region_come_from_the_stack_arn() {
        let s = stack("arn:aws:cloudformation:eu-west-1:123456789012:stack/a-test-web/uuid");
        assert_eq!(
            s.account_and_region(),
            Some(("123456789012".into(), "eu-west-1".into()))
        );
        assert_eq!(stack("not-an-arn").account_and_region(), None);
    }

    #[test]
    fn types_come_from_descriptions() {
        assert_eq!(
            kind_of("tug Load Balanced Web Service web in environment test of application a"),
            Some("Load Balanced Web Service")
        );
        assert_eq!(kind_of("tug environment test of application a"), None);
    }

    #[test]
    fn images_are_the_image_parameters() {
        let s = stack("x");
        assert_eq!(s.image(), Some("nginx"));
        assert_eq!(
            s.images().into_keys().collect::<Vec<_>>(),
            ["ContainerImage", "OtelImage"]
        );
    }
}
