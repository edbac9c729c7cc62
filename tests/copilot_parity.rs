//! Copilot parity of the render layer (issue 13, items 4, 5, 6 and 10): the fixture workspace
//! tests/parity renders what Copilot created for the same manifests, and every template passes
//! cfn-lint and the AWS API constraints of tests/support/api_constraints.rs.
//!
//! The source of truth for "what Copilot created" is Copilot's own templates
//! (aws/copilot-cli, internal/pkg/template/templates/), read as facts; for "what AWS accepts",
//! the API references named at each assertion. moto is not used here: it accepts names and
//! descriptions AWS rejects.

mod support;

use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;

use serde_yaml::Value;
use tug::manifest::load::{LoadOptions, Loaded, load};
use tug::manifest::workspace::Workspace;
use tug::render::{self, RenderError};
use tug::validate::validate;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load_fixture(dir: &str) -> (Workspace, Loaded) {
    let ws = Workspace::open(&root().join(dir).join("copilot"));
    let loaded = load(
        &ws,
        &LoadOptions {
            lenient: false,
            environment: None,
            variables: HashMap::new(),
        },
    )
    .expect("loads");
    (ws, loaded)
}

/// Every stack of the fixture, by stack name, after checking that validation is clean.
fn render_fixture(dir: &str) -> Vec<(String, String)> {
    let (ws, loaded) = load_fixture(dir);
    let errors: Vec<String> = validate(&loaded)
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}:{} {} {}", d.span.line, d.span.col, d.code.id, d.message))
        .collect();
    assert!(errors.is_empty(), "{dir}: {errors:#?}");
    let mut out = Vec::new();
    for env in &loaded.environments {
        let s = render::environment::render(&loaded, env).expect("environment renders");
        out.push((s.stack_name, s.template));
        for wl in loaded
            .workloads
            .iter()
            .filter(|w| w.environment.as_deref() == Some(env.name.as_str()))
        {
            match render::workload::render(&loaded, &ws, wl) {
                Ok(s) => out.push((s.stack_name, s.template)),
                Err(RenderError::Input(d)) => panic!("{}: {:#?}", wl.name, d),
                Err(RenderError::Internal(m)) => panic!("{}: {m}", wl.name),
            }
        }
    }
    out
}

fn template<'a>(stacks: &'a [(String, String)], name: &str) -> &'a str {
    stacks
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| panic!("no stack {name}"))
}

fn resource(text: &str, id: &str) -> Value {
    let doc: Value = serde_yaml::from_str(text).expect("YAML");
    doc["Resources"][id].clone()
}

