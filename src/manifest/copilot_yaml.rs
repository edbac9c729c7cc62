//! Values Copilot inserted into its CloudFormation templates without quoting.
//!
//! Copilot rendered its templates as text: some manifest values landed in the YAML as they
//! were written, e.g. `ValueFrom: {{$secret.ValueFrom}}` in its `secrets.yml` partial. Users
//! learned to write YAML inside YAML there, such as a secret given as
//! `"'arn:aws:secretsmanager:…:secret:rds!db-…:password::'"`: the outer quotes belong to the
//! manifest, the inner ones to the template, and CloudFormation received the plain ARN.
//!
//! For every such place in Copilot's templates where a quoted value still made a valid
//! template, a value that is one whole YAML quoted scalar is read as CloudFormation read it
//! (quotes removed, escapes applied), with a warning. The places (Copilot's partial, the key):
//!
//! | partial | keys |
//! | --- | --- |
//! | `secrets.yml`, `sidecars.yml`, `logconfig.yml` (`ValueFrom:`) | `secrets`, `sidecars.*.secrets`, `logging.secrets`, `logging.secretOptions` (text form) |
//! | `sidecars.yml` (`Image:`, `config-file-value:`, `CredentialsParameter:`, `SourceVolume:`) | `sidecars.*.image` (text or `location`), `logging.image`, `logging.configFilePath`, `sidecars.*.credentialsParameter`, `sidecars.*.mount_points[].source_volume` |
//! | `workload-container.yml` (`CredentialsParameter:`) | `image.credentials` |
//! | `image-overrides.yml` (`- {{$part}}`) | each word of `entrypoint` and `command`, main container and sidecars |
//! | `volumes.yml` (`FilesystemId:`, `AccessPointId:`) | `storage.volumes.*.efs.id` (text form), `efs.auth.access_point_id` |
//! | `alb.yml` (`HealthCheckPath:`, `HttpCode:`) | `http.healthcheck` (text or `path`), `http.healthcheck.success_codes`, and the same in `http.additional_rules` |
//! | environment `cf.yml` (`VpcId:`, `SubnetId:`, `CertificateArn:`, `SslPolicy:`, access log `Value:`) | `network.vpc.id`, `network.vpc.subnets.*[].id`, `http.*.certificates`, `http.*.ssl_policy`, `http.public.access_logs.bucket_name`, `.prefix` |
//!
//! Not included: places where a quoted value broke Copilot's template or failed its
//! validation (`http.path`, whose rule also renders `{{path}}/*`; hosted zones, used in logical
//! ids; CIDRs and source IPs, which Copilot parsed), and values Copilot quoted (`variables`,
//! `labels`, log `destination`, `!Sub '…'` of `secretsmanager`).

use crate::manifest::codes;
use crate::manifest::decode::{Field, Located, Map};
use crate::manifest::diagnostic::Diagnostic;
use crate::manifest::model::common::{Secret, Sidecar};
use crate::manifest::model::service::RoutingRule;
use crate::manifest::model::{EnvironmentManifest, WorkloadManifest};
use crate::manifest::source::SourceId;
use crate::manifest::union::{BoolOr, Command, ScalarOr, shell_split};
use crate::manifest::yaml::{self, NodeKind, ScalarStyle};

/// The text CloudFormation read where Copilot's template held `value` unquoted, when that
/// differs from `value` because `value` is one whole YAML quoted scalar (`'…'` or `"…"`).
pub fn inner_scalar(value: &str) -> Option<String> {
    let t = value.trim();
    if !(t.starts_with('\'') || t.starts_with('"')) {
        return None;
    }
    // Parsed as the value of a key, as it sat in the template. The source id is unused:
    // nothing located comes out of this.
    let node = yaml::parse(SourceId(u32::MAX), &format!("v: {t}\n")).ok()?;
    let NodeKind::Map(entries) = node.kind else {
        return None;
    };
    match &entries.first()?.1.kind {
        NodeKind::Scalar(inner, ScalarStyle::Quoted) => Some(inner.clone()),
        _ => None,
    }
}

