//! The typed manifest model: what each key means, as decoded from located YAML.

pub mod common;
pub mod environment;
pub mod service;
pub mod workload;

pub use environment::EnvironmentManifest;
pub use workload::{WorkloadKind, WorkloadManifest};
