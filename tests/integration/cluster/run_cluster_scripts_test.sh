#!/usr/bin/env bash
# End-to-end test of the cluster scripts on real processes: cluster/up forms
# a three-node cluster, cluster/nemesis partitions it and heals it, drops,
# duplicates, reorders and delays peer messages (cluster-wide and on one
# node's links), skews a clock, clears it all, wipes a node, kills, starts,
# pauses and resumes nodes, cluster/add grows the cluster, cluster/up restarts a stopped node
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
# True once an r=all read through node K returns VALUE, retried for up to S
# seconds: after a fault is lifted, node K's failure detector may still
# count a peer down for a few seconds, and r=all cannot be met meanwhile.
get_eventually() {
  local deadline=$((SECONDS + $5))
  until [ "$(get "$1" "$2" "$3" 2>/dev/null)" = "$4" ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

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
get_eventually 3 fruit apple red 20 ||
  fail "node3 does not read fruit/apple"

# Network faults. A write with pw=all needs every primary to acknowledge:
# the probe of whether node1 reaches the others.
put_all() {
  "$cli" --node "$(pb "$1")" --timeout 15 put "$2" "$3" "$4" --pw all \
    </dev/null >/dev/null 2>&1
}
# Retries a pw=all write for up to S seconds (the failure detector needs a
# few seconds to see a healed link up again).
put_all_eventually() {
  local deadline=$((SECONDS + $5))
  until put_all "$1" "$2" "$3" "$4"; do
    [ "$SECONDS" -lt "$deadline" ] ||
      fail "a pw=all write through node$1 never succeeded within ${5}s"
    sleep 0.5
  done
}
nemesis() { "$src/cluster/nemesis" --dir "$dir" "$@"; }
# The status lines of node K (its own line and the three indented ones).
status_of() {
  nemesis status 2>/dev/null | awk -v n="node$1@127.0.0.1" '
    /^[^ ]/ { on = index($0, n) == 1 } on'
}
# A counter from node K's status.
counter() { status_of "$1" | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" | head -n 1; }

step "nemesis status: every node runs with fault injection, nothing in force"
for k in 1 2 3; do
  status_of "$k" | grep -q '^node'"$k"'@127.0.0.1 (pid [0-9]*): partition \[\], skew_ms 0$' ||
    fail "status of node$k: $(status_of "$k")"
done

step "nemesis partition n1/n2,node3: node1 is cut off, pw=all fails; heal: it succeeds"
nemesis partition n1/n2,node3@127.0.0.1 || fail "nemesis partition"
for k in 1 2 3; do
  status_of "$k" | grep -qF 'partition [["node1@127.0.0.1"],["node2@127.0.0.1","node3@127.0.0.1"]]' ||
    fail "node$k does not hold the partition: $(status_of "$k")"
done
wait_state 2 1 down 15
wait_state 1 3 down 15
[ "$(member_state 3 2)" = up ] || fail "node2 and node3 are on one side, node3 should be up for node2"
! put_all 1 net k1 a || fail "a pw=all write through a partitioned node1 succeeded"
! put_all 2 net k1 a || fail "a pw=all write through node2 succeeded without node1"
"$cli" --node "$(pb 2)" --timeout 15 put net k1 a --w 2 --blind </dev/null >/dev/null ||
  fail "a w=2 write on the majority side (node2, node3) failed"
! "$cli" --node "$(pb 1)" --timeout 15 put net k1 a --w 2 --blind </dev/null >/dev/null 2>&1 ||
  fail "a w=2 write on the minority side (node1 alone) succeeded"
[ "$(counter 1 dropped_partition_out)" -gt 0 ] || fail "node1 counted no partition drop"
nemesis heal || fail "nemesis heal"
status_of 1 | grep -qF 'partition [],' || fail "node1 still holds a partition after heal"
put_all_eventually 1 net k1 healed 20
get_eventually 3 net k1 healed 20 ||
  fail "node3 does not read the write made after heal: $(get 3 net k1 2>&1)"

step "nemesis --node node3 drop 100: only node3's links fail, both ways; drop 0 undoes it"
nemesis --node node3 drop 100 || fail "nemesis --node node3 drop 100"
status_of 1 | grep -qF '"node3@127.0.0.1":{"drop_pct":100}' ||
  fail "node1 does not drop messages to node3: $(status_of 1)"
status_of 3 | grep -qF '"node1@127.0.0.1":{"drop_pct":100},"node2@127.0.0.1":{"drop_pct":100}' ||
  fail "node3 does not drop messages to node1 and node2: $(status_of 3)"
wait_state 3 1 down 15
wait_state 1 3 down 15
[ "$(member_state 2 1)" = up ] || fail "node2's links were not to be touched"
! put_all 1 net k2 a || fail "a pw=all write succeeded while node3's messages are dropped"
[ "$(counter 1 dropped_random)" -gt 0 ] || fail "node1 counted no dropped message"
nemesis --node n3 drop 0 || fail "nemesis --node n3 drop 0"
put_all_eventually 1 net k2 b 20

step "nemesis drop 30: some messages are lost cluster-wide (counted); drop 0"
nemesis drop 30 || fail "nemesis drop 30"
status_of 2 | grep -qF 'every link: {"drop_pct":30,' ||
  fail "node2 does not drop 30%: $(status_of 2)"
deadline=$((SECONDS + 20))
until [ "$(counter 2 dropped_random)" -gt 0 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "node2 dropped nothing at 30% in 20s"
  sleep 0.5
done
nemesis drop 0 || fail "nemesis drop 0"

step "nemesis duplicate 100, reorder 50 20, delay 50 10: writes still succeed, each is counted"
nemesis duplicate 100 || fail "nemesis duplicate"
nemesis reorder 50 20 || fail "nemesis reorder"
nemesis --node node2 delay 50 10 || fail "nemesis --node node2 delay"
status_of 1 | grep -qF 'every link: {"drop_pct":0,"duplicate_pct":100,"reorder_pct":50,"reorder_ms":20,' ||
  fail "node1's link faults: $(status_of 1)"
status_of 1 | grep -qF '"node2@127.0.0.1":{"delay_ms":50,"jitter_ms":10}' ||
  fail "node1 does not delay messages to node2: $(status_of 1)"
for i in 1 2 3 4 5; do
  put_all_eventually 1 net "k3-$i" "v$i" 20
  get_eventually 2 net "k3-$i" "v$i" 20 ||
    fail "node2 does not read net/k3-$i under duplicates: $(get 2 net "k3-$i" 2>&1)"
done
for c in duplicated reordered delayed; do
  [ "$(counter 1 "$c")" -gt 0 ] || fail "node1 counted nothing $c"
done

step "nemesis skew node3 -60000: beyond max_clock_offset_ms, node3 refuses its peers' timestamps, coordinates no writes and says its clock is suspect; writes through node1 still reach a quorum"
"$cli" --node "$(pb 1)" bucket set lww last_write_wins=true allow_mult=false \
  </dev/null >/dev/null || fail "bucket set lww"
put_all_eventually 1 lww k first 20
nemesis skew node3 -60000 || fail "nemesis skew"
status_of 3 | grep -q 'skew_ms -60000$' || fail "node3 does not hold the skew: $(status_of 3)"
status_of 1 | grep -q 'skew_ms 0$' || fail "skew must be node3's only"
out=$("$cli" --node "$(pb 3)" --timeout 15 put lww k behind </dev/null 2>&1) &&
  fail "a write through node3, 60s behind, succeeded"
echo "$out" | grep -q 'clock offset' ||
  fail "a write through node3 failed without naming the clock offset: $out"
"$cli" --node "$(pb 1)" --timeout 15 put lww k second </dev/null >/dev/null ||
  fail "a quorum write through node1 failed while node3's clock is skewed"
[ "$("$cli" --node "$(pb 1)" --timeout 10 get lww k </dev/null)" = second ] ||
  fail "node1 does not read back the write it took"
deadline=$((SECONDS + 20))
until "$cli" --node "$(pb 3)" cluster status </dev/null 2>/dev/null |
  grep -q '^clock: SUSPECT'; do
  [ "$SECONDS" -lt "$deadline" ] || fail "node3 never reported its clock suspect"
  sleep 0.5
done

step "nemesis clear: nothing in force anywhere"
nemesis clear || fail "nemesis clear"
for k in 1 2 3; do
  status_of "$k" | grep -q 'partition \[\], skew_ms 0$' || fail "node$k after clear: $(status_of "$k")"
  status_of "$k" | grep -qF 'every link: {"drop_pct":0,"duplicate_pct":0,"reorder_pct":0,"reorder_ms":100,"delay_ms":0,"jitter_ms":0}' ||
    fail "node$k after clear: $(status_of "$k")"
  status_of "$k" | grep -qF 'per peer:   {}' || fail "node$k after clear: $(status_of "$k")"
done
put_all_eventually 1 net k4 cleared 20

step "nemesis wipe node3: killed, data directory emptied, left stopped"
pid3="$(nodes_pid 3)"
nemesis wipe node3 || fail "nemesis wipe"
! running "$pid3" || fail "node3 (pid $pid3) still runs after wipe"
[ -d "$dir/node3/data" ] || fail "wipe removed node3's data directory itself"
[ -z "$(ls -A "$dir/node3/data")" ] || fail "node3's data directory is not empty after wipe"
wait_state 3 1 down 10
step "nemesis wipe --start node3: starts empty, joins, serves reads"
nemesis wipe --start node3 || fail "nemesis wipe --start"
running "$(nodes_pid 3)" || fail "node3 does not run after wipe --start"
wait_state 3 1 up 15
[ "$(member_state 1 3)" = up ] || fail "the wiped node3 does not see node1 as a member"
get_eventually 3 fruit apple red 20 ||
  fail "node3 does not read fruit/apple after wipe --start"

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
get_eventually 4 fruit apple red 20 ||
  fail "node4 does not read fruit/apple"
get_eventually 4 fruit pear green 20 ||
  fail "node4 does not read fruit/pear"

step "nemesis stop node4, then cluster/up restarts it without a new join"
"$src/cluster/nemesis" --dir "$dir" stop node4 || fail "nemesis stop"
! running "$(nodes_pid 4)" || fail "node4 still runs after stop"
"$src/cluster/up" "${common[@]}" >"$work/up2.out" 2>&1 ||
  { cat "$work/up2.out" >&2; fail "cluster/up (re-run) failed"; }
grep -q "starting node4" "$work/up2.out" || fail "cluster/up did not restart node4"
! grep -q "joins" "$work/up2.out" || fail "a restarted node must rejoin by itself"
get_eventually 4 fruit apple red 20 ||
  fail "node4 does not read fruit/apple after restart"

step "usage errors"
rc=0
"$src/cluster/nemesis" --dir "$dir" explode node1 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "an unknown action should exit 2, not $rc"
rc=0
"$src/cluster/nemesis" --dir "$dir" kill node9 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "an unknown node should exit 1, not $rc"

rc=0
nemesis partition node1 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "a partition of one group should exit 2, not $rc"
rc=0
nemesis partition node1/node9 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "a partition naming an unknown node should exit 1, not $rc"
rc=0
nemesis drop 101 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "drop 101 should exit 2, not $rc"
rc=0
nemesis --node node1 heal 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "--node with heal should exit 2, not $rc"
status_of 1 | grep -q 'partition \[\], skew_ms 0$' || fail "a refused verb changed node1: $(status_of 1)"

step "cluster/down stops every node gracefully"
"$src/cluster/nemesis" --dir "$dir" pause node1 || fail "nemesis pause node1"
pids="$(awk '{ print $4 }' "$dir/nodes")"
"$src/cluster/down" --dir "$dir" >/dev/null 2>&1 || fail "cluster/down did not stop every node gracefully"
for p in $pids; do
  ! running "$p" || fail "pid $p still runs after cluster/down"
done
step "all steps passed"
