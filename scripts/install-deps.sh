#!/usr/bin/env bash
# Installs every Debian package spir needs to build, test and benchmark. Idempotent: safe to rerun.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  libtorch-dev libopenblas0-pthread        # tensors; without openblas LibTorch uses reference BLAS (~40x slower)
  libgloo-dev                              # c10d Gloo for multi-process training
  nlohmann-json3-dev libsimdjson-dev       # JSON writing / fast JSON parsing
  libcli11-dev libspdlog-dev libfmt-dev    # command line, logging
  zlib1g-dev                               # gzip raw crawls
  libpcre2-dev libfasttext-dev libxgboost-dev libcpp-httplib-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  gnuplot-nox time                         # plots; /usr/bin/time for bench/pipeline.sh
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
