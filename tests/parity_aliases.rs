//! Copilot parity of aliases and routing rules (issue 13, item 6).
//!
//! Source of truth for what Copilot created: its workload templates (aws/copilot-cli,
//! internal/pkg/template/templates/workloads/partials/cf/alb.yml, https-listener.yml and
//! imported-alb-resources.yml) and its `lbws` deployer, read as facts: per routing rule an
//! HTTPS rule that forwards and an HTTP rule of the same conditions that redirects to HTTPS
//! (`redirect_to_https`, default true); Route 53 alias records for aliases with a hosted zone,
//! to the public, internal or imported load balancer; on an imported load balancer with an
//! HTTP and an HTTPS listener, HTTPS forwards and HTTP redirects; HTTPS target groups for
//! targets on port 443. Every rendered template passes cfn-lint and the API constraint check.
//! The deploy test runs against moto (not AWS): it checks what tug looks up on the imported
//! load balancer and passes to CloudFormation; moto does not evaluate listener rules.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_yaml::Value;
use support::{Moto, boto3, stderr, temp_workspace, tug};

const CERT: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555";

/// A workspace of application `app`, environment `test` (HTTPS on both load balancers when
/// `https`), and the given workloads.
fn workspace(app: &str, https: bool, workloads: &[(&str, &str)]) -> tempfile::TempDir {
    let env = if https {
        format!(
            "name: test\ntype: Environment\nhttp:\n  public:\n    certificates: [{CERT}]\n  private:\n    certificates: [{CERT}]\n"
        )
    } else {
        "name: test\ntype: Environment\n".to_string()
    };
    temp_workspace(&format!("application: {app}\n"), &env, workloads)
}

/// Renders every stack of environment `test` into a folder; returns (stack, template text).
fn render_all(dir: &Path) -> Vec<(String, String)> {
    let out_dir = dir.join("rendered");
    let out = Command::new(env!("CARGO_BIN_EXE_tug"))
        .current_dir(dir)
        .args(["render", "-e", "test", "--output-dir"])
        .arg(&out_dir)
        .output()
        .expect("tug runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut stacks = Vec::new();
    for entry in fs::read_dir(&out_dir).expect("rendered") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "yml") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            stacks.push((name, fs::read_to_string(&path).expect("read")));
        }
    }
    stacks.sort();
    support::lint_stacks(&stacks);
    stacks
}

fn template(stacks: &[(String, String)], name: &str) -> Value {
    let text = stacks
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| panic!("no stack {name}"));
    serde_yaml::from_str(text).expect("YAML")
}

fn props<'a>(t: &'a Value, id: &str) -> &'a Value {
    let r = &t["Resources"][id];
    assert!(r.is_mapping(), "no resource {id}");
    &r["Properties"]
}

fn field<'a>(conditions: &'a Value, name: &str) -> Option<&'a Value> {
    conditions
        .as_sequence()
        .into_iter()
        .flatten()
        .find(|c| c["Field"] == name)
}

const WEB: &str = "name: web\ntype: Load Balanced Web Service\nimage:\n  location: nginx\n  port: 8080\nhttp:\n  path: /\n  alias:\n    - name: web.example.com\n      hosted_zone: Z0000000000000000001\n  additional_rules:\n    - path: /admin\n      alias: admin.example.com\n      hosted_zone: Z0000000000000000002\n      allowed_source_ips: [10.0.0.0/8]\n      redirect_to_https: false\n    - path: /secure\n      target_port: 443\n      healthcheck:\n        path: /health\n        port: 8080\n      stickiness: true\n      deregistration_delay: 30s\n      version: http2\n";
const API: &str = "name: api\ntype: Backend Service\nimage:\n  location: nginx\n  port: 8080\nhttp:\n  path: /api\n  alias: api.internal.example.com\n  hosted_zone: Z0000000000000000003\n";

