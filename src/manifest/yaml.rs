//! Located YAML: parses manifest text into a small node tree where every node knows the line
//! and column it came from.
//!
//! serde_yaml cannot report where a value sits once it has been parsed, and every diagnostic
//! tug prints needs `file:line:col`, so the loader reads yaml-rust2's marked event stream and
//! builds its own tree. Hostile input is bounded here: file size, nesting depth and alias
//! expansion all have limits, and every failure is a [`YamlError`] with a position, never a
//! panic.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::manifest::source::{SourceId, Span};

/// Largest manifest accepted, in bytes. Real manifests are a few kilobytes.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// Deepest nesting of mappings and sequences accepted.
pub const MAX_DEPTH: usize = 64;
/// Most nodes a document may expand to, counting alias expansions (guards "billion laughs").
pub const MAX_NODES: usize = 200_000;

/// How a scalar was written; interpolation and type resolution depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    Quoted,
    Literal,
    Folded,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// An empty value, `~` or `null`.
    Null,
    Scalar(String, ScalarStyle),
    Seq(Vec<Node>),
    /// Entries in document order; keys are nodes so that their positions are known.
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

impl Node {
    pub fn scalar(text: impl Into<String>, span: Span) -> Node {
        Node {
            kind: NodeKind::Scalar(text.into(), ScalarStyle::Plain),
            span,
        }
    }

    /// The text of a scalar node, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(s, _) => Some(s),
            _ => None,
        }
    }

    /// Looks up a key in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A short word for the node's shape, used in "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Null => "an empty value",
            NodeKind::Scalar(_, ScalarStyle::Plain) => "a plain value",
            NodeKind::Scalar(..) => "a string",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

/// A YAML document could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub span: Span,
    pub help: &'static str,
}

const HELP_SYNTAX: &str = "fix the YAML syntax; check indentation, quoting and brackets";
pub(crate) const HELP_LIMIT: &str =
    "a manifest is a small YAML file; split it or remove the generated content";
const HELP_BINARY: &str = "manifests are YAML text; this file is binary or corrupted";

/// Parses one YAML document. An empty document yields a `Null` node; several documents in one
/// file are an error, as a manifest is exactly one document.
pub fn parse(source: SourceId, text: &str) -> Result<Node, YamlError> {
    parse_with(source, text, false)
}

/// Parses a CloudFormation template (an addon): like [`parse`], and the short forms of the
/// intrinsic functions (`!Ref X`, `!GetAtt A.B`, `!Sub ...`) become their long forms
/// (`{Ref: X}`, `{Fn::GetAtt: [A, B]}`, `{Fn::Sub: ...}`), as CloudFormation reads them.
pub fn parse_cloudformation(source: SourceId, text: &str) -> Result<Node, YamlError> {
    parse_with(source, text, true)
}

/// The intrinsic functions CloudFormation writes as `Fn::<Name>` and accepts as `!<Name>`.
const CLOUDFORMATION_FUNCTIONS: &[&str] = &[
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "ForEach",
    "GetAZs",
    "GetAtt",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
];

/// The long form of a node written with the short form tag `!<name>`.
fn cloudformation_long_form(name: &str, node: Node) -> Result<Node, String> {
    let span = node.span;
    let key = match name {
        "Ref" | "Condition" => name.to_string(),
        _ if CLOUDFORMATION_FUNCTIONS.contains(&name) => format!("Fn::{name}"),
        _ => {
            return Err(format!(
                "`!{name}` is not a CloudFormation intrinsic function"
            ));
        }
    };
    // `!GetAtt Resource.Attribute` is the one short form whose scalar is split.
    let value = match (&node.kind, name) {
        (NodeKind::Scalar(text, _), "GetAtt") => {
            let Some((resource, attribute)) = text.split_once('.') else {
                return Err(format!(
                    "`!GetAtt {text}` names no attribute: write `!GetAtt Resource.Attribute`"
                ));
            };
            Node {
                kind: NodeKind::Seq(vec![
                    Node::scalar(resource, span),
                    Node::scalar(attribute, span),
                ]),
                span,
            }
        }
        _ => node,
    };
    Ok(Node {
        kind: NodeKind::Map(vec![(Node::scalar(key, span), value)]),
        span,
    })
}

