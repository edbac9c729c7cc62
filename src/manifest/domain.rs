//! The application's domain (`tug app init --domain example.com`, Copilot's `app init
//! --domain`), as `.workspace` records it: the domain, its public hosted zone, and the hosted
//! zone of the application's subdomain `<app>.<domain>`. Owns which of the three zones (the
//! environment's `<env>.<app>.<domain>`, the application's, the domain's) a host name belongs in,
//! with Copilot's rule: the zone's own name or one label more.

use crate::manifest::codes;
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::source::Span;
use crate::manifest_struct;

manifest_struct! {
    /// `domain:` in `.workspace`.
    pub struct DomainFile {
        name: String = "name",
        hosted_zone: String = "hosted_zone",
        app_hosted_zone: String = "app_hosted_zone",
    }
}

/// The application's domain with the ids of the two hosted zones tug writes records into
/// outside the environment's own zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppDomain {
    /// `example.com`, lower case, without a trailing dot.
    pub name: String,
    /// The public hosted zone of `example.com` (Copilot's `domainHostedZoneID`).
    pub hosted_zone: String,
    /// The hosted zone of `<app>.example.com`, which delegates to each environment's zone.
    pub app_hosted_zone: String,
}

/// Which hosted zone a host name goes in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Zone {
    /// `<env>.<app>.<domain>`: the environment stack's `EnvironmentHostedZone`.
    Environment,
    /// `<app>.<domain>`.
    Application(String),
    /// `<domain>`.
    Domain(String),
}

impl AppDomain {
    /// The environment's subdomain, `<env>.<app>.<domain>`.
    pub fn environment(&self, app: &str, env: &str) -> String {
        format!("{env}.{app}.{}", self.name)
    }

    /// The zone `host` belongs in: the environment's, the application's or the domain's, when
    /// the host is that zone's name or one label below it (as Copilot allowed), else `None`.
    pub fn zone_of(&self, app: &str, env: &str, host: &str) -> Option<Zone> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let within = |zone: &str| {
            host == zone
                || host
                    .strip_suffix(zone)
                    .and_then(|h| h.strip_suffix('.'))
                    .is_some_and(|label| !label.is_empty() && !label.contains('.'))
        };
        if within(&self.environment(app, env)) {
            Some(Zone::Environment)
        } else if within(&format!("{app}.{}", self.name)) {
            Some(Zone::Application(self.app_hosted_zone.clone()))
        } else if within(&self.name) {
            Some(Zone::Domain(self.hosted_zone.clone()))
        } else {
            None
        }
    }

    /// The names a host outside the domain could have had instead, for error messages.
    pub fn allowed(&self, app: &str, env: &str) -> String {
        format!(
            "`{0}`, `<name>.{0}`, `<name>.{app}.{0}` or `<name>.{env}.{app}.{0}`",
            self.name
        )
    }

    /// Reads `domain:` of `.workspace`; every field must be there (`tug app init --domain`
    /// writes them), and the values must look like what Route 53 uses.
    pub fn from_file(
        file: &DomainFile,
        span: Span,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<AppDomain> {
        let help = "run `tug app init --domain <domain>`: it looks up or creates the hosted zones and writes all three keys";
        let mut field = |value: &crate::manifest::decode::Field<String>, key: &str| match value {
            Some(v) if !v.value.trim().is_empty() => Some(v.clone()),
            _ => {
                diags.push(
                    Diagnostic::error(
                        codes::WORKSPACE,
                        value.as_ref().map_or(span, |v| v.span),
                        format!("`domain.{key}` is missing in .workspace"),
                    )
                    .with_help(help),
                );
                None
            }
        };
        let name = field(&file.name, "name");
        let zone = field(&file.hosted_zone, "hosted_zone");
        let app_zone = field(&file.app_hosted_zone, "app_hosted_zone");
        let (name, zone, app_zone) = (name?, zone?, app_zone?);
        let mut ok = true;
        let domain = name.value.trim_end_matches('.').to_ascii_lowercase();
        if let Some(problem) = domain_problem(&domain) {
            ok = false;
            diags.push(
                Diagnostic::error(
                    codes::WORKSPACE,
                    name.span,
                    format!("domain `{}` {problem}", name.value),
                )
                .with_help("give the domain whose public Route 53 hosted zone you own, such as example.com"),
            );
        }
        for z in [&zone, &app_zone] {
            if !zone_id_ok(&z.value) {
                ok = false;
                diags.push(
                    Diagnostic::error(
                        codes::WORKSPACE,
                        z.span,
                        format!("`{}` is not a Route 53 hosted zone id", z.value),
                    )
                    .with_help("hosted zone ids are up to 32 upper-case letters and digits, such as Z0123456789ABCDEFGHIJ; run `tug app init --domain <domain>` to write them"),
                );
            }
        }
        ok.then(|| AppDomain {
            name: domain,
            hosted_zone: zone.value.trim_start_matches("/hostedzone/").to_string(),
            app_hosted_zone: app_zone
                .value
                .trim_start_matches("/hostedzone/")
                .to_string(),
        })
    }
}

