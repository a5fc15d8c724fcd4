#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, starts the local runtime
# (containerd, CNI, registries) and runs every check and test. CI runs exactly this.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

echo "==> static checks"
pnpm run --silent check:generated
pnpm run --silent lint
pnpm run --silent typecheck
if [ -f ../shared/tools/proto-compat.mjs ]; then node ../shared/tools/proto-compat.mjs proto | tail -1; fi
pnpm run --silent check:packaging
node scripts/check-cjs-requires.mjs
bash scripts/check-licences.sh

# One retry of a failed integration test (vitest.shared.ts): a test failing twice fails the run.
export NODELET_TEST_RETRY="${NODELET_TEST_RETRY:-1}"

echo "==> local runtime"
pnpm testenv up

echo "==> tests (unit and integration against containerd) on Node $(node --version), the machine's"
pnpm run test:unit
# The logs load test (a fast writer followed across rotations) alone, not beside every other suite.
pnpm --filter @nodelet/logs run test:load
echo "==> the kuberuntime integration suite through the CRI fault proxy (a pass-through must change nothing)"
NODELET_CRI_FAULT_PROXY=1 pnpm --filter @nodelet/kuberuntime exec vitest run --project integration
echo "==> benchmarks, smoke run (--quick: small inputs, no numbers checked, so the scripts never rot)"
node bench/run.mjs --quick
# --timeline reads grpc-js's trace lines and the agent's log lines: a format change fails here.
node bench/run.mjs --quick --timeline agent
# Then on each other tested Node line (scripts/node-versions.sh), its bin first in PATH: pnpm,
# turbo's tasks, vitest and the node processes the tests start all run on it. Test tasks are never
# cached (turbo.json), so every version really runs them; the builds are shared.
source "$ROOT/scripts/node-versions.sh"
for version in "${EXTRA_NODE_VERSIONS[@]}"; do
  bin="$(node_bin "$version")"
  echo "==> tests (unit and integration against containerd) on Node v$version"
  PATH="$bin:$PATH" pnpm run test:unit
done