/// Per routing rule, an HTTPS rule that forwards and an HTTP rule of the same conditions that
/// redirects (or forwards with `redirect_to_https: false`), as Copilot's https-listener.yml.
#[test]
fn redirect_rules_per_alias_and_path() {
    let ws = workspace("red", true, &[("web", WEB)]);
    let stacks = render_all(ws.path());
    let t = template(&stacks, "red-test-web");
    let https = props(&t, "HTTPSListenerRule");
    let http = props(&t, "HTTPListenerRule");
    assert_eq!(https["Conditions"], http["Conditions"]);
    assert_eq!(https["Priority"], http["Priority"]);
    assert_eq!(
        field(&http["Conditions"], "host-header").unwrap()["HostHeaderConfig"]["Values"][0],
        "web.example.com"
    );
    let redirect = &http["Actions"][0];
    assert_eq!(redirect["Type"], "redirect");
    assert_eq!(redirect["RedirectConfig"]["Protocol"], "HTTPS");
    assert_eq!(redirect["RedirectConfig"]["Port"], "443");
    assert_eq!(redirect["RedirectConfig"]["Path"], "/#{path}");
    assert_eq!(redirect["RedirectConfig"]["StatusCode"], "HTTP_301");
    assert_eq!(
        http["ListenerArn"]["Fn::ImportValue"],
        "red-test-HTTPListenerArn"
    );
    // An additional rule with `redirect_to_https: false` forwards on HTTP too, with its
    // alias and source IPs.
    let http1 = props(&t, "HTTPListenerRule1");
    assert_eq!(http1["Actions"][0]["Type"], "forward");
    assert_eq!(
        field(&http1["Conditions"], "source-ip").unwrap()["SourceIpConfig"]["Values"][0],
        "10.0.0.0/8"
    );
    assert_eq!(
        props(&t, "HTTPSListenerRule1")["Conditions"],
        http1["Conditions"]
    );
    // The third rule redirects on its path.
    let http2 = props(&t, "HTTPListenerRule2");
    assert_eq!(http2["Actions"][0]["Type"], "redirect");
    assert_eq!(
        field(&http2["Conditions"], "path-pattern").unwrap()["PathPatternConfig"]["Values"],
        serde_yaml::from_str::<Value>("[/secure, /secure/*]").unwrap()
    );
    // Records for both aliases with a hosted zone.
    for (id, zone) in [
        ("AliasRecordWebExampleCom", "Z0000000000000000001"),
        ("AliasRecordAdminExampleCom", "Z0000000000000000002"),
    ] {
        let r = props(&t, id);
        assert_eq!(r["HostedZoneId"], zone);
        assert_eq!(
            r["AliasTarget"]["DNSName"]["Fn::ImportValue"],
            "red-test-PublicLoadBalancerDNS"
        );
    }
}

/// Every key Copilot supported on `additional_rules`, rendered as Copilot did; a target on
/// port 443 is reached over HTTPS, its health check on another port over HTTP.
#[test]
fn additional_rules_take_every_key() {
    let ws = workspace("add", true, &[("web", WEB)]);
    let stacks = render_all(ws.path());
    let t = template(&stacks, "add-test-web");
    let tg = props(&t, "TargetGroup2");
    assert_eq!(tg["Port"], 443);
    assert_eq!(tg["Protocol"], "HTTPS");
    assert_eq!(tg["HealthCheckProtocol"], "HTTP");
    assert_eq!(tg["HealthCheckPort"], "8080");
    assert_eq!(tg["HealthCheckPath"], "/health");
    assert_eq!(tg["ProtocolVersion"], "HTTP2");
    let attrs = tg["TargetGroupAttributes"].as_sequence().unwrap();
    let attr = |k: &str| {
        attrs
            .iter()
            .find(|a| a["Key"] == k)
            .map(|a| a["Value"].clone())
    };
    assert_eq!(
        attr("deregistration_delay.timeout_seconds"),
        Some(Value::from("30"))
    );
    assert_eq!(attr("stickiness.enabled"), Some(Value::from("true")));
    // The main target stays HTTP, without a health check protocol of its own.
    let main = props(&t, "TargetGroup");
    assert_eq!(main["Protocol"], "HTTP");
    assert!(main["HealthCheckProtocol"].is_null());
    // The task maps the extra target port.
    let mappings = &props(&t, "TaskDefinition")["ContainerDefinitions"][0]["PortMappings"];
    assert!(
        mappings
            .as_sequence()
            .unwrap()
            .iter()
            .any(|m| m["ContainerPort"] == 443),
        "{mappings:?}"
    );
}

