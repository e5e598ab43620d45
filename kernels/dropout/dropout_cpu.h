// Dropout on the CPU: y = x * m, m = 1 / (1 - p) where dropout_hash.h keeps element i and 0 where it
// drops it (a product, as torch's dropout, so NaN and inf in dropped places give NaN). The backward
// is the same call on dy with the same seed. Raw pointers, contiguous; fp32 arithmetic (bf16 is
// rounded once, from x * m in fp32); AVX2 and AVX-512 builds picked at run time (cpu_isa.h).
#pragma once
#include <cstdint>

#include "common.h"

namespace lntune::kernels::cpu {

// x and y (type t: f32 or bf16) may be the same buffer. 0 <= p < 1. The mask depends on (seed,
// element index) only: not on the thread count or the instruction set.
void dropout_apply(DType t, const void* x, void* y, int64_t n, double p, uint64_t seed, int threads);

}  // namespace lntune::kernels::cpu
