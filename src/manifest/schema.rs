//! JSON Schema (draft 2020-12) for every manifest type, generated from the types the loader
//! decodes, so the schema an editor uses cannot drift from what `tug validate` accepts.
//!
//! Every type the loader decodes implements [`Schema`]: the primitives and unions here, and
//! every `manifest_struct!` through the macro. The schema accepts what the decoder accepts:
//! quoted numbers, YAML 1.1 booleans for boolean keys, every union form, `${VAR}` references
//! where a value is interpolated, and `null` ("inherit") for any key. It cannot see quoting
//! (a quoted `"yes"` is text to the loader but looks like a plain `yes` in JSON), so it is
//! at most a little more lenient than the loader, never stricter.
//!
//! A field type without a [`Schema`] impl still compiles (see [`Probe`]) but produces a
//! marker that `tests/schema.rs` rejects, so a key added to the model with a new type is
//! caught by the tests, not by a broken build.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use serde_json::{Value, json};

use crate::manifest::decode::Located;
use crate::manifest::duration::Duration;
use crate::manifest::model::environment::EnvironmentManifest;
use crate::manifest::model::service::RangeText;
use crate::manifest::model::workload::{WorkloadKind, WorkloadManifest};
use crate::manifest::union::{BoolOr, Command, ListOr, OneOrMany, ScalarOr};
use crate::manifest::workspace::WorkspaceFile;

/// The JSON Schema dialect of every generated document.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The key under which a type without a schema is reported.
pub const MISSING_MARKER: &str = "x-tug-missing-schema";

/// What `${VAR}` looks like: the loader replaces it before decoding, so any value may be one.
const INTERPOLATED: &str = r"\$\{[_a-zA-Z][_a-zA-Z0-9]*\}";

/// Collects the named definitions (`$defs`) while schemas are generated.
#[derive(Debug, Default)]
pub struct SchemaGen {
    defs: BTreeMap<String, Value>,
    /// Full Rust type name of each definition, to tell apart two structs with the same name.
    owners: BTreeMap<String, &'static str>,
}

/// A manifest type with a JSON Schema.
pub trait Schema {
    /// The schema of a value of this type (often a `$ref` into the generator's definitions).
    fn schema(g: &mut SchemaGen) -> Value;

    /// Whether an empty entry (`name:` with nothing after it) in a user-keyed mapping is
    /// accepted: it is for mappings, which decode it as an empty one.
    const EMPTY_IN_MAP: bool = false;
}

impl SchemaGen {
    pub fn new() -> Self {
        SchemaGen::default()
    }

    /// `{"$ref"}` to the definition `name` of type `owner`, built by `build` the first time.
    /// The placeholder inserted first lets recursive types (`additional_rules`) refer to
    /// themselves.
    pub fn define(
        &mut self,
        name: &str,
        owner: &'static str,
        build: impl FnOnce(&mut SchemaGen) -> Value,
    ) -> Value {
        let mut key = name.to_string();
        let mut n = 2;
        while let Some(existing) = self.owners.get(&key) {
            if *existing == owner {
                return reference(&key);
            }
            key = format!("{name}{n}");
            n += 1;
        }
        self.owners.insert(key.clone(), owner);
        self.defs.insert(key.clone(), Value::Null);
        let schema = build(self);
        self.defs.insert(key.clone(), schema);
        reference(&key)
    }

    /// The schema of a mapping with the given keys, and nothing else.
    pub fn object(&mut self, properties: Vec<(&str, Value)>) -> Value {
        let props: serde_json::Map<String, Value> = properties
            .into_iter()
            .map(|(k, v)| (k.to_string(), nullable(v)))
            .collect();
        json!({ "type": "object", "properties": props, "additionalProperties": false })
    }

