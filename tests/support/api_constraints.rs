//! Constraints that AWS APIs put on names and descriptions, checked on rendered templates.
//!
//! cfn-lint checks what the CloudFormation resource schemas say, and moto accepts almost any
//! string; but the services behind CloudFormation check more than the schemas do (EC2 rejects
//! a rule description with an apostrophe, which the schema types as a plain string). Each rule
//! below names its source of truth: an API reference page (the request parameter's
//! "Constraints"), a service quota, or the CloudFormation resource schema that cfn-lint ships
//! (.venv/lib/python3.11/site-packages/cfnlint/data/schemas). Only literal strings are
//! checked; values built with intrinsic functions are resolved by CloudFormation.

use std::collections::BTreeMap;

use serde_yaml::Value;

/// The characters EC2 allows in security group descriptions and in security group rule
/// descriptions: `a-zA-Z0-9`, space and `._-:/()#,@[]+=&;{}!$*`. Sources: EC2 API reference,
/// CreateSecurityGroup `GroupDescription` and IpRange / UserIdGroupPair / PrefixListId
/// `Description`; the AWS::EC2::SecurityGroup schema's `GroupDescription` pattern.
pub fn ec2_description_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c)
}

fn alnum_hyphen(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

fn alnum_hyphen_underscore(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// One check of one literal string.
#[derive(Clone, Copy)]
enum Check {
    /// Every character passes the test and the length is within `min..=max` (characters).
    Text {
        chars: fn(char) -> bool,
        min: usize,
        max: usize,
    },
    /// Only the length.
    Length { min: usize, max: usize },
    /// An ELB name: letters, digits and hyphens, 1-32, no hyphen at either end.
    ElbName,
    /// An SNS topic or SQS queue name: letters, digits, `-` and `_`, with `.fifo` at the end
    /// of FIFO ones, at most `max` characters in all.
    MessagingName { max: usize },
    /// A DNS name of labels of 1-63 letters, digits, `-` and `_`, at most 127 characters.
    DnsName,
}

impl Check {
    fn problem(self, s: &str) -> Option<String> {
        let len = s.chars().count();
        match self {
            Check::Text { chars, min, max } => {
                if let Some(c) = s.chars().find(|c| !chars(*c)) {
                    return Some(format!("the character {c:?} is not allowed"));
                }
                (len < min || len > max).then(|| format!("{len} characters, not {min}-{max}"))
            }
            Check::Length { min, max } => {
                (len < min || len > max).then(|| format!("{len} characters, not {min}-{max}"))
            }
            Check::ElbName => {
                if let Some(c) = s.chars().find(|c| !alnum_hyphen(*c)) {
                    return Some(format!("the character {c:?} is not allowed"));
                }
                if len == 0 || len > 32 {
                    return Some(format!("{len} characters, not 1-32"));
                }
                (s.starts_with('-') || s.ends_with('-'))
                    .then(|| "begins or ends with a hyphen".to_string())
            }
            Check::MessagingName { max } => {
                let base = s.strip_suffix(".fifo").unwrap_or(s);
                if let Some(c) = base.chars().find(|c| !alnum_hyphen_underscore(*c)) {
                    return Some(format!("the character {c:?} is not allowed"));
                }
                (len == 0 || len > max).then(|| format!("{len} characters, not 1-{max}"))
            }
            Check::DnsName => {
                if len > 127 {
                    return Some(format!("{len} characters, more than 127"));
                }
                s.split('.')
                    .find(|l| {
                        l.is_empty()
                            || l.len() > 63
                            || l.starts_with('-')
                            || l.ends_with('-')
                            || !l.chars().all(alnum_hyphen_underscore)
                    })
                    .map(|l| format!("the label `{l}` is not a DNS label"))
            }
        }
    }
}

/// (resource type, property path, check, source of truth). A path is a list of keys; `[]`
/// steps into every item of a list.
const RULES: &[(&str, &str, Check, &str)] = &[
    (
        "AWS::EC2::SecurityGroup",
        "GroupDescription",
        Check::Text {
            chars: ec2_description_char,
            min: 0,
            max: 255,
        },
        "EC2 API CreateSecurityGroup GroupDescription; AWS::EC2::SecurityGroup schema pattern",
    ),
    (
        "AWS::EC2::SecurityGroup",
        "SecurityGroupIngress/[]/Description",
        Check::Text {
            chars: ec2_description_char,
            min: 0,
            max: 255,
        },
        "EC2 API IpRange/UserIdGroupPair Description",
    ),
    (
        "AWS::EC2::SecurityGroup",
        "SecurityGroupEgress/[]/Description",
        Check::Text {
            chars: ec2_description_char,
            min: 0,
            max: 255,
        },
        "EC2 API IpRange/UserIdGroupPair Description",
    ),
    (
        "AWS::EC2::SecurityGroupIngress",
        "Description",
        Check::Text {
            chars: ec2_description_char,
            min: 0,
            max: 255,
        },
        "EC2 API AuthorizeSecurityGroupIngress, IpRange/UserIdGroupPair Description",
    ),
    (
        "AWS::EC2::SecurityGroupEgress",
        "Description",
        Check::Text {
            chars: ec2_description_char,
            min: 0,
            max: 255,
        },
        "EC2 API AuthorizeSecurityGroupEgress, IpRange/UserIdGroupPair Description",
    ),
    (
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        "Name",
        Check::ElbName,
        "ELB API CreateTargetGroup Name",
    ),
    (
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "Name",
        Check::ElbName,
        "ELB API CreateLoadBalancer Name",
    ),
    (
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        "Conditions/[]/HostHeaderConfig/Values/[]",
        Check::Text {
            chars: |c| c.is_ascii_alphanumeric() || "-.*?".contains(c),
            min: 1,
            max: 128,
        },
        "ELB API HostHeaderConditionConfig Values",
    ),
    (
        "AWS::ElasticLoadBalancingV2::ListenerRule",
        "Conditions/[]/PathPatternConfig/Values/[]",
        Check::Text {
            chars: |c| c.is_ascii_alphanumeric() || "_-.$/~\"'@:+&*?".contains(c),
            min: 1,
            max: 128,
        },
        "ELB API PathPatternConditionConfig Values",
    ),
    (
        "AWS::ECS::Service",
        "ServiceName",
        Check::Text {
            chars: alnum_hyphen_underscore,
            min: 1,
            max: 255,
        },
        "ECS API CreateService serviceName",
    ),
    (
        "AWS::ECS::TaskDefinition",
        "Family",
        Check::Text {
            chars: alnum_hyphen_underscore,
            min: 1,
            max: 255,
        },
        "ECS API RegisterTaskDefinition family",
    ),
    (
        "AWS::ECS::TaskDefinition",
        "ContainerDefinitions/[]/Name",
        Check::Text {
            chars: alnum_hyphen_underscore,
            min: 1,
            max: 255,
        },
        "ECS API ContainerDefinition name",
    ),
    (
        "AWS::ECS::TaskDefinition",
        "ContainerDefinitions/[]/PortMappings/[]/Name",
        Check::Text {
            chars: |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-',
            min: 1,
            max: 64,
        },
        "ECS API PortMapping name",
    ),
    (
        "AWS::SNS::Topic",
        "TopicName",
        Check::MessagingName { max: 256 },
        "SNS API CreateTopic Name",
    ),
    (
        "AWS::SQS::Queue",
        "QueueName",
        Check::MessagingName { max: 80 },
        "SQS API CreateQueue QueueName",
    ),
    (
        "AWS::Logs::LogGroup",
        "LogGroupName",
        Check::Text {
            chars: |c| c.is_ascii_alphanumeric() || ".-_/#".contains(c),
            min: 1,
            max: 512,
        },
        "AWS::Logs::LogGroup schema LogGroupName pattern",
    ),
    (
        "AWS::CloudWatch::Alarm",
        "AlarmName",
        Check::Length { min: 1, max: 255 },
        "CloudWatch API PutMetricAlarm AlarmName",
    ),
    (
        "AWS::CloudWatch::Alarm",
        "AlarmDescription",
        Check::Length { min: 0, max: 1024 },
        "CloudWatch API PutMetricAlarm AlarmDescription",
    ),
    (
        "AWS::IAM::Role",
        "RoleName",
        Check::Text {
            chars: |c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c),
            min: 1,
            max: 64,
        },
        "IAM API CreateRole RoleName",
    ),
    (
        "AWS::IAM::Role",
        "Description",
        Check::Text {
            chars: |c| matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{a1}'..='\u{ff}'),
            min: 0,
            max: 1000,
        },
        "IAM API CreateRole Description; AWS::IAM::Role schema pattern",
    ),
    (
        "AWS::ServiceDiscovery::Service",
        "Name",
        Check::DnsName,
        "Cloud Map API CreateService Name; AWS::ServiceDiscovery::Service schema pattern",
    ),
    (
        "AWS::ServiceDiscovery::Service",
        "Description",
        Check::Length { min: 0, max: 1024 },
        "Cloud Map API CreateService Description",
    ),
    (
        "AWS::Events::Rule",
        "Name",
        Check::Text {
            chars: |c| c.is_ascii_alphanumeric() || ".-_".contains(c),
            min: 1,
            max: 64,
        },
        "EventBridge API PutRule Name",
    ),
    (
        "AWS::StepFunctions::StateMachine",
        "StateMachineName",
        Check::Length { min: 1, max: 80 },
        "Step Functions API CreateStateMachine name",
    ),
    (
        "AWS::Route53::RecordSet",
        "Name",
        Check::Length { min: 1, max: 255 },
        "Route 53 API ResourceRecordSet Name",
    ),
];

/// The literal strings at `path` under `v`.
fn strings_at<'a>(v: &'a Value, path: &[&str], out: &mut Vec<&'a str>) {
    let Some((first, rest)) = path.split_first() else {
        if let Some(s) = v.as_str() {
            out.push(s);
        }
        return;
    };
    if *first == "[]" {
        for item in v.as_sequence().into_iter().flatten() {
            strings_at(item, rest, out);
        }
    } else if let Some(child) = v.get(*first) {
        strings_at(child, rest, out);
    }
}

