//! Property-based tests over the loader and the validator: whatever the bytes of a manifest,
//! tug reports diagnostics with real positions and never panics.

use std::fs;
use std::path::Path;

use proptest::prelude::*;
use tug::manifest::load::{LoadOptions, load};
use tug::manifest::workspace::Workspace;
use tug::validate::validate;

const ENV: &str = "name: test\ntype: Environment\n";

/// Writes a workspace with one environment and `manifest` as the `web` workload, then loads
/// and validates it, checking every diagnostic points into a real file.
fn check(manifest: &[u8], env_manifest: &[u8]) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let ws_dir = tmp.path().join("copilot");
    fs::create_dir_all(ws_dir.join("web")).expect("mkdir");
    fs::create_dir_all(ws_dir.join("environments/test")).expect("mkdir");
    fs::write(ws_dir.join(".workspace"), "application: fuzz\n").expect("write");
    fs::write(ws_dir.join("web/manifest.yml"), manifest).expect("write");
    fs::write(ws_dir.join("environments/test/manifest.yml"), env_manifest).expect("write");
    let ws = Workspace::open(&ws_dir);
    let opts = LoadOptions {
        lenient: false,
        environment: None,
        variables: Default::default(),
    };
    let loaded = load(&ws, &opts).expect("load never fails for an existing workspace");
    for d in validate(&loaded) {
        assert!(
            ws.sources.get(d.span.source).is_some(),
            "diagnostic without a file: {d:?}"
        );
        assert!(
            d.span.line >= 1 && d.span.col >= 1,
            "diagnostic without a position: {d:?}"
        );
        assert!(!d.message.is_empty());
    }
}

fn demo_manifests() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/demo/copilot");
    let mut out = Vec::new();
    for entry in fs::read_dir(&root).expect("demo workspace").flatten() {
        let p = entry.path().join("manifest.yml");
        if let Ok(text) = fs::read_to_string(p) {
            out.push(text);
        }
    }
    out.sort();
    out
}

/// Keys the manifest schema knows, so random documents reach deep into the decoder.
const KEYS: &[&str] = &[
    "name",
    "type",
    "image",
    "location",
    "build",
    "port",
    "http",
    "path",
    "healthcheck",
    "count",
    "range",
    "cpu_percentage",
    "spot",
    "sidecars",
    "variables",
    "secrets",
    "storage",
    "volumes",
    "efs",
    "network",
    "vpc",
    "placement",
    "connect",
    "deployment",
    "strategy",
    "canary",
    "environments",
    "test",
    "cpu",
    "memory",
    "platform",
    "logging",
    "depends_on",
    "on",
    "schedule",
    "nlb",
    "subscribe",
    "topics",
    "taskdef_overrides",
    "value",
    "interval",
];
const TYPES: &[&str] = &[
    "Load Balanced Web Service",
    "Backend Service",
    "Worker Service",
    "Scheduled Job",
    "Static Site",
];

fn yaml_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("true".to_string()),
        Just("~".to_string()),
        Just("'80'".to_string()),
        Just("${COPILOT_ENVIRONMENT_NAME}".to_string()),
        Just("1-10".to_string()),
        Just("30s".to_string()),
        (0u32..100_000).prop_map(|n| n.to_string()),
        "[a-z/:.]{0,12}".prop_map(|s| format!("\"{s}\"")),
        prop::sample::select(TYPES).prop_map(|t| t.to_string()),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..5).prop_map(|kv| {
                let body: Vec<String> = kv.into_iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{{{}}}", body.join(", "))
            }),
        ]
    })
}

fn document() -> impl Strategy<Value = String> {
    (
        prop::sample::select(TYPES),
        prop::collection::vec((prop::sample::select(KEYS), yaml_value()), 0..10),
    )
        .prop_map(|(kind, entries)| {
            let mut doc = format!("name: web\ntype: {kind}\n");
            for (k, v) in entries {
                doc.push_str(&format!("{k}: {v}\n"));
            }
            doc
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check(&bytes, ENV.as_bytes());
        check(ENV.as_bytes(), &bytes);
    }

    #[test]
    fn random_documents_never_panic(doc in document()) {
        check(doc.as_bytes(), ENV.as_bytes());
    }

    #[test]
    fn mutated_real_manifests_never_panic(
        pick in 0usize..4,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let manifests = demo_manifests();
        let mut bytes = manifests[pick % manifests.len()].clone().into_bytes();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                bytes.push(byte);
                continue;
            }
            let i = at.index(bytes.len());
            match op {
                0 => { bytes.remove(i); }
                1 => bytes.insert(i, byte),
                _ => bytes[i] = byte,
            }
        }
        check(&bytes, ENV.as_bytes());
    }
}

#[test]
fn hostile_inputs_get_diagnostics() {
    // Deep nesting, a huge file, an alias bomb: each is one diagnostic, not a crash.
    check(
        ("a: ".to_string() + &"[".repeat(10_000)).as_bytes(),
        ENV.as_bytes(),
    );
    check("a: b\n".repeat(300_000).as_bytes(), ENV.as_bytes());
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    check(bomb.as_bytes(), ENV.as_bytes());
}

#[test]
fn huge_numbers_do_not_overflow() {
    let manifest = "name: web\ntype: Backend Service\nimage:\n  location: nginx\n  cpu: 4294967295\n  memory: 4294967295\nsidecars:\n  a:\n    image: nginx\n    cpu: 4294967295\n    memory_reservation: 4294967295\ncount:\n  range: 4294967295-4294967295\n  cpu_percentage: 4294967295\n";
    check(manifest.as_bytes(), ENV.as_bytes());
}
