//! Which changes of a change set destroy something: the removal, or the replacement, of a
//! resource that holds data or that other things point at (a VPC, a load balancer, a queue, a
//! log group, the addons nested stack...). Those need explicit consent before a change set
//! runs.
//!
//! What replaces comes from CloudFormation's own answer (`Replacement` and the details of each
//! resource change) where it gives one. Where it does not (`Conditional`, or an emulator that
//! leaves it out), tug decides from the resource schemas: a change to a create-only property
//! replaces the resource, and so does a create-only property that points at a resource being
//! replaced (a subnet of a replaced VPC). The create-only table is generated from the published
//! schemas (scripts/gen_create_only.py writes `create_only.tsv`).

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::Value;

use crate::deploy::changeset::ResourceChange;

/// The generated table: resource type → create-only property paths.
const TABLE: &str = include_str!("create_only.tsv");

/// Resource types whose replacement or removal loses data or breaks what points at them.
pub const STATEFUL: &[&str] = &[
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::RouteTable",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::NatGateway",
    "AWS::EC2::SecurityGroup",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::ECS::Cluster",
    "AWS::ECS::Service",
    "AWS::ECS::CapacityProvider",
    "AWS::AutoScaling::AutoScalingGroup",
    "AWS::ServiceDiscovery::PrivateDnsNamespace",
    "AWS::ServiceDiscovery::Service",
    "AWS::EFS::FileSystem",
    "AWS::EFS::MountTarget",
    "AWS::Logs::LogGroup",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::ECR::Repository",
    "AWS::S3::Bucket",
    "AWS::Route53::RecordSet",
    "AWS::Route53::HostedZone",
    "AWS::CloudFormation::Stack",
];

pub fn is_stateful(resource_type: &str) -> bool {
    STATEFUL.contains(&resource_type)
}

fn table() -> &'static HashMap<&'static str, Vec<&'static str>> {
    static PARSED: OnceLock<HashMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    PARSED.get_or_init(|| {
        TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let (t, props) = l.split_once('\t').unwrap_or((l, ""));
                (t, props.split_whitespace().collect())
            })
            .collect()
    })
}

/// The create-only property paths of a resource type (`None`: a type the table lacks).
pub fn create_only(resource_type: &str) -> Option<&'static [&'static str]> {
    table().get(resource_type).map(Vec::as_slice)
}

/// How a change destroys something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Harm {
    /// The resource is deleted.
    Remove,
    /// A new resource is created and the old one deleted.
    Replace,
    /// CloudFormation decides while updating (`Conditional`).
    MayReplace,
}

impl Harm {
    pub fn verb(self) -> &'static str {
        match self {
            Harm::Remove => "remove",
            Harm::Replace => "replace",
            Harm::MayReplace => "may replace",
        }
    }
}

/// A destructive change: what, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hazard {
    pub logical_id: String,
    pub resource_type: String,
    pub harm: Harm,
    /// Which property forces the replacement, or why the resource goes.
    pub why: String,
}

impl Hazard {
    /// One line for a listing: `replace  VPC (AWS::EC2::VPC): ...`.
    pub fn line(&self) -> String {
        format!(
            "{:<11} {} ({}): {}",
            self.harm.verb(),
            self.logical_id,
            self.resource_type,
            self.why
        )
    }
}

/// A listing of hazards under one heading: `{lead} N resource(s) that hold(s) {what}:` (the
/// count and the verbs agreeing with it), then one [`Hazard::line`] per hazard. Deploys and
/// `tug adopt` list what they refuse or ask consent for through it.
pub fn listing(lead: &str, what: &str, tail: &str, hazards: &[Hazard]) -> String {
    let one = hazards.len() == 1;
    let mut text = format!(
        "{lead} {} resource{} that hold{} {what}{tail}",
        hazards.len(),
        if one { "" } else { "s" },
        if one { "s" } else { "" },
    );
    for h in hazards {
        text.push_str("\n  ");
        text.push_str(&h.line());
    }
    text
}

/// The deployed and the new side of a stack update.
pub struct Sides<'a> {
    pub before: &'a Value,
    pub after: &'a Value,
    pub old_parameters: &'a BTreeMap<String, String>,
    pub new_parameters: &'a BTreeMap<String, String>,
}

