//! The task definition: containers (main, sidecars, FireLens log router, tracing collector),
//! their environment, secrets, logging, health checks, dependencies, ports and mounts; the
//! task's size, platform, volumes and EFS access points.

use serde_json::{Map as JsonMap, Value, json};

use crate::manifest::addons::{Addons, OutputKind, env_var_name};
use crate::manifest::decode::{Located, Map};
use crate::manifest::model::common::{
    ContainerHealthCheck, EfsConfig, Image, Logging, Secret, Sidecar, Variable, Volume,
    resolve_platform,
};
use crate::manifest::model::service::parse_container_port;
use crate::manifest::names::{LOG_ROUTER, TRACING_SIDECAR};
use crate::manifest::union::{BoolOr, Command, ScalarOr};
use crate::render::workload::{Scope, variable_value};
use crate::render::{RenderError, input_error, names};

const FLUENT_BIT_IMAGE: &str = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable";
const OTEL_COLLECTOR_IMAGE: &str = "public.ecr.aws/aws-observability/aws-otel-collector:latest";

/// The `ValueFrom` of a secret reference, and the IAM resource that reading it needs.
pub(crate) struct SecretRef {
    pub value_from: Value,
    pub resource: Value,
    pub secrets_manager: bool,
}

/// The IAM resource that reading a Secrets Manager secret by ARN needs, never wider than that
/// secret. `arn` is what ECS gets: `arn:<partition>:secretsmanager:<region>:<account>:secret:
/// <name>[-<suffix>][:<json-key>:<version-stage>:<version-id>]`. The JSON key and version fields
/// select inside the secret and are not part of its ARN, so they are cut. A complete ARN (the
/// name ends in `-` and the six characters Secrets Manager appends) is granted as it is; a
/// partial one (no suffix) gets `-??????`: exactly six more characters, so `prod/db` does not
/// also grant `prod/db-admin` (whose ARN is `prod/db-admin-` and six more). A name that itself
/// ends in `-` and six letters or digits reads as complete: AWS advises against such names
/// because partial ARNs of them are ambiguous; write the full ARN or `{secretsmanager: name}`.
pub(crate) fn secrets_manager_resource(arn: &str) -> String {
    let fields: Vec<&str> = arn.splitn(8, ':').take(7).collect();
    let base = fields.join(":");
    let name = fields.get(6).copied().unwrap_or_default();
    if has_secret_suffix(name) {
        base
    } else {
        format!("{base}-??????")
    }
}

/// Whether a secret name ends with the `-XXXXXX` suffix Secrets Manager adds to its ARN.
fn has_secret_suffix(name: &str) -> bool {
    match name.rsplit_once('-') {
        Some((head, suffix)) => {
            !head.is_empty()
                && suffix.len() == 6
                && suffix.chars().all(|c| c.is_ascii_alphanumeric())
        }
        None => false,
    }
}

/// Resolves a secret reference to what ECS and IAM need.
pub(crate) fn secret_ref(secret: &Secret) -> SecretRef {
    match secret {
        ScalarOr::Scalar(s) if s.starts_with("arn:") => {
            let secrets_manager = s.contains(":secretsmanager:");
            let resource = if secrets_manager {
                json!(secrets_manager_resource(s))
            } else {
                json!(s)
            };
            SecretRef {
                value_from: json!(s),
                resource,
                secrets_manager,
            }
        }
        ScalarOr::Scalar(name) => {
            let path = name.trim_start_matches('/');
            let arn = json!({ "Fn::Sub": format!("arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{path}") });
            SecretRef {
                value_from: json!(name),
                resource: arn,
                secrets_manager: false,
            }
        }
        ScalarOr::Config(c) => match (&c.secretsmanager, &c.from_cfn) {
            (Some(sm), _) => {
                let name = sm.value.split(':').next().unwrap_or_default().to_string();
                let prefix =
                    "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:";
                SecretRef {
                    value_from: json!({ "Fn::Sub": format!("{prefix}{}", sm.value) }),
                    resource: json!({ "Fn::Sub": format!("{prefix}{name}-??????") }),
                    secrets_manager: true,
                }
            }
            (None, Some(export)) => {
                let import = json!({ "Fn::ImportValue": export.value });
                SecretRef {
                    value_from: import.clone(),
                    resource: import,
                    secrets_manager: export.value.contains("secret"),
                }
            }
            (None, None) => SecretRef {
                value_from: json!(""),
                resource: json!(""),
                secrets_manager: false,
            },
        },
    }
}

