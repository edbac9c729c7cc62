# Sourced by scripts/test.sh and scripts/demo.sh: makes sure .venv/ holds the pinned Python
# tools of scripts/requirements-test.txt (cfn-lint, moto), creating or updating it only when
# that file (or the Python version) changed, and puts it first on PATH.
#
# Needs: $root (the repository root). Sets: $python (the interpreter used), $venv.

ensure_python_tools() {
    python="${PYTHON:-}"
    if [[ -z "$python" ]]; then
        for candidate in python3 python; do
            if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
                python="$candidate"
                break
            fi
        done
    fi
    if [[ -z "$python" ]]; then
        echo "error: Python 3.9 or later not found; install it or set PYTHON=/path/to/python3" >&2
        return 1
    fi
    venv="$root/.venv"
    local requirements="$root/scripts/requirements-test.txt"
    local stamp="$venv/.requirements.sha256"
    # The stamp also records the Python version: a venv made by another interpreter is rebuilt.
    local want
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
        "$python" -m venv "$venv" || {
            echo "error: could not create a virtualenv; on Debian/Ubuntu install python3-venv" >&2
            return 1
        }
    fi
    if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
        echo "installing scripts/requirements-test.txt into .venv/"
        rm -f "$stamp"
        "$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade pip
        "$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$requirements"
        echo "$want" >"$stamp"
    else
        echo ".venv/ is up to date"
    fi
    export VIRTUAL_ENV="$venv"
    export PATH="$venv/bin:$PATH"
}