/// The destructive changes among `changes`, most severe first (removals, replacements, then
/// possible replacements), each in template order.
pub fn assess(changes: &[ResourceChange], sides: &Sides) -> Vec<Hazard> {
    let replaced = replaced_by_schema(sides);
    let mut out = Vec::new();
    for c in changes {
        if !is_stateful(&c.resource_type) {
            continue;
        }
        let ours = replaced.get(&c.logical_id);
        let hazard = match c.action.as_str() {
            "Remove" => Some((Harm::Remove, "removed from the template".to_string())),
            "Modify" => match (c.replacement.as_deref(), ours) {
                // CloudFormation knows better than the schema for what it says will not
                // replace (for example a property it updates in place since the schema was
                // published).
                (Some("False"), _) => None,
                (Some("True"), _) => Some((Harm::Replace, cause(&c.details, ours))),
                (Some("Conditional"), Some(props)) => {
                    Some((Harm::Replace, cause(&c.details, Some(props))))
                }
                (Some("Conditional"), None) => Some((Harm::MayReplace, cause(&c.details, None))),
                (_, Some(props)) => Some((Harm::Replace, cause(&[], Some(props)))),
                (None, None) if sides.before.is_null() => Some((
                    Harm::MayReplace,
                    "the deployed template could not be read to tell".to_string(),
                )),
                (_, None) => None,
            },
            _ => None,
        };
        if let Some((harm, why)) = hazard {
            out.push(Hazard {
                logical_id: c.logical_id.clone(),
                resource_type: c.resource_type.clone(),
                harm,
                why,
            });
        }
    }
    // Resources the schema says are replaced though the change set does not list them (an
    // emulator lists only resources whose own template changed).
    for (id, props) in &replaced {
        if changes.iter().any(|c| &c.logical_id == id) {
            continue;
        }
        let Some(t) = resource_type(sides.after, id) else {
            continue;
        };
        if is_stateful(t) {
            out.push(Hazard {
                logical_id: id.clone(),
                resource_type: t.to_string(),
                harm: Harm::Replace,
                why: cause(&[], Some(props)),
            });
        }
    }
    out.sort_by_key(|h| match h.harm {
        Harm::Remove => 0,
        Harm::Replace => 1,
        Harm::MayReplace => 2,
    });
    out
}

/// [`assess`] from the deployed template's text (`None` when it could not be read) and the
/// rendered one, with the deployed and the new parameter values.
pub fn assess_update(
    changes: &[ResourceChange],
    deployed: Option<&str>,
    rendered: &str,
    old_parameters: &[(String, String)],
    new_parameters: &[(String, String)],
) -> Vec<Hazard> {
    let before = deployed.map_or(Value::Null, parse_template);
    let after = parse_template(rendered);
    let old: BTreeMap<String, String> = old_parameters.iter().cloned().collect();
    let new: BTreeMap<String, String> = new_parameters.iter().cloned().collect();
    assess(
        changes,
        &Sides {
            before: &before,
            after: &after,
            old_parameters: &old,
            new_parameters: &new,
        },
    )
}

fn cause(cloudformation: &[String], ours: Option<&Vec<String>>) -> String {
    if !cloudformation.is_empty() {
        return format!("{} cannot change in place", cloudformation.join(", "));
    }
    match ours {
        Some(props) => format!("{} cannot change in place (create-only)", props.join(", ")),
        None => "CloudFormation decides during the update whether it is replaced".into(),
    }
}

fn resource_type<'a>(template: &'a Value, id: &str) -> Option<&'a str> {
    template.get("Resources")?.get(id)?.get("Type")?.as_str()
}

