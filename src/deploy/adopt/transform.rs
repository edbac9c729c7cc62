//! The adoption render: tug's rendered template, adjusted against the template Copilot
//! deployed so that nothing that holds state or that others point at is replaced or removed.
//!
//! - A resource tug renders under another logical id than Copilot's (its public load
//!   balancer's security group, `publish` topics) takes Copilot's id.
//! - A resource in both keeps Copilot's values of its create-only properties where a
//!   stateful resource would otherwise be replaced (log group names `/copilot/...`, security
//!   group descriptions, target group settings).
//! - A stateful resource tug does not render (Copilot's default target group, the addons
//!   stack `AddonsStack`), and what such resources and kept exports point at, is carried over
//!   as deployed, with Copilot's parameters written in as the values they had.
//! - Exports other stacks may import are kept under their names.
//! - Copilot's custom resources and their Lambda functions and roles go; the caller first
//!   retains them (see `phases`), so their Delete handlers never run.
//!
//! What was adjusted is recorded in the template's `Metadata` (`tug:adoption`), and
//! [`keep`] applies the same adjustments to every later render of an adopted stack.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::deploy::adopt::aliases;
use crate::deploy::adopt::certificate;
use crate::deploy::adopt::computed::Computed;
use crate::deploy::adopt::copilot;
use crate::deploy::adopt::template::{self, Known};
use crate::deploy::replacement::{self, Harm, Hazard, Sides};

/// The metadata key recording an adoption in a template.
pub const METADATA_KEY: &str = "tug:adoption";

/// What happens to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// Unchanged.
    Kept,
    /// Changed in place.
    Updated,
    /// New in tug's template.
    Added,
    /// Not rendered by tug; kept as Copilot deployed it.
    Carried,
    /// Removed (holds no state).
    Removed,
    /// A Copilot custom resource: retained first, so dropping it runs nothing.
    CustomResource,
    /// A Lambda function of a custom resource, or its role: retained, then listed to delete.
    Function,
    /// Replaced: adoption stops.
    Replaced,
}

impl Fate {
    pub fn label(self) -> &'static str {
        match self {
            Fate::Kept => "kept",
            Fate::Updated => "updated in place",
            Fate::Added => "added",
            Fate::Carried => "kept (carried over)",
            Fate::Removed => "removed",
            Fate::CustomResource => "custom resource dropped",
            Fate::Function => "Lambda dropped",
            Fate::Replaced => "REPLACED",
        }
    }
}

/// One resource of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub logical_id: String,
    pub resource_type: String,
    pub fate: Fate,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// The deployed Copilot stack, as read.
pub struct Deployed<'a> {
    pub stack_name: &'a str,
    pub template: &'a Value,
    pub parameters: &'a BTreeMap<String, String>,
    /// Logical ids of the resources that exist (a resource a condition turned off does not).
    pub existing: &'a BTreeSet<String>,
    /// Export names the stack has.
    pub exports: &'a BTreeSet<String>,
    /// What Copilot's custom resources computed: kept as it is now.
    pub computed: &'a Computed,
}

/// The adoption render of one stack.
#[derive(Debug, Clone)]
pub struct Adoption {
    pub template: Value,
    pub rows: Vec<Row>,
    /// Replacements or removals of stateful resources, or things that cannot be kept: any one
    /// stops the adoption of the stack.
    pub hazards: Vec<Hazard>,
    /// Custom resources, their functions and roles: retained before the switch.
    pub retained: Vec<String>,
}

/// Adjusts tug's rendered template (`rendered`, with its parameter values) against the
/// deployed Copilot stack.
pub fn adopt(
    deployed: &Deployed,
    rendered: &Value,
    rendered_parameters: &BTreeMap<String, String>,
) -> Adoption {
    let inputs = Inputs {
        deployed,
        old: resources(deployed.template),
        known: Known {
            parameters: deployed.parameters,
            stack_name: deployed.stack_name,
        },
        now_known: Known {
            parameters: rendered_parameters,
            stack_name: deployed.stack_name,
        },
    };
    let mut draft = Draft {
        out: rendered.clone(),
        record: Record::default(),
        hazards: Vec::new(),
        retained: retained_ids(&inputs.old),
        left_out: Vec::new(),
    };
    inputs.take_copilot_ids(&mut draft);
    inputs.leave_out_made_outside(&mut draft);
    inputs.keep_create_only_values(&mut draft);
    inputs.pin_computed(&mut draft);
    inputs.carry_unrendered(&mut draft);
    inputs.keep_exports(&mut draft);
    inputs.close(&mut draft);
    prune_depends_on(&mut draft.out);
    inputs.finish(draft)
}

