//! Manifests: workspace discovery, located YAML, `${VAR}` interpolation, environment
//! overrides, and the typed model. serde_yaml-free by design: positions come from the
//! located YAML tree in [`yaml`].

pub mod addons;
pub mod copilot_yaml;
pub mod decode;
pub mod duration;
pub mod interpolate;
pub mod load;
pub mod merge;
pub mod model;
pub mod schema;
pub mod source;
pub mod union;
pub mod workspace;
pub mod yaml;
