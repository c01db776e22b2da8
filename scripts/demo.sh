#!/usr/bin/env bash
# The Drover demo from a fresh machine: sets up, starts a real local Kubernetes control plane
# (etcd + kube-apiserver + controller-manager + scheduler + kwok nodes, built from Go modules),
# and shows what Drover does today. Everything it starts is stopped on exit.
# Keep the demo's state for a look afterwards with DROVER_DEMO_KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
sh .ci/setup
export PATH="$PWD/node_modules/.bin:$PATH"
demo=$(mktemp -d /tmp/drover-demo.XXXXXX)
kbin="$(node -e 'import("./test/k8s/paths.ts").then(m => console.log(m.binDir()))')"
cleanup() {
  test/k8s/cluster down "$demo/k8s" >/dev/null 2>&1 || true
  if [ "${DROVER_DEMO_KEEP:-0}" = 1 ]; then echo "demo state kept in $demo"; else rm -rf "$demo"; fi
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "drover version"
./bin/drover version

step "start a local Kubernetes control plane (test/k8s/cluster up)"
test/k8s/cluster up "$demo/k8s"
export KUBECONFIG="$demo/k8s/kubeconfig"

step "kubectl get nodes"
"$kbin/kubectl" get nodes -o wide

step "done"
echo "Everything the demo started is being stopped."