/// What the adoption of one stack reads: the deployed stack, and how to evaluate its template
/// (`known`, Copilot's parameters) and tug's (`now_known`, tug's).
struct Inputs<'a> {
    deployed: &'a Deployed<'a>,
    /// The deployed template's resources.
    old: Map<String, Value>,
    known: Known<'a>,
    now_known: Known<'a>,
}

/// The adoption render as it is built.
struct Draft {
    out: Value,
    record: Record,
    hazards: Vec<Hazard>,
    /// Custom resources, their functions and roles.
    retained: BTreeSet<String>,
    /// tug's resources left out because Copilot made them outside the stack: (logical id,
    /// type, the custom resource that made them).
    left_out: Vec<(String, String, &'static str)>,
}

/// Copilot's custom resources, their functions and the functions' roles (and any other
/// Lambda function): retained before the switch.
fn retained_ids(old: &Map<String, Value>) -> BTreeSet<String> {
    let mut retained = BTreeSet::new();
    for (id, r) in old {
        if copilot::is_custom_resource(id, r) {
            retained.insert(id.clone());
            if let Some(f) = r
                .pointer("/Properties/ServiceToken")
                .map(template::references)
            {
                retained.extend(f);
            }
        }
        if type_of(Some(r)) == "AWS::Lambda::Function" {
            retained.insert(id.clone());
        }
    }
    let functions: Vec<String> = retained
        .iter()
        .filter(|id| type_of(old.get(*id)) == "AWS::Lambda::Function")
        .cloned()
        .collect();
    for f in functions {
        if let Some(role) = old
            .get(&f)
            .and_then(|r| r.pointer("/Properties/Role"))
            .map(template::references)
        {
            retained.extend(role);
        }
    }
    retained.retain(|id| old.contains_key(id));
    retained
}

impl Inputs<'_> {
    /// Copilot's logical ids where tug's differ.
    fn take_copilot_ids(&self, d: &mut Draft) {
        let tug_ids: Vec<String> = resources(&d.out).keys().cloned().collect();
        for id in &tug_ids {
            if self.old.contains_key(id) {
                continue;
            }
            // Copilot keeps a topic's name as written (`ordersSNSTopic`); tug capitalises it.
            if let Some(cid) = copilot::copilot_id(id)
                && let Some(cid) = self
                    .old
                    .keys()
                    .find(|k| k.eq_ignore_ascii_case(&cid))
                    .cloned()
                && self.deployed.existing.contains(&cid)
                && !tug_ids.contains(&cid)
                && type_of(self.old.get(&cid)) == type_of(resources(&d.out).get(id))
            {
                rename_resource(&mut d.out, id, &cid);
                d.record.renamed.insert(id.clone(), cid);
            }
        }
    }

    /// What Copilot made outside the stack, or holds otherwise, that tug renders: records a
    /// custom resource made (CloudFormation creates a record set with CREATE, which Route 53
    /// refuses for a name and type that exist), Copilot's certificate, and the record set
    /// groups of aliases with a `hosted_zone`.
    fn leave_out_made_outside(&self, d: &mut Draft) {
        for (custom, tug_id) in copilot::MADE_BY_CUSTOM_RESOURCES {
            if d.retained.contains(*custom)
                && let Some(r) = resources_mut(&mut d.out).remove(*tug_id)
            {
                d.record.left_out.push((*tug_id).to_string());
                d.left_out.push((
                    (*tug_id).to_string(),
                    type_of(Some(&r)).to_string(),
                    *custom,
                ));
            }
        }
        // Copilot's certificate stays on the HTTPS listener (its `HTTPSCert` is retained).
        if let Some(arn) = &self.deployed.computed.certificate
            && let Some(cert) = resources(&d.out).get(certificate::TUG_ID).cloned()
            && let Some(kept) = certificate::keep_copilots(&mut d.out, arn)
        {
            d.left_out.push((
                certificate::TUG_ID.to_string(),
                type_of(Some(&cert)).to_string(),
                "HTTPSCert",
            ));
            d.record.certificate = Some(kept);
        }
        for id in aliases::made_by_custom_domain_action(&self.old, &resources(&d.out)) {
            if let Some(r) = resources_mut(&mut d.out).remove(&id) {
                d.record.left_out.push(id.clone());
                let t = type_of(Some(&r)).to_string();
                d.left_out.push((id, t, aliases::CUSTOM_DOMAIN_ACTION));
            }
        }
        // Copilot's record set groups (aliases with a `hosted_zone`) stay, holding tug's records.
        let groups: BTreeMap<String, Value> = self
            .old
            .iter()
            .filter(|(id, r)| {
                self.deployed.existing.contains(*id)
                    && type_of(Some(r)) == aliases::RECORD_SET_GROUP
            })
            .map(|(id, r)| (id.clone(), template::evaluate(r, &self.known)))
            .collect();
        let kept = aliases::keep_groups(&groups, &mut d.out);
        d.hazards.extend(kept.hazards);
        d.record.groups = kept.groups;
    }

