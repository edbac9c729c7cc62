//! Task-definition rules: image source, container count, Fargate network mode and task size,
//! container resources, ports, health checks, secrets, storage and volumes, container
//! dependencies, platform limits, env files and `taskdef_overrides`.

use std::collections::{BTreeMap, HashMap};

use crate::manifest::codes;
use crate::manifest::decode::{Located, Map};
use crate::manifest::diagnostic::{Diagnostic, secret_shape};
use crate::manifest::load::ResolvedWorkload;
use crate::manifest::model::WorkloadKind;
use crate::manifest::model::common::{
    ContainerHealthCheck, DEPENDS_ON_CONDITIONS, EfsConfig, ResolvedPlatform, Secret, Sidecar,
    Volume, resolve_platform,
};
use crate::manifest::model::workload::WorkloadManifest;
use crate::manifest::source::Span;
use crate::manifest::union::{BoolOr, Command, ScalarOr};

/// ECS allows at most this many containers in one task definition (not adjustable).
pub const MAX_CONTAINERS: usize = 10;
pub use crate::manifest::names::{LOG_ROUTER, TRACING_SIDECAR};

/// Fargate task sizes: cpu units → (min MiB, max MiB, step MiB).
const FARGATE_SIZES: &[(u32, u32, u32, u32)] = &[
    (256, 512, 2048, 0), // special-cased: 512, 1024, 2048
    (512, 1024, 4096, 1024),
    (1024, 2048, 8192, 1024),
    (2048, 4096, 16384, 1024),
    (4096, 8192, 30720, 1024),
    (8192, 16384, 61440, 4096),
    (16384, 32768, 122880, 8192),
];

pub fn check(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    let whole = m.name.as_ref().map_or(Span::default(), |n| n.span);
    let platform = match resolve_platform(m.platform.as_ref().map(|p| &p.value)) {
        Ok(p) => p,
        Err(e) => {
            let span = m.platform.as_ref().map_or(whole, |p| p.span);
            out.push(Diagnostic::error(codes::PLATFORM, span, e).with_help(
                "platforms: linux/x86_64 (default), linux/arm64, windows/x86_64, or {osfamily, architecture}",
            ));
            ResolvedPlatform {
                windows: false,
                arm: false,
                os_family: "LINUX",
            }
        }
    };
    check_image(wl, whole, out);
    check_container_count(wl, whole, out);
    check_fargate(wl, &platform, whole, out);
    check_container_resources(wl, out);
    check_ports(wl, out);
    check_health_checks(wl, out);
    check_secrets(wl, out);
    check_storage(wl, &platform, out);
    check_depends_on(wl, out);
    check_env_files(wl, out);
    check_taskdef_overrides(wl, out);
    check_logging(wl, out);
}

/// Names of every container in the task, main first.
pub fn container_names(wl: &ResolvedWorkload) -> Vec<String> {
    let m = &wl.manifest;
    let mut names = vec![wl.name.clone()];
    if let Some(sidecars) = &m.sidecars {
        names.extend(sidecars.keys().map(|k| k.value.clone()));
    }
    if m.logging.as_ref().is_some_and(|l| l.uses_firelens()) {
        names.push(LOG_ROUTER.to_string());
    }
    if m.observability
        .as_ref()
        .and_then(|o| o.tracing.as_ref())
        .is_some()
    {
        names.push(TRACING_SIDECAR.to_string());
    }
    names
}

fn check_image(wl: &ResolvedWorkload, whole: Span, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    let Some(image) = &m.image else {
        out.push(
            Diagnostic::error(codes::MISSING_KEY, whole, "the workload has no `image`")
                .with_help("add `image: {location: <uri>}` or `image: {build: <Dockerfile>}`"),
        );
        return;
    };
    match (&image.build, &image.location) {
        (Some(b), Some(_)) => out.push(
            Diagnostic::error(
                codes::IMAGE_SOURCE,
                b.span,
                "`image` sets both `build` and `location`",
            )
            .with_help("keep `build` to build the image, or `location` to use an existing one"),
        ),
        (None, None) => out.push(
            Diagnostic::error(
                codes::IMAGE_SOURCE,
                image.span,
                "`image` needs `build` or `location`",
            )
            .with_help("add `location: <image uri>` or `build: <path to Dockerfile>`"),
        ),
        _ => {}
    }
    if let Some(loc) = &image.location
        && (loc.value.trim().is_empty() || loc.value.contains(char::is_whitespace))
    {
        out.push(
            Diagnostic::error(
                codes::INVALID_VALUE,
                loc.span,
                format!("`image.location` `{}` is not an image reference", loc.value),
            )
            .with_help("write a reference such as public.ecr.aws/nginx/nginx:1.27"),
        );
    }
    if wl.kind == WorkloadKind::LoadBalancedWebService && image.port.is_none() {
        out.push(
            Diagnostic::error(
                codes::MISSING_KEY,
                image.span,
                "a Load Balanced Web Service needs `image.port`, the port its container listens on",
            )
            .with_help("add `port: 80` (or your container's port) under `image`"),
        );
    }
    for (name, sidecar) in m.sidecars.iter().flat_map(|s| s.iter()) {
        match sidecar.image.as_ref().map(|i| &i.value) {
            None => out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    name.span,
                    format!("sidecar `{}` has no `image`", name.value),
                )
                .with_help("add `image: <uri>` to the sidecar"),
            ),
            Some(ScalarOr::Config(c)) if c.build.is_some() == c.location.is_some() => {
                let span = sidecar.image.as_ref().map_or(name.span, |i| i.span);
                out.push(
                    Diagnostic::error(
                        codes::IMAGE_SOURCE,
                        span,
                        format!(
                            "sidecar `{}` needs exactly one of `image.build` and `image.location`",
                            name.value
                        ),
                    )
                    .with_help("keep one of them"),
                );
            }
            _ => {}
        }
    }
}

