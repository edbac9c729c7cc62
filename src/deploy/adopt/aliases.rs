//! Alias records of a Load Balanced Web Service (or Backend Service) through adoption.
//!
//! **Names Copilot's Lambda wrote.** For `http.alias` names in the application's domain (no
//! `hosted_zone` in the manifest), Copilot's workload stack holds no record: the environment's
//! `CustomDomainAction` Lambda upserted an `A` alias record to the public load balancer in the
//! environment's, the application's or the domain's zone (cf-custom-resources/lib/custom-domain.js).
//! tug renders the same name as `AliasRecord<Name>` (`AWS::Route53::RecordSet`), which
//! CloudFormation creates with a Route 53 `CREATE` change, and Route 53 refuses a `CREATE` for a
//! name and type that exist (`InvalidChangeBatch`: "Tried to create resource record set ... but
//! it already exists"), so the adoption would fail. Adoption leaves such records out of the
//! stack: they stay as they are, pointing at the same load balancer, which adoption keeps (so
//! nothing stops answering). The ids are recorded as `left_out` in `tug:adoption`, so later
//! deploys keep them out too.
//!
//! **Names Copilot's stack holds.** For aliases with a `hosted_zone`, Copilot's stack holds the
//! records itself, one `AWS::Route53::RecordSetGroup` per zone, `LoadBalancerDNSAlias<zone>`
//! (workloads/partials/cf/https-listener.yml, imported-alb-resources.yml). tug's own
//! `AliasRecord<Name>` for the same names would again be a `CREATE` of existing records (and
//! dropping Copilot's group would delete them). Adoption instead keeps the group under
//! Copilot's logical id and zone (`HostedZoneId` is create-only), holding tug's records (the
//! same names and type, tug's alias target: the same load balancer through the environment's
//! export). CloudFormation updates a group's `RecordSets` in place ("Update requires: No
//! interruption"), in one Route 53 change batch, which Route 53 applies as one transaction, so
//! the names answer throughout. Which of tug's records each group holds is recorded as
//! `groups` in `tug:adoption`, so later deploys fold them again. A name the group holds that
//! tug does not render stops the adoption (the update would delete its record).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::deploy::replacement::{Harm, Hazard};

/// tug's prefix of the logical ids of `http.alias` records (see `render::workload::http`).
const ALIAS_RECORD_PREFIX: &str = "AliasRecord";
const RECORD_SET: &str = "AWS::Route53::RecordSet";
pub(crate) const RECORD_SET_GROUP: &str = "AWS::Route53::RecordSetGroup";

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

/// One of Copilot's record set groups kept through adoption: tug's alias records it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Group {
    /// tug's logical ids of the records, in the group's order.
    pub records: Vec<String>,
}

/// What [`keep_groups`] did: the groups kept, and the names a group holds that tug does not
/// render (the adoption would delete their records).
#[derive(Debug, Default)]
pub(crate) struct Kept {
    pub groups: BTreeMap<String, Group>,
    pub hazards: Vec<Hazard>,
}

/// Keeps the deployed record set groups (`deployed`: the deployed stack's existing resources,
/// parameters written in) that hold names tug renders as alias records in `out`: each group,
/// under its logical id and zone, holds tug's records in place of its own.
pub(crate) fn keep_groups(deployed: &BTreeMap<String, Value>, out: &mut Value) -> Kept {
    let mut kept = Kept::default();
    for (id, group) in deployed {
        if type_of(group) != RECORD_SET_GROUP || resources(out).is_some_and(|r| r.contains_key(id))
        {
            continue;
        }
        let Some(zone) = group
            .pointer("/Properties/HostedZoneId")
            .and_then(Value::as_str)
            .map(zone_id)
        else {
            continue;
        };
        let mut members = Vec::new();
        let mut missing = Vec::new();
        for (name, kind) in group_names(group) {
            match record_for(out, &zone, &name, &kind) {
                Some(tug_id) if !members.contains(&tug_id) => members.push(tug_id),
                Some(_) => {}
                None => missing.push(name),
            }
        }
        if !missing.is_empty() {
            kept.hazards.push(Hazard {
                logical_id: id.clone(),
                resource_type: RECORD_SET_GROUP.into(),
                harm: Harm::Remove,
                why: format!(
                    "Copilot's records of {} in zone {zone} are not among tug's aliases: keep them in `http.alias` (with `hosted_zone: {zone}`) to adopt",
                    missing.join(", ")
                ),
            });
        }
        if members.is_empty() {
            continue;
        }
        fold(out, id, group.pointer("/Properties/HostedZoneId"), &members);
        kept.groups.insert(id.clone(), Group { records: members });
    }
    kept
}

