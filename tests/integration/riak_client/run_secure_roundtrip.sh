#!/usr/bin/env bash
# Basho's Node.js Riak client over TLS with a login: makes a throwaway CA and
# a server certificate for 127.0.0.1 with the openssl command, starts
# secure_test_node (a test-only node with Riak's security on and fixed
# users and grants) on a free port, runs secure_roundtrip.js against it, and
# stops the node. Exit status is the verdict.
#
# Usage: run_secure_roundtrip.sh SECURE_TEST_NODE WORK_DIR
#   WORK_DIR  a directory in the build tree (npm packages, certificates, log)
#
# Against a real node instead, run secure_roundtrip.js yourself (its header
# says what it needs).
set -euo pipefail

die() {
  echo "secure_roundtrip: $*" >&2
  exit 1
}

[ $# -eq 2 ] || die "usage: $0 SECURE_TEST_NODE WORK_DIR"
node_bin="$1"
work="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
client_version="2.4.0"

[ -x "$node_bin" ] || die "no secure_test_node binary at $node_bin"
command -v node >/dev/null || die "node is not installed (cluster/install-deps)"
command -v npm >/dev/null || die "npm is not installed (cluster/install-deps)"
command -v openssl >/dev/null || die "openssl is not installed (cluster/install-deps)"
mkdir -p "$work"

# The same client install as run_riak_client_test.sh (same directory, same
# lock), so either script reuses what the other installed.
npm_dir="$work/npm"
installed="$npm_dir/node_modules/basho-riak-client/package.json"
mkdir -p "$npm_dir"
exec 8>"$work/npm.lock"
flock 8
if ! grep -q "\"version\": \"$client_version\"" "$installed" 2>/dev/null; then
  echo "secure_roundtrip: installing basho-riak-client@$client_version" >&2
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
flock -u 8

run_dir="$(mktemp -d "$work/secure.XXXXXX")"
pid=""
cleanup() {
  local rc=$?
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ]; then
    echo "--- secure_test_node log ($run_dir/node.log):" >&2
    tail -n 40 "$run_dir/node.log" >&2 2>/dev/null || true
  else
    rm -rf "$run_dir"
  fi
  exit "$rc"
}
trap cleanup EXIT

# A CA and a server certificate for 127.0.0.1, valid for two days.
certs="$run_dir/certs"
mkdir -p "$certs"
printf '%s\n' "basicConstraints=CA:FALSE" \
  "keyUsage=critical,digitalSignature,keyEncipherment" \
  "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1" \
  >"$certs/server.ext"
{
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 2 -subj "/CN=Causeway Test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$certs/ca.key" -out "$certs/ca.pem" &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=127.0.0.1" -keyout "$certs/server.key" \
      -out "$certs/server.csr" &&
    openssl x509 -req -days 2 -in "$certs/server.csr" -CA "$certs/ca.pem" \
      -CAkey "$certs/ca.key" -CAcreateserial -extfile "$certs/server.ext" \
      -out "$certs/server.pem"
} >"$run_dir/openssl.log" 2>&1 || {
  cat "$run_dir/openssl.log" >&2
  die "openssl could not make the certificates"
}

password="pw-$RANDOM-$RANDOM"
ports="$run_dir/ports.json"
"$node_bin" --cert "$certs/server.pem" --key "$certs/server.key" \
  --ports-file "$ports" --user "riakuser:$password" \
  --grant "riakuser:riak_kv.put:default:secure" \
  --grant "riakuser:riak_kv.get:default:secure" \
  >"$run_dir/node.log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 300); do
  [ -s "$ports" ] && break
  kill -0 "$pid" 2>/dev/null || die "secure_test_node exited before listening"
  sleep 0.1
done
[ -s "$ports" ] || die "secure_test_node wrote no ports file within 30s"
port="$(sed -n 's/.*"pb" *: *\([0-9][0-9]*\).*/\1/p' "$ports")"
[[ "$port" =~ ^[0-9]+$ ]] || die "cannot read the port from $ports"

printf '%s\n' "$password" >"$run_dir/password"
NODE_PATH="$npm_dir/node_modules" NODE_OPTIONS="--no-deprecation --no-warnings" \
  node "$here/secure_roundtrip.js" --host 127.0.0.1 --port "$port" \
  --ca "$certs/ca.pem" --user riakuser --password-file "$run_dir/password"

kill -0 "$pid" 2>/dev/null || die "secure_test_node died during the test"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || die "secure_test_node exited with status $status"
echo "secure_roundtrip: passed; $(tail -n 1 "$run_dir/node.log")" >&2