fn check_container_count(wl: &ResolvedWorkload, whole: Span, out: &mut Vec<Diagnostic>) {
    let names = container_names(wl);
    if names.len() > MAX_CONTAINERS {
        let span = wl.manifest.sidecars.as_ref().map_or(whole, |s| s.span);
        out.push(
            Diagnostic::error(
                codes::TOO_MANY_CONTAINERS,
                span,
                format!(
                    "the task has {} containers ({}); ECS allows at most {MAX_CONTAINERS} per task",
                    names.len(),
                    names.join(", ")
                ),
            )
            .with_help("remove sidecars, or move some of them to a separate service"),
        );
    }
    let mut seen: HashMap<String, ()> = HashMap::new();
    seen.insert(wl.name.clone(), ());
    for (name, _) in wl.manifest.sidecars.iter().flat_map(|s| s.iter()) {
        if seen.insert(name.value.clone(), ()).is_some() || name.value == LOG_ROUTER {
            out.push(
                Diagnostic::error(
                    codes::INVALID_NAME,
                    name.span,
                    format!("sidecar `{}` has the same name as another container in the task", name.value),
                )
                .with_help("container names must be unique; the main container is named after the workload"),
            );
        }
    }
}

/// Valid Fargate memory values for a cpu value, or `None` if the cpu is not a Fargate size.
pub fn fargate_memory_options(cpu: u32) -> Option<Vec<u32>> {
    if cpu == 256 {
        return Some(vec![512, 1024, 2048]);
    }
    let (_, min, max, step) = FARGATE_SIZES.iter().find(|s| s.0 == cpu)?;
    Some(
        (0..)
            .map(|i| min + i * step)
            .take_while(|m| m <= max)
            .collect(),
    )
}

fn check_fargate(
    wl: &ResolvedWorkload,
    platform: &ResolvedPlatform,
    whole: Span,
    out: &mut Vec<Diagnostic>,
) {
    let m = &wl.manifest;
    if m.runs_on_ec2() {
        return;
    }
    check_fargate_network_mode(m, out);
    check_fargate_task_size(m, platform, whole, out);
}

/// Fargate tasks use the `awsvpc` network mode, whether written or set by an override.
fn check_fargate_network_mode(m: &WorkloadManifest, out: &mut Vec<Diagnostic>) {
    if let Some(mode) = &m.network_mode
        && !mode.value.eq_ignore_ascii_case("awsvpc")
    {
        out.push(
            Diagnostic::error(
                codes::FARGATE_NETWORK_MODE,
                mode.span,
                format!(
                    "Fargate tasks must use the `awsvpc` network mode, not `{}`",
                    mode.value
                ),
            )
            .with_help("remove `network_mode`, or run on EC2 capacity with `launch_type: ec2`"),
        );
    }
    for ov in m.taskdef_overrides.iter().flat_map(|o| o.value.iter()) {
        let (Some(path), Some(value)) = (&ov.path, &ov.new_value) else {
            continue;
        };
        if path.value.trim() == "NetworkMode" && value.value.as_str().is_none_or(|v| v != "awsvpc")
        {
            out.push(
                Diagnostic::error(
                    codes::FARGATE_NETWORK_MODE,
                    value.span,
                    "this override sets a network mode other than `awsvpc`, which Fargate does not accept",
                )
                .with_help("remove the override; Fargate tasks always use awsvpc"),
            );
        }
    }
}

