//! The adoption plan of one environment: for the environment stack and each workload stack
//! Copilot deployed there, whether it is Copilot's, half adopted or adopted already, the
//! adoption render, what happens to each resource, and what stops the stack's adoption.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::deploy::adopt::computed;
use crate::deploy::adopt::copilot;
use crate::deploy::adopt::phases;
use crate::deploy::adopt::template;
use crate::deploy::adopt::transform::{self, Adoption, Deployed, Row};
use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::ownership::{self, Owner};
use crate::deploy::replacement::Hazard;
use crate::deploy::stack::{self, StackInfo};
use crate::error::Error;
use crate::manifest::load::Loaded;
use crate::manifest::workspace::Workspace;
use crate::render::{self, RenderedStack};

/// Where a stack stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Copilot's, untouched.
    Copilot,
    /// Copilot's, with its custom resources retained: the switch to tug's template is left.
    Retained,
    /// Adopted already: skipped.
    Adopted,
}

/// The plan of one stack.
#[derive(Debug, Clone, Serialize)]
pub struct StackPlan {
    pub stack: String,
    /// The workload, or `None` for the environment stack.
    pub workload: Option<String>,
    pub state: State,
    pub resources: Vec<Row>,
    /// What stops this stack's adoption.
    pub stops: Vec<Hazard>,
    /// The custom resources, Lambda functions and roles retained before the switch.
    pub retained: Vec<String>,
    /// The conditions phase 1 pins (the environment's feature parameters written in).
    pub pinned: Vec<String>,
    #[serde(skip)]
    pub work: Option<Work>,
}

/// What executing a stack's plan needs.
#[derive(Debug, Clone)]
pub struct Work {
    pub info: StackInfo,
    /// The deployed template, as data.
    pub deployed: Value,
    /// Copilot's parameter values, for evaluating the deployed template.
    pub deployed_parameters: BTreeMap<String, String>,
    /// The adoption render, ready for a change set.
    pub adopted: RenderedStack,
    pub parameters: Vec<(String, String)>,
    /// The resources that exist (a resource whose condition was false does not).
    pub existing: BTreeSet<String>,
}

/// The plan of an environment.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub environment: String,
    pub stacks: Vec<StackPlan>,
    /// Workloads of the workspace without a Copilot stack in this environment.
    pub not_deployed: Vec<String>,
    /// Copilot workload stacks in this environment that the workspace has no manifest for:
    /// left alone.
    pub not_in_workspace: Vec<String>,
}

/// Plans the adoption of environment `env` and its workloads.
pub async fn plan(
    aws: &Aws,
    loaded: &Loaded,
    ws: &Workspace,
    env: &str,
    copilot_workloads: &[String],
) -> Result<Plan, Error> {
    let app = loaded.app.as_str();
    let environment = loaded
        .environments
        .iter()
        .find(|e| e.name == env)
        .ok_or_else(|| format!("environment `{env}` has no manifest"))?;
    let env_stack = render::names::env_stack(app, env);
    let mut stacks = Vec::new();
    let rendered = render::environment::render(loaded, environment).map_err(render_error)?;
    let info = stack::describe(aws, &env_stack).await?.ok_or_else(|| {
        Error::failure(format!(
            "Copilot has no stack {env_stack} for environment {env}"
        ))
        .help(format!(
            "`tug adopt` takes over what Copilot deployed; deploy a new environment with `tug deploy -e {env}`"
        ))
    })?;
    let params: Vec<(String, String)> = rendered
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    stacks.push(stack_plan(aws, &rendered, params, info, app).await?);

    let mut not_deployed = Vec::new();
    let mut seen = BTreeSet::new();
    for wl in loaded
        .workloads
        .iter()
        .filter(|w| w.environment.as_deref() == Some(env))
    {
        seen.insert(wl.name.clone());
        let name = render::names::workload_stack(app, env, &wl.name);
        let Some(info) = stack::describe(aws, &name).await? else {
            not_deployed.push(wl.name.clone());
            continue;
        };
        let rendered = render::workload::render(loaded, ws, wl).map_err(render_error)?;
        let deployed_params: BTreeMap<String, String> = info.parameters.iter().cloned().collect();
        let params = workload_parameters(&rendered, &deployed_params)?;
        stacks.push(stack_plan(aws, &rendered, params, info, app).await?);
    }
    let mut not_in_workspace = Vec::new();
    for name in copilot_workloads {
        if seen.contains(name) {
            continue;
        }
        let stack_name = render::names::workload_stack(app, env, name);
        if stack::describe(aws, &stack_name).await?.is_some() {
            not_in_workspace.push(stack_name);
        }
    }
    Ok(Plan {
        environment: env.to_string(),
        stacks,
        not_deployed,
        not_in_workspace,
    })
}

