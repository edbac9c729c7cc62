//! `tug svc delete`, `tug job delete`, `tug env delete`, `tug app delete`: remove what is
//! deployed. The plan is printed and confirmed (terminal or `--yes`); stacks are deleted in
//! parallel, workloads before their environment; a workload's ECR repository (and its images)
//! goes only once no environment runs the workload any more. Running a delete again after an
//! interruption finishes the job: what is already gone is reported as such. Manifests in the
//! workspace are left alone. `tug app delete` of an application with a domain also removes the
//! application's hosted zone and its delegation when tug made them ([`app_domain::remove`]).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::cli::{EnvAndName, EnvDeleteArgs};
use crate::commands::Context;
use crate::commands::remote;
use crate::deploy::adopt::leftovers::{self, Leftovers};
use crate::deploy::app_domain::{self, ZoneFate};
use crate::deploy::artifacts;
use crate::deploy::aws::Aws;
use crate::deploy::images;
use crate::deploy::inventory::Inventory;
use crate::deploy::ownership;
use crate::deploy::stack;
use crate::deploy::teardown::{self, Holding, Removal, Survey};
use crate::error::{Error, Result};
use crate::exit;
use crate::manifest::domain::AppDomain;
use crate::manifest::model::WorkloadKind;
use crate::manifest::names;

/// How long a delete waits for stacks to go.
const TIMEOUT: Duration = Duration::from_secs(3600);

/// What a delete removes.
#[derive(Debug, Default)]
struct Plan {
    /// What the confirmation names, e.g. "service web from test, prod".
    subject: String,
    workload_stacks: Vec<String>,
    environment_stacks: Vec<String>,
    /// Workloads whose repository goes when none of their stacks is left.
    workloads: BTreeSet<String>,
    /// Delete every repository of the application.
    all_repositories: bool,
    /// The application's domain (`tug app delete`): its zone goes too, if tug made it.
    domain: Option<AppDomain>,
    /// The workspace's domain: where an adopted environment's leftover records are looked
    /// for ([`leftovers`]).
    dns_domain: Option<AppDomain>,
    /// Stack names the delete would cover by tug's naming (`<app>-<env>[-<workload>]`) for
    /// the workspace's environments and workloads: a stack of one of these names that tug
    /// does not own (a Copilot application's) makes the delete refuse instead of passing it
    /// over as "not deployed".
    conventional: Vec<String>,
}

pub(crate) fn workload(ctx: &Context, args: &EnvAndName, jobs: bool) -> Result<()> {
    let what = if jobs { "job" } else { "service" };
    let name = remote::required(args.name.as_deref(), what, "-n NAME")?.to_string();
    let (_, loaded) = remote::workspace(ctx)?;
    if let Some(wl) = loaded.workloads.iter().find(|w| w.name == name)
        && (wl.kind == WorkloadKind::ScheduledJob) != jobs
    {
        return Err(Error::usage(format!(
            "`{name}` is a {}; delete it with `tug {} delete`",
            wl.kind,
            if jobs { "svc" } else { "job" }
        )));
    }
    let env = args.env.clone();
    let conventional: Vec<String> = loaded
        .environments
        .iter()
        .filter(|e| env.as_deref().is_none_or(|n| e.name == n))
        .map(|e| names::workload_stack(&loaded.app, &e.name, &name))
        .chain(
            env.iter()
                .map(|e| names::workload_stack(&loaded.app, e, &name)),
        )
        .collect();
    execute(ctx, &loaded.app, move |inventory| {
        let stacks: Vec<String> = inventory
            .environments_of(&name)
            .iter()
            .filter(|s| env.as_deref().is_none_or(|e| s.environment == e))
            .map(|s| s.stack.clone())
            .collect();
        let envs: Vec<String> = inventory
            .environments_of(&name)
            .iter()
            .filter(|s| env.as_deref().is_none_or(|e| s.environment == e))
            .map(|s| s.environment.clone())
            .collect();
        Ok(Plan {
            subject: format!("{what} {name} from {}", list_or_none(&envs)),
            workload_stacks: stacks,
            environment_stacks: Vec::new(),
            workloads: BTreeSet::from([name.clone()]),
            all_repositories: false,
            domain: None,
            dns_domain: None,
            conventional,
        })
    })
}