/// The cpu and memory of a Fargate task are one of the sizes Fargate offers (fewer on
/// Windows).
fn check_fargate_task_size(
    m: &WorkloadManifest,
    platform: &ResolvedPlatform,
    whole: Span,
    out: &mut Vec<Diagnostic>,
) {
    let cpu = m.task_cpu();
    let memory = m.task_memory();
    let cpu_span = m.cpu.as_ref().map(|c| c.span);
    let mem_span = m.memory.as_ref().map(|c| c.span);
    let span = cpu_span.or(mem_span).unwrap_or(whole);
    let Some(options) = fargate_memory_options(cpu) else {
        out.push(
            Diagnostic::error(
                codes::FARGATE_TASK_SIZE,
                cpu_span.unwrap_or(span),
                format!("{cpu} cpu units is not a Fargate task size"),
            )
            .with_help("Fargate cpu values: 256, 512, 1024, 2048, 4096, 8192, 16384"),
        );
        return;
    };
    if platform.windows && !matches!(cpu, 1024 | 2048 | 4096) {
        out.push(
            Diagnostic::error(
                codes::FARGATE_TASK_SIZE,
                cpu_span.unwrap_or(span),
                format!("Windows tasks on Fargate need 1024, 2048 or 4096 cpu units, not {cpu}"),
            )
            .with_help("set `cpu: 1024` and `memory: 2048` or larger"),
        );
        return;
    }
    if !options.contains(&memory) {
        let shown = if options.len() > 6 {
            format!(
                "{} to {} in steps of {}",
                options[0],
                options[options.len() - 1],
                options[1] - options[0]
            )
        } else {
            options
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        // The combination is wrong; point at whichever of the two was written last, which is
        // the environment override when one of them comes from `environments:`.
        let at = match (cpu_span, mem_span) {
            (Some(c), Some(m)) if (c.line, c.col) > (m.line, m.col) => c,
            (_, Some(m)) => m,
            (Some(c), None) => c,
            (None, None) => span,
        };
        out.push(
            Diagnostic::error(
                codes::FARGATE_TASK_SIZE,
                at,
                format!("{memory} MiB of memory is not valid with {cpu} cpu units on Fargate"),
            )
            .with_help(format!("with cpu {cpu}, memory can be {shown} MiB")),
        );
    }
}

struct ContainerSize {
    name: String,
    span: Span,
    cpu: Option<u32>,
    memory: Option<u32>,
    reservation: Option<u32>,
}

fn container_sizes(wl: &ResolvedWorkload) -> Vec<ContainerSize> {
    let m = &wl.manifest;
    let mut sizes = Vec::new();
    if let Some(image) = &m.image {
        sizes.push(ContainerSize {
            name: wl.name.clone(),
            span: image.span,
            cpu: image.cpu.as_ref().map(|v| v.value),
            memory: image.memory.as_ref().map(|v| v.value),
            reservation: image.memory_reservation.as_ref().map(|v| v.value),
        });
    }
    for (name, s) in m.sidecars.iter().flat_map(|s| s.iter()) {
        sizes.push(ContainerSize {
            name: name.value.clone(),
            span: name.span,
            cpu: s.cpu.as_ref().map(|v| v.value),
            memory: s.memory.as_ref().map(|v| v.value),
            reservation: s.memory_reservation.as_ref().map(|v| v.value),
        });
    }
    sizes
}

fn check_container_resources(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    let sizes = container_sizes(wl);
    let (task_cpu, task_mem) = (m.task_cpu(), m.task_memory());
    let total_cpu: u64 = sizes.iter().filter_map(|c| c.cpu).map(u64::from).sum();
    let total_mem: u64 = sizes
        .iter()
        .filter_map(|c| c.reservation.or(c.memory))
        .map(u64::from)
        .sum();
    let span = sizes.iter().find(|c| c.cpu.is_some()).map(|c| c.span);
    if let Some(span) = span
        && total_cpu > u64::from(task_cpu)
    {
        out.push(
            Diagnostic::error(
                codes::CONTAINER_RESOURCES,
                span,
                format!("the containers ask for {total_cpu} cpu units but the task has {task_cpu}"),
            )
            .with_help("lower the containers' `cpu` or raise the task's `cpu`"),
        );
    }
    let span = sizes
        .iter()
        .find(|c| c.memory.is_some() || c.reservation.is_some())
        .map(|c| c.span);
    if let Some(span) = span
        && total_mem > u64::from(task_mem)
    {
        out.push(
                Diagnostic::error(
                    codes::CONTAINER_RESOURCES,
                    span,
                    format!("the containers reserve {total_mem} MiB of memory but the task has {task_mem} MiB"),
                )
                .with_help("lower the containers' `memory`/`memory_reservation` or raise the task's `memory`"),
            );
    }
    for c in &sizes {
        if let (Some(hard), Some(soft)) = (c.memory, c.reservation)
            && hard <= soft
        {
            out.push(
                    Diagnostic::error(
                        codes::CONTAINER_RESOURCES,
                        c.span,
                        format!(
                            "container `{}` has `memory` {hard} MiB, not above its `memory_reservation` {soft} MiB",
                            c.name
                        ),
                    )
                    .with_help("the hard limit must be larger than the soft limit"),
                );
        }
        if let Some(mem) = c.memory.or(c.reservation)
            && mem < 6
        {
            out.push(
                Diagnostic::error(
                    codes::CONTAINER_RESOURCES,
                    c.span,
                    format!(
                        "container `{}` has {mem} MiB of memory; a container needs at least 6 MiB",
                        c.name
                    ),
                )
                .with_help("memory values are in MiB"),
            );
        }
    }
}

// Parsing a port is the model's; rendering needs it too.
pub use crate::manifest::model::service::parse_container_port;

/// Every exposed (container, port, protocol, span).
pub fn exposed_ports(
    wl: &ResolvedWorkload,
    out: &mut Vec<Diagnostic>,
) -> Vec<(String, u16, String, Span)> {
    let m = &wl.manifest;
    let mut ports = Vec::new();
    if let Some(port) = m.image.as_ref().and_then(|i| i.port.as_ref()) {
        if port.value == 0 {
            out.push(
                Diagnostic::error(
                    codes::PORT_CONFLICT,
                    port.span,
                    "port 0 is not a valid container port",
                )
                .with_help("write the port the container listens on"),
            );
        } else {
            ports.push((wl.name.clone(), port.value, "tcp".to_string(), port.span));
        }
    }
    for (name, s) in m.sidecars.iter().flat_map(|s| s.iter()) {
        if let Some(p) = &s.port {
            match parse_container_port(&p.value) {
                Ok((port, proto)) => ports.push((name.value.clone(), port, proto, p.span)),
                Err(e) => out.push(
                    Diagnostic::error(
                        codes::INVALID_VALUE,
                        p.span,
                        format!("sidecar `{}`: {e}", name.value),
                    )
                    .with_help("write the port as 8080, 8080/tcp or 53/udp"),
                ),
            }
        }
    }
    ports
}

fn check_ports(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let ports = exposed_ports(wl, out);
    let mut by_port: BTreeMap<u16, Vec<&(String, u16, String, Span)>> = BTreeMap::new();
    for p in &ports {
        by_port.entry(p.1).or_default().push(p);
    }
    for (port, users) in by_port {
        if users.len() < 2 {
            continue;
        }
        let first = users[0];
        for other in &users[1..] {
            let msg = if other.2 != first.2 {
                format!(
                    "port {port} is exposed with two protocols ({} on `{}`, {} on `{}`)",
                    first.2, first.0, other.2, other.0
                )
            } else {
                format!(
                    "containers `{}` and `{}` both expose port {port}",
                    first.0, other.0
                )
            };
            out.push(
                Diagnostic::error(codes::PORT_CONFLICT, other.3, msg)
                    .with_help("in awsvpc mode all containers of a task share one network interface; give each a different port"),
            );
        }
    }
}

fn check_health_checks(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    if let Some(hc) = m.image.as_ref().and_then(|i| i.healthcheck.as_ref()) {
        check_container_health(&wl.name, hc, out);
    }
    for (name, s) in m.sidecars.iter().flat_map(|s| s.iter()) {
        if let Some(hc) = &s.healthcheck {
            check_container_health(&name.value, hc, out);
        }
    }
}

fn range_secs(
    out: &mut Vec<Diagnostic>,
    value: Option<&Located<crate::manifest::duration::Duration>>,
    what: &str,
    min: u64,
    max: u64,
) {
    if let Some(v) = value {
        let ms = v.value.millis;
        if ms % 1000 != 0 || ms < min * 1000 || ms > max * 1000 {
            out.push(
                Diagnostic::error(
                    codes::HEALTHCHECK_RANGE,
                    v.span,
                    format!("{what} is {}, outside {min}s-{max}s", v.value),
                )
                .with_help(format!("ECS accepts whole seconds from {min}s to {max}s")),
            );
        }
    }
}

fn check_container_health(
    container: &str,
    hc: &Located<ContainerHealthCheck>,
    out: &mut Vec<Diagnostic>,
) {
    range_secs(
        out,
        hc.interval.as_ref(),
        &format!("the health check interval of `{container}`"),
        5,
        300,
    );
    range_secs(
        out,
        hc.timeout.as_ref(),
        &format!("the health check timeout of `{container}`"),
        2,
        60,
    );
    range_secs(
        out,
        hc.start_period.as_ref(),
        &format!("the health check start period of `{container}`"),
        0,
        300,
    );
    if let Some(r) = &hc.retries
        && !(1..=10).contains(&r.value)
    {
        out.push(
            Diagnostic::error(
                codes::HEALTHCHECK_RANGE,
                r.span,
                format!(
                    "health check retries of `{container}` is {}, outside 1-10",
                    r.value
                ),
            )
            .with_help("ECS accepts 1 to 10 retries"),
        );
    }
    if let (Some(i), Some(t)) = (&hc.interval, &hc.timeout)
        && t.value >= i.value
    {
        out.push(
                Diagnostic::warning(codes::HEALTHCHECK_RANGE, t.span, format!("the health check timeout of `{container}` ({}) is not shorter than its interval ({})", t.value, i.value))
                    .with_help("a check that can run longer than its interval overlaps the next one; shorten the timeout"),
            );
    }
    if let Some(cmd) = &hc.command
        && let Command::Args(args) = &cmd.value
    {
        match args.first().map(String::as_str) {
                Some("CMD" | "CMD-SHELL" | "NONE") if args.len() > 1 || args[0] == "NONE" => {}
                _ => out.push(
                    Diagnostic::error(codes::INVALID_VALUE, cmd.span, format!("the health check command of `{container}` must start with CMD or CMD-SHELL and have a command after it"))
                        .with_help(r#"for example ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]"#),
                ),
            }
    }
}

/// Checks one secret reference; `key` is the variable name.
pub fn check_secret(key: &Located<String>, secret: &Located<Secret>, out: &mut Vec<Diagnostic>) {
    match &secret.value {
        ScalarOr::Scalar(s) => {
            // The value may be the secret itself, pasted (or interpolated from `${VAR}`) where
            // its reference belongs: the message states its shape and the reporter masks it.
            if let Some(problem) = secret_reference_problem(s) {
                out.push(
                    Diagnostic::error(codes::SECRET_REFERENCE, secret.span, format!("secret `{}`: {problem}", key.value))
                        .with_help("use an SSM parameter name (/app/env/NAME), an SSM or Secrets Manager ARN, {secretsmanager: name} or {from_cfn: export}; if a secret value was written here, rotate it")
                        .redacted(),
                );
            }
        }
        ScalarOr::Config(c) => match (&c.secretsmanager, &c.from_cfn) {
            (Some(a), Some(_)) => out.push(
                Diagnostic::error(
                    codes::MUTUALLY_EXCLUSIVE,
                    a.span,
                    format!(
                        "secret `{}` sets both `secretsmanager` and `from_cfn`",
                        key.value
                    ),
                )
                .with_help("keep one of them"),
            ),
            (None, None) => out.push(
                Diagnostic::error(
                    codes::SECRET_REFERENCE,
                    secret.span,
                    format!(
                        "secret `{}` needs `secretsmanager` or `from_cfn`",
                        key.value
                    ),
                )
                .with_help("for example {secretsmanager: 'demo/db:password::'}")
                .redacted(),
            ),
            (Some(v), None) | (None, Some(v)) if v.value.trim().is_empty() => out.push(
                Diagnostic::error(
                    codes::SECRET_REFERENCE,
                    v.span,
                    format!("secret `{}` has an empty reference", key.value),
                )
                .with_help("name the secret or the export")
                .redacted(),
            ),
            _ => {}
        },
    }
}

/// What is wrong with a plain secret reference, if anything. The answer never quotes the
/// value: it may be a secret pasted where its reference belongs (see [`secret_shape`]).
pub fn secret_reference_problem(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return Some("the reference is empty".into());
    }
    if let Some(rest) = s.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        if parts.len() < 5 || !parts[0].starts_with("aws") {
            return Some(format!(
                "{} starts like an ARN but is not one",
                secret_shape(s)
            ));
        }
        return match parts[1] {
            "ssm" if parts[4].starts_with("parameter/") => None,
            "ssm" => Some("the SSM ARN is not of a parameter".into()),
            "secretsmanager" if parts[4].starts_with("secret:") && parts[4].len() > 7 => None,
            "secretsmanager" => Some("the Secrets Manager ARN is not of a secret".into()),
            // A service name is not secret, and says what went wrong.
            other
                if other
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && other.len() <= 40 =>
            {
                Some(format!(
                    "the ARN is of `{other}`; secrets come from SSM or Secrets Manager"
                ))
            }
            _ => Some(format!("{} is an ARN of no known service", secret_shape(s))),
        };
    }
    let valid = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c));
    if !valid {
        return Some(format!(
            "{} is not a reference: an SSM parameter name has only letters, digits, _ . - /",
            secret_shape(s)
        ));
    }
    if s.len() > 2048 {
        return Some("an SSM parameter name is at most 2048 characters".into());
    }
    None
}