    /// Create-only values of stateful resources in both, as deployed; a resource whose type
    /// changed is a replacement.
    fn keep_create_only_values(&self, d: &mut Draft) {
        let new_ids: Vec<String> = resources(&d.out).keys().cloned().collect();
        for id in &new_ids {
            let Some(before) = self.old.get(id) else {
                continue;
            };
            let t = type_of(resources(&d.out).get(id)).to_string();
            if type_of(Some(before)) != t {
                d.hazards.push(Hazard {
                    logical_id: id.clone(),
                    resource_type: t.clone(),
                    harm: Harm::Replace,
                    why: format!(
                        "Copilot deployed it as {}; tug renders {t}",
                        type_of(Some(before))
                    ),
                });
                continue;
            }
            if !replacement::is_stateful(&t) {
                continue;
            }
            for path in replacement::create_only(&t).unwrap_or(&[]) {
                let was = template::at(before.get("Properties"), path)
                    .map(|v| template::evaluate(v, &self.known));
                let now = template::at(resources(&d.out)[id].get("Properties"), path)
                    .map(|v| template::evaluate(v, &self.now_known));
                if was == now {
                    continue;
                }
                let props = resources_mut(&mut d.out)
                    .get_mut(id)
                    .and_then(|r| r.as_object_mut())
                    .map(|r| r.entry("Properties").or_insert_with(|| json!({})));
                if let Some(props) = props {
                    template::set_at(props, path, was);
                }
                d.record
                    .pinned
                    .entry(id.clone())
                    .or_default()
                    .push(path.to_string());
            }
        }
    }

    /// What Copilot's custom resources computed, as it is now: a listener rule keeps its
    /// priority (tug's own choice could be one a Copilot service not yet adopted holds on the
    /// same listener), a service its desired count (adoption scales nothing).
    fn pin_computed(&self, d: &mut Draft) {
        for (id, priority) in &self.deployed.computed.priorities {
            if both_are(&d.out, &self.old, id, LISTENER_RULE) {
                set_property(&mut d.out, id, "Priority", json!(priority));
                d.record.priorities.insert(id.clone(), *priority);
            }
        }
        for (id, count) in &self.deployed.computed.desired_counts {
            if both_are(&d.out, &self.old, id, SERVICE) {
                set_property(&mut d.out, id, "DesiredCount", json!(count));
                d.record.desired_counts.insert(id.clone(), *count);
            }
        }
    }

    /// Stateful resources tug does not render, and the roles stacks run as, carried over.
    fn carry_unrendered(&self, d: &mut Draft) {
        for (id, r) in &self.old {
            if resources(&d.out).contains_key(id)
                || d.retained.contains(id)
                || !self.deployed.existing.contains(id)
            {
                continue;
            }
            if replacement::is_stateful(type_of(Some(r)))
                || copilot::KEEP_IDS.contains(&id.as_str())
                || copilot::KEEP_TYPES.contains(&type_of(Some(r)))
            {
                carry(&mut d.out, id, r, &self.known);
                d.record.carried.push(id.clone());
            }
        }
    }

