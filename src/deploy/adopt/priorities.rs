//! Listener rule priorities of a workload tug deploys for the first time into an environment
//! adopted from AWS Copilot. tug's own choice of priority (see `render::workload::http`)
//! knows only the workspace's workloads; on an adopted environment's listener, Copilot
//! services not adopted (or not in the workspace) may still hold rules, and creating a rule
//! with a priority another rule holds fails the deploy. So, before the change set:
//!
//! - [`free`] reads the priorities in use on each listener the new stack's rules go on (ELBv2
//!   DescribeRules) and moves a clashing rule to the nearest free number, upwards (so that a
//!   rule keeps its place among the workspace's own rules) and, above 50,000, downwards;
//! - the numbers chosen are recorded in the template (`Metadata` `tug:priorities`) and the
//!   stack tagged [`TAG`], so that every later deploy keeps them ([`keep`]) without reading
//!   the listener again.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::deploy::adopt::copilot;
use crate::deploy::adopt::template::{self, Known};
use crate::deploy::aws::{Aws, describe_error};
use crate::deploy::service_arn::export_value;
use crate::deploy::stack::{self, StackInfo};
use crate::error::{Error, Result};
use crate::render::RenderedStack;

/// The template metadata key recording the priorities chosen: logical id → priority.
pub const METADATA_KEY: &str = "tug:priorities";

/// The stack tag saying its template records chosen priorities.
pub const TAG: &str = "tug:listener-priorities";

const LISTENER_RULE: &str = "AWS::ElasticLoadBalancingV2::ListenerRule";

/// The highest priority ELBv2 accepts.
const MAX_PRIORITY: i64 = 50_000;

/// A new workload stack with its listener rules moved off priorities other rules hold on an
/// adopted environment's listeners; `None` when nothing had to move (or the environment was
/// not adopted).
pub async fn free(aws: &Aws, rendered: &RenderedStack) -> Result<Option<RenderedStack>> {
    let Some(env_stack) = environment_stack(rendered) else {
        return Ok(None);
    };
    let Ok(mut t) = template::parse(&rendered.template) else {
        return Ok(None);
    };
    let rules = listener_rules(&t, rendered);
    if rules.is_empty() {
        return Ok(None);
    }
    let adopted = stack::describe(aws, &env_stack)
        .await?
        .is_some_and(|info| info.tag(copilot::ADOPTED_TAG).is_some());
    if !adopted {
        return Ok(None);
    }
    let mut in_use: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for import in rules.iter().filter_map(|r| r.import.as_deref()) {
        if in_use.contains_key(import) {
            continue;
        }
        let Some(listener) = export_value(aws, import).await? else {
            continue;
        };
        in_use.insert(import.to_string(), priorities_on(aws, &listener).await?);
    }
    let chosen = choose(&rules, &in_use);
    if chosen.is_empty() {
        return Ok(None);
    }
    for (id, priority) in &chosen {
        if let Some(props) = t
            .pointer_mut(&format!("/Resources/{id}/Properties"))
            .and_then(Value::as_object_mut)
        {
            props.insert("Priority".into(), json!(priority));
        }
    }
    record(&mut t, &chosen);
    let mut out = rendered.clone();
    out.template = serde_json::to_string(&t).map_err(|e| Error::failure(e.to_string()))?;
    out.tags.insert(TAG.into(), "recorded".into());
    Ok(Some(out))
}

/// A later render of a stack whose first deploy chose priorities ([`free`]): the same
/// priorities, the record and the tag kept. `None` when the stack records none.
pub fn keep(rendered: &RenderedStack, info: &StackInfo, deployed: &Value) -> Option<RenderedStack> {
    info.tag(TAG)?;
    let chosen: BTreeMap<String, i64> = serde_json::from_value(
        deployed
            .pointer(&format!("/Metadata/{METADATA_KEY}"))?
            .clone(),
    )
    .ok()?;
    let mut t = template::parse(&rendered.template).ok()?;
    apply(&mut t, &chosen);
    record(&mut t, &chosen);
    let mut out = rendered.clone();
    out.template = serde_json::to_string(&t).ok()?;
    out.tags.insert(TAG.into(), "recorded".into());
    Some(out)
}

/// Sets the recorded priorities on the listener rules `t` still has, and records them.
pub(crate) fn apply(t: &mut Value, chosen: &BTreeMap<String, i64>) {
    for (id, priority) in chosen {
        let Some(r) = t
            .pointer_mut(&format!("/Resources/{id}"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if r.get("Type").and_then(Value::as_str) != Some(LISTENER_RULE) {
            continue;
        }
        if let Some(props) = r.get_mut("Properties").and_then(Value::as_object_mut) {
            props.insert("Priority".into(), json!(priority));
        }
    }
}

fn record(t: &mut Value, chosen: &BTreeMap<String, i64>) {
    if let Some(top) = t.as_object_mut() {
        let meta = top.entry("Metadata").or_insert_with(|| json!({}));
        if let Some(m) = meta.as_object_mut() {
            m.insert(METADATA_KEY.into(), json!(chosen));
        }
    }
}

/// `<app>-<env>` from the workload stack's tags.
fn environment_stack(rendered: &RenderedStack) -> Option<String> {
    rendered.workload.as_ref()?;
    let app = rendered.tags.get(crate::deploy::ownership::APP_TAG)?;
    let env = rendered.tags.get("tug:env")?;
    Some(crate::render::names::env_stack(app, env))
}

/// One listener rule of a rendered template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub logical_id: String,
    /// The export naming its listener (`<app>-<env>-HTTPListenerArn`); `None` for a listener
    /// of the stack itself, which nothing else uses.
    pub import: Option<String>,
    pub priority: i64,
}

fn listener_rules(t: &Value, rendered: &RenderedStack) -> Vec<Rule> {
    let known = Known {
        parameters: &rendered.parameters,
        stack_name: &rendered.stack_name,
    };
    let Some(resources) = t.get("Resources").and_then(Value::as_object) else {
        return Vec::new();
    };
    resources
        .iter()
        .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(LISTENER_RULE))
        .filter_map(|(id, r)| {
            let props = r.get("Properties")?;
            let priority = props.get("Priority")?.as_i64()?;
            let listener = template::evaluate(props.get("ListenerArn")?, &known);
            let import = listener
                .get("Fn::ImportValue")
                .and_then(Value::as_str)
                .map(str::to_string);
            Some(Rule {
                logical_id: id.clone(),
                import,
                priority,
            })
        })
        .collect()
}