fn check_secrets(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    let mut maps: Vec<&Map<Secret>> = Vec::new();
    maps.extend(m.secrets.as_ref().map(|s| &s.value));
    for (_, s) in m.sidecars.iter().flat_map(|s| s.iter()) {
        maps.extend(s.secrets.as_ref().map(|s| &s.value));
    }
    if let Some(l) = &m.logging {
        maps.extend(l.secrets.as_ref().map(|s| &s.value));
        maps.extend(l.secret_options.as_ref().map(|s| &s.value));
    }
    for map in maps {
        for (k, v) in map {
            check_secret(k, v, out);
        }
    }
    for (k, v) in m.variables.iter().flat_map(|v| v.iter()) {
        if let ScalarOr::Config(c) = &v.value
            && c.from_cfn
                .as_ref()
                .is_none_or(|f| f.value.trim().is_empty())
        {
            out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    v.span,
                    format!(
                        "variable `{}` needs a non-empty `from_cfn` export name",
                        k.value
                    ),
                )
                .with_help("write {from_cfn: <export name>} or a plain value"),
            );
        }
    }
}

fn check_storage(wl: &ResolvedWorkload, platform: &ResolvedPlatform, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    let Some(storage) = &m.storage else {
        check_mount_points(wl, &[], out);
        return;
    };
    if let Some(e) = &storage.ephemeral {
        if e.value == 20 {
            out.push(
                Diagnostic::warning(
                    codes::EPHEMERAL_STORAGE,
                    e.span,
                    "20 GiB is Fargate's default ephemeral storage; this setting has no effect",
                )
                .with_help("remove it, or ask for 21-200 GiB"),
            );
        } else if !(21..=200).contains(&e.value) {
            out.push(
                Diagnostic::error(
                    codes::EPHEMERAL_STORAGE,
                    e.span,
                    format!("ephemeral storage is {} GiB, outside 21-200 GiB", e.value),
                )
                .with_help("Fargate provides 20 GiB by default and accepts 21 to 200 GiB"),
            );
        }
    }
    if let Some(ro) = &storage.readonly_fs
        && ro.value
        && platform.windows
    {
        out.push(
            Diagnostic::error(
                codes::PLATFORM,
                ro.span,
                "`readonly_fs` is not supported on Windows",
            )
            .with_help("remove `readonly_fs` or run on Linux"),
        );
    }
    let mut managed = 0;
    let mut names: Vec<String> = Vec::new();
    for (name, vol) in storage.volumes.iter().flat_map(|v| v.iter()) {
        names.push(name.value.clone());
        check_volume_path(name, vol, out);
        let Some(efs) = &vol.efs else { continue };
        if platform.windows && efs.value.enabled() {
            out.push(
                Diagnostic::error(
                    codes::PLATFORM,
                    efs.span,
                    "EFS volumes are not supported on Windows",
                )
                .with_help("remove the EFS volume or run on Linux"),
            );
        }
        match &efs.value {
            BoolOr::Bool(true) => managed += 1,
            BoolOr::Bool(false) => {}
            BoolOr::Config(c) => {
                if check_efs_config(&name.value, efs.span, c, out) {
                    managed += 1;
                }
            }
        }
    }
    if managed > 1 {
        out.push(
            Diagnostic::error(codes::VOLUME, storage.span, "at most one volume may use the environment's managed EFS file system")
                .with_help("share one managed volume, or use an existing file system (`efs.id`) for the others"),
        );
    }
    check_mount_points(wl, &names, out);
}