    /// The schema of a `${VAR}` reference, standing for a value the loader interpolates.
    pub fn interpolated(&mut self) -> Value {
        self.define("interpolated", "interpolated", |_| {
            json!({
                "type": "string",
                "pattern": INTERPOLATED,
                "description": "a ${VAR} reference, replaced before the manifest is read"
            })
        })
    }

    /// The schema of a type without a [`Schema`] impl: a marker the tests reject.
    pub fn missing<T: ?Sized>(&mut self) -> Value {
        json!({ MISSING_MARKER: std::any::type_name::<T>() })
    }

    /// The definitions generated so far.
    pub fn defs(&self) -> &BTreeMap<String, Value> {
        &self.defs
    }
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/$defs/{name}") })
}

/// A key's value may also be `null` (written as `key:` or `key: ~`): "not set".
fn nullable(schema: Value) -> Value {
    json!({ "anyOf": [schema, { "type": "null" }] })
}

fn any_of(options: Vec<Value>) -> Value {
    json!({ "anyOf": options })
}

/// Picks the [`Schema`] impl of `T` when there is one, else the marker (autoref
/// specialisation: `(&&Probe::<T>::new()).probe(g)` resolves to [`ViaSchema`] first).
pub struct Probe<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> Probe<T> {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Probe(PhantomData)
    }
}

pub trait ViaSchema {
    fn probe(&self, g: &mut SchemaGen) -> Value;
}

impl<T: Schema + ?Sized> ViaSchema for &Probe<T> {
    fn probe(&self, g: &mut SchemaGen) -> Value {
        T::schema(g)
    }
}

pub trait ViaFallback {
    fn probe(&self, g: &mut SchemaGen) -> Value;
}

impl<T: ?Sized> ViaFallback for Probe<T> {
    fn probe(&self, g: &mut SchemaGen) -> Value {
        g.missing::<T>()
    }
}

/// The schema of the field type `$ty`, for `manifest_struct!`.
#[macro_export]
macro_rules! schema_of {
    ($g:expr, $ty:ty) => {{
        #[allow(unused_imports)]
        use $crate::manifest::schema::{ViaFallback as _, ViaSchema as _};
        (&&$crate::manifest::schema::Probe::<$ty>::new()).probe($g)
    }};
}

impl<T: Schema> Schema for Located<T> {
    fn schema(g: &mut SchemaGen) -> Value {
        T::schema(g)
    }
    const EMPTY_IN_MAP: bool = T::EMPTY_IN_MAP;
}

impl Schema for String {
    /// Any scalar is text to the loader (`tag: 123` is "123").
    fn schema(_g: &mut SchemaGen) -> Value {
        json!({ "type": ["string", "number", "boolean"] })
    }
}

/// Spellings of true and false the loader accepts for a boolean key.
const BOOL_WORDS: [&str; 22] = [
    "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "on", "On", "ON", "y",
    "Y", "no", "No", "NO", "off", "Off", "OFF", "n", "N",
];

impl Schema for bool {
    fn schema(g: &mut SchemaGen) -> Value {
        g.define("boolean", "bool", |g| {
            any_of(vec![
                json!({ "type": "boolean" }),
                json!({ "enum": BOOL_WORDS }),
                g.interpolated(),
            ])
        })
    }
}

macro_rules! int_schema {
    ($($t:ty),*) => {$(
        impl Schema for $t {
            /// A number, or a quoted number (`"80"`, `"1_000"`), in the type's range.
            fn schema(g: &mut SchemaGen) -> Value {
                let min = <$t>::MIN;
                let max = <$t>::MAX;
                let name = stringify!($t);
                g.define(name, name, |g| any_of(vec![
                    json!({ "type": "integer", "minimum": min, "maximum": max }),
                    json!({ "type": "string", "pattern": r"^\s*[+-]?[0-9_]*[0-9][0-9_]*\s*$" }),
                    g.interpolated(),
                ]))
            }
        }
    )*};
}
int_schema!(u8, u16, u32, u64, i64);

