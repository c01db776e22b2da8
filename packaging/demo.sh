#!/usr/bin/env bash
# The packaging part of the demo (issue 7), callable from bin/demo as
#   packaging/demo.sh "$demo"          (DIR: a scratch directory the caller removes)
# Builds the single executables, shows their sizes and checksums, runs both CPUs' executables
# (arm64 through qemu-aarch64-static) and installs from the air-gap tarball into a root prefix,
# so nothing on this machine changes. About 30 s the first time, then cached.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: packaging/demo.sh SCRATCH_DIR}
export PATH="$PWD/node_modules/.bin:$PATH"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }

step "npm run package: one executable per CPU (Node 24 + the CLI + SQLite inside), air-gap tarballs"
show node packaging/build.ts --out "$dir/dist"
show ls -lh "$dir/dist"
(cd "$dir/dist" && show sha256sum -c sha256sums)

step "no Node.js needed: the executables carry their runtime"
show "$dir/dist/drover-linux-amd64" version --json
if command -v qemu-aarch64-static >/dev/null; then
  show env -u NODE_EXTRA_CA_CERTS qemu-aarch64-static -L / "$dir/dist/drover-linux-arm64" version --json
fi

step "the air-gap tarball installs with no network (here into a root prefix, so this machine is untouched)"
mkdir -p "$dir/airgap" "$dir/device"
show tar -xzf "$dir/dist/drover-airgap-linux-amd64.tar.gz" -C "$dir/airgap"
show env INSTALL_DROVER_ROOT="$dir/device" INSTALL_DROVER_ARTIFACT_PATH="$dir/airgap/drover-airgap-linux-amd64" \
  sh packaging/install.sh agent --server https://drover.example.com:9443
show find "$dir/device" -type f -o -type l
show grep -E '^(ExecStart|StateDirectory|CacheDirectory|CapabilityBoundingSet|ProtectSystem)=' "$dir/device/etc/systemd/system/drover-agent.service"
show "$dir/device/usr/local/bin/drover-uninstall.sh" --remove-state

# --- agent self-upgrade (issue 16) ---------------------------------------------------------------
step "signed releases and agent self-upgrade: the server rolls a new release out to its agent, which verifies, swaps, restarts and proves itself healthy"
exe="$dir/dist/drover-linux-amd64"
show cat "$dir/dist/sha256sums.sig"
# A second release of this tree (for the demo; a real one comes from the next tag's npm run package).
next="$(cat "$dir/dist/VERSION")-demo.1"
show node packaging/build.ts --out "$dir/next" --arch amd64 --no-airgap --version-override "$next" >/dev/null
"$exe" server --data-dir "$dir/up-server" --listen 127.0.0.1:0 --log-level warn >"$dir/up-server.log" 2>&1 &
up_server=$!
for _ in $(seq 1 100); do [ -s "$dir/up-server/server.json" ] && break; sleep 0.2; done
up_url=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$dir/up-server/server.json','utf8')).url)")
mkdir -p "$dir/up-device/bin" && cp "$exe" "$dir/up-device/bin/drover"
dev="$dir/up-device/bin/drover"
"$dev" agent register --server "$up_url" --token "$("$exe" token create --data-dir "$dir/up-server" --labels site=demo)" --data-dir "$dir/up-device/data" >/dev/null
# systemd's place: restart the agent whenever it exits (Restart=always), pre-start step included.
( while [ -e "$dir/up-device/bin/drover" ]; do
    [ -x "$dev.previous" ] && "$dev.previous" agent upgrade --recover --data-dir "$dir/up-device/data"
    "$dev" agent run --roles cluster --data-dir "$dir/up-device/data" >>"$dir/up-agent.log" 2>&1 &
    echo $! >"$dir/up-agent.pid"; wait "$(cat "$dir/up-agent.pid")" || true
    sleep 0.5
  done ) &
up_sup=$!
show "$exe" release import "$dir/next" --data-dir "$dir/up-server"
show "$exe" release list --data-dir "$dir/up-server"
show "$exe" upgrade agents --version "$next" --target site=demo --canary 1 --data-dir "$dir/up-server"
for _ in $(seq 1 150); do "$exe" upgrade status --json --data-dir "$dir/up-server" | grep -q '"state":"Done"' && break; sleep 1; done
show "$exe" upgrade status --data-dir "$dir/up-server"
show "$dev" version
rm -f "$dev"; kill "$(cat "$dir/up-agent.pid")" 2>/dev/null || true; wait "$up_sup" 2>/dev/null || true
kill "$up_server" 2>/dev/null || true; wait "$up_server" 2>/dev/null || true
# --- end agent self-upgrade ----------------------------------------------------------------------