/// On a later render of an adopted stack: folds tug's records again into the groups adoption
/// kept (`deployed`: the deployed template's resources). A group none of whose records tug
/// still renders (the aliases were removed from the manifest) goes, with its records.
pub(crate) fn keep_groups_again(
    deployed: &Map<String, Value>,
    groups: &BTreeMap<String, Group>,
    out: &mut Value,
) {
    for (id, group) in groups {
        let zone_value = deployed
            .get(id)
            .and_then(|g| g.pointer("/Properties/HostedZoneId"))
            .cloned();
        let zone = zone_value.as_ref().and_then(Value::as_str).map(zone_id);
        let members: Vec<String> = group
            .records
            .iter()
            .filter(|r| {
                let rendered = resources(out).and_then(|res| res.get(*r));
                rendered.is_some_and(|rec| {
                    zone.is_none() || record_zone(rec).as_deref() == zone.as_deref()
                })
            })
            .cloned()
            .collect();
        if members.is_empty() {
            continue;
        }
        let zone_value = zone_value.or_else(|| {
            resources(out)
                .and_then(|res| res.get(&members[0]))
                .and_then(|r| r.pointer("/Properties/HostedZoneId"))
                .cloned()
        });
        fold(out, id, zone_value.as_ref(), &members);
    }
}

/// Replaces tug's records `members` of `out` by one record set group `id` in zone `zone`
/// holding them, and points every reference to a member at the group.
fn fold(out: &mut Value, id: &str, zone: Option<&Value>, members: &[String]) {
    let Some(res) = out.get_mut("Resources").and_then(Value::as_object_mut) else {
        return;
    };
    let mut sets = Vec::new();
    for m in members {
        let Some(mut props) = res
            .remove(m)
            .and_then(|r| r.get("Properties").cloned())
            .and_then(|p| p.as_object().cloned())
        else {
            continue;
        };
        props.remove("HostedZoneId");
        props.remove("HostedZoneName");
        sets.push(Value::Object(props));
    }
    res.insert(
        id.to_string(),
        json!({
            "Type": RECORD_SET_GROUP,
            "Properties": {"HostedZoneId": zone.cloned().unwrap_or(Value::Null), "RecordSets": sets},
        }),
    );
    for m in members {
        for key in ["Resources", "Outputs"] {
            if let Some(s) = out.get_mut(key) {
                crate::deploy::adopt::template::rename(s, m, id);
            }
        }
    }
}

/// tug's alias record in `out` for `name` and `kind` in zone `zone`.
fn record_for(out: &Value, zone: &str, name: &str, kind: &str) -> Option<String> {
    resources(out)?
        .iter()
        .find(|(id, r)| {
            id.starts_with(ALIAS_RECORD_PREFIX)
                && type_of(r) == RECORD_SET
                && record_zone(r).as_deref() == Some(zone)
                && r.pointer("/Properties/Name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| normalise(n) == name)
                && r.pointer("/Properties/Type").and_then(Value::as_str) == Some(kind)
        })
        .map(|(id, _)| id.clone())
}

/// The names and types a record set group holds, names normalised.
fn group_names(group: &Value) -> Vec<(String, String)> {
    group
        .pointer("/Properties/RecordSets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| {
            Some((
                normalise(s.get("Name")?.as_str()?),
                s.get("Type")?.as_str()?.to_string(),
            ))
        })
        .collect()
}

