#!/usr/bin/env bash
# Deploy benchmarks against moto (DESIGN.md §9; results in BENCHMARKS.md):
#
#   scripts/bench-deploy.sh
#
# 1. A no-op redeploy of the example environment (nothing changed): the budget is under 1 s;
#    then the same through scripts/delay_proxy.py, which gives every AWS call a 50 ms round
#    trip (a real one), counts the calls and logs when each started and ended: the budget is
#    0.3 s (DESIGN.md §9). The rounds printed are sequential rounds of calls (the critical
#    path), read off the proxy's log.
# 2. N backend services (N = 1, 5, 10) deployed by one `tug deploy`, first one at a time
#    (--concurrency 1), then all at once: concurrent deploys should take close to the slowest
#    one, not the sum. moto answers in milliseconds, so an artificial delay per service (a
#    container health check start period has no effect on moto) cannot be simulated; the
#    comparison shows the overhead tug adds per stack and how it overlaps.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/python-tools.sh
source scripts/python-tools.sh
ensure_python_tools >/dev/null

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tug-target}"
cargo build --release --quiet
tug="$CARGO_TARGET_DIR/release/tug"

port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
MOTO_ECS_SERVICE_RUNNING=5 "$venv/bin/python" scripts/moto_server.py --port "$port" >/dev/null 2>&1 &
moto_pid=$!
work="$(mktemp -d)"
trap 'kill $moto_pid 2>/dev/null || true; rm -rf "$work"' EXIT
until "$venv/bin/python" -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do sleep 0.2; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench CI=true
unset AWS_PROFILE

ms() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
}

echo "== no-op redeploy of the example environment (manifests/demo, test)"
"$tug" -w manifests/demo deploy -e test >/dev/null 2>&1
for i in 1 2 3 4 5; do
    echo "  run $i: $(ms "$tug" -w manifests/demo deploy -e test) ms"
done

# The proxy's round trip holds moto's own time (moto answers one call at a time, AWS does not);
# the second row adds the delay on top of moto's time instead, the model of the first
# measurements (scripts/delay_proxy.py --added), for comparison with the older entries.
for model in round-trip added; do
    echo "== no-op redeploy of manifests/demo, every AWS call 50 ms ($model)"
    proxy_port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    flags=()
    [[ $model == added ]] && flags=(--added)
    "$venv/bin/python" scripts/delay_proxy.py --upstream "$port" --port "$proxy_port" --delay-ms 50 \
        --log "$work/proxy-$model.log" "${flags[@]}" >/dev/null 2>&1 &
    proxy_pid=$!
    trap 'kill $moto_pid $proxy_pid 2>/dev/null || true; rm -rf "$work"' EXIT
    until "$venv/bin/python" -c "import socket; socket.create_connection(('127.0.0.1', $proxy_port), 1)" 2>/dev/null; do sleep 0.2; done
    counts() { "$venv/bin/python" -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$proxy_port/__counts').read().decode())"; }
    counts >/dev/null
    times=()
    for i in 1 2 3 4 5 6 7; do
        : >"$work/proxy-$model.log"
        t=$(AWS_ENDPOINT_URL="http://127.0.0.1:$proxy_port" ms "$tug" -w manifests/demo deploy -e test)
        times+=("$t")
        calls=$(counts | awk '$1 == "total" {print $2}')
        # Rounds: calls that started after every earlier call had been answered begin a new one.
        rounds=$(sort -k5,5n "$work/proxy-$model.log" | awk '{ if (NR == 1 || $5 > last_end) n++; if ($8 > last_end) last_end = $8 } END { print n }')
        echo "  run $i: $t ms, $calls calls, $rounds sequential rounds of calls"
    done
    echo "  median: $(printf '%s\n' "${times[@]}" | sort -n | sed -n 4p) ms"
    counts_detail=$(AWS_ENDPOINT_URL="http://127.0.0.1:$proxy_port" "$tug" -w manifests/demo deploy -e test >/dev/null 2>&1; counts)
    echo "  calls of one run: $(echo "$counts_detail" | tr '\n' ' ')"
    kill "$proxy_pid" 2>/dev/null || true
done

echo "== N services: one at a time vs concurrently"
for n in 1 5 10; do
    for mode in sequential concurrent; do
        ws="$work/$n-$mode"
        mkdir -p "$ws/copilot/environments/test"
        echo "application: b$n${mode:0:1}" >"$ws/copilot/.workspace"
        printf 'name: test\ntype: Environment\n' >"$ws/copilot/environments/test/manifest.yml"
        for i in $(seq 1 "$n"); do
            mkdir -p "$ws/copilot/svc$i"
            printf 'name: svc%s\ntype: Backend Service\nimage:\n  location: public.ecr.aws/nginx/nginx:1.27\n  port: 80\n' "$i" >"$ws/copilot/svc$i/manifest.yml"
        done
        "$tug" -w "$ws" env deploy -n test >/dev/null 2>&1
        concurrency=$([[ $mode == sequential ]] && echo 1 || echo "$n")
        echo "  N=$n $mode (--concurrency $concurrency): $(ms "$tug" -w "$ws" deploy -e test --concurrency "$concurrency") ms"
    done
done
