//! Environment overrides merged as Copilot merged them: one test per rule of Copilot's
//! override transformers (image, build, alias, string-or-list, platform, security groups,
//! Service Connect, placement, subnets, generic unions, count, advanced count, scaling
//! metrics, range, EFS, SQS queue, http-or-bool, secret, the basic rule) and the merges
//! Copilot made without a rule (`subscribe.queue.fifo`). Each test loads a real workspace from
//! disk for environment `test`, so decoding, merging and validation all take part.

use std::collections::HashMap;
use std::fs;

use tug::manifest::load::{LoadOptions, Loaded, load};
use tug::manifest::model::WorkloadManifest;
use tug::manifest::model::common::{BuildConfig, Secret};
use tug::manifest::union::{BoolOr, Command, ListOr, OneOrMany, ScalarOr};
use tug::manifest::workspace::Workspace;
use tug::validate::diagnostic::Diagnostic;
use tug::validate::validate;

/// Loads `manifest` as workload `web` with an environment `test`; returns the merged manifest
/// for `test` and every diagnostic (loading and validation).
fn merged(manifest: &str) -> (WorkloadManifest, Vec<Diagnostic>) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("copilot");
    fs::create_dir_all(dir.join("environments/test")).expect("mkdir");
    fs::create_dir_all(dir.join("web")).expect("mkdir");
    fs::write(dir.join(".workspace"), "application: shop\n").expect("write");
    fs::write(
        dir.join("environments/test/manifest.yml"),
        "name: test\ntype: Environment\n",
    )
    .expect("write");
    fs::write(dir.join("web/manifest.yml"), manifest).expect("write");
    let ws = Workspace::open(&dir);
    let loaded: Loaded = load(
        &ws,
        &LoadOptions {
            lenient: false,
            environment: Some("test".into()),
            variables: HashMap::new(),
        },
    )
    .expect("loads");
    let diags = validate(&loaded);
    let wl = loaded
        .workloads
        .into_iter()
        .find(|w| w.name == "web")
        .expect("web is loaded");
    (wl.manifest, diags)
}

