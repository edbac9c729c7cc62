//! Values only AWS knows, looked up when `tug deploy` deploys a stack, as Copilot looked them
//! up (facts from its source: `internal/pkg/manifest/workload.go` `dynamicSubnets`,
//! `internal/pkg/aws/ec2` `SubnetIDs` / `CloudFrontManagedPrefixListID`):
//!
//! - the subnets of `network.vpc.placement.subnets.from_tags`: EC2 DescribeSubnets with one
//!   `tag:<key>` filter per tag (any of its values; `tag-key` when a tag lists no value),
//!   and, unlike Copilot, also `vpc-id` = the environment's VPC (the stack's `VpcId` output):
//!   a subnet of another VPC could only fail the service, so it is never chosen. The ids are
//!   sorted, so an unchanged selection is an unchanged parameter (no-op deploys stay no-ops).
//!   No match is an error, as it was in Copilot ("cannot find any subnets").
//! - the id of the AWS-managed prefix list `com.amazonaws.global.cloudfront.origin-facing`
//!   (EC2 DescribeManagedPrefixLists by `prefix-list-name`) for `http.public.ingress.cdn`;
//!   none or more than one is an error, as in Copilot.
//!
//! Each lookup fills only a parameter still holding render's `<...>` placeholder, so values
//! given for a promotion or rollback are kept as they were deployed.

use crate::deploy::aws::Aws;
use crate::deploy::ec2_query::Filter;
use crate::deploy::stack;
use crate::error::{Error, Result};
use crate::manifest::load::ResolvedWorkload;
use crate::manifest::union::{ListOr, ScalarOr};
use crate::render;

/// The stack parameter of subnets chosen by tags (declared by `render::workload::service`).
pub(crate) const SUBNETS_PARAMETER: &str = "Subnets";
/// The environment stack's parameter of the CloudFront prefix list (`render::environment`).
pub(crate) const PREFIX_LIST_PARAMETER: &str = "CloudFrontOriginFacingPrefixListId";
/// The AWS-managed prefix list of CloudFront's origin-facing servers.
pub(crate) const CLOUDFRONT_PREFIX_LIST: &str = "com.amazonaws.global.cloudfront.origin-facing";

/// Fills the environment stack's CloudFront prefix list parameter, when it has one.
pub(crate) async fn fill_environment(aws: &Aws, params: &mut [(String, String)]) -> Result<()> {
    if let Some((_, value)) = placeholder(params, PREFIX_LIST_PARAMETER) {
        *value = cloudfront_prefix_list(aws).await?;
    }
    Ok(())
}

/// Fills a workload stack's subnets chosen by tags, when it has them.
pub(crate) async fn fill_workload(
    aws: &Aws,
    app: &str,
    wl: &ResolvedWorkload,
    params: &mut [(String, String)],
) -> Result<()> {
    let Some((_, value)) = placeholder(params, SUBNETS_PARAMETER) else {
        return Ok(());
    };
    let tags = subnet_tags(wl);
    let env = wl.environment.as_deref().unwrap_or_default();
    let vpc = environment_vpc(aws, app, env).await?;
    *value = subnets_by_tags(aws, &vpc, &tags).await?.join(",");
    Ok(())
}

fn placeholder<'a>(
    params: &'a mut [(String, String)],
    name: &str,
) -> Option<&'a mut (String, String)> {
    params
        .iter_mut()
        .find(|(k, v)| k == name && v.starts_with('<'))
}

/// `network.vpc.placement.subnets.from_tags` as (key, values) pairs, in manifest order.
fn subnet_tags(wl: &ResolvedWorkload) -> Vec<(String, Vec<String>)> {
    let placement = wl
        .manifest
        .network
        .as_ref()
        .and_then(|n| n.vpc.as_ref())
        .and_then(|v| v.placement.as_ref())
        .map(|p| &p.value);
    let Some(ScalarOr::Config(config)) = placement else {
        return Vec::new();
    };
    let Some(ListOr::Config(selection)) = config.subnets.as_ref().map(|s| &s.value) else {
        return Vec::new();
    };
    selection
        .from_tags
        .iter()
        .flat_map(|tags| tags.value.iter())
        .map(|(key, values)| {
            let values = values.value.items().into_iter().cloned().collect();
            (key.value.clone(), values)
        })
        .collect()
}

