//! Copilot parity of `copilot app delete` for an application with a domain (issue 13): deleting
//! Copilot's application stack deleted `AppHostedZone` `<app>.<domain>` and
//! `AppDomainDelegationRecordSet`, its NS record in the domain's zone (facts from Copilot's
//! templates/app/app.yml, read as facts). `tug app delete` removes both when `tug app init
//! --domain` made the zone and it holds nothing but its SOA and NS records.
//!
//! Fidelity: moto (not AWS). moto does not refuse to delete a non-empty hosted zone (Route 53
//! answers HostedZoneNotEmpty); tug checks the records itself before deleting, which is what
//! these tests check.

mod support;

use support::{Moto, boto3, stderr, temp_workspace, tug};

/// A workspace of `app` with environment `test`.
fn workspace(app: &str) -> tempfile::TempDir {
    temp_workspace(
        &format!("application: {app}\n"),
        "name: test\ntype: Environment\n",
        &[],
    )
}

/// The records of every zone, `{zone name: ["<record> <type>", ...]}`.
const ZONES: &str = "zs = {z['Name'].rstrip('.'): z['Id'].split('/')[-1] for z in r53.list_hosted_zones()['HostedZones']}\n\
def names(zone):\n    return sorted(r['Name'].rstrip('.') + ' ' + r['Type'] for r in r53.list_resource_record_sets(HostedZoneId=zs[zone])['ResourceRecordSets'])\n\
print(json.dumps({z: names(z) for z in zs}))";

fn zones(moto: &Moto) -> serde_json::Value {
    serde_json::from_str(&boto3(moto, ZONES)).expect("JSON")
}

fn has(zones: &serde_json::Value, zone: &str, record: &str) -> bool {
    zones[zone]
        .as_array()
        .is_some_and(|rs| rs.iter().any(|r| r == record))
}

/// `tug app init --domain` on moto, after making the domain's zone.
fn app_with_domain(moto: &Moto, app: &str) -> tempfile::TempDir {
    boto3(
        moto,
        "r53.create_hosted_zone(Name='example.com', CallerReference='root')",
    );
    let ws = workspace(app);
    let out = tug(
        ws.path(),
        &moto.url(),
        &["app", "init", "--domain", "example.com"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    ws
}

/// `tug app delete` removes the application's zone tug made and its NS record in the
/// domain's zone, as deleting Copilot's application stack removed `AppHostedZone` and
/// `AppDomainDelegationRecordSet`; the domain's zone and its other records stay.
#[test]
fn app_delete_removes_the_application_zone_and_its_delegation() {
    let moto = Moto::start(1);
    let ws = app_with_domain(&moto, "shop");
    boto3(
        &moto,
        "z = [z['Id'] for z in r53.list_hosted_zones()['HostedZones'] if z['Name'].rstrip('.') == 'example.com'][0]\n\
r53.change_resource_record_sets(HostedZoneId=z, ChangeBatch={'Changes': [{'Action': 'CREATE', 'ResourceRecordSet': {'Name': 'www.example.com', 'Type': 'A', 'TTL': 60, 'ResourceRecords': [{'Value': '192.0.2.1'}]}}]})",
    );
    let before = zones(&moto);
    assert!(
        has(&before, "example.com", "shop.example.com NS"),
        "{before}"
    );
    let out = tug(ws.path(), &moto.url(), &["app", "delete", "--yes"]);
    let text = stderr(&out) + &String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Route 53 hosted zone shop.example.com"),
        "{text}"
    );
    let after = zones(&moto);
    assert!(after.get("shop.example.com").is_none(), "{after}");
    assert!(
        !has(&after, "example.com", "shop.example.com NS"),
        "{after}"
    );
    assert!(has(&after, "example.com", "www.example.com A"), "{after}");
    // Again: nothing left to delete.
    let out = tug(ws.path(), &moto.url(), &["app", "delete", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// A zone that still holds records of its own is left, with its delegation, and the delete
/// says which records hold it; a zone tug did not make is left and said so.
#[test]
fn app_delete_leaves_a_zone_with_records_or_not_made_by_tug() {
    let moto = Moto::start(1);
    let ws = app_with_domain(&moto, "shop");
    boto3(
        &moto,
        "z = [z['Id'] for z in r53.list_hosted_zones()['HostedZones'] if z['Name'].rstrip('.') == 'shop.example.com'][0]\n\
r53.change_resource_record_sets(HostedZoneId=z, ChangeBatch={'Changes': [{'Action': 'CREATE', 'ResourceRecordSet': {'Name': 'www.shop.example.com', 'Type': 'A', 'TTL': 60, 'ResourceRecords': [{'Value': '192.0.2.1'}]}}]})",
    );
    let out = tug(ws.path(), &moto.url(), &["app", "delete", "--yes"]);
    let text = stderr(&out) + &String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("www.shop.example.com A"), "{text}");
    let after = zones(&moto);
    assert!(
        has(&after, "shop.example.com", "www.shop.example.com A"),
        "{after}"
    );
    assert!(has(&after, "example.com", "shop.example.com NS"), "{after}");

    // A zone made before `tug app init` (here with another comment) is not tug's to delete.
    boto3(
        &moto,
        "r53.create_hosted_zone(Name='blog.example.com', CallerReference='blog', HostedZoneConfig={'Comment': 'made by hand'})",
    );
    let other = workspace("blog");
    let out = tug(
        other.path(),
        &moto.url(),
        &["app", "init", "--domain", "example.com"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = tug(other.path(), &moto.url(), &["app", "delete", "--yes"]);
    let text = stderr(&out) + &String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("tug did not create it"), "{text}");
    assert!(zones(&moto).get("blog.example.com").is_some());
}