/// A workload's parameter values for adoption: what Copilot deployed where tug's template
/// has a parameter of the same name (the running image stays the running image), tug's
/// rendered value otherwise.
fn workload_parameters(
    rendered: &RenderedStack,
    deployed: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for (k, v) in &rendered.parameters {
        let value = match deployed.get(k) {
            Some(d) if !d.is_empty() => d.clone(),
            _ => v.clone(),
        };
        if value.starts_with('<') {
            return Err(Error::failure(format!(
                "{}: parameter {k} needs a deploy-time value ({value}) that Copilot's stack does not have",
                rendered.stack_name
            ))
            .help("adopt without it first, or deploy the workload with `tug deploy` after adopting the environment"));
        }
        out.push((k.clone(), value));
    }
    Ok(out)
}

/// The plan of one stack: where it stands, and unless adopted already, its adoption render.
async fn stack_plan(
    aws: &Aws,
    rendered: &RenderedStack,
    parameters: Vec<(String, String)>,
    info: StackInfo,
    app: &str,
) -> Result<StackPlan, Error> {
    let name = rendered.stack_name.clone();
    if owner_state(&info, &name, app)? == State::Adopted {
        return Ok(StackPlan {
            stack: name,
            workload: rendered.workload.clone(),
            state: State::Adopted,
            resources: Vec::new(),
            stops: Vec::new(),
            retained: Vec::new(),
            pinned: Vec::new(),
            work: None,
        });
    }
    let text = deployed_template(aws, &name).await?;
    let deployed_parameters: BTreeMap<String, String> = info.parameters.iter().cloned().collect();
    let deployed = template::parse(&text).map_err(|e| in_stack(&name, "", e))?;
    let listed = stack::resources(aws, &name).await?;
    let known = template::Known {
        parameters: &deployed_parameters,
        stack_name: &name,
    };
    let computed = computed::read(aws, &name, &listed, &deployed, &known).await?;
    let existing = existing_resources(listed, &deployed, &known);
    let exports = exports(aws, &name).await?;
    let tug_template =
        template::parse(&rendered.template).map_err(|e| in_stack(&name, " (rendered)", e))?;
    let tug_parameters: BTreeMap<String, String> = parameters.iter().cloned().collect();
    let Adoption {
        template: adopted_template,
        rows,
        hazards,
        retained,
    } = transform::adopt(
        &Deployed {
            stack_name: &name,
            template: &deployed,
            parameters: &deployed_parameters,
            existing: &existing,
            exports: &exports,
            computed: &computed,
        },
        &tug_template,
        &tug_parameters,
    );
    let (_, pinned) = phases::phase_one(&deployed, &retained, &deployed_parameters, &name);
    let state = phase_state(&deployed, &retained);
    let adopted = adopted_stack(rendered, &adopted_template, &info)?;
    Ok(StackPlan {
        stack: name,
        workload: rendered.workload.clone(),
        state,
        resources: rows,
        stops: hazards,
        retained,
        pinned,
        work: Some(Work {
            info,
            deployed,
            deployed_parameters,
            adopted,
            parameters,
            existing,
        }),
    })
}

/// Whether stack `name` is Copilot's (to adopt) or adopted already; an error for a stack of
/// tug's own or of another owner.
fn owner_state(info: &StackInfo, name: &str, app: &str) -> Result<State, Error> {
    match ownership::owner(&info.tags, app) {
        Owner::Tug if info.tag(copilot::ADOPTED_TAG).is_some() => Ok(State::Adopted),
        Owner::Tug => Err(Error::failure(format!(
            "stack {name} is tug's already (it was not deployed by Copilot); deploy it with `tug deploy`"
        ))
        .about(name)),
        Owner::Copilot(_) => Ok(State::Copilot),
        Owner::Other(_) => Err(ownership::check(info, name, app, "adopt").unwrap_or_else(|| {
            Error::failure(format!("stack {name} is not Copilot's")).about(name)
        })),
    }
}

