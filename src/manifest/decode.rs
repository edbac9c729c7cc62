//! Typed decoding of located YAML: turns a [`Node`] tree into manifest types, keeping the
//! position of every value and collecting every problem instead of stopping at the first.
//!
//! Manifest structs are declared with [`manifest_struct!`], which writes the struct, its
//! decoder (unknown keys reported with a did-you-mean hint), its environment-override merge
//! and its JSON Schema in one place, so they cannot drift apart. Union fields ("a number or a
//! mapping") are enums with hand-written [`Decode`] impls next to their definitions.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};

use indexmap::IndexMap;

use crate::manifest::codes;
use crate::manifest::diagnostic::{Diagnostic, Severity, secret_shape};
use crate::manifest::merge::Merge;
use crate::manifest::source::Span;
use crate::manifest::yaml::{Node, NodeKind, ScalarStyle};

/// A value and where it was written. Equality and hashing look at the value only.
#[derive(Debug, Clone, Default)]
pub struct Located<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Located<T> {
    pub fn new(value: T, span: Span) -> Self {
        Located { value, span }
    }
}

impl<T> std::ops::Deref for Located<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: PartialEq> PartialEq for Located<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Located<T> {}

impl<T: Hash> Hash for Located<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state)
    }
}

impl Borrow<str> for Located<String> {
    fn borrow(&self) -> &str {
        &self.value
    }
}

/// An optional, located field: `None` when the key is absent or null ("inherit").
pub type Field<T> = Option<Located<T>>;

/// A mapping with user-chosen keys (sidecars, variables, volumes...), in document order.
pub type Map<T> = IndexMap<Located<String>, Located<T>>;

/// Decoding state: the diagnostics found so far and the key path being decoded.
#[derive(Debug, Default)]
pub struct DecodeCx {
    pub diags: Vec<Diagnostic>,
    /// Report unknown keys as warnings instead of errors (for migrations).
    pub lenient: bool,
    /// The keys the document's type accepts at the top level, for hints.
    pub top_level_keys: Option<&'static [&'static str]>,
    path: Vec<String>,
}

/// Keys that users often write at the top level though they belong in a section.
fn misplaced_key(name: &str) -> Option<&'static str> {
    Some(match name {
        "port" | "location" | "build" | "depends_on" | "credentials" | "labels" => "image",
        "path" | "alias" | "target_container" | "allowed_source_ips" | "stickiness" => "http",
        "range" | "cpu_percentage" | "memory_percentage" | "requests" | "response_time"
        | "spot" => "count",
        "schedule" => "on",
        "rolling" | "rollback_alarms" | "strategy" => "deployment",
        "vpc" | "connect" => "network",
        "ephemeral" | "volumes" | "readonly_fs" => "storage",
        "retention" | "destination" => "logging",
        "topics" => "publish (or subscribe)",
        "tracing" => "observability",
        _ => return None,
    })
}

impl DecodeCx {
    pub fn new(lenient: bool) -> Self {
        DecodeCx {
            lenient,
            ..Default::default()
        }
    }

