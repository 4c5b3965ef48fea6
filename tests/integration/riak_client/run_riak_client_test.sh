#!/usr/bin/env bash
# End-to-end test with Basho's official Node.js Riak client: installs the
# client into the build tree, starts one causewayd on free ports, runs
# riak_client_test.js against it, then checks that the node shuts down
# cleanly. Exit status is the verdict.
#
# Usage: run_riak_client_test.sh CAUSEWAYD WORK_DIR
#   CAUSEWAYD  the daemon binary
#   WORK_DIR   a directory in the build tree (npm packages, node data, log)
set -euo pipefail

die() {
  echo "riak_client_test: $*" >&2
  exit 1
}

[ $# -eq 2 ] || die "usage: $0 CAUSEWAYD WORK_DIR"
daemon="$1"
work="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
client_version="2.4.0"

[ -x "$daemon" ] || die "no causewayd binary at $daemon"
command -v node >/dev/null || die "node is not installed (cluster/install-deps)"
command -v npm >/dev/null || die "npm is not installed (cluster/install-deps)"
mkdir -p "$work"

# The client lives in the build tree, never in the source tree, and no
# lockfile is written; a finished install is reused.
npm_dir="$work/npm"
installed="$npm_dir/node_modules/basho-riak-client/package.json"
if ! grep -q "\"version\": \"$client_version\"" "$installed" 2>/dev/null; then
  echo "riak_client_test: installing basho-riak-client@$client_version" >&2
  mkdir -p "$npm_dir"
  # One retry: a registry hiccup should not fail the suite.
  for attempt in 1 2; do
    if npm install --prefix "$npm_dir" --no-package-lock --no-save \
      --no-audit --no-fund --loglevel=error \
      "basho-riak-client@$client_version" >&2; then
      break
    fi
    [ "$attempt" -eq 2 ] &&
      die "npm install of basho-riak-client@$client_version failed twice"
    sleep 5
  done
fi

run_dir="$(mktemp -d "$work/node.XXXXXX")"
ports="$run_dir/ports.json"
log="$run_dir/node.log"
pid=""

# Stops the daemon on any exit; its log is shown when the test failed.
cleanup() {
  local rc=$?
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "riak_client_test: causewayd ignored SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ]; then
    echo "--- causewayd log ($log), last lines:" >&2
    tail -n 40 "$log" >&2 2>/dev/null || true
  else
    rm -rf "$run_dir"
  fi
  exit "$rc"
}
trap cleanup EXIT

name="causeway@127.0.0.1"
"$daemon" --name "$name" --data-dir "$run_dir/data" --pb-port 0 \
  --http-port 0 --ports-file "$ports" >"$log" 2>&1 </dev/null &
pid=$!

for _ in $(seq 1 300); do
  [ -s "$ports" ] && break
  kill -0 "$pid" 2>/dev/null || die "causewayd exited before it was listening"
  sleep 0.1
done
[ -s "$ports" ] || die "causewayd wrote no ports file within 30s"
pb_port="$(sed -n 's/.*"pb" *: *\([0-9][0-9]*\).*/\1/p' "$ports")"
[[ "$pb_port" =~ ^[0-9]+$ ]] || die "cannot read the pb port from $ports"

echo "riak_client_test: causewayd (pid $pid) on client port $pb_port" >&2
NODE_PATH="$npm_dir/node_modules" NODE_OPTIONS="--no-deprecation --no-warnings" \
  node "$here/riak_client_test.js" "127.0.0.1:$pb_port" "$name"

# The client is done and disconnected: the node must still be healthy and
# must shut down gracefully.
kill -0 "$pid" 2>/dev/null || die "causewayd died during the client test"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || die "causewayd exited with status $status on SIGTERM"
echo "riak_client_test: causewayd stopped cleanly" >&2
