# Shared by cluster/up, cluster/add and cluster/nemesis (sourced, not run):
# the layout of a cluster directory, how a node is started, and how to wait
# until a node answers and until the ring has settled.
#
# A cluster directory D holds:
#   D/secret       the cluster secret every node proves to its peers (mode 600)
#   D/binaries     paths of causewayd and causeway that started the nodes,
#                  so add and nemesis start nodes with the same binaries
#   D/nodes        one line per node: NAME PB_HOST:PORT HTTP_HOST:PORT PID
#                  PEER_HOST:PORT (PID is the last process started for it)
#   D/nodeK/       node.toml, data/, node.log of node K (1-based)
#   D/tls/         with `cluster/up --secure`: the cluster's CA (ca.pem,
#                  ca.key) and the nodes' certificate (node.pem, node.key)
#   D/admin-password  the password of the user `admin` (mode 600); present
#                  once security is enabled, and then every CLI call of
#                  these scripts logs in as admin over TLS
# Node K (1-based) with base port P: client port P+K-1, admin HTTP port
# P+100+K-1, peer port P+200+K-1.
#
# The caller sets `cw_prog` (its name, for messages) before sourcing.

cw_die() {
  echo "${cw_prog:-cluster}: $*" >&2
  exit 1
}

cw_say() { echo "${cw_prog:-cluster}: $*" >&2; }

cw_is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

# The value of a top-level `KEY = VALUE` line of a node.toml, quotes removed.
cw_toml_value() {
  local file="$1" key="$2"
  sed -n "s/^$key *= *\"\{0,1\}\([^\"]*\)\"\{0,1\} *\$/\1/p" "$file" | head -n 1
}

# Number of nodes D holds (node1..nodeK with a node.toml, no gaps).
cw_node_count() {
  local dir="$1" k=0
  while [ -f "$dir/node$((k + 1))/node.toml" ]; do k=$((k + 1)); done
  echo "$k"
}

# True when PID is a live causewayd started on CONFIG (a recycled pid never
# matches: the config path is on its command line).
cw_node_running() {
  local pid="$1" config="$2"
  cw_is_uint "$pid" || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$config"
}

# True when PID is stopped by SIGSTOP (state T in /proc/PID/stat).
cw_node_paused() {
  local pid="$1" state
  cw_is_uint "$pid" || return 1
  state="$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$pid/stat" \
    2>/dev/null || true)"
  [ "$state" = T ]
}

# True when PID has finished exiting: gone, or a zombie waiting for its
# parent. A killed process loses its command line (so cw_node_running turns
# false) while the kernel is still tearing it down; this waits out that
# window. A recycled PID (a command line again) counts as gone.
cw_process_exited() {
  local pid="$1" state
  [ -r "/proc/$pid/stat" ] || return 0
  [ -z "$(tr -d '\0' <"/proc/$pid/cmdline" 2>/dev/null)" ] || return 0
  state="$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$pid/stat" \
    2>/dev/null || true)"
  [ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ]
}

# Field F (1-based) of NAME's line in D/nodes, if any.
cw_nodes_field() {
  local dir="$1" name="$2" field="$3"
  [ -f "$dir/nodes" ] || return 0
  awk -v name="$name" -v f="$field" '$1 == name { print $f; exit }' \
    "$dir/nodes"
}

cw_recorded_pid() { cw_nodes_field "$1" "$2" 4; }

