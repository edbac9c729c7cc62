//! Values Copilot's templates inserted unquoted (src/manifest/copilot_yaml.rs): written as
//! YAML inside YAML, they are read as CloudFormation read them from Copilot's template, with
//! one TUG115 warning per value, and tug renders the plain value.

use std::collections::HashMap;
use std::fs;

use tug::manifest::load::{LoadOptions, load};
use tug::manifest::workspace::Workspace;
use tug::validate::validate;

const ARN: &str = "arn:aws:secretsmanager:eu-west-2:123456789012:secret:rds!db-0a1b2c3d-AbCdEf";

#[test]
fn values_quoted_twice_are_read_as_copilot_deployed_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("copilot");
    let web = format!(
        r#"name: web
type: Load Balanced Web Service
image:
  location: nginx:1.27
  port: 80
  credentials: "'arn:aws:secretsmanager:eu-west-2:123456789012:secret:hub-AbCdEf'"
http:
  path: /
  healthcheck:
    path: "'/health'"
    success_codes: "'200,301'"
command: ["sh", "-c", "'echo ready'"]
secrets:
  DB_PASSWORD: "'{ARN}:password::'"
  PLAIN: /shop/plain
sidecars:
  proxy:
    image: "'public.ecr.aws/nginx/nginx:1.27'"
    secrets:
      TOKEN: '"/shop/token"'
storage:
  volumes:
    data:
      path: /data
      efs:
        id: "'fs-0123456789abcdef0'"
environments:
  prod:
    secrets:
      API_KEY: "'/shop/prod/api'"
"#
    );
    for (path, text) in [
        (".workspace", "application: shop\n".to_string()),
        (
            "environments/test/manifest.yml",
            "name: test\ntype: Environment\n".to_string(),
        ),
        (
            "environments/prod/manifest.yml",
            "name: prod\ntype: Environment\nnetwork:\n  vpc:\n    id: \"'vpc-0123456789abcdef0'\"\n    subnets:\n      public:\n        - id: \"'subnet-0a'\"\n        - id: subnet-0b\n"
                .to_string(),
        ),
        ("web/manifest.yml", web),
    ] {
        let p = dir.join(path);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, text).expect("write");
    }
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
    let diags = validate(&loaded);
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let warnings: Vec<String> = diags
        .iter()
        .filter(|d| d.code.id == "TUG115")
        .map(|d| {
            let key = d.message.split('`').nth(1).unwrap_or_default();
            format!(
                "{key} {}:{} [{}]",
                d.span.line,
                d.span.col,
                d.environments.join(",")
            )
        })
        .collect();
    // One warning per value, whatever the number of environments that use it.
    let mut expected = vec![
        "image.credentials 6:16 [prod,test]",
        "http.healthcheck.path 10:11 [prod,test]",
        "http.healthcheck.success_codes 11:20 [prod,test]",
        "command[2] 12:1 [prod,test]",
        "secrets.DB_PASSWORD 14:16 [prod,test]",
        "sidecars.proxy.image 18:12 [prod,test]",
        "sidecars.proxy.secrets.TOKEN 20:14 [prod,test]",
        "storage.volumes.data.efs.id 26:13 [prod,test]",
        "secrets.API_KEY 30:16 [prod]",
        "network.vpc.id 5:9 []",
        "network.vpc.subnets.public[0].id 8:15 []",
    ];
    expected.sort();
    let mut warnings = warnings;
    warnings.sort();
    assert_eq!(warnings, expected);
    // Secret references are never quoted in diagnostics.
    let secret = diags
        .iter()
        .find(|d| d.code.id == "TUG115" && d.message.contains("DB_PASSWORD"))
        .expect("the secret's warning");
    assert!(
        secret.redact && !secret.message.contains("arn:"),
        "{}",
        secret.message
    );

    // What is rendered is what Copilot's template gave CloudFormation.
    let wl = loaded
        .workloads
        .iter()
        .find(|w| w.environment.as_deref() == Some("prod"))
        .expect("web in prod");
    let stack = tug::render::workload::render(&loaded, &ws, wl).expect("renders");
    let t = &stack.template;
    for plain in [
        format!("{ARN}:password::"),
        "/shop/prod/api".to_string(),
        "public.ecr.aws/nginx/nginx:1.27".to_string(),
        "echo ready".to_string(),
        "fs-0123456789abcdef0".to_string(),
    ] {
        assert!(t.contains(&plain), "{plain} in\n{t}");
    }
    assert!(!t.contains("'arn:aws:secretsmanager"), "{t}");
    assert!(
        !t.contains("\"'"),
        "no doubly quoted value is rendered:\n{t}"
    );
    let env = loaded
        .environments
        .iter()
        .find(|e| e.name == "prod")
        .expect("prod");
    let env_stack = tug::render::environment::render(&loaded, env).expect("renders");
    assert!(env_stack.template.contains("vpc-0123456789abcdef0"));
    assert!(
        !env_stack.template.contains("'vpc-"),
        "{}",
        env_stack.template
    );
}
