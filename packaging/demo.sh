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
