//! What a service on an imported Application Load Balancer (`http.alb`) needs from it at
//! deploy time: the listener its rules forward on, the HTTP listener that redirects next to an
//! HTTPS one, and the load balancer's DNS name and canonical hosted zone for alias records.
//!
//! As Copilot did (its `lbws` deployer), the load balancer is found by name or ARN and must
//! have one listener (HTTP or HTTPS) or two (one HTTP and one HTTPS); with two, the HTTPS one
//! forwards and the HTTP one redirects. The template names these values as parameters
//! (src/render/workload/http.rs), so rendering stays offline.

use std::collections::BTreeMap;

use crate::deploy::aws::{Aws, describe_error};
use crate::error::{Error, Result};
use crate::render::workload::http::{
    IMPORTED_DNS, IMPORTED_HTTP_LISTENER, IMPORTED_LISTENER, IMPORTED_ZONE,
};

/// The listeners of an imported load balancer that a service's rules use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listeners {
    /// HTTPS when the load balancer has one, else its HTTP listener.
    pub forward: String,
    /// The HTTP listener next to an HTTPS one.
    pub redirect: Option<String>,
}

/// Picks the listeners from (ARN, protocol) pairs, or says why the load balancer cannot be
/// used.
pub fn choose(alb: &str, listeners: &[(String, String)]) -> Result<Listeners> {
    let of = |protocol: &str| {
        listeners
            .iter()
            .filter(|(_, p)| p == protocol)
            .map(|(arn, _)| arn.clone())
            .collect::<Vec<_>>()
    };
    let (http, https) = (of("HTTP"), of("HTTPS"));
    let help = "give the load balancer one HTTP or HTTPS listener, or one of each (as Copilot required), or use the environment's load balancer";
    match (listeners.len(), http.as_slice(), https.as_slice()) {
        (1, [only], []) | (1, [], [only]) => Ok(Listeners {
            forward: only.clone(),
            redirect: None,
        }),
        (2, [http], [https]) => Ok(Listeners {
            forward: https.clone(),
            redirect: Some(http.clone()),
        }),
        (0, _, _) => Err(Error::failure(format!(
            "the imported load balancer {alb} has no listener"
        ))
        .help(help)),
        _ => {
            let found: Vec<String> = listeners.iter().map(|(_, p)| p.clone()).collect();
            Err(Error::failure(format!(
                "the imported load balancer {alb} has listeners {}, and tug cannot tell which of them should route to the service",
                found.join(", ")
            ))
            .help(help))
        }
    }
}

/// The parameter values of an imported load balancer, by parameter name.
pub async fn parameters(aws: &Aws, alb: &str) -> Result<BTreeMap<&'static str, String>> {
    let request = aws.elb.describe_load_balancers();
    let request = if alb.starts_with("arn:") {
        request.load_balancer_arns(alb)
    } else {
        request.names(alb)
    };
    let found = request.send().await.map_err(|e| {
        format!(
            "cannot read the imported load balancer {alb} (`http.alb`): {}",
            describe_error(&e)
        )
    })?;
    let Some(lb) = found.load_balancers().first() else {
        return Err(Error::failure(format!(
            "the imported load balancer {alb} (`http.alb`) does not exist in this account and Region"
        )));
    };
    let arn = lb.load_balancer_arn().unwrap_or_default().to_string();
    let listeners = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(&arn)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot read the listeners of the imported load balancer {alb}: {}",
                describe_error(&e)
            )
        })?;
    let pairs: Vec<(String, String)> = listeners
        .listeners()
        .iter()
        .map(|l| {
            (
                l.listener_arn().unwrap_or_default().to_string(),
                l.protocol()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let chosen = choose(alb, &pairs)?;
    let mut out = BTreeMap::new();
    out.insert(IMPORTED_LISTENER, chosen.forward);
    out.insert(
        IMPORTED_HTTP_LISTENER,
        chosen.redirect.unwrap_or_else(|| "none".to_string()),
    );
    out.insert(IMPORTED_DNS, lb.dns_name().unwrap_or_default().to_string());
    out.insert(
        IMPORTED_ZONE,
        lb.canonical_hosted_zone_id()
            .unwrap_or_default()
            .to_string(),
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(arn: &str, protocol: &str) -> (String, String) {
        (arn.to_string(), protocol.to_string())
    }

    #[test]
    fn one_listener_forwards() {
        let c = choose("shared", &[l("a", "HTTP")]).unwrap();
        assert_eq!((c.forward.as_str(), c.redirect), ("a", None));
        let c = choose("shared", &[l("b", "HTTPS")]).unwrap();
        assert_eq!(c.forward, "b");
    }

    #[test]
    fn https_forwards_and_http_redirects() {
        let c = choose("shared", &[l("a", "HTTP"), l("b", "HTTPS")]).unwrap();
        assert_eq!(c.forward, "b");
        assert_eq!(c.redirect.as_deref(), Some("a"));
    }

    #[test]
    fn other_shapes_are_refused_with_help() {
        let none = choose("shared", &[]).unwrap_err();
        assert!(none.message().contains("has no listener"), "{none}");
        assert!(none.help_text().is_some(), "{none}");
        let two_http = choose("shared", &[l("a", "HTTP"), l("b", "HTTP")]).unwrap_err();
        assert!(
            two_http.message().contains("listeners HTTP, HTTP"),
            "{two_http}"
        );
        assert!(
            two_http
                .to_string()
                .contains("\n  help: give the load balancer"),
            "{two_http}"
        );
        let three = choose(
            "shared",
            &[l("a", "HTTP"), l("b", "HTTPS"), l("c", "HTTPS")],
        )
        .unwrap_err();
        assert!(three.message().contains("cannot tell"), "{three}");
    }
}