    /// The dotted key path of the value being decoded, e.g. `http.healthcheck.interval`.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            if seg.starts_with('[') {
                out.push_str(seg);
            } else {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(seg);
            }
        }
        out
    }

    pub fn push(&mut self, seg: impl Into<String>) {
        self.path.push(seg.into());
    }

    pub fn pop(&mut self) {
        self.path.pop();
    }

    /// Runs `f` with `seg` appended to the key path.
    pub fn with<R>(&mut self, seg: impl Into<String>, f: impl FnOnce(&mut Self) -> R) -> R {
        self.push(seg);
        let out = f(self);
        self.pop();
        out
    }

    fn subject(&self) -> String {
        let p = self.path();
        if p.is_empty() {
            "the manifest".to_string()
        } else {
            format!("`{p}`")
        }
    }

    /// Whether the value being decoded sits where secret references belong (`secrets`,
    /// `logging.secretOptions`): a value there may be a secret pasted by mistake, so
    /// diagnostics state its shape instead of quoting it, and the reporter masks it.
    fn sensitive(&self) -> bool {
        self.path
            .iter()
            .any(|seg| seg == "secrets" || seg == "secretOptions")
    }

    /// Reports a value of the wrong shape.
    pub fn wrong_type(&mut self, node: &Node, expected: &str) {
        let msg = format!(
            "{} must be {expected}, found {}",
            self.subject(),
            node.describe()
        );
        let sensitive = self.sensitive();
        let found = match &node.kind {
            NodeKind::Scalar(s, _) if sensitive => format!(" {}", secret_shape(s)),
            NodeKind::Scalar(s, _) => format!(" `{}`", truncate(s, 40)),
            _ => String::new(),
        };
        let mut d = Diagnostic::error(codes::WRONG_TYPE, node.span, format!("{msg}{found}"));
        d.redact = sensitive;
        self.diags.push(d);
    }

    /// Reports a value of the right shape but not an allowed one.
    pub fn invalid(&mut self, span: Span, message: impl std::fmt::Display, help: Option<String>) {
        let mut d = Diagnostic::error(
            codes::INVALID_VALUE,
            span,
            format!("{}: {message}", self.subject()),
        );
        d.help = help;
        d.redact = self.sensitive();
        self.diags.push(d);
    }

    fn unknown_key(&mut self, key: &Node, known: &[&str]) {
        let name = key.as_str().unwrap_or("");
        let top = self.path.is_empty();
        let known = match self.top_level_keys {
            Some(keys) if top => keys,
            _ => known,
        };
        let severity = if self.lenient {
            Severity::Warning
        } else {
            Severity::Error
        };
        let place = if self.path.is_empty() {
            "at the top level".to_string()
        } else {
            format!("in `{}`", self.path())
        };
        let misplaced = if top { misplaced_key(name) } else { None };
        let help = match (did_you_mean(name, known), misplaced) {
            (Some(s), _) => format!("did you mean `{s}`? Check the spelling and the indentation."),
            (None, Some(home)) => format!("`{name}` belongs under `{home}`; check the indentation"),
            (None, None) => format!("keys allowed here: {}", known.join(", ")),
        };
        let mut d = Diagnostic::error(
            codes::UNKNOWN_KEY,
            key.span,
            format!("unknown key `{}` {place}", truncate(name, 60)),
        )
        .with_help(help);
        d.severity = severity;
        self.diags.push(d);
    }

    /// Checks that `node` is a mapping, reporting duplicate keys.
    pub fn expect_map<'n>(&mut self, node: &'n Node, expected: &str) -> Option<&'n [(Node, Node)]> {
        match &node.kind {
            NodeKind::Map(entries) => {
                for (first, dup) in duplicate_keys(entries) {
                    let k = &entries[dup].0;
                    self.diags.push(
                        Diagnostic::error(
                            codes::DUPLICATE_KEY,
                            k.span,
                            format!(
                                "key `{}` appears twice in {}",
                                k.as_str().unwrap_or(""),
                                self.subject()
                            ),
                        )
                        .with_help(format!(
                            "the first one is on line {}; keep one of them",
                            entries[first].0.span.line
                        )),
                    );
                }
                Some(entries)
            }
            _ => {
                self.wrong_type(node, expected);
                None
            }
        }
    }

    /// Decodes the mapping `node` as a struct with the given keys, handing each known entry to
    /// `field`. Unknown keys are reported; a later duplicate overrides an earlier one.
    pub fn decode_struct(
        &mut self,
        node: &Node,
        expected: &str,
        keys: &[&str],
        mut field: impl FnMut(&mut Self, &Node, &Node),
    ) -> bool {
        let Some(entries) = self.expect_map(node, expected) else {
            return false;
        };
        for (k, v) in entries {
            match k.as_str() {
                Some(name) if keys.contains(&name) => {
                    self.push(name);
                    field(self, k, v);
                    self.pop();
                }
                _ => self.unknown_key(k, keys),
            }
        }
        true
    }
}

