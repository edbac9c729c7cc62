//! Naming rules for workloads, environments and containers, and checks that look across
//! workloads (shared listener paths, Service Connect aliases, topic subscriptions).

use std::collections::BTreeMap;

use crate::manifest::codes;
use crate::manifest::decode::Located;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::load::{Loaded, ResolvedWorkload};
use crate::manifest::model::WorkloadKind;
use crate::manifest::source::Span;
use crate::manifest::union::BoolOr;

// The rules for names themselves are the model's (the workspace reader checks the
// application's name too); the checks below apply them to manifests.
pub(crate) use crate::manifest::names::{
    MAX_STACK_NAME, container_name_problem, name_problem, suggest_name,
};

pub(crate) fn check(wl: &ResolvedWorkload, out: &mut Vec<Diagnostic>) {
    let span = wl
        .manifest
        .name
        .as_ref()
        .map_or(Span::default(), |n| n.span);
    if let Some(problem) = name_problem(&wl.name) {
        out.push(
            Diagnostic::error(
                codes::INVALID_NAME,
                span,
                format!("workload name {problem}"),
            )
            .with_help(format!(
                "rename the workload folder and its `name`, e.g. `{}`",
                suggest_name(&wl.name)
            )),
        );
    }
    for (name, _) in wl.manifest.sidecars.iter().flat_map(|s| s.iter()) {
        if let Some(problem) = container_name_problem(&name.value) {
            out.push(
                Diagnostic::error(codes::INVALID_NAME, name.span, problem)
                    .with_help("rename the sidecar"),
            );
        }
    }
}

/// Checks across all workloads of one environment.
pub(crate) fn check_workspace(loaded: &Loaded, out: &mut Vec<Diagnostic>) {
    for env in &loaded.environment_names {
        let stack = format!("{}-{}", loaded.app, env);
        for wl in loaded
            .workloads
            .iter()
            .filter(|w| w.environment.as_ref() == Some(env))
        {
            let full = format!("{stack}-{}", wl.name);
            if full.len() > MAX_STACK_NAME {
                let span = wl
                    .manifest
                    .name
                    .as_ref()
                    .map_or(Span::default(), |n| n.span);
                out.push(tag(
                    Diagnostic::error(
                        codes::INVALID_NAME,
                        span,
                        format!(
                            "the stack name `{full}` is longer than {MAX_STACK_NAME} characters"
                        ),
                    )
                    .with_help("shorten the application, environment or workload name"),
                    env,
                ));
            }
        }
        let in_env: Vec<&ResolvedWorkload> = loaded
            .workloads
            .iter()
            .filter(|w| w.environment.as_ref() == Some(env))
            .collect();
        check_shared_paths(&in_env, env, out);
        check_connect_aliases(&in_env, env, out);
        check_subscriptions(&in_env, env, out);
    }
    if loaded.environment_names.is_empty() {
        let wls: Vec<&ResolvedWorkload> = loaded.workloads.iter().collect();
        check_subscriptions(&wls, "", out);
    }
}

fn tag(mut d: Diagnostic, env: &str) -> Diagnostic {
    if !env.is_empty() {
        d.environments.push(env.to_string());
    }
    d
}

/// Two services routing the same path on the same load balancer without host aliases would
/// fight over the traffic: the listener sends it all to one of them.
fn check_shared_paths(wls: &[&ResolvedWorkload], env: &str, out: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<(bool, String), (&str, Span)> = BTreeMap::new();
    for wl in wls {
        let public = match wl.kind {
            WorkloadKind::LoadBalancedWebService => true,
            WorkloadKind::BackendService => false,
            _ => continue,
        };
        let Some(rule) = wl.manifest.http_rule() else {
            continue;
        };
        if rule.alias.is_some() || rule.alb.is_some() {
            continue;
        }
        let Some(path) = &rule.path else { continue };
        let key = (public, normalize_path(&path.value));
        if let Some((other, _)) = seen.get(&key) {
            out.push(tag(
                Diagnostic::error(
                    codes::LOAD_BALANCER,
                    path.span,
                    format!(
                        "`{}` and `{other}` both route path `{}` on the same load balancer",
                        wl.name, path.value
                    ),
                )
                .with_help(
                    "give each service its own path, or host-based routing with `http.alias`",
                ),
                env,
            ));
        } else {
            seen.insert(key, (wl.name.as_str(), path.span));
        }
    }
}