/// One container's env file: the template parameter that carries its S3 object ARN (named as
/// Copilot named them: `EnvFileARN` for the main container, `EnvFileARNFor<Sidecar>` for a
/// sidecar, `LoggingEnvFileARN` for the FireLens log router), the container, and the file's
/// path relative to the workspace root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFile {
    pub parameter: String,
    pub container: String,
    pub path: String,
}

/// Every env file of a workload's containers, main container first.
pub fn env_files(wl: &crate::manifest::load::ResolvedWorkload) -> Vec<EnvFile> {
    let m = &wl.manifest;
    let mut files = Vec::new();
    if let Some(f) = &m.env_file {
        files.push(EnvFile {
            parameter: "EnvFileARN".into(),
            container: wl.name.clone(),
            path: f.value.clone(),
        });
    }
    for (name, s) in m.sidecars.iter().flat_map(|s| s.iter()) {
        if let Some(f) = &s.env_file {
            files.push(EnvFile {
                parameter: format!("EnvFileARNFor{}", names::logical_id(&name.value)),
                container: name.value.clone(),
                path: f.value.clone(),
            });
        }
    }
    if let Some(f) = m
        .logging
        .as_ref()
        .filter(|l| l.uses_firelens())
        .and_then(|l| l.env_file.as_ref())
    {
        files.push(EnvFile {
            parameter: "LoggingEnvFileARN".into(),
            container: LOG_ROUTER.into(),
            path: f.value.clone(),
        });
    }
    files
}

/// Declares the parameter of a container's env file (if it has one) and references it.
fn attach_env_file(
    c: &mut JsonMap<String, Value>,
    files: &[EnvFile],
    container: &str,
    parameters: &mut Vec<Value>,
) {
    let Some(f) = files.iter().find(|f| f.container == container) else {
        return;
    };
    parameters.push(json!({
        "name": f.parameter,
        "description": format!("The S3 object ARN of container {container}'s env file, uploaded by tug deploy"),
        "default": null,
        "file_value": "<uploaded by tug deploy>",
    }));
    c.insert(
        "EnvironmentFiles".into(),
        json!([{ "Type": "s3", "Value": { "Ref": f.parameter } }]),
    );
}

fn environment(vars: Option<&Located<Map<Variable>>>, injected: &[(String, Value)]) -> Value {
    let mut out: Vec<(String, Value)> = injected.to_vec();
    for (k, v) in vars.iter().flat_map(|m| m.iter()) {
        let value = variable_value(&v.value);
        match out.iter_mut().find(|(name, _)| *name == k.value) {
            Some(slot) => slot.1 = value,
            None => out.push((k.value.clone(), value)),
        }
    }
    Value::Array(
        out.into_iter()
            .map(|(name, value)| json!({ "Name": name, "Value": value }))
            .collect(),
    )
}

fn secrets(map: Option<&Located<Map<Secret>>>) -> Option<Value> {
    let map = map?;
    if map.is_empty() {
        return None;
    }
    Some(Value::Array(
        map.iter()
            .map(|(k, v)| json!({ "Name": k.value, "ValueFrom": secret_ref(&v.value).value_from }))
            .collect(),
    ))
}

fn command(
    c: &Command,
    span: crate::manifest::source::Span,
    what: &str,
) -> Result<Value, RenderError> {
    c.args().map(|a| json!(a)).map_err(|e| {
        RenderError::Input(vec![input_error(
            span,
            format!("cannot split {what}: {e}"),
            "balance the quotes, or write the command as a list",
        )])
    })
}

fn health_check(hc: &ContainerHealthCheck) -> Value {
    let cmd = match hc.command.as_ref().map(|c| &c.value) {
        Some(Command::Args(a)) => json!(a),
        Some(Command::Shell(s)) => json!(["CMD-SHELL", s]),
        None => json!(["CMD-SHELL", "curl -f http://localhost/ || exit 1"]),
    };
    let secs = |d: Option<&Located<crate::manifest::duration::Duration>>, default: u64| {
        d.map_or(default, |d| d.value.millis / 1000)
    };
    json!({
        "Command": cmd,
        "Interval": secs(hc.interval.as_ref(), 10),
        "Retries": hc.retries.as_ref().map_or(2, |r| r.value),
        "Timeout": secs(hc.timeout.as_ref(), 5),
        "StartPeriod": secs(hc.start_period.as_ref(), 0),
    })
}