impl Schema for f64 {
    fn schema(g: &mut SchemaGen) -> Value {
        g.define("number", "f64", |g| {
            any_of(vec![
                json!({ "type": "number" }),
                json!({ "type": "string", "pattern": r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$" }),
                g.interpolated(),
            ])
        })
    }
}

impl Schema for Duration {
    /// Go-style durations: `30s`, `1m30s`, `1.5h`, `250ms`, or `0`.
    fn schema(g: &mut SchemaGen) -> Value {
        g.define("duration", "Duration", |g| {
            any_of(vec![
                json!({
                    "type": "string",
                    "pattern": r"^\s*(0|([0-9]+\.?[0-9]*(h|m|s|ms|us|µs|ns))+)\s*$",
                    "description": "a duration such as 30s, 5m or 1h30m"
                }),
                json!({ "const": 0 }),
                g.interpolated(),
            ])
        })
    }
}

impl Schema for RangeText {
    fn schema(g: &mut SchemaGen) -> Value {
        any_of(vec![
            json!({ "type": "string", "pattern": r"^\s*[0-9]+\s*-\s*[0-9]+\s*$" }),
            g.interpolated(),
        ])
    }
}

impl Schema for serde_json::Value {
    /// Passed through as written (for example a `taskdef_overrides` value).
    fn schema(_g: &mut SchemaGen) -> Value {
        json!(true)
    }
}

impl<T: Schema> Schema for Vec<T> {
    /// A list, or a `${VAR}` whose value is a JSON list of strings.
    fn schema(g: &mut SchemaGen) -> Value {
        let items = T::schema(g);
        any_of(vec![
            json!({ "type": "array", "items": items }),
            g.interpolated(),
        ])
    }
}

impl<T: Schema> Schema for indexmap::IndexMap<Located<String>, Located<T>> {
    fn schema(g: &mut SchemaGen) -> Value {
        let mut value = T::schema(g);
        if T::EMPTY_IN_MAP {
            value = nullable(value);
        }
        json!({ "type": "object", "additionalProperties": value })
    }
}

impl<T: Schema> Schema for BoolOr<T> {
    fn schema(g: &mut SchemaGen) -> Value {
        any_of(vec![bool::schema(g), T::schema(g)])
    }
}

impl<S: Schema, T: Schema> Schema for ScalarOr<S, T> {
    fn schema(g: &mut SchemaGen) -> Value {
        any_of(vec![S::schema(g), T::schema(g)])
    }
}

impl<T: Schema> Schema for OneOrMany<T> {
    fn schema(g: &mut SchemaGen) -> Value {
        let one = T::schema(g);
        any_of(vec![one.clone(), json!({ "type": "array", "items": one })])
    }
}

impl<L: Schema, T: Schema> Schema for ListOr<L, T> {
    fn schema(g: &mut SchemaGen) -> Value {
        any_of(vec![Vec::<L>::schema(g), T::schema(g)])
    }
}

impl Schema for Command {
    /// A command line (split like a shell would) or a list of arguments.
    fn schema(g: &mut SchemaGen) -> Value {
        let word = String::schema(g);
        any_of(vec![
            word.clone(),
            json!({ "type": "array", "items": word }),
        ])
    }
}

/// A manifest type `tug schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestType {
    Workload(WorkloadKind),
    Environment,
    /// The `.workspace` file.
    Workspace,
}

impl ManifestType {
    /// Every type, in the order `tug schema --output-dir` writes them.
    pub const ALL: [ManifestType; 6] = [
        ManifestType::Workload(WorkloadKind::LoadBalancedWebService),
        ManifestType::Workload(WorkloadKind::BackendService),
        ManifestType::Workload(WorkloadKind::WorkerService),
        ManifestType::Workload(WorkloadKind::ScheduledJob),
        ManifestType::Environment,
        ManifestType::Workspace,
    ];

