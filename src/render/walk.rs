//! The renderer of tug's templates: walks a prebuilt template (build.rs, `prebuilt`) over a
//! view model and writes the text, with the handlebars semantics tug's templates use and
//! nothing more: `{{#if}}`, `{{#unless}}`, `{{#each}}`, `{{#with}}` (each with `{{else}}`),
//! `{{json value}}`, `{{path}}`, `this`, `@root`, `@index` and `@key`. Anything else in a
//! template is refused when the template is first lowered, so every render test catches it.
//!
//! Why not handlebars itself (issue 17): it resolves every path by building a vector of
//! strings from the root and walking it again, creates a helper value (with its parameters
//! copied) for every `{{json}}` and `{{#if}}`, and writes through a trait object: that was
//! most of a render's instructions. Here a template is lowered once per process into
//! [`Node`]s whose paths are resolved against references into the view model.
//!
//! Strict mode is kept as handlebars had it: a missing value written with `{{path}}`, a
//! missing or falsy `{{#with}}` or `{{#each}}` value without `{{else}}` is an error; a
//! missing value is false for `{{#if}}` and `null` for `{{json}}`.

use handlebars::template::{HelperTemplate, Parameter, Template, TemplateElement};
use handlebars::{Path, PathSeg};
use serde_json::Value;

/// One piece of a lowered template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// Text written as it is.
    Text(String),
    /// `{{path}}`: the value as handlebars writes it (strings without quotes).
    Value(Lookup),
    /// `{{json path}}`: the value as compact JSON.
    Json(Lookup),
    /// `{{#if}}` (`positive`) or `{{#unless}}`.
    If {
        test: Lookup,
        positive: bool,
        then: Vec<Node>,
        otherwise: Vec<Node>,
    },
    /// `{{#each}}` over a list or a mapping.
    Each {
        items: Lookup,
        body: Vec<Node>,
        otherwise: Option<Vec<Node>>,
    },
    /// `{{#with}}`: the body with the value as its scope.
    With {
        value: Lookup,
        body: Vec<Node>,
        otherwise: Option<Vec<Node>>,
    },
}

/// Where a value is found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lookup {
    from: Start,
    names: Vec<String>,
    /// The path as written, for messages.
    raw: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Start {
    /// The value of the innermost `{{#each}}` item or `{{#with}}` (the view model outside them).
    Scope,
    /// `@root`: the view model.
    Root,
    /// `@index` or `@key` (in `names[0]`) of the innermost `{{#each}}`.
    Local,
}

/// Lowers a prebuilt template; an error names the syntax tug's renderer does not support.
pub(crate) fn lower(t: &Template) -> Result<Vec<Node>, String> {
    let mut nodes = Vec::with_capacity(t.elements.len());
    for element in &t.elements {
        match element {
            TemplateElement::RawString(text) => nodes.push(Node::Text(text.clone())),
            TemplateElement::Comment(_) => {}
            TemplateElement::Expression(h) => nodes.push(lower_expression(h)?),
            TemplateElement::HelperBlock(h) => nodes.push(lower_block(h)?),
            other => return Err(unsupported(other)),
        }
    }
    Ok(nodes)
}

fn unsupported(what: &impl std::fmt::Debug) -> String {
    format!("template syntax the renderer does not support: {what:?}")
}

fn lower_expression(h: &HelperTemplate) -> Result<Node, String> {
    if !h.hash.is_empty() || h.block_param.is_some() {
        return Err(unsupported(h));
    }
    match (&h.name, h.params.as_slice()) {
        (Parameter::Name(name), [param]) if name == "json" => Ok(Node::Json(lookup(param)?)),
        (Parameter::Path(_), []) => Ok(Node::Value(lookup(&h.name)?)),
        _ => Err(unsupported(h)),
    }
}

fn lower_block(h: &HelperTemplate) -> Result<Node, String> {
    let (Parameter::Name(name), [param]) = (&h.name, h.params.as_slice()) else {
        return Err(unsupported(h));
    };
    if !h.hash.is_empty() || h.block_param.is_some() {
        return Err(unsupported(h));
    }
    let lookup = lookup(param)?;
    let body = match &h.template {
        Some(t) => lower(t)?,
        None => Vec::new(),
    };
    let otherwise = h.inverse.as_ref().map(lower).transpose()?;
    Ok(match name.as_str() {
        "if" | "unless" => Node::If {
            test: lookup,
            positive: name == "if",
            then: body,
            otherwise: otherwise.unwrap_or_default(),
        },
        "each" => Node::Each {
            items: lookup,
            body,
            otherwise,
        },
        "with" => Node::With {
            value: lookup,
            body,
            otherwise,
        },
        _ => return Err(unsupported(h)),
    })
}

