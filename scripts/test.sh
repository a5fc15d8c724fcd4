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

echo "==> local runtime"
pnpm testenv up

echo "==> tests (unit and integration against containerd)"
pnpm run test:unit