fn parse_with(source: SourceId, text: &str, cloudformation: bool) -> Result<Node, YamlError> {
    let start = Span::new(source, 1, 1);
    if text.len() > MAX_FILE_BYTES {
        return Err(YamlError {
            message: format!(
                "file is {} bytes, larger than the {} byte limit for a manifest",
                text.len(),
                MAX_FILE_BYTES
            ),
            span: start,
            help: HELP_LIMIT,
        });
    }
    if let Some(pos) = text.find('\0') {
        let line = text[..pos].matches('\n').count() + 1;
        return Err(YamlError {
            message: "file contains a NUL byte: it looks binary, not YAML".into(),
            span: Span::new(source, line as u32, 1),
            help: HELP_BINARY,
        });
    }
    let mut builder = TreeBuilder::new(source);
    builder.cloudformation = cloudformation;
    let mut parser = Parser::new_from_str(text);
    let loaded = parser.load(&mut builder, true);
    if let Some(err) = builder.error.take() {
        return Err(err);
    }
    if let Err(e) = loaded {
        let m = e.marker();
        let at = clamp_to_text(span_at(source, m), text);
        if let Some((opener, line, col)) = unclosed_bracket(text, at.line) {
            return Err(YamlError {
                message: format!("`{opener}` opened here is never closed"),
                span: Span::new(source, line, col),
                help: "close the list or mapping on the same logical value, e.g. [a, b] or {k: v}",
            });
        }
        let (message, help) = if e.info().contains("recursion limit") {
            (
                format!("nesting is deeper than {MAX_DEPTH} levels"),
                HELP_LIMIT,
            )
        } else {
            (format!("invalid YAML: {}", e.info()), HELP_SYNTAX)
        };
        return Err(YamlError {
            message,
            span: clamp_to_text(span_at(source, m), text),
            help,
        });
    }
    match builder.documents.len() {
        0 => Ok(Node {
            kind: NodeKind::Null,
            span: start,
        }),
        1 => Ok(builder.documents.remove(0)),
        _ => Err(YamlError {
            message: "file holds more than one YAML document; a manifest is a single document"
                .into(),
            span: builder.documents[1].span,
            help: "keep one document: remove the `---` separator and what follows, or move it to its own manifest",
        }),
    }
}

/// The innermost `[` or `{` still open when the parser gave up at `error_line`, if any. Flow
/// collections are the usual cause of confusing errors a few lines further down.
fn unclosed_bracket(text: &str, error_line: u32) -> Option<(char, u32, u32)> {
    let mut stack: Vec<(char, u32, u32)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u32 + 1;
        if line_no > error_line {
            break;
        }
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        for (j, c) in line.chars().enumerate() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    '#' if prev.is_whitespace() => break,
                    '"' | '\'' if matches!(prev, ' ' | '[' | '{' | ',' | ':') => quote = Some(c),
                    '[' | '{' => stack.push((c, line_no, j as u32 + 1)),
                    ']' | '}' => {
                        stack.pop();
                    }
                    _ => {}
                },
            }
            prev = c;
        }
    }
    stack.pop()
}

/// Errors found at the end of the input point past the last line; show them on the last line.
fn clamp_to_text(span: Span, text: &str) -> Span {
    let lines = text.lines().count().max(1) as u32;
    if span.line <= lines {
        return span;
    }
    let last = text.lines().last().unwrap_or("");
    Span::new(span.source, lines, last.chars().count() as u32 + 1)
}

fn span_at(source: SourceId, m: &Marker) -> Span {
    // yaml-rust2 counts lines from 1 and columns from 0.
    Span::new(source, m.line() as u32, m.col() as u32 + 1)
}

enum Open {
    Seq {
        items: Vec<Node>,
        span: Span,
        anchor: usize,
        /// A CloudFormation short-form tag on the sequence.
        function: Option<String>,
    },
    Map {
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
        span: Span,
        anchor: usize,
        function: Option<String>,
    },
}

struct TreeBuilder {
    source: SourceId,
    stack: Vec<Open>,
    documents: Vec<Node>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    error: Option<YamlError>,
    /// Read `!Name` tags as CloudFormation's short forms.
    cloudformation: bool,
}

impl TreeBuilder {
    fn new(source: SourceId) -> Self {
        TreeBuilder {
            source,
            stack: Vec::new(),
            documents: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            error: None,
            cloudformation: false,
        }
    }

    fn fail(&mut self, message: String, span: Span) {
        if self.error.is_none() {
            let help = if message.contains("nesting") || message.contains("expands") {
                HELP_LIMIT
            } else {
                HELP_SYNTAX
            };
            self.error = Some(YamlError {
                message,
                span,
                help,
            });
        }
    }

