//! Workload stacks: the view model shared by every ECS workload type (log group, roles, task
//! definition, topics) and the parts each type adds (service and load balancing, queues,
//! schedules). Each concern lives in its own module; this one assembles them.

mod containers;
pub use containers::{EnvFile, env_files};
mod ec2;
#[cfg(test)]
pub(crate) mod fixture;
pub(crate) mod http;
mod iam;
mod job;
mod nlb;
mod scaling;
mod service;
mod step_scaling;
mod strategy;
mod worker;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::manifest::addons::{self, Addons};
use crate::manifest::load::{Loaded, ResolvedWorkload};
use crate::manifest::model::WorkloadKind;
use crate::manifest::union::ScalarOr;
use crate::manifest::workspace::Workspace;
use crate::render::patch::Patch;
use crate::render::{RenderError, RenderedStack, VERSION, finish, names};

/// The parameter through which `tug svc rollback` runs an earlier task definition revision:
/// [`NO_ROLLBACK`] on every normal deploy.
pub const ROLLBACK_PARAMETER: &str = "RollbackTaskDefinition";
/// The value of [`ROLLBACK_PARAMETER`] that runs the stack's own revision. A word rather than
/// an empty string: some CloudFormation implementations take an empty value for "unchanged".
pub const NO_ROLLBACK: &str = "none";

/// What every part of a workload's view model needs to know.
pub(crate) struct Scope<'a> {
    pub loaded: &'a Loaded,
    pub wl: &'a ResolvedWorkload,
    pub env: &'a str,
    /// The workload's addons (`addons/`), deployed as its nested stack.
    pub addons: Option<&'a Addons>,
}

impl Scope<'_> {
    /// `Fn::ImportValue` of an environment export.
    pub(crate) fn import(&self, name: &str) -> Value {
        json!({ "Fn::ImportValue": names::export(&self.loaded.app, self.env, name) })
    }

    /// A list export (comma-joined subnets) as a list.
    pub(crate) fn import_list(&self, name: &str) -> Value {
        json!({ "Fn::Split": [",", self.import(name)] })
    }

    /// `<app>-<env>-<workload>`, for resource names.
    pub(crate) fn full_name(&self) -> String {
        format!("{}-{}-{}", self.loaded.app, self.env, self.wl.name)
    }

    pub(crate) fn tags(&self) -> Value {
        json!([
            { "Key": "tug:app", "Value": self.loaded.app },
            { "Key": "tug:env", "Value": self.env },
            { "Key": "tug:workload", "Value": self.wl.name },
        ])
    }
}

/// The image the main container runs: a location as given, or the image a deploy builds and
/// pushes (passed in the `ContainerImage` parameter).
pub fn image_reference(loaded: &Loaded, wl: &ResolvedWorkload) -> (String, bool) {
    match wl.manifest.image.as_ref().and_then(|i| i.location.as_ref()) {
        Some(loc) => (loc.value.clone(), true),
        None => (
            format!(
                "<built and pushed by tug deploy: {}/{}>",
                loaded.app, wl.name
            ),
            false,
        ),
    }
}

/// Renders the stack `<app>-<env>-<workload>` for the environment the workload was merged for.
pub fn render(
    loaded: &Loaded,
    ws: &Workspace,
    wl: &ResolvedWorkload,
) -> Result<RenderedStack, RenderError> {
    let env = wl
        .environment
        .as_deref()
        .ok_or_else(|| RenderError::internal("workload without environment"))?;
    let addons = ws.workload_addons.get(&wl.name);
    let scope = Scope {
        loaded,
        wl,
        env,
        addons,
    };
    let context = context(&scope)?;
    let mut patches = Vec::new();
    let mut diags = Vec::new();
    for ov in wl.manifest.taskdef_overrides.iter().flat_map(|o| o.iter()) {
        match Patch::from_taskdef_override(ov) {
            Ok(p) => patches.push(p),
            Err(d) => diags.push(d),
        }
    }
    if let Some(file) = ws.workloads.iter().find(|f| f.name == wl.name)
        && let Some(node) = &file.patches
    {
        match Patch::from_patch_file(node) {
            Ok(mut p) => patches.append(&mut p),
            Err(mut d) => diags.append(&mut d),
        }
    }
    if !diags.is_empty() {
        return Err(RenderError::Input(diags));
    }
    let (image, _) = image_reference(loaded, wl);
    let mut parameters = BTreeMap::new();
    parameters.insert("ContainerImage".to_string(), image);
    for p in context["parameters"].as_array().into_iter().flatten() {
        if let (Some(name), Some(value)) = (p["name"].as_str(), p["file_value"].as_str()) {
            parameters.insert(name.to_string(), value.to_string());
        }
    }
    let template = finish("workload", context, &patches)?;
    if let Some(a) = addons {
        check_addon_parameters(a, &template)?;
    }
    let mut tags = BTreeMap::new();
    tags.insert("tug:app".to_string(), loaded.app.clone());
    tags.insert("tug:env".to_string(), env.to_string());
    tags.insert("tug:workload".to_string(), wl.name.clone());
    Ok(RenderedStack {
        stack_name: names::workload_stack(&loaded.app, env, &wl.name),
        workload: Some(wl.name.clone()),
        template,
        parameters,
        tags,
    })
}