/// Where a volume is mounted: given, and a plain path.
fn check_volume_path(name: &Located<String>, vol: &Volume, out: &mut Vec<Diagnostic>) {
    match &vol.path {
        None => out.push(
            Diagnostic::error(
                codes::VOLUME,
                name.span,
                format!("volume `{}` needs a `path` to mount at", name.value),
            )
            .with_help("add `path: /data` (the mount path inside the container)"),
        ),
        Some(p)
            if !p
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
                || p.value.is_empty() =>
        {
            out.push(
                Diagnostic::error(
                    codes::VOLUME,
                    p.span,
                    format!(
                        "volume path `{}` has characters outside a-z A-Z 0-9 . _ - /",
                        p.value
                    ),
                )
                .with_help("use a plain absolute path such as /var/data"),
            );
        }
        _ => {}
    }
}

/// The long form of a volume's `efs`: managed (`uid`/`gid`, together, not root) or an existing
/// file system (`id`), not both, and an access point only with the root directory it sets.
/// Returns whether the volume uses the environment's managed file system.
fn check_efs_config(name: &str, span: Span, c: &EfsConfig, out: &mut Vec<Diagnostic>) -> bool {
    let uses_managed = c.uid.is_some() || c.gid.is_some();
    let uses_existing = c.id.is_some() || c.root_dir.is_some() || c.auth.is_some();
    if uses_managed && uses_existing {
        out.push(
            Diagnostic::error(codes::MUTUALLY_EXCLUSIVE, span, format!("volume `{}`: `uid`/`gid` (managed EFS) cannot be combined with `id`, `root_dir` or `auth`", name))
                .with_help("use uid/gid for the environment's managed file system, or id for an existing one"),
        );
    }
    if c.uid.is_some() != c.gid.is_some() {
        out.push(
            Diagnostic::error(
                codes::VOLUME,
                span,
                format!("volume `{}`: `uid` and `gid` must be set together", name),
            )
            .with_help("add the missing one"),
        );
    }
    if let Some(uid) = &c.uid
        && uid.value == 0
    {
        out.push(
            Diagnostic::error(
                codes::VOLUME,
                uid.span,
                "`uid` 0 (root) is not allowed for an EFS access point",
            )
            .with_help("choose a non-root user id"),
        );
    }
    if !uses_managed && c.id.is_none() {
        out.push(
            Diagnostic::error(codes::MISSING_KEY, span, format!("volume `{}`: EFS needs `id` (an existing file system) or `uid`/`gid` (managed)", name))
                .with_help("add `id: fs-...` or `uid`/`gid`"),
        );
    }
    if let Some(ap) = c.auth.as_ref().and_then(|a| a.access_point_id.as_ref()) {
        let root_ok = c
            .root_dir
            .as_ref()
            .is_none_or(|r| r.value.is_empty() || r.value == "/");
        let iam = c
            .auth
            .as_ref()
            .and_then(|a| a.iam.as_ref())
            .is_none_or(|i| i.value);
        if !root_ok || !iam {
            out.push(
                Diagnostic::error(
                    codes::VOLUME,
                    ap.span,
                    "an EFS access point needs `root_dir` empty or `/`, and `auth.iam` true",
                )
                .with_help("the access point sets the root directory itself"),
            );
        }
    }
    uses_managed
}

