#!/bin/sh
# Drover installer (issue 7; ARCHITECTURE.md §4, §5). POSIX sh, checked with shellcheck.
#
# Usage:
#   curl -sfL https://SERVER/install.sh | sh -s - agent --server https://SERVER --token JOIN_TOKEN \
#       [--name NAME] [--labels k=v,...] [--roles cluster,node,fleet] [--kubeconfig PATH]
#   curl -sfL https://SERVER/install.sh | sh -s - server [--listen HOST:PORT] [--tls-san NAME]...
#   INSTALL_DROVER_ARTIFACT_PATH=DIR sh install.sh agent ...     (air gap: no network at all)
#
# What it does: detects the CPU (amd64, arm64); fetches drover-linux-<arch> and its .sha256 from
# SERVER/v1/downloads/ (the server's CA is pinned by the hash inside the join token); verifies the
# sha256 BEFORE touching the system (a mismatch installs nothing); installs BIN_DIR/drover; writes
# /etc/drover/agent.env (or server.env); installs and enables the systemd units; registers the
# agent (unless it already holds an identity: re-running upgrades in place and keeps it); starts
# the units; writes BIN_DIR/drover-uninstall.sh (add --remove-state to also delete the state).
#
# Environment variables:
#   INSTALL_DROVER_SKIP_DOWNLOAD   "true": do not fetch anything; use the drover already in BIN_DIR
#   INSTALL_DROVER_ARTIFACT_PATH   air gap: directory with drover-linux-<arch> and sha256sums
#                                  (an unpacked drover-airgap-linux-<arch>.tar.gz); no network used
#   INSTALL_DROVER_BIN_DIR         where drover and drover-uninstall.sh go (default /usr/local/bin)
#   INSTALL_DROVER_SKIP_ENABLE     "true": install the units but neither enable nor start them
#   INSTALL_DROVER_SKIP_START      "true": enable the units but do not start them
#   INSTALL_DROVER_SKIP_REGISTER   "true": do not run `drover agent register` (agent only)
#   INSTALL_DROVER_DOWNLOAD_URL    where to download from (default: the --server value)
#   INSTALL_DROVER_CA_FILE         CA bundle for the download when no join token pins the CA
#   INSTALL_DROVER_ARCH            override the detected CPU (amd64 or arm64)
#   INSTALL_DROVER_SYSTEMD_DIR     where units go (default /etc/systemd/system)
#   INSTALL_DROVER_UNITS           agent only: "one" (default) runs every role in one process under
#                                  drover-agent.service; "per-role" runs one unit per role
#                                  (drover-<role>-agent.service: cluster and fleet without any
#                                  capability). Remembered in agent.env for re-runs; switching
#                                  stops and removes the other layout's units, keeping the identity
#   INSTALL_DROVER_ROOT            root prefix for packagers and tests (like DESTDIR): every path is
#                                  written below it, systemctl runs with --root, nothing is started
#                                  and the agent is not registered
#   DROVER_SERVER, DROVER_TOKEN    defaults for --server and --token
set -eu

ROOT=${INSTALL_DROVER_ROOT:-}
BIN_DIR=${INSTALL_DROVER_BIN_DIR:-/usr/local/bin}
SYSTEMD_DIR=${INSTALL_DROVER_SYSTEMD_DIR:-/etc/systemd/system}
CONF_DIR=/etc/drover
DEFAULT_BIN=/usr/local/bin/drover
TMP_DIR=

info() { echo "[drover-install] $*" >&2; }
fatal() { echo "[drover-install] ERROR: $*" >&2; exit 1; }
is_true() { [ "${1:-}" = true ]; }
cleanup() { if [ -n "$TMP_DIR" ]; then rm -rf "$TMP_DIR"; fi; }
trap cleanup EXIT INT TERM

# --- arguments ----------------------------------------------------------------------------
MODE=${1:-}
case "$MODE" in
  agent | server) shift ;;
  *) fatal "first argument must be 'agent' or 'server' (e.g. sh -s - agent --server URL --token T)" ;;