fn depends_on(map: Option<&Located<Map<String>>>) -> Option<Value> {
    let map = map?;
    Some(Value::Array(
        map.iter()
            .map(|(k, v)| json!({ "ContainerName": k.value, "Condition": v.value.to_ascii_uppercase() }))
            .collect(),
    ))
}

fn labels(map: Option<&Located<Map<String>>>) -> Option<Value> {
    let map = map?;
    let mut out = JsonMap::new();
    for (k, v) in map.iter() {
        out.insert(k.value.clone(), json!(v.value));
    }
    Some(Value::Object(out))
}

fn insert_opt(obj: &mut JsonMap<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        obj.insert(key.to_string(), v);
    }
}

/// Ports of the main container that load balancers target besides `image.port`
/// (`http.target_port`, `nlb.target_port`), with their protocol: the task definition must map
/// them too.
pub(crate) fn main_target_ports(
    wl: &crate::manifest::load::ResolvedWorkload,
) -> Vec<(u16, String)> {
    let m = &wl.manifest;
    let main_port = m
        .image
        .as_ref()
        .and_then(|i| i.port.as_ref())
        .map(|p| p.value);
    let is_main =
        |c: Option<&crate::manifest::decode::Located<String>>| c.is_none_or(|c| c.value == wl.name);
    let mut out: Vec<(u16, String)> = Vec::new();
    if let Some(rule) = m.http_rule() {
        let rules = std::iter::once(rule).chain(
            rule.additional_rules
                .iter()
                .flat_map(|r| r.iter())
                .map(|r| &r.value),
        );
        for r in rules {
            if let Some(p) = &r.target_port
                && is_main(
                    r.target_container
                        .as_ref()
                        .or(r.target_container_camel.as_ref()),
                )
            {
                out.push((p.value, "tcp".into()));
            }
        }
    }
    if let Some(nlb) = &m.nlb {
        let listeners = std::iter::once(&nlb.value).chain(
            nlb.additional_listeners
                .iter()
                .flat_map(|l| l.iter())
                .map(|l| &l.value),
        );
        for l in listeners {
            // A UDP listener without `target_port` reaches the main container on the
            // listener's port, which Copilot mapped over UDP (its `exposePorts` of the NLB).
            if l.target_port.is_none()
                && is_main(l.target_container.as_ref())
                && let Some((port, proto)) = l.port.as_ref().and_then(|p| {
                    crate::manifest::model::service::parse_port_protocol(&p.value).ok()
                })
                && proto == "udp"
            {
                out.push((port, proto));
            }
            if let (Some(p), true) = (&l.target_port, is_main(l.target_container.as_ref())) {
                let proto = l
                    .port
                    .as_ref()
                    .and_then(|port| {
                        crate::manifest::model::service::parse_port_protocol(&port.value).ok()
                    })
                    .map_or("tcp".to_string(), |(_, proto)| {
                        if proto == "udp" {
                            "udp".into()
                        } else {
                            "tcp".into()
                        }
                    });
                out.push((p.value, proto));
            }
        }
    }
    out.retain(|(p, proto)| !(Some(*p) == main_port && proto == "tcp"));
    out.sort();
    out.dedup();
    out
}