fn errors(diags: &[Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{} {}", d.code.id, d.message))
        .collect()
}

/// A Backend Service (no required `http`) with `body` added at the top level.
fn backend(body: &str) -> String {
    format!("name: web\ntype: Backend Service\n{body}")
}

#[test]
fn image_location_in_an_override_clears_build() {
    let (m, diags) = merged(&backend(
        "image:\n  build: Dockerfile\n  port: 80\n\
         environments:\n  test:\n    image:\n      location: nginx:1.27\n",
    ));
    assert!(errors(&diags).is_empty(), "{:?}", errors(&diags));
    let image = m.image.expect("image").value;
    assert_eq!(
        image.location.map(|l| l.value).as_deref(),
        Some("nginx:1.27")
    );
    assert!(image.build.is_none(), "build is cleared");
    assert_eq!(image.port.map(|p| p.value), Some(80), "other keys inherit");
}

#[test]
fn image_build_in_an_override_clears_location() {
    let (m, diags) = merged(&backend(
        "image:\n  location: nginx:1.27\n\
         environments:\n  test:\n    image:\n      build:\n        dockerfile: web/Dockerfile\n",
    ));
    assert!(errors(&diags).is_empty(), "{:?}", errors(&diags));
    let image = m.image.expect("image").value;
    assert!(image.location.is_none(), "location is cleared");
    assert!(matches!(
        image.build.map(|b| b.value),
        Some(ScalarOr::Config(_))
    ));
}

#[test]
fn image_override_with_both_forms_is_still_an_error() {
    let (_, diags) = merged(&backend(
        "image:\n  location: nginx:1.27\n\
         environments:\n  test:\n    image:\n      build: Dockerfile\n      location: nginx:1\n",
    ));
    assert!(
        errors(&diags).iter().any(|e| e.starts_with("TUG214")),
        "{:?}",
        errors(&diags)
    );
}

#[test]
fn build_string_and_map_clear_each_other_and_args_merge_by_key() {
    let (m, _) = merged(&backend(
        "image:\n  build: Dockerfile\n\
         environments:\n  test:\n    image:\n      build:\n        context: web\n",
    ));
    match m.image.unwrap().value.build.unwrap().value {
        ScalarOr::Config(c) => {
            assert_eq!(c.context.unwrap().value, "web");
            assert!(
                c.dockerfile.is_none(),
                "the string form is gone, not turned into `dockerfile`"
            );
        }
        other => panic!("{other:?}"),
    }
    let (m, _) = merged(&backend(
        "image:\n  build:\n    context: web\n    args: {A: '1', B: '2'}\n\
         environments:\n  test:\n    image:\n      build:\n        args: {B: '3'}\n",
    ));
    let ScalarOr::Config(BuildConfig { context, args, .. }) =
        m.image.unwrap().value.build.unwrap().value
    else {
        panic!("map form")
    };
    assert_eq!(context.unwrap().value, "web");
    let args = args.unwrap().value;
    let args: Vec<(&str, &str)> = args
        .iter()
        .map(|(k, v)| (k.value.as_str(), v.value.as_str()))
        .collect();
    assert_eq!(args, [("A", "1"), ("B", "3")]);
    let (m, _) = merged(&backend(
        "image:\n  build: {context: web}\n\
         environments:\n  test:\n    image:\n      build: other/Dockerfile\n",
    ));
    assert_eq!(
        m.image.unwrap().value.build.unwrap().value,
        ScalarOr::Scalar("other/Dockerfile".into())
    );
}

fn lbws(http: &str, over: &str) -> String {
    format!(
        "name: web\ntype: Load Balanced Web Service\nimage:\n  location: nginx\n  port: 80\n\
         http:\n{http}environments:\n  test:\n{over}"
    )
}

#[test]
fn alias_forms_replace_each_other() {
    let (m, _) = merged(&lbws(
        "  path: /\n  alias: a.example.com\n",
        "    http:\n      alias:\n        - name: b.example.com\n          hosted_zone: Z123\n",
    ));
    let rule = m.http_rule().expect("rule").clone();
    let items = rule.alias.unwrap().value;
    let names: Vec<String> = items
        .items()
        .iter()
        .map(|a| match a {
            ScalarOr::Scalar(s) => s.clone(),
            ScalarOr::Config(c) => c.name.as_ref().unwrap().value.clone(),
        })
        .collect();
    assert_eq!(names, ["b.example.com"]);
    assert_eq!(rule.path.unwrap().value, "/", "other keys inherit");
    let (m, _) = merged(&lbws(
        "  path: /\n  alias: [a.example.com, b.example.com]\n",
        "    http:\n      alias: c.example.com\n",
    ));
    let alias = m.http_rule().unwrap().alias.clone().unwrap().value;
    assert_eq!(
        alias,
        OneOrMany::One(ScalarOr::Scalar("c.example.com".into()))
    );
}

#[test]
fn command_string_and_list_replace_each_other() {
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\ncommand: [a, b]\nentrypoint: /bin/sh -c\n\
         environments:\n  test:\n    command: run --fast\n    entrypoint: [/init]\n",
    ));
    assert_eq!(
        m.command.unwrap().value,
        Command::Shell("run --fast".into())
    );
    assert_eq!(
        m.entrypoint.unwrap().value,
        Command::Args(vec!["/init".into()])
    );
}

#[test]
fn platform_string_and_map_clear_each_other_and_maps_merge() {
    let (m, diags) = merged(&backend(
        "image:\n  location: nginx\nplatform: linux/x86_64\n\
         environments:\n  test:\n    platform:\n      osfamily: linux\n      architecture: arm64\n",
    ));
    assert!(errors(&diags).is_empty(), "{:?}", errors(&diags));
    assert!(matches!(m.platform.unwrap().value, ScalarOr::Config(_)));
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\nplatform:\n  osfamily: linux\n  architecture: x86_64\n\
         environments:\n  test:\n    platform:\n      architecture: arm64\n",
    ));
    let ScalarOr::Config(p) = m.platform.unwrap().value else {
        panic!("map")
    };
    assert_eq!(p.osfamily.unwrap().value, "linux");
    assert_eq!(p.architecture.unwrap().value, "arm64");
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\nplatform:\n  osfamily: linux\n  architecture: x86_64\n\
         environments:\n  test:\n    platform: linux/arm64\n",
    ));
    assert_eq!(
        m.platform.unwrap().value,
        ScalarOr::Scalar("linux/arm64".into())
    );
}