fn check_mount_points(wl: &ResolvedWorkload, volumes: &[String], out: &mut Vec<Diagnostic>) {
    for (name, s) in wl.manifest.sidecars.iter().flat_map(|s| s.iter()) {
        check_sidecar_mounts(&name.value, s, volumes, out);
    }
}

fn check_sidecar_mounts(sidecar: &str, s: &Sidecar, volumes: &[String], out: &mut Vec<Diagnostic>) {
    for mp in s.mount_points.iter().flat_map(|m| m.iter()) {
        match &mp.source_volume {
            Some(v) if !volumes.contains(&v.value) => {
                let names: Vec<&str> = volumes.iter().map(String::as_str).collect();
                let help = match crate::manifest::decode::did_you_mean(&v.value, &names) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if volumes.is_empty() => {
                        "define the volume under `storage.volumes`".to_string()
                    }
                    None => format!("volumes defined: {}", volumes.join(", ")),
                };
                out.push(
                    Diagnostic::error(
                        codes::UNKNOWN_VOLUME,
                        v.span,
                        format!(
                            "sidecar `{sidecar}` mounts volume `{}`, which is not defined",
                            v.value
                        ),
                    )
                    .with_help(help),
                );
            }
            None => out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    mp.span,
                    format!("a mount point of sidecar `{sidecar}` has no `source_volume`"),
                )
                .with_help("name a volume from `storage.volumes`"),
            ),
            _ => {}
        }
        if mp.path.is_none() {
            out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    mp.span,
                    format!("a mount point of sidecar `{sidecar}` has no `path`"),
                )
                .with_help("add the path inside the container"),
            );
        }
    }
}

