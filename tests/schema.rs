//! The JSON Schemas of `tug schema`, checked with an independent JSON Schema validator: they
//! are valid draft 2020-12 documents, they accept every example manifest and every manifest of
//! the Copilot corpus that the loader's decoder accepts, and they reject what it rejects (an
//! unknown or misplaced key, a wrong type).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tug::manifest::decode::{Decode, DecodeCx, node_to_json};
use tug::manifest::model::{EnvironmentManifest, WorkloadKind, WorkloadManifest};
use tug::manifest::schema::{
    MISSING_MARKER, ManifestType, any_manifest_schema, key_paths, schema_for,
};
use tug::manifest::source::SourceId;
use tug::manifest::yaml::{self, Node, NodeKind};
use tug::validate::codes;

fn validator(ty: ManifestType) -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema_for(ty)).expect("the schema compiles")
}

fn yaml_to_json(text: &str) -> Option<(Value, Node)> {
    let node = yaml::parse(SourceId(0), text).ok()?;
    Some((node_to_json(&node), node))
}

fn errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// The manifest type a document declares.
fn manifest_type(doc: &Value) -> Option<ManifestType> {
    ManifestType::parse(doc["type"].as_str()?)
}

fn manifests_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            manifests_under(&p, out);
        } else if p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with("manifest.yml"))
        {
            out.push(p);
        }
    }
}

#[test]
fn schemas_are_valid_draft_2020_12_documents() {
    let mut docs: Vec<Value> = ManifestType::ALL.iter().map(|t| schema_for(*t)).collect();
    docs.push(any_manifest_schema());
    for doc in docs {
        assert_eq!(
            doc["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        let text = doc.to_string();
        assert!(
            !text.contains(MISSING_MARKER),
            "a type has no schema: {text}"
        );
        if let Err(e) = jsonschema::draft202012::meta::validate(&doc) {
            panic!("{} is not a valid schema: {e}", doc["title"]);
        }
    }
}

#[test]
fn example_manifests_validate() {
    let mut files = Vec::new();
    manifests_under(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests"),
        &mut files,
    );
    assert!(files.len() >= 6, "{files:?}");
    let any = jsonschema::draft202012::new(&any_manifest_schema()).expect("compiles");
    for file in files {
        let text = fs::read_to_string(&file).expect("read");
        let (doc, _) = yaml_to_json(&text).expect("parses");
        let ty = manifest_type(&doc).expect("has a type");
        let errs = errors(&validator(ty), &doc);
        assert!(errs.is_empty(), "{}: {errs:#?}", file.display());
        assert!(any.is_valid(&doc), "{}", file.display());
    }
    let ws = validator(ManifestType::Workspace);
    assert!(ws.is_valid(&serde_json::json!({"application": "demo"})));
    assert!(!ws.is_valid(&serde_json::json!({"app": "demo"})));
}

#[test]
fn broken_manifests_are_rejected() {
    let lbws = validator(ManifestType::Workload(WorkloadKind::LoadBalancedWebService));
    let backend = validator(ManifestType::Workload(WorkloadKind::BackendService));
    let env = validator(ManifestType::Environment);
    let ok = "name: web\ntype: Load Balanced Web Service\nimage:\n  location: nginx\n  port: 80\n";
    assert!(lbws.is_valid(&yaml_to_json(ok).unwrap().0));
    let cases = [
        // a typo
        "name: web\ntype: Load Balanced Web Service\nhttp:\n  deregistraton_delay: 30s\n",
        // a key at the wrong level
        "name: web\ntype: Load Balanced Web Service\nport: 80\n",
        // a wrong type
        "name: web\ntype: Load Balanced Web Service\ncpu: large\n",
        "name: web\ntype: Load Balanced Web Service\nexec: maybe\n",
        "name: web\ntype: Load Balanced Web Service\nhttp:\n  healthcheck:\n    interval: 30\n",
        "name: web\ntype: Load Balanced Web Service\nimage:\n  port: 70000\n",
        // a key of another type
        "name: web\ntype: Load Balanced Web Service\non:\n  schedule: '@daily'\n",
        // the wrong type
        "name: web\ntype: Backend Service\n",
        // a key an override may not hold
        "name: web\ntype: Load Balanced Web Service\nenvironments:\n  prod:\n    name: other\n",
        // no name
        "type: Load Balanced Web Service\n",
    ];
    for case in cases {
        let doc = yaml_to_json(case).unwrap().0;
        assert!(!lbws.is_valid(&doc), "accepted:\n{case}");
    }
    let doc = yaml_to_json("name: api\ntype: Backend Service\nnlb:\n  port: 80\n")
        .unwrap()
        .0;
    assert!(!backend.is_valid(&doc));
    let doc = yaml_to_json("name: test\ntype: Environment\nnetwork:\n  vpc:\n    cidr: [1]\n")
        .unwrap()
        .0;
    assert!(!env.is_valid(&doc));
}

#[test]
fn the_loaders_lenient_forms_are_accepted() {
    let lbws = validator(ManifestType::Workload(WorkloadKind::LoadBalancedWebService));
    let text = r#"
name: web
type: Load Balanced Web Service
image:
  build: Dockerfile
  port: "8080"
cpu: ${CPU}
memory: "1_024"
exec: yes
count:
  range: 1-10
  cpu_percentage: 70
http:
  path: /
  alias: [a.example.com, {name: b.example.com, hosted_zone: Z1}]
  healthcheck:
    path: /health
    interval: 10s
    timeout: 0
  additional_rules:
    - path: /admin
      stickiness: on
variables:
  PORT: 8080
  VPC: {from_cfn: vpc-export}
network:
  vpc:
    placement: private
    security_groups: ${SECURITY_GROUPS}
sidecars:
  nginx:
environments:
  prod:
    count: 3
  test:
"#;
    let doc = yaml_to_json(text).unwrap().0;
    let errs = errors(&lbws, &doc);
    assert!(errs.is_empty(), "{errs:#?}");
}

/// Decodes `node` strictly, as the loader does, without interpolation: the errors the
/// decoder reports about shape (unknown keys, wrong types).
fn decoder_errors(node: &Node, ty: ManifestType) -> Vec<&'static str> {
    let mut cx = DecodeCx::new(false);
    match ty {
        ManifestType::Workload(kind) => {
            WorkloadManifest::decode(node, &mut cx);
            let mut codes_found: Vec<&'static str> = cx
                .diags
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.code.id)
                .collect();
            // Keys of another workload type, at the top and in overrides.
            let mut maps = vec![(node, true)];
            if let Some(NodeKind::Map(envs)) = node.get("environments").map(|n| &n.kind) {
                maps.extend(envs.iter().map(|(_, v)| (v, false)));
            }
            for (map, top) in maps {
                if let NodeKind::Map(entries) = &map.kind {
                    for (k, _) in entries {
                        let key = k.as_str().unwrap_or_default();
                        let bad = !kind.keys().contains(&key)
                            || (!top && matches!(key, "name" | "type" | "environments"));
                        if bad {
                            codes_found.push(codes::UNKNOWN_KEY.id);
                        }
                    }
                }
            }
            codes_found
        }
        _ => {
            EnvironmentManifest::decode(node, &mut cx);
            cx.diags
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.code.id)
                .collect()
        }
    }
}

