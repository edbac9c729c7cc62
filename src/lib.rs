//! tug: declarative deployments to Amazon ECS from Copilot-compatible manifests.
//!
//! The binary is a thin shell over [`run`]; everything else lives in this library so that
//! tests and benchmarks use the same code.

// Only `ui` writes to the terminal: it decides colour per stream and keeps printed lines
// clear of the progress bars. It writes through `std::io` handles, not these macros.
#![deny(clippy::print_stdout, clippy::print_stderr)]
// `pub` is the library's surface: what the binary, the integration tests and the benchmarks
// use (manifest loading, validation, rendering, the deploy layer's AWS calls, the error
// type). The command layer, the argument parser and the terminal are the binary's own:
// `pub(crate)`, reached only through [`run`]. `unreachable_pub` keeps an item inside the
// crate from claiming `pub` where `pub(crate)` is what it is.
#![warn(unreachable_pub)]

pub(crate) mod cli;
pub(crate) mod commands;
pub mod deploy;
pub mod error;
pub mod exit;
pub mod manifest;
pub mod render;
pub(crate) mod ui;
pub mod validate;

pub use commands::run;