#[test]
fn security_groups_list_and_map_clear_each_other() {
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\nnetwork:\n  vpc:\n    security_groups: [sg-1, sg-2]\n\
         environments:\n  test:\n    network:\n      vpc:\n        security_groups:\n          groups: [sg-3]\n          deny_default: true\n",
    ));
    let vpc = m.network.unwrap().value.vpc.unwrap().value;
    match vpc.security_groups.unwrap().value {
        ListOr::Config(c) => {
            assert_eq!(c.groups.unwrap().value.len(), 1);
            assert!(c.deny_default.unwrap().value);
        }
        other => panic!("{other:?}"),
    }
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\nnetwork:\n  vpc:\n    security_groups:\n      groups: [sg-3]\n      deny_default: true\n\
         environments:\n  test:\n    network:\n      vpc:\n        security_groups: [sg-9]\n",
    ));
    let vpc = m.network.unwrap().value.vpc.unwrap().value;
    assert!(matches!(vpc.security_groups.unwrap().value, ListOr::List(l) if l.len() == 1));
}

#[test]
fn service_connect_bool_and_map_clear_each_other() {
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\n  port: 80\nnetwork:\n  connect: true\n\
         environments:\n  test:\n    network:\n      connect:\n        alias: api\n",
    ));
    let connect = m.network.unwrap().value.connect.unwrap().value;
    assert_eq!(
        connect.config().unwrap().alias.as_ref().unwrap().value,
        "api"
    );
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\n  port: 80\nnetwork:\n  connect:\n    alias: api\n\
         environments:\n  test:\n    network:\n      connect: false\n",
    ));
    assert_eq!(
        m.network.unwrap().value.connect.unwrap().value,
        BoolOr::Bool(false)
    );
}

#[test]
fn placement_and_subnet_forms_clear_each_other() {
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\nnetwork:\n  vpc:\n    placement: private\n\
         environments:\n  test:\n    network:\n      vpc:\n        placement:\n          subnets: [subnet-1]\n",
    ));
    let placement = m
        .network
        .unwrap()
        .value
        .vpc
        .unwrap()
        .value
        .placement
        .unwrap()
        .value;
    let ScalarOr::Config(p) = placement else {
        panic!("map")
    };
    assert!(matches!(p.subnets.unwrap().value, ListOr::List(_)));
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\nnetwork:\n  vpc:\n    placement:\n      subnets: [subnet-1]\n\
         environments:\n  test:\n    network:\n      vpc:\n        placement:\n          subnets:\n            from_tags:\n              tier: private\n",
    ));
    let placement = m
        .network
        .unwrap()
        .value
        .vpc
        .unwrap()
        .value
        .placement
        .unwrap()
        .value;
    let ScalarOr::Config(p) = placement else {
        panic!("map")
    };
    assert!(matches!(p.subnets.unwrap().value, ListOr::Config(_)));
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\nnetwork:\n  vpc:\n    placement:\n      subnets: [subnet-1]\n\
         environments:\n  test:\n    network:\n      vpc:\n        placement: public\n",
    ));
    let placement = m
        .network
        .unwrap()
        .value
        .vpc
        .unwrap()
        .value
        .placement
        .unwrap()
        .value;
    assert_eq!(placement, ScalarOr::Scalar("public".into()));
}

#[test]
fn generic_unions_healthcheck_and_rollback_alarms() {
    let (m, _) = merged(&lbws(
        "  path: /\n  healthcheck: /health\n",
        "    http:\n      healthcheck:\n        interval: 10s\n",
    ));
    let hc = m.http_rule().unwrap().healthcheck.clone().unwrap().value;
    let ScalarOr::Config(hc) = hc else {
        panic!("map")
    };
    assert!(
        hc.path.is_none(),
        "the path of the string form is not carried over"
    );
    assert!(hc.interval.is_some());
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\ndeployment:\n  rollback_alarms: [a, b]\n\
         environments:\n  test:\n    deployment:\n      rollback_alarms:\n        cpu_utilization: 70\n",
    ));
    let alarms = m.deployment.unwrap().value.rollback_alarms.unwrap().value;
    assert!(matches!(alarms, ListOr::Config(_)));
}

