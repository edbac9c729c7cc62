//! Durations as manifests write them: Go-style `30s`, `1m30s`, `1h`, `500ms`.

use std::fmt;

use crate::manifest::decode::{Decode, DecodeCx};
use crate::manifest::yaml::{Node, NodeKind};

/// A non-negative duration with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration {
    pub millis: u64,
}

impl Duration {
    pub fn from_secs(secs: u64) -> Self {
        Duration {
            millis: secs * 1000,
        }
    }

    pub fn as_secs_f64(self) -> f64 {
        self.millis as f64 / 1000.0
    }

    /// Whole seconds, when the duration has no fractional second.
    pub fn whole_secs(self) -> Option<u64> {
        self.millis
            .is_multiple_of(1000)
            .then_some(self.millis / 1000)
    }

    /// Parses `1h30m`, `45s`, `250ms`, `1.5h`. Units are required, as in Go.
    pub fn parse(text: &str) -> Result<Duration, String> {
        let s = text.trim();
        if s.is_empty() {
            return Err("empty duration".into());
        }
        if s == "0" {
            return Ok(Duration::default());
        }
        let mut total = 0f64;
        let mut rest = s;
        while !rest.is_empty() {
            let num_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            if num_len == 0 {
                return Err(format!("`{text}` is not a duration"));
            }
            let number: f64 = rest[..num_len]
                .parse()
                .map_err(|_| format!("`{text}` is not a duration"))?;
            rest = &rest[num_len..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(rest.len());
            let factor = match &rest[..unit_len] {
                "h" => 3_600_000.0,
                "m" => 60_000.0,
                "s" => 1000.0,
                "ms" => 1.0,
                "us" | "µs" => 0.001,
                "ns" => 0.000_001,
                "" => return Err(format!("`{text}` needs a unit, for example {number}s")),
                u => return Err(format!("unknown unit `{u}` in `{text}`; use h, m, s or ms")),
            };
            rest = &rest[unit_len..];
            total += number * factor;
        }
        if total > 1e15 {
            return Err(format!("`{text}` is too long"));
        }
        Ok(Duration {
            millis: total.round() as u64,
        })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.millis;
        if ms == 0 {
            return write!(f, "0s");
        }
        if !ms.is_multiple_of(1000) {
            return write!(f, "{ms}ms");
        }
        let mut secs = ms / 1000;
        let h = secs / 3600;
        secs %= 3600;
        let m = secs / 60;
        secs %= 60;
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if secs > 0 {
            write!(f, "{secs}s")?;
        }
        Ok(())
    }
}

impl Decode for Duration {
    fn decode(node: &Node, cx: &mut DecodeCx) -> Option<Self> {
        let NodeKind::Scalar(text, _) = &node.kind else {
            cx.wrong_type(node, "a duration such as 30s or 1m30s");
            return None;
        };
        match Duration::parse(text) {
            Ok(d) => Some(d),
            Err(e) => {
                cx.invalid(
                    node.span,
                    e,
                    Some("write durations like 30s, 5m or 1h30m".into()),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(Duration::parse("30s").unwrap().millis, 30_000);
        assert_eq!(Duration::parse("1m30s").unwrap().millis, 90_000);
        assert_eq!(Duration::parse("1.5h").unwrap().millis, 5_400_000);
        assert_eq!(Duration::parse("250ms").unwrap().millis, 250);
        assert_eq!(Duration::parse("0").unwrap().millis, 0);
        assert!(Duration::parse("10").unwrap_err().contains("needs a unit"));
        assert!(Duration::parse("10y").unwrap_err().contains("unknown unit"));
        assert!(Duration::parse("abc").is_err());
    }

    #[test]
    fn displays_compactly() {
        assert_eq!(Duration::parse("90s").unwrap().to_string(), "1m30s");
        assert_eq!(Duration::parse("2h").unwrap().to_string(), "2h");
    }
}