/// `(first, repeat)` indexes of every key of a mapping that repeats an earlier one, in order.
/// One pass with a hash map: comparing each key with all the earlier ones made a mapping of
/// 69,000 variables take seconds to check.
fn duplicate_keys(entries: &[(Node, Node)]) -> Vec<(usize, usize)> {
    let mut firsts: HashMap<Option<&str>, usize> = HashMap::with_capacity(entries.len());
    let mut out = Vec::new();
    for (i, (k, _)) in entries.iter().enumerate() {
        match firsts.entry(k.as_str()) {
            Entry::Occupied(first) => out.push((*first.get(), i)),
            Entry::Vacant(slot) => {
                slot.insert(i);
            }
        }
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(max).collect::<String>())
    }
}

/// The closest known name to `name`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase().replace('-', "_");
    known
        .iter()
        .map(|k| (edit_distance(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A manifest type that can be decoded from located YAML.
pub trait Decode: Sized {
    /// Decodes `node`, reporting problems to `cx`. `None` means the value was unusable and a
    /// diagnostic says why.
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self>;
}

/// Decodes an optional field: a null value means "not set".
pub fn decode_field<T: Decode>(node: &Node, cx: &mut DecodeCx) -> Field<T> {
    if matches!(node.kind, NodeKind::Null) {
        return None;
    }
    T::decode(node, cx).map(|value| Located::new(value, node.span))
}

/// Decodes the value of `key`. A mapping or list is located at its key, where a reader looks
/// for a section; a scalar at the value itself.
pub fn decode_keyed<T: Decode>(key: &Node, node: &Node, cx: &mut DecodeCx) -> Field<T> {
    let mut field = decode_field::<T>(node, cx)?;
    if matches!(node.kind, NodeKind::Map(_) | NodeKind::Seq(_)) {
        field.span = key.span;
    }
    Some(field)
}

impl<T: Decode> Decode for Located<T> {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        T::decode(node, cx).map(|v| Located::new(v, node.span))
    }
}

fn scalar<'n>(node: &'n Node, cx: &mut DecodeCx, expected: &str) -> Option<(&'n str, ScalarStyle)> {
    match &node.kind {
        NodeKind::Scalar(s, style) => Some((s.as_str(), *style)),
        _ => {
            cx.wrong_type(node, expected);
            None
        }
    }
}

impl Decode for String {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        // Like Copilot's decoder, any scalar is accepted as text: `tag: 123` is "123".
        scalar(node, cx, "text").map(|(s, _)| s.to_string())
    }
}

impl Decode for bool {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let (s, style) = scalar(node, cx, "true or false")?;
        let plain = style == ScalarStyle::Plain;
        match s {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            // YAML 1.1 booleans, which Copilot's decoder also accepted for boolean keys.
            "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" if plain => Some(true),
            "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" if plain => Some(false),
            _ => {
                cx.wrong_type(node, "true or false");
                None
            }
        }
    }
}

macro_rules! decode_int {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
                let expected = "a whole number";
                let (s, _) = scalar(node, cx, expected)?;
                // Quoted numbers ("80") are accepted: they mean the same to every reader.
                match s.trim().replace('_', "").parse::<$t>() {
                    Ok(v) => Some(v),
                    Err(_) => {
                        let help = if s.trim().parse::<i128>().is_ok() {
                            format!("the value must be between {} and {}", <$t>::MIN, <$t>::MAX)
                        } else {
                            "write a whole number without units or quotes".to_string()
                        };
                        cx.wrong_type(node, expected);
                        if let Some(last) = cx.diags.last_mut() {
                            last.help = Some(help);
                        }
                        None
                    }
                }
            }
        }
    )*};
}
decode_int!(u8, u16, u32, u64, i64);

impl Decode for f64 {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let (s, _) = scalar(node, cx, "a number")?;
        match s.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                cx.wrong_type(node, "a number");
                None
            }
        }
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        match &node.kind {
            NodeKind::Seq(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| cx.with(format!("[{i}]"), |cx| T::decode(item, cx)))
                    .collect(),
            ),
            _ => {
                cx.wrong_type(node, "a list");
                None
            }
        }
    }
}