/// Reads the values of `m` that Copilot inserted unquoted as Copilot's templates did.
pub fn unquote_workload(m: &mut WorkloadManifest, diags: &mut Vec<Diagnostic>) {
    secrets(&mut m.secrets, "secrets", diags);
    if let Some(image) = &mut m.image {
        text(
            &mut image.value.credentials,
            "image.credentials",
            false,
            diags,
        );
    }
    command(&mut m.entrypoint, "entrypoint", diags);
    command(&mut m.command, "command", diags);
    if let Some(sidecars) = &mut m.sidecars {
        for (name, sc) in sidecars.value.iter_mut() {
            sidecar(&mut sc.value, &format!("sidecars.{}", name.value), diags);
        }
    }
    if let Some(logging) = &mut m.logging {
        let l = &mut logging.value;
        secrets(&mut l.secrets, "logging.secrets", diags);
        secrets(&mut l.secret_options, "logging.secretOptions", diags);
        text(&mut l.image, "logging.image", false, diags);
        text(
            &mut l.config_file_path,
            "logging.configFilePath",
            false,
            diags,
        );
    }
    if let Some(volumes) = m.storage.as_mut().and_then(|s| s.value.volumes.as_mut()) {
        for (name, vol) in volumes.value.iter_mut() {
            let Some(efs) = vol.value.efs.as_mut() else {
                continue;
            };
            let BoolOr::Config(efs) = &mut efs.value else {
                continue;
            };
            let key = format!("storage.volumes.{}.efs", name.value);
            if let Some(id) = &mut efs.id
                && let ScalarOr::Scalar(s) = &mut id.value
            {
                fix(s, id.span, &format!("{key}.id"), false, diags);
            }
            if let Some(auth) = &mut efs.auth {
                text(
                    &mut auth.value.access_point_id,
                    &format!("{key}.auth.access_point_id"),
                    false,
                    diags,
                );
            }
        }
    }
    if let Some(http) = &mut m.http
        && let BoolOr::Config(rule) = &mut http.value
    {
        routing_rule(rule, "http", diags);
        if let Some(rules) = &mut rule.additional_rules {
            for (i, r) in rules.value.iter_mut().enumerate() {
                routing_rule(&mut r.value, &format!("http.additional_rules[{i}]"), diags);
            }
        }
    }
}

/// Reads the values of an environment manifest that Copilot inserted unquoted.
pub fn unquote_environment(m: &mut EnvironmentManifest, diags: &mut Vec<Diagnostic>) {
    if let Some(vpc) = m.network.as_mut().and_then(|n| n.value.vpc.as_mut()) {
        text(&mut vpc.value.id, "network.vpc.id", false, diags);
        if let Some(subnets) = &mut vpc.value.subnets {
            for (side, list) in [
                ("public", &mut subnets.value.public),
                ("private", &mut subnets.value.private),
            ] {
                for (i, s) in list.iter_mut().flat_map(|l| l.value.iter_mut()).enumerate() {
                    text(
                        &mut s.value.id,
                        &format!("network.vpc.subnets.{side}[{i}].id"),
                        false,
                        diags,
                    );
                }
            }
        }
    }
    if let Some(http) = &mut m.http {
        if let Some(public) = &mut http.value.public {
            let p = &mut public.value;
            list(&mut p.certificates, "http.public.certificates", diags);
            text(&mut p.ssl_policy, "http.public.ssl_policy", false, diags);
            if let Some(logs) = &mut p.access_logs
                && let BoolOr::Config(c) = &mut logs.value
            {
                text(
                    &mut c.bucket_name,
                    "http.public.access_logs.bucket_name",
                    false,
                    diags,
                );
                text(
                    &mut c.prefix,
                    "http.public.access_logs.prefix",
                    false,
                    diags,
                );
            }
        }
        if let Some(private) = &mut http.value.private {
            let p = &mut private.value;
            list(&mut p.certificates, "http.private.certificates", diags);
            text(&mut p.ssl_policy, "http.private.ssl_policy", false, diags);
        }
    }
}

fn sidecar(sc: &mut Sidecar, key: &str, diags: &mut Vec<Diagnostic>) {
    if let Some(image) = &mut sc.image {
        let span = image.span;
        match &mut image.value {
            ScalarOr::Scalar(s) => fix(s, span, &format!("{key}.image"), false, diags),
            ScalarOr::Config(c) => text(
                &mut c.location,
                &format!("{key}.image.location"),
                false,
                diags,
            ),
        }
    }
    text(
        &mut sc.credentials_parameter,
        &format!("{key}.credentialsParameter"),
        false,
        diags,
    );
    secrets(&mut sc.secrets, &format!("{key}.secrets"), diags);
    command(&mut sc.entrypoint, &format!("{key}.entrypoint"), diags);
    command(&mut sc.command, &format!("{key}.command"), diags);
    if let Some(mps) = &mut sc.mount_points {
        for (i, mp) in mps.value.iter_mut().enumerate() {
            text(
                &mut mp.value.source_volume,
                &format!("{key}.mount_points[{i}].source_volume"),
                false,
                diags,
            );
        }
    }
}

