#!/usr/bin/env bash
# Benchmarks against the budgets of DESIGN.md §9; results are recorded in BENCHMARKS.md.
#
#   scripts/bench.sh
#
# 1. criterion: `cargo bench --bench validate` (open + load + validate, in process) for
#    100 services × 3 environments and for one service.
# 2. The release binary on the same 100 × 3 workspace (written by scripts/gen_workspace.py):
#    wall time of `tug validate` as a user sees it, and its peak memory (maximum resident set
#    size), with GNU `/usr/bin/time -v` when available, else Python's resource module.
# 3. `tug --version` start-up time.
# 4. Rendering (issue 17): `tug render -e ENV -n NAME` for one service of manifests/demo, and
#    `tug render -e test --output-dir` of a generated workspace of 50 services (51 templates):
#    wall time (median of 20) and, when valgrind is installed, instruction counts, which do not
#    depend on what else the machine runs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tug-target}"
python="${PYTHON:-python3}"
services="${BENCH_SERVICES:-100}"

section() {
    printf '\n==> %s\n' "$*"
}

section "cargo bench --bench validate"
cargo bench --bench validate

section "cargo build --release"
cargo build --release
tug="$CARGO_TARGET_DIR/release/tug"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" scripts/gen_workspace.py "$work" "$services" >/dev/null
ws="$work/copilot"

section "tug validate on $services services × 3 environments (release binary)"
"$tug" -w "$ws" validate

section "Wall time (median of 20 runs, after 3 warm-up runs)"
"$python" - "$tug" "$ws" <<'PY'
import statistics, subprocess, sys, time

tug, ws = sys.argv[1], sys.argv[2]

def measure(args, runs=20, warmup=3):
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)

for label, args in (
    ("tug -w WS validate", [tug, "-w", ws, "validate"]),
    ("tug --version", [tug, "--version"]),
):
    median, best = measure(args)
    print(f"{label:<22} median {median:7.2f} ms   min {best:7.2f} ms")
PY

section "Peak memory of tug validate"
if /usr/bin/time -v true >/dev/null 2>&1; then
    /usr/bin/time -v "$tug" -w "$ws" validate 2>"$work/time.txt" >/dev/null
    kib="$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$work/time.txt")"
    echo "maximum resident set size: $kib KiB ($((kib / 1024)) MiB), measured with /usr/bin/time -v"
else
    "$python" - "$tug" "$ws" <<'PY'
import resource, subprocess, sys

subprocess.run([sys.argv[1], "-w", sys.argv[2], "validate"], check=True,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
# ru_maxrss is in KiB on Linux and in bytes on macOS.
kib = peak // 1024 if sys.platform == "darwin" else peak
print(f"maximum resident set size: {kib} KiB ({kib // 1024} MiB), measured with Python's resource module")
PY
fi

section "Rendering (median of 20 runs; instructions with valgrind when installed)"
"$python" scripts/gen_workspace.py "$work/fifty" 50 >/dev/null
"$python" - "$tug" "$work" <<'PY'
import shutil, statistics, subprocess, sys, time, os, re

tug, work = sys.argv[1], sys.argv[2]
rows = (
    ("render -e test -n web (demo)", [tug, "-w", "manifests/demo", "render", "-e", "test", "-n", "web"]),
    ("render 50 services --output-dir", [tug, "-w", f"{work}/fifty/copilot", "render", "-e", "test", "--output-dir", f"{work}/out"]),
    ("validate -e test (demo)", [tug, "-w", "manifests/demo", "validate", "-e", "test"]),
    ("--version", [tug, "--version"]),
)
for label, args in rows:
    times = []
    for i in range(23):
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i >= 3:
            times.append((time.perf_counter() - start) * 1000)
    line = f"{label:<34} median {statistics.median(times):7.2f} ms   min {min(times):7.2f} ms"
    if shutil.which("valgrind"):
        out = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={work}/cg.out"] + args,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
        m = re.search(r"Collected : (\d+)", out)
        if m:
            line += f"   {int(m.group(1)) / 1e6:7.1f} M instructions"
    print(line)
PY