impl<T: Decode> Decode for IndexMap<Located<String>, Located<T>> {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let entries = cx.expect_map(node, "a mapping")?;
        let mut out = IndexMap::with_capacity(entries.len());
        for (k, v) in entries {
            let key = k.as_str().unwrap_or_default().to_string();
            let value = cx.with(key.clone(), |cx| match &v.kind {
                // An empty entry (`nginx:` with nothing under it) is an empty value of its type.
                NodeKind::Null => T::decode(
                    &Node {
                        kind: NodeKind::Map(Vec::new()),
                        span: v.span,
                    },
                    cx,
                ),
                _ => T::decode(v, cx),
            });
            if let Some(value) = value {
                out.insert(Located::new(key, k.span), Located::new(value, v.span));
            }
        }
        Some(out)
    }
}

/// Any YAML value, kept as JSON (for pass-through fields such as `taskdef_overrides` values).
impl Decode for serde_json::Value {
    fn decode(node: &Node, _cx: &mut DecodeCx) -> Option<Self> {
        Some(node_to_json(node))
    }
}

/// Converts a located YAML tree to JSON, resolving plain scalars as YAML's core schema does.
pub fn node_to_json(node: &Node) -> serde_json::Value {
    match &node.kind {
        NodeKind::Null => serde_json::Value::Null,
        NodeKind::Scalar(s, ScalarStyle::Plain) => plain_scalar_to_json(s),
        NodeKind::Scalar(s, _) => serde_json::Value::String(s.clone()),
        NodeKind::Seq(items) => serde_json::Value::Array(items.iter().map(node_to_json).collect()),
        NodeKind::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), node_to_json(v))))
                .collect(),
        ),
    }
}

/// Resolves a plain scalar the way YAML 1.2's core schema does.
pub fn plain_scalar_to_json(s: &str) -> serde_json::Value {
    match s {
        "true" | "True" | "TRUE" => return serde_json::Value::Bool(true),
        "false" | "False" | "FALSE" => return serde_json::Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = s.parse::<i64>() {
        return serde_json::Value::from(i);
    }
    if s.contains(['.', 'e', 'E'])
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '-')
        && let Ok(f) = s.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(f)
    {
        return serde_json::Value::Number(n);
    }
    serde_json::Value::String(s.to_string())
}

/// Declares a manifest struct: its fields, their YAML keys, its decoder and its merge.
///
/// ```ignore
/// manifest_struct! {
///     /// Doc comment.
///     pub struct Http {
///         /// The path to route.
///         path: String = "path",
///     }
/// }
/// ```
/// Every field becomes `Field<T>`. Add `custom_merge;` after the name to write `Merge` by hand
/// (the generated `merge_fields` is still available).
#[macro_export]
macro_rules! manifest_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident $([$custom:ident])? {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $key:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $crate::manifest::decode::Field<$ty>, )*
        }

        impl $name {
            /// The YAML keys this mapping accepts.
            pub const KEYS: &'static [&'static str] = &[$($key),*];

            /// Forgets the value of `key` (used to drop keys another workload type owns).
            #[allow(dead_code)]
            pub fn clear(&mut self, key: &str) {
                match key {
                    $( $key => self.$field = None, )*
                    _ => {}
                }
            }

            /// Merges an override into a base field by field.
            #[allow(unused_variables)]
            pub fn merge_fields(base: Self, over: Self) -> Self {
                $name {
                    $( $field: $crate::manifest::merge::merge_field(base.$field, over.$field), )*
                }
            }
        }

        impl $crate::manifest::decode::Decode for $name {
            fn decode(
                node: &$crate::manifest::yaml::Node,
                cx: &mut $crate::manifest::decode::DecodeCx,
            ) -> Option<Self> {
                let mut out = $name::default();
                let ok = cx.decode_struct(node, "a mapping", Self::KEYS, |cx, key, value| {
                    match key.as_str().unwrap_or_default() {
                        $( $key => out.$field = $crate::manifest::decode::decode_keyed(key, value, cx), )*
                        _ => {}
                    }
                });
                if ok { Some(out) } else { None }
            }
        }

        impl $crate::manifest::schema::Schema for $name {
            fn schema(g: &mut $crate::manifest::schema::SchemaGen) -> serde_json::Value {
                g.define(stringify!($name), std::any::type_name::<Self>(), |g| {
                    let properties = vec![
                        $( ($key, $crate::schema_of!(g, $ty)), )*
                    ];
                    g.object(properties)
                })
            }
            const EMPTY_IN_MAP: bool = true;
        }

        $crate::manifest_struct!(@merge $name $($custom)?);
    };
    (@merge $name:ident) => {
        impl $crate::manifest::merge::Merge for $name {
            fn merge(base: Self, over: Self) -> Self {
                $name::merge_fields(base, over)
            }
        }
    };
    (@merge $name:ident custom_merge) => {};
}