    /// The `type:` value of the manifest (the workspace file has none).
    pub fn title(self) -> &'static str {
        match self {
            ManifestType::Workload(k) => k.as_str(),
            ManifestType::Environment => "Environment",
            ManifestType::Workspace => "Workspace",
        }
    }

    /// The file-name form: `load-balanced-web-service`.
    pub fn slug(self) -> String {
        self.title().to_ascii_lowercase().replace(' ', "-")
    }

    /// Parses a type as written in a manifest or as its slug, in any case.
    pub fn parse(text: &str) -> Option<ManifestType> {
        let wanted = text.trim().to_ascii_lowercase().replace(['-', '_'], " ");
        ManifestType::ALL
            .into_iter()
            .find(|t| t.title().to_ascii_lowercase() == wanted)
    }

    fn def_name(self) -> String {
        self.title().replace(' ', "")
    }
}

/// Keys that an environment override may not hold.
const NOT_IN_OVERRIDES: [&str; 3] = ["name", "type", "environments"];

/// Registers the top-level definition of `ty` and returns its name.
fn define_top(g: &mut SchemaGen, ty: ManifestType) -> String {
    let name = ty.def_name();
    match ty {
        ManifestType::Workload(kind) => {
            let all = WorkloadManifest::schema(g);
            let all = resolve(g, &all);
            let props = all["properties"].as_object().cloned().unwrap_or_default();
            let keys = kind.keys();
            let pick = |skip: &[&str]| -> serde_json::Map<String, Value> {
                props
                    .iter()
                    .filter(|(k, _)| keys.contains(&k.as_str()) && !skip.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            };
            let override_name = format!("{name}Override");
            let overrides = pick(&NOT_IN_OVERRIDES);
            g.defs.insert(
                override_name.clone(),
                json!({
                    "type": "object",
                    "description": format!("settings of a {kind} for one environment, over the manifest's own"),
                    "properties": overrides,
                    "additionalProperties": false
                }),
            );
            let mut top = pick(&[]);
            top.insert("type".into(), json!({ "const": kind.as_str() }));
            if top.contains_key("environments") {
                top.insert(
                    "environments".into(),
                    nullable(json!({
                        "type": "object",
                        "additionalProperties": nullable(reference(&override_name))
                    })),
                );
            }
            g.defs.insert(
                name.clone(),
                json!({
                    "type": "object",
                    "title": format!("tug manifest: {kind}"),
                    "required": ["name", "type"],
                    "properties": top,
                    "additionalProperties": false
                }),
            );
        }
        ManifestType::Environment => {
            let env = EnvironmentManifest::schema(g);
            let mut env = resolve(g, &env);
            env["properties"]["type"] = json!({ "const": "Environment" });
            env["title"] = json!("tug manifest: Environment");
            env["required"] = json!(["name", "type"]);
            g.defs.insert(name.clone(), env);
        }
        ManifestType::Workspace => {
            let ws = WorkspaceFile::schema(g);
            let mut ws = resolve(g, &ws);
            ws["title"] = json!("tug workspace file (.workspace)");
            ws["required"] = json!(["application"]);
            g.defs.insert(name.clone(), ws);
        }
    }
    name
}

/// The definition a `$ref` points to.
fn resolve(g: &SchemaGen, schema: &Value) -> Value {
    schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| g.defs.get(name))
        .cloned()
        .unwrap_or_else(|| schema.clone())
}

/// The manifest reference, whose descriptions the schemas carry for editors to show.
const REFERENCE: &str = include_str!("../../docs/manifest-reference.md");

