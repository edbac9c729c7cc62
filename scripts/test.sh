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
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
    for candidate in python3 python; do
        if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
            python="$candidate"
            break
        fi
    done
fi
[[ -n "$python" ]] || fail "Python 3.9 or later not found; install it or set PYTHON=/path/to/python3"
cargo --version
"$python" --version
echo "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"

# --- Python tools -----------------------------------------------------------------------------

section "Python tools (.venv)"
venv="$root/.venv"
requirements="scripts/requirements-test.txt"
stamp="$venv/.requirements.sha256"
# The stamp also records the Python version: a venv made by another interpreter is rebuilt.
want="$("$python" - "$requirements" <<'PY'
import hashlib, sys
with open(sys.argv[1], "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
print(f"{digest} python{sys.version_info[0]}.{sys.version_info[1]}")
PY
)"
if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "creating $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv" || fail "could not create a virtualenv; on Debian/Ubuntu install python3-venv"
fi
if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
    echo "installing $requirements"
    rm -f "$stamp"
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements"
    echo "$want" >"$stamp"
else
    echo "up to date ($requirements unchanged)"
fi
export VIRTUAL_ENV="$venv"
export PATH="$venv/bin:$PATH"
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
