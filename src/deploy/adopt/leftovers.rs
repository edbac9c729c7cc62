//! What deleting an adopted environment takes care of beyond its stack: the Route 53 records
//! AWS Copilot's Lambdas wrote outside CloudFormation, which no stack delete removes.
//!
//! - In the environment's hosted zone `<env>.<app>.<domain>` (`EnvironmentHostedZone`, which
//!   adoption keeps): the validation records of Copilot's certificate (CNAMEs to
//!   `*.acm-validations.aws.`, written by `HTTPSCert`'s Lambda) and alias records to the
//!   environment's load balancers (written by `CustomDomainAction`'s). Route 53 deletes no
//!   zone that holds more than its own SOA and NS records, so the stack delete would fail once
//!   everything else was deleted.
//! - In the application's and the domain's zones: alias records of `http.alias` names to the
//!   environment's load balancers (`CustomDomainAction`'s), which would point at nothing.
//! - In the application's zone: the NS record delegating `<env>.<app>.<domain>` (written by
//!   `DelegateDNSAction`; adoption left tug's own out of the stack). Left behind, it would
//!   delegate the name to name servers on which anyone can create a zone for it, so it goes
//!   too, once the stack (and the zone) is gone.
//!
//! These go with the environment, listed in the delete's plan. Any other record in the
//! environment's zone is the user's: the delete refuses, names it, and deletes nothing.

use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecordSet, RrType};

use crate::deploy::adopt::copilot;
use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::stack;
use crate::deploy::teardown::Removal;
use crate::error::{Error, Result};
use crate::manifest::domain::AppDomain;

/// The logical id of the environment's hosted zone, Copilot's and tug's.
const ZONE_ID: &str = "EnvironmentHostedZone";
/// How the names of ACM's DNS validation records' values end.
const ACM_VALIDATION: &str = ".acm-validations.aws";

/// The records an adopted environment leaves in Route 53 that its stack delete does not
/// remove.
#[derive(Debug, Clone)]
pub struct Leftovers {
    pub stack: String,
    /// The environment's zone: (id, name).
    zone: Option<(String, String)>,
    /// Alias records to the environment's load balancers and Copilot's validation records:
    /// (zone id, record). Deleted after the workloads, before the environment's stack.
    records: Vec<(String, ResourceRecordSet)>,
    /// The NS record delegating the environment's zone, in the application's zone. Deleted
    /// after the environment's stack.
    delegation: Option<(String, ResourceRecordSet)>,
}

impl Leftovers {
    /// Its lines in the delete's plan.
    pub fn plan_lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .records
            .iter()
            .map(|(zone, r)| {
                format!(
                    "  Route 53 record {} {} in zone {zone}: written by Copilot outside the stacks",
                    r.name().trim_end_matches('.'),
                    r.r#type().as_str()
                )
            })
            .collect();
        if let Some((zone, r)) = &self.delegation {
            out.push(format!(
                "  Route 53 record {} NS in zone {zone}: Copilot's delegation of the environment's zone, deleted after it",
                r.name().trim_end_matches('.')
            ));
        }
        out
    }
}

