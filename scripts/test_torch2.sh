#!/usr/bin/env bash
# Builds lntune against Debian 13's LibTorch 2.6 (CPU; staged by scripts/stage_torch2.sh into
# .torch2/ when missing) under build-torch2/, and runs the whole ctest suite there. The tests
# that only a LibTorch >= 2.1 can run (Attention.SdpaEqualsEagerOnBertAndGpt2: the fused
# attention against the written-out one) run here; so does every version guard's other side.
# The CUDA bindings' syntax check compiles against 2.6's ATen/cuda headers too.
#
#   bash scripts/test_torch2.sh [ctest arguments]
#
# The binaries name trixie's loader as their interpreter and find trixie's libraries (glibc and
# libstdc++ included) by RPATH, which also covers the libraries' own dependencies; the linker is
# told that LibTorch's newer glibc/libstdc++ symbols resolve at run time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stage=${LNTUNE_TORCH2_DIR:-$root/.torch2}
build=$root/build-torch2
"$root/scripts/setup.sh" > /dev/null  # Debian 12's packages (compiler, gtest, spdlog, ...)
[ -f "$stage/root/usr/lib/x86_64-linux-gnu/cmake/Torch/TorchConfig.cmake" ] || "$root/scripts/stage_torch2.sh" "$stage"
lib=$stage/root/usr/lib/x86_64-linux-gnu
link="-L$stage/link -Wl,-rpath-link,$lib -Wl,--allow-shlib-undefined -Wl,--dynamic-linker=$lib/ld-linux-x86-64.so.2"
link+=" -Wl,--disable-new-dtags -Wl,-rpath,$lib/openblas-pthread:$lib"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$stage/root/usr" \
  -DCMAKE_EXE_LINKER_FLAGS="$link" > "$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
grep -q "TORCH_LIBRARY:FILEPATH=$lib/libtorch.so" "$build/CMakeCache.txt" ||
  { echo "test_torch2: CMake did not pick the staged LibTorch ($build/CMakeCache.txt: TORCH_LIBRARY)"; exit 1; }
cmake --build "$build" -j "$(nproc)" 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
[ "${PIPESTATUS[0]}" = 0 ] || { echo "test_torch2: build failed"; exit 1; }
echo "test_torch2: built against $lib/libtorch.so ($(readlink "$lib/libtorch.so"))"
cd "$build"
ctest --output-on-failure -j "$(nproc)" --timeout 900 "$@"
