//! Reading and rewriting CloudFormation templates as data, for adoption: a template in JSON,
//! or in YAML with CloudFormation's short-form tags (`!Ref`, `!Sub`, `!GetAtt`...) as AWS
//! Copilot writes them, becomes one JSON value in the long form (`{"Ref": ...}`,
//! `{"Fn::Sub": ...}`). Also: evaluating what can be known without AWS (a `Ref` to a
//! parameter, a `Fn::Sub` or `Fn::Join` of known strings) and finding what a value refers to.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::manifest::addons;
use crate::manifest::source::SourceId;
use crate::manifest::yaml::parse_cloudformation;

/// Parses a template; `Err` says why it could not be read. YAML goes through the manifest
/// reader's CloudFormation mode, which turns the short forms into the long ones.
pub fn parse(text: &str) -> Result<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    let node = parse_cloudformation(SourceId(0), text).map_err(|e| {
        Error::failure(format!(
            "not a readable template (line {}, column {}): {}",
            e.span.line, e.span.col, e.message
        ))
    })?;
    Ok(addons::to_json(&node))
}

fn single(key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_string(), value);
    Value::Object(m)
}

/// What is known without AWS: parameter values and the stack's name.
pub struct Known<'a> {
    pub parameters: &'a BTreeMap<String, String>,
    pub stack_name: &'a str,
}

