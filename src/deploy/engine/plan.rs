//! `tug deploy` of an environment and its workloads: every stack read at once, the
//! environment first, then the workloads concurrently with a bounded pool, each subscriber
//! after the publishers of its topics.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{Semaphore, watch};

use super::deployed::{Deployed, ToRead, read_all};
use super::parameters::{environment_parameters, workload_parameters};
use super::summary::{blocked_row, failed_row, finished, internal_row, interrupted_row};
use super::topics::{TopicsReady, publishers_of, topics_ready, wave_numbers};
use super::{Outcome, Overrides, Session, StackContext, SummaryRow, deploy_stack, interrupted};
use crate::deploy::aws::Aws;
use crate::deploy::ownership;
use crate::deploy::stack::{self, Phase};
use crate::error::{Error, Result};
use crate::exit;
use crate::manifest::load::{Loaded, ResolvedEnvironment, ResolvedWorkload};
use crate::manifest::workspace::Workspace;
use crate::render;

/// What a deploy covers.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Deploy the environment stack first.
    pub environment: bool,
    /// The workloads to deploy: `None` for none, an empty list for all.
    pub workloads: Option<Vec<String>>,
}

/// Deploys the environment stack (when planned), then the planned workloads concurrently.
pub async fn deploy_environment_and_workloads(
    session: &Session,
    loaded: &Loaded,
    ws: &Workspace,
    env_name: &str,
    plan: &Plan,
) -> Vec<SummaryRow> {
    deploy_with_overrides(session, loaded, ws, env_name, plan, &Overrides::new()).await
}

/// [`deploy_environment_and_workloads`], with fixed parameter values for some workloads.
pub async fn deploy_with_overrides(
    session: &Session,
    loaded: &Loaded,
    ws: &Workspace,
    env_name: &str,
    plan: &Plan,
    overrides: &Overrides,
) -> Vec<SummaryRow> {
    let mut rows = Vec::new();
    let Some(env) = loaded.environments.iter().find(|e| e.name == env_name) else {
        return rows;
    };
    let env_stack = render::names::env_stack(&loaded.app, env_name);
    let selected: Vec<&ResolvedWorkload> = match &plan.workloads {
        Some(names) => loaded
            .workloads
            .iter()
            .filter(|w| w.environment.as_deref() == Some(env_name))
            .filter(|w| names.is_empty() || names.contains(&w.name))
            .collect(),
        None => Vec::new(),
    };
    let mut to_read = vec![ToRead {
        name: env_stack.clone(),
        service: false,
    }];
    to_read.extend(selected.iter().map(|w| ToRead {
        name: render::names::workload_stack(&loaded.app, env_name, &w.name),
        service: w.kind.is_service(),
    }));
    let known = read_all(&session.aws, to_read).await;
    let mut env_unchanged = !plan.environment;
    if plan.environment {
        let row = deploy_environment(session, loaded, env, known.get(&env_stack).cloned()).await;
        env_unchanged = row.result == Outcome::NoChanges;
        let failed = row.result.exit_code() != exit::SUCCESS;
        rows.push(row);
        if failed {
            return rows;
        }
    }
    if plan.workloads.is_none() {
        return rows;
    }
    // The environment as read at the start, unless this deploy changed it.
    let read = known
        .get(&env_stack)
        .filter(|_| env_unchanged)
        .map(|d| d.info.clone());
    let cluster = match environment_cluster(&session.aws, &loaded.app, env_name, read).await {
        Ok(cluster) => cluster,
        Err(e) => {
            rows.push(failed_row(env_stack, e));
            return rows;
        }
    };
    let scope = Scope {
        session,
        loaded,
        ws,
        overrides,
        cluster,
    };
    rows.extend(deploy_workloads(&scope, &selected, known).await);
    rows
}

/// Renders the environment, fills in what only a deploy knows, and deploys it.
async fn deploy_environment(
    session: &Session,
    loaded: &Loaded,
    env: &ResolvedEnvironment,
    known: Option<Deployed>,
) -> SummaryRow {
    let started = Instant::now();
    let rendered = match render::environment::render(loaded, env) {
        Ok(rendered) => rendered,
        Err(e) => {
            return internal_row(render::names::env_stack(&loaded.app, &env.name), None, e);
        }
    };
    let outcome = match environment_parameters(&session.aws, loaded, &rendered).await {
        Ok(params) => {
            let context = StackContext {
                known,
                ..StackContext::default()
            };
            deploy_stack(session, &rendered, &params, context).await
        }
        Err(e) => Outcome::Failed(e),
    };
    finished(
        session.reporter.as_ref(),
        &rendered.stack_name,
        &outcome,
        started,
    );
    SummaryRow::new(rendered.stack_name, None, outcome, started, None)
}