cw_ping_ok() {
  [ "$(curl -fsS --max-time 2 "http://127.0.0.1:$1/ping" 2>/dev/null)" = OK ]
}

# Sets NAME's line of D/nodes to the given fields (appended when absent).
# Serialised with flock: nemesis commands may run side by side.
cw_set_node_line() {
  local dir="$1" name="$2" line="$3"
  (
    flock 9
    local tmp="$dir/nodes.tmp.$$"
    if [ -f "$dir/nodes" ]; then
      awk -v name="$name" -v line="$line" '
        $1 == name { if (!done) print line; done = 1; next }
        { print }
        END { if (!done) print line }' "$dir/nodes" >"$tmp"
    else
      echo "$line" >"$tmp"
    fi
    mv "$tmp" "$dir/nodes"
  ) 9>"$dir/.nodes.lock"
}

# Creates D/secret once: 32 random bytes as hex, readable by the owner only.
cw_ensure_secret() {
  local dir="$1"
  [ -s "$dir/secret" ] && return 0
  local tmp="$dir/secret.tmp.$$" hex
  hex="$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')"
  [ "${#hex}" -eq 64 ] || cw_die "could not read 32 random bytes from /dev/urandom"
  (
    umask 077
    printf '%s\n' "$hex" >"$tmp"
  )
  chmod 600 "$tmp"
  mv "$tmp" "$dir/secret"
}

# The settings a node needs to be a cluster member, as node.toml lines.
cw_peer_settings() {
  local dir="$1" peer_port="$2" cluster_name="$3"
  cat <<EOF
peer_host = "127.0.0.1"
peer_port = $peer_port
cluster_name = "$cluster_name"
cluster_secret_file = "$dir/secret"
EOF
}

# Writes D/nodeK/node.toml once; later runs start the node on the same
# settings and data. A node.toml from before clusters existed (no
# cluster_secret_file) gets the peer settings added, before any table.
cw_write_config() {
  local dir="$1" k="$2" base_port="$3" cluster_name="$4"
  local short="node$k" node_dir="$dir/node$k"
  local name="$short@127.0.0.1" config="$node_dir/node.toml"
  local pb_port=$((base_port + k - 1))
  local http_port=$((base_port + 100 + k - 1))
  local peer_port=$((base_port + 200 + k - 1))
  mkdir -p "$node_dir/data"
  if [ ! -f "$config" ]; then
    cat >"$config" <<EOF
# Settings of $name (written by cluster/up; edit and restart to change).
# Every key is also a causewayd flag; see build/causewayd --help.
name = "$name"
data_dir = "$node_dir/data"
pb_host = "127.0.0.1"
pb_port = $pb_port
http_host = "127.0.0.1"
http_port = $http_port
$(cw_peer_settings "$dir" "$peer_port" "$cluster_name")
log_level = "info"
EOF
  elif ! grep -q '^cluster_secret_file *=' "$config"; then
    local settings tmp="$config.tmp.$$"
    settings="$(cw_peer_settings "$dir" "$peer_port" "$cluster_name")"
    awk -v s="$settings" '
      !done && /^[[:space:]]*\[/ { print s; done = 1 }
      { print }
      END { if (!done) print s }' "$config" >"$tmp"
    mv "$tmp" "$config"
    cw_say "added peer settings to $config"
  fi
  # A secured cluster's nodes all serve TLS (cluster/up --secure).
  if [ -f "$dir/tls/node.pem" ]; then cw_add_tls_settings "$dir" "$k"; fi
}

# Makes D/tls (once): a CA for this cluster and one certificate for every
# node (they all listen on 127.0.0.1), with the openssl command.
cw_make_certs() {
  local tls="$1/tls"
  [ -f "$tls/node.pem" ] && return 0
  command -v openssl >/dev/null ||
    cw_die "the openssl command is missing (cluster/install-deps installs it)"
  mkdir -p "$tls"
  chmod 700 "$tls"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -days 3650 -subj "/CN=causeway local CA" \
    -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null &&
    openssl req "${ec[@]}" -subj "/CN=127.0.0.1" -keyout "$tls/node.key" \
      -out "$tls/node.csr" 2>/dev/null &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tls/node.ext" &&
    openssl x509 -req -in "$tls/node.csr" -CA "$tls/ca.pem" \
      -CAkey "$tls/ca.key" -CAcreateserial -days 825 \
      -extfile "$tls/node.ext" -out "$tls/node.pem" 2>/dev/null ||
    cw_die "making the cluster's certificates in $tls failed"
  rm -f "$tls/node.csr" "$tls/node.ext"
}

# Adds the TLS settings to node K's config unless it has some already.
cw_add_tls_settings() {
  local dir="$1" k="$2" config="$1/node$2/node.toml"
  grep -q '^tls_cert_file *=' "$config" && return 0
  local settings tmp="$config.tmp.$$"
  settings="tls_cert_file = \"$dir/tls/node.pem\"
tls_key_file = \"$dir/tls/node.key\""
  awk -v s="$settings" '
    !done && /^[[:space:]]*\[/ { print s; done = 1 }
    { print }
    END { if (!done) print s }' "$config" >"$tmp"
  mv "$tmp" "$config"
}

# Once security is on (D/admin-password exists), every CLI call of these
# scripts goes over TLS and logs in as admin: the CLI reads these.
cw_load_security() {
  local dir="$1"
  [ -f "$dir/admin-password" ] || return 0
  export CAUSEWAY_CACERT="$dir/tls/ca.pem"
  export CAUSEWAY_USER=admin
  export CAUSEWAY_PASSWORD_FILE="$dir/admin-password"
}

# Records where the binaries are, for cluster/add and cluster/nemesis.
cw_save_binaries() {
  local dir="$1" daemon="$2" cli="$3"
  printf 'daemon=%s\ncli=%s\n' "$daemon" "$cli" >"$dir/binaries"
}

# Sets cw_daemon and cw_cli from D/binaries, else from BUILD_DIR.
cw_load_binaries() {
  local dir="$1" build_dir="$2"
  cw_daemon=""
  cw_cli=""
  if [ -z "$build_dir" ] && [ -f "$dir/binaries" ]; then
    cw_daemon="$(sed -n 's/^daemon=//p' "$dir/binaries")"
    cw_cli="$(sed -n 's/^cli=//p' "$dir/binaries")"
  fi
  build_dir="${build_dir:-$root/build}"
  [ -n "$cw_daemon" ] || cw_daemon="$(cw_find_binary "$build_dir" node causewayd)"
  [ -n "$cw_cli" ] || cw_cli="$(cw_find_binary "$build_dir" client causeway)"
  [ -x "$cw_daemon" ] || cw_die "no causewayd at '$cw_daemon' (run cluster/up" \
    "first, or give --build-dir)"
  [ -x "$cw_cli" ] || cw_die "no causeway CLI at '$cw_cli' (run cluster/up" \
    "first, or give --build-dir)"
}

# BUILD_DIR/NAME (the link cluster/up makes) or BUILD_DIR/SUBDIR/NAME.
cw_find_binary() {
  local build_dir="$1" subdir="$2" name="$3"
  if [ -x "$build_dir/$name" ]; then
    echo "$build_dir/$name"
  else
    echo "$build_dir/$subdir/$name"
  fi
}

# Starts node SHORT of D in the background on its node.toml; sets cw_pid.
# cluster/up, cluster/add and cluster/nemesis all start nodes this way.
# Local clusters are test clusters: fault injection is on, so that
# cluster/nemesis can break the network (it is a command-line flag only, so
# a node.toml copied elsewhere does not carry it).
cw_start_node() {
  local dir="$1" short="$2"
  local config="$dir/$short/node.toml" log="$dir/$short/node.log"
  echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) ${cw_prog:-cluster} starting" \
    "$short" >>"$log"
  nohup "$cw_daemon" --config "$config" --enable-fault-injection \
    >>"$log" 2>&1 </dev/null &
  cw_pid=$!
}

# The D/nodes line of node SHORT with pid PID, from its node.toml.
cw_node_line() {
  local dir="$1" short="$2" pid="$3" config="$1/$2/node.toml"
  local name pb http peer
  name="$(cw_toml_value "$config" name)"
  pb="$(cw_toml_value "$config" pb_host):$(cw_toml_value "$config" pb_port)"
  http="$(cw_toml_value "$config" http_host):$(cw_toml_value "$config" http_port)"
  peer="$(cw_toml_value "$config" peer_host):$(cw_toml_value "$config" peer_port)"
  echo "$name $pb $http $pid $peer"
}

# Waits until NAME (pid PID, admin HTTP_PORT) answers /ping; dies with the
# end of its log when it exits first or the timeout passes.
cw_wait_ping() {
  local dir="$1" name="$2" http_port="$3" pid="$4" timeout_s="$5"
  local short="${name%%@*}"
  local log="$dir/$short/node.log"
  local deadline=$((SECONDS + timeout_s))
  until cw_ping_ok "$http_port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "--- last lines of $log" >&2
      tail -n 30 "$log" >&2 || true
      cw_die "$name exited before answering /ping (log: $log)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "--- last lines of $log" >&2
      tail -n 30 "$log" >&2 || true
      cw_die "$name (pid $pid) did not answer http://127.0.0.1:$http_port/ping" \
        "within ${timeout_s}s; it is still running (log: $log; stop it" \
        "with cluster/down --dir $dir)"
    fi
    sleep 0.2
  done
}

# An unsigned number from one-line JSON: the first "KEY":N.
cw_json_uint() {
  sed -n "s/.*\"$2\":\([0-9][0-9]*\).*/\1/p" <<<"$1" | head -n 1
}

# True when node PB's view names member NAME.
cw_knows_member() {
  local pb="$1" name="$2" json
  json="$("$cw_cli" --node "$pb" --timeout 5 --json cluster members \
    2>/dev/null </dev/null)" || return 1
  grep -qF "\"name\":\"$name\"" <<<"$json"
}

# Waits until every running node of D/nodes reports the same ring version,
# N members all valid and up, and no pending transfer. On timeout it dies
# with each node's last answer.
cw_wait_settled() {
  local dir="$1" want="$2" timeout_s="$3"
  local deadline=$((SECONDS + timeout_s))
  local -a report
  while :; do
    local settled=1 ring="" line name pb json v total up pending joining leaving
    report=()
    while read -r name pb _ pid _; do
      [ -n "$name" ] || continue
      # A node that is not running (left the cluster, or killed on
      # purpose) has no view to compare; the others count it as down.
      if ! cw_node_running "$pid" "$dir/${name%%@*}/node.toml"; then
        report+=("  $name: not running")
        continue
      fi
      if ! json="$("$cw_cli" --node "$pb" --timeout 5 --json cluster status \
        2>&1 </dev/null)"; then
        settled=0
        report+=("  $name: no answer ($json)")
        continue
      fi
      v="$(cw_json_uint "$json" ring_version)"
      total="$(cw_json_uint "$json" total)"
      up="$(cw_json_uint "$json" up)"
      joining="$(cw_json_uint "$json" joining)"
      leaving="$(cw_json_uint "$json" leaving)"
      pending="$(cw_json_uint "$json" pending_transfers)"
      report+=("  $name: ring_version ${v:-?}, ${total:-?} member(s):\
 ${up:-?} up and valid, ${joining:-?} joining, ${leaving:-?} leaving;\
 pending_transfers ${pending:-?}")
      if [ "${total:-}" != "$want" ] || [ "${up:-}" != "$want" ] ||
        [ "${pending:-}" != 0 ] || [ -z "$v" ]; then
        settled=0
      fi
      if [ -z "$ring" ]; then
        ring="$v"
      elif [ "$ring" != "$v" ]; then
        settled=0
      fi
    done <"$dir/nodes"
    [ "$settled" -eq 1 ] && [ -n "$ring" ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "${cw_prog:-cluster}: the ring did not settle within ${timeout_s}s." \
        "Settled means: every node reports the same ring_version, $want" \
        "members all valid and up, and pending_transfers 0. Last answers:" >&2
      for line in "${report[@]}"; do echo "$line" >&2; done
      while read -r name pb _ pid _; do
        cw_node_running "$pid" "$dir/${name%%@*}/node.toml" || continue
        echo "Members as $name sees them:" >&2
        "$cw_cli" --node "$pb" --timeout 5 cluster members </dev/null >&2 ||
          true
        break
      done <"$dir/nodes"
      cw_die "see the node logs in $dir/node*/node.log; the nodes are still" \
        "running (cluster/down --dir $dir stops them)"
    fi
    sleep 0.5
  done
}

# The full name of NODE in D/nodes, given as "node2", "node2@127.0.0.1" or
# "n2".
cw_resolve_node() {
  local dir="$1" node="$2" name
  [ -f "$dir/nodes" ] || cw_die "no $dir/nodes: nothing was started there"
  while read -r name _; do
    if [ "$name" = "$node" ] || [ "${name%%@*}" = "$node" ]; then
      echo "$name"
      return 0
    fi
  done <"$dir/nodes"
  if [[ "$node" =~ ^n([0-9]+)$ ]]; then
    while read -r name _; do
      if [ "${name%%@*}" = "node${BASH_REMATCH[1]}" ]; then
        echo "$name"
        return 0
      fi
    done <"$dir/nodes"
  fi
  cw_die "no node '$node' in $dir/nodes (nodes:" \
    "$(awk '{ print $1 }' "$dir/nodes" | paste -sd ' '))"
}