/// The zone id a record names as a literal, without `/hostedzone/`.
fn record_zone(r: &Value) -> Option<String> {
    r.pointer("/Properties/HostedZoneId")
        .and_then(Value::as_str)
        .map(zone_id)
}

fn zone_id(z: &str) -> String {
    z.trim_start_matches("/hostedzone/").to_string()
}

fn type_of(r: &Value) -> &str {
    r.get("Type").and_then(Value::as_str).unwrap_or("")
}

fn resources(t: &Value) -> Option<&Map<String, Value>> {
    t.get("Resources").and_then(Value::as_object)
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

    fn alias(name: &str, zone: &str) -> Value {
        json!({"Type": RECORD_SET, "Properties": {
            "HostedZoneId": zone, "Name": name, "Type": "A",
            "AliasTarget": {"DNSName": {"Fn::ImportValue": "demo-test-PublicLoadBalancerDNS"}},
        }})
    }

    fn group(names: &[&str]) -> Value {
        let sets: Vec<Value> = names
            .iter()
            .map(|n| json!({"Name": n, "Type": "A", "AliasTarget": {"DNSName": "copilot"}}))
            .collect();
        json!({"Type": RECORD_SET_GROUP, "Properties": {"HostedZoneId": "Z1", "RecordSets": sets}})
    }

    /// Copilot's group keeps its id and zone and holds tug's records, now and on a later
    /// render; a name tug no longer renders is a hazard; another zone's record is left alone.
    #[test]
    fn copilots_record_set_group_holds_tugs_records() {
        let deployed = BTreeMap::from([(
            "LoadBalancerDNSAliasZ1".to_string(),
            group(&["shop.example.org", "api.example.org"]),
        )]);
        let rendered = json!({"Resources": {
            "AliasRecordShopExampleOrg": alias("shop.example.org", "Z1"),
            "AliasRecordApiExampleOrg": alias("api.example.org.", "/hostedzone/Z1"),
            "AliasRecordOtherExampleNet": alias("other.example.net", "Z2"),
        }});
        let mut out = rendered.clone();
        let kept = keep_groups(&deployed, &mut out);
        assert!(kept.hazards.is_empty(), "{:?}", kept.hazards);
        let g = &out["Resources"]["LoadBalancerDNSAliasZ1"];
        assert_eq!(g["Properties"]["HostedZoneId"], "Z1");
        let sets = g["Properties"]["RecordSets"].as_array().unwrap();
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[0]["Name"], "shop.example.org");
        assert!(sets[0]["HostedZoneId"].is_null());
        assert_eq!(
            sets[0]["AliasTarget"]["DNSName"]["Fn::ImportValue"],
            "demo-test-PublicLoadBalancerDNS"
        );
        assert!(out["Resources"]["AliasRecordShopExampleOrg"].is_null());
        assert!(!out["Resources"]["AliasRecordOtherExampleNet"].is_null());
        assert_eq!(
            kept.groups["LoadBalancerDNSAliasZ1"].records,
            vec!["AliasRecordShopExampleOrg", "AliasRecordApiExampleOrg"]
        );

        let again_deployed = out["Resources"].as_object().cloned().unwrap();
        let mut later = rendered.clone();
        keep_groups_again(&again_deployed, &kept.groups, &mut later);
        assert_eq!(later["Resources"], out["Resources"]);

        let mut fewer =
            json!({"Resources": {"AliasRecordShopExampleOrg": alias("shop.example.org", "Z1")}});
        let kept = keep_groups(&deployed, &mut fewer);
        assert_eq!(kept.hazards.len(), 1);
        assert!(
            kept.hazards[0].why.contains("api.example.org"),
            "{:?}",
            kept.hazards
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