/// A Backend Service's aliases get records to the internal load balancer, and its HTTP rule
/// redirects to HTTPS (the internal HTTP listener's own default does not).
#[test]
fn internal_aliases_get_records_and_a_redirect() {
    let ws = workspace("int", true, &[("api", API)]);
    let stacks = render_all(ws.path());
    let t = template(&stacks, "int-test-api");
    let r = props(&t, "AliasRecordApiInternalExampleCom");
    assert_eq!(r["HostedZoneId"], "Z0000000000000000003");
    assert_eq!(
        r["AliasTarget"]["HostedZoneId"]["Fn::ImportValue"],
        "int-test-InternalLoadBalancerCanonicalHostedZoneID"
    );
    let http = props(&t, "HTTPListenerRule");
    assert_eq!(http["Actions"][0]["Type"], "redirect");
    assert_eq!(
        http["ListenerArn"]["Fn::ImportValue"],
        "int-test-InternalHTTPListenerArn"
    );
    // The environment exports the zone the record names.
    let env = template(&stacks, "int-test");
    assert_eq!(
        env["Outputs"]["InternalLoadBalancerCanonicalHostedZoneID"]["Export"]["Name"],
        "int-test-InternalLoadBalancerCanonicalHostedZoneID"
    );
}

const IMPORTED: &str = "name: web\ntype: Load Balanced Web Service\nimage:\n  location: public.ecr.aws/nginx/nginx:1.27\n  port: 8080\nhttp:\n  path: /\n  alb: shared-alb\n  alias:\n    - name: web.example.com\n      hosted_zone: Z0000000000000000001\n";

/// On an imported load balancer: records to it, a forwarding rule on the listener tug looks
/// up, and a redirecting rule on its HTTP listener when it also has an HTTPS one.
#[test]
fn imported_load_balancer_records_and_redirect() {
    let ws = workspace("imp", true, &[("web", IMPORTED)]);
    let stacks = render_all(ws.path());
    let t = template(&stacks, "imp-test-web");
    let r = props(&t, "AliasRecordWebExampleCom");
    assert_eq!(r["AliasTarget"]["DNSName"]["Ref"], "ImportedALBDNSName");
    assert_eq!(
        r["AliasTarget"]["HostedZoneId"]["Ref"],
        "ImportedALBCanonicalHostedZoneID"
    );
    let forward = props(&t, "HTTPListenerRule");
    assert_eq!(forward["ListenerArn"]["Ref"], "ImportedALBListenerArn");
    assert_eq!(forward["Actions"][0]["Type"], "forward");
    let redirect = &t["Resources"]["ImportedHTTPListenerRule"];
    assert_eq!(redirect["Condition"], "ImportedALBHasHTTPListener");
    assert_eq!(
        redirect["Properties"]["ListenerArn"]["Ref"],
        "ImportedALBHTTPListenerArn"
    );
    assert_eq!(redirect["Properties"]["Actions"][0]["Type"], "redirect");
    assert_eq!(redirect["Properties"]["Conditions"], forward["Conditions"]);
    // The service waits only for rules that always exist.
    let depends = t["Resources"]["Service"]["DependsOn"].clone();
    let depends: Vec<String> = serde_yaml::from_value(depends).unwrap_or_default();
    assert!(
        depends.contains(&"HTTPListenerRule".to_string()),
        "{depends:?}"
    );
    assert!(!depends.contains(&"ImportedHTTPListenerRule".to_string()));
    for p in [
        "ImportedALBListenerArn",
        "ImportedALBHTTPListenerArn",
        "ImportedALBDNSName",
        "ImportedALBCanonicalHostedZoneID",
    ] {
        assert!(t["Parameters"][p].is_mapping(), "parameter {p}");
    }
}