/// The EC2 filters of a tag selection (Copilot's `FilterForTags`): `tag:<key>` matching any of
/// the values, or `tag-key` for a tag given without values.
pub(crate) fn tag_filters(tags: &[(String, Vec<String>)]) -> Vec<Filter> {
    tags.iter()
        .map(|(key, values)| {
            if values.is_empty() {
                ("tag-key".to_string(), vec![key.clone()])
            } else {
                (format!("tag:{key}"), values.clone())
            }
        })
        .collect()
}

/// The VPC of the deployed environment stack (its `VpcId` output).
async fn environment_vpc(aws: &Aws, app: &str, env: &str) -> Result<String> {
    let name = render::names::env_stack(app, env);
    let info = stack::describe(aws, &name).await?;
    info.as_ref()
        .and_then(|i| i.output("VpcId"))
        .map(str::to_string)
        .ok_or_else(|| {
            Error::failure(format!(
                "cannot look up the subnets of `network.vpc.placement.subnets.from_tags`: the environment stack {name} has no VpcId output"
            ))
            .help(format!("deploy the environment first: `tug deploy -e {env}`"))
        })
}

/// The ids, sorted, of the subnets of `vpc` that carry the tags.
async fn subnets_by_tags(
    aws: &Aws,
    vpc: &str,
    tags: &[(String, Vec<String>)],
) -> Result<Vec<String>> {
    let mut filters = tag_filters(tags);
    filters.push(("vpc-id".to_string(), vec![vpc.to_string()]));
    let mut ids = aws
        .ec2
        .ids("DescribeSubnets", &filters, "subnetSet", "subnetId")
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot look up the subnets of `network.vpc.placement.subnets.from_tags` (EC2 DescribeSubnets): {}",
                e.message()
            ))
        })?;
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Err(Error::failure(format!(
            "no subnet of the environment's VPC {vpc} has the tags of `network.vpc.placement.subnets.from_tags` ({})",
            describe_tags(tags)
        ))
        .help("tag the subnets (a subnet needs every tag, with one of its values), or list subnet ids in `network.vpc.placement.subnets`"));
    }
    Ok(ids)
}

/// `key=a|b, other` for messages.
pub(crate) fn describe_tags(tags: &[(String, Vec<String>)]) -> String {
    tags.iter()
        .map(|(k, v)| {
            if v.is_empty() {
                k.clone()
            } else {
                format!("{k}={}", v.join("|"))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The id of the AWS-managed CloudFront origin-facing prefix list in this Region.
async fn cloudfront_prefix_list(aws: &Aws) -> Result<String> {
    let filters = [(
        "prefix-list-name".to_string(),
        vec![CLOUDFRONT_PREFIX_LIST.to_string()],
    )];
    let ids = aws
        .ec2
        .ids(
            "DescribeManagedPrefixLists",
            &filters,
            "prefixListSet",
            "prefixListId",
        )
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot look up the prefix list {CLOUDFRONT_PREFIX_LIST} for `http.public.ingress.cdn` (EC2 DescribeManagedPrefixLists): {}",
                e.message()
            ))
        })?;
    match ids.as_slice() {
        [id] => Ok(id.clone()),
        [] => Err(Error::failure(format!(
            "this Region has no prefix list named {CLOUDFRONT_PREFIX_LIST}, which `http.public.ingress.cdn` restricts the load balancer to"
        ))
        .help("deploy to a Region with CloudFront's managed prefix list, or drop `http.public.ingress.cdn`")),
        more => Err(Error::failure(format!(
            "more than one prefix list is named {CLOUDFRONT_PREFIX_LIST}: {}",
            more.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_with_values_matches_any_of_them_and_one_without_matches_the_key() {
        let filters = tag_filters(&[
            ("tier".into(), vec!["app".into(), "web".into()]),
            ("shared".into(), vec![]),
        ]);
        assert_eq!(
            filters[0],
            ("tag:tier".into(), vec!["app".into(), "web".into()])
        );
        assert_eq!(filters[1], ("tag-key".into(), vec!["shared".into()]));
        assert_eq!(
            describe_tags(&[
                ("tier".into(), vec!["app".into(), "web".into()]),
                ("shared".into(), vec![])
            ]),
            "tier=app|web, shared"
        );
    }

    #[test]
    fn only_placeholders_are_filled() {
        let mut params = vec![
            (SUBNETS_PARAMETER.to_string(), "subnet-1".to_string()),
            (PREFIX_LIST_PARAMETER.to_string(), "<resolved>".to_string()),
        ];
        assert!(placeholder(&mut params, SUBNETS_PARAMETER).is_none());
        assert!(placeholder(&mut params, PREFIX_LIST_PARAMETER).is_some());
    }
}