pub(crate) fn environment(ctx: &Context, args: &EnvDeleteArgs) -> Result<()> {
    let name = remote::required(args.name.as_deref(), "environment", "-n ENV")?.to_string();
    let (_, loaded) = remote::workspace(ctx)?;
    let with_workloads = args.with_workloads;
    let dns_domain = loaded.domain.clone();
    let mut conventional = vec![names::env_stack(&loaded.app, &name)];
    if with_workloads {
        conventional.extend(
            loaded
                .workloads
                .iter()
                .map(|w| names::workload_stack(&loaded.app, &name, &w.name)),
        );
    }
    execute(ctx, &loaded.app, move |inventory| {
        let workloads = inventory.workloads_in(&name);
        if !workloads.is_empty() && !with_workloads {
            let names: Vec<&str> = workloads
                .iter()
                .filter_map(|s| s.workload.as_deref())
                .collect();
            return Err(Error::failure(format!(
                "environment {name} still runs {}",
                names.join(", ")
            ))
            .help("delete them first (`tug svc delete` / `tug job delete`), or pass --with-workloads to delete them with the environment"));
        }
        Ok(Plan {
            subject: format!(
                "environment {name}{}",
                if workloads.is_empty() {
                    String::new()
                } else {
                    format!(
                        " and its workloads {}",
                        workloads
                            .iter()
                            .filter_map(|s| s.workload.clone())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ),
            workload_stacks: workloads.iter().map(|s| s.stack.clone()).collect(),
            environment_stacks: inventory
                .environment(&name)
                .map(|s| s.stack.clone())
                .into_iter()
                .collect(),
            workloads: workloads
                .iter()
                .filter_map(|s| s.workload.clone())
                .collect(),
            all_repositories: false,
            domain: None,
            dns_domain,
            conventional,
        })
    })
}

pub(crate) fn application(ctx: &Context) -> Result<()> {
    let (_, loaded) = remote::workspace(ctx)?;
    let app = loaded.app.clone();
    let domain = loaded.domain.clone();
    let conventional: Vec<String> = loaded
        .environments
        .iter()
        .flat_map(|e| {
            std::iter::once(names::env_stack(&loaded.app, &e.name)).chain(
                loaded
                    .workloads
                    .iter()
                    .map(|w| names::workload_stack(&loaded.app, &e.name, &w.name)),
            )
        })
        .collect();
    execute(ctx, &loaded.app, move |inventory| {
        Ok(Plan {
            subject: format!("application {app}: every environment, workload and image"),
            workload_stacks: inventory
                .stacks
                .iter()
                .filter(|s| s.workload.is_some())
                .map(|s| s.stack.clone())
                .collect(),
            environment_stacks: inventory
                .environments()
                .iter()
                .map(|s| s.stack.clone())
                .collect(),
            workloads: BTreeSet::new(),
            all_repositories: true,
            dns_domain: domain.clone(),
            domain,
            conventional,
        })
    })
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "no environment".into()
    } else {
        items.join(", ")
    }
}

/// Reads what is deployed, plans with `plan`, confirms, deletes, and reports.
fn execute(ctx: &Context, app: &str, plan: impl FnOnce(&Inventory) -> Result<Plan>) -> Result<()> {
    let app = app.to_string();
    let result = remote::with_aws(ctx, |aws| async move {
        let inventory = Inventory::read(&aws, &app).await?;
        let plan = plan(&inventory)?;
        if let Some(why) = foreign_stacks(&aws, &app, &plan).await {
            return Err(Error::failure(why));
        }
        // Copilot's records around adopted environments; refuses when a zone holds the user's.
        let mut leftovers = Vec::new();
        for s in &plan.environment_stacks {
            leftovers.extend(leftovers::survey(&aws, s, plan.dns_domain.as_ref()).await?);
        }
        let existing = teardown::app_repositories(&aws, &app).await?;
        let (repositories, kept) = repositories(&app, &inventory, &plan, &existing);
        let zone = match &plan.domain {
            Some(d) => app_domain::zone_fate(&aws, &app, d).await,
            None => ZoneFate::Gone,
        };
        let zone_line = plan.domain.as_ref().and_then(|d| zone.plan_line(&app, d));
        if plan.workload_stacks.is_empty()
            && plan.environment_stacks.is_empty()
            && repositories.is_empty()
            && zone != ZoneFate::Delete
        {
            if let Some(l) = &zone_line {
                ctx.ui.info(l);
            }
            report(
                ctx,
                &[],
                &[],
                &format!("nothing to delete: {} is not deployed", plan.subject),
            );
            return Ok(());
        }
        ctx.ui.info(&format!("This deletes {}:", plan.subject));
        for s in plan.workload_stacks.iter().chain(&plan.environment_stacks) {
            ctx.ui.info(&format!("  stack {s}"));
        }
        for r in &repositories {
            ctx.ui
                .info(&format!("  ECR repository {r}, with every image in it"));
        }
        if let Some(l) = &zone_line {
            ctx.ui.info(l);
        }
        for l in leftovers.iter().flat_map(Leftovers::plan_lines) {
            ctx.ui.info(&l);
        }
        for r in &kept {
            ctx.ui.info(&format!(
                "  (ECR repository {r} is kept: other environments still run its images)"
            ));
        }
        let (mut survey, unread) = survey(&aws, &plan).await;
        if plan.all_repositories {
            keep_artifacts_bucket(ctx, &aws, &app, &mut survey).await;
        }
        show_survey(ctx, &survey, &unread);
        if !remote::confirm(ctx, &format!("Delete {}?", plan.subject))? {
            ctx.ui.info("nothing was deleted");
            return Ok(());
        }
        let mut removals = run_plan(ctx, &aws, &app, &plan, &repositories, &leftovers).await;
        if let Some(d) = plan.domain.as_ref().filter(|_| zone == ZoneFate::Delete)
            && !removals.iter().any(Removal::failed)
        {
            progress(
                ctx,
                &format!("deleting Route 53 hosted zone {app}.{}", d.name),
            );
            let done = app_domain::remove(&aws, &app, d).await;
            progress(ctx, &line(&done));
            removals.push(done);
        }
        let failed = removals.iter().any(Removal::failed);
        let end = if failed {
            format!(
                "{} was not completely deleted; run the same command again to finish",
                plan.subject
            )
        } else {
            format!("deleted {}", plan.subject)
        };
        report(ctx, &removals, &survey.retained, &end);
        // What was and was not deleted is reported above.
        crate::commands::status(if failed { exit::FAILURE } else { exit::SUCCESS })
    });
    result?
}

/// The artifacts bucket (env files, large templates) belongs to no stack and holds what
/// earlier task definitions read: deleting the application keeps it, and says so.
async fn keep_artifacts_bucket(ctx: &Context, aws: &Aws, app: &str, survey: &mut Survey) {
    match artifacts::Bucket::of(aws, app).await {
        Ok(bucket) => match artifacts::exists(aws, &bucket).await {
            Ok(true) => survey.retained.push(Holding {
                stack: String::new(),
                logical_id: "artifacts bucket".into(),
                resource_type: "AWS::S3::Bucket".into(),
                physical_id: Some(bucket.name),
            }),
            Ok(false) => {}
            Err(e) => ctx
                .ui
                .info(&format!("  (the artifacts bucket is kept: {e})")),
        },
        Err(e) => ctx
            .ui
            .info(&format!("  (the artifacts bucket, if any, is kept: {e})")),
    }
}

/// What the delete loses and what it leaves in the account, in the plan.
fn show_survey(ctx: &Context, survey: &Survey, unread: &[String]) {
    for e in unread {
        ctx.ui.info(&format!(
            "  (what this stack holds is not listed: {e}; everything in it is deleted)"
        ));
    }
    if !survey.lost.is_empty() {
        ctx.ui.info("Lost with them:");
        for h in &survey.lost {
            ctx.ui.info(&format!("  {}: {}", h.describe(), h.loss()));
        }
    }
    if !survey.retained.is_empty() {
        ctx.ui
            .info("Kept in the account (retained by their stacks, or tug's own; delete them yourself when no longer needed):");
        for h in &survey.retained {
            ctx.ui.info(&format!("  {}", h.describe()));
        }
    }
}

/// The repositories that go (all of them, or those of the named workloads once no other
/// environment runs them), and those of the named workloads kept for other environments.
fn repositories(
    app: &str,
    inventory: &Inventory,
    plan: &Plan,
    existing: &[String],
) -> (Vec<String>, Vec<String>) {
    let remaining = |name: &str| {
        inventory
            .environments_of(name)
            .iter()
            .any(|s| !plan.workload_stacks.contains(&s.stack))
    };
    let going: Vec<String> = existing
        .iter()
        .filter(|r| {
            plan.all_repositories
                || plan
                    .workloads
                    .iter()
                    .any(|w| **r == images::repository_name(app, w) && !remaining(w))
        })
        .cloned()
        .collect();
    let kept: Vec<String> = plan
        .workloads
        .iter()
        .filter(|w| remaining(w) && existing.contains(&images::repository_name(app, w)))
        .map(|w| images::repository_name(app, w))
        .collect();
    (going, kept)
}

/// Workload stacks, then Copilot's records around adopted environments, then environment
/// stacks (which workloads import from), then the delegations of their zones, then images.
async fn run_plan(
    ctx: &Context,
    aws: &Aws,
    app: &str,
    plan: &Plan,
    repositories: &[String],
    leftovers: &[Leftovers],
) -> Vec<Removal> {
    let deadline = Instant::now() + TIMEOUT;
    let mut removals = Vec::new();
    for (group, workloads) in [
        (&plan.workload_stacks, true),
        (&plan.environment_stacks, false),
    ] {
        if !workloads {
            // Route 53 deletes no zone that holds more than its own SOA and NS records.
            let done = clear_leftovers(ctx, aws, leftovers).await;
            let failed = done.iter().any(Removal::failed);
            removals.extend(done);
            if failed {
                return removals;
            }
        }
        if group.is_empty() {
            continue;
        }
        for s in group.iter() {
            progress(ctx, &format!("deleting stack {s}"));
        }
        let done = teardown::delete_stacks(aws, group, app, deadline).await;
        for r in &done {
            progress(ctx, &line(r));
        }
        let failed = done.iter().any(Removal::failed);
        // Revisions the deleted workload stacks retained (for rollbacks) go with them.
        let mut revisions = Vec::new();
        if workloads {
            for r in done.iter().filter(|r| !r.failed()) {
                if let Some(d) = teardown::deregister_revisions(aws, &r.name).await {
                    progress(ctx, &line(&d));
                    revisions.push(d);
                }
            }
        }
        if !workloads {
            // A delegation to a deleted zone would let anyone answer for its name.
            for l in leftovers {
                if done.iter().any(|r| r.name == l.stack && !r.failed())
                    && let Some(r) = leftovers::undelegate(aws, l).await
                {
                    progress(ctx, &line(&r));
                    removals.push(r);
                }
            }
        }
        removals.extend(done);
        removals.extend(revisions);
        if failed {
            // An environment whose workloads are not all gone cannot be deleted.
            return removals;
        }
    }
    for r in repositories {
        progress(ctx, &format!("deleting ECR repository {r}"));
        let done = teardown::delete_repository(aws, r).await;
        progress(ctx, &line(&done));
        removals.push(done);
    }
    removals
}

/// Deletes the records Copilot wrote around adopted environments (before their stacks).
async fn clear_leftovers(ctx: &Context, aws: &Aws, leftovers: &[Leftovers]) -> Vec<Removal> {
    let mut out = Vec::new();
    for l in leftovers {
        for r in leftovers::clear(aws, l).await {
            progress(ctx, &line(&r));
            out.push(r);
        }
    }
    out
}

fn progress(ctx: &Context, text: &str) {
    if !ctx.ui.json {
        ctx.ui
            .info(&format!("{} {text}", crate::deploy::events::timestamp()));
    }
}

fn line(r: &Removal) -> String {
    match &r.detail {
        Some(d) => format!("{} {}: {} ({d})", r.kind, r.name, r.result),
        None => format!(
            "{} {}: {} after {:.1}s",
            r.kind, r.name, r.result, r.seconds
        ),
    }
}

fn report(ctx: &Context, removals: &[Removal], retained: &[Holding], end: &str) {
    if ctx.ui.json {
        let failed = removals.iter().any(Removal::failed);
        ctx.ui.json(&json!({
            "outcome": if failed { "failure" } else { "success" },
            "message": end,
            "removed": removals,
            "retained": retained,
        }));
        return;
    }
    if !removals.is_empty() {
        let mut rows = vec![["RESOURCE", "NAME", "RESULT"].map(String::from).to_vec()];
        for r in removals {
            rows.push(vec![
                r.kind.to_string(),
                r.name.clone(),
                r.result.to_string(),
            ]);
        }
        ctx.ui.out("");
        for l in remote::table(&rows) {
            ctx.ui.out(&l);
        }
    }
    // What CloudFormation kept is still in the account (and may still cost money).
    let gone: BTreeSet<&str> = removals
        .iter()
        .filter(|r| r.kind == "stack" && r.result == "deleted")
        .map(|r| r.name.as_str())
        .collect();
    let left: Vec<&Holding> = retained
        .iter()
        // Those of deleted stacks, and those of no stack (the artifacts bucket).
        .filter(|h| h.stack.is_empty() || gone.contains(h.stack.as_str()))
        .collect();
    if !left.is_empty() {
        ctx.ui
            .info("Left in the account (retained by their stacks, or kept by tug):");
        for h in left {
            ctx.ui.info(&format!("  {}", h.describe()));
        }
    }
    ctx.ui.info(end);
}

/// The first refusal among the stacks the delete covers by name that tug does not own.
async fn foreign_stacks(aws: &Aws, app: &str, plan: &Plan) -> Option<String> {
    let planned: BTreeSet<&String> = plan
        .workload_stacks
        .iter()
        .chain(&plan.environment_stacks)
        .collect();
    let mut refusals = Vec::new();
    for name in plan.conventional.iter().filter(|n| !planned.contains(n)) {
        match stack::describe(aws, name).await {
            Ok(Some(info)) => {
                if let Some(why) = ownership::check(&info, name, app, "delete") {
                    refusals.push(why);
                }
            }
            Ok(None) => {}
            Err(e) => refusals.push(e),
        }
    }
    if refusals.is_empty() {
        None
    } else {
        Some(
            refusals
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }
}

/// What the planned stacks lose and keep, and the stacks that could not be read (said in
/// the plan rather than skipped silently).
async fn survey(aws: &Aws, plan: &Plan) -> (Survey, Vec<String>) {
    let mut out = Survey::default();
    let mut unread = Vec::new();
    for name in plan.workload_stacks.iter().chain(&plan.environment_stacks) {
        match teardown::survey(aws, name).await {
            Ok(s) => {
                out.lost.extend(s.lost);
                out.retained.extend(s.retained);
            }
            Err(e) => unread.push(e.to_string()),
        }
    }
    (out, unread)
}
