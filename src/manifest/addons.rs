//! Addons: the CloudFormation templates in `copilot/<workload>/addons/` and
//! `copilot/environments/addons/`, deployed as a nested stack (logical id `AddonsStack`) of the
//! workload's or environment's stack, as Copilot deployed them.
//!
//! This module owns what can be known offline: the files are merged into one template (a
//! logical id defined twice must be defined identically), the reserved parameters (`App`,
//! `Env`, and `Name` for a workload) must be declared by the template and may not be set in
//! `addons.parameters.yml`, every other parameter the template requires without a default
//! must be set there, and every parameter set there must be declared. The outputs are
//! classified as Copilot did: an output whose value is `Ref` of an `AWS::IAM::ManagedPolicy`
//! is a policy for the task role, of an `AWS::SecretsManager::Secret` a secret of the main
//! container, of an `AWS::EC2::SecurityGroup` a security group of the service (and also a
//! variable, as with Copilot); every other output is an environment variable named by
//! [`env_var_name`].
//! Properties naming local files or folders are collected as assets ([`addon_assets`] owns
//! them); [`Addons::packaged`] writes their S3 locations into the template.

use std::collections::BTreeMap;

use serde_json::{Map as JsonMap, Value, json};

use crate::error::{Error, Result};
use crate::manifest::addon_assets::{self, AssetRef, Built};
use crate::manifest::codes;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::source::Span;
use crate::manifest::yaml::{Node, NodeKind, ScalarStyle};

/// The logical id of the nested stack in the parent template (Copilot's).
pub const STACK_ID: &str = "AddonsStack";
/// The parameter of the parent template that carries the uploaded template's URL.
pub const TEMPLATE_URL_PARAMETER: &str = "AddonsTemplateURL";
/// The names of the parameters file; one of them at most.
pub const PARAMETER_FILES: &[&str] = &["addons.parameters.yml", "addons.parameters.yaml"];
/// Parameters the parent passes to a workload's addons.
pub const WORKLOAD_RESERVED: &[&str] = &["App", "Env", "Name"];
/// Parameters the parent passes to an environment's addons.
pub const ENVIRONMENT_RESERVED: &[&str] = &["App", "Env"];

/// The sections merged key by key; `Transform` is merged as a set.
const SECTIONS: &[&str] = &[
    "Metadata",
    "Parameters",
    "Mappings",
    "Conditions",
    "Resources",
    "Outputs",
];

/// What Copilot did with one output of the addons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// An environment variable of every container.
    Variable,
    /// A secret of the main container (the value is the secret's ARN).
    Secret,
    /// A managed policy attached to the task role.
    ManagedPolicy,
    /// A security group of the service's tasks; also a variable.
    SecurityGroup,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddonOutput {
    pub name: String,
    pub kind: OutputKind,
}

/// The addons of one workload or of the environments, merged and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Addons {
    /// The merged template, as JSON (a template CloudFormation reads like YAML).
    pub template: String,
    /// The parameters the parent passes besides the reserved ones, in the parameters file's
    /// order; values may be intrinsic functions of the parent template.
    pub parameters: Vec<(String, Value, Span)>,
    pub outputs: Vec<AddonOutput>,
    /// Properties naming a local file or folder, packaged when the template is uploaded
    /// (resolved against the workspace root by the workspace reader).
    pub assets: Vec<AssetRef>,
}

impl Addons {
    /// The parent's `Parameters` of the nested stack: the reserved ones, then the file's.
    pub fn stack_parameters(&self, reserved: &[(&str, Value)]) -> Value {
        let mut out = JsonMap::new();
        for (k, v) in reserved {
            out.insert((*k).to_string(), v.clone());
        }
        // Copilot's parent parameters by the names the addon parameter files use.
        let parent: Vec<(&str, &Value)> = COPILOT_PARENT_PARAMETERS
            .iter()
            .filter_map(|(copilot, ours)| {
                reserved
                    .iter()
                    .find(|(k, _)| k == ours)
                    .map(|(_, v)| (*copilot, v))
            })
            .collect();
        for (k, v, _) in &self.parameters {
            out.insert(k.clone(), with_parent_values(v, &parent));
        }
        Value::Object(out)
    }

