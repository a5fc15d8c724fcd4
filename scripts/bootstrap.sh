#!/usr/bin/env bash
# Sourced by the other scripts: gets the pinned pnpm and the workspace's dependencies on a fresh
# machine (Debian 12, Node 20, root). Idempotent and quick when everything is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PNPM_VERSION="$(node -p 'require("./package.json").packageManager.split("@")[1]')"
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "==> installing pnpm $PNPM_VERSION"
  npm install --global --no-audit --no-fund "pnpm@$PNPM_VERSION" >/dev/null
fi
echo "==> installing workspace dependencies"
pnpm install --frozen-lockfile --reporter=silent
echo "==> building packages"
pnpm run --silent build >/dev/null
