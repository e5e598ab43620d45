#!/usr/bin/env bash
# The README's test command: set up and build, then run every test with ctest (unit tests,
# model/loader parity, CLI error handling, HF-tokenizers parity on real GLUE text, fuzz smoke).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "${LNTUNE_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)" --timeout 900