    /// The template with every asset's property replaced by its S3 location in `bucket`
    /// (`url` gives an object's HTTPS URL), and the assets to upload there. Without assets it
    /// is [`Addons::template`] unchanged. Reads (and zips) the assets' files: the same files
    /// give the same keys, so an unchanged folder gives an unchanged template.
    pub fn packaged(
        &self,
        bucket: &str,
        url: &dyn Fn(&str) -> String,
    ) -> Result<(String, Vec<Built>)> {
        if self.assets.is_empty() {
            return Ok((self.template.clone(), Vec::new()));
        }
        let mut template: Value = serde_json::from_str(&self.template)
            .map_err(|e| Error::failure(format!("the merged addons template is not JSON: {e}")))?;
        let mut built = Vec::new();
        for asset in &self.assets {
            let object = addon_assets::build(asset)?;
            let mut target = Some(&mut template);
            for key in &asset.pointer {
                target = target.and_then(|t| match t {
                    Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
                    other => other.get_mut(key),
                });
            }
            let target = target.ok_or_else(|| {
                Error::failure(format!("{} is not in the merged template", asset.subject))
            })?;
            *target = addon_assets::location(asset, bucket, url, &object.key);
            if !built.iter().any(|b: &Built| b.key == object.key) {
                built.push(object);
            }
        }
        let text = serde_json::to_string_pretty(&template)
            .map_err(|e| Error::failure(format!("cannot write the addons template: {e}")))?;
        Ok((text, built))
    }

    /// `Fn::GetAtt` of an output of the nested stack.
    pub fn output_value(name: &str) -> Value {
        json!({ "Fn::GetAtt": [STACK_ID, format!("Outputs.{name}")] })
    }

    pub fn outputs_of(&self, kind: OutputKind) -> impl Iterator<Item = &AddonOutput> {
        self.outputs.iter().filter(move |o| o.kind == kind)
    }

    /// The environment variables: every output that is neither a secret nor a policy.
    pub fn variables(&self) -> impl Iterator<Item = &AddonOutput> {
        self.outputs
            .iter()
            .filter(|o| matches!(o.kind, OutputKind::Variable | OutputKind::SecurityGroup))
    }
}

/// The parameters of Copilot's parent stacks that `addons.parameters.yml` files refer to
/// (`!Ref EnvName`, `!Sub '${AppName}-...'`), with the reserved addon parameter holding the same
/// value. tug's parent stacks have no such parameters: a reference to one becomes the value.
pub const COPILOT_PARENT_PARAMETERS: &[(&str, &str)] = &[
    ("AppName", "App"),
    ("EnvName", "Env"),
    ("WorkloadName", "Name"),
];

