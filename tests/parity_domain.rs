//! Copilot parity of the application domain (`copilot app init --domain`, issue 13): what
//! Copilot created for an application with a domain, without its Lambdas.
//!
//! Sources of truth, read as facts from Copilot's source: the app template
//! (templates/app/app.yml: `AppHostedZone` `<app>.<domain>` and its NS delegation, TTL 900), the
//! environment template (environment/cf.yml: `EnvironmentHostedZone` `<env>.<app>.<domain>`,
//! the HTTPS listener on `HTTPSCert`; custom-resources.yml and the dns-delegation and
//! dns-cert-validator Lambdas: the NS upsert into the application's zone, a certificate for
//! `<env>.<app>.<domain>`, `*.<env>.<app>.<domain>` and the aliases in the environment's,
//! application's or domain's zone), the workload partials (https-listener.yml:
//! `LoadBalancerDNSAlias` `<svc>.<env>.<app>.<domain>` without aliases; nlb.yml: `NLBDNSAlias`
//! `<svc>-nlb.<env>.<app>.<domain>`; wkld-cert-validator: the NLB's certificate for that name
//! and its aliases) and `validateAliases` in internal/pkg/cli/deploy/svc.go (an alias is a
//! zone's name or one label below it). Rendered templates pass cfn-lint (its Route 53 and ACM
//! schemas) and tests/support/api_constraints.rs. The deploy test runs against moto (not AWS):
//! it checks the zones and records Route 53 ends up with; moto issues no certificate and does
//! not resolve DNS, so certificate validation is checked only in the rendered template.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;
use support::api_constraints::assert_api_constraints;
use support::{Moto, boto3, cfn_lint, stderr, temp_workspace, tug};

const DOMAIN: &str = "domain:\n  name: example.com\n  hosted_zone: Z0000000000000000ROOT\n  app_hosted_zone: Z00000000000000000APP\n";

/// A workspace of application `shop` with `.workspace` text `workspace_tail` after the
/// application line, environment `test`, and the given workloads.
fn workspace(workspace_tail: &str, workloads: &[(&str, &str)]) -> tempfile::TempDir {
    temp_workspace(
        &format!("application: shop\n{workspace_tail}"),
        "name: test\ntype: Environment\n",
        workloads,
    )
}

fn render(dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tug"))
        .current_dir(dir)
        .args(["render", "-e", "test", "--output-dir"])
        .arg(dir.join("rendered"))
        .output()
        .expect("tug runs")
}

/// Renders every stack of environment `test`, checks each against cfn-lint and the API
/// constraints; returns (stack, template).
fn render_all(dir: &Path) -> Vec<(String, Value)> {
    let out = render(dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stacks = Vec::new();
    for entry in fs::read_dir(dir.join("rendered")).expect("rendered") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yml") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = fs::read_to_string(&path).expect("read");
            assert_api_constraints(&name, &text);
            stacks.push((name, serde_yaml::from_str(&text).expect("YAML")));
            files.push(path);
        }
    }
    cfn_lint(&files);
    stacks.sort_by(|a, b| a.0.cmp(&b.0));
    stacks
}

fn template<'a>(stacks: &'a [(String, Value)], name: &str) -> &'a Value {
    stacks
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("no stack {name}"))
}

fn resource<'a>(t: &'a Value, id: &str) -> &'a Value {
    let r = &t["Resources"][id];
    assert!(r.is_mapping(), "no resource {id}");
    r
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).expect("YAML")
}

const WEB: &str =
    "name: web\ntype: Load Balanced Web Service\nimage:\n  location: nginx\n  port: 8080\n";
const API: &str = "name: api\ntype: Load Balanced Web Service\nimage:\n  location: nginx\n  port: 8080\nhttp:\n  path: /\n  alias:\n    - example.com\n    - api.shop.example.com\n    - v1.test.shop.example.com\n    - name: api.example.org\n      hosted_zone: Z0000000000000000ORG\n";
const TCP: &str = "name: tcp\ntype: Load Balanced Web Service\nimage:\n  location: nginx\n  port: 8080\nhttp: false\nnlb:\n  port: 443/tls\n  alias: tcp.shop.example.com\n";
const UDP: &str = "name: udp\ntype: Load Balanced Web Service\nimage:\n  location: nginx\n  port: 8080\nhttp: false\nnlb:\n  port: 8080/tcp\n";

