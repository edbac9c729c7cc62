//! The application's domain in Route 53, made by `tug app init --domain` as Copilot's
//! application stack made it: the domain's public hosted zone must exist in this account
//! (found by name, as `copilot app init --domain` found it); the application's zone
//! `<app>.<domain>` is created if missing, and the domain's zone delegates to it with an NS
//! record (`<app>.<domain>.`, TTL 900, Copilot's `AppDomainDelegationRecordSet`). Idempotent.
//!
//! `tug app delete` removes both again, as deleting Copilot's application stack did, but only
//! a zone tug made (its comment names a tug application) and only once it holds nothing but
//! its own SOA and NS records: otherwise it says which records hold it and leaves zone and
//! delegation as they are (CloudFormation would have failed on such a zone; tug destroys
//! nothing it was not asked to). The delegation goes first, then the zone: an NS record left
//! pointing at a deleted zone would let anyone who gets those name servers answer for the
//! name.

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HostedZone, HostedZoneConfig, ResourceRecord,
    ResourceRecordSet, RrType,
};

use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::teardown::Removal;
use crate::error::{Error, Result as TugResult};
use crate::manifest::domain::AppDomain;

/// How the comment of a zone tug made starts (`create_zone`).
const TUG_ZONE_COMMENT: &str = "The hosted zone of tug application ";

/// What `ensure` did to the application's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    Created,
    Exists,
}

/// Finds the domain's zone, makes the application's zone and its delegation.
pub async fn ensure(aws: &Aws, app: &str, domain: &str) -> TugResult<(AppDomain, Made)> {
    let root = public_zone(aws, domain).await?.ok_or_else(|| {
        Error::failure(format!(
            "this account has no public Route 53 hosted zone for {domain}: register the domain with Route 53 or create its hosted zone (and point the registrar at its name servers), then run `tug app init --domain {domain}` again"
        ))
        .about(domain)
    })?;
    let app_name = format!("{app}.{domain}");
    let (app_zone, made) = match public_zone(aws, &app_name).await? {
        Some(id) => (id, Made::Exists),
        None => (create_zone(aws, app, &app_name).await?, Made::Created),
    };
    let servers = name_servers(aws, &app_zone).await?;
    let records: Vec<ResourceRecord> = servers
        .iter()
        .map(|s| ResourceRecord::builder().value(s).build())
        .collect::<Result<_, _>>()
        .map_err(built)?;
    let set = ResourceRecordSet::builder()
        .name(format!("{app_name}."))
        .r#type(RrType::Ns)
        .ttl(900)
        .set_resource_records(Some(records))
        .build()
        .map_err(built)?;
    let change = Change::builder()
        .action(ChangeAction::Upsert)
        .resource_record_set(set)
        .build()
        .map_err(built)?;
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(&root)
        .change_batch(
            ChangeBatch::builder()
                .comment(format!("tug: delegate {app_name} to its hosted zone"))
                .changes(change)
                .build()
                .map_err(built)?,
        )
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot write the NS record of {app_name} in the hosted zone of {domain} ({root}): {}",
                describe_error(&e)
            ))
            .about(&root)
        })?;
    Ok((
        AppDomain {
            name: domain.to_string(),
            hosted_zone: root,
            app_hosted_zone: app_zone,
        },
        made,
    ))
}

/// The id (without `/hostedzone/`) of the public zone named `name`, if there is one.
pub(crate) async fn public_zone(aws: &Aws, name: &str) -> TugResult<Option<String>> {
    let dotted = format!("{name}.");
    let out = aws
        .route53
        .list_hosted_zones_by_name()
        .dns_name(&dotted)
        .max_items(10)
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot list the Route 53 hosted zones named {name}: {}",
                describe_error(&e)
            ))
        })?;
    let public = |z: &&HostedZone| {
        z.name().eq_ignore_ascii_case(&dotted) && !z.config().is_some_and(|c| c.private_zone())
    };
    Ok(out
        .hosted_zones()
        .iter()
        .find(public)
        .map(|z| z.id().trim_start_matches("/hostedzone/").to_string()))
}

async fn create_zone(aws: &Aws, app: &str, name: &str) -> TugResult<String> {
    // A caller reference is unique per request; the zone was looked up first, so a new one is
    // made only when none exists.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let out = aws
        .route53
        .create_hosted_zone()
        .name(name)
        .caller_reference(format!("tug-{app}-{now}"))
        .hosted_zone_config(
            HostedZoneConfig::builder()
                .comment(format!("{TUG_ZONE_COMMENT}{app}: {name}"))
                .private_zone(false)
                .build(),
        )
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot create the hosted zone {name}: {}",
                describe_error(&e)
            ))
            .about(name)
        })?;
    out.hosted_zone()
        .map(|z| z.id().trim_start_matches("/hostedzone/").to_string())
        .ok_or_else(|| {
            Error::failure(format!("Route 53 created {name} but returned no id")).about(name)
        })
}

async fn name_servers(aws: &Aws, zone: &str) -> TugResult<Vec<String>> {
    let out = aws
        .route53
        .get_hosted_zone()
        .id(zone)
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot read the hosted zone {zone}: {}",
                describe_error(&e)
            ))
            .about(zone)
        })?;
    let servers: Vec<String> = out
        .delegation_set()
        .map(|d| d.name_servers().to_vec())
        .unwrap_or_default();
    if servers.is_empty() {
        return Err(
            Error::failure(format!("the hosted zone {zone} has no name servers")).about(zone),
        );
    }
    Ok(servers)
}

/// A Route 53 request the SDK refused to build (a field it requires was not set).
fn built(e: aws_sdk_route53::error::BuildError) -> Error {
    Error::failure(e.to_string())
}