fn normalize_path(p: &str) -> String {
    let t = p.trim().trim_matches('/');
    format!("/{t}")
}

fn check_connect_aliases(wls: &[&ResolvedWorkload], env: &str, out: &mut Vec<Diagnostic>) {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for wl in wls {
        let Some(connect) = wl
            .manifest
            .network
            .as_ref()
            .and_then(|n| n.connect.as_ref())
        else {
            continue;
        };
        let alias: Located<String> = match &connect.value {
            BoolOr::Bool(false) => continue,
            BoolOr::Bool(true) => Located::new(wl.name.clone(), connect.span),
            BoolOr::Config(c) => c
                .alias
                .clone()
                .unwrap_or_else(|| Located::new(wl.name.clone(), connect.span)),
        };
        if let Some(other) = seen.get(&alias.value) {
            out.push(tag(
                Diagnostic::error(
                    codes::NETWORK,
                    alias.span,
                    format!(
                        "Service Connect alias `{}` is used by both `{other}` and `{}`",
                        alias.value, wl.name
                    ),
                )
                .with_help("aliases must be unique within an environment's namespace"),
                env,
            ));
        } else {
            seen.insert(alias.value.clone(), wl.name.as_str());
        }
    }
}

fn check_subscriptions(wls: &[&ResolvedWorkload], env: &str, out: &mut Vec<Diagnostic>) {
    for wl in wls {
        let topics = wl
            .manifest
            .subscribe
            .as_ref()
            .and_then(|s| s.topics.as_ref());
        for sub in topics.iter().flat_map(|t| t.iter()) {
            let (Some(name), Some(service)) = (&sub.name, &sub.service) else {
                out.push(tag(
                    Diagnostic::error(
                        codes::PUBSUB,
                        sub.span,
                        "a topic subscription needs `name` and `service`",
                    )
                    .with_help("name the topic and the service that publishes it"),
                    env,
                ));
                continue;
            };
            let Some(publisher) = wls.iter().find(|w| w.name == service.value) else {
                // The publisher may be deployed from another workspace of the same application.
                out.push(tag(
                    Diagnostic::warning(codes::PUBSUB, service.span, format!("`{}` subscribes to service `{}`, which is not in this workspace", wl.name, service.value))
                        .with_help("if the service is deployed from another workspace of this application, ignore this; otherwise fix the name"),
                    env,
                ));
                continue;
            };
            let publishes = publisher
                .manifest
                .publish
                .as_ref()
                .and_then(|p| p.topics.as_ref())
                .is_some_and(|ts| {
                    ts.iter()
                        .any(|t| t.name.as_ref().is_some_and(|n| n.value == name.value))
                });
            if !publishes {
                out.push(tag(
                    Diagnostic::error(
                        codes::PUBSUB,
                        name.span,
                        format!(
                            "service `{}` does not publish a topic named `{}`",
                            service.value, name.value
                        ),
                    )
                    .with_help(format!(
                        "add it to `publish.topics` of `{}`, or fix the name",
                        service.value
                    )),
                    env,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(name_problem("web").is_none());
        assert!(name_problem("post-award-celery").is_none());
        assert!(name_problem("w").is_some());
        assert!(name_problem("Web").is_some());
        assert!(name_problem("my_app").is_some());
        assert!(name_problem("a--b").is_some());
        assert!(container_name_problem("nginx_proxy").is_none());
        assert_eq!(suggest_name("Web_API"), "web-api");
        assert_eq!(suggest_name("my--svc-"), "my-svc");
        assert!(container_name_problem("bad name").is_some());
    }
}
