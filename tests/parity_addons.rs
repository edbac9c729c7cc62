//! Copilot parity of addons (issue 13, item 9): `copilot/<name>/addons/*.yml` deployed as the
//! workload stack's nested stack `AddonsStack`, its outputs turned into variables, secrets and
//! task role policies as Copilot did.
//!
//! Sources of truth: Copilot's source read as facts (internal/pkg/addon/ for the merge, the
//! reserved parameters and the output classes; its workload partials addons.yml,
//! envvars-common.yml, secrets.yml and taskrole.yml for where outputs go; its
//! ToSnakeCaseFunc tests for the variable names). cfn-lint checks the parent and the addon
//! template, and tests/support/api_constraints.rs the parent. The deploy test runs against
//! moto (not AWS): it checks that the nested stack is created from the uploaded template with
//! the parameters tug passes, and what the task definition is given; moto does not start
//! tasks, so ECS reading the variables and secret is not observed, and its IAM role ignores
//! `ManagedPolicyArns` from CloudFormation, so the policy's attachment is read from the
//! deployed template (and the policy from IAM).

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as Json;
use serde_yaml::Value;
use support::api_constraints::assert_api_constraints;
use support::{FaultProxy, Moto, boto3, copy_of, events, outcomes, stderr, tug};

fn fixture() -> tempfile::TempDir {
    copy_of("tests/parity_addons")
}

fn render(dir: &Path) -> (std::process::Output, PathBuf) {
    let out_dir = dir.join("rendered");
    let out = Command::new(env!("CARGO_BIN_EXE_tug"))
        .current_dir(dir)
        .args(["render", "-e", "test", "--output-dir"])
        .arg(&out_dir)
        .output()
        .expect("tug runs");
    (out, out_dir)
}

