#!/usr/bin/env bash
# End-to-end test with Basho's official Node.js Riak client: installs the
# client into the build tree, starts causewayd on free ports (one standalone
# node, or a cluster of N joined nodes), runs riak_client_test.js against one
# node, then checks that every node shuts down cleanly. Exit status is the
# verdict.
#
# Usage: run_riak_client_test.sh CAUSEWAYD WORK_DIR CAUSEWAY_CLI [N]
#   CAUSEWAYD     the daemon binary
#   WORK_DIR      a directory in the build tree (npm packages, node data, logs)
#   CAUSEWAY_CLI  the causeway CLI: joins the nodes and creates the bucket
#                 types the tests use (counters, sets, gsets, hlls, maps)
#   N             cluster size (default 1: a standalone node, --no-peer)
#
# With BASHO_CLIENT_REPO set to a checkout (or a bare clone) of Basho's
# riak-nodejs-client repository, it runs that repository's own integration
# suites instead (BASHO_SUITES, default "crdt": folders of test/integration)
# with mocha, from a scratch directory in WORK_DIR; nothing of theirs is kept
# in this source tree.
set -euo pipefail

die() {
  echo "riak_client_test: $*" >&2
  exit 1
}

[ $# -eq 3 ] || [ $# -eq 4 ] ||
  die "usage: $0 CAUSEWAYD WORK_DIR CAUSEWAY_CLI [N]"
daemon="$1"
work="$2"
cli="${3:-}"
n="${4:-1}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

[ -x "$daemon" ] || die "no causewayd binary at $daemon"
[[ "$n" =~ ^[1-9]$ ]] || die "N must be 1 to 9, not '$n'"
[ -x "$cli" ] || die "no causeway CLI at '$cli'"
command -v node >/dev/null || die "node is not installed (cluster/install-deps)"
command -v npm >/dev/null || die "npm is not installed (cluster/install-deps)"
mkdir -p "$work"

# shellcheck source=tests/integration/riak_client/basho_client.sh
. "$here/basho_client.sh"
install_basho_client "$work" riak_client_test
# Mocha goes to a directory of its own: an install without a package.json
# prunes what an earlier install put beside it.
mocha_dir="$work/npm-mocha"
if [ -n "${BASHO_CLIENT_REPO:-}" ] &&
  [ ! -x "$mocha_dir/node_modules/.bin/mocha" ]; then
  npm install --prefix "$mocha_dir" --no-package-lock --no-save --no-audit \
    --no-fund --loglevel=error mocha@10 >&2 || die "npm install of mocha failed"
fi
flock -u 8

run_dir="$(mktemp -d "$work/run.XXXXXX")"
pids=()
names=()
pb_ports=()
peer_ports=()

# Stops every daemon on any exit; their logs are shown when the test failed.
cleanup() {
  local rc=$?
  local i pid
  for i in "${!pids[@]}"; do
    pid="${pids[$i]}"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null || true
  done
  for i in "${!pids[@]}"; do
    pid="${pids[$i]}"
    [ -n "$pid" ] || continue
    for _ in $(seq 1 150); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "riak_client_test: ${names[$i]} ignored SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ]; then
    for i in "${!names[@]}"; do
      echo "--- ${names[$i]} log ($run_dir/node$((i + 1))/node.log), last lines:" >&2
      tail -n 40 "$run_dir/node$((i + 1))/node.log" >&2 2>/dev/null || true
    done
  else
    rm -rf "$run_dir"
  fi
  exit "$rc"
}
trap cleanup EXIT

# A port from the ports file's JSON.
port_of() {
  sed -n "s/.*\"$2\" *: *\([0-9][0-9]*\).*/\1/p" "$1"
}

# Starts node K (1-based) and waits for its ports file.
start_node() {
  local k="$1" node_dir="$run_dir/node$1" name
  local ports="$run_dir/node$1/ports.json"
  mkdir -p "$node_dir"
  if [ "$n" -eq 1 ]; then
    name="causeway@127.0.0.1"
    peer_args=(--no-peer)
  else
    name="node$k@127.0.0.1"
    peer_args=(--peer-port 0 --cluster-secret-file "$run_dir/secret"
      --cluster-name riak-client-test)
  fi
  "$daemon" --name "$name" --data-dir "$node_dir/data" --pb-port 0 \
    --http-port 0 --ports-file "$ports" "${peer_args[@]}" \
    >"$node_dir/node.log" 2>&1 </dev/null &
  pids+=("$!")
  names+=("$name")
  for _ in $(seq 1 300); do
    [ -s "$ports" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || die "$name exited before it was listening"
    sleep 0.1
  done
  [ -s "$ports" ] || die "$name wrote no ports file within 30s"
  pb_ports+=("$(port_of "$ports" pb)")
  peer_ports+=("$(port_of "$ports" peer)")
  [[ "${pb_ports[-1]}" =~ ^[0-9]+$ ]] || die "cannot read the pb port from $ports"
  if [ "$n" -gt 1 ]; then
    [[ "${peer_ports[-1]}" =~ ^[0-9]+$ ]] ||
      die "cannot read the peer port from $ports"
  fi
}

# The first "KEY":N of one-line JSON.
json_uint() {
  sed -n "s/.*\"$2\":\([0-9][0-9]*\).*/\1/p" <<<"$1" | head -n 1
}

# True when every node reports the same ring version, N members valid and
# up, and no pending transfer.
settled() {
  local i json ring="" v
  for i in "${!pb_ports[@]}"; do
    json="$("$cli" --node "127.0.0.1:${pb_ports[$i]}" --timeout 5 --json \
      cluster status 2>/dev/null </dev/null)" || return 1
    v="$(json_uint "$json" ring_version)"
    [ "$(json_uint "$json" total)" = "$n" ] || return 1
    [ "$(json_uint "$json" up)" = "$n" ] || return 1
    [ "$(json_uint "$json" pending_transfers)" = 0 ] || return 1
    [ -n "$v" ] || return 1
    [ -z "$ring" ] || [ "$ring" = "$v" ] || return 1
    ring="$v"
  done
}

if [ "$n" -gt 1 ]; then
  (
    umask 077
    head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n' >"$run_dir/secret"
  )
fi
for ((k = 1; k <= n; k++)); do
  start_node "$k"
done
if [ "$n" -gt 1 ]; then
  for ((k = 2; k <= n; k++)); do
    "$cli" --node "127.0.0.1:${pb_ports[$((k - 1))]}" cluster join \
      "127.0.0.1:${peer_ports[0]}" </dev/null >/dev/null ||
      die "node$k could not join node1"
  done
  settled_ok=0
  for _ in $(seq 1 120); do
    if settled; then
      settled_ok=1
      break
    fi
    sleep 0.5
  done
  if [ "$settled_ok" -ne 1 ]; then
    "$cli" --node "127.0.0.1:${pb_ports[0]}" cluster status >&2 || true
    die "the $n nodes did not settle into one ring within 60s"
  fi
  echo "riak_client_test: $n nodes form one cluster" >&2
fi

# In a cluster, the client talks to node2: neither the seed of the joins
# nor (with the smallest name) the claimant, so it relies on the others.
target=$((n > 1 ? 1 : 0))
members="$(IFS=,; echo "${names[*]}")"
echo "riak_client_test: ${names[$target]} (pid ${pids[$target]}) on client" \
  "port ${pb_ports[$target]}" >&2
# The bucket types both kinds of run use, named as Basho's suites expect
# them: `plain` (no data type) and one per data type.
for t in plain: counters:counter sets:set gsets:gset hlls:hll maps:map; do
  props=()
  [ -n "${t#*:}" ] && props=("datatype=${t#*:}")
  "$cli" --node "127.0.0.1:${pb_ports[$target]}" bucket-type create \
    "${t%%:*}" "${props[@]+"${props[@]}"}" </dev/null >/dev/null ||
    die "could not create bucket type ${t%%:*}"
done

# Basho's own suites: their test files, next to the installed client's lib/
# (they require ../../../lib/...), and placeholder files where their
# parameters read certificates of a test CA (used only with security on).
run_basho_suites() {
  local scratch="$run_dir/basho" suite failed=0
  mkdir -p "$scratch/test" "$scratch/tools/test-ca/certs"
  # The suites may use commands newer than the published package (gset), so
  # the checkout's lib/ goes over the installed one, whose generated
  # protocol files the checkout may lack.
  cp -r "$npm_dir/node_modules/basho-riak-client/lib" "$scratch/lib"
  if [ -d "$BASHO_CLIENT_REPO/test/integration" ]; then
    cp -r "$BASHO_CLIENT_REPO/test/integration" "$scratch/test/"
    cp -r "$BASHO_CLIENT_REPO/lib/." "$scratch/lib/"
  else
    git --git-dir "$BASHO_CLIENT_REPO" archive HEAD test/integration lib |
      tar -x -C "$scratch" || die "no test/integration in $BASHO_CLIENT_REPO"
  fi
  : >"$scratch/tools/test-ca/certs/riakuser-client-cert.pfx"
  : >"$scratch/tools/test-ca/certs/cacert.pem"
  ln -s "$npm_dir/node_modules" "$scratch/node_modules"
  for suite in ${BASHO_SUITES:-crdt}; do
    echo "riak_client_test: Basho's $suite suite" >&2
    (cd "$scratch" && RIAK_HOST=127.0.0.1 RIAK_PORT="${pb_ports[$target]}" \
      NODE_OPTIONS="--no-deprecation --no-warnings" \
      "$mocha_dir/node_modules/.bin/mocha" --timeout 30000 --reporter spec \
      "test/integration/$suite/"*.js) || failed=1
  done
  [ "$failed" -eq 0 ] || die "Basho's suites failed"
}

if [ -n "${BASHO_CLIENT_REPO:-}" ]; then
  run_basho_suites
else
  NODE_PATH="$npm_dir/node_modules" NODE_OPTIONS="--no-deprecation --no-warnings" \
    node "$here/riak_client_test.js" "127.0.0.1:${pb_ports[$target]}" \
    "${names[$target]}" "$members"
fi

# The client is done and disconnected: every node must still be healthy and
# must shut down gracefully.
for i in "${!pids[@]}"; do
  kill -0 "${pids[$i]}" 2>/dev/null || die "${names[$i]} died during the client test"
done
for i in "${!pids[@]}"; do
  kill -TERM "${pids[$i]}"
done
for i in "${!pids[@]}"; do
  status=0
  wait "${pids[$i]}" || status=$?
  pids[$i]=""
  [ "$status" -eq 0 ] || die "${names[$i]} exited with status $status on SIGTERM"
done
echo "riak_client_test: every node stopped cleanly" >&2