esac
SERVER=${DROVER_SERVER:-}
TOKEN=${DROVER_TOKEN:-}
ROLES=cluster,node,fleet
NAME=
LABELS=
KUBECONFIG_PATH=
SERVER_ARGS=
need_value() { [ $# -ge 2 ] || fatal "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --server) need_value "$@"; SERVER=$2; shift 2 ;;
    --token) need_value "$@"; TOKEN=$2; shift 2 ;;
    --roles) need_value "$@"; ROLES=$2; shift 2 ;;
    --name) need_value "$@"; NAME=$2; shift 2 ;;
    --labels) need_value "$@"; LABELS=$2; shift 2 ;;
    --kubeconfig) need_value "$@"; KUBECONFIG_PATH=$2; shift 2 ;;
    *)
      [ "$MODE" = server ] || fatal "unknown agent flag $1"
      case "$1" in *[!A-Za-z0-9=:,./_@+-]*) fatal "server flag '$1' has characters the unit file cannot carry" ;; esac
      SERVER_ARGS="${SERVER_ARGS:+$SERVER_ARGS }$1"; shift ;;
  esac
done
SERVER=${SERVER%/}
DOWNLOAD_URL=${INSTALL_DROVER_DOWNLOAD_URL:-$SERVER}
DOWNLOAD_URL=${DOWNLOAD_URL%/}
ROLE_UNITS=" drover-cluster-agent.service drover-node-agent.service drover-fleet-agent.service"
AGENT_UNITS=" drover-agent.service$ROLE_UNITS"
if [ "$MODE" = agent ]; then
  # A re-run keeps the layout chosen before; an install from before issue 25 (no record) moves
  # to the default, one process.
  LAYOUT=${INSTALL_DROVER_UNITS:-$(sed -n 's/^#INSTALL_DROVER_UNITS=//p' "$ROOT$CONF_DIR/agent.env" 2>/dev/null || true)}
  LAYOUT=${LAYOUT:-one}
  case "$LAYOUT" in one | per-role) ;; *) fatal "INSTALL_DROVER_UNITS must be 'one' or 'per-role', not '$LAYOUT'" ;; esac
  UNITS=
  for role in $(echo "$ROLES" | tr ',' ' '); do
    case "$role" in
      cluster | node | fleet) UNITS="$UNITS drover-$role-agent.service" ;;
      *) fatal "--roles: unknown role '$role' (cluster, node, fleet)" ;;
    esac
  done
  [ -n "$UNITS" ] || fatal "--roles: name at least one role"
  if [ "$LAYOUT" = one ]; then UNITS=" drover-agent.service"; fi
  [ -n "$SERVER" ] || fatal "--server is required (e.g. --server https://drover.example.com:9443)"
  ENV_FILE=$CONF_DIR/agent.env
  # /var/cache/drover holds only the extracted SQLite addon (units: per-unit subdirectories).
  STATE_DIRS="/var/lib/drover/agent /var/cache/drover"
else
  UNITS=" drover-server.service"
  ENV_FILE=$CONF_DIR/server.env
  STATE_DIRS="/var/lib/drover/server /var/cache/drover"
fi

# --- architecture -------------------------------------------------------------------------
detect_arch() {
  if [ -n "${INSTALL_DROVER_ARCH:-}" ]; then echo "$INSTALL_DROVER_ARCH"; return; fi
  case "$(uname -m)" in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) fatal "unsupported CPU $(uname -m): drover ships for amd64 and arm64" ;;
  esac
}
ARCH=$(detect_arch)
case "$ARCH" in amd64 | arm64) ;; *) fatal "INSTALL_DROVER_ARCH must be amd64 or arm64" ;; esac
ARTIFACT=drover-linux-$ARCH

# --- download and verify (nothing on the system changes before the hash matches) -----------
sha256_of() { sha256sum "$1" | cut -d ' ' -f 1; }

fetch() { # fetch URL FILE [CA_FILE]
  if command -v curl >/dev/null 2>&1; then
    if [ -n "${3:-}" ]; then curl -sfL --cacert "$3" -o "$2" "$1"; else curl -sfL -o "$2" "$1"; fi
  elif command -v wget >/dev/null 2>&1; then
    if [ -n "${3:-}" ]; then wget -q --ca-certificate="$3" -O "$2" "$1"; else wget -q -O "$2" "$1"; fi
  else
    fatal "neither curl nor wget is installed; use INSTALL_DROVER_ARTIFACT_PATH with the air-gap tarball"
  fi
}