/// `value` with every `Ref` to one of `parent`'s names, and every `${Name}` of a `Fn::Sub`
/// string that its own variable map does not define, replaced by that name's value.
fn with_parent_values(value: &Value, parent: &[(&str, &Value)]) -> Value {
    match value {
        Value::Object(map) if map.len() == 1 => {
            let (key, inner) = map.iter().next().expect("one entry");
            match (key.as_str(), inner) {
                ("Ref", Value::String(id)) => match parent.iter().find(|(n, _)| n == id) {
                    Some((_, v)) => (*v).clone(),
                    None => value.clone(),
                },
                ("Fn::Sub", Value::String(text)) => {
                    json!({ "Fn::Sub": sub_text(text, parent, None) })
                }
                ("Fn::Sub", Value::Array(parts)) if parts.len() == 2 => {
                    let text = parts[0].as_str().map_or_else(
                        || parts[0].clone(),
                        |t| Value::String(sub_text(t, parent, parts[1].as_object())),
                    );
                    json!({ "Fn::Sub": [text, with_parent_values(&parts[1], parent)] })
                }
                _ => json!({ key.clone(): with_parent_values(inner, parent) }),
            }
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), with_parent_values(v, parent)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| with_parent_values(v, parent))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A `Fn::Sub` string with `${Name}` of the parent's names written out, unless `own` (the
/// Sub's variable map) defines the name. Only string values are written into the text.
fn sub_text(text: &str, parent: &[(&str, &Value)], own: Option<&JsonMap<String, Value>>) -> String {
    let mut out = text.to_string();
    for (name, value) in parent {
        if own.is_some_and(|m| m.contains_key(*name)) {
            continue;
        }
        if let Value::String(v) = value {
            out = out.replace(&format!("${{{name}}}"), v);
        }
    }
    out
}

/// Copilot's name for the variable of an output: CamelCase to UPPER_SNAKE_CASE, with a word
/// boundary before a capital that follows a lowercase letter or digit (`myTable` ->
/// `MY_TABLE`), and before the last capital of an acronym followed by a word (`DDBTable` ->
/// `DDB_TABLE`).
pub fn env_var_name(output: &str) -> String {
    let chars: Vec<char> = output.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let after_word = prev.is_ascii_lowercase() || prev.is_ascii_digit();
            let ends_acronym = (prev.is_ascii_uppercase() || prev.is_ascii_digit()) && next_lower;
            if after_word || ends_acronym {
                out.push('_');
            }
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// One file of an addons folder, parsed with CloudFormation's tags.
#[derive(Debug, Clone)]
pub struct AddonFile {
    pub name: String,
    pub node: Node,
}

fn error(span: Span, message: impl Into<String>, help: impl Into<String>) -> Diagnostic {
    Diagnostic::error(codes::ADDONS, span, message).with_help(help)
}

/// Merges the templates and checks them against the parameters file. `folder` names the
/// addons folder in messages; `at` is where a problem of the folder as a whole is shown.
pub fn assemble(
    templates: &[AddonFile],
    parameters_file: Option<&AddonFile>,
    reserved: &[&str],
    at: Span,
) -> Result<Addons, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let mut merged = Merged::default();
    for file in templates {
        merged.add(file, &mut diags);
    }
    let declared: Vec<&Entry> = merged
        .sections
        .get("Parameters")
        .map(|l| l.iter().collect())
        .unwrap_or_default();
    let first_template = templates.first().map_or(at, |f| f.node.span);
    check_reserved_declared(&declared, reserved, first_template, &mut diags);
    let parameters = match parameters_file {
        Some(file) => read_parameters(file, reserved, &declared, &mut diags),
        None => Vec::new(),
    };
    check_parameter_values(
        &declared,
        &parameters,
        parameters_file,
        reserved,
        &mut diags,
    );
    let outputs = classify_outputs(&merged.sections, &mut diags);
    if !diags.is_empty() {
        return Err(diags);
    }
    let template = merged_template(templates, merged.transforms, &merged.sections);
    let mut assets = merged.assets;
    // A resource defined identically in two files names its asset once.
    assets.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    assets.dedup_by(|a, b| a.pointer == b.pointer);
    Ok(Addons {
        template,
        parameters,
        outputs,
        assets,
    })
}

/// One entry of a merged section: its logical id, its body, and the file that defined it first.
type Entry<'a> = (String, &'a Node, &'a str);

/// The templates merged section by section.
#[derive(Default)]
struct Merged<'a> {
    /// Section -> its entries, in the order the files define them.
    sections: BTreeMap<&'a str, Vec<Entry<'a>>>,
    /// The `Transform` values of every file, each once.
    transforms: Vec<Value>,
    /// Properties naming local files or folders.
    assets: Vec<AssetRef>,
}

