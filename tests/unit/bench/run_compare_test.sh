#!/usr/bin/env bash
# bench/compare end to end, short: a one-node cluster from cluster/up and a
# redis-server, both driven by causeway-bench. Checks that every row of the
# summary is there with work done on both systems; speed is not asserted.
set -euo pipefail
source_dir="$1"
build_dir="$2"
summary="$("$source_dir/bench/compare" --build-dir "$build_dir" --sizes 1 \
  --duration 1 --keys 2000 --connections 8)"
echo "$summary"
for op in put get; do
  row="$(grep -E "^1 node +$op " <<<"$summary")" ||
    { echo "no '1 node $op' row in the summary" >&2; exit 1; }
  read -r _ _ _ cw redis ratio _ <<<"$row"
  awk -v c="$cw" -v r="$redis" -v q="$ratio" \
    'BEGIN { exit !(c > 0 && r > 0 && q > 0) }' ||
    { echo "$op: no work measured on one of the systems: $row" >&2; exit 1; }
done
