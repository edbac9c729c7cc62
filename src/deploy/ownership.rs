//! Who owns a stack. tug changes only stacks tagged `tug:app` with the workspace's
//! application; every other stack of the same name (AWS Copilot's stacks have exactly tug's
//! names, `<app>-<env>` and `<app>-<env>-<name>`) is foreign and is never changed, deleted or
//! rolled back. No flag overrides this: taking a Copilot application over is its own
//! operation (`tug adopt`), not a deploy; an adopted stack carries `tug:app` and is tug's.

use crate::deploy::stack::StackInfo;
use crate::error::Error;

/// The tag that marks a stack as tug's, with the application as its value.
pub const APP_TAG: &str = "tug:app";

/// The tags AWS Copilot puts on the stacks it deploys.
const COPILOT_TAGS: [&str; 3] = [
    "copilot-application",
    "copilot-environment",
    "copilot-service",
];

/// Where the ways forward for a Copilot stack are explained.
pub const MIGRATION_DOC: &str = "docs/migrating-from-copilot.md";

/// Who owns a stack, as its tags say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Tagged `tug:app` with the workspace's application.
    Tug,
    /// Deployed by AWS Copilot: its `copilot-*` tags.
    Copilot(Vec<(String, String)>),
    /// Anything else: tug of another application, another tool, or no tags at all. The tags
    /// that say who owns it, if any.
    Other(Vec<(String, String)>),
}

/// Decides who owns a stack with these tags, for the workspace's application `app`.
pub fn owner(tags: &[(String, String)], app: &str) -> Owner {
    if tags.iter().any(|(k, v)| k == APP_TAG && v == app) {
        return Owner::Tug;
    }
    let copilot: Vec<(String, String)> = tags
        .iter()
        .filter(|(k, _)| COPILOT_TAGS.contains(&k.as_str()))
        .cloned()
        .collect();
    if !copilot.is_empty() {
        return Owner::Copilot(copilot);
    }
    // Tags that name an owner: tug's own, CloudFormation's and other tools' markers. Cost
    // tags and the like say nothing about who may change the stack, so they are left out.
    let owners = tags
        .iter()
        .filter(|(k, _)| {
            k.starts_with("tug:")
                || k.starts_with("aws:")
                || k.contains("owner")
                || k.contains("Owner")
                || k.contains("managed")
                || k.contains("Managed")
                || k.contains("application")
                || k.contains("Application")
        })
        .cloned()
        .collect();
    Owner::Other(owners)
}

/// Why tug refuses to touch a stack it does not own, and what to do instead; `None` when tug
/// owns it. `doing` says what was about to happen ("deploy to", "delete", "roll back").
pub fn refusal(stack: &str, tags: &[(String, String)], app: &str, doing: &str) -> Option<Error> {
    match owner(tags, app) {
        Owner::Tug => None,
        Owner::Copilot(tags) => {
            let copilot_app = tags
                .iter()
                .find(|(k, _)| k == "copilot-application")
                .map_or("?", |(_, v)| v.as_str());
            Some(Error::failure(format!(
                "refusing to {doing} stack {stack}: it belongs to the AWS Copilot application {copilot_app} ({}), and tug never changes a stack it does not own",
                list(&tags)
            )).help(format!(
                "deploy side by side under another environment or application name and move traffic, or take the Copilot application over in place with `tug adopt --plan`, then `tug adopt`; both are described in {MIGRATION_DOC}"
            )))
        }
        Owner::Other(tags) => Some(Error::failure(format!(
            "refusing to {doing} stack {stack}: it was not deployed by tug for application {app} ({}), and tug never changes a stack it does not own",
            if tags.is_empty() {
                "it has no owner tags".to_string()
            } else {
                format!("its owner tags: {}", list(&tags))
            }
        )).help("choose another application or environment name (the stack name is `<app>-<env>[-<workload>]`), or remove the stack with the tool that created it")),
    }
}

/// The refusal for a stack as read from CloudFormation; `None` when tug owns it.
pub fn check(info: &StackInfo, stack: &str, app: &str, doing: &str) -> Option<Error> {
    refusal(stack, &info.tags, app, doing)
}

fn list(tags: &[(String, String)]) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn tug_owns_only_its_application() {
        let ours = tags(&[("tug:app", "demo"), ("tug:env", "test")]);
        assert_eq!(owner(&ours, "demo"), Owner::Tug);
        assert!(refusal("demo-test", &ours, "demo", "deploy to").is_none());
        // Another tug application whose stack happens to have this name.
        let theirs = tags(&[("tug:app", "demo-test"), ("tug:env", "api")]);
        let why = refusal("demo-test-api", &theirs, "demo", "deploy to")
            .unwrap()
            .to_string();
        assert!(why.contains("tug:app=demo-test"), "{why}");
    }

    #[test]
    fn copilot_stacks_name_their_application_and_the_ways_forward() {
        let copilot = tags(&[
            ("copilot-application", "demo"),
            ("copilot-environment", "test"),
            ("team", "web"),
        ]);
        let why = refusal("demo-test", &copilot, "demo", "deploy to")
            .unwrap()
            .to_string();
        assert!(
            why.starts_with("refusing to deploy to stack demo-test"),
            "{why}"
        );
        assert!(why.contains("AWS Copilot application demo"), "{why}");
        assert!(why.contains("copilot-environment=test"), "{why}");
        assert!(!why.contains("team=web"), "{why}");
        assert!(why.contains("tug adopt"), "{why}");
        assert!(why.contains(MIGRATION_DOC), "{why}");
    }

    #[test]
    fn untagged_stacks_are_foreign() {
        let why = refusal("demo-test", &[], "demo", "delete")
            .unwrap()
            .to_string();
        assert!(why.contains("refusing to delete stack demo-test"), "{why}");
        assert!(why.contains("no owner tags"), "{why}");
        let cost = tags(&[("cost-center", "42")]);
        let why = refusal("demo-test", &cost, "demo", "delete")
            .unwrap()
            .to_string();
        assert!(why.contains("no owner tags"), "{why}");
    }
}
