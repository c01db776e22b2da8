// The node-side steps of a Kubernetes upgrade (issue 15, docs/kubernetes-upgrade.md), as one POSIX
// shell script every instruction of the generated plan runs as `sh -c SCRIPT drover-k8s-upgrade STEP`
// (inline, not a plan file: the plan engine restores files before its rollback instructions run, so
// a script written as a plan file would be gone when `rollback` needs it). Values come in through
// the instruction's env (DROVER_K8S_*); what differs per node (where the binaries are, how the
// services stop and start, kubectl, the datastore snapshot) is the distribution's default or the
// node's layout file. Every step is idempotent: after a kill -9 of the agent it is simply run again.

export const K8S_UPGRADE_SCRIPT = String.raw`set -eu
STEP=${'$'}{1:?step}
VERSION=${'$'}DROVER_K8S_VERSION
ARTIFACTS=${'$'}DROVER_K8S_ARTIFACTS
WORK=${'$'}DROVER_K8S_WORK_DIR
STAGE=${'$'}WORK/${'$'}VERSION
HEALTH_TIMEOUT=${'$'}{DROVER_K8S_HEALTH_TIMEOUT:-300}
say() { printf '%s\n' "$*"; }
fail() { printf 'drover-k8s-upgrade %s: %s\n' "$STEP" "$*" >&2; exit 1; }

# Distribution defaults (a device's systemd units); the layout file overrides any of them.
K8S_BIN_DIR=/usr/local/bin
K8S_KUBECTL=kubectl
K8S_KUBECONFIG=/etc/kubernetes/admin.conf
K8S_APISERVER_URL=https://127.0.0.1:6443
K8S_NODE_NAME=$(cat /proc/sys/kernel/hostname 2>/dev/null || uname -n)
K8S_STOP=
K8S_START=
K8S_SNAPSHOT=
DROVER=/usr/local/bin/drover
case $DROVER_K8S_DISTRIBUTION in
  k3s|rke2)
    D=$DROVER_K8S_DISTRIBUTION
    K8S_KUBECTL="/usr/local/bin/$D kubectl"
    [ "$D" = k3s ] && K8S_KUBECONFIG=/etc/rancher/k3s/k3s.yaml || K8S_KUBECONFIG=/etc/rancher/rke2/rke2.yaml
    if systemctl cat "$D-server.service" >/dev/null 2>&1; then UNIT=$D-server; elif systemctl cat "$D.service" >/dev/null 2>&1; then UNIT=$D; else UNIT=$D-agent; fi
    K8S_STOP="systemctl stop $UNIT"; K8S_START="systemctl start $UNIT"
    [ -d "/var/lib/rancher/$D/server/db/etcd" ] && K8S_SNAPSHOT="/usr/local/bin/$D etcd-snapshot save --name drover-pre-upgrade-$VERSION"
    ;;
esac
if [ -f "$DROVER_K8S_LAYOUT" ]; then . "$DROVER_K8S_LAYOUT"; fi

sha() { sha256sum "$1" | cut -d' ' -f1; }
# The release's binaries this node has: "name=sha256" pairs whose binary is in K8S_BIN_DIR.
ours() { for p in $ARTIFACTS; do [ -e "$K8S_BIN_DIR/${'$'}{p%%=*}" ] && printf '%s\n' "$p"; done; return 0; }
units() { for p in $(ours); do printf '%s ' "${'$'}{p%%=*}"; done; }
control_plane() { for p in $(ours); do case ${'$'}{p%%=*} in kube-apiserver|k3s|rke2) return 0;; esac; done; return 1; }
kc() { $K8S_KUBECTL --kubeconfig "$K8S_KUBECONFIG" "$@"; }
has_kubectl() { [ -r "$K8S_KUBECONFIG" ] && kc version --client >/dev/null 2>&1; }
node_known() { has_kubectl && kc get node "$K8S_NODE_NAME" >/dev/null 2>&1; }
stop_services() { if [ -n "$K8S_STOP" ]; then sh -c "$K8S_STOP"; else systemctl stop $(units); fi; }
start_services() { if [ -n "$K8S_START" ]; then sh -c "$K8S_START"; else systemctl start $(units); fi; }
minor() { printf '%s' "$1" | sed -n 's/^v\{0,1\}[0-9]*\.\([0-9]*\).*/\1/p'; }
# One health pass: the local kube-apiserver's /readyz (and, when it is the upgraded binary, its
# /version), and the node's Ready condition when the node is a Kubernetes node.
healthy_once() {
  has_kubectl || { say "no kubectl or kubeconfig ($K8S_KUBECONFIG): health not checked"; return 0; }
  if control_plane; then
    kc --server "$K8S_APISERVER_URL" get --raw /readyz >/dev/null 2>&1 || { say "kube-apiserver at $K8S_APISERVER_URL: /readyz not ok"; return 1; }
    if [ "${'$'}{1:-}" = want-version ]; then
      got=$(kc --server "$K8S_APISERVER_URL" get --raw /version 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p')
      [ "$got" = "${'$'}{2:-}" ] || { say "kube-apiserver serves ${'$'}{got:-nothing}, not ${'$'}{2:-}"; return 1; }
    fi
  fi
  if node_known; then
    ready=$(kc get node "$K8S_NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
    [ "$ready" = True ] || { say "node $K8S_NODE_NAME is not Ready ($ready)"; return 1; }
  fi
  return 0
}
wait_healthy() {
  end=$(( $(date +%s) + HEALTH_TIMEOUT ))
  until healthy_once "$@"; do
    [ "$(date +%s)" -lt "$end" ] || fail "not healthy within ${'$'}{HEALTH_TIMEOUT}s"
    sleep 2
  done
  say "healthy"
}

case $STEP in
fetch)
  mkdir -p "$STAGE"
  [ -n "$(ours)" ] || fail "none of the release's binaries ($(for p in $ARTIFACTS; do printf '%s ' "${'$'}{p%%=*}"; done)) is in $K8S_BIN_DIR: nothing to upgrade here (set K8S_BIN_DIR in $DROVER_K8S_LAYOUT)"
  for p in $(ours); do
    n=${'$'}{p%%=*}; s=${'$'}{p#*=}
    if [ -f "$STAGE/$n" ] && [ "$(sha "$STAGE/$n")" = "$s" ]; then say "$n: already fetched"; continue; fi
    "$DROVER" agent fetch-artifact "kubernetes/$VERSION/$n" --sha256 "$s" --to "$STAGE/$n"
    [ "$(sha "$STAGE/$n")" = "$s" ] || fail "$n: the fetched file does not have SHA-256 $s"
  done
  ;;
preflight)
  for p in $(ours); do
    n=${'$'}{p%%=*}
    new=$("$STAGE/$n" --version 2>&1 | head -n 1) || fail "$STAGE/$n --version failed: $new"
    case $new in *"$VERSION"*) ;; *) fail "$n from the release reports \"$new\", not $VERSION";; esac
    cur=$("$K8S_BIN_DIR/$n" --version 2>&1 | head -n 1 | grep -o 'v[0-9][0-9.]*' | head -n 1 || true)
    say "$n: $cur -> $VERSION"
    if [ -n "$cur" ]; then
      c=$(minor "$cur"); w=$(minor "$VERSION")
      [ "$w" -le $((c + 1)) ] || fail "$n: $cur to $VERSION skips a minor version; Kubernetes upgrades one minor at a time"
      [ "$w" -ge "$c" ] || fail "$n: $cur to $VERSION is a downgrade across minor versions"
    fi
  done
  healthy_once || fail "the cluster is not healthy before the upgrade; nothing was changed"
  ;;
snapshot)
  control_plane || { say "not a control-plane node: no datastore snapshot"; exit 0; }
  [ -n "$K8S_SNAPSHOT" ] || { say "no datastore snapshot: K8S_SNAPSHOT is not set in $DROVER_K8S_LAYOUT"; exit 0; }
  if [ -s "$STAGE/datastore.snapshot" ]; then say "snapshot already taken"; exit 0; fi
  sh -c "$K8S_SNAPSHOT" snapshot "$STAGE/datastore.snapshot.tmp"
  [ ! -e "$STAGE/datastore.snapshot.tmp" ] || mv "$STAGE/datastore.snapshot.tmp" "$STAGE/datastore.snapshot"
  say "datastore snapshot: $STAGE/datastore.snapshot"
  ;;
cordon)
  node_known || { say "$K8S_NODE_NAME is not a Kubernetes node here: nothing to cordon"; exit 0; }
  touch "$STAGE/cordoned"
  kc cordon "$K8S_NODE_NAME"
  if [ "${'$'}{DROVER_K8S_DRAIN:-false}" = true ] && ! control_plane; then
    kc drain "$K8S_NODE_NAME" --ignore-daemonsets --delete-emptydir-data --timeout="${'$'}{HEALTH_TIMEOUT}s"
  fi
  ;;
stop)
  stop_services
  ;;
swap)
  for p in $(ours); do
    n=${'$'}{p%%=*}; s=${'$'}{p#*=}
    [ "$(sha "$K8S_BIN_DIR/$n")" = "$s" ] && { say "$n: already $VERSION"; continue; }
    # The running version is kept once per upgrade: a rerun after a crash never overwrites it with the new one.
    if [ ! -e "$STAGE/kept-$n" ]; then
      cp -p "$K8S_BIN_DIR/$n" "$K8S_BIN_DIR/$n.previous.tmp" && mv "$K8S_BIN_DIR/$n.previous.tmp" "$K8S_BIN_DIR/$n.previous"
      touch "$STAGE/kept-$n"
    fi
    cp "$STAGE/$n" "$K8S_BIN_DIR/$n.new" && chmod 0755 "$K8S_BIN_DIR/$n.new" && mv "$K8S_BIN_DIR/$n.new" "$K8S_BIN_DIR/$n"
    say "$n: $VERSION installed, previous kept as $K8S_BIN_DIR/$n.previous"
  done
  ;;
start)
  start_services
  ;;
health)
  wait_healthy want-version "$VERSION"
  ;;
check)
  healthy_once want-version "$VERSION"
  ;;
uncordon)
  if [ -e "$STAGE/cordoned" ]; then kc uncordon "$K8S_NODE_NAME"; rm -f "$STAGE/cordoned"; fi
  ;;
rollback)
  kept=
  for p in $(ours); do [ -e "$STAGE/kept-${'$'}{p%%=*}" ] && kept="$kept ${'$'}{p%%=*}"; done
  if [ -n "$kept" ]; then
    stop_services || true
    for n in $kept; do
      cp -p "$K8S_BIN_DIR/$n.previous" "$K8S_BIN_DIR/$n.rollback" && mv "$K8S_BIN_DIR/$n.rollback" "$K8S_BIN_DIR/$n"
      say "$n: previous binary restored"
    done
    start_services
    # The version that served before gets longer than the health timeout to come back: failing
    # here would leave the node Failed with nothing serving.
    HEALTH_TIMEOUT=$((HEALTH_TIMEOUT + 300))
    wait_healthy
    for n in $kept; do rm -f "$STAGE/kept-$n"; done
  else
    say "no binary was replaced: nothing to restore"
  fi
  if [ -e "$STAGE/cordoned" ]; then kc uncordon "$K8S_NODE_NAME"; rm -f "$STAGE/cordoned"; fi
  ;;
*) fail "unknown step" ;;
esac
`;