/// The logical ids of the `Resources` section, as written (a YAML parser keeps one of two
/// equal keys, or refuses them; CloudFormation refuses the template).
fn resource_ids(template: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut inside = false;
    for line in template.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            inside = line.trim_end() == "Resources:";
            continue;
        }
        if inside
            && let Some(key) = line.strip_prefix("  ")
            && !key.starts_with(' ')
            && let Some(id) = key.trim_end().strip_suffix(':')
        {
            ids.push(id.to_string());
        }
    }
    ids
}

/// Every violation of the rules above in one template, as readable lines.
pub fn violations(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = BTreeMap::new();
    for id in resource_ids(template) {
        *seen.entry(id).or_insert(0) += 1;
    }
    for (id, n) in &seen {
        if *n > 1 {
            out.push(format!(
                "logical id {id} is used by {n} resources (CloudFormation template format)"
            ));
        }
    }
    let doc: Value = match serde_yaml::from_str(template) {
        Ok(d) => d,
        Err(e) => {
            out.push(format!("not valid YAML: {e}"));
            return out;
        }
    };
    let Some(resources) = doc.get("Resources").and_then(|r| r.as_mapping()) else {
        return out;
    };
    // Physical names must be unique per type in a Region; two in one template always clash.
    let mut names: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut port_names = Vec::new();
    let mut connect_ports = Vec::new();
    for (id, r) in resources {
        let id = id.as_str().unwrap_or("?");
        let kind = r.get("Type").and_then(|t| t.as_str()).unwrap_or("");
        let Some(props) = r.get("Properties") else {
            continue;
        };
        for (rule_kind, path, check, source) in RULES {
            if *rule_kind != kind {
                continue;
            }
            let segments: Vec<&str> = path.split('/').collect();
            let mut found = Vec::new();
            strings_at(props, &segments, &mut found);
            for s in found {
                if let Some(problem) = check.problem(s) {
                    out.push(format!(
                        "{id} ({kind}) {path} = {s:?}: {problem} [{source}]"
                    ));
                }
            }
        }
        for (name_key, fifo_key) in [("TopicName", "FifoTopic"), ("QueueName", "FifoQueue")] {
            if let Some(name) = props.get(name_key).and_then(|n| n.as_str()) {
                let fifo = props.get(fifo_key).and_then(|f| f.as_bool()) == Some(true);
                if fifo != name.ends_with(".fifo") {
                    out.push(format!(
                        "{id} ({kind}) {name_key} = {name:?}: FIFO ones and only they end in `.fifo` [SNS CreateTopic / SQS CreateQueue]"
                    ));
                }
            }
        }
        for key in [
            "TopicName",
            "QueueName",
            "Name",
            "LogGroupName",
            "AlarmName",
        ] {
            if let Some(name) = props.get(key).and_then(|n| n.as_str())
                && kind != "AWS::Route53::RecordSet"
                && let Some(other) =
                    names.insert((kind.to_string(), name.to_string()), id.to_string())
            {
                out.push(format!(
                    "{id} and {other} ({kind}) have the same {key} {name:?} [names are unique per account and Region]"
                ));
            }
        }
        if kind == "AWS::ElasticLoadBalancingV2::ListenerRule" {
            out.extend(rule_limits(id, props));
        }
        if kind == "AWS::ECS::TaskDefinition" {
            let mut found = Vec::new();
            strings_at(
                props,
                &["ContainerDefinitions", "[]", "PortMappings", "[]", "Name"],
                &mut found,
            );
            port_names.extend(found.into_iter().map(str::to_string));
        }
        if kind == "AWS::ECS::Service" {
            let mut found = Vec::new();
            strings_at(
                props,
                &["ServiceConnectConfiguration", "Services", "[]", "PortName"],
                &mut found,
            );
            connect_ports.extend(found.into_iter().map(|p| (id.to_string(), p.to_string())));
        }
        if let Some(tags) = props.get("Tags").and_then(|t| t.as_sequence()) {
            for tag in tags {
                let key = tag.get("Key").and_then(|k| k.as_str()).unwrap_or("");
                let value = tag.get("Value").and_then(|k| k.as_str()).unwrap_or("");
                if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
                    out.push(format!(
                        "{id} ({kind}) tag {key:?}: keys are 1-128 and values 0-256 characters [Resource Groups Tagging API Tag]"
                    ));
                }
            }
        }
    }
    for (id, port) in connect_ports {
        if !port_names.contains(&port) {
            out.push(format!(
                "{id} Service Connect PortName {port:?} names no port mapping of the task definition [ECS API ServiceConnectService portName]"
            ));
        }
    }
    out
}

