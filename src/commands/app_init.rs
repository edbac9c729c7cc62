//! `tug app init`: the application's shared resources, made ahead of the first deploy: one ECR
//! repository per workload that builds an image (`<app>/<workload>`, scan on push, a lifecycle
//! policy that expires only untagged images: [`images::lifecycle_policy`]), so that a pipeline
//! can push before anything is deployed, and the application's artifacts bucket
//! ([`artifacts`]: env files, addon and large templates), as Copilot made its bucket at `app
//! init`. Idempotent: existing repositories are reported and left as they are, except that the
//! count-based lifecycle policy earlier versions of tug set (which could expire a deployed
//! image) is replaced; the bucket's settings are (re)applied. `tug deploy` makes any that are
//! missing too.
//!
//! With `--domain example.com` (Copilot's `app init --domain`), it also finds the domain's
//! public hosted zone, makes the application's zone `<app>.example.com` with its delegation
//! ([`app_domain`]), and records the domain and both zone ids under `domain:` in `.workspace`,
//! where rendering reads them offline. A workspace that already has another domain is refused:
//! Copilot could not change an application's domain either, and every name and certificate
//! of the deployed environments hangs on it.

use serde::Serialize;
use serde_json::json;

use crate::cli::AppInitArgs;
use crate::commands::Context;
use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::{app_domain, artifacts, images};
use crate::error::Error;
use crate::error::Result;
use crate::exit;
use crate::manifest::domain::{self, AppDomain};
use crate::manifest::load::Loaded;

#[derive(Debug, Serialize)]
struct Repository {
    workload: String,
    repository: String,
    /// `created`, `exists` or `failed`.
    result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

/// What `tug app init` did in the account.
struct Outcome {
    app: String,
    repos: Vec<Repository>,
    bucket: String,
    /// The artifacts bucket, or why it could not be made.
    made: std::result::Result<artifacts::Ensured, String>,
    /// The domain recorded in `.workspace`, and whether its zone was created.
    domain: Option<(AppDomain, app_domain::Made)>,
}

impl Outcome {
    fn bucket_result(&self) -> &'static str {
        match &self.made {
            Ok(artifacts::Ensured::Created) => "created",
            Ok(artifacts::Ensured::Exists) => "exists",
            Err(_) => "failed",
        }
    }
}

pub(crate) fn run(ctx: &Context, args: &AppInitArgs) -> Result<()> {
    let (ws, loaded) = ctx.load_valid(None)?;
    let wanted = wanted_domain(args, &loaded)?;
    let mut building: Vec<String> = loaded
        .workloads
        .iter()
        .filter(|w| images::builds(w))
        .map(|w| w.name.clone())
        .collect();
    building.sort();
    building.dedup();
    let settings = crate::commands::remote::settings(ctx);
    let app = loaded.app.clone();
    let (repos, bucket, made, domain) = ctx.block_on(async {
        let aws = Aws::connect(&settings).await?;
        let mut out = Vec::new();
        for workload in &building {
            out.push(repository(&aws, &app, workload).await);
        }
        let bucket = artifacts::Bucket::of(&aws, &app).await?;
        let made = artifacts::ensure(&aws, &bucket, &app)
            .await
            .map_err(|e| e.to_string());
        let domain = match &wanted {
            Some(d) => Some(app_domain::ensure(&aws, &app, d).await),
            None => None,
        };
        Ok::<_, Error>((out, bucket.name, made, domain))
    })??;
    let domain = match domain {
        Some(Ok((d, zone_made))) => {
            record_domain(&ws.dir, &d)?;
            Some((d, zone_made))
        }
        Some(Err(e)) => return Err(e),
        None => None,
    };
    let outcome = Outcome {
        app,
        repos,
        bucket,
        made,
        domain,
    };
    if ctx.ui.json {
        print_json(ctx, &outcome);
    } else {
        print_text(ctx, &outcome);
    }
    // Each repository's and the bucket's outcome is reported; a failed one fails the command.
    let failed = outcome.repos.iter().any(|r| r.result == "failed") || outcome.made.is_err();
    crate::commands::status(if failed { exit::FAILURE } else { exit::SUCCESS })
}

