// The LayerNorm CUDA kernel versions (llm.c's way: numbered, compared by `lntune bench-norm
// --kernel-version`, the fastest promoted): 1 layernorm.cu; 2 layernorm_v2.cu (the row in
// registers, 16-byte loads, dgamma/dbeta folded into the dx pass; shapes it does not handle run
// version 1); 3 and 4 layernorm_v3.cu (a row shared by as many warps as give each thread one
// 16-byte pack, persistent blocks with gamma held in registers; 3 loads each thread's next row
// while it works on the current one, 4 does not and fits more blocks; shapes they do not handle
// run version 2). 0 selects the promoted one. No CUDA header: the binding reads it in every build.
#pragma once

namespace lntune::kernels {

constexpr int kLayerNormVersions = 4;
// 2: faster than 1 in every bench-norm row on the H100 (docs/benchmarks.md); 3 and 4 are not yet
// measured on a GPU (checked here under kernels/emulation/ only).
constexpr int kLayerNormPromoted = 2;

}  // namespace lntune::kernels