# The join token is D10<sha256 of the CA's DER>::<id>.<secret>: fetch the CA without trusting it,
# then accept it only if its hash matches the token (no trust on first use, ARCHITECTURE.md §2).
# Re-running without a token (an upgrade) pins the CA the registered agent already trusts.
pinned_ca() {
  hash=$(echo "$TOKEN" | sed -n 's/^D10\([0-9a-f]\{64\}\)::.*/\1/p')
  if [ -z "$hash" ] && [ -z "$ROOT" ] && [ -x "$BIN_DIR/drover" ]; then
    hash=$("$BIN_DIR/drover" agent status --json 2>/dev/null | sed -n 's/.*"caSha256":"\([0-9a-f]\{64\}\)".*/\1/p' || true)
  fi
  [ -n "$hash" ] || return 0
  ca=$TMP_DIR/ca.pem
  if command -v curl >/dev/null 2>&1; then
    curl -sfLk -o "$ca" "$DOWNLOAD_URL/v1/ca" || fatal "cannot fetch $DOWNLOAD_URL/v1/ca"
  else
    wget -q --no-check-certificate -O "$ca" "$DOWNLOAD_URL/v1/ca" || fatal "cannot fetch $DOWNLOAD_URL/v1/ca"
  fi
  got=$(sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' "$ca" |
    sed '1d;$d' | base64 -d | sha256sum | cut -d ' ' -f 1)
  [ "$got" = "$hash" ] || fatal "the server's CA (sha256 $got) does not match the join token; check --server"
  echo "$ca"
}

acquire() {
  TMP_DIR=$(mktemp -d)
  if [ -n "${INSTALL_DROVER_ARTIFACT_PATH:-}" ]; then
    dir=$INSTALL_DROVER_ARTIFACT_PATH
    [ -f "$dir/$ARTIFACT" ] || fatal "$dir/$ARTIFACT not found (INSTALL_DROVER_ARTIFACT_PATH)"
    [ -f "$dir/sha256sums" ] || fatal "$dir/sha256sums not found (INSTALL_DROVER_ARTIFACT_PATH)"
    want=$(awk -v f="$ARTIFACT" '$2 == f || $2 == "*" f { print $1 }' "$dir/sha256sums")
    cp "$dir/$ARTIFACT" "$TMP_DIR/drover"
  else
    [ -n "$DOWNLOAD_URL" ] || fatal "--server (or INSTALL_DROVER_DOWNLOAD_URL) is required to download drover"
    ca=${INSTALL_DROVER_CA_FILE:-}
    # Plain http:// (a loopback mirror) has no CA to pin; the sha256 check below still applies.
    case "$DOWNLOAD_URL" in
      https://*) if [ -z "$ca" ] && [ "$MODE" = agent ]; then ca=$(pinned_ca); fi ;;
    esac
    info "downloading $DOWNLOAD_URL/v1/downloads/$ARTIFACT"
    fetch "$DOWNLOAD_URL/v1/downloads/$ARTIFACT.sha256" "$TMP_DIR/drover.sha256" "$ca" ||
      fatal "cannot download $DOWNLOAD_URL/v1/downloads/$ARTIFACT.sha256"
    fetch "$DOWNLOAD_URL/v1/downloads/$ARTIFACT" "$TMP_DIR/drover" "$ca" ||
      fatal "cannot download $DOWNLOAD_URL/v1/downloads/$ARTIFACT"
    want=$(cut -d ' ' -f 1 "$TMP_DIR/drover.sha256")
  fi
  got=$(sha256_of "$TMP_DIR/drover")
  [ -n "$want" ] || fatal "no checksum for $ARTIFACT; refusing to install an unverified executable"
  [ "$got" = "$want" ] || fatal "sha256 mismatch for $ARTIFACT (expected $want, got $got); nothing was installed"
  info "verified $ARTIFACT sha256 $got"
}

install_binary() {
  target=$ROOT$BIN_DIR/drover
  mkdir -p "$ROOT$BIN_DIR"
  if [ -f "$target" ] && [ "$(sha256_of "$target")" = "$got" ]; then
    info "$BIN_DIR/drover is already this version"
    return
  fi
  # Copy then rename: a running agent keeps its old inode, and no half-written file is ever run.
  cp "$TMP_DIR/drover" "$target.new"
  chmod 0755 "$target.new"
  mv -f "$target.new" "$target"
  info "installed $BIN_DIR/drover"
}