/// One `depends_on` entry: the container that waits, the container it waits for, and the
/// condition.
type Dependency = (String, Located<String>, Located<String>);

/// What the dependency checks need to know of a task's containers.
struct Containers {
    names: Vec<String>,
    /// Whether each container is essential (the main container always is).
    essential: HashMap<String, bool>,
    /// The containers with a health check.
    healthchecked: Vec<String>,
}

fn check_depends_on(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let edges = dependencies(wl);
    let containers = containers(wl);
    for edge in &edges {
        check_dependency(edge, &containers, out);
    }
    check_dependency_cycles(&edges, &containers.names, out);
}

/// Every `depends_on` entry of the main container and the sidecars.
fn dependencies(wl: &ResolvedWorkload) -> Vec<Dependency> {
    let m = &wl.manifest;
    let mut edges = Vec::new();
    if let Some(deps) = m.image.as_ref().and_then(|i| i.depends_on.as_ref()) {
        for (k, v) in deps.iter() {
            edges.push((wl.name.clone(), k.clone(), v.clone()));
        }
    }
    for (name, s) in m.sidecars.iter().flat_map(|s| s.iter()) {
        for (k, v) in s.depends_on.iter().flat_map(|d| d.iter()) {
            edges.push((name.value.clone(), k.clone(), v.clone()));
        }
    }
    edges
}

fn containers(wl: &ResolvedWorkload) -> Containers {
    let m = &wl.manifest;
    let sidecars = || m.sidecars.iter().flat_map(|s| s.iter());
    let mut essential: HashMap<String, bool> = HashMap::new();
    essential.insert(wl.name.clone(), true);
    for (name, s) in sidecars() {
        essential.insert(
            name.value.clone(),
            s.essential.as_ref().is_none_or(|e| e.value),
        );
    }
    let main_healthcheck = m
        .image
        .as_ref()
        .and_then(|i| i.healthcheck.as_ref())
        .is_some();
    let healthchecked = std::iter::once((wl.name.clone(), main_healthcheck))
        .chain(sidecars().map(|(n, s)| (n.value.clone(), s.healthcheck.is_some())))
        .filter(|(_, h)| *h)
        .map(|(n, _)| n)
        .collect();
    Containers {
        names: container_names(wl),
        essential,
        healthchecked,
    }
}

/// One dependency: a known condition, on another container of the task, that the target can
/// meet (an essential container never completes; `healthy` needs a health check).
fn check_dependency(edge: &Dependency, containers: &Containers, out: &mut Vec<Diagnostic>) {
    let (from, target, cond) = edge;
    let names = &containers.names;
    let condition = cond.value.to_ascii_lowercase();
    if !DEPENDS_ON_CONDITIONS.contains(&condition.as_str()) {
        out.push(
            Diagnostic::error(
                codes::DEPENDS_ON_UNKNOWN,
                cond.span,
                format!("`{}` is not a dependency condition", cond.value),
            )
            .with_help("conditions: start, healthy, complete, success"),
        );
    }
    if &target.value == from {
        out.push(
            Diagnostic::error(
                codes::DEPENDS_ON_CYCLE,
                target.span,
                format!("container `{from}` depends on itself"),
            )
            .with_help("remove this dependency"),
        );
        return;
    }
    if !names.contains(&target.value) {
        let known: Vec<&str> = names.iter().map(String::as_str).collect();
        let help = match crate::manifest::decode::did_you_mean(&target.value, &known) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("containers in this task: {}", names.join(", ")),
        };
        out.push(
            Diagnostic::error(
                codes::DEPENDS_ON_UNKNOWN,
                target.span,
                format!(
                    "`{from}` depends on `{}`, which is not a container of this task",
                    target.value
                ),
            )
            .with_help(help),
        );
        return;
    }
    if containers
        .essential
        .get(&target.value)
        .copied()
        .unwrap_or(true)
        && (condition == "complete" || condition == "success")
    {
        out.push(
            Diagnostic::error(
                codes::DEPENDS_ON_UNKNOWN,
                cond.span,
                format!(
                    "`{}` is essential, so others can depend on it only with `start` or `healthy`",
                    target.value
                ),
            )
            .with_help(format!(
                "set `essential: false` on `{}` if it is meant to run and exit",
                target.value
            )),
        );
    }
    if condition == "healthy" && !containers.healthchecked.contains(&target.value) {
        out.push(
            Diagnostic::error(
                codes::DEPENDS_ON_UNKNOWN,
                cond.span,
                format!(
                    "`{from}` waits for `{}` to be healthy, but `{}` has no health check",
                    target.value, target.value
                ),
            )
            .with_help("add a `healthcheck` to that container, or depend on it with `start`"),
        );
    }
}