/// `value` with every `Ref` to a known parameter replaced by its value and every `Fn::Sub`,
/// `Fn::Join` and `Fn::Select` of known strings computed. What depends on AWS (a resource, an
/// import, an Availability Zone) stays as written.
pub fn evaluate(value: &Value, known: &Known) -> Value {
    match value {
        Value::Array(a) => Value::Array(a.iter().map(|v| evaluate(v, known)).collect()),
        Value::Object(o) if o.len() == 1 => {
            let (k, v) = o.iter().next().expect("one entry");
            match (k.as_str(), v) {
                ("Ref", Value::String(name)) => match parameter(name, known) {
                    Some(p) => Value::String(p),
                    None => value.clone(),
                },
                ("Fn::Sub", Value::String(s)) => substitute(s, &BTreeMap::new(), known)
                    .map_or_else(
                        || single("Fn::Sub", Value::String(s.clone())),
                        Value::String,
                    ),
                ("Fn::Sub", Value::Array(parts)) if parts.len() == 2 => {
                    let vars: BTreeMap<String, Value> = parts[1]
                        .as_object()
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| (k.clone(), evaluate(v, known)))
                                .collect()
                        })
                        .unwrap_or_default();
                    match parts[0].as_str().and_then(|s| substitute(s, &vars, known)) {
                        Some(s) => Value::String(s),
                        None => single(
                            "Fn::Sub",
                            Value::Array(vec![
                                parts[0].clone(),
                                Value::Object(vars.into_iter().collect()),
                            ]),
                        ),
                    }
                }
                ("Fn::Join", Value::Array(parts)) if parts.len() == 2 => {
                    let list = evaluate(&parts[1], known);
                    let strings: Option<Vec<String>> = list
                        .as_array()
                        .map(|items| items.iter().map(literal).collect())
                        .unwrap_or(None);
                    match (parts[0].as_str(), strings) {
                        (Some(sep), Some(s)) => Value::String(s.join(sep)),
                        _ => single("Fn::Join", Value::Array(vec![parts[0].clone(), list])),
                    }
                }
                (key, inner) => single(key, evaluate(inner, known)),
            }
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), evaluate(v, known)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn literal(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parameter(name: &str, known: &Known) -> Option<String> {
    if name == "AWS::StackName" {
        return Some(known.stack_name.to_string());
    }
    known.parameters.get(name).cloned()
}

/// A `Fn::Sub` string with every `${X}` known; `None` when one is not.
fn substitute(s: &str, vars: &BTreeMap<String, Value>, known: &Known) -> Option<String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        // `${!Literal}` is a literal `${Literal}`.
        if let Some(lit) = after.strip_prefix('!') {
            let end = lit.find('}')?;
            out.push_str("${");
            out.push_str(&lit[..=end]);
            rest = &lit[end + 1..];
            continue;
        }
        let end = after.find('}')?;
        let name = &after[..end];
        let value = match vars.get(name) {
            Some(v) => literal(v)?,
            None => parameter(name, known)?,
        };
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Whether condition `name` of `template` holds, from what is known; `None` when it depends
/// on something only AWS knows.
pub fn condition(template: &Value, name: &str, known: &Known) -> Option<bool> {
    let def = template.get("Conditions")?.get(name)?;
    holds(template, def, known, 0)
}

fn holds(template: &Value, v: &Value, known: &Known, depth: usize) -> Option<bool> {
    if depth > 20 {
        return None;
    }
    let o = v.as_object().filter(|o| o.len() == 1)?;
    let (k, args) = o.iter().next()?;
    let list = |args: &Value| -> Option<Vec<bool>> {
        args.as_array()?
            .iter()
            .map(|a| holds(template, a, known, depth + 1))
            .collect()
    };
    match k.as_str() {
        "Condition" => {
            let def = template.get("Conditions")?.get(args.as_str()?)?;
            holds(template, def, known, depth + 1)
        }
        "Fn::Not" => list(args)?.first().map(|b| !b),
        "Fn::And" => Some(list(args)?.iter().all(|b| *b)),
        "Fn::Or" => Some(list(args)?.iter().any(|b| *b)),
        "Fn::Equals" => {
            let a = args.as_array().filter(|a| a.len() == 2)?;
            let (x, y) = (evaluate(&a[0], known), evaluate(&a[1], known));
            Some(literal(&x)? == literal(&y)?)
        }
        _ => None,
    }
}

/// The logical ids and parameters a value refers to: `Ref`, `Fn::GetAtt`, `${X}` and
/// `${X.Attr}` in `Fn::Sub`. Pseudo parameters (`AWS::...`) are left out.
pub fn references(value: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    collect(value, &mut out);
    out.retain(|r| !r.starts_with("AWS::"));
    out
}

fn collect(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Array(a) => a.iter().for_each(|v| collect(v, out)),
        Value::Object(o) => {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("Ref", Value::String(s)) => {
                        out.insert(s.clone());
                    }
                    ("Fn::GetAtt", Value::Array(a)) => {
                        if let Some(s) = a.first().and_then(Value::as_str) {
                            out.insert(s.to_string());
                        }
                    }
                    ("Fn::GetAtt", Value::String(s)) => {
                        out.insert(s.split('.').next().unwrap_or(s).to_string());
                    }
                    ("Fn::Sub", Value::String(s)) => sub_names(s, &BTreeMap::new(), out),
                    ("Fn::Sub", Value::Array(parts)) if parts.len() == 2 => {
                        let vars = parts[1].as_object().cloned().unwrap_or_default();
                        if let Some(s) = parts[0].as_str() {
                            sub_names(s, &vars.clone().into_iter().collect(), out);
                        }
                        collect(&parts[1], out);
                    }
                    _ => collect(v, out),
                }
            }
        }
        _ => {}
    }
}

fn sub_names(s: &str, vars: &BTreeMap<String, Value>, out: &mut BTreeSet<String>) {
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { return };
        let name = &after[..end];
        if !name.starts_with('!') && !vars.contains_key(name) {
            out.insert(name.split('.').next().unwrap_or(name).to_string());
        }
        rest = &after[end + 1..];
    }
}