if is_true "${INSTALL_DROVER_SKIP_DOWNLOAD:-}"; then
  [ -x "$ROOT$BIN_DIR/drover" ] || fatal "INSTALL_DROVER_SKIP_DOWNLOAD=true but $BIN_DIR/drover is missing"
  info "skipping download; using $BIN_DIR/drover as it is"
else
  acquire
  install_binary
fi

# --- configuration ------------------------------------------------------------------------
write_env() {
  mkdir -p "$ROOT$CONF_DIR"
  chmod 0755 "$ROOT$CONF_DIR"
  umask 077
  {
    echo "# Written by drover's install.sh; read by the drover units (EnvironmentFile=)."
    if [ "$MODE" = agent ]; then
      echo "#INSTALL_DROVER_UNITS=$LAYOUT"
      # drover-agent.service runs these roles; per-role units name their own --roles.
      echo "DROVER_AGENT_ROLES=$ROLES"
      echo "DROVER_SERVER=$SERVER"
      [ -z "$KUBECONFIG_PATH" ] || echo "DROVER_KUBECONFIG=$KUBECONFIG_PATH"
      echo "#DROVER_LOG_LEVEL=info"
    else
      echo "DROVER_SERVER_ARGS=\"$SERVER_ARGS\""
    fi
  } >"$ROOT$ENV_FILE.new"
  umask 022
  mv -f "$ROOT$ENV_FILE.new" "$ROOT$ENV_FILE"
  info "wrote $ENV_FILE"
}
write_env

# >>> units: generated from systemd/*.service by `node packaging/sync-units.ts`; do not edit
unit_text() {
  case "$1" in
    drover-server.service)
      cat <<'DROVER_UNIT'
# Drover server (server-lite): API, registration, tunnel endpoint, proxy, fleet manager
# (ARCHITECTURE.md §1). Default listen 0.0.0.0:9443, state in /var/lib/drover/server.
# Installed by `install.sh server`; see docs/packaging.md.
[Unit]
Description=Drover server
Wants=network-online.target
After=network-online.target
StartLimitIntervalSec=0

[Service]
Type=exec
EnvironmentFile=-/etc/drover/server.env
# Extra flags (--listen, --tls-san, --datastore) come from server.env, written by install.sh.
ExecStart=/usr/local/bin/drover server --data-dir /var/lib/drover/server $DROVER_SERVER_ARGS
Restart=always
RestartSec=5s
KillMode=mixed
TimeoutStopSec=30s
# Root without capabilities, so `drover token create --data-dir` on the host can read the
# admin token the server wrote (decision 0502); only binding a port below 1024 is allowed.
StateDirectory=drover/server
StateDirectoryMode=0700
CacheDirectory=drover/server
CacheDirectoryMode=0700
StandardOutput=journal
StandardError=journal
SyslogIdentifier=drover-server
UMask=0077
CapabilityBoundingSet=CAP_NET_BIND_SERVICE
AmbientCapabilities=
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
DevicePolicy=closed
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
KeyringMode=private
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @mount @swap @reboot @raw-io @module @obsolete @cpu-emulation @debug
SystemCallErrorNumber=EPERM
# V8's JIT needs writable+executable memory: MemoryDenyWriteExecute=yes kills Node.
MemoryDenyWriteExecute=no
LimitNOFILE=1048576

[Install]
WantedBy=multi-user.target
DROVER_UNIT
      ;;
    drover-agent.service)
      cat <<'DROVER_UNIT'
# Drover agent, all roles in one process (the default install since issue 25, decision 0902):
# one tunnel per role, one Node runtime for all of them (about a third of the memory of three
# role units). Roles come from DROVER_AGENT_ROLES in /etc/drover/agent.env (default all three).
# The node role changes the host, so this unit keeps root's capabilities and may write the system
# paths plans touch, as drover-node-agent.service does; everything else stays locked down.
# Installed by install.sh; see docs/packaging.md.
[Unit]
Description=Drover agent (cluster, node and fleet roles)
Wants=network-online.target
After=network-online.target
# Never stop retrying: an edge site may be offline for days (the agent backs off by itself).
StartLimitIntervalSec=0