fn lookup(p: &Parameter) -> Result<Lookup, String> {
    match p {
        Parameter::Path(Path::Relative((segs, raw))) => {
            let mut from = Start::Scope;
            let mut names = Vec::with_capacity(segs.len());
            for (i, seg) in segs.iter().enumerate() {
                match seg {
                    PathSeg::Named(name) => names.push(name.clone()),
                    // handlebars' rule type is private: `@root` is told by its text.
                    PathSeg::Ruled(rule) if i == 0 && format!("{rule:?}") == "path_root" => {
                        from = Start::Root;
                    }
                    _ => return Err(unsupported(p)),
                }
            }
            Ok(Lookup {
                from,
                names,
                raw: raw.clone(),
            })
        }
        Parameter::Path(Path::Local((0, name, raw))) if name == "index" || name == "key" => {
            Ok(Lookup {
                from: Start::Local,
                names: vec![name.clone()],
                raw: raw.clone(),
            })
        }
        _ => Err(unsupported(p)),
    }
}

/// A scope: the value of an `{{#each}}` item or a `{{#with}}`, and the innermost `{{#each}}`
/// item's `@index` and `@key` (which `{{#with}}` keeps, as in handlebars).
#[derive(Clone, Copy)]
struct Frame<'v> {
    value: &'v Value,
    index: Option<usize>,
    key: Option<&'v str>,
}

/// Renders `nodes` over `root`.
pub(crate) fn render(nodes: &[Node], root: &Value) -> Result<String, String> {
    let mut out = Vec::with_capacity(64 * 1024);
    let mut scopes = vec![Frame {
        value: root,
        index: None,
        key: None,
    }];
    walk(nodes, root, &mut scopes, &mut out)?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// What a lookup found: a value of the view model, a number or key made by `{{#each}}`, or
/// nothing.
enum Found<'v> {
    Value(&'v Value),
    Index(usize),
    Key(&'v str),
    Missing,
}

fn find<'v>(l: &Lookup, root: &'v Value, scopes: &[Frame<'v>]) -> Result<Found<'v>, String> {
    let top = scopes.last().copied().unwrap_or(Frame {
        value: root,
        index: None,
        key: None,
    });
    let mut at = match l.from {
        Start::Scope => top.value,
        Start::Root => root,
        Start::Local => {
            return Ok(match (l.names[0].as_str(), top.index, top.key) {
                ("key", _, Some(key)) => Found::Key(key),
                ("index", Some(index), _) => Found::Index(index),
                _ => Found::Missing,
            });
        }
    };
    for name in &l.names {
        let next = match at {
            Value::Object(map) => map.get(name),
            Value::Array(items) => {
                let i: usize = name
                    .parse()
                    .map_err(|_| format!("`{}`: `{name}` is not a list index", l.raw))?;
                items.get(i)
            }
            _ => None,
        };
        match next {
            Some(v) => at = v,
            None => return Ok(Found::Missing),
        }
    }
    Ok(Found::Value(at))
}

/// handlebars' truth: false, null, 0, "", [] and {} are false.
fn truthy(found: &Found) -> bool {
    match found {
        Found::Value(Value::Bool(b)) => *b,
        Found::Value(Value::Number(n)) => n.as_f64().is_some_and(f64::is_normal),
        Found::Value(Value::String(s)) => !s.is_empty(),
        Found::Value(Value::Array(a)) => !a.is_empty(),
        Found::Value(Value::Object(o)) => !o.is_empty(),
        Found::Value(Value::Null) | Found::Missing => false,
        Found::Index(i) => *i != 0,
        Found::Key(k) => !k.is_empty(),
    }
}

fn missing(l: &Lookup) -> String {
    format!("Failed to access variable in strict mode Some({:?})", l.raw)
}

fn walk<'v>(
    nodes: &[Node],
    root: &'v Value,
    scopes: &mut Vec<Frame<'v>>,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    for node in nodes {
        match node {
            Node::Text(text) => out.extend_from_slice(text.as_bytes()),
            Node::Value(l) => write_value(&find(l, root, scopes)?, l, out)?,
            Node::Json(l) => write_json(&find(l, root, scopes)?, out)?,
            Node::If {
                test,
                positive,
                then,
                otherwise,
            } => {
                let branch = if truthy(&find(test, root, scopes)?) == *positive {
                    then
                } else {
                    otherwise
                };
                walk(branch, root, scopes, out)?;
            }
            Node::Each {
                items,
                body,
                otherwise,
            } => each(items, body, otherwise.as_deref(), root, scopes, out)?,
            Node::With {
                value,
                body,
                otherwise,
            } => {
                let found = find(value, root, scopes)?;
                match (&found, otherwise) {
                    (Found::Value(v), _) if truthy(&found) => {
                        let top = scopes.last().copied();
                        scopes.push(Frame {
                            value: v,
                            index: top.and_then(|f| f.index),
                            key: top.and_then(|f| f.key),
                        });
                        walk(body, root, scopes, out)?;
                        scopes.pop();
                    }
                    (_, Some(otherwise)) => walk(otherwise, root, scopes, out)?,
                    // `{{#with}}` of a number or key made by `{{#each}}`: tug's templates
                    // have none, and handlebars would scope it as a value without a path.
                    _ => return Err(missing(value)),
                }
            }
        }
    }
    Ok(())
}

fn each<'v>(
    items: &Lookup,
    body: &[Node],
    otherwise: Option<&[Node]>,
    root: &'v Value,
    scopes: &mut Vec<Frame<'v>>,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    // An empty list or mapping renders `{{else}}` when there is one, and nothing otherwise.
    match (find(items, root, scopes)?, otherwise) {
        (Found::Value(Value::Array(list)), o) if !list.is_empty() || o.is_none() => {
            for (index, value) in list.iter().enumerate() {
                scopes.push(Frame {
                    value,
                    index: Some(index),
                    key: None,
                });
                walk(body, root, scopes, out)?;
                scopes.pop();
            }
        }
        (Found::Value(Value::Object(map)), o) if !map.is_empty() || o.is_none() => {
            for (index, (key, value)) in map.iter().enumerate() {
                scopes.push(Frame {
                    value,
                    index: Some(index),
                    key: Some(key),
                });
                walk(body, root, scopes, out)?;
                scopes.pop();
            }
        }
        (_, Some(otherwise)) => walk(otherwise, root, scopes, out)?,
        _ => return Err(missing(items)),
    }
    Ok(())
}