/// `value` with every reference to logical id `from` renamed to `to`.
pub fn rename(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::Array(a) => a.iter_mut().for_each(|v| rename(v, from, to)),
        Value::Object(o) => {
            for (k, v) in o.iter_mut() {
                match (k.as_str(), &mut *v) {
                    ("Ref", Value::String(s)) if s == from => *s = to.to_string(),
                    ("Fn::GetAtt", Value::Array(a)) => {
                        if a.first().and_then(Value::as_str) == Some(from) {
                            a[0] = Value::String(to.to_string());
                        }
                    }
                    ("Fn::GetAtt", Value::String(s)) => {
                        if let Some(attr) = s.strip_prefix(&format!("{from}.")) {
                            *s = format!("{to}.{attr}");
                        }
                    }
                    ("Fn::Sub", Value::String(s)) => {
                        *s = s
                            .replace(&format!("${{{from}}}"), &format!("${{{to}}}"))
                            .replace(&format!("${{{from}."), &format!("${{{to}."));
                    }
                    ("DependsOn", Value::String(s)) if s == from => *s = to.to_string(),
                    ("DependsOn", Value::Array(a)) => {
                        for d in a.iter_mut() {
                            if d.as_str() == Some(from) {
                                *d = Value::String(to.to_string());
                            }
                        }
                    }
                    _ => rename(v, from, to),
                }
            }
        }
        _ => {}
    }
}

/// The value at a `/`-separated property path of a resource's `Properties`.
pub fn at<'a>(properties: Option<&'a Value>, path: &str) -> Option<&'a Value> {
    path.split('/').try_fold(properties?, |v, key| v.get(key))
}

/// Sets (or, with `None`, removes) the value at a `/`-separated path of `properties`.
pub fn set_at(properties: &mut Value, path: &str, value: Option<Value>) {
    let keys: Vec<&str> = path.split('/').collect();
    let mut node = properties;
    for key in &keys[..keys.len() - 1] {
        if !node.is_object() {
            return;
        }
        let obj = node.as_object_mut().expect("an object");
        if !obj.contains_key(*key) {
            if value.is_none() {
                return;
            }
            obj.insert((*key).to_string(), Value::Object(Map::new()));
        }
        node = obj.get_mut(*key).expect("just inserted");
    }
    let Some(obj) = node.as_object_mut() else {
        return;
    };
    let last = keys[keys.len() - 1];
    match value {
        Some(v) => {
            obj.insert(last.to_string(), v);
        }
        None => {
            obj.remove(last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_form_tags_become_the_long_form() {
        let t = parse(
            "Resources:\n  G:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: !Join ['', [/copilot/, !Ref AppName, '-', !Ref EnvName]]\n      Arn: !GetAtt Role.Arn\n      Id:\n        Fn::ImportValue: !Sub '${AppName}-${EnvName}-VpcId'\n",
        )
        .unwrap();
        let p = &t["Resources"]["G"]["Properties"];
        assert_eq!(
            p["LogGroupName"],
            json!({"Fn::Join": ["", ["/copilot/", {"Ref": "AppName"}, "-", {"Ref": "EnvName"}]]})
        );
        assert_eq!(p["Arn"], json!({"Fn::GetAtt": ["Role", "Arn"]}));
        let params: BTreeMap<String, String> = [("AppName", "demo"), ("EnvName", "test")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let known = Known {
            parameters: &params,
            stack_name: "demo-test-web",
        };
        assert_eq!(
            evaluate(&p["LogGroupName"], &known),
            json!("/copilot/demo-test")
        );
        assert_eq!(
            evaluate(&p["Id"], &known),
            json!({"Fn::ImportValue": "demo-test-VpcId"})
        );
        assert_eq!(
            references(&t),
            ["AppName", "EnvName", "Role"]
                .into_iter()
                .map(String::from)
                .collect()
        );
    }

    #[test]
    fn renames_reach_every_form_of_reference() {
        let mut v = json!({"A": {"Ref": "Old"}, "B": {"Fn::GetAtt": ["Old", "GroupId"]},
            "C": {"Fn::Sub": "${Old}-${Old.Arn}"}, "DependsOn": ["Old", "Other"]});
        rename(&mut v, "Old", "New");
        assert_eq!(
            v,
            json!({"A": {"Ref": "New"}, "B": {"Fn::GetAtt": ["New", "GroupId"]},
                "C": {"Fn::Sub": "${New}-${New.Arn}"}, "DependsOn": ["New", "Other"]})
        );
    }
}
