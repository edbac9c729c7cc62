//! Copilot parity of what Copilot looked up at deploy time (issue 13).
//!
//! Facts from Copilot's source, read as facts: `internal/pkg/manifest/workload.go`
//! (`dynamicSubnets`: `network.vpc.placement.subnets.from_tags` turned into EC2 DescribeSubnets
//! filters, one `tag:<key>` per tag, "cannot find any subnets" without a match),
//! `internal/pkg/aws/ec2/ec2.go` (`CloudFrontManagedPrefixListID`: DescribeManagedPrefixLists
//! by `prefix-list-name` `com.amazonaws.global.cloudfront.origin-facing`, passed to the
//! environment stack for `http.public.ingress.cdn`), templates/app/app.yml (`AppHostedZone`
//! `<app>.<domain>` and `AppDomainDelegationRecordSet` in the application stack, so deleting
//! the application deleted both).
//!
//! Fidelity: every test here runs against moto (not AWS). moto filters subnets by `tag:<key>`,
//! `tag-key` and `vpc-id` as EC2 documents them, and holds the AWS-managed CloudFront prefix
//! list (moto's `create_default_pls`) with an id of its own, so no recorded response is needed.

mod support;

use std::fs;

use support::{Moto, boto3, stderr, temp_workspace, tug};

/// A workspace of `app` with environment `test` (manifest `env`) and the given workloads.
fn workspace(app: &str, env: &str, workloads: &[(&str, &str)]) -> tempfile::TempDir {
    temp_workspace(&format!("application: {app}\n"), env, workloads)
}

const ENV: &str = "name: test\ntype: Environment\n";

fn worker(tags: &str) -> String {
    format!(
        "name: jobs\ntype: Backend Service\nimage:\n  location: nginx\nnetwork:\n  vpc:\n    placement:\n      subnets:\n        from_tags:\n{tags}"
    )
}

/// `from_tags` subnets are looked up at deploy in the environment's VPC (a subnet of another
/// VPC with the same tag is not chosen), sorted, and given to the service; without a match
/// the deploy fails and says which tags found nothing.
#[test]
fn subnets_from_tags_are_looked_up_in_the_environments_vpc() {
    let moto = Moto::start(1);
    let ws = workspace("lk", ENV, &[]);
    let out = tug(ws.path(), &moto.url(), &["deploy", "-e", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Two tagged subnets in the environment's VPC, one untagged, one tagged in another VPC.
    let made = boto3(
        &moto,
        "vpc = [o['OutputValue'] for o in cfn.describe_stacks(StackName='lk-test')['Stacks'][0]['Outputs'] if o['OutputKey'] == 'VpcId'][0]\n\
other = ec2.create_vpc(CidrBlock='10.9.0.0/16')['Vpc']['VpcId']\n\
def subnet(v, cidr, tags):\n    spec = [{'ResourceType': 'subnet', 'Tags': [{'Key': k, 'Value': x} for k, x in tags]}] if tags else []\n    return ec2.create_subnet(VpcId=v, CidrBlock=cidr, TagSpecifications=spec)['Subnet']['SubnetId']\n\
a = subnet(vpc, '10.0.200.0/24', [('tier', 'app'), ('team', 'x')])\n\
b = subnet(vpc, '10.0.201.0/24', [('tier', 'worker'), ('team', 'y')])\n\
subnet(vpc, '10.0.202.0/24', [])\n\
subnet(other, '10.9.1.0/24', [('tier', 'app'), ('team', 'x')])\n\
print(json.dumps(sorted([a, b])))",
    );
    let expected: Vec<String> = serde_json::from_str(&made).expect("JSON");

    // A tag with two values matches either; a tag without a value matches its key.
    fs::create_dir_all(ws.path().join("copilot/jobs")).expect("mkdir");
    fs::write(
        ws.path().join("copilot/jobs/manifest.yml"),
        worker("          tier: [app, worker]\n          team: []\n"),
    )
    .expect("write");
    let out = tug(
        ws.path(),
        &moto.url(),
        &["deploy", "-e", "test", "-n", "jobs"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // moto's ECS does not echo a service's awsvpc subnets, so the stack parameter is checked.
    let parameter = boto3(
        &moto,
        "import ast\nv = [p['ParameterValue'] for p in cfn.describe_stacks(StackName='lk-test-jobs')['Stacks'][0]['Parameters'] if p['ParameterKey'] == 'Subnets'][0]\n# moto echoes a List parameter as a Python list\nv = v if isinstance(v, list) else ast.literal_eval(v) if v.startswith('[') else v.split(',')\nprint(','.join(v))",
    );
    assert_eq!(parameter, expected.join(","));
    // The same selection again is no change.
    let out = tug(
        ws.path(),
        &moto.url(),
        &["deploy", "-e", "test", "-n", "jobs"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no changes")
            || stderr(&out).contains("no changes"),
        "{}",
        stderr(&out)
    );

    // No subnet of the VPC has `tier: db`: the deploy fails, naming the tags.
    fs::write(
        ws.path().join("copilot/jobs/manifest.yml"),
        worker("          tier: db\n"),
    )
    .expect("write");
    let out = tug(
        ws.path(),
        &moto.url(),
        &["deploy", "-e", "test", "-n", "jobs"],
    );
    let text = stderr(&out) + &String::from_utf8_lossy(&out.stdout);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("no subnet of the environment's VPC") && text.contains("tier=db"),
        "{text}"
    );
}

/// `http.public.ingress.cdn`: the environment stack gets the id of the AWS-managed CloudFront
/// prefix list, looked up at deploy, and the load balancer's ingress uses it.
#[test]
fn cdn_ingress_gets_the_cloudfront_prefix_list() {
    let moto = Moto::start(1);
    let env = "name: test\ntype: Environment\ncdn: true\nhttp:\n  public:\n    ingress:\n      cdn: true\n";
    let web =
        "name: web\ntype: Load Balanced Web Service\nimage:\n  location: nginx\n  port: 8080\n";
    let ws = workspace("cf", env, &[("web", web)]);
    let out = tug(ws.path(), &moto.url(), &["deploy", "-e", "test"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ids = boto3(
        &moto,
        "pl = [p['PrefixListId'] for p in ec2.describe_managed_prefix_lists()['PrefixLists'] if p['PrefixListName'] == 'com.amazonaws.global.cloudfront.origin-facing']\n\
given = [p['ParameterValue'] for p in cfn.describe_stacks(StackName='cf-test')['Stacks'][0]['Parameters'] if p['ParameterKey'] == 'CloudFrontOriginFacingPrefixListId']\n\
print(json.dumps([pl, given]))",
    );
    let ids: Vec<Vec<String>> = serde_json::from_str(&ids).expect("JSON");
    assert_eq!(ids[0].len(), 1, "{ids:?}");
    assert_eq!(ids[1], ids[0], "{ids:?}");
}
