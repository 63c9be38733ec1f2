#!/usr/bin/env bash
# Wall time and peak RSS of synth → ingest → annotate → stats at a given scale (default: paper), with machine facts.
# Usage: bench/pipeline.sh [build-dir] [scale]     (results also appended to bench/results/pipeline-<scale>.txt)
set -euo pipefail
build=${1:-build}
scale=${2:-paper}
spir="$build/tools/spir"
[ -x "$spir" ] || { echo "build spir first: cmake --build $build --target spir" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
echo "memory: $(free -g | awk '/Mem:/{print $2}') GiB"
echo "spir: $("$spir" --version)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"

measure() {  # name, command...
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/$name.out" 2> "$work/$name.err"
  read -r secs kb < "$work/time"
  printf '%-10s %8.2f s  %8.0f MB peak RSS\n' "$name" "$secs" "$((kb / 1024))"
}

echo "== scale $scale"
measure synth "$spir" synth --scale "$scale" --seed 7 --out "$work/raw.jsonl.gz"
measure ingest "$spir" ingest --raw "$work/raw.jsonl.gz" --out "$work/ds"
measure annotate "$spir" annotate "$work/ds"
measure stats "$spir" stats "$work/ds"
grep -E '^read|^videos' "$work/ingest.out"
grep -E '^samples|^  (train|val|test):' "$work/annotate.out"