    /// Exports tug does not render, kept under their names (other stacks may import them).
    fn keep_exports(&self, d: &mut Draft) {
        let tug_exports: BTreeSet<String> = outputs(&d.out)
            .values()
            .filter_map(|o| o.pointer("/Export/Name"))
            .filter_map(|n| {
                template::evaluate(n, &self.now_known)
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        for (key, o) in outputs(self.deployed.template) {
            let Some(name) = o
                .pointer("/Export/Name")
                .map(|n| template::evaluate(n, &self.known))
                .and_then(|n| n.as_str().map(str::to_string))
            else {
                continue;
            };
            if tug_exports.contains(&name) || !self.deployed.exports.contains(&name) {
                continue;
            }
            let mut kept = template::evaluate(&o, &self.known);
            if let Some(m) = kept.as_object_mut() {
                m.remove("Condition");
            }
            let mut out_key = key.clone();
            if outputs(&d.out).contains_key(&out_key) {
                out_key = format!("Copilot{key}");
            }
            outputs_mut(&mut d.out).insert(out_key.clone(), kept);
            d.record.outputs.push(out_key);
        }
    }

    /// CloudFormation's view (what the schema says is replaced, between the deployed values
    /// and the adopted ones), the rows of the plan, and removals of stateful resources.
    fn finish(&self, mut d: Draft) -> Adoption {
        let before = template::evaluate(self.deployed.template, &self.known);
        let after = template::evaluate(&d.out, &self.now_known);
        let empty = BTreeMap::new();
        let replaced = replacement::replaced_by_schema(&Sides {
            before: &before,
            after: &after,
            old_parameters: &empty,
            new_parameters: &empty,
        });
        for (id, props) in &replaced {
            let t = type_of(resources(&after).get(id)).to_string();
            if replacement::is_stateful(&t) && !d.hazards.iter().any(|h| &h.logical_id == id) {
                d.hazards.push(Hazard {
                    logical_id: id.clone(),
                    resource_type: t.to_string(),
                    harm: Harm::Replace,
                    why: format!("{} cannot change in place (create-only)", props.join(", ")),
                });
            }
        }
        let mut rows = rows(
            &before,
            &after,
            self.deployed,
            &d.retained,
            &d.record,
            &d.hazards,
        );
        for (id, resource_type, custom) in d.left_out.drain(..) {
            rows.push(Row {
                logical_id: id,
                resource_type,
                fate: Fate::Kept,
                note: format!(
                    "made by Copilot's {custom} outside the stack; left as it is, not added to the stack"
                ),
            });
        }
        for row in &rows {
            if row.fate == Fate::Removed
                && replacement::is_stateful(&row.resource_type)
                && !d.hazards.iter().any(|h| h.logical_id == row.logical_id)
            {
                d.hazards.push(Hazard {
                    logical_id: row.logical_id.clone(),
                    resource_type: row.resource_type.clone(),
                    harm: Harm::Remove,
                    why: "tug does not render it and it could not be carried over".into(),
                });
            }
        }
        write_metadata(&mut d.out, &d.record);
        Adoption {
            template: d.out,
            rows,
            hazards: d.hazards,
            retained: d.retained.into_iter().collect(),
        }
    }
}

/// Applies an earlier adoption (recorded in the deployed template's metadata) to a new render
/// of the stack: the same logical ids, create-only values, carried resources and exports.
/// `None` when the deployed template records no adoption.
pub fn keep(deployed: &Value, rendered: &Value) -> Option<Value> {
    let meta = deployed.pointer(&format!("/Metadata/{METADATA_KEY}"))?;
    let mut record: Record = serde_json::from_value(meta.clone()).ok()?;
    let old = resources(deployed);
    let mut out = rendered.clone();
    for (tug_id, cid) in &record.renamed {
        if resources(&out).contains_key(tug_id) && !resources(&out).contains_key(cid) {
            rename_resource(&mut out, tug_id, cid);
        }
    }
    for (id, paths) in &record.pinned {
        let Some(before) = old.get(id) else { continue };
        let Some(props) = resources_mut(&mut out)
            .get_mut(id)
            .and_then(|r| r.as_object_mut())
            .map(|r| r.entry("Properties").or_insert_with(|| json!({})))
        else {
            continue;
        };
        for path in paths {
            template::set_at(
                props,
                path,
                template::at(before.get("Properties"), path).cloned(),
            );
        }
    }
    for (id, priority) in &record.priorities {
        if both_are(&out, &old, id, LISTENER_RULE) {
            set_property(&mut out, id, "Priority", json!(priority));
        }
    }
    for id in &record.carried {
        if let Some(r) = old.get(id)
            && !resources(&out).contains_key(id)
        {
            resources_mut(&mut out).insert(id.clone(), r.clone());
        }
    }
    for key in &record.outputs {
        if let Some(o) = outputs(deployed).get(key)
            && !outputs(&out).contains_key(key)
        {
            outputs_mut(&mut out).insert(key.clone(), o.clone());
        }
    }
    for name in &record.conditions {
        if let Some(c) = deployed.pointer(&format!("/Conditions/{name}")) {
            section_mut(&mut out, "Conditions").insert(name.clone(), c.clone());
        }
    }
    for id in &record.left_out {
        resources_mut(&mut out).remove(id);
    }
    aliases::keep_groups_again(&old, &record.groups, &mut out);
    if let Some(kept) = &record.certificate
        && !certificate::keep_again(&mut out, kept)
    {
        record.certificate = None;
    }
    prune_depends_on(&mut out);
    write_metadata(&mut out, &record);
    Some(out)
}

/// What an adoption changed, as recorded in the template.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
struct Record {
    #[serde(default)]
    renamed: BTreeMap<String, String>,
    #[serde(default)]
    pinned: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    carried: Vec<String>,
    #[serde(default)]
    outputs: Vec<String>,
    #[serde(default)]
    conditions: Vec<String>,
    /// Resources tug renders that adoption leaves out, on every later deploy too, because a
    /// custom resource of Copilot's made them outside the stack (see
    /// `copilot::MADE_BY_CUSTOM_RESOURCES`).
    #[serde(default)]
    left_out: Vec<String>,
    /// Copilot's certificate, kept on the HTTPS listener instead of tug's while tug's would
    /// cover the same names (see `certificate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate: Option<certificate::Kept>,
    /// Copilot's record set groups kept, holding tug's alias records (see `aliases`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    groups: BTreeMap<String, aliases::Group>,
    /// Listener rules: the priority each held when adopted, kept on every later deploy.
    #[serde(default)]
    priorities: BTreeMap<String, i32>,
    /// Services: the desired count each ran with when adopted (the adoption only; later
    /// deploys follow the manifest, or leave the count to autoscaling).
    #[serde(skip)]
    desired_counts: BTreeMap<String, i32>,
}

fn write_metadata(out: &mut Value, record: &Record) {
    let mut value = serde_json::to_value(record).unwrap_or_default();
    if let Some(m) = value.as_object_mut() {
        m.insert("from".into(), Value::String(copilot::ADOPTED_FROM.into()));
    }
    section_mut(out, "Metadata").insert(METADATA_KEY.into(), value);
}

/// Copies a deployed resource in, with Copilot's parameters written in as their values and
/// without its condition (it exists, so its condition held).
fn carry(out: &mut Value, id: &str, resource: &Value, known: &Known) {
    let mut r = template::evaluate(resource, known);
    if let Some(m) = r.as_object_mut() {
        m.remove("Condition");
    }
    resources_mut(out).insert(id.to_string(), r);
}

impl Inputs<'_> {
    /// Carries over what the template refers to but lacks, until nothing is missing; what
    /// cannot be carried (a custom resource's result, a resource that does not exist, a
    /// parameter without a value) is a hazard.
    fn close(&self, d: &mut Draft) {
        let mut reported = BTreeSet::new();
        loop {
            let mut grew = self.carry_conditions(d);
            for (owner, id) in missing_references(&d.out) {
                if let Some(r) = self.old.get(&id)
                    && !d.retained.contains(&id)
                    && self.deployed.existing.contains(&id)
                    && !resources(&d.out).contains_key(&id)
                {
                    carry(&mut d.out, &id, r, &self.known);
                    d.record.carried.push(id);
                    grew = true;
                } else if reported.insert((owner.clone(), id.clone())) {
                    let why = if d.retained.contains(&id) {
                        format!("it uses a value Copilot's custom resource {id} computed")
                    } else {
                        format!("it refers to {id}, which the deployed stack does not have")
                    };
                    d.hazards.push(Hazard {
                        logical_id: owner.clone(),
                        resource_type: type_of(resources(&d.out).get(&owner)).to_string(),
                        harm: Harm::Remove,
                        why: format!("cannot be kept: {why}"),
                    });
                }
            }
            if !grew {
                return;
            }
        }
    }

    /// Carries over, from the deployed template, the conditions `Fn::If` uses that the
    /// template lacks; whether there were any.
    fn carry_conditions(&self, d: &mut Draft) -> bool {
        let mut conditions = Vec::new();
        for v in resources(&d.out).values().chain(outputs(&d.out).values()) {
            if_conditions(v, &mut conditions);
        }
        let mut grew = false;
        for c in conditions {
            if !section(&d.out, "Conditions").contains_key(&c)
                && let Some(def) = self.deployed.template.pointer(&format!("/Conditions/{c}"))
            {
                let def = template::evaluate(def, &self.known);
                section_mut(&mut d.out, "Conditions").insert(c.clone(), def);
                d.record.conditions.push(c);
                grew = true;
            }
        }
        grew
    }
}

/// (owner, name) of every reference in resources and outputs to a resource or parameter the
/// template does not have (`DependsOn` left out: dangling ones are pruned).
fn missing_references(out: &Value) -> Vec<(String, String)> {
    let have: BTreeSet<String> = resources(out)
        .keys()
        .chain(section(out, "Parameters").keys())
        .cloned()
        .collect();
    let mut missing = Vec::new();
    for (owner, v) in resources(out).iter().chain(outputs(out).iter()) {
        let mut body = v.clone();
        if let Some(m) = body.as_object_mut() {
            m.remove("DependsOn");
        }
        for r in template::references(&body) {
            if !have.contains(&r) {
                missing.push((owner.clone(), r));
            }
        }
    }
    missing
}

/// Condition names used by `Fn::If` in a value.
fn if_conditions(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| if_conditions(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                if k == "Fn::If"
                    && let Some(c) = x.get(0).and_then(Value::as_str)
                {
                    out.push(c.to_string());
                }
                if_conditions(x, out);
            }
        }
        _ => {}
    }
}