/// ELB listener rules: a priority of 1-50000, at most 5 condition values and at most 5
/// wildcards per rule. Sources: ELB API CreateRule Priority; Elastic Load Balancing quotas,
/// "Condition values per rule" and "Condition wildcards per rule".
fn rule_limits(id: &str, props: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = props.get("Priority").and_then(|p| p.as_u64())
        && !(1..=50000).contains(&p)
    {
        out.push(format!(
            "{id} Priority {p} is not 1-50000 [ELB API CreateRule]"
        ));
    }
    let mut values = Vec::new();
    for condition in props
        .get("Conditions")
        .and_then(|c| c.as_sequence())
        .into_iter()
        .flatten()
    {
        for path in [
            &["Values", "[]"][..],
            &["HostHeaderConfig", "Values", "[]"],
            &["PathPatternConfig", "Values", "[]"],
            &["HttpHeaderConfig", "Values", "[]"],
            &["HttpRequestMethodConfig", "Values", "[]"],
            &["SourceIpConfig", "Values", "[]"],
        ] {
            strings_at(condition, path, &mut values);
        }
        if let Some(pairs) = condition
            .get("QueryStringConfig")
            .and_then(|q| q.get("Values"))
            .and_then(|v| v.as_sequence())
        {
            for pair in pairs {
                strings_at(pair, &["Value"], &mut values);
            }
        }
    }
    if values.len() > 5 {
        out.push(format!(
            "{id} has {} condition values, more than 5 [ELB quotas: condition values per rule]",
            values.len()
        ));
    }
    let wildcards: usize = values.iter().map(|v| v.matches(['*', '?']).count()).sum();
    if wildcards > 5 {
        out.push(format!(
            "{id} has {wildcards} wildcards, more than 5 [ELB quotas: condition wildcards per rule]"
        ));
    }
    out
}

/// Panics with every violation of `template`, named `name`.
pub fn assert_api_constraints(name: &str, template: &str) {
    let found = violations(template);
    assert!(
        found.is_empty(),
        "{name} breaks AWS API constraints that moto and cfn-lint do not check:\n  {}",
        found.join("\n  ")
    );
}