impl<'a> Merged<'a> {
    /// Adds one template's sections; what cannot be merged is reported.
    fn add(&mut self, file: &'a AddonFile, diags: &mut Vec<Diagnostic>) {
        let NodeKind::Map(entries) = &file.node.kind else {
            diags.push(error(
                file.node.span,
                format!(
                    "addon {} is not a CloudFormation template: {} instead of a mapping",
                    file.name,
                    file.node.describe()
                ),
                "an addon is a CloudFormation template with at least a `Resources` section",
            ));
            return;
        };
        if file.node.get("Resources").is_none() {
            diags.push(error(
                file.node.span,
                format!("addon {} has no `Resources` section", file.name),
                "an addon is a CloudFormation template with at least one resource under `Resources`",
            ));
        }
        for (key, value) in entries {
            let section = key.as_str().unwrap_or("");
            if section == "Transform" {
                self.add_transforms(value);
                continue;
            }
            if matches!(section, "AWSTemplateFormatVersion" | "Description") {
                continue;
            }
            if !SECTIONS.contains(&section) {
                diags.push(error(
                    key.span,
                    format!("`{section}` is not a section of a CloudFormation template"),
                    format!("a template's sections are {}", SECTIONS.join(", ")),
                ));
                continue;
            }
            let NodeKind::Map(items) = &value.kind else {
                diags.push(error(
                    value.span,
                    format!("`{section}` must be a mapping, found {}", value.describe()),
                    format!("write `{section}:` followed by indented logical ids"),
                ));
                continue;
            };
            self.add_section(file, section, items, diags);
        }
    }

    /// A template's `Transform` (one or a list), merged as a set.
    fn add_transforms(&mut self, value: &Node) {
        let items = match &value.kind {
            NodeKind::Seq(items) => items.iter().map(to_json).collect(),
            _ => vec![to_json(value)],
        };
        let nodes: Vec<&Node> = match &value.kind {
            NodeKind::Seq(nodes) => nodes.iter().collect(),
            _ => vec![value],
        };
        for (t, node) in items.into_iter().zip(nodes) {
            if !self.transforms.contains(&t) {
                let pointer = ["Transform".to_string(), self.transforms.len().to_string()];
                self.assets
                    .extend(addon_assets::include(node, &pointer, "`Transform`"));
                self.transforms.push(t);
            }
        }
    }

    /// The entries of one section of a template: a logical id defined in two files must be
    /// defined identically.
    fn add_section(
        &mut self,
        file: &'a AddonFile,
        section: &'a str,
        items: &'a [(Node, Node)],
        diags: &mut Vec<Diagnostic>,
    ) {
        let list = self.sections.entry(section).or_default();
        for (id, body) in items {
            let id_text = id.as_str().unwrap_or("").to_string();
            if section == "Resources" {
                self.assets
                    .extend(addon_assets::local_paths(&id_text, body));
            }
            addon_assets::includes(
                body,
                &mut vec![section.to_string(), id_text.clone()],
                &format!("`{section}.{id_text}`"),
                &mut self.assets,
            );
            if section == "Resources" && body.get("Type").and_then(Node::as_str).is_none() {
                diags.push(error(
                    id.span,
                    format!("resource `{id_text}` has no `Type`"),
                    "give every resource its CloudFormation type, e.g. `Type: AWS::DynamoDB::Table`",
                ));
            }
            match list.iter().find(|(k, _, _)| *k == id_text) {
                Some((_, earlier, earlier_file)) => {
                    if to_json(earlier) != to_json(body) {
                        diags.push(error(
                            id.span,
                            format!(
                                "`{section}.{id_text}` is defined differently in {earlier_file} and {}",
                                file.name
                            ),
                            "the addon files are merged into one template: rename one of them, or make both definitions the same",
                        ));
                    }
                }
                None => list.push((id_text, body, file.name.as_str())),
            }
        }
    }
}

/// Every parameter tug passes must be declared by the addons.
fn check_reserved_declared(
    declared: &[&Entry],
    reserved: &[&str],
    first_template: Span,
    diags: &mut Vec<Diagnostic>,
) {
    for name in reserved {
        if !declared.iter().any(|(k, _, _)| k == name) {
            diags.push(error(
                first_template,
                format!("the addons do not declare the parameter `{name}`"),
                format!(
                    "tug passes {} to the addons stack; declare each under `Parameters:` with `Type: String`",
                    reserved.join(", ")
                ),
            ));
        }
    }
}