/// Drops `DependsOn` entries naming resources the template no longer has.
fn prune_depends_on(out: &mut Value) {
    let ids: BTreeSet<String> = resources(out).keys().cloned().collect();
    for r in resources_mut(out).values_mut() {
        let Some(m) = r.as_object_mut() else { continue };
        match m.get_mut("DependsOn") {
            Some(Value::String(s)) if !ids.contains(s.as_str()) => {
                m.remove("DependsOn");
            }
            Some(Value::Array(a)) => {
                a.retain(|d| d.as_str().is_some_and(|d| ids.contains(d)));
                if a.is_empty() {
                    m.remove("DependsOn");
                }
            }
            _ => {}
        }
    }
}

fn rows(
    before: &Value,
    after: &Value,
    deployed: &Deployed,
    retained: &BTreeSet<String>,
    record: &Record,
    hazards: &[Hazard],
) -> Vec<Row> {
    let old = resources(before);
    let new = resources(after);
    let mut rows = Vec::new();
    let renamed_from: BTreeMap<&String, &String> =
        record.renamed.iter().map(|(t, c)| (c, t)).collect();
    for (id, r) in &new {
        let t = type_of(Some(r)).to_string();
        let mut notes = Vec::new();
        if let Some(tug_id) = renamed_from.get(id) {
            notes.push(format!("tug's {tug_id}, under Copilot's logical id"));
        }
        if let Some(paths) = record.pinned.get(id) {
            notes.push(format!("keeps Copilot's {}", paths.join(", ")));
        }
        if let Some(p) = record.priorities.get(id) {
            notes.push(format!("keeps its priority {p}"));
        }
        if let Some(n) = record.desired_counts.get(id) {
            notes.push(format!("keeps its desired count {n}"));
        }
        if let Some(g) = record.groups.get(id) {
            notes.push(format!(
                "Copilot's record set group, now holding tug's {}",
                g.records.join(", ")
            ));
        }
        let fate = if hazards
            .iter()
            .any(|h| &h.logical_id == id && h.harm == Harm::Replace)
        {
            Fate::Replaced
        } else if record.carried.contains(id) {
            notes.push("tug does not render it; kept as deployed".into());
            Fate::Carried
        } else if !deployed.existing.contains(id) || !old.contains_key(id) {
            Fate::Added
        } else if same(old.get(id), Some(r)) {
            Fate::Kept
        } else {
            Fate::Updated
        };
        rows.push(Row {
            logical_id: id.clone(),
            resource_type: t,
            fate,
            note: notes.join("; "),
        });
    }
    for (id, r) in &old {
        if new.contains_key(id) || !(deployed.existing.contains(id) || retained.contains(id)) {
            continue;
        }
        let t = type_of(Some(r)).to_string();
        let (fate, note) = if retained.contains(id) && copilot::is_custom_resource(id, r) {
            (
                Fate::CustomResource,
                "retained first, so its Delete handler never runs".to_string(),
            )
        } else if retained.contains(id) {
            (
                Fate::Function,
                "retained, then listed for you to delete".to_string(),
            )
        } else {
            (Fate::Removed, String::new())
        };
        rows.push(Row {
            logical_id: id.clone(),
            resource_type: t,
            fate,
            note,
        });
    }
    rows
}