    fn count(&mut self, n: usize, span: Span) -> bool {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            self.fail(
                format!("document expands to more than {MAX_NODES} values (too many aliases?)"),
                span,
            );
            return false;
        }
        true
    }

    /// The CloudFormation function a tag names, in CloudFormation mode: local tags (`!Name`)
    /// only; `!!str` and the like are YAML's own.
    fn function_of(&self, tag: &Option<Tag>) -> Option<String> {
        match tag {
            Some(t) if self.cloudformation && t.handle == "!" => Some(t.suffix.clone()),
            _ => None,
        }
    }

    /// The node in its long form if it was written with a short-form tag.
    fn long_form(&mut self, node: Node, function: Option<String>) -> Option<Node> {
        match function {
            None => Some(node),
            Some(name) => {
                let span = node.span;
                match cloudformation_long_form(&name, node) {
                    Ok(n) => Some(n),
                    Err(message) => {
                        self.fail(message, span);
                        None
                    }
                }
            }
        }
    }

    /// Attaches a finished node to its parent, or makes it a document.
    fn push_node(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => {
                    if matches!(node.kind, NodeKind::Seq(_) | NodeKind::Map(_)) {
                        let span = node.span;
                        self.fail("a mapping key must be a plain value".into(), span);
                    } else {
                        *pending_key = Some(node);
                    }
                }
                Some(key) => entries.push((key, node)),
            },
        }
    }
}