/// Logical id → the create-only properties (or `Type`) that change, by the schema, including
/// properties that point at a resource being replaced.
pub fn replaced_by_schema(sides: &Sides) -> BTreeMap<String, Vec<String>> {
    let empty = serde_json::Map::new();
    let before = sides
        .before
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let after = sides
        .after
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut replaced: BTreeMap<String, Vec<String>> = BTreeMap::new();
    loop {
        let mut grew = false;
        for (id, new) in after {
            if replaced.contains_key(id) {
                continue;
            }
            let Some(old) = before.get(id) else {
                continue;
            };
            let new_type = new.get("Type").and_then(Value::as_str).unwrap_or_default();
            let mut props = Vec::new();
            if old.get("Type").and_then(Value::as_str) != Some(new_type) {
                props.push("Type".to_string());
            } else if let Some(paths) = create_only(new_type) {
                for path in paths {
                    let old_value = at(old.get("Properties"), path);
                    let new_value = at(new.get("Properties"), path);
                    let changed = resolved(old_value, sides.old_parameters)
                        != resolved(new_value, sides.new_parameters)
                        || new_value.is_some_and(|v| points_at_any(v, &replaced));
                    if changed {
                        props.push(path.replace('/', "."));
                    }
                }
            }
            if !props.is_empty() {
                replaced.insert(id.clone(), props);
                grew = true;
            }
        }
        if !grew {
            return replaced;
        }
    }
}

/// The value at a `/`-separated property path.
fn at<'a>(properties: Option<&'a Value>, path: &str) -> Option<&'a Value> {
    path.split('/').try_fold(properties?, |v, key| v.get(key))
}

/// A value with `{"Ref": parameter}` replaced by the parameter's value, for comparing what a
/// property will be rather than how it is written.
fn resolved(value: Option<&Value>, parameters: &BTreeMap<String, String>) -> Option<Value> {
    let v = value?;
    if let Some(name) = v.get("Ref").and_then(Value::as_str)
        && v.as_object().is_some_and(|o| o.len() == 1)
        && let Some(p) = parameters.get(name)
        // A placeholder keeps the deployed value.
        && !p.starts_with('<')
    {
        return Some(Value::String(p.clone()));
    }
    Some(v.clone())
}

/// Whether a value refers (Ref, Fn::GetAtt, `${X}` in Fn::Sub) to one of `ids`.
fn points_at_any(value: &Value, ids: &BTreeMap<String, Vec<String>>) -> bool {
    match value {
        Value::Object(o) => o.iter().any(|(k, v)| {
            let direct = match (k.as_str(), v) {
                ("Ref", Value::String(s)) => ids.contains_key(s),
                ("Fn::GetAtt", Value::Array(a)) => a
                    .first()
                    .and_then(Value::as_str)
                    .is_some_and(|s| ids.contains_key(s)),
                ("Fn::GetAtt", Value::String(s)) => {
                    s.split('.').next().is_some_and(|s| ids.contains_key(s))
                }
                ("Fn::Sub", Value::String(s)) => ids.keys().any(|id| {
                    s.contains(&format!("${{{id}}}")) || s.contains(&format!("${{{id}."))
                }),
                _ => false,
            };
            direct || points_at_any(v, ids)
        }),
        Value::Array(a) => a.iter().any(|v| points_at_any(v, ids)),
        _ => false,
    }
}

/// Parses a template (JSON, or YAML as tug renders it) into a JSON value; `Null` when it
/// cannot be read, which makes every comparison say "changed" only where CloudFormation does.
pub fn parse_template(text: &str) -> Value {
    if let Ok(v) = serde_json::from_str(text) {
        return v;
    }
    match yaml_rust2::YamlLoader::load_from_str(text) {
        Ok(docs) => docs.first().map_or(Value::Null, yaml_to_json),
        Err(_) => Value::Null,
    }
}

