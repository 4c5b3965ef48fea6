#!/usr/bin/env bash
# A three-node cluster on three hosts, as far as the network can tell: each
# node runs in its own network namespace with its own address on a virtual
# switch (a bridge in a fourth namespace, one veth pair per node). The test
# checks that the nodes form one cluster, cuts node3 off with nftables rules
# inside its namespace, checks that the minority (node3) can meet neither
# pw=all nor a quorum write while the majority meets a quorum, heals, and
# checks that node3 converges on the majority's writes.
#
# Needs root (ip netns, nft). Nothing is created outside the namespaces it
# makes (named after this process, so parallel runs do not clash), and an
# EXIT trap kills the nodes and deletes the firewall table and every
# namespace, also when a check fails. Exit status is the verdict.
#
# Usage: run_netns_test.sh BUILD_DIR WORK_DIR
#   BUILD_DIR  holds node/causewayd and client/causeway
#   WORK_DIR   scratch space (data directories and logs)
set -euo pipefail

fail() {
  echo "netns_test: FAIL: $*" >&2
  exit 1
}
step() { echo "netns_test: $*" >&2; }

[ $# -eq 2 ] || fail "usage: $0 BUILD_DIR WORK_DIR"
build="$1"
work="$2"
daemon="$build/node/causewayd"
cli="$build/client/causeway"
[ -x "$daemon" ] || fail "no causewayd in $build/node"
[ -x "$cli" ] || fail "no causeway CLI in $build/client"
[ "$(id -u)" -eq 0 ] || fail "needs root (network namespaces and nftables)"
command -v ip >/dev/null || fail "no 'ip' command (cluster/install-deps installs iproute2)"
command -v nft >/dev/null || fail "no 'nft' command (cluster/install-deps installs nftables)"

mkdir -p "$work"
dir="$(mktemp -d "$work/netns.XXXXXX")"
tag="cw$$"
sw="${tag}sw"
subnet="10.231.$(($$ % 250)).0"
prefix="${subnet%.0}"
ns() { echo "${tag}n$1"; }
addr() { echo "$prefix.$1"; }
pids=()
made_ns=()

cleanup() {
  local rc=$? p n
  for p in "${pids[@]+"${pids[@]}"}"; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "${pids[@]+"${pids[@]}"}"; do wait "$p" 2>/dev/null || true; done
  for n in "${made_ns[@]+"${made_ns[@]}"}"; do
    # The table dies with the namespace; deleting it first keeps the rule
    # from outliving a namespace that some other process still holds open.
    ip netns exec "$n" nft delete table inet causeway_netns_test 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
  for n in "${made_ns[@]+"${made_ns[@]}"}"; do
    ! ip netns list | grep -qw "$n" || echo "netns_test: namespace $n is still there" >&2
  done
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
trap 'exit 130' INT TERM

step "namespaces $sw (switch) and $(ns 1) $(ns 2) $(ns 3), addresses $prefix.1-3"
ip netns add "$sw"
made_ns+=("$sw")
ip -n "$sw" link add br0 type bridge
ip -n "$sw" link set br0 up
ip -n "$sw" link set lo up
for k in 1 2 3; do
  ip netns add "$(ns "$k")"
  made_ns+=("$(ns "$k")")
  ip -n "$sw" link add "v$k" type veth peer name eth0 netns "$(ns "$k")"
  ip -n "$sw" link set "v$k" master br0 up
  ip -n "$(ns "$k")" link set lo up
  ip -n "$(ns "$k")" addr add "$(addr "$k")/24" dev eth0
  ip -n "$(ns "$k")" link set eth0 up
done

printf 'a secret shared by the netns test cluster\n' >"$dir/secret"
chmod 600 "$dir/secret"
for k in 1 2 3; do
  mkdir -p "$dir/node$k/data"
  ip netns exec "$(ns "$k")" "$daemon" --name "node$k@$(addr "$k")" \
    --data-dir "$dir/node$k/data" --pb-host "$(addr "$k")" --pb-port 8087 \
    --http-host "$(addr "$k")" --http-port 8098 --peer-host "$(addr "$k")" \
    --peer-port 8099 --cluster-name netns-test \
    --cluster-secret-file "$dir/secret" --request-timeout-ms 4000 \
    --admin-from-any-address true \
    >"$dir/node$k/node.log" 2>&1 </dev/null &
  pids+=("$!")
done

# The CLI, run inside node K's namespace against node K.
cw() {
  local k="$1"
  shift
  ip netns exec "$(ns "$k")" "$cli" --node "$(addr "$k"):8087" --timeout 10 "$@" </dev/null
}
wait_for() {
  local what="$1" s="$2"
  shift 2
  local deadline=$((SECONDS + s))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$what: not within ${s}s"
    sleep 0.5
  done
}
answers() { cw "$1" ping >/dev/null 2>&1; }
# True when a TCP connection from node K's namespace to HOST:PORT opens.
connects() {
  ip netns exec "$(ns "$1")" timeout 3 bash -c "exec 3<>/dev/tcp/$2/$3" \
    2>/dev/null
}

for k in 1 2 3; do wait_for "node$k answers" 30 answers "$k"; done
connects 1 "$(addr 3)" 8099 || fail "node1 cannot reach node3's peer port over the bridge"

step "node2 and node3 join node1 over the bridge"
for k in 2 3; do
  cw "$k" cluster join "$(addr 1):8099" >/dev/null || fail "node$k could not join"
done
json_uint() { sed -n "s/.*\"$2\":\([0-9][0-9]*\).*/\1/p" <<<"$1" | head -n 1; }
settled() {
  local k json ring="" v
  for k in 1 2 3; do
    json="$(cw "$k" --json cluster status 2>/dev/null)" || return 1
    [ "$(json_uint "$json" total)" = 3 ] && [ "$(json_uint "$json" up)" = 3 ] &&
      [ "$(json_uint "$json" pending_transfers)" = 0 ] || return 1
    v="$(json_uint "$json" ring_version)"
    [ -z "$ring" ] || [ "$ring" = "$v" ] || return 1
    ring="$v"
  done
}
wait_for "the three nodes settle into one cluster" 90 settled
# STATE of node J in node K's member list.
state() { cw "$1" cluster members 2>/dev/null | awk -v n="node$2@$(addr "$2")" '$1 == n { print $2 }'; }
for k in 1 2 3; do
  for j in 1 2 3; do
    [ "$(state "$k" "$j")" = up ] || fail "node$j is not up in node$k's view"
  done
done

step "a pw=all write through node1 is read through node3"
cw 1 put fruit apple red --pw all >/dev/null || fail "pw=all put through node1"
[ "$(cw 3 get fruit apple --r all)" = red ] || fail "node3 does not read fruit/apple"

step "nftables in node3's namespace cut it off from node1 and node2"
ip netns exec "$(ns 3)" nft -f - <<EOF
table inet causeway_netns_test {
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr { $(addr 1), $(addr 2) } drop
  }
  chain output {
    type filter hook output priority 0; policy accept;
    ip daddr { $(addr 1), $(addr 2) } drop
  }
}
EOF
! connects 3 "$(addr 1)" 8099 || fail "node3 still reaches node1's peer port"
connects 3 "$(addr 3)" 8087 || fail "node3's own client port must stay reachable"
sees() { [ "$(state "$1" "$2")" = "$3" ]; }
wait_for "node3 sees node1 down" 20 sees 3 1 down
wait_for "node3 sees node2 down" 20 sees 3 2 down
wait_for "node1 sees node3 down" 20 sees 1 3 down
[ "$(state 1 2)" = up ] || fail "node1 and node2 are on one side: node2 should be up"

step "the minority (node3) cannot meet pw=all or a quorum; the majority meets a quorum"
! cw 3 put fruit pear green --pw all --blind >/dev/null 2>&1 ||
  fail "a pw=all write through the partitioned node3 succeeded"
! cw 3 put fruit pear green --w quorum --blind >/dev/null 2>&1 ||
  fail "a quorum write through the partitioned node3 succeeded"
! cw 1 put fruit pear yellow --pw all --blind >/dev/null 2>&1 ||
  fail "a pw=all write through node1 succeeded while node3 is cut off"
cw 1 put fruit pear yellow --w quorum --blind >/dev/null ||
  fail "a quorum write through the majority (node1) failed"
cw 2 put fruit plum purple --w quorum --pw quorum >/dev/null ||
  fail "a pw=quorum write through the majority (node2) failed"

step "heal: delete the table; node3 converges on the majority's writes"
ip netns exec "$(ns 3)" nft delete table inet causeway_netns_test
wait_for "node3 sees node1 up" 20 sees 3 1 up
wait_for "node1 sees node3 up" 20 sees 1 3 up
reads() { [ "$(cw 3 get fruit "$1" --r all 2>/dev/null)" = "$2" ]; }
wait_for "node3 reads fruit/pear = yellow with r=all" 30 reads pear yellow
wait_for "node3 reads fruit/plum = purple with r=all" 30 reads plum purple
cw 3 put fruit apple green --pw all >/dev/null || fail "pw=all through node3 after heal"
[ "$(cw 1 get fruit apple --r all)" = green ] || fail "node1 does not read node3's write"
step "all steps passed"
