//! tug: declarative deployments to Amazon ECS from Copilot-compatible manifests.
//!
//! The binary is a thin shell over [`run`]; everything else lives in this library so that
//! tests and benchmarks use the same code.

// Only `ui` writes to the terminal: it decides colour per stream and keeps printed lines
// clear of the progress bars. It writes through `std::io` handles, not these macros.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod cli;
pub mod commands;
pub mod deploy;
pub mod error;
pub mod exit;
pub mod manifest;
pub mod render;
pub mod ui;
pub mod validate;

pub use commands::run;