/// The priorities the rules of a listener hold (its default rule has none).
async fn priorities_on(aws: &Aws, listener: &str) -> Result<BTreeSet<i64>> {
    let mut out = BTreeSet::new();
    let mut marker: Option<String> = None;
    loop {
        let page = aws
            .elb
            .describe_rules()
            .listener_arn(listener)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| {
                Error::failure(format!(
                    "cannot read the rules of listener {listener}, to choose priorities no other rule holds: {}",
                    describe_error(&e)
                ))
            })?;
        out.extend(
            page.rules()
                .iter()
                .filter_map(|r| r.priority()?.parse::<i64>().ok()),
        );
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            return Ok(out);
        }
    }
}

/// The rules that must move, with their new priorities: each rule whose priority another rule
/// holds on its listener goes to the nearest number free on that listener and not taken by
/// the stack's own rules, upwards first.
pub(crate) fn choose(
    rules: &[Rule],
    in_use: &BTreeMap<String, BTreeSet<i64>>,
) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    let mut by_priority: Vec<&Rule> = rules.iter().collect();
    by_priority.sort_by_key(|r| (r.priority, r.logical_id.clone()));
    for rule in by_priority {
        let Some(import) = &rule.import else { continue };
        let Some(used) = in_use.get(import) else {
            continue;
        };
        if !used.contains(&rule.priority) {
            continue;
        }
        // Taken: by other rules on the listener, by this stack's own rules on it, and by the
        // numbers already chosen.
        let own: BTreeSet<i64> = rules
            .iter()
            .filter(|r| r.import.as_deref() == Some(import) && r.logical_id != rule.logical_id)
            .map(|r| out.get(&r.logical_id).copied().unwrap_or(r.priority))
            .collect();
        let free = |p: &i64| !used.contains(p) && !own.contains(p);
        let up = (rule.priority + 1..=MAX_PRIORITY).find(free);
        let down = || (1..rule.priority).rev().find(free);
        if let Some(p) = up.or_else(down) {
            out.insert(rule.logical_id.clone(), p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, import: Option<&str>, priority: i64) -> Rule {
        Rule {
            logical_id: id.into(),
            import: import.map(str::to_string),
            priority,
        }
    }

    #[test]
    fn clashing_rules_move_to_the_nearest_free_number() {
        let http = "demo-test-HTTPListenerArn";
        let in_use = BTreeMap::from([(http.to_string(), BTreeSet::from([49612, 49613, 50000]))]);
        let rules = [
            rule("HTTPListenerRule", Some(http), 49612),
            // The stack's own next rule holds 49614: the moved rule skips it.
            rule("HTTPListenerRuleForPath", Some(http), 49614),
            rule("TestListenerRule", None, 49612),
        ];
        assert_eq!(
            choose(&rules, &in_use),
            BTreeMap::from([("HTTPListenerRule".to_string(), 49615)])
        );
        // At the top, downwards.
        let rules = [rule("HTTPListenerRule", Some(http), 50000)];
        assert_eq!(
            choose(&rules, &in_use),
            BTreeMap::from([("HTTPListenerRule".to_string(), 49999)])
        );
        // Nothing in use: nothing moves.
        assert!(choose(&rules, &BTreeMap::new()).is_empty());
    }

    #[test]
    fn recorded_priorities_are_set_on_the_rules_still_rendered() {
        let mut t = json!({"Resources": {
            "HTTPListenerRule": {"Type": LISTENER_RULE, "Properties": {"Priority": 49612}},
            "Service": {"Type": "AWS::ECS::Service", "Properties": {}},
        }});
        let chosen = BTreeMap::from([
            ("HTTPListenerRule".to_string(), 49615),
            ("Service".to_string(), 3),
            ("Gone".to_string(), 7),
        ]);
        apply(&mut t, &chosen);
        record(&mut t, &chosen);
        assert_eq!(
            t.pointer("/Resources/HTTPListenerRule/Properties/Priority"),
            Some(&json!(49615))
        );
        assert_eq!(t.pointer("/Resources/Service/Properties/Priority"), None);
        assert!(t.pointer("/Resources/Gone").is_none());
        assert_eq!(
            t.pointer("/Metadata/tug:priorities/HTTPListenerRule"),
            Some(&json!(49615))
        );
    }
}