/// The environment stack: Copilot's `EnvironmentHostedZone`, its delegation from the
/// application's zone, a DNS-validated certificate for the subdomain, its wildcard and the
/// aliases (each validated in its zone), and the HTTPS listener using it; HTTP redirects.
#[test]
fn environment_gets_the_subdomain_zone_delegation_and_certificate() {
    let ws = workspace(DOMAIN, &[("web", WEB), ("api", API)]);
    let stacks = render_all(ws.path());
    let env = template(&stacks, "shop-test");
    let zone = resource(env, "EnvironmentHostedZone");
    assert_eq!(zone["Type"], "AWS::Route53::HostedZone");
    assert_eq!(zone["Properties"]["Name"], "test.shop.example.com");
    let ns = &resource(env, "EnvironmentHostedZoneDelegation")["Properties"];
    assert_eq!(ns["HostedZoneId"], "Z00000000000000000APP");
    assert_eq!(ns["Name"], "test.shop.example.com.");
    assert_eq!(ns["Type"], "NS");
    assert_eq!(
        ns["ResourceRecords"],
        yaml("{Fn::GetAtt: [EnvironmentHostedZone, NameServers]}")
    );
    let cert = &resource(env, "EnvironmentCertificate")["Properties"];
    assert_eq!(cert["DomainName"], "test.shop.example.com");
    assert_eq!(
        cert["SubjectAlternativeNames"],
        yaml(
            "['*.test.shop.example.com', example.com, api.shop.example.com, v1.test.shop.example.com, api.example.org]"
        )
    );
    assert_eq!(
        cert["DomainValidationOptions"],
        yaml(
            "[{DomainName: test.shop.example.com, HostedZoneId: {Ref: EnvironmentHostedZone}},
              {DomainName: '*.test.shop.example.com', HostedZoneId: {Ref: EnvironmentHostedZone}},
              {DomainName: example.com, HostedZoneId: Z0000000000000000ROOT},
              {DomainName: api.shop.example.com, HostedZoneId: Z00000000000000000APP},
              {DomainName: v1.test.shop.example.com, HostedZoneId: {Ref: EnvironmentHostedZone}},
              {DomainName: api.example.org, HostedZoneId: Z0000000000000000ORG}]"
        )
    );
    let https = &resource(env, "HTTPSListener")["Properties"];
    assert_eq!(
        https["Certificates"][0]["CertificateArn"],
        yaml("{Ref: EnvironmentCertificate}")
    );
    assert_eq!(https["SslPolicy"], "ELBSecurityPolicy-TLS13-1-2-2021-06");
    let http = &resource(env, "HTTPListener")["Properties"];
    assert_eq!(http["DefaultActions"][0]["Type"], "redirect");
    // Copilot's export names, which its workload stacks imported.
    assert_eq!(
        env["Outputs"]["HostedZone"]["Export"]["Name"],
        "shop-test-HostedZone"
    );
    assert_eq!(
        env["Outputs"]["SubDomain"]["Value"],
        "test.shop.example.com"
    );
}

/// Services: the default name `<svc>.<env>.<app>.<domain>` without aliases
/// (`LoadBalancerDNSAlias`), alias records in the zone each name belongs in, rules on the
/// HTTPS listener with HTTP rules that redirect.
#[test]
fn services_get_the_default_name_and_their_aliases_in_the_right_zone() {
    let ws = workspace(DOMAIN, &[("web", WEB), ("api", API)]);
    let stacks = render_all(ws.path());
    let web = template(&stacks, "shop-test-web");
    let default = resource(web, "LoadBalancerDNSAlias");
    assert_eq!(default["Type"], "AWS::Route53::RecordSetGroup");
    assert_eq!(
        default["Properties"]["HostedZoneId"],
        yaml("{Fn::ImportValue: shop-test-HostedZone}")
    );
    assert_eq!(
        default["Properties"]["RecordSets"][0]["Name"],
        "web.test.shop.example.com."
    );
    assert_eq!(
        resource(web, "HTTPSListenerRule")["Properties"]["ListenerArn"],
        yaml("{Fn::ImportValue: shop-test-HTTPSListenerArn}")
    );
    assert_eq!(
        resource(web, "HTTPListenerRule")["Properties"]["Actions"][0]["Type"],
        "redirect"
    );
    let api = template(&stacks, "shop-test-api");
    assert!(api["Resources"]["LoadBalancerDNSAlias"].is_null());
    let zone_of = |id: &str| resource(api, id)["Properties"]["HostedZoneId"].clone();
    assert_eq!(zone_of("AliasRecordExampleCom"), "Z0000000000000000ROOT");
    assert_eq!(
        zone_of("AliasRecordApiShopExampleCom"),
        "Z00000000000000000APP"
    );
    assert_eq!(
        zone_of("AliasRecordV1TestShopExampleCom"),
        yaml("{Fn::ImportValue: shop-test-HostedZone}")
    );
    assert_eq!(zone_of("AliasRecordApiExampleOrg"), "Z0000000000000000ORG");
}

