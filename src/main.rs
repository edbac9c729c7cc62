//! The `tug` binary: parse arguments, run, exit with the command's code.

use std::process::ExitCode;

fn main() -> ExitCode {
    tug::run(std::env::args_os())
}
