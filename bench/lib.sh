# Shell functions shared by the benchmark scripts (bench/single-node,
# bench/cluster). Source it after defining die and note, and the variables
# work (a scratch directory) and out (where logs go).

# Every process this script starts is recorded here, and only these are
# stopped: TERM, a grace period, then KILL.
pids=()
stop_pid() {
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    note "pid $pid ignored SIGTERM for 10 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
# A loopback TCP port nobody listens on now. The owner binds it a moment
# later, so callers retry on a bind failure.
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
    if [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# pick_base_port N: a base port P such that cluster/up's ports for N nodes
# (client P..P+N-1, admin P+100.., peer P+200..) are all free, below the
# kernel's ephemeral range: a node may bind its ports minutes after the
# check, and by then an outgoing connection (a benchmark makes thousands)
# may have been given one of them.
pick_base_port() {
  local n="$1" p i off ok low top
  low="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)"
  top=$((${low:-32768} < 50000 ? ${low:-32768} - 300 : 50000))
  [ "$top" -gt 21000 ] || top=50000
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + RANDOM % (top - 20000)))
    ok=1
    for ((off = 0; off < n && ok; off++)); do
      for shift in 0 100 200; do
        if [ -n "$(ss -Hltn "sport = :$((p + off + shift))" 2>/dev/null)" ]; then
          ok=0
        fi
      done
    done
    if [ "$ok" -eq 1 ]; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

redis_pid=""
redis_port=""
# start_redis NAME: fresh working dir, no RDB snapshots, no AOF.
start_redis() {
  local name="$1" dir="$work/$1" attempt i
  mkdir -p "$dir"
  for ((attempt = 0; attempt < 5; attempt++)); do
    redis_port="$(free_port)" || die "no free port for redis-server"
    redis-server --bind 127.0.0.1 --port "$redis_port" --save "" \
      --appendonly no --dir "$dir" --daemonize no \
      --logfile "$out/$name.log" </dev/null >/dev/null 2>&1 &
    redis_pid=$!
    pids+=("$redis_pid")
    for ((i = 0; i < 100; i++)); do
      if [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = "PONG" ]; then
        return 0
      fi
      kill -0 "$redis_pid" 2>/dev/null || break
      sleep 0.1
    done
    stop_pid "$redis_pid"
  done
  tail -n 20 "$out/$name.log" >&2 || true
  die "redis-server did not start"
}

# csv_field NAME TEST COLUMN: a value from redis-benchmark --csv output in
# $out/NAME.csv, found by the header's column name.
csv_field() {
  awk -F, -v test="$2" -v col="$3" '
    { gsub(/"/, "") }
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
    $1 == test && c { print $c; found = 1 }
    END { if (!found) exit 1 }' "$out/$1.csv" ||
    die "no $3 for $2 in $out/$1.csv"
}

