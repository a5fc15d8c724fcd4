#!/usr/bin/env bash
# Benchmarks (not part of the tests): every row against the bare CRI floor in the same run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
pnpm testenv up >/dev/null
node bench/run.mjs "$@"