/// NLBs: plain-name aliases in the domain get records and the TLS listener a certificate for
/// `<svc>-nlb.<env>.<app>.<domain>` and the aliases; without aliases, `NLBDNSAlias`.
#[test]
fn nlb_aliases_and_default_name_in_the_domain() {
    let ws = workspace(DOMAIN, &[("tcp", TCP), ("udp", UDP)]);
    let stacks = render_all(ws.path());
    let tcp = template(&stacks, "shop-test-tcp");
    let record = &resource(tcp, "NLBAliasRecordTcpShopExampleCom")["Properties"];
    assert_eq!(record["HostedZoneId"], "Z00000000000000000APP");
    assert_eq!(record["Name"], "tcp.shop.example.com");
    let cert = &resource(tcp, "NLBCertificate")["Properties"];
    assert_eq!(cert["DomainName"], "tcp-nlb.test.shop.example.com");
    assert_eq!(
        cert["SubjectAlternativeNames"],
        yaml("[tcp.shop.example.com]")
    );
    assert_eq!(
        cert["DomainValidationOptions"],
        yaml(
            "[{DomainName: tcp-nlb.test.shop.example.com, HostedZoneId: {Fn::ImportValue: shop-test-HostedZone}},
              {DomainName: tcp.shop.example.com, HostedZoneId: Z00000000000000000APP}]"
        )
    );
    assert_eq!(
        resource(tcp, "NLBListener")["Properties"]["Certificates"][0]["CertificateArn"],
        yaml("{Ref: NLBCertificate}")
    );
    assert!(tcp["Resources"]["NLBDNSAlias"].is_null());
    let udp = template(&stacks, "shop-test-udp");
    let default = &resource(udp, "NLBDNSAlias")["Properties"];
    assert_eq!(
        default["RecordSets"][0]["Name"],
        "udp-nlb.test.shop.example.com."
    );
    // No public ALB in this environment: the zone and delegation, no certificate.
    let env = template(&stacks, "shop-test");
    resource(env, "EnvironmentHostedZone");
    assert!(env["Resources"]["EnvironmentCertificate"].is_null());
}

/// An environment that imports certificates gets no zone or certificate of the domain, as with
/// Copilot (its domain resources were conditioned on no imported certificates): the HTTPS
/// listener uses the imported certificate and no default name is made.
#[test]
fn imported_certificates_leave_the_domain_out() {
    let ws = workspace(DOMAIN, &[("web", WEB)]);
    fs::write(
        ws.path().join("copilot/environments/test/manifest.yml"),
        "name: test\ntype: Environment\nhttp:\n  public:\n    certificates: [arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555]\n",
    )
    .expect("write");
    let stacks = render_all(ws.path());
    let env = template(&stacks, "shop-test");
    assert!(env["Resources"]["EnvironmentHostedZone"].is_null());
    assert!(env["Resources"]["EnvironmentCertificate"].is_null());
    assert!(
        resource(env, "HTTPSListener")["Properties"]["Certificates"][0]["CertificateArn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:aws:acm:"))
    );
    let web = template(&stacks, "shop-test-web");
    assert!(web["Resources"]["LoadBalancerDNSAlias"].is_null());
}

/// An alias outside the domain without its own zone is an error at its position, naming the
/// names that would work; without a domain, a plain NLB alias names both ways out.
#[test]
fn aliases_outside_the_domain_are_errors_with_positions() {
    let outside = "name: api\ntype: Load Balanced Web Service\nimage:\n  location: nginx\n  port: 8080\nhttp:\n  path: /\n  alias: a.b.example.com\n";
    let nlb = "name: tcp\ntype: Load Balanced Web Service\nimage:\n  location: nginx\n  port: 8080\nhttp: false\nnlb:\n  port: 443/tls\n  alias:\n    - name: tcp.example.net\n";
    let ws = workspace(DOMAIN, &[("api", outside), ("tcp", nlb)]);
    let out = render(ws.path());
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(err.contains("api/manifest.yml:8:10"), "{err}");
    assert!(
        err.contains("alias `a.b.example.com` is not in the application's domain `example.com`"),
        "{err}"
    );
    assert!(err.contains("<name>.test.shop.example.com"), "{err}");
    assert!(err.contains("tcp/manifest.yml:10:13"), "{err}");

    let ws = workspace("", &[("tcp", TCP)]);
    let out = render(ws.path());
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(err.contains("tcp/manifest.yml:9:10"), "{err}");
    assert!(err.contains("tug app init --domain"), "{err}");
}