/// The reference's description of every key of `ty`: the meaning column, with the default.
fn descriptions(ty: ManifestType) -> BTreeMap<String, String> {
    let wanted = match ty {
        ManifestType::Workspace => "## The workspace file",
        ManifestType::Environment => "## Environment manifests",
        ManifestType::Workload(_) => "## Workload manifests",
    };
    let mut out = BTreeMap::new();
    let mut in_section = false;
    for line in REFERENCE.lines() {
        if line.starts_with("## ") {
            in_section = line == wanted;
            continue;
        }
        if !in_section || !line.starts_with("| `") {
            continue;
        }
        // `| keys | [types |] default | meaning |`, with `\|` inside cells.
        let cells: Vec<String> = line
            .replace("\\|", "\u{1}")
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().replace('\u{1}', "|"))
            .collect();
        let (Some(keys), Some(meaning)) = (cells.first(), cells.last()) else {
            continue;
        };
        let default = &cells[cells.len().saturating_sub(2)];
        let mut text = meaning.replace('`', "");
        let default = default.replace('`', "");
        if default.contains("required") {
            let mut chars = default.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or(' ');
            text.push_str(&format!(" {first}{}.", chars.as_str()));
        } else if !default.is_empty() && cells.len() > 2 {
            text.push_str(&format!(" Default: {default}."));
        }
        for key in keys.split('`').skip(1).step_by(2) {
            out.entry(key.to_string()).or_insert_with(|| text.clone());
        }
    }
    out
}

/// Adds the reference's descriptions to the properties reachable from the definition `root`.
/// A definition shared by several keys (a health check) gets the first key's description.
fn describe(g: &mut SchemaGen, root: &str, ty: ManifestType) {
    let docs = descriptions(ty);
    let mut found = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    // Breadth first, so a shared definition is described at its shortest path
    // (`image.healthcheck`, not `sidecars.<name>.healthcheck`).
    let mut todo = std::collections::VecDeque::from([(root.to_string(), String::new())]);
    while let Some((def, prefix)) = todo.pop_front() {
        if !seen.insert(def.clone()) {
            continue;
        }
        let Some(schema) = g.defs.get(&def) else {
            continue;
        };
        let mut refs = Vec::new();
        if let Some(props) = schema["properties"].as_object() {
            for (key, value) in props {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                // An override's keys are the manifest's own.
                let doc_path = path.strip_prefix("environments.<name>.").unwrap_or(&path);
                if let Some(text) = docs.get(doc_path) {
                    found.push((def.clone(), key.clone(), text.clone()));
                }
                nested_refs(value, &path, &mut refs);
            }
        }
        todo.extend(refs);
    }
    for (def, key, text) in found {
        if let Some(prop) = g
            .defs
            .get_mut(&def)
            .and_then(|d| d["properties"].get_mut(&key))
            && prop.get("description").is_none()
        {
            prop["description"] = Value::String(text);
        }
    }
}

/// The definitions `schema` refers to, with the key path each stands at (`[]` for list items,
/// `<name>` for user-chosen keys).
fn nested_refs(schema: &Value, path: &str, out: &mut Vec<(String, String)>) {
    if let Some(r) = schema["$ref"].as_str() {
        out.push((
            r.trim_start_matches("#/$defs/").to_string(),
            path.to_string(),
        ));
    }
    for key in ["anyOf", "allOf", "oneOf"] {
        for item in schema[key].as_array().into_iter().flatten() {
            nested_refs(item, path, out);
        }
    }
    if let Some(items) = schema.get("items") {
        nested_refs(items, &format!("{path}[]"), out);
    }
    if let Some(extra) = schema.get("additionalProperties")
        && extra.is_object()
    {
        nested_refs(extra, &format!("{path}.<name>"), out);
    }
}

