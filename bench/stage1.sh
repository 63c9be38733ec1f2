#!/usr/bin/env bash
# Stage-1 training cost at a given scale (default paper): time per epoch and peak RSS of
#   exact         full-graph RGCN (models/rgcn.h: implicit full-neighbourhood means, layer 2 at the train rows),
#   exact+chunks  the same with checkpointed layer-2 target chunks of 65536 (what spir train picks by itself when
#                 there are more train targets than that; at the paper's scale and d_g 1024 the only variant that fits),
#   exact-separate the same with its own validation pass after the step (layer 1 computed again), for comparison,
#   sampled       RGCN over sampled neighbourhoods, fan-out 50 per relation per layer (spir train --model
#                 rgcn-sampled); stopped after a time limit, the epoch time extrapolated from its progress lines,
# and, at the materialised scale (default small, the largest built-in scale whose edge lists fit in memory), exact
# against the straightforward reference over materialised edge lists (bench_rgcn materialised).
# Usage: bench/stage1.sh [build-dir] [scale] [hidden] [materialised-scale] [sampled-seconds]
set -euo pipefail
build=${1:-build}
scale=${2:-paper}
hidden=${3:-1024}
mscale=${4:-small}
sampled_limit=${5:-300}
spir="$build/tools/spir"
bench="$build/bench/bench_rgcn"
work=${SPIR_BENCH_WORK:-$(mktemp -d)}
[ -n "${SPIR_BENCH_WORK:-}" ] || trap 'rm -rf "$work"' EXIT

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; memory $(free -g | awk '/Mem:/{print $2}') GiB"
echo "spir: $("$spir" --version)"

prepare() {  # scale, dir: synth → ingest → annotate → features (default encoders), skipped when already there
  [ -f "$2/ds/features/manifest.json" ] && return 0
  mkdir -p "$2"
  "$spir" synth --scale "$1" --out "$2/raw.jsonl.gz" > /dev/null 2>&1
  "$spir" ingest --raw "$2/raw.jsonl.gz" --out "$2/ds" > /dev/null 2>&1
  "$spir" annotate "$2/ds" > /dev/null 2>&1
  "$spir" features "$2/ds" > /dev/null 2>&1
}

run_bench() {  # label, bench arguments...: prints the per-epoch lines and the summary
  local label=$1; shift
  echo "-- $label: bench_rgcn $*"
  if ! /usr/bin/time -f "process: %e s wall, %M KB peak RSS" stdbuf -oL "$bench" "$@" 2>&1 | grep -E "epoch|parameters|inputs|load|process|materialised|mode"; then
    echo "($label failed or ran out of memory)"
  fi
}

echo "== scale $scale, d_g $hidden"
prepare "$scale" "$work/$scale"
run_bench "exact" "$work/$scale/ds" exact "$hidden" 0 0 2
run_bench "exact, target chunks of 65536" "$work/$scale/ds" exact "$hidden" 0 65536 2
run_bench "exact, separate validation pass" "$work/$scale/ds" exact-separate "$hidden" 0 65536 2
echo "-- sampled (fan-out 50), stopped after $sampled_limit s"
timeout "$sampled_limit" "$spir" train "$work/$scale/ds" --model rgcn-sampled --hidden "$hidden" --fanout 50 --epochs 1 \
  > "$work/sampled.log" 2>&1 || true
grep -E "fan-out|batch [0-9]+/|epoch 1: loss" "$work/sampled.log" | tail -3
line=$(grep -E "batch [0-9]+/[0-9]+, [0-9]+ s" "$work/sampled.log" | tail -1 || true)
if [ -n "$line" ]; then
  echo "$line" | sed -E 's/.*batch ([0-9]+)\/([0-9]+), ([0-9]+) s.*/\1 \2 \3/' |
    awk '{printf "sampled: %d of %d batches in %d s -> about %.0f s per epoch (training only)\n", $1, $2, $3, $3 * $2 / $1}'
fi

echo "== scale $mscale, d_g $hidden: exact vs materialised edge lists"
prepare "$mscale" "$work/$mscale"
run_bench "exact" "$work/$mscale/ds" exact "$hidden" 0 0 3
run_bench "materialised" "$work/$mscale/ds" materialised "$hidden" 0 0 3