fn yaml_to_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(s.clone()), Value::Number),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => Value::Object(
            h.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Yaml::String(s) | Yaml::Real(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Boolean(b) => b.to_string(),
                        _ => String::new(),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(action: &str, id: &str, t: &str, replacement: Option<&str>) -> ResourceChange {
        ResourceChange {
            action: action.into(),
            logical_id: id.into(),
            resource_type: t.into(),
            replacement: replacement.map(str::to_string),
            details: Vec::new(),
        }
    }

    fn vpc_template(cidr: &str, subnet: &str) -> Value {
        json!({"Resources": {
            "VPC": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": cidr, "EnableDnsSupport": true}},
            "PublicSubnet1": {"Type": "AWS::EC2::Subnet", "Properties": {"CidrBlock": subnet, "VpcId": {"Ref": "VPC"}}},
            "PublicRouteTable": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "VPC"}}},
            "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterSettings": []}},
        }})
    }

    #[test]
    fn the_table_covers_every_stateful_type() {
        for t in STATEFUL {
            assert!(
                create_only(t).is_some(),
                "{t} is missing from create_only.tsv"
            );
        }
        assert_eq!(
            create_only("AWS::SQS::Queue"),
            Some(&["FifoQueue", "QueueName"][..])
        );
    }

    /// Moto leaves `Replacement` out: the schema decides, and a replaced VPC takes the
    /// resources that point at it with it, even those whose own text did not change.
    #[test]
    fn a_new_cidr_replaces_the_vpc_and_what_points_at_it() {
        let before = vpc_template("10.0.0.0/16", "10.0.0.0/24");
        let after = vpc_template("10.1.0.0/16", "10.1.0.0/24");
        let params = BTreeMap::new();
        let sides = Sides {
            before: &before,
            after: &after,
            old_parameters: &params,
            new_parameters: &params,
        };
        let changes = [
            change("Modify", "VPC", "AWS::EC2::VPC", None),
            change("Modify", "PublicSubnet1", "AWS::EC2::Subnet", None),
        ];
        let hazards = assess(&changes, &sides);
        let lines: Vec<String> = hazards.iter().map(Hazard::line).collect();
        assert_eq!(
            lines,
            [
                "replace     VPC (AWS::EC2::VPC): CidrBlock cannot change in place (create-only)",
                "replace     PublicSubnet1 (AWS::EC2::Subnet): CidrBlock, VpcId cannot change in place (create-only)",
                "replace     PublicRouteTable (AWS::EC2::RouteTable): VpcId cannot change in place (create-only)",
            ]
        );
    }

    #[test]
    fn cloudformation_answers_win_and_removals_come_first() {
        let t = vpc_template("10.0.0.0/16", "10.0.0.0/24");
        let params = BTreeMap::new();
        let sides = Sides {
            before: &t,
            after: &t,
            old_parameters: &params,
            new_parameters: &params,
        };
        let mut queue = change("Modify", "Queue", "AWS::SQS::Queue", Some("True"));
        queue.details = vec!["FifoQueue".into()];
        let changes = [
            queue,
            change("Modify", "Cluster", "AWS::ECS::Cluster", Some("False")),
            change(
                "Modify",
                "Service",
                "AWS::ECS::Service",
                Some("Conditional"),
            ),
            change(
                "Remove",
                "PublicLoadBalancer",
                "AWS::ElasticLoadBalancingV2::LoadBalancer",
                None,
            ),
            change("Remove", "ExecutionRole", "AWS::IAM::Role", None),
            change(
                "Modify",
                "TaskDefinition",
                "AWS::ECS::TaskDefinition",
                Some("True"),
            ),
        ];
        let hazards = assess(&changes, &sides);
        let got: Vec<(&str, Harm)> = hazards
            .iter()
            .map(|h| (h.logical_id.as_str(), h.harm))
            .collect();
        assert_eq!(
            got,
            [
                ("PublicLoadBalancer", Harm::Remove),
                ("Queue", Harm::Replace),
                ("Service", Harm::MayReplace),
            ]
        );
        assert_eq!(hazards[1].why, "FifoQueue cannot change in place");
    }

    #[test]
    fn parameters_count_by_value_not_by_reference() {
        let t = json!({"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Ref": "LogGroupName"}, "RetentionInDays": 30}}}});
        let old = BTreeMap::from([("LogGroupName".to_string(), "/tug/a".to_string())]);
        let same = old.clone();
        let new = BTreeMap::from([("LogGroupName".to_string(), "/tug/b".to_string())]);
        let changes = [change("Modify", "Logs", "AWS::Logs::LogGroup", None)];
        let unchanged = Sides {
            before: &t,
            after: &t,
            old_parameters: &old,
            new_parameters: &same,
        };
        assert!(assess(&changes, &unchanged).is_empty());
        let renamed = Sides {
            before: &t,
            after: &t,
            old_parameters: &old,
            new_parameters: &new,
        };
        assert_eq!(assess(&changes, &renamed)[0].harm, Harm::Replace);
    }

    #[test]
    fn yaml_templates_parse_like_json() {
        let y = parse_template(
            "Resources:\n  VPC:\n    Type: AWS::EC2::VPC\n    Properties:\n      CidrBlock: 10.0.0.0/16\n      Count: 2\n",
        );
        assert_eq!(
            y,
            json!({"Resources": {"VPC": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16", "Count": 2}}}})
        );
    }
}