/// Wraps the definition `root` as a document holding only the definitions it uses.
fn document(g: &SchemaGen, root: &str, title: &str, extra: Value) -> Value {
    let mut used = std::collections::BTreeSet::new();
    let mut todo = vec![root.to_string()];
    if let Some(extra_refs) = extra.as_object() {
        collect_refs(&Value::Object(extra_refs.clone()), &mut todo);
    }
    while let Some(name) = todo.pop() {
        if used.insert(name.clone())
            && let Some(def) = g.defs.get(&name)
        {
            collect_refs(def, &mut todo);
        }
    }
    let defs: serde_json::Map<String, Value> = used
        .into_iter()
        .filter_map(|n| g.defs.get(&n).map(|d| (n, d.clone())))
        .collect();
    let mut doc = json!({
        "$schema": DIALECT,
        "title": title,
    });
    if let Some(obj) = extra.as_object() {
        for (k, v) in obj {
            doc[k] = v.clone();
        }
    }
    if extra.get("allOf").is_none() {
        doc["$ref"] = reference(root)["$ref"].clone();
    }
    doc["$defs"] = Value::Object(defs);
    doc
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                out.push(name.to_string());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The JSON Schema document of one manifest type.
pub fn schema_for(ty: ManifestType) -> Value {
    let mut g = SchemaGen::new();
    let root = define_top(&mut g, ty);
    describe(&mut g, &root, ty);
    let title = match ty {
        ManifestType::Workspace => "tug workspace file (.workspace)".to_string(),
        _ => format!("tug manifest: {}", ty.title()),
    };
    document(&g, &root, &title, json!({}))
}

/// One schema for any manifest: picks the type's schema by the `type` key.
pub fn any_manifest_schema() -> Value {
    let mut g = SchemaGen::new();
    let mut branches = Vec::new();
    let mut types = Vec::new();
    for ty in ManifestType::ALL {
        if ty == ManifestType::Workspace {
            continue;
        }
        let root = define_top(&mut g, ty);
        describe(&mut g, &root, ty);
        types.push(ty.title());
        branches.push(json!({
            "if": { "properties": { "type": { "const": ty.title() } }, "required": ["type"] },
            "then": reference(&root)
        }));
    }
    let mut used = Vec::new();
    collect_refs(&Value::Array(branches.clone()), &mut used);
    let root = used.first().cloned().unwrap_or_default();
    document(
        &g,
        &root,
        "tug manifest (any type)",
        json!({
            "type": "object",
            "required": ["type"],
            "properties": { "type": { "enum": types } },
            "allOf": branches
        }),
    )
}

/// Every key path the schema of `ty` knows, such as `http.healthcheck.interval`, with list
/// items written `[]` and user-chosen names `<name>` (for the reference's completeness test).
/// A type nested in itself (`http.additional_rules[]`) is not expanded again.
pub fn key_paths(ty: ManifestType) -> Vec<String> {
    let doc = schema_for(ty);
    let defs = doc["$defs"].clone();
    let mut out = Vec::new();
    walk_paths(&doc, &defs, "", &mut out, &mut Vec::new());
    out.sort();
    out.dedup();
    // "One or a list" is described once, in its list form: `alias[].name`, not `alias.name`.
    let listed: Vec<String> = out.iter().filter(|p| p.contains("[]")).cloned().collect();
    out.retain(|p| {
        !p.contains('.')
            || !listed.iter().any(|l| {
                l.replacen("[]", "", 1) == *p && !l.ends_with("[]") && l.matches("[]").count() == 1
            })
    });
    out
}

fn walk_paths(
    schema: &Value,
    defs: &Value,
    prefix: &str,
    out: &mut Vec<String>,
    ancestors: &mut Vec<String>,
) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/$defs/").to_string();
        if !ancestors.contains(&name) {
            ancestors.push(name.clone());
            walk_paths(&defs[&name], defs, prefix, out, ancestors);
            ancestors.pop();
        }
        return;
    }
    for key in ["anyOf", "allOf", "oneOf"] {
        if let Some(items) = schema[key].as_array() {
            for item in items {
                walk_paths(item, defs, prefix, out, ancestors);
            }
        }
    }
    if let Some(items) = schema.get("items") {
        walk_paths(items, defs, &format!("{prefix}[]"), out, ancestors);
    }
    if let Some(props) = schema["properties"].as_object() {
        for (k, v) in props {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            out.push(path.clone());
            walk_paths(v, defs, &path, out, ancestors);
        }
    }
    if let Some(extra) = schema.get("additionalProperties")
        && extra.is_object()
    {
        let path = if prefix.is_empty() {
            "<name>".to_string()
        } else {
            format!("{prefix}.<name>")
        };
        walk_paths(extra, defs, &path, out, ancestors);
    }
}