/// The view model of the task definition.
pub(crate) fn context(
    scope: &Scope,
    topics: &Value,
    worker: &Value,
    parameters: &mut Vec<Value>,
) -> Result<Value, RenderError> {
    let m = &scope.wl.manifest;
    let platform = resolve_platform(m.platform.as_ref().map(|p| &p.value)).unwrap_or(
        crate::manifest::model::common::ResolvedPlatform {
            windows: false,
            arm: false,
            os_family: "LINUX",
        },
    );
    let firelens = m
        .logging
        .as_ref()
        .map(|l| &l.value)
        .filter(|l| l.uses_firelens());
    let shared = Shared {
        injected: injected_variables(scope, topics, worker),
        log: main_log_configuration(firelens),
        env_files: env_files(scope.wl),
    };
    let storage = volumes(scope);

    let mut containers = vec![main_container(
        scope,
        &shared,
        &storage.main_mounts,
        firelens.is_some(),
        parameters,
    )?];
    for (name, s) in m.sidecars.iter().flat_map(|s| s.iter()) {
        containers.push(sidecar_container(scope, &shared, name, s, parameters)?);
    }
    if let Some(l) = firelens {
        containers.push(log_router(l, &shared.env_files, parameters));
    }
    let tracing = m
        .observability
        .as_ref()
        .and_then(|o| o.tracing.as_ref())
        .is_some();
    if tracing {
        containers.push(json!({
            "Name": TRACING_SIDECAR,
            "Image": OTEL_COLLECTOR_IMAGE,
            "Essential": true,
            "Command": ["--config=/etc/ecs/ecs-xray.yaml"],
            "LogConfiguration": log_configuration("tracing"),
        }));
    }

    let network_mode = m.network_mode();
    let requires = if m.runs_on_ec2() { "EC2" } else { "FARGATE" };
    let runtime_platform = (platform.windows || platform.arm).then(|| {
        json!({
            "OperatingSystemFamily": platform.os_family,
            "CpuArchitecture": if platform.arm { "ARM64" } else { "X86_64" },
        })
    });
    let ephemeral = m
        .storage
        .as_ref()
        .and_then(|s| s.ephemeral.as_ref())
        .map(|e| e.value)
        .filter(|e| *e > 20);
    Ok(json!({
        "family": scope.full_name(),
        "cpu": m.task_cpu().to_string(),
        "memory": m.task_memory().to_string(),
        "network_mode": network_mode,
        "requires": [requires],
        "runtime_platform": runtime_platform,
        "ephemeral": ephemeral,
        "volumes": storage.volumes,
        "access_points": storage.access_points,
        "containers": containers,
        "efs_statements": storage.efs_statements,
        "tracing": tracing,
    }))
}

/// What the main container and the sidecars all get: the variables tug injects, the log
/// configuration (sidecars log where the main container logs) and the workload's env files.
struct Shared {
    injected: Vec<(String, Value)>,
    log: Value,
    env_files: Vec<EnvFile>,
}

/// Logging to the workload's log group (`awslogs`) under a stream prefix.
fn log_configuration(prefix: &str) -> Value {
    json!({
        "LogDriver": "awslogs",
        "Options": {
            "awslogs-group": { "Ref": "LogGroup" },
            "awslogs-region": { "Ref": "AWS::Region" },
            "awslogs-stream-prefix": prefix,
        }
    })
}

/// The main container's log configuration: through the FireLens log router when `logging`
/// names a destination, else to the log group.
fn main_log_configuration(firelens: Option<&Logging>) -> Value {
    match firelens {
        Some(l) => {
            let mut options = JsonMap::new();
            for (k, v) in l.destination.iter().flat_map(|d| d.iter()) {
                options.insert(k.value.clone(), json!(v.value));
            }
            let mut cfg = json!({ "LogDriver": "awsfirelens", "Options": options });
            if let Some(s) = secrets(l.secret_options.as_ref()) {
                cfg["SecretOptions"] = s;
            }
            cfg
        }
        None => log_configuration("tug"),
    }
}

/// Variables every container of the workload gets, as Copilot injected them: names, the
/// service discovery endpoint, the load balancer's DNS name, the topics' ARNs, the worker's
/// queue variables and the addons' outputs.
fn injected_variables(scope: &Scope, topics: &Value, worker: &Value) -> Vec<(String, Value)> {
    let (wl, app) = (scope.wl, &scope.loaded.app);
    let mut injected: Vec<(String, Value)> = vec![
        ("COPILOT_APPLICATION_NAME".into(), json!(app)),
        ("COPILOT_ENVIRONMENT_NAME".into(), json!(scope.env)),
        ("COPILOT_SERVICE_NAME".into(), json!(wl.name)),
        (
            "COPILOT_SERVICE_DISCOVERY_ENDPOINT".into(),
            json!(format!("{}.{}.local", scope.env, app)),
        ),
    ];
    if crate::render::features::uses_public_alb(wl) {
        injected.push((
            "COPILOT_LB_DNS".into(),
            scope.import("PublicLoadBalancerDNS"),
        ));
    } else if crate::render::features::uses_internal_alb(wl) {
        injected.push((
            "COPILOT_LB_DNS".into(),
            scope.import("InternalLoadBalancerDNS"),
        ));
    }
    if let Some(list) = topics.as_array().filter(|l| !l.is_empty()) {
        // {"orders":"arn:...","events":"arn:..."} built from the topics' ARNs.
        let mut parts: Vec<Value> = vec![json!("{")];
        for (i, t) in list.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            parts.push(json!(format!(
                "{sep}\"{}\":\"",
                t["key"].as_str().unwrap_or("")
            )));
            parts.push(json!({ "Ref": format!("{}Topic", t["id"].as_str().unwrap_or("")) }));
            parts.push(json!("\""));
        }
        parts.push(json!("}"));
        injected.push((
            "COPILOT_SNS_TOPIC_ARNS".into(),
            json!({ "Fn::Join": ["", parts] }),
        ));
    }
    for (k, v) in worker["environment"].as_object().into_iter().flatten() {
        injected.push((k.clone(), v.clone()));
    }
    // The addons' outputs, named as Copilot named them.
    for output in scope.addons.iter().flat_map(|a| a.variables()) {
        injected.push((
            env_var_name(&output.name),
            Addons::output_value(&output.name),
        ));
    }
    injected
}

