//! The manifest pipeline: for each environment, interpolate `${VAR}`s, decode into typed
//! manifests, check the keys each workload type accepts, and merge the `environments.<env>`
//! override. The result is one resolved manifest per (workload, environment), ready for the
//! validator and the renderer.

use std::collections::HashMap;

use crate::error::Error;
use crate::manifest::codes;
use crate::manifest::decode::{Decode, DecodeCx, Located, did_you_mean, node_to_json};
use crate::manifest::diagnostic::{Diagnostic, Severity};
use crate::manifest::interpolate::{Interpolation, Variables, interpolate};
use crate::manifest::merge::Merge;
use crate::manifest::model::workload::FifoQueueConfig;
use crate::manifest::model::{EnvironmentManifest, WorkloadKind, WorkloadManifest};
use crate::manifest::source::SourceId;
use crate::manifest::union::BoolOr;
use crate::manifest::workspace::{ManifestFile, Workspace};
use crate::manifest::yaml::{Node, NodeKind};

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Unknown keys are warnings instead of errors.
    pub lenient: bool,
    /// Only this environment (all of them when `None`).
    pub environment: Option<String>,
    /// The process environment, for `${VAR}` interpolation.
    pub variables: HashMap<String, String>,
}

/// An environment manifest after interpolation.
#[derive(Debug, Clone)]
pub struct ResolvedEnvironment {
    pub name: String,
    pub source: SourceId,
    pub manifest: EnvironmentManifest,
    /// The manifest file after interpolation, as JSON (recorded as a hash in the stack).
    pub interpolated: serde_json::Value,
}

/// A workload manifest merged for one environment.
#[derive(Debug, Clone)]
pub struct ResolvedWorkload {
    /// The workload name (its folder name).
    pub name: String,
    pub kind: WorkloadKind,
    /// The environment this manifest is merged for; `None` when the workspace has none.
    pub environment: Option<String>,
    pub source: SourceId,
    pub manifest: WorkloadManifest,
    /// The manifest file after interpolation for this environment, as JSON.
    pub interpolated: serde_json::Value,
}

/// Everything loaded from a workspace.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub app: String,
    /// The application's domain from `.workspace` (`tug app init --domain`).
    pub domain: Option<crate::manifest::domain::AppDomain>,
    /// The environments checked, in order.
    pub environment_names: Vec<String>,
    pub environments: Vec<ResolvedEnvironment>,
    pub workloads: Vec<ResolvedWorkload>,
    /// Workloads of a type tug does not deploy: (name, kind).
    pub unsupported: Vec<(String, WorkloadKind)>,
    pub diags: Vec<Diagnostic>,
    /// The environments' addons (`environments/addons/`), which every environment stack
    /// deploys as its nested stack.
    pub environment_addons: Option<crate::manifest::addons::Addons>,
    /// Positions of values left unresolved by interpolation: only the interpolation
    /// diagnostic is reported there, not what rules would say about the placeholder.
    pub unresolved: Vec<crate::manifest::source::Span>,
}

/// Why loading could not even start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    UnknownEnvironment { name: String, known: Vec<String> },
}

/// An environment the workspace does not have is a usage error (`-e` names it).
impl From<&LoadError> for Error {
    fn from(e: &LoadError) -> Error {
        match e {
            LoadError::UnknownEnvironment { name, known } => {
                let names: Vec<&str> = known.iter().map(String::as_str).collect();
                let help = if let Some(s) = did_you_mean(name, &names) {
                    format!("did you mean `{s}`?")
                } else if known.is_empty() {
                    "the workspace has no environments; run `tug env init`".to_string()
                } else {
                    format!("environments: {}", known.join(", "))
                };
                Error::usage(format!("environment `{name}` is not in this workspace")).help(help)
            }
        }
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Error::from(self).fmt(f)
    }
}

