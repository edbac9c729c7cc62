//! Environment overrides: how an `environments.<env>` block is merged into the base manifest.
//!
//! Copilot's rules, applied on typed data so every value keeps its position: scalars are
//! replaced, lists are replaced wholesale, maps merge key by key, nested structs merge field by
//! field, and choosing one form of a union clears the other. A missing or null key inherits.

use indexmap::IndexMap;

use crate::manifest::decode::{Field, Located};
use crate::manifest::duration::Duration;

/// Combines a base value with an override.
pub trait Merge: Sized {
    /// The default, for scalars, lists and unions whose forms differ: the override wins.
    fn merge(base: Self, over: Self) -> Self {
        let _ = base;
        over
    }
}

/// Merges one optional field: an absent override keeps the base.
pub fn merge_field<T: Merge>(base: Field<T>, over: Field<T>) -> Field<T> {
    match (base, over) {
        (Some(b), Some(o)) => Some(Located::new(T::merge(b.value, o.value), o.span)),
        (b, None) => b,
        (None, o) => o,
    }
}

impl Merge for String {}
impl Merge for bool {}
impl Merge for u8 {}
impl Merge for u16 {}
impl Merge for u32 {}
impl Merge for u64 {}
impl Merge for i64 {}
impl Merge for f64 {}
impl Merge for Duration {}
impl<T> Merge for Vec<T> {}

/// Maps merge key by key; values merge by their own rules (structs deeply, scalars replace).
impl<T: Merge> Merge for IndexMap<Located<String>, Located<T>> {
    fn merge(mut base: Self, over: Self) -> Self {
        for (key, value) in over {
            match base.shift_remove_full(&key) {
                Some((index, _, old)) => {
                    let merged = Located::new(T::merge(old.value, value.value), value.span);
                    base.insert(key.clone(), merged);
                    // Keep the key where the base had it.
                    let last = base.len() - 1;
                    base.move_index(last, index);
                }
                None => {
                    base.insert(key, value);
                }
            }
        }
        base
    }
}

/// Implements [`Merge`] for a union enum: when base and override use the same struct form,
/// merge them deeply; otherwise the override's form replaces (clears) the base's.
#[macro_export]
macro_rules! union_merge {
    ($name:ident { $($deep:ident),* $(,)? }) => {
        impl $crate::manifest::merge::Merge for $name {
            #[allow(unreachable_patterns)]
            fn merge(base: Self, over: Self) -> Self {
                match (base, over) {
                    $( ($name::$deep(b), $name::$deep(o)) =>
                        $name::$deep($crate::manifest::merge::Merge::merge(b, o)), )*
                    (_, o) => o,
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::source::{SourceId, Span};

    fn at(line: u32) -> Span {
        Span::new(SourceId(0), line, 1)
    }

    #[test]
    fn maps_merge_by_key_and_keep_order() {
        let mut base: IndexMap<Located<String>, Located<String>> = IndexMap::new();
        base.insert(
            Located::new("A".into(), at(1)),
            Located::new("1".into(), at(1)),
        );
        base.insert(
            Located::new("B".into(), at(2)),
            Located::new("2".into(), at(2)),
        );
        let mut over: IndexMap<Located<String>, Located<String>> = IndexMap::new();
        over.insert(
            Located::new("A".into(), at(9)),
            Located::new("x".into(), at(9)),
        );
        over.insert(
            Located::new("C".into(), at(10)),
            Located::new("3".into(), at(10)),
        );
        let merged = Merge::merge(base, over);
        let keys: Vec<_> = merged.keys().map(|k| k.value.as_str()).collect();
        assert_eq!(keys, ["A", "B", "C"]);
        assert_eq!(merged["A"].value, "x");
        assert_eq!(merged["A"].span.line, 9, "the override's position is kept");
    }

    #[test]
    fn absent_override_inherits() {
        let base = Some(Located::new(5u32, at(1)));
        assert_eq!(merge_field(base.clone(), None), base);
        let merged = merge_field(base, Some(Located::new(7u32, at(4)))).unwrap();
        assert_eq!((merged.value, merged.span.line), (7, 4));
    }

    #[test]
    fn lists_are_replaced_wholesale() {
        let merged = Merge::merge(vec![1u32, 2, 3], vec![9]);
        assert_eq!(merged, vec![9]);
    }
}
