//! No secret value in any diagnostic (issue 18). The workspace tests/security/leaks holds fake
//! secret values where secret references belong (literal, quoted, interpolated from `${VAR}`,
//! in sidecars and FireLens `secretOptions`, inside a list where text belongs). `tug validate`
//! must report each of them (with file:line:col) in text and JSON output without printing any
//! of the values: the source of truth is the planted values themselves.
//!
//! The template-side checks (TLS policies, drop-invalid-headers, IAM resources) run over every
//! rendered template in tests/render.rs.

mod support;

use std::process::Command;

use support::root;

/// The planted values, as they would appear in a log; none may appear in any output.
const VALUES: &[&str] = &[
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYFAKEKEY",
    "ghp_FAKE+interpolated=token",
    "correct horse battery staple",
    "hunter2-FAKE-list-value",
    "fake=logging=secret=Value9",
    "12345 FAKE sidecar secret",
];

/// Fragments long enough to identify a value (a third of it, at least 10 characters, so that
/// words of tug's own messages such as "secret" do not count), so that a truncated or partly
/// masked echo is caught too.
fn fragments(value: &str) -> Vec<String> {
    let chars: Vec<char> = value.chars().collect();
    let n = (chars.len() / 3).max(10);
    chars.windows(n).map(|w| w.iter().collect()).collect()
}

fn validate(args: &[&str]) -> (String, Option<i32>) {
    let out = Command::new(env!("CARGO_BIN_EXE_tug"))
        .args(args)
        .arg("validate")
        .current_dir(root().join("tests/security/leaks"))
        .env("LEAKED_TOKEN", VALUES[1])
        .env("NO_COLOR", "1")
        .output()
        .expect("tug runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (text, out.status.code())
}

#[test]
fn diagnostics_never_print_a_secret_value() {
    for args in [&[][..], &["--output", "json"][..], &["-v"][..]] {
        let (text, code) = validate(args);
        // Invalid manifests: exit 3 (DESIGN §3).
        assert_eq!(code, Some(3), "{args:?}: {text}");
        for value in VALUES {
            for fragment in fragments(value) {
                assert!(
                    !text.contains(&fragment),
                    "{args:?}: output shows `{fragment}` of a secret value:\n{text}"
                );
            }
        }
        // Every planted value is still reported, at its place.
        for line in [8, 10, 12, 15, 20, 25] {
            let place = if args.is_empty() || args == ["-v"] {
                format!("copilot/api/manifest.yml:{line}:")
            } else {
                format!("\"line\": {line},")
            };
            assert!(
                text.contains(&place),
                "{args:?}: no diagnostic at {place}:\n{text}"
            );
        }
        assert!(text.contains("TUG207"), "{text}");
        assert!(text.contains("characters"), "the shape is stated: {text}");
    }
}

#[test]
fn interpolated_values_keep_their_variable_name_visible() {
    let (text, _) = validate(&[]);
    assert!(
        text.contains("GITHUB_TOKEN: ${LEAKED_TOKEN}"),
        "the source line names the variable, not its value:\n{text}"
    );
}