#[test]
fn parity_fixture_passes_cfn_lint_and_api_constraints() {
    let stacks = render_fixture("tests/parity");
    assert_eq!(
        stacks.len(),
        4,
        "{:?}",
        stacks.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    let again = render_fixture("tests/parity");
    assert_eq!(stacks, again, "rendering is not deterministic");
    support::lint_stacks(&stacks);
}

/// Item 10: EC2 accepts only `a-zA-Z0-9 ._-:/()#,@[]+=&;{}!$*` in security group and rule
/// descriptions (EC2 API reference, CreateSecurityGroup and IpRange/UserIdGroupPair); the
/// EFS group and the internal load balancer's ingress had apostrophes.
#[test]
fn security_group_descriptions_are_accepted_by_ec2() {
    let stacks = render_fixture("tests/parity");
    let env = template(&stacks, "parity-test");
    let efs = resource(env, "EFSSecurityGroup");
    assert_eq!(
        efs["Properties"]["GroupDescription"],
        "NFS from the tasks of the environment to its managed file system"
    );
    let ingress = &efs["Properties"]["SecurityGroupIngress"][0]["Description"];
    assert_eq!(ingress, "NFS from the tasks of the environment");
    let internal = resource(env, "InternalLoadBalancerIngressFromEnvironment80");
    assert_eq!(
        internal["Properties"]["Description"],
        "Tasks of the environment reach the internal load balancer"
    );
    // Descriptions that EC2 always accepted are unchanged: GroupDescription is create-only,
    // and changing it would replace the group (src/deploy/create_only.tsv).
    assert_eq!(
        resource(env, "EnvironmentSecurityGroup")["Properties"]["GroupDescription"],
        "parity-test environment security group"
    );
    assert_eq!(
        resource(env, "InternalLoadBalancerSecurityGroup")["Properties"]["GroupDescription"],
        "HTTP and HTTPS to the internal load balancer"
    );
}

/// Item 10: Copilot's managed file system had a `FileSystemPolicy` (its environment template,
/// `FileSystem`): access only through mount targets by roles of the environment, and never
/// without TLS. Source of truth for the keys: the EFS user guide, "Using IAM to control file
/// system data access" (`elasticfilesystem:AccessedViaMountTarget`, `aws:SecureTransport`).
#[test]
fn managed_efs_enforces_tls_and_iam() {
    let stacks = render_fixture("tests/parity");
    let fs = resource(template(&stacks, "parity-test"), "FileSystem");
    let statements = fs["Properties"]["FileSystemPolicy"]["Statement"]
        .as_sequence()
        .cloned()
        .expect("a file system policy");
    let allow = statements
        .iter()
        .find(|s| s["Effect"] == "Allow")
        .expect("an Allow statement");
    assert_eq!(
        allow["Condition"]["Bool"]["elasticfilesystem:AccessedViaMountTarget"],
        "true"
    );
    assert_eq!(
        allow["Condition"]["StringEquals"]["aws:PrincipalTag/tug:app"],
        "parity"
    );
    assert_eq!(
        allow["Condition"]["StringEquals"]["aws:PrincipalTag/tug:env"],
        "test"
    );
    let actions: Vec<&str> = allow["Action"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str())
        .collect();
    assert!(
        !actions.contains(&"elasticfilesystem:ClientRootAccess"),
        "{actions:?}"
    );
    let deny = statements
        .iter()
        .find(|s| s["Effect"] == "Deny")
        .expect("a Deny statement");
    assert_eq!(deny["Condition"]["Bool"]["aws:SecureTransport"], "false");
    // The task role that mounts it carries the tags the policy names.
    let store = template(&stacks, "parity-test-store");
    let role = resource(store, "TaskRole");
    let tags = role["Properties"]["Tags"].as_sequence().expect("tags");
    assert!(
        tags.iter()
            .any(|t| t["Key"] == "tug:app" && t["Value"] == "parity")
    );
    assert!(
        tags.iter()
            .any(|t| t["Key"] == "tug:env" && t["Value"] == "test")
    );
}

/// Item 10: a standard and a FIFO topic of one name are two SNS topics (`…-orders` and
/// `…-orders.fifo`, SNS API CreateTopic), so two resources with two logical ids; a worker's
/// FIFO queue subscribes to the FIFO one.
#[test]
fn standard_and_fifo_topics_of_one_name() {
    let stacks = render_fixture("tests/parity");
    let store = template(&stacks, "parity-test-store");
    let standard = resource(store, "OrdersTopic");
    let fifo = resource(store, "OrdersFifoTopic");
    assert_eq!(
        standard["Properties"]["TopicName"],
        "parity-test-store-orders"
    );
    assert_eq!(
        fifo["Properties"]["TopicName"],
        "parity-test-store-orders.fifo"
    );
    assert_eq!(fifo["Properties"]["FifoTopic"], true);
    // COPILOT_SNS_TOPIC_ARNS stays one JSON object with one key per topic.
    assert!(store.contains(r#"\"orders\":\""#), "{store}");
    assert!(store.contains(r#"\"orders.fifo\":\""#), "{store}");
    let ledger = template(&stacks, "parity-test-ledger");
    assert!(ledger.contains("parity-test-store-orders.fifo"), "{ledger}");
}

/// A FIFO topic alone keeps the logical id it had (no replacement of deployed topics).
#[test]
fn a_fifo_topic_alone_keeps_its_logical_id() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("copilot");
    fs::create_dir_all(dir.join("environments/test")).expect("mkdir");
    fs::create_dir_all(dir.join("api")).expect("mkdir");
    fs::write(dir.join(".workspace"), "application: solo\n").expect("write");
    fs::write(
        dir.join("environments/test/manifest.yml"),
        "name: test\ntype: Environment\n",
    )
    .expect("write");
    fs::write(
        dir.join("api/manifest.yml"),
        "name: api\ntype: Backend Service\nimage:\n  location: nginx\npublish:\n  topics:\n    - name: orders\n      fifo: true\n",
    )
    .expect("write");
    let ws = Workspace::open(&dir);
    let loaded = load(
        &ws,
        &LoadOptions {
            lenient: false,
            environment: None,
            variables: HashMap::new(),
        },
    )
    .expect("loads");
    let wl = &loaded.workloads[0];
    let s = render::workload::render(&loaded, &ws, wl).expect("renders");
    assert!(
        resource(&s.template, "OrdersTopic").is_mapping(),
        "{}",
        s.template
    );
    assert!(s.template.contains(r#"\"orders\":\""#), "{}", s.template);
}

/// Two topics that would share a logical id and kind are refused with the manifest position.
#[test]
fn two_topics_of_one_kind_and_name_are_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("copilot");
    fs::create_dir_all(dir.join("environments/test")).expect("mkdir");
    fs::create_dir_all(dir.join("api")).expect("mkdir");
    fs::write(dir.join(".workspace"), "application: dup\n").expect("write");
    fs::write(
        dir.join("environments/test/manifest.yml"),
        "name: test\ntype: Environment\n",
    )
    .expect("write");
    fs::write(
        dir.join("api/manifest.yml"),
        "name: api\ntype: Backend Service\nimage:\n  location: nginx\npublish:\n  topics:\n    - name: orders\n    - name: Orders\n",
    )
    .expect("write");
    let ws = Workspace::open(&dir);
    let loaded = load(
        &ws,
        &LoadOptions {
            lenient: false,
            environment: None,
            variables: HashMap::new(),
        },
    )
    .expect("loads");
    match render::workload::render(&loaded, &ws, &loaded.workloads[0]) {
        Err(RenderError::Input(d)) => {
            assert_eq!(d.len(), 1, "{d:#?}");
            assert_eq!((d[0].span.line, d[0].span.col), (8, 13), "{d:#?}");
            assert!(
                d[0].message
                    .contains("a second standard topic named `Orders`"),
                "{d:#?}"
            );
        }
        other => panic!("not refused: {:?}", other.map(|s| s.template)),
    }
}

/// Item 4: with `network.connect`, Copilot kept the Cloud Map DNS service
/// (`<svc>.<env>.<app>.local`, its workload template's `DiscoveryService`) and named the
/// Service Connect service `<svc>-sc`, because Cloud Map service names are unique in a
/// namespace (ECS API ServiceConnectService `discoveryName`).
#[test]
fn service_connect_keeps_the_dns_name() {
    let stacks = render_fixture("tests/parity");
    let store = template(&stacks, "parity-test-store");
    let discovery = resource(store, "DiscoveryService");
    assert_eq!(discovery["Properties"]["Name"], "store");
    assert_eq!(
        discovery["Properties"]["DnsConfig"]["DnsRecords"][0]["Type"],
        "A"
    );
    let service = resource(store, "Service");
    let registries = &service["Properties"]["ServiceRegistries"][0]["RegistryArn"];
    assert_eq!(registries["Fn::GetAtt"][0], "DiscoveryService");
    let connect = &service["Properties"]["ServiceConnectConfiguration"]["Services"][0];
    assert_eq!(connect["DiscoveryName"], "store-sc");
    assert_eq!(connect["ClientAliases"][0]["DnsName"], "store");
    // The variable applications read to build the DNS name.
    assert!(
        store.contains("COPILOT_SERVICE_DISCOVERY_ENDPOINT"),
        "{store}"
    );
    assert!(store.contains("test.parity.local"), "{store}");
    // A worker still has no DNS name: it takes no requests.
    let ledger = template(&stacks, "parity-test-ledger");
    assert!(resource(ledger, "DiscoveryService").is_null());
}

/// Item 5: a UDP listener without `target_port` reaches the main container on the listener's
/// port, which the task definition maps over UDP (Copilot's manifest `exposePorts` for NLB
/// listeners); TLS listeners use Copilot's policy `ELBSecurityPolicy-TLS13-1-2-2021-06` and
/// the environment's certificate; aliases with a hosted zone get alias records to the NLB.
#[test]
fn network_load_balancer_udp_tls_and_aliases() {
    let stacks = render_fixture("tests/parity");
    let dns = template(&stacks, "parity-test-dns");
    let task = resource(dns, "TaskDefinition");
    let mappings = task["Properties"]["ContainerDefinitions"][0]["PortMappings"]
        .as_sequence()
        .cloned()
        .expect("port mappings");
    assert!(
        mappings
            .iter()
            .any(|m| m["ContainerPort"] == 53 && m["Protocol"] == "udp"),
        "{mappings:?}"
    );
    let udp = resource(dns, "NLBListener");
    assert_eq!(udp["Properties"]["Protocol"], "UDP", "{dns}");
    let tls = resource(dns, "NLBListener1");
    assert_eq!(tls["Properties"]["Protocol"], "TLS");
    assert_eq!(
        tls["Properties"]["SslPolicy"],
        render::DEFAULT_SSL_POLICY,
        "Copilot's NLB TLS policy"
    );
    assert_eq!(
        tls["Properties"]["Certificates"][0]["CertificateArn"],
        "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555"
    );
    let record = resource(dns, "NLBAliasRecordDnsExampleCom");
    assert_eq!(record["Properties"]["Name"], "dns.example.com");
    assert_eq!(
        record["Properties"]["HostedZoneId"],
        "Z0123456789ABCDEFGHIJ"
    );
    assert_eq!(
        record["Properties"]["AliasTarget"]["DNSName"]["Fn::GetAtt"][0],
        "PublicNetworkLoadBalancer"
    );
}
