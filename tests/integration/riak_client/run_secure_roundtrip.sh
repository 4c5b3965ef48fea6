#!/usr/bin/env bash
# Riak's security model end to end: makes a throwaway CA and a server
# certificate for 127.0.0.1 with the openssl command, starts causewayd on a
# free port with TLS, sets up users, sources and grants with the CLI (over
# loopback, security still off), enables security, then runs Basho's
# Node.js client (secure_roundtrip.js: TLS, login, round trip, refusals)
# and the same refusals with the CLI, and stops the node. Exit status is
# the verdict.
#
# Usage: run_secure_roundtrip.sh CAUSEWAYD CAUSEWAY_CLI WORK_DIR
#   WORK_DIR  a directory in the build tree (npm packages, certificates, log)
set -euo pipefail

die() {
  echo "secure_roundtrip: $*" >&2
  exit 1
}

[ $# -eq 3 ] || die "usage: $0 CAUSEWAYD CAUSEWAY_CLI WORK_DIR"
node_bin="$1"
cli="$2"
work="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

[ -x "$node_bin" ] || die "no causewayd binary at $node_bin"
[ -x "$cli" ] || die "no causeway CLI at $cli"
command -v node >/dev/null || die "node is not installed (cluster/install-deps)"
command -v npm >/dev/null || die "npm is not installed (cluster/install-deps)"
command -v openssl >/dev/null || die "openssl is not installed (cluster/install-deps)"
mkdir -p "$work"

# shellcheck source=tests/integration/riak_client/basho_client.sh
. "$here/basho_client.sh"
install_basho_client "$work" secure_roundtrip
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
    echo "--- causewayd log ($run_dir/node.log):" >&2
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

ports="$run_dir/ports.json"
"$node_bin" --name "causeway@127.0.0.1" --data-dir "$run_dir/data" \
  --pb-port 0 --http-port 0 --no-peer --ports-file "$ports" \
  --tls-cert-file "$certs/server.pem" --tls-key-file "$certs/server.key" \
  >"$run_dir/node.log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 300); do
  [ -s "$ports" ] && break
  kill -0 "$pid" 2>/dev/null || die "causewayd exited before listening"
  sleep 0.1
done
[ -s "$ports" ] || die "causewayd wrote no ports file within 30s"
port="$(sed -n 's/.*"pb" *: *\([0-9][0-9]*\).*/\1/p' "$ports")"
[[ "$port" =~ ^[0-9]+$ ]] || die "cannot read the port from $ports"
node="127.0.0.1:$port"

# Users, sources and grants, set up as an operator would (security is off,
# so the loopback CLI may administer), then security on.
for u in admin riakuser carol; do
  printf 'pw-%s-%s\n' "$u" "$RANDOM$RANDOM" >"$run_dir/$u.password"
done
sec() {
  "$cli" --node "$node" security "$@" </dev/null >>"$run_dir/cli.log" 2>&1 ||
    die "causeway security $* failed: $(tail -n 1 "$run_dir/cli.log")"
}
sec add-user admin --password-file "$run_dir/admin.password"
sec add-source admin 127.0.0.1/32 password
sec grant causeway.cluster_admin,riak_kv.get,riak_kv.put on any to admin
sec add-user riakuser --password-file "$run_dir/riakuser.password"
sec add-source riakuser 127.0.0.1/32 password
sec grant riak_kv.put,riak_kv.get on default secure to riakuser
# carol may only log in from 10.0.0.0/8: this loopback client is outside.
sec add-user carol --password-file "$run_dir/carol.password"
sec add-source carol 10.0.0.0/8 password
sec grant riak_kv.get on any to carol
sec enable

NODE_PATH="$npm_dir/node_modules" NODE_OPTIONS="--no-deprecation --no-warnings" \
  node "$here/secure_roundtrip.js" --host 127.0.0.1 --port "$port" \
  --ca "$certs/ca.pem" --user riakuser \
  --password-file "$run_dir/riakuser.password"

# The CLI: a login works, and each refusal is the right one.
as_user() {
  local u="$1" pwfile="$2"
  shift 2
  "$cli" --node "$node" --cacert "$certs/ca.pem" --user "$u" \
    --password-file "$pwfile" "$@" </dev/null 2>&1
}
expect_refusal() {
  local what="$1" pattern="$2" out
  shift 2
  if out="$(as_user "$@")"; then die "$what: the CLI succeeded: $out"; fi
  grep -q "$pattern" <<<"$out" || die "$what: expected '$pattern', got: $out"
  echo "ok: $what" >&2
}
out="$(as_user riakuser "$run_dir/riakuser.password" put secure k v)" ||
  die "riakuser's put failed: $out"
out="$(as_user riakuser "$run_dir/riakuser.password" get secure k)" ||
  die "riakuser's get failed: $out"
[ "$out" = "v" ] || die "riakuser read '$out', not 'v'"
echo "ok: the CLI logs in over TLS and round-trips a value" >&2
expect_refusal "a missing grant" "Permission denied" \
  riakuser "$run_dir/riakuser.password" put other k v
expect_refusal "a wrong password" "Authentication failed" \
  riakuser "$run_dir/carol.password" get secure k
expect_refusal "an unknown user" "Authentication failed" \
  nobody "$run_dir/carol.password" get secure k
expect_refusal "a source outside the CIDR" "Authentication failed" \
  carol "$run_dir/carol.password" get secure k
out="$("$cli" --node "$node" get secure k </dev/null 2>&1)" &&
  die "a plain connection was served: $out"
grep -q "STARTTLS" <<<"$out" || die "without TLS: expected STARTTLS, got: $out"
echo "ok: without TLS the CLI is asked for STARTTLS" >&2
expect_refusal "administration without causeway.cluster_admin" \
  "Permission denied" riakuser "$run_dir/riakuser.password" security status

kill -0 "$pid" 2>/dev/null || die "causewayd died during the test"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || die "causewayd exited with status $status"
echo "secure_roundtrip: passed" >&2
