#!/usr/bin/env bash
# The main job, from a fresh machine: installs what is needed, brings up the local runtime
# (containerd with CNI and image registries, state under .state/), then runs the demo.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
echo "==> local runtime"
pnpm testenv up
echo "==> demo"
node examples/cri-remote-demo.mjs