/// The task's volumes, and what they add elsewhere: EFS access points tug creates, the main
/// container's mount points and the task role's EFS statements.
struct Storage {
    volumes: Vec<Value>,
    access_points: Vec<Value>,
    main_mounts: Vec<Value>,
    efs_statements: Vec<Value>,
}

fn volumes(scope: &Scope) -> Storage {
    let m = &scope.wl.manifest;
    let mut out = Storage {
        volumes: Vec::new(),
        access_points: Vec::new(),
        main_mounts: Vec::new(),
        efs_statements: Vec::new(),
    };
    for (name, vol) in m
        .storage
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .iter()
        .flat_map(|v| v.iter())
    {
        let mut v = json!({ "Name": name.value });
        let efs = vol.efs.as_ref().map(|e| &e.value);
        let managed = matches!(efs, Some(BoolOr::Bool(true)))
            || matches!(efs, Some(BoolOr::Config(c)) if c.uid.is_some() || c.gid.is_some());
        if managed {
            managed_efs(scope, &name.value, efs, &mut v, &mut out);
        } else if let Some(BoolOr::Config(c)) = efs {
            given_efs(c, vol, &mut v, &mut out);
        }
        out.volumes.push(v);
        if let Some(path) = &vol.path {
            out.main_mounts.push(json!({
                "SourceVolume": name.value,
                "ContainerPath": path.value,
                "ReadOnly": vol.read_only.as_ref().is_none_or(|r| r.value),
            }));
        }
    }
    out
}

/// A volume on the environment's file system, through an access point tug creates for it.
fn managed_efs(
    scope: &Scope,
    name: &str,
    efs: Option<&BoolOr<EfsConfig>>,
    v: &mut Value,
    out: &mut Storage,
) {
    let id = format!("{}AccessPoint", names::logical_id(name));
    let cfg = efs.and_then(|e| e.config());
    let uid = cfg.and_then(|c| c.uid.as_ref()).map_or(1000, |u| u.value);
    let gid = cfg.and_then(|c| c.gid.as_ref()).map_or(1000, |g| g.value);
    out.access_points.push(json!({
        "id": id,
        "file_system": scope.import("FilesystemID"),
        "uid": uid.to_string(),
        "gid": gid.to_string(),
        "path": format!("/{}", scope.wl.name),
    }));
    v["EFSVolumeConfiguration"] = json!({
        "FilesystemId": scope.import("FilesystemID"),
        "TransitEncryption": "ENABLED",
        "AuthorizationConfig": { "AccessPointId": { "Ref": id }, "IAM": "ENABLED" },
    });
    out.efs_statements.push(json!({
        "Effect": "Allow",
        "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        "Resource": { "Fn::Sub": ["arn:${AWS::Partition}:elasticfilesystem:${AWS::Region}:${AWS::AccountId}:file-system/${FS}", { "FS": scope.import("FilesystemID") }] },
        "Condition": { "StringEquals": { "elasticfilesystem:AccessPointArn": { "Fn::GetAtt": [id, "Arn"] } } },
    }));
}

