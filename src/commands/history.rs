//! `tug history -e ENV -n NAME`: a service's past deployments, newest first — the task
//! definition revisions its stack rolled out, with when, the strategy, the image and how each
//! deploy ended (as tug recorded it on the revision). Text table or JSON.

use serde_json::json;

use crate::cli::HistoryArgs;
use crate::commands::Context;
use crate::commands::remote;
use crate::deploy::revisions::{self, Revision};
use crate::exit;
use crate::render::names;

/// Which workload in which environment a command is about, checked against the workspace.
pub(crate) struct Subject {
    pub app: String,
    pub env: String,
    pub name: String,
}

impl Subject {
    /// From `-e` and `-n`: both required, and the workload must be a service of the workspace.
    pub fn service(ctx: &Context, env: Option<&str>, name: Option<&str>) -> Result<Subject, u8> {
        let (Some(env), Some(name)) = (env, name) else {
            ctx.ui
                .error("which service, in which environment? pass -e ENV -n NAME");
            return Err(exit::USAGE);
        };
        let (_, loaded) = ctx.load_valid(Some(env.to_string()))?;
        match loaded.workloads.iter().find(|w| w.name == name) {
            None => {
                ctx.ui
                    .error(&format!("no workload named `{name}` in this workspace"));
                Err(exit::USAGE)
            }
            Some(w) if w.kind == crate::manifest::model::WorkloadKind::ScheduledJob => {
                ctx.ui.error(&format!(
                    "`{name}` is a Scheduled Job; history and rollback are for services"
                ));
                Err(exit::USAGE)
            }
            Some(_) => Ok(Subject {
                app: loaded.app.clone(),
                env: env.to_string(),
                name: name.to_string(),
            }),
        }
    }

    pub fn stack(&self) -> String {
        names::workload_stack(&self.app, &self.env, &self.name)
    }
}

pub fn run(ctx: &Context, args: &HistoryArgs) -> u8 {
    let subject = match Subject::service(ctx, args.env.as_deref(), args.name.as_deref()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (stack_name, service) = (subject.stack(), subject.name.clone());
    let limit = args.limit;
    let result = remote::with_aws(ctx, |aws| async move {
        let stack = revisions::service_stack(&aws, &stack_name, &service).await?;
        let family = stack
            .family()
            .ok_or_else(|| format!("{} records no task definition", stack.stack))?;
        let revs = revisions::list(
            &aws,
            &family,
            &service,
            stack.task_definition.as_deref(),
            limit,
        )
        .await?;
        Ok::<_, String>((stack, revs))
    });
    let (stack, revs) = match result {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            ctx.ui.error(&e);
            return exit::FAILURE;
        }
        Err(code) => return code,
    };
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
        return exit::SUCCESS;
    }
    if revs.is_empty() {
        ctx.ui
            .info(&format!("{} has no recorded deployments", subject.name));
        return exit::SUCCESS;
    }
    ctx.ui.out(&table(&revs));
    exit::SUCCESS
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
