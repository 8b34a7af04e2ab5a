#!/usr/bin/env bash
# Prepares a fresh machine for autostash: checks Node, installs npm dependencies, makes sure the
# restic binary (the data mover, from the OS packages) is present, and builds the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "autostash setup: $*" >&2; exit 1; }

command -v node >/dev/null || fail "Node.js 20.12 or newer is required (https://nodejs.org); 'node' is not on PATH."
# 20.12: the kubedump restore lists its files with Dirent.parentPath.
node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 20 || (major === 20 && minor >= 12) ? 0 : 1)' \
  || fail "Node.js 20.12 or newer is required; found $(node --version)."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

if ! command -v restic >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "autostash setup: installing restic from the OS packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq restic >/dev/null
  else
    fail "restic is required and was not found. Install it from your OS packages, e.g. 'sudo apt-get install restic' (Debian/Ubuntu), 'sudo dnf install restic' (Fedora) or 'brew install restic' (macOS), then run this again."
  fi
fi
command -v restic >/dev/null || fail "restic installation did not put 'restic' on PATH."

npm run --silent build