/// The resources of the deployed stack that exist: those the stack lists, and those the
/// template creates without a condition (a stack's resource list can lag behind, and an
/// emulator leaves out types it does not implement); none whose condition is known false.
fn existing_resources(
    listed: Vec<stack::Resource>,
    deployed: &Value,
    known: &template::Known,
) -> BTreeSet<String> {
    let mut existing: BTreeSet<String> = listed
        .into_iter()
        .filter(|r| !r.logical_id.is_empty())
        .map(|r| r.logical_id)
        .collect();
    let Some(res) = deployed.get("Resources").and_then(Value::as_object) else {
        return existing;
    };
    let condition = |r: &Value| {
        r.get("Condition")
            .and_then(Value::as_str)
            .map(|c| template::condition(deployed, c, known))
    };
    existing.extend(
        res.iter()
            .filter(|(_, r)| matches!(condition(r), None | Some(Some(true))))
            .map(|(id, _)| id.clone()),
    );
    // A condition known to be false created nothing, whatever the stack lists.
    existing.retain(|id| res.get(id).and_then(condition) != Some(Some(false)));
    existing
}

/// Copilot's stack as it stands: half adopted (phase one done: marked, or every retained
/// resource retained already) or untouched.
fn phase_state(deployed: &Value, retained: &[String]) -> State {
    let marked = deployed
        .pointer(&format!("/Metadata/{}", phases::PHASE_ONE_MARKER))
        .is_some();
    let all_retained = !retained.is_empty()
        && retained.iter().all(|id| {
            deployed
                .pointer(&format!("/Resources/{id}/DeletionPolicy"))
                .and_then(Value::as_str)
                == Some("Retain")
        });
    if marked || all_retained {
        State::Retained
    } else {
        State::Copilot
    }
}

/// The adoption render ready for a change set: the adopted template, tug's tags added to
/// Copilot's, and the adoption tag.
fn adopted_stack(
    rendered: &RenderedStack,
    template: &Value,
    info: &StackInfo,
) -> Result<RenderedStack, Error> {
    let mut adopted = rendered.clone();
    adopted.template = serde_json::to_string(template)
        .map_err(|e| Error::failure(format!("internal error: {e}")))?;
    for (k, v) in &info.tags {
        adopted.tags.entry(k.clone()).or_insert_with(|| v.clone());
    }
    adopted
        .tags
        .insert(copilot::ADOPTED_TAG.into(), copilot::ADOPTED_FROM.into());
    Ok(adopted)
}

/// A stack's template as submitted.
pub async fn deployed_template(aws: &Aws, name: &str) -> Result<String, Error> {
    aws.cfn
        .get_template()
        .stack_name(name)
        .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
        .send()
        .await
        .map(|out| out.template_body().unwrap_or_default().to_string())
        .map_err(|e| {
            Error::failure(format!(
                "cannot read the template of {name}: {}",
                describe_error(&e)
            ))
            .about(name)
        })
}

/// A template of stack `name` that cannot be read, its text prefixed with the stack's name
/// (and `which` template it is).
fn in_stack(name: &str, which: &str, e: Error) -> Error {
    Error::failure(format!("{name}{which}: {}", e.message())).about(name)
}

/// The export names a stack has.
async fn exports(aws: &Aws, name: &str) -> Result<BTreeSet<String>, Error> {
    let out = aws
        .cfn
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| {
            Error::failure(format!("cannot read {name}: {}", describe_error(&e))).about(name)
        })?;
    Ok(out
        .stacks()
        .iter()
        .flat_map(|s| s.outputs())
        .filter_map(|o| o.export_name().map(str::to_string))
        .collect())
}

fn render_error(e: render::RenderError) -> String {
    match e {
        render::RenderError::Input(d) => d
            .iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
        render::RenderError::Internal(m) => {
            format!("internal error while rendering (please report it): {m}")
        }
    }
}