fn node_size(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Seq(items) => 1 + items.iter().map(node_size).sum::<usize>(),
        NodeKind::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| node_size(k) + node_size(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

impl MarkedEventReceiver for TreeBuilder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let span = span_at(self.source, &mark);
        match ev {
            Event::Scalar(text, style, anchor, tag) => self.scalar(text, style, anchor, tag, span),
            Event::SequenceStart(anchor, tag) => self.open(true, anchor, tag, span),
            Event::MappingStart(anchor, tag) => self.open(false, anchor, tag, span),
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(node) => {
                    if self.count(node_size(&node), span) {
                        self.push_node(node, 0);
                    }
                }
                None => self.fail("alias refers to an unknown anchor".into(), span),
            },
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

impl TreeBuilder {
    /// A scalar: null when written as one, else its text with how it was quoted.
    fn scalar(
        &mut self,
        text: String,
        style: TScalarStyle,
        anchor: usize,
        tag: Option<Tag>,
        span: Span,
    ) {
        if !self.count(1, span) {
            return;
        }
        let function = self.function_of(&tag);
        let explicit_null = style == TScalarStyle::Plain
            && tag.is_none()
            && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL");
        let kind = if explicit_null {
            NodeKind::Null
        } else {
            let style = match style {
                TScalarStyle::Plain => ScalarStyle::Plain,
                TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => ScalarStyle::Quoted,
                TScalarStyle::Literal => ScalarStyle::Literal,
                TScalarStyle::Folded => ScalarStyle::Folded,
            };
            // An explicit `!!str` tag makes a plain scalar a string.
            let style = match (&tag, style) {
                (Some(t), ScalarStyle::Plain) if t.suffix == "str" => ScalarStyle::Quoted,
                _ => style,
            };
            NodeKind::Scalar(text, style)
        };
        if let Some(node) = self.long_form(Node { kind, span }, function) {
            self.push_node(node, anchor);
        }
    }

    /// The start of a sequence (`seq`) or a mapping, within the nesting limit.
    fn open(&mut self, seq: bool, anchor: usize, tag: Option<Tag>, span: Span) {
        let function = self.function_of(&tag);
        if self.stack.len() >= MAX_DEPTH {
            self.fail(format!("nesting is deeper than {MAX_DEPTH} levels"), span);
            return;
        }
        if !self.count(1, span) {
            return;
        }
        let open = if seq {
            Open::Seq {
                items: Vec::new(),
                span,
                anchor,
                function,
            }
        } else {
            Open::Map {
                entries: Vec::new(),
                pending_key: None,
                span,
                anchor,
                function,
            }
        };
        self.stack.push(open);
    }

    /// The end of the innermost sequence or mapping: it becomes a node of its parent.
    fn close(&mut self) {
        let Some(open) = self.stack.pop() else { return };
        let (node, anchor, function) = match open {
            Open::Seq {
                items,
                span,
                anchor,
                function,
            } => (
                Node {
                    kind: NodeKind::Seq(items),
                    span,
                },
                anchor,
                function,
            ),
            Open::Map {
                entries,
                span,
                anchor,
                function,
                ..
            } => {
                // yaml-rust2 marks a block mapping where its first key's `:` is; the
                // mapping really starts at that key.
                let span = match entries.first() {
                    Some((key, _)) if (key.span.line, key.span.col) < (span.line, span.col) => {
                        key.span
                    }
                    _ => span,
                };
                (
                    Node {
                        kind: NodeKind::Map(entries),
                        span,
                    },
                    anchor,
                    function,
                )
            }
        };
        if let Some(node) = self.long_form(node, function) {
            self.push_node(node, anchor);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Node, YamlError> {
        parse(SourceId(0), text)
    }

    #[test]
    fn cloudformation_short_forms_become_long_forms() {
        let node = parse_cloudformation(
            SourceId(0),
            "a: !Ref Table\nb: !GetAtt Table.Arn\nc: !Sub\n  - '${X}'\n  - X: !Ref Y\nd: !!str 5\n",
        )
        .unwrap();
        let a = node.get("a").unwrap();
        assert_eq!(a.get("Ref").and_then(|n| n.as_str()), Some("Table"));
        let b = node.get("b").unwrap().get("Fn::GetAtt").unwrap();
        assert!(
            matches!(&b.kind, NodeKind::Seq(items) if items.len() == 2 && items[1].as_str() == Some("Arn"))
        );
        assert!(node.get("c").unwrap().get("Fn::Sub").is_some());
        assert_eq!(node.get("d").unwrap().as_str(), Some("5"));
        let err = parse_cloudformation(SourceId(0), "a:\n  b: !Reff X\n").unwrap_err();
        assert!(err.message.contains("`!Reff`"), "{}", err.message);
        assert_eq!((err.span.line, err.span.col), (2, 12));
        // Manifests keep reading tags as before.
        assert_eq!(
            p("a: !Ref X\n").unwrap().get("a").unwrap().as_str(),
            Some("X")
        );
    }

    #[test]
    fn positions_are_one_based() {
        let node = p("name: web\nhttp:\n  path: /api\n").unwrap();
        let http = node.get("http").unwrap();
        let path = http.get("path").unwrap();
        assert_eq!(path.as_str(), Some("/api"));
        assert_eq!((path.span.line, path.span.col), (3, 9));
        let name = node.get("name").unwrap();
        assert_eq!((name.span.line, name.span.col), (1, 7));
    }

    #[test]
    fn empty_document_is_null() {
        assert_eq!(p("").unwrap().kind, NodeKind::Null);
        assert_eq!(p("# only a comment\n").unwrap().kind, NodeKind::Null);
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = p("a: b\n  c: d\n").unwrap_err();
        assert!(err.message.starts_with("invalid YAML"), "{}", err.message);
        assert!(err.span.line >= 1);
    }

    #[test]
    fn quoted_scalars_keep_their_style() {
        let node = p("a: '80'\nb: 80\nc: !!str 81\n").unwrap();
        assert!(matches!(
            node.get("a").unwrap().kind,
            NodeKind::Scalar(_, ScalarStyle::Quoted)
        ));
        assert!(matches!(
            node.get("b").unwrap().kind,
            NodeKind::Scalar(_, ScalarStyle::Plain)
        ));
        assert!(matches!(
            node.get("c").unwrap().kind,
            NodeKind::Scalar(_, ScalarStyle::Quoted)
        ));
    }

    #[test]
    fn aliases_expand_and_are_bounded() {
        let node = p("a: &x {k: v}\nb: *x\n").unwrap();
        assert_eq!(node.get("b").unwrap().get("k").unwrap().as_str(), Some("v"));
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let prev = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let err = p(&bomb).unwrap_err();
        assert!(err.message.contains("expands"), "{}", err.message);
    }

    #[test]
    fn deep_nesting_is_an_error() {
        for depth in [100, 5000] {
            let text = "[".repeat(depth) + &"]".repeat(depth);
            let err = p(&text).unwrap_err();
            assert!(err.message.contains("nesting"), "{}", err.message);
        }
    }

    #[test]
    fn binary_and_huge_input_are_errors() {
        assert!(p("a: \0b").unwrap_err().message.contains("NUL"));
        let huge = "a: b\n".repeat(MAX_FILE_BYTES / 4);
        assert!(p(&huge).unwrap_err().message.contains("limit"));
    }

    #[test]
    fn unclosed_brackets_point_at_the_opener() {
        let err = p("a: [1, 2\nb: c\n").unwrap_err();
        assert_eq!(err.message, "`[` opened here is never closed");
        assert_eq!((err.span.line, err.span.col), (1, 4));
        let err = p("a: {k: '[', j: 1\n").unwrap_err();
        assert_eq!((err.span.line, err.span.col), (1, 4));
    }

    #[test]
    fn several_documents_are_an_error() {
        let err = p("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(err.message.contains("more than one"));
        assert_eq!(err.span.line, 3);
    }
}