fn kind_slug(kind: WorkloadKind) -> &'static str {
    match kind {
        WorkloadKind::LoadBalancedWebService => "load-balanced-web-service",
        WorkloadKind::BackendService => "backend-service",
        WorkloadKind::WorkerService => "worker-service",
        WorkloadKind::ScheduledJob => "scheduled-job",
        WorkloadKind::RequestDrivenWebService => "request-driven-web-service",
        WorkloadKind::StaticSite => "static-site",
    }
}

/// A hash of the manifest file as interpolated for this environment: it changes exactly when
/// the text that configures the workload changes, not when comments or layout do.
fn manifest_hash(wl: &ResolvedWorkload) -> String {
    names::sha256(&wl.interpolated.to_string())
}

fn context(scope: &Scope) -> Result<Value, RenderError> {
    let wl = scope.wl;
    let m = &wl.manifest;
    let (image, from_location) = image_reference(scope.loaded, wl);
    let mut parameters: Vec<Value> = Vec::new();
    let image_parameter = if from_location {
        json!({ "name": "ContainerImage", "description": "The image of the main container", "default": image })
    } else {
        json!({ "name": "ContainerImage", "description": "The image of the main container, built and pushed by tug deploy", "default": null })
    };
    parameters.push(image_parameter);

    let topics = topics(scope)?;
    let http = http::context(scope)?;
    let nlb = nlb::context(scope)?;
    let worker = worker::context(scope)?;
    let job = job::context(scope)?;
    let containers = containers::context(scope, &topics, &worker, &mut parameters)?;
    let iam = iam::context(scope, &topics, &worker);
    let strategy = strategy::Strategy::of(m.deployment.as_ref().map(|d| &d.value));
    let service = service::context(scope, &http, &nlb)?;
    let strategy = if service.is_object() {
        strategy::context(scope, strategy)
    } else {
        Value::Null
    };
    let autoscaling = scaling::context(scope, &http)?;
    if service.is_object() {
        parameters.push(json!({
            "name": ROLLBACK_PARAMETER,
            "description": "`none` for a normal deploy; `tug svc rollback` sets an earlier task definition revision of this service here to run it again",
            "default": NO_ROLLBACK,
            "file_value": NO_ROLLBACK,
        }));
    }
    for part in [&http, &service, &nlb, &worker, &job] {
        parameters.extend(part["parameters"].as_array().cloned().unwrap_or_default());
    }
    let retention = m
        .logging
        .as_ref()
        .and_then(|l| l.retention.as_ref())
        .map_or(30, |r| r.value);
    let addons_stack = addons_stack(scope, &mut parameters);
    let outputs = outputs(service.is_object(), [&worker, &job, &nlb], &topics);
    let description = format!(
        "tug {} {} in environment {} of application {}",
        wl.kind, wl.name, scope.env, scope.loaded.app
    );
    let log_group =
        json!({ "name": format!("/tug/{}", scope.full_name()), "retention": retention });
    // The parts are moved into the view model: `json!` would copy each of them (through
    // serde's serializer), which was a fifth of a workload's view model (issue 17).
    let view: serde_json::Map<String, Value> = [
        ("app", json!(scope.loaded.app)),
        ("env", json!(scope.env)),
        ("name", json!(wl.name)),
        ("kind", json!(wl.kind.as_str())),
        ("kind_slug", json!(kind_slug(wl.kind))),
        ("version", json!(VERSION)),
        ("description", Value::String(description)),
        ("manifest_hash", Value::String(manifest_hash(wl))),
        ("tags", scope.tags()),
        ("parameters", Value::Array(parameters)),
        ("cluster", scope.import("ClusterId")),
        ("namespace_id", scope.import("ServiceDiscoveryNamespaceID")),
        ("log_group", log_group),
        ("iam", iam),
        ("task_definition", containers),
        ("service", service),
        ("http", http),
        ("strategy", strategy),
        ("nlb", nlb),
        ("autoscaling", autoscaling),
        ("topics", topics),
        ("worker", worker),
        ("job", job),
        ("addons", addons_stack.unwrap_or(Value::Null)),
        ("outputs", Value::Array(outputs)),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value))
    .collect();
    Ok(Value::Object(view))
}

