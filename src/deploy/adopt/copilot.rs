//! Facts about what AWS Copilot deploys, as adoption needs them (read from Copilot's public
//! templates and stack code): where it records applications in Parameter Store, the names of
//! its stacks, its custom resources, and the logical ids tug renders under another name.

use serde_json::Value;

/// Copilot's Parameter Store root for an application.
pub fn application_parameter(app: &str) -> String {
    format!("/copilot/applications/{app}")
}

/// The domain of `copilot app init --domain`, as Copilot's application record (the JSON value
/// of [`application_parameter`]) holds it: the domain name and the id of its public hosted
/// zone (`domain`, `domainHostedZoneID`). `None` for an application without a domain.
pub fn application_domain(record: &str) -> Option<(String, String)> {
    let v: Value = serde_json::from_str(record).ok()?;
    let name = v.get("domain")?.as_str()?.trim().trim_end_matches('.');
    if name.is_empty() {
        return None;
    }
    let zone = v
        .get("domainHostedZoneID")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim_start_matches("/hostedzone/");
    Some((name.to_ascii_lowercase(), zone.to_string()))
}

/// Copilot's stack of IAM roles for an application (left alone by adoption).
pub fn roles_stack(app: &str) -> String {
    format!("{app}-infrastructure-roles")
}

/// Copilot's StackSet for an application's ECR repositories and artifacts bucket (left
/// alone: tug uses the repositories as they are).
pub fn stack_set(app: &str) -> String {
    format!("{app}-infrastructure")
}

/// The logical ids of Copilot's Lambda-backed custom resources. Their types are
/// `Custom::...`; the ids also recognise a custom resource whose type was changed.
const CUSTOM_RESOURCE_IDS: &[&str] = &[
    "EnvControllerAction",
    "DynamicDesiredCountAction",
    "HTTPRulePriorityAction",
    "HTTPSRulePriorityAction",
    "HTTPRuleWithDomainPriorityAction",
    "HTTPRedirectRulePriorityAction",
    "CustomDomainAction",
    "DelegateDNSAction",
    "HTTPSCert",
    "NLBCustomDomainAction",
    "NLBCertValidatorAction",
    "CertificateValidatorAction",
    "DNSDelegationAction",
    "ELBAccessLogsBucketCleanerAction",
    "TriggerStateMachineAction",
];

/// Copilot's custom resources that made, outside the stack, what tug renders in it: (custom
/// resource, tug's logical id). `DelegateDNSAction` upserted the NS record of
/// `<env>.<app>.<domain>` in the application's zone; tug's `EnvironmentHostedZoneDelegation` is
/// the same record, which CloudFormation could not create over it. Adoption leaves tug's
/// resource out and the record as it is.
pub const MADE_BY_CUSTOM_RESOURCES: &[(&str, &str)] =
    &[("DelegateDNSAction", "EnvironmentHostedZoneDelegation")];

/// Whether a resource of a deployed Copilot template is one of its custom resources.
pub fn is_custom_resource(logical_id: &str, resource: &Value) -> bool {
    let t = resource.get("Type").and_then(Value::as_str).unwrap_or("");
    t.starts_with("Custom::")
        || t == "AWS::CloudFormation::CustomResource"
        || CUSTOM_RESOURCE_IDS.contains(&logical_id)
}

/// Resources tug does not render that stay in an adopted stack although they hold no data:
/// the role CloudFormation assumes for every Copilot stack of the environment (a stack's
/// role cannot be removed from it, and without the role the stack can no longer be updated
/// or deleted), and the role Copilot's command line assumes.
pub const KEEP_IDS: &[&str] = &["CloudformationExecutionRole", "EnvironmentManagerRole"];

/// Types kept when tug does not render them, though the guard does not count them as stateful:
/// a KMS key (Copilot's `EventsKMSKey`) is needed to read what was encrypted with it, messages
/// waiting in a queue included, and deleting one cannot be undone after its waiting period.
pub const KEEP_TYPES: &[&str] = &["AWS::KMS::Key"];

/// Copilot's logical id for a resource tug renders under `tug_id`, where they differ (to be
/// matched without regard to case).
pub fn copilot_id(tug_id: &str) -> Option<String> {
    match tug_id {
        "PublicLoadBalancerSecurityGroup" => {
            return Some("PublicHTTPLoadBalancerSecurityGroup".into());
        }
        "EnvironmentSecurityGroupIngressFromPublicALB" => {
            return Some("EnvironmentHTTPSecurityGroupIngressFromPublicALB".into());
        }
        _ => {}
    }
    // The HTTP rule of a service with aliases on an environment with an HTTPS listener (the
    // redirect to HTTPS): Copilot's `HTTPListenerRuleWithDomain<n>`, tug's `HTTPListenerRule<n>`.
    // Under another id, tug's rule would be created, with the same priority on the same
    // listener, before Copilot's is removed: ELB refuses a priority in use.
    if let Some(suffix) = tug_id.strip_prefix("HTTPListenerRule")
        && suffix.chars().all(|c| c.is_ascii_digit())
    {
        return Some(format!("HTTPListenerRuleWithDomain{suffix}"));
    }
    // Topics of `publish.topics`: tug's `OrdersTopic` is Copilot's `ordersSNSTopic`.
    if let Some(base) = tug_id.strip_suffix("TopicPolicy") {
        return Some(format!("{base}SNSTopicPolicy"));
    }
    if let Some(base) = tug_id.strip_suffix("Topic") {
        return Some(format!("{base}SNSTopic"));
    }
    None
}

/// The tags Copilot puts on its stacks.
pub const TAGS: [&str; 3] = [
    "copilot-application",
    "copilot-environment",
    "copilot-service",
];

/// The stack tag that records an adoption, and its value.
pub const ADOPTED_TAG: &str = "tug:adopted-from";
pub const ADOPTED_FROM: &str = "copilot";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_is_read_from_the_application_record() {
        let record = r#"{"name":"demo","account":"1","domain":"Example.com","domainHostedZoneID":"Z123","version":"v1.0.2"}"#;
        assert_eq!(
            application_domain(record),
            Some(("example.com".into(), "Z123".into()))
        );
        assert_eq!(
            application_domain(r#"{"name":"demo","domain":"","domainHostedZoneID":""}"#),
            None
        );
        assert_eq!(application_domain(r#"{"name":"demo"}"#), None);
    }

    #[test]
    fn the_http_rule_of_a_service_with_aliases_has_copilots_id() {
        assert_eq!(
            copilot_id("HTTPListenerRule").as_deref(),
            Some("HTTPListenerRuleWithDomain")
        );
        assert_eq!(
            copilot_id("HTTPListenerRule1").as_deref(),
            Some("HTTPListenerRuleWithDomain1")
        );
        assert_eq!(copilot_id("HTTPSListenerRule"), None);
    }

    #[test]
    fn the_dns_custom_resources_are_recognised_by_their_ids() {
        let stand_in = serde_json::json!({"Type": "AWS::CloudFormation::WaitConditionHandle"});
        for id in ["DelegateDNSAction", "HTTPSCert", "CustomDomainAction"] {
            assert!(is_custom_resource(id, &stand_in), "{id}");
        }
        assert!(!is_custom_resource("EnvironmentHostedZone", &stand_in));
    }
}