/// A volume on a file system the manifest names (by id or by export).
fn given_efs(c: &EfsConfig, vol: &Volume, v: &mut Value, out: &mut Storage) {
    let fs = match c.id.as_ref().map(|i| &i.value) {
        Some(ScalarOr::Scalar(id)) => json!(id),
        Some(ScalarOr::Config(f)) => {
            json!({ "Fn::ImportValue": f.from_cfn.as_ref().map(|x| x.value.clone()).unwrap_or_default() })
        }
        None => json!(""),
    };
    let iam = c
        .auth
        .as_ref()
        .and_then(|a| a.iam.as_ref())
        .is_none_or(|i| i.value);
    let mut efs_cfg = json!({ "FilesystemId": fs.clone(), "TransitEncryption": "ENABLED" });
    if let Some(root) = c.root_dir.as_ref().filter(|r| !r.value.is_empty()) {
        efs_cfg["RootDirectory"] = json!(root.value);
    }
    let mut auth = JsonMap::new();
    if iam {
        auth.insert("IAM".into(), json!("ENABLED"));
    }
    if let Some(ap) = c.auth.as_ref().and_then(|a| a.access_point_id.as_ref()) {
        auth.insert("AccessPointId".into(), json!(ap.value));
    }
    if !auth.is_empty() {
        efs_cfg["AuthorizationConfig"] = Value::Object(auth);
    }
    v["EFSVolumeConfiguration"] = efs_cfg;
    if iam {
        let read_only = vol.read_only.as_ref().is_none_or(|r| r.value);
        let mut actions = vec!["elasticfilesystem:ClientMount"];
        if !read_only {
            actions.push("elasticfilesystem:ClientWrite");
        }
        out.efs_statements.push(json!({
            "Effect": "Allow",
            "Action": actions,
            "Resource": { "Fn::Sub": ["arn:${AWS::Partition}:elasticfilesystem:${AWS::Region}:${AWS::AccountId}:file-system/${FS}", { "FS": fs }] },
        }));
    }
}

/// The workload's own container, from the manifest's top level and `image`.
fn main_container(
    scope: &Scope,
    shared: &Shared,
    mounts: &[Value],
    firelens: bool,
    parameters: &mut Vec<Value>,
) -> Result<Value, RenderError> {
    let (wl, m) = (scope.wl, &scope.wl.manifest);
    let image = m.image.as_ref();
    let mut main = JsonMap::new();
    main.insert("Name".into(), json!(wl.name));
    main.insert("Image".into(), json!({ "Ref": "ContainerImage" }));
    main.insert("Essential".into(), json!(true));
    let mappings = main_port_mappings(wl);
    if !mappings.is_empty() {
        main.insert("PortMappings".into(), Value::Array(mappings));
    }
    main.insert(
        "Environment".into(),
        environment(m.variables.as_ref(), &shared.injected),
    );
    insert_opt(&mut main, "Secrets", secrets(m.secrets.as_ref()));
    add_addon_secrets(scope, &mut main);
    attach_env_file(&mut main, &shared.env_files, &wl.name, parameters);
    main.insert("LogConfiguration".into(), shared.log.clone());
    insert_opt(
        &mut main,
        "HealthCheck",
        image
            .and_then(|i| i.healthcheck.as_ref())
            .map(|h| health_check(h)),
    );
    insert_opt(
        &mut main,
        "DependsOn",
        depends_on(image.and_then(|i| i.depends_on.as_ref())),
    );
    if firelens {
        let deps = main.entry("DependsOn").or_insert_with(|| json!([]));
        if let Some(list) = deps.as_array_mut()
            && !list.iter().any(|d| d["ContainerName"] == LOG_ROUTER)
        {
            list.push(json!({ "ContainerName": LOG_ROUTER, "Condition": "START" }));
        }
    }
    if let Some(e) = &m.entrypoint {
        main.insert(
            "EntryPoint".into(),
            command(&e.value, e.span, "the entrypoint")?,
        );
    }
    if let Some(c) = &m.command {
        main.insert("Command".into(), command(&c.value, c.span, "the command")?);
    }
    insert_opt(
        &mut main,
        "DockerLabels",
        labels(image.and_then(|i| i.labels.as_ref())),
    );
    if m.storage
        .as_ref()
        .and_then(|s| s.readonly_fs.as_ref())
        .is_some_and(|r| r.value)
    {
        main.insert("ReadonlyRootFilesystem".into(), json!(true));
    }
    if !mounts.is_empty() {
        main.insert("MountPoints".into(), json!(mounts));
    }
    if let Some(c) = image.and_then(|i| i.credentials.as_ref()) {
        main.insert(
            "RepositoryCredentials".into(),
            json!({ "CredentialsParameter": c.value }),
        );
    }
    insert_size(&mut main, image.map(|i| &i.value));
    Ok(Value::Object(main))
}