#[test]
fn count_number_and_map_clear_each_other() {
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\ncount: 3\n\
         environments:\n  test:\n    count:\n      range: 1-4\n      cpu_percentage: 70\n",
    ));
    assert!(matches!(m.count.unwrap().value, ScalarOr::Config(_)));
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\ncount:\n  range: 1-4\n  cpu_percentage: 70\n\
         environments:\n  test:\n    count: 2\n",
    ));
    assert_eq!(m.count.unwrap().value, ScalarOr::Scalar(2));
}

#[test]
fn spot_and_autoscaling_clear_each_other() {
    let (m, diags) = merged(&backend(
        "image:\n  location: nginx\ncount:\n  range: 1-4\n  cooldown: {in: 30s}\n  cpu_percentage: 70\n\
         environments:\n  test:\n    count:\n      spot: 2\n",
    ));
    assert!(errors(&diags).is_empty(), "{:?}", errors(&diags));
    let ScalarOr::Config(c) = m.count.unwrap().value else {
        panic!("map")
    };
    assert_eq!(c.spot.unwrap().value, 2);
    assert!(c.range.is_none() && c.cpu_percentage.is_none() && c.cooldown.is_none());
    let (m, diags) = merged(&backend(
        "image:\n  location: nginx\ncount:\n  spot: 2\n\
         environments:\n  test:\n    count:\n      range: 1-4\n      memory_percentage: 60\n",
    ));
    assert!(errors(&diags).is_empty(), "{:?}", errors(&diags));
    let ScalarOr::Config(c) = m.count.unwrap().value else {
        panic!("map")
    };
    assert!(c.spot.is_none());
    assert!(c.range.is_some() && c.memory_percentage.is_some());
}

#[test]
fn scaling_metric_and_range_forms_clear_each_other() {
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\ncount:\n  range: 1-4\n  cpu_percentage: 70\n\
         environments:\n  test:\n    count:\n      cpu_percentage:\n        value: 50\n        cooldown: {out: 10s}\n      range:\n        min: 2\n        max: 8\n        spot_from: 3\n",
    ));
    let ScalarOr::Config(c) = m.count.unwrap().value else {
        panic!("map")
    };
    let cpu = c.cpu_percentage.unwrap().value;
    assert_eq!(cpu.config().unwrap().target.as_ref().unwrap().value, 50);
    assert_eq!(c.range.unwrap().value.bounds(), (Some(2), Some(8)));
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\ncount:\n  range: {min: 1, max: 4, spot_from: 2}\n  cpu_percentage: {value: 50}\n\
         environments:\n  test:\n    count:\n      range: 3-6\n      cpu_percentage: 80\n",
    ));
    let ScalarOr::Config(c) = m.count.unwrap().value else {
        panic!("map")
    };
    assert_eq!(c.cpu_percentage.unwrap().value, ScalarOr::Scalar(80));
    assert!(matches!(c.range.unwrap().value, ScalarOr::Scalar(r) if (r.min, r.max) == (3, 6)));
}

