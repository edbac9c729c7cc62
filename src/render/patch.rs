//! Template patches, applied after rendering: a workload's `taskdef_overrides` (Copilot's dot
//! paths under the task definition's properties) and `overrides/cfn.patches.yml` (JSON-Patch
//! style `add`, `remove` and `replace` operations on the whole template). The template is
//! patched as a JSON value (read from the rendered YAML, written back by [`super::emit`]).

use serde_json::Value;

use crate::manifest::decode::{Located, node_to_json};
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::model::common::TaskDefOverride;
use crate::manifest::source::Span;
use crate::manifest::yaml::{Node, NodeKind};
use crate::render::input_error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
}

/// One operation on the rendered template.
#[derive(Debug, Clone)]
pub struct Patch {
    pub op: Op,
    /// JSON-pointer segments from the template root.
    pub path: Vec<String>,
    pub value: Option<Value>,
    /// Create missing parent mappings (Copilot's `taskdef_overrides` do).
    pub create_parents: bool,
    pub span: Span,
    /// How the path was written, for messages.
    pub shown: String,
}

impl Patch {
    /// A `taskdef_overrides` entry: `ContainerDefinitions[0].Ulimits[-]` under
    /// `Resources.TaskDefinition.Properties`.
    pub fn from_taskdef_override(ov: &Located<TaskDefOverride>) -> Result<Patch, Diagnostic> {
        let path = ov.path.as_ref().ok_or_else(|| {
            input_error(
                ov.span,
                "a task definition override needs a `path`",
                "add `path`",
            )
        })?;
        let mut segments: Vec<String> = ["Resources", "TaskDefinition", "Properties"]
            .map(String::from)
            .to_vec();
        for seg in path.value.split('.') {
            match seg.find('[') {
                Some(i) => {
                    segments.push(seg[..i].to_string());
                    let index = seg[i..].trim_start_matches('[').trim_end_matches(']');
                    segments.push(index.to_string());
                }
                None => segments.push(seg.to_string()),
            }
        }
        let value = ov.new_value.as_ref().map(|v| v.value.clone());
        Ok(Patch {
            op: Op::Add,
            path: segments,
            value,
            create_parents: true,
            span: path.span,
            shown: path.value.clone(),
        })
    }

    /// The operations of a `cfn.patches.yml` document.
    pub fn from_patch_file(node: &Node) -> Result<Vec<Patch>, Vec<Diagnostic>> {
        let NodeKind::Seq(items) = &node.kind else {
            return Err(vec![input_error(
                node.span,
                "cfn.patches.yml must be a list of operations",
                "write `- op: add|remove|replace` entries with `path` and `value`",
            )]);
        };
        let mut patches = Vec::new();
        let mut diags = Vec::new();
        for item in items {
            match parse_operation(item) {
                Ok(p) => patches.push(p),
                Err(d) => diags.push(d),
            }
        }
        if diags.is_empty() {
            Ok(patches)
        } else {
            Err(diags)
        }
    }

    /// Applies the operation to `doc`.
    pub fn apply(&self, doc: &mut Value) -> Result<(), Diagnostic> {
        let Some((last, parents)) = self.path.split_last() else {
            return Err(self.error("the path is empty"));
        };
        let mut cur = doc;
        for (i, seg) in parents.iter().enumerate() {
            let next_is_index = parents.get(i + 1).unwrap_or(last);
            let create_list = next_is_index == "-" || next_is_index.parse::<usize>().is_ok();
            cur = match cur {
                Value::Object(map) => {
                    if !map.contains_key(seg) {
                        if !self.create_parents {
                            return Err(self.error(&format!("`{seg}` does not exist")));
                        }
                        let fresh = if create_list {
                            Value::Array(Vec::new())
                        } else {
                            Value::Object(Default::default())
                        };
                        map.insert(seg.clone(), fresh);
                    }
                    map.get_mut(seg)
                        .ok_or_else(|| self.error("internal: missing key"))?
                }
                Value::Array(list) => {
                    let index = seg
                        .parse::<usize>()
                        .ok()
                        .filter(|i| *i < list.len())
                        .ok_or_else(|| {
                            self.error(&format!(
                                "`{seg}` is not an index of a list of {} items",
                                list.len()
                            ))
                        })?;
                    &mut list[index]
                }
                _ => {
                    return Err(self.error(&format!(
                        "`{seg}` is inside a value that is not a mapping or a list"
                    )));
                }
            };
        }
        match (cur, self.op) {
            (Value::Object(map), op) => {
                let exists = map.contains_key(last);
                match op {
                    Op::Add => {
                        map.insert(last.clone(), self.value.clone().unwrap_or(Value::Null));
                    }
                    Op::Replace if exists => {
                        map.insert(last.clone(), self.value.clone().unwrap_or(Value::Null));
                    }
                    // The last entry takes the removed one's place (what the template's
                    // ordered map always did; kept so that patched templates do not change).
                    Op::Remove if exists => {
                        map.swap_remove(last);
                    }
                    _ => return Err(self.error(&format!("`{last}` does not exist"))),
                }
            }
            (Value::Array(list), op) => {
                let index = if last == "-" {
                    Some(list.len())
                } else {
                    last.parse::<usize>().ok()
                };
                let value = self.value.clone().unwrap_or(Value::Null);
                match (op, index) {
                    (Op::Add, Some(i)) if i <= list.len() => list.insert(i, value),
                    (Op::Replace, Some(i)) if i < list.len() => list[i] = value,
                    (Op::Remove, Some(i)) if i < list.len() => {
                        list.remove(i);
                    }
                    _ => {
                        return Err(self.error(&format!(
                            "`{last}` is not a valid index of a list of {} items",
                            list.len()
                        )));
                    }
                }
            }
            _ => return Err(self.error("the parent of the target is not a mapping or a list")),
        }
        Ok(())
    }