/// Two resources compare equal as data, metadata left out.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    let strip = |v: Option<&Value>| {
        let mut v = v.cloned().unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.remove("Metadata");
        }
        v
    };
    strip(a) == strip(b)
}

const LISTENER_RULE: &str = "AWS::ElasticLoadBalancingV2::ListenerRule";
const SERVICE: &str = "AWS::ECS::Service";

/// Whether `id` is a resource of type `t` both in `out` and in the deployed resources.
fn both_are(out: &Value, old: &Map<String, Value>, id: &str, t: &str) -> bool {
    type_of(resources(out).get(id)) == t && type_of(old.get(id)) == t
}

/// Sets one top-level property of resource `id` of `out`.
fn set_property(out: &mut Value, id: &str, key: &str, value: Value) {
    if let Some(props) = resources_mut(out)
        .get_mut(id)
        .and_then(|r| r.as_object_mut())
        .map(|r| r.entry("Properties").or_insert_with(|| json!({})))
        && let Some(props) = props.as_object_mut()
    {
        props.insert(key.to_string(), value);
    }
}

fn rename_resource(out: &mut Value, from: &str, to: &str) {
    let res = resources_mut(out);
    if let Some(r) = res.remove(from) {
        res.insert(to.to_string(), r);
    }
    for key in ["Resources", "Outputs"] {
        if let Some(s) = out.get_mut(key) {
            template::rename(s, from, to);
        }
    }
}