/// Loads, interpolates and merges every manifest of `ws`.
pub fn load(ws: &Workspace, opts: &LoadOptions) -> Result<Loaded, LoadError> {
    let app = ws.app.clone().unwrap_or_default();
    let mut out = Loaded {
        app: app.clone(),
        domain: ws.domain.clone(),
        diags: ws.diags.clone(),
        environment_addons: ws.environment_addons.clone(),
        ..Default::default()
    };

    // The workspace's environments are those with a manifest. A Copilot workspace may have
    // none locally; then the names used in workload overrides stand in for them.
    let mut known: Vec<String> = ws.environment_names();
    let from_overrides = known.is_empty();
    if from_overrides {
        for wl in &ws.workloads {
            if let Some(envs) = wl.node.as_ref().and_then(|n| n.get("environments"))
                && let NodeKind::Map(entries) = &envs.kind
            {
                for (k, _) in entries {
                    if let Some(name) = k.as_str()
                        && !known.iter().any(|e| e == name)
                    {
                        known.push(name.to_string());
                    }
                }
            }
        }
        known.sort();
    }
    let targets: Vec<String> = match &opts.environment {
        Some(name) if known.contains(name) => vec![name.clone()],
        Some(name) => {
            return Err(LoadError::UnknownEnvironment {
                name: name.clone(),
                known,
            });
        }
        None => known.clone(),
    };
    out.environment_names = targets.clone();

    for file in &ws.environments {
        if !targets.contains(&file.name) {
            continue;
        }
        if let Some(env) = load_environment(file, &app, opts, &mut out.diags, &mut out.unresolved) {
            out.environments.push(env);
        }
    }

    for file in &ws.workloads {
        load_workload(file, &app, &targets, &known, from_overrides, opts, &mut out);
    }
    out.diags = crate::manifest::diagnostic::normalize(std::mem::take(&mut out.diags));
    Ok(out)
}

fn load_environment(
    file: &ManifestFile,
    app: &str,
    opts: &LoadOptions,
    diags: &mut Vec<Diagnostic>,
    unresolved: &mut Vec<crate::manifest::source::Span>,
) -> Option<ResolvedEnvironment> {
    let node = file.node.as_ref()?;
    if is_empty_document(file, node, diags) {
        return None;
    }
    let vars = Variables::new(app, Some(&file.name), &opts.variables);
    let mut interp = Interpolation::default();
    let node = interpolate(node, &vars, &mut interp);
    diags.append(&mut interp.diags);
    unresolved.append(&mut interp.unresolved);
    let mut cx = DecodeCx::new(opts.lenient);
    let manifest = EnvironmentManifest::decode(&node, &mut cx);
    diags.append(&mut cx.diags);
    let mut manifest = manifest?;
    crate::manifest::copilot_yaml::unquote_environment(&mut manifest, diags);
    match &manifest.kind {
        Some(k) if k.value == "Environment" => {}
        Some(k) => diags.push(
            Diagnostic::error(
                codes::UNKNOWN_TYPE,
                k.span,
                format!(
                    "an environment manifest must have `type: Environment`, found `{}`",
                    k.value
                ),
            )
            .with_help("environments/<name>/manifest.yml holds environments only"),
        ),
        None => diags.push(missing_type(node.span, "Environment")),
    }
    check_name(&manifest.name, &file.name, node.span, diags);
    Some(ResolvedEnvironment {
        name: file.name.clone(),
        source: file.source,
        manifest,
        interpolated: node_to_json(&node),
    })
}

fn load_workload(
    file: &ManifestFile,
    app: &str,
    targets: &[String],
    known: &[String],
    from_overrides: bool,
    opts: &LoadOptions,
    out: &mut Loaded,
) {
    let Some(node) = file.node.as_ref() else {
        return;
    };
    let Some(kind) = deployable_kind(file, node, out) else {
        return;
    };
    check_type_keys(node, kind, opts.lenient, &mut out.diags, true);
    if !from_overrides {
        check_override_names(node, known, &mut out.diags);
    }
    if targets.is_empty() {
        load_workload_for(file, node, kind, app, None, opts, out);
    }
    for env in targets {
        load_workload_for(file, node, kind, app, Some(env), opts, out);
    }
}

/// The type of a workload manifest that tug deploys; `None` (reported) for an empty
/// document, one that is not a mapping, or a type tug skips.
fn deployable_kind(file: &ManifestFile, node: &Node, out: &mut Loaded) -> Option<WorkloadKind> {
    if is_empty_document(file, node, &mut out.diags) {
        return None;
    }
    if !matches!(node.kind, NodeKind::Map(_)) {
        out.diags.push(Diagnostic::error(
            codes::WRONG_TYPE,
            node.span,
            format!(
                "a manifest must be a mapping of keys, found {}",
                node.describe()
            ),
        ));
        return None;
    }
    let kind = workload_kind(node, &mut out.diags)?;
    if !kind.is_supported() {
        let span = node.get("type").map_or(node.span, |t| t.span);
        out.diags.push(
            Diagnostic::warning(
                codes::UNSUPPORTED_TYPE,
                span,
                format!("`{kind}` workloads are not supported by tug; `{}` is skipped", file.name),
            )
            .with_help(match kind {
                WorkloadKind::StaticSite => {
                    "tug deploys to ECS; serve static sites from S3 and CloudFront with their own stack"
                }
                _ => "App Runner is closed to new customers; move the service to a Load Balanced Web Service",
            }),
        );
        out.unsupported.push((file.name.clone(), kind));
        return None;
    }
    Some(kind)
}

