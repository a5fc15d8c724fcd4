#!/usr/bin/env bash
# Regenerates the CRI TypeScript from proto/ and fails when the committed output differs.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm --filter @nodelet/cri-api run generate >/dev/null
if ! git diff --exit-code --stat -- packages/cri-api/src; then
  echo "packages/cri-api/src is out of date with proto/: run 'pnpm generate' and commit the result." >&2
  exit 1
fi
if [ -n "$(git status --porcelain -- packages/cri-api/src)" ]; then
  git status --porcelain -- packages/cri-api/src >&2
  echo "regeneration produced files that are not committed: run 'pnpm generate' and commit them." >&2
  exit 1
fi
echo "generated code is up to date"