#[test]
fn the_schema_agrees_with_the_decoder_on_the_copilot_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/copilot-real");
    if !root.is_dir() {
        eprintln!("skipping: {} is not present", root.display());
        return;
    }
    let mut files = Vec::new();
    manifests_under(&root, &mut files);
    files.sort();
    let (mut accepted, mut rejected) = (0, 0);
    for file in &files {
        let text = fs::read_to_string(file).expect("read");
        let Some((doc, node)) = yaml_to_json(&text) else {
            continue;
        };
        let Some(ty) = manifest_type(&doc) else {
            continue; // Request-Driven Web Service, Static Site: tug has no schema for them
        };
        let found = decoder_errors(&node, ty);
        let errs = errors(&validator(ty), &doc);
        if found.is_empty() {
            assert!(
                errs.is_empty(),
                "{}: the decoder accepts it, the schema does not: {errs:#?}",
                file.display()
            );
            accepted += 1;
        } else if found.contains(&codes::UNKNOWN_KEY.id) {
            assert!(
                !errs.is_empty(),
                "{}: the decoder reports an unknown key ({found:?}), the schema accepts it",
                file.display()
            );
            rejected += 1;
        }
    }
    assert!(accepted >= 30, "{accepted} corpus manifests accepted");
    assert!(rejected >= 3, "{rejected} corpus manifests rejected");
}

#[test]
fn every_schema_key_is_in_the_manifest_reference() {
    let reference = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/manifest-reference.md"),
    )
    .expect("docs/manifest-reference.md");
    let mut missing = Vec::new();
    for ty in ManifestType::ALL {
        for path in key_paths(ty) {
            // Overrides repeat the workload's keys; the reference describes them once.
            if path.starts_with("environments.<name>.") {
                continue;
            }
            let cell = format!("`{path}`");
            if !reference.contains(&cell) {
                missing.push(format!("{}: {path}", ty.slug()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "keys missing from docs/manifest-reference.md:\n{}",
        missing.join("\n")
    );
}

/// The hand-written invalid workspaces of tests/invalid: a manifest with an unknown key or a
/// value of the wrong type (TUG103, TUG102 errors in its `expected` file) is rejected by its
/// schema too.
#[test]
fn the_schema_rejects_the_invalid_examples_the_decoder_rejects() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let mut cases: Vec<PathBuf> = fs::read_dir(&root)
        .expect("tests/invalid")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    cases.sort();
    let mut checked = 0;
    for case in cases {
        let expected = fs::read_to_string(case.join("expected")).unwrap_or_default();
        let mut files: Vec<&str> = expected
            .lines()
            .filter(|l| l.starts_with("TUG102 error ") || l.starts_with("TUG103 error "))
            .filter_map(|l| l.split_whitespace().nth(2)?.split(':').next())
            .collect();
        files.dedup();
        for file in files {
            let Ok(text) = fs::read_to_string(case.join(file)) else {
                continue;
            };
            let Some((doc, _)) = yaml_to_json(&text) else {
                continue;
            };
            let Some(ty) = manifest_type(&doc) else {
                continue;
            };
            assert!(
                !validator(ty).is_valid(&doc),
                "{}/{file}: the loader rejects it, the schema accepts it",
                case.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 5, "{checked} invalid manifests checked");
}