fn getatt(output: &str) -> Value {
    serde_yaml::from_str(&format!(
        "{{\"Fn::GetAtt\": [AddonsStack, Outputs.{output}]}}"
    ))
    .expect("YAML")
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a Value> {
    container["Environment"]
        .as_sequence()?
        .iter()
        .find(|e| e["Name"] == name)
        .map(|e| &e["Value"])
}

#[test]
fn addons_render_as_the_nested_stack_copilot_made() {
    let ws = fixture();
    let (out, dir) = render(ws.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let parent_path = dir.join("addons-test-orders.yml");
    let parent_text = fs::read_to_string(&parent_path).expect("parent template");
    assert_api_constraints("addons-test-orders", &parent_text);
    let parent: Value = serde_yaml::from_str(&parent_text).expect("YAML");
    let stack = &parent["Resources"]["AddonsStack"];
    assert_eq!(stack["Type"], "AWS::CloudFormation::Stack");
    let expected: Value = serde_yaml::from_str(
        "{App: addons, Env: test, Name: orders, BillingMode: PAY_PER_REQUEST, LogGroupName: {Ref: LogGroup}}",
    )
    .expect("YAML");
    assert_eq!(stack["Properties"]["Parameters"], expected);
    assert_eq!(
        stack["Properties"]["TemplateURL"]["Ref"],
        "AddonsTemplateURL"
    );
    // The variables (Copilot's names) in every container, the secret in the main one only.
    let containers = parent["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
        .as_sequence()
        .expect("containers");
    for c in containers
        .iter()
        .filter(|c| c["Name"] == "orders" || c["Name"] == "proxy")
    {
        assert_eq!(
            env_value(c, "ORDERS_TABLE_NAME"),
            Some(&getatt("OrdersTableName")),
            "{:?}",
            c["Name"]
        );
        assert_eq!(env_value(c, "ORDERS_ACCESS_POLICY_ARN"), None);
        assert_eq!(env_value(c, "API_KEY_SECRET"), None);
    }
    let main = containers
        .iter()
        .find(|c| c["Name"] == "orders")
        .expect("main");
    let secret = main["Secrets"]
        .as_sequence()
        .expect("secrets")
        .iter()
        .find(|s| s["Name"] == "API_KEY_SECRET")
        .expect("the addon secret");
    assert_eq!(secret["ValueFrom"], getatt("ApiKeySecret"));
    let proxy = containers
        .iter()
        .find(|c| c["Name"] == "proxy")
        .expect("sidecar");
    assert!(proxy["Secrets"].is_null(), "{proxy:?}");
    // The policy on the task role; the execution role may read the secret.
    assert_eq!(
        parent["Resources"]["TaskRole"]["Properties"]["ManagedPolicyArns"],
        Value::Sequence(vec![getatt("OrdersAccessPolicyArn")])
    );
    let execution = serde_yaml::to_string(&parent["Resources"]["ExecutionRole"]).expect("YAML");
    assert!(execution.contains("Outputs.ApiKeySecret"), "{execution}");

    // The merged template: both files' resources, its outputs, in JSON.
    let addon_path = dir.join("addons-test-orders.addons.json");
    let addon: Json =
        serde_json::from_str(&fs::read_to_string(&addon_path).expect("addon template"))
            .expect("JSON");
    let resources: Vec<&String> = addon["Resources"]
        .as_object()
        .expect("map")
        .keys()
        .collect();
    assert_eq!(
        resources,
        ["OrdersTable", "OrdersAccessPolicy", "ApiKey"],
        "{addon}"
    );
    assert_eq!(
        addon["Resources"]["OrdersAccessPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Resource"],
        serde_json::json!({ "Fn::GetAtt": ["OrdersTable", "Arn"] })
    );
    // The environment's addons: its own nested stack, given App and Env; outputs not injected.
    let env_text = fs::read_to_string(dir.join("addons-test.yml")).expect("env template");
    let env: Value = serde_yaml::from_str(&env_text).expect("YAML");
    let env_stack = &env["Resources"]["AddonsStack"];
    assert_eq!(env_stack["Type"], "AWS::CloudFormation::Stack");
    let expected: Value = serde_yaml::from_str("{App: addons, Env: test}").expect("YAML");
    assert_eq!(env_stack["Properties"]["Parameters"], expected);
    assert_eq!(env["Parameters"]["AddonsTemplateURL"]["Type"], "String");
    assert!(!parent_text.contains("UploadsBucketName"));
    let env_addon_path = dir.join("addons-test.addons.json");
    assert!(
        fs::read_to_string(&env_addon_path)
            .expect("environment addon template")
            .contains("UploadsBucket")
    );
    support::cfn_lint(&[
        parent_path,
        addon_path,
        dir.join("addons-test.yml"),
        env_addon_path,
    ]);

    // Deterministic.
    let first = fs::read_to_string(dir.join("addons-test-orders.addons.json")).expect("read");
    let (out, dir) = render(ws.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        fs::read_to_string(dir.join("addons-test-orders.addons.json")).expect("read"),
        first
    );
    assert_eq!(
        fs::read_to_string(dir.join("addons-test-orders.yml")).expect("read"),
        parent_text
    );
}

/// Offline checks, each with its file, line and column (what Copilot refused at deploy time,
/// and what CloudFormation would refuse later).
#[test]
fn invalid_addons_are_refused_with_positions() {
    let ws = fixture();
    let addons = ws.path().join("copilot/orders/addons");
    // A conflicting logical id, an unknown tag, a reserved parameter set in the file, and one
    // the addons do not declare.
    fs::write(
        addons.join("y-conflict.yml"),
        "Parameters:\n  App: {Type: String}\n  Env: {Type: String}\n  Name: {Type: String}\nResources:\n  OrdersTable:\n    Type: AWS::S3::Bucket\n",
    )
    .expect("write");
    fs::write(
        addons.join("addons.parameters.yml"),
        "Parameters:\n  BillingMode: PAY_PER_REQUEST\n  Name: other\n  Unknown: !Ref Service\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_tug"))
        .current_dir(ws.path())
        .args(["validate"])
        .output()
        .expect("tug runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_ne!(out.status.code(), Some(0), "{text}");
    for expected in [
        "y-conflict.yml:6:3",
        "`Resources.OrdersTable` is defined differently in orders-table.yml and y-conflict.yml",
        "addons.parameters.yml:3:3",
        "`Name` is passed by tug",
        "addons.parameters.yml:4:3",
        "the addons declare no parameter `Unknown`",
        "TUG503",
    ] {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }

    // A tag CloudFormation does not know, and a template without the reserved parameters.
    fs::remove_file(addons.join("y-conflict.yml")).expect("rm");
    fs::write(
        addons.join("addons.parameters.yml"),
        "Parameters:\n  BillingMode: PAY_PER_REQUEST\n",
    )
    .expect("write");
    fs::write(
        addons.join("z-secret.yml"),
        "Resources:\n  ApiKey:\n    Type: AWS::SecretsManager::Secret\n    Properties:\n      Description: !Sbu x\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_tug"))
        .current_dir(ws.path())
        .args(["render", "-e", "test", "-n", "orders"])
        .output()
        .expect("tug runs");
    let text = stderr(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("z-secret.yml:5:"), "{text}");
    assert!(
        text.contains("`!Sbu` is not a CloudFormation intrinsic function"),
        "{text}"
    );

    fs::write(
        addons.join("z-secret.yml"),
        "Parameters:\n  App: {Type: String}\n  Env: {Type: String}\n  Name: {Type: String}\nResources:\n  ApiKey:\n    Type: AWS::SecretsManager::Secret\n",
    )
    .expect("write");

    // Copilot's parent parameters `EnvName`, `AppName` and `WorkloadName` are not tug's: a
    // reference to one is written out as the name it held (a Ref and inside a Sub).
    fs::write(
        addons.join("addons.parameters.yml"),
        "Parameters:\n  BillingMode: !Ref EnvName\n  LogGroupName: !Sub '/copilot/${AppName}-${EnvName}-${WorkloadName}'\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_tug"))
        .current_dir(ws.path())
        .args(["render", "-e", "test", "-n", "orders"])
        .output()
        .expect("tug runs");
    let template = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(template.contains(r#""BillingMode":"test""#), "{template}");
    assert!(
        template.contains("/copilot/addons-test-orders"),
        "{template}"
    );

    // A parameter value referring to what the parent template does not have (Copilot's
    // environment security group lives in the environment stack).
    fs::write(
        addons.join("addons.parameters.yml"),
        "Parameters:\n  BillingMode: !Ref EnvironmentSecurityGroup\n  LogGroupName: !Ref LogGroup\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_tug"))
        .current_dir(ws.path())
        .args(["render", "-e", "test", "-n", "orders"])
        .output()
        .expect("tug runs");
    let text = stderr(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("addons.parameters.yml:2:21"), "{text}");
    assert!(
        text.contains(
            "refers to `EnvironmentSecurityGroup`, which is not in the workload's template"
        ),
        "{text}"
    );

    // The task role gets the addons' policy: passing it to the addons is a cycle.
    fs::write(
        addons.join("addons.parameters.yml"),
        "Parameters:\n  BillingMode: PAY_PER_REQUEST\n  LogGroupName: !GetAtt TaskRole.Arn\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_tug"))
        .current_dir(ws.path())
        .args(["render", "-e", "test", "-n", "orders"])
        .output()
        .expect("tug runs");
    let text = stderr(&out);
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("addons.parameters.yml:3:"), "{text}");
    assert!(
        text.contains("refers to `TaskRole`, which itself uses the addons' outputs"),
        "{text}"
    );
}