    fn error(&self, problem: &str) -> Diagnostic {
        input_error(
            self.span,
            format!("cannot apply the override at `{}`: {problem}", self.shown),
            "check the path against `tug render` output; paths are case-sensitive",
        )
    }
}

fn parse_operation(item: &Node) -> Result<Patch, Diagnostic> {
    let op_node = item.get("op").ok_or_else(|| {
        input_error(
            item.span,
            "a patch needs `op`",
            "add `op: add`, `remove` or `replace`",
        )
    })?;
    let op = match op_node.as_str() {
        Some("add") => Op::Add,
        Some("remove") => Op::Remove,
        Some("replace") => Op::Replace,
        other => {
            return Err(input_error(
                op_node.span,
                format!("patch operation `{}` is not supported", other.unwrap_or("")),
                "use add, remove or replace",
            ));
        }
    };
    let path_node = item.get("path").ok_or_else(|| {
        input_error(
            item.span,
            "a patch needs `path`",
            "for example /Resources/Service/Properties/DesiredCount",
        )
    })?;
    let path_text = path_node.as_str().unwrap_or_default();
    let Some(pointer) = path_text.strip_prefix('/') else {
        return Err(input_error(
            path_node.span,
            format!("patch path `{path_text}` must start with `/`"),
            "paths are JSON pointers such as /Resources/TaskDefinition",
        ));
    };
    let path = pointer
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let value = item.get("value").map(node_to_json);
    if value.is_none() && op != Op::Remove {
        return Err(input_error(
            item.span,
            format!("`{}` needs a `value`", op_node.as_str().unwrap_or("")),
            "add `value`",
        ));
    }
    Ok(Patch {
        op,
        path,
        value,
        create_parents: false,
        span: path_node.span,
        shown: path_text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::source::SourceId;
    use crate::manifest::yaml;

    fn doc() -> Value {
        serde_json::json!({"Resources": {"TaskDefinition": {"Properties": {
            "ContainerDefinitions": [{"Name": "web"}]
        }}}})
    }

    #[test]
    fn taskdef_overrides_create_parents_and_append() {
        let mut d = doc();
        let ov = Located::new(
            TaskDefOverride {
                path: Some(Located::new(
                    "ContainerDefinitions[0].Ulimits[-]".into(),
                    Span::default(),
                )),
                new_value: Some(Located::new(
                    serde_json::json!({"Name": "nofile"}),
                    Span::default(),
                )),
            },
            Span::default(),
        );
        Patch::from_taskdef_override(&ov)
            .unwrap()
            .apply(&mut d)
            .unwrap();
        assert_eq!(
            d["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Ulimits"][0]
                ["Name"],
            "nofile"
        );
    }

    #[test]
    fn patch_files_add_replace_remove() {
        let text = "- op: replace\n  path: /Resources/TaskDefinition/Properties/ContainerDefinitions/0/Name\n  value: api\n- op: add\n  path: /Resources/X\n  value: {Type: AWS::SNS::Topic}\n- op: remove\n  path: /Resources/Nope\n";
        let node = yaml::parse(SourceId(0), text).unwrap();
        let patches = Patch::from_patch_file(&node).unwrap();
        let mut d = doc();
        patches[0].apply(&mut d).unwrap();
        patches[1].apply(&mut d).unwrap();
        let err = patches[2].apply(&mut d).unwrap_err();
        assert_eq!(err.span.line, 8);
        assert!(err.message.contains("does not exist"));
        assert_eq!(
            d["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Name"],
            "api"
        );
        assert_eq!(d["Resources"]["X"]["Type"], "AWS::SNS::Topic");
    }
}
