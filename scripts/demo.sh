#!/usr/bin/env bash
# The demo: tug's main job, end to end, with no AWS account.
#
#   scripts/demo.sh
#
# 1. Builds tug and checks the example application (manifests/demo/) for both environments.
# 2. Starts moto, a local AWS emulator, on a loopback port (from .venv/, installed here if
#    needed, with scripts/moto_server.py's fixes for moto's known defects).
# 3. Deploys the `test` environment and its four workloads with `tug deploy`, then deploys
#    again to show that an unchanged application is a fast no-op.
# 4. Shows what was created (the stacks and the ECS services), what a deploy would change now
#    (`tug diff`) and the web service's deployment history (`tug history`).
# 5. Deploys prod and promotes test's images to it, shows the application, a service's status,
#    runs the job once, deletes prod, and stops the emulator.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/python-tools.sh
source scripts/python-tools.sh

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tug-target}"
workspace="manifests/demo"

step() {
    printf '\n==> %s\n' "$*"
}

step "Building tug (target dir $CARGO_TARGET_DIR)"
cargo build --quiet
tug="$CARGO_TARGET_DIR/debug/tug"

step "tug -w $workspace validate"
echo "Checks the 4 workloads (web, api, worker, report) against both environments (test, prod)."
"$tug" -w "$workspace" validate

step "Python tools (moto, the local AWS emulator)"
ensure_python_tools

port="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
step "Starting moto on 127.0.0.1:$port"
log="$(mktemp)"
# Each service reports 2 running tasks, so rollouts complete (moto runs no containers).
MOTO_ECS_SERVICE_RUNNING=2 "$venv/bin/python" scripts/moto_server.py --port "$port" >"$log" 2>&1 &
moto_pid=$!
cleanup() {
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
    rm -f "$log"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
    if "$venv/bin/python" -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then
        break
    fi
    sleep 0.2
done

# Fake credentials: moto accepts any.
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
unset AWS_PROFILE

step "tug -w $workspace deploy -e test"
echo "The environment stack first (VPC, cluster, load balancer), then the four workloads in parallel"
echo "(the worker after the api whose topic it subscribes to), following each stack and ECS rollout."
"$tug" -w "$workspace" deploy -e test

step "tug -w $workspace deploy -e test   (again: nothing changed)"
start=$(date +%s%N)
"$tug" -w "$workspace" deploy -e test
echo "no-op redeploy took $(( ($(date +%s%N) - start) / 1000000 )) ms"

step "What was created"
"$venv/bin/python" - <<'PY'
import os
import boto3

kw = dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
cfn = boto3.client("cloudformation", **kw)
ecs = boto3.client("ecs", **kw)
for s in sorted(cfn.describe_stacks()["Stacks"], key=lambda s: s["StackName"]):
    print(f"  stack {s['StackName']:<20} {s['StackStatus']}")
for cluster in ecs.list_clusters()["clusterArns"]:
    arns = ecs.list_services(cluster=cluster)["serviceArns"]
    for svc in ecs.describe_services(cluster=cluster, services=arns)["services"] if arns else []:
        primary = next(d for d in svc["deployments"] if d["status"] == "PRIMARY")
        print(f"  ECS service {svc['serviceName']:<40} {primary['rolloutState']:<10} {primary['taskDefinition'].rsplit('/', 1)[-1]}")
PY

step "tug -w $workspace diff -e test   (what a deploy would change: nothing now)"
"$tug" -w "$workspace" diff -e test

step "tug -w $workspace history -e test -n web   (each deploy's revision, image and outcome)"
"$tug" -w "$workspace" history -e test -n web

step "tug -w $workspace env deploy -n prod, then promote test's images to prod"
"$tug" -w "$workspace" env deploy -n prod
"$tug" -w "$workspace" --yes promote --from test --to prod

step "tug -w $workspace app show   (the workspace, and what is deployed where)"
"$tug" -w "$workspace" app show

step "tug -w $workspace svc status -e prod -n web"
"$tug" -w "$workspace" svc status -e prod -n web

step "tug -w $workspace job run -e test -n report"
"$tug" -w "$workspace" job run -e test -n report

step "tug -w $workspace --yes env delete -n prod --with-workloads"
"$tug" -w "$workspace" --yes env delete -n prod --with-workloads

step "Done"
echo "moto stops now. Try: change the web image in $workspace/copilot/web/manifest.yml and run"
echo "this script again, or run \`$tug -w $workspace render -e test -n web\` to see a template."
