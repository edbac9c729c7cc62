#!/usr/bin/env bash
# The test command: formatting, lints and every test, failing at the first problem.
#
#   scripts/test.sh
#
# Needs only a Rust toolchain (with rustfmt and clippy) and Python 3. The Python tools the tests
# use (cfn-lint, moto) are installed into .venv/ from scripts/requirements-test.txt, again only
# when that file changes. Build output goes to $CARGO_TARGET_DIR, by default
# ~/.cache/tug-target, outside the clone so that it is reused between clones and runs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tug-target}"

section() {
    printf '\n==> %s\n' "$*"
}

fail() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# --- Toolchain --------------------------------------------------------------------------------

section "Toolchain"
command -v cargo >/dev/null || fail "cargo not found; install Rust from https://rustup.rs"
cargo fmt --version >/dev/null 2>&1 ||
    fail "rustfmt is missing; install it with: rustup component add rustfmt"
cargo clippy --version >/dev/null 2>&1 ||
    fail "clippy is missing; install it with: rustup component add clippy"
cargo --version
echo "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"

# --- Python tools -----------------------------------------------------------------------------

section "Python tools (.venv)"
# shellcheck source=scripts/python-tools.sh
source scripts/python-tools.sh
ensure_python_tools || exit 1
cfn-lint --version
"$venv/bin/python" -c 'import moto; print("moto", moto.__version__)'

# --- Rust -------------------------------------------------------------------------------------

section "cargo fmt --all -- --check"
# rustfmt colours its diff whenever TERM is set; plain text in logs.
if [[ -t 1 ]]; then
    cargo fmt --all -- --check
else
    cargo fmt --all -- --check --color never
fi

section "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

section "cargo test --all-targets"
cargo test --all-targets

section "cargo test --doc"
cargo test --doc

section "All checks passed"