/// `{{path}}`: strings as they are, lists as `[a, b]`, mappings as `[object]`, null as
/// nothing (handlebars' rendering of a value).
fn write_value(found: &Found, l: &Lookup, out: &mut Vec<u8>) -> Result<(), String> {
    match found {
        Found::Value(v) => out.extend_from_slice(plain(v).as_bytes()),
        Found::Index(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Found::Key(k) => out.extend_from_slice(k.as_bytes()),
        Found::Missing => return Err(missing(l)),
    }
    Ok(())
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(plain).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(_) => "[object]".to_string(),
    }
}

/// `{{json path}}`: compact JSON, `null` for a missing value (as the handlebars helper wrote).
fn write_json(found: &Found, out: &mut Vec<u8>) -> Result<(), String> {
    let written = match found {
        Found::Value(v) => serde_json::to_writer(&mut *out, v),
        Found::Index(i) => serde_json::to_writer(&mut *out, i),
        Found::Key(k) => serde_json::to_writer(&mut *out, k),
        Found::Missing => serde_json::to_writer(&mut *out, &Value::Null),
    };
    written.map_err(|e| format!("json: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use handlebars::{Context, Handlebars, Helper, HelperResult, Output, RenderContext};
    use serde_json::json;

    /// The handlebars setup tug rendered with before this module: strict, unescaped, and a
    /// `json` helper writing compact JSON.
    fn by_handlebars(source: &str, data: &Value) -> Result<String, String> {
        fn json_helper(
            h: &Helper,
            _: &Handlebars,
            _: &Context,
            _: &mut RenderContext,
            out: &mut dyn Output,
        ) -> HelperResult {
            let value = h.param(0).map(|p| p.value().clone()).unwrap_or_default();
            out.write(&serde_json::to_string(&value).unwrap())?;
            Ok(())
        }
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        hb.register_helper("json", Box::new(json_helper));
        hb.render_template(source, data).map_err(|e| e.to_string())
    }

    fn by_walk(source: &str, data: &Value) -> Result<String, String> {
        let template = Template::compile(source).map_err(|e| e.to_string())?;
        render(&lower(&template)?, data)
    }

    fn data() -> Value {
        json!({
            "name": "web", "zero": 0, "one": 1.5, "empty": "", "none": [], "no": false,
            "nothing": {}, "tags": [{ "Key": "a", "Value": "b" }],
            "list": [{ "id": "A", "n": 1, "inner": { "x": [1, 2] } }, { "id": "B", "n": 2 }],
            "map": { "k1": { "id": "X" }, "k2": { "id": "Y" } },
            "scalars": ["s", 2, true, null],
            "obj": { "deep": { "er": "value" }, "list": ["a", "b"] },
        })
    }

    /// Each construct tug's templates use renders to the same text as handlebars renders it.
    #[test]
    fn renders_as_handlebars_does() {
        let cases = [
            "plain text\nwith lines\n",
            "{{name}} {{json name}} {{json obj}} {{obj}} {{json missing}} {{one}}",
            "{{#if name}}yes{{else}}no{{/if}} {{#if zero}}z{{else}}not z{{/if}}",
            "{{#if one}}1{{/if}}{{#if empty}}e{{/if}}{{#if none}}n{{/if}}{{#if no}}f{{/if}}",
            "{{#if nothing}}o{{else}}empty object{{/if}}{{#if missing}}m{{/if}}",
            "{{#unless no}}unless{{/unless}}{{#unless name}}x{{else}}else{{/unless}}",
            "{{#each list}}- {{this.id}} {{@index}} {{json this}} {{json @root.tags}}\n{{/each}}",
            "{{#each map}}{{@key}}={{this.id}}@{{@index}};{{/each}}",
            "{{#each scalars}}[{{this}}|{{json this}}]{{/each}}",
            "{{#each none}}x{{else}}empty list{{/each}}{{#each none}}x{{/each}}",
            "{{#each list}}{{#with this.inner}}{{json x}} {{@index}}{{else}}none{{/with}}{{/each}}",
            "{{#with obj}}{{deep.er}} {{json list}} {{list}} {{list.1}}{{/with}}",
            "{{#with no}}x{{else}}no with{{/with}}{{#with obj.deep}}{{er}}{{/with}}",
            "{{#each list}}{{#if this.inner}}{{this.id}} has inner{{/if}}{{/each}}",
            "{{!-- a comment --}}{{@root.name}}{{#with obj}}{{@root.name}}{{/with}}",
            "{{#if no}}a{{else if one}}b{{else}}c{{/if}}",
            "{{#if name}}\n  a\n{{/if}}\n{{#each list}}\n  {{this.id}}:\n{{/each}}\n",
        ];
        let data = data();
        for case in cases {
            let expected = by_handlebars(case, &data);
            assert!(expected.is_ok(), "{case}: {expected:?}");
            assert_eq!(by_walk(case, &data), expected, "{case}");
        }
    }

    /// Strict mode fails where handlebars' failed.
    #[test]
    fn missing_values_fail_as_in_handlebars() {
        let data = data();
        for case in [
            "{{missing}}",
            "{{obj.missing}}",
            "{{#with missing}}x{{/with}}",
            "{{#with no}}x{{/with}}",
            "{{#each missing}}x{{/each}}",
            "{{#each name}}x{{/each}}",
            "{{@index}}",
            "{{list.x}}",
        ] {
            assert!(by_handlebars(case, &data).is_err(), "{case}");
            assert!(by_walk(case, &data).is_err(), "{case}");
        }
    }

    /// Syntax tug's templates do not use is refused when lowered, not rendered differently.
    #[test]
    fn other_syntax_is_refused() {
        for case in [
            "{{{name}}}",
            "{{> partial}}",
            "{{../name}}",
            "{{@../index}}",
            "{{#each list as |item|}}{{/each}}",
            "{{lookup list 0}}",
            "{{json name pretty=true}}",
            "{{json \"literal\"}}",
            "{{@first}}",
        ] {
            let template = Template::compile(case).unwrap();
            assert!(lower(&template).is_err(), "{case}");
        }
    }
}
