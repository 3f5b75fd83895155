#!/usr/bin/env bash
# The README's first command: `bash scripts/setup.sh && npm run demo`. Installs what a fresh machine lacks, then the
# project's npm packages. Safe to run again (it skips what is already there).
#
#   - redis-server (the work queues) and chromium (the dashboard's browser test) from apt, with sudo when not root;
#   - npm packages with `npm ci`, run by npm on the project's Node 22 (npm on Node 20 silently skips Hardhat's
#     native engine).
#
# onnxruntime-node's install script would download CUDA files (not needed: the CPU runtime ships in the package);
# package.json's allowScripts denies it on npm >= 11, and ONNXRUNTIME_NODE_INSTALL=skip covers older npm.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
have_chromium() { command -v chromium >/dev/null 2>&1; }
have_chromium || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing ${need[*]} from apt"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
      command -v sudo >/dev/null 2>&1 || { echo "setup: not root and no sudo: install ${need[*]} as root" >&2; exit 1; }
      SUDO="sudo"
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  elif ! command -v redis-server >/dev/null 2>&1; then
    echo "setup: please install redis-server with your package manager (no apt-get here; macOS: brew install redis), then run this again" >&2
    exit 1
  else
    echo "setup: no chromium and no apt-get: the dashboard's browser test will be skipped (the demo does not need it)"
  fi
fi

command -v npx >/dev/null 2>&1 || { echo "setup: needs Node.js 20 or newer with npm (https://nodejs.org)" >&2; exit 1; }
echo "setup: npm ci (on Node 22 from npm)"
ONNXRUNTIME_NODE_INSTALL=skip npx -y -p node@22.23.3 -- npm ci --no-audit --no-fund --loglevel=error
echo "setup: done. Next: npm run demo (or npm test)"
