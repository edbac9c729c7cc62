//! Alias records of a Load Balanced Web Service that AWS Copilot wrote outside CloudFormation.
//!
//! For `http.alias` names in the application's domain (no `hosted_zone` in the manifest),
//! Copilot's workload stack holds no record: the environment's `CustomDomainAction` Lambda
//! upserted an `A` alias record to the public load balancer in the environment's, the
//! application's or the domain's zone (cf-custom-resources/lib/custom-domain.js). tug renders
//! the same name as `AliasRecord<Name>` (`AWS::Route53::RecordSet`), which CloudFormation
//! creates with a Route 53 `CREATE` change, and Route 53 refuses a `CREATE` for a name and type
//! that exist (`InvalidChangeBatch`: "Tried to create resource record set ... but it already
//! exists"), so the adoption would fail.
//!
//! Adoption leaves such records out of the stack: they stay as they are, pointing at the same
//! load balancer, which adoption keeps (so nothing stops answering). The ids are recorded as
//! `left_out` in `tug:adoption`, so later deploys keep them out too.
//!
//! A name Copilot's stack itself holds (`LoadBalancerDNSAlias<zone>`, a record set group, for
//! aliases with a `hosted_zone`) is not one of these and is not left out here.

use serde_json::{Map, Value};

/// tug's prefix of the logical ids of `http.alias` records (see `render::workload::http`).
const ALIAS_RECORD_PREFIX: &str = "AliasRecord";
const RECORD_SET: &str = "AWS::Route53::RecordSet";
const RECORD_SET_GROUP: &str = "AWS::Route53::RecordSetGroup";

/// The custom resource of Copilot's environment stack that wrote the records.
pub(crate) const CUSTOM_DOMAIN_ACTION: &str = "CustomDomainAction";

/// The logical ids of tug's alias records (`rendered`) that Copilot's `CustomDomainAction`
/// made outside the deployed stack (`deployed`): new in tug's template, and for a name no
/// record of the deployed stack holds.
pub(crate) fn made_by_custom_domain_action(
    deployed: &Map<String, Value>,
    rendered: &Map<String, Value>,
) -> Vec<String> {
    let held = names_held(deployed);
    rendered
        .iter()
        .filter(|(id, r)| {
            id.starts_with(ALIAS_RECORD_PREFIX)
                && !deployed.contains_key(*id)
                && r.get("Type").and_then(Value::as_str) == Some(RECORD_SET)
        })
        .filter(|(_, r)| {
            r.pointer("/Properties/Name")
                .and_then(Value::as_str)
                .is_some_and(|n| !held.contains(&normalise(n)))
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// The literal record names the deployed stack's record sets and record set groups hold.
fn names_held(deployed: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for r in deployed.values() {
        match r.get("Type").and_then(Value::as_str) {
            Some(RECORD_SET) => out.extend(r.pointer("/Properties/Name").and_then(Value::as_str)),
            Some(RECORD_SET_GROUP) => out.extend(
                r.pointer("/Properties/RecordSets")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.get("Name").and_then(Value::as_str)),
            ),
            _ => {}
        }
    }
    out.into_iter().map(normalise).collect()
}

/// A DNS name as Route 53 compares it: without the final dot, in lower case.
fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn record(name: &str) -> Value {
        json!({"Type": RECORD_SET, "Properties": {"Name": name, "Type": "A"}})
    }

    #[test]
    fn new_alias_records_are_the_lambdas() {
        let deployed = map(json!({"Service": {"Type": "AWS::ECS::Service"}}));
        let rendered = map(json!({
            "AliasRecordShopExampleCom": record("shop.example.com"),
            "Service": {"Type": "AWS::ECS::Service"},
        }));
        assert_eq!(
            made_by_custom_domain_action(&deployed, &rendered),
            vec!["AliasRecordShopExampleCom".to_string()]
        );
    }

    #[test]
    fn names_the_stack_holds_are_not() {
        // Copilot's record set group for an alias with a `hosted_zone`.
        let deployed = map(json!({"LoadBalancerDNSAliasZ1": {
            "Type": RECORD_SET_GROUP,
            "Properties": {"RecordSets": [{"Name": "Shop.Example.com.", "Type": "A"}]},
        }}));
        let rendered = map(json!({"AliasRecordShopExampleCom": record("shop.example.com")}));
        assert!(made_by_custom_domain_action(&deployed, &rendered).is_empty());
        // A record the stack has under the same id is the stack's.
        let deployed = map(json!({"AliasRecordShopExampleCom": record("shop.example.com")}));
        assert!(made_by_custom_domain_action(&deployed, &rendered).is_empty());
    }
}
