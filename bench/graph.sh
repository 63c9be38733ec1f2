#!/usr/bin/env bash
# Graph engine and features at a given scale (default paper): graph build time and peak RSS for both orders, exact
# edge counts, feature extraction with the default encoders, and one aggregation pass implicit vs materialised.
# Usage: bench/graph.sh [build-dir] [scale] [materialised-scale]
set -euo pipefail
build=${1:-build}
scale=${2:-paper}
mscale=${3:-small}
spir="$build/tools/spir"
agg="$build/bench/bench_aggregate"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; memory $(free -g | awk '/Mem:/{print $2}') GiB"
echo "spir: $("$spir" --version)"

measure() {  # name, command...
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/$name.out" 2> "$work/$name.err"
  read -r secs kb < "$work/time"
  printf '%-16s %8.2f s  %8.0f MB peak RSS\n' "$name" "$secs" "$((kb / 1024))"
}

prepare() {  # scale, dir
  "$spir" synth --scale "$1" --out "$2/raw.jsonl.gz" > /dev/null 2>&1
  "$spir" ingest --raw "$2/raw.jsonl.gz" --out "$2/ds" > /dev/null 2>&1
  "$spir" annotate "$2/ds" > /dev/null 2>&1
}

echo "== scale $scale"
prepare "$scale" "$work/big"
measure "graph ctime" "$spir" graph "$work/big/ds" --order ctime
grep -E "has_same|is_history|  -  " "$work/graph ctime.out" || true
measure "graph post" "$spir" graph "$work/big/ds" --order post
grep -E "has_same|is_history|  -  " "$work/graph post.out" || true
measure "features" "$spir" features "$work/big/ds"
grep -E "text encoding" "$work/features.out"
measure "features cached" "$spir" features "$work/big/ds"
echo "-- aggregation pass, dim 64, scale $scale"
"$agg" "$work/big/ds" implicit 64 2>/dev/null
"$agg" "$work/big/ds" materialised 64 2>/dev/null

echo "== aggregation pass, dim 64, scale $mscale (where the materialised reference fits)"
prepare "$mscale" "$work/small"
"$agg" "$work/small/ds" implicit 64 2>/dev/null
"$agg" "$work/small/ds" materialised 64 2>/dev/null
"$agg" "$work/small/ds" both 64 2>/dev/null | tail -1
