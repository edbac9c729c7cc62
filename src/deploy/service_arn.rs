//! Where a workload stack's ECS service runs: its cluster and name, read from the service's
//! ARN. ECS's long ARN format (`service/<cluster>/<name>`) names the cluster. The old format
//! (`service/<name>`), which services created before their account opted in to the long
//! format keep (Copilot services adopted by tug among them), names none: the cluster is then
//! the one the stack's service resource names in its `Cluster` property, a literal, a resource
//! of the stack or an export (Copilot's and tug's `!ImportValue <app>-<env>-ClusterId`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::deploy::adopt::template::{self, Known};
use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::stack::{self, Resource};
use crate::deploy::watch::split_service_arn;
use crate::error::{Error, Result};

/// (cluster, service name) of the ECS service `arn` of stack `stack`, whatever the ARN's
/// format; the stack's resources, template and parameters are read only for the old format.
pub async fn locate(aws: &Aws, stack: &str, arn: &str) -> Result<(String, String)> {
    if let Some(both) = split_service_arn(arn) {
        return Ok(both);
    }
    let unknown = || {
        Error::failure(format!(
            "{stack}: cannot tell the cluster of ECS service {arn} (an ARN in ECS's old format names none, and the stack's template names none either)"
        ))
        .about(stack)
    };
    let resources = stack::resources(aws, stack).await?;
    let Some(id) = resources
        .iter()
        .find(|r| r.physical_id.as_deref() == Some(arn))
        .map(|r| r.logical_id.clone())
    else {
        return Err(unknown());
    };
    let text = crate::deploy::adopt::plan::deployed_template(aws, stack).await?;
    let deployed = template::parse(&text)?;
    let parameters: BTreeMap<String, String> = stack::describe(aws, stack)
        .await?
        .map(|info| info.parameters.into_iter().collect())
        .unwrap_or_default();
    let known = Known {
        parameters: &parameters,
        stack_name: stack,
    };
    old_format(aws, arn, &id, &resources, &deployed, &known)
        .await?
        .ok_or_else(unknown)
}

/// (cluster, service) of a service ARN in ECS's old format, `arn:...:service/<name>`: the
/// cluster is the one the `Cluster` property of resource `id` of the stack's template
/// (`deployed`, evaluated with `known`) names. `None` when the ARN is not an old-format
/// service ARN or the cluster cannot be told.
pub(crate) async fn old_format(
    aws: &Aws,
    arn: &str,
    id: &str,
    resources: &[Resource],
    deployed: &Value,
    known: &Known<'_>,
) -> Result<Option<(String, String)>> {
    let Some(service) = arn.split(":service/").nth(1).filter(|s| !s.contains('/')) else {
        return Ok(None);
    };
    let Some(property) = deployed.pointer(&format!("/Resources/{id}/Properties/Cluster")) else {
        return Ok(None);
    };
    let cluster = match template::evaluate(property, known) {
        Value::String(c) => Some(c),
        Value::Object(o) => match o.iter().next() {
            Some((k, Value::String(name))) if k == "Ref" => resources
                .iter()
                .find(|r| &r.logical_id == name)
                .and_then(|r| r.physical_id.clone()),
            Some((k, Value::String(name))) if k == "Fn::ImportValue" => {
                export_value(aws, name).await?
            }
            _ => None,
        },
        _ => None,
    };
    // A cluster ARN works as well as its name.
    Ok(cluster.map(|c| (c, service.to_string())))
}

/// The value of export `name`; `None` when no stack exports it.
pub(crate) async fn export_value(aws: &Aws, name: &str) -> Result<Option<String>> {
    let mut token: Option<String> = None;
    loop {
        let page = aws
            .cfn
            .list_exports()
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| {
                Error::failure(format!(
                    "cannot read the export {name}: {}",
                    describe_error(&e)
                ))
            })?;
        if let Some(e) = page.exports().iter().find(|e| e.name() == Some(name)) {
            return Ok(e.value().map(str::to_string));
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(None);
        }
    }
}