/// What moto holds after the deploy: the nested stack, its table, the task definition's
/// variable and secret, and the task role's policies.
const INSPECT: &str = r#"
resources = cfn.describe_stack_resources(StackName="addons-test-orders")["StackResources"]
# moto lists the nested stack resource without its fields, and names the nested stack by its
# logical id (CloudFormation: `<parent>-AddonsStack-<suffix>`, with ParentId set).
by_id = {r["LogicalResourceId"]: r for r in resources if "LogicalResourceId" in r}
nested = [s for s in cfn.describe_stacks()["Stacks"] if "AddonsStack" in s["StackName"]]
out = {"nested_count": len(nested)}
params = lambda s: {p["ParameterKey"]: p["ParameterValue"] for p in s.get("Parameters", [])}
n = [s for s in nested if "Name" in params(s)][0]
out["env_nested_parameters"] = [params(s) for s in nested if "Name" not in params(s)][0]
body = cfn.get_template(StackName=n["StackName"])["TemplateBody"]
out["nested_resources"] = sorted((body if isinstance(body, dict) else json.loads(body))["Resources"])
out["nested_parameters"] = {p["ParameterKey"]: p["ParameterValue"] for p in n.get("Parameters", [])}
out["nested_outputs"] = {o["OutputKey"]: o["OutputValue"] for o in n.get("Outputs", [])}
out["tables"] = ddb.list_tables()["TableNames"]
td = ecs.describe_task_definition(taskDefinition=by_id["TaskDefinition"]["PhysicalResourceId"])["taskDefinition"]
main = [c for c in td["containerDefinitions"] if c["name"] == "orders"][0]
out["environment"] = {e["name"]: e["value"] for e in main.get("environment", [])}
out["secrets"] = {s["name"]: s["valueFrom"] for s in main.get("secrets", [])}
# moto's IAM role ignores ManagedPolicyArns from CloudFormation, so the deployed template says
# what the role is given, and IAM that the policy it names exists.
parent = cfn.get_template(StackName="addons-test-orders")["TemplateBody"]
out["role_policies"] = parent if isinstance(parent, str) else json.dumps(parent)
policy = out["nested_outputs"].get("OrdersAccessPolicyArn")
out["policy_exists"] = bool(policy) and iam.get_policy(PolicyArn=policy)["Policy"]["Arn"] == policy
print(json.dumps(out))
"#;

