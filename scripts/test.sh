#!/usr/bin/env bash
# The whole test suite from a fresh machine: setup, strict type check, every tap test.
# Ends with one line "N passed, N failed" taken from tap's summary, so a run that executed no
# test is visible. Exit code: non-zero if setup, the type check or any test failed.
set -euo pipefail
cd "$(dirname "$0")/.."
sh .ci/setup
export PATH="$PWD/node_modules/.bin:$PATH"
echo "== tsc --noEmit (strict)"
tsc --noEmit -p .
echo "== tap"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
tap run --reporter=tap "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^# \{ total: [0-9]+' "$log" | tail -n 1 || true)
if [ -z "$summary" ]; then
  echo "0 passed, 0 failed"
  echo "test: tap printed no summary (exit $status)" >&2
  exit 1
fi
field() { echo "$summary" | grep -oE "$1: [0-9]+" | grep -oE '[0-9]+' || echo 0; }
passed=$(field pass); failed=$(field fail); skipped=$(field skip)
if [ "$skipped" != "0" ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit "$status"