/// The main container's port mappings: `image.port` over TCP, and the ports its NLB
/// listeners target.
fn main_port_mappings(wl: &crate::manifest::load::ResolvedWorkload) -> Vec<Value> {
    let mut mappings: Vec<Value> = Vec::new();
    let image = wl.manifest.image.as_ref();
    if let Some(port) = image.and_then(|i| i.port.as_ref()) {
        mappings.push(json!({ "ContainerPort": port.value, "Protocol": "tcp", "Name": format!("{}-{}", wl.name, port.value) }));
    }
    for (port, proto) in main_target_ports(wl) {
        mappings.push(json!({ "ContainerPort": port, "Protocol": proto, "Name": format!("{}-{port}-{proto}", wl.name) }));
    }
    mappings
}

/// The addons' secrets reach the main container only, as with Copilot.
fn add_addon_secrets(scope: &Scope, main: &mut JsonMap<String, Value>) {
    for output in scope
        .addons
        .iter()
        .flat_map(|a| a.outputs_of(OutputKind::Secret))
    {
        let list = main.entry("Secrets").or_insert_with(|| json!([]));
        if let Some(list) = list.as_array_mut() {
            list.push(json!({
                "Name": env_var_name(&output.name),
                "ValueFrom": Addons::output_value(&output.name),
            }));
        }
    }
}

/// The main container's own CPU and memory (hard and soft limits), when `image` sets them.
fn insert_size(main: &mut JsonMap<String, Value>, image: Option<&Image>) {
    insert_opt(
        main,
        "Cpu",
        image.and_then(|i| i.cpu.as_ref()).map(|v| json!(v.value)),
    );
    insert_opt(
        main,
        "Memory",
        image
            .and_then(|i| i.memory.as_ref())
            .map(|v| json!(v.value)),
    );
    insert_opt(
        main,
        "MemoryReservation",
        image
            .and_then(|i| i.memory_reservation.as_ref())
            .map(|v| json!(v.value)),
    );
}

/// One sidecar: its image (a parameter when tug builds it), ports, environment, logging,
/// health check, dependencies, commands, labels, mounts and size.
fn sidecar_container(
    scope: &Scope,
    shared: &Shared,
    name: &Located<String>,
    s: &Sidecar,
    parameters: &mut Vec<Value>,
) -> Result<Value, RenderError> {
    let (app, wl) = (&scope.loaded.app, scope.wl);
    let mut c = JsonMap::new();
    c.insert("Name".into(), json!(name.value));
    let image = match s.image.as_ref().map(|i| &i.value) {
        Some(ScalarOr::Scalar(uri)) => json!(uri),
        Some(ScalarOr::Config(cfg)) => match &cfg.location {
            Some(loc) => json!(loc.value),
            None => {
                let param = format!("{}Image", names::logical_id(&name.value));
                parameters.push(json!({
                    "name": param,
                    "description": format!("The image of sidecar {}, built and pushed by tug deploy", name.value),
                    "default": null,
                    "file_value": format!("<built and pushed by tug deploy: {app}/{}:{}>", wl.name, name.value),
                }));
                json!({ "Ref": param })
            }
        },
        None => json!(""),
    };
    c.insert("Image".into(), image);
    c.insert(
        "Essential".into(),
        json!(s.essential.as_ref().is_none_or(|e| e.value)),
    );
    if let Some(p) = &s.port
        && let Ok((port, proto)) = parse_container_port(&p.value)
    {
        c.insert("PortMappings".into(), json!([{ "ContainerPort": port, "Protocol": proto, "Name": format!("{}-{port}", name.value) }]));
    }
    c.insert(
        "Environment".into(),
        environment(s.variables.as_ref(), &shared.injected),
    );
    insert_opt(&mut c, "Secrets", secrets(s.secrets.as_ref()));
    attach_env_file(&mut c, &shared.env_files, &name.value, parameters);
    // Sidecars log where the main container logs.
    c.insert("LogConfiguration".into(), shared.log.clone());
    insert_opt(
        &mut c,
        "HealthCheck",
        s.healthcheck.as_ref().map(|h| health_check(h)),
    );
    insert_opt(&mut c, "DependsOn", depends_on(s.depends_on.as_ref()));
    if let Some(e) = &s.entrypoint {
        c.insert(
            "EntryPoint".into(),
            command(&e.value, e.span, "a sidecar's entrypoint")?,
        );
    }
    if let Some(cmd) = &s.command {
        c.insert(
            "Command".into(),
            command(&cmd.value, cmd.span, "a sidecar's command")?,
        );
    }
    insert_opt(&mut c, "DockerLabels", labels(s.labels.as_ref()));
    let mounts: Vec<Value> = s
        .mount_points
        .iter()
        .flat_map(|m| m.iter())
        .map(|mp| {
            json!({
                "SourceVolume": mp.source_volume.as_ref().map(|v| v.value.clone()).unwrap_or_default(),
                "ContainerPath": mp.path.as_ref().map(|v| v.value.clone()).unwrap_or_default(),
                "ReadOnly": mp.read_only.as_ref().is_none_or(|r| r.value),
            })
        })
        .collect();
    if !mounts.is_empty() {
        c.insert("MountPoints".into(), json!(mounts));
    }
    if let Some(cp) = &s.credentials_parameter {
        c.insert(
            "RepositoryCredentials".into(),
            json!({ "CredentialsParameter": cp.value }),
        );
    }
    insert_opt(&mut c, "Cpu", s.cpu.as_ref().map(|v| json!(v.value)));
    insert_opt(&mut c, "Memory", s.memory.as_ref().map(|v| json!(v.value)));
    insert_opt(
        &mut c,
        "MemoryReservation",
        s.memory_reservation.as_ref().map(|v| json!(v.value)),
    );
    Ok(Value::Object(c))
}