/// What `tug app delete` does with the application's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ZoneFate {
    /// The zone does not exist (any more).
    Gone,
    /// tug made it: it goes with its delegation once only its SOA and NS records are left.
    Delete,
    /// It stays, for this reason.
    Kept(String),
}

impl ZoneFate {
    /// Its line in the delete plan.
    pub(crate) fn plan_line(&self, app: &str, domain: &AppDomain) -> Option<String> {
        let name = format!("{app}.{}", domain.name);
        match self {
            ZoneFate::Gone => None,
            ZoneFate::Delete => Some(format!(
                "  Route 53 hosted zone {name} ({}) and its NS record in {}, once the environments' records are gone from it",
                domain.app_hosted_zone, domain.name
            )),
            ZoneFate::Kept(why) => Some(format!("  (Route 53 hosted zone {name} is kept: {why})")),
        }
    }
}

/// Whether `tug app delete` may remove the application's zone: it exists and tug made it.
pub(crate) async fn zone_fate(aws: &Aws, app: &str, domain: &AppDomain) -> ZoneFate {
    let zone = &domain.app_hosted_zone;
    let out = match aws.route53.get_hosted_zone().id(zone).send().await {
        Ok(out) => out,
        Err(e) if describe_error(&e).contains("NoSuchHostedZone") => return ZoneFate::Gone,
        Err(e) => {
            return ZoneFate::Kept(format!("it cannot be read: {}", describe_error(&e)));
        }
    };
    let comment = out
        .hosted_zone()
        .and_then(|z| z.config())
        .and_then(|c| c.comment())
        .unwrap_or_default();
    if comment.starts_with(&format!("{TUG_ZONE_COMMENT}{app}:")) {
        ZoneFate::Delete
    } else {
        ZoneFate::Kept(format!(
            "tug did not create it (its comment: {comment:?}); delete it yourself when no longer needed"
        ))
    }
}

/// Removes the application's zone and its delegation in the domain's zone, when the zone holds
/// nothing but its SOA and NS records; else reports it as kept, with what holds it.
pub(crate) async fn remove(aws: &Aws, app: &str, domain: &AppDomain) -> Removal {
    let started = std::time::Instant::now();
    let name = format!("{app}.{}", domain.name);
    let (result, detail) = match remove_when_empty(aws, &name, domain).await {
        Ok(Some(holding)) => (
            "kept",
            Some(format!(
                "it still holds {holding}; delete those records, then run `tug app delete` again"
            )),
        ),
        Ok(None) => ("deleted", None),
        Err(e) => ("failed", Some(e.to_string())),
    };
    Removal {
        kind: "hosted zone",
        name,
        result,
        seconds: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        detail,
    }
}

/// `Some(records)` that keep the zone, or `None` once delegation and zone are deleted.
async fn remove_when_empty(aws: &Aws, name: &str, domain: &AppDomain) -> TugResult<Option<String>> {
    let zone = &domain.app_hosted_zone;
    let records = aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot list the records of the hosted zone {name} ({zone}): {}",
                describe_error(&e)
            ))
        })?;
    let apex = format!("{name}.");
    let foreign: Vec<String> = records
        .resource_record_sets()
        .iter()
        .filter(|r| {
            !(r.name().eq_ignore_ascii_case(&apex)
                && matches!(r.r#type(), RrType::Soa | RrType::Ns))
        })
        .map(|r| format!("{} {}", r.name().trim_end_matches('.'), r.r#type().as_str()))
        .collect();
    if !foreign.is_empty() || records.is_truncated() {
        return Ok(Some(foreign.join(", ")));
    }
    delete_delegation(aws, name, domain).await?;
    aws.route53
        .delete_hosted_zone()
        .id(zone)
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot delete the hosted zone {name} ({zone}): {}",
                describe_error(&e)
            ))
        })?;
    Ok(None)
}

/// Deletes the NS record of `name` in the domain's zone, if it is there.
async fn delete_delegation(aws: &Aws, name: &str, domain: &AppDomain) -> TugResult<()> {
    let root = &domain.hosted_zone;
    let dotted = format!("{name}.");
    let out = aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(root)
        .start_record_name(&dotted)
        .start_record_type(RrType::Ns)
        .max_items(1)
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot read the NS record of {name} in the hosted zone of {} ({root}): {}",
                domain.name,
                describe_error(&e)
            ))
        })?;
    let Some(set) = out
        .resource_record_sets()
        .iter()
        .find(|r| r.name().eq_ignore_ascii_case(&dotted) && *r.r#type() == RrType::Ns)
    else {
        return Ok(());
    };
    // A delegation to other name servers is not the one tug wrote: it stays.
    let ours = name_servers(aws, &domain.app_hosted_zone).await?;
    let normal = |s: &str| s.trim_end_matches('.').to_ascii_lowercase();
    let mut servers: Vec<String> = ours.iter().map(|s| normal(s)).collect();
    let mut values: Vec<String> = set
        .resource_records()
        .iter()
        .map(|r| normal(r.value()))
        .collect();
    servers.sort();
    values.sort();
    if servers != values {
        return Ok(());
    }
    let change = Change::builder()
        .action(ChangeAction::Delete)
        .resource_record_set(set.clone())
        .build()
        .map_err(built)?;
    let batch = ChangeBatch::builder()
        .comment(format!("tug: {name} is deleted with its application"))
        .changes(change)
        .build()
        .map_err(built)?;
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(root)
        .change_batch(batch)
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!(
                "cannot delete the NS record of {name} in the hosted zone of {} ({root}): {}",
                domain.name,
                describe_error(&e)
            ))
        })?;
    Ok(())
}