[Service]
# Type=notify (issue 16, decision 1131): the agent says READY=1 through systemd-notify (hence
# NotifyAccess=all) as soon as it runs; only a new executable on probation after a self-upgrade
# defers it until every role connected, extending the start timeout to its health deadline. So a
# new executable that hangs before any drover code runs is ended after TimeoutStartSec, and the
# pre-start step below counts that failed start and rolls it back. Offline boots are never held.
Type=notify
NotifyAccess=all
TimeoutStartSec=90s
# glibc keeps freed parse-time memory in its heap unless large blocks are mapped separately
# (measured by bench/footprint.ts, decision 0901); glibc reads tunables only from the environment.
Environment=GLIBC_TUNABLES=glibc.malloc.mmap_threshold=16384
EnvironmentFile=-/etc/drover/agent.env
# Agent self-upgrade (issue 16, decision 1002): while an upgrade is on probation the previous
# executable is kept; it runs first and rolls back a new one that died before it connected or
# missed its deadline. "-": this step never keeps the agent from starting.
ExecStartPre=-/bin/sh -c 'if [ -x /usr/local/bin/drover.previous ]; then exec /usr/local/bin/drover.previous agent upgrade --recover --data-dir /var/lib/drover/agent; fi'
ExecStart=/usr/local/bin/drover agent run --data-dir /var/lib/drover/agent
Restart=always
RestartSec=5s
# Commands a plan started (an upgrade, a reboot helper) must survive an agent restart.
KillMode=process
TimeoutStopSec=30s
StateDirectory=drover/agent
StateDirectoryMode=0700
# The executable extracts its SQLite addon here, never in /tmp (packaging/runtime/native-sqlite.ts).
CacheDirectory=drover/agent
CacheDirectoryMode=0700
StandardOutput=journal
StandardError=journal
SyslogIdentifier=drover-agent
UMask=0022
# Plans write configuration and binaries; the rest of the system stays read-only.
ProtectSystem=strict
ReadWritePaths=/etc /var /opt /usr/local /run
ProtectHome=read-only
PrivateTmp=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectClock=yes
ProtectHostname=yes
RestrictRealtime=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
SystemCallArchitectures=native
# V8's JIT needs writable+executable memory: MemoryDenyWriteExecute=yes kills Node.
MemoryDenyWriteExecute=no

[Install]
WantedBy=multi-user.target
DROVER_UNIT
      ;;
    drover-cluster-agent.service)
      cat <<'DROVER_UNIT'
# Drover cluster agent: keeps the tunnel to the server and proxies Kubernetes API calls
# to the local kube-apiserver (ARCHITECTURE.md §2). Installed by install.sh; see docs/packaging.md.
[Unit]
Description=Drover cluster agent
Wants=network-online.target
After=network-online.target
# Never stop retrying: an edge site may be offline for days (the agent backs off by itself).
StartLimitIntervalSec=0

[Service]
# Type=notify (issue 16, decision 1131): the agent says READY=1 through systemd-notify (hence
# NotifyAccess=all) as soon as it runs; only a new executable on probation after a self-upgrade
# defers it until every role connected, extending the start timeout to its health deadline. So a
# new executable that hangs before any drover code runs is ended after TimeoutStartSec, and the
# pre-start step below counts that failed start and rolls it back. Offline boots are never held.
Type=notify
NotifyAccess=all
TimeoutStartSec=90s
# glibc keeps freed parse-time memory unless large blocks are mapped separately (decision 0901).
Environment=GLIBC_TUNABLES=glibc.malloc.mmap_threshold=16384
EnvironmentFile=-/etc/drover/agent.env
# Agent self-upgrade (issue 16, decisions 1002, 1132): the role units share the executable; the
# previous one, while kept, rolls back a new one that died, hung or missed its deadline ("-": this
# step never keeps the agent from starting). Starts are counted per unit (--roles).
ExecStartPre=-/bin/sh -c 'if [ -x /usr/local/bin/drover.previous ]; then exec /usr/local/bin/drover.previous agent upgrade --recover --roles cluster --data-dir /var/lib/drover/agent; fi'
ExecStart=/usr/local/bin/drover agent run --roles cluster --data-dir /var/lib/drover/agent
Restart=always
RestartSec=5s
KillMode=mixed
TimeoutStopSec=30s
# All agent roles share one identity and SQLite database in /var/lib/drover/agent, so they run
# as root (owner of that 0700 directory) but with no capabilities at all (decision 0502).
StateDirectory=drover/agent
StateDirectoryMode=0700
# The executable extracts its SQLite addon here, never in /tmp (packaging/runtime/native-sqlite.ts).
CacheDirectory=drover/cluster-agent
CacheDirectoryMode=0700
StandardOutput=journal
StandardError=journal
SyslogIdentifier=drover-cluster-agent
UMask=0077
CapabilityBoundingSet=
AmbientCapabilities=
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
DevicePolicy=closed
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
KeyringMode=private
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @mount @swap @reboot @raw-io @module @obsolete @cpu-emulation @debug
SystemCallErrorNumber=EPERM
# V8's JIT needs writable+executable memory: MemoryDenyWriteExecute=yes kills Node.
MemoryDenyWriteExecute=no