fn routing_rule(rule: &mut RoutingRule, key: &str, diags: &mut Vec<Diagnostic>) {
    let Some(hc) = &mut rule.healthcheck else {
        return;
    };
    let span = hc.span;
    match &mut hc.value {
        ScalarOr::Scalar(path) => fix(path, span, &format!("{key}.healthcheck"), false, diags),
        ScalarOr::Config(c) => {
            text(
                &mut c.path,
                &format!("{key}.healthcheck.path"),
                false,
                diags,
            );
            text(
                &mut c.success_codes,
                &format!("{key}.healthcheck.success_codes"),
                false,
                diags,
            );
        }
    }
}

fn secrets(map: &mut Field<Map<Secret>>, key: &str, diags: &mut Vec<Diagnostic>) {
    let Some(map) = map else { return };
    for (name, secret) in map.value.iter_mut() {
        let span = secret.span;
        if let ScalarOr::Scalar(s) = &mut secret.value {
            fix(s, span, &format!("{key}.{}", name.value), true, diags);
        }
    }
}

fn list(field: &mut Field<Vec<Located<String>>>, key: &str, diags: &mut Vec<Diagnostic>) {
    let Some(items) = field else { return };
    for (i, item) in items.value.iter_mut().enumerate() {
        let span = item.span;
        fix(&mut item.value, span, &format!("{key}[{i}]"), false, diags);
    }
}

/// `entrypoint` and `command`: Copilot split the text form like a shell, then inserted each
/// word unquoted. A word that is still a quoted scalar after the split (`echo "'hi'"`) was
/// unquoted by CloudFormation; the text form then becomes the list of words it meant.
fn command(field: &mut Field<Command>, key: &str, diags: &mut Vec<Diagnostic>) {
    let Some(cmd) = field else { return };
    let span = cmd.span;
    let mut words = match &cmd.value {
        Command::Args(a) => a.clone(),
        // Unbalanced quotes are reported by validation; leave the text as written.
        Command::Shell(s) => match shell_split(s) {
            Ok(w) => w,
            Err(_) => return,
        },
    };
    let mut changed = false;
    for (i, w) in words.iter_mut().enumerate() {
        if let Some(inner) = inner_scalar(w) {
            diags.push(warning(&format!("{key}[{i}]"), span, Some((w, &inner))));
            *w = inner;
            changed = true;
        }
    }
    if changed {
        cmd.value = Command::Args(words);
    }
}

fn text(field: &mut Field<String>, key: &str, sensitive: bool, diags: &mut Vec<Diagnostic>) {
    if let Some(f) = field {
        let span = f.span;
        fix(&mut f.value, span, key, sensitive, diags);
    }
}

fn fix(
    value: &mut String,
    span: crate::manifest::source::Span,
    key: &str,
    sensitive: bool,
    diags: &mut Vec<Diagnostic>,
) {
    let Some(inner) = inner_scalar(value) else {
        return;
    };
    // Secret references are not secrets, but their diagnostics never quote values (a value
    // there may be a secret pasted by mistake).
    let shown = (!sensitive).then_some((value.as_str(), inner.as_str()));
    let mut d = warning(key, span, shown);
    d.redact = sensitive;
    diags.push(d);
    *value = inner;
}

fn warning(
    key: &str,
    span: crate::manifest::source::Span,
    shown: Option<(&str, &str)>,
) -> Diagnostic {
    let what = match shown {
        Some((written, read)) => format!(" `{written}` is read as `{read}`"),
        None => " its inner quotes are removed".to_string(),
    };
    Diagnostic::warning(
        codes::COPILOT_YAML_VALUE,
        span,
        format!(
            "`{key}` is quoted twice (YAML inside YAML), which Copilot's template unquoted:{what}"
        ),
    )
    .with_help("write the value with one pair of quotes; tug quotes what it renders")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inner_scalars_are_read_as_yaml_would() {
        assert_eq!(
            inner_scalar("'arn:aws:secretsmanager:eu-west-1:1:secret:rds!db-1:password::'")
                .as_deref(),
            Some("arn:aws:secretsmanager:eu-west-1:1:secret:rds!db-1:password::")
        );
        assert_eq!(inner_scalar(r#""a\tb""#).as_deref(), Some("a\tb"));
        assert_eq!(inner_scalar(r#""a\"b""#).as_deref(), Some("a\"b"));
        assert_eq!(inner_scalar("'it''s'").as_deref(), Some("it's"));
        // Not one whole quoted scalar: left alone.
        assert_eq!(inner_scalar("plain"), None);
        assert_eq!(inner_scalar("'a' b"), None);
        assert_eq!(inner_scalar("a 'b'"), None);
        assert_eq!(inner_scalar("'unterminated"), None);
    }
}
