//! What AWS Copilot recorded and deployed for an application: its Parameter Store entries
//! (`/copilot/applications/<app>`, `.../environments/<env>`, `.../components/<name>`) and its
//! application-level stacks, which adoption lists and leaves alone; and the application's
//! domain (`copilot app init --domain`): the record's domain and zone, and the application's
//! zone `<app>.<domain>`, found in Route 53 by name as Copilot's application stack named it.

use aws_sdk_ssm::error::ProvideErrorMetadata;
use serde::Serialize;

use crate::deploy::adopt::copilot;
use crate::deploy::app_domain;
use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::stack;
use crate::error::Error;
use crate::manifest::domain::AppDomain;

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
    /// The application's domain, when Copilot's record has one.
    #[serde(serialize_with = "domain_json")]
    pub domain: Option<AppDomain>,
}

fn domain_json<S: serde::Serializer>(d: &Option<AppDomain>, s: S) -> Result<S::Ok, S::Error> {
    d.as_ref()
        .map(|d| {
            serde_json::json!({
                "name": d.name,
                "hosted_zone": d.hosted_zone,
                "app_hosted_zone": d.app_hosted_zone,
            })
        })
        .serialize(s)
}

/// Reads Copilot's records of `app`.
pub async fn discover(aws: &Aws, app: &str) -> Result<Discovery, Error> {
    let root = copilot::application_parameter(app);
    let (registered, record) = match aws.ssm.get_parameter().name(&root).send().await {
        Ok(out) => (
            true,
            out.parameter()
                .and_then(|p| p.value())
                .unwrap_or_default()
                .to_string(),
        ),
        Err(e) if e.code() == Some("ParameterNotFound") => (false, String::new()),
        Err(e) => {
            return Err(Error::failure(format!(
                "cannot read Copilot's record of application {app} ({root}): {}",
                describe_error(&e)
            )));
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
    let domain = match copilot::application_domain(&record) {
        Some((name, zone)) => Some(domain(aws, app, name, zone).await?),
        None => None,
    };
    Ok(Discovery {
        app: app.to_string(),
        registered,
        environments,
        workloads,
        left_alone,
        domain,
    })
}

/// The application's domain with its two zones: the domain's from Copilot's record (looked up
/// by name when the record has no id) and the application's `<app>.<domain>`, which Copilot's
/// application stack created and delegated.
async fn domain(aws: &Aws, app: &str, name: String, zone: String) -> Result<AppDomain, Error> {
    let hosted_zone = if zone.is_empty() {
        app_domain::public_zone(aws, &name).await?.ok_or_else(|| {
            format!("Copilot's application {app} has the domain {name}, but this account has no public Route 53 hosted zone named {name}")
        })?
    } else {
        zone
    };
    let app_name = format!("{app}.{name}");
    let app_hosted_zone = app_domain::public_zone(aws, &app_name).await?.ok_or_else(|| {
        Error::failure(format!(
            "Copilot's application {app} has the domain {name}, but this account has no public Route 53 hosted zone named {app_name} (Copilot's application stack makes it)"
        ))
        .help(format!(
            "run `tug app init --domain {name}` to create and delegate it, then `tug adopt` again"
        ))
    })?;
    Ok(AppDomain {
        name,
        hosted_zone,
        app_hosted_zone,
    })
}

/// The parameters directly under `path`: (last path segment, value).
async fn names_under(aws: &Aws, path: &str) -> Result<Vec<(String, String)>, Error> {
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
                Error::failure(format!(
                    "cannot read {path} in Parameter Store: {}",
                    describe_error(&e)
                ))
                .about(path)
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
