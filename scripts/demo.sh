#!/usr/bin/env bash
# The Drover demo from a fresh machine: sets up, starts a real local Kubernetes control plane
# (etcd + kube-apiserver + controller-manager + scheduler + kwok nodes, built from Go modules),
# a Drover server on SQLite, and an agent with all three roles; then shows registration, the
# tunnels, the cluster registry, and what happens when the server goes away and comes back.
# Everything it starts is stopped on exit. Keep the state for a look afterwards: DROVER_DEMO_KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."
sh .ci/setup
export PATH="$PWD/node_modules/.bin:$PATH"
demo=$(mktemp -d /tmp/drover-demo.XXXXXX)
kbin="$(node -e 'import("./test/k8s/paths.ts").then(m => console.log(m.binDir()))')"
# The server renders bundles with the real helm and kustomize (here: the ones the harness built).
export DROVER_HELM="$kbin/helm" DROVER_KUSTOMIZE="$kbin/kustomize"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  test/k8s/cluster down "$demo/k8s" >/dev/null 2>&1 || true
  if [ "${DROVER_DEMO_KEEP:-0}" = 1 ]; then echo "demo state kept in $demo"; else rm -rf "$demo"; fi
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }
drover() { ./bin/drover "$@"; }
# waits until a command succeeds (at most $1 seconds)
wait_for() { local n=$1; shift; for _ in $(seq 1 $((n * 4))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done; echo "demo: timed out waiting for: $*" >&2; return 1; }
all_roles() { drover agent status --data-dir "$demo/agent" --json | node -e "const s=JSON.parse(require('fs').readFileSync(0,'utf8')); process.exit(s.roles.every(r => r.state === '$1') ? 0 : 1)"; }
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
server_url="https://127.0.0.1:$port"
start_server() {
  ./bin/drover server --data-dir "$demo/server" --listen "127.0.0.1:$port" >>"$demo/server.log" 2>&1 &
  server_pid=$!; pids+=("$server_pid")
  wait_for 30 curl -sfk "$server_url/readyz"
}

step "drover version"
show drover version

step "a local Kubernetes control plane: test/k8s/cluster up"
show test/k8s/cluster up "$demo/k8s"
show "$kbin/kubectl" --kubeconfig "$demo/k8s/kubeconfig" get nodes

step "the server (SQLite in its data dir; CA, serving certificate and admin token made on first start)"
start_server
echo "server listening on $server_url (log: $demo/server.log)"
show ls "$demo/server" "$demo/server/tls"

step "a join token for new edge clusters labelled env=edge (the CA's hash is inside it: no trust on first use)"
token=$(drover token create --data-dir "$demo/server" --labels env=edge,site=demo --uses 10 --ttl 1h)
echo "$token"
show drover token list --data-dir "$demo/server"

step "the device joins: the agent checks the CA against the token before sending the secret"
show drover agent register --server "$server_url" --token "$token" --name demo-site --kubeconfig "$demo/k8s/kubeconfig" --data-dir "$demo/agent"
printf '\033[2m$ %s\033[0m\n' "drover agent register --server $server_url --token D10<wrong CA hash>::… (a man in the middle)"
bad="D10$(printf '0%.0s' $(seq 1 64))::${token#*::}"
set +e; drover agent register --server "$server_url" --token "$bad" --data-dir "$demo/agent-mitm"; code=$?; set -e
echo "exit code $code (5 = server identity mismatch; nothing was sent)"

step "the agent runs its three roles, one tunnel each (for the demo: backoff cap 10 s, reconcile every 5 s; defaults 60 s, 15 s)"
DROVER_FLEET_INTERVAL_MS=5000 ./bin/drover agent run --roles cluster,node,fleet --backoff-cap 10s --data-dir "$demo/agent" >>"$demo/agent.log" 2>&1 &
pids+=("$!")
wait_for 30 all_roles connected
show drover agent status --data-dir "$demo/agent"
show drover cluster list --data-dir "$demo/server"

step "the server goes away: the agent keeps running and says so; the CLI exits 3"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
wait_for 30 all_roles disconnected
show drover agent status --data-dir "$demo/agent"
set +e; drover cluster list --data-dir "$demo/server"; code=$?; set -e
echo "exit code $code (3 = server unreachable)"

step "the server comes back: the cluster shows Stale until its agent reconnects by itself"
start_server
show drover cluster list --data-dir "$demo/server"
wait_for 60 all_roles connected
show drover agent status --data-dir "$demo/agent"
show drover cluster list --data-dir "$demo/server"

step "kubectl to the edge cluster through the server: one endpoint, Drover users, Kubernetes RBAC decides"
cid=$(drover cluster list --data-dir "$demo/server" --json | node -e "console.log(JSON.parse(require('fs').readFileSync(0,'utf8'))[0].id)")
echo 'alice-demo-password' | drover user create alice --password-stdin --data-dir "$demo/server"
show drover role bind alice --cluster "$cid" --role read-only --data-dir "$demo/server"
drover kubeconfig "$cid" --data-dir "$demo/server" > "$demo/admin.kubeconfig"
printf '\033[2m$ %s\033[0m\n' "echo … | drover user login alice --server $server_url   # alice gets an API token"
alice_token=$(echo 'alice-demo-password' | drover user login alice --server "$server_url" --ca-file "$demo/server/tls/ca.crt")
drover kubeconfig "$cid" --server "$server_url" --token "$alice_token" --ca-file "$demo/server/tls/ca.crt" > "$demo/alice.kubeconfig"
show grep -E '"server"' "$demo/alice.kubeconfig"
# Right after (re)connecting, the role bindings take a moment to reach the cluster.
wait_for 60 "$kbin/kubectl" --kubeconfig "$demo/admin.kubeconfig" get nodes
wait_for 60 "$kbin/kubectl" --kubeconfig "$demo/alice.kubeconfig" get pods
show drover role list --data-dir "$demo/server"
show "$kbin/kubectl" --kubeconfig "$demo/admin.kubeconfig" get nodes
show "$kbin/kubectl" --kubeconfig "$demo/admin.kubeconfig" run web --image=registry.example/web:1
show "$kbin/kubectl" --kubeconfig "$demo/admin.kubeconfig" wait --for=condition=Ready pod/web --timeout=60s
show "$kbin/kubectl" --kubeconfig "$demo/admin.kubeconfig" exec web -- echo hi from the pod
show "$kbin/kubectl" --kubeconfig "$demo/alice.kubeconfig" get pods
echo "alice is read-only; impersonating admin gets her nothing:"
set +e; show "$kbin/kubectl" --kubeconfig "$demo/alice.kubeconfig" --as admin delete pod web; echo "exit code $?"; set -e
show drover cluster get "$cid" --data-dir "$demo/server"
step "every API call and proxied request is audited, hash-chained"
drover audit list --data-dir "$demo/server" --limit 1000 | tail -5
show drover audit verify --data-dir "$demo/server"

step "fleet: a bundle pushed to every env=edge cluster, applied by the fleet agent with server-side apply"
show ls test/fixtures/bundles/web test/fixtures/bundles/web/overlays/edge
show drover bundle apply test/fixtures/bundles/web --name web --target env=edge --data-dir "$demo/server"
bundle_ready() { drover bundle status web --json --data-dir "$demo/server" | node -e "const s=JSON.parse(require('fs').readFileSync(0,'utf8')); process.exit(s.summary.ready >= 1 ? 0 : 1)"; }
wait_for 90 bundle_ready
show drover bundle status web --data-dir "$demo/server"
show drover agent status --data-dir "$demo/agent"
show "$kbin/kubectl" --kubeconfig "$demo/k8s/kubeconfig" -n demo-web get deployment/web configmap/web-config
show "$kbin/kubectl" --kubeconfig "$demo/k8s/kubeconfig" -n demo-web get configmap web-config -o jsonpath='{.data.greeting}{"\n"}'

step "offline autonomy: the server is down, someone deletes the Deployment, the agent puts it back from its SQLite"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
show "$kbin/kubectl" --kubeconfig "$demo/k8s/kubeconfig" -n demo-web delete deployment web
deployment_back() { "$kbin/kubectl" --kubeconfig "$demo/k8s/kubeconfig" -n demo-web get deployment web >/dev/null 2>&1; }
wait_for 90 deployment_back
show "$kbin/kubectl" --kubeconfig "$demo/k8s/kubeconfig" -n demo-web get deployment web
show drover agent status --data-dir "$demo/agent"
start_server
wait_for 60 all_roles connected
wait_for 90 bundle_ready
show drover bundle status web --data-dir "$demo/server"

step "packaging: single executables for amd64 and arm64, the air-gap tarball, the installer"
packaging/demo.sh "$demo/pkg"
mkdir -p "$demo/server/downloads" && cp "$demo/pkg/dist/drover-linux-amd64" "$demo/pkg/dist/drover-linux-arm64" "$demo/server/downloads/"
echo "the server hands the installer and the executables to devices (curl -sfL $server_url/install.sh | sh -s - agent …):"
show curl -sfk "$server_url/install.sh" -o "$demo/install.sh"
head -3 "$demo/install.sh"
show curl -sfk "$server_url/v1/downloads/drover-linux-arm64.sha256"

step "done"
echo "Everything the demo started is being stopped."
