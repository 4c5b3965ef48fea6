# Sourced by the Riak client test scripts: installs Basho's Node.js client
# (basho-riak-client) into WORK/npm, in the build tree, never the source
# tree, with no lockfile written; a finished install is reused. Several
# CTest entries may run at once: the lock (file descriptor 8, held until
# the caller runs `flock -u 8`) makes the others wait for the first install
# instead of racing it. The caller defines die().

basho_client_version="2.4.0"

# Usage: install_basho_client WORK PROG; sets npm_dir. Returns holding the
# lock, so a caller can install more beside it.
install_basho_client() {
  local work="$1" prog="$2" installed attempt
  npm_dir="$work/npm"
  installed="$npm_dir/node_modules/basho-riak-client/package.json"
  mkdir -p "$npm_dir"
  exec 8>"$work/npm.lock"
  flock 8
  grep -q "\"version\": \"$basho_client_version\"" "$installed" 2>/dev/null &&
    return 0
  echo "$prog: installing basho-riak-client@$basho_client_version" >&2
  # One retry: a registry hiccup should not fail the suite.
  for attempt in 1 2; do
    if npm install --prefix "$npm_dir" --no-package-lock --no-save \
      --no-audit --no-fund --loglevel=error \
      "basho-riak-client@$basho_client_version" >&2; then
      return 0
    fi
    [ "$attempt" -eq 2 ] &&
      die "npm install of basho-riak-client@$basho_client_version failed twice"
    sleep 5
  done
}