/// The first cycle among the dependencies (depth-first search), reported once.
fn check_dependency_cycles(edges: &[Dependency], names: &[String], out: &mut Vec<Diagnostic>) {
    let graph: HashMap<&str, Vec<&str>> =
        edges.iter().fold(HashMap::new(), |mut g, (from, to, _)| {
            g.entry(from.as_str()).or_default().push(to.value.as_str());
            g
        });
    for start in names {
        let mut path = vec![start.as_str()];
        if let Some(cycle) = find_cycle(&graph, &mut path) {
            let span = edges
                .iter()
                .find(|(f, t, _)| f == cycle[0] && t.value == cycle[1])
                .map(|(_, t, _)| t.span)
                .unwrap_or_default();
            out.push(
                Diagnostic::error(
                    codes::DEPENDS_ON_CYCLE,
                    span,
                    format!(
                        "container dependencies form a cycle: {}",
                        cycle.join(" -> ")
                    ),
                )
                .with_help(
                    "ECS cannot start containers that wait for each other; remove one dependency",
                ),
            );
            return;
        }
    }
}

fn find_cycle<'a>(
    graph: &HashMap<&'a str, Vec<&'a str>>,
    path: &mut Vec<&'a str>,
) -> Option<Vec<&'a str>> {
    let &last = path.last()?;
    for &next in graph.get(last).into_iter().flatten() {
        if next == last {
            continue; // self-dependency, reported separately
        }
        if let Some(pos) = path.iter().position(|p| *p == next) {
            let mut cycle = path[pos..].to_vec();
            cycle.push(next);
            return Some(cycle);
        }
        if path.len() > 20 {
            return None;
        }
        path.push(next);
        if let Some(c) = find_cycle(graph, path) {
            return Some(c);
        }
        path.pop();
    }
    None
}

fn check_env_files(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let m = &wl.manifest;
    let mut files: Vec<&Located<String>> = Vec::new();
    files.extend(m.env_file.as_ref());
    for (_, s) in m.sidecars.iter().flat_map(|s| s.iter()) {
        files.extend(s.env_file.as_ref());
    }
    files.extend(m.logging.as_ref().and_then(|l| l.env_file.as_ref()));
    for f in files {
        if !f.value.ends_with(".env") {
            out.push(
                Diagnostic::error(
                    codes::ENV_FILE,
                    f.span,
                    format!("env file `{}` must have the `.env` extension", f.value),
                )
                .with_help("ECS reads environment files ending in .env; rename the file"),
            );
        }
    }
}

fn check_taskdef_overrides(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    for ov in wl
        .manifest
        .taskdef_overrides
        .iter()
        .flat_map(|o| o.value.iter())
    {
        let Some(path) = &ov.path else {
            out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    ov.span,
                    "a task definition override needs a `path`",
                )
                .with_help("for example `path: ContainerDefinitions[0].Ulimits[-]`"),
            );
            continue;
        };
        if ov.new_value.is_none() {
            out.push(
                Diagnostic::error(
                    codes::MISSING_KEY,
                    ov.span,
                    "a task definition override needs a `value`",
                )
                .with_help("give the value to set at the path"),
            );
        }
        let p = path.value.trim();
        let segments: Vec<&str> = p.split('.').collect();
        let well_formed = !p.is_empty() && segments.iter().all(|s| valid_override_segment(s));
        if !well_formed {
            out.push(
                Diagnostic::error(codes::TASKDEF_OVERRIDE, path.span, format!("`{p}` is not a valid override path"))
                    .with_help("write keys separated by dots, with [n] or [-] for list items: ContainerDefinitions[0].Ulimits[-]"),
            );
            continue;
        }
        let is_name = segments.len() == 2
            && segments[0].starts_with("ContainerDefinitions[")
            && segments[1] == "Name";
        if segments[0] == "Family" || is_name {
            out.push(
                Diagnostic::error(
                    codes::TASKDEF_OVERRIDE,
                    path.span,
                    format!("`{p}` cannot be overridden"),
                )
                .with_help("tug sets the task family and container names itself"),
            );
        }
    }
}

fn valid_override_segment(seg: &str) -> bool {
    let (key, index) = match seg.find('[') {
        Some(i) => (&seg[..i], Some(&seg[i..])),
        None => (seg, None),
    };
    let key_ok = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let index_ok = index.is_none_or(|ix| {
        ix.strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .is_some_and(|n| n == "-" || n.parse::<u32>().is_ok())
    });
    key_ok && index_ok
}

/// CloudWatch Logs retention values, in days.
pub const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

fn check_logging(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    if let Some(r) = wl
        .manifest
        .logging
        .as_ref()
        .and_then(|l| l.retention.as_ref())
        && !LOG_RETENTION_DAYS.contains(&r.value)
    {
        let nearest = LOG_RETENTION_DAYS
            .iter()
            .min_by_key(|d| d.abs_diff(r.value))
            .copied()
            .unwrap_or(30);
        out.push(
                Diagnostic::error(codes::INVALID_VALUE, r.span, format!("log retention of {} days is not one CloudWatch Logs accepts", r.value))
                    .with_help(format!("the nearest allowed value is {nearest}; allowed: 1, 3, 5, 7, 14, 30, 60, 90, ... 3653")),
            );
    }
}