[Install]
WantedBy=multi-user.target
DROVER_UNIT
      ;;
    drover-node-agent.service)
      cat <<'DROVER_UNIT'
# Drover node agent: runs the node's plans (files, commands, upgrades) and reports node facts
# (ARCHITECTURE.md §2). It changes the host, so it keeps root's capabilities and may write
# the system paths plans touch; everything else is as locked down as for the other roles.
# Installed by install.sh; see docs/packaging.md.
[Unit]
Description=Drover node agent
Wants=network-online.target
After=network-online.target
StartLimitIntervalSec=0

[Service]
# Type=notify (issue 16, decision 1131): the agent says READY=1 through systemd-notify (hence
# NotifyAccess=all) as soon as it runs; only a new executable on probation after a self-upgrade
# defers it until every role connected, extending the start timeout to its health deadline. So a
# new executable that hangs before any drover code runs is ended after TimeoutStartSec, and the
# pre-start step below counts that failed start and rolls it back. Offline boots are never held.
Type=notify
NotifyAccess=all
TimeoutStartSec=90s
# glibc keeps freed parse-time memory unless large blocks are mapped separately (decision 0901).
Environment=GLIBC_TUNABLES=glibc.malloc.mmap_threshold=16384
EnvironmentFile=-/etc/drover/agent.env
# Agent self-upgrade (issue 16, decisions 1002, 1132): the role units share the executable; the
# previous one, while kept, rolls back a new one that died, hung or missed its deadline ("-": this
# step never keeps the agent from starting). Starts are counted per unit (--roles).
ExecStartPre=-/bin/sh -c 'if [ -x /usr/local/bin/drover.previous ]; then exec /usr/local/bin/drover.previous agent upgrade --recover --roles node --data-dir /var/lib/drover/agent; fi'
ExecStart=/usr/local/bin/drover agent run --roles node --data-dir /var/lib/drover/agent
Restart=always
RestartSec=5s
# Commands a plan started (an upgrade, a reboot helper) must survive an agent restart.
KillMode=process
TimeoutStopSec=30s
StateDirectory=drover/agent
StateDirectoryMode=0700
CacheDirectory=drover/node-agent
CacheDirectoryMode=0700
StandardOutput=journal
StandardError=journal
SyslogIdentifier=drover-node-agent
UMask=0022
# Plans write configuration and binaries; the rest of the system stays read-only.
ProtectSystem=strict
ReadWritePaths=/etc /var /opt /usr/local /run
ProtectHome=read-only
PrivateTmp=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectClock=yes
ProtectHostname=yes
RestrictRealtime=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
SystemCallArchitectures=native
# V8's JIT needs writable+executable memory: MemoryDenyWriteExecute=yes kills Node.
MemoryDenyWriteExecute=no

[Install]
WantedBy=multi-user.target
DROVER_UNIT
      ;;
    drover-fleet-agent.service)
      cat <<'DROVER_UNIT'
# Drover fleet agent: applies the desired state (bundles) it received, corrects drift and
# reports status through the outbox, also while offline (ARCHITECTURE.md §2).
# Installed by install.sh; see docs/packaging.md.
[Unit]
Description=Drover fleet agent
Wants=network-online.target
After=network-online.target
# Never stop retrying: an edge site may be offline for days (the agent backs off by itself).
StartLimitIntervalSec=0