/// The nested stack of the workload's addons, and its template URL parameter.
fn addons_stack(scope: &Scope, parameters: &mut Vec<Value>) -> Option<Value> {
    let a = scope.addons?;
    parameters.push(json!({
        "name": addons::TEMPLATE_URL_PARAMETER,
        "description": "The URL of the addons template, uploaded by tug deploy",
        "default": null,
        "file_value": "<uploaded by tug deploy>",
    }));
    Some(json!({
        "parameters": a.stack_parameters(&[
            ("App", json!(scope.loaded.app)),
            ("Env", json!(scope.env)),
            ("Name", json!(scope.wl.name)),
        ]),
        "tags": scope.tags(),
    }))
}

/// The stack's outputs: the service, the task definition revision it deploys, the image, what
/// the worker, job and NLB output, and each topic's ARN.
fn outputs(has_service: bool, parts: [&Value; 3], topics: &Value) -> Vec<Value> {
    let mut outputs = Vec::new();
    if has_service {
        outputs.push(json!({ "id": "ServiceName", "description": "The ECS service", "value": { "Fn::GetAtt": ["Service", "Name"] } }));
    }
    let deployed_revision = if has_service {
        json!({ "Fn::If": ["RollingBack", { "Ref": ROLLBACK_PARAMETER }, { "Ref": "TaskDefinition" }] })
    } else {
        json!({ "Ref": "TaskDefinition" })
    };
    outputs.push(json!({ "id": "TaskDefinitionArn", "description": "The task definition revision this stack deploys", "value": deployed_revision }));
    outputs.push(json!({ "id": "ContainerImage", "description": "The image of the main container", "value": { "Ref": "ContainerImage" } }));
    for part in parts {
        outputs.extend(part["outputs"].as_array().cloned().unwrap_or_default());
    }
    for t in topics.as_array().into_iter().flatten() {
        outputs.push(json!({
            "id": format!("{}TopicArn", t["id"].as_str().unwrap_or("")),
            "description": format!(
                "The SNS {}topic {}",
                if t["fifo"] == json!(true) { "FIFO " } else { "" },
                t["name"].as_str().unwrap_or("")
            ),
            "value": { "Ref": format!("{}Topic", t["id"].as_str().unwrap_or("")) },
        }));
    }
    outputs
}

/// The values of `addons.parameters.yml` may refer to the parent's resources and parameters:
/// each one referred to must exist in the parent template tug rendered (Copilot's parameter
/// names `AppName`, `EnvName` and `WorkloadName` become their values). The template is parsed only when some value
/// refers to something.
fn check_addon_parameters(a: &Addons, template: &str) -> Result<(), RenderError> {
    if a.parameters
        .iter()
        .all(|(_, v, _)| addons::references(v).is_empty())
    {
        return Ok(());
    }
    let node =
        crate::manifest::yaml::parse_cloudformation(crate::manifest::source::SourceId(0), template)
            .map_err(|e| {
                RenderError::internal(format!("the workload template is not YAML: {}", e.message))
            })?;
    let doc: Value = addons::to_json(&node);
    let has = |section: &str, id: &str| doc[section].get(id).is_some();
    let mut diags = Vec::new();
    for (name, value, span) in &a.parameters {
        for id in addons::references(value) {
            if addons::COPILOT_PARENT_PARAMETERS
                .iter()
                .any(|(copilot, _)| *copilot == id)
            {
                // Written out as the value by `Addons::stack_parameters`.
                continue;
            }
            if !has("Resources", &id) && !has("Parameters", &id) {
                diags.push(crate::render::input_error(
                    *span,
                    format!("the addon parameter `{name}` refers to `{id}`, which is not in the workload's template"),
                    "refer to a resource or parameter tug renders (see `tug render`), or give the value itself; tug passes App, Env and Name already",
                ));
            } else if depends_on_addons(&doc["Resources"], &id, &mut Vec::new()) {
                diags.push(crate::render::input_error(
                    *span,
                    format!("the addon parameter `{name}` refers to `{id}`, which itself uses the addons' outputs: CloudFormation refuses the circular dependency"),
                    "pass a value that does not depend on the addons (the log group, a parameter), or read it inside the addon",
                ));
            }
        }
    }
    if diags.is_empty() {
        Ok(())
    } else {
        Err(RenderError::Input(diags))
    }
}