#[cfg(test)]
mod tests {
    // Test models from `manifest_struct!`, which makes them `pub` as the real models are.
    #![allow(unreachable_pub)]

    use super::*;

    #[test]
    fn every_type_has_a_schema_without_missing_parts() {
        for ty in ManifestType::ALL {
            let text = schema_for(ty).to_string();
            assert!(!text.contains(MISSING_MARKER), "{}: {text}", ty.title());
        }
        assert!(!any_manifest_schema().to_string().contains(MISSING_MARKER));
    }

    #[test]
    fn keys_carry_the_references_descriptions() {
        let doc = schema_for(ManifestType::Workload(WorkloadKind::LoadBalancedWebService));
        let top = &doc["$defs"]["LoadBalancedWebService"]["properties"];
        let cpu = top["cpu"]["description"].as_str().unwrap_or_default();
        assert!(
            cpu.starts_with("Task CPU units.") && cpu.contains("Default: 256"),
            "{cpu}"
        );
        let interval = &doc["$defs"]["TargetHealthCheck"]["properties"]["interval"];
        assert_eq!(
            interval["description"],
            "Time between checks. Default: 30s."
        );
        let env = schema_for(ManifestType::Environment);
        let cidr = &env["$defs"]["EnvVpc"]["properties"]["cidr"]["description"];
        assert!(
            cidr.as_str().unwrap_or_default().contains("10.0.0.0/16"),
            "{cidr}"
        );
    }

    /// A field type someone adds without a schema still compiles, and is reported.
    #[derive(Debug, Clone, PartialEq, Default)]
    pub(crate) struct Opaque;

    impl crate::manifest::decode::Decode for Opaque {
        fn decode(
            _node: &crate::manifest::yaml::Node,
            _cx: &mut crate::manifest::decode::DecodeCx,
        ) -> Option<Self> {
            Some(Opaque)
        }
    }

    impl crate::manifest::merge::Merge for Opaque {}

    crate::manifest_struct! {
        pub struct WithOpaque {
            known: u16 = "known",
            opaque: Opaque = "opaque",
        }
    }

    #[test]
    fn a_type_without_a_schema_is_marked_not_a_build_error() {
        let mut g = SchemaGen::new();
        WithOpaque::schema(&mut g);
        let text = serde_json::to_string(g.defs()).unwrap_or_default();
        assert!(
            text.contains(MISSING_MARKER) && text.contains("Opaque"),
            "{text}"
        );
        assert!(g.defs().contains_key("u16"), "{text}");
    }

    #[test]
    fn types_parse_by_title_and_slug() {
        assert_eq!(
            ManifestType::parse("load-balanced-web-service"),
            Some(ManifestType::Workload(WorkloadKind::LoadBalancedWebService))
        );
        assert_eq!(
            ManifestType::parse("Scheduled Job"),
            Some(ManifestType::Workload(WorkloadKind::ScheduledJob))
        );
        assert_eq!(
            ManifestType::parse("environment"),
            Some(ManifestType::Environment)
        );
        assert_eq!(ManifestType::parse("Static Site"), None);
    }

    #[test]
    fn key_paths_follow_the_model() {
        let paths = key_paths(ManifestType::Workload(WorkloadKind::LoadBalancedWebService));
        for p in [
            "http.healthcheck.interval",
            "http.additional_rules",
            "sidecars.<name>.image.build.dockerfile",
            "environments.<name>.count.range.min",
        ] {
            assert!(paths.iter().any(|x| x == p), "{p} missing from {paths:?}");
        }
        assert!(!paths.iter().any(|p| p.starts_with("subscribe")));
    }
}
