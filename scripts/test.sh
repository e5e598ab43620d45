#!/usr/bin/env bash
# The README's test command: set up and build, then run every test with ctest (unit tests,
# model/loader parity, CLI error handling, HF-tokenizers parity on real GLUE text, fuzz smoke);
# then build again against Debian 13's LibTorch 2.6 and run the suite there
# (scripts/test_torch2.sh: the paths only LibTorch >= 2.1 takes, such as the fused attention).
# LNTUNE_TORCH2=0 skips that second pass (it downloads ~180 MB of Debian packages once).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
(cd "${LNTUNE_BUILD_DIR:-$root/build}" && ctest --output-on-failure -j "$(nproc)" --timeout 900)
if [ "${LNTUNE_TORCH2:-1}" != 0 ]; then
  # The torch-free tests (tokenizers against the npm oracle, parsers, fuzzers) ran above, and so
  # did the CUDA kernels' emulation: their sources compiled as C++, no LibTorch in them (torch is
  # only their float64 reference), so a second LibTorch changes nothing they check (~6 CPU min).
  "$root/scripts/test_torch2.sh" -LE torch_free -E '^CudaEmulation\.'
fi
