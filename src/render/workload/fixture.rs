//! Test fixture for the workload view models: a workspace on disk with environment `test`
//! and the given workloads, loaded without errors. Whether the validation rules accept them
//! is theirs to test (render may not name validation, tests/layering.rs): a case that must
//! be refused belongs in tests/invalid/.

use std::collections::HashMap;
use std::fs;

use crate::manifest::load::{LoadOptions, Loaded, load};
use crate::manifest::workspace::Workspace;
use crate::render::workload::Scope;

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    pub ws: Workspace,
    pub loaded: Loaded,
}

impl Fixture {
    /// `env` is the environment manifest; `workloads` are (name, manifest) pairs.
    pub(crate) fn new(env: &str, workloads: &[(&str, &str)]) -> Fixture {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("copilot");
        fs::create_dir_all(dir.join("environments/test")).expect("mkdir");
        fs::write(dir.join(".workspace"), "application: shop\n").expect("write");
        fs::write(dir.join("environments/test/manifest.yml"), env).expect("write");
        for (name, manifest) in workloads {
            fs::create_dir_all(dir.join(name)).expect("mkdir");
            fs::write(dir.join(name).join("manifest.yml"), manifest).expect("write");
        }
        let ws = Workspace::open(&dir);
        let opts = LoadOptions {
            lenient: false,
            environment: Some("test".into()),
            variables: HashMap::new(),
        };
        let loaded = load(&ws, &opts).expect("loads");
        let errors: Vec<_> = loaded.diags.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        Fixture {
            _dir: tmp,
            ws,
            loaded,
        }
    }

    /// The scope of workload `name` in environment `test`.
    pub(crate) fn scope(&self, name: &str) -> Scope<'_> {
        let wl = self
            .loaded
            .workloads
            .iter()
            .find(|w| w.name == name)
            .expect("the workload");
        Scope {
            loaded: &self.loaded,
            wl,
            env: "test",
            addons: None,
        }
    }

    /// The rendered stack of `name`, parsed back, when it renders.
    pub(crate) fn stack(&self, name: &str) -> Option<serde_yaml::Value> {
        let wl = self.loaded.workloads.iter().find(|w| w.name == name)?;
        let s = crate::render::workload::render(&self.loaded, &self.ws, wl).ok()?;
        serde_yaml::from_str(&s.template).ok()
    }
}