/// `.workspace` text with its `domain:` block set to `domain` (replacing one that is there),
/// every other line kept as it was.
pub fn with_domain(workspace: &str, domain: &AppDomain) -> String {
    let mut out = String::new();
    let mut in_block = false;
    for line in workspace.lines() {
        let top_level = !line.starts_with([' ', '\t']) && !line.trim().is_empty();
        if top_level {
            in_block = line.starts_with("domain:");
        }
        if !in_block {
            out.push_str(line);
            out.push('\n');
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "domain:\n  name: {}\n  hosted_zone: {}\n  app_hosted_zone: {}\n",
        domain.name, domain.hosted_zone, domain.app_hosted_zone
    ));
    out
}

/// Why `domain` is not a DNS name Route 53 can host, if it is not.
pub fn domain_problem(domain: &str) -> Option<&'static str> {
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Some("needs at least two labels (a name and a top-level domain)");
    }
    if domain.len() > 200 {
        return Some(
            "is too long: with the application and environment names in front it must stay within 253 characters",
        );
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !labels.iter().all(label_ok) {
        return Some(
            "is not a DNS name: labels of letters, digits and inner hyphens, separated by dots",
        );
    }
    None
}

/// A hosted zone id as Route 53 returns it (with or without the `/hostedzone/` prefix).
pub fn zone_id_ok(id: &str) -> bool {
    let id = id.trim_start_matches("/hostedzone/");
    !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain() -> AppDomain {
        AppDomain {
            name: "example.com".into(),
            hosted_zone: "ZROOT".into(),
            app_hosted_zone: "ZAPP".into(),
        }
    }

    #[test]
    fn hosts_go_in_the_narrowest_zone_one_label_deep() {
        let d = domain();
        let z = |h: &str| d.zone_of("shop", "test", h);
        assert_eq!(z("test.shop.example.com"), Some(Zone::Environment));
        assert_eq!(z("api.test.shop.example.com"), Some(Zone::Environment));
        assert_eq!(z("API.Test.shop.example.com."), Some(Zone::Environment));
        assert_eq!(
            z("shop.example.com"),
            Some(Zone::Application("ZAPP".into()))
        );
        assert_eq!(
            z("api.shop.example.com"),
            Some(Zone::Application("ZAPP".into()))
        );
        assert_eq!(z("example.com"), Some(Zone::Domain("ZROOT".into())));
        assert_eq!(z("www.example.com"), Some(Zone::Domain("ZROOT".into())));
        // Two labels below a zone that is not the environment's: no zone holds it.
        assert_eq!(z("a.b.example.com"), None);
        assert_eq!(z("a.b.test.shop.example.com"), None);
        assert_eq!(z("example.org"), None);
        assert_eq!(z("notexample.com"), None);
        assert_eq!(z("example.com.evil.org"), None);
    }

    #[test]
    fn the_domain_block_is_written_once_and_other_lines_kept() {
        let d = domain();
        let first = with_domain("application: shop\n# mine\nlenient: true\n", &d);
        assert_eq!(
            first,
            "application: shop\n# mine\nlenient: true\ndomain:\n  name: example.com\n  hosted_zone: ZROOT\n  app_hosted_zone: ZAPP\n"
        );
        let moved = AppDomain {
            app_hosted_zone: "ZOTHER".into(),
            ..d.clone()
        };
        let again = with_domain(&first.replace("lenient: true\n", ""), &moved);
        assert_eq!(again.matches("domain:").count(), 1, "{again}");
        assert!(again.contains("app_hosted_zone: ZOTHER"), "{again}");
        assert!(again.starts_with("application: shop\n# mine\n"), "{again}");
    }

    #[test]
    fn domain_names_and_zone_ids_are_checked() {
        assert_eq!(domain_problem("example.com"), None);
        assert!(domain_problem("localhost").is_some());
        assert!(domain_problem("exa_mple.com").is_some());
        assert!(domain_problem("-a.com").is_some());
        assert!(zone_id_ok("Z0123456789ABCDEFGHIJ"));
        assert!(zone_id_ok("/hostedzone/Z01234"));
        assert!(!zone_id_ok("z123"));
        assert!(!zone_id_ok(""));
    }
}
