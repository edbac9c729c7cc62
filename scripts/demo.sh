#!/usr/bin/env bash
# The demo: what tug does today, on the example workspace in manifests/demo/.
#
#   scripts/demo.sh
#
# Builds tug, checks every manifest of the example application for every environment, then
# shows the application as tug resolved it (each workload as it will run in each environment,
# overrides applied). Both steps are offline: no AWS account or credentials are needed.
#
# Later: once deploys exist, this script will also start a local AWS emulator (moto, from
# .venv/, as scripts/test.sh installs it), point tug at it with AWS_ENDPOINT_URL and deploy the
# example. Until then it runs only the offline commands above.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tug-target}"
workspace="manifests/demo"

step() {
    printf '\n==> %s\n' "$*"
}

step "Building tug (cargo build; target dir $CARGO_TARGET_DIR)"
cargo build --quiet
tug="$CARGO_TARGET_DIR/debug/tug"

step "tug -w $workspace validate"
echo "Checks the 4 workloads (web, api, worker, report) against both environments (test, prod),"
echo "after interpolation and each environment's overrides. Exit code 0: every manifest is valid."
"$tug" -w "$workspace" validate

step "tug -w $workspace app show"
echo "The application as it will be deployed: one line per workload and environment."
"$tug" -w "$workspace" app show

step "Done"
echo "Try breaking a manifest, for example rename 'port' to 'prot' in"
echo "$workspace/copilot/web/manifest.yml, and run: $tug -w $workspace validate"