[Service]
# Type=notify (issue 16, decision 1131): the agent says READY=1 through systemd-notify (hence
# NotifyAccess=all) as soon as it runs; only a new executable on probation after a self-upgrade
# defers it until every role connected, extending the start timeout to its health deadline. So a
# new executable that hangs before any drover code runs is ended after TimeoutStartSec, and the
# pre-start step below counts that failed start and rolls it back. Offline boots are never held.
Type=notify
NotifyAccess=all
TimeoutStartSec=90s
# glibc keeps freed parse-time memory unless large blocks are mapped separately (decision 0901).
Environment=GLIBC_TUNABLES=glibc.malloc.mmap_threshold=16384
EnvironmentFile=-/etc/drover/agent.env
# Agent self-upgrade (issue 16, decisions 1002, 1132): the role units share the executable; the
# previous one, while kept, rolls back a new one that died, hung or missed its deadline ("-": this
# step never keeps the agent from starting). Starts are counted per unit (--roles).
ExecStartPre=-/bin/sh -c 'if [ -x /usr/local/bin/drover.previous ]; then exec /usr/local/bin/drover.previous agent upgrade --recover --roles fleet --data-dir /var/lib/drover/agent; fi'
ExecStart=/usr/local/bin/drover agent run --roles fleet --data-dir /var/lib/drover/agent
Restart=always
RestartSec=5s
KillMode=mixed
TimeoutStopSec=30s
# All agent roles share one identity and SQLite database in /var/lib/drover/agent, so they run
# as root (owner of that 0700 directory) but with no capabilities at all (decision 0502).
StateDirectory=drover/agent
StateDirectoryMode=0700
# The executable extracts its SQLite addon here, never in /tmp (packaging/runtime/native-sqlite.ts).
CacheDirectory=drover/fleet-agent
CacheDirectoryMode=0700
StandardOutput=journal
StandardError=journal
SyslogIdentifier=drover-fleet-agent
UMask=0077
CapabilityBoundingSet=
AmbientCapabilities=
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
DevicePolicy=closed
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
KeyringMode=private
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @mount @swap @reboot @raw-io @module @obsolete @cpu-emulation @debug
SystemCallErrorNumber=EPERM
# V8's JIT needs writable+executable memory: MemoryDenyWriteExecute=yes kills Node.
MemoryDenyWriteExecute=no

[Install]
WantedBy=multi-user.target
DROVER_UNIT
      ;;
    *) fatal "no unit named $1" ;;
  esac
}
# <<< units

install_units() {
  mkdir -p "$ROOT$SYSTEMD_DIR"
  for unit in $UNITS; do
    unit_text "$unit" | sed "s#$DEFAULT_BIN#$BIN_DIR/drover#g" >"$ROOT$SYSTEMD_DIR/$unit"
    chmod 0644 "$ROOT$SYSTEMD_DIR/$unit"
  done
  info "installed units:$UNITS"
}
install_units

# Units of the other layout (an install from before issue 25 has the three role units): stop,
# disable and remove them. The identity and data in /var/lib/drover/agent are shared and stay.
retire_other_units() {
  [ "$MODE" = agent ] || return 0
  old=
  for unit in $AGENT_UNITS; do
    case " $UNITS " in *" $unit "*) continue ;; esac
    [ -f "$ROOT$SYSTEMD_DIR/$unit" ] && old="$old $unit"
  done
  [ -n "$old" ] || return 0
  if command -v systemctl >/dev/null 2>&1; then
    # shellcheck disable=SC2086 # $old is a list of unit names
    if [ -n "$ROOT" ]; then
      systemctl --root="$ROOT" disable $old >/dev/null 2>&1 || true
    else
      if [ -d /run/systemd/system ]; then systemctl stop $old >/dev/null 2>&1 || true; fi
      systemctl disable $old >/dev/null 2>&1 || true
    fi
  fi
  for unit in $old; do rm -f "$ROOT$SYSTEMD_DIR/$unit"; done
  info "replaced units:$old (layout $LAYOUT; identity and data kept)"
}
retire_other_units