/// The `--domain` asked for, normalised: a valid domain, and the one the application has if
/// it has one.
fn wanted_domain(args: &AppInitArgs, loaded: &Loaded) -> Result<Option<String>> {
    let wanted = args
        .domain
        .as_deref()
        .map(|d| d.trim_end_matches('.').to_ascii_lowercase());
    if let Some(d) = &wanted {
        if let Some(problem) = domain::domain_problem(d) {
            return Err(Error::usage(format!("--domain {d}: the domain {problem}"))
                .help("give the domain whose public Route 53 hosted zone this account holds, such as example.com"));
        }
        if let Some(have) = loaded.domain.as_ref().filter(|have| have.name != *d) {
            return Err(Error::usage(format!(
                "application {} already has the domain {}; it cannot move to {d}",
                loaded.app, have.name
            ))
            .help("the environments' hosted zones, certificates and service names hang on the domain (Copilot could not change it either); use another application for the new domain"));
        }
    }
    Ok(wanted)
}

fn print_json(ctx: &Context, o: &Outcome) {
    ctx.ui.out(
        &json!({
            "app": o.app,
            "repositories": o.repos,
            "artifacts_bucket": { "name": o.bucket, "result": o.bucket_result(), "detail": o.made.as_ref().err() },
            "domain": o.domain.as_ref().map(|(d, zone_made)| json!({
                "name": d.name,
                "hosted_zone": d.hosted_zone,
                "app_hosted_zone": d.app_hosted_zone,
                "app_zone_result": zone_result(*zone_made),
            })),
        })
        .to_string(),
    );
}

fn print_text(ctx: &Context, o: &Outcome) {
    let (app, bucket) = (&o.app, &o.bucket);
    match &o.made {
        Ok(_) => ctx.ui.out(&format!(
            "S3 bucket {bucket} (artifacts): {}",
            o.bucket_result()
        )),
        Err(e) => ctx.ui.error(e),
    }
    if let Some((d, zone_made)) = &o.domain {
        ctx.ui.out(&format!(
            "Route 53 hosted zone {app}.{} ({}): {}; delegated from {} ({}); recorded in .workspace",
            d.name,
            d.app_hosted_zone,
            zone_result(*zone_made),
            d.name,
            d.hosted_zone
        ));
    }
    if o.repos.is_empty() {
        ctx.ui.info(&format!(
            "{app}: no workload builds an image, so there is no ECR repository to create (images given by `image.location` are pulled as they are)"
        ));
    } else {
        for r in &o.repos {
            let tail = r
                .uri
                .as_ref()
                .or(r.detail.as_ref())
                .map(|x| format!(" ({x})"))
                .unwrap_or_default();
            ctx.ui.out(&format!(
                "ECR repository {}: {}{tail}",
                r.repository, r.result
            ));
        }
    }
}

fn zone_result(made: app_domain::Made) -> &'static str {
    match made {
        app_domain::Made::Created => "created",
        app_domain::Made::Exists => "exists",
    }
}

/// Writes the domain into `.workspace`, keeping its other lines.
pub(crate) fn record_domain(dir: &std::path::Path, d: &AppDomain) -> Result<()> {
    let path = dir.join(".workspace");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::failure(format!("cannot read {}: {e}", path.display())))?;
    std::fs::write(&path, domain::with_domain(&text, d))
        .map_err(|e| Error::failure(format!("cannot write {}: {e}", path.display())))?;
    Ok(())
}

async fn repository(aws: &Aws, app: &str, workload: &str) -> Repository {
    let name = images::repository_name(app, workload);
    let existing = match aws
        .ecr
        .describe_repositories()
        .repository_names(&name)
        .send()
        .await
    {
        Ok(out) => out
            .repositories()
            .first()
            .and_then(|r| r.repository_uri())
            .map(str::to_string),
        Err(e) => {
            let text = describe_error(&e);
            if text.contains("RepositoryNotFound") || text.contains("does not exist") {
                None
            } else {
                return Repository {
                    workload: workload.into(),
                    repository: name.clone(),
                    result: "failed",
                    uri: None,
                    detail: Some(format!("cannot read ECR repository {name}: {text}")),
                };
            }
        }
    };
    let (result, uri) = match existing {
        Some(uri) => (
            "exists",
            images::replace_earlier_policy(aws, &name)
                .await
                .map(|()| uri),
        ),
        None => ("created", images::ensure_repository(aws, &name).await),
    };
    match uri {
        Ok(uri) => Repository {
            workload: workload.into(),
            repository: name,
            result,
            uri: Some(uri),
            detail: None,
        },
        Err(e) => Repository {
            workload: workload.into(),
            repository: name,
            result: "failed",
            uri: None,
            detail: Some(e.to_string()),
        },
    }
}