#[test]
fn efs_bool_and_map_and_uid_and_id_clear_each_other() {
    let (m, diags) = merged(&backend(
        "image:\n  location: nginx\nstorage:\n  volumes:\n    data:\n      path: /data\n      efs:\n        id: fs-1\n        root_dir: /x\n        auth: {iam: true}\n\
         environments:\n  test:\n    storage:\n      volumes:\n        data:\n          efs:\n            uid: 1000\n            gid: 1000\n",
    ));
    assert!(errors(&diags).is_empty(), "{:?}", errors(&diags));
    let vol = m.storage.unwrap().value.volumes.unwrap().value;
    let data = &vol["data"].value;
    assert_eq!(
        data.path.as_ref().unwrap().value,
        "/data",
        "volumes merge deeply"
    );
    let efs = data.efs.as_ref().unwrap().value.config().unwrap().clone();
    assert!(efs.id.is_none() && efs.root_dir.is_none() && efs.auth.is_none());
    assert_eq!(efs.uid.unwrap().value, 1000);
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\nstorage:\n  volumes:\n    data:\n      path: /data\n      efs: {uid: 1000, gid: 1000}\n\
         environments:\n  test:\n    storage:\n      volumes:\n        data:\n          efs:\n            auth: {}\n",
    ));
    let vol = m.storage.unwrap().value.volumes.unwrap().value;
    let efs = vol["data"]
        .value
        .efs
        .as_ref()
        .unwrap()
        .value
        .config()
        .unwrap()
        .clone();
    assert!(
        efs.uid.is_some(),
        "an empty `auth` clears nothing, as in Copilot"
    );
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\nstorage:\n  volumes:\n    data:\n      path: /data\n      efs: {uid: 1000, gid: 1000}\n\
         environments:\n  test:\n    storage:\n      volumes:\n        data:\n          efs: false\n",
    ));
    let vol = m.storage.unwrap().value.volumes.unwrap().value;
    assert_eq!(
        vol["data"].value.efs.as_ref().unwrap().value,
        BoolOr::Bool(false)
    );
}

fn worker(queue: &str, over: &str) -> String {
    format!(
        "name: web\ntype: Worker Service\nimage:\n  location: nginx\n\
         subscribe:\n  topics:\n    - name: orders\n      service: api\n  queue:\n{queue}\
         environments:\n  test:\n    subscribe:\n      queue:\n{over}"
    )
}

#[test]
fn queue_fifo_merges_as_copilot_did() {
    // `fifo: false` over FIFO settings: Copilot kept the FIFO queue (and tug warns).
    let (m, diags) = merged(&worker(
        "    fifo:\n      content_based_deduplication: true\n",
        "        fifo: false\n",
    ));
    let q = m.subscribe.unwrap().value.queue.unwrap().value;
    assert!(matches!(q.fifo.unwrap().value, BoolOr::Config(_)));
    assert!(
        diags.iter().any(|d| d.code.id == "TUG116" && !d.is_error()),
        "{diags:?}"
    );
    // FIFO settings over `fifo: true`: Copilot made a plain FIFO queue.
    let (m, diags) = merged(&worker(
        "    fifo: true\n",
        "        fifo:\n          high_throughput: true\n",
    ));
    let q = m.subscribe.unwrap().value.queue.unwrap().value;
    assert_eq!(q.fifo.unwrap().value, BoolOr::Bool(true));
    assert!(diags.iter().any(|d| d.code.id == "TUG116"), "{diags:?}");
    // Same forms: the override wins, quietly.
    let (m, diags) = merged(&worker("    fifo: true\n", "        fifo: false\n"));
    let q = m.subscribe.unwrap().value.queue.unwrap().value;
    assert_eq!(q.fifo.unwrap().value, BoolOr::Bool(false));
    assert!(diags.iter().all(|d| d.code.id != "TUG116"));
    // The rest of the queue merges field by field.
    let (m, _) = merged(&worker(
        "    retention: 96h\n    timeout: 30s\n",
        "        timeout: 60s\n",
    ));
    let q = m.subscribe.unwrap().value.queue.unwrap().value;
    assert!(q.retention.is_some());
    assert_eq!(q.timeout.unwrap().value.as_secs_f64(), 60.0);
}

#[test]
fn topic_subscription_queue_bool_and_map_clear_each_other() {
    // `subscribe.topics` is a list: an override replaces it whole, queue forms included.
    let (m, _) = merged(
        "name: web\ntype: Worker Service\nimage:\n  location: nginx\n\
         subscribe:\n  topics:\n    - name: orders\n      service: api\n      queue: {timeout: 30s}\n\
         environments:\n  test:\n    subscribe:\n      topics:\n        - name: orders\n          service: api\n          queue: true\n",
    );
    let topics = m.subscribe.unwrap().value.topics.unwrap().value;
    assert_eq!(topics.len(), 1);
    assert_eq!(topics[0].queue.as_ref().unwrap().value, BoolOr::Bool(true));
}

