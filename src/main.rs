//! The `tug` binary: parse arguments, run, exit with the command's code.

#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

fn main() -> ExitCode {
    tug::run(std::env::args_os())
}
