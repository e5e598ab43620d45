// The DyT CUDA kernel versions (llm.c's way: numbered, compared by `lntune bench-norm
// --kernel-version`, the fastest promoted): 1 dyt.cu; 2 dyt_v2.cu (16-byte loads, a thread per
// column pack walking rows: no per-element index division; shapes it does not handle run
// version 1); 3 dyt_v3.cu (version 2's forward; a backward whose blocks are several row lanes of
// that width, two rows' loads in flight per thread, one partial row per block reduced in one
// launch; shapes it does not handle run version 2). 0 selects the promoted one. No CUDA header:
// the binding reads it in every build.
#pragma once

namespace lntune::kernels {

constexpr int kDytVersions = 3;
// 2: faster than 1 in every bench-norm row on the H100 (docs/benchmarks.md); 3 is not yet measured
// on a GPU (checked here under kernels/emulation/ only).
constexpr int kDytPromoted = 2;

}  // namespace lntune::kernels