/// A `domain:` block without its zones, or with a name that is not a DNS name, is refused
/// where it is written.
#[test]
fn an_incomplete_domain_in_workspace_is_refused_with_its_position() {
    let ws = workspace("domain:\n  name: example.com\n", &[("web", WEB)]);
    let out = Command::new(env!("CARGO_BIN_EXE_tug"))
        .current_dir(ws.path())
        .args(["validate"])
        .output()
        .expect("tug runs");
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out) + &String::from_utf8_lossy(&out.stdout);
    assert!(err.contains(".workspace:2:1"), "{err}");
    assert!(err.contains("`domain.hosted_zone` is missing"), "{err}");
    assert!(err.contains("tug app init --domain"), "{err}");

    let ws = workspace(
        "domain:\n  name: exa_mple.com\n  hosted_zone: Z1\n  app_hosted_zone: Z2\n",
        &[("web", WEB)],
    );
    let out = Command::new(env!("CARGO_BIN_EXE_tug"))
        .current_dir(ws.path())
        .args(["validate"])
        .output()
        .expect("tug runs");
    let err = stderr(&out) + &String::from_utf8_lossy(&out.stdout);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains(".workspace:3:9"), "{err}");
}

/// On moto: `tug app init --domain` finds the domain's zone, makes the application's zone with
/// its delegation and records both in `.workspace`; `tug deploy` then makes the environment's
/// zone, its delegation in the application's zone and the service's default name.
#[test]
fn app_init_with_a_domain_then_deploy_on_moto() {
    let moto = Moto::start(10);
    let root_zone = boto3(
        &moto,
        "print(r53.create_hosted_zone(Name='example.com', CallerReference='t')['HostedZone']['Id'].split('/')[-1])",
    );
    let ws = workspace("", &[("web", WEB)]);
    let out = tug(
        ws.path(),
        &moto.url(),
        &["app", "init", "--domain", "example.com"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = fs::read_to_string(ws.path().join("copilot/.workspace")).expect("read");
    assert!(
        text.starts_with("application: shop\ndomain:\n  name: example.com\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("  hosted_zone: {root_zone}\n")),
        "{text}"
    );
    // Idempotent: a second run finds the zone and leaves one `domain:` block.
    let out = tug(
        ws.path(),
        &moto.url(),
        &["app", "init", "--domain", "example.com"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let again = fs::read_to_string(ws.path().join("copilot/.workspace")).expect("read");
    assert_eq!(again, text);
    // Another domain is refused.
    let out = tug(
        ws.path(),
        &moto.url(),
        &["app", "init", "--domain", "example.org"],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("already has the domain example.com"),
        "{}",
        stderr(&out)
    );

    let out = tug(ws.path(), &moto.url(), &["deploy", "-e", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let zones = boto3(
        &moto,
        // Names without their trailing dot: moto keeps a zone made by CloudFormation as given.
        "zs = {z['Name'].rstrip('.'): z['Id'].split('/')[-1] for z in r53.list_hosted_zones()['HostedZones']}\n\
def names(zone):\n    return sorted(r['Name'].rstrip('.') + ' ' + r['Type'] for r in r53.list_resource_record_sets(HostedZoneId=zs[zone])['ResourceRecordSets'])\n\
print(json.dumps({z: names(z) for z in zs}))",
    );
    let zones: serde_json::Value = serde_json::from_str(&zones).expect("JSON");
    let has = |zone: &str, record: &str| {
        zones[zone]
            .as_array()
            .is_some_and(|rs| rs.iter().any(|r| r == record))
    };
    assert!(has("example.com", "shop.example.com NS"), "{zones}");
    assert!(
        has("shop.example.com", "test.shop.example.com NS"),
        "{zones}"
    );
    assert!(
        has("test.shop.example.com", "web.test.shop.example.com A"),
        "{zones}"
    );
    // The HTTPS listener uses the certificate CloudFormation requested for the subdomain.
    let certs = boto3(
        &moto,
        "acm = boto3.client('acm', **kw)\n\
print(json.dumps(sorted(c['DomainName'] for c in acm.list_certificates()['CertificateSummaryList'])))",
    );
    assert!(certs.contains("test.shop.example.com"), "{certs}");
    let listener = boto3(
        &moto,
        "acm = boto3.client('acm', **kw)\n\
elb = boto3.client('elbv2', **kw)\n\
lb = [b['LoadBalancerArn'] for b in elb.describe_load_balancers()['LoadBalancers'] if b['Type'] == 'application'][0]\n\
ls = elb.describe_listeners(LoadBalancerArn=lb)['Listeners']\n\
cert = [c['CertificateArn'] for c in acm.list_certificates()['CertificateSummaryList'] if c['DomainName'] == 'test.shop.example.com'][0]\n\
print(json.dumps([l['Certificates'][0]['CertificateArn'] == cert for l in ls if l['Port'] == 443]))",
    );
    assert_eq!(listener, "[true]");
}