#[test]
fn http_bool_and_map_clear_each_other() {
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\n  port: 80\nhttp: false\n\
         environments:\n  test:\n    http:\n      path: /api\n",
    ));
    assert_eq!(m.http_rule().unwrap().path.as_ref().unwrap().value, "/api");
    let (m, _) = merged(&lbws(
        "  path: /\n",
        "    http: false\n    nlb:\n      port: 80/tcp\n",
    ));
    assert_eq!(m.http.unwrap().value, BoolOr::Bool(false));
}

#[test]
fn an_empty_mapping_in_an_override_changes_nothing() {
    // Copilot's transformers clear the other form only when the override's mapping is not
    // empty, so `http: {}` keeps `http: false` and `count: {}` keeps `count: 3`.
    let (m, _) = merged(&lbws("  path: /\n", "    http: {}\n"));
    assert!(m.http_rule().is_some());
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\n  port: 80\nhttp: false\ncount: 3\n\
         environments:\n  test:\n    http: {}\n    count: {}\n",
    ));
    assert_eq!(m.http.unwrap().value, BoolOr::Bool(false));
    assert_eq!(m.count.unwrap().value, ScalarOr::Scalar(3));
}

#[test]
fn secrets_are_replaced_per_key() {
    let (m, diags) = merged(&backend(
        "image:\n  location: nginx\nsecrets:\n  DB:\n    secretsmanager: prod/db\n  API: /shop/api\n\
         environments:\n  test:\n    secrets:\n      DB:\n        from_cfn: shop-test-DbSecret\n",
    ));
    assert!(errors(&diags).is_empty(), "{:?}", errors(&diags));
    let secrets = m.secrets.unwrap().value;
    let ScalarOr::Config(db) = &secrets["DB"].value else {
        panic!("map form")
    };
    assert!(db.secretsmanager.is_none(), "secretsmanager is cleared");
    assert_eq!(db.from_cfn.as_ref().unwrap().value, "shop-test-DbSecret");
    let api: &Secret = &secrets["API"].value;
    assert_eq!(
        api,
        &ScalarOr::Scalar("/shop/api".into()),
        "other keys inherit"
    );
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\nsecrets:\n  DB:\n    from_cfn: shop-DbSecret\n\
         environments:\n  test:\n    secrets:\n      DB: /shop/test/db\n",
    ));
    let secrets = m.secrets.unwrap().value;
    assert_eq!(
        secrets["DB"].value,
        ScalarOr::Scalar("/shop/test/db".into())
    );
}

#[test]
fn the_basic_rule_scalars_lists_maps_and_null() {
    let (m, _) = merged(&backend(
        "image:\n  location: nginx\n  port: 80\ncpu: 256\nmemory: 512\n\
         variables: {A: '1', B: '2'}\n\
         network:\n  vpc:\n    security_groups: [sg-1, sg-2]\n\
         sidecars:\n  proxy:\n    image: envoy\n    port: 9901\n    variables: {X: '1'}\n\
         environments:\n  test:\n    cpu: 1024\n    memory: null\n    variables: {B: '3', C: '4'}\n\
         \x20   network:\n      vpc:\n        security_groups: []\n\
         \x20   sidecars:\n      proxy:\n        variables: {Y: '2'}\n",
    ));
    assert_eq!(m.cpu.unwrap().value, 1024, "scalars are replaced");
    assert_eq!(m.memory.unwrap().value, 512, "null inherits");
    let vars = m.variables.unwrap().value;
    let keys: Vec<&str> = vars.keys().map(|k| k.value.as_str()).collect();
    assert_eq!(keys, ["A", "B", "C"], "maps merge by key");
    assert_eq!(vars["B"].value, ScalarOr::Scalar("3".into()));
    let sgs = m
        .network
        .unwrap()
        .value
        .vpc
        .unwrap()
        .value
        .security_groups
        .unwrap()
        .value;
    assert_eq!(sgs, ListOr::List(vec![]), "`[]` empties a list");
    let sidecars = m.sidecars.unwrap().value;
    let proxy = &sidecars["proxy"].value;
    assert_eq!(
        proxy.port.as_ref().unwrap().value,
        "9901",
        "sidecars merge deeply"
    );
    assert_eq!(proxy.variables.as_ref().unwrap().value.len(), 2);
}
