//! Manifests: workspace discovery, located YAML, `${VAR}` interpolation, environment
//! overrides, and the typed model, with the diagnostics everything above reports about it
//! ([`diagnostic`], [`codes`]). The bottom of the module ladder: nothing here names
//! `validate`, `render`, `deploy`, `ui` or `commands` (tests/layering.rs checks).
//! serde_yaml-free by design: positions come from the located YAML tree in [`yaml`].

pub mod addon_assets;
pub mod addons;
pub mod capacity;
pub mod codes;
pub mod copilot_yaml;
pub mod decode;
pub mod diagnostic;
pub mod domain;
pub mod duration;
pub mod interpolate;
pub mod load;
pub mod merge;
pub mod model;
pub mod names;
pub mod routing;
pub mod schedule;
pub mod schema;
pub mod source;
pub mod union;
pub mod workspace;
pub mod yaml;
pub(crate) mod zip;