# --- uninstaller --------------------------------------------------------------------------
write_uninstaller() {
  uninstaller=$ROOT$BIN_DIR/drover-uninstall.sh
  # An agent's uninstaller removes the units of both layouts (whichever a later re-run chose).
  all_units=$UNITS
  if [ "$MODE" = agent ]; then all_units=$AGENT_UNITS; fi
  unit_paths=
  for unit in $all_units; do unit_paths="$unit_paths $SYSTEMD_DIR/$unit"; done
  cat >"$uninstaller" <<EOF
#!/bin/sh
# Written by drover's install.sh: removes what it installed. --remove-state also deletes the
# agent's identity and data (the cluster must then be joined again with a new token).
set -eu
ROOT=\${INSTALL_DROVER_ROOT:-$ROOT}
REMOVE_STATE=false
[ "\${1:-}" = --remove-state ] && REMOVE_STATE=true
if command -v systemctl >/dev/null 2>&1; then
  if [ -n "\$ROOT" ]; then
    systemctl --root="\$ROOT" disable$all_units >/dev/null 2>&1 || true
  else
    if [ -d /run/systemd/system ]; then systemctl stop$all_units >/dev/null 2>&1 || true; fi
    systemctl disable$all_units >/dev/null 2>&1 || true
  fi
fi
for f in$unit_paths $ENV_FILE; do rm -f "\$ROOT\$f"; done
rmdir "\$ROOT$CONF_DIR" 2>/dev/null || true
if [ "\$REMOVE_STATE" = true ]; then
  for d in $STATE_DIRS; do rm -rf "\$ROOT\$d"; done
  rmdir "\$ROOT/var/lib/drover" "\$ROOT/var/cache/drover" 2>/dev/null || true
fi
if [ -z "\$ROOT" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
rm -f "\$ROOT$BIN_DIR/drover"
rm -f "\$ROOT$BIN_DIR/drover-uninstall.sh"
echo "[drover-uninstall] removed drover (state removed: \$REMOVE_STATE)" >&2
EOF
  chmod 0755 "$uninstaller"
  info "wrote $BIN_DIR/drover-uninstall.sh"
}
write_uninstaller

# --- systemd, registration, start ---------------------------------------------------------
HAVE_SYSTEMCTL=false
if command -v systemctl >/dev/null 2>&1; then HAVE_SYSTEMCTL=true; fi
if [ "$HAVE_SYSTEMCTL" = false ]; then info "systemctl not found: units installed but not enabled"; fi
# sd_booted(): only a running systemd can reload and start units. In a chroot, a container
# or an image build, enabling still works (it only makes symlinks); starting waits for boot.
SYSTEMD_RUNNING=false
if [ "$HAVE_SYSTEMCTL" = true ] && [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then SYSTEMD_RUNNING=true; fi

if [ "$SYSTEMD_RUNNING" = true ]; then systemctl daemon-reload; fi
if [ "$HAVE_SYSTEMCTL" = true ] && ! is_true "${INSTALL_DROVER_SKIP_ENABLE:-}"; then
  # shellcheck disable=SC2086 # $UNITS is a list of unit names
  if [ -n "$ROOT" ]; then systemctl --root="$ROOT" enable $UNITS; else systemctl enable $UNITS; fi
fi

registered() {
  "$BIN_DIR/drover" agent status --json 2>/dev/null | grep -q '"clusterId":"'
}
if [ "$MODE" = agent ] && [ -z "$ROOT" ] && ! is_true "${INSTALL_DROVER_SKIP_REGISTER:-}"; then
  if registered; then
    info "this device is already registered; keeping its identity (upgrade in place)"
  else
    [ -n "$TOKEN" ] || fatal "--token is required to register (drover token create on the server)"
    set -- agent register --server "$SERVER" --token "$TOKEN"
    [ -z "$NAME" ] || set -- "$@" --name "$NAME"
    [ -z "$LABELS" ] || set -- "$@" --labels "$LABELS"
    [ -z "$KUBECONFIG_PATH" ] || set -- "$@" --kubeconfig "$KUBECONFIG_PATH"
    "$BIN_DIR/drover" "$@" || fatal "registration failed (see the message above); the executable and units stay installed, re-run with a valid --token"
  fi
fi

if is_true "${INSTALL_DROVER_SKIP_ENABLE:-}" || is_true "${INSTALL_DROVER_SKIP_START:-}" || [ -n "$ROOT" ]; then
  info "not starting the units (as asked)"
elif [ "$SYSTEMD_RUNNING" = true ]; then
  # restart, not start: re-running the installer is how an upgrade takes effect.
  # shellcheck disable=SC2086
  systemctl restart $UNITS
  info "started:$UNITS"
else
  info "systemd is not running here (chroot or container): units are enabled and start at boot"
fi
info "done"
