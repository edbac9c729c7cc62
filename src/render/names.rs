//! Names: stacks, exports, and AWS resource names that have length limits.

use sha2::{Digest, Sha256};

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
