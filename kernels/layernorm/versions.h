// The LayerNorm CUDA kernel versions (llm.c's way: numbered, compared by `lntune bench-norm
// --kernel-version`, the fastest promoted): 1 layernorm.cu; 2 layernorm_v2.cu (the row in
// registers, 16-byte loads, dgamma/dbeta folded into the dx pass; shapes it does not handle run
// version 1). 0 selects the promoted one. No CUDA header: the binding reads it in every build.
#pragma once

namespace lntune::kernels {

constexpr int kLayerNormVersions = 2;
constexpr int kLayerNormPromoted = 2;  // faster than 1 in every bench-norm row on the H100 (docs/benchmarks.md)

}  // namespace lntune::kernels