/// What deleting the adopted environment stack `stack` leaves in Route 53; `None` for a stack
/// adoption did not make. Fails, naming them, when the environment's zone holds records of
/// the user's (the delete would fail on the zone after deleting everything else).
pub async fn survey(
    aws: &Aws,
    stack: &str,
    domain: Option<&AppDomain>,
) -> Result<Option<Leftovers>> {
    let Some(info) = stack::describe(aws, stack).await? else {
        return Ok(None);
    };
    if info.tag(copilot::ADOPTED_TAG).is_none() {
        return Ok(None);
    }
    let resources = stack::resources(aws, stack).await?;
    let balancers = balancer_names(aws, &resources).await?;
    let zone_id = resources
        .iter()
        .find(|r| r.logical_id == ZONE_ID)
        .and_then(|r| r.physical_id.clone());
    let mut out = Leftovers {
        stack: stack.to_string(),
        zone: None,
        records: Vec::new(),
        delegation: None,
    };
    let mut foreign = Vec::new();
    if let Some(id) = &zone_id {
        let (name, records) = zone_records(aws, id).await?;
        for r in records {
            let apex = r.name().trim_end_matches('.').eq_ignore_ascii_case(&name);
            if apex && matches!(r.r#type(), RrType::Soa | RrType::Ns) {
                continue;
            }
            if is_validation(&r) || points_at(&r, &balancers) {
                out.records.push((id.clone(), r));
            } else {
                foreign.push(format!(
                    "{} {}",
                    r.name().trim_end_matches('.'),
                    r.r#type().as_str()
                ));
            }
        }
        out.zone = Some((id.clone(), name));
    }
    if !foreign.is_empty() {
        let (id, name) = out.zone.clone().unwrap_or_default();
        return Err(Error::failure(format!(
            "the hosted zone {name} ({id}) of {stack} holds records that neither tug nor Copilot wrote: {}; deleting the environment deletes its zone, and with it these records",
            foreign.join(", ")
        ))
        .help("move or delete those records yourself, then run the delete again; nothing was deleted")
        .about(stack));
    }
    if let Some(d) = domain {
        for zone in [&d.app_hosted_zone, &d.hosted_zone] {
            if zone.is_empty() || Some(zone) == zone_id.as_ref() {
                continue;
            }
            let (_, records) = zone_records(aws, zone).await?;
            for r in records {
                if points_at(&r, &balancers) {
                    out.records.push((zone.clone(), r));
                } else if let Some((_, env_zone)) = &out.zone
                    && *zone == d.app_hosted_zone
                    && *r.r#type() == RrType::Ns
                    && r.name()
                        .trim_end_matches('.')
                        .eq_ignore_ascii_case(env_zone)
                {
                    out.delegation = Some((zone.clone(), r));
                }
            }
        }
    }
    Ok(Some(out))
}

/// Deletes the records to go before the environment's stack (those still there: a workload's
/// stack may have deleted its own).
pub async fn clear(aws: &Aws, leftovers: &Leftovers) -> Vec<Removal> {
    let mut out = Vec::new();
    for (zone, r) in &leftovers.records {
        out.push(delete_record(aws, zone, r).await);
    }
    out
}

/// Deletes the delegation of the environment's zone, once the stack is gone.
pub async fn undelegate(aws: &Aws, leftovers: &Leftovers) -> Option<Removal> {
    let (zone, r) = leftovers.delegation.as_ref()?;
    Some(delete_record(aws, zone, r).await)
}

/// Deletes record `r` of zone `zone`; `already gone` when the zone no longer holds it as read.
async fn delete_record(aws: &Aws, zone: &str, r: &ResourceRecordSet) -> Removal {
    let started = std::time::Instant::now();
    let name = format!("{} {}", r.name().trim_end_matches('.'), r.r#type().as_str());
    let result = match still_there(aws, zone, r).await {
        Ok(false) => Ok(false),
        Ok(true) => delete(aws, zone, r).await.map(|()| true),
        Err(e) => Err(e),
    };
    let (result, detail) = match result {
        Ok(true) => ("deleted", None),
        Ok(false) => ("already gone", None),
        Err(e) => ("failed", Some(e.to_string())),
    };
    Removal {
        kind: "DNS record",
        name,
        result,
        seconds: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        detail,
    }
}

async fn still_there(aws: &Aws, zone: &str, r: &ResourceRecordSet) -> Result<bool> {
    let (_, records) = zone_records(aws, zone).await?;
    Ok(records.iter().any(|x| x == r))
}

async fn delete(aws: &Aws, zone: &str, r: &ResourceRecordSet) -> Result<()> {
    let built = |e: aws_sdk_route53::error::BuildError| Error::failure(e.to_string());
    let change = Change::builder()
        .action(ChangeAction::Delete)
        .resource_record_set(r.clone())
        .build()
        .map_err(built)?;
    let batch = ChangeBatch::builder()
        .comment("tug: written by Copilot for an environment that is deleted")
        .changes(change)
        .build()
        .map_err(built)?;
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(batch)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            Error::failure(format!(
                "cannot delete the record {} in hosted zone {zone}: {}",
                r.name(),
                describe_error(&e)
            ))
        })
}