/// Answers PutBucketPolicy in place of moto: moto applies the bucket's TLS-only policy to
/// every request of the plain-HTTP test endpoint (see tests/artifacts.rs, which checks the
/// policy itself).
fn accept_policy(action: &str, _body: &str) -> Option<String> {
    (action == "PutBucketPolicy").then(String::new)
}

#[test]
fn addons_deploy_as_a_nested_stack_from_the_artifacts_bucket() {
    let moto = Moto::start(10);
    let proxy = FaultProxy::with_answers(moto.port, accept_policy);
    let ws = fixture();
    let out = tug(
        ws.path(),
        &proxy.url(),
        &["--output", "json", "deploy", "-e", "test"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stderr(&out),
        String::from_utf8_lossy(&out.stdout)
    );
    let rows = outcomes(&events(&out));
    assert!(
        rows.contains(&("addons-test-orders".to_string(), "deployed".to_string())),
        "{rows:?}"
    );
    let state: Json = serde_json::from_str(&boto3(&moto, INSPECT)).expect("JSON");
    assert_eq!(
        state["nested_count"], 2,
        "the workload's and the environment's: {state}"
    );
    assert_eq!(
        state["env_nested_parameters"],
        serde_json::json!({"App": "addons", "Env": "test"})
    );
    assert_eq!(
        state["nested_resources"],
        serde_json::json!(["ApiKey", "OrdersAccessPolicy", "OrdersTable"])
    );
    let nested = &state["nested_parameters"];
    for (k, v) in [
        ("App", "addons"),
        ("Env", "test"),
        ("Name", "orders"),
        ("BillingMode", "PAY_PER_REQUEST"),
    ] {
        assert_eq!(nested[k], v, "{nested}");
    }
    assert_eq!(
        nested["LogGroupName"], "/tug/addons-test-orders",
        "the parent's value, resolved: {nested}"
    );
    assert!(
        state["tables"]
            .as_array()
            .expect("tables")
            .contains(&serde_json::json!("addons-test-orders-orders")),
        "{state}"
    );
    assert_eq!(
        state["environment"]["ORDERS_TABLE_NAME"],
        "addons-test-orders-orders"
    );
    assert_eq!(state["policy_exists"], true, "{state}");
    let deployed: Value =
        serde_yaml::from_str(state["role_policies"].as_str().expect("template")).expect("YAML");
    assert_eq!(
        deployed["Resources"]["TaskRole"]["Properties"]["ManagedPolicyArns"],
        Value::Sequence(vec![getatt("OrdersAccessPolicyArn")])
    );
    // The secret reaches the task definition; moto's CloudFormation does not implement
    // AWS::SecretsManager::Secret (no output value), so its ARN is not checked here (the render
    // test checks the wiring).
    assert!(
        state["secrets"]["API_KEY_SECRET"]
            .as_str()
            .is_some_and(|v| v.contains("Outputs.ApiKeySecret")),
        "{state}"
    );

    // A delete lists what the addons stack holds as lost (moto lists the nested stack's
    // resources as CloudFormation does; it has no AWS::SecretsManager::Secret, so the secret is
    // not among them here).
    let out = tug(
        ws.path(),
        &proxy.url(),
        &["svc", "delete", "-n", "orders", "-e", "test"],
    );
    assert_ne!(out.status.code(), Some(0), "no consent: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("Lost with them:"), "{err}");
    assert!(
        err.contains("DynamoDB table addons-test-orders-orders (OrdersTable, stack "),
        "{err}"
    );
    assert!(err.contains("its items"), "{err}");

    // Unchanged addons: the same object, no changes.
    let out = tug(
        ws.path(),
        &proxy.url(),
        &["--output", "json", "deploy", "-e", "test"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = outcomes(&events(&out));
    assert!(
        rows.contains(&("addons-test-orders".to_string(), "no changes".to_string())),
        "{rows:?}"
    );
}