/// The FireLens log router (Fluent Bit) the main container logs through.
fn log_router(l: &Logging, env_files: &[EnvFile], parameters: &mut Vec<Value>) -> Value {
    let mut options = JsonMap::new();
    options.insert(
        "enable-ecs-log-metadata".into(),
        json!(if l.enable_metadata.as_ref().is_none_or(|e| e.value) {
            "true"
        } else {
            "false"
        }),
    );
    if let Some(path) = &l.config_file_path {
        options.insert("config-file-type".into(), json!("file"));
        options.insert("config-file-value".into(), json!(path.value));
    }
    let mut router = json!({
        "Name": LOG_ROUTER,
        "Image": l.image.as_ref().map_or(FLUENT_BIT_IMAGE.to_string(), |i| i.value.clone()),
        "Essential": true,
        "FirelensConfiguration": { "Type": "fluentbit", "Options": options },
        "Environment": environment(l.variables.as_ref(), &[]),
        "LogConfiguration": log_configuration("firelens"),
    });
    if let Some(s) = secrets(l.secrets.as_ref()) {
        router["Secrets"] = s;
    }
    if let Some(obj) = router.as_object_mut() {
        attach_env_file(obj, env_files, LOG_ROUTER, parameters);
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";

    #[test]
    fn complete_secret_arns_are_granted_exactly() {
        let arn = format!("{BASE}prod/db-Ab12Cd");
        assert_eq!(secrets_manager_resource(&arn), arn);
        // JSON key, version stage and version id select inside the secret: not in the resource.
        assert_eq!(
            secrets_manager_resource(&format!("{BASE}prod/db-Ab12Cd:password:AWSCURRENT:")),
            arn
        );
        assert_eq!(
            secrets_manager_resource(&format!("{BASE}prod/db-Ab12Cd:password::v-1234")),
            arn
        );
    }

    #[test]
    fn partial_secret_arns_match_exactly_one_suffix() {
        assert_eq!(
            secrets_manager_resource(&format!("{BASE}prod/db")),
            format!("{BASE}prod/db-??????")
        );
        assert_eq!(
            secrets_manager_resource(&format!("{BASE}prod/db:username::")),
            format!("{BASE}prod/db-??????")
        );
        // `-admin` is five characters: part of the name, not a suffix.
        assert_eq!(
            secrets_manager_resource(&format!("{BASE}prod/db-admin")),
            format!("{BASE}prod/db-admin-??????")
        );
        // Six characters but not alphanumeric: not a suffix either.
        assert_eq!(
            secrets_manager_resource(&format!("{BASE}prod/db-a_b.cd")),
            format!("{BASE}prod/db-a_b.cd-??????")
        );
    }

    #[test]
    fn secret_refs_never_grant_a_trailing_star() {
        for s in [
            format!("{BASE}prod/db"),
            format!("{BASE}prod/db-Ab12Cd:password::"),
            "arn:aws:ssm:us-east-1:123456789012:parameter/prod/db".to_string(),
            "/prod/db".to_string(),
        ] {
            let r = secret_ref(&ScalarOr::Scalar(s.clone()));
            let text = r.resource.to_string();
            assert!(!text.trim_end_matches('"').ends_with('*'), "{s} → {text}");
        }
    }
}
