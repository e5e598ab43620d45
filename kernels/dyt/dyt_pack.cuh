// DyT's backward on one 16-byte pack of a row, for the CUDA versions that give a thread a pack of
// columns (2, 3). CUDA only; no ATen.
#pragma once
#include <cmath>

#include "cuda_common.cuh"

namespace lntune::kernels::cuda {

// For y = g * tanh(a * x) + b: dx into o, and this row's terms added to the sums for dalpha (sa),
// dgamma (sg) and dbeta (sb).
template <int V>
__device__ __forceinline__ void dyt_backward_pack(const float (&xv)[V], const float (&d)[V], const float (&g)[V],
                                                  float a, float (&o)[V], float& sa, float (&sg)[V], float (&sb)[V]) {
#pragma unroll
  for (int j = 0; j < V; ++j) {
    const float th = tanhf(a * xv[j]);
    const float dt = d[j] * g[j] * (1.f - th * th);
    o[j] = a * dt;
    sa += dt * xv[j];
    sg[j] += d[j] * th;
    sb[j] += d[j];
  }
}

}  // namespace lntune::kernels::cuda
