#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (Debian clang + libclang-rt-14-dev) and runs each for
# FUZZ_SECONDS (default 15) from the seeds in tests/fuzz/corpus/<target>. Any crash, leak,
# sanitizer report or uncaught exception fails the run; the reproducer is left in build-fuzz/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${FUZZ_SECONDS:-15}
build=${LNTUNE_FUZZ_BUILD:-$root/build-fuzz}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLNTUNE_CORE_ONLY=ON -DLNTUNE_FUZZ=ON > "$build.log" 2>&1 || { cat "$build.log"; exit 1; }
cmake --build "$build" >> "$build.log" 2>&1 || { tail -50 "$build.log"; exit 1; }
status=0
for t in fuzz_safetensors_header fuzz_torch_pickle fuzz_model_config fuzz_tokenizer_files; do
  work=$build/corpus/$t
  mkdir -p "$work"
  seeds=$root/tests/fuzz/corpus/$t
  if (cd "$build" && "./tests/fuzz/$t" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 "$work" "$seeds" > "$build/$t.log" 2>&1); then
    echo "fuzz $t: ${secs}s, $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$build/$t.log" | grep -o '[0-9]*$') runs, no crash"
  else
    echo "fuzz $t: FAILED"; tail -40 "$build/$t.log"; status=1
  fi
done
exit $status
