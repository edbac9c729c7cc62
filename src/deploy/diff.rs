//! A line diff of two templates (the deployed one and the one about to be deployed), printed
//! like `diff -u` with a few lines of context.

/// Unified-style diff lines (`-`, `+`, ` `), with `context` unchanged lines around changes and
/// `...` where unchanged lines are skipped. Empty when the texts are equal.
pub fn unified(old: &str, new: &str, context: usize) -> Vec<String> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // Longest common subsequence table, from the end.
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    if ops.iter().all(|(c, _)| *c == ' ') {
        return Vec::new();
    }
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, (c, _))| *c != ' ')
        .map(|(k, _)| k)
        .collect();
    let keep = |k: usize| {
        changed
            .iter()
            .any(|&c| k + context >= c && k <= c + context)
    };
    let mut out = Vec::new();
    let mut skipping = false;
    for (k, (c, line)) in ops.iter().enumerate() {
        if *c != ' ' || keep(k) {
            out.push(format!("{c} {line}"));
            skipping = false;
        } else if !skipping {
            out.push("  ...".to_string());
            skipping = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs() {
        assert!(unified("a\nb\n", "a\nb\n", 2).is_empty());
        let d = unified("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nX\ne\nf\ng\n", 1);
        assert_eq!(d, ["  ...", "  c", "- d", "+ X", "  e", "  ..."]);
        let d = unified("", "new\n", 3);
        assert_eq!(d, ["+ new"]);
    }
}