/// The cluster of the environment the workloads deploy into, from its stack as `read` at the
/// start (`None`: read it now). `Err` says why no workload can deploy into it.
async fn environment_cluster(
    aws: &Aws,
    app: &str,
    env_name: &str,
    read: Option<Option<stack::StackInfo>>,
) -> Result<Option<String>> {
    let env_stack = render::names::env_stack(app, env_name);
    let info = match read {
        Some(info) => info,
        None => stack::describe(aws, &env_stack).await?,
    };
    let Some(info) = info.filter(|i| stack::phase(&i.status) != Phase::FailedCreate) else {
        return Err(Error::failure(format!(
            "environment {env_name} is not deployed (no stack {env_stack})"
        ))
        .help(format!(
            "run `tug env deploy -n {env_name}` first, or `tug deploy -e {env_name}`"
        )));
    };
    // Workloads import the environment's exports: deploying them into an environment tug
    // does not own would tie them to a stack tug must never change.
    if let Some(why) = ownership::check(
        &info,
        &env_stack,
        app,
        "deploy workloads into the environment of",
    ) {
        return Err(why);
    }
    Ok(info.output("ClusterId").map(str::to_string))
}

/// What every workload of a deploy is deployed with.
struct Scope<'a> {
    session: &'a Session,
    loaded: &'a Loaded,
    ws: &'a Workspace,
    overrides: &'a Overrides,
    /// The environment's cluster.
    cluster: Option<String>,
}

/// Deploys the selected workloads, all at once but for the pool's bound. Subscribers wait for
/// the publishers of their topics (a subscription to a topic that does not exist yet fails),
/// but only until the publisher's stack is in place: every workload starts at once and waits
/// for its word, not for its whole deploy. The rows come in the order of `selected`.
async fn deploy_workloads(
    scope: &Scope<'_>,
    selected: &[&ResolvedWorkload],
    mut known: BTreeMap<String, Deployed>,
) -> Vec<SummaryRow> {
    let session = scope.session;
    let wave_of = wave_numbers(selected);
    let (signals, receivers): (Vec<TopicsReady>, Vec<_>) =
        selected.iter().map(|_| TopicsReady::channel()).unzip();
    let pool = Arc::new(Semaphore::new(session.opts.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, wl) in selected.iter().enumerate() {
        // Publishers in the same wave are in a subscription cycle with it: not waited for.
        let publishers: Vec<(String, watch::Receiver<Option<bool>>)> = publishers_of(wl, selected)
            .into_iter()
            .filter_map(|p| selected.iter().position(|w| w.name == p))
            .filter(|&k| wave_of[k] < wave_of[index])
            .map(|k| (selected[k].name.clone(), receivers[k].clone()))
            .collect();
        let (session, loaded, ws, wl) = (
            session.clone(),
            scope.loaded.clone(),
            scope.ws.clone(),
            (*wl).clone(),
        );
        let (pool, signal) = (pool.clone(), signals[index].clone());
        let fixed = scope.overrides.get(&wl.name).cloned();
        let stack = render::names::workload_stack(
            &loaded.app,
            wl.environment.as_deref().unwrap_or(""),
            &wl.name,
        );
        let context = StackContext {
            cluster: scope.cluster.clone(),
            known: known.remove(&stack),
            topics_ready: signal.clone(),
        };
        tasks.spawn(async move {
            let mut blocked = Vec::new();
            for (name, rx) in publishers {
                if !topics_ready(rx).await {
                    blocked.push(name);
                }
            }
            let row = if blocked.is_empty() {
                // Waiting for publishers holds no place in the pool: they need one.
                let _permit = pool.acquire_owned().await;
                deploy_workload(&session, &loaded, &ws, &wl, fixed.as_ref(), context).await
            } else {
                blocked_row(stack, &wl.name, &blocked, &session.interrupts)
            };
            signal.send(row.result.exit_code() == exit::SUCCESS);
            (index, row)
        });
    }
    let mut rows = Vec::new();
    let mut done: Vec<(usize, SummaryRow)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(row) => done.push(row),
            Err(e) => rows.push(failed_row(
                "?".into(),
                Error::failure(format!("internal error: {e}")),
            )),
        }
    }
    done.sort_by_key(|(i, _)| *i);
    rows.extend(done.into_iter().map(|(_, r)| r));
    rows
}

/// Renders, resolves images and deploys one workload.
async fn deploy_workload(
    session: &Session,
    loaded: &Loaded,
    ws: &Workspace,
    wl: &ResolvedWorkload,
    fixed: Option<&BTreeMap<String, String>>,
    context: StackContext,
) -> SummaryRow {
    let (reporter, interrupts) = (session.reporter.as_ref(), &session.interrupts);
    let started = Instant::now();
    // Nothing (not even an image build) starts after Ctrl-C.
    if interrupted(interrupts) {
        let mut row = interrupted_row(render::names::workload_stack(
            &loaded.app,
            wl.environment.as_deref().unwrap_or(""),
            &wl.name,
        ));
        row.workload = Some(wl.name.clone());
        return row;
    }
    let rendered = match render::workload::render(loaded, ws, wl) {
        Ok(r) => r,
        Err(e) => {
            let stack = render::names::workload_stack(
                &loaded.app,
                wl.environment.as_deref().unwrap_or(""),
                &wl.name,
            );
            return internal_row(stack, Some(wl.name.clone()), e);
        }
    };
    let (outcome, image) =
        match workload_parameters(session, loaded, ws, wl, &rendered, fixed).await {
            Ok((params, image)) => (
                deploy_stack(session, &rendered, &params, context).await,
                Some(image),
            ),
            Err(e) => (Outcome::Failed(e), None),
        };
    finished(reporter, &rendered.stack_name, &outcome, started);
    SummaryRow::new(
        rendered.stack_name,
        Some(wl.name.clone()),
        outcome,
        started,
        image,
    )
}