impl Merge for serde_json::Value {}

#[cfg(test)]
mod tests {
    // Test models from `manifest_struct!`, which makes them `pub` as the real models are.
    #![allow(unreachable_pub)]

    use super::*;
    use crate::manifest::source::SourceId;
    use crate::manifest::yaml;

    manifest_struct! {
        /// A test struct.
        pub struct Inner {
            path: String = "path",
            port: u16 = "port",
            enabled: bool = "enabled",
        }
    }

    manifest_struct! {
        pub struct Outer {
            name: String = "name",
            inner: Inner = "inner",
            tags: Vec<String> = "tags",
            vars: Map<String> = "variables",
        }
    }

    fn decode(text: &str, lenient: bool) -> (Option<Outer>, Vec<Diagnostic>) {
        let node = yaml::parse(SourceId(0), text).unwrap();
        let mut cx = DecodeCx::new(lenient);
        let out = Outer::decode(&node, &mut cx);
        (out, cx.diags)
    }

    #[test]
    fn decodes_fields_with_positions() {
        let (out, diags) = decode("name: web\ninner:\n  port: 8080\n  enabled: true\n", false);
        assert!(diags.is_empty(), "{diags:?}");
        let out = out.unwrap();
        let inner = out.inner.unwrap().value;
        assert_eq!(inner.port.as_ref().unwrap().value, 8080);
        assert_eq!(inner.port.unwrap().span.line, 3);
        assert!(inner.enabled.unwrap().value);
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let (_, diags) = decode("name: web\ninner:\n  prot: 80\n", false);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, codes::UNKNOWN_KEY);
        assert_eq!(diags[0].severity, Severity::Error);
        assert!(diags[0].help.as_deref().unwrap().contains("`port`"));
        assert_eq!((diags[0].span.line, diags[0].span.col), (3, 3));
        let (_, diags) = decode("nmae: web\n", true);
        assert_eq!(diags[0].severity, Severity::Warning);
    }

    #[test]
    fn all_type_errors_are_reported() {
        let (out, diags) = decode(
            "name: [a]\ninner:\n  port: high\n  enabled: maybe\ntags: x\n",
            false,
        );
        assert_eq!(diags.len(), 4, "{diags:?}");
        assert!(diags.iter().all(|d| d.code == codes::WRONG_TYPE));
        assert!(
            diags[1].message.contains("`inner.port`"),
            "{}",
            diags[1].message
        );
        assert!(out.is_some());
    }

    #[test]
    fn out_of_range_numbers_say_the_range() {
        let (_, diags) = decode("inner:\n  port: 70000\n", false);
        assert!(diags[0].help.as_deref().unwrap().contains("65535"));
    }

    #[test]
    fn duplicate_keys_are_reported() {
        let (_, diags) = decode("name: a\nname: b\n", false);
        assert_eq!(diags[0].code, codes::DUPLICATE_KEY);
    }

    #[test]
    fn every_repeat_points_at_the_first_occurrence() {
        let node = crate::manifest::yaml::parse(
            crate::manifest::source::SourceId(0),
            "a: 1\nb: 2\na: 3\nc: 4\na: 5\nb: 6\n",
        )
        .unwrap();
        let NodeKind::Map(entries) = &node.kind else {
            panic!("a mapping")
        };
        assert_eq!(duplicate_keys(entries), [(0, 2), (0, 4), (1, 5)]);
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("healthchek", &["healthcheck", "path"]),
            Some("healthcheck")
        );
        assert_eq!(did_you_mean("zzz", &["healthcheck", "path"]), None);
        assert_eq!(
            did_you_mean("cpu-percentage", &["cpu_percentage"]),
            Some("cpu_percentage")
        );
    }
}