/// `tug deploy` of a service on an imported load balancer with an HTTP and an HTTPS listener
/// (made here in moto's default VPC): the stack gets the HTTPS listener for its forwarding
/// rules, the HTTP listener for its redirects, and the load balancer's DNS name and zone for
/// its record, which Route 53 (moto) then holds. Before, such a deploy stopped at "needs values tug cannot look up yet".
#[test]
fn imported_load_balancer_deploys_with_its_listeners_and_dns_name() {
    let moto = Moto::start(10);
    let made = boto3(
        &moto,
        "subnets = [s['SubnetId'] for s in ec2.describe_subnets()['Subnets']][:2]\n\
lb = elb.create_load_balancer(Name='shared-alb', Subnets=subnets, Type='application')['LoadBalancers'][0]\n\
tg = elb.create_target_group(Name='default', Protocol='HTTP', Port=80, VpcId=ec2.describe_vpcs()['Vpcs'][0]['VpcId'])['TargetGroups'][0]['TargetGroupArn']\n\
act = [{'Type': 'forward', 'TargetGroupArn': tg}]\n\
http = elb.create_listener(LoadBalancerArn=lb['LoadBalancerArn'], Protocol='HTTP', Port=80, DefaultActions=act)['Listeners'][0]['ListenerArn']\n\
https = elb.create_listener(LoadBalancerArn=lb['LoadBalancerArn'], Protocol='HTTPS', Port=443, Certificates=[{'CertificateArn': acm.request_certificate(DomainName='web.example.com')['CertificateArn']}], DefaultActions=act)['Listeners'][0]['ListenerArn']\n\
zone = r53.create_hosted_zone(Name='example.com', CallerReference='t')['HostedZone']['Id'].split('/')[-1]\n\
print(json.dumps([http, https, lb['DNSName'], lb['CanonicalHostedZoneId'], zone]))",
    );
    let made: Vec<String> = serde_json::from_str(&made).expect("JSON");
    let manifest = IMPORTED.replace("Z0000000000000000001", &made[4]);
    let ws = workspace("imp", false, &[("web", &manifest)]);
    let out = tug(ws.path(), &moto.url(), &["deploy", "-e", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let params = boto3(
        &moto,
        "ps = cfn.describe_stacks(StackName='imp-test-web')['Stacks'][0]['Parameters']\n\
print(json.dumps({p['ParameterKey']: p['ParameterValue'] for p in ps}))",
    );
    let params: serde_json::Value = serde_json::from_str(&params).expect("JSON");
    assert_eq!(params["ImportedALBHTTPListenerArn"], made[0].as_str());
    assert_eq!(params["ImportedALBListenerArn"], made[1].as_str());
    assert_eq!(params["ImportedALBDNSName"], made[2].as_str());
    assert_eq!(params["ImportedALBCanonicalHostedZoneID"], made[3].as_str());
    // The alias record, read back from Route 53.
    let record = boto3(
        &moto,
        &format!(
            "rs = r53.list_resource_record_sets(HostedZoneId='{}')['ResourceRecordSets']\n\
print(json.dumps([r['AliasTarget']['DNSName'] for r in rs if r['Name'].startswith('web.example.com') and r['Type'] == 'A']))",
            made[4]
        ),
    );
    let record: Vec<String> = serde_json::from_str(&record).expect("JSON");
    assert_eq!(record.len(), 1, "{record:?}");
    assert_eq!(
        record[0].trim_end_matches('.'),
        made[2].trim_end_matches('.')
    );
}

/// A load balancer that is not there is a clear deploy error, before any change set.
#[test]
fn a_missing_imported_load_balancer_is_a_clear_error() {
    let moto = Moto::start(10);
    let ws = workspace("gone", false, &[("web", IMPORTED)]);
    let out = tug(ws.path(), &moto.url(), &["deploy", "-e", "test"]);
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(err.contains("shared-alb"), "{err}");
    assert!(err.contains("`http.alb`"), "{err}");
    assert!(!err.contains("not available yet"), "{err}");
}

/// Item 5: an NLB TLS listener in an environment without certificates. Copilot requested a
/// certificate for the NLB's aliases (by a Lambda, in its application domain's zone); tug
/// requests one for the aliases that name their zone, DNS-validated by CloudFormation. The
/// template passes cfn-lint (its AWS::CertificateManager::Certificate schema) and the API
/// constraint check.
#[test]
fn nlb_tls_without_environment_certificate_requests_one_for_its_aliases() {
    const NLB: &str = "name: tcp\ntype: Load Balanced Web Service\nimage:\n  location: nginx\n  port: 8080\nhttp: false\nnlb:\n  port: 443/tls\n  alias:\n    - name: tcp.example.com\n      hosted_zone: Z0123456789ABCDEFGHIJ\n";
    let ws = workspace("nlbc", false, &[("tcp", NLB)]);
    let stacks = render_all(ws.path());
    let t = template(&stacks, "nlbc-test-tcp");
    let cert = props(&t, "NLBCertificate");
    assert_eq!(cert["DomainName"], "tcp.example.com");
    assert_eq!(
        cert["DomainValidationOptions"][0]["HostedZoneId"],
        "Z0123456789ABCDEFGHIJ"
    );
    assert_eq!(
        props(&t, "NLBListener")["Certificates"][0]["CertificateArn"]["Ref"],
        "NLBCertificate"
    );
    support::lint_stacks(&stacks);
}
