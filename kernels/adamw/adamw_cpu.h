// AdamW over flat fp32 buffers on the CPU: one pass over (param, grad, exp_avg, exp_avg_sq)
// instead of the ~9 whole-tensor passes of torch's per-tensor ops. OpenMP over elements.
#pragma once
#include <cstdint>

#include "adamw/adamw_math.h"

namespace lntune::kernels::cpu {

void adamw_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, int64_t n, const AdamWScalars& s,
                int threads);

}  // namespace lntune::kernels::cpu
