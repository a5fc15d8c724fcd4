#!/usr/bin/env bash
# The main job, from a fresh machine: installs what is needed, brings up the local runtime
# (containerd with CNI and image registries, all state under .state/), then runs the reference
# agent `nodelet` on the bundled example pods (examples/pods/) until Ctrl-C. Pods keep running
# after the agent stops, as with the kubelet; `bash scripts/start.sh` again adopts them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

# The agent kills runtime pods it does not know, as the kubelet does: the demo gets a containerd
# of its own, apart from the one the tests use.
export NODELET_TESTENV_DIR="$ROOT/.state/testenv-demo"
echo "==> local runtime"
pnpm --silent testenv up >/dev/null
ENDPOINT="$(node -p 'require(process.env.NODELET_TESTENV_DIR + "/env.json").criEndpoint')"
REGISTRY="$(node -p 'require(process.env.NODELET_TESTENV_DIR + "/env.json").registries.plain')"

DEMO="$ROOT/.state/demo"
mkdir -p "$DEMO/manifests" "$DEMO/root" "$DEMO/logs"
# The example images live in the local registry, whose port is chosen per checkout.
for f in examples/pods/*.yaml; do
  sed "s#\${REGISTRY}#$REGISTRY#g" "$f" > "$DEMO/manifests/$(basename "$f")"
done

# The demo's legacy log symlinks stay under .state, not in the host's /var/log/containers.
{ cat examples/nodelet-config.yaml; echo "containerLogsDir: $DEMO/containers"; } > "$DEMO/config.yaml"

PORT="${NODELET_PORT:-10250}"
cat <<MSG
==> nodelet on $ENDPOINT, manifests in $DEMO/manifests
    the dashboard:          http://127.0.0.1:$PORT/ (in a browser on this machine)
    pods from the CLI:      node packages/agent/dist/cli.js get pods --server http://127.0.0.1:$PORT
    pods and their status:  curl -s http://127.0.0.1:$PORT/pods
    health:                 curl -s http://127.0.0.1:$PORT/healthz
    metrics:                curl -s http://127.0.0.1:$PORT/metrics | grep ^kubelet_
    add/edit/remove a manifest in $DEMO/manifests and watch the log; Ctrl-C stops the agent.
MSG
exec node packages/agent/dist/cli.js \
  --config "$DEMO/config.yaml" \
  --container-runtime-endpoint "$ENDPOINT" \
  --root-dir "$DEMO/root" \
  --pod-logs-dir "$DEMO/logs" \
  --pod-manifest-path "$DEMO/manifests" \
  --port "$PORT" \
  --hostname-override "${NODELET_NODE_NAME:-demo-node}"