/// The values of the parameters file: declared parameters other than the reserved ones.
fn read_parameters(
    file: &AddonFile,
    reserved: &[&str],
    declared: &[&Entry],
    diags: &mut Vec<Diagnostic>,
) -> Vec<(String, Value, Span)> {
    let mut parameters = Vec::new();
    match file.node.get("Parameters").map(|n| (n, &n.kind)) {
        Some((_, NodeKind::Map(items))) => {
            for (key, value) in items {
                let name = key.as_str().unwrap_or("").to_string();
                if reserved.contains(&name.as_str()) {
                    diags.push(error(
                        key.span,
                        format!(
                            "`{name}` is passed by tug and cannot be set in {}",
                            file.name
                        ),
                        format!("remove it; tug sets {} itself", reserved.join(", ")),
                    ));
                } else if !declared.iter().any(|(k, _, _)| *k == name) {
                    diags.push(error(
                        key.span,
                        format!("the addons declare no parameter `{name}`"),
                        "declare it under `Parameters:` in an addon template, or remove it from the parameters file",
                    ));
                } else {
                    parameters.push((name, to_json(value), value.span));
                }
            }
        }
        Some((n, _)) => diags.push(error(
            n.span,
            format!("`Parameters` must be a mapping, found {}", n.describe()),
            "write `Parameters:` followed by `Name: value` lines",
        )),
        None => diags.push(error(
            file.node.span,
            format!("{} has no `Parameters` section", file.name),
            "write `Parameters:` followed by `Name: value` lines, one per parameter of the addons",
        )),
    }
    parameters
}

/// Every declared parameter gets a value: from tug, the parameters file, or its `Default`.
fn check_parameter_values(
    declared: &[&Entry],
    parameters: &[(String, Value, Span)],
    parameters_file: Option<&AddonFile>,
    reserved: &[&str],
    diags: &mut Vec<Diagnostic>,
) {
    for (name, body, _) in declared {
        let set = reserved.contains(&name.as_str())
            || parameters.iter().any(|(k, _, _)| k == name)
            || parameters_file
                .and_then(|f| f.node.get("Parameters"))
                .and_then(|p| p.get(name))
                .is_some();
        if !set && body.get("Default").is_none() {
            diags.push(error(
                body.span,
                format!("the addon parameter `{name}` has no default and no value"),
                format!("give it a `Default`, or set it in {}", PARAMETER_FILES[0]),
            ));
        }
    }
}