/// The workload manifest interpolated for `env` (`None`: no environment) and merged with its
/// override for it.
fn load_workload_for(
    file: &ManifestFile,
    node: &Node,
    kind: WorkloadKind,
    app: &str,
    env: Option<&String>,
    opts: &LoadOptions,
    out: &mut Loaded,
) {
    let vars = Variables::new(app, env.map(String::as_str), &opts.variables);
    let mut interp = Interpolation::default();
    let node = interpolate(node, &vars, &mut interp);
    let mut diags = interp.diags;
    out.unresolved.append(&mut interp.unresolved);
    let mut cx = DecodeCx::new(opts.lenient);
    cx.top_level_keys = Some(kind.keys());
    let decoded = WorkloadManifest::decode(&node, &mut cx);
    diags.append(&mut cx.diags);
    if let Some(mut manifest) = decoded {
        check_name(&manifest.name, &file.name, node.span, &mut diags);
        let overrides = manifest.environments.take();
        if let (Some(env), Some(overrides)) = (env, overrides)
            && let Some(over) = overrides.value.get(env.as_str())
        {
            check_fifo_override(&manifest, &over.value, &mut diags);
            // An override cannot rename or retype the workload (that is reported).
            let (name, kind_field) = (manifest.name.clone(), manifest.kind.clone());
            manifest = WorkloadManifest::merge(manifest, over.value.clone());
            manifest.environments = None;
            manifest.name = name;
            manifest.kind = kind_field;
        }
        // After the merge, so a value from an override is read the same way.
        crate::manifest::copilot_yaml::unquote_workload(&mut manifest, &mut diags);
        // Keys of another workload type were reported; rules must not judge them too.
        for key in WorkloadManifest::KEYS {
            if !kind.keys().contains(key) {
                manifest.clear(key);
            }
        }
        // Without `name` (reported above) the folder name stands in.
        manifest.name = manifest
            .name
            .or(Some(Located::new(file.name.clone(), node.span)));
        out.workloads.push(ResolvedWorkload {
            name: file.name.clone(),
            kind,
            environment: env.cloned(),
            source: file.source,
            manifest,
            interpolated: node_to_json(&node),
        });
    }
    if let Some(env) = env {
        for d in &mut diags {
            d.environments.push(env.clone());
        }
    }
    out.diags.append(&mut diags);
}

/// Warns where Copilot's merge of `subscribe.queue.fifo` (see
/// [`crate::manifest::model::workload::merge_queue_fifo`]) keeps what the override seems to
/// change, so the user learns why the queue stays as it is.
fn check_fifo_override(
    base: &WorkloadManifest,
    over: &WorkloadManifest,
    diags: &mut Vec<Diagnostic>,
) {
    let fifo = |m: &WorkloadManifest| {
        m.subscribe
            .as_ref()
            .and_then(|s| s.value.queue.as_ref())
            .and_then(|q| q.value.fifo.clone())
    };
    let (Some(b), Some(o)) = (fifo(base), fifo(over)) else {
        return;
    };
    let message = match (&b.value, &o.value) {
        (BoolOr::Config(c), BoolOr::Bool(false)) if *c != FifoQueueConfig::default() => {
            "`fifo: false` does not turn off the FIFO settings of the base manifest: the queue stays FIFO, as Copilot deployed it"
        }
        (BoolOr::Bool(true), BoolOr::Config(c)) if *c != FifoQueueConfig::default() => {
            "these FIFO settings are ignored because the base manifest sets `fifo: true`, as Copilot ignored them"
        }
        _ => return,
    };
    diags.push(
        Diagnostic::warning(codes::COPILOT_OVERRIDE, o.span, message).with_help(
            "write the same form of `fifo` in the base manifest and the override (both `true`/`false`, or both mappings)",
        ),
    );
}

fn is_empty_document(file: &ManifestFile, node: &Node, diags: &mut Vec<Diagnostic>) -> bool {
    if matches!(node.kind, NodeKind::Null) {
        diags.push(
            Diagnostic::error(codes::EMPTY_MANIFEST, node.span, "the manifest is empty").with_help(
                format!(
                    "write the manifest for `{}`, or delete its folder",
                    file.name
                ),
            ),
        );
        return true;
    }
    false
}

