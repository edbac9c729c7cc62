//! The environment's certificate through adoption: Copilot's `HTTPSCert` custom resource
//! requested and validated an ACM certificate (its physical id, and its `Ref`, is the
//! certificate's ARN) for `<env>.<app>.<domain>`, its wildcard and the aliases; the HTTPS
//! listener serves it. tug renders its own `EnvironmentCertificate` for the same names.
//!
//! Adoption keeps Copilot's certificate: tug's is left out and the ARN written where tug's
//! template refers to it, so the HTTPS listener keeps serving the certificate it serves, and
//! no new certificate waits for DNS validation during the adoption. `HTTPSCert` is retained
//! (see `phases`), so its Delete handler never deletes the certificate. The names it covers
//! are recorded (`tug:adoption`, `certificate`): later deploys keep it while tug's certificate
//! would cover the same names; once they differ (an alias added or removed), tug's own
//! certificate is created, and the listener moves to it in place once it is issued.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// tug's logical id of the environment's certificate.
pub(crate) const TUG_ID: &str = crate::render::environment::ENVIRONMENT_CERTIFICATE;

/// Copilot's certificate kept in an adopted environment, and the names tug's would cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Kept {
    pub arn: String,
    pub names: Vec<String>,
}

/// Leaves tug's certificate out of `template` in favour of Copilot's `arn` (an ACM ARN), and
/// returns what was kept; `None` when tug renders no certificate or `arn` is not one.
pub(crate) fn keep_copilots(template: &mut Value, arn: &str) -> Option<Kept> {
    if !arn.starts_with("arn:") || !arn.contains(":acm:") {
        return None;
    }
    let names = names(template)?;
    substitute(template, arn);
    Some(Kept {
        arn: arn.to_string(),
        names,
    })
}

/// On a later render of an adopted environment: keeps Copilot's certificate while tug's would
/// cover the same names. Whether it was kept.
pub(crate) fn keep_again(template: &mut Value, kept: &Kept) -> bool {
    if names(template).as_ref() != Some(&kept.names) {
        return false;
    }
    substitute(template, &kept.arn);
    true
}

/// The names tug's certificate covers: its domain name, then its alternative names.
fn names(template: &Value) -> Option<Vec<String>> {
    let props = template.pointer(&format!("/Resources/{TUG_ID}/Properties"))?;
    let mut out = vec![props.get("DomainName")?.as_str()?.to_string()];
    for n in props
        .get("SubjectAlternativeNames")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push(n.as_str()?.to_string());
    }
    Some(out)
}

/// Removes tug's certificate and writes `arn` for every `Ref` to it.
fn substitute(template: &mut Value, arn: &str) {
    if let Some(r) = template.get_mut("Resources").and_then(Value::as_object_mut) {
        r.remove(TUG_ID);
    }
    replace_refs(template, arn);
}

fn replace_refs(v: &mut Value, arn: &str) {
    match v {
        Value::Object(m) => {
            if m.len() == 1 && m.get("Ref").and_then(Value::as_str) == Some(TUG_ID) {
                *v = Value::String(arn.to_string());
                return;
            }
            m.values_mut().for_each(|x| replace_refs(x, arn));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| replace_refs(x, arn)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:acm:us-east-1:123456789012:certificate/abc";

    fn rendered(alias: &str) -> Value {
        json!({"Resources": {
            TUG_ID: {"Type": "AWS::CertificateManager::Certificate", "Properties": {
                "DomainName": "test.demo.example.com",
                "SubjectAlternativeNames": ["*.test.demo.example.com", alias],
            }},
            "HTTPSListener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
                "Certificates": [{"CertificateArn": {"Ref": TUG_ID}}],
            }},
        }})
    }

    #[test]
    fn copilots_certificate_replaces_tugs() {
        let mut t = rendered("shop.example.com");
        let kept = keep_copilots(&mut t, ARN).expect("kept");
        assert!(t["Resources"][TUG_ID].is_null());
        assert_eq!(
            t["Resources"]["HTTPSListener"]["Properties"]["Certificates"][0]["CertificateArn"],
            json!(ARN)
        );
        assert_eq!(kept.names.len(), 3);
        // Not an ACM ARN (an emulator's stand-in): tug's certificate stays.
        let mut t = rendered("shop.example.com");
        assert!(keep_copilots(&mut t, "https://wait-condition").is_none());
        assert!(!t["Resources"][TUG_ID].is_null());
    }

    #[test]
    fn later_deploys_keep_it_while_the_names_are_the_same() {
        let mut t = rendered("shop.example.com");
        let kept = keep_copilots(&mut t, ARN).expect("kept");
        let mut again = rendered("shop.example.com");
        assert!(keep_again(&mut again, &kept));
        assert!(again["Resources"][TUG_ID].is_null());
        let mut other = rendered("api.example.com");
        assert!(!keep_again(&mut other, &kept));
        assert!(!other["Resources"][TUG_ID].is_null());
    }
}
