//! `tug history -e ENV -n NAME`: a service's past deployments, newest first — the task
//! definition revisions its stack rolled out, with when, the strategy, the image and how each
//! deploy ended (as tug recorded it on the revision). Text table or JSON.

use serde_json::json;

use crate::cli::HistoryArgs;
use crate::commands::Context;
use crate::commands::remote;
use crate::deploy::revisions::{self, Revision};
use crate::error::{Error, Result};
use crate::manifest::names;

/// Which workload in which environment a command is about, checked against the workspace.
pub(crate) struct Subject {
    pub app: String,
    pub env: String,
    pub name: String,
}

impl Subject {
    /// From `-e` and `-n`: both required, and the workload must be a service of the workspace.
    pub(crate) fn service(ctx: &Context, env: Option<&str>, name: Option<&str>) -> Result<Subject> {
        let (Some(env), Some(name)) = (env, name) else {
            return Err(Error::usage(
                "which service, in which environment? pass -e ENV -n NAME",
            ));
        };
        let (_, loaded) = ctx.load_valid(Some(env.to_string()))?;
        match loaded.workloads.iter().find(|w| w.name == name) {
            None => Err(Error::usage(format!(
                "no workload named `{name}` in this workspace"
            ))),
            Some(w) if w.kind == crate::manifest::model::WorkloadKind::ScheduledJob => {
                Err(Error::usage(format!(
                    "`{name}` is a Scheduled Job; history and rollback are for services"
                )))
            }
            Some(_) => Ok(Subject {
                app: loaded.app.clone(),
                env: env.to_string(),
                name: name.to_string(),
            }),
        }
    }

    pub(crate) fn stack(&self) -> String {
        names::workload_stack(&self.app, &self.env, &self.name)
    }
}

pub(crate) fn run(ctx: &Context, args: &HistoryArgs) -> Result<()> {
    let subject = Subject::service(ctx, args.env.as_deref(), args.name.as_deref())?;
    let (stack_name, service) = (subject.stack(), subject.name.clone());
    let limit = args.limit;
    let result = remote::with_aws(ctx, |aws| async move {
        let stack = revisions::service_stack(&aws, &stack_name, &service).await?;
        let family = stack
            .family()
            .ok_or_else(|| Error::failure(format!("{} records no task definition", stack.stack)))?;
        let revs = revisions::list(
            &aws,
            &family,
            &service,
            stack.task_definition.as_deref(),
            limit,
        )
        .await?;
        Ok::<_, Error>((stack, revs))
    });
    let (stack, revs) = result??;
    if ctx.ui.json {
        ctx.ui.out(
            &json!({
                "app": subject.app,
                "environment": subject.env,
                "service": subject.name,
                "stack": stack.stack,
                "deployments": revs,
            })
            .to_string(),
        );
        return Ok(());
    }
    if revs.is_empty() {
        ctx.ui
            .info(&format!("{} has no recorded deployments", subject.name));
        return Ok(());
    }
    ctx.ui.out(&table(&revs));
    Ok(())
}

fn table(revs: &[Revision]) -> String {
    let mut rows = vec![
        ["REVISION", "DEPLOYED", "STRATEGY", "OUTCOME", "IMAGE"]
            .map(String::from)
            .to_vec(),
    ];
    for r in revs {
        rows.push(vec![
            format!(
                "{}{}",
                r.revision,
                if r.current { " (current)" } else { "" }
            ),
            remote::or_dash(r.deployed_at.as_deref().or(r.registered_at.as_deref())),
            remote::or_dash(r.strategy.as_deref()),
            r.outcome.clone().unwrap_or_else(|| "not recorded".into()),
            remote::or_dash(r.image.as_deref()),
        ]);
    }
    remote::table(&rows).join("\n")
}