/// Whether resource `id` of the parent refers, directly or through other resources, to the
/// addons stack (`Ref`, `Fn::GetAtt` or `DependsOn`).
fn depends_on_addons(resources: &Value, id: &str, seen: &mut Vec<String>) -> bool {
    if id == addons::STACK_ID {
        return true;
    }
    if seen.iter().any(|s| s == id) {
        return false;
    }
    seen.push(id.to_string());
    let Some(resource) = resources.get(id) else {
        return false;
    };
    let mut next = addons::references(resource);
    match &resource["DependsOn"] {
        Value::String(d) => next.push(d.clone()),
        Value::Array(list) => {
            next.extend(list.iter().filter_map(|d| d.as_str().map(str::to_string)))
        }
        _ => {}
    }
    next.iter().any(|n| depends_on_addons(resources, n, seen))
}

/// SNS topics the workload publishes: `<app>-<env>-<workload>-<topic>`.
fn topics(scope: &Scope) -> Result<Value, RenderError> {
    let topics: Vec<_> = scope
        .wl
        .manifest
        .publish
        .as_ref()
        .and_then(|p| p.topics.as_ref())
        .into_iter()
        .flat_map(|t| t.iter())
        .filter(|t| t.name.is_some())
        .collect();
    let is_fifo = |t: &crate::manifest::decode::Located<crate::manifest::model::common::Topic>| {
        t.fifo.as_ref().is_some_and(|f| f.value.enabled())
    };
    // A standard and a FIFO topic may share a name (their topic names differ by `.fifo`), but
    // not a logical id: the FIFO one then gets `Fifo` appended, as Copilot's id came from
    // `<name>.fifo`. A FIFO topic alone keeps the id it was deployed with.
    let standard_ids: Vec<String> = topics
        .iter()
        .filter(|t| !is_fifo(t))
        .filter_map(|t| t.name.as_ref().map(|n| names::logical_id(&n.value)))
        .collect();
    let mut out: Vec<Value> = Vec::new();
    let mut diags = Vec::new();
    for t in &topics {
        let Some(name) = t.name.as_ref() else {
            continue;
        };
        let fifo = is_fifo(t);
        let cbd = t
            .fifo
            .as_ref()
            .and_then(|f| f.value.config())
            .and_then(|c| c.content_based_deduplication.as_ref())
            .is_some_and(|c| c.value);
        let suffix = if fifo { ".fifo" } else { "" };
        let mut id = names::logical_id(&name.value);
        // The key in COPILOT_SNS_TOPIC_ARNS, which is one JSON object.
        let mut key = name.value.clone();
        if fifo && standard_ids.contains(&id) {
            id.push_str("Fifo");
            key.push_str(".fifo");
        }
        if out.iter().any(|o| o["id"] == json!(id)) {
            diags.push(crate::render::input_error(
                name.span,
                format!(
                    "a second {} topic named `{}` (or with a name that differs only in punctuation or case)",
                    if fifo { "FIFO" } else { "standard" },
                    name.value
                ),
                "give each topic of `publish.topics` its own name; a standard and a FIFO topic may share one",
            ));
            continue;
        }
        out.push(json!({
            "id": id,
            "name": name.value,
            "key": key,
            "topic_name": format!("{}-{}{suffix}", scope.full_name(), name.value),
            "fifo": fifo,
            "content_based_deduplication": cbd,
        }));
    }
    if !diags.is_empty() {
        return Err(RenderError::Input(diags));
    }
    Ok(Value::Array(out))
}

/// The text of a `Variable`: plain values as strings, imports as `Fn::ImportValue`.
pub(crate) fn variable_value(v: &crate::manifest::model::common::Variable) -> Value {
    match v {
        ScalarOr::Scalar(s) => json!(s),
        ScalarOr::Config(c) => {
            json!({ "Fn::ImportValue": c.from_cfn.as_ref().map(|f| f.value.clone()).unwrap_or_default() })
        }
    }
}