/// What each output is for, by the type of the resource its `Value` refers to (Copilot's
/// rule, see the module header).
fn classify_outputs(
    sections: &BTreeMap<&str, Vec<Entry>>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<AddonOutput> {
    let types: BTreeMap<&str, &str> = sections
        .get("Resources")
        .into_iter()
        .flatten()
        .filter_map(|(id, body, _)| Some((id.as_str(), body.get("Type")?.as_str()?)))
        .collect();
    let mut outputs = Vec::new();
    for (name, body, _) in sections.get("Outputs").into_iter().flatten() {
        let Some(value) = body.get("Value") else {
            diags.push(error(
                body.span,
                format!("output `{name}` has no `Value`"),
                "give every output a `Value`",
            ));
            continue;
        };
        let referenced = value.get("Ref").and_then(Node::as_str).unwrap_or("");
        let kind = match types.get(referenced).copied() {
            Some("AWS::IAM::ManagedPolicy") => OutputKind::ManagedPolicy,
            Some("AWS::SecretsManager::Secret") => OutputKind::Secret,
            Some("AWS::EC2::SecurityGroup") => OutputKind::SecurityGroup,
            _ => OutputKind::Variable,
        };
        outputs.push(AddonOutput {
            name: name.clone(),
            kind,
        });
    }
    outputs
}

/// The merged template as JSON text.
fn merged_template(
    templates: &[AddonFile],
    transforms: Vec<Value>,
    sections: &BTreeMap<&str, Vec<Entry>>,
) -> String {
    let mut template = JsonMap::new();
    template.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
    let names: Vec<&str> = templates.iter().map(|f| f.name.as_str()).collect();
    template.insert(
        "Description".into(),
        json!(format!("Addons deployed by tug: {}", names.join(", "))),
    );
    if !transforms.is_empty() {
        template.insert("Transform".into(), Value::Array(transforms));
    }
    for section in SECTIONS {
        if let Some(list) = sections.get(section) {
            let body: JsonMap<String, Value> = list
                .iter()
                .map(|(k, v, _)| (k.clone(), to_json(v)))
                .collect();
            template.insert((*section).to_string(), Value::Object(body));
        }
    }
    let mut text =
        serde_json::to_string_pretty(&Value::Object(template)).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// A located YAML value as JSON: plain `true`/`false` and numbers as such, quoted values as
/// strings, keys in document order.
pub fn to_json(node: &Node) -> Value {
    match &node.kind {
        NodeKind::Null => Value::Null,
        NodeKind::Scalar(text, ScalarStyle::Plain) => match text.as_str() {
            "true" | "True" | "TRUE" => json!(true),
            "false" | "False" | "FALSE" => json!(false),
            _ => {
                if let Ok(i) = text.parse::<i64>()
                    && i.to_string() == *text
                {
                    json!(i)
                } else if let Ok(f) = text.parse::<f64>()
                    && f.is_finite()
                    && text
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
                {
                    json!(f)
                } else {
                    json!(text)
                }
            }
        },
        NodeKind::Scalar(text, _) => json!(text),
        NodeKind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        NodeKind::Map(entries) => {
            let mut out = JsonMap::new();
            for (k, v) in entries {
                out.insert(k.as_str().unwrap_or("").to_string(), to_json(v));
            }
            Value::Object(out)
        }
    }
}

/// The logical ids a value refers to with `Ref` or `Fn::GetAtt` (pseudo parameters excluded).
pub fn references(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    collect_references(value, &mut out);
    out
}

fn collect_references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("Ref", Value::String(id)) if !id.starts_with("AWS::") => out.push(id.clone()),
                    ("Fn::GetAtt", Value::Array(parts)) => {
                        if let Some(Value::String(id)) = parts.first() {
                            out.push(id.clone());
                        }
                    }
                    _ => collect_references(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::source::SourceId;
    use crate::manifest::yaml::parse_cloudformation;

    #[test]
    fn copilot_parent_parameter_names_become_their_values() {
        let addons = Addons {
            template: String::new(),
            parameters: vec![
                ("Env".into(), json!({"Ref": "EnvName"}), Span::default()),
                (
                    "Prefix".into(),
                    json!({"Fn::Sub": "${AppName}-${EnvName}-${WorkloadName}-${AWS::Region}"}),
                    Span::default(),
                ),
                (
                    "Own".into(),
                    json!({"Fn::Sub": ["${EnvName}/${X}", {"EnvName": "mine", "X": {"Ref": "AppName"}}]}),
                    Span::default(),
                ),
                ("Group".into(), json!({"Ref": "LogGroup"}), Span::default()),
            ],
            outputs: Vec::new(),
            assets: Vec::new(),
        };
        let got = addons.stack_parameters(&[
            ("App", json!("shop")),
            ("Env", json!("test")),
            ("Name", json!("api")),
        ]);
        assert_eq!(got["Env"], json!("test"));
        assert_eq!(
            got["Prefix"],
            json!({"Fn::Sub": "shop-test-api-${AWS::Region}"})
        );
        assert_eq!(
            got["Own"],
            json!({"Fn::Sub": ["${EnvName}/${X}", {"EnvName": "mine", "X": "shop"}]})
        );
        assert_eq!(got["Group"], json!({"Ref": "LogGroup"}));
    }

    fn file(name: &str, text: &str) -> AddonFile {
        AddonFile {
            name: name.into(),
            node: parse_cloudformation(SourceId(0), text).expect("parses"),
        }
    }

    const TABLE: &str = "Parameters:\n  App: {Type: String}\n  Env: {Type: String}\n  Name: {Type: String}\nResources:\n  Table:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !Sub '${App}-${Env}-${Name}'\n  Access:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      PolicyDocument: {}\n  Password:\n    Type: AWS::SecretsManager::Secret\nOutputs:\n  MyTableName:\n    Value: !Ref Table\n  AccessPolicy:\n    Value: !Ref Access\n  DBSecret:\n    Value: !Ref Password\n";

    #[test]
    fn variable_names_follow_copilots_rule() {
        for (output, var) in [
            ("MyTableName", "MY_TABLE_NAME"),
            (
                "additionalResourcesPolicyArn",
                "ADDITIONAL_RESOURCES_POLICY_ARN",
            ),
            ("myddbtable", "MYDDBTABLE"),
            ("myDDBTable", "MY_DDB_TABLE"),
            ("my2ndDDBTable", "MY2ND_DDB_TABLE"),
            ("myTableWithLSI", "MY_TABLE_WITH_LSI"),
        ] {
            assert_eq!(env_var_name(output), var, "{output}");
        }
    }

    #[test]
    fn outputs_are_classified_by_the_resource_they_refer_to() {
        let a = assemble(
            &[file("t.yml", TABLE)],
            None,
            WORKLOAD_RESERVED,
            Span::default(),
        )
        .expect("valid");
        let kinds: Vec<(&str, OutputKind)> = a
            .outputs
            .iter()
            .map(|o| (o.name.as_str(), o.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("MyTableName", OutputKind::Variable),
                ("AccessPolicy", OutputKind::ManagedPolicy),
                ("DBSecret", OutputKind::Secret),
            ]
        );
        let t: Value = serde_json::from_str(&a.template).expect("JSON");
        assert_eq!(
            t["Resources"]["Table"]["Properties"]["TableName"],
            json!({ "Fn::Sub": "${App}-${Env}-${Name}" })
        );
    }

    #[test]
    fn conflicting_ids_and_parameters_are_errors_with_positions() {
        let other = "Resources:\n  Table:\n    Type: AWS::S3::Bucket\n";
        let errs = assemble(
            &[file("a.yml", TABLE), file("b.yml", other)],
            None,
            WORKLOAD_RESERVED,
            Span::default(),
        )
        .unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0]
                .message
                .contains("`Resources.Table` is defined differently in a.yml and b.yml")
        );
        assert_eq!((errs[0].span.line, errs[0].span.col), (2, 3));
        // The same definition twice is one resource.
        assert!(
            assemble(
                &[file("a.yml", TABLE), file("b.yml", TABLE)],
                None,
                WORKLOAD_RESERVED,
                Span::default()
            )
            .is_ok()
        );

        let no_name = TABLE.replace("  Name: {Type: String}\n", "  Size: {Type: Number}\n");
        let params = file(
            "addons.parameters.yml",
            "Parameters:\n  Name: web\n  Other: x\n",
        );
        let errs = assemble(
            &[file("a.yml", &no_name)],
            Some(&params),
            WORKLOAD_RESERVED,
            Span::default(),
        )
        .unwrap_err();
        let messages: Vec<&str> = errs.iter().map(|d| d.message.as_str()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("do not declare the parameter `Name`")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("`Name` is passed by tug")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("declare no parameter `Other`")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("`Size` has no default and no value")),
            "{messages:?}"
        );
    }

    /// Source: Copilot's package.go (properties, forms, `AWS::Include` anywhere).
    #[test]
    fn packaging_writes_each_location_in_its_form() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("code")).unwrap();
        std::fs::write(dir.path().join("code/index.py"), "x = 1\n").unwrap();
        std::fs::write(dir.path().join("snippet.yml"), "Type: String\n").unwrap();
        let text = "Transform:\n  Name: AWS::Include\n  Parameters:\n    Location: ./snippet.yml\nParameters:\n  App: {Type: String}\n  Env: {Type: String}\n  Name: {Type: String}\nResources:\n  Handler:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: ./code\n      Environment:\n        Fn::Transform:\n          Name: AWS::Include\n          Parameters:\n            Location: ./snippet.yml\n  Nested:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: ./snippet.yml\n";
        let mut addons = assemble(
            &[file("a.yml", text)],
            None,
            WORKLOAD_RESERVED,
            Span::default(),
        )
        .unwrap();
        assert_eq!(addons.assets.len(), 4, "{:?}", addons.assets);
        for asset in &mut addons.assets {
            addon_assets::check(asset, dir.path()).unwrap();
        }
        let (template, built) = addons
            .packaged("b", &|k| {
                format!("https://b.s3.eu-west-1.amazonaws.com/{k}")
            })
            .unwrap();
        // The zipped folder and the file as it is (three references, one object).
        assert_eq!(built.len(), 2, "{built:?}");
        let template: Value = serde_json::from_str(&template).unwrap();
        let zip = &built.iter().find(|b| b.key.ends_with(".zip")).unwrap().key;
        let raw = &built.iter().find(|b| !b.key.ends_with(".zip")).unwrap().key;
        let handler = &template["Resources"]["Handler"]["Properties"];
        assert_eq!(handler["CodeUri"], format!("s3://b/{zip}"));
        assert_eq!(
            handler["Environment"]["Fn::Transform"]["Parameters"]["Location"],
            format!("s3://b/{raw}")
        );
        assert_eq!(
            template["Resources"]["Nested"]["Properties"]["TemplateURL"],
            format!("https://b.s3.eu-west-1.amazonaws.com/{raw}")
        );
        assert_eq!(
            template["Transform"][0]["Parameters"]["Location"],
            format!("s3://b/{raw}")
        );
    }

    /// Source: Copilot's package.go (`s3://`/`http(s)://` are not local paths).
    #[test]
    fn local_paths_copilot_packaged_become_assets() {
        let lambda = format!(
            "{TABLE}  Handler:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code: ./lambda\n      Runtime: python3.12\n"
        )
        .replace("Outputs:\n", "")
        .replace("  MyTableName:\n    Value: !Ref Table\n  AccessPolicy:\n    Value: !Ref Access\n  DBSecret:\n    Value: !Ref Password\n", "");
        let addons = assemble(
            &[file("a.yml", &lambda), file("b.yml", &lambda)],
            None,
            WORKLOAD_RESERVED,
            Span::default(),
        )
        .unwrap();
        // Defined identically in two files: one asset.
        assert_eq!(addons.assets.len(), 1, "{:?}", addons.assets);
        let asset = &addons.assets[0];
        assert_eq!(asset.subject, "`Code` of resource `Handler`");
        assert_eq!(
            asset.pointer,
            ["Resources", "Handler", "Properties", "Code"]
        );
        assert_eq!(asset.local, "./lambda");
        assert!(asset.span.line > 1);
        let s3 = lambda.replace("Code: ./lambda", "Code: {S3Bucket: b, S3Key: k}");
        let remote = assemble(
            &[file("a.yml", &s3)],
            None,
            WORKLOAD_RESERVED,
            Span::default(),
        )
        .unwrap();
        assert!(remote.assets.is_empty());
        let uri = lambda.replace("Code: ./lambda", "Code: s3://b/k.zip");
        let remote = assemble(
            &[file("a.yml", &uri)],
            None,
            WORKLOAD_RESERVED,
            Span::default(),
        )
        .unwrap();
        assert!(remote.assets.is_empty());
    }

    #[test]
    fn parameter_values_keep_intrinsic_functions() {
        let with_param = TABLE.replace(
            "  Name: {Type: String}\n",
            "  Name: {Type: String}\n  Group: {Type: String}\n",
        );
        let params = file(
            "addons.parameters.yml",
            "Parameters:\n  Group: !GetAtt Service.Name\n",
        );
        let a = assemble(
            &[file("a.yml", &with_param)],
            Some(&params),
            WORKLOAD_RESERVED,
            Span::default(),
        )
        .expect("valid");
        assert_eq!(
            a.parameters[0].1,
            json!({ "Fn::GetAtt": ["Service", "Name"] })
        );
        assert_eq!(references(&a.parameters[0].1), vec!["Service".to_string()]);
    }
}
