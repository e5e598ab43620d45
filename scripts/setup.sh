#!/usr/bin/env bash
# Idempotent set-up on Debian 12: installs what lntune needs with apt (only what is missing),
# installs the tokenizer oracle (npm), and builds lntune in Release under build/.
# Every README command calls this first, so they work on a fresh machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LNTUNE_BUILD_DIR:-$root/build}

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev            # LibTorch 1.13 (CPU)
  libopenblas0-pthread    # ~30x faster matmuls than the reference BLAS libtorch would otherwise use
  libcxxopts-dev nlohmann-json3-dev libspdlog-dev libgtest-dev
  libgloo-dev             # headers of the Gloo backend LibTorch's c10d uses (multi-process training)
  clang libclang-rt-14-dev  # libFuzzer targets
  python3-torch python3-numpy  # fixture scripts (/usr/bin/python3)
  python3-matplotlib           # scripts/plot_*.py
)
command -v node > /dev/null || packages+=(nodejs)
command -v npm > /dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi

# HF tokenizers (the official Node binding) is the reference our tokenizer tests compare with.
oracle=$root/tests/oracle
if [ ! -f "$oracle/node_modules/tokenizers/package.json" ] ||
   [ "$oracle/package-lock.json" -nt "$oracle/node_modules/.package-lock.json" ]; then
  (cd "$oracle" && npm ci --no-audit --no-fund --loglevel=error > /dev/null)
fi

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release > "$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
[ "${PIPESTATUS[0]}" = 0 ] || { echo "setup: build failed"; exit 1; }
test -x "$build/lntune"