pub(crate) fn type_of(r: Option<&Value>) -> &str {
    r.and_then(|r| r.get("Type"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub(crate) fn resources(t: &Value) -> Map<String, Value> {
    section(t, "Resources")
}

fn outputs(t: &Value) -> Map<String, Value> {
    section(t, "Outputs")
}

fn section(t: &Value, key: &str) -> Map<String, Value> {
    t.get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

fn resources_mut(t: &mut Value) -> &mut Map<String, Value> {
    section_mut(t, "Resources")
}

fn outputs_mut(t: &mut Value) -> &mut Map<String, Value> {
    section_mut(t, "Outputs")
}

fn section_mut<'a>(t: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    if !t.is_object() {
        *t = json!({});
    }
    let obj = t.as_object_mut().expect("an object");
    let entry = obj
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    entry.as_object_mut().expect("an object")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adopt_pair(deployed: Value, tug: Value) -> Adoption {
        let existing: BTreeSet<String> = resources(&deployed).keys().cloned().collect();
        let params = BTreeMap::from([("AppName".to_string(), "demo".to_string())]);
        adopt(
            &Deployed {
                stack_name: "demo-test-web",
                template: &deployed,
                parameters: &params,
                existing: &existing,
                exports: &BTreeSet::new(),
                computed: &Computed::default(),
            },
            &tug,
            &BTreeMap::new(),
        )
    }

    /// A queue tug does not render is carried over; a value only a custom resource computed
    /// cannot be kept, and stops the adoption; the custom resource and its function go.
    #[test]
    fn carries_state_and_stops_on_custom_resource_values() {
        let deployed = json!({"Resources": {
            "Action": {"Type": "Custom::RulePriorityFunction",
                "Properties": {"ServiceToken": {"Fn::GetAtt": ["Fn", "Arn"]}}},
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["FnRole", "Arn"]}}},
            "FnRole": {"Type": "AWS::IAM::Role", "Properties": {}},
            "Old": {"Type": "AWS::SQS::Queue", "Properties": {
                "QueueName": {"Fn::Sub": "${AppName}-old"},
                "DelaySeconds": {"Fn::GetAtt": ["Action", "Priority"]}}},
        }});
        let tug = json!({"Resources": {"LogGroup": {"Type": "AWS::Logs::LogGroup"}}});
        let a = adopt_pair(deployed, tug);
        assert_eq!(a.retained, vec!["Action", "Fn", "FnRole"]);
        assert_eq!(
            a.template.pointer("/Resources/Old/Properties/QueueName"),
            Some(&json!("demo-old"))
        );
        assert_eq!(a.hazards.len(), 1, "{:?}", a.hazards);
        assert_eq!(a.hazards[0].logical_id, "Old");
        assert!(
            a.hazards[0].why.contains("custom resource Action"),
            "{:?}",
            a.hazards
        );
        let fate = |id: &str| a.rows.iter().find(|r| r.logical_id == id).unwrap().fate;
        assert_eq!(fate("Action"), Fate::CustomResource);
        assert_eq!(fate("Fn"), Fate::Function);
        assert_eq!(fate("Old"), Fate::Carried);
        assert_eq!(fate("LogGroup"), Fate::Added);
    }

    /// A listener rule keeps the priority it holds, now and in every later render; a service
    /// keeps its desired count in the adoption only.
    #[test]
    fn computed_priorities_and_counts_are_kept() {
        let rule = |p: Value| json!({"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {"Priority": p}});
        let service =
            |n: Value| json!({"Type": "AWS::ECS::Service", "Properties": {"DesiredCount": n}});
        let deployed = json!({"Resources": {
            "HTTPListenerRule": rule(json!({"Fn::GetAtt": ["HTTPRulePriorityAction", "Priority"]})),
            "Service": service(json!({"Fn::GetAtt": ["DynamicDesiredCountAction", "DesiredCount"]})),
        }});
        let tug = json!({"Resources": {"HTTPListenerRule": rule(json!(49612)), "Service": service(json!(1))}});
        let existing: BTreeSet<String> = resources(&deployed).keys().cloned().collect();
        let computed = Computed {
            priorities: BTreeMap::from([("HTTPListenerRule".to_string(), 50000)]),
            desired_counts: BTreeMap::from([("Service".to_string(), 3)]),
            certificate: None,
        };
        let a = adopt(
            &Deployed {
                stack_name: "demo-test-web",
                template: &deployed,
                parameters: &BTreeMap::new(),
                existing: &existing,
                exports: &BTreeSet::new(),
                computed: &computed,
            },
            &tug,
            &BTreeMap::new(),
        );
        assert!(a.hazards.is_empty(), "{:?}", a.hazards);
        let at = |t: &Value, p: &str| t.pointer(p).cloned();
        assert_eq!(
            at(
                &a.template,
                "/Resources/HTTPListenerRule/Properties/Priority"
            ),
            Some(json!(50000))
        );
        assert_eq!(
            at(&a.template, "/Resources/Service/Properties/DesiredCount"),
            Some(json!(3))
        );
        let later = keep(&a.template, &tug).expect("an adopted template");
        assert_eq!(
            at(&later, "/Resources/HTTPListenerRule/Properties/Priority"),
            Some(json!(50000))
        );
        assert_eq!(
            at(&later, "/Resources/Service/Properties/DesiredCount"),
            Some(json!(1))
        );
    }

    /// Create-only values are kept, recorded, and kept again by a later render.
    #[test]
    fn create_only_values_are_kept_now_and_later() {
        let deployed = json!({"Resources": {"LogGroup": {"Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": {"Fn::Join": ["", ["/copilot/", {"Ref": "AppName"}, "-test-web"]]}}}}});
        let tug = json!({"Resources": {"LogGroup": {"Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": "/tug/demo-test-web", "RetentionInDays": 7}}}});
        let a = adopt_pair(deployed, tug.clone());
        assert!(a.hazards.is_empty(), "{:?}", a.hazards);
        assert_eq!(
            a.template
                .pointer("/Resources/LogGroup/Properties/LogGroupName"),
            Some(&json!("/copilot/demo-test-web"))
        );
        let later = keep(&a.template, &tug).expect("an adopted template");
        assert_eq!(
            later.pointer("/Resources/LogGroup/Properties/LogGroupName"),
            Some(&json!("/copilot/demo-test-web"))
        );
        assert_eq!(
            later.pointer("/Resources/LogGroup/Properties/RetentionInDays"),
            Some(&json!(7))
        );
        assert!(keep(&tug, &tug).is_none());
    }
}
