#!/usr/bin/env bash
# End-to-end test of the cluster scripts on real processes: cluster/up forms
# a three-node cluster, cluster/nemesis kills, starts, pauses and resumes
# nodes, cluster/add grows the cluster, cluster/up restarts a stopped node
# that rejoins by itself, and cluster/down stops everything. Every step's
# outcome is checked through the causeway CLI. Exit status is the verdict.
#
# Usage: run_cluster_scripts_test.sh SOURCE_DIR BUILD_DIR WORK_DIR
#   SOURCE_DIR  the repository (holds cluster/)
#   BUILD_DIR   a build directory holding node/causewayd and client/causeway
#   WORK_DIR    scratch space in the build tree
set -euo pipefail

fail() {
  echo "cluster_scripts_test: FAIL: $*" >&2
  exit 1
}
step() { echo "cluster_scripts_test: $*" >&2; }

[ $# -eq 3 ] || fail "usage: $0 SOURCE_DIR BUILD_DIR WORK_DIR"
src="$1"
build="$2"
work="$3"
cli="$build/client/causeway"
[ -x "$build/node/causewayd" ] || fail "no causewayd in $build/node"
[ -x "$cli" ] || fail "no causeway CLI in $build/client"
mkdir -p "$work"
dir="$(mktemp -d "$work/cluster.XXXXXX")"

cleanup() {
  local rc=$?
  # Whatever happened, no node outlives the test.
  if [ -f "$dir/nodes" ]; then
    "$src/cluster/down" --dir "$dir" --timeout 10 >/dev/null 2>&1 || true
  fi
  if [ "$rc" -ne 0 ]; then
    for log in "$dir"/node*/node.log; do
      [ -f "$log" ] || continue
      echo "--- $log, last lines:" >&2
      tail -n 20 "$log" >&2 || true
    done
  else
    rm -rf "$dir"
  fi
  exit "$rc"
}
trap cleanup EXIT

# True when something accepts connections on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A base port P with P..P+3, P+100..P+103 and P+200..P+203 free (4 nodes).
base=""
for _ in $(seq 1 50); do
  p=$((20000 + RANDOM % 9000))
  free=1
  for off in 0 1 2 3 100 101 102 103 200 201 202 203; do
    if port_busy $((p + off)); then
      free=0
      break
    fi
  done
  if [ "$free" -eq 1 ]; then
    base="$p"
    break
  fi
done
[ -n "$base" ] || fail "found no free base port"

pb() { echo "127.0.0.1:$((base + $1 - 1))"; }
nodes_pid() { awk -v n="node$1@127.0.0.1" '$1 == n { print $4 }' "$dir/nodes"; }
# A killed node is a zombie until its parent (init, for nodes the scripts
# started) reaps it: that is not running.
running() {
  local state
  [ -n "$1" ] || return 1
  state="$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
# STATE of nodeK in the members list that node VIA prints.
member_state() {
  "$cli" --node "$(pb "$2")" --timeout 5 cluster members 2>/dev/null </dev/null |
    awk -v n="node$1@127.0.0.1" '$1 == n { print $2 }'
}
# Waits up to S seconds until nodeK's state seen from node VIA is STATE.
wait_state() {
  local k="$1" via="$2" want="$3" s="$4"
  local deadline=$((SECONDS + s))
  until [ "$(member_state "$k" "$via")" = "$want" ]; do
    [ "$SECONDS" -lt "$deadline" ] ||
      fail "node$k never showed $want on node$via within ${s}s" \
        "(last: '$(member_state "$k" "$via")')"
    sleep 0.2
  done
}
get() { "$cli" --node "$(pb "$1")" --timeout 10 get "$2" "$3" --r all </dev/null; }

common=(--dir "$dir" --no-build --build-dir "$build")

step "cluster/up -n 3 on base port $base"
"$src/cluster/up" "${common[@]}" -n 3 --base-port "$base" >"$work/up.out" 2>&1 ||
  { cat "$work/up.out" >&2; fail "cluster/up failed"; }
[ "$(wc -l <"$dir/nodes")" -eq 3 ] || fail "D/nodes should list 3 nodes"
[ "$(stat -c %a "$dir/secret")" = 600 ] || fail "D/secret is not mode 600"
[[ "$(cat "$dir/secret")" =~ ^[0-9a-f]{64}$ ]] || fail "D/secret is not 32 bytes of hex"
grep -q "^peer_port = $((base + 201))\$" "$dir/node2/node.toml" ||
  fail "node2 should have peer port base+201"
for k in 1 2 3; do
  [ "$(member_state "$k" 1)" = up ] || fail "node$k is not up in node1's view"
done

step "a value written through node1 is read through node3"
"$cli" --node "$(pb 1)" put fruit apple red --w all </dev/null >/dev/null ||
  fail "put through node1"
[ "$(get 3 fruit apple)" = red ] || fail "node3 does not read fruit/apple"

step "nemesis kill node2: it is gone and seen down"
pid2="$(nodes_pid 2)"
"$src/cluster/nemesis" --dir "$dir" kill node2 || fail "nemesis kill"
! running "$pid2" || fail "node2 (pid $pid2) still runs after kill"
wait_state 2 1 down 10
"$cli" --node "$(pb 1)" put fruit pear green --w 2 --blind </dev/null >/dev/null ||
  fail "w=2 put with node2 down"

step "nemesis start node2: new pid recorded, seen up again"
"$src/cluster/nemesis" --dir "$dir" start node2@127.0.0.1 || fail "nemesis start"
new2="$(nodes_pid 2)"
[ "$new2" != "$pid2" ] && running "$new2" || fail "D/nodes has no new live pid for node2"
wait_state 2 1 up 10

step "nemesis pause node3: seen down; resume: seen up"
"$src/cluster/nemesis" --dir "$dir" pause node3 || fail "nemesis pause"
[ "$(awk '{ print $3 }' "/proc/$(nodes_pid 3)/stat")" = T ] ||
  fail "node3 is not stopped after pause"
wait_state 3 1 down 10
"$src/cluster/nemesis" --dir "$dir" resume node3 || fail "nemesis resume"
wait_state 3 1 up 10

step "cluster/add: node4 joins and serves every key"
"$src/cluster/add" --dir "$dir" >"$work/add.out" 2>&1 ||
  { cat "$work/add.out" >&2; fail "cluster/add failed"; }
[ "$(wc -l <"$dir/nodes")" -eq 4 ] || fail "D/nodes should list 4 nodes"
grep -q "^node4@127.0.0.1 $(pb 4) 127.0.0.1:$((base + 103)) [0-9]* 127.0.0.1:$((base + 203))\$" \
  "$dir/nodes" || fail "node4's line in D/nodes: $(grep node4 "$dir/nodes")"
[ "$(get 4 fruit apple)" = red ] || fail "node4 does not read fruit/apple"
[ "$(get 4 fruit pear)" = green ] || fail "node4 does not read fruit/pear"

step "nemesis stop node4, then cluster/up restarts it without a new join"
"$src/cluster/nemesis" --dir "$dir" stop node4 || fail "nemesis stop"
! running "$(nodes_pid 4)" || fail "node4 still runs after stop"
"$src/cluster/up" "${common[@]}" >"$work/up2.out" 2>&1 ||
  { cat "$work/up2.out" >&2; fail "cluster/up (re-run) failed"; }
grep -q "starting node4" "$work/up2.out" || fail "cluster/up did not restart node4"
! grep -q "joins" "$work/up2.out" || fail "a restarted node must rejoin by itself"
[ "$(get 4 fruit apple)" = red ] || fail "node4 does not read fruit/apple after restart"

step "usage errors"
rc=0
"$src/cluster/nemesis" --dir "$dir" explode node1 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "an unknown action should exit 2, not $rc"
rc=0
"$src/cluster/nemesis" --dir "$dir" kill node9 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "an unknown node should exit 1, not $rc"

step "cluster/down stops every node gracefully"
"$src/cluster/nemesis" --dir "$dir" pause node1 || fail "nemesis pause node1"
pids="$(awk '{ print $4 }' "$dir/nodes")"
"$src/cluster/down" --dir "$dir" >/dev/null 2>&1 || fail "cluster/down did not stop every node gracefully"
for p in $pids; do
  ! running "$p" || fail "pid $p still runs after cluster/down"
done
step "all steps passed"
