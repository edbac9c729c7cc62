//! The application's domain in Route 53, made by `tug app init --domain` as Copilot's
//! application stack made it: the domain's public hosted zone must exist in this account
//! (found by name, as `copilot app init --domain` found it); the application's zone
//! `<app>.<domain>` is created if missing, and the domain's zone delegates to it with an NS
//! record (`<app>.<domain>.`, TTL 900, Copilot's `AppDomainDelegationRecordSet`). Idempotent.

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HostedZone, HostedZoneConfig, ResourceRecord,
    ResourceRecordSet, RrType,
};

use crate::deploy::aws::{Aws, describe_error};
use crate::manifest::domain::AppDomain;

/// What `ensure` did to the application's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    Created,
    Exists,
}

/// Finds the domain's zone, makes the application's zone and its delegation.
pub async fn ensure(aws: &Aws, app: &str, domain: &str) -> Result<(AppDomain, Made), String> {
    let root = public_zone(aws, domain).await?.ok_or_else(|| {
        format!(
            "this account has no public Route 53 hosted zone for {domain}: register the domain with Route 53 or create its hosted zone (and point the registrar at its name servers), then run `tug app init --domain {domain}` again"
        )
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
        .map_err(|e| e.to_string())?;
    let set = ResourceRecordSet::builder()
        .name(format!("{app_name}."))
        .r#type(RrType::Ns)
        .ttl(900)
        .set_resource_records(Some(records))
        .build()
        .map_err(|e| e.to_string())?;
    let change = Change::builder()
        .action(ChangeAction::Upsert)
        .resource_record_set(set)
        .build()
        .map_err(|e| e.to_string())?;
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(&root)
        .change_batch(
            ChangeBatch::builder()
                .comment(format!("tug: delegate {app_name} to its hosted zone"))
                .changes(change)
                .build()
                .map_err(|e| e.to_string())?,
        )
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot write the NS record of {app_name} in the hosted zone of {domain} ({root}): {}",
                describe_error(&e)
            )
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
pub(crate) async fn public_zone(aws: &Aws, name: &str) -> Result<Option<String>, String> {
    let dotted = format!("{name}.");
    let out = aws
        .route53
        .list_hosted_zones_by_name()
        .dns_name(&dotted)
        .max_items(10)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot list the Route 53 hosted zones named {name}: {}",
                describe_error(&e)
            )
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

async fn create_zone(aws: &Aws, app: &str, name: &str) -> Result<String, String> {
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
                .comment(format!("The hosted zone of tug application {app}: {name}"))
                .private_zone(false)
                .build(),
        )
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot create the hosted zone {name}: {}",
                describe_error(&e)
            )
        })?;
    out.hosted_zone()
        .map(|z| z.id().trim_start_matches("/hostedzone/").to_string())
        .ok_or_else(|| format!("Route 53 created {name} but returned no id"))
}

async fn name_servers(aws: &Aws, zone: &str) -> Result<Vec<String>, String> {
    let out = aws
        .route53
        .get_hosted_zone()
        .id(zone)
        .send()
        .await
        .map_err(|e| format!("cannot read the hosted zone {zone}: {}", describe_error(&e)))?;
    let servers: Vec<String> = out
        .delegation_set()
        .map(|d| d.name_servers().to_vec())
        .unwrap_or_default();
    if servers.is_empty() {
        return Err(format!("the hosted zone {zone} has no name servers"));
    }
    Ok(servers)
}