fn missing_type(span: crate::manifest::source::Span, example: &str) -> Diagnostic {
    Diagnostic::error(codes::MISSING_KEY, span, "the manifest has no `type`")
        .with_help(format!("add `type: {example}`"))
}

fn workload_kind(node: &Node, diags: &mut Vec<Diagnostic>) -> Option<WorkloadKind> {
    let Some(t) = node.get("type") else {
        diags.push(missing_type(node.span, "Load Balanced Web Service"));
        return None;
    };
    let text = t.as_str().unwrap_or_default();
    if let Some(kind) = WorkloadKind::parse(text) {
        return Some(kind);
    }
    let names: Vec<&str> = WorkloadKind::ALL.iter().map(|k| k.as_str()).collect();
    let help = match did_you_mean(text, &names) {
        Some(s) => format!("did you mean `{s}`?"),
        None if text == "Environment" => {
            "environment manifests belong in environments/<name>/manifest.yml".to_string()
        }
        None => format!("workload types: {}", names[..4].join(", ")),
    };
    diags.push(
        Diagnostic::error(
            codes::UNKNOWN_TYPE,
            t.span,
            format!("unknown manifest type `{text}`"),
        )
        .with_help(help),
    );
    None
}

/// Reports top-level keys that belong to another workload type, in the base manifest and in
/// each environment override.
fn check_type_keys(
    node: &Node,
    kind: WorkloadKind,
    lenient: bool,
    diags: &mut Vec<Diagnostic>,
    top: bool,
) {
    let NodeKind::Map(entries) = &node.kind else {
        return;
    };
    let allowed = kind.keys();
    for (k, v) in entries {
        let Some(key) = k.as_str() else { continue };
        if !top && matches!(key, "name" | "type" | "environments") {
            diags.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    k.span,
                    format!("`{key}` cannot be set in an environment override"),
                )
                .with_help("move it to the top of the manifest"),
            );
            continue;
        }
        if WorkloadManifest::KEYS.contains(&key) && !allowed.contains(&key) {
            let mut d = Diagnostic::error(
                codes::UNKNOWN_KEY,
                k.span,
                format!("`{key}` is not available for a {kind}"),
            )
            .with_help(key_help(key, kind));
            if lenient {
                d.severity = Severity::Warning;
            }
            diags.push(d);
        }
        if top
            && key == "environments"
            && let NodeKind::Map(envs) = &v.kind
        {
            for (_, over) in envs {
                check_type_keys(over, kind, lenient, diags, false);
            }
        }
    }
}

fn key_help(key: &str, kind: WorkloadKind) -> String {
    match key {
        "http" => "only Load Balanced Web Services and Backend Services have `http`".into(),
        "nlb" => "only Load Balanced Web Services have a Network Load Balancer".into(),
        "subscribe" => "only Worker Services subscribe to topics".into(),
        "on" | "timeout" | "retries" => "only Scheduled Jobs have a schedule".into(),
        "deployment" | "observability" | "scheduling" => {
            format!("a {kind} is not a long-running service; remove `{key}`")
        }
        _ => format!("remove `{key}`"),
    }
}

fn check_override_names(node: &Node, known: &[String], diags: &mut Vec<Diagnostic>) {
    let Some(NodeKind::Map(entries)) = node.get("environments").map(|n| &n.kind) else {
        return;
    };
    let names: Vec<&str> = known.iter().map(String::as_str).collect();
    for (k, _) in entries {
        let Some(name) = k.as_str() else { continue };
        if !known.iter().any(|e| e == name) {
            let help = match did_you_mean(name, &names) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "the workspace's environments are: {}; this override is never used",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            };
            diags.push(
                Diagnostic::warning(
                    codes::UNKNOWN_ENVIRONMENT,
                    k.span,
                    format!(
                        "override for environment `{name}`, which has no manifest in this workspace"
                    ),
                )
                .with_help(help),
            );
        }
    }
}

fn check_name(
    name: &Option<Located<String>>,
    folder: &str,
    span: crate::manifest::source::Span,
    diags: &mut Vec<Diagnostic>,
) {
    match name {
        Some(n) if n.value != folder => diags.push(
            Diagnostic::warning(
                codes::NAME_MISMATCH,
                n.span,
                format!(
                    "`name` is `{}` but the manifest is in the folder `{folder}`",
                    n.value
                ),
            )
            .with_help(format!(
                "tug names the workload after its folder, `{folder}`; make them match"
            )),
        ),
        Some(_) => {}
        None => diags.push(
            Diagnostic::error(codes::MISSING_KEY, span, "the manifest has no `name`")
                .with_help(format!("add `name: {folder}`")),
        ),
    }
}