/// The zone's name (without the final dot) and every record in it.
async fn zone_records(aws: &Aws, zone: &str) -> Result<(String, Vec<ResourceRecordSet>)> {
    let failed = |e: String| {
        Error::failure(format!(
            "cannot read the records of hosted zone {zone}: {e}"
        ))
    };
    let name = aws
        .route53
        .get_hosted_zone()
        .id(zone)
        .send()
        .await
        .map_err(|e| failed(describe_error(&e)))?
        .hosted_zone()
        .map(|z| z.name().trim_end_matches('.').to_string())
        .unwrap_or_default();
    let mut records = Vec::new();
    let mut next: Option<(String, RrType, Option<String>)> = None;
    loop {
        let mut req = aws.route53.list_resource_record_sets().hosted_zone_id(zone);
        if let Some((n, t, id)) = next.take() {
            req = req
                .start_record_name(n)
                .start_record_type(t)
                .set_start_record_identifier(id);
        }
        let page = req.send().await.map_err(|e| failed(describe_error(&e)))?;
        records.extend(page.resource_record_sets().iter().cloned());
        match (
            page.is_truncated(),
            page.next_record_name(),
            page.next_record_type(),
        ) {
            (true, Some(n), Some(t)) => {
                next = Some((
                    n.to_string(),
                    t.clone(),
                    page.next_record_identifier().map(str::to_string),
                ));
            }
            _ => return Ok((name, records)),
        }
    }
}

/// The DNS names of the stack's load balancers, as alias targets compare.
async fn balancer_names(aws: &Aws, resources: &[stack::Resource]) -> Result<Vec<String>> {
    let arns: Vec<String> = resources
        .iter()
        .filter(|r| r.resource_type == "AWS::ElasticLoadBalancingV2::LoadBalancer")
        .filter_map(|r| r.physical_id.clone())
        .collect();
    if arns.is_empty() {
        return Ok(Vec::new());
    }
    let out = aws
        .elb
        .describe_load_balancers()
        .set_load_balancer_arns(Some(arns))
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot read the environment's load balancers: {}",
                describe_error(&e)
            ))
        })?;
    Ok(out
        .load_balancers()
        .iter()
        .filter_map(|lb| lb.dns_name())
        .map(target_name)
        .collect())
}

/// An alias target's DNS name as compared: lower case, without the final dot or the
/// `dualstack.` prefix Route 53 adds to load balancer targets.
fn target_name(n: &str) -> String {
    let n = n.trim_end_matches('.').to_ascii_lowercase();
    n.strip_prefix("dualstack.")
        .map(str::to_string)
        .unwrap_or(n)
}

/// Whether `r` is an alias record to one of `balancers`.
fn points_at(r: &ResourceRecordSet, balancers: &[String]) -> bool {
    matches!(r.r#type(), RrType::A | RrType::Aaaa)
        && r.alias_target()
            .is_some_and(|a| balancers.contains(&target_name(a.dns_name())))
}

/// Whether `r` is an ACM DNS validation record (`_<hash>.<name>` CNAME to
/// `_<hash>.<...>.acm-validations.aws.`).
fn is_validation(r: &ResourceRecordSet) -> bool {
    *r.r#type() == RrType::Cname
        && r.name().starts_with('_')
        && !r.resource_records().is_empty()
        && r.resource_records().iter().all(|v| {
            v.value()
                .trim_end_matches('.')
                .to_ascii_lowercase()
                .ends_with(ACM_VALIDATION)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_route53::types::{AliasTarget, ResourceRecord};

    fn record(name: &str, t: RrType) -> aws_sdk_route53::types::builders::ResourceRecordSetBuilder {
        ResourceRecordSet::builder().name(name).r#type(t)
    }

    #[test]
    fn validation_records_and_aliases_to_the_balancers_are_copilots() {
        let cname = |value: &str| {
            record("_abc.test.demo.example.com.", RrType::Cname)
                .resource_records(ResourceRecord::builder().value(value).build().unwrap())
                .build()
                .unwrap()
        };
        assert!(is_validation(&cname("_def.xyz.acm-validations.aws.")));
        assert!(!is_validation(&cname("elsewhere.example.com.")));
        let alias = |dns: &str| {
            record("shop.example.com.", RrType::A)
                .alias_target(
                    AliasTarget::builder()
                        .dns_name(dns)
                        .hosted_zone_id("Z35SXDOTRQ7X7K")
                        .evaluate_target_health(false)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap()
        };
        let lbs = vec![target_name("demo-Publi-1.us-east-1.elb.amazonaws.com")];
        assert!(points_at(
            &alias("dualstack.demo-publi-1.us-east-1.elb.amazonaws.com."),
            &lbs
        ));
        assert!(!points_at(&alias("other.elb.amazonaws.com."), &lbs));
    }
}
