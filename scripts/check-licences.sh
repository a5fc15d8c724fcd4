#!/usr/bin/env bash
# Every published package ships the root LICENSE (Apache-2.0), unchanged, and lists it in `files`.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for manifest in packages/*/package.json; do
  dir="$(dirname "$manifest")"
  if [ "$(node -p "require('./$manifest').private === true")" = true ]; then continue; fi
  if ! cmp -s LICENSE "$dir/LICENSE"; then
    echo "$dir/LICENSE is missing or differs from LICENSE: cp LICENSE $dir/" >&2
    status=1
  fi
  if [ "$(node -p "(require('./$manifest').files ?? []).includes('LICENSE')")" != true ]; then
    echo "$manifest: \"files\" does not list LICENSE" >&2
    status=1
  fi
done
[ "$status" = 0 ] && echo "licence files are in place"
exit "$status"
