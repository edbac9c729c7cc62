//! Names: the rules names follow (applications, environments and workloads by Copilot's rule,
//! which also keeps stack names valid; containers by ECS's), and the names tug gives what it
//! makes: stacks, exports, logical ids and AWS resource names that have length limits. The
//! rules are pure functions that say what is wrong; the validation rules and the workspace
//! reader turn the answers into diagnostics.

use sha2::{Digest, Sha256};

/// The name of the FireLens log router container tug adds for `logging`.
pub const LOG_ROUTER: &str = "firelens_log_router";
/// The name of the X-Ray/ADOT collector container added by `observability.tracing`.
pub const TRACING_SIDECAR: &str = "aws-otel-collector";

/// Longest CloudFormation stack name.
pub const MAX_STACK_NAME: usize = 128;

/// What is wrong with a workload, environment or application name, if anything. Copilot's
/// rule: start with a letter; lowercase letters, digits and single hyphens; at least two
/// characters.
pub fn name_problem(name: &str) -> Option<String> {
    if name.len() < 2 {
        return Some(format!(
            "`{name}` is too short; names have at least 2 characters"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Some(format!("`{name}` must start with a lowercase letter"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Some(format!(
            "`{name}` may contain only lowercase letters, digits and hyphens"
        ));
    }
    if name.contains("--") || name.ends_with('-') {
        return Some(format!("`{name}` may not contain `--` or end with `-`"));
    }
    None
}

/// A valid name close to `name`: lowercase, other characters turned into single hyphens.
pub fn suggest_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out
        .trim_end_matches('-')
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .to_string();
    if out.len() < 2 {
        format!("app-{out}").trim_end_matches('-').to_string()
    } else {
        out
    }
}

/// What is wrong with a container name, if anything (ECS: 1-255 of A-Z a-z 0-9 _ -).
pub fn container_name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > 255 {
        return Some("container names have 1 to 255 characters".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Some(format!(
            "container name `{name}` may contain only letters, digits, `_` and `-`"
        ));
    }
    None
}

/// The environment stack: `<app>-<env>`.
pub fn env_stack(app: &str, env: &str) -> String {
    format!("{app}-{env}")
}

/// A workload stack: `<app>-<env>-<workload>`, at most 128 characters.
pub fn workload_stack(app: &str, env: &str, workload: &str) -> String {
    let name = format!("{app}-{env}-{workload}");
    name.chars().take(128).collect()
}

/// The export that workload stacks import: `<app>-<env>-<Name>`.
pub fn export(app: &str, env: &str, name: &str) -> String {
    format!("{}-{name}", env_stack(app, env))
}

/// A short, stable hash of `text` (hex).
pub fn short_hash(text: &str, len: usize) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex[..len.min(hex.len())].to_string()
}

/// A name of at most `max` characters for resources like target groups (32): readable when it
/// fits, otherwise truncated with a hash of the full name so it stays unique and stable.
pub fn limited(full: &str, max: usize) -> String {
    let clean: String = full
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if clean.len() <= max {
        return clean.trim_matches('-').to_string();
    }
    let hash = short_hash(full, 7);
    let keep = max - hash.len() - 1;
    format!("{}-{hash}", clean[..keep].trim_end_matches('-'))
}

/// The SHA-256 of `text`, hex-encoded.
pub fn sha256(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A CloudFormation logical id made from a user-chosen name: letters and digits only, in
/// PascalCase (`my-sidecar` → `MySidecar`).
pub fn logical_id(name: &str) -> String {
    let mut out = String::new();
    let mut upper = true;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limited_names() {
        assert_eq!(limited("shop-test-web", 32), "shop-test-web");
        let long = limited("a-very-long-application-name-prod-frontend", 32);
        assert!(long.len() <= 32, "{long}");
        assert_eq!(
            long,
            limited("a-very-long-application-name-prod-frontend", 32)
        );
        assert_ne!(
            long,
            limited("a-very-long-application-name-prod-frontenx", 32)
        );
    }

    #[test]
    fn logical_ids() {
        assert_eq!(logical_id("my-sidecar"), "MySidecar");
        assert_eq!(logical_id("nginx_proxy2"), "NginxProxy2");
    }
}
